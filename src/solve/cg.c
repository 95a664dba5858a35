/*
 * Conjugate gradients with the iteration's scalars in the task graph and a
 * lagged convergence test (docs/solvers.md).
 *
 * Iteration k (k >= 1) submits, without waiting:
 *     q = A p_k;  pAp_k = p_k . q;
 *     r -= (rz_{k-1} / pAp_k) q  with  rr_k = r . r  (one task per block);
 *     z = M r;  rz_k = r . z  (without M, z is r and rz_k is rr_k);
 *     p_{k+1} = z + (rz_k / rz_{k-1}) p_k  (one task per block)
 * and puts rr_k, pAp_k (and rz_k) into probes. The step lengths alpha_k =
 * rz_{k-1} / pAp_k and beta_k are never scalars of their own: the fused
 * updates (sj_array_axpy_dot_scalar) divide in their tasks, with the bits of
 * a division task. x is not touched: the check of iteration j (submitted
 * once iterations up to j + lag are) reads the probes of j on this rank and,
 * when iteration j is sound, submits x += (rz_{j-1} / pAp_j) p_j. So x holds
 * x_j exactly when iteration j converges, and the last sound iterate when a
 * later one breaks down. p_k, rz_k and pAp_k live in rings of lag + 2: at
 * check j, p_j, rz_{j-1} and pAp_j are still there.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solve/solve_private.h"

enum { V_RR, V_PAP, V_RZ, NV };

typedef struct cg {
    sj_solve_options_t o;
    sj_op_t A, M;
    sj_array_t b, x;
    int R;              /* ring length: lag + 2 */
    sj_array_t r, q, z; /* z is r without M */
    sj_array_t *p;      /* ring of directions, p_k in p[k % R] */
    sj_scalar_t *rz;    /* rz_k = r_k . z_k in rz[k % R] */
    sj_scalar_t *pap;   /* pAp_k in pap[k % R] */
    sj_scalar_t bb;
    sj__probe_t probe;
} cg_t;

static int cg_setup(cg_t *s)
{
    s->R = s->o.lag + 2;
    s->p = sj__calloc((size_t)s->R, sizeof *s->p);
    s->rz = sj__calloc((size_t)s->R, sizeof *s->rz);
    s->pap = sj__calloc((size_t)s->R, sizeof *s->pap);
    if (!s->p || !s->rz || !s->pap)
        return SJ_ENOMEM;
    SJ_TRY(sj__probe_create(s->R, NV, &s->probe));
    SJ_TRY(sj_array_copy(s->b, &s->r));
    SJ_TRY(sj_array_similar(s->b, &s->q));
    for (int k = 0; k < s->R; k++)
        SJ_TRY(sj_array_similar(s->b, &s->p[k]));
    SJ_TRY(sj_op_apply_ex(s->A, SJ_OP_FORWARD, -1.0, s->x, 1.0, s->r)); /* r = b - A x0 */
    if (s->M) {
        SJ_TRY(sj_array_similar(s->b, &s->z));
        SJ_TRY(sj_op_apply(s->M, s->r, s->z));
    } else {
        s->z = s->r;
    }
    SJ_TRY(sj_array_copyto(s->z, s->p[1 % s->R]));
    SJ_TRY(sj_array_reduce_scalar(SJ_REDUCE_DOT, s->b, s->b, &s->bb));
    SJ_TRY(sj_array_reduce_scalar(SJ_REDUCE_DOT, s->r, s->z, &s->rz[0]));
    if (!s->M)
        SJ_TRY(sj__probe_put(&s->probe, 0, V_RR, s->rz[0]));
    if (s->M) {
        sj_scalar_t rr = NULL;
        SJ_TRY(sj_array_reduce_scalar(SJ_REDUCE_DOT, s->r, s->r, &rr));
        int rc = sj__probe_put(&s->probe, 0, V_RR, rr);
        sj_scalar_destroy(&rr);
        SJ_TRY(rc);
        SJ_TRY(sj__probe_put(&s->probe, 0, V_RZ, s->rz[0]));
    }
    SJ_TRY(sj__probe_put(&s->probe, 0, V_PAP, s->bb)); /* iteration 0: ||b||^2 there */
    return SJ_OK;
}

/*
 * Submit iteration k; @p last: no next direction is needed. Slot k % R of the
 * rings held iteration k - R's scalars, which check k - R + 1 was the last to
 * read: it is done (iterations run at most lag ahead of the checks).
 */
