/*
 * Start and stop: MPI, placement of StarPU's threads on the node's cores,
 * StarPU and StarPU-MPI; the rank queries; waiting.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <dirent.h>
#include <errno.h>
#include <hwloc.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <sched.h>
#include <starpu.h>
#include <starpu_mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */
#ifdef __linux__
#include <sys/resource.h>
#include <unistd.h>
#endif

#include <starjets/runtime.h>

#include "base/base.h"
#include "runtime/rt_farm.h"
#include "runtime/rt_private.h"

struct sj__rt sj__rt = {.rank = -1, .comm = MPI_COMM_NULL};

/* Defined by a StarPU-MPI built with scripts/starpu-1.3.10-latency.patch. */
extern int starpu_mpi_adaptive_polling __attribute__((weak));
/* Exported by scripts/starpu-1.3.10-comm.patch: StarPU-MPI synchronises on its own communicator. */
extern int starpu_mpi_subcomm_ok __attribute__((weak));

/* Exported by scripts/starpu-1.3.10-driver.patch: StarPU-MPI's driver mode
 * works (not in SimGrid builds, which have no driver mode). */
extern int starpu_mpi_driver_mode_ok __attribute__((weak));

static int adaptive_polling(void)
{
    return &starpu_mpi_adaptive_polling != NULL;
}

static int driver_patch(void)
{
    return &starpu_mpi_driver_mode_ok != NULL;
}

/* Whether StarPU-MPI will run CPU worker 0 on its thread (driver mode), with
 * the environment as it is now and @p ncpus CPU workers asked for. */
static int driver_mode(int ncpus)
{
    const char *freq = getenv("STARPU_MPI_DRIVER_CALL_FREQUENCY");
    return ncpus != 0 && driver_patch() && freq && atoi(freq) > 0;
}

#ifdef __linux__
/* This rank's share of the node's cores (the PUs of its cores), when known. */
static cpu_set_t rank_share;
/* The cores its CPU workers are pinned to, when fewer than the process may use. */
static cpu_set_t worker_cpus;
#endif
static int have_share, have_worker_cpus;
#ifdef __linux__
/* The cores the thread that called sj_init could use before it confined it. */
static cpu_set_t caller_before;
static pthread_t caller_thread;
#endif
static int caller_confined;

const void *sj__rt_worker_cpus(void)
{
#ifdef __linux__
    return have_worker_cpus ? &worker_cpus : NULL;
#else
    return NULL;
#endif
}

int sj__rt_running(void)
{
    return sj__rt.running;
}
int sj__rt_rank(void)
{
    return sj__rt.rank;
}
int sj__rt_nranks(void)
{
    return sj__rt.nranks;
}
int sj__rt_direct_mpi(void)
{
    return sj__rt.thread_multiple;
}
int sj__rt_verbose(void)
{
    return sj__rt.running ? sj__rt.verbose : 0;
}

int sj_initialized(void)
{
    return sj__rt.running;
}
int sj_rank(void)
{
    return sj__rt.running ? sj__rt.rank : -1;
}
int sj_nranks(void)
{
    return sj__rt.running ? sj__rt.nranks : 0;
}
int sj_ncpus(void)
{
    return sj__rt.running ? (int)starpu_cpu_worker_get_count() : 0;
}
int sj_mpi_thread_multiple(void)
{
    return sj__rt.running && sj__rt.thread_multiple;
}

const char *sj_version(int *major, int *minor, int *patch)
{
    if (major)
        *major = SJ_VERSION_MAJOR;
    if (minor)
        *minor = SJ_VERSION_MINOR;
    if (patch)
        *patch = SJ_VERSION_PATCH;
    return SJ_VERSION_STRING;
}

/*
 * The first environment variable sj_init_options_default() could not read:
 * its option gets a value that sj_init() refuses, with a sentence naming the
 * variable (env_note), so that SJ_NCPUS=abc or SJ_CHECK_COLLECTIVES=yes is an
 * error, not a silent default.
 */
#define ENV_BAD_MAX 10
static struct {
    const char *name;
    char value[40];
} env_bad[ENV_BAD_MAX];
static int env_nbad;

static void env_bad_set(const char *name, const char *value)
{
    if (env_nbad == ENV_BAD_MAX)
        return;
    env_bad[env_nbad].name = name;
    snprintf(env_bad[env_nbad].value, sizeof env_bad[env_nbad].value, "%s", value);
    env_nbad++;
}

