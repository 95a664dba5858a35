/*
 * The soak workload of scripts/soak: a mixed loop of what a long run does
 * (array churn, algebra and reductions, a block operator's apply and adjoint,
 * heat stencil steps, a task farm, a checkpoint save and load), run for a
 * number of minutes, with every rank's resident memory, open files and
 * starjets' live objects, data handles and booked tags sampled at fixed
 * times. Not a ctest entry (it runs for minutes); scripts/soak runs it.
 *
 *   mpiexec -n 3 soak_prog MINUTES OUTDIR
 *
 * Writes OUTDIR/soak.csv (one line per sample and rank: seconds, rank,
 * rss_kib, fds, objects, handles, tags, iterations) and prints each sample
 * on rank 0. Exit status 1 when, after the warm-up (the first quarter of the
 * run, at least one sample), a rank's RSS grows by more than 5 % or its
 * objects, handles, tags or open files grow at all, or when any call fails.
 * SOAK_SKIP (letters) leaves parts out, to find what grows: a (arrays and
 * reductions), o (operator), s (stencil), p (task farm), c (checkpoints),
 * l (the loads only).
 */
#include <dirent.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <starjets.h>

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != SJ_OK) {                                                                        \
            fprintf(stderr, "soak: rank %d: %s failed: %s\n", sj_rank(), #call, sj_last_error());  \
            MPI_Abort(MPI_COMM_WORLD, 2);                                                          \
        }                                                                                          \
    } while (0)

enum { NFIELDS = 7 };
typedef struct sample {
    double t;
    int64_t v[NFIELDS]; /* rss_kib, fds, objects, handles, tags, iterations, rank */
} sample_t;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int64_t rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (int64_t)resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int64_t open_fds(void)
{
    int64_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory itself */
}

static int heat(const sj_stencil_info_t *s, void *outp, const void *inp, void *ctx)
{
    (void)ctx;
    const double *in = inp;
    double *out = outp;
    const int64_t a = s->in_stride[1], o = s->out_stride[1];
    for (int64_t j = s->lo[1]; j < s->hi[1]; j++)
        for (int64_t i = s->lo[0]; i < s->hi[0]; i++) {
            const double *c = in + i + a * j;
            out[i + o * j] = c[0] + 0.2 * (c[-1] + c[1] + c[-a] + c[a] - 4 * c[0]);
        }
    return 0;
}

static int square(int64_t index, const void *in, void *out, void *ctx)
{
    (void)in;
    (void)ctx;
    *(double *)out = (double)index * (double)index;
    return 0;
}

/* The block-diagonal operator of the loop: one dense 64 x 64 leaf per rank. */
static sj_op_t make_operator(sj_space_t leaf_space, int np)
{
    double *M = malloc(64 * 64 * sizeof *M);
    for (int k = 0; k < 64 * 64; k++)
        M[k] = 1.0 / (1 + k % 97);
    sj_op_t *blocks = malloc((size_t)np * sizeof *blocks);
    for (int r = 0; r < np; r++)
        CHECK(sj_op_dense(leaf_space, leaf_space, r, M, &blocks[r]));
    sj_op_t A;
    CHECK(sj_op_block_diag(np, blocks, NULL, &A));
    for (int r = 0; r < np; r++)
        CHECK(sj_op_destroy(&blocks[r]));
    free(blocks);
    free(M);
    return A;
}

