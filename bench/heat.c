/*
 * bench_heat: 2-D heat equation, explicit 5-point stencil with a fixed
 * boundary, on an n x n grid of doubles: starjets' sj_array_stencil on the
 * ranks of the run against a one-process OpenMP loop measured in the same run
 * on the same cores.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_heat [options]
 *
 * Options: -n N (grid side, default 8192), -s S (timed steps, 20), -w W
 * (warm-up steps, 2), -R R (rounds, 3), -b PxQ (block grid, default 1 x
 * ranks: one block of full columns per rank), -t T (OpenMP threads of the
 * baseline, default: the cores this process may use), -v (per-round lines on
 * stderr).
 *
 * One step is `v = u + k * (u(i-1,j) + u(i+1,j) + u(i,j-1) + u(i,j+1) - 4 u)`
 * for every cell, with u = 0 outside the grid, then u and v swap. Both sides
 * run the same cell loop (heat_box, heat_kernel.h): OpenMP on a grid padded with a
 * frame of zeros, its threads taking contiguous ranges of columns; starjets
 * through the user function of sj_array_stencil, on the interior of each
 * block in place and on the frame slabs it assembles. The steps chain
 * without waiting (one sj_wait after the last).
 *
 * Rounds (common/bench.h): rank 0 runs the OpenMP loop while the other ranks
 * sleep; then sj_init, the starjets runs (the default SJ_STENCIL_SPLIT mode,
 * then SJ_STENCIL_PADDED for comparison), sj_finalize.
 * Reported: medians over rounds of each side's time for the timed steps,
 * Mcells/s = n^2 * steps / time, and ratio = OpenMP time / starjets time.
 *
 * Exactness: both sides compute each cell with the same expression from the
 * same values, so the grids must be equal bit for bit; each round gathers
 * starjets' result on rank 0 and compares it with the OpenMP grid (exit
 * status 1 if they differ).
 */
#define _GNU_SOURCE
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "heat_kernel.h"

/* ---- starjets side ----------------------------------------------------------- */

typedef struct sj_result {
    double time_s, padded_s;
    int bad;
} sj_result_t;

/* Time `steps` steps (after `warm` untimed ones) in one mode; result left in *a. */
static double run_steps(sj_array_t *a, sj_array_t *b, int warm, int steps, sj_stencil_mode_t mode)
{
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    o.mode = mode;
    double t0 = 0;
    for (int s = 0; s < warm + steps; s++) {
        if (s == warm) {
            CHECK(sj_wait());
            t0 = now();
        }
        CHECK(sj_array_stencil(*a, *b, 1, SJ_BOUNDARY_FIXED, &o, heat_fn, NULL, 0));
        sj_array_t t = *a;
        *a = *b;
        *b = t;
    }
    CHECK(sj_wait());
    return now() - t0;
}

/* Count cells of starjets' grid (gathered on rank 0) that differ from the baseline's. */
static int compare(sj_array_t a, const double *ref, int64_t n, int me)
{
    double *got = me == 0 ? xmalloc((size_t)(n * n) * sizeof *got) : NULL;
    CHECK(sj_array_gather(a, 0, got));
    int bad = 0;
    if (me == 0) {
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < n; i++)
                if (got[i + n * j] != ref[(i + 1) + (n + 2) * (j + 1)]) {
                    if (bad < 3)
                        fprintf(stderr, "bench_heat: cell (%lld, %lld) is %.17g, OpenMP %.17g\n",
                                (long long)i, (long long)j, got[i + n * j],
                                ref[(i + 1) + (n + 2) * (j + 1)]);
                    bad++;
                }
    }
    free(got);
    return bad;
}

static void run_starjets(sj_result_t *r, int64_t n, const int nb[2], int warm, int steps,
                         const double *ref, int me)
{
    sj_space_t space;
    sj_array_t a, b;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){n, n}, nb, &space));
    CHECK(sj_array_create_init(space, NULL, init_fn, NULL, 0, &a));
    CHECK(sj_array_zeros(space, NULL, &b));
    r->time_s = run_steps(&a, &b, warm, steps, SJ_STENCIL_SPLIT);
    r->bad = compare(a, ref, n, me);
    /* The padded mode from the same start, for the design comparison. */
    CHECK(sj_array_destroy(&a));
    CHECK(sj_array_create_init(space, NULL, init_fn, NULL, 0, &a));
    r->padded_s = run_steps(&a, &b, warm, steps, SJ_STENCIL_PADDED);
    r->bad += compare(a, ref, n, me);
    CHECK(sj_array_destroy(&a));
    CHECK(sj_array_destroy(&b));
    CHECK(sj_space_destroy(&space));
}

