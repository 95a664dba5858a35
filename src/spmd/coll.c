/*
 * Collectives of an SPMD context: binomial trees of point-to-point messages
 * on the context's COLL lane (rt_msg.h), log2(size) steps deep.
 *
 * Tree of n nodes rooted at 0 over *virtual* ranks v = (rank - root) mod n:
 * the parent of v > 0 is v with its lowest set bit cleared; the children of v
 * are v + m for m = 1, 2, 4, ... below the lowest set bit of v (any m for the
 * root) while v + m < n, and child v + m heads the subtree [v + m, v + 2m)
 * cut at n. Scatter and gather move each subtree's chunks in one message, in
 * virtual order (the root rotates its buffer when root != 0).
 *
 * Failures travel with the data: a rank that has failed (bad local argument,
 * a message of the wrong size, a failure mark from upstream) still receives
 * what it would have received, then sends failure marks instead of data, so
 * no rank waits forever and the ranks below a failure return its code.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "spmd/spmd_private.h"

typedef struct coll {
    const char *func;
    sj_spmd_context_t ctx;
    int root;
    int v;   /* this rank's virtual rank */
    int err; /* first failure on this rank, 0 while none */
} coll_t;

static coll_t coll_start(const char *func, sj_spmd_context_t ctx, int root)
{
    coll_t c = {func, ctx, root, (ctx->me - root + ctx->n) % ctx->n, 0};
    return c;
}

static int fail(coll_t *c, int rc)
{
    if (!c->err && rc < 0)
        c->err = rc;
    return c->err;
}

/* Context rank of virtual rank v. */
static int real(const coll_t *c, int v)
{
    return (v + c->root) % c->ctx->n;
}

/* Size of the subtree headed by virtual rank v. */
static int subtree(const coll_t *c, int v)
{
    const int n = c->ctx->n;
    if (v == 0)
        return n;
    int low = v & -v;
    return low < n - v ? low : n - v;
}

/* Largest m with v + m a child of v (0 when v is a leaf). */
static int top_child(const coll_t *c, int v)
{
    int sz = subtree(c, v), m = 1;
    if (sz <= 1)
        return 0;
    while (2 * m < sz)
        m *= 2;
    return m;
}

/*
 * Flags of the end-of-run marks on the COLL lane: failure marks are small
 * error codes, so bit 29 tells them apart. A mark carries the failures
 * counted so far (11 bits, saturated) and the lowest failing context rank
 * (18 bits, all ones for none). A member whose function failed first sends
 * LEFT_MARK to every other member, so that none waits on it in a collective
 * it will never join; FLUSH_MARK closes a member's stream after a failed run.
 */
#define AGREE_BIT (1 << 29)
#define FLUSH_MARK (1 << 30)
#define LEFT_MARK (FLUSH_MARK | 1) /* "my function returned non-zero", to every member */
#define COUNT_MAX 2047
#define RANK_NONE 0x3FFFF

static int agree_mark(int count, int lowest)
{
    const int cnt = count < COUNT_MAX ? count : COUNT_MAX;
    const int low = lowest < RANK_NONE ? lowest : RANK_NONE;
    return AGREE_BIT | (cnt << 18) | low;
}

static int is_agree_mark(int flag)
{
    return flag > 0 && flag < FLUSH_MARK && (flag & AGREE_BIT);
}

static int is_flush_mark(int flag)
{
    return flag == FLUSH_MARK;
}

/* The collective fails: context rank src has left the run's function. */
static void left_run(coll_t *c, int src)
{
    fail(c,
         sj__error(SJ_EUSER, c->func,
                   "context rank %d returned from the run's function before this collective", src));
}

/* Receive from virtual rank v into buf (dropped once this rank has failed). */
static void coll_recv(coll_t *c, int v, void *buf, size_t size)
{
    int flag = 0;
    const int src = real(c, v);
    if (c->ctx->agree[src]) { /* that rank has left its function (mark or LEFT seen) */
        left_run(c, src);
        return;
    }
    /* once failed, the message is only consumed: any size will do */
    int rc = sj__msg_recv(c->func, c->ctx->chan, SJ__LANE_COLL, src, 0, c->err ? NULL : buf,
                          c->err ? 0 : size, NULL, &flag);
    if (rc == SJ_ESIZE && c->err)
        rc = SJ_OK;
    if (rc == SJ_OK && (is_agree_mark(flag) || flag == LEFT_MARK)) {
        /* an agreement mark is kept for the agreement at the end of the run */
        c->ctx->agree[src] = flag == LEFT_MARK ? -1 : flag;
        left_run(c, src);
    } else if (rc < 0) {
        fail(c, rc);
    } else if (flag && !c->err) {
        c->err = sj__error(-flag, c->func,
                           "a rank before this one in the tree failed with %s (the failure came "
                           "through context rank %d; its own sentence says why)",
                           sj_err_name(-flag), src);
    }
}