static int cg_submit(cg_t *s, int k, int last)
{
    const int slot = k % s->R, prev = (k - 1) % s->R;
    sj_array_t pk = s->p[slot], pn = s->p[(k + 1) % s->R];
    sj_scalar_t rr = NULL;
    int rc;
    sj_scalar_destroy(&s->pap[slot]);
    sj_scalar_destroy(&s->rz[slot]);
    SJ_TRY_GOTO(rc, sj_op_apply(s->A, pk, s->q), out);
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, pk, s->q, &s->pap[slot]), out);
    /* r -= alpha_k q, and r . r */
    SJ_TRY_GOTO(rc,
                sj_array_axpy_dot_scalar(-1.0, s->rz[prev], s->pap[slot], s->q, s->r, s->r,
                                         s->M ? &rr : &s->rz[slot]),
                out);
    if (s->M) {
        SJ_TRY_GOTO(rc, sj_op_apply(s->M, s->r, s->z), out);
        SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, s->r, s->z, &s->rz[slot]), out);
        SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, slot, V_RZ, s->rz[slot]), out);
    }
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, slot, V_RR, rr ? rr : s->rz[slot]), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, slot, V_PAP, s->pap[slot]), out);
    if (!last) /* p_{k+1} = z + beta_k p_k */
        SJ_TRY_GOTO(rc, sj_array_axpy_dot_scalar(1.0, s->rz[slot], s->rz[prev], pk, s->z, pn, NULL),
                    out);
out:
    sj_scalar_destroy(&rr);
    return rc;
}

/* Check iteration j; sets *stop and fills res. */
static int cg_check(cg_t *s, int j, int submitted, double t0, double *tol, sj_solve_result_t *res,
                    int *stop)
{
    const int slot = j % s->R;
    double rr, pap, rz = 1.0;
    SJ_TRY(sj__probe_get(&s->probe, slot, V_RR, &rr));
    SJ_TRY(sj__probe_get(&s->probe, slot, V_PAP, &pap));
    if (s->M)
        SJ_TRY(sj__probe_get(&s->probe, slot, V_RZ, &rz));
    if (j == 0) {
        res->bnorm = sqrt(pap);
        *tol = fmax(s->o.rtol * res->bnorm, s->o.atol);
        pap = 1.0;
    }
    /* first: a curvature p'Ap <= 0 makes the next scalars inf or NaN */
    if (pap <= 0.0 || rz < 0.0 || (rz == 0.0 && rr > 0.0)) {
        res->reason = SJ_SOLVE_INDEFINITE;
        *stop = 1;
        return SJ_OK;
    }
    if (!isfinite(rr) || !isfinite(pap) || !isfinite(rz)) {
        res->reason = SJ_SOLVE_BREAKDOWN;
        *stop = 1;
        return SJ_OK;
    }
    if (j > 0) /* x = x_j */
        SJ_TRY(sj_array_axpy_dot_scalar(1.0, s->rz[(j - 1) % s->R], s->pap[slot], s->p[slot], s->x,
                                        s->x, NULL));
    res->iterations = j;
    res->rnorm = sqrt(rr);
    if (j == 0)
        res->rnorm0 = res->rnorm;
    sj__solve_monitor(s->o.monitor, s->o.monitor_ctx, "cg", j, submitted, res->rnorm, NAN, NAN, t0);
    if (res->rnorm <= *tol) {
        res->reason = res->rnorm <= s->o.atol ? SJ_SOLVE_ATOL : SJ_SOLVE_RTOL;
        *stop = 1;
    } else if (j >= s->o.max_iterations) {
        res->reason = SJ_SOLVE_MAX_ITERS;
        *stop = 1;
    }
    return SJ_OK;
}

static void cg_free(cg_t *s)
{
    if (s->z != s->r)
        sj_array_destroy(&s->z);
    s->z = NULL;
    sj_array_destroy(&s->r);
    sj_array_destroy(&s->q);
    if (s->p)
        sj__solve_free_arrays(s->R, s->p);
    if (s->rz)
        sj__solve_free_scalars(s->R, s->rz);
    if (s->pap)
        sj__solve_free_scalars(s->R, s->pap);
    free(s->p);
    free(s->rz);
    free(s->pap);
    sj_scalar_destroy(&s->bb);
    sj__probe_destroy(&s->probe);
}

