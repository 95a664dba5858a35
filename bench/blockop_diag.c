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
 * -i I (timed applies per direction, 20), -w W (warm-ups, 3), -R R (rounds,
 * 3), -t T (threads of the baseline, default: the cores rank 0 may use),
 * -k K (applies per sj_wait, 1: the time per apply is then the time of K
 * applies and one wait, divided by K), -v (per-round lines, per-iteration
 * times and per-thread CPU / wait-for-a-core times on stderr), -p / -s
 * (experiments: pin the application thread to its rank's worker cores / run
 * the StarPU workers under SCHED_IDLE).
 *
 * starjets: the blocks are split between the ranks by a contiguous 1-D layout
 * of the diagonal (sj_op_block_diag), each block made on its owner with
 * sj_op_dense; x and y are arrays of the operator's domain and range layouts
 * (sj_op_domain, sj_op_range), so an apply moves no data: one dgemv task per
 * block on its owner. One timed apply = sj_op_apply (or sj_op_apply_adjoint)
 * followed by sj_wait(), timed on rank 0 (sj_wait ends with a barrier).
 *
 * Baselines, rank 0 alone while the other ranks sleep (StarPU not running),
 * both measured in every round:
 *  - "omp_blocks": an OpenMP loop over the blocks (static schedule, T threads),
 *    one single-threaded cblas_dgemv per block;
 *  - "blas_threads": the blocks one after the other, each cblas_dgemv on T
 *    OpenBLAS threads.
 * The reported baseline of each direction is the faster of the two (median
 * over rounds); both are in the JSON.
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
 *
 * Order of events in a round, so that no spinning StarPU thread disturbs the
 * baseline: baseline on rank 0 (the others wait asleep in a polled
 * MPI_Ibarrier), then sj_init, the starjets applies, sj_finalize.
 * OpenBLAS's thread count is set explicitly for each baseline (sj_init sets it
 * to 1 and restores it at sj_finalize).
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
        fprintf(stderr, "bench_blockop_diag: out of memory (%zu bytes)\n", bytes);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return p;
}

/* Entries: small integers, so that every result is exact. */
static inline double mat_entry(int b, int64_t r, int64_t c)
{
    return (double)((r * 3 + c * 7 + (int64_t)b * 11) % 9) - 4.0;
}
static inline double vec_entry(int64_t k, int which)
{
    return (double)((k * 5 + which * 3) % 7) - 3.0;
}

static void fill_block(double *M, int b, int64_t n)
{
    for (int64_t c = 0; c < n; c++)
        for (int64_t r = 0; r < n; r++)
            M[r + n * c] = mat_entry(b, r, c);
}


/* ---- experiments: placement of the application thread, workers' policy ----------- */

/* worker_cpus, experiments, thr_snapshot, thr_report: bench_threads.h */

/* ---- baseline ---------------------------------------------------------------------- */

typedef struct base {
    int nb;
    int64_t n;
    double **M;          /* nb matrices */
    double *x, *u;       /* forward input, adjoint input (nb*n) */
    double *y, *v;       /* forward output, adjoint output */
} base_t;

/* One apply of one kind: 0 = omp_blocks, 1 = blas_threads; dir 0 forward, 1 adjoint. */
static void base_apply(const base_t *B, int kind, int dir)
{
    const int64_t n = B->n;
    const enum CBLAS_TRANSPOSE tr = dir ? CblasTrans : CblasNoTrans;
    const double *in = dir ? B->u : B->x;
    double *out = dir ? B->v : B->y;
    if (kind == 0) {
#pragma omp parallel for schedule(static)
        for (int b = 0; b < B->nb; b++)
            cblas_dgemv(CblasColMajor, tr, (int)n, (int)n, 1.0, B->M[b], (int)n, in + b * n, 1,
                        0.0, out + b * n, 1);
    } else {
        for (int b = 0; b < B->nb; b++)
            cblas_dgemv(CblasColMajor, tr, (int)n, (int)n, 1.0, B->M[b], (int)n, in + b * n, 1,
                        0.0, out + b * n, 1);
    }
}

static double time_base(const base_t *B, int kind, int dir, int threads, int warm, int iters,
                        double *t)
{
    openblas_set_num_threads(kind == 0 ? 1 : threads);
    omp_set_num_threads(threads);
    for (int it = 0; it < warm + iters; it++) {
        double t0 = omp_get_wtime();
        base_apply(B, kind, dir);
        double dt = omp_get_wtime() - t0;
        if (it >= warm)
            t[it - warm] = dt;
    }
    return median(t, iters);
}

