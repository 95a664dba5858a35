/*
 * bench_axpy_dot: `y = alpha * x + y` then `dot(x, y)` (blocking), starjets on
 * the ranks of the run against a one-process OpenMP loop measured in the same
 * run on the same cores.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_axpy_dot [options]
 *
 * Options: -n N (elements, default 2^24), -b B (blocks, 16), -a ALPHA (0.5),
 * and those of every benchmark against a baseline (common/bench.h): -i I
 * (timed iterations, 20), -w W (warm-up iterations, 3), -R R (rounds, 3),
 * -t T (OpenMP threads of the baseline, default: the cores this process may
 * use), -v (per-round lines on stderr), -p (experiment: pin the application
 * thread of each rank to its StarPU workers' cores while starjets runs), -s
 * (experiment: run StarPU's CPU workers under SCHED_IDLE).
 *
 * Rounds (common/bench.h): the OpenMP baseline on rank 0 while the other
 * ranks sleep, then the starjets loop between sj_init and sj_finalize.
 *
 * Each iteration is one axpy and one blocking dot; the time of an iteration
 * is taken on rank 0 (the blocking dot ends with a collective, so every rank
 * has finished it). Per round: the median over the timed iterations.
 * Reported: the median over the rounds of those medians (and each round's
 * ratio). A breakdown times axpy alone (followed by sj_wait) and dot alone.
 * Effective bandwidth counts 5 doubles per element: 3 for axpy (read x,
 * read y, write y) and 2 for dot.
 *
 * Exactness: x = 1 and y = 2 initially, alpha = 0.5: after k axpys every
 * y element is 2 + k * alpha (exact in binary), so dot(x, y) is exactly
 * n * (2 + k * alpha) in any summation order. Every dot is checked against
 * that value; the program exits with status 1 if one differs.
 *
 * One JSON object on stdout (rank 0); diagnostics on stderr.
 */
#define _GNU_SOURCE
#include <omp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- the OpenMP baseline --------------------------------------------------- */

static void omp_axpy(int64_t n, double alpha, const double *restrict x, double *restrict y)
{
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] = alpha * x[i] + y[i];
}

/* Eight independent partial sums per thread (four SSE2 accumulators after
 * vectorisation), so that the loop is limited by memory, not by the latency
 * of one chain of additions as a plain `reduction(+ : s)` loop is. */
