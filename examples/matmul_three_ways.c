// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Matrix multiplication C = A B three ways, after the ipyparallel notebook,
 * each timed against one process calling cblas_dgemm and checked against it:
 *
 *   1. one task per element: C[i,j] = dot(A[i,:], B[:,j]) as n^2 tiny tasks.
 *      The notebook sends one apply per element and shows that the overhead
 *      swamps the work. Here: sj_pmap(), one item per element, first with
 *      one item per task and per hand-out (the notebook's way), then with the
 *      farm's automatic grouping of short items.
 *   2. quadrants: c_IL = a_I0 b_0L + a_I1 b_1L for I, L in {0, 1}, four tasks
 *      that each receive their four quarter matrices, as the notebook's four
 *      `apply(lambda a, b, c, d: dot(a, b) + dot(c, d), ...)` calls. Here:
 *      sj_pmap() of 4 items, the quarters shipped with each item.
 *   3. tiles: "nothing says we have to stop at 4 tiles". A is cut into
 *      T x T tiles that stay on their owners as the blocks of a block operator
 *      (sj_op_block_create_fn with sj_op_dense blocks, block-cyclic over a
 *      process grid); B is cut into T panels of columns and each panel is one
 *      apply: y = A x computes the tile products where the tiles live and sums
 *      each row of products along a tree. This is the layer meant for data
 *      that stays distributed, so the matrix moves once, not with every call.
 *
 *   mpirun -n 4 ./matmul_three_ways [--n N] [--ne N] [--tiles T] [--reps R]
 *                                   [--small] [--quiet]
 *
 * --n is the size for quadrants and tiles (a multiple of 2 and of T), --ne
 * the size for the one-task-per-element run (kept small: it is slow on
 * purpose). Times are medians over --reps runs on rank 0, and depend on what
 * else the machine runs; OpenBLAS may use several threads in the reference
 * (set OPENBLAS_NUM_THREADS=1 for a one-core reference).
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

#include "example.h"

/* Relative error allowed against dgemm: sums of n products in another order. */
#define TOL 1e-12

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "matmul_three_ways: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

/* np.random.random([n, n]) with a seed: uniform numbers in [0, 1). */
static double *random_matrix(int n, uint64_t seed)
{
    double *a = xmalloc((size_t)n * n * sizeof *a);
    uint64_t s = seed * 0x9E3779B97F4A7C15u + 1;
    for (size_t k = 0; k < (size_t)n * n; k++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        a[k] = (double)(s >> 11) * 0x1.0p-53;
    }
    return a;
}

/* Copies the r x c block at (i0, j0) of the column-major n x n matrix a into
 * the packed column-major buffer out, and back. */
static void pack(const double *a, int n, int i0, int j0, int r, int c, double *out)
{
    for (int j = 0; j < c; j++)
        memcpy(out + (size_t)j * r, a + (size_t)(j0 + j) * n + i0, (size_t)r * sizeof *out);
}

static void unpack(const double *in, int r, int c, double *a, int n, int i0, int j0)
{
    for (int j = 0; j < c; j++)
        memcpy(a + (size_t)(j0 + j) * n + i0, in + (size_t)j * r, (size_t)r * sizeof *in);
}

/* max |c - ref| / max |ref| */
static double relerr(const double *c, const double *ref, size_t len)
{
    double d = 0, m = 0;
    for (size_t k = 0; k < len; k++) {
        d = fmax(d, fabs(c[k] - ref[k]));
        m = fmax(m, fabs(ref[k]));
    }
    return m > 0 ? d / m : d;
}

/* The reference: C = A B by one cblas_dgemm on rank 0, `reps` times. */
static double dgemm_time(int n, const double *a, const double *b, double *c, int reps)
{
    double *t = xmalloc((size_t)reps * sizeof *t);
    /* one untimed call first: OpenBLAS starts its threads on the first one */
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
        t[r] = now() - t0;
    }
    double m = median(t, reps);
    free(t);
    return m;
}

