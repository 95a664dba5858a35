// sj-example: nprocs=1,2,3,4 args=--small
/*
 * A parallel list comprehension, as the ipyparallel notebook builds one from
 * scatter, a computation on every engine, and gather:
 *
 *   y = [i**10 for i in range(64)]     computed as
 *   scatter x = 0..63 over the ranks,  y = x**10 on each rank,  gather y
 *
 *   mpirun -n 3 ./list_comprehension [--n N] [--quiet]
 *
 * starjets' counterpart of a "direct view" is an SPMD run: every rank runs
 * the same function and the ranks exchange messages inside it. scatter and
 * gather are collectives of <starjets/spmd.h>; rank 0 plays the notebook.
 *
 * The powers are computed in unsigned 64-bit integers: exact up to i = 78,
 * and modulo 2^64 beyond (C defines unsigned wrap-around, so the serial
 * reference wraps in the same way and the check stays exact).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

#include "example.h"

/* The body of the comprehension: i**10. */
static uint64_t pow10_u64(uint64_t i)
{
    uint64_t p = 1;
    for (int k = 0; k < 10; k++)
        p *= i;
    return p;
}

/* What every rank hands to the run; only rank 0's x and y are used (the
 * notebook's lists live on the client). */
typedef struct comprehension {
    int64_t n;      /* items in the list */
    int64_t padded; /* n rounded up to a multiple of the number of ranks */
    uint64_t *x;    /* rank 0: the list 0 .. padded-1 */
    uint64_t *seen; /* rank 0: x as the ranks received it, pulled back */
    uint64_t *y;    /* rank 0: the gathered results */
} comprehension_t;

/* Runs on every rank: the three cells of the notebook in one function. */
static int comprehension(sj_spmd_context_t ctx, void *arg)
{
    comprehension_t *c = arg;
    const int np = sj_spmd_size(ctx);
    const size_t part = (size_t)(c->padded / np);

    /* dview.scatter('x', range(64)): rank r receives items
     * [r * part, (r + 1) * part) of rank 0's list. */
    uint64_t *x = malloc((part ? part : 1) * sizeof *x), *y = malloc((part ? part : 1) * sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        fprintf(stderr, "rank %d: out of memory for %zu items\n", sj_rank(), part);
        return SJ_ENOMEM;
    }
    int rc = sj_spmd_scatter(ctx, 0, c->x, x, (size_t)c->padded, sizeof *x);

    /* dview['x'] (pull): bring each rank's part back, to show what it got. */
    if (rc == SJ_OK)
        rc = sj_spmd_gather(ctx, 0, x, c->seen, (size_t)c->padded, sizeof *x);

    /* %px y = [i**10 for i in x]: a plain loop over the local part. */
    for (size_t k = 0; rc == SJ_OK && k < part; k++)
        y[k] = pow10_u64(x[k]);

    /* y = dview.gather('y'): the parts, in rank order, on rank 0. */
    if (rc == SJ_OK)
        rc = sj_spmd_gather(ctx, 0, y, c->y, (size_t)c->padded, sizeof *y);
    if (rc != SJ_OK)
        fprintf(stderr, "rank %d: scatter/gather failed: %s (%s)\n", sj_rank(), sj_err_name(rc),
                sj_last_error());
    free(x);
    free(y);
    return rc;
}

/* Prints items [lo, hi) of v, eliding the middle of long runs. */
static void print_run(const uint64_t *v, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        if (hi - lo > 12 && i == lo + 5) {
            printf(" ...");
            i = hi - 4;
        }
        printf(" %" PRIu64, v[i]);
    }
    printf("\n");
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--n N (items, default 64)] [--small] [--quiet]\n", prog);
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();

    int64_t n = 64;
    int quiet = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--n") && a + 1 < argc) {
            char *end;
            n = strtoll(argv[++a], &end, 10);
            if (*end || n < 1 || n > (int64_t)1 << 28) {
                if (me == 0)
                    fprintf(stderr, "--n: expected 1 .. 2^28 items, got '%s'\n", argv[a]);
                sj_finalize();
                return 2;
            }
        } else if (!strcmp(argv[a], "--small")) {
            n = 64; /* the notebook's size: already small */
        } else if (!strcmp(argv[a], "--quiet")) {
            quiet = 1;
        } else {
            if (me == 0)
                usage(argv[0]);
            sj_finalize();
            return 2;
        }
    }

    /* sj_spmd_scatter() cuts the list into equal parts, so its length must be
     * a multiple of the number of ranks; ipyparallel's scatter also takes
     * uneven lists (22, 21, 21 items for 64 on 3 engines). Here rank 0 pads
     * the list and drops the padding's results. */
    comprehension_t c = {.n = n, .padded = (n + np - 1) / np * np};
    uint64_t *ref = NULL;
    if (me == 0) {
        c.x = malloc((size_t)c.padded * sizeof *c.x);
        c.seen = malloc((size_t)c.padded * sizeof *c.seen);
        c.y = malloc((size_t)c.padded * sizeof *c.y);
        ref = malloc((size_t)n * sizeof *ref);
        if (!c.x || !c.seen || !c.y || !ref) {
            fprintf(stderr, "list_comprehension: out of memory for %lld items\n", (long long)n);
            exit(1);
        }
        for (int64_t i = 0; i < c.padded; i++)
            c.x[i] = (uint64_t)i;
        printf("starjets %s: a list comprehension over %d rank(s)\n", sj_version(0, 0, 0), np);
        printf("y = [i**10 for i in range(%lld)] by scatter / compute / gather\n", (long long)n);
        if (c.padded != n)
            printf("(%lld items do not split evenly over %d ranks: padded to %lld items, "
                   "the last %lld results are dropped)\n",
                   (long long)n, np, (long long)c.padded, (long long)(c.padded - n));
    }

    /* One SPMD run over all ranks (ctx NULL: a temporary context of all). */
    CHECK(sj_spmd_run(NULL, comprehension, &c));

    int ok = 1;
    if (me == 0) {
        /* The serial comprehension, the reference. */
        for (int64_t i = 0; i < n; i++)
            ref[i] = pow10_u64((uint64_t)i);

        const int64_t part = c.padded / np;
        if (!quiet) {
            printf("\nwhat each rank received (dview['x']):\n");
            for (int r = 0; r < np; r++) {
                printf("  rank %d:", r);
                print_run(c.seen, r * part, (r + 1) * part);
            }
            printf("\ny gathered on rank 0 (dview.gather('y')):\n ");
            print_run(c.y, 0, n);
        }
        for (int64_t i = 0; i < c.padded; i++) {
            if (c.seen[i] != c.x[i]) {
                printf("WRONG: item %lld came back from rank %lld as %" PRIu64 "\n", (long long)i,
                       (long long)(i / part), c.seen[i]);
                ok = 0;
                break;
            }
        }
        for (int64_t i = 0; i < n; i++) {
            if (c.y[i] != ref[i]) {
                printf("WRONG: y[%lld] = %" PRIu64 ", the serial comprehension gives %" PRIu64 "\n",
                       (long long)i, c.y[i], ref[i]);
                ok = 0;
                break;
            }
        }
        printf("\n%s\n", ok ? "list_comprehension: the gathered list equals the serial one"
                            : "list_comprehension: WRONG RESULTS");
        free(c.x);
        free(c.seen);
        free(c.y);
        free(ref);
    }
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
