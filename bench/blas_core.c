/*
 * bench_blas_core: which OpenBLAS kernel is the fastest that computes correct
 * results on this machine. OpenBLAS built with DYNAMIC_ARCH (Debian's) picks
 * its kernels from the CPU it recognises and falls back to a generic one on a
 * CPU it does not know: Debian's 0.3.21 runs the SSE3 "Prescott" kernels on
 * an AVX-512 Xeon of family 6 model 207, several times below what the cores
 * do. OPENBLAS_CORETYPE=<name> forces a kernel, read when the library loads,
 * so each candidate runs in a process of its own.
 *
 *   bench_blas_core [-n N] [-r R] [-P P] [-t T]
 *   (bench/run runs it first and runs the other benchmarks with its pick)
 *
 * Options: -n N (dgemm order, default 1536), -r R (timed products per kernel
 * and pass, 2), -P P (passes over all candidates, 2: a kernel's rate is its
 * best pass, so that a burst of load from elsewhere does not decide alone),
 * -t T (OpenBLAS threads, default: the cores this process may use).
 *
 * Candidates: OpenBLAS's own pick (OPENBLAS_CORETYPE unset), then Cooperlake,
 * SkylakeX, Haswell, Zen, Sandybridge and Prescott (the generic one), each
 * tried only when /proc/cpuinfo lists the instructions its kernels use. A
 * child process per candidate reports the core OpenBLAS then names
 * (openblas_get_corename: a name it does not know falls back to another
 * core, and the candidate counts as not run), checks the kernels on exact
 * integer products (dgemm NN, TN, NT and dgemv N, T on odd sizes against
 * plain loops, and 4096 sampled entries of the timed product) and times R
 * products C = A B of order N after one warm-up, on T threads: GFlop/s =
 * 2 N^3 / median time.
 *
 * Reported: every candidate's core, rate, wrong entries and status (ok,
 * wrong, crashed, not_forced, unsupported), OpenBLAS's own pick and its
 * rate, the fastest correct kernel ("fastest", what bench/run exports as
 * OPENBLAS_CORETYPE) and ratio = fastest rate / OpenBLAS's own pick's.
 * correct is false when OpenBLAS's own pick computes a wrong entry or when
 * no candidate is correct (exit status 1).
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <ctype.h>
#include <errno.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

/* A candidate kernel and the /proc/cpuinfo flags its kernels need. */
static const struct {
    const char *name, *flags;
} cands[] = {
    {NULL, ""}, /* OpenBLAS's own pick */
    {"Cooperlake", "avx512f avx512cd avx512bw avx512dq avx512vl avx512_bf16"},
    {"SkylakeX", "avx512f avx512cd avx512bw avx512dq avx512vl"},
    {"Haswell", "avx2 fma"},
    {"Zen", "avx2 fma"},
    {"Sandybridge", "avx"},
    {"Prescott", "pni"},
};
#define NCANDS ((int)(sizeof cands / sizeof cands[0]))

/* Exact small integers (from a hash of the position), so every product is exact. */
static double entry(uint64_t k, uint64_t salt)
{
    uint64_t h = (k + salt) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return (double)((h >> 33) % 9) - 4.0;
}

static double *matrix(int64_t rows, int64_t cols, uint64_t salt)
{
    double *a = xmalloc((size_t)(rows * cols) * sizeof *a);
    for (int64_t k = 0; k < rows * cols; k++)
        a[k] = entry((uint64_t)k, salt);
    return a;
}

/* Entries of op(A) op(B) (m x n, inner k, column-major) that differ from plain loops. */
static int64_t check_dgemm(int ta, int tb, int m, int n, int k)
{
    const int lda = ta ? k : m, ldb = tb ? n : k;
    double *a = matrix(lda, ta ? m : k, 1), *b = matrix(ldb, tb ? k : n, 2);
    double *c = xcalloc((size_t)m * n, sizeof *c);
    cblas_dgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                k, 1.0, a, lda, b, ldb, 0.0, c, m);
    int64_t bad = 0;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int l = 0; l < k; l++)
                s +=
                    (ta ? a[l + lda * i] : a[i + lda * l]) * (tb ? b[j + ldb * l] : b[l + ldb * j]);
            bad += s != c[i + m * j];
        }
    free(a);
    free(b);
    free(c);
    return bad;
}

