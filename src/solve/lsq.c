/*
 * Least squares: CGLS and LSQR for min ||A x - b||^2 + damp^2 ||dx||^2, with
 * the iteration's scalars in the task graph and the lagged test of cg.c
 * (docs/solvers.md). Both solve for the correction dx to the starting x
 * (x += step * direction, submitted at the check of each iteration), with
 * the operator B = A, or B = A M and x += M y at the end with a right
 * preconditioner M.
 */
#include <math.h>
#include <stdlib.h>

#include "solve/solve_private.h"

/* Probe values: the damped residual^2, the normal-equation residual^2, and a
   value that must be positive and finite (||b||^2 at iteration 0). */
enum { V_RN2, V_ARN2, V_POS, NV };

typedef struct lsq {
    const char *name;
    sj_solve_options_t o;
    sj_op_t B;         /* A or A M */
    sj_array_t y;      /* what the steps go into: x, or y with M */
    int R;             /* ring length: lag + 2 */
    sj_array_t *dir;   /* directions: p_k (CGLS) or w_k (LSQR) in dir[k % R] */
    sj_scalar_t *step; /* y += sign_k step_k dir_k at check k */
    signed char *sign; /* sign_k, +1 or -1 */
    sj_scalar_t lam2;  /* damp^2 (NULL without damping) */
    sj__probe_t probe;
    /* CGLS */
    sj_array_t r, q, s, r2; /* r2 = -damp dy, the damping rows of the residual */
    sj_scalar_t gamma;
    /* LSQR */
    sj_array_t u, v;
    sj_scalar_t one, alpha, rb2, qq, pb2, res2;
} lsq_t;

static int lsq_ring(lsq_t *s, sj_array_t like_domain)
{
    s->step = sj__calloc((size_t)s->R, sizeof *s->step);
    s->sign = sj__calloc((size_t)s->R, sizeof *s->sign);
    if (!s->step || !s->sign)
        return SJ_ENOMEM;
    if (!s->dir) { /* a workspace's are made once */
        s->dir = sj__calloc((size_t)s->R, sizeof *s->dir);
        if (!s->dir)
            return SJ_ENOMEM;
        for (int k = 0; k < s->R; k++)
            SJ_TRY(sj_array_similar(like_domain, &s->dir[k]));
        SJ_TRY(sj__probe_create(s->R, NV, &s->probe));
    }
    if (s->o.damp > 0.0)
        SJ_TRY(sj_scalar_create(s->o.damp * s->o.damp, &s->lam2));
    return SJ_OK;
}

/* c = a op b into a fresh scalar, the old one destroyed. */
static int bin(sj_scalar_op_t op, sj_scalar_t a, sj_scalar_t b, sj_scalar_t *c)
{
    sj_scalar_t t = NULL;
    SJ_TRY(sj_scalar_binary(op, a, b, &t));
    sj_scalar_destroy(c);
    *c = t;
    return SJ_OK;
}

/* ---- CGLS ------------------------------------------------------------------ */

/*
 * Iteration k: q = B p_k; delta = q.q + damp^2 p_k.p_k; alpha = gamma / delta;
 * r -= alpha q; r2 -= damp alpha p_k; s = B' r + damp r2; gamma' = s.s;
 * p_{k+1} = s + (gamma' / gamma) p_k. ||(r, r2)|| is the damped residual and
 * ||s|| the normal-equation residual.
 */
static int cgls_setup(lsq_t *s, sj_op_t A, sj_array_t b, sj_array_t x)
{
    SJ_TRY(lsq_ring(s, s->y));
    SJ_TRY(sj_array_copy(b, &s->r));
    SJ_TRY(sj_array_similar(b, &s->q));
    SJ_TRY(sj_array_similar(s->y, &s->s));
    SJ_TRY(sj_op_apply_ex(A, SJ_OP_FORWARD, -1.0, x, 1.0, s->r)); /* r = b - A x0 */
    SJ_TRY(sj_op_apply_adjoint(s->B, s->r, s->s));
    if (s->lam2)
        SJ_TRY(sj_array_similar(s->y, &s->r2)); /* dy = 0: r2 = 0, s = B' r */
    SJ_TRY(sj_array_copyto(s->s, s->dir[1 % s->R]));
    SJ_TRY(sj_array_reduce_scalar(SJ_REDUCE_DOT, s->s, s->s, &s->gamma));
    sj_scalar_t rr = NULL, bb = NULL;
    int rc;
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, s->r, s->r, &rr), out);
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, b, b, &bb), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, 0, V_RN2, rr), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, 0, V_ARN2, s->gamma), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, 0, V_POS, bb), out);
out:
    sj_scalar_destroy(&rr);
    sj_scalar_destroy(&bb);
    return rc;
}

