// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Conway's Game of Life on a distributed board, the `life_step` example of
 * the DistributedArrays.jl README, with starjets' halo exchange
 * (include/starjets/stencil.h, docs/halo.md).
 *
 * In the README each chunk fetches its neighbours' edge cells by indexing the
 * distributed array (`d[top, left]`, `d[I, left]`, ...) into a padded local
 * array and hands it to `life_rule`. Here `life_rule` is the stencil function
 * and sj_array_stencil() brings the ghost cells (one layer, corners
 * included) from the neighbouring blocks; the board wraps around (periodic).
 *
 * A glider starts near the top-left corner. Every rank also runs a serial
 * Life on a plain array, step by step: the distributed board must match it
 * cell for cell, and the serial board must show the glider moved one cell
 * down and one right every 4 steps.
 *
 *   mpirun -n 4 ./life [--n SIZE] [--steps S] [--every K] [--blocks B] [--small] [--quiet]
 *
 * Every rank runs this same program; calls are collective unless noted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

#include "example.h"

/*
 * life_rule for one box of a block. `in` has one ghost layer on every side,
 * so the 8 neighbours of every cell of the box can be read; cells are 0.0
 * (dead) or 1.0 (alive), column-major (i is the row, j the column).
 */
static int life_rule(const sj_stencil_info_t *s, void *outp, const void *inp, void *ctx)
{
    const double *in = inp;
    double *out = outp;
    const int64_t a = s->in_stride[1], o = s->out_stride[1];
    for (int64_t j = s->lo[1]; j < s->hi[1]; j++)
        for (int64_t i = s->lo[0]; i < s->hi[0]; i++) {
            const double *c = in + i + a * j; /* c[-1 - a] is cell (i - 1, j - 1) */
            double nc = c[-1 - a] + c[-a] + c[1 - a] + c[-1] + c[1] + c[a - 1] + c[a] + c[a + 1];
            out[i + o * j] = (nc == 3.0 || (nc == 2.0 && *c == 1.0)) ? 1.0 : 0.0;
        }
    return 0;
}

/* The serial reference: one Life step on an n x n torus, from `old` to `new`. */
static void serial_step(int n, const double *old, double *new)
{
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            double nc = 0;
            for (int dj = -1; dj <= 1; dj++)
                for (int di = -1; di <= 1; di++)
                    if (di || dj)
                        nc += old[(i + di + n) % n + n * ((j + dj + n) % n)];
            const double c = old[i + n * j];
            new[i + n * j] = (nc == 3 || (nc == 2 && c == 1)) ? 1.0 : 0.0;
        }
}

/* The glider, shifted by `shift` cells down and right (mod n). */
static void place_glider(int n, int shift, double *board)
{
    static const int cells[5][2] = {{1, 2}, {2, 3}, {3, 1}, {3, 2}, {3, 3}}; /* (row, col) */
    memset(board, 0, (size_t)n * n * sizeof *board);
    for (int k = 0; k < 5; k++)
        board[(cells[k][0] + shift) % n + n * ((cells[k][1] + shift) % n)] = 1.0;
}

static void print_board(int n, const double *board, int step)
{
    printf("step %d:\n", step);
    for (int i = 0; i < n; i++) {
        printf("  ");
        for (int j = 0; j < n; j++)
            putchar(board[i + n * j] == 1.0 ? '#' : '.');
        putchar('\n');
    }
}

