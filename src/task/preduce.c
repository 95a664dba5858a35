/*
 * sj_preduce: a distributed loop with a reducer.
 *
 * The range is cut into K = min(len, SJ_PREDUCE_PARTS) parts fixed by the
 * range alone; the parts are dealt to the ranks in contiguous runs, each part
 * is folded by one task on the rank's workers, one all-gather gives every
 * rank every part's accumulator, and every rank combines them along the same
 * pairwise tree. So the bits never depend on the number of ranks, and the
 * critical path has one collective rather than a chain of task hops.
 *
 * Each part travels as a record: a header (how the fold ended) followed by
 * the accumulator, padded so that every accumulator is 16-byte aligned.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/array.h"
#include "task/task_private.h"

enum { PART_OK = 0, PART_FOLD_FAILED = 1, PART_NOT_RUN = 2 };

typedef struct part_head {
    int32_t state; /* PART_* */
    int32_t rc;    /* what fold returned */
    int64_t fail_index;
} part_head_t;

#define ACC_OFFSET 16
#define ALIGN16(x) (((x) + 15) & ~(size_t)15)
#define MAX_BYTES ((size_t)1 << 20)

static unsigned char *record(unsigned char *all, size_t rec, int64_t p)
{
    return all + (size_t)p * rec;
}

/* Fold this rank's parts [p0, p1) as tasks; fills their record heads. */
static void fold_parts(unsigned char *all, size_t rec, int64_t p0, int64_t p1, int64_t lo,
                       int64_t len, int64_t k, sj_fold_fn_t fold, void *ctx, sj__part_args_t *args,
                       sj__pool_t pool, sj__kernel_t kernel)
{
    int64_t submitted = 0;
    for (int64_t p = p0; p < p1; p++) {
        part_head_t *h = (part_head_t *)record(all, rec, p);
        h->state = PART_NOT_RUN;
        sj__part_args_t *a = &args[p - p0];
        a->fold = fold;
        a->ctx = ctx;
        a->lo = lo + sj__split_lo(p, len, k);
        a->hi = lo + sj__split_lo(p + 1, len, k);
        a->acc = record(all, rec, p) + ACC_OFFSET;
        if (sj__pool_submit(pool, kernel, a, p) < 0)
            break;
        submitted++;
    }
    int64_t cookies[256];
    for (int64_t got = 0; got < submitted;) {
        int n = sj__pool_wait(pool, cookies, 256, 0.05);
        for (int i = 0; i < n; i++) {
            const int64_t p = cookies[i];
            part_head_t *h = (part_head_t *)record(all, rec, p);
            const sj__part_args_t *a = &args[p - p0];
            h->state = a->rc ? PART_FOLD_FAILED : PART_OK;
            h->rc = a->rc;
            h->fail_index = a->fail_index;
        }
        got += n;
    }
}

static int check_preduce(int64_t lo, int64_t hi, size_t acc_size, sj_fold_fn_t fold,
                         sj_combine_fn_t combine, const void *init, void *result, const void *ctx,
                         size_t ctx_size)
{
    const char *f = "sj_preduce";
    SJ_CHECK_FN(f, sj__rt_running(), SJ_ESTATE, "starjets is not initialised");
    SJ_CHECK_FN(f, fold != NULL, SJ_ENULL, "argument 'fold' is NULL");
    SJ_CHECK_FN(f, combine != NULL, SJ_ENULL, "argument 'combine' is NULL");
    SJ_CHECK_FN(f, init != NULL, SJ_ENULL, "argument 'init' is NULL");
    SJ_CHECK_FN(f, result != NULL, SJ_ENULL, "argument 'result' is NULL");
    SJ_CHECK_FN(f, hi >= lo, SJ_ERANGE, "the range [lo, hi) = [%lld, %lld) has hi < lo",
                (long long)lo, (long long)hi);
    SJ_CHECK_FN(f, (uint64_t)hi - (uint64_t)lo <= (uint64_t)INT64_MAX, SJ_ESIZE,
                "the range [%lld, %lld) has more than 2^63 - 1 indices", (long long)lo,
                (long long)hi);
    SJ_CHECK_FN(f, acc_size > 0 && acc_size <= MAX_BYTES, SJ_ESIZE,
                "acc_size is %zu, expected 1 to %zu bytes", acc_size, MAX_BYTES);
    SJ_CHECK_FN(f, ctx != NULL || ctx_size == 0, SJ_ENULL, "ctx is NULL but ctx_size is %zu",
                ctx_size);
    SJ_CHECK_FN(f, ctx_size <= MAX_BYTES, SJ_ESIZE, "ctx_size is %zu, more than 1 MiB", ctx_size);
    return SJ_OK;
}

