/*
 * Nonlinear least squares, min ||F(m) - d||^2 / 2 + reg^2 ||m||^2 / 2:
 * Gauss-Newton with an inner LSQR, and L-BFGS with a strong-Wolfe line
 * search (or, with bounds, projection and Armijo backtracking).
 *
 * A line search branches on values, so each trial point waits once: the
 * trial's whole evaluation (F, the misfit, the Jacobian moved to the point,
 * the gradient, its norm, the slope along the direction and, for L-BFGS, the
 * pair s, y with s'y, y'y, s's) is submitted as one pass whose values are
 * graph scalars, and the rank reads its own copies of them (sj__solve_peek:
 * no message, no collective). The direction's slope g'p rides along with the
 * first trial's values, and L-BFGS's two-loop recursion runs in the graph
 * (its dots are graph scalars too). One Jacobian is made per solve and moved
 * from point to point (sj__op_jacobian_move): no operator, handle or
 * temporary is created per evaluation.
 */
#include <math.h>
#include <stdlib.h>

#include "op/op_private.h"
#include "solve/solve_private.h"

#define C1 1e-4 /* sufficient decrease */
#define C2 0.9  /* curvature (L-BFGS) */
#define SJ__NL_MAX_MEMORY 64

void sj_solve_nl_options_default(sj_solve_nl_options_t *opts)
{
    if (!opts)
        return;
    *opts = (sj_solve_nl_options_t){
        .max_iterations = 20,
        .gtol = 1e-6,
        .gatol = 0.0,
        .reg = 0.0,
        .inner_iterations = 20,
        .inner_rtol = 1e-3,
        .memory = 5,
        .max_evaluations = 20,
    };
}

typedef struct nl {
    const char *name;
    sj_solve_nl_options_t o;
    sj_op_t F;
    sj_op_t J; /* F's Jacobian, moved to each evaluated point */
    int J_at_m;
    sj_array_t d, m;
    sj_array_t r, rt;  /* F(m) - d, and at the trial point */
    sj_array_t g, gt;  /* gradients */
    sj_array_t mt, p;  /* trial point, direction */
    sj_array_t pg;     /* projected gradient (bounds) */
    sj_array_t b;      /* Gauss-Newton: the inner LSQR's right-hand side */
    sj__lsqr_ws_t *ws; /* and its work arrays */
    double f, misfit, gnorm;
    int evals;
    double t0;
} nl_t;

/* ---- bounds: per-block maps ---------------------------------------------------------- */

typedef struct bounds_ctx {
    int has_lo, has_hi;
} bounds_ctx_t;

