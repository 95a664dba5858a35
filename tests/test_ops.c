// sj-test: nprocs=1,2
/*
 * The operator library (ops.h): forward and adjoint results against serial
 * references computed here, dot-product tests, linearity tests of the linear
 * operators, Jacobians and linearisation tests of the nonlinear ones, 1-D to
 * 3-D spaces along each dimension, and bad input per constructor.
 *
 * Operators are owned by the last rank while the arrays they are applied to
 * live on rank 0 (one-block spaces, default layout), so that with two ranks
 * every apply moves data.
 */
#include "sj_test.h"

#define TOL 1e-12
#define SEED 20240611u

static int owner(void)
{
    return sj_nranks() - 1;
}

static sj_space_t space_nd(sj_dtype_t dt, int ndims, int64_t d0, int64_t d1, int64_t d2)
{
    const int64_t dims[3] = {d0, d1, d2};
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create(dt, ndims, dims, NULL, &s));
    return s;
}

static sj_space_t space1(int64_t n)
{
    return space_nd(SJ_FLOAT64, 1, n, 1, 1);
}

static int64_t len(sj_space_t s)
{
    int64_t n = 0;
    SJ_ASSERT_OK(sj_space_length(s, &n));
    return n;
}

static void dims3(sj_space_t s, int64_t d[3])
{
    int64_t g[3];
    sj_t_gdims(s, g, NULL);
    memcpy(d, g, sizeof g);
}

/* An array of @p s (on rank 0) holding @p vals, converted to the space's type. */
/* An array of @p s with layout @p dist (NULL: on rank 0) holding @p vals in the space's type. */
static sj_array_t array_in(sj_space_t s, sj_dist_t dist, const double *vals)
{
    sj_dtype_t dt = SJ_FLOAT64;
    SJ_ASSERT_OK(sj_space_shape(s, &dt, NULL, NULL));
    int64_t n = len(s);
    void *buf = malloc((size_t)n * sj_dtype_size(dt));
    for (int64_t i = 0; i < n; i++)
        if (dt == SJ_FLOAT32)
            ((float *)buf)[i] = (float)vals[i];
        else
            ((double *)buf)[i] = vals[i];
    sj_array_t a = NULL;
    SJ_ASSERT_OK(sj_array_distribute(s, dist, 0, buf, &a));
    free(buf);
    return a;
}

static sj_array_t array_of(sj_space_t s, const double *vals)
{
    return array_in(s, NULL, vals);
}

/* Values of a generator for a space (sj_t_ref), freed by the caller. */
static double *values(sj_space_t s, int kind)
{
    return sj_t_ref(s, &(sj_t_gen_t){kind, 1.0, 0.0});
}

/* Elements of @p got far from @p ref (|d| > tol (1 + |ref|)). */
static int64_t count_far(const double *got, const double *ref, int64_t n, double tol)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (got[i] == ref[i] || fabs(got[i] - ref[i]) <= tol * (1.0 + fabs(ref[i])))
            continue;
        if (bad++ < 5)
            print_error("element %lld is %.17g, expected %.17g\n", (long long)i, got[i], ref[i]);
    }
    return bad;
}

/*
 * y = A x (adjoint: x = A' y) for x = @p in on rank 0, into an array first
 * filled with 7 (every element must be written); compares on rank 0.
 */
static void check_apply(sj_op_t A, int adjoint, sj_space_t in_space, const double *in,
                        sj_space_t out_space, const double *ref, double tol)
{
    sj_array_t x = array_of(in_space, in), y = NULL;
    SJ_ASSERT_OK(sj_array_filled(out_space, NULL, 7.0, &y));
    if (adjoint)
        SJ_ASSERT_OK(sj_op_apply_adjoint(A, x, y));
    else
        SJ_ASSERT_OK(sj_op_apply(A, x, y));
    double *got = sj_t_gather(y, 0);
    assert_non_null(got);
    int64_t bad = sj_rank() == 0 ? count_far(got, ref, len(out_space), tol) : 0;
    free(got);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    assert_int_equal(bad, 0);
}

static void dot_ok(sj_op_t A, double tol)
{
    sj_op_test_result_t r;
    SJ_ASSERT_OK(sj_op_dot_product_test(A, SEED, tol, &r));
    if (!r.pass) {
        char d[160];
        sj_op_describe(A, d, sizeof d);
        print_error("dot-product test of %s: %.17g vs %.17g, relerr %g\n", d, r.lhs, r.rhs,
                    r.relerr);
    }
    assert_true(r.pass);
}

static void linearity_ok(sj_op_t A, double tol)
{
    int linear = -1;
    SJ_ASSERT_OK(sj_op_is_linear(A, &linear));
    assert_int_equal(linear, 1);
    sj_op_test_result_t r;
    SJ_ASSERT_OK(sj_op_linearity_test(A, SEED + 1, tol, &r));
    if (!r.pass)
        print_error("linearity test: %.17g vs %.17g, relerr %g\n", r.lhs, r.rhs, r.relerr);
    assert_true(r.pass);
}

static sj_dtype_t dtype_of(sj_space_t s)
{
    sj_dtype_t dt = SJ_FLOAT64;
    SJ_ASSERT_OK(sj_space_shape(s, &dt, NULL, NULL));
    return dt;
}

/* Tolerance of a comparison with a double reference: float32 rounds each result. */
static double tol_of(sj_space_t s, double tol64)
{
    return dtype_of(s) == SJ_FLOAT32 ? 1e-5 : tol64;
}

/* Dot-product and linearity tests of a linear operator, then destroy it. */
static void linear_checks(sj_op_t *A)
{
    sj_space_t dom = NULL;
    SJ_ASSERT_OK(sj_op_domain(*A, &dom, NULL));
    const double tol = dtype_of(dom) == SJ_FLOAT32 ? 1e-4 : TOL;
    dot_ok(*A, tol);
    linearity_ok(*A, tol);
    SJ_ASSERT_OK(sj_op_destroy(A));
}

static int64_t lin3(const int64_t d[3], const int64_t c[3])
{
    return c[0] + d[0] * (c[1] + d[1] * c[2]);
}

