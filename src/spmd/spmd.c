/*
 * SPMD contexts, runs, per-context storage and point-to-point messages
 * (DistributedArrays.SPMD). The transport is src/runtime/msg.c; the trees of
 * the collectives are in coll.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets/spmd.h>

#include "runtime/rt.h"
#include "spmd/spmd_private.h"

/* The function of a run is running on this rank (runs do not nest). */
static int in_run;

static int check_running(const char *func)
{
    SJ_CHECK_FN(func, sj__rt_running(), SJ_ESTATE, "starjets is not initialised (call sj_init)");
    return SJ_OK;
}

int sj__spmd_check_not_in_run(const char *func)
{
    SJ_TRY(check_running(func));
    SJ_CHECK_FN(func, !in_run, SJ_ESTATE,
                "called inside sj_spmd_run: only the context's ranks run its function, so a call "
                "that every rank must make cannot be made there");
    return SJ_OK;
}

static int check_member(const char *func, sj_spmd_context_t ctx)
{
    SJ_CHECK_FN(func, ctx->me >= 0, SJ_EINVAL, "this rank (%d) is not in the context",
                sj__rt_rank());
    return SJ_OK;
}

int sj__spmd_check(const char *func, sj_spmd_context_t ctx)
{
    SJ_TRY(check_running(func));
    SJ_CHECK_FN(func, ctx != NULL, SJ_ENULL, "argument 'ctx' is NULL");
    SJ_TRY(sj__check_handle(func, "ctx", ctx, SJ__KIND_SPMD_CONTEXT));
    SJ_CHECK_FN(func, in_run, SJ_ESTATE,
                "SPMD messages are exchanged inside sj_spmd_run only (from its function)");
    return check_member(func, ctx);
}

int sj__spmd_check_size(const char *func, const char *what, size_t size)
{
    SJ_CHECK_FN(func, size <= SJ_SPMD_SIZE_MAX, SJ_ESIZE,
                "%s is %zu bytes; a message carries at most %zu (SJ_SPMD_SIZE_MAX)", what, size,
                SJ_SPMD_SIZE_MAX);
    return SJ_OK;
}

/* ---- contexts ------------------------------------------------------------- */

static void store_clear(sj_spmd_context_t ctx)
{
    while (ctx->store) {
        sj__store_t *s = ctx->store;
        ctx->store = s->next;
        free(s->ptr);
        free(s);
    }
}

static void ctx_free(sj_spmd_context_t ctx)
{
    sj__object_untrack(&ctx->obj);
    sj__chan_destroy(ctx->chan);
    store_clear(ctx);
    free(ctx->agree);
    sj__object_free(ctx);
}

static void release_user(sj__object_t *obj)
{
    sj_spmd_context_t ctx = (sj_spmd_context_t)obj;
    sj__object_remove(obj);
    ctx_free(ctx);
}

/* A context of the given ranks (checked), registered when @p registered. */
static int ctx_make(const char *func, int n, const int ranks[], int registered,
                    sj_spmd_context_t *out)
{
    sj_spmd_context_t ctx = sj__calloc(1, sizeof *ctx);
    int *agree = ctx ? sj__calloc((size_t)n, sizeof *agree) : NULL;
    if (!agree) {
        free(ctx);
        return sj__error_rename(SJ_ENOMEM, func);
    }
    ctx->agree = agree;
    int rc = sj__chan_create(func, n, ranks, SJ_SPMD_TAG_MAX, &ctx->chan);
    if (rc < 0) {
        free(agree);
        free(ctx);
        return rc;
    }
    ctx->n = n;
    ctx->me = sj__chan_rank(ctx->chan);
    rc = registered ? sj__object_add(&ctx->obj, SJ__KIND_SPMD_CONTEXT, release_user)
                    : sj__object_track(&ctx->obj, SJ__KIND_SPMD_CONTEXT);
    if (rc < 0) {
        ctx_free(ctx);
        return sj__error(SJ_ENOMEM, func, "cannot grow the set of live handles");
    }
    *out = ctx;
    return SJ_OK;
}