static double get(const sj_block_info_t *b, const void *p, int64_t i)
{
    return b->dtype == SJ_FLOAT32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static void set(const sj_block_info_t *b, void *p, int64_t i, double v)
{
    if (b->dtype == SJ_FLOAT32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

static double clamp(double v, const sj_block_info_t *b, const void *const *in, int k,
                    const bounds_ctx_t *c, int64_t i)
{
    if (c->has_lo && v < get(b, in[k], i))
        v = get(b, in[k], i);
    if (c->has_hi && v > get(b, in[k + c->has_lo], i))
        v = get(b, in[k + c->has_lo], i);
    return v;
}

/* out = clamp(out); in = [lower], [upper] */
static int map_clamp(const sj_block_info_t *b, void *out, const void *const *in, void *ctx)
{
    for (int64_t i = 0; i < b->nelems; i++)
        set(b, out, i, clamp(get(b, out, i), b, in, 0, ctx, i));
    return 0;
}

/* out = clamp(m - g) - m; in = m, g, [lower], [upper] */
static int map_projgrad(const sj_block_info_t *b, void *out, const void *const *in, void *ctx)
{
    for (int64_t i = 0; i < b->nelems; i++) {
        const double m = get(b, in[0], i);
        set(b, out, i, clamp(m - get(b, in[1], i), b, in, 2, ctx, i) - m);
    }
    return 0;
}

/* out (a direction) = 0 where m sits on a bound and out points outside; in = m, [lower], [upper] */
static int map_freeze(const sj_block_info_t *b, void *out, const void *const *in, void *ctx)
{
    const bounds_ctx_t *c = ctx;
    for (int64_t i = 0; i < b->nelems; i++) {
        const double m = get(b, in[0], i), p = get(b, out, i);
        if ((c->has_lo && p < 0.0 && m <= get(b, in[1], i)) ||
            (c->has_hi && p > 0.0 && m >= get(b, in[1 + c->has_lo], i)))
            set(b, out, i, 0.0);
    }
    return 0;
}

static int has_bounds(const nl_t *s)
{
    return s->o.lower || s->o.upper;
}

/* Run @p fn with in = first[0..nfirst), then the bounds present. */
static int bounds_map(nl_t *s, sj_block_fn_t fn, int nfirst, const sj_array_t *first,
                      sj_array_t out)
{
    sj_array_t in[4];
    int n = 0;
    for (int k = 0; k < nfirst; k++)
        in[n++] = first[k];
    if (s->o.lower)
        in[n++] = s->o.lower;
    if (s->o.upper)
        in[n++] = s->o.upper;
    bounds_ctx_t c = {s->o.lower != NULL, s->o.upper != NULL};
    return sj_array_map(n, in, out, fn, &c, sizeof c);
}

/* ---- one evaluation: submitted as one pass, read at one wait ------------------------- */

/* The graph scalars of an evaluation (NULL when not asked for). */
enum {
    V_RR,  /* r'r */
    V_XX,  /* x'x (reg > 0) */
    V_GG,  /* ||g||, projected with bounds */
    V_DF,  /* g'p at the trial point */
    V_GP,  /* g'p at m: the direction's slope, read with the first trial */
    V_GM,  /* g'm and g'mt at m's gradient: the decrease along the projected path */
    V_GMT, /*   (bounds) */
    V_SY,  /* L-BFGS pair s = mt - m, y = gt - g */
    V_YY,
    V_SS,
    NV
};

/* The values an evaluation read. */
typedef struct ev {
    double f, misfit, gnorm, v[NV];
} ev_t;

/* r = F(x) - d, g = J(x)' r + reg^2 x with J moved to x, and their scalars into v. */
static int eval_submit(nl_t *s, sj_array_t x, sj_array_t r, sj_array_t g, sj_scalar_t *v)
{
    SJ_TRY(sj_op_apply(s->F, x, r));
    SJ_TRY(sj_array_axpy(-1.0, s->d, r));
    SJ_TRY(sj_array_reduce_scalar(SJ_REDUCE_DOT, r, r, &v[V_RR]));
    if (s->o.reg > 0.0)
        SJ_TRY(sj_array_reduce_scalar(SJ_REDUCE_DOT, x, x, &v[V_XX]));
    if (s->J)
        SJ_TRY(sj__op_jacobian_move(s->J, s->F, x));
    else
        SJ_TRY(sj_op_jacobian(s->F, x, &s->J));
    s->J_at_m = x == s->m;
    SJ_TRY(sj_op_apply_adjoint(s->J, r, g));
    if (s->o.reg > 0.0)
        SJ_TRY(sj_array_axpy(s->o.reg * s->o.reg, x, g));
    if (!has_bounds(s))
        return sj_array_reduce_scalar(SJ_REDUCE_NORM2, g, NULL, &v[V_GG]);
    SJ_TRY(bounds_map(s, map_projgrad, 2, (sj_array_t[]){x, g}, s->pg));
    return sj_array_reduce_scalar(SJ_REDUCE_NORM2, s->pg, NULL, &v[V_GG]);
}

/* The wait: this rank's copies of the scalars (then destroyed), f and the misfit. */
static int eval_read(nl_t *s, sj_scalar_t *v, ev_t *e)
{
    for (int k = 0; k < NV; k++)
        SJ_TRY(sj__solve_peek(&v[k], &e->v[k]));
    e->misfit = sqrt(e->v[V_RR]);
    e->f = 0.5 * e->v[V_RR] + 0.5 * s->o.reg * s->o.reg * e->v[V_XX];
    e->gnorm = e->v[V_GG];
    s->evals++;
    return SJ_OK;
}

/* mt = clamp(m + t p) */
static int nl_trial_point(nl_t *s, double t)
{
    SJ_TRY(sj_array_copyto(s->m, s->mt));
    SJ_TRY(sj_array_axpy(t, s->p, s->mt));
    if (has_bounds(s))
        SJ_TRY(bounds_map(s, map_clamp, 0, NULL, s->mt));
    return SJ_OK;
}

/* A pair (s, y) to form at each trial (L-BFGS), or none. */
typedef struct pair {
    sj_array_t S, Y;
} pair_t;

/*
 * One trial at m + t p: its value, gradient and every scalar a decision may
 * need, at one wait. *gp (when not NULL) is the direction's slope, read here
 * with the trial's values and destroyed.
 */
static int nl_trial(nl_t *s, double t, const pair_t *pr, sj_scalar_t *gp, ev_t *e)
{
    sj_scalar_t v[NV] = {0};
    int rc;
    if (gp) {
        v[V_GP] = *gp;
        *gp = NULL;
    }
    SJ_TRY_GOTO(rc, nl_trial_point(s, t), out);
    SJ_TRY_GOTO(rc, eval_submit(s, s->mt, s->rt, s->gt, v), out);
    SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, s->gt, s->p, &v[V_DF]), out);
    if (has_bounds(s)) { /* g'(mt - m) along the projected path */
        SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, s->g, s->m, &v[V_GM]), out);
        SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, s->g, s->mt, &v[V_GMT]), out);
    }
    if (pr) {
        SJ_TRY_GOTO(rc, sj_array_copyto(s->mt, pr->S), out);
        SJ_TRY_GOTO(rc, sj_array_axpy(-1.0, s->m, pr->S), out);
        SJ_TRY_GOTO(rc, sj_array_copyto(s->gt, pr->Y), out);
        SJ_TRY_GOTO(rc, sj_array_axpy(-1.0, s->g, pr->Y), out);
        SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, pr->S, pr->Y, &v[V_SY]), out);
        SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, pr->Y, pr->Y, &v[V_YY]), out);
        SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, pr->S, pr->S, &v[V_SS]), out);
    }
    SJ_TRY_GOTO(rc, eval_read(s, v, e), out);
