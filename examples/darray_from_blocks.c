// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Arrays built from blocks made on their owners, after the "Constructing
 * Distributed Arrays" part of the DistributedArrays.jl README, and a look at
 * each rank's `localpart` and `localindices`.
 *
 * 1. `DArray(init, dims)`: the init function runs on each block's owner and
 *    fills the block from its global index ranges; here the README's
 *    `dfill` and `@DArray [i+j for i = 1:5, j = 1:5]`.
 * 2. `DArray(ras)` from blocks made on separate workers: each rank makes its
 *    own 30 x 30 random blocks in its own memory (its own generator), then
 *    sets them as its local parts (`d[:L] = v`); the 2 x 2 grid of blocks is
 *    a 60 x 60 array. The README's `remotecall` variant builds blocks the
 *    same way.
 * 3. Each rank shows its local parts and their global index ranges; rank 0
 *    gathers the arrays (`convert(Array, d)`) and checks them against a
 *    serial computation of the same values.
 *
 *   mpirun -n 4 ./darray_from_blocks [--bs B] [--small] [--quiet]
 *
 * Every rank runs this same program; calls are collective unless noted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

#include "example.h"

/* dfill(v, dims): every element of the block gets the value passed as ctx. */
static int init_fill(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    const double v = *(const double *)ctx;
    double *x = out;
    for (int64_t k = 0; k < blk->nelems; k++)
        x[k] = v;
    return 0;
}

/* [i+j for i = 1:5, j = 1:5]: element (i, j) from the block's global ranges,
 * counted from 1 as in Julia. The block is column-major. */
static int init_i_plus_j(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    double *x = out;
    for (int64_t j = 0; j < blk->dims[1]; j++)
        for (int64_t i = 0; i < blk->dims[0]; i++)
            x[i + blk->dims[0] * j] = (double)((blk->lo[0] + i + 1) + (blk->lo[1] + j + 1));
    return 0;
}

/* A small generator (splitmix64) in [0, 1): what `rand(30, 30)` is on a
 * worker. Seeded by the block number so that the serial check can make the
 * same numbers again. */
static double next_uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static void make_random_block(int block, int64_t nelems, double *x)
{
    uint64_t state = 1000 + (uint64_t)block;
    for (int64_t k = 0; k < nelems; k++)
        x[k] = next_uniform(&state);
}

/* Prints an m x n column-major matrix. */
static void print_matrix(const double *a, int m, int n)
{
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++)
            printf(" %3g", a[i + m * j]);
        printf("\n");
    }
}

/* Each rank in turn prints its local parts: block number, localindices (1-based
 * and inclusive, as Julia prints them) and the first element. */
