/*
 * The CUDA side of the runtime: cuBLAS handles of the CUDA workers (one per
 * worker, bound to its stream, made at sj_init and given back at
 * sj_finalize), and the stream and handle a task's CUDA code asks for.
 * Without SJ_USE_CUDA, the same functions answer that there is no GPU.
 */
#include <starjets/config.h>
#include <starjets/cuda.h>

#include <starpu.h>

#include "runtime/rt_private.h"

#if SJ_USE_CUDA
#include <starpu_cublas_v2.h>

static int cublas_on;

void sj__rt_cuda_start(void)
{
    if (starpu_cuda_worker_get_count() > 0) {
        starpu_cublas_init();
        cublas_on = 1;
    }
}

void sj__rt_cuda_stop(void)
{
    if (cublas_on)
        starpu_cublas_shutdown();
    cublas_on = 0;
}

void *sj_cuda_stream(void)
{
    const int w = starpu_worker_get_id();
    if (w < 0 || starpu_worker_get_type(w) != STARPU_CUDA_WORKER)
        return NULL;
    return (void *)starpu_cuda_get_local_stream();
}

void *sj_cublas_handle(void)
{
    if (!cublas_on || !sj_cuda_stream())
        return NULL;
    return (void *)starpu_cublas_get_local_handle();
}

int sj_ncuda_workers(void)
{
    return sj__rt_running() ? (int)starpu_cuda_worker_get_count() : 0;
}
#else
void sj__rt_cuda_start(void) {}

void sj__rt_cuda_stop(void) {}

void *sj_cuda_stream(void)
{
    return NULL;
}

void *sj_cublas_handle(void)
{
    return NULL;
}

int sj_ncuda_workers(void)
{
    return 0;
}
#endif
