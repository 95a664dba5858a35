/*
 * Graph scalars: one double that every rank holds a copy of, each computed by
 * the same kernels from the same inputs (so the copies have the same bits).
 * Scalar arithmetic and the tasks that read a scalar therefore never cross
 * ranks; only the reduction that makes one exchanges data (reduce.c).
 */
#include <stdlib.h>

#include "array/array_private.h"

static void scalar_free(sj_scalar_t s)
{
    sj__rt_data_unregister_submit(s->handle);
    sj__object_remove(&s->obj);
    sj__object_free(s);
}

static void scalar_release_user(sj__object_t *o)
{
    scalar_free((sj_scalar_t)o);
}

int sj__scalar_wrap(sj__data_t handle, sj_scalar_t *out)
{
    sj_scalar_t s = sj__calloc(1, sizeof *s);
    if (!s)
        return SJ_ENOMEM;
    s->handle = handle;
    if (sj__object_add(&s->obj, SJ__KIND_SCALAR, scalar_release_user) < 0) {
        free(s);
        return sj__error(SJ_ENOMEM, "starjets", "cannot grow the set of live handles");
    }
    *out = s;
    return SJ_OK;
}

/* A new scalar (this rank's copy), written by the caller's task. */
static int scalar_new(const char *func, sj_scalar_t *out)
{
    sj__data_t h;
    sj__rt_data_register_local(&h, NULL, 1, sizeof(double));
    int rc = sj__scalar_wrap(h, out);
    if (rc < 0) {
        sj__rt_data_unregister_submit(h);
        return sj__error_rename(rc, func);
    }
    return SJ_OK;
}

int sj_scalar_create(double value, sj_scalar_t *scalar)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(scalar);
    *scalar = NULL;
    SJ_TRY(sj__check_running(__func__));
    SJ_TRY(scalar_new(__func__, scalar));
    sj__kargs_t args = {.a = value};
    sj__buf_t buf = {(*scalar)->handle, SJ__W};
    int rc = sj__rt_submit(SJ__K_SCALAR_SET, &args, sizeof args, 1, &buf);
    if (rc < 0)
        sj_scalar_destroy(scalar);
    return sj__named(rc, __func__);
}

int sj_scalar_binary(sj_scalar_op_t op, sj_scalar_t a, sj_scalar_t b, sj_scalar_t *c)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(c);
    *c = NULL;
    SJ_TRY(sj__check_running(__func__));
    SJ_CHECK_HANDLE(a, SJ__KIND_SCALAR);
    SJ_CHECK_HANDLE(b, SJ__KIND_SCALAR);
    SJ_CHECK(op >= SJ_SCALAR_ADD && op <= SJ_SCALAR_DIV, SJ_EINVAL,
             "op is %d, not an sj_scalar_op_t", (int)op);
    SJ_TRY(scalar_new(__func__, c));
    sj__kargs_t args = {.op = op};
    sj__buf_t bufs[3] = {{(*c)->handle, SJ__W}, {a->handle, SJ__R}, {b->handle, SJ__R}};
    int rc = sj__rt_submit(SJ__K_SCALAR_BINARY, &args, sizeof args, 3, bufs);
    if (rc < 0)
        sj_scalar_destroy(c);
    return sj__named(rc, __func__);
}

int sj__scalar_read(const char *func, sj_scalar_t scalar, double *value)
{
    const double *p = sj__rt_data_acquire(scalar->handle, SJ__R);
    SJ_CHECK_FN(func, p != NULL, SJ_ERUNTIME, "cannot acquire the scalar");
    *value = *p;
    sj__rt_data_release(scalar->handle);
    return sj__rt_check_task_errors(func);
}

void sj__scalar_free(sj_scalar_t scalar)
{
    scalar_free(scalar);
}

int sj_scalar_value(sj_scalar_t scalar, double *value)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_running(__func__));
    SJ_CHECK_HANDLE(scalar, SJ__KIND_SCALAR);
    SJ_CHECK_NULL(value);
    return sj__scalar_read(__func__, scalar, value);
}

int sj_scalar_destroy(sj_scalar_t *scalar)
{
    if (!scalar || !*scalar) {
        sj__rt_collective_noted(__func__); /* the ranks' call numbers stay in step */
        return SJ_OK;
    }
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_handle(__func__, "*scalar", *scalar, SJ__KIND_SCALAR));
    sj_scalar_t s = *scalar;
    *scalar = NULL;
    scalar_free(s);
    return SJ_OK;
}

