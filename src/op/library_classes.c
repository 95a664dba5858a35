/*
 * CPU kernels of the operator library: one sj_op_fn_t per direction of each
 * leaf class (see library_classes.h), and the class tables, which name the
 * CUDA versions (codelets/op_cuda.cu) in builds with SJ_USE_CUDA. The kernels
 * run as tasks on the operator's owner, overwrite `out` entirely and handle
 * SJ_FLOAT64 and SJ_FLOAT32. A kernel that
 * finds its parameters or state inconsistent returns 1, which the core reports
 * as a failed task rather than reading out of bounds.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cblas.h>

#include <starjets/config.h>

#include "kernels/dtype.h"
#include "op/library_classes.h"

/* A class's CUDA function (kernels/oplib.h), in builds with CUDA. */
#if SJ_USE_CUDA
#define CUDA(name) sj__opcuda_##name
#else
#define CUDA(name) NULL
#endif

static size_t esize(const sj_op_info_t *info)
{
    return info->dtype == SJ_FLOAT64 ? sizeof(double) : sizeof(float);
}

/* The parameter block of a class, or NULL when it has the wrong size. */
static const void *params_of(const sj_op_info_t *info, size_t size)
{
    return info->params != NULL && info->params_size == size ? info->params : NULL;
}

/*
 * A dimension seen as (inner, n, outer): element (a, i, b) is at a + s (i + n b),
 * with s the product of the dimensions before @p dim.
 */
typedef struct axis {
    int64_t s, n, outer;
} axis_t;

static int axis_of(const int64_t dims[SJ_MAX_DIMS], int dim, axis_t *ax)
{
    if (dim < 0 || dim >= SJ_MAX_DIMS)
        return 1;
    ax->s = 1;
    ax->outer = 1;
    for (int d = 0; d < dim; d++)
        ax->s *= dims[d];
    for (int d = dim + 1; d < SJ_MAX_DIMS; d++)
        ax->outer *= dims[d];
    ax->n = dims[dim];
    return 0;
}

/* ---- copies and zeros ------------------------------------------------------ */

static int copy_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    if (info->dom_n != info->rng_n)
        return 1;
    memcpy(out, in, (size_t)info->rng_n * esize(info));
    return 0;
}

static int copy_adj(const sj_op_info_t *info, void *out, const void *in)
{
    if (info->dom_n != info->rng_n)
        return 1;
    memcpy(out, in, (size_t)info->dom_n * esize(info));
    return 0;
}

static int zero_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    memset(out, 0, (size_t)info->rng_n * esize(info));
    return 0;
}

static int zero_adj(const sj_op_info_t *info, void *out, const void *in)
{
    memset(out, 0, (size_t)info->dom_n * esize(info));
    return 0;
}

/* ---- diagonal and scaling -------------------------------------------------- */

static int diagonal_apply(const sj_op_info_t *info, void *out, const void *in)
{
    const int64_t n = info->dom_n;
    if (info->state == NULL || info->state_size != (size_t)n * esize(info) || info->rng_n != n)
        return 1;
    FOR_DTYPE(info->dtype, {
        T *y = out;
        const T *x = in, *d = info->state;
        for (int64_t i = 0; i < n; i++)
            y[i] = d[i] * x[i];
    });
    return 0;
}

static int scaling_apply(const sj_op_info_t *info, void *out, const void *in)
{
    const sj__opp_scalar_t *p = params_of(info, sizeof *p);
    const int64_t n = info->dom_n;
    if (p == NULL || info->rng_n != n)
        return 1;
    FOR_DTYPE(info->dtype, {
        T *y = out;
        const T *x = in, a = (T)p->a;
        for (int64_t i = 0; i < n; i++)
            y[i] = a * x[i];
    });
    return 0;
}

/* ---- dense (CBLAS) --------------------------------------------------------- */

static const sj__opp_dense_t *dense_params(const sj_op_info_t *info)
{
    const sj__opp_dense_t *p = params_of(info, sizeof *p);
    if (p == NULL || p->rows * p->k != info->rng_n || p->cols * p->k != info->dom_n ||
        info->state == NULL || info->state_size != (size_t)(p->rows * p->cols) * esize(info))
        return NULL;
    return p;
}

