/*
 * bench_latency: the latency of starjets' smallest dependent steps between two
 * ranks, against the targets of the latency issue, with a raw MPI ping-pong
 * measured in the same run as the floor:
 *
 *  - `mpi_before`: 8-byte MPI_Send / MPI_Recv ping-pong between ranks 0 and 1
 *                  on the benchmark's own communicator (MPI_Comm_dup of
 *                  MPI_COMM_WORLD), before sj_init: no StarPU thread running;
 *  - `mpi_starpu`: the same ping-pong on the same communicator, from the
 *                  application thread while starjets runs (StarPU's workers
 *                  and StarPU-MPI's progress thread alive);
 *  - `hop`:        a ping-pong of dependent tasks through the public API: a
 *                  1-element space of 1 block, x on rank 0 and y on rank 1
 *                  (sj_dist_create_explicit), two scaling leaves A1 (owner 1,
 *                  a = 2) and A0 (owner 0, b = 0.5 + 2^-21), and H times
 *                  { sj_op_apply(A1, x, y); sj_op_apply(A0, y, x); } then
 *                  sj_wait(). Every apply is one task on its owner that needs
 *                  the other rank's block: one hop. Time per hop = time / 2H;
 *  - `dot`:        blocking sj_array_dot of two arrays of n doubles (one block
 *                  per rank, default layout); time per call;
 *  - `chained`:    a graph-scalar reduction chained into a dependent task, per
 *                  step { sj_array_reduce_scalar(SJ_REDUCE_DOT, a, b, &s);
 *                  sj_array_axpy_scalar(c, s, a, b); sj_scalar_destroy(&s); },
 *                  S steps then sj_wait(); time per step (no wait in between:
 *                  each step's axpy waits for its reduction in the task graph,
 *                  the next reduction for that axpy).
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 STARPU_SILENT=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_latency [options]
 *
 * Options: -R R rounds (default 15), -w W warm-up rounds, not counted (1),
 * -l L MPI round trips per round (10000), -H H hop loops per round (2 H hops,
 * 2000), -d D dot calls per round (2000), -n N dot length (2000), -s S chained
 * steps per round (1000), -c C the chained step's constant (1e-6), -v
 * per-round lines on stderr. The defaults take about 5 s on 2 ranks of a
 * 2-core node.
 *
 * The benchmark initialises MPI itself (MPI_THREAD_MULTIPLE) so that it can
 * time the raw ping-pong before sj_init, then runs sj_init once; each round
 * measures mpi_starpu, hop, dot and chained in that order. Reported: the
 * median over the rounds of each round's time per operation, in microseconds
 * (one-way time = round trip / 2 for the MPI ping-pong), and for hop, dot and
 * chained the target (hop <= 20 us, dot <= 20 us, chained step <= 40
 * us) as "target_us" and "ratio" = target / measured (>= 1: met). On 1 rank
 * the MPI ping-pong is skipped (null) and x and y both live on rank 0.
 *
 * Correctness (exit status 1 when wrong, 2 on a runtime failure):
 *  - MPI: rank 1 answers every message k with k + 1, checked by rank 0;
 *  - hop: x = 1 at the start of a round must end as the same 2H products done
 *    serially ((2 b)^H, about 1 + H 2^-20: a lost or stale hop shows);
 *  - dot: every call's value must have the same bits as the first call's and
 *    match a serial dot of the gathered data within 1e-12 (relative);
 *  - chained: b (copied from the same start every round) must match the same
 *    S steps done serially on rank 0 from the gathered data within 1e-12
 *    (relative, infinity norm).
 * One JSON object on stdout (rank 0).
 */
#define _GNU_SOURCE /* getloadavg */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define TARGET_HOP_US 20.0
#define TARGET_DOT_US 20.0
#define TARGET_CHAINED_US 40.0
#define TOL 1e-12

enum { M_MPI_BEFORE, M_MPI_STARPU, M_HOP, M_DOT, M_CHAINED, NM };
static const char *mname[NM] = {"mpi_before", "mpi_starpu", "hop", "dot", "chained"};
static const double target_us[NM] = {0, 0, TARGET_HOP_US, TARGET_DOT_US, TARGET_CHAINED_US};

typedef struct cfg {
    int rounds, warm, round_trips, hops, dots, steps, verbose;
    int64_t n;
    double c;
} cfg_t;

