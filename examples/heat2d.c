// sj-example: nprocs=1,2,3,4 args=--small
/*
 * The 2-D heat equation on a distributed array (the Julia lesson's
 * Heatequation exercise with DistributedArrays), explicit time steps with a
 * five-point stencil, checked against a serial run.
 *
 *   mpirun -n 2 ./heat2d [--nx NX] [--ny NY] [--steps S] [--every E] [--small]
 *
 * A square plate at temperature 0 with a hot disc (100) in the middle; the
 * edges are held at 0. Each step computes
 *
 *   u'(i,j) = u(i,j) + k (u(i-1,j) + u(i+1,j) + u(i,j-1) + u(i,j+1) - 4 u(i,j))
 *
 * with k = a dt / h^2 = 0.2 (stable for k <= 1/4). The plate is cut into
 * blocks spread over the ranks; sj_array_stencil() brings each block the
 * cells it needs from its neighbours (the halo) and runs the update on the
 * block's owner. Every E steps rank 0 prints the total heat and the hottest
 * cell.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

#include "example.h"

/* The initial temperature of cell (i, j) of an nx x ny plate. */
static double initial(int64_t i, int64_t j, int64_t nx, int64_t ny)
{
    const double x = (double)i - 0.5 * (double)(nx - 1), y = (double)j - 0.5 * (double)(ny - 1);
    const double r = (double)(nx < ny ? nx : ny) / 6;
    return x * x + y * y < r * r ? 100.0 : 0.0;
}

/* One update, written once and used by both the stencil and the serial run so
 * that they round alike: c is the cell, l r d u its four neighbours. */
static inline double update(double c, double l, double r, double d, double u, double k)
{
    return c + k * (((l + r) + (d + u)) - 4.0 * c);
}

/* ---- the distributed version ------------------------------------------------- */

typedef struct plate {
    int64_t nx, ny;
} plate_t;

/* Block initialiser: the block's cells from their global coordinates. */
static int init_block(const sj_block_info_t *blk, void *outp, const void *const *in, void *ctx)
{
    const plate_t *p = ctx;
    double *out = outp;
    for (int64_t j = 0; j < blk->dims[1]; j++)
        for (int64_t i = 0; i < blk->dims[0]; i++)
            out[i + blk->dims[0] * j] = initial(blk->lo[0] + i, blk->lo[1] + j, p->nx, p->ny);
    return 0;
}

/* The stencil: one box of a block. `in` has one ghost layer around the box,
 * so c[-1], c[1] (along i) and c[-a], c[a] (along j) are always readable. */
static int heat_step(const sj_stencil_info_t *s, void *outp, const void *inp, void *ctx)
{
    const double k = *(const double *)ctx;
    const double *in = inp;
    double *out = outp;
    const int64_t a = s->in_stride[1], o = s->out_stride[1];
    for (int64_t j = s->lo[1]; j < s->hi[1]; j++)
        for (int64_t i = s->lo[0]; i < s->hi[0]; i++) {
            const double *c = in + i + a * j;
            out[i + o * j] = update(*c, c[-1], c[1], c[-a], c[a], k);
        }
    return 0;
}

/* ---- the serial reference, as one task on rank 0 -------------------------------- */

typedef struct serial_job {
    plate_t p;
    int steps;
    double k;
} serial_job_t;

