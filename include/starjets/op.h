/**
 * @file starjets/op.h
 * @brief Operators: leaf operators, operator algebra, block operators, apply,
 * Jacobians and the operator tests.
 *
 * An operator (`sj_op_t`) maps arrays of its *domain* space to arrays of its
 * *range* space. It is **linear** (apply `A x` and adjoint `A' y`) or
 * **nonlinear** (forward `f(x)`, and at a point `m0` a Jacobian `J = df(m0)`
 * that is a linear operator with its own adjoint), as in Jets.jl.
 *
 * - A **leaf** operator lives on one rank, its *owner*: its state (a diagonal,
 *   a matrix, ...) is stored there and all its tasks run there. Its domain and
 *   range are spaces of one block each (any shape, 1-D to 3-D).
 * - **Algebra** builds new operators from old ones: composition `B ∘ A`, linear
 *   combinations `a A + b B`, scaling, the adjoint view, the Jacobian at a point.
 *   A composite keeps references to its parts; the caller may destroy its own
 *   handles at once.
 * - A **block operator** is an `m x n` grid of operators placed on a 2-D layout
 *   (`sj_dist_t`): block `(i, j)` is owned by the layout's owner of block
 *   number `i + m * j` (column-major, as every layout numbers blocks), and its
 *   domain and range are the `j`-th and `i`-th blocks of the block operator's
 *   domain and range. NULL blocks are zero and submit nothing. The `blocks[]`
 *   array given to sj_op_block_create() is row-major: `blocks[i * n + j]`.
 *
 * Each call says whether it is *local*, *collective* or *logically collective*
 * (docs/api-conventions.md). Leaf constructors are collective (the owner tells
 * every rank whether the state it was given is there); algebra, block operators,
 * Jacobians, applies and sj_op_destroy() are logically collective: every rank, same
 * arguments, same order, no message. Applies only submit tasks and return; they
 * chain without a global wait. Operator objects are reference counted;
 * sj_finalize() releases the ones still held.
 *
 * Spaces of operators and arrays are matched by *block lengths* and element
 * type: a leaf whose domain is a 2-D `(n, k)` space accepts any one-block
 * array of `n * k` elements of its type (data are column-major).
 *
 * @defgroup op Operators
 * @{
 */
#ifndef STARJETS_OP_H
#define STARJETS_OP_H

#include <stddef.h>
#include <stdint.h>

#include <starjets/array.h>
#include <starjets/dist.h>
#include <starjets/space.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An operator (opaque, reference counted). */
typedef struct sj_op_s *sj_op_t;

/** Direction of an apply. */
typedef enum sj_op_dir {
    SJ_OP_FORWARD = 0, /**< `y = A x` (linear) or `y = f(x)` (nonlinear) */
    SJ_OP_ADJOINT = 1, /**< `x = A' y` (linear operators only) */
} sj_op_dir_t;

/* ---- user leaf operators ------------------------------------------------ */

/** What a leaf function learns about the operator and the call. */
typedef struct sj_op_info {
    sj_dtype_t dtype;              /**< element type of domain and range */
    int dom_ndims;                 /**< dimensions of the domain space */
    int64_t dom_dims[SJ_MAX_DIMS]; /**< domain shape (1 for unused dimensions) */
    int64_t dom_n;                 /**< domain elements */
    int rng_ndims;                 /**< dimensions of the range space */
    int64_t rng_dims[SJ_MAX_DIMS]; /**< range shape (1 for unused dimensions) */
    int64_t rng_n;                 /**< range elements */
    const void *params;            /**< the parameter bytes given at creation */
    size_t params_size;            /**< their size */
    const void *state;             /**< the state bytes given at creation (owner's copy) */
    size_t state_size;             /**< their size */
    const void *point;             /**< Jacobian point `m0` (`dom_n` elements), else NULL */
    int block_row;                 /**< row of the enclosing block operator, or -1 */
    int block_col;                 /**< column of the enclosing block operator, or -1 */
} sj_op_info_t;

