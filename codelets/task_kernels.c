/*
 * CPU kernels of the task farm (a short run of items per task) and of the distributed
 * loop (one part of the range per task). Neither has data handles: the
 * argument block points to the memory they use and receives their outcome.
 */
#include <time.h>

#include "codelets.h"
#include "kernels/clock.h"
#include "kernels/task.h"

void sj__cpu_pmap_item(void *buffers[], void *cl_arg)
{
    (void)buffers;
    sj__item_args_t *a = cl_arg;
    const double t0 = sj__now();
    int64_t failed = 0;
    for (int64_t j = 0; j < a->count; j++) {
        const void *in = a->in_size ? a->in + (size_t)j * a->in_step : NULL;
        void *out = a->out_size ? a->out + (size_t)j * a->out_step : NULL;
        a->status[j] = a->fn(a->index + j * a->stride, in, out, a->ctx);
        failed += a->status[j] != 0;
    }
    a->failed = failed;
    a->seconds = sj__now() - t0;
}

void sj__cpu_preduce_part(void *buffers[], void *cl_arg)
{
    (void)buffers;
    sj__part_args_t *a = cl_arg;
    a->rc = 0;
    for (int64_t i = a->lo; i < a->hi; i++) {
        int rc = a->fold(a->acc, i, a->ctx);
        if (rc != 0) {
            a->rc = rc;
            a->fail_index = i;
            return;
        }
    }
}
