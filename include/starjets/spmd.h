/**
 * @file starjets/spmd.h
 * @brief SPMD message passing with contexts (DistributedArrays.SPMD,
 * ipyparallel push / pull / scatter / gather), and running one function on one
 * rank (`@spawnat` + `fetch`) or on every rank (`@everywhere`).
 *
 * **SPMD.** sj_spmd_run() runs a function on the ranks of a *context*; inside
 * it, those ranks exchange messages: send, receive from one rank or from any,
 * barrier, broadcast, scatter and gather. Ranks inside a context are numbered
 * 0 .. size-1 (*context ranks*) in the order the context was made with.
 * Messages of different contexts never match each other, and a context keeps
 * a per-rank key-value storage between its runs.
 *
 * - sj_spmd_context_create(), sj_spmd_context_destroy() and sj_spmd_run() are
 *   **collective over all ranks** (every rank calls them in the same order,
 *   members or not).
 * - Messaging functions are called **inside a run** (from the function given
 *   to sj_spmd_run(), or code it calls), on a context that contains the
 *   calling rank. Point-to-point calls are local to the two ranks involved;
 *   barrier, broadcast, scatter and gather are collective over the context's
 *   ranks.
 * - Sends are *buffered*: sj_spmd_send() returns once @p buf may be reused,
 *   without waiting for the matching receive, so every rank may send first
 *   and receive after (the ring of the DistributedArrays example).
 * - Tags are 0 .. #SJ_SPMD_TAG_MAX. Between two ranks of one context,
 *   messages with the same tag arrive in the order they were sent.
 * - A receive must name the exact size of the message. A message of another
 *   size is consumed and dropped, and the receive returns SJ_ESIZE (its
 *   buffer may then hold part of the message).
 * - Broadcast, scatter, gather and barrier are binomial trees of
 *   point-to-point messages (log2(size) steps), never loops over ranks.
 *
 * Inside a run, do not call other collective starjets functions (array
 * operations, sj_wait(), another sj_spmd_run()): only the context's ranks run
 * the function, the others have returned already.
 *
 * **MPI thread level.** With `MPI_THREAD_MULTIPLE` (the default when
 * sj_init() starts MPI) messages are direct MPI calls from the application
 * thread on communicators of the context's own, beside StarPU-MPI's progress
 * thread. At `MPI_THREAD_SERIALIZED` (sj_mpi_thread_multiple() is 0) they go
 * through StarPU-MPI instead: every call works except sj_spmd_recv_any(),
 * which returns SJ_ENOTSUP, and each message costs a round trip through
 * StarPU-MPI's progress thread. See docs/spmd.md.
 *
 * **Spawn and everywhere.** sj_spawn() runs a function as a task on a given
 * rank and returns a future; sj_future_fetch() brings its result to a root.
 * sj_everywhere() runs a function on every rank at once.
 *
 * @defgroup spmd SPMD, spawn and everywhere
 * @{
 */
#ifndef STARJETS_SPMD_H
#define STARJETS_SPMD_H

#include <stddef.h>

#include <starjets/array.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* SPMD contexts and runs                                                   */
/* ======================================================================== */

/** An SPMD context: a set of ranks, their message space and their storage (opaque). */
typedef struct sj_spmd_context_s *sj_spmd_context_t;

/**
 * The function sj_spmd_run() runs on each rank of a context.
 *
 * @param[in] context the context of the run (use it for sj_spmd_rank() and the messages)
 * @param[in] arg the pointer given to sj_spmd_run() (this rank's own memory)
 * @return 0 on success; any other value makes sj_spmd_run() return SJ_EUSER
 *         on every rank of the context
 */
typedef int (*sj_spmd_fn_t)(sj_spmd_context_t context, void *arg);

/** Largest tag of a message (tags are 0 .. SJ_SPMD_TAG_MAX). */
#define SJ_SPMD_TAG_MAX ((1 << 24) - 1)

/** Largest message, in bytes (also the largest scatter / gather total). */
#define SJ_SPMD_SIZE_MAX ((size_t)0x7fffffff)

