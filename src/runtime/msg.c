/*
 * Message channels of the SPMD layer (see rt_msg.h): channels, mailboxes and
 * the direct MPI transport (MPI_THREAD_MULTIPLE). The StarPU-MPI transport
 * (MPI_THREAD_SERIALIZED) is in msg_starpu.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starpu.h>

#include "base/base.h"
#include "runtime/msg_private.h"
#include "runtime/rt_private.h"

/* Channels this rank is a member of: the MPI transport drains them all. */
static sj__chan_t live;
/* Channels made so far, identical on every rank (creation is collective). */
static int64_t nmade;

int sj__chan_rank(sj__chan_t c)
{
    return c->me;
}

int sj__chan_member(sj__chan_t c, int i)
{
    return c->world[i];
}

int sj__chan_any_source(void)
{
    return sj__rt.thread_multiple;
}

/* ---- mailboxes ------------------------------------------------------------ */

sj__msg_entry_t *sj__msg_entry_new(int src, int tag, int flag, size_t size)
{
    sj__msg_entry_t *e = malloc(sizeof *e + (size ? size : 1));
    if (!e)
        return NULL;
    e->next = NULL;
    e->src = src;
    e->tag = tag;
    e->flag = flag;
    e->size = size;
    return e;
}

void sj__msg_box_push(sj__msg_box_t *b, sj__msg_entry_t *e)
{
    e->next = NULL;
    if (b->tail)
        b->tail->next = e;
    else
        b->head = e;
    b->tail = e;
}

/* The oldest message from @p src (< 0: any) with @p tag (< 0: any), unlinked. */
sj__msg_entry_t *sj__msg_box_take(sj__msg_box_t *b, int src, int tag)
{
    sj__msg_entry_t *prev = NULL;
    for (sj__msg_entry_t *e = b->head; e; prev = e, e = e->next) {
        if ((src >= 0 && e->src != src) || (tag >= 0 && e->tag != tag))
            continue;
        if (prev)
            prev->next = e->next;
        else
            b->head = e->next;
        if (b->tail == e)
            b->tail = prev;
        e->next = NULL;
        return e;
    }
    return NULL;
}

static void box_clear(sj__msg_box_t *b)
{
    while (b->head) {
        sj__msg_entry_t *e = b->head;
        b->head = e->next;
        free(e);
    }
    b->tail = NULL;
}

/*
 * Hand a message (@p data, @p msize bytes; NULL when already in @p buf) to a
 * receive of @p size bytes into @p buf (NULL: drop it).
 */
int sj__msg_deliver(const char *func, int lane, int src, int tag, int flag, const void *data,
                    size_t msize, void *buf, size_t size, int *from, int *flagp)
{
    if (from)
        *from = src;
    if (flagp)
        *flagp = flag;
    if (flag)
        return SJ_OK;
    if (msize != size) {
        if (lane == SJ__LANE_USER)
            return sj__error(SJ_ESIZE, func,
                             "the message from context rank %d with tag %d has %zu bytes but the "
                             "receive expects %zu (the message is dropped)",
                             src, tag, msize, size);
        return sj__error(SJ_ESIZE, func,
                         "context rank %d sent %zu bytes where this rank expects %zu: the ranks "
                         "passed different sizes",
                         src, msize, size);
    }
    if (data && buf && size)
        memcpy(buf, data, size);
    return SJ_OK;
}

int sj__msg_deliver_entry(const char *func, int lane, sj__msg_entry_t *e, void *buf, size_t size,
                          int *from, int *flagp)
{
    int rc = sj__msg_deliver(func, lane, e->src, e->tag, e->flag, e->data, e->size, buf, size, from,
                             flagp);
    free(e);
    return rc;
}

/* ---- direct MPI transport ------------------------------------------------- */

/*
 * Waits test their own request at every poll and drain the other messages at
 * every DRAIN_EVERY-th: a drain is one MPI_Improbe per lane and live channel,
 * which would otherwise triple the time to notice a message that arrives.
 */
#define DRAIN_EVERY 16

