/*
 * Data handles, transfers, task submission, task errors and the few direct MPI
 * collectives used by latency-bound steps.
 */
#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <starpu_mpi.h>

#include "base/base.h"
#include "kernels/clock.h"
#include "runtime/rt_private.h"

/* ---- data ---------------------------------------------------------------- */

int sj__rt_data_register(sj__data_t *data, int owner, int64_t tag, void *ptr, size_t n,
                         size_t elemsize)
{
    starpu_data_handle_t h;
    if (owner == sj__rt.rank && ptr)
        starpu_vector_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)ptr, (uint32_t)n, elemsize);
    else
        starpu_vector_data_register(&h, -1, 0, (uint32_t)n, elemsize);
    starpu_mpi_data_register_comm(h, tag, owner, sj__rt.comm);
    sj__rt.handles++;
    *data = sj__d(h);
    return SJ_OK;
}

int sj__rt_data_register_view(sj__data_t *data, int owner, int64_t tag, void *ptr,
                              const int64_t dims[3], const int64_t ld[2], size_t elemsize)
{
    const int64_t n = dims[0] * dims[1] * dims[2];
    const int strided =
        (dims[1] * dims[2] > 1 && ld[0] != dims[0]) || (dims[2] > 1 && ld[1] != dims[1]);
    if (owner != sj__rt.rank || !strided)
        return sj__rt_data_register(data, owner, tag, owner == sj__rt.rank ? ptr : NULL, (size_t)n,
                                    elemsize);
    starpu_data_handle_t h;
    starpu_block_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)ptr, (uint32_t)ld[0],
                               (uint32_t)(ld[0] * ld[1]), (uint32_t)dims[0], (uint32_t)dims[1],
                               (uint32_t)dims[2], elemsize);
    starpu_mpi_data_register_comm(h, tag, owner, sj__rt.comm);
    sj__rt.handles++;
    *data = sj__d(h);
    return SJ_OK;
}

/*
 * Local one-double handles that StarPU allocates (graph scalars, per-block
 * results) come from a pool: registering and unregistering a handle with
 * StarPU-MPI costs more than the tasks that use it. A handle given back while
 * tasks still read it is safe to hand out again: its next user writes it
 * first, and StarPU orders that write after those reads. The pool is a FIFO,
 * so a handle comes back as late as possible (fewer such orderings).
 */
#define POOL_MAX 64
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static starpu_data_handle_t pool[POOL_MAX];
static int pool_head, pool_count;
static char pooled; /* its address marks a handle that may go to the pool */

/* A pool handle's user data is the marker above, not memory of mem.c's: never
 * hand it to mem.c, which reads its own records there. */
static int is_pooled(starpu_data_handle_t h)
{
    return starpu_data_get_user_data(h) == &pooled;
}

static int pool_take(starpu_data_handle_t *h)
{
    pthread_mutex_lock(&pool_lock);
    int got = pool_count > 0;
    if (got) {
        *h = pool[pool_head];
        pool_head = (pool_head + 1) % POOL_MAX;
        pool_count--;
    }
    pthread_mutex_unlock(&pool_lock);
    return got;
}

static int pool_give(starpu_data_handle_t h)
{
    if (!is_pooled(h))
        return 0;
    pthread_mutex_lock(&pool_lock);
    int kept = pool_count < POOL_MAX;
    if (kept)
        pool[(pool_head + pool_count++) % POOL_MAX] = h;
    pthread_mutex_unlock(&pool_lock);
    return kept;
}

void sj__rt_pool_drain(void)
{
    starpu_data_handle_t h;
    while (pool_take(&h))
        starpu_data_unregister(h);
    pool_head = 0;
}

int sj__rt_data_register_local(sj__data_t *data, void *ptr, size_t n, size_t elemsize)
{
    starpu_data_handle_t h;
    const int poolable = !ptr && n == 1 && elemsize == sizeof(double);
    if (poolable && pool_take(&h)) {
        sj__rt.handles++;
        *data = sj__d(h);
        return SJ_OK;
    }
    if (ptr)
        starpu_vector_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)ptr, (uint32_t)n, elemsize);
    else
        starpu_vector_data_register(&h, -1, 0, (uint32_t)n, elemsize);
    /* Owned here, no tag: StarPU-MPI knows where it lives but never matches it. */
    starpu_mpi_data_register_comm(h, -1, sj__rt.rank, sj__rt.comm);
    if (poolable)
        starpu_data_set_user_data(h, &pooled);
    sj__rt.handles++;
    *data = sj__d(h);
    return SJ_OK;
}

void sj__rt_data_unregister(sj__data_t data)
{
    starpu_data_handle_t h = sj__h(data);
    sj__rt.handles--;
    if (is_pooled(h) || !sj__rt_mem_unregister(h))
        starpu_data_unregister(h);
}

