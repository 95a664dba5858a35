// sj-example: nprocs=1,2,3,4 args=--small
/*
 * The constructors and layouts of the DistributedArrays.jl README ("Distributed
 * Arrays"): where the blocks of an array live, and how to choose it.
 *
 * 1. `dzeros`, `dones`, `drand`, `drandn`, `dfill` on a 100 x 100 x 10 array:
 *    the user cuts the array into blocks (the space), the default layout
 *    spreads the blocks over all ranks as DistributedArrays spreads chunks
 *    over the workers.
 * 2. `dzeros((100,100), workers()[1:4], [1,4])`: the first dimension not
 *    divided, the second in 4 pieces, one per rank of a given list of 4.
 *    With fewer than 4 ranks that layout cannot exist; the example shows the
 *    error and then puts the 4 pieces on the ranks there are.
 * 3. An explicit list of ranks: a layout over a subset, in a chosen order.
 * 4. `distribute(A)`: rank 0's whole array cut into the blocks of a layout;
 *    each rank checks the local parts it received, rank 0 gathers them back.
 *
 * Index ranges are printed 1-based and inclusive, as Julia prints
 * `localindices`; starjets' own calls use 0-based, half-open ranges.
 * (examples/array_tour.c is the general tour of arrays; this one sticks to the
 * README's constructors.)
 *
 *   mpirun -n 4 ./darray_layouts [--small] [--quiet]
 *
 * Every rank runs this same program; calls are collective unless noted.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

#include "example.h"

static int quiet;

/* Prints, on rank 0, the process grid of a layout and the box of blocks and
 * elements each rank owns (the README's `procs(d)` and `localindices`). */
static void show_layout(const char *title, sj_space_t space, sj_dist_t dist)
{
    if (sj_rank() != 0 || quiet)
        return;
    int ndims, nprocs, grid[SJ_MAX_DIMS];
    const int *procs;
    char text[128];
    CHECK(sj_space_shape(space, NULL, &ndims, NULL));
    CHECK(sj_space_describe(space, text, sizeof text));
    CHECK(sj_dist_procs(dist, &nprocs, &procs, grid));
    if (title[0])
        printf("%s\n", title);
    printf("  %s; procs = [", text);
    for (int k = 0; k < nprocs; k++)
        printf("%s%d", k ? ", " : "", procs[k]);
    printf("], process grid");
    for (int d = 0; d < ndims; d++)
        printf("%s%d", d ? " x " : " ", grid[d]);
    printf("\n");
    for (int r = 0; r < sj_nranks(); r++) {
        int nbox;
        const sj_box_t *box;
        CHECK(sj_dist_blockmap(dist, r, &nbox, &box));
        printf("  rank %d:%s", r, nbox ? "" : " nothing\n");
        for (int k = 0; k < nbox; k++) {
            /* The elements of a box: from the first cell of its first block
             * to the last cell of its last block. */
            int first, last, c[SJ_MAX_DIMS];
            int64_t lo[SJ_MAX_DIMS], hi[SJ_MAX_DIMS], lo2[SJ_MAX_DIMS], hi2[SJ_MAX_DIMS];
            CHECK(sj_space_block_index(space, box[k].lo, &first));
            for (int d = 0; d < ndims; d++)
                c[d] = box[k].hi[d] - 1;
            CHECK(sj_space_block_index(space, c, &last));
            CHECK(sj_space_block_range(space, first, lo, hi));
            CHECK(sj_space_block_range(space, last, lo2, hi2));
            printf("%s blocks", k ? "\n         " : "");
            for (int d = 0; d < ndims; d++)
                printf("%s%d:%d", d ? "," : " ", box[k].lo[d] + 1, box[k].hi[d]);
            printf(" = elements (");
            for (int d = 0; d < ndims; d++)
                printf("%s%lld:%lld", d ? ", " : "", (long long)lo[d] + 1, (long long)hi2[d]);
            printf(")\n");
        }
    }
    printf("\n");
}

/* ---- 1. the d-constructors ---------------------------------------------- */

