/* Prioritised local task submission for halo exchange (see rt_halo.h). */
#include <stdlib.h>
#include <string.h>

#include <starpu.h>

#include "base/base.h"
#include "runtime/rt_halo.h"
#include "runtime/rt_private.h"

int sj__rt_submit_local(sj__kernel_t kernel, const void *args, size_t argsize, int priority,
                        int nbufs, const sj__buf_t *bufs)
{
    SJ__RT_NOT_IN_RUN();
    if (nbufs < 1 || nbufs > SJ__RT_MAX_BUFS)
        return sj__error(SJ_EINVAL, "starjets", "a task takes 1 to %d buffers, not %d",
                         SJ__RT_MAX_BUFS, nbufs);
    struct starpu_data_descr descr[SJ__RT_MAX_BUFS];
    for (int i = 0; i < nbufs; i++) {
        descr[i].handle = sj__h(bufs[i].data);
        descr[i].mode = bufs[i].mode == SJ__R   ? STARPU_R
                        : bufs[i].mode == SJ__W ? STARPU_W
                                                : STARPU_RW;
    }
    void *copy = malloc(argsize ? argsize : 1);
    if (!copy)
        return sj__error(SJ_ENOMEM, "starjets", "cannot allocate task arguments");
    if (argsize)
        memcpy(copy, args, argsize);
    /* starpu_task_insert, not the MPI variant: every datum is here already, and
     * the transfers of received data are ordered by their own receives. */
    int ret = starpu_task_insert(sj__codelet(kernel), STARPU_DATA_MODE_ARRAY, descr, nbufs,
                                 STARPU_CL_ARGS, copy, argsize, STARPU_PRIORITY, priority,
                                 STARPU_CALLBACK, sj__trace_callback(), 0);
    if (ret != 0)
        return sj__error(SJ_ERUNTIME, "starjets", "task submission failed (%d)", ret);
    sj__registry_submitted(kernel);
    if (sj__rt.synchronous)
        starpu_task_wait_for_all();
    return SJ_OK;
}
