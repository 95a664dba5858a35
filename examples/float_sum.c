// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Floating-point sums of a distributed array, after the "Numerical results"
 * section of the DistributedArrays.jl README: `sum(A) == sum(distribute(A))`
 * is false there, because the distributed sum adds per-chunk partial sums
 * and the chunks depend on the number of workers.
 *
 * Part 1 shows the effect: a serial left-to-right sum of an N x N matrix of
 * 1.1, the same matrix summed strip by strip for 1 to 8 strips, and this
 * run's real per-rank partial sums (each rank sums its own strip of a
 * distributed array) added in three different orders.
 *
 * Part 2 shows starjets' deterministic sum: sj_array_sum() gives the same
 * bits whatever the layout and the number of ranks, because it depends on
 * the blocking only (docs/arrays.md, "How the result is computed"). The
 * example checks it against the documented pairwise tree over the per-block
 * results, and checks sj_preduce_double(), whose order is documented to the
 * last addition (include/starjets/task.h), against a serial copy of it.
 *
 *   mpirun -n 4 ./float_sum [--n N] [--value V] [--blocks B] [--small] [--quiet]
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

/* How far b is from a, in units in the last place (0 when the bits are equal). */
static long long ulps(double a, double b)
{
    int64_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    return (long long)(ib - ia);
}

/* Start of piece k when n things are cut into m pieces as starjets (and
 * DistributedArrays) cut them: n / m each, the first n % m one more. */
static int64_t cut(int64_t n, int64_t m, int64_t k)
{
    return k * (n / m) + (k < n % m ? k : n % m);
}

/* Left-to-right sum of x[lo .. hi). */
static double naive_sum(const double *x, int64_t lo, int64_t hi)
{
    double s = 0;
    for (int64_t k = lo; k < hi; k++)
        s += x[k];
    return s;
}

/* The pairwise tree of docs/arrays.md and task.h, in place: for s = 1, 2, 4,
 * ..., p[i] += p[i + s] for every i that is a multiple of 2s. */
static double tree_sum(double *p, int64_t n)
{
    for (int64_t s = 1; s < n; s *= 2)
        for (int64_t i = 0; i + s < n; i += 2 * s)
            p[i] += p[i + s];
    return n ? p[0] : 0.0;
}

/* The term of the distributed loop: element i of the matrix. */
static double term(int64_t i, void *ctx)
{
    return ((const double *)ctx)[i];
}

/* ---- part 1: the README's effect ---------------------------------------- */

static int part1(int n, const double *a, double serial, int quiet)
{
    const int me = sj_rank(), np = sj_nranks();

    /* Strip sums simulated serially: p column strips, each summed left to
     * right, the p partial sums then added in strip order and pairwise. */
    double strips_np = 0, pair_np = 0, part[8];
    if (me == 0 && !quiet)
        printf("Part 1: the same %d x %d matrix summed in pieces\n  %-20s %.17g\n"
               "  %-20s %-32s %s\n",
               n, n, "serial, left to right", serial, "strips", "partial sums in order",
               "partial sums pairwise");
    for (int p = 1; p <= 8 && p <= n; p++) {
        double s = 0;
        for (int k = 0; k < p; k++) {
            part[k] = naive_sum(a, n * cut(n, p, k), n * cut(n, p, k + 1));
            s += part[k];
        }
        const double pair = tree_sum(part, p);
        if (p == np)
            strips_np = s, pair_np = pair;
        if (me == 0 && !quiet)
            printf("  %-20d %.17g (%+5lld ulp)  %.17g (%+5lld ulp)\n", p, s, ulps(serial, s), pair,
                   ulps(serial, pair));
    }

    /* The same on this run for real: an N x N array in np column strips, one
     * per rank (DistributedArrays' `distribute(A)` on np workers). */
    sj_space_t space;
    sj_dist_t dist;
    sj_array_t x;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){n, n}, (int[]){1, np}, &space));
    CHECK(sj_dist_create_contiguous(2, (int[]){1, np}, np, NULL, (int[]){1, np}, &dist));
    CHECK(sj_array_distribute(space, dist, 0, a, &x));

    /* Each rank sums its local part left to right (a local step) ... */
    double *lp;
    sj_block_info_t bi;
    CHECK(sj_array_block_info(x, me, &bi));
    CHECK(sj_array_localpart_get(x, me, (void **)&lp));
    const double mine = naive_sum(lp, 0, bi.nelems);
    CHECK(sj_array_localpart_restore(x, me, (void **)&lp));

    /* ... and the partial sums go to rank 0 through a vector with one
     * element per rank. */
    sj_space_t pspace;
    sj_array_t parts;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){np}, (int[]){np}, &pspace));
    CHECK(sj_array_zeros(pspace, NULL, &parts)); /* default layout: block r on rank r */
    CHECK(sj_array_localpart_get(parts, me, (void **)&lp));
    *lp = mine;
    CHECK(sj_array_localpart_restore(parts, me, (void **)&lp));
    double *p = malloc(np * sizeof *p);
    CHECK(sj_array_gather(parts, 0, p));

    int ok = 1;
    if (me == 0) {
        double fwd = 0;
        for (int r = 0; r < np; r++)
            fwd += p[r];
        const double pair = tree_sum(p, np);
        if (!quiet)
            printf("\n  this run, %d rank(s) each summing its own strip of a distributed array:\n"
                   "  %-20s %.17g (%+5lld ulp)  %.17g (%+5lld ulp)\n"
                   "  sum(A) == sum(distribute(A)): %s\n",
                   np, "per-rank sums", fwd, ulps(serial, fwd), pair, ulps(serial, pair),
                   fwd == serial ? "true" : "false");
        /* The real distributed sums must be the serial simulation with np strips. */
        if (fwd != strips_np || pair != pair_np) {
            printf("WRONG: per-rank partial sums give %.17g and %.17g, the serial %d-strip sums "
                   "%.17g and %.17g\n",
                   fwd, pair, np, strips_np, pair_np);
            ok = 0;
        }
    }
    free(p);
    CHECK(sj_array_destroy(&parts));
    CHECK(sj_space_destroy(&pspace));
    CHECK(sj_array_destroy(&x));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
    return ok;
}

