/*
 * Nonlinear least squares, min ||F(m) - d||^2 / 2 + reg^2 ||m||^2 / 2:
 * Gauss-Newton with an inner LSQR, and L-BFGS with a strong-Wolfe line
 * search (or, with bounds, projection and Armijo backtracking). Their line
 * searches branch on values, so each evaluation waits for its reductions
 * (blocking dots): one wait per evaluation, none inside the inner LSQR.
 */
#include <math.h>
#include <stdlib.h>

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
    sj_array_t d, m;
    sj_array_t r, rt; /* F(m) - d, and at the trial point */
    sj_array_t g, gt; /* gradients */
    sj_array_t mt, p; /* trial point, direction */
    sj_array_t pg;    /* projected gradient (bounds) */
    double f, misfit, gnorm;
    int evals;
    double t0;
} nl_t;

/* ---- evaluations ---------------------------------------------------------------- */

/* f and the misfit at x; r = F(x) - d. */
static int nl_value(nl_t *s, sj_array_t x, sj_array_t r, double *f, double *misfit)
{
    double rr = 0.0, xx = 0.0;
    SJ_TRY(sj_op_apply(s->F, x, r));
    SJ_TRY(sj_array_axpy(-1.0, s->d, r));
    SJ_TRY(sj_array_dot(r, r, &rr));
    if (s->o.reg > 0.0)
        SJ_TRY(sj_array_dot(x, x, &xx));
    *misfit = sqrt(rr);
    *f = 0.5 * rr + 0.5 * s->o.reg * s->o.reg * xx;
    s->evals++;
    return SJ_OK;
}

/* g = J(x)' r + reg^2 x, r = F(x) - d. */
static int nl_gradient(nl_t *s, sj_array_t x, sj_array_t r, sj_array_t g)
{
    sj_op_t J = NULL;
    SJ_TRY(sj_op_jacobian(s->F, x, &J));
    int rc = sj_op_apply_adjoint(J, r, g);
    sj_op_destroy(&J);
    SJ_TRY(rc);
    if (s->o.reg > 0.0)
        SJ_TRY(sj_array_axpy(s->o.reg * s->o.reg, x, g));
    return SJ_OK;
}

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

/* The norm of the (projected) gradient at m. */
static int nl_gnorm(nl_t *s, double *gnorm)
{
    if (!has_bounds(s))
        return sj_array_norm(SJ_NORM_2, s->g, gnorm);
    SJ_TRY(bounds_map(s, map_projgrad, 2, (sj_array_t[]){s->m, s->g}, s->pg));
    return sj_array_norm(SJ_NORM_2, s->pg, gnorm);
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
    SJ_TRY(nl_value(s, s->m, s->r, &s->f, &s->misfit));
    SJ_TRY(nl_gradient(s, s->m, s->r, s->g));
    return nl_gnorm(s, &s->gnorm);
}

static void nl_free(nl_t *s)
{
    sj_array_t a[] = {s->r, s->rt, s->g, s->gt, s->mt, s->p, s->pg};
    sj__solve_free_arrays(7, a);
}

static void swap(sj_array_t *a, sj_array_t *b)
{
    sj_array_t t = *a;
    *a = *b;
    *b = t;
}

/* m = mt (accepted), with its residual and gradient. */
static int nl_accept(nl_t *s, double ft, double misfit)
{
    SJ_TRY(sj_array_copyto(s->mt, s->m));
    swap(&s->r, &s->rt);
    swap(&s->g, &s->gt);
    s->f = ft;
    s->misfit = misfit;
    return nl_gnorm(s, &s->gnorm);
}

/* mt = clamp(m + t p) */
static int nl_trial(nl_t *s, double t)
{
    SJ_TRY(sj_array_copyto(s->m, s->mt));
    SJ_TRY(sj_array_axpy(t, s->p, s->mt));
    if (has_bounds(s))
        SJ_TRY(bounds_map(s, map_clamp, 0, NULL, s->mt));
    return SJ_OK;
}

/*
 * Armijo backtracking along m + t p (projected with bounds): f(mt) <= f + C1 g'(mt - m).
 * On success mt, rt and gt hold the new point, its residual and gradient.
 */