out:
    sj__solve_free_scalars(NV, v);
    return rc;
}

/* ---- setup, checks and the outer loop they share ------------------------------------- */

static int nl_check_args(const char *func, sj_op_t F, sj_array_t d, sj_array_t m,
                         const sj_solve_nl_options_t *o)
{
    SJ_CHECK_FN(func, F != NULL, SJ_ENULL, "argument 'F' is NULL");
    SJ_CHECK_FN(func, d != NULL, SJ_ENULL, "argument 'd' is NULL");
    SJ_CHECK_FN(func, m != NULL, SJ_ENULL, "argument 'm' is NULL");
    SJ_CHECK_FN(func, m != d, SJ_EINVAL, "m and d are the same array");
    SJ_CHECK_FN(func, o->max_iterations >= 0, SJ_EINVAL,
                "opts->max_iterations is %d, expected >= 0", o->max_iterations);
    SJ_CHECK_FN(func, o->gtol >= 0.0 && !isnan(o->gtol), SJ_EINVAL,
                "opts->gtol is %g, expected >= 0", o->gtol);
    SJ_CHECK_FN(func, o->gatol >= 0.0 && !isnan(o->gatol), SJ_EINVAL,
                "opts->gatol is %g, expected >= 0", o->gatol);
    SJ_CHECK_FN(func, o->reg >= 0.0 && isfinite(o->reg), SJ_EINVAL,
                "opts->reg is %g, expected a finite value >= 0", o->reg);
    SJ_CHECK_FN(func, o->inner_iterations >= 1, SJ_EINVAL,
                "opts->inner_iterations is %d, expected >= 1", o->inner_iterations);
    SJ_CHECK_FN(func, o->inner_rtol >= 0.0 && !isnan(o->inner_rtol), SJ_EINVAL,
                "opts->inner_rtol is %g, expected >= 0", o->inner_rtol);
    SJ_CHECK_FN(func, o->memory >= 1 && o->memory <= SJ__NL_MAX_MEMORY, SJ_EINVAL,
                "opts->memory is %d, expected 1 to %d", o->memory, SJ__NL_MAX_MEMORY);
    SJ_CHECK_FN(func, o->max_evaluations >= 1, SJ_EINVAL,
                "opts->max_evaluations is %d, expected >= 1", o->max_evaluations);
    sj_space_t dom, rng;
    SJ_TRY(sj__named(sj_op_domain(F, &dom, NULL), func));
    SJ_TRY(sj__named(sj_op_range(F, &rng, NULL), func));
    SJ_TRY(sj__solve_check_array(func, "d", d, "the range of F", rng));
    SJ_TRY(sj__solve_check_array(func, "m", m, "the domain of F", dom));
    int same;
    if (o->lower) {
        SJ_TRY(sj__solve_check_same(func, "opts->lower", o->lower, "m", m, &same));
        SJ_CHECK_FN(func, same, SJ_EMISMATCH, "opts->lower and m have different layouts");
    }
    if (o->upper) {
        SJ_TRY(sj__solve_check_same(func, "opts->upper", o->upper, "m", m, &same));
        SJ_CHECK_FN(func, same, SJ_EMISMATCH, "opts->upper and m have different layouts");
    }
    return SJ_OK;
}

