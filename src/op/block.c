/*
 * Block operators: an m x n grid of operators on a 2-D layout, and their
 * distributed apply (docs/operators.md, "How an apply runs").
 *
 * Forward, for each block row i with non-zero blocks j_0 < j_1 < ...: the
 * owner of block (i, j_k) computes the partial A(i, j_k) x(j_k) into a
 * temporary of its own; the partials are summed along the pairwise tree over
 * k (stride 1, 2, 4, ...: the order depends on the block pattern only, so
 * the bits do not depend on the layout); each pair's sum lands on the side
 * that holds the row's first block on y(i)'s owner (a + b = b + a), so the
 * root lands on that rank. When there is such a block (and the bits cannot
 * change: one block, or y = A x), its partial is written straight into y(i)
 * and the tree adds into it; a row with one such block (block-diagonal)
 * moves nothing. An input block needed on
 * three or more other ranks travels down a binomial tree of copies instead of
 * leaving its owner once per rank (tall-and-skinny: the model on the root).
 * The adjoint is the same walk over the columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op/op_private.h"

/* ---- structure --------------------------------------------------------------- */

static int nonzero(sj_op_t op)
{
    return op && !sj__op_is_zero(op);
}

/* Row and column lists of the non-zero blocks, and the pattern's kind. */
static int index_blocks(sj__block_t *b)
{
    const int m = b->m, n = b->n;
    free(b->row_ptr);
    free(b->row_idx);
    free(b->col_ptr);
    free(b->col_idx);
    int nnz = 0;
    for (int k = 0; k < m * n; k++)
        nnz += nonzero(b->grid[k]);
    b->row_ptr = sj__calloc((size_t)m + 1, sizeof(int));
    b->col_ptr = sj__calloc((size_t)n + 1, sizeof(int));
    b->row_idx = sj__calloc((size_t)nnz + 1, sizeof(int));
    b->col_idx = sj__calloc((size_t)nnz + 1, sizeof(int));
    if (!b->row_ptr || !b->col_ptr || !b->row_idx || !b->col_idx)
        return SJ_ENOMEM;
    int k = 0;
    for (int i = 0; i < m; i++) {
        b->row_ptr[i] = k;
        for (int j = 0; j < n; j++)
            if (nonzero(b->grid[i * n + j]))
                b->row_idx[k++] = j;
    }
    b->row_ptr[m] = k;
    k = 0;
    for (int j = 0; j < n; j++) {
        b->col_ptr[j] = k;
        for (int i = 0; i < m; i++)
            if (nonzero(b->grid[i * n + j]))
                b->col_idx[k++] = i;
    }
    b->col_ptr[n] = k;
    int diag = m == n;
    for (int i = 0; i < m && diag; i++)
        for (int p = b->row_ptr[i]; p < b->row_ptr[i + 1]; p++)
            diag &= b->row_idx[p] == i;
    b->kind = n == 1 && m > 1 ? SJ_OP_BLOCK_TALL
              : diag          ? SJ_OP_BLOCK_DIAGONAL
                              : SJ_OP_BLOCK_GENERAL;
    return SJ_OK;
}

/* Check block (i, j) against the layout and the lengths found so far. */
static int check_block(const char *func, sj_dist_t dist, int m, int i, int j, sj_op_t op,
                       sj_dtype_t dtype)
{
    char name[40];
    snprintf(name, sizeof name, "block (%d, %d)", i, j);
    SJ_TRY(sj__check_handle(func, name, op, SJ__KIND_OP));
    SJ_CHECK_FN(func, op->home >= 0, SJ_EINVAL,
                "block (%d, %d) runs on several ranks (a block operator or a mix of ranks); a "
                "block must run on one rank",
                i, j);
    const int owner = dist->owner[i + m * j];
    SJ_CHECK_FN(func, op->home == owner, SJ_EINVAL,
                "block (%d, %d) runs on rank %d but the layout gives it to rank %d", i, j, op->home,
                owner);
    SJ_CHECK_FN(func, op->dom_space->dtype == dtype, SJ_EMISMATCH,
                "block (%d, %d) has another element type than the first block", i, j);
    return SJ_OK;
}

static int64_t op_len(sj_op_t op, int range)
{
    return sj__space_block_nelems(range ? op->rng_space : op->dom_space, 0);
}

