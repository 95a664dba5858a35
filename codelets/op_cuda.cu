/*
 * Operator leaves on CUDA workers.
 *
 * sj__cuda_op is the CUDA body of SJ__K_OP (the registry gives a leaf's
 * codelet variant a CUDA implementation when the leaf's class has a CUDA
 * function): it hands the class's *_cuda function the device copies of the
 * buffers, then applies alpha and beta on the device as sj__cpu_op does on
 * the host. Everything is launched on the worker's stream and nothing waits:
 * StarPU waits for the stream after the task (STARPU_CUDA_ASYNC).
 *
 * The sj__opcuda_* functions are the operator library's CUDA classes
 * (kernels/oplib.h): one kernel for every elementwise, stencil-like and copy
 * class, whose per-thread work and launch plans are in op_gpu.h (shared
 * with the host emulation of tests/test_gpu_ops_emul.c), and cuBLAS for the
 * dense class, with the worker's handle (bound to its stream).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <array>
#include <utility>

#include <cublas_v2.h>

#include <starjets/cuda.h>

#include "codelets/cuda_private.h"

extern "C" {
#include "codelets/op_gpu.h"
#include "kernels/op.h"
#include "kernels/oplib.h"
}

using sj_cuda::dev_n;
using sj_cuda::dev_ptr;

namespace
{

/*
 * One kernel per kind and element type: the kind is a constant in each, so
 * the per-thread switch folds to that kind's code and a copy does not pay
 * for the registers of pow.
 */
template <typename T> struct thread_fn;
template <> struct thread_fn<double> {
    __device__ static void run(const sj__gop_t *g, int64_t i, double *out, const double *in,
                               const void *state, const double *point)
    {
        sj__gop_thread_d(g, i, out, in, state, point);
    }
};
template <> struct thread_fn<float> {
    __device__ static void run(const sj__gop_t *g, int64_t i, float *out, const float *in,
                               const void *state, const float *point)
    {
        sj__gop_thread_f(g, i, out, in, state, point);
    }
};

template <typename T, int K>
__global__ void k_op(sj__gop_t g, T *out, const T *in, const void *state, const T *point)
{
    g.kind = K;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < g.n;
         i += (int64_t)gridDim.x * blockDim.x)
        thread_fn<T>::run(&g, i, out, in, state, point);
}

template <typename T> using kernel_t = void (*)(sj__gop_t, T *, const T *, const void *, const T *);

template <typename T, int... K>
std::array<kernel_t<T>, sizeof...(K)> kernels_of(std::integer_sequence<int, K...>)
{
    return {{&k_op<T, K>...}};
}

/* The kernel of kind k (0 .. SJ__GOP_NKINDS - 1) for element type T. */
template <typename T> kernel_t<T> kernel_of(int k)
{
    static const std::array<kernel_t<T>, SJ__GOP_NKINDS> table =
        kernels_of<T>(std::make_integer_sequence<int, SJ__GOP_NKINDS>{});
    return table[k];
}

/* One launch of a plan on the worker's stream; 1 (with a sentence) when it failed. */
int launch(const sj__gop_t &g, void *out, const void *in, const void *state, const void *point)
{
    if (g.n == 0)
        return 0;
    cudaStream_t st = sj_cuda::stream();
    const unsigned blocks = sj_cuda::grid_for(g.n), threads = sj_cuda::THREADS;
    if (g.kind < 0 || g.kind >= SJ__GOP_NKINDS) {
        sj__kernel_fail("operator kernel: no kernel of kind %d", g.kind);
        return 1;
    }
    if (g.dtype == SJ_FLOAT64)
        kernel_of<double>(g.kind)<<<blocks, threads, 0, st>>>(g, (double *)out, (const double *)in,
                                                              state, (const double *)point);
    else
        kernel_of<float>(g.kind)<<<blocks, threads, 0, st>>>(g, (float *)out, (const float *)in,
                                                             state, (const float *)point);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) {
        sj__kernel_fail("operator kernel: CUDA launch failed: %s", cudaGetErrorString(e));
        return 1;
    }
    return 0;
}

/* A class direction (SJ__GOPC_*): its plan's launches, in order. */
int run(int what, const sj_op_info_t *info, void *out, const void *in)
{
    sj__gop_t g[2];
    const int n = sj__gop_plan(what, info, g);
    if (n == 0)
        return 1;
    for (int i = 0; i < n; i++)
        if (launch(g[i], out, in, info->state, info->point))
            return 1;
    return 0;
}

