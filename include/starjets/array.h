/**
 * @file starjets/array.h
 * @brief Distributed block arrays: create, query, move, compute, reduce.
 *
 * An array is a space (what) plus a layout (where) plus one StarPU data handle
 * per block, registered once for the array's life: real memory on the block's
 * owner, a placeholder elsewhere. Each call says whether it is *local*,
 * *collective* or *logically collective* (docs/api-conventions.md): the last
 * two are made by all ranks with the same arguments in the same order; a
 * collective call may exchange messages or wait, a logically collective one
 * only books tags and submits tasks.
 * Computing calls submit tasks that run on the owner of the data they write
 * ("owner computes") and return at once; sj_wait(), a blocking reduction or a
 * copy to a root buffer synchronise.
 *
 * Reductions are deterministic: each block is reduced by one fixed loop, and
 * the per-block results are combined by a pairwise tree over block numbers, so
 * the result depends on the blocking only, never on the number of ranks, the
 * layout or the scheduler.
 *
 * @defgroup array Arrays
 * @{
 */
#ifndef STARJETS_ARRAY_H
#define STARJETS_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include <starjets/dist.h>
#include <starjets/space.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A distributed block array (opaque). */
typedef struct sj_array_s *sj_array_t;

/** A scalar that lives in the task graph (see scalar.h). */
typedef struct sj_scalar_s *sj_scalar_t;

/** What a per-block callback learns about its block. */
typedef struct sj_block_info {
    int block;                  /**< block number */
    int coords[SJ_MAX_DIMS];    /**< block grid coordinates */
    int ndims;                  /**< dimensions of the space */
    sj_dtype_t dtype;           /**< element type */
    int64_t lo[SJ_MAX_DIMS];    /**< global index of the block's first element */
    int64_t hi[SJ_MAX_DIMS];    /**< one past the global index of its last element */
    int64_t dims[SJ_MAX_DIMS];  /**< block shape (hi - lo; 1 for unused dims) */
    int64_t gdims[SJ_MAX_DIMS]; /**< global shape (1 for unused dims) */
    int64_t nelems;             /**< elements in the block */
} sj_block_info_t;

/**
 * A per-block function, run as a task on the block's owner.
 *
 * @param[in] blk   the block being computed
 * @param[in,out] out the output block (column-major, `blk->nelems` elements)
 * @param[in] in    the input blocks, same shape, in the order given
 * @param[in] ctx   a private copy of the context bytes given at submission, or,
 *                  when their size is 0, the ctx pointer given, as is
 * @return 0 on success; non-zero marks the task as failed: the next call that
 *         checks task errors (sj_wait(), a blocking reduction, sj_scalar_value())
 *         returns SJ_EUSER on every rank with the first failure's sentence, and
 *         clears the record, so the call after it succeeds again
 */
typedef int (*sj_block_fn_t)(const sj_block_info_t *blk, void *out, const void *const *in,
                             void *ctx);

/* ---- creation and destruction ---------------------------------------- */

/**
 * @brief An array of zeros.
 *
 * Logically collective; asynchronous (submits tasks and returns).
 * @param[in] space  its space
 * @param[in] dist   its layout (same block grid as @p space); NULL = contiguous over all ranks
 * @param[out] array the new array
 * @retval SJ_OK, SJ_ENULL, SJ_EMISMATCH (block grids differ), SJ_ENOMEM, SJ_ESTATE
 */
int sj_array_zeros(sj_space_t space, sj_dist_t dist, sj_array_t *array);

/** @brief An array of ones. Logically collective; asynchronous. @see sj_array_zeros */
int sj_array_ones(sj_space_t space, sj_dist_t dist, sj_array_t *array);

/**
 * @brief An array filled with @p value. Logically collective; asynchronous.
 * @see sj_array_zeros
 */
int sj_array_filled(sj_space_t space, sj_dist_t dist, double value, sj_array_t *array);

/**
 * @brief Uniform random numbers in [0, 1).
 *
 * Logically collective; asynchronous (submits tasks and returns). Element `k`
 * (column-major global index) is Philox4x32-10 keyed by @p seed at counter `k`: the
 * array is bit-identical for the same seed on any number of ranks, with any
 * blocking and any layout.
 */
