// sj-test: nprocs=1,2,3,4
/*
 * Iterative solvers (starjets/solve.h): CG, CGLS and LSQR on block operators
 * of dense leaves, against dense serial solutions computed here (Cholesky of
 * the matrix or of the normal equations); iterates that do not depend on the
 * layout, the lag or the rank count, bit for bit; bad input; flat memory.
 */
#include "sj_test.h"

#include <unistd.h> /* getpid */

/* ---- dense serial reference ---------------------------------------------------- */

/* A deterministic value in [-1, 1) from (seed, i, j). */
static double hval(uint64_t seed, int64_t i, int64_t j)
{
    uint64_t h = seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)(i * 1000003 + j) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 29;
    return (double)(h >> 11) / (double)(1ull << 52) - 1.0;
}

/* Solve the SPD system K x = f (n x n, column-major) by Cholesky, in place on copies. */
static void chol_solve(int64_t n, const double *K, const double *f, double *x)
{
    double *L = malloc((size_t)(n * n) * sizeof *L);
    memcpy(L, K, (size_t)(n * n) * sizeof *L);
    for (int64_t j = 0; j < n; j++) {
        double d = L[j + n * j];
        for (int64_t k = 0; k < j; k++)
            d -= L[j + n * k] * L[j + n * k];
        d = sqrt(d);
        L[j + n * j] = d;
        for (int64_t i = j + 1; i < n; i++) {
            double s = L[i + n * j];
            for (int64_t k = 0; k < j; k++)
                s -= L[i + n * k] * L[j + n * k];
            L[i + n * j] = s / d;
        }
    }
    for (int64_t i = 0; i < n; i++) { /* L y = f */
        double s = f[i];
        for (int64_t k = 0; k < i; k++)
            s -= L[i + n * k] * x[k];
        x[i] = s / L[i + n * i];
    }
    for (int64_t i = n - 1; i >= 0; i--) { /* L' x = y */
        double s = x[i];
        for (int64_t k = i + 1; k < n; k++)
            s -= L[k + n * i] * x[k];
        x[i] = s / L[i + n * i];
    }
    free(L);
}

/* x = argmin ||M x - f||^2 + lam^2 ||x||^2 (M rows x cols) by the normal equations. */
static void ls_solve(int64_t rows, int64_t cols, const double *M, const double *f, double lam,
                     double *x)
{
    double *K = calloc((size_t)(cols * cols), sizeof *K), *g = calloc((size_t)cols, sizeof *g);
    for (int64_t a = 0; a < cols; a++) {
        for (int64_t c = 0; c < cols; c++) {
            double s = 0;
            for (int64_t i = 0; i < rows; i++)
                s += M[i + rows * a] * M[i + rows * c];
            K[a + cols * c] = s + (a == c ? lam * lam : 0.0);
        }
        double s = 0;
        for (int64_t i = 0; i < rows; i++)
            s += M[i + rows * a] * f[i];
        g[a] = s;
    }
    chol_solve(cols, K, g, x);
    free(K);
    free(g);
}

static double rel_err(int64_t n, const double *x, const double *ref)
{
    double d = 0, r = 0;
    for (int64_t i = 0; i < n; i++) {
        d += (x[i] - ref[i]) * (x[i] - ref[i]);
        r += ref[i] * ref[i];
    }
    return sqrt(d / r);
}

/* ---- problems: block operators of dense leaves with their dense matrix ------------ */

typedef struct problem {
    int m, n;           /* block rows and columns */
    int64_t br, bc;     /* rows and columns of each block */
    int64_t rows, cols; /* of the whole matrix */
    double *M;          /* rows x cols, column-major, on every rank */
    double *f;          /* right-hand side */
    int diag_only;      /* block-diagonal */
    sj_op_t A;
    sj_space_t dom, rng; /* borrowed from A */
    sj_dist_t ddom, drng;
} problem_t;

/* owner_mode 0: default layout; 1: every block on rank 0; 2: round-robin. */
static sj_dist_t make_dist(int m, int n, int diag_only, int owner_mode)
{
    sj_dist_t d = NULL;
    const int P = sj_nranks();
    if (diag_only) {
        if (owner_mode == 0) {
            SJ_ASSERT_OK(sj_dist_create_contiguous(1, (int[]){m}, P, NULL, NULL, &d));
            return d;
        }
        int *own = malloc((size_t)m * sizeof *own);
        for (int i = 0; i < m; i++)
            own[i] = owner_mode == 1 ? 0 : i % P;
        SJ_ASSERT_OK(sj_dist_create_explicit(1, (int[]){m}, own, &d));
        free(own);
        return d;
    }
    if (owner_mode == 0) {
        SJ_ASSERT_OK(sj_dist_create_contiguous(2, (int[]){m, n}, P, NULL, NULL, &d));
        return d;
    }
    int *own = malloc((size_t)(m * n) * sizeof *own);
    for (int b = 0; b < m * n; b++)
        own[b] = owner_mode == 1 ? 0 : b % P;
    SJ_ASSERT_OK(sj_dist_create_explicit(2, (int[]){m, n}, own, &d));
    free(own);
    return d;
}

