/**
 * @file starjets/dist.h
 * @brief Layouts: which rank owns which block of a block grid.
 *
 * A layout (`sj_dist_t`) maps each block of a block grid (1-D to 3-D, numbered
 * column-major as in space.h) to the MPI rank that owns it. The same layout may
 * serve every array whose space has that block grid. Built in:
 *
 * - **contiguous** (DistributedArrays' default): the ranks form a process grid
 *   with `grid[d]` ranks along dimension `d`; dimension `d` of the block grid is
 *   cut into `grid[d]` contiguous chunks of blocks (as spaces cut elements: the
 *   first chunks one block longer when it does not divide), and chunk `(c0, c1, c2)` is
 *   owned by `procs[c0 + grid[0] * (c1 + grid[1] * c2)]` (column-major, like
 *   Julia's `procs(A)` matrix). Each rank owns a box of blocks.
 * - **block-cyclic** over a `pr x pc` process grid (ScaLAPACK / Chameleon):
 *   block `(i, j)` is owned by `procs[(i mod pr) + pr * (j mod pc)]`. For a 1-D
 *   grid, block `i` is owned by `procs[i mod (pr * pc)]`; for 3-D, `j` is
 *   replaced by `j + n1 * k`.
 * - **explicit**: an owner per block.
 *
 * Any of them may use a subset of the ranks (`procs`), like `workers()[1:4]`.
 * Layouts are immutable and reference counted. Every function here is local: a
 * layout is a plain value, made and destroyed without any message or tag. A
 * collective call that takes a layout needs an equal one on every rank.
 *
 * Block numbers are column-major over the block grid, as in space.h: block
 * `(i, j)` of an `m x n` grid is number `i + m * j`. This is also how a block
 * operator's layout numbers its blocks, while the `blocks[]` array given to
 * sj_op_block_create() is row-major (`blocks[i * n + j]`).
 *
 * @defgroup dist Layouts
 * @{
 */
#ifndef STARJETS_DIST_H
#define STARJETS_DIST_H

#include <stdint.h>

#include <starjets/space.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A layout (opaque, reference counted). */
typedef struct sj_dist_s *sj_dist_t;

/** Kinds of layout. */
typedef enum sj_dist_kind {
    SJ_DIST_CONTIGUOUS = 1, /**< contiguous chunks of blocks per rank */
    SJ_DIST_CYCLIC = 2,     /**< block-cyclic over a process grid */
    SJ_DIST_EXPLICIT = 3,   /**< an owner table */
} sj_dist_kind_t;

/** A box of blocks: block coordinates `[lo[d], hi[d])` along each dimension. */
typedef struct sj_box {
    int lo[SJ_MAX_DIMS]; /**< first block along each dimension */
    int hi[SJ_MAX_DIMS]; /**< one past the last block along each dimension */
} sj_box_t;

/**
 * @brief Contiguous chunks of blocks (DistributedArrays' default layout).
 *
 * Local: no message and no tag (collective calls that take the layout need an
 * equal one on every rank).
 * @param[in] ndims   dimensions of the block grid (1 to 3)
 * @param[in] nblocks blocks per dimension
 * @param[in] nprocs  number of ranks used; <= 0 means all ranks
 * @param[in] procs   the ranks used, in process-grid order (column-major);
 *                    NULL means ranks `0 .. nprocs-1`
 * @param[in] grid    ranks along each dimension (product = nprocs, grid[d] <=
 *                    nblocks[d]); NULL picks a grid as DistributedArrays does
 *                    (factors of nprocs given to the dimensions with most
 *                    blocks), over fewer ranks when a factor fits nowhere
 *                    (docs/arrays.md)
 * @param[out] dist   the new layout
 * @retval SJ_OK, SJ_ENULL, SJ_EINVAL, SJ_ESIZE (grid larger than the block grid or
 *         than the communicator), SJ_ERANGE (a rank out of range or repeated)
 */
int sj_dist_create_contiguous(int ndims, const int nblocks[], int nprocs, const int procs[],
                              const int grid[], sj_dist_t *dist);

