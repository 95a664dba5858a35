/*
 * Distributed arrays: creation, destruction, queries, local access, and moving
 * blocks to and from a root.
 *
 * Block memory is allocated by StarPU on the owner when first written and freed
 * when the handle is unregistered; non-owners hold placeholders. Moves between
 * a root buffer and the owners are point-to-point StarPU-MPI transfers under the
 * block's tag, ordered with the tasks that use the block.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array/array_private.h"

int sj__check_running(const char *func)
{
    SJ_CHECK_FN(func, sj__rt_running(), SJ_ESTATE, "starjets is not initialised (call sj_init)");
    return SJ_OK;
}

int sj__check_array(const char *func, const char *name, sj_array_t a)
{
    SJ_TRY(sj__check_running(func));
    SJ_CHECK_FN(func, a != NULL, SJ_ENULL, "array '%s' is NULL", name);
    return sj__check_handle(func, name, a, SJ__KIND_ARRAY);
}

int sj__check_same(const char *func, const char *na, sj_array_t a, const char *nb, sj_array_t b)
{
    SJ_TRY(sj__check_array(func, na, a));
    SJ_TRY(sj__check_array(func, nb, b));
    int eq = 0;
    sj_space_equal(a->space, b->space, &eq);
    if (!eq) {
        char da[128], db[128];
        sj_space_describe(a->space, da, sizeof da);
        sj_space_describe(b->space, db, sizeof db);
        return sj__error(SJ_EMISMATCH, func, "%s and %s have different spaces (%s: %s; %s: %s)", na,
                         nb, na, da, nb, db);
    }
    sj_dist_equal(a->dist, b->dist, &eq);
    SJ_CHECK_FN(func, eq, SJ_EMISMATCH, "%s and %s have different layouts", na, nb);
    return SJ_OK;
}

int sj__check_root(const char *func, int root)
{
    SJ_CHECK_FN(func, root >= 0 && root < sj__rt_nranks(), SJ_ERANGE,
                "root %d is out of range [0, %d)", root, sj__rt_nranks());
    return SJ_OK;
}

/*
 * The root's buffer is an argument only the root sees: the root tells every
 * rank whether it is there, so that all of them fail together.
 */
static int check_root_buf(const char *func, int root, const void *buf)
{
    int ok = sj__rt_rank() != root || buf != NULL;
    SJ_TRY(sj__rt_agree(&ok, root));
    SJ_CHECK_FN(func, ok, SJ_ENULL, "buf is NULL on the root (rank %d)", root);
    return SJ_OK;
}

static int check_block(const char *func, sj_array_t a, int block)
{
    SJ_CHECK_FN(func, block >= 0 && block < a->space->total, SJ_ERANGE,
                "block %d is out of range [0, %d)", block, a->space->total);
    return SJ_OK;
}

/* ---- lifecycle -------------------------------------------------------------- */

/* Everything an array holds but its registry entry and its own memory. */
static void array_drop(sj_array_t a)
{
    const int total = a->space->total;
    for (int b = 0; b < total; b++) {
        if (a->got && a->got[b])
            sj__rt_data_release(a->handles[b]);
        if (a->handles[b])
            sj__rt_data_unregister(a->handles[b]);
    }
    sj__tag_release(a->tag, 2 * (int64_t)total);
    sj__array_reduce_fini(a);
    sj__array_halo_fini(a);
    sj__space_unref(a->space);
    sj__dist_unref(a->dist);
    free(a->handles);
    free(a->got);
    sj__wrap_free(a->wrap);
}

static void array_free(sj_array_t a)
{
    sj__object_remove(&a->obj);
    array_drop(a);
    sj__object_free(a);
}

static void array_release_user(sj__object_t *o)
{
    array_free((sj_array_t)o);
}

/* The memory of an array's blocks, and its registry entry, as far as they go. */
typedef struct blocks_alloc {
    sj_array_t a;
    int next;   /* the first block not registered yet */
    int failed; /* the block whose memory could not be allocated, or -1 */
    int listed; /* sj__object_add's result; 1 before it is tried */
} blocks_alloc_t;