/* Build the operator of the matrix p->M cut into p->m x p->n blocks. */
static void problem_op(problem_t *p, int owner_mode)
{
    sj_space_t sb_dom, sb_rng;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &p->bc, NULL, &sb_dom));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &p->br, NULL, &sb_rng));
    sj_dist_t d = make_dist(p->m, p->n, p->diag_only, owner_mode);
    const int nblk = p->diag_only ? p->m : p->m * p->n;
    sj_op_t *blocks = calloc((size_t)nblk, sizeof *blocks);
    double *sub = malloc((size_t)(p->br * p->bc) * sizeof *sub);
    for (int i = 0; i < p->m; i++)
        for (int j = 0; j < p->n; j++) {
            if (p->diag_only && i != j)
                continue;
            int owner = 0;
            SJ_ASSERT_OK(sj_dist_owner(d, p->diag_only ? i : i + p->m * j, &owner));
            for (int64_t c = 0; c < p->bc; c++)
                for (int64_t r = 0; r < p->br; r++)
                    sub[r + p->br * c] = p->M[(i * p->br + r) + p->rows * (j * p->bc + c)];
            sj_op_t *slot = p->diag_only ? &blocks[i] : &blocks[i * p->n + j];
            SJ_ASSERT_OK(sj_op_dense(sb_dom, sb_rng, owner, sj_rank() == owner ? sub : NULL, slot));
        }
    if (p->diag_only)
        SJ_ASSERT_OK(sj_op_block_diag(p->m, blocks, d, &p->A));
    else
        SJ_ASSERT_OK(sj_op_block_create(p->m, p->n, blocks, d, &p->A));
    for (int b = 0; b < nblk; b++)
        SJ_ASSERT_OK(sj_op_destroy(&blocks[b]));
    free(blocks);
    free(sub);
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_space_destroy(&sb_dom));
    SJ_ASSERT_OK(sj_space_destroy(&sb_rng));
    SJ_ASSERT_OK(sj_op_domain(p->A, &p->dom, &p->ddom));
    SJ_ASSERT_OK(sj_op_range(p->A, &p->rng, &p->drng));
}

/* kind 0: SPD (G'G / n + shift I), kind 1: general (tall or square), scaled columns by cond. */
static problem_t problem_new(int m, int n, int64_t br, int64_t bc, int diag_only, int kind,
                             double cond, uint64_t seed)
{
    problem_t p = {.m = m, .n = n, .br = br, .bc = bc, .diag_only = diag_only};
    p.rows = m * br;
    p.cols = n * bc;
    p.M = calloc((size_t)(p.rows * p.cols), sizeof *p.M);
    p.f = malloc((size_t)p.rows * sizeof *p.f);
    for (int64_t i = 0; i < p.rows; i++)
        p.f[i] = hval(seed + 7, i, 0);
    if (kind == 0) { /* SPD: K = G' diag(w) G + I, eigenvalues spread by cond */
        const int64_t N = p.rows;
        double *G = malloc((size_t)(N * N) * sizeof *G);
        for (int64_t j = 0; j < N; j++)
            for (int64_t i = 0; i < N; i++)
                G[i + N * j] = hval(seed, i, j) / sqrt((double)N);
        for (int64_t a = 0; a < N; a++)
            for (int64_t c = 0; c < N; c++) {
                if (diag_only && a / br != c / br)
                    continue;
                double s = 0;
                for (int64_t k = 0; k < N; k++) {
                    const double w = pow(cond, (double)k / (double)(N - 1));
                    s += G[k + N * a] * w * G[k + N * c];
                }
                p.M[a + N * c] = s + (a == c ? 1.0 : 0.0);
            }
        free(G);
    } else {
        for (int64_t c = 0; c < p.cols; c++) {
            const double w = pow(cond, -(double)c / (double)(p.cols > 1 ? p.cols - 1 : 1));
            for (int64_t r = 0; r < p.rows; r++) {
                if (diag_only && r / br != c / bc)
                    continue;
                p.M[r + p.rows * c] = (hval(seed, r, c) + (r == c ? 2.0 : 0.0)) * w;
            }
        }
    }
    return p;
}

static void problem_free(problem_t *p)
{
    sj_op_destroy(&p->A);
    free(p->M);
    free(p->f);
}

/* b in the range of A (its own layout) from p->f. */
static sj_array_t problem_rhs(problem_t *p)
{
    sj_array_t b;
    SJ_ASSERT_OK(sj_array_distribute(p->rng, p->drng, 0, sj_rank() == 0 ? p->f : NULL, &b));
    return b;
}

static double *gather(sj_array_t x, int64_t n)
{
    double *v = malloc((size_t)n * sizeof *v);
    SJ_ASSERT_OK(sj_array_allgather(x, v));
    return v;
}

typedef int (*solver_fn)(sj_op_t, sj_array_t, sj_array_t, const sj_solve_options_t *,
                         sj_solve_result_t *);

/* Solve with @p solver from x = 0; returns the gathered x (every rank). */
static double *run(problem_t *p, solver_fn solver, const sj_solve_options_t *o,
                   sj_solve_result_t *res)
{
    sj_array_t b = problem_rhs(p), x;
    SJ_ASSERT_OK(sj_array_zeros(p->dom, p->ddom, &x));
    SJ_ASSERT_OK(solver(p->A, b, x, o, res));
    double *v = gather(x, p->cols);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    return v;
}