void sj__rt_data_unregister_submit(sj__data_t data)
{
    starpu_data_handle_t h = sj__h(data);
    sj__rt.handles--;
    if (pool_give(h))
        return;
    if (is_pooled(h) || !sj__rt_mem_unregister_submit(h))
        starpu_data_unregister_submit(h);
}

void sj__rt_data_flush(sj__data_t data)
{
    starpu_mpi_cache_flush(sj__rt.comm, sj__h(data));
}

int sj__rt_data_owner(sj__data_t data)
{
    return starpu_mpi_data_get_rank(sj__h(data));
}

static enum starpu_data_access_mode access_mode(sj__mode_t m)
{
    return m == SJ__R ? STARPU_R : m == SJ__W ? STARPU_W : STARPU_RW;
}

/* Acquires not yet released: tasks submitted since on those blocks wait for the program. */
static atomic_int held;

void *sj__rt_data_acquire(sj__data_t data, sj__mode_t mode)
{
    starpu_data_handle_t h = sj__h(data);
    sj__wd_enter("a block's data (acquire: the tasks that write it, or its message)");
    int ret = starpu_data_acquire(h, access_mode(mode));
    sj__wd_leave();
    if (ret != 0)
        return NULL;
    atomic_fetch_add(&held, 1);
    return (void *)starpu_data_get_local_ptr(h);
}

void sj__rt_data_release(sj__data_t data)
{
    atomic_fetch_sub(&held, 1);
    starpu_data_release(sj__h(data));
}

int sj__rt_data_held(void)
{
    return atomic_load(&held);
}

/* ---- transfers ------------------------------------------------------------ */

/* Set when StarPU-MPI may have messages of ours in flight since the last wait. */
static int mpi_traffic;

void sj__rt_send_detached(sj__data_t data, int dest, int64_t tag)
{
    mpi_traffic = 1;
    starpu_mpi_isend_detached(sj__h(data), dest, tag, sj__rt.comm, NULL, NULL);
}

void sj__rt_recv_detached(sj__data_t data, int src, int64_t tag)
{
    mpi_traffic = 1;
    starpu_mpi_irecv_detached(sj__h(data), src, tag, sj__rt.comm, NULL, NULL);
}

/* ---- tasks ---------------------------------------------------------------- */

/*
 * sj_init_options_t.max_tasks_in_flight: before a submission that would pass
 * the bound, wait until a quarter of the tasks in flight have run. Only on the
 * thread that called sj_init: a farm's serving thread or a callback must never
 * wait for tasks. This cannot deadlock: every rank submits in program order,
 * and a task only waits for tasks (here or elsewhere) submitted before it.
 */
static void throttle(void)
{
    const int max = sj__rt.max_in_flight;
    if (max <= 0 || starpu_task_nsubmitted() < max ||
        !pthread_equal(pthread_self(), sj__rt.app_thread))
        return;
    sj__rt.submission_waits++;
    starpu_task_wait_for_n_submitted((unsigned)(max - max / 4));
}

int sj__rt_submit(sj__kernel_t kernel, const void *args, size_t argsize, int nbufs,
                  const sj__buf_t *bufs)
{
    SJ__RT_NOT_IN_RUN();
    assert(nbufs >= 1 && nbufs <= SJ__RT_MAX_BUFS);
    const int me = sj__rt.rank;
    const int exec = sj__rt_data_owner(bufs[0].data);
    int involved = exec == me, remote = 0, replicated = 0;
    for (int i = 1; i < nbufs; i++) {
        /* An input without a tag is replicated (every rank holds its own copy,
         * as of a graph scalar): read where the task runs, never sent. */
        if (starpu_mpi_data_get_tag(sj__h(bufs[i].data)) < 0) {
            replicated = 1;
            continue;
        }
        int o = sj__rt_data_owner(bufs[i].data);
        involved |= o == me;
        remote |= o != exec;
    }
    /* A rank that neither runs the task nor owns one of its inputs has nothing to do. */
    if (!involved)
        return SJ_OK;

    throttle();
    sj__rt.tasks_submitted++;
    struct starpu_data_descr descr[SJ__RT_MAX_BUFS];
    int ndescr = 0;
    for (int i = 0; i < nbufs; i++) {
        /* a rank that only sends inputs leaves its replicated copies out */
        if (exec != me && replicated && starpu_mpi_data_get_tag(sj__h(bufs[i].data)) < 0)
            continue;
        descr[ndescr].handle = sj__h(bufs[i].data);
        descr[ndescr++].mode = access_mode(bufs[i].mode);
    }
    /* Only the rank that runs the task needs its arguments (StarPU frees them). */
    void *copy = NULL;
    if (exec == me) {
        copy = malloc(argsize);
        if (!copy)
            return sj__error(SJ_ENOMEM, "starjets", "cannot allocate task arguments");
        memcpy(copy, args, argsize);
    }
    struct starpu_codelet *cl = sj__codelet(kernel);
    int ret;
    if (!remote) {
        /* All data live on the executing rank (this one): no StarPU-MPI needed. */
        ret = starpu_task_insert(cl, STARPU_DATA_MODE_ARRAY, descr, ndescr, STARPU_CL_ARGS, copy,
                                 argsize, STARPU_CALLBACK, sj__trace_callback(), 0);
    } else {
        mpi_traffic = 1;
        ret = starpu_mpi_task_insert(sj__rt.comm, cl, STARPU_DATA_MODE_ARRAY, descr, ndescr,
                                     STARPU_CL_ARGS, copy, copy ? argsize : 0, STARPU_CALLBACK,
                                     sj__trace_callback(), 0);
    }
    if (ret != 0)
        return sj__error(SJ_ERUNTIME, "starjets", "task submission failed (%d)", ret);
    if (exec == me)
        sj__registry_submitted(kernel);
    if (sj__rt.synchronous)
        starpu_task_wait_for_all();
    return SJ_OK;
}