/* Goes on from where it stopped (sj__rt_alloc_agreed calls it again after a failure). */
static int alloc_blocks(void *ctx)
{
    blocks_alloc_t *c = ctx;
    sj_array_t a = c->a;
    const int total = a->space->total;
    const size_t es = sj_dtype_size(a->space->dtype);
    for (c->failed = -1; c->next < total; c->next++) {
        const int b = c->next;
        if (sj__rt_data_register_alloc(&a->handles[b], a->dist->owner[b], a->tag + b,
                                       (size_t)sj__space_block_nelems(a->space, b), es) < 0) {
            c->failed = b;
            return SJ_ENOMEM;
        }
    }
    if (c->listed != SJ_OK)
        c->listed = sj__object_add(&a->obj, SJ__KIND_ARRAY, array_release_user);
    return c->listed;
}

/*
 * Every rank tells whether it has its blocks' memory (and its registry entry):
 * an array that does not fit on one rank is refused on all of them, each
 * naming the first rank that failed, before anything is submitted. A rank
 * that failed first waits for memory being given back and tries once more.
 */
static int agree_allocated(const char *func, blocks_alloc_t *c)
{
    const int me = sj__rt_rank(), n = sj__rt_nranks();
    int rc;
    int64_t first;
    SJ_TRY(sj__named(sj__rt_alloc_agreed(alloc_blocks, c, SJ__RT_MIN, n, me, &rc, &first), func));
    if (first == n)
        return SJ_OK;
    if (first != me)
        return sj__error(SJ_ENOMEM, func,
                         "out of memory on rank %lld (the first rank that could not allocate "
                         "its part of the array); nothing was allocated on any rank",
                         (long long)first);
    sj_array_t a = c->a;
    const int failed = c->failed, listed = c->listed;
    if (listed < 0 && failed < 0)
        return sj__error(SJ_ENOMEM, func,
                         "out of memory on this rank (%d): cannot grow the set of live handles",
                         me);
    const size_t bytes =
        (size_t)sj__space_block_nelems(a->space, failed) * sj_dtype_size(a->space->dtype);
    char limit[96] = "";
    if (sj__rt_mem_limit() >= 0)
        snprintf(limit, sizeof limit, " (StarPU's memory limit: %lld MiB, %lld MiB left)",
                 (long long)(sj__rt_mem_limit() >> 20), (long long)(sj__rt_mem_available() >> 20));
    return sj__error(SJ_ENOMEM, func,
                     "out of memory on this rank (%d): cannot allocate block %d (%zu bytes)%s; "
                     "nothing was allocated on any rank",
                     me, failed, bytes, limit);
}

static int array_new(const char *func, sj_space_t space, sj_dist_t dist, sj_array_t *out)
{
    return sj__array_new(func, space, dist, NULL, out);
}

