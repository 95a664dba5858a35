/*
 * Operator objects: leaves, the algebra nodes, references, queries. Applies
 * are in apply.c, block operators in block.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op/op_private.h"

/* ---- references -------------------------------------------------------------- */

static void leaf_unref(sj__leaf_t *l)
{
    if (--l->refs > 0)
        return;
    if (l->state) {
        sj__rt_data_unregister_submit(l->state); /* StarPU frees its memory after the tasks */
        sj__tag_release(l->state_tag, 1);
    }
    free(l->params);
    free(l);
}

static void block_free(sj__block_t *b)
{
    for (int k = 0; k < b->m * b->n; k++)
        if (b->grid[k])
            sj__op_unref(b->grid[k]);
    free(b->grid);
    free(b->row_ptr);
    free(b->row_idx);
    free(b->col_ptr);
    free(b->col_idx);
    sj__dist_unref(b->dist);
    free(b);
}

static void op_free(sj_op_t op)
{
    sj__object_remove(&op->obj);
    if (op->leaf)
        leaf_unref(op->leaf);
    if (op->point) {
        sj__rt_data_unregister_submit(op->point);
        sj__tag_release(op->point_tag, 1);
    }
    if (op->a)
        sj__op_unref(op->a);
    if (op->b)
        sj__op_unref(op->b);
    if (op->blk)
        block_free(op->blk);
    sj__op_tmp_cache_free(op);
    sj__space_unref(op->dom_space);
    sj__space_unref(op->rng_space);
    sj__dist_unref(op->dom_dist);
    sj__dist_unref(op->rng_dist);
    sj__object_free(op);
}

void sj__op_ref(sj_op_t op)
{
    op->obj.refs++;
}

void sj__op_unref(sj_op_t op)
{
    if (--op->obj.refs == 0)
        op_free(op);
}

/* sj_finalize(): drop every handle the user still holds. */
static void op_release_user(sj__object_t *o)
{
    sj_op_t op = (sj_op_t)o;
    int n = op->user_refs;
    op->user_refs = 0;
    op->obj.user_holds = 0;
    while (n-- > 0)
        sj__op_unref(op);
}

sj_op_t sj__op_user_ref(sj_op_t op)
{
    sj__op_ref(op);
    op->user_refs++;
    op->obj.user_holds = 1;
    return op;
}

int sj__op_new(sj__op_type_t type, sj_space_t dom, sj_dist_t ddist, sj_space_t rng, sj_dist_t rdist,
               sj_op_t *out)
{
    sj_op_t op = sj__calloc(1, sizeof *op);
    if (!op)
        return SJ_ENOMEM;
    op->type = type;
    op->linear = 1;
    op->home = -1;
    op->dom_space = dom;
    op->rng_space = rng;
    op->dom_dist = ddist;
    op->rng_dist = rdist;
    sj__space_ref(dom);
    sj__space_ref(rng);
    sj__dist_ref(ddist);
    sj__dist_ref(rdist);
    if (sj__object_add(&op->obj, SJ__KIND_OP, op_release_user) < 0) {
        sj__space_unref(dom);
        sj__space_unref(rng);
        sj__dist_unref(ddist);
        sj__dist_unref(rdist);
        free(op);
        return sj__error(SJ_ENOMEM, "starjets", "cannot grow the set of live handles");
    }
    op->user_refs = 1;
    *out = op;
    return SJ_OK;
}

int sj_op_destroy(sj_op_t *op)
{
    if (!op || !*op) {
        sj__rt_collective_noted(__func__); /* the ranks' call numbers stay in step */
        return SJ_OK;
    }
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_handle(__func__, "*op", *op, SJ__KIND_OP));
    sj_op_t o = *op;
    *op = NULL;
    SJ_CHECK(o->user_refs > 0, SJ_ESTATE,
             "the operator was already destroyed (a handle from a query is borrowed)");
    if (--o->user_refs == 0)
        o->obj.user_holds = 0;
    sj__op_unref(o);
    return SJ_OK;
}