static void one_iteration(int it, sj_op_t A, sj_array_t grid[2], const char *ckpt)
{
    const int np = sj_nranks();
    const char *skip = getenv("SOAK_SKIP"); /* debugging: parts to leave out */
    skip = skip ? skip : "";
    /* churn: a space, arrays, a scalar made and destroyed every iteration */
    if (!strchr(skip, 'a')) {
        sj_space_t s;
        CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){20000}, (int[]){2 * np}, &s));
        sj_array_t x, y;
        CHECK(sj_array_rand(s, NULL, (uint64_t)it, &x));
        CHECK(sj_array_ones(s, NULL, &y));
        CHECK(sj_array_axpy(0.5, x, y));
        CHECK(sj_array_scale(0.25, y));
        double v;
        CHECK(sj_array_dot(x, y, &v));
        CHECK(sj_array_norm(SJ_NORM_2, y, &v));
        sj_scalar_t c;
        CHECK(sj_array_reduce_scalar(SJ_REDUCE_DOT, x, y, &c));
        CHECK(sj_array_axpy_scalar(1e-6, c, x, y));
        CHECK(sj_scalar_destroy(&c));
        CHECK(sj_array_destroy(&x));
        CHECK(sj_array_destroy(&y));
        CHECK(sj_space_destroy(&s));
    }
    /* the operator, forward and adjoint */
    if (!strchr(skip, 'o')) {
        sj_space_t ds;
        sj_dist_t dd;
        CHECK(sj_op_domain(A, &ds, &dd));
        sj_array_t u, w;
        CHECK(sj_array_rand(ds, dd, (uint64_t)it + 7, &u));
        CHECK(sj_array_zeros(ds, dd, &w));
        CHECK(sj_op_apply(A, u, w));
        CHECK(sj_op_apply_adjoint(A, w, u));
        CHECK(sj_array_destroy(&u));
        CHECK(sj_array_destroy(&w));
    }
    /* stencil steps, chained */
    for (int k = 0; k < 4 && !strchr(skip, 's'); k++)
        CHECK(sj_array_stencil(grid[k % 2], grid[(k + 1) % 2], 1, SJ_BOUNDARY_FIXED, NULL, heat,
                               NULL, 0));
    /* a task farm */
    double out[64];
    if (!strchr(skip, 'p'))
        CHECK(sj_pmap(64, NULL, 0, sj_rank() == 0 ? out : NULL, sizeof(double), square, NULL, 0,
                      NULL, NULL));
    /* a checkpoint, now and then */
    if (it % 25 == 0 && !strchr(skip, 'c')) {
        CHECK(sj_array_save(grid[0], ckpt, "soak", &it, sizeof it));
        if (!strchr(skip, 'l'))
            CHECK(sj_array_load(ckpt, grid[1], NULL));
    }
    CHECK(sj_wait());
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: soak_prog MINUTES OUTDIR\n");
        return 2;
    }
    const double minutes = atof(argv[1]);
    const char *outdir = argv[2];
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    sj_init_options_t o;
    sj_init_options_default(&o);
    CHECK(sj_init(NULL, NULL, &o));
    const int me = sj_rank(), np = sj_nranks();
    char ckpt[512], csv[512];
    snprintf(ckpt, sizeof ckpt, "%s/soak.sjarr", outdir);
    snprintf(csv, sizeof csv, "%s/soak.csv", outdir);

    sj_space_t leaf;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){64}, NULL, &leaf));
    sj_op_t A = make_operator(leaf, np);
    sj_space_t gs;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){256, 256}, (int[]){np, 2}, &gs));
    sj_array_t grid[2];
    CHECK(sj_array_ones(gs, NULL, &grid[0]));
    CHECK(sj_array_zeros(gs, NULL, &grid[1]));

    const double total = minutes * 60, interval = total / 30 < 5 ? 5 : total / 30;
    const int nsamples = (int)(total / interval) + 1;
    sample_t *mine = calloc((size_t)nsamples + 1, sizeof *mine);
    sample_t *all = me == 0 ? calloc((size_t)(nsamples + 1) * np, sizeof *all) : NULL;
    FILE *f = me == 0 ? fopen(csv, "w") : NULL;
    if (me == 0 && !f) {
        fprintf(stderr, "soak: cannot write %s\n", csv);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (f)
        fprintf(f, "seconds,rank,rss_kib,fds,objects,handles,tags,iterations\n");
    const double t0 = now();
    int it = 0, ns = 0;
    for (;;) {
        one_iteration(it++, A, grid, ckpt);
        /* rank 0's clock decides, every rank follows (a logically collective choice) */
        int64_t due = me == 0 && now() - t0 >= ns * interval;
        CHECK(sj_allreduce_int64(SJ_REDUCE_MAX, &due));
        if (!due)
            continue;
        sj_stats_t st;
        CHECK(sj_stats_get(&st));
        sample_t *s = &mine[ns];
        s->t = now() - t0;
        s->v[0] = rss_kib();
        s->v[1] = open_fds();
        s->v[2] = st.objects;
        s->v[3] = st.handles;
        s->v[4] = st.tags_booked + st.tags_waiting;
        s->v[5] = it;
        s->v[6] = me;
        MPI_Gather(s, (int)sizeof *s, MPI_BYTE, all ? &all[(size_t)ns * np] : NULL, (int)sizeof *s,
                   MPI_BYTE, 0, MPI_COMM_WORLD);
        if (f) {
            for (int r = 0; r < np; r++) {
                const sample_t *a = &all[(size_t)ns * np + r];
                fprintf(f, "%.1f,%d,%lld,%lld,%lld,%lld,%lld,%lld\n", a->t, r, (long long)a->v[0],
                        (long long)a->v[1], (long long)a->v[2], (long long)a->v[3],
                        (long long)a->v[4], (long long)a->v[5]);
            }
            fflush(f);
            printf("soak: %6.0f s, %lld iterations, rank 0: RSS %lld KiB, %lld objects, %lld "
                   "handles, %lld tags, %lld files\n",
                   s->t, (long long)it, (long long)s->v[0], (long long)s->v[2], (long long)s->v[3],
                   (long long)s->v[4], (long long)s->v[1]);
            fflush(stdout);
        }
        if (++ns >= nsamples)
            break;
    }
    int failed = 0;
    if (me == 0) {
        const int warm = ns / 4 > 1 ? ns / 4 : 1; /* the baseline sample: end of warm-up */
        for (int r = 0; r < np; r++) {
            const sample_t *b = &all[(size_t)warm * np + r], *e = &all[(size_t)(ns - 1) * np + r];
            const double growth = (double)(e->v[0] - b->v[0]) / (double)b->v[0];
            if (growth > 0.05) {
                printf("soak: FAIL: rank %d RSS %lld -> %lld KiB (+%.1f %%) after warm-up\n", r,
                       (long long)b->v[0], (long long)e->v[0], 100 * growth);
                failed = 1;
            }
            static const char *names[] = {"RSS", "open files", "objects", "handles", "tags"};
            for (int k = 1; k < 5; k++)
                if (e->v[k] > b->v[k]) {
                    printf("soak: FAIL: rank %d %s %lld -> %lld after warm-up\n", r, names[k],
                           (long long)b->v[k], (long long)e->v[k]);
                    failed = 1;
                }
            printf("soak: rank %d: RSS %lld -> %lld KiB (%+.2f %%) from %.0f s to %.0f s\n", r,
                   (long long)b->v[0], (long long)e->v[0], 100 * growth, b->t, e->t);
        }
        printf("soak: %s after %d iterations in %.0f s\n", failed ? "FAILED" : "passed", it,
               now() - t0);
        fclose(f);
    }
    MPI_Bcast(&failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
    free(mine);
    free(all);
    CHECK(sj_array_destroy(&grid[0]));
    CHECK(sj_array_destroy(&grid[1]));
    CHECK(sj_space_destroy(&gs));
    CHECK(sj_op_destroy(&A));
    CHECK(sj_space_destroy(&leaf));
    CHECK(sj_finalize());
    remove(ckpt);
    MPI_Finalize();
    return failed;
}
