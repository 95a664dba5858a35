/*
 * Memory that starjets allocates itself, before anything is submitted, so that
 * running out of memory is an error of the call that asked for it instead of a
 * task that StarPU 1.3 can never run: when a task's buffer cannot be
 * allocated, StarPU evicts what it can and then retries the request forever
 * (datawizard/data_request.c), so a block left to StarPU's lazy allocation
 * that does not fit hangs the job.
 *
 * A block registered through sj__rt_data_register_alloc() gets its memory
 * here, from starpu_malloc_flags() with STARPU_MALLOC_COUNT: StarPU's memory
 * limit (STARPU_LIMIT_CPU_MEM) is charged at once, StarPU reclaims its own
 * caches to make room, and a failure (the limit, or the host's malloc) is
 * returned. The handle keeps a record of that memory in its user data, and
 * the unregister functions (data.c) give it back once StarPU is done with it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <starpu_mpi.h>

#include "base/base.h"
#include "runtime/rt_private.h"

typedef struct owned {
    unsigned magic;
    void *ptr;
    size_t bytes;
    int flags;
} owned_t;

#define OWNED_MAGIC 0x5a4a4d45u

/* ---- fault injection (tests only) --------------------------------------------- */

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static long fault_after = -1; /* allocations left before the failures start; -1: none */
static long fault_count;      /* failures still to make */

void sj__rt_mem_fault_inject(long after, long count)
{
    pthread_mutex_lock(&fault_lock);
    fault_after = count > 0 ? after : -1;
    fault_count = count;
    pthread_mutex_unlock(&fault_lock);
}

static int fault_now(void)
{
    pthread_mutex_lock(&fault_lock);
    int fail = 0;
    if (fault_after == 0 && fault_count > 0) {
        fail = 1;
        if (--fault_count == 0)
            fault_after = -1;
    } else if (fault_after > 0) {
        fault_after--;
    }
    pthread_mutex_unlock(&fault_lock);
    return fail;
}

/* ---- allocation --------------------------------------------------------------- */

static int host_flags(void)
{
    /* pinned where CUDA workers run (StarPU skips it otherwise), counted against the limit */
    return STARPU_MALLOC_PINNED | STARPU_MALLOC_COUNT;
}

static int mem_get(size_t bytes, int flags, void **ptr)
{
    *ptr = NULL;
    if (fault_now())
        return SJ_ENOMEM;
    if (starpu_malloc_flags(ptr, bytes, flags) != 0 || !*ptr) {
        *ptr = NULL;
        return SJ_ENOMEM;
    }
    return SJ_OK;
}

int sj__rt_mem_probe(size_t bytes)
{
    if (bytes == 0)
        return SJ_OK;
    void *p;
    /* not pinned: a probe must not cost a cudaHostAlloc, and is never touched */
    SJ_TRY(mem_get(bytes, STARPU_MALLOC_COUNT, &p));
    starpu_free_flags(p, bytes, STARPU_MALLOC_COUNT);
    return SJ_OK;
}

int64_t sj__rt_mem_limit(void)
{
    const starpu_ssize_t total = starpu_memory_get_total(STARPU_MAIN_RAM);
    return total > 0 ? (int64_t)total : -1;
}

int64_t sj__rt_mem_available(void)
{
    return (int64_t)starpu_memory_get_available(STARPU_MAIN_RAM);
}

/* ---- StarPU's own allocations ------------------------------------------------- */

/*
 * What StarPU allocates itself in host memory (the copy of another rank's
 * block that a task reads, a redistribution's staging, a block evicted from
 * a GPU) is charged to the limit as before, but never waits for it: StarPU
 * 1.3 would retry such an allocation forever when nothing can be reclaimed,
 * and the task that needs it, with every rank waiting on it, would hang. The
 * rank goes over its limit by the copies of the calls in flight instead; the
 * next allocation of starjets' own sees it and first waits for them to be
 * given back (sj__rt_alloc_agreed). The home memory of blocks, temporaries
 * and strips is starjets' (mem_get), checked against the limit.
 */
void sj__rt_mem_start(void)
{
    for (unsigned node = 0; node < starpu_memory_nodes_get_count(); node++)
        if (starpu_node_get_kind(node) == STARPU_CPU_RAM)
            starpu_malloc_on_node_set_default_flags(
                node, STARPU_MALLOC_PINNED | STARPU_MALLOC_COUNT | STARPU_MEMORY_OVERFLOW);
}

/* MemAvailable of /proc/meminfo in bytes, -1 when unknown. */
static int64_t node_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return -1;
    char line[128];
    long long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lld kB", &kib) == 1)
            break;
    fclose(f);
    return kib < 0 ? -1 : (int64_t)kib << 10;
}

