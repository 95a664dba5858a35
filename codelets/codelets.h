/*
 * The kernel bodies, as the runtime's registry (src/runtime/registry.c) sees
 * them: one CPU function per kernel of kernels/ids.h, with StarPU's codelet
 * signature (the task's buffers, its argument bytes). A body that fails
 * records a sentence with sj__kernel_fail(); the runtime takes it with
 * sj__kernel_failure() after the body returns and reports the task failed.
 *
 * codelets/ is the bottom layer: it includes StarPU, the public headers and
 * the kernel contracts of src/kernels, never a runtime or base header.
 */
#ifndef SJ_CODELETS_H
#define SJ_CODELETS_H

#include <stddef.h>

/* A CPU kernel body: StarPU's buffers and the task's argument bytes. */
typedef void (*sj__cpu_fn_t)(void *buffers[], void *cl_arg);

/* arrays and reductions (array_kernels.c, reduce_kernels.c) */
void sj__cpu_fill(void *buffers[], void *cl_arg);
void sj__cpu_scale(void *buffers[], void *cl_arg);
void sj__cpu_axpby(void *buffers[], void *cl_arg);
void sj__cpu_mul(void *buffers[], void *cl_arg);
void sj__cpu_copy(void *buffers[], void *cl_arg);
void sj__cpu_rand(void *buffers[], void *cl_arg);
void sj__cpu_map(void *buffers[], void *cl_arg);
void sj__cpu_boxcopy(void *buffers[], void *cl_arg);
void sj__cpu_partial(void *buffers[], void *cl_arg);
void sj__cpu_combine(void *buffers[], void *cl_arg);
void sj__cpu_finish(void *buffers[], void *cl_arg);
void sj__cpu_scalar_binary(void *buffers[], void *cl_arg);
void sj__cpu_scalar_set(void *buffers[], void *cl_arg);
void sj__cpu_axpy_scalar(void *buffers[], void *cl_arg);
void sj__cpu_scale_scalar(void *buffers[], void *cl_arg);
void sj__cpu_gather(void *buffers[], void *cl_arg);
void sj__cpu_reduce_all(void *buffers[], void *cl_arg);
void sj__cpu_axpy_dot(void *buffers[], void *cl_arg);
/* stencils (halo_kernels.c) */
void sj__cpu_halo_pack(void *buffers[], void *cl_arg);
void sj__cpu_stencil(void *buffers[], void *cl_arg);
void sj__cpu_halo_gate(void *buffers[], void *cl_arg);
/* task farms and remote calls (task_kernels.c, spawn_kernels.c) */
void sj__cpu_pmap_item(void *buffers[], void *cl_arg);
void sj__cpu_preduce_part(void *buffers[], void *cl_arg);
void sj__cpu_spawn(void *buffers[], void *cl_arg);
/* operator leaves (op_kernels.c) */
void sj__cpu_op(void *buffers[], void *cl_arg);

/*
 * The CUDA body of built-in kernel @p kernel (a kernels/ids.h number), or
 * NULL when it has none (codelets/cuda_kernels.cu; in builds with
 * SJ_USE_CUDA only). Same signature as the CPU bodies; the buffers are
 * device copies.
 */
sj__cpu_fn_t sj__cuda_body(int kernel);
/*
 * The CUDA body of a family whose tasks call the user's CUDA function (user
 * maps, stencils, operator leaves), or NULL. Only the variants made with a
 * CUDA function get it (sj__rt_kernel_variant with cuda): a task of the
 * family's own codelet may carry none, and stays on CPUs.
 */
sj__cpu_fn_t sj__cuda_user_body(int family);
/*
 * For a kernel whose CUDA body takes some of its tasks only, the test of a
 * task's argument bytes (non-zero: it may run on a CUDA worker); NULL when
 * every task may (cuda_kernels.cu). RAND: uniform numbers, not normal ones.
 */
typedef int (*sj__cuda_cond_t)(const void *args);
sj__cuda_cond_t sj__cuda_condition(int kernel);
/* CUDA bodies defined outside cuda_kernels.cu (CUDA builds only). */
void sj__cuda_map(void *buffers[], void *cl_arg);       /* map_cuda.cu */
void sj__cuda_op(void *buffers[], void *cl_arg);        /* op_cuda.cu */
void sj__cuda_boxcopy(void *buffers[], void *cl_arg);   /* halo_cuda.cu */
void sj__cuda_halo_pack(void *buffers[], void *cl_arg); /* halo_cuda.cu */
void sj__cuda_stencil(void *buffers[], void *cl_arg);   /* halo_cuda.cu */

/* Record that the running body failed (this thread; the first sentence is kept). */
void sj__kernel_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Non-zero when the body that just ran on this thread failed: its sentence is
 * copied into @p why (@p size bytes) and cleared.
 */
int sj__kernel_failure(char *why, size_t size);

/*
 * Start (@p path non-NULL: append to "<path>.<rank>.jsonl") or stop the
 * per-task JSON records of operator tasks. Returns 0, or -1 when the file
 * cannot be opened (records stay off).
 */
int sj__op_records(const char *path, int rank);

#endif /* SJ_CODELETS_H */
