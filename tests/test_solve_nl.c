// sj-test: nprocs=1,2,3,4
/*
 * Nonlinear least squares (starjets/solve.h): Gauss-Newton with LSQR and
 * L-BFGS on a tall block operator of nonlinear blocks F_i(m) = A_i exp(m)
 * (one per "shot", spread over the ranks), with a known solution; Tikhonov
 * regularisation (both solvers reach the same minimiser); bounds; the same
 * bits whatever the layout and the rank count; bad input.
 */
#include "sj_test.h"

#include <unistd.h> /* getpid */

/* Internal (src/op/op_private.h): move a Jacobian to another point. */
int sj__op_jacobian_move(sj_op_t J, sj_op_t F, sj_array_t m0);

enum { NS = 3, NM = 6, ND = 10 }; /* shots, model size, data per shot */

static double hval(int s, int i, int j)
{
    return sin(0.9 * (s * ND + i + 1) * (j + 1) + 0.3 * j * j); /* not separable: full rank */
}

static double mtrue(int k)
{
    return 0.4 * sin(1.0 + 1.7 * k);
}

/* F: NS x 1 block operator, block i = A_i o exp, on rank i % P (mode 1: all on rank 0). */
static sj_op_t make_F(int mode)
{
    sj_space_t sm, sd;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){NM}, NULL, &sm));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){ND}, NULL, &sd));
    int owners[NS];
    sj_op_t blocks[NS];
    for (int i = 0; i < NS; i++) {
        owners[i] = mode == 1 ? 0 : i % sj_nranks();
        double A[ND * NM];
        for (int c = 0; c < NM; c++)
            for (int r = 0; r < ND; r++)
                A[r + ND * c] = hval(i, r, c);
        sj_op_t Ai, E;
        SJ_ASSERT_OK(sj_op_dense(sm, sd, owners[i], sj_rank() == owners[i] ? A : NULL, &Ai));
        SJ_ASSERT_OK(sj_op_exp(sm, owners[i], &E));
        SJ_ASSERT_OK(sj_op_compose(Ai, E, &blocks[i]));
        sj_op_destroy(&Ai);
        sj_op_destroy(&E);
    }
    sj_dist_t d;
    SJ_ASSERT_OK(sj_dist_create_explicit(2, (int[]){NS, 1}, owners, &d));
    sj_op_t F;
    SJ_ASSERT_OK(sj_op_block_create(NS, 1, blocks, d, &F));
    for (int i = 0; i < NS; i++)
        sj_op_destroy(&blocks[i]);
    sj_dist_destroy(&d);
    sj_space_destroy(&sm);
    sj_space_destroy(&sd);
    return F;
}

typedef struct setup {
    sj_op_t F;
    sj_array_t d, m;
    sj_space_t dom;
    sj_dist_t ddom;
} setup_t;

static setup_t setup(int mode)
{
    setup_t s;
    s.F = make_F(mode);
    sj_space_t rng;
    sj_dist_t drng;
    SJ_ASSERT_OK(sj_op_domain(s.F, &s.dom, &s.ddom));
    SJ_ASSERT_OK(sj_op_range(s.F, &rng, &drng));
    double mt[NM];
    for (int k = 0; k < NM; k++)
        mt[k] = mtrue(k);
    sj_array_t t;
    SJ_ASSERT_OK(sj_array_distribute(s.dom, s.ddom, 0, sj_rank() == 0 ? mt : NULL, &t));
    SJ_ASSERT_OK(sj_array_zeros(rng, drng, &s.d));
    SJ_ASSERT_OK(sj_op_apply(s.F, t, s.d)); /* noise-free data: m_true is the minimiser */
    SJ_ASSERT_OK(sj_array_destroy(&t));
    SJ_ASSERT_OK(sj_array_zeros(s.dom, s.ddom, &s.m));
    return s;
}

static void teardown(setup_t *s)
{
    sj_array_destroy(&s->d);
    sj_array_destroy(&s->m);
    sj_op_destroy(&s->F);
}

static void get_m(sj_array_t m, double *v)
{
    SJ_ASSERT_OK(sj_array_allgather(m, v));
}

