/*
 * bench_axpy_dot: `y = alpha * x + y` then `dot(x, y)` (blocking), starjets on
 * the ranks of the run against a one-process OpenMP loop measured in the same
 * run on the same cores.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_axpy_dot [options]
 *
 * Options: -n N (elements, default 2^24), -b B (blocks, 16), -i I (timed
 * iterations, 20), -w W (warm-up iterations, 3), -R R (rounds, 3), -t T
 * (OpenMP threads of the baseline, default: the cores this process may use),
 * -a ALPHA (0.5), -v (per-round lines on stderr), -p (experiment: pin the
 * application thread of each rank to its StarPU workers' cores while starjets
 * runs), -s (experiment: run StarPU's CPU workers under SCHED_IDLE).
 *
 * Order of events, so that no spinning StarPU thread disturbs the baseline:
 *  1. MPI_Init_thread(MPI_THREAD_MULTIPLE) (sj_init accepts it);
 *  2. rank 0 runs the OpenMP baseline while the other ranks wait in an
 *     MPI_Ibarrier polled every millisecond (they sleep, they do not spin);
 *  3. sj_init, the starjets loop, sj_finalize;
 *  4. steps 2-3 are one round; rounds repeat (-R), so that slow changes in
 *     the machine's load hit both sides alike; then MPI_Finalize.
 *
 * Each iteration is one axpy and one blocking dot; the time of an iteration
 * is taken on rank 0 (the blocking dot ends with a collective, so every rank
 * has finished it). Per round: the median over the timed iterations.
 * Reported: the median over the rounds of those medians (and each round's
 * ratio). A breakdown times axpy alone (followed by sj_wait) and dot alone.
 * Effective bandwidth counts 5 doubles per element: 3 for axpy (read x,
 * read y, write y) and 2 for dot.
 *
 * Exactness: x = 1 and y = 2 initially, alpha = 0.5: after k axpys every
 * y element is 2 + k * alpha (exact in binary), so dot(x, y) is exactly
 * n * (2 + k * alpha) in any summation order. Every dot is checked against
 * that value; the program exits with status 1 if one differs.
 *
 * One JSON object on stdout (rank 0); diagnostics on stderr.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <omp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <starjets.h>

#include "bench_util.h"

/* ---- small statistics ------------------------------------------------------ */

static double vmin(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

static double vmax(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

/* ---- per-thread CPU time and affinity, from /proc ------------------------ */

#define MAX_THREADS 64

typedef struct thr {
    int tid;
    char name[20];
    char cpus[24];
    double cpu_s;
} thr_t;

static int read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
    return (int)n;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    n = n < size - 1 ? n : size - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static int threads_snapshot(thr_t *t, int max)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    int n = 0;
    long hz = sysconf(_SC_CLK_TCK);
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.')
            continue;
        char path[64], buf[2048];
        thr_t *p = &t[n];
        memset(p, 0, sizeof *p);
        p->tid = atoi(e->d_name);
        snprintf(path, sizeof path, "/proc/self/task/%d/comm", p->tid);
        if (read_text(path, buf, sizeof buf) > 0) {
            buf[strcspn(buf, "\n")] = 0;
            copy_str(p->name, sizeof p->name, buf);
        }
        snprintf(path, sizeof path, "/proc/self/task/%d/status", p->tid);
        if (read_text(path, buf, sizeof buf) > 0) {
            char *c = strstr(buf, "Cpus_allowed_list:");
            if (c) {
                c += strlen("Cpus_allowed_list:");
                while (*c == ' ' || *c == '\t')
                    c++;
                c[strcspn(c, "\n")] = 0;
                copy_str(p->cpus, sizeof p->cpus, c);
            }
        }
        snprintf(path, sizeof path, "/proc/self/task/%d/stat", p->tid);
        if (read_text(path, buf, sizeof buf) > 0) {
            char *c = strrchr(buf, ')');
            unsigned long ut = 0, st = 0;
            /* after ')': state(3) ... utime(14) stime(15) */
            if (c && sscanf(c + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                            &st) == 2)
                p->cpu_s = (double)(ut + st) / (double)hz;
        }
        n++;
    }
    closedir(d);
    return n;
}