int sj__array_new(const char *func, sj_space_t space, sj_dist_t dist, sj__wrap_t *wrap,
                  sj_array_t *out)
{
    if (!out || !space || !sj__rt_running())
        sj__wrap_free(wrap);
    SJ_CHECK_FN(func, out != NULL, SJ_ENULL, "argument 'array' (the output) is NULL");
    *out = NULL;
    SJ_TRY(sj__check_running(func));
    SJ_CHECK_FN(func, space != NULL, SJ_ENULL, "argument 'space' is NULL");
    int hrc = sj__check_handle(func, "space", space, SJ__KIND_SPACE);
    if (hrc == SJ_OK && dist)
        hrc = sj__check_handle(func, "dist", dist, SJ__KIND_DIST);
    if (hrc < 0) {
        sj__wrap_free(wrap);
        return hrc;
    }
    sj_dist_t own_dist = NULL;
    if (!dist) {
        int rc = sj_dist_create_default(space, &own_dist);
        if (rc < 0) {
            sj__wrap_free(wrap);
            return sj__error_rename(rc, func);
        }
        dist = own_dist;
    }
    int same = dist->ndims == space->ndims;
    for (int d = 0; same && d < SJ_MAX_DIMS; d++)
        same = dist->nblocks[d] == space->nblocks[d];
    if (!same || dist->nranks != sj__rt_nranks())
        sj__wrap_free(wrap);
    if (!same) {
        sj_dist_destroy(&own_dist);
        return sj__error(SJ_EMISMATCH, func,
                         "the layout's block grid (%dx%dx%d) differs from the space's (%dx%dx%d)",
                         dist->nblocks[0], dist->nblocks[1], dist->nblocks[2], space->nblocks[0],
                         space->nblocks[1], space->nblocks[2]);
    }
    SJ_CHECK_FN(func, dist->nranks == sj__rt_nranks(), SJ_EMISMATCH,
                "the layout was made for %d ranks, the runtime has %d", dist->nranks,
                sj__rt_nranks());
    const int total = space->total;
    sj_array_t a = sj__calloc(1, sizeof *a);
    if (a) {
        a->handles = sj__calloc((size_t)total, sizeof *a->handles);
        a->got = sj__calloc((size_t)total, 1);
    }
    /* two tags per block: one for the task graph's transfers, one for moves to and
     * from a root buffer (move_tag), so that a move can never match a message of
     * a task in flight on the same block */
    int64_t tag = a && a->handles && a->got ? sj__tag_book(2 * (int64_t)total) : -1;
    if (tag < 0) {
        if (a) {
            free(a->handles);
            free(a->got);
            free(a);
        }
        sj__wrap_free(wrap);
        sj_dist_destroy(&own_dist);
        return sj__error(SJ_ENOMEM, func, "cannot allocate the array's handles or tags");
    }
    a->tag = tag;
    a->space = space;
    a->dist = dist;
    sj__space_ref(space);
    sj__dist_ref(dist);
    sj_dist_destroy(&own_dist); /* the array holds its own reference */
    a->wrap = wrap;
    const size_t es = sj_dtype_size(space->dtype);
    blocks_alloc_t c = {.a = a, .failed = -1, .listed = 1};
    int rc;
    if (wrap) { /* no memory of its own, and wrap.c agreed on it already */
        for (int b = 0; b < total; b++) {
            sj_block_info_t bi;
            sj__space_block_info(space, b, &bi);
            sj__rt_data_register_view(&a->handles[b], dist->owner[b], tag + b, wrap->view[b],
                                      bi.dims, wrap->ld[b], es);
        }
        rc = c.listed = sj__object_add(&a->obj, SJ__KIND_ARRAY, array_release_user);
    } else {
        rc = agree_allocated(func, &c);
    }
    if (rc < 0) {
        if (c.listed == SJ_OK)
            sj__object_remove(&a->obj);
        array_drop(a);
        free(a);
        return rc;
    }
    *out = a;
    return SJ_OK;
}

static int create_filled(const char *func, sj_space_t space, sj_dist_t dist, double v,
                         sj_array_t *array)
{
    SJ_TRY(array_new(func, space, dist, array));
    sj__kargs_t args = {.dtype = space->dtype, .a = v};
    int rc = sj__array_submit_local(SJ__K_FILL, &args, 0, SJ__W, 1, array);
    if (rc < 0) {
        sj_array_destroy(array);
        return sj__error_rename(rc, func);
    }
    return SJ_OK;
}

int sj_array_zeros(sj_space_t space, sj_dist_t dist, sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return create_filled(__func__, space, dist, 0.0, array);
}

int sj_array_ones(sj_space_t space, sj_dist_t dist, sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return create_filled(__func__, space, dist, 1.0, array);
}

int sj_array_filled(sj_space_t space, sj_dist_t dist, double value, sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return create_filled(__func__, space, dist, value, array);
}

static int create_random(const char *func, sj_space_t space, sj_dist_t dist, uint64_t seed,
                         int normal, sj_array_t *array)
{
    SJ_TRY(array_new(func, space, dist, array));
    sj__kargs_t args = {.dtype = space->dtype, .op = normal, .seed = seed};
    int rc = sj__array_submit_local(SJ__K_RAND, &args, 1, SJ__W, 1, array);
    if (rc < 0) {
        sj_array_destroy(array);
        return sj__error_rename(rc, func);
    }
    return SJ_OK;
}

