/*
 * Stencil steps with halo exchange (include/starjets/stencil.h).
 *
 * A *strip* is the set of cells of block `from` that block `to` reads as
 * ghost cells in one direction (one of the 3^ndims - 1 neighbour
 * directions). Every rank walks all blocks and directions in one fixed
 * order, so that all ranks book the same tags for the strips that cross
 * ranks, and registers the strips it sends or receives; the input array
 * keeps them for its next step (struct sj__halo_cache below). The owner of
 * `from` packs them (one task per source block) and sends the cross-rank ones
 * with explicit StarPU-MPI transfers; every other task is local to its rank.
 * Nothing is cached by StarPU-MPI, so nothing needs flushing and a time loop
 * may chain calls without waiting.
 *
 * When the receives are posted matters on a node where StarPU-MPI's
 * progress thread shares a core with a worker: that thread polls without
 * sleeping while any request is pending. Posted at submission, a receive
 * would be pending for whole steps (the application thread runs ahead) and
 * the polling would take half the worker's core (docs/halo.md has the
 * measurements). So the pack task of a block also claims (writes, without
 * touching) the strips the block receives from other ranks: the receives
 * are posted when the block's input is ready, as the sends are.
 *
 * Priorities: pack tasks first (the neighbours wait for them), then frame
 * tasks (the next step's packs wait for them), interior tasks last: a worker
 * that has a strip to send never sits in a long interior task first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array/array_private.h"
#include "kernels/halo.h"
#include "runtime/rt_halo.h"

enum { PRIO_INTERIOR = 0, PRIO_FRAME = 1, PRIO_PACK = 2 };

/* The geometry of one call: the same on every rank. */
typedef struct plan {
    sj_space_t space;
    int nd, width;
    sj_boundary_t bc[SJ_MAX_DIMS];
    int ndirs;
    int dir[SJ__HALO_MAX_DIRS][SJ_MAX_DIMS];
} plan_t;

/* Ghost cells of block `to` in direction `dir`, held by block `from` (!= to). */
typedef struct strip {
    int from, to, dir;
    int64_t tag;                /* index among the cross-rank strips, then the tag; -1: same rank */
    int64_t n;                  /* cells */
    sj__halo_box_t region;      /* in `to`'s coordinates */
    int64_t shift[SJ_MAX_DIMS]; /* `from`'s coordinate = `to`'s + shift */
    sj__data_t handle;
} strip_t;

/*
 * The strips this rank sends or receives, sorted by destination block, with
 * two indexes: strips into block b are list[to_start[b] .. to_start[b + 1]),
 * strips out of a local block b are list[from[from_start[b] ..
 * from_start[b + 1])], each in direction order.
 */
typedef struct strips {
    strip_t *list;
    int n;
    int64_t nremote, first_tag;
    int *to_start, *from, *from_start;
} strips_t;

/*
 * The strips of a step depend on the input's space and layout, the width and
 * the boundaries only. Registering them (a StarPU-MPI handle and, across
 * ranks, a tag each) costs more than packing them, so the input array keeps
 * those of its last step and the next step with the same width and
 * boundaries reuses them: StarPU orders a strip's new packing after the
 * previous step's reads on each rank, and the messages of two steps under
 * one tag between two ranks arrive in order (they are sent and received
 * explicitly, never cached by StarPU-MPI).
 */
struct sj__halo_cache {
    int width;
    sj_boundary_t bc[SJ_MAX_DIMS];
    strips_t st;
};

static void block_coords(sj_space_t s, int b, int c[SJ_MAX_DIMS])
{
    c[0] = b % s->nblocks[0];
    c[1] = (b / s->nblocks[0]) % s->nblocks[1];
    c[2] = b / (s->nblocks[0] * s->nblocks[1]);
}

static int64_t block_len(sj_space_t s, int d, int k)
{
    return s->cuts[d][k + 1] - s->cuts[d][k];
}

static void block_dims(sj_space_t s, int b, int64_t dims[SJ_MAX_DIMS])
{
    int c[SJ_MAX_DIMS];
    block_coords(s, b, c);
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        dims[d] = block_len(s, d, c[d]);
}

