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
 * run the same cell loop (heat_box below): OpenMP on a grid padded with a
 * frame of zeros, its threads taking contiguous ranges of columns; starjets
 * through the user function of sj_array_stencil, on the interior of each
 * block in place and on the frame slabs it assembles. The steps chain
 * without waiting (one sj_wait after the last).
 *
 * Order of events per round, so that no spinning StarPU thread disturbs the
 * baseline: rank 0 runs the OpenMP loop while the other ranks sleep in a
 * polled MPI_Ibarrier; then sj_init, the starjets runs (the default
 * SJ_STENCIL_SPLIT mode, then SJ_STENCIL_PADDED for comparison), sj_finalize.
 * Reported: medians over rounds of each side's time for the timed steps,
 * Mcells/s = n^2 * steps / time, and ratio = OpenMP time / starjets time.
 *
 * Exactness: both sides compute each cell with the same expression from the
 * same values, so the grids must be equal bit for bit; each round gathers
 * starjets' result on rank 0 and compares it with the OpenMP grid (exit
 * status 1 if they differ).
 */
#define _GNU_SOURCE
#include <math.h>
#include <mpi.h>
#include <omp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <starjets.h>

#include "bench_util.h"
#include "heat_kernel.h"

/* ---- starjets side ----------------------------------------------------------- */

typedef struct sj_result {
    double time_s, padded_s;
    int bad;
} sj_result_t;

/* Time `steps` steps (after `warm` untimed ones) in one mode; result left in *a. */
static double run_steps(sj_array_t *a, sj_array_t *b, int warm, int steps,
                        sj_stencil_mode_t mode)
{
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    o.mode = mode;
    double t0 = 0;
    for (int s = 0; s < warm + steps; s++) {
        if (s == warm) {
            CHECK(sj_wait());
            t0 = MPI_Wtime();
        }
        CHECK(sj_array_stencil(*a, *b, 1, SJ_BOUNDARY_FIXED, &o, heat_fn, NULL, 0));
        sj_array_t t = *a;
        *a = *b;
        *b = t;
    }
    CHECK(sj_wait());
    return MPI_Wtime() - t0;
}

/* Count cells of starjets' grid (gathered on rank 0) that differ from the baseline's. */
static int compare(sj_array_t a, const double *ref, int64_t n, int me)
{
    double *got = me == 0 ? malloc((size_t)(n * n) * sizeof *got) : NULL;
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

/* ---- OpenMP side ------------------------------------------------------------- */

/* `warm + steps` steps on padded grids u, v ((n+2)^2, frame 0); result in *u. */
static double run_openmp(double **u, double **v, int64_t n, int warm, int steps)
{
    const int64_t p = n + 2;
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < p; i++) {
            int inside = i > 0 && i <= n && j > 0 && j <= n;
            (*u)[i + p * j] = inside ? initial(i - 1, j - 1, n) : 0.0;
            (*v)[i + p * j] = 0.0;
        }
    double t0 = 0;
    for (int s = 0; s < warm + steps; s++) {
        if (s == warm)
            t0 = omp_get_wtime();
        double *in = *u + 1 + p, *out = *v + 1 + p;
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < n; j++)
            heat_box(out, p, in, p, 0, n, j, j + 1);
        double *t = *u;
        *u = *v;
        *v = t;
    }
    return omp_get_wtime() - t0;
}

/* ---- driver -------------------------------------------------------------------- */

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-n side] [-s steps] [-w warmups] [-R rounds] [-b PxQ] "
                    "[-t omp_threads] [-v]\n",
            prog);
}