/* ---- 1. one task per element ------------------------------------------ */

/* Item i + n * j: its input is row i of A then column j of B (2n doubles),
 * its result the one element C[i,j]. */
static int element(int64_t index, const void *in, void *out, void *ctx)
{
    const int n = *(const int *)ctx;
    const double *row = in, *col = row + n;
    double s = 0;
    for (int k = 0; k < n; k++)
        s += row[k] * col[k];
    *(double *)out = s;
    return 0;
}

/* Runs the n^2 element items; one_per_task makes every item its own task and
 * its own hand-out. Returns the time of the farm on rank 0; c on rank 0. */
static double per_element(int n, const double *in, double *c, int one_per_task)
{
    sj_pmap_options_t opts;
    sj_pmap_options_default(&opts);
    if (one_per_task) {
        opts.batch = 1;            /* one item per message to a rank */
        opts.queue_per_worker = 1; /* one item per task */
    }
    sj_pmap_report_t rep;
    CHECK(sj_pmap((int64_t)n * n, in, 2 * (size_t)n * sizeof(double), c, sizeof(double), element,
                  &n, sizeof n, &opts, &rep));
    return rep.seconds;
}

/* ---- 2. quadrants ------------------------------------------------------ */

/* Item (I, L): input a_I0, a_I1, b_0L, b_1L (four h x h quarters), result
 * c_IL = a_I0 b_0L + a_I1 b_1L: the notebook's lambda a, b, c, d. */
static int quadrant(int64_t index, const void *in, void *out, void *ctx)
{
    const int h = *(const int *)ctx;
    const size_t q = (size_t)h * h;
    const double *a0 = in, *a1 = a0 + q, *b0 = a1 + q, *b1 = b0 + q;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, h, h, h, 1.0, a0, h, b0, h, 0.0, out, h);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, h, h, h, 1.0, a1, h, b1, h, 1.0, out, h);
    return 0;
}

/* On rank 0: the four items' inputs, item I + 2 L holding a_I0 a_I1 b_0L b_1L. */
static double *quadrant_inputs(int n, const double *a, const double *b)
{
    const int h = n / 2;
    const size_t q = (size_t)h * h;
    double *in = xmalloc(16 * q * sizeof *in);
    for (int item = 0; item < 4; item++) {
        const int row = item % 2, col = item / 2; /* c_IL with I = row, L = col */
        double *p = in + 4 * q * (size_t)item;
        pack(a, n, row * h, 0, h, h, p);
        pack(a, n, row * h, h, h, h, p + q);
        pack(b, n, 0, col * h, h, h, p + 2 * q);
        pack(b, n, h, col * h, h, h, p + 3 * q);
    }
    return in;
}

/* The notebook's serial try first: the same 8 products on rank 0 alone. */
static double quadrants_serial(int n, const double *in, double *c)
{
    const int h = n / 2;
    const size_t q = (size_t)h * h;
    double *out = xmalloc(4 * q * sizeof *out);
    double t0 = now();
    for (int item = 0; item < 4; item++)
        quadrant(item, in + 4 * q * (size_t)item, out + q * (size_t)item, (void *)&h);
    double t = now() - t0;
    for (int item = 0; item < 4; item++)
        unpack(out + q * (size_t)item, h, h, c, n, (item % 2) * h, (item / 2) * h);
    free(out);
    return t;
}

static double quadrants_farm(int n, const double *in, double *c)
{
    const int h = n / 2, me = sj_rank();
    const size_t q = (size_t)h * h;
    double *out = me == 0 ? xmalloc(4 * q * sizeof *out) : NULL;
    sj_pmap_options_t opts;
    sj_pmap_options_default(&opts);
    opts.batch = 1; /* one quadrant per hand-out: on 4 ranks, one each */
    opts.queue_per_worker = 1;
    sj_pmap_report_t rep;
    CHECK(sj_pmap(4, in, 4 * q * sizeof(double), out, q * sizeof(double), quadrant, &h, sizeof h,
                  &opts, &rep));
    for (int item = 0; me == 0 && item < 4; item++)
        unpack(out + q * (size_t)item, h, h, c, n, (item % 2) * h, (item / 2) * h);
    free(out);
    return rep.seconds;
}