static int nl_setup(nl_t *s)
{
    SJ_TRY(sj_array_similar(s->d, &s->r));
    SJ_TRY(sj_array_similar(s->d, &s->rt));
    SJ_TRY(sj_array_similar(s->m, &s->g));
    SJ_TRY(sj_array_similar(s->m, &s->gt));
    SJ_TRY(sj_array_similar(s->m, &s->mt));
    SJ_TRY(sj_array_similar(s->m, &s->p));
    if (has_bounds(s))
        SJ_TRY(sj_array_similar(s->m, &s->pg));
    sj_scalar_t v[NV] = {0};
    ev_t e;
    int rc;
    SJ_TRY_GOTO(rc, eval_submit(s, s->m, s->r, s->g, v), out);
    SJ_TRY_GOTO(rc, eval_read(s, v, &e), out);
    s->f = e.f;
    s->misfit = e.misfit;
    s->gnorm = e.gnorm;
out:
    sj__solve_free_scalars(NV, v);
    return rc;
}

static void nl_free(nl_t *s)
{
    sj_array_t a[] = {s->r, s->rt, s->g, s->gt, s->mt, s->p, s->pg, s->b};
    sj__solve_free_arrays(8, a);
    sj__lsqr_ws_free(&s->ws);
    sj_op_destroy(&s->J);
}

static void swap(sj_array_t *a, sj_array_t *b)
{
    sj_array_t t = *a;
    *a = *b;
    *b = t;
}

/* m = mt (accepted), with its residual, gradient and values. */
static int nl_accept(nl_t *s, const ev_t *e)
{
    SJ_TRY(sj_array_copyto(s->mt, s->m));
    swap(&s->r, &s->rt);
    swap(&s->g, &s->gt);
    s->f = e->f;
    s->misfit = e->misfit;
    s->gnorm = e->gnorm;
    s->J_at_m = 1; /* the accepted point is the last one evaluated */
    return SJ_OK;
}

/* Did trial @p e decrease f enough for step t along slope gp (Armijo)? */
static int armijo(const nl_t *s, double t, double gp, const ev_t *e)
{
    const double dec = has_bounds(s) ? e->v[V_GMT] - e->v[V_GM] : t * gp;
    return isfinite(e->f) && e->f <= s->f + C1 * dec;
}

/*
 * Armijo backtracking along m + t p (projected with bounds): f(mt) <= f + C1 g'(mt - m).
 * The slope is *gp_s, read with the first trial, or @p gp when gp_s is NULL.
 * *descent: 0 when the slope read is not negative (nothing tried then). On
 * success mt, rt and gt hold the new point, its residual and gradient, e its values.
 */
