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
 * 4096), -b B (row blocks, 16), -i I (timed applies per direction, 20), -w W
 * (warm-ups, 3), -R R (rounds, 3), -t T (threads of the baseline, default:
 * the cores rank 0 may use), -v (per-round lines, per-iteration times and
 * per-thread CPU use on stderr), -p / -s (experiments: pin the application
 * thread to its rank's worker cores / run the StarPU workers under
 * SCHED_IDLE).
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

#include <starpu_mpi.h>

#include <starjets.h>

#include "bench_threads.h"
#include "bench_util.h"

/* ---- helpers ------------------------------------------------------------------- */

static void *xmalloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64)) {
        fprintf(stderr, "bench_blockop_tall: out of memory (%zu bytes)\n", bytes);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return p;
}

/* Minor page faults of this process so far (a freshly mapped page costs one). */
static long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}



/* ---- experiments: placement of the application thread, workers' policy ----------- */

/* worker_cpus, experiments, thr_snapshot, thr_report: bench_threads.h */

/* ---- data ---------------------------------------------------------------------------- */

static inline double mat_entry(int b, int64_t r, int64_t c)
{
    return (double)((r * 3 + c * 7 + (int64_t)b * 11) % 9) - 4.0;
}
static inline double x_entry(int64_t k)
{
    return (double)((k * 5) % 7) - 3.0;
}
static inline double u_entry(int64_t k)
{
    return (double)((k * 5 + 3) % 7) - 3.0;
}

static void fill_block(double *M, int b, int64_t m, int64_t n)
{
    for (int64_t c = 0; c < n; c++)
        for (int64_t r = 0; r < m; r++)
            M[r + m * c] = mat_entry(b, r, c);
}

/* ---- baseline ---------------------------------------------------------------------- */

typedef struct base {
    int nb, threads;
    int64_t m, n;
    double **M;     /* nb blocks, m x n */
    double *x, *u;  /* forward input (n), adjoint input (nb*m) */
    double *y, *v;  /* forward output (nb*m), adjoint output (n) */
    double *part;   /* threads * n: per-thread partials of the adjoint */
} base_t;

static void base_apply(const base_t *B, int kind, int dir)
{
    const int m = (int)B->m, n = (int)B->n, nb = B->nb;
    if (!dir) {
        if (kind == 0) {
#pragma omp parallel for schedule(static)
            for (int b = 0; b < nb; b++)
                cblas_dgemv(CblasColMajor, CblasNoTrans, m, n, 1.0, B->M[b], m, B->x, 1, 0.0,
                            B->y + (int64_t)b * m, 1);
        } else {
            for (int b = 0; b < nb; b++)
                cblas_dgemv(CblasColMajor, CblasNoTrans, m, n, 1.0, B->M[b], m, B->x, 1, 0.0,
                            B->y + (int64_t)b * m, 1);
        }
        return;
    }
    if (kind == 0) {
#pragma omp parallel
        {
            const int t = omp_get_thread_num();
            double *p = B->part + (int64_t)t * n;
            int first = 1;
#pragma omp for schedule(static)
            for (int b = 0; b < nb; b++) {
                cblas_dgemv(CblasColMajor, CblasTrans, m, n, 1.0, B->M[b], m,
                            B->u + (int64_t)b * m, 1, first ? 0.0 : 1.0, p, 1);
                first = 0;
            }
            if (first)
                memset(p, 0, (size_t)n * sizeof *p);
#pragma omp barrier
#pragma omp for schedule(static)
            for (int64_t k = 0; k < n; k++) {
                double s = 0;
                for (int tt = 0; tt < omp_get_num_threads(); tt++)
                    s += B->part[(int64_t)tt * n + k];
                B->v[k] = s;
            }
        }
    } else {
        for (int b = 0; b < nb; b++)
            cblas_dgemv(CblasColMajor, CblasTrans, m, n, 1.0, B->M[b], m, B->u + (int64_t)b * m,
                        1, b ? 1.0 : 0.0, B->v, 1);
    }
}

static double time_base(const base_t *B, int kind, int dir, int warm, int iters, double *t)
{
    openblas_set_num_threads(kind == 0 ? 1 : B->threads);
    omp_set_num_threads(B->threads);
    for (int it = 0; it < warm + iters; it++) {
        double t0 = omp_get_wtime();
        base_apply(B, kind, dir);
        double dt = omp_get_wtime() - t0;
        if (it >= warm)
            t[it - warm] = dt;
    }
    return median(t, iters);
}