/* ---- part 2: the deterministic sums ------------------------------------- */

/* sj_array_sum of the matrix in nb x nb blocks under a given layout. */
static double array_sum(sj_space_t space, sj_dist_t dist, const double *a)
{
    sj_array_t x;
    double s;
    CHECK(sj_array_distribute(space, dist, 0, a, &x));
    CHECK(sj_array_sum(x, &s));
    CHECK(sj_array_destroy(&x));
    return s;
}

/*
 * The documented reference: the per-block results combined by the pairwise
 * tree over block numbers. docs/arrays.md says each block is summed by a
 * fixed loop with four interleaved partial sums but not how those four are
 * added up, so the per-block results come from the library itself: the sum
 * of an array made of that block alone (one block: no tree step at all).
 */
static double tree_reference(int n, int nb, const double *a)
{
    const int nblocks = nb * nb, me = sj_rank();
    double *p = malloc(nblocks * sizeof *p);
    double *buf = malloc((size_t)n * n * sizeof *buf);
    for (int bj = 0; bj < nb; bj++)
        for (int bi = 0; bi < nb; bi++) {
            const int64_t i0 = cut(n, nb, bi), i1 = cut(n, nb, bi + 1);
            const int64_t j0 = cut(n, nb, bj), j1 = cut(n, nb, bj + 1);
            if (me == 0) /* copy block (bi, bj) out, column-major */
                for (int64_t j = j0; j < j1; j++)
                    memcpy(buf + (i1 - i0) * (j - j0), a + i0 + n * j, (i1 - i0) * sizeof *a);
            sj_space_t one;
            CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){i1 - i0, j1 - j0}, NULL, &one));
            p[bi + nb * bj] = array_sum(one, NULL, buf); /* block number bi + nb * bj */
            CHECK(sj_space_destroy(&one));
        }
    const double s = tree_sum(p, nblocks);
    free(p);
    free(buf);
    return s;
}

/* A serial copy of sj_preduce_double's documented order: K parts of the
 * range, each folded left to right from 0, then the pairwise tree. */
static double preduce_reference(int64_t len, const double *a)
{
    const int64_t k = len < SJ_PREDUCE_PARTS ? len : SJ_PREDUCE_PARTS;
    double *p = malloc(k * sizeof *p);
    for (int64_t q = 0; q < k; q++)
        p[q] = naive_sum(a, cut(len, k, q), cut(len, k, q + 1));
    const double s = tree_sum(p, k);
    free(p);
    return s;
}