static double err_true(const double *v)
{
    double e = 0;
    for (int k = 0; k < NM; k++)
        e = fmax(e, fabs(v[k] - mtrue(k)));
    return e;
}

typedef struct record {
    int n;
    double objective[256];
} record_t;

static void record_fn(const sj_solve_monitor_info_t *info, void *ctx)
{
    record_t *r = ctx;
    if (r->n < 256)
        r->objective[r->n++] = info->objective;
}

static void test_gauss_newton(void **state)
{
    (void)state;
    setup_t s = setup(0);
    sj_solve_nl_options_t o;
    sj_solve_nl_options_default(&o);
    o.gtol = 1e-10;
    o.inner_rtol = 1e-12;
    o.inner_iterations = 50;
    record_t rec = {0};
    o.monitor = record_fn;
    o.monitor_ctx = &rec;
    sj_solve_result_t r;
    SJ_ASSERT_OK(sj_solve_gauss_newton(s.F, s.d, s.m, &o, &r));
    double v[NM];
    get_m(s.m, v);
    if (err_true(v) > 1e-7)
        print_error("GN: error %g, %d iterations, reason %s, misfit %g\n", err_true(v),
                    r.iterations, sj_solve_reason_name(r.reason), r.rnorm);
    assert_true(err_true(v) < 1e-7);
    assert_true(r.reason == SJ_SOLVE_RTOL || r.reason == SJ_SOLVE_ATOL);
    assert_true(r.iterations <= 12);
    assert_true(r.rnorm < 1e-6 * r.bnorm);
    if (sj_rank() == 0) { /* the objective decreases */
        assert_int_equal(rec.n, r.iterations + 1);
        for (int k = 1; k < rec.n; k++)
            assert_true(rec.objective[k] < rec.objective[k - 1]);
    }
    teardown(&s);
}

static void test_lbfgs(void **state)
{
    (void)state;
    setup_t s = setup(0);
    sj_solve_nl_options_t o;
    sj_solve_nl_options_default(&o);
    o.gtol = 1e-9;
    o.max_iterations = 300;
    sj_solve_result_t r;
    SJ_ASSERT_OK(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r));
    double v[NM];
    get_m(s.m, v);
    if (err_true(v) > 1e-5)
        print_error("L-BFGS: error %g, %d iterations, reason %s, misfit %g, |g| %g\n", err_true(v),
                    r.iterations, sj_solve_reason_name(r.reason), r.rnorm, r.arnorm);
    assert_true(err_true(v) < 1e-5);
    assert_true(r.reason == SJ_SOLVE_RTOL);
    assert_true(r.evaluations >= r.iterations);
    teardown(&s);
}

/* With Tikhonov regularisation both solvers find the same minimiser (gradient zero). */
static void test_regularised(void **state)
{
    (void)state;
    setup_t s = setup(0);
    sj_solve_nl_options_t o;
    sj_solve_nl_options_default(&o);
    o.reg = 0.5;
    o.gtol = 1e-9;
    o.inner_rtol = 1e-12;
    o.inner_iterations = 50;
    o.max_iterations = 300;
    sj_solve_result_t r1, r2;
    SJ_ASSERT_OK(sj_solve_gauss_newton(s.F, s.d, s.m, &o, &r1));
    double a[NM], b[NM];
    get_m(s.m, a);
    SJ_ASSERT_OK(sj_array_fill(0.0, s.m));
    SJ_ASSERT_OK(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r2));
    get_m(s.m, b);
    /* near the minimiser rounding may stop the line search first: then the gradient
       must be as small anyway */
    if (r1.reason != SJ_SOLVE_RTOL || r2.reason != SJ_SOLVE_RTOL)
        print_error("GN %s |g| %g of %g, L-BFGS %s |g| %g of %g\n", sj_solve_reason_name(r1.reason),
                    r1.arnorm, r1.arnorm0, sj_solve_reason_name(r2.reason), r2.arnorm, r2.arnorm0);
    assert_true(r1.arnorm <= 1e-8 * r1.arnorm0 && r2.arnorm <= 1e-8 * r2.arnorm0);
    for (int k = 0; k < NM; k++)
        assert_true(fabs(a[k] - b[k]) < 1e-5);
    assert_true(err_true(a) > 1e-3); /* the regularisation moved the answer */
    assert_true(fabs(r1.objective - r2.objective) <= 1e-8 * r1.objective);
    teardown(&s);
}

