/*
 * What the CUDA functions of the operator library (op_cuda.cu) compute,
 * written once for the device and for the host: tests/test_gpu_ops_emul.c
 * runs the same plans and per-thread functions over every thread index in
 * turn (an emulation of the launches) and compares with the CPU classes of
 * src/op/library_classes.c, bit for bit. A wrong stride, offset or bound
 * therefore fails on a machine without a GPU.
 *
 * A class direction is planned on the host (sj__gop_plan: the checks the CPU
 * class makes, then one or two launches, each a kind of per-thread work and
 * its geometry), and each launch runs sj__gop_thread_{d,f} for thread
 * indices 0 .. g.n - 1. The per-thread functions use the CPU classes'
 * expressions in the same order; nvcc compiles with --fmad=false, so the
 * linear classes give the CPU's bits. The nonlinear classes call the same
 * scalar functions (kernels/oplib.h), whose exp, log, tanh, pow and log1p
 * come from CUDA's math library on the device: there they may differ from
 * the host's in the last bit (docs/gpu.md).
 *
 * Dense operators go through cuBLAS; sj__gop_dense_plan gives the call's
 * shape, which the emulation checks with a plain loop.
 *
 * No StarPU, no CUDA runtime calls: plain C, valid CUDA C++.
 */
#ifndef SJ_CODELETS_OP_GPU_H
#define SJ_CODELETS_OP_GPU_H

#include <stdint.h>
#include <string.h>

#include <starjets/op.h>

#include "kernels/oplib.h"

#ifdef __CUDACC__
#define SJ_GOP __host__ __device__ static inline
#else
#define SJ_GOP static inline
#endif

/* ---- what one thread does ------------------------------------------------------------ */

enum {
    SJ__GOP_ZERO,         /* out[o] = 0 */
    SJ__GOP_COPY,         /* out[o] = in[o] */
    SJ__GOP_DIAGONAL,     /* out[o] = d[o] in[o] (state d) */
    SJ__GOP_SCALE,        /* out[o] = c in[o] */
    SJ__GOP_DIFF_FWD,     /* along an axis: in[o + s] - in[o], 0 at the end */
    SJ__GOP_DIFF_ADJ,     /* in[o - s] - in[o], each term where it exists */
    SJ__GOP_DERIV,        /* c (in[o + s] - in[o - s]), zeros outside */
    SJ__GOP_SUM,          /* out[a + s b] = sum over i of in[a + s (i + len b)], in order */
    SJ__GOP_SPREAD,       /* out[a + s (i + len b)] = in[a + s b] */
    SJ__GOP_TAPER,        /* out[o] = w[i] in[o] (state w, i the index along the axis) */
    SJ__GOP_GATHER,       /* out[k] = in[idx[k]] (state idx) */
    SJ__GOP_SCATTER,      /* out[idx[k]] = 0 + in[k] (indices all different) */
    SJ__GOP_SCATTER_RUNS, /* a run of equal indices in sorted order: their sum, in k order */
    SJ__GOP_EMBED,        /* out (big) = in (small) at off, zeros elsewhere */
    SJ__GOP_EXTRACT,      /* out (small) = in (big) at off */
    SJ__GOP_CIRCSHIFT,    /* out[(i + off) mod dims] = in[i] */
    SJ__GOP_SHIFT,        /* out[o] = in[o] + b[o] (state b) */
    SJ__GOP_AXPBY,        /* out[o] = c in[o] + c2 out[o]; c2 == 0: c in[o] (alpha, beta) */
    /* nonlinear: f(x) in double, rounded once; Jacobian f'(m0) dx with m0 the point */
    SJ__GOP_EXP,
    SJ__GOP_LOG,
    SJ__GOP_TANH,
    SJ__GOP_SIGMOID,
    SJ__GOP_POWER, /* exponent c */
    SJ__GOP_CLAMP, /* lo, hi, width in c, c2, c3 */
    SJ__GOP_EXP_JAC,
    SJ__GOP_LOG_JAC,
    SJ__GOP_TANH_JAC,
    SJ__GOP_SIGMOID_JAC,
    SJ__GOP_POWER_JAC,
    SJ__GOP_CLAMP_JAC,
    SJ__GOP_NKINDS
};