/**
 * @brief Make a context of @p nranks ranks (DistributedArrays' `context(pids)`).
 *
 * Collective over all ranks, with the same arguments everywhere; ranks that
 * are not in the context get a handle too (they pass it to the collective
 * calls and destroy it like the others).
 * @param[in] nranks number of ranks in @p ranks (>= 1); with @p ranks NULL,
 *                   0 or sj_nranks()
 * @param[in] ranks  the ranks (as sj_rank() numbers them), distinct, in the
 *                   order that gives their context ranks; NULL = all ranks in
 *                   order (context rank = rank)
 * @param[out] context   the new context
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p context is NULL
 * @retval SJ_ESIZE @p nranks < 1 or > sj_nranks(), or not 0 / sj_nranks() with
 *         @p ranks NULL
 * @retval SJ_ERANGE a rank out of [0, sj_nranks())
 * @retval SJ_EINVAL a rank listed twice
 * @retval SJ_ESTATE starjets not running, or called inside a run
 * @retval SJ_ENOTSUP MPI's tag range is smaller than #SJ_SPMD_TAG_MAX
 * @retval SJ_ERUNTIME MPI could not make the context's communicators
 * @see sj_spmd_context_destroy, sj_spmd_run
 */
int sj_spmd_context_create(int nranks, const int ranks[], sj_spmd_context_t *context);

/**
 * @brief Destroy a context: free its communicators and its storage, drop the
 * messages sent in it and never received.
 *
 * Collective over all ranks. NULL or `*context == NULL` is a no-op; sets `*context` to
 * NULL. Contexts still alive at sj_finalize() are destroyed there.
 * @retval SJ_OK, SJ_ESTATE (inside a run)
 */
int sj_spmd_context_destroy(sj_spmd_context_t *context);

/**
 * @brief Run @p fn on the ranks of @p context (DistributedArrays' `spmd(f, args;
 * context)`).
 *
 * Collective over all ranks; blocking. It first waits for every submitted task on
 * every rank (as sj_wait() does, without reporting their errors), so that array
 * blocks are quiescent and may be sent with sj_spmd_send_block(). Ranks outside the
 * context then return SJ_OK at once; the context's ranks run `fn(context, arg)` and,
 * after it returns, agree on its result (which also completes every send of the
 * run). StarPU's workers, which have nothing to run, are paused meanwhile so that
 * they leave the cores to @p fn; a task submitted inside @p fn (which the rules
 * above forbid) would not run.
 * @param[in] context the context; NULL = a temporary context of all ranks, made
 *                for this run and destroyed after it (its storage too)
 * @param[in] fn  the function
 * @param[in] arg passed to @p fn as is, not copied (each rank passes its own;
 *                @p fn runs before the call returns and may write results there)
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p fn is NULL
 * @retval SJ_ESTATE starjets not running, or called inside a run (runs do not nest)
 * @retval SJ_EUSER @p fn returned non-zero on some rank of the context (the
 *         sentence names the lowest such context rank and its return value)
 */
int sj_spmd_run(sj_spmd_context_t context, sj_spmd_fn_t fn, void *arg);

/**
 * @brief This rank's context rank in @p context. Local; callable outside runs.
 * @return the context rank (0 .. size-1), or a negative error: SJ_ENULL
 *         (@p context NULL), SJ_EINVAL (this rank is not in the context), SJ_ESTATE
 */
int sj_spmd_rank(sj_spmd_context_t context);

/**
 * @brief Number of ranks in @p context. Local; callable outside runs.
 * @return the size (>= 1), or a negative error: SJ_ENULL, SJ_ESTATE
 */
int sj_spmd_size(sj_spmd_context_t context);

/**
 * @brief The rank (sj_rank() numbering) of context rank @p rank. Local.
 * @return that rank, or a negative error: SJ_ENULL, SJ_ERANGE, SJ_ESTATE
 */
int sj_spmd_world_rank(sj_spmd_context_t context, int rank);

/**
 * @brief This rank's storage for @p key in @p context (DistributedArrays'
 * `context_local_storage()`).
 *
 * Local, on a rank of the context, inside or outside a run. The first call for
 * a key allocates @p size bytes filled with zeros; later calls (in the same or
 * a later run) return the same memory. It lives until the context is
 * destroyed (or sj_finalize()).
 * @param[in] context  the context
 * @param[in] key  a NUL-terminated name (copied)
 * @param[in] size bytes: > 0 to get or create the entry (an existing entry
 *                 must have this size); 0 to look up only (`*ptr` is NULL
 *                 when the key is absent)
 * @param[out] ptr the entry's memory
 * @retval SJ_OK, SJ_ENULL (context, key or ptr NULL), SJ_EINVAL (this rank is not
 *         in the context), SJ_ESIZE (the entry exists with another size),
 *         SJ_ENOMEM, SJ_ESTATE
 */