int sj_spmd_context_create(int nranks, const int ranks[], sj_spmd_context_t *ctx)
{
    SJ_CHECK_NULL(ctx);
    *ctx = NULL;
    SJ_TRY(sj__spmd_check_not_in_run(__func__));
    SJ_TRY(sj__rt_check_collective(__func__));
    const int np = sj__rt_nranks();
    if (!ranks) {
        SJ_CHECK(nranks == 0 || nranks == np, SJ_ESIZE,
                 "nranks is %d with ranks NULL (all ranks): expected 0 or %d", nranks, np);
        int *all = malloc((size_t)np * sizeof *all);
        if (!all)
            return sj__error(SJ_ENOMEM, __func__, "cannot allocate %d ranks", np);
        for (int r = 0; r < np; r++)
            all[r] = r;
        int rc = ctx_make(__func__, np, all, 1, ctx);
        free(all);
        return rc;
    }
    SJ_CHECK(nranks >= 1, SJ_ESIZE, "nranks is %d, expected >= 1", nranks);
    SJ_CHECK(nranks <= np, SJ_ESIZE, "nranks is %d but there are only %d ranks", nranks, np);
    unsigned char *seen = calloc((size_t)np, 1);
    if (!seen)
        return sj__error(SJ_ENOMEM, __func__, "cannot allocate %d flags", np);
    int rc = SJ_OK;
    for (int i = 0; i < nranks && rc == SJ_OK; i++) {
        if (ranks[i] < 0 || ranks[i] >= np)
            rc = sj__error(SJ_ERANGE, __func__, "ranks[%d] is %d, out of range [0, %d)", i,
                           ranks[i], np);
        else if (seen[ranks[i]]++)
            rc = sj__error(SJ_EINVAL, __func__, "ranks[%d] is %d, which is listed twice", i,
                           ranks[i]);
    }
    free(seen);
    SJ_TRY(rc);
    return ctx_make(__func__, nranks, ranks, 1, ctx);
}

int sj_spmd_context_destroy(sj_spmd_context_t *ctx)
{
    if (!ctx || !*ctx) {
        sj__rt_collective_noted(__func__); /* the ranks' call numbers stay in step */
        return SJ_OK;
    }
    SJ_TRY(sj__spmd_check_not_in_run(__func__));
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_handle(__func__, "*ctx", *ctx, SJ__KIND_SPMD_CONTEXT));
    release_user(&(*ctx)->obj);
    *ctx = NULL;
    return SJ_OK;
}

/* ---- queries and storage -------------------------------------------------- */

int sj_spmd_rank(sj_spmd_context_t ctx)
{
    SJ_TRY(check_running(__func__));
    SJ_CHECK_HANDLE(ctx, SJ__KIND_SPMD_CONTEXT);
    SJ_TRY(check_member(__func__, ctx));
    return ctx->me;
}

int sj_spmd_size(sj_spmd_context_t ctx)
{
    SJ_TRY(check_running(__func__));
    SJ_CHECK_HANDLE(ctx, SJ__KIND_SPMD_CONTEXT);
    return ctx->n;
}

int sj_spmd_world_rank(sj_spmd_context_t ctx, int rank)
{
    SJ_TRY(check_running(__func__));
    SJ_CHECK_HANDLE(ctx, SJ__KIND_SPMD_CONTEXT);
    SJ_CHECK(rank >= 0 && rank < ctx->n, SJ_ERANGE, "rank %d is out of range [0, %d)", rank,
             ctx->n);
    return sj__chan_member(ctx->chan, rank);
}

