/*
 * Applies and Jacobians: a walk over the operator tree that submits tasks.
 *
 * Leaf tasks run on the leaf's owner, so operator state never moves. When the
 * output block lives elsewhere the leaf writes a temporary on its owner and
 * one more task adds it into the output on the output's owner. Inputs read on
 * another rank are flushed (rt.h's invariant) once the whole call is
 * submitted, so that several tasks of one call on a rank share one transfer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/op.h"
#include "op/op_private.h"

/* ---- one call: temporaries and flushes ---------------------------------------- */

struct sj__tmp {
    struct sj__tmp *next;
    sj_space_t space;
    int n;
    int64_t tag;
    sj__data_t *h;
    int *owner;
};

void sj__call_init(sj__call_t *c, const char *func)
{
    memset(c, 0, sizeof *c);
    c->func = func;
    c->brow = c->bcol = -1;
}

/*
 * An apply asks for its temporaries in an order fixed by the operator, the
 * direction and the arrays' layouts, the same on every rank. Registering
 * them costs more than the small tasks that use them (a StarPU-MPI handle
 * and a tag each), so the operator keeps those of its last apply in each
 * direction, and the next apply takes the k-th one when it has the same
 * space and owners (else that one and the rest of the list are replaced).
 * Reuse is safe: StarPU orders a write after the reads of the previous apply
 * on each rank, and each call flushes the temporaries it read on another rank
 * at its end (rt.h's invariant, read_on() and block.c's broadcast) so that
 * such a rank receives the new value.
 */
void sj__call_init_apply(sj__call_t *c, const char *func, sj_op_t A, int dir, int plain)
{
    sj__call_init(c, func);
    /* y = A x writes a block row's first partial straight into y (block.c),
     * y = alpha A x + beta y does not: the two take other temporaries, so an
     * operator applied both ways (a solver's gradient, then its inner LSQR)
     * keeps a list for each rather than replacing one list at every switch */
    c->cache = &A->tmp_cache[2 * (dir == SJ_OP_FORWARD ? 0 : 1) + (plain ? 1 : 0)];
    c->cursor = c->cache;
}

static void tmp_free_list(struct sj__tmp *t)
{
    while (t) {
        struct sj__tmp *next = t->next;
        for (int b = 0; b < t->n; b++)
            sj__rt_data_unregister_submit(t->h[b]);
        sj__tag_release(t->tag, t->n);
        sj__space_unref(t->space);
        free(t->h);
        free(t->owner);
        free(t);
        t = next;
    }
}

void sj__op_tmp_cache_free(sj_op_t op)
{
    for (int d = 0; d < 5; d++) {
        tmp_free_list(op->tmp_cache[d]);
        op->tmp_cache[d] = NULL;
    }
}

static void tmp_view(struct sj__tmp *t, sj__vec_t *v)
{
    *v = (sj__vec_t){.space = t->space, .nblocks = t->n, .h = t->h, .owner = t->owner, .temp = 1};
}

int sj__call_flush_later(sj__call_t *c, sj__data_t h)
{
    for (int k = 0; k < c->nflush; k++)
        if (c->flush[k] == h)
            return SJ_OK;
    if (c->nflush == c->capflush) {
        int cap = c->capflush ? 2 * c->capflush : 16;
        sj__data_t *p = realloc(c->flush, (size_t)cap * sizeof *p);
        if (!p)
            return sj__error(SJ_ENOMEM, c->func, "cannot grow the list of handles to flush");
        c->flush = p;
        c->capflush = cap;
    }
    c->flush[c->nflush++] = h;
    return SJ_OK;
}

/* The blocks of a temporary, as far as they go: called again, it goes on (sj__rt_agree_alloc). */
typedef struct temp_alloc {
    const char *func;
    sj_space_t space;
    const int *owner;
    sj__data_t *h;
    int64_t tag; /* its first tag; < 0: nothing could be booked */
    int next;    /* the first block not registered yet */
} temp_alloc_t;

