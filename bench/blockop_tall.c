/*
 * bench_blockop_tall: a tall-and-skinny block operator (one block column of
 * B dense row blocks, M x N each, float64) applied forward (y = A x) and
 * adjoint (x = A' y) on the ranks of the run, with the model x on rank 0; time
 * per apply and bytes moved against the minimum, and a one-process OpenBLAS
 * baseline measured in the same run on the same cores.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --bind-to none ./bench_blockop_tall [options]
 *
 * Options: -m M (rows of a block, default 1024), -n N (columns = model size,
 * 4096), -b B (row blocks, 16), and those of every operator benchmark
 * (common/bench.h): -i I (timed applies per direction, 20), -w W (warm-ups,
 * 3), -R R (rounds, 3), -t T (threads of the baseline, default: the cores
 * rank 0 may use), -v (per-round lines, per-iteration times and per-thread
 * CPU use on stderr), -p / -s (experiments: pin the application thread to
 * its rank's worker cores / run the StarPU workers under SCHED_IDLE).
 *
 * starjets: sj_op_block_create_fn on a contiguous layout of the B x 1 grid
 * over all ranks (2 ranks: blocks 0-7 on rank 0, 8-15 on rank 1); block i an
 * sj_op_dense made on its owner. x is an array of the operator's domain (one
 * block, on the owner of block (0, 0): rank 0), y of its range (block i with
 * block (i, 0)). One timed apply = sj_op_apply (or sj_op_apply_adjoint) +
 * sj_wait(), timed on rank 0.
 *
 * Bytes moved, from the structure (how src/op/block.c applies a block
 * column): forward, x(0) is read by every rank that holds a non-zero block;
 * each such rank other than x's owner receives it once (directly from the
 * owner for 1-2 readers, down a binomial tree of copies for 3 or more: one
 * message per reader either way), so bytes = readers * 8 N. Adjoint, the
 * partials A(i)' y(i) (8 N bytes each) are summed along the pairwise tree
 * over i (stride 1, 2, 4, ...: part[k] += part[k + s]); an addition moves a
 * partial when block k + s and block k have different owners; the first
 * partial is written into x(0) directly when block (0, 0) shares x's owner,
 * else one more message carries the root to x. Minimum, both directions: one
 * message of 8 N bytes per remote rank holding blocks. Measured as well: the
 * bytes StarPU-MPI itself counted (STARPU_COMM_STATS=1, set by this program
 * unless the environment sets it; starpu_mpi_comm_amounts_retrieve summed
 * over the ranks, data payloads only), per apply.
 *
 * Baselines, rank 0 alone (the other ranks asleep in a polled MPI_Ibarrier,
 * StarPU not running), both timed in every round; the faster of the two is
 * the reported baseline of each direction:
 *  - "omp_blocks": an OpenMP loop over the blocks (static schedule, T
 *    threads) with one single-threaded cblas_dgemv per block; the adjoint
 *    accumulates one partial per thread (dgemv with beta = 1) and adds them;
 *  - "blas_threads": the blocks one after the other, each cblas_dgemv on T
 *    OpenBLAS threads (the adjoint accumulates into x with beta = 1).
 *
 * Exactness: entries are small integers, so every result is an exact integer
 * in any summation order; both directions of starjets (gathered on rank 0)
 * and of both baselines must equal plain C loops. Exit status 1 otherwise.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <starpu_mpi.h>

#include "bench.h"

/* ---- baseline ---------------------------------------------------------------------- */

typedef struct tall {
    gemv_t G;     /* first: the baseline apply gets &tall.G */
    double *part; /* threads * n: per-thread partials of the adjoint */
} tall_t;