/**
 * A leaf function: writes `out` (overwriting it) from `in`, both column-major.
 * Forward: `in` has `dom_n` elements, `out` has `rng_n`. Adjoint: the reverse.
 * Runs as a task on the operator's owner, possibly on several workers at once
 * for different calls: it must not write `params`, `state` or globals.
 *
 * @return 0 on success; non-zero marks the task failed (reported as SJ_EUSER
 *         by the next sj_wait() or blocking reduction on every rank)
 */
typedef int (*sj_op_fn_t)(const sj_op_info_t *info, void *out, const void *in);

/**
 * The functions of a leaf operator class. A linear class gives `forward` (`A x`)
 * and `adjoint` (`A' y`). A nonlinear class gives `forward` (`f(x)`),
 * `jacobian` (`J(m0) dx`, with `info->point = m0`) and `adjoint` (`J(m0)' dy`).
 * A NULL direction makes applies in that direction fail with SJ_ENOTSUP.
 * In a build with SJ_USE_CUDA, a direction with a CUDA member may also run
 * on a CUDA worker: the function gets device pointers for `out`, `in`,
 * `info->state` and `info->point` (`info` and `info->params` stay in host
 * memory) and launches its work on sj_cuda_stream() without waiting
 * (docs/gpu.md).
 */
typedef struct sj_op_class {
    const char *name;         /**< short name shown in traces and perf models (<= 31 chars) */
    int nonlinear;            /**< 0: linear; 1: nonlinear */
    sj_op_fn_t forward;       /**< `A x` or `f(x)` */
    sj_op_fn_t adjoint;       /**< `A' y` or `J(m0)' dy` */
    sj_op_fn_t jacobian;      /**< nonlinear: `J(m0) dx`; linear: unused */
    sj_op_fn_t forward_cuda;  /**< optional CUDA version of `forward` */
    sj_op_fn_t adjoint_cuda;  /**< optional CUDA version of `adjoint` */
    sj_op_fn_t jacobian_cuda; /**< optional CUDA version of `jacobian` */
} sj_op_class_t;

/** Largest parameter block of a leaf (bytes): parameters travel with every task. */
#define SJ_OP_MAX_PARAMS 4096

/**
 * @brief A leaf operator of a user class.
 *
 * Collective: @p owner, @p params_size and @p state_size are compared across
 * ranks, and the owner tells every rank whether @p params and @p state were
 * given, so that every rank returns the same error.
 * @param[in] cls       the class (copied; `cls->name` is copied too)
 * @param[in] domain    domain space (one block)
 * @param[in] range     range space (one block, same element type)
 * @param[in] owner     the rank that stores the state and runs the tasks
 * @param[in] params    small parameters (<= SJ_OP_MAX_PARAMS bytes), copied;
 *                      read on the owner only
 * @param[in] params_size their size (same on all ranks)
 * @param[in] state     large state (matrix, coefficients), copied into memory on
 *                      the owner; read on the owner only (others may pass NULL)
 * @param[in] state_size its size in bytes (same on all ranks; < 2 GiB)
 * @param[out] op       the new operator
 * @retval SJ_OK, SJ_ENULL (cls, domain, range, op or cls->name NULL),
 *         SJ_EINVAL (a name that is not 1 to 31 letters, digits or '_', class
 *         without forward, nonlinear not 0 or 1, spaces of several blocks,
 *         owner or sizes that differ between ranks), SJ_EMISMATCH (element
 *         types differ), SJ_ERANGE (owner), SJ_ESIZE (params_size over
 *         #SJ_OP_MAX_PARAMS, state_size of 2 GiB or more), SJ_ENOMEM, SJ_ESTATE
 */
int sj_op_create(const sj_op_class_t *cls, sj_space_t domain, sj_space_t range, int owner,
                 const void *params, size_t params_size, const void *state, size_t state_size,
                 sj_op_t *op);

