/*
 * CPU kernels of the reduction family: per-block partial results, their
 * pairwise combination, the final step, and graph-scalar arithmetic.
 *
 * Per-block results deal the block's terms to lanes combined by a fixed
 * tree (kernels/array.h: the same bits on a CPU and a GPU, on every run);
 * min and max propagate NaN.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <starjets/scalar.h>

#include "codelets_private.h"

/*
 * The per-block result (kernels/array.h, sj__lanes): lane values in acc[],
 * fed run by run. A run of len terms starting at block element e covers
 * lanes e % L, e % L + 1, ... without wrapping (the caller cuts it), so its
 * loop vectorises. Terms of the first round (e < L) start their lane.
 */
#define TERM_X(j) ((double)x[j])
#define TERM_ABS(j) fabs((double)x[j])
#define TERM_SQ(j) ((double)x[j] * (double)x[j])
#define TERM_DOT(j) ((double)x[j] * (double)y[j])

#define DEFINE_RUN_SUM(name, T, F)                                                                 \
    static void name(double *acc, int first, const T *x, const T *y, int64_t len)                  \
    {                                                                                              \
        (void)y;                                                                                   \
        if (first)                                                                                 \
            for (int64_t j = 0; j < len; j++)                                                      \
                acc[j] = F(j);                                                                     \
        else                                                                                       \
            for (int64_t j = 0; j < len; j++)                                                      \
                acc[j] += F(j);                                                                    \
    }

/* Four whole rounds at once (each lane adds its four next terms in order):
 * one load and store of the lanes per four terms. */
#define DEFINE_ROUNDS4(name, T, F)                                                                 \
    static void name(double *acc, int64_t L, const T *x0, const T *y0)                             \
    {                                                                                              \
        for (int64_t j = 0; j < L; j++) {                                                          \
            double s = acc[j];                                                                     \
            const T *x = x0, *y = y0;                                                              \
            (void)y;                                                                               \
            s += F(j);                                                                             \
            x += L;                                                                                \
            y += L;                                                                                \
            s += F(j);                                                                             \
            x += L;                                                                                \
            y += L;                                                                                \
            s += F(j);                                                                             \
            x += L;                                                                                \
            y += L;                                                                                \
            s += F(j);                                                                             \
            acc[j] = s;                                                                            \
        }                                                                                          \
    }

