// sj-example: nprocs=1,2,3,4
/*
 * A tour of starjets' distributed block arrays, in the spirit of the
 * DistributedArrays.jl README: make arrays, see where their blocks live,
 * compute on them, reduce them and bring them back to rank 0.
 *
 *   mpirun -n 2 ./array_tour
 *
 * Every rank runs this same program; calls are collective unless noted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <starjets.h>

#include "example.h"

/* Block initialiser: element i of the global array gets i + 1 (1-based, like Julia). */
static int init_iota(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    double *x = out;
    for (int64_t i = 0; i < blk->nelems; i++)
        x[i] = (double)(blk->lo[0] + i + 1);
    return 0;
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    if (me == 0)
        printf("starjets %s on %d rank(s), %d CPU worker(s) on rank 0\n\n", sj_version(0, 0, 0), np,
               sj_ncpus());

    /* A 1-D space of 20 doubles in 5 blocks, laid out in contiguous chunks. */
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){20}, (int[]){5}, &space));
    sj_dist_t dist;
    CHECK(sj_dist_create_default(space, &dist));
    char text[128];
    CHECK(sj_space_describe(space, text, sizeof text));

    /* Where are the blocks? (procs, blockmap and localindices) */
    if (me == 0) {
        int nprocs;
        const int *procs;
        CHECK(sj_dist_procs(dist, &nprocs, &procs, NULL));
        printf("space: %s; layout over %d rank(s)\n", text, nprocs);
        for (int r = 0; r < np; r++) {
            int nbox;
            const sj_box_t *box;
            CHECK(sj_dist_blockmap(dist, r, &nbox, &box));
            for (int k = 0; k < nbox; k++) {
                int64_t lo[1], hi[1], lo2[1], hi2[1];
                CHECK(sj_space_block_range(space, box[k].lo[0], lo, hi));
                CHECK(sj_space_block_range(space, box[k].hi[0] - 1, lo2, hi2));
                printf("  rank %d holds blocks %d:%d = elements %lld:%lld\n", r, box[k].lo[0] + 1,
                       box[k].hi[0], (long long)lo[0] + 1, (long long)hi2[0]);
            }
        }
    }

    /* Arrays: built on the owners, from a function of the global index. */
    sj_array_t x, y, r;
    CHECK(sj_array_create_init(space, dist, init_iota, NULL, 0, &x));
    CHECK(sj_array_ones(space, dist, &y));
    CHECK(sj_array_rand(space, dist, 2024, &r));

    /* Each rank looks at its own blocks directly (a local call). The ranks
     * take turns so that their lines come out in order. */
    int nlocal;
    const int *mine;
    CHECK(sj_array_local_blocks(x, &nlocal, &mine));
    fflush(stdout);
    for (int turn = 0; turn < np; turn++) {
        CHECK(sj_barrier());
        if (turn != me)
            continue;
        for (int i = 0; i < nlocal; i++) {
            double *p;
            sj_block_info_t bi;
            CHECK(sj_array_block_info(x, mine[i], &bi));
            CHECK(sj_array_localpart_get(x, mine[i], (void **)&p));
            printf("  rank %d: block %d = x[%lld:%lld] starts with %g\n", me, mine[i] + 1,
                   (long long)bi.lo[0] + 1, (long long)bi.hi[0], p[0]);
            CHECK(sj_array_localpart_restore(x, mine[i], (void **)&p));
        }
        fflush(stdout);
    }
    CHECK(sj_wait());

    /* Algebra runs as tasks on the owners: y = 2 x + y, then y = y .* y. */
    CHECK(sj_array_axpy(2.0, x, y));
    CHECK(sj_array_mul(y, y, y));

    int ok = 1;

    /* Reductions: deterministic, the same bits on any number of ranks. */
    double sum, dot, nrm, mx, mean;
    CHECK(sj_array_sum(y, &sum));
    CHECK(sj_array_dot(x, y, &dot));
    CHECK(sj_array_norm(SJ_NORM_2, r, &nrm));
    CHECK(sj_array_max(y, &mx));
    CHECK(sj_array_mean(r, &mean));

    /* distribute: rank 0 holds a whole buffer and scatters it, here over a
     * block-cyclic layout; getblock brings one block back to rank 0. */
    sj_dist_t cyclic;
    CHECK(sj_dist_create_cyclic(1, (int[]){5}, np, 1, NULL, &cyclic));
    double *src = NULL, blk3[4] = {0};
    if (me == 0) {
        src = malloc(20 * sizeof(double));
        for (int i = 0; i < 20; i++)
            src[i] = 100.0 + i;
    }
    sj_array_t z;
    CHECK(sj_array_distribute(space, cyclic, 0, src, &z));
    CHECK(sj_array_block_get(z, 3, 0, blk3));
    int owner3;
    CHECK(sj_dist_owner(cyclic, 3, &owner3));
    if (me == 0)
        printf("\nz distributed from rank 0 block-cyclically: block 4 lives on rank %d and "
               "holds %g %g %g %g\n",
               owner3, blk3[0], blk3[1], blk3[2], blk3[3]);
    ok &= me != 0 || (blk3[0] == 112.0 && blk3[3] == 115.0);
    free(src);

    /* Bring y back to rank 0 (column-major, like convert(Array, d)). */
    double *whole = me == 0 ? malloc(20 * sizeof(double)) : NULL;
    CHECK(sj_array_gather(y, 0, whole));

    if (me == 0) {
        double ref_sum = 0, ref_dot = 0;
        printf("\ny = (2x + 1)^2 gathered on rank 0:\n ");
        for (int i = 0; i < 20; i++) {
            double v = (2.0 * (i + 1) + 1.0) * (2.0 * (i + 1) + 1.0);
            ok &= whole[i] == v;
            ref_sum += v;
            ref_dot += (i + 1) * v;
            printf(" %g", whole[i]);
        }
        printf("\n\nsum(y) = %.17g (serial %.17g)\ndot(x, y) = %.17g (serial %.17g)\n", sum,
               ref_sum, dot, ref_dot);
        printf("max(y) = %g, norm2(rand) = %.6f, mean(rand) = %.6f\n", mx, nrm, mean);
        ok &= sum == ref_sum && fabs(dot - ref_dot) <= 1e-12 * ref_dot && mx == 41.0 * 41.0;
        ok &= mean > 0.2 && mean < 0.8;
        printf("\n%s\n", ok ? "array_tour: all results check out" : "array_tour: WRONG RESULTS");
        free(whole);
    }
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&r);
    sj_array_destroy(&z);
    sj_dist_destroy(&cyclic);
    sj_dist_destroy(&dist);
    sj_space_destroy(&space);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