/* Entries of op(A) x (A m x n) that differ from plain loops. */
static int64_t check_dgemv(int ta, int m, int n)
{
    const int len = ta ? n : m, in = ta ? m : n;
    double *a = matrix(m, n, 3), *x = matrix(in, 1, 4), *y = xcalloc((size_t)len, sizeof *y);
    cblas_dgemv(CblasColMajor, ta ? CblasTrans : CblasNoTrans, m, n, 1.0, a, m, x, 1, 0.0, y, 1);
    int64_t bad = 0;
    for (int i = 0; i < len; i++) {
        double s = 0;
        for (int l = 0; l < in; l++)
            s += (ta ? a[l + (int64_t)m * i] : a[i + (int64_t)m * l]) * x[l];
        bad += s != y[i];
    }
    free(a);
    free(x);
    free(y);
    return bad;
}

typedef struct prod {
    int n;
    double *a, *b, *c;
} prod_t;

static void dgemm_step(void *arg)
{
    const prod_t *p = arg;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, p->n, p->n, p->n, 1.0, p->a, p->n, p->b,
                p->n, 0.0, p->c, p->n);
}

/* The child: one line "core wrong GFlops config" on stdout for the kernel it was started with. */
static int child(int n, int reps, int threads)
{
    openblas_set_num_threads(threads);
    int64_t wrong = check_dgemm(0, 0, 67, 45, 129) + check_dgemm(1, 0, 130, 67, 77) +
                    check_dgemm(0, 1, 33, 161, 100) + check_dgemm(0, 0, 160, 160, 160) +
                    check_dgemv(0, 301, 97) + check_dgemv(1, 301, 97);
    prod_t p = {n, matrix(n, n, 5), matrix(n, n, 6), xmalloc((size_t)n * n * sizeof(double))};
    double *t = xmalloc((size_t)reps * sizeof *t);
    const double s = time_steps(1, reps, dgemm_step, &p, t);
    for (int k = 0; k < 4096; k++) {
        int64_t i = ((int64_t)k * 7919) % n, j = ((int64_t)k * 104729 + 17) % n;
        double e = 0;
        for (int64_t l = 0; l < n; l++)
            e += p.a[i + (int64_t)n * l] * p.b[l + (int64_t)n * j];
        wrong += e != p.c[i + (int64_t)n * j];
    }
    printf("%s %lld %.6g %s\n", openblas_get_corename(), (long long)wrong,
           2.0 * n * (double)n * n / s * 1e-9, openblas_get_config());
    free(p.a);
    free(p.b);
    free(p.c);
    free(t);
    return 0;
}

typedef struct result {
    char core[32], config[256];
    const char *status;
    long long wrong;
    double gflops;
} result_t;

/* Run this program as a child with OPENBLAS_CORETYPE = coretype (unset when NULL). */
static void run_child(const char *coretype, char **argv, result_t *r)
{
    int fd[2];
    if (pipe(fd) != 0) {
        perror("pipe");
        exit(2);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    int count = 0;
    while (environ[count])
        count++;
    char **env = xcalloc((size_t)count + 3, sizeof *env);
    char forced[64];
    int k = 0;
    for (int i = 0; i < count; i++)
        if (strncmp(environ[i], "OPENBLAS_CORETYPE=", 18) != 0)
            env[k++] = environ[i];
    env[k++] = "SJ_BENCH_BLAS_CHILD=1";
    if (coretype) {
        snprintf(forced, sizeof forced, "OPENBLAS_CORETYPE=%s", coretype);
        env[k++] = forced;
    }
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    free(env);
    char line[512] = "";
    FILE *f = fdopen(fd[0], "r");
    if (!f || !fgets(line, sizeof line, f))
        line[0] = 0;
    if (f)
        fclose(f);
    int status = 0;
    if (rc == 0)
        waitpid(pid, &status, 0);
    int used = 0;
    r->status = "crashed";
    if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
        sscanf(line, "%31s %lld %lf %n", r->core, &r->wrong, &r->gflops, &used) == 3) {
        snprintf(r->config, sizeof r->config, "%s", line + used);
        r->config[strcspn(r->config, "\n")] = 0;
        r->status = coretype && strcasecmp(coretype, r->core) != 0 ? "not_forced"
                    : r->wrong                                     ? "wrong"
                                                                   : "ok";
    }
}