/**
 * @brief A copy of a leaf operator on another rank (DistributedJets'
 * `getblock(A, i, j)`, which brings a block operator to the master).
 *
 * Collective. The copy has the same class, spaces, parameters and state as
 * @p op, but @p owner stores them and runs its tasks. The parameters reach
 * @p owner before the call returns; the state moves in the task graph (the
 * call does not wait for it, and applies of the copy are ordered after it).
 * The two operators are independent afterwards: destroying @p op does not
 * affect the copy. Copying to the same owner makes a second leaf. A zero
 * block copies as a zero block.
 * @param[in] op     a leaf operator (sj_op_create(), a library operator, or a
 *                   block of a block operator); not a Jacobian, composite or
 *                   block operator
 * @param[in] owner  the rank of the copy
 * @param[out] copy  the new operator
 * @retval SJ_OK, SJ_ENULL, SJ_ERANGE (owner), SJ_ENOTSUP (not a leaf, or a
 *         Jacobian), SJ_ENOMEM, SJ_ESTATE
 */
int sj_op_copy(sj_op_t op, int owner, sj_op_t *copy);

/**
 * @brief Drop the caller's reference.
 *
 * Logically collective; does not wait. NULL or `*op == NULL` is a no-op. The
 * operator lives on while composites or pending tasks use it. Sets `*op` to
 * NULL. The last reference releases the operator's tags and temporaries, so
 * every rank drops its references in the same order.
 */
int sj_op_destroy(sj_op_t *op);

/* ---- queries (local) ----------------------------------------------------- */

/**
 * @brief The domain space and its layout (borrowed: valid while @p op lives).
 *
 * Local. For a block operator the domain space is 1-D with one block per block
 * column, and its layout puts block `j` on the owner of the first non-zero block of
 * column `j` (the first block of the column when all are zero), so that
 * `sj_array_rand(space, dist, ...)` makes a matching array as `rand(domain(A))`
 * does. For a leaf it is the leaf's own space on its owner. Either may be NULL.
 */
int sj_op_domain(sj_op_t op, sj_space_t *space, sj_dist_t *dist);

/** @brief The range space and its layout (borrowed). Local. @see sj_op_domain */
int sj_op_range(sj_op_t op, sj_space_t *space, sj_dist_t *dist);

/** @brief 1 when the operator is linear, 0 when nonlinear. Local. */
int sj_op_is_linear(sj_op_t op, int *linear);

/**
 * @brief The rank that runs all of the operator's tasks, or -1 when distributed.
 * Local.
 */
int sj_op_owner(sj_op_t op, int *rank);

/**
 * @brief One line describing the operator, e.g.
 * `linear block 4x3 operator, (6,) -> (8,)`. Local.
 */
int sj_op_describe(sj_op_t op, char *buf, size_t size);

/* ---- algebra -------------------------------------------------------------- */

/**
 * @brief Composition `B ∘ A` (apply A, then B).
 *
 * Logically collective (no message). The range of @p A must match the domain of
 * @p B (block lengths and type). The adjoint is `A' ∘ B'`; the Jacobian at `m0` is
 * `J_B(A(m0)) ∘ J_A(m0)`.
 * @retval SJ_OK, SJ_ENULL, SJ_EMISMATCH, SJ_ENOMEM, SJ_ESTATE
 */
int sj_op_compose(sj_op_t B, sj_op_t A, sj_op_t *BA);

/**
 * @brief Linear combination `a A + b B` (sum: 1, 1; difference: 1, -1).
 *
 * Logically collective (no message). @p A and @p B must have matching domains and
 * ranges. Nonlinear parts are allowed: the Jacobian is `a J_A + b J_B`.
 */
int sj_op_combine(double a, sj_op_t A, double b, sj_op_t B, sj_op_t *C);

/** @brief `A + B`. Logically collective. @see sj_op_combine */
int sj_op_add(sj_op_t A, sj_op_t B, sj_op_t *C);

