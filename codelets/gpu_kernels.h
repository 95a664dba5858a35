/*
 * The arithmetic and index arithmetic of the CUDA kernels, written once for
 * the device (codelets/cuda_kernels.cu and halo_cuda.cu, compiled by nvcc)
 * and for the host (tests/test_gpu_kernels.c runs the same functions over
 * every thread index in turn, an emulation of the launch, and compares with
 * the CPU kernels). A wrong stride or lane therefore fails on a machine
 * without a GPU.
 *
 * Each sj__g_ function with a thread index is what one CUDA thread does for
 * that index (an element, a lane, a pair of a tree level, a cell of a box):
 * pure, no shared state, no synchronisation. The kernels are grid-stride
 * loops around them; a tree runs level by level in one thread block with
 * __syncthreads between levels, which the host emulation reproduces by
 * running each level to its end before the next. The sj__g_*_plan functions
 * are the host side of a launch: where each box starts and its strides.
 *
 * nvcc compiles with --fmad=false, so a * b + c is two rounded operations on
 * the device as on the CPU (x86-64 without FMA): the same expressions give
 * the same bits. sqrt and division are correctly rounded on both (nvcc's
 * defaults, -prec-sqrt=true -prec-div=true). Copies move bits (unsigned
 * words of the element's width), never values, so NaN payloads survive.
 *
 * No StarPU, no CUDA runtime calls: plain C, valid CUDA C++.
 */
#ifndef SJ_GPU_KERNELS_H
#define SJ_GPU_KERNELS_H

#include <math.h>
#include <stdint.h>

#include <Random123/philox.h>
#include <starjets/scalar.h>

#include "kernels/array.h"
#include "kernels/halo.h"

#ifdef __CUDACC__
#define SJ_GPU __host__ __device__ static inline
#else
#define SJ_GPU static inline
#endif

/* ---- array algebra: one element i ------------------------------------------- */

#define SJ__GPU_ELEMENTWISE(T, S)                                                                  \
    SJ_GPU void sj__g_fill_##S(int64_t i, T *x, T v)                                               \
    {                                                                                              \
        x[i] = v;                                                                                  \
    }                                                                                              \
    SJ_GPU void sj__g_scale_##S(int64_t i, T *x, T s)                                              \
    {                                                                                              \
        x[i] *= s;                                                                                 \
    }                                                                                              \
    /* y = alpha x + beta y; beta 0 never reads y, beta 1 adds y as is (as the CPU loop) */        \
    SJ_GPU void sj__g_axpby_##S(int64_t i, T *y, const T *x, T alpha, T beta)                      \
    {                                                                                              \
        if (beta == 1)                                                                             \
            y[i] = alpha * x[i] + y[i];                                                            \
        else if (beta == 0)                                                                        \
            y[i] = alpha * x[i];                                                                   \
        else                                                                                       \
            y[i] = alpha * x[i] + beta * y[i];                                                     \
    }                                                                                              \
    /* SJ__MUL_ZXY: z = x y; ZZY: z = z y (y the only input); ZZZ: z = z z */                      \
    SJ_GPU void sj__g_mul_##S(int64_t i, int op, T *z, const T *x, const T *y)                     \
    {                                                                                              \
        if (op == SJ__MUL_ZXY)                                                                     \
            z[i] = x[i] * y[i];                                                                    \
        else if (op == SJ__MUL_ZZY)                                                                \
            z[i] = z[i] * y[i];                                                                    \
        else                                                                                       \
            z[i] = z[i] * z[i];                                                                    \
    }                                                                                              \
    /* The factor a * alpha (alpha a graph scalar in device memory), rounded to T once. */         \
    SJ_GPU void sj__g_axpy_scalar_##S(int64_t i, T *y, const T *x, double a, const double *alpha)  \
    {                                                                                              \
        const T al = (T)(a * *alpha);                                                              \
        y[i] = al * x[i] + y[i];                                                                   \
    }                                                                                              \
    SJ_GPU void sj__g_scale_scalar_##S(int64_t i, T *x, double a, const double *alpha)             \
    {                                                                                              \
        const T al = (T)(a * *alpha);                                                              \
        x[i] *= al;                                                                                \
    }                                                                                              \
    /* The update of SJ__K_AXPY_DOT: w = (T)(c * a) x + y, or (T)(c * (a / b)) x + y when b is     \
     * given (graph scalars on the device); y may be w. */                                         \
    SJ_GPU void sj__g_axpy_ratio_##S(int64_t i, T *w, const T *x, const T *y, double c,            \
                                     const double *a, const double *b)                             \
    {                                                                                              \
        const T al = (T)(c * (b ? *a / *b : *a));                                                  \
        w[i] = al * x[i] + y[i];                                                                   \
    }