/* y = op(M) x with op(M) = M (forward) or M' (adjoint), on k columns. */
static int dense_apply(const sj_op_info_t *info, void *out, const void *in, int adjoint)
{
    const sj__opp_dense_t *p = dense_params(info);
    if (p == NULL)
        return 1;
    const int rows = (int)p->rows, cols = (int)p->cols, k = (int)p->k;
    const enum CBLAS_TRANSPOSE tr = adjoint ? CblasTrans : CblasNoTrans;
    const int m_out = adjoint ? cols : rows, m_in = adjoint ? rows : cols;
    if (info->dtype == SJ_FLOAT64) {
        if (k == 1)
            cblas_dgemv(CblasColMajor, tr, rows, cols, 1.0, info->state, rows, in, 1, 0.0, out, 1);
        else
            cblas_dgemm(CblasColMajor, tr, CblasNoTrans, m_out, k, m_in, 1.0, info->state, rows, in,
                        m_in, 0.0, out, m_out);
    } else {
        if (k == 1)
            cblas_sgemv(CblasColMajor, tr, rows, cols, 1.0f, info->state, rows, in, 1, 0.0f, out,
                        1);
        else
            cblas_sgemm(CblasColMajor, tr, CblasNoTrans, m_out, k, m_in, 1.0f, info->state, rows,
                        in, m_in, 0.0f, out, m_out);
    }
    return 0;
}

static int dense_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    return dense_apply(info, out, in, 0);
}

static int dense_adj(const sj_op_info_t *info, void *out, const void *in)
{
    return dense_apply(info, out, in, 1);
}

/* ---- difference and derivative along one dimension ------------------------- */

static const sj__opp_axis_t *axis_params(const sj_op_info_t *info, axis_t *ax)
{
    const sj__opp_axis_t *p = params_of(info, sizeof *p);
    if (p == NULL || info->dom_n != info->rng_n || axis_of(info->dom_dims, (int)p->dim, ax))
        return NULL;
    return p;
}

/* y[i] = x[i+1] - x[i] (i < n-1), y[n-1] = 0 */
static int difference_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    axis_t ax;
    if (axis_params(info, &ax) == NULL)
        return 1;
    const int64_t s = ax.s, n = ax.n;
    FOR_DTYPE(info->dtype, {
        T *y = out;
        const T *x = in;
        for (int64_t b = 0; b < ax.outer; b++) {
            const int64_t base = s * n * b;
            for (int64_t i = 0; i + 1 < n; i++)
                for (int64_t a = 0; a < s; a++)
                    y[base + s * i + a] = x[base + s * (i + 1) + a] - x[base + s * i + a];
            for (int64_t a = 0; a < s; a++)
                y[base + s * (n - 1) + a] = 0;
        }
    });
    return 0;
}

/* x[j] = y[j-1] (j >= 1) - y[j] (j < n-1) */
static int difference_adj(const sj_op_info_t *info, void *out, const void *in)
{
    axis_t ax;
    if (axis_params(info, &ax) == NULL)
        return 1;
    const int64_t s = ax.s, n = ax.n;
    FOR_DTYPE(info->dtype, {
        T *x = out;
        const T *y = in;
        for (int64_t b = 0; b < ax.outer; b++) {
            const int64_t base = s * n * b;
            for (int64_t j = 0; j < n; j++)
                for (int64_t a = 0; a < s; a++) {
                    T v = 0;
                    if (j >= 1)
                        v += y[base + s * (j - 1) + a];
                    if (j + 1 < n)
                        v -= y[base + s * j + a];
                    x[base + s * j + a] = v;
                }
        }
    });
    return 0;
}

/*
 * The centred derivative and its adjoint differ only in sign:
 * forward y[i] = (x[i+1] - x[i-1]) c, adjoint x[j] = (y[j-1] - y[j+1]) c,
 * with c = 1 / (2h) and zeros outside the array.
 */
