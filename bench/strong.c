/*
 * bench_strong: strong scaling of two latency-bound loops, the same problem on
 * 1 rank and on 2 ranks. This program measures one rank count; bench/run runs
 * it on 1 rank and on 2 with the same options, and bench/report.py divides the
 * 1-rank time by the 2-rank time (speedup; target >= 1.0: adding a rank must
 * not slow the loop down). The baseline is thus starjets itself on 1 rank,
 * whose workers use the same cores (on a 2-core node: 1 rank with 2 workers
 * against 2 ranks with 1 worker each).
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 STARPU_SILENT=1 \
 *   mpiexec -n 1 --oversubscribe --bind-to none ./bench_strong [options]
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_strong [options]
 *
 * Cases:
 *  - blockop: a b x b block operator of dense n x n blocks (sj_op_dense per
 *    block, sj_op_block_create with the default layout, dist NULL: contiguous
 *    over all ranks); one step is y = A x then x2 = A' y, submitted without
 *    waiting; time per step over I steps with one sj_wait at the end. The
 *    default 4 x 4 blocks of 256 x 256 (a 1024 x 1024 matrix, 8 MiB) make
 *    tasks of about 50 us, so the step is bound by task and transfer latency
 *    as much as by memory bandwidth.
 *  - heat: the 2-D heat step of bench_heat (5-point stencil, fixed boundary
 *    0, kappa 0.2) on a g x g grid cut into P x Q blocks (default 1024 x 1024
 *    in 4 x 2 blocks, default layout), chained with sj_array_stencil and no
 *    wait between steps; time per step over S steps, one sj_wait at the end.
 *
 * Options: -n N block rows and columns (256), -b B blocks per dimension (4),
 * -i I blockop steps per round (300), -g G heat grid side (1024), -B PxQ heat
 * blocks (4x2), -s S heat steps per round (150), -w W untimed steps before
 * each round's timed ones (5, both cases), -R R rounds (9), -v per-round lines
 * on stderr (the defaults take about 5 s on a 2-core node, either rank count). Reported: per case
 * the median over rounds of the time per step, in microseconds, and each round's.
 *
 * Correctness (exit status 1 when wrong, 2 on a runtime failure), after every
 * round, on rank 0 against a serial reference computed there once:
 *  - blockop: y and x2 against a dense matvec y = M x and x2 = M' y of the
 *    assembled matrix and the gathered x, within 1e-12 relative (infinity
 *    norm; the block sums are added in another order);
 *  - heat: the grid after the round's W + S steps against the same cell loop
 *    run serially on a padded grid, within 1e-12 relative (the cells are
 *    computed by the same expression, so they are expected to be equal).
 * One JSON object on stdout (rank 0).
 */
#define _GNU_SOURCE /* getloadavg */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "heat_kernel.h"

#define TOL 1e-12

static int wrong = 0;

/* ---- blockop --------------------------------------------------------------------- */

/* Entry (r, c) of the assembled matrix, in [-0.5, 0.5). */
static inline double entry(int64_t r, int64_t c)
{
    return (double)((r * 7919 + c * 104729) % 1009) / 1009.0 - 0.5;
}

typedef struct blockop {
    sj_op_t A;
    sj_array_t x, y, x2;
    int64_t len;          /* b * n */
    double *yref, *x2ref; /* rank 0 */
} blockop_t;

