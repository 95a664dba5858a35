/*
 * Thread diagnostics shared by the operator benchmarks: find StarPU's CPU
 * workers, the -p / -s placement experiments, and per-thread CPU snapshots
 * for -v. Linux only (reads /proc/self/task). Include after the system
 * headers the benchmarks already use (dirent, sched, sys/resource).
 */
#ifndef SJ_BENCH_THREADS_H
#define SJ_BENCH_THREADS_H

/* The CPUs StarPU's CPU workers ("CPU 0", ...) of this process may run on. */
static int worker_cpus(cpu_set_t *all, int *tids, int max)
{
    CPU_ZERO(all);
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(name, sizeof name, f))
            name[0] = 0;
        fclose(f);
        if (strncmp(name, "CPU ", 4) != 0)
            continue;
        cpu_set_t one;
        if (sched_getaffinity(atoi(e->d_name), sizeof one, &one) == 0)
            CPU_OR(all, all, &one);
        if (n < max)
            tids[n++] = atoi(e->d_name);
    }
    closedir(d);
    return n;
}

/* -p: pin the application thread to its rank's worker cores; -s: workers under SCHED_IDLE. */
static void experiments(int pin_main, int idle_workers)
{
    cpu_set_t all;
    int tids[64];
    int n = worker_cpus(&all, tids, 64);
    if (pin_main && CPU_COUNT(&all) > 0)
        sched_setaffinity(0, sizeof all, &all);
    struct sched_param sp = {0};
    for (int i = 0; idle_workers && i < n; i++)
        if (sched_setscheduler(tids[i], SCHED_IDLE, &sp))
            perror("sched_setscheduler(SCHED_IDLE)");
}


/* ---- -v: who ran and who waited for a core (/proc/self/task/N/schedstat) ------------- */

#define MAX_THR 64
typedef struct thr {
    int tid;
    char name[20];
    double run_s, wait_s; /* on a CPU; runnable but waiting for one */
    long slices;
} thr_t;

static int thr_snapshot(thr_t *t, int max)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.')
            continue;
        thr_t *p = &t[n];
        memset(p, 0, sizeof *p);
        p->tid = atoi(e->d_name);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/comm", p->tid);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(p->name, sizeof p->name, f))
                p->name[strcspn(p->name, "\n")] = 0;
            fclose(f);
        }
        snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", p->tid);
        f = fopen(path, "r");
        if (f) {
            unsigned long long run = 0, wait = 0;
            if (fscanf(f, "%llu %llu %ld", &run, &wait, &p->slices) == 3) {
                p->run_s = 1e-9 * (double)run;
                p->wait_s = 1e-9 * (double)wait;
            }
            fclose(f);
        }
        n++;
    }
    closedir(d);
    return n;
}

/* One line: per thread, CPU time and wait-for-a-core time over the interval, in ms. */
static void thr_report(const char *what, int rank, const thr_t *a, int na, const thr_t *b, int nb,
                       double wall)
{
    char line[2048];
    size_t len = 0;
    for (int i = 0; i < nb; i++) {
        const thr_t *before = NULL;
        for (int j = 0; j < na; j++)
            if (a[j].tid == b[i].tid)
                before = &a[j];
        double run = b[i].run_s - (before ? before->run_s : 0);
        double wait = b[i].wait_s - (before ? before->wait_s : 0);
        long sl = b[i].slices - (before ? before->slices : 0);
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

#endif /* SJ_BENCH_THREADS_H */
