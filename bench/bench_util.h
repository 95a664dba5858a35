/*
 * What every benchmark needs: a checked call, the median of timings, a clock,
 * and a barrier that does not spin. Needs _GNU_SOURCE (or POSIX) before the
 * first system header, for clock_gettime and nanosleep.
 */
#ifndef SJ_BENCH_UTIL_H
#define SJ_BENCH_UTIL_H

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

/* A starjets call that must succeed; otherwise every rank stops with status 2. */
#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != SJ_OK) {                                                                        \
            fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call,             \
                    sj_err_name(rc_), sj_last_error());                                            \
            MPI_Abort(MPI_COMM_WORLD, 2);                                                          \
        }                                                                                          \
    } while (0)

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double median(const double *v, int n)
{
    double *s = malloc((size_t)n * sizeof *s);
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

/* Seconds on the monotonic clock. */
static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/*
 * Wait for every rank in a barrier without spinning (1 ms polls), so that a
 * rank waiting here takes no core from a baseline another rank is timing.
 */
static inline void quiet_barrier(void)
{
    MPI_Request req;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    int done = 0;
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        sleep_ms(1);
}

/* Print times in seconds v[0..n) as a JSON array of microseconds (3 decimals). */
static inline void print_us_array(const double *v, int n)
{
    printf("[");
    for (int r = 0; r < n; r++)
        printf("%s%.3f", r ? "," : "", v[r] * 1e6);
    printf("]");
}

#endif /* SJ_BENCH_UTIL_H */
