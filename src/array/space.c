/* Block spaces: element type, shape and block cuts. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array/array_private.h"

size_t sj_dtype_size(sj_dtype_t dtype)
{
    switch (dtype) {
    case SJ_FLOAT64:
        return sizeof(double);
    case SJ_FLOAT32:
        return sizeof(float);
    default:
        return 0;
    }
}

/* Free a space that is not (or no longer) in the registry. */
static void space_discard(sj_space_t s)
{
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        free(s->cuts[d]);
    sj__object_free(s);
}

static void space_free(sj_space_t s)
{
    sj__object_remove(&s->obj);
    space_discard(s);
}

void sj__space_ref(sj_space_t s)
{
    s->obj.refs++;
}

void sj__space_unref(sj_space_t s)
{
    if (--s->obj.refs == 0)
        space_free(s);
}

static void space_release_user(sj__object_t *o)
{
    sj_space_t s = (sj_space_t)o;
    s->obj.user_holds = 0;
    sj__space_unref(s);
}

/* Common part of the constructors: cuts[d] are filled by the caller. */
static int space_new(const char *func, sj_dtype_t dtype, int ndims, const int nblocks[],
                     sj_space_t *out)
{
    SJ_CHECK_FN(func, sj_dtype_size(dtype) != 0, SJ_ETYPE,
                "dtype %d is not supported (use SJ_FLOAT64 or SJ_FLOAT32)", (int)dtype);
    sj_space_t s = sj__calloc(1, sizeof *s);
    if (!s)
        return sj__error(SJ_ENOMEM, func, "cannot allocate the space");
    s->dtype = dtype;
    s->ndims = ndims;
    s->total = 1;
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        s->nblocks[d] = d < ndims ? nblocks[d] : 1;
        s->dims[d] = 1;
        s->cuts[d] = sj__calloc((size_t)s->nblocks[d] + 1, sizeof(int64_t));
        if (!s->cuts[d]) {
            space_discard(s);
            return sj__error(SJ_ENOMEM, func, "cannot allocate the space's block cuts");
        }
        s->total *= s->nblocks[d];
    }
    s->cuts[0][0] = 0;
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        s->cuts[d][1] = d < ndims ? 0 : 1;
    *out = s;
    return SJ_OK;
}

/*
 * Sizes StarPU can hold: a block is a StarPU vector (32-bit element count) and
 * StarPU-MPI 1.3 moves it in one MPI message whose byte count is an int. Every
 * rank sees the same space, so all of them refuse it alike.
 */
static int space_finish(const char *func, sj_space_t s, sj_space_t *out)
{
    const size_t es = sj_dtype_size(s->dtype);
    int64_t length = 1, largest = 1;
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        int64_t big = 0;
        for (int k = 0; k < s->nblocks[d]; k++)
            if (s->cuts[d][k + 1] - s->cuts[d][k] > big)
                big = s->cuts[d][k + 1] - s->cuts[d][k];
        int ok =
            s->dims[d] <= INT64_MAX / length && big <= (int64_t)INT_MAX / (largest * (int64_t)es);
        if (!ok) {
            space_discard(s);
            *out = NULL;
            return sj__error(SJ_ESIZE, func,
                             "a block would hold 2 GiB or more (largest block %lld elements "
                             "along dimension %d); use more blocks",
                             (long long)big, d);
        }
        length *= s->dims[d];
        largest *= big;
    }
    if (sj__object_add(&s->obj, SJ__KIND_SPACE, space_release_user) < 0) {
        space_discard(s);
        *out = NULL;
        return sj__error(SJ_ENOMEM, func, "cannot grow the set of live handles");
    }
    return SJ_OK;
}

int sj_space_create(sj_dtype_t dtype, int ndims, const int64_t dims[], const int nblocks[],
                    sj_space_t *space)
{
    SJ_CHECK_NULL(space);
    *space = NULL;
    SJ_CHECK_NULL(dims);
    SJ_CHECK(ndims >= 1 && ndims <= SJ_MAX_DIMS, SJ_EINVAL, "ndims is %d, expected 1 to %d", ndims,
             SJ_MAX_DIMS);
    int nb[SJ_MAX_DIMS] = {1, 1, 1};
    int64_t total = 1;
    for (int d = 0; d < ndims; d++) {
        SJ_CHECK(dims[d] > 0, SJ_ESIZE, "dims[%d] is %lld, expected > 0", d, (long long)dims[d]);
        nb[d] = nblocks ? nblocks[d] : 1;
        SJ_CHECK(nb[d] >= 1 && nb[d] <= dims[d], SJ_ESIZE,
                 "nblocks[%d] is %d, expected 1 to dims[%d] = %lld", d, nb[d], d,
                 (long long)dims[d]);
        total *= nb[d];
        SJ_CHECK(total <= (1 << 30), SJ_ESIZE, "the block grid has more than 2^30 blocks");
    }
    SJ_TRY(space_new(__func__, dtype, ndims, nb, space));
    sj_space_t s = *space;
    for (int d = 0; d < ndims; d++) {
        s->dims[d] = dims[d];
        for (int k = 0; k <= nb[d]; k++)
            s->cuts[d][k] = sj__split_lo(k, dims[d], nb[d]);
    }
    return space_finish(__func__, s, space);
}