/* "name[cpus]=cpu_seconds/wall" for every thread alive in both snapshots. */
static void threads_describe(const thr_t *a, int na, const thr_t *b, int nb, double wall,
                             char *out, size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < nb; i++) {
        double before = 0;
        for (int j = 0; j < na; j++)
            if (a[j].tid == b[i].tid)
                before = a[j].cpu_s;
        double use = b[i].cpu_s - before;
        if (use < 0.002 * wall)
            continue; /* idle threads are not interesting */
        char label[40];
        const char *prog = program_invocation_short_name;
        if (b[i].tid == (int)getpid())
            snprintf(label, sizeof label, "main");
        else if (strncmp(b[i].name, prog, strlen(b[i].name)) != 0)
            snprintf(label, sizeof label, "%s", b[i].name); /* "CPU 0", "MPI", ... */
        else /* unnamed threads keep the program's name: OpenMP, Open MPI */
            snprintf(label, sizeof label, "t%d", b[i].tid);
        int k = snprintf(out + len, size - len, "%s%s[%s]=%.2f", len ? "; " : "", label,
                         b[i].cpus, use / wall);
        if (k < 0 || (size_t)k >= size - len)
            break;
        len += (size_t)k;
    }
}

/* Parse a kernel cpu list ("0-1,3") into @p set. */
static void parse_cpulist(const char *list, cpu_set_t *set)
{
    CPU_ZERO(set);
    const char *p = list;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p)
            break;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        for (long c = a; c <= b && c < CPU_SETSIZE; c++)
            CPU_SET((int)c, set);
        p = *end == ',' ? end + 1 : end;
        if (*end != ',')
            break;
    }
}

/* Pin the calling (main) thread to the CPUs StarPU's CPU workers of this rank
 * may run on (an experiment: starjets leaves the application thread alone). */
static void pin_main_to_workers(void)
{
    thr_t t[MAX_THREADS];
    int n = threads_snapshot(t, MAX_THREADS);
    cpu_set_t all, one;
    CPU_ZERO(&all);
    for (int i = 0; i < n; i++)
        if (strncmp(t[i].name, "CPU ", 4) == 0) {
            parse_cpulist(t[i].cpus, &one);
            CPU_OR(&all, &all, &one);
        }
    if (CPU_COUNT(&all) > 0)
        sched_setaffinity(0, sizeof all, &all);
}

/* Put StarPU's CPU worker threads of this rank under SCHED_IDLE (an
 * experiment: a waking thread then preempts an idle-spinning worker at once
 * instead of waiting for the scheduler tick). */
static void workers_sched_idle(void)
{
    thr_t t[MAX_THREADS];
    int n = threads_snapshot(t, MAX_THREADS);
    struct sched_param sp = {0};
    for (int i = 0; i < n; i++)
        if (strncmp(t[i].name, "CPU ", 4) == 0 && sched_setscheduler(t[i].tid, SCHED_IDLE, &sp))
            perror("sched_setscheduler(SCHED_IDLE)");
}

/* ---- the OpenMP baseline --------------------------------------------------- */

static void omp_axpy(int64_t n, double alpha, const double *restrict x, double *restrict y)
{
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] = alpha * x[i] + y[i];
}

/* Eight independent partial sums per thread (four SSE2 accumulators after
 * vectorisation), so that the loop is limited by memory, not by the latency
 * of one chain of additions as a plain `reduction(+ : s)` loop is. */
static double omp_dot(int64_t n, const double *restrict x, const double *restrict y)
{
    double s = 0;
    const int64_t n8 = n / 8 * 8;
#pragma omp parallel reduction(+ : s)
    {
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
#pragma omp for schedule(static) nowait
        for (int64_t i = 0; i < n8; i += 8) {
            a0 += x[i] * y[i];
            a1 += x[i + 1] * y[i + 1];
            a2 += x[i + 2] * y[i + 2];
            a3 += x[i + 3] * y[i + 3];
            a4 += x[i + 4] * y[i + 4];
            a5 += x[i + 5] * y[i + 5];
            a6 += x[i + 6] * y[i + 6];
            a7 += x[i + 7] * y[i + 7];
        }
        s += ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    }
    for (int64_t i = n8; i < n; i++)
        s += x[i] * y[i];
    return s;
}

