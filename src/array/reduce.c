/*
 * Deterministic reductions. Each block is reduced by one task with a fixed
 * loop; the per-block results are combined along the pairwise tree of
 * sj__reduce_tree() (kernels.h), so the bits depend on the blocking only.
 *
 * Blocking path: per-block results (computed on the calling thread for small
 * local data, else by one task per block) go into a local array, one MPI_Allgatherv
 * brings every block's result to every rank, and each rank walks the tree
 * itself: one collective on the critical path, not a chain of task hops.
 * Graph path: every rank sends its blocks' results to every other and walks
 * the same tree in a task of its own, into its copy of the graph scalar
 * (sj_array_reduce_scalar).
 */
#include <stdlib.h>
#include <string.h>

#include "array/array_private.h"

static int check_reduce(const char *func, sj_reduce_op_t op, sj_array_t x, sj_array_t y)
{
    SJ_TRY(sj__check_array(func, "x", x));
    SJ_CHECK_FN(func, op >= SJ_REDUCE_SUM && op <= SJ_REDUCE_DOT, SJ_EINVAL,
                "op is %d, not an sj_reduce_op_t", (int)op);
    if (op == SJ_REDUCE_DOT) {
        SJ_CHECK_FN(func, y != NULL, SJ_ENULL, "y is NULL but the reduction is a dot product");
        SJ_TRY(sj__check_same(func, "x", x, "y", y));
    } else {
        SJ_CHECK_FN(func, y == NULL, SJ_EINVAL, "y is given but the reduction takes one array");
    }
    return SJ_OK;
}

static int64_t array_length(sj_array_t x)
{
    int64_t n;
    sj_space_length(x->space, &n);
    return n;
}

/* The per-block task of block b of x (and y), writing into @p out. */
static int submit_partial(sj_reduce_op_t op, sj_array_t x, sj_array_t y, int b, sj__data_t out)
{
    sj__kargs_t args = {.dtype = x->space->dtype, .op = op};
    sj__buf_t bufs[3] = {{out, SJ__W}, {x->handles[b], SJ__R}, {y ? y->handles[b] : NULL, SJ__R}};
    return sj__rt_submit(SJ__K_PARTIAL, &args, sizeof args, y ? 3 : 2, bufs);
}

/*
 * A blocking reduction computes its partial results on the calling thread when
 * this rank holds one block, or at most SJ__INLINE_ELEMS elements: a task
 * would cost a worker wake-up and a wait (tens of microseconds) for a kernel
 * of a few; bigger local data keeps one task per block, run in parallel by the
 * workers. The bits are the same either way (the same kernel).
 */
#define SJ__INLINE_ELEMS 32768

static int inline_partials(sj_array_t x, int nlocal, const int *mine)
{
    int64_t elems = 0;
    for (int i = 0; i < nlocal; i++)
        elems += sj__space_block_nelems(x->space, mine[i]);
    return nlocal == 1 || elems <= SJ__INLINE_ELEMS;
}

static int reduce_via_scalar(const char *func, sj_reduce_op_t op, sj_array_t x, sj_array_t y,
                             double *value);

/*
 * This rank's per-block results into @p local (nlocal doubles, in the order of
 * the layout's local blocks @p mine), on this thread when they are small, else
 * as tasks waited for here.
 */
static int local_partials(sj_reduce_op_t op, sj_array_t x, sj_array_t y, int nlocal,
                          const int mine[], double local[])
{
    if (inline_partials(x, nlocal, mine)) {
        sj__kargs_t args = {.dtype = x->space->dtype, .op = op};
        for (int i = 0; i < nlocal; i++) {
            sj__data_t in[2] = {x->handles[mine[i]], y ? y->handles[mine[i]] : NULL};
            SJ_TRY(
                sj__rt_run_here(SJ__K_PARTIAL, &args, &local[i], 1, sizeof(double), y ? 2 : 1, in));
        }
        return SJ_OK;
    }
    sj__data_t *tmp = sj__calloc((size_t)nlocal, sizeof *tmp);
    if (!tmp)
        return SJ_ENOMEM;
    int rc = SJ_OK, submitted = 0;
    while (submitted < nlocal) {
        const int i = submitted++;
        sj__rt_data_register_local(&tmp[i], &local[i], 1, sizeof(double));
        SJ_TRY_GOTO(rc, submit_partial(op, x, y, mine[i], tmp[i]), out);
    }
out:
    for (int i = 0; i < submitted; i++)
        sj__rt_data_unregister(tmp[i]); /* waits for the task, leaves the result in local[i] */
    free(tmp);
    return rc;
}

