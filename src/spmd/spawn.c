/*
 * Spawn / fetch (Distributed.jl `@spawnat` + `fetch`) and everywhere
 * (`@everywhere`).
 *
 * A future is one handle owned by the rank that runs the function: an int64
 * status (the function's return value) followed by the result bytes, written
 * by one task. Fetching moves the handle to the root under the future's
 * second tag (as arrays move blocks to root buffers), and the root tells every
 * rank the status, so that all return the same code.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <starjets/spmd.h>

#include "kernels/spawn.h"
#include "runtime/rt.h"
#include "spmd/spmd_private.h"

struct sj_future_s {
    sj__object_t obj;
    sj__data_t handle;
    int64_t tag; /* 2 tags: the handle's, then moves to a root */
    int owner;
    size_t out_size;
};

/* Status of a future whose handle could not be read on its owner. */
#define STATUS_UNREADABLE INT_MIN

static void future_free(sj_future_t f)
{
    sj__rt_data_unregister_submit(f->handle);
    sj__tag_release(f->tag, 2);
    sj__object_free(f);
}

static void release_user(sj__object_t *obj)
{
    sj__object_remove(obj);
    future_free((sj_future_t)obj);
}

int sj_spawn(int rank, sj_remote_fn_t fn, const void *arg, size_t arg_size, size_t out_size,
             sj_future_t *future)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(future);
    *future = NULL;
    SJ_TRY(sj__spmd_check_not_in_run(__func__));
    SJ_CHECK_NULL(fn);
    SJ_CHECK(rank >= 0 && rank < sj__rt_nranks(), SJ_ERANGE, "rank %d is out of range [0, %d)",
             rank, sj__rt_nranks());
    SJ_CHECK(arg != NULL || arg_size == 0, SJ_ENULL, "arg is NULL but arg_size is %zu", arg_size);
    SJ_CHECK(out_size <= SJ_SPMD_SIZE_MAX - SJ__SPAWN_HEAD, SJ_ESIZE,
             "out_size is %zu, more than %zu", out_size, SJ_SPMD_SIZE_MAX - SJ__SPAWN_HEAD);
    SJ_CHECK(arg_size <= SJ_SPMD_SIZE_MAX - sizeof(sj__spawn_args_t), SJ_ESIZE,
             "arg_size is %zu, more than %zu", arg_size,
             SJ_SPMD_SIZE_MAX - sizeof(sj__spawn_args_t));
    /* only the rank that runs the task needs the argument bytes */
    sj__spawn_args_t head = {fn, arg_size, out_size};
    const int here = rank == sj__rt_rank();
    size_t blk_size = sizeof head + (here ? arg_size : 0);
    unsigned char *blk = malloc(blk_size);
    sj_future_t f = sj__calloc(1, sizeof *f);
    if (!blk || !f) {
        free(blk);
        free(f);
        return sj__error(SJ_ENOMEM, __func__, "cannot allocate a future");
    }
    memcpy(blk, &head, sizeof head);
    if (here && arg_size)
        memcpy(blk + sizeof head, arg, arg_size);
    f->tag = sj__tag_book(2);
    if (f->tag < 0) {
        free(blk);
        free(f);
        return sj__error(SJ_ENOMEM, __func__, "no message tags left");
    }
    f->owner = rank;
    f->out_size = out_size;
    sj__rt_data_register(&f->handle, rank, f->tag, NULL, SJ__SPAWN_HEAD + out_size, 1);
    if (sj__object_add(&f->obj, SJ__KIND_FUTURE, release_user) < 0) {
        free(blk);
        future_free(f);
        return sj__error(SJ_ENOMEM, __func__, "cannot grow the set of live handles");
    }
    sj__buf_t buf = {f->handle, SJ__W};
    int rc = sj__rt_submit(SJ__K_SPAWN, blk, blk_size, 1, &buf);
    free(blk);
    if (rc < 0) {
        sj__object_remove(&f->obj);
        future_free(f);
        return sj__named(rc, __func__);
    }
    *future = f;
    return SJ_OK;
}

