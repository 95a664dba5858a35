// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Counting heads in a series of coin tosses with a distributed loop and a
 * reducer, the Julia tutorial's `@distributed (+) for i in 1:n rand((0,1))`.
 *
 *   mpirun -n 2 ./count_heads [--n TOSSES] [--small]
 *
 * sj_preduce() cuts the range of tosses into a fixed number of parts, folds
 * each part in a task on some rank, and adds the parts up in a fixed order.
 * Toss i is a function of (seed, i) only (a counter-based generator), so the
 * count does not depend on which rank tossed which coin: it is the same on 1
 * or 4 ranks, and the serial loop on rank 0 gives it too.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

#include "example.h"

/* splitmix64, a counter-based generator: the k-th number of stream `seed`. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* rand((0, 1)) for toss i: the top bit of the i-th number. */
static int64_t coin(uint64_t seed, int64_t i)
{
    return (int64_t)(mix64(seed ^ mix64((uint64_t)i)) >> 63);
}

/* ---- the loop body and the reducer ------------------------------------------ */

/* fold: acc = acc + coin(i). The context is the seed (copied to every rank). */
static int toss(void *acc, int64_t i, void *ctx)
{
    *(int64_t *)acc += coin(*(const uint64_t *)ctx, i);
    return 0;
}

/* combine: a = a + b (the "+" of @distributed (+)). */
static int add(void *a, const void *b, void *ctx)
{
    *(int64_t *)a += *(const int64_t *)b;
    return 0;
}

/* ---- the verbose version: which rank tossed which coin ------------------------
 * The tutorial prints each toss from inside the loop. Here the accumulator
 * carries each toss and the rank that made it back to rank 0 instead, so the
 * lines come out in order. */
#define NVERBOSE 8

typedef struct verbose_acc {
    int64_t heads;
    int8_t toss[NVERBOSE];
    int8_t rank[NVERBOSE]; /* -1: not tossed in this part */
} verbose_acc_t;

typedef struct verbose_ctx {
    uint64_t seed;
    int rank; /* each rank passes its own context, with its own rank */
} verbose_ctx_t;

static int toss_verbose(void *accp, int64_t i, void *ctxp)
{
    verbose_acc_t *acc = accp;
    const verbose_ctx_t *c = ctxp;
    acc->toss[i] = (int8_t)coin(c->seed, i);
    acc->rank[i] = (int8_t)c->rank;
    acc->heads += acc->toss[i];
    return 0;
}

static int add_verbose(void *ap, const void *bp, void *ctx)
{
    verbose_acc_t *a = ap;
    const verbose_acc_t *b = bp;
    a->heads += b->heads;
    for (int k = 0; k < NVERBOSE; k++)
        if (b->rank[k] >= 0) {
            a->toss[k] = b->toss[k];
            a->rank[k] = b->rank[k];
        }
    return 0;
}

/* The serial loop, as a function sj_spawn() can run. */
typedef struct serial_job {
    uint64_t seed;
    int64_t n;
} serial_job_t;

static int serial_loop(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    const serial_job_t *j = arg;
    int64_t c = 0;
    for (int64_t i = 0; i < j->n; i++)
        c += coin(j->seed, i);
    *(int64_t *)out = c;
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--n TOSSES] [--small]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int64_t n = 200000000; /* the tutorial's N = 200_000_000 */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small"))
            n = 2000000;
        else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = atoll(argv[++i]);
        else
            usage(argv[0]);
    }
    if (n < 1)
        usage(argv[0]);

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    const uint64_t seed = 2024;
    int ok = 1;
    if (me == 0)
        printf("count_heads: %lld coin tosses on %d rank(s)\n\n", (long long)n, np);

    /* The verbose version on 8 tosses: every toss is its own part. */
    verbose_ctx_t vctx = {seed, me};
    verbose_acc_t vinit = {0, {0}, {-1, -1, -1, -1, -1, -1, -1, -1}}, v;
    CHECK(sj_preduce(0, NVERBOSE, sizeof v, toss_verbose, add_verbose, &vinit, &vctx, 0, &v));
    if (me == 0) {
        int64_t ref = 0;
        for (int k = 0; k < NVERBOSE; k++) {
            printf("  toss %d: %d (on rank %d)\n", k + 1, v.toss[k], v.rank[k]);
            ok &= v.toss[k] == coin(seed, k) && v.rank[k] >= 0 && v.rank[k] < np;
            ref += coin(seed, k);
        }
        printf("  heads in %d tosses: %lld\n\n", NVERBOSE, (long long)v.heads);
        ok &= v.heads == ref;
    }

    /* count_heads_loop(n): the serial loop, run as one task on one worker of
     * rank 0, so that it gets a core to itself as each part of the
     * distributed loop does (on the main thread it would share its core with
     * StarPU's idle workers, which poll for work). */
    const serial_job_t job = {seed, n};
    int64_t serial = -1;
    sj_future_t f;
    if (me == 0) {
        printf("tossing %lld coins in one task...\n", (long long)n);
        fflush(stdout); /* a line before each long phase: the program is alive */
    }
    double t0 = now();
    CHECK(sj_spawn(0, serial_loop, &job, sizeof job, sizeof serial, &f));
    CHECK(sj_future_fetch(f, 0, &serial));
    const double t_serial = now() - t0;
    CHECK(sj_future_destroy(&f));

    /* count_heads_distributed_loop(n): the same count as a distributed loop.
     * Every rank calls it and every rank gets the count. */
    const int64_t zero = 0;
    int64_t heads = -1;
    if (me == 0) {
        printf("tossing them again with a distributed loop...\n\n");
        fflush(stdout);
    }
    t0 = now();
    CHECK(sj_preduce(0, n, sizeof heads, toss, add, &zero, &seed, sizeof seed, &heads));
    const double t_dist = now() - t0;

    if (me == 0) {
        /* A fair coin: heads within 6 standard deviations of n / 2. */
        const double dev = fabs((double)heads - 0.5 * (double)n) / (0.5 * sqrt((double)n));
        printf("serial loop:      %lld heads in %.3f s\n", (long long)serial, t_serial);
        printf("distributed loop: %lld heads in %.3f s (speedup %.2f)\n", (long long)heads, t_dist,
               t_serial / t_dist);
        printf("heads / tosses = %.6f (%.2f standard deviations from 1/2)\n",
               (double)heads / (double)n, dev);
        if (heads != serial)
            printf("the distributed count differs from the serial one by %lld\n",
                   (long long)(heads - serial));
        ok &= heads == serial && dev < 6.0;
        printf("\n%s\n", ok ? "count_heads: all results check out" : "count_heads: WRONG RESULTS");
    }
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