static int cgls_submit(lsq_t *s, int k, int last)
{
    const int slot = k % s->R;
    sj_array_t pk = s->dir[slot], pn = s->dir[(k + 1) % s->R];
    sj_scalar_t delta = NULL, pp = NULL, gam = NULL, rr = NULL, r2r2 = NULL;
    int rc;
    SJ_TRY_GOTO(rc, sj_op_apply(s->B, pk, s->q), out);
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, s->q, s->q, &delta), out);
    if (s->lam2) {
        SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, pk, pk, &pp), out);
        SJ_TRY_GOTO(rc, bin(SJ_SCALAR_MUL, pp, s->lam2, &pp), out);
        SJ_TRY_GOTO(rc, bin(SJ_SCALAR_ADD, delta, pp, &delta), out);
    }
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_DIV, s->gamma, delta, &s->step[slot]), out);
    s->sign[slot] = 1;
    /* r -= alpha q with r . r, r2 -= damp alpha p_k with r2 . r2: one task per block each */
    SJ_TRY_GOTO(rc, sj_array_axpy_dot_scalar(-1.0, s->step[slot], NULL, s->q, s->r, s->r, &rr),
                out);
    SJ_TRY_GOTO(rc, sj_op_apply_adjoint(s->B, s->r, s->s), out);
    if (s->lam2) {
        SJ_TRY_GOTO(
            rc, sj_array_axpy_dot_scalar(-s->o.damp, s->step[slot], NULL, pk, s->r2, s->r2, &r2r2),
            out);
        SJ_TRY_GOTO(rc, sj_array_axpy(s->o.damp, s->r2, s->s), out);
        SJ_TRY_GOTO(rc, bin(SJ_SCALAR_ADD, rr, r2r2, &rr), out);
    }
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, s->s, s->s, &gam), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, slot, V_RN2, rr), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, slot, V_ARN2, gam), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, slot, V_POS, delta), out);
    if (!last) /* p_{k+1} = s + (gamma' / gamma) p_k */
        SJ_TRY_GOTO(rc, sj_array_axpy_dot_scalar(1.0, gam, s->gamma, pk, s->s, pn, NULL), out);
    sj_scalar_destroy(&s->gamma);
    s->gamma = gam;
    gam = NULL;
out:
    sj_scalar_destroy(&delta);
    sj_scalar_destroy(&pp);
    sj_scalar_destroy(&gam);
    sj_scalar_destroy(&rr);
    sj_scalar_destroy(&r2r2);
    return rc;
}

/* ---- LSQR ------------------------------------------------------------------ */

/*
 * Golub-Kahan bidiagonalisation with normalised u and v, and Paige and
 * Saunders' rotations written with squares so that no square root is needed
 * outside the two norms (graph scalars have + - * / only). With
 * RB2 = rhobar^2, Q = |rhobar phibar| (rhobar phibar = (-1)^(k-1) Q) and
 * PB2 = phibar^2, iteration k is
 *     (damping: RB2 += damp^2, PB2 *= RB2_old / RB2, res2 += damp^2 PB2_old / RB2)
 *     rho2 = RB2 + beta^2
 *     x += (-1)^(k-1) (Q / rho2) w_k          (phi / rho)
 *     w_{k+1} = v - (alpha beta / rho2) w_k     (theta / rho)
 *     RB2 = RB2 alpha^2 / rho2,  Q = alpha beta Q / rho2,  PB2 = PB2 beta^2 / rho2
 * with beta = beta_{k+1} and alpha = alpha_{k+1}; ||r̄||^2 = PB2 + res2 and
 * ||A' r̄||^2 = PB2 RB2.
 */
