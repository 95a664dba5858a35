/*
 * CPU kernels of stencil steps: pack the rims of a block into strips, and run
 * the user's update on the interior of a block (in place) or on frame slabs
 * (padded copies assembled from the block, the strips and the boundary value).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codelets_private.h"
#include "kernels/halo.h"

/*
 * Buffers 0 and 1 may be strided views of a host array (sj__is_view): their
 * pointer and strides come from the interface, not from the arguments, which
 * describe contiguous blocks. Strips are always contiguous.
 */
#undef PTR
#define PTR(i) buf_ptr(buffers[i])

static char *buf_ptr(void *iface)
{
    return sj__is_view(iface) ? (char *)STARPU_BLOCK_GET_PTR(iface)
                              : (char *)STARPU_VECTOR_GET_PTR(iface);
}

/* The strides of buffer @p iface: its own for a view, else @p given. */
static void buf_strides(void *iface, const int64_t given[SJ_MAX_DIMS], int64_t s[SJ_MAX_DIMS])
{
    if (sj__is_view(iface)) {
        const int64_t none[3] = {1, 1, 1};
        sj__view_t v = sj__view_of(iface, none);
        sj__strides_of(&v, s);
    } else {
        memcpy(s, given, SJ_MAX_DIMS * sizeof *s);
    }
}

/* Offset of cell c in a buffer with strides s (elements). */
static inline int64_t offset_of(const int64_t c[SJ_MAX_DIMS], const int64_t s[SJ_MAX_DIMS])
{
    return c[0] * s[0] + c[1] * s[1] + c[2] * s[2];
}

/* Copy a box of extents ext between two buffers; both have stride 1 along dimension 0. */
static void copy_box(char *dst, const int64_t dstride[SJ_MAX_DIMS], const char *src,
                     const int64_t sstride[SJ_MAX_DIMS], const int64_t ext[SJ_MAX_DIMS], size_t es)
{
    const size_t run = (size_t)ext[0] * es;
    for (int64_t k = 0; k < ext[2]; k++)
        for (int64_t j = 0; j < ext[1]; j++)
            memcpy(dst + (size_t)(j * dstride[1] + k * dstride[2]) * es,
                   src + (size_t)(j * sstride[1] + k * sstride[2]) * es, run);
}

static void fill_box(char *dst, const int64_t dstride[SJ_MAX_DIMS], const int64_t ext[SJ_MAX_DIMS],
                     int dtype, double value)
{
    for (int64_t k = 0; k < ext[2]; k++)
        for (int64_t j = 0; j < ext[1]; j++)
            FOR_DTYPE(dtype, {
                T *p = (T *)dst + j * dstride[1] + k * dstride[2];
                const T v = (T)value;
                for (int64_t i = 0; i < ext[0]; i++)
                    p[i] = v;
            });
}

void sj__cpu_halo_pack(void *buffers[], void *cl_arg)
{
    const sj__halo_pack_args_t *a = cl_arg;
    const char *src = PTR(0);
    int64_t sst[SJ_MAX_DIMS];
    buf_strides(buffers[0], a->stride, sst);
    for (int s = 0; s < a->nstrips; s++) {
        const sj__halo_box_t *b = &a->box[s];
        int64_t ext[SJ_MAX_DIMS], st[SJ_MAX_DIMS];
        for (int d = 0; d < SJ_MAX_DIMS; d++)
            ext[d] = b->hi[d] - b->lo[d];
        st[0] = 1;
        st[1] = ext[0];
        st[2] = ext[0] * ext[1];
        copy_box(PTR(1 + s), st, src + (size_t)offset_of(b->lo, sst) * a->elemsize, sst, ext,
                 a->elemsize);
    }
}

/*
 * One scratch buffer per worker thread, grown on demand and kept for the
 * next tasks: frame slabs are assembled at every step, and a fresh
 * allocation would cost page faults each time. Freed when the worker exits
 * (sj_finalize stops StarPU, which joins its workers).
 */
typedef struct scratch {
    void *ptr;
    size_t size;
} scratch_t;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_free(void *p)
{
    scratch_t *s = p;
    free(s->ptr);
    free(s);
}

static void scratch_key_make(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

static void *scratch_get(size_t size)
{
    pthread_once(&scratch_once, scratch_key_make);
    if (!scratch_key_ok)
        return NULL;
    scratch_t *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->size < size) {
        void *p = NULL;
        if (posix_memalign(&p, 64, size) != 0)
            return NULL;
        free(s->ptr);
        s->ptr = p;
        s->size = size;
    }
    return s->ptr;
}

