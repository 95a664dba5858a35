/*
 * bench_inversion: the iteration rate of the nonlinear solvers on the
 * inversion problem of examples/inversion.c, at two sizes, on the rank count
 * it is started with. bench/run runs it on 1 rank and on 2 with the same
 * options, and bench/report.py divides the 1-rank time per iteration by the
 * 2-rank one (target >= 1.0: issue 16's "iteration rate faster on 2 ranks
 * than on 1"); 4 ranks are run by hand (bench/README.md).
 *
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_inversion [options]
 *
 * The problem (the example's, see there): a 1-D medium of `cells` cells, the
 * model m = log slowness on rank 0, `shots` nonlinear blocks W_i o exp
 * (sj_op_dense of (cells + 1) x cells, sj_op_exp) spread over the ranks by
 * the default tall layout, noisy data, reg 1e-2, gtol 1e-5, Gauss-Newton
 * with 40 inner LSQR iterations (inner rtol 1e-6) and L-BFGS (memory 5).
 * Two sizes:
 *  - tiny, -c cells (32: the example's default, blocks of 33 x 32): bound by
 *    latency, every task a few microseconds;
 *  - large, -C cells (1024: blocks of 1025 x 1024, 8 MiB each): each shot's
 *    apply is a dense product of about a millisecond, the order of one
 *    time step of the wave simulations a DistributedJets shot runs;
 *    -C 0 skips it.
 * Each solver runs from m = 0 to its stopping rule or its cap (-g / -G
 * Gauss-Newton iterations, tiny 10, large 3; -l / -L L-BFGS iterations, tiny
 * 200, large 40);
 * the rate is the solve's elapsed time (sj_solve_result_t.elapsed, the first
 * evaluation included) over its iterations, the median over -R rounds (3).
 * tasks_per_iter counts rank 0's submitted tasks per iteration. The model's
 * bits (model_hash, FNV-1a of the gathered m) must be the same on any rank
 * count: compare the JSON of two rank counts.
 *
 * Correct (exit 1 otherwise): every solve ended by its gradient test, its
 * cap or its line search, with a finite misfit, and at the tiny size, when
 * the gradient test stopped it, the example's check (slowness within 3 %).
 * One JSON object on stdout (rank 0).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../examples/inversion_problem.h"
#include "bench.h"

typedef inversion_problem_t problem_t;

/* What one solver measured over the rounds. */
typedef struct run {
    double ms[MAX_ROUNDS];
    double tasks, misfit, error;
    int iterations, evaluations;
    sj_solve_reason_t reason;
    uint64_t hash;
} run_t;

static uint64_t fnv1a(const void *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < n; k++)
        h = (h ^ ((const unsigned char *)p)[k]) * 1099511628211ull;
    return h;
}

static int wrong = 0;

/* Both solvers at one size: gn and lb get their rounds. */
static void run_size(const problem_t *p, int gn_cap, int lb_cap, int rounds, run_t *gn, run_t *lb)
{
    sj_op_t F;
    CHECK(sj_op_block_create_fn(p->shots, 1, NULL, inversion_shot, p, sizeof *p, &F));
    sj_space_t dom, rng;
    sj_dist_t ddom, drng;
    CHECK(sj_op_domain(F, &dom, &ddom));
    CHECK(sj_op_range(F, &rng, &drng));
    double *v = xmalloc((size_t)p->cells * sizeof *v);
    for (int c = 0; c < p->cells; c++)
        v[c] = log(inversion_s_true(p, c));
    sj_array_t mtrue, d, noise, m;
    CHECK(sj_array_distribute(dom, ddom, 0, sj_rank() == 0 ? v : NULL, &mtrue));
    CHECK(sj_array_zeros(rng, drng, &d));
    CHECK(sj_op_apply(F, mtrue, d));
    double dn;
    int64_t nd;
    CHECK(sj_array_norm(SJ_NORM_2, d, &dn));
    CHECK(sj_space_length(rng, &nd));
    CHECK(sj_array_randn(rng, drng, 2026, &noise));
    CHECK(sj_array_axpy(0.001 * dn / sqrt((double)nd), noise, d));
    CHECK(sj_array_zeros(dom, ddom, &m));

    sj_solve_nl_options_t o;
    sj_solve_nl_options_default(&o);
    o.reg = 1e-2;
    o.gtol = 1e-5;
    o.inner_iterations = 40;
    o.inner_rtol = 1e-6;
    for (int s = 0; s < 2; s++) {
        run_t *R = s == 0 ? gn : lb;
        o.max_iterations = s == 0 ? gn_cap : lb_cap;
        for (int r = 0; r < rounds; r++) {
            sj_solve_result_t res;
            sj_stats_t a, b;
            CHECK(sj_array_fill(0.0, m));
            CHECK(sj_wait());
            CHECK(sj_stats_get(&a));
            CHECK(s == 0 ? sj_solve_gauss_newton(F, d, m, &o, &res)
                         : sj_solve_lbfgs(F, d, m, &o, &res));
            CHECK(sj_stats_get(&b));
            const int it = res.iterations ? res.iterations : 1;
            R->ms[r] = 1e3 * res.elapsed / it;
            R->tasks = (double)(b.tasks_submitted - a.tasks_submitted) / it;
            R->iterations = res.iterations;
            R->evaluations = res.evaluations;
            R->reason = res.reason;
            R->misfit = res.rnorm;
        }
        CHECK(sj_array_allgather(m, v));
        R->hash = fnv1a(v, (size_t)p->cells * sizeof *v);
        double e = 0, smax = 0;
        for (int c = 0; c < p->cells; c++) {
            e = fmax(e, fabs(exp(v[c]) - inversion_s_true(p, c)));
            smax = fmax(smax, inversion_s_true(p, c));
        }
        R->error = e / smax;
        if (!isfinite(R->misfit) || R->reason == SJ_SOLVE_BREAKDOWN)
            wrong = 1;
    }
    free(v);
    CHECK(sj_array_destroy(&mtrue));
    CHECK(sj_array_destroy(&d));
    CHECK(sj_array_destroy(&noise));
    CHECK(sj_array_destroy(&m));
    CHECK(sj_op_destroy(&F));
}