int sj_array_rand(sj_space_t space, sj_dist_t dist, uint64_t seed, sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return create_random(__func__, space, dist, seed, 0, array);
}

int sj_array_randn(sj_space_t space, sj_dist_t dist, uint64_t seed, sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return create_random(__func__, space, dist, seed, 1, array);
}

int sj_array_create_init(sj_space_t space, sj_dist_t dist, sj_block_fn_t init, const void *ctx,
                         size_t ctx_size, sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(array);
    *array = NULL;
    SJ_CHECK_NULL(init);
    SJ_CHECK(ctx || ctx_size == 0, SJ_ENULL, "ctx is NULL but ctx_size is %zu", ctx_size);
    SJ_TRY(create_filled(__func__, space, dist, 0.0, array));
    int rc = sj_array_map(0, NULL, *array, init, ctx, ctx_size);
    if (rc < 0) {
        sj_array_destroy(array);
        return sj__error_rename(rc, __func__);
    }
    return SJ_OK;
}

int sj_array_similar(sj_array_t src, sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(array);
    *array = NULL;
    SJ_TRY(sj__check_array(__func__, "src", src));
    return create_filled(__func__, src->space, src->dist, 0.0, array);
}

int sj_array_copy(sj_array_t src, sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(array);
    *array = NULL;
    SJ_TRY(sj__check_array(__func__, "src", src));
    SJ_TRY(array_new(__func__, src->space, src->dist, array));
    int rc = sj_array_copyto(src, *array);
    if (rc < 0) {
        sj_array_destroy(array);
        return sj__error_rename(rc, __func__);
    }
    return SJ_OK;
}

int sj_array_destroy(sj_array_t *array)
{
    if (!array || !*array) {
        sj__rt_collective_noted(__func__); /* the ranks' call numbers stay in step */
        return SJ_OK;
    }
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_handle(__func__, "*array", *array, SJ__KIND_ARRAY));
    sj_array_t a = *array;
    *array = NULL;
    array_free(a);
    return SJ_OK;
}

/* ---- queries ------------------------------------------------------------------ */

int sj_array_space(sj_array_t array, sj_space_t *space)
{
    SJ_CHECK_HANDLE(array, SJ__KIND_ARRAY);
    SJ_CHECK_NULL(space);
    *space = array->space;
    return SJ_OK;
}

int sj_array_dist(sj_array_t array, sj_dist_t *dist)
{
    SJ_CHECK_HANDLE(array, SJ__KIND_ARRAY);
    SJ_CHECK_NULL(dist);
    *dist = array->dist;
    return SJ_OK;
}

int sj_array_local_blocks(sj_array_t array, int *count, const int **blocks)
{
    SJ_TRY(sj__check_array(__func__, "array", array));
    SJ_CHECK_NULL(count);
    return sj_dist_local_blocks(array->dist, sj__rt_rank(), count, blocks);
}

int sj_array_block_info(sj_array_t array, int block, sj_block_info_t *info)
{
    SJ_CHECK_HANDLE(array, SJ__KIND_ARRAY);
    SJ_CHECK_NULL(info);
    SJ_TRY(check_block(__func__, array, block));
    sj__space_block_info(array->space, block, info);
    return SJ_OK;
}

int sj_array_localpart_get(sj_array_t array, int block, void **ptr)
{
    SJ_TRY(sj__check_array(__func__, "array", array));
    SJ_CHECK_NULL(ptr);
    *ptr = NULL;
    SJ_TRY(check_block(__func__, array, block));
    SJ_CHECK(array->dist->owner[block] == sj__rt_rank(), SJ_EINVAL,
             "block %d is owned by rank %d, not by this rank (%d)", block,
             array->dist->owner[block], sj__rt_rank());
    SJ_CHECK(!array->wrap || !array->wrap->acquired, SJ_ESTATE,
             "the array is acquired on this rank (sj_array_acquire): its memory is the host's");
    SJ_CHECK(!array->got[block], SJ_ESTATE,
             "block %d is already taken by sj_array_localpart_get (restore it first)", block);
    SJ_CHECK(!sj__array_strided(array, block), SJ_EINVAL,
             "block %d is a strided view of the host's array (sj_array_wrap_local): reach it "
             "through sj_array_acquire and the host's own pointer",
             block);
    void *p = sj__rt_data_acquire(array->handles[block], SJ__RW);
    SJ_CHECK(p != NULL, SJ_ERUNTIME, "cannot acquire block %d", block);
    array->got[block] = 1;
    *ptr = p;
    return SJ_OK;
}