/* One launch: the kind, the threads, and the geometry and numbers they read. */
typedef struct sj__gop {
    int kind;
    int dtype;
    int64_t n;      /* threads */
    int64_t s, len; /* axis kinds: elements before the axis, its length */
    int64_t big[SJ_MAX_DIMS], small[SJ_MAX_DIMS], off[SJ_MAX_DIMS]; /* boxes, circshift */
    int64_t bound; /* gather and scatter: indices must be below it */
    double c, c2, c3;
} sj__gop_t;

/* ---- the class directions, planned on the host ------------------------------------- */

enum {
    SJ__GOPC_COPY_FWD,
    SJ__GOPC_COPY_ADJ,
    SJ__GOPC_ZERO_FWD,
    SJ__GOPC_ZERO_ADJ,
    SJ__GOPC_DIAGONAL,
    SJ__GOPC_SCALING,
    SJ__GOPC_DIFFERENCE_FWD,
    SJ__GOPC_DIFFERENCE_ADJ,
    SJ__GOPC_DERIVATIVE_FWD,
    SJ__GOPC_DERIVATIVE_ADJ,
    SJ__GOPC_SUM_DIM_FWD,
    SJ__GOPC_SUM_DIM_ADJ,
    SJ__GOPC_TAPER,
    SJ__GOPC_RESTRICTION_FWD,
    SJ__GOPC_RESTRICTION_ADJ,
    SJ__GOPC_PAD_FWD,
    SJ__GOPC_PAD_ADJ,
    SJ__GOPC_TRUNCATE_FWD,
    SJ__GOPC_TRUNCATE_ADJ,
    SJ__GOPC_CIRCSHIFT_FWD,
    SJ__GOPC_CIRCSHIFT_ADJ,
    SJ__GOPC_SHIFT_FWD,
    SJ__GOPC_EXP_FWD,
    SJ__GOPC_EXP_JAC,
    SJ__GOPC_LOG_FWD,
    SJ__GOPC_LOG_JAC,
    SJ__GOPC_TANH_FWD,
    SJ__GOPC_TANH_JAC,
    SJ__GOPC_SIGMOID_FWD,
    SJ__GOPC_SIGMOID_JAC,
    SJ__GOPC_POWER_FWD,
    SJ__GOPC_POWER_JAC,
    SJ__GOPC_CLAMP_FWD,
    SJ__GOPC_CLAMP_JAC,
    SJ__GOPC_COUNT
};

static inline int64_t sj__gop_esize(const sj_op_info_t *info)
{
    return info->dtype == SJ_FLOAT64 ? 8 : 4;
}

static inline const void *sj__gop_params(const sj_op_info_t *info, size_t size)
{
    return info->params != NULL && info->params_size == size ? info->params : NULL;
}

/*
 * The axis dim of dims as (s, len) and the elements after it (*outer): as
 * library_classes.c's axis_of. 1 when dim is no axis.
 */
static inline int sj__gop_axis(const int64_t dims[SJ_MAX_DIMS], int64_t dim, sj__gop_t *g,
                               int64_t *outer)
{
    if (dim < 0 || dim >= SJ_MAX_DIMS)
        return 1;
    g->s = 1;
    *outer = 1;
    for (int d = 0; d < dim; d++)
        g->s *= dims[d];
    for (int d = (int)dim + 1; d < SJ_MAX_DIMS; d++)
        *outer *= dims[d];
    g->len = dims[dim];
    return 0;
}

static inline int sj__gop_box_fits(const int64_t big[SJ_MAX_DIMS], const int64_t small[SJ_MAX_DIMS],
                                   const int64_t off[SJ_MAX_DIMS])
{
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        if (off[d] < 0 || off[d] + small[d] > big[d])
            return 0;
    return 1;
}

