/*
 * The task of sj_spawn() (SJ__K_SPAWN): its argument block. No StarPU here;
 * codelets/spawn_kernels.c holds the CPU function.
 */
#ifndef SJ_KERNELS_SPAWN_H
#define SJ_KERNELS_SPAWN_H

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

#endif /* SJ_KERNELS_SPAWN_H */
