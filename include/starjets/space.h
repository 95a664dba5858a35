/**
 * @file starjets/space.h
 * @brief Block spaces: element type, shape (1-D to 3-D) and block cuts.
 *
 * A space says what a distributed array holds, not where: the element type, the
 * global shape and how each dimension is cut into blocks (uniform or with
 * explicit, irregular block sizes). Blocks are numbered column-major over the
 * block grid (block (i, j) of an `m x n` grid is number `i + m * j`), indices are
 * 0-based and index ranges are half-open `[lo, hi)`. Arrays store elements
 * column-major, within a block and in sj_array_gather() buffers alike. Layouts
 * (dist.h) number blocks the same way; only the `blocks[]` array given to
 * sj_op_block_create() is row-major (docs/api-conventions.md).
 *
 * Spaces are immutable and reference counted: objects built on a space keep it
 * alive, so a space may be destroyed as soon as the user no longer needs it.
 * All functions here are local: a space is a plain value, made and destroyed
 * without any message or tag, so any rank may make or query one at any time.
 * A collective call that takes a space needs an equal one (same type, shape
 * and cuts) on every rank.
 *
 * @defgroup space Spaces
 * @{
 */
#ifndef STARJETS_SPACE_H
#define STARJETS_SPACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest number of dimensions of a space. */
#define SJ_MAX_DIMS 3

/** Element types. */
typedef enum sj_dtype {
    SJ_FLOAT64 = 1, /**< `double` */
    SJ_FLOAT32 = 2, /**< `float` */
} sj_dtype_t;

/** A block space (opaque, reference counted). */
typedef struct sj_space_s *sj_space_t;

/**
 * @brief Size in bytes of one element of @p dtype; 0 for an unknown type. Local.
 */
size_t sj_dtype_size(sj_dtype_t dtype);

/**
 * @brief A space whose dimensions are cut into nearly equal blocks.
 *
 * Dimension `d` of length `n = dims[d]` is cut into `m = nblocks[d]` blocks as
 * DistributedArrays does: each has `n / m` elements and the first `n % m` one
 * more, so block `k` starts at `k * (n / m) + min(k, n % m)` (10 in 3 blocks:
 * `[0,4) [4,7) [7,10)`). Local.
 * @param[in] dtype   element type
 * @param[in] ndims   1, 2 or 3
 * @param[in] dims    global length of each dimension (> 0)
 * @param[in] nblocks blocks per dimension (1 <= nblocks[d] <= dims[d]); NULL = one block
 * @param[out] space  the new space
 * @retval SJ_OK, SJ_ENULL, SJ_ETYPE, SJ_EINVAL (ndims)
 * @retval SJ_ESIZE dims or nblocks out of range, or a block of 2 GiB or more (a
 *         block is moved in one StarPU-MPI message: use more blocks)
 * @see sj_space_create_irregular, sj_space_destroy
 */
int sj_space_create(sj_dtype_t dtype, int ndims, const int64_t dims[], const int nblocks[],
                    sj_space_t *space);

/**
 * @brief A space with explicit block sizes along each dimension.
 *
 * The length of dimension `d` is the sum of `block_sizes[d][0 .. nblocks[d]-1]`.
 * Local.
 * @param[in] dtype       element type
 * @param[in] ndims       1, 2 or 3
 * @param[in] dims        the expected length of each dimension, checked against
 *                        the sum of its block sizes; NULL: no check
 * @param[in] nblocks     blocks per dimension (>= 1)
 * @param[in] block_sizes for each dimension, the size of each of its blocks (> 0)
 * @param[out] space      the new space
 * @retval SJ_OK, SJ_ENULL, SJ_ETYPE, SJ_EINVAL
 * @retval SJ_ESIZE a block size <= 0, sizes that do not add up to @p dims, or a
 *         block of 2 GiB or more
 */
int sj_space_create_irregular(sj_dtype_t dtype, int ndims, const int64_t dims[],
                              const int nblocks[], const int64_t *const block_sizes[],
                              sj_space_t *space);

/**
 * @brief A 1-D space with blocks of the given sizes (the usual operator space).
 *
 * Local. Same as sj_space_create_irregular() with `ndims = 1`.
 * @param[in] dtype   element type
 * @param[in] nblocks number of blocks (>= 1)
 * @param[in] sizes   size of each block (> 0)
 * @param[out] space  the new space
 */
int sj_space_create_blocks(sj_dtype_t dtype, int nblocks, const int64_t sizes[], sj_space_t *space);

/**
 * @brief Drop the user's reference; the space lives on while objects use it.
 *
 * Local. NULL or `*space == NULL` is a no-op. Sets `*space` to NULL.
 */
int sj_space_destroy(sj_space_t *space);

/**
 * @brief Element type, number of dimensions and global shape.
 *
 * Local. Any output may be NULL; @p dims receives `ndims` values.
 */
int sj_space_shape(sj_space_t space, sj_dtype_t *dtype, int *ndims, int64_t dims[]);

/** @brief Total number of elements (product of the dims). Local. */
int sj_space_length(sj_space_t space, int64_t *length);

/**
 * @brief The block grid: blocks per dimension and their total number.
 *
 * Local. Either output may be NULL; @p nblocks receives `ndims` values.
 */
int sj_space_blocks(sj_space_t space, int nblocks[], int *total);

/**
 * @brief Global index range `[lo[d], hi[d])` of block @p block in each dimension.
 *
 * Local (the `localindices` of DistributedArrays for any block).
 * @retval SJ_OK, SJ_ENULL, SJ_ERANGE (block)
 */
int sj_space_block_range(sj_space_t space, int block, int64_t lo[], int64_t hi[]);

/**
 * @brief Shape of block @p block and its number of elements. Local.
 *
 * Either output may be NULL.
 */
int sj_space_block_dims(sj_space_t space, int block, int64_t dims[], int64_t *nelems);

/**
 * @brief Linear block number from block grid coordinates (column-major). Local.
 *
 * Block `(i, j)` of an `m x n` grid is number `i + m * j` (`i + m * (j + n * k)`
 * in 3-D), as in layouts (sj_dist_owner()). The `blocks[]` array of
 * sj_op_block_create() is row-major instead: `blocks[i * n + j]`.
 * @retval SJ_OK, SJ_ENULL, SJ_ERANGE
 */
int sj_space_block_index(sj_space_t space, const int coords[], int *block);

/**
 * @brief Block grid coordinates of linear block number @p block (column-major,
 * the inverse of sj_space_block_index()). Local.
 */
int sj_space_block_coords(sj_space_t space, int block, int coords[]);

/**
 * @brief Whether two spaces are the same: type, shape and every block cut. Local.
 * @param[in] a, b   the spaces
 * @param[out] equal 1 or 0
 */
int sj_space_equal(sj_space_t a, sj_space_t b, int *equal);

/**
 * @brief A one-line description, e.g. "float64 2-D 100x50 in 4x2 blocks". Local.
 * @param[in] space the space
 * @param[out] buf  receives the NUL-terminated text, truncated to @p size
 * @param[in] size  bytes at @p buf
 */
int sj_space_describe(sj_space_t space, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_SPACE_H */
