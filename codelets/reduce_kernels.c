/*
 * CPU kernels of the reduction family: per-block partial results, their
 * pairwise combination, the final step, and graph-scalar arithmetic.
 *
 * Per-block sums use four accumulators in a fixed order (fast, and the same
 * bits on every run); min and max propagate NaN.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <starjets/scalar.h>

#include "codelets_private.h"

/* A per-block sum of F(i) over i < n with four accumulators, in double. */
#define DEFINE_SUM4(name, T, F)                                                                    \
    static double name(const T *x, const T *y, int64_t n)                                          \
    {                                                                                              \
        (void)y;                                                                                   \
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                                     \
        int64_t i = 0;                                                                             \
        for (; i + 4 <= n; i += 4) {                                                               \
            s0 += F(i);                                                                            \
            s1 += F(i + 1);                                                                        \
            s2 += F(i + 2);                                                                        \
            s3 += F(i + 3);                                                                        \
        }                                                                                          \
        for (; i < n; i++)                                                                         \
            s0 += F(i);                                                                            \
        return (s0 + s1) + (s2 + s3);                                                              \
    }

#define F_X(j) ((double)x[j])
#define F_ABS(j) fabs((double)x[j])
#define F_SQ(j) ((double)x[j] * (double)x[j])
#define F_DOT(j) ((double)x[j] * (double)y[j])

/* Smallest, largest or largest absolute value, NaN propagating. */
#define DEFINE_EXTREMUM(name, T)                                                                   \
    static double name(int op, const T *x, int64_t n)                                              \
    {                                                                                              \
        const int absval = op == SJ_REDUCE_NORMINF;                                                \
        double m = absval ? fabs((double)x[0]) : (double)x[0];                                     \
        for (int64_t i = 1; i < n; i++)                                                            \
            m = sj__reduce_combine(op, m, absval ? fabs((double)x[i]) : (double)x[i]);             \
        return m;                                                                                  \
    }