int sj_array_rand(sj_space_t space, sj_dist_t dist, uint64_t seed, sj_array_t *array);

/**
 * @brief Standard normal random numbers (Box-Muller on Philox; see sj_array_rand).
 * Logically collective; asynchronous.
 */
int sj_array_randn(sj_space_t space, sj_dist_t dist, uint64_t seed, sj_array_t *array);

/**
 * @brief An array whose blocks are made by @p init on their owners
 * (DistributedArrays' `DArray(init, dims, procs, dist)`).
 *
 * Logically collective; asynchronous (submits tasks and returns).
 * @p init receives the block's global index ranges in @p blk, the block memory
 * (zeroed) as `out`, no inputs, and a copy of @p ctx (@p ctx_size bytes).
 */
int sj_array_create_init(sj_space_t space, sj_dist_t dist, sj_block_fn_t init, const void *ctx,
                         size_t ctx_size, sj_array_t *array);

/**
 * @brief An array made from a whole column-major buffer on @p root.
 *
 * Collective; blocking on @p root: @p buf has been read when the call returns.
 * @param[in] space  its space
 * @param[in] dist   its layout; NULL = contiguous over all ranks
 * @param[in] root   the rank that holds @p buf
 * @param[in] buf the `length` elements, read on @p root only (may be NULL elsewhere)
 * @param[out] array the new array
 * @retval SJ_OK, SJ_ENULL (buf NULL on root), SJ_ERANGE (root), ...
 */
int sj_array_distribute(sj_space_t space, sj_dist_t dist, int root, const void *buf,
                        sj_array_t *array);

/**
 * @brief A new array of zeros with the same space and layout as @p src.
 * Logically collective; asynchronous.
 */
int sj_array_similar(sj_array_t src, sj_array_t *array);

/**
 * @brief A new array with the space, layout and contents of @p src.
 * Logically collective; asynchronous (the copy is a task per block).
 */
int sj_array_copy(sj_array_t src, sj_array_t *array);

/**
 * @brief Destroy an array: wait for its tasks, free its memory on every rank,
 * release its tags.
 *
 * Collective; blocking: each rank waits for its own tasks on the array (tags
 * are released in the same order everywhere). NULL or `*array == NULL` is a
 * no-op; sets `*array` to NULL.
 */
int sj_array_destroy(sj_array_t *array);

/* ---- the host's memory, wrapped without a copy -------------------------- */

/** How the host takes its wrapped memory back for a while (sj_array_acquire()). */
typedef enum sj_access {
    SJ_ACCESS_READ = 1,      /**< the host reads; starjets tasks may still read too */
    SJ_ACCESS_READWRITE = 3, /**< the host reads and writes; starjets waits */
} sj_access_t;

/**
 * @brief An array whose blocks are the host's own memory, one contiguous
 * buffer per local block (PETSc's `VecCreateMPIWithArray`, DistributedArrays'
 * `DArray` from local parts).
 *
 * Collective (all ranks agree on the arguments with one small message, so
 * that a bad local part fails every rank); no copy: the array's blocks on
 * this rank *are* @p blocks, which hold the array's values from now on.
 * starjets never frees them. From this call until sj_array_unwrap() the host
 * touches them only between sj_array_acquire() and sj_array_release(); tasks
 * read and write them in place.
 * @param[in] space  the array's space
 * @param[in] dist   its layout (NULL = contiguous over all ranks)
 * @param[in] nlocal number of blocks this rank owns (sj_dist_local_blocks())
 * @param[in] blocks @p nlocal pointers, in the order of sj_dist_local_blocks():
 *                   `blocks[i]` holds local block `i`, column-major and
 *                   contiguous (sj_array_block_info() gives its shape), aligned
 *                   to the element size; may be NULL when @p nlocal is 0
 * @param[out] array the new array
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p space or @p array NULL, or a NULL block pointer
 * @retval SJ_EINVAL a misaligned pointer, @p nlocal not the number of blocks
 *         this rank owns, or (on the other ranks) a local part another rank
 *         refused
 * @retval SJ_EMISMATCH block grids of @p space and @p dist differ
 * @retval SJ_ESTATE starjets not running, or called inside sj_spmd_run()
 */
