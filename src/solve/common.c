/*
 * What the solvers share: options, argument checks, the monitor, probes.
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include <starjets/runtime.h>

#include "array/array_private.h"
#include "solve/solve_private.h"

void sj_solve_options_default(sj_solve_options_t *opts)
{
    if (!opts)
        return;
    *opts = (sj_solve_options_t){
        .max_iterations = 1000,
        .rtol = 1e-8,
        .atol = 0.0,
        .damp = 0.0,
        .precond = NULL,
        .lag = 2,
        .monitor = NULL,
        .monitor_ctx = NULL,
    };
}

const char *sj_solve_reason_name(sj_solve_reason_t reason)
{
    switch (reason) {
    case SJ_SOLVE_RTOL:
        return "rtol";
    case SJ_SOLVE_ATOL:
        return "atol";
    case SJ_SOLVE_MAX_ITERS:
        return "max_iterations";
    case SJ_SOLVE_BREAKDOWN:
        return "breakdown";
    case SJ_SOLVE_INDEFINITE:
        return "indefinite";
    case SJ_SOLVE_LINE_SEARCH:
        return "line_search";
    }
    return "unknown";
}

int sj__solve_options(const char *func, const sj_solve_options_t *in, sj_solve_options_t *out)
{
    if (in)
        *out = *in;
    else
        sj_solve_options_default(out);
    SJ_CHECK_FN(func, out->max_iterations >= 0, SJ_EINVAL,
                "opts->max_iterations is %d, expected >= 0", out->max_iterations);
    SJ_CHECK_FN(func, out->rtol >= 0.0 && !isnan(out->rtol), SJ_EINVAL,
                "opts->rtol is %g, expected >= 0", out->rtol);
    SJ_CHECK_FN(func, out->atol >= 0.0 && !isnan(out->atol), SJ_EINVAL,
                "opts->atol is %g, expected >= 0", out->atol);
    SJ_CHECK_FN(func, out->damp >= 0.0 && isfinite(out->damp), SJ_EINVAL,
                "opts->damp is %g, expected a finite value >= 0", out->damp);
    SJ_CHECK_FN(func, out->lag >= 0 && out->lag <= SJ__SOLVE_MAX_LAG, SJ_EINVAL,
                "opts->lag is %d, expected 0 to %d", out->lag, SJ__SOLVE_MAX_LAG);
    return SJ_OK;
}

int sj__solve_check_linear(const char *func, const char *what, sj_op_t op)
{
    SJ_CHECK_FN(func, op != NULL, SJ_ENULL, "argument '%s' is NULL", what);
    int linear = 0;
    SJ_TRY(sj__named(sj_op_is_linear(op, &linear), func));
    if (!linear) {
        char d[160] = "";
        sj_op_describe(op, d, sizeof d);
        return sj__error(SJ_EINVAL, func,
                         "%s is nonlinear (%s): solve with its Jacobian (sj_op_jacobian) or "
                         "a nonlinear solver",
                         what, d);
    }
    return SJ_OK;
}

static int describe_mismatch(const char *func, const char *aname, sj_space_t a, const char *bname,
                             sj_space_t b, const char *why)
{
    char da[128] = "", db[128] = "";
    sj_space_describe(a, da, sizeof da);
    sj_space_describe(b, db, sizeof db);
    return sj__error(SJ_EMISMATCH, func, "%s and %s do not match (%s): %s: %s; %s: %s", aname,
                     bname, why, aname, da, bname, db);
}

int sj__solve_match(const char *func, const char *aname, sj_space_t a, const char *bname,
                    sj_space_t b)
{
    sj_dtype_t ta, tb;
    int nda, ndb, na = 0, nb = 0;
    int64_t dims[SJ_MAX_DIMS];
    int grid[SJ_MAX_DIMS];
    SJ_TRY(sj__named(sj_space_shape(a, &ta, &nda, dims), func));
    SJ_TRY(sj__named(sj_space_shape(b, &tb, &ndb, dims), func));
    if (ta != tb)
        return describe_mismatch(func, aname, a, bname, b, "element types differ");
    SJ_TRY(sj__named(sj_space_blocks(a, grid, &na), func));
    SJ_TRY(sj__named(sj_space_blocks(b, grid, &nb), func));
    if (na != nb)
        return describe_mismatch(func, aname, a, bname, b, "numbers of blocks differ");
    for (int k = 0; k < na; k++) {
        int64_t ea = 0, eb = 0;
        SJ_TRY(sj__named(sj_space_block_dims(a, k, dims, &ea), func));
        SJ_TRY(sj__named(sj_space_block_dims(b, k, dims, &eb), func));
        if (ea != eb)
            return describe_mismatch(func, aname, a, bname, b, "block lengths differ");
    }
    return SJ_OK;
}

int sj__solve_check_array(const char *func, const char *what, sj_array_t x, const char *sname,
                          sj_space_t space)
{
    SJ_CHECK_FN(func, x != NULL, SJ_ENULL, "argument '%s' is NULL", what);
    sj_space_t sx = NULL;
    SJ_TRY(sj__named(sj_array_space(x, &sx), func));
    return sj__solve_match(func, what, sx, sname, space);
}

int sj__solve_check_same(const char *func, const char *xn, sj_array_t x, const char *yn,
                         sj_array_t y, int *same_dist)
{
    sj_space_t sx, sy;
    sj_dist_t dx, dy;
    int eq = 0;
    SJ_TRY(sj__named(sj_array_space(x, &sx), func));
    SJ_TRY(sj__named(sj_array_space(y, &sy), func));
    SJ_TRY(sj__named(sj_space_equal(sx, sy, &eq), func));
    if (!eq)
        return describe_mismatch(func, xn, sx, yn, sy, "they need the same space");
    SJ_TRY(sj__named(sj_array_dist(x, &dx), func));
    SJ_TRY(sj__named(sj_array_dist(y, &dy), func));
    SJ_TRY(sj__named(sj_dist_equal(dx, dy, &eq), func));
    *same_dist = eq;
    return SJ_OK;
}

double sj__solve_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sj__solve_monitor(sj_solve_monitor_fn_t fn, void *ctx, const char *solver, int iteration,
                       int submitted, double rnorm, double arnorm, double objective, double t0)
{
    if (!fn || sj_rank() != 0)
        return;
    sj_solve_monitor_info_t info = {
        .solver = solver,
        .iteration = iteration,
        .submitted = submitted,
        .rnorm = rnorm,
        .arnorm = arnorm,
        .objective = objective,
        .elapsed = sj__solve_clock() - t0,
    };
    fn(&info, ctx);
}

/* ---- probes ------------------------------------------------------------- */

