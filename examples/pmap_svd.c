// sj-example: nprocs=1,2,3,4 args=--small
/*
 * A parallel map: the singular values of 10 random matrices, one matrix per
 * item, spread over the ranks and their workers (the Julia tutorial's
 * `pmap(svdvals, M)`), checked against the serial `map(svdvals, M)`.
 *
 *   mpirun -n 2 ./pmap_svd [--count M] [--n ORDER] [--small]
 *
 * sj_pmap() is collective: every rank calls it, rank 0 holds the inputs and
 * receives the results in input order, and every rank (rank 0 included)
 * computes items. Which rank computes which item is decided while it runs:
 * ranks that finish early get more.
 *
 * Needs LAPACKE (liblapacke-dev); without it the program says so and exits
 * with 77 ("skipped").
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

#include "example.h"

#if SJ_HAVE_LAPACKE
#include <lapacke.h>
#endif

#if SJ_HAVE_LAPACKE

/* Counter-based random numbers (splitmix64) in [0, 1). */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/*
 * The function applied to one item (svdvals): `in` is an n x n column-major
 * matrix, `out` gets its n singular values, largest first, then the rank that
 * computed them (the tutorial's `println(myid())`). It runs as a task, several
 * at once on a rank, so it keeps its work space to itself.
 */
static int svdvals(int64_t index, const void *in, void *out, void *ctx)
{
    const int n = *(const int *)ctx;
    double *a = malloc((size_t)n * (size_t)n * sizeof *a);
    if (!a)
        return 1;
    memcpy(a, in, (size_t)n * (size_t)n * sizeof *a); /* LAPACK overwrites its input */
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', n, n, a, n, out, NULL, 1, NULL, 1);
    free(a);
    ((double *)out)[n] = sj_rank();
    return info == 0 ? 0 : 2;
}

/* The serial map: every matrix in turn, after one untimed call (the first
 * LAPACK call sets itself up). */
typedef struct serial_job {
    const double *m;
    double *out;
    int count, n;
} serial_job_t;

static int serial_map(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    const serial_job_t *j = arg;
    const size_t nn = (size_t)j->n * (size_t)j->n, rec = (size_t)j->n + 1;
    if (svdvals(0, j->m, j->out, (void *)&j->n) != 0)
        return 1;
    const double t0 = now();
    for (int k = 0; k < j->count; k++)
        if (svdvals(k, j->m + (size_t)k * nn, j->out + (size_t)k * rec, (void *)&j->n) != 0)
            return 2 + k;
    *(double *)out = now() - t0; /* the loop's time, the result of the task */
    return 0;
}