int sj_space_create_irregular(sj_dtype_t dtype, int ndims, const int64_t dims[],
                              const int nblocks[], const int64_t *const block_sizes[],
                              sj_space_t *space)
{
    SJ_CHECK_NULL(space);
    *space = NULL;
    SJ_CHECK_NULL(nblocks);
    SJ_CHECK_NULL(block_sizes);
    SJ_CHECK(ndims >= 1 && ndims <= SJ_MAX_DIMS, SJ_EINVAL, "ndims is %d, expected 1 to %d", ndims,
             SJ_MAX_DIMS);
    int64_t total = 1;
    for (int d = 0; d < ndims; d++) {
        SJ_CHECK(nblocks[d] >= 1, SJ_ESIZE, "nblocks[%d] is %d, expected >= 1", d, nblocks[d]);
        SJ_CHECK(block_sizes[d] != NULL, SJ_ENULL, "block_sizes[%d] is NULL", d);
        int64_t length = 0;
        for (int k = 0; k < nblocks[d]; k++) {
            SJ_CHECK(block_sizes[d][k] > 0, SJ_ESIZE, "block_sizes[%d][%d] is %lld, expected > 0",
                     d, k, (long long)block_sizes[d][k]);
            SJ_CHECK(block_sizes[d][k] <= INT64_MAX - length, SJ_ESIZE,
                     "the block sizes of dimension %d overflow", d);
            length += block_sizes[d][k];
        }
        SJ_CHECK(!dims || dims[d] == length, SJ_ESIZE,
                 "the %d block sizes of dimension %d add up to %lld, but dims[%d] is %lld",
                 nblocks[d], d, (long long)length, d, (long long)dims[d]);
        total *= nblocks[d];
        SJ_CHECK(total <= (1 << 30), SJ_ESIZE, "the block grid has more than 2^30 blocks");
    }
    SJ_TRY(space_new(__func__, dtype, ndims, nblocks, space));
    sj_space_t s = *space;
    for (int d = 0; d < ndims; d++) {
        for (int k = 0; k < nblocks[d]; k++)
            s->cuts[d][k + 1] = s->cuts[d][k] + block_sizes[d][k];
        s->dims[d] = s->cuts[d][nblocks[d]];
    }
    return space_finish(__func__, s, space);
}

int sj_space_create_blocks(sj_dtype_t dtype, int nblocks, const int64_t sizes[], sj_space_t *space)
{
    SJ_CHECK_NULL(space);
    *space = NULL;
    SJ_CHECK_NULL(sizes);
    SJ_CHECK(nblocks >= 1, SJ_ESIZE, "nblocks is %d, expected >= 1", nblocks);
    const int64_t *per_dim[1] = {sizes};
    int rc = sj_space_create_irregular(dtype, 1, NULL, &nblocks, per_dim, space);
    if (rc < 0) /* name this function, not the one it called */
        return sj__error_rename(rc, __func__);
    return SJ_OK;
}

int sj_space_destroy(sj_space_t *space)
{
    if (!space || !*space)
        return SJ_OK;
    SJ_TRY(sj__check_handle(__func__, "*space", *space, SJ__KIND_SPACE));
    sj_space_t s = *space;
    *space = NULL;
    SJ_CHECK(s->obj.user_holds, SJ_ESTATE,
             "the space was already destroyed (a handle from sj_array_space is borrowed)");
    space_release_user(&s->obj);
    return SJ_OK;
}

int sj_space_shape(sj_space_t space, sj_dtype_t *dtype, int *ndims, int64_t dims[])
{
    SJ_CHECK_HANDLE(space, SJ__KIND_SPACE);
    if (dtype)
        *dtype = space->dtype;
    if (ndims)
        *ndims = space->ndims;
    if (dims)
        for (int d = 0; d < space->ndims; d++)
            dims[d] = space->dims[d];
    return SJ_OK;
}

int sj_space_length(sj_space_t space, int64_t *length)
{
    SJ_CHECK_HANDLE(space, SJ__KIND_SPACE);
    SJ_CHECK_NULL(length);
    *length = space->dims[0] * space->dims[1] * space->dims[2];
    return SJ_OK;
}

int sj_space_blocks(sj_space_t space, int nblocks[], int *total)
{
    SJ_CHECK_HANDLE(space, SJ__KIND_SPACE);
    if (nblocks)
        for (int d = 0; d < space->ndims; d++)
            nblocks[d] = space->nblocks[d];
    if (total)
        *total = space->total;
    return SJ_OK;
}

static void block_coords(sj_space_t s, int b, int c[SJ_MAX_DIMS])
{
    c[0] = b % s->nblocks[0];
    c[1] = (b / s->nblocks[0]) % s->nblocks[1];
    c[2] = b / (s->nblocks[0] * s->nblocks[1]);
}

