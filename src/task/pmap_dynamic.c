/*
 * The dynamic task farm of sj_pmap (MPI_THREAD_MULTIPLE, or one rank).
 *
 * At MPI_THREAD_MULTIPLE the root runs a dispatcher on its application
 * thread while its workers compute items like everyone else's:
 *
 *   rank w -> root: REQ (give me work), RESULT (a finished batch: statuses;
 *                   the results follow as data), REJECT (could not take the
 *                   last batch), FIN (nothing more will come from me; carries
 *                   the rank's first runtime failure)
 *   root -> rank w: BATCH (consecutive items; their inputs follow as data,
 *                   sent straight from the caller's array), DONE (no more
 *                   work), STOP (a failure under SJ_PMAP_STOP: drop what you
 *                   have not started)
 *
 * The first batch of every rank leaves unasked, as the farm starts. Then a
 * rank asks for a batch (one request at a time) when fewer items than half
 * its queue bound wait to be submitted, so the next batch arrives before its
 * workers run dry. The root takes its own items straight from the queue, only
 * as many as its workers can start at once. Automatic batches follow guided
 * self-scheduling: remaining / (2 x all workers), down to one item at the
 * end, so the last items are spread one by one. On one rank there are no
 * messages at all: the root's loop alone.
 *
 * Termination: a rank sends FIN once it was told DONE or STOP, has no request
 * out and has sent every result; the root sends STOP only to ranks it has not
 * told DONE. So every message is received before the channel is closed, and
 * the root finishes when every other rank sent FIN and its own items are done.
 * Then a broadcast gives every rank the same summary (pmap.c). Items whose
 * result never came (a failed send, or no memory on the root to take it)
 * count as not run, and the farm fails with the error that lost them.
 */
#include <stdlib.h>
#include <string.h>

#include "task/pmap_private.h"

enum { MSG_REQ = 1, MSG_RESULT, MSG_REJECT, MSG_FIN, MSG_BATCH, MSG_DONE, MSG_STOP };

/* Header of every message; a RESULT's statuses start at DATA_OFFSET. */
typedef struct msg_head {
    int32_t type;
    int32_t error; /* RESULT: the sender's first runtime failure, 0 when none */
    int64_t start, count, retried;
} msg_head_t;

#define DATA_OFFSET 64
/* Automatic batches carry at most this many bytes of inputs or results. */
#define AUTO_BATCH_BYTES ((size_t)4 << 20)
/*
 * Polling of the application thread for messages (task completions wake it at
 * once). Each poll wakes a thread on a core where a worker computes and costs
 * it 10 to 30 microseconds (measured on the project's virtual machines), so
 * polls are as rare as the queue allows: a quarter of the work queued per
 * worker (so that a request and its batch cross before the queue runs dry),
 * between POLL_FLOOR and POLL_CEIL (items of 2.5 ms: a poll every 1.25 ms). A rank with no task
 * running only waits for messages (its first batch, the last results): it polls every POLL_IDLE, as
 * its workers have nothing to lose.
 */
#define POLL_FLOOR 2e-4
#define POLL_CEIL 4e-3
#define POLL_IDLE 3e-5

static double poll_pause(const sj__farm_t *f)
{
    if (f->e.running == 0)
        return POLL_IDLE;
    const double p = sj__engine_queued_seconds(&f->e) / 4;
    return p < POLL_FLOOR ? POLL_FLOOR : p > POLL_CEIL ? POLL_CEIL : p;
}

static size_t result_status_bytes(int64_t count)
{
    return ALIGN64((size_t)count * sizeof(int32_t));
}

/* ---- the root ------------------------------------------------------------------ */

