// sj-test: nprocs=1,2,3,4
/*
 * Operators: user leaves, algebra, Jacobians, block operators and their
 * distributed apply, against dense serial references computed here.
 */
#include <unistd.h>

#include "sj_test.h"

/* ---- a user leaf: a dense matrix (state), forward and adjoint by loops ---------- */

typedef struct dense_params {
    int64_t rows, cols;
} dense_params_t;

static int dense_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    const dense_params_t *p = info->params;
    const double *M = info->state, *x = in;
    double *y = out;
    for (int64_t i = 0; i < p->rows; i++) {
        double s = 0;
        for (int64_t j = 0; j < p->cols; j++)
            s += M[i + p->rows * j] * x[j];
        y[i] = s;
    }
    return 0;
}

static int dense_adj(const sj_op_info_t *info, void *out, const void *in)
{
    const dense_params_t *p = info->params;
    const double *M = info->state, *y = in;
    double *x = out;
    for (int64_t j = 0; j < p->cols; j++) {
        double s = 0;
        for (int64_t i = 0; i < p->rows; i++)
            s += M[i + p->rows * j] * y[i];
        x[j] = s;
    }
    return 0;
}

static const sj_op_class_t dense_class = {
    .name = "test_dense", .forward = dense_fwd, .adjoint = dense_adj};
static const sj_op_class_t dense_noadj_class = {.name = "test_dense_noadj", .forward = dense_fwd};

/* The sub-matrix rows [r0, r0+nr) x cols [c0, c0+nc) of the global rows x cols matrix. */
static double *submatrix(const double *M, int64_t rows, int64_t r0, int64_t nr, int64_t c0,
                         int64_t nc)
{
    double *s = malloc((size_t)(nr * nc) * sizeof *s);
    for (int64_t j = 0; j < nc; j++)
        for (int64_t i = 0; i < nr; i++)
            s[i + nr * j] = M[(r0 + i) + rows * (c0 + j)];
    return s;
}

static int make_dense(const double *M, int64_t rows, int64_t cols, int owner, sj_op_t *op)
{
    sj_space_t d, r;
    int64_t dc[1] = {cols}, dr[1] = {rows};
    int one = 1;
    sj_space_create(SJ_FLOAT64, 1, dc, &one, &d);
    sj_space_create(SJ_FLOAT64, 1, dr, &one, &r);
    dense_params_t p = {rows, cols};
    int rc = sj_op_create(&dense_class, d, r, owner, &p, sizeof p, sj_rank() == owner ? M : NULL,
                          (size_t)(rows * cols) * sizeof(double), op);
    sj_space_destroy(&d);
    sj_space_destroy(&r);
    return rc;
}

/* A deterministic global matrix with a zero-block pattern. */
static double *global_matrix(int64_t rows, int64_t cols, uint64_t seed)
{
    double *M = malloc((size_t)(rows * cols) * sizeof *M);
    for (int64_t k = 0; k < rows * cols; k++)
        M[k] = sin(0.7 * (double)k + (double)seed) + 0.1 * (double)((k * 7 + (int64_t)seed) % 5);
    return M;
}

/* ---- references and comparisons ------------------------------------------------------ */

/* y = M x (trans 0) or M' x (trans 1). */
static void matvec(const double *M, int64_t rows, int64_t cols, int trans, const double *x,
                   double *y)
{
    if (!trans)
        for (int64_t i = 0; i < rows; i++) {
            y[i] = 0;
            for (int64_t j = 0; j < cols; j++)
                y[i] += M[i + rows * j] * x[j];
        }
    else
        for (int64_t j = 0; j < cols; j++) {
            y[j] = 0;
            for (int64_t i = 0; i < rows; i++)
                y[j] += M[i + rows * j] * x[i];
        }
}

/* Gathers @p a to rank 0 and checks it against @p ref to a relative @p tol (collective). */
static void assert_close(sj_array_t a, const double *ref, double tol)
{
    sj_space_t s;
    SJ_ASSERT_OK(sj_array_space(a, &s));
    int64_t n;
    SJ_ASSERT_OK(sj_space_length(s, &n));
    double *got = sj_t_gather(a, 0);
    assert_non_null(got);
    if (sj_rank() == 0) {
        double scale = 0, err = 0;
        for (int64_t i = 0; i < n; i++)
            scale = fmax(scale, fabs(ref[i]));
        for (int64_t i = 0; i < n; i++)
            err = fmax(err, fabs(got[i] - ref[i]));
        if (err > tol * fmax(scale, 1e-300)) {
            for (int64_t i = 0; i < n && i < 12; i++)
                print_error("  [%lld] got %.17g ref %.17g\n", (long long)i, got[i], ref[i]);
            print_error("max error %g > %g x %g\n", err, tol, scale);
            free(got);
            fail();
        }
    }
    free(got);
}

/* The full vector of @p a on every rank (gather to 0 then to the others). */
static double *everywhere(sj_array_t a)
{
    double *v = NULL;
    for (int r = 0; r < sj_nranks(); r++) {
        double *g = sj_t_gather(a, r);
        if (r == sj_rank())
            v = g;
        else
            free(g);
    }
    return v;
}

/* ---- block operators from a global matrix -------------------------------------------- */

typedef struct grid_spec {
    int m, n;
    const int64_t *rcut, *ccut; /* m and n block lengths */
    const char *pattern;        /* m*n row-major chars: '1' block, '0' NULL, 'z' zero op */
} grid_spec_t;

static int64_t sum_lens(const int64_t *l, int n)
{
    int64_t s = 0;
    for (int k = 0; k < n; k++)
        s += l[k];
    return s;
}

/* The global matrix with the blocks outside the pattern set to zero. */
static void mask(double *M, const grid_spec_t *g)
{
    const int64_t rows = sum_lens(g->rcut, g->m);
    int64_t r0 = 0;
    for (int i = 0; i < g->m; i++) {
        int64_t c0 = 0;
        for (int j = 0; j < g->n; j++) {
            if (g->pattern && g->pattern[i * g->n + j] != '1')
                for (int64_t jj = 0; jj < g->ccut[j]; jj++)
                    for (int64_t ii = 0; ii < g->rcut[i]; ii++)
                        M[(r0 + ii) + rows * (c0 + jj)] = 0;
            c0 += g->ccut[j];
        }
        r0 += g->rcut[i];
    }
}

typedef struct block_ctx {
    const grid_spec_t *g;
    const double *M;
    int64_t rows;
} block_ctx_t;

static int zero_op(int64_t rows, int64_t cols, int owner, sj_op_t *op)
{
    /* a leaf that would write garbage if the block operator ran it */
    static const sj_op_class_t cls = {
        .name = "test_zero", .forward = dense_fwd, .adjoint = dense_adj};
    (void)cls;
    sj_space_t d, r;
    int one = 1;
    sj_space_create(SJ_FLOAT64, 1, &cols, &one, &d);
    sj_space_create(SJ_FLOAT64, 1, &rows, &one, &r);
    int rc = sj_op_zero(d, r, owner, op);
    sj_space_destroy(&d);
    sj_space_destroy(&r);
    return rc;
}

static int make_block(int i, int j, int owner, void *ctx, sj_op_t *block)
{
    const block_ctx_t *c = ctx;
    const grid_spec_t *g = c->g;
    const char p = g->pattern ? g->pattern[i * g->n + j] : '1';
    *block = NULL;
    if (p == '0')
        return 0;
    if (p == 'z')
        return zero_op(g->rcut[i], g->ccut[j], owner, block);
    int64_t r0 = sum_lens(g->rcut, i), c0 = sum_lens(g->ccut, j);
    double *S = submatrix(c->M, c->rows, r0, g->rcut[i], c0, g->ccut[j]);
    int rc = make_dense(S, g->rcut[i], g->ccut[j], owner, block);
    free(S);
    return rc;
}

/*
 * Build the block operator of @p g on @p dist, apply forward and adjoint, compare.
 * With @p bits, the first call keeps y = A x and x2 = A' y (rank 0) and later calls
 * check that other layouts give the same bits.
 */
typedef struct grid_bits {
    int have;
    double y[64], x2[64];
} grid_bits_t;

static void check_bits(sj_array_t a, double *kept, int have)
{
    double *got = sj_t_gather(a, 0);
    assert_non_null(got);
    sj_space_t s;
    int64_t n;
    SJ_ASSERT_OK(sj_array_space(a, &s));
    SJ_ASSERT_OK(sj_space_length(s, &n));
    assert_true(n <= 64);
    if (sj_rank() == 0 && have)
        assert_int_equal(sj_t_diff(got, kept, n, "bits against the first layout"), 0);
    else if (sj_rank() == 0)
        memcpy(kept, got, (size_t)n * sizeof *got);
    free(got);
}