int sj__probe_create(int nslots, int nvals, sj__probe_t *p)
{
    *p = (sj__probe_t){.nslots = nslots, .nvals = nvals};
    p->val = sj__calloc((size_t)nslots * (size_t)nvals, sizeof *p->val);
    if (!p->val)
        return SJ_ENOMEM;
    const int rc = sj_scalar_create(1.0, &p->one);
    if (rc < 0)
        sj__probe_destroy(p);
    return rc;
}

int sj__probe_put(sj__probe_t *p, int slot, int v, sj_scalar_t s)
{
    sj_scalar_t *at = &p->val[slot * p->nvals + v];
    sj_scalar_destroy(at);                                 /* a value of this slot nobody read */
    return sj_scalar_binary(SJ_SCALAR_MUL, s, p->one, at); /* s * 1: the scalar's bits */
}

int sj__probe_get(sj__probe_t *p, int slot, int v, double *value)
{
    return sj__solve_peek(&p->val[slot * p->nvals + v], value);
}

void sj__probe_destroy(sj__probe_t *p)
{
    if (p->val)
        sj__solve_free_scalars(p->nslots * p->nvals, p->val);
    free(p->val);
    p->val = NULL;
    sj_scalar_destroy(&p->one);
}

int sj__solve_peek(sj_scalar_t *s, double *value)
{
    *value = 0.0;
    if (!*s)
        return SJ_OK;
    const double *p = sj__rt_data_acquire((*s)->handle, SJ__R);
    if (p) {
        *value = *p;
        sj__rt_data_release((*s)->handle);
    }
    sj__scalar_free(*s); /* the solver's own: not a collective call of the program's */
    *s = NULL;
    return p ? SJ_OK : sj__error(SJ_ERUNTIME, "starjets", "cannot read a graph scalar");
}

void sj__solve_free_arrays(int n, sj_array_t *a)
{
    for (int k = 0; k < n; k++)
        sj_array_destroy(&a[k]);
}

void sj__solve_free_scalars(int n, sj_scalar_t *s)
{
    for (int k = 0; k < n; k++)
        sj_scalar_destroy(&s[k]);
}

int sj__solve_finish(const char *func, int rc, double t0, sj_solve_result_t *res)
{
    /* Task failures of the solve reach every rank here; after an error
       already returned, the ranks are out of step and nothing more is asked. */
    if (rc >= 0)
        rc = sj__named(sj_wait(), func);
    res->elapsed = sj__solve_clock() - t0;
    return rc < 0 ? rc : SJ_OK;
}