static void block_strides(const int64_t dims[SJ_MAX_DIMS], int64_t stride[SJ_MAX_DIMS])
{
    stride[0] = 1;
    stride[1] = dims[0];
    stride[2] = dims[0] * dims[1];
}

/* The neighbour directions of an nd-dimensional block, dimension 0 fastest. */
static void plan_dirs(plan_t *pl)
{
    pl->ndirs = 0;
    for (int k = -1; k <= 1; k++)
        for (int j = -1; j <= 1; j++)
            for (int i = -1; i <= 1; i++) {
                const int v[SJ_MAX_DIMS] = {i, j, k};
                int zero = 1, ok = 1;
                for (int d = 0; d < SJ_MAX_DIMS; d++) {
                    zero &= v[d] == 0;
                    ok &= d < pl->nd || v[d] == 0;
                }
                if (ok && !zero) {
                    memcpy(pl->dir[pl->ndirs], v, sizeof v);
                    pl->ndirs++;
                }
            }
}

/*
 * The block holding the ghost cells of block @p b in direction @p dir, or -1
 * where they lie outside the array under a fixed boundary. Fills the ghost
 * region (in b's coordinates) and the shift to the neighbour's coordinates.
 */
static int neighbour(const plan_t *pl, int b, const int dir[SJ_MAX_DIMS], sj__halo_box_t *region,
                     int64_t shift[SJ_MAX_DIMS])
{
    const sj_space_t s = pl->space;
    int c[SJ_MAX_DIMS], nc[SJ_MAX_DIMS], outside = 0;
    block_coords(s, b, c);
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        const int m = s->nblocks[d];
        const int64_t len = block_len(s, d, c[d]);
        nc[d] = c[d] + dir[d];
        if (nc[d] < 0 || nc[d] >= m) {
            if (pl->bc[d] == SJ_BOUNDARY_FIXED)
                outside = 1;
            nc[d] = (nc[d] + m) % m;
        }
        if (dir[d] < 0) {
            region->lo[d] = -pl->width;
            region->hi[d] = 0;
            shift[d] = block_len(s, d, nc[d]);
        } else if (dir[d] == 0) {
            region->lo[d] = 0;
            region->hi[d] = len;
            shift[d] = 0;
        } else {
            region->lo[d] = len;
            region->hi[d] = len + pl->width;
            shift[d] = -len;
        }
    }
    if (outside)
        return -1;
    return nc[0] + s->nblocks[0] * (nc[1] + s->nblocks[1] * nc[2]);
}

/*
 * Cut a block of shape @p dims into its interior (cells at least `width` from
 * every edge; empty when *has_interior is 0) and at most 2 * nd frame slabs:
 * slab d holds the cells whose first dimension outside the interior range is
 * d. Returns the number of slabs.
 */
static int block_parts(const plan_t *pl, const int64_t dims[SJ_MAX_DIMS], sj__halo_box_t *interior,
                       int *has_interior, sj__halo_box_t parts[SJ__HALO_MAX_PARTS])
{
    const int w = pl->width;
    int64_t ilo[SJ_MAX_DIMS], ihi[SJ_MAX_DIMS];
    *has_interior = 1;
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        ilo[d] = d < pl->nd ? w : 0;
        ihi[d] = d < pl->nd ? dims[d] - w : dims[d];
        *has_interior &= ihi[d] > ilo[d];
        interior->lo[d] = ilo[d];
        interior->hi[d] = ihi[d];
    }
    int n = 0;
    for (int d = 0; d < pl->nd; d++) {
        sj__halo_box_t box;
        for (int e = 0; e < SJ_MAX_DIMS; e++) {
            box.lo[e] = e < d ? ilo[e] : 0;
            box.hi[e] = e < d ? ihi[e] : dims[e];
        }
        if (ihi[d] > ilo[d]) {
            box.hi[d] = w;
            parts[n++] = box;
            box.lo[d] = dims[d] - w;
            box.hi[d] = dims[d];
            parts[n++] = box;
        } else {
            /* No interior along d: one slab covers it, and no cell is left. */
            parts[n++] = box;
            break;
        }
    }
    return n;
}