static void check_grid_bits(const grid_spec_t *g, sj_dist_t dist, uint64_t seed, grid_bits_t *bits)
{
    const int64_t rows = sum_lens(g->rcut, g->m), cols = sum_lens(g->ccut, g->n);
    double *M = global_matrix(rows, cols, seed);
    block_ctx_t c = {g, M, rows};
    sj_op_t A;
    SJ_ASSERT_OK(sj_op_block_create_fn(g->m, g->n, dist, make_block, &c, sizeof c, &A));
    mask(M, g);
    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    SJ_ASSERT_OK(sj_op_domain(A, &ds, &dd));
    SJ_ASSERT_OK(sj_op_range(A, &rs, &rd));
    sj_array_t x, y, x2;
    SJ_ASSERT_OK(sj_array_rand(ds, dd, seed, &x));
    SJ_ASSERT_OK(sj_array_zeros(rs, rd, &y));
    SJ_ASSERT_OK(sj_array_zeros(ds, dd, &x2));
    SJ_ASSERT_OK(sj_op_apply(A, x, y));
    SJ_ASSERT_OK(sj_op_apply_adjoint(A, y, x2));
    double *xv = everywhere(x), *ref = malloc((size_t)rows * sizeof *ref),
           *ref2 = malloc((size_t)cols * sizeof *ref2);
    matvec(M, rows, cols, 0, xv, ref);
    matvec(M, rows, cols, 1, ref, ref2);
    assert_close(y, ref, 1e-13);
    assert_close(x2, ref2, 1e-13);
    if (bits) {
        check_bits(y, bits->y, bits->have);
        check_bits(x2, bits->x2, bits->have);
        bits->have = 1;
    }

    /* y = 2 A x - 0.5 y, with y laid out on another rank than the range's layout */
    sj_dist_t other;
    int nb = g->m, *own = malloc((size_t)nb * sizeof *own);
    for (int i = 0; i < nb; i++)
        own[i] = (i * 7 + 1) % sj_nranks();
    SJ_ASSERT_OK(sj_dist_create_explicit(1, &nb, own, &other));
    sj_array_t y3;
    SJ_ASSERT_OK(sj_array_ones(rs, other, &y3));
    SJ_ASSERT_OK(sj_op_apply_ex(A, SJ_OP_FORWARD, 2.0, x, -0.5, y3));
    for (int64_t i = 0; i < rows; i++)
        ref[i] = 2.0 * ref[i] - 0.5;
    assert_close(y3, ref, 1e-13);

    sj_op_test_result_t t;
    SJ_ASSERT_OK(sj_op_dot_product_test(A, seed + 5, 1e-12, &t));
    assert_true(t.pass);
    free(own);
    free(xv);
    free(ref);
    free(ref2);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&x2);
    sj_array_destroy(&y3);
    sj_dist_destroy(&other);
    sj_op_destroy(&A);
    free(M);
}

static void check_grid(const grid_spec_t *g, sj_dist_t dist, uint64_t seed)
{
    check_grid_bits(g, dist, seed, NULL);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_user_leaf(void **state)
{
    (void)state;
    const int last = sj_nranks() - 1;
    const int64_t rows = 5, cols = 3;
    double *M = global_matrix(rows, cols, 3);
    sj_op_t A;
    SJ_ASSERT_OK(make_dense(M, rows, cols, last, &A));
    int owner, linear;
    SJ_ASSERT_OK(sj_op_owner(A, &owner));
    SJ_ASSERT_OK(sj_op_is_linear(A, &linear));
    assert_int_equal(owner, last);
    assert_int_equal(linear, 1);
    char line[128];
    SJ_ASSERT_OK(sj_op_describe(A, line, sizeof line));
    assert_non_null(strstr(line, "test_dense"));

    /* arrays on rank 0, operator on the last rank: tasks run there, data move */
    sj_space_t ds, rs;
    SJ_ASSERT_OK(sj_op_domain(A, &ds, NULL));
    SJ_ASSERT_OK(sj_op_range(A, &rs, NULL));
    int one = 1, zero = 0;
    sj_dist_t on0;
    SJ_ASSERT_OK(sj_dist_create_explicit(1, &one, &zero, &on0));
    sj_array_t x, y, x2;
    SJ_ASSERT_OK(sj_array_rand(ds, on0, 11, &x));
    SJ_ASSERT_OK(sj_array_ones(rs, on0, &y));
    SJ_ASSERT_OK(sj_array_zeros(ds, on0, &x2));
    /* chained without waits: the input changes between applies */
    double ref[5], xr[3], ref2[3];
    for (int it = 0; it < 4; it++) {
        SJ_ASSERT_OK(sj_op_apply_ex(A, SJ_OP_FORWARD, 1.5, x, 0.5, y));
        SJ_ASSERT_OK(sj_array_scale(-2.0, x));
    }
    SJ_ASSERT_OK(sj_op_apply_adjoint(A, y, x2));
    double *x0 = everywhere(x);
    for (int j = 0; j < 3; j++)
        xr[j] = x0[j] / 16.0; /* undo four scalings by -2 */
    for (int i = 0; i < 5; i++)
        ref[i] = 1.0;
    for (int it = 0; it < 4; it++) {
        double t[5];
        matvec(M, rows, cols, 0, xr, t);
        for (int i = 0; i < 5; i++)
            ref[i] = 1.5 * t[i] + 0.5 * ref[i];
        for (int j = 0; j < 3; j++)
            xr[j] *= -2.0;
    }
    matvec(M, rows, cols, 1, ref, ref2);
    assert_close(y, ref, 1e-13);
    assert_close(x2, ref2, 1e-13);

    sj_op_test_result_t t;
    SJ_ASSERT_OK(sj_op_dot_product_test(A, 1, 1e-12, &t));
    assert_true(t.pass);
    SJ_ASSERT_OK(sj_op_linearity_test(A, 2, 1e-12, &t));
    assert_true(t.pass);
    free(x0);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&x2);
    sj_dist_destroy(&on0);
    sj_op_destroy(&A);
    free(M);
    SJ_ASSERT_OK(sj_wait());
}

/*
 * sj_op_copy: a user leaf on the last rank copied to every rank (the notebook's
 * getblock of an operator block), a library leaf, and the copy outliving the
 * original. Each copy must give the original's bits.
 */
