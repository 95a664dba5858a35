/*
 * The operator library (include/starjets/ops.h): constructors that check their
 * arguments, build the parameters and state of a leaf class of
 * src/op/library_classes.c and hand them to sj_op_create().
 *
 * State arguments are read on the owner only, so checks of their contents run
 * there and sj__rt_agree() gives every rank the owner's verdict: all ranks
 * return the same error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op/library_classes.h"
#include "op/op_private.h"

/* Shape of a space, padded with 1s to SJ_MAX_DIMS dimensions. */
typedef struct shape {
    sj_dtype_t dtype;
    int ndims;
    int64_t dims[SJ_MAX_DIMS];
    int64_t n;
} shape_t;

static void describe(sj_space_t s, char *buf, size_t size)
{
    if (sj_space_describe(s, buf, size) < 0)
        snprintf(buf, size, "?");
}

/* A space argument of a leaf: non-NULL and of one block. */
static int check_space(const char *func, const char *name, sj_space_t s, shape_t *sh)
{
    SJ_CHECK_FN(func, s != NULL, SJ_ENULL, "argument '%s' is NULL", name);
    int total = 0;
    SJ_TRY(sj__named(sj_space_blocks(s, NULL, &total), func));
    if (total != 1) {
        char d[128];
        describe(s, d, sizeof d);
        return sj__error(SJ_EINVAL, func,
                         "'%s' (%s) has %d blocks; a leaf operator needs a space of one block",
                         name, d, total);
    }
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        sh->dims[d] = 1;
    SJ_TRY(sj__named(sj_space_shape(s, &sh->dtype, &sh->ndims, sh->dims), func));
    SJ_TRY(sj__named(sj_space_length(s, &sh->n), func));
    return SJ_OK;
}

/* The checks every constructor starts with: runtime, output, space, owner. */
static int check_common(const char *func, sj_space_t s, const char *name, int owner, sj_op_t *op,
                        shape_t *sh)
{
    SJ_TRY(sj__check_running(func));
    SJ_CHECK_FN(func, op != NULL, SJ_ENULL, "argument 'op' is NULL");
    *op = NULL;
    SJ_TRY(check_space(func, name, s, sh));
    const int nranks = sj__rt_nranks();
    SJ_CHECK_FN(func, owner >= 0 && owner < nranks, SJ_ERANGE,
                "owner %d is not a rank (expected 0 .. %d)", owner, nranks - 1);
    return SJ_OK;
}

/* A second space: checked like the first and of the same element type. */
static int check_second(const char *func, sj_space_t s, const char *name, const shape_t *first,
                        shape_t *sh)
{
    SJ_TRY(check_space(func, name, s, sh));
    SJ_CHECK_FN(func, sh->dtype == first->dtype, SJ_EMISMATCH,
                "domain and range have different element types");
    return SJ_OK;
}

static int check_dim(const char *func, int dim, const shape_t *sh)
{
    SJ_CHECK_FN(func, dim >= 0 && dim < sh->ndims, SJ_ERANGE,
                "dim %d is out of range for a %d-D space (expected 0 .. %d)", dim, sh->ndims,
                sh->ndims - 1);
    return SJ_OK;
}

/* A state argument must be given on the owner; every rank learns whether it was. */
static int check_state(const char *func, const char *name, const void *state, int owner)
{
    int missing = sj__rt_rank() == owner && state == NULL;
    SJ_TRY(sj__named(sj__rt_agree(&missing, owner), func));
    SJ_CHECK_FN(func, !missing, SJ_ENULL, "argument '%s' is NULL on the owner (rank %d)", name,
                owner);
    return SJ_OK;
}

static int make(const char *func, const sj_op_class_t *cls, sj_space_t domain, sj_space_t range,
                int owner, const void *params, size_t params_size, const void *state,
                size_t state_size, sj_op_t *op)
{
    int rc = sj_op_create(cls, domain, range, owner, params, params_size,
                          sj__rt_rank() == owner ? state : NULL, state_size, op);
    return sj__named(rc, func);
}

