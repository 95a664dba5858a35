/*
 * The operator-leaf kernel (SJ__K_OP in kernels/ids.h, one named variant per
 * operator class and direction) as src/op fills it. No StarPU here.
 */
#ifndef SJ_KERNELS_OP_H
#define SJ_KERNELS_OP_H

#include <starjets/op.h>

#include "kernels/ids.h"

enum { SJ__OPDIR_FORWARD = 0, SJ__OPDIR_ADJOINT = 1, SJ__OPDIR_JACOBIAN = 2 };

/*
 * Arguments of an operator leaf task, followed by info.params_size bytes.
 * Buffers: [0] out (W, or RW when beta != 0), [1] in, then the state when
 * has_state, then the Jacobian point when has_point.
 */
typedef struct sj__opargs {
    sj_op_fn_t fn;      /* on a CPU worker */
    sj_op_fn_t fn_cuda; /* on a CUDA worker (device pointers), or NULL */
    int dir;            /* SJ__OPDIR_* */
    double alpha, beta;
    int has_state, has_point;
    sj_op_info_t info; /* pointers are filled in by the kernel */
    char name[32];
} sj__opargs_t;

#endif /* SJ_KERNELS_OP_H */