static void test_copy(void **state)
{
    (void)state;
    const int np = sj_nranks(), last = np - 1;
    const int64_t rows = 5, cols = 3;
    double *M = global_matrix(rows, cols, 9);
    sj_op_t A;
    SJ_ASSERT_OK(make_dense(M, rows, cols, last, &A));
    sj_space_t ds, rs;
    SJ_ASSERT_OK(sj_op_domain(A, &ds, NULL));
    SJ_ASSERT_OK(sj_op_range(A, &rs, NULL));
    int one = 1, zero = 0;
    sj_dist_t on0;
    SJ_ASSERT_OK(sj_dist_create_explicit(1, &one, &zero, &on0));
    sj_array_t x, y, yc, xa, xc;
    SJ_ASSERT_OK(sj_array_rand(ds, on0, 5, &x));
    SJ_ASSERT_OK(sj_array_zeros(rs, on0, &y));
    SJ_ASSERT_OK(sj_array_zeros(rs, on0, &yc));
    SJ_ASSERT_OK(sj_array_zeros(ds, on0, &xa));
    SJ_ASSERT_OK(sj_array_zeros(ds, on0, &xc));
    SJ_ASSERT_OK(sj_op_apply(A, x, y));
    SJ_ASSERT_OK(sj_op_apply_adjoint(A, y, xa));
    double *want = everywhere(y), *want_adj = everywhere(xa);
    sj_op_t C[4];
    for (int r = 0; r < np && r < 4; r++) {
        SJ_ASSERT_OK(sj_op_copy(A, r, &C[r]));
        int owner = -1;
        SJ_ASSERT_OK(sj_op_owner(C[r], &owner));
        assert_int_equal(owner, r);
    }
    sj_op_destroy(&A); /* the copies outlive the original */
    for (int r = 0; r < np && r < 4; r++) {
        SJ_ASSERT_OK(sj_op_apply(C[r], x, yc));
        SJ_ASSERT_OK(sj_op_apply_adjoint(C[r], yc, xc));
        check_bits(yc, want, 1);
        check_bits(xc, want_adj, 1);
        sj_op_test_result_t t;
        SJ_ASSERT_OK(sj_op_dot_product_test(C[r], 3, 1e-12, &t));
        assert_true(t.pass);
        /* a copy of the copy, on the next rank */
        sj_op_t C2;
        SJ_ASSERT_OK(sj_op_copy(C[r], (r + 1) % np, &C2));
        sj_op_destroy(&C[r]);
        SJ_ASSERT_OK(sj_array_fill(0.0, yc));
        SJ_ASSERT_OK(sj_op_apply(C2, x, yc));
        check_bits(yc, want, 1);
        sj_op_destroy(&C2);
    }
    /* a library leaf (parameters only in its state) and a nonlinear one */
    double d[5] = {1, -2, 3, -4, 5};
    sj_op_t D, Dc, E, Ec;
    SJ_ASSERT_OK(sj_op_diagonal(rs, last, sj_rank() == last ? d : NULL, &D));
    SJ_ASSERT_OK(sj_op_copy(D, 0, &Dc));
    SJ_ASSERT_OK(sj_op_destroy(&D));
    SJ_ASSERT_OK(sj_array_fill(2.0, yc));
    SJ_ASSERT_OK(sj_op_apply(Dc, yc, y));
    double ref[5];
    for (int i = 0; i < 5; i++)
        ref[i] = 2.0 * d[i];
    assert_close(y, ref, 0);
    SJ_ASSERT_OK(sj_op_exp(rs, last, &E));
    SJ_ASSERT_OK(sj_op_copy(E, 0, &Ec));
    int linear = 1;
    SJ_ASSERT_OK(sj_op_is_linear(Ec, &linear));
    assert_int_equal(linear, 0);
    SJ_ASSERT_OK(sj_op_apply(Ec, yc, y));
    for (int i = 0; i < 5; i++)
        ref[i] = exp(2.0);
    assert_close(y, ref, 1e-15);

    /* bad input: nothing is made, nothing leaks */
    sj_op_t bad = (sj_op_t)&one, J = NULL, S = NULL;
    assert_int_equal(sj_op_copy(NULL, 0, &bad), SJ_ENULL);
    assert_null(bad);
    assert_int_equal(sj_op_copy(Dc, 0, NULL), SJ_ENULL);
    assert_int_equal(sj_op_copy(Dc, -1, &bad), SJ_ERANGE);
    assert_int_equal(sj_op_copy(Dc, np, &bad), SJ_ERANGE);
    SJ_ASSERT_OK(sj_op_scale(2.0, Dc, &S));
    assert_int_equal(sj_op_copy(S, 0, &bad), SJ_ENOTSUP);
    assert_null(bad);
    SJ_ASSERT_OK(sj_op_jacobian(Ec, yc, &J));
    assert_int_equal(sj_op_copy(J, 0, &bad), SJ_ENOTSUP);
    assert_null(bad);

    sj_op_destroy(&J);
    sj_op_destroy(&S);
    sj_op_destroy(&Dc);
    sj_op_destroy(&E);
    sj_op_destroy(&Ec);
    free(want);
    free(want_adj);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&yc);
    sj_array_destroy(&xa);
    sj_array_destroy(&xc);
    sj_dist_destroy(&on0);
    free(M);
    SJ_ASSERT_OK(sj_wait());
}

/* A leaf whose function fails: the error surfaces at the next wait, on every rank. */
static int failing(const sj_op_info_t *info, void *out, const void *in)
{
    (void)info, (void)out, (void)in;
    return 7;
}

static void test_missing_direction(void **state)
{
    (void)state;
    double M[6] = {1, 2, 3, 4, 5, 6};
    sj_space_t d, r;
    int one = 1;
    int64_t n2 = 2, n3 = 3;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &n2, &one, &d));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &n3, &one, &r));
    dense_params_t p = {3, 2};
    sj_op_t A;
    SJ_ASSERT_OK(sj_op_create(&dense_noadj_class, d, r, 0, &p, sizeof p, M, sizeof M, &A));
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_array_ones(d, NULL, &x));
    SJ_ASSERT_OK(sj_array_zeros(r, NULL, &y));
    SJ_ASSERT_OK(sj_op_apply(A, x, y));
    SJ_ASSERT_ERR(sj_op_apply_adjoint(A, y, x), SJ_ENOTSUP);
    assert_non_null(strstr(sj_last_error(), "adjoint"));
    sj_op_test_result_t t;
    SJ_ASSERT_ERR(sj_op_dot_product_test(A, 1, 1e-12, &t), SJ_ENOTSUP);
    /* the adjoint view of it fails the same way, forward */
    sj_op_t At;
    SJ_ASSERT_OK(sj_op_adjoint(A, &At));
    SJ_ASSERT_ERR(sj_op_apply(At, y, x), SJ_ENOTSUP);
    double ref[3] = {5, 7, 9};
    assert_close(y, ref, 0);

    const sj_op_class_t bad = {.name = "test_failing", .forward = failing, .adjoint = failing};
    sj_op_t F;
    SJ_ASSERT_OK(sj_op_create(&bad, d, r, sj_nranks() - 1, NULL, 0, NULL, 0, &F));
    SJ_ASSERT_OK(sj_op_apply(F, x, y));
    SJ_ASSERT_ERR(sj_wait(), SJ_EUSER);
    SJ_ASSERT_OK(sj_wait());
    sj_op_destroy(&F);
    sj_op_destroy(&At);
    sj_op_destroy(&A);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_space_destroy(&d);
    sj_space_destroy(&r);
}

static void test_algebra(void **state)
{
    (void)state;
    const int nr = sj_nranks();
    /* B (4x5) o A (5x3), on different ranks */
    double *MA = global_matrix(5, 3, 1), *MB = global_matrix(4, 5, 2);
    sj_op_t A, B, BA, At, Att, S, D, C;
    SJ_ASSERT_OK(make_dense(MA, 5, 3, 0, &A));
    SJ_ASSERT_OK(make_dense(MB, 4, 5, nr - 1, &B));
    SJ_ASSERT_OK(sj_op_compose(B, A, &BA));
    SJ_ASSERT_OK(sj_op_adjoint(A, &At));
    SJ_ASSERT_OK(sj_op_adjoint(At, &Att));
    assert_ptr_equal(Att, A); /* (A')' is A */
    SJ_ASSERT_OK(sj_op_destroy(&Att));
    SJ_ASSERT_OK(sj_op_scale(-3.0, A, &S));          /* non-square: 3 -> 5 */
    SJ_ASSERT_OK(sj_op_sub(S, A, &D));               /* -4 A */
    SJ_ASSERT_OK(sj_op_combine(0.5, D, 2.0, A, &C)); /* 0 A */
    int owner;
    SJ_ASSERT_OK(sj_op_owner(BA, &owner));
    assert_int_equal(owner, nr == 1 ? 0 : -1);

    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    SJ_ASSERT_OK(sj_op_domain(BA, &ds, &dd));
    SJ_ASSERT_OK(sj_op_range(BA, &rs, &rd));
    sj_array_t x, y, x2, z, w;
    SJ_ASSERT_OK(sj_array_rand(ds, dd, 3, &x));
    SJ_ASSERT_OK(sj_array_zeros(rs, rd, &y));
    SJ_ASSERT_OK(sj_array_zeros(ds, NULL, &x2));
    SJ_ASSERT_OK(sj_op_apply(BA, x, y));
    SJ_ASSERT_OK(sj_op_apply_adjoint(BA, y, x2));
    double *xv = everywhere(x), t5[5], y4[4], t5b[5], x3[3];
    matvec(MA, 5, 3, 0, xv, t5);
    matvec(MB, 4, 5, 0, t5, y4);
    matvec(MB, 4, 5, 1, y4, t5b);
    matvec(MA, 5, 3, 1, t5b, x3);
    assert_close(y, y4, 1e-13);
    assert_close(x2, x3, 1e-13);

    /* D = -4 A; C = 0; the adjoint view At applied forward is A' */
    sj_space_t a_rng;
    SJ_ASSERT_OK(sj_op_range(A, &a_rng, NULL));
    SJ_ASSERT_OK(sj_array_zeros(a_rng, NULL, &z));
    SJ_ASSERT_OK(sj_op_apply(D, x, z));
    for (int i = 0; i < 5; i++)
        t5[i] *= -4.0;
    assert_close(z, t5, 1e-13);
    SJ_ASSERT_OK(sj_op_apply(C, x, z));
    double zero5[5] = {0};
    assert_close(z, zero5, 1e-13);
    SJ_ASSERT_OK(sj_array_zeros(ds, NULL, &w));
    SJ_ASSERT_OK(sj_op_apply(At, z, w));
    double zero3[3] = {0};
    assert_close(w, zero3, 1e-13);

    sj_op_test_result_t t;
    sj_op_t all[] = {BA, At, S, D};
    for (int k = 0; k < 4; k++) {
        SJ_ASSERT_OK(sj_op_dot_product_test(all[k], 7 + k, 1e-12, &t));
        assert_true(t.pass);
    }
    free(xv);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&x2);
    sj_array_destroy(&z);
    sj_array_destroy(&w);
    sj_op_t ops[] = {A, B, BA, At, S, D, C};
    for (int k = 0; k < 7; k++)
        SJ_ASSERT_OK(sj_op_destroy(&ops[k]));
    free(MA);
    free(MB);
}

