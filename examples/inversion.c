// sj-example: nprocs=1,2,4
/*
 * A small nonlinear inversion in the DistributedJets style: one nonlinear
 * block per "shot", spread over the ranks, a model that lives on rank 0,
 * noisy synthetic data, solved by Gauss-Newton (LSQR on the Jacobian) and by
 * L-BFGS.
 *
 * The model m is the log of the slowness of `cells` cells of a 1-D medium of
 * unit spacing. Shot i fires at a cell boundary and records the travel time
 * to every boundary: t_i = W_i exp(m), W_i the lengths of the straight rays in
 * each cell (1 for the cells between source and receiver). The forward
 * operator is the tall block operator F = [W_1 o exp; ...; W_S o exp]: block
 * i is a composition of two leaves on shot i's rank (DistributedJets'
 * `@blockop` of `JopNl`s), and the model m, F's domain, sits on rank 0.
 * Data: F(m_true) plus 0.1 % Gaussian noise (sj_array_randn: the same on any
 * rank count). Both solvers start from a constant medium, minimise
 * ||F(m) - d||^2 / 2 + reg^2 ||m - 0||^2 / 2 with a small reg, print the
 * misfit per iteration, and check that the slowness is recovered to a few
 * per cent. Rank 0 writes the misfit curves to a CSV file and draws them
 * into a PNG (examples/png.h: no library; misfit on a log scale against the
 * iteration, Gauss-Newton red, L-BFGS blue, a tick per decade and per ten
 * iterations), then reads the PNG back and checks it (header, size, CRCs,
 * Adler-32).
 *
 *   mpiexec -n 4 --bind-to none build/examples/inversion [--shots S] [--cells N]
 *                                          [--csv FILE] [--png FILE] [--quiet]
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "example.h"
#include "inversion_problem.h"
#include "png.h"

static int cells = 32, shots = 8, quiet = 0;

/* The problem's sizes, from the command line: the context of inversion_shot. */
static inversion_problem_t problem;

typedef struct curve {
    int n;
    double misfit[256];
    double t[256];
} curve_t;

static void monitor(const sj_solve_monitor_info_t *info, void *ctx)
{
    curve_t *c = ctx;
    if (c->n < 256) {
        c->misfit[c->n] = info->rnorm;
        c->t[c->n++] = info->elapsed;
    }
    if (!quiet)
        printf("  %-12s iteration %2d  misfit %.6e  |gradient| %.3e  objective %.6e\n",
               info->solver, info->iteration, info->rnorm, info->arnorm, info->objective);
}

/* max |exp(m) - s_true| / max s_true on every rank */
static double model_error(sj_array_t m)
{
    double *v = malloc((size_t)cells * sizeof *v), e = 0, smax = 0;
    CHECK(sj_array_allgather(m, v));
    for (int c = 0; c < cells; c++) {
        e = fmax(e, fabs(exp(v[c]) - inversion_s_true(&problem, c)));
        smax = fmax(smax, inversion_s_true(&problem, c));
    }
    free(v);
    return e / smax;
}

/* ---- the plot ------------------------------------------------------------ */

enum { PLOT_W = 640, PLOT_H = 400, LEFT = 50, RIGHT = 20, TOP = 20, BOTTOM = 40 };

typedef struct axes {
    double xmax, lo, hi; /* iterations 0..xmax; log10 of the misfit lo..hi */
} axes_t;

static int px(const axes_t *a, double k)
{
    return LEFT + (int)lround(k / a->xmax * (PLOT_W - LEFT - RIGHT - 1));
}

static int py(const axes_t *a, double misfit)
{
    const double t = (log10(misfit) - a->lo) / (a->hi - a->lo);
    return PLOT_H - BOTTOM - 1 - (int)lround(t * (PLOT_H - TOP - BOTTOM - 1));
}

/* A curve 2 pixels wide, a dot of radius r at each point; non-positive values skipped. */
static void draw_curve(png_image_t *im, const axes_t *a, const curve_t *c, int r, png_color_t col)
{
    for (int k = 0; k < c->n; k++) {
        if (!(c->misfit[k] > 0) || !isfinite(c->misfit[k]))
            continue;
        const int x = px(a, k), y = py(a, c->misfit[k]);
        if (k + 1 < c->n && c->misfit[k + 1] > 0 && isfinite(c->misfit[k + 1])) {
            const int x1 = px(a, k + 1), y1 = py(a, c->misfit[k + 1]);
            png_line(im, x, y, x1, y1, col);
            png_line(im, x, y + 1, x1, y1 + 1, col);
        }
        png_dot(im, x, y, r, col);
    }
}

