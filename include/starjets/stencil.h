/**
 * @file starjets/stencil.h
 * @brief Stencil steps on 2-D and 3-D arrays with halo (ghost-layer) exchange.
 *
 * sj_array_stencil() computes `out` from `in` block by block: the update of
 * a block reads the block plus `width` ghost layers taken from its
 * neighbours (faces, edges and corners), or from the boundary condition at
 * the edge of the array. The user supplies the per-block update; the library
 * moves only the ghost strips between ranks, never whole blocks, and lets
 * the interior of each block be computed while those strips travel.
 *
 * How one call runs, per block `b` (all tasks on the owner of `b`):
 * - a *pack* task copies the rims of `in(b)` that other blocks need into
 *   small strip buffers, which are sent to the neighbours' owners (a strip
 *   for a neighbour on the same rank is not sent);
 * - an *interior* task calls the user function on `in(b)` itself, for the
 *   cells at least `width` away from the block's edges: it needs no ghost
 *   cell, so it runs while the strips are in flight;
 * - a *frame* task, once the strips have arrived, computes the remaining
 *   cells (the frame of thickness `width`) in at most `2 * ndims` slabs; each
 *   slab is copied with its ghost cells into a small padded buffer first.
 *
 * Only the frame is ever copied, so a step costs the stencil's own memory
 * traffic plus `O(width * surface)`. The whole-block padded copy that
 * simpler designs make (DistributedArrays' `life_step` builds one per step)
 * is available as ::SJ_STENCIL_PADDED, for comparison (docs/halo.md has the
 * measurements).
 *
 * Results do not depend on the layout, the number of ranks or the mode: each
 * cell is computed once, by the same user code, from the same values.
 *
 * @defgroup stencil Stencils and halo exchange
 * @{
 */
#ifndef STARJETS_STENCIL_H
#define STARJETS_STENCIL_H

#include <stddef.h>
#include <stdint.h>

#include <starjets/array.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What lies beyond the edges of the array along a dimension. */
typedef enum sj_boundary {
    /** The array wraps around: the cell before the first is the last. */
    SJ_BOUNDARY_PERIODIC = 1,
    /** Cells outside the array hold a constant (sj_stencil_options_t::fixed_value). */
    SJ_BOUNDARY_FIXED = 2,
} sj_boundary_t;

/** How the tasks of a block are cut (see the file comment). */
typedef enum sj_stencil_mode {
    /** Interior task on the block in place, frame task on small padded slabs (default). */
    SJ_STENCIL_SPLIT = 0,
    /**
     * One task per block on a padded copy of the whole block: no overlap of
     * the exchange with computation and one extra copy of the block per step.
     * For comparison and for bisecting; the padded copy is kept per worker
     * until sj_finalize().
     */
    SJ_STENCIL_PADDED = 1,
} sj_stencil_mode_t;

/** Which part of a block a call of the user function computes. */
typedef enum sj_stencil_part {
    SJ_STENCIL_INTERIOR = 0, /**< cells >= width from every edge; `in` is the block itself */
    SJ_STENCIL_FRAME = 1,    /**< a slab of the frame; `in` is a padded copy of the slab */
    SJ_STENCIL_WHOLE = 2,    /**< the whole block (::SJ_STENCIL_PADDED); `in` is a padded copy */
} sj_stencil_part_t;

/**
 * What a stencil function learns about the box it computes.
 *
 * Coordinates are *block-local*: cell `(i, j, k)` of the block is global cell
 * `(blk.lo[0] + i, blk.lo[1] + j, blk.lo[2] + k)`. Both data pointers given to
 * the function address block-local cell `(0, 0, 0)`:
 * - `out[i * out_stride[0] + j * out_stride[1] + k * out_stride[2]]` for the
 *   cells of the box `[lo, hi)`, the only cells the function may write;
 * - `in[i * in_stride[0] + j * in_stride[1] + k * in_stride[2]]` for
 *   `lo[d] - width <= i_d < hi[d] + width` along the array's dimensions
 *   (`d < blk.ndims`), ghost cells included. Other cells of `in` are not
 *   defined, and `in` itself may point outside the memory it indexes (the
 *   box never does), as PETSc's DMDA arrays do.
 *
 * `in_stride[0]` and `out_stride[0]` are always 1 (column-major); unused
 * dimensions have `lo = 0`, `hi = 1`. Read the other strides, never derive
 * them from the block's shape: on an array that wraps a host array with
 * leading dimensions (sj_array_wrap_local()), `out_stride` and, for
 * ::SJ_STENCIL_INTERIOR, `in_stride` are the host array's.
 */
typedef struct sj_stencil_info {
    sj_block_info_t blk;             /**< the whole block: number, global range, shape, type */
    int width;                       /**< ghost layers along each dimension of the array */
    sj_stencil_part_t part;          /**< which part of the block this is */
    int64_t lo[SJ_MAX_DIMS];         /**< first cell of the box (block-local) */
    int64_t hi[SJ_MAX_DIMS];         /**< one past the last cell of the box (block-local) */
    int64_t in_stride[SJ_MAX_DIMS];  /**< element strides of `in` */
    int64_t out_stride[SJ_MAX_DIMS]; /**< element strides of `out` (the block's memory) */
} sj_stencil_info_t;

