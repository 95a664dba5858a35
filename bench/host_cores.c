/*
 * bench_host_cores: does a host code get its cores back between starjets
 * calls? The host's OpenMP loop (a triad over 2^22 doubles, repeated, on this
 * rank's share of the node's cores) is timed in the same process:
 *  1. before sj_init (the baseline: a program that never started starjets),
 *  2. after sj_init and some starjets work ended by sj_wait, workers idle,
 *  3. the same between sj_pause() and sj_resume().
 * Reported: the loop's median time in each state and baseline / state
 * (target >= 0.95 for the idle and the paused state; docs/embedding.md).
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 STARPU_SILENT=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_host_cores [-n N] [-r R]
 *
 * Options: -n elements per rank (2^22), -r timed loops per state (15). Each
 * state's loops follow one untimed loop. One JSON object on stdout (rank 0);
 * exit 1 when a loop's result is wrong.
 */
#include <mpi.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <starjets.h>

#include "bench.h"

#define MAX_R 64

static double triad(double *a, const double *b, const double *c, int64_t n, int threads)
{
    double t0 = now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; i++)
        a[i] = b[i] + 0.5 * c[i];
    return now() - t0;
}

static double state_median(double *a, const double *b, const double *c, int64_t n, int threads,
                           int reps, int *wrong)
{
    double t[MAX_R];
    triad(a, b, c, n, threads); /* untimed: caches, page faults, thread wake-ups */
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        t[r] = triad(a, b, c, n, threads);
    }
    for (int64_t i = 0; i < n; i += n / 97 + 1)
        *wrong += a[i] != b[i] + 0.5 * c[i];
    return median(t, reps);
}

int main(int argc, char **argv)
{
    int64_t n = (int64_t)1 << 22;
    int reps = 15, opt;
    while ((opt = getopt(argc, argv, "n:r:h")) != -1) {
        if (opt == 'n')
            n = strtoll(optarg, NULL, 0);
        else if (opt == 'r')
            reps = atoi(optarg);
        else {
            fprintf(stderr, "usage: %s [-n elements per rank] [-r loops per state]\n", argv[0]);
            return 2;
        }
    }
    if (n < 1 || reps < 1 || reps > MAX_R) {
        fprintf(stderr, "bench_host_cores: -n >= 1, -r 1..%d\n", MAX_R);
        return 2;
    }
    int level = 0, me = 0, local = 0, nlocal = 1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local);
    MPI_Comm_size(node, &nlocal);
    MPI_Comm_free(&node);
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const int threads = cores / nlocal > 0 ? (int)(cores / nlocal) : 1;
    double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b),
           *c = malloc((size_t)n * sizeof *c);
    for (int64_t i = 0; i < n; i++) {
        b[i] = (double)(i % 1000);
        c[i] = (double)(i % 7);
        a[i] = 0;
    }
    int wrong = 0;
    const double base = state_median(a, b, c, n, threads, reps, &wrong);

    CHECK(sj_init(&argc, &argv, NULL));
    sj_space_t s;
    sj_array_t x;
    CHECK(
        sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n * sj_nranks()}, (int[]){4 * sj_nranks()}, &s));
    CHECK(sj_array_rand(s, NULL, 3, &x));
    for (int k = 0; k < 10; k++)
        CHECK(sj_array_scale(1.0001, x));
    double dot = 0;
    CHECK(sj_array_dot(x, x, &dot));
    CHECK(sj_wait());
    const double idle = state_median(a, b, c, n, threads, reps, &wrong);
    CHECK(sj_pause());
    const double paused = state_median(a, b, c, n, threads, reps, &wrong);
    CHECK(sj_resume());
    CHECK(sj_array_destroy(&x));
    CHECK(sj_space_destroy(&s));
    const int ranks = sj_nranks(), workers = sj_ncpus();
    sj_stats_t st;
    CHECK(sj_stats_get(&st));
    const int adaptive = st.adaptive_polling;
    CHECK(sj_finalize());

    int bad = 0;
    MPI_Allreduce(&wrong, &bad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    double worst[3] = {base, idle, paused}, w[3];
    MPI_Allreduce(worst, w, 3, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD); /* the slowest rank's */
    if (me == 0)
        printf("{\"bench\":\"host_cores\",\"ranks\":%d,\"omp_threads\":%d,\"workers_per_rank\":%d,"
               "\"adaptive_polling\":%d,\"n\":%lld,\"loops\":%d,"
               "\"ms\":{\"before_init\":%.4f,\"idle\":%.4f,\"paused\":%.4f},"
               "\"ratio\":{\"idle\":%.3f,\"paused\":%.3f},\"correct\":%s}\n",
               ranks, threads, workers, adaptive, (long long)n, reps, 1e3 * w[0], 1e3 * w[1],
               1e3 * w[2], w[0] / w[1], w[0] / w[2], bad ? "false" : "true");
    free(a);
    free(b);
    free(c);
    MPI_Finalize();
    return bad ? 1 : 0;
}
