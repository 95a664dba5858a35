// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Latency and bandwidth: the two numbers that say how fine-grained parallel
 * work may be. The ipyparallel notebook times `dview.apply(lambda x: x, '')`
 * without and with blocking (tasks started and finished per second) and
 * `dview.push` of 8 KiB to 2 MiB arrays. This program measures the starjets
 * counterparts on however many ranks it runs:
 *
 *   mpirun -n 2 ./latency_probe [--tasks N] [--items N] [--reps R] [--small] [--quiet]
 *
 * 1. Trivial tasks: sj_spawn() (`@spawnat`, ipyparallel's apply) of a
 *    function that only echoes its argument, dealt round-robin over the
 *    ranks; then sj_pmap() (the load-balanced view's map) over trivial items.
 * 2. Messages: an SPMD ping-pong between rank 0 and the last rank, and a push
 *    (sj_spmd_bcast) from rank 0 to every rank, for 8 KiB to 2 MiB; and the
 *    same sizes moved by the task graph with sj_array_block_get().
 *
 * Every result is checked (echoed values, message contents, array blocks);
 * the program exits with 1 when one is wrong. Times are medians over the
 * repetitions on rank 0; they depend on what else the machine is doing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

#include "example.h"

#define NSIZES 9 /* 8 KiB, 16 KiB, ..., 2 MiB: the notebook's 1024 to 256 Ki doubles */
#define KIB 1024

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n), sorting v. */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- 1. trivial tasks --------------------------------------------------- */

/* The spawned function, `lambda x: x` with a witness: it returns its
 * argument plus one, and the rank it ran on. */
static int echo(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    int64_t *res = out;
    res[0] = *(const int64_t *)arg + 1;
    res[1] = sj_rank();
    return 0;
}

/* Spawns k tasks round-robin over the ranks without waiting ("started"),
 * then waits for all ("finished"); then fetches each result to rank 0 and
 * checks it (not timed). Returns the number of wrong results. */
static int spawn_burst(int k, double *t_started, double *t_finished)
{
    const int np = sj_nranks();
    sj_future_t *f = malloc((size_t)k * sizeof *f);
    if (!f) {
        fprintf(stderr, "latency_probe: out of memory for %d futures\n", k);
        exit(1);
    }
    CHECK(sj_barrier());
    double t0 = now();
    for (int64_t i = 0; i < k; i++)
        CHECK(sj_spawn((int)(i % np), echo, &i, sizeof i, 2 * sizeof(int64_t), &f[i]));
    *t_started = now() - t0;
    for (int i = 0; i < k; i++)
        CHECK(sj_future_wait(f[i]));
    *t_finished = now() - t0;

    int bad = 0;
    for (int i = 0; i < k; i++) {
        int64_t res[2] = {0, 0};
        CHECK(sj_future_fetch(f[i], 0, res));
        if (sj_rank() == 0 && (res[0] != i + 1 || res[1] != i % np)) {
            if (!bad)
                printf("WRONG: spawned task %d returned (%" PRId64 ", rank %" PRId64
                       "), expected (%d, rank %d)\n",
                       i, res[0], res[1], i + 1, i % np);
            bad++;
        }
        CHECK(sj_future_destroy(&f[i]));
    }
    free(f);
    return bad;
}

/* Spawn and fetch one task at a time (the notebook's blocking apply): the
 * time of a round trip to a rank's worker and back. Returns wrong results. */
static int spawn_blocking(int k, double *t_each)
{
    const int np = sj_nranks();
    double *t = malloc((size_t)k * sizeof *t);
    if (!t) {
        fprintf(stderr, "latency_probe: out of memory\n");
        exit(1);
    }
    int bad = 0;
    CHECK(sj_barrier());
    for (int64_t i = 0; i < k; i++) {
        sj_future_t f;
        int64_t res[2] = {0, 0};
        double t0 = now();
        CHECK(sj_spawn((int)(i % np), echo, &i, sizeof i, sizeof res, &f));
        CHECK(sj_future_fetch(f, 0, res));
        t[i] = now() - t0;
        CHECK(sj_future_destroy(&f));
        if (sj_rank() == 0 && (res[0] != i + 1 || res[1] != i % np))
            bad++;
    }
    *t_each = median(t, k);
    free(t);
    if (bad && sj_rank() == 0)
        printf("WRONG: %d blocking spawns returned the wrong value\n", bad);
    return bad;
}

/* A trivial pmap item: a function of the index only. */
static int trivial_item(int64_t index, const void *in, void *out, void *ctx)
{
    *(int64_t *)out = 3 * index + 1;
    return 0;
}

/* Maps n trivial items; queue_per_worker 0 lets the farm group short items
 * several to a task, a fixed value runs one item per task. */
static int pmap_burst(int64_t n, int queue_per_worker, double *seconds)
{
    int64_t *out = sj_rank() == 0 ? malloc((size_t)n * sizeof *out) : NULL;
    if (sj_rank() == 0 && !out) {
        fprintf(stderr, "latency_probe: out of memory for %lld results\n", (long long)n);
        exit(1);
    }
    sj_pmap_options_t opts;
    sj_pmap_options_default(&opts);
    opts.queue_per_worker = queue_per_worker;
    sj_pmap_report_t rep;
    CHECK(sj_pmap(n, NULL, 0, out, sizeof *out, trivial_item, NULL, 0, &opts, &rep));
    *seconds = rep.seconds;
    int bad = 0;
    for (int64_t i = 0; out && i < n; i++) {
        if (out[i] != 3 * i + 1) {
            if (!bad)
                printf("WRONG: pmap item %lld gave %" PRId64 ", expected %lld\n", (long long)i,
                       out[i], (long long)(3 * i + 1));
            bad++;
        }
    }
    free(out);
    return bad;
}

/* ---- 2. messages -------------------------------------------------------- */

/* The bytes of repetition `rep` of a message: different every time, so that
 * a stale or misplaced buffer cannot pass the check. */
static void fill_pattern(uint64_t *w, size_t nwords, int rep)
{
    for (size_t i = 0; i < nwords; i++)
        w[i] = ((uint64_t)rep << 40) ^ (i * 2654435761u) ^ nwords;
}

static int check_pattern(const uint64_t *w, size_t nwords, int rep)
{
    for (size_t i = 0; i < nwords; i++)
        if (w[i] != (((uint64_t)rep << 40) ^ (i * 2654435761u) ^ nwords))
            return 0;
    return 1;
}

typedef struct messages {
    int reps;
    size_t size[NSIZES];
    double latency;          /* rank 0: one-way time of an 8-byte message */
    double pingpong[NSIZES]; /* rank 0: one-way time (half a round trip) */
    double push[NSIZES];     /* rank 0: bcast to every rank, until all have it */
    int bad;                 /* wrong messages: this rank's, then all ranks' on rank 0 */
} messages_t;

/* One round trip of `size` bytes between context ranks 0 and `peer`
 * (0 and 0 on one rank: through rank 0's own mailbox). Rank 0 sends `out`
 * and receives the echo into `back`; the checks are outside the timing. */
static int round_trip(sj_spmd_context_t ctx, int peer, uint64_t *out, uint64_t *back, size_t size,
                      int rep, double *seconds, int *bad)
{
    const int me = sj_spmd_rank(ctx);
    if (me == 0) {
        fill_pattern(out, size / 8, rep);
        memset(back, 0, size);
        double t0 = now();
        TRY(sj_spmd_send(ctx, peer, 1, out, size));
        TRY(sj_spmd_recv(ctx, peer, 1, back, size));
        *seconds = now() - t0;
        *bad += !check_pattern(back, size / 8, rep);
    } else if (me == peer) {
        TRY(sj_spmd_recv(ctx, 0, 1, back, size));
        TRY(sj_spmd_send(ctx, 0, 1, back, size)); /* buffered: back may be read again */
        *bad += !check_pattern(back, size / 8, rep);
    }
    return SJ_OK;
}

/* Runs on every rank inside sj_spmd_run(): StarPU's workers are paused, so
 * the ranks' application threads have the cores to themselves. */
static int probe_messages(sj_spmd_context_t ctx, void *arg)
{
    messages_t *m = arg;
    const int me = sj_spmd_rank(ctx), peer = sj_spmd_size(ctx) - 1;
    const int reps = m->reps;
    const size_t max = m->size[NSIZES - 1];
    uint64_t *buf = malloc(2 * max), *back = buf + max / 8;
    double *t = malloc((size_t)(10 * reps) * sizeof *t);
    if (!buf || !t) {
        free(buf), free(t);
        fprintf(stderr, "rank %d: out of memory\n", sj_rank());
        return SJ_ENOMEM;
    }
    int rc = SJ_OK;

    /* Latency: 8-byte round trips, ten times as many as for the sizes. */
    for (int r = 0; rc == SJ_OK && r < 10 * reps; r++)
        rc = round_trip(ctx, peer, buf, back, 8, r, &t[r], &m->bad);
    if (rc == SJ_OK && me == 0)
        m->latency = median(t, 10 * reps) / 2;

    for (int s = 0; rc == SJ_OK && s < NSIZES; s++) {
        const size_t size = m->size[s];
        /* ping-pong: half a round trip is one message's time */
        for (int r = 0; rc == SJ_OK && r < reps; r++)
            rc = round_trip(ctx, peer, buf, back, size, r, &t[r], &m->bad);
        if (rc == SJ_OK && me == 0)
            m->pingpong[s] = median(t, reps) / 2;

        /* push (dview.push, blocking): broadcast, then a barrier, so that the
         * time on rank 0 runs until every rank holds the data */
        for (int r = 0; rc == SJ_OK && r < reps; r++) {
            if (me == 0)
                fill_pattern(buf, size / 8, r);
            else
                memset(buf, 0, size);
            rc = sj_spmd_barrier(ctx);
            double t0 = now();
            if (rc == SJ_OK)
                rc = sj_spmd_bcast(ctx, 0, buf, size);
            if (rc == SJ_OK)
                rc = sj_spmd_barrier(ctx);
            t[r] = now() - t0;
            m->bad += rc == SJ_OK && !check_pattern(buf, size / 8, r);
        }
        if (rc == SJ_OK && me == 0)
            m->push[s] = median(t, reps);
    }
    /* Each rank counted the wrong messages it received: add them up on rank 0. */
    int *counts = me == 0 ? calloc((size_t)sj_spmd_size(ctx), sizeof *counts) : NULL;
    if (rc == SJ_OK)
        rc = sj_spmd_gather(ctx, 0, &m->bad, counts, (size_t)sj_spmd_size(ctx), sizeof m->bad);
    for (int r = 1; rc == SJ_OK && counts && r < sj_spmd_size(ctx); r++)
        m->bad += counts[r];
    free(counts);
    if (rc != SJ_OK)
        fprintf(stderr, "rank %d: messages failed: %s (%s)\n", sj_rank(), sj_err_name(rc),
                sj_last_error());
    free(buf);
    free(t);
    return rc;
}

/* Block initialiser: the pattern of "repetition" 7, in every block. */
static int init_pattern(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    fill_pattern(out, (size_t)blk->nelems, 7);
    return 0;
}

/* The same sizes moved by the task graph: rank 0 fetches a block that the
 * last rank owns (sj_array_block_get, StarPU-MPI underneath), `reps` times.
 * Puts the median time per move on rank 0 in *seconds; checks every copy. */
static int getblock_moves(size_t size, int reps, double *seconds)
{
    const int np = sj_nranks(), me = sj_rank();
    const int64_t nb = (int64_t)(size / 8);
    sj_space_t space;
    sj_dist_t dist;
    sj_array_t x;
    /* one block of `size` bytes per rank; block b lives on rank b */
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){nb * np}, (int[]){np}, &space));
    CHECK(sj_dist_create_default(space, &dist));
    CHECK(sj_array_create_init(space, dist, init_pattern, NULL, 0, &x));
    uint64_t *buf = malloc(size);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!buf || !t) {
        fprintf(stderr, "latency_probe: out of memory\n");
        exit(1);
    }
    CHECK(sj_wait());
    int bad = 0;
    for (int r = 0; r < reps; r++) {
        memset(buf, 0, size);
        CHECK(sj_barrier());
        double t0 = now();
        CHECK(sj_array_block_get(x, np - 1, 0, buf));
        t[r] = now() - t0;
        bad += me == 0 && !check_pattern(buf, (size_t)nb, 7);
    }
    *seconds = median(t, reps);
    if (bad)
        printf("WRONG: %d copies of block %d (%zu bytes) differ from the block\n", bad, np - 1,
               size);
    free(buf);
    free(t);
    CHECK(sj_array_destroy(&x));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
    return bad;
}