/* A box launch: `to_big` embeds small into big (threads: big), else extracts (threads: small). */
static inline int sj__gop_box(const sj_op_info_t *info, const int64_t big[SJ_MAX_DIMS],
                              const int64_t small[SJ_MAX_DIMS], int to_big, sj__gop_t *g)
{
    const sj__opp_box_t *p = (const sj__opp_box_t *)sj__gop_params(info, sizeof *p);
    if (p == NULL || !sj__gop_box_fits(big, small, p->off))
        return 1;
    g->kind = to_big ? SJ__GOP_EMBED : SJ__GOP_EXTRACT;
    g->n = 1;
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        g->big[d] = big[d];
        g->small[d] = small[d];
        g->off[d] = p->off[d];
        g->n *= to_big ? big[d] : small[d];
    }
    return 0;
}

/* The nonlinear kinds: forward, Jacobian, and the parameter block each reads. */
static inline int sj__gop_nonlinear(int what, const sj_op_info_t *info, sj__gop_t *g)
{
    static const int kinds[] = {SJ__GOP_EXP,       SJ__GOP_EXP_JAC,     SJ__GOP_LOG,
                                SJ__GOP_LOG_JAC,   SJ__GOP_TANH,        SJ__GOP_TANH_JAC,
                                SJ__GOP_SIGMOID,   SJ__GOP_SIGMOID_JAC, SJ__GOP_POWER,
                                SJ__GOP_POWER_JAC, SJ__GOP_CLAMP,       SJ__GOP_CLAMP_JAC};
    const int k = what - SJ__GOPC_EXP_FWD, jac = k % 2;
    g->kind = kinds[k];
    g->n = jac ? info->dom_n : info->rng_n;
    if (jac && info->point == NULL)
        return 1;
    if (what == SJ__GOPC_POWER_FWD || what == SJ__GOPC_POWER_JAC) {
        const sj__opp_scalar_t *p = (const sj__opp_scalar_t *)sj__gop_params(info, sizeof *p);
        if (p == NULL)
            return 1;
        g->c = p->a;
    } else if (what == SJ__GOPC_CLAMP_FWD || what == SJ__GOPC_CLAMP_JAC) {
        const sj__opp_clamp_t *p = (const sj__opp_clamp_t *)sj__gop_params(info, sizeof *p);
        if (p == NULL)
            return 1;
        g->c = p->lo;
        g->c2 = p->hi;
        g->c3 = p->width;
    }
    return 0;
}

/*
 * The launches of class direction @p what (SJ__GOPC_*) on @p info, in order
 * on one stream: returns their number (1 or 2) in g[0..), or 0 when the
 * parameters or the state do not fit the spaces (the CPU class returns 1
 * for the same cases, except the restriction's indices, which the
 * constructor checked and the device cannot read here: a thread skips an
 * index out of range instead).
 */