int sj_array_wrap_blocks(sj_space_t space, sj_dist_t dist, int nlocal, void *const blocks[],
                         sj_array_t *array);

/**
 * @brief An array whose blocks are views of one local array of the host
 * (a field with ghost layers), without a copy.
 *
 * Collective, as sj_array_wrap_blocks(). This rank's blocks must form one box
 * of the block grid (true of every contiguous layout; sj_dist_blockmap()
 * gives one box): global elements `lo[d] <= i[d] < hi[d]` of that box. The
 * host's array holds element `(i0, i1, i2)` at
 * `base[(i0 - lo0) + ld[0] * ((i1 - lo1) + ld[1] * (i2 - lo2))]`, as a
 * Fortran array `u(ld[0], ld[1], *)` whose interior starts at `base`: for a
 * 2-D field with a ghost layer of width g around an `nx x ny` interior,
 * `base = &u[g + (nx + 2g) * g]` and `ld[0] = nx + 2g`. Ghost elements are
 * never read or written by starjets. Blocks whose view is not contiguous are
 * copied into scratch memory of the worker around each task that uses them
 * (one extra read and write of the block per task), so give `ld` equal to
 * the box's shape where the host allows it.
 * @param[in] space  the array's space
 * @param[in] dist   its layout (NULL = contiguous over all ranks)
 * @param[in] base   the host's element at this rank's first global index,
 *                   aligned to the element size; may be NULL on a rank that
 *                   owns no block
 * @param[in] ld     ld[0] >= the box's extent along dimension 0 (elements
 *                   between columns); ld[1] >= its extent along dimension 1
 *                   (columns between planes, read for 3-D spaces only); NULL
 *                   means the box's own extents (a contiguous local part)
 * @param[out] array the new array
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p space or @p array NULL, or @p base NULL on a rank that owns blocks
 * @retval SJ_EINVAL a misaligned @p base, a leading dimension smaller than
 *         the box, this rank's blocks not one box, or (on the other ranks) a
 *         local part another rank refused
 * @retval SJ_EMISMATCH block grids of @p space and @p dist differ
 * @retval SJ_ESTATE starjets not running, or called inside sj_spmd_run()
 */
int sj_array_wrap_local(sj_space_t space, sj_dist_t dist, void *base, const int64_t ld[2],
                        sj_array_t *array);

/**
 * @brief Give the host its wrapped memory for reading (SJ_ACCESS_READ) or
 * reading and writing (SJ_ACCESS_READWRITE) until sj_array_release().
 *
 * Local; blocking: waits for the tasks on this rank that write (READ) or use
 * (READWRITE) the array's local blocks, after which the host's memory holds
 * their latest values. Tasks submitted meanwhile that write the array wait for
 * the release, and with SJ_ACCESS_READWRITE those that read it too (with
 * SJ_ACCESS_READ they may run, reading alongside the host). Make no
 * collective starjets call that involves the array (a wait, a reduction, a
 * gather, an apply) between acquire and release: it would wait for this rank.
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p array NULL
 * @retval SJ_EINVAL not a wrapped array, or @p mode not an sj_access_t
 * @retval SJ_ESTATE already acquired on this rank, or a block taken by
 *         sj_array_localpart_get(); starjets not running
 */
int sj_array_acquire(sj_array_t array, sj_access_t mode);

/**
 * @brief End sj_array_acquire(): starjets may use the memory again (and sees
 * what the host wrote under SJ_ACCESS_READWRITE). Local.
 * @retval SJ_OK, SJ_ENULL, SJ_EINVAL (not wrapped), SJ_ESTATE (not acquired)
 */
int sj_array_release(sj_array_t array);

