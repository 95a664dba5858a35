// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Per-rank data that is not an array, gathered to rank 0: the "distributed
 * non-array data" (`ddata`) section of the DistributedArrays.jl README.
 *
 * In Julia, `ddata()` makes a distributed vector with one arbitrary value per
 * worker (its local part), `d[:L]` reads or sets it on the worker, and
 * `gather(d)` brings every worker's value to the master. starjets has no
 * distributed container of arbitrary values; the same thing is done with
 * plain C data on each rank and the SPMD calls (include/starjets/spmd.h):
 *
 * 1. a context's per-rank storage holds each rank's record (hostname, pid,
 *    workers, blocks it owns) between two SPMD runs, like a `ddata` vector;
 * 2. a second run gathers the records to rank 0 (`gather(d)`);
 * 3. the same records fetched once more with the task API instead, one
 *    spawned task per rank (`@fetchfrom p ...`), must agree with them;
 * 4. `ddata(data = ...)`: rank 0 scatters one work item per rank, each rank
 *    computes on its item and the results are gathered back and checked
 *    against a serial computation.
 *
 *   mpirun -n 4 ./rank_data [--terms N] [--small] [--quiet]
 *
 * Every rank runs this same program; calls are collective unless noted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <starjets.h>

#include "example.h"

/* One rank's record: plain bytes, so it travels as one message. */
typedef struct rank_info {
    int rank;      /* sj_rank() of the rank that filled it */
    int pid;       /* its process id */
    int ncpus;     /* its StarPU CPU workers */
    int nblocks;   /* blocks of the example's array it owns */
    char host[64]; /* its host name */
} rank_info_t;

/* A work item of step 4 and its result. */
typedef struct item {
    int64_t first, count; /* add the integers first .. first + count - 1 */
} item_t;

/* What each rank hands to its SPMD functions (its own copy). */
typedef struct args {
    rank_info_t mine;    /* this rank's record, filled in main */
    rank_info_t *all;    /* on rank 0: room for one record per rank */
    const item_t *items; /* on rank 0: one work item per rank */
    int64_t *results;    /* on rank 0: one result per rank */
} args_t;

static void fill_host(char *host, size_t size)
{
    if (gethostname(host, size - 1))
        snprintf(host, size, "unknown");
    host[size - 1] = '\0';
}

/* Run 1: d[:L] = this rank's record, kept in the context's storage. */
static int store_record(sj_spmd_context_t ctx, void *arg)
{
    const args_t *a = arg;
    rank_info_t *slot;
    CHECK(sj_spmd_storage(ctx, "record", sizeof *slot, (void **)&slot));
    *slot = a->mine;
    return 0;
}

/* Run 2: gather(d): every rank's stored record to context rank 0. */
static int gather_records(sj_spmd_context_t ctx, void *arg)
{
    args_t *a = arg;
    rank_info_t *slot;
    CHECK(sj_spmd_storage(ctx, "record", 0, (void **)&slot));
    if (!slot)
        return 1; /* run 1 did not store it: fails the run on every rank */
    const size_t np = (size_t)sj_spmd_size(ctx);
    CHECK(sj_spmd_gather(ctx, 0, slot, a->all, np, sizeof *slot));
    return 0;
}

/* Step 3: the record again, made by a task on the rank that sj_spawn names. */
static int probe(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    rank_info_t *r = out;
    r->rank = sj_rank();
    r->pid = (int)getpid();
    fill_host(r->host, sizeof r->host);
    return 0;
}