/* " (the environment variable NAME is 'VALUE')" when @p name could not be read, else "". */
static const char *env_note(const char *name)
{
    static char note[96];
    for (int i = 0; i < env_nbad; i++) {
        if (strcmp(env_bad[i].name, name) == 0) {
            snprintf(note, sizeof note, " (the environment variable %s is '%s')", name,
                     env_bad[i].value);
            return note;
        }
    }
    return "";
}

/* An integer from the environment; @p dflt when unset or empty, @p bad when not a whole number. */
static int env_int_or(const char *name, int dflt, int bad)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end == '\0' && x >= INT_MIN && x <= INT_MAX)
        return (int)x;
    env_bad_set(name, v);
    return bad;
}

static int env_int(const char *name, int dflt)
{
    return env_int_or(name, dflt, dflt);
}

/* A switch from the environment: a whole number (non-zero: on), or no/yes,
 * false/true, off/on in any case; @p bad otherwise. */
static int env_bool(const char *name, int dflt, int bad)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    static const char *const no[] = {"no", "false", "off"}, *const yes[] = {"yes", "true", "on"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        if (strcasecmp(v, no[i]) == 0)
            return 0;
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
    }
    char *end;
    const long x = strtol(v, &end, 10);
    if (*end == '\0')
        return x != 0;
    env_bad_set(name, v);
    return bad;
}

void sj_init_options_default(sj_init_options_t *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    env_nbad = 0;
    /* A value that cannot be read gives its option a value sj_init() refuses. */
    opts->ncpus = env_int_or("SJ_NCPUS", -1, -2);
    opts->ncuda = 0;
    const char *sched = getenv("SJ_SCHED");
    opts->sched = sched && *sched ? sched : NULL;
    opts->placement = SJ_PLACE_SPLIT;
    const char *p = getenv("SJ_PLACEMENT");
    if (p && strcmp(p, "nobind") == 0) {
        opts->placement = SJ_PLACE_SPLIT_NOBIND;
    } else if (p && strcmp(p, "starpu") == 0) {
        opts->placement = SJ_PLACE_STARPU;
    } else if (p && *p && strcmp(p, "split") != 0) {
        env_bad_set("SJ_PLACEMENT", p);
        opts->placement = (sj_placement_t)-1;
    }
    opts->reserve_mpi_core = -1;
    opts->environment_overrides = 1;
    opts->verbose = env_int_or("SJ_VERBOSE", 0, -1);
    const char *trace = getenv("SJ_TRACE");
    opts->trace_dir = trace && *trace ? trace : NULL;
    opts->profile = env_bool("SJ_PROFILE", 0, -1);
    opts->worker_nice = env_int_or("SJ_WORKER_NICE", 0, -1);
    opts->max_tasks_in_flight = env_int_or("SJ_MAX_TASKS_IN_FLIGHT", 1000, -1);
    opts->check_collectives = env_bool("SJ_CHECK_COLLECTIVES", 0, -1);
    const char *wd = getenv("SJ_WATCHDOG");
    opts->watchdog = 0;
    if (wd && *wd) { /* not a number: NAN, which sj_init refuses with a sentence */
        char *end;
        opts->watchdog = strtod(wd, &end);
        if (*end != '\0') {
            env_bad_set("SJ_WATCHDOG", wd);
            opts->watchdog = NAN;
        }
    }
    opts->comm = MPI_COMM_WORLD;
}

/* StarPU reads its settings from the environment: the ones starjets sets (only
 * where the user did not) are removed again at sj_finalize. */
static const char *env_set[8];
static int env_nset;

static void env_default(const char *name, const char *value)
{
    if (getenv(name) || env_nset == (int)(sizeof env_set / sizeof env_set[0]))
        return;
    setenv(name, value, 0);
    env_set[env_nset++] = name;
}

static void env_restore(void)
{
    for (int i = 0; i < env_nset; i++)
        unsetenv(env_set[i]);
    env_nset = 0;
}

/* Logical index (StarPU's bind id) of the first PU of core @p core. */
static int core_first_pu(hwloc_topology_t topo, int core)
{
    hwloc_obj_t c = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)core);
    if (!c)
        return core;
    hwloc_obj_t pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, c->cpuset, HWLOC_OBJ_PU, NULL);
    return pu ? (int)pu->logical_index : core;
}

/*
 * Split the node's cores between the ranks that share it: local rank lr of ls
 * gets cores [lr * C / ls, (lr + 1) * C / ls). Its workers are pinned to them,
 * one core is kept for StarPU-MPI's progress thread when the share is large
 * enough, and with more ranks than cores nothing is pinned.
 */
