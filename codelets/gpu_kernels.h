/*
 * The arithmetic and index arithmetic of the CUDA kernels, written once for
 * the device (codelets/cuda_kernels.cu, compiled by nvcc) and for the host
 * (tests/test_gpu_kernels.c runs the same functions over every thread index
 * in turn, an emulation of the launch, and compares with the CPU kernels).
 * A wrong stride or lane therefore fails on a machine without a GPU.
 *
 * Each function is what one CUDA thread does for one index (an element, a
 * lane, a pair of a tree level): pure, no shared state, no synchronisation.
 * The kernels in cuda_kernels.cu are grid-stride loops around them; a tree
 * runs level by level in one thread block with __syncthreads between levels,
 * which the host emulation reproduces by running each level to its end
 * before the next. nvcc compiles with --fmad=false, so a * b + c is two
 * rounded operations on the device as on the CPU (x86-64 without FMA): the
 * same expressions give the same bits.
 *
 * No StarPU, no CUDA runtime calls: plain C, valid CUDA C++.
 */
#ifndef SJ_GPU_KERNELS_H
#define SJ_GPU_KERNELS_H

#include <math.h>
#include <stdint.h>

#include "kernels/array.h"

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
    }

SJ__GPU_ELEMENTWISE(double, d)
SJ__GPU_ELEMENTWISE(float, f)

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

#endif /* SJ_GPU_KERNELS_H */
