/*
 * bench_sendrecv: ping-pong latency (8 bytes) and bandwidth (8 KiB .. 4 MiB)
 * between ranks 0 and 1 through sj_spmd_send / sj_spmd_recv, against a raw
 * MPI ping-pong (MPI_Send / MPI_Recv) measured in the same run:
 *  - `mpi`:        before sj_init (no StarPU thread running);
 *  - `mpi_starpu`: between sj_init and sj_finalize, from the application
 *                  thread on a communicator of the benchmark's own (StarPU's
 *                  workers and StarPU-MPI's progress thread alive, as for
 *                  starjets' own messages);
 *  - `starjets`:   sj_spmd_send / sj_spmd_recv inside sj_spmd_run on a
 *                  context of ranks {0, 1}.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_sendrecv [options]
 *
 * Options: -R R rounds (default 3; each round is mpi, then sj_init,
 * mpi_starpu and starjets taking turns size by size, then sj_finalize),
 * -r R timed repetitions per size and round (5), -w W warm-up repetitions (1),
 * -l L round trips per repetition at 8 bytes (2000), -b B bytes moved one way
 * per repetition at the bandwidth sizes (64 MiB; at least 10 round trips),
 * -v per-round lines on stderr.
 *
 * One-way time = round-trip time / 2, per repetition; the median over the
 * repetitions of a round, then the median over rounds. Bandwidth = bytes /
 * one-way time. ratio = mpi_starpu time / starjets time (1 = as fast as raw
 * MPI in the same conditions); ratio_no_starpu = mpi time / starjets time.
 *
 * Correctness: the message of each repetition carries a pattern of that
 * repetition; rank 1 sends back what it received and rank 0 compares the
 * whole buffer. Exit status 1 if a pattern differs, 2 on a runtime failure.
 * One JSON object on stdout (rank 0).
 */
#define _GNU_SOURCE /* getloadavg */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

enum { V_MPI = 0, V_MPI_STARPU = 1, V_STARJETS = 2, NV = 3 };
static const char *vname[NV] = {"mpi", "mpi_starpu", "starjets"};

#define NSIZES 11 /* 8 B, then 8 KiB .. 4 MiB */
#define MAX_SIZE ((size_t)4 << 20)

typedef struct cfg {
    int rounds, reps, warm, lat_iters, verbose;
    size_t bw_bytes;
} cfg_t;

static size_t sizes[NSIZES];

static int iterations(const cfg_t *c, size_t size)
{
    if (size <= 8)
        return c->lat_iters;
    size_t n = c->bw_bytes / size;
    return n < 10 ? 10 : (int)n;
}

static void fill(unsigned char *buf, size_t size, int rep)
{
    for (size_t i = 0; i < size; i++)
        buf[i] = (unsigned char)((i * 7 + (size_t)rep * 13 + 1) & 0xff);
}

static int check(const unsigned char *buf, size_t size, int rep)
{
    for (size_t i = 0; i < size; i++)
        if (buf[i] != (unsigned char)((i * 7 + (size_t)rep * 13 + 1) & 0xff))
            return 0;
    return 1;
}

/* One transport: send or receive @p size bytes to / from the other rank. */
typedef struct transport {
    MPI_Comm comm;         /* raw MPI variants */
    sj_spmd_context_t ctx; /* starjets */
} transport_t;

static int xsend(const transport_t *t, const void *buf, size_t size, int peer)
{
    if (t->ctx)
        return sj_spmd_send(t->ctx, peer, 0, buf, size);
    return MPI_Send(buf, (int)size, MPI_BYTE, peer, 0, t->comm) == MPI_SUCCESS ? 0 : -1;
}

static int xrecv(const transport_t *t, void *buf, size_t size, int peer)
{
    if (t->ctx)
        return sj_spmd_recv(t->ctx, peer, 0, buf, size);
    return MPI_Recv(buf, (int)size, MPI_BYTE, peer, 0, t->comm, MPI_STATUS_IGNORE) == MPI_SUCCESS
               ? 0
               : -1;
}

/*
 * One repetition of the ping-pong at @p size between context ranks 0 and 1
 * (@p me is this rank's, 0 or 1); returns the one-way time on rank 0 (0
 * elsewhere), -1 on a wrong pattern, -2 on a failed call.
 */
