// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Monte Carlo estimate of pi, two ways (the Julia lesson's `throw_darts` /
 * `estimate_pi` with `pmap`, and the same count as a `@distributed (+)` loop).
 *
 *   mpirun -n 2 ./monte_carlo_pi [--darts N] [--loops L] [--small]
 *
 * Darts land uniformly in the unit square; the fraction inside the quarter
 * circle x^2 + y^2 < 1 tends to pi / 4.
 *
 * - pmap: L items, item k throws N darts and returns how many hit
 *   (`sum(pmap(x -> darts_in_circle(N), 1:loops))`);
 * - loop reduction: one loop over all L * N darts, adding up the hits.
 *
 * Dart g (g = k * N + j for dart j of item k) takes its two coordinates from
 * a counter-based generator at (seed, g): it lands at the same place whatever
 * rank throws it. So both ways count the same hits, on any number of ranks,
 * and a serial loop gives that count too.
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

/* splitmix64: the k-th number of stream `seed`, as a double in [0, 1). */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double uniform(uint64_t seed, uint64_t k)
{
    return (double)(mix64(seed ^ mix64(k)) >> 11) / 9007199254740992.0;
}

/* Does dart g land in the quarter circle? */
static int64_t hit(uint64_t seed, int64_t g)
{
    const double x = uniform(seed, 2 * (uint64_t)g), y = uniform(seed, 2 * (uint64_t)g + 1);
    return x * x + y * y < 1.0;
}

/* What every rank needs to know: copied to each rank once. */
typedef struct darts {
    uint64_t seed;
    int64_t n; /* darts per item */
} darts_t;

/* darts_in_circle for item k: darts k * n .. k * n + n - 1. */
static int64_t darts_in_circle(const darts_t *d, int64_t k)
{
    int64_t c = 0;
    for (int64_t j = 0; j < d->n; j++)
        c += hit(d->seed, k * d->n + j);
    return c;
}

/* ---- pmap: one item per loop ----------------------------------------------- */
static int item_fn(int64_t index, const void *in, void *out, void *ctx)
{
    *(int64_t *)out = darts_in_circle(ctx, index);
    return 0;
}

static void progress(int64_t done, int64_t total, void *ctx)
{
    printf("  pmap: %lld of %lld items done\n", (long long)done, (long long)total);
    fflush(stdout);
}

/* ---- loop reduction: one index per dart ------------------------------------- */
static int fold_dart(void *acc, int64_t g, void *ctx)
{
    *(int64_t *)acc += hit(((const darts_t *)ctx)->seed, g);
    return 0;
}

static int add(void *a, const void *b, void *ctx)
{
    *(int64_t *)a += *(const int64_t *)b;
    return 0;
}

/* ---- the serial reference, as one task on rank 0 ------------------------------ */
typedef struct serial_job {
    darts_t d;
    int64_t loops;
} serial_job_t;

static int serial_fn(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    const serial_job_t *j = arg;
    int64_t c = 0;
    for (int64_t k = 0; k < j->loops; k++)
        c += darts_in_circle(&j->d, k);
    *(int64_t *)out = c;
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--darts N] [--loops L] [--small]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int64_t n = 2000000, loops = 32;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small")) {
            n = 50000;
            loops = 16;
        } else if (!strcmp(argv[i], "--darts") && i + 1 < argc)
            n = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--loops") && i + 1 < argc)
            loops = atoll(argv[++i]);
        else
            usage(argv[0]);
    }
    if (n < 1 || loops < 1 || n > INT64_MAX / 2 / loops)
        usage(argv[0]);

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    const darts_t d = {12345, n};
    const int64_t total = n * loops;
    if (me == 0)
        printf("monte_carlo_pi: %lld items of %lld darts (%lld in all) on %d rank(s)\n\n",
               (long long)loops, (long long)n, (long long)total, np);

    /* 1. estimate_pi with pmap: rank 0 gets one count per item, in order. */
    int64_t *counts = me == 0 ? malloc((size_t)loops * sizeof *counts) : NULL;
    if (me == 0 && !counts) {
        fprintf(stderr, "monte_carlo_pi: out of memory\n");
        return 1;
    }
    sj_pmap_options_t opts;
    sj_pmap_options_default(&opts);
    opts.progress = progress;
    opts.progress_interval = 0.5;
    double t0 = now();
    CHECK(sj_pmap(loops, NULL, 0, counts, sizeof *counts, item_fn, &d, sizeof d, &opts, NULL));
    const double t_pmap = now() - t0;

    /* 2. The same darts as one distributed loop with (+). */
    const int64_t zero = 0;
    int64_t by_loop = -1;
    if (me == 0) {
        printf("throwing the same darts with a loop reduction...\n");
        fflush(stdout); /* a line before each long phase: the program is alive */
    }
    t0 = now();
    CHECK(sj_preduce(0, total, sizeof by_loop, fold_dart, add, &zero, &d, sizeof d, &by_loop));
    const double t_loop = now() - t0;

    /* 3. The serial loop, as one task on one worker of rank 0. */
    const serial_job_t job = {d, loops};
    int64_t serial = -1;
    sj_future_t f;
    if (me == 0) {
        printf("throwing them again in one task...\n");
        fflush(stdout);
    }
    t0 = now();
    CHECK(sj_spawn(0, serial_fn, &job, sizeof job, sizeof serial, &f));
    CHECK(sj_future_fetch(f, 0, &serial));
    const double t_serial = now() - t0;
    CHECK(sj_future_destroy(&f));

    int ok = 1;
    if (me == 0) {
        int64_t by_pmap = 0;
        for (int64_t k = 0; k < loops; k++)
            by_pmap += counts[k];
        const double pi_pmap = 4.0 * (double)by_pmap / (double)total;
        const double pi_loop = 4.0 * (double)by_loop / (double)total;
        /* The estimate's standard deviation: 4 sqrt(p (1 - p) / darts), p = pi / 4. */
        const double p = PI / 4, sigma = 4.0 * sqrt(p * (1 - p) / (double)total);
        printf("\npmap:           %lld hits, pi ~ %.8f in %.3f s\n", (long long)by_pmap, pi_pmap,
               t_pmap);
        printf("loop reduction: %lld hits, pi ~ %.8f in %.3f s\n", (long long)by_loop, pi_loop,
               t_loop);
        printf("serial loop:    %lld hits in %.3f s\n", (long long)serial, t_serial);
        printf("|pi - estimate| = %.2e, %.2f standard deviations (%.2e)\n", fabs(PI - pi_loop),
               fabs(PI - pi_loop) / sigma, sigma);
        if (by_pmap != serial || by_loop != serial)
            printf("the counts differ: pmap %lld, loop %lld, serial %lld\n", (long long)by_pmap,
                   (long long)by_loop, (long long)serial);
        ok = by_pmap == serial && by_loop == serial && fabs(PI - pi_loop) < 6 * sigma;
        printf("\n%s\n",
               ok ? "monte_carlo_pi: all results check out" : "monte_carlo_pi: WRONG RESULTS");
    }
    free(counts);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