static int lsqr_setup(lsq_t *s, sj_op_t A, sj_array_t b, sj_array_t x)
{
    SJ_TRY(lsq_ring(s, s->y));
    SJ_TRY(sj_scalar_create(1.0, &s->one));
    if (s->u)
        SJ_TRY(sj_array_copyto(b, s->u));
    else
        SJ_TRY(sj_array_copy(b, &s->u));
    if (!s->v)
        SJ_TRY(sj_array_similar(s->y, &s->v));
    SJ_TRY(sj_op_apply_ex(A, SJ_OP_FORWARD, -1.0, x, 1.0, s->u)); /* u = b - A x0 */
    sj_scalar_t beta = NULL, inv = NULL, bb = NULL, arn2 = NULL;
    int rc;
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_NORM2, s->u, NULL, &beta), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_DIV, s->one, beta, &inv), out);
    SJ_TRY_GOTO(rc, sj_array_scale_scalar(1.0, inv, s->u), out);
    SJ_TRY_GOTO(rc, sj_op_apply_adjoint(s->B, s->u, s->v), out);
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_NORM2, s->v, NULL, &s->alpha), out);
    SJ_TRY_GOTO(rc, bin(SJ_SCALAR_DIV, s->one, s->alpha, &inv), out);
    SJ_TRY_GOTO(rc, sj_array_scale_scalar(1.0, inv, s->v), out);
    SJ_TRY_GOTO(rc, sj_array_copyto(s->v, s->dir[1 % s->R]), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_MUL, s->alpha, s->alpha, &s->rb2), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_MUL, s->alpha, beta, &s->qq), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_MUL, beta, beta, &s->pb2), out);
    if (s->lam2)
        SJ_TRY_GOTO(rc, sj_scalar_create(0.0, &s->res2), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_MUL, s->pb2, s->rb2, &arn2), out);
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, b, b, &bb), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, 0, V_RN2, s->pb2), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, 0, V_ARN2, arn2), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, 0, V_POS, bb), out);
out:
    sj_scalar_destroy(&beta);
    sj_scalar_destroy(&inv);
    sj_scalar_destroy(&bb);
    sj_scalar_destroy(&arn2);
    return rc;
}