#define DEFINE_PARTIAL(T)                                                                          \
    DEFINE_SUM4(sum_##T, T, F_X)                                                                   \
    DEFINE_SUM4(asum_##T, T, F_ABS)                                                                \
    DEFINE_SUM4(sumsq_##T, T, F_SQ)                                                                \
    DEFINE_SUM4(dot_##T, T, F_DOT)                                                                 \
    DEFINE_EXTREMUM(extremum_##T, T)                                                               \
    static double partial_##T(int op, const T *x, const T *y, int64_t n)                           \
    {                                                                                              \
        switch (op) {                                                                              \
        case SJ_REDUCE_SUM:                                                                        \
        case SJ_REDUCE_MEAN:                                                                       \
            return sum_##T(x, y, n);                                                               \
        case SJ_REDUCE_NORM1:                                                                      \
            return asum_##T(x, y, n);                                                              \
        case SJ_REDUCE_NORM2:                                                                      \
            return sumsq_##T(x, y, n);                                                             \
        case SJ_REDUCE_DOT:                                                                        \
            return dot_##T(x, y, n);                                                               \
        default:                                                                                   \
            return extremum_##T(op, x, n);                                                         \
        }                                                                                          \
    }

DEFINE_PARTIAL(double)
DEFINE_PARTIAL(float)

/*
 * The same per-block results over strided views (blocks of arrays wrapped
 * around a host array), column by column, with the accumulators carried
 * across columns: element e of the block (column-major) goes to accumulator
 * e % 4 below the last multiple of 4 and to accumulator 0 after it, exactly
 * as in DEFINE_SUM4, so the bits are those of a contiguous block.
 */
typedef struct sum4 {
    double s[4];
    int64_t e, n4;
} sum4_t;

#define DEFINE_FEED(name, T, F)                                                                    \
    static void name(sum4_t *st, const T *x, const T *y, int64_t len)                              \
    {                                                                                              \
        (void)y;                                                                                   \
        int64_t i = 0;                                                                             \
        for (; i < len && (st->e & 3) && st->e < st->n4; i++, st->e++)                             \
            st->s[st->e & 3] += F(i);                                                              \
        double s0 = st->s[0], s1 = st->s[1], s2 = st->s[2], s3 = st->s[3];                         \
        for (; i + 4 <= len && st->e + 4 <= st->n4; i += 4, st->e += 4) {                          \
            s0 += F(i);                                                                            \
            s1 += F(i + 1);                                                                        \
            s2 += F(i + 2);                                                                        \
            s3 += F(i + 3);                                                                        \
        }                                                                                          \
        st->s[0] = s0;                                                                             \
        st->s[1] = s1;                                                                             \
        st->s[2] = s2;                                                                             \
        st->s[3] = s3;                                                                             \
        for (; i < len; i++, st->e++)                                                              \
            st->s[st->e < st->n4 ? (st->e & 3) : 0] += F(i);                                       \
    }

#define DEFINE_FEEDS(T)                                                                            \
    DEFINE_FEED(feed_sum_##T, T, F_X)                                                              \
    DEFINE_FEED(feed_asum_##T, T, F_ABS)                                                           \
    DEFINE_FEED(feed_sumsq_##T, T, F_SQ)                                                           \
    DEFINE_FEED(feed_dot_##T, T, F_DOT)                                                            \
    static void feed_##T(int op, sum4_t *st, double *m, const T *x, const T *y, int64_t len)       \
    {                                                                                              \
        switch (op) {                                                                              \
        case SJ_REDUCE_SUM:                                                                        \
        case SJ_REDUCE_MEAN:                                                                       \
            feed_sum_##T(st, x, y, len);                                                           \
            break;                                                                                 \
        case SJ_REDUCE_NORM1:                                                                      \
            feed_asum_##T(st, x, y, len);                                                          \
            break;                                                                                 \
        case SJ_REDUCE_NORM2:                                                                      \
            feed_sumsq_##T(st, x, y, len);                                                         \
            break;                                                                                 \
        case SJ_REDUCE_DOT:                                                                        \
            feed_dot_##T(st, x, y, len);                                                           \
            break;                                                                                 \
        default: {                                                                                 \
            const int absval = op == SJ_REDUCE_NORMINF;                                            \
            for (int64_t i = 0; i < len; i++, st->e++) {                                           \
                const double v = absval ? fabs((double)x[i]) : (double)x[i];                       \
                *m = st->e == 0 ? v : sj__reduce_combine(op, *m, v);                               \
            }                                                                                      \
        }                                                                                          \
        }                                                                                          \
    }

DEFINE_FEEDS(double)
DEFINE_FEEDS(float)

static double partial_views(const sj__kargs_t *a, void *xb, void *yb)
{
    /* the shape comes from whichever input is a view */
    const struct starpu_block_interface *b = sj__is_view(xb) ? xb : yb;
    const int64_t shape[3] = {b->nx, b->ny, b->nz};
    const sj__view_t x = sj__view_of(xb, shape);
    const sj__view_t y = yb ? sj__view_of(yb, shape) : x;
    const int64_t n = shape[0] * shape[1] * shape[2];
    sum4_t st = {.n4 = n - n % 4};
    double m = 0;
    for (int64_t k = 0; k < shape[2]; k++)
        for (int64_t j = 0; j < shape[1]; j++) {
            const void *xc = sj__col(&x, j, k), *yc = sj__col(&y, j, k);
            if (a->dtype == SJ_FLOAT64)
                feed_double(a->op, &st, &m, xc, yc, shape[0]);
            else
                feed_float(a->op, &st, &m, xc, yc, shape[0]);
        }
    switch (a->op) {
    case SJ_REDUCE_MIN:
    case SJ_REDUCE_MAX:
    case SJ_REDUCE_NORMINF:
        return m;
    default:
        return (st.s[0] + st.s[1]) + (st.s[2] + st.s[3]);
    }
}

void sj__cpu_partial(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    double *out = PTR(0);
    void *yb = a->op == SJ_REDUCE_DOT ? buffers[2] : NULL;
    if (sj__is_view(buffers[1]) || (yb && sj__is_view(yb))) {
        *out = partial_views(a, buffers[1], yb);
        return;
    }
    int64_t n = NELEMS(1);
    const void *y = yb ? PTR(2) : NULL;
    if (a->dtype == SJ_FLOAT64)
        *out = partial_double(a->op, PTR(1), y, n);
    else
        *out = partial_float(a->op, PTR(1), y, n);
}

void sj__cpu_combine(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    double *p = PTR(0);
    const double *q = PTR(1);
    *p = sj__reduce_combine(a->op, *p, *q);
}

void sj__cpu_finish(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    double *p = PTR(0);
    *p = sj__reduce_finish(a->op, *p, a->count);
}

void sj__cpu_scalar_binary(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    double *c = PTR(0);
    const double x = *(const double *)PTR(1), y = *(const double *)PTR(2);
    switch (a->op) {
    case SJ_SCALAR_ADD:
        *c = x + y;
        break;
    case SJ_SCALAR_SUB:
        *c = x - y;
        break;
    case SJ_SCALAR_MUL:
        *c = x * y;
        break;
    default:
        *c = x / y;
        break;
    }
}

void sj__cpu_scalar_set(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    *(double *)PTR(0) = a->a;
}

void sj__cpu_axpy_scalar(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    int64_t n = NELEMS(0);
    const double alpha = a->a * *(const double *)PTR(2);
    if (a->dtype == SJ_FLOAT64) {
        double *y = PTR(0);
        const double *x = PTR(1);
        for (int64_t i = 0; i < n; i++)
            y[i] = alpha * x[i] + y[i];
    } else {
        float *y = PTR(0);
        const float *x = PTR(1);
        const float al = (float)alpha;
        for (int64_t i = 0; i < n; i++)
            y[i] = al * x[i] + y[i];
    }
}

void sj__cpu_scale_scalar(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    int64_t n = NELEMS(0);
    const double alpha = a->a * *(const double *)PTR(1);
    if (a->dtype == SJ_FLOAT64) {
        double *x = PTR(0);
        for (int64_t i = 0; i < n; i++)
            x[i] *= alpha;
    } else {
        float *x = PTR(0);
        const float al = (float)alpha;
        for (int64_t i = 0; i < n; i++)
            x[i] *= al;
    }
}

void sj__cpu_gather(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    double *out = PTR(0);
    int64_t at = a->count;
    for (int i = 1; i <= a->nin; i++) {
        memcpy(out + at, PTR(i), (size_t)NELEMS(i) * sizeof(double));
        at += NELEMS(i);
    }
}

void sj__cpu_reduce_all(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    const int *block = (const int *)(a + 1);
    int64_t total = 0;
    for (int i = 1; i <= a->nin; i++)
        total += NELEMS(i);
    double *part = malloc((size_t)total * sizeof(double));
    if (!part) {
        sj__kernel_fail("sj_reduce_all: no memory for %lld partial results", (long long)total);
        return;
    }
    int64_t k = 0;
    for (int i = 1; i <= a->nin; i++) {
        const double *v = PTR(i);
        for (int64_t j = 0; j < NELEMS(i); j++)
            part[block[k++]] = v[j];
    }
    double r = sj__reduce_tree(a->op, part, (int)total);
    *(double *)PTR(0) = sj__reduce_finish(a->op, r, a->count);
    free(part);
}