static int backtrack(nl_t *s, double gp, int *ok, double *ft, double *mf)
{
    double t = 1.0;
    *ok = 0;
    for (int e = 0; e < s->o.max_evaluations; e++, t *= 0.5) {
        SJ_TRY(nl_trial(s, t));
        SJ_TRY(nl_value(s, s->mt, s->rt, ft, mf));
        double dec = t * gp;
        if (has_bounds(s)) { /* g'(mt - m) along the projected path */
            double gm = 0.0, gmt = 0.0;
            SJ_TRY(sj_array_dot(s->g, s->m, &gm));
            SJ_TRY(sj_array_dot(s->g, s->mt, &gmt));
            dec = gmt - gm;
        }
        if (isfinite(*ft) && *ft <= s->f + C1 * dec) {
            *ok = 1;
            return nl_gradient(s, s->mt, s->rt, s->gt);
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
    sj_op_t J = NULL;
    sj_array_t b = NULL;
    int rc;
    sj_solve_options_t in;
    sj_solve_options_default(&in);
    in.max_iterations = s->o.inner_iterations;
    in.rtol = s->o.inner_rtol;
    in.damp = s->o.reg;
    SJ_TRY_GOTO(rc, sj_op_jacobian(s->F, s->m, &J), out);
    SJ_TRY_GOTO(rc, sj_array_copy(s->r, &b), out);
    SJ_TRY_GOTO(rc, sj_array_scale(-1.0, b), out); /* d - F(m) */
    if (s->o.reg > 0.0) {
        /* z = argmin ||J z - (d - F(m) + J m)||^2 + reg^2 ||z||^2, p = z - m */
        SJ_TRY_GOTO(rc, sj_op_apply_ex(J, SJ_OP_FORWARD, 1.0, s->m, 1.0, b), out);
        SJ_TRY_GOTO(rc, sj_array_fill(0.0, s->p), out);
        SJ_TRY_GOTO(rc, sj_solve_lsqr(J, b, s->p, &in, NULL), out);
        SJ_TRY_GOTO(rc, sj_array_axpy(-1.0, s->m, s->p), out);
    } else {
        SJ_TRY_GOTO(rc, sj_array_fill(0.0, s->p), out);
        SJ_TRY_GOTO(rc, sj_solve_lsqr(J, b, s->p, &in, NULL), out);
    }
    double gp = 0.0;
    SJ_TRY_GOTO(rc, sj_array_dot(s->g, s->p, &gp), out);
    if (!(gp < 0.0)) { /* not a descent direction (rank-deficient J): steepest descent */
        SJ_TRY_GOTO(rc, sj_array_copyto(s->g, s->p), out);
        SJ_TRY_GOTO(rc, sj_array_scale(-1.0, s->p), out);
        gp = -s->gnorm * s->gnorm;
    }
    double ft = 0.0, mf = 0.0;
    SJ_TRY_GOTO(rc, backtrack(s, gp, ok, &ft, &mf), out);
    if (*ok)
        SJ_TRY_GOTO(rc, nl_accept(s, ft, mf), out);
out:
    sj_op_destroy(&J);
    sj_array_destroy(&b);
    return rc;
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
    double rho[SJ__NL_MAX_MEMORY], a[SJ__NL_MAX_MEMORY];
    double gamma; /* s'y / y'y of the newest pair */
} lbfgs_t;

/* p = -H g by the two-loop recursion. */
static int two_loop(nl_t *s, lbfgs_t *L)
{
    const int M = s->o.memory;
    SJ_TRY(sj_array_copyto(s->g, s->p));
    for (int c = 0; c < L->n; c++) {
        const int i = (L->next - 1 - c + M) % M;
        double sq = 0.0;
        SJ_TRY(sj_array_dot(L->S[i], s->p, &sq));
        L->a[i] = L->rho[i] * sq;
        SJ_TRY(sj_array_axpy(-L->a[i], L->Y[i], s->p));
    }
    SJ_TRY(sj_array_scale(L->n ? -L->gamma : -1.0, s->p));
    for (int c = L->n - 1; c >= 0; c--) { /* oldest to newest, on -r */
        const int i = (L->next - 1 - c + M) % M;
        double yr = 0.0;
        SJ_TRY(sj_array_dot(L->Y[i], s->p, &yr));
        const double b = -L->rho[i] * yr; /* y'r with r = -p */
        SJ_TRY(sj_array_axpy(-(L->a[i] - b), L->S[i], s->p));
    }
    return SJ_OK;
}

/* phi(t) = f(m + t p) and phi'(t) = g(m + t p)' p into mt, rt, gt. */
static int phi(nl_t *s, double t, double *f, double *df, double *mf)
{
    SJ_TRY(nl_trial(s, t));
    SJ_TRY(nl_value(s, s->mt, s->rt, f, mf));
    SJ_TRY(nl_gradient(s, s->mt, s->rt, s->gt));
    return sj_array_dot(s->gt, s->p, df);
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

/* Strong Wolfe line search (Nocedal and Wright, algorithms 3.5 and 3.6). */
static int wolfe(nl_t *s, double t, double d0, int *ok, double *fout, double *mfout)
{
    const double f0 = s->f;
    double tp = 0.0, fp = f0, dp = d0, f = 0, df = 0, mf = 0;
    double lo = 0, hi = 0, flo = 0, dlo = 0, fhi = 0, dhi = 0;
    int zoom = 0;
    *ok = 0;
    for (int e = 0; e < s->o.max_evaluations; e++) {
        if (zoom)
            t = interpolate(lo, hi, flo, dlo, fhi);
        SJ_TRY(phi(s, t, &f, &df, &mf));
        const int armijo = isfinite(f) && f <= f0 + C1 * t * d0;
        if (!zoom) {
            if (!armijo || (e > 0 && f >= fp)) {
                zoom = 1, lo = tp, flo = fp, dlo = dp, hi = t, fhi = f, dhi = df;
                continue;
            }
            if (fabs(df) <= -C2 * d0)
                break;
            if (df >= 0.0) {
                zoom = 1, lo = t, flo = f, dlo = df, hi = tp, fhi = fp, dhi = dp;
                continue;
            }
            tp = t, fp = f, dp = df;
            t *= 2.0;
            continue;
        }
        if (!armijo || f >= flo) {
            hi = t, fhi = f, dhi = df;
        } else {
            if (fabs(df) <= -C2 * d0)
                break;
            if (df * (hi - lo) >= 0.0)
                hi = lo, fhi = flo, dhi = dlo;
            lo = t, flo = f, dlo = df;
        }
        (void)dhi;
        if (fabs(hi - lo) <= 1e-16 * fmax(1.0, fabs(lo)))
            break; /* the bracket collapsed */
    }
    /* out of evaluations or bracket: the last point still serves when it decreased enough */
    if (!(isfinite(f) && f <= f0 + C1 * t * d0))
        return SJ_OK;
    *ok = 1;
    *fout = f;
    *mfout = mf;
    return SJ_OK;
}

static int lbfgs_step(nl_t *s, void *state, int k, int *ok)
{
    lbfgs_t *L = state;
    SJ_TRY(two_loop(s, L));
    if (has_bounds(s))
        SJ_TRY(bounds_map(s, map_freeze, 1, (sj_array_t[]){s->m}, s->p));
    double gp = 0.0;
    SJ_TRY(sj_array_dot(s->g, s->p, &gp));
    if (!(gp < 0.0)) { /* not a descent direction: forget the pairs, steepest descent */
        L->n = 0;
        SJ_TRY(sj_array_copyto(s->g, s->p));
        SJ_TRY(sj_array_scale(-1.0, s->p));
        if (has_bounds(s))
            SJ_TRY(bounds_map(s, map_freeze, 1, (sj_array_t[]){s->m}, s->p));
        SJ_TRY(sj_array_dot(s->g, s->p, &gp));
        if (!(gp < 0.0)) {
            *ok = 0;
            return SJ_OK;
        }
    }
    double ft = 0.0, mf = 0.0;
    if (has_bounds(s)) {
        if (L->n == 0) { /* first step: length about 1 */
            double pn = 0.0;
            SJ_TRY(sj_array_norm(SJ_NORM_2, s->p, &pn));
            if (pn > 1.0) {
                SJ_TRY(sj_array_scale(1.0 / pn, s->p));
                gp /= pn;
            }
        }
        SJ_TRY(backtrack(s, gp, ok, &ft, &mf));
    } else {
        double t = 1.0;
        if (L->n == 0 && k == 1)
            t = fmin(1.0, 1.0 / s->gnorm);
        SJ_TRY(wolfe(s, t, gp, ok, &ft, &mf));
    }
    if (!*ok)
        return SJ_OK;
    /* the pair: s = mt - m, y = gt - g */
    const int M = s->o.memory, i = L->next;
    SJ_TRY(sj_array_copyto(s->mt, L->S[i]));
    SJ_TRY(sj_array_axpy(-1.0, s->m, L->S[i]));
    SJ_TRY(sj_array_copyto(s->gt, L->Y[i]));
    SJ_TRY(sj_array_axpy(-1.0, s->g, L->Y[i]));
    double sy = 0.0, yy = 0.0, ss = 0.0;
    SJ_TRY(sj_array_dot(L->S[i], L->Y[i], &sy));
    SJ_TRY(sj_array_dot(L->Y[i], L->Y[i], &yy));
    SJ_TRY(sj_array_dot(L->S[i], L->S[i], &ss));
    if (sy > 1e-10 * sqrt(ss * yy) && yy > 0.0) { /* keep only pairs of positive curvature */
        L->rho[i] = 1.0 / sy;
        L->gamma = sy / yy;
        L->next = (i + 1) % M;
        if (L->n < M)
            L->n++;
    }
    return nl_accept(s, ft, mf);
}

int sj_solve_lbfgs(sj_op_t F, sj_array_t d, sj_array_t m, const sj_solve_nl_options_t *opts,
                   sj_solve_result_t *result)
{
    nl_t s;
    sj_solve_result_t res;
    SJ_TRY(nl_start(__func__, "lbfgs", F, d, m, opts, &s, &res));
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
