/* State of the runtime layer, shared by its files only. */
#ifndef SJ_RT_PRIVATE_H
#define SJ_RT_PRIVATE_H

#include <mpi.h>
#include <pthread.h>
#include <starpu.h>

#include "runtime/rt.h"

struct sj__rt {
    int running;
    int rank, nranks;
    int thread_multiple;
    int we_initialized_mpi;
    int synchronous;
    int verbose; /* sj_init_options_t.verbose */
    MPI_Comm comm;
    char placement[200];
    /* confine StarPU-MPI's thread to this rank's cores once it runs */
    int pin_mpi;
    /* StarPU-MPI's thread runs CPU worker 0 (driver mode) */
    int mpi_driver;
    /* sj_init_options_t.max_tasks_in_flight, and the thread it applies to */
    int max_in_flight;
    pthread_t app_thread;
    int64_t tasks_submitted, submission_waits, handles;
    /* an sj_spmd_run function runs on this rank (workers paused): see SJ__RT_NOT_IN_RUN */
    int in_run;
    /* sj_pause(): the workers run no task until sj_resume() */
    int paused;
};

extern struct sj__rt sj__rt;

/*
 * The cores (a cpu_set_t) of this rank's CPU workers when they are pinned to
 * fewer cores than the process may use, NULL otherwise: where the thread
 * that serves a farm stays (sj__farm_confine).
 */
const void *sj__rt_worker_cpus(void);

/*
 * Confine the calling thread to the cores of @p cpus (a cpu_set_t) it may
 * use already. Returns 1, with its former mask in @p old (a cpu_set_t), when
 * the mask changed; 0 when it would not (no such core, or no narrower) or
 * cannot (not Linux).
 */
int sj__rt_confine_thread(const void *cpus, void *old);

static inline starpu_data_handle_t sj__h(sj__data_t d)
{
    return (starpu_data_handle_t)(void *)d;
}

static inline sj__data_t sj__d(starpu_data_handle_t h)
{
    return (sj__data_t)(void *)h;
}

/* Wait for a non-blocking MPI request, spinning briefly and then sleeping
 * between tests (data.c); SJ_ERUNTIME naming @p what on failure. */
int sj__rt_wait_quietly(MPI_Request *req, const char *what);

/*
 * Inside an SPMD run only the context's ranks run the function and StarPU's
 * workers are paused: a call that submits tasks, waits for them or exchanges
 * messages with every rank would hang. The runtime's entry points for those
 * refuse with SJ_ESTATE instead.
 */
int sj__rt_refuse_in_run(void);
#define SJ__RT_NOT_IN_RUN()                                                                        \
    do {                                                                                           \
        if (sj__rt.in_run || sj__rt.paused)                                                        \
            return sj__rt_refuse_in_run();                                                         \
    } while (0)

/* Unregister the pooled local handles (sj_finalize, before StarPU stops). */
void sj__rt_pool_drain(void);
/* Unregister a handle whose memory sj__rt_data_register_alloc made and give that memory back
 * (at once, or once its tasks are done); 0 when @p h is not such a handle (mem.c). */
int sj__rt_mem_unregister(starpu_data_handle_t h);
/* StarPU's own host allocations go over its memory limit instead of waiting (sj_init). */
void sj__rt_mem_start(void);
/* "memory: 72 MiB used of StarPU's limit of 64 MiB, ..." for the watchdog's report; it starts
 * with "OUT OF MEMORY: " when the rank is at its limit or the node nearly out of memory. */
void sj__rt_mem_report(char *buf, size_t size);
int sj__rt_mem_unregister_submit(starpu_data_handle_t h);

/* ---- BLAS kernels (blas_check.c) ---- */

/* The core type OpenBLAS chose (openblas_get_corename), NULL when another BLAS is linked. */
const char *sj__rt_blas_core(void);
/*
 * 1 and a sentence in @p line when OpenBLAS picked kernels narrower than the
 * CPU can run and the user did not choose them (OPENBLAS_CORETYPE); else 0.
 */
int sj__rt_blas_advice(char *line, size_t size);

/* ---- the kernel registry (registry.c) ---- */

/* Make the codelets of the fixed kernels (sj_init, before any submission). */
void sj__registry_init(void);
/* Free the variants' codelets (after StarPU stopped and saved their models). */
void sj__registry_fini(void);
/* The StarPU codelet of a kernel. */
struct starpu_codelet *sj__codelet(sj__kernel_t kernel);
/* cuBLAS handles of the CUDA workers (cuda.c): after StarPU starts, before it stops. */
void sj__rt_cuda_start(void);
void sj__rt_cuda_stop(void);
/* Run a kernel's body on this thread on StarPU interfaces (sj__rt_run_here). */
void sj__registry_run(sj__kernel_t kernel, void *buffers[], int nbuffers, const void *args);
/* Count a task of @p kernel submitted to run on this rank (for the watchdog's report). */
void sj__registry_submitted(sj__kernel_t kernel);
/* "sj_map_slow: 1 running, 2 waiting; ...": this rank's unfinished tasks per codelet. */
void sj__registry_in_flight(char *buf, size_t size);

/* ---- collective-call checking and the watchdog (check.c) ---- */

/* Start / stop them (sj_init, sj_finalize): checking mode, watchdog seconds (0: none). */
void sj__check_start(int collectives, double watchdog);
void sj__check_stop(void);
/* Number this rank's collective call of @p func and, in checking mode, compare it
 * across ranks (aborts the job on a difference). */
void sj__rt_collective_called(const char *func);
/* A blocking wait of the application thread begins / ends (no-op without watchdog). */
void sj__wd_enter(const char *what);
void sj__wd_leave(void);
/* Something moved: a task finished, a wait began or ended. */
void sj__wd_progress(void);

/* Traces and the light profile (trace.c), in the order sj_init and sj_finalize
 * call them. */
int sj__trace_supported(void);
/* Checks opts->trace_dir for public function @p func. */
int sj__trace_check_options(const char *dir, const char *func);
/* Sets StarPU's FxT variables; before starpu_mpi_init_conf. Never fails: a
 * trace that cannot be written is a warning, the run goes on. */
void sj__trace_before_start(const char *dir, int profile);
void sj__trace_after_start(void);
/* The callback every task starjets submits carries (NULL when not profiling). */
void (*sj__trace_callback(void))(void *);
/* Counts the current task in the profile; for tasks with a callback of their own. */
void sj__trace_task_done(void);
/* Reads the profiling counters; before starpu_mpi_shutdown. */
void sj__trace_before_shutdown(void);
/* Prints the profiles and merges the trace; after starpu_mpi_shutdown. */
void sj__trace_after_shutdown(void);
/* Gives back the environment sj__trace_before_start changed. */
void sj__trace_env_restore(void);

#endif /* SJ_RT_PRIVATE_H */