static int constructors(int64_t n1, int64_t n2, int64_t n3)
{
    const int me = sj_rank();
    int ok = 1;
    /* 100 x 100 x 10 cut into 4 x 4 x 2 blocks; the default layout picks a
     * process grid (factors of the rank count on the dimensions with most
     * blocks) and gives each rank a box of blocks. */
    sj_space_t space;
    sj_dist_t dist, one;
    CHECK(sj_space_create(SJ_FLOAT64, 3, (int64_t[]){n1, n2, n3}, (int[]){4, 4, 2}, &space));
    CHECK(sj_dist_create_default(space, &dist));
    char title[128];
    snprintf(title, sizeof title,
             "1. dzeros(%lld,%lld,%lld) and friends, default layout:", (long long)n1, (long long)n2,
             (long long)n3);
    show_layout(title, space, dist);

    sj_array_t z, o, f, r, g, r1;
    CHECK(sj_array_zeros(space, dist, &z));       /* dzeros */
    CHECK(sj_array_ones(space, dist, &o));        /* dones */
    CHECK(sj_array_filled(space, dist, 0.5, &f)); /* dfill(0.5, ...) */
    CHECK(sj_array_rand(space, dist, 7, &r));     /* drand */
    CHECK(sj_array_randn(space, dist, 7, &g));    /* drandn */

    /* drand again with every block on rank 0: a seed gives the same numbers
     * on any layout (and any number of ranks). */
    CHECK(sj_dist_create_contiguous(3, (int[]){4, 4, 2}, 1, NULL, NULL, &one));
    CHECK(sj_array_rand(space, one, 7, &r1));

    int64_t len;
    CHECK(sj_space_length(space, &len));
    double zmin, zmax, osum, fsum, rmin, rmax, rmean, gmean, gnorm;
    CHECK(sj_array_min(z, &zmin));
    CHECK(sj_array_max(z, &zmax));
    CHECK(sj_array_sum(o, &osum));
    CHECK(sj_array_sum(f, &fsum));
    CHECK(sj_array_min(r, &rmin));
    CHECK(sj_array_max(r, &rmax));
    CHECK(sj_array_mean(r, &rmean));
    CHECK(sj_array_mean(g, &gmean));
    CHECK(sj_array_norm(SJ_NORM_2, g, &gnorm));
    const double gstd = gnorm / sqrt((double)len); /* about 1 */

    double *a = me == 0 ? malloc(len * sizeof *a) : NULL;
    double *b = me == 0 ? malloc(len * sizeof *b) : NULL;
    CHECK(sj_array_gather(r, 0, a));
    CHECK(sj_array_gather(r1, 0, b));
    if (me == 0) {
        const int same_rand = !memcmp(a, b, len * sizeof *a);
        if (!quiet) {
            printf("  dzeros: min %g, max %g\n  dones: sum %.17g (length %lld)\n", zmin, zmax, osum,
                   (long long)len);
            printf("  dfill(0.5): sum %.17g\n", fsum);
            printf("  drand: min %.6f, max %.6f, mean %.4f; the same bits with every block "
                   "on rank 0: %s\n",
                   rmin, rmax, rmean, same_rand ? "yes" : "no");
            printf("  drandn: mean %.4f, root mean square %.4f\n\n", gmean, gstd);
        }
        /* Exact for zeros, ones and halves (integers and halves add exactly
         * here); loose statistical bounds for the random arrays. */
        const char *why = zmin != 0 || zmax != 0      ? "dzeros is not all zero"
                          : osum != (double)len       ? "dones does not sum to its length"
                          : fsum != 0.5 * (double)len ? "dfill(0.5) has a wrong sum"
                          : !(rmin >= 0 && rmax < 1)  ? "drand outside [0, 1)"
                          : fabs(rmean - 0.5) > 0.05  ? "drand mean far from 0.5"
                          : !same_rand                ? "drand depends on the layout"
                          : fabs(gmean) > 0.1 || fabs(gstd - 1) > 0.1 ? "drandn not standard"
                                                                      : NULL;
        if (why) {
            printf("WRONG: %s\n", why);
            ok = 0;
        }
    }
    free(a);
    free(b);
    sj_array_t arrays[] = {z, o, f, r, g, r1};
    for (int k = 0; k < 6; k++)
        CHECK(sj_array_destroy(&arrays[k]));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_dist_destroy(&one));
    CHECK(sj_space_destroy(&space));
    return ok;
}