/* ---- monitor --------------------------------------------------------------------- */

typedef struct record {
    int n;
    int it[4096];
    double rnorm[4096], arnorm[4096];
    int64_t objects[4096], handles[4096];
} record_t;

static void record_fn(const sj_solve_monitor_info_t *info, void *ctx)
{
    record_t *r = ctx;
    if (r->n >= 4096)
        return;
    sj_stats_t st;
    sj_stats_get(&st);
    r->it[r->n] = info->iteration;
    r->rnorm[r->n] = info->rnorm;
    r->arnorm[r->n] = info->arnorm;
    r->objects[r->n] = st.objects;
    r->handles[r->n] = st.handles;
    r->n++;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_cg_spd(void **state)
{
    (void)state;
    problem_t p = problem_new(4, 4, 16, 16, 1, 0, 100.0, 11); /* block-diagonal SPD */
    problem_op(&p, 0);
    sj_solve_options_t o;
    sj_solve_options_default(&o);
    o.rtol = 1e-12;
    record_t *rec = calloc(1, sizeof *rec);
    o.monitor = record_fn;
    o.monitor_ctx = rec;
    sj_solve_result_t r;
    double *x = run(&p, sj_solve_cg, &o, &r);
    double *ref = malloc((size_t)p.cols * sizeof *ref);
    chol_solve(p.rows, p.M, p.f, ref);
    assert_true(rel_err(p.cols, x, ref) < 1e-9);
    assert_true(r.reason == SJ_SOLVE_RTOL);
    assert_true(r.iterations > 1 && r.iterations <= 64);
    assert_true(r.submitted >= r.iterations && r.submitted <= r.iterations + o.lag);
    assert_true(r.rnorm <= 1e-12 * r.bnorm);
    if (sj_rank() == 0) { /* the monitor saw 0 .. iterations, in order */
        assert_int_equal(rec->n, r.iterations + 1);
        for (int k = 0; k < rec->n; k++)
            assert_int_equal(rec->it[k], k);
        assert_true(rec->rnorm[rec->n - 1] == r.rnorm);
        assert_true(isnan(rec->arnorm[0]));
    }
    free(rec);
    free(x);
    free(ref);
    problem_free(&p);
}

/* A full 3 x 3 block operator whose matrix is SPD. */
static void test_cg_block_general(void **state)
{
    (void)state;
    problem_t p = problem_new(3, 3, 10, 10, 0, 0, 50.0, 12);
    problem_op(&p, 0);
    sj_solve_options_t o;
    sj_solve_options_default(&o);
    o.rtol = 1e-11;
    sj_solve_result_t r;
    double *x = run(&p, sj_solve_cg, &o, &r);
    double *ref = malloc((size_t)p.cols * sizeof *ref);
    chol_solve(p.rows, p.M, p.f, ref);
    assert_true(rel_err(p.cols, x, ref) < 1e-8);
    assert_true(r.reason == SJ_SOLVE_RTOL);
    free(x);
    free(ref);
    problem_free(&p);
}

/* Jacobi preconditioning of a badly scaled SPD block-diagonal matrix. */
static void test_pcg(void **state)
{
    (void)state;
    problem_t p = problem_new(2, 2, 20, 20, 1, 0, 10.0, 13);
    const int64_t N = p.rows;
    for (int64_t i = 0; i < N; i++) /* K <- S K S, S = diag(10^(3 i / N)) */
        for (int64_t j = 0; j < N; j++)
            p.M[i + N * j] *=
                pow(10.0, 3.0 * (double)i / (double)N) * pow(10.0, 3.0 * (double)j / (double)N);
    problem_op(&p, 0);
    /* M = diag(1 / K_ii), one leaf per diagonal block, on the owners of A's blocks */
    sj_op_t blocks[2];
    sj_space_t sb;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &p.br, NULL, &sb));
    double inv[20];
    for (int i = 0; i < 2; i++) {
        sj_op_t Ai;
        int owner;
        SJ_ASSERT_OK(sj_op_block_get(p.A, i, i, &Ai));
        SJ_ASSERT_OK(sj_op_owner(Ai, &owner));
        SJ_ASSERT_OK(sj_op_destroy(&Ai));
        for (int k = 0; k < 20; k++)
            inv[k] = 1.0 / p.M[(20 * i + k) * (N + 1)];
        SJ_ASSERT_OK(sj_op_diagonal(sb, owner, sj_rank() == owner ? inv : NULL, &blocks[i]));
    }
    sj_dist_t d;
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, (int[]){2}, sj_nranks(), NULL, NULL, &d));
    sj_op_t M;
    SJ_ASSERT_OK(sj_op_block_diag(2, blocks, d, &M));
    sj_solve_options_t o;
    sj_solve_options_default(&o);
    o.rtol = 1e-10;
    o.max_iterations = 2000;
    sj_solve_result_t r0, r1;
    double *x0 = run(&p, sj_solve_cg, &o, &r0);
    o.precond = M;
    double *x1 = run(&p, sj_solve_cg, &o, &r1);
    double *ref = malloc((size_t)N * sizeof *ref);
    chol_solve(N, p.M, p.f, ref);
    assert_true(r1.reason == SJ_SOLVE_RTOL);
    assert_true(rel_err(N, x1, ref) < 1e-6);
    assert_true(r1.iterations < r0.iterations); /* the preconditioner pays */
    /* PCG's tolerance is on the true residual ||b - A x||: recompute it */
    double rr = 0;
    for (int64_t i = 0; i < N; i++) {
        double s = p.f[i];
        for (int64_t j = 0; j < N; j++)
            s -= p.M[i + N * j] * x1[j];
        rr += s * s;
    }
    assert_true(sqrt(rr) <= 10 * 1e-10 * r1.bnorm);
    free(x0);
    free(x1);
    free(ref);
    sj_op_destroy(&blocks[0]);
    sj_op_destroy(&blocks[1]);
    sj_op_destroy(&M);
    sj_dist_destroy(&d);
    sj_space_destroy(&sb);
    problem_free(&p);
}