/* Assemble part p with its ghost cells into scratch; returns the pointer to block-local (0,0,0). */
static const char *assemble(void *buffers[], const sj__halo_args_t *a, const sj__halo_box_t *p,
                            int64_t stride[SJ_MAX_DIMS], size_t es)
{
    const int nd = a->info.blk.ndims, w = a->info.width;
    int64_t lo[SJ_MAX_DIMS], hi[SJ_MAX_DIMS], ext[SJ_MAX_DIMS];
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        lo[d] = p->lo[d] - (d < nd ? w : 0);
        hi[d] = p->hi[d] + (d < nd ? w : 0);
        ext[d] = hi[d] - lo[d];
    }
    stride[0] = 1;
    stride[1] = ext[0];
    stride[2] = ext[0] * ext[1];
    char *scratch = scratch_get((size_t)(ext[0] * ext[1] * ext[2]) * es);
    if (!scratch)
        return NULL;
    for (int r = 0; r < a->nsrc; r++) {
        const sj__halo_src_t *src = &a->src[r];
        int64_t ilo[SJ_MAX_DIMS], iext[SJ_MAX_DIMS], rel[SJ_MAX_DIMS];
        int empty = 0;
        for (int d = 0; d < SJ_MAX_DIMS; d++) {
            ilo[d] = src->region.lo[d] > lo[d] ? src->region.lo[d] : lo[d];
            int64_t ihi = src->region.hi[d] < hi[d] ? src->region.hi[d] : hi[d];
            iext[d] = ihi - ilo[d];
            rel[d] = ilo[d] - lo[d];
            empty |= iext[d] <= 0;
        }
        if (empty)
            continue;
        char *dst = scratch + (size_t)offset_of(rel, stride) * es;
        if (src->buf < 0) {
            fill_box(dst, stride, iext, a->info.blk.dtype, a->fixed_value);
        } else {
            int64_t at[SJ_MAX_DIMS], sst[SJ_MAX_DIMS];
            for (int d = 0; d < SJ_MAX_DIMS; d++)
                at[d] = ilo[d] + src->shift[d];
            buf_strides(buffers[src->buf], src->stride, sst);
            copy_box(dst, stride, PTR(src->buf) + (size_t)offset_of(at, sst) * es, sst, iext, es);
        }
    }
    /* Block-local (0,0,0) may lie before the scratch buffer: integer arithmetic. */
    return (const char *)((uintptr_t)scratch - (uintptr_t)(offset_of(lo, stride) * (int64_t)es));
}

static size_t info_elemsize(int dtype)
{
    return dtype == SJ_FLOAT32 ? sizeof(float) : sizeof(double);
}

void sj__cpu_stencil(void *buffers[], void *cl_arg)
{
    const sj__halo_args_t *a = cl_arg;
    void *ctx = a->ctx_size ? (char *)cl_arg + sizeof *a : (void *)a->ctx_as_is;
    const size_t es = info_elemsize(a->info.blk.dtype);
    sj_stencil_info_t info = a->info;
    /* the output's strides: its own when it is a view of a host array */
    buf_strides(buffers[0], a->info.out_stride, info.out_stride);
    for (int p = 0; p < a->nparts; p++) {
        memcpy(info.lo, a->part[p].lo, sizeof info.lo);
        memcpy(info.hi, a->part[p].hi, sizeof info.hi);
        const char *in;
        if (info.part == SJ_STENCIL_INTERIOR) {
            /* the input block in place, with its own strides */
            buf_strides(buffers[1], a->info.out_stride, info.in_stride);
            in = PTR(1);
        } else {
            in = assemble(buffers, a, &a->part[p], info.in_stride, es);
            if (!in) {
                sj__kernel_fail("stencil on block %d: out of memory for a padded slab",
                                info.blk.block);
                return;
            }
        }
        int rc = a->fn(&info, PTR(0), in, ctx);
        if (rc != 0) {
            sj__kernel_fail("user stencil function returned %d on block %d", rc, info.blk.block);
            return;
        }
    }
}

/* Nothing to do: the task exists for its position in the graph (see halo.c). */
void sj__cpu_halo_gate(void *buffers[], void *cl_arg)
{
    (void)buffers;
    (void)cl_arg;
}