/* ---- 3. tiles on a block operator -------------------------------------- */

typedef struct tiles {
    int n, t, w;         /* matrix size, tiles per dimension, tile width n / t */
    sj_dist_t dist;      /* the t x t tile grid on a process grid */
    double **tile;       /* t * t tile pointers, non-NULL on each tile's owner */
    const double *a;     /* rank 0: the whole A */
    const double *b;     /* rank 0: the whole B */
    sj_array_t *x;       /* t panels of B, each a vector of t tiles */
    sj_dist_t xdist;     /* their layout, the operator's domain layout */
    sj_space_t tile_in;  /* (w, w): a tile of B, the domain of a leaf */
    sj_space_t tile_out; /* (w, w): a tile of C, the range of a leaf */
} tiles_t;

/* SPMD: rank 0 sends every tile of A to the rank that will own it. */
static int send_tiles(sj_spmd_context_t ctx, void *arg)
{
    tiles_t *T = arg;
    const int me = sj_spmd_rank(ctx), w = T->w;
    const size_t bytes = (size_t)w * w * sizeof(double);
    double *buf = me == 0 ? xmalloc(bytes) : NULL;
    for (int j = 0; j < T->t; j++) {
        for (int i = 0; i < T->t; i++) {
            int owner, k = i + T->t * j;
            TRY(sj_dist_owner(T->dist, k, &owner));
            if (me == 0) {
                pack(T->a, T->n, i * w, j * w, w, w, buf);
                if (owner == 0)
                    memcpy(T->tile[k], buf, bytes);
                else
                    TRY(sj_spmd_send(ctx, owner, k, buf, bytes));
            } else if (me == owner) {
                TRY(sj_spmd_recv(ctx, 0, k, T->tile[k], bytes));
            }
        }
    }
    free(buf);
    return 0;
}

/* SPMD: rank 0 sends tile B_jl to the owner of block j of x_l, which
 * receives it straight into that block (sj_spmd_recv_block). */
static int send_panels(sj_spmd_context_t ctx, void *arg)
{
    tiles_t *T = arg;
    const int me = sj_spmd_rank(ctx), w = T->w;
    const size_t bytes = (size_t)w * w * sizeof(double);
    double *buf = me == 0 ? xmalloc(bytes) : NULL;
    for (int l = 0; l < T->t; l++) {
        for (int j = 0; j < T->t; j++) {
            int owner, tag = j + T->t * l;
            TRY(sj_dist_owner(T->xdist, j, &owner));
            if (me == 0 && owner == 0) {
                double *p;
                TRY(sj_array_localpart_get(T->x[l], j, (void **)&p));
                pack(T->b, T->n, j * w, l * w, w, w, p);
                TRY(sj_array_localpart_restore(T->x[l], j, (void **)&p));
            } else if (me == 0) {
                pack(T->b, T->n, j * w, l * w, w, w, buf);
                TRY(sj_spmd_send(ctx, owner, tag, buf, bytes));
            } else if (me == owner) {
                TRY(sj_spmd_recv_block(ctx, 0, tag, T->x[l], j));
            }
        }
    }
    free(buf);
    return 0;
}

/* Block (i, j) of the block operator: the dense tile A_ij on its owner
 * (sj_op_dense applies it to the w columns of a B tile at once: gemm). */
static int make_tile(int i, int j, int owner, void *ctx, sj_op_t *block)
{
    tiles_t *T = ctx;
    return sj_op_dense(T->tile_in, T->tile_out, owner, T->tile[i + T->t * j], block);
}