static void blockop_setup(blockop_t *bo, int n, int b)
{
    const int me = sj_rank();
    sj_space_t s;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){1}, &s));
    /* The owners of the default layout (what dist NULL gives), to place the leaves. */
    sj_dist_t d;
    CHECK(sj_dist_create_contiguous(2, (int[]){b, b}, 0, NULL, NULL, &d));
    sj_op_t *ops = xmalloc((size_t)b * (size_t)b * sizeof *ops);
    double *m = xmalloc((size_t)n * (size_t)n * sizeof *m);
    for (int i = 0; i < b; i++)
        for (int j = 0; j < b; j++) {
            int owner;
            CHECK(sj_dist_owner(d, i + b * j, &owner));
            if (me == owner)
                for (int64_t cc = 0; cc < n; cc++)
                    for (int64_t rr = 0; rr < n; rr++)
                        m[rr + n * cc] = entry((int64_t)i * n + rr, (int64_t)j * n + cc);
            CHECK(sj_op_dense(s, s, owner, me == owner ? m : NULL, &ops[i * b + j]));
        }
    free(m);
    CHECK(sj_op_block_create(b, b, ops, NULL, &bo->A));
    for (int k = 0; k < b * b; k++)
        CHECK(sj_op_destroy(&ops[k]));
    free(ops);
    sj_dist_t used;
    int same = 0;
    CHECK(sj_op_block_dist(bo->A, &used));
    CHECK(sj_dist_equal(d, used, &same));
    if (!same) {
        fprintf(stderr, "bench_strong: the block operator's layout is not the default one\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    CHECK(sj_dist_destroy(&d));
    CHECK(sj_space_destroy(&s));

    sj_space_t dom, rng;
    sj_dist_t ddist, rdist;
    CHECK(sj_op_domain(bo->A, &dom, &ddist));
    CHECK(sj_op_range(bo->A, &rng, &rdist));
    CHECK(sj_array_rand(dom, ddist, 7, &bo->x));
    CHECK(sj_array_zeros(rng, rdist, &bo->y));
    CHECK(sj_array_zeros(dom, ddist, &bo->x2));
    bo->len = (int64_t)b * n;

    /* The reference: y = M x, x2 = M' y, serially on rank 0. */
    const int64_t L = bo->len;
    double *x = me == 0 ? xmalloc((size_t)L * sizeof *x) : NULL;
    CHECK(sj_array_gather(bo->x, 0, x));
    bo->yref = bo->x2ref = NULL;
    if (me == 0) {
        double *M = xmalloc((size_t)L * (size_t)L * sizeof *M);
        for (int64_t c = 0; c < L; c++)
            for (int64_t r = 0; r < L; r++)
                M[r + L * c] = entry(r, c);
        bo->yref = xmalloc((size_t)L * sizeof *bo->yref);
        bo->x2ref = xmalloc((size_t)L * sizeof *bo->x2ref);
        for (int64_t r = 0; r < L; r++)
            bo->yref[r] = 0;
        for (int64_t c = 0; c < L; c++)
            for (int64_t r = 0; r < L; r++)
                bo->yref[r] += M[r + L * c] * x[c];
        for (int64_t c = 0; c < L; c++) {
            double s_ = 0;
            for (int64_t r = 0; r < L; r++)
                s_ += M[r + L * c] * bo->yref[r];
            bo->x2ref[c] = s_;
        }
        free(M);
    }
    free(x);
    CHECK(sj_wait());
}

static void blockop_steps(blockop_t *bo, int count)
{
    for (int k = 0; k < count; k++) {
        CHECK(sj_op_apply(bo->A, bo->x, bo->y));
        CHECK(sj_op_apply_adjoint(bo->A, bo->y, bo->x2));
    }
}

static double blockop_round(blockop_t *bo, int warm, int steps, int round, double *err)
{
    blockop_steps(bo, warm);
    CHECK(sj_wait());
    double t0 = now();
    blockop_steps(bo, steps);
    CHECK(sj_wait());
    double dt = now() - t0;
    const int me = sj_rank();
    double *y = me == 0 ? xmalloc((size_t)bo->len * sizeof *y) : NULL;
    double *x2 = me == 0 ? xmalloc((size_t)bo->len * sizeof *x2) : NULL;
    CHECK(sj_array_gather(bo->y, 0, y));
    CHECK(sj_array_gather(bo->x2, 0, x2));
    if (me == 0) {
        double ey = rel_err(y, bo->yref, bo->len), ex = rel_err(x2, bo->x2ref, bo->len);
        *err = fmax(*err, fmax(ey, ex));
        if (!(ey <= TOL && ex <= TOL)) {
            fprintf(stderr,
                    "bench_strong: round %d: blockop differs from the dense matvec: relative "
                    "error %.3g (y = A x), %.3g (x2 = A' y)\n",
                    round, ey, ex);
            wrong++;
        }
    }
    free(y);
    free(x2);
    return dt / steps;
}

static void blockop_teardown(blockop_t *bo)
{
    CHECK(sj_array_destroy(&bo->x));
    CHECK(sj_array_destroy(&bo->y));
    CHECK(sj_array_destroy(&bo->x2));
    CHECK(sj_op_destroy(&bo->A));
    free(bo->yref);
    free(bo->x2ref);
}

/* ---- heat ------------------------------------------------------------------------ */

typedef struct heat {
    sj_array_t a, b;
    int64_t g;
    double *ref; /* rank 0: g x g, after warm + steps steps */
} heat_t;

static void heat_setup(heat_t *h, int64_t g, const int nb[2], int total_steps)
{
    sj_space_t s;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){g, g}, nb, &s));
    CHECK(sj_array_zeros(s, NULL, &h->a));
    CHECK(sj_array_zeros(s, NULL, &h->b));
    CHECK(sj_space_destroy(&s));
    h->g = g;
    h->ref = NULL;
    if (sj_rank() != 0)
        return;
    const int64_t p = g + 2;
    double *u = xmalloc((size_t)(p * p) * sizeof *u), *v = xmalloc((size_t)(p * p) * sizeof *v);
    heat_padded(&u, &v, g, 0, total_steps, 0);
    h->ref = xmalloc((size_t)(g * g) * sizeof *h->ref);
    for (int64_t j = 0; j < g; j++)
        for (int64_t i = 0; i < g; i++)
            h->ref[i + g * j] = u[(i + 1) + p * (j + 1)];
    free(u);
    free(v);
}

