/*
 * bench_pmap_rate: throughput of sj_pmap on trivial items (items per second),
 * the number that says how small a farm's items may be. ipyparallel's
 * load-balanced view manages about 300 trivial tasks per second on these
 * machines (measured earlier); the same-run references here are one StarPU task per
 * item on the root alone (what the farm's engine builds on) and the serial
 * loop.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_pmap_rate [options]
 *
 * Options: -n ITEMS (per farm, default 100000), -r REPS (timed farms, 7),
 * -w WARM (warm-up farms, 2), -b BATCH (sj_pmap_options_t.batch, 0 =
 * automatic), -q QUEUE (queue_per_worker, 0 = automatic), -c US (busy
 * microseconds per item, default 0).
 *
 * An item reads an int64 and writes 2 x + 1: with -c 0 nothing but the
 * farm's own cost. With -c US each item also spins for US microseconds of
 * wall time, and `efficiency` = items x US / (farm time x all workers) says
 * what share of the workers' time went to the items. Timed on the root from the call to its return
 * (the call is blocking and collective; results are in place on the root when it returns). The raw
 * StarPU reference submits the same items as tasks without data (a codelet whose argument points to
 * the item), on the root only, then waits for them (starpu_task_wait_for_all); the other ranks wait
 * in a barrier. Medians over the repetitions. Every result of every farm is checked; the program
 * exits with status 1 if one is wrong.
 *
 * One JSON object on stdout (rank 0); diagnostics on stderr.
 */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <starpu.h>

#include "bench.h"

/* Busy microseconds per item (-c). */
static double busy_us;

static int trivial(int64_t index, const void *in, void *out, void *ctx)
{
    (void)index;
    (void)ctx;
    if (busy_us > 0) {
        const double t0 = now();
        while (now() - t0 < 1e-6 * busy_us)
            ;
    }
    int64_t x;
    memcpy(&x, in, sizeof x);
    x = 2 * x + 1;
    memcpy(out, &x, sizeof x);
    return 0;
}

/* The raw reference: the same item as one StarPU task without data. */
typedef struct raw_item {
    int64_t in, out;
} raw_item_t;

static void raw_cpu(void *buffers[], void *cl_arg)
{
    (void)buffers;
    raw_item_t *it = cl_arg;
    trivial(0, &it->in, &it->out, NULL);
}

static struct starpu_codelet raw_cl = {
    .cpu_funcs = {raw_cpu},
    .nbuffers = 0,
    .name = "bench_pmap_rate_raw",
};

