/*
 * sj_pmap: the task farm. This file checks the call, sets up the farm, picks
 * the dynamic farm (pmap_dynamic.c: requests and replies, at
 * MPI_THREAD_MULTIPLE or on one rank) or the static one (pmap_static.c:
 * items dealt up front, below MPI_THREAD_MULTIPLE), keeps the root's books
 * and gives every rank the same summary.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "task/pmap_private.h"

void *sj__alloc64(size_t size)
{
    void *p = NULL;
    return posix_memalign(&p, 64, size ? size : 1) == 0 ? p : NULL;
}

void sj__farm_error(sj__farm_t *f, int rc, int rank)
{
    if (rc < 0 && f->sum.error == 0) {
        f->sum.error = rc;
        f->sum.error_rank = rank;
    }
}

/* ---- the root's books -------------------------------------------------------- */

void sj__farm_account(sj__farm_t *f, int64_t start, int64_t stride, int64_t count,
                      const int *status, int64_t retried, int rank)
{
    for (int64_t j = 0; j < count; j++) {
        const int64_t i = start + j * stride;
        const int s = status ? status[j] : SJ_PMAP_NOT_RUN;
        if (f->o.item_status)
            f->o.item_status[i] = s;
        if (s == SJ_PMAP_NOT_RUN) {
            f->sum.not_run++;
            continue;
        }
        f->sum.done++;
        f->rank_items[rank]++;
        if (s != 0) {
            f->sum.failed++;
            if (f->sum.first_failed < 0 || i < f->sum.first_failed) {
                f->sum.first_failed = i;
                f->sum.first_error = s;
            }
            if (f->o.on_error == SJ_PMAP_STOP)
                f->stopping = 1;
        }
    }
    f->sum.retried += retried;
}

void sj__farm_copy_results(sj__farm_t *f, int64_t start, int64_t stride, int64_t count,
                           const int *status, const unsigned char *results)
{
    for (int64_t j = 0; j < count; j++)
        if (status[j] != SJ_PMAP_NOT_RUN)
            memcpy(f->out + (size_t)(start + j * stride) * f->out_size,
                   results + (size_t)j * f->out_size, f->out_size);
}

void sj__farm_progress(sj__farm_t *f, int64_t done, int final)
{
    if (!f->o.progress || done == f->progress_done)
        return;
    const double t = sj__now();
    if (!final && t - f->progress_at < f->o.progress_interval)
        return;
    f->progress_at = t;
    f->progress_done = done;
    f->o.progress(done, f->n, f->o.progress_ctx);
}

/* ---- the call ------------------------------------------------------------------- */

/* Every rank gets the root's summary and per-rank counts. */
static int share_summary(sj__farm_t *f)
{
    const size_t size = sizeof f->sum + (size_t)f->np * sizeof *f->rank_items;
    unsigned char *buf = malloc(size);
    if (!buf)
        return sj__error(SJ_ENOMEM, "starjets", "cannot allocate the farm's summary");
    memcpy(buf, &f->sum, sizeof f->sum);
    memcpy(buf + sizeof f->sum, f->rank_items, (size_t)f->np * sizeof *f->rank_items);
    int rc = sj__rt_bcast(buf, size, f->o.root);
    memcpy(&f->sum, buf, sizeof f->sum);
    memcpy(f->rank_items, buf + sizeof f->sum, (size_t)f->np * sizeof *f->rank_items);
    free(buf);
    return rc;
}

void sj_pmap_options_default(sj_pmap_options_t *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->root = 0;
    opts->batch = 0;
    opts->on_error = SJ_PMAP_STOP;
    opts->retries = 1;
    opts->queue_per_worker = 0;
    opts->progress_interval = 1.0;
}

