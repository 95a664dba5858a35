/**
 * @file starjets/solve.h
 * @brief Iterative solvers on starjets operators: CG, CGLS and LSQR, and
 * Gauss-Newton and L-BFGS for nonlinear least squares.
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
    SJ_SOLVE_RTOL = 1,        /**< a norm fell below its relative tolerance */
    SJ_SOLVE_ATOL = 2,        /**< a norm fell below the absolute tolerance */
    SJ_SOLVE_MAX_ITERS = 3,   /**< `max_iterations` iterations ran without converging */
    SJ_SOLVE_BREAKDOWN = 4,   /**< a step length was zero, infinite or NaN: the last good
                                   iterate is returned */
    SJ_SOLVE_INDEFINITE = 5,  /**< CG found `p' A p <= 0` (or `r' M r` for the
                                   preconditioner): the operator is not positive definite */
    SJ_SOLVE_LINE_SEARCH = 6, /**< Gauss-Newton or L-BFGS: no step along the search
                                   direction decreased the objective enough */
} sj_solve_reason_t;

/** What the monitor of a solve sees after each checked iteration. */
typedef struct sj_solve_monitor_info {
    const char *solver; /**< "cg", "cgls", "lsqr", "gauss-newton" or "lbfgs" */
    int iteration;      /**< the iteration checked (0: the starting point) */
    int submitted;      /**< iterations submitted so far (at most `iteration + lag`) */
    double rnorm;       /**< residual norm: CG `||b - A x||`; CGLS and LSQR
                             `||(b - A x, -damp dx)||` (the damped residual);
                             nonlinear: the misfit `||F(m) - d||` */
    double arnorm;      /**< CGLS and LSQR: normal-equation residual
                             `||A'(b - A x) - damp^2 dx||`; nonlinear: the
                             gradient norm (projected, with bounds); CG: NaN */
    double objective;   /**< nonlinear: `||F(m) - d||^2 / 2 + reg^2 ||m||^2 / 2`; linear: NaN */
    double elapsed;     /**< seconds since the solver was called (rank 0's clock) */
} sj_solve_monitor_info_t;

/**
 * A monitor: called on rank 0 only, on the application thread, once per
 * checked iteration, in order. It must make no collective or logically
 * collective starjets call (the other ranks are not making one at the same
 * time); local queries such as sj_stats_get() are fine.
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
    double bnorm;             /**< `||b||` (nonlinear: `||d||`) */
    double objective;         /**< nonlinear: the final objective; linear: NaN */
    int evaluations;          /**< nonlinear: evaluations of F; linear: 0 */
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

/* ---- nonlinear least squares ----------------------------------------------- */

/** Options of the nonlinear solvers. Fill with sj_solve_nl_options_default() first. */
typedef struct sj_solve_nl_options {
    /** Most (outer) iterations; default 20, >= 0. */
    int max_iterations;
    /**
     * Stop when the gradient norm `||g|| <= max(gtol ||g0||, gatol)` (`g0` at
     * the start; with bounds, the projected gradient). Default 1e-6, >= 0.
     */
    double gtol;
    /** Absolute gradient tolerance, default 0, >= 0. @see gtol */
    double gatol;
    /** Tikhonov weight `reg >= 0`: the objective is `||F(m) - d||^2 / 2 + reg^2 ||m||^2 / 2`. */
    double reg;
    /** Gauss-Newton: LSQR iterations per step (default 20) and its rtol (default 1e-3). */
    int inner_iterations;
    /** @see inner_iterations */
    double inner_rtol;
    /** L-BFGS: pairs kept, 1 to 64, default 5. */
    int memory;
    /** Most evaluations of F per line search, >= 1; default 20. */
    int max_evaluations;
    /**
     * L-BFGS: optional bounds, arrays of m's space and layout (NULL: none on
     * that side): each step is projected onto `lower <= m <= upper`, and a
     * starting @p m outside the box is projected onto it first (in place).
     * Both given, every `lower <= upper` (no NaN) or SJ_EINVAL. Gauss-Newton
     * refuses them.
     */
    sj_array_t lower;
    /** @see lower */
    sj_array_t upper;
    /** Called on rank 0 after each iteration (and for iteration 0); NULL for none. */
    sj_solve_monitor_fn_t monitor;
    /** Passed as is to @p monitor. */
    void *monitor_ctx;
} sj_solve_nl_options_t;

