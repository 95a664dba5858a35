/*
 * The StarPU-MPI transport of the SPMD message channels, used at
 * MPI_THREAD_SERIALIZED, when only StarPU-MPI's thread may call MPI (see
 * rt_msg.h and docs/spmd.md).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <starpu_mpi.h>

#include "base/base.h"
#include "runtime/msg_private.h"
#include "runtime/rt_private.h"

/* What the StarPU-MPI transport sends before each payload. */
typedef struct hdr {
    int64_t size;
    int32_t tag;
    int32_t flag;
} hdr_t;

/* The listener's tag (see sj__msg_spu_send), below every channel's. */
#define LISTEN_TAG SJ__MSG_TAG_BASE

/* Payloads above this many bytes may exceed MPI's eager limit (see sj__msg_spu_send). */
#define LISTEN_ABOVE 1024

/*
 * Requests are detached, and the application thread waits on a condition
 * that their callbacks signal: starpu_mpi_wait() would make StarPU-MPI's
 * progress thread block in MPI_Wait, and two ranks sending each other a
 * message above the eager limit would then wait for each other forever.
 */
typedef struct pending {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int left;
} pending_t;

static void pending_init(pending_t *p)
{
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->left = 0;
}

static void pending_done(void *arg)
{
    pending_t *p = arg;
    pthread_mutex_lock(&p->lock);
    p->left--;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void pending_wait(pending_t *p)
{
    sj__wd_enter("SPMD messages (sj_spmd_send / recv)");
    pthread_mutex_lock(&p->lock);
    while (p->left > 0)
        pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    sj__wd_leave();
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
}

static int64_t hdr_tag(sj__chan_t c, int lane)
{
    return c->tagbase + 2 * lane;
}

static int spu_fail(const char *func, const char *what, int ret)
{
    return sj__error(SJ_ERUNTIME, func, "%s failed (%d)", what, ret);
}

/* Start sending @p size bytes at @p mem under @p tag; *h is the handle to unregister. */
static int spu_isend(pending_t *p, starpu_data_handle_t *h, const void *mem, size_t size, int to,
                     int64_t tag)
{
    /* StarPU only reads the memory of a handle that is sent */
    starpu_variable_data_register(h, STARPU_MAIN_RAM, (uintptr_t)mem, size);
    p->left++;
    int ret = starpu_mpi_isend_detached(*h, to, tag, sj__rt.comm, pending_done, p);
    if (ret != 0)
        p->left--;
    return ret;
}

/*
 * StarPU-MPI 1.3 takes in the envelopes of incoming messages only while the
 * application has a receive posted. A payload above MPI's eager limit is then
 * sent only once its receiver posts a receive, and two ranks that send each
 * other such a message before receiving would wait forever. So a large send
 * keeps a receive posted here while it waits (the *listener*, from this rank
 * to itself under LISTEN_TAG): this rank's progress thread then keeps the
 * messages that arrive as early data, and its peer's send completes. The
 * listener is satisfied afterwards by a one-byte message to itself.
 */
int sj__msg_spu_send(const char *func, sj__chan_t c, int lane, int dest, int tag, int flag,
                     const void *buf, size_t size)
{
    hdr_t hdr = {flag ? 0 : (int64_t)size, tag, flag};
    starpu_data_handle_t hh, hp = NULL, hl = NULL, hs = NULL;
    const int to = c->world[dest], listen = hdr.size > LISTEN_ABOVE;
    char heard = 0, say = 1;
    pending_t p, l;
    pending_init(&p);
    pending_init(&l);
    if (listen) {
        starpu_variable_data_register(&hl, STARPU_MAIN_RAM, (uintptr_t)&heard, 1);
        l.left = 1;
        if (starpu_mpi_irecv_detached(hl, sj__rt.rank, LISTEN_TAG, sj__rt.comm, pending_done, &l))
            l.left = 0;
    }
    int ret = spu_isend(&p, &hh, &hdr, sizeof hdr, to, hdr_tag(c, lane));
    if (ret == 0 && hdr.size > 0)
        ret = spu_isend(&p, &hp, buf, size, to, hdr_tag(c, lane) + 1);
    pending_wait(&p);
    if (listen && l.left) {
        pending_t q;
        pending_init(&q);
        spu_isend(&q, &hs, &say, 1, sj__rt.rank, LISTEN_TAG);
        pending_wait(&q);
    }
    pending_wait(&l);
    if (hs)
        starpu_data_unregister(hs);
    if (hl)
        starpu_data_unregister(hl);
    if (hp)
        starpu_data_unregister(hp);
    starpu_data_unregister(hh);
    return ret == 0 ? SJ_OK : spu_fail(func, "StarPU-MPI send", ret);
}

/* Receive @p size bytes into @p mem from member @p src: its header (part 0) or payload (1). */
static int spu_recv_part(const char *func, sj__chan_t c, int lane, int src, int part, void *mem,
                         size_t size)
{
    starpu_data_handle_t h;
    pending_t p;
    pending_init(&p);
    starpu_variable_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)mem, size);
    p.left = 1;
    int ret = starpu_mpi_irecv_detached(h, c->world[src], hdr_tag(c, lane) + part, sj__rt.comm,
                                        pending_done, &p);
    if (ret != 0)
        p.left = 0;
    pending_wait(&p);
    starpu_data_unregister(h); /* the data is back in @p mem */
    return ret == 0 ? SJ_OK : spu_fail(func, "StarPU-MPI receive", ret);
}