/* ---- 2. dzeros((100,100), workers()[1:4], [1,4]) ------------------------- */

/* Checks, on the rank itself, that each local part of x has the shape and
 * the place the layout promises: n rows, and the column range of piece k of
 * 4 (a local step). */
static int check_pieces(sj_array_t x, int64_t n)
{
    int nlocal, ok = 1;
    const int *mine;
    CHECK(sj_array_local_blocks(x, &nlocal, &mine));
    for (int k = 0; k < nlocal; k++) {
        sj_block_info_t bi;
        CHECK(sj_array_block_info(x, mine[k], &bi));
        const int64_t lo = mine[k] * (n / 4) + (mine[k] < n % 4 ? mine[k] : n % 4);
        const int64_t w = n / 4 + (mine[k] < n % 4);
        if (bi.dims[0] != n || bi.lo[1] != lo || bi.dims[1] != w) {
            fprintf(stderr, "rank %d: piece %d is %lld x %lld at column %lld\n", sj_rank(), mine[k],
                    (long long)bi.dims[0], (long long)bi.dims[1], (long long)bi.lo[1]);
            ok = 0;
        }
    }
    return ok;
}

static int first_four(int64_t n)
{
    const int me = sj_rank(), np = sj_nranks();
    int ok = 1;
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){n, n}, (int[]){1, 4}, &space));

    /* procs = ranks 0..3, grid 1 x 4: dimension 1 not divided, dimension 2 in
     * 4 pieces, piece k on procs[k]. */
    sj_dist_t dist = NULL;
    const int rc =
        sj_dist_create_contiguous(2, (int[]){1, 4}, 4, (int[]){0, 1, 2, 3}, (int[]){1, 4}, &dist);
    if (np >= 4 && rc != SJ_OK) {
        CHECK(rc);
    } else if (np < 4 && rc == SJ_OK) {
        if (me == 0)
            printf("WRONG: a layout over ranks 0..3 was accepted on %d rank(s)\n", np);
        ok = 0;
        CHECK(sj_dist_destroy(&dist));
    }
    if (rc == SJ_OK) {
        char title[128];
        snprintf(title, sizeof title,
                 "2. dzeros((%lld,%lld), workers()[1:4], [1,4]): pieces of %lld x %lld:",
                 (long long)n, (long long)n, (long long)n, (long long)n / 4);
        show_layout(title, space, dist);
    } else {
        /* Fewer than 4 ranks: the same request fails (Julia: the product of
         * dist must equal the number of processes). Use the ranks there are:
         * the 4 pieces go in contiguous runs to a 1 x np process grid. */
        if (me == 0 && !quiet)
            printf("2. dzeros((%lld,%lld), workers()[1:4], [1,4]) on %d rank(s):\n  %s: %s\n"
                   "  so the 4 pieces go to a 1 x %d grid of the ranks there are:\n",
                   (long long)n, (long long)n, np, sj_err_name(rc), sj_last_error(), np);
        CHECK(sj_dist_create_contiguous(2, (int[]){1, 4}, np, NULL, (int[]){1, np}, &dist));
        show_layout("", space, dist);
    }
    sj_array_t x;
    CHECK(sj_array_zeros(space, dist, &x));
    ok &= check_pieces(x, n);
    /* The pieces cover the array: 4 blocks in all, each owned once. */
    int total = 0;
    for (int r = 0; r < np; r++) {
        int cnt;
        CHECK(sj_dist_local_blocks(dist, r, &cnt, NULL));
        total += cnt;
    }
    if (total != 4) {
        if (me == 0)
            printf("WRONG: the ranks own %d pieces in all, not 4\n", total);
        ok = 0;
    }
    CHECK(sj_array_destroy(&x));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
    return ok;
}

