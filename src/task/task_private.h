/*
 * Internal interface of src/task: the local engine that runs the items a
 * rank was given as StarPU tasks, with a bounded queue per worker, retries
 * and the stop policy. sj_pmap() (pmap.c) feeds it batches and decides what
 * to do with finished ones; sj_preduce() (preduce.c) uses the task pool of
 * rt_farm.h directly.
 */
#ifndef SJ_TASK_PRIVATE_H
#define SJ_TASK_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <starjets/task.h>

#include "base/base.h"
#include "kernels/clock.h"
#include "kernels/task.h"
#include "runtime/rt.h"
#include "runtime/rt_farm.h"

/*
 * Items of a batch: item j (0 <= j < count) has index start + j * stride,
 * input in + j * in_step, output out + j * out_step, status status[j].
 */
typedef struct sj__batch sj__batch_t;
struct sj__batch {
    int64_t start, stride, count;
    const unsigned char *in;
    size_t in_step;
    unsigned char *out;
    size_t out_step;
    int *status;
    int64_t next;    /* first item not yet submitted */
    int64_t final;   /* items with a final status */
    int64_t retried; /* extra attempts made */
    void *in_msg;    /* memory the batch owns, freed by its owner (pmap*.c) */
    void *out_msg;
    void *out_data;
    sj__batch_t *link;
};

/* A task in flight: items [j, j + args.count) of batch b. */
typedef struct sj__slot {
    sj__item_args_t args;
    sj__batch_t *b;
    int64_t j;
    int attempts; /* of a retried item (count 1) */
} sj__slot_t;

/* An item waiting for another attempt. */
typedef struct sj__retry {
    sj__batch_t *b;
    int64_t j;
    int attempts;
} sj__retry_t;

typedef struct sj__engine sj__engine_t;

/* Called when every item of @p b has a final status; @p b is unlinked. */
typedef void (*sj__batch_done_fn_t)(sj__engine_t *e, sj__batch_t *b);

struct sj__engine {
    sj__pool_t pool;
    sj__kernel_t kernel;
    int workers;
    int cap;        /* tasks in flight at most, now */
    int per_worker; /* fixed queue per worker, or 0 for automatic */
    int64_t chunk;  /* items per task, now */
    sj__slot_t *slots;
    int *free_slots, nfree, nslots;
    sj__retry_t *retry; /* items waiting for another attempt */
    int nretry, capretry;
    sj__batch_t *head, *tail; /* batches not yet final, in arrival order */
    int64_t held;             /* items not yet submitted (retries included) */
    int64_t running;          /* tasks in flight */
    double busy_seconds;      /* time spent in fn, for the automatic queue */
    int64_t timed;            /* items timed */
    int stopped;              /* no more submissions: remaining items are not run */
    int error;                /* first runtime failure (negative), 0 when none */
    /* what to run */
    sj_item_fn_t fn;
    void *ctx;
    size_t in_size, out_size;
    sj_pmap_on_error_t policy;
    int retries;
    sj_pmap_output_fn_t output;
    void *output_ctx;
    sj__batch_done_fn_t batch_done;
    void *owner;
};

/* Most tasks queued per worker, and most items per task, with the automatic queue. */
#define SJ__QUEUE_MAX 64
#define SJ__CHUNK_MAX 1024

int sj__engine_init(sj__engine_t *e, const sj_pmap_options_t *o, sj_item_fn_t fn, void *ctx,
                    size_t in_size, size_t out_size, sj__batch_done_fn_t batch_done, void *owner);
/* Wait for the tasks in flight, free everything. */
void sj__engine_fini(sj__engine_t *e);
/* Queue a batch (counted in held); under a stop its items are not run at once. */
void sj__engine_add(sj__engine_t *e, sj__batch_t *b);
/* Submit queued items up to the queue bound. */
void sj__engine_fill(sj__engine_t *e);
/* Wait up to @p timeout seconds for tasks to finish and handle them; returns how many. */
int sj__engine_step(sj__engine_t *e, double timeout);
/* Stop submitting: every item not yet submitted gets SJ_PMAP_NOT_RUN. */
void sj__engine_stop(sj__engine_t *e);
/* Non-zero when no batch is pending. */
int sj__engine_idle(const sj__engine_t *e);
/* Items the engine could start now: free task slots times items per task. */
int64_t sj__engine_room(const sj__engine_t *e);
/* Seconds of work the queue bound holds per worker (mean item time x items
 * per task x tasks in flight / workers); 0 before any item was timed. */
double sj__engine_queued_seconds(const sj__engine_t *e);

#endif /* SJ_TASK_PRIVATE_H */
