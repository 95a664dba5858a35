/*
 * The task of sj_spawn(): its argument block and its kernel. No StarPU here;
 * codelets/spawn_kernels.c holds the CPU function.
 */
#ifndef SJ_SPAWN_KERNELS_H
#define SJ_SPAWN_KERNELS_H

#include <stddef.h>

#include <starjets/spmd.h>

/*
 * Arguments of a spawn task, followed by arg_size bytes for the function.
 * Buffer 0 (W, owned by the rank that runs it): SJ__SPAWN_HEAD bytes holding
 * the function's return value as an int64_t, then out_size bytes of result.
 */
typedef struct sj__spawn_args {
    sj_remote_fn_t fn;
    size_t arg_size;
    size_t out_size;
} sj__spawn_args_t;

#define SJ__SPAWN_HEAD 8

/* The kernel number of the spawn codelet ("sj_spawn"), made on first use; -1 when out of memory. */
int sj__spawn_kernel(void);

#endif /* SJ_SPAWN_KERNELS_H */