int sj_array_localpart_restore(sj_array_t array, int block, void **ptr)
{
    SJ_TRY(sj__check_array(__func__, "array", array));
    SJ_TRY(check_block(__func__, array, block));
    SJ_CHECK(array->got[block] && (!array->wrap || !array->wrap->acquired), SJ_ESTATE,
             "block %d was not taken by sj_array_localpart_get", block);
    array->got[block] = 0;
    sj__rt_data_release(array->handles[block]);
    if (ptr)
        *ptr = NULL;
    return SJ_OK;
}

/* ---- moving blocks to and from a root ---------------------------------------- */

void sj__copy_strided(size_t es, const int64_t n[3], char *dst, const int64_t dld[2],
                      const char *src, const int64_t sld[2])
{
    if (dld[0] == n[0] && sld[0] == n[0] && (n[2] == 1 || (dld[1] == n[1] && sld[1] == n[1]))) {
        memcpy(dst, src, (size_t)(n[0] * n[1] * n[2]) * es);
        return;
    }
    const size_t run = (size_t)n[0] * es;
    for (int64_t l = 0; l < n[2]; l++)
        for (int64_t j = 0; j < n[1]; j++)
            memcpy(dst + (size_t)(dld[0] * (j + dld[1] * l)) * es,
                   src + (size_t)(sld[0] * (j + sld[1] * l)) * es, run);
}

/* Where block b starts in a whole column-major buffer, and that buffer's leading dimensions. */
static char *in_whole(const sj_block_info_t *bi, size_t es, const char *whole, int64_t ld[2])
{
    ld[0] = bi->gdims[0];
    ld[1] = bi->gdims[1];
    int64_t off = bi->lo[0] + bi->gdims[0] * (bi->lo[1] + bi->gdims[1] * bi->lo[2]);
    return (char *)whole + (size_t)off * es;
}

/* Copy between a contiguous block and its place in a whole column-major buffer. */
static void block_pack(const sj_block_info_t *bi, size_t es, char *block, const char *whole)
{
    int64_t wld[2];
    const char *at = in_whole(bi, es, whole, wld);
    sj__copy_strided(es, bi->dims, block, bi->dims, at, wld);
}

static void block_unpack(const sj_block_info_t *bi, size_t es, const char *block, char *whole)
{
    int64_t wld[2];
    char *at = in_whole(bi, es, whole, wld);
    sj__copy_strided(es, bi->dims, at, wld, block, bi->dims);
}

/* A transfer between a root buffer and one block, in flight on the root. */
typedef struct move {
    int block;
    sj__data_t tmp;    /* local handle on the root's side of a remote transfer */
    char *pack;        /* packing buffer, or NULL when the root's buffer is used directly */
    char *where;       /* the block's place in the root buffer (whole == 0: the buffer) */
    sj__data_t landed; /* on an owner receiving the block: its handle, to wait for */
} move_t;

/*
 * Start moving block b between @p buf on root and its owner. @p whole says
 * whether @p buf is a whole array (column-major) or just the block.
 * to_root: owner -> root, else root -> owner.
 */
/*
 * The tag of moves of block b between its owner and a root buffer. The root
 * receives into a handle of its own, posted at once, while a task may still be
 * waiting to receive the block into the array's handle: under the block's own
 * tag the two receives could swap messages.
 */
static int64_t move_tag(sj_array_t a, int b)
{
    return a->tag + a->space->total + b;
}