/** @brief `A - B`. Logically collective. @see sj_op_combine */
int sj_op_sub(sj_op_t A, sj_op_t B, sj_op_t *C);

/**
 * @brief `a A`: same domain and range as @p A (non-square operators too).
 * Logically collective.
 */
int sj_op_scale(double a, sj_op_t A, sj_op_t *C);

/**
 * @brief The adjoint view `A'` of a linear operator (domain and range swapped).
 *
 * Logically collective (no message). The adjoint of an adjoint view is the operator
 * itself (a new reference).
 * @retval SJ_EINVAL when @p A is nonlinear (take its Jacobian first)
 */
int sj_op_adjoint(sj_op_t A, sj_op_t *At);

/**
 * @brief The Jacobian of @p F at the point @p m0, as a linear operator.
 *
 * Logically collective; asynchronous. Leaf Jacobians share their operator's state
 * and keep a copy of their block of `m0` on their owner (taken in the task graph:
 * @p m0 may be changed or destroyed right after the call). The Jacobian of a linear
 * operator is the operator itself (a new reference).
 * @param[in] F   the operator
 * @param[in] m0  the point, an array of F's domain (any layout)
 * @param[out] J  the Jacobian
 */
int sj_op_jacobian(sj_op_t F, sj_array_t m0, sj_op_t *J);

/* ---- apply --------------------------------------------------------------- */

/**
 * @brief `y = alpha op(x) + beta y`, where `op` is `A` (or `f`) forward and `A'`
 * adjoint.
 *
 * Logically collective; asynchronous: it only submits tasks, and the transfers
 * between ranks are part of the task graph. @p x matches the domain (forward)
 * or range (adjoint), @p y the other; any layouts. With `beta == 0`, `y` is not
 * read.
 * @retval SJ_OK, SJ_ENULL, SJ_EINVAL (x is y, bad direction), SJ_EMISMATCH,
 *         SJ_ENOTSUP (a leaf lacks the direction, adjoint of a nonlinear
 *         operator), SJ_ENOMEM, SJ_ESTATE
 */
int sj_op_apply_ex(sj_op_t A, sj_op_dir_t dir, double alpha, sj_array_t x, double beta,
                   sj_array_t y);

/** @brief `y = A x` (or `y = f(x)`). Logically collective; asynchronous. @see sj_op_apply_ex */
int sj_op_apply(sj_op_t A, sj_array_t x, sj_array_t y);

/** @brief `x = A' y`. Logically collective; asynchronous. @see sj_op_apply_ex */
int sj_op_apply_adjoint(sj_op_t A, sj_array_t y, sj_array_t x);

/* ---- block operators ------------------------------------------------------ */

/** Shapes of block operator that the apply recognises. */
typedef enum sj_op_block_kind {
    SJ_OP_BLOCK_GENERAL = 0,  /**< any pattern: row and column trees */
    SJ_OP_BLOCK_DIAGONAL = 1, /**< square grid, non-zero blocks on the diagonal only */
    SJ_OP_BLOCK_TALL = 2,     /**< one block column (tall-and-skinny: model on one rank) */
} sj_op_block_kind_t;

/**
 * @brief A block operator from an `m x n` grid of operators.
 *
 * Logically collective (no message: every rank checks the blocks against the
 * layout). Two numberings meet here: @p blocks is row-major (block `(i, j)` is
 * `blocks[i * n + j]`), while the layout @p dist numbers blocks column-major,
 * like every layout and space (block `(i, j)` is number `i + m * j` for
 * sj_dist_owner() and sj_dist_local_blocks()).
 * @param[in] m, n    block rows and columns
 * @param[in] blocks  `m * n` operators, row-major (`blocks[i * n + j]`); NULL is a
 *                    zero block. Each non-NULL block must run on one rank, the
 *                    layout's owner of block `(i, j)` (see sj_op_owner()), and
 *                    blocks of a row (column) must share range (domain) lengths.
 *                    A row or column needs one block giving its size: use
 *                    sj_op_zero() where all are zero. The block operator takes
 *                    its own references.
 * @param[in] dist    a 2-D layout of an `m x n` block grid; NULL = contiguous over all ranks
 * @param[out] A      the block operator
 * @retval SJ_OK, SJ_ENULL, SJ_ESIZE, SJ_EMISMATCH (spaces or types disagree
 *         along a row or column, layout grid), SJ_EINVAL (a block on the wrong
 *         rank, a distributed block, a block row or column with no block at
 *         all: put an sj_op_zero block in it), SJ_ENOMEM, SJ_ESTATE
 */