static int derivative_apply(const sj_op_info_t *info, void *out, const void *in, double sign)
{
    axis_t ax;
    const sj__opp_axis_t *p = axis_params(info, &ax);
    if (p == NULL || !(p->h != 0))
        return 1;
    const int64_t s = ax.s, n = ax.n;
    FOR_DTYPE(info->dtype, {
        T *y = out;
        const T *x = in, c = (T)(sign / (2.0 * p->h));
        for (int64_t b = 0; b < ax.outer; b++) {
            const int64_t base = s * n * b;
            for (int64_t i = 0; i < n; i++)
                for (int64_t a = 0; a < s; a++) {
                    T v = 0;
                    if (i + 1 < n)
                        v += x[base + s * (i + 1) + a];
                    if (i >= 1)
                        v -= x[base + s * (i - 1) + a];
                    y[base + s * i + a] = c * v;
                }
        }
    });
    return 0;
}

static int derivative_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    return derivative_apply(info, out, in, 1.0);
}

static int derivative_adj(const sj_op_info_t *info, void *out, const void *in)
{
    return derivative_apply(info, out, in, -1.0);
}

/* ---- sum along a dimension ---------------------------------------------------- */

static int sum_dim_geometry(const sj_op_info_t *info, axis_t *ax)
{
    const sj__opp_axis_t *p = params_of(info, sizeof *p);
    if (p == NULL || axis_of(info->dom_dims, (int)p->dim, ax) || ax->s * ax->outer != info->rng_n)
        return 1;
    return 0;
}

/* y[a + s b] = sum_i x[a + s (i + n b)] */
static int sum_dim_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    axis_t ax;
    if (sum_dim_geometry(info, &ax))
        return 1;
    const int64_t s = ax.s, n = ax.n;
    FOR_DTYPE(info->dtype, {
        T *y = out;
        const T *x = in;
        for (int64_t b = 0; b < ax.outer; b++) {
            T *yb = y + s * b;
            for (int64_t a = 0; a < s; a++)
                yb[a] = 0;
            for (int64_t i = 0; i < n; i++)
                for (int64_t a = 0; a < s; a++)
                    yb[a] += x[s * (i + n * b) + a];
        }
    });
    return 0;
}

/* x[a + s (i + n b)] = y[a + s b]: spread along the dimension */
static int sum_dim_adj(const sj_op_info_t *info, void *out, const void *in)
{
    axis_t ax;
    if (sum_dim_geometry(info, &ax))
        return 1;
    const int64_t s = ax.s, n = ax.n;
    const size_t row = (size_t)s * esize(info);
    for (int64_t b = 0; b < ax.outer; b++)
        for (int64_t i = 0; i < n; i++)
            memcpy((char *)out + (size_t)(s * (i + n * b)) * esize(info),
                   (const char *)in + (size_t)(s * b) * esize(info), row);
    return 0;
}

/* ---- taper --------------------------------------------------------------------- */

/* Self-adjoint: one kernel for both directions; the weights (the state) come from the
 * constructor (sj__op_taper_weight). */
static int taper_apply(const sj_op_info_t *info, void *out, const void *in)
{
    const sj__opp_taper_t *p = params_of(info, sizeof *p);
    axis_t ax;
    if (p == NULL || info->dom_n != info->rng_n || axis_of(info->dom_dims, (int)p->dim, &ax) ||
        info->state == NULL || info->state_size != (size_t)ax.n * esize(info))
        return 1;
    const int64_t s = ax.s, n = ax.n;
    FOR_DTYPE(info->dtype, {
        T *y = out;
        const T *x = in, *weight = info->state;
        for (int64_t b = 0; b < ax.outer; b++)
            for (int64_t i = 0; i < n; i++) {
                const T w = weight[i];
                const int64_t o = s * (i + n * b);
                for (int64_t a = 0; a < s; a++)
                    y[o + a] = w * x[o + a];
            }
    });
    return 0;
}

/* ---- restriction ----------------------------------------------------------------- */