static int temp_alloc(void *ctx)
{
    temp_alloc_t *ta = ctx;
    if (ta->tag < 0)
        return sj__error(SJ_ENOMEM, ta->func, "cannot allocate a temporary");
    const size_t es = sj_dtype_size(ta->space->dtype);
    for (; ta->next < ta->space->total; ta->next++) {
        const int b = ta->next;
        if (sj__rt_data_register_alloc(&ta->h[b], ta->owner[b], ta->tag + b,
                                       (size_t)sj__space_block_nelems(ta->space, b), es) < 0)
            return sj__error(SJ_ENOMEM, ta->func,
                             "out of memory on this rank (%d): cannot allocate a temporary block "
                             "of %lld bytes",
                             sj__rt_rank(),
                             (long long)sj__space_block_nelems(ta->space, b) * (long long)es);
    }
    return SJ_OK;
}

int sj__call_temp(sj__call_t *c, sj_space_t space, const int owner[], sj__vec_t *v)
{
    const int n = space->total;
    if (c->cache) {
        struct sj__tmp *t = *c->cursor;
        if (t && t->space == space && t->n == n &&
            memcmp(t->owner, owner, (size_t)n * sizeof *owner) == 0) {
            c->cursor = &t->next;
            tmp_view(t, v);
            return SJ_OK;
        }
        /* another shape from here on: drop the rest of the list */
        tmp_free_list(t);
        *c->cursor = NULL;
    }
    struct sj__tmp *t = sj__calloc(1, sizeof *t);
    sj__data_t *h = sj__calloc((size_t)n, sizeof *h);
    int *own = sj__calloc((size_t)n, sizeof *own);
    const int64_t tag = t && h && own ? sj__tag_book(n) : -1;
    if (own)
        memcpy(own, owner, (size_t)n * sizeof *own);
    /* The memory now (src/runtime/mem.c), and every rank says whether it got it
     * before anything uses it: a temporary that StarPU cannot allocate would
     * hang its task. Made once per shape, so this agreement is too. */
    temp_alloc_t ta = {c->func, space, own, h, tag, 0};
    int rc = sj__rt_agree_alloc(c->func, temp_alloc, &ta, "out of memory",
                                ": cannot allocate a temporary");
    if (rc < 0) {
        for (int b = 0; h && b < n; b++)
            if (h[b])
                sj__rt_data_unregister_submit(h[b]);
        if (tag >= 0)
            sj__tag_release(tag, n);
        free(t);
        free(h);
        free(own);
        return rc;
    }
    /* a reference: a cached temporary is matched by its space's address,
     * which must not be reused by another space while it is cached */
    sj__space_ref(space);
    t->space = space;
    t->n = n;
    t->h = h;
    t->owner = own;
    t->tag = tag;
    if (c->cache) {
        *c->cursor = t;
        c->cursor = &t->next;
    } else {
        t->next = c->tmps;
        c->tmps = t;
    }
    tmp_view(t, v);
    return SJ_OK;
}

void sj__call_finish(sj__call_t *c)
{
    for (int k = 0; k < c->nflush; k++)
        sj__rt_data_flush(c->flush[k]);
    free(c->flush);
    c->flush = NULL;
    c->nflush = c->capflush = 0;
    tmp_free_list(c->tmps);
    c->tmps = NULL;
}

void sj__vec_of_array(sj_array_t a, sj__vec_t *v)
{
    *v = (sj__vec_t){.space = a->space,
                     .nblocks = a->space->total,
                     .h = a->handles,
                     .owner = a->dist->owner,
                     .temp = 0};
}

void sj__vec_block(const sj__vec_t *v, int b, sj_space_t space, sj__vec_t *out)
{
    *out = (sj__vec_t){
        .space = space, .nblocks = 1, .h = &v->h[b], .owner = &v->owner[b], .temp = v->temp};
}

/* Note a read of block b of v by a task on rank r. A temporary that the call
 * unregisters at its end needs no flush; one the operator keeps does. */
static int read_on(sj__call_t *c, const sj__vec_t *v, int b, int r)
{
    if (v->owner[b] != r && (!v->temp || c->cache))
        return sj__call_flush_later(c, v->h[b]);
    return SJ_OK;
}

