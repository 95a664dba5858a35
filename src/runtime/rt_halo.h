/*
 * Runtime support for halo exchange (src/array/halo.c): tasks with a
 * scheduling priority. No StarPU type here.
 */
#ifndef SJ_RT_HALO_H
#define SJ_RT_HALO_H

#include <stddef.h>

#include "runtime/rt.h"

/*
 * Submit kernel @p kernel on @p bufs, all of them handles this rank holds
 * (owned here, or filled by a receive posted here with sj__rt_recv_detached).
 * Unlike sj__rt_submit() any buffer may be written: the modes say which.
 * Among ready tasks, schedulers that support priorities (lws, the default;
 * prio, dmdas) run higher @p priority first; 0 is what sj__rt_submit() gives.
 * Others (eager, dmda) ignore it.
 * @p args (@p argsize bytes) are copied. At most SJ__RT_MAX_BUFS buffers.
 */
int sj__rt_submit_local(sj__kernel_t kernel, const void *args, size_t argsize, int priority,
                        int nbufs, const sj__buf_t *bufs);

#endif /* SJ_RT_HALO_H */
