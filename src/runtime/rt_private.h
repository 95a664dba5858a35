/* State of the runtime layer, shared by its files only. */
#ifndef SJ_RT_PRIVATE_H
#define SJ_RT_PRIVATE_H

#include <mpi.h>
#include <starpu.h>

#include "runtime/rt.h"

struct sj__rt {
    int running;
    int rank, nranks;
    int thread_multiple;
    int we_initialized_mpi;
    int synchronous;
    MPI_Comm comm;
    char placement[160];
    /* OS cpu numbers to confine StarPU-MPI's thread to after start (0: leave it) */
    int mpi_thread_cpu[64];
    int mpi_thread_cpus;
};

extern struct sj__rt sj__rt;

static inline starpu_data_handle_t sj__h(sj__data_t d)
{
    return (starpu_data_handle_t)(void *)d;
}

static inline sj__data_t sj__d(starpu_data_handle_t h)
{
    return (sj__data_t)(void *)h;
}

/* The StarPU codelet of a kernel (codelets/codelets.c). */
struct starpu_codelet *sj__codelet(sj__kernel_t kernel);
/* Free the operator codelets (after StarPU stopped and saved their models). */
void sj__codelets_fini(void);

#endif /* SJ_RT_PRIVATE_H */