/* Block lengths of the rows (range) or columns (domain), checked along each. */
static int lengths(const char *func, int m, int n, const sj_op_t grid[], int rows, int64_t len[],
                   int owner[])
{
    const int outer = rows ? m : n, inner = rows ? n : m;
    for (int o = 0; o < outer; o++) {
        len[o] = -1;
        owner[o] = -1;
        int first_nz = -1;
        for (int t = 0; t < inner; t++) {
            const int i = rows ? o : t, j = rows ? t : o;
            sj_op_t op = grid[i * n + j];
            if (!op)
                continue;
            int64_t l = op_len(op, rows);
            if (len[o] < 0) {
                len[o] = l;
                owner[o] = op->home;
            } else {
                SJ_CHECK_FN(func, l == len[o], SJ_EMISMATCH,
                            "block (%d, %d) has a %s of %lld elements but the %s %d has %lld", i, j,
                            rows ? "range" : "domain", (long long)l, rows ? "row" : "column", o,
                            (long long)len[o]);
            }
            if (first_nz < 0 && nonzero(op)) {
                first_nz = t;
                owner[o] = op->home;
            }
        }
        SJ_CHECK_FN(func, len[o] >= 0, SJ_EINVAL,
                    "%s %d has no block to give its length; put an sj_op_zero block in it",
                    rows ? "row" : "column", o);
    }
    return SJ_OK;
}

static int check_layout(const char *func, sj_dist_t dist, int m, int n)
{
    SJ_TRY(sj__check_handle(func, "dist", dist, SJ__KIND_DIST));
    SJ_CHECK_FN(func, dist->ndims == 2 && dist->nblocks[0] == m && dist->nblocks[1] == n,
                SJ_EMISMATCH, "the layout is not a 2-D layout of a %d x %d block grid", m, n);
    SJ_CHECK_FN(func, dist->nranks == sj__rt_nranks(), SJ_EMISMATCH,
                "the layout was made for %d ranks, not %d", dist->nranks, sj__rt_nranks());
    return SJ_OK;
}

/* The layout and every block against it; @p dtype: the first block's element type. */
static int check_blocks(const char *func, sj_dist_t dist, int m, int n, const sj_op_t blocks[],
                        sj_dtype_t *dtype)
{
    SJ_TRY(check_layout(func, dist, m, n));
    *dtype = SJ_FLOAT64;
    int have = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            sj_op_t op = blocks[i * n + j];
            if (!op)
                continue;
            char name[40];
            snprintf(name, sizeof name, "block (%d, %d)", i, j);
            SJ_TRY(sj__check_handle(func, name, op, SJ__KIND_OP));
            if (!have) {
                *dtype = op->dom_space->dtype;
                have = 1;
            }
            SJ_TRY(check_block(func, dist, m, i, j, op, *dtype));
        }
    return SJ_OK;
}

/* The range (rows) and domain (columns) of a block operator, and their 1-D layouts. */
typedef struct outer {
    sj_space_t rs, ds;
    sj_dist_t rd, dd;
} outer_t;

static void outer_free(outer_t *sp)
{
    sj_space_destroy(&sp->rs);
    sj_space_destroy(&sp->ds);
    sj_dist_destroy(&sp->rd);
    sj_dist_destroy(&sp->dd);
}

/* Block lengths and owners of the rows and columns, checked along each, as spaces and layouts. */
static int outer_spaces(const char *func, int m, int n, const sj_op_t blocks[], sj_dtype_t dtype,
                        outer_t *sp)
{
    int64_t *rlen = sj__calloc((size_t)m, sizeof *rlen);
    int64_t *clen = sj__calloc((size_t)n, sizeof *clen);
    int *rown = sj__calloc((size_t)m, sizeof *rown);
    int *cown = sj__calloc((size_t)n, sizeof *cown);
    int rc;
    SJ_TRY_GOTO(rc, rlen && clen && rown && cown ? SJ_OK : SJ_ENOMEM, out);
    SJ_TRY_GOTO(rc, lengths(func, m, n, blocks, 1, rlen, rown), out);
    SJ_TRY_GOTO(rc, lengths(func, m, n, blocks, 0, clen, cown), out);
    SJ_TRY_GOTO(rc, sj_space_create_blocks(dtype, m, rlen, &sp->rs), out);
    SJ_TRY_GOTO(rc, sj_space_create_blocks(dtype, n, clen, &sp->ds), out);
    SJ_TRY_GOTO(rc, sj_dist_create_explicit(1, &m, rown, &sp->rd), out);
    SJ_TRY_GOTO(rc, sj_dist_create_explicit(1, &n, cown, &sp->dd), out);
out:
    free(rlen);
    free(clen);
    free(rown);
    free(cown);
    return rc;
}