/* The exact results, by plain loops. */
static void reference(const base_t *B, double *yref, double *vref)
{
    const int64_t n = B->n;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B->nb; b++) {
        const double *M = B->M[b];
        double *y = yref + b * n, *v = vref + b * n;
        const double *x = B->x + b * n, *u = B->u + b * n;
        for (int64_t r = 0; r < n; r++)
            y[r] = 0;
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

static int64_t count_diff(const double *a, const double *b, int64_t len)
{
    int64_t bad = 0;
    for (int64_t k = 0; k < len; k++)
        bad += a[k] != b[k];
    return bad;
}

/* ---- starjets ---------------------------------------------------------------------- */

typedef struct mkctx {
    int64_t n;
    int me;
    sj_space_t sp;
} mkctx_t;

static int init_vec(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)in;
    const int which = *(const int *)ctx;
    double *o = out;
    for (int64_t k = 0; k < blk->nelems; k++)
        o[k] = vec_entry(blk->lo[0] + k, which);
    return 0;
}

typedef struct sjres {
    double fwd_s, adj_s;
    double faults[2]; /* minor page faults per apply on this rank, forward and adjoint */
    int ncpus;
} sjres_t;

static void run_starjets(sjres_t *res, int nb, int64_t n, int warm, int iters, int batch,
                         int verbose, double *yout, double *vout)
{
    const int me = sj_rank();
    sj_space_t sp;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, NULL, &sp));
    sj_dist_t d1;
    CHECK(sj_dist_create_contiguous(1, &nb, 0, NULL, NULL, &d1));
    sj_op_t *blocks = calloc((size_t)nb, sizeof *blocks);
    double *M = NULL;
    for (int b = 0; b < nb; b++) {
        int owner;
        CHECK(sj_dist_owner(d1, b, &owner));
        if (owner == me) {
            if (!M)
                M = xmalloc((size_t)(n * n) * sizeof *M);
            fill_block(M, b, n);
        }
        CHECK(sj_op_dense(sp, sp, owner, owner == me ? M : NULL, &blocks[b]));
    }
    free(M);
    sj_op_t A;
    CHECK(sj_op_block_diag(nb, blocks, d1, &A));
    for (int b = 0; b < nb; b++)
        CHECK(sj_op_destroy(&blocks[b]));
    free(blocks);

    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    CHECK(sj_op_domain(A, &ds, &dd));
    CHECK(sj_op_range(A, &rs, &rd));
    sj_array_t x, y, u, v;
    int which0 = 0, which1 = 1;
    CHECK(sj_array_create_init(ds, dd, init_vec, &which0, sizeof which0, &x));
    CHECK(sj_array_zeros(rs, rd, &y));
    CHECK(sj_array_create_init(rs, rd, init_vec, &which1, sizeof which1, &u));
    CHECK(sj_array_zeros(ds, dd, &v));
    CHECK(sj_wait());

    double *t = malloc((size_t)iters * sizeof *t);
    for (int dir = 0; dir < 2; dir++) {
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
            for (int k = 0; k < batch; k++)
                CHECK(dir ? sj_op_apply_adjoint(A, u, v) : sj_op_apply(A, x, y));
            CHECK(sj_wait());
            double dt = (MPI_Wtime() - t0) / batch;
            if (it >= warm)
                t[it - warm] = dt;
        }
        res->faults[dir] = (double)(minor_faults() - f0) / ((double)iters * batch);
        if (verbose) {
            int n1 = thr_snapshot(s1, MAX_THR);
            thr_report(dir ? "adjoint" : "forward", me, s0, n0, s1, n1, MPI_Wtime() - w0);
        }
        if (dir)
            res->adj_s = median(t, iters);
        else
            res->fwd_s = median(t, iters);
        if (verbose && me == 0) {
            fprintf(stderr, "  starjets %s ms:", dir ? "adjoint" : "forward");
            for (int it = 0; it < iters; it++)
                fprintf(stderr, " %.1f", t[it] * 1e3);
            fprintf(stderr, "\n");
        }
    }
    res->ncpus = sj_ncpus();
    free(t);
    CHECK(sj_array_gather(y, 0, yout));
    CHECK(sj_array_gather(v, 0, vout));
    CHECK(sj_array_destroy(&x));
    CHECK(sj_array_destroy(&y));
    CHECK(sj_array_destroy(&u));
    CHECK(sj_array_destroy(&v));
    CHECK(sj_op_destroy(&A));
    CHECK(sj_dist_destroy(&d1));
    CHECK(sj_space_destroy(&sp));
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-n block_rows] [-b blocks] [-i iterations] [-w warmups] [-R rounds]"
            " [-t threads] [-k applies_per_wait] [-v] [-p] [-s]\n",
            prog);
}

static void print_array(const char *key, const double *v, int n)
{
    printf("\"%s\":[", key);
    for (int i = 0; i < n; i++)
        printf("%s%.4g", i ? "," : "", v[i]);
    printf("],");
}