/* ---- checks -------------------------------------------------------------------- */

int sj__check_op(const char *func, const char *name, sj_op_t op)
{
    SJ_TRY(sj__check_running(func));
    SJ_CHECK_FN(func, op != NULL, SJ_ENULL, "operator '%s' is NULL", name);
    return sj__check_handle(func, name, op, SJ__KIND_OP);
}

int sj__space_compatible(sj_space_t a, sj_space_t b)
{
    if (a == b)
        return 1;
    if (a->dtype != b->dtype || a->total != b->total)
        return 0;
    for (int k = 0; k < a->total; k++)
        if (sj__space_block_nelems(a, k) != sj__space_block_nelems(b, k))
            return 0;
    return 1;
}

/* "(6,)" or "(4, 3)": the shape of a space. */
static void dims_str(sj_space_t s, char *buf, size_t size)
{
    int n = snprintf(buf, size, "(");
    for (int d = 0; d < s->ndims && (size_t)n < size; d++)
        n += snprintf(buf + n, size - (size_t)n, d ? ", %lld" : "%lld", (long long)s->dims[d]);
    if ((size_t)n < size)
        snprintf(buf + n, size - (size_t)n, s->ndims == 1 ? ",)" : ")");
}

/* "float64 (6,) in 3 blocks": a space in error messages. */
static void space_str(sj_space_t s, char *buf, size_t size)
{
    char dims[80]; /* three 64-bit dims fit */
    dims_str(s, dims, sizeof dims);
    snprintf(buf, size, "%s %s", s->dtype == SJ_FLOAT64 ? "float64" : "float32", dims);
    if (s->total > 1) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, " in %d blocks", s->total);
    }
}

int sj__check_compatible(const char *func, const char *what, sj_space_t have, const char *want_what,
                         sj_space_t want)
{
    if (sj__space_compatible(have, want))
        return SJ_OK;
    char a[96], b[96];
    space_str(have, a, sizeof a);
    space_str(want, b, sizeof b);
    return sj__error(SJ_EMISMATCH, func,
                     "%s is %s but %s is %s (types and block lengths must agree)", what, a,
                     want_what, b);
}

/* ---- leaves -------------------------------------------------------------------- */

void sj__op_set_zero(sj_op_t op)
{
    if (op && op->leaf)
        op->leaf->zero = 1;
}

int sj__op_is_zero(sj_op_t op)
{
    return op->type == SJ__OP_LEAF && op->leaf->zero;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 31)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return 1;
}

/* The operator around leaf @p l (takes it): one-block layouts on its owner. */
static int leaf_wrap(const char *func, sj__leaf_t *l, sj_space_t domain, sj_space_t range,
                     sj_op_t *op)
{
    sj_dist_t ddist = NULL, rdist = NULL;
    const int ones[SJ_MAX_DIMS] = {1, 1, 1};
    sj_op_t o = NULL;
    int rc;
    SJ_TRY_GOTO(rc, sj_dist_create_explicit(domain->ndims, ones, &l->owner, &ddist), out);
    SJ_TRY_GOTO(rc, sj_dist_create_explicit(range->ndims, ones, &l->owner, &rdist), out);
    SJ_TRY_GOTO(rc, sj__op_new(SJ__OP_LEAF, domain, ddist, range, rdist, &o), out);
out:
    sj_dist_destroy(&ddist);
    sj_dist_destroy(&rdist);
    if (rc < 0) {
        leaf_unref(l);
        return sj__error_rename(rc, func);
    }
    o->leaf = l;
    o->linear = !l->cls.nonlinear;
    o->home = l->owner;
    *op = o;
    return SJ_OK;
}

