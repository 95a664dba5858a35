/*
 * Where does dmdas put starjets' tasks when a CUDA device is present?
 * Answered without a GPU: StarPU built with SimGrid (scripts/build-starpu
 * --simgrid) simulates CPU and CUDA workers from performance models and a bus
 * description instead of running the codelets.
 *
 * The codelets here have the names, performance-model symbols, buffer shapes
 * and submission call of starjets' own (src/runtime/registry.c, data.c,
 * src/op/apply.c): a dense leaf apply "sj_op_dense_fwd" (output block, input
 * block, matrix; one column for an apply, k for a GEMM tile), "sj_axpby" and
 * "sj_reduce_block", each with a CPU and a CUDA implementation
 * (STARPU_CUDA_ASYNC), STARPU_VARIABLE_NBUFFERS, history-based models,
 * vector-registered blocks, starpu_task_insert with a data-mode array and
 * copied arguments; the scheduler is dmdas, starjets' default with ncuda > 0.
 * The bodies never run: SimGrid charges each task the time its model gives.
 *
 *   sim_sched --feed   write the models (cost formulas below, per size, for
 *                      a CPU core and the CUDA device) into STARPU_PERF_MODEL_DIR
 *   sim_sched          run the scenarios and check where every task ran and
 *                      what crossed the bus; exit 0 when all checks hold
 *
 * tests/sim/run drives both (STARPU_HOSTNAME=sjsim, the committed models and
 * bus files in tests/sim/sampling); docs/gpu.md, "Proof without a GPU".
 */
#include <starpu.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the modelled machine: a CPU core and an H100-class device ------------ */

/* Roofline per task, in microseconds: fixed cost + max(flops / F, bytes / B). */
#define CPU_FIXED_US 2.0
#define CPU_FLOPS_PER_US 45e3   /* 45 GFLOP/s: OpenBLAS dgemm, one core here */
#define CPU_BYTES_PER_US 8e3    /* 8 GB/s: one core streaming */
#define CUDA_FIXED_US 8.0       /* launch + StarPU's CUDA worker overhead */
#define CUDA_FLOPS_PER_US 50e6  /* 50 TFLOP/s: FP64 dgemm on an H100 */
#define CUDA_BYTES_PER_US 2.5e6 /* 2.5 TB/s: HBM3 */

static double roofline(double fixed, double fpu, double bpu, double flops, double bytes)
{
    double a = flops / fpu, b = bytes / bpu;
    return fixed + (a > b ? a : b);
}

/* ---- starjets' codelets, as src/runtime/registry.c makes them -------------- */

enum { K_DENSE, K_AXPBY, K_PARTIAL, NK };
static const char *const knames[NK] = {"sj_op_dense_fwd", "sj_axpby", "sj_reduce_block"};
static struct starpu_codelet cls[NK];
static struct starpu_perfmodel models[NK];

static void cpu_body(void *buffers[], void *arg)
{
    (void)buffers;
    (void)arg;
}
static void cuda_body(void *buffers[], void *arg)
{
    (void)buffers;
    (void)arg;
}

static void codelets_init(void)
{
    for (int k = 0; k < NK; k++) {
        struct starpu_codelet *cl = &cls[k];
        starpu_codelet_init(cl);
        cl->where = STARPU_CPU | STARPU_CUDA;
        cl->cpu_funcs[0] = cpu_body;
        cl->cpu_funcs_name[0] = knames[k];
        cl->cuda_funcs[0] = cuda_body;
        cl->cuda_flags[0] = STARPU_CUDA_ASYNC;
        cl->nbuffers = STARPU_VARIABLE_NBUFFERS;
        cl->name = knames[k];
        memset(&models[k], 0, sizeof models[k]);
        models[k].type = STARPU_HISTORY_BASED;
        models[k].symbol = knames[k];
        cl->model = &models[k];
    }
}

/* ---- blocks ---------------------------------------------------------------- */

typedef struct {
    starpu_data_handle_t h;
    double *p;
    size_t n;
} block_t;

static block_t block_new(size_t n)
{
    block_t b = {NULL, calloc(n, sizeof(double)), n}; /* never touched: pages stay unmapped */
    if (!b.p) {
        fprintf(stderr, "sim_sched: out of memory\n");
        exit(2);
    }
    starpu_vector_data_register(&b.h, STARPU_MAIN_RAM, (uintptr_t)b.p, (uint32_t)n, sizeof(double));
    return b;
}