/* ---- main --------------------------------------------------------------- */

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--tasks N (spawned tasks, default 2000)] [--items N (pmap "
            "items, default 20000)]\n       [--reps R (repeats per message size, "
            "default 20)] [--small] [--quiet]\n",
            prog);
}

/* Reads a positive int option value; exits with 2 when it is not one. */
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

static double mbps(size_t bytes, double seconds)
{
    return (double)bytes / seconds * 1e-6;
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();

    int ntasks = 2000, reps = 20, quiet = 0;
    int64_t nitems = 20000;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--tasks") && a + 1 < argc) {
            ntasks = int_arg("--tasks", argv[++a], 1 << 20);
        } else if (!strcmp(argv[a], "--items") && a + 1 < argc) {
            nitems = int_arg("--items", argv[++a], 1 << 24);
        } else if (!strcmp(argv[a], "--reps") && a + 1 < argc) {
            reps = int_arg("--reps", argv[++a], 10000);
        } else if (!strcmp(argv[a], "--small")) {
            ntasks = 50, nitems = 200, reps = 3;
        } else if (!strcmp(argv[a], "--quiet")) {
            quiet = 1;
        } else {
            if (me == 0)
                usage(argv[0]);
            sj_finalize();
            return 2;
        }
    }
    int bad = 0;
    if (me == 0) {
        printf("starjets %s: latency and bandwidth on %d rank(s), %d CPU worker(s) on rank 0\n",
               sj_version(0, 0, 0), np, sj_ncpus());
        if (np == 1)
            printf("\nOn 1 rank there is no other rank to reach: tasks run on rank 0's own "
                   "workers, the\nping-pong goes through rank 0's own mailbox and getblock "
                   "copies within rank 0,\nso the message numbers are memory copies and the push "
                   "is skipped. Run with\nmpirun -n 2 or more to measure the network.\n");
    }

    /* 1. Tasks. */
    double t_started, t_finished, t_each, t_pmap_one, t_pmap_auto;
    bad += spawn_burst(ntasks, &t_started, &t_finished);
    bad += spawn_blocking(ntasks / 4 > 0 ? ntasks / 4 : 1, &t_each);
    bad += pmap_burst(nitems, 2, &t_pmap_one);
    bad += pmap_burst(nitems, 0, &t_pmap_auto);
    if (me == 0) {
        printf("\nTrivial tasks over %d rank(s) (the notebook's %%timeit dview.apply(lambda x: x, "
               "'')):\n",
               np);
        printf("  %-46s %8s %10s %12s\n", "", "tasks", "time (s)", "per second");
        printf("  %-46s %8d %10.4f %12.0f\n", "sj_spawn, not waiting (started)", ntasks, t_started,
               ntasks / t_started);
        printf("  %-46s %8d %10.4f %12.0f\n", "sj_spawn, then wait for all (finished)", ntasks,
               t_finished, ntasks / t_finished);
        printf("  %-46s %8d %10.6f %12.0f\n", "sj_spawn + sj_future_fetch, one at a time (each)",
               ntasks / 4 > 0 ? ntasks / 4 : 1, t_each, 1 / t_each);
        printf("  %-46s %8lld %10.4f %12.0f\n", "sj_pmap, one item per task", (long long)nitems,
               t_pmap_one, (double)nitems / t_pmap_one);
        printf("  %-46s %8lld %10.4f %12.0f\n", "sj_pmap, short items grouped (automatic)",
               (long long)nitems, t_pmap_auto, (double)nitems / t_pmap_auto);
        printf("A spawned task costs about %.0f us from submission to result; work much shorter\n"
               "than that per task is dominated by the overhead (group it, as sj_pmap does).\n",
               1e6 * t_finished / ntasks);
    }

    /* 2. Messages. */
    messages_t m = {.reps = reps};
    for (int s = 0; s < NSIZES; s++)
        m.size[s] = (size_t)(8 * KIB) << s;
    if (me == 0 && !quiet) {
        printf("\n(measuring SPMD messages, 8 KiB .. 2 MiB, %d times each ...)\n", reps);
        fflush(stdout);
    }
    CHECK(sj_spmd_run(NULL, probe_messages, &m));
    if (me == 0 && m.bad)
        printf("WRONG: %d messages arrived with other contents than were sent\n", m.bad);
    bad += m.bad;
    double t_get[NSIZES];
    for (int s = 0; s < NSIZES; s++) {
        if (me == 0 && !quiet) {
            printf("(measuring getblock of %zu KiB ...)\n", m.size[s] / KIB);
            fflush(stdout);
        }
        bad += getblock_moves(m.size[s], reps, &t_get[s]);
    }

    if (me == 0) {
        if (np > 1)
            printf("\nMessages between rank 0 and rank %d (median of %d):\n", np - 1, reps);
        else
            printf("\nMessages from rank 0 to itself (median of %d):\n", reps);
        printf("  8-byte message, one way: %.2f us\n", 1e6 * m.latency);
        if (!quiet) {
            char pp[32], gb[32];
            snprintf(pp, sizeof pp, "SPMD ping-pong 0<->%d", np - 1);
            snprintf(gb, sizeof gb, "getblock %d -> 0", np - 1);
            printf("\n  %8s | %-21s | %-21s | %-21s\n", "size", pp,
                   np > 1 ? "push 0 -> all ranks" : "push (no other rank)", gb);
            printf("  %8s | %9s %11s | %9s %11s | %9s %11s\n", "", "us/msg", "MB/s", "us", "MB/s",
                   "us", "MB/s");
            for (int s = 0; s < NSIZES; s++) {
                printf("  %5zu KiB | %9.1f %11.1f |", m.size[s] / KIB, 1e6 * m.pingpong[s],
                       mbps(m.size[s], m.pingpong[s]));
                if (np > 1)
                    printf(" %9.1f %11.1f |", 1e6 * m.push[s],
                           mbps((size_t)(np - 1) * m.size[s], m.push[s]));
                else
                    printf(" %9s %11s |", "-", "-");
                printf(" %9.1f %11.1f\n", 1e6 * t_get[s], mbps(m.size[s], t_get[s]));
            }
            printf("  (push MB/s counts the bytes every receiving rank got, as the notebook's\n"
                   "  len(rc) * size / time; getblock is the task graph's transfer, StarPU-MPI "
                   "underneath)\n");
        }
        int64_t small = (int64_t)m.size[0], big = (int64_t)m.size[NSIZES - 1];
        printf("\nPing-pong bandwidth between %.1f MB/s (%lld KiB) and %.1f MB/s (%lld KiB).\n",
               mbps(m.size[0], m.pingpong[0]), (long long)(small / KIB),
               mbps(m.size[NSIZES - 1], m.pingpong[NSIZES - 1]), (long long)(big / KIB));
    }

    /* Rank 0 checked the tasks and blocks and holds the count of wrong
     * messages of every rank; its exit status fails the whole mpirun. */
    if (me == 0)
        printf("\n%s\n", bad ? "latency_probe: WRONG RESULTS (see above)"
                             : "latency_probe: every echoed task, message and block checks out");
    CHECK(sj_finalize());
    return me == 0 && bad ? 1 : 0;
}