int sj_op_create(const sj_op_class_t *cls, sj_space_t domain, sj_space_t range, int owner,
                 const void *params, size_t params_size, const void *state, size_t state_size,
                 sj_op_t *op)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(op);
    *op = NULL;
    SJ_TRY(sj__check_running(__func__));
    /* Sizes and owner must be the same everywhere: a rank with another state
     * size would wait for bytes that never come. */
    const int64_t cap = (int64_t)1 << 62,
                  ps = params_size < (size_t)cap ? (int64_t)params_size : cap,
                  ss = state_size < (size_t)cap ? (int64_t)state_size : cap;
    int64_t v[6] = {owner, ps, ss, -(int64_t)owner, -ps, -ss};
    SJ_TRY(sj__rt_allreduce_i64(v, 6, SJ__RT_MAX));
    SJ_CHECK(v[0] == -v[3], SJ_EINVAL, "owner differs between ranks (from %lld to %lld)",
             (long long)-v[3], (long long)v[0]);
    SJ_CHECK(v[1] == -v[4], SJ_EINVAL,
             "params_size differs between ranks (from %lld to %lld bytes); pass the same size on "
             "every rank",
             (long long)-v[4], (long long)v[1]);
    SJ_CHECK(v[2] == -v[5], SJ_EINVAL,
             "state_size differs between ranks (from %lld to %lld bytes); pass the same size on "
             "every rank (the state pointer may be NULL off the owner)",
             (long long)-v[5], (long long)v[2]);
    SJ_CHECK_NULL(cls);
    SJ_CHECK_HANDLE(domain, SJ__KIND_SPACE);
    SJ_CHECK_HANDLE(range, SJ__KIND_SPACE);
    SJ_CHECK(cls->name != NULL, SJ_ENULL, "cls->name is NULL");
    SJ_CHECK(valid_name(cls->name), SJ_EINVAL,
             "cls->name '%s' must be 1 to 31 letters, digits or '_' (it names a perf model file)",
             cls->name);
    SJ_CHECK(cls->forward != NULL, SJ_EINVAL,
             "class '%s' has no forward function; every class needs cls->forward", cls->name);
    SJ_CHECK(cls->nonlinear == 0 || cls->nonlinear == 1, SJ_EINVAL,
             "cls->nonlinear is %d, expected 0 or 1", cls->nonlinear);
    SJ_CHECK(domain->total == 1, SJ_EINVAL,
             "the domain has %d blocks; a leaf operator's spaces have one block (use a block "
             "operator for more)",
             domain->total);
    SJ_CHECK(range->total == 1, SJ_EINVAL,
             "the range has %d blocks; a leaf operator's spaces have one block (use a block "
             "operator for more)",
             range->total);
    SJ_CHECK(domain->dtype == range->dtype, SJ_EMISMATCH,
             "the domain and range element types differ");
    SJ_CHECK(owner >= 0 && owner < sj__rt_nranks(), SJ_ERANGE, "owner is %d, not a rank in [0, %d)",
             owner, sj__rt_nranks());
    SJ_CHECK(params_size <= SJ_OP_MAX_PARAMS, SJ_ESIZE,
             "params_size is %zu, more than SJ_OP_MAX_PARAMS (%d); put large data in the state",
             params_size, SJ_OP_MAX_PARAMS);
    SJ_CHECK(state_size < ((size_t)1 << 31), SJ_ESIZE, "state_size is %zu, 2 GiB or more",
             state_size);
    const int me = sj__rt_rank();
    /* The owner alone sees its pointers: every rank learns its verdict. */
    int bad = 0;
    if (me == owner)
        bad = (params_size && !params) ? 1 : (state_size && !state) ? 2 : 0;
    SJ_TRY(sj__rt_agree(&bad, owner));
    SJ_CHECK(bad != 1, SJ_ENULL, "params is NULL on the owner (rank %d) but params_size is %zu",
             owner, params_size);
    SJ_CHECK(bad != 2, SJ_ENULL, "state is NULL on the owner (rank %d) but state_size is %zu",
             owner, state_size);

    sj__leaf_t *l = sj__calloc(1, sizeof *l);
    if (!l)
        return sj__error_rename(SJ_ENOMEM, __func__);
    l->refs = 1;
    l->cls = *cls;
    snprintf(l->name, sizeof l->name, "%s", cls->name);
    l->cls.name = l->name;
    l->owner = owner;
    l->params_size = params_size;
    for (int d = 0; d < 3; d++)
        l->kid[d] = -1;
    if (me == owner && params_size) {
        l->params = malloc(params_size);
        if (!l->params) {
            free(l);
            return sj__error(SJ_ENOMEM, __func__, "cannot allocate %zu bytes of params",
                             params_size);
        }
        memcpy(l->params, params, params_size);
    }
    l->state_size = state_size;
    if (state_size) {
        l->state_tag = sj__tag_book(1);
        sj__rt_data_register(&l->state, owner, l->state_tag, NULL, state_size, 1);
        if (me == owner) {
            void *mem = sj__rt_data_acquire(l->state, SJ__W); /* StarPU allocates it */
            if (mem)
                memcpy(mem, state, state_size);
            sj__rt_data_release(l->state);
            /* a failed allocation shows as a task error at the first apply */
            if (!mem)
                sj__rt_task_error("operator %s: cannot allocate %zu bytes of state", l->name,
                                  state_size);
        }
    }
    return leaf_wrap(__func__, l, domain, range, op);
}