static int wrong = 0; /* failed checks on this rank */

/*
 * Ping-pong of 8 bytes between ranks 0 and 1 of @p comm: @p iters round trips.
 * Returns the one-way time on rank 0, 0 on the other ranks.
 */
static double mpi_pingpong(MPI_Comm comm, int iters)
{
    int me;
    MPI_Comm_rank(comm, &me);
    if (me > 1)
        return 0;
    int64_t msg = 0;
    double t0 = MPI_Wtime();
    for (int k = 0; k < iters; k++) {
        if (me == 0) {
            msg = 2 * (int64_t)k;
            MPI_Send(&msg, 1, MPI_INT64_T, 1, 0, comm);
            MPI_Recv(&msg, 1, MPI_INT64_T, 1, 0, comm, MPI_STATUS_IGNORE);
            if (msg != 2 * (int64_t)k + 1)
                wrong++;
        } else {
            MPI_Recv(&msg, 1, MPI_INT64_T, 0, 0, comm, MPI_STATUS_IGNORE);
            msg++;
            MPI_Send(&msg, 1, MPI_INT64_T, 0, 0, comm);
        }
    }
    double dt = MPI_Wtime() - t0;
    return me == 0 ? dt / (2.0 * iters) : 0;
}

/* ---- the starjets measurements -------------------------------------------------- */

#define HOP_A 2.0
#define HOP_B (0.5 + 0x1p-21)

typedef struct state {
    /* hop */
    sj_array_t x, y;
    sj_op_t A1, A0;
    double hop_ref;
    /* dot and chained */
    sj_array_t a, b, bc;
    double dot_ref, *chained_ref; /* on rank 0 */
    int64_t n;
} state_t;

