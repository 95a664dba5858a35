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
 * in every round against the same baseline), -i I (timed products, 3), -w W
 * (warm-ups, 1), -R R (rounds, 3), -t T (threads of the baseline, default:
 * the cores rank 0 may use), -v (per-round lines and per-thread CPU use on
 * stderr), -p / -s (experiments: pin the application thread to its rank's
 * worker cores / run the StarPU workers under SCHED_IDLE).
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
 * freshly mapped buffer costs one per 4 KiB page).
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <dirent.h>
#include <mpi.h>
#include <omp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <starjets.h>

#include "bench_threads.h"
#include "bench_util.h"

/* ---- helpers ------------------------------------------------------------------- */

/* Minor page faults of this process so far (a freshly mapped page costs one). */
static long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

static void *xmalloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64)) {
        fprintf(stderr, "bench_blockop_gemm: out of memory (%zu bytes)\n", bytes);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return p;
}



/* ---- experiments: placement of the application thread, workers' policy ----------- */

/* worker_cpus, experiments, thr_snapshot, thr_report: bench_threads.h */

/* ---- data -------------------------------------------------------------------------- */

/* Small pseudo-random integers: A in [-4, 4], B in [-3, 3]. */
static inline double a_entry(int64_t r, int64_t c)
{
    uint64_t h = (uint64_t)r * 0x9E3779B97F4A7C15ull ^ ((uint64_t)c + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return (double)((h >> 33) % 9) - 4.0;
}
static inline double b_entry(int64_t r, int64_t c)
{
    uint64_t h = (uint64_t)c * 0x9E3779B97F4A7C15ull ^ ((uint64_t)r + 0x1234567ull) * 0xD6E8FEB86659FD93ull;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBull;
    return (double)((h >> 35) % 7) - 3.0;
}

/* ---- configurations ------------------------------------------------------------------ */

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

typedef struct initctx {
    int64_t nb;
} initctx_t;

/* Block j of B: rows j*nb .. (j+1)*nb - 1, nb x n column-major. */
static int init_b(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)in;
    const int64_t nb = ((const initctx_t *)ctx)->nb;
    double *o = out;
    const int64_t r0 = (int64_t)blk->block * nb;
    for (int64_t e = 0; e < blk->nelems; e++)
        o[e] = b_entry(r0 + e % nb, e / nb);
    return 0;
}

typedef struct sjres {
    double s;       /* median time of one product */
    double faults;  /* minor page faults per product on this rank */
    int64_t wrong;  /* entries of C that differ from the baseline's (rank 0) */
    int ncpus;
} sjres_t;

static void run_starjets(sjres_t *res, const config_t *cf, int64_t n, int warm, int iters,
                         int verbose, const double *cref, double *cbuf)
{
    const int me = sj_rank(), np = sj_nranks();
    const int p = cf->p;
    const int64_t nb = n / p;
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
    initctx_t ic = {.nb = nb};
    CHECK(sj_array_create_init(ds, dd, init_b, &ic, sizeof ic, &B));
    CHECK(sj_array_zeros(rs, rd, &C));
    CHECK(sj_wait());

    double *t = malloc((size_t)iters * sizeof *t);
    thr_t s0[MAX_THR], s1[MAX_THR];
    int n0 = 0;
    double w0 = 0;
    long f0 = 0;
    for (int it = 0; it < warm + iters; it++) {
        if (it == warm) {
            f0 = minor_faults();
            if (verbose)
                n0 = thr_snapshot(s0, MAX_THR);
            w0 = MPI_Wtime();
        }
        double t0 = MPI_Wtime();
        CHECK(sj_op_apply(A, B, C));
        CHECK(sj_wait());
        double dt = MPI_Wtime() - t0;
        if (it >= warm)
            t[it - warm] = dt;
    }
    res->faults = (double)(minor_faults() - f0) / iters;
    if (verbose) {
        int n1 = thr_snapshot(s1, MAX_THR);
        char what[64];
        snprintf(what, sizeof what, "p=%d grid %dx%d", p, cf->gr, cf->gc);
        thr_report(what, me, s0, n0, s1, n1, MPI_Wtime() - w0);
    }
    res->s = median(t, iters);
    res->ncpus = sj_ncpus();
    free(t);

    /* C against the baseline's, exactly */
    CHECK(sj_array_gather(C, 0, cbuf));
    res->wrong = 0;
    if (me == 0)
        for (int i = 0; i < p; i++)
            for (int64_t c = 0; c < n; c++)
                for (int64_t r = 0; r < nb; r++)
                    res->wrong += cbuf[(int64_t)i * nb * n + r + nb * c] != cref[i * nb + r + n * c];
    CHECK(sj_array_destroy(&B));
    CHECK(sj_array_destroy(&C));
    CHECK(sj_op_destroy(&A));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&ts));
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-n order] [-b tiles_per_dim] [-g RxC] [-A] [-i iterations] [-w warmups]"
            " [-R rounds] [-t threads] [-v] [-p] [-s]\n",
            prog);
}