/**
 * @brief Return a wrapped array's memory to the host for good.
 *
 * Collective; blocking: waits for the array's tasks, leaves its latest values
 * in the host's memory (releasing an acquire still held), frees what starjets
 * kept about it and sets `*array` to NULL. The memory is the host's again,
 * untouched by starjets from then on. sj_array_destroy() does the same for a
 * wrapped array (it never frees the host's memory). A wrapped array must not
 * be used after either: its handle is gone (a copy of it dangles).
 * @retval SJ_OK on success (NULL or `*array == NULL` is a no-op)
 * @retval SJ_EINVAL the array was not made by a wrap call (use sj_array_destroy())
 * @retval SJ_ESTATE starjets not running, or called inside sj_spmd_run()
 */
int sj_array_unwrap(sj_array_t *array);

/* ---- queries (local) --------------------------------------------------- */

/** @brief The array's space (borrowed: do not destroy). Local. */
int sj_array_space(sj_array_t array, sj_space_t *space);

/** @brief The array's layout (borrowed: do not destroy). Local. */
int sj_array_dist(sj_array_t array, sj_dist_t *dist);

/** @brief The blocks this rank owns (see sj_dist_local_blocks()). Local. */
int sj_array_local_blocks(sj_array_t array, int *count, const int **blocks);

/** @brief Global index ranges and shape of one block (`localindices`). Local. */
int sj_array_block_info(sj_array_t array, int block, sj_block_info_t *info);

/**
 * @brief Direct access to a block this rank owns (`localpart`).
 *
 * Local; blocking. Waits for the submitted tasks that use the block, then gives its
 * memory (column-major, sj_array_block_info() gives the shape). On a wrapped
 * array that is the host's own buffer; a block that is a strided view
 * (sj_array_wrap_local() with ghost layers) is refused with SJ_EINVAL: use
 * sj_array_acquire(). Tasks that use the
 * block wait until sj_array_localpart_restore(). Every get needs its restore.
 * @param[in] array  the array
 * @param[in] block  a block owned by this rank
 * @param[out] ptr   the block's memory
 * @retval SJ_OK, SJ_ENULL, SJ_ERANGE (block), SJ_EINVAL (not owned here, or a strided view),
 * SJ_ESTATE (already got)
 */
int sj_array_localpart_get(sj_array_t array, int block, void **ptr);

/**
 * @brief Give back access taken by sj_array_localpart_get(). Local.
 * Sets `*ptr` to NULL.
 */
int sj_array_localpart_restore(sj_array_t array, int block, void **ptr);

/* ---- moving data to and from a root ----------------------------------- */

/**
 * @brief Copy the whole array to a column-major buffer on @p root
 * (`convert(Array, d)`).
 *
 * Collective; blocking on @p root: it waits for the tasks that write the
 * blocks, then for the transfers. Other ranks queue their sends and return.
 * @param[in] array the array
 * @param[in] root  the rank that receives the copy
 * @param[out] buf `length` elements, written on @p root only (may be NULL elsewhere)
 */
int sj_array_gather(sj_array_t array, int root, void *buf);

/**
 * @brief Copy the whole array to a column-major buffer on every rank
 * (`convert(Array, d)` everywhere).
 *
 * Collective; blocking on every rank: it waits for the tasks that write the
 * blocks, then for the transfers (a gather to rank 0, then a broadcast).
 * Element `(i0, i1, i2)` is at `i0 + d0 * (i1 + d1 * i2)`, as for
 * sj_array_gather().
 * @param[in] array the array
 * @param[out] buf  `length` elements of the array's type, on every rank
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p array NULL, or @p buf NULL on any rank (every rank
 *         fails: SJ_ENULL where an argument is NULL, SJ_EINVAL where only
 *         another rank's array is)
 * @retval SJ_ESTATE starjets not running, or called inside sj_spmd_run()
 * @retval SJ_ERUNTIME the transfers failed
 * @see sj_array_gather
 */
int sj_array_allgather(sj_array_t array, void *buf);

/**
 * @brief Overwrite the array from a column-major buffer on @p root.
 *
 * Collective; blocking on @p root: @p buf has been read when the call returns.
 */
int sj_array_scatter(sj_array_t array, int root, const void *buf);

/**
 * @brief Copy block @p block to @p buf on @p root (`getblock`).
 *
 * Collective; blocking on @p root (it waits for the block's data). @p block
 * is the column-major block number (sj_space_block_index()).
 * @param[in] array the array
 * @param[in] block the block number
 * @param[in] root  the rank that receives the copy
 * @param[out] buf the block's elements, column-major; used on @p root only
 */