static void reference(const base_t *B, double *yref, double *vref)
{
    const int64_t m = B->m, n = B->n;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B->nb; b++) {
        double *y = yref + b * m;
        for (int64_t r = 0; r < m; r++)
            y[r] = 0;
        for (int64_t c = 0; c < n; c++)
            for (int64_t r = 0; r < m; r++)
                y[r] += B->M[b][r + m * c] * B->x[c];
    }
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < n; c++) {
        double s = 0;
        for (int b = 0; b < B->nb; b++)
            for (int64_t r = 0; r < m; r++)
                s += B->M[b][r + m * c] * B->u[b * m + r];
        vref[c] = s;
    }
}

static int64_t count_diff(const double *a, const double *b, int64_t len)
{
    int64_t bad = 0;
    for (int64_t k = 0; k < len; k++)
        bad += a[k] != b[k];
    return bad;
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
    int *home = malloc((size_t)nb * sizeof *home), *holds = calloc((size_t)np, sizeof *holds);
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
static double comm_sent(int np)
{
    size_t *amounts = calloc((size_t)np, sizeof *amounts);
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
    (void)j;
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

static int init_x(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)in;
    const int which = *(const int *)ctx;
    double *o = out;
    for (int64_t k = 0; k < blk->nelems; k++)
        o[k] = which ? u_entry(blk->lo[0] + k) : x_entry(blk->lo[0] + k);
    return 0;
}

typedef struct sjres {
    double s[2];      /* median time per apply: forward, adjoint */
    double sent[2];   /* bytes StarPU-MPI counted as sent by this rank, per apply */
    double faults[2]; /* minor page faults per apply on this rank */
    bytes_t bytes;
    int ncpus;
} sjres_t;

static void run_starjets(sjres_t *res, int nb, int64_t m, int64_t n, int warm, int iters,
                         int verbose, double *yout, double *vout)
{
    const int me = sj_rank(), np = sj_nranks();
    sj_space_t dom, rng;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, NULL, &dom));
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){m}, NULL, &rng));
    sj_dist_t dist;
    CHECK(sj_dist_create_contiguous(2, (int[]){nb, 1}, np, NULL, NULL, &dist));
    mkctx_t mk = {.m = m, .n = n, .me = me, .dom = dom, .rng = rng};
    sj_op_t A;
    CHECK(sj_op_block_create_fn(nb, 1, dist, make_block, &mk, sizeof mk, &A));
    sj_op_block_kind_t kind;
    CHECK(sj_op_block_kind(A, &kind));
    if (kind != SJ_OP_BLOCK_TALL && me == 0)
        fprintf(stderr, "bench_blockop_tall: the operator was not recognised as tall (%d)\n",
                (int)kind);
    structural_bytes(A, nb, n, np, &res->bytes);

    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    CHECK(sj_op_domain(A, &ds, &dd));
    CHECK(sj_op_range(A, &rs, &rd));
    sj_array_t x, y, u, v;
    int w0 = 0, w1 = 1;
    CHECK(sj_array_create_init(ds, dd, init_x, &w0, sizeof w0, &x));
    CHECK(sj_array_zeros(rs, rd, &y));
    CHECK(sj_array_create_init(rs, rd, init_x, &w1, sizeof w1, &u));
    CHECK(sj_array_zeros(ds, dd, &v));
    CHECK(sj_wait());

    double *t = malloc((size_t)iters * sizeof *t);
    for (int dir = 0; dir < 2; dir++) {
        thr_t s0[MAX_THR], s1[MAX_THR];
        int n0 = 0;
        double wall0 = 0, c0 = 0;
        long f0 = 0;
        for (int it = 0; it < warm + iters; it++) {
            if (it == warm) {
                f0 = minor_faults();
                c0 = comm_sent(np);
                if (verbose)
                    n0 = thr_snapshot(s0, MAX_THR);
                wall0 = MPI_Wtime();
            }
            double t0 = MPI_Wtime();
            CHECK(dir ? sj_op_apply_adjoint(A, u, v) : sj_op_apply(A, x, y));
            CHECK(sj_wait());
            double dt = MPI_Wtime() - t0;
            if (it >= warm)
                t[it - warm] = dt;
        }
        res->s[dir] = median(t, iters);
        res->sent[dir] = (comm_sent(np) - c0) / iters;
        res->faults[dir] = (double)(minor_faults() - f0) / iters;
        if (verbose) {
            int n1 = thr_snapshot(s1, MAX_THR);
            thr_report(dir ? "adjoint" : "forward", me, s0, n0, s1, n1, MPI_Wtime() - wall0);
            if (me == 0) {
                fprintf(stderr, "  starjets %s ms:", dir ? "adjoint" : "forward");
                for (int it = 0; it < iters; it++)
                    fprintf(stderr, " %.1f", t[it] * 1e3);
                fprintf(stderr, "\n");
            }
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
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&dom));
    CHECK(sj_space_destroy(&rng));
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-m block_rows] [-n columns] [-b blocks] [-i iterations] [-w warmups]"
            " [-R rounds] [-t threads] [-v] [-p] [-s]\n",
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
    int64_t m = 1024, n = 4096;
    int nb = 16, iters = 20, warm = 3, rounds = 3, threads = 0, verbose = 0, opt;
    int pin_main = 0, idle_workers = 0;
    while ((opt = getopt(argc, argv, "m:n:b:i:w:R:t:vpsh")) != -1) {
        switch (opt) {
        case 'm': m = strtoll(optarg, NULL, 0); break;
        case 'n': n = strtoll(optarg, NULL, 0); break;
        case 'b': nb = atoi(optarg); break;
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
    if (m < 1 || n < 1 || m * n > ((int64_t)1 << 28) || nb < 2 || nb > 4096 || iters < 1 ||
        warm < 0 || rounds < 1 || rounds > 64) {
        usage(argv[0]);
        return 2;
    }
    setenv("STARPU_COMM_STATS", "1", 0); /* read by starpu_mpi_init (in sj_init) */
    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    double load0[3] = {-1, -1, -1}, load1[3] = {-1, -1, -1};
    getloadavg(load0, 3);

    const int64_t rlen = (int64_t)nb * m;
    base_t B = {.nb = nb, .m = m, .n = n};
    double *yref = NULL, *vref = NULL, *ysj = NULL, *vsj = NULL;
    if (me == 0) {
        if (threads <= 0) {
            cpu_set_t set;
            threads = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 2;
        }
        B.threads = threads;
        omp_set_num_threads(threads);
        B.M = calloc((size_t)nb, sizeof *B.M);
        for (int b = 0; b < nb; b++)
            B.M[b] = xmalloc((size_t)(m * n) * sizeof(double));
#pragma omp parallel for schedule(static)
        for (int b = 0; b < nb; b++)
            fill_block(B.M[b], b, m, n);
        B.x = xmalloc((size_t)n * sizeof(double));
        B.v = xmalloc((size_t)n * sizeof(double));
        B.part = xmalloc((size_t)(threads * n) * sizeof(double));
        B.u = xmalloc((size_t)rlen * sizeof(double));
        B.y = xmalloc((size_t)rlen * sizeof(double));
        yref = xmalloc((size_t)rlen * sizeof(double));
        ysj = xmalloc((size_t)rlen * sizeof(double));
        vref = xmalloc((size_t)n * sizeof(double));
        vsj = xmalloc((size_t)n * sizeof(double));
        for (int64_t k = 0; k < n; k++)
            B.x[k] = x_entry(k);
        for (int64_t k = 0; k < rlen; k++)
            B.u[k] = u_entry(k);
        reference(&B, yref, vref);
    }

    double bt[2][2][64], st[2][64];
    int64_t bad = 0;
    int ncpus = 0;
    double sent[2] = {0, 0}, faults[2] = {0, 0};
    bytes_t bytes = {0};
    for (int r = 0; r < rounds; r++) {
        if (me == 0) {
            double *t = malloc((size_t)iters * sizeof *t);
            for (int kind = 0; kind < 2; kind++)
                for (int dir = 0; dir < 2; dir++) {
                    bt[kind][dir][r] = time_base(&B, kind, dir, warm, iters, t);
                    int64_t e = dir ? count_diff(B.v, vref, n) : count_diff(B.y, yref, rlen);
                    if (e)
                        fprintf(stderr, "bench_blockop_tall: baseline %s %s: %lld wrong\n",
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
        experiments(pin_main, idle_workers);
        sjres_t res = {0};
        run_starjets(&res, nb, m, n, warm, iters, verbose, ysj, vsj);
        CHECK(sj_finalize());
        sched_setaffinity(0, sizeof saved, &saved);
        st[0][r] = res.s[0];
        st[1][r] = res.s[1];
        ncpus = res.ncpus;
        bytes = res.bytes;
        for (int d = 0; d < 2; d++) {
            sent[d] = res.sent[d];
            faults[d] = res.faults[d];
        }
        if (me == 0) {
            int64_t e1 = count_diff(ysj, yref, rlen), e2 = count_diff(vsj, vref, n);
            if (e1 || e2)
                fprintf(stderr, "bench_blockop_tall: starjets: %lld wrong forward, %lld wrong "
                                "adjoint elements\n",
                        (long long)e1, (long long)e2);
            bad += e1 + e2;
            if (verbose)
                fprintf(stderr,
                        "round %d: forward: starjets %.3f ms, omp_blocks %.3f ms, blas_threads "
                        "%.3f ms; adjoint: starjets %.3f ms, omp_blocks %.3f ms, blas_threads "
                        "%.3f ms\n",
                        r, st[0][r] * 1e3, bt[0][0][r] * 1e3, bt[1][0][r] * 1e3, st[1][r] * 1e3,
                        bt[0][1][r] * 1e3, bt[1][1][r] * 1e3);
        }
    }
    int64_t anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    double sent_all[2] = {0, 0};
    MPI_Reduce(sent, sent_all, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    int *all_ncpus = me == 0 ? malloc((size_t)np * sizeof(int)) : NULL;
    MPI_Gather(&ncpus, 1, MPI_INT, all_ncpus, 1, MPI_INT, 0, MPI_COMM_WORLD);
    double *all_faults = me == 0 ? malloc((size_t)np * 2 * sizeof(double)) : NULL;
    MPI_Gather(faults, 2, MPI_DOUBLE, all_faults, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    getloadavg(load1, 3);

    if (me == 0) {
        const double mbytes = 8.0 * (double)nb * (double)m * (double)n;
        const double vbytes = 8.0 * ((double)n + (double)rlen);
        double med[2][2], base_s[2], sjs[2], ratio_r[2][64];
        int pick[2];
        for (int kind = 0; kind < 2; kind++)
            for (int dir = 0; dir < 2; dir++)
                med[kind][dir] = median(bt[kind][dir], rounds);
        for (int dir = 0; dir < 2; dir++) {
            sjs[dir] = median(st[dir], rounds);
            pick[dir] = med[1][dir] < med[0][dir];
            base_s[dir] = med[pick[dir]][dir];
            for (int r = 0; r < rounds; r++)
                ratio_r[dir][r] = bt[pick[dir]][dir][r] / st[dir][r];
        }
        static const char *kname[] = {"omp_blocks", "blas_threads"};
        printf("{\"bench\":\"blockop_tall\",\"block_rows\":%lld,\"columns\":%lld,\"blocks\":%d,"
               "\"matrix_MiB\":%.0f,\"ranks\":%d,\"iterations\":%d,\"warmups\":%d,\"rounds\":%d,"
               "\"threads\":%d,",
               (long long)m, (long long)n, nb, mbytes / 1048576.0, np, iters, warm, rounds,
               threads);
        printf("\"starjets_fwd_s\":%.6g,\"starjets_adj_s\":%.6g,\"baseline_fwd_s\":%.6g,"
               "\"baseline_adj_s\":%.6g,\"baseline_fwd\":\"%s\",\"baseline_adj\":\"%s\",",
               sjs[0], sjs[1], base_s[0], base_s[1], kname[pick[0]], kname[pick[1]]);
        printf("\"omp_blocks_fwd_s\":%.6g,\"omp_blocks_adj_s\":%.6g,\"blas_threads_fwd_s\":%.6g,"
               "\"blas_threads_adj_s\":%.6g,",
               med[0][0], med[0][1], med[1][0], med[1][1]);
        printf("\"starjets_fwd_GBps\":%.4g,\"starjets_adj_GBps\":%.4g,\"baseline_fwd_GBps\":%.4g,"
               "\"baseline_adj_GBps\":%.4g,",
               (mbytes + vbytes) / sjs[0] * 1e-9, (mbytes + vbytes) / sjs[1] * 1e-9,
               (mbytes + vbytes) / base_s[0] * 1e-9, (mbytes + vbytes) / base_s[1] * 1e-9);
        printf("\"ratio_fwd\":%.4f,\"ratio_adj\":%.4f,", base_s[0] / sjs[0], base_s[1] / sjs[1]);
        print_array("ratio_fwd_per_round", ratio_r[0], rounds);
        print_array("ratio_adj_per_round", ratio_r[1], rounds);
        printf("\"bytes_fwd\":%.0f,\"bytes_adj\":%.0f,\"bytes_min_fwd\":%.0f,\"bytes_min_adj\":%.0f,"
               "\"bytes_fwd_over_min\":%.3g,\"bytes_adj_over_min\":%.3g,"
               "\"starpu_mpi_bytes_fwd\":%.0f,\"starpu_mpi_bytes_adj\":%.0f,",
               bytes.fwd, bytes.adj, bytes.min_fwd, bytes.min_adj,
               bytes.min_fwd > 0 ? bytes.fwd / bytes.min_fwd : 1.0,
               bytes.min_adj > 0 ? bytes.adj / bytes.min_adj : 1.0, sent_all[0], sent_all[1]);
        printf("\"target\":{\"bytes_over_min\":1,\"ratio\":0.85},\"pin_main\":%s,"
               "\"idle_workers\":%s,\"ncpus_per_rank\":[",
               pin_main ? "true" : "false", idle_workers ? "true" : "false");
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
        free(B.part);
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