static int backtrack(nl_t *s, sj_scalar_t *gp_s, double gp, const pair_t *pr, int *ok, int *descent,
                     ev_t *e)
{
    double t = 1.0;
    *ok = 0;
    *descent = 1;
    for (int k = 0; k < s->o.max_evaluations; k++, t *= 0.5) {
        SJ_TRY(nl_trial(s, t, pr, k == 0 ? gp_s : NULL, e));
        if (k == 0 && gp_s) {
            gp = e->v[V_GP];
            if (!(gp < 0.0)) {
                *descent = 0;
                return SJ_OK;
            }
        }
        if (armijo(s, t, gp, e)) {
            *ok = 1;
            return SJ_OK;
        }
    }
    return SJ_OK;
}

typedef int (*step_fn)(nl_t *s, void *state, int k, int *ok);

static int nl_run(const char *func, const char *name, step_fn step, void *state, nl_t *s,
                  sj_solve_result_t *res)
{
    int rc = sj__named(nl_setup(s), func);
    double tol = 0.0;
    for (int k = 0; rc >= 0; k++) {
        if (k == 0) {
            res->rnorm0 = s->misfit;
            res->arnorm0 = s->gnorm;
            tol = fmax(s->o.gtol * s->gnorm, s->o.gatol);
        }
        res->iterations = k;
        res->rnorm = s->misfit;
        res->arnorm = s->gnorm;
        res->objective = s->f;
        sj__solve_monitor(s->o.monitor, s->o.monitor_ctx, name, k, k, s->misfit, s->gnorm, s->f,
                          s->t0);
        if (!isfinite(s->f) || !isfinite(s->gnorm)) {
            res->reason = SJ_SOLVE_BREAKDOWN;
            break;
        }
        if (s->gnorm <= tol) {
            res->reason = s->gnorm <= s->o.gatol ? SJ_SOLVE_ATOL : SJ_SOLVE_RTOL;
            break;
        }
        if (k >= s->o.max_iterations) {
            res->reason = SJ_SOLVE_MAX_ITERS;
            break;
        }
        int ok = 0;
        rc = sj__named(step(s, state, k + 1, &ok), func);
        if (rc >= 0 && !ok) {
            res->reason = SJ_SOLVE_LINE_SEARCH;
            break;
        }
    }
    res->submitted = res->iterations;
    res->evaluations = s->evals;
    nl_free(s);
    return sj__solve_finish(func, rc, s->t0, res);
}

static int nl_start(const char *func, const char *name, sj_op_t F, sj_array_t d, sj_array_t m,
                    const sj_solve_nl_options_t *opts, nl_t *s, sj_solve_result_t *res)
{
    *s = (nl_t){.name = name, .F = F, .d = d, .m = m, .t0 = sj__solve_clock()};
    *res = (sj_solve_result_t){.reason = SJ_SOLVE_MAX_ITERS,
                               .rnorm = NAN,
                               .arnorm = NAN,
                               .rnorm0 = NAN,
                               .arnorm0 = NAN,
                               .objective = NAN};
    if (opts)
        s->o = *opts;
    else
        sj_solve_nl_options_default(&s->o);
    SJ_TRY(nl_check_args(func, F, d, m, &s->o));
    return sj__named(sj_array_norm(SJ_NORM_2, d, &res->bnorm), func);
}

/* ---- Gauss-Newton ----------------------------------------------------------------- */

static int gn_step(nl_t *s, void *state, int k, int *ok)
{
    (void)state;
    (void)k;
    sj_solve_options_t in;
    sj_solve_options_default(&in);
    in.max_iterations = s->o.inner_iterations;
    in.rtol = s->o.inner_rtol;
    in.damp = s->o.reg;
    if (!s->J_at_m)
        SJ_TRY(sj__op_jacobian_move(s->J, s->F, s->m));
    if (!s->b)
        SJ_TRY(sj_array_similar(s->r, &s->b));
    SJ_TRY(sj_array_copyto(s->r, s->b));
    SJ_TRY(sj_array_scale(-1.0, s->b)); /* d - F(m) */
    SJ_TRY(sj_array_fill(0.0, s->p));
    if (s->o.reg > 0.0) {
        /* z = argmin ||J z - (d - F(m) + J m)||^2 + reg^2 ||z||^2, p = z - m */
        SJ_TRY(sj_op_apply_ex(s->J, SJ_OP_FORWARD, 1.0, s->m, 1.0, s->b));
        SJ_TRY(sj__solve_lsqr_ws(s->J, s->b, s->p, &in, NULL, &s->ws));
        SJ_TRY(sj_array_axpy(-1.0, s->m, s->p));
    } else {
        SJ_TRY(sj__solve_lsqr_ws(s->J, s->b, s->p, &in, NULL, &s->ws));
    }
    sj_scalar_t gp = NULL;
    SJ_TRY(sj_array_reduce_scalar(SJ_REDUCE_DOT, s->g, s->p, &gp));
    ev_t e;
    int descent = 1;
    int rc = backtrack(s, &gp, 0.0, NULL, ok, &descent, &e);
    sj_scalar_destroy(&gp);
    SJ_TRY(rc);
    if (!descent) { /* not a descent direction (rank-deficient J): steepest descent */
        SJ_TRY(sj_array_copyto(s->g, s->p));
        SJ_TRY(sj_array_scale(-1.0, s->p));
        SJ_TRY(backtrack(s, NULL, -s->gnorm * s->gnorm, NULL, ok, &descent, &e));
    }
    return *ok ? nl_accept(s, &e) : SJ_OK;
}