/* ---- driver -------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int64_t n = 8192;
    int nb[2] = {0, 0};
    bench_t bt = {.iters = 20, .warm = 2, .rounds = 3};
    bench_opt_t opt[] = {OPT('n', n, "side"),          OPT('s', bt.iters, "steps"),
                         OPT('w', bt.warm, "warmups"), OPT('R', bt.rounds, "rounds"),
                         OPT_GRID('b', nb, "PxQ"),     OPT('t', bt.threads, "omp_threads"),
                         OPT_FLAG('v', bt.verbose)};
    if (bench_parse(argc, argv, opt, NOPT(opt)))
        return bench_usage(argv[0], opt, NOPT(opt));
    bench_start(&bt, &argc, &argv);
    const int me = bt.me, np = bt.np;
    if (nb[0] == 0) {
        nb[0] = 1;
        nb[1] = np;
    }
    if (n < 3 || !bench_valid(&bt) || nb[0] < 1 || nb[1] < 1 || nb[0] > n || nb[1] > n) {
        if (me == 0)
            bench_usage(argv[0], opt, NOPT(opt));
        MPI_Finalize();
        return 2;
    }

    /* The baseline's grids, on rank 0, allocated once. */
    double *u = NULL, *v = NULL;
    int nthreads = 0;
    if (me == 0) {
#pragma omp parallel
#pragma omp single
        nthreads = omp_get_num_threads();
        u = xmalloc((size_t)((n + 2) * (n + 2)) * sizeof *u);
        v = xmalloc((size_t)((n + 2) * (n + 2)) * sizeof *v);
    }

    double omp_s[MAX_ROUNDS], sj_s[MAX_ROUNDS], pad_s[MAX_ROUNDS], ratio[MAX_ROUNDS];
    int64_t bad = 0;
    int ncpus = 0;
    const char *sched = "lws";
    for (int r = 0; r < bt.rounds; r++) {
        if (me == 0)
            omp_s[r] = heat_padded(&u, &v, n, bt.warm, bt.iters, 1);
        quiet_barrier();

        bench_session_t s;
        bench_session_begin(&s, &bt, &argc, &argv);
        sched = s.opts.sched ? s.opts.sched : "lws";
        ncpus = sj_ncpus();
        sj_result_t res;
        run_starjets(&res, n, nb, bt.warm, bt.iters, u, me);
        bench_session_end(&s);
        sj_s[r] = res.time_s;
        pad_s[r] = res.padded_s;
        bad += res.bad;
        ratio[r] = me == 0 ? omp_s[r] / sj_s[r] : 0;
        if (bt.verbose && me == 0)
            fprintf(stderr,
                    "round %d: openmp %.1f ms, starjets %.1f ms (padded %.1f ms), "
                    "ratio %.3f\n",
                    r, omp_s[r] * 1e3, sj_s[r] * 1e3, pad_s[r] * 1e3, ratio[r]);
    }
    const int64_t anybad = sum_ranks(bad);

    if (me == 0) {
        const int R = bt.rounds;
        const double cells = (double)n * (double)n * bt.iters;
        const double so = median(omp_s, R), ss = median(sj_s, R), sp = median(pad_s, R);
        printf("{\"bench\":\"heat\",\"n\":%lld,\"steps\":%d,\"warmups\":%d,\"rounds\":%d,"
               "\"ranks\":%d,\"blocks\":\"%dx%d\",\"workers_per_rank\":%d,\"sched\":\"%s\","
               "\"openmp_threads\":%d,",
               (long long)n, bt.iters, bt.warm, R, np, nb[0], nb[1], ncpus, sched, nthreads);
        printf("\"openmp_s\":%.6g,\"starjets_s\":%.6g,\"starjets_padded_s\":%.6g,"
               "\"openmp_Mcells_per_s\":%.1f,\"starjets_Mcells_per_s\":%.1f,"
               "\"starjets_padded_Mcells_per_s\":%.1f,\"ratio\":%.4f,\"ratio_padded\":%.4f,"
               "\"target\":0.85,\"ratio_median_of_rounds\":%.4f,",
               so, ss, sp, cells / so * 1e-6, cells / ss * 1e-6, cells / sp * 1e-6, so / ss,
               so / sp, median(ratio, R));
        print_array("ratio_per_round", "%.4f", ratio, R);
        printf("\"load1\":%.2f,\"correct\":%s}\n", bt.load_start, json_bool(!anybad));
        fflush(stdout);
    }
    free(u);
    free(v);
    MPI_Finalize();
    return anybad ? 1 : 0;
}