static double raw_starpu(raw_item_t *items, int64_t n)
{
    const double t0 = now();
    for (int64_t i = 0; i < n; i++) {
        struct starpu_task *t = starpu_task_create();
        t->cl = &raw_cl;
        t->cl_arg = &items[i];
        t->cl_arg_free = 0;
        t->detach = 1;
        if (starpu_task_submit(t) != 0) {
            fprintf(stderr, "bench_pmap_rate: starpu_task_submit failed\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    starpu_task_wait_for_all();
    return now() - t0;
}

int main(int argc, char **argv)
{
    int64_t n = 100000, batch = 0;
    int reps = 7, warm = 2, queue = 0;
    bench_opt_t opt[] = {OPT('n', n, "items"),      OPT('r', reps, "reps"),
                         OPT('w', warm, "warmups"), OPT('b', batch, "batch"),
                         OPT('q', queue, "queue"),  OPT('c', busy_us, "us")};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || n < 1 || reps < 1 || warm < 0 || batch < 0 ||
        queue < 0 || busy_us < 0)
        return bench_usage(argv[0], opt, NOPT(opt));
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    int64_t *in = xmalloc((size_t)n * sizeof *in), *out = xmalloc((size_t)n * sizeof *out);
    raw_item_t *raw = xmalloc((size_t)n * sizeof *raw);
    double *t_pmap = xmalloc((size_t)reps * sizeof(double));
    double *t_raw = xmalloc((size_t)reps * sizeof(double));
    double *t_serial = xmalloc((size_t)reps * sizeof(double));
    int64_t *ranks = xcalloc((size_t)np, sizeof *ranks),
            *ranks_sum = xcalloc((size_t)np, sizeof *ranks_sum);
    for (int64_t i = 0; i < n; i++)
        in[i] = i;
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.batch = batch;
    o.queue_per_worker = queue;
    o.rank_items = ranks;
    int64_t wrong = 0, batches = 0;
    for (int r = -warm; r < reps; r++) {
        memset(out, 0, (size_t)n * sizeof *out);
        sj_pmap_report_t rep;
        const double t0 = now();
        CHECK(sj_pmap(n, in, sizeof *in, out, sizeof *out, trivial, NULL, 0, &o, &rep));
        const double t = now() - t0;
        if (me == 0)
            for (int64_t i = 0; i < n; i++)
                wrong += out[i] != 2 * i + 1;
        double traw = 0.0;
        if (me == 0) {
            for (int64_t i = 0; i < n; i++)
                raw[i] = (raw_item_t){i, 0};
            traw = raw_starpu(raw, n);
            for (int64_t i = 0; i < n; i++)
                wrong += raw[i].out != 2 * i + 1;
        }
        MPI_Barrier(MPI_COMM_WORLD);
        const double s0 = now();
        for (int64_t i = 0; i < n; i++)
            trivial(i, &in[i], &out[i], NULL);
        const double ts = now() - s0;
        if (r >= 0) {
            t_pmap[r] = t;
            t_raw[r] = traw;
            t_serial[r] = ts;
            for (int k = 0; k < np; k++)
                ranks_sum[k] += ranks[k];
            batches += rep.batches;
        }
    }
    int mine = sj_ncpus(), all_workers = 0;
    MPI_Allreduce(&mine, &all_workers, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0) {
        const double tp = median(t_pmap, reps), tr = median(t_raw, reps),
                     tsr = median(t_serial, reps);
        printf("{\"bench\":\"pmap_rate\",\"ranks\":%d,\"workers_per_rank\":%d,\"items\":%lld,"
               "\"batch\":%lld,\"queue_per_worker\":%d,\"reps\":%d,\"warmups\":%d,",
               np, sj_ncpus(), (long long)n, (long long)batch, queue, reps, warm);
        printf("\"pmap_s\":%.6f,\"pmap_items_per_s\":%.0f,\"pmap_us_per_item\":%.3f,", tp,
               (double)n / tp, 1e6 * tp / (double)n);
        printf("\"raw_starpu_root_items_per_s\":%.0f,\"serial_items_per_s\":%.0f,", (double)n / tr,
               (double)n / tsr);
        printf("\"ratio_vs_raw_starpu\":%.3f,\"ipyparallel_items_per_s\":300,"
               "\"ratio_vs_ipyparallel\":%.0f,",
               tr / tp, (double)n / tp / 300.0);
        if (busy_us > 0)
            printf("\"busy_us_per_item\":%g,\"efficiency\":%.3f,", busy_us,
                   (double)n * busy_us * 1e-6 / (tp * all_workers));
        printf("\"batches_per_farm\":%.1f,\"rank_items_mean\":[", (double)batches / reps);
        for (int k = 0; k < np; k++)
            printf("%s%.0f", k ? "," : "", (double)ranks_sum[k] / reps);
        printf("],");
        print_array("pmap_s_per_rep", "%.6f", t_pmap, reps);
        printf("\"correct\":%s}\n", json_bool(!wrong));
    }
    free(in);
    free(out);
    free(raw);
    free(t_pmap);
    free(t_raw);
    free(t_serial);
    free(ranks);
    free(ranks_sum);
    CHECK(sj_finalize());
    return wrong ? 1 : 0;
}