/* ---- copies of leaves ------------------------------------------------------------ */

/* Bring the params of leaf @p from (on its owner) to leaf @p to (on its owner). */
static int copy_params(const sj__leaf_t *from, sj__leaf_t *to)
{
    const int me = sj__rt_rank();
    if (me == to->owner) {
        to->params = malloc(from->params_size);
        if (!to->params)
            sj__rt_task_error("operator %s: cannot allocate %zu bytes of params", to->name,
                              from->params_size);
    }
    if (from->owner == to->owner) {
        if (to->params)
            memcpy(to->params, from->params, from->params_size);
        return SJ_OK;
    }
    /* Through StarPU-MPI, as any block: a handle over the old params, one on the new owner. */
    const int64_t tag = sj__tag_book(2);
    sj__data_t src = NULL, dst = NULL;
    sj__rt_data_register(&src, from->owner, tag, me == from->owner ? from->params : NULL,
                         from->params_size, 1);
    sj__rt_data_register(&dst, to->owner, tag + 1, NULL, from->params_size, 1);
    sj__kargs_t args = {0};
    sj__buf_t bufs[2] = {{dst, SJ__W}, {src, SJ__R}};
    int rc;
    SJ_TRY_GOTO(rc, sj__rt_submit(SJ__K_COPY, &args, sizeof args, 2, bufs), out);
    if (me == to->owner) {
        const void *mem = sj__rt_data_acquire(dst, SJ__R); /* waits for the copy */
        if (mem && to->params)
            memcpy(to->params, mem, from->params_size);
        sj__rt_data_release(dst);
    }
out:
    sj__rt_data_flush(src);
    sj__rt_data_unregister(src);
    sj__rt_data_unregister(dst);
    sj__tag_release(tag, 2);
    return rc;
}

