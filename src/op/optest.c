/*
 * The operator tests every operator's tests use (dot product, linearity,
 * linearisation), and the per-task records of sj_op_perfstat().
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "op/op_private.h"

static double relerr(double a, double b)
{
    double m = fmax(fabs(a), fabs(b));
    return m > 0 ? fabs(a - b) / m : 0.0;
}

/* An array of the operator's domain (range) with its layout, random or zeros. */
static int make(sj_op_t A, int range, int random, uint64_t seed, sj_array_t *x)
{
    sj_space_t s = range ? A->rng_space : A->dom_space;
    sj_dist_t d = range ? A->rng_dist : A->dom_dist;
    return random ? sj_array_rand(s, d, seed, x) : sj_array_zeros(s, d, x);
}

static void destroy_all(sj_array_t *a, int n)
{
    for (int k = 0; k < n; k++)
        sj_array_destroy(&a[k]);
}

int sj_op_dot_product_test(sj_op_t A, uint64_t seed, double tol, sj_op_test_result_t *result)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_op(__func__, "A", A));
    SJ_CHECK_NULL(result);
    SJ_CHECK(tol >= 0, SJ_EINVAL, "tol is %g, expected >= 0", tol);
    SJ_CHECK(A->linear, SJ_EINVAL, "A is nonlinear: test its Jacobian (sj_op_jacobian)");
    sj_array_t v[4] = {NULL}; /* x, y, Ax, A'y */
    double lhs = 0, rhs = 0;
    int rc;
    SJ_TRY_GOTO(rc, make(A, 0, 1, seed, &v[0]), out);
    SJ_TRY_GOTO(rc, make(A, 1, 1, seed + 0x9e3779b97f4a7c15ull, &v[1]), out);
    SJ_TRY_GOTO(rc, make(A, 1, 0, 0, &v[2]), out);
    SJ_TRY_GOTO(rc, make(A, 0, 0, 0, &v[3]), out);
    SJ_TRY_GOTO(rc, sj_op_apply(A, v[0], v[2]), out);
    SJ_TRY_GOTO(rc, sj_op_apply_adjoint(A, v[1], v[3]), out);
    SJ_TRY_GOTO(rc, sj_array_dot(v[2], v[1], &lhs), out);
    SJ_TRY_GOTO(rc, sj_array_dot(v[0], v[3], &rhs), out);
    *result = (sj_op_test_result_t){.lhs = lhs, .rhs = rhs, .relerr = relerr(lhs, rhs)};
    result->pass = result->relerr <= tol;
out:
    destroy_all(v, 4);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_op_linearity_test(sj_op_t A, uint64_t seed, double tol, sj_op_test_result_t *result)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_op(__func__, "A", A));
    SJ_CHECK_NULL(result);
    SJ_CHECK(tol >= 0, SJ_EINVAL, "tol is %g, expected >= 0", tol);
    const double a = 0.75, b = -1.25;
    sj_array_t v[6] = {NULL}; /* x, z, w = a x + b z, Aw, Ax, Az */
    double nl = 0, nr = 0, nd = 0;
    int rc;
    SJ_TRY_GOTO(rc, make(A, 0, 1, seed, &v[0]), out);
    SJ_TRY_GOTO(rc, make(A, 0, 1, seed + 0x9e3779b97f4a7c15ull, &v[1]), out);
    SJ_TRY_GOTO(rc, sj_array_copy(v[0], &v[2]), out);
    SJ_TRY_GOTO(rc, sj_array_axpby(b, v[1], a, v[2]), out);
    for (int k = 3; k < 6; k++)
        SJ_TRY_GOTO(rc, make(A, 1, 0, 0, &v[k]), out);
    SJ_TRY_GOTO(rc, sj_op_apply(A, v[2], v[3]), out);
    SJ_TRY_GOTO(rc, sj_op_apply(A, v[0], v[4]), out);
    SJ_TRY_GOTO(rc, sj_op_apply(A, v[1], v[5]), out);
    /* v[4] = a Ax + b Az; compare with Aw */
    SJ_TRY_GOTO(rc, sj_array_axpby(b, v[5], a, v[4]), out);
    SJ_TRY_GOTO(rc, sj_array_norm(SJ_NORM_2, v[3], &nl), out);
    SJ_TRY_GOTO(rc, sj_array_norm(SJ_NORM_2, v[4], &nr), out);
    SJ_TRY_GOTO(rc, sj_array_axpy(-1.0, v[3], v[4]), out);
    SJ_TRY_GOTO(rc, sj_array_norm(SJ_NORM_2, v[4], &nd), out);
    double m = fmax(nl, nr);
    *result = (sj_op_test_result_t){.lhs = nl, .rhs = nr, .relerr = m > 0 ? nd / m : 0.0};
    result->pass = result->relerr <= tol;
out:
    destroy_all(v, 6);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median observed order of the first-order remainder, and the verdict. */
