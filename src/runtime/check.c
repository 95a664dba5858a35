/*
 * Collective-call checking and the hang watchdog (docs/reliability.md).
 *
 * Every collective (and logically collective) public function starts with
 * sj__rt_check_collective(func): that is where a rank's collective calls are
 * numbered and, when the checking mode is on, compared across ranks. Each
 * rank sends rank 0 a record (the call's number, the function, its key
 * arguments where the function gives them, and the program's line that made
 * the call, as a symbol and offset); rank 0 compares and answers each rank
 * with its own record and the first one that differs. A difference is
 * printed by every rank (one sentence naming both calls and where they were
 * made), then the job is aborted. At MPI_THREAD_MULTIPLE the records travel
 * by MPI on the check's own duplicate of the communicator; below it, as
 * StarPU-MPI messages under a reserved tag (only StarPU-MPI's thread may call
 * MPI there).
 *
 * The watchdog is a thread per rank: each blocking wait of the runtime is
 * wrapped in sj__wd_enter / sj__wd_leave, and finished tasks, finished waits
 * and collective calls count as progress (sj__wd_progress). Twice a second,
 * at MPI_THREAD_MULTIPLE, the watchdog threads of all ranks add up their
 * progress and how many ranks wait (one allreduce on their own duplicate of
 * the communicator), so that a rank waiting for another that computes sees
 * that progress, and every rank takes the same decision in the same round:
 * when some rank waits and no rank has made progress for the watchdog's
 * time, every rank prints what it was doing (the wait, or its own code; the
 * last collective call; its unfinished tasks per codelet), waits a second
 * for the others to print, and the job is aborted. Below MULTIPLE (only
 * StarPU-MPI's thread may call MPI) each rank judges from its own progress.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <starpu_mpi.h>

#include "base/base.h"
#include "kernels/clock.h"
#include "runtime/rt_private.h"

/* Beside SJ__TAG_COLL (coll.c): above every tag the allocator books. */
#define SJ__TAG_CHECK (((int64_t)1 << 62) + 1)

typedef struct record {
    uint64_t seq;   /* this rank's collective calls so far, this one included */
    char func[40];  /* the public function */
    char key[56];   /* its key arguments, "" when it gives none */
    char site[120]; /* where the program called it: symbol+offset (file) */
} record_t;

/* What rank 0 answers each rank. */
typedef struct verdict {
    int32_t differs; /* rank of the first record that differs from rank 0's, or -1 */
    int32_t pad;
    record_t root;  /* rank 0's record */
    record_t other; /* the record of rank `differs` */
} verdict_t;

static struct {
    int collectives; /* checking mode on */
    MPI_Comm comm;   /* its own duplicate, at MPI_THREAD_MULTIPLE */
    double watchdog; /* seconds, 0: off */
    uint64_t seq;
    record_t last; /* this rank's last collective call (also when not checking) */
    char key[56];  /* key arguments of the call being checked */
    /* watchdog */
    pthread_t thread;
    int thread_on;
    MPI_Comm wd_comm;     /* its heartbeat's own duplicate, at MPI_THREAD_MULTIPLE */
    pthread_mutex_t lock; /* around `last`, which the watchdog reads */
    atomic_int stop;
    atomic_uint_fast64_t progress;
    atomic_int waiting;          /* blocking waits the application thread is in */
    const char *_Atomic what[8]; /* their names, innermost last */
} ck = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- where the program made the call ------------------------------------------ */

/* A frame of starjets' own: of this library, or of another libstarjets* (the
 * Fortran module's, whose wrappers call this one). */
static int ours(const Dl_info *info, const Dl_info *self)
{
    if (info->dli_fbase == self->dli_fbase)
        return 1;
    const char *file = info->dli_fname;
    if (!file)
        return 0;
    const char *base = strrchr(file, '/');
    return strncmp(base ? base + 1 : file, "libstarjets", 11) == 0;
}

/* The first frame of the call stack outside starjets' libraries, as "symbol+0xoff (file)". */
static void call_site(char *out, size_t size)
{
    void *frames[24];
    int n = backtrace(frames, 24);
    Dl_info self;
    snprintf(out, size, "(unknown)");
    if (!dladdr((void *)call_site, &self))
        return;
    for (int i = 1; i < n; i++) {
        Dl_info info;
        if (!dladdr(frames[i], &info) || ours(&info, &self))
            continue;
        const char *file = info.dli_fname ? info.dli_fname : "?";
        /* a return address: the call is the instruction before it */
        uintptr_t at = (uintptr_t)frames[i] - 1;
        if (info.dli_sname)
            snprintf(out, size, "%s+0x%lx (%s)", info.dli_sname,
                     (unsigned long)(at - (uintptr_t)info.dli_saddr), file);
        else
            snprintf(out, size, "0x%lx (%s)", (unsigned long)(at - (uintptr_t)info.dli_fbase),
                     file);
        return;
    }
}