/* The misfit curves, log scale, into a PNG at @p path: 0, or -1. */
static int plot_misfit(const char *path, const curve_t *gn, const curve_t *lb)
{
    axes_t a = {.xmax = (gn->n > lb->n ? gn->n : lb->n) - 1, .lo = INFINITY, .hi = -INFINITY};
    const curve_t *both[2] = {gn, lb};
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < both[c]->n; k++)
            if (both[c]->misfit[k] > 0 && isfinite(both[c]->misfit[k])) {
                a.lo = fmin(a.lo, floor(log10(both[c]->misfit[k])));
                a.hi = fmax(a.hi, ceil(log10(both[c]->misfit[k])));
            }
    if (!(a.lo < a.hi)) /* one decade at least (and none of the curves drawn) */
        a.hi = (isfinite(a.lo) ? a.lo : (a.lo = 0)) + 1;
    if (a.xmax < 1)
        a.xmax = 1;
    png_image_t im;
    if (png_image_init(&im, PLOT_W, PLOT_H) != 0)
        return -1;
    const png_color_t black = {0, 0, 0}, grey = {215, 215, 215};
    const int xl = LEFT, xr = PLOT_W - RIGHT - 1, yt = TOP, yb = PLOT_H - BOTTOM - 1;
    const int step = a.xmax <= 10 ? 1 : a.xmax <= 50 ? 5 : a.xmax <= 100 ? 10 : 50;
    for (int k = 0; k <= a.xmax; k += step) { /* grid and ticks along the iterations */
        png_line(&im, px(&a, k), yt, px(&a, k), yb, grey);
        png_line(&im, px(&a, k), yb, px(&a, k), yb + 6, black);
    }
    for (double e = a.lo; e <= a.hi; e++) { /* a line per decade, short ticks at 2..9 */
        const int y = py(&a, pow(10, e));
        png_line(&im, xl, y, xr, y, grey);
        png_line(&im, xl - 8, y, xl, y, black);
        for (int m = 2; m < 10 && e < a.hi; m++)
            png_line(&im, xl - 4, py(&a, m * pow(10, e)), xl, py(&a, m * pow(10, e)), black);
    }
    png_line(&im, xl, yt, xr, yt, black); /* the frame */
    png_line(&im, xl, yb, xr, yb, black);
    png_line(&im, xl, yt, xl, yb, black);
    png_line(&im, xr, yt, xr, yb, black);
    draw_curve(&im, &a, lb, 1, (png_color_t){30, 80, 200});
    draw_curve(&im, &a, gn, 3, (png_color_t){200, 30, 30});
    const int rc = png_write(path, &im);
    png_image_free(&im);
    return rc;
}

static void usage(const char *prog)
{
    if (sj_rank() == 0)
        fprintf(stderr, "usage: %s [--shots S] [--cells N] [--csv FILE] [--png FILE] [--quiet]\n",
                prog);
    sj_finalize();
    exit(2);
}