/* The process grid: pr x pc = nranks with pc the largest divisor <= sqrt. */
static void process_grid(int np, int *pr, int *pc)
{
    *pc = 1;
    for (int d = 1; d * d <= np; d++)
        if (np % d == 0)
            *pc = d;
    *pr = np / *pc;
}

/* Times on rank 0: setup (tiles to owners, operator), multiply (t applies and
 * a wait), gather (C to rank 0). `reps` multiplies. */
static void tiles_multiply(int n, int t, const double *a, const double *b, double *c, int reps,
                           double *t_setup, double *t_mult, double *t_gather, int *pr_out,
                           int *pc_out)
{
    const int me = sj_rank(), np = sj_nranks(), w = n / t;
    tiles_t T = {.n = n, .t = t, .w = w, .a = a, .b = b};
    int pr, pc;
    process_grid(np, &pr, &pc);
    *pr_out = pr, *pc_out = pc;

    CHECK(sj_barrier());
    double t0 = now();
    /* The tile grid, block-cyclic over pr x pc ranks (ScaLAPACK style). */
    CHECK(sj_dist_create_cyclic(2, (int[]){t, t}, pr, pc, NULL, &T.dist));
    T.tile = calloc((size_t)t * t, sizeof *T.tile);
    if (!T.tile) {
        fprintf(stderr, "matmul_three_ways: out of memory\n");
        exit(1);
    }
    for (int k = 0; k < t * t; k++) {
        int owner;
        CHECK(sj_dist_owner(T.dist, k, &owner));
        if (owner == me)
            T.tile[k] = xmalloc((size_t)w * w * sizeof(double));
    }
    CHECK(sj_spmd_run(NULL, send_tiles, &T));
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){w, w}, (int[]){1, 1}, &T.tile_in));
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){w, w}, (int[]){1, 1}, &T.tile_out));
    sj_op_t A;
    CHECK(sj_op_block_create_fn(t, t, T.dist, make_tile, &T, sizeof T, &A));
    /* The leaves keep their own copies of the tiles. */
    for (int k = 0; k < t * t; k++)
        free(T.tile[k]);
    free(T.tile);

    /* x_l: panel l of B (columns l w .. l w + w - 1) as a vector of t blocks,
     * block j the tile B_jl, laid out like the operator's domain so that the
     * applies find each tile where they need it first. */
    sj_space_t dspace, rspace;
    sj_dist_t rdist;
    CHECK(sj_op_domain(A, &dspace, &T.xdist));
    CHECK(sj_op_range(A, &rspace, &rdist));
    sj_array_t *x = xmalloc((size_t)t * sizeof *x), *y = xmalloc((size_t)t * sizeof *y);
    for (int l = 0; l < t; l++) {
        CHECK(sj_array_zeros(dspace, T.xdist, &x[l]));
        CHECK(sj_array_zeros(rspace, rdist, &y[l]));
    }
    T.x = x;
    CHECK(sj_spmd_run(NULL, send_panels, &T));
    CHECK(sj_wait());
    *t_setup = now() - t0;

    /* The multiply: one apply per panel, all submitted before one wait. */
    double *tm = xmalloc((size_t)reps * sizeof *tm);
    for (int r = 0; r < reps; r++) {
        CHECK(sj_barrier());
        t0 = now();
        for (int l = 0; l < t; l++)
            CHECK(sj_op_apply(A, x[l], y[l]));
        CHECK(sj_wait());
        tm[r] = now() - t0;
    }
    *t_mult = median(tm, reps);
    free(tm);

    /* y_l holds the tiles C_il of panel l, one after the other. */
    double *buf = me == 0 ? xmalloc((size_t)n * w * sizeof *buf) : NULL;
    t0 = now();
    for (int l = 0; l < t; l++) {
        CHECK(sj_array_gather(y[l], 0, buf));
        for (int i = 0; me == 0 && i < t; i++)
            unpack(buf + (size_t)i * w * w, w, w, c, n, i * w, l * w);
    }
    *t_gather = now() - t0;

    for (int l = 0; l < t; l++) {
        CHECK(sj_array_destroy(&x[l]));
        CHECK(sj_array_destroy(&y[l]));
    }
    free(x);
    free(y);
    free(buf);
    CHECK(sj_op_destroy(&A));
    CHECK(sj_space_destroy(&T.tile_in));
    CHECK(sj_space_destroy(&T.tile_out));
    CHECK(sj_dist_destroy(&T.dist));
}