static void show_local_parts(sj_array_t x, const char *name)
{
    const int me = sj_rank(), np = sj_nranks();
    int nlocal;
    const int *mine;
    CHECK(sj_array_local_blocks(x, &nlocal, &mine));
    fflush(stdout);
    for (int turn = 0; turn < np; turn++) {
        CHECK(sj_barrier());
        if (turn != me)
            continue;
        if (nlocal == 0)
            printf("  rank %d: no local part of %s\n", me, name);
        for (int k = 0; k < nlocal; k++) {
            sj_block_info_t bi;
            double *lp;
            CHECK(sj_array_block_info(x, mine[k], &bi));
            CHECK(sj_array_localpart_get(x, mine[k], (void **)&lp));
            printf("  rank %d: %s block %d, localindices (%lld:%lld, %lld:%lld), first element "
                   "%.6f\n",
                   me, name, mine[k], (long long)bi.lo[0] + 1, (long long)bi.hi[0],
                   (long long)bi.lo[1] + 1, (long long)bi.hi[1], lp[0]);
            CHECK(sj_array_localpart_restore(x, mine[k], (void **)&lp));
        }
        fflush(stdout);
    }
    CHECK(sj_barrier());
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--bs B] [--small] [--quiet]\n", prog);
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    int bs = 30, quiet = 0, bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--bs") && i + 1 < argc)
            bs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--small"))
            ; /* the README's sizes are already small */
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else
            bad = 1;
    }
    if (bad || bs < 1 || bs > 4096) {
        if (me == 0)
            usage(argv[0]);
        sj_finalize();
        return 2;
    }
    int ok = 1;

    /* ---- 1. DArray(init, dims) ------------------------------------------ */

    /* dfill(2.5, 10, 10): a 10 x 10 space in blocks, default layout. The
     * number of blocks is the user's choice in starjets (the space), the
     * owners are the layout's (here: contiguous over all ranks). */
    const int nb5 = np < 5 ? np : 5;
    sj_space_t s10, s5;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){10, 10}, (int[]){nb5, 1}, &s10));
    sj_array_t f;
    const double v = 2.5;
    CHECK(sj_array_create_init(s10, NULL, init_fill, &v, sizeof v, &f));

    /* @DArray [i+j for i = 1:5, j = 1:5], its blocks made on their owners. */
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){5, 5}, (int[]){nb5, 1}, &s5));
    sj_array_t ipj;
    CHECK(sj_array_create_init(s5, NULL, init_i_plus_j, NULL, 0, &ipj));

    double whole10[100], whole5[25];
    CHECK(sj_array_gather(f, 0, whole10));
    CHECK(sj_array_gather(ipj, 0, whole5));
    if (me == 0) {
        int bad_fill = 0, bad_ipj = 0;
        for (int k = 0; k < 100; k++)
            bad_fill += whole10[k] != v;
        for (int j = 0; j < 5; j++)
            for (int i = 0; i < 5; i++)
                bad_ipj += whole5[i + 5 * j] != (i + 1) + (j + 1);
        if (!quiet) {
            printf("dfill(2.5, 10, 10): %d element(s) differ from 2.5\n", bad_fill);
            printf("@DArray [i+j for i = 1:5, j = 1:5], in %d block(s) of rows:\n", nb5);
            print_matrix(whole5, 5, 5);
        }
        if (bad_fill || bad_ipj) {
            printf("WRONG: %d element(s) of dfill and %d of i+j differ from the serial values\n",
                   bad_fill, bad_ipj);
            ok = 0;
        }
    }
    if (!quiet)
        show_local_parts(ipj, "i+j");

    /* ---- 2. DArray(ras): blocks made on their ranks --------------------- */

    /* The 2 x 2 grid of bs x bs blocks. On 4 ranks, block (i, j) goes to rank
     * i + 2j, the README's reshape of workers()[1:4] into 2 x 2; with fewer
     * ranks the list wraps around (owner = block number mod ranks). */
    const int64_t n = 2 * (int64_t)bs;
    sj_space_t s;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){n, n}, (int[]){2, 2}, &s));
    int owners[4];
    for (int b = 0; b < 4; b++)
        owners[b] = b % np;
    sj_dist_t dist;
    CHECK(sj_dist_create_explicit(2, (int[]){2, 2}, owners, &dist));
    sj_array_t d;
    CHECK(sj_array_zeros(s, dist, &d));

    /* Each rank makes its blocks in its own memory, then sets them as its
     * local parts: d[:L] = ras (a local step, no message). */
    int nlocal;
    const int *mine;
    CHECK(sj_array_local_blocks(d, &nlocal, &mine));
    double *made = malloc((size_t)bs * bs * sizeof *made);
    for (int k = 0; k < nlocal; k++) {
        double *lp;
        make_random_block(mine[k], (int64_t)bs * bs, made); /* rand(30, 30) on this rank */
        CHECK(sj_array_localpart_get(d, mine[k], (void **)&lp));
        memcpy(lp, made, (size_t)bs * bs * sizeof *lp);
        CHECK(sj_array_localpart_restore(d, mine[k], (void **)&lp));
    }

    /* [@fetchfrom p localindices(D) for p in workers()]: every rank knows the
     * whole layout, so rank 0 answers without asking the others. */
    if (me == 0 && !quiet) {
        printf("\nD = DArray(ras), %lld x %lld in 2 x 2 blocks; localindices of each rank:\n",
               (long long)n, (long long)n);
        for (int r = 0; r < np; r++) {
            int cnt;
            const int *blocks;
            CHECK(sj_dist_local_blocks(dist, r, &cnt, &blocks));
            printf("  rank %d:", r);
            for (int k = 0; k < cnt; k++) {
                int64_t lo[2], hi[2];
                CHECK(sj_space_block_range(s, blocks[k], lo, hi));
                printf(" (%lld:%lld, %lld:%lld)", (long long)lo[0] + 1, (long long)hi[0],
                       (long long)lo[1] + 1, (long long)hi[1]);
            }
            printf("%s\n", cnt ? "" : " none");
        }
    }
    if (!quiet)
        show_local_parts(d, "D");

    /* convert(Array, D) on rank 0, checked against the blocks made again
     * serially and placed at their global positions. */
    double *all = me == 0 ? malloc((size_t)n * n * sizeof *all) : NULL;
    CHECK(sj_array_gather(d, 0, all));
    if (me == 0) {
        int64_t wrong = 0;
        for (int b = 0; b < 4; b++) {
            int64_t lo[2], hi[2];
            CHECK(sj_space_block_range(s, b, lo, hi));
            make_random_block(b, (int64_t)bs * bs, made);
            for (int64_t j = lo[1]; j < hi[1]; j++)
                for (int64_t i = lo[0]; i < hi[0]; i++)
                    wrong += all[i + n * j] != made[(i - lo[0]) + bs * (j - lo[1])];
        }
        if (wrong) {
            printf("WRONG: %lld element(s) of D differ from the blocks made serially\n",
                   (long long)wrong);
            ok = 0;
        }
        printf("\n%s\n", ok ? "darray_from_blocks: every array matches its serial construction"
                            : "darray_from_blocks: WRONG RESULTS");
    }
    free(all);
    free(made);
    CHECK(sj_array_destroy(&f));
    CHECK(sj_array_destroy(&ipj));
    CHECK(sj_array_destroy(&d));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&s));
    CHECK(sj_space_destroy(&s5));
    CHECK(sj_space_destroy(&s10));
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