int sj_spmd_storage(sj_spmd_context_t context, const char *key, size_t size, void **ptr);

/* ---- point-to-point (inside a run) ------------------------------------- */

/**
 * @brief Send @p size bytes to context rank @p dest under @p tag (`sendto`).
 *
 * Local (point-to-point: only this rank and @p dest take part). Buffered: returns
 * once @p buf may be reused, whether or not @p dest has posted the receive. Sending
 * to oneself is allowed.
 * @param[in] context  the context
 * @param[in] dest the receiver's context rank
 * @param[in] tag  0 .. #SJ_SPMD_TAG_MAX
 * @param[in] buf  the bytes (may be NULL when @p size is 0)
 * @param[in] size bytes at @p buf
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p context NULL, or @p buf NULL with @p size > 0
 * @retval SJ_ERANGE @p dest out of [0, size)
 * @retval SJ_EINVAL @p tag < 0 or > #SJ_SPMD_TAG_MAX; this rank not in @p context
 * @retval SJ_ESIZE @p size > #SJ_SPMD_SIZE_MAX
 * @retval SJ_ESTATE not inside a run
 * @retval SJ_ERUNTIME MPI or StarPU-MPI failed
 */
int sj_spmd_send(sj_spmd_context_t context, int dest, int tag, const void *buf, size_t size);

/**
 * @brief Receive the next message from context rank @p src with @p tag
 * (`recvfrom`). Local (point-to-point); blocking: it waits until the message
 * arrives.
 * @param[in] context   the context
 * @param[in] src   the sender's context rank
 * @param[in] tag   the tag it was sent with
 * @param[out] buf  @p size bytes (may be NULL when @p size is 0)
 * @param[in] size  the message's exact size
 * @retval SJ_OK on success
 * @retval SJ_ERANGE @p src out of [0, size), -1 included (sj_spmd_recv_any()
 *         receives from any rank)
 * @retval SJ_ESIZE the message has another size (it is dropped)
 * @retval SJ_ESTATE also when @p src is this rank and no message to itself
 *         with @p tag is waiting (it could never arrive)
 * @retval others as sj_spmd_send()
 */
int sj_spmd_recv(sj_spmd_context_t context, int src, int tag, void *buf, size_t size);

/**
 * @brief Receive the next message with @p tag from any rank of the context
 * (`recvfrom_any`). Local (point-to-point); blocking: it waits until one
 * arrives.
 * @param[in] context  the context
 * @param[in] tag  the tag it was sent with
 * @param[out] buf @p size bytes (may be NULL when @p size is 0)
 * @param[in] size the message's exact size
 * @param[out] src the sender's context rank (may be NULL)
 * @retval SJ_ENOTSUP at `MPI_THREAD_SERIALIZED` (StarPU-MPI matches a
 *         receive with one source only)
 * @retval others as sj_spmd_recv()
 */
int sj_spmd_recv_any(sj_spmd_context_t context, int tag, void *buf, size_t size, int *src);

/**
 * @brief Send block @p block of @p array, which this rank owns, to @p dest.
 *
 * Local. The block's bytes (sj_array_block_info() gives the shape, column-
 * major) are sent as one message, received with sj_spmd_recv_block() or with
 * sj_spmd_recv() of the same size.
 * @retval SJ_ENULL (@p array NULL), SJ_ERANGE (block), SJ_EINVAL (block not
 *         owned here), SJ_ESTATE (the block is held by
 *         sj_array_localpart_get()), others as sj_spmd_send()
 */
int sj_spmd_send_block(sj_spmd_context_t context, int dest, int tag, sj_array_t array, int block);

/**
 * @brief Receive a message into block @p block of @p array, which this rank
 * owns (the message must have the block's size in bytes). Local.
 * @retval as sj_spmd_send_block() and sj_spmd_recv()
 */
int sj_spmd_recv_block(sj_spmd_context_t context, int src, int tag, sj_array_t array, int block);

/* ---- collectives over the context's ranks (inside a run) --------------- */