/* ---- diagonal, identity, scaling, zero ---------------------------------------- */

static void test_diagonal(void **state)
{
    const double d[5] = {1.0, -2.0, 3.0, 0.5, 4.0}, x[5] = {2.0, 3.0, -1.0, 8.0, 0.25};
    const double y[5] = {2.0, -6.0, -3.0, 4.0, 1.0};
    sj_space_t s = space1(5);
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_diagonal(s, owner(), sj_rank() == owner() ? d : NULL, &A));
    check_apply(A, 0, s, x, s, y, 0.0);
    check_apply(A, 1, s, x, s, y, 0.0);
    linear_checks(&A);

    /* 3-D space: d is column-major like the data */
    sj_space_t s3 = space_nd(SJ_FLOAT64, 3, 2, 3, 2);
    double *d3 = values(s3, SJ_T_SINE), *x3 = values(s3, SJ_T_COSINE);
    double *y3 = malloc(12 * sizeof(double));
    for (int i = 0; i < 12; i++)
        y3[i] = d3[i] * x3[i];
    SJ_ASSERT_OK(sj_op_diagonal(s3, owner(), d3, &A));
    check_apply(A, 0, s3, x3, s3, y3, 0.0);
    linear_checks(&A);
    free(d3);
    free(x3);
    free(y3);
    SJ_ASSERT_OK(sj_space_destroy(&s3));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_identity_scaling_zero(void **state)
{
    sj_space_t s = space_nd(SJ_FLOAT64, 2, 3, 2, 1), r = space1(4);
    double *x = values(s, SJ_T_SINE), y[6], z[6] = {0}, xr[4] = {1, 2, 3, 4};
    sj_op_t A = NULL;

    SJ_ASSERT_OK(sj_op_identity(s, owner(), &A));
    check_apply(A, 0, s, x, s, x, 0.0);
    check_apply(A, 1, s, x, s, x, 0.0);
    linear_checks(&A);

    SJ_ASSERT_OK(sj_op_scaled_identity(s, owner(), -2.5, &A));
    for (int i = 0; i < 6; i++)
        y[i] = -2.5 * x[i];
    check_apply(A, 0, s, x, s, y, 0.0);
    check_apply(A, 1, s, x, s, y, 0.0);
    linear_checks(&A);

    /* zero from a 2-D (3, 2) space to a 1-D (4) one: the output is written with zeros */
    SJ_ASSERT_OK(sj_op_zero(s, r, owner(), &A));
    check_apply(A, 0, s, x, r, z, 0.0);
    check_apply(A, 1, r, xr, s, z, 0.0);
    linear_checks(&A);

    free(x);
    SJ_ASSERT_OK(sj_space_destroy(&s));
    SJ_ASSERT_OK(sj_space_destroy(&r));
}

/* The zero operator inside a block operator, next to a diagonal block. */
static void test_zero_in_block(void **state)
{
    const double d[3] = {1, 2, 3}, x[3] = {1, 1, 1};
    sj_space_t s = space1(3);
    sj_op_t blocks[2] = {NULL, NULL}, B = NULL;
    SJ_ASSERT_OK(sj_op_diagonal(s, 0, sj_rank() == 0 ? d : NULL, &blocks[0]));
    SJ_ASSERT_OK(sj_op_zero(s, s, owner(), &blocks[1]));
    const int grid[2] = {1, 2}, owners[2] = {0, owner()};
    sj_dist_t layout = NULL;
    SJ_ASSERT_OK(sj_dist_create_explicit(2, grid, owners, &layout));
    SJ_ASSERT_OK(sj_op_block_create(1, 2, blocks, layout, &B));
    SJ_ASSERT_OK(sj_dist_destroy(&layout));
    sj_space_t bd = NULL;
    sj_dist_t bdd = NULL;
    SJ_ASSERT_OK(sj_op_domain(B, &bd, &bdd));
    sj_array_t xa = NULL;
    SJ_ASSERT_OK(sj_array_ones(bd, bdd, &xa));
    sj_array_t ya = NULL;
    sj_space_t rs = NULL;
    sj_dist_t rd = NULL;
    SJ_ASSERT_OK(sj_op_range(B, &rs, &rd));
    SJ_ASSERT_OK(sj_array_filled(rs, rd, 7.0, &ya));
    SJ_ASSERT_OK(sj_op_apply(B, xa, ya));
    const double ref[3] = {d[0] * x[0], d[1] * x[1], d[2] * x[2]};
    SJ_ASSERT_ARRAY(ya, ref);
    dot_ok(B, TOL);
    SJ_ASSERT_OK(sj_array_destroy(&xa));
    SJ_ASSERT_OK(sj_array_destroy(&ya));
    SJ_ASSERT_OK(sj_op_destroy(&B));
    SJ_ASSERT_OK(sj_op_destroy(&blocks[0]));
    SJ_ASSERT_OK(sj_op_destroy(&blocks[1]));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- dense ------------------------------------------------------------------------ */

/* y = M x (trans: M' x) for M rows x cols column-major, on k columns. */
static void ref_matmul(const double *M, int64_t rows, int64_t cols, int64_t k, int trans,
                       const double *x, double *y)
{
    const int64_t m = trans ? cols : rows, n = trans ? rows : cols;
    for (int64_t c = 0; c < k; c++)
        for (int64_t i = 0; i < m; i++) {
            double v = 0;
            for (int64_t j = 0; j < n; j++)
                v += (trans ? M[j + rows * i] : M[i + rows * j]) * x[j + n * c];
            y[i + m * c] = v;
        }
}

static void dense_case(sj_dtype_t dt, sj_space_t dom, sj_space_t rng, int64_t rows, int64_t cols,
                       int64_t k, double dot_tol)
{
    const int64_t mn = rows * cols;
    /* small integers: every product and sum is exact in float32 too */
    double *M = malloc((size_t)mn * sizeof(double));
    for (int64_t i = 0; i < mn; i++)
        M[i] = (double)((5 * i) % 7) - 3.0;
    void *Mt = malloc((size_t)mn * sj_dtype_size(dt));
    for (int64_t i = 0; i < mn; i++)
        if (dt == SJ_FLOAT32)
            ((float *)Mt)[i] = (float)M[i];
        else
            ((double *)Mt)[i] = M[i];
    double *x = values(dom, SJ_T_SMALL), *y = values(rng, SJ_T_SMALL);
    double *Mx = malloc((size_t)(rows * k) * sizeof(double));
    double *Mty = malloc((size_t)(cols * k) * sizeof(double));
    ref_matmul(M, rows, cols, k, 0, x, Mx);
    ref_matmul(M, rows, cols, k, 1, y, Mty);

    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_dense(dom, rng, owner(), sj_rank() == owner() ? Mt : NULL, &A));
    check_apply(A, 0, dom, x, rng, Mx, 0.0);
    check_apply(A, 1, rng, y, dom, Mty, 0.0);
    dot_ok(A, dot_tol);
    linearity_ok(A, dot_tol);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    free(M);
    free(Mt);
    free(x);
    free(y);
    free(Mx);
    free(Mty);
}

