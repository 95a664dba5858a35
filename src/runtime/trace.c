/*
 * FxT traces and the light profile (sj_init_options_t::trace_dir, ::profile).
 *
 * Trace: before StarPU starts, its FxT variables send each rank's raw trace to
 * <dir>/prof_file_<rank>; after StarPU stops, rank 0 merges them with the
 * starpu_fxt_tool that sits next to the libstarpu in use. StarPU 1.3 writes a
 * trace on every run of an FxT build unless STARPU_FXT_TRACE=0, so that is the
 * default here when no trace is asked for (and neither STARPU_FXT_TRACE nor
 * STARPU_FXT_PREFIX is set).
 *
 * Profile: StarPU's profiling API per worker, and a callback on every task
 * starjets submits that adds its run time to its codelet's line; printed at
 * sj_finalize by rank 0, ranks in order.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mpi.h>
#include <spawn.h>
#include <starpu.h>
#include <starpu_fxt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <starjets/runtime.h>

#include "base/base.h"
#include "runtime/rt_private.h"

extern char **environ;

/* StarPU 1.3 keeps the raw trace's path in a 128-byte buffer. */
#define FXT_PATH_MAX 128
#define RAW_NAME "prof_file"

/* Built against FxT headers, and the libstarpu loaded has FxT too: Debian's
 * has the same soname, and lacks this symbol. */
int sj__trace_supported(void)
{
#ifdef STARPU_USE_FXT
    return dlsym(RTLD_DEFAULT, "starpu_fxt_is_enabled") != NULL;
#else
    return 0;
#endif
}

/* ---- environment set for StarPU, restored at the end --------------------- */

static struct {
    const char *name;
    char *old; /* NULL: was unset */
} env_saved[4];
static int env_nsaved;

static void env_force(const char *name, const char *value)
{
    if (env_nsaved == (int)(sizeof env_saved / sizeof env_saved[0]))
        return;
    const char *old = getenv(name);
    env_saved[env_nsaved].name = name;
    env_saved[env_nsaved].old = old ? strdup(old) : NULL;
    env_nsaved++;
    setenv(name, value, 1);
}

void sj__trace_env_restore(void)
{
    for (int i = env_nsaved - 1; i >= 0; i--) {
        if (env_saved[i].old)
            setenv(env_saved[i].name, env_saved[i].old, 1);
        else
            unsetenv(env_saved[i].name);
        free(env_saved[i].old);
    }
    env_nsaved = 0;
}

/* ---- state of this run ------------------------------------------------- */

#define MAX_CODELETS 128

typedef struct cl_stat {
    const struct starpu_codelet *cl;
    char name[64];
    long count;
    double total_us;
} cl_stat_t;

static struct {
    int tracing;            /* same on every rank: asked for, and StarPU has FxT */
    char dir[FXT_PATH_MAX]; /* the trace folder */
    int profiling;
    starpu_pthread_mutex_t lock;
    cl_stat_t cl[MAX_CODELETS];
    int ncl;
    long unnamed_overflow; /* tasks whose codelet found no free line */
    char *report;          /* this rank's profile text, made before StarPU stops */
} tr = {.lock = STARPU_PTHREAD_MUTEX_INITIALIZER};

int sj__trace_check_options(const char *dir, const char *func)
{
    if (!dir)
        return SJ_OK;
    SJ_CHECK_FN(func, dir[0] != '\0', SJ_EINVAL, "opts->trace_dir is empty (NULL means no trace)");
    /* "<dir>/prof_file_<rank>" and its NUL must fit */
    const size_t room = 100;
    _Static_assert(100 + sizeof "/" RAW_NAME "_" + 10 <= FXT_PATH_MAX, "raw trace path room");
    SJ_CHECK_FN(func, strlen(dir) <= room, SJ_EINVAL,
                "opts->trace_dir '%s' is %zu characters long; StarPU 1.3 keeps trace paths "
                "of at most %d bytes, so the folder name may have at most %zu",
                dir, strlen(dir), FXT_PATH_MAX, room);
    return SJ_OK;
}

/* mkdir -p; 0 or -1 with errno. */
static int make_dirs(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

void sj__trace_before_start(const char *dir, int profile)
{
    tr.tracing = 0;
    tr.dir[0] = '\0';
    tr.profiling = profile;
    tr.ncl = 0;
    tr.unnamed_overflow = 0;
    if (!dir) {
        /* An FxT StarPU 1.3 would write /tmp/prof_file_* on every run; a user
         * who sets StarPU's own variables keeps StarPU's behaviour. */
        if (sj__trace_supported() && !getenv("STARPU_FXT_TRACE") && !getenv("STARPU_FXT_PREFIX"))
            env_force("STARPU_FXT_TRACE", "0");
        return;
    }
    if (!sj__trace_supported()) {
        if (sj__rt.rank == 0)
            fprintf(stderr,
                    "starjets: no trace written to '%s': this StarPU was built without FxT "
                    "(scripts/build-starpu builds one with it, docs/tracing.md)\n",
                    dir);
        return;
    }
    tr.tracing = 1;
    snprintf(tr.dir, sizeof tr.dir, "%s", dir);
    if (make_dirs(dir) != 0)
        fprintf(stderr, "starjets: rank %d: cannot create the trace folder '%s': %s\n", sj__rt.rank,
                dir, strerror(errno));
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof prefix, "%s/", dir);
    env_force("STARPU_FXT_TRACE", "1");
    env_force("STARPU_FXT_PREFIX", prefix);
    env_force("STARPU_FXT_SUFFIX", RAW_NAME);
}