/*
 * Errors in collectives: a bad argument on one rank (a NULL buffer) and a
 * size that differs between ranks are found where they occur; that rank sends
 * a "failed" message instead of data down the tree (broadcast, scatter) or up
 * it (gather), so the ranks that depend on it fail with the same code instead
 * of waiting forever. Arguments every rank passes alike (root, count, element
 * size, tag range) are checked on every rank before any message.
 *
 * A function may return early (an error after a failed collective, say)
 * while other ranks are still in collectives: those collectives fail with
 * SJ_EUSER when they would wait for that rank, sj_spmd_run() returns SJ_EUSER
 * on every rank of the context, and the messages left over are dropped, so
 * the context's next run starts clean.
 */

/**
 * @brief Wait until every rank of @p context has reached the barrier (`barrier`).
 *
 * Collective over the context (binomial tree: up, then down).
 * @retval SJ_OK, SJ_ENULL, SJ_EINVAL (not in context), SJ_ESTATE, SJ_ERUNTIME
 */
int sj_spmd_barrier(sj_spmd_context_t context);

/**
 * @brief Copy @p size bytes from @p root's @p buf to @p buf on every rank of
 * @p context (`bcast`; ipyparallel's `push`).
 *
 * Collective over the context, same @p root and @p size everywhere.
 * @param[in] context     the context
 * @param[in] root    the context rank that sends
 * @param[in,out] buf @p size bytes on every rank (read on @p root, written elsewhere)
 * @param[in] size    bytes at @p buf
 * @retval SJ_OK on success
 * @retval SJ_ERANGE @p root out of [0, size)
 * @retval SJ_ENULL @p buf NULL with @p size > 0 (on that rank and the ranks
 *         below it in the tree)
 * @retval SJ_ESIZE @p size > #SJ_SPMD_SIZE_MAX, or sizes differ between ranks
 */
int sj_spmd_bcast(sj_spmd_context_t context, int root, void *buf, size_t size);

/**
 * @brief Cut @p root's @p count elements into equal parts, part `r` to context
 * rank `r` (`scatter`).
 *
 * Collective over the context, same @p root, @p count and @p elem_size
 * everywhere. Rank `r` receives elements `[r * count / size, (r + 1) * count /
 * size)` into @p recvbuf.
 * @param[in] context      the context
 * @param[in] root     the context rank that holds the elements
 * @param[in] sendbuf  @p count elements, read on @p root only (may be NULL elsewhere)
 * @param[out] recvbuf `count / size` elements
 * @param[in] count    elements on the root: **a multiple of the context size**
 * @param[in] elem_size bytes per element (>= 1)
 * @retval SJ_OK on success
 * @retval SJ_ESIZE @p count is not a multiple of the context size, @p elem_size
 *         is 0, or `count * elem_size` > #SJ_SPMD_SIZE_MAX (on every rank)
 * @retval SJ_ERANGE @p root out of range (on every rank)
 * @retval SJ_ENULL @p sendbuf NULL on the root (every rank of the context), or
 *         @p recvbuf NULL (that rank and those below it)
 */
int sj_spmd_scatter(sj_spmd_context_t context, int root, const void *sendbuf, void *recvbuf,
                    size_t count, size_t elem_size);

/**
 * @brief Collect `count / size` elements from each context rank, in rank
 * order, into @p root's @p recvbuf (`gather`; ipyparallel's `pull` of a list).
 *
 * Collective over the context; the mirror image of sj_spmd_scatter().
 * @param[in] context      the context
 * @param[in] root     the context rank that receives the elements
 * @param[in] sendbuf  `count / size` elements on every rank
 * @param[out] recvbuf @p count elements, written on @p root only (may be NULL elsewhere)
 * @param[in] count    elements on the root: a multiple of the context size
 * @param[in] elem_size bytes per element (>= 1)
 * @retval as sj_spmd_scatter(); a NULL @p sendbuf fails that rank and the
 *         ranks above it in the tree up to the root, a NULL @p recvbuf on the
 *         root fails the root only
 */
int sj_spmd_gather(sj_spmd_context_t context, int root, const void *sendbuf, void *recvbuf,
                   size_t count, size_t elem_size);

/* ======================================================================== */
/* Spawn / fetch and everywhere                                             */
/* ======================================================================== */

/** The result of sj_spawn(), to wait on and fetch (opaque). */
typedef struct sj_future_s *sj_future_t;