static int64_t batch_size(const sj__farm_t *f)
{
    const int64_t left = f->n - f->next;
    int64_t c = f->o.batch;
    const size_t item = f->in_size > f->out_size + 4 ? f->in_size : f->out_size + 4;
    if (c == 0) {
        c = (left + 2 * f->all_workers - 1) / (2 * f->all_workers);
        const int64_t by_bytes = (int64_t)(AUTO_BATCH_BYTES / item);
        c = c < by_bytes ? c : by_bytes;
    }
    const int64_t by_msg = (int64_t)((SJ__ITEM_MAX_BYTES - 2 * DATA_OFFSET) / item);
    c = c < by_msg ? c : by_msg;
    c = c < left ? c : left;
    return c < 1 ? 1 : c;
}

static int send_head(sj__farm_t *f, int dest, int type)
{
    msg_head_t h = {.type = type};
    return sj__farm_chan_send_small(f->chan, dest, &h, sizeof h);
}

static int serve_request(sj__farm_t *f, int w)
{
    if (f->stopping || f->next >= f->n) {
        f->closed[w] = 1;
        return send_head(f, w, MSG_DONE);
    }
    const int64_t count = batch_size(f);
    const msg_head_t h = {.type = MSG_BATCH, .start = f->next, .count = count};
    f->last[w][0] = f->next;
    f->last[w][1] = count;
    f->next += count;
    f->sum.batches++;
    SJ_TRY(sj__farm_chan_send_small(f->chan, w, &h, sizeof h));
    if (f->in_size == 0)
        return SJ_OK;
    return sj__farm_chan_send_data(f->chan, w, f->in + (size_t)h.start * f->in_size,
                                   (size_t)count * f->in_size);
}

/* The results that follow a RESULT's statuses: into `out` directly when every item ran. */
static int take_results(sj__farm_t *f, int w, int64_t start, int64_t count, const int *status)
{
    const size_t bytes = (size_t)count * f->out_size;
    int64_t ran = 0;
    for (int64_t j = 0; j < count; j++)
        ran += status[j] != SJ_PMAP_NOT_RUN;
    if (ran == count)
        return sj__farm_chan_recv_data(f->chan, w, f->out + (size_t)start * f->out_size, bytes);
    if (ran == 0)
        return sj__farm_chan_drop_data(f->chan, w);
    unsigned char *tmp = sj__farm_chan_buf(bytes);
    if (!tmp) {
        SJ_TRY(sj__farm_chan_drop_data(f->chan, w));
        return sj__error(SJ_ENOMEM, "starjets", "no memory for results of %zu bytes", bytes);
    }
    int rc;
    SJ_TRY_GOTO(rc, sj__farm_chan_recv_data(f->chan, w, tmp, bytes), out);
    sj__farm_copy_results(f, start, 1, count, status, tmp);
out:
    sj__farm_chan_buf_free(tmp);
    return rc;
}

/* A RESULT: its statuses (in the message), then its results (the data that follow). */
static int take_result(sj__farm_t *f, int w, const msg_head_t *h, size_t size)
{
    const int64_t count = h->count;
    const int data = f->out_size && !f->o.output;
    if (count < 1 || h->start < 0 || h->start > f->next - count ||
        size != DATA_OFFSET + result_status_bytes(count)) {
        /* Cannot happen between ranks of one program; never write outside the books. */
        sj__farm_error(f, sj__error(SJ_ERUNTIME, "starjets", "rank %d sent a malformed result", w),
                       f->me);
        f->stopping = 1;
        return data ? sj__farm_chan_drop_data(f->chan, w) : SJ_OK;
    }
    if (h->error < 0) {
        /* The sender's engine failed: the farm stops with its error. */
        sj__farm_error(f, sj__error(h->error, "starjets", "a task could not be run there"), w);
        f->stopping = 1;
    }
    const int *status = (const int *)((const unsigned char *)h + DATA_OFFSET);
    int rc = data ? take_results(f, w, h->start, count, status) : SJ_OK;
    if (rc == SJ_ENOMEM) {
        /* The results are lost: their items count as not run, the farm stops. */
        sj__farm_error(f, rc, f->me);
        f->stopping = 1;
        return SJ_OK;
    }
    SJ_TRY(rc);
    sj__farm_account(f, h->start, 1, count, status, h->retried, w);
    return SJ_OK;
}