static inline int sj__gop_plan(int what, const sj_op_info_t *info, sj__gop_t g[2])
{
    const int64_t es = sj__gop_esize(info), dn = info->dom_n, rn = info->rng_n;
    int64_t outer;
    memset(g, 0, 2 * sizeof *g);
    g[0].dtype = g[1].dtype = info->dtype;
    switch (what) {
    case SJ__GOPC_COPY_FWD:
    case SJ__GOPC_COPY_ADJ:
        if (dn != rn)
            return 0;
        g[0].kind = SJ__GOP_COPY;
        g[0].n = rn;
        return 1;
    case SJ__GOPC_ZERO_FWD:
    case SJ__GOPC_ZERO_ADJ:
        g[0].kind = SJ__GOP_ZERO;
        g[0].n = what == SJ__GOPC_ZERO_FWD ? rn : dn;
        return 1;
    case SJ__GOPC_DIAGONAL:
    case SJ__GOPC_SHIFT_FWD:
        if (info->state == NULL || info->state_size != (size_t)(dn * es) || rn != dn)
            return 0;
        g[0].kind = what == SJ__GOPC_DIAGONAL ? SJ__GOP_DIAGONAL : SJ__GOP_SHIFT;
        g[0].n = dn;
        return 1;
    case SJ__GOPC_SCALING: {
        const sj__opp_scalar_t *p = (const sj__opp_scalar_t *)sj__gop_params(info, sizeof *p);
        if (p == NULL || rn != dn)
            return 0;
        g[0].kind = SJ__GOP_SCALE;
        g[0].n = dn;
        g[0].c = p->a;
        return 1;
    }
    case SJ__GOPC_DIFFERENCE_FWD:
    case SJ__GOPC_DIFFERENCE_ADJ:
    case SJ__GOPC_DERIVATIVE_FWD:
    case SJ__GOPC_DERIVATIVE_ADJ: {
        const sj__opp_axis_t *p = (const sj__opp_axis_t *)sj__gop_params(info, sizeof *p);
        if (p == NULL || dn != rn || sj__gop_axis(info->dom_dims, p->dim, &g[0], &outer))
            return 0;
        g[0].n = dn;
        if (what == SJ__GOPC_DIFFERENCE_FWD || what == SJ__GOPC_DIFFERENCE_ADJ) {
            g[0].kind = what == SJ__GOPC_DIFFERENCE_FWD ? SJ__GOP_DIFF_FWD : SJ__GOP_DIFF_ADJ;
            return 1;
        }
        if (!(p->h != 0))
            return 0;
        g[0].kind = SJ__GOP_DERIV;
        g[0].c = (what == SJ__GOPC_DERIVATIVE_FWD ? 1.0 : -1.0) / (2.0 * p->h);
        return 1;
    }
    case SJ__GOPC_SUM_DIM_FWD:
    case SJ__GOPC_SUM_DIM_ADJ: {
        const sj__opp_axis_t *p = (const sj__opp_axis_t *)sj__gop_params(info, sizeof *p);
        if (p == NULL || sj__gop_axis(info->dom_dims, p->dim, &g[0], &outer) ||
            g[0].s * outer != rn)
            return 0;
        g[0].kind = what == SJ__GOPC_SUM_DIM_FWD ? SJ__GOP_SUM : SJ__GOP_SPREAD;
        g[0].n = what == SJ__GOPC_SUM_DIM_FWD ? rn : dn;
        return 1;
    }
    case SJ__GOPC_TAPER: {
        const sj__opp_taper_t *p = (const sj__opp_taper_t *)sj__gop_params(info, sizeof *p);
        if (p == NULL || dn != rn || sj__gop_axis(info->dom_dims, p->dim, &g[0], &outer) ||
            info->state == NULL || info->state_size != (size_t)(g[0].len * es))
            return 0;
        g[0].kind = SJ__GOP_TAPER;
        g[0].n = dn;
        return 1;
    }
    case SJ__GOPC_RESTRICTION_FWD:
    case SJ__GOPC_RESTRICTION_ADJ: {
        const sj__opp_restriction_t *p =
            (const sj__opp_restriction_t *)sj__gop_params(info, sizeof *p);
        if (p == NULL || info->state == NULL ||
            info->state_size != (size_t)rn * (p->unique ? 1 : 2) * sizeof(int64_t))
            return 0;
        if (what == SJ__GOPC_RESTRICTION_FWD) {
            g[0].kind = SJ__GOP_GATHER;
            g[0].n = rn;
            g[0].bound = dn;
            return 1;
        }
        g[0].kind = SJ__GOP_ZERO;
        g[0].n = dn;
        g[1].kind = p->unique ? SJ__GOP_SCATTER : SJ__GOP_SCATTER_RUNS;
        g[1].n = rn;
        g[1].len = rn;
        g[1].bound = dn;
        return 2;
    }
    case SJ__GOPC_PAD_FWD:
        return sj__gop_box(info, info->rng_dims, info->dom_dims, 1, &g[0]) ? 0 : 1;
    case SJ__GOPC_PAD_ADJ:
        return sj__gop_box(info, info->rng_dims, info->dom_dims, 0, &g[0]) ? 0 : 1;
    case SJ__GOPC_TRUNCATE_FWD:
        return sj__gop_box(info, info->dom_dims, info->rng_dims, 0, &g[0]) ? 0 : 1;
    case SJ__GOPC_TRUNCATE_ADJ:
        return sj__gop_box(info, info->dom_dims, info->rng_dims, 1, &g[0]) ? 0 : 1;
    case SJ__GOPC_CIRCSHIFT_FWD:
    case SJ__GOPC_CIRCSHIFT_ADJ: {
        const sj__opp_box_t *p = (const sj__opp_box_t *)sj__gop_params(info, sizeof *p);
        if (p == NULL || dn != rn)
            return 0;
        const int64_t sign = what == SJ__GOPC_CIRCSHIFT_FWD ? 1 : -1;
        g[0].kind = SJ__GOP_CIRCSHIFT;
        g[0].n = dn;
        for (int d = 0; d < SJ_MAX_DIMS; d++) {
            const int64_t n = info->dom_dims[d];
            g[0].big[d] = n;
            g[0].off[d] = ((sign * p->off[d]) % n + n) % n;
        }
        return 1;
    }
    default:
        if (what >= SJ__GOPC_EXP_FWD && what < SJ__GOPC_COUNT)
            return sj__gop_nonlinear(what, info, &g[0]) ? 0 : 1;
        return 0;
    }
}