/* ---- checks ----------------------------------------------------------------- */

static int check_boundary(const char *what, sj_boundary_t bc, int allow_zero)
{
    SJ_CHECK_FN("sj_array_stencil",
                (allow_zero && bc == 0) || bc == SJ_BOUNDARY_PERIODIC || bc == SJ_BOUNDARY_FIXED,
                SJ_EINVAL, "%s is %d; expected SJ_BOUNDARY_PERIODIC (1) or SJ_BOUNDARY_FIXED (2)%s",
                what, (int)bc, allow_zero ? " or 0 (the call's boundary)" : "");
    return SJ_OK;
}

static int check_width(const sj_space_t s, int width)
{
    SJ_CHECK_FN("sj_array_stencil", width >= 1, SJ_EINVAL, "width is %d; expected 1 or more",
                width);
    for (int d = 0; d < s->ndims; d++)
        for (int k = 0; k < s->nblocks[d]; k++)
            SJ_CHECK_FN("sj_array_stencil", block_len(s, d, k) >= width, SJ_EINVAL,
                        "width %d is larger than block %d of dimension %d (%lld cells): ghost "
                        "layers come from the adjacent block only; use wider blocks",
                        width, k, d, (long long)block_len(s, d, k));
    return SJ_OK;
}

/* ---- submission ------------------------------------------------------------- */

/* Append @p x to the strip list. */
static int push_strip(strips_t *st, int *cap, const strip_t *x)
{
    if (st->n == *cap) {
        int c = *cap ? 2 * *cap : 64;
        strip_t *p = realloc(st->list, (size_t)c * sizeof *p);
        if (!p)
            return sj__error(SJ_ENOMEM, "sj_array_stencil", "cannot allocate %d strips", c);
        st->list = p;
        *cap = c;
    }
    st->list[st->n++] = *x;
    return SJ_OK;
}

/* Build both indexes of the strip list (see strips_t); counting sort by source. */
static int index_strips(strips_t *st, const int *owner, int me, int total)
{
    st->to_start = calloc((size_t)total + 1, sizeof *st->to_start);
    st->from_start = calloc((size_t)total + 2, sizeof *st->from_start);
    st->from = malloc((size_t)(st->n ? st->n : 1) * sizeof *st->from);
    if (!st->to_start || !st->from_start || !st->from)
        return sj__error(SJ_ENOMEM, "sj_array_stencil", "cannot allocate the strip indexes");
    int *fs = st->from_start;
    for (int s = 0; s < st->n; s++) {
        st->to_start[st->list[s].to + 1]++;
        if (owner[st->list[s].from] == me)
            fs[st->list[s].from + 2]++;
    }
    for (int b = 0; b < total; b++) {
        st->to_start[b + 1] += st->to_start[b];
        fs[b + 2] += fs[b + 1];
    }
    for (int s = 0; s < st->n; s++)
        if (owner[st->list[s].from] == me)
            st->from[fs[st->list[s].from + 1]++] = s;
    return SJ_OK;
}

/*
 * The strips this rank sends or receives: listed in the global order (all
 * blocks, all directions, the same walk on every rank, which numbers the
 * cross-rank strips alike everywhere), tagged and indexed (alloc_strips registers them).
 */
static int make_strips(const plan_t *pl, const int *owner, int me, strips_t *st)
{
    const int total = pl->space->total;
    int cap = 0;
    for (int b = 0; b < total; b++)
        for (int k = 0; k < pl->ndirs; k++) {
            strip_t x = {.to = b, .dir = k, .tag = -1};
            x.from = neighbour(pl, b, pl->dir[k], &x.region, x.shift);
            if (x.from < 0 || x.from == b)
                continue;
            if (owner[x.from] != owner[b])
                x.tag = st->nremote++;
            if (owner[x.from] != me && owner[b] != me)
                continue;
            x.n = 1;
            for (int d = 0; d < SJ_MAX_DIMS; d++)
                x.n *= x.region.hi[d] - x.region.lo[d];
            SJ_TRY(push_strip(st, &cap, &x));
        }
    SJ_TRY(index_strips(st, owner, me, total));
    if (st->nremote) {
        st->first_tag = sj__tag_book(st->nremote);
        if (st->first_tag < 0)
            return sj__error(SJ_ENOMEM, "sj_array_stencil", "cannot book %lld tags",
                             (long long)st->nremote);
    }
    for (int s = 0; s < st->n; s++)
        if (st->list[s].tag >= 0)
            st->list[s].tag += st->first_tag;
    return SJ_OK;
}

