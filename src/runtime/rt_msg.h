/*
 * Message channels for the SPMD layer (src/spmd): the runtime side of
 * sj_spmd_*, with no StarPU or MPI type in sight.
 *
 * A channel is the transport of one SPMD context: a set of members (ranks of
 * sj__rt.comm, in context order) and two lanes, USER (the program's tagged
 * messages) and COLL (the trees of the collectives, ordered by program order,
 * no tag; each message carries a flag: 0 = data, > 0 = "the sender failed
 * with error -flag", and then no payload).
 *
 * Two transports, chosen once by the MPI thread level:
 *  - MPI_THREAD_MULTIPLE: two communicators per channel (one per lane) split
 *    from sj__rt.comm; the application thread calls MPI itself. A send is an
 *    MPI_Isend completed before returning; a receive checks the mailbox,
 *    then posts an MPI_Irecv into the caller's buffer. Every wait drains the
 *    unexpected messages of every live channel into per-lane mailboxes, so a
 *    send blocked in a rendezvous is always released by its receiver,
 *    whatever that receiver waits for.
 *  - MPI_THREAD_SERIALIZED: detached StarPU-MPI sends and receives of
 *    temporary variable handles on sj__rt.comm, waited for on a condition,
 *    under tags of a range that the tag allocator never books (see msg.c).
 *    Each message is a header (size, tag, flag) then its payload. StarPU-MPI
 *    keeps messages that arrive before their receive as early data while a
 *    receive is posted; a large send posts one of its own while it waits, so
 *    sends complete without their receiver there too. Receiving from any
 *    source is not possible (StarPU-MPI matches a source).
 *
 * Receives name the exact size; a message of another size is consumed,
 * dropped, and reported as SJ_ESIZE (the buffer may then hold part of it). Every function records
 * its errors under the public function name @p func.
 */
#ifndef SJ_RT_MSG_H
#define SJ_RT_MSG_H

#include <stddef.h>

typedef struct sj__chan_s *sj__chan_t;

enum { SJ__LANE_USER = 0, SJ__LANE_COLL = 1, SJ__NLANES = 2 };

/* Receive from any member (USER lane, MPI_THREAD_MULTIPLE only). */
#define SJ__ANY_SOURCE (-1)

/*
 * Make a channel of @p n members (ranks of the runtime's communicator, in
 * channel order). Collective over all ranks with the same arguments, which
 * the caller has checked. Non-members get a channel too (sj__chan_rank() is
 * -1 there). @p max_tag is the largest USER tag the caller will use.
 */
int sj__chan_create(const char *func, int n, const int members[], int max_tag, sj__chan_t *chan);

/*
 * Destroy a channel, dropping the messages nobody received. Collective over
 * all ranks. At MPI_THREAD_SERIALIZED the members first exchange an end mark,
 * so that StarPU-MPI holds no early message of the channel afterwards.
 */
void sj__chan_destroy(sj__chan_t chan);

/* This rank's position in the channel, -1 when not a member. */
int sj__chan_rank(sj__chan_t chan);
/* The runtime rank of member @p i. */
int sj__chan_member(sj__chan_t chan, int i);

/* Non-zero when the transport can receive from any source. */
int sj__chan_any_source(void);

/*
 * Send @p size bytes to member @p dest on @p lane (USER: under @p tag;
 * COLL: @p tag is ignored and @p flag > 0 sends a failure mark without
 * payload). Returns once @p buf may be reused.
 */
int sj__msg_send(const char *func, sj__chan_t chan, int lane, int dest, int tag, int flag,
                 const void *buf, size_t size);

/*
 * Receive the next message from member @p src (or SJ__ANY_SOURCE) with @p tag
 * (USER lane; ignored on COLL) into @p buf (NULL: receive and drop). On
 * success *from is the sender and *flag its mark (COLL lane: > 0 when the
 * sender failed; the payload is then absent and @p buf untouched). Either
 * output may be NULL.
 */
int sj__msg_recv(const char *func, sj__chan_t chan, int lane, int src, int tag, void *buf,
                 size_t size, int *from, int *flag);

/*
 * Pause (@p on) or resume StarPU's workers. An SPMD run has no task to run
 * (it starts by waiting for them all), and Debian's StarPU workers spin while
 * idle: paused, they sleep and leave the cores to the application thread,
 * which measured 2 to 4 times the ping-pong bandwidth on 2 ranks sharing 2
 * cores (bench/sendrecv.c).
 */
void sj__msg_workers_pause(int on);

#endif /* SJ_RT_MSG_H */