/* ---- the exchange of records --------------------------------------------------- */

static void exchanged(void *arg)
{
    atomic_store((atomic_int *)arg, 1);
}

/* One message of @p size bytes to or from @p peer: a detached StarPU-MPI request
 * whose callback raises a flag that this thread polls, sleeping in between. */
static int exchange(void *buf, size_t size, int peer, int send)
{
    starpu_data_handle_t h;
    starpu_vector_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)buf, (uint32_t)size, 1);
    atomic_int done = 0;
    int ret =
        send ? starpu_mpi_isend_detached(h, peer, SJ__TAG_CHECK, sj__rt.comm, exchanged, &done)
             : starpu_mpi_irecv_detached(h, peer, SJ__TAG_CHECK, sj__rt.comm, exchanged, &done);
    long pause_ns = 20000;
    while (ret == 0 && !atomic_load(&done)) {
        nanosleep(&(struct timespec){0, pause_ns}, NULL);
        if (pause_ns < 1000000)
            pause_ns *= 2;
    }
    starpu_data_unregister(h);
    return ret;
}

static void describe(const record_t *r, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s%s (collective call #%llu%s%s)", r->func, r->key[0] ? "(" : "",
             r->key, r->key[0] ? ")" : "", (unsigned long long)r->seq, r->site[0] ? ", from " : "",
             r->site);
}

static int same(const record_t *a, const record_t *b)
{
    return a->seq == b->seq && strcmp(a->func, b->func) == 0 && strcmp(a->key, b->key) == 0;
}

/*
 * At MPI_THREAD_MULTIPLE: a gather of the records to rank 0 and a broadcast of
 * its verdict on the check's own communicator, waited on quietly (coll.c's
 * way): microseconds, where StarPU-MPI's round trips through its progress
 * thread take a hundred or more.
 */
static int check_direct(const record_t *mine, verdict_t *v)
{
    const int me = sj__rt.rank, np = sj__rt.nranks;
    record_t *all = me == 0 ? malloc((size_t)np * sizeof *all) : NULL;
    if (me == 0 && !all)
        return -1;
    MPI_Request req;
    int rc = MPI_Igather(mine, (int)sizeof *mine, MPI_BYTE, all, (int)sizeof *mine, MPI_BYTE, 0,
                         ck.comm, &req) != MPI_SUCCESS ||
             sj__rt_wait_quietly(&req, "the collective-call check (records to rank 0)") < 0;
    if (!rc && me == 0) {
        v->root = all[0];
        for (int r = 1; r < np && v->differs < 0; r++)
            if (!same(&all[0], &all[r])) {
                v->differs = r;
                v->other = all[r];
            }
    }
    free(all);
    if (!rc)
        rc = MPI_Ibcast(v, (int)sizeof *v, MPI_BYTE, 0, ck.comm, &req) != MPI_SUCCESS ||
             sj__rt_wait_quietly(&req, "the collective-call check (rank 0's verdict)") < 0;
    return rc ? -1 : 0;
}

/*
 * End the job after a report. MPI_Abort may be called only by a thread that
 * may call MPI: at MPI_THREAD_MULTIPLE any thread; below it only StarPU-MPI's
 * own thread, which may be inside an MPI call at this very moment (and the
 * watchdog's thread never may). There this process ends itself with the same
 * status, and mpirun, seeing a process exit without MPI_Finalize, ends the
 * job (a batch system may need its kill-on-bad-exit option; docs/reliability.md).
 */
static void end_job(int code)
{
    if (sj__rt.thread_multiple)
        MPI_Abort(sj__rt.comm, code);
    _exit(code);
}

/* How the report says the job ends. */
static const char *how_it_ends(void)
{
    return sj__rt.thread_multiple ? ""
                                  : "; below MPI_THREAD_MULTIPLE this process exits instead of "
                                    "calling MPI_Abort";
}