/**
 * A function run by sj_spawn() as a task on one rank.
 *
 * @param[in] arg      a copy of the bytes given to sj_spawn() (NULL when there are none)
 * @param[in] arg_size their number
 * @param[out] out     @p out_size bytes, zeroed, that sj_future_fetch() delivers
 *                     (NULL when @p out_size is 0)
 * @param[in] out_size bytes of @p out
 * @return 0 on success; non-zero makes sj_future_wait() and sj_future_fetch()
 *         return SJ_EUSER (not sj_wait(): the failure belongs to the future)
 */
typedef int (*sj_remote_fn_t)(const void *arg, size_t arg_size, void *out, size_t out_size);

/**
 * @brief Run @p fn on rank @p rank as a task and return at once (Distributed.jl
 * `@spawnat rank fn(arg)`, `remotecall`).
 *
 * Logically collective over all ranks, same arguments everywhere (only @p rank
 * reads @p arg); asynchronous: it submits one task and returns, with no message.
 * The task runs on one of @p rank's StarPU workers, after the tasks submitted
 * before it that it depends on (none: it uses no array), so @p fn must be
 * thread-safe with respect to other tasks and must not call starjets (sj_rank() and
 * sj_nranks() excepted).
 * @param[in] rank     the rank that runs @p fn
 * @param[in] fn       the function
 * @param[in] arg      @p arg_size bytes copied for @p fn (may be NULL when @p arg_size is 0)
 * @param[in] arg_size bytes of @p arg
 * @param[in] out_size bytes of the result (0 allowed; at most 2^31 - 9)
 * @param[out] future  the new future; destroy it with sj_future_destroy()
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p fn or @p future NULL, or @p arg NULL with @p arg_size > 0
 * @retval SJ_ERANGE @p rank out of [0, sj_nranks())
 * @retval SJ_ESIZE @p out_size or @p arg_size too large
 * @retval SJ_ESTATE starjets not running, or called inside an SPMD run
 */
int sj_spawn(int rank, sj_remote_fn_t fn, const void *arg, size_t arg_size, size_t out_size,
             sj_future_t *future);

/**
 * @brief Wait until the future's function has run.
 *
 * Collective over all ranks; blocking (the rank that ran it tells the others
 * its result).
 * @retval SJ_OK, SJ_ENULL, SJ_ESTATE
 * @retval SJ_EUSER the function returned non-zero (on every rank)
 */
int sj_future_wait(sj_future_t future);

/**
 * @brief Wait for the future and copy its result to @p out on @p root
 * (`fetch`, `remotecall_fetch`).
 *
 * Collective over all ranks; blocking. May be called several times, with any
 * roots. On SJ_EUSER @p out holds what the function wrote before failing.
 * @param[in] future the future of sj_spawn()
 * @param[in] root   the rank that receives the result
 * @param[out] out   `out_size` bytes, written on @p root only (may be NULL
 *                   elsewhere, and everywhere when `out_size` is 0)
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p future NULL, or @p out NULL on @p root (every rank fails)
 * @retval SJ_ERANGE @p root out of range
 * @retval SJ_EUSER the function returned non-zero (on every rank)
 * @retval SJ_ESTATE starjets not running, or inside an SPMD run
 */
int sj_future_fetch(sj_future_t future, int root, void *out);

/**
 * @brief Destroy a future once its task has run.
 *
 * Logically collective over all ranks (it releases the future's tags); does not
 * wait. NULL or `*future == NULL` is a no-op; sets `*future` to NULL. Futures still
 * alive at sj_finalize() are destroyed there.
 * @retval SJ_OK, SJ_ESTATE (inside a run)
 */
int sj_future_destroy(sj_future_t *future);

/**
 * A function sj_everywhere() runs on every rank.
 * @param[in] arg the pointer given to sj_everywhere() (each rank's own)
 * @return 0 on success, non-zero on failure
 */
typedef int (*sj_local_fn_t)(void *arg);

/**
 * @brief Run `fn(arg)` on every rank now, on the calling thread
 * (Distributed.jl `@everywhere`: load a table, set up per-rank state).
 *
 * Collective over all ranks; blocking: @p fn runs on the calling thread, then
 * the ranks agree on its result. It does not wait for submitted tasks: call
 * sj_wait() first if tasks in flight use what @p fn changes.
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p fn NULL (every rank)
 * @retval SJ_EUSER @p fn returned non-zero on some rank (every rank returns it)
 * @retval SJ_ESTATE starjets not running, or inside an SPMD run
 */
int sj_everywhere(sj_local_fn_t fn, void *arg);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_SPMD_H */