static void heat_steps(heat_t *h, int count)
{
    for (int k = 0; k < count; k++) {
        CHECK(sj_array_stencil(h->a, h->b, 1, SJ_BOUNDARY_FIXED, NULL, heat_fn, NULL, 0));
        sj_array_t t = h->a;
        h->a = h->b;
        h->b = t;
    }
}

static double heat_round(heat_t *h, int warm, int steps, int round, double *err)
{
    CHECK(sj_array_map(0, NULL, h->a, init_fn, NULL, 0));
    heat_steps(h, warm);
    CHECK(sj_wait());
    double t0 = now();
    heat_steps(h, steps);
    CHECK(sj_wait());
    double dt = now() - t0;
    const int me = sj_rank();
    double *got = me == 0 ? xmalloc((size_t)(h->g * h->g) * sizeof *got) : NULL;
    CHECK(sj_array_gather(h->a, 0, got));
    if (me == 0) {
        double e = rel_err(got, h->ref, h->g * h->g);
        *err = fmax(*err, e);
        if (!(e <= TOL)) {
            fprintf(stderr,
                    "bench_strong: round %d: heat grid differs from the serial loop: relative "
                    "error %.3g\n",
                    round, e);
            wrong++;
        }
    }
    free(got);
    return dt / steps;
}

static void heat_teardown(heat_t *h)
{
    CHECK(sj_array_destroy(&h->a));
    CHECK(sj_array_destroy(&h->b));
    free(h->ref);
}

/* ---- driver ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int n = 256, b = 4, isteps = 300, hsteps = 150, warm = 5, rounds = 9, verbose = 0;
    int nb[2] = {4, 2};
    int64_t g = 1024;
    bench_opt_t opt[] = {OPT('n', n, "block_rows"),
                         OPT('b', b, "blocks_per_dim"),
                         OPT('i', isteps, "blockop_steps"),
                         OPT('g', g, "heat_side"),
                         OPT_GRID('B', nb, "PxQ_heat_blocks"),
                         OPT('s', hsteps, "heat_steps"),
                         OPT('w', warm, "warm-up_steps"),
                         OPT('R', rounds, "rounds"),
                         OPT_FLAG('v', verbose)};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || n < 1 || b < 1 || isteps < 1 || g < 3 ||
        nb[0] < 1 || nb[1] < 1 || nb[0] > g || nb[1] > g || hsteps < 1 || warm < 0 || rounds < 1 ||
        rounds > MAX_ROUNDS)
        return bench_usage(argv[0], opt, NOPT(opt));
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks(), ncpus = sj_ncpus();
    blockop_t bo;
    heat_t h;
    blockop_setup(&bo, n, b);
    heat_setup(&h, g, nb, warm + hsteps);
    double tb[MAX_ROUNDS], th[MAX_ROUNDS], eb = 0, eh = 0;
    for (int r = 0; r < rounds; r++) {
        tb[r] = blockop_round(&bo, warm, isteps, r, &eb);
        th[r] = heat_round(&h, warm, hsteps, r, &eh);
        if (verbose && me == 0)
            fprintf(stderr, "round %d, %d rank(s): blockop %.1f us/step, heat %.1f us/step\n", r,
                    np, tb[r] * 1e6, th[r] * 1e6);
    }
    blockop_teardown(&bo);
    heat_teardown(&h);
    int anybad = 0;
    MPI_Allreduce(&wrong, &anybad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0) {
        printf("{\"bench\":\"strong\",\"ranks\":%d,\"workers_per_rank\":%d,\"rounds\":%d,"
               "\"warmup_steps\":%d,\"load\":[%.2f,%.2f,%.2f],",
               np, ncpus, rounds, warm, load[0], load[1], load[2]);
        printf("\"blockop\":{\"block_rows\":%d,\"blocks_per_dim\":%d,\"steps\":%d,"
               "\"us_per_step\":%.3f,\"max_rel_err\":%.3g,\"us_per_step_per_round\":",
               n, b, isteps, median(tb, rounds) * 1e6, eb);
        print_us_array(tb, rounds);
        printf("},\"heat\":{\"n\":%lld,\"blocks\":\"%dx%d\",\"steps\":%d,\"us_per_step\":%.3f,"
               "\"max_rel_err\":%.3g,\"us_per_step_per_round\":",
               (long long)g, nb[0], nb[1], hsteps, median(th, rounds) * 1e6, eh);
        print_us_array(th, rounds);
        printf("},\"correct\":%s}\n", anybad ? "false" : "true");
        fflush(stdout);
    }
    int rc = sj_finalize();
    if (rc != SJ_OK) {
        fprintf(stderr, "bench_strong: sj_finalize failed: %s\n", sj_last_error());
        return 2;
    }
    return anybad ? 1 : 0;
}