/* The indices: the state's first rng_n values (then their order when some repeat). */
static const int64_t *restriction_idx(const sj_op_info_t *info)
{
    const sj__opp_restriction_t *p = params_of(info, sizeof *p);
    const int64_t *idx = info->state;
    if (p == NULL || idx == NULL ||
        info->state_size != (size_t)info->rng_n * (p->unique ? 1 : 2) * sizeof(int64_t))
        return NULL;
    for (int64_t k = 0; k < info->rng_n; k++)
        if (idx[k] < 0 || idx[k] >= info->dom_n)
            return NULL;
    return idx;
}

/* y[k] = x[idx[k]] */
static int restriction_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    const int64_t *idx = restriction_idx(info);
    if (idx == NULL)
        return 1;
    FOR_DTYPE(info->dtype, {
        T *y = out;
        const T *x = in;
        for (int64_t k = 0; k < info->rng_n; k++)
            y[k] = x[idx[k]];
    });
    return 0;
}

/* x = 0; x[idx[k]] += y[k] */
static int restriction_adj(const sj_op_info_t *info, void *out, const void *in)
{
    const int64_t *idx = restriction_idx(info);
    if (idx == NULL)
        return 1;
    FOR_DTYPE(info->dtype, {
        T *x = out;
        const T *y = in;
        for (int64_t i = 0; i < info->dom_n; i++)
            x[i] = 0;
        for (int64_t k = 0; k < info->rng_n; k++)
            x[idx[k]] += y[k];
    });
    return 0;
}

/* ---- pad and truncate: a small box inside a large one ----------------------------- */

static int box_fits(const int64_t big[SJ_MAX_DIMS], const int64_t small[SJ_MAX_DIMS],
                    const int64_t off[SJ_MAX_DIMS])
{
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        if (off[d] < 0 || off[d] + small[d] > big[d])
            return 0;
    return 1;
}

/* Copy between the small box and its place in the big array (to_big: small -> big). */
static void box_copy(const int64_t big[SJ_MAX_DIMS], const int64_t small[SJ_MAX_DIMS],
                     const int64_t off[SJ_MAX_DIMS], size_t es, char *bigp, char *smallp,
                     int to_big)
{
    const size_t row = (size_t)small[0] * es;
    for (int64_t k = 0; k < small[2]; k++)
        for (int64_t j = 0; j < small[1]; j++) {
            const int64_t bi = off[0] + big[0] * ((off[1] + j) + big[1] * (off[2] + k));
            const int64_t si = small[0] * (j + small[1] * k);
            char *b = bigp + (size_t)bi * es, *s = smallp + (size_t)si * es;
            if (to_big)
                memcpy(b, s, row);
            else
                memcpy(s, b, row);
        }
}

/* Zero the big array, then place the small one in it. */
static int box_embed(const sj_op_info_t *info, const int64_t big[SJ_MAX_DIMS], int64_t nbig,
                     const int64_t small[SJ_MAX_DIMS], void *out, const void *in)
{
    const sj__opp_box_t *p = params_of(info, sizeof *p);
    if (p == NULL || !box_fits(big, small, p->off))
        return 1;
    memset(out, 0, (size_t)nbig * esize(info));
    box_copy(big, small, p->off, esize(info), out, (char *)(uintptr_t)in, 1);
    return 0;
}

/* Take the small box out of the big array. */
static int box_extract(const sj_op_info_t *info, const int64_t big[SJ_MAX_DIMS],
                       const int64_t small[SJ_MAX_DIMS], void *out, const void *in)
{
    const sj__opp_box_t *p = params_of(info, sizeof *p);
    if (p == NULL || !box_fits(big, small, p->off))
        return 1;
    box_copy(big, small, p->off, esize(info), (char *)(uintptr_t)in, out, 0);
    return 0;
}

static int pad_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    return box_embed(info, info->rng_dims, info->rng_n, info->dom_dims, out, in);
}

static int pad_adj(const sj_op_info_t *info, void *out, const void *in)
{
    return box_extract(info, info->rng_dims, info->dom_dims, out, in);
}

static int truncate_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    return box_extract(info, info->dom_dims, info->rng_dims, out, in);
}

static int truncate_adj(const sj_op_info_t *info, void *out, const void *in)
{
    return box_embed(info, info->dom_dims, info->dom_n, info->rng_dims, out, in);
}