/* After the all-gather: the first failed part (same on every rank), or the tree. */
static int combine_parts(unsigned char *all, size_t rec, int64_t k, int64_t lo, int64_t len,
                         sj_combine_fn_t combine, void *ctx)
{
    for (int64_t p = 0; p < k; p++) {
        const part_head_t *h = (const part_head_t *)record(all, rec, p);
        if (h->state == PART_FOLD_FAILED)
            return sj__error(SJ_EUSER, "sj_preduce", "fold returned %d at index %lld (part %lld)",
                             (int)h->rc, (long long)h->fail_index, (long long)p);
        if (h->state != PART_OK)
            return sj__error(SJ_ERUNTIME, "sj_preduce",
                             "part %lld ([%lld, %lld)) could not be submitted as a task",
                             (long long)p, (long long)(lo + sj__split_lo(p, len, k)),
                             (long long)(lo + sj__split_lo(p + 1, len, k)));
    }
    for (int64_t s = 1; s < k; s *= 2)
        for (int64_t p = 0; p + s < k; p += 2 * s) {
            int rc = combine(record(all, rec, p) + ACC_OFFSET, record(all, rec, p + s) + ACC_OFFSET,
                             ctx);
            if (rc != 0)
                return sj__error(SJ_EUSER, "sj_preduce",
                                 "combine returned %d on parts %lld and %lld", rc, (long long)p,
                                 (long long)(p + s));
        }
    return SJ_OK;
}

int sj_preduce(int64_t lo, int64_t hi, size_t acc_size, sj_fold_fn_t fold, sj_combine_fn_t combine,
               const void *init, const void *ctx, size_t ctx_size, void *result)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(check_preduce(lo, hi, acc_size, fold, combine, init, result, ctx, ctx_size));
    const int64_t len = (int64_t)((uint64_t)hi - (uint64_t)lo);
    if (len == 0) {
        memmove(result, init, acc_size);
        return SJ_OK;
    }
    const int np = sj__rt_nranks(), me = sj__rt_rank();
    const int64_t k = len < SJ_PREDUCE_PARTS ? len : SJ_PREDUCE_PARTS;
    const int64_t p0 = sj__split_lo(me, k, np), p1 = sj__split_lo(me + 1, k, np);
    const size_t rec = ACC_OFFSET + ALIGN16(acc_size);

    const long slack = sj__farm_timer_slack(1000); /* see pmap.c */
    unsigned char *all = calloc((size_t)k, rec);
    sj__part_args_t *args = calloc((size_t)(p1 > p0 ? p1 - p0 : 1), sizeof *args);
    size_t *sizes = calloc((size_t)np, sizeof *sizes);
    void *ctx_copy = ctx_size ? malloc(ctx_size) : (void *)ctx;
    sj__pool_t pool = NULL;
    int bad = !all || !args || !sizes || (ctx_size && !ctx_copy) || sj__pool_create(&pool) < 0;
    int nbad = 0;
    int rc;
    SJ_TRY_GOTO(rc, sj__rt_sum_int(bad, &nbad), out);
    if (nbad) {
        rc = sj__error(SJ_ENOMEM, __func__,
                       "cannot allocate %lld parts of %zu bytes (on %d rank(s))", (long long)k, rec,
                       nbad);
        goto out;
    }
    if (ctx_size)
        memcpy(ctx_copy, ctx, ctx_size);
    for (int64_t p = p0; p < p1; p++)
        memcpy(record(all, rec, p) + ACC_OFFSET, init, acc_size);
    sj__farm_watch_begin("sj_preduce (its parts)");
    fold_parts(all, rec, p0, p1, lo, len, k, fold, ctx_copy, args, pool, SJ__K_PREDUCE_PART);
    sj__farm_watch_end();
    for (int r = 0; r < np; r++)
        sizes[r] = (size_t)(sj__split_lo(r + 1, k, np) - sj__split_lo(r, k, np)) * rec;
    SJ_TRY_GOTO(rc, sj__rt_allgatherv(record(all, rec, p0), all, sizes), out);
    SJ_TRY_GOTO(rc, combine_parts(all, rec, k, lo, len, combine, ctx_copy), out);
    memcpy(result, record(all, rec, 0) + ACC_OFFSET, acc_size);
