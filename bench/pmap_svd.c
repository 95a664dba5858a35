/*
 * bench_pmap_svd: the pmap example of the Julia tutorial, `pmap(svdvals, M)`
 * for 10 random 200 x 200 matrices, against the serial `map(svdvals, M)` in
 * the same run. Target (DESIGN §6): sj_pmap at least 1.8 x faster than the
 * serial loop on 2 ranks of one core each.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_pmap_svd [options]
 *
 * Options: -m MATRICES (10), -n ORDER (200), -r REPS (timed maps per round,
 * 5), -w WARM (warm-up maps per round, 1), -R ROUNDS (3).
 *
 * An item copies its matrix (LAPACK overwrites it) and computes its singular
 * values with LAPACKE_dgesdd (jobz 'N'). The serial loop does exactly the
 * same on rank 0 with OpenBLAS on one thread (as inside starjets' tasks); it
 * is also timed with OpenBLAS on all the cores rank 0 may use
 * (`serial_blas_threads_s`), for reference.
 *
 * Order of events, so that no spinning StarPU thread disturbs the baseline:
 *  1. MPI_Init_thread(MPI_THREAD_MULTIPLE) (sj_init accepts it);
 *  2. rank 0 runs the serial loop while the other ranks wait in an
 *     MPI_Ibarrier polled every millisecond (asleep, not spinning);
 *  3. sj_init, the sj_pmap maps (timed on rank 0: the call is blocking and
 *     the results are in place when it returns), sj_finalize;
 *  4. steps 2-3 are one round; rounds repeat (-R).
 * Reported: the median over rounds of the per-round medians, the speedup
 * serial / pmap, each round's speedup, and how many matrices each rank did.
 * Every pmap result is compared with the serial one (relative difference at
 * most 1e-12); the program exits with status 1 otherwise.
 *
 * One JSON object on stdout (rank 0); diagnostics on stderr.
 */
#define _GNU_SOURCE
#include <math.h>
#include <mpi.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <starjets.h>

#if SJ_HAVE_LAPACKE
#include <lapacke.h>
#endif

#include "bench_util.h"

#if SJ_HAVE_LAPACKE

/* OpenBLAS's thread control, when the BLAS is OpenBLAS. */
extern void openblas_set_num_threads(int) __attribute__((weak));

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait for every rank in a barrier without spinning (1 ms polls). */
static void quiet_barrier(void)
{
    MPI_Request req;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    int done = 0;
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        sleep_ms(1);
}

/* svdvals: in = an order x order matrix (column-major), out = its singular values. */
static int svdvals(int64_t index, const void *in, void *out, void *ctx)
{
    (void)index;
    const int n = *(const int *)ctx;
    double *a = malloc((size_t)n * (size_t)n * sizeof *a);
    if (!a)
        return 1;
    memcpy(a, in, (size_t)n * (size_t)n * sizeof *a);
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', n, n, a, n, out, NULL, 1, NULL, 1);
    free(a);
    return info == 0 ? 0 : 2;
}