int sj_op_copy(sj_op_t op, int owner, sj_op_t *copy)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(copy);
    *copy = NULL;
    SJ_TRY(sj__check_op(__func__, "op", op));
    SJ_CHECK(owner >= 0 && owner < sj__rt_nranks(), SJ_ERANGE, "owner is %d, not a rank in [0, %d)",
             owner, sj__rt_nranks());
    SJ_CHECK(op->type == SJ__OP_LEAF, SJ_ENOTSUP,
             "only a leaf operator can be copied to a rank (this one is a %s operator; copy its "
             "leaves)",
             op->type == SJ__OP_BLOCK ? "block" : "composite");
    SJ_CHECK(op->point == NULL, SJ_ENOTSUP,
             "a Jacobian cannot be copied (copy the operator and take its Jacobian there)");
    const sj__leaf_t *from = op->leaf;
    sj__leaf_t *l = sj__calloc(1, sizeof *l);
    if (!l)
        return sj__error_rename(SJ_ENOMEM, __func__);
    *l = *from;
    l->refs = 1;
    l->cls.name = l->name;
    l->owner = owner;
    l->params = NULL;
    l->state = NULL;
    for (int d = 0; d < 3; d++)
        l->kid[d] = -1;
    int rc;
    if (l->params_size)
        SJ_TRY_GOTO(rc, copy_params(from, l), fail);
    if (l->state_size) {
        l->state_tag = sj__tag_book(1);
        sj__rt_data_register(&l->state, owner, l->state_tag, NULL, l->state_size, 1);
        sj__kargs_t args = {0};
        sj__buf_t bufs[2] = {{l->state, SJ__W}, {from->state, SJ__R}};
        const int submitted = sj__rt_submit(SJ__K_COPY, &args, sizeof args, 2, bufs);
        if (owner != from->owner)
            sj__rt_data_flush(from->state); /* the new owner keeps no cached copy */
        SJ_TRY_GOTO(rc, submitted, fail);
    }
    return leaf_wrap(__func__, l, op->dom_space, op->rng_space, copy);
fail:
    leaf_unref(l);
    return sj__error_rename(rc, __func__);
}

/* ---- queries ------------------------------------------------------------------- */

int sj_op_domain(sj_op_t op, sj_space_t *space, sj_dist_t *dist)
{
    SJ_CHECK_HANDLE(op, SJ__KIND_OP);
    if (space)
        *space = op->dom_space;
    if (dist)
        *dist = op->dom_dist;
    return SJ_OK;
}

int sj_op_range(sj_op_t op, sj_space_t *space, sj_dist_t *dist)
{
    SJ_CHECK_HANDLE(op, SJ__KIND_OP);
    if (space)
        *space = op->rng_space;
    if (dist)
        *dist = op->rng_dist;
    return SJ_OK;
}

int sj_op_is_linear(sj_op_t op, int *linear)
{
    SJ_CHECK_HANDLE(op, SJ__KIND_OP);
    SJ_CHECK_NULL(linear);
    *linear = op->linear;
    return SJ_OK;
}

int sj_op_owner(sj_op_t op, int *rank)
{
    SJ_CHECK_HANDLE(op, SJ__KIND_OP);
    SJ_CHECK_NULL(rank);
    *rank = op->home;
    return SJ_OK;
}

int sj_op_describe(sj_op_t op, char *buf, size_t size)
{
    SJ_CHECK_HANDLE(op, SJ__KIND_OP);
    SJ_CHECK_NULL(buf);
    SJ_CHECK(size > 0, SJ_ESIZE, "size is 0");
    char what[64], dom[64], rng[64], where[32] = "";
    switch (op->type) {
    case SJ__OP_LEAF:
        snprintf(what, sizeof what, "%s%s", op->point ? "Jacobian of " : "", op->leaf->name);
        break;
    case SJ__OP_COMPOSE:
        snprintf(what, sizeof what, "composition");
        break;
    case SJ__OP_COMBINE:
        snprintf(what, sizeof what, "combination");
        break;
    case SJ__OP_SCALE:
        snprintf(what, sizeof what, "scaled");
        break;
    case SJ__OP_ADJOINT:
        snprintf(what, sizeof what, "adjoint");
        break;
    case SJ__OP_BLOCK:
        snprintf(what, sizeof what, "block %dx%d", op->blk->m, op->blk->n);
        break;
    }
    dims_str(op->dom_space, dom, sizeof dom);
    dims_str(op->rng_space, rng, sizeof rng);
    if (op->home >= 0)
        snprintf(where, sizeof where, " on rank %d", op->home);
    snprintf(buf, size, "%s %s operator, %s -> %s%s", op->linear ? "linear" : "nonlinear", what,
             dom, rng, where);
    return SJ_OK;
}