/* Making the strips, then their memory as far as it goes: called again, it goes on. */
typedef struct strips_alloc {
    int made; /* make_strips' result */
    strips_t *st;
    size_t es;
    int me;
} strips_alloc_t;

/* The strips' memory now: a ghost strip StarPU could not allocate would hang its task. */
static int alloc_strips(void *ctx)
{
    strips_alloc_t *sa = ctx;
    if (sa->made < 0)
        return sa->made;
    for (int s = 0; s < sa->st->n; s++) {
        strip_t *x = &sa->st->list[s];
        if (!x->handle &&
            sj__rt_data_register_alloc(&x->handle, sa->me, x->tag, (size_t)x->n, sa->es) < 0)
            return sj__error(SJ_ENOMEM, "sj_array_stencil",
                             "out of memory on this rank (%d): cannot allocate a ghost strip of "
                             "%lld bytes",
                             sa->me, (long long)x->n * (long long)sa->es);
    }
    return SJ_OK;
}

/* Unregister the strips (StarPU frees each once its tasks and transfers are done). */
static void free_strips(strips_t *st)
{
    for (int s = 0; s < st->n; s++)
        if (st->list[s].handle)
            sj__rt_data_unregister_submit(st->list[s].handle);
    if (st->first_tag > 0)
        sj__tag_release(st->first_tag, st->nremote);
    free(st->list);
    free(st->to_start);
    free(st->from);
    free(st->from_start);
}

/* A gate: a task that claims @p n received strips (W) once in(b) is ready. */
static int submit_gate(sj_array_t in, int b, const sj__buf_t *claims, int n)
{
    sj__buf_t bufs[1 + SJ__HALO_MAX_DIRS] = {{in->handles[b], SJ__R}};
    memcpy(bufs + 1, claims, (size_t)n * sizeof *claims);
    return sj__rt_submit_local(SJ__K_HALO_GATE, NULL, 0, PRIO_PACK, 1 + n, bufs);
}

/*
 * Per local block: the pack task (which also claims the strips the block
 * receives from other ranks; see the file comment), then its sends and
 * receives. A 3-D block with more strips than a task takes buffers gets a
 * separate gate task for its claims, submitted first.
 */