static double serial_map(const double *m, double *s, int count, int n)
{
    const double t0 = now();
    for (int k = 0; k < count; k++)
        if (svdvals(k, m + (size_t)k * n * n, s + (size_t)k * n, &n) != 0) {
            fprintf(stderr, "bench_pmap_svd: serial dgesdd failed on matrix %d\n", k);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    return now() - t0;
}

static int cores_allowed(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-m matrices] [-n order] [-r reps] [-w warmups] [-R rounds]\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int count = 10, n = 200, reps = 5, warm = 1, rounds = 3, opt;
    while ((opt = getopt(argc, argv, "m:n:r:w:R:")) != -1) {
        switch (opt) {
        case 'm':
            count = atoi(optarg);
            break;
        case 'n':
            n = atoi(optarg);
            break;
        case 'r':
            reps = atoi(optarg);
            break;
        case 'w':
            warm = atoi(optarg);
            break;
        case 'R':
            rounds = atoi(optarg);
            break;
        default:
            usage(argv[0]);
        }
    }
    if (count < 1 || n < 1 || reps < 1 || warm < 0 || rounds < 1)
        usage(argv[0]);
    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    const size_t nn = (size_t)n * (size_t)n;
    double *m = malloc((size_t)count * nn * sizeof *m);
    double *ref = malloc((size_t)count * n * sizeof *ref);
    double *got = malloc((size_t)count * n * sizeof *got);
    double *t_serial = malloc((size_t)(rounds * reps) * sizeof(double));
    double *t_blas = malloc((size_t)(rounds * reps) * sizeof(double));
    double *t_pmap = malloc((size_t)(rounds * reps) * sizeof(double));
    double *r_serial = malloc((size_t)rounds * sizeof(double)),
           *r_blas = malloc((size_t)rounds * sizeof(double));
    double *r_pmap = malloc((size_t)rounds * sizeof(double)),
           *speedup = malloc((size_t)rounds * sizeof(double));
    int64_t *ranks = calloc((size_t)np, sizeof *ranks),
            *ranks_sum = calloc((size_t)np, sizeof *ranks_sum);
    if (!m || !ref || !got || !t_serial || !t_blas || !t_pmap || !r_serial || !r_blas || !r_pmap ||
        !speedup || !ranks || !ranks_sum) {
        fprintf(stderr, "bench_pmap_svd: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    uint64_t state = 12345;
    for (size_t i = 0; i < (size_t)count * nn; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        m[i] = (double)(state >> 11) / 9007199254740992.0; /* rand(200, 200) */
    }
    const int threads = cores_allowed();
    double worst = 0.0;
    int workers = 0;
    for (int round = 0; round < rounds; round++) {
        if (me == 0) {
            if (openblas_set_num_threads)
                openblas_set_num_threads(1);
            for (int r = -warm; r < reps; r++) {
                double t = serial_map(m, ref, count, n);
                if (r >= 0)
                    t_serial[r] = t;
            }
            r_serial[round] = median(t_serial, reps);
            if (openblas_set_num_threads)
                openblas_set_num_threads(threads);
            for (int r = -warm; r < reps; r++) {
                double t = serial_map(m, got, count, n);
                if (r >= 0)
                    t_blas[r] = t;
            }
            r_blas[round] = median(t_blas, reps);
            if (openblas_set_num_threads)
                openblas_set_num_threads(1);
            serial_map(m, ref, count, n); /* the reference results, one thread */
        }
        quiet_barrier();

        CHECK(sj_init(&argc, &argv, NULL));
        workers = sj_ncpus();
        sj_pmap_options_t o;
        sj_pmap_options_default(&o);
        o.rank_items = ranks;
        for (int r = -warm; r < reps; r++) {
            memset(got, 0, (size_t)count * n * sizeof *got);
            const double t0 = now();
            CHECK(sj_pmap(count, m, nn * sizeof *m, got, (size_t)n * sizeof *got, svdvals, &n,
                          sizeof n, &o, NULL));
            const double t = now() - t0;
            if (r >= 0) {
                t_pmap[r] = t;
                for (int k = 0; k < np; k++)
                    ranks_sum[k] += ranks[k];
            }
            if (me == 0)
                for (size_t i = 0; i < (size_t)count * n; i++) {
                    double d = fabs(got[i] - ref[i]) / (fabs(ref[i]) > 1e-300 ? fabs(ref[i]) : 1.0);
                    worst = d > worst ? d : worst;
                }
        }
        r_pmap[round] = median(t_pmap, reps);
        speedup[round] = r_serial[round] / r_pmap[round];
        CHECK(sj_finalize());
    }
    const int correct = worst <= 1e-12;
    if (me == 0) {
        const double ts = median(r_serial, rounds), tb = median(r_blas, rounds),
                     tp = median(r_pmap, rounds);
        printf("{\"bench\":\"pmap_svd\",\"ranks\":%d,\"workers_per_rank\":%d,\"matrices\":%d,"
               "\"order\":%d,\"reps\":%d,\"warmups\":%d,\"rounds\":%d,",
               np, workers, count, n, reps, warm, rounds);
        printf("\"serial_s\":%.6f,\"serial_blas_threads\":%d,\"serial_blas_threads_s\":%.6f,"
               "\"pmap_s\":%.6f,\"speedup\":%.3f,\"target\":1.8,\"speedup_per_round\":[",
               ts, threads, tb, tp, ts / tp);
        for (int k = 0; k < rounds; k++)
            printf("%s%.3f", k ? "," : "", speedup[k]);
        printf("],\"speedup_median_of_rounds\":%.3f,\"speedup_vs_blas_threads\":%.3f,",
               median(speedup, rounds), tb / tp);
        printf("\"rank_items_mean\":[");
        for (int k = 0; k < np; k++)
            printf("%s%.2f", k ? "," : "", (double)ranks_sum[k] / (rounds * reps));
        printf("],\"max_rel_diff\":%.3g,\"correct\":%s}\n", worst, correct ? "true" : "false");
    }
    free(m);
    free(ref);
    free(got);
    free(t_serial);
    free(t_blas);
    free(t_pmap);
    free(r_serial);
    free(r_blas);
    free(r_pmap);
    free(speedup);
    free(ranks);
    free(ranks_sum);
    MPI_Finalize();
    return correct ? 0 : 1;
}

#else /* !SJ_HAVE_LAPACKE */

int main(void)
{
    fprintf(stderr, "bench_pmap_svd: starjets was configured without LAPACKE "
                    "(install liblapacke-dev and reconfigure)\n");
    return 2;
}

#endif