/* Tall 4 x 1 block operator: least squares, plain and damped, CGLS and LSQR. */
static void test_least_squares(void **state)
{
    (void)state;
    problem_t p = problem_new(4, 1, 30, 24, 0, 1, 10.0, 14);
    problem_op(&p, 0);
    const double lams[2] = {0.0, 0.7};
    solver_fn solvers[2] = {sj_solve_cgls, sj_solve_lsqr};
    double *ref = malloc((size_t)p.cols * sizeof *ref);
    for (int l = 0; l < 2; l++) {
        ls_solve(p.rows, p.cols, p.M, p.f, lams[l], ref);
        for (int s = 0; s < 2; s++) {
            sj_solve_options_t o;
            sj_solve_options_default(&o);
            o.rtol = 1e-12;
            o.damp = lams[l];
            sj_solve_result_t r;
            double *x = run(&p, solvers[s], &o, &r);
            if (rel_err(p.cols, x, ref) >= 1e-8)
                print_error("solver %d damp %g: error %g, %d iterations, reason %s\n", s, lams[l],
                            rel_err(p.cols, x, ref), r.iterations, sj_solve_reason_name(r.reason));
            assert_true(rel_err(p.cols, x, ref) < 1e-8);
            assert_true(r.reason == SJ_SOLVE_RTOL);
            assert_true(r.arnorm <= 1e-12 * r.arnorm0);
            /* the reported damped residual is the true one */
            double rr = 0, xx = 0;
            for (int64_t i = 0; i < p.rows; i++) {
                double t = p.f[i];
                for (int64_t j = 0; j < p.cols; j++)
                    t -= p.M[i + p.rows * j] * x[j];
                rr += t * t;
            }
            for (int64_t j = 0; j < p.cols; j++)
                xx += x[j] * x[j];
            const double rn = sqrt(rr + lams[l] * lams[l] * xx);
            assert_true(fabs(r.rnorm - rn) <= 1e-6 * rn);
            free(x);
        }
    }
    free(ref);
    problem_free(&p);
}

/*
 * A start that already solves the problem (b = 0 from x = 0, and b = A x0 from
 * x0): every least-squares solver stops at iteration 0 with SJ_SOLVE_ATOL,
 * zero norms and x untouched (LSQR's scalars divide by ||b - A x0|| = 0).
 */
static void test_exact_start(void **state)
{
    (void)state;
    problem_t p = problem_new(4, 1, 30, 24, 0, 1, 10.0, 14);
    problem_op(&p, 0);
    solver_fn solvers[2] = {sj_solve_cgls, sj_solve_lsqr};
    sj_array_t x0, b;
    SJ_ASSERT_OK(sj_array_rand(p.dom, p.ddom, 5, &x0));
    double *want = gather(x0, p.cols);
    for (int zero = 0; zero < 2; zero++) {
        SJ_ASSERT_OK(sj_array_zeros(p.rng, p.drng, &b));
        if (!zero)
            SJ_ASSERT_OK(sj_op_apply(p.A, x0, b));
        for (int s = 0; s < 2; s++)
            for (int damped = 0; damped < 2; damped++)
                for (int lag = 0; lag <= 2; lag += 2) {
                    sj_solve_options_t o;
                    sj_solve_options_default(&o);
                    o.damp = damped ? 0.7 : 0.0;
                    o.lag = lag;
                    sj_array_t x;
                    if (zero)
                        SJ_ASSERT_OK(sj_array_zeros(p.dom, p.ddom, &x));
                    else
                        SJ_ASSERT_OK(sj_array_copy(x0, &x));
                    sj_solve_result_t r;
                    SJ_ASSERT_OK(solvers[s](p.A, b, x, &o, &r));
                    assert_int_equal(r.reason, SJ_SOLVE_ATOL);
                    assert_int_equal(r.iterations, 0);
                    assert_true(r.rnorm == 0.0 && r.rnorm0 == 0.0);
                    assert_true(r.arnorm == 0.0 && r.arnorm0 == 0.0);
                    double *got = gather(x, p.cols);
                    for (int64_t j = 0; j < p.cols; j++)
                        assert_true(got[j] == (zero ? 0.0 : want[j]));
                    free(got);
                    SJ_ASSERT_OK(sj_array_destroy(&x));
                }
        SJ_ASSERT_OK(sj_array_destroy(&b));
    }
    free(want);
    SJ_ASSERT_OK(sj_array_destroy(&x0));
    problem_free(&p);
}

