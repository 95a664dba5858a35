/**
 * @file starjets/runtime.h
 * @brief Starting and stopping starjets (StarPU + StarPU-MPI), ranks, waiting.
 *
 * Programming model: every MPI rank runs the same program and makes the same
 * collective starjets calls in the same order. Calls submit StarPU tasks and
 * return; sj_wait() waits for them.
 *
 * MPI thread level: when MPI is not yet initialised, sj_init() initialises it
 * with `MPI_THREAD_MULTIPLE`, so the application thread may call MPI directly
 * while StarPU-MPI's progress thread runs (starjets itself does, for blocking
 * reductions). When the application initialised MPI itself, starjets accepts
 * `MPI_THREAD_SERIALIZED` or more and uses direct MPI calls only when the level
 * is `MPI_THREAD_MULTIPLE` (see sj_mpi_thread_multiple()).
 *
 * @defgroup runtime Runtime
 * @{
 */
#ifndef STARJETS_RUNTIME_H
#define STARJETS_RUNTIME_H

/* From C++, only MPI's C interface (as PETSc does): Open MPI's and MPICH's
 * deprecated C++ bindings would otherwise need their own library at link time. */
#if defined(__cplusplus) && !defined(OMPI_SKIP_MPICXX)
#define OMPI_SKIP_MPICXX 1
#endif
#if defined(__cplusplus) && !defined(MPICH_SKIP_MPICXX)
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
#include <stdint.h>

#include <starjets/config.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How sj_init() places StarPU's threads on the cores of a node. */
typedef enum sj_placement {
    /**
     * Split the node's cores between the ranks that share it; pin the workers
     * to the rank's cores and confine the thread that calls sj_init() to them
     * (threads it starts later inherit that; sj_finalize() gives it back the
     * cores it had).
     */
    SJ_PLACE_SPLIT = 0,
    /** Split the node's cores between the ranks, but do not pin any thread. */
    SJ_PLACE_SPLIT_NOBIND = 1,
    /** Leave placement to StarPU and its environment variables. */
    SJ_PLACE_STARPU = 2,
} sj_placement_t;