static int check_options(const sj_pmap_options_t *o)
{
    const char *f = "sj_pmap";
    const int np = sj__rt_nranks();
    SJ_CHECK_FN(f, o->root >= 0 && o->root < np, SJ_ERANGE,
                "opts->root is %d, expected a rank from 0 to %d", o->root, np - 1);
    SJ_CHECK_FN(f, o->batch >= 0, SJ_EINVAL, "opts->batch is %lld, expected 0 (automatic) or more",
                (long long)o->batch);
    SJ_CHECK_FN(f, o->on_error >= SJ_PMAP_STOP && o->on_error <= SJ_PMAP_RETRY, SJ_EINVAL,
                "opts->on_error is %d, not an sj_pmap_on_error_t", (int)o->on_error);
    SJ_CHECK_FN(f, o->retries >= 0, SJ_EINVAL, "opts->retries is %d, expected >= 0", o->retries);
    SJ_CHECK_FN(f, o->queue_per_worker >= 0 && o->queue_per_worker <= 1024, SJ_EINVAL,
                "opts->queue_per_worker is %d, expected 0 (automatic) to 1024",
                o->queue_per_worker);
    SJ_CHECK_FN(f, o->progress_interval >= 0.0, SJ_EINVAL,
                "opts->progress_interval is %g, expected seconds >= 0", o->progress_interval);
    return SJ_OK;
}

/* The checks only the root can make (its buffers), as a number every rank agrees on. */
enum { ROOT_OK = 0, ROOT_IN_NULL, ROOT_IN_SIZE0, ROOT_OUT_NULL, ROOT_OUT_SIZE0 };

static int root_check(int64_t n, const void *in, size_t in_size, const void *out, size_t out_size,
                      const sj_pmap_options_t *o)
{
    if (n > 0 && in_size > 0 && !in)
        return ROOT_IN_NULL;
    if (in && in_size == 0)
        return ROOT_IN_SIZE0;
    if (!o->output && n > 0 && out_size > 0 && !out)
        return ROOT_OUT_NULL;
    if (!o->output && out && out_size == 0)
        return ROOT_OUT_SIZE0;
    return ROOT_OK;
}

static int root_check_error(int code, int root, int64_t n, size_t in_size, size_t out_size)
{
    const char *f = "sj_pmap";
    switch (code) {
    case ROOT_IN_NULL:
        return sj__error(SJ_ENULL, f,
                         "in is NULL on the root (rank %d) with n = %lld items of %zu bytes", root,
                         (long long)n, in_size);
    case ROOT_IN_SIZE0:
        return sj__error(SJ_ESIZE, f, "in is given on the root (rank %d) but in_size is 0", root);
    case ROOT_OUT_NULL:
        return sj__error(SJ_ENULL, f,
                         "out is NULL on the root (rank %d) with n = %lld results of %zu bytes and "
                         "no opts->output",
                         root, (long long)n, out_size);
    default:
        return sj__error(SJ_ESIZE, f, "out is given on the root (rank %d) but out_size is 0", root);
    }
}

/* The hash of a call's shape: SHAPE_MOD^2 times the rank count must fit an int. */
#define SHAPE_MOD 61

static int check_args(int64_t n, size_t in_size, size_t out_size, sj_item_fn_t fn, const void *ctx,
                      size_t ctx_size)
{
    const char *f = "sj_pmap";
    SJ_CHECK_FN(f, sj__rt_running(), SJ_ESTATE, "starjets is not initialised");
    SJ_CHECK_FN(f, fn != NULL, SJ_ENULL, "argument 'fn' is NULL");
    SJ_CHECK_FN(f, n >= 0, SJ_ESIZE, "n is %lld, expected >= 0 items", (long long)n);
    SJ_CHECK_FN(f, ctx != NULL || ctx_size == 0, SJ_ENULL, "ctx is NULL but ctx_size is %zu",
                ctx_size);
    SJ_CHECK_FN(f, ctx_size <= (1u << 20), SJ_ESIZE, "ctx_size is %zu, more than 1 MiB", ctx_size);
    SJ_CHECK_FN(f, in_size <= SJ__ITEM_MAX_BYTES && out_size <= SJ__ITEM_MAX_BYTES, SJ_ESIZE,
                "in_size is %zu and out_size %zu; an item may have at most %zu bytes", in_size,
                out_size, SJ__ITEM_MAX_BYTES);
    const size_t item = in_size > out_size ? in_size : out_size;
    SJ_CHECK_FN(f, item == 0 || (uint64_t)n <= SIZE_MAX / item, SJ_ESIZE,
                "n = %lld items of %zu bytes overflow the address space", (long long)n, item);
    return SJ_OK;
}