out:
    sj__pool_destroy(&pool);
    sj__farm_timer_slack(slack);
    free(all);
    free(args);
    free(sizes);
    if (ctx_size)
        free(ctx_copy);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

/* ---- built-in reducers for doubles ------------------------------------------------ */

/* sj_preduce_double()'s context for sj_preduce(): this header, then the user's ctx bytes. */
typedef struct term_ctx {
    sj_term_fn_t term;
    int op;
    int copied;                                 /* ctx_size > 0: term gets user, the copy */
    void *as_is;                                /* else the caller's ctx, as is (maybe NULL) */
    _Alignas(max_align_t) unsigned char user[]; /* ctx_size bytes of the user's ctx */
} term_ctx_t;

static int fold_double(void *acc, int64_t i, void *ctx)
{
    term_ctx_t *t = ctx;
    double *a = acc;
    *a = sj__reduce_combine(t->op, *a, t->term(i, t->copied ? (void *)t->user : t->as_is));
    return 0;
}

static int combine_double(void *a, const void *b, void *ctx)
{
    const term_ctx_t *t = ctx;
    *(double *)a = sj__reduce_combine(t->op, *(double *)a, *(const double *)b);
    return 0;
}

int sj_preduce_double(int64_t lo, int64_t hi, sj_reduce_op_t op, sj_term_fn_t term, const void *ctx,
                      size_t ctx_size, double *value)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK(sj__rt_running(), SJ_ESTATE, "starjets is not initialised");
    SJ_CHECK_NULL(term);
    SJ_CHECK_NULL(value);
    SJ_CHECK(op == SJ_REDUCE_SUM || op == SJ_REDUCE_MIN || op == SJ_REDUCE_MAX, SJ_EINVAL,
             "op is %d; expected SJ_REDUCE_SUM, SJ_REDUCE_MIN or SJ_REDUCE_MAX", (int)op);
    SJ_CHECK(ctx != NULL || ctx_size == 0, SJ_ENULL, "ctx is NULL but ctx_size is %zu", ctx_size);
    SJ_CHECK(ctx_size <= MAX_BYTES, SJ_ESIZE, "ctx_size is %zu, more than 1 MiB", ctx_size);
    const size_t bytes = sizeof(term_ctx_t) + ctx_size;
    term_ctx_t *t = sj__calloc(1, bytes);
    if (!t)
        return sj__error_rename(SJ_ENOMEM, __func__);
    t->term = term;
    t->op = (int)op;
    t->copied = ctx_size > 0;
    t->as_is = ctx_size ? NULL : (void *)ctx;
    if (ctx_size)
        memcpy(t->user, ctx, ctx_size);
    const double init = op == SJ_REDUCE_SUM ? 0.0 : op == SJ_REDUCE_MIN ? INFINITY : -INFINITY;
    int rc =
        sj_preduce(lo, hi, sizeof(double), fold_double, combine_double, &init, t, bytes, value);
    free(t);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

/* ---- agreement -------------------------------------------------------------------- */

int sj_allreduce_int64(sj_reduce_op_t op, int64_t *value)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    /* Every rank takes part even with bad arguments, so that all fail alike
     * instead of leaving the others waiting: first the verdicts and the ops. */
    const int bad_op = op != SJ_REDUCE_SUM && op != SJ_REDUCE_MIN && op != SJ_REDUCE_MAX;
    int64_t check[3] = {value == NULL || bad_op, (int64_t)op, -(int64_t)op};
    SJ_TRY(sj__named(sj__rt_allreduce_i64(check, 3, SJ__RT_MAX), __func__));
    SJ_CHECK_NULL(value);
    SJ_CHECK(!bad_op, SJ_EINVAL, "op is %d; expected SJ_REDUCE_SUM, SJ_REDUCE_MIN or SJ_REDUCE_MAX",
             (int)op);
    SJ_CHECK(check[0] == 0, SJ_EINVAL, "another rank passed a NULL value or a bad op");
    SJ_CHECK(check[1] == -check[2], SJ_EINVAL, "the ranks passed different ops (from %lld to %lld)",
             (long long)-check[2], (long long)check[1]);
    const sj__rt_op_t how = op == SJ_REDUCE_SUM   ? SJ__RT_SUM
                            : op == SJ_REDUCE_MIN ? SJ__RT_MIN
                                                  : SJ__RT_MAX;
    return sj__named(sj__rt_allreduce_i64(value, 1, how), __func__);
}