/* The grid of block operator @p o: a reference to each block and to the layout. */
static int fill_grid(sj_op_t o, int m, int n, const sj_op_t blocks[], sj_dist_t dist)
{
    sj__block_t *b = o->blk = sj__calloc(1, sizeof *o->blk);
    if (!b)
        return SJ_ENOMEM;
    b->m = m;
    b->n = n;
    b->dist = dist;
    sj__dist_ref(dist);
    b->grid = sj__calloc((size_t)m * n, sizeof *b->grid);
    if (!b->grid)
        return SJ_ENOMEM;
    for (int k = 0; k < m * n; k++)
        if ((b->grid[k] = blocks[k]) != NULL) {
            sj__op_ref(blocks[k]);
            o->linear &= blocks[k]->linear;
        }
    SJ_TRY(index_blocks(b));
    return SJ_OK;
}

static int block_create(const char *func, int m, int n, const sj_op_t blocks[], sj_dist_t dist,
                        sj_op_t *A)
{
    SJ_CHECK_FN(func, A != NULL, SJ_ENULL, "argument 'A' is NULL");
    *A = NULL;
    SJ_TRY(sj__check_running(func));
    SJ_CHECK_FN(func, blocks != NULL, SJ_ENULL, "argument 'blocks' is NULL");
    SJ_CHECK_FN(func, m >= 1 && n >= 1, SJ_ESIZE, "the block grid is %d x %d, expected >= 1 x 1", m,
                n);
    SJ_CHECK_FN(func, (int64_t)m * n <= (1 << 26), SJ_ESIZE, "the block grid %d x %d is too large",
                m, n);
    sj_dist_t own = NULL;
    outer_t sp = {0};
    sj_op_t o = NULL;
    sj_dtype_t dtype = SJ_FLOAT64;
    int rc;
    if (!dist) {
        int nb[2] = {m, n};
        SJ_TRY_GOTO(rc, sj_dist_create_contiguous(2, nb, sj__rt_nranks(), NULL, NULL, &own), out);
        dist = own;
    }
    SJ_TRY_GOTO(rc, check_blocks(func, dist, m, n, blocks, &dtype), out);
    SJ_TRY_GOTO(rc, outer_spaces(func, m, n, blocks, dtype, &sp), out);
    SJ_TRY_GOTO(rc, sj__op_new(SJ__OP_BLOCK, sp.ds, sp.dd, sp.rs, sp.rd, &o), out);
    SJ_TRY_GOTO(rc, fill_grid(o, m, n, blocks, dist), out);
out:
    outer_free(&sp); /* the operator holds its own references */
    sj_dist_destroy(&own);
    if (rc < 0) {
        sj_op_destroy(&o);
        return sj__error_rename(rc, func);
    }
    *A = o;
    return SJ_OK;
}

int sj_op_block_create(int m, int n, const sj_op_t blocks[], sj_dist_t dist, sj_op_t *A)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return block_create(__func__, m, n, blocks, dist, A);
}

int sj_op_block_create_fn(int m, int n, sj_dist_t dist, sj_op_block_fn_t fn, const void *ctx,
                          size_t ctx_size, sj_op_t *A)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(A);
    *A = NULL;
    SJ_TRY(sj__check_running(__func__));
    SJ_CHECK_NULL(fn);
    SJ_CHECK(m >= 1 && n >= 1, SJ_ESIZE, "the block grid is %d x %d, expected >= 1 x 1", m, n);
    SJ_CHECK((int64_t)m * n <= (1 << 26), SJ_ESIZE, "the block grid %d x %d is too large", m, n);
    SJ_CHECK(ctx != NULL || ctx_size == 0, SJ_ENULL, "ctx is NULL but ctx_size is %zu", ctx_size);
    SJ_CHECK(ctx_size <= ((size_t)1 << 20), SJ_ESIZE, "ctx_size is %zu, more than 1 MiB", ctx_size);
    sj_dist_t own = NULL;
    sj_op_t *grid = NULL;
    void *copy = NULL;
    int rc;
    if (!dist) {
        int nb[2] = {m, n};
        SJ_TRY_GOTO(rc, sj_dist_create_contiguous(2, nb, sj__rt_nranks(), NULL, NULL, &own), out);
        dist = own;
    }
    SJ_TRY_GOTO(rc, check_layout(__func__, dist, m, n), out);
    grid = sj__calloc((size_t)m * n, sizeof *grid);
    copy = ctx_size ? sj__calloc(1, ctx_size) : NULL;
    SJ_TRY_GOTO(rc, grid && (copy || !ctx_size) ? SJ_OK : SJ_ENOMEM, out);
    if (ctx_size)
        memcpy(copy, ctx, ctx_size);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            rc = fn(i, j, dist->owner[i + m * j], ctx_size ? copy : (void *)ctx, &grid[i * n + j]);
            if (rc != 0) {
                char why[200];
                snprintf(why, sizeof why, "%s", sj_last_error());
                rc = sj__error(rc < 0 ? rc : SJ_EUSER, __func__,
                               "the block function failed for block (%d, %d) with %d (%s)", i, j,
                               rc, why);
                goto out;
            }
        }
    SJ_TRY_GOTO(rc, block_create(__func__, m, n, grid, dist, A), out);