int sj_array_block_get(sj_array_t array, int block, int root, void *buf);

/**
 * @brief Overwrite block @p block from @p buf on @p root (`setblock!`).
 *
 * Collective; blocking on @p root: @p buf is read before the call returns.
 * @p block is the column-major block number (sj_space_block_index()).
 */
int sj_array_block_set(sj_array_t array, int block, int root, const void *buf);

/* ---- redistribution ------------------------------------------------------ */

/**
 * @brief Copy @p src into @p dst, an array of the same global shape and
 * element type with any other layout or blocking (contiguous, block-cyclic,
 * explicit owners, irregular cuts): how a host's layout meets a compute layout.
 *
 * Logically collective; asynchronous (submits tasks and returns): no root,
 * no gather. Each piece where a block of @p src meets a block of @p dst moves
 * once, from its owner to its new owner, by a point-to-point message in the
 * task graph (packed where it is part of a block); pieces that stay on a
 * rank are copied there. Every element therefore crosses the network at most
 * once, and only when its owner changes.
 * @param[in] src       the source
 * @param[in,out] dst   the destination (every element is overwritten); may be
 *                      a wrapped array
 * @param[out] bytes_moved bytes sent between ranks by the whole call, summed
 *                      over all ranks (the same value on every rank, computed
 *                      from the two layouts without a message); may be NULL
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p src or @p dst NULL
 * @retval SJ_EINVAL @p src is @p dst
 * @retval SJ_EMISMATCH different global shapes (dimensions or lengths) or
 *         element types
 * @retval SJ_ESTATE starjets not running, called inside sj_spmd_run(), or a
 *         block of @p dst taken by sj_array_localpart_get() or sj_array_acquire()
 * @retval SJ_ENOMEM
 */
int sj_array_redistribute(sj_array_t src, sj_array_t dst, int64_t *bytes_moved);

/* ---- block-parallel algebra (asynchronous) ----------------------------- */

/** @brief Set every element to @p value. Logically collective; asynchronous. */
int sj_array_fill(double value, sj_array_t array);

/** @brief `x = alpha * x`. Logically collective; asynchronous. */
int sj_array_scale(double alpha, sj_array_t x);

/**
 * @brief `y = alpha * x + y`. Logically collective; asynchronous.
 * @retval SJ_EMISMATCH when @p x and @p y differ in space or layout
 */
int sj_array_axpy(double alpha, sj_array_t x, sj_array_t y);

/** @brief `y = alpha * x + beta * y`. Logically collective; asynchronous. */
int sj_array_axpby(double alpha, sj_array_t x, double beta, sj_array_t y);

/**
 * @brief `z = x .* y` (elementwise); @p z may be @p x or @p y.
 * Logically collective; asynchronous.
 */
int sj_array_mul(sj_array_t x, sj_array_t y, sj_array_t z);

/**
 * @brief Copy the contents of @p src into @p dst (same space and layout).
 * Logically collective; asynchronous.
 */
int sj_array_copyto(sj_array_t src, sj_array_t dst);

/**
 * @brief Run @p fn on every block of @p out with the matching blocks of @p in.
 *
 * Logically collective; asynchronous (submits tasks and returns). The task runs on
 * the owner of the block of @p out; `out` is read-write, so `fn` may update it in
 * place; @p out must not also appear in @p in.
 * @param[in] nin      number of inputs (0 to 8)
 * @param[in] in       input arrays (same space and layout as @p out)
 * @param[in,out] out  the output array
 * @param[in] fn       the per-block function
 * @param[in] ctx      bytes copied into each task when @p ctx_size > 0; with
 *                     @p ctx_size 0 the pointer is handed to @p fn as is (it must
 *                     stay valid until the tasks ran), and may be NULL
 * @param[in] ctx_size size of @p ctx in bytes
 * @retval SJ_OK, SJ_ENULL (out or fn NULL, in NULL with nin > 0, ctx NULL
 *         with ctx_size > 0), SJ_EINVAL (nin outside 0 to 8, out among the
 *         inputs), SJ_EHANDLE, SJ_EMISMATCH (an input of another space or
 *         layout), SJ_ESIZE (ctx_size over 1 MiB), SJ_ENOMEM, SJ_ESTATE
 */