/* Send data to virtual rank v, or a failure mark once this rank has failed. */
static void coll_send(coll_t *c, int v, const void *buf, size_t size)
{
    fail(c, sj__msg_send(c->func, c->ctx->chan, SJ__LANE_COLL, real(c, v), 0, c->err ? -c->err : 0,
                         c->err ? NULL : buf, c->err ? 0 : size));
}

static int check_root(const char *func, sj_spmd_context_t ctx, int root)
{
    SJ_CHECK_FN(func, root >= 0 && root < ctx->n, SJ_ERANGE,
                "root is %d, out of the context's ranks [0, %d)", root, ctx->n);
    return SJ_OK;
}

/* ---- allreduce of a few ints, barrier ---------------------------------------- */

#define MAX_INTS 8

int sj__spmd_allreduce_ints(const char *func, sj_spmd_context_t ctx, int *v, int k, const char *ops)
{
    coll_t c = coll_start(func, ctx, 0);
    int got[MAX_INTS];
    const size_t bytes = (size_t)k * sizeof(int);
    for (int m = 1; m <= top_child(&c, c.v); m *= 2) {
        coll_recv(&c, c.v + m, got, bytes);
        for (int i = 0; i < k && !c.err; i++)
            v[i] = ops[i] == '+' ? v[i] + got[i] : (got[i] < v[i] ? got[i] : v[i]);
    }
    if (c.v) {
        coll_send(&c, c.v & (c.v - 1), v, bytes);
        coll_recv(&c, c.v & (c.v - 1), v, bytes);
    }
    for (int m = top_child(&c, c.v); m >= 1; m /= 2)
        coll_send(&c, c.v + m, v, bytes);
    return c.err;
}

/* Send the flag-only mark @p flag to every other member of the context. */
static int mark_all(const char *func, sj_spmd_context_t ctx, int flag)
{
    int rc = SJ_OK;
    for (int d = 0; d < ctx->n && rc == SJ_OK; d++)
        if (d != ctx->me)
            rc = sj__msg_send(func, ctx->chan, SJ__LANE_COLL, d, 0, flag, NULL, 0);
    return rc;
}

/*
 * Receive from context rank src until a mark @p want accepts (into *flag),
 * dropping everything before it: data of a collective this rank left
 * (consumed and dropped as SJ_ESIZE) and other marks.
 */
static int drop_until(const char *func, sj_spmd_context_t ctx, int src, int (*want)(int), int *flag)
{
    for (;;) {
        int rc = sj__msg_recv(func, ctx->chan, SJ__LANE_COLL, src, 0, NULL, 0, NULL, flag);
        if (rc == SJ_OK && want(*flag))
            return SJ_OK;
        if (rc < 0 && rc != SJ_ESIZE)
            return rc;
    }
}

/* The next end-of-run mark from context rank src (kept by a collective, or received). */
static int agree_recv(const char *func, sj_spmd_context_t ctx, int src, int *mark)
{
    if (ctx->agree[src] > 0) {
        *mark = ctx->agree[src];
        ctx->agree[src] = 0;
        return SJ_OK;
    }
    return drop_until(func, ctx, src, is_agree_mark, mark);
}

static void agree_combine(int mark, int *count, int *lowest)
{
    const int low = mark & RANK_NONE;
    *count += (mark >> 18) & COUNT_MAX;
    if (low != RANK_NONE && low < *lowest)
        *lowest = low;
}

/* After a failed run: every member closes its stream to every other one with
 * FLUSH_MARK and reads each peer's stream up to its mark, dropping the rest. */
