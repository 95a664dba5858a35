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
 * iteration. Where PETSc is installed (SJ_BENCH_PETSC), PETSc's KSPCG
 * (no preconditioner, an AIJ diagonal matrix, the same rows per rank, the
 * convergence test skipped) runs in the same run too.
 *
 * -s lsqr: sj_solve_lsqr on a tall block operator of BLOCKS dense R x C
 * blocks (-R, -C; default 16 of 1024 x 4096; the model on rank 0, the
 * blocks spread by the default tall layout) against PETSc's KSPLSQR on the
 * same matrix (MATMPIDENSE, the same rows per rank), a fixed number of
 * iterations each (-b defaults to 16 there). Prints one JSON line on rank 0.
 *
 * The baselines run first in the same process, on MPI started by this
 * program, before sj_init: StarPU's threads do not exist yet and take no
 * core from them (run between sj_pause and sj_resume, the 2-rank MPI loop
 * was up to 70 times slower: StarPU-MPI's progress thread still polls).
 *
 *   bench_solve [-s cg|lsqr] [-n N] [-b BLOCKS] [-R ROWS] [-C COLS] [-i ITERS] [-l LAG] [-r ROUNDS]
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#if SJ_BENCH_PETSC
#include <petscksp.h>
#define PCHK(call)                                                                                 \
    do {                                                                                           \
        if ((call) != 0) {                                                                         \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #call);                      \
            MPI_Abort(MPI_COMM_WORLD, 2);                                                          \
        }                                                                                          \
    } while (0)

/* KSPCG on diag(d) over this rank's rows [lo, hi): seconds per iteration. */
static double petsc_cg(int64_t n, int64_t lo, int64_t hi, int iters, double (*dv)(int64_t))
{
    Mat A;
    Vec x, b;
    KSP ksp;
    PC pc;
    PCHK(MatCreateAIJ(PETSC_COMM_WORLD, (PetscInt)(hi - lo), (PetscInt)(hi - lo), (PetscInt)n,
                      (PetscInt)n, 1, NULL, 0, NULL, &A));
    for (int64_t i = lo; i < hi; i++)
        PCHK(MatSetValue(A, (PetscInt)i, (PetscInt)i, dv(i), INSERT_VALUES));
    PCHK(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    PCHK(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
    PCHK(MatCreateVecs(A, &x, &b));
    PCHK(VecSet(b, 1.0));
    PCHK(KSPCreate(PETSC_COMM_WORLD, &ksp));
    PCHK(KSPSetOperators(ksp, A, A));
    PCHK(KSPSetType(ksp, KSPCG));
    PCHK(KSPGetPC(ksp, &pc));
    PCHK(PCSetType(pc, PCNONE));
    PCHK(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
    PCHK(KSPSetTolerances(ksp, 0.0, 0.0, 1e300, iters));
    PCHK(KSPSetConvergenceTest(ksp, KSPConvergedSkip, NULL, NULL));
    PCHK(VecSet(x, 0.0));
    PCHK(KSPSolve(ksp, b, x)); /* warm */
    PCHK(VecSet(x, 0.0));
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = now();
    PCHK(KSPSolve(ksp, b, x));
    const double t = now() - t0;
    PetscInt its = 0;
    PCHK(KSPGetIterationNumber(ksp, &its));
    PCHK(KSPDestroy(&ksp));
    PCHK(VecDestroy(&x));
    PCHK(VecDestroy(&b));
    PCHK(MatDestroy(&A));
    return t / (its ? its : 1);
}
#endif

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

static int lsqr_bench(int blocks, int64_t R, int64_t C, int iters, int lag, int rounds);
static int cg_bench(int64_t n, int blocks, int iters, int lag, int rounds);

/* The first block of part k when nb blocks are cut into P runs (the contiguous layout). */
static int run_lo(int k, int nb, int P)
{
    return k * (nb / P) + (k < nb % P ? k : nb % P);
}

/*
 * The baselines run first, with MPI (and PETSc) started by this program and
 * StarPU not running yet, so that nothing of starjets competes with them;
 * then sj_init on the program's MPI, and starjets' rounds.
 */
int main(int argc, char **argv)
{
    int64_t n = 2000, R = 1024, C = 4096;
    int blocks = 0, iters = 1000, lag = 2, rounds = 3, lsqr = 0;
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "-s"))
            lsqr = !strcmp(argv[a + 1], "lsqr");
        else if (!strcmp(argv[a], "-R"))
            R = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "-C"))
            C = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "-n"))
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
    if (rounds > MAX_ROUNDS)
        rounds = MAX_ROUNDS;
    if (blocks <= 0)
        blocks = lsqr ? 16 : 2;
    n_global = n;
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
#if SJ_BENCH_PETSC
    PCHK(PetscInitializeNoArguments());