void sj__rt_mem_report(char *buf, size_t size)
{
    const int64_t limit = sj__rt_mem_limit(), node = node_available();
    const int64_t used = limit >= 0 ? limit - sj__rt_mem_available() : 0;
    const int at_limit = limit >= 0 && used > limit - limit / 32; /* less than 1/32 of it left */
    /* a node with less than 1/32 of its memory left is out of it for practical purposes */
    const int64_t total = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    const int node_low = node >= 0 && total > 0 && node < total / 32;
    char mine[96] = "StarPU has no memory limit";
    if (limit >= 0)
        snprintf(mine, sizeof mine, "%lld MiB used of StarPU's limit of %lld MiB",
                 (long long)(used >> 20), (long long)(limit >> 20));
    snprintf(buf, size, "%smemory: %s, %lld MiB available on the node%s",
             at_limit || node_low ? "OUT OF MEMORY: " : "", mine, (long long)(node >> 20),
             at_limit   ? " (a copy StarPU must make may wait for memory: docs/reliability.md, "
                          "Running out of memory)"
             : node_low ? " (an allocation of StarPU's may wait for memory: docs/reliability.md, "
                          "Running out of memory)"
                        : "");
}

/* ---- a second try after memory came back -------------------------------------- */

void sj__rt_mem_drain(void)
{
    if (sj__rt_data_held() > 0)
        return;
    /* Enough for the memory of destroyed blocks (given back in unregister_when_idle,
     * the callback of an acquire that StarPU counts as a task) and for StarPU's own
     * temporaries and flushed copies (into its cache, which starpu_malloc_flags
     * reclaims). Deadlock-free: every rank is in the same collective call, so
     * every task this rank waits for was submitted, and its counterparts on the
     * other ranks too; the messages they wait for are moved by the ranks'
     * StarPU-MPI threads, not by their application threads. */
    sj__wd_enter("this rank's tasks, for the memory they give back (an allocation that "
                 "failed is tried again once they are done)");
    starpu_task_wait_for_all();
    sj__wd_leave();
}

int sj__rt_alloc_agreed(int (*alloc)(void *ctx), void *ctx, sj__rt_op_t op, int64_t ok, int64_t bad,
                        int *mine, int64_t *all)
{
    int rc = alloc(ctx);
    int64_t v = rc < 0 ? bad : ok;
    SJ_TRY(sj__rt_allreduce_i64(&v, 1, op));
    if (v != ok) {
        if (rc < 0) {
            sj__rt_mem_drain();
            rc = alloc(ctx);
        }
        v = rc < 0 ? bad : ok;
        SJ_TRY(sj__rt_allreduce_i64(&v, 1, op));
    }
    *mine = rc;
    *all = v;
    return SJ_OK;
}

int sj__rt_data_register_alloc(sj__data_t *data, int owner, int64_t tag, size_t n, size_t elemsize)
{
    *data = NULL;
    starpu_data_handle_t h;
    if (owner != sj__rt.rank) {
        starpu_vector_data_register(&h, -1, 0, (uint32_t)n, elemsize);
    } else {
        owned_t *o = calloc(1, sizeof *o);
        if (!o)
            return SJ_ENOMEM;
        o->magic = OWNED_MAGIC;
        o->bytes = n * elemsize;
        o->flags = host_flags();
        if (mem_get(o->bytes, o->flags, &o->ptr) < 0) {
            free(o);
            return SJ_ENOMEM;
        }
        starpu_vector_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)o->ptr, (uint32_t)n, elemsize);
        starpu_data_set_user_data(h, o);
    }
    /* a negative tag: a temporary of this rank alone, which StarPU-MPI never matches */
    starpu_mpi_data_register_comm(h, tag < 0 ? -1 : tag, owner, sj__rt.comm);
    sj__rt.handles++;
    *data = sj__d(h);
    return SJ_OK;
}

static owned_t *owned_of(starpu_data_handle_t h)
{
    owned_t *o = starpu_data_get_user_data(h);
    return o && o->magic == OWNED_MAGIC ? o : NULL;
}

static void owned_free(owned_t *o)
{
    starpu_free_flags(o->ptr, o->bytes, o->flags);
    o->magic = 0;
    free(o);
}

int sj__rt_mem_unregister(starpu_data_handle_t h)
{
    owned_t *o = owned_of(h);
    if (!o)
        return 0;
    /* Waits for the tasks that use it; not coherent: a block being given up
     * need not come back from a GPU to the memory about to be freed. */
    starpu_data_unregister_no_coherency(h);
    owned_free(o);
    return 1;
}

/*
 * Holding the block for writing, every task and transfer that uses it is done
 * and none can start: the unregistration is queued behind this hold, then the
 * hold released. That unregistration is lazy and not coherent, so it never
 * touches the home memory again, which can go now.
 */
static void unregister_when_idle(void *arg)
{
    starpu_data_handle_t h = arg;
    owned_t *o = owned_of(h);
    starpu_data_set_user_data(h, NULL);
    starpu_data_unregister_submit(h);
    starpu_data_release_on_node(h, STARPU_ACQUIRE_NO_NODE);
    owned_free(o);
}

int sj__rt_mem_unregister_submit(starpu_data_handle_t h)
{
    if (!owned_of(h))
        return 0;
    starpu_data_acquire_on_node_cb(h, STARPU_ACQUIRE_NO_NODE, STARPU_W, unregister_when_idle, h);
    return 1;
}
