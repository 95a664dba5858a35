/*
 * What every example shares: stop at a failed starjets call, report one from
 * inside an SPMD run, and a clock.
 */
#ifndef SJ_EXAMPLE_H
#define SJ_EXAMPLE_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <starjets.h>

/* A starjets call that must succeed; otherwise print why and exit with status 1. */
#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != SJ_OK) {                                                                        \
            fprintf(stderr, "%s failed: %s (%s)\n", #call, sj_err_name(rc_), sj_last_error());     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/*
 * Inside an SPMD run a rank must not exit on its own (the others would wait
 * for it): report the error and return it, so that sj_spmd_run() fails on
 * every rank of the run.
 */
#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != SJ_OK) {                                                                        \
            fprintf(stderr, "rank %d: %s failed: %s (%s)\n", sj_rank(), #call, sj_err_name(rc_),   \
                    sj_last_error());                                                              \
            return rc_;                                                                            \
        }                                                                                          \
    } while (0)

/* Seconds on the monotonic clock. */
static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif /* SJ_EXAMPLE_H */
