/*
 * bench_task_overhead: cost per task of a starjets call on tiny blocks against
 * the same tasks submitted to raw StarPU and to raw StarPU-MPI, in the same
 * process, on the same running StarPU (started by sj_init).
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 1 --oversubscribe --bind-to none ./bench_task_overhead [options]
 *   (also -n 2)
 *
 * Options: -t TASKS (blocks = tasks per call, default 20000), -e ELEMS (doubles
 * per block, 8), -r REPS (timed repetitions, 10), -w WARM (warm-up
 * repetitions, 3).
 *
 * One repetition of each variant scales every block once by 1.0001 and waits:
 *  - starjets:    sj_array_scale(1.0001, x); sj_wait();
 *  - starpu:      starpu_task_insert(&cl, STARPU_RW, h[b], STARPU_VALUE, ...)
 *                 per local block, then starpu_task_wait_for_all() (and an
 *                 MPI_Barrier on more than one rank, as sj_wait ends with one);
 *  - starpu_mpi:  starpu_mpi_task_insert(MPI_COMM_WORLD, &cl, ...) on every
 *                 block by every rank (StarPU-MPI picks the owner, the others
 *                 skip), then starpu_mpi_wait_for_all();
 *  - starpu_model (diagnostic): as starpu, with a history-based performance
 *                 model on the codelet, as starjets' codelets have;
 *  - starpu_sjpath (diagnostic): raw StarPU calls shaped like starjets' own
 *                 (handles registered with StarPU-MPI, a codelet with
 *                 STARPU_VARIABLE_NBUFFERS and a history model,
 *                 STARPU_DATA_MODE_ARRAY, a malloc'd 200-byte STARPU_CL_ARGS
 *                 block per task, starpu_mpi_wait_for_all + MPI_Allreduce
 *                 at the end, as sj_wait does);
 *  - starjets_plainwait (diagnostic): sj_array_scale on a second array, then
 *                 starpu_task_wait_for_all() + MPI_Barrier instead of sj_wait
 *                 (what sj_wait could do when no StarPU-MPI transfer is
 *                 pending).
 * The variants take turns within each repetition so that noise hits them
 * alike. Raw handles are registered once, before timing (starjets registers
 * its handles when the array is made). Per task = wall time / total tasks
 * (all ranks); medians over the repetitions.
 *
 * Also measured: the time of one wait when nothing is pending (sj_wait,
 * starpu_mpi_wait_for_all, starpu_task_wait_for_all + MPI_Barrier).
 *
 * Check: after the run every element of every variant's data must equal the
 * same chain of multiplications done serially; exit status 1 otherwise.
 * One JSON object on stdout (rank 0).
 */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <starpu.h>
#include <starpu_mpi.h>

#include "bench.h"

#define SCHECK(call)                                                                               \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0) {                                                                            \
            fprintf(stderr, "%s:%d: %s failed (%d)\n", __FILE__, __LINE__, #call, rc_);            \
            MPI_Abort(MPI_COMM_WORLD, 2);                                                          \
        }                                                                                          \
    } while (0)

/* Tags far above the range starjets books from ([1, 2^62)) and away from the
 * tag its control messages use (2^62). */
#define RAW_TAG_BASE (((int64_t)1 << 62) + ((int64_t)1 << 40))

/* The raw codelet: x *= alpha on one vector. */
static void cpu_scale(void *buffers[], void *cl_arg)
{
    double alpha;
    starpu_codelet_unpack_args(cl_arg, &alpha);
    double *x = (double *)STARPU_VECTOR_GET_PTR(buffers[0]);
    const unsigned n = STARPU_VECTOR_GET_NX(buffers[0]);
    for (unsigned i = 0; i < n; i++)
        x[i] *= alpha;
}

static struct starpu_codelet cl_plain = {
    .where = STARPU_CPU,
    .cpu_funcs = {cpu_scale},
    .cpu_funcs_name = {"bench_raw_scale"},
    .nbuffers = 1,
    .modes = {STARPU_RW},
    .name = "bench_raw_scale",
};