int sj_op_block_create(int m, int n, const sj_op_t blocks[], sj_dist_t dist, sj_op_t *A);

/**
 * Make block `(i, j)` owned by @p owner (the layout's owner of block number
 * `i + m * j`). Called on every rank, row by row (`(0, 0)`, `(0, 1)`, ...,
 * `(1, 0)`, ...), with the same result everywhere (state arguments of leaves are
 * read on the owner only). Set `*block` to NULL for a zero block.
 */
typedef int (*sj_op_block_fn_t)(int i, int j, int owner, void *ctx, sj_op_t *block);

/**
 * @brief A block operator whose blocks are made by @p fn, like
 * `DArray(I -> [JopDiagonal(rand(2)) for ...])`.
 *
 * Collective: every rank calls @p fn for every block in the same order, and
 * the leaf constructors it calls are collective. The blocks @p fn returns are
 * handed over to the block operator. @p fn sees block `(i, j)` in row-major
 * order, with the owner the layout gives block number `i + m * j`
 * (column-major), as in sj_op_block_create().
 * @param[in] m, n  block rows and columns
 * @param[in] dist  a 2-D layout of an `m x n` block grid; NULL = contiguous
 * @param[in] fn    makes each block
 * @param[in] ctx   context for @p fn: copied before the first call when
 *                  @p ctx_size > 0 (@p fn gets the copy), passed as is otherwise
 * @param[in] ctx_size bytes of @p ctx to copy (at most 1 MiB), or 0
 * @param[out] A    the block operator
 * @retval SJ_OK, SJ_ENULL (fn or A NULL, ctx NULL with ctx_size > 0),
 *         SJ_ESIZE (grid, ctx_size over 1 MiB), SJ_EUSER (fn failed), and
 *         the errors of sj_op_block_create()
 */
int sj_op_block_create_fn(int m, int n, sj_dist_t dist, sj_op_block_fn_t fn, const void *ctx,
                          size_t ctx_size, sj_op_t *A);

/**
 * @brief A block-diagonal operator of the `n` operators @p blocks on the
 * diagonal of an `n x n` grid laid out by @p dist (a 2-D `n x n` layout, or a
 * 1-D layout of `n` blocks giving the owner of each diagonal block; NULL =
 * contiguous over all ranks). When `x(i)`, `y(i)` and block `(i, i)` share an
 * owner, applies move no data.
 *
 * Logically collective (no message). Block `(i, i)` is number `i + n * i` of a
 * 2-D layout.
 */
int sj_op_block_diag(int n, const sj_op_t blocks[], sj_dist_t dist, sj_op_t *A);

/** @brief Block rows and columns of a block operator. Local. */
int sj_op_block_grid(sj_op_t A, int *m, int *n);

/**
 * @brief The 2-D layout of the block grid (borrowed): sj_dist_procs() gives
 * `procs(A)`, sj_dist_blockmap() `blockmap(A)`, sj_dist_local_blocks() the
 * blocks of a rank. Local.
 *
 * The layout numbers block `(i, j)` column-major, `i + m * j` (sj_dist_owner()),
 * unlike the row-major `blocks[]` array of sj_op_block_create().
 */
int sj_op_block_dist(sj_op_t A, sj_dist_t *dist);