/* Bounds: a box around m_true changes nothing; a box that cuts it is respected. */
static void test_bounds(void **state)
{
    (void)state;
    setup_t s = setup(0);
    sj_array_t lo, hi;
    SJ_ASSERT_OK(sj_array_filled(s.dom, s.ddom, -1.0, &lo));
    SJ_ASSERT_OK(sj_array_filled(s.dom, s.ddom, 1.0, &hi));
    sj_solve_nl_options_t o;
    sj_solve_nl_options_default(&o);
    o.gtol = 1e-9;
    o.max_iterations = 300;
    o.lower = lo;
    o.upper = hi;
    sj_solve_result_t r;
    SJ_ASSERT_OK(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r));
    double v[NM];
    get_m(s.m, v);
    assert_true(err_true(v) < 1e-5);
    /* upper bound 0.1: m_true has entries above it */
    SJ_ASSERT_OK(sj_array_fill(0.1, hi));
    SJ_ASSERT_OK(sj_array_fill(0.0, s.m));
    SJ_ASSERT_OK(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r));
    get_m(s.m, v);
    int at_bound = 0;
    for (int k = 0; k < NM; k++) {
        assert_true(v[k] <= 0.1 && v[k] >= -1.0);
        at_bound += v[k] == 0.1;
    }
    assert_true(at_bound > 0);
    if (r.reason != SJ_SOLVE_RTOL)
        print_error("bounded: reason %s, |pg| %g of %g\n", sj_solve_reason_name(r.reason), r.arnorm,
                    r.arnorm0);
    assert_true(r.arnorm <= 1e-6 * r.arnorm0); /* projected gradient: a KKT point */

    /* a start outside the box is projected onto it: the run from its projection */
    double inside[NM], outside[NM];
    o.max_iterations = 20;
    SJ_ASSERT_OK(sj_array_fill(0.1, s.m));
    SJ_ASSERT_OK(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r));
    get_m(s.m, inside);
    SJ_ASSERT_OK(sj_array_fill(5.0, s.m));
    SJ_ASSERT_OK(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r));
    get_m(s.m, outside);
    assert_memory_equal(inside, outside, sizeof inside);

    /* bounds that leave no room, or a NaN bound: refused, m untouched */
    SJ_ASSERT_OK(sj_array_fill(0.5, lo));
    SJ_ASSERT_OK(sj_array_fill(7.0, s.m));
    SJ_ASSERT_ERR(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r), SJ_EINVAL);
    SJ_ASSERT_OK(sj_array_fill(NAN, lo));
    SJ_ASSERT_ERR(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r), SJ_EINVAL);
    get_m(s.m, v);
    for (int k = 0; k < NM; k++)
        assert_true(v[k] == 7.0);
    sj_array_destroy(&lo);
    sj_array_destroy(&hi);
    teardown(&s);
}

/* The same bits with every block on rank 0 and with blocks spread. */
static void test_bits(void **state)
{
    (void)state;
    double v[2][NM], w[2][NM];
    for (int mode = 0; mode < 2; mode++) {
        setup_t s = setup(mode);
        sj_solve_nl_options_t o;
        sj_solve_nl_options_default(&o);
        o.max_iterations = 4;
        o.reg = 0.1;
        SJ_ASSERT_OK(sj_solve_gauss_newton(s.F, s.d, s.m, &o, NULL));
        get_m(s.m, v[mode]);
        SJ_ASSERT_OK(sj_array_fill(0.0, s.m));
        o.max_iterations = 10;
        SJ_ASSERT_OK(sj_solve_lbfgs(s.F, s.d, s.m, &o, NULL));
        get_m(s.m, w[mode]);
        teardown(&s);
    }
    assert_memory_equal(v[0], v[1], sizeof v[0]);
    assert_memory_equal(w[0], w[1], sizeof w[0]);
}

/*
 * Across rank counts: each run writes the bits of both solvers' objectives, a
 * hash of their answers and their iteration and evaluation counts to
 * solve_nl_bits_np<P>.txt, and compares with the files other rank counts
 * left (ctest runs np1 first). With bounds too: the projected path.
 */