int sj_array_map(int nin, const sj_array_t in[], sj_array_t out, sj_block_fn_t fn, const void *ctx,
                 size_t ctx_size);

/**
 * A per-block function with a name and, optionally, a CUDA version
 * (sj_array_map_kernel()).
 */
typedef struct sj_block_kernel {
    /**
     * Shown in traces and used for the performance model as `sj_map_<name>`:
     * 1 to 31 letters, digits or underscores. One name per function: the
     * scheduler learns each name's costs on CPUs and GPUs.
     */
    const char *name;
    /** The CPU function (required), as for sj_array_map(). */
    sj_block_fn_t cpu;
    /**
     * Its CUDA version, or NULL (CPU workers only). It runs on the host
     * thread of a CUDA worker with `out` and `in` pointing to device memory
     * (`blk` and `ctx` stay host memory), launches its kernels on
     * sj_cuda_stream() and returns without waiting for them; it must compute
     * what `cpu` computes. Called only in builds with SJ_USE_CUDA on ranks
     * with CUDA workers.
     */
    sj_block_fn_t cuda;
} sj_block_kernel_t;

/**
 * @brief sj_array_map() with a named kernel that may also run on GPUs.
 *
 * Logically collective; asynchronous. Each block's task runs @p kernel->cpu
 * on a CPU worker or @p kernel->cuda on a CUDA worker, as the scheduler
 * decides (docs/gpu.md); other arguments as sj_array_map().
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p kernel, its name or its cpu function NULL (and the
 *         errors of sj_array_map())
 * @retval SJ_EINVAL a name that is not 1 to 31 letters, digits or underscores
 */
int sj_array_map_kernel(int nin, const sj_array_t in[], sj_array_t out,
                        const sj_block_kernel_t *kernel, const void *ctx, size_t ctx_size);

/* ---- reductions -------------------------------------------------------- */

/** Reductions. */
typedef enum sj_reduce_op {
    SJ_REDUCE_SUM = 1,     /**< sum of the elements */
    SJ_REDUCE_MIN = 2,     /**< smallest element (NaN if any is NaN) */
    SJ_REDUCE_MAX = 3,     /**< largest element (NaN if any is NaN) */
    SJ_REDUCE_MEAN = 4,    /**< sum / length */
    SJ_REDUCE_NORM1 = 5,   /**< sum of |x| */
    SJ_REDUCE_NORM2 = 6,   /**< sqrt of the sum of squares */
    SJ_REDUCE_NORMINF = 7, /**< largest |x| */
    SJ_REDUCE_DOT = 8,     /**< sum of x .* y (needs y) */
} sj_reduce_op_t;

/** Norms for sj_array_norm(). */
typedef enum sj_norm_type {
    SJ_NORM_1 = SJ_REDUCE_NORM1,
    SJ_NORM_2 = SJ_REDUCE_NORM2,
    SJ_NORM_INF = SJ_REDUCE_NORMINF,
} sj_norm_type_t;

/**
 * @brief Reduce and return the value on every rank (blocking).
 *
 * Collective; blocking. Reports earlier task failures as sj_wait() does.
 * Per-block results travel by one MPI collective and are combined on every
 * rank in the fixed tree order: all ranks get the same bits. Accumulation is in
 * double for float arrays too. When this rank holds one block or at most 32768
 * elements, its per-block results are computed on the calling thread (after
 * the tasks that write the blocks), else by one task per block.
 * @param[in] op    the reduction
 * @param[in] x     the array
 * @param[in] y     second array for SJ_REDUCE_DOT (same space and layout), else NULL
 * @param[out] value the result
 */
int sj_array_reduce(sj_reduce_op_t op, sj_array_t x, sj_array_t y, double *value);