static int part2(int n, int nb, const double *a, double serial, int quiet)
{
    const int me = sj_rank(), np = sj_nranks(), nblocks = nb * nb;
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){n, n}, (int[]){nb, nb}, &space));

    /* Four layouts of the same blocks: all on rank 0 (what a 1-rank run
     * does), contiguous over every rank, block-cyclic, and an owner table
     * that deals the blocks out backwards. */
    int *owners = malloc(nblocks * sizeof *owners);
    for (int b = 0; b < nblocks; b++)
        owners[b] = np - 1 - b % np;
    sj_dist_t dist[4];
    const char *names[4] = {"all blocks on rank 0", "contiguous over all ranks",
                            "block-cyclic over all ranks", "dealt out backwards"};
    CHECK(sj_dist_create_contiguous(2, (int[]){nb, nb}, 1, NULL, (int[]){1, 1}, &dist[0]));
    CHECK(sj_dist_create_default(space, &dist[1]));
    CHECK(sj_dist_create_cyclic(2, (int[]){nb, nb}, np, 1, NULL, &dist[2]));
    CHECK(sj_dist_create_explicit(2, (int[]){nb, nb}, owners, &dist[3]));
    free(owners);

    double s[4];
    for (int k = 0; k < 4; k++)
        s[k] = array_sum(space, dist[k], a);
    const double tree = tree_reference(n, nb, a);

    /* The result depends on the blocking (not on the layout): the same data
     * cut into other blocks may differ in the last bits. */
    const int nb2 = nb == 2 ? 3 : 2;
    sj_space_t other;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){n, n}, (int[]){nb2, nb2}, &other));
    const double s_other = array_sum(other, NULL, a);
    CHECK(sj_space_destroy(&other));

    /* The distributed loop over the elements, and its serial copy. */
    double loop;
    CHECK(sj_preduce_double(0, (int64_t)n * n, SJ_REDUCE_SUM, term, a, 0, &loop));
    const double loop_ref = preduce_reference((int64_t)n * n, a);

    int ok = 1;
    for (int k = 0; k < 4; k++)
        ok &= s[k] == tree;
    ok &= loop == loop_ref;
    if (me == 0) {
        if (!quiet) {
            printf("\nPart 2: starjets' sums (%d x %d blocks, on %d rank(s))\n", nb, nb, np);
            for (int k = 0; k < 4; k++)
                printf("  sj_array_sum, %-28s %.17g  %a%s\n", names[k], s[k], s[k],
                       s[k] == tree ? "" : "  <- differs");
            printf("  %-42s %.17g  %a\n", "documented tree over the block sums:", tree, tree);
            printf("  %-42s %.17g  %a\n", "sj_preduce_double over the elements:", loop, loop);
            printf("  %-42s %.17g  %a\n", "its documented order, serially:", loop_ref, loop_ref);
            char label[64];
            snprintf(label, sizeof label, "sj_array_sum in %d x %d blocks instead:", nb2, nb2);
            printf("  %-42s %.17g  %a\n", label, s_other, s_other);
            printf("  (serial left to right: %.17g, %+lld ulp from sj_array_sum)\n", serial,
                   ulps(serial, s[0]));
        }
        if (!ok)
            printf("WRONG: the deterministic sums above should have equal bits\n");
    }
    for (int k = 0; k < 4; k++)
        CHECK(sj_dist_destroy(&dist[k]));
    CHECK(sj_space_destroy(&space));
    return ok;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--n N] [--value V] [--blocks B] [--small] [--quiet]\n", prog);
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    int n = 100, nb = 4, quiet = 0, bad = 0;
    double value = 1.1;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--blocks") && i + 1 < argc)
            nb = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--value") && i + 1 < argc)
            value = atof(argv[++i]);
        else if (!strcmp(argv[i], "--small"))
            ; /* the README's 100 x 100 is already small */
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else
            bad = 1;
    }
    /* np column strips and nb blocks per dimension need that many columns. */
    if (bad || n < np || n < 8 || nb < 1 || nb > n || n > 8192) {
        if (me == 0)
            usage(argv[0]);
        sj_finalize();
        return 2;
    }

    /* A = fill(1.1, (N, N)), on every rank (it is small). */
    const int64_t len = (int64_t)n * n;
    double *a = malloc(len * sizeof *a);
    for (int64_t k = 0; k < len; k++)
        a[k] = value;
    const double serial = naive_sum(a, 0, len);

    int ok = part1(n, a, serial, quiet);
    ok &= part2(n, nb, a, serial, quiet);
    if (me == 0)
        printf("\n%s\n", ok ? "float_sum: the deterministic sums agree to the last bit"
                            : "float_sum: WRONG RESULTS");
    free(a);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
