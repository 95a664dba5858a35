/*
 * The internal runtime layer: the only interface through which src/array and
 * the other algorithm folders reach StarPU and MPI. No StarPU type appears here.
 *
 * Invariant kept by every algorithm: a handle that a task reads on another rank
 * (so that StarPU-MPI caches a copy there) is flushed (sj__rt_data_flush, on
 * all ranks) before it is written again. Array operations read blocks on
 * their owner only; graph scalars are final once made; a reduction partial is
 * read remotely only after its last combine; operator applies flush the input
 * blocks they read remotely once the whole apply is submitted (src/op). A
 * rank that a task does not involve therefore never holds a copy the task
 * would have to invalidate, which is what lets sj__rt_submit() skip it.
 *
 * Tags: a receive posted into one handle must never share (source, tag) with a
 * receive into another handle that may be posted out of program order; arrays
 * therefore move blocks to and from root buffers under a second tag per block.
 */
#ifndef SJ_RT_H
#define SJ_RT_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/ids.h"

/* A StarPU data handle, opaque to the algorithms. */
typedef struct sj__data_s *sj__data_t;

typedef enum sj__mode { SJ__R = 1, SJ__W = 2, SJ__RW = 3 } sj__mode_t;

typedef struct sj__buf {
    sj__data_t data;
    sj__mode_t mode;
} sj__buf_t;

/* ---- state -------------------------------------------------------------- */

int sj__rt_running(void);
/*
 * SJ_ESTATE naming @p func when starjets is not running or an sj_spmd_run
 * function runs on this rank: the first check of every collective and
 * logically collective public function, made before it books a tag, caches a
 * handle or submits anything, so that a refused call leaves nothing behind.
 * It also numbers the call, and in checking mode (SJ_CHECK_COLLECTIVES)
 * compares it with every rank's: a difference aborts the job with a sentence
 * per rank. The _key form adds the call's key arguments to the comparison
 * (printf format: "root=%d").
 */