static int submit_exchange(sj_array_t in, const int *owner, const strips_t *st, int me)
{
    const int count = in->dist->local_start[me + 1] - in->dist->local_start[me];
    const int *blocks = in->dist->local + in->dist->local_start[me];
    for (int i = 0; i < count; i++) {
        const int b = blocks[i];
        /* At most 26 strips out: one per direction in which b is a neighbour. */
        const int nout = st->from_start[b + 1] - st->from_start[b];
        const strip_t *into = st->list + st->to_start[b];
        const int nto = st->to_start[b + 1] - st->to_start[b];
        sj__buf_t claims[SJ__HALO_MAX_DIRS];
        int nclaims = 0;
        for (int j = 0; j < nto; j++)
            if (into[j].tag >= 0)
                claims[nclaims++] = (sj__buf_t){into[j].handle, SJ__W};
        if (nout == 0)
            continue; /* nothing out, nothing in from other ranks (neighbours are mutual) */
        const int merged = 1 + nout + nclaims <= SJ__RT_MAX_BUFS;
        if (!merged && nclaims)
            SJ_TRY(submit_gate(in, b, claims, nclaims));

        sj__halo_pack_args_t args = {.elemsize = sj_dtype_size(in->space->dtype), .nstrips = nout};
        sj__buf_t bufs[SJ__RT_MAX_BUFS] = {{in->handles[b], SJ__R}};
        int64_t dims[SJ_MAX_DIMS];
        block_dims(in->space, b, dims);
        block_strides(dims, args.stride);
        for (int j = 0; j < nout; j++) {
            const strip_t *s = &st->list[st->from[st->from_start[b] + j]];
            for (int d = 0; d < SJ_MAX_DIMS; d++) {
                args.box[j].lo[d] = s->region.lo[d] + s->shift[d];
                args.box[j].hi[d] = s->region.hi[d] + s->shift[d];
            }
            bufs[1 + j] = (sj__buf_t){s->handle, SJ__W};
        }
        int nbufs = 1 + nout;
        if (merged) {
            memcpy(bufs + nbufs, claims, (size_t)nclaims * sizeof *claims);
            nbufs += nclaims;
        }
        SJ_TRY(sj__rt_submit_local(SJ__K_HALO_PACK, &args, sizeof args, PRIO_PACK, nbufs, bufs));
        for (int j = 0; j < nout; j++) {
            const strip_t *s = &st->list[st->from[st->from_start[b] + j]];
            if (s->tag >= 0)
                sj__rt_send_detached(s->handle, owner[s->to], s->tag);
        }
        for (int j = 0; j < nto; j++)
            if (into[j].tag >= 0)
                sj__rt_recv_detached(into[j].handle, owner[into[j].from], into[j].tag);
    }
    return SJ_OK;
}

/*
 * The frame sources of block b: the block itself, then one region per
 * direction (the boundary value, the block itself under a periodic wrap onto
 * itself, or a strip, appended to @p bufs). @p strips points at b's incoming
 * strips, in direction order.
 */
static int frame_sources(const plan_t *pl, int b, const int64_t dims[SJ_MAX_DIMS],
                         const strip_t *strips, int nstrips, sj__halo_args_t *args, sj__buf_t *bufs,
                         int *nbufs)
{
    int64_t stride[SJ_MAX_DIMS];
    block_strides(dims, stride);
    sj__halo_src_t *src = args->src;
    memset(src, 0, sizeof args->src);
    src[0].buf = 1;
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        src[0].region.hi[d] = dims[d];
        src[0].stride[d] = stride[d];
    }
    args->nsrc = 1;
    int next = 0;
    for (int k = 0; k < pl->ndirs; k++) {
        sj__halo_src_t *r = &src[args->nsrc++];
        int nb = neighbour(pl, b, pl->dir[k], &r->region, r->shift);
        if (nb < 0) {
            r->buf = -1;
        } else if (nb == b) {
            r->buf = 1;
            memcpy(r->stride, stride, sizeof stride);
        } else {
            if (next >= nstrips || strips[next].dir != k)
                return sj__error(SJ_ERUNTIME, "sj_array_stencil",
                                 "internal error: no strip for block %d, direction %d", b, k);
            const strip_t *st = &strips[next++];
            int64_t ext[SJ_MAX_DIMS];
            for (int d = 0; d < SJ_MAX_DIMS; d++) {
                ext[d] = r->region.hi[d] - r->region.lo[d];
                r->shift[d] = -r->region.lo[d]; /* a strip holds its region from (0,0,0) */
            }
            block_strides(ext, r->stride);
            r->buf = *nbufs;
            bufs[*nbufs].data = st->handle;
            bufs[*nbufs].mode = SJ__R;
            (*nbufs)++;
        }
    }
    return SJ_OK;
}

/* The variant of a stencil kernel family whose tasks may also run on CUDA workers. */
static const char *cuda_variant_name(int family)
{
    return family == SJ__K_HALO_INTERIOR ? "sj_stencil_interior_cuda"
           : family == SJ__K_HALO_FRAME  ? "sj_stencil_frame_cuda"
                                         : "sj_stencil_padded_cuda";
}

/*
 * The kernel of a stencil part: the family's own (CPU workers), or with a
 * CUDA function its variant (made by sj_array_stencil before any task, so
 * that this lookup finds it).
 */
