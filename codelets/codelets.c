/*
 * How a kernel body reports a failure: a sentence in a per-thread slot that
 * the runtime reads right after the body returns (the body runs on a StarPU
 * worker or, for sj__rt_run_here, on the application thread).
 */
#include <stdarg.h>
#include <stdio.h>

#include "codelets.h"

static _Thread_local struct {
    int failed;
    char why[256];
} failure;

void sj__kernel_fail(const char *fmt, ...)
{
    if (failure.failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(failure.why, sizeof failure.why, fmt, ap);
    va_end(ap);
    failure.failed = 1;
}

int sj__kernel_failure(char *why, size_t size)
{
    if (!failure.failed)
        return 0;
    snprintf(why, size, "%s", failure.why);
    failure.failed = 0;
    return 1;
}