/* One baseline apply: G->kind (OMP_BLOCKS or BLAS_THREADS) in G->dir. */
static void base_apply(void *arg)
{
    const gemv_t *G = arg;
    const int m = (int)G->m, n = (int)G->n, nb = G->nb;
    if (!G->dir) {
#pragma omp parallel for schedule(static) if (G->kind == OMP_BLOCKS)
        for (int b = 0; b < nb; b++)
            cblas_dgemv(CblasColMajor, CblasNoTrans, m, n, 1.0, G->M[b], m, G->x, 1, 0.0,
                        G->y + (int64_t)b * m, 1);
        return;
    }
    if (G->kind == BLAS_THREADS) {
        for (int b = 0; b < nb; b++)
            cblas_dgemv(CblasColMajor, CblasTrans, m, n, 1.0, G->M[b], m, G->u + (int64_t)b * m, 1,
                        b ? 1.0 : 0.0, G->v, 1);
        return;
    }
    double *part = ((const tall_t *)arg)->part;
#pragma omp parallel
    {
        double *p = part + (int64_t)omp_get_thread_num() * n;
        int first = 1;
#pragma omp for schedule(static)
        for (int b = 0; b < nb; b++) {
            cblas_dgemv(CblasColMajor, CblasTrans, m, n, 1.0, G->M[b], m, G->u + (int64_t)b * m, 1,
                        first ? 0.0 : 1.0, p, 1);
            first = 0;
        }
        if (first)
            memset(p, 0, (size_t)n * sizeof *p);
#pragma omp barrier
#pragma omp for schedule(static)
        for (int64_t k = 0; k < n; k++) {
            double s = 0;
            for (int t = 0; t < omp_get_num_threads(); t++)
                s += part[(int64_t)t * n + k];
            G->v[k] = s;
        }
    }
}

/* The exact results, by plain loops: y(b) = M(b) x, v = sum over b of M(b)' u(b). */
static void reference(gemv_t *G)
{
    const int64_t m = G->m, n = G->n;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < G->nb; b++)
        for (int64_t c = 0; c < n; c++)
            for (int64_t r = 0; r < m; r++)
                G->yref[b * m + r] += G->M[b][r + m * c] * G->x[c];
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < n; c++) {
        double s = 0;
        for (int b = 0; b < G->nb; b++)
            for (int64_t r = 0; r < m; r++)
                s += G->M[b][r + m * c] * G->u[b * m + r];
        G->vref[c] = s;
    }
}

/* ---- bytes moved, from the structure ----------------------------------------------- */

typedef struct bytes {
    double fwd, adj, min_fwd, min_adj;
} bytes_t;

static void structural_bytes(sj_op_t A, int nb, int64_t n, int np, bytes_t *out)
{
    sj_dist_t bd, dd;
    CHECK(sj_op_block_dist(A, &bd));
    CHECK(sj_op_domain(A, NULL, &dd));
    int xown;
    CHECK(sj_dist_owner(dd, 0, &xown));
    int *home = xmalloc((size_t)nb * sizeof *home), *holds = xcalloc((size_t)np, sizeof *holds);
    for (int i = 0; i < nb; i++) {
        CHECK(sj_dist_owner(bd, i, &home[i])); /* block (i, 0) is number i + nb * 0 */
        holds[home[i]] = 1;
    }
    int remote = 0;
    for (int r = 0; r < np; r++)
        remote += holds[r] && r != xown;
    const double msg = 8.0 * (double)n;
    out->fwd = remote * msg;
    out->min_fwd = out->min_adj = remote * msg;
    int moves = 0;
    for (int s = 1; s < nb; s *= 2)
        for (int k = 0; k + s < nb; k += 2 * s)
            moves += home[k + s] != home[k];
    moves += home[0] != xown;
    out->adj = moves * msg;
    free(home);
    free(holds);
}

/* Bytes StarPU-MPI counted as sent by this rank so far (all destinations). */
static double comm_sent(void)
{
    const int np = sj_nranks();
    size_t *amounts = xcalloc((size_t)np, sizeof *amounts);
    starpu_mpi_comm_amounts_retrieve(amounts);
    double s = 0;
    for (int r = 0; r < np; r++)
        s += (double)amounts[r];
    free(amounts);
    return s;
}

/* ---- starjets ---------------------------------------------------------------------- */

typedef struct mkctx {
    int64_t m, n;
    int me;
    sj_space_t dom, rng;
} mkctx_t;

static int make_block(int i, int j, int owner, void *vctx, sj_op_t *block)
{
    const mkctx_t *c = vctx;
    double *M = NULL;
    if (owner == c->me) {
        M = malloc((size_t)(c->m * c->n) * sizeof *M);
        if (!M)
            return SJ_ENOMEM;
        fill_block(M, i, c->m, c->n);
    }
    int rc = sj_op_dense(c->dom, c->rng, owner, M, block);
    free(M);
    return rc;
}

/*
 * The operator: an nb x 1 block column of sj_op_dense blocks (a contiguous
 * layout over all ranks, each block made on its owner); ctx gets the bytes
 * its applies move.
 */