static void block_free(block_t *b)
{
    starpu_data_unregister(b->h);
    free(b->p);
}

/* ---- submission, or (--feed) a model entry per task shape ------------------- */

static int feed;

typedef struct {
    const char *phase;
    int kernel;
    int big; /* 1: expected on CUDA, 0: expected on a CPU */
    int worker;
} rec_t;

#define MAXREC 4096
static rec_t recs[MAXREC];
static int nrecs;

static void ran(void *arg)
{
    ((rec_t *)arg)->worker = starpu_worker_get_id();
}

#define MAXFED 256
static uint32_t fed[NK][MAXFED];
static int nfed[NK];

static void feed_model(int k, int nb, const struct starpu_data_descr *d, double flops, double bytes)
{
    struct starpu_task task;
    starpu_task_init(&task);
    task.cl = &cls[k];
    task.nbuffers = nb;
    for (int i = 0; i < nb; i++)
        STARPU_TASK_SET_HANDLE(&task, d[i].handle, i);
    uint32_t fp = starpu_task_data_footprint(&task);
    for (int i = 0; i < nfed[k]; i++)
        if (fed[k][i] == fp) {
            starpu_task_clean(&task);
            return;
        }
    if (nfed[k] == MAXFED) {
        fprintf(stderr, "sim_sched: too many task shapes\n");
        exit(2);
    }
    fed[k][nfed[k]++] = fp;
    struct starpu_perfmodel_device dev;
    struct starpu_perfmodel_arch arch = {.ndevices = 1, .devices = &dev};
    double cpu = roofline(CPU_FIXED_US, CPU_FLOPS_PER_US, CPU_BYTES_PER_US, flops, bytes);
    double gpu = roofline(CUDA_FIXED_US, CUDA_FLOPS_PER_US, CUDA_BYTES_PER_US, flops, bytes);
    for (int s = 0; s < 12; s++) { /* StarPU trusts an entry after 10 samples */
        dev = (struct starpu_perfmodel_device){.type = STARPU_CPU_WORKER, .devid = 0, .ncores = 1};
        starpu_perfmodel_update_history(&models[k], &task, &arch, 0, 0, cpu);
        dev = (struct starpu_perfmodel_device){.type = STARPU_CUDA_WORKER, .devid = 0, .ncores = 1};
        starpu_perfmodel_update_history(&models[k], &task, &arch, 0, 0, gpu);
    }
    printf("feed %-16s footprint %08x  %.3g flop %.3g B: cpu %.1f us, cuda %.1f us\n", knames[k],
           fp, flops, bytes, cpu, gpu);
    starpu_task_clean(&task);
}

/* One task as data.c's sj__rt_submit makes it; @p big says where it should run. */
static void submit(const char *phase, int k, int big, int nb, struct starpu_data_descr *d,
                   double flops, double bytes)
{
    if (feed) {
        feed_model(k, nb, d, flops, bytes);
        return;
    }
    if (nrecs == MAXREC) {
        fprintf(stderr, "sim_sched: too many tasks\n");
        exit(2);
    }
    rec_t *r = &recs[nrecs++];
    *r = (rec_t){strdup(phase), k, big, -1};   /* names outlive the caller's buffers */
    double *args = malloc(4 * sizeof(double)); /* as the real tasks: copied arguments */
    args[0] = 1.0;
    args[1] = args[2] = args[3] = 0.0;
    int ret = starpu_task_insert(&cls[k], STARPU_DATA_MODE_ARRAY, d, nb, STARPU_CL_ARGS, args,
                                 4 * sizeof(double), STARPU_CALLBACK_WITH_ARG_NFREE, ran, r, 0);
    if (ret != 0) {
        fprintf(stderr, "sim_sched: task submission failed (%d)\n", ret);
        exit(2);
    }
}

/* out (m x kc) = A (m x n) in (n x kc) [+ out]: the dense leaf's task */
static void dense(const char *phase, int big, block_t *out, int accumulate, block_t *A, block_t *in,
                  size_t m, size_t n, size_t kc)
{
    struct starpu_data_descr d[3] = {
        {out->h, accumulate ? STARPU_RW : STARPU_W}, {in->h, STARPU_R}, {A->h, STARPU_R}};
    double bytes = 8.0 * ((double)m * n + (double)n * kc + (accumulate ? 2.0 : 1.0) * m * kc);
    submit(phase, K_DENSE, big, 3, d, 2.0 * m * n * kc, bytes);
}