static double pingpong(const transport_t *t, int me, unsigned char *buf, size_t size, int iters,
                       int rep)
{
    int rc = 0;
    if (me == 0)
        fill(buf, size, rep);
    double t0 = MPI_Wtime();
    for (int i = 0; i < iters && rc == 0; i++) {
        if (me == 0) {
            rc = xsend(t, buf, size, 1);
            if (rc == 0)
                rc = xrecv(t, buf, size, 1);
        } else {
            rc = xrecv(t, buf, size, 0);
            if (rc == 0)
                rc = xsend(t, buf, size, 0);
        }
    }
    double dt = MPI_Wtime() - t0;
    if (rc != 0)
        return -2;
    if (me == 0 && !check(buf, size, rep))
        return -1;
    return me == 0 ? dt / (2.0 * iters) : 0.0;
}

/* Per variant, size and round: the one-way times of the timed repetitions. */
typedef struct results {
    double *t[NV][NSIZES]; /* rounds * reps each */
    int wrong, failed;
} results_t;

static void record(results_t *res, const cfg_t *c, int v, int s, int round, int rep, double t)
{
    if (t == -1)
        res->wrong++;
    else if (t < 0)
        res->failed++;
    else if (rep >= c->warm)
        res->t[v][s][round * c->reps + rep - c->warm] = t;
}

/* All repetitions of one size for variant v. */
static void run_size(results_t *res, const cfg_t *c, int v, const transport_t *t, int me, int s,
                     int round, unsigned char *buf)
{
    for (int rep = 0; rep < c->warm + c->reps; rep++)
        record(res, c, v, s, round, rep,
               pingpong(t, me, buf, sizes[s], iterations(c, sizes[s]), rep));
}

/* The starjets and mpi_starpu variants take turns size by size, inside one run. */
typedef struct both {
    const cfg_t *c;
    results_t *res;
    MPI_Comm raw;
    int round;
    unsigned char *buf;
} both_t;

static int both_fn(sj_spmd_context_t ctx, void *arg)
{
    both_t *b = arg;
    const int me = sj_spmd_rank(ctx);
    transport_t sj = {MPI_COMM_NULL, ctx}, raw = {b->raw, NULL};
    for (int s = 0; s < NSIZES; s++)
        for (int k = 0; k < 2; k++) {
            int v = (s + b->round + k) % 2 ? V_STARJETS : V_MPI_STARPU;
            run_size(b->res, b->c, v, v == V_STARJETS ? &sj : &raw, me, s, b->round, b->buf);
        }
    return 0;
}

static double round_median(const results_t *res, const cfg_t *c, int v, int s, int round)
{
    return median(res->t[v][s] + round * c->reps, c->reps);
}

/* Median over rounds of the per-round medians. */
static double overall(const results_t *res, const cfg_t *c, int v, int s)
{
    double *m = malloc((size_t)c->rounds * sizeof *m);
    for (int r = 0; r < c->rounds; r++)
        m[r] = round_median(res, c, v, s, r);
    double x = median(m, c->rounds);
    free(m);
    return x;
}

static void print_json(const results_t *res, const cfg_t *c, int np, const double load[3])
{
    printf("{\"bench\":\"sendrecv\",\"ranks\":%d,\"rounds\":%d,\"reps\":%d,\"warmups\":%d,"
           "\"latency_round_trips\":%d,\"bandwidth_bytes_per_rep\":%zu,\"load\":[%.2f,%.2f,"
           "%.2f],\"thread_multiple\":%d",
           np, c->rounds, c->reps, c->warm, c->lat_iters, c->bw_bytes, load[0], load[1], load[2],
           1);
    double lat[NV];
    for (int v = 0; v < NV; v++)
        lat[v] = overall(res, c, v, 0);
    printf(",\"latency_us\":{");
    for (int v = 0; v < NV; v++)
        printf("%s\"%s\":%.3f", v ? "," : "", vname[v], lat[v] * 1e6);
    printf("}");
    printf(",\"latency_ratio\":%.3f,\"latency_ratio_no_starpu\":%.3f", lat[1] / lat[2],
           lat[0] / lat[2]);
    printf(",\"bandwidth_GBps\":[");
    for (int s = 1; s < NSIZES; s++) {
        double t[NV];
        for (int v = 0; v < NV; v++)
            t[v] = overall(res, c, v, s);
        printf("%s{\"bytes\":%zu,\"mpi\":%.3f,\"mpi_starpu\":%.3f,\"starjets\":%.3f,\"ratio\":%.3f,"
               "\"ratio_no_starpu\":%.3f}",
               s > 1 ? "," : "", sizes[s], sizes[s] / t[0] * 1e-9, sizes[s] / t[1] * 1e-9,
               sizes[s] / t[2] * 1e-9, t[1] / t[2], t[0] / t[2]);
    }
    printf("],\"latency_ratio_per_round\":[");
    for (int r = 0; r < c->rounds; r++)
        printf("%s%.3f", r ? "," : "",
               round_median(res, c, V_MPI_STARPU, 0, r) / round_median(res, c, V_STARJETS, 0, r));
    printf("],\"correct\":%s}\n", res->wrong || res->failed ? "false" : "true");
}

