/*
 * bench_blockop_gemm: dense tiled GEMM C = A B as a block operator, on the
 * ranks of the run (2 ranks x 1 CPU worker each by default), against one
 * OpenBLAS dgemm in one process on T threads measured in the same run on the
 * same cores.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --bind-to none ./bench_blockop_gemm [options]
 *
 * Options: -n N (matrix order, default 4096), -b P (tiles per dimension,
 * default 2), -g RxC (process grid of the contiguous tile layout, default
 * 2x1), -A (every configuration P in {2, 4} x grid in {2x1, 1x2}, each timed
 * in every round against the same baseline), and those of every operator
 * benchmark (common/bench.h): -i I (timed products, 3), -w W (warm-ups, 1),
 * -R R (rounds, 3), -t T (threads of the baseline, default: the cores rank 0
 * may use), -v (per-round lines and per-thread CPU use on stderr), -p / -s
 * (experiments: pin the application thread to its rank's worker cores / run
 * the StarPU workers under SCHED_IDLE).
 *
 * starjets: A is a P x P grid of tiles (N/P x N/P, column-major), tile (i, j)
 * an sj_op_dense with domain and range the 2-D space (N/P, N) made on its
 * owner under a contiguous layout of the tile grid over an RxC process grid
 * (sj_op_block_create_fn): applied to block j of B (rows j*N/P.., N/P x N,
 * column-major) it runs one dgemm and gives a partial of block row i of C.
 * B and C are arrays of the operator's domain and range (sj_op_domain,
 * sj_op_range): block j of B lives with tile (0, j), block i of C with tile
 * (i, 0). The block apply moves B blocks to the ranks of the other tiles of
 * their column and sums each row's partials along its tree. One timed product
 * = sj_op_apply(A, B, C) + sj_wait(), timed on rank 0.
 *
 * Baseline: rank 0 alone (the other ranks asleep in a polled MPI_Ibarrier,
 * StarPU not running), cblas_dgemm on the whole matrices with
 * openblas_set_num_threads(T).
 *
 * Exactness: entries of A and B are small pseudo-random integers, so every
 * entry of C is an exact integer (|C| < 2^53) in any summation order: the
 * starjets C (gathered on rank 0) must equal the baseline's C exactly, and
 * 4096 sampled entries of the baseline's C are recomputed by plain dot
 * products. Exit status 1 otherwise.
 *
 * Rate: 2 N^3 flops per product; ratio = baseline time / starjets time. Also
 * reported per configuration: minor page faults per product on each rank (a
 * freshly mapped buffer costs one per 4 KiB page); and the OpenBLAS kernel
 * both sides ran (blas_core; bench/run picks the fastest correct one).
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"

/* Small pseudo-random integers: A in [-4, 4], B in [-3, 3]. */
static inline double a_entry(int64_t r, int64_t c)
{
    uint64_t h = (uint64_t)r * 0x9E3779B97F4A7C15ull ^
                 ((uint64_t)c + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return (double)((h >> 33) % 9) - 4.0;
}
static inline double b_entry(int64_t r, int64_t c)
{
    uint64_t h =
        (uint64_t)c * 0x9E3779B97F4A7C15ull ^ ((uint64_t)r + 0x1234567ull) * 0xD6E8FEB86659FD93ull;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBull;
    return (double)((h >> 35) % 7) - 3.0;
}

/* ---- baseline ----------------------------------------------------------------------- */

typedef struct mats {
    int64_t n;
    double *a, *b, *c; /* n x n, column-major: C = A B */
} mats_t;

static void dgemm_step(void *arg)
{
    const mats_t *m = arg;
    const int n = (int)m->n;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, m->a, n, m->b, n, 0.0,
                m->c, n);
}

/* 4096 entries of the baseline's C recomputed by plain dot products; the wrong ones. */
static int64_t check_sampled(const mats_t *m)
{
    const int64_t n = m->n;
    int64_t e = 0;
    for (int k = 0; k < 4096; k++) {
        int64_t i = ((int64_t)k * 7919) % n, j = ((int64_t)k * 104729 + 17) % n;
        double s = 0;
        for (int64_t l = 0; l < n; l++)
            s += m->a[i + n * l] * m->b[l + n * j];
        e += s != m->c[i + n * j];
    }
    if (e)
        fprintf(stderr, "bench_blockop_gemm: baseline: %lld of 4096 sampled entries wrong\n",
                (long long)e);
    return e;
}

/* ---- starjets ------------------------------------------------------------------------ */

typedef struct config {
    int p;      /* tiles per dimension */
    int gr, gc; /* process grid */
} config_t;

typedef struct mkctx {
    int64_t n;
    int p, me;
    sj_space_t tile_space;
} mkctx_t;

static int make_tile(int i, int j, int owner, void *vctx, sj_op_t *block)
{
    const mkctx_t *c = vctx;
    const int64_t nb = c->n / c->p;
    double *M = NULL;
    if (owner == c->me) {
        M = malloc((size_t)(nb * nb) * sizeof *M);
        if (!M)
            return SJ_ENOMEM;
        for (int64_t cc = 0; cc < nb; cc++)
            for (int64_t r = 0; r < nb; r++)
                M[r + nb * cc] = a_entry(i * nb + r, j * nb + cc);
    }
    int rc = sj_op_dense(c->tile_space, c->tile_space, owner, M, block);
    free(M);
    return rc;
}