static void axpby(const char *phase, int big, block_t *y, block_t *x)
{
    struct starpu_data_descr d[2] = {{y->h, STARPU_RW}, {x->h, STARPU_R}};
    submit(phase, K_AXPBY, big, 2, d, 3.0 * x->n, 24.0 * x->n);
}

static void partial(const char *phase, int big, block_t *out, block_t *x)
{
    struct starpu_data_descr d[2] = {{out->h, STARPU_W}, {x->h, STARPU_R}};
    submit(phase, K_PARTIAL, big, 2, d, 1.0 * x->n, 8.0 * x->n);
}

/* ---- checks ---------------------------------------------------------------- */

static int failures;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures += !ok;
}

/* Tasks of @p phase (and kernel @p k, -1: any) with @p big, on CUDA and on CPUs. */
static void count(const char *phase, int k, int big, int *cuda, int *cpu)
{
    *cuda = *cpu = 0;
    for (int i = 0; i < nrecs; i++) {
        const rec_t *r = &recs[i];
        if (strcmp(r->phase, phase) || r->big != big || (k >= 0 && r->kernel != k))
            continue;
        if (r->worker >= 0 && starpu_worker_get_type(r->worker) == STARPU_CUDA_WORKER)
            (*cuda)++;
        else if (r->worker >= 0)
            (*cpu)++;
    }
}

/* Bytes moved RAM -> CUDA0 and back since the last call. */
static void bus_bytes(double *to_gpu, double *from_gpu)
{
    *to_gpu = *from_gpu = 0;
    for (int b = 0; b < starpu_bus_get_count(); b++) {
        struct starpu_profiling_bus_info info;
        if (starpu_bus_get_profiling_info(b, &info) != 0)
            continue;
        int src = starpu_bus_get_src(b), dst = starpu_bus_get_dst(b);
        if (starpu_node_get_kind(src) == STARPU_CPU_RAM &&
            starpu_node_get_kind(dst) == STARPU_CUDA_RAM)
            *to_gpu += (double)info.transferred_bytes;
        if (starpu_node_get_kind(src) == STARPU_CUDA_RAM &&
            starpu_node_get_kind(dst) == STARPU_CPU_RAM)
            *from_gpu += (double)info.transferred_bytes;
    }
}

static void host_read(block_t *b)
{
    starpu_data_acquire(b->h, STARPU_R);
    starpu_data_release(b->h);
}

/* ---- scenarios ------------------------------------------------------------- */

/*
 * A block-diagonal dense operator with NBIG blocks of BIG and NTINY blocks of
 * TINY rows (one operator, irregular blocking), applied twice in a chain:
 * y = A x, z = A y; then z += y (axpby) and a reduction partial of every z
 * block, before the host reads z.
 *
 * @p resident: A's blocks are on the device before the first apply (as after
 * a first use on the GPU, or a prefetch); otherwise they start in host memory,
 * as a freshly made operator's do. @p want_host_big: where the big blocks of
 * a first apply from host memory are expected (see main()).
 */
#define NBIG 4
#define BIG 4096
#define NTINY 16
#define TINY 32

static unsigned cuda_node(void)
{
    return starpu_worker_get_memory_node(
        (unsigned)starpu_worker_get_by_type(STARPU_CUDA_WORKER, 0));
}