/**
 * @brief Block-cyclic layout over a `pr x pc` process grid.
 *
 * Local: no message and no tag (collective calls that take the layout need an
 * equal one on every rank).
 * @param[in] ndims   dimensions of the block grid (1 to 3)
 * @param[in] nblocks blocks per dimension
 * @param[in] pr      process rows (>= 1)
 * @param[in] pc      process columns (>= 1); `pr * pc` <= number of ranks
 * @param[in] procs   `pr * pc` ranks in column-major grid order; NULL = `0 .. pr*pc-1`
 * @param[out] dist   the new layout
 */
int sj_dist_create_cyclic(int ndims, const int nblocks[], int pr, int pc, const int procs[],
                          sj_dist_t *dist);

/**
 * @brief Layout from an owner table: `owners[b]` owns block `b`.
 *
 * Local: no message and no tag (collective calls that take the layout need an
 * equal one on every rank).
 * @param[in] ndims   dimensions of the block grid (1 to 3)
 * @param[in] nblocks blocks per dimension
 * @param[in] owners  one rank per block, in block order (column-major: the
 *                    owner of block `(i, j)` is `owners[i + nblocks[0] * j]`)
 * @param[out] dist   the new layout
 */
int sj_dist_create_explicit(int ndims, const int nblocks[], const int owners[], sj_dist_t *dist);

/**
 * @brief The default layout of a space: contiguous over all ranks.
 *
 * Local: no message and no tag (collective calls that take the layout need an
 * equal one on every rank).
 */
int sj_dist_create_default(sj_space_t space, sj_dist_t *dist);

/**
 * @brief Drop the user's reference; the layout lives on while objects use it.
 *
 * Local. NULL or `*dist == NULL` is a no-op. Sets `*dist` to NULL.
 */
int sj_dist_destroy(sj_dist_t *dist);

/** @brief Kind, block grid dimensions and blocks per dimension. Local; outputs may be NULL. */
int sj_dist_info(sj_dist_t dist, sj_dist_kind_t *kind, int *ndims, int nblocks[], int *total);

/**
 * @brief The rank that owns block @p block. Local.
 *
 * @p block is the column-major block number: block `(i, j)` of an `m x n`
 * grid is `i + m * j` (sj_space_block_index()), also for the layout of a block
 * operator (sj_op_block_dist()), whose `blocks[]` array is row-major.
 */
int sj_dist_owner(sj_dist_t dist, int block, int *rank);

/**
 * @brief The blocks owned by @p rank, in increasing order (`localblockindices`).
 *
 * Local. The list belongs to the layout and lives as long as it.
 * @param[in] dist    the layout
 * @param[in] rank    any rank (not only the caller)
 * @param[out] count  number of blocks
 * @param[out] blocks the block numbers (may be NULL when only the count is wanted)
 */
int sj_dist_local_blocks(sj_dist_t dist, int rank, int *count, const int **blocks);

/**
 * @brief The boxes of blocks @p rank owns (DistributedJets' `blockmap`).
 *
 * Local. A contiguous layout gives one box per rank in it (none for others);
 * other layouts give runs of consecutive blocks along dimension 0.
 * The array belongs to the layout and lives as long as it.
 */
int sj_dist_blockmap(sj_dist_t dist, int rank, int *nboxes, const sj_box_t **boxes);

/**
 * @brief The ranks the layout uses (`procs`), in process-grid order. Local.
 * @param[in] dist    the layout
 * @param[out] nprocs number of ranks
 * @param[out] procs  the ranks (belongs to the layout); may be NULL
 * @param[out] grid   process grid, SJ_MAX_DIMS values (1 for unused dimensions); may be NULL
 */
int sj_dist_procs(sj_dist_t dist, int *nprocs, const int **procs, int grid[]);

/** @brief Whether two layouts give every block the same owner. Local. */
int sj_dist_equal(sj_dist_t a, sj_dist_t b, int *equal);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_DIST_H */