static int mpi_fail(const char *func, const char *what, int err)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, s, &len) != MPI_SUCCESS)
        snprintf(s, sizeof s, "error %d", err);
    return sj__error(SJ_ERUNTIME, func, "%s failed: %s", what, s);
}

/* Receive a probed message into a new mailbox entry. */
static int mpi_store(const char *func, sj__chan_t c, int lane, MPI_Message *m, MPI_Status *st)
{
    int count = 0;
    MPI_Get_count(st, MPI_BYTE, &count);
    int tag = lane == SJ__LANE_USER ? st->MPI_TAG : 0;
    int flag = lane == SJ__LANE_USER ? 0 : st->MPI_TAG;
    sj__msg_entry_t *e = sj__msg_entry_new(st->MPI_SOURCE, tag, flag, (size_t)count);
    if (!e) {
        MPI_Mrecv(NULL, 0, MPI_BYTE, m, MPI_STATUS_IGNORE); /* consume it all the same */
        return sj__error(SJ_ENOMEM, func, "cannot keep a message of %d bytes", count);
    }
    int err = MPI_Mrecv(e->data, count, MPI_BYTE, m, MPI_STATUS_IGNORE);
    if (err != MPI_SUCCESS) {
        free(e);
        return mpi_fail(func, "MPI_Mrecv", err);
    }
    sj__msg_box_push(&c->box[lane], e);
    return SJ_OK;
}

/*
 * Move every message that has arrived on any live channel into its mailbox:
 * a sender blocked in a rendezvous (a large message) is released by whatever
 * its receiver is waiting for, as with buffered sends.
 */
static int mpi_drain(const char *func)
{
    for (sj__chan_t c = live; c; c = c->next)
        for (int lane = 0; lane < SJ__NLANES; lane++)
            for (;;) {
                int found = 0;
                MPI_Message m;
                MPI_Status st;
                int err = MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, c->comm[lane], &found, &m, &st);
                if (err != MPI_SUCCESS)
                    return mpi_fail(func, "MPI_Improbe", err);
                if (!found)
                    break;
                SJ_TRY(mpi_store(func, c, lane, &m, &st));
            }
    return SJ_OK;
}

static int mpi_send(const char *func, sj__chan_t c, int lane, int dest, int tag, int flag,
                    const void *buf, size_t size)
{
    MPI_Request r;
    int mtag = lane == SJ__LANE_USER ? tag : flag;
    int err = MPI_Isend(buf, (int)size, MPI_BYTE, dest, mtag, c->comm[lane], &r);
    if (err != MPI_SUCCESS)
        return mpi_fail(func, "MPI_Isend", err);
    for (unsigned poll = 1;; poll++) {
        int done = 0;
        err = MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        if (err != MPI_SUCCESS)
            return mpi_fail(func, "MPI_Test", err);
        if (done)
            return SJ_OK;
        if (poll % DRAIN_EVERY == 0 && (err = mpi_drain(func)) < 0) {
            /* the send must not outlive the caller's buffer */
            MPI_Cancel(&r);
            MPI_Wait(&r, MPI_STATUS_IGNORE);
            return err;
        }
    }
}

/* The receive posted by mpi_recv has completed with @p err and @p st. */
static int mpi_posted_done(const char *func, int lane, int src, int tag, int err, MPI_Status *st,
                           size_t size, int *from, int *flagp)
{
    int cls = err;
    if (err != MPI_SUCCESS)
        MPI_Error_class(err, &cls);
    if (cls == MPI_ERR_TRUNCATE) {
        if (lane == SJ__LANE_USER)
            return sj__error(SJ_ESIZE, func,
                             "the message from context rank %d with tag %d is larger than the %zu "
                             "bytes the receive expects (the message is dropped)",
                             st->MPI_SOURCE >= 0 ? st->MPI_SOURCE : src, tag, size);
        return sj__error(SJ_ESIZE, func,
                         "context rank %d sent more than the %zu bytes this rank expects: the "
                         "ranks passed different sizes",
                         src, size);
    }
    if (err != MPI_SUCCESS)
        return mpi_fail(func, "MPI_Test", err);
    int count = 0;
    MPI_Get_count(st, MPI_BYTE, &count);
    int flag = lane == SJ__LANE_USER ? 0 : st->MPI_TAG;
    return sj__msg_deliver(func, lane, st->MPI_SOURCE, lane == SJ__LANE_USER ? st->MPI_TAG : 0,
                           flag, NULL, (size_t)count, NULL, size, from, flagp);
}