static void place_threads(const sj_init_options_t *o, struct starpu_conf *conf)
{
    MPI_Comm node;
    int lr = 0, ls = 1;
    if (MPI_Comm_split_type(sj__rt.comm, MPI_COMM_TYPE_SHARED, sj__rt.rank, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_rank(node, &lr);
        MPI_Comm_size(node, &ls);
        MPI_Comm_free(&node);
    }
    hwloc_topology_t topo;
    int ncores = 1;
    int have_topo = hwloc_topology_init(&topo) == 0 && hwloc_topology_load(topo) == 0;
    if (have_topo) {
        ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
        if (ncores <= 0)
            ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
        if (ncores <= 0)
            ncores = 1;
    }

    int oversubscribed = ls > ncores;
    int c0 = oversubscribed ? lr % ncores : (int)((int64_t)lr * ncores / ls);
    int c1 = oversubscribed ? c0 + 1 : (int)((int64_t)(lr + 1) * ncores / ls);
    int share = c1 - c0;
    int reserve = 0;
    if (!oversubscribed)
        reserve = o->reserve_mpi_core < 0 ? share >= 3 : (o->reserve_mpi_core && share >= 2);
    /* share >= 1, and a core is reserved only from a share of 2 */
    int ncpus = o->ncpus >= 0 ? o->ncpus : share - reserve;
    conf->ncpus = ncpus;

    /* Without a core of its own, StarPU-MPI's thread runs CPU worker 0 itself
     * (driver mode, docs/latency.md): one thread polls MPI and runs that
     * worker's tasks in turn, instead of two taking the core from each other.
     * Only with the patched StarPU (a stock 1.3 hangs in this mode), with
     * another rank to talk to, and unless the user set the variable. */
    int nranks = 1;
    MPI_Comm_size(sj__rt.comm, &nranks);
    if (!reserve && ncpus >= 1 && nranks > 1 && driver_patch()) {
        env_default("STARPU_MPI_DRIVER_CALL_FREQUENCY", "1");
        env_default("STARPU_MPI_DRIVER_TASK_FREQUENCY", "4");
    }
    sj__rt.mpi_driver = driver_mode(ncpus);

    int bind = o->placement == SJ_PLACE_SPLIT && !oversubscribed && have_topo;
    char buf[32];
    snprintf(buf, sizeof buf, "%d", have_topo ? core_first_pu(topo, c0) : c0);
    /* An explicit MPI thread cpu keeps StarPU-MPI from reserving a PU of its own. */
    env_default("STARPU_MPI_THREAD_CPUID", buf);
    int confine = 0; /* MPI thread confined to the rank's cores by pin_mpi_thread */
    if (bind) {
        int nw = share - reserve;
        conf->use_explicit_workers_bindid = 1;
        for (int i = 0; i < STARPU_NMAXWORKERS; i++)
            conf->workers_bindid[i] = (unsigned)core_first_pu(topo, c0 + reserve + i % nw);
#ifdef __linux__
        hwloc_obj_t pu = NULL;
        CPU_ZERO(&rank_share);
        for (int c = c0; c < c1; c++) {
            hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)c);
            while (core && (pu = hwloc_get_next_obj_inside_cpuset_by_type(
                                topo, core->cpuset, HWLOC_OBJ_PU, pu)) != NULL)
                if (pu->os_index < CPU_SETSIZE)
                    CPU_SET(pu->os_index, &rank_share);
        }
        have_share = CPU_COUNT(&rank_share) > 0;
#endif
        /* (in driver mode the thread is worker 0, pinned by StarPU) */
        confine = !reserve && !sj__rt.mpi_driver && !getenv("STARPU_MPI_NOBIND");
        sj__rt.pin_mpi = confine;
        if (confine || sj__rt.mpi_driver) {
            /* StarPU would warn when its MPI thread is bound where a worker is:
             * keep it unbound for StarPU, then confine it to this rank's cores
             * ourselves once it runs (pin_mpi_thread), so it never wakes up
             * on a core of another rank; in driver mode it becomes worker 0
             * and StarPU pins it there. */
            env_default("STARPU_MPI_NOBIND", "1");
        }
    } else {
        env_default("STARPU_WORKERS_NOBIND", "1");
        env_default("STARPU_MPI_NOBIND", "1");
    }
    snprintf(sj__rt.placement, sizeof sj__rt.placement,
             "node rank %d/%d, %d cores, share [%d,%d), %d worker(s)%s, MPI thread %s", lr, ls,
             ncores, c0, c1, ncpus, bind ? " pinned" : " unpinned",
             reserve             ? "on its own core"
             : sj__rt.mpi_driver ? "runs worker 0"
             : confine           ? "on the rank's cores"
                                 : "unpinned");
    if (have_topo)
        hwloc_topology_destroy(topo);
}