static void test_dense(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        const double tol = t == 0 ? TOL : 1e-4;
        /* gemv: 1-D spaces, 3 x 4 */
        sj_space_t d1 = space_nd(dt, 1, 4, 1, 1), r1 = space_nd(dt, 1, 3, 1, 1);
        dense_case(dt, d1, r1, 3, 4, 1, tol);
        /* gemm: (4, 2) -> (3, 2), k = 2 */
        sj_space_t d2 = space_nd(dt, 2, 4, 2, 1), r2 = space_nd(dt, 2, 3, 2, 1);
        dense_case(dt, d2, r2, 3, 4, 2, tol);
        /* 2-D domain, 1-D range: a vector of 8 (gemv) */
        dense_case(dt, d2, r1, 3, 8, 1, tol);
        /* 1 x 1 */
        sj_space_t one = space_nd(dt, 1, 1, 1, 1);
        dense_case(dt, one, one, 1, 1, 1, tol);
        /* larger, with k = 5 */
        sj_space_t d3 = space_nd(dt, 2, 17, 5, 1), r3 = space_nd(dt, 2, 11, 5, 1);
        dense_case(dt, d3, r3, 11, 17, 5, tol);
        SJ_ASSERT_OK(sj_space_destroy(&d1));
        SJ_ASSERT_OK(sj_space_destroy(&r1));
        SJ_ASSERT_OK(sj_space_destroy(&d2));
        SJ_ASSERT_OK(sj_space_destroy(&r2));
        SJ_ASSERT_OK(sj_space_destroy(&d3));
        SJ_ASSERT_OK(sj_space_destroy(&r3));
        SJ_ASSERT_OK(sj_space_destroy(&one));
    }
}

/* ---- operators along one dimension --------------------------------------------------- */

enum axis_kind { AX_DIFFERENCE, AX_DERIVATIVE, AX_TAPER };

static double ref_taper_weight(int64_t i, int64_t n, int64_t nlo, int64_t nhi)
{
    const double pi = 3.14159265358979323846;
    double w = 1.0;
    if (i < nlo)
        w *= 0.5 * (1.0 - cos(pi * (double)i / (double)nlo));
    if (n - 1 - i < nhi)
        w *= 0.5 * (1.0 - cos(pi * (double)(n - 1 - i) / (double)nhi));
    return w;
}

/* Serial reference of difference, derivative (spacing h) and taper along @p dim. */
static void ref_axis(int kind, int adjoint, const int64_t d[3], int dim, double h, int64_t nlo,
                     int64_t nhi, const double *x, double *y)
{
    const int64_t n = d[0] * d[1] * d[2], N = d[dim];
    for (int64_t g = 0; g < n; g++) {
        int64_t c[3], cp[3], cm[3];
        sj_t_coords(g, d, c);
        memcpy(cp, c, sizeof c);
        memcpy(cm, c, sizeof c);
        cp[dim]++;
        cm[dim]--;
        const int64_t i = c[dim];
        const double xp = i + 1 < N ? x[lin3(d, cp)] : 0.0, xm = i >= 1 ? x[lin3(d, cm)] : 0.0;
        switch (kind) {
        case AX_DIFFERENCE:
            if (!adjoint)
                y[g] = i + 1 < N ? xp - x[g] : 0.0;
            else
                y[g] = xm - (i + 1 < N ? x[g] : 0.0);
            break;
        case AX_DERIVATIVE:
            y[g] = (adjoint ? xm - xp : xp - xm) / (2.0 * h);
            break;
        default:
            y[g] = ref_taper_weight(i, N, nlo, nhi) * x[g];
        }
    }
}

static void axis_case(int kind, sj_space_t s, int dim)
{
    const int64_t n = len(s);
    int64_t d[3];
    dims3(s, d);
    const double h = 0.5;
    const int64_t nlo = d[dim] / 3, nhi = (d[dim] + 1) / 2;
    double *x = values(s, SJ_T_SINE), *y = malloc((size_t)n * sizeof(double));
    sj_op_t A = NULL;
    if (kind == AX_DIFFERENCE)
        SJ_ASSERT_OK(sj_op_difference(s, owner(), dim, &A));
    else if (kind == AX_DERIVATIVE)
        SJ_ASSERT_OK(sj_op_derivative(s, owner(), dim, h, &A));
    else
        SJ_ASSERT_OK(sj_op_taper(s, owner(), dim, nlo, nhi, &A));
    for (int adj = 0; adj < 2; adj++) {
        ref_axis(kind, adj, d, dim, h, nlo, nhi, x, y);
        check_apply(A, adj, s, x, s, y, tol_of(s, 1e-15));
    }
    linear_checks(&A);
    free(x);
    free(y);
}

/* The shapes every along-a-dimension operator is tried on. */
static sj_space_t shape_space(int which)
{
    switch (which) {
    case 0:
        return space_nd(SJ_FLOAT64, 1, 1, 1, 1);
    case 1:
        return space_nd(SJ_FLOAT64, 1, 9, 1, 1);
    case 2:
        return space_nd(SJ_FLOAT64, 2, 5, 4, 1);
    case 3:
        return space_nd(SJ_FLOAT64, 3, 4, 3, 5);
    default:
        return space_nd(SJ_FLOAT64, 3, 3, 1, 2);
    }
}

