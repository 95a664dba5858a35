/* CPU (and CUDA) kernel functions of the codelets; only codelets/ sees them. */
#ifndef SJ_CODELETS_PRIVATE_H
#define SJ_CODELETS_PRIVATE_H

#include <starjets/array.h>
#include <starjets/scalar.h>

#include "kernels.h"

/* Most inputs a user map may take (plus its output). */
#define SJ__MAP_MAX_IN 8

void sj__cpu_fill(void *buffers[], void *cl_arg);
void sj__cpu_scale(void *buffers[], void *cl_arg);
void sj__cpu_axpby(void *buffers[], void *cl_arg);
void sj__cpu_mul(void *buffers[], void *cl_arg);
void sj__cpu_copy(void *buffers[], void *cl_arg);
void sj__cpu_rand(void *buffers[], void *cl_arg);
void sj__cpu_map(void *buffers[], void *cl_arg);
void sj__cpu_partial(void *buffers[], void *cl_arg);
void sj__cpu_combine(void *buffers[], void *cl_arg);
void sj__cpu_finish(void *buffers[], void *cl_arg);
void sj__cpu_scalar_binary(void *buffers[], void *cl_arg);
void sj__cpu_scalar_set(void *buffers[], void *cl_arg);
void sj__cpu_axpy_scalar(void *buffers[], void *cl_arg);
void sj__cpu_scale_scalar(void *buffers[], void *cl_arg);
void sj__cpu_gather(void *buffers[], void *cl_arg);
void sj__cpu_reduce_all(void *buffers[], void *cl_arg);

struct starpu_codelet;
/* The codelet of an operator kernel number (op_kernels.c). */
struct starpu_codelet *sj__codelet_dynamic(int kernel);

#endif /* SJ_CODELETS_PRIVATE_H */