static struct starpu_perfmodel model_scale = {
    .type = STARPU_HISTORY_BASED,
    .symbol = "bench_raw_scale_model",
};

static struct starpu_codelet cl_model = {
    .where = STARPU_CPU,
    .cpu_funcs = {cpu_scale},
    .cpu_funcs_name = {"bench_raw_scale_model"},
    .nbuffers = 1,
    .modes = {STARPU_RW},
    .model = &model_scale,
    .name = "bench_raw_scale_model",
};

/* The argument block of the sjpath variant: the size of starjets' own. */
typedef struct sjpath_args {
    double alpha;
    char pad[192];
} sjpath_args_t;

static void cpu_scale_sjpath(void *buffers[], void *cl_arg)
{
    const sjpath_args_t *a = cl_arg;
    double *x = (double *)STARPU_VECTOR_GET_PTR(buffers[0]);
    const unsigned n = STARPU_VECTOR_GET_NX(buffers[0]);
    for (unsigned i = 0; i < n; i++)
        x[i] *= a->alpha;
}

static struct starpu_perfmodel model_sjpath = {
    .type = STARPU_HISTORY_BASED,
    .symbol = "bench_raw_scale_sjpath",
};

static struct starpu_codelet cl_sjpath = {
    .where = STARPU_CPU,
    .cpu_funcs = {cpu_scale_sjpath},
    .cpu_funcs_name = {"bench_raw_scale_sjpath"},
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .model = &model_sjpath,
    .name = "bench_raw_scale_sjpath",
};

/* A set of raw handles: blocks [b0, b1) of @p tasks are owned here. */
typedef struct raw {
    int tasks, b0, b1;
    int64_t elems;
    double *mem;             /* local blocks */
    starpu_data_handle_t *h; /* local blocks only (plain) or all blocks (mpi) */
    int mpi;
} raw_t;

static int owner_of(int b, int tasks, int np)
{
    /* Same contiguous split as sj_dist_create_default on a 1-D space. */
    for (int r = 0; r < np; r++)
        if (b < (int)((int64_t)(r + 1) * tasks / np))
            return r;
    return np - 1;
}

static void raw_create(raw_t *r, int tasks, int64_t elems, int mpi, int64_t tag0, int me, int np)
{
    r->tasks = tasks;
    r->elems = elems;
    r->mpi = mpi;
    r->b0 = (int)((int64_t)me * tasks / np);
    r->b1 = (int)((int64_t)(me + 1) * tasks / np);
    int nlocal = r->b1 - r->b0;
    r->mem = malloc((size_t)nlocal * (size_t)elems * sizeof(double) + 1);
    for (int64_t i = 0; i < (int64_t)nlocal * elems; i++)
        r->mem[i] = 1.0;
    int nh = mpi ? tasks : nlocal;
    r->h = calloc((size_t)nh, sizeof *r->h);
    if (!mpi) {
        for (int i = 0; i < nlocal; i++)
            starpu_vector_data_register(&r->h[i], STARPU_MAIN_RAM,
                                        (uintptr_t)(r->mem + (int64_t)i * elems), (uint32_t)elems,
                                        sizeof(double));
    } else {
        for (int b = 0; b < tasks; b++) {
            int o = owner_of(b, tasks, np);
            if (o == me)
                starpu_vector_data_register(&r->h[b], STARPU_MAIN_RAM,
                                            (uintptr_t)(r->mem + (int64_t)(b - r->b0) * elems),
                                            (uint32_t)elems, sizeof(double));
            else
                starpu_vector_data_register(&r->h[b], -1, 0, (uint32_t)elems, sizeof(double));
            starpu_mpi_data_register(r->h[b], tag0 + b, o);
        }
    }
}

/* Unregister every handle (which brings the data home), count the local
 * elements that differ from @p want, free the memory. */