int sj_spmd_storage(sj_spmd_context_t ctx, const char *key, size_t size, void **ptr)
{
    SJ_CHECK_NULL(ptr);
    *ptr = NULL;
    SJ_TRY(check_running(__func__));
    SJ_CHECK_HANDLE(ctx, SJ__KIND_SPMD_CONTEXT);
    SJ_CHECK_NULL(key);
    SJ_TRY(check_member(__func__, ctx));
    for (sj__store_t *s = ctx->store; s; s = s->next) {
        if (strcmp(s->key, key) != 0)
            continue;
        SJ_CHECK(size == 0 || size == s->size, SJ_ESIZE,
                 "key \"%s\" holds %zu bytes, not %zu (pass 0 to look it up)", key, s->size, size);
        *ptr = s->ptr;
        return SJ_OK;
    }
    if (size == 0)
        return SJ_OK;
    size_t klen = strlen(key);
    sj__store_t *s = malloc(sizeof *s + klen + 1);
    void *mem = calloc(1, size);
    if (!s || !mem) {
        free(s);
        free(mem);
        return sj__error(SJ_ENOMEM, __func__, "cannot allocate %zu bytes for key \"%s\"", size,
                         key);
    }
    memcpy(s->key, key, klen + 1);
    s->size = size;
    s->ptr = mem;
    s->next = ctx->store;
    ctx->store = s;
    *ptr = mem;
    return SJ_OK;
}

/* ---- runs ----------------------------------------------------------------- */

int sj_spmd_run(sj_spmd_context_t ctx, sj_spmd_fn_t fn, void *arg)
{
    SJ_TRY(sj__spmd_check_not_in_run(__func__));
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(fn);
    if (ctx)
        SJ_CHECK_HANDLE(ctx, SJ__KIND_SPMD_CONTEXT);
    /* blocks must be quiescent before anyone sends them */
    SJ_TRY(sj__named(sj__rt_wait_all(), __func__));
    sj_spmd_context_t tmp = NULL;
    if (!ctx) {
        const int np = sj__rt_nranks();
        int *all = malloc((size_t)np * sizeof *all);
        if (!all)
            return sj__error(SJ_ENOMEM, __func__, "cannot allocate %d ranks", np);
        for (int r = 0; r < np; r++)
            all[r] = r;
        int rc = ctx_make(__func__, np, all, 0, &tmp);
        free(all);
        SJ_TRY(rc);
        ctx = tmp;
    }
    int rc = SJ_OK;
    if (ctx->me >= 0) {
        sj__msg_workers_pause(1);
        in_run = 1;
        int ret = fn(ctx, arg);
        in_run = 0;
        /* the function's own sentence, before the agreement's messages overwrite it */
        char why[512] = "";
        if (ret < 0)
            snprintf(why, sizeof why, "%s", sj_last_error());
        /* failures and the lowest failing rank; the tree also completes every send */
        int failed = 0, lowest = INT_MAX;
        rc = sj__spmd_agree(__func__, ctx, ret != 0, &failed, &lowest);
        sj__msg_workers_pause(0);
        if (rc == SJ_OK && failed > 0) {
            if (ret < 0)
                rc = sj__error(SJ_EUSER, __func__,
                               "the function returned %d (%s) on context rank %d (%d rank(s) "
                               "failed); its last error: %s",
                               ret, sj_err_name(ret), ctx->me, failed, why);
            else if (ret != 0)
                rc = sj__error(SJ_EUSER, __func__,
                               "the function returned %d on context rank %d (%d rank(s) failed)",
                               ret, ctx->me, failed);
            else
                rc = sj__error(SJ_EUSER, __func__,
                               "the function failed on context rank %d (%d rank(s) failed)", lowest,
                               failed);
        }
    }
    if (tmp)
        ctx_free(tmp);
    return rc;
}

/* ---- point-to-point -------------------------------------------------------- */

static int check_peer(const char *func, const char *name, sj_spmd_context_t ctx, int peer)
{
    SJ_CHECK_FN(func, peer >= 0 && peer < ctx->n, SJ_ERANGE,
                "%s is %d, out of the context's ranks [0, %d)", name, peer, ctx->n);
    return SJ_OK;
}

static int check_tag(const char *func, int tag)
{
    SJ_CHECK_FN(func, tag >= 0 && tag <= SJ_SPMD_TAG_MAX, SJ_EINVAL,
                "tag is %d, expected 0 .. %d (SJ_SPMD_TAG_MAX)", tag, SJ_SPMD_TAG_MAX);
    return SJ_OK;
}

static int check_buf(const char *func, const void *buf, size_t size)
{
    SJ_CHECK_FN(func, buf != NULL || size == 0, SJ_ENULL, "buf is NULL but size is %zu", size);
    return sj__spmd_check_size(func, "the message", size);
}