/* ---- a nonlinear user leaf: y = x^2 elementwise ---------------------------------------- */

static int sq_fwd(const sj_op_info_t *info, void *out, const void *in)
{
    const double *x = in;
    double *y = out;
    for (int64_t i = 0; i < info->dom_n; i++)
        y[i] = x[i] * x[i];
    return 0;
}

static int sq_lin(const sj_op_info_t *info, void *out, const void *in)
{
    const double *m0 = info->point, *d = in;
    double *y = out;
    for (int64_t i = 0; i < info->dom_n; i++)
        y[i] = 2.0 * m0[i] * d[i];
    return 0;
}

static const sj_op_class_t sq_class = {.name = "test_square",
                                       .nonlinear = 1,
                                       .forward = sq_fwd,
                                       .adjoint = sq_lin,
                                       .jacobian = sq_lin};

static int make_square(int64_t n, int owner, sj_op_t *op)
{
    sj_space_t s;
    int one = 1;
    sj_space_create(SJ_FLOAT64, 1, &n, &one, &s);
    int rc = sj_op_create(&sq_class, s, s, owner, NULL, 0, NULL, 0, op);
    sj_space_destroy(&s);
    return rc;
}

static void test_nonlinear(void **state)
{
    (void)state;
    const int nr = sj_nranks();
    sj_op_t F, A, AF, G, J, B;
    SJ_ASSERT_OK(make_square(3, nr - 1, &F));
    double *MA = global_matrix(4, 3, 9);
    SJ_ASSERT_OK(make_dense(MA, 4, 3, 0, &A));
    SJ_ASSERT_OK(sj_op_compose(A, F, &AF)); /* A (x^2) */
    sj_op_t F4;
    SJ_ASSERT_OK(make_square(4, nr > 1 ? 1 : 0, &F4));
    SJ_ASSERT_OK(sj_op_compose(F4, A, &G)); /* (A x)^2 */
    SJ_ASSERT_OK(sj_op_destroy(&F4));
    int linear;
    SJ_ASSERT_OK(sj_op_is_linear(AF, &linear));
    assert_int_equal(linear, 0);
    sj_op_t Ft;
    SJ_ASSERT_ERR(sj_op_adjoint(F, &Ft), SJ_EINVAL);

    sj_space_t ds;
    SJ_ASSERT_OK(sj_op_domain(F, &ds, NULL));
    sj_array_t m0, y, dm;
    SJ_ASSERT_OK(sj_array_rand(ds, NULL, 4, &m0));
    SJ_ASSERT_OK(sj_array_rand(ds, NULL, 5, &dm));
    SJ_ASSERT_ERR(sj_op_apply_adjoint(F, m0, dm), SJ_ENOTSUP);

    /* J of A o F at m0 is A diag(2 m0) */
    SJ_ASSERT_OK(sj_op_jacobian(AF, m0, &J));
    double *m = everywhere(m0), *d = everywhere(dm), t[3], r4[4];
    SJ_ASSERT_OK(sj_array_fill(100.0, m0)); /* the Jacobian kept its own copy */
    sj_space_t rs;
    SJ_ASSERT_OK(sj_op_range(AF, &rs, NULL));
    SJ_ASSERT_OK(sj_array_zeros(rs, NULL, &y));
    SJ_ASSERT_OK(sj_op_apply(J, dm, y));
    for (int i = 0; i < 3; i++)
        t[i] = 2.0 * m[i] * d[i];
    matvec(MA, 4, 3, 0, t, r4);
    assert_close(y, r4, 1e-13);
    sj_op_test_result_t dt;
    SJ_ASSERT_OK(sj_op_dot_product_test(J, 3, 1e-12, &dt));
    assert_true(dt.pass);

    /* linearisation tests: leaf, both compositions, a block operator of squares */
    sj_op_taylor_result_t tr;
    sj_op_t blocks[2];
    SJ_ASSERT_OK(make_square(3, 0, &blocks[0]));
    SJ_ASSERT_OK(make_square(2, nr - 1, &blocks[1]));
    int nb = 2, own[2] = {0, nr - 1};
    sj_dist_t d1;
    SJ_ASSERT_OK(sj_dist_create_explicit(1, &nb, own, &d1));
    SJ_ASSERT_OK(sj_op_block_diag(2, blocks, d1, &B));
    sj_op_t all[] = {F, AF, G, B};
    for (int k = 0; k < 4; k++) {
        SJ_ASSERT_OK(sj_op_linearization_test(all[k], NULL, 21 + k, 0.5, 6, &tr));
        if (!tr.pass)
            for (int s = 0; s < tr.nsteps; s++)
                print_error("op %d h %g err0 %g err1 %g\n", k, tr.h[s], tr.err0[s], tr.err1[s]);
        assert_true(tr.pass);
        assert_true(tr.order > 1.8 && tr.order < 2.2);
    }
    /* a wrong Jacobian fails the test */
    static const sj_op_class_t wrong = {.name = "test_wrong",
                                        .nonlinear = 1,
                                        .forward = sq_fwd,
                                        .adjoint = sq_fwd,
                                        .jacobian = sq_fwd};
    sj_op_t W;
    SJ_ASSERT_OK(sj_op_create(&wrong, ds, ds, 0, NULL, 0, NULL, 0, &W));
    SJ_ASSERT_OK(sj_op_linearization_test(W, NULL, 3, 0.5, 6, &tr));
    assert_false(tr.pass);

    free(m);
    free(d);
    free(MA);
    sj_array_destroy(&m0);
    sj_array_destroy(&dm);
    sj_array_destroy(&y);
    sj_dist_destroy(&d1);
    sj_op_t ops[] = {F, A, AF, G, J, B, blocks[0], blocks[1], W};
    for (int k = 0; k < 9; k++)
        SJ_ASSERT_OK(sj_op_destroy(&ops[k]));
}

