/*
 * bench_memory: does memory stay flat over many applies? The target:
 * the resident memory (RSS) of every rank after 1000 applies within 5 % of
 * its RSS after 10.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_memory [options]
 *
 * Options: -n BLOCK (rows and columns of each dense block, 256), -b BLOCKS
 * (block rows and columns of the operator, 4), -e EARLY (applies before the
 * first reading, 10), -a APPLIES (applies before the second, 1000),
 * -k EVERY (applies between two sj_wait, 10).
 *
 * The operator is a general b x b grid of dense blocks on the default
 * contiguous layout, so that every apply reads blocks of x on other ranks,
 * makes temporaries for the partial sums and flushes StarPU-MPI's cache: the
 * paths where memory could pile up. Each step is y = A x then x2 = A' y,
 * submitted without waiting, with sj_wait every EVERY steps. RSS is read from
 * /proc/self/statm after a wait. The result y of the last step must have the
 * same bits as that of the first (x never changes).
 *
 * One JSON object on stdout (rank 0): each rank's RSS at both readings and
 * the largest ratio late / early over the ranks.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static double rss_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

typedef struct blocks_ctx {
    int n;
    double *matrix; /* n x n, the same for every block (each owner copies it) */
} blocks_ctx_t;

static int make_block(int i, int j, int owner, void *ctx, sj_op_t *block)
{
    (void)i;
    (void)j;
    const blocks_ctx_t *c = ctx;
    int64_t len = c->n;
    int one = 1;
    sj_space_t s = NULL;
    int rc = sj_space_create(SJ_FLOAT64, 1, &len, &one, &s);
    if (rc == SJ_OK)
        rc = sj_op_dense(s, s, owner, sj_rank() == owner ? c->matrix : NULL, block);
    sj_space_destroy(&s);
    return rc;
}

/* `steps` steps of y = A x, x2 = A' y, waiting every `every`. */
static void steps(sj_op_t A, sj_array_t x, sj_array_t y, sj_array_t x2, int count, int every)
{
    for (int s = 1; s <= count; s++) {
        CHECK(sj_op_apply(A, x, y));
        CHECK(sj_op_apply_adjoint(A, y, x2));
        if (s % every == 0 || s == count)
            CHECK(sj_wait());
    }
}

int main(int argc, char **argv)
{
    int n = 256, b = 4, early = 10, applies = 1000, every = 10;
    bench_opt_t opt[] = {OPT('n', n, "block"), OPT('b', b, "blocks"), OPT('e', early, "early"),
                         OPT('a', applies, "applies"), OPT('k', every, "every")};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || n < 1 || b < 1 || early < 1 || applies < early ||
        every < 1)
        return bench_usage(argv[0], opt, NOPT(opt));

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    blocks_ctx_t bc = {n, xmalloc((size_t)n * (size_t)n * sizeof(double))};
    for (size_t k = 0; k < (size_t)n * (size_t)n; k++)
        bc.matrix[k] = (double)((k * 7919) % 101) / 101.0 - 0.5;
    sj_op_t A = NULL;
    CHECK(sj_op_block_create_fn(b, b, NULL, make_block, &bc, sizeof bc, &A));
    sj_space_t dom = NULL, rng = NULL;
    sj_dist_t ddist = NULL, rdist = NULL;
    CHECK(sj_op_domain(A, &dom, &ddist));
    CHECK(sj_op_range(A, &rng, &rdist));
    sj_array_t x = NULL, y = NULL, x2 = NULL;
    CHECK(sj_array_rand(dom, ddist, 7, &x));
    CHECK(sj_array_zeros(rng, rdist, &y));
    CHECK(sj_array_zeros(dom, ddist, &x2));
    int64_t ylen = 0;
    CHECK(sj_space_length(rng, &ylen));
    double *first = me == 0 ? xmalloc((size_t)ylen * sizeof *first) : NULL;
    double *last = me == 0 ? xmalloc((size_t)ylen * sizeof *last) : NULL;

    steps(A, x, y, x2, 1, every);
    CHECK(sj_array_gather(y, 0, first));
    steps(A, x, y, x2, early - 1, every);
    const double rss_early = rss_mib();
    steps(A, x, y, x2, applies - early, every);
    const double rss_late = rss_mib();
    CHECK(sj_array_gather(y, 0, last));
    int same = me != 0 || memcmp(first, last, (size_t)ylen * sizeof *first) == 0;
    MPI_Bcast(&same, 1, MPI_INT, 0, MPI_COMM_WORLD);

    double mine[2] = {rss_early, rss_late};
    double *all = gather(mine, 2, MPI_DOUBLE);
    if (me == 0) {
        double worst = 0;
        for (int r = 0; r < np; r++) {
            const double ratio = all[2 * r] > 0 ? all[2 * r + 1] / all[2 * r] : 0;
            worst = ratio > worst ? ratio : worst;
        }
        printf("{\"bench\":\"memory\",\"ranks\":%d,\"block_rows\":%d,\"blocks_per_dim\":%d,"
               "\"early\":%d,\"applies\":%d,\"wait_every\":%d,\"rss_early_MiB\":[",
               np, n, b, early, applies, every);
        for (int r = 0; r < np; r++)
            printf("%s%.2f", r ? "," : "", all[2 * r]);
        printf("],\"rss_late_MiB\":[");
        for (int r = 0; r < np; r++)
            printf("%s%.2f", r ? "," : "", all[2 * r + 1]);
        printf("],\"ratio\":%.4f,\"target\":1.05,\"correct\":%s}\n", worst,
               same ? "true" : "false");
    }
    free(all);
    free(first);
    free(last);
    free(bc.matrix);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&x2);
    sj_op_destroy(&A);
    CHECK(sj_finalize());
    return same ? 0 : 1;
}