int main(int argc, char **argv)
{
    cfg_t c = {3, 5, 1, 2000, 0, (size_t)64 << 20};
    bench_opt_t opt[] = {OPT('R', c.rounds, "rounds"),
                         OPT('r', c.reps, "reps"),
                         OPT('w', c.warm, "warmups"),
                         OPT('l', c.lat_iters, "latency_round_trips"),
                         OPT('b', c.bw_bytes, "bytes_per_repetition"),
                         OPT_FLAG('v', c.verbose)};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || c.rounds < 1 || c.reps < 1 || c.warm < 0 ||
        c.lat_iters < 1)
        return bench_usage(argv[0], opt, NOPT(opt));
    sizes[0] = 8;
    for (int s = 1; s < NSIZES; s++)
        sizes[s] = (size_t)8192 << (s - 1);

    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    int me = 0, np = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (np < 2 || level < MPI_THREAD_MULTIPLE) {
        if (me == 0)
            fprintf(stderr, "bench_sendrecv: needs 2 ranks or more and MPI_THREAD_MULTIPLE\n");
        MPI_Finalize();
        return 2;
    }
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    results_t res = {{{0}}, 0, 0};
    for (int v = 0; v < NV; v++)
        for (int s = 0; s < NSIZES; s++)
            res.t[v][s] = calloc((size_t)(c.rounds * c.reps), sizeof(double));
    unsigned char *buf = malloc(MAX_SIZE);
    MPI_Comm pair; /* ranks 0 and 1 */
    MPI_Comm_split(MPI_COMM_WORLD, me < 2 ? 0 : MPI_UNDEFINED, me, &pair);

    for (int round = 0; round < c.rounds; round++) {
        if (me < 2) {
            transport_t raw = {pair, NULL};
            for (int s = 0; s < NSIZES; s++)
                run_size(&res, &c, V_MPI, &raw, me, s, round, buf);
        }
        CHECK(sj_init(&argc, &argv, NULL));
        sj_spmd_context_t ctx;
        CHECK(sj_spmd_context_create(2, (int[]){0, 1}, &ctx));
        both_t b = {&c, &res, pair, round, buf};
        CHECK(sj_spmd_run(ctx, both_fn, &b));
        CHECK(sj_spmd_context_destroy(&ctx));
        CHECK(sj_finalize());
        if (c.verbose && me == 0) {
            fprintf(stderr,
                    "round %d: 8 B one way (us): mpi %.3f, mpi_starpu %.3f, starjets %.3f;"
                    " 4 MiB (GB/s): %.2f, %.2f, %.2f\n",
                    round, round_median(&res, &c, V_MPI, 0, round) * 1e6,
                    round_median(&res, &c, V_MPI_STARPU, 0, round) * 1e6,
                    round_median(&res, &c, V_STARJETS, 0, round) * 1e6,
                    MAX_SIZE / round_median(&res, &c, V_MPI, NSIZES - 1, round) * 1e-9,
                    MAX_SIZE / round_median(&res, &c, V_MPI_STARPU, NSIZES - 1, round) * 1e-9,
                    MAX_SIZE / round_median(&res, &c, V_STARJETS, NSIZES - 1, round) * 1e-9);
        }
    }
    int bad[2] = {res.wrong, res.failed}, all[2];
    MPI_Allreduce(bad, all, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    res.wrong = all[0];
    res.failed = all[1];
    if (me == 0)
        print_json(&res, &c, np, load);
    if (pair != MPI_COMM_NULL)
        MPI_Comm_free(&pair);
    for (int v = 0; v < NV; v++)
        for (int s = 0; s < NSIZES; s++)
            free(res.t[v][s]);
    free(buf);
    MPI_Finalize();
    return res.failed ? 2 : res.wrong ? 1 : 0;
}
