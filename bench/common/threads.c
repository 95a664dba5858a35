/*
 * Per-thread diagnostics from /proc/self/task (who ran, who waited for a
 * core), the -p / -s placement experiments and the timed starjets steps of
 * the operator benchmarks: see bench.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

/* The first line of a /proc file, without its newline; 0 when unreadable. */
static int read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = 0;
    return ok;
}

static void read_thread(thr_t *p, int tid)
{
    char path[64], buf[2048];
    memset(p, 0, sizeof *p);
    p->tid = tid;
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
    if (read_line(path, buf, sizeof buf))
        snprintf(p->name, sizeof p->name, "%.19s", buf);
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", tid);
    unsigned long long run = 0, wait = 0;
    if (read_line(path, buf, sizeof buf) &&
        sscanf(buf, "%llu %llu %ld", &run, &wait, &p->slices) == 3) {
        p->run_s = 1e-9 * (double)run;
        p->wait_s = 1e-9 * (double)wait;
    }
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(buf, sizeof buf, f))
        if (strncmp(buf, "Cpus_allowed_list:", 18) == 0) {
            char *c = buf + 18;
            c += strspn(c, " \t");
            c[strcspn(c, "\n")] = 0;
            snprintf(p->cpus, sizeof p->cpus, "%.23s", c);
        }
    fclose(f);
}

int thr_snapshot(thr_t *t, int max)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max)
        if (e->d_name[0] != '.')
            read_thread(&t[n++], atoi(e->d_name));
    closedir(d);
    return n;
}

/* Thread b[i]'s state in snapshot a, or NULL when it was not alive then. */
static const thr_t *before(const thr_t *a, int na, const thr_t *b)
{
    for (int j = 0; j < na; j++)
        if (a[j].tid == b->tid)
            return &a[j];
    return NULL;
}

void thr_report(const char *what, int rank, const thr_t *a, int na, const thr_t *b, int nb,
                double wall)
{
    char line[2048];
    size_t len = 0;
    line[0] = 0;
    for (int i = 0; i < nb; i++) {
        const thr_t *p = before(a, na, &b[i]);
        double run = b[i].run_s - (p ? p->run_s : 0);
        double wait = b[i].wait_s - (p ? p->wait_s : 0);
        long sl = b[i].slices - (p ? p->slices : 0);
        if (run < 0.002 * wall && wait < 0.002 * wall)
            continue;
        const char *name = b[i].tid == (int)getpid() ? "main" : b[i].name;
        int k = snprintf(line + len, sizeof line - len, "%s%s: run %.0f wait %.0f ms, %ld sl",
                         len ? "; " : "", name, run * 1e3, wait * 1e3, sl);
        if (k < 0 || (size_t)k >= sizeof line - len)
            break;
        len += (size_t)k;
    }
    fprintf(stderr, "  rank %d %s (%.0f ms): %s\n", rank, what, wall * 1e3, line);
}

void thr_describe(const thr_t *a, int na, const thr_t *b, int nb, double wall, char *out,
                  size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < nb; i++) {
        const thr_t *p = before(a, na, &b[i]);
        double use = b[i].run_s - (p ? p->run_s : 0);
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
        int k = snprintf(out + len, size - len, "%s%s[%s]=%.2f", len ? "; " : "", label, b[i].cpus,
                         use / wall);
        if (k < 0 || (size_t)k >= size - len)
            break;
        len += (size_t)k;
    }
}

void experiments(int pin_main, int idle_workers)
{
    if (!pin_main && !idle_workers)
        return;
    thr_t t[MAX_THR];
    int n = thr_snapshot(t, MAX_THR);
    cpu_set_t all;
    CPU_ZERO(&all);
    struct sched_param sp = {0};
    for (int i = 0; i < n; i++) {
        if (strncmp(t[i].name, "CPU ", 4) != 0) /* StarPU's CPU workers: "CPU 0", ... */
            continue;
        cpu_set_t one;
        if (sched_getaffinity(t[i].tid, sizeof one, &one) == 0)
            CPU_OR(&all, &all, &one);
        if (idle_workers && sched_setscheduler(t[i].tid, SCHED_IDLE, &sp))
            perror("sched_setscheduler(SCHED_IDLE)");
    }
    if (pin_main && CPU_COUNT(&all) > 0)
        sched_setaffinity(0, sizeof all, &all);
}

long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

double sj_time_steps(const bench_t *b, const char *what, int warm, void (*step)(void *arg),
                     void *arg, double *faults)
{
    for (int it = 0; it < warm; it++)
        step(arg);
    thr_t s0[MAX_THR], s1[MAX_THR];
    int n0 = b->verbose ? thr_snapshot(s0, MAX_THR) : 0;
    double *t = xmalloc((size_t)b->iters * sizeof *t);
    const long f0 = minor_faults();
    const double w0 = now();
    for (int it = 0; it < b->iters; it++) {
        double t0 = now();
        step(arg);
        t[it] = now() - t0;
    }
    *faults = (double)(minor_faults() - f0) / b->iters;
    if (b->verbose) {
        int n1 = thr_snapshot(s1, MAX_THR);
        thr_report(what, b->me, s0, n0, s1, n1, now() - w0);
        if (b->me == 0) {
            fprintf(stderr, "  starjets %s ms:", what);
            for (int it = 0; it < b->iters; it++)
                fprintf(stderr, " %.1f", t[it] * 1e3);
            fprintf(stderr, "\n");
        }
    }
    double m = median(t, b->iters);
    free(t);
    return m;
}