/* Receive and handle one message from rank w. */
static int root_receive(sj__farm_t *f, int w, size_t size)
{
    msg_head_t small;
    msg_head_t *h = NULL;
    if (size > sizeof small && f->test_nomem > 0)
        f->test_nomem--;
    else if (size > sizeof small)
        h = sj__farm_chan_buf(size);
    if (!h && size > sizeof small) {
        /* Only a RESULT is this large. Without memory for it, take it (MPI
         * truncates) and its results; its items count as not run, the farm stops. */
        SJ_TRY(sj__farm_chan_drop(f->chan, w));
        if (f->out_size && !f->o.output)
            SJ_TRY(sj__farm_chan_drop_data(f->chan, w));
        sj__farm_error(
            f, sj__error(SJ_ENOMEM, "starjets", "no memory for a result of %zu bytes", size),
            f->me);
        f->stopping = 1;
        return SJ_OK;
    }
    if (!h)
        h = &small;
    int rc = sj__farm_chan_recv(f->chan, w, h, size);
    if (rc < 0) {
        if (h != &small)
            sj__farm_chan_buf_free(h);
        return rc;
    }
    switch (h->type) {
    case MSG_REQ:
        rc = serve_request(f, w);
        break;
    case MSG_RESULT:
        rc = take_result(f, w, h, size);
        break;
    case MSG_REJECT: /* a rank rejects the batch it was sent last */
        sj__farm_error(f,
                       sj__error(SJ_ENOMEM, "starjets", "no memory for a batch of %lld items",
                                 (long long)f->last[w][1]),
                       w);
        sj__farm_account(f, f->last[w][0], 1, f->last[w][1], NULL, 0, w);
        f->stopping = 1;
        rc = SJ_OK;
        break;
    case MSG_FIN:
        f->fins++;
        if (h->error < 0) /* a result of that rank may be lost */
            sj__farm_error(f, sj__error(h->error, "starjets", "a farm message failed there"), w);
        rc = SJ_OK;
        break;
    default:
        rc = sj__error(SJ_ERUNTIME, "starjets", "unexpected farm message %d from rank %d",
                       (int)h->type, w);
    }
    if (h != &small)
        sj__farm_chan_buf_free(h);
    return rc;
}

/* The root's own items: a local batch of what its workers can start now. */
static int root_take(sj__farm_t *f)
{
    const int64_t room = sj__engine_room(&f->e) - f->e.held;
    if (f->stopping || f->next >= f->n || room <= 0)
        return 0;
    const int64_t g = room < f->n - f->next ? room : f->n - f->next;
    const size_t head = ALIGN64(sizeof(sj__batch_t)), status = ALIGN64((size_t)g * sizeof(int));
    unsigned char *mem = sj__alloc64(head + status + (f->o.output ? (size_t)g * f->out_size : 0));
    if (!mem) {
        sj__farm_error(
            f, sj__error(SJ_ENOMEM, "starjets", "no memory for %lld items", (long long)g), f->me);
        f->stopping = 1;
        return 0;
    }
    sj__batch_t *b = (sj__batch_t *)mem;
    memset(b, 0, sizeof *b);
    b->start = f->next;
    b->stride = 1;
    b->count = g;
    b->in = f->in_size ? f->in + (size_t)f->next * f->in_size : NULL;
    b->in_step = f->in_size;
    b->status = (int *)(mem + head);
    b->out = f->o.output   ? mem + head + status
             : f->out_size ? f->out + (size_t)f->next * f->out_size
                           : NULL;
    b->out_step = f->out_size;
    b->in_msg = mem;
    f->next += g;
    sj__engine_add(&f->e, b);
    return 1;
}

void sj__farm_root_batch_done(sj__engine_t *e, sj__batch_t *b)
{
    sj__farm_t *f = e->owner;
    sj__farm_account(f, b->start, b->stride, b->count, b->status, b->retried, f->me);
    free(b->in_msg);
}