/*
 * BLAS called inside tasks must not start threads of its own: the workers
 * already fill the cores. OpenBLAS is told so unless the user set
 * OPENBLAS_NUM_THREADS (weak: any other CBLAS leaves these NULL).
 */
extern void openblas_set_num_threads(int) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));
static int blas_threads_before;

static void blas_single_thread(int on)
{
    if (!openblas_set_num_threads || !openblas_get_num_threads || getenv("OPENBLAS_NUM_THREADS"))
        return;
    if (on) {
        blas_threads_before = openblas_get_num_threads();
        openblas_set_num_threads(1);
    } else if (blas_threads_before > 0) {
        openblas_set_num_threads(blas_threads_before);
        blas_threads_before = 0;
    }
}

#ifdef __linux__
/* Call @p fn on each thread of this process whose name starts with @p prefix. */
static void each_thread_named(const char *prefix, void (*fn)(pid_t tid, void *arg), void *arg)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *e;
    const size_t len = strlen(prefix);
    while (dir && (e = readdir(dir)) != NULL) {
        char path[300], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(name, sizeof name, f) && strncmp(name, prefix, len) == 0)
            fn((pid_t)atoi(e->d_name), arg);
        fclose(f);
    }
    if (dir)
        closedir(dir);
}

/* Raise a thread's niceness by *(int *)arg (raising it needs no privilege). */
static void nice_thread(pid_t tid, void *arg)
{
    const int add = *(const int *)arg;
    errno = 0;
    const int now = getpriority(PRIO_PROCESS, (id_t)tid);
    const int want = now + add < 19 ? now + add : 19;
    if (errno == 0 && want > now)
        setpriority(PRIO_PROCESS, (id_t)tid, want); /* best effort: a failure only costs latency */
}

static void pin_thread(pid_t tid, void *arg)
{
    sched_setaffinity(tid, sizeof(cpu_set_t), arg);
}

/* Add a thread's cores to the cpu_set_t at @p arg. */
static void add_thread_cpus(pid_t tid, void *arg)
{
    cpu_set_t mine;
    if (sched_getaffinity(tid, sizeof mine, &mine) == 0)
        CPU_OR((cpu_set_t *)arg, (cpu_set_t *)arg, &mine);
}
#endif

/* Where the CPU workers ended up (whatever placement or StarPU variables decided). */
static void find_worker_cpus(void)
{
#ifdef __linux__
    cpu_set_t all;
    CPU_ZERO(&worker_cpus);
    each_thread_named("CPU ", add_thread_cpus, &worker_cpus);
    have_worker_cpus = sched_getaffinity(0, sizeof all, &all) == 0 && CPU_COUNT(&worker_cpus) > 0 &&
                       CPU_COUNT(&worker_cpus) < CPU_COUNT(&all);
#endif
}

/*
 * Make StarPU's CPU workers (threads "CPU 0", "CPU 1", ...) nicer than the
 * threads that steer them (sj_init_options_t.worker_nice). By name rather
 * than with a task on each worker, which profiles and traces would count.
 */
static void nice_workers(int add)
{
#ifdef __linux__
    if (add > 0)
        each_thread_named("CPU ", nice_thread, &add);
#else
    (void)add;
#endif
}

/*
 * Confine StarPU-MPI's progress thread (named "MPI") to this rank's cores, as
 * decided by place_threads. Linux only; elsewhere, or when the thread cannot
 * be found, it stays where StarPU put it.
 */
static void pin_mpi_thread(void)
{
#ifdef __linux__
    if (sj__rt.pin_mpi && have_share)
        each_thread_named("MPI\n", pin_thread, &rank_share);
#endif
}

/*
 * Keep the thread that called sj_init (the application thread) on this rank's
 * cores once the workers are pinned, as the progress thread is. Left free,
 * the kernel moved it to another rank's core now and then, where its
 * submissions and waits took the time of that rank's worker: a 2-rank
 * Gauss-Newton inversion of tiny blocks ran at 20-23 ms per iteration in
 * about half the runs, against 11-13 ms in the others. Only cores it may use
 * already (the program or the launcher may have confined it); threads it
 * starts later inherit the mask. sj_finalize gives the cores back.
 */