static void scenario_apply(const char *ph, int resident, int want_host_big)
{
    const int nb = NBIG + NTINY;
    block_t A[NBIG + NTINY], x[NBIG + NTINY], y[NBIG + NTINY], z[NBIG + NTINY], s[NBIG + NTINY];
    for (int i = 0; i < nb; i++) {
        size_t n = i < NBIG ? BIG : TINY;
        A[i] = block_new(n * n);
        x[i] = block_new(n);
        y[i] = block_new(n);
        z[i] = block_new(n);
        s[i] = block_new(1);
    }
    double to, from, pre_to = 0;
    bus_bytes(&to, &from);
    if (resident && !feed) {
        for (int i = 0; i < NBIG; i++)
            starpu_data_prefetch_on_node(A[i].h, cuda_node(), 0);
        bus_bytes(&pre_to, &from);
    }
    /* blocks in the order the walk of the block operator meets them */
    for (int i = 0; i < nb; i++)
        dense(ph, i < NBIG, &y[i], 0, &A[i], &x[i], x[i].n, x[i].n, 1);
    for (int i = 0; i < nb; i++)
        dense(ph, i < NBIG, &z[i], 0, &A[i], &y[i], x[i].n, x[i].n, 1);
    starpu_task_wait_for_all();
    double chain_to, chain_from;
    bus_bytes(&chain_to, &chain_from);
    char vph[64];
    snprintf(vph, sizeof vph, "%s/vector", ph);
    for (int i = 0; i < nb; i++)
        axpby(vph, i < NBIG, &z[i], &y[i]);
    for (int i = 0; i < nb; i++)
        partial(vph, i < NBIG, &s[i], &z[i]);
    starpu_task_wait_for_all();
    double vec_to, vec_from;
    bus_bytes(&vec_to, &vec_from);
    for (int i = 0; i < nb; i++)
        host_read(&z[i]);
    double back_to, back_from;
    bus_bytes(&back_to, &back_from);

    if (!feed) {
        int cu, cp;
        const double a_bytes = NBIG * 8.0 * BIG * BIG, v_bytes = NBIG * 8.0 * BIG;
        /* With the big blocks kept on the CPUs (the default beta, blocks in
         * host memory), the CPUs are busy and the tiny tasks may go to the
         * idle GPU: the scheduler's call, reported, not checked. */
        const int strict = resident || want_host_big;
        count(ph, K_DENSE, 0, &cu, &cp);
        if (strict)
            check(cp == 2 * NTINY && cu == 0,
                  "%s: %d of %d dense %dx%d blocks on CPUs (%d on CUDA)", ph, cp, 2 * NTINY, TINY,
                  TINY, cu);
        else
            printf("      %s: dense %dx%d blocks: %d on CPUs, %d on CUDA (not checked)\n", ph, TINY,
                   TINY, cp, cu);
        count(ph, K_DENSE, 1, &cu, &cp);
        if (resident) {
            check(pre_to == a_bytes, "%s: A's big blocks prefetched: %.0f bytes (%.0f)", ph, pre_to,
                  a_bytes);
            check(cu == 2 * NBIG && cp == 0, "%s: %d of %d dense %dx%d blocks on CUDA (%d on CPUs)",
                  ph, cu, 2 * NBIG, BIG, BIG, cp);
        } else {
            check(want_host_big ? cu == 2 * NBIG && cp == 0 : cp == 2 * NBIG && cu == 0,
                  "%s: %d of %d dense %dx%d blocks on %s (%d on %s)", ph, want_host_big ? cu : cp,
                  2 * NBIG, BIG, BIG, want_host_big ? "CUDA" : "CPUs", want_host_big ? cp : cu,
                  want_host_big ? "CPUs" : "CUDA");
        }
        if (resident || want_host_big) {
            /* The big blocks of x (and of A, unless resident) go to the device
             * once; y stays there between the two applies; nothing comes back. */
            double want = v_bytes + (resident ? 0 : a_bytes);
            check(chain_to == want && chain_from == 0,
                  "%s: two chained applies moved %.0f bytes to the device (%s once: %.0f), "
                  "%.0f back (0)",
                  ph, chain_to, resident ? "x" : "A and x", want, chain_from);
            count(vph, K_AXPBY, 1, &cu, &cp);
            check(cu == NBIG && cp == 0,
                  "%s: axpby of device-resident %d-element blocks: %d of %d on CUDA", vph, BIG, cu,
                  NBIG);
            count(vph, K_PARTIAL, 1, &cu, &cp);
            printf("      %s: reduction partials of device-resident %d-element blocks: %d on "
                   "CUDA, %d on CPUs (the scheduler's call)\n",
                   vph, BIG, cu, cp);
            check(vec_to == 0 && vec_from + back_from == v_bytes,
                  "%s: z's big blocks came back once (%.0f bytes, %.0f), nothing went out (%.0f)",
                  vph, vec_from + back_from, v_bytes, vec_to);
        } else {
            check(chain_to < a_bytes / 1000,
                  "%s: A's big blocks stayed in host memory (%.0f bytes to the device)", ph,
                  chain_to);
        }
        count(vph, -1, 0, &cu, &cp);
        if (strict)
            check(cp == 2 * NTINY && cu == 0,
                  "%s: axpby and reduction partials of %d-element blocks: %d of %d on CPUs", vph,
                  TINY, cp, 2 * NTINY);
        else
            printf("      %s: axpby and reduction partials of %d-element blocks: %d on CPUs, %d "
                   "on CUDA (not checked)\n",
                   vph, TINY, cp, cu);
    }
    for (int i = 0; i < nb; i++) {
        block_free(&A[i]);
        block_free(&x[i]);
        block_free(&y[i]);
        block_free(&z[i]);
        block_free(&s[i]);
    }
}