static int flush_coll(const char *func, sj_spmd_context_t ctx)
{
    int rc = mark_all(func, ctx, FLUSH_MARK);
    for (int s = 0; s < ctx->n; s++) {
        int flag = 0, r = s == ctx->me ? SJ_OK : drop_until(func, ctx, s, is_flush_mark, &flag);
        rc = rc < 0 ? rc : r;
    }
    return rc;
}

int sj__spmd_agree(const char *func, sj_spmd_context_t ctx, int failed, int *count, int *lowest)
{
    coll_t c = coll_start(func, ctx, 0);
    int cnt = failed != 0, low = failed ? ctx->me : INT_MAX;
    int mark = 0, rc = failed ? mark_all(func, ctx, LEFT_MARK) : SJ_OK;
    for (int m = 1; m <= top_child(&c, c.v) && rc == SJ_OK; m *= 2)
        if ((rc = agree_recv(func, ctx, real(&c, c.v + m), &mark)) == SJ_OK)
            agree_combine(mark, &cnt, &low);
    if (c.v && rc == SJ_OK) {
        const int parent = real(&c, c.v & (c.v - 1));
        rc = sj__msg_send(func, ctx->chan, SJ__LANE_COLL, parent, 0, agree_mark(cnt, low), NULL, 0);
        if (rc == SJ_OK && (rc = agree_recv(func, ctx, parent, &mark)) == SJ_OK) {
            cnt = 0;
            low = INT_MAX;
            agree_combine(mark, &cnt, &low);
        }
    }
    for (int m = top_child(&c, c.v); m >= 1 && rc == SJ_OK; m /= 2)
        rc = sj__msg_send(func, ctx->chan, SJ__LANE_COLL, real(&c, c.v + m), 0,
                          agree_mark(cnt, low), NULL, 0);
    for (int r = 0; r < ctx->n; r++)
        ctx->agree[r] = 0;
    if (rc == SJ_OK && cnt > 0)
        rc = flush_coll(func, ctx);
    *count = cnt;
    *lowest = low;
    return rc;
}

int sj_spmd_barrier(sj_spmd_context_t ctx)
{
    SJ_TRY(sj__spmd_check(__func__, ctx));
    return sj__spmd_allreduce_ints(__func__, ctx, NULL, 0, "");
}

/* ---- broadcast ------------------------------------------------------------------ */

int sj_spmd_bcast(sj_spmd_context_t ctx, int root, void *buf, size_t size)
{
    SJ_TRY(sj__spmd_check(__func__, ctx));
    SJ_TRY(check_root(__func__, ctx, root));
    coll_t c = coll_start(__func__, ctx, root);
    /* a local mistake still takes part in the tree, so that the others learn of it */
    fail(&c, sj__spmd_check_size(__func__, "size", size));
    if (!buf && size)
        fail(&c, sj__error(SJ_ENULL, __func__, "buf is NULL but size is %zu", size));
    if (c.v)
        coll_recv(&c, c.v & (c.v - 1), buf, size);
    for (int m = top_child(&c, c.v); m >= 1; m /= 2)
        coll_send(&c, c.v + m, buf, size);
    return c.err;
}

/* ---- scatter and gather ----------------------------------------------------------- */

/* Checks every rank makes alike; the bytes per rank in *chunk. */
static int check_parts(const char *func, sj_spmd_context_t ctx, int root, size_t count,
                       size_t elem_size, size_t *chunk)
{
    SJ_TRY(sj__spmd_check(func, ctx));
    SJ_TRY(check_root(func, ctx, root));
    SJ_CHECK_FN(func, elem_size >= 1, SJ_ESIZE, "elem_size is 0");
    SJ_CHECK_FN(func, count % (size_t)ctx->n == 0, SJ_ESIZE,
                "count is %zu, not a multiple of the context's %d ranks (every rank gets count / "
                "size elements)",
                count, ctx->n);
    SJ_CHECK_FN(func, count <= SJ_SPMD_SIZE_MAX / elem_size, SJ_ESIZE,
                "count * elem_size (%zu * %zu) is more than SJ_SPMD_SIZE_MAX bytes", count,
                elem_size);
    *chunk = count / (size_t)ctx->n * elem_size;
    return SJ_OK;
}