/* Allocations of every rank; the caller agrees on their success. */
static int farm_alloc(sj__farm_t *f)
{
    const size_t np = (size_t)f->np;
    f->rank_items = calloc(np, sizeof *f->rank_items);
    f->closed = calloc(np, 1);
    f->last = calloc(np, sizeof *f->last);
    return f->rank_items && f->closed && f->last ? SJ_OK : SJ_ENOMEM;
}

/* @p clean: every message of the farm was received (the channel may be kept). */
static void farm_free(sj__farm_t *f, int clean)
{
    sj__engine_fini(&f->e);
    sj__farm_chan_close(&f->chan, clean);
    free(f->rank_items);
    free(f->closed);
    free(f->last);
}

/* The call's result, the same on every rank. */
static int farm_result(const sj__farm_t *f)
{
    const sj__summary_t *s = &f->sum;
    if (s->error) {
        if (s->error_rank == f->me)
            return sj__error_rename(s->error, "sj_pmap");
        return sj__error(s->error, "sj_pmap", "the farm stopped after a failure on rank %d (%s)",
                         s->error_rank, sj_strerror(s->error));
    }
    if (f->o.on_error == SJ_PMAP_STOP && s->failed > 0 &&
        s->first_error == SJ_PMAP_RETURNED_NOT_RUN)
        return sj__error(SJ_EUSER, "sj_pmap",
                         "item %lld failed: fn returned SJ_PMAP_NOT_RUN (INT32_MIN), a status "
                         "reserved for items that did not run (return another non-zero value "
                         "for a failure); %lld of %lld items ran, %lld did not",
                         (long long)s->first_failed, (long long)s->done, (long long)f->n,
                         (long long)s->not_run);
    if (f->o.on_error == SJ_PMAP_STOP && s->failed > 0)
        return sj__error(SJ_EUSER, "sj_pmap",
                         "item %lld failed (fn returned %d); %lld of %lld items ran, %lld did not",
                         (long long)s->first_failed, s->first_error, (long long)s->done,
                         (long long)f->n, (long long)s->not_run);
    return SJ_OK;
}

/* Each rank's view of the call: only the root keeps the buffers and statuses. */
static void farm_prepare(sj__farm_t *f)
{
    f->me = sj__rt_rank();
    f->np = sj__rt_nranks();
    if (f->me != f->o.root) {
        f->o.item_status = NULL;
        f->in = NULL;
        f->out = NULL;
    } else if (f->o.item_status) {
        /* an item whose status never comes did not run */
        for (int64_t i = 0; i < f->n; i++)
            f->o.item_status[i] = SJ_PMAP_NOT_RUN;
    }
    if (f->o.rank_items)
        memset(f->o.rank_items, 0, (size_t)f->np * sizeof *f->o.rank_items);
    f->sum.first_failed = -1;
}

/*
 * Allocate the farm and start its engine (@p ctx_missing: the copy of the
 * context could not be made), then one sum tells every rank the root's verdict
 * on its buffers, whether every rank has its memory, and how many workers
 * there are.
 */
static int farm_start(sj__farm_t *f, sj_item_fn_t fn, void *ctx, int ctx_missing)
{
    const int64_t n = f->n;
    const int root = f->o.root;
    int bad = n > 0 && (ctx_missing || farm_alloc(f) < 0);
    if (n > 0 && !bad &&
        sj__engine_init(&f->e, &f->o, fn, ctx, f->in_size, f->out_size,
                        f->np > 1 && !sj__rt_direct_mpi() ? sj__farm_static_batch_done
                        : f->me == root                   ? sj__farm_root_batch_done
                                                          : sj__farm_worker_batch_done,
                        f) < 0)
        bad = 1;
    /* The call's shape, hashed: equal on every rank exactly when the sum of
     * the squares times the rank count is the square of the sum (the same
     * verdict everywhere, from the same sums). */
    const int shape = (int)(((uint64_t)n * 3 + (uint64_t)f->in_size * 7 +
                             (uint64_t)f->out_size * 13 + (f->o.output != NULL) * 17) %
                            SHAPE_MOD);
    int agree[5] = {f->me == root ? root_check(n, f->in, f->in_size, f->out, f->out_size, &f->o)
                                  : ROOT_OK,
                    bad, f->e.workers, shape, shape * shape};
    SJ_TRY(sj__rt_sum_ints(agree, 5));
    SJ_CHECK_FN("sj_pmap", (int64_t)agree[3] * agree[3] == (int64_t)f->np * agree[4], SJ_EINVAL,
                "n, in_size, out_size or whether opts->output is set differ between ranks");
    if (agree[0] != ROOT_OK)
        return root_check_error(agree[0], root, n, f->in_size, f->out_size);
    SJ_CHECK_FN("sj_pmap", !agree[1], SJ_ENOMEM, "cannot allocate the farm (on %d rank(s))",
                agree[1]);
    f->all_workers = agree[2];
    return SJ_OK;
}