static int64_t raw_destroy(raw_t *r, double want)
{
    int nh = r->mpi ? r->tasks : r->b1 - r->b0;
    for (int i = 0; i < nh; i++)
        starpu_data_unregister(r->h[i]);
    int64_t bad = 0, n = (int64_t)(r->b1 - r->b0) * r->elems;
    for (int64_t i = 0; i < n; i++)
        bad += r->mem[i] != want;
    free(r->h);
    free(r->mem);
    return bad;
}

/* One repetition of a raw variant; returns the wall time, *submit the submission time. */
static double raw_run(raw_t *r, struct starpu_codelet *cl, double alpha, int np, double *submit)
{
    double t0 = MPI_Wtime();
    if (!r->mpi) {
        for (int i = 0; i < r->b1 - r->b0; i++)
            SCHECK(
                starpu_task_insert(cl, STARPU_RW, r->h[i], STARPU_VALUE, &alpha, sizeof alpha, 0));
        *submit = MPI_Wtime() - t0;
        starpu_task_wait_for_all();
        if (np > 1)
            MPI_Barrier(MPI_COMM_WORLD);
    } else {
        for (int b = 0; b < r->tasks; b++)
            SCHECK(starpu_mpi_task_insert(MPI_COMM_WORLD, cl, STARPU_RW, r->h[b], STARPU_VALUE,
                                          &alpha, sizeof alpha, 0));
        *submit = MPI_Wtime() - t0;
        starpu_mpi_wait_for_all(MPI_COMM_WORLD);
    }
    return MPI_Wtime() - t0;
}

/* One repetition shaped like starjets' submission path (see the top). */
static double sjpath_run(raw_t *r, double alpha, double *submit)
{
    double t0 = MPI_Wtime();
    for (int b = r->b0; b < r->b1; b++) {
        struct starpu_data_descr descr = {.handle = r->h[b], .mode = STARPU_RW};
        if (starpu_mpi_data_get_rank(r->h[b]) < 0)
            MPI_Abort(MPI_COMM_WORLD, 2);
        sjpath_args_t *a = malloc(sizeof *a);
        memset(a, 0, sizeof *a);
        a->alpha = alpha;
        SCHECK(starpu_task_insert(&cl_sjpath, STARPU_DATA_MODE_ARRAY, &descr, 1, STARPU_CL_ARGS, a,
                                  sizeof *a, 0));
    }
    *submit = MPI_Wtime() - t0;
    starpu_mpi_wait_for_all(MPI_COMM_WORLD);
    int errs = 0;
    MPI_Allreduce(MPI_IN_PLACE, &errs, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return MPI_Wtime() - t0;
}

/* Count elements of local memory that differ from @p want. */
static int64_t count_wrong(const double *x, int64_t n, double want)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        bad += x[i] != want;
    return bad;
}

enum { V_SJ, V_RAW, V_MPI, V_MODEL, V_SJPATH, V_SJPLAIN, NV };
static const char *vname[NV] = {"starjets",     "starpu",        "starpu_mpi",
                                "starpu_model", "starpu_sjpath", "starjets_plainwait"};