/* ---- small vector operations ------------------------------------------------------ */

int sj__vec_axpby(sj__call_t *c, double alpha, const sj__vec_t *x, double beta, const sj__vec_t *y)
{
    for (int b = 0; b < y->nblocks; b++) {
        sj__kargs_t args = {.dtype = y->space->dtype, .a = alpha, .b = beta};
        sj__buf_t bufs[2] = {{y->h[b], beta == 0.0 ? SJ__W : SJ__RW}, {x->h[b], SJ__R}};
        SJ_TRY(sj__rt_submit(SJ__K_AXPBY, &args, sizeof args, 2, bufs));
        SJ_TRY(read_on(c, x, b, y->owner[b]));
    }
    return SJ_OK;
}

int sj__vec_scale(double beta, const sj__vec_t *y)
{
    if (beta == 1.0)
        return SJ_OK;
    for (int b = 0; b < y->nblocks; b++) {
        sj__kargs_t args = {.dtype = y->space->dtype, .a = 0.0};
        sj__buf_t buf = {y->h[b], beta == 0.0 ? SJ__W : SJ__RW};
        if (beta == 0.0) {
            SJ_TRY(sj__rt_submit(SJ__K_FILL, &args, sizeof args, 1, &buf));
        } else {
            args.a = beta;
            SJ_TRY(sj__rt_submit(SJ__K_SCALE, &args, sizeof args, 1, &buf));
        }
    }
    return SJ_OK;
}

/* ---- leaves -------------------------------------------------------------------------- */

/* The function and kernel direction a leaf uses for an apply direction. */
/* The CPU function of a leaf in direction @p dir, and its CUDA version (or NULL) in *cuda. */
static sj_op_fn_t leaf_fn(sj_op_t L, int dir, int *kdir, sj_op_fn_t *cuda)
{
    const sj_op_class_t *cls = &L->leaf->cls;
    if (dir == SJ_OP_ADJOINT) {
        *kdir = SJ__OPDIR_ADJOINT;
        const int ok = !(cls->nonlinear && !L->point);
        *cuda = ok ? cls->adjoint_cuda : NULL;
        return ok ? cls->adjoint : NULL;
    }
    if (cls->nonlinear && L->point) {
        *kdir = SJ__OPDIR_JACOBIAN;
        *cuda = cls->jacobian_cuda;
        return cls->jacobian;
    }
    *kdir = SJ__OPDIR_FORWARD;
    *cuda = cls->forward_cuda;
    return cls->forward;
}

static void info_dims(sj_op_info_t *ctx, sj_space_t dom, sj_space_t rng)
{
    ctx->dtype = dom->dtype;
    ctx->dom_ndims = dom->ndims;
    ctx->rng_ndims = rng->ndims;
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        ctx->dom_dims[d] = dom->dims[d];
        ctx->rng_dims[d] = rng->dims[d];
    }
    ctx->dom_n = sj__space_block_nelems(dom, 0);
    ctx->rng_n = sj__space_block_nelems(rng, 0);
}