static void axis_all(int kind)
{
    for (int which = 0; which < 5; which++) {
        sj_space_t s = shape_space(which);
        int ndims = 0;
        SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
        for (int dim = 0; dim < ndims; dim++)
            axis_case(kind, s, dim);
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
}

static void test_difference(void **state)
{
    /* by hand: squares -> odd numbers, then the adjoint */
    const double x[5] = {1, 4, 9, 16, 25}, y[5] = {3, 5, 7, 9, 0};
    const double yadj[5] = {-1, -3, -5, -7, 16};
    sj_space_t s = space1(5);
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_difference(s, owner(), 0, &A));
    check_apply(A, 0, s, x, s, y, 0.0);
    check_apply(A, 1, s, x, s, yadj, 0.0);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    axis_all(AX_DIFFERENCE);
}

static void test_derivative(void **state)
{
    /* h = 0.5: y[i] = x[i+1] - x[i-1], zeros outside */
    const double x[5] = {1, 4, 9, 16, 25}, y[5] = {4, 8, 12, 16, -16};
    const double yadj[5] = {-4, -8, -12, -16, 16};
    sj_space_t s = space1(5);
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_derivative(s, owner(), 0, 0.5, &A));
    check_apply(A, 0, s, x, s, y, 0.0);
    check_apply(A, 1, s, x, s, yadj, 0.0);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    axis_all(AX_DERIVATIVE);
}

static void test_taper(void **state)
{
    /* n = 6, nlo = 2, nhi = 3: weights 0, 1/2, 1, 3/4, 1/4, 0 */
    const double x[6] = {8, 8, 8, 8, 8, 8}, y[6] = {0, 4, 8, 6, 2, 0};
    sj_space_t s = space1(6);
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_taper(s, owner(), 0, 2, 3, &A));
    check_apply(A, 0, s, x, s, y, 1e-15);
    check_apply(A, 1, s, x, s, y, 1e-15);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    /* no ramps: the identity */
    SJ_ASSERT_OK(sj_op_taper(s, owner(), 0, 0, 0, &A));
    check_apply(A, 0, s, x, s, x, 0.0);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    axis_all(AX_TAPER);
}

/* ---- circshift ------------------------------------------------------------------------ */

static void ref_circshift(const int64_t d[3], const int64_t sh[3], int sign, const double *x,
                          double *y)
{
    for (int64_t g = 0; g < d[0] * d[1] * d[2]; g++) {
        int64_t c[3];
        sj_t_coords(g, d, c);
        for (int k = 0; k < 3; k++)
            c[k] = ((c[k] + sign * sh[k]) % d[k] + d[k]) % d[k];
        y[lin3(d, c)] = x[g];
    }
}

static void test_circshift(void **state)
{
    /* Julia: circshift([1,2,3,4,5], 2) == [4,5,1,2,3] */
    const double x[5] = {1, 2, 3, 4, 5}, y[5] = {4, 5, 1, 2, 3}, yadj[5] = {3, 4, 5, 1, 2};
    const int64_t two[1] = {2}, minus8[1] = {-8};
    sj_space_t s = space1(5);
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_circshift(s, owner(), two, &A));
    check_apply(A, 0, s, x, s, y, 0.0);
    check_apply(A, 1, s, x, s, yadj, 0.0);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    SJ_ASSERT_OK(sj_op_circshift(s, owner(), minus8, &A)); /* -8 = 2 (mod 5) */
    check_apply(A, 0, s, x, s, y, 0.0);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    SJ_ASSERT_OK(sj_space_destroy(&s));

    const int64_t shifts[4][3] = {{0, 0, 0}, {1, 0, 0}, {0, -1, 0}, {3, 7, -2}};
    for (int which = 0; which < 5; which++) {
        sj_space_t sp = shape_space(which);
        int64_t d[3];
        dims3(sp, d);
        const int64_t n = len(sp);
        double *xs = values(sp, SJ_T_SINE), *ys = malloc((size_t)n * sizeof(double));
        for (int k = 0; k < 4; k++) {
            int64_t sh[3];
            int ndims = 0;
            SJ_ASSERT_OK(sj_space_shape(sp, NULL, &ndims, NULL));
            for (int j = 0; j < 3; j++)
                sh[j] = j < ndims ? shifts[k][j] : 0;
            SJ_ASSERT_OK(sj_op_circshift(sp, owner(), sh, &A));
            ref_circshift(d, sh, 1, xs, ys);
            check_apply(A, 0, sp, xs, sp, ys, 0.0);
            ref_circshift(d, sh, -1, xs, ys);
            check_apply(A, 1, sp, xs, sp, ys, 0.0);
            linear_checks(&A);
        }
        free(xs);
        free(ys);
        SJ_ASSERT_OK(sj_space_destroy(&sp));
    }
}

/* ---- restriction --------------------------------------------------------------------- */

static void test_restriction(void **state)
{
    const double x[6] = {10, 11, 12, 13, 14, 15};
    const int64_t idx[4] = {4, 0, 4, 2};
    const double y[4] = {14, 10, 14, 12}, r[4] = {1, 2, 3, 4};
    const double radj[6] = {2, 0, 4, 0, 1 + 3, 0}; /* repeated index 4 adds */
    sj_space_t s = space1(6), rs = space1(4);
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_restriction(s, owner(), 4, sj_rank() == owner() ? idx : NULL, &A));
    sj_space_t got = NULL;
    SJ_ASSERT_OK(sj_op_range(A, &got, NULL));
    assert_int_equal(len(got), 4);
    check_apply(A, 0, s, x, rs, y, 0.0);
    check_apply(A, 1, rs, r, s, radj, 0.0);
    linear_checks(&A);

    /* a 3-D domain, linear indices */
    sj_space_t s3 = space_nd(SJ_FLOAT64, 3, 3, 2, 2);
    const int64_t idx3[5] = {11, 0, 5, 6, 11};
    double *x3 = values(s3, SJ_T_SINE), y3[5];
    for (int k = 0; k < 5; k++)
        y3[k] = x3[idx3[k]];
    sj_space_t r5 = space1(5);
    SJ_ASSERT_OK(sj_op_restriction(s3, owner(), 5, idx3, &A));
    check_apply(A, 0, s3, x3, r5, y3, 0.0);
    linear_checks(&A);
    free(x3);
    SJ_ASSERT_OK(sj_space_destroy(&r5));
    SJ_ASSERT_OK(sj_space_destroy(&s3));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    SJ_ASSERT_OK(sj_space_destroy(&rs));
}