/* Compare this call with every rank's; on a difference, say so and abort the job. */
static void check_call(const record_t *mine)
{
    const int me = sj__rt.rank, np = sj__rt.nranks;
    verdict_t v = {.differs = -1};
    int rc = 0;
    sj__wd_enter("the collective-call check (records to rank 0, its verdict back)");
    if (ck.comm != MPI_COMM_NULL) {
        rc = check_direct(mine, &v);
    } else if (me == 0) {
        v.root = *mine;
        for (int r = 1; r < np && rc == 0; r++) {
            record_t other;
            rc = exchange(&other, sizeof other, r, 0);
            if (rc == 0 && v.differs < 0 && !same(mine, &other)) {
                v.differs = r;
                v.other = other;
            }
        }
        for (int r = 1; r < np && rc == 0; r++)
            rc = exchange(&v, sizeof v, r, 1);
    } else {
        rc = exchange((void *)mine, sizeof *mine, 0, 1);
        if (rc == 0)
            rc = exchange(&v, sizeof v, 0, 0);
    }
    sj__wd_leave();
    if (rc != 0) { /* the other ranks would wait for this one's part: end the job */
        fprintf(stderr,
                "starjets: rank %d: the collective-call check of %s could not exchange its "
                "records (%s); aborting (SJ_CHECK_COLLECTIVES%s)\n",
                me, mine->func, ck.comm != MPI_COMM_NULL ? "MPI" : "StarPU-MPI", how_it_ends());
        fflush(stderr);
        end_job(3);
    }
    if (v.differs < 0)
        return;
    char a[320], b[320];
    const record_t *theirs = same(mine, &v.root) ? &v.other : &v.root;
    const int them = same(mine, &v.root) ? v.differs : 0;
    describe(mine, a, sizeof a);
    describe(theirs, b, sizeof b);
    fprintf(stderr,
            "starjets: rank %d: collective calls differ across ranks: this rank called %s, rank "
            "%d called %s; aborting (SJ_CHECK_COLLECTIVES%s)\n",
            me, a, them, b, how_it_ends());
    fflush(stderr);
    sleep(1); /* let every rank print its sentence */
    end_job(3);
}

int sj__rt_check_collective_key(const char *func, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ck.key, sizeof ck.key, fmt, ap);
    va_end(ap);
    int rc = sj__rt_check_collective(func);
    ck.key[0] = '\0';
    return rc;
}

void sj__rt_collective_called(const char *func)
{
    record_t r = {.seq = ++ck.seq};
    snprintf(r.func, sizeof r.func, "%s", func);
    snprintf(r.key, sizeof r.key, "%s", ck.key);
    sj__wd_progress();
    const int checking = ck.collectives && sj__rt.nranks > 1;
    if (checking)
        call_site(r.site, sizeof r.site);
    pthread_mutex_lock(&ck.lock);
    ck.last = r;
    pthread_mutex_unlock(&ck.lock);
    if (checking)
        check_call(&r);
}

void sj__rt_collective_noted(const char *func)
{
    if (sj__rt.running && !sj__rt.in_run && !sj__rt.paused)
        sj__rt_collective_called(func);
}

/* ---- the watchdog ------------------------------------------------------------ */

void sj__wd_progress(void)
{
    atomic_fetch_add_explicit(&ck.progress, 1, memory_order_relaxed);
}

void sj__wd_enter(const char *what)
{
    if (!ck.thread_on)
        return;
    const int depth = atomic_fetch_add(&ck.waiting, 1);
    if (depth < 8)
        ck.what[depth] = what;
}

void sj__wd_leave(void)
{
    if (!ck.thread_on)
        return;
    atomic_fetch_sub(&ck.waiting, 1);
    sj__wd_progress();
}

/* All ranks (shared) or this one saw no progress for @p stalled seconds: say what this rank
 * was doing, give the others a second to say it too, abort the job. */
static void report_and_abort(double stalled, int shared)
{
    char tasks[1024];
    sj__registry_in_flight(tasks, sizeof tasks);
    char last[320] = "none yet";
    pthread_mutex_lock(&ck.lock);
    if (ck.last.seq)
        describe(&ck.last, last, sizeof last);
    pthread_mutex_unlock(&ck.lock);
    const int depth = atomic_load(&ck.waiting);
    const char *what = depth > 0 ? ck.what[(depth < 8 ? depth : 8) - 1] : NULL;
    char mem[320];
    sj__rt_mem_report(mem, sizeof mem);
    char doing[400];
    const int held = sj__rt_data_held();
    if (what)
        snprintf(doing, sizeof doing, "waiting in %s", what);
    else if (held > 0)
        snprintf(doing, sizeof doing,
                 "not in a starjets wait (in the program's own code) and holds %d block(s) it "
                 "acquired (sj_array_acquire, sj_array_localpart_get: tasks that write them, "
                 "here or on other ranks, wait for the release)",
                 held);
    else
        snprintf(doing, sizeof doing, "not in a starjets wait (in the program's own code)");
    fprintf(stderr,
            "starjets: rank %d: watchdog: no progress %s for %.0f s; this rank is %s; last "
            "collective call: %s; tasks on this rank: %u submitted and not finished, %u ready; "
            "%s; %s; aborting (SJ_WATCHDOG=%g%s)\n",
            sj__rt.rank, shared ? "on any rank" : "on this rank", stalled, doing, last,
            starpu_task_nsubmitted(), starpu_task_nready(), tasks, mem, ck.watchdog, how_it_ends());
    fflush(stderr);
    sleep(1); /* the other ranks' reports */
    end_job(4);
}