/** Options of sj_init(). Fill with sj_init_options_default() first. */
typedef struct sj_init_options {
    /** CPU workers per rank; -1 (default) derives it from the node split. */
    int ncpus;
    /**
     * Most CUDA devices per rank; 0 (default). Needs a build with SJ_USE_CUDA.
     * A rank with fewer usable devices starts with those it has (none: CPUs
     * only); sj_ncuda_workers() (starjets/cuda.h) tells how many it got.
     */
    int ncuda;
    /**
     * StarPU scheduler name ("lws", "eager", "dmda", ...); NULL = "lws", or
     * "dmdas" when @p ncuda > 0 (performance models decide CPU or GPU per task).
     */
    const char *sched;
    /** Placement policy; default SJ_PLACE_SPLIT. */
    sj_placement_t placement;
    /**
     * Keep one core of the rank's share for StarPU-MPI's progress thread:
     * -1 (default) = when the share has at least 3 cores, 0 = never, 1 = always
     * when the share has at least 2 cores.
     */
    int reserve_mpi_core;
    /**
     * When non-zero (default), StarPU's environment variables such as
     * `STARPU_NCPU` and `STARPU_NCUDA` override these options, as StarPU does by
     * default; 0 gives the options precedence over those. `STARPU_SCHED` and
     * `STARPU_WORKERS_CPUID` override the options in either case (StarPU 1.3
     * reads them first).
     */
    int environment_overrides;
    /**
     * Print the placement decided on each rank to stderr, and on rank 0 the
     * default layouts that leave ranks without blocks. Default 0.
     */
    int verbose;
    /**
     * Folder for an FxT trace of the run, NULL (default, or the environment
     * variable `SJ_TRACE`) for none. Created if needed; it must be reachable
     * by rank 0 from every rank's node, and its path at most 100 characters
     * (StarPU 1.3's limit). Each rank writes its raw trace there
     * (`prof_file_<rank>`); sj_finalize() then merges them with StarPU's
     * `starpu_fxt_tool` into `paje.trace`, `tasks.rec`, `dag.dot`, `trace.html`
     * and the other files that tool writes. Needs a StarPU built with FxT
     * (sj_trace_supported()); with any other, rank 0 prints one warning line
     * and the run goes on untraced.
     */
    const char *trace_dir;
    /**
     * Non-zero: turn on StarPU's profiling and print, at sj_finalize(), on
     * rank 0's stderr and ranks in order, each worker's total, busy, idle and
     * overhead time and each codelet's task count, total and mean time.
     * Default 0, or the environment variable `SJ_PROFILE`. Needs no FxT.
     */
    int profile;
    /**
     * Niceness added to StarPU's CPU worker threads, 0 to 19, so that the
     * threads that steer the work (the application thread that submits tasks
     * and serves a task farm) run as soon as they wake even where the workers
     * fill every core: with Debian's StarPU, workers spin while they wait for
     * a task (the StarPU of scripts/build-starpu lets them sleep, see
     * docs/latency.md). Default 0 (workers left alone),
     * or the environment variable `SJ_WORKER_NICE`. StarPU-MPI's progress
     * thread is not niced and polls while messages are in flight, so with
     * niced workers it takes more of a shared core: the 2-rank heat stencil
     * ran at 0.77-0.84 of OpenMP with 10 against 0.92-0.98 with 0 (see
     * docs/tuning.md). Linux only (elsewhere ignored).
     */
    int worker_nice;
    /**
     * Most tasks this rank keeps submitted and not yet finished: a call that
     * would submit more first waits until a quarter of them have run, so that
     * a loop that never waits (a solver of 10^6 iterations) keeps a bounded
     * graph, and memory, however far the application thread runs ahead. 0 =
     * no bound. Default 1000, or the environment variable
     * `SJ_MAX_TASKS_IN_FLIGHT`. Only the thread that called sj_init() waits.
     * See docs/latency.md.
     */
    int max_tasks_in_flight;
    /**
     * The communicator starjets runs on; default `MPI_COMM_WORLD`. Every rank
     * of it calls sj_init(), and ranks outside it take no part in anything
     * starjets does (they may go on with their own MPI work). starjets
     * duplicates it at sj_init() and frees the duplicate at sj_finalize(), so
     * the program's tags and error handler on it are untouched; ranks
     * (sj_rank(), owners of blocks, roots) are ranks of this communicator.
     * Anything other than `MPI_COMM_WORLD` needs MPI initialised by the
     * program before sj_init(), and an intracommunicator. A strict subset of
     * `MPI_COMM_WORLD` needs the StarPU that `scripts/build-starpu` builds:
     * stock StarPU-MPI 1.3 waits on `MPI_COMM_WORLD` at shutdown, so sj_init()
     * refuses it with SJ_ENOTSUP there. A zero-filled value (options set up
     * without sj_init_options_default()) means `MPI_COMM_WORLD`. See
     * docs/embedding.md.
     */
    MPI_Comm comm;
    /**
     * Non-zero: check every collective call across ranks (which function, its
     * sequence number, the key arguments of the calls that have a root or a
     * block): when one rank makes another call than the others, every rank
     * prints one sentence naming both calls and where the program made them,
     * and the job is aborted (MPI_Abort). A round trip to rank 0 per
     * collective call (bench/check_cost.c measures it). Default 0, or the
     * environment variable `SJ_CHECK_COLLECTIVES`; rank 0's value holds for
     * every rank. See docs/reliability.md.
     */
    int check_collectives;
    /**
     * Seconds that a rank may wait in starjets while no rank makes progress
     * (no task finishes, no wait ends) before every rank prints what it is
     * doing (the wait or its own code, the last collective call, its
     * unfinished tasks per codelet) and the job is aborted; 0 (default) = no
     * watchdog. Pick it above your longest task and above the longest time a
     * rank spends in its own code while the others wait for it. At
     * MPI_THREAD_MULTIPLE progress is counted over all ranks (a rank waiting
     * for another that computes is not stuck); below it, each rank counts its
     * own. The environment variable `SJ_WATCHDOG` sets the default; rank 0's
     * value holds for every rank. See docs/reliability.md.
     */
    double watchdog;
} sj_init_options_t;

/**
 * @brief Fill @p opts with the defaults. Environment: `SJ_NCPUS`, `SJ_SCHED`
 * (a StarPU scheduler name), `SJ_PLACEMENT` (split | nobind | starpu),
 * `SJ_VERBOSE`, `SJ_TRACE` (folder), `SJ_PROFILE` (a switch),
 * `SJ_WORKER_NICE` (0 to 19), `SJ_MAX_TASKS_IN_FLIGHT` (>= 0),
 * `SJ_CHECK_COLLECTIVES` (a switch) and `SJ_WATCHDOG` (seconds) change the
 * defaults. A switch is a whole number (non-zero: on) or yes / no, true /
 * false, on / off in any case. A value that cannot be read (`SJ_NCPUS=abc`,
 * `SJ_PLACEMENT=noband`, `SJ_CHECK_COLLECTIVES=maybe`) is never replaced by a
 * default: it gives its field a value that sj_init() refuses with SJ_EINVAL
 * and a sentence naming the variable and its value; so does an unknown
 * `SJ_SCHED`. An empty variable counts as unset.
 *
 * Local; may be called before sj_init().
 * @param[out] opts options to fill
 */