/* The status and result bytes of a handle this rank can read (copied to @p out when non-NULL). */
static int read_result(sj__data_t h, void *out, size_t out_size)
{
    const unsigned char *p = sj__rt_data_acquire(h, SJ__R);
    if (!p)
        return STATUS_UNREADABLE;
    int64_t status;
    memcpy(&status, p, sizeof status);
    if (out && out_size)
        memcpy(out, p + SJ__SPAWN_HEAD, out_size);
    sj__rt_data_release(h);
    return status == 0 ? 0 : status < INT_MIN + 1 || status > INT_MAX ? -1 : (int)status;
}

/* Every rank's return value once all agree on @p status. */
static int status_result(const char *func, sj_future_t f, int status)
{
    if (status == STATUS_UNREADABLE)
        return sj__error(SJ_ERUNTIME, func, "the future's result could not be read on rank %d",
                         f->owner);
    if (status != 0)
        return sj__error(SJ_EUSER, func, "the spawned function returned %d on rank %d", status,
                         f->owner);
    return SJ_OK;
}

int sj_future_wait(sj_future_t future)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__spmd_check_not_in_run(__func__));
    SJ_CHECK_HANDLE(future, SJ__KIND_FUTURE);
    int status = 0;
    if (sj__rt_rank() == future->owner)
        status = read_result(future->handle, NULL, 0);
    SJ_TRY(sj__named(sj__rt_agree(&status, future->owner), __func__));
    return status_result(__func__, future, status);
}

int sj_future_fetch(sj_future_t future, int root, void *out)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__spmd_check_not_in_run(__func__));
    SJ_CHECK_HANDLE(future, SJ__KIND_FUTURE);
    SJ_CHECK(root >= 0 && root < sj__rt_nranks(), SJ_ERANGE, "root %d is out of range [0, %d)",
             root, sj__rt_nranks());
    const int me = sj__rt_rank(), owner = future->owner;
    /* only the root sees its buffer: it tells every rank whether it is there */
    int ok = me != root || out != NULL || future->out_size == 0;
    SJ_TRY(sj__named(sj__rt_agree(&ok, root), __func__));
    SJ_CHECK(ok, SJ_ENULL, "out is NULL on the root (rank %d) but the result has %zu bytes", root,
             future->out_size);
    int status = 0;
    if (root == owner) {
        if (me == root)
            status = read_result(future->handle, out, future->out_size);
    } else if (me == root) {
        sj__data_t tmp;
        sj__rt_data_register_local(&tmp, NULL, SJ__SPAWN_HEAD + future->out_size, 1);
        sj__rt_recv_detached(tmp, owner, future->tag + 1);
        status = read_result(tmp, out, future->out_size);
        sj__rt_data_unregister(tmp);
    } else if (me == owner) {
        sj__rt_send_detached(future->handle, root, future->tag + 1);
    }
    SJ_TRY(sj__named(sj__rt_agree(&status, root), __func__));
    return status_result(__func__, future, status);
}

int sj_future_destroy(sj_future_t *future)
{
    if (!future || !*future) {
        sj__rt_collective_noted(__func__); /* the ranks' call numbers stay in step */
        return SJ_OK;
    }
    SJ_TRY(sj__spmd_check_not_in_run(__func__));
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_handle(__func__, "*future", *future, SJ__KIND_FUTURE));
    release_user(&(*future)->obj);
    *future = NULL;
    return SJ_OK;
}

int sj_everywhere(sj_local_fn_t fn, void *arg)
{
    SJ_TRY(sj__spmd_check_not_in_run(__func__));
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(fn);
    const int ret = fn(arg);
    int failed = 0;
    SJ_TRY(sj__named(sj__rt_sum_int(ret != 0, &failed), __func__));
    if (failed == 0)
        return SJ_OK;
    if (ret != 0)
        return sj__error(SJ_EUSER, __func__,
                         "the function returned %d on this rank (%d); %d rank(s) failed", ret,
                         sj__rt_rank(), failed);
    return sj__error(SJ_EUSER, __func__, "the function failed on %d other rank(s)", failed);
}