/* Hand out and run the items, then every rank gets the root's summary. */
static int farm_run(sj__farm_t *f)
{
    /* on this rank's cores until the summary: a rank that finished first polls
     * for it while another rank's worker computes the last items */
    void *confined = sj__farm_confine();
    sj__farm_watch_begin("sj_pmap (its items, and the other ranks' messages)");
    int rc;
    SJ_TRY_GOTO(
        rc, f->np > 1 && !sj__rt_direct_mpi() ? sj__farm_run_static(f) : sj__farm_run_dynamic(f),
        out);
    if (f->np > 1)
        SJ_TRY_GOTO(rc, share_summary(f), out);
out:
    sj__farm_watch_end();
    sj__farm_unconfine(confined);
    return rc;
}

/* The summary, the same on every rank, into the caller's report and counts. */
static void farm_report(const sj__farm_t *f, sj_pmap_report_t *report)
{
    if (f->o.rank_items)
        memcpy(f->o.rank_items, f->rank_items, (size_t)f->np * sizeof *f->rank_items);
    if (!report)
        return;
    report->done = f->sum.done;
    report->failed = f->sum.failed;
    report->not_run = f->sum.not_run;
    report->retried = f->sum.retried;
    report->first_failed = f->sum.first_failed;
    report->first_error = f->sum.first_error;
    report->batches = f->sum.batches;
}

int sj_pmap(int64_t n, const void *in, size_t in_size, void *out, size_t out_size, sj_item_fn_t fn,
            const void *ctx, size_t ctx_size, const sj_pmap_options_t *opts,
            sj_pmap_report_t *report)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    const double t0 = sj__now();
    if (report) {
        memset(report, 0, sizeof *report);
        report->first_failed = -1;
    }
    SJ_TRY(check_args(n, in_size, out_size, fn, ctx, ctx_size));
    sj__farm_t f = {.n = n, .in = in, .in_size = in_size, .out = out, .out_size = out_size};
    if (opts)
        f.o = *opts;
    else
        sj_pmap_options_default(&f.o);
    SJ_TRY(check_options(&f.o));
    farm_prepare(&f);
    if (report)
        report->total = n;

    const long slack = sj__farm_timer_slack(1000); /* short polls must stay short */
    void *ctx_copy = ctx_size && n > 0 ? malloc(ctx_size) : (void *)ctx;
    if (ctx_size && ctx_copy && n > 0)
        memcpy(ctx_copy, ctx, ctx_size);
    f.progress_at = t0;
    int rc, clean = 0;
    SJ_TRY_GOTO(rc, farm_start(&f, fn, ctx_copy, ctx_size && !ctx_copy), done);
    if (n > 0) {
        SJ_TRY_GOTO(rc, farm_run(&f), done);
        clean = f.sum.error == 0; /* the same on every rank once the summary is shared */
        farm_report(&f, report);
        rc = farm_result(&f);
    }
done:
    sj__farm_timer_slack(slack);
    farm_free(&f, clean);
    if (ctx_size && n > 0)
        free(ctx_copy);
    if (report)
        report->seconds = sj__now() - t0;
    return rc < 0 ? sj__error_rename(rc, __func__) : rc;
}