static void setup(state_t *st, const cfg_t *c)
{
    const int me = sj_rank(), np = sj_nranks();
    const int other = np > 1 ? 1 : 0;
    /* hop: one element, x on rank 0, y on rank 1 */
    sj_space_t one;
    sj_dist_t on0, on1;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){1}, (int[]){1}, &one));
    CHECK(sj_dist_create_explicit(1, (int[]){1}, (int[]){0}, &on0));
    CHECK(sj_dist_create_explicit(1, (int[]){1}, (int[]){other}, &on1));
    CHECK(sj_array_ones(one, on0, &st->x));
    CHECK(sj_array_zeros(one, on1, &st->y));
    CHECK(sj_op_scaled_identity(one, other, HOP_A, &st->A1));
    CHECK(sj_op_scaled_identity(one, 0, HOP_B, &st->A0));
    CHECK(sj_dist_destroy(&on0));
    CHECK(sj_dist_destroy(&on1));
    CHECK(sj_space_destroy(&one));
    double v = 1.0;
    for (int k = 0; k < c->hops; k++) {
        double w = HOP_A * v;
        v = HOP_B * w;
    }
    st->hop_ref = v;

    /* dot and chained: n doubles, one block per rank, default layout */
    sj_space_t s;
    st->n = c->n;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){c->n}, (int[]){np}, &s));
    CHECK(sj_array_rand(s, NULL, 11, &st->a));
    CHECK(sj_array_rand(s, NULL, 12, &st->b));
    CHECK(sj_array_zeros(s, NULL, &st->bc));
    CHECK(sj_space_destroy(&s));
    double *a = NULL, *b = NULL;
    if (me == 0) {
        a = malloc((size_t)c->n * sizeof *a);
        b = malloc((size_t)c->n * sizeof *b);
        st->chained_ref = malloc((size_t)c->n * sizeof *st->chained_ref);
        if (!a || !b || !st->chained_ref) {
            fprintf(stderr, "bench_latency: out of memory\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    CHECK(sj_array_gather(st->a, 0, a));
    CHECK(sj_array_gather(st->b, 0, b));
    if (me == 0) {
        double d = 0;
        for (int64_t i = 0; i < c->n; i++)
            d += a[i] * b[i];
        st->dot_ref = d;
        /* the chained steps, serially */
        double *r = st->chained_ref;
        memcpy(r, b, (size_t)c->n * sizeof *r);
        for (int k = 0; k < c->steps; k++) {
            double s_ = 0;
            for (int64_t i = 0; i < c->n; i++)
                s_ += a[i] * r[i];
            for (int64_t i = 0; i < c->n; i++)
                r[i] += c->c * s_ * a[i];
        }
    }
    free(a);
    free(b);
    CHECK(sj_wait());
}

static void teardown(state_t *st)
{
    CHECK(sj_op_destroy(&st->A1));
    CHECK(sj_op_destroy(&st->A0));
    CHECK(sj_array_destroy(&st->x));
    CHECK(sj_array_destroy(&st->y));
    CHECK(sj_array_destroy(&st->a));
    CHECK(sj_array_destroy(&st->b));
    CHECK(sj_array_destroy(&st->bc));
    free(st->chained_ref);
}

/* H loops of two dependent applies; time per hop on rank 0. */
static double run_hops(state_t *st, const cfg_t *c, int round)
{
    CHECK(sj_array_fill(1.0, st->x));
    CHECK(sj_wait());
    double t0 = now();
    for (int k = 0; k < c->hops; k++) {
        CHECK(sj_op_apply(st->A1, st->x, st->y));
        CHECK(sj_op_apply(st->A0, st->y, st->x));
    }
    CHECK(sj_wait());
    double dt = now() - t0;
    double v = 0;
    CHECK(sj_array_gather(st->x, 0, &v));
    if (sj_rank() == 0 && !(fabs(v - st->hop_ref) <= TOL * fabs(st->hop_ref))) {
        fprintf(stderr, "bench_latency: round %d: x after %d hop loops is %.17g, serially %.17g\n",
                round, c->hops, v, st->hop_ref);
        wrong++;
    }
    return dt / (2.0 * c->hops);
}

/* D blocking dots; time per call. */
static double run_dots(state_t *st, const cfg_t *c, int round)
{
    double first = 0, d = 0;
    int differ = 0;
    CHECK(sj_wait());
    double t0 = now();
    for (int k = 0; k < c->dots; k++) {
        CHECK(sj_array_dot(st->a, st->b, &d));
        if (k == 0)
            first = d;
        else if (memcmp(&d, &first, sizeof d) != 0)
            differ++;
    }
    double dt = now() - t0;
    if (differ) {
        fprintf(stderr, "bench_latency: rank %d, round %d: %d dot(s) differ from the first\n",
                sj_rank(), round, differ);
        wrong++;
    }
    if (sj_rank() == 0 && !(fabs(first - st->dot_ref) <= TOL * fabs(st->dot_ref))) {
        fprintf(stderr, "bench_latency: round %d: dot is %.17g, serially %.17g\n", round, first,
                st->dot_ref);
        wrong++;
    }
    return dt / c->dots;
}

/* S chained reduction + axpy steps from b; time per step. */
static double run_chained(state_t *st, const cfg_t *c, int round)
{
    CHECK(sj_array_copyto(st->b, st->bc));
    CHECK(sj_wait());
    double t0 = now();
    for (int k = 0; k < c->steps; k++) {
        sj_scalar_t s = NULL;
        CHECK(sj_array_reduce_scalar(SJ_REDUCE_DOT, st->a, st->bc, &s));
        CHECK(sj_array_axpy_scalar(c->c, s, st->a, st->bc));
        CHECK(sj_scalar_destroy(&s));
    }
    CHECK(sj_wait());
    double dt = now() - t0;
    double *got = sj_rank() == 0 ? malloc((size_t)st->n * sizeof *got) : NULL;
    CHECK(sj_array_gather(st->bc, 0, got));
    if (sj_rank() == 0) {
        double err = 0, ref = 0;
        int64_t worst = 0;
        for (int64_t i = 0; i < st->n; i++) {
            double e = fabs(got[i] - st->chained_ref[i]);
            if (e > err || e != e) {
                err = e;
                worst = i;
            }
            ref = fmax(ref, fabs(st->chained_ref[i]));
        }
        if (!(err <= TOL * ref)) {
            fprintf(stderr,
                    "bench_latency: round %d: b after %d chained steps differs from the serial "
                    "steps by %.3g (|b| up to %.3g); b[%lld] = %.17g, serially %.17g\n",
                    round, c->steps, err, ref, (long long)worst, got[worst],
                    st->chained_ref[worst]);
            wrong++;
        }
    }
    free(got);
    return dt / c->steps;
}

/* ---- driver ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    cfg_t c = {15, 1, 10000, 2000, 2000, 1000, 0, 2000, 1e-6};
    bench_opt_t opt[] = {OPT('R', c.rounds, "rounds"),
                         OPT('w', c.warm, "warm-up_rounds"),
                         OPT('l', c.round_trips, "MPI_round_trips"),
                         OPT('H', c.hops, "hop_loops"),
                         OPT('d', c.dots, "dot_calls"),
                         OPT('n', c.n, "dot_length"),
                         OPT('s', c.steps, "chained_steps"),
                         OPT('c', c.c, "constant"),
                         OPT_FLAG('v', c.verbose)};
    if (bench_parse(argc, argv, opt, NOPT(opt)))
        return bench_usage(argv[0], opt, NOPT(opt));
    int level = 0, me = 0, np = 1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (c.rounds < 1 || c.warm < 0 || c.round_trips < 1 || c.hops < 1 || c.dots < 1 ||
        c.steps < 1 || c.n < np || !(c.c == c.c) || level < MPI_THREAD_MULTIPLE) {
        if (me == 0) {
            bench_usage(argv[0], opt, NOPT(opt));
            if (level < MPI_THREAD_MULTIPLE)
                fprintf(stderr, "bench_latency: needs MPI_THREAD_MULTIPLE\n");
        }
        MPI_Finalize();
        return 2;
    }
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    const int total = c.warm + c.rounds;
    double *t[NM];
    for (int m = 0; m < NM; m++)
        t[m] = calloc((size_t)total, sizeof(double));
    const int pair = np >= 2; /* the MPI ping-pong needs ranks 0 and 1 */

    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    if (pair)
        for (int r = 0; r < total; r++)
            t[M_MPI_BEFORE][r] = mpi_pingpong(comm, c.round_trips);
    MPI_Barrier(MPI_COMM_WORLD);

    CHECK(sj_init(&argc, &argv, NULL));
    const int ncpus = sj_ncpus();
    state_t st = {0};
    setup(&st, &c);
    for (int r = 0; r < total; r++) {
        if (pair)
            t[M_MPI_STARPU][r] = mpi_pingpong(comm, c.round_trips);
        CHECK(sj_barrier());
        t[M_HOP][r] = run_hops(&st, &c, r);
        t[M_DOT][r] = run_dots(&st, &c, r);
        t[M_CHAINED][r] = run_chained(&st, &c, r);
        if (c.verbose && me == 0)
            fprintf(stderr,
                    "round %d%s: mpi before %.2f us, mpi with StarPU %.2f us, hop %.2f us, "
                    "dot %.2f us, chained step %.2f us\n",
                    r, r < c.warm ? " (warm-up)" : "", t[M_MPI_BEFORE][r] * 1e6,
                    t[M_MPI_STARPU][r] * 1e6, t[M_HOP][r] * 1e6, t[M_DOT][r] * 1e6,
                    t[M_CHAINED][r] * 1e6);
    }
    teardown(&st);
    CHECK(sj_finalize());

    int anybad = 0;
    MPI_Allreduce(&wrong, &anybad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0) {
        printf("{\"bench\":\"latency\",\"ranks\":%d,\"workers_per_rank\":%d,\"rounds\":%d,"
               "\"warmup_rounds\":%d,\"mpi_round_trips\":%d,\"hop_loops\":%d,\"dot_calls\":%d,"
               "\"dot_length\":%lld,\"chained_steps\":%d,\"chained_c\":%g,\"load\":[%.2f,%.2f,"
               "%.2f]",
               np, ncpus, c.rounds, c.warm, c.round_trips, c.hops, c.dots, (long long)c.n, c.steps,
               c.c, load[0], load[1], load[2]);
        for (int m = 0; m < NM; m++) {
            const double *v = t[m] + c.warm;
            const int have = m >= M_HOP || pair;
            printf(",\"%s\":", mname[m]);
            if (!have) {
                printf("null");
                continue;
            }
            const double us = median(v, c.rounds) * 1e6;
            printf("{\"us\":%.3f", us);
            if (target_us[m] > 0)
                printf(",\"target_us\":%g,\"ratio\":%.4f", target_us[m], target_us[m] / us);
            printf(",\"us_per_round\":");
            print_us_array(v, c.rounds);
            printf("}");
        }
        printf(",\"correct\":%s}\n", anybad ? "false" : "true");
        fflush(stdout);
    }
    for (int m = 0; m < NM; m++)
        free(t[m]);
    MPI_Comm_free(&comm);
    MPI_Finalize();
    return anybad ? 1 : 0;
}