/*
 * Tiled GEMM C = A B, n x n in t x t tiles: for every C tile, the chain of
 * n/t dense tile tasks (the first writes, the others accumulate), in the
 * order a block operator of dense leaves applied to a blocked matrix submits
 * them (row of C, column of C, inner index).
 */
static void scenario_gemm(const char *ph, size_t n, size_t t, int big, double min_share)
{
    const size_t nt = n / t;
    block_t *A = malloc(nt * nt * sizeof *A), *B = malloc(nt * nt * sizeof *B),
            *C = malloc(nt * nt * sizeof *C);
    for (size_t i = 0; i < nt * nt; i++) {
        A[i] = block_new(t * t);
        B[i] = block_new(t * t);
        C[i] = block_new(t * t);
    }
    double to, from;
    bus_bytes(&to, &from);
    double t0 = starpu_timing_now();
    for (size_t i = 0; i < nt; i++)
        for (size_t j = 0; j < nt; j++)
            for (size_t k = 0; k < nt; k++)
                dense(ph, big, &C[i * nt + j], k > 0, &A[i * nt + k], &B[k * nt + j], t, t, t);
    starpu_task_wait_for_all();
    double t1 = starpu_timing_now();
    bus_bytes(&to, &from);
    if (!feed) {
        int cu, cp;
        count(ph, K_DENSE, big, &cu, &cp);
        int total = cu + cp, mine = big ? cu : cp;
        double flops = 2.0 * n * n * n;
        printf("      %s: %d tasks of %zux%zu tiles: %d on CUDA, %d on CPUs; simulated %.3f ms "
               "(%.1f GFLOP/s), %.0f kB to the device\n",
               ph, total, t, t, cu, cp, (t1 - t0) / 1e3, flops / (t1 - t0) / 1e3, to / 1e3);
        check(total == (int)(nt * nt * nt) && mine >= min_share * total,
              "%s: %d of %d tiles of %zux%zu on %s (at least %.0f%%)", ph, mine, total, t, t,
              big ? "CUDA" : "CPUs", 100 * min_share);
    }
    for (size_t i = 0; i < nt * nt; i++) {
        block_free(&A[i]);
        block_free(&B[i]);
        block_free(&C[i]);
    }
    free(A);
    free(B);
    free(C);
}

int main(int argc, char **argv)
{
    feed = argc > 1 && strcmp(argv[1], "--feed") == 0;
    struct starpu_conf conf;
    starpu_conf_init(&conf);
    conf.sched_policy_name = "dmdas"; /* sj_init's choice when ncuda > 0 */
    if (starpu_init(&conf) != 0) {
        fprintf(stderr, "sim_sched: starpu_init failed\n");
        return 2;
    }
    printf("sim_sched: %u CPU workers, %u CUDA workers, scheduler %s%s\n",
           starpu_cpu_worker_get_count(), starpu_cuda_worker_get_count(), conf.sched_policy_name,
           feed ? " (feeding the models)" : "");
    if (!feed && starpu_cuda_worker_get_count() != 1) {
        fprintf(stderr, "sim_sched: wants one simulated CUDA worker (STARPU_NCUDA=1, a bus "
                        "description with CUDA0)\n");
        starpu_shutdown();
        return 2;
    }
    starpu_profiling_status_set(STARPU_PROFILING_ENABLE);
    codelets_init();

    /* StarPU 1.3.10's dmda family counts a task's predicted transfer time
     * twice (in the expected end and again as the data penalty, weight
     * STARPU_SCHED_BETA, default 1) and predicts a transfer to one GPU at
     * twice size / bandwidth: with the default, a one-off memory-bound apply
     * of a block that sits in host memory stays on the CPUs. */
    const char *beta = getenv("STARPU_SCHED_BETA");
    int beta0 = beta && atof(beta) == 0.0;
    scenario_apply("apply-host", 0, beta0);
    scenario_apply("apply-resident", 1, 1);
    scenario_gemm("gemm", 8192, 1024, 1, 0.9);
    /* 512 tasks of 5 us: when the CPU queues grow, the idle GPU's 8 us plus
     * transfers can finish a few earlier (about 4% here): at least 90%. */
    scenario_gemm("gemm-tiny", 256, 32, 0, 0.9);

    starpu_shutdown();
    if (!feed)
        printf("sim_sched: %s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