void sj_init_options_default(sj_init_options_t *opts);

/**
 * @brief Start MPI (if needed), StarPU and StarPU-MPI.
 *
 * Collective over `opts->comm` (`MPI_COMM_WORLD` by default); starjets and
 * StarPU-MPI then talk on a duplicate of it, so the program's own messages
 * never mix with theirs, and ranks outside it take no part. By
 * default the cores of each node are split
 * between the ranks that share it (found with hwloc and the node-local MPI
 * communicator), so workers of different ranks never share a core.
 * @param[in,out] argc  the program's argc, or NULL
 * @param[in,out] argv  the program's argv, or NULL
 * @param[in] opts      options, or NULL for the defaults
 * @retval SJ_OK on success
 * @retval SJ_ESTATE when starjets is already running, or MPI was finalised
 *         (sj_finalize() finalises MPI when sj_init() started it), or
 *         `opts->comm` is not `MPI_COMM_WORLD` and MPI is not initialised
 * @retval SJ_EINVAL for a bad option (ncpus < -1, negative CUDA count, CUDA without
 *         SJ_USE_CUDA, unknown placement, empty or too long trace_dir,
 *         worker_nice outside 0..19, negative max_tasks_in_flight,
 *         a negative or non-finite watchdog,
 *         `opts->comm` `MPI_COMM_NULL` or an intercommunicator)
 * @retval SJ_ENOTSUP `opts->comm` holds fewer ranks than `MPI_COMM_WORLD` and
 *         StarPU-MPI is a stock build (see sj_init_options_t.comm)
 * @retval SJ_ENODEV when StarPU finds no worker
 * @retval SJ_ERUNTIME when MPI or StarPU fail to start
 * @see sj_finalize
 */
int sj_init(int *argc, char ***argv, const sj_init_options_t *opts);

/**
 * @brief Wait for all work, release every object still alive, stop the runtime.
 *
 * Collective; blocking: it waits for every task first. Objects the user did
 * not destroy are destroyed here; one line per kind of object is printed on
 * rank 0 (stderr) saying how many were forgotten.
 * Their handles are invalid afterwards: do not pass them to a destroy function.
 * MPI is finalised when sj_init() initialised it.
 * @retval SJ_OK on success
 * @retval SJ_ESTATE when starjets is not running
 */
int sj_finalize(void);

/** @brief Non-zero between sj_init() and sj_finalize(). Local. */
int sj_initialized(void);

/**
 * @brief This process's rank in starjets' communicator (`opts->comm` of
 * sj_init(), `MPI_COMM_WORLD` by default); -1 before sj_init(). Local.
 */
int sj_rank(void);

/** @brief Number of ranks; 0 before sj_init(). Local. */
int sj_nranks(void);

/** @brief Number of StarPU CPU workers on this rank; 0 before sj_init(). Local. */
int sj_ncpus(void);

/**
 * @brief Non-zero when MPI runs at `MPI_THREAD_MULTIPLE`, so that the
 * application may call MPI while starjets runs. Local.
 */
int sj_mpi_thread_multiple(void);

/**
 * @brief Wait until every task submitted so far, on every rank, has run.
 *
 * Collective; blocking (it ends with a barrier). Reports the tasks that failed
 * since the last check: SJ_EUSER on every rank (see sj_last_error()).
 * @retval SJ_OK
 * @retval SJ_EUSER a task failed on some rank since the last check
 * @retval SJ_ESTATE starjets is not running, or called inside sj_spmd_run()
 * @retval SJ_ERUNTIME the final barrier failed
 */
int sj_wait(void);

/**
 * @brief Barrier over all ranks.
 *
 * Collective. With `MPI_THREAD_MULTIPLE` it does not wait for submitted tasks;
 * at a lower thread level it is StarPU-MPI's barrier, which also waits for them.
 * @retval SJ_OK
 * @retval SJ_ESTATE starjets is not running, or called inside sj_spmd_run()
 * @retval SJ_ERUNTIME the barrier failed
 */