int sj__rt_run_here(sj__kernel_t kernel, const void *args, void *out, size_t out_n,
                    size_t out_elemsize, int nin, const sj__data_t in[])
{
    SJ__RT_NOT_IN_RUN();
    assert(nin >= 0 && nin < SJ__RT_MAX_BUFS);
    struct starpu_vector_interface result = {
        .id = STARPU_VECTOR_INTERFACE_ID,
        .ptr = (uintptr_t)out,
        .nx = (uint32_t)out_n,
        .elemsize = out_elemsize,
        .allocsize = out_n * out_elemsize,
    };
    void *ifaces[SJ__RT_MAX_BUFS] = {&result};
    int acquired = 0, rc = SJ_OK;
    for (; acquired < nin; acquired++) {
        starpu_data_handle_t h = sj__h(in[acquired]);
        assert(starpu_mpi_data_get_rank(h) == sj__rt.rank);
        sj__wd_enter("a block to reduce (acquire: the tasks that write it)");
        int ret = starpu_data_acquire(h, STARPU_R);
        sj__wd_leave();
        if (ret != 0) {
            rc = sj__error(SJ_ERUNTIME, "starjets", "cannot acquire a block to reduce it");
            break;
        }
        ifaces[1 + acquired] = starpu_data_get_interface_on_node(h, STARPU_MAIN_RAM);
    }
    if (rc == SJ_OK)
        sj__registry_run(kernel, ifaces, 1 + nin, args);
    while (acquired > 0)
        starpu_data_release(sj__h(in[--acquired]));
    return rc;
}

/* ---- quiet waits -------------------------------------------------------------- */

/*
 * Wait for a non-blocking MPI operation without spinning for long. Open MPI's
 * blocking calls poll the network without a pause. A rank waiting in a
 * barrier while its own or a neighbour's worker still computes on the same
 * core would take half of that core, and could lose whole scheduler ticks
 * against StarPU's spinning idle workers. So poll for SPIN_SECONDS (a quick
 * collective costs nothing more), then sleep between polls: a sixteenth of the
 * time waited so far, from 5 us to 1 ms. A long wait then costs its rank a
 * few polls per millisecond, not the twenty thousand a second of short sleeps
 * (each one takes the core from a worker that computes, all the more where
 * workers are niced: sj_init_options_t.worker_nice), and notices the end at
 * most 1/16 of its length late.
 */
#define SPIN_SECONDS 3e-5
#define SLEEP_MIN 5e-6
#define SLEEP_MAX 1e-3

/*
 * Linux rounds a thread's sleeps up by its timer slack, 50 us by default: a 5
 * us pause took about 90 us (measured), so every wait that got past the spin
 * ended 0.1 ms late. While a wait sleeps, the calling thread's slack is 1 us;
 * the program's own value comes back when the wait ends.
 */
static long slack_shorten(void)
{
#ifdef PR_GET_TIMERSLACK
    const int old = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    if (old > 1000)
        prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    return old;
#else
    return -1;
#endif
}

static void slack_restore(long old)
{
#ifdef PR_SET_TIMERSLACK
    if (old > 1000)
        prctl(PR_SET_TIMERSLACK, (unsigned long)old, 0, 0, 0);
#else
    (void)old;
#endif
}