/*
 * A receive is posted straight into the caller's buffer (after the mailbox
 * is checked), and the rank drains the other messages while it waits. A
 * message of another size still ends the receive: MPI truncates a longer one
 * (reported, with the error handler of the channel's communicators, as an
 * error) and counts a shorter one.
 */
static int mpi_recv(const char *func, sj__chan_t c, int lane, int src, int tag, void *buf,
                    size_t size, int *from, int *flagp)
{
    sj__msg_entry_t *e = sj__msg_box_take(&c->box[lane], src, lane == SJ__LANE_USER ? tag : -1);
    if (e)
        return sj__msg_deliver_entry(func, lane, e, buf, size, from, flagp);
    void *tmp = NULL;
    if (!buf && size) { /* the message is to be dropped */
        if (!(buf = tmp = malloc(size)))
            return sj__error(SJ_ENOMEM, func, "cannot allocate %zu bytes", size);
    }
    MPI_Request r;
    MPI_Status st;
    const int msrc = src < 0 ? MPI_ANY_SOURCE : src;
    const int mtag = lane == SJ__LANE_USER ? tag : MPI_ANY_TAG;
    int err = MPI_Irecv(buf, (int)size, MPI_BYTE, msrc, mtag, c->comm[lane], &r);
    int rc = err == MPI_SUCCESS ? SJ_OK : mpi_fail(func, "MPI_Irecv", err);
    for (unsigned poll = 1; rc == SJ_OK; poll++) {
        int done = 0;
        err = MPI_Test(&r, &done, &st);
        if (err != MPI_SUCCESS || done) {
            rc = mpi_posted_done(func, lane, src, tag, err, &st, size, from, flagp);
            break;
        }
        rc = poll % DRAIN_EVERY == 0 ? mpi_drain(func) : SJ_OK;
        if (rc < 0) {
            MPI_Cancel(&r);
            MPI_Wait(&r, MPI_STATUS_IGNORE);
        }
    }
    free(tmp);
    return rc;
}

/* ---- channels ------------------------------------------------------------- */

static void chan_free(sj__chan_t c)
{
    for (int lane = 0; lane < SJ__NLANES; lane++)
        box_clear(&c->box[lane]);
    free(c->world);
    free(c);
}

static int mpi_comms(const char *func, sj__chan_t c, int max_tag)
{
    int *ub = NULL, has = 0;
    MPI_Comm_get_attr(sj__rt.comm, MPI_TAG_UB, &ub, &has);
    if (has && ub && *ub < max_tag)
        return sj__error(SJ_ENOTSUP, func,
                         "this MPI allows tags up to %d only; starjets needs %d (SJ_SPMD_TAG_MAX)",
                         *ub, max_tag);
    int err = MPI_Comm_split(sj__rt.comm, c->me >= 0 ? 0 : MPI_UNDEFINED, c->me, &c->comm[0]);
    if (err != MPI_SUCCESS)
        return mpi_fail(func, "MPI_Comm_split", err);
    if (c->me < 0)
        return SJ_OK;
    err = MPI_Comm_dup(c->comm[0], &c->comm[1]);
    if (err != MPI_SUCCESS) {
        MPI_Comm_free(&c->comm[0]);
        return mpi_fail(func, "MPI_Comm_dup", err);
    }
    /* errors come back as codes: a message longer than its receive is an SJ_ESIZE */
    for (int lane = 0; lane < SJ__NLANES; lane++)
        MPI_Comm_set_errhandler(c->comm[lane], MPI_ERRORS_RETURN);
    return SJ_OK;
}

