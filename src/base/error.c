/* The error table's strings and the per-thread last error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static _Thread_local char last_error[512];

const char *sj_strerror(int code)
{
    switch (code) {
    case SJ_OK:
        return "success";
#define SJ__ERRNO_MSG(name, value, msg)                                                            \
    case SJ_##name:                                                                                \
        return msg;
        SJ_ERRNO_MAP(SJ__ERRNO_MSG)
#undef SJ__ERRNO_MSG
    default:
        return "unknown error";
    }
}

const char *sj_err_name(int code)
{
    switch (code) {
    case SJ_OK:
        return "SJ_OK";
#define SJ__ERRNO_NAME(name, value, msg)                                                           \
    case SJ_##name:                                                                                \
        return "SJ_" #name;
        SJ_ERRNO_MAP(SJ__ERRNO_NAME)
#undef SJ__ERRNO_NAME
    default:
        return "SJ_UNKNOWN";
    }
}

const char *sj_last_error(void)
{
    return last_error;
}

void sj_clear_error(void)
{
    last_error[0] = '\0';
}

int sj__error(int code, const char *func, const char *fmt, ...)
{
    int len = snprintf(last_error, sizeof last_error, "%s: ", func);
    if (len < 0 || (size_t)len >= sizeof last_error)
        len = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + len, sizeof last_error - (size_t)len, fmt, ap);
    va_end(ap);
    return code;
}

int sj__error_rename(int code, const char *func)
{
    char why[sizeof last_error];
    const char *colon = strstr(last_error, ": ");
    snprintf(why, sizeof why, "%s", colon ? colon + 2 : last_error);
    return sj__error(code, func, "%s", why);
}

void *sj__calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        sj__error(SJ_ENOMEM, "starjets", "cannot allocate %zu x %zu bytes", n, size);
    return p;
}