int sj__rt_check_collective(const char *func);
int sj__rt_check_collective_key(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Number a collective call that does nothing (a destroy of NULL) when the runtime runs,
 * so that the ranks' numbers stay in step. */
void sj__rt_collective_noted(const char *func);
int sj__rt_rank(void);
int sj__rt_nranks(void);
/* Non-zero when the application thread may call MPI (MPI_THREAD_MULTIPLE). */
int sj__rt_direct_mpi(void);
/* sj_init_options_t.verbose (or SJ_VERBOSE) of the running sj_init; 0 when not running. */
int sj__rt_verbose(void);

/* ---- data --------------------------------------------------------------- */

/*
 * Register a block of @p n elements of @p elemsize bytes owned by @p owner under
 * @p tag (>= 1). On the owner, @p ptr is its memory (NULL: StarPU allocates it
 * when first written); elsewhere @p ptr is ignored.
 */
int sj__rt_data_register(sj__data_t *data, int owner, int64_t tag, void *ptr, size_t n,
                         size_t elemsize);
/*
 * Register a block that lives in memory the host gave (a wrapped array): on
 * the owner, @p ptr is the block's first element in the host's column-major
 * array, whose columns are ld[0] elements apart and planes ld[0] * ld[1]; the
 * block is dims[0] x dims[1] x dims[2]. Where that is not contiguous the
 * handle is a strided view, which kernels see staged as a contiguous vector
 * (registry.c). Elsewhere the handle is a contiguous placeholder, as for
 * sj__rt_data_register().
 */
int sj__rt_data_register_view(sj__data_t *data, int owner, int64_t tag, void *ptr,
                              const int64_t dims[3], const int64_t ld[2], size_t elemsize);
/*
 * Register a block like sj__rt_data_register() with NULL memory, but allocate
 * the owner's memory now (mem.c): charged to StarPU's memory limit
 * (STARPU_LIMIT_CPU_MEM) at once, given back when the handle is unregistered.
 * On the owner, SJ_ENOMEM (no sentence recorded, *data NULL) when it cannot be
 * allocated; elsewhere a placeholder. A negative @p tag makes a temporary of
 * this rank alone (as sj__rt_data_register_local). Use it for memory that a
 * call must know it has before it submits anything: StarPU itself, when a
 * task's buffer cannot be allocated, retries forever.
 */
int sj__rt_data_register_alloc(sj__data_t *data, int owner, int64_t tag, size_t n, size_t elemsize);
/*
 * SJ_OK when @p bytes could be allocated on this rank now (StarPU's limit,
 * after StarPU gave back its caches, and the host's malloc), else SJ_ENOMEM
 * (no sentence recorded). For temporaries that StarPU allocates later: a
 * check, not a reservation.
 */
int sj__rt_mem_probe(size_t bytes);
/* StarPU's limit on this rank's host memory in bytes (STARPU_LIMIT_CPU_MEM), -1 when none. */
int64_t sj__rt_mem_limit(void);
/* What that limit leaves (bytes; StarPU's caches count as used), -1 when there is no limit. */
int64_t sj__rt_mem_available(void);
/* Tests only: after @p after more allocations of sj__rt_data_register_alloc and
 * sj__rt_mem_probe on this rank, fail the next @p count (0: stop failing). */
void sj__rt_mem_fault_inject(long after, long count);
/* Register local memory (no owner, no tag): for temporaries seen by one rank. */
int sj__rt_data_register_local(sj__data_t *data, void *ptr, size_t n, size_t elemsize);
/* Unregister after the tasks using it have run; waits for them. */
void sj__rt_data_unregister(sj__data_t data);
/* Unregister once the tasks using it have run; does not wait. */
void sj__rt_data_unregister_submit(sj__data_t data);
/* Drop the copies other ranks hold (called on all ranks). */
void sj__rt_data_flush(sj__data_t data);
int sj__rt_data_owner(sj__data_t data);
/* Wait for the tasks that use the data and give its memory (on a rank holding a valid copy). */
void *sj__rt_data_acquire(sj__data_t data, sj__mode_t mode);
void sj__rt_data_release(sj__data_t data);
/* Acquires (sj__rt_data_acquire) not yet released on this rank. */
int sj__rt_data_held(void);

/* ---- point-to-point transfers of data (StarPU-MPI, ordered with tasks) --- */

/* Send @p data to @p dest under @p tag; the send is ordered after earlier tasks. */
void sj__rt_send_detached(sj__data_t data, int dest, int64_t tag);
/* Receive into @p data from @p src under @p tag; ordered like a task writing it. */
void sj__rt_recv_detached(sj__data_t data, int src, int64_t tag);

/* ---- tasks -------------------------------------------------------------- */

/* Most data buffers one task takes (sj__rt_submit, sj__rt_submit_local). */
#define SJ__RT_MAX_BUFS 32

/*
 * Submit kernel @p kernel on @p bufs (at most SJ__RT_MAX_BUFS; buffer 0 is the one written,
 * and the task runs on its owner). @p args (@p argsize bytes) are copied.
 * Ranks the task does not involve return at once; a task whose data all live
 * here skips StarPU-MPI.
 */
int sj__rt_submit(sj__kernel_t kernel, const void *args, size_t argsize, int nbufs,
                  const sj__buf_t *bufs);

/*
 * Run kernel @p kernel now, on the calling thread, instead of submitting a
 * task: it reads @p nin local handles (owned here; waits for the tasks that
 * write them) and writes @p out_n elements of @p out_elemsize bytes into the
 * plain memory @p out. For latency-bound steps on small data, where a task
 * would cost a worker wake-up and a wait of more than the kernel itself.
 */
int sj__rt_run_here(sj__kernel_t kernel, const void *args, void *out, size_t out_n,
                    size_t out_elemsize, int nin, const sj__data_t in[]);

/* Wait for all tasks on every rank (collective), then release deferred tags. */
int sj__rt_wait_all(void);

/* ---- kernels ------------------------------------------------------------- */

/*
 * The kernel number of the variant @p name of kernel @p family: the same body
 * under a codelet and performance model of its own (one per operator class
 * and direction, for instance), made on first use; the same name gives the
 * same number. With @p cuda (and a build with CUDA) the codelet also runs on
 * CUDA workers, through the family's CUDA body. SJ_ENOMEM with a sentence
 * when out of memory.
 */
int sj__rt_kernel_variant(sj__kernel_t family, const char *name, int cuda, sj__kernel_t *kernel);
/*
 * Start (@p path non-NULL) or stop the per-task JSON records of operator tasks
 * on this rank ("<path>.<rank>.jsonl"); SJ_EINVAL naming @p func when the file
 * cannot be opened.
 */
int sj__rt_op_records(const char *path, const char *func);

/* ---- errors raised inside tasks ----------------------------------------- */

/* Record that a task failed (thread-safe); the first message is kept. */
void sj__rt_task_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Collective: SJ_EUSER on every rank when a task failed on any, then clears. */
int sj__rt_check_task_errors(const char *func);
/*
 * sj__rt_check_task_errors() in two halves, for a caller that adds the ranks'
 * counts up in a collective of its own (a blocking reduction carries them in
 * its gather): take this rank's count (and clear it), then the verdict from
 * the sum over the ranks.
 */
typedef struct sj__task_errors {
    int local;     /* tasks that failed on this rank since the last check */
    char msg[256]; /* the first one's sentence */
} sj__task_errors_t;
int sj__rt_task_errors_take(sj__task_errors_t *e);
/* Give a taken count back (the collective that was to carry it failed). */
void sj__rt_task_errors_putback(const sj__task_errors_t *e);
int sj__rt_task_errors_verdict(const char *func, const sj__task_errors_t *e, int global);

/* ---- collectives and byte moves at any MPI thread level (coll.c) -------- */

/*
 * Blocking send and receive of bytes between the application threads of two
 * ranks. Messages between a pair of ranks arrive in the order they were
 * sent; a size of 0 sends nothing. Every rank makes these calls and the
 * collectives below in the same program order.
 */
int sj__rt_send(const void *buf, size_t size, int dest);
int sj__rt_recv(void *buf, size_t size, int src);
/* The root's bytes on every rank (collective). */
int sj__rt_bcast(void *buf, size_t size, int root);
/* Give every rank the root's *flag (collective), so that a check only the root can make fails on
 * all. */
int sj__rt_agree(int *flag, int root);
/* Every rank gets every rank's bytes, rank by rank (collective; sizes[r] known everywhere). */
int sj__rt_allgatherv(const void *mine, void *all, const size_t sizes[]);

typedef enum sj__rt_op { SJ__RT_SUM = 0, SJ__RT_MIN, SJ__RT_MAX } sj__rt_op_t;
/* Most integers one allreduce combines. */
#define SJ__RT_ALLREDUCE_MAX 16
/* Elementwise @p op of @p n integers over all ranks, on every rank (collective). */
int sj__rt_allreduce_i64(int64_t *values, int n, sj__rt_op_t op);
/* The same for sums of ints: @p values in place, or one @p value into @p sum. */
int sj__rt_sum_ints(int *values, int n);
int sj__rt_sum_int(int value, int *sum);
/*
 * One verdict for all ranks (collective): @p rc is this rank's own (its
 * sentence already recorded when < 0). A failed rank returns its @p rc; when
 * it succeeded but others did not, it returns @p code with the sentence
 * "<before> on N other rank(s)<after>".
 */
int sj__rt_agree_rc(const char *func, int rc, int code, const char *before, const char *after);
/*
 * Memory every rank allocates its part of, agreed (collective): @p alloc
 * (SJ_OK or a negative code with its sentence; called again, it goes on from
 * where it failed) runs on this rank, and one allreduce under @p op of
 * @p ok (it succeeded) or @p bad (it failed) gives *all. When *all is not
 * @p ok, each rank whose alloc failed waits for the work that can give memory
 * back (sj__rt_mem_drain) and calls alloc once more, and the ranks agree once
 * more: memory of a destroyed array that comes back a moment later is no
 * failure, and only the failure path pays. *mine: alloc's last result here.
 * Returns SJ_OK, or the agreement's error.
 */
int sj__rt_alloc_agreed(int (*alloc)(void *ctx), void *ctx, sj__rt_op_t op, int64_t ok, int64_t bad,
                        int *mine, int64_t *all);
/*
 * sj__rt_alloc_agreed() with the verdict of sj__rt_agree_rc(): a rank whose
 * alloc failed returns its code, the others SJ_ENOMEM with "<before> on N
 * other rank(s)<after>".
 */
int sj__rt_agree_alloc(const char *func, int (*alloc)(void *ctx), void *ctx, const char *before,
                       const char *after);
/*
 * Wait for this rank's tasks: the memory of destroyed arrays and temporaries
 * comes back when their last tasks are done (and StarPU's copies of other
 * ranks' blocks once flushed). Local; never while the program holds a block
 * (sj_array_localpart_get, sj_array_acquire), which tasks submitted after it
 * would wait for.
 */
void sj__rt_mem_drain(void);
/* Allgather of doubles with direct MPI: sj__rt_direct_mpi() only. */
int sj__rt_allgatherv_double(const double *send, int count, double *recv, const int counts[],
                             const int displs[]);
int sj__rt_barrier(void);

/* ---- tags --------------------------------------------------------------- */

/*
 * Book @p n consecutive tags. Every rank books and releases in the same order,
 * so the same object gets the same tags everywhere. Returns the first tag.
 */
int64_t sj__tag_book(int64_t n);
/*
 * Release tags: they become reusable after two later collective waits (see
 * tags.c for why a released tag cannot be reused at once).
 */
void sj__tag_release(int64_t first, int64_t n);
/* Advance the quarantine; called when no task is in flight on any rank. */
void sj__tag_recycle(void);
void sj__tag_reset(void);
int64_t sj__tag_booked(void);
/* Released tags still in quarantine. */
int64_t sj__tag_waiting(void);

#endif /* SJ_RT_H */
