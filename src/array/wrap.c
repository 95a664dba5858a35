/*
 * Arrays wrapped around the host's memory: its blocks are the host's buffers
 * (one per local block) or views of one local array with leading dimensions
 * (a field with ghost layers). The block handles are registered with that
 * memory as their home, so tasks read and write it in place; views that are
 * not contiguous are staged around each task by the runtime (registry.c).
 * The host takes the memory back for a while with acquire/release, and for
 * good with unwrap.
 */
#include <stdlib.h>
#include <string.h>

#include "array/array_private.h"

void sj__wrap_free(sj__wrap_t *w)
{
    if (!w)
        return;
    free(w->view);
    free(w->ld);
    free(w);
}

static sj__wrap_t *wrap_alloc(int total)
{
    sj__wrap_t *w = sj__calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->view = sj__calloc((size_t)total, sizeof *w->view);
    w->ld = sj__calloc((size_t)total, sizeof *w->ld);
    if (!w->view || !w->ld) {
        sj__wrap_free(w);
        return NULL;
    }
    return w;
}

int sj__array_strided(sj_array_t a, int b)
{
    if (!a->wrap || !a->wrap->view[b])
        return 0;
    sj_block_info_t bi;
    sj__space_block_info(a->space, b, &bi);
    const int64_t *ld = a->wrap->ld[b];
    return (bi.dims[1] * bi.dims[2] > 1 && ld[0] != bi.dims[0]) ||
           (bi.dims[2] > 1 && ld[1] != bi.dims[1]);
}

/* The layout to use (@p dist, or a default one made into *own), checked against the space. */
static int resolve(const char *func, sj_space_t space, sj_dist_t dist, sj_dist_t *use,
                   sj_dist_t *own)
{
    *own = NULL;
    if (!dist) {
        int rc = sj_dist_create_default(space, own);
        if (rc < 0)
            return sj__error_rename(rc, func);
        dist = *own;
    }
    *use = dist;
    return SJ_OK;
}

static int misaligned(const void *p, size_t es)
{
    return ((uintptr_t)p % es) != 0;
}

/* The local checks of sj_array_wrap_blocks; fills @p w on success. */
static int check_blocks(const char *func, sj_space_t space, sj_dist_t dist, int nlocal,
                        void *const blocks[], sj__wrap_t *w)
{
    const int me = sj__rt_rank();
    const size_t es = sj_dtype_size(space->dtype);
    int count = 0;
    const int *mine = NULL;
    SJ_TRY(sj__named(sj_dist_local_blocks(dist, me, &count, &mine), func));
    SJ_CHECK_FN(func, nlocal == count, SJ_EINVAL,
                "nlocal is %d but rank %d owns %d block(s) of the layout: give one pointer per "
                "local block",
                nlocal, me, count);
    SJ_CHECK_FN(func, count == 0 || blocks != NULL, SJ_ENULL,
                "blocks is NULL but rank %d owns %d block(s)", me, count);
    for (int i = 0; i < count; i++) {
        const int b = mine[i];
        SJ_CHECK_FN(func, blocks[i] != NULL, SJ_ENULL,
                    "blocks[%d] (block %d, owned by rank %d) is NULL", i, b, me);
        SJ_CHECK_FN(func, !misaligned(blocks[i], es), SJ_EINVAL,
                    "blocks[%d] (block %d) = %p is not aligned to the element size (%zu bytes)", i,
                    b, blocks[i], es);
        sj_block_info_t bi;
        sj__space_block_info(space, b, &bi);
        w->view[b] = blocks[i];
        w->ld[b][0] = bi.dims[0];
        w->ld[b][1] = bi.dims[1];
    }
    return SJ_OK;
}