int main(int argc, char **argv)
{
    int64_t n = 8192;
    int steps = 20, warm = 2, rounds = 3, omp_threads = 0, verbose = 0, nb[2] = {0, 0};
    int opt;
    while ((opt = getopt(argc, argv, "n:s:w:R:b:t:vh")) != -1) {
        switch (opt) {
        case 'n': n = strtoll(optarg, NULL, 0); break;
        case 's': steps = atoi(optarg); break;
        case 'w': warm = atoi(optarg); break;
        case 'R': rounds = atoi(optarg); break;
        case 'b':
            if (sscanf(optarg, "%dx%d", &nb[0], &nb[1]) != 2)
                nb[0] = -1;
            break;
        case 't': omp_threads = atoi(optarg); break;
        case 'v': verbose = 1; break;
        default: usage(argv[0]); return 2;
        }
    }
    int level = 0, me = 0, np = 1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (nb[0] == 0) {
        nb[0] = 1;
        nb[1] = np;
    }
    if (n < 3 || steps < 1 || warm < 0 || rounds < 1 || rounds > 64 || nb[0] < 1 || nb[1] < 1 ||
        nb[0] > n || nb[1] > n) {
        if (me == 0)
            usage(argv[0]);
        MPI_Finalize();
        return 2;
    }
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;

    /* The baseline's grids, on rank 0, allocated once. */
    double *u = NULL, *v = NULL;
    int nthreads = 0;
    if (me == 0) {
        if (omp_threads <= 0) {
            cpu_set_t set;
            omp_threads = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 2;
        }
        omp_set_num_threads(omp_threads);
#pragma omp parallel
#pragma omp single
        nthreads = omp_get_num_threads();
        size_t bytes = (size_t)((n + 2) * (n + 2)) * sizeof(double);
        if (posix_memalign((void **)&u, 64, bytes) || posix_memalign((void **)&v, 64, bytes)) {
            fprintf(stderr, "bench_heat: out of memory for the baseline\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }

    double omp_s[64], sj_s[64], pad_s[64], ratio[64];
    int bad = 0, ncpus = 0;
    const char *sched = "lws";
    for (int r = 0; r < rounds; r++) {
        if (me == 0)
            omp_s[r] = run_openmp(&u, &v, n, warm, steps);
        quiet_barrier();

        sj_init_options_t opts;
        sj_init_options_default(&opts);
        CHECK(sj_init(&argc, &argv, &opts));
        sched = opts.sched ? opts.sched : "lws";
        ncpus = sj_ncpus();
        sj_result_t res;
        run_starjets(&res, n, nb, warm, steps, u, me);
        CHECK(sj_finalize());
        sj_s[r] = res.time_s;
        pad_s[r] = res.padded_s;
        bad += res.bad;
        ratio[r] = me == 0 ? omp_s[r] / sj_s[r] : 0;
        if (verbose && me == 0)
            fprintf(stderr, "round %d: openmp %.1f ms, starjets %.1f ms (padded %.1f ms), "
                            "ratio %.3f\n",
                    r, omp_s[r] * 1e3, sj_s[r] * 1e3, pad_s[r] * 1e3, ratio[r]);
    }
    int anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);

    if (me == 0) {
        const double cells = (double)n * (double)n * steps;
        const double so = median(omp_s, rounds), ss = median(sj_s, rounds),
                     sp = median(pad_s, rounds);
        printf("{\"bench\":\"heat\",\"n\":%lld,\"steps\":%d,\"warmups\":%d,\"rounds\":%d,"
               "\"ranks\":%d,\"blocks\":\"%dx%d\",\"workers_per_rank\":%d,\"sched\":\"%s\","
               "\"openmp_threads\":%d,",
               (long long)n, steps, warm, rounds, np, nb[0], nb[1], ncpus, sched, nthreads);
        printf("\"openmp_s\":%.6g,\"starjets_s\":%.6g,\"starjets_padded_s\":%.6g,"
               "\"openmp_Mcells_per_s\":%.1f,\"starjets_Mcells_per_s\":%.1f,"
               "\"starjets_padded_Mcells_per_s\":%.1f,\"ratio\":%.4f,\"ratio_padded\":%.4f,"
               "\"target\":0.85,\"ratio_median_of_rounds\":%.4f,",
               so, ss, sp, cells / so * 1e-6, cells / ss * 1e-6, cells / sp * 1e-6, so / ss,
               so / sp, median(ratio, rounds));
        printf("\"ratio_per_round\":[");
        for (int r = 0; r < rounds; r++)
            printf("%s%.4f", r ? "," : "", ratio[r]);
        printf("],\"load1\":%.2f,\"correct\":%s}\n", load[0], anybad ? "false" : "true");
        fflush(stdout);
    }
    free(u);
    free(v);
    MPI_Finalize();
    return anybad ? 1 : 0;
}