static void test_bits_across_rank_counts(void **state)
{
    (void)state;
    char line[3][256];
    for (int k = 0; k < 3; k++) {
        setup_t s = setup(0);
        sj_array_t lo = NULL, hi = NULL;
        sj_solve_nl_options_t o;
        sj_solve_nl_options_default(&o);
        o.reg = 0.1;
        o.max_iterations = k == 0 ? 4 : 12;
        if (k == 2) {
            SJ_ASSERT_OK(sj_array_filled(s.dom, s.ddom, -1.0, &lo));
            SJ_ASSERT_OK(sj_array_filled(s.dom, s.ddom, 0.1, &hi));
            o.lower = lo;
            o.upper = hi;
        }
        sj_solve_result_t r;
        SJ_ASSERT_OK(k == 0 ? sj_solve_gauss_newton(s.F, s.d, s.m, &o, &r)
                            : sj_solve_lbfgs(s.F, s.d, s.m, &o, &r));
        double v[NM];
        get_m(s.m, v);
        uint64_t h = 1469598103934665603ull, fb;
        for (int i = 0; i < NM; i++) {
            uint64_t u;
            memcpy(&u, &v[i], sizeof u);
            h = (h ^ u) * 1099511628211ull;
        }
        memcpy(&fb, &r.objective, sizeof fb);
        snprintf(line[k], sizeof line[k], "%s %d %d %016llx %016llx",
                 k == 0   ? "gn"
                 : k == 1 ? "lbfgs"
                          : "lbfgs_bounds",
                 r.iterations, r.evaluations, (unsigned long long)h, (unsigned long long)fb);
        sj_array_destroy(&lo);
        sj_array_destroy(&hi);
        teardown(&s);
    }
    if (sj_rank() != 0)
        return;
    char path[64];
    snprintf(path, sizeof path, "solve_nl_bits_np%d.txt", sj_nranks());
    char tmp[80]; /* written aside, then renamed: a run beside this one reads all or nothing */
    snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f) {
        fprintf(f, "%s\n%s\n%s\n", line[0], line[1], line[2]);
        fclose(f);
        rename(tmp, path);
    }
    for (int P = 1; P <= 4; P++) {
        snprintf(path, sizeof path, "solve_nl_bits_np%d.txt", P);
        f = fopen(path, "r");
        if (!f)
            continue;
        char got[3][256] = {"", "", ""};
        for (int k = 0; k < 3; k++)
            if (!fgets(got[k], sizeof got[k], f))
                got[k][0] = '\0';
        fclose(f);
        for (int k = 0; k < 3; k++) {
            got[k][strcspn(got[k], "\n")] = '\0';
            if (strcmp(got[k], line[k]) != 0)
                print_error("%d ranks gave '%s', this run '%s'\n", P, got[k], line[k]);
            assert_string_equal(got[k], line[k]);
        }
    }
}

/*
 * The solvers move one Jacobian from point to point: a moved Jacobian applies
 * (forward and adjoint) with the bits of one made at the new point, through
 * compositions, scalings, combinations and block operators, and again after
 * a second move (its cached temporaries reused); another operator's
 * Jacobian is refused.
 */