out:
    for (int k = 0; grid && k < m * n; k++)
        sj_op_destroy(&grid[k]);
    free(grid);
    free(copy);
    sj_dist_destroy(&own);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

/*
 * The 2-D layout of an n x n block grid that gives row i to the owner of block
 * i of the 1-D layout @p d1 (a contiguous one when NULL).
 */
static int diagonal_layout(int n, sj_dist_t d1, sj_dist_t *d2)
{
    sj_dist_t own = NULL;
    int *owners = NULL;
    int rc;
    if (!d1) {
        SJ_TRY_GOTO(rc, sj_dist_create_contiguous(1, &n, sj__rt_nranks(), NULL, NULL, &own), out);
        d1 = own;
    }
    owners = sj__calloc((size_t)n * n, sizeof *owners);
    SJ_TRY_GOTO(rc, owners ? SJ_OK : SJ_ENOMEM, out);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            owners[i + n * j] = d1->owner[i];
    int nb[2] = {n, n};
    SJ_TRY_GOTO(rc, sj_dist_create_explicit(2, nb, owners, d2), out);
out:
    free(owners);
    sj_dist_destroy(&own);
    return rc;
}

int sj_op_block_diag(int n, const sj_op_t blocks[], sj_dist_t dist, sj_op_t *A)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(A);
    *A = NULL;
    SJ_TRY(sj__check_running(__func__));
    SJ_CHECK_NULL(blocks);
    SJ_CHECK(n >= 1 && n <= (1 << 13), SJ_ESIZE, "n is %d, expected 1 to 8192", n);
    if (dist)
        SJ_CHECK_HANDLE(dist, SJ__KIND_DIST);
    SJ_CHECK(!dist || dist->ndims == 2 || (dist->ndims == 1 && dist->nblocks[0] == n), SJ_EMISMATCH,
             "the layout is neither a 1-D layout of %d blocks nor a 2-D %d x %d one", n, n, n);
    sj_dist_t d2 = NULL;
    sj_op_t *grid = NULL;
    int rc;
    if (dist && dist->ndims == 2) {
        d2 = dist;
        sj__dist_ref(d2);
    } else {
        SJ_TRY_GOTO(rc, diagonal_layout(n, dist, &d2), out);
    }
    grid = sj__calloc((size_t)n * n, sizeof *grid);
    SJ_TRY_GOTO(rc, grid ? SJ_OK : SJ_ENOMEM, out);
    for (int i = 0; i < n; i++) {
        if (!blocks[i]) {
            rc = sj__error(SJ_ENULL, __func__,
                           "blocks[%d] is NULL; a diagonal block gives the sizes of its row and "
                           "column (use sj_op_zero)",
                           i);
            goto out;
        }
        grid[i * n + i] = blocks[i];
    }
    SJ_TRY_GOTO(rc, block_create(__func__, n, n, grid, d2, A), out);
out:
    free(grid);
    if (d2)
        sj__dist_unref(d2); /* our reference, or the one sj_dist_create_explicit gave */
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

/* ---- queries and block access ---------------------------------------------------- */

static int check_block_op(const char *func, sj_op_t A)
{
    SJ_CHECK_FN(func, A != NULL, SJ_ENULL, "argument 'A' is NULL");
    SJ_TRY(sj__check_handle(func, "A", A, SJ__KIND_OP));
    SJ_CHECK_FN(func, A->type == SJ__OP_BLOCK, SJ_EINVAL, "A is not a block operator");
    return SJ_OK;
}