static int count_live(int n, const double *board)
{
    int live = 0;
    for (int k = 0; k < n * n; k++)
        live += board[k] == 1.0;
    return live;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--n SIZE] [--steps S] [--every K] [--blocks B] [--small] [--quiet]\n",
            prog);
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    int n = 48, steps = 192, every = 16, nb = 4, quiet = 0, bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        const char *opt = argv[i];
        int *target = !strcmp(opt, "--n")        ? &n
                      : !strcmp(opt, "--steps")  ? &steps
                      : !strcmp(opt, "--every")  ? &every
                      : !strcmp(opt, "--blocks") ? &nb
                                                 : NULL;
        if (target && i + 1 < argc)
            *target = atoi(argv[++i]);
        else if (!strcmp(opt, "--small"))
            n = 12, steps = 16, every = 4;
        else if (!strcmp(opt, "--quiet"))
            quiet = 1;
        else
            bad = 1;
    }
    /* Blocks need at least one cell each (the ghost width); the glider 5. */
    if (bad || n < 6 || steps < 0 || every < 1 || nb < 1 || nb > n) {
        if (me == 0)
            usage(argv[0]);
        sj_finalize();
        return 2;
    }

    /* An n x n board in nb x nb blocks, spread over the ranks by the default
     * layout (contiguous chunks of blocks, as DistributedArrays picks). */
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){n, n}, (int[]){nb, nb}, &space));
    sj_dist_t dist;
    CHECK(sj_dist_create_default(space, &dist));
    if (me == 0) {
        char text[128];
        int nprocs, grid[SJ_MAX_DIMS];
        CHECK(sj_space_describe(space, text, sizeof text));
        CHECK(sj_dist_procs(dist, &nprocs, NULL, grid));
        printf("Game of Life: %s on %d rank(s) as a %d x %d process grid, periodic, %d steps\n\n",
               text, np, grid[0], grid[1], steps);
    }

    /* Every rank keeps the serial board (it is small); rank 0's copy also
     * seeds the distributed one through sj_array_distribute. */
    const size_t cells = (size_t)n * n;
    double *ref = malloc(cells * sizeof *ref), *tmp = malloc(cells * sizeof *tmp);
    double *got = malloc(cells * sizeof *got);
    place_glider(n, 0, ref);

    sj_array_t a, b;
    CHECK(sj_array_distribute(space, dist, 0, ref, &a));
    CHECK(sj_array_similar(a, &b));
    const int show = !quiet && n <= 40;
    if (me == 0 && show)
        print_board(n, ref, 0);

    /* A failed check does not stop the loop: every rank must go on making
     * the same collective calls. */
    int ok = 1;
    for (int step = 1; step <= steps; step++) {
        /* One step: b = life_rule(a with its ghost cells), then swap. The call
         * only submits tasks: steps chain without waiting. */
        CHECK(sj_array_stencil(a, b, 1, SJ_BOUNDARY_PERIODIC, NULL, life_rule, NULL, 0));
        sj_array_t t = a;
        a = b;
        b = t;
        serial_step(n, ref, tmp);
        memcpy(ref, tmp, cells * sizeof *ref);

        if (step % every && step != steps)
            continue;
        /* Every K steps: count the live cells (a blocking reduction, on every
         * rank), bring the board to rank 0 and compare with the serial one. */
        double live;
        CHECK(sj_array_sum(a, &live));
        CHECK(sj_array_gather(a, 0, got));
        if (live != count_live(n, ref)) {
            fprintf(stderr, "rank %d, step %d: %g live cells, serial Life has %d\n", me, step, live,
                    count_live(n, ref));
            ok = 0;
        }
        if (me == 0) {
            int diff = 0;
            for (size_t k = 0; k < cells; k++)
                diff += got[k] != ref[k];
            printf("step %4d/%d: %g live cells, %d cell(s) differ from the serial Life\n", step,
                   steps, live, diff);
            if (diff)
                ok = 0;
            if (show && (step == every || step == steps))
                print_board(n, got, step);
        }
    }

    /* The serial Life itself must have moved the glider by steps / 4 cells. */
    if (steps % 4 == 0) {
        place_glider(n, steps / 4, tmp);
        if (memcmp(tmp, ref, cells * sizeof *ref)) {
            fprintf(stderr, "rank %d: the serial glider did not move as expected\n", me);
            ok = 0;
        }
    }
    if (me == 0)
        printf("\n%s\n",
               ok ? "life: the distributed board matches the serial Life" : "life: WRONG RESULTS");

    free(ref);
    free(tmp);
    free(got);
    CHECK(sj_array_destroy(&a));
    CHECK(sj_array_destroy(&b));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
