/*
 * The stencil of tests/test_gpu.c, one cell at a time, compiled for its CPU
 * function (test_gpu.c) and for its CUDA kernel (gpu_stencil.cu): the same
 * expressions, so the same bits on both (nvcc runs with --fmad=false). And
 * the same for its block kernel (sj_array_map_kernel).
 */
#ifndef SJ_TEST_GPU_STENCIL_H
#define SJ_TEST_GPU_STENCIL_H

#include <stdint.h>

#include <starjets/stencil.h>

#ifdef __CUDACC__
#define GPU_TEST_FN __host__ __device__ static inline
#else
#define GPU_TEST_FN static inline
#endif

/* Width 1 along each of the nd dimensions; s[] the strides of x. */
#define GPU_TEST_HEAT(T, S)                                                                        \
    GPU_TEST_FN T heat_cell_##S(const T *x, int64_t c, const int64_t s[3], int nd)                 \
    {                                                                                              \
        T v = (T)0.5 * x[c];                                                                       \
        for (int d = 0; d < nd; d++)                                                               \
            v = v + (T)0.1875 * x[c - s[d]] - (T)0.0625 * x[c + s[d]] / (T)(d + 1);                \
        return v;                                                                                  \
    }

GPU_TEST_HEAT(double, d)
GPU_TEST_HEAT(float, f)

/* The block kernel of test_gpu.c's map: out = out * in[0] + 0.75 * in[1]. */
#define GPU_TEST_MAP(T, S)                                                                         \
    GPU_TEST_FN void map_elem_##S(int64_t i, T *out, const T *a, const T *b)                       \
    {                                                                                              \
        out[i] = out[i] * a[i] + (T)0.75 * b[i];                                                   \
    }

GPU_TEST_MAP(double, d)
GPU_TEST_MAP(float, f)

#ifdef __cplusplus
extern "C" {
#endif
/* The CUDA version of test_gpu.c's stencil function (gpu_stencil.cu). */
int gpu_heat_cuda(const sj_stencil_info_t *info, void *out, const void *in, void *ctx);
/* The CUDA version of test_gpu.c's block kernel (gpu_stencil.cu). */
int gpu_map_cuda(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx);
/* CUDA devices this process sees (0 when the driver or the device is missing). */
int gpu_test_devices(void);
#ifdef __cplusplus
}
#endif

#endif /* SJ_TEST_GPU_STENCIL_H */
