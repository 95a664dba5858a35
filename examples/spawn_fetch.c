// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Running a function on another rank and fetching its result, and running a
 * function on every rank: the first steps of the Julia Distributed tutorial
 * (`@spawn`, `fetch`, `@fetch`, `@spawnat`, `remotecall`, `@everywhere`).
 *
 *   mpirun -n 2 ./spawn_fetch [--sleep SECONDS] [--small]
 *
 * Julia has one master that sends work to workers. starjets runs the same
 * program on every rank instead ("replicated task flow"): every rank makes
 * the same calls, and the library runs each function only where it was sent.
 * Rank 0 plays the master: it prints and receives the results.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

#include "example.h"

/* A counter-based random generator (splitmix64): number k of stream `seed` is
 * a function of (seed, k) only, so a rank can make "the same random numbers"
 * as rank 0 without any message, and rank 0 can check them. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double uniform(uint64_t seed, uint64_t k) /* in [0, 1) */
{
    return (double)(mix64(seed ^ mix64(k)) >> 11) / 9007199254740992.0;
}

/* ---- 1. @spawn 3 + 3 ----------------------------------------------------------
 * A remote function gets a private copy of its argument bytes and writes its
 * result into `out`; it runs as a task on one of the target rank's workers. */
typedef struct add_job {
    int a, b;
} add_job_t;

typedef struct add_result {
    int sum;
    int rank; /* which rank did the work (Julia's myid()) */
} add_result_t;

static int add_fn(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    const add_job_t *j = arg;
    add_result_t *r = out;
    r->sum = j->a + j->b;
    r->rank = sj_rank(); /* sj_rank() is one of the two calls a task may make */
    return 0;
}

/* ---- 2. @fetch rand(3, 3) ------------------------------------------------------ */
static int rand33_fn(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    const uint64_t seed = *(const uint64_t *)arg;
    double *m = out;
    for (int k = 0; k < 9; k++)
        m[k] = uniform(seed, (uint64_t)k);
    return 0;
}

/* ---- 3. a "complicated calculation" and @everywhere --------------------------
 * In Julia the function first exists on the master only, so calling it on a
 * worker fails; @everywhere defines it on every process. In C every rank runs
 * the same binary, so functions exist everywhere; what a rank may lack is
 * *state*: a table it has not loaded, a package it has not set up. Here the
 * calculation needs a per-rank setup, which rank 0 first does for itself
 * only, as the tutorial's master does. */
static struct {
    int ready;      /* set up on this rank? */
    uint64_t seed;  /* this rank's random stream */
    double sleep_s; /* how long the calculation "thinks" */
} setup;

static int do_setup(void *arg)
{
    const double *sleep_s = arg;
    setup.seed = 1000 + (uint64_t)sj_rank();
    setup.sleep_s = *sleep_s;
    setup.ready = 1;
    return 0;
}

