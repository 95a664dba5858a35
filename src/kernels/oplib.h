/*
 * The operator library's contract between its constructors (src/op/library.c),
 * its CPU classes (src/op/library_classes.c) and its CUDA functions
 * (codelets/op_cuda.cu): the parameter blocks the classes read from
 * info->params, the scalar functions of the nonlinear elementwise classes
 * (one source for the CPU and the device, so both evaluate the same
 * expressions), and the declarations of the CUDA functions. No StarPU, no
 * CUDA types: the CUDA functions are sj_op_fn_t that take device pointers.
 */
#ifndef SJ_KERNELS_OPLIB_H
#define SJ_KERNELS_OPLIB_H

#include <math.h>
#include <stdint.h>

#include <starjets/op.h>

#ifdef __CUDACC__
#define SJ_OPFN __host__ __device__ static inline
#else
#define SJ_OPFN static inline
#endif

/* ---- parameter blocks (info->params) ------------------------------------------------ */

/* Dense: M is rows x cols (column-major), applied to k columns at once. */
typedef struct sj__opp_dense {
    int64_t rows, cols, k;
} sj__opp_dense_t;

/* Scaling (a) and power (p). */
typedef struct sj__opp_scalar {
    double a;
} sj__opp_scalar_t;

/* Difference, derivative (spacing h), sum_dim: the dimension, 0-based. */
typedef struct sj__opp_axis {
    int64_t dim; /* int64_t: no padding bytes travel with the tasks */
    double h;
} sj__opp_axis_t;

/*
 * Taper along dim: cosine ramps over the first nlo and the last nhi samples.
 * The weights themselves are the class's state (computed once by the
 * constructor), so that CPU and GPU multiply by the same numbers.
 */
typedef struct sj__opp_taper {
    int64_t dim;
    int64_t nlo, nhi;
} sj__opp_taper_t;

/* Pad and truncate: offset of the small box in the large one; circshift: shifts. */
typedef struct sj__opp_box {
    int64_t off[SJ_MAX_DIMS];
} sj__opp_box_t;

/* Smooth clamp to [lo, hi] with transition width w. */
typedef struct sj__opp_clamp {
    double lo, hi, width;
} sj__opp_clamp_t;

/*
 * Restriction: whether the indices are all different, found by the
 * constructor on the owner. The state is the rng_n indices; when some
 * repeat, followed by the positions k sorted by (idx[k], k). The GPU adjoint
 * scatters in parallel, or adds each run of equal indices in one thread in
 * the order of k, the CPU loop's order.
 */
typedef struct sj__opp_restriction {
    int64_t unique;
} sj__opp_restriction_t;

/* ---- scalar functions of the nonlinear elementwise classes (double) ------------------- */

SJ_OPFN double sj__op_sigmoid(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + exp(-x));
    const double e = exp(x);
    return e / (1.0 + e);
}

/* log(1 + e^z) without overflow */
SJ_OPFN double sj__op_softplus(double z)
{
    return (z > 0 ? z : 0.0) + log1p(exp(-fabs(z)));
}

SJ_OPFN double sj__op_tanh_df(double x)
{
    const double t = tanh(x);
    return 1.0 - t * t;
}

SJ_OPFN double sj__op_sigmoid_df(double x)
{
    const double s = sj__op_sigmoid(x);
    return s * (1.0 - s);
}

SJ_OPFN double sj__op_power_df(double x, double e)
{
    return e * pow(x, e - 1.0);
}

SJ_OPFN double sj__op_clamp_f(double x, double lo, double hi, double w)
{
    return lo + w * sj__op_softplus((x - lo) / w) - w * sj__op_softplus((x - hi) / w);
}

SJ_OPFN double sj__op_clamp_df(double x, double lo, double hi, double w)
{
    return sj__op_sigmoid((x - lo) / w) - sj__op_sigmoid((x - hi) / w);
}

/* Taper weight of sample i of n: cosine ramps over the first nlo and last nhi samples. */
SJ_OPFN double sj__op_taper_weight(int64_t i, int64_t n, int64_t nlo, int64_t nhi)
{
    const double pi = 3.14159265358979323846;
    double w = 1.0;
    if (i < nlo)
        w *= 0.5 * (1.0 - cos(pi * (double)i / (double)nlo));
    const int64_t j = n - 1 - i;
    if (j < nhi)
        w *= 0.5 * (1.0 - cos(pi * (double)j / (double)nhi));
    return w;
}

/* ---- CUDA functions (codelets/op_cuda.cu; defined in builds with SJ_USE_CUDA) ---------- */

/*
 * sj_op_fn_t with device pointers for out, in, info->state and info->point
 * (info and info->params in host memory). Each launches its work on the
 * worker's stream and returns without waiting; 1 when the parameters or the
 * state do not fit the spaces (as the CPU classes), or a launch failed.
 */
#define SJ__OPCUDA(name) int sj__opcuda_##name(const sj_op_info_t *info, void *out, const void *in)
SJ__OPCUDA(copy_fwd);
SJ__OPCUDA(copy_adj);
SJ__OPCUDA(zero_fwd);
SJ__OPCUDA(zero_adj);
SJ__OPCUDA(diagonal);
SJ__OPCUDA(scaling);
SJ__OPCUDA(dense_fwd);
SJ__OPCUDA(dense_adj);
SJ__OPCUDA(difference_fwd);
SJ__OPCUDA(difference_adj);
SJ__OPCUDA(derivative_fwd);
SJ__OPCUDA(derivative_adj);
SJ__OPCUDA(sum_dim_fwd);
SJ__OPCUDA(sum_dim_adj);
SJ__OPCUDA(taper);
SJ__OPCUDA(restriction_fwd);
SJ__OPCUDA(restriction_adj);
SJ__OPCUDA(pad_fwd);
SJ__OPCUDA(pad_adj);
SJ__OPCUDA(truncate_fwd);
SJ__OPCUDA(truncate_adj);
SJ__OPCUDA(circshift_fwd);
SJ__OPCUDA(circshift_adj);
SJ__OPCUDA(exp_fwd);
SJ__OPCUDA(exp_jac);
SJ__OPCUDA(log_fwd);
SJ__OPCUDA(log_jac);
SJ__OPCUDA(tanh_fwd);
SJ__OPCUDA(tanh_jac);
SJ__OPCUDA(sigmoid_fwd);
SJ__OPCUDA(sigmoid_jac);
SJ__OPCUDA(power_fwd);
SJ__OPCUDA(power_jac);
SJ__OPCUDA(clamp_fwd);
SJ__OPCUDA(clamp_jac);
SJ__OPCUDA(shift_fwd);
#undef SJ__OPCUDA

#endif /* SJ_KERNELS_OPLIB_H */
