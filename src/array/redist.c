/*
 * Redistribution: copy an array into one of the same shape with another
 * blocking or layout (sj_array_redistribute).
 *
 * Along each dimension the cuts of the two blockings merge into segments,
 * each inside one block of either side; a piece is one segment per dimension:
 * the box where a block of src meets a block of dst. Every rank walks the
 * pieces in the same order (dimension 0 fastest) and acts on those it is part
 * of: a piece that stays on its rank is one box-copy task there; a piece that
 * changes rank is one message under the next of the tags booked for the
 * call's cross-rank pieces. A message carries a whole block when the piece is
 * a whole block on both sides, else a contiguous temporary packed and
 * unpacked by box-copy tasks.
 *
 * No task here reads a handle remotely (the messages are explicit sends and
 * receives into other handles, which StarPU-MPI does not cache), so no flush
 * is owed (runtime/rt.h).
 */
#include <stdlib.h>

#include "array/array_private.h"
#include "runtime/rt_halo.h"

/* Along one dimension: src block s meets dst block d on [lo, hi). */
typedef struct seg {
    int s, d;
    int64_t lo, hi;
} seg_t;

/* The pieces of two blockings, walked as an odometer over the segments. */
typedef struct walk {
    sj_space_t src, dst;
    seg_t *seg[SJ_MAX_DIMS];
    int nseg[SJ_MAX_DIMS];
    int at[SJ_MAX_DIMS];
} walk_t;

/* One piece: blocks bs of src and bd of dst, global corner lo, shape n. */
typedef struct piece {
    int bs, bd;
    int64_t lo[3], n[3];
} piece_t;

static void walk_free(walk_t *w)
{
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        free(w->seg[d]);
        w->seg[d] = NULL;
    }
}

/* Merge two cut lists over the same length into their segments; returns how many. */
static int merge_cuts(const int64_t *a, int na, const int64_t *b, int nb, seg_t *out)
{
    int i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        const int64_t hi = a[i + 1] < b[j + 1] ? a[i + 1] : b[j + 1];
        out[k++] = (seg_t){i, j, a[i] > b[j] ? a[i] : b[j], hi};
        i += a[i + 1] == hi;
        j += b[j + 1] == hi;
    }
    return k;
}

static int walk_init(sj_space_t src, sj_space_t dst, walk_t *w)
{
    *w = (walk_t){.src = src, .dst = dst};
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        const int ns = src->nblocks[d], nd = dst->nblocks[d];
        w->seg[d] = sj__calloc((size_t)(ns + nd - 1), sizeof(seg_t));
        if (!w->seg[d]) {
            walk_free(w);
            return SJ_ENOMEM;
        }
        w->nseg[d] = merge_cuts(src->cuts[d], ns, dst->cuts[d], nd, w->seg[d]);
    }
    return SJ_OK;
}

static void walk_rewind(walk_t *w)
{
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        w->at[d] = 0;
}

/* The piece under the odometer, then advance it; 0 when past the last piece. */
static int walk_next(walk_t *w, piece_t *p)
{
    if (w->at[SJ_MAX_DIMS - 1] >= w->nseg[SJ_MAX_DIMS - 1])
        return 0;
    int cs[SJ_MAX_DIMS], cd[SJ_MAX_DIMS];
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        const seg_t *s = &w->seg[d][w->at[d]];
        cs[d] = s->s;
        cd[d] = s->d;
        p->lo[d] = s->lo;
        p->n[d] = s->hi - s->lo;
    }
    p->bs = cs[0] + w->src->nblocks[0] * (cs[1] + w->src->nblocks[1] * cs[2]);
    p->bd = cd[0] + w->dst->nblocks[0] * (cd[1] + w->dst->nblocks[1] * cd[2]);
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        if (++w->at[d] < w->nseg[d] || d == SJ_MAX_DIMS - 1)
            break;
        w->at[d] = 0;
    }
    return 1;
}

/* ---- checks -------------------------------------------------------------------- */

static int check_shapes(const char *func, sj_array_t src, sj_array_t dst)
{
    const sj_space_t a = src->space, b = dst->space;
    int same = a->ndims == b->ndims;
    for (int d = 0; same && d < SJ_MAX_DIMS; d++)
        same = a->dims[d] == b->dims[d];
    if (!same) {
        char da[128], db[128];
        sj_space_describe(a, da, sizeof da);
        sj_space_describe(b, db, sizeof db);
        return sj__error(SJ_EMISMATCH, func,
                         "src and dst have different global shapes (src: %s; dst: %s)", da, db);
    }
    SJ_CHECK_FN(func, a->dtype == b->dtype, SJ_EMISMATCH, "src holds %s elements and dst %s",
                a->dtype == SJ_FLOAT64 ? "float64" : "float32",
                b->dtype == SJ_FLOAT64 ? "float64" : "float32");
    return SJ_OK;
}