/* ---- linear -------------------------------------------------------------- */

int sj_op_diagonal(sj_space_t space, int owner, const void *d, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    SJ_TRY(check_state(__func__, "d", d, owner));
    return make(__func__, &sj__opclass_diagonal, space, space, owner, NULL, 0, d,
                (size_t)sh.n * sj_dtype_size(sh.dtype), op);
}

int sj_op_dense(sj_space_t domain, sj_space_t range, int owner, const void *matrix, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t dom, rng;
    SJ_TRY(check_common(__func__, domain, "domain", owner, op, &dom));
    SJ_TRY(check_second(__func__, range, "range", &dom, &rng));
    sj__opp_dense_t p = {.rows = rng.n, .cols = dom.n, .k = 1};
    if (dom.ndims == 2 && rng.ndims == 2 && dom.dims[1] == rng.dims[1]) {
        p.k = dom.dims[1];
        p.rows = rng.dims[0];
        p.cols = dom.dims[0];
    }
    SJ_CHECK(p.rows <= INT32_MAX / p.cols, SJ_ESIZE,
             "a %lld x %lld matrix is too large for BLAS (2^31 elements or more)",
             (long long)p.rows, (long long)p.cols);
    SJ_TRY(check_state(__func__, "matrix", matrix, owner));
    return make(__func__, &sj__opclass_dense, domain, range, owner, &p, sizeof p, matrix,
                (size_t)(p.rows * p.cols) * sj_dtype_size(dom.dtype), op);
}

int sj_op_zero(sj_space_t domain, sj_space_t range, int owner, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t dom, rng;
    SJ_TRY(check_common(__func__, domain, "domain", owner, op, &dom));
    SJ_TRY(check_second(__func__, range, "range", &dom, &rng));
    SJ_TRY(make(__func__, &sj__opclass_zero, domain, range, owner, NULL, 0, NULL, 0, op));
    sj__op_set_zero(*op);
    return SJ_OK;
}

int sj_op_identity(sj_space_t space, int owner, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    return make(__func__, &sj__opclass_identity, space, space, owner, NULL, 0, NULL, 0, op);
}

int sj_op_scaled_identity(sj_space_t space, int owner, double a, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    const sj__opp_scalar_t p = {.a = a};
    return make(__func__, &sj__opclass_scaling, space, space, owner, &p, sizeof p, NULL, 0, op);
}

int sj_op_difference(sj_space_t space, int owner, int dim, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    SJ_TRY(check_dim(__func__, dim, &sh));
    const sj__opp_axis_t p = {.dim = dim, .h = 1.0};
    return make(__func__, &sj__opclass_difference, space, space, owner, &p, sizeof p, NULL, 0, op);
}

int sj_op_derivative(sj_space_t space, int owner, int dim, double h, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    SJ_TRY(check_dim(__func__, dim, &sh));
    SJ_CHECK(isfinite(h) && h != 0, SJ_EINVAL, "spacing h = %g must be finite and non-zero", h);
    const sj__opp_axis_t p = {.dim = dim, .h = h};
    return make(__func__, &sj__opclass_derivative, space, space, owner, &p, sizeof p, NULL, 0, op);
}

/*
 * 1 when the n indices into [0, len) are all different (a GPU may then
 * scatter the adjoint in parallel); 0 when some repeat, or when the memory
 * to tell is not there (the adjoint then adds run by run, always right).
 */
static int64_t indices_unique(int64_t n, const int64_t *idx, int64_t len)
{
    if (n > len)
        return 0;
    unsigned char *seen = calloc((size_t)len, 1);
    if (!seen)
        return 0;
    int64_t unique = 1;
    for (int64_t k = 0; k < n && unique; k++)
        unique = !seen[idx[k]]++;
    free(seen);
    return unique;
}

typedef struct index_pos {
    int64_t i, k;
} index_pos_t;