/* ---- pad, truncate, reshape ------------------------------------------------------------- */

/* Place small (dims ds) at offset lo in big (dims db), zeros elsewhere. */
static void ref_embed(const int64_t db[3], const int64_t ds[3], const int64_t lo[3],
                      const double *small, double *big)
{
    for (int64_t g = 0; g < db[0] * db[1] * db[2]; g++)
        big[g] = 0.0;
    for (int64_t g = 0; g < ds[0] * ds[1] * ds[2]; g++) {
        int64_t c[3];
        sj_t_coords(g, ds, c);
        for (int k = 0; k < 3; k++)
            c[k] += lo[k];
        big[lin3(db, c)] = small[g];
    }
}

static void ref_extract(const int64_t db[3], const int64_t ds[3], const int64_t lo[3],
                        const double *big, double *small)
{
    for (int64_t g = 0; g < ds[0] * ds[1] * ds[2]; g++) {
        int64_t c[3];
        sj_t_coords(g, ds, c);
        for (int k = 0; k < 3; k++)
            c[k] += lo[k];
        small[g] = big[lin3(db, c)];
    }
}

static void box_case(sj_space_t small, sj_space_t big, const int64_t lo[3])
{
    int64_t ds[3], db[3];
    dims3(small, ds);
    dims3(big, db);
    double *xs = values(small, SJ_T_SINE), *xb = values(big, SJ_T_COSINE);
    double *ys = malloc((size_t)len(small) * sizeof(double));
    double *yb = malloc((size_t)len(big) * sizeof(double));
    ref_embed(db, ds, lo, xs, yb);
    ref_extract(db, ds, lo, xb, ys);
    sj_op_t P = NULL, T = NULL;
    SJ_ASSERT_OK(sj_op_pad(small, big, owner(), lo, &P));
    check_apply(P, 0, small, xs, big, yb, 0.0);
    check_apply(P, 1, big, xb, small, ys, 0.0);
    SJ_ASSERT_OK(sj_op_truncate(big, small, owner(), lo, &T));
    check_apply(T, 0, big, xb, small, ys, 0.0);
    check_apply(T, 1, small, xs, big, yb, 0.0);
    linear_checks(&P);
    linear_checks(&T);
    free(xs);
    free(xb);
    free(ys);
    free(yb);
}

static void test_pad_truncate(void **state)
{
    /* by hand */
    const double x[3] = {1, 2, 3}, y[6] = {0, 0, 1, 2, 3, 0};
    const int64_t lo1[3] = {2, 0, 0};
    sj_space_t s3 = space1(3), s6 = space1(6);
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_pad(s3, s6, owner(), lo1, &A));
    check_apply(A, 0, s3, x, s6, y, 0.0);
    check_apply(A, 1, s6, y, s3, x, 0.0);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    SJ_ASSERT_OK(sj_op_truncate(s6, s3, owner(), lo1, &A));
    check_apply(A, 0, s6, y, s3, x, 0.0);
    SJ_ASSERT_OK(sj_op_destroy(&A));

    const int64_t zero[3] = {0, 0, 0};
    box_case(s3, s6, zero);
    box_case(s3, s6, lo1);
    sj_space_t one = space1(1);
    box_case(one, one, zero);
    box_case(one, s3, (const int64_t[3]){2, 0, 0});
    /* 2-D and 3-D, offsets along each dimension */
    sj_space_t a2 = space_nd(SJ_FLOAT64, 2, 3, 2, 1), b2 = space_nd(SJ_FLOAT64, 2, 5, 6, 1);
    box_case(a2, b2, (const int64_t[3]){2, 0, 0});
    box_case(a2, b2, (const int64_t[3]){0, 4, 0});
    box_case(a2, b2, (const int64_t[3]){1, 3, 0});
    sj_space_t a3 = space_nd(SJ_FLOAT64, 3, 2, 3, 2), b3 = space_nd(SJ_FLOAT64, 3, 4, 3, 5);
    box_case(a3, b3, (const int64_t[3]){2, 0, 0});
    box_case(a3, b3, (const int64_t[3]){0, 0, 3});
    box_case(a3, b3, (const int64_t[3]){1, 0, 1});
    sj_space_t *all[] = {&s3, &s6, &one, &a2, &b2, &a3, &b3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        SJ_ASSERT_OK(sj_space_destroy(all[i]));
}

static void test_reshape(void **state)
{
    sj_space_t a = space_nd(SJ_FLOAT64, 2, 2, 3, 1), b = space1(6);
    sj_space_t c = space_nd(SJ_FLOAT64, 3, 3, 1, 2);
    double *x = values(a, SJ_T_SINE);
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_reshape(a, b, owner(), &A));
    check_apply(A, 0, a, x, b, x, 0.0);
    check_apply(A, 1, b, x, a, x, 0.0);
    linear_checks(&A);
    SJ_ASSERT_OK(sj_op_reshape(a, c, owner(), &A));
    check_apply(A, 0, a, x, c, x, 0.0);
    linear_checks(&A);
    free(x);
    SJ_ASSERT_OK(sj_space_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&b));
    SJ_ASSERT_OK(sj_space_destroy(&c));
}

/* ---- sum along a dimension -------------------------------------------------------------- */

/* The range of sum_dim: @p d without dimension @p dim, padded with 1s. */
static int drop_dim(int ndims, const int64_t d[3], int dim, int64_t r[3])
{
    int m = 0;
    r[0] = r[1] = r[2] = 1;
    for (int k = 0; k < ndims; k++)
        if (k != dim)
            r[m++] = d[k];
    return m > 0 ? m : 1;
}