int sj_solve_gauss_newton(sj_op_t F, sj_array_t d, sj_array_t m, const sj_solve_nl_options_t *opts,
                          sj_solve_result_t *result)
{
    nl_t s;
    sj_solve_result_t res;
    SJ_TRY(nl_start(__func__, "gauss-newton", F, d, m, opts, &s, &res));
    SJ_CHECK(!s.o.lower && !s.o.upper, SJ_EINVAL,
             "opts->lower / opts->upper: Gauss-Newton takes no bounds (use sj_solve_lbfgs)");
    int rc = nl_run(__func__, "gauss-newton", gn_step, NULL, &s, &res);
    if (result)
        *result = res;
    return rc;
}

/* ---- L-BFGS ----------------------------------------------------------------------- */

typedef struct lbfgs {
    int n, next; /* pairs kept, slot of the next one */
    sj_array_t S[SJ__NL_MAX_MEMORY], Y[SJ__NL_MAX_MEMORY];
    double rho[SJ__NL_MAX_MEMORY];
    double gamma; /* s'y / y'y of the newest pair */
} lbfgs_t;

/*
 * p = -H g by the two-loop recursion, in the graph: the dots are graph
 * scalars that the updates read (a_i = rho_i s_i'q; then b_i = rho_i y_i'r
 * and r += (a_i - b_i) s_i, written with r = -p as p -= rho_i (s_i'q + y_i'p) s_i).
 */
static int two_loop(nl_t *s, lbfgs_t *L)
{
    const int M = s->o.memory;
    sj_scalar_t sq[SJ__NL_MAX_MEMORY] = {0}, sum = NULL, yr = NULL;
    int rc;
    SJ_TRY(sj_array_copyto(s->g, s->p));
    for (int c = 0; c < L->n; c++) {
        const int i = (L->next - 1 - c + M) % M;
        SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, L->S[i], s->p, &sq[i]), out);
        SJ_TRY_GOTO(rc, sj_array_axpy_scalar(-L->rho[i], sq[i], L->Y[i], s->p), out);
    }
    SJ_TRY_GOTO(rc, sj_array_scale(L->n ? -L->gamma : -1.0, s->p), out);
    for (int c = L->n - 1; c >= 0; c--) { /* oldest to newest, on -r */
        const int i = (L->next - 1 - c + M) % M;
        SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, L->Y[i], s->p, &yr), out);
        SJ_TRY_GOTO(rc, sj_scalar_binary(SJ_SCALAR_ADD, sq[i], yr, &sum), out);
        SJ_TRY_GOTO(rc, sj_array_axpy_scalar(-L->rho[i], sum, L->S[i], s->p), out);
        sj_scalar_destroy(&yr);
        sj_scalar_destroy(&sum);
    }
out:
    sj_scalar_destroy(&yr);
    sj_scalar_destroy(&sum);
    sj__solve_free_scalars(M, sq);
    return rc;
}