SJ__GPU_ELEMENTWISE(double, d)
SJ__GPU_ELEMENTWISE(float, f)

/* Copies move words of the element's width: 4 (float) or 8 (double) bytes. */
SJ_GPU void sj__g_copy_u32(int64_t i, uint32_t *dst, const uint32_t *src)
{
    dst[i] = src[i];
}
SJ_GPU void sj__g_copy_u64(int64_t i, uint64_t *dst, const uint64_t *src)
{
    dst[i] = src[i];
}

/* ---- random numbers: uniform (RAND with op 0) ----------------------------------------- */

/*
 * Element t of a block (column-major) of sj_array_rand: Philox4x32-10 at the
 * element's global index under key seed, as sj__cpu_rand. Philox is integer
 * arithmetic and the conversions are exact (53 and 24 bits times a power of
 * two), so the device gives the CPU's bits. Normal numbers (op 1) are not
 * here: they take log and cos, whose CUDA versions differ from glibc's.
 */
SJ_GPU philox4x32_ctr_t sj__g_philox(const sj_block_info_t *b, uint64_t seed, int64_t t)
{
    const int64_t m = t % b->dims[0], r = t / b->dims[0];
    const int64_t j = r % b->dims[1], l = r / b->dims[1];
    const uint64_t k =
        (uint64_t)(b->lo[0] + b->gdims[0] * ((b->lo[1] + j) + b->gdims[1] * (b->lo[2] + l))) +
        (uint64_t)m;
    philox4x32_ctr_t c = {{(uint32_t)k, (uint32_t)(k >> 32), 0, 0}};
    philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    return philox4x32(c, key);
}

SJ_GPU void sj__g_uniform_d(int64_t t, double *x, const sj_block_info_t *b, uint64_t seed)
{
    const philox4x32_ctr_t r = sj__g_philox(b, seed, t);
    x[t] = (double)(((uint64_t)r.v[0] << 21) | (r.v[1] >> 11)) * 0x1p-53;
}

SJ_GPU void sj__g_uniform_f(int64_t t, float *x, const sj_block_info_t *b, uint64_t seed)
{
    const philox4x32_ctr_t r = sj__g_philox(b, seed, t);
    x[t] = (float)(r.v[0] >> 8) * 0x1p-24f;
}

/* ---- reductions: lanes, then the tree (kernels/array.h, sj__lanes) ------------------ */

/*
 * Lane l of a block of m terms dealt to L lanes: t[l], t[l + L], ... in
 * order, from its first term; term(k) is the reduction's term of element k
 * (the element, |x|, x * x or x * y, converted to double first). One thread
 * per lane on the device.
 */