static int leaf_apply(sj__call_t *c, sj_op_t L, int dir, double alpha, const sj__vec_t *x,
                      double beta, const sj__vec_t *y)
{
    sj__leaf_t *l = L->leaf;
    if (l->zero)
        return sj__vec_scale(beta, y);
    int kdir;
    sj_op_fn_t cuda = NULL;
    sj_op_fn_t fn = leaf_fn(L, dir, &kdir, &cuda);
    if (!fn) /* sj__op_check_dir() rules this out before anything is submitted */
        return sj__error(SJ_ENOTSUP, c->func, "operator '%s' cannot be applied in that direction",
                         l->name);
    if (l->kid[kdir] < 0) {
        static const char *suffix[] = {"fwd", "adj", "jac"};
        char name[48];
        snprintf(name, sizeof name, "sj_op_%s_%s", l->name, suffix[kdir]);
        sj__kernel_t k;
        SJ_TRY(sj__named(sj__rt_kernel_variant(SJ__K_OP, name, cuda != NULL, &k), c->func));
        l->kid[kdir] = (int)k;
    }

    const int r = l->owner;
    sj__vec_t out = *y;
    double a = alpha, b = beta;
    if (y->owner[0] != r) { /* compute on the owner, add into y where y lives */
        SJ_TRY(sj__call_temp(c, y->space, &r, &out));
        a = 1.0;
        b = 0.0;
    }
    size_t size = sizeof(sj__opargs_t) + l->params_size;
    sj__opargs_t *args = sj__calloc(1, size);
    if (!args)
        return sj__error_rename(SJ_ENOMEM, c->func);
    args->fn = fn;
    args->fn_cuda = cuda;
    args->dir = kdir;
    args->alpha = a;
    args->beta = b;
    args->has_state = l->state != NULL;
    args->has_point = L->point != NULL;
    info_dims(&args->info, L->dom_space, L->rng_space);
    args->info.params_size = l->params_size;
    args->info.state_size = l->state_size;
    args->info.block_row = c->brow;
    args->info.block_col = c->bcol;
    memcpy(args->name, l->name, sizeof args->name);
    if (l->params) /* the owner's copy; the arguments are used on the owner only */
        memcpy(args + 1, l->params, l->params_size);
    sj__buf_t bufs[4] = {{out.h[0], b == 0.0 ? SJ__W : SJ__RW}, {x->h[0], SJ__R}};
    int nb = 2;
    if (l->state)
        bufs[nb++] = (sj__buf_t){l->state, SJ__R};
    if (L->point)
        bufs[nb++] = (sj__buf_t){L->point, SJ__R};
    int rc = sj__rt_submit((sj__kernel_t)l->kid[kdir], args, size, nb, bufs); /* a variant */
    free(args);
    SJ_TRY(rc);
    SJ_TRY(read_on(c, x, 0, r));
    if (out.h != y->h)
        SJ_TRY(sj__vec_axpby(c, alpha, &out, beta, y));
    return SJ_OK;
}

/* ---- the walk ------------------------------------------------------------------------ */

int sj__op_check_dir(const char *func, sj_op_t A, int dir)
{
    switch (A->type) {
    case SJ__OP_LEAF: {
        int kdir;
        sj_op_fn_t cuda;
        if (A->leaf->zero || leaf_fn(A, dir, &kdir, &cuda))
            return SJ_OK;
        if (dir == SJ_OP_ADJOINT && A->leaf->cls.nonlinear && !A->point)
            return sj__error(SJ_ENOTSUP, func,
                             "operator '%s' is nonlinear: apply the adjoint of its Jacobian "
                             "(sj_op_jacobian)",
                             A->leaf->name);
        static const char *names[] = {"forward", "adjoint", "jacobian"};
        return sj__error(SJ_ENOTSUP, func, "operator '%s' was given no %s function", A->leaf->name,
                         names[kdir]);
    }
    case SJ__OP_ADJOINT:
        return sj__op_check_dir(func, A->a, !dir);
    case SJ__OP_SCALE:
        return sj__op_check_dir(func, A->a, dir);
    case SJ__OP_COMPOSE:
    case SJ__OP_COMBINE:
        SJ_TRY(sj__op_check_dir(func, A->a, dir));
        return sj__op_check_dir(func, A->b, dir);
    case SJ__OP_BLOCK:
        for (int k = 0; k < A->blk->m * A->blk->n; k++)
            if (A->blk->grid[k])
                SJ_TRY(sj__op_check_dir(func, A->blk->grid[k], dir));
        return SJ_OK;
    }
    return SJ_OK;
}

