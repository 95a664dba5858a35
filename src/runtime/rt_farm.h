/*
 * What the task farm and the distributed loop (src/task) need from StarPU and
 * MPI beyond rt.h: a pool of independent local tasks whose completions the
 * application thread collects, a private channel of point-to-point messages
 * for the farm's requests and replies, and byte collectives that work at any
 * MPI thread level. No StarPU or MPI type appears here.
 */
#ifndef SJ_RT_FARM_H
#define SJ_RT_FARM_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/ids.h"

/* ---- local tasks without data handles ------------------------------------ */

/* A set of tasks run on this rank's CPU workers, collected by cookie. */
typedef struct sj__pool_s *sj__pool_t;

int sj__pool_create(sj__pool_t *pool);
/*
 * Submit a task of @p kernel whose argument block is @p args (NOT copied: it
 * must stay valid until the task's cookie came back from sj__pool_wait).
 */
int sj__pool_submit(sj__pool_t pool, sj__kernel_t kernel, void *args, int64_t cookie);
/*
 * Wait up to @p timeout seconds (0: do not wait) until a task has finished;
 * store up to @p max cookies of finished tasks in @p cookies and return how
 * many (0 when none finished in time).
 */
int sj__pool_wait(sj__pool_t pool, int64_t *cookies, int max, double timeout);
/*
 * The application thread serves a farm: a loop of short waits (for its items,
 * for messages), watched by the watchdog (SJ_WATCHDOG) as one wait from begin
 * to end, during which each finished item counts as progress. @p what names
 * it in the watchdog's report. Not nested with other watched waits of the
 * application thread, except the collectives the farm itself makes.
 */
void sj__farm_watch_begin(const char *what);
void sj__farm_watch_end(void);
/* Tasks submitted whose cookie has not been returned yet. */
int64_t sj__pool_pending(sj__pool_t pool);
/* Wait for every task of the pool, then free it. NULL is a no-op. */
void sj__pool_destroy(sj__pool_t *pool);

/* CPU workers of this rank (at least 1 while starjets runs). */
int sj__rt_cpu_workers(void);

/*
 * Set the calling thread's timer slack to @p ns nanoseconds (how late a
 * timed sleep may end) and return the previous value; -1 where the system
 * has no such setting (nothing changes then). @p ns <= 0 only reads it.
 */
long sj__farm_timer_slack(long ns);
/*
 * Keep the calling thread on the cores of this rank's workers while it
 * serves a farm, so that its polls never take the core of another rank's
 * busy worker; NULL when nothing changed (the workers are not pinned to
 * fewer cores than the process may use, or not Linux).
 * sj__farm_unconfine() gives the thread its cores back and frees the token.
 */
void *sj__farm_confine(void);
void sj__farm_unconfine(void *token);

/* ---- the farm's message channel (direct MPI: sj__rt_direct_mpi() only) ---- */

/* Point-to-point messages on a communicator of the channel's own. */
typedef struct sj__farm_chan_s *sj__farm_chan_t;

/* Collective: a communicator of the channel's own: the one the last clean
 * farm left, or a duplicate of starjets' communicator. (The collectives of
 * this file wait by polling with short sleeps, not by spinning in MPI.) */
int sj__farm_chan_open(sj__farm_chan_t *chan);
/*
 * A 64-byte aligned buffer of @p size bytes for a message, NULL when no
 * memory is left. Buffers come back from a cache of recently freed ones: a
 * farm moves messages of the same sizes again and again, and fresh memory
 * for each (mapping, page faults, zeroing) costs more than the copy into it.
 */
void *sj__farm_chan_buf(size_t size);
/* Give back a buffer of sj__farm_chan_buf(). NULL is a no-op. */
void sj__farm_chan_buf_free(void *buf);
/*
 * Send @p size bytes at @p buf (from sj__farm_chan_buf()) to @p dest without
 * waiting; the channel frees @p buf once the message is gone. On failure
 * @p buf is freed too.
 */
int sj__farm_chan_send(sj__farm_chan_t chan, int dest, void *buf, size_t size);
/* The same for a message of at most 64 bytes, copied (the caller keeps @p buf). */
int sj__farm_chan_send_small(sj__farm_chan_t chan, int dest, const void *buf, size_t size);
/*
 * Send @p size bytes of the caller's memory without a copy, as the data of
 * the message just sent to @p dest: @p buf must stay untouched until
 * sj__farm_chan_close(). Data travel apart from messages (sj__farm_chan_probe never
 * sees them); the receiver takes them with sj__farm_chan_recv_data() once it has
 * the message they follow.
 */
int sj__farm_chan_send_data(sj__farm_chan_t chan, int dest, const void *buf, size_t size);
/* The same from a buffer of sj__farm_chan_buf(), which the channel frees once sent (or on failure).
 */
int sj__farm_chan_send_data_buf(sj__farm_chan_t chan, int dest, void *buf, size_t size);
/*
 * 1 when a message from @p src (-1: any rank) waits, with its sender and size;
 * 0 when none; negative on an MPI failure. Also moves pending sends along.
 */
int sj__farm_chan_probe(sj__farm_chan_t chan, int src, int *from, size_t *size);
/* Receive the message sj__farm_chan_probe announced. */
int sj__farm_chan_recv(sj__farm_chan_t chan, int from, void *buf, size_t size);
/* Receive the @p size bytes of data that follow the last message from @p from. */
int sj__farm_chan_recv_data(sj__farm_chan_t chan, int from, void *buf, size_t size);
/* Take and throw away the message sj__farm_chan_probe() announced (no memory for it). */
int sj__farm_chan_drop(sj__farm_chan_t chan, int from);
/* Take and throw away the data that follow the last message from @p from. */
int sj__farm_chan_drop_data(sj__farm_chan_t chan, int from);
/*
 * Collective: wait for the pending sends, then free the communicator, or,
 * when @p clean (every message of the farm was received; the same on every
 * rank), keep it for the next sj__farm_chan_open(). NULL is a no-op.
 */
void sj__farm_chan_close(sj__farm_chan_t *chan, int clean);
/* Free the kept communicator and the cached buffers (sj_finalize, before MPI stops). */
void sj__farm_fini(void);

#endif /* SJ_RT_FARM_H */
