/*
 * Shared by the files of the SPMD message channels (msg.c: channels,
 * mailboxes and the direct MPI transport; msg_starpu.c: the StarPU-MPI
 * transport). Runtime-internal: it names MPI types.
 */
#ifndef SJ_MSG_PRIVATE_H
#define SJ_MSG_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "runtime/rt_msg.h"

/*
 * StarPU-MPI tags: the listener's (msg_starpu.c), then for channel number
 * k >= 1 SJ__MSG_TAG_BASE + 4 k + 2 * lane (headers) and + 1 (payloads). The tag
 * allocator stops below 2^62 and data.c's control messages use 2^62: this
 * range, from 3 * 2^61, is used by no one else.
 */
#define SJ__MSG_TAG_BASE ((int64_t)3 << 61)

/* Header flag of the end mark exchanged when a channel is destroyed. */
#define SJ__MSG_FLAG_END (-1)

/* A message received before anyone asked for it. */
typedef struct sj__msg_entry {
    struct sj__msg_entry *next;
    int src, tag, flag;
    size_t size;
    unsigned char data[];
} sj__msg_entry_t;

typedef struct sj__msg_box {
    sj__msg_entry_t *head, *tail;
} sj__msg_box_t;

struct sj__chan_s {
    int n, me;
    int *world;                /* member -> rank of sj__rt.comm */
    int64_t tagbase;           /* StarPU-MPI transport */
    MPI_Comm comm[SJ__NLANES]; /* MPI transport, members only */
    sj__msg_box_t box[SJ__NLANES];
    struct sj__chan_s *prev, *next;
};

/* ---- mailboxes (msg.c) ---- */

sj__msg_entry_t *sj__msg_entry_new(int src, int tag, int flag, size_t size);
void sj__msg_box_push(sj__msg_box_t *b, sj__msg_entry_t *e);
/* The oldest message from @p src (< 0: any) with @p tag (< 0: any), unlinked. */
sj__msg_entry_t *sj__msg_box_take(sj__msg_box_t *b, int src, int tag);
/*
 * Hand a message (@p data, @p msize bytes; NULL when already in @p buf) to a
 * receive of @p size bytes into @p buf (NULL: drop it).
 */
int sj__msg_deliver(const char *func, int lane, int src, int tag, int flag, const void *data,
                    size_t msize, void *buf, size_t size, int *from, int *flagp);
/* The same for a mailbox entry, which it frees. */
int sj__msg_deliver_entry(const char *func, int lane, sj__msg_entry_t *e, void *buf, size_t size,
                          int *from, int *flagp);

/* ---- StarPU-MPI transport (msg_starpu.c) ---- */

int sj__msg_spu_send(const char *func, sj__chan_t c, int lane, int dest, int tag, int flag,
                     const void *buf, size_t size);
int sj__msg_spu_recv(const char *func, sj__chan_t c, int lane, int src, int tag, void *buf,
                     size_t size, int *from, int *flagp);
/* Exchange end marks with every member and drop what came before them. */
void sj__msg_spu_close(sj__chan_t c);

#endif /* SJ_MSG_PRIVATE_H */
