/**
 * @file starjets/cuda.h
 * @brief What CUDA code running inside a starjets task needs: the worker's
 * stream and cuBLAS handle.
 *
 * starjets runs a task on a CUDA worker when its kernel has a CUDA version
 * (every built-in kernel in a build with SJ_USE_CUDA, and user leaf operators
 * whose class gives `forward_cuda` / `adjoint_cuda` / `jacobian_cuda`). Such
 * a function receives device pointers and must launch its work on the
 * worker's stream, asynchronously: no cudaDeviceSynchronize, no
 * cudaStreamSynchronize, no default stream. StarPU synchronises the stream
 * after the task (docs/gpu.md).
 *
 * @defgroup cuda CUDA
 * @{
 */
#ifndef STARJETS_CUDA_H
#define STARJETS_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The CUDA stream of the calling CUDA worker (a `cudaStream_t` as
 * `void *`). Local.
 * @return the stream inside a task running on a CUDA worker; NULL elsewhere
 *         and in a build without CUDA
 */
void *sj_cuda_stream(void);

/**
 * @brief The cuBLAS handle of the calling CUDA worker (a `cublasHandle_t` as
 * `void *`), bound to sj_cuda_stream(). Local.
 * @return the handle inside a task running on a CUDA worker; NULL elsewhere
 *         and in a build without CUDA
 */
void *sj_cublas_handle(void);

/**
 * @brief CUDA workers (devices) starjets runs on this rank: 0 until sj_init()
 * and in a build without CUDA. Local.
 */
int sj_ncuda_workers(void);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_CUDA_H */