/** @brief The shape the apply recognised. Local. */
int sj_op_block_kind(sj_op_t A, sj_op_block_kind_t *kind);

/**
 * @brief A new reference to block `(i, j)` (NULL for a zero block). Local.
 *
 * The block is the operator on its owner; apply it to arrays placed anywhere.
 * `(i, j)` are row and column: the block that sj_op_block_create() took from
 * `blocks[i * n + j]`, owned by the layout's owner of block number `i + m * j`.
 * Drop the reference with sj_op_destroy() (logically collective): a
 * reference taken on some ranks only must be dropped while @p A still holds
 * the block, so that the block is freed in the same order on every rank.
 */
int sj_op_block_get(sj_op_t A, int i, int j, sj_op_t *block);

/**
 * @brief Replace block `(i, j)` (NULL makes it zero). The new block must run on
 * the layout's owner of `(i, j)` and match the row's and column's lengths. The
 * domain and range layouts of @p A do not change. Takes its own reference.
 *
 * Logically collective (no message). `(i, j)` are row and column, as in
 * sj_op_block_get(): the owner required is that of layout block `i + m * j`.
 * Tasks already submitted with the old block are unaffected.
 */
int sj_op_block_set(sj_op_t A, int i, int j, sj_op_t block);

/* ---- operator tests -------------------------------------------------------- */

/** What an operator test compared. */
typedef struct sj_op_test_result {
    double lhs;    /**< first quantity (e.g. `<A x, y>`) */
    double rhs;    /**< second quantity (e.g. `<x, A' y>`) */
    double relerr; /**< `|lhs - rhs| / max(|lhs|, |rhs|)` (or the test's own measure) */
    int pass;      /**< 1 when `relerr <= tol` */
} sj_op_test_result_t;

/**
 * @brief Dot-product (adjoint) test: `<A x, y>` against `<x, A' y>` for random
 * `x`, `y` drawn from @p seed.
 *
 * Collective; blocking (it applies and reduces).
 */
int sj_op_dot_product_test(sj_op_t A, uint64_t seed, double tol, sj_op_test_result_t *result);

/**
 * @brief Linearity test: `A(a x + b z)` against `a A x + b A z`; `lhs` and
 * `rhs` are their norms, `relerr` the norm of the difference over the larger.
 *
 * Collective; blocking.
 */
int sj_op_linearity_test(sj_op_t A, uint64_t seed, double tol, sj_op_test_result_t *result);

/** Result of a linearisation (Taylor) test. */
typedef struct sj_op_taylor_result {
    int nsteps;      /**< steps taken (`h = h0 / 2^k`) */
    double h[16];    /**< step sizes */
    double err0[16]; /**< `||f(m0 + h dm) - f(m0)||` (first order) */
    double err1[16]; /**< `||f(m0 + h dm) - f(m0) - h J dm||` (second order) */
    double order;    /**< median observed order of `err1` (2 when J is right) */
    int pass;        /**< 1 when the order is >= 1.8, or err1 is at rounding level */
} sj_op_taylor_result_t;

/**
 * @brief Linearisation test of a (nonlinear) operator at @p m0 (NULL: random)
 * along a random direction, with steps `h0, h0/2, ...` (`nsteps` <= 16).
 *
 * Collective; blocking.
 */
int sj_op_linearization_test(sj_op_t F, sj_array_t m0, uint64_t seed, double h0, int nsteps,
                             sj_op_taylor_result_t *result);

/* ---- per-apply statistics ---------------------------------------------------- */

/**
 * @brief Append one JSON record per leaf task (direction, operator name, rank,
 * block, worker, start and duration) to `<path>.<rank>.jsonl`, like
 * DistributedJets' `perfstatfile`. NULL stops recording. Also turned on at
 * sj_init() by the environment variable `SJ_PERFSTAT=<path>`.
 * Collective; waits for the tasks in flight first.
 */
int sj_op_perfstat(const char *path);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* STARJETS_OP_H */