int sj_barrier(void);

/**
 * @brief Give this rank's cores back to the host code: StarPU's workers run no
 * task until sj_resume().
 *
 * Local (no message), blocking: it first waits for the tasks this rank
 * already has, then stops its workers. Use it around host work between
 * starjets calls (an OpenMP loop of the host's, its own MPI exchanges) when
 * idle workers would compete for the cores: with the StarPU of
 * `scripts/build-starpu` idle workers sleep anyway, with a stock one they
 * spin (docs/embedding.md gives the measurements). While paused, calls that
 * submit tasks or wait for them (every collective and logically collective
 * call) fail with SJ_ESTATE; local queries and sj_array_localpart_get() work.
 * Since the other ranks' tasks may need this rank's workers, pause where
 * every rank does, after the same call (typically after sj_wait() or a
 * blocking reduction), and resume before the next collective call.
 * sj_finalize() resumes a paused rank itself.
 * @retval SJ_OK
 * @retval SJ_ESTATE starjets not running, inside sj_spmd_run(), or already paused
 */
int sj_pause(void);

/**
 * @brief Let this rank's workers run tasks again after sj_pause(). Local.
 * @retval SJ_OK
 * @retval SJ_ESTATE starjets not running, inside sj_spmd_run(), or not paused
 */
int sj_resume(void);

/**
 * @brief Make every later task synchronous (submit, then wait for it), to
 * bisect ordering bugs. May be called before sj_init(); the environment variable
 * `SJ_SYNC` (0 or 1), when set, decides at sj_init().
 *
 * Logically collective: every rank calls it with the same value at the same
 * point of the program (no message is sent). Slow: for debugging only.
 * @param[in] on non-zero to switch on
 */
void sj_set_synchronous(int on);

/**
 * @brief Non-zero when the StarPU starjets was built against, and the
 * libstarpu this program loaded, record FxT traces
 * (sj_init_options_t::trace_dir): one built by scripts/build-starpu, not
 * Debian's package.
 *
 * Local; may be called before sj_init().
 */
int sj_trace_supported(void);

/** What starjets holds on this rank right now: see sj_stats_get(). */
typedef struct sj_stats {
    /** Live public objects: spaces, layouts, arrays, operators, scalars,
     * SPMD contexts and futures the program has not destroyed. */
    int64_t objects;
    /** StarPU data handles starjets registered and has not given back. */
    int64_t handles;
    /** StarPU-MPI tags booked by live objects and by temporaries. */
    int64_t tags_booked;
    /** Tags released but not reusable yet: they become free after two
     * sj_wait() calls (a loop that never waits keeps this a few ranges). */
    int64_t tags_waiting;
    /** Tasks submitted on this rank that have not finished (StarPU's count,
     * internal tasks included). */
    int64_t tasks_in_flight;
    /** Tasks this rank submitted since sj_init(). */
    int64_t tasks_submitted;
    /** Times sj_init_options_t::max_tasks_in_flight made a submission wait. */
    int64_t submission_waits;
    /** 1 when the StarPU-MPI loaded carries starjets' latency patch (adaptive
     * polling, sleeping idle workers; scripts/build-starpu), 0 for a stock
     * one such as Debian's: then a dependency between ranks that share cores
     * costs milliseconds (docs/latency.md). */
    int adaptive_polling;
    /** 1 when StarPU-MPI's progress thread runs CPU worker 0's tasks itself
     * (driver mode: the default with more than one rank where that thread has
     * no core of its own and StarPU carries starjets' patches; off with
     * STARPU_MPI_DRIVER_CALL_FREQUENCY=0), 0 when it is a thread apart
     * (docs/latency.md). */
    int mpi_driver;
} sj_stats_t;

/**
 * @brief What starjets holds on this rank: live objects, handles, booked
 * tags, tasks in flight. For checking that a long loop keeps flat memory.
 *
 * Local.
 * @param[out] stats filled on success
 * @retval SJ_OK on success
 * @retval SJ_ENULL when @p stats is NULL
 * @retval SJ_ESTATE when starjets is not running
 */
int sj_stats_get(sj_stats_t *stats);

/**
 * @brief The library's version.
 *
 * Local; may be called before sj_init().
 * @param[out] major may be NULL
 * @param[out] minor may be NULL
 * @param[out] patch may be NULL
 * @return the version string, "MAJOR.MINOR.PATCH"
 */
const char *sj_version(int *major, int *minor, int *patch);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_RUNTIME_H */
