/*
 * What the benchmarks share, so that each bench/<stem>.c reads as its
 * workload: checked calls, clocks and medians, table-driven options, the
 * rounds of a baseline against starjets (bench.c); per-thread CPU
 * diagnostics and the -p / -s placement experiments (threads.c); the
 * OpenBLAS core in use and the two baselines of the dense operator
 * benchmarks (dense.c). Linux only. Needs _GNU_SOURCE before the first
 * system header (every benchmark defines it).
 */
#ifndef SJ_BENCH_H
#define SJ_BENCH_H

#include <mpi.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <starjets.h>

/* A starjets call that must succeed; otherwise every rank stops with status 2. */
#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != SJ_OK) {                                                                        \
            fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call,              \
                    sj_err_name(rc_), sj_last_error());                                            \
            MPI_Abort(MPI_COMM_WORLD, 2);                                                          \
        }                                                                                          \
    } while (0)

#define MAX_ROUNDS 64

/* ---- memory, clocks, statistics (bench.c) ------------------------------------------ */

/* 64-byte aligned memory; out of memory stops every rank with status 2. */
void *xmalloc(size_t bytes);
void *xcalloc(size_t count, size_t size);
double now(void); /* seconds on the monotonic clock */
void sleep_ms(long ms);
double median(const double *v, int n);
double vmin(const double *v, int n);
double vmax(const double *v, int n);
/* Elements where a and b differ; max |got - ref| / max |ref|. */
int64_t count_diff(const double *a, const double *b, int64_t n);
double rel_err(const double *got, const double *ref, int64_t n);
/* The cores this process may run on (its affinity mask). */
int cores_allowed(void);
/* The 1-minute load average, -1 when unknown. */
double load1(void);
/* getenv(name) when set and not empty, else dflt. */
const char *env_or(const char *name, const char *dflt);
/*
 * Time step(arg): `warm` untimed calls, then `iters` timed ones; t[0..iters)
 * gets their seconds. Returns their median.
 */
double time_steps(int warm, int iters, void (*step)(void *arg), void *arg, double *t);

/* ---- MPI ------------------------------------------------------------------------------ */

/*
 * Wait for every rank in a barrier without spinning (1 ms polls), so that a
 * rank waiting here takes no core from a baseline another rank is timing.
 */
void quiet_barrier(void);
/* Collective: the sum of v over the ranks. */
int64_t sum_ranks(int64_t v);
/* Collective: each rank's count values, rank by rank, on rank 0 (malloc'd; NULL elsewhere). */
void *gather(const void *v, int count, MPI_Datatype type);

/* ---- JSON (rank 0 prints one object on stdout) --------------------------------------- */

/* "key":[v0,...], each value printed with fmt, then a comma. */
void print_array(const char *key, const char *fmt, const double *v, int n);
void print_int_array(const char *key, const int *v, int n);
/* Times in seconds v[0..n) as a JSON array of microseconds (3 decimals), no key. */
void print_us_array(const double *v, int n);
const char *json_bool(int b);

/* ---- options ---------------------------------------------------------------------------- */

typedef enum { OPT_INT, OPT_I64, OPT_DOUBLE, OPT_SIZE, OPT_FLAG, OPT_GRID } opt_kind_t;

/* One command-line option: -letter VALUE into *dst (a flag sets *dst to 1). */
typedef struct bench_opt {
    char letter;
    opt_kind_t kind;
    void *dst;
    const char *name; /* the value's name in the usage line */
} bench_opt_t;

#define OPT(letter, var, name)                                                                       \
    {                                                                                                \
        letter,                                                                                    \
            _Generic(&(var), int *: OPT_INT, int64_t *: OPT_I64, double *: OPT_DOUBLE,             \
                     size_t *: OPT_SIZE),                                                          \
            &(var), name \
    }
#define OPT_FLAG(letter, var)                                                                      \
    {                                                                                              \
        letter, OPT_FLAG, &(var), NULL                                                             \
    }
/* "PxQ" into int var[2] */
#define OPT_GRID(letter, var, name)                                                                \
    {                                                                                              \
        letter, OPT_GRID, (var), name                                                              \
    }
#define NOPT(table) ((int)(sizeof(table) / sizeof(table)[0]))

/* Parse argv into the table; 0, or 2 on an unknown option or a malformed value. */
int bench_parse(int argc, char **argv, const bench_opt_t *opt, int nopt);
/* Print the usage line to stderr; returns 2 (the exit status of bad usage). */
int bench_usage(const char *prog, const bench_opt_t *opt, int nopt);

