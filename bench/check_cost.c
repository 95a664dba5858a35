/*
 * bench_check_cost: what the collective-call checking mode
 * (sj_init_options_t.check_collectives, SJ_CHECK_COLLECTIVES) costs per call,
 * against the same calls without it in the same run.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 STARPU_SILENT=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_check_cost [options]
 *
 * Options: -R R rounds (default 5), -c C calls per loop (2000), -n N doubles
 * per array (2000, one block per rank).
 *
 * The program owns MPI (MPI_THREAD_MULTIPLE) and runs starjets twice in a
 * row, without and with checking (sj_init / sj_finalize each time), and in
 * each session R rounds of two loops: C calls of sj_array_scale (a logically
 * collective call that submits one task per block and waits for nothing:
 * the cheapest collective call) then one sj_wait; and C blocking
 * sj_array_dot. Per round: microseconds per call; reported: the medians, and
 * the checking mode's overhead per call (on - off) for each loop.
 *
 * Correctness: after the scale loop every element is 1 * 2^C... kept exact
 * by alternating 2 and 0.5 (the array stays 1), and every dot must equal N
 * exactly. Exit status 1 otherwise.
 *
 * One JSON object on stdout (rank 0).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "bench.h" /* CHECK, now, median */

/* One session: R rounds of the two loops; us per call into scale_us[r], dot_us[r]. */
static int session(int checking, int rounds, int calls, int64_t n, double *scale_us, double *dot_us)
{
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.check_collectives = checking;
    CHECK(sj_init(NULL, NULL, &o));
    const int np = sj_nranks();
    sj_space_t s;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){np}, &s));
    sj_array_t x;
    CHECK(sj_array_ones(s, NULL, &x));
    int wrong = 0;
    for (int r = 0; r < rounds; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        for (int c = 0; c < calls; c++)
            CHECK(sj_array_scale(c % 2 ? 0.5 : 2.0, x));
        CHECK(sj_wait());
        scale_us[r] = (now() - t0) / calls * 1e6;
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = now();
        for (int c = 0; c < calls; c++) {
            double v = 0;
            CHECK(sj_array_dot(x, x, &v));
            wrong += v != (double)n;
        }
        dot_us[r] = (now() - t0) / calls * 1e6;
    }
    CHECK(sj_array_destroy(&x));
    CHECK(sj_space_destroy(&s));
    CHECK(sj_finalize());
    return wrong;
}

int main(int argc, char **argv)
{
    int rounds = 5, calls = 2000;
    int64_t n = 2000;
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "-R"))
            rounds = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "-c"))
            calls = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "-n"))
            n = atoll(argv[a + 1]);
    }
    if (rounds < 1 || rounds > 100 || calls < 1 || n < 1) {
        fprintf(stderr, "usage: bench_check_cost [-R rounds] [-c calls] [-n doubles]\n");
        return 2;
    }
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    double *off_scale = calloc((size_t)rounds, sizeof(double));
    double *off_dot = calloc((size_t)rounds, sizeof(double));
    double *on_scale = calloc((size_t)rounds, sizeof(double));
    double *on_dot = calloc((size_t)rounds, sizeof(double));
    int wrong = session(0, rounds, calls, n, off_scale, off_dot);
    wrong += session(1, rounds, calls, n, on_scale, on_dot);
    int any = 0;
    MPI_Allreduce(&wrong, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0) {
        const double so = median(off_scale, rounds), sn = median(on_scale, rounds);
        const double dof = median(off_dot, rounds), don = median(on_dot, rounds);
        printf("{\"bench\":\"check_cost\",\"ranks\":%d,\"rounds\":%d,\"calls\":%d,\"n\":%lld,"
               "\"scale_us_off\":%.3f,\"scale_us_on\":%.3f,\"scale_overhead_us\":%.3f,"
               "\"dot_us_off\":%.3f,\"dot_us_on\":%.3f,\"dot_overhead_us\":%.3f,"
               "\"correct\":%s}\n",
               np, rounds, calls, (long long)n, so, sn, sn - so, dof, don, don - dof,
               any ? "false" : "true");
    }
    free(off_scale);
    free(off_dot);
    free(on_scale);
    free(on_dot);
    MPI_Finalize();
    return any ? 1 : 0;
}