static int root_loop(sj__farm_t *f)
{
    int stops_sent = 0;
    /* Every rank starts with a request it did not have to send: its first
     * batch leaves at once, after the root's own workers got theirs. */
    root_take(f);
    sj__engine_fill(&f->e);
    for (int w = 0; w < f->np; w++)
        if (w != f->me)
            SJ_TRY(serve_request(f, w));
    for (;;) {
        int active = root_take(f);
        sj__engine_fill(&f->e);
        if (f->e.error) {
            sj__farm_error(f, f->e.error, f->me);
            f->stopping = 1;
        }
        int from;
        size_t size;
        int got;
        while (f->chan && (got = sj__farm_chan_probe(f->chan, -1, &from, &size)) != 0) {
            if (got < 0)
                return got;
            SJ_TRY(root_receive(f, from, size));
            active = 1;
        }
        if (f->stopping && !stops_sent) {
            if (!f->e.stopped)
                sj__engine_stop(&f->e);
            for (int w = 0; w < f->np; w++)
                if (w != f->me && !f->closed[w]) {
                    f->closed[w] = 1;
                    SJ_TRY(send_head(f, w, MSG_STOP));
                }
            stops_sent = 1;
        }
        sj__farm_progress(f, f->sum.done, 0);
        if ((f->stopping || f->next >= f->n) && f->fins == f->np - 1 && sj__engine_idle(&f->e))
            return SJ_OK;
        sj__engine_step(&f->e, active ? 0.0 : poll_pause(f));
    }
}

/* ---- the other ranks ---------------------------------------------------------- */

void sj__farm_worker_batch_done(sj__engine_t *e, sj__batch_t *b)
{
    sj__farm_t *f = e->owner;
    msg_head_t *h = b->out_msg;
    memset(h, 0, sizeof *h);
    h->type = MSG_RESULT;
    h->start = b->start;
    h->count = b->count;
    h->retried = b->retried;
    h->error = f->e.error;
    int rc = sj__farm_chan_send(f->chan, f->o.root, h, DATA_OFFSET + result_status_bytes(b->count));
    /* After a failed RESULT the root expects no results: keep the stream in step.
     * With opts->output the results were handed over where they were made. */
    if (rc == SJ_OK && f->out_size && !f->o.output)
        rc = sj__farm_chan_send_data_buf(f->chan, f->o.root, b->out_data,
                                         (size_t)b->count * f->out_size);
    else
        sj__farm_chan_buf_free(b->out_data);
    sj__farm_error(f, rc, f->me);
    sj__farm_chan_buf_free(b->in_msg);
    free(b);
}

/* A batch was announced: take its inputs into the engine, or reject it without memory. */
static int worker_take_batch(sj__farm_t *f, const msg_head_t *msg)
{
    const int root = f->o.root;
    const int64_t count = msg->count;
    const size_t status = result_status_bytes(count), in_bytes = (size_t)count * f->in_size;
    const size_t out_bytes = (size_t)count * f->out_size;
    sj__batch_t *b = calloc(1, sizeof *b);
    unsigned char *head = sj__farm_chan_buf(DATA_OFFSET + status);
    unsigned char *out = out_bytes ? sj__farm_chan_buf(out_bytes) : NULL;
    unsigned char *in = in_bytes ? sj__farm_chan_buf(in_bytes) : NULL;
    if (!b || !head || (out_bytes && !out) || (in_bytes && !in)) {
        free(b);
        sj__farm_chan_buf_free(head);
        sj__farm_chan_buf_free(out);
        sj__farm_chan_buf_free(in);
        sj__farm_error(f,
                       sj__error(SJ_ENOMEM, "starjets", "no memory for a batch of %lld items",
                                 (long long)count),
                       f->me);
        sj__engine_stop(&f->e);
        if (in_bytes)
            SJ_TRY(sj__farm_chan_drop_data(f->chan, root));
        return send_head(f, root, MSG_REJECT);
    }
    int rc = in_bytes ? sj__farm_chan_recv_data(f->chan, root, in, in_bytes) : SJ_OK;
    if (rc < 0) {
        free(b);
        sj__farm_chan_buf_free(head);
        sj__farm_chan_buf_free(out);
        sj__farm_chan_buf_free(in);
        return rc;
    }
    b->start = msg->start;
    b->stride = 1;
    b->count = count;
    b->in = in;
    b->in_step = f->in_size;
    b->status = (int *)(head + DATA_OFFSET);
    b->out = out;
    b->out_step = f->out_size;
    b->in_msg = in;
    b->out_msg = head;
    b->out_data = out;
    sj__engine_add(&f->e, b);
    return SJ_OK;
}

