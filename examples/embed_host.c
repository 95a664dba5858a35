// sj-example: nprocs=1,2,3,4 args=--steps 12
/*
 * A host code that embeds starjets (docs/embedding.md): it owns MPI, its
 * communicator, its decomposition and its field with ghost layers, and hands
 * the field to starjets without a copy for the steps starjets does well.
 *
 *   mpirun -n 4 ./embed_host [--nx NX] [--ny NY] [--steps S]
 *
 * The host:
 *   - calls MPI_Init_thread and MPI_Finalize, and runs starjets on a
 *     duplicate of its own communicator;
 *   - cuts an NX x NY plate over a px x py grid of its ranks and allocates,
 *     on each rank, its part with one ghost cell on every side (two fields,
 *     u and v, for double buffering);
 *   - each step adds a heat source to u in its own OpenMP loop, then lets
 *     starjets run a five-point heat step (v = u + k Laplacian u) and a
 *     block-diagonal operator (u = D v: a sponge that damps the plate's
 *     edges) directly on its memory;
 *   - reads the result in place between steps, with its own MPI collectives.
 *
 * Every rank recomputes the whole plate serially with the same arithmetic
 * and checks that its part holds the same bits, and that its ghost cells were
 * never written.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include <starjets.h>

#include "example.h"

#define GHOST_VALUE (-1.0) /* the host's ghost cells; starjets never touches them */

/* ---- the physics, written once for starjets and the serial check ------------ */

static inline double heat(double c, double l, double r, double d, double u)
{
    return c + 0.2 * (((l + r) + (d + u)) - 4.0 * c);
}

static double source(int64_t i, int64_t j, int64_t nx, int64_t ny, int step)
{
    const double x = (double)i / (double)nx - 0.5, y = (double)j / (double)ny - 0.5;
    return x * x + y * y < 0.02 ? 1.0 + 0.1 * step : 0.0;
}

/* The sponge: 1 inside, falling towards the plate's edges. */
static double sponge(int64_t i, int64_t j, int64_t nx, int64_t ny)
{
    const int64_t e = i < nx - 1 - i ? i : nx - 1 - i, f = j < ny - 1 - j ? j : ny - 1 - j;
    const int64_t m = e < f ? e : f;
    return m >= 4 ? 1.0 : 0.9 + 0.025 * (double)m;
}

/* starjets' stencil function: the heat step on a box, zero outside the plate. */
static int heat_fn(const sj_stencil_info_t *s, void *outp, const void *inp, void *ctx)
{
    (void)ctx;
    const double *in = inp;
    double *out = outp;
    const int64_t a = s->in_stride[1], o = s->out_stride[1];
    for (int64_t j = s->lo[1]; j < s->hi[1]; j++)
        for (int64_t i = s->lo[0]; i < s->hi[0]; i++) {
            const double *c = in + i + a * j;
            out[i + o * j] = heat(*c, c[-1], c[1], c[-a], c[a]);
        }
    return 0;
}

/* ---- the host's decomposition ------------------------------------------------ */

typedef struct part {
    int px, py, cx, cy;  /* process grid and this rank's place in it */
    int64_t nx, ny;      /* the plate */
    int64_t lo[2], n[2]; /* this rank's cells: [lo, lo + n) */
    int64_t ld;          /* the host array's column length: n[0] + 2 */
    double *u, *v;       /* the host's fields, ghosts included */
} part_t;

/* The host cuts n cells into m nearly equal parts, the first n % m one longer. */
static int64_t cut(int64_t n, int m, int k)
{
    return (int64_t)k * (n / m) + (k < n % m ? k : n % m);
}

static double *interior(const part_t *p, double *f)
{
    return f + 1 + p->ld; /* cell (lo[0], lo[1]) */
}

/* ---- the serial check ---------------------------------------------------------- */