typedef struct result {
    double iter_s, iter_min_s, iter_max_s;
    double axpy_s, dot_s;
    int bad;
    double first_bad, first_expected;
    char threads[1024]; /* per-thread CPU time / wall time during the main loop */
    char times[1024];   /* the timed iterations, ms (for -v) */
} result_t;

/* The timed iterations of one side: listed in ms, median, min and max. */
static void summarize_iterations(result_t *r, const double *t, int n)
{
    size_t len = 0, size = sizeof r->times;
    r->times[0] = 0;
    for (int i = 0; i < n && len < size; i++) {
        int k = snprintf(r->times + len, size - len, "%s%.1f", i ? " " : "", t[i] * 1e3);
        if (k < 0)
            break;
        len += (size_t)k;
    }
    r->iter_s = median(t, n);
    r->iter_min_s = vmin(t, n);
    r->iter_max_s = vmax(t, n);
}

static double expected_dot(int64_t n, int k, double alpha)
{
    return (double)n * (2.0 + (double)k * alpha);
}

static void check_dot(result_t *r, double got, int64_t n, int k, double alpha)
{
    double want = expected_dot(n, k, alpha);
    if (got != want && !r->bad) {
        r->first_bad = got;
        r->first_expected = want;
    }
    r->bad += got != want;
}

/* One round of the baseline on x, y (x = 1; y is reset to 2). */
static void run_openmp(result_t *r, int64_t n, double *x, double *y, int warm, int iters,
                       double alpha)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] = 2.0;
    double *t = malloc((size_t)iters * sizeof *t);
    int k = 0;
    thr_t s0[MAX_THREADS], s1[MAX_THREADS];
    int n0 = 0;
    double w0 = 0;
    for (int it = 0; it < warm + iters; it++) {
        if (it == warm) {
            n0 = threads_snapshot(s0, MAX_THREADS);
            w0 = omp_get_wtime();
        }
        double t0 = omp_get_wtime();
        omp_axpy(n, alpha, x, y);
        double d = omp_dot(n, x, y);
        double dt = omp_get_wtime() - t0;
        check_dot(r, d, n, ++k, alpha);
        if (it >= warm)
            t[it - warm] = dt;
    }
    int n1 = threads_snapshot(s1, MAX_THREADS);
    threads_describe(s0, n0, s1, n1, omp_get_wtime() - w0, r->threads, sizeof r->threads);
    summarize_iterations(r, t, iters);
    /* Breakdown: each operation alone. */
    for (int it = 0; it < warm + iters; it++) {
        double t0 = omp_get_wtime();
        omp_axpy(n, alpha, x, y);
        double dt = omp_get_wtime() - t0;
        k++;
        if (it >= warm)
            t[it - warm] = dt;
    }
    r->axpy_s = median(t, iters);
    for (int it = 0; it < warm + iters; it++) {
        double t0 = omp_get_wtime();
        double d = omp_dot(n, x, y);
        double dt = omp_get_wtime() - t0;
        check_dot(r, d, n, k, alpha);
        if (it >= warm)
            t[it - warm] = dt;
    }
    r->dot_s = median(t, iters);
    free(t);
}

/* ---- starjets ------------------------------------------------------------ */