static void print_run(const char *key, const run_t *R, int rounds, int last)
{
    printf("\"%s\":{\"ms_per_iter\":%.4f,\"ms_per_iter_min\":%.4f,\"ms_per_iter_max\":%.4f,"
           "\"iterations\":%d,\"evaluations\":%d,\"tasks_per_iter\":%.1f,\"stop\":\"%s\","
           "\"misfit\":%.9e,\"slowness_error\":%.4g,\"model_hash\":\"%016llx\",",
           key, median(R->ms, rounds), vmin(R->ms, rounds), vmax(R->ms, rounds), R->iterations,
           R->evaluations, R->tasks, sj_solve_reason_name(R->reason), R->misfit, R->error,
           (unsigned long long)R->hash);
    print_array("ms_per_iter_per_round", "%.4f", R->ms, rounds);
    printf("\"rounds\":%d}%s", rounds, last ? "" : ",");
}

int main(int argc, char **argv)
{
    int tiny = 32, large = 1024, shots = 8, gn_tiny = 10, gn_large = 3, lb_tiny = 200,
        lb_large = 40;
    int rounds = 3;
    bench_opt_t opt[] = {OPT('c', tiny, "tiny_cells"),      OPT('C', large, "large_cells"),
                         OPT('S', shots, "shots"),          OPT('g', gn_tiny, "gn_tiny"),
                         OPT('G', gn_large, "gn_large"),    OPT('l', lb_tiny, "lbfgs_tiny"),
                         OPT('L', lb_large, "lbfgs_large"), OPT('R', rounds, "rounds")};
    if (bench_parse(argc, argv, opt, NOPT(opt)) || tiny < 2 || shots < 1 || shots > tiny ||
        (large != 0 && (large < shots || large < 2)) || gn_tiny < 1 || gn_large < 1 ||
        lb_tiny < 1 || lb_large < 1 || rounds < 1 || rounds > MAX_ROUNDS)
        return bench_usage(argv[0], opt, NOPT(opt));
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank();
    run_t tg = {0}, tl = {0}, lg = {0}, ll = {0};
    const problem_t pt = {tiny, shots}, pl = {large, shots};
    run_size(&pt, gn_tiny, lb_tiny, rounds, &tg, &tl);
    for (int k = 0; k < 2; k++) { /* the example's check, where the gradient test stopped it */
        const run_t *R = k ? &tl : &tg;
        if ((R->reason == SJ_SOLVE_RTOL || R->reason == SJ_SOLVE_ATOL) && R->error > 0.03)
            wrong = 1;
    }
    if (large)
        run_size(&pl, gn_large, lb_large, rounds, &lg, &ll);
    if (me == 0) {
        printf("{\"bench\":\"inversion\",\"ranks\":%d,\"workers_per_rank\":%d,\"shots\":%d,"
               "\"load\":[%.2f,%.2f,%.2f],",
               sj_nranks(), sj_ncpus(), shots, load[0], load[1], load[2]);
        printf("\"tiny\":{\"cells\":%d,", tiny);
        print_run("gauss_newton", &tg, rounds, 0);
        print_run("lbfgs", &tl, rounds, 1);
        printf("},");
        if (large) {
            printf("\"large\":{\"cells\":%d,", large);
            print_run("gauss_newton", &lg, rounds, 0);
            print_run("lbfgs", &ll, rounds, 1);
            printf("},");
        }
        printf("\"correct\":%s}\n", wrong ? "false" : "true");
        fflush(stdout);
    }
    int rc = sj_finalize();
    if (rc != SJ_OK) {
        fprintf(stderr, "bench_inversion: sj_finalize failed: %s\n", sj_last_error());
        return 2;
    }
    return wrong ? 1 : 0;
}