int sj__op_apply(sj__call_t *c, sj_op_t A, int dir, double alpha, const sj__vec_t *x, double beta,
                 const sj__vec_t *y)
{
    if (alpha == 0.0 && A->linear)
        return sj__vec_scale(beta, y);
    switch (A->type) {
    case SJ__OP_LEAF:
        return leaf_apply(c, A, dir, alpha, x, beta, y);
    case SJ__OP_SCALE:
        return sj__op_apply(c, A->a, dir, alpha * A->ca, x, beta, y);
    case SJ__OP_ADJOINT:
        return sj__op_apply(c, A->a, !dir, alpha, x, beta, y);
    case SJ__OP_COMBINE:
        SJ_TRY(sj__op_apply(c, A->a, dir, alpha * A->ca, x, beta, y));
        return sj__op_apply(c, A->b, dir, alpha * A->cb, x, 1.0, y);
    case SJ__OP_COMPOSE: {
        /* the intermediate lives in A->a's range, laid out as that range */
        sj__vec_t t;
        sj_op_t first = dir == SJ_OP_FORWARD ? A->a : A->b;
        sj_op_t second = dir == SJ_OP_FORWARD ? A->b : A->a;
        SJ_TRY(sj__call_temp(c, A->a->rng_space, A->a->rng_dist->owner, &t));
        SJ_TRY(sj__op_apply(c, first, dir, 1.0, x, 0.0, &t));
        return sj__op_apply(c, second, dir, alpha, &t, beta, y);
    }
    case SJ__OP_BLOCK:
        return sj__block_apply(c, A, dir, alpha, x, beta, y);
    }
    return SJ_OK;
}

/* ---- public applies -------------------------------------------------------------------- */

static int apply(const char *func, sj_op_t A, sj_op_dir_t dir, double alpha, sj_array_t x,
                 double beta, sj_array_t y)
{
    SJ_TRY(sj__check_op(func, "A", A));
    SJ_TRY(sj__check_array(func, "x", x));
    SJ_TRY(sj__check_array(func, "y", y));
    SJ_CHECK_FN(func, dir == SJ_OP_FORWARD || dir == SJ_OP_ADJOINT, SJ_EINVAL,
                "dir is %d, not an sj_op_dir_t", (int)dir);
    SJ_CHECK_FN(func, x != y, SJ_EINVAL, "the input and output are the same array");
    SJ_CHECK_FN(func, isfinite(alpha) && isfinite(beta), SJ_EINVAL,
                "alpha and beta must be finite");
    const int fwd = dir == SJ_OP_FORWARD;
    SJ_TRY(sj__check_compatible(func, "the input array", x->space,
                                fwd ? "the operator's domain" : "the operator's range",
                                fwd ? A->dom_space : A->rng_space));
    SJ_TRY(sj__check_compatible(func, "the output array", y->space,
                                fwd ? "the operator's range" : "the operator's domain",
                                fwd ? A->rng_space : A->dom_space));
    SJ_TRY(sj__op_check_dir(func, A, dir));
    sj__vec_t vx, vy;
    sj__vec_of_array(x, &vx);
    sj__vec_of_array(y, &vy);
    sj__call_t c;
    sj__call_init_apply(&c, func, A, dir, alpha == 1.0 && beta == 0.0);
    int rc = sj__op_apply(&c, A, dir, alpha, &vx, beta, &vy);
    sj__call_finish(&c);
    return rc < 0 ? sj__error_rename(rc, func) : SJ_OK;
}

int sj_op_apply_ex(sj_op_t A, sj_op_dir_t dir, double alpha, sj_array_t x, double beta,
                   sj_array_t y)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return apply(__func__, A, dir, alpha, x, beta, y);
}

int sj_op_apply(sj_op_t A, sj_array_t x, sj_array_t y)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return apply(__func__, A, SJ_OP_FORWARD, 1.0, x, 0.0, y);
}

int sj_op_apply_adjoint(sj_op_t A, sj_array_t y, sj_array_t x)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return apply(__func__, A, SJ_OP_ADJOINT, 1.0, y, 0.0, x);
}

/* ---- Jacobians --------------------------------------------------------------------------- */

