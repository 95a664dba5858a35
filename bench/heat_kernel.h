/*
 * The heat step that bench_heat and bench_strong both time: a 5-point
 * explicit update (kappa 0.2) on a column-major grid, its initial state, the
 * padded-grid loop (bench_heat's baseline, bench_strong's reference) and the
 * starjets callbacks around it. One definition, so that both benchmarks and
 * their references compute the same cells.
 */
#ifndef SJ_BENCH_HEAT_KERNEL_H
#define SJ_BENCH_HEAT_KERNEL_H

#include <math.h>
#include <stdint.h>

#include "bench.h"

#define KAPPA 0.2

/* The cells [i0, i1) x [j0, j1) of one step; `in` and `out` address cell (0, 0). */
static inline void heat_box(double *restrict out, int64_t os, const double *restrict in, int64_t is,
                            int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    for (int64_t j = j0; j < j1; j++) {
        const double *restrict c = in + j * is;
        double *restrict o = out + j * os;
        for (int64_t i = i0; i < i1; i++)
            o[i] = c[i] + KAPPA * (((c[i - 1] + c[i + 1]) + (c[i - is] + c[i + is])) - 4.0 * c[i]);
    }
}

/* The initial temperature of cell (i, j) of an n x n grid: a smooth bump. */
static inline double initial(int64_t i, int64_t j, int64_t n)
{
    double x = (double)i / (double)n, y = (double)j / (double)n;
    return sin(3.14159 * x) * sin(3.14159 * y) + 0.25 * cos(7.0 * x + 3.0 * y);
}

/*
 * The serial reference, and bench_heat's OpenMP baseline: `untimed + steps`
 * steps on padded grids u, v of (n + 2)^2 cells (a frame of zeros) from the
 * initial state, u and v swapped after each step; the result in *u. With
 * `parallel`, OpenMP threads take contiguous ranges of columns. Returns the
 * seconds of the last `steps` steps.
 */
static inline double heat_padded(double **u, double **v, int64_t n, int untimed, int steps,
                                 int parallel)
{
    const int64_t p = n + 2;
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < p; i++) {
            int inside = i > 0 && i <= n && j > 0 && j <= n;
            (*u)[i + p * j] = inside ? initial(i - 1, j - 1, n) : 0.0;
            (*v)[i + p * j] = 0.0;
        }
    double t0 = 0;
    for (int s = 0; s < untimed + steps; s++) {
        if (s == untimed)
            t0 = now();
        double *in = *u + 1 + p, *out = *v + 1 + p;
#pragma omp parallel for schedule(static) if (parallel)
        for (int64_t j = 0; j < n; j++)
            heat_box(out, p, in, p, 0, n, j, j + 1);
        double *t = *u;
        *u = *v;
        *v = t;
    }
    return now() - t0;
}

/* The stencil function: one heat step on the box it is given. */
static inline int heat_fn(const sj_stencil_info_t *s, void *out, const void *in, void *ctx)
{
    (void)ctx;
    heat_box(out, s->out_stride[1], in, s->in_stride[1], s->lo[0], s->hi[0], s->lo[1], s->hi[1]);
    return 0;
}

/* The per-block initial state. */
static inline int init_fn(const sj_block_info_t *b, void *out, const void *const *in, void *ctx)
{
    (void)in;
    (void)ctx;
    double *u = out;
    for (int64_t j = 0; j < b->dims[1]; j++)
        for (int64_t i = 0; i < b->dims[0]; i++)
            u[i + b->dims[0] * j] = initial(b->lo[0] + i, b->lo[1] + j, b->gdims[0]);
    return 0;
}

#endif /* SJ_BENCH_HEAT_KERNEL_H */