int main(int argc, char **argv)
{
    int64_t n = 4096;
    int iters = 3, warm = 1, rounds = 3, threads = 0, verbose = 0, all = 0, opt;
    int pin_main = 0, idle_workers = 0;
    config_t one = {.p = 2, .gr = 2, .gc = 1};
    while ((opt = getopt(argc, argv, "n:b:g:Ai:w:R:t:vpsh")) != -1) {
        switch (opt) {
        case 'n': n = strtoll(optarg, NULL, 0); break;
        case 'b': one.p = atoi(optarg); break;
        case 'g':
            if (sscanf(optarg, "%dx%d", &one.gr, &one.gc) != 2) {
                usage(argv[0]);
                return 2;
            }
            break;
        case 'A': all = 1; break;
        case 'i': iters = atoi(optarg); break;
        case 'w': warm = atoi(optarg); break;
        case 'R': rounds = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'v': verbose = 1; break;
        case 'p': pin_main = 1; break;
        case 's': idle_workers = 1; break;
        default: usage(argv[0]); return 2;
        }
    }
    config_t cfs[8];
    int ncf = 0;
    if (all) {
        const int ps[2] = {2, 4}, grids[2][2] = {{2, 1}, {1, 2}};
        for (int a = 0; a < 2; a++)
            for (int g = 0; g < 2; g++)
                cfs[ncf++] = (config_t){.p = ps[a], .gr = grids[g][0], .gc = grids[g][1]};
    } else {
        cfs[ncf++] = one;
    }
    if (n < 2 || iters < 1 || warm < 0 || rounds < 1 || rounds > 64) {
        usage(argv[0]);
        return 2;
    }
    for (int k = 0; k < ncf; k++)
        if (cfs[k].p < 1 || n % cfs[k].p || cfs[k].gr < 1 || cfs[k].gc < 1 ||
            cfs[k].gr > cfs[k].p || cfs[k].gc > cfs[k].p) {
            fprintf(stderr, "bench_blockop_gemm: bad configuration p=%d grid %dx%d for n=%lld\n",
                    cfs[k].p, cfs[k].gr, cfs[k].gc, (long long)n);
            return 2;
        }

    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    for (int k = 0; k < ncf; k++)
        if (cfs[k].gr * cfs[k].gc != np) {
            if (me == 0)
                fprintf(stderr, "bench_blockop_gemm: the grid %dx%d needs %d ranks, not %d\n",
                        cfs[k].gr, cfs[k].gc, cfs[k].gr * cfs[k].gc, np);
            MPI_Finalize();
            return 2;
        }
    double load0[3] = {-1, -1, -1}, load1[3] = {-1, -1, -1};
    getloadavg(load0, 3);

    const size_t nn = (size_t)(n * n);
    double *a = NULL, *b = NULL, *c = NULL, *cbuf = NULL;
    int64_t bad = 0;
    if (me == 0) {
        if (threads <= 0) {
            cpu_set_t set;
            threads = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 2;
        }
        omp_set_num_threads(threads);
        a = xmalloc(nn * sizeof *a);
        b = xmalloc(nn * sizeof *b);
        c = xmalloc(nn * sizeof *c);
        cbuf = xmalloc(nn * sizeof *cbuf);
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < n; i++) {
                a[i + n * j] = a_entry(i, j);
                b[i + n * j] = b_entry(i, j);
                c[i + n * j] = 0;
                cbuf[i + n * j] = 0;
            }
    }

    double base[64], sjt[8][64];
    int ncpus = 0;
    int64_t wrong_cf[8] = {0};
    double faults[8] = {0};
    for (int r = 0; r < rounds; r++) {
        if (me == 0) {
            openblas_set_num_threads(threads);
            double *t = malloc((size_t)iters * sizeof *t);
            for (int it = 0; it < warm + iters; it++) {
                double t0 = omp_get_wtime();
                cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0,
                            a, (int)n, b, (int)n, 0.0, c, (int)n);
                double dt = omp_get_wtime() - t0;
                if (it >= warm)
                    t[it - warm] = dt;
            }
            base[r] = median(t, iters);
            free(t);
            if (r == 0) { /* sampled entries by plain dot products */
                int64_t e = 0;
                for (int k = 0; k < 4096; k++) {
                    int64_t i = ((int64_t)k * 7919) % n, j = ((int64_t)k * 104729 + 17) % n;
                    double s = 0;
                    for (int64_t l = 0; l < n; l++)
                        s += a[i + n * l] * b[l + n * j];
                    e += s != c[i + n * j];
                }
                if (e)
                    fprintf(stderr, "bench_blockop_gemm: baseline: %lld of 4096 sampled entries "
                                    "wrong\n", (long long)e);
                bad += e;
            }
        }
        quiet_barrier();

        for (int k = 0; k < ncf; k++) {
            sj_init_options_t opts;
            sj_init_options_default(&opts);
            cpu_set_t saved;
            sched_getaffinity(0, sizeof saved, &saved);
            CHECK(sj_init(&argc, &argv, &opts));
            experiments(pin_main, idle_workers);
            sjres_t res;
            run_starjets(&res, &cfs[k], n, warm, iters, verbose, c, cbuf);
            CHECK(sj_finalize());
            sched_setaffinity(0, sizeof saved, &saved);
            sjt[k][r] = res.s;
            ncpus = res.ncpus;
            if (me == 0 && res.wrong)
                fprintf(stderr, "bench_blockop_gemm: p=%d grid %dx%d: %lld entries of C wrong\n",
                        cfs[k].p, cfs[k].gr, cfs[k].gc, (long long)res.wrong);
            wrong_cf[k] += res.wrong;
            faults[k] = res.faults;
            bad += res.wrong;
            if (verbose && me == 0)
                fprintf(stderr, "round %d: p=%d grid %dx%d: starjets %.3f s, dgemm %.3f s, ratio %.3f\n",
                        r, cfs[k].p, cfs[k].gr, cfs[k].gc, sjt[k][r], base[r], base[r] / sjt[k][r]);
            quiet_barrier();
        }
    }
    int64_t anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    int *all_ncpus = me == 0 ? malloc((size_t)np * sizeof(int)) : NULL;
    MPI_Gather(&ncpus, 1, MPI_INT, all_ncpus, 1, MPI_INT, 0, MPI_COMM_WORLD);
    double *all_faults = me == 0 ? malloc((size_t)np * 8 * sizeof(double)) : NULL;
    MPI_Gather(faults, 8, MPI_DOUBLE, all_faults, 8, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    getloadavg(load1, 3);

    if (me == 0) {
        const double flops = 2.0 * (double)n * (double)n * (double)n;
        const double bs = median(base, rounds);
        int best = 0;
        double med[8];
        for (int k = 0; k < ncf; k++) {
            med[k] = median(sjt[k], rounds);
            if (med[k] < med[best])
                best = k;
        }
        printf("{\"bench\":\"blockop_gemm\",\"n\":%lld,\"ranks\":%d,\"iterations\":%d,"
               "\"warmups\":%d,\"rounds\":%d,\"threads\":%d,",
               (long long)n, np, iters, warm, rounds, threads);
        printf("\"tiles_per_dim\":%d,\"grid\":\"%dx%d\",\"starjets_s\":%.6g,\"dgemm_s\":%.6g,"
               "\"starjets_GFlops\":%.4g,\"dgemm_GFlops\":%.4g,\"ratio\":%.4f,\"target\":0.90,",
               cfs[best].p, cfs[best].gr, cfs[best].gc, med[best], bs, flops / med[best] * 1e-9,
               flops / bs * 1e-9, bs / med[best]);
        printf("\"ratio_per_round\":[");
        for (int r = 0; r < rounds; r++)
            printf("%s%.4f", r ? "," : "", base[r] / sjt[best][r]);
        printf("],\"configs\":[");
        for (int k = 0; k < ncf; k++) {
            printf("%s{\"tiles_per_dim\":%d,\"grid\":\"%dx%d\",\"starjets_s\":%.6g,\"ratio\":%.4f,"
                   "\"ratio_per_round\":[",
                   k ? "," : "", cfs[k].p, cfs[k].gr, cfs[k].gc, med[k], bs / med[k]);
            for (int r = 0; r < rounds; r++)
                printf("%s%.4f", r ? "," : "", base[r] / sjt[k][r]);
            printf("],\"minor_faults_per_product\":[");
            for (int i = 0; i < np; i++)
                printf("%s%.0f", i ? "," : "", all_faults[8 * i + k]);
            printf("],\"correct\":%s}", wrong_cf[k] ? "false" : "true");
        }
        printf("],\"pin_main\":%s,\"idle_workers\":%s,\"ncpus_per_rank\":[",
               pin_main ? "true" : "false", idle_workers ? "true" : "false");
        for (int i = 0; i < np; i++)
            printf("%s%d", i ? "," : "", all_ncpus[i]);
        printf("],\"load1_start\":%.2f,\"load1_end\":%.2f,\"correct\":%s}\n", load0[0], load1[0],
               anybad ? "false" : "true");
        fflush(stdout);
    }
    free(a);
    free(b);
    free(c);
    free(cbuf);
    free(all_ncpus);
    free(all_faults);
    MPI_Finalize();
    return anybad ? 1 : 0;
}
