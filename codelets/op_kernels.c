/*
 * The body of every operator leaf task (SJ__K_OP; the runtime gives each
 * operator class and direction a codelet of its own, so that each gets its own
 * performance model and trace name): it hands the leaf function its buffers
 * and call information, applies alpha and beta, and writes the per-task JSON
 * records of sj_op_perfstat().
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codelets_private.h"
#include "kernels/clock.h"
#include "kernels/op.h"

/* ---- per-task records ------------------------------------------------------- */

static pthread_mutex_t perf_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *perf_file;
static int perf_on; /* read by the workers without the lock: atomic */
static int perf_rank;

int sj__op_records(const char *path, int rank)
{
    pthread_mutex_lock(&perf_lock);
    if (perf_file)
        fclose(perf_file);
    perf_file = NULL;
    int rc = 0;
    if (path) {
        char name[4096];
        snprintf(name, sizeof name, "%s.%d.jsonl", path, rank);
        perf_file = fopen(name, "a");
        perf_rank = rank;
        if (!perf_file)
            rc = -1;
    }
    __atomic_store_n(&perf_on, perf_file != NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&perf_lock);
    return rc;
}

/* Seconds since the epoch: when a task started, comparable across ranks. */
static double wall_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
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
                dirs[a->dir], a->name, perf_rank, a->info.block_row, a->info.block_col,
                starpu_worker_get_id(),
                (long long)(a->dir == SJ__OPDIR_ADJOINT ? a->info.rng_n : a->info.dom_n),
                (long long)(a->dir == SJ__OPDIR_ADJOINT ? a->info.dom_n : a->info.rng_n), wall,
                seconds, rc == 0 ? "true" : "false");
        fflush(perf_file);
    }
    pthread_mutex_unlock(&perf_lock);
}

/* ---- the wrapper ---------------------------------------------------------------- */

void sj__cpu_op(void *buffers[], void *cl_arg)
{
    const sj__opargs_t *a = cl_arg;
    sj_op_info_t info = a->info;
    info.params = info.params_size ? (const void *)(a + 1) : NULL;
    int next = 2;
    info.state = a->has_state ? PTR(next++) : NULL;
    info.point = a->has_point ? PTR(next++) : NULL;
    void *out = PTR(0);
    const void *in = PTR(1);
    const int64_t n = NELEMS(0);
    const size_t esize = sj_dtype_size((sj_dtype_t)info.dtype);
    const int timed = __atomic_load_n(&perf_on, __ATOMIC_ACQUIRE);
    const double wall = timed ? wall_clock() : 0, t0 = timed ? sj__now() : 0;

    int rc;
    if (a->alpha == 1.0 && a->beta == 0.0) {
        rc = a->fn(&info, out, in);
    } else {
        void *tmp = malloc((size_t)n * esize);
        if (!tmp) {
            sj__kernel_fail("operator %s: cannot allocate %lld bytes of scratch", a->name,
                            (long long)((size_t)n * esize));
            return;
        }
        rc = a->fn(&info, tmp, in);
        if (rc == 0 && info.dtype == SJ_FLOAT64) {
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
        sj__kernel_fail("operator %s (%s, block (%d,%d)) returned %d", a->name,
                        a->dir == SJ__OPDIR_FORWARD   ? "forward"
                        : a->dir == SJ__OPDIR_ADJOINT ? "adjoint"
                                                      : "jacobian",
                        a->info.block_row, a->info.block_col, rc);
    if (timed)
        perf_record(a, wall, sj__now() - t0, rc);
}
