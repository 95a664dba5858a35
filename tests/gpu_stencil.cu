/*
 * The CUDA functions of tests/test_gpu.c's stencil (one thread per cell of
 * the box) and block kernel (one per element), on the stream starjets gives
 * the task, never waited for here.
 */
#include <cuda_runtime.h>

#include <starjets/cuda.h>

#include "gpu_stencil.h"

namespace
{

/* What the kernel needs of sj_stencil_info_t (which stays in host memory). */
struct box {
    int64_t lo[3], n[3], in_stride[3], out_stride[3];
    int nd;
};

template <typename T> __device__ T cell(const T *x, int64_t c, const int64_t s[3], int nd);
template <> __device__ double cell(const double *x, int64_t c, const int64_t s[3], int nd)
{
    return heat_cell_d(x, c, s, nd);
}
template <> __device__ float cell(const float *x, int64_t c, const int64_t s[3], int nd)
{
    return heat_cell_f(x, c, s, nd);
}

template <typename T> __global__ void k_heat(box b, T *out, const T *in)
{
    const int64_t cells = b.n[0] * b.n[1] * b.n[2];
    for (int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; t < cells;
         t += (int64_t)gridDim.x * blockDim.x) {
        const int64_t i = b.lo[0] + t % b.n[0], j = b.lo[1] + (t / b.n[0]) % b.n[1],
                      k = b.lo[2] + t / (b.n[0] * b.n[1]);
        const int64_t c = i * b.in_stride[0] + j * b.in_stride[1] + k * b.in_stride[2];
        out[i * b.out_stride[0] + j * b.out_stride[1] + k * b.out_stride[2]] =
            cell(in, c, b.in_stride, b.nd);
    }
}

} /* namespace */

extern "C" int gpu_heat_cuda(const sj_stencil_info_t *info, void *out, const void *in, void *ctx)
{
    (void)ctx;
    box b;
    for (int d = 0; d < 3; d++) {
        b.lo[d] = info->lo[d];
        b.n[d] = info->hi[d] - info->lo[d];
        b.in_stride[d] = info->in_stride[d];
        b.out_stride[d] = info->out_stride[d];
    }
    b.nd = info->blk.ndims;
    const int64_t cells = b.n[0] * b.n[1] * b.n[2];
    if (cells == 0)
        return 0;
    const unsigned grid = (unsigned)((cells + 255) / 256 < 65535 ? (cells + 255) / 256 : 65535);
    cudaStream_t s = (cudaStream_t)sj_cuda_stream();
    if (info->blk.dtype == SJ_FLOAT64)
        k_heat<double><<<grid, 256, 0, s>>>(b, (double *)out, (const double *)in);
    else
        k_heat<float><<<grid, 256, 0, s>>>(b, (float *)out, (const float *)in);
    return cudaGetLastError() == cudaSuccess ? 0 : 1;
}

template <typename T> __device__ void elem(int64_t i, T *out, const T *a, const T *b);
template <> __device__ void elem(int64_t i, double *out, const double *a, const double *b)
{
    map_elem_d(i, out, a, b);
}
template <> __device__ void elem(int64_t i, float *out, const float *a, const float *b)
{
    map_elem_f(i, out, a, b);
}

template <typename T> __global__ void k_map(int64_t n, T *out, const T *a, const T *b)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        elem(i, out, a, b);
}

extern "C" int gpu_map_cuda(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)ctx;
    const int64_t n = blk->nelems;
    const unsigned grid = (unsigned)((n + 255) / 256 < 65535 ? (n + 255) / 256 : 65535);
    cudaStream_t s = (cudaStream_t)sj_cuda_stream();
    if (blk->dtype == SJ_FLOAT64)
        k_map<double>
            <<<grid, 256, 0, s>>>(n, (double *)out, (const double *)in[0], (const double *)in[1]);
    else
        k_map<float>
            <<<grid, 256, 0, s>>>(n, (float *)out, (const float *)in[0], (const float *)in[1]);
    return cudaGetLastError() == cudaSuccess ? 0 : 1;
}

extern "C" int gpu_test_devices(void)
{
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}
