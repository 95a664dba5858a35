/*
 * The local engine of the task farm: the items a rank holds run as StarPU
 * tasks, at most `cap` tasks at a time, so that a rank never queues more than
 * a few tasks per worker (the rest stays with the farm, where another rank can
 * get it).
 *
 * With the automatic queue (queue_per_worker 0) two things adapt to the
 * measured mean time of an item: a task runs CHUNK_SECONDS / mean items (1
 * to SJ__CHUNK_MAX), so that the cost of a task and of waking the
 * application thread is shared by short items; and the bound grows from 2
 * tasks per worker up to SJ__QUEUE_MAX so that about QUEUE_SECONDS of work
 * stays queued and the workers do not wait for the application thread.
 * Items of a millisecond or more run one per task, two per worker.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "task/task_private.h"

#define QUEUE_SECONDS 2e-3
#define CHUNK_SECONDS 5e-4

int sj__engine_init(sj__engine_t *e, const sj_pmap_options_t *o, sj_item_fn_t fn, void *ctx,
                    size_t in_size, size_t out_size, sj__batch_done_fn_t batch_done, void *owner)
{
    memset(e, 0, sizeof *e);
    e->workers = sj__rt_cpu_workers();
    e->per_worker = o->queue_per_worker;
    e->nslots = e->workers * (e->per_worker ? e->per_worker : SJ__QUEUE_MAX);
    e->cap = e->workers * (e->per_worker ? e->per_worker : 2);
    e->chunk = 1;
    e->fn = fn;
    e->ctx = ctx;
    e->in_size = in_size;
    e->out_size = out_size;
    e->policy = o->on_error;
    e->retries = o->retries;
    e->output = o->output;
    e->output_ctx = o->output_ctx;
    e->batch_done = batch_done;
    e->owner = owner;
    e->kernel = SJ__K_PMAP_ITEM;
    e->slots = sj__calloc((size_t)e->nslots, sizeof *e->slots);
    e->free_slots = sj__calloc((size_t)e->nslots, sizeof *e->free_slots);
    int rc = e->slots && e->free_slots ? sj__pool_create(&e->pool) : SJ_ENOMEM;
    if (rc < 0) {
        sj__engine_fini(e);
        return rc;
    }
    for (int i = 0; i < e->nslots; i++)
        e->free_slots[i] = e->nslots - 1 - i;
    e->nfree = e->nslots;
    return SJ_OK;
}

void sj__engine_fini(sj__engine_t *e)
{
    sj__pool_destroy(&e->pool);
    free(e->slots);
    free(e->free_slots);
    free(e->retry);
    memset(e, 0, sizeof *e);
}

static void finish_batch(sj__engine_t *e, sj__batch_t *b)
{
    sj__batch_t **p = &e->head, *prev = NULL;
    while (*p && *p != b) {
        prev = *p;
        p = &(*p)->link;
    }
    if (*p) {
        *p = b->link;
        if (e->tail == b)
            e->tail = prev;
    }
    b->link = NULL;
    e->batch_done(e, b);
}

/* Items [next, count) of @p b will not run. */
static void abandon(sj__engine_t *e, sj__batch_t *b)
{
    for (int64_t j = b->next; j < b->count; j++)
        b->status[j] = SJ_PMAP_NOT_RUN;
    e->held -= b->count - b->next;
    b->final += b->count - b->next;
    b->next = b->count;
}

void sj__engine_stop(sj__engine_t *e)
{
    e->stopped = 1;
    /* An item waiting for another attempt keeps the status of its last one. */
    for (int i = 0; i < e->nretry; i++)
        e->retry[i].b->final++;
    e->held -= e->nretry;
    e->nretry = 0;
    sj__batch_t *b = e->head;
    while (b) {
        sj__batch_t *next = b->link;
        abandon(e, b);
        if (b->final == b->count)
            finish_batch(e, b);
        b = next;
    }
}

void sj__engine_add(sj__engine_t *e, sj__batch_t *b)
{
    b->next = b->final = b->retried = 0;
    b->link = NULL;
    if (e->tail)
        e->tail->link = b;
    else
        e->head = b;
    e->tail = b;
    e->held += b->count;
    if (e->stopped)
        abandon(e, b);
    if (b->final == b->count)
        finish_batch(e, b);
}

int sj__engine_idle(const sj__engine_t *e)
{
    return e->head == NULL;
}

static int free_tasks(const sj__engine_t *e)
{
    int room = e->cap - (int)e->running;
    return room < e->nfree ? room : e->nfree;
}

int64_t sj__engine_room(const sj__engine_t *e)
{
    const int t = free_tasks(e);
    return t > 0 ? (int64_t)t * e->chunk : 0;
}