/* The notebook: a 4 x 3 grid of 2 x 2 diagonal blocks on a 2 x 2 process grid. */
static void test_notebook_grid(void **state)
{
    (void)state;
    const int nr = sj_nranks();
    const int pr = nr >= 2 ? 2 : 1, pc = nr >= 4 ? 2 : 1;
    int nb[2] = {4, 3}, grid[2] = {pr, pc};
    sj_dist_t dist;
    SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, pr * pc, NULL, grid, &dist));
    const int64_t r2[4] = {2, 2, 2, 2}, c2[3] = {2, 2, 2};
    /* the notebook's shape with full 2 x 2 blocks (test_notebook_diagonals: its blocks) */
    grid_spec_t g = {4, 3, r2, c2, NULL};
    check_grid(&g, dist, 1);

    /* procs / blockmap / range and domain layouts as the notebook prints them */
    const int64_t rows = 8, cols = 6;
    double *M = global_matrix(rows, cols, 1);
    block_ctx_t c = {&g, M, rows};
    sj_op_t A;
    SJ_ASSERT_OK(sj_op_block_create_fn(4, 3, dist, make_block, &c, sizeof c, &A));
    int m, n, np;
    const int *procs;
    int pg[SJ_MAX_DIMS];
    SJ_ASSERT_OK(sj_op_block_grid(A, &m, &n));
    assert_int_equal(m, 4);
    assert_int_equal(n, 3);
    sj_dist_t bd, rd, dd;
    SJ_ASSERT_OK(sj_op_block_dist(A, &bd));
    SJ_ASSERT_OK(sj_dist_procs(bd, &np, &procs, pg));
    assert_int_equal(np, pr * pc);
    SJ_ASSERT_OK(sj_op_range(A, NULL, &rd));
    SJ_ASSERT_OK(sj_op_domain(A, NULL, &dd));
    for (int i = 0; i < 4; i++) { /* y(i) on the first process column */
        int o, e;
        SJ_ASSERT_OK(sj_dist_owner(rd, i, &o));
        SJ_ASSERT_OK(sj_dist_owner(bd, i, &e));
        assert_int_equal(o, e);
    }
    for (int j = 0; j < 3; j++) { /* x(j) on the first process row */
        int o, e;
        SJ_ASSERT_OK(sj_dist_owner(dd, j, &o));
        SJ_ASSERT_OK(sj_dist_owner(bd, 4 * j, &e));
        assert_int_equal(o, e);
    }
    sj_op_block_kind_t kind;
    SJ_ASSERT_OK(sj_op_block_kind(A, &kind));
    assert_int_equal(kind, SJ_OP_BLOCK_GENERAL);
    char line[128];
    SJ_ASSERT_OK(sj_op_describe(A, line, sizeof line));
    assert_string_equal(line, "linear block 4x3 operator, (6,) -> (8,)");

    /* get a block, replace it with its negative, and see the apply change */
    sj_op_t b11, neg;
    SJ_ASSERT_OK(sj_op_block_get(A, 1, 1, &b11));
    SJ_ASSERT_OK(sj_op_scale(-1.0, b11, &neg));
    SJ_ASSERT_OK(sj_op_block_set(A, 1, 1, neg));
    sj_space_t ds, rs;
    SJ_ASSERT_OK(sj_op_domain(A, &ds, NULL));
    SJ_ASSERT_OK(sj_op_range(A, &rs, NULL));
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_array_rand(ds, dd, 2, &x));
    SJ_ASSERT_OK(sj_array_zeros(rs, rd, &y));
    SJ_ASSERT_OK(sj_op_apply(A, x, y));
    for (int jj = 2; jj < 4; jj++)
        for (int ii = 2; ii < 4; ii++)
            M[ii + rows * jj] = -M[ii + rows * jj];
    double *xv = everywhere(x), ref[8];
    matvec(M, rows, cols, 0, xv, ref);
    assert_close(y, ref, 1e-13);
    /* a NULL block (zero) */
    SJ_ASSERT_OK(sj_op_block_set(A, 1, 1, NULL));
    SJ_ASSERT_OK(sj_op_apply(A, x, y));
    for (int jj = 2; jj < 4; jj++)
        for (int ii = 2; ii < 4; ii++)
            M[ii + rows * jj] = 0;
    matvec(M, rows, cols, 0, xv, ref);
    assert_close(y, ref, 1e-13);
    free(xv);
    free(M);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_op_destroy(&b11);
    sj_op_destroy(&neg);
    sj_op_destroy(&A);
    sj_dist_destroy(&dist);
}

/* The notebook exactly: 4 x 3 grid of 2 x 2 sj_op_diagonal blocks, dense reference. */
typedef struct diag_ctx {
    double d[4][3][2];
} diag_ctx_t;

static int make_diag(int i, int j, int owner, void *ctx, sj_op_t *block)
{
    const diag_ctx_t *c = ctx;
    int64_t two = 2;
    int one = 1;
    sj_space_t s;
    int rc = sj_space_create(SJ_FLOAT64, 1, &two, &one, &s);
    if (rc == 0)
        rc = sj_op_diagonal(s, owner, sj_rank() == owner ? c->d[i][j] : NULL, block);
    sj_space_destroy(&s);
    return rc;
}

static void test_notebook_diagonals(void **state)
{
    (void)state;
    const int nr = sj_nranks();
    const int pr = nr >= 2 ? 2 : 1, pc = nr >= 4 ? 2 : 1;
    int nb[2] = {4, 3}, grid[2] = {pr, pc};
    sj_dist_t dist;
    SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, pr * pc, NULL, grid, &dist));
    diag_ctx_t c;
    double M[8 * 6] = {0};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 2; k++) {
                c.d[i][j][k] = 0.25 + 0.5 * i - 0.3 * j + 0.125 * k;
                M[(2 * i + k) + 8 * (2 * j + k)] = c.d[i][j][k];
            }
    sj_op_t A;
    SJ_ASSERT_OK(sj_op_block_create_fn(4, 3, dist, make_diag, &c, sizeof c, &A));
    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    SJ_ASSERT_OK(sj_op_domain(A, &ds, &dd));
    SJ_ASSERT_OK(sj_op_range(A, &rs, &rd));
    sj_array_t m, d, m2;
    SJ_ASSERT_OK(sj_array_rand(ds, dd, 5, &m));
    SJ_ASSERT_OK(sj_array_zeros(rs, rd, &d));
    SJ_ASSERT_OK(sj_array_zeros(ds, dd, &m2));
    SJ_ASSERT_OK(sj_op_apply(A, m, d));
    SJ_ASSERT_OK(sj_op_apply_adjoint(A, d, m2));
    double *mv = everywhere(m), dref[8], mref[6];
    matvec(M, 8, 6, 0, mv, dref);
    matvec(M, 8, 6, 1, dref, mref);
    assert_close(d, dref, 1e-14);
    assert_close(m2, mref, 1e-14);
    sj_op_test_result_t t;
    SJ_ASSERT_OK(sj_op_dot_product_test(A, 9, 1e-12, &t));
    assert_true(t.pass);
    free(mv);
    sj_array_destroy(&m);
    sj_array_destroy(&d);
    sj_array_destroy(&m2);
    sj_op_destroy(&A);
    sj_dist_destroy(&dist);
}

static void test_process_grids(void **state)
{
    (void)state;
    const int nr = sj_nranks();
    const int grids[4][2] = {{1, 1}, {2, 1}, {1, 2}, {2, 2}};
    const int64_t rc[3] = {3, 1, 4}, cc[4] = {2, 5, 1, 3};
    const char *pat = "1011"
                      "0z10"
                      "1101"; /* zero blocks: NULL and sj_op_zero */
    grid_spec_t g = {3, 4, rc, cc, pat};
    grid_bits_t bits = {0}; /* every layout gives the bits of the first */
    for (int k = 0; k < 4; k++) {
        if (grids[k][0] * grids[k][1] > nr)
            continue;
        int nb[2] = {3, 4};
        sj_dist_t d;
        SJ_ASSERT_OK(
            sj_dist_create_contiguous(2, nb, grids[k][0] * grids[k][1], NULL, grids[k], &d));
        check_grid_bits(&g, d, 10, &bits);
        sj_dist_destroy(&d);
        /* block-cyclic on the same process grid */
        SJ_ASSERT_OK(sj_dist_create_cyclic(2, nb, grids[k][0], grids[k][1], NULL, &d));
        check_grid_bits(&g, d, 10, &bits);
        sj_dist_destroy(&d);
    }
    /* an explicit layout that puts neighbours on different ranks */
    int nb[2] = {3, 4}, own[12];
    for (int b = 0; b < 12; b++)
        own[b] = (b * 5 + 3) % nr;
    sj_dist_t d;
    SJ_ASSERT_OK(sj_dist_create_explicit(2, nb, own, &d));
    check_grid_bits(&g, d, 10, &bits);
    sj_dist_destroy(&d);
    /* 1 x 1 */
    const int64_t one[1] = {7};
    grid_spec_t g1 = {1, 1, one, one, NULL};
    check_grid(&g1, NULL, 40);
}

