/*
 * The CUDA bodies of starjets' kernels (kernels/ids.h), as the runtime's
 * registry sees them: same signature as the CPU bodies, on the buffers'
 * device copies. Each launches its kernels on the worker's stream and
 * returns; StarPU waits for the stream (the codelets are STARPU_CUDA_ASYNC).
 * The per-thread work is in gpu_kernels.h, shared with the host emulation
 * of tests/test_gpu_kernels.c.
 *
 * Buffers: a StarPU vector, or a block interface for the blocks of arrays
 * wrapped around a host array with leading dimensions; device copies of
 * those are compact (StarPU allocates them with ldy = nx, ldz = nx * ny),
 * so both are contiguous here.
 */
#include <stdint.h>

#include <cuda_runtime.h>
#include <starpu.h>

extern "C" {
#include "codelets/codelets.h"
#include "codelets/gpu_kernels.h"
#include "kernels/array.h"
#include "kernels/dtype.h"
#include "kernels/ids.h"
}

namespace
{

const int THREADS = 256;

/* ---- buffers ----------------------------------------------------------------- */

int is_block(const void *iface)
{
    return *(const enum starpu_data_interface_id *)iface == STARPU_BLOCK_INTERFACE_ID;
}

void *dev_ptr(void *iface)
{
    return is_block(iface) ? (void *)STARPU_BLOCK_GET_PTR(iface)
                           : (void *)STARPU_VECTOR_GET_PTR(iface);
}

int64_t dev_n(void *iface)
{
    if (is_block(iface))
        return (int64_t)STARPU_BLOCK_GET_NX(iface) * STARPU_BLOCK_GET_NY(iface) *
               STARPU_BLOCK_GET_NZ(iface);
    return (int64_t)STARPU_VECTOR_GET_NX(iface);
}

cudaStream_t stream(void)
{
    return starpu_cuda_get_local_stream();
}

/* Blocks of THREADS threads for n independent items (grid-stride loops cover the rest). */
unsigned grid_for(int64_t n)
{
    int64_t b = (n + THREADS - 1) / THREADS;
    return (unsigned)(b < 1 ? 1 : b > 65535 ? 65535 : b);
}

/* Report a failed launch as the task's failure (codelets.h). */
void check_launch(const char *what)
{
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        sj__kernel_fail("%s: CUDA launch failed: %s", what, cudaGetErrorString(e));
}

#define GRID_STRIDE(i, n)                                                                          \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)gridDim.x * blockDim.x)

/* ---- array algebra -------------------------------------------------------------- */

template <typename T> struct sfx;

__global__ void k_fill_d(int64_t n, double *x, double v)
{
    GRID_STRIDE(i, n) sj__g_fill_d(i, x, v);
}
__global__ void k_fill_f(int64_t n, float *x, float v)
{
    GRID_STRIDE(i, n) sj__g_fill_f(i, x, v);
}
__global__ void k_scale_d(int64_t n, double *x, double s)
{
    GRID_STRIDE(i, n) sj__g_scale_d(i, x, s);
}
__global__ void k_scale_f(int64_t n, float *x, float s)
{
    GRID_STRIDE(i, n) sj__g_scale_f(i, x, s);
}
__global__ void k_axpby_d(int64_t n, double *y, const double *x, double a, double b)
{
    GRID_STRIDE(i, n) sj__g_axpby_d(i, y, x, a, b);
}
__global__ void k_axpby_f(int64_t n, float *y, const float *x, float a, float b)
{
    GRID_STRIDE(i, n) sj__g_axpby_f(i, y, x, a, b);
}

void cuda_fill(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    if (a->dtype == SJ_FLOAT64)
        k_fill_d<<<grid_for(n), THREADS, 0, stream()>>>(n, (double *)dev_ptr(buffers[0]), a->a);
    else
        k_fill_f<<<grid_for(n), THREADS, 0, stream()>>>(n, (float *)dev_ptr(buffers[0]),
                                                        (float)a->a);
    check_launch("sj_fill");
}

void cuda_scale(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    if (a->dtype == SJ_FLOAT64)
        k_scale_d<<<grid_for(n), THREADS, 0, stream()>>>(n, (double *)dev_ptr(buffers[0]), a->a);
    else
        k_scale_f<<<grid_for(n), THREADS, 0, stream()>>>(n, (float *)dev_ptr(buffers[0]),
                                                         (float)a->a);
    check_launch("sj_scale");
}

void cuda_axpby(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    if (a->dtype == SJ_FLOAT64)
        k_axpby_d<<<grid_for(n), THREADS, 0, stream()>>>(
            n, (double *)dev_ptr(buffers[0]), (const double *)dev_ptr(buffers[1]), a->a, a->b);
    else
        k_axpby_f<<<grid_for(n), THREADS, 0, stream()>>>(n, (float *)dev_ptr(buffers[0]),
                                                         (const float *)dev_ptr(buffers[1]),
                                                         (float)a->a, (float)a->b);
    check_launch("sj_axpby");
}

/* ---- reductions: lanes into device scratch, then the tree in one block ------------ */

__global__ void k_lanes_d(int op, const double *x, const double *y, int64_t m, int64_t L, double *v)
{
    GRID_STRIDE(l, L) v[l] = sj__g_lane_d(op, x, y, m, L, l);
}
__global__ void k_lanes_f(int op, const float *x, const float *y, int64_t m, int64_t L, double *v)
{
    GRID_STRIDE(l, L) v[l] = sj__g_lane_f(op, x, y, m, L, l);
}

/* The pairwise tree over v[0..L) by one block, level by level; the result into *out. */
__global__ void k_tree(int op, double *v, int64_t L, double *out)
{
    for (int64_t s = 1; s < L; s *= 2) {
        const int64_t pairs = sj__g_tree_pairs(L, s);
        for (int64_t p = threadIdx.x; p < pairs; p += blockDim.x)
            sj__g_tree_pair(op, v, s, p);
        __syncthreads();
    }
    if (threadIdx.x == 0)
        *out = v[0];
}

/*
 * Per-lane values need L doubles of device memory per running task: a
 * scratch area per CUDA worker, grown on demand (cudaMallocAsync would order
 * it on the stream, but StarPU 1.3's workers keep device memory themselves).
 */
double *lane_scratch(int64_t L)
{
    static double *scratch[STARPU_NMAXWORKERS];
    static int64_t size[STARPU_NMAXWORKERS];
    const int w = starpu_worker_get_id();
    if (w < 0)
        return NULL;
    if (size[w] < L) {
        if (scratch[w])
            cudaFree(scratch[w]); /* synchronises the device: only while growing */
        scratch[w] = NULL;
        size[w] = 0;
        if (cudaMalloc((void **)&scratch[w], (size_t)SJ__LANES_MAX * sizeof(double)) != cudaSuccess)
            return NULL;
        size[w] = SJ__LANES_MAX;
    }
    return scratch[w];
}

void cuda_partial(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    double *out = (double *)dev_ptr(buffers[0]);
    const int64_t m = dev_n(buffers[1]), L = sj__lanes(m);
    const void *x = dev_ptr(buffers[1]);
    const void *y = a->op == SJ_REDUCE_DOT ? dev_ptr(buffers[2]) : x;
    double *v = lane_scratch(L);
    if (!v) {
        sj__kernel_fail("sj_reduce_block: cannot allocate %lld doubles on the device",
                        (long long)SJ__LANES_MAX);
        return;
    }
    if (a->dtype == SJ_FLOAT64)
        k_lanes_d<<<grid_for(L), THREADS, 0, stream()>>>(a->op, (const double *)x,
                                                         (const double *)y, m, L, v);
    else
        k_lanes_f<<<grid_for(L), THREADS, 0, stream()>>>(a->op, (const float *)x, (const float *)y,
                                                         m, L, v);
    k_tree<<<1, 1024, 0, stream()>>>(a->op, v, L, out);
    check_launch("sj_reduce_block");
}

} /* namespace */

/* ---- the table the registry reads -------------------------------------------------- */

extern "C" sj__cpu_fn_t sj__cuda_body(int kernel)
{
    switch (kernel) {
    case SJ__K_FILL:
        return cuda_fill;
    case SJ__K_SCALE:
        return cuda_scale;
    case SJ__K_AXPBY:
        return cuda_axpby;
    case SJ__K_PARTIAL:
        return cuda_partial;
    case SJ__K_MAP:
        return sj__cuda_map;
    case SJ__K_OP:
        return sj__cuda_op;
    default:
        return NULL;
    }
}