/* ---- circular shift ----------------------------------------------------------------- */

/* out[(i + sign * shift) mod dims] = in[i], dimension by dimension. */
static int circshift_apply(const sj_op_info_t *info, void *out, const void *in, int sign)
{
    const sj__opp_box_t *p = params_of(info, sizeof *p);
    if (p == NULL || info->dom_n != info->rng_n)
        return 1;
    const int64_t *n = info->dom_dims;
    int64_t m[SJ_MAX_DIMS];
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        m[d] = ((sign * p->off[d]) % n[d] + n[d]) % n[d];
    const size_t es = esize(info);
    /* Along dimension 0 the shifted row is two contiguous pieces. */
    const size_t head = (size_t)(n[0] - m[0]) * es, tail = (size_t)m[0] * es;
    for (int64_t k = 0; k < n[2]; k++)
        for (int64_t j = 0; j < n[1]; j++) {
            const int64_t jo = (j + m[1]) % n[1], ko = (k + m[2]) % n[2];
            const char *src = (const char *)in + (size_t)(n[0] * (j + n[1] * k)) * es;
            char *dst = (char *)out + (size_t)(n[0] * (jo + n[1] * ko)) * es;
            memcpy(dst + tail, src, head);
            memcpy(dst, src + head, tail);
        }
    return 0;
}

static int circshift_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    return circshift_apply(info, out, in, 1);
}

static int circshift_adj(const sj_op_info_t *info, void *out, const void *in)
{
    return circshift_apply(info, out, in, -1);
}

/* ---- nonlinear elementwise operators ----------------------------------------------- */

static double exp_f(double x, const void *p)
{
    return exp(x);
}

static double log_f(double x, const void *p)
{
    return log(x);
}

static double log_df(double x, const void *p)
{
    return 1.0 / x;
}

static double tanh_f(double x, const void *p)
{
    return tanh(x);
}

static double tanh_df(double x, const void *p)
{
    return sj__op_tanh_df(x);
}

static double sigmoid_f(double x, const void *p)
{
    return sj__op_sigmoid(x);
}

static double sigmoid_df(double x, const void *p)
{
    return sj__op_sigmoid_df(x);
}

static double power_f(double x, const void *p)
{
    return pow(x, ((const sj__opp_scalar_t *)p)->a);
}

static double power_df(double x, const void *p)
{
    return sj__op_power_df(x, ((const sj__opp_scalar_t *)p)->a);
}

static double clamp_f(double x, const void *p)
{
    const sj__opp_clamp_t *c = p;
    return sj__op_clamp_f(x, c->lo, c->hi, c->width);
}

static double clamp_df(double x, const void *p)
{
    const sj__opp_clamp_t *c = p;
    return sj__op_clamp_df(x, c->lo, c->hi, c->width);
}

/*
 * Forward y = f(x) and Jacobian y = f'(m0) .* dx of an elementwise class with
 * a parameter block of PSIZE bytes (0: none). The Jacobian is diagonal, so it
 * is its own adjoint. Computed in double, rounded once to the element type.
 */
