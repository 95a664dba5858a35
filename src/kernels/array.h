/*
 * The array and reduction kernels (kernels/ids.h) as the algorithms fill them:
 * their argument block, plus the reduction arithmetic shared by the task graph
 * and the blocking reductions (so both give the same bits). No StarPU here.
 */
#ifndef SJ_KERNELS_ARRAY_H
#define SJ_KERNELS_ARRAY_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <starjets/array.h>

#include "kernels/ids.h"

/* Most inputs a user map may take (plus its output). */
#define SJ__MAP_MAX_IN 8

/* Elementwise multiply variants (aliasing decides the buffers). */
enum { SJ__MUL_ZXY = 0, SJ__MUL_ZZY = 1, SJ__MUL_ZZZ = 2 };

/*
 * SJ__K_AXPY_DOT (sj_array_axpy_dot_scalar): which buffers a task has after
 * [0] w and [1] x, in this order; sj__kargs_t.op or-s them.
 */
enum {
    SJ__AXPY_DOT_Y = 1,       /* R y, when it is not w */
    SJ__AXPY_DOT_DIV = 2,     /* R b after R a: the factor is c (a / b) */
    SJ__AXPY_DOT_PARTIAL = 4, /* W partial: w . w of the block, last */
};

/* Arguments of every kernel; MAP appends ctx_size bytes of user context. */
typedef struct sj__kargs {
    int dtype;
    int op;
    int nin;
    double a, b;
    uint64_t seed;
    int64_t count; /* elements of the whole array (mean) */
    sj_block_info_t blk;
    sj_block_fn_t fn;
    sj_block_fn_t fn_cuda; /* MAP on a CUDA worker (device pointers), or NULL */
    size_t ctx_size;
    const void *ctx_as_is; /* MAP with ctx_size 0: the user's ctx pointer, passed as is */
} sj__kargs_t;

/*
 * Copy a box of n[0] x n[1] x n[2] elements of elemsize bytes from the block
 * src (shape src_dims, column-major) at corner src_off into the block dst
 * (shape dst_dims) at corner dst_off: one piece of a redistribution (a block
 * of one blocking meeting a block of another), or its packing into or out of
 * a contiguous message.
 */
typedef struct sj__boxcopy_args {
    size_t elemsize;
    int64_t n[3];
    int64_t dst_dims[3], dst_off[3];
    int64_t src_dims[3], src_off[3];
} sj__boxcopy_args_t;

/* ---- reduction arithmetic, one definition for tasks and blocking paths -- */

static inline double sj__reduce_combine(int op, double a, double b)
{
    switch (op) {
    case SJ_REDUCE_MIN:
        return (a < b || isnan(a)) ? a : b;
    case SJ_REDUCE_MAX:
    case SJ_REDUCE_NORMINF:
        return (a > b || isnan(a)) ? a : b;
    default: /* SUM, MEAN, NORM1, NORM2 (sum of squares), DOT */
        return a + b;
    }
}

static inline double sj__reduce_finish(int op, double v, int64_t count)
{
    switch (op) {
    case SJ_REDUCE_NORM2:
        return sqrt(v);
    case SJ_REDUCE_MEAN:
        return v / (double)count;
    default:
        return v;
    }
}

/*
 * Combine per-block results in place in the fixed pairwise tree order:
 * at stride s = 1, 2, 4, ... part[i] = combine(part[i], part[i + s]) for i a
 * multiple of 2s. The task graph submits exactly these combines.
 */
static inline double sj__reduce_tree(int op, double *part, int n)
{
    for (int s = 1; s < n; s *= 2)
        for (int i = 0; i + s < n; i += 2 * s)
            part[i] = sj__reduce_combine(op, part[i], part[i + s]);
    return part[0];
}

/*
 * The per-block result of a reduction, defined so that a CPU loop and a GPU
 * kernel (one thread per lane) compute the same bits. The block's m terms
 * t[0..m) (column-major over the block) are dealt to L = sj__lanes(m) lanes:
 * lane l takes t[l], t[l + L], t[l + 2L], ... in that order, starting from
 * its first term (sums: s = t[l], then s = s + t; min / max: combined with
 * sj__reduce_combine). The L lane values are then combined by the pairwise
 * tree of sj__reduce_tree. L is a power of two, from 4 for blocks under 512
 * terms up to SJ__LANES_MAX, and never more than m.
 */
#define SJ__LANES_MAX 16384

static inline int64_t sj__lanes(int64_t m)
{
    int64_t L = 4;
    while (L < SJ__LANES_MAX && L * 64 <= m)
        L *= 2;
    return L < m ? L : m;
}

#endif /* SJ_KERNELS_ARRAY_H */