static int wait_quietly(MPI_Request *req, const char *what)
{
    const double t0 = sj__now();
    long slack = 0; /* 0: not changed yet */
    int rc = SJ_OK;
    for (;;) {
        int done = 0;
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
            rc = sj__error(SJ_ERUNTIME, "starjets", "%s failed", what);
            break;
        }
        if (done)
            break;
        const double waited = sj__now() - t0;
        if (waited < SPIN_SECONDS)
            continue;
        if (slack == 0)
            slack = slack_shorten();
        const double pause = waited / 16 < SLEEP_MIN   ? SLEEP_MIN
                             : waited / 16 > SLEEP_MAX ? SLEEP_MAX
                                                       : waited / 16;
        struct timespec ts = {0, (long)(pause * 1e9)};
        nanosleep(&ts, NULL);
    }
    if (slack != 0)
        slack_restore(slack);
    return rc;
}

int sj__rt_wait_quietly(MPI_Request *req, const char *what)
{
    sj__wd_enter(what);
    int rc = wait_quietly(req, what);
    sj__wd_leave();
    return rc;
}

static int quiet_barrier(const char *func)
{
    MPI_Request req;
    if (MPI_Ibarrier(sj__rt.comm, &req) != MPI_SUCCESS)
        return sj__error(SJ_ERUNTIME, func, "MPI_Ibarrier failed");
    return sj__named(sj__rt_wait_quietly(&req, "MPI_Ibarrier"), func);
}

/*
 * Without StarPU-MPI traffic since the last wait, a local wait and a plain MPI
 * barrier say the same as starpu_mpi_wait_for_all, for microseconds instead of
 * a round through StarPU-MPI's progress thread. A rank with traffic takes the
 * full path; its peers have traffic too, and both paths end in MPI_Barrier on
 * the same communicator.
 */
int sj__rt_wait_all(void)
{
    SJ__RT_NOT_IN_RUN();
    int failed = 0;
    sj__wd_enter("a wait for every task and message (sj_wait or a call that drains the graph)");
    if (sj__rt.thread_multiple && !mpi_traffic) {
        starpu_task_wait_for_all();
        /* blocking, as the barrier that ends starpu_mpi_wait_for_all on ranks
         * with traffic: a blocking and a non-blocking barrier never match */
        failed = MPI_Barrier(sj__rt.comm) != MPI_SUCCESS;
    } else {
        failed = starpu_mpi_wait_for_all(sj__rt.comm) != 0;
    }
    sj__wd_leave();
    if (failed)
        return sj__error(SJ_ERUNTIME, "sj_wait", "%s failed",
                         sj__rt.thread_multiple ? "MPI_Barrier" : "starpu_mpi_wait_for_all");
    mpi_traffic = 0;
    sj__tag_recycle();
    return SJ_OK;
}

/* ---- task errors ---------------------------------------------------------- */

static pthread_mutex_t task_error_lock = PTHREAD_MUTEX_INITIALIZER;
static int task_errors;
static char task_error_msg[256];

void sj__rt_task_error(const char *fmt, ...)
{
    pthread_mutex_lock(&task_error_lock);
    if (task_errors++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(task_error_msg, sizeof task_error_msg, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&task_error_lock);
}

int sj__rt_task_errors_take(sj__task_errors_t *e)
{
    SJ__RT_NOT_IN_RUN(); /* before the count is taken: a refused check loses no failure */
    pthread_mutex_lock(&task_error_lock);
    e->local = task_errors;
    task_errors = 0;
    snprintf(e->msg, sizeof e->msg, "%s", task_error_msg);
    pthread_mutex_unlock(&task_error_lock);
    return SJ_OK;
}

void sj__rt_task_errors_putback(const sj__task_errors_t *e)
{
    if (e->local == 0)
        return;
    pthread_mutex_lock(&task_error_lock);
    if (task_errors == 0)
        snprintf(task_error_msg, sizeof task_error_msg, "%s", e->msg);
    task_errors += e->local;
    pthread_mutex_unlock(&task_error_lock);
}

int sj__rt_task_errors_verdict(const char *func, const sj__task_errors_t *e, int global)
{
    if (global == 0)
        return SJ_OK;
    if (e->local)
        return sj__error(SJ_EUSER, func, "%d task(s) failed on rank %d; first: %s", e->local,
                         sj__rt.rank, e->msg);
    return sj__error(SJ_EUSER, func, "%d task(s) failed on other ranks", global);
}

int sj__rt_check_task_errors(const char *func)
{
    sj__task_errors_t e;
    SJ_TRY(sj__rt_task_errors_take(&e));
    int global = 0;
    SJ_TRY(sj__rt_sum_int(e.local, &global));
    return sj__rt_task_errors_verdict(func, &e, global);
}

int sj__rt_barrier(void)
{
    SJ__RT_NOT_IN_RUN();
    if (sj__rt.thread_multiple)
        return quiet_barrier("sj_barrier");
    sj__wd_enter("sj_barrier");
    int ret = starpu_mpi_barrier(sj__rt.comm);
    sj__wd_leave();
    if (ret != 0)
        return sj__error(SJ_ERUNTIME, "sj_barrier", "barrier failed");
    return SJ_OK;
}
