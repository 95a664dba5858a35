/*
 * bench_blockop_diag: a block-diagonal operator of dense blocks (sj_op_dense,
 * float64) applied forward (y = A x) and adjoint (x = A' y) on the ranks of
 * the run, against OpenBLAS dgemv of the same blocks in one process measured
 * in the same run on the same cores.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --bind-to none ./bench_blockop_diag [options]
 *
 * Options: -n N (rows = columns of a block, default 2048), -b B (blocks, 8),
 * -k K (applies per sj_wait, 1: the time per apply is then the time of K
 * applies and one wait, divided by K), and those of every operator benchmark
 * (common/bench.h): -i I (timed applies per direction, 20), -w W (warm-ups,
 * 3), -R R (rounds, 3), -t T (threads of the baseline, default: the cores
 * rank 0 may use), -v (per-round lines, per-iteration times and per-thread
 * CPU / wait-for-a-core times on stderr), -p / -s (experiments: pin the
 * application thread to its rank's worker cores / run the StarPU workers
 * under SCHED_IDLE).
 *
 * starjets: the blocks are split between the ranks by a contiguous 1-D layout
 * of the diagonal (sj_op_block_diag), each block made on its owner with
 * sj_op_dense; x and y are arrays of the operator's domain and range layouts
 * (sj_op_domain, sj_op_range), so an apply moves no data: one dgemv task per
 * block on its owner. One timed apply = sj_op_apply (or sj_op_apply_adjoint)
 * followed by sj_wait(), timed on rank 0 (sj_wait ends with a barrier).
 *
 * Baselines, rank 0 alone while the other ranks sleep (StarPU not running),
 * both measured in every round (rounds and baselines: common/bench.h):
 *  - "omp_blocks": an OpenMP loop over the blocks (static schedule, T threads),
 *    one single-threaded cblas_dgemv per block;
 *  - "blas_threads": the blocks one after the other, each cblas_dgemv on T
 *    OpenBLAS threads.
 * The reported baseline of each direction is the faster of the two (median
 * over rounds); both are in the JSON. OpenBLAS's thread count is set
 * explicitly for each (sj_init sets it to 1 and restores it at sj_finalize).
 *
 * Also reported: minor page faults per apply on each rank (a freshly mapped
 * buffer costs one per 4 KiB page).
 *
 * Bandwidth: 8 * B * (N*N + 2*N) bytes per apply (every matrix read once, the
 * input read and the output written once).
 *
 * Exactness: matrix and vector entries are small integers, so every dot
 * product is an exact integer in any summation order; the starjets outputs
 * (gathered on rank 0) and both baselines' outputs must be equal, element by
 * element, to a plain C loop's. Exit status 1 otherwise.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"

/* One baseline apply: G->kind (OMP_BLOCKS or BLAS_THREADS) in G->dir, block by block. */
static void base_apply(void *arg)
{
    const gemv_t *G = arg;
    const int n = (int)G->n;
    const double *in = G->dir ? G->u : G->x;
    double *out = G->dir ? G->v : G->y;
#pragma omp parallel for schedule(static) if (G->kind == OMP_BLOCKS)
    for (int b = 0; b < G->nb; b++)
        cblas_dgemv(CblasColMajor, G->dir ? CblasTrans : CblasNoTrans, n, n, 1.0, G->M[b], n,
                    in + (int64_t)b * n, 1, 0.0, out + (int64_t)b * n, 1);
}

/* The exact results, by plain loops: y(b) = M(b) x(b), v(b) = M(b)' u(b). */
static void reference(gemv_t *G)
{
    const int64_t n = G->n;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < G->nb; b++) {
        const double *M = G->M[b], *x = G->x + b * n, *u = G->u + b * n;
        double *y = G->yref + b * n, *v = G->vref + b * n;
        for (int64_t c = 0; c < n; c++) {
            double s = 0;
            for (int64_t r = 0; r < n; r++) {
                y[r] += M[r + n * c] * x[c];
                s += M[r + n * c] * u[r];
            }
            v[c] = s;
        }
    }
}

/* The operator: sj_op_block_diag of sj_op_dense blocks, each made on its owner. */
static sj_op_t make_op(const gemv_t *G, void *ctx)
{
    const int me = sj_rank(), nb = G->nb;
    const int64_t n = G->n;
    sj_space_t sp;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, NULL, &sp));
    sj_dist_t d1;
    CHECK(sj_dist_create_contiguous(1, &nb, 0, NULL, NULL, &d1));
    sj_op_t *blocks = xcalloc((size_t)nb, sizeof *blocks);
    double *M = NULL;
    for (int b = 0; b < nb; b++) {
        int owner;
        CHECK(sj_dist_owner(d1, b, &owner));
        if (owner == me) {
            if (!M)
                M = xmalloc((size_t)(n * n) * sizeof *M);
            fill_block(M, b, n, n);
        }
        CHECK(sj_op_dense(sp, sp, owner, owner == me ? M : NULL, &blocks[b]));
    }
    free(M);
    sj_op_t A;
    CHECK(sj_op_block_diag(nb, blocks, d1, &A));
    for (int b = 0; b < nb; b++)
        CHECK(sj_op_destroy(&blocks[b]));
    free(blocks);
    CHECK(sj_dist_destroy(&d1));
    CHECK(sj_space_destroy(&sp));
    return A;
}

int main(int argc, char **argv)
{
    int64_t n = 2048;
    int nb = 8, batch = 1;
    bench_t bt = {.iters = 20, .warm = 3, .rounds = 3};
    bench_opt_t opt[] = {OPT('n', n, "block_rows"), OPT('b', nb, "blocks"), BENCH_OPTS(bt),
                         OPT('k', batch, "applies_per_wait")};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || !bench_valid(&bt) || n < 1 || n > 40000 ||
        nb < 1 || nb > 4096 || batch < 1)
        return bench_usage(argv[0], opt, NOPT(opt));
    bench_start(&bt, &argc, &argv);
    gemv_t G;
    gemv_alloc(&G, bt.me, nb, n, n, (int64_t)nb * n, (int64_t)nb * n);
    if (bt.me == 0)
        reference(&G);
    const gemv_bench_t gb = {base_apply, make_op, NULL, batch};
    dirs_t d;
    gemv_res_t res = {0};
    const int64_t anybad = gemv_rounds(&bt, &G, &gb, NULL, &argc, &argv, &d, &res);
    if (bt.me == 0) {
        const double bytes = 8.0 * (double)nb * ((double)n * (double)n + 2.0 * (double)n);
        printf("{\"bench\":\"blockop_diag\",\"block_rows\":%lld,\"blocks\":%d,\"matrix_MiB\":%.0f,"
               "\"ranks\":%d,\"iterations\":%d,\"warmups\":%d,\"rounds\":%d,\"threads\":%d,",
               (long long)n, nb, 8.0 * nb * (double)n * (double)n / 1048576.0, bt.np, bt.iters,
               bt.warm, bt.rounds, bt.threads);
        print_blas_core();
        print_gemv(&d, &res, &bt, bytes);
        printf("\"target\":0.85,\"applies_per_wait\":%d,\"pin_main\":%s,\"idle_workers\":%s,"
               "\"SJ_PLACEMENT\":\"%s\",\"load1_start\":%.2f,\"load1_end\":%.2f,\"correct\":%s}\n",
               batch, json_bool(bt.pin_main), json_bool(bt.idle_workers),
               env_or("SJ_PLACEMENT", "-"), bt.load_start, load1(), json_bool(!anybad));
        fflush(stdout);
    }
    gemv_free(&G, &res);
    MPI_Finalize();
    return anybad ? 1 : 0;
}
