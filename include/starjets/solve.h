/**
 * @file starjets/solve.h
 * @brief Iterative solvers on starjets operators: CG, CGLS and LSQR.
 *
 * Each solver runs on any linear operator (leaves, compositions, block
 * operators, Jacobians of nonlinear operators) and keeps its whole iteration in
 * the task graph: the scalars of an iteration (step lengths, norms) are graph
 * scalars (starjets/scalar.h), so no rank waits for another to go on. The
 * convergence test of iteration `i` reads that iteration's norms on each rank
 * from a local copy (no message, no global wait) while iterations `i + 1` ..
 * `i + lag` are already submitted, and the solver returns iterate `i` exactly:
 * the update of `x` for an iteration is submitted only once the test of the
 * iteration before has said "go on", from a short ring of search directions.
 * Every rank computes the same norms bit for bit (starjets' reductions do not
 * depend on the layout), so every rank takes the same decision, and the
 * iterates are the same bits on any number of ranks. docs/solvers.md explains
 * the loop, the stopping rules and the costs.
 *
 * All solvers are collective (every rank calls them with the same arguments,
 * in the same order) and blocking (they return when the answer is in @p x on
 * its owners' ranks). They create their work arrays once per call and nothing
 * per iteration that a long run would accumulate.
 *
 * @defgroup solve Iterative solvers
 * @{
 */
#ifndef STARJETS_SOLVE_H
#define STARJETS_SOLVE_H

#include <starjets/array.h>
#include <starjets/op.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Why a solver stopped. */
typedef enum sj_solve_reason {
    SJ_SOLVE_RTOL = 1,       /**< a norm fell below its relative tolerance */
    SJ_SOLVE_ATOL = 2,       /**< a norm fell below the absolute tolerance */
    SJ_SOLVE_MAX_ITERS = 3,  /**< `max_iterations` iterations ran without converging */
    SJ_SOLVE_BREAKDOWN = 4,  /**< a step length was zero, infinite or NaN: the last good
                                  iterate is returned */
    SJ_SOLVE_INDEFINITE = 5, /**< CG found `p' A p <= 0` (or `p' M p` for the
                                  preconditioner): the operator is not positive definite */
} sj_solve_reason_t;

/** What the monitor of a solve sees after each checked iteration. */
typedef struct sj_solve_monitor_info {
    const char *solver; /**< "cg", "cgls" or "lsqr" */
    int iteration;      /**< the iteration checked (0: the starting point) */
    int submitted;      /**< iterations submitted so far (at most `iteration + lag`) */
    double rnorm;       /**< residual norm: CG `||b - A x||`; CGLS and LSQR
                             `||(b - A x, -damp dx)||` (the damped residual) */
    double arnorm;      /**< CGLS and LSQR: normal-equation residual
                             `||A'(b - A x) - damp^2 dx||`; CG: NaN */
    double elapsed;     /**< seconds since the solver was called (rank 0's clock) */
} sj_solve_monitor_info_t;

/**
 * A monitor: called on rank 0 only, on the application thread, once per
 * checked iteration, in order. It must not call starjets (the other ranks are
 * not calling it at the same time).
 */
typedef void (*sj_solve_monitor_fn_t)(const sj_solve_monitor_info_t *info, void *ctx);

/** Options of the solvers. Fill with sj_solve_options_default() first. */
typedef struct sj_solve_options {
    /** Most iterations; default 1000; must be >= 0 (0 only evaluates the start). */
    int max_iterations;
    /**
     * Relative tolerance, default 1e-8, >= 0. CG stops when
     * `||b - A x|| <= max(rtol ||b||, atol)`. CGLS and LSQR stop when the damped
     * residual `rnorm <= max(rtol ||b||, atol)` (a consistent system) or when
     * `arnorm <= max(rtol arnorm0, atol)`, `arnorm0` being the normal-equation
     * residual at the start (a least-squares solution).
     */
    double rtol;
    /** Absolute tolerance, default 0, >= 0. @see rtol */
    double atol;
    /**
     * CGLS and LSQR: the damping `λ >= 0` of `min ||A x - b||^2 + λ^2 ||dx||^2`,
     * `dx` the correction to the starting `x` (the usual Tikhonov problem when
     * `x` starts at 0). Default 0. CG refuses a non-zero value.
     */
    double damp;
    /**
     * Optional preconditioner, an operator (NULL: none; default). CG: `M ≈ A^-1`,
     * symmetric positive definite, with A's domain as domain and range. CGLS and
     * LSQR: a right preconditioner `M` from A's domain to itself: they solve for
     * `y` with the operator `A M` and return `x = x0 + M y` (damping then applies
     * to `y`).
     */
    sj_op_t precond;
    /**
     * How many iterations may be submitted beyond the one being checked, 0 to
     * 64; default 2. 0 checks each iteration before submitting the next (a
     * wait per iteration); more keeps the task graph busy while a check waits,
     * at the cost of up to `lag` iterations computed and thrown away after
     * convergence and `lag + 2` search directions kept.
     */
    int lag;
    /** Called on rank 0 after each checked iteration; NULL (default) for none. */
    sj_solve_monitor_fn_t monitor;
    /** Passed as is to @p monitor. */
    void *monitor_ctx;
} sj_solve_options_t;