/* Block-diagonal rectangular operator with a right preconditioner (CGLS, LSQR). */
static void test_ls_precond(void **state)
{
    (void)state;
    problem_t p = problem_new(3, 3, 12, 8, 1, 1, 1e3, 15);
    problem_op(&p, 0);
    sj_op_t M;
    {
        sj_op_t blocks[3];
        sj_space_t sb;
        SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &p.bc, NULL, &sb));
        double w[8];
        for (int i = 0; i < 3; i++) {
            sj_op_t Ai;
            int owner;
            SJ_ASSERT_OK(sj_op_block_get(p.A, i, i, &Ai));
            SJ_ASSERT_OK(sj_op_owner(Ai, &owner));
            SJ_ASSERT_OK(sj_op_destroy(&Ai));
            for (int k = 0; k < 8; k++) { /* 1 / column norm */
                double s = 0;
                for (int64_t r = 0; r < p.rows; r++)
                    s += p.M[r + p.rows * (8 * i + k)] * p.M[r + p.rows * (8 * i + k)];
                w[k] = 1.0 / sqrt(s);
            }
            SJ_ASSERT_OK(sj_op_diagonal(sb, owner, sj_rank() == owner ? w : NULL, &blocks[i]));
        }
        sj_dist_t d;
        SJ_ASSERT_OK(sj_dist_create_contiguous(1, (int[]){3}, sj_nranks(), NULL, NULL, &d));
        SJ_ASSERT_OK(sj_op_block_diag(3, blocks, d, &M));
        for (int i = 0; i < 3; i++)
            sj_op_destroy(&blocks[i]);
        sj_dist_destroy(&d);
        sj_space_destroy(&sb);
    }
    double *ref = malloc((size_t)p.cols * sizeof *ref);
    ls_solve(p.rows, p.cols, p.M, p.f, 0.0, ref);
    solver_fn solvers[2] = {sj_solve_cgls, sj_solve_lsqr};
    for (int s = 0; s < 2; s++) {
        sj_solve_options_t o;
        sj_solve_options_default(&o);
        o.rtol = 1e-12;
        sj_solve_result_t r0, r1;
        double *x0 = run(&p, solvers[s], &o, &r0);
        o.precond = M;
        double *x1 = run(&p, solvers[s], &o, &r1);
        assert_true(rel_err(p.cols, x1, ref) < 1e-7);
        assert_true(r1.iterations <= r0.iterations);
        free(x0);
        free(x1);
    }
    free(ref);
    sj_op_destroy(&M);
    problem_free(&p);
}

/* Condition number 1e6: LSQR and CGLS reach the documented test. */
static void test_ill_conditioned(void **state)
{
    (void)state;
    problem_t p = problem_new(2, 1, 40, 30, 0, 1, 1e6, 16);
    problem_op(&p, 0);
    solver_fn solvers[2] = {sj_solve_lsqr, sj_solve_cgls};
    for (int s = 0; s < 2; s++) {
        sj_solve_options_t o;
        sj_solve_options_default(&o);
        o.rtol = 1e-9;
        o.max_iterations = 5000;
        sj_solve_result_t r;
        double *x = run(&p, solvers[s], &o, &r);
        assert_true(r.reason == SJ_SOLVE_RTOL);
        /* the true normal-equation residual meets the tolerance (a small factor for the
           recurrences' drift) */
        double *res = malloc((size_t)p.rows * sizeof *res), ar = 0;
        for (int64_t i = 0; i < p.rows; i++) {
            res[i] = p.f[i];
            for (int64_t j = 0; j < p.cols; j++)
                res[i] -= p.M[i + p.rows * j] * x[j];
        }
        for (int64_t j = 0; j < p.cols; j++) {
            double t = 0;
            for (int64_t i = 0; i < p.rows; i++)
                t += p.M[i + p.rows * j] * res[i];
            ar += t * t;
        }
        if (sqrt(ar) > 100 * 1e-9 * r.arnorm0)
            print_error("solver %d: ||A'r|| %g, estimate %g, arnorm0 %g, %d iterations\n", s,
                        sqrt(ar), r.arnorm, r.arnorm0, r.iterations);
        assert_true(sqrt(ar) <= 100 * 1e-9 * r.arnorm0);
        free(res);
        free(x);
    }
    problem_free(&p);
}

/*
 * The same bits whatever the layout (every block on rank 0 = one rank's
 * computation, or spread) and whatever the lag; a smaller iteration limit gives
 * the same bits as a run stopped there by the lag-0 loop.
 */