static void test_block_diag(void **state)
{
    (void)state;
    const int n = 7; /* more blocks than ranks */
    int64_t len[7] = {2, 3, 1, 4, 2, 2, 5};
    char pat[50];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            pat[i * n + j] = i == j ? '1' : '0';
    grid_spec_t g = {n, n, len, len, pat};
    sj_dist_t d1, d2;
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, &n, sj_nranks(), NULL, NULL, &d1));
    /* owners of the diagonal as a 2-D layout: row i on the owner of block i */
    int nb[2] = {n, n}, own[49];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            SJ_ASSERT_OK(sj_dist_owner(d1, i, &own[i + n * j]));
    SJ_ASSERT_OK(sj_dist_create_explicit(2, nb, own, &d2));
    check_grid(&g, d2, 50);

    /* sj_op_block_diag with the 1-D layout gives the same operator */
    const int64_t rows = sum_lens(len, n);
    double *M = global_matrix(rows, rows, 51);
    block_ctx_t c = {&g, M, rows};
    sj_op_t blocks[7], A;
    for (int i = 0; i < n; i++) {
        int o;
        SJ_ASSERT_OK(sj_dist_owner(d1, i, &o));
        SJ_ASSERT_OK(make_block(i, i, o, &c, &blocks[i]));
    }
    SJ_ASSERT_OK(sj_op_block_diag(n, blocks, d1, &A));
    sj_op_block_kind_t kind;
    SJ_ASSERT_OK(sj_op_block_kind(A, &kind));
    assert_int_equal(kind, SJ_OP_BLOCK_DIAGONAL);
    sj_dist_t rd;
    SJ_ASSERT_OK(sj_op_range(A, NULL, &rd));
    int eq;
    SJ_ASSERT_OK(sj_dist_equal(rd, d1, &eq));
    assert_int_equal(eq, 1); /* y(i) lives with A(i, i) */
    sj_op_test_result_t t;
    SJ_ASSERT_OK(sj_op_dot_product_test(A, 3, 1e-12, &t));
    assert_true(t.pass);
    for (int i = 0; i < n; i++)
        sj_op_destroy(&blocks[i]);
    sj_op_destroy(&A);
    sj_dist_destroy(&d1);
    sj_dist_destroy(&d2);
    free(M);
}

static void test_tall_and_skinny(void **state)
{
    (void)state;
    const int nr = sj_nranks();
    const int m = 6;
    const int64_t rl[6] = {3, 2, 4, 1, 3, 2}, cl[1] = {5};
    grid_spec_t g = {m, 1, rl, cl, NULL};
    int nb[2] = {m, 1}, grid[2] = {nr, 1};
    sj_dist_t d;
    SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, nr, NULL, grid, &d));
    check_grid(&g, d, 60);

    /* the model on the root; composed with a local operator on the root */
    const int64_t rows = sum_lens(rl, m);
    double *M = global_matrix(rows, 5, 61), *P = global_matrix(5, 4, 62);
    block_ctx_t c = {&g, M, rows};
    sj_op_t F, L, FL;
    SJ_ASSERT_OK(sj_op_block_create_fn(m, 1, d, make_block, &c, sizeof c, &F));
    sj_op_block_kind_t kind;
    SJ_ASSERT_OK(sj_op_block_kind(F, &kind));
    assert_int_equal(kind, nr >= 1 ? SJ_OP_BLOCK_TALL : kind);
    sj_dist_t dd;
    SJ_ASSERT_OK(sj_op_domain(F, NULL, &dd));
    int o;
    SJ_ASSERT_OK(sj_dist_owner(dd, 0, &o));
    assert_int_equal(o, 0);
    SJ_ASSERT_OK(make_dense(P, 5, 4, 0, &L));
    SJ_ASSERT_OK(sj_op_compose(F, L, &FL));
    sj_space_t ds, rs;
    sj_dist_t ldd, rd;
    SJ_ASSERT_OK(sj_op_domain(FL, &ds, &ldd));
    SJ_ASSERT_OK(sj_op_range(FL, &rs, &rd));
    sj_array_t x, y, x2;
    SJ_ASSERT_OK(sj_array_rand(ds, ldd, 63, &x));
    SJ_ASSERT_OK(sj_array_zeros(rs, rd, &y));
    SJ_ASSERT_OK(sj_array_zeros(ds, ldd, &x2));
    SJ_ASSERT_OK(sj_op_apply(FL, x, y));
    SJ_ASSERT_OK(sj_op_apply_adjoint(FL, y, x2));
    double *xv = everywhere(x), t5[5], *ref = malloc((size_t)rows * sizeof *ref), s5[5], r4[4];
    matvec(P, 5, 4, 0, xv, t5);
    matvec(M, rows, 5, 0, t5, ref);
    matvec(M, rows, 5, 1, ref, s5);
    matvec(P, 5, 4, 1, s5, r4);
    assert_close(y, ref, 1e-13);
    assert_close(x2, r4, 1e-13);
    free(xv);
    free(ref);
    free(M);
    free(P);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&x2);
    sj_op_destroy(&F);
    sj_op_destroy(&L);
    sj_op_destroy(&FL);
    sj_dist_destroy(&d);
}

/*
 * The default layouts (dist NULL) of the common shapes, block by block, for 1
 * to 4 ranks, as docs/operators.md ("Choosing a layout for a block operator")
 * tabulates them: the messages of every apply that relies on a default follow
 * from these owners, so a change must show up here. Digits are ranks.
 */
static const char *const line8_owners[5] = {NULL, "00000000", "00001111", "00011122", "00112233"};
static const char *const grid44_owners[5] = {NULL, /* row-major: row i is chars 4i .. 4i+3 */
                                             "0000000000000000", "0011001100110011",
                                             "0012001200120012", "0022002211331133"};

/* Owner of each block of @p d against the digits of @p want. */
static void assert_owners(sj_dist_t d, int nblocks, const char *want, const char *what)
{
    for (int b = 0; b < nblocks; b++) {
        int o;
        SJ_ASSERT_OK(sj_dist_owner(d, b, &o));
        if (o != want[b] - '0') {
            print_error("%s: block %d is on rank %d, expected %c (\"%s\")\n", what, b, o, want[b],
                        want);
            fail();
        }
    }
}

/* The default layout of @p space equals @p d: arrays made with a NULL layout need no moves. */
static void assert_default_layout(sj_space_t space, sj_dist_t d, const char *what)
{
    sj_dist_t def;
    int eq;
    SJ_ASSERT_OK(sj_dist_create_default(space, &def));
    SJ_ASSERT_OK(sj_dist_equal(def, d, &eq));
    if (!eq) {
        print_error("%s: not the default layout of its space\n", what);
        fail();
    }
    sj_dist_destroy(&def);
}

/* Round-robin over the blocks, (i + m j) mod P: the same bits as the default layout. */
static void check_round_robin_bits(const grid_spec_t *g, uint64_t seed)
{
    grid_bits_t bits = {0};
    check_grid_bits(g, NULL, seed, &bits);
    int nb[2] = {g->m, g->n}, *own = malloc((size_t)(g->m * g->n) * sizeof *own);
    for (int b = 0; b < g->m * g->n; b++)
        own[b] = b % sj_nranks();
    sj_dist_t rr;
    SJ_ASSERT_OK(sj_dist_create_explicit(2, nb, own, &rr));
    check_grid_bits(g, rr, seed, &bits);
    sj_dist_destroy(&rr);
    free(own);
}