static double omp_dot(int64_t n, const double *restrict x, const double *restrict y)
{
    double s = 0;
    const int64_t n8 = n / 8 * 8;
#pragma omp parallel reduction(+ : s)
    {
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
#pragma omp for schedule(static) nowait
        for (int64_t i = 0; i < n8; i += 8) {
            a0 += x[i] * y[i];
            a1 += x[i + 1] * y[i + 1];
            a2 += x[i + 2] * y[i + 2];
            a3 += x[i + 3] * y[i + 3];
            a4 += x[i + 4] * y[i + 4];
            a5 += x[i + 5] * y[i + 5];
            a6 += x[i + 6] * y[i + 6];
            a7 += x[i + 7] * y[i + 7];
        }
        s += ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    }
    for (int64_t i = n8; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* ---- one side (OpenMP or starjets) of a round ------------------------------------------ */

typedef struct result {
    double iter_s, iter_min_s, iter_max_s;
    double axpy_s, dot_s;
    int bad;
    double first_bad, first_expected;
    char threads[1024]; /* per-thread CPU time / wall time during the main loop */
    char times[1024];   /* the timed iterations, ms (for -v) */
} result_t;

/* The OpenMP side works on x and y, starjets on sx and sy. */
typedef struct side {
    int64_t n;
    double alpha;
    int k; /* axpys so far: y = 2 + k alpha */
    result_t *r;
    double *x, *y;
    sj_array_t sx, sy;
} side_t;

/* y = alpha x + y; starjets waits for it when it is timed alone. */
static void axpy(side_t *s, int alone)
{
    if (s->x) {
        omp_axpy(s->n, s->alpha, s->x, s->y);
    } else {
        CHECK(sj_array_axpy(s->alpha, s->sx, s->sy));
        if (alone)
            CHECK(sj_wait());
    }
    s->k++;
}

/* dot(x, y), checked: every y element is exactly 2 + k alpha, so the dot is n (2 + k alpha). */
static void dot(side_t *s)
{
    double got = 0, want = (double)s->n * (2.0 + (double)s->k * s->alpha);
    if (s->x)
        got = omp_dot(s->n, s->x, s->y);
    else
        CHECK(sj_array_dot(s->sx, s->sy, &got));
    if (got != want && !s->r->bad) {
        s->r->first_bad = got;
        s->r->first_expected = want;
    }
    s->r->bad += got != want;
}

static void step_both(void *s)
{
    axpy(s, 0);
    dot(s);
}

static void step_axpy(void *s)
{
    axpy(s, 1);
}

static void step_dot(void *s)
{
    dot(s);
}

/* The iterations of one round: axpy + dot (with each thread's CPU use), then each alone. */
static void run_side(side_t *s, int warm, int iters)
{
    result_t *r = s->r;
    double *t = xmalloc((size_t)iters * sizeof *t);
    thr_t s0[MAX_THR], s1[MAX_THR];
    time_steps(warm, 0, step_both, s, t);
    int n0 = thr_snapshot(s0, MAX_THR);
    double w0 = now();
    r->iter_s = time_steps(0, iters, step_both, s, t);
    int n1 = thr_snapshot(s1, MAX_THR);
    thr_describe(s0, n0, s1, n1, now() - w0, r->threads, sizeof r->threads);
    r->iter_min_s = vmin(t, iters);
    r->iter_max_s = vmax(t, iters);
    size_t len = 0;
    for (int i = 0; i < iters && len < sizeof r->times; i++) {
        int k = snprintf(r->times + len, sizeof r->times - len, "%s%.1f", i ? " " : "", t[i] * 1e3);
        if (k < 0)
            break;
        len += (size_t)k;
    }
    r->axpy_s = time_steps(warm, iters, step_axpy, s, t);
    r->dot_s = time_steps(warm, iters, step_dot, s, t);
    free(t);
}

/* One round of the baseline on x, y (x = 1; y is reset to 2). */
static void run_openmp(result_t *r, int64_t n, double *x, double *y, int warm, int iters,
                       double alpha)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] = 2.0;
    side_t s = {.n = n, .alpha = alpha, .r = r, .x = x, .y = y};
    run_side(&s, warm, iters);
}

/* One round of starjets (between sj_init and sj_finalize). */
static void run_starjets(result_t *r, int64_t n, int nblocks, int warm, int iters, double alpha)
{
    sj_space_t space;
    sj_dist_t dist;
    side_t s = {.n = n, .alpha = alpha, .r = r};
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){nblocks}, &space));
    CHECK(sj_dist_create_default(space, &dist));
    CHECK(sj_array_ones(space, dist, &s.sx));
    CHECK(sj_array_filled(space, dist, 2.0, &s.sy));
    CHECK(sj_wait());
    run_side(&s, warm, iters);
    CHECK(sj_array_destroy(&s.sx));
    CHECK(sj_array_destroy(&s.sy));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
}

/* Median over rounds of one field of result_t. */
static double round_median(const result_t *r, int nr, size_t offset)
{
    double v[MAX_ROUNDS];
    for (int i = 0; i < nr; i++)
        v[i] = *(const double *)((const char *)&r[i] + offset);
    return median(v, nr);
}
#define RMED(r, nr, field) round_median((r), (nr), offsetof(result_t, field))

static void print_strings(const char *key, const char *all, size_t stride, int count)
{
    printf("\"%s\":[", key);
    for (int i = 0; i < count; i++)
        printf("%s\"%s\"", i ? "," : "", all + (size_t)i * stride);
    printf("],");
}