#define SJ__ELEMENTWISE(cls, PSIZE, F, DF)                                                         \
    static int cls##_fwd(const sj_op_info_t *info, void *out, const void *in)                      \
    {                                                                                              \
        const void *p = info->params;                                                              \
        if ((PSIZE) > 0 && params_of(info, (PSIZE)) == NULL)                                       \
            return 1;                                                                              \
        FOR_DTYPE(info->dtype, {                                                                   \
            T *y = out;                                                                            \
            const T *x = in;                                                                       \
            for (int64_t i = 0; i < info->rng_n; i++)                                              \
                y[i] = (T)F((double)x[i], p);                                                      \
        });                                                                                        \
        return 0;                                                                                  \
    }                                                                                              \
    static int cls##_jac(const sj_op_info_t *info, void *out, const void *in)                      \
    {                                                                                              \
        const void *p = info->params;                                                              \
        if (((PSIZE) > 0 && params_of(info, (PSIZE)) == NULL) || info->point == NULL)              \
            return 1;                                                                              \
        FOR_DTYPE(info->dtype, {                                                                   \
            T *y = out;                                                                            \
            const T *dx = in, *m0 = info->point;                                                   \
            for (int64_t i = 0; i < info->dom_n; i++)                                              \
                y[i] = (T)(DF((double)m0[i], p) * (double)dx[i]);                                  \
        });                                                                                        \
        return 0;                                                                                  \
    }                                                                                              \
    const sj_op_class_t sj__opclass_##cls = {.name = #cls,                                         \
                                             .nonlinear = 1,                                       \
                                             .forward = cls##_fwd,                                 \
                                             .adjoint = cls##_jac,                                 \
                                             .jacobian = cls##_jac,                                \
                                             .forward_cuda = CUDA(cls##_fwd),                      \
                                             .adjoint_cuda = CUDA(cls##_jac),                      \
                                             .jacobian_cuda = CUDA(cls##_jac)}

SJ__ELEMENTWISE(exp, 0, exp_f, exp_f);
SJ__ELEMENTWISE(log, 0, log_f, log_df);
SJ__ELEMENTWISE(tanh, 0, tanh_f, tanh_df);
SJ__ELEMENTWISE(sigmoid, 0, sigmoid_f, sigmoid_df);
SJ__ELEMENTWISE(power, sizeof(sj__opp_scalar_t), power_f, power_df);
SJ__ELEMENTWISE(clamp, sizeof(sj__opp_clamp_t), clamp_f, clamp_df);

/* Shift: y = x + b; its Jacobian is the identity. */
static int shift_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    const int64_t n = info->dom_n;
    if (info->state == NULL || info->state_size != (size_t)n * esize(info) || info->rng_n != n)
        return 1;
    FOR_DTYPE(info->dtype, {
        T *y = out;
        const T *x = in, *b = info->state;
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] + b[i];
    });
    return 0;
}

const sj_op_class_t sj__opclass_shift = {.name = "shift",
                                         .nonlinear = 1,
                                         .forward = shift_fwd,
                                         .adjoint = copy_adj,
                                         .jacobian = copy_fwd,
                                         .forward_cuda = CUDA(shift_fwd),
                                         .adjoint_cuda = CUDA(copy_adj),
                                         .jacobian_cuda = CUDA(copy_fwd)};

/* ---- linear classes ------------------------------------------------------------------ */

#define LINEAR(cls, fwd, adj, cuda_fwd, cuda_adj)                                                  \
    const sj_op_class_t sj__opclass_##cls = {.name = #cls,                                         \
                                             .forward = fwd,                                       \
                                             .adjoint = adj,                                       \
                                             .forward_cuda = CUDA(cuda_fwd),                       \
                                             .adjoint_cuda = CUDA(cuda_adj)}

LINEAR(diagonal, diagonal_apply, diagonal_apply, diagonal, diagonal);
LINEAR(dense, dense_fwd, dense_adj, dense_fwd, dense_adj);
LINEAR(zero, zero_fwd, zero_adj, zero_fwd, zero_adj);
LINEAR(identity, copy_fwd, copy_adj, copy_fwd, copy_adj);
LINEAR(reshape, copy_fwd, copy_adj, copy_fwd, copy_adj);
LINEAR(scaling, scaling_apply, scaling_apply, scaling, scaling);
LINEAR(difference, difference_fwd, difference_adj, difference_fwd, difference_adj);
LINEAR(derivative, derivative_fwd, derivative_adj, derivative_fwd, derivative_adj);
LINEAR(sum_dim, sum_dim_fwd, sum_dim_adj, sum_dim_fwd, sum_dim_adj);
LINEAR(restriction, restriction_fwd, restriction_adj, restriction_fwd, restriction_adj);
LINEAR(pad, pad_fwd, pad_adj, pad_fwd, pad_adj);
LINEAR(truncate, truncate_fwd, truncate_adj, truncate_fwd, truncate_adj);
LINEAR(taper, taper_apply, taper_apply, taper, taper);
LINEAR(circshift, circshift_fwd, circshift_adj, circshift_fwd, circshift_adj);
