/**
 * @file starjets/scalar.h
 * @brief Scalars that live in the task graph (results of reductions).
 *
 * A scalar is one `double` of which every rank holds a copy, in a StarPU
 * handle of its own, computed by the same kernels from the same inputs (so the
 * copies have the same bits). Tasks on any rank read the local copy: scalar
 * arithmetic and the tasks that read a scalar never cross ranks, and an
 * iterative solver can chain reductions and updates without a global wait.
 * sj_scalar_value() turns it into a plain number. Every rank makes every call,
 * in the same order: sj_scalar_value() is collective (it waits, and the ranks
 * agree on task failures); the others are logically collective (each rank
 * submits the task on its own copy; no message).
 *
 * @defgroup scalar Graph scalars
 * @{
 */
#ifndef STARJETS_SCALAR_H
#define STARJETS_SCALAR_H

#include <starjets/array.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Binary operations on scalars. */
typedef enum sj_scalar_op {
    SJ_SCALAR_ADD = 1, /**< a + b */
    SJ_SCALAR_SUB = 2, /**< a - b */
    SJ_SCALAR_MUL = 3, /**< a * b */
    SJ_SCALAR_DIV = 4, /**< a / b */
} sj_scalar_op_t;

/**
 * @brief A scalar holding @p value.
 *
 * Logically collective; asynchronous (submits one task per rank).
 * @param[in] value   its value (the same on every rank)
 * @param[out] scalar the new scalar
 */
int sj_scalar_create(double value, sj_scalar_t *scalar);

/**
 * @brief `c = a op b`, computed by a task on every rank, on its copies.
 *
 * Logically collective; asynchronous. Division by zero follows IEEE arithmetic.
 * @param[in] op the operation
 * @param[in] a  the left operand
 * @param[in] b  the right operand
 * @param[out] c a new scalar
 */
int sj_scalar_binary(sj_scalar_op_t op, sj_scalar_t a, sj_scalar_t b, sj_scalar_t *c);

/**
 * @brief Wait for the scalar and return its value on every rank (blocking).
 *
 * Collective; blocking: each rank waits for its own copy (no message), then the
 * ranks agree on task failures.
 * @param[in] scalar   the scalar
 * @param[out] value   its value, the same bits on every rank
 * @retval SJ_EUSER when a user callback failed before (see sj_wait())
 * @retval SJ_ENULL when an argument is NULL
 */
int sj_scalar_value(sj_scalar_t scalar, double *value);

/**
 * @brief Destroy a scalar once the tasks that use it have run.
 *
 * Logically collective; does not wait.
 * NULL or `*scalar == NULL` is a no-op; sets `*scalar` to NULL.
 */
int sj_scalar_destroy(sj_scalar_t *scalar);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_SCALAR_H */
