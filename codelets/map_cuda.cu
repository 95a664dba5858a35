/*
 * The CUDA body of user maps (SJ__K_MAP variants made by
 * sj_array_map_kernel with a CUDA function): the user's function gets the
 * blocks' device copies and launches its own kernels on the worker's stream.
 */
#include <starpu.h>

extern "C" {
#include "codelets/codelets.h"
#include "kernels/array.h"
}

namespace
{

void *dev_ptr(void *iface)
{
    return *(const enum starpu_data_interface_id *)iface == STARPU_BLOCK_INTERFACE_ID
               ? (void *)STARPU_BLOCK_GET_PTR(iface)
               : (void *)STARPU_VECTOR_GET_PTR(iface);
}

} /* namespace */

extern "C" void sj__cuda_map(void *buffers[], void *cl_arg)
{
    sj__kargs_t *a = (sj__kargs_t *)cl_arg;
    const void *in[SJ__MAP_MAX_IN];
    for (int i = 0; i < a->nin; i++)
        in[i] = dev_ptr(buffers[1 + i]);
    void *ctx = a->ctx_size ? (char *)a + sizeof *a : (void *)a->ctx_as_is;
    int rc = a->fn_cuda(&a->blk, dev_ptr(buffers[0]), in, ctx);
    if (rc != 0)
        sj__kernel_fail("user block function (CUDA) returned %d on block %d", rc, a->blk.block);
}