/* Step 4: scatter the items, compute, gather the results. */
static int work(sj_spmd_context_t ctx, void *arg)
{
    args_t *a = arg;
    const size_t np = (size_t)sj_spmd_size(ctx);
    item_t it;
    CHECK(sj_spmd_scatter(ctx, 0, a->items, &it, np, sizeof it));
    int64_t sum = 0;
    for (int64_t k = it.first; k < it.first + it.count; k++)
        sum += k;
    CHECK(sj_spmd_gather(ctx, 0, &sum, a->results, np, sizeof sum));
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--terms N] [--small] [--quiet]\n", prog);
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    int64_t terms = 1000000;
    int quiet = 0, bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--terms") && i + 1 < argc)
            terms = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--small"))
            terms = 1000;
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else
            bad = 1;
    }
    if (bad || terms < 1) {
        if (me == 0)
            usage(argv[0]);
        sj_finalize();
        return 2;
    }

    /* Something for the record to say about arrays: a 10 x 10 array in 5 x 5
     * blocks under the default layout; how many blocks does each rank own? */
    sj_space_t space;
    sj_dist_t dist;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){10, 10}, (int[]){5, 5}, &space));
    CHECK(sj_dist_create_default(space, &dist));

    args_t a = {0};
    a.mine.rank = me;
    a.mine.pid = (int)getpid();
    a.mine.ncpus = sj_ncpus();
    CHECK(sj_dist_local_blocks(dist, me, &a.mine.nblocks, NULL));
    fill_host(a.mine.host, sizeof a.mine.host);
    if (me == 0) {
        a.all = calloc(np, sizeof *a.all);
        a.results = calloc(np, sizeof *a.results);
        item_t *items = calloc(np, sizeof *items);
        for (int r = 0; r < np; r++) /* rank r adds up its share of 1 .. terms */
            items[r] = (item_t){1 + terms * r / np, terms * (r + 1) / np - terms * r / np};
        a.items = items;
    }

    /* Steps 1 and 2: one context of all ranks, two runs, the storage in between. */
    sj_spmd_context_t ctx;
    CHECK(sj_spmd_context_create(0, NULL, &ctx));
    CHECK(sj_spmd_run(ctx, store_record, &a));
    CHECK(sj_spmd_run(ctx, gather_records, &a));

    /* Step 3: a spawned task per rank, its result fetched to rank 0. */
    rank_info_t *fetched = me == 0 ? calloc(np, sizeof *fetched) : NULL;
    for (int r = 0; r < np; r++) {
        sj_future_t f;
        CHECK(sj_spawn(r, probe, NULL, 0, sizeof(rank_info_t), &f));
        CHECK(sj_future_fetch(f, 0, me == 0 ? &fetched[r] : NULL));
        CHECK(sj_future_destroy(&f));
    }

    /* Step 4: ddata(data = items), compute, gather. */
    CHECK(sj_spmd_run(ctx, work, &a));
    CHECK(sj_spmd_context_destroy(&ctx));

    int ok = 1;
    if (me == 0) {
        if (!quiet) {
            printf("per-rank records gathered to rank 0 (%d rank(s)):\n", np);
            printf("  %4s  %-20s %8s %8s %7s   %s\n", "rank", "host", "pid", "workers", "blocks",
                   "sum of its share of 1..N");
        }
        int total_blocks = 0;
        for (int r = 0; r < np; r++) {
            const rank_info_t *g = &a.all[r], *t = &fetched[r];
            const item_t *it = &a.items[r];
            /* Serial reference: the sum of first .. first + count - 1. */
            const int64_t expect = it->count * (2 * it->first + it->count - 1) / 2;
            int nb;
            CHECK(sj_dist_local_blocks(dist, r, &nb, NULL));
            total_blocks += g->nblocks;
            if (!quiet)
                printf("  %4d  %-20.20s %8d %8d %7d   %lld\n", g->rank, g->host, g->pid, g->ncpus,
                       g->nblocks, (long long)a.results[r]);
            const char *why = g->rank != r                 ? "gathered record in the wrong slot"
                              : g->pid <= 0 || !g->host[0] ? "empty record"
                              : t->rank != r               ? "spawned task ran on another rank"
                              : t->pid != g->pid           ? "spawned task in another process"
                              : strcmp(t->host, g->host)   ? "spawned task on another host"
                              : g->nblocks != nb           ? "block count differs from the layout"
                              : a.results[r] != expect     ? "wrong sum"
                                                           : NULL;
            if (why) {
                printf("WRONG for rank %d: %s\n", r, why);
                ok = 0;
            }
        }
        int64_t all = 0;
        for (int r = 0; r < np; r++)
            all += a.results[r];
        if (!quiet)
            printf("\nblocks owned in all: %d of 25; sum of 1..%lld from the ranks: %lld\n",
                   total_blocks, (long long)terms, (long long)all);
        if (total_blocks != 25 || all != terms * (terms + 1) / 2) {
            printf("WRONG: the totals should be 25 and %lld\n",
                   (long long)(terms * (terms + 1) / 2));
            ok = 0;
        }
        printf("\n%s\n",
               ok ? "rank_data: the records and results check out" : "rank_data: WRONG RESULTS");
        free(a.all);
        free(a.results);
        free((void *)a.items);
        free(fetched);
    }
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
