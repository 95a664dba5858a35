/*
 * CG iterations per second: sj_solve_cg against a hand-written MPI + C CG in
 * the same run, on the same problem (issue 16's benchmark 1 and 2).
 *
 * A = diag(d), d_i = 1 + 10^6 (((7919 i) mod n) / n)^2 (condition 10^6, n
 * distinct eigenvalues: no early convergence), over n elements in `blocks` blocks of
 * a block-diagonal operator (one sj_op_diagonal leaf per block, the default
 * layout), b = 1. Both CGs run a fixed number of iterations (rtol = 0): the
 * starjets solver submits its iterations with a lag (default 2) and reads
 * each iteration's norms from local probes; the baseline keeps each rank's
 * contiguous part of the vectors and calls MPI_Allreduce twice per
 * iteration. Prints one JSON line on rank 0.
 *
 *   bench_solve [-n N] [-b BLOCKS] [-i ITERS] [-l LAG] [-r ROUNDS]
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int64_t n_global;

static double dval(int64_t i)
{
    const double t = (double)((7919 * i) % n_global) / (double)n_global;
    return 1.0 + 1e6 * t * t;
}

/* The baseline: CG on this rank's part [lo, hi) of the vectors. */
static double mpi_cg(int64_t lo, int64_t hi, int iters, double *xout)
{
    const int64_t m = hi - lo;
    double *x = xcalloc((size_t)(m ? m : 1), sizeof *x), *r = xmalloc((size_t)(m ? m : 1) * 8);
    double *p = xmalloc((size_t)(m ? m : 1) * 8), *q = xmalloc((size_t)(m ? m : 1) * 8);
    double *d = xmalloc((size_t)(m ? m : 1) * 8);
    for (int64_t i = 0; i < m; i++) {
        d[i] = dval(lo + i);
        r[i] = 1.0;
        p[i] = 1.0;
    }
    double rr = 0, t;
    for (int64_t i = 0; i < m; i++)
        rr += r[i] * r[i];
    MPI_Allreduce(MPI_IN_PLACE, &rr, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = now();
    for (int it = 0; it < iters; it++) {
        double pq = 0;
        for (int64_t i = 0; i < m; i++) {
            q[i] = d[i] * p[i];
            pq += p[i] * q[i];
        }
        MPI_Allreduce(MPI_IN_PLACE, &pq, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        const double alpha = rr / pq;
        double rn = 0;
        for (int64_t i = 0; i < m; i++) {
            x[i] += alpha * p[i];
            r[i] -= alpha * q[i];
            rn += r[i] * r[i];
        }
        MPI_Allreduce(MPI_IN_PLACE, &rn, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        const double beta = rn / rr;
        rr = rn;
        for (int64_t i = 0; i < m; i++)
            p[i] = r[i] + beta * p[i];
    }
    t = now() - t0;
    *xout = m ? x[0] : 0.0;
    free(x);
    free(r);
    free(p);
    free(q);
    free(d);
    return t;
}

int main(int argc, char **argv)
{
    int64_t n = 2000;
    int blocks = 2, iters = 1000, lag = 2, rounds = 3;
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "-n"))
            n = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "-b"))
            blocks = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "-i"))
            iters = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "-l"))
            lag = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "-r"))
            rounds = atoi(argv[a + 1]);
    }
    n_global = n;
    CHECK(sj_init(&argc, &argv, NULL));
    const int P = sj_nranks(), me = sj_rank();

    /* starjets: a block-diagonal operator of diagonal leaves on the default layout */
    sj_dist_t dist;
    CHECK(sj_dist_create_contiguous(1, (int[]){blocks}, P, NULL, NULL, &dist));
    sj_op_t *leaves = xcalloc((size_t)blocks, sizeof *leaves);
    for (int k = 0; k < blocks; k++) {
        const int64_t lo = k * (n / blocks) + (k < n % blocks ? k : n % blocks);
        const int64_t len = n / blocks + (k < n % blocks);
        sj_space_t sb;
        CHECK(sj_space_create(SJ_FLOAT64, 1, &len, NULL, &sb));
        int owner;
        CHECK(sj_dist_owner(dist, k, &owner));
        double *dv = NULL;
        if (owner == me) {
            dv = xmalloc((size_t)len * sizeof *dv);
            for (int64_t i = 0; i < len; i++)
                dv[i] = dval(lo + i);
        }
        CHECK(sj_op_diagonal(sb, owner, dv, &leaves[k]));
        free(dv);
        CHECK(sj_space_destroy(&sb));
    }
    sj_op_t A;
    CHECK(sj_op_block_diag(blocks, leaves, dist, &A));
    for (int k = 0; k < blocks; k++)
        CHECK(sj_op_destroy(&leaves[k]));
    free(leaves);
    sj_space_t dom;
    sj_dist_t ddom;
    CHECK(sj_op_domain(A, &dom, &ddom));
    sj_array_t b, x;
    CHECK(sj_array_ones(dom, ddom, &b));
    CHECK(sj_array_zeros(dom, ddom, &x));

    /* the baseline's part: the elements of this rank's blocks (contiguous layout) */
    int64_t lo = n, hi = 0;
    for (int k = 0; k < blocks; k++) {
        int owner;
        CHECK(sj_dist_owner(dist, k, &owner));
        const int64_t blo = k * (n / blocks) + (k < n % blocks ? k : n % blocks);
        const int64_t bhi = blo + n / blocks + (k < n % blocks);
        if (owner == me) {
            lo = blo < lo ? blo : lo;
            hi = bhi > hi ? bhi : hi;
        }
    }
    if (hi < lo)
        hi = lo;

    sj_solve_options_t o;
    sj_solve_options_default(&o);
    o.rtol = 0.0;
    o.max_iterations = iters;
    o.lag = lag;
    double tsj[MAX_ROUNDS], tmpi[MAX_ROUNDS], x0 = 0;
    sj_solve_result_t res = {0};
    if (rounds > MAX_ROUNDS)
        rounds = MAX_ROUNDS;
    for (int r = 0; r < rounds; r++) {
        CHECK(sj_array_fill(0.0, x));
        CHECK(sj_wait());
        CHECK(sj_solve_cg(A, b, x, &o, &res));
        tsj[r] = res.elapsed / (res.submitted ? res.submitted : 1);
        CHECK(sj_pause()); /* the baseline gets the cores */
        tmpi[r] = mpi_cg(lo, hi, iters, &x0) / (iters ? iters : 1);
        CHECK(sj_resume());
    }
    double *xall = me == 0 ? xmalloc((size_t)n * sizeof *xall) : NULL, x0sj = 0;
    CHECK(sj_array_gather(x, 0, xall));
    if (me == 0)
        x0sj = xall[0];
    free(xall);
    if (me == 0) {
        const double msj = median(tsj, rounds), mmpi = median(tmpi, rounds);
        printf("{\"bench\": \"solve\", \"ranks\": %d, \"n\": %lld, \"blocks\": %d, \"iters\": %d, "
               "\"lag\": %d, \"starjets_us_per_iter\": %.2f, \"mpi_us_per_iter\": %.3f, "
               "\"ratio_mpi_over_starjets\": %.4f, \"stop\": \"%s\", \"x0\": %.17g, "
               "\"x0_mpi\": %.17g}\n",
               P, (long long)n, blocks, iters, lag, 1e6 * msj, 1e6 * mmpi, mmpi / msj,
               sj_solve_reason_name(res.reason), x0sj, x0);
    }
    CHECK(sj_array_destroy(&b));
    CHECK(sj_array_destroy(&x));
    CHECK(sj_op_destroy(&A));
    CHECK(sj_dist_destroy(&dist));
    return sj_finalize();
}