int sj__chan_create(const char *func, int n, const int members[], int max_tag, sj__chan_t *chan)
{
    *chan = NULL;
    sj__chan_t c = sj__calloc(1, sizeof *c);
    if (!c)
        return SJ_ENOMEM;
    c->n = n;
    c->me = -1;
    c->world = malloc((size_t)n * sizeof *c->world);
    if (!c->world) {
        free(c);
        return sj__error(SJ_ENOMEM, func, "cannot allocate a context of %d ranks", n);
    }
    for (int i = 0; i < n; i++) {
        c->world[i] = members[i];
        if (members[i] == sj__rt.rank)
            c->me = i;
    }
    c->tagbase = SJ__MSG_TAG_BASE + 4 * ++nmade;
    for (int lane = 0; lane < SJ__NLANES; lane++)
        c->comm[lane] = MPI_COMM_NULL;
    int rc = SJ_OK;
    if (sj__rt.thread_multiple)
        rc = mpi_comms(func, c, max_tag);
    if (rc < 0) {
        chan_free(c);
        return rc;
    }
    if (c->me >= 0) {
        c->next = live;
        if (live)
            live->prev = c;
        live = c;
    }
    *chan = c;
    return SJ_OK;
}

void sj__chan_destroy(sj__chan_t c)
{
    if (!c)
        return;
    if (c->me >= 0) {
        if (sj__rt.thread_multiple) {
            for (int lane = 0; lane < SJ__NLANES; lane++)
                if (c->comm[lane] != MPI_COMM_NULL)
                    MPI_Comm_free(&c->comm[lane]);
        } else {
            sj__msg_spu_close(c);
        }
        if (c->prev)
            c->prev->next = c->next;
        else
            live = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    chan_free(c);
}

/* ---- messages ------------------------------------------------------------- */

int sj__msg_send(const char *func, sj__chan_t c, int lane, int dest, int tag, int flag,
                 const void *buf, size_t size)
{
    if (lane == SJ__LANE_USER)
        flag = 0;
    else
        tag = 0;
    if (flag)
        size = 0;
    if (dest == c->me) {
        /* to oneself: straight into the mailbox */
        sj__msg_entry_t *e = sj__msg_entry_new(dest, tag, flag, size);
        if (!e)
            return sj__error(SJ_ENOMEM, func, "cannot keep a message of %zu bytes", size);
        if (size)
            memcpy(e->data, buf, size);
        sj__msg_box_push(&c->box[lane], e);
        return SJ_OK;
    }
    if (sj__rt.thread_multiple) {
        sj__wd_enter("an SPMD message (send)");
        int rc = mpi_send(func, c, lane, dest, tag, flag, buf, size);
        sj__wd_leave();
        return rc;
    }
    return sj__msg_spu_send(func, c, lane, dest, tag, flag, buf, size);
}

int sj__msg_recv(const char *func, sj__chan_t c, int lane, int src, int tag, void *buf, size_t size,
                 int *from, int *flag)
{
    if (src == c->me) {
        /* from oneself: only the mailbox can have it */
        sj__msg_entry_t *e = sj__msg_box_take(&c->box[lane], src, lane == SJ__LANE_USER ? tag : -1);
        if (!e)
            return sj__error(SJ_ESTATE, func,
                             "no message from this rank to itself%s is waiting: it would wait "
                             "forever",
                             lane == SJ__LANE_USER ? " with this tag" : "");
        return sj__msg_deliver_entry(func, lane, e, buf, size, from, flag);
    }
    if (sj__rt.thread_multiple) {
        sj__wd_enter("an SPMD message (receive)");
        int rc = mpi_recv(func, c, lane, src, tag, buf, size, from, flag);
        sj__wd_leave();
        return rc;
    }
    return sj__msg_spu_recv(func, c, lane, src, tag, buf, size, from, flag);
}

void sj__msg_workers_pause(int on)
{
    sj__rt.in_run = on;
    if (on)
        starpu_pause();
    else
        starpu_resume();
}