#define DEFINE_RUNS(T)                                                                             \
    DEFINE_ROUNDS4(rounds4_sum_##T, T, TERM_X)                                                     \
    DEFINE_ROUNDS4(rounds4_asum_##T, T, TERM_ABS)                                                  \
    DEFINE_ROUNDS4(rounds4_sumsq_##T, T, TERM_SQ)                                                  \
    DEFINE_ROUNDS4(rounds4_dot_##T, T, TERM_DOT)                                                   \
    /* 0 when op has no four-round form (min, max) */                                              \
    static int rounds4_##T(int op, double *acc, int64_t L, const T *x, const T *y)                 \
    {                                                                                              \
        switch (op) {                                                                              \
        case SJ_REDUCE_SUM:                                                                        \
        case SJ_REDUCE_MEAN:                                                                       \
            rounds4_sum_##T(acc, L, x, y);                                                         \
            return 1;                                                                              \
        case SJ_REDUCE_NORM1:                                                                      \
            rounds4_asum_##T(acc, L, x, y);                                                        \
            return 1;                                                                              \
        case SJ_REDUCE_NORM2:                                                                      \
            rounds4_sumsq_##T(acc, L, x, y);                                                       \
            return 1;                                                                              \
        case SJ_REDUCE_DOT:                                                                        \
            rounds4_dot_##T(acc, L, x, y);                                                         \
            return 1;                                                                              \
        default:                                                                                   \
            return 0;                                                                              \
        }                                                                                          \
    }                                                                                              \
    DEFINE_RUN_SUM(run_sum_##T, T, TERM_X)                                                         \
    DEFINE_RUN_SUM(run_asum_##T, T, TERM_ABS)                                                      \
    DEFINE_RUN_SUM(run_sumsq_##T, T, TERM_SQ)                                                      \
    DEFINE_RUN_SUM(run_dot_##T, T, TERM_DOT)                                                       \
    static void run_ext_##T(int op, double *acc, int first, const T *x, int64_t len)               \
    {                                                                                              \
        const int absval = op == SJ_REDUCE_NORMINF;                                                \
        for (int64_t j = 0; j < len; j++) {                                                        \
            const double v = absval ? fabs((double)x[j]) : (double)x[j];                           \
            acc[j] = first ? v : sj__reduce_combine(op, acc[j], v);                                \
        }                                                                                          \
    }                                                                                              \
    static void run_##T(int op, double *acc, int first, const T *x, const T *y, int64_t len)       \
    {                                                                                              \
        switch (op) {                                                                              \
        case SJ_REDUCE_SUM:                                                                        \
        case SJ_REDUCE_MEAN:                                                                       \
            run_sum_##T(acc, first, x, y, len);                                                    \
            break;                                                                                 \
        case SJ_REDUCE_NORM1:                                                                      \
            run_asum_##T(acc, first, x, y, len);                                                   \
            break;                                                                                 \
        case SJ_REDUCE_NORM2:                                                                      \
            run_sumsq_##T(acc, first, x, y, len);                                                  \
            break;                                                                                 \
        case SJ_REDUCE_DOT:                                                                        \
            run_dot_##T(acc, first, x, y, len);                                                    \
            break;                                                                                 \
        default:                                                                                   \
            run_ext_##T(op, acc, first, x, len);                                                   \
        }                                                                                          \
    }

DEFINE_RUNS(double)
DEFINE_RUNS(float)

/* The lanes of a block being fed: L lanes, the next element e. */
typedef struct lanes {
    double acc[SJ__LANES_MAX];
    int64_t L, e;
} lanes_t;

/* Feed the next len terms of the block (x and y contiguous over them). */
static void lanes_feed(lanes_t *ln, int op, int dtype, const char *x, const char *y, int64_t len)
{
    const size_t es = dtype == SJ_FLOAT64 ? sizeof(double) : sizeof(float);
    while (len > 0) {
        const int64_t l = ln->e % ln->L;
        if (l == 0 && ln->e >= ln->L && len >= 4 * ln->L) {
            const int done = dtype == SJ_FLOAT64
                                 ? rounds4_double(op, ln->acc, ln->L, (const double *)x,
                                                  (const double *)(y ? y : x))
                                 : rounds4_float(op, ln->acc, ln->L, (const float *)x,
                                                 (const float *)(y ? y : x));
            if (done) {
                x += (size_t)(4 * ln->L) * es;
                if (y)
                    y += (size_t)(4 * ln->L) * es;
                ln->e += 4 * ln->L;
                len -= 4 * ln->L;
                continue;
            }
        }
        const int64_t run = len < ln->L - l ? len : ln->L - l;
        const int first = ln->e < ln->L;
        if (dtype == SJ_FLOAT64)
            run_double(op, ln->acc + l, first, (const double *)x, (const double *)y, run);
        else
            run_float(op, ln->acc + l, first, (const float *)x, (const float *)y, run);
        x += (size_t)run * es;
        if (y)
            y += (size_t)run * es;
        ln->e += run;
        len -= run;
    }
}

/*
 * The partial of one block: contiguous buffers, or strided views of a host
 * array (blocks of arrays wrapped by sj_array_wrap_local) fed column by
 * column; the same lanes, so the same bits.
 */
void sj__cpu_partial(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    double *out = PTR(0);
    void *xb = buffers[1], *yb = a->op == SJ_REDUCE_DOT ? buffers[2] : NULL;
    const struct starpu_block_interface *v =
        sj__is_view(xb) ? xb : (yb && sj__is_view(yb) ? yb : NULL);
    const int64_t shape[3] = {v ? (int64_t)v->nx : NELEMS(1), v ? (int64_t)v->ny : 1,
                              v ? (int64_t)v->nz : 1};
    const int64_t m = shape[0] * shape[1] * shape[2];
    lanes_t ln; /* 128 KiB on the stack, the acc[] part touched only up to L */
    ln.L = sj__lanes(m);
    ln.e = 0;
    const sj__view_t x = sj__view_of(xb, shape);
    const sj__view_t y = yb ? sj__view_of(yb, shape) : x;
    for (int64_t k = 0; k < shape[2]; k++)
        for (int64_t j = 0; j < shape[1]; j++)
            lanes_feed(&ln, a->op, a->dtype, sj__col(&x, j, k), yb ? sj__col(&y, j, k) : NULL,
                       shape[0]);
    *out = sj__reduce_tree(a->op, ln.acc, (int)ln.L);
}

/*
 * w = f x + y, f = c a or c (a / b) (the graph scalars' quotient, then the
 * product, as sj_scalar_binary and sj__cpu_axpy_scalar compute them; rounded
 * to the element type once), and with a partial buffer the block's w . w,
 * fed to the lanes of sj__cpu_partial: the bits of an axpy, then a copy
 * when y is not w, then a DOT reduction of w with itself. The block goes by
 * pieces, each fed to the lanes right after its update, while in cache.
 */
#define AXPY_DOT_PIECE 4096

#define DEFINE_AXPY_PIECE(T)                                                                       \
    static void axpy_piece_##T(T *w, const T *x, const T *y, double f, int64_t n)                  \
    {                                                                                              \
        const T al = (T)f;                                                                         \
        for (int64_t i = 0; i < n; i++)                                                            \
            w[i] = al * x[i] + y[i];                                                               \
    }

DEFINE_AXPY_PIECE(double)
DEFINE_AXPY_PIECE(float)

void sj__cpu_axpy_dot(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    const int flags = a->op;
    int i = 2;
    char *w = PTR(0);
    const char *x = PTR(1);
    const char *y = flags & SJ__AXPY_DOT_Y ? PTR(i++) : w;
    const double s = *(const double *)PTR(i++);
    const double f = a->a * (flags & SJ__AXPY_DOT_DIV ? s / *(const double *)PTR(i++) : s);
    double *partial = flags & SJ__AXPY_DOT_PARTIAL ? PTR(i) : NULL;
    const int64_t n = NELEMS(0);
    const size_t es = a->dtype == SJ_FLOAT64 ? sizeof(double) : sizeof(float);
    lanes_t ln; /* as in sj__cpu_partial: only acc[0..L) is touched */
    ln.L = sj__lanes(n);
    ln.e = 0;
    for (int64_t at = 0; at < n; at += AXPY_DOT_PIECE) {
        const int64_t len = n - at < AXPY_DOT_PIECE ? n - at : AXPY_DOT_PIECE;
        const size_t off = (size_t)at * es;
        if (a->dtype == SJ_FLOAT64)
            axpy_piece_double((double *)(w + off), (const double *)(x + off),
                              (const double *)(y + off), f, len);
        else
            axpy_piece_float((float *)(w + off), (const float *)(x + off), (const float *)(y + off),
                             f, len);
        if (partial)
            lanes_feed(&ln, SJ_REDUCE_DOT, a->dtype, w + off, w + off, len);
    }
    if (partial)
        *partial = sj__reduce_tree(SJ_REDUCE_DOT, ln.acc, (int)ln.L);
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
