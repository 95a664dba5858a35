/* Block-parallel algebra: every call submits one task per block, owner computes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array/array_private.h"

int sj__array_submit_local(sj__kernel_t k, sj__kargs_t *args, int with_info, sj__mode_t m0, int n,
                           sj_array_t arrays[])
{
    sj_array_t a = arrays[0];
    const int me = sj__rt_rank();
    const int count = a->dist->local_start[me + 1] - a->dist->local_start[me];
    const int *blocks = a->dist->local + a->dist->local_start[me];
    sj__buf_t bufs[3];
    for (int i = 0; i < count; i++) {
        const int b = blocks[i];
        if (with_info)
            sj__space_block_info(a->space, b, &args->blk);
        for (int j = 0; j < n; j++) {
            bufs[j].data = arrays[j]->handles[b];
            bufs[j].mode = j == 0 ? m0 : SJ__R;
        }
        SJ_TRY(sj__rt_submit(k, args, sizeof *args, n, bufs));
    }
    return SJ_OK;
}

int sj_array_fill(double value, sj_array_t array)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_array(__func__, "array", array));
    sj__kargs_t args = {.dtype = array->space->dtype, .a = value};
    return sj__named(sj__array_submit_local(SJ__K_FILL, &args, 0, SJ__W, 1, &array), __func__);
}

int sj_array_scale(double alpha, sj_array_t x)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_array(__func__, "x", x));
    if (alpha == 1.0)
        return SJ_OK;
    sj__kargs_t args = {.dtype = x->space->dtype, .a = alpha};
    return sj__named(sj__array_submit_local(SJ__K_SCALE, &args, 0, SJ__RW, 1, &x), __func__);
}

static int axpby(const char *func, double alpha, sj_array_t x, double beta, sj_array_t y)
{
    SJ_TRY(sj__check_same(func, "x", x, "y", y));
    SJ_CHECK_FN(func, x != y, SJ_EINVAL, "x and y are the same array (use sj_array_scale)");
    sj__kargs_t args = {.dtype = x->space->dtype, .a = alpha, .b = beta};
    sj_array_t arrays[2] = {y, x};
    return sj__named(sj__array_submit_local(SJ__K_AXPBY, &args, 0, SJ__RW, 2, arrays), func);
}

int sj_array_axpy(double alpha, sj_array_t x, sj_array_t y)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return axpby(__func__, alpha, x, 1.0, y);
}

int sj_array_axpby(double alpha, sj_array_t x, double beta, sj_array_t y)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return axpby(__func__, alpha, x, beta, y);
}

int sj_array_mul(sj_array_t x, sj_array_t y, sj_array_t z)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_same(__func__, "z", z, "x", x));
    SJ_TRY(sj__check_same(__func__, "z", z, "y", y));
    sj__kargs_t args = {.dtype = z->space->dtype};
    if (z == x && z == y) {
        args.op = SJ__MUL_ZZZ;
        return sj__named(sj__array_submit_local(SJ__K_MUL, &args, 0, SJ__RW, 1, &z), __func__);
    }
    if (z == x || z == y) {
        args.op = SJ__MUL_ZZY;
        sj_array_t arrays[2] = {z, z == x ? y : x};
        return sj__named(sj__array_submit_local(SJ__K_MUL, &args, 0, SJ__RW, 2, arrays), __func__);
    }
    args.op = SJ__MUL_ZXY;
    sj_array_t arrays[3] = {z, x, y};
    /* x == y is fine: two read accesses to one handle */
    return sj__named(sj__array_submit_local(SJ__K_MUL, &args, 0, SJ__W, 3, arrays), __func__);
}

int sj_array_copyto(sj_array_t src, sj_array_t dst)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_TRY(sj__check_same(__func__, "src", src, "dst", dst));
    if (src == dst)
        return SJ_OK;
    sj__kargs_t args = {.dtype = src->space->dtype};
    sj_array_t arrays[2] = {dst, src};
    return sj__named(sj__array_submit_local(SJ__K_COPY, &args, 0, SJ__W, 2, arrays), __func__);
}