/* sj_array_reduce after its collective check (the named reductions' body too,
 * so that one call of theirs is one collective call, under its own name). */
static int reduce_blocking(sj_reduce_op_t op, sj_array_t x, sj_array_t y, double *value);

int sj_array_reduce(sj_reduce_op_t op, sj_array_t x, sj_array_t y, double *value)
{
    SJ_TRY(sj__rt_check_collective_key(__func__, "op=%d", (int)op));
    return sj__named(reduce_blocking(op, x, y, value), __func__);
}

static int reduce_blocking(sj_reduce_op_t op, sj_array_t x, sj_array_t y, double *value)
{
    SJ_TRY(check_reduce(__func__, op, x, y));
    SJ_CHECK_NULL(value);
    if (!sj__rt_direct_mpi())
        return sj__named(reduce_via_scalar(__func__, op, x, y, value), __func__);

    /* One gather carries each rank's per-block results and, after them, its
     * count of failed tasks: the task-error check costs no collective of its own. */
    const sj_dist_t d = x->dist;
    const int me = sj__rt_rank(), nranks = sj__rt_nranks(), total = d->total;
    const int nlocal = d->local_start[me + 1] - d->local_start[me];
    double *local = sj__calloc((size_t)nlocal + 1, sizeof(double));
    double *all = sj__calloc((size_t)(total + nranks), sizeof(double));
    double *part = sj__calloc((size_t)total, sizeof(double));
    int *counts = sj__calloc((size_t)nranks, sizeof(int));
    int *displs = sj__calloc((size_t)nranks, sizeof(int));
    sj__task_errors_t errors;
    int rc;
    SJ_TRY_GOTO(rc, local && all && part && counts && displs ? SJ_OK : SJ_ENOMEM, out);
    SJ_TRY_GOTO(rc, local_partials(op, x, y, nlocal, d->local + d->local_start[me], local), out);
    SJ_TRY_GOTO(rc, sj__rt_task_errors_take(&errors), out);
    local[nlocal] = errors.local;
    for (int r = 0; r < nranks; r++) {
        counts[r] = d->local_start[r + 1] - d->local_start[r] + 1;
        displs[r] = d->local_start[r] + r;
    }
    rc = sj__rt_allgatherv_double(local, nlocal + 1, all, counts, displs);
    if (rc < 0) {
        sj__rt_task_errors_putback(&errors); /* reported by the next check */
        goto out;
    }
    double failed = 0;
    for (int r = 0; r < nranks; r++) { /* grouped by owner -> block order */
        for (int i = d->local_start[r]; i < d->local_start[r + 1]; i++)
            part[d->local[i]] = all[i + r];
        failed += all[d->local_start[r + 1] + r];
    }
    *value = sj__reduce_finish(op, sj__reduce_tree(op, part, total), array_length(x));
    rc = sj__rt_task_errors_verdict(__func__, &errors, (int)failed);
out:
    free(local);
    free(all);
    free(part);
    free(counts);
    free(displs);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

/*
 * Most inputs of one gather or reduce-all task (buffer 0 is its output).
 * Tests lower it with SJ_TEST_GATHER_MAX=k, so that a few ranks run the paths
 * that more than SJ__RT_MAX_BUFS - 1 ranks (or blocks per rank) take.
 */
static int gather_max(void)
{
    static int max = 0;
    if (max == 0) {
        const char *e = getenv("SJ_TEST_GATHER_MAX");
        const int k = e ? atoi(e) : 0;
        max = k >= 1 && k < SJ__RT_MAX_BUFS - 1 ? k : SJ__RT_MAX_BUFS - 1;
    }
    return max;
}

/* Copy the vectors in[0..n) (len[i] doubles each) one after the other into out. */
static int submit_gather(sj__data_t out, int n, const sj__data_t in[], const int len[])
{
    sj__kargs_t args = {0};
    sj__buf_t bufs[SJ__RT_MAX_BUFS];
    int64_t at = 0;
    for (int i = 0; i < n;) {
        const int k = n - i < gather_max() ? n - i : gather_max();
        args.count = at;
        args.nin = k;
        bufs[0] = (sj__buf_t){out, at == 0 ? SJ__W : SJ__RW};
        for (int j = 0; j < k; j++) {
            bufs[1 + j] = (sj__buf_t){in[i + j], SJ__R};
            at += len[i + j];
        }
        SJ_TRY(sj__rt_submit(SJ__K_GATHER, &args, sizeof args, 1 + k, bufs));
        i += k;
    }
    return SJ_OK;
}

/*
 * This rank's per-block results into @p mine (nlocal doubles, in the order of
 * the layout's local blocks): one task per block, then one gather when there
 * are several.
 */
static int submit_local_partials(sj__partial_fn_t partial, void *ctx, int nlocal,
                                 const int blocks[], sj__data_t mine)
{
    if (nlocal == 1)
        return partial(ctx, blocks[0], mine);
    sj__data_t *part = sj__calloc((size_t)nlocal, sizeof *part);
    int *ones = sj__calloc((size_t)nlocal, sizeof *ones);
    int rc, made = 0;
    SJ_TRY_GOTO(rc, part && ones ? SJ_OK : SJ_ENOMEM, out);
    while (made < nlocal) {
        const int i = made++;
        sj__rt_data_register_local(&part[i], NULL, 1, sizeof(double));
        ones[i] = 1;
        SJ_TRY_GOTO(rc, partial(ctx, blocks[i], part[i]), out);
    }
    SJ_TRY_GOTO(rc, submit_gather(mine, nlocal, part, ones), out);
out:
    for (int i = 0; i < made; i++)
        sj__rt_data_unregister_submit(part[i]);
    free(part);
    free(ones);
    return rc;
}

/*
 * The exchange handles of x's graph reductions, made at the first one: for
 * each rank r with blocks, this rank's copy of r's per-block results (r's own
 * copy is the one it sends), registered under tag xtag + r so that StarPU-MPI
 * sizes a message that arrives before its receive is posted. Consecutive
 * reductions of x reuse them: a handle is written only after the previous
 * reduction's send, receive and combine have read it (StarPU orders that),
 * and messages under one tag between two ranks arrive in order.
 */
static int exchange_handles(sj_array_t x)
{
    if (x->xvec)
        return SJ_OK;
    const sj_dist_t d = x->dist;
    const int me = sj__rt_rank(), nranks = sj__rt_nranks();
    sj__data_t *vec = sj__calloc((size_t)nranks, sizeof *vec);
    int64_t tag = vec ? sj__tag_book(nranks) : -1;
    if (tag < 0) {
        free(vec);
        return SJ_ENOMEM;
    }
    for (int r = 0; r < nranks; r++) {
        const int len = d->local_start[r + 1] - d->local_start[r];
        if (len > 0)
            sj__rt_data_register(&vec[r], me, tag + r, NULL, (size_t)len, sizeof(double));
    }
    x->xvec = vec;
    x->xtag = tag;
    return SJ_OK;
}

void sj__array_reduce_fini(sj_array_t a)
{
    if (!a->xvec)
        return;
    for (int r = 0; r < sj__rt_nranks(); r++)
        if (a->xvec[r])
            sj__rt_data_unregister_submit(a->xvec[r]);
    sj__tag_release(a->xtag, sj__rt_nranks());
    free(a->xvec);
    a->xvec = NULL;
}

/* A reduction's own per-block task (sj_array_reduce_scalar). */
typedef struct partial_ctx {
    sj_reduce_op_t op;
    sj_array_t x, y;
} partial_ctx_t;

static int plain_partial(void *ctx, int block, sj__data_t out)
{
    const partial_ctx_t *c = ctx;
    return submit_partial(c->op, c->x, c->y, block, out);
}

/* Blocking reduction through the graph scalar, for MPI without THREAD_MULTIPLE:
 * the program made one collective call (the reduction), whatever the thread level. */
static int reduce_via_scalar(const char *func, sj_reduce_op_t op, sj_array_t x, sj_array_t y,
                             double *value)
{
    sj_scalar_t s;
    partial_ctx_t ctx = {op, x, y};
    SJ_TRY(sj__named(sj__array_reduce_graph(op, x, plain_partial, &ctx, &s), func));
    int rc = sj__scalar_read(func, s, value);
    sj__scalar_free(s);
    return rc;
}

int sj_array_reduce_scalar(sj_reduce_op_t op, sj_array_t x, sj_array_t y, sj_scalar_t *result)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(result);
    *result = NULL;
    SJ_TRY(check_reduce(__func__, op, x, y));
    partial_ctx_t ctx = {op, x, y};
    return sj__named(sj__array_reduce_graph(op, x, plain_partial, &ctx, result), __func__);
}