/* Progress on rank 0 (called at most every progress_interval seconds). */
static void progress(int64_t done, int64_t total, void *ctx)
{
    printf("  pmap: %lld of %lld matrices done\n", (long long)done, (long long)total);
    fflush(stdout);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--count M] [--n ORDER] [--small]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int count = 10, n = 200; /* the tutorial's [rand(200, 200) for i = 1:10] */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small"))
            n = 60;
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = atoi(argv[++i]);
        else
            usage(argv[0]);
    }
    if (count < 1 || count > 100000 || n < 1 || n > 5000)
        usage(argv[0]);

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    const size_t nn = (size_t)n * (size_t)n, rec = (size_t)n + 1; /* result record */

    /* The matrices live on rank 0 only; other ranks pass NULL buffers. */
    double *m = NULL, *serial = NULL, *par = NULL;
    if (me == 0) {
        m = malloc((size_t)count * nn * sizeof *m);
        serial = malloc((size_t)count * rec * sizeof *serial);
        par = malloc((size_t)count * rec * sizeof *par);
        if (!m || !serial || !par) {
            fprintf(stderr, "pmap_svd: out of memory\n");
            return 1;
        }
        for (size_t k = 0; k < (size_t)count * nn; k++)
            m[k] = (double)(mix64(2024 ^ mix64(k)) >> 11) / 9007199254740992.0;
        printf("pmap_svd: singular values of %d random %d x %d matrices on %d rank(s) with %d "
               "worker(s) on rank 0\n\n",
               count, n, n, np, sj_ncpus());
    }

    /* map(svdvals, M): the serial loop, the reference, as one task on one
     * worker of rank 0 (so that it has a core to itself, as each pmap item
     * does). The task runs inside rank 0's process, so its argument may hold
     * pointers to rank 0's buffers; the other ranks pass theirs, unread. */
    const serial_job_t job = {m, serial, count, n};
    sj_future_t f;
    double t_serial = 0;
    CHECK(sj_spawn(0, serial_map, &job, sizeof job, sizeof t_serial, &f));
    const int serial_rc = sj_future_fetch(f, 0, &t_serial);
    CHECK(sj_future_destroy(&f));
    if (serial_rc != SJ_OK) {
        if (me == 0)
            fprintf(stderr, "pmap_svd: the serial map failed: %s\n", sj_last_error());
        return 1;
    }

    /* pmap(svdvals, M): item k is matrix k (nn doubles in), its result a
     * record of n + 1 doubles. The context (n) is copied to every rank. */
    sj_pmap_options_t opts;
    sj_pmap_options_default(&opts);
    opts.progress = progress;
    opts.progress_interval = 0.5;
    int64_t *per_rank = calloc((size_t)np, sizeof *per_rank);
    if (!per_rank) {
        fprintf(stderr, "pmap_svd: out of memory\n");
        return 1;
    }
    opts.rank_items = per_rank;
    sj_pmap_report_t report;
    const double t0 = now();
    CHECK(sj_pmap(count, m, nn * sizeof *m, par, rec * sizeof *par, svdvals, &n, sizeof n, &opts,
                  &report));
    const double t_pmap = now() - t0;

    int ok = 1;
    if (me == 0) {
        /* Check every matrix: the same singular values as the serial loop
         * (LAPACK on the same input; allow for a different BLAS thread count),
         * and their squares add up to the squared Frobenius norm. */
        double worst = 0, worst_fro = 0;
        for (int k = 0; k < count; k++) {
            const double *s = par + (size_t)k * rec, *r = serial + (size_t)k * rec;
            const double *a = m + (size_t)k * nn;
            double fro = 0, sq = 0;
            for (size_t i = 0; i < nn; i++)
                fro += a[i] * a[i];
            for (int i = 0; i < n; i++) {
                worst = fmax(worst, fabs(s[i] - r[i]) / r[0]);
                sq += s[i] * s[i];
                ok &= i == 0 || s[i] <= s[i - 1];
            }
            worst_fro = fmax(worst_fro, fabs(sq - fro) / fro);
            if (k < 10 || k == count - 1)
                printf("matrix %2d (rank %d): largest %.6f, smallest %.3e\n", k + 1, (int)s[n],
                       s[0], s[n - 1]);
            else if (k == 10)
                printf("...\n");
        }
        ok &= worst <= 1e-12 && worst_fro <= 1e-12 && report.failed == 0;
        printf("\nitems per rank:");
        for (int r = 0; r < np; r++)
            printf(" %lld", (long long)per_rank[r]);
        printf("\nserial map %.3f s, pmap %.3f s (speedup %.2f)\n", t_serial, t_pmap,
               t_serial / t_pmap);
        printf("largest difference from the serial values %.2e (relative to sigma_max); "
               "sum of sigma^2 vs |A|_F^2: %.2e\n",
               worst, worst_fro);
        printf("\n%s\n", ok ? "pmap_svd: all results check out" : "pmap_svd: WRONG RESULTS");
    }
    free(per_rank);
    free(m);
    free(serial);
    free(par);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}

#else /* !SJ_HAVE_LAPACKE */

int main(void)
{
    fprintf(stderr, "pmap_svd: starjets was built without LAPACKE (install liblapacke-dev and "
                    "reconfigure); skipped\n");
    return 77;
}

#endif