/*
 * The alpha/beta step of a leaf task (codelets/op_kernels.c's loop):
 * out = alpha t + beta out, or alpha t when beta is 0.
 */
static inline sj__gop_t sj__gop_axpby(int dtype, int64_t n, double alpha, double beta)
{
    sj__gop_t g;
    memset(&g, 0, sizeof g);
    g.kind = SJ__GOP_AXPBY;
    g.dtype = dtype;
    g.n = n;
    g.c = alpha;
    g.c2 = beta;
    return g;
}

/* ---- the shape of a dense apply through BLAS (column-major, as library_classes.c) ------ */

typedef struct sj__gop_dense {
    int adjoint;       /* op(M) = M' */
    int gemv;          /* k == 1: y = op(M) x with M rows x cols */
    int rows, cols, k; /* M is rows x cols, lda = rows */
    int m_out, m_in;   /* gemm: out is m_out x k (ldc m_out), in m_in x k (ldb m_in) */
} sj__gop_dense_t;

static inline int sj__gop_dense_plan(const sj_op_info_t *info, int adjoint, sj__gop_dense_t *d)
{
    const sj__opp_dense_t *p = (const sj__opp_dense_t *)sj__gop_params(info, sizeof *p);
    if (p == NULL || p->rows * p->k != info->rng_n || p->cols * p->k != info->dom_n ||
        info->state == NULL ||
        info->state_size != (size_t)(p->rows * p->cols * sj__gop_esize(info)))
        return 1;
    d->adjoint = adjoint;
    d->gemv = p->k == 1;
    d->rows = (int)p->rows;
    d->cols = (int)p->cols;
    d->k = (int)p->k;
    d->m_out = adjoint ? d->cols : d->rows;
    d->m_in = adjoint ? d->rows : d->cols;
    return 0;
}

/* ---- per thread ------------------------------------------------------------------------ */