/*
 * The graph path. Each rank computes its blocks' results into its exchange
 * vector, sends it to every other rank and receives theirs (P - 1 messages
 * each way: one hop, however many ranks), then every rank runs the same tree
 * over all results in block order into its own copy of the scalar. Nothing is
 * cached by StarPU-MPI, so nothing needs flushing.
 */
int sj__array_reduce_graph(sj_reduce_op_t op, sj_array_t x, sj__partial_fn_t partial, void *ctx,
                           sj_scalar_t *result)
{
    const sj_dist_t d = x->dist;
    const int me = sj__rt_rank(), nranks = sj__rt_nranks(), total = d->total;
    sj__data_t *in = sj__calloc((size_t)nranks, sizeof *in);
    int *len = sj__calloc((size_t)nranks, sizeof *len);
    size_t argsize = sizeof(sj__kargs_t) + (size_t)total * sizeof(int);
    sj__kargs_t *args = sj__calloc(1, argsize);
    int rc = in && len && args ? exchange_handles(x) : SJ_ENOMEM;
    if (rc < 0) {
        free(in);
        free(len);
        free(args);
        return sj__error(SJ_ENOMEM, __func__, "cannot allocate the partial results");
    }
    /* in[k], len[k]: the ranks with blocks, in rank order, which is the
     * order of d->local (blocks grouped by owner) */
    int nin = 0, mine = -1;
    for (int r = 0; r < nranks; r++)
        if (x->xvec[r]) {
            if (r == me)
                mine = nin;
            in[nin] = x->xvec[r];
            len[nin++] = d->local_start[r + 1] - d->local_start[r];
        }
    sj__data_t s = NULL, all = NULL;
    if (mine >= 0) {
        SJ_TRY_GOTO(
            rc,
            submit_local_partials(partial, ctx, len[mine], d->local + d->local_start[me], in[mine]),
            out);
        for (int r = 0; r < nranks; r++)
            if (r != me)
                sj__rt_send_detached(in[mine], r, x->xtag + me);
    }
    for (int r = 0; r < nranks; r++)
        if (r != me && x->xvec[r])
            sj__rt_recv_detached(x->xvec[r], r, x->xtag + r);

    sj__rt_data_register_local(&s, NULL, 1, sizeof(double));
    *args = (sj__kargs_t){.op = op, .count = array_length(x), .nin = nin};
    memcpy(args + 1, d->local, (size_t)total * sizeof(int));
    sj__buf_t bufs[SJ__RT_MAX_BUFS] = {{s, SJ__W}};
    if (nin <= gather_max()) {
        for (int k = 0; k < nin; k++)
            bufs[1 + k] = (sj__buf_t){in[k], SJ__R};
    } else {
        sj__rt_data_register_local(&all, NULL, (size_t)total, sizeof(double));
        SJ_TRY_GOTO(rc, submit_gather(all, nin, in, len), out);
        bufs[1] = (sj__buf_t){all, SJ__R};
        args->nin = 1;
    }
    SJ_TRY_GOTO(rc, sj__rt_submit(SJ__K_REDUCE_ALL, args, argsize, 1 + args->nin, bufs), out);
    SJ_TRY_GOTO(rc, sj__scalar_wrap(s, result), out);
out:
    if (all)
        sj__rt_data_unregister_submit(all);
    if (rc < 0 && s)
        sj__rt_data_unregister_submit(s);
    free(in);
    free(len);
    free(args);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_array_dot(sj_array_t x, sj_array_t y, double *value)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return sj__named(reduce_blocking(SJ_REDUCE_DOT, x, y, value), __func__);
}

int sj_array_norm(sj_norm_type_t type, sj_array_t x, double *value)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK(type == SJ_NORM_1 || type == SJ_NORM_2 || type == SJ_NORM_INF, SJ_EINVAL,
             "type is %d, not an sj_norm_type_t", (int)type);
    return sj__named(reduce_blocking((sj_reduce_op_t)type, x, NULL, value), __func__);
}

#define SJ__REDUCE_WRAPPER(name, op)                                                               \
    int name(sj_array_t x, double *value)                                                          \
    {                                                                                              \
        SJ_TRY(sj__rt_check_collective(__func__));                                                 \
        return sj__named(reduce_blocking(op, x, NULL, value), __func__);                           \
    }

SJ__REDUCE_WRAPPER(sj_array_sum, SJ_REDUCE_SUM)
SJ__REDUCE_WRAPPER(sj_array_min, SJ_REDUCE_MIN)
SJ__REDUCE_WRAPPER(sj_array_max, SJ_REDUCE_MAX)
SJ__REDUCE_WRAPPER(sj_array_mean, SJ_REDUCE_MEAN)