/* The local checks of sj_array_wrap_local; fills @p w on success. */
static int check_local(const char *func, sj_space_t space, sj_dist_t dist, void *base,
                       const int64_t ld_in[2], sj__wrap_t *w)
{
    const int me = sj__rt_rank();
    const size_t es = sj_dtype_size(space->dtype);
    int nboxes = 0;
    const sj_box_t *box = NULL;
    SJ_TRY(sj__named(sj_dist_blockmap(dist, me, &nboxes, &box), func));
    if (nboxes == 0)
        return SJ_OK; /* nothing here: base and ld are not read */
    SJ_CHECK_FN(func, nboxes == 1, SJ_EINVAL,
                "rank %d's blocks form %d boxes of the block grid, not one: wrap them with "
                "sj_array_wrap_blocks (a pointer per block) or use a contiguous layout",
                me, nboxes);
    SJ_CHECK_FN(func, base != NULL, SJ_ENULL, "base is NULL but rank %d owns blocks", me);
    SJ_CHECK_FN(func, !misaligned(base, es), SJ_EINVAL,
                "base = %p is not aligned to the element size (%zu bytes)", base, es);
    /* the box in elements: from the first block's lo to the last block's hi */
    int first[SJ_MAX_DIMS], last[SJ_MAX_DIMS];
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        first[d] = box->lo[d];
        last[d] = box->hi[d] - 1;
    }
    int bfirst = 0, blast = 0;
    sj_space_block_index(space, first, &bfirst);
    sj_space_block_index(space, last, &blast);
    sj_block_info_t lo, hi;
    sj__space_block_info(space, bfirst, &lo);
    sj__space_block_info(space, blast, &hi);
    int64_t extent[SJ_MAX_DIMS], ld[2];
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        extent[d] = hi.hi[d] - lo.lo[d];
    ld[0] = ld_in ? ld_in[0] : extent[0];
    ld[1] = ld_in && space->ndims == 3 ? ld_in[1] : extent[1];
    SJ_CHECK_FN(func, ld[0] >= extent[0], SJ_EINVAL,
                "ld[0] = %lld is smaller than rank %d's extent along dimension 0 (%lld elements)",
                (long long)ld[0], me, (long long)extent[0]);
    SJ_CHECK_FN(func, ld[1] >= extent[1], SJ_EINVAL,
                "ld[1] = %lld is smaller than rank %d's extent along dimension 1 (%lld elements)",
                (long long)ld[1], me, (long long)extent[1]);
    SJ_CHECK_FN(func, ld[0] * ld[1] <= (int64_t)UINT32_MAX, SJ_EINVAL,
                "ld[0] * ld[1] = %lld exceeds what StarPU's strided blocks describe (2^32 - 1)",
                (long long)(ld[0] * ld[1]));
    int count = 0;
    const int *mine = NULL;
    sj_dist_local_blocks(dist, me, &count, &mine);
    for (int i = 0; i < count; i++) {
        const int b = mine[i];
        sj_block_info_t bi;
        sj__space_block_info(space, b, &bi);
        const int64_t off =
            (bi.lo[0] - lo.lo[0]) + ld[0] * ((bi.lo[1] - lo.lo[1]) + ld[1] * (bi.lo[2] - lo.lo[2]));
        w->view[b] = (char *)base + (size_t)off * es;
        w->ld[b][0] = ld[0];
        w->ld[b][1] = ld[1];
    }
    return SJ_OK;
}

/* What both wrap calls share: checks on every rank, one agreement, the array. */
static int wrap(const char *func, sj_space_t space, sj_dist_t dist, int local, int nlocal,
                void *const blocks[], void *base, const int64_t ld[2], sj_array_t *array)
{
    SJ_TRY(sj__rt_check_collective(func));
    if (array)
        *array = NULL;
    int bad = SJ_OK;
    sj_dist_t use = NULL, own = NULL;
    sj__wrap_t *w = NULL;
    if (!array)
        bad = sj__error(SJ_ENULL, func, "argument 'array' (the output) is NULL");
    else if (!space)
        bad = sj__error(SJ_ENULL, func, "argument 'space' is NULL");
    else if ((bad = sj__check_handle(func, "space", space, SJ__KIND_SPACE)) == SJ_OK &&
             (!dist || (bad = sj__check_handle(func, "dist", dist, SJ__KIND_DIST)) == SJ_OK))
        bad = resolve(func, space, dist, &use, &own);
    if (bad == SJ_OK && use->nranks != sj__rt_nranks())
        bad = sj__error(SJ_EMISMATCH, func, "the layout was made for %d ranks, the runtime has %d",
                        use->nranks, sj__rt_nranks());
    if (bad == SJ_OK && !(w = wrap_alloc(space->total)))
        bad = sj__error(SJ_ENOMEM, func, "cannot allocate the wrapped array's views");
    if (bad == SJ_OK) {
        int same = use->ndims == space->ndims;
        for (int d = 0; same && d < SJ_MAX_DIMS; d++)
            same = use->nblocks[d] == space->nblocks[d];
        if (!same)
            bad = sj__error(SJ_EMISMATCH, func, "the layout's block grid differs from the space's");
    }
    if (bad == SJ_OK)
        bad = local ? check_local(func, space, use, base, ld, w)
                    : check_blocks(func, space, use, nlocal, blocks, w);
    /* every rank checked its own arguments: a rank whose local part is wrong
     * fails with its own sentence, the others name how many ranks refused */
    int rc = sj__rt_agree_rc(func, bad, SJ_EINVAL, "the local part was refused", "");
    if (rc == SJ_OK) {
        rc = sj__array_new(func, space, use, w, array); /* takes w, also on failure */
        w = NULL;
    }
    sj__wrap_free(w);
    sj_dist_destroy(&own);
    return rc;
}