static int send_checked(const char *func, sj_spmd_context_t ctx, int dest, int tag, const void *buf,
                        size_t size)
{
    SJ_TRY(sj__spmd_check(func, ctx));
    SJ_TRY(check_peer(func, "dest", ctx, dest));
    SJ_TRY(check_tag(func, tag));
    SJ_TRY(check_buf(func, buf, size));
    return sj__msg_send(func, ctx->chan, SJ__LANE_USER, dest, tag, 0, buf, size);
}

/* @p any: receive from any rank (sj_spmd_recv_any); else @p src must be a context rank. */
static int recv_checked(const char *func, sj_spmd_context_t ctx, int any, int src, int tag,
                        void *buf, size_t size, int *from)
{
    SJ_TRY(sj__spmd_check(func, ctx));
    if (any)
        src = SJ__ANY_SOURCE;
    else
        SJ_TRY(check_peer(func, "src", ctx, src));
    SJ_TRY(check_tag(func, tag));
    SJ_TRY(check_buf(func, buf, size));
    return sj__msg_recv(func, ctx->chan, SJ__LANE_USER, src, tag, buf, size, from, NULL);
}

int sj_spmd_send(sj_spmd_context_t ctx, int dest, int tag, const void *buf, size_t size)
{
    return send_checked(__func__, ctx, dest, tag, buf, size);
}

int sj_spmd_recv(sj_spmd_context_t ctx, int src, int tag, void *buf, size_t size)
{
    return recv_checked(__func__, ctx, 0, src, tag, buf, size, NULL);
}

int sj_spmd_recv_any(sj_spmd_context_t ctx, int tag, void *buf, size_t size, int *src)
{
    if (src)
        *src = -1;
    SJ_TRY(sj__spmd_check(__func__, ctx));
    SJ_CHECK(sj__chan_any_source(), SJ_ENOTSUP,
             "receiving from any rank needs MPI_THREAD_MULTIPLE; MPI runs at "
             "MPI_THREAD_SERIALIZED, where messages go through StarPU-MPI, which matches one "
             "source only (use sj_spmd_recv)");
    return recv_checked(__func__, ctx, 1, -1, tag, buf, size, src);
}

/* The memory and byte size of a block this rank owns, taken with localpart_get. */
static int block_take(const char *func, sj_array_t array, int block, void **ptr, size_t *bytes)
{
    SJ_CHECK_FN(func, array != NULL, SJ_ENULL, "argument 'array' is NULL");
    sj_block_info_t bi;
    SJ_TRY(sj__named(sj_array_block_info(array, block, &bi), func));
    SJ_TRY(sj__named(sj_array_localpart_get(array, block, ptr), func));
    *bytes = (size_t)bi.nelems * sj_dtype_size(bi.dtype);
    return SJ_OK;
}

int sj_spmd_send_block(sj_spmd_context_t ctx, int dest, int tag, sj_array_t array, int block)
{
    SJ_TRY(sj__spmd_check(__func__, ctx));
    SJ_TRY(check_peer(__func__, "dest", ctx, dest));
    SJ_TRY(check_tag(__func__, tag));
    void *p = NULL;
    size_t bytes = 0;
    SJ_TRY(block_take(__func__, array, block, &p, &bytes));
    int rc = send_checked(__func__, ctx, dest, tag, p, bytes);
    sj_array_localpart_restore(array, block, &p);
    return rc;
}

int sj_spmd_recv_block(sj_spmd_context_t ctx, int src, int tag, sj_array_t array, int block)
{
    SJ_TRY(sj__spmd_check(__func__, ctx));
    SJ_TRY(check_peer(__func__, "src", ctx, src));
    SJ_TRY(check_tag(__func__, tag));
    void *p = NULL;
    size_t bytes = 0;
    SJ_TRY(block_take(__func__, array, block, &p, &bytes));
    int rc = recv_checked(__func__, ctx, 0, src, tag, p, bytes, NULL);
    sj_array_localpart_restore(array, block, &p);
    return rc;
}