static int worker_receive(sj__farm_t *f, size_t size)
{
    const int root = f->o.root;
    msg_head_t h;
    if (size != sizeof h) /* cannot happen between ranks of one program */
        return sj__error(SJ_ERUNTIME, "starjets", "a farm message of %zu bytes from the root",
                         size);
    SJ_TRY(sj__farm_chan_recv(f->chan, root, &h, sizeof h));
    int rc = SJ_OK;
    switch (h.type) {
    case MSG_BATCH:
        f->req_out = 0;
        return worker_take_batch(f, &h);
    case MSG_DONE:
        f->req_out = 0;
        f->told_to_close = 1;
        break;
    case MSG_STOP:
        f->told_to_close = 1;
        sj__engine_stop(&f->e);
        break;
    default:
        rc = sj__error(SJ_ERUNTIME, "starjets", "unexpected farm message %d from the root",
                       (int)h.type);
    }
    return rc;
}

static int worker_loop(sj__farm_t *f)
{
    f->req_out = 1; /* the root sends the first batch unasked */
    for (;;) {
        int active = 0;
        sj__engine_fill(&f->e);
        if (f->e.error)
            sj__farm_error(f, f->e.error, f->me);
        const int64_t want = (f->e.cap / 2 > 1 ? f->e.cap / 2 : 1) * f->e.chunk;
        if (!f->told_to_close && !f->req_out && !f->e.stopped && f->e.held < want) {
            SJ_TRY(send_head(f, f->o.root, MSG_REQ));
            f->req_out = 1;
            active = 1;
        }
        int from, got;
        size_t size;
        while ((got = sj__farm_chan_probe(f->chan, f->o.root, &from, &size)) != 0) {
            if (got < 0)
                return got;
            SJ_TRY(worker_receive(f, size));
            active = 1;
        }
        if (f->told_to_close && !f->req_out && sj__engine_idle(&f->e)) {
            const msg_head_t fin = {.type = MSG_FIN, .error = f->sum.error};
            return sj__farm_chan_send_small(f->chan, f->o.root, &fin, sizeof fin);
        }
        sj__engine_step(&f->e, active ? 0.0 : poll_pause(f));
    }
}

/* ---- the farm ------------------------------------------------------------------ */

int sj__farm_run_dynamic(sj__farm_t *f)
{
    const int root = f->o.root;
    /* Tests make the root run out of memory for results with SJ_TEST_FARM_NOMEM=k. */
    const char *nomem = getenv("SJ_TEST_FARM_NOMEM");
    f->test_nomem = f->me == root && nomem ? atoi(nomem) : 0;
    if (f->np > 1)
        SJ_TRY(sj__farm_chan_open(&f->chan));
    SJ_TRY(f->me == root ? root_loop(f) : worker_loop(f));
    if (f->me == root) {
        sj__farm_account(f, f->next, 1, f->n - f->next, NULL, 0, root);
        f->next = f->n;
        /* results that never came: not run (item_status says so already, pmap.c) */
        f->sum.not_run = f->n - f->sum.done;
        sj__farm_progress(f, f->sum.done, 1);
    }
    return SJ_OK;
}
