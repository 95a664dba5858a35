// sj-example: nprocs=1,2,3,4 args=--small
/*
 * pi from the Leibniz series, pi = 4 (1 - 1/3 + 1/5 - 1/7 + ...), summed with
 * a distributed loop (the Julia lesson's `compute_pi(N)`, run with
 * `@distributed (+)`).
 *
 *   mpirun -n 2 ./pi_series [--n TERMS] [--small]
 *
 * sj_preduce_double() cuts the terms 0..N into a fixed set of parts, sums
 * each part in a task on some rank, and adds the partial sums along a fixed
 * tree. The parts and the tree depend on N only, so the floating-point sum
 * has the same bits on 1, 2, 3 or 4 ranks; this program recomputes it
 * serially with the same parts and tree and checks every bit. It also sums
 * the series with the seed's plain loop, whose rounding differs slightly.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

#include "example.h"

/* pi to double precision (M_PI is not part of C11). */
#define PI 3.14159265358979323846

/* Term k of the series: (-1)^k / (2k + 1). */
static double term(int64_t k, void *ctx)
{
    return (k % 2 ? -1.0 : 1.0) / (double)(2 * k + 1);
}

/* The seed's compute_pi: one loop, left to right, as one task on rank 0. */
static int compute_pi(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    const int64_t n = *(const int64_t *)arg;
    double series = 1.0;
    for (int64_t k = 1; k <= n; k++)
        series += term(k, NULL);
    *(double *)out = 4 * series;
    return 0;
}

/*
 * The distributed loop's sum, recomputed serially from its documented rule
 * (include/starjets/task.h): K = min(len, SJ_PREDUCE_PARTS) parts, part p
 * starting at lo + p * (len / K) + min(p, len % K), each summed from 0 in
 * index order, then the pairwise tree.
 */
static double tree_sum(int64_t lo, int64_t hi)
{
    const int64_t len = hi - lo, k = len < SJ_PREDUCE_PARTS ? len : SJ_PREDUCE_PARTS;
    double part[SJ_PREDUCE_PARTS];
    for (int64_t p = 0; p < k; p++) {
        const int64_t a = lo + p * (len / k) + (p < len % k ? p : len % k);
        const int64_t b = lo + (p + 1) * (len / k) + (p + 1 < len % k ? p + 1 : len % k);
        double acc = 0.0;
        for (int64_t i = a; i < b; i++)
            acc = acc + term(i, NULL);
        part[p] = acc;
    }
    for (int64_t s = 1; s < k; s *= 2)
        for (int64_t p = 0; p + s < k; p += 2 * s)
            part[p] = part[p] + part[p + s];
    return part[0];
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--n TERMS] [--small]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int64_t n = 200000000; /* terms after the first */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small"))
            n = 1000000;
        else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = atoll(argv[++i]);
        else
            usage(argv[0]);
    }
    if (n < 1 || n > INT64_MAX / 4)
        usage(argv[0]);

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    if (me == 0)
        printf("pi_series: 4 * sum of (-1)^k / (2k + 1) for k = 0..%lld on %d rank(s)\n\n",
               (long long)n, np);

    /* The distributed loop: terms 0..n, i.e. the range [0, n + 1). Every rank
     * gets the sum. */
    double sum;
    if (me == 0) {
        printf("summing with a distributed loop...\n");
        fflush(stdout); /* a line before each long phase: the program is alive */
    }
    double t0 = now();
    CHECK(sj_preduce_double(0, n + 1, SJ_REDUCE_SUM, term, NULL, 0, &sum));
    const double t_dist = now() - t0;
    const double pi_dist = 4 * sum;

    /* The seed's serial loop, as one task on one worker of rank 0. */
    double pi_serial = 0;
    sj_future_t f;
    if (me == 0) {
        printf("summing with the plain loop in one task...\n\n");
        fflush(stdout);
    }
    t0 = now();
    CHECK(sj_spawn(0, compute_pi, &n, sizeof n, sizeof pi_serial, &f));
    CHECK(sj_future_fetch(f, 0, &pi_serial));
    const double t_serial = now() - t0;
    CHECK(sj_future_destroy(&f));

    int ok = 1;
    if (me == 0) {
        const double pi_tree = 4 * tree_sum(0, n + 1);
        uint64_t bits;
        memcpy(&bits, &pi_dist, sizeof bits);
        /* The series alternates with shrinking terms: stopping after term n
         * leaves an error below the next term, 4 / (2n + 3); rounding adds
         * far less (1e-9 covers it). */
        const double bound = 4.0 / (double)(2 * n + 3) + 1e-9;
        printf("distributed loop: pi ~ %.15f (bits %016llx) in %.3f s\n", pi_dist,
               (unsigned long long)bits, t_dist);
        printf("serial sum with the same parts and tree: %s\n",
               pi_tree == pi_dist ? "the same bits" : "DIFFERENT bits");
        printf("serial loop:      pi ~ %.15f in %.3f s (differs by %.1e: another rounding order)\n",
               pi_serial, t_serial, fabs(pi_serial - pi_dist));
        printf("|pi - estimate| = %.3e, bound 4 / (2n + 3) = %.3e\n", fabs(PI - pi_dist),
               4.0 / (double)(2 * n + 3));
        ok = pi_tree == pi_dist && fabs(PI - pi_dist) <= bound && fabs(PI - pi_serial) <= bound &&
             fabs(pi_serial - pi_dist) <= 1e-9;
        printf("\n%s\n", ok ? "pi_series: all results check out" : "pi_series: WRONG RESULTS");
    }
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