static int lsqr_submit(lsq_t *s, int k, int last)
{
    const int slot = k % s->R;
    sj_array_t wk = s->dir[slot], wn = s->dir[(k + 1) % s->R];
    sj_scalar_t beta = NULL, alpha = NULL, inv = NULL, t = NULL, b2 = NULL, a2 = NULL;
    sj_scalar_t rho2 = NULL, ab = NULL, rn2 = NULL, arn2 = NULL;
    int rc;
    /* u = (B v - alpha u) / beta */
    SJ_TRY_GOTO(rc, sj_array_scale_scalar(-1.0, s->alpha, s->u), out);
    SJ_TRY_GOTO(rc, sj_op_apply_ex(s->B, SJ_OP_FORWARD, 1.0, s->v, 1.0, s->u), out);
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_NORM2, s->u, NULL, &beta), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_DIV, s->one, beta, &inv), out);
    SJ_TRY_GOTO(rc, sj_array_scale_scalar(1.0, inv, s->u), out);
    /* v = (B' u - beta v) / alpha */
    SJ_TRY_GOTO(rc, sj_array_scale_scalar(-1.0, beta, s->v), out);
    SJ_TRY_GOTO(rc, sj_op_apply_ex(s->B, SJ_OP_ADJOINT, 1.0, s->u, 1.0, s->v), out);
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_NORM2, s->v, NULL, &alpha), out);
    SJ_TRY_GOTO(rc, bin(SJ_SCALAR_DIV, s->one, alpha, &inv), out);
    SJ_TRY_GOTO(rc, sj_array_scale_scalar(1.0, inv, s->v), out);
    if (s->lam2) { /* eliminate the damping row */
        sj_scalar_t rb1 = NULL;
        SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_ADD, s->rb2, s->lam2, &rb1), out);
        SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_MUL, s->lam2, s->pb2, &t), out);
        SJ_TRY_GOTO(rc, bin(SJ_SCALAR_DIV, t, rb1, &t), out); /* psi^2 */
        SJ_TRY_GOTO(rc, bin(SJ_SCALAR_ADD, s->res2, t, &s->res2), out);
        SJ_TRY_GOTO(rc, bin(SJ_SCALAR_MUL, s->pb2, s->rb2, &s->pb2), out);
        SJ_TRY_GOTO(rc, bin(SJ_SCALAR_DIV, s->pb2, rb1, &s->pb2), out);
        sj_scalar_destroy(&s->rb2);
        s->rb2 = rb1;
    }
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_MUL, beta, beta, &b2), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_MUL, alpha, alpha, &a2), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_ADD, s->rb2, b2, &rho2), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_DIV, s->qq, rho2, &s->step[slot]), out);
    s->sign[slot] = (k % 2) ? 1 : -1;
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_MUL, alpha, beta, &ab), out);
    if (!last) /* w_{k+1} = v - (alpha beta / rho2) w_k */
        SJ_TRY_GOTO(rc, sj_array_axpy_dot_scalar(-1.0, ab, rho2, wk, s->v, wn, NULL), out);
    SJ_TRY_GOTO(rc, bin(SJ_SCALAR_MUL, s->rb2, a2, &s->rb2), out);
    SJ_TRY_GOTO(rc, bin(SJ_SCALAR_DIV, s->rb2, rho2, &s->rb2), out);
    SJ_TRY_GOTO(rc, bin(SJ_SCALAR_MUL, ab, s->qq, &s->qq), out);
    SJ_TRY_GOTO(rc, bin(SJ_SCALAR_DIV, s->qq, rho2, &s->qq), out);
    SJ_TRY_GOTO(rc, bin(SJ_SCALAR_MUL, s->pb2, b2, &s->pb2), out);
    SJ_TRY_GOTO(rc, bin(SJ_SCALAR_DIV, s->pb2, rho2, &s->pb2), out);
    SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_MUL, s->pb2, s->rb2, &arn2), out);
    if (s->lam2)
        SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_ADD, s->pb2, s->res2, &rn2), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, slot, V_RN2, rn2 ? rn2 : s->pb2), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, slot, V_ARN2, arn2), out);
    SJ_TRY_GOTO(rc, sj__probe_put(&s->probe, slot, V_POS, rho2), out);
    sj_scalar_destroy(&s->alpha);
    s->alpha = alpha;
    alpha = NULL;
out:
    sj_scalar_destroy(&beta);
    sj_scalar_destroy(&alpha);
    sj_scalar_destroy(&inv);
    sj_scalar_destroy(&t);
    sj_scalar_destroy(&b2);
    sj_scalar_destroy(&a2);
    sj_scalar_destroy(&rho2);
    sj_scalar_destroy(&ab);
    sj_scalar_destroy(&rn2);
    sj_scalar_destroy(&arn2);
    return rc;
}

/* ---- the loop they share ------------------------------------------------------ */

typedef struct tols {
    double r, ar;
} tols_t;

static int lsq_check(lsq_t *s, int j, int submitted, double t0, tols_t *tol, sj_solve_result_t *res,
                     int *stop)
{
    const int slot = j % s->R;
    double rn2, arn2, pos;
    SJ_TRY(sj__probe_get(&s->probe, slot, V_RN2, &rn2));
    SJ_TRY(sj__probe_get(&s->probe, slot, V_ARN2, &arn2));
    SJ_TRY(sj__probe_get(&s->probe, slot, V_POS, &pos));
    if (j == 0) {
        res->bnorm = sqrt(pos);
        res->rnorm0 = sqrt(rn2);
        res->arnorm0 = sqrt(arn2);
        tol->r = fmax(s->o.rtol * res->bnorm, s->o.atol);
        tol->ar = fmax(s->o.rtol * res->arnorm0, s->o.atol);
        pos = 1.0;
    }
    /* A start that solves the problem exactly: A' r = 0 too (LSQR's scalars
     * divide by ||r|| = 0 and are NaN; the iterate is not touched) */
    const int exact = j == 0 && rn2 == 0.0;
    if (exact)
        arn2 = res->arnorm0 = 0.0;
    if (!isfinite(rn2) || !isfinite(arn2) || !isfinite(pos) || !(pos > 0.0)) {
        res->reason = SJ_SOLVE_BREAKDOWN;
        *stop = 1;
        return SJ_OK;
    }
    if (j > 0)
        SJ_TRY(sj_array_axpy_scalar(s->sign[slot], s->step[slot], s->dir[slot], s->y));
    sj_scalar_destroy(&s->step[slot]);
    res->iterations = j;
    res->rnorm = sqrt(rn2);
    res->arnorm = sqrt(arn2);
    sj__solve_monitor(s->o.monitor, s->o.monitor_ctx, s->name, j, submitted, res->rnorm,
                      res->arnorm, NAN, t0);
    if (res->rnorm <= tol->r || res->arnorm <= tol->ar) {
        res->reason =
            (res->rnorm <= s->o.atol || res->arnorm <= s->o.atol) ? SJ_SOLVE_ATOL : SJ_SOLVE_RTOL;
        *stop = 1;
    } else if (j >= s->o.max_iterations) {
        res->reason = SJ_SOLVE_MAX_ITERS;
        *stop = 1;
    }
    return SJ_OK;
}

