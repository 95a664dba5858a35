/*
 * The inversion problem of examples/inversion.c, shared with
 * bench/inversion.c: a 1-D medium of `cells` cells whose model is the log
 * slowness, and `shots` nonlinear blocks F_i(m) = W_i exp(m), W_i the 0/1
 * matrix of travel paths from shot i's source boundary to each of the
 * cells + 1 receiver boundaries.
 */
#ifndef SJ_EXAMPLES_INVERSION_PROBLEM_H
#define SJ_EXAMPLES_INVERSION_PROBLEM_H

#include <math.h>
#include <stdlib.h>

#include <starjets.h>

/** Sizes of the problem; the context of inversion_shot(). */
typedef struct inversion_problem {
    int cells, shots;
} inversion_problem_t;

/** The true slowness of cell @p c: a smooth background with a slow lens. */
static inline double inversion_s_true(const inversion_problem_t *p, int c)
{
    const double x = (c + 0.5) / p->cells;
    return 1.0 + 0.3 * sin(6.283185307179586 * x) + 0.4 * exp(-80.0 * (x - 0.6) * (x - 0.6));
}

/**
 * Block (i, 0) of the block operator, an sj_block_fn_t with the problem as
 * @p ctx: W_i o exp on rank @p owner (W_i built and read on the owner only).
 */
static inline int inversion_shot(int i, int j, int owner, void *ctx, sj_op_t *block)
{
    (void)j;
    const inversion_problem_t *p = ctx;
    const int cells = p->cells, nb = cells + 1, src = (int)((long)i * cells / p->shots);
    double *W = NULL;
    if (sj_rank() == owner) {
        W = calloc((size_t)nb * (size_t)cells, sizeof *W);
        if (!W)
            return SJ_ENOMEM;
        for (int r = 0; r < nb; r++) /* receiver at boundary r */
            for (int c = r < src ? r : src; c < (r < src ? src : r); c++)
                W[r + (size_t)nb * c] = 1.0;
    }
    sj_space_t sm = NULL, sd = NULL;
    sj_op_t Wi = NULL, E = NULL;
    int rc = sj_space_create(SJ_FLOAT64, 1, (int64_t[]){cells}, NULL, &sm);
    if (rc == SJ_OK)
        rc = sj_space_create(SJ_FLOAT64, 1, (int64_t[]){nb}, NULL, &sd);
    if (rc == SJ_OK)
        rc = sj_op_dense(sm, sd, owner, W, &Wi);
    if (rc == SJ_OK)
        rc = sj_op_exp(sm, owner, &E);
    if (rc == SJ_OK)
        rc = sj_op_compose(Wi, E, block);
    free(W);
    sj_op_destroy(&Wi);
    sj_op_destroy(&E);
    sj_space_destroy(&sm);
    sj_space_destroy(&sd);
    return rc;
}

#endif