static void sum_dim_case(sj_space_t s, int dim)
{
    int ndims = 0;
    SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
    int64_t d[3], rd[3];
    dims3(s, d);
    const int rn = drop_dim(ndims, d, dim, rd);
    sj_space_t r = space_nd(dtype_of(s), rn, rd[0], rd[1], rd[2]);
    const int64_t n = len(s), m = len(r);
    double *x = values(s, SJ_T_SINE), *y = values(r, SJ_T_COSINE);
    double *sx = calloc((size_t)m, sizeof(double)), *sy = malloc((size_t)n * sizeof(double));
    for (int64_t g = 0; g < n; g++) {
        int64_t c[3], c2[3];
        sj_t_coords(g, d, c);
        int k2 = 0;
        c2[0] = c2[1] = c2[2] = 0;
        for (int k = 0; k < ndims; k++)
            if (k != dim)
                c2[k2++] = c[k];
        sx[lin3(rd, c2)] += x[g];
        sy[g] = y[lin3(rd, c2)];
    }
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_sum_dim(s, r, owner(), dim, &A));
    check_apply(A, 0, s, x, r, sx, tol_of(s, 1e-15));
    check_apply(A, 1, r, y, s, sy, 0.0);
    linear_checks(&A);
    free(x);
    free(y);
    free(sx);
    free(sy);
    SJ_ASSERT_OK(sj_space_destroy(&r));
}

static void test_sum_dim(void **state)
{
    /* by hand: a 2 x 3 matrix [1 3 5; 2 4 6] */
    const double x[6] = {1, 2, 3, 4, 5, 6}, rows[3] = {3, 7, 11}, cols[2] = {9, 12};
    sj_space_t s = space_nd(SJ_FLOAT64, 2, 2, 3, 1), r3 = space1(3), r2 = space1(2);
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_sum_dim(s, r3, owner(), 0, &A));
    check_apply(A, 0, s, x, r3, rows, 0.0);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    SJ_ASSERT_OK(sj_op_sum_dim(s, r2, owner(), 1, &A));
    check_apply(A, 0, s, x, r2, cols, 0.0);
    SJ_ASSERT_OK(sj_op_destroy(&A));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    SJ_ASSERT_OK(sj_space_destroy(&r3));
    SJ_ASSERT_OK(sj_space_destroy(&r2));

    for (int which = 0; which < 5; which++) {
        sj_space_t sp = shape_space(which);
        int ndims = 0;
        SJ_ASSERT_OK(sj_space_shape(sp, NULL, &ndims, NULL));
        for (int dim = 0; dim < ndims; dim++)
            sum_dim_case(sp, dim);
        SJ_ASSERT_OK(sj_space_destroy(&sp));
    }
}

/* ---- nonlinear ---------------------------------------------------------------------------- */

enum nl_kind { NL_EXP, NL_LOG, NL_TANH, NL_SIGMOID, NL_POWER, NL_SHIFT, NL_CLAMP, NL_COUNT };

static const double POW_P = 2.5, CL_LO = 0.8, CL_HI = 1.6, CL_W = 0.2;

static double ref_f(int kind, double x, double b)
{
    switch (kind) {
    case NL_EXP:
        return exp(x);
    case NL_LOG:
        return log(x);
    case NL_TANH:
        return tanh(x);
    case NL_SIGMOID:
        return 1.0 / (1.0 + exp(-x));
    case NL_POWER:
        return pow(x, POW_P);
    case NL_SHIFT:
        return x + b;
    default:
        return CL_LO + CL_W * log(1.0 + exp((x - CL_LO) / CL_W)) -
               CL_W * log(1.0 + exp((x - CL_HI) / CL_W));
    }
}

static double ref_df(int kind, double x)
{
    switch (kind) {
    case NL_EXP:
        return exp(x);
    case NL_LOG:
        return 1.0 / x;
    case NL_TANH:
        return 1.0 / (cosh(x) * cosh(x));
    case NL_SIGMOID:
        return exp(-x) / ((1.0 + exp(-x)) * (1.0 + exp(-x)));
    case NL_POWER:
        return POW_P * pow(x, POW_P - 1.0);
    case NL_SHIFT:
        return 1.0;
    default:
        return 1.0 / (1.0 + exp(-(x - CL_LO) / CL_W)) - 1.0 / (1.0 + exp(-(x - CL_HI) / CL_W));
    }
}

static void make_nl(int kind, sj_space_t s, const double *b, sj_op_t *F)
{
    const int o = owner();
    switch (kind) {
    case NL_EXP:
        SJ_ASSERT_OK(sj_op_exp(s, o, F));
        break;
    case NL_LOG:
        SJ_ASSERT_OK(sj_op_log(s, o, F));
        break;
    case NL_TANH:
        SJ_ASSERT_OK(sj_op_tanh(s, o, F));
        break;
    case NL_SIGMOID:
        SJ_ASSERT_OK(sj_op_sigmoid(s, o, F));
        break;
    case NL_POWER:
        SJ_ASSERT_OK(sj_op_power(s, o, POW_P, F));
        break;
    case NL_SHIFT:
        SJ_ASSERT_OK(sj_op_shift(s, o, sj_rank() == o ? b : NULL, F));
        break;
    default:
        SJ_ASSERT_OK(sj_op_clamp(s, o, CL_LO, CL_HI, CL_W, F));
    }
}

static void taylor_ok(sj_op_t F, sj_array_t m0, int kind)
{
    sj_op_taylor_result_t t;
    SJ_ASSERT_OK(sj_op_linearization_test(F, m0, SEED + 2, 0.1, 8, &t));
    if (!t.pass)
        print_error("linearization test of kind %d: order %g\n", kind, t.order);
    assert_true(t.pass);
}