static int serial_heat(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    const serial_job_t *job = arg;
    const int64_t nx = job->p.nx, ny = job->p.ny;
    double *u = out, *v = malloc((size_t)(nx * ny) * sizeof *v);
    if (!v)
        return 1;
    for (int64_t j = 0; j < ny; j++)
        for (int64_t i = 0; i < nx; i++)
            u[i + nx * j] = initial(i, j, nx, ny);
    for (int step = 0; step < job->steps; step++) {
        for (int64_t j = 0; j < ny; j++)
            for (int64_t i = 0; i < nx; i++) {
                /* cells beyond the edges are held at 0 */
                const double *c = u + i + nx * j;
                v[i + nx * j] = update(*c, i > 0 ? c[-1] : 0.0, i < nx - 1 ? c[1] : 0.0,
                                       j > 0 ? c[-nx] : 0.0, j < ny - 1 ? c[nx] : 0.0, job->k);
            }
        memcpy(u, v, (size_t)(nx * ny) * sizeof *u);
    }
    free(v);
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--nx NX] [--ny NY] [--steps S] [--every E] [--small]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int64_t nx = 1024, ny = 1024;
    int steps = 200, every = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small")) {
            nx = 64;
            ny = 48;
            steps = 40;
            every = 10;
        } else if (!strcmp(argv[i], "--nx") && i + 1 < argc)
            nx = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--ny") && i + 1 < argc)
            ny = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--every") && i + 1 < argc)
            every = atoi(argv[++i]);
        else
            usage(argv[0]);
    }
    if (nx < 8 || ny < 8 || nx * ny > (int64_t)1 << 27 || steps < 0 || every < 1)
        usage(argv[0]);

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    const double k = 0.2;
    const plate_t plate = {nx, ny};

    /* The plate: nx x ny doubles in 2 x np blocks, spread over the ranks by
     * the default layout. Two arrays: the current and the next step. */
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){nx, ny}, (int[]){2, np}, &space));
    char text[128];
    CHECK(sj_space_describe(space, text, sizeof text));
    sj_array_t u, v;
    CHECK(sj_array_create_init(space, NULL, init_block, &plate, sizeof plate, &u));
    CHECK(sj_array_similar(u, &v));
    if (me == 0)
        printf("heat2d: %s on %d rank(s), %d steps, k = %.2f, edges held at 0\n\n", text, np, steps,
               k);

    double heat0, hottest0;
    CHECK(sj_array_sum(u, &heat0));
    CHECK(sj_array_max(u, &hottest0));
    if (me == 0)
        printf("  step %5d: total heat %12.4f, hottest cell %8.4f\n", 0, heat0, hottest0);

    /* The time loop: each step reads u and writes v, then they swap roles.
     * Stencil calls return at once; only the progress line waits (its
     * reductions need the step's result). */
    int ok = 1;
    double last_hottest = hottest0;
    const double t0 = now();
    for (int step = 1; step <= steps; step++) {
        CHECK(sj_array_stencil(u, v, 1, SJ_BOUNDARY_FIXED, NULL, heat_step, &k, sizeof k));
        sj_array_t t = u;
        u = v;
        v = t;
        if (step % every == 0 || step == steps) {
            double heat, hottest;
            CHECK(sj_array_sum(u, &heat));
            CHECK(sj_array_max(u, &hottest));
            if (me == 0) {
                printf("  step %5d: total heat %12.4f, hottest cell %8.4f\n", step, heat, hottest);
                fflush(stdout);
            }
            /* Heat only leaves through the edges, and no cell gets hotter
             * than the hottest one was (up to rounding). */
            ok &= heat <= heat0 * (1 + 1e-12) && hottest <= last_hottest * (1 + 1e-12);
            last_hottest = hottest;
        }
    }
    CHECK(sj_wait());
    const double t_dist = now() - t0;

    /* Rank 0 gets the final plate, and the serial run's. */
    double *got = NULL, *ref = NULL;
    const size_t bytes = (size_t)(nx * ny) * sizeof(double);
    if (me == 0 && (!(got = malloc(bytes)) || !(ref = malloc(bytes)))) {
        fprintf(stderr, "heat2d: out of memory\n");
        return 1;
    }
    CHECK(sj_array_gather(u, 0, got));
    const serial_job_t job = {plate, steps, k};
    sj_future_t f;
    const double t1 = now();
    CHECK(sj_spawn(0, serial_heat, &job, sizeof job, bytes, &f));
    CHECK(sj_future_fetch(f, 0, ref));
    const double t_serial = now() - t1;
    CHECK(sj_future_destroy(&f));

    if (me == 0) {
        double worst = 0, lowest = INFINITY;
        int64_t same = 0;
        for (int64_t c = 0; c < nx * ny; c++) {
            worst = fmax(worst, fabs(got[c] - ref[c]));
            lowest = fmin(lowest, got[c]);
            same += got[c] == ref[c];
        }
        printf("\ndistributed: %.3f s (%.1f Mcells/s), serial: %.3f s\n", t_dist,
               1e-6 * (double)(nx * ny) * steps / t_dist, t_serial);
        printf("cells equal to the serial run, bit for bit: %lld of %lld (largest difference "
               "%.1e)\n",
               (long long)same, (long long)(nx * ny), worst);
        if (!ok)
            printf("the heat grew or a cell got hotter than the hottest one before\n");
        ok &= same == nx * ny && lowest >= 0.0;
        printf("\n%s\n", ok ? "heat2d: all results check out" : "heat2d: WRONG RESULTS");
    }
    free(got);
    free(ref);
    sj_array_destroy(&u);
    sj_array_destroy(&v);
    sj_space_destroy(&space);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