int main(int argc, char **argv)
{
    int tasks = 20000, reps = 10, warm = 3;
    int64_t elems = 8;
    bench_opt_t opt[] = {OPT('t', tasks, "tasks"), OPT('e', elems, "elems_per_block"),
                         OPT('r', reps, "reps"), OPT('w', warm, "warmups")};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || tasks < 1 || elems < 1 || reps < 1 || warm < 0)
        return bench_usage(argv[0], opt, NOPT(opt));
    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    const double load = load1();
    sj_init_options_t opts;
    sj_init_options_default(&opts);
    CHECK(sj_init(&argc, &argv, &opts));
    const int me = sj_rank(), np = sj_nranks();
    if (tasks < np) {
        if (me == 0)
            fprintf(stderr, "bench_task_overhead: need at least one task per rank\n");
        sj_finalize();
        MPI_Finalize();
        return 2;
    }
    const double alpha = 1.0001;

    sj_space_t space;
    sj_dist_t dist;
    sj_array_t x, x2;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){(int64_t)tasks * elems}, (int[]){tasks},
                          &space));
    CHECK(sj_dist_create_default(space, &dist));
    CHECK(sj_array_ones(space, dist, &x));
    CHECK(sj_array_ones(space, dist, &x2));
    raw_t raw, rawm, rawmpi, rawsj;
    raw_create(&raw, tasks, elems, 0, 0, me, np);
    raw_create(&rawm, tasks, elems, 0, 0, me, np);
    raw_create(&rawmpi, tasks, elems, 1, RAW_TAG_BASE, me, np);
    raw_create(&rawsj, tasks, elems, 1, RAW_TAG_BASE + tasks, me, np);
    CHECK(sj_wait());

    double *t[NV], *ts[NV];
    for (int v = 0; v < NV; v++) {
        t[v] = calloc((size_t)reps, sizeof(double));
        ts[v] = calloc((size_t)reps, sizeof(double));
    }
    for (int rep = 0; rep < warm + reps; rep++) {
        /* Rotate the order so that no variant always runs first. */
        for (int k = 0; k < NV; k++) {
            int v = (k + rep) % NV;
            double dt = 0, sub = 0;
            MPI_Barrier(MPI_COMM_WORLD);
            if (v == V_SJ) {
                double t0 = MPI_Wtime();
                CHECK(sj_array_scale(alpha, x));
                sub = MPI_Wtime() - t0;
                CHECK(sj_wait());
                dt = MPI_Wtime() - t0;
            } else if (v == V_SJPLAIN) {
                double t0 = MPI_Wtime();
                CHECK(sj_array_scale(alpha, x2));
                sub = MPI_Wtime() - t0;
                starpu_task_wait_for_all();
                MPI_Barrier(MPI_COMM_WORLD);
                dt = MPI_Wtime() - t0;
            } else if (v == V_RAW) {
                dt = raw_run(&raw, &cl_plain, alpha, np, &sub);
            } else if (v == V_MPI) {
                dt = raw_run(&rawmpi, &cl_plain, alpha, np, &sub);
            } else if (v == V_MODEL) {
                dt = raw_run(&rawm, &cl_model, alpha, np, &sub);
            } else {
                dt = sjpath_run(&rawsj, alpha, &sub);
            }
            /* The slowest rank decides. */
            MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            MPI_Allreduce(MPI_IN_PLACE, &sub, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            if (rep >= warm) {
                t[v][rep - warm] = dt;
                ts[v][rep - warm] = sub;
            }
        }
    }

    /* The cost of waiting when nothing is pending: sj_wait, StarPU-MPI's
     * wait (a barrier run by its progress thread), and a plain task wait plus
     * an MPI_Barrier from this thread. Medians of 50 calls each, interleaved. */
    enum { W_SJ, W_SMPI, W_PLAIN, NW };
    const int nwait = 50;
    double *tw[NW];
    for (int w = 0; w < NW; w++)
        tw[w] = calloc((size_t)nwait, sizeof(double));
    for (int i = 0; i < nwait; i++)
        for (int w = 0; w < NW; w++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            if (w == W_SJ)
                CHECK(sj_wait());
            else if (w == W_SMPI)
                starpu_mpi_wait_for_all(MPI_COMM_WORLD);
            else {
                starpu_task_wait_for_all();
                MPI_Barrier(MPI_COMM_WORLD);
            }
            double dt = MPI_Wtime() - t0;
            MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            tw[w][i] = dt;
        }
    double wait_us[NW];
    for (int w = 0; w < NW; w++) {
        wait_us[w] = median(tw[w], nwait) * 1e6;
        free(tw[w]);
    }

    /* Check: every element went through warm + reps multiplications by alpha. */
    double want = 1.0;
    for (int rep = 0; rep < warm + reps; rep++)
        want *= alpha;
    int64_t bad[NV] = {0};
    int nlocal = 0;
    const int *mine = NULL;
    CHECK(sj_array_local_blocks(x, &nlocal, &mine));
    for (int i = 0; i < nlocal; i++) {
        void *p = NULL;
        CHECK(sj_array_localpart_get(x, mine[i], &p));
        bad[V_SJ] += count_wrong(p, elems, want);
        CHECK(sj_array_localpart_restore(x, mine[i], &p));
        CHECK(sj_array_localpart_get(x2, mine[i], &p));
        bad[V_SJPLAIN] += count_wrong(p, elems, want);
        CHECK(sj_array_localpart_restore(x2, mine[i], &p));
    }
    bad[V_RAW] = raw_destroy(&raw, want);
    bad[V_MODEL] = raw_destroy(&rawm, want);
    bad[V_MPI] = raw_destroy(&rawmpi, want);
    bad[V_SJPATH] = raw_destroy(&rawsj, want);
    int ncpus = sj_ncpus();
    CHECK(sj_array_destroy(&x));
    CHECK(sj_array_destroy(&x2));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&space));
    CHECK(sj_finalize());
    MPI_Allreduce(MPI_IN_PLACE, bad, NV, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    int anybad = 0;
    for (int v = 0; v < NV; v++)
        if (bad[v]) {
            anybad = 1;
            if (me == 0)
                fprintf(stderr, "bench_task_overhead: %s: %lld wrong element(s)\n", vname[v],
                        (long long)bad[v]);
        }

    if (me == 0) {
        double us[NV], sub_us[NV];
        for (int v = 0; v < NV; v++) {
            us[v] = median(t[v], reps) / tasks * 1e6;
            sub_us[v] = median(ts[v], reps) / tasks * 1e6;
        }
        printf(
            "{\"bench\":\"task_overhead\",\"ranks\":%d,\"tasks\":%d,\"elems_per_block\":%lld,"
            "\"reps\":%d,\"warmups\":%d,\"ncpus_rank0\":%d,\"sched\":\"%s\",\"placement\":\"%s\",",
            np, tasks, (long long)elems, reps, warm, ncpus, env_or("SJ_SCHED", "lws"),
            env_or("SJ_PLACEMENT", "split"));
        printf("\"starjets_us_per_task\":%.3f,\"starpu_us_per_task\":%.3f,"
               "\"starpu_mpi_us_per_task\":%.3f,\"starpu_model_us_per_task\":%.3f,"
               "\"starpu_sjpath_us_per_task\":%.3f,\"starjets_plainwait_us_per_task\":%.3f,",
               us[V_SJ], us[V_RAW], us[V_MPI], us[V_MODEL], us[V_SJPATH], us[V_SJPLAIN]);
        printf("\"starjets_submit_us_per_task\":%.3f,\"starpu_submit_us_per_task\":%.3f,"
               "\"starpu_mpi_submit_us_per_task\":%.3f,\"starpu_model_submit_us_per_task\":%.3f,"
               "\"starpu_sjpath_submit_us_per_task\":%.3f,"
               "\"starjets_plainwait_submit_us_per_task\":%.3f,",
               sub_us[V_SJ], sub_us[V_RAW], sub_us[V_MPI], sub_us[V_MODEL], sub_us[V_SJPATH],
               sub_us[V_SJPLAIN]);
        printf("\"empty_wait_us\":{\"sj_wait\":%.1f,\"starpu_mpi_wait_for_all\":%.1f,"
               "\"task_wait_for_all+MPI_Barrier\":%.1f},",
               wait_us[W_SJ], wait_us[W_SMPI], wait_us[W_PLAIN]);
        printf("\"ratio\":%.3f,\"ratio_vs_starpu_mpi\":%.3f,\"ratio_vs_starpu_sjpath\":%.3f,"
               "\"target\":1.2,\"load1\":%.2f,\"correct\":%s}\n",
               us[V_SJ] / us[V_RAW], us[V_SJ] / us[V_MPI], us[V_SJ] / us[V_SJPATH], load,
               json_bool(!anybad));
        fflush(stdout);
    }
    for (int v = 0; v < NV; v++) {
        free(t[v]);
        free(ts[v]);
    }
    MPI_Finalize();
    return anybad ? 1 : 0;
}