static void test_bits(void **state)
{
    (void)state;
    solver_fn solvers[3] = {sj_solve_cg, sj_solve_cgls, sj_solve_lsqr};
    for (int s = 0; s < 3; s++) {
        double *xs[4];
        sj_solve_result_t rs[4];
        record_t *recs = calloc(4, sizeof *recs);
        for (int c = 0; c < 4; c++) { /* (layout, lag): (0,2) (1,2) (2,0) (2,5) */
            const int mode = c == 0 ? 0 : c == 1 ? 1 : 2, lag = c == 2 ? 0 : c == 3 ? 5 : 2;
            problem_t p = s == 0 ? problem_new(4, 4, 12, 12, 1, 0, 1e3, 17)
                                 : problem_new(4, 2, 15, 10, 0, 1, 1e2, 18);
            problem_op(&p, mode);
            sj_solve_options_t o;
            sj_solve_options_default(&o);
            o.rtol = 1e-10;
            o.damp = s == 0 ? 0.0 : 0.3;
            o.lag = lag;
            o.monitor = record_fn;
            o.monitor_ctx = &recs[c];
            xs[c] = run(&p, solvers[s], &o, &rs[c]);
            problem_free(&p);
        }
        for (int c = 1; c < 4; c++) {
            assert_int_equal(rs[c].iterations, rs[0].iterations);
            assert_memory_equal(xs[c], xs[0], sizeof(double) * (s == 0 ? 48 : 20));
            assert_memory_equal(&rs[c].rnorm, &rs[0].rnorm, sizeof(double));
            if (sj_rank() == 0) {
                assert_int_equal(recs[c].n, recs[0].n);
                assert_memory_equal(recs[c].rnorm, recs[0].rnorm, sizeof(double) * recs[0].n);
            }
        }
        /* stop at iteration k by the limit: the monitor's k-th norm, and the same
           iterate as a limit-k run with lag 0 */
        const int k = rs[0].iterations / 2;
        problem_t p = s == 0 ? problem_new(4, 4, 12, 12, 1, 0, 1e3, 17)
                             : problem_new(4, 2, 15, 10, 0, 1, 1e2, 18);
        problem_op(&p, 2);
        sj_solve_options_t o;
        sj_solve_options_default(&o);
        o.rtol = 1e-10;
        o.damp = s == 0 ? 0.0 : 0.3;
        o.max_iterations = k;
        sj_solve_result_t ra, rb;
        double *xa = run(&p, solvers[s], &o, &ra);
        o.lag = 0;
        double *xb = run(&p, solvers[s], &o, &rb);
        assert_true(ra.reason == SJ_SOLVE_MAX_ITERS && ra.iterations == k && ra.submitted == k);
        assert_memory_equal(xa, xb, sizeof(double) * p.cols);
        if (sj_rank() == 0)
            assert_memory_equal(&ra.rnorm, &recs[0].rnorm[k], sizeof(double));
        free(xa);
        free(xb);
        problem_free(&p);
        for (int c = 0; c < 4; c++)
            free(xs[c]);
        free(recs);
    }
}

/*
 * Across rank counts: each run writes its CG and LSQR norms' bits and a hash of
 * the iterate to solve_bits_np<P>.txt; every run compares with the files other
 * rank counts left (ctest runs np1 first, one at a time by default).
 */
static void test_bits_across_rank_counts(void **state)
{
    (void)state;
    char line[2][256];
    solver_fn solvers[2] = {sj_solve_cg, sj_solve_lsqr};
    for (int s = 0; s < 2; s++) {
        problem_t p = s == 0 ? problem_new(4, 4, 12, 12, 1, 0, 1e3, 19)
                             : problem_new(4, 2, 15, 10, 0, 1, 1e2, 20);
        problem_op(&p, 0);
        sj_solve_options_t o;
        sj_solve_options_default(&o);
        o.rtol = 1e-10;
        sj_solve_result_t r;
        double *x = run(&p, solvers[s], &o, &r);
        uint64_t h = 1469598103934665603ull, rb;
        for (int64_t i = 0; i < p.cols; i++) {
            uint64_t u;
            memcpy(&u, &x[i], sizeof u);
            h = (h ^ u) * 1099511628211ull;
        }
        memcpy(&rb, &r.rnorm, sizeof rb);
        snprintf(line[s], sizeof line[s], "%s %d %016llx %016llx", s ? "lsqr" : "cg", r.iterations,
                 (unsigned long long)h, (unsigned long long)rb);
        free(x);
        problem_free(&p);
    }
    if (sj_rank() != 0)
        return;
    char path[64];
    snprintf(path, sizeof path, "solve_bits_np%d.txt", sj_nranks());
    char tmp[80]; /* written aside, then renamed: a run beside this one reads all or nothing */
    snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f) {
        fprintf(f, "%s\n%s\n", line[0], line[1]);
        fclose(f);
        rename(tmp, path);
    }
    for (int P = 1; P <= 4; P++) {
        snprintf(path, sizeof path, "solve_bits_np%d.txt", P);
        f = fopen(path, "r");
        if (!f)
            continue;
        char got[2][256] = {"", ""};
        for (int s = 0; s < 2; s++)
            if (!fgets(got[s], sizeof got[s], f))
                got[s][0] = '\0';
        fclose(f);
        for (int s = 0; s < 2; s++) {
            got[s][strcspn(got[s], "\n")] = '\0';
            if (strcmp(got[s], line[s]) != 0)
                print_error("%d ranks gave '%s', this run '%s'\n", P, got[s], line[s]);
            assert_string_equal(got[s], line[s]);
        }
    }
}