/** What a solve did. */
typedef struct sj_solve_result {
    sj_solve_reason_t reason; /**< why it stopped */
    int iterations;           /**< the iteration whose iterate is returned */
    int submitted;            /**< iterations submitted (those past `iterations` were discarded) */
    double rnorm;             /**< residual norm of the returned iterate (see the monitor) */
    double arnorm;            /**< CGLS and LSQR: its normal-equation residual; CG: NaN */
    double rnorm0;            /**< residual norm at the start */
    double arnorm0;           /**< CGLS and LSQR: normal-equation residual at the start */
    double bnorm;             /**< `||b||` */
    double elapsed;           /**< seconds in the solver (this rank's clock) */
} sj_solve_result_t;

/**
 * @brief Fill @p opts with the defaults (see sj_solve_options_t).
 *
 * Local; may be called before sj_init().
 * @param[out] opts options to fill (NULL: nothing happens)
 */
void sj_solve_options_default(sj_solve_options_t *opts);

/**
 * @brief Conjugate gradients for `A x = b`, `A` symmetric positive definite,
 * optionally preconditioned by `M ≈ A^-1` (`opts->precond`).
 *
 * Collective; blocking. @p x holds the starting point on entry and the iterate
 * `result->iterations` on return. The residual `r = b - A x` is updated by the
 * recurrence; its norm is checked against `max(rtol ||b||, atol)` (the true
 * residual, also with a preconditioner: one more reduction per iteration
 * then). Work arrays: `r`, `A p`, `lag + 2` directions (and `z = M r`).
 * @param[in] A       a linear operator whose domain and range have the same
 *                    block lengths and element type
 * @param[in] b       right-hand side, an array of A's range
 * @param[in,out] x   starting point and answer: same space as @p b, any layout
 *                    (another layout than b's, as the domain of a square block
 *                    operator has, costs a work array and two redistributions)
 * @param[in] opts    options (NULL: the defaults); `damp` must be 0
 * @param[out] result what happened (may be NULL)
 * @retval SJ_OK also when the iteration limit is reached or the iteration
 *         broke down: see `result->reason`
 * @retval SJ_ENULL A, b or x NULL
 * @retval SJ_EINVAL A nonlinear, x is b, a negative tolerance or iteration
 *         limit, `lag` outside 0..64, `damp` not 0, a nonlinear preconditioner
 * @retval SJ_EMISMATCH A not square, b not of A's range, x not of b's space,
 *         a preconditioner whose spaces are not A's domain
 * @retval SJ_EUSER a leaf function failed during the solve
 */
int sj_solve_cg(sj_op_t A, sj_array_t b, sj_array_t x, const sj_solve_options_t *opts,
                sj_solve_result_t *result);

/**
 * @brief CGLS (conjugate gradients on the normal equations, without forming
 * them) for `min ||A x - b||^2 + damp^2 ||dx||^2`, any linear `A`.
 *
 * Collective; blocking. @p x holds the starting point `x0` on entry and
 * `x0 + dx` on return. Stops on `rtol` / `atol` as sj_solve_options_t says.
 * Work arrays: two of A's range, three of its domain plus `lag + 2`
 * directions. A right preconditioner makes the operator `A M` (one composition
 * per call).
 * @param[in] A       a linear operator
 * @param[in] b       data, an array of A's range
 * @param[in,out] x   starting point and answer, an array of A's domain
 * @param[in] opts    options (NULL: the defaults)
 * @param[out] result what happened (may be NULL)
 * @retval SJ_OK, SJ_ENULL, SJ_EINVAL, SJ_EMISMATCH, SJ_EUSER as for sj_solve_cg()
 */
int sj_solve_cgls(sj_op_t A, sj_array_t b, sj_array_t x, const sj_solve_options_t *opts,
                  sj_solve_result_t *result);

/**
 * @brief LSQR (Paige and Saunders) for `min ||A x - b||^2 + damp^2 ||dx||^2`,
 * any linear `A`.
 *
 * Collective; blocking. The same problem, arguments and stopping rules as
 * sj_solve_cgls(); LSQR is the more stable of the two on ill-conditioned
 * problems. Its rotations are computed from squared quantities (no square
 * root outside the norms of the reductions, docs/solvers.md), and its norms
 * are the usual estimates, not recomputed residuals.
 * @retval SJ_OK, SJ_ENULL, SJ_EINVAL, SJ_EMISMATCH, SJ_EUSER as for sj_solve_cg()
 */
int sj_solve_lsqr(sj_op_t A, sj_array_t b, sj_array_t x, const sj_solve_options_t *opts,
                  sj_solve_result_t *result);

/** @brief The name of a stop reason ("rtol", "breakdown", ...). Local. */
const char *sj_solve_reason_name(sj_solve_reason_t reason);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* STARJETS_SOLVE_H */
