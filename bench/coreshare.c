/*
 * bench_coreshare: what it costs a rank when its communication thread shares
 * a core with a computing worker. No starjets and no MPI traffic: three
 * plain threads measure the operating system's part of a cross-rank step.
 *
 * A "worker" thread computes in chunks of about -c microseconds on core A;
 * a "poller" thread on the same core A waits for events the way a progress
 * thread waits for messages; the main thread on core B raises an event every
 * -P microseconds (a flag: a message arriving) and records how long the
 * poller takes to notice it. Each mode is timed for -e events:
 *
 *   alone          the worker alone: its chunk rate is the reference;
 *   yield          the poller spins on sched_yield() (StarPU-MPI's progress
 *                  thread with the latency patch, while messages are
 *                  expected);
 *   yield+worker   the same, and the worker yields after each chunk (as
 *                  after each task with STARPU_WORKER_YIELD=1);
 *   sleep T        the poller sleeps T microseconds between polls (-T, a
 *                  comma-separated list: the sleeping poll);
 *   signal         the poller blocks on a condition variable that the main
 *                  thread signals with the event (a wake-up, as when a
 *                  worker hands a message to the progress thread).
 *
 * Reported per mode: the median and 90th percentile of the delay, in
 * microseconds, and the worker's rate as a fraction of its rate alone
 * (the mean of an "alone" run first and another last).
 * Neither is a starjets number: they tell what a node's scheduler makes of
 * two busy threads on one core, which decides whether a progress thread
 * needs a core of its own (docs/latency.md). Needs 2 cores in the affinity
 * mask (with one, the main thread shares the core too).
 *
 *   mpiexec -n 1 ./bench_coreshare [-e events] [-P period_us] [-c chunk_us]
 *                                  [-T sleep_us,...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_SLEEPS 8

enum mode { ALONE, YIELD, YIELD_WORKER, SLEEP, SIGNAL };

static struct {
    enum mode mode;
    int worker_yields;
    long sleep_ns;
    int cpu_a, cpu_b;
    long chunk_iters;
    atomic_int stop;
    atomic_long chunks;
    atomic_int flag;    /* the event: set by main, cleared by the poller */
    atomic_int noticed; /* events the poller has seen */
    pthread_mutex_t mutex;
    pthread_cond_t cond;
} S = {.mutex = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        fprintf(stderr, "bench_coreshare: cannot pin a thread to core %d\n", cpu);
        exit(2);
    }
}

static double chunk(long iters)
{
    volatile double x = 0.0;
    for (long i = 0; i < iters; i++)
        x += (double)i * 1e-9;
    return x;
}

static void *worker(void *arg)
{
    (void)arg;
    pin(S.cpu_a);
    while (!atomic_load(&S.stop)) {
        chunk(S.chunk_iters);
        atomic_fetch_add(&S.chunks, 1);
        if (S.worker_yields)
            sched_yield();
    }
    return NULL;
}

static void *poller(void *arg)
{
    (void)arg;
    pin(S.cpu_a);
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* short sleeps stay short */
    while (!atomic_load(&S.stop)) {
        if (atomic_exchange(&S.flag, 0)) {
            atomic_fetch_add(&S.noticed, 1);
            continue;
        }
        if (S.mode == YIELD || S.mode == YIELD_WORKER) {
            sched_yield();
        } else if (S.mode == SLEEP) {
            struct timespec d = {S.sleep_ns / 1000000000L, S.sleep_ns % 1000000000L};
            nanosleep(&d, NULL);
        } else { /* SIGNAL */
            pthread_mutex_lock(&S.mutex);
            while (!atomic_load(&S.flag) && !atomic_load(&S.stop))
                pthread_cond_wait(&S.cond, &S.mutex);
            pthread_mutex_unlock(&S.mutex);
        }
    }
    return NULL;
}

typedef struct result {
    char name[32];
    double median_us, p90_us, rate;
    int missed;
} result_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One mode: events raised from core B every period; rate = worker chunks per second. */
static void run_mode(enum mode mode, long sleep_us, int events, double period, result_t *r,
                     double *delay)
{
    S.mode = mode;
    S.worker_yields = mode == YIELD_WORKER;
    S.sleep_ns = sleep_us * 1000L;
    atomic_store(&S.stop, 0);
    atomic_store(&S.chunks, 0);
    atomic_store(&S.flag, 0);
    atomic_store(&S.noticed, 0);
    pthread_t tw, tp;
    if (pthread_create(&tw, NULL, worker, NULL) != 0 ||
        (mode != ALONE && pthread_create(&tp, NULL, poller, NULL) != 0)) {
        fprintf(stderr, "bench_coreshare: cannot start a thread\n");
        exit(2);
    }
    sleep_ms(20);
    const long c0 = atomic_load(&S.chunks);
    const double t0 = now();
    int got = 0, missed = 0;
    for (int e = 0; e < events; e++) {
        const double due = t0 + (e + 1) * period;
        while (now() < due)
            ;
        if (mode == ALONE)
            continue;
        const int before = atomic_load(&S.noticed);
        const double ts = now();
        if (mode == SIGNAL) {
            pthread_mutex_lock(&S.mutex);
            atomic_store(&S.flag, 1);
            pthread_cond_signal(&S.cond);
            pthread_mutex_unlock(&S.mutex);
        } else {
            atomic_store(&S.flag, 1);
        }
        /* wait for the poller, at most 20 ms (then the event counts as missed) */
        while (atomic_load(&S.noticed) == before && now() - ts < 0.02)
            ;
        if (atomic_load(&S.noticed) == before) {
            missed++;
            atomic_store(&S.flag, 0);
            continue;
        }
        delay[got++] = (now() - ts) * 1e6;
    }
    const double t1 = now();
    const long c1 = atomic_load(&S.chunks);
    atomic_store(&S.stop, 1);
    pthread_mutex_lock(&S.mutex);
    pthread_cond_broadcast(&S.cond);
    pthread_mutex_unlock(&S.mutex);
    pthread_join(tw, NULL);
    if (mode != ALONE)
        pthread_join(tp, NULL);
    static const char *names[] = {"alone", "yield", "yield+worker", "sleep", "signal"};
    if (mode == SLEEP)
        snprintf(r->name, sizeof r->name, "sleep %ld", sleep_us);
    else
        snprintf(r->name, sizeof r->name, "%s", names[mode]);
    r->rate = (double)(c1 - c0) / (t1 - t0);
    r->missed = missed;
    r->median_us = r->p90_us = 0.0;
    if (got > 0) {
        qsort(delay, (size_t)got, sizeof *delay, cmp_double);
        r->median_us = delay[got / 2];
        r->p90_us = delay[(got * 9) / 10];
    }
}

