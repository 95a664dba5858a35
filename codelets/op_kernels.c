/*
 * Codelets made on demand (sj__codelet_custom), and the operator leaf tasks
 * among them: one StarPU codelet per operator class and direction (so each
 * gets its own performance model and trace name), all running the same wrapper, which hands the
 * leaf function its buffers and context, applies alpha and beta, and writes the per-task JSON
 * records of sj_op_perfstat().
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starpu.h>

#include "base/base.h"
#include "codelets_private.h"
#include "runtime/rt_private.h"

#define PTR(i) ((void *)STARPU_VECTOR_GET_PTR(buffers[i]))
#define NELEMS(i) ((int64_t)STARPU_VECTOR_GET_NX(buffers[i]))

/* ---- per-task records ------------------------------------------------------- */

static pthread_mutex_t perf_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *perf_file;
static int perf_on; /* read by the workers without the lock: atomic */
static int perf_rank;

int sj__perfstat_set(const char *path, int rank)
{
    pthread_mutex_lock(&perf_lock);
    if (perf_file)
        fclose(perf_file);
    perf_file = NULL;
    int rc = SJ_OK;
    if (path) {
        char name[4096];
        snprintf(name, sizeof name, "%s.%d.jsonl", path, rank);
        perf_file = fopen(name, "a");
        perf_rank = rank;
        if (!perf_file)
            rc = sj__error(SJ_EINVAL, "sj_op_perfstat", "cannot open '%s' for appending", name);
    }
    __atomic_store_n(&perf_on, perf_file != NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&perf_lock);
    return rc;
}

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void perf_record(const sj__opargs_t *a, double wall, double seconds, int rc)
{
    static const char *dirs[] = {"forward", "adjoint", "jacobian"};
    pthread_mutex_lock(&perf_lock);
    if (perf_file) {
        fprintf(perf_file,
                "{\"op\":\"%s\",\"name\":\"%s\",\"rank\":%d,\"block\":[%d,%d],\"worker\":%d,"
                "\"in\":%lld,\"out\":%lld,\"start\":%.6f,\"seconds\":%.9f,\"ok\":%s}\n",
                dirs[a->dir], a->name, perf_rank, a->ctx.block_row, a->ctx.block_col,
                starpu_worker_get_id(),
                (long long)(a->dir == SJ__OPDIR_ADJOINT ? a->ctx.rng_n : a->ctx.dom_n),
                (long long)(a->dir == SJ__OPDIR_ADJOINT ? a->ctx.dom_n : a->ctx.rng_n), wall,
                seconds, rc == 0 ? "true" : "false");
        fflush(perf_file);
    }
    pthread_mutex_unlock(&perf_lock);
}

/* ---- the wrapper ---------------------------------------------------------------- */

static void cpu_op(void *buffers[], void *cl_arg)
{
    const sj__opargs_t *a = cl_arg;
    sj_op_info_t ctx = a->ctx;
    ctx.params = ctx.params_size ? (const void *)(a + 1) : NULL;
    int next = 2;
    ctx.state = a->has_state ? PTR(next++) : NULL;
    ctx.point = a->has_point ? PTR(next++) : NULL;
    void *out = PTR(0);
    const void *in = PTR(1);
    const int64_t n = NELEMS(0);
    const size_t esize = sj_dtype_size((sj_dtype_t)ctx.dtype);
    const int timed = __atomic_load_n(&perf_on, __ATOMIC_ACQUIRE);
    const double wall = timed ? now(CLOCK_REALTIME) : 0, t0 = timed ? now(CLOCK_MONOTONIC) : 0;

    int rc;
    if (a->alpha == 1.0 && a->beta == 0.0) {
        rc = a->fn(&ctx, out, in);
    } else {
        void *tmp = malloc((size_t)n * esize);
        if (!tmp) {
            sj__rt_task_error("operator %s: cannot allocate %lld bytes of scratch", a->name,
                              (long long)((size_t)n * esize));
            return;
        }
        rc = a->fn(&ctx, tmp, in);
        if (rc == 0 && ctx.dtype == SJ_FLOAT64) {
            double *y = out;
            const double *t = tmp, al = a->alpha, be = a->beta;
            if (be == 0.0)
                for (int64_t i = 0; i < n; i++)
                    y[i] = al * t[i];
            else
                for (int64_t i = 0; i < n; i++)
                    y[i] = al * t[i] + be * y[i];
        } else if (rc == 0) {
            float *y = out;
            const float *t = tmp, al = (float)a->alpha, be = (float)a->beta;
            if (be == 0.0f)
                for (int64_t i = 0; i < n; i++)
                    y[i] = al * t[i];
            else
                for (int64_t i = 0; i < n; i++)
                    y[i] = al * t[i] + be * y[i];
        }
        free(tmp);
    }
    if (rc != 0)
        sj__rt_task_error("operator %s (%s, block (%d,%d)) returned %d", a->name,
                          a->dir == SJ__OPDIR_FORWARD   ? "forward"
                          : a->dir == SJ__OPDIR_ADJOINT ? "adjoint"
                                                        : "jacobian",
                          a->ctx.block_row, a->ctx.block_col, rc);
    if (timed)
        perf_record(a, wall, now(CLOCK_MONOTONIC) - t0, rc);
}

/* ---- codelets made on demand ------------------------------------------------------ */

typedef struct dyn_codelet {
    char name[48];
    struct starpu_codelet cl;
    struct starpu_perfmodel model;
} dyn_codelet_t;

static dyn_codelet_t **dyn;
static int ndyn, capdyn;

int sj__codelet_custom(const char *name, sj__cpu_fn_t cpu)
{
    for (int k = 0; k < ndyn; k++)
        if (strcmp(dyn[k]->name, name) == 0)
            return SJ__NKERNELS + k;
    if (ndyn == capdyn) {
        int cap = capdyn ? 2 * capdyn : 16;
        dyn_codelet_t **p = realloc(dyn, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        dyn = p;
        capdyn = cap;
    }
    dyn_codelet_t *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    snprintf(d->name, sizeof d->name, "%s", name);
    starpu_codelet_init(&d->cl);
    d->cl.where = STARPU_CPU;
    d->cl.cpu_funcs[0] = cpu;
    d->cl.cpu_funcs_name[0] = d->name;
    d->cl.nbuffers = STARPU_VARIABLE_NBUFFERS;
    d->cl.name = d->name;
    d->model.type = STARPU_HISTORY_BASED;
    d->model.symbol = d->name;
    d->cl.model = &d->model;
    dyn[ndyn] = d;
    return SJ__NKERNELS + ndyn++;
}

int sj__codelet_op(const char *name, int dir)
{
    static const char *suffix[] = {"fwd", "adj", "jac"};
    char full[48];
    snprintf(full, sizeof full, "sj_op_%s_%s", name, suffix[dir]);
    return sj__codelet_custom(full, cpu_op);
}

struct starpu_codelet *sj__codelet_dynamic(int kernel)
{
    return &dyn[kernel - SJ__NKERNELS]->cl;
}

void sj__codelets_fini(void)
{
    sj__perfstat_set(NULL, 0);
    /* StarPU saved and dropped the models at shutdown: only our memory is left. */
    for (int k = 0; k < ndyn; k++)
        free(dyn[k]);
    free(dyn);
    dyn = NULL;
    ndyn = capdyn = 0;
}
