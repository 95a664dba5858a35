/*
 * Kernels of the operator library (include/starjets/ops.h): one leaf class per
 * operator, and the parameter blocks the constructors (src/op/library.c) give
 * them. Pure C, no StarPU: the kernels are sj_op_fn_t functions that the core
 * runs as tasks on the operator's owner.
 *
 * Conventions: data are column-major; `info->dom_*` and `info->rng_*` always
 * describe the operator's domain and range (also in the adjoint, where `in` is
 * range-sized and `out` domain-sized). Large state (a diagonal, a matrix, the
 * shift `b`, restriction indices) arrives in `info->state`; the point `m0` of a
 * nonlinear Jacobian in `info->point`.
 */
#ifndef SJ_OP_LIBRARY_CLASSES_H
#define SJ_OP_LIBRARY_CLASSES_H

#include <stdint.h>

#include <starjets/op.h>

#include "kernels/oplib.h"

/* The parameter blocks (info->params) are in kernels/oplib.h, shared with the CUDA functions. */

/* ---- classes ------------------------------------------------------------- */

/* linear; state: the diagonal (dom_n elements) */
extern const sj_op_class_t sj__opclass_diagonal;
/* linear; params sj__opp_dense_t; state: the matrix (rows * cols elements) */
extern const sj_op_class_t sj__opclass_dense;
/* linear; writes zeros */
extern const sj_op_class_t sj__opclass_zero;
/* linear; copies (identity and reshape) */
extern const sj_op_class_t sj__opclass_identity;
extern const sj_op_class_t sj__opclass_reshape;
/* linear; params sj__opp_scalar_t */
extern const sj_op_class_t sj__opclass_scaling;
/* linear; params sj__opp_axis_t */
extern const sj_op_class_t sj__opclass_difference;
extern const sj_op_class_t sj__opclass_derivative;
extern const sj_op_class_t sj__opclass_sum_dim;
/* linear; params sj__opp_restriction_t; state: rng_n int64_t indices into the domain
 * (then their order when some repeat) */
extern const sj_op_class_t sj__opclass_restriction;
/* linear; params sj__opp_box_t (offset of the domain in the range / of the range in the domain) */
extern const sj_op_class_t sj__opclass_pad;
extern const sj_op_class_t sj__opclass_truncate;
/* linear; params sj__opp_taper_t; state: the weights along dim (dims[dim] elements) */
extern const sj_op_class_t sj__opclass_taper;
/* linear; params sj__opp_box_t (the shift per dimension) */
extern const sj_op_class_t sj__opclass_circshift;

/* nonlinear, elementwise */
extern const sj_op_class_t sj__opclass_exp;
extern const sj_op_class_t sj__opclass_log;
extern const sj_op_class_t sj__opclass_tanh;
extern const sj_op_class_t sj__opclass_sigmoid;
/* params sj__opp_scalar_t (the exponent) */
extern const sj_op_class_t sj__opclass_power;
/* state: b (dom_n elements) */
extern const sj_op_class_t sj__opclass_shift;
/* params sj__opp_clamp_t */
extern const sj_op_class_t sj__opclass_clamp;

#endif /* SJ_OP_LIBRARY_CLASSES_H */
