// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Squaring an array in place with distributed loops: the "array mutation"
 * part of the Julia tutorial (`square_broken`, then `square_distributed!` on
 * a SharedArray), with a distributed array in the SharedArray's place.
 *
 *   mpirun -n 2 ./square_inplace [--cost-us MICROSECONDS] [--small]
 *
 * 1. The broken way: the loop is sent to a worker with the array as its
 *    argument. The worker squares its own copy; rank 0's array does not
 *    change (in Julia, the workers square copies of the master's array).
 * 2. A distributed array that every rank squares where it lives, directly
 *    in the blocks it owns (`localpart`), with no task and no message.
 * 3. square! vs square_distributed! on a 10 x 10 random array, with a pause
 *    per element that stands for real work: a serial loop on rank 0 against
 *    sj_array_map(), which runs one task per block on the block's owner and
 *    updates the block in place.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

#include "example.h"

/* "Some computational cost": a pause of `us` microseconds. */
static void pause_us(int64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

/* ---- 1. the broken way ---------------------------------------------------------- */
static int square_copy(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    /* The task gets a private copy of the argument bytes: what it squares is
     * that copy (here written to its result), never the caller's array. */
    const double *x = arg;
    double *y = out;
    for (size_t i = 0; i < arg_size / sizeof *x; i++)
        y[i] = x[i] * x[i];
    return 0;
}

/* ---- 3. the per-block function of sj_array_map ------------------------------- */
static int square_block(const sj_block_info_t *blk, void *outp, const void *const *in, void *ctx)
{
    const int64_t cost_us = *(const int64_t *)ctx;
    double *x = outp; /* the block itself: read and written in place */
    for (int64_t i = 0; i < blk->nelems; i++) {
        pause_us(cost_us);
        x[i] = x[i] * x[i];
    }
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--cost-us MICROSECONDS] [--small]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int64_t cost_us = 1000; /* the tutorial's sleep(0.001) */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small"))
            cost_us = 200;
        else if (!strcmp(argv[i], "--cost-us") && i + 1 < argc)
            cost_us = atoll(argv[++i]);
        else
            usage(argv[0]);
    }
    if (cost_us < 0 || cost_us > 1000000)
        usage(argv[0]);

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    int ok = 1;
    if (me == 0)
        printf("square_inplace on %d rank(s)\n\n", np);

    /* 1. A = collect(1:10) on every rank (every rank runs this line); the
     * "loop" is sent to the last rank with the array as its argument. */
    double a[10];
    for (int i = 0; i < 10; i++)
        a[i] = i + 1;
    sj_future_t f;
    double squares[10];
    CHECK(sj_spawn(np - 1, square_copy, a, sizeof a, sizeof squares, &f));
    CHECK(sj_future_fetch(f, 0, squares));
    CHECK(sj_future_destroy(&f));
    if (me == 0) {
        printf("1. squared on rank %d; A on rank 0 is still:", np - 1);
        for (int i = 0; i < 10; i++) {
            printf(" %g", a[i]);
            ok &= a[i] == i + 1 && squares[i] == a[i] * a[i];
        }
        printf("\n   (the squares exist only as the task's result: %g %g ... %g)\n", squares[0],
               squares[1], squares[9]);
    }

    /* 2. The same ten numbers as a distributed array: block b holds elements
     * lo..hi-1 and lives on one rank, which squares them in place. */
    sj_space_t space10;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){10}, (int[]){5}, &space10));
    sj_array_t d;
    CHECK(sj_array_distribute(space10, NULL, 0, a, &d));
    int nmine;
    const int *mine;
    CHECK(sj_array_local_blocks(d, &nmine, &mine));
    for (int k = 0; k < nmine; k++) {
        double *x;
        sj_block_info_t bi;
        CHECK(sj_array_block_info(d, mine[k], &bi));
        CHECK(sj_array_localpart_get(d, mine[k], (void **)&x)); /* localpart */
        for (int64_t i = 0; i < bi.nelems; i++)
            x[i] = x[i] * x[i];
        CHECK(sj_array_localpart_restore(d, mine[k], (void **)&x));
    }
    double back[10];
    CHECK(sj_array_gather(d, 0, back));
    if (me == 0) {
        printf("2. each rank squares the blocks it owns; gathered on rank 0:");
        for (int i = 0; i < 10; i++) {
            printf(" %g", back[i]);
            ok &= back[i] == (double)((i + 1) * (i + 1));
        }
        printf("\n");
    }
    CHECK(sj_array_destroy(&d));
    CHECK(sj_space_destroy(&space10));

    /* 3. A = rand(10, 10) in 2 x 5 blocks spread over the ranks. */
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){10, 10}, (int[]){2, 5}, &space));
    sj_array_t s;
    CHECK(sj_array_rand(space, NULL, 7, &s));
    double before[100], after[100];
    CHECK(sj_array_gather(s, 0, before));

    /* square!(A): the serial loop on rank 0's copy. */
    double t_serial = 0;
    double serial[100];
    if (me == 0) {
        memcpy(serial, before, sizeof serial);
        const double t0 = now();
        for (int i = 0; i < 100; i++) {
            pause_us(cost_us);
            serial[i] = serial[i] * serial[i];
        }
        t_serial = now() - t0;
    }

    /* square_distributed!(S): one task per block, on its owner, in place. The
     * call returns at once; the gather waits for the result. */
    const double t0 = now();
    CHECK(sj_array_map(0, NULL, s, square_block, &cost_us, sizeof cost_us));
    CHECK(sj_wait()); /* reports a failed block function, if any */
    const double t_dist = now() - t0;
    CHECK(sj_array_gather(s, 0, after));

    if (me == 0) {
        int same = memcmp(after, serial, sizeof after) == 0;
        printf("3. 10 x 10 random array, %lld us per element:\n", (long long)cost_us);
        printf("   A[1,1] = %.6f -> %.6f, A[10,10] = %.6f -> %.6f\n", before[0], after[0],
               before[99], after[99]);
        printf("   serial square!      %.3f s\n", t_serial);
        printf("   distributed (map)   %.3f s (speedup %.2f)\n", t_dist, t_serial / t_dist);
        printf("   %s\n", same ? "the distributed result equals the serial one bit for bit"
                               : "the distributed result DIFFERS from the serial one");
        ok &= same;
        printf("\n%s\n",
               ok ? "square_inplace: all results check out" : "square_inplace: WRONG RESULTS");
    }
    sj_array_destroy(&s);
    sj_space_destroy(&space);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