/* Start the slot's items [j, j + count) of its batch. */
static void submit(sj__engine_t *e, int id, int64_t count)
{
    sj__slot_t *s = &e->slots[id];
    sj__batch_t *b = s->b;
    sj__item_args_t *a = &s->args;
    a->fn = e->fn;
    a->ctx = e->ctx;
    a->index = b->start + s->j * b->stride;
    a->stride = b->stride;
    a->count = count;
    a->in = e->in_size ? b->in + (size_t)s->j * b->in_step : NULL;
    a->in_step = b->in_step;
    a->in_size = e->in_size;
    a->out = e->out_size ? b->out + (size_t)s->j * b->out_step : NULL;
    a->out_step = b->out_step;
    a->out_size = e->out_size;
    a->status = b->status + s->j;
    a->failed = 0;
    a->seconds = 0.0;
    int rc = sj__pool_submit(e->pool, e->kernel, a, id);
    if (rc == SJ_OK) {
        e->running++;
        return;
    }
    /* The runtime refused the task: these items and the rest do not run. */
    if (!e->error)
        e->error = rc;
    for (int64_t j = 0; j < count; j++)
        a->status[j] = SJ_PMAP_NOT_RUN;
    b->final += count;
    e->free_slots[e->nfree++] = id;
    if (b->final == b->count)
        finish_batch(e, b);
    sj__engine_stop(e);
}

void sj__engine_fill(sj__engine_t *e)
{
    while (!e->stopped && free_tasks(e) > 0) {
        sj__batch_t *b = NULL;
        int64_t j = 0, count = 1;
        int attempts = 1;
        if (e->nretry > 0) {
            const sj__retry_t r = e->retry[--e->nretry];
            b = r.b;
            j = r.j;
            attempts = r.attempts;
            b->retried++;
        } else {
            b = e->head;
            while (b && b->next >= b->count)
                b = b->link;
            if (!b)
                return;
            j = b->next;
            count = b->count - j < e->chunk ? b->count - j : e->chunk;
            b->next += count;
        }
        e->held -= count;
        const int id = e->free_slots[--e->nfree];
        e->slots[id].b = b;
        e->slots[id].j = j;
        e->slots[id].attempts = attempts;
        submit(e, id, count);
    }
}

/* The automatic queue: items per task and tasks per worker from the mean item time. */
static void adapt(sj__engine_t *e, double seconds, int64_t items)
{
    e->busy_seconds += seconds;
    e->timed += items;
    if (e->per_worker)
        return;
    const double mean = e->busy_seconds / (double)e->timed;
    double chunk = mean > 0 ? floor(CHUNK_SECONDS / mean) : SJ__CHUNK_MAX;
    chunk = chunk < 1 ? 1 : chunk > SJ__CHUNK_MAX ? SJ__CHUNK_MAX : chunk;
    const double task = mean * chunk;
    double q = task > 0 ? ceil(QUEUE_SECONDS / task) : SJ__QUEUE_MAX;
    q = q < 2 ? 2 : q > SJ__QUEUE_MAX ? SJ__QUEUE_MAX : q;
    e->chunk = (int64_t)chunk;
    e->cap = e->workers * (int)q;
}

double sj__engine_queued_seconds(const sj__engine_t *e)
{
    if (e->timed == 0 || e->workers < 1)
        return 0.0;
    const double mean = e->busy_seconds / (double)e->timed;
    return mean * (double)e->chunk * (double)e->cap / (double)e->workers;
}

/* Put item j of b back for another attempt; 0 when there is no room to remember it. */
static int push_retry(sj__engine_t *e, sj__batch_t *b, int64_t j, int attempts)
{
    if (e->nretry == e->capretry) {
        int cap = e->capretry ? 2 * e->capretry : 64;
        sj__retry_t *r = realloc(e->retry, (size_t)cap * sizeof *r);
        if (!r) {
            if (!e->error)
                e->error = sj__error(SJ_ENOMEM, "starjets", "cannot remember items to retry");
            return 0;
        }
        e->retry = r;
        e->capretry = cap;
    }
    e->retry[e->nretry++] = (sj__retry_t){b, j, attempts};
    e->held++;
    return 1;
}

static void complete(sj__engine_t *e, int id)
{
    sj__slot_t *s = &e->slots[id];
    sj__batch_t *b = s->b;
    const sj__item_args_t *a = &s->args;
    e->running--;
    adapt(e, a->seconds, a->count);
    int64_t final = 0;
    int failed = 0;
    for (int64_t k = 0; k < a->count; k++) {
        /* the status that means "never ran" cannot be an item's own */
        if (a->status[k] == SJ_PMAP_NOT_RUN)
            a->status[k] = SJ_PMAP_RETURNED_NOT_RUN;
        const int st = a->status[k];
        if (st != 0 && e->policy == SJ_PMAP_RETRY && !e->stopped && s->attempts <= e->retries &&
            push_retry(e, b, s->j + k, s->attempts + 1))
            continue;
        final++;
        failed |= st != 0;
        if (st == 0 && e->output)
            e->output(a->index + k * a->stride,
                      a->out_size ? a->out + (size_t)k * a->out_step : NULL, e->output_ctx);
    }
    b->final += final;
    e->free_slots[e->nfree++] = id;
    if (b->final == b->count)
        finish_batch(e, b);
    if (failed && e->policy == SJ_PMAP_STOP)
        sj__engine_stop(e);
}

int sj__engine_step(sj__engine_t *e, double timeout)
{
    int64_t cookies[256];
    int n = sj__pool_wait(e->pool, cookies, 256, timeout);
    for (int i = 0; i < n; i++)
        complete(e, (int)cookies[i]);
    return n;
}