#define SJ__GPU_LANE(T, S)                                                                         \
    SJ_GPU double sj__g_term_##S(int op, const T *x, const T *y, int64_t k)                        \
    {                                                                                              \
        const double v = (double)x[k];                                                             \
        switch (op) {                                                                              \
        case SJ_REDUCE_NORM1:                                                                      \
        case SJ_REDUCE_NORMINF:                                                                    \
            return fabs(v);                                                                        \
        case SJ_REDUCE_NORM2:                                                                      \
            return v * v;                                                                          \
        case SJ_REDUCE_DOT:                                                                        \
            return v * (double)y[k];                                                               \
        default:                                                                                   \
            return v;                                                                              \
        }                                                                                          \
    }                                                                                              \
    SJ_GPU double sj__g_lane_##S(int op, const T *x, const T *y, int64_t m, int64_t L, int64_t l)  \
    {                                                                                              \
        double s = sj__g_term_##S(op, x, y, l);                                                    \
        for (int64_t k = l + L; k < m; k += L)                                                     \
            s = sj__g_combine(op, s, sj__g_term_##S(op, x, y, k));                                 \
        return s;                                                                                  \
    }

/* combine of kernels/array.h (sj__reduce_combine), callable on the device */
SJ_GPU double sj__g_combine(int op, double a, double b)
{
    switch (op) {
    case SJ_REDUCE_MIN:
        return (a < b || isnan(a)) ? a : b;
    case SJ_REDUCE_MAX:
    case SJ_REDUCE_NORMINF:
        return (a > b || isnan(a)) ? a : b;
    default:
        return a + b;
    }
}

SJ__GPU_LANE(double, d)
SJ__GPU_LANE(float, f)

/*
 * One pair of the pairwise tree over v[0..n) at stride s (sj__reduce_tree):
 * pair p combines v[2sp] and v[2sp + s] into v[2sp]. Level s has
 * sj__g_tree_pairs(n, s) pairs, independent of each other.
 */
SJ_GPU int64_t sj__g_tree_pairs(int64_t n, int64_t s)
{
    return (n - s + 2 * s - 1) / (2 * s); /* i = 2sp with i + s < n */
}

SJ_GPU void sj__g_tree_pair(int op, double *v, int64_t s, int64_t p)
{
    const int64_t i = 2 * s * p;
    v[i] = sj__g_combine(op, v[i], v[i + s]);
}

/* ---- graph scalars and the per-block results of a reduction ------------------------ */

/* final step of kernels/array.h (sj__reduce_finish), callable on the device */
SJ_GPU double sj__g_finish(int op, double v, int64_t count)
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

/* c = a op b (sj_scalar_op_t), as sj__cpu_scalar_binary */
SJ_GPU double sj__g_scalar_binary(int op, double a, double b)
{
    switch (op) {
    case SJ_SCALAR_ADD:
        return a + b;
    case SJ_SCALAR_SUB:
        return a - b;
    case SJ_SCALAR_MUL:
        return a * b;
    default:
        return a / b;
    }
}

/* GATHER: value j of one input vector into slot at + j of the output. */
SJ_GPU void sj__g_gather(int64_t j, double *out, int64_t at, const double *in)
{
    out[at + j] = in[j];
}

/*
 * REDUCE_ALL: value j of one input vector to its block's place in the tree's
 * array; block[] is the task's block list from that input's first value on.
 */
SJ_GPU void sj__g_scatter(int64_t j, double *part, const int *block, const double *in)
{
    part[block[j]] = in[j];
}

/* ---- boxes: copies between strided buffers, fills ------------------------------------ */

/*
 * A box of n[0] x n[1] x n[2] cells, column-major over the box, in two
 * buffers: its first cell is element dst_at (src_at) and the strides along
 * dimensions 1 and 2 are dst_s[] (src_s[]); stride 1 along dimension 0.
 */
typedef struct sj__g_box {
    int64_t n[3];
    int64_t dst_at, dst_s[2];
    int64_t src_at, src_s[2];
} sj__g_box_t;

SJ_GPU int64_t sj__g_box_cells(const sj__g_box_t *b)
{
    return b->n[0] * b->n[1] * b->n[2];
}

/* Element of cell t of the box in a buffer where the box starts at `at` with strides s[]. */
SJ_GPU int64_t sj__g_box_at(const sj__g_box_t *b, int64_t t, int64_t at, const int64_t s[2])
{
    const int64_t i = t % b->n[0], r = t / b->n[0];
    return at + i + (r % b->n[1]) * s[0] + (r / b->n[1]) * s[1];
}

/*
 * One piece of a copy kernel: box b from src into dst, or, with src NULL,
 * the value whose bits are `bits` into every cell of b in dst. A pack task
 * copies its strips, a stencil part assembles its padded copy, in one launch
 * over up to SJ__G_MAX_PIECES pieces (kernel parameters: 4 KiB at most).
 */
#define SJ__G_MAX_PIECES (SJ__HALO_MAX_DIRS + 1)

typedef struct sj__g_piece {
    sj__g_box_t box;
    void *dst;
    const void *src;
    uint64_t bits;
} sj__g_piece_t;

#define SJ__GPU_PIECE(T, S)                                                                        \
    SJ_GPU void sj__g_piece_##S(int64_t t, const sj__g_piece_t *p)                                 \
    {                                                                                              \
        T *dst = (T *)p->dst + sj__g_box_at(&p->box, t, p->box.dst_at, p->box.dst_s);              \
        if (p->src)                                                                                \
            *dst = ((const T *)p->src)[sj__g_box_at(&p->box, t, p->box.src_at, p->box.src_s)];     \
        else                                                                                       \
            *dst = (T)p->bits;                                                                     \
    }

SJ__GPU_PIECE(uint32_t, u32)
SJ__GPU_PIECE(uint64_t, u64)

/* The bits of @p v as an element of type dtype (what a fill stores), in the low word. */
SJ_GPU uint64_t sj__g_value_bits(int dtype, double v)
{
    if (dtype == SJ_FLOAT64) {
        union {
            double d;
            uint64_t u;
        } c;
        c.d = v;
        return c.u;
    }
    union {
        float f;
        uint32_t u;
    } c;
    c.f = (float)v;
    return c.u;
}

/* Strides along dimensions 1 and 2 of a buffer whose columns are ld[0] apart, planes ld[0] ld[1].
 */
SJ_GPU void sj__g_ld_strides(const int64_t ld[2], int64_t s[2])
{
    s[0] = ld[0];
    s[1] = ld[0] * ld[1];
}

/*
 * BOXCOPY (sj__boxcopy_args_t) between a destination and a source whose
 * columns and planes are given by dst_ld and src_ld (sj__view_t's ld: the
 * block's own shape for a compact buffer).
 */
SJ_GPU sj__g_box_t sj__g_boxcopy_plan(const sj__boxcopy_args_t *a, const int64_t dst_ld[2],
                                      const int64_t src_ld[2])
{
    sj__g_box_t b;
    for (int d = 0; d < 3; d++)
        b.n[d] = a->n[d];
    sj__g_ld_strides(dst_ld, b.dst_s);
    sj__g_ld_strides(src_ld, b.src_s);
    b.dst_at = a->dst_off[0] + a->dst_off[1] * b.dst_s[0] + a->dst_off[2] * b.dst_s[1];
    b.src_at = a->src_off[0] + a->src_off[1] * b.src_s[0] + a->src_off[2] * b.src_s[1];
    return b;
}

/*
 * Strip s of a pack task (sj__halo_pack_args_t) from a source block whose
 * element strides are sst[] (a view's own, else the arguments'): the strip is
 * compact over the box's own shape.
 */
SJ_GPU sj__g_box_t sj__g_pack_plan(const sj__halo_pack_args_t *a, int s, const int64_t sst[3])
{
    const sj__halo_box_t *x = &a->box[s];
    sj__g_box_t b;
    for (int d = 0; d < 3; d++)
        b.n[d] = x->hi[d] - x->lo[d];
    b.dst_at = 0;
    b.dst_s[0] = b.n[0];
    b.dst_s[1] = b.n[0] * b.n[1];
    b.src_at = x->lo[0] * sst[0] + x->lo[1] * sst[1] + x->lo[2] * sst[2];
    b.src_s[0] = sst[1];
    b.src_s[1] = sst[2];
    return b;
}

/*
 * The padded copy of stencil part p (its box and `width` ghost layers along
 * the array's dimensions): its first cell lo[] (block-local) and its strides;
 * returns its cells. *origin is the element of the copy that block-local
 * cell (0,0,0) would be, negative when that cell lies before it: the user
 * function gets the copy's address plus origin elements (stencil.h allows
 * `in` to point outside the memory it indexes).
 */
SJ_GPU int64_t sj__g_padded(const sj__halo_args_t *a, const sj__halo_box_t *p, int64_t lo[3],
                            int64_t stride[3], int64_t *origin)
{
    const int nd = a->info.blk.ndims, w = a->info.width;
    int64_t ext[3];
    for (int d = 0; d < 3; d++) {
        lo[d] = p->lo[d] - (d < nd ? w : 0);
        ext[d] = p->hi[d] + (d < nd ? w : 0) - lo[d];
    }
    stride[0] = 1;
    stride[1] = ext[0];
    stride[2] = ext[0] * ext[1];
    *origin = -(lo[0] * stride[0] + lo[1] * stride[1] + lo[2] * stride[2]);
    return ext[0] * ext[1] * ext[2];
}

/*
 * Source region r of a stencil task (sj__halo_src_t) in the padded copy of
 * part p: the box where they meet, in the copy (dst) and in the source
 * buffer with element strides sst[] (unused for the boundary value, buf < 0).
 * Returns 0 when they do not meet.
 */
SJ_GPU int sj__g_assemble_plan(const sj__halo_args_t *a, const sj__halo_box_t *p, int r,
                               const int64_t sst[3], sj__g_box_t *b)
{
    const sj__halo_src_t *src = &a->src[r];
    int64_t lo[3], stride[3], origin, at = 0, from = 0;
    sj__g_padded(a, p, lo, stride, &origin);
    for (int d = 0; d < 3; d++) {
        const int64_t phi = p->hi[d] + (d < a->info.blk.ndims ? a->info.width : 0);
        const int64_t ilo = src->region.lo[d] > lo[d] ? src->region.lo[d] : lo[d];
        const int64_t ihi = src->region.hi[d] < phi ? src->region.hi[d] : phi;
        if (ihi <= ilo)
            return 0;
        b->n[d] = ihi - ilo;
        at += (ilo - lo[d]) * stride[d];
        from += (ilo + src->shift[d]) * sst[d];
    }
    b->dst_at = at;
    b->dst_s[0] = stride[1];
    b->dst_s[1] = stride[2];
    b->src_at = src->buf < 0 ? 0 : from;
    b->src_s[0] = sst[1];
    b->src_s[1] = sst[2];
    return 1;
}

#endif /* SJ_GPU_KERNELS_H */