int main(int argc, char **argv)
{
    CHECK(sj_init(&argc, &argv, NULL));
    const char *csv = "inversion_misfit.csv", *png = "inversion_misfit.png";
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--shots") && a + 1 < argc)
            shots = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--cells") && a + 1 < argc)
            cells = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--csv") && a + 1 < argc)
            csv = argv[++a];
        else if (!strcmp(argv[a], "--png") && a + 1 < argc)
            png = argv[++a];
        else if (!strcmp(argv[a], "--quiet"))
            quiet = 1;
        else
            usage(argv[0]);
    }
    if (shots < 1 || cells < 2 || shots > cells)
        usage(argv[0]);

    /* F: shots x 1 blocks, the default tall layout (shots in runs over the ranks) */
    problem = (inversion_problem_t){.cells = cells, .shots = shots};
    sj_op_t F;
    CHECK(sj_op_block_create_fn(shots, 1, NULL, inversion_shot, &problem, sizeof problem, &F));
    sj_space_t dom, rng;
    sj_dist_t ddom, drng;
    CHECK(sj_op_domain(F, &dom, &ddom)); /* the model: one block, on rank 0 */
    CHECK(sj_op_range(F, &rng, &drng));

    /* noisy data: d = F(m_true) + 0.1 % of its rms times N(0, 1) */
    double *mt = malloc((size_t)cells * sizeof *mt);
    for (int c = 0; c < cells; c++)
        mt[c] = log(inversion_s_true(&problem, c));
    sj_array_t mtrue, d, noise, m;
    CHECK(sj_array_distribute(dom, ddom, 0, sj_rank() == 0 ? mt : NULL, &mtrue));
    free(mt);
    CHECK(sj_array_zeros(rng, drng, &d));
    CHECK(sj_op_apply(F, mtrue, d));
    double dn;
    int64_t nd;
    CHECK(sj_array_norm(SJ_NORM_2, d, &dn));
    CHECK(sj_space_length(rng, &nd));
    CHECK(sj_array_randn(rng, drng, 2026, &noise));
    CHECK(sj_array_axpy(0.001 * dn / sqrt((double)nd), noise, d));
    CHECK(sj_array_zeros(dom, ddom, &m));
    if (sj_rank() == 0)
        printf("inversion: %d shots on %d rank(s), %d cells, %lld data\n", shots, sj_nranks(),
               cells, (long long)nd);

    sj_solve_nl_options_t o;
    sj_solve_nl_options_default(&o);
    o.reg = 1e-2;
    o.gtol = 1e-5; /* the noise and the inner tolerance leave little below that */
    o.max_iterations = 10;
    o.inner_iterations = 40;
    o.inner_rtol = 1e-6;
    o.monitor = monitor;
    curve_t gn = {0}, lb = {0};
    o.monitor_ctx = &gn;
    sj_solve_result_t r;
    double t = now();
    CHECK(sj_solve_gauss_newton(F, d, m, &o, &r));
    const double t_gn = now() - t, e_gn = model_error(m);
    const int it_gn = r.iterations;
    const double misfit_gn = r.rnorm; /* the curves are recorded on rank 0 only */
    if (sj_rank() == 0)
        printf("gauss-newton: %s after %d iterations (%d evaluations), %.1f ms per iteration, "
               "slowness error %.2f %%\n",
               sj_solve_reason_name(r.reason), r.iterations, r.evaluations,
               1e3 * t_gn / (r.iterations ? r.iterations : 1), 100 * e_gn);

    CHECK(sj_array_fill(0.0, m));
    o.max_iterations = 200;
    o.monitor_ctx = &lb;
    o.monitor = monitor; /* records silently; L-BFGS's curve is printed below, thinned */
    int q = quiet;
    quiet = 1;
    t = now();
    CHECK(sj_solve_lbfgs(F, d, m, &o, &r));
    const double t_lb = now() - t, e_lb = model_error(m);
    quiet = q;
    int plotted = 1; /* rank 0 says */
    if (sj_rank() == 0) {
        if (!quiet)
            for (int k = 0; k < lb.n; k += (k < 10 ? 1 : 10))
                printf("  %-12s iteration %3d  misfit %.6e\n", "lbfgs", k, lb.misfit[k]);
        printf("lbfgs: %s after %d iterations (%d evaluations), %.2f ms per iteration, "
               "slowness error %.2f %%\n",
               sj_solve_reason_name(r.reason), r.iterations, r.evaluations,
               1e3 * t_lb / (r.iterations ? r.iterations : 1), 100 * e_lb);
        FILE *f = fopen(csv, "w");
        if (f) {
            fprintf(f, "iteration,gauss_newton_misfit,lbfgs_misfit\n");
            const int n = gn.n > lb.n ? gn.n : lb.n;
            for (int k = 0; k < n; k++) {
                fprintf(f, "%d,", k);
                if (k < gn.n)
                    fprintf(f, "%.9e", gn.misfit[k]);
                fprintf(f, ",");
                if (k < lb.n)
                    fprintf(f, "%.9e", lb.misfit[k]);
                fprintf(f, "\n");
            }
            fclose(f);
            printf("misfit curves in %s\n", csv);
        }
        const char *why = plot_misfit(png, &gn, &lb) == 0 ? png_check(png, PLOT_W, PLOT_H)
                                                          : "cannot write the file";
        if (why)
            printf("inversion: %s: %s\n", png, why);
        else
            printf("misfit curves drawn in %s (log misfit against iteration; red: Gauss-Newton, "
                   "blue: L-BFGS), read back and checked\n",
                   png);
        plotted = why == NULL;
    }
    const double noise_level = 0.001 * dn; /* ||noise|| about this */
    int ok = e_gn < 0.03 && e_lb < 0.03 && misfit_gn < 3 * noise_level && it_gn >= 1 && plotted;
    if (sj_rank() == 0)
        printf("inversion: %s\n", ok ? "the model is recovered" : "FAILED");
    sj_array_destroy(&mtrue);
    sj_array_destroy(&d);
    sj_array_destroy(&noise);
    sj_array_destroy(&m);
    sj_op_destroy(&F);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