static void serial(int64_t nx, int64_t ny, int steps, double *u)
{
    double *v = calloc((size_t)(nx * ny), sizeof *v);
    for (int64_t c = 0; c < nx * ny; c++)
        u[c] = 0.0;
    for (int step = 0; step < steps; step++) {
        for (int64_t j = 0; j < ny; j++)
            for (int64_t i = 0; i < nx; i++)
                u[i + nx * j] += 0.05 * source(i, j, nx, ny, step);
        for (int64_t j = 0; j < ny; j++)
            for (int64_t i = 0; i < nx; i++) {
#define U(a, b) ((a) < 0 || (a) >= nx || (b) < 0 || (b) >= ny ? 0.0 : u[(a) + nx * (b)])
                v[i + nx * j] = heat(U(i, j), U(i - 1, j), U(i + 1, j), U(i, j - 1), U(i, j + 1));
#undef U
            }
        for (int64_t j = 0; j < ny; j++)
            for (int64_t i = 0; i < nx; i++)
                u[i + nx * j] = sponge(i, j, nx, ny) * v[i + nx * j];
    }
    free(v);
}

int main(int argc, char **argv)
{
    int64_t nx = 96, ny = 64;
    int steps = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--nx") && i + 1 < argc)
            nx = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--ny") && i + 1 < argc)
            ny = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
    }

    /* The host owns MPI and its communicator. */
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    if (provided < MPI_THREAD_MULTIPLE) {
        /* at MPI_THREAD_SERIALIZED the host could not call MPI while starjets runs */
        fprintf(stderr, "embed_host: this MPI gives no MPI_THREAD_MULTIPLE\n");
        MPI_Finalize();
        return 77;
    }
    MPI_Comm host;
    MPI_Comm_dup(MPI_COMM_WORLD, &host);
    int rank = 0, np = 1;
    MPI_Comm_rank(host, &rank);
    MPI_Comm_size(host, &np);

    /* The host's decomposition: a px x py grid, its part with a ghost layer. */
    part_t p = {.nx = nx, .ny = ny};
    int dims[2] = {0, 0};
    MPI_Dims_create(np, 2, dims);
    p.px = dims[0];
    p.py = dims[1];
    p.cx = rank % p.px;
    p.cy = rank / p.px;
    p.lo[0] = cut(nx, p.px, p.cx);
    p.n[0] = cut(nx, p.px, p.cx + 1) - p.lo[0];
    p.lo[1] = cut(ny, p.py, p.cy);
    p.n[1] = cut(ny, p.py, p.cy + 1) - p.lo[1];
    p.ld = p.n[0] + 2;
    const size_t cells = (size_t)(p.ld * (p.n[1] + 2));
    p.u = malloc(cells * sizeof(double));
    p.v = malloc(cells * sizeof(double));
    for (size_t c = 0; c < cells; c++)
        p.u[c] = p.v[c] = GHOST_VALUE;
    for (int64_t j = 0; j < p.n[1]; j++)
        for (int64_t i = 0; i < p.n[0]; i++)
            interior(&p, p.u)[i + p.ld * j] = 0.0;

    /* starjets on the host's communicator. */
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.comm = host;
    CHECK(sj_init(&argc, &argv, &o));

    /* The same cuts as the host (sj_space_create cuts alike), and the host's owners. */
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){nx, ny}, (int[]){p.px, p.py}, &space));
    int *owners = malloc((size_t)np * sizeof *owners);
    for (int r = 0; r < np; r++)
        owners[(r % p.px) + p.px * (r / p.px)] = r;
    sj_dist_t dist, diag_dist;
    CHECK(sj_dist_create_explicit(2, (int[]){p.px, p.py}, owners, &dist));
    CHECK(sj_dist_create_explicit(1, (int[]){np}, owners, &diag_dist));

    /* The host's fields, wrapped: base is cell (lo0, lo1), columns ld apart. */
    sj_array_t u, v;
    CHECK(sj_array_wrap_local(space, dist, interior(&p, p.u), (int64_t[]){p.ld, 0}, &u));
    CHECK(sj_array_wrap_local(space, dist, interior(&p, p.v), (int64_t[]){p.ld, 0}, &v));

    /* The sponge as a block-diagonal operator: block b is the diagonal of the
     * sponge over block b of the plate, owned where the block lives. */
    sj_op_t *leaves = calloc((size_t)np, sizeof *leaves);
    for (int b = 0; b < np; b++) {
        int64_t lo[2], hi[2], len = 0;
        CHECK(sj_space_block_range(space, b, lo, hi));
        CHECK(sj_space_block_dims(space, b, NULL, &len));
        double *d = malloc((size_t)len * sizeof *d);
        for (int64_t j = lo[1], e = 0; j < hi[1]; j++)
            for (int64_t i = lo[0]; i < hi[0]; i++)
                d[e++] = sponge(i, j, nx, ny);
        sj_space_t bs;
        CHECK(sj_space_create(SJ_FLOAT64, 1, &len, (int[]){1}, &bs));
        CHECK(sj_op_diagonal(bs, owners[b], d, &leaves[b]));
        CHECK(sj_space_destroy(&bs));
        free(d);
    }
    sj_op_t D;
    CHECK(sj_op_block_diag(np, leaves, diag_dist, &D));
    for (int b = 0; b < np; b++)
        CHECK(sj_op_destroy(&leaves[b]));
    free(leaves);

    double t0 = now();
    for (int step = 0; step < steps; step++) {
        /* the host's own OpenMP loop on its own memory */
        CHECK(sj_array_acquire(u, SJ_ACCESS_READWRITE));
        double *uu = interior(&p, p.u);
#pragma omp parallel for
        for (int64_t j = 0; j < p.n[1]; j++)
            for (int64_t i = 0; i < p.n[0]; i++)
                uu[i + p.ld * j] += 0.05 * source(p.lo[0] + i, p.lo[1] + j, nx, ny, step);
        CHECK(sj_array_release(u));
        /* starjets: a stencil step and an operator apply, in place, without a wait */
        CHECK(sj_array_stencil(u, v, 1, SJ_BOUNDARY_FIXED, NULL, heat_fn, NULL, 0));
        CHECK(sj_op_apply(D, v, u));
        if (step % 5 == 4 || step == steps - 1) {
            /* the host reads its field in place and reduces with its own MPI */
            CHECK(sj_array_acquire(u, SJ_ACCESS_READ));
            double local = 0, total = 0;
            for (int64_t j = 0; j < p.n[1]; j++)
                for (int64_t i = 0; i < p.n[0]; i++)
                    local += uu[i + p.ld * j];
            CHECK(sj_array_release(u));
            MPI_Allreduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, host);
            if (rank == 0)
                printf("step %3d: total heat %.6f\n", step + 1, total);
        }
    }
    CHECK(sj_wait());
    const double elapsed = now() - t0;

    /* Give the memory back: u holds the last values, starjets lets go of both. */
    CHECK(sj_array_unwrap(&u));
    CHECK(sj_array_unwrap(&v));
    CHECK(sj_op_destroy(&D));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_dist_destroy(&diag_dist));
    CHECK(sj_space_destroy(&space));
    CHECK(sj_finalize());

    /* The check, with the host's MPI after starjets stopped. */
    double *ref = malloc((size_t)(nx * ny) * sizeof *ref);
    serial(nx, ny, steps, ref);
    long bad = 0;
    for (int64_t j = -1; j <= p.n[1]; j++)
        for (int64_t i = -1; i <= p.n[0]; i++) {
            const double h = p.u[(i + 1) + p.ld * (j + 1)];
            const int ghost = i < 0 || j < 0 || i == p.n[0] || j == p.n[1];
            const double want = ghost ? GHOST_VALUE : ref[(p.lo[0] + i) + nx * (p.lo[1] + j)];
            bad += memcmp(&h, &want, sizeof h) != 0;
        }
    long all_bad = 0;
    MPI_Allreduce(&bad, &all_bad, 1, MPI_LONG, MPI_SUM, host);
    if (rank == 0)
        printf("%lld x %lld plate on %d x %d ranks, %d steps in %.3f s: %s\n", (long long)nx,
               (long long)ny, p.px, p.py, steps, elapsed,
               all_bad ? "MISMATCH with the serial run" : "same bits as the serial run");
    free(ref);
    free(owners);
    free(p.u);
    free(p.v);
    MPI_Comm_free(&host);
    MPI_Finalize();
    return all_bad != 0;
}