/* Block j of B: rows j*nb .. (j+1)*nb - 1, nb x n column-major (ctx: nb). */
static int init_b(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    const int64_t nb = *(const int64_t *)ctx;
    double *o = out;
    const int64_t r0 = (int64_t)blk->block * nb;
    for (int64_t e = 0; e < blk->nelems; e++)
        o[e] = b_entry(r0 + e % nb, e / nb);
    return 0;
}

typedef struct sjres {
    double s;      /* median time of one product */
    double faults; /* minor page faults per product on this rank */
    int64_t wrong; /* entries of C that differ from the baseline's (rank 0) */
    int ncpus;
} sjres_t;

/* One configuration of one round: C = A B, timed; C compared with the baseline's exactly. */
static void run_starjets(const bench_t *bt, sjres_t *res, const config_t *cf, const mats_t *ref,
                         double *cbuf)
{
    const int me = sj_rank(), np = sj_nranks(), p = cf->p;
    const int64_t n = ref->n, nb = n / p;
    sj_space_t ts;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){nb, n}, NULL, &ts));
    sj_dist_t dist;
    CHECK(sj_dist_create_contiguous(2, (int[]){p, p}, np, NULL, (int[]){cf->gr, cf->gc}, &dist));
    mkctx_t mk = {.n = n, .p = p, .me = me, .tile_space = ts};
    sj_op_t A;
    CHECK(sj_op_block_create_fn(p, p, dist, make_tile, &mk, sizeof mk, &A));
    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    CHECK(sj_op_domain(A, &ds, &dd));
    CHECK(sj_op_range(A, &rs, &rd));
    sj_array_t B, C;
    CHECK(sj_array_create_init(ds, dd, init_b, &nb, sizeof nb, &B));
    CHECK(sj_array_zeros(rs, rd, &C));
    CHECK(sj_wait());

    char what[64];
    snprintf(what, sizeof what, "p=%d grid %dx%d", p, cf->gr, cf->gc);
    op_step_t st = {A, B, C, 0, 1};
    res->s = sj_time_steps(bt, what, bt->warm, op_step, &st, &res->faults);
    res->ncpus = sj_ncpus();

    CHECK(sj_array_gather(C, 0, cbuf));
    res->wrong = 0;
    if (me == 0)
        for (int i = 0; i < p; i++)
            for (int64_t c = 0; c < n; c++)
                for (int64_t r = 0; r < nb; r++)
                    res->wrong +=
                        cbuf[(int64_t)i * nb * n + r + nb * c] != ref->c[i * nb + r + n * c];
    CHECK(sj_array_destroy(&B));
    CHECK(sj_array_destroy(&C));
    CHECK(sj_op_destroy(&A));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&ts));
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    int64_t n = 4096;
    int all = 0, grid[2] = {2, 1};
    config_t one = {.p = 2};
    bench_t bt = {.iters = 3, .warm = 1, .rounds = 3};
    bench_opt_t opt[] = {OPT('n', n, "order"), OPT('b', one.p, "tiles_per_dim"),
                         OPT_GRID('g', grid, "RxC"), OPT_FLAG('A', all), BENCH_OPTS(bt)};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || !bench_valid(&bt) || n < 2)
        return bench_usage(argv[0], opt, NOPT(opt));
    one.gr = grid[0];
    one.gc = grid[1];
    config_t cfs[4] = {one};
    int ncf = 1;
    if (all) {
        const int ps[2] = {2, 4}, grids[2][2] = {{2, 1}, {1, 2}};
        for (int a = 0, k = 0; a < 2; a++)
            for (int g = 0; g < 2; g++)
                cfs[k++] = (config_t){.p = ps[a], .gr = grids[g][0], .gc = grids[g][1]};
        ncf = 4;
    }
    for (int k = 0; k < ncf; k++)
        if (cfs[k].p < 1 || n % cfs[k].p || cfs[k].gr < 1 || cfs[k].gc < 1 ||
            cfs[k].gr > cfs[k].p || cfs[k].gc > cfs[k].p) {
            fprintf(stderr, "bench_blockop_gemm: bad configuration p=%d grid %dx%d for n=%lld\n",
                    cfs[k].p, cfs[k].gr, cfs[k].gc, (long long)n);
            return 2;
        }
    bench_start(&bt, &argc, &argv);
    for (int k = 0; k < ncf; k++)
        if (cfs[k].gr * cfs[k].gc != bt.np) {
            if (bt.me == 0)
                fprintf(stderr, "bench_blockop_gemm: the grid %dx%d needs %d ranks, not %d\n",
                        cfs[k].gr, cfs[k].gc, cfs[k].gr * cfs[k].gc, bt.np);
            MPI_Finalize();
            return 2;
        }

    const size_t nn = (size_t)(n * n);
    mats_t mm = {.n = n};
    double *cbuf = NULL;
    if (bt.me == 0) {
        mm.a = xmalloc(nn * sizeof *mm.a);
        mm.b = xmalloc(nn * sizeof *mm.b);
        mm.c = xcalloc(nn, sizeof *mm.c);
        cbuf = xcalloc(nn, sizeof *cbuf);
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < n; i++) {
                mm.a[i + n * j] = a_entry(i, j);
                mm.b[i + n * j] = b_entry(i, j);
            }
    }

    double base[MAX_ROUNDS], sjt[4][MAX_ROUNDS], faults[4] = {0};
    int ncpus = 0;
    int64_t bad = 0, wrong_cf[4] = {0};
    for (int r = 0; r < bt.rounds; r++) {
        if (bt.me == 0) {
            double *t = xmalloc((size_t)bt.iters * sizeof *t);
            openblas_set_num_threads(bt.threads);
            base[r] = time_steps(bt.warm, bt.iters, dgemm_step, &mm, t);
            free(t);
            if (r == 0)
                bad += check_sampled(&mm);
        }
        quiet_barrier();

        for (int k = 0; k < ncf; k++) {
            bench_session_t s;
            bench_session_begin(&s, &bt, &argc, &argv);
            sjres_t res;
            run_starjets(&bt, &res, &cfs[k], &mm, cbuf);
            bench_session_end(&s);
            sjt[k][r] = res.s;
            ncpus = res.ncpus;
            if (bt.me == 0 && res.wrong)
                fprintf(stderr, "bench_blockop_gemm: p=%d grid %dx%d: %lld entries of C wrong\n",
                        cfs[k].p, cfs[k].gr, cfs[k].gc, (long long)res.wrong);
            wrong_cf[k] += res.wrong;
            faults[k] = res.faults;
            bad += res.wrong;
            if (bt.verbose && bt.me == 0)
                fprintf(stderr,
                        "round %d: p=%d grid %dx%d: starjets %.3f s, dgemm %.3f s, ratio %.3f\n", r,
                        cfs[k].p, cfs[k].gr, cfs[k].gc, sjt[k][r], base[r], base[r] / sjt[k][r]);
            quiet_barrier();
        }
    }
    const int64_t anybad = sum_ranks(bad);
    int *all_ncpus = gather(&ncpus, 1, MPI_INT);
    double *all_faults = gather(faults, 4, MPI_DOUBLE);

    if (bt.me == 0) {
        const double flops = 2.0 * (double)n * (double)n * (double)n;
        const double bs = median(base, bt.rounds);
        double med[4], ratio[4][MAX_ROUNDS];
        int best = 0;
        for (int k = 0; k < ncf; k++) {
            med[k] = median(sjt[k], bt.rounds);
            best = med[k] < med[best] ? k : best;
            for (int r = 0; r < bt.rounds; r++)
                ratio[k][r] = base[r] / sjt[k][r];
        }
        printf("{\"bench\":\"blockop_gemm\",\"n\":%lld,\"ranks\":%d,\"iterations\":%d,"
               "\"warmups\":%d,\"rounds\":%d,\"threads\":%d,",
               (long long)n, bt.np, bt.iters, bt.warm, bt.rounds, bt.threads);
        print_blas_core();
        printf("\"tiles_per_dim\":%d,\"grid\":\"%dx%d\",\"starjets_s\":%.6g,\"dgemm_s\":%.6g,"
               "\"starjets_GFlops\":%.4g,\"dgemm_GFlops\":%.4g,\"ratio\":%.4f,\"target\":0.90,",
               cfs[best].p, cfs[best].gr, cfs[best].gc, med[best], bs, flops / med[best] * 1e-9,
               flops / bs * 1e-9, bs / med[best]);
        print_array("ratio_per_round", "%.4f", ratio[best], bt.rounds);
        printf("\"configs\":[");
        for (int k = 0; k < ncf; k++) {
            printf("%s{\"tiles_per_dim\":%d,\"grid\":\"%dx%d\",\"starjets_s\":%.6g,\"ratio\":%.4f,",
                   k ? "," : "", cfs[k].p, cfs[k].gr, cfs[k].gc, med[k], bs / med[k]);
            print_array("ratio_per_round", "%.4f", ratio[k], bt.rounds);
            printf("\"minor_faults_per_product\":[");
            for (int i = 0; i < bt.np; i++)
                printf("%s%.0f", i ? "," : "", all_faults[4 * i + k]);
            printf("],\"correct\":%s}", json_bool(!wrong_cf[k]));
        }
        printf("],\"pin_main\":%s,\"idle_workers\":%s,", json_bool(bt.pin_main),
               json_bool(bt.idle_workers));
        print_int_array("ncpus_per_rank", all_ncpus, bt.np);
        printf("\"load1_start\":%.2f,\"load1_end\":%.2f,\"correct\":%s}\n", bt.load_start, load1(),
               json_bool(!anybad));
        fflush(stdout);
    }
    free(mm.a);
    free(mm.b);
    free(mm.c);
    free(cbuf);
    free(all_ncpus);
    free(all_faults);
    MPI_Finalize();
    return anybad ? 1 : 0;
}