/* A trial step in (lo, hi) by quadratic interpolation, kept away from the ends. */
static double interpolate(double lo, double hi, double flo, double dlo, double fhi)
{
    const double w = hi - lo, den = 2.0 * (fhi - flo - dlo * w);
    double t = den != 0.0 ? lo - dlo * w * w / den : lo + 0.5 * w;
    const double a = fmin(lo, hi) + 0.1 * fabs(w), b = fmax(lo, hi) - 0.1 * fabs(w);
    if (!isfinite(t) || t < a || t > b)
        t = lo + 0.5 * w;
    return t;
}

/*
 * Strong Wolfe line search (Nocedal and Wright, algorithms 3.5 and 3.6). The
 * slope d0 = g'p is *gp_s, read with the first trial; *descent = 0 when it
 * is not negative (then nothing more is tried).
 */
static int wolfe(nl_t *s, double t, sj_scalar_t *gp_s, const pair_t *pr, int *ok, int *descent,
                 ev_t *e)
{
    const double f0 = s->f;
    double d0 = 0, tp = 0.0, fp = f0, dp = 0, f = 0, df = 0;
    double lo = 0, hi = 0, flo = 0, dlo = 0, fhi = 0;
    int zoom = 0;
    *ok = 0;
    *descent = 1;
    for (int k = 0; k < s->o.max_evaluations; k++) {
        if (zoom)
            t = interpolate(lo, hi, flo, dlo, fhi);
        SJ_TRY(nl_trial(s, t, pr, k == 0 ? gp_s : NULL, e));
        if (k == 0) {
            dp = d0 = e->v[V_GP];
            if (!(d0 < 0.0)) {
                *descent = 0;
                return SJ_OK;
            }
        }
        f = e->f;
        df = e->v[V_DF];
        const int armijo_ok = isfinite(f) && f <= f0 + C1 * t * d0;
        if (!zoom) {
            if (!armijo_ok || (k > 0 && f >= fp)) {
                zoom = 1, lo = tp, flo = fp, dlo = dp, hi = t, fhi = f;
                continue;
            }
            if (fabs(df) <= -C2 * d0)
                break;
            if (df >= 0.0) {
                zoom = 1, lo = t, flo = f, dlo = df, hi = tp, fhi = fp;
                continue;
            }
            tp = t, fp = f, dp = df;
            t *= 2.0;
            continue;
        }
        if (!armijo_ok || f >= flo) {
            hi = t, fhi = f;
        } else {
            if (fabs(df) <= -C2 * d0)
                break;
            if (df * (hi - lo) >= 0.0)
                hi = lo, fhi = flo;
            lo = t, flo = f, dlo = df;
        }
        if (fabs(hi - lo) <= 1e-16 * fmax(1.0, fabs(lo)))
            break; /* the bracket collapsed */
    }
    /* out of evaluations or bracket: the last point still serves when it decreased enough */
    *ok = isfinite(f) && f <= f0 + C1 * t * d0;
    return SJ_OK;
}

/* p = -g (zeroed where a bound is active and -g points out of the box) */
static int steepest(nl_t *s)
{
    SJ_TRY(sj_array_copyto(s->g, s->p));
    SJ_TRY(sj_array_scale(-1.0, s->p));
    if (has_bounds(s))
        SJ_TRY(bounds_map(s, map_freeze, 1, (sj_array_t[]){s->m}, s->p));
    return SJ_OK;
}

/* The line search of an L-BFGS step along p; *descent = 0 when p does not descend. */
static int lbfgs_search(nl_t *s, lbfgs_t *L, int k, const pair_t *pr, int *ok, int *descent,
                        ev_t *e)
{
    sj_scalar_t gp = NULL;
    int rc;
    SJ_TRY(sj_array_reduce_scalar(SJ_REDUCE_DOT, s->g, s->p, &gp));
    if (has_bounds(s)) {
        if (L->n == 0) { /* first step: length about 1 (one more wait, on such steps only) */
            sj_scalar_t pn_s = NULL;
            double pn = 0.0;
            SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_NORM2, s->p, NULL, &pn_s), out);
            SJ_TRY_GOTO(rc, sj__solve_peek(&pn_s, &pn), out);
            if (pn > 1.0) {
                sj_scalar_destroy(&gp);
                SJ_TRY_GOTO(rc, sj_array_scale(1.0 / pn, s->p), out);
                SJ_TRY_GOTO(rc, sj_array_reduce_scalar(SJ_REDUCE_DOT, s->g, s->p, &gp), out);
            }
        }
        rc = backtrack(s, &gp, 0.0, pr, ok, descent, e);
    } else {
        double t = 1.0;
        if (L->n == 0 && k == 1)
            t = fmin(1.0, 1.0 / s->gnorm);
        rc = wolfe(s, t, &gp, pr, ok, descent, e);
    }