/* Between a root buffer in rank order and one in virtual order (rotated by root). */
static void rotate(char *virt, char *ranked, int root, int n, size_t chunk, int to_virtual)
{
    const size_t head = (size_t)(n - root) * chunk, tail = (size_t)root * chunk;
    if (to_virtual) {
        memcpy(virt, ranked + tail, head);
        memcpy(virt + head, ranked, tail);
    } else {
        memcpy(ranked + tail, virt, head);
        memcpy(ranked, virt + head, tail);
    }
}

/* Memory for a subtree's chunks; NULL (and a failure) when out of memory. */
static char *coll_alloc(coll_t *c, size_t bytes)
{
    char *p = malloc(bytes ? bytes : 1);
    if (!p)
        fail(c, sj__error(SJ_ENOMEM, c->func, "cannot allocate %zu bytes", bytes));
    return p;
}

int sj_spmd_scatter(sj_spmd_context_t ctx, int root, const void *sendbuf, void *recvbuf,
                    size_t count, size_t elem_size)
{
    size_t chunk = 0;
    SJ_TRY(check_parts(__func__, ctx, root, count, elem_size, &chunk));
    coll_t c = coll_start(__func__, ctx, root);
    const int n = ctx->n, v = c.v, sz = subtree(&c, v);
    if (v == 0 && !sendbuf && chunk)
        fail(&c,
             sj__error(SJ_ENULL, __func__, "sendbuf is NULL on the root (context rank %d)", root));
    if (!recvbuf && chunk)
        fail(&c, sj__error(SJ_ENULL, __func__, "recvbuf is NULL but receives %zu bytes", chunk));
    /* the chunks of this rank's subtree, in virtual order */
    char *mine = NULL, *own = NULL;
    if (v == 0 && root == 0) {
        mine = (char *)sendbuf;
    } else if (v == 0) {
        own = mine = c.err ? NULL : coll_alloc(&c, (size_t)n * chunk);
        if (mine && chunk)
            rotate(mine, (char *)sendbuf, root, n, chunk, 1);
    } else if (sz == 1) {
        mine = recvbuf;
        coll_recv(&c, v & (v - 1), mine, chunk);
    } else {
        own = mine = c.err ? NULL : coll_alloc(&c, (size_t)sz * chunk);
        coll_recv(&c, v & (v - 1), mine, (size_t)sz * chunk);
    }
    for (int m = top_child(&c, v); m >= 1; m /= 2) {
        int len = sz - m < m ? sz - m : m;
        coll_send(&c, v + m, c.err ? NULL : mine + (size_t)m * chunk, (size_t)len * chunk);
    }
    if (!c.err && mine != recvbuf && chunk)
        memcpy(recvbuf, mine, chunk);
    free(own);
    return c.err;
}

int sj_spmd_gather(sj_spmd_context_t ctx, int root, const void *sendbuf, void *recvbuf,
                   size_t count, size_t elem_size)
{
    size_t chunk = 0;
    SJ_TRY(check_parts(__func__, ctx, root, count, elem_size, &chunk));
    coll_t c = coll_start(__func__, ctx, root);
    const int n = ctx->n, v = c.v, sz = subtree(&c, v);
    if (!sendbuf && chunk)
        fail(&c, sj__error(SJ_ENULL, __func__, "sendbuf is NULL but sends %zu bytes", chunk));
    if (v == 0 && !recvbuf && chunk)
        fail(&c,
             sj__error(SJ_ENULL, __func__, "recvbuf is NULL on the root (context rank %d)", root));
    if (v && sz == 1) { /* a leaf sends its own chunk */
        coll_send(&c, v & (v - 1), sendbuf, chunk);
        return c.err;
    }
    /* the chunks of this rank's subtree, in virtual order */
    char *mine = NULL, *own = NULL;
    if (v == 0 && root == 0)
        mine = recvbuf;
    else if (!c.err)
        own = mine = coll_alloc(&c, (size_t)sz * chunk);
    if (!c.err && chunk)
        memcpy(mine, sendbuf, chunk);
    for (int m = 1; m <= top_child(&c, v); m *= 2) {
        int len = sz - m < m ? sz - m : m;
        coll_recv(&c, v + m, c.err ? NULL : mine + (size_t)m * chunk, (size_t)len * chunk);
    }
    if (v)
        coll_send(&c, v & (v - 1), c.err ? NULL : mine, (size_t)sz * chunk);
    else if (root != 0 && !c.err && chunk)
        rotate(mine, recvbuf, root, n, chunk, 0);
    free(own);
    return c.err;
}