/* ---- main --------------------------------------------------------------- */

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--n N (quadrants and tiles, default 512)] [--ne N (one task per "
            "element, default 32)]\n       [--tiles T (per dimension, default 4)] [--reps R "
            "(default 3)] [--small] [--quiet]\n",
            prog);
}

static int int_arg(const char *name, const char *text, int max)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*end || v < 1 || v > max) {
        if (sj_rank() == 0)
            fprintf(stderr, "%s: expected 1 .. %d, got '%s'\n", name, max, text);
        sj_finalize();
        exit(2);
    }
    return (int)v;
}

/* One line of the results table on rank 0; returns 0 when the error is too large. */
static int report(const char *what, long tasks, double seconds, double ref_seconds, double err)
{
    const int ok = err <= TOL;
    printf("  %-44s %7ld %10.3f %9.1f %10.1e%s\n", what, tasks, 1e3 * seconds,
           seconds / ref_seconds, err, ok ? "" : "  WRONG");
    fflush(stdout);
    return ok;
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();

    int n = 512, ne = 32, t = 4, reps = 3, quiet = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--n") && a + 1 < argc)
            n = int_arg("--n", argv[++a], 8192);
        else if (!strcmp(argv[a], "--ne") && a + 1 < argc)
            ne = int_arg("--ne", argv[++a], 256);
        else if (!strcmp(argv[a], "--tiles") && a + 1 < argc)
            t = int_arg("--tiles", argv[++a], 64);
        else if (!strcmp(argv[a], "--reps") && a + 1 < argc)
            reps = int_arg("--reps", argv[++a], 1000);
        else if (!strcmp(argv[a], "--small"))
            n = 64, ne = 16, t = 4, reps = 1;
        else if (!strcmp(argv[a], "--quiet"))
            quiet = 1;
        else {
            if (me == 0)
                usage(argv[0]);
            sj_finalize();
            return 2;
        }
    }
    if (n % 2 || n % t) {
        if (me == 0)
            fprintf(stderr, "--n %d must be a multiple of 2 and of --tiles %d\n", n, t);
        sj_finalize();
        return 2;
    }

    /* The matrices and the references live on rank 0, the notebook. */
    double *a = NULL, *b = NULL, *ref = NULL, *c = NULL, *ae = NULL, *be = NULL, *refe = NULL;
    double *ce = NULL, *ein = NULL, *qin = NULL;
    double t_ref = 0, t_refe = 0;
    if (me == 0) {
        a = random_matrix(n, 1), b = random_matrix(n, 2);
        ae = random_matrix(ne, 3), be = random_matrix(ne, 4);
        ref = xmalloc((size_t)n * n * sizeof *ref), c = xmalloc((size_t)n * n * sizeof *c);
        refe = xmalloc((size_t)ne * ne * sizeof *refe), ce = xmalloc((size_t)ne * ne * sizeof *ce);
        t_ref = dgemm_time(n, a, b, ref, reps);
        t_refe = dgemm_time(ne, ae, be, refe, reps);
        /* Element inputs: item i + ne j is row i of A, then column j of B. */
        ein = xmalloc(2 * (size_t)ne * ne * ne * sizeof *ein);
        for (int j = 0; j < ne; j++)
            for (int i = 0; i < ne; i++) {
                double *p = ein + 2 * (size_t)ne * (i + (size_t)ne * j);
                for (int k = 0; k < ne; k++)
                    p[k] = ae[i + (size_t)ne * k];
                memcpy(p + ne, be + (size_t)ne * j, (size_t)ne * sizeof *p);
            }
        qin = quadrant_inputs(n, a, b);
        printf("starjets %s: C = A B on %d rank(s), %d CPU worker(s) on rank 0\n",
               sj_version(0, 0, 0), np, sj_ncpus());
        printf("\n  %-44s %7s %10s %9s %10s\n", "method", "tasks", "time (ms)", "/ dgemm",
               "rel. error");
        printf("  %-44s %7d %10.3f %9.1f %10s\n", "cblas_dgemm, one process (reference)", 1,
               1e3 * t_ref, 1.0, "-");
        char what[64];
        snprintf(what, sizeof what, "cblas_dgemm, n = %d (per-element reference)", ne);
        printf("  %-44s %7d %10.3f %9.1f %10s\n", what, 1, 1e3 * t_refe, 1.0, "-");
        fflush(stdout);
    }
    int ok = 1;
    char what[64];

    /* 1. One task per element, then the same items grouped by the farm. */
    double s = per_element(ne, ein, ce, 1);
    if (me == 0) {
        snprintf(what, sizeof what, "per element, n = %d: one item per task", ne);
        ok &= report(what, (long)ne * ne, s, t_refe, relerr(ce, refe, (size_t)ne * ne));
        memset(ce, 0, (size_t)ne * ne * sizeof *ce);
    }
    s = per_element(ne, ein, ce, 0);
    if (me == 0) {
        snprintf(what, sizeof what, "per element, n = %d: automatic grouping", ne);
        ok &= report(what, (long)ne * ne, s, t_refe, relerr(ce, refe, (size_t)ne * ne));
    }

    /* 2. Quadrants: first on rank 0 alone, then four items over the ranks. */
    if (me == 0) {
        s = quadrants_serial(n, qin, c);
        snprintf(what, sizeof what, "quadrants, n = %d: on rank 0 alone", n);
        ok &= report(what, 8, s, t_ref, relerr(c, ref, (size_t)n * n));
        memset(c, 0, (size_t)n * n * sizeof *c);
    }
    double *tq = xmalloc((size_t)reps * sizeof *tq);
    for (int r = 0; r < reps; r++)
        tq[r] = quadrants_farm(n, qin, c);
    s = median(tq, reps);
    free(tq);
    if (me == 0) {
        snprintf(what, sizeof what, "quadrants, n = %d: sj_pmap of 4 items", n);
        ok &= report(what, 4, s, t_ref, relerr(c, ref, (size_t)n * n));
        memset(c, 0, (size_t)n * n * sizeof *c);
    }

    /* 3. Tiles on a block operator. */
    double t_setup, t_mult, t_gather;
    int pr, pc;
    tiles_multiply(n, t, a, b, c, reps, &t_setup, &t_mult, &t_gather, &pr, &pc);
    if (me == 0) {
        snprintf(what, sizeof what, "tiles %dx%d, n = %d: block operator", t, t, n);
        ok &= report(what, (long)t * t * t, t_mult, t_ref, relerr(c, ref, (size_t)n * n));
        if (!quiet) {
            printf("    (tiles block-cyclic over a %d x %d process grid; moving A's tiles to "
                   "their owners\n     and B's panels took %.3f ms, gathering C %.3f ms; the "
                   "time above is the %d applies)\n",
                   pr, pc, 1e3 * t_setup, 1e3 * t_gather, t);
            printf("\nOne task per element pays the task overhead %ld times for %d flops each;\n"
                   "quadrants and tiles pay it a few times for large blocks. Quadrants ship their\n"
                   "quarters with every call; the tiles of A stay on the ranks that use them.\n",
                   (long)ne * ne, 2 * ne);
        }
        printf("\n%s\n", ok ? "matmul_three_ways: every product matches cblas_dgemm"
                            : "matmul_three_ways: WRONG RESULTS (see above)");
    }
    free(a), free(b), free(ref), free(c), free(ae), free(be), free(refe), free(ce), free(ein);
    free(qin);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