/* Wait for the heartbeat's allreduce, testing every 2 ms (this thread has time). */
static int heartbeat_wait(MPI_Request *req)
{
    for (;;) {
        int done = 0;
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (done)
            return 0;
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
}

/*
 * Every half second: at MPI_THREAD_MULTIPLE, the watchdog threads of all
 * ranks add up their ranks' progress, their stop requests and how many ranks
 * wait (one small allreduce on the watchdog's own communicator), so that a
 * rank that waits while another computes sees the other's progress, and all
 * ranks decide in the same round; below it (only StarPU-MPI's thread may call
 * MPI) each rank judges from its own progress alone.
 */
static void *watchdog_main(void *arg)
{
    (void)arg;
    const int shared = ck.wd_comm != MPI_COMM_NULL;
    const int need = (int)ceil(ck.watchdog / 0.5);
    uint64_t seen = UINT64_MAX;
    int still = 0;
    for (;;) {
        nanosleep(&(struct timespec){0, 500000000L}, NULL);
        /* progress, ranks that asked to stop, ranks waiting */
        uint64_t v[3] = {atomic_load(&ck.progress), (uint64_t)atomic_load(&ck.stop),
                         (uint64_t)(atomic_load(&ck.waiting) > 0)};
        if (shared) {
            uint64_t sum[3];
            MPI_Request req;
            if (MPI_Iallreduce(v, sum, 3, MPI_UINT64_T, MPI_SUM, ck.wd_comm, &req) != MPI_SUCCESS ||
                heartbeat_wait(&req) != 0)
                break;
            memcpy(v, sum, sizeof v);
            if (v[1] == (uint64_t)sj__rt.nranks) /* every rank is in sj_finalize */
                break;
        } else if (v[1]) {
            break;
        }
        if (v[0] != seen || v[2] == 0) { /* something moved, or nobody waits */
            seen = v[0];
            still = 0;
            continue;
        }
        if (++still >= need)
            report_and_abort(0.5 * still, shared);
    }
    return NULL;
}

void sj__check_start(int collectives, double watchdog)
{
    ck.collectives = collectives;
    ck.watchdog = watchdog;
    ck.seq = 0;
    ck.last = (record_t){0};
    atomic_store(&ck.stop, 0);
    ck.comm = ck.wd_comm = MPI_COMM_NULL;
    /* sj_init agreed on the options: every rank makes the same calls here */
    if (collectives && sj__rt.thread_multiple && MPI_Comm_dup(sj__rt.comm, &ck.comm) != MPI_SUCCESS)
        ck.comm = MPI_COMM_NULL; /* StarPU-MPI's messages then */
    if (watchdog > 0 && sj__rt.thread_multiple && sj__rt.nranks > 1 &&
        MPI_Comm_dup(sj__rt.comm, &ck.wd_comm) != MPI_SUCCESS)
        ck.wd_comm = MPI_COMM_NULL;
    atomic_store(&ck.waiting, 0);
    ck.thread_on = 0;
    if (watchdog > 0) {
        int started = pthread_create(&ck.thread, NULL, watchdog_main, NULL) == 0, all = started;
        if (ck.wd_comm != MPI_COMM_NULL) /* a rank without its thread would stall the others' */
            MPI_Allreduce(&started, &all, 1, MPI_INT, MPI_MIN, sj__rt.comm);
        if (started && !all) {
            atomic_store(&ck.stop, 1);
            pthread_join(ck.thread, NULL);
            started = 0;
        }
        ck.thread_on = started;
        if (!started && sj__rt.rank == 0)
            fprintf(stderr, "starjets: cannot start the watchdog threads: no watchdog\n");
    }
}

void sj__check_stop(void)
{
    if (ck.thread_on) { /* it ends once every rank's asked (sj_finalize is collective) */
        atomic_store(&ck.stop, 1);
        pthread_join(ck.thread, NULL);
        ck.thread_on = 0;
    }
    if (ck.comm != MPI_COMM_NULL)
        MPI_Comm_free(&ck.comm);
    if (ck.wd_comm != MPI_COMM_NULL)
        MPI_Comm_free(&ck.wd_comm);
    ck.collectives = 0;
}