#define SJ__GOP_THREAD(T, S)                                                                       \
    SJ_GOP void sj__gop_thread_##S(const sj__gop_t *g, int64_t o, T *out, const T *in,             \
                                   const void *state, const T *point)                              \
    {                                                                                              \
        const T *w = (const T *)state;                                                             \
        const int64_t *idx = (const int64_t *)state;                                               \
        const int64_t s = g->s, len = g->len;                                                      \
        switch (g->kind) {                                                                         \
        case SJ__GOP_ZERO:                                                                         \
            out[o] = 0;                                                                            \
            return;                                                                                \
        case SJ__GOP_COPY:                                                                         \
            out[o] = in[o];                                                                        \
            return;                                                                                \
        case SJ__GOP_DIAGONAL:                                                                     \
            out[o] = w[o] * in[o];                                                                 \
            return;                                                                                \
        case SJ__GOP_SHIFT:                                                                        \
            out[o] = in[o] + w[o];                                                                 \
            return;                                                                                \
        case SJ__GOP_SCALE:                                                                        \
            out[o] = (T)g->c * in[o];                                                              \
            return;                                                                                \
        case SJ__GOP_DIFF_FWD: {                                                                   \
            const int64_t i = (o / s) % len;                                                       \
            out[o] = i + 1 < len ? in[o + s] - in[o] : (T)0;                                       \
            return;                                                                                \
        }                                                                                          \
        case SJ__GOP_DIFF_ADJ: {                                                                   \
            const int64_t j = (o / s) % len;                                                       \
            T v = 0;                                                                               \
            if (j >= 1)                                                                            \
                v += in[o - s];                                                                    \
            if (j + 1 < len)                                                                       \
                v -= in[o];                                                                        \
            out[o] = v;                                                                            \
            return;                                                                                \
        }                                                                                          \
        case SJ__GOP_DERIV: {                                                                      \
            const int64_t i = (o / s) % len;                                                       \
            T v = 0;                                                                               \
            if (i + 1 < len)                                                                       \
                v += in[o + s];                                                                    \
            if (i >= 1)                                                                            \
                v -= in[o - s];                                                                    \
            out[o] = (T)g->c * v;                                                                  \
            return;                                                                                \
        }                                                                                          \
        case SJ__GOP_SUM: {                                                                        \
            const int64_t a = o % s, b = o / s;                                                    \
            T v = 0;                                                                               \
            for (int64_t i = 0; i < len; i++)                                                      \
                v += in[s * (i + len * b) + a];                                                    \
            out[o] = v;                                                                            \
            return;                                                                                \
        }                                                                                          \
        case SJ__GOP_SPREAD:                                                                       \
            out[o] = in[o % s + s * (o / (s * len))];                                              \
            return;                                                                                \
        case SJ__GOP_TAPER:                                                                        \
            out[o] = w[(o / s) % len] * in[o];                                                     \
            return;                                                                                \
        case SJ__GOP_GATHER:                                                                       \
            out[o] = idx[o] >= 0 && idx[o] < g->bound ? in[idx[o]] : (T)0;                         \
            return;                                                                                \
        case SJ__GOP_SCATTER:                                                                      \
            if (idx[o] >= 0 && idx[o] < g->bound)                                                  \
                out[idx[o]] = (T)0 + in[o];                                                        \
            return;                                                                                \
        case SJ__GOP_SCATTER_RUNS: {                                                               \
            /* thread o: position o of the order (idx + len); a run's first sums the run */        \
            const int64_t *order = idx + len, i = idx[order[o]];                                   \
            if ((o > 0 && idx[order[o - 1]] == i) || i < 0 || i >= g->bound)                       \
                return;                                                                            \
            T v = 0;                                                                               \
            for (int64_t u = o; u < len && idx[order[u]] == i; u++)                                \
                v += in[order[u]];                                                                 \
            out[i] = v;                                                                            \
            return;                                                                                \
        }                                                                                          \
        case SJ__GOP_EMBED:                                                                        \
        case SJ__GOP_EXTRACT: {                                                                    \
            const int64_t *dims = g->kind == SJ__GOP_EMBED ? g->big : g->small;                    \
            const int64_t c0 = o % dims[0], c1 = (o / dims[0]) % dims[1],                          \
                          c2 = o / (dims[0] * dims[1]);                                            \
            if (g->kind == SJ__GOP_EXTRACT) {                                                      \
                out[o] = in[(g->off[0] + c0) +                                                     \
                            g->big[0] * ((g->off[1] + c1) + g->big[1] * (g->off[2] + c2))];        \
                return;                                                                            \
            }                                                                                      \
            const int64_t i0 = c0 - g->off[0], i1 = c1 - g->off[1], i2 = c2 - g->off[2];           \
            const int inside = i0 >= 0 && i0 < g->small[0] && i1 >= 0 && i1 < g->small[1] &&       \
                               i2 >= 0 && i2 < g->small[2];                                        \
            out[o] = inside ? in[i0 + g->small[0] * (i1 + g->small[1] * i2)] : (T)0;               \
            return;                                                                                \
        }                                                                                          \
        case SJ__GOP_CIRCSHIFT: {                                                                  \
            const int64_t *n = g->big, *m = g->off;                                                \
            const int64_t j0 = o % n[0], j1 = (o / n[0]) % n[1], j2 = o / (n[0] * n[1]);           \
            const int64_t i0 = (j0 - m[0] + n[0]) % n[0], i1 = (j1 - m[1] + n[1]) % n[1],          \
                          i2 = (j2 - m[2] + n[2]) % n[2];                                          \
            out[o] = in[i0 + n[0] * (i1 + n[1] * i2)];                                             \
            return;                                                                                \
        }                                                                                          \
        case SJ__GOP_AXPBY:                                                                        \
            if (g->c2 == 0)                                                                        \
                out[o] = (T)g->c * in[o];                                                          \
            else                                                                                   \
                out[o] = (T)g->c * in[o] + (T)g->c2 * out[o];                                      \
            return;                                                                                \
        case SJ__GOP_EXP:                                                                          \
            out[o] = (T)exp((double)in[o]);                                                        \
            return;                                                                                \
        case SJ__GOP_LOG:                                                                          \
            out[o] = (T)log((double)in[o]);                                                        \
            return;                                                                                \
        case SJ__GOP_TANH:                                                                         \
            out[o] = (T)tanh((double)in[o]);                                                       \
            return;                                                                                \
        case SJ__GOP_SIGMOID:                                                                      \
            out[o] = (T)sj__op_sigmoid((double)in[o]);                                             \
            return;                                                                                \
        case SJ__GOP_POWER:                                                                        \
            out[o] = (T)pow((double)in[o], g->c);                                                  \
            return;                                                                                \
        case SJ__GOP_CLAMP:                                                                        \
            out[o] = (T)sj__op_clamp_f((double)in[o], g->c, g->c2, g->c3);                         \
            return;                                                                                \
        case SJ__GOP_EXP_JAC:                                                                      \
            out[o] = (T)(exp((double)point[o]) * (double)in[o]);                                   \
            return;                                                                                \
        case SJ__GOP_LOG_JAC:                                                                      \
            out[o] = (T)(1.0 / (double)point[o] * (double)in[o]);                                  \
            return;                                                                                \
        case SJ__GOP_TANH_JAC:                                                                     \
            out[o] = (T)(sj__op_tanh_df((double)point[o]) * (double)in[o]);                        \
            return;                                                                                \
        case SJ__GOP_SIGMOID_JAC:                                                                  \
            out[o] = (T)(sj__op_sigmoid_df((double)point[o]) * (double)in[o]);                     \
            return;                                                                                \
        case SJ__GOP_POWER_JAC:                                                                    \
            out[o] = (T)(sj__op_power_df((double)point[o], g->c) * (double)in[o]);                 \
            return;                                                                                \
        case SJ__GOP_CLAMP_JAC:                                                                    \
            out[o] = (T)(sj__op_clamp_df((double)point[o], g->c, g->c2, g->c3) * (double)in[o]);   \
            return;                                                                                \
        default:                                                                                   \
            return;                                                                                \
        }                                                                                          \
    }

SJ__GOP_THREAD(double, d)
SJ__GOP_THREAD(float, f)

#endif /* SJ_CODELETS_OP_GPU_H */