int sj__rt_confine_thread(const void *cpus, void *old)
{
#ifdef __linux__
    if (pthread_getaffinity_np(pthread_self(), sizeof(cpu_set_t), old) != 0)
        return 0;
    cpu_set_t mine;
    CPU_AND(&mine, (const cpu_set_t *)cpus, (cpu_set_t *)old);
    return CPU_COUNT(&mine) > 0 && !CPU_EQUAL(&mine, (cpu_set_t *)old) &&
           pthread_setaffinity_np(pthread_self(), sizeof mine, &mine) == 0;
#else
    (void)cpus;
    (void)old;
    return 0;
#endif
}

static void confine_caller(void)
{
#ifdef __linux__
    caller_confined = have_share && sj__rt_confine_thread(&rank_share, &caller_before);
    if (caller_confined) { /* said by SJ_VERBOSE */
        caller_thread = pthread_self();
        const size_t used = strlen(sj__rt.placement);
        snprintf(sj__rt.placement + used, sizeof sj__rt.placement - used,
                 ", application thread on the rank's cores");
    }
#endif
}

/* Give the application thread back the cores it had before sj_init. */
static void unconfine_caller(void)
{
#ifdef __linux__
    if (caller_confined && pthread_equal(pthread_self(), caller_thread))
        pthread_setaffinity_np(caller_thread, sizeof caller_before, &caller_before);
#endif
    caller_confined = 0;
}

/* Free our communicator, finalise MPI if we started it, undo our environment. */
static void stop_mpi(void)
{
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && sj__rt.comm != MPI_COMM_NULL)
        MPI_Comm_free(&sj__rt.comm);
    if (!finalized && sj__rt.we_initialized_mpi)
        MPI_Finalize();
    sj__rt.comm = MPI_COMM_NULL;
    unconfine_caller();
    env_restore();
    sj__trace_env_restore();
}

/* A scheduler StarPU knows by that name. */
static int known_scheduler(const char *name)
{
    struct starpu_sched_policy **p = starpu_sched_get_predefined_policies();
    for (; p && *p; p++)
        if ((*p)->policy_name && strcmp((*p)->policy_name, name) == 0)
            return 1;
    return 0;
}

static int check_options(const sj_init_options_t *o)
{
    const char *f = "sj_init";
    SJ_CHECK_FN(f, o->ncuda >= 0, SJ_EINVAL, "opts->ncuda is %d, expected >= 0", o->ncuda);
    SJ_CHECK_FN(f, o->ncuda == 0 || SJ_USE_CUDA, SJ_EINVAL,
                "opts->ncuda is %d but starjets was built without CUDA (SJ_USE_CUDA=OFF)",
                o->ncuda);
    SJ_CHECK_FN(f, o->placement >= SJ_PLACE_SPLIT && o->placement <= SJ_PLACE_STARPU, SJ_EINVAL,
                "opts->placement is %d, not an sj_placement_t%s", (int)o->placement,
                env_note("SJ_PLACEMENT"));
    SJ_CHECK_FN(f, o->ncpus >= -1, SJ_EINVAL,
                "opts->ncpus is %d, expected -1 (automatic) or >= 0%s", o->ncpus,
                env_note("SJ_NCPUS"));
    SJ_CHECK_FN(f, o->verbose >= 0, SJ_EINVAL, "opts->verbose is %d, expected 0 or more%s",
                o->verbose, env_note("SJ_VERBOSE"));
    SJ_CHECK_FN(f, o->profile >= 0, SJ_EINVAL, "opts->profile is %d, expected 0 or 1%s", o->profile,
                env_note("SJ_PROFILE"));
    SJ_CHECK_FN(f, o->worker_nice >= 0 && o->worker_nice <= 19, SJ_EINVAL,
                "opts->worker_nice is %d, expected 0 to 19%s", o->worker_nice,
                env_note("SJ_WORKER_NICE"));
    SJ_CHECK_FN(f, o->max_tasks_in_flight >= 0, SJ_EINVAL,
                "opts->max_tasks_in_flight is %d, expected 0 (no bound) or more%s",
                o->max_tasks_in_flight, env_note("SJ_MAX_TASKS_IN_FLIGHT"));
    SJ_CHECK_FN(f, o->check_collectives >= 0, SJ_EINVAL,
                "opts->check_collectives is %d, expected 0 or 1%s", o->check_collectives,
                env_note("SJ_CHECK_COLLECTIVES"));
    SJ_CHECK_FN(f, o->watchdog >= 0 && isfinite(o->watchdog), SJ_EINVAL,
                "opts->watchdog is %g, expected 0 (none) or a number of seconds%s", o->watchdog,
                env_note("SJ_WATCHDOG"));
    SJ_CHECK_FN(f, !o->sched || known_scheduler(o->sched), SJ_EINVAL,
                "opts->sched is '%s', not one of StarPU's schedulers (lws, eager, dmda, dmdas, "
                "ws, prio, random, ...; SJ_SCHED sets it)",
                o->sched ? o->sched : "");
    SJ_CHECK_FN(f, o->comm != MPI_COMM_NULL, SJ_EINVAL,
                "opts->comm is MPI_COMM_NULL: give the communicator starjets runs on "
                "(MPI_COMM_WORLD by default); a rank outside it does not call sj_init");
    return sj__trace_check_options(o->trace_dir, f);
}