/* ---- profile ------------------------------------------------------------- */

static void task_done(void *arg)
{
    (void)arg;
    sj__trace_task_done();
}

void (*sj__trace_callback(void))(void *)
{
    return tr.profiling ? task_done : NULL;
}

void sj__trace_task_done(void)
{
    if (!tr.profiling)
        return;
    struct starpu_task *task = starpu_task_get_current();
    if (!task || !task->cl || !task->profiling_info)
        return;
    double us = starpu_timing_timespec_delay_us(&task->profiling_info->start_time,
                                                &task->profiling_info->end_time);
    STARPU_PTHREAD_MUTEX_LOCK(&tr.lock);
    int i = 0;
    while (i < tr.ncl && tr.cl[i].cl != task->cl)
        i++;
    if (i == tr.ncl && tr.ncl < MAX_CODELETS) {
        tr.cl[i].cl = task->cl;
        snprintf(tr.cl[i].name, sizeof tr.cl[i].name, "%s",
                 task->cl->name ? task->cl->name : "(unnamed)");
        tr.cl[i].count = 0;
        tr.cl[i].total_us = 0.0;
        tr.ncl++;
    }
    if (i < tr.ncl) {
        tr.cl[i].count++;
        tr.cl[i].total_us += us;
    } else {
        tr.unnamed_overflow++;
    }
    STARPU_PTHREAD_MUTEX_UNLOCK(&tr.lock);
}

void sj__trace_after_start(void)
{
    if (tr.profiling)
        starpu_profiling_status_set(STARPU_PROFILING_ENABLE);
}

/* Append printf output to a growing string; the string stays valid on failure. */
static void append(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[256];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t add = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (*len + add + 1 > *cap) {
        size_t ncap = 2 * (*cap + add + 1);
        char *p = realloc(*s, ncap);
        if (!p)
            return;
        *s = p;
        *cap = ncap;
    }
    memcpy(*s + *len, line, add + 1);
    *len += add;
}

static int by_total(const void *a, const void *b)
{
    const cl_stat_t *x = a, *y = b;
    return (x->total_us < y->total_us) - (x->total_us > y->total_us);
}

void sj__trace_before_shutdown(void)
{
    free(tr.report);
    tr.report = NULL;
    if (!tr.profiling)
        return;
    char *s = NULL;
    size_t len = 0, cap = 0;
    append(&s, &len, &cap, "starjets profile, rank %d:\n", sj__rt.rank);
    append(&s, &len, &cap, "  %-28s %7s %12s %12s %12s %12s\n", "worker", "tasks", "total ms",
           "busy ms", "idle ms", "overhead ms");
    for (unsigned w = 0; w < starpu_worker_get_count(); w++) {
        struct starpu_profiling_worker_info info;
        if (starpu_profiling_worker_get_info((int)w, &info) != 0)
            continue;
        char name[64];
        starpu_worker_get_name((int)w, name, sizeof name);
        double total = starpu_timing_timespec_to_us(&info.total_time) / 1e3;
        double busy = starpu_timing_timespec_to_us(&info.executing_time) / 1e3;
        double idle = starpu_timing_timespec_to_us(&info.sleeping_time) / 1e3;
        double over = total - busy - idle;
        append(&s, &len, &cap, "  %-28s %7d %12.3f %12.3f %12.3f %12.3f\n", name,
               info.executed_tasks, total, busy, idle, over > 0.0 ? over : 0.0);
    }
    STARPU_PTHREAD_MUTEX_LOCK(&tr.lock);
    qsort(tr.cl, (size_t)tr.ncl, sizeof tr.cl[0], by_total);
    append(&s, &len, &cap, "  %-28s %7s %12s %12s\n", "codelet", "tasks", "total ms", "mean us");
    for (int i = 0; i < tr.ncl; i++)
        append(&s, &len, &cap, "  %-28s %7ld %12.3f %12.3f\n", tr.cl[i].name, tr.cl[i].count,
               tr.cl[i].total_us / 1e3, tr.cl[i].total_us / (double)tr.cl[i].count);
    if (tr.unnamed_overflow)
        append(&s, &len, &cap, "  (%ld tasks of further codelets not shown)\n",
               tr.unnamed_overflow);
    STARPU_PTHREAD_MUTEX_UNLOCK(&tr.lock);
    tr.report = s;
}