/**
 * @brief Fill @p opts with the defaults (see sj_solve_nl_options_t).
 *
 * Local; may be called before sj_init().
 * @param[out] opts options to fill (NULL: nothing happens)
 */
void sj_solve_nl_options_default(sj_solve_nl_options_t *opts);

/**
 * @brief Gauss-Newton for `min ||F(m) - d||^2 / 2 + reg^2 ||m||^2 / 2`, each
 * step from LSQR on the Jacobian.
 *
 * Collective; blocking. Iteration k takes `J = dF(m)` (sj_op_jacobian()),
 * solves `min ||J z - (d - F(m) + J m)||^2 + reg^2 ||z||^2` with
 * sj_solve_lsqr() (`inner_iterations`, `inner_rtol`), so that `z` is the
 * Gauss-Newton point of the regularised problem, and moves `m` to
 * `m + t (z - m)`, `t = 1, 1/2, ...` until the objective decreases
 * (Armijo). The objective, misfit and gradient (`J'(F(m) - d) + reg^2 m`)
 * are graph scalars, which each rank reads from its own copy: one wait per
 * evaluation, no collective per iteration (docs/solvers.md).
 * @param[in] F       an operator (nonlinear, or linear: then one step solves it)
 * @param[in] d       data, an array of F's range
 * @param[in,out] m   starting model and answer, an array of F's domain
 * @param[in] opts    options (NULL: the defaults); no bounds
 * @param[out] result what happened (may be NULL): `rnorm` the misfit,
 *                    `arnorm` the gradient norm
 * @retval SJ_OK, SJ_ENULL, SJ_EINVAL (a bad option, bounds given),
 *         SJ_EMISMATCH (d or m not of F's spaces), SJ_EUSER
 */
int sj_solve_gauss_newton(sj_op_t F, sj_array_t d, sj_array_t m, const sj_solve_nl_options_t *opts,
                          sj_solve_result_t *result);

/**
 * @brief L-BFGS for `min ||F(m) - d||^2 / 2 + reg^2 ||m||^2 / 2`, with a line
 * search meeting the strong Wolfe conditions, and optional bounds by
 * projection.
 *
 * Collective; blocking. Each evaluation applies `F` and the adjoint of its
 * Jacobian (the gradient). Without bounds the line search brackets and zooms
 * (Nocedal and Wright, algorithms 3.5 and 3.6, `c1 = 1e-4`, `c2 = 0.9`).
 * With bounds each trial point is projected onto the box, the direction is
 * zeroed where a bound is active and the direction points out, and the step
 * is found by backtracking to the Armijo condition along the projected path;
 * a pair with `s'y <= 0` is not kept. A start outside the box is projected
 * onto it first.
 * @param[in] F       an operator
 * @param[in] d       data, an array of F's range
 * @param[in,out] m   starting model and answer, an array of F's domain
 * @param[in] opts    options (NULL: the defaults)
 * @param[out] result what happened (may be NULL)
 * @retval SJ_OK, SJ_ENULL, SJ_EINVAL (also `lower > upper` or a NaN bound
 *         somewhere), SJ_EMISMATCH (also bounds not of m's space and layout),
 *         SJ_EUSER
 */
int sj_solve_lbfgs(sj_op_t F, sj_array_t d, sj_array_t m, const sj_solve_nl_options_t *opts,
                   sj_solve_result_t *result);

/** @brief The name of a stop reason ("rtol", "breakdown", ...). Local. */
const char *sj_solve_reason_name(sj_solve_reason_t reason);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* STARJETS_SOLVE_H */