/* Nothing created per iteration stays: the monitor samples what starjets holds. */
static void test_flat(void **state)
{
    (void)state;
    problem_t p = problem_new(2, 2, 100, 100, 1, 0, 1e8, 21);
    problem_op(&p, 0);
    sj_stats_t before, after;
    SJ_ASSERT_OK(sj_stats_get(&before));
    record_t *rec = calloc(1, sizeof *rec);
    sj_solve_options_t o;
    sj_solve_options_default(&o);
    o.rtol = 0.0; /* run to the limit */
    o.max_iterations = 600;
    o.monitor = record_fn;
    o.monitor_ctx = rec;
    sj_solve_result_t r;
    double *x = run(&p, sj_solve_cg, &o, &r);
    free(x);
    x = run(&p, sj_solve_lsqr, &o, &r);
    free(x);
    SJ_ASSERT_OK(sj_stats_get(&after));
    assert_int_equal(after.objects, before.objects);
    assert_int_equal(after.handles, before.handles);
    if (sj_rank() == 0 && rec->n > 200) {
        for (int k = 20; k < rec->n; k++) {
            /* steady state: past the start, before the last lag iterations (fewer
               submitted ahead), and not across the second solve's start */
            if (rec->it[k] < 10 || rec->it[k] > o.max_iterations - o.lag - 1 ||
                rec->it[k - 1] + 1 != rec->it[k])
                continue;
            assert_int_equal(rec->objects[k], rec->objects[k - 1]);
            assert_int_equal(rec->handles[k], rec->handles[k - 1]);
        }
    }
    free(rec);
    problem_free(&p);
}

static sj_stats_t stats_now(void)
{
    sj_stats_t s;
    SJ_ASSERT_OK(sj_stats_get(&s));
    return s;
}

