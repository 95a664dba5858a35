/* The one monotonic clock of starjets, for every layer (no dependencies). */
#ifndef SJ_KERNELS_CLOCK_H
#define SJ_KERNELS_CLOCK_H

#include <time.h>

/* Seconds on the monotonic clock (an arbitrary origin: use differences). */
static inline double sj__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif /* SJ_KERNELS_CLOCK_H */