/**
 * A stencil update, run in tasks on the owner of the block, once or several
 * times per block and step (one box each time; the boxes of a block are
 * disjoint and cover it). It must compute each cell of the box from `in`
 * only, the same way whatever the box, so that results do not depend on how
 * blocks are cut. Elements are `double` or `float` after `info->blk.dtype`.
 *
 * @param[in] info  the box and the layouts of @p out and @p in
 * @param[out] out  the output block (write the box only)
 * @param[in] in    the input with ghost cells (see sj_stencil_info_t)
 * @param[in] ctx   a private copy of the context bytes given to sj_array_stencil(),
 *                  or, when their size is 0, the ctx pointer given, as is
 * @return 0 on success; non-zero marks the task as failed, reported as
 *         SJ_EUSER by the next sj_wait() (as for sj_array_map())
 */
typedef int (*sj_stencil_fn_t)(const sj_stencil_info_t *info, void *out, const void *in, void *ctx);

/** Options of sj_array_stencil(). Fill with sj_stencil_options_default() first. */
typedef struct sj_stencil_options {
    /** Value of the cells outside the array under ::SJ_BOUNDARY_FIXED. Default 0. */
    double fixed_value;
    /**
     * Boundary per dimension, overriding the call's @p boundary where non-zero.
     * Default: all 0 (the call's boundary everywhere).
     */
    sj_boundary_t boundary[SJ_MAX_DIMS];
    /** ::SJ_STENCIL_SPLIT (default) or ::SJ_STENCIL_PADDED. */
    sj_stencil_mode_t mode;
    /**
     * A CUDA version of the call's stencil function, or NULL (default: the
     * update runs on CPU workers only; pack tasks may still run on a GPU).
     * It runs on the host thread of a CUDA worker with `out` and `in` in
     * device memory (`info` and `ctx` stay host memory; the strides and the
     * padded copies are as for the CPU function), launches its kernels on
     * sj_cuda_stream() and returns without waiting for them; it must compute
     * what the CPU function computes, with the same expressions, for the
     * results not to depend on where a block ran (docs/gpu.md). Called only
     * in builds with SJ_USE_CUDA on ranks with CUDA workers; the CPU function
     * stays required. All CUDA stencils share one performance model per part
     * (`sj_stencil_interior_cuda`, `sj_stencil_frame_cuda`,
     * `sj_stencil_padded_cuda`).
     */
    sj_stencil_fn_t cuda;
} sj_stencil_options_t;

/**
 * @brief Fill @p opts with the defaults: fixed value 0, the call's boundary
 * along every dimension, ::SJ_STENCIL_SPLIT, no CUDA function.
 *
 * Local. A NULL @p opts is ignored.
 * @param[out] opts options to fill
 */
void sj_stencil_options_default(sj_stencil_options_t *opts);

/**
 * @brief One stencil step: `out = fn(in with ghost layers)`, block by block.
 *
 * Logically collective; asynchronous (submits tasks and returns; arguments
 * and @p ctx are copied). The ghost strips travel in the task graph: the call
 * itself sends no message. Calls may be chained without waiting: swapping @p in and
 * @p out between steps is the intended use (a time loop). Only the ghost
 * strips move between ranks; see the file comment for the tasks made.
 *
 * @param[in] in       the input, a 2-D or 3-D array
 * @param[out] out     the result (same space and layout as @p in; not @p in)
 * @param[in] width    ghost layers (>= 1), at most the size of every block
 *                     along every dimension of the array (ghost cells come
 *                     from the adjacent block only)
 * @param[in] boundary ::SJ_BOUNDARY_PERIODIC or ::SJ_BOUNDARY_FIXED, for every
 *                     dimension that @p opts does not override. Periodic with
 *                     a single block along a dimension is allowed: the block
 *                     is its own neighbour.
 * @param[in] opts     options; NULL = sj_stencil_options_default()
 * @param[in] fn       the per-box update
 * @param[in] ctx      bytes copied into each task when @p ctx_size > 0; with
 *                     @p ctx_size 0 the pointer is handed to @p fn as is (it must
 *                     stay valid until the tasks ran), and may be NULL
 * @param[in] ctx_size size of @p ctx (at most 1 MiB)
 * @retval SJ_OK
 * @retval SJ_ENULL    @p out, @p in or @p fn NULL, or @p ctx NULL with a size
 * @retval SJ_EMISMATCH @p out and @p in differ in space or layout
 * @retval SJ_EINVAL   @p out is @p in; @p width < 1 or wider than a block; an
 *                     unknown boundary or mode; `opts->cuda` is @p fn itself
 *                     (a CPU function would read device memory)
 * @retval SJ_ENOTSUP  a 1-D array
 * @retval SJ_ESIZE    @p ctx_size over 1 MiB
 * @retval SJ_ESTATE   starjets is not running
 * @retval SJ_ENOMEM, SJ_ERUNTIME
 * @see sj_array_map, docs/halo.md
 */
int sj_array_stencil(sj_array_t in, sj_array_t out, int width, sj_boundary_t boundary,
                     const sj_stencil_options_t *opts, sj_stencil_fn_t fn, const void *ctx,
                     size_t ctx_size);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_STENCIL_H */