int main(int argc, char **argv)
{
    int events = 2000;
    double period_us = 500.0, chunk_us = 25.0;
    char sleeps_arg[64] = "5,20,50";
    char *sleeps_opt = NULL;
    int c;
    while ((c = getopt(argc, argv, "e:P:c:T:")) != -1) {
        switch (c) {
        case 'e':
            events = atoi(optarg);
            break;
        case 'P':
            period_us = atof(optarg);
            break;
        case 'c':
            chunk_us = atof(optarg);
            break;
        case 'T':
            sleeps_opt = optarg;
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-e events] [-P period_us] [-c chunk_us] [-T sleep_us,...]\n",
                    argv[0]);
            return 2;
        }
    }
    if (events < 1 || period_us < 50.0 || chunk_us <= 0.0) {
        fprintf(stderr, "%s: need -e >= 1, -P >= 50 and -c > 0\n", argv[0]);
        return 2;
    }
    if (sleeps_opt)
        snprintf(sleeps_arg, sizeof sleeps_arg, "%s", sleeps_opt);
    long sleeps[MAX_SLEEPS];
    int nsleeps = 0;
    for (char *save = NULL, *tok = strtok_r(sleeps_arg, ",", &save); tok && nsleeps < MAX_SLEEPS;
         tok = strtok_r(NULL, ",", &save)) {
        sleeps[nsleeps] = atol(tok);
        if (sleeps[nsleeps] < 1) {
            fprintf(stderr, "%s: -T takes sleeps of at least 1 us\n", argv[0]);
            return 2;
        }
        nsleeps++;
    }

    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) {
        fprintf(stderr, "%s: cannot read the affinity mask\n", argv[0]);
        return 2;
    }
    S.cpu_a = S.cpu_b = -1;
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (!CPU_ISSET(i, &mask))
            continue;
        if (S.cpu_a < 0)
            S.cpu_a = i;
        else if (S.cpu_b < 0)
            S.cpu_b = i;
    }
    if (S.cpu_b < 0) /* one core: the main thread shares it too, and the delays grow */
        S.cpu_b = S.cpu_a;
    pin(S.cpu_b);

    /* calibrate a chunk of about chunk_us */
    S.chunk_iters = 1000;
    for (;;) {
        const double t = now();
        chunk(S.chunk_iters);
        const double us = (now() - t) * 1e6;
        if (us > 200.0 || S.chunk_iters > (1L << 30)) {
            S.chunk_iters = (long)((double)S.chunk_iters * chunk_us / us) + 1;
            break;
        }
        S.chunk_iters *= 2;
    }

    double *delay = xmalloc((size_t)events * sizeof *delay);
    result_t res[5 + MAX_SLEEPS];
    int nres = 0;
    const double period = period_us * 1e-6;
    const double load = load1();
    run_mode(ALONE, 0, events, period, &res[nres++], delay);
    run_mode(YIELD, 0, events, period, &res[nres++], delay);
    run_mode(YIELD_WORKER, 0, events, period, &res[nres++], delay);
    for (int i = 0; i < nsleeps; i++)
        run_mode(SLEEP, sleeps[i], events, period, &res[nres++], delay);
    run_mode(SIGNAL, 0, events, period, &res[nres++], delay);
    result_t again; /* the worker alone once more: the machine's speed drifts */
    run_mode(ALONE, 0, events, period, &again, delay);
    free(delay);

    const double alone = 0.5 * (res[0].rate + again.rate);
    printf("{\"bench\":\"coreshare\",\"cores\":[%d,%d],\"events\":%d,\"period_us\":%g,"
           "\"chunk_us\":%g,\"load\":%.2f,\"modes\":[",
           S.cpu_a, S.cpu_b, events, period_us, chunk_us, load);
    int missed = 0;
    for (int i = 0; i < nres; i++) {
        printf("%s{\"mode\":\"%s\",\"delay_us_median\":%.2f,\"delay_us_p90\":%.2f,"
               "\"worker_rate\":%.3f,\"missed\":%d}",
               i ? "," : "", res[i].name, res[i].median_us, res[i].p90_us,
               alone > 0 ? res[i].rate / alone : 0.0, res[i].missed);
        missed += i > 0 ? res[i].missed : 0;
    }
    /* the two numbers the report shows: a yielding poller's delay, alone and with a
     * worker that yields after each chunk */
    printf("],\"yield_delay_us\":%.2f,\"yield_worker_delay_us\":%.2f,\"signal_delay_us\":%.2f,"
           "\"missed\":%d,\"correct\":%s}\n",
           res[1].median_us, res[2].median_us, res[nres - 1].median_us, missed,
           json_bool(res[1].median_us > 0 && res[2].median_us > 0));
    return 0;
}