static void test_jacobian_move(void **state)
{
    (void)state;
    setup_t s = setup(0);
    sj_op_t T, S2, C, G = NULL; /* G = 0.5 * (F + 2 * F o tanh), on rank 0 */
    SJ_ASSERT_OK(sj_op_tanh(s.dom, 0, &T));
    SJ_ASSERT_OK(sj_op_compose(s.F, T, &C));
    SJ_ASSERT_OK(sj_op_combine(1.0, s.F, 2.0, C, &S2));
    SJ_ASSERT_OK(sj_op_scale(0.5, S2, &G));
    sj_op_t ops[2] = {s.F, G};
    for (int o = 0; o < 2; o++) {
        double m1[NM], m2[NM], m3[NM];
        for (int k = 0; k < NM; k++) {
            m1[k] = 0.1 * k;
            m2[k] = 0.3 * cos(1.0 + k);
            m3[k] = -0.2 * sin(2.0 * k);
        }
        sj_array_t p1, p2, x, y, yw, xw, yg, xg;
        SJ_ASSERT_OK(sj_array_distribute(s.dom, s.ddom, 0, sj_rank() == 0 ? m1 : NULL, &p1));
        SJ_ASSERT_OK(sj_array_distribute(s.dom, s.ddom, 0, sj_rank() == 0 ? m2 : NULL, &p2));
        SJ_ASSERT_OK(sj_array_distribute(s.dom, s.ddom, 0, sj_rank() == 0 ? m3 : NULL, &x));
        SJ_ASSERT_OK(sj_array_similar(s.d, &y));
        SJ_ASSERT_OK(sj_array_similar(s.d, &yw));
        SJ_ASSERT_OK(sj_array_similar(s.d, &yg));
        SJ_ASSERT_OK(sj_array_similar(x, &xw));
        SJ_ASSERT_OK(sj_array_similar(x, &xg));
        SJ_ASSERT_OK(sj_op_apply(s.F, x, y));
        sj_op_t J, Jw;
        SJ_ASSERT_OK(sj_op_jacobian(ops[o], p1, &J));
        for (int round = 0; round < 2; round++) {
            sj_array_t at = round ? p1 : p2;
            SJ_ASSERT_OK(sj__op_jacobian_move(J, ops[o], at));
            SJ_ASSERT_OK(sj_op_jacobian(ops[o], at, &Jw));
            SJ_ASSERT_OK(sj_op_apply(J, x, yg));
            SJ_ASSERT_OK(sj_op_apply(Jw, x, yw));
            SJ_ASSERT_OK(sj_op_apply_adjoint(J, y, xg));
            SJ_ASSERT_OK(sj_op_apply_adjoint(Jw, y, xw));
            double a[NS * ND], b[NS * ND], c[NM], d[NM];
            SJ_ASSERT_OK(sj_array_allgather(yg, a));
            SJ_ASSERT_OK(sj_array_allgather(yw, b));
            SJ_ASSERT_OK(sj_array_allgather(xg, c));
            SJ_ASSERT_OK(sj_array_allgather(xw, d));
            assert_memory_equal(a, b, sizeof a);
            assert_memory_equal(c, d, sizeof c);
            sj_op_destroy(&Jw);
        }
        /* the Jacobian of the other operator is not this one's */
        assert_int_equal(sj__op_jacobian_move(J, ops[1 - o], p2), SJ_EINVAL);
        sj_op_destroy(&J);
        sj_array_t all[] = {p1, p2, x, y, yw, xw, yg, xg};
        for (int k = 0; k < 8; k++)
            sj_array_destroy(&all[k]);
    }
    sj_op_destroy(&T);
    sj_op_destroy(&C);
    sj_op_destroy(&S2);
    sj_op_destroy(&G);
    teardown(&s);
}

/* The linear solvers on a Jacobian: LSQR with J = dF(m0) = [A_i diag(exp(m0))] against the
   normal equations of the dense matrix. */