/* One round of starjets (between sj_init and sj_finalize). */
static void run_starjets(result_t *r, int64_t n, int nblocks, int warm, int iters, double alpha)
{
    sj_space_t space;
    sj_dist_t dist;
    sj_array_t x, y;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){nblocks}, &space));
    CHECK(sj_dist_create_default(space, &dist));
    CHECK(sj_array_ones(space, dist, &x));
    CHECK(sj_array_filled(space, dist, 2.0, &y));
    CHECK(sj_wait());

    double *t = malloc((size_t)iters * sizeof *t);
    int k = 0;
    thr_t s0[MAX_THREADS], s1[MAX_THREADS];
    int n0 = 0;
    double w0 = 0;
    for (int it = 0; it < warm + iters; it++) {
        if (it == warm) {
            n0 = threads_snapshot(s0, MAX_THREADS);
            w0 = MPI_Wtime();
        }
        double d = 0, t0 = MPI_Wtime();
        CHECK(sj_array_axpy(alpha, x, y));
        CHECK(sj_array_dot(x, y, &d));
        double dt = MPI_Wtime() - t0;
        check_dot(r, d, n, ++k, alpha);
        if (it >= warm)
            t[it - warm] = dt;
    }
    int n1 = threads_snapshot(s1, MAX_THREADS);
    threads_describe(s0, n0, s1, n1, MPI_Wtime() - w0, r->threads, sizeof r->threads);
    summarize_iterations(r, t, iters);

    /* Breakdown: axpy alone (then sj_wait), dot alone. */
    for (int it = 0; it < warm + iters; it++) {
        double t0 = MPI_Wtime();
        CHECK(sj_array_axpy(alpha, x, y));
        CHECK(sj_wait());
        double dt = MPI_Wtime() - t0;
        k++;
        if (it >= warm)
            t[it - warm] = dt;
    }
    r->axpy_s = median(t, iters);
    for (int it = 0; it < warm + iters; it++) {
        double d = 0, t0 = MPI_Wtime();
        CHECK(sj_array_dot(x, y, &d));
        double dt = MPI_Wtime() - t0;
        check_dot(r, d, n, k, alpha);
        if (it >= warm)
            t[it - warm] = dt;
    }
    r->dot_s = median(t, iters);
    free(t);
    CHECK(sj_array_destroy(&x));
    CHECK(sj_array_destroy(&y));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-n elements] [-b blocks] [-i iterations] [-w warmups] [-R rounds]"
            " [-t omp_threads] [-a alpha] [-v] [-p] [-s]\n",
            prog);
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* Median over rounds of one field of result_t. */
static double round_median(const result_t *r, int nr, size_t offset)
{
    double v[256];
    for (int i = 0; i < nr; i++)
        v[i] = *(const double *)((const char *)&r[i] + offset);
    return median(v, nr);
}
#define RMED(r, nr, field) round_median((r), (nr), offsetof(result_t, field))

static void print_strings(const char *key, const char *all, size_t stride, int count, int last)
{
    printf("\"%s\":[", key);
    for (int i = 0; i < count; i++)
        printf("%s\"%s\"", i ? "," : "", all + (size_t)i * stride);
    printf("]%s", last ? "" : ",");
}