static void set_order(sj_op_taylor_result_t *result, int at_rounding)
{
    const int nsteps = result->nsteps;
    double orders[16];
    int n = 0;
    for (int k = 1; k < nsteps; k++)
        if (result->err1[k] > 0 && result->err1[k - 1] > 0)
            orders[n++] = log2(result->err1[k - 1] / result->err1[k]);
    if (n) {
        qsort(orders, (size_t)n, sizeof *orders, cmp_double);
        result->order = n % 2 ? orders[n / 2] : 0.5 * (orders[n / 2 - 1] + orders[n / 2]);
    }
    result->pass = at_rounding || result->order >= 1.8;
}

int sj_op_linearization_test(sj_op_t F, sj_array_t m0, uint64_t seed, double h0, int nsteps,
                             sj_op_taylor_result_t *result)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_op(__func__, "F", F));
    SJ_CHECK_NULL(result);
    SJ_CHECK(nsteps >= 2 && nsteps <= 16, SJ_EINVAL, "nsteps is %d, expected 2 to 16", nsteps);
    SJ_CHECK(h0 > 0 && isfinite(h0), SJ_EINVAL, "h0 is %g, expected > 0", h0);
    if (m0)
        SJ_TRY(sj__check_array(__func__, "m0", m0));
    if (m0)
        SJ_TRY(
            sj__check_compatible(__func__, "m0", m0->space, "the operator's domain", F->dom_space));
    sj_array_t v[6] = {NULL}; /* m0, dm, f0, Jdm, m, f */
    sj_op_t J = NULL;
    double nf0 = 0, njd = 0;
    *result = (sj_op_taylor_result_t){.nsteps = nsteps};
    int rc;
    SJ_TRY_GOTO(rc, m0 ? sj_array_copy(m0, &v[0]) : make(F, 0, 1, seed, &v[0]), out);
    SJ_TRY_GOTO(rc, sj_array_rand(v[0]->space, v[0]->dist, seed + 0x9e3779b97f4a7c15ull, &v[1]),
                out);
    SJ_TRY_GOTO(rc, make(F, 1, 0, 0, &v[2]), out);
    SJ_TRY_GOTO(rc, make(F, 1, 0, 0, &v[3]), out);
    SJ_TRY_GOTO(rc, sj_array_similar(v[0], &v[4]), out);
    SJ_TRY_GOTO(rc, make(F, 1, 0, 0, &v[5]), out);
    SJ_TRY_GOTO(rc, sj_op_apply(F, v[0], v[2]), out);
    SJ_TRY_GOTO(rc, sj_op_jacobian(F, v[0], &J), out);
    SJ_TRY_GOTO(rc, sj_op_apply(J, v[1], v[3]), out);
    SJ_TRY_GOTO(rc, sj_array_norm(SJ_NORM_2, v[2], &nf0), out);
    SJ_TRY_GOTO(rc, sj_array_norm(SJ_NORM_2, v[3], &njd), out);
    const double eps = F->dom_space->dtype == SJ_FLOAT64 ? DBL_EPSILON : FLT_EPSILON;
    int at_rounding = 1;
    for (int k = 0; k < nsteps; k++) {
        const double h = h0 / (double)(1u << k);
        result->h[k] = h;
        SJ_TRY_GOTO(rc, sj_array_copyto(v[0], v[4]), out);
        SJ_TRY_GOTO(rc, sj_array_axpy(h, v[1], v[4]), out);
        SJ_TRY_GOTO(rc, sj_op_apply(F, v[4], v[5]), out);
        SJ_TRY_GOTO(rc, sj_array_axpy(-1.0, v[2], v[5]), out); /* f - f0 */
        SJ_TRY_GOTO(rc, sj_array_norm(SJ_NORM_2, v[5], &result->err0[k]), out);
        SJ_TRY_GOTO(rc, sj_array_axpy(-h, v[3], v[5]), out); /* f - f0 - h J dm */
        SJ_TRY_GOTO(rc, sj_array_norm(SJ_NORM_2, v[5], &result->err1[k]), out);
        /* an affine operator leaves only rounding: 100 ulps of what was subtracted */
        at_rounding &= result->err1[k] <= 100 * eps * (nf0 + h * njd + result->err0[k]);
    }
    set_order(result, at_rounding);
out:
    sj_op_destroy(&J);
    destroy_all(v, 6);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_op_perfstat(const char *path)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_running(__func__));
    SJ_TRY(sj__named(sj__rt_wait_all(), __func__));
    int bad = sj__rt_op_records(path, __func__) < 0, nbad = 0;
    SJ_TRY(sj__rt_sum_int(bad, &nbad));
    if (bad)
        return SJ_EINVAL;
    SJ_CHECK(nbad == 0, SJ_EINVAL, "%d rank(s) could not open their record file", nbad);
    return SJ_OK;
}