static sj_op_t make_op(const gemv_t *G, void *ctx)
{
    const int me = sj_rank(), np = sj_nranks(), nb = G->nb;
    sj_space_t dom, rng;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){G->n}, NULL, &dom));
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){G->m}, NULL, &rng));
    sj_dist_t dist;
    CHECK(sj_dist_create_contiguous(2, (int[]){nb, 1}, np, NULL, NULL, &dist));
    mkctx_t mk = {.m = G->m, .n = G->n, .me = me, .dom = dom, .rng = rng};
    sj_op_t A;
    CHECK(sj_op_block_create_fn(nb, 1, dist, make_block, &mk, sizeof mk, &A));
    sj_op_block_kind_t kind;
    CHECK(sj_op_block_kind(A, &kind));
    if (kind != SJ_OP_BLOCK_TALL && me == 0)
        fprintf(stderr, "bench_blockop_tall: the operator was not recognised as tall (%d)\n",
                (int)kind);
    structural_bytes(A, nb, G->n, np, ctx);
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&dom));
    CHECK(sj_space_destroy(&rng));
    return A;
}

int main(int argc, char **argv)
{
    int64_t m = 1024, n = 4096;
    int nb = 16;
    bench_t bt = {.iters = 20, .warm = 3, .rounds = 3};
    bench_opt_t opt[] = {OPT('m', m, "block_rows"), OPT('n', n, "columns"), OPT('b', nb, "blocks"),
                         BENCH_OPTS(bt)};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || !bench_valid(&bt) || m < 1 || n < 1 ||
        m * n > ((int64_t)1 << 28) || nb < 2 || nb > 4096)
        return bench_usage(argv[0], opt, NOPT(opt));
    setenv("STARPU_COMM_STATS", "1", 0); /* read by starpu_mpi_init (in sj_init) */
    bench_start(&bt, &argc, &argv);
    tall_t T = {0};
    gemv_alloc(&T.G, bt.me, nb, m, n, n, (int64_t)nb * m);
    if (bt.me == 0) {
        T.part = xmalloc((size_t)(bt.threads * n) * sizeof(double));
        reference(&T.G);
    }
    const gemv_bench_t gb = {base_apply, make_op, comm_sent, 1};
    bytes_t by = {0};
    dirs_t d;
    gemv_res_t res = {0};
    const int64_t anybad = gemv_rounds(&bt, &T.G, &gb, &by, &argc, &argv, &d, &res);
    if (bt.me == 0) {
        const double mbytes = 8.0 * (double)nb * (double)m * (double)n;
        const double vbytes = 8.0 * ((double)n + (double)nb * (double)m);
        printf("{\"bench\":\"blockop_tall\",\"block_rows\":%lld,\"columns\":%lld,\"blocks\":%d,"
               "\"matrix_MiB\":%.0f,\"ranks\":%d,\"iterations\":%d,\"warmups\":%d,\"rounds\":%d,"
               "\"threads\":%d,",
               (long long)m, (long long)n, nb, mbytes / 1048576.0, bt.np, bt.iters, bt.warm,
               bt.rounds, bt.threads);
        print_blas_core();
        print_gemv(&d, &res, &bt, mbytes + vbytes);
        printf(
            "\"bytes_fwd\":%.0f,\"bytes_adj\":%.0f,\"bytes_min_fwd\":%.0f,\"bytes_min_adj\":%.0f,"
            "\"bytes_fwd_over_min\":%.3g,\"bytes_adj_over_min\":%.3g,"
            "\"starpu_mpi_bytes_fwd\":%.0f,\"starpu_mpi_bytes_adj\":%.0f,",
            by.fwd, by.adj, by.min_fwd, by.min_adj, by.min_fwd > 0 ? by.fwd / by.min_fwd : 1.0,
            by.min_adj > 0 ? by.adj / by.min_adj : 1.0, res.sent[0], res.sent[1]);
        printf("\"target\":{\"bytes_over_min\":1,\"ratio\":0.85},\"pin_main\":%s,"
               "\"idle_workers\":%s,\"load1_start\":%.2f,\"load1_end\":%.2f,\"correct\":%s}\n",
               json_bool(bt.pin_main), json_bool(bt.idle_workers), bt.load_start, load1(),
               json_bool(!anybad));
        fflush(stdout);
    }
    gemv_free(&T.G, &res);
    free(T.part);
    MPI_Finalize();
    return anybad ? 1 : 0;
}