static int move_start(sj_array_t a, int b, int root, char *buf, int whole, int to_root, move_t *m)
{
    const int me = sj__rt_rank(), owner = a->dist->owner[b];
    const size_t es = sj_dtype_size(a->space->dtype);
    sj_block_info_t bi;
    sj__space_block_info(a->space, b, &bi);
    const int contiguous = !whole || a->space->ndims == 1;
    char *at = whole ? buf + (size_t)bi.lo[0] * es : buf; /* meaningful when contiguous */
    memset(m, 0, sizeof *m);
    m->block = b;
    if (me == root && owner == root) {
        /* only this rank takes part, so failing here alone is safe */
        if (a->got[b])
            return sj__error(SJ_ESTATE, "starjets",
                             "block %d is held by sj_array_localpart_get or sj_array_acquire "
                             "(give it back first)",
                             b);
        char *p = sj__rt_data_acquire(a->handles[b], to_root ? SJ__R : SJ__W);
        if (!p)
            return sj__error(SJ_ERUNTIME, "starjets", "cannot acquire block %d", b);
        /* the block's memory: contiguous, or a view of the host's array */
        const int64_t *pld = a->wrap ? a->wrap->ld[b] : bi.dims;
        int64_t bld[2] = {bi.dims[0], bi.dims[1]};
        char *q = whole ? in_whole(&bi, es, buf, bld) : buf;
        if (to_root)
            sj__copy_strided(es, bi.dims, q, bld, p, pld);
        else
            sj__copy_strided(es, bi.dims, p, pld, q, bld);
        sj__rt_data_release(a->handles[b]);
    } else if (me == root) {
        if (!contiguous) {
            m->pack = malloc((size_t)bi.nelems * es);
            if (!m->pack)
                return sj__error(SJ_ENOMEM, "starjets", "cannot allocate a packing buffer");
            if (!to_root)
                block_pack(&bi, es, m->pack, buf);
        }
        m->where = contiguous ? at : buf;
        sj__rt_data_register_local(&m->tmp, m->pack ? m->pack : at, (size_t)bi.nelems, es);
        if (to_root)
            sj__rt_recv_detached(m->tmp, owner, move_tag(a, b));
        else
            sj__rt_send_detached(m->tmp, owner, move_tag(a, b));
    } else if (me == owner) {
        if (to_root) {
            sj__rt_send_detached(a->handles[b], root, move_tag(a, b));
        } else {
            sj__rt_recv_detached(a->handles[b], root, move_tag(a, b));
            m->landed = a->handles[b]; /* move_finish waits for it */
        }
    }
    return SJ_OK;
}

/*
 * Finish a move: on the root, wait for the transfer and unpack; on an owner
 * receiving a block, wait until it has landed. That wait matters: a receive
 * that no task reads and whose envelope has not come yet is invisible to
 * StarPU-MPI 1.3's barrier, which ends sj_wait. An owner going on into
 * sj_wait would block its progress thread in MPI_Barrier, and a large block
 * (sent in MPI's rendezvous, which needs the receiver) would never arrive
 * while the root waits for it to leave.
 */
static void move_finish(sj_array_t a, move_t *m, int to_root)
{
    if (m->landed) {
        if (sj__rt_data_acquire(m->landed, SJ__R))
            sj__rt_data_release(m->landed);
        m->landed = NULL;
    }
    if (!m->tmp)
        return;
    sj__rt_data_unregister(m->tmp);
    if (m->pack && to_root) {
        sj_block_info_t bi;
        sj__space_block_info(a->space, m->block, &bi);
        block_unpack(&bi, sj_dtype_size(a->space->dtype), m->pack, m->where);
    }
    free(m->pack);
    m->tmp = NULL;
    m->pack = NULL;
}

static int move_all(sj_array_t a, int root, char *buf, int to_root)
{
    const int total = a->space->total;
    move_t *moves = sj__calloc((size_t)total, sizeof *moves);
    if (!moves)
        return SJ_ENOMEM;
    int rc = SJ_OK;
    int started = 0;
    for (; started < total && rc == SJ_OK; started++)
        rc = move_start(a, started, root, buf, 1, to_root, &moves[started]);
    for (int b = 0; b < started; b++)
        move_finish(a, &moves[b], to_root);
    free(moves);
    return rc;
}