int sj_array_wrap_blocks(sj_space_t space, sj_dist_t dist, int nlocal, void *const blocks[],
                         sj_array_t *array)
{
    return wrap(__func__, space, dist, 0, nlocal, blocks, NULL, NULL, array);
}

int sj_array_wrap_local(sj_space_t space, sj_dist_t dist, void *base, const int64_t ld[2],
                        sj_array_t *array)
{
    return wrap(__func__, space, dist, 1, 0, NULL, base, ld, array);
}

/* ---- the host takes its memory back ------------------------------------------- */

static int check_wrapped(const char *func, sj_array_t a)
{
    SJ_TRY(sj__check_array(func, "array", a));
    SJ_CHECK_FN(func, a->wrap != NULL, SJ_EINVAL,
                "the array was not made by sj_array_wrap_blocks or sj_array_wrap_local");
    return SJ_OK;
}

int sj_array_acquire(sj_array_t array, sj_access_t mode)
{
    SJ_TRY(check_wrapped(__func__, array));
    SJ_CHECK(mode == SJ_ACCESS_READ || mode == SJ_ACCESS_READWRITE, SJ_EINVAL,
             "mode %d is neither SJ_ACCESS_READ nor SJ_ACCESS_READWRITE", (int)mode);
    SJ_CHECK(!array->wrap->acquired, SJ_ESTATE,
             "the array is already acquired on this rank (sj_array_release it first)");
    int count = 0;
    const int *mine = NULL;
    sj_dist_local_blocks(array->dist, sj__rt_rank(), &count, &mine);
    for (int i = 0; i < count; i++)
        SJ_CHECK(!array->got[mine[i]], SJ_ESTATE,
                 "block %d is taken by sj_array_localpart_get (restore it first)", mine[i]);
    for (int i = 0; i < count; i++) {
        if (!sj__rt_data_acquire(array->handles[mine[i]],
                                 mode == SJ_ACCESS_READ ? SJ__R : SJ__RW)) {
            while (i-- > 0) {
                array->got[mine[i]] = 0;
                sj__rt_data_release(array->handles[mine[i]]);
            }
            return sj__error(SJ_ERUNTIME, __func__, "cannot acquire block %d", mine[i]);
        }
        array->got[mine[i]] = 1;
    }
    array->wrap->acquired = mode;
    return SJ_OK;
}

int sj_array_release(sj_array_t array)
{
    SJ_TRY(check_wrapped(__func__, array));
    SJ_CHECK(array->wrap->acquired, SJ_ESTATE,
             "the array is not acquired on this rank (sj_array_acquire)");
    int count = 0;
    const int *mine = NULL;
    sj_dist_local_blocks(array->dist, sj__rt_rank(), &count, &mine);
    for (int i = 0; i < count; i++) {
        array->got[mine[i]] = 0;
        sj__rt_data_release(array->handles[mine[i]]);
    }
    array->wrap->acquired = 0;
    return SJ_OK;
}

int sj_array_unwrap(sj_array_t *array)
{
    if (!array || !*array) {
        sj__rt_collective_noted(__func__); /* the ranks' call numbers stay in step */
        return SJ_OK;
    }
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_handle(__func__, "*array", *array, SJ__KIND_ARRAY));
    SJ_CHECK((*array)->wrap != NULL, SJ_EINVAL,
             "the array was not made by sj_array_wrap_blocks or sj_array_wrap_local (use "
             "sj_array_destroy)");
    return sj__named(sj_array_destroy(array), __func__);
}