int main(int argc, char **argv)
{
    int64_t n = (int64_t)1 << 24;
    int nblocks = 16, iters = 20, warm = 3, rounds = 3, omp_threads = 0, verbose = 0;
    int pin_main = 0, idle_workers = 0;
    double alpha = 0.5;
    int opt;
    while ((opt = getopt(argc, argv, "n:b:i:w:R:t:a:vpsh")) != -1) {
        switch (opt) {
        case 'n': n = strtoll(optarg, NULL, 0); break;
        case 'b': nblocks = atoi(optarg); break;
        case 'i': iters = atoi(optarg); break;
        case 'w': warm = atoi(optarg); break;
        case 'R': rounds = atoi(optarg); break;
        case 't': omp_threads = atoi(optarg); break;
        case 'a': alpha = atof(optarg); break;
        case 'v': verbose = 1; break;
        case 'p': pin_main = 1; break;
        case 's': idle_workers = 1; break;
        default: usage(argv[0]); return 2;
        }
    }
    if (n < 1 || nblocks < 1 || nblocks > n || iters < 1 || warm < 0 || rounds < 1 ||
        rounds > 256) {
        usage(argv[0]);
        return 2;
    }

    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);

    /* What the user asked for, before sj_init sets its own defaults. */
    char user_env[512];
    snprintf(user_env, sizeof user_env,
             "SJ_PLACEMENT=%s SJ_SCHED=%s SJ_NCPUS=%s STARPU_NCPU=%s STARPU_WORKERS_NOBIND=%s "
             "STARPU_MPI_NOBIND=%s STARPU_MPI_THREAD_CPUID=%s STARPU_SCHED=%s "
             "OMPI_MCA_mpi_yield_when_idle=%s",
             env_or("SJ_PLACEMENT", "-"), env_or("SJ_SCHED", "-"), env_or("SJ_NCPUS", "-"),
             env_or("STARPU_NCPU", "-"), env_or("STARPU_WORKERS_NOBIND", "-"),
             env_or("STARPU_MPI_NOBIND", "-"), env_or("STARPU_MPI_THREAD_CPUID", "-"),
             env_or("STARPU_SCHED", "-"), env_or("OMPI_MCA_mpi_yield_when_idle", "-"));
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;

    /* The baseline's data, on rank 0, allocated and first touched once. */
    double *bx = NULL, *by = NULL;
    int nthreads = 0;
    if (me == 0) {
        if (omp_threads <= 0) {
            cpu_set_t set;
            omp_threads = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 2;
        }
        omp_set_num_threads(omp_threads);
#pragma omp parallel
#pragma omp single
        nthreads = omp_get_num_threads();
        if (posix_memalign((void **)&bx, 64, (size_t)n * sizeof *bx) ||
            posix_memalign((void **)&by, 64, (size_t)n * sizeof *by)) {
            fprintf(stderr, "bench_axpy_dot: out of memory for the baseline\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; i++) {
            bx[i] = 1.0;
            by[i] = 2.0;
        }
    }

    result_t *omp = calloc((size_t)rounds, sizeof *omp);
    result_t *sj = calloc((size_t)rounds, sizeof *sj);
    double *ratio = calloc((size_t)rounds, sizeof *ratio);
    const char *sched = "lws", *placement = "split";
    char sj_env[256] = "";
    for (int r = 0; r < rounds; r++) {
        /* 1. The baseline on rank 0, the others asleep (StarPU is not running). */
        if (me == 0)
            run_openmp(&omp[r], n, bx, by, warm, iters, alpha);
        quiet_barrier();

        /* 2. starjets. */
        sj_init_options_t opts;
        sj_init_options_default(&opts);
        cpu_set_t saved;
        sched_getaffinity(0, sizeof saved, &saved);
        CHECK(sj_init(&argc, &argv, &opts));
        if (pin_main)
            pin_main_to_workers();
        if (idle_workers)
            workers_sched_idle();
        sched = opts.sched ? opts.sched : "lws";
        placement = opts.placement == SJ_PLACE_SPLIT          ? "split"
                    : opts.placement == SJ_PLACE_SPLIT_NOBIND ? "nobind"
                                                              : "starpu";
        run_starjets(&sj[r], n, nblocks, warm, iters, alpha);
        snprintf(sj_env, sizeof sj_env,
                 "ncpus=%d STARPU_WORKERS_NOBIND=%s STARPU_MPI_NOBIND=%s "
                 "STARPU_MPI_THREAD_CPUID=%s",
                 sj_ncpus(), env_or("STARPU_WORKERS_NOBIND", "-"),
                 env_or("STARPU_MPI_NOBIND", "-"), env_or("STARPU_MPI_THREAD_CPUID", "-"));
        CHECK(sj_finalize());
        sched_setaffinity(0, sizeof saved, &saved);
        ratio[r] = me == 0 ? omp[r].iter_s / sj[r].iter_s : 0;
        if (verbose && me == 0)
            fprintf(stderr,
                    "round %d: openmp %.3f ms, starjets %.3f ms, ratio %.3f; openmp threads: %s; "
                    "starjets rank 0 threads: %s\n  openmp ms: %s\n  starjets ms: %s\n",
                    r, omp[r].iter_s * 1e3, sj[r].iter_s * 1e3, ratio[r], omp[r].threads,
                    sj[r].threads, omp[r].times, sj[r].times);
    }

    /* Gather the per-rank descriptions (last round) and the checks on rank 0. */
    const size_t tsz = sizeof sj[0].threads;
    char *all_threads = me == 0 ? malloc((size_t)np * tsz) : NULL;
    char *all_env = me == 0 ? malloc((size_t)np * sizeof sj_env) : NULL;
    MPI_Gather(sj[rounds - 1].threads, (int)tsz, MPI_CHAR, all_threads, (int)tsz, MPI_CHAR, 0,
               MPI_COMM_WORLD);
    MPI_Gather(sj_env, sizeof sj_env, MPI_CHAR, all_env, sizeof sj_env, MPI_CHAR, 0,
               MPI_COMM_WORLD);
    int bad = 0, anybad = 0;
    for (int r = 0; r < rounds; r++) {
        if (sj[r].bad)
            fprintf(stderr,
                    "bench_axpy_dot: rank %d round %d: %d wrong starjets dot(s), first %.17g, "
                    "expected %.17g\n",
                    me, r, sj[r].bad, sj[r].first_bad, sj[r].first_expected);
        if (omp[r].bad)
            fprintf(stderr,
                    "bench_axpy_dot: round %d: %d wrong OpenMP dot(s), first %.17g, expected "
                    "%.17g\n",
                    r, omp[r].bad, omp[r].first_bad, omp[r].first_expected);
        bad += sj[r].bad + omp[r].bad;
    }
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);

    if (me == 0) {
        const double bytes = 5.0 * 8.0 * (double)n;
        const double sj_s = RMED(sj, rounds, iter_s), omp_s = RMED(omp, rounds, iter_s);
        printf("{\"bench\":\"axpy_dot\",\"n\":%lld,\"blocks\":%d,\"ranks\":%d,\"iterations\":%d,"
               "\"warmups\":%d,\"rounds\":%d,",
               (long long)n, nblocks, np, iters, warm, rounds);
        printf("\"starjets_s\":%.6g,\"openmp_s\":%.6g,\"starjets_GBps\":%.4g,\"openmp_GBps\":%.4g,"
               "\"ratio\":%.4f,\"target\":0.85,\"ratio_median_of_rounds\":%.4f,",
               sj_s, omp_s, bytes / sj_s * 1e-9, bytes / omp_s * 1e-9, omp_s / sj_s,
               median(ratio, rounds));
        printf("\"ratio_per_round\":[");
        for (int r = 0; r < rounds; r++)
            printf("%s%.4f", r ? "," : "", ratio[r]);
        printf("],");
        printf("\"starjets_min_s\":%.6g,\"starjets_max_s\":%.6g,\"openmp_min_s\":%.6g,"
               "\"openmp_max_s\":%.6g,",
               RMED(sj, rounds, iter_min_s), RMED(sj, rounds, iter_max_s),
               RMED(omp, rounds, iter_min_s), RMED(omp, rounds, iter_max_s));
        printf("\"starjets_axpy_s\":%.6g,\"starjets_dot_s\":%.6g,\"openmp_axpy_s\":%.6g,"
               "\"openmp_dot_s\":%.6g,",
               RMED(sj, rounds, axpy_s), RMED(sj, rounds, dot_s), RMED(omp, rounds, axpy_s),
               RMED(omp, rounds, dot_s));
        printf("\"openmp_threads\":%d,\"sched\":\"%s\",\"placement\":\"%s\",\"pin_main\":%s,"
               "\"idle_workers\":%s,\"user_env\":\"%s\",",
               nthreads, sched, placement, pin_main ? "true" : "false",
               idle_workers ? "true" : "false", user_env);
        print_strings("ranks_env", all_env, sizeof sj_env, np, 0);
        printf("\"openmp_threads_cpu_per_wall\":\"%s\",", omp[rounds - 1].threads);
        print_strings("threads_cpu_per_wall", all_threads, tsz, np, 0);
        printf("\"load1\":%.2f,\"correct\":%s}\n", load[0], anybad ? "false" : "true");
        fflush(stdout);
    }
    free(all_threads);
    free(all_env);
    free(omp);
    free(sj);
    free(ratio);
    free(bx);
    free(by);
    MPI_Finalize();
    return anybad ? 1 : 0;
}