/* The first block of dst this rank owns that the host holds, or -1. */
static int held_block(sj_array_t dst)
{
    const int me = sj__rt_rank();
    const sj_dist_t dist = dst->dist;
    const int acquired = dst->wrap && dst->wrap->acquired;
    for (int i = dist->local_start[me]; i < dist->local_start[me + 1]; i++)
        if (acquired || dst->got[dist->local[i]])
            return dist->local[i];
    return -1;
}

static int check_staging(const char *func, walk_t *w, sj_array_t src, sj_array_t dst);

/*
 * Only an owner sees whether a block of dst is held, and a rank out of memory
 * knows it alone: the ranks agree on both before anything is booked or
 * submitted, so that they all fail together or all go on. When some rank is
 * out of memory (and no block is held), each rank out of memory waits for the
 * memory being given back (the blocks of arrays destroyed a moment ago) and
 * checks once more.
 */
static int agree_to_start(const char *func, walk_t *w, int walked, sj_array_t src, sj_array_t dst)
{
    const int held = held_block(dst);
    int nomem = !walked || check_staging(func, w, src, dst) < 0;
    int bad[2] = {held >= 0, nomem};
    SJ_TRY(sj__named(sj__rt_sum_ints(bad, 2), func));
    if (!bad[0] && bad[1]) {
        if (nomem && walked) {
            sj__rt_mem_drain();
            nomem = check_staging(func, w, src, dst) < 0;
        }
        SJ_TRY(sj__named(sj__rt_sum_int(nomem, &bad[1]), func));
    }
    if (held >= 0)
        return sj__error(SJ_ESTATE, func,
                         "block %d of dst is held on this rank by sj_array_localpart_get or "
                         "sj_array_acquire (give it back first)",
                         held);
    if (bad[0])
        return sj__error(SJ_ESTATE, func,
                         "a block of dst is held by sj_array_localpart_get or sj_array_acquire "
                         "on %d other rank(s)",
                         bad[0]);
    if (nomem)
        return sj__error_rename(SJ_ENOMEM, func);
    if (bad[1])
        return sj__error(SJ_ENOMEM, func, "out of memory on %d other rank(s)", bad[1]);
    return SJ_OK;
}

/* ---- moving one piece ------------------------------------------------------------ */

typedef struct plan {
    sj_array_t src, dst;
    size_t es;
    int me;
} plan_t;

/* Box-copy arguments: n elements from (src_dims, src_off) to (dst_dims, dst_off). */
static sj__boxcopy_args_t box_args(size_t es, const int64_t n[3], const int64_t dst_dims[3],
                                   const int64_t dst_off[3], const int64_t src_dims[3],
                                   const int64_t src_off[3])
{
    sj__boxcopy_args_t a = {.elemsize = es};
    for (int d = 0; d < 3; d++) {
        a.n[d] = n[d];
        a.dst_dims[d] = dst_dims[d];
        a.dst_off[d] = dst_off[d];
        a.src_dims[d] = src_dims[d];
        a.src_off[d] = src_off[d];
    }
    return a;
}

static int box_copy(const sj__boxcopy_args_t *a, sj__data_t to, sj__mode_t mode, sj__data_t from)
{
    const sj__buf_t bufs[2] = {{to, mode}, {from, SJ__R}};
    return sj__rt_submit(SJ__K_BOXCOPY, a, sizeof *a, 2, bufs);
}

static int64_t piece_nelems(const piece_t *p)
{
    return p->n[0] * p->n[1] * p->n[2];
}

static int move_piece(const plan_t *pl, const piece_t *p, int64_t tag)
{
    const int po = pl->src->dist->owner[p->bs], pq = pl->dst->dist->owner[p->bd];
    if (pl->me != po && pl->me != pq)
        return SJ_OK;
    sj_block_info_t bs, bd;
    sj__space_block_info(pl->src->space, p->bs, &bs);
    sj__space_block_info(pl->dst->space, p->bd, &bd);
    int64_t soff[3], doff[3];
    int whole_src = 1, whole_dst = 1;
    for (int d = 0; d < 3; d++) {
        soff[d] = p->lo[d] - bs.lo[d];
        doff[d] = p->lo[d] - bd.lo[d];
        whole_src &= p->n[d] == bs.dims[d];
        whole_dst &= p->n[d] == bd.dims[d];
    }
    const sj__mode_t dmode = whole_dst ? SJ__W : SJ__RW;
    sj__data_t hs = pl->src->handles[p->bs], hd = pl->dst->handles[p->bd];
    if (po == pq) {
        sj__boxcopy_args_t a = box_args(pl->es, p->n, bd.dims, doff, bs.dims, soff);
        return box_copy(&a, hd, dmode, hs);
    }
    if (whole_src && whole_dst) {
        if (pl->me == po) {
            sj__rt_send_detached(hs, pq, tag);
            return SJ_OK;
        }
        sj__rt_recv_detached(hd, po, tag);
        /* a task that reads the block, so that sj_wait waits for the receive
         * (see move_finish in array.c) */
        const sj__buf_t gate = {hd, SJ__R};
        return sj__rt_submit_local(SJ__K_HALO_GATE, NULL, 0, 0, 1, &gate);
    }
    static const int64_t zero[3] = {0, 0, 0};
    sj__data_t tmp;
    sj__rt_data_register_local(&tmp, NULL, (size_t)piece_nelems(p), pl->es);
    int rc;
    if (pl->me == po) {
        sj__boxcopy_args_t a = box_args(pl->es, p->n, p->n, zero, bs.dims, soff);
        rc = box_copy(&a, tmp, SJ__W, hs);
        if (rc == SJ_OK)
            sj__rt_send_detached(tmp, pq, tag);
    } else {
        sj__rt_recv_detached(tmp, po, tag);
        sj__boxcopy_args_t a = box_args(pl->es, p->n, bd.dims, doff, p->n, zero);
        rc = box_copy(&a, hd, dmode, tmp);
    }
    sj__rt_data_unregister_submit(tmp);
    return rc;
}

