/*
 * Internal to sj_pmap (src/task/pmap*.c): the state of one farm, shared by
 * the call itself (pmap.c), the dynamic farm (pmap_dynamic.c) and the static
 * one (pmap_static.c).
 */
#ifndef SJ_PMAP_PRIVATE_H
#define SJ_PMAP_PRIVATE_H

#include <limits.h>

#include "task/task_private.h"

#define ALIGN64(x) (((x) + 63) & ~(size_t)63)
/* Largest item: one item and its header must fit one MPI message. */
#define SJ__ITEM_MAX_BYTES ((size_t)INT_MAX - 1024)

/* What every rank learns at the end. */
typedef struct sj__summary {
    int64_t done, failed, not_run, retried, first_failed, batches;
    int32_t first_error;
    int32_t error;      /* a runtime failure (negative), 0 when none */
    int32_t error_rank; /* where it happened */
    int32_t pad;
} sj__summary_t;

typedef struct sj__farm {
    int64_t n;
    const unsigned char *in;
    size_t in_size;
    unsigned char *out;
    size_t out_size;
    sj_pmap_options_t o;
    int me, np;
    sj__engine_t e;
    sj__farm_chan_t chan;
    sj__summary_t sum;
    int64_t *rank_items;
    /* root */
    int64_t next;          /* first item not handed out */
    int stopping;          /* no more hand-outs */
    int64_t all_workers;   /* CPU workers of every rank */
    unsigned char *closed; /* per rank: told DONE or STOP */
    int64_t (*last)[2];    /* per rank: the last batch it was sent (start, count) */
    int fins;
    double progress_at;
    int64_t progress_done;
    /* test hook: the root has no memory for the next this many results (SJ_TEST_FARM_NOMEM) */
    int test_nomem;
    /* other ranks */
    int req_out;
    int told_to_close;
} sj__farm_t;

/* Record the first runtime failure, with the rank where it happened. */
void sj__farm_error(sj__farm_t *f, int rc, int rank);
/* The root's books: the final statuses of items start + j * stride, j < count, run by @p rank
 * (status NULL: none of them ran). */
void sj__farm_account(sj__farm_t *f, int64_t start, int64_t stride, int64_t count,
                      const int *status, int64_t retried, int rank);
/* Copy into the root's `out` the results of the items that ran (packed in @p results). */
void sj__farm_copy_results(sj__farm_t *f, int64_t start, int64_t stride, int64_t count,
                           const int *status, const unsigned char *results);
/* Call the progress function when @p done changed and the interval passed (or at the end). */
void sj__farm_progress(sj__farm_t *f, int64_t done, int final);
/* 64-byte aligned memory (free() releases it), NULL when none is left. */
void *sj__alloc64(size_t size);

/* The farm with requests and replies (MPI_THREAD_MULTIPLE, or one rank). */
int sj__farm_run_dynamic(sj__farm_t *f);
void sj__farm_root_batch_done(sj__engine_t *e, sj__batch_t *b);
void sj__farm_worker_batch_done(sj__engine_t *e, sj__batch_t *b);
/* The farm dealt up front (below MPI_THREAD_MULTIPLE, several ranks). */
int sj__farm_run_static(sj__farm_t *f);
void sj__farm_static_batch_done(sj__engine_t *e, sj__batch_t *b);

#endif /* SJ_PMAP_PRIVATE_H */