static void test_default_layouts(void **state)
{
    (void)state;
    const int nr = sj_nranks();
    if (nr > 4)
        skip(); /* the tables cover 1 to 4 ranks */
    const char *line = line8_owners[nr], *grid = grid44_owners[nr];
    const int64_t len8[8] = {2, 3, 1, 2, 2, 1, 3, 2}, len4[4] = {3, 2, 4, 1}, one[1] = {3};
    char diag_pat[65];
    for (int k = 0; k < 64; k++)
        diag_pat[k] = k % 9 == 0 ? '1' : '0';
    diag_pat[64] = '\0';
    sj_space_t rs, ds;
    sj_dist_t bd, rd, dd;
    sj_op_block_kind_t kind;

    /* block-diagonal 8 x 8 (sj_op_block_diag): x(i), y(i) and A(i, i) on one rank */
    {
        grid_spec_t g = {8, 8, len8, len8, diag_pat};
        const int64_t rows = sum_lens(len8, 8);
        double *M = global_matrix(rows, rows, 80);
        block_ctx_t c = {&g, M, rows};
        sj_op_t blocks[8], A;
        for (int i = 0; i < 8; i++) /* made on the documented owners: a change fails the call */
            SJ_ASSERT_OK(make_block(i, i, line[i] - '0', &c, &blocks[i]));
        SJ_ASSERT_OK(sj_op_block_diag(8, blocks, NULL, &A));
        SJ_ASSERT_OK(sj_op_block_kind(A, &kind));
        assert_int_equal(kind, SJ_OP_BLOCK_DIAGONAL);
        SJ_ASSERT_OK(sj_op_block_dist(A, &bd));
        char diag_own[9];
        for (int i = 0; i < 8; i++) {
            int o;
            SJ_ASSERT_OK(sj_dist_owner(bd, i + 8 * i, &o));
            diag_own[i] = (char)('0' + o);
        }
        diag_own[8] = '\0';
        assert_string_equal(diag_own, line);
        SJ_ASSERT_OK(sj_op_range(A, &rs, &rd));
        SJ_ASSERT_OK(sj_op_domain(A, &ds, &dd));
        assert_owners(rd, 8, line, "block-diagonal y");
        assert_owners(dd, 8, line, "block-diagonal x");
        assert_default_layout(rs, rd, "block-diagonal range");
        assert_default_layout(ds, dd, "block-diagonal domain");
        sj_op_test_result_t t;
        SJ_ASSERT_OK(sj_op_dot_product_test(A, 81, 1e-12, &t));
        assert_true(t.pass);
        for (int i = 0; i < 8; i++)
            sj_op_destroy(&blocks[i]);
        sj_op_destroy(&A);
        free(M);
        check_round_robin_bits(&g, 82);
    }

    /* tall 8 x 1: rows spread contiguously, the model on rank 0 */
    {
        grid_spec_t g = {8, 1, len8, one, NULL};
        const int64_t rows = sum_lens(len8, 8);
        double *M = global_matrix(rows, 3, 83);
        block_ctx_t c = {&g, M, rows};
        sj_op_t A;
        SJ_ASSERT_OK(sj_op_block_create_fn(8, 1, NULL, make_block, &c, sizeof c, &A));
        SJ_ASSERT_OK(sj_op_block_kind(A, &kind));
        assert_int_equal(kind, SJ_OP_BLOCK_TALL);
        SJ_ASSERT_OK(sj_op_block_dist(A, &bd));
        assert_owners(bd, 8, line, "tall blocks");
        SJ_ASSERT_OK(sj_op_range(A, &rs, &rd));
        SJ_ASSERT_OK(sj_op_domain(A, &ds, &dd));
        assert_owners(rd, 8, line, "tall y");
        assert_owners(dd, 1, "0", "tall x");
        assert_default_layout(rs, rd, "tall range");
        assert_default_layout(ds, dd, "tall domain");
        sj_op_destroy(&A);
        free(M);
        check_round_robin_bits(&g, 84);
    }

    /* wide 1 x 8: columns spread contiguously, y on rank 0 */
    {
        grid_spec_t g = {1, 8, one, len8, NULL};
        const int64_t cols = sum_lens(len8, 8);
        double *M = global_matrix(3, cols, 85);
        block_ctx_t c = {&g, M, 3};
        sj_op_t A;
        SJ_ASSERT_OK(sj_op_block_create_fn(1, 8, NULL, make_block, &c, sizeof c, &A));
        SJ_ASSERT_OK(sj_op_block_dist(A, &bd));
        assert_owners(bd, 8, line, "wide blocks");
        SJ_ASSERT_OK(sj_op_range(A, &rs, &rd));
        SJ_ASSERT_OK(sj_op_domain(A, &ds, &dd));
        assert_owners(dd, 8, line, "wide x");
        assert_owners(rd, 1, "0", "wide y");
        assert_default_layout(rs, rd, "wide range");
        assert_default_layout(ds, dd, "wide domain");
        sj_op_destroy(&A);
        free(M);
        check_round_robin_bits(&g, 86);
    }

    /* square 4 x 4: a pr x pc process grid (1x1, 1x2, 1x3, 2x2), x(j) on its first
     * process row, y(i) on its first process column */
    {
        grid_spec_t g = {4, 4, len4, len4, NULL};
        const int64_t rows = sum_lens(len4, 4);
        double *M = global_matrix(rows, rows, 87);
        block_ctx_t c = {&g, M, rows};
        sj_op_t A;
        SJ_ASSERT_OK(sj_op_block_create_fn(4, 4, NULL, make_block, &c, sizeof c, &A));
        SJ_ASSERT_OK(sj_op_block_dist(A, &bd));
        char col_major[17], xown[5], yown[5];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                col_major[i + 4 * j] = grid[4 * i + j];
        col_major[16] = '\0';
        assert_owners(bd, 16, col_major, "square blocks");
        int np, pg[SJ_MAX_DIMS];
        SJ_ASSERT_OK(sj_dist_procs(bd, &np, NULL, pg));
        const int want_pr = nr == 4 ? 2 : 1;
        assert_int_equal(np, nr);
        assert_int_equal(pg[0], want_pr);
        assert_int_equal(pg[1], nr / want_pr);
        for (int k = 0; k < 4; k++) {
            xown[k] = grid[k];     /* row 0 */
            yown[k] = grid[4 * k]; /* column 0 */
        }
        xown[4] = yown[4] = '\0';
        SJ_ASSERT_OK(sj_op_range(A, NULL, &rd));
        SJ_ASSERT_OK(sj_op_domain(A, NULL, &dd));
        assert_owners(dd, 4, xown, "square x");
        assert_owners(rd, 4, yown, "square y");
        sj_op_destroy(&A);
        free(M);
        check_round_robin_bits(&g, 88);
    }
}

/* Many applies chained without a wait: inputs rewritten after remote reads. */
static void test_chained(void **state)
{
    (void)state;
    const int64_t rc[3] = {4, 3, 5}, cc[3] = {4, 3, 5};
    grid_spec_t g = {3, 3, rc, cc, NULL};
    const int64_t n = 12;
    double *M = global_matrix(n, n, 70);
    for (int64_t k = 0; k < n * n; k++)
        M[k] *= 0.1;
    block_ctx_t c = {&g, M, n};
    sj_op_t A;
    int nb[2] = {3, 3};
    sj_dist_t d;
    SJ_ASSERT_OK(
        sj_dist_create_cyclic(2, nb, sj_nranks() >= 2 ? 2 : 1, sj_nranks() >= 4 ? 2 : 1, NULL, &d));
    SJ_ASSERT_OK(sj_op_block_create_fn(3, 3, d, make_block, &c, sizeof c, &A));
    sj_space_t s;
    sj_dist_t dd;
    SJ_ASSERT_OK(sj_op_domain(A, &s, &dd));
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_array_rand(s, dd, 71, &x));
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &y));
    double *ref = everywhere(x), tmp[12];
    for (int it = 0; it < 20; it++) { /* x <- A' (A x) + x */
        SJ_ASSERT_OK(sj_op_apply(A, x, y));
        SJ_ASSERT_OK(sj_op_apply_ex(A, SJ_OP_ADJOINT, 1.0, y, 1.0, x));
        double t2[12];
        matvec(M, n, n, 0, ref, tmp);
        matvec(M, n, n, 1, tmp, t2);
        for (int64_t i = 0; i < n; i++)
            ref[i] += t2[i];
    }
    assert_close(x, ref, 1e-12);
    free(ref);
    free(M);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_op_destroy(&A);
    sj_dist_destroy(&d);
}

static void test_perfstat(void **state)
{
    (void)state;
    double *M = global_matrix(3, 3, 80);
    const int nr = sj_nranks();
    sj_op_t blocks[4];
    for (int i = 0; i < 4; i++)
        SJ_ASSERT_OK(make_dense(M, 3, 3, i % nr, &blocks[i]));
    int n = 4, own[4];
    for (int i = 0; i < 4; i++)
        own[i] = i % nr;
    sj_dist_t d;
    SJ_ASSERT_OK(sj_dist_create_explicit(1, &n, own, &d));
    sj_op_t A;
    SJ_ASSERT_OK(sj_op_block_diag(4, blocks, d, &A));
    sj_space_t s;
    sj_dist_t dd;
    SJ_ASSERT_OK(sj_op_domain(A, &s, &dd));
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_array_rand(s, dd, 1, &x));
    SJ_ASSERT_OK(sj_array_zeros(s, dd, &y));
    char path[64];
    snprintf(path, sizeof path, "/tmp/sj_perfstat_%d", (int)getpid());
    char file[96];
    snprintf(file, sizeof file, "%s.%d.jsonl", path, sj_rank());
    remove(file);
    SJ_ASSERT_OK(sj_op_perfstat(path));
    SJ_ASSERT_OK(sj_op_apply(A, x, y));
    SJ_ASSERT_OK(sj_op_apply_adjoint(A, y, x));
    SJ_ASSERT_OK(sj_op_perfstat(NULL));
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    char line[512];
    int lines = 0, fwd = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        fwd += strstr(line, "\"op\":\"forward\"") != NULL;
        assert_non_null(strstr(line, "\"name\":\"test_dense\""));
        assert_non_null(strstr(line, "\"seconds\":"));
    }
    fclose(f);
    remove(file);
    int mine = 0;
    for (int i = 0; i < 4; i++)
        mine += own[i] == sj_rank();
    assert_int_equal(lines, 2 * mine);
    assert_int_equal(fwd, mine);
    for (int i = 0; i < 4; i++)
        sj_op_destroy(&blocks[i]);
    sj_op_destroy(&A);
    sj_dist_destroy(&d);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    free(M);
}