/* What one call made: scalars and the step ring. */
static void lsq_free_call(lsq_t *s)
{
    if (s->step)
        sj__solve_free_scalars(s->R, s->step);
    free(s->step);
    free(s->sign);
    s->step = NULL;
    s->sign = NULL;
    sj_scalar_t scalars[] = {s->lam2, s->gamma, s->one, s->alpha, s->rb2, s->qq, s->pb2, s->res2};
    sj__solve_free_scalars(8, scalars);
    s->lam2 = s->gamma = s->one = s->alpha = s->rb2 = s->qq = s->pb2 = s->res2 = NULL;
}

/* The arrays (a workspace's outlive its calls). */
static void lsq_free_arrays(lsq_t *s)
{
    if (s->dir)
        sj__solve_free_arrays(s->R, s->dir);
    free(s->dir);
    s->dir = NULL;
    sj_array_t arrays[] = {s->r, s->q, s->s, s->r2, s->u, s->v};
    sj__solve_free_arrays(6, arrays);
    s->r = s->q = s->s = s->r2 = s->u = s->v = NULL;
    sj__probe_destroy(&s->probe);
}

static int lsq_check_args(const char *func, sj_op_t A, sj_array_t b, sj_array_t x,
                          const sj_solve_options_t *o)
{
    SJ_TRY(sj__solve_check_linear(func, "A", A));
    SJ_CHECK_FN(func, b != NULL, SJ_ENULL, "argument 'b' is NULL");
    SJ_CHECK_FN(func, x != NULL, SJ_ENULL, "argument 'x' is NULL");
    SJ_CHECK_FN(func, x != b, SJ_EINVAL, "x and b are the same array");
    sj_space_t dom, rng;
    SJ_TRY(sj__named(sj_op_domain(A, &dom, NULL), func));
    SJ_TRY(sj__named(sj_op_range(A, &rng, NULL), func));
    SJ_TRY(sj__solve_check_array(func, "b", b, "the range of A", rng));
    SJ_TRY(sj__solve_check_array(func, "x", x, "the domain of A", dom));
    if (o->precond) {
        SJ_TRY(sj__solve_check_linear(func, "opts->precond", o->precond));
        sj_space_t pd, pr;
        SJ_TRY(sj__named(sj_op_domain(o->precond, &pd, NULL), func));
        SJ_TRY(sj__named(sj_op_range(o->precond, &pr, NULL), func));
        SJ_TRY(sj__solve_match(func, "the domain of opts->precond", pd, "the domain of A", dom));
        SJ_TRY(sj__solve_match(func, "the range of opts->precond", pr, "the domain of A", dom));
    }
    return SJ_OK;
}

typedef int (*setup_fn)(lsq_t *s, sj_op_t A, sj_array_t b, sj_array_t x);
typedef int (*submit_fn)(lsq_t *s, int k, int last);

struct sj__lsqr_ws {
    lsq_t s;   /* its arrays */
    sj_op_t A; /* what they were made for */
    sj_array_t b, x;
};