/* The program's communicator, checked once MPI runs: an intracommunicator, and
 * a strict subset of MPI_COMM_WORLD only with a StarPU that allows it. */
static int check_comm(MPI_Comm comm)
{
    const char *f = "sj_init";
    if (comm == MPI_COMM_WORLD)
        return SJ_OK;
    int inter = 0, cmp = MPI_UNEQUAL;
    if (MPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS)
        return sj__error(SJ_EINVAL, f, "opts->comm is not a valid communicator");
    SJ_CHECK_FN(f, !inter, SJ_EINVAL,
                "opts->comm is an intercommunicator; starjets runs on an intracommunicator "
                "(MPI_Intercomm_merge makes one)");
    MPI_Comm_compare(comm, MPI_COMM_WORLD, &cmp);
    SJ_CHECK_FN(f, cmp == MPI_IDENT || cmp == MPI_CONGRUENT || &starpu_mpi_subcomm_ok != NULL,
                SJ_ENOTSUP,
                "opts->comm holds fewer ranks than MPI_COMM_WORLD, but this StarPU-MPI (a stock "
                "1.3 build) waits on MPI_COMM_WORLD at shutdown and when FxT starts, which would "
                "hang: build starjets against the StarPU of scripts/build-starpu (its comm "
                "patch), or run starjets on MPI_COMM_WORLD");
    return SJ_OK;
}

/* MPI at MPI_THREAD_SERIALIZED or more (started here unless the program did), and
 * our duplicate of the program's communicator. */
static int start_mpi(int *argc, char ***argv, MPI_Comm comm)
{
    const char *f = "sj_init";
    int initialized = 0, finalized = 0, level = MPI_THREAD_SINGLE;
    MPI_Finalized(&finalized);
    SJ_CHECK_FN(f, !finalized, SJ_ESTATE,
                "MPI is already finalised (sj_finalize finalises MPI when sj_init started it: "
                "initialise MPI yourself to run starjets more than once)");
    MPI_Initialized(&initialized);
    SJ_CHECK_FN(f, initialized || comm == MPI_COMM_WORLD, SJ_ESTATE,
                "opts->comm is not MPI_COMM_WORLD but MPI is not initialised: a program that "
                "gives its own communicator initialises MPI (MPI_Init_thread) before sj_init");
    if (!initialized) {
        if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &level) != MPI_SUCCESS)
            return sj__error(SJ_ERUNTIME, f, "MPI_Init_thread failed");
        sj__rt.we_initialized_mpi = 1;
    } else {
        MPI_Query_thread(&level);
        sj__rt.we_initialized_mpi = 0;
    }
    int rc = SJ_OK;
    if (level < MPI_THREAD_SERIALIZED) {
        rc = sj__error(
            SJ_ERUNTIME, f,
            "MPI runs at thread level %d; StarPU-MPI needs MPI_THREAD_SERIALIZED or more", level);
        goto fail;
    }
    sj__rt.thread_multiple = level >= MPI_THREAD_MULTIPLE;
    SJ_TRY_GOTO(rc, check_comm(comm), fail);
    /* A communicator of our own: StarPU-MPI keeps a wildcard receive posted on it
     * and sets its error handler, neither of which may touch the program's. */
    if (MPI_Comm_dup(comm, &sj__rt.comm) != MPI_SUCCESS) {
        rc = sj__error(SJ_ERUNTIME, f, "MPI_Comm_dup of opts->comm failed");
        goto fail;
    }
    MPI_Comm_rank(sj__rt.comm, &sj__rt.rank);
    MPI_Comm_size(sj__rt.comm, &sj__rt.nranks);
    return SJ_OK;
fail: /* MPI as the program left it */
    if (sj__rt.we_initialized_mpi)
        MPI_Finalize();
    return rc;
}

