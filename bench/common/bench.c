/* The benchmarks' shared basics: see bench.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ---- memory, clocks, statistics ------------------------------------------------------------ */

void *xmalloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64)) {
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", program_invocation_short_name, bytes);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = xmalloc(count * size);
    memset(p, 0, count * size);
    return p;
}

double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median(const double *v, int n)
{
    double *s = xmalloc((size_t)n * sizeof *s);
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

double vmin(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

double vmax(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

int64_t count_diff(const double *a, const double *b, int64_t n)
{
    int64_t bad = 0;
    for (int64_t k = 0; k < n; k++)
        bad += a[k] != b[k];
    return bad;
}

double rel_err(const double *got, const double *ref, int64_t n)
{
    double err = 0, mag = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(got[i] - ref[i]);
        err = e > err || e != e ? e : err;
        mag = fmax(mag, fabs(ref[i]));
    }
    return mag > 0 ? err / mag : err;
}

int cores_allowed(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 2;
}

double load1(void)
{
    double load[3];
    return getloadavg(load, 3) < 1 ? -1 : load[0];
}

const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

double time_steps(int warm, int iters, void (*step)(void *arg), void *arg, double *t)
{
    for (int it = 0; it < warm; it++)
        step(arg);
    for (int it = 0; it < iters; it++) {
        double t0 = now();
        step(arg);
        t[it] = now() - t0;
    }
    return iters > 0 ? median(t, iters) : 0;
}

/* ---- MPI ---------------------------------------------------------------------------------------
 */

void quiet_barrier(void)
{
    MPI_Request req;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    int done = 0;
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        sleep_ms(1);
}

int64_t sum_ranks(int64_t v)
{
    int64_t all = 0;
    MPI_Allreduce(&v, &all, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    return all;
}

void *gather(const void *v, int count, MPI_Datatype type)
{
    int me, np, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    MPI_Type_size(type, &size);
    void *all = me == 0 ? xmalloc((size_t)np * (size_t)count * (size_t)size) : NULL;
    MPI_Gather(v, count, type, all, count, type, 0, MPI_COMM_WORLD);
    return all;
}

/* ---- JSON --------------------------------------------------------------------------------------
 */

void print_array(const char *key, const char *fmt, const double *v, int n)
{
    printf("\"%s\":[", key);
    for (int i = 0; i < n; i++) {
        if (i)
            putchar(',');
        printf(fmt, v[i]);
    }
    printf("],");
}

void print_int_array(const char *key, const int *v, int n)
{
    printf("\"%s\":[", key);
    for (int i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", v[i]);
    printf("],");
}

void print_us_array(const double *v, int n)
{
    printf("[");
    for (int r = 0; r < n; r++)
        printf("%s%.3f", r ? "," : "", v[r] * 1e6);
    printf("]");
}

const char *json_bool(int b)
{
    return b ? "true" : "false";
}

/* ---- options -----------------------------------------------------------------------------------
 */

static int parse_value(const bench_opt_t *o, const char *arg)
{
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case OPT_INT: {
        long long v = strtoll(arg, &end, 0);
        if (v < -2147483647LL || v > 2147483647LL)
            return -1;
        *(int *)o->dst = (int)v;
        break;
    }
    case OPT_I64:
        *(int64_t *)o->dst = strtoll(arg, &end, 0);
        break;
    case OPT_SIZE:
        *(size_t *)o->dst = (size_t)strtoull(arg, &end, 0);
        break;
    case OPT_DOUBLE:
        *(double *)o->dst = strtod(arg, &end);
        break;
    case OPT_GRID: {
        int *g = o->dst;
        return sscanf(arg, "%dx%d", &g[0], &g[1]) == 2 ? 0 : -1;
    }
    case OPT_FLAG:
        *(int *)o->dst = 1;
        return 0;
    }
    return errno || end == arg || *end ? -1 : 0;
}

int bench_parse(int argc, char **argv, const bench_opt_t *opt, int nopt)
{
    char spec[128];
    size_t len = 0;
    for (int k = 0; k < nopt && len + 3 < sizeof spec; k++) {
        spec[len++] = opt[k].letter;
        if (opt[k].kind != OPT_FLAG)
            spec[len++] = ':';
    }
    spec[len++] = 'h';
    spec[len] = 0;
    int c;
    while ((c = getopt(argc, argv, spec)) != -1) {
        int k = 0;
        while (k < nopt && opt[k].letter != c)
            k++;
        if (k == nopt || parse_value(&opt[k], optarg) != 0)
            return 2;
    }
    return optind < argc ? 2 : 0;
}

int bench_usage(const char *prog, const bench_opt_t *opt, int nopt)
{
    fprintf(stderr, "usage: %s", prog);
    for (int k = 0; k < nopt; k++) {
        if (opt[k].kind == OPT_FLAG)
            fprintf(stderr, " [-%c]", opt[k].letter);
        else
            fprintf(stderr, " [-%c %s]", opt[k].letter, opt[k].name);
    }
    fprintf(stderr, "\n");
    return 2;
}

/* ---- a baseline against starjets, round by round -----------------------------------------------
 */

int bench_valid(const bench_t *b)
{
    return b->iters >= 1 && b->warm >= 0 && b->rounds >= 1 && b->rounds <= MAX_ROUNDS;
}

void bench_start(bench_t *b, int *argc, char ***argv)
{
    int level = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &level);
    MPI_Comm_rank(MPI_COMM_WORLD, &b->me);
    MPI_Comm_size(MPI_COMM_WORLD, &b->np);
    b->load_start = load1();
    if (b->me == 0) {
        if (b->threads <= 0)
            b->threads = cores_allowed();
        omp_set_num_threads(b->threads);
    }
}

void bench_session_begin(bench_session_t *s, const bench_t *b, int *argc, char ***argv)
{
    sj_init_options_default(&s->opts);
    sched_getaffinity(0, sizeof s->saved, &s->saved);
    CHECK(sj_init(argc, argv, &s->opts));
    experiments(b->pin_main, b->idle_workers);
}

void bench_session_end(bench_session_t *s)
{
    CHECK(sj_finalize());
    sched_setaffinity(0, sizeof s->saved, &s->saved);
}