static int lsq_run(const char *func, const char *name, setup_fn setup, submit_fn submit, sj_op_t A,
                   sj_array_t b, sj_array_t x, const sj_solve_options_t *opts,
                   sj_solve_result_t *result, sj__lsqr_ws_t **wsp)
{
    const double t0 = sj__solve_clock();
    sj_solve_result_t res = {.reason = SJ_SOLVE_MAX_ITERS,
                             .rnorm = NAN,
                             .arnorm = NAN,
                             .rnorm0 = NAN,
                             .arnorm0 = NAN,
                             .objective = NAN};
    lsq_t s = {.name = name};
    SJ_TRY(sj__solve_options(func, opts, &s.o));
    SJ_TRY(lsq_check_args(func, A, b, x, &s.o));
    s.R = s.o.lag + 2;
    sj__lsqr_ws_t *ws = NULL;
    if (wsp) { /* the arrays of the last call with the same A, b, x and lag */
        SJ_CHECK_FN(func, !s.o.precond, SJ_EINVAL, "a workspace takes no preconditioner");
        ws = *wsp;
        if (ws && (ws->A != A || ws->b != b || ws->x != x || ws->s.R != s.R)) {
            sj__lsqr_ws_free(wsp);
            ws = NULL;
        }
        if (!ws && !(ws = *wsp = sj__calloc(1, sizeof *ws)))
            return sj__error(SJ_ENOMEM, func, "cannot allocate a workspace");
        ws->A = A, ws->b = b, ws->x = x;
        s.dir = ws->s.dir, s.probe = ws->s.probe, s.u = ws->s.u, s.v = ws->s.v;
    }
    int rc = SJ_OK;
    if (s.o.precond) {
        rc = sj__named(sj_op_compose(A, s.o.precond, &s.B), func);
        if (rc >= 0)
            rc = sj__named(sj_array_similar(x, &s.y), func);
    } else {
        s.B = A;
        s.y = x;
    }
    if (rc >= 0)
        rc = sj__named(setup(&s, A, b, x), func);
    tols_t tol = {0.0, 0.0};
    int k = 0, stop = 0;
    for (int j = 0; rc >= 0 && !stop; j++) {
        while (rc >= 0 && k < s.o.max_iterations && k < j + s.o.lag) {
            k++;
            rc = sj__named(submit(&s, k, k == s.o.max_iterations), func);
        }
        if (rc >= 0)
            rc = sj__named(lsq_check(&s, j, k, t0, &tol, &res, &stop), func);
    }
    if (rc >= 0 && s.o.precond) /* x = x0 + M y */
        rc = sj__named(sj_op_apply_ex(s.o.precond, SJ_OP_FORWARD, 1.0, s.y, 1.0, x), func);
    res.submitted = k;
    lsq_free_call(&s);
    if (s.o.precond) {
        sj_array_destroy(&s.y);
        sj_op_destroy(&s.B);
    }
    if (ws) { /* kept for the next call; the caller's solve reports task failures */
        ws->s.dir = s.dir, ws->s.probe = s.probe, ws->s.u = s.u, ws->s.v = s.v, ws->s.R = s.R;
        if (rc < 0) /* perhaps half made */
            sj__lsqr_ws_free(wsp);
        res.elapsed = sj__solve_clock() - t0;
    } else {
        lsq_free_arrays(&s);
        rc = sj__solve_finish(func, rc, t0, &res);
    }
    if (result)
        *result = res;
    return rc;
}

int sj__solve_lsqr_ws(sj_op_t A, sj_array_t b, sj_array_t x, const sj_solve_options_t *opts,
                      sj_solve_result_t *result, sj__lsqr_ws_t **ws)
{
    return lsq_run("sj_solve_lsqr", "lsqr", lsqr_setup, lsqr_submit, A, b, x, opts, result, ws);
}

void sj__lsqr_ws_free(sj__lsqr_ws_t **ws)
{
    if (!*ws)
        return;
    lsq_free_arrays(&(*ws)->s);
    free(*ws);
    *ws = NULL;
}

int sj_solve_cgls(sj_op_t A, sj_array_t b, sj_array_t x, const sj_solve_options_t *opts,
                  sj_solve_result_t *result)
{
    return lsq_run(__func__, "cgls", cgls_setup, cgls_submit, A, b, x, opts, result, NULL);
}

int sj_solve_lsqr(sj_op_t A, sj_array_t b, sj_array_t x, const sj_solve_options_t *opts,
                  sj_solve_result_t *result)
{
    return lsq_run(__func__, "lsqr", lsqr_setup, lsqr_submit, A, b, x, opts, result, NULL);
}