/* ---- a baseline against starjets, round by round -------------------------------------- */

/*
 * Rounds: so that no spinning StarPU thread disturbs the baseline, a round
 * times the baseline on rank 0 while the other ranks sleep in a polled
 * MPI_Ibarrier (quiet_barrier), then starjets between sj_init and
 * sj_finalize (a bench_session). Rounds repeat (-R), so that slow changes in
 * the machine's load hit both sides alike; reports take medians over rounds.
 *
 * The options and state that the benchmarks timing a one-process baseline
 * (OpenMP or BLAS threads on rank 0) against starjets share: -i iterations,
 * -w warm-ups, -R rounds, -t threads of the baseline (default: the cores
 * rank 0 may use), -v, and the experiments -p (pin the application thread
 * to its rank's worker cores) and -s (StarPU's CPU workers under SCHED_IDLE).
 */
typedef struct bench {
    int iters, warm, rounds, threads, verbose, pin_main, idle_workers;
    int me, np;
    double load_start;
} bench_t;

#define BENCH_OPTS(b)                                                                              \
    OPT('i', (b).iters, "iterations"), OPT('w', (b).warm, "warmups"),                              \
        OPT('R', (b).rounds, "rounds"), OPT('t', (b).threads, "threads"),                          \
        OPT_FLAG('v', (b).verbose), OPT_FLAG('p', (b).pin_main), OPT_FLAG('s', (b).idle_workers)

/* iters >= 1, warm >= 0, 1 <= rounds <= MAX_ROUNDS */
int bench_valid(const bench_t *b);
/*
 * MPI_Init_thread(MPI_THREAD_MULTIPLE) (sj_init accepts it), rank, size and
 * load; on rank 0 the baseline's thread count (-t, else the cores allowed),
 * given to OpenMP.
 */
void bench_start(bench_t *b, int *argc, char ***argv);

/*
 * One starjets session of a round, after the baseline: sj_init with the
 * default options (kept in opts), then the experiments; bench_session_end:
 * sj_finalize, and the application thread's affinity back as it was.
 */
typedef struct bench_session {
    sj_init_options_t opts;
    cpu_set_t saved;
} bench_session_t;

void bench_session_begin(bench_session_t *s, const bench_t *b, int *argc, char ***argv);
void bench_session_end(bench_session_t *s);

/* ---- threads (threads.c) --------------------------------------------------------------- */

#define MAX_THR 64

/* One thread of this process, from /proc/self/task/N. */
typedef struct thr {
    int tid;
    char name[20];
    char cpus[24];        /* Cpus_allowed_list */
    double run_s, wait_s; /* on a CPU; runnable but waiting for one (schedstat) */
    long slices;
} thr_t;

int thr_snapshot(thr_t *t, int max);
/* -v: one line on stderr, per thread: run and wait-for-a-core time between a and b, in ms. */
void thr_report(const char *what, int rank, const thr_t *a, int na, const thr_t *b, int nb,
                double wall);
/* "name[cpus]=cpu/wall; ..." for the threads that ran between a and b. */
void thr_describe(const thr_t *a, int na, const thr_t *b, int nb, double wall, char *out,
                  size_t size);
/* -p: pin the calling thread to the rank's worker cores; -s: workers under SCHED_IDLE. */
void experiments(int pin_main, int idle_workers);
/* Minor page faults of this process so far (a freshly mapped page costs one). */
long minor_faults(void);

/*
 * The timed steps of starjets in an operator benchmark: `warm` untimed
 * calls of step(arg), then `iters` timed ones. Returns the median seconds
 * per step; *faults gets the minor page faults per step. With -v: each
 * thread's run / wait time (thr_report, labelled `what`) and, on rank 0,
 * the step times in ms.
 */
double sj_time_steps(const bench_t *b, const char *what, int warm, void (*step)(void *arg),
                     void *arg, double *faults);

/* ---- dense benchmarks (dense.c) --------------------------------------------------------- */

/*
 * The OpenBLAS kernel this process runs ("blas_core", openblas_get_corename),
 * the OPENBLAS_CORETYPE that forced it ("blas_coretype", "-" when OpenBLAS
 * chose), and the core OpenBLAS picks by itself on this machine
 * ("blas_core_default": bench/run passes what its probe saw in
 * SJ_BENCH_BLAS_DEFAULT_CORE; the core in use when nothing forced it; else
 * "-"), as JSON keys followed by a comma.
 */