/* StarPU and StarPU-MPI on this rank's share of the node, and the threads placed. */
static int start_starpu(const sj_init_options_t *o, int *argc, char ***argv,
                        struct starpu_conf *conf)
{
    starpu_conf_init(conf);
    /* With GPUs, a scheduler that weighs each task's cost on each kind of
     * worker (and the transfers) against the others: large dense blocks go to
     * the GPUs, tiny ones stay on CPUs (docs/gpu.md). */
    conf->sched_policy_name = o->sched ? o->sched : o->ncuda > 0 ? "dmdas" : "lws";
    /* dmda's families count a transfer's predicted time twice (in the expected
     * end, and again as the beta-weighted penalty) with StarPU 1.3.10's
     * predictions of twice size / bandwidth: a dense block whose matrix is in
     * host memory then never reaches the GPU, however large (tests/sim shows
     * it). Beta 0 keeps the transfer in the expected end only. */
    if (o->ncuda > 0 && !o->sched)
        env_default("STARPU_SCHED_BETA", "0");
    conf->ncuda = o->ncuda;
    conf->nopencl = 0;
    conf->precedence_over_environment_variables = !o->environment_overrides;
    have_share = have_worker_cpus = 0;
    sj__rt.pin_mpi = 0;
    if (o->placement != SJ_PLACE_STARPU) {
        place_threads(o, conf);
    } else {
        conf->ncpus = o->ncpus;
        sj__rt.mpi_driver = driver_mode(o->ncpus); /* only when the user asked for it */
        snprintf(sj__rt.placement, sizeof sj__rt.placement, "placement left to StarPU");
    }
    sj__trace_before_start(o->trace_dir, o->profile);
    int ret = starpu_mpi_init_conf(argc, argv, 0, sj__rt.comm, conf);
    if (ret != 0) {
        stop_mpi();
        return sj__error(ret == -ENODEV ? SJ_ENODEV : SJ_ERUNTIME, "sj_init",
                         "starpu_mpi_init_conf failed (%d) with %s", ret, sj__rt.placement);
    }
    pin_mpi_thread();
    confine_caller();
    sj__rt_mem_start();
    sj__rt_cuda_start();
    sj__trace_after_start();
    blas_single_thread(1);
    nice_workers(o->worker_nice);
    find_worker_cpus();
    if (starpu_cpu_worker_get_count() + starpu_cuda_worker_get_count() == 0) {
        sj__rt_cuda_stop();
        starpu_mpi_shutdown();
        stop_mpi();
        return sj__error(SJ_ENODEV, "sj_init", "StarPU started without any worker (%s)",
                         sj__rt.placement);
    }
    return SJ_OK;
}

/* What sj_init says on stderr: the placement when verbose, slow BLAS kernels always (rank 0). */
static void report_start(const sj_init_options_t *o, const struct starpu_conf *conf)
{
    if (o->verbose) {
        char nice_text[32] = "";
#ifdef __linux__
        if (o->worker_nice > 0)
            snprintf(nice_text, sizeof nice_text, " (niceness +%d)", o->worker_nice);
#endif
        const char *core = sj__rt_blas_core();
        fprintf(stderr,
                "starjets: rank %d: %s, %u CPU worker(s)%s, %u CUDA worker(s), scheduler %s, "
                "MPI polling %s, BLAS kernels %s\n",
                sj__rt.rank, sj__rt.placement, starpu_cpu_worker_get_count(), nice_text,
                starpu_cuda_worker_get_count(), conf->sched_policy_name,
                adaptive_polling() ? "adaptive" : "busy (stock StarPU-MPI: docs/latency.md)",
                core ? core : "(not OpenBLAS)");
    }
    char line[400];
    if (sj__rt.rank == 0 && sj__rt_blas_advice(line, sizeof line))
        fprintf(stderr, "starjets: %s\n", line);
}

/* The runtime's state for a new run: bounds, counters, tags, kernels, records. */
static void reset_state(const sj_init_options_t *o)
{
    sj__rt.max_in_flight = o->max_tasks_in_flight;
    sj__rt.verbose = o->verbose;
    sj__rt.app_thread = pthread_self();
    sj__rt.tasks_submitted = sj__rt.submission_waits = sj__rt.handles = 0;
    sj__rt.in_run = sj__rt.paused = 0;
    sj__tag_reset();
    sj__registry_init();
    const char *perf = getenv("SJ_PERFSTAT");
    if (perf && *perf && sj__rt_op_records(perf, "SJ_PERFSTAT") < 0)
        fprintf(stderr, "starjets: rank %d: %s (ignored)\n", sj__rt.rank, sj_last_error());
    if (getenv("SJ_SYNC")) /* else keep what sj_set_synchronous() said */
        sj__rt.synchronous = env_int("SJ_SYNC", 0);
}