static int cg_check_args(const char *func, sj_op_t A, sj_array_t b, sj_array_t x,
                         const sj_solve_options_t *o, int *same_dist)
{
    SJ_TRY(sj__solve_check_linear(func, "A", A));
    SJ_CHECK_FN(func, b != NULL, SJ_ENULL, "argument 'b' is NULL");
    SJ_CHECK_FN(func, x != NULL, SJ_ENULL, "argument 'x' is NULL");
    SJ_CHECK_FN(func, x != b, SJ_EINVAL, "x and b are the same array");
    SJ_CHECK_FN(func, o->damp == 0.0, SJ_EINVAL,
                "opts->damp is %g: CG solves A x = b without damping (use sj_solve_cgls or "
                "sj_solve_lsqr, or add the damping to A)",
                o->damp);
    sj_space_t dom, rng;
    SJ_TRY(sj__named(sj_op_domain(A, &dom, NULL), func));
    SJ_TRY(sj__named(sj_op_range(A, &rng, NULL), func));
    {
        int rc = sj__solve_match(func, "the domain of A", dom, "its range", rng);
        if (rc < 0) { /* the sentence again, with what it means for CG (a copy: the
                         last error's buffer is rewritten) */
            char why[512];
            const char *m = sj_last_error(), *colon = strstr(m, ": ");
            snprintf(why, sizeof why, "%s", colon ? colon + 2 : m);
            return sj__error(rc, func,
                             "A is not square: CG needs an operator whose domain and "
                             "range have the same block lengths (%s)",
                             why);
        }
    }
    SJ_TRY(sj__solve_check_array(func, "b", b, "the range of A", rng));
    SJ_TRY(sj__solve_check_same(func, "x", x, "b", b, same_dist));
    if (o->precond) {
        SJ_TRY(sj__solve_check_linear(func, "opts->precond", o->precond));
        sj_space_t pd, pr;
        SJ_TRY(sj__named(sj_op_domain(o->precond, &pd, NULL), func));
        SJ_TRY(sj__named(sj_op_range(o->precond, &pr, NULL), func));
        SJ_TRY(sj__solve_match(func, "the domain of opts->precond", pd, "the range of A", rng));
        SJ_TRY(sj__solve_match(func, "the range of opts->precond", pr, "the range of A", rng));
    }
    return SJ_OK;
}

int sj_solve_cg(sj_op_t A, sj_array_t b, sj_array_t x, const sj_solve_options_t *opts,
                sj_solve_result_t *result)
{
    const double t0 = sj__solve_clock();
    sj_solve_result_t res = {.reason = SJ_SOLVE_MAX_ITERS,
                             .rnorm = NAN,
                             .rnorm0 = NAN,
                             .arnorm = NAN,
                             .arnorm0 = NAN,
                             .objective = NAN};
    cg_t s = {0};
    SJ_TRY(sj__solve_options(__func__, opts, &s.o));
    int same_dist = 0, rc = SJ_OK;
    SJ_TRY(cg_check_args(__func__, A, b, x, &s.o, &same_dist));
    s.A = A;
    s.M = s.o.precond;
    s.b = b;
    s.x = x;
    if (!same_dist) { /* iterate in b's layout (a square block operator's range) */
        rc = sj__named(sj_array_similar(b, &s.x), __func__);
        if (rc >= 0)
            rc = sj__named(sj_array_redistribute(x, s.x, NULL), __func__);
    }
    if (rc >= 0)
        rc = sj__named(cg_setup(&s), __func__);
    double tol = 0.0;
    int k = 0, stop = 0;
    for (int j = 0; rc >= 0 && !stop; j++) {
        /* iterations up to j + lag are in the graph before iteration j is checked */
        while (rc >= 0 && k < s.o.max_iterations && k < j + s.o.lag) {
            k++;
            rc = sj__named(cg_submit(&s, k, k == s.o.max_iterations), __func__);
        }
        if (rc >= 0)
            rc = sj__named(cg_check(&s, j, k, t0, &tol, &res, &stop), __func__);
    }
    res.submitted = k;
    if (rc >= 0 && s.x != x)
        rc = sj__named(sj_array_redistribute(s.x, x, NULL), __func__);
    if (s.x != x)
        sj_array_destroy(&s.x);
    cg_free(&s);
    rc = sj__solve_finish(__func__, rc, t0, &res);
    if (result)
        *result = res;
    return rc;
}