int sj_op_block_grid(sj_op_t A, int *m, int *n)
{
    SJ_TRY(check_block_op(__func__, A));
    if (m)
        *m = A->blk->m;
    if (n)
        *n = A->blk->n;
    return SJ_OK;
}

int sj_op_block_dist(sj_op_t A, sj_dist_t *dist)
{
    SJ_TRY(check_block_op(__func__, A));
    SJ_CHECK_NULL(dist);
    *dist = A->blk->dist;
    return SJ_OK;
}

int sj_op_block_kind(sj_op_t A, sj_op_block_kind_t *kind)
{
    SJ_TRY(check_block_op(__func__, A));
    SJ_CHECK_NULL(kind);
    *kind = A->blk->kind;
    return SJ_OK;
}

static int check_ij(const char *func, sj_op_t A, int i, int j)
{
    SJ_CHECK_FN(func, i >= 0 && i < A->blk->m && j >= 0 && j < A->blk->n, SJ_ERANGE,
                "block (%d, %d) is outside the %d x %d grid", i, j, A->blk->m, A->blk->n);
    return SJ_OK;
}

int sj_op_block_get(sj_op_t A, int i, int j, sj_op_t *block)
{
    SJ_CHECK_NULL(block);
    *block = NULL;
    SJ_TRY(check_block_op(__func__, A));
    SJ_TRY(check_ij(__func__, A, i, j));
    sj_op_t op = A->blk->grid[i * A->blk->n + j];
    if (op)
        *block = sj__op_user_ref(op);
    return SJ_OK;
}

int sj_op_block_set(sj_op_t A, int i, int j, sj_op_t block)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_running(__func__));
    SJ_TRY(check_block_op(__func__, A));
    SJ_TRY(check_ij(__func__, A, i, j));
    sj__block_t *b = A->blk;
    if (block) {
        SJ_TRY(check_block(__func__, b->dist, b->m, i, j, block, A->dom_space->dtype));
        SJ_CHECK(op_len(block, 1) == sj__space_block_nelems(A->rng_space, i), SJ_EMISMATCH,
                 "the block's range has %lld elements but row %d has %lld",
                 (long long)op_len(block, 1), i,
                 (long long)sj__space_block_nelems(A->rng_space, i));
        SJ_CHECK(op_len(block, 0) == sj__space_block_nelems(A->dom_space, j), SJ_EMISMATCH,
                 "the block's domain has %lld elements but column %d has %lld",
                 (long long)op_len(block, 0), j,
                 (long long)sj__space_block_nelems(A->dom_space, j));
        SJ_CHECK(block->linear || !A->linear, SJ_EINVAL,
                 "the block is nonlinear but A is linear (its Jacobians and adjoints are in use)");
        sj__op_ref(block);
    }
    sj_op_t old = b->grid[i * b->n + j];
    b->grid[i * b->n + j] = block;
    if (old)
        sj__op_unref(old);
    return sj__named(index_blocks(b), __func__);
}

/* ---- apply ---------------------------------------------------------------------- */

/* Where an input block can be read on each rank: itself, or a copy made by the tree. */
typedef struct source {
    int ncopies;
    int *rank;
    sj__vec_t *copy;
} source_t;

/* A view of block `t` of the input for a task on rank r. */
static void source_on(const source_t *s, const sj__vec_t *in, int t, sj_space_t space, int r,
                      sj__vec_t *out)
{
    for (int k = 0; k < s->ncopies; k++)
        if (s->rank[k] == r) {
            *out = s->copy[k];
            return;
        }
    sj__vec_block(in, t, space, out);
}

static int highest_pow2(int k)
{
    int p = 1;
    while (2 * p <= k)
        p *= 2;
    return p;
}

/*
 * Copies of input block t along a binomial tree when three or more other ranks
 * read it: position 0 is the owner, 1.. the readers in the order they appear;
 * position k copies from position k - 2^floor(log2 k).
 */