void sj__space_block_info(sj_space_t s, int b, sj_block_info_t *info)
{
    memset(info, 0, sizeof *info);
    info->block = b;
    info->ndims = s->ndims;
    info->dtype = s->dtype;
    block_coords(s, b, info->coords);
    info->nelems = 1;
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        info->lo[d] = s->cuts[d][info->coords[d]];
        info->hi[d] = s->cuts[d][info->coords[d] + 1];
        info->dims[d] = info->hi[d] - info->lo[d];
        info->gdims[d] = s->dims[d];
        info->nelems *= info->dims[d];
    }
}

int64_t sj__space_block_nelems(sj_space_t s, int b)
{
    int c[SJ_MAX_DIMS];
    block_coords(s, b, c);
    int64_t n = 1;
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        n *= s->cuts[d][c[d] + 1] - s->cuts[d][c[d]];
    return n;
}

int sj_space_block_range(sj_space_t space, int block, int64_t lo[], int64_t hi[])
{
    SJ_CHECK_HANDLE(space, SJ__KIND_SPACE);
    SJ_CHECK_NULL(lo);
    SJ_CHECK_NULL(hi);
    SJ_CHECK(block >= 0 && block < space->total, SJ_ERANGE, "block %d is out of range [0, %d)",
             block, space->total);
    sj_block_info_t info;
    sj__space_block_info(space, block, &info);
    for (int d = 0; d < space->ndims; d++) {
        lo[d] = info.lo[d];
        hi[d] = info.hi[d];
    }
    return SJ_OK;
}

int sj_space_block_dims(sj_space_t space, int block, int64_t dims[], int64_t *nelems)
{
    SJ_CHECK_HANDLE(space, SJ__KIND_SPACE);
    SJ_CHECK(block >= 0 && block < space->total, SJ_ERANGE, "block %d is out of range [0, %d)",
             block, space->total);
    sj_block_info_t info;
    sj__space_block_info(space, block, &info);
    if (dims)
        for (int d = 0; d < space->ndims; d++)
            dims[d] = info.dims[d];
    if (nelems)
        *nelems = info.nelems;
    return SJ_OK;
}

int sj_space_block_index(sj_space_t space, const int coords[], int *block)
{
    SJ_CHECK_HANDLE(space, SJ__KIND_SPACE);
    SJ_CHECK_NULL(coords);
    SJ_CHECK_NULL(block);
    int b = 0, stride = 1;
    for (int d = 0; d < space->ndims; d++) {
        SJ_CHECK(coords[d] >= 0 && coords[d] < space->nblocks[d], SJ_ERANGE,
                 "coords[%d] is %d, out of range [0, %d)", d, coords[d], space->nblocks[d]);
        b += coords[d] * stride;
        stride *= space->nblocks[d];
    }
    *block = b;
    return SJ_OK;
}

int sj_space_block_coords(sj_space_t space, int block, int coords[])
{
    SJ_CHECK_HANDLE(space, SJ__KIND_SPACE);
    SJ_CHECK_NULL(coords);
    SJ_CHECK(block >= 0 && block < space->total, SJ_ERANGE, "block %d is out of range [0, %d)",
             block, space->total);
    int c[SJ_MAX_DIMS];
    block_coords(space, block, c);
    for (int d = 0; d < space->ndims; d++)
        coords[d] = c[d];
    return SJ_OK;
}

int sj_space_equal(sj_space_t a, sj_space_t b, int *equal)
{
    SJ_CHECK_HANDLE(a, SJ__KIND_SPACE);
    SJ_CHECK_HANDLE(b, SJ__KIND_SPACE);
    SJ_CHECK_NULL(equal);
    int eq = a->dtype == b->dtype && a->ndims == b->ndims;
    for (int d = 0; eq && d < SJ_MAX_DIMS; d++)
        eq = a->nblocks[d] == b->nblocks[d] && a->dims[d] == b->dims[d] &&
             memcmp(a->cuts[d], b->cuts[d], ((size_t)a->nblocks[d] + 1) * sizeof(int64_t)) == 0;
    *equal = eq;
    return SJ_OK;
}

int sj_space_describe(sj_space_t space, char *buf, size_t size)
{
    SJ_CHECK_HANDLE(space, SJ__KIND_SPACE);
    SJ_CHECK_NULL(buf);
    SJ_CHECK(size > 0, SJ_ESIZE, "size is 0");
    char shape[96] = "", blocks[96] = "";
    for (int d = 0; d < space->ndims; d++) {
        size_t ls = strlen(shape), lb = strlen(blocks);
        snprintf(shape + ls, sizeof shape - ls, "%s%lld", d ? "x" : "", (long long)space->dims[d]);
        snprintf(blocks + lb, sizeof blocks - lb, "%s%d", d ? "x" : "", space->nblocks[d]);
    }
    snprintf(buf, size, "%s %d-D %s in %s blocks",
             space->dtype == SJ_FLOAT64 ? "float64" : "float32", space->ndims, shape, blocks);
    return SJ_OK;
}
