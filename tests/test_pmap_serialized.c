// sj-test: nprocs=1,2,3,4
/*
 * Task farms and distributed loops in a program that initialised MPI itself
 * at MPI_THREAD_SERIALIZED: sj_pmap deals the items round-robin up front
 * (item i to rank i % nranks) and balances each share over the rank's
 * workers, with StarPU-MPI messages only; sj_preduce gathers its parts
 * through StarPU-MPI. Results against serial references, the failure
 * policies, kept results, the root-only check agreed on every rank; bits and
 * reports compared across ranks after sj_finalize, when MPI is ours again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s (%s)\n", __FILE__, __LINE__, #cond,                \
                    sj_last_error());                                                              \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define N 90

/* out = 3 index + in, after work that grows with index % 5; index 13 may fail. */
static int item(int64_t index, const void *in, void *out, void *ctx)
{
    const int *fail13 = ctx;
    if (*fail13 && index == 13)
        return 4;
    double x;
    memcpy(&x, in, sizeof x);
    volatile double acc = 0.0;
    for (int64_t k = 0; k < (1 + index % 5) * 20000; k++)
        acc += 1e-9;
    x = 3.0 * (double)index + x + (acc > 1e9 ? 1.0 : 0.0);
    memcpy(out, &x, sizeof x);
    return 0;
}

static int flaky(int64_t index, const void *in, void *out, void *ctx)
{
    int *attempts = *(int *const *)ctx;
    if (__atomic_fetch_add(&attempts[index], 1, __ATOMIC_RELAXED) < index % 2)
        return 2;
    double x = (double)index;
    memcpy(out, &x, sizeof x);
    return 0;
}

static int64_t kept_count;

static void keep(int64_t index, const void *out, void *ctx)
{
    double x;
    memcpy(&x, out, sizeof x);
    if (x != 3.0 * (double)index + 0.5 * (double)index)
        (*(int *)ctx)++;
    kept_count++;
}

static double term(int64_t i, void *ctx)
{
    (void)ctx;
    return sin(0.37 * (double)i + 0.1) * (double)(1 + i % 7);
}

/* The documented parts and tree, serially. */
static double serial_sum(int64_t lo, int64_t hi)
{
    const int64_t len = hi - lo, k = len < SJ_PREDUCE_PARTS ? len : SJ_PREDUCE_PARTS;
    double part[SJ_PREDUCE_PARTS];
    for (int64_t p = 0; p < k; p++) {
        const int64_t a = p * (len / k) + (p < len % k ? p : len % k);
        const int64_t b = (p + 1) * (len / k) + (p + 1 < len % k ? p + 1 : len % k);
        part[p] = 0.0;
        for (int64_t i = lo + a; i < lo + b; i++)
            part[p] = part[p] + term(i, NULL);
    }
    for (int64_t s = 1; s < k; s *= 2)
        for (int64_t p = 0; p + s < k; p += 2 * s)
            part[p] = part[p] + part[p + s];
    return part[0];
}

int main(int argc, char **argv)
{
    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &level);
    EXPECT(sj_init(&argc, &argv, NULL) == SJ_OK);
    EXPECT(sj_mpi_thread_multiple() == 0);
    const int me = sj_rank(), np = sj_nranks(), root = np - 1;

    double in[N], out[N];
    int status[N];
    for (int i = 0; i < N; i++)
        in[i] = 0.5 * i;
    int64_t *ranks = calloc((size_t)np, sizeof *ranks);
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.root = root;
    o.item_status = status;
    o.rank_items = ranks;
    sj_pmap_report_t rep;
    int fail13 = 0;

    /* every item, dealt round-robin */
    EXPECT(sj_pmap(N, in, sizeof(double), out, sizeof(double), item, &fail13, sizeof fail13, &o,
                   &rep) == SJ_OK);
    EXPECT(rep.done == N && rep.failed == 0 && rep.batches == 0);
    for (int r = 0; r < np; r++)
        EXPECT(ranks[r] == (N - 1 - r) / np + 1);
    if (me == root)
        for (int i = 0; i < N; i++)
            EXPECT(status[i] == 0 && out[i] == 3.0 * i + 0.5 * i);

    /* stop: item 13 fails; its rank stops, the call fails everywhere */
    fail13 = 1;
    EXPECT(sj_pmap(N, in, sizeof(double), out, sizeof(double), item, &fail13, sizeof fail13, &o,
                   &rep) == SJ_EUSER);
    EXPECT(rep.first_failed == 13 && rep.first_error == 4 && rep.failed == 1);
    EXPECT(rep.done + rep.not_run == N);
    if (me == root)
        EXPECT(status[13] == 4);

    /* skip: the same failure, recorded */
    o.on_error = SJ_PMAP_SKIP;
    EXPECT(sj_pmap(N, in, sizeof(double), out, sizeof(double), item, &fail13, sizeof fail13, &o,
                   &rep) == SJ_OK);
    EXPECT(rep.failed == 1 && rep.done == N && rep.not_run == 0);
    if (me == root)
        for (int i = 0; i < N; i++)
            EXPECT(status[i] == (i == 13 ? 4 : 0));

    /* retry: odd items fail once */
    int *attempts = calloc(N, sizeof *attempts);
    o.on_error = SJ_PMAP_RETRY;
    o.retries = 1;
    EXPECT(sj_pmap(N, NULL, 0, out, sizeof(double), flaky, &attempts, sizeof attempts, &o, &rep) ==
           SJ_OK);
    EXPECT(rep.failed == 0 && rep.retried == N / 2);
    if (me == root)
        for (int i = 0; i < N; i++)
            EXPECT(out[i] == (double)i);
    free(attempts);

    /* results kept on the ranks */
    int wrong = 0;
    fail13 = 0;
    o.on_error = SJ_PMAP_STOP;
    o.output = keep;
    o.output_ctx = &wrong;
    EXPECT(sj_pmap(N, in, sizeof(double), NULL, sizeof(double), item, &fail13, sizeof fail13, &o,
                   &rep) == SJ_OK);
    EXPECT(wrong == 0 && kept_count == ranks[me]);
    o.output = NULL;

    /* a check only the root can make fails on every rank */
    EXPECT(sj_pmap(N, me == root ? NULL : in, sizeof(double), out, sizeof(double), item, &fail13,
                   sizeof fail13, &o, NULL) == SJ_ENULL);

    /* the distributed loop */
    double sum = 0.0;
    EXPECT(sj_preduce_double(-100, 54321, SJ_REDUCE_SUM, term, NULL, 0, &sum) == SJ_OK);
    EXPECT(memcmp(&sum, &(double){serial_sum(-100, 54321)}, sizeof sum) == 0);

    EXPECT(sj_finalize() == SJ_OK);

    /* MPI is ours again: every rank saw the same sum and the same report */
    double lo, hi;
    MPI_Allreduce(&sum, &lo, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&sum, &hi, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    EXPECT(lo == hi);
    int64_t retried[2] = {rep.done, rep.retried}, rmin[2];
    MPI_Allreduce(retried, rmin, 2, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
    EXPECT(rmin[0] == rep.done && rmin[1] == rep.retried);
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0)
        printf("pmap_serialized: %d failure(s) over %d rank(s)\n", total, np);
    free(ranks);
    MPI_Finalize();
    return total ? 1 : 0;
}
