/* The error table's strings and the per-thread last error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static _Thread_local char last_error[512];

/* The origin of the last error, then each line that passed it up. */
#define TRAIL_MAX 16
typedef struct frame {
    const char *file; /* __FILE__: a string literal */
    int line;
} frame_t;
static _Thread_local struct {
    frame_t frame[TRAIL_MAX];
    int n, dropped;
} trail;

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
    trail.n = trail.dropped = 0;
}

int sj__error_at(const char *file, int line, int code, const char *func, const char *fmt, ...)
{
    int len = snprintf(last_error, sizeof last_error, "%s: ", func);
    if (len < 0 || (size_t)len >= sizeof last_error)
        len = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + len, sizeof last_error - (size_t)len, fmt, ap);
    va_end(ap);
    trail.n = trail.dropped = 0;
    return sj__error_frame(file, line, code);
}

int sj__error_frame(const char *file, int line, int code)
{
    const int n = trail.n;
    /* sj__named inside SJ_TRY passes the same line twice */
    if (n > 0 && trail.frame[n - 1].line == line && strcmp(trail.frame[n - 1].file, file) == 0)
        return code;
    if (n < TRAIL_MAX)
        trail.frame[trail.n++] = (frame_t){file, line};
    else
        trail.dropped++;
    return code;
}

int sj__error_rename_at(const char *file, int line, int code, const char *func)
{
    char why[sizeof last_error];
    const char *colon = strstr(last_error, ": ");
    snprintf(why, sizeof why, "%s", colon ? colon + 2 : last_error);
    int len = snprintf(last_error, sizeof last_error, "%s: ", func);
    if (len < 0 || (size_t)len >= sizeof last_error)
        len = 0;
    snprintf(last_error + len, sizeof last_error - (size_t)len, "%s", why);
    return sj__error_frame(file, line, code);
}

/*
 * The path of a source file from the repository's root: __FILE__ holds the
 * path the build gave the compiler, often absolute.
 */
static const char *repo_path(const char *file)
{
    static const char *const tops[] = {"src/", "codelets/", "include/", "tests/"};
    const char *best = file;
    for (size_t t = 0; t < sizeof tops / sizeof tops[0]; t++) {
        const size_t len = strlen(tops[t]);
        if (strncmp(file, tops[t], len) == 0)
            return file;
        for (const char *p = file; (p = strchr(p, '/')) != NULL; p++)
            if (strncmp(p + 1, tops[t], len) == 0 && p + 1 > best)
                best = p + 1;
    }
    return best;
}

const char *sj_last_error_trace(void)
{
    static _Thread_local char trace[1024];
    size_t len = 0;
    trace[0] = '\0';
    for (int k = 0; k < trail.n && len < sizeof trace; k++) {
        int w = snprintf(trace + len, sizeof trace - len, "%s%s:%d", k ? " <- " : "",
                         repo_path(trail.frame[k].file), trail.frame[k].line);
        len += w > 0 ? (size_t)w : 0;
    }
    if (trail.dropped && len < sizeof trace) {
        int w = snprintf(trace + len, sizeof trace - len, " <- (%d more)", trail.dropped);
        len += w > 0 ? (size_t)w : 0;
    }
    const char *colon = strstr(last_error, ": ");
    if (trail.n && colon && len < sizeof trace)
        snprintf(trace + len, sizeof trace - len, " (%.*s)", (int)(colon - last_error), last_error);
    return trace;
}

void *sj__calloc_at(const char *file, int line, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        sj__error_at(file, line, SJ_ENOMEM, "starjets", "cannot allocate %zu x %zu bytes", n, size);
    return p;
}