#endif
    const int rc = lsqr ? lsqr_bench(blocks, R, C, iters, lag, rounds)
                        : cg_bench(n, blocks, iters, lag, rounds);
#if SJ_BENCH_PETSC
    PCHK(PetscFinalize());
#endif
    MPI_Finalize();
    return rc;
}

static int cg_bench(int64_t n, int blocks, int iters, int lag, int rounds)
{
    int P, me;
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    /* this rank's elements under the default layout: a run of blocks */
    const int P_used = P < blocks ? P : blocks;
    int64_t lo = 0, hi = 0;
    if (me < P_used) {
        const int b0 = run_lo(me, blocks, P_used), b1 = run_lo(me + 1, blocks, P_used);
        lo = b0 * (n / blocks) + (b0 < n % blocks ? b0 : n % blocks);
        hi = b1 * (n / blocks) + (b1 < n % blocks ? b1 : n % blocks);
    }
    double tsj[MAX_ROUNDS], tmpi[MAX_ROUNDS], tpetsc[MAX_ROUNDS] = {0}, x0 = 0;
    /*
     * The correctness check runs both CGs for at most 50 iterations: the same
     * iteration in another summation order stays within 1e-8 that long, while
     * after 1000 iterations of this unconverged problem the two differ by
     * about 1e-4 (rounding grows in an ill-conditioned CG).
     */
    const int citers = iters < 50 ? iters : 50;
    double x0c = 0;
    (void)mpi_cg(lo, hi, citers, &x0c);
    for (int r = 0; r < rounds; r++) {
        tmpi[r] = mpi_cg(lo, hi, iters, &x0) / (iters ? iters : 1);
#if SJ_BENCH_PETSC
        tpetsc[r] = petsc_cg(n, lo, hi, iters, dval);
#endif
    }

    CHECK(sj_init(NULL, NULL, NULL));
    /* starjets: a block-diagonal operator of diagonal leaves on the default layout */
    sj_dist_t dist;
    CHECK(sj_dist_create_contiguous(1, (int[]){blocks}, P, NULL, NULL, &dist));
    sj_op_t *leaves = xcalloc((size_t)blocks, sizeof *leaves);
    for (int k = 0; k < blocks; k++) {
        const int64_t blo = k * (n / blocks) + (k < n % blocks ? k : n % blocks);
        const int64_t len = n / blocks + (k < n % blocks);
        sj_space_t sb;
        CHECK(sj_space_create(SJ_FLOAT64, 1, &len, NULL, &sb));
        int owner;
        CHECK(sj_dist_owner(dist, k, &owner));
        if (owner == me && (blo < lo || blo + len > hi)) {
            fprintf(stderr, "bench_solve: block %d is not in rank %d's run\n", k, me);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        double *dv = NULL;
        if (owner == me) {
            dv = xmalloc((size_t)len * sizeof *dv);
            for (int64_t i = 0; i < len; i++)
                dv[i] = dval(blo + i);
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
    sj_solve_options_t o;
    sj_solve_options_default(&o);
    o.rtol = 0.0;
    o.max_iterations = iters;
    o.lag = lag;
    sj_solve_result_t res = {0};
    double tasks = 0; /* rank 0's tasks per iteration in the last round (setup included) */
    for (int r = 0; r < rounds; r++) {
        sj_stats_t before, after;
        CHECK(sj_array_fill(0.0, x));
        CHECK(sj_wait());
        CHECK(sj_stats_get(&before));
        CHECK(sj_solve_cg(A, b, x, &o, &res));
        CHECK(sj_stats_get(&after));
        tsj[r] = res.elapsed / (res.submitted ? res.submitted : 1);
        tasks = (double)(after.tasks_submitted - before.tasks_submitted) /
                (res.submitted ? res.submitted : 1);
    }
    double *xall = me == 0 ? xmalloc((size_t)n * sizeof *xall) : NULL, x0sj = 0, x0sjc = 0;
    CHECK(sj_array_gather(x, 0, xall));
    if (me == 0)
        x0sj = xall[0];
    sj_solve_result_t cres = {0};
    o.max_iterations = citers;
    CHECK(sj_array_fill(0.0, x));
    CHECK(sj_solve_cg(A, b, x, &o, &cres));
    CHECK(sj_array_gather(x, 0, xall));
    if (me == 0)
        x0sjc = xall[0];
    free(xall);
    if (me == 0) {
        const double msj = median(tsj, rounds), mmpi = median(tmpi, rounds);
        const double mp = median(tpetsc, rounds);
        printf("{\"bench\": \"solve\", \"solver\": \"cg\", \"ranks\": %d, \"n\": %lld, "
               "\"blocks\": %d, \"iters\": %d, \"lag\": %d, \"starjets_us_per_iter\": %.2f, "
               "\"starjets_tasks_per_iter\": %.2f, \"mpi_us_per_iter\": %.3f, "
               "\"petsc_us_per_iter\": %.3f, "
               "\"ratio_mpi_over_starjets\": %.4f, \"ratio_petsc_over_starjets\": %.4f, "
               "\"stop\": \"%s\", \"x0\": %.17g, \"x0_mpi\": %.17g, \"check_iters\": %d, "
               "\"check_x0\": %.17g, \"check_x0_mpi\": %.17g, \"correct\": %s}\n",
               P, (long long)n, blocks, iters, lag, 1e6 * msj, tasks, 1e6 * mmpi, 1e6 * mp,
               mmpi / msj, mp / msj, sj_solve_reason_name(res.reason), x0sj, x0, citers, x0sjc, x0c,
               /* the same iteration in another summation order: close, not equal */
               fabs(x0sjc - x0c) <= 1e-8 * fabs(x0c) ? "true" : "false");
    }
    CHECK(sj_array_destroy(&b));
    CHECK(sj_array_destroy(&x));
    CHECK(sj_op_destroy(&A));
    CHECK(sj_dist_destroy(&dist));
    return sj_finalize();
}

/* Entry (r, c) of the stacked matrix: a deterministic value in [-1, 1). */
static double aval(int64_t r, int64_t c)
{
    uint64_t h = (uint64_t)r * 0x9E3779B97F4A7C15ull ^ (uint64_t)c * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 32;
    return (double)(h >> 11) / (double)(1ull << 52) - 1.0;
}

typedef struct lsqr_ctx {
    int64_t R, C;
} lsqr_ctx_t;

static int make_block(int i, int j, int owner, void *ctx, sj_op_t *block)
{
    (void)j;
    const lsqr_ctx_t *c = ctx;
    sj_space_t sd, sr;
    CHECK(sj_space_create(SJ_FLOAT64, 1, &c->C, NULL, &sd));
    CHECK(sj_space_create(SJ_FLOAT64, 1, &c->R, NULL, &sr));
    double *M = NULL;
    if (sj_rank() == owner) {
        M = xmalloc((size_t)(c->R * c->C) * sizeof *M);
        for (int64_t col = 0; col < c->C; col++)
            for (int64_t r = 0; r < c->R; r++)
                M[r + c->R * col] = aval(i * c->R + r, col);
    }
    CHECK(sj_op_dense(sd, sr, owner, M, block));
    free(M);
    CHECK(sj_space_destroy(&sd));
    CHECK(sj_space_destroy(&sr));
    return SJ_OK;
}

static int lsqr_bench(int blocks, int64_t R, int64_t C, int iters, int lag, int rounds)
{
    int P, me;
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    /* this rank's rows under the default tall layout: a run of block rows */
    const int P_used = P < blocks ? P : blocks;
    const int64_t lo = me < P_used ? run_lo(me, blocks, P_used) * R : 0;
    const int64_t hi = me < P_used ? run_lo(me + 1, blocks, P_used) * R : 0;
    double tsj[MAX_ROUNDS], tp[MAX_ROUNDS] = {0};
#if SJ_BENCH_PETSC
    {
        Mat M;
        PCHK(MatCreateDense(PETSC_COMM_WORLD, (PetscInt)(hi - lo), PETSC_DECIDE,
                            (PetscInt)(blocks * R), (PetscInt)C, NULL, &M));
        PetscScalar *a;
        PetscInt lda;
        PCHK(MatDenseGetLDA(M, &lda));
        PCHK(MatDenseGetArray(M, &a));
        for (int64_t col = 0; col < C; col++)
            for (int64_t r = lo; r < hi; r++)
                a[(r - lo) + lda * col] = aval(r, col);
        PCHK(MatDenseRestoreArray(M, &a));
        PCHK(MatAssemblyBegin(M, MAT_FINAL_ASSEMBLY));
        PCHK(MatAssemblyEnd(M, MAT_FINAL_ASSEMBLY));
        Vec px, pb;
        KSP ksp;
        PC pc;
        PCHK(MatCreateVecs(M, &px, &pb));
        PCHK(VecSet(pb, 1.0));
        PCHK(KSPCreate(PETSC_COMM_WORLD, &ksp));
        PCHK(KSPSetOperators(ksp, M, M));
        PCHK(KSPSetType(ksp, KSPLSQR));
        PCHK(KSPGetPC(ksp, &pc));
        PCHK(PCSetType(pc, PCNONE));
        PCHK(KSPSetTolerances(ksp, 0.0, 0.0, 1e300, iters));
        PCHK(KSPSetConvergenceTest(ksp, KSPConvergedSkip, NULL, NULL));
        for (int r = 0; r < rounds; r++) {
            PCHK(VecSet(px, 0.0));
            MPI_Barrier(MPI_COMM_WORLD);
            const double t0 = now();
            PCHK(KSPSolve(ksp, pb, px));
            PetscInt its = 0;
            PCHK(KSPGetIterationNumber(ksp, &its));
            tp[r] = (now() - t0) / (its ? its : 1);
        }
        PCHK(KSPDestroy(&ksp));
        PCHK(VecDestroy(&px));
        PCHK(VecDestroy(&pb));
        PCHK(MatDestroy(&M));
    }
#endif
    CHECK(sj_init(NULL, NULL, NULL));
    lsqr_ctx_t c = {R, C};
    sj_op_t A;
    CHECK(sj_op_block_create_fn(blocks, 1, NULL, make_block, &c, sizeof c, &A));
    sj_space_t dom, rng;
    sj_dist_t ddom, drng, bd;
    CHECK(sj_op_domain(A, &dom, &ddom));
    CHECK(sj_op_range(A, &rng, &drng));
    CHECK(sj_op_block_dist(A, &bd));
    for (int i = 0; i < blocks; i++) { /* the rows PETSc had are this rank's blocks */
        int owner;
        CHECK(sj_dist_owner(bd, i, &owner));
        if ((owner == me) != (i * R >= lo && i * R < hi)) {
            fprintf(stderr, "bench_solve: block row %d is not where PETSc's rows were\n", i);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    sj_array_t b, x;
    CHECK(sj_array_ones(rng, drng, &b));
    CHECK(sj_array_zeros(dom, ddom, &x));
    sj_solve_options_t o;
    sj_solve_options_default(&o);
    o.rtol = 0.0;
    o.max_iterations = iters;
    o.lag = lag;
    sj_solve_result_t res = {0};
    for (int r = 0; r < rounds; r++) {
        CHECK(sj_array_fill(0.0, x));
        CHECK(sj_wait());
        CHECK(sj_solve_lsqr(A, b, x, &o, &res));
        tsj[r] = res.elapsed / (res.submitted ? res.submitted : 1);
    }
    if (me == 0) {
        const double ms = median(tsj, rounds), mp = median(tp, rounds);
        printf("{\"bench\": \"solve\", \"solver\": \"lsqr\", \"ranks\": %d, \"blocks\": %d, "
               "\"rows\": %lld, \"cols\": %lld, \"iters\": %d, \"lag\": %d, "
               "\"starjets_ms_per_iter\": %.3f, \"petsc_ms_per_iter\": %.3f, "
               "\"ratio_petsc_over_starjets\": %.4f, \"rnorm\": %.6e, \"correct\": %s}\n",
               P, blocks, (long long)R, (long long)C, iters, lag, 1e3 * ms, 1e3 * mp, mp / ms,
               res.rnorm, isfinite(res.rnorm) ? "true" : "false");
    }
    CHECK(sj_array_destroy(&b));
    CHECK(sj_array_destroy(&x));
    CHECK(sj_op_destroy(&A));
    return sj_finalize();
}