/**
 * @brief Reduce into a scalar of the task graph, without waiting.
 *
 * Logically collective; asynchronous: the exchange between ranks is part of the
 * task graph. Each rank computes its blocks' results in tasks, sends them to every
 * other rank (P - 1 small messages each way: one hop) and combines all of them
 * along the same tree as sj_array_reduce() in a task of its own, into its copy of
 * the scalar (so every copy has the bits of sj_array_reduce()). Later tasks that
 * read the scalar (sj_array_axpy_scalar(), sj_scalar_binary()) wait for it in the
 * graph. The first graph reduction of @p x registers one exchange handle per rank,
 * kept until @p x is destroyed.
 * @param[in] op      the reduction
 * @param[in] x       the array
 * @param[in] y       second array for SJ_REDUCE_DOT (same space and layout), else NULL
 * @param[out] result a new scalar; destroy with sj_scalar_destroy()
 */
int sj_array_reduce_scalar(sj_reduce_op_t op, sj_array_t x, sj_array_t y, sj_scalar_t *result);

/** @brief `x . y` on every rank. Collective; blocking. @see sj_array_reduce */
int sj_array_dot(sj_array_t x, sj_array_t y, double *value);

/** @brief A norm of @p x on every rank. Collective; blocking. @see sj_array_reduce */
int sj_array_norm(sj_norm_type_t type, sj_array_t x, double *value);

/** @brief Sum of the elements on every rank. Collective; blocking. */
int sj_array_sum(sj_array_t x, double *value);

/** @brief Smallest element on every rank. Collective; blocking. */
int sj_array_min(sj_array_t x, double *value);

/** @brief Largest element on every rank. Collective; blocking. */
int sj_array_max(sj_array_t x, double *value);

/** @brief Mean of the elements on every rank. Collective; blocking. */
int sj_array_mean(sj_array_t x, double *value);

/* ---- algebra with graph scalars ---------------------------------------- */

/**
 * @brief `y = c * a * x + y`, @p a read in the task graph.
 * Logically collective; asynchronous.
 */
int sj_array_axpy_scalar(double c, sj_scalar_t a, sj_array_t x, sj_array_t y);

/**
 * @brief `x = c * a * x`, @p a read in the task graph.
 * Logically collective; asynchronous.
 */
int sj_array_scale_scalar(double c, sj_scalar_t a, sj_array_t x);

/**
 * @brief `w = c * a * x + y` (or `c * (a / b) * x + y`), and `w . w` as a new
 * scalar, in one task per block.
 *
 * Logically collective; asynchronous. @p a and @p b are read in the task
 * graph. The result has the bits of the calls it replaces:
 * sj_scalar_binary(SJ_SCALAR_DIV, a, b) when @p b is given, then
 * sj_array_copyto(y, w) when @p w is not @p y, sj_array_axpy_scalar(c, ., x, w)
 * and sj_array_reduce_scalar(SJ_REDUCE_DOT, w, w), on any number of ranks and
 * any layout (each task feeds the new values of its block to the lanes of
 * the reduction while they are in cache; docs/arrays.md). It saves the
 * division's task, the copy's and the reduction's per-block tasks, and a
 * read of w. The first reduction of @p w registers its exchange handles
 * (sj_array_reduce_scalar()).
 * @param[in] c   constant factor
 * @param[in] a   a scalar
 * @param[in] b   a scalar to divide @p a by, or NULL (the factor is `c * a`)
 * @param[in] x   the array scaled
 * @param[in] y   the array added (same space and layout as @p x); may be @p w or @p x
 * @param[in,out] w the result (same space and layout); not @p x
 * @param[out] ww `w . w` as a new scalar (destroy with sj_scalar_destroy()),
 *                or NULL: no reduction
 * @retval SJ_ENULL     @p a or an array is NULL
 * @retval SJ_EINVAL    @p w is @p x
 * @retval SJ_EHANDLE   a handle is not a live scalar or array (destroyed, or another kind)
 * @retval SJ_EMISMATCH the arrays differ in space or layout
 */
int sj_array_axpy_dot_scalar(double c, sj_scalar_t a, sj_scalar_t b, sj_array_t x, sj_array_t y,
                             sj_array_t w, sj_scalar_t *ww);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_ARRAY_H */