static sj__kernel_t stencil_kernel(sj__kernel_t family, const sj__halo_args_t *args)
{
    sj__kernel_t k = family;
    if (args->fn_cuda && sj__rt_kernel_variant(family, cuda_variant_name(family), 1, &k) != SJ_OK)
        return family;
    return k;
}

/*
 * The tasks of local block b: interior and frame (SJ_STENCIL_SPLIT) or one
 * padded task. @p strips points at b's incoming strips.
 */
static int submit_block(const plan_t *pl, sj_array_t out, sj_array_t in, int b,
                        sj_stencil_mode_t mode, const strip_t *strips, int nstrips,
                        sj__halo_args_t *args, size_t argsize)
{
    int64_t dims[SJ_MAX_DIMS];
    block_dims(pl->space, b, dims);
    sj__space_block_info(pl->space, b, &args->info.blk);
    block_strides(dims, args->info.out_stride);

    sj__halo_box_t interior, parts[SJ__HALO_MAX_PARTS];
    int has_interior = 0, nparts = 1;
    if (mode == SJ_STENCIL_SPLIT) {
        nparts = block_parts(pl, dims, &interior, &has_interior, parts);
    } else {
        for (int d = 0; d < SJ_MAX_DIMS; d++) {
            parts[0].lo[d] = 0;
            parts[0].hi[d] = dims[d];
        }
    }
    if (has_interior) {
        args->info.part = SJ_STENCIL_INTERIOR;
        args->nparts = 1;
        args->part[0] = interior;
        args->nsrc = 0;
        sj__buf_t bufs[2] = {{out->handles[b], SJ__W}, {in->handles[b], SJ__R}};
        SJ_TRY(sj__rt_submit_local(stencil_kernel(SJ__K_HALO_INTERIOR, args), args, argsize,
                                   PRIO_INTERIOR, 2, bufs));
    }
    if (nparts == 0)
        return SJ_OK;

    sj__buf_t bufs[2 + SJ__HALO_MAX_DIRS] = {{out->handles[b], has_interior ? SJ__RW : SJ__W},
                                             {in->handles[b], SJ__R}};
    int nbufs = 2;
    SJ_TRY(frame_sources(pl, b, dims, strips, nstrips, args, bufs, &nbufs));
    args->info.part = mode == SJ_STENCIL_SPLIT ? SJ_STENCIL_FRAME : SJ_STENCIL_WHOLE;
    args->nparts = nparts;
    memcpy(args->part, parts, (size_t)nparts * sizeof parts[0]);
    const sj__kernel_t kernel =
        stencil_kernel(mode == SJ_STENCIL_SPLIT ? SJ__K_HALO_FRAME : SJ__K_HALO_PADDED, args);
    return sj__rt_submit_local(kernel, args, argsize, PRIO_FRAME, nbufs, bufs);
}

void sj_stencil_options_default(sj_stencil_options_t *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->fixed_value = 0.0;
    opts->mode = SJ_STENCIL_SPLIT;
}