/* Rank 0 prints every rank's report, in rank order. */
static void print_profiles(void)
{
    int len = tr.report ? (int)strlen(tr.report) : 0;
    int *lens = NULL, *displs = NULL;
    char *all = NULL;
    if (sj__rt.rank == 0) {
        lens = calloc((size_t)sj__rt.nranks, sizeof *lens);
        displs = calloc((size_t)sj__rt.nranks, sizeof *displs);
    }
    MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, sj__rt.comm);
    int total = 0;
    if (sj__rt.rank == 0 && lens && displs) {
        for (int r = 0; r < sj__rt.nranks; r++) {
            displs[r] = total;
            total += lens[r];
        }
        all = malloc((size_t)total + 1);
    }
    MPI_Gatherv(tr.report ? tr.report : "", len, MPI_CHAR, all, lens, displs, MPI_CHAR, 0,
                sj__rt.comm);
    if (sj__rt.rank == 0 && all) {
        all[total] = '\0';
        fputs(all, stderr);
        fflush(stderr);
    }
    free(all);
    free(lens);
    free(displs);
}

/* ---- merging the trace ---------------------------------------------------- */

/* A barrier that sleeps while it waits: rank 0 may merge for seconds. */
static void quiet_barrier(void)
{
    MPI_Request req;
    if (MPI_Ibarrier(sj__rt.comm, &req) != MPI_SUCCESS)
        return;
    int done = 0;
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

/* starpu_fxt_tool beside the libstarpu this process loaded, else from PATH. */
static void fxt_tool_path(char *path, size_t size)
{
    Dl_info info;
    const char *slash = NULL;
    if (dladdr((void *)starpu_init, &info) && info.dli_fname)
        slash = strrchr(info.dli_fname, '/');
    if (slash) {
        int n = snprintf(path, size, "%.*s/../bin/starpu_fxt_tool", (int)(slash - info.dli_fname),
                         info.dli_fname);
        if (n > 0 && (size_t)n < size && access(path, X_OK) == 0)
            return;
    }
    snprintf(path, size, "starpu_fxt_tool");
}

static void merge_trace(void)
{
    char tool[PATH_MAX], log[PATH_MAX + 32];
    fxt_tool_path(tool, sizeof tool);
    snprintf(log, sizeof log, "%s/starpu_fxt_tool.log", tr.dir);

    int n = sj__rt.nranks;
    if (n > STARPU_FXT_MAX_FILES) {
        fprintf(stderr,
                "starjets: trace not merged: starpu_fxt_tool merges at most %d ranks' "
                "files; the %d raw files are in %s\n",
                STARPU_FXT_MAX_FILES, n, tr.dir);
        return;
    }
    char **argv = calloc((size_t)n + 5, sizeof *argv);
    char *names = malloc((size_t)n * 2 * FXT_PATH_MAX);
    if (!argv || !names) {
        fprintf(stderr, "starjets: trace not merged: out of memory\n");
        free(argv);
        free(names);
        return;
    }
    int a = 0, missing = 0;
    argv[a++] = tool;
    argv[a++] = "-i";
    for (int r = 0; r < n; r++) {
        char *f = names + (size_t)r * 2 * FXT_PATH_MAX;
        if (snprintf(f, 2 * FXT_PATH_MAX, "%s/%s_%d", tr.dir, RAW_NAME, r) < 0)
            f[0] = '\0';
        if (access(f, R_OK) != 0 && !missing++)
            fprintf(stderr,
                    "starjets: trace: rank 0 cannot read %s (the trace folder must be "
                    "shared by every rank)\n",
                    f);
        argv[a++] = f;
    }
    argv[a++] = "-d";
    argv[a++] = tr.dir;
    argv[a] = NULL;
    if (missing) {
        free(argv);
        free(names);
        return;
    }

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid;
    int rc = posix_spawnp(&pid, tool, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    if (rc != 0)
        fprintf(stderr, "starjets: trace not merged: cannot run %s: %s\n", tool, strerror(rc));
    else if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "starjets: trace not merged: %s failed (status %d), see %s\n", tool, status,
                log);
    free(argv);
    free(names);
}

void sj__trace_after_shutdown(void)
{
    if (tr.profiling)
        print_profiles();
    free(tr.report);
    tr.report = NULL;
    tr.profiling = 0;
    if (tr.tracing) {
        /* Every rank's raw file is complete once StarPU stopped on every rank. */
        quiet_barrier();
        if (sj__rt.rank == 0)
            merge_trace();
        quiet_barrier(); /* sj_finalize returns once the merged files exist */
        tr.tracing = 0;
    }
}

int sj_trace_supported(void)
{
    return sj__trace_supported();
}
