/*
 * Deterministic reductions. Each block is reduced by one task with a fixed
 * loop; the per-block results are combined along the pairwise tree of
 * sj__reduce_tree() (kernels.h), so the bits depend on the blocking only.
 *
 * Blocking path: per-block results (computed on the calling thread for small
 * local data, else by one task per block) go into a local array, one MPI_Allgatherv
 * brings every block's result to every rank, and each rank walks the tree
 * itself: one collective on the critical path, not a chain of task hops.
 * Graph path: the same combines as tasks on the block owners; the result is a
 * graph scalar on the owner of block 0.
 */
#include <stdlib.h>

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

/* Blocking reduction through the graph scalar, for MPI without THREAD_MULTIPLE. */
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

static int reduce_via_scalar(sj_reduce_op_t op, sj_array_t x, sj_array_t y, double *value)
{
    sj_scalar_t s;
    SJ_TRY(sj_array_reduce_scalar(op, x, y, &s));
    int rc = sj_scalar_value(s, value);
    sj_scalar_destroy(&s);
    return rc;
}

int sj_array_reduce(sj_reduce_op_t op, sj_array_t x, sj_array_t y, double *value)
{
    SJ_TRY(check_reduce(__func__, op, x, y));
    SJ_CHECK_NULL(value);
    if (!sj__rt_direct_mpi())
        return sj__named(reduce_via_scalar(op, x, y, value), __func__);

    const sj_dist_t d = x->dist;
    const int me = sj__rt_rank(), nranks = sj__rt_nranks(), total = d->total;
    const int nlocal = d->local_start[me + 1] - d->local_start[me];
    const int *mine = d->local + d->local_start[me];
    double *local = sj__calloc((size_t)nlocal, sizeof(double));
    double *all = sj__calloc((size_t)total, sizeof(double));
    double *part = sj__calloc((size_t)total, sizeof(double));
    int *counts = sj__calloc((size_t)nranks, sizeof(int));
    sj__data_t *tmp = sj__calloc((size_t)nlocal, sizeof(sj__data_t));
    int rc = (local && all && part && counts && tmp) ? SJ_OK : SJ_ENOMEM;
    int submitted = 0;
    if (inline_partials(x, nlocal, mine)) {
        sj__kargs_t args = {.dtype = x->space->dtype, .op = op};
        for (int i = 0; rc == SJ_OK && i < nlocal; i++) {
            sj__data_t in[2] = {x->handles[mine[i]], y ? y->handles[mine[i]] : NULL};
            rc = sj__rt_run_here(SJ__K_PARTIAL, &args, &local[i], 1, sizeof(double), y ? 2 : 1,
                                 in);
        }
    } else {
        for (; rc == SJ_OK && submitted < nlocal; submitted++) {
            sj__rt_data_register_local(&tmp[submitted], &local[submitted], 1, sizeof(double));
            rc = submit_partial(op, x, y, mine[submitted], tmp[submitted]);
        }
    }
    for (int i = 0; i < submitted; i++)
        sj__rt_data_unregister(tmp[i]); /* waits for the task, leaves the result in local[i] */
    if (rc == SJ_OK) {
        for (int r = 0; r < nranks; r++)
            counts[r] = d->local_start[r + 1] - d->local_start[r];
        rc = sj__rt_allgatherv_double(local, nlocal, all, counts, d->local_start);
    }
    if (rc == SJ_OK) {
        for (int i = 0; i < total; i++) /* grouped by owner -> block order */
            part[d->local[i]] = all[i];
        *value = sj__reduce_finish(op, sj__reduce_tree(op, part, total), array_length(x));
    }
    free(local);
    free(all);
    free(part);
    free(counts);
    free(tmp);
    return rc < 0 ? sj__error_rename(rc, __func__) : sj__rt_check_task_errors(__func__);
}

int sj_array_reduce_scalar(sj_reduce_op_t op, sj_array_t x, sj_array_t y, sj_scalar_t *result)
{
    SJ_CHECK_NULL(result);
    *result = NULL;
    SJ_TRY(check_reduce(__func__, op, x, y));
    const sj_dist_t d = x->dist;
    const int total = d->total;
    sj__data_t *part = sj__calloc((size_t)total, sizeof(sj__data_t));
    int64_t tag = part ? sj__tag_book(total) : -1;
    if (tag < 0) {
        free(part);
        return sj__error(SJ_ENOMEM, __func__, "cannot allocate the partial results");
    }
    int rc = SJ_OK;
    for (int b = 0; b < total; b++)
        sj__rt_data_register(&part[b], d->owner[b], tag + b, NULL, 1, sizeof(double));
    for (int b = 0; b < total && rc == SJ_OK; b++)
        rc = submit_partial(op, x, y, b, part[b]);
    sj__kargs_t args = {.op = op, .count = array_length(x)};
    for (int s = 1; s < total && rc == SJ_OK; s *= 2)
        for (int i = 0; i + s < total && rc == SJ_OK; i += 2 * s) {
            sj__buf_t bufs[2] = {{part[i], SJ__RW}, {part[i + s], SJ__R}};
            rc = sj__rt_submit(SJ__K_COMBINE, &args, sizeof args, 2, bufs);
        }
    if (rc == SJ_OK && (op == SJ_REDUCE_NORM2 || op == SJ_REDUCE_MEAN)) {
        /* the other reductions end with the last combine (sj__reduce_finish) */
        sj__buf_t fin = {part[0], SJ__RW};
        rc = sj__rt_submit(SJ__K_FINISH, &args, sizeof args, 1, &fin);
    }
    for (int b = 1; b < total; b++)
        sj__rt_data_unregister_submit(part[b]);
    sj__tag_release(tag + 1, total - 1);
    if (rc == SJ_OK)
        rc = sj__scalar_wrap(part[0], tag, d->owner[0], result);
    if (rc < 0) {
        sj__rt_data_unregister_submit(part[0]);
        sj__tag_release(tag, 1);
    }
    free(part);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_array_dot(sj_array_t x, sj_array_t y, double *value)
{
    int rc = sj_array_reduce(SJ_REDUCE_DOT, x, y, value);
    return rc < 0 ? sj__error_rename(rc, __func__) : rc;
}

int sj_array_norm(sj_array_t x, sj_norm_type_t type, double *value)
{
    SJ_CHECK(type == SJ_NORM_1 || type == SJ_NORM_2 || type == SJ_NORM_INF, SJ_EINVAL,
             "type is %d, not an sj_norm_type_t", (int)type);
    int rc = sj_array_reduce((sj_reduce_op_t)type, x, NULL, value);
    return rc < 0 ? sj__error_rename(rc, __func__) : rc;
}

#define SJ__REDUCE_WRAPPER(name, op)                                                               \
    int name(sj_array_t x, double *value)                                                          \
    {                                                                                              \
        int rc = sj_array_reduce(op, x, NULL, value);                                              \
        return rc < 0 ? sj__error_rename(rc, __func__) : rc;                                       \
    }

SJ__REDUCE_WRAPPER(sj_array_sum, SJ_REDUCE_SUM)
SJ__REDUCE_WRAPPER(sj_array_min, SJ_REDUCE_MIN)
SJ__REDUCE_WRAPPER(sj_array_max, SJ_REDUCE_MAX)
SJ__REDUCE_WRAPPER(sj_array_mean, SJ_REDUCE_MEAN)
