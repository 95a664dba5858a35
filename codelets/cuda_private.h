/*
 * What the CUDA kernel files (cuda_kernels.cu, halo_cuda.cu) share: the
 * buffers' device copies, the worker's stream, launch sizes, a per-worker
 * device scratch area. CUDA C++ only (nvcc); no kernel body here.
 *
 * Device copies: a StarPU vector, or a block interface for the blocks of
 * arrays wrapped around a host array with leading dimensions. StarPU
 * allocates device copies of blocks compact (ldy = nx, ldz = nx * ny), but
 * the kernels that take strides read them from the interface all the same,
 * as the CPU kernels do (codelets_private.h, sj__view_of).
 */
#ifndef SJ_CODELETS_CUDA_PRIVATE_H
#define SJ_CODELETS_CUDA_PRIVATE_H

#include <stdint.h>

#include <Random123/philox.h> /* C++ templates in C++: before gpu_kernels.h's extern "C" */
#include <cuda_runtime.h>
#include <starpu.h>

extern "C" {
#include "codelets/codelets.h"
#include "codelets/gpu_kernels.h"
}

namespace sj_cuda
{

const int THREADS = 256;

inline int is_block(const void *iface)
{
    return *(const enum starpu_data_interface_id *)iface == STARPU_BLOCK_INTERFACE_ID;
}

inline void *dev_ptr(void *iface)
{
    return is_block(iface) ? (void *)STARPU_BLOCK_GET_PTR(iface)
                           : (void *)STARPU_VECTOR_GET_PTR(iface);
}

/* Elements of a buffer (a block's device copy is compact: all of them in a row). */
inline int64_t dev_n(void *iface)
{
    if (is_block(iface))
        return (int64_t)STARPU_BLOCK_GET_NX(iface) * STARPU_BLOCK_GET_NY(iface) *
               STARPU_BLOCK_GET_NZ(iface);
    return (int64_t)STARPU_VECTOR_GET_NX(iface);
}

/*
 * Column and plane lengths (sj__view_t's ld) of a buffer: a block's own, else
 * those of a compact buffer of shape @p shape.
 */
inline void dev_ld(void *iface, const int64_t shape[3], int64_t ld[2])
{
    if (is_block(iface)) {
        const struct starpu_block_interface *b = (const struct starpu_block_interface *)iface;
        ld[0] = b->ldy;
        ld[1] = b->ldz / b->ldy;
    } else {
        ld[0] = shape[0];
        ld[1] = shape[1];
    }
}

/* Element strides of a buffer: a block's own, else @p given (as halo_kernels.c's buf_strides). */
inline void dev_strides(void *iface, const int64_t given[3], int64_t s[3])
{
    if (is_block(iface)) {
        const struct starpu_block_interface *b = (const struct starpu_block_interface *)iface;
        s[0] = 1;
        s[1] = b->ldy;
        s[2] = b->ldz;
    } else {
        for (int d = 0; d < 3; d++)
            s[d] = given[d];
    }
}

inline cudaStream_t stream(void)
{
    return starpu_cuda_get_local_stream();
}

/* Blocks of THREADS threads for n independent items (grid-stride loops cover the rest). */
inline unsigned grid_for(int64_t n)
{
    int64_t b = (n + THREADS - 1) / THREADS;
    return (unsigned)(b < 1 ? 1 : b > 65535 ? 65535 : b);
}

/* Report a failed launch as the task's failure (codelets.h). */
inline void check_launch(const char *what)
{
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        sj__kernel_fail("%s: CUDA launch failed: %s", what, cudaGetErrorString(e));
}

/*
 * At least @p bytes of device memory for the running CUDA worker, kept for
 * its next tasks (lane values, the block map of a reduction, the padded
 * copy of a stencil part); NULL when it cannot be had. The tasks of a worker
 * run in order on its stream, so one area per worker is never used by two
 * of them at once (cuda_kernels.cu).
 */
void *scratch(size_t bytes);

} /* namespace sj_cuda */

#define GRID_STRIDE(i, n)                                                                          \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)gridDim.x * blockDim.x)

#endif /* SJ_CODELETS_CUDA_PRIVATE_H */