int cublas_failed(cublasStatus_t st, const char *what)
{
    if (st == CUBLAS_STATUS_SUCCESS)
        return 0;
    sj__kernel_fail("operator dense: %s failed (cuBLAS status %d)", what, (int)st);
    return 1;
}

/* y = op(M) x on k columns, as library_classes.c's dense_apply with CBLAS. */
int dense(const sj_op_info_t *info, void *out, const void *in, int adjoint)
{
    sj__gop_dense_t d;
    if (sj__gop_dense_plan(info, adjoint, &d))
        return 1;
    cublasHandle_t h = (cublasHandle_t)sj_cublas_handle();
    if (!h) {
        sj__kernel_fail("operator dense: no cuBLAS handle on this CUDA worker");
        return 1;
    }
    /* alpha and beta are read from host memory when the call is made: no wait */
    if (cublas_failed(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode"))
        return 1;
    const cublasOperation_t tr = adjoint ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (info->dtype == SJ_FLOAT64) {
        const double one = 1.0, zero = 0.0;
        const double *M = (const double *)info->state, *x = (const double *)in;
        double *y = (double *)out;
        if (d.gemv)
            return cublas_failed(
                cublasDgemv(h, tr, d.rows, d.cols, &one, M, d.rows, x, 1, &zero, y, 1),
                "cublasDgemv");
        return cublas_failed(cublasDgemm(h, tr, CUBLAS_OP_N, d.m_out, d.k, d.m_in, &one, M, d.rows,
                                         x, d.m_in, &zero, y, d.m_out),
                             "cublasDgemm");
    }
    const float one = 1.0f, zero = 0.0f;
    const float *M = (const float *)info->state, *x = (const float *)in;
    float *y = (float *)out;
    if (d.gemv)
        return cublas_failed(cublasSgemv(h, tr, d.rows, d.cols, &one, M, d.rows, x, 1, &zero, y, 1),
                             "cublasSgemv");
    return cublas_failed(cublasSgemm(h, tr, CUBLAS_OP_N, d.m_out, d.k, d.m_in, &one, M, d.rows, x,
                                     d.m_in, &zero, y, d.m_out),
                         "cublasSgemm");
}

const char *dir_name(int dir)
{
    return dir == SJ__OPDIR_FORWARD ? "forward" : dir == SJ__OPDIR_ADJOINT ? "adjoint" : "jacobian";
}

} /* namespace */

/* ---- the wrapper (SJ__K_OP on a CUDA worker) ---------------------------------------------- */

extern "C" void sj__cuda_op(void *buffers[], void *cl_arg)
{
    const sj__opargs_t *a = (const sj__opargs_t *)cl_arg;
    sj_op_info_t info = a->info;
    info.params = info.params_size ? (const void *)(a + 1) : NULL;
    int next = 2;
    info.state = a->has_state ? dev_ptr(buffers[next++]) : NULL;
    info.point = a->has_point ? dev_ptr(buffers[next++]) : NULL;
    void *out = dev_ptr(buffers[0]);
    const void *in = dev_ptr(buffers[1]);
    const int64_t n = dev_n(buffers[0]);
    if (!a->fn_cuda) { /* the registry makes a CUDA variant only for classes with one */
        sj__kernel_fail("operator %s: no CUDA function for the %s direction", a->name,
                        dir_name(a->dir));
        return;
    }
    int rc;
    if (a->beta == 0.0) { /* alpha t computed in place: the bits of alpha * t[i] */
        rc = a->fn_cuda(&info, out, in);
        if (rc == 0 && a->alpha != 1.0)
            rc = launch(sj__gop_axpby(info.dtype, n, a->alpha, 0.0), out, out, NULL, NULL);
    } else {
        const size_t bytes = (size_t)n * sj_dtype_size((sj_dtype_t)info.dtype);
        /* the worker's scratch area (cuda_private.h): its tasks use it in stream order */
        void *tmp = sj_cuda::scratch(bytes);
        if (!tmp) {
            sj__kernel_fail("operator %s: cannot allocate %zu bytes of device scratch", a->name,
                            bytes);
            return;
        }
        rc = a->fn_cuda(&info, tmp, in);
        if (rc == 0)
            rc = launch(sj__gop_axpby(info.dtype, n, a->alpha, a->beta), out, tmp, NULL, NULL);
    }
    if (rc != 0)
        sj__kernel_fail("operator %s (%s, block (%d,%d), CUDA) returned %d", a->name,
                        dir_name(a->dir), a->info.block_row, a->info.block_col, rc);
}

/* ---- the library's CUDA classes ------------------------------------------------------------ */

#define SJ__OPCUDA_RUN(name, what)                                                                 \
    extern "C" int sj__opcuda_##name(const sj_op_info_t *info, void *out, const void *in)          \
    {                                                                                              \
        return run(what, info, out, in);                                                           \
    }

SJ__OPCUDA_RUN(copy_fwd, SJ__GOPC_COPY_FWD)
SJ__OPCUDA_RUN(copy_adj, SJ__GOPC_COPY_ADJ)
SJ__OPCUDA_RUN(zero_fwd, SJ__GOPC_ZERO_FWD)
SJ__OPCUDA_RUN(zero_adj, SJ__GOPC_ZERO_ADJ)
SJ__OPCUDA_RUN(diagonal, SJ__GOPC_DIAGONAL)
SJ__OPCUDA_RUN(scaling, SJ__GOPC_SCALING)
SJ__OPCUDA_RUN(difference_fwd, SJ__GOPC_DIFFERENCE_FWD)
SJ__OPCUDA_RUN(difference_adj, SJ__GOPC_DIFFERENCE_ADJ)
SJ__OPCUDA_RUN(derivative_fwd, SJ__GOPC_DERIVATIVE_FWD)
SJ__OPCUDA_RUN(derivative_adj, SJ__GOPC_DERIVATIVE_ADJ)
SJ__OPCUDA_RUN(sum_dim_fwd, SJ__GOPC_SUM_DIM_FWD)
SJ__OPCUDA_RUN(sum_dim_adj, SJ__GOPC_SUM_DIM_ADJ)
SJ__OPCUDA_RUN(taper, SJ__GOPC_TAPER)
SJ__OPCUDA_RUN(restriction_fwd, SJ__GOPC_RESTRICTION_FWD)
SJ__OPCUDA_RUN(restriction_adj, SJ__GOPC_RESTRICTION_ADJ)
SJ__OPCUDA_RUN(pad_fwd, SJ__GOPC_PAD_FWD)
SJ__OPCUDA_RUN(pad_adj, SJ__GOPC_PAD_ADJ)
SJ__OPCUDA_RUN(truncate_fwd, SJ__GOPC_TRUNCATE_FWD)
SJ__OPCUDA_RUN(truncate_adj, SJ__GOPC_TRUNCATE_ADJ)
SJ__OPCUDA_RUN(circshift_fwd, SJ__GOPC_CIRCSHIFT_FWD)
SJ__OPCUDA_RUN(circshift_adj, SJ__GOPC_CIRCSHIFT_ADJ)
SJ__OPCUDA_RUN(shift_fwd, SJ__GOPC_SHIFT_FWD)
SJ__OPCUDA_RUN(exp_fwd, SJ__GOPC_EXP_FWD)
SJ__OPCUDA_RUN(exp_jac, SJ__GOPC_EXP_JAC)
SJ__OPCUDA_RUN(log_fwd, SJ__GOPC_LOG_FWD)
SJ__OPCUDA_RUN(log_jac, SJ__GOPC_LOG_JAC)
SJ__OPCUDA_RUN(tanh_fwd, SJ__GOPC_TANH_FWD)
SJ__OPCUDA_RUN(tanh_jac, SJ__GOPC_TANH_JAC)
SJ__OPCUDA_RUN(sigmoid_fwd, SJ__GOPC_SIGMOID_FWD)
SJ__OPCUDA_RUN(sigmoid_jac, SJ__GOPC_SIGMOID_JAC)
SJ__OPCUDA_RUN(power_fwd, SJ__GOPC_POWER_FWD)
SJ__OPCUDA_RUN(power_jac, SJ__GOPC_POWER_JAC)
SJ__OPCUDA_RUN(clamp_fwd, SJ__GOPC_CLAMP_FWD)
SJ__OPCUDA_RUN(clamp_jac, SJ__GOPC_CLAMP_JAC)

extern "C" int sj__opcuda_dense_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    return dense(info, out, in, 0);
}

extern "C" int sj__opcuda_dense_adj(const sj_op_info_t *info, void *out, const void *in)
{
    return dense(info, out, in, 1);
}
