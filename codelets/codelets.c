/*
 * The one registration point: a StarPU codelet per kernel, each with a
 * history-based performance model (used by the dm* schedulers and shown in
 * traces under the codelet's name).
 */
#include <string.h>

#include <starpu.h>

#include "codelets_private.h"
#include "runtime/rt_private.h"

static const struct {
    const char *name;
    sj__cpu_fn_t cpu;
} table[SJ__NKERNELS] = {
    [SJ__K_FILL] = {"sj_fill", sj__cpu_fill},
    [SJ__K_SCALE] = {"sj_scale", sj__cpu_scale},
    [SJ__K_AXPBY] = {"sj_axpby", sj__cpu_axpby},
    [SJ__K_MUL] = {"sj_mul", sj__cpu_mul},
    [SJ__K_COPY] = {"sj_copy", sj__cpu_copy},
    [SJ__K_RAND] = {"sj_rand", sj__cpu_rand},
    [SJ__K_MAP] = {"sj_map", sj__cpu_map},
    [SJ__K_PARTIAL] = {"sj_reduce_block", sj__cpu_partial},
    [SJ__K_COMBINE] = {"sj_reduce_combine", sj__cpu_combine},
    [SJ__K_FINISH] = {"sj_reduce_finish", sj__cpu_finish},
    [SJ__K_SCALAR_BINARY] = {"sj_scalar_binary", sj__cpu_scalar_binary},
    [SJ__K_AXPY_SCALAR] = {"sj_axpy_scalar", sj__cpu_axpy_scalar},
    [SJ__K_SCALE_SCALAR] = {"sj_scale_scalar", sj__cpu_scale_scalar},
    [SJ__K_SCALAR_SET] = {"sj_scalar_set", sj__cpu_scalar_set},
    [SJ__K_GATHER] = {"sj_reduce_gather", sj__cpu_gather},
    [SJ__K_REDUCE_ALL] = {"sj_reduce_all", sj__cpu_reduce_all},
};

static struct starpu_codelet codelets[SJ__NKERNELS];
static struct starpu_perfmodel models[SJ__NKERNELS];

void sj__codelets_init(void)
{
    for (int k = 0; k < SJ__NKERNELS; k++) {
        struct starpu_codelet *cl = &codelets[k];
        starpu_codelet_init(cl);
        cl->where = STARPU_CPU;
        cl->cpu_funcs[0] = table[k].cpu;
        cl->cpu_funcs_name[0] = table[k].name;
        cl->nbuffers = STARPU_VARIABLE_NBUFFERS;
        cl->name = table[k].name;
        memset(&models[k], 0, sizeof models[k]);
        models[k].type = STARPU_HISTORY_BASED;
        models[k].symbol = table[k].name;
        cl->model = &models[k];
    }
}

struct starpu_codelet *sj__codelet(sj__kernel_t kernel)
{
    if ((int)kernel >= SJ__NKERNELS)
        return sj__codelet_dynamic((int)kernel);
    return &codelets[kernel];
}