static void nonlinear_case(int kind, sj_space_t s)
{
    const int64_t n = len(s);
    double *m0 = malloc((size_t)n * sizeof(double)), *b = values(s, SJ_T_SINE);
    double *dx = values(s, SJ_T_COSINE), *f = malloc((size_t)n * sizeof(double));
    double *j = malloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        m0[i] = 0.5 + 1.5 * (double)i / (double)(n > 1 ? n - 1 : 1); /* in [0.5, 2] */
        f[i] = ref_f(kind, m0[i], b[i]);
        j[i] = ref_df(kind, m0[i]) * dx[i];
    }
    sj_op_t F = NULL, J = NULL;
    make_nl(kind, s, b, &F);
    int linear = -1;
    SJ_ASSERT_OK(sj_op_is_linear(F, &linear));
    assert_int_equal(linear, 0);
    check_apply(F, 0, s, m0, s, f, 1e-13);

    sj_array_t m0a = array_of(s, m0);
    SJ_ASSERT_OK(sj_op_jacobian(F, m0a, &J));
    check_apply(J, 0, s, dx, s, j, 1e-13);
    check_apply(J, 1, s, dx, s, j, 1e-13);
    dot_ok(J, TOL);
    linearity_ok(J, TOL);

    /* the linearisation test at m0, placed as the operator's domain (on the owner) */
    sj_space_t ds = NULL;
    sj_dist_t dd = NULL;
    SJ_ASSERT_OK(sj_op_domain(F, &ds, &dd));
    sj_array_t m0o = array_in(ds, dd, m0);
    taylor_ok(F, m0o, kind);

    SJ_ASSERT_OK(sj_array_destroy(&m0o));
    SJ_ASSERT_OK(sj_array_destroy(&m0a));
    SJ_ASSERT_OK(sj_op_destroy(&J));
    SJ_ASSERT_OK(sj_op_destroy(&F));
    free(m0);
    free(b);
    free(dx);
    free(f);
    free(j);
}

static void test_nonlinear(void **state)
{
    sj_space_t s1 = space1(7), s3 = space_nd(SJ_FLOAT64, 3, 2, 3, 2), one = space1(1);
    for (int kind = 0; kind < NL_COUNT; kind++) {
        nonlinear_case(kind, s1);
        nonlinear_case(kind, s3);
        nonlinear_case(kind, one);
    }
    SJ_ASSERT_OK(sj_space_destroy(&s1));
    SJ_ASSERT_OK(sj_space_destroy(&s3));
    SJ_ASSERT_OK(sj_space_destroy(&one));
}

/* The linearisation test at an m0 placed elsewhere than the operator's domain (rank 0). */
static void test_linearization_any_layout(void **state)
{
    sj_space_t s = space1(5);
    const double m0[5] = {0.5, 1.0, 1.5, 2.0, 2.5};
    sj_array_t m0a = array_of(s, m0);
    for (int kind = 0; kind < NL_COUNT; kind++) {
        sj_op_t F = NULL;
        make_nl(kind, s, m0, &F);
        taylor_ok(F, m0a, kind);
        SJ_ASSERT_OK(sj_op_destroy(&F));
    }
    SJ_ASSERT_OK(sj_array_destroy(&m0a));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* Hand-checked values and float32 forward applies. */
static void test_nonlinear_values(void **state)
{
    const double x[4] = {0.0, 1.0, 4.0, 0.25};
    const double ylog[4] = {-INFINITY, 0.0, 2.0 * log(2.0), -2.0 * log(2.0)};
    const double ypow[4] = {0.0, 1.0, 8.0, 0.125}; /* p = 1.5 */
    const double ysig[4] = {0.5, 1.0 / (1.0 + exp(-1.0)), 1.0 / (1.0 + exp(-4.0)),
                            1.0 / (1.0 + exp(-0.25))};
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        const double tol = t == 0 ? 1e-15 : 1e-6;
        sj_space_t s = space_nd(dt, 1, 4, 1, 1);
        sj_op_t F = NULL;
        SJ_ASSERT_OK(sj_op_log(s, owner(), &F));
        check_apply(F, 0, s, x, s, ylog, tol);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        SJ_ASSERT_OK(sj_op_power(s, owner(), 1.5, &F));
        check_apply(F, 0, s, x, s, ypow, tol);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        SJ_ASSERT_OK(sj_op_sigmoid(s, owner(), &F));
        check_apply(F, 0, s, x, s, ysig, tol);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
    /* the clamp stays inside [lo, hi] far out and is smooth; log of -1 is NaN */
    const double far[3] = {-1e3, 1e3, -1.0};
    sj_space_t s = space1(3);
    sj_op_t F = NULL;
    SJ_ASSERT_OK(sj_op_clamp(s, owner(), -1.0, 2.0, 0.1, &F));
    check_apply(F, 0, s, far, s, (const double[3]){-1.0, 2.0, -1.0 + 0.1 * log(2.0)}, 1e-12);
    SJ_ASSERT_OK(sj_op_destroy(&F));
    SJ_ASSERT_OK(sj_op_log(s, owner(), &F));
    sj_array_t xa = array_of(s, far), ya = NULL;
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &ya));
    SJ_ASSERT_OK(sj_op_apply(F, xa, ya));
    double *got = sj_t_gather(ya, 0);
    if (sj_rank() == 0)
        assert_true(isnan(got[0]) && isnan(got[2]));
    free(got);
    SJ_ASSERT_OK(sj_array_destroy(&xa));
    SJ_ASSERT_OK(sj_array_destroy(&ya));
    SJ_ASSERT_OK(sj_op_destroy(&F));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- float32 ------------------------------------------------------------------------------ */

/* The operators along a dimension, boxes and shifts in float32 on a 3-D space. */
static void test_float32(void **state)
{
    sj_space_t s = space_nd(SJ_FLOAT32, 3, 4, 3, 5), small = space_nd(SJ_FLOAT32, 3, 2, 3, 2);
    for (int dim = 0; dim < 3; dim++) {
        axis_case(AX_DIFFERENCE, s, dim);
        axis_case(AX_DERIVATIVE, s, dim);
        axis_case(AX_TAPER, s, dim);
        sum_dim_case(s, dim);
    }
    box_case(small, s, (const int64_t[3]){1, 0, 3});

    int64_t d[3];
    dims3(s, d);
    const int64_t sh[3] = {3, -1, 2}, n = len(s);
    double *x = values(s, SJ_T_EXACT), *y = malloc((size_t)n * sizeof(double));
    sj_op_t A = NULL;
    SJ_ASSERT_OK(sj_op_circshift(s, owner(), sh, &A));
    ref_circshift(d, sh, 1, x, y);
    check_apply(A, 0, s, x, s, y, 0.0);
    ref_circshift(d, sh, -1, x, y);
    check_apply(A, 1, s, x, s, y, 0.0);
    linear_checks(&A);
    free(x);
    free(y);
    SJ_ASSERT_OK(sj_space_destroy(&s));
    SJ_ASSERT_OK(sj_space_destroy(&small));
}