static int broadcast(sj__call_t *c, const sj__vec_t *in, int t, const int readers[], int nreaders,
                     sj_space_t space, source_t *s)
{
    s->ncopies = 0;
    if (nreaders < 3)
        return SJ_OK;
    s->rank = sj__calloc((size_t)nreaders, sizeof *s->rank);
    s->copy = sj__calloc((size_t)nreaders, sizeof *s->copy);
    if (!s->rank || !s->copy)
        return SJ_ENOMEM;
    sj__vec_t root;
    sj__vec_block(in, t, space, &root);
    for (int k = 1; k <= nreaders; k++) {
        sj__vec_t *dst = &s->copy[k - 1];
        SJ_TRY(sj__call_temp(c, space, &readers[k - 1], dst));
        s->rank[k - 1] = readers[k - 1];
        const int parent = k - highest_pow2(k);
        const sj__vec_t *src = parent == 0 ? &root : &s->copy[parent - 1];
        sj__kargs_t args = {.dtype = space->dtype};
        sj__buf_t bufs[2] = {{dst->h[0], SJ__W}, {src->h[0], SJ__R}};
        SJ_TRY(sj__rt_submit(SJ__K_COPY, &args, sizeof args, 2, bufs));
        /* a copy the operator keeps, read on another rank: flushed at the end */
        if (parent > 0 && c->cache)
            SJ_TRY(sj__call_flush_later(c, src->h[0]));
        s->ncopies = k;
    }
    if (!in->temp || c->cache)
        SJ_TRY(sj__call_flush_later(c, in->h[t]));
    return SJ_OK;
}

/* Block (o, t) of a walk over outputs o: (o, t) forward, (t, o) for the adjoint. */
static sj_op_t block_at(const sj__block_t *b, int fwd, int o, int t)
{
    return fwd ? b->grid[o * b->n + t] : b->grid[t * b->n + o];
}

/* The ranks that read each input block, and the copies the tree makes for them. */
static int copy_inputs(sj__call_t *c, const sj__block_t *b, int fwd, const sj__vec_t *x,
                       source_t src[])
{
    const int nin = fwd ? b->n : b->m;
    /* the non-zero blocks of input t are at outputs iidx[iptr[t] .. iptr[t+1]) */
    const int *iptr = fwd ? b->col_ptr : b->row_ptr, *iidx = fwd ? b->col_idx : b->row_idx;
    int *readers = sj__calloc((size_t)sj__rt_nranks() + 1, sizeof *readers);
    if (!readers)
        return SJ_ENOMEM;
    int rc = SJ_OK;
    for (int t = 0; t < nin; t++) {
        int nr = 0;
        sj_space_t space = NULL;
        for (int p = iptr[t]; p < iptr[t + 1]; p++) {
            sj_op_t op = block_at(b, fwd, iidx[p], t);
            space = fwd ? op->dom_space : op->rng_space;
            int r = op->home, seen = r == x->owner[t];
            for (int q = 0; q < nr && !seen; q++)
                seen = readers[q] == r;
            if (!seen)
                readers[nr++] = r;
        }
        SJ_TRY_GOTO(rc, broadcast(c, x, t, readers, nr, space, &src[t]), out);
    }
out:
    free(readers);
    return rc;
}

/*
 * Output block o: the partial of each of its non-zero blocks on the block's
 * rank, summed along the pairwise tree over k, then y(o) = alpha sum + beta y(o).
 *
 * The tree's pairs are fixed by the block pattern, but each pair's sum may
 * land on either side: a + b and b + a are the same bits. It lands on the
 * side holding the anchor, the first block on y(o)'s rank, so that the sum
 * ends on y(o)'s rank and only the other side's partial travels.
 */