out:
    sj_scalar_destroy(&gp);
    return rc;
}

static int lbfgs_step(nl_t *s, void *state, int k, int *ok)
{
    lbfgs_t *L = state;
    const int M = s->o.memory, i = L->next;
    const pair_t pr = {L->S[i], L->Y[i]}; /* formed at every trial, kept at the accepted one */
    ev_t e;
    int descent = 1;
    SJ_TRY(two_loop(s, L));
    if (has_bounds(s))
        SJ_TRY(bounds_map(s, map_freeze, 1, (sj_array_t[]){s->m}, s->p));
    SJ_TRY(lbfgs_search(s, L, k, &pr, ok, &descent, &e));
    if (!descent) { /* not a descent direction: forget the pairs, steepest descent */
        L->n = 0;
        SJ_TRY(steepest(s));
        SJ_TRY(lbfgs_search(s, L, k, &pr, ok, &descent, &e));
        if (!descent)
            *ok = 0;
    }
    /* The trials wrote their pair into slot i, which holds the oldest pair when
     * the memory is full: a pair not kept takes that one with it. */
    if (!*ok) {
        if (L->n == M)
            L->n--;
        return SJ_OK;
    }
    const double sy = e.v[V_SY], yy = e.v[V_YY], ss = e.v[V_SS];
    if (sy > 1e-10 * sqrt(ss * yy) && yy > 0.0) { /* keep only pairs of positive curvature */
        L->rho[i] = 1.0 / sy;
        L->gamma = sy / yy;
        L->next = (i + 1) % M;
        if (L->n < M)
            L->n++;
    } else if (L->n == M) {
        L->n--;
    }
    return nl_accept(s, &e);
}

/*
 * Bounds that leave no room (lower > upper somewhere, or a NaN in either) are
 * refused; a start outside the box is projected onto it, in place.
 */
static int box_start(const char *func, nl_t *s)
{
    if (!has_bounds(s))
        return SJ_OK;
    if (s->o.lower && s->o.upper) {
        sj_array_t room = NULL;
        double least = NAN;
        int rc = sj_array_copy(s->o.upper, &room);
        if (rc >= 0)
            rc = sj_array_axpy(-1.0, s->o.lower, room);
        if (rc >= 0)
            rc = sj_array_min(room, &least);
        sj_array_destroy(&room);
        SJ_TRY(sj__named(rc, func));
        SJ_CHECK_FN(func, least >= 0.0, SJ_EINVAL,
                    "opts->lower exceeds opts->upper (or a bound is NaN): min(upper - lower) = %g",
                    least);
    }
    return sj__named(bounds_map(s, map_clamp, 0, NULL, s->m), func);
}

int sj_solve_lbfgs(sj_op_t F, sj_array_t d, sj_array_t m, const sj_solve_nl_options_t *opts,
                   sj_solve_result_t *result)
{
    nl_t s;
    sj_solve_result_t res;
    SJ_TRY(nl_start(__func__, "lbfgs", F, d, m, opts, &s, &res));
    SJ_TRY(box_start(__func__, &s));
    lbfgs_t L = {0};
    int rc = SJ_OK;
    for (int i = 0; i < s.o.memory && rc >= 0; i++) {
        rc = sj__named(sj_array_similar(m, &L.S[i]), __func__);
        if (rc >= 0)
            rc = sj__named(sj_array_similar(m, &L.Y[i]), __func__);
    }
    if (rc >= 0)
        rc = nl_run(__func__, "lbfgs", lbfgs_step, &L, &s, &res);
    sj__solve_free_arrays(s.o.memory, L.S);
    sj__solve_free_arrays(s.o.memory, L.Y);
    if (result)
        *result = res;
    return rc;
}
