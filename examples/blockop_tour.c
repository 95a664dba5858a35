// sj-example: nprocs=1,2,3,4
/*
 * blockop_tour: the DistributedJets.jl notebook, cell by cell, with starjets'
 * block operators. A block operator is a grid of small operators (here
 * diagonal ones, like JopDiagonal(rand(2))) spread over the ranks; we look at
 * where its blocks live, move blocks of operators and arrays to rank 0 and
 * back, apply it and its adjoint, and then build the two special shapes of
 * the notebook: tall-and-skinny and block-diagonal.
 *
 *   mpirun -n 4 ./blockop_tour [--n N] [--seed S] [--quiet]
 *
 * Every rank runs this same program; calls are collective unless noted.
 * The notebook's master process and its four workers become MPI ranks 0..3:
 * rank 0 prints, and holds blocks too. Every result is checked on rank 0
 * against a dense serial reference; the program exits 1 when one is wrong.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

#include "example.h"

/* ---- small helpers: printing on rank 0, checks ----------------------------- */

static int me, np, quiet, failures;

/* printf on rank 0 only (and not with --quiet). */
static void say(const char *fmt, ...)
{
    if (me != 0 || quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* Record a check made on rank 0; a failed one is printed even with --quiet. */
static void expect(int ok, const char *fmt, ...)
{
    if (me != 0 || ok)
        return;
    failures++;
    va_list ap;
    va_start(ap, fmt);
    printf("WRONG: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* A vector on one line (the first 12 values when it is longer). */
static void say_vec(const char *label, const double *x, int64_t len)
{
    if (me != 0 || quiet) /* x is only there on rank 0 */
        return;
    say("%s =", label);
    for (int64_t i = 0; i < len && i < 12; i++)
        say(" %.4f", x[i]);
    if (len > 12)
        say(" ... (%" PRId64 " values)", len);
    say("\n");
}

/* Largest |a - b| over the largest |b|: the error of a against a reference b. */
static double relerr(const double *a, const double *b, int64_t len)
{
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < len; i++) {
        diff = fmax(diff, fabs(a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return scale > 0 ? diff / scale : diff;
}

/* printf at the end of the text in buf (size bytes); cuts what does not fit. */
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* Each rank contributes one line of text; rank 0 prints them in rank order.
 * The lines travel with an SPMD gather, so they cannot interleave. */
#define LINE 160
typedef struct {
    char mine[LINE];
    char *all; /* np * LINE bytes on rank 0 */
} lines_t;

static int gather_lines(sj_spmd_context_t ctx, void *arg)
{
    lines_t *l = arg;
    return sj_spmd_gather(ctx, 0, l->mine, l->all, (size_t)sj_spmd_size(ctx) * LINE, 1);
}

static void say_rank_lines(const char *mine)
{
    lines_t l = {.all = me == 0 ? calloc((size_t)np, LINE) : NULL};
    snprintf(l.mine, LINE, "%s", mine);
    CHECK(sj_spmd_run(NULL, gather_lines, &l)); /* NULL: a context of all ranks, for this run */
    for (int r = 0; me == 0 && r < np; r++)
        if (l.all[(size_t)r * LINE])
            say("  %s\n", l.all + (size_t)r * LINE);
    free(l.all);
}

/* ---- the diagonal blocks ------------------------------------------------------ */

/* The notebook fills each block with rand(2). Here the diagonal of block (i, j)
 * is a fixed function of (seed, i, j, k), so that every rank, and the serial
 * reference on rank 0, know it without any message. */
static double diag_value(uint64_t seed, int i, int j, int64_t k)
{
    uint64_t z =
        seed * 0x9E3779B97F4A7C15u + ((uint64_t)i << 40) + ((uint64_t)j << 20) + (uint64_t)k + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u; /* splitmix64 finaliser */
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* What the block constructor needs to know. */
typedef struct {
    sj_space_t block;  /* n doubles in one block: domain and range of every leaf */
    int64_t n;         /* block length (2 in the notebook) */
    uint64_t seed;     /* which operator: diagonals depend on (seed, i, j) */
    int zero_off_diag; /* 1: JopZeroBlock off the diagonal */
} blocks_t;

/* Make block (i, j) on its owner: the body of the notebook's DArray(I -> [...]).
 * It runs on every rank; only the owner passes the diagonal, the others NULL. */
static int make_block(int i, int j, int owner, void *arg, sj_op_t *block)
{
    const blocks_t *b = arg;
    if (b->zero_off_diag && i != j)
        return sj_op_zero(b->block, b->block, owner, block); /* JopZeroBlock */
    double *d = NULL;
    if (sj_rank() == owner) {
        d = malloc((size_t)b->n * sizeof *d);
        if (!d)
            return SJ_ENOMEM;
        for (int64_t k = 0; k < b->n; k++)
            d[k] = diag_value(b->seed, i, j, k);
    }
    int rc = sj_op_diagonal(b->block, owner, d, block); /* JopDiagonal(d), state copied */
    free(d);
    return rc;
}

/* The dense (m n_blk) x (c n_blk) matrix of an m x c grid of those blocks,
 * column-major: the serial reference everything is checked against. */
static double *dense_matrix(const blocks_t *b, int m, int c)
{
    const int64_t rows = m * b->n, cols = c * b->n;
    double *M = calloc((size_t)(rows * cols), sizeof *M);
    if (!M) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < c; j++) {
            if (b->zero_off_diag && i != j)
                continue;
            for (int64_t k = 0; k < b->n; k++)
                M[(i * b->n + k) + rows * (j * b->n + k)] = diag_value(b->seed, i, j, k);
        }
    return M;
}

/* y = M x (adjoint = 0) or y = M' x (adjoint = 1) for a rows x cols matrix. */
static void dense_apply(const double *M, int64_t rows, int64_t cols, int adjoint, const double *x,
                        double *y)
{
    for (int64_t i = 0; i < (adjoint ? cols : rows); i++) {
        double s = 0;
        for (int64_t k = 0; k < (adjoint ? rows : cols); k++)
            s += (adjoint ? M[k + rows * i] : M[i + rows * k]) * x[k];
        y[i] = s;
    }
}

/* ---- layouts as the notebook prints them ---------------------------------------- */

/* Blocks `rank` owns, 1-based like Julia: "(1:2, 3:3)" for a 2-D grid, "3:4" for 1-D. */
static void blockmap_text(sj_dist_t dist, int rank, char *buf, size_t size)
{
    int ndims, nbox;
    const sj_box_t *box;
    CHECK(sj_dist_info(dist, NULL, &ndims, NULL, NULL));
    CHECK(sj_dist_blockmap(dist, rank, &nbox, &box));
    buf[0] = '\0';
    for (int k = 0; k < nbox; k++) {
        if (ndims == 1)
            append(buf, size, "%s%d:%d", k ? ", " : "", box[k].lo[0] + 1, box[k].hi[0]);
        else
            append(buf, size, "%s(%d:%d, %d:%d)", k ? ", " : "", box[k].lo[0] + 1, box[k].hi[0],
                   box[k].lo[1] + 1, box[k].hi[1]);
    }
    if (nbox == 0)
        snprintf(buf, size, "no blocks");
}

/* procs(A) and blockmap(A) of a block operator: its process grid, as a matrix. */
static void say_op_layout(sj_dist_t dist)
{
    int nprocs, grid[SJ_MAX_DIMS];
    const int *procs;
    CHECK(sj_dist_procs(dist, &nprocs, &procs, grid));
    say("procs(A), a %d x %d process grid:\n", grid[0], grid[1]);
    for (int r = 0; r < grid[0]; r++) {
        say("   ");
        for (int c = 0; c < grid[1]; c++)
            say(" %d", procs[r + grid[0] * c]);
        say("\n");
    }
    say("blockmap(A), the block rows and columns at each place of that grid:\n");
    for (int r = 0; r < grid[0]; r++) {
        say("   ");
        for (int c = 0; c < grid[1]; c++) {
            char text[128];
            blockmap_text(dist, procs[r + grid[0] * c], text, sizeof text);
            say(c + 1 < grid[1] ? " %-12s" : " %s", text);
        }
        say("\n");
    }
}

/* procs(x) and blockmap(x) of an array's layout: one range of blocks per rank. */
static void say_array_layout(const char *name, sj_array_t x)
{
    sj_dist_t dist;
    int nprocs;
    const int *procs;
    CHECK(sj_array_dist(x, &dist));
    CHECK(sj_dist_procs(dist, &nprocs, &procs, NULL));
    say("procs(%s) = [", name);
    for (int k = 0; k < nprocs; k++)
        say("%s%d", k ? ", " : "", procs[k]);
    say("], blockmap(%s) = [", name);
    for (int k = 0; k < nprocs; k++) {
        char text[128];
        blockmap_text(dist, procs[k], text, sizeof text);
        say("%s%s", k ? ", " : "", text);
    }
    say("]\n");
}

/* The whole array on rank 0 (NULL elsewhere): convert(Array, x). */
static double *gather(sj_array_t x)
{
    sj_space_t space;
    int64_t len;
    CHECK(sj_array_space(x, &space));
    CHECK(sj_space_length(space, &len));
    double *buf = NULL;
    if (me == 0 && !(buf = malloc((size_t)len * sizeof *buf))) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    CHECK(sj_array_gather(x, 0, buf));
    return buf;
}

/* Apply A to m and A' to d, and compare both with the dense reference M on rank 0. */
static void check_apply(const char *name, sj_op_t A, const double *M, int mrows, int ncols,
                        int64_t n, sj_array_t m, sj_array_t d)
{
    sj_space_t rs, ds;
    sj_dist_t rd, dd;
    CHECK(sj_op_range(A, &rs, &rd));
    CHECK(sj_op_domain(A, &ds, &dd));
    sj_array_t y, x;
    CHECK(sj_array_zeros(rs, rd, &y));
    CHECK(sj_array_zeros(ds, dd, &x));
    CHECK(sj_op_apply(A, m, y));         /* A * m: tasks on the owners of the blocks */
    CHECK(sj_op_apply_adjoint(A, d, x)); /* A' * d */
    double *hm = gather(m), *hd = gather(d), *hy = gather(y), *hx = gather(x);
    if (me == 0) {
        const int64_t rows = mrows * n, cols = ncols * n;
        double *ry = malloc((size_t)rows * sizeof *ry), *rx = malloc((size_t)cols * sizeof *rx);
        dense_apply(M, rows, cols, 0, hm, ry);
        dense_apply(M, rows, cols, 1, hd, rx);
        double ey = relerr(hy, ry, rows), ex = relerr(hx, rx, cols);
        say_vec("  A * m ", hy, rows);
        say_vec("  A' * d", hx, cols);
        say("  against the dense %" PRId64 " x %" PRId64 " matrix on rank 0: relative error "
            "%.1e (apply), %.1e (adjoint)\n",
            rows, cols, ey, ex);
        expect(ey <= 1e-13, "%s: A * m differs from the dense reference (%.3e)", name, ey);
        expect(ex <= 1e-13, "%s: A' * d differs from the dense reference (%.3e)", name, ex);
        free(ry);
        free(rx);
    }
    /* The library's own adjoint test, <A x, y> against <x, A' y> for random x, y. */
    sj_op_test_result_t t;
    CHECK(sj_op_dot_product_test(A, 7, 1e-13, &t));
    say("  dot-product test: <A x, y> = %.15f, <x, A' y> = %.15f (%s)\n", t.lhs, t.rhs,
        t.pass ? "pass" : "FAIL");
    expect(t.pass, "%s: dot-product test, relative error %.3e", name, t.relerr);
    free(hm);
    free(hd);
    free(hy);
    free(hx);
    sj_array_destroy(&y);
    sj_array_destroy(&x);
}

/* rand(range(A)) and rand(domain(A)): arrays laid out as the operator wants them. */
static void rand_range_domain(sj_op_t A, uint64_t seed, sj_array_t *d, sj_array_t *m)
{
    sj_space_t space;
    sj_dist_t dist;
    CHECK(sj_op_range(A, &space, &dist));
    CHECK(sj_array_rand(space, dist, seed, d));
    CHECK(sj_op_domain(A, &space, &dist));
    CHECK(sj_array_rand(space, dist, seed + 1, m));
}

static void say_op(sj_op_t A)
{
    char text[160];
    CHECK(sj_op_describe(A, text, sizeof text));
    say("A: %s\n", text);
}

/* ---- the notebook ------------------------------------------------------------------ */

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--n N] [--seed S] [--quiet]\n"
            "  --n N     length of each diagonal block (default 2, as in the notebook)\n"
            "  --seed S  seed of the diagonals and random arrays (default 1)\n"
            "  --quiet   print only the verdict\n",
            prog);
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    me = sj_rank();
    np = sj_nranks();

    int64_t n = 2;
    uint64_t seed = 1;
    for (int a = 1; a < argc; a++) {
        char *end = NULL;
        if (!strcmp(argv[a], "--n") && a + 1 < argc) {
            n = strtoll(argv[++a], &end, 10);
            if (*end || n < 1 || n > 1000) { /* the dense references grow as n^2 */
                if (me == 0)
                    fprintf(stderr, "--n wants a length from 1 to 1000, not %s\n", argv[a]);
                sj_finalize();
                return 2;
            }
        } else if (!strcmp(argv[a], "--seed") && a + 1 < argc) {
            seed = strtoull(argv[++a], &end, 10);
            if (*end) {
                if (me == 0)
                    fprintf(stderr, "--seed wants a number, not %s\n", argv[a]);
                sj_finalize();
                return 2;
            }
        } else if (!strcmp(argv[a], "--quiet")) {
            quiet = 1;
        } else {
            if (me == 0)
                usage(argv[0]);
            sj_finalize();
            return 2;
        }
    }

    say("starjets %s on %d rank(s). The notebook's master and workers are MPI ranks here:\n"
        "rank 0 prints and owns blocks too. Block numbers are 1-based, as in Julia.\n\n",
        sj_version(0, 0, 0), np);

    /* Every leaf acts on a space of n doubles in one block. */
    sj_space_t blk;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){1}, &blk));

    /* == A 4 x 3 grid of diagonal blocks on a 2 x 2 process grid (cell 5) ==
     * The notebook's DArray(init, (4,3), workers()[1:4], [2,2]) becomes a
     * contiguous layout of the 4 x 3 block grid over ranks 0..3 arranged 2 x 2.
     * With fewer ranks we keep as much of that grid as they allow. */
    say("== A 4 x 3 block operator of diagonal blocks ==\n");
    int pgrid[2] = {np >= 2 ? 2 : 1, np >= 4 ? 2 : 1};
    if (np < 4)
        say("only %d rank(s): process grid %d x %d instead of the notebook's 2 x 2%s\n", np,
            pgrid[0], pgrid[1], np == 3 ? " (rank 2 gets no block of A)" : "");
    else if (np > 4)
        say("ranks 0..3 hold A, as workers()[1:4] does; the other %d rank(s) hold none of it\n",
            np - 4);
    sj_dist_t grid43;
    CHECK(sj_dist_create_contiguous(2, (int[]){4, 3}, pgrid[0] * pgrid[1], NULL, pgrid, &grid43));
    blocks_t b1 = {.block = blk, .n = n, .seed = seed};
    sj_op_t A;
    CHECK(sj_op_block_create_fn(4, 3, grid43, make_block, &b1, sizeof b1, &A));
    sj_dist_destroy(&grid43); /* A keeps its own reference */
    say_op(A);
    double *M1 = me == 0 ? dense_matrix(&b1, 4, 3) : NULL;

    /* == Where are my blocks (cells 6-9) == The block layout is sj_dist_t; its
     * queries are local, so rank 0 can read every rank's share. */
    sj_dist_t adist;
    CHECK(sj_op_block_dist(A, &adist));
    say_op_layout(adist);

    /* localblockindices, asked of each rank (remotecall_fetch): every rank
     * looks up its own blocks and the lines are gathered to rank 0. */
    {
        char text[128], line[LINE];
        int count;
        const int *mine;
        blockmap_text(adist, me, text, sizeof text);
        CHECK(sj_dist_local_blocks(adist, me, &count, &mine));
        snprintf(line, sizeof line, "rank %d: localblockindices = %s", me, text);
        if (count)
            append(line, sizeof line, ", i.e. %d block(s):", count);
        for (int k = 0; k < count; k++) /* block b is (b mod 4, b div 4) */
            append(line, sizeof line, " (%d,%d)", mine[k] % 4 + 1, mine[k] / 4 + 1);
        say("local block indices, as each rank sees them:\n");
        say_rank_lines(line);
    }

    /* == Give me my blocks (cells 10-11) ==
     * The notebook fetches block (1,1), which a worker owns, to its master.
     * Here rank 0 is both the master and the first worker, so we take the last
     * block, (4,3), which another rank owns when there are several.
     * getblock(A, 4, 3) is sj_op_block_get (a handle to the block, which
     * stays on its owner) followed by sj_op_copy to rank 0: the copy's
     * diagonal lives on rank 0. Applying the copy to ones on rank 0 shows it,
     * and no data leave rank 0 for that apply. */
    say("\n== getblock of an operator block ==\n");
    sj_op_t Ab, Ab0;
    CHECK(sj_op_block_get(A, 3, 2, &Ab));
    CHECK(sj_op_copy(Ab, 0, &Ab0));
    int owner_ab, owner_copy;
    CHECK(sj_op_owner(Ab, &owner_ab));
    CHECK(sj_op_owner(Ab0, &owner_copy));
    {
        sj_dist_t on_root;
        CHECK(sj_dist_create_explicit(1, (int[]){1}, (int[]){0}, &on_root));
        sj_array_t ones, col;
        CHECK(sj_array_ones(blk, on_root, &ones));
        CHECK(sj_array_zeros(blk, on_root, &col));
        CHECK(sj_op_apply(Ab0, ones, col));
        double *diag = gather(col);
        char text[160];
        CHECK(sj_op_describe(Ab, text, sizeof text));
        say("getblock(A, 4, 3): %s, on rank %d\n", text, owner_ab);
        say("its copy on the master: rank %d\n", owner_copy);
        expect(owner_copy == 0, "the copy of block (4,3) is not on rank 0");
        if (me == 0) {
            say_vec("  the copy's diagonal (copy * ones)", diag, n);
            double err = 0;
            for (int64_t k = 0; k < n; k++)
                err = fmax(err, fabs(diag[k] - diag_value(seed, 3, 2, k)));
            expect(err == 0, "the diagonal of block (4,3) is not the one it was made with");
        }
        free(diag);
        sj_array_destroy(&ones);
        sj_array_destroy(&col);
        sj_dist_destroy(&on_root);
    }
    sj_op_destroy(&Ab0);
    /* remotecall_fetch(getblock, owner, A, ...): on the owner, the same call
     * gives a reference to the block it stores. Every rank gets a handle; only
     * the owner's holds the diagonal. */
    {
        char line[LINE];
        snprintf(line, sizeof line, "rank %d: getblock(A, 4, 3) is %s", me,
                 me == owner_ab ? "the block itself: its diagonal is stored here"
                                : "a handle: applying it runs on its owner");
        say("the same call on each rank:\n");
        say_rank_lines(line);
    }
    sj_op_destroy(&Ab);

    /* == Distributed block arrays (cells 12-17) ==
     * rand(range(A)) and rand(domain(A)): arrays with one block per block row
     * (column) of A, on the ranks that use them. */
    say("\n== range and domain arrays ==\n");
    sj_array_t d, m;
    rand_range_domain(A, seed + 100, &d, &m);
    double *d0 = gather(d), *m0 = gather(m);
    if (me == 0) {
        say_vec("d = rand(range(A))", d0, 4 * n);
        say_array_layout("d", d);
        say_vec("m = rand(domain(A))", m0, 3 * n);
        say_array_layout("m", m);
    }

    /* Cells 18-21 work on block 1 of d, on a worker. As above we take the last
     * block, block 4, so that its owner is not rank 0 when there are several. */
    const int ib = 3; /* block 4, counted from 0 */
    const int64_t off = ib * n;
    int owner_db;
    sj_dist_t ddist;
    CHECK(sj_array_dist(d, &ddist));
    CHECK(sj_dist_owner(ddist, ib, &owner_db));

    /* getblock(d, 4): a copy of the block to rank 0 (cell 18). */
    double *buf = malloc((size_t)n * sizeof *buf), *ones = malloc((size_t)n * sizeof *ones);
    for (int64_t k = 0; k < n; k++)
        ones[k] = 1.0;
    CHECK(sj_array_block_get(d, ib, 0, buf));
    say("\nblock 4 of d lives on rank %d\n", owner_db);
    say_vec("getblock(d, 4)", buf, n);
    expect(me != 0 || relerr(buf, d0 + off, n) == 0, "getblock(d, 4) is not block 4 of d");

    /* setblock!(d, 4, ones(2)): rank 0's buffer replaces the block (cell 19). */
    CHECK(sj_array_block_set(d, ib, 0, ones));
    double *d1 = gather(d);
    say_vec("after setblock!(d, 4, ones): d", d1, 4 * n);
    expect(me != 0 || (relerr(d1, d0, off) == 0 && relerr(d1 + off, ones, n) == 0),
           "setblock!(d, 4, ones) did not give d = [the first blocks of d; ones]");

    /* On its owner, a block of d is that rank's own memory (cells 20-21):
     * read it in place, then change it in place; nothing is copied or sent. */
    {
        char line[LINE] = "";
        if (me == owner_db) {
            double *p;
            CHECK(sj_array_localpart_get(d, ib, (void **)&p)); /* local: a pointer, no copy */
            snprintf(line, sizeof line,
                     "rank %d, the owner of block 4 of d, reads it in place:", me);
            for (int64_t k = 0; k < n && k < 8; k++)
                append(line, sizeof line, " %g", p[k]);
            for (int64_t k = 0; k < n; k++) /* remotegetblock_mutating: block .= 2.0 */
                p[k] = 2.0;
            CHECK(sj_array_localpart_restore(d, ib, (void **)&p));
            append(line, sizeof line, ", then sets it to 2.0");
        }
        say("\n");
        say_rank_lines(line);
    }
    double *d2 = gather(d);
    say_vec("after the owner's change: d", d2, 4 * n);
    if (me == 0) {
        int ok = relerr(d2, d0, off) == 0;
        for (int64_t k = 0; k < n; k++)
            ok &= d2[off + k] == 2.0;
        expect(ok, "the owner's in-place change of block 4 did not give d = [...; 2.0]");
    }

    /* Apply and adjoint, checked against the dense matrix. */
    say("\n== A * m and A' * d ==\n");
    check_apply("4 x 3 operator", A, M1, 4, 3, n, m, d);
    free(d0);
    free(m0);
    free(d1);
    free(d2);
    free(M1);
    sj_array_destroy(&d);
    sj_array_destroy(&m);
    sj_op_destroy(&A);

    /* == Tall-and-skinny (cells 22-25) ==
     * One block column with its rows spread over the ranks (at most one rank
     * per block row, as DArray's default takes). The model (the domain, one
     * block) lives on rank 0, the owner of the first block: the apply
     * broadcasts m down a tree, the adjoint sums the rows' parts back onto it. */
    say("\n== tall-and-skinny: a 4 x 1 block operator ==\n");
    int tgrid[2] = {np < 4 ? np : 4, 1}; /* DArray's default: one rank per block at most */
    sj_dist_t grid41;
    CHECK(sj_dist_create_contiguous(2, (int[]){4, 1}, tgrid[0], NULL, tgrid, &grid41));
    blocks_t b2 = {.block = blk, .n = n, .seed = seed + 1};
    CHECK(sj_op_block_create_fn(4, 1, grid41, make_block, &b2, sizeof b2, &A));
    sj_dist_destroy(&grid41);
    say_op(A);
    sj_op_block_kind_t kind;
    CHECK(sj_op_block_kind(A, &kind));
    say("recognised as %s\n", kind == SJ_OP_BLOCK_TALL ? "tall-and-skinny" : "another shape");
    expect(kind == SJ_OP_BLOCK_TALL, "the 4 x 1 operator is not recognised as tall-and-skinny");
    CHECK(sj_op_block_dist(A, &adist));
    say_op_layout(adist);
    rand_range_domain(A, seed + 200, &d, &m);
    say_array_layout("d", d);
    m0 = gather(m);
    say_vec("m = rand(domain(A))", m0, n);
    say_array_layout("m", m);
    int mowner;
    sj_dist_t mdist;
    CHECK(sj_array_dist(m, &mdist));
    CHECK(sj_dist_owner(mdist, 0, &mowner));
    say("the model m lives on rank %d, the root, as the notebook keeps it on the master\n", mowner);
    expect(mowner == 0, "the tall-and-skinny model lives on rank %d, not on rank 0", mowner);
    M1 = me == 0 ? dense_matrix(&b2, 4, 1) : NULL;
    check_apply("tall-and-skinny operator", A, M1, 4, 1, n, m, d);
    free(M1);
    free(m0);
    sj_array_destroy(&d);
    sj_array_destroy(&m);
    sj_op_destroy(&A);

    /* == Sparse block diagonal (cells 26-30) ==
     * A 4 x 4 grid, diagonal blocks on the diagonal and zero blocks elsewhere,
     * on a 4 x 1 process grid (fewer rows with fewer ranks). starjets sees the
     * pattern by itself (the notebook says isdiag=true): block i of d, m and
     * A(i, i) share a rank, so applies move no data. */
    say("\n== block diagonal: a 4 x 4 block operator with zero blocks ==\n");
    int dgrid[2] = {np < 4 ? np : 4, 1};
    sj_dist_t grid44;
    CHECK(sj_dist_create_contiguous(2, (int[]){4, 4}, dgrid[0], NULL, dgrid, &grid44));
    blocks_t b3 = {.block = blk, .n = n, .seed = seed + 2, .zero_off_diag = 1};
    CHECK(sj_op_block_create_fn(4, 4, grid44, make_block, &b3, sizeof b3, &A));
    sj_dist_destroy(&grid44);
    say_op(A);
    CHECK(sj_op_block_kind(A, &kind));
    say("recognised as %s\n", kind == SJ_OP_BLOCK_DIAGONAL ? "block diagonal" : "another shape");
    expect(kind == SJ_OP_BLOCK_DIAGONAL, "the 4 x 4 operator is not recognised as block diagonal");
    CHECK(sj_op_block_dist(A, &adist));
    say_op_layout(adist);
    rand_range_domain(A, seed + 300, &d, &m);
    say_array_layout("d", d);
    say_array_layout("m", m);
    {
        sj_dist_t rd, dd;
        int same_d;
        CHECK(sj_array_dist(d, &rd));
        CHECK(sj_array_dist(m, &dd));
        CHECK(sj_dist_equal(rd, dd, &same_d));
        for (int i = 0; i < 4; i++) { /* block i of d on the owner of A(i, i)? */
            int oa, od;
            CHECK(sj_dist_owner(adist, i + 4 * i, &oa));
            CHECK(sj_dist_owner(rd, i, &od));
            expect(oa == od, "block %d of d is on rank %d, A(%d,%d) on rank %d", i + 1, od, i + 1,
                   i + 1, oa);
        }
        expect(same_d, "d and m have different layouts");
    }
    M1 = me == 0 ? dense_matrix(&b3, 4, 4) : NULL;
    check_apply("block-diagonal operator", A, M1, 4, 4, n, m, d);
    free(M1);
    sj_array_destroy(&d);
    sj_array_destroy(&m);
    sj_op_destroy(&A);

    free(buf);
    free(ones);
    sj_space_destroy(&blk);
    if (me == 0)
        printf("\n%s\n", failures ? "blockop_tour: WRONG RESULTS (see above)"
                                  : "blockop_tour: all results check out");
    CHECK(sj_finalize());
    return failures ? 1 : 0;
}