/* randexp(5) after a pause: 5 exponential random numbers (mean 1). */
static int complicated_calculation(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    if (!setup.ready)
        return 1; /* "function not defined on this worker" */
    const double s = setup.sleep_s;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
    double *x = out;
    for (int k = 0; k < 5; k++)
        x[k] = -log1p(-uniform(setup.seed, (uint64_t)k));
    x[5] = sj_rank();
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--sleep SECONDS] [--small]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    double sleep_s = 1.0; /* the tutorial's sleep(1) */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small"))
            sleep_s = 0.05;
        else if (!strcmp(argv[i], "--sleep") && i + 1 < argc)
            sleep_s = atof(argv[++i]);
        else
            usage(argv[0]);
    }
    if (!(sleep_s >= 0 && sleep_s <= 60))
        usage(argv[0]);

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    /* "A worker": the last rank (rank 0 itself when it is alone). */
    const int worker = np - 1;
    int ok = 1;
    if (me == 0)
        printf("spawn_fetch on %d rank(s); rank 0 plays Julia's master, rank %d a worker\n\n", np,
               worker);

    /* 1. @spawn returns a future at once; fetch waits for the result and brings
     * it to rank 0. Every rank makes both calls: they are collective. */
    add_job_t job = {3, 3};
    sj_future_t f;
    CHECK(sj_spawn(worker, add_fn, &job, sizeof job, sizeof(add_result_t), &f));
    add_result_t res = {0, -1};
    CHECK(sj_future_fetch(f, 0, &res));
    CHECK(sj_future_destroy(&f));
    if (me == 0) {
        printf("1. spawn 3 + 3 on rank %d, fetch: %d (computed on rank %d)\n", worker, res.sum,
               res.rank);
        ok &= res.sum == 6 && res.rank == worker;
    }

    /* 2. @fetch rand(3, 3): spawn and fetch in one go; the matrix travels back. */
    uint64_t seed = 42;
    double m[9];
    CHECK(sj_spawn(worker, rand33_fn, &seed, sizeof seed, sizeof m, &f));
    CHECK(sj_future_fetch(f, 0, m));
    CHECK(sj_future_destroy(&f));
    if (me == 0) {
        printf("2. fetch rand(3, 3) from rank %d:\n", worker);
        for (int i = 0; i < 3; i++) {
            printf("   ");
            for (int j = 0; j < 3; j++) {
                printf(" %.6f", m[i + 3 * j]);
                ok &= m[i + 3 * j] == uniform(seed, (uint64_t)(i + 3 * j));
            }
            printf("\n");
        }
    }

    /* 3. The calculation needs a per-rank setup that only rank 0 has done. On a
     * rank without it the function fails, and fetch reports SJ_EUSER on every
     * rank (the failure belongs to the future, not to the whole program). */
    if (me == 0)
        do_setup(&sleep_s);
    double x[6];
    CHECK(sj_spawn(worker, complicated_calculation, NULL, 0, sizeof x, &f));
    int rc = sj_future_fetch(f, 0, x);
    CHECK(sj_future_destroy(&f));
    if (me == 0) {
        if (rc == SJ_EUSER)
            printf("3. complicated_calculation on rank %d before setup: fails as expected (%s)\n",
                   worker, sj_last_error());
        else
            printf("3. complicated_calculation on rank %d before setup: %s (alone, rank 0 is "
                   "its own worker, and it did set up)\n",
                   worker, rc == SJ_OK ? "works" : sj_err_name(rc));
        ok &= worker == 0 ? rc == SJ_OK : rc == SJ_EUSER;
    }

    /* @everywhere: the setup on every rank, now, on each rank's main thread.
     * Tasks spawned afterwards see it. */
    CHECK(sj_everywhere(do_setup, &sleep_s));

    /* remotecall on every rank at once: all spawns return at once, so the
     * calculations overlap (about one sleep in all, not one per rank). */
    sj_future_t *all = malloc((size_t)np * sizeof *all);
    double *xs = malloc((size_t)np * sizeof x);
    if (!all || !xs) {
        fprintf(stderr, "spawn_fetch: out of memory\n");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < np; r++)
        CHECK(sj_spawn(r, complicated_calculation, NULL, 0, sizeof x, &all[r]));
    for (int r = 0; r < np; r++) {
        CHECK(sj_future_fetch(all[r], 0, xs + 6 * r));
        CHECK(sj_future_destroy(&all[r]));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (me == 0) {
        printf("   after everywhere(setup), the calculation on each rank (sleep %.2f s each, "
               "%.2f s in all):\n",
               sleep_s, secs);
        for (int r = 0; r < np; r++) {
            const double *y = xs + 6 * r;
            printf("   rank %d: randexp(5) =", (int)y[5]);
            for (int k = 0; k < 5; k++) {
                printf(" %.4f", y[k]);
                ok &= y[k] == -log1p(-uniform(1000 + (uint64_t)r, (uint64_t)k));
            }
            printf("\n");
            ok &= (int)y[5] == r;
        }
        printf("\n%s\n", ok ? "spawn_fetch: all results check out" : "spawn_fetch: WRONG RESULTS");
    }
    free(all);
    free(xs);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