static void test_lsqr_on_jacobian(void **state)
{
    (void)state;
    setup_t s = setup(0);
    double m0[NM], f[NS * ND];
    for (int k = 0; k < NM; k++)
        m0[k] = 0.2 * cos(0.5 * k);
    sj_array_t pt, x;
    SJ_ASSERT_OK(sj_array_distribute(s.dom, s.ddom, 0, sj_rank() == 0 ? m0 : NULL, &pt));
    sj_op_t J;
    SJ_ASSERT_OK(sj_op_jacobian(s.F, pt, &J));
    SJ_ASSERT_OK(sj_array_zeros(s.dom, s.ddom, &x));
    sj_solve_options_t o;
    sj_solve_options_default(&o);
    o.rtol = 1e-12;
    sj_solve_result_t r;
    SJ_ASSERT_OK(sj_solve_lsqr(J, s.d, x, &o, &r)); /* J x ~ d */
    double v[NM];
    get_m(x, v);
    SJ_ASSERT_OK(sj_array_allgather(s.d, f));
    /* dense J and the normal equations J'J x = J'f, by Gaussian elimination */
    double Jd[NS * ND][NM], K[NM][NM + 1];
    for (int i = 0; i < NS; i++)
        for (int r0 = 0; r0 < ND; r0++)
            for (int c = 0; c < NM; c++)
                Jd[i * ND + r0][c] = hval(i, r0, c) * exp(m0[c]);
    for (int a = 0; a < NM; a++) {
        for (int c = 0; c <= NM; c++) {
            double t = 0;
            for (int k = 0; k < NS * ND; k++)
                t += Jd[k][a] * (c < NM ? Jd[k][c] : f[k]);
            K[a][c] = t;
        }
    }
    for (int a = 0; a < NM; a++)
        for (int b = a + 1; b < NM; b++) {
            const double q = K[b][a] / K[a][a];
            for (int c = a; c <= NM; c++)
                K[b][c] -= q * K[a][c];
        }
    double ref[NM];
    for (int a = NM - 1; a >= 0; a--) {
        double t = K[a][NM];
        for (int c = a + 1; c < NM; c++)
            t -= K[a][c] * ref[c];
        ref[a] = t / K[a][a];
    }
    for (int k = 0; k < NM; k++)
        assert_true(fabs(v[k] - ref[k]) <= 1e-8 * (1.0 + fabs(ref[k])));
    assert_true(r.reason == SJ_SOLVE_RTOL);
    sj_op_destroy(&J);
    sj_array_destroy(&pt);
    sj_array_destroy(&x);
    teardown(&s);
}

static void test_bad_input(void **state)
{
    (void)state;
    setup_t s = setup(0);
    sj_array_t wrong, other;
    SJ_ASSERT_OK(sj_array_zeros(s.dom, s.ddom, &wrong));
    sj_space_t s5;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){5}, NULL, &s5));
    sj_array_destroy(&wrong);
    SJ_ASSERT_OK(sj_array_zeros(s5, NULL, &wrong));
    sj_dist_t d0;
    SJ_ASSERT_OK(sj_dist_create_explicit(1, (int[]){1}, (int[]){sj_nranks() - 1}, &d0));
    SJ_ASSERT_OK(sj_array_zeros(s.dom, d0, &other));
    sj_solve_nl_options_t o;
    sj_solve_result_t r;
    sj_solve_nl_options_default(&o);
    SJ_ASSERT_ERR(sj_solve_gauss_newton(NULL, s.d, s.m, &o, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_solve_lbfgs(s.F, NULL, s.m, &o, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_solve_lbfgs(s.F, s.d, NULL, &o, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_solve_lbfgs(s.F, s.d, wrong, &o, &r), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_solve_gauss_newton(s.F, wrong, s.m, &o, &r), SJ_EMISMATCH);
    o.gtol = -1;
    SJ_ASSERT_ERR(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r), SJ_EINVAL);
    sj_solve_nl_options_default(&o);
    o.memory = 0;
    SJ_ASSERT_ERR(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r), SJ_EINVAL);
    sj_solve_nl_options_default(&o);
    o.reg = -0.1;
    SJ_ASSERT_ERR(sj_solve_gauss_newton(s.F, s.d, s.m, &o, &r), SJ_EINVAL);
    sj_solve_nl_options_default(&o);
    o.upper = wrong;
    SJ_ASSERT_ERR(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r), SJ_EMISMATCH);
    if (sj_nranks() > 1) {
        o.upper = other; /* another layout */
        SJ_ASSERT_ERR(sj_solve_lbfgs(s.F, s.d, s.m, &o, &r), SJ_EMISMATCH);
    }
    o.upper = s.m;
    SJ_ASSERT_ERR(sj_solve_gauss_newton(s.F, s.d, s.m, &o, &r), SJ_EINVAL);
    sj_array_destroy(&wrong);
    sj_array_destroy(&other);
    sj_dist_destroy(&d0);
    sj_space_destroy(&s5);
    teardown(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gauss_newton),  cmocka_unit_test(test_lbfgs),
        cmocka_unit_test(test_regularised),   cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_bits),          cmocka_unit_test(test_bits_across_rank_counts),
        cmocka_unit_test(test_jacobian_move), cmocka_unit_test(test_lsqr_on_jacobian),
        cmocka_unit_test(test_bad_input),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "solve_nl");
}