/* Submit kernel k on every block of x (and y) with the scalar a read in the graph. */
static int submit_with_scalar(const char *func, sj__kernel_t k, double c, sj_scalar_t a,
                              sj_array_t x, sj_array_t y)
{
    SJ_CHECK_FN(func, a != NULL, SJ_ENULL, "scalar 'a' is NULL");
    SJ_TRY(sj__check_handle(func, "a", a, SJ__KIND_SCALAR));
    sj_array_t out = y ? y : x;
    sj__kargs_t args = {.dtype = x->space->dtype, .a = c};
    for (int b = 0; b < out->space->total; b++) {
        sj__buf_t bufs[3] = {{out->handles[b], SJ__RW}};
        int n = 1;
        if (y)
            bufs[n++] = (sj__buf_t){x->handles[b], SJ__R};
        bufs[n++] = (sj__buf_t){a->handle, SJ__R};
        SJ_TRY(sj__named(sj__rt_submit(k, &args, sizeof args, n, bufs), func));
    }
    return SJ_OK;
}

int sj_array_axpy_scalar(double c, sj_scalar_t a, sj_array_t x, sj_array_t y)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_same(__func__, "x", x, "y", y));
    SJ_CHECK(x != y, SJ_EINVAL, "x and y are the same array (use sj_array_scale_scalar)");
    return submit_with_scalar(__func__, SJ__K_AXPY_SCALAR, c, a, x, y);
}

int sj_array_scale_scalar(double c, sj_scalar_t a, sj_array_t x)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_array(__func__, "x", x));
    return submit_with_scalar(__func__, SJ__K_SCALE_SCALAR, c, a, x, NULL);
}

/* ---- an axpy fused with the dot of its result ------------------------------ */

typedef struct axpy_dot {
    sj__kargs_t args; /* op: the SJ__AXPY_DOT_* flags, without PARTIAL */
    sj_scalar_t a, b;
    sj_array_t x, y, w;
} axpy_dot_t;

/* The task of block @p block, writing its w . w into @p partial when given. */
static int axpy_dot_block(void *ctx, int block, sj__data_t partial)
{
    const axpy_dot_t *t = ctx;
    sj__kargs_t args = t->args;
    sj__buf_t bufs[6] = {{t->w->handles[block], t->y == t->w ? SJ__RW : SJ__W},
                         {t->x->handles[block], SJ__R}};
    int n = 2;
    if (t->y != t->w)
        bufs[n++] = (sj__buf_t){t->y->handles[block], SJ__R};
    bufs[n++] = (sj__buf_t){t->a->handle, SJ__R};
    if (t->b)
        bufs[n++] = (sj__buf_t){t->b->handle, SJ__R};
    if (partial) {
        args.op |= SJ__AXPY_DOT_PARTIAL;
        bufs[n++] = (sj__buf_t){partial, SJ__W};
    }
    return sj__rt_submit(SJ__K_AXPY_DOT, &args, sizeof args, n, bufs);
}

int sj_array_axpy_dot_scalar(double c, sj_scalar_t a, sj_scalar_t b, sj_array_t x, sj_array_t y,
                             sj_array_t w, sj_scalar_t *ww)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    if (ww)
        *ww = NULL;
    SJ_CHECK(a != NULL, SJ_ENULL, "scalar 'a' is NULL");
    SJ_TRY(sj__check_handle(__func__, "a", a, SJ__KIND_SCALAR));
    if (b)
        SJ_TRY(sj__check_handle(__func__, "b", b, SJ__KIND_SCALAR));
    SJ_TRY(sj__check_same(__func__, "x", x, "y", y));
    SJ_TRY(sj__check_same(__func__, "x", x, "w", w));
    SJ_CHECK(x != w, SJ_EINVAL, "x and w are the same array: w = c a x + y may not overwrite x");
    axpy_dot_t t = {
        .args = {.dtype = x->space->dtype,
                 .a = c,
                 .op = (y != w ? SJ__AXPY_DOT_Y : 0) | (b ? SJ__AXPY_DOT_DIV : 0)},
        .a = a,
        .b = b,
        .x = x,
        .y = y,
        .w = w,
    };
    if (ww)
        return sj__named(sj__array_reduce_graph(SJ_REDUCE_DOT, w, axpy_dot_block, &t, ww),
                         __func__);
    /* no reduction: the blocks this rank owns (x, y and w share the layout) */
    const sj_dist_t d = w->dist;
    const int me = sj__rt_rank();
    for (int i = d->local_start[me]; i < d->local_start[me + 1]; i++)
        SJ_TRY(sj__named(axpy_dot_block(&t, d->local[i], NULL), __func__));
    return SJ_OK;
}