static int apply_output(sj__call_t *c, sj_op_t A, int dir, int o, double alpha, const sj__vec_t *x,
                        const source_t src[], double beta, const sj__vec_t *y)
{
    const sj__block_t *b = A->blk;
    const int fwd = dir == SJ_OP_FORWARD;
    /* the non-zero blocks of output o are inner[ptr[o] .. ptr[o+1]) */
    const int *ptr = fwd ? b->row_ptr : b->col_ptr, *inner = fwd ? b->row_idx : b->col_idx;
    const int K = ptr[o + 1] - ptr[o];
    sj__vec_t yo;
    if (K == 0) {
        sj__vec_block(y, o, y->space, &yo);
        return sj__vec_scale(beta, &yo);
    }
    int anchor = 0;
    for (int k = K - 1; k >= 0; k--)
        if (block_at(b, fwd, o, inner[ptr[o] + k])->home == y->owner[o])
            anchor = k;
    sj_op_t Ea = block_at(b, fwd, o, inner[ptr[o] + anchor]);
    sj__vec_block(y, o, fwd ? Ea->rng_space : Ea->dom_space, &yo);
    sj__vec_t *part = sj__calloc((size_t)K, sizeof *part);
    if (!part)
        return SJ_ENOMEM;
    /*
     * The anchor's partial goes straight into y(o) when they share a rank,
     * and when that gives the same bits as the partial-then-update path: with
     * one block, or for y = A x. So the bits never depend on the layout.
     */
    const int direct = Ea->home == y->owner[o] && (K == 1 || (alpha == 1.0 && beta == 0.0));
    int rc = SJ_OK;
    for (int k = 0; k < K; k++) {
        const int t = inner[ptr[o] + k];
        sj_op_t E = block_at(b, fwd, o, t);
        sj__vec_t xin;
        source_on(&src[t], x, t, fwd ? E->dom_space : E->rng_space, E->home, &xin);
        c->brow = fwd ? o : t;
        c->bcol = fwd ? t : o;
        if (k == anchor && direct) {
            part[k] = yo;
            SJ_TRY_GOTO(rc, sj__op_apply(c, E, dir, alpha, &xin, beta, &yo), out);
        } else {
            SJ_TRY_GOTO(rc, sj__call_temp(c, fwd ? E->rng_space : E->dom_space, &E->home, &part[k]),
                        out);
            SJ_TRY_GOTO(rc, sj__op_apply(c, E, dir, 1.0, &xin, 0.0, &part[k]), out);
        }
    }
    c->brow = c->bcol = -1;
    /* part[k] holds the sum over [k, k + s) at level s */
    for (int s = 1; s < K; s *= 2)
        for (int k = 0; k + s < K; k += 2 * s) {
            if (anchor >= k + s && anchor < k + 2 * s) {
                SJ_TRY_GOTO(rc, sj__vec_axpby(c, 1.0, &part[k], 1.0, &part[k + s]), out);
                sj__vec_t sum = part[k + s];
                part[k + s] = part[k];
                part[k] = sum;
            } else {
                SJ_TRY_GOTO(rc, sj__vec_axpby(c, 1.0, &part[k + s], 1.0, &part[k]), out);
            }
        }
    if (!direct)
        SJ_TRY_GOTO(rc, sj__vec_axpby(c, alpha, &part[0], beta, &yo), out);
out:
    c->brow = c->bcol = -1;
    free(part);
    return rc;
}

int sj__block_apply(sj__call_t *c, sj_op_t A, int dir, double alpha, const sj__vec_t *x,
                    double beta, const sj__vec_t *y)
{
    const sj__block_t *b = A->blk;
    const int fwd = dir == SJ_OP_FORWARD;
    const int nout = fwd ? b->m : b->n, nin = fwd ? b->n : b->m;
    source_t *src = sj__calloc((size_t)nin, sizeof *src);
    if (!src)
        return SJ_ENOMEM;
    int rc;
    SJ_TRY_GOTO(rc, copy_inputs(c, b, fwd, x, src), out);
    for (int o = 0; o < nout; o++)
        SJ_TRY_GOTO(rc, apply_output(c, A, dir, o, alpha, x, src, beta, y), out);
out:
    for (int t = 0; t < nin; t++) {
        free(src[t].rank);
        free(src[t].copy);
    }
    free(src);
    return rc;
}

/* ---- Jacobian ---------------------------------------------------------------------- */

int sj__block_jacobian(sj__call_t *c, sj_op_t F, const sj__vec_t *m0, sj_op_t *J)
{
    const sj__block_t *b = F->blk;
    const int m = b->m, n = b->n;
    sj_op_t *grid = sj__calloc((size_t)m * n, sizeof *grid);
    if (!grid)
        return SJ_ENOMEM;
    int rc;
    for (int k = 0; k < m * n; k++) {
        sj_op_t E = b->grid[k];
        if (!E)
            continue;
        sj__vec_t mj;
        sj__vec_block(m0, k % n, E->dom_space, &mj);
        SJ_TRY_GOTO(rc, sj__op_jacobian(c, E, &mj, &grid[k]), out);
    }
    SJ_TRY_GOTO(rc, block_create(c->func, m, n, grid, b->dist, J), out);
out:
    for (int k = 0; k < m * n; k++)
        sj_op_destroy(&grid[k]);
    free(grid);
    return rc;
}