/*
 * The next message from @p src on @p lane: into @p buf when it is the one
 * wanted (*got = 1; lane COLL: always), else into the mailbox.
 */
static int spu_next(const char *func, sj__chan_t c, int lane, int src, int tag, void *buf,
                    size_t size, int *got, int *from, int *flagp)
{
    hdr_t h;
    SJ_TRY(spu_recv_part(func, c, lane, src, 0, &h, sizeof h));
    const size_t msize = h.flag ? 0 : (size_t)h.size;
    *got = lane == SJ__LANE_COLL || h.tag == tag;
    if (*got && h.flag == 0 && msize == size && buf && size) {
        SJ_TRY(spu_recv_part(func, c, lane, src, 1, buf, size));
        return sj__msg_deliver(func, lane, src, h.tag, 0, NULL, size, buf, size, from, flagp);
    }
    sj__msg_entry_t *e = sj__msg_entry_new(src, h.tag, h.flag, msize);
    if (!e)
        return sj__error(SJ_ENOMEM, func, "cannot keep a message of %zu bytes", msize);
    int rc = msize ? spu_recv_part(func, c, lane, src, 1, e->data, msize) : SJ_OK;
    if (rc < 0) {
        free(e);
        return rc;
    }
    if (*got)
        return sj__msg_deliver_entry(func, lane, e, buf, size, from, flagp);
    sj__msg_box_push(&c->box[lane], e);
    return SJ_OK;
}

int sj__msg_spu_recv(const char *func, sj__chan_t c, int lane, int src, int tag, void *buf,
                     size_t size, int *from, int *flagp)
{
    if (src < 0)
        return sj__error(SJ_ENOTSUP, func,
                         "receiving from any rank needs MPI_THREAD_MULTIPLE; MPI runs at "
                         "MPI_THREAD_SERIALIZED, where StarPU-MPI matches one source only");
    for (;;) {
        sj__msg_entry_t *e = sj__msg_box_take(&c->box[lane], src, lane == SJ__LANE_USER ? tag : -1);
        if (e)
            return sj__msg_deliver_entry(func, lane, e, buf, size, from, flagp);
        int got = 0;
        SJ_TRY(spu_next(func, c, lane, src, tag, buf, size, &got, from, flagp));
        if (got)
            return SJ_OK;
    }
}

/*
 * Every member sends an end mark to every other one on both lanes, then reads
 * and drops what each peer sent until its mark: StarPU-MPI keeps no early
 * message of the channel (it would stop the program at shutdown).
 */
void sj__msg_spu_close(sj__chan_t c)
{
    const char *func = "sj_spmd_context_destroy";
    for (int lane = 0; lane < SJ__NLANES; lane++) {
        for (int d = 0; d < c->n; d++)
            if (d != c->me)
                sj__msg_spu_send(func, c, lane, d, 0, SJ__MSG_FLAG_END, NULL, 0);
        for (int s = 0; s < c->n; s++) {
            for (hdr_t h; s != c->me;) {
                if (spu_recv_part(func, c, lane, s, 0, &h, sizeof h) < 0 ||
                    h.flag == SJ__MSG_FLAG_END)
                    break;
                if (h.flag == 0 && h.size > 0) {
                    void *drop = malloc((size_t)h.size);
                    int rc =
                        drop ? spu_recv_part(func, c, lane, s, 1, drop, (size_t)h.size) : SJ_ENOMEM;
                    free(drop);
                    if (rc < 0)
                        break;
                }
            }
        }
    }
}