/* The Jacobian of a nonlinear leaf: its state shared, a copy of m0 on its owner. */
static int leaf_jacobian(sj__call_t *c, sj_op_t F, const sj__vec_t *m0, sj_op_t *J)
{
    sj_op_t o;
    SJ_TRY(sj__op_new(SJ__OP_LEAF, F->dom_space, F->dom_dist, F->rng_space, F->rng_dist, &o));
    o->leaf = F->leaf;
    o->leaf->refs++;
    o->home = F->home;
    o->point_tag = sj__tag_book(1);
    sj__rt_data_register(&o->point, F->home, o->point_tag, NULL,
                         (size_t)sj__space_block_nelems(F->dom_space, 0),
                         sj_dtype_size(F->dom_space->dtype));
    *J = o;
    sj__kargs_t args = {.dtype = F->dom_space->dtype};
    sj__buf_t bufs[2] = {{o->point, SJ__W}, {m0->h[0], SJ__R}};
    SJ_TRY(sj__rt_submit(SJ__K_COPY, &args, sizeof args, 2, bufs));
    return read_on(c, m0, 0, F->home);
}

int sj__op_jacobian(sj__call_t *c, sj_op_t F, const sj__vec_t *m0, sj_op_t *J)
{
    *J = NULL;
    if (F->linear) {
        *J = sj__op_user_ref(F);
        return SJ_OK;
    }
    sj_op_t Ja = NULL, Jb = NULL;
    sj__vec_t t;
    int rc = SJ_OK;
    switch (F->type) {
    case SJ__OP_LEAF:
        return leaf_jacobian(c, F, m0, J);
    case SJ__OP_SCALE:
        SJ_TRY_GOTO(rc, sj__op_jacobian(c, F->a, m0, &Ja), out);
        SJ_TRY_GOTO(rc, sj_op_scale(F->ca, Ja, J), out);
        break;
    case SJ__OP_COMBINE:
        SJ_TRY_GOTO(rc, sj__op_jacobian(c, F->a, m0, &Ja), out);
        SJ_TRY_GOTO(rc, sj__op_jacobian(c, F->b, m0, &Jb), out);
        SJ_TRY_GOTO(rc, sj_op_combine(F->ca, Ja, F->cb, Jb, J), out);
        break;
    case SJ__OP_COMPOSE: /* chain rule: J_b(a(m0)) o J_a(m0) */
        SJ_TRY_GOTO(rc, sj__op_jacobian(c, F->a, m0, &Ja), out);
        SJ_TRY_GOTO(rc, sj__call_temp(c, F->a->rng_space, F->a->rng_dist->owner, &t), out);
        SJ_TRY_GOTO(rc, sj__op_apply(c, F->a, SJ_OP_FORWARD, 1.0, m0, 0.0, &t), out);
        SJ_TRY_GOTO(rc, sj__op_jacobian(c, F->b, &t, &Jb), out);
        SJ_TRY_GOTO(rc, sj_op_compose(Jb, Ja, J), out);
        break;
    case SJ__OP_BLOCK:
        return sj__block_jacobian(c, F, m0, J);
    case SJ__OP_ADJOINT: /* adjoints are linear */
        break;
    }
out:
    sj_op_destroy(&Ja);
    sj_op_destroy(&Jb);
    return rc;
}

int sj_op_jacobian(sj_op_t F, sj_array_t m0, sj_op_t *J)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(J);
    *J = NULL;
    SJ_TRY(sj__check_op(__func__, "F", F));
    SJ_TRY(sj__check_array(__func__, "m0", m0));
    SJ_TRY(sj__check_compatible(__func__, "m0", m0->space, "the operator's domain", F->dom_space));
    if (!F->linear)
        SJ_TRY(sj__op_check_dir(__func__, F, SJ_OP_FORWARD));
    sj__vec_t v;
    sj__vec_of_array(m0, &v);
    sj__call_t c;
    sj__call_init(&c, __func__);
    int rc = sj__op_jacobian(&c, F, &v, J);
    sj__call_finish(&c);
    if (rc < 0) {
        sj_op_destroy(J);
        return sj__error_rename(rc, __func__);
    }
    return SJ_OK;
}

/* ---- moving a Jacobian ------------------------------------------------------------ */