static int by_index_then_pos(const void *a, const void *b)
{
    const index_pos_t *x = a, *y = b;
    if (x->i != y->i)
        return x->i < y->i ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

/*
 * The state of a restriction whose indices repeat: idx, then the positions k
 * sorted by (idx[k], k). A GPU adds each run of equal indices in one thread,
 * in the order of k, as the CPU loop does. NULL when memory is short.
 */
static int64_t *indices_with_order(int64_t n, const int64_t *idx)
{
    int64_t *state = malloc((size_t)n * 2 * sizeof *state);
    index_pos_t *pos = malloc((size_t)n * sizeof *pos);
    if (!state || !pos) {
        free(state);
        free(pos);
        return NULL;
    }
    for (int64_t k = 0; k < n; k++)
        pos[k] = (index_pos_t){idx[k], k};
    qsort(pos, (size_t)n, sizeof *pos, by_index_then_pos);
    memcpy(state, idx, (size_t)n * sizeof *state);
    for (int64_t k = 0; k < n; k++)
        state[n + k] = pos[k].k;
    free(pos);
    return state;
}

int sj_op_restriction(sj_space_t domain, int owner, int64_t n, const int64_t *idx, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t dom;
    SJ_TRY(check_common(__func__, domain, "domain", owner, op, &dom));
    SJ_CHECK(n > 0, SJ_ESIZE, "n = %lld must be positive", (long long)n);
    SJ_TRY(check_state(__func__, "idx", idx, owner));
    /*
     * Only the owner has the indices: it checks them and tells every rank its
     * verdict (the state of repeated indices is twice as long on all ranks).
     */
    enum { UNIQUE, BAD, REPEATED, NOMEM };
    int verdict = UNIQUE;
    int64_t k = 0, *ordered = NULL;
    if (sj__rt_rank() == owner) {
        for (k = 0; k < n; k++)
            if (idx[k] < 0 || idx[k] >= dom.n) {
                verdict = BAD;
                break;
            }
        if (verdict == UNIQUE && !indices_unique(n, idx, dom.n)) {
            ordered = indices_with_order(n, idx);
            verdict = ordered ? REPEATED : NOMEM;
        }
    }
    int rc = sj__named(sj__rt_agree(&verdict, owner), __func__);
    if (rc < 0)
        goto out;
    if (verdict == BAD && sj__rt_rank() == owner) {
        rc = sj__error(SJ_ERANGE, __func__,
                       "idx[%lld] = %lld is outside the domain (expected 0 .. %lld)", (long long)k,
                       (long long)idx[k], (long long)(dom.n - 1));
        goto out;
    }
    if (verdict == BAD || verdict == NOMEM) {
        rc = verdict == BAD ? sj__error(SJ_ERANGE, __func__,
                                        "an index in idx is outside the domain of %lld elements "
                                        "(checked on the owner, rank %d)",
                                        (long long)dom.n, owner)
                            : sj__error(SJ_ENOMEM, __func__,
                                        "cannot allocate the order of %lld indices on the owner "
                                        "(rank %d)",
                                        (long long)n, owner);
        goto out;
    }
    const sj__opp_restriction_t p = {.unique = verdict == UNIQUE};
    const size_t size = (size_t)n * (verdict == UNIQUE ? 1 : 2) * sizeof(int64_t);
    sj_space_t range = NULL;
    rc = sj__named(sj_space_create(dom.dtype, 1, &n, NULL, &range), __func__);
    if (rc == SJ_OK)
        rc = make(__func__, &sj__opclass_restriction, domain, range, owner, &p, sizeof p,
                  ordered ? ordered : idx, size, op);
    sj_space_destroy(&range);
out:
    free(ordered);
    return rc;
}

/* The box of @p small at offset @p lo must fit inside @p big (pad and truncate). */
static int check_box(const char *func, const char *bigname, const shape_t *big,
                     const char *smallname, const shape_t *small, const int64_t lo[],
                     sj__opp_box_t *p)
{
    SJ_CHECK_FN(func, lo != NULL, SJ_ENULL, "argument 'lo' is NULL");
    SJ_CHECK_FN(func, big->ndims == small->ndims, SJ_EMISMATCH,
                "%s (%d-D) and %s (%d-D) must have the same number of dimensions", bigname,
                big->ndims, smallname, small->ndims);
    memset(p, 0, sizeof *p);
    for (int d = 0; d < big->ndims; d++) {
        SJ_CHECK_FN(func, small->dims[d] <= big->dims[d], SJ_ESIZE,
                    "dimension %d of the %s (%lld) is longer than that of the %s (%lld)", d,
                    smallname, (long long)small->dims[d], bigname, (long long)big->dims[d]);
        SJ_CHECK_FN(func, lo[d] >= 0 && lo[d] <= big->dims[d] - small->dims[d], SJ_ERANGE,
                    "lo[%d] = %lld: the box does not fit (expected 0 .. %lld)", d, (long long)lo[d],
                    (long long)(big->dims[d] - small->dims[d]));
        p->off[d] = lo[d];
    }
    return SJ_OK;
}

int sj_op_pad(sj_space_t domain, sj_space_t range, int owner, const int64_t lo[], sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t dom, rng;
    sj__opp_box_t p;
    SJ_TRY(check_common(__func__, domain, "domain", owner, op, &dom));
    SJ_TRY(check_second(__func__, range, "range", &dom, &rng));
    SJ_TRY(check_box(__func__, "range", &rng, "domain", &dom, lo, &p));
    return make(__func__, &sj__opclass_pad, domain, range, owner, &p, sizeof p, NULL, 0, op);
}

int sj_op_truncate(sj_space_t domain, sj_space_t range, int owner, const int64_t lo[], sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t dom, rng;
    sj__opp_box_t p;
    SJ_TRY(check_common(__func__, domain, "domain", owner, op, &dom));
    SJ_TRY(check_second(__func__, range, "range", &dom, &rng));
    SJ_TRY(check_box(__func__, "domain", &dom, "range", &rng, lo, &p));
    return make(__func__, &sj__opclass_truncate, domain, range, owner, &p, sizeof p, NULL, 0, op);
}

int sj_op_reshape(sj_space_t domain, sj_space_t range, int owner, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t dom, rng;
    SJ_TRY(check_common(__func__, domain, "domain", owner, op, &dom));
    SJ_TRY(check_second(__func__, range, "range", &dom, &rng));
    SJ_CHECK(dom.n == rng.n, SJ_ESIZE, "domain has %lld elements but range has %lld",
             (long long)dom.n, (long long)rng.n);
    return make(__func__, &sj__opclass_reshape, domain, range, owner, NULL, 0, NULL, 0, op);
}

int sj_op_taper(sj_space_t space, int owner, int dim, int64_t nlo, int64_t nhi, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    SJ_TRY(check_dim(__func__, dim, &sh));
    SJ_CHECK(nlo >= 0 && nhi >= 0 && nlo <= sh.dims[dim] - nhi, SJ_ESIZE,
             "nlo = %lld and nhi = %lld must be >= 0 and add up to at most %lld (dimension %d)",
             (long long)nlo, (long long)nhi, (long long)sh.dims[dim], dim);
    const sj__opp_taper_t p = {.dim = dim, .nlo = nlo, .nhi = nhi};
    /* The weights along dim, once: every worker, CPU or GPU, multiplies by these numbers. */
    const int64_t n = sh.dims[dim];
    const size_t es = sj_dtype_size(sh.dtype);
    void *w = sj__calloc((size_t)n, es);
    if (!w)
        return sj__error_rename(SJ_ENOMEM, __func__);
    for (int64_t i = 0; i < n; i++) {
        const double v = sj__op_taper_weight(i, n, nlo, nhi);
        if (sh.dtype == SJ_FLOAT64)
            ((double *)w)[i] = v;
        else
            ((float *)w)[i] = (float)v;
    }
    int rc = make(__func__, &sj__opclass_taper, space, space, owner, &p, sizeof p, w,
                  (size_t)n * es, op);
    free(w);
    return rc;
}

int sj_op_circshift(sj_space_t space, int owner, const int64_t shift[], sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    SJ_CHECK_NULL(shift);
    sj__opp_box_t p;
    memset(&p, 0, sizeof p);
    for (int d = 0; d < sh.ndims; d++)
        p.off[d] = shift[d] % sh.dims[d];
    return make(__func__, &sj__opclass_circshift, space, space, owner, &p, sizeof p, NULL, 0, op);
}

int sj_op_sum_dim(sj_space_t domain, sj_space_t range, int owner, int dim, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t dom, rng;
    SJ_TRY(check_common(__func__, domain, "domain", owner, op, &dom));
    SJ_TRY(check_second(__func__, range, "range", &dom, &rng));
    SJ_TRY(check_dim(__func__, dim, &dom));
    /* Expected range: the domain's shape without dim, (1) for a 1-D domain. */
    int64_t want[SJ_MAX_DIMS] = {1, 1, 1};
    int nwant = 0;
    for (int d = 0; d < dom.ndims; d++)
        if (d != dim)
            want[nwant++] = dom.dims[d];
    if (nwant == 0)
        nwant = 1;
    int ok = rng.ndims == nwant;
    for (int d = 0; ok && d < nwant; d++)
        ok = rng.dims[d] == want[d];
    if (!ok) {
        char dd[128], rd[128];
        describe(domain, dd, sizeof dd);
        describe(range, rd, sizeof rd);
        return sj__error(SJ_EMISMATCH, __func__,
                         "range (%s) must be the domain (%s) without dimension %d", rd, dd, dim);
    }
    const sj__opp_axis_t p = {.dim = dim, .h = 1.0};
    return make(__func__, &sj__opclass_sum_dim, domain, range, owner, &p, sizeof p, NULL, 0, op);
}

/* ---- nonlinear (elementwise) --------------------------------------------- */

static int elementwise(const char *func, const sj_op_class_t *cls, sj_space_t space, int owner,
                       const void *params, size_t params_size, sj_op_t *op)
{
    shape_t sh;
    SJ_TRY(check_common(func, space, "space", owner, op, &sh));
    return make(func, cls, space, space, owner, params, params_size, NULL, 0, op);
}

int sj_op_exp(sj_space_t space, int owner, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return elementwise(__func__, &sj__opclass_exp, space, owner, NULL, 0, op);
}

int sj_op_log(sj_space_t space, int owner, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return elementwise(__func__, &sj__opclass_log, space, owner, NULL, 0, op);
}

int sj_op_tanh(sj_space_t space, int owner, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return elementwise(__func__, &sj__opclass_tanh, space, owner, NULL, 0, op);
}

int sj_op_sigmoid(sj_space_t space, int owner, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return elementwise(__func__, &sj__opclass_sigmoid, space, owner, NULL, 0, op);
}

int sj_op_power(sj_space_t space, int owner, double p, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    SJ_CHECK(isfinite(p), SJ_EINVAL, "exponent p = %g must be finite", p);
    const sj__opp_scalar_t prm = {.a = p};
    return make(__func__, &sj__opclass_power, space, space, owner, &prm, sizeof prm, NULL, 0, op);
}

int sj_op_shift(sj_space_t space, int owner, const void *b, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    SJ_TRY(check_state(__func__, "b", b, owner));
    return make(__func__, &sj__opclass_shift, space, space, owner, NULL, 0, b,
                (size_t)sh.n * sj_dtype_size(sh.dtype), op);
}

int sj_op_clamp(sj_space_t space, int owner, double lo, double hi, double width, sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    shape_t sh;
    SJ_TRY(check_common(__func__, space, "space", owner, op, &sh));
    SJ_CHECK(isfinite(width) && width > 0, SJ_EINVAL, "width = %g must be positive", width);
    SJ_CHECK(isfinite(lo) && isfinite(hi) && lo <= hi, SJ_EINVAL,
             "bounds lo = %g and hi = %g must be finite with lo <= hi", lo, hi);
    const sj__opp_clamp_t p = {.lo = lo, .hi = hi, .width = width};
    return make(__func__, &sj__opclass_clamp, space, space, owner, &p, sizeof p, NULL, 0, op);
}