static void test_bad_input(void **state)
{
    (void)state;
    const int nr = sj_nranks();
    double M[6] = {1, 2, 3, 4, 5, 6};
    sj_op_t A, B, C = NULL, Z = NULL;
    SJ_ASSERT_OK(make_dense(M, 3, 2, 0, &A)); /* 2 -> 3 */
    SJ_ASSERT_OK(make_dense(M, 2, 3, 0, &B)); /* 3 -> 2 */
    /* spaces that do not match */
    SJ_ASSERT_ERR(sj_op_compose(A, A, &C), SJ_EMISMATCH);
    assert_null(C);
    SJ_ASSERT_ERR(sj_op_add(A, B, &C), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_op_combine(1, A, 2, B, &C), SJ_EMISMATCH);
    sj_space_t ds, rs;
    SJ_ASSERT_OK(sj_op_domain(A, &ds, NULL));
    SJ_ASSERT_OK(sj_op_range(A, &rs, NULL));
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_array_zeros(ds, NULL, &x));
    SJ_ASSERT_OK(sj_array_zeros(rs, NULL, &y));
    SJ_ASSERT_ERR(sj_op_apply(A, y, x), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_op_apply(A, x, x), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_apply_ex(A, (sj_op_dir_t)5, 1, x, 0, y), SJ_EINVAL);
    /* NULL where an operator or array is required */
    SJ_ASSERT_ERR(sj_op_apply(NULL, x, y), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_apply(A, NULL, y), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_compose(NULL, A, &C), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_scale(2.0, NULL, &C), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_adjoint(NULL, &C), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_jacobian(A, NULL, &C), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_create(NULL, ds, rs, 0, NULL, 0, NULL, 0, &C), SJ_ENULL);
    /* classes and leaves */
    sj_op_class_t cls = {.name = "ok", .forward = dense_fwd};
    SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, nr, NULL, 0, NULL, 0, &C), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, -1, NULL, 0, NULL, 0, &C), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, 0, NULL, 16, NULL, 0, &C), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, nr - 1, NULL, 0, NULL, 48, &C), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, 0, M, SJ_OP_MAX_PARAMS + 1, NULL, 0, &C), SJ_ESIZE);
    if (nr > 1) {
        /* sizes and owner that differ between ranks: an error on every rank, never a hang */
        const int last = sj_rank() == nr - 1;
        SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, 0, NULL, 0, sj_rank() == 0 ? M : NULL,
                                   last ? 0 : sizeof M, &C),
                      SJ_EINVAL);
        assert_non_null(strstr(sj_last_error(), "state_size differs between ranks"));
        SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, 0, M, last ? 8 : 16, NULL, 0, &C), SJ_EINVAL);
        assert_non_null(strstr(sj_last_error(), "params_size differs between ranks"));
        SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, last, NULL, 0, NULL, 0, &C), SJ_EINVAL);
        assert_non_null(strstr(sj_last_error(), "owner differs between ranks"));
    }
    cls.name = "bad name!";
    SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, 0, NULL, 0, NULL, 0, &C), SJ_EINVAL);
    cls.name = "ok";
    /* a class without forward is an invalid class (op.h), not a NULL argument */
    cls.forward = NULL;
    SJ_ASSERT_ERR(sj_op_create(&cls, ds, rs, 0, NULL, 0, NULL, 0, &C), SJ_EINVAL);
    assert_string_equal(sj_last_error(), "sj_op_create: class 'ok' has no forward function; "
                                         "every class needs cls->forward");
    cls.forward = dense_fwd;
    int64_t six = 6;
    int two = 2;
    sj_space_t multi, f32;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &six, &two, &multi));
    SJ_ASSERT_ERR(sj_op_create(&cls, multi, rs, 0, NULL, 0, NULL, 0, &C), SJ_EINVAL);
    int one = 1;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 1, &six, &one, &f32));
    SJ_ASSERT_ERR(sj_op_create(&cls, f32, rs, 0, NULL, 0, NULL, 0, &C), SJ_EMISMATCH);
    assert_null(C);

    /* block grids */
    sj_op_t grid[4] = {A, A, B, NULL}; /* row 0: ranges 3, 3; row 1: 2; column 0: domains 2, 3 */
    int nb[2] = {2, 2};
    sj_dist_t one_rank;
    int own[4] = {0, 0, 0, 0};
    SJ_ASSERT_OK(sj_dist_create_explicit(2, nb, own, &one_rank));
    SJ_ASSERT_ERR(sj_op_block_create(2, 2, grid, one_rank, &C), SJ_EMISMATCH);
    sj_op_t grid2[4] = {A, NULL, NULL, NULL}; /* row 1 and column 1 have no size */
    SJ_ASSERT_ERR(sj_op_block_create(2, 2, grid2, one_rank, &C), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_block_create(2, 2, NULL, one_rank, &C), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_block_create(0, 2, grid, one_rank, &C), SJ_ESIZE);
    sj_op_t grid3[1] = {A};
    SJ_ASSERT_ERR(sj_op_block_create(1, 1, grid3, one_rank, &C), SJ_EMISMATCH); /* 2x2 layout */
    if (nr > 1) { /* a block on the wrong rank */
        int nb1[2] = {1, 1}, o1 = 1;
        sj_dist_t on1;
        SJ_ASSERT_OK(sj_dist_create_explicit(2, nb1, &o1, &on1));
        SJ_ASSERT_ERR(sj_op_block_create(1, 1, grid3, on1, &C), SJ_EINVAL);
        sj_dist_destroy(&on1);
    }
    /* a process grid larger than the communicator */
    int big[2] = {nr + 1, 1};
    sj_dist_t bd = NULL;
    SJ_ASSERT_ERR2(sj_dist_create_contiguous(2, nb, nr + 1, NULL, big, &bd), SJ_ERANGE, SJ_ESIZE);
    SJ_ASSERT_ERR2(sj_dist_create_cyclic(2, nb, nr + 1, 1, NULL, &bd), SJ_ERANGE, SJ_ESIZE);
    /* nested block operators */
    sj_op_t blk1, grid4[1];
    int nb11[2] = {1, 1}, z0 = 0;
    sj_dist_t d11;
    SJ_ASSERT_OK(sj_dist_create_explicit(2, nb11, &z0, &d11));
    SJ_ASSERT_OK(sj_op_block_create(1, 1, grid3, d11, &blk1));
    grid4[0] = blk1;
    SJ_ASSERT_ERR(sj_op_block_create(1, 1, grid4, d11, &C), SJ_EINVAL);
    /* block access */
    SJ_ASSERT_ERR(sj_op_block_get(blk1, 1, 0, &Z), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_block_get(A, 0, 0, &Z), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_block_set(blk1, 0, 0, B), SJ_EMISMATCH);
    /* queries on the wrong kind */
    int m;
    SJ_ASSERT_ERR(sj_op_block_grid(A, &m, &m), SJ_EINVAL);
    /* destroy twice through a copied handle */
    sj_op_t copy = B;
    SJ_ASSERT_OK(sj_op_destroy(&B));
    assert_null(B);
    (void)copy;
    /* tests that need a linear operator or a sane tolerance */
    sj_op_test_result_t t;
    SJ_ASSERT_ERR(sj_op_dot_product_test(A, 1, -1.0, &t), SJ_EINVAL);
    sj_op_taylor_result_t tr;
    SJ_ASSERT_ERR(sj_op_linearization_test(A, NULL, 1, 0.5, 1, &tr), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_linearization_test(A, y, 1, 0.5, 4, &tr), SJ_EMISMATCH);

    sj_op_destroy(&blk1);
    sj_op_destroy(&A);
    sj_dist_destroy(&one_rank);
    sj_dist_destroy(&d11);
    sj_space_destroy(&multi);
    sj_space_destroy(&f32);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    SJ_ASSERT_OK(sj_wait());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_leaf),
        cmocka_unit_test(test_missing_direction),
        cmocka_unit_test(test_algebra),
        cmocka_unit_test(test_nonlinear),
        cmocka_unit_test(test_notebook_grid),
        cmocka_unit_test(test_notebook_diagonals),
        cmocka_unit_test(test_process_grids),
        cmocka_unit_test(test_block_diag),
        cmocka_unit_test(test_tall_and_skinny),
        cmocka_unit_test(test_chained),
        cmocka_unit_test(test_perfstat),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_default_layouts),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "op");
}
