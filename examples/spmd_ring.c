// sj-example: nprocs=1,2,3,4 args=--small
/*
 * The SPMD neighbour exchange of the DistributedArrays.jl README (its
 * `foo_spmd` example), with starjets' SPMD calls (include/starjets/spmd.h).
 *
 * d_in has one row per rank and two columns; rank r's local part (one 1 x 2
 * block) holds r + 1, as `fill(myid(), ...)` holds the worker id. Then, n
 * times, every rank sends its current part to both neighbours on a ring,
 * receives from the previous one and then from the next one (the second
 * receive overwrites the first, as in the README), waits at a barrier and
 * adds twice what it received to a running sum. The sums land in d_out, one
 * row per rank, which rank 0 gathers, prints and checks.
 *
 *   mpirun -n 4 ./spmd_ring [--n ITERATIONS] [--small] [--quiet]
 *
 * Every rank runs this same program; calls are collective unless noted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

#include "example.h"

/* What every rank hands to its SPMD function (each rank its own copy). */
typedef struct ring {
    sj_array_t in, out; /* d_in and d_out: one 1 x 2 block per rank */
    int n;              /* iterations */
} ring_t;

/*
 * foo_spmd: run on every rank of the context at once. Context ranks are the
 * positions in the context's rank list (here all ranks, in order), which
 * plays the part of `sort(vec(procs(d_in)))` and `pididx` in the README.
 */
static int foo_spmd(sj_spmd_context_t ctx, void *arg)
{
    ring_t *r = arg;
    const int me = sj_spmd_rank(ctx), np = sj_spmd_size(ctx);
    const int next = (me + 1) % np, prev = (me + np - 1) % np;
    const int block = sj_spmd_world_rank(ctx, me); /* block b is rank b's, see main */

    /* mylp = d_in[:L]: a copy of this rank's local part. localpart_get is a
     * local call, allowed inside a run. */
    double mylp[2], *lp;
    CHECK(sj_array_localpart_get(r->in, block, (void **)&lp));
    memcpy(mylp, lp, sizeof mylp);
    CHECK(sj_array_localpart_restore(r->in, block, (void **)&lp));

    double localsum[2] = {0, 0};
    for (int i = 0; i < r->n; i++) {
        /* sendto both neighbours: sends are buffered, so every rank may send
         * first and receive after without deadlock. */
        CHECK(sj_spmd_send(ctx, next, 0, mylp, sizeof mylp));
        CHECK(sj_spmd_send(ctx, prev, 0, mylp, sizeof mylp));
        /* recvfrom the previous rank, then from the next one: mylp ends as
         * what the next rank held at the start of this iteration. */
        CHECK(sj_spmd_recv(ctx, prev, 0, mylp, sizeof mylp));
        CHECK(sj_spmd_recv(ctx, next, 0, mylp, sizeof mylp));
        CHECK(sj_spmd_barrier(ctx));
        localsum[0] += mylp[0] + mylp[0];
        localsum[1] += mylp[1] + mylp[1];
    }

    /* d_out[:L] = localsum */
    double *out;
    CHECK(sj_array_localpart_get(r->out, block, (void **)&out));
    memcpy(out, localsum, sizeof localsum);
    CHECK(sj_array_localpart_restore(r->out, block, (void **)&out));
    return 0;
}

/* Prints an np x 2 column-major matrix, one row per line. */
static void print_matrix(const char *name, const double *a, int np)
{
    printf("%s =\n", name);
    for (int i = 0; i < np; i++)
        printf("  %8g %8g\n", a[i], a[i + np]);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--n ITERATIONS] [--small] [--quiet]\n", prog);
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    int n = 10, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc && atoi(argv[i + 1]) > 0)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--small"))
            ; /* the README's size is already small */
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else {
            if (sj_rank() == 0)
                usage(argv[0]);
            sj_finalize();
            return 2;
        }
    }
    const int me = sj_rank(), np = sj_nranks();

    /* d_in = DArray(I -> fill(myid(), ...), (nworkers(), 2), workers(), [nworkers(), 1]):
     * an np x 2 space cut into np x 1 blocks, block b on rank b. */
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){np, 2}, (int[]){np, 1}, &space));
    sj_dist_t dist;
    CHECK(sj_dist_create_contiguous(2, (int[]){np, 1}, np, NULL, (int[]){np, 1}, &dist));
    sj_array_t d_in, d_out;
    CHECK(sj_array_zeros(space, dist, &d_in));
    CHECK(sj_array_zeros(space, dist, &d_out)); /* ddata(): one slot per rank */
    {
        double *lp;
        CHECK(sj_array_localpart_get(d_in, me, (void **)&lp));
        lp[0] = lp[1] = me + 1; /* myid(): ranks counted from 1 here, as Julia's workers */
        CHECK(sj_array_localpart_restore(d_in, me, (void **)&lp));
    }

    /* spmd(foo_spmd, d_in, d_out, n): NULL is a temporary context of every rank. */
    ring_t r = {d_in, d_out, n};
    CHECK(sj_spmd_run(NULL, foo_spmd, &r));

    double *in = NULL, *out = NULL;
    if (me == 0) {
        in = malloc(2 * np * sizeof(double));
        out = malloc(2 * np * sizeof(double));
    }
    CHECK(sj_array_gather(d_in, 0, in));
    CHECK(sj_array_gather(d_out, 0, out));

    int ok = 1;
    if (me == 0) {
        printf("foo_spmd on %d rank(s), %d iteration(s)\n\n", np, n);
        if (!quiet) {
            print_matrix("d_in", in, np);
            print_matrix("d_out", out, np);
        }
        /* Serial reference: after iteration i, rank r holds what rank r + i
         * started with (mod np), which is r + i + 1. */
        for (int k = 0; k < np; k++) {
            double expect = 0;
            for (int i = 1; i <= n; i++)
                expect += 2.0 * ((k + i) % np + 1);
            for (int c = 0; c < 2; c++)
                if (in[k + c * np] != k + 1 || out[k + c * np] != expect) {
                    printf("rank %d, column %d: d_in %g (expected %d), d_out %g (expected %g)\n", k,
                           c + 1, in[k + c * np], k + 1, out[k + c * np], expect);
                    ok = 0;
                }
        }
        printf("\n%s\n", ok ? "spmd_ring: all sums check out" : "spmd_ring: WRONG RESULTS");
        free(in);
        free(out);
    }
    CHECK(sj_array_destroy(&d_in));
    CHECK(sj_array_destroy(&d_out));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