int sj_array_stencil(sj_array_t in, sj_array_t out, int width, sj_boundary_t boundary,
                     const sj_stencil_options_t *opts, sj_stencil_fn_t fn, const void *ctx,
                     size_t ctx_size)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_same(__func__, "out", out, "in", in));
    SJ_CHECK(out != in, SJ_EINVAL,
             "out and in are the same array; a step needs a separate output (swap the two "
             "arrays between steps)");
    SJ_CHECK_NULL(fn);
    SJ_CHECK(ctx != NULL || ctx_size == 0, SJ_ENULL, "ctx is NULL but ctx_size is %zu", ctx_size);
    SJ_CHECK(ctx_size <= (1u << 20), SJ_ESIZE, "ctx_size is %zu, more than 1 MiB", ctx_size);
    const sj_space_t space = in->space;
    SJ_CHECK(space->ndims >= 2, SJ_ENOTSUP, "in is a %d-D array; stencils take 2-D and 3-D arrays",
             space->ndims);
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    if (opts)
        o = *opts;
    SJ_CHECK(o.mode == SJ_STENCIL_SPLIT || o.mode == SJ_STENCIL_PADDED, SJ_EINVAL,
             "opts->mode is %d; expected SJ_STENCIL_SPLIT (0) or SJ_STENCIL_PADDED (1)",
             (int)o.mode);
    SJ_CHECK(o.cuda != fn, SJ_EINVAL,
             "opts->cuda is fn itself; it must be a CUDA version of fn, which reads device "
             "memory (or NULL)");
    if (o.cuda) /* the variants first: nothing to undo if one cannot be made */
        for (int k = SJ__K_HALO_INTERIOR; k <= SJ__K_HALO_PADDED; k++) {
            sj__kernel_t variant;
            SJ_TRY(
                sj__named(sj__rt_kernel_variant((sj__kernel_t)k, cuda_variant_name(k), 1, &variant),
                          __func__));
        }
    SJ_TRY(check_boundary("boundary", boundary, 0));
    plan_t pl = {.space = space, .nd = space->ndims, .width = width};
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        char what[32];
        snprintf(what, sizeof what, "opts->boundary[%d]", d);
        SJ_TRY(check_boundary(what, o.boundary[d], 1));
        pl.bc[d] = o.boundary[d] ? o.boundary[d] : boundary;
    }
    SJ_TRY(check_width(space, width));
    plan_dirs(&pl);

    const int me = sj__rt_rank();
    const size_t argsize = sizeof(sj__halo_args_t) + ctx_size;
    sj__halo_args_t *args = sj__calloc(1, argsize);
    if (!args)
        return sj__error(SJ_ENOMEM, __func__, "cannot allocate the task arguments");
    args->fn = fn;
    args->fn_cuda = o.cuda;
    args->info.width = width;
    args->fixed_value = o.fixed_value;
    args->ctx_size = ctx_size;
    args->ctx_as_is = ctx_size ? NULL : ctx;
    if (ctx_size)
        memcpy((char *)args + sizeof *args, ctx, ctx_size);

    struct sj__halo_cache *hc = in->halo;
    if (hc && (hc->width != width || memcmp(hc->bc, pl.bc, sizeof pl.bc) != 0))
        sj__array_halo_fini(in);
    int rc;
    if (!in->halo) {
        hc = sj__calloc(1, sizeof *hc);
        int made = hc ? SJ_OK : sj__error(SJ_ENOMEM, __func__, "cannot allocate the ghost strips");
        if (hc) {
            hc->width = width;
            memcpy(hc->bc, pl.bc, sizeof pl.bc);
            made = make_strips(&pl, in->dist->owner, me, &hc->st);
            in->halo = hc; /* even when incomplete: freed with the array, or at the next change */
        }
        /* the ghost strips exist on every rank, or on none */
        strips_alloc_t sa = {made, hc ? &hc->st : NULL, sj_dtype_size(space->dtype), me};
        made = sj__rt_agree_alloc(__func__, alloc_strips, &sa, "out of memory",
                                  ": cannot allocate the ghost strips");
        if (made < 0)
            sj__array_halo_fini(in);
        SJ_TRY_GOTO(rc, made, done);
    }
    const strips_t st = in->halo->st;
    SJ_TRY_GOTO(rc, submit_exchange(in, in->dist->owner, &st, me), done);
    const int count = out->dist->local_start[me + 1] - out->dist->local_start[me];
    const int *blocks = out->dist->local + out->dist->local_start[me];
    for (int i = 0; i < count; i++) {
        const int b = blocks[i];
        SJ_TRY_GOTO(rc,
                    submit_block(&pl, out, in, b, o.mode, st.list + st.to_start[b],
                                 st.to_start[b + 1] - st.to_start[b], args, argsize),
                    done);
    }
done:
    free(args);
    return sj__named(rc, __func__);
}

void sj__array_halo_fini(sj_array_t a)
{
    if (!a->halo)
        return;
    free_strips(&a->halo->st);
    free(a->halo);
    a->halo = NULL;
}