/* sj_array_map and sj_array_map_kernel: @p kernel is SJ__K_MAP or a named variant of it. */
static int map_submit(const char *func, int nin, const sj_array_t in[], sj_array_t out,
                      sj_block_fn_t fn, sj_block_fn_t fn_cuda, const char *name, const void *ctx,
                      size_t ctx_size)
{
    SJ_TRY(sj__check_array(func, "out", out));
    SJ_CHECK_FN(func, fn != NULL, SJ_ENULL, "the block function is NULL");
    SJ_CHECK_FN(func, nin >= 0 && nin <= 8, SJ_EINVAL, "nin is %d, expected 0 to 8", nin);
    SJ_CHECK_FN(func, nin == 0 || in != NULL, SJ_ENULL, "in is NULL but nin is %d", nin);
    SJ_CHECK_FN(func, ctx != NULL || ctx_size == 0, SJ_ENULL, "ctx is NULL but ctx_size is %zu",
                ctx_size);
    SJ_CHECK_FN(func, ctx_size <= (1u << 20), SJ_ESIZE, "ctx_size is %zu, more than 1 MiB",
                ctx_size);
    sj_array_t arrays[9] = {out};
    for (int i = 0; i < nin; i++) {
        char aname[16];
        snprintf(aname, sizeof aname, "in[%d]", i);
        SJ_TRY(sj__check_same(func, "out", out, aname, in[i]));
        SJ_CHECK_FN(func, in[i] != out, SJ_EINVAL,
                    "in[%d] is the output array; out is already read-write, leave it out of in[]",
                    i);
        arrays[1 + i] = in[i];
    }
    sj__kernel_t kernel = SJ__K_MAP;
    if (name) {
        char vname[48];
        snprintf(vname, sizeof vname, "sj_map_%s", name);
        SJ_TRY(sj__named(sj__rt_kernel_variant(SJ__K_MAP, vname, fn_cuda != NULL, &kernel), func));
    }
    size_t size = sizeof(sj__kargs_t) + ctx_size;
    sj__kargs_t *args = sj__calloc(1, size);
    if (!args)
        return sj__error_rename(SJ_ENOMEM, func);
    args->dtype = out->space->dtype;
    args->nin = nin;
    args->fn = fn;
    args->fn_cuda = fn_cuda;
    args->ctx_size = ctx_size;
    args->ctx_as_is = ctx_size ? NULL : ctx;
    if (ctx_size)
        memcpy(args + 1, ctx, ctx_size);
    const int me = sj__rt_rank();
    const int count = out->dist->local_start[me + 1] - out->dist->local_start[me];
    const int *blocks = out->dist->local + out->dist->local_start[me];
    int rc = SJ_OK;
    for (int i = 0; i < count && rc == SJ_OK; i++) {
        sj__buf_t bufs[9];
        sj__space_block_info(out->space, blocks[i], &args->blk);
        for (int j = 0; j <= nin; j++) {
            bufs[j].data = arrays[j]->handles[blocks[i]];
            bufs[j].mode = j == 0 ? SJ__RW : SJ__R;
        }
        rc = sj__rt_submit(kernel, args, size, nin + 1, bufs);
    }
    free(args);
    return sj__named(rc, func);
}

int sj_array_map(int nin, const sj_array_t in[], sj_array_t out, sj_block_fn_t fn, const void *ctx,
                 size_t ctx_size)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    return map_submit(__func__, nin, in, out, fn, NULL, NULL, ctx, ctx_size);
}

int sj_array_map_kernel(int nin, const sj_array_t in[], sj_array_t out,
                        const sj_block_kernel_t *kernel, const void *ctx, size_t ctx_size)
{
    SJ_TRY(sj__rt_check_collective(__func__));
    SJ_CHECK_NULL(kernel);
    const char *name = kernel->name;
    SJ_CHECK(name != NULL, SJ_ENULL, "kernel->name is NULL");
    size_t len = strlen(name);
    int ok = len >= 1 && len <= 31;
    for (size_t i = 0; ok && i < len; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
             (name[i] >= '0' && name[i] <= '9') || name[i] == '_';
    SJ_CHECK(ok, SJ_EINVAL, "kernel->name '%s' is not 1 to 31 letters, digits or underscores",
             name);
    SJ_CHECK(kernel->cpu != NULL, SJ_ENULL, "kernel->cpu is NULL (every block kernel needs one)");
    return map_submit(__func__, nin, in, out, kernel->cpu, kernel->cuda, name, ctx, ctx_size);
}