/* ---- bad input ---------------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
    const int o = owner(), me = sj_rank(), nr = sj_nranks();
    const int nb2[1] = {2};
    const int64_t ten = 10;
    sj_space_t s = space1(4), s6 = space1(6), multi = NULL, s2 = space_nd(SJ_FLOAT64, 2, 3, 2, 1);
    sj_space_t sf = space_nd(SJ_FLOAT32, 1, 4, 1, 1);
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &ten, nb2, &multi));
    const double d[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const int64_t lo0[3] = {0, 0, 0}, lo3[3] = {3, 0, 0}, lo9[3] = {-1, 0, 0};
    const int64_t idx_bad[2] = {1, 4}, idx_ok[2] = {1, 3};
    sj_op_t A = (sj_op_t)0x1;

    /* common: multi-block space, NULL space, bad owner, NULL output */
    SJ_ASSERT_ERR(sj_op_diagonal(multi, o, d, &A), SJ_EINVAL);
    assert_null(A);
    SJ_ASSERT_ERR(sj_op_diagonal(NULL, o, d, &A), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_diagonal(s, nr, d, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_diagonal(s, -1, d, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_diagonal(s, o, d, NULL), SJ_ENULL);
    /* NULL state on the owner (non-NULL elsewhere) */
    SJ_ASSERT_ERR(sj_op_diagonal(s, o, me == o ? NULL : d, &A), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_dense(s, s6, o, NULL, &A), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_dense(s, sf, o, d, &A), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_op_dense(multi, s6, o, d, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_dense(s, multi, o, d, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_shift(s, o, NULL, &A), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_shift(multi, o, d, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_zero(s, multi, o, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_zero(s, sf, o, &A), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_op_identity(multi, o, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_identity(s, nr + 3, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_scaled_identity(multi, o, 2.0, &A), SJ_EINVAL);

    /* dimensions */
    SJ_ASSERT_ERR(sj_op_difference(s, o, 1, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_difference(s2, o, 2, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_difference(s2, o, -1, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_difference(multi, o, 0, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_derivative(s2, o, 2, 1.0, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_derivative(s2, o, 0, 0.0, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_derivative(s2, o, 0, NAN, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_taper(s2, o, 3, 1, 1, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_taper(s2, o, 1, 1, 2, &A), SJ_ESIZE); /* 3 > 2 */
    SJ_ASSERT_ERR(sj_op_taper(s2, o, 0, -1, 0, &A), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_op_taper(multi, o, 0, 1, 1, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_sum_dim(s2, s, o, 0, &A), SJ_EMISMATCH); /* range is (2) */
    SJ_ASSERT_ERR(sj_op_sum_dim(s2, s2, o, 0, &A), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_op_sum_dim(s2, s, o, 2, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_sum_dim(multi, s, o, 0, &A), SJ_EINVAL);

    /* boxes */
    SJ_ASSERT_ERR(sj_op_pad(s, s6, o, lo3, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_pad(s, s6, o, lo9, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_pad(s6, s, o, lo0, &A), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_op_pad(s, s2, o, lo0, &A), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_op_pad(s, s6, o, NULL, &A), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_pad(s, multi, o, lo0, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_truncate(s6, s, o, lo3, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_truncate(s, s6, o, lo0, &A), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_op_truncate(multi, s, o, lo0, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_reshape(s, s6, o, &A), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_op_reshape(s6, sf, o, &A), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_op_reshape(multi, s, o, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_circshift(s, o, NULL, &A), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_circshift(multi, o, lo0, &A), SJ_EINVAL);

    /* restriction: n, NULL indices, an index out of range seen by the owner only */
    SJ_ASSERT_ERR(sj_op_restriction(s, o, 0, idx_ok, &A), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_op_restriction(s, o, 2, NULL, &A), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_restriction(s, o, 2, me == o ? idx_bad : NULL, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_restriction(multi, o, 2, idx_ok, &A), SJ_EINVAL);

    /* nonlinear */
    SJ_ASSERT_ERR(sj_op_exp(multi, o, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_log(NULL, o, &A), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_tanh(s, nr, &A), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_op_sigmoid(s, o, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_op_power(s, o, INFINITY, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_power(multi, o, 2.0, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_clamp(s, o, 0.0, 1.0, 0.0, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_clamp(s, o, 0.0, 1.0, -1.0, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_clamp(s, o, 2.0, 1.0, 0.1, &A), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_op_clamp(multi, o, 0.0, 1.0, 0.1, &A), SJ_EINVAL);
    assert_null(A);

    /* everything still works after the errors */
    SJ_ASSERT_OK(sj_op_restriction(s, o, 2, me == o ? idx_ok : NULL, &A));
    dot_ok(A, TOL);
    SJ_ASSERT_OK(sj_op_destroy(&A));

    sj_space_t *all[] = {&s, &s6, &multi, &s2, &sf};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        SJ_ASSERT_OK(sj_space_destroy(all[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diagonal),
        cmocka_unit_test(test_identity_scaling_zero),
        cmocka_unit_test(test_zero_in_block),
        cmocka_unit_test(test_dense),
        cmocka_unit_test(test_difference),
        cmocka_unit_test(test_derivative),
        cmocka_unit_test(test_taper),
        cmocka_unit_test(test_circshift),
        cmocka_unit_test(test_restriction),
        cmocka_unit_test(test_pad_truncate),
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_sum_dim),
        cmocka_unit_test(test_nonlinear),
        cmocka_unit_test(test_nonlinear_values),
        cmocka_unit_test(test_linearization_any_layout),
        cmocka_unit_test(test_float32),
        cmocka_unit_test(test_bad_input),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "ops");
}