int main(int argc, char **argv)
{
    int64_t n = 2048;
    int nb = 8, iters = 20, warm = 3, rounds = 3, threads = 0, verbose = 0, opt;
    int batch = 1, pin_main = 0, idle_workers = 0;
    while ((opt = getopt(argc, argv, "n:b:i:w:R:t:k:vpsh")) != -1) {
        switch (opt) {
        case 'n': n = strtoll(optarg, NULL, 0); break;
        case 'b': nb = atoi(optarg); break;
        case 'i': iters = atoi(optarg); break;
        case 'w': warm = atoi(optarg); break;
        case 'R': rounds = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'k': batch = atoi(optarg); break;
        case 'v': verbose = 1; break;
        case 'p': pin_main = 1; break;
        case 's': idle_workers = 1; break;
        default: usage(argv[0]); return 2;
        }
    }
    if (n < 1 || n > 40000 || nb < 1 || nb > 4096 || iters < 1 || warm < 0 || rounds < 1 ||
        rounds > 64 || batch < 1) {
        usage(argv[0]);
        return 2;
    }
    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    double load0[3] = {-1, -1, -1}, load1[3] = {-1, -1, -1};
    getloadavg(load0, 3);

    const int64_t len = (int64_t)nb * n;
    base_t B = {.nb = nb, .n = n};
    double *yref = NULL, *vref = NULL, *ysj = NULL, *vsj = NULL;
    if (me == 0) {
        if (threads <= 0) {
            cpu_set_t set;
            threads = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 2;
        }
        omp_set_num_threads(threads);
        B.M = calloc((size_t)nb, sizeof *B.M);
        for (int b = 0; b < nb; b++)
            B.M[b] = xmalloc((size_t)(n * n) * sizeof(double));
#pragma omp parallel for schedule(static)
        for (int b = 0; b < nb; b++)
            fill_block(B.M[b], b, n);
        B.x = xmalloc((size_t)len * sizeof(double));
        B.u = xmalloc((size_t)len * sizeof(double));
        B.y = xmalloc((size_t)len * sizeof(double));
        B.v = xmalloc((size_t)len * sizeof(double));
        yref = xmalloc((size_t)len * sizeof(double));
        vref = xmalloc((size_t)len * sizeof(double));
        ysj = xmalloc((size_t)len * sizeof(double));
        vsj = xmalloc((size_t)len * sizeof(double));
        for (int64_t k = 0; k < len; k++) {
            B.x[k] = vec_entry(k, 0);
            B.u[k] = vec_entry(k, 1);
            B.y[k] = B.v[k] = 0;
        }
        reference(&B, yref, vref);
    }

    /* per round: [kind][dir] baseline medians, starjets medians */
    double bt[2][2][64], sf[64], sa[64];
    int64_t bad = 0;
    int ncpus = 0;
    double faults[2] = {0, 0};
    for (int r = 0; r < rounds; r++) {
        if (me == 0) {
            double *t = malloc((size_t)iters * sizeof *t);
            for (int kind = 0; kind < 2; kind++)
                for (int dir = 0; dir < 2; dir++) {
                    bt[kind][dir][r] = time_base(&B, kind, dir, threads, warm, iters, t);
                    int64_t e = count_diff(dir ? B.v : B.y, dir ? vref : yref, len);
                    if (e)
                        fprintf(stderr, "bench_blockop_diag: baseline %s %s: %lld wrong\n",
                                kind ? "blas_threads" : "omp_blocks", dir ? "adjoint" : "forward",
                                (long long)e);
                    bad += e;
                }
            free(t);
        }
        quiet_barrier();

        sj_init_options_t opts;
        sj_init_options_default(&opts);
        cpu_set_t saved;
        sched_getaffinity(0, sizeof saved, &saved);
        CHECK(sj_init(&argc, &argv, &opts));
        sjres_t res = {0};
        experiments(pin_main, idle_workers);
        run_starjets(&res, nb, n, warm, iters, batch, verbose, ysj, vsj);
        CHECK(sj_finalize());
        sched_setaffinity(0, sizeof saved, &saved);
        sf[r] = res.fwd_s;
        sa[r] = res.adj_s;
        ncpus = res.ncpus;
        faults[0] = res.faults[0];
        faults[1] = res.faults[1];
        if (me == 0) {
            int64_t e1 = count_diff(ysj, yref, len), e2 = count_diff(vsj, vref, len);
            if (e1 || e2)
                fprintf(stderr, "bench_blockop_diag: starjets: %lld wrong forward, %lld wrong "
                                "adjoint elements\n",
                        (long long)e1, (long long)e2);
            bad += e1 + e2;
            if (verbose)
                fprintf(stderr,
                        "round %d: forward: starjets %.3f ms, omp_blocks %.3f ms, blas_threads "
                        "%.3f ms; adjoint: starjets %.3f ms, omp_blocks %.3f ms, blas_threads "
                        "%.3f ms\n",
                        r, sf[r] * 1e3, bt[0][0][r] * 1e3, bt[1][0][r] * 1e3, sa[r] * 1e3,
                        bt[0][1][r] * 1e3, bt[1][1][r] * 1e3);
        }
    }
    int64_t anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    int *all_ncpus = me == 0 ? malloc((size_t)np * sizeof(int)) : NULL;
    MPI_Gather(&ncpus, 1, MPI_INT, all_ncpus, 1, MPI_INT, 0, MPI_COMM_WORLD);
    double *all_faults = me == 0 ? malloc((size_t)np * 2 * sizeof(double)) : NULL;
    MPI_Gather(faults, 2, MPI_DOUBLE, all_faults, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    getloadavg(load1, 3);

    if (me == 0) {
        const double bytes = 8.0 * (double)nb * ((double)n * (double)n + 2.0 * (double)n);
        double med[2][2], base_s[2], ratio_r[2][64], sjs[2] = {median(sf, rounds),
                                                             median(sa, rounds)};
        int pick[2];
        for (int kind = 0; kind < 2; kind++)
            for (int dir = 0; dir < 2; dir++)
                med[kind][dir] = median(bt[kind][dir], rounds);
        for (int dir = 0; dir < 2; dir++) {
            pick[dir] = med[1][dir] < med[0][dir];
            base_s[dir] = med[pick[dir]][dir];
            for (int r = 0; r < rounds; r++)
                ratio_r[dir][r] = bt[pick[dir]][dir][r] / (dir ? sa[r] : sf[r]);
        }
        static const char *kname[] = {"omp_blocks", "blas_threads"};
        printf("{\"bench\":\"blockop_diag\",\"block_rows\":%lld,\"blocks\":%d,\"matrix_MiB\":%.0f,"
               "\"ranks\":%d,\"iterations\":%d,\"warmups\":%d,\"rounds\":%d,\"threads\":%d,",
               (long long)n, nb, 8.0 * nb * (double)n * (double)n / 1048576.0, np, iters, warm,
               rounds, threads);
        printf("\"starjets_fwd_s\":%.6g,\"starjets_adj_s\":%.6g,\"baseline_fwd_s\":%.6g,"
               "\"baseline_adj_s\":%.6g,\"baseline_fwd\":\"%s\",\"baseline_adj\":\"%s\",",
               sjs[0], sjs[1], base_s[0], base_s[1], kname[pick[0]], kname[pick[1]]);
        printf("\"omp_blocks_fwd_s\":%.6g,\"omp_blocks_adj_s\":%.6g,\"blas_threads_fwd_s\":%.6g,"
               "\"blas_threads_adj_s\":%.6g,",
               med[0][0], med[0][1], med[1][0], med[1][1]);
        printf("\"starjets_fwd_GBps\":%.4g,\"starjets_adj_GBps\":%.4g,\"baseline_fwd_GBps\":%.4g,"
               "\"baseline_adj_GBps\":%.4g,",
               bytes / sjs[0] * 1e-9, bytes / sjs[1] * 1e-9, bytes / base_s[0] * 1e-9,
               bytes / base_s[1] * 1e-9);
        printf("\"ratio_fwd\":%.4f,\"ratio_adj\":%.4f,\"target\":0.85,", base_s[0] / sjs[0],
               base_s[1] / sjs[1]);
        print_array("ratio_fwd_per_round", ratio_r[0], rounds);
        print_array("ratio_adj_per_round", ratio_r[1], rounds);
        printf("\"applies_per_wait\":%d,\"pin_main\":%s,\"idle_workers\":%s,\"SJ_PLACEMENT\":\"%s\",",
               batch, pin_main ? "true" : "false", idle_workers ? "true" : "false",
               getenv("SJ_PLACEMENT") ? getenv("SJ_PLACEMENT") : "-");
        printf("\"ncpus_per_rank\":[");
        for (int i = 0; i < np; i++)
            printf("%s%d", i ? "," : "", all_ncpus[i]);
        printf("],\"minor_faults_per_apply\":[");
        for (int i = 0; i < np; i++)
            printf("%s[%.0f,%.0f]", i ? "," : "", all_faults[2 * i], all_faults[2 * i + 1]);
        printf("],\"load1_start\":%.2f,\"load1_end\":%.2f,\"correct\":%s}\n", load0[0], load1[0],
               anybad ? "false" : "true");
        fflush(stdout);
        for (int b = 0; b < nb; b++)
            free(B.M[b]);
        free(B.M);
        free(B.x);
        free(B.u);
        free(B.y);
        free(B.v);
        free(yref);
        free(vref);
        free(ysj);
        free(vsj);
        free(all_ncpus);
        free(all_faults);
    }
    MPI_Finalize();
    return anybad ? 1 : 0;
}