/* Every bad input is refused with a sentence, on every rank, leaving nothing behind. */
static void test_bad_input(void **state)
{
    (void)state;
    problem_t sq = problem_new(2, 2, 6, 6, 1, 0, 10.0, 22);
    problem_op(&sq, 0);
    problem_t tall = problem_new(2, 1, 8, 5, 0, 1, 10.0, 23);
    problem_op(&tall, 0);
    sj_array_t b = problem_rhs(&sq), x, bt = problem_rhs(&tall), xt, xo;
    SJ_ASSERT_OK(sj_array_zeros(sq.dom, sq.ddom, &x));
    SJ_ASSERT_OK(sj_array_zeros(tall.dom, tall.ddom, &xt));
    sj_dist_t other = make_dist(2, 2, 1, 1); /* every block on rank 0 */
    SJ_ASSERT_OK(sj_array_zeros(sq.dom, other, &xo));
    sj_op_t F, Fsq;
    sj_space_t s12;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){12}, NULL, &s12));
    SJ_ASSERT_OK(sj_op_exp(s12, 0, &F));
    sj_op_t blocks[2];
    sj_space_t s6;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){6}, NULL, &s6));
    sj_dist_t d2;
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, (int[]){2}, sj_nranks(), NULL, NULL, &d2));
    for (int i = 0; i < 2; i++) {
        int owner;
        SJ_ASSERT_OK(sj_dist_owner(d2, i, &owner));
        SJ_ASSERT_OK(sj_op_exp(s6, owner, &blocks[i]));
    }
    SJ_ASSERT_OK(sj_op_block_diag(2, blocks, d2, &Fsq)); /* nonlinear, square */
    sj_op_destroy(&blocks[0]);
    sj_op_destroy(&blocks[1]);
    sj_stats_t before = stats_now();

    sj_solve_options_t o;
    sj_solve_result_t r;
    sj_solve_options_default(&o);
    SJ_ASSERT_ERR(sj_solve_cg(NULL, b, x, &o, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_solve_cg(sq.A, NULL, x, &o, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_solve_cg(sq.A, b, NULL, &o, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_solve_cg(sq.A, b, b, &o, &r), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_solve_cg(Fsq, b, x, &o, &r), SJ_EINVAL);
    assert_non_null(strstr(sj_last_error(), "nonlinear"));
    SJ_ASSERT_ERR(sj_solve_cg(tall.A, bt, xt, &o, &r), SJ_EMISMATCH);
    assert_non_null(strstr(sj_last_error(), "not square"));
    SJ_ASSERT_ERR(sj_solve_cg(sq.A, bt, x, &o, &r), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_solve_cg(sq.A, b, xt, &o, &r), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_solve_cgls(tall.A, b, xt, &o, &r), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_solve_lsqr(tall.A, bt, x, &o, &r), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_solve_lsqr(F, bt, xt, &o, &r), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_solve_cgls(tall.A, bt, NULL, &o, &r), SJ_ENULL);

    const struct {
        int field;
        double value;
    } bad[] = {{0, -1e-3}, {1, -1.0}, {2, -1},  {3, -1},
               {3, 65},    {4, -0.5}, {0, NAN}, {4, INFINITY}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        sj_solve_options_default(&o);
        switch (bad[k].field) {
        case 0:
            o.rtol = bad[k].value;
            break;
        case 1:
            o.atol = bad[k].value;
            break;
        case 2:
            o.max_iterations = (int)bad[k].value;
            break;
        case 3:
            o.lag = (int)bad[k].value;
            break;
        default:
            o.damp = bad[k].value;
            break;
        }
        SJ_ASSERT_ERR(sj_solve_cg(sq.A, b, x, &o, &r), SJ_EINVAL);
        SJ_ASSERT_ERR(sj_solve_lsqr(tall.A, bt, xt, &o, &r), SJ_EINVAL);
        SJ_ASSERT_ERR(sj_solve_cgls(tall.A, bt, xt, &o, &r), SJ_EINVAL);
    }
    sj_solve_options_default(&o);
    o.damp = 0.5; /* CG has no damping */
    SJ_ASSERT_ERR(sj_solve_cg(sq.A, b, x, &o, &r), SJ_EINVAL);
    sj_solve_options_default(&o);
    o.precond = tall.A; /* wrong spaces */
    SJ_ASSERT_ERR(sj_solve_cg(sq.A, b, x, &o, &r), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_solve_lsqr(tall.A, bt, xt, &o, &r), SJ_EMISMATCH);
    o.precond = Fsq; /* nonlinear */
    SJ_ASSERT_ERR(sj_solve_cg(sq.A, b, x, &o, &r), SJ_EINVAL);
    o.precond = sq.A; /* right spaces for CG, not for the tall operator's domain */
    SJ_ASSERT_ERR(sj_solve_cgls(tall.A, bt, xt, &o, &r), SJ_EMISMATCH);

    sj_stats_t after = stats_now();
    assert_int_equal(after.objects, before.objects);
    assert_int_equal(after.handles, before.handles);

    /* x in another layout than b's is fine (b now keeps the exchange handles of its
       graph reductions, so this comes after the count) */
    sj_solve_options_default(&o);
    SJ_ASSERT_OK(sj_solve_cg(sq.A, b, xo, &o, &r));

    /* an indefinite operator is found, and the last sound iterate returned */
    sj_op_t neg;
    SJ_ASSERT_OK(sj_op_scale(-1.0, sq.A, &neg));
    sj_solve_options_default(&o);
    SJ_ASSERT_OK(sj_solve_cg(neg, b, x, &o, &r));
    assert_int_equal(r.reason, SJ_SOLVE_INDEFINITE);
    assert_int_equal(r.iterations, 0);
    assert_string_equal(sj_solve_reason_name(r.reason), "indefinite");
    sj_op_destroy(&neg);
    /* so is a zero curvature, p' A p = 0 (not a breakdown) */
    SJ_ASSERT_OK(sj_op_scale(0.0, sq.A, &neg));
    SJ_ASSERT_OK(sj_solve_cg(neg, b, x, &o, &r));
    assert_int_equal(r.reason, SJ_SOLVE_INDEFINITE);
    assert_int_equal(r.iterations, 0);
    sj_op_destroy(&neg);

    sj_op_destroy(&F);
    sj_op_destroy(&Fsq);
    sj_space_destroy(&s12);
    sj_space_destroy(&s6);
    sj_dist_destroy(&d2);
    sj_dist_destroy(&other);
    sj_array_t arrays[] = {b, x, bt, xt, xo};
    for (int k = 0; k < 5; k++)
        sj_array_destroy(&arrays[k]);
    problem_free(&sq);
    problem_free(&tall);
}

/* A user leaf that fails: SJ_EUSER on every rank, nothing left behind. */
static int fail_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    memcpy(out, in, (size_t)info->dom_n * sizeof(double));
    return 3;
}

static void test_user_failure(void **state)
{
    (void)state;
    static const sj_op_class_t cls = {.name = "fails", .forward = fail_fwd, .adjoint = fail_fwd};
    sj_space_t s;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){10}, NULL, &s));
    sj_op_t A;
    SJ_ASSERT_OK(sj_op_create(&cls, s, s, sj_nranks() - 1, NULL, 0, NULL, 0, &A));
    sj_array_t b, x;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &b));
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &x));
    sj_stats_t before = stats_now();
    sj_solve_result_t r;
    SJ_ASSERT_ERR(sj_solve_cg(A, b, x, NULL, &r), SJ_EUSER);
    SJ_ASSERT_ERR(sj_solve_lsqr(A, b, x, NULL, &r), SJ_EUSER);
    sj_stats_t after = stats_now();
    assert_int_equal(after.objects, before.objects);
    sj_array_destroy(&b);
    sj_array_destroy(&x);
    sj_op_destroy(&A);
    sj_space_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cg_spd),       cmocka_unit_test(test_cg_block_general),
        cmocka_unit_test(test_pcg),          cmocka_unit_test(test_least_squares),
        cmocka_unit_test(test_ls_precond),   cmocka_unit_test(test_ill_conditioned),
        cmocka_unit_test(test_bits),         cmocka_unit_test(test_bits_across_rank_counts),
        cmocka_unit_test(test_flat),         cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_user_failure), cmocka_unit_test(test_exact_start),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "solve");
}
