/**
 * @file starjets/ops.h
 * @brief The operator library: standard leaf operators (JetPack's counterparts).
 *
 * Every constructor is **collective** and makes a leaf operator owned by rank
 * @p owner (its state is stored there and its tasks run there). Arguments named as
 * state (`d`, `matrix`, `b`, `idx`) are read on the owner only; other ranks may
 * pass NULL (the owner tells every rank whether they were given, which is why the
 * constructors are collective). Values are in the space's element type (`double`
 * for SJ_FLOAT64, `float` for SJ_FLOAT32) unless the signature says `double`.
 * Arrays are column-major; `dim` counts from 0. Each linear operator has forward
 * and adjoint kernels; each nonlinear one has forward, Jacobian and
 * Jacobian-adjoint kernels.
 *
 * @defgroup ops Operator library
 * @{
 */
#ifndef STARJETS_OPS_H
#define STARJETS_OPS_H

#include <stdint.h>

#include <starjets/op.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- linear -------------------------------------------------------------- */

/** @brief `y = d .* x` (JopDiagonal). @p d has the space's length. Collective. */
int sj_op_diagonal(sj_space_t space, int owner, const void *d, sj_op_t *op);

/**
 * @brief A dense matrix `M` (`rows x cols`, column-major, rows = range length /
 * k, cols = domain length / k), applied with BLAS (JopMatrix).
 *
 * When the domain is a 2-D `(cols, k)` space and the range a 2-D `(rows, k)`
 * space, the operator acts on the `k` columns at once (`gemm`); otherwise on
 * vectors (`gemv`, k = 1).
 *
 * Collective.
 */
int sj_op_dense(sj_space_t domain, sj_space_t range, int owner, const void *matrix, sj_op_t *op);

/** @brief The zero operator (JopZeroBlock): a block operator skips it. Collective. */
int sj_op_zero(sj_space_t domain, sj_space_t range, int owner, sj_op_t *op);

/** @brief The identity. Collective. */
int sj_op_identity(sj_space_t space, int owner, sj_op_t *op);

/** @brief `y = a x` as a leaf. Collective. */
int sj_op_scaled_identity(sj_space_t space, int owner, double a, sj_op_t *op);

/**
 * @brief Forward difference along @p dim (JopDifference):
 * `y[i] = x[i+1] - x[i]` for `i < n - 1`, `y[n-1] = 0`, along that dimension.
 *
 * Collective.
 */
int sj_op_difference(sj_space_t space, int owner, int dim, sj_op_t *op);

/**
 * @brief Centred first derivative along @p dim with spacing @p h (JopDerivative):
 * `y[i] = (x[i+1] - x[i-1]) / (2 h)` with zero values outside the array.
 *
 * Collective.
 */
int sj_op_derivative(sj_space_t space, int owner, int dim, double h, sj_op_t *op);

/**
 * @brief Restriction (JopRestriction): `y[k] = x[idx[k]]` for `k < n`; the
 * adjoint scatters (and adds repeated indices). @p idx are linear column-major
 * indices into the domain (checked on the owner). The range is 1-D of @p n.
 *
 * Collective.
 */
int sj_op_restriction(sj_space_t domain, int owner, int64_t n, const int64_t *idx, sj_op_t *op);

/**
 * @brief Zero padding (JopPad): the domain is placed in the larger range at
 * offset @p lo (one per dimension of the range); the rest is zero. Both spaces
 * have the same number of dimensions.
 *
 * Collective.
 */
int sj_op_pad(sj_space_t domain, sj_space_t range, int owner, const int64_t lo[], sj_op_t *op);

/**
 * @brief Truncation (window): the range is the box of the domain starting at
 * @p lo. The adjoint of sj_op_pad() with the same box.
 *
 * Collective.
 */
int sj_op_truncate(sj_space_t domain, sj_space_t range, int owner, const int64_t lo[], sj_op_t *op);

/** @brief Reshape: same elements, another shape (the lengths must agree). Collective. */
int sj_op_reshape(sj_space_t domain, sj_space_t range, int owner, sj_op_t *op);

/**
 * @brief Cosine taper along @p dim (JopTaper): weights rise from 0 to 1 over the
 * first @p nlo samples and fall from 1 to 0 over the last @p nhi.
 *
 * Collective.
 */
int sj_op_taper(sj_space_t space, int owner, int dim, int64_t nlo, int64_t nhi, sj_op_t *op);

/** @brief Circular shift by @p shift[d] along each dimension (JopCircShift). Collective. */
int sj_op_circshift(sj_space_t space, int owner, const int64_t shift[], sj_op_t *op);

/**
 * @brief Sum along dimension @p dim (stack reduction); the adjoint spreads
 * (copies) along it (JopSpread's adjoint pair). The range is the domain's
 * shape without @p dim (a 1-D space of 1 element for a 1-D domain), given as
 * @p range and checked.
 *
 * Collective.
 */
int sj_op_sum_dim(sj_space_t domain, sj_space_t range, int owner, int dim, sj_op_t *op);

/* ---- nonlinear (elementwise) --------------------------------------------- */

/** @brief `y = exp(x)` (JopExp). Collective. */
int sj_op_exp(sj_space_t space, int owner, sj_op_t *op);

/** @brief `y = log(x)` (JopLog); a non-positive input gives NaN like C's log. Collective. */
int sj_op_log(sj_space_t space, int owner, sj_op_t *op);

/** @brief `y = tanh(x)`. Collective. */
int sj_op_tanh(sj_space_t space, int owner, sj_op_t *op);

/** @brief `y = 1 / (1 + exp(-x))` (JopSigmoid). Collective. */
int sj_op_sigmoid(sj_space_t space, int owner, sj_op_t *op);

/** @brief `y = x^p` (JopPow), elementwise, real @p p. Collective. */
int sj_op_power(sj_space_t space, int owner, double p, sj_op_t *op);

/** @brief `y = x + b` (JopShift); @p b has the space's length. Collective. */
int sj_op_shift(sj_space_t space, int owner, const void *b, sj_op_t *op);

/**
 * @brief Smooth clamp to `[lo, hi]` with transition width @p width > 0:
 * `y = lo + w log(1 + e^((x-lo)/w)) - w log(1 + e^((x-hi)/w))`.
 *
 * Collective.
 */
int sj_op_clamp(sj_space_t space, int owner, double lo, double hi, double width, sj_op_t *op);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* STARJETS_OPS_H */