void print_blas_core(void);

/* One timed step of an operator benchmark: `batch` applies (adjoint: of A'), then sj_wait. */
typedef struct op_step {
    sj_op_t A;
    sj_array_t in, out;
    int adjoint, batch;
} op_step_t;

void op_step(void *arg);

/* Small integers, so that every product of the dense benchmarks is exact. */
static inline double small_entry(int b, int64_t r, int64_t c)
{
    return (double)((r * 3 + c * 7 + (int64_t)b * 11) % 9) - 4.0;
}
static inline double small_vec_entry(int64_t k, int which)
{
    return (double)((k * 5 + which * 3) % 7) - 3.0;
}
/* Block b of a dense benchmark, m x n, column-major. */
void fill_block(double *M, int b, int64_t m, int64_t n);

/*
 * The gemv operator benchmarks (blockop_diag, blockop_tall): nb dense m x n
 * blocks applied forward (y = A x) and adjoint (v = A' u) by starjets,
 * against two one-process baselines on rank 0, timed in every round:
 * "omp_blocks" (an OpenMP loop over the blocks, OpenBLAS on 1 thread) and
 * "blas_threads" (the blocks in turn, OpenBLAS on -t threads). The faster
 * median of the two is a direction's baseline. Entries are small integers
 * (small_entry, small_vec_entry), so every result is exact in any order:
 * starjets' and both baselines' outputs must equal plain loops'.
 */
enum { OMP_BLOCKS, BLAS_THREADS, NKINDS };

/* x and v in the domain (dlen elements), y and u in the range (rlen); rank 0 only. */
typedef struct gemv {
    int nb, kind, dir; /* kind and dir: which baseline apply runs */
    int64_t m, n, dlen, rlen;
    double **M;          /* nb blocks, m x n, column-major */
    double *x, *u;       /* forward input, adjoint input */
    double *y, *v;       /* forward output, adjoint output */
    double *yref, *vref; /* the exact y and v (zeros: the benchmark fills them) */
    double *ysj, *vsj;   /* starjets' y and v, gathered */
} gemv_t;

/* What a gemv benchmark defines: its baseline apply and its operator. */
typedef struct gemv_bench {
    void (*base_apply)(void *G); /* one apply of G->kind in G->dir */
    /* The operator; collective, inside a starjets session (ctx: gemv_rounds' ctx). */
    sj_op_t (*make_op)(const gemv_t *G, void *ctx);
    double (*sent)(void); /* optional: bytes this rank sent so far */
    int batch;            /* applies per sj_wait */
} gemv_bench_t;

/* Per round: starjets and both baselines, forward and adjoint (rank 0). */
typedef struct dirs {
    double sj[2][MAX_ROUNDS];
    double base[NKINDS][2][MAX_ROUNDS];
} dirs_t;

/* What the last round measured on the ranks, gathered on rank 0. */
typedef struct gemv_res {
    double faults[2];   /* minor page faults per apply on this rank: forward, adjoint */
    double sent[2];     /* bytes sent per apply, summed over the ranks */
    int *all_ncpus;     /* each rank's CPU workers */
    double *all_faults; /* each rank's faults[2] */
} gemv_res_t;

/* Allocate and fill on rank 0 (nothing elsewhere). */
void gemv_alloc(gemv_t *G, int me, int nb, int64_t m, int64_t n, int64_t dlen, int64_t rlen);
void gemv_free(gemv_t *G, gemv_res_t *res);
/*
 * Collective: the rounds. Per round, both baselines in both directions on
 * rank 0 while the others sleep, then a starjets session that makes the
 * operator and times both directions; every output checked (-v: each
 * round's times). Returns the wrong elements over all ranks.
 */
int64_t gemv_rounds(const bench_t *b, gemv_t *G, const gemv_bench_t *gb, void *ctx, int *argc,
                    char ***argv, dirs_t *d, gemv_res_t *res);
/*
 * The keys starjets_{fwd,adj}_s, baseline_{fwd,adj}_s, baseline_{fwd,adj},
 * {omp_blocks,blas_threads}_{fwd,adj}_s, starjets_/baseline_{fwd,adj}_GBps
 * (for `bytes` per apply), ratio_fwd, ratio_adj and their per-round arrays,
 * then ncpus_per_rank and minor_faults_per_apply, each followed by a comma.
 */
void print_gemv(const dirs_t *d, const gemv_res_t *res, const bench_t *b, double bytes);

#endif /* SJ_BENCH_H */
