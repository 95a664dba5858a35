/*
 * The halo-exchange and stencil kernels (SJ__K_HALO_* in kernels/ids.h) as
 * src/array/halo.c fills them: their argument blocks. No StarPU here.
 *
 * Coordinates are block-local to the block being computed (the consumer);
 * every buffer is column-major with stride 1 along dimension 0.
 */
#ifndef SJ_KERNELS_HALO_H
#define SJ_KERNELS_HALO_H

#include <stddef.h>
#include <stdint.h>

#include <starjets/stencil.h>

#include "kernels/ids.h"

/* Directions from a block to its neighbours: 3^3 - 1 in 3-D. */
#define SJ__HALO_MAX_DIRS 26
/* Frame slabs of a block: two per dimension. */
#define SJ__HALO_MAX_PARTS (2 * SJ_MAX_DIMS)

/* A box of cells [lo, hi). */
typedef struct sj__halo_box {
    int64_t lo[SJ_MAX_DIMS], hi[SJ_MAX_DIMS];
} sj__halo_box_t;

/*
 * A pack task: buffer 0 is the source block (R), buffers 1..nstrips the strips
 * (W); strip s receives box[s] of the source block (source-block coordinates),
 * column-major over the box's own shape.
 */
typedef struct sj__halo_pack_args {
    size_t elemsize;
    int64_t stride[SJ_MAX_DIMS]; /* of the source block */
    int nstrips;
    sj__halo_box_t box[SJ__HALO_MAX_DIRS];
} sj__halo_pack_args_t;

/*
 * Where the cells of one region around (or of) the consumer come from: cell x
 * (block-local) is element (x + shift) of buffer `buf`, whose strides are
 * `stride`; buf < 0 means the fixed boundary value.
 */
typedef struct sj__halo_src {
    int buf;
    sj__halo_box_t region;
    int64_t shift[SJ_MAX_DIMS];
    int64_t stride[SJ_MAX_DIMS];
} sj__halo_src_t;

/*
 * A compute task, followed by ctx_size bytes of user context. Buffers: 0 the
 * output block (W or RW), 1 the input block (R), 2.. the strips (R).
 * When info.part is SJ_STENCIL_INTERIOR, the parts are computed on the input
 * block in place (they stay `width` away from the block's edges) and src is
 * unused. Otherwise each part is copied with its ghost cells (from the
 * regions in src, which cover the block and its ghost layers) into a padded
 * scratch buffer first.
 */
typedef struct sj__halo_args {
    sj_stencil_fn_t fn;
    sj_stencil_fn_t fn_cuda; /* on a CUDA worker (device pointers), or NULL: CPUs only */
    sj_stencil_info_t info;  /* blk, width, part, out_stride; the rest is set per part */
    double fixed_value;
    int nparts;
    sj__halo_box_t part[SJ__HALO_MAX_PARTS];
    int nsrc;
    sj__halo_src_t src[SJ__HALO_MAX_DIRS + 1];
    size_t ctx_size;
    const void *ctx_as_is; /* with ctx_size 0: the user's ctx pointer, passed as is */
} sj__halo_args_t;

#endif /* SJ_KERNELS_HALO_H */