int sj_init(int *argc, char ***argv, const sj_init_options_t *opts)
{
    SJ_CHECK(!sj__rt.running, SJ_ESTATE, "starjets is already initialised");
    sj_init_options_t o;
    if (opts)
        o = *opts;
    else
        sj_init_options_default(&o);
    const MPI_Comm zero = {0}; /* options filled by hand, not by sj_init_options_default */
    if (memcmp(&o.comm, &zero, sizeof zero) == 0)
        o.comm = MPI_COMM_WORLD;
    SJ_TRY(check_options(&o));
    SJ_TRY(start_mpi(argc, argv, o.comm));
    /* Rank 0's checking mode and watchdog for every rank: ranks that disagreed (an
     * environment variable set on some) would wait for each other's records. */
    double agreed[2] = {o.check_collectives != 0, o.watchdog};
    MPI_Bcast(agreed, 2, MPI_DOUBLE, 0, sj__rt.comm);
    o.check_collectives = agreed[0] != 0;
    o.watchdog = agreed[1];
    struct starpu_conf conf;
    SJ_TRY(start_starpu(&o, argc, argv, &conf));
    report_start(&o, &conf);
    reset_state(&o);
    sj__check_start(o.check_collectives, o.watchdog);
    sj__rt.running = 1;
    return SJ_OK;
}

int sj_finalize(void)
{
    if (sj__rt.running && sj__rt.paused && !sj__rt.in_run) /* the workers finish the run */
        SJ_TRY(sj_resume());
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK(sj__rt.running, SJ_ESTATE, "starjets is not initialised");
    /* Objects first: an array gives back the blocks its user still holds
     * (localpart) before anything waits on them. */
    int counts[SJ__NKINDS];
    sj__object_release_all(counts);
    sj__wd_enter("sj_finalize's wait for every task and message");
    starpu_mpi_wait_for_all(sj__rt.comm);
    sj__wd_leave();
    sj__check_stop();
    sj__rt_pool_drain();
    if (sj__rt.rank == 0)
        for (int k = 0; k < SJ__NKINDS; k++)
            if (counts[k])
                fprintf(stderr,
                        "starjets: sj_finalize: %d %s not destroyed by the program (released "
                        "now)\n",
                        counts[k], sj__kind_name((sj__kind_t)k, counts[k] > 1));
    sj__trace_before_shutdown();
    sj__rt_cuda_stop();
    starpu_mpi_shutdown();
    sj__object_flush();
    sj__trace_after_shutdown();
    blas_single_thread(0);
    sj__registry_fini();
    sj__farm_fini();
    sj__tag_reset();
    sj__rt.running = 0;
    stop_mpi();
    sj__rt.rank = -1;
    sj__rt.nranks = 0;
    return SJ_OK;
}

int sj_stats_get(sj_stats_t *stats)
{
    SJ_CHECK_NULL(stats);
    SJ_CHECK(sj__rt.running, SJ_ESTATE, "starjets is not initialised");
    stats->objects = sj__object_count();
    stats->handles = sj__rt.handles;
    stats->tags_booked = sj__tag_booked();
    stats->tags_waiting = sj__tag_waiting();
    stats->tasks_in_flight = starpu_task_nsubmitted();
    stats->tasks_submitted = sj__rt.tasks_submitted;
    stats->submission_waits = sj__rt.submission_waits;
    stats->adaptive_polling = adaptive_polling();
    stats->mpi_driver = sj__rt.mpi_driver;
    return SJ_OK;
}

int sj_wait(void)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK(sj__rt.running, SJ_ESTATE, "starjets is not initialised");
    SJ_TRY(sj__rt_wait_all());
    return sj__rt_check_task_errors(__func__);
}

int sj_barrier(void)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK(sj__rt.running, SJ_ESTATE, "starjets is not initialised");
    return sj__rt_barrier();
}

int sj_pause(void)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    starpu_task_wait_for_all(); /* this rank's tasks: nothing of ours is left half done */
    starpu_pause();
    sj__rt.paused = 1;
    return SJ_OK;
}

int sj_resume(void)
{
    SJ_CHECK(sj__rt.running, SJ_ESTATE, "starjets is not initialised (call sj_init)");
    SJ_CHECK(!sj__rt.in_run, SJ_ESTATE, "called inside sj_spmd_run");
    SJ_CHECK(sj__rt.paused, SJ_ESTATE, "starjets is not paused (sj_pause was not called)");
    sj__rt.paused = 0;
    starpu_resume();
    return SJ_OK;
}

void sj_set_synchronous(int on)
{
    sj__rt.synchronous = on;
}