int sj_array_gather(sj_array_t array, int root, void *buf)
{
    SJ_TRY(sj__rt_check_collective_key(__func__, "root=%d", root));
    SJ_TRY(sj__check_array(__func__, "array", array));
    SJ_TRY(sj__check_root(__func__, root));
    SJ_TRY(check_root_buf(__func__, root, buf));
    int rc = move_all(array, root, buf, 1);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

/*
 * A gather to rank 0, then its broadcast. Every rank must pass a buffer: they
 * agree on that first, and on rank 0's gather before the broadcast, so that a
 * failure on one rank fails every rank instead of leaving them waiting.
 */
int sj_array_allgather(sj_array_t array, void *buf)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    /* Every rank takes part even with bad arguments, so that all fail alike. */
    int bad[2] = {!sj__handle_live(array, SJ__KIND_ARRAY), buf == NULL};
    SJ_TRY(sj__named(sj__rt_sum_ints(bad, 2), __func__));
    SJ_CHECK(array != NULL, SJ_ENULL, "array 'array' is NULL");
    SJ_CHECK_HANDLE(array, SJ__KIND_ARRAY);
    if (bad[0])
        return sj__error(SJ_EINVAL, __func__,
                         "array is NULL or not a live array on %d other rank(s)", bad[0]);
    if (bad[1])
        return sj__error(SJ_ENULL, __func__, "buf is NULL on %d rank(s)%s", bad[1],
                         buf ? ", not here" : ", this one included");
    int rc = move_all(array, 0, buf, 1);
    int failed = 0;
    SJ_TRY(sj__named(sj__rt_sum_int(rc < 0, &failed), __func__));
    if (rc < 0)
        return sj__error_rename(rc, __func__);
    if (failed)
        return sj__error(SJ_ERUNTIME, __func__, "the gather to rank 0 failed on %d rank(s)",
                         failed);
    int64_t n = 0;
    sj_space_length(array->space, &n);
    rc = sj__rt_bcast(buf, (size_t)n * sj_dtype_size(array->space->dtype), 0);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_array_scatter(sj_array_t array, int root, const void *buf)
{
    SJ_TRY(sj__rt_check_collective_key(__func__, "root=%d", root));
    SJ_TRY(sj__check_array(__func__, "array", array));
    SJ_TRY(sj__check_root(__func__, root));
    SJ_TRY(check_root_buf(__func__, root, buf));
    int rc = move_all(array, root, (char *)buf, 0);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_array_distribute(sj_space_t space, sj_dist_t dist, int root, const void *buf,
                        sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(array);
    *array = NULL;
    SJ_TRY(sj__check_running(__func__));
    SJ_TRY(sj__check_root(__func__, root));
    SJ_TRY(check_root_buf(__func__, root, buf));
    SJ_TRY(array_new(__func__, space, dist, array));
    int rc = move_all(*array, root, (char *)buf, 0);
    if (rc < 0) {
        sj_array_destroy(array);
        return sj__error_rename(rc, __func__);
    }
    return SJ_OK;
}

static int move_one(const char *func, sj_array_t a, int block, int root, char *buf, int to_root)
{
    SJ_TRY(sj__check_array(func, "array", a));
    SJ_TRY(check_block(func, a, block));
    SJ_TRY(sj__check_root(func, root));
    SJ_TRY(check_root_buf(func, root, buf));
    move_t m;
    int rc = move_start(a, block, root, buf, 0, to_root, &m);
    if (rc < 0)
        return sj__error_rename(rc, func);
    move_finish(a, &m, to_root);
    return SJ_OK;
}

int sj_array_block_get(sj_array_t array, int block, int root, void *buf)
{
    SJ_TRY(sj__rt_check_collective_key(__func__, "block=%d, root=%d", block, root));
    return move_one(__func__, array, block, root, buf, 1);
}

int sj_array_block_set(sj_array_t array, int block, int root, const void *buf)
{
    SJ_TRY(sj__rt_check_collective_key(__func__, "block=%d, root=%d", block, root));
    return move_one(__func__, array, block, root, (char *)buf, 0);
}