/* ---- the call ------------------------------------------------------------------- */

/* Whether piece @p p crosses ranks as part of a block: then each side stages it in a temporary. */
static int piece_staged(sj_array_t src, sj_array_t dst, const piece_t *p)
{
    if (src->dist->owner[p->bs] == dst->dist->owner[p->bd])
        return 0;
    sj_block_info_t bs, bd;
    sj__space_block_info(src->space, p->bs, &bs);
    sj__space_block_info(dst->space, p->bd, &bd);
    for (int d = 0; d < 3; d++)
        if (p->n[d] != bs.dims[d] || p->n[d] != bd.dims[d])
            return 1;
    return 0;
}

/*
 * SJ_ENOMEM with a sentence when this rank could not allocate the temporaries
 * of its staged pieces now (StarPU allocates them when the copies run, and a
 * copy whose buffer it cannot allocate never runs). All of them at once: a
 * bound, since StarPU frees each as soon as its piece has moved.
 */
static int check_staging(const char *func, walk_t *w, sj_array_t src, sj_array_t dst)
{
    const int me = sj__rt_rank();
    const size_t es = sj_dtype_size(src->space->dtype);
    int64_t bytes = 0;
    piece_t p;
    walk_rewind(w);
    while (walk_next(w, &p))
        if ((src->dist->owner[p.bs] == me || dst->dist->owner[p.bd] == me) &&
            piece_staged(src, dst, &p))
            bytes += piece_nelems(&p) * (int64_t)es;
    walk_rewind(w);
    if (sj__rt_mem_probe((size_t)bytes) == SJ_OK)
        return SJ_OK;
    return sj__error(SJ_ENOMEM, func,
                     "out of memory on this rank (%d): cannot allocate the %lld bytes of "
                     "temporaries that stage its pieces",
                     me, (long long)bytes);
}

/* Book the tags of the cross-rank pieces and move every piece; *bytes gets what crosses. */
static int move_all(walk_t *w, sj_array_t src, sj_array_t dst, int64_t *bytes)
{
    const plan_t pl = {src, dst, sj_dtype_size(src->space->dtype), sj__rt_rank()};
    int64_t ncross = 0, moved = 0;
    piece_t p;
    while (walk_next(w, &p))
        if (src->dist->owner[p.bs] != dst->dist->owner[p.bd]) {
            ncross++;
            moved += piece_nelems(&p);
        }
    const int64_t first = ncross ? sj__tag_book(ncross) : 0;
    if (first < 0)
        return sj__error(SJ_ENOMEM, "starjets", "cannot book %lld tags", (long long)ncross);
    walk_rewind(w);
    int rc = SJ_OK;
    int64_t tag = first;
    while (rc == SJ_OK && walk_next(w, &p)) {
        const int cross = src->dist->owner[p.bs] != dst->dist->owner[p.bd];
        rc = move_piece(&pl, &p, cross ? tag : -1);
        tag += cross;
    }
    /* released tags stay in quarantine until the messages are done (tags.c) */
    if (ncross)
        sj__tag_release(first, ncross);
    *bytes = moved * (int64_t)pl.es;
    return rc;
}

int sj_array_redistribute(sj_array_t src, sj_array_t dst, int64_t *bytes_moved)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    if (bytes_moved)
        *bytes_moved = 0;
    SJ_TRY(sj__check_array(__func__, "src", src));
    SJ_TRY(sj__check_array(__func__, "dst", dst));
    SJ_CHECK(src != dst, SJ_EINVAL, "src and dst are the same array (pass another array as dst)");
    SJ_TRY(check_shapes(__func__, src, dst));
    walk_t w;
    const int walked = walk_init(src->space, dst->space, &w) == SJ_OK;
    int rc = agree_to_start(__func__, &w, walked, src, dst);
    int64_t moved = 0;
    if (rc == SJ_OK)
        rc = move_all(&w, src, dst, &moved);
    walk_free(&w);
    if (rc < 0)
        return sj__error_rename(rc, __func__);
    if (bytes_moved)
        *bytes_moved = moved;
    return SJ_OK;
}