/* ---- 3 and 4. an explicit list of ranks, distribute(A) ------------------- */

/* A[i, j] (0-based), the values distribute() spreads. */
static double a_value(int64_t i, int64_t j)
{
    return (double)(i + 1000 * j);
}

static int subset_and_distribute(int64_t n)
{
    const int me = sj_rank(), np = sj_nranks();
    int ok = 1;
    /* The ranks after rank 0, in reverse order (all of them on 1 rank): a
     * layout may use any list of ranks, like `workers()[2:end]`. */
    const int nprocs = np > 1 ? np - 1 : 1;
    int *procs = malloc(nprocs * sizeof *procs);
    for (int k = 0; k < nprocs; k++)
        procs[k] = np > 1 ? np - 1 - k : 0;
    sj_space_t space;
    sj_dist_t dist;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){n, n}, (int[]){3, 3}, &space));
    CHECK(sj_dist_create_contiguous(2, (int[]){3, 3}, nprocs, procs, NULL, &dist));
    free(procs);
    show_layout("3. on a list of ranks (those after rank 0, last first; on 1 rank, rank 0):", space,
                dist);

    /* 4. distribute(A): A exists on rank 0 only. */
    double *a = NULL;
    if (me == 0) {
        a = malloc((size_t)n * n * sizeof *a);
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < n; i++)
                a[i + n * j] = a_value(i, j);
    }
    sj_array_t x;
    CHECK(sj_array_distribute(space, dist, 0, a, &x));

    /* Each rank checks its local parts against A's formula, without any
     * message: localpart and localindices are local calls. */
    int nlocal;
    const int *mine;
    int64_t wrong = 0;
    CHECK(sj_array_local_blocks(x, &nlocal, &mine));
    for (int k = 0; k < nlocal; k++) {
        sj_block_info_t bi;
        double *lp;
        CHECK(sj_array_block_info(x, mine[k], &bi));
        CHECK(sj_array_localpart_get(x, mine[k], (void **)&lp));
        for (int64_t j = 0; j < bi.dims[1]; j++)
            for (int64_t i = 0; i < bi.dims[0]; i++)
                wrong += lp[i + bi.dims[0] * j] != a_value(bi.lo[0] + i, bi.lo[1] + j);
        CHECK(sj_array_localpart_restore(x, mine[k], (void **)&lp));
    }
    if (wrong) {
        fprintf(stderr, "rank %d: %lld element(s) of its local parts differ from A\n", me,
                (long long)wrong);
        ok = 0;
    }

    /* convert(Array, d): back to rank 0, equal to A. */
    double *back = me == 0 ? malloc((size_t)n * n * sizeof *back) : NULL;
    CHECK(sj_array_gather(x, 0, back));
    if (me == 0) {
        const int same = !memcmp(a, back, (size_t)n * n * sizeof *a);
        if (!quiet)
            printf("4. distribute(A) from rank 0 onto that layout: rank 0 owns %d block(s); "
                   "gathered back equal to A: %s\n",
                   nlocal, same ? "yes" : "no");
        if (!same) {
            printf("WRONG: gather(distribute(A)) differs from A\n");
            ok = 0;
        }
    }
    free(a);
    free(back);
    CHECK(sj_array_destroy(&x));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
    return ok;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--small] [--quiet]\n", prog);
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    int64_t n = 100, n3 = 10;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--small"))
            n = 20, n3 = 4;
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else
            bad = 1;
    }
    if (bad) {
        if (me == 0)
            usage(argv[0]);
        sj_finalize();
        return 2;
    }
    if (me == 0 && !quiet)
        printf("%d rank(s); index ranges are 1-based and inclusive, as in Julia\n\n", np);

    int ok = constructors(n, n, n3);
    ok &= first_four(n);
    ok &= subset_and_distribute(n);
    if (me == 0)
        printf("\n%s\n", ok ? "darray_layouts: every layout and array checks out"
                            : "darray_layouts: WRONG RESULTS");
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