/* Whether every flag of the space-separated list is in the CPU's flags. */
static int cpu_has(const char *cpu, const char *flags)
{
    char want[128];
    snprintf(want, sizeof want, "%s", flags);
    for (char *f = strtok(want, " "); f; f = strtok(NULL, " ")) {
        size_t len = strlen(f);
        const char *p = cpu;
        while ((p = strstr(p, f)) && ((p > cpu && p[-1] != ' ') || (p[len] && p[len] != ' ')))
            p += len;
        if (!p)
            return 0;
    }
    return 1;
}

static void cpuinfo(char *model, size_t msize, char *flags, size_t fsize)
{
    char line[8192];
    model[0] = flags[0] = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        const char *v = strchr(line, ':');
        v = v ? v + 1 + strspn(v + 1, " \t") : "";
        if (!model[0] && strncmp(line, "model name", 10) == 0)
            snprintf(model, msize, "%s", v);
        if (!flags[0] && strncmp(line, "flags", 5) == 0)
            snprintf(flags, fsize, "%s", v);
    }
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    int n = 1536, reps = 2, passes = 2, threads = 0;
    bench_opt_t opt[] = {OPT('n', n, "order"), OPT('r', reps, "reps"), OPT('P', passes, "passes"),
                         OPT('t', threads, "threads")};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || n < 64 || reps < 1 || passes < 1)
        return bench_usage(argv[0], opt, NOPT(opt));
    if (threads <= 0)
        threads = cores_allowed();
    if (getenv("SJ_BENCH_BLAS_CHILD"))
        return child(n, reps, threads);

    char model[256], flags[8192];
    cpuinfo(model, sizeof model, flags, sizeof flags);
    const double load = load1();
    result_t res[NCANDS];
    int best = -1;
    for (int c = 0; c < NCANDS; c++) {
        memset(&res[c], 0, sizeof res[c]);
        res[c].status = cpu_has(flags, cands[c].flags) ? "ok" : "unsupported";
    }
    /* Passes over all candidates, so that a burst of load on the machine does not
     * decide alone: a kernel's rate is its best pass; one bad pass condemns it. */
    for (int p = 0; p < passes; p++)
        for (int c = 0; c < NCANDS; c++) {
            result_t r = {0};
            if (strcmp(res[c].status, "ok") != 0)
                continue;
            run_child(cands[c].name, argv, &r);
            r.gflops = r.gflops > res[c].gflops ? r.gflops : res[c].gflops;
            res[c] = r;
        }
    for (int c = 1; c < NCANDS; c++)
        if (strcmp(res[c].status, "ok") == 0 && (best < 0 || res[c].gflops > res[best].gflops))
            best = c;
    const result_t *d = &res[0];
    const int correct = best >= 0 && strcmp(d->status, "ok") == 0;
    printf(
        "{\"bench\":\"blas_core\",\"n\":%d,\"reps\":%d,\"passes\":%d,\"threads\":%d,"
        "\"cpu\":\"%s\",\"openblas_config\":\"%s\",\"default_core\":\"%s\",\"default_GFlops\":%.4g,"
        "\"default_status\":\"%s\",",
        n, reps, passes, threads, model, d->config, d->core, d->gflops, d->status);
    printf("\"fastest\":\"%s\",\"fastest_GFlops\":%.4g,\"ratio\":%.4f,\"candidates\":[",
           best >= 0 ? cands[best].name : "-", best >= 0 ? res[best].gflops : 0,
           best >= 0 && d->gflops > 0 ? res[best].gflops / d->gflops : 0);
    for (int c = 1; c < NCANDS; c++)
        printf("%s{\"coretype\":\"%s\",\"needs\":\"%s\",\"core\":\"%s\",\"GFlops\":%.4g,"
               "\"wrong\":%lld,\"status\":\"%s\"}",
               c > 1 ? "," : "", cands[c].name, cands[c].flags, res[c].core, res[c].gflops,
               res[c].wrong, res[c].status);
    printf("],\"load1\":%.2f,\"correct\":%s}\n", load, json_bool(correct));
    if (!correct)
        fprintf(stderr, "bench_blas_core: %s\n",
                best < 0 ? "no kernel computed correct results"
                         : "OpenBLAS's own kernel computed wrong results");
    return correct ? 0 : 1;
}