/* J has the tree sj__op_jacobian makes of F (a linear F is its own Jacobian). */
static int jacobian_of(sj_op_t J, sj_op_t F)
{
    if (!J || !F)
        return J == F;
    if (F->linear)
        return J == F;
    if (J->type != F->type && F->type != SJ__OP_LEAF)
        return 0;
    switch (F->type) {
    case SJ__OP_LEAF:
        return J->type == SJ__OP_LEAF && J->leaf == F->leaf && J->point;
    case SJ__OP_SCALE:
        return J->ca == F->ca && jacobian_of(J->a, F->a);
    case SJ__OP_COMBINE:
    case SJ__OP_COMPOSE:
        return jacobian_of(J->a, F->a) && jacobian_of(J->b, F->b);
    case SJ__OP_BLOCK:
        if (J->blk->m != F->blk->m || J->blk->n != F->blk->n)
            return 0;
        for (int k = 0; k < F->blk->m * F->blk->n; k++)
            if (!jacobian_of(J->blk->grid[k], F->blk->grid[k]))
                return 0;
        return 1;
    case SJ__OP_ADJOINT:
        return 0; /* linear, handled above */
    }
    return 0;
}

/* The walk of sj__op_jacobian, writing into J's points instead of making operators. */
static int jacobian_move(sj__call_t *c, sj_op_t J, sj_op_t F, const sj__vec_t *m0)
{
    if (F->linear)
        return SJ_OK;
    switch (F->type) {
    case SJ__OP_LEAF: {
        sj__kargs_t args = {.dtype = F->dom_space->dtype};
        sj__buf_t bufs[2] = {{J->point, SJ__W}, {m0->h[0], SJ__R}};
        SJ_TRY(sj__rt_submit(SJ__K_COPY, &args, sizeof args, 2, bufs));
        return read_on(c, m0, 0, F->home);
    }
    case SJ__OP_SCALE:
        return jacobian_move(c, J->a, F->a, m0);
    case SJ__OP_COMBINE:
        SJ_TRY(jacobian_move(c, J->a, F->a, m0));
        return jacobian_move(c, J->b, F->b, m0);
    case SJ__OP_COMPOSE: {
        sj__vec_t t;
        SJ_TRY(jacobian_move(c, J->a, F->a, m0));
        SJ_TRY(sj__call_temp(c, F->a->rng_space, F->a->rng_dist->owner, &t));
        SJ_TRY(sj__op_apply(c, F->a, SJ_OP_FORWARD, 1.0, m0, 0.0, &t));
        return jacobian_move(c, J->b, F->b, &t);
    }
    case SJ__OP_BLOCK:
        for (int k = 0; k < F->blk->m * F->blk->n; k++) {
            sj_op_t E = F->blk->grid[k];
            if (!E)
                continue;
            sj__vec_t mj;
            sj__vec_block(m0, k % F->blk->n, E->dom_space, &mj);
            SJ_TRY(jacobian_move(c, J->blk->grid[k], E, &mj));
        }
        return SJ_OK;
    case SJ__OP_ADJOINT:
        break;
    }
    return SJ_OK;
}

int sj__op_jacobian_move(sj_op_t J, sj_op_t F, sj_array_t m0)
{
    static const char func[] = "sj_op_jacobian";
    SJ_TRY(sj__check_op(func, "J", J));
    SJ_TRY(sj__check_op(func, "F", F));
    SJ_TRY(sj__check_array(func, "m0", m0));
    SJ_TRY(sj__check_compatible(func, "m0", m0->space, "the operator's domain", F->dom_space));
    SJ_CHECK_FN(func, jacobian_of(J, F), SJ_EINVAL,
                "J is not a Jacobian that sj_op_jacobian made of F");
    sj__vec_t v;
    sj__vec_of_array(m0, &v);
    sj__call_t c;
    sj__call_init(&c, func);
    c.cache = &J->tmp_cache[4];
    c.cursor = c.cache;
    const int rc = jacobian_move(&c, J, F, &v);
    sj__call_finish(&c);
    return rc < 0 ? sj__error_rename(rc, func) : SJ_OK;
}