/* ---- algebra ---------------------------------------------------------------------- */

/* A node over A and B (B after A for a composition) with the given spaces. */
static int binary(const char *func, sj__op_type_t type, sj_op_t A, sj_op_t B, sj_op_t rng_of,
                  sj_op_t *out)
{
    sj_op_t o;
    SJ_TRY(sj__named(
        sj__op_new(type, A->dom_space, A->dom_dist, rng_of->rng_space, rng_of->rng_dist, &o),
        func));
    o->a = A;
    o->b = B;
    sj__op_ref(A);
    sj__op_ref(B);
    o->linear = A->linear && B->linear;
    o->home = A->home == B->home ? A->home : -1;
    *out = o;
    return SJ_OK;
}

int sj_op_compose(sj_op_t B, sj_op_t A, sj_op_t *BA)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(BA);
    *BA = NULL;
    SJ_TRY(sj__check_op(__func__, "B", B));
    SJ_TRY(sj__check_op(__func__, "A", A));
    SJ_TRY(sj__check_compatible(__func__, "the range of A", A->rng_space, "the domain of B",
                                B->dom_space));
    return binary(__func__, SJ__OP_COMPOSE, A, B, B, BA);
}

static int combine(const char *func, double a, sj_op_t A, double b, sj_op_t B, sj_op_t *C)
{
    SJ_CHECK_FN(func, C != NULL, SJ_ENULL, "argument 'C' is NULL");
    *C = NULL;
    SJ_TRY(sj__check_op(func, "A", A));
    SJ_TRY(sj__check_op(func, "B", B));
    SJ_TRY(sj__check_compatible(func, "the domain of A", A->dom_space, "the domain of B",
                                B->dom_space));
    SJ_TRY(
        sj__check_compatible(func, "the range of A", A->rng_space, "the range of B", B->rng_space));
    SJ_TRY(binary(func, SJ__OP_COMBINE, A, B, A, C));
    (*C)->ca = a;
    (*C)->cb = b;
    return SJ_OK;
}

int sj_op_combine(double a, sj_op_t A, double b, sj_op_t B, sj_op_t *C)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return combine(__func__, a, A, b, B, C);
}

int sj_op_add(sj_op_t A, sj_op_t B, sj_op_t *C)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return combine(__func__, 1.0, A, 1.0, B, C);
}

int sj_op_sub(sj_op_t A, sj_op_t B, sj_op_t *C)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return combine(__func__, 1.0, A, -1.0, B, C);
}

int sj_op_scale(double a, sj_op_t A, sj_op_t *C)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(C);
    *C = NULL;
    SJ_TRY(sj__check_op(__func__, "A", A));
    sj_op_t o;
    SJ_TRY(sj__named(
        sj__op_new(SJ__OP_SCALE, A->dom_space, A->dom_dist, A->rng_space, A->rng_dist, &o),
        __func__));
    o->a = A;
    o->ca = a;
    sj__op_ref(A);
    o->linear = A->linear;
    o->home = A->home;
    *C = o;
    return SJ_OK;
}

int sj_op_adjoint(sj_op_t A, sj_op_t *At)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(At);
    *At = NULL;
    SJ_TRY(sj__check_op(__func__, "A", A));
    SJ_CHECK(A->linear, SJ_EINVAL,
             "A is nonlinear: it has no adjoint; take its Jacobian (sj_op_jacobian) first");
    if (A->type == SJ__OP_ADJOINT) { /* (A')' is A itself, one more handle to it */
        *At = sj__op_user_ref(A->a);
        return SJ_OK;
    }
    sj_op_t o;
    SJ_TRY(sj__named(
        sj__op_new(SJ__OP_ADJOINT, A->rng_space, A->rng_dist, A->dom_space, A->dom_dist, &o),
        __func__));
    o->a = A;
    sj__op_ref(A);
    o->home = A->home;
    *At = o;
    return SJ_OK;
}