int main(int argc, char **argv)
{
    int64_t n = (int64_t)1 << 24;
    int nblocks = 16;
    double alpha = 0.5;
    bench_t bt = {.iters = 20, .warm = 3, .rounds = 3};
    bench_opt_t opt[] = {OPT('n', n, "elements"), OPT('b', nblocks, "blocks"), BENCH_OPTS(bt),
                         OPT('a', alpha, "alpha")};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || !bench_valid(&bt) || n < 1 || nblocks < 1 ||
        nblocks > n)
        return bench_usage(argv[0], opt, NOPT(opt));
    bench_start(&bt, &argc, &argv);
    const int me = bt.me, np = bt.np;

    /* What the user asked for, before sj_init sets its own defaults. */
    char user_env[512];
    snprintf(user_env, sizeof user_env,
             "SJ_PLACEMENT=%s SJ_SCHED=%s SJ_NCPUS=%s STARPU_NCPU=%s STARPU_WORKERS_NOBIND=%s "
             "STARPU_MPI_NOBIND=%s STARPU_MPI_THREAD_CPUID=%s STARPU_SCHED=%s "
             "OMPI_MCA_mpi_yield_when_idle=%s",
             env_or("SJ_PLACEMENT", "-"), env_or("SJ_SCHED", "-"), env_or("SJ_NCPUS", "-"),
             env_or("STARPU_NCPU", "-"), env_or("STARPU_WORKERS_NOBIND", "-"),
             env_or("STARPU_MPI_NOBIND", "-"), env_or("STARPU_MPI_THREAD_CPUID", "-"),
             env_or("STARPU_SCHED", "-"), env_or("OMPI_MCA_mpi_yield_when_idle", "-"));

    /* The baseline's data, on rank 0, allocated and first touched once. */
    double *bx = NULL, *by = NULL;
    int nthreads = 0;
    if (me == 0) {
#pragma omp parallel
#pragma omp single
        nthreads = omp_get_num_threads();
        bx = xmalloc((size_t)n * sizeof *bx);
        by = xmalloc((size_t)n * sizeof *by);
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; i++) {
            bx[i] = 1.0;
            by[i] = 2.0;
        }
    }

    result_t *omp = xcalloc((size_t)bt.rounds, sizeof *omp);
    result_t *sj = xcalloc((size_t)bt.rounds, sizeof *sj);
    double ratio[MAX_ROUNDS];
    const char *sched = "lws", *placement = "split";
    char sj_env[256] = "";
    for (int r = 0; r < bt.rounds; r++) {
        /* 1. The baseline on rank 0, the others asleep (StarPU is not running). */
        if (me == 0)
            run_openmp(&omp[r], n, bx, by, bt.warm, bt.iters, alpha);
        quiet_barrier();

        /* 2. starjets. */
        bench_session_t s;
        bench_session_begin(&s, &bt, &argc, &argv);
        sched = s.opts.sched ? s.opts.sched : "lws";
        placement = s.opts.placement == SJ_PLACE_SPLIT          ? "split"
                    : s.opts.placement == SJ_PLACE_SPLIT_NOBIND ? "nobind"
                                                                : "starpu";
        run_starjets(&sj[r], n, nblocks, bt.warm, bt.iters, alpha);
        snprintf(sj_env, sizeof sj_env,
                 "ncpus=%d STARPU_WORKERS_NOBIND=%s STARPU_MPI_NOBIND=%s "
                 "STARPU_MPI_THREAD_CPUID=%s",
                 sj_ncpus(), env_or("STARPU_WORKERS_NOBIND", "-"), env_or("STARPU_MPI_NOBIND", "-"),
                 env_or("STARPU_MPI_THREAD_CPUID", "-"));
        bench_session_end(&s);
        ratio[r] = me == 0 ? omp[r].iter_s / sj[r].iter_s : 0;
        if (bt.verbose && me == 0)
            fprintf(stderr,
                    "round %d: openmp %.3f ms, starjets %.3f ms, ratio %.3f; openmp threads: %s; "
                    "starjets rank 0 threads: %s\n  openmp ms: %s\n  starjets ms: %s\n",
                    r, omp[r].iter_s * 1e3, sj[r].iter_s * 1e3, ratio[r], omp[r].threads,
                    sj[r].threads, omp[r].times, sj[r].times);
    }

    /* Gather the per-rank descriptions (last round) and the checks on rank 0. */
    const size_t tsz = sizeof sj[0].threads;
    char *all_threads = gather(sj[bt.rounds - 1].threads, (int)tsz, MPI_CHAR);
    char *all_env = gather(sj_env, sizeof sj_env, MPI_CHAR);
    int64_t bad = 0;
    for (int r = 0; r < bt.rounds; r++) {
        if (sj[r].bad)
            fprintf(stderr,
                    "bench_axpy_dot: rank %d round %d: %d wrong starjets dot(s), first %.17g, "
                    "expected %.17g\n",
                    me, r, sj[r].bad, sj[r].first_bad, sj[r].first_expected);
        if (omp[r].bad)
            fprintf(stderr,
                    "bench_axpy_dot: round %d: %d wrong OpenMP dot(s), first %.17g, expected "
                    "%.17g\n",
                    r, omp[r].bad, omp[r].first_bad, omp[r].first_expected);
        bad += sj[r].bad + omp[r].bad;
    }
    const int64_t anybad = sum_ranks(bad);

    if (me == 0) {
        const int R = bt.rounds;
        const double bytes = 5.0 * 8.0 * (double)n;
        const double sj_s = RMED(sj, R, iter_s), omp_s = RMED(omp, R, iter_s);
        printf("{\"bench\":\"axpy_dot\",\"n\":%lld,\"blocks\":%d,\"ranks\":%d,\"iterations\":%d,"
               "\"warmups\":%d,\"rounds\":%d,",
               (long long)n, nblocks, np, bt.iters, bt.warm, R);
        printf("\"starjets_s\":%.6g,\"openmp_s\":%.6g,\"starjets_GBps\":%.4g,\"openmp_GBps\":%.4g,"
               "\"ratio\":%.4f,\"target\":0.85,\"ratio_median_of_rounds\":%.4f,",
               sj_s, omp_s, bytes / sj_s * 1e-9, bytes / omp_s * 1e-9, omp_s / sj_s,
               median(ratio, R));
        print_array("ratio_per_round", "%.4f", ratio, R);
        printf("\"starjets_min_s\":%.6g,\"starjets_max_s\":%.6g,\"openmp_min_s\":%.6g,"
               "\"openmp_max_s\":%.6g,",
               RMED(sj, R, iter_min_s), RMED(sj, R, iter_max_s), RMED(omp, R, iter_min_s),
               RMED(omp, R, iter_max_s));
        printf("\"starjets_axpy_s\":%.6g,\"starjets_dot_s\":%.6g,\"openmp_axpy_s\":%.6g,"
               "\"openmp_dot_s\":%.6g,",
               RMED(sj, R, axpy_s), RMED(sj, R, dot_s), RMED(omp, R, axpy_s), RMED(omp, R, dot_s));
        printf("\"openmp_threads\":%d,\"sched\":\"%s\",\"placement\":\"%s\",\"pin_main\":%s,"
               "\"idle_workers\":%s,\"user_env\":\"%s\",",
               nthreads, sched, placement, json_bool(bt.pin_main), json_bool(bt.idle_workers),
               user_env);
        print_strings("ranks_env", all_env, sizeof sj_env, np);
        printf("\"openmp_threads_cpu_per_wall\":\"%s\",", omp[R - 1].threads);
        print_strings("threads_cpu_per_wall", all_threads, tsz, np);
        printf("\"load1\":%.2f,\"correct\":%s}\n", bt.load_start, json_bool(!anybad));
        fflush(stdout);
    }
    free(all_threads);
    free(all_env);
    free(omp);
    free(sj);
    free(bx);
    free(by);
    MPI_Finalize();
    return anybad ? 1 : 0;
}
