/*
 * Reductions: values against serial references, the determinism proof (the
 * same blocking gives the same bits with any layout, hence any number of
 * ranks), graph scalars (a CG without waits), and bad input.
 */
#include "sj_test.h"

#define NBIG 100003
#define NB16 16

/* 16 irregular block sizes summing to NBIG, from a fixed LCG. */
static void sizes16(int64_t sizes[NB16])
{
    uint64_t state = 88172645463325252ULL;
    double w[NB16], total = 0.0;
    for (int b = 0; b < NB16; b++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        w[b] = 0.2 + (double)(state >> 11) / 9007199254740992.0;
        total += w[b];
    }
    int64_t sum = 0;
    for (int b = 0; b < NB16; b++) {
        sizes[b] = (int64_t)(w[b] / total * NBIG);
        if (sizes[b] < 1)
            sizes[b] = 1;
        sum += sizes[b];
    }
    sizes[NB16 - 1] += NBIG - sum;
}

/* The documented combination order: partial[i] += partial[i + s], s = 1, 2, 4, ... */
static double tree(double *partial, int nb)
{
    for (int s = 1; s < nb; s *= 2)
        for (int i = 0; i + s < nb; i += 2 * s)
            partial[i] += partial[i + s];
    return partial[0];
}

/* Serial reference of one reduction in the documented order (block sums, then tree). */
static double serial(sj_reduce_op_t op, sj_space_t s, const double *x, const double *y)
{
    int nb = 0;
    int64_t n = 0;
    SJ_ASSERT_OK(sj_space_blocks(s, NULL, &nb));
    SJ_ASSERT_OK(sj_space_length(s, &n));
    if (op == SJ_REDUCE_MIN || op == SJ_REDUCE_MAX || op == SJ_REDUCE_NORMINF) {
        double r = op == SJ_REDUCE_NORMINF ? 0.0 : x[0];
        for (int64_t i = 0; i < n; i++) {
            double v = op == SJ_REDUCE_NORMINF ? fabs(x[i]) : x[i];
            if (isnan(v))
                return NAN;
            if ((op == SJ_REDUCE_MIN && v < r) || (op != SJ_REDUCE_MIN && v > r))
                r = v;
        }
        return r;
    }
    double *partial = calloc((size_t)nb, sizeof(double));
    double *bx = malloc((size_t)n * sizeof(double)), *by = malloc((size_t)n * sizeof(double));
    for (int b = 0; b < nb; b++) {
        int64_t ne = sj_t_extract(s, b, x, bx);
        if (y)
            sj_t_extract(s, b, y, by);
        for (int64_t e = 0; e < ne; e++) {
            double v = bx[e];
            partial[b] += op == SJ_REDUCE_DOT     ? v * by[e]
                          : op == SJ_REDUCE_NORM1 ? fabs(v)
                          : op == SJ_REDUCE_NORM2 ? v * v
                                                  : v;
        }
    }
    double r = tree(partial, nb);
    free(partial);
    free(bx);
    free(by);
    if (op == SJ_REDUCE_NORM2)
        r = sqrt(r);
    if (op == SJ_REDUCE_MEAN)
        r /= (double)n;
    return r;
}

/* Sum of |x*y| (or |x|): the scale for the tolerances of sums. */
static double magnitude(sj_reduce_op_t op, const double *x, const double *y, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        m += op == SJ_REDUCE_DOT     ? fabs(x[i] * y[i])
             : op == SJ_REDUCE_NORM2 ? x[i] * x[i]
                                     : fabs(x[i]);
    if (op == SJ_REDUCE_NORM2)
        m = sqrt(m);
    if (op == SJ_REDUCE_MEAN)
        m /= (double)n;
    return m;
}

static const sj_reduce_op_t all_ops[8] = {SJ_REDUCE_SUM,     SJ_REDUCE_MIN,   SJ_REDUCE_MAX,
                                          SJ_REDUCE_MEAN,    SJ_REDUCE_NORM1, SJ_REDUCE_NORM2,
                                          SJ_REDUCE_NORMINF, SJ_REDUCE_DOT};

static const char *op_name(sj_reduce_op_t op)
{
    static const char *names[] = {"?",     "sum",   "min",     "max", "mean",
                                  "norm1", "norm2", "norminf", "dot"};
    return op >= 1 && op <= 8 ? names[op] : "?";
}

/* All ranks hold the same bits (checked with MPI where it is allowed). */
static void assert_same_on_all_ranks(double v)
{
    if (!sj_mpi_thread_multiple())
        return;
    const int n = sj_nranks();
    double *all = malloc((size_t)n * sizeof(double));
    assert_int_equal(MPI_Allgather(&v, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, MPI_COMM_WORLD),
                     MPI_SUCCESS);
    for (int r = 0; r < n; r++)
        assert_memory_equal(&all[r], &v, sizeof v);
    free(all);
}

/* One reduction through sj_array_reduce(). */
static double reduce(sj_reduce_op_t op, sj_array_t x, sj_array_t y)
{
    double v = -12345.0;
    SJ_ASSERT_OK(sj_array_reduce(op, x, op == SJ_REDUCE_DOT ? y : NULL, &v));
    return v;
}

/* The convenience functions give the same bits as sj_array_reduce(). */
static void check_convenience(sj_array_t x, sj_array_t y)
{
    double v;
    SJ_ASSERT_OK(sj_array_sum(x, &v));
    assert_true(sj_t_bits(v) == sj_t_bits(reduce(SJ_REDUCE_SUM, x, y)));
    SJ_ASSERT_OK(sj_array_min(x, &v));
    assert_true(sj_t_bits(v) == sj_t_bits(reduce(SJ_REDUCE_MIN, x, y)));
    SJ_ASSERT_OK(sj_array_max(x, &v));
    assert_true(sj_t_bits(v) == sj_t_bits(reduce(SJ_REDUCE_MAX, x, y)));
    SJ_ASSERT_OK(sj_array_mean(x, &v));
    assert_true(sj_t_bits(v) == sj_t_bits(reduce(SJ_REDUCE_MEAN, x, y)));
    SJ_ASSERT_OK(sj_array_dot(x, y, &v));
    assert_true(sj_t_bits(v) == sj_t_bits(reduce(SJ_REDUCE_DOT, x, y)));
    SJ_ASSERT_OK(sj_array_norm(SJ_NORM_1, x, &v));
    assert_true(sj_t_bits(v) == sj_t_bits(reduce(SJ_REDUCE_NORM1, x, y)));
    SJ_ASSERT_OK(sj_array_norm(SJ_NORM_2, x, &v));
    assert_true(sj_t_bits(v) == sj_t_bits(reduce(SJ_REDUCE_NORM2, x, y)));
    SJ_ASSERT_OK(sj_array_norm(SJ_NORM_INF, x, &v));
    assert_true(sj_t_bits(v) == sj_t_bits(reduce(SJ_REDUCE_NORMINF, x, y)));
}

/* Every op against the serial reference: exact for min/max/norminf, else relative tol. */
static void check_values(sj_space_t s, sj_array_t x, sj_array_t y, const double *rx,
                         const double *ry, double tol)
{
    int64_t n = 0;
    SJ_ASSERT_OK(sj_space_length(s, &n));
    for (int k = 0; k < 8; k++) {
        sj_reduce_op_t op = all_ops[k];
        double got = reduce(op, x, y);
        double want = serial(op, s, rx, op == SJ_REDUCE_DOT ? ry : NULL);
        assert_same_on_all_ranks(got);
        if (op == SJ_REDUCE_MIN || op == SJ_REDUCE_MAX || op == SJ_REDUCE_NORMINF) {
            if (sj_t_bits(got) != sj_t_bits(want))
                print_error("%s: %.17g, expected %.17g\n", op_name(op), got, want);
            assert_true(sj_t_bits(got) == sj_t_bits(want));
        } else {
            double scale = magnitude(op, rx, ry, n);
            if (!(fabs(got - want) <= tol * scale))
                print_error("%s: %.17g, expected %.17g (scale %g)\n", op_name(op), got, want,
                            scale);
            assert_true(fabs(got - want) <= tol * scale);
        }
    }
    /* mean is sum / length */
    double sum = reduce(SJ_REDUCE_SUM, x, y), mean = reduce(SJ_REDUCE_MEAN, x, y);
    assert_true(sj_t_bits(mean) == sj_t_bits(sum / (double)n));
}

static void test_values(void **state)
{
    const int n = sj_nranks();
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        sj_space_t spaces[3] = {NULL, NULL, NULL};
        const int64_t sizes[5] = {100, 3, 250, 47, 600};
        int64_t d2[2] = {40, 31}, d3[3] = {9, 8, 7};
        int nb2[2] = {3, 4}, nb3[3] = {2, 3, 2};
        SJ_ASSERT_OK(sj_space_create_blocks(dt, 5, sizes, &spaces[0]));
        SJ_ASSERT_OK(sj_space_create(dt, 2, d2, nb2, &spaces[1]));
        SJ_ASSERT_OK(sj_space_create(dt, 3, d3, nb3, &spaces[2]));
        for (int w = 0; w < 3; w++) {
            sj_space_t s = spaces[w];
            int ndims = 0, nb[3] = {1, 1, 1};
            SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
            SJ_ASSERT_OK(sj_space_blocks(s, nb, NULL));
            sj_dist_t cyc = NULL;
            SJ_ASSERT_OK(sj_dist_create_cyclic(ndims, nb, n, 1, NULL, &cyc));
            double *rx = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
            double *ry = sj_t_ref(s, &(sj_t_gen_t){SJ_T_COSINE, 1.0, 0.0});
            for (int k = 0; k < 2; k++) {
                sj_dist_t d = k == 0 ? NULL : cyc;
                sj_array_t x = NULL, y = NULL;
                SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_SINE), &x));
                SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_COSINE), &y));
                /* float32 data accumulate in double: the double tolerance holds */
                check_values(s, x, y, rx, ry, 1e-12);
                check_convenience(x, y);
                SJ_ASSERT_OK(sj_array_destroy(&x));
                SJ_ASSERT_OK(sj_array_destroy(&y));
            }
            free(rx);
            free(ry);
            SJ_ASSERT_OK(sj_dist_destroy(&cyc));
            SJ_ASSERT_OK(sj_space_destroy(&spaces[w]));
        }
    }
}

/* Simple exact cases: ones, a ramp, negative values. */
static void test_exact_cases(void **state)
{
    const int64_t sizes[4] = {10, 20, 30, 40};
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 4, sizes, &s));
    sj_array_t o = NULL, r = NULL;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &o));
    SJ_ASSERT_OK(sj_t_make(s, NULL, (sj_t_gen_t){SJ_T_RAMP, -1.0, 0.0}, &r)); /* -(g+1) */
    double v;
    SJ_ASSERT_OK(sj_array_sum(o, &v));
    assert_true(v == 100.0);
    SJ_ASSERT_OK(sj_array_mean(o, &v));
    assert_true(v == 1.0);
    SJ_ASSERT_OK(sj_array_norm(SJ_NORM_2, o, &v));
    assert_true(v == 10.0);
    SJ_ASSERT_OK(sj_array_sum(r, &v));
    assert_true(v == -5050.0);
    SJ_ASSERT_OK(sj_array_min(r, &v));
    assert_true(v == -100.0);
    SJ_ASSERT_OK(sj_array_max(r, &v));
    assert_true(v == -1.0);
    SJ_ASSERT_OK(sj_array_norm(SJ_NORM_INF, r, &v));
    assert_true(v == 100.0);
    SJ_ASSERT_OK(sj_array_norm(SJ_NORM_1, r, &v));
    assert_true(v == 5050.0);
    SJ_ASSERT_OK(sj_array_dot(o, r, &v));
    assert_true(v == -5050.0);
    SJ_ASSERT_OK(sj_array_dot(r, r, &v));
    assert_true(v == 338350.0);
    SJ_ASSERT_OK(sj_array_destroy(&o));
    SJ_ASSERT_OK(sj_array_destroy(&r));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_nan(void **state)
{
    const int64_t sizes[3] = {50, 50, 50};
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 3, sizes, &s));
    double *buf = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
    buf[77] = NAN;
    sj_array_t x = NULL;
    SJ_ASSERT_OK(sj_array_distribute(s, NULL, 0, buf, &x));
    double v;
    SJ_ASSERT_OK(sj_array_min(x, &v));
    assert_true(isnan(v));
    SJ_ASSERT_OK(sj_array_max(x, &v));
    assert_true(isnan(v));
    SJ_ASSERT_OK(sj_array_sum(x, &v));
    assert_true(isnan(v));
    free(buf);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- determinism ------------------------------------------------------------- */

static void test_determinism(void **state)
{
    const int n = sj_nranks();
    int64_t sizes[NB16];
    sizes16(sizes);
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, NB16, sizes, &s));
    int nb[1] = {NB16};

    sj_dist_t layouts[5] = {NULL, NULL, NULL, NULL, NULL};
    const char *names[5] = {"default", "cyclic", "all on rank 0", "reversed procs",
                            "all on last rank"};
    SJ_ASSERT_OK(sj_dist_create_cyclic(1, nb, n, 1, NULL, &layouts[1]));
    int owners0[NB16], ownersl[NB16], *procs = malloc((size_t)n * sizeof(int));
    for (int b = 0; b < NB16; b++) {
        owners0[b] = 0;
        ownersl[b] = n - 1;
    }
    for (int r = 0; r < n; r++)
        procs[r] = n - 1 - r;
    SJ_ASSERT_OK(sj_dist_create_explicit(1, nb, owners0, &layouts[2]));
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, nb, n, procs, NULL, &layouts[3]));
    SJ_ASSERT_OK(sj_dist_create_explicit(1, nb, ownersl, &layouts[4]));
    free(procs);

    double results[5][8];
    for (int k = 0; k < 5; k++) {
        sj_array_t x = NULL, y = NULL;
        SJ_ASSERT_OK(sj_t_make(s, layouts[k], sj_t_gen(SJ_T_SINE), &x));
        SJ_ASSERT_OK(sj_t_make(s, layouts[k], sj_t_gen(SJ_T_COSINE), &y));
        for (int o = 0; o < 8; o++)
            results[k][o] = reduce(all_ops[o], x, y);
        SJ_ASSERT_OK(sj_array_destroy(&x));
        SJ_ASSERT_OK(sj_array_destroy(&y));
    }
    if (sj_rank() == 0)
        for (int o = 0; o < 8; o++)
            printf("reduce: %s of n %d in %d blocks: %a (bits %016llx)\n", op_name(all_ops[o]),
                   NBIG, NB16, results[0][o], (unsigned long long)sj_t_bits(results[0][o]));
    for (int k = 1; k < 5; k++)
        for (int o = 0; o < 8; o++) {
            if (sj_t_bits(results[k][o]) != sj_t_bits(results[0][o]))
                print_error("%s with layout '%s': %a, with the default layout: %a\n",
                            op_name(all_ops[o]), names[k], results[k][o], results[0][o]);
            assert_true(sj_t_bits(results[k][o]) == sj_t_bits(results[0][o]));
        }
    for (int o = 0; o < 8; o++)
        assert_same_on_all_ranks(results[0][o]);

    /* the documented order, computed here (per-block loops may differ: tolerance) */
    double *rx = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
    double *ry = sj_t_ref(s, &(sj_t_gen_t){SJ_T_COSINE, 1.0, 0.0});
    for (int o = 0; o < 8; o++) {
        sj_reduce_op_t op = all_ops[o];
        double want = serial(op, s, rx, ry);
        double scale = magnitude(op, rx, ry, NBIG);
        if (!(fabs(results[0][o] - want) <= 1e-13 * scale))
            print_error("%s: %.17g, serial tree order %.17g\n", op_name(op), results[0][o], want);
        assert_true(fabs(results[0][o] - want) <= 1e-13 * scale);
    }
    free(rx);
    free(ry);
    for (int k = 1; k < 5; k++)
        SJ_ASSERT_OK(sj_dist_destroy(&layouts[k]));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- the documented bits ---------------------------------------------------------- */

/*
 * docs/arrays.md, "How the result is computed", written from the text: the
 * term of element k of a block for a sum-like reduction.
 */
static double doc_term(sj_reduce_op_t op, const double *e, const double *f, int64_t k)
{
    switch (op) {
    case SJ_REDUCE_NORM1:
        return fabs(e[k]);
    case SJ_REDUCE_NORM2:
        return e[k] * e[k];
    case SJ_REDUCE_DOT:
        return e[k] * f[k];
    default:
        return e[k];
    }
}

/* combine for the sum-like reductions the recipe is checked on */
static double doc_combine(sj_reduce_op_t op, double a, double b)
{
    (void)op;
    return a + b;
}

/* Step 1: the block's terms dealt to lanes, then the pairwise tree over lanes. */
static double doc_block(sj_reduce_op_t op, const double *e, const double *f, int64_t m)
{
    int64_t L = 4;
    while (L < 16384 && 64 * L <= m)
        L *= 2;
    if (L > m)
        L = m;
    double *lane = malloc((size_t)L * sizeof *lane);
    for (int64_t i = 0; i < m; i++) {
        const double t = doc_term(op, e, f, i);
        lane[i % L] = i < L ? t : doc_combine(op, lane[i % L], t);
    }
    for (int64_t st = 1; st < L; st *= 2)
        for (int64_t i = 0; i + st < L; i += 2 * st)
            lane[i] = doc_combine(op, lane[i], lane[i + st]);
    const double r = lane[0];
    free(lane);
    return r;
}

/* Steps 2 and 3: the pairwise tree over block numbers, then sqrt or / length. */
static double doc_reduce(sj_reduce_op_t op, sj_space_t s, const double *x, const double *y)
{
    int nb = 0;
    int64_t n = 0;
    SJ_ASSERT_OK(sj_space_blocks(s, NULL, &nb));
    SJ_ASSERT_OK(sj_space_length(s, &n));
    double *p = malloc((size_t)nb * sizeof(double));
    double *e = malloc((size_t)n * sizeof(double)), *f = malloc((size_t)n * sizeof(double));
    for (int b = 0; b < nb; b++) {
        int64_t m = sj_t_extract(s, b, x, e);
        if (y)
            sj_t_extract(s, b, y, f);
        p[b] = doc_block(op, e, y ? f : e, m);
    }
    for (int st = 1; st < nb; st *= 2)
        for (int i = 0; i + st < nb; i += 2 * st)
            p[i] = p[i] + p[i + st];
    double r = p[0];
    free(p);
    free(e);
    free(f);
    if (op == SJ_REDUCE_NORM2)
        r = sqrt(r);
    if (op == SJ_REDUCE_MEAN)
        r = r / (double)n;
    return r;
}

/*
 * sj_array_sum, _mean, _dot and the 1- and 2-norms (blocking and graph
 * paths) have exactly the bits of the documented recipe, on every rank, for
 * float64 and float32, 1-D irregular blocks (with blocks of fewer than 4
 * elements, large ones on tasks, and one of over a million elements, which
 * has the most lanes), 2-D and 3-D blocks (whose own
 * column-major order is not the array's), default and cyclic layouts.
 */
static void test_documented_bits(void **state)
{
    const int n = sj_nranks();
    const sj_reduce_op_t ops[5] = {SJ_REDUCE_SUM, SJ_REDUCE_MEAN, SJ_REDUCE_NORM1, SJ_REDUCE_NORM2,
                                   SJ_REDUCE_DOT};
    int64_t big[NB16];
    sizes16(big);
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        sj_space_t spaces[4] = {NULL, NULL, NULL, NULL};
        SJ_ASSERT_OK(sj_space_create_blocks(dt, 8, (int64_t[]){100, 3, 250, 1, 47, 600, 6, 1100003},
                                            &spaces[0]));
        SJ_ASSERT_OK(sj_space_create_blocks(dt, NB16, big, &spaces[1]));
        SJ_ASSERT_OK(sj_space_create(dt, 2, (int64_t[]){41, 31}, (int[]){3, 4}, &spaces[2]));
        SJ_ASSERT_OK(sj_space_create(dt, 3, (int64_t[]){9, 8, 7}, (int[]){2, 3, 2}, &spaces[3]));
        for (int w = 0; w < 4; w++) {
            sj_space_t s = spaces[w];
            int ndims = 0, nb[3] = {1, 1, 1};
            SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
            SJ_ASSERT_OK(sj_space_blocks(s, nb, NULL));
            sj_dist_t cyc = NULL;
            SJ_ASSERT_OK(sj_dist_create_cyclic(ndims, nb, n, 1, NULL, &cyc));
            /* an offset makes the sums cancel: the order of additions shows in the bits */
            sj_t_gen_t gx = {SJ_T_SINE, 1000.0, 0.3}, gy = {SJ_T_COSINE, 1.0, 1e-3};
            double *rx = sj_t_ref(s, &gx), *ry = sj_t_ref(s, &gy);
            for (int k = 0; k < 2; k++) {
                sj_array_t x = NULL, y = NULL;
                SJ_ASSERT_OK(sj_t_make(s, k ? cyc : NULL, gx, &x));
                SJ_ASSERT_OK(sj_t_make(s, k ? cyc : NULL, gy, &y));
                for (int o = 0; o < 5; o++) {
                    const sj_reduce_op_t op = ops[o];
                    sj_array_t yy = op == SJ_REDUCE_DOT ? y : NULL;
                    double want = doc_reduce(op, s, rx, yy ? ry : NULL), got = 0, graph = 0;
                    if (op == SJ_REDUCE_SUM)
                        SJ_ASSERT_OK(sj_array_sum(x, &got));
                    else if (op == SJ_REDUCE_MEAN)
                        SJ_ASSERT_OK(sj_array_mean(x, &got));
                    else if (op == SJ_REDUCE_DOT)
                        SJ_ASSERT_OK(sj_array_dot(x, y, &got));
                    else
                        SJ_ASSERT_OK(sj_array_norm((sj_norm_type_t)op, x, &got));
                    sj_scalar_t sc = NULL;
                    SJ_ASSERT_OK(sj_array_reduce_scalar(op, x, yy, &sc));
                    SJ_ASSERT_OK(sj_scalar_value(sc, &graph));
                    SJ_ASSERT_OK(sj_scalar_destroy(&sc));
                    if (sj_t_bits(got) != sj_t_bits(want) || sj_t_bits(graph) != sj_t_bits(want))
                        print_error("%s, space %d, %s, %s layout: %a (graph %a), the documented "
                                    "recipe gives %a\n",
                                    op_name(op), w, t ? "float32" : "float64",
                                    k ? "cyclic" : "default", got, graph, want);
                    assert_true(sj_t_bits(got) == sj_t_bits(want));
                    assert_true(sj_t_bits(graph) == sj_t_bits(want));
                    assert_same_on_all_ranks(got);
                }
                SJ_ASSERT_OK(sj_array_destroy(&x));
                SJ_ASSERT_OK(sj_array_destroy(&y));
            }
            free(rx);
            free(ry);
            SJ_ASSERT_OK(sj_dist_destroy(&cyc));
            SJ_ASSERT_OK(sj_space_destroy(&spaces[w]));
        }
    }
}

/* ---- graph scalars -------------------------------------------------------------- */

static void test_reduce_scalar_bits(void **state)
{
    const int n = sj_nranks();
    int64_t sizes[NB16];
    sizes16(sizes);
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, NB16, sizes, &s));
    int nb[1] = {NB16};
    sj_dist_t cyc = NULL;
    SJ_ASSERT_OK(sj_dist_create_cyclic(1, nb, n, 1, NULL, &cyc));
    for (int k = 0; k < 2; k++) {
        sj_array_t x = NULL, y = NULL;
        SJ_ASSERT_OK(sj_t_make(s, k ? cyc : NULL, sj_t_gen(SJ_T_SINE), &x));
        SJ_ASSERT_OK(sj_t_make(s, k ? cyc : NULL, sj_t_gen(SJ_T_COSINE), &y));
        sj_scalar_t sc[8];
        /* submit all, then read all */
        for (int o = 0; o < 8; o++) {
            sc[o] = NULL;
            SJ_ASSERT_OK(sj_array_reduce_scalar(all_ops[o], x,
                                                all_ops[o] == SJ_REDUCE_DOT ? y : NULL, &sc[o]));
            assert_non_null(sc[o]);
        }
        for (int o = 0; o < 8; o++) {
            double v = -1.0;
            SJ_ASSERT_OK(sj_scalar_value(sc[o], &v));
            double want = reduce(all_ops[o], x, y);
            if (sj_t_bits(v) != sj_t_bits(want))
                print_error("%s: scalar %a, sj_array_reduce %a\n", op_name(all_ops[o]), v, want);
            assert_true(sj_t_bits(v) == sj_t_bits(want));
            assert_same_on_all_ranks(v);
            SJ_ASSERT_OK(sj_scalar_destroy(&sc[o]));
            assert_null(sc[o]);
        }
        SJ_ASSERT_OK(sj_array_destroy(&x));
        SJ_ASSERT_OK(sj_array_destroy(&y));
    }
    SJ_ASSERT_OK(sj_dist_destroy(&cyc));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static double value_of(sj_scalar_t s)
{
    double v = NAN;
    SJ_ASSERT_OK(sj_scalar_value(s, &v));
    return v;
}

static void test_scalars(void **state)
{
    sj_scalar_t a = NULL, b = NULL, c = NULL;
    SJ_ASSERT_OK(sj_scalar_create(3.5, &a));
    SJ_ASSERT_OK(sj_scalar_create(-1.25, &b));
    assert_true(value_of(a) == 3.5);
    assert_true(value_of(b) == -1.25);
    const sj_scalar_op_t ops[4] = {SJ_SCALAR_ADD, SJ_SCALAR_SUB, SJ_SCALAR_MUL, SJ_SCALAR_DIV};
    const double want[4] = {2.25, 4.75, -4.375, -2.8};
    for (int k = 0; k < 4; k++) {
        SJ_ASSERT_OK(sj_scalar_binary(ops[k], a, b, &c));
        double v = value_of(c);
        assert_true(v == (k == 3 ? 3.5 / -1.25 : want[k]));
        assert_same_on_all_ranks(v);
        SJ_ASSERT_OK(sj_scalar_destroy(&c));
    }
    /* a chain, read once at the end: ((a + b) * a) / b */
    sj_scalar_t t1 = NULL, t2 = NULL, t3 = NULL;
    SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_ADD, a, b, &t1));
    SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_MUL, t1, a, &t2));
    SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_DIV, t2, b, &t3));
    SJ_ASSERT_OK(sj_scalar_destroy(&t1)); /* destroyed before its users ran: fine */
    SJ_ASSERT_OK(sj_scalar_destroy(&t2));
    assert_true(value_of(t3) == (2.25 * 3.5) / -1.25);
    SJ_ASSERT_OK(sj_scalar_destroy(&t3));
    SJ_ASSERT_OK(sj_scalar_destroy(&a));
    SJ_ASSERT_OK(sj_scalar_destroy(&b));
    assert_null(a);
    assert_int_equal(sj_scalar_destroy(NULL), 0);
    assert_int_equal(sj_scalar_destroy(&a), 0);
}

/* axpy_scalar / scale_scalar against plain arithmetic. */
static void test_scalar_algebra(void **state)
{
    const int64_t sizes[3] = {30, 41, 29};
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 3, sizes, &s));
    double *x = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SMALL, 1.0, 0.0});
    double *y = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
    sj_array_t xa = NULL, ya = NULL;
    SJ_ASSERT_OK(sj_t_make(s, NULL, sj_t_gen(SJ_T_SMALL), &xa));
    SJ_ASSERT_OK(sj_t_make(s, NULL, sj_t_gen(SJ_T_EXACT), &ya));
    sj_scalar_t a = NULL;
    SJ_ASSERT_OK(sj_scalar_create(0.5, &a));
    SJ_ASSERT_OK(sj_array_axpy_scalar(-2.0, a, xa, ya)); /* y = -1 * x + y: exact */
    SJ_ASSERT_OK(sj_array_scale_scalar(4.0, a, xa));     /* x = 2 x */
    for (int i = 0; i < 100; i++) {
        y[i] = y[i] - x[i];
        x[i] = 2.0 * x[i];
    }
    SJ_ASSERT_ARRAY(ya, y);
    SJ_ASSERT_ARRAY(xa, x);
    SJ_ASSERT_OK(sj_scalar_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&xa));
    SJ_ASSERT_OK(sj_array_destroy(&ya));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    free(x);
    free(y);
}

/* CG on A = diag(1..n), b = ones, 30 iterations chained through graph scalars. */
static void test_cg_without_waits(void **state)
{
    enum { N = 100, ITERS = 30 };
    const int64_t sizes[5] = {17, 23, 20, 31, 9};
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 5, sizes, &s));
    sj_array_t d = NULL, x = NULL, r = NULL, p = NULL, ap = NULL;
    SJ_ASSERT_OK(sj_t_make(s, NULL, sj_t_gen(SJ_T_RAMP), &d)); /* 1 .. n */
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &x));
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &r));
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &p));
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &ap));
    sj_scalar_t rr = NULL;
    SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, r, r, &rr));
    for (int it = 0; it < ITERS; it++) {
        sj_scalar_t pap = NULL, alpha = NULL, rrn = NULL, beta = NULL;
        SJ_ASSERT_OK(sj_array_mul(d, p, ap));
        SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, p, ap, &pap));
        SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_DIV, rr, pap, &alpha));
        SJ_ASSERT_OK(sj_array_axpy_scalar(1.0, alpha, p, x));
        SJ_ASSERT_OK(sj_array_axpy_scalar(-1.0, alpha, ap, r));
        SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, r, r, &rrn));
        SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_DIV, rrn, rr, &beta));
        SJ_ASSERT_OK(sj_array_scale_scalar(1.0, beta, p));
        SJ_ASSERT_OK(sj_array_axpy(1.0, r, p));
        SJ_ASSERT_OK(sj_scalar_destroy(&pap));
        SJ_ASSERT_OK(sj_scalar_destroy(&alpha));
        SJ_ASSERT_OK(sj_scalar_destroy(&beta));
        SJ_ASSERT_OK(sj_scalar_destroy(&rr));
        rr = rrn;
    }
    double rr_lib = value_of(rr);
    SJ_ASSERT_OK(sj_scalar_destroy(&rr));

    /* the same CG, serially */
    double xs[N], rs[N], ps[N], aps[N], rrs = 0.0;
    for (int i = 0; i < N; i++) {
        xs[i] = 0.0;
        rs[i] = ps[i] = 1.0;
        rrs += rs[i] * rs[i];
    }
    for (int it = 0; it < ITERS; it++) {
        double pap = 0.0, rrn = 0.0;
        for (int i = 0; i < N; i++) {
            aps[i] = (double)(i + 1) * ps[i];
            pap += ps[i] * aps[i];
        }
        double alpha = rrs / pap;
        for (int i = 0; i < N; i++) {
            xs[i] += alpha * ps[i];
            rs[i] -= alpha * aps[i];
            rrn += rs[i] * rs[i];
        }
        double beta = rrn / rrs;
        for (int i = 0; i < N; i++)
            ps[i] = rs[i] + beta * ps[i];
        rrs = rrn;
    }
    if (sj_rank() == 0)
        printf("reduce: CG residual after %d iterations: %.6e (serial %.6e)\n", ITERS, sqrt(rr_lib),
               sqrt(rrs));
    assert_true(sqrt(rrs) < 0.1 * sqrt((double)N)); /* it did converge somewhat */
    assert_true(fabs(sqrt(rr_lib) - sqrt(rrs)) <= 1e-10 * sqrt((double)N));
    double *xl = sj_t_gather(x, 0);
    assert_non_null(xl);
    if (sj_rank() == 0) {
        double xmax = 0.0, err = 0.0;
        for (int i = 0; i < N; i++) {
            xmax = fmax(xmax, fabs(xs[i]));
            err = fmax(err, fabs(xl[i] - xs[i]));
        }
        if (!(err <= 1e-10 * xmax))
            print_error("CG iterate differs from the serial one by %g (max |x| %g)\n", err, xmax);
        assert_true(err <= 1e-10 * xmax);
    }
    free(xl);
    sj_array_t *all[5] = {&d, &x, &r, &p, &ap};
    for (int k = 0; k < 5; k++)
        SJ_ASSERT_OK(sj_array_destroy(all[k]));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- bad input ------------------------------------------------------------------- */

typedef struct fixture {
    sj_space_t s;
    sj_array_t x, y;
    double sum, dot;
} fixture_t;

static fixture_t make_fixture(void)
{
    fixture_t f = {NULL, NULL, NULL, 0.0, 0.0};
    const int64_t sizes[4] = {25, 25, 30, 20};
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 4, sizes, &f.s));
    SJ_ASSERT_OK(sj_t_make(f.s, NULL, sj_t_gen(SJ_T_SINE), &f.x));
    SJ_ASSERT_OK(sj_t_make(f.s, NULL, sj_t_gen(SJ_T_COSINE), &f.y));
    SJ_ASSERT_OK(sj_array_sum(f.x, &f.sum));
    SJ_ASSERT_OK(sj_array_dot(f.x, f.y, &f.dot));
    return f;
}

/* The arrays still give the same results after the rejected calls. */
static void check_and_free_fixture(fixture_t *f)
{
    double sum = 0.0, dot = 0.0;
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_array_sum(f->x, &sum));
    SJ_ASSERT_OK(sj_array_dot(f->x, f->y, &dot));
    assert_true(sj_t_bits(sum) == sj_t_bits(f->sum));
    assert_true(sj_t_bits(dot) == sj_t_bits(f->dot));
    SJ_ASSERT_OK(sj_array_destroy(&f->x));
    SJ_ASSERT_OK(sj_array_destroy(&f->y));
    SJ_ASSERT_OK(sj_space_destroy(&f->s));
}

static void test_bad_mismatch(void **state)
{
    const int n = sj_nranks();
    fixture_t f = make_fixture();
    double v;
    sj_scalar_t sc = NULL;
    /* other cuts of the same length, other type, other layout */
    const int64_t other[4] = {25, 26, 29, 20};
    sj_space_t s2 = NULL, s32 = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 4, other, &s2));
    const int64_t same[4] = {25, 25, 30, 20};
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT32, 4, same, &s32));
    sj_array_t z2 = NULL, z32 = NULL;
    SJ_ASSERT_OK(sj_array_ones(s2, NULL, &z2));
    SJ_ASSERT_OK(sj_array_ones(s32, NULL, &z32));
    sj_array_t others[2] = {z2, z32};
    for (int k = 0; k < 2; k++) {
        SJ_ASSERT_ERR(sj_array_dot(f.x, others[k], &v), SJ_EMISMATCH);
        SJ_ASSERT_ERR(sj_array_reduce(SJ_REDUCE_DOT, others[k], f.y, &v), SJ_EMISMATCH);
        SJ_ASSERT_ERR(sj_array_reduce_scalar(SJ_REDUCE_DOT, f.x, others[k], &sc), SJ_EMISMATCH);
    }
    if (n >= 2) {
        int nb[1] = {4};
        sj_dist_t cyc = NULL;
        SJ_ASSERT_OK(sj_dist_create_cyclic(1, nb, n, 1, NULL, &cyc));
        sj_array_t zc = NULL;
        SJ_ASSERT_OK(sj_array_ones(f.s, cyc, &zc));
        int eq = -1;
        sj_dist_t xd = NULL;
        SJ_ASSERT_OK(sj_array_dist(f.x, &xd));
        SJ_ASSERT_OK(sj_dist_equal(xd, cyc, &eq));
        if (!eq) { /* 4 ranks: contiguous and cyclic are the same for 4 blocks */
            SJ_ASSERT_ERR(sj_array_dot(f.x, zc, &v), SJ_EMISMATCH);
            SJ_ASSERT_ERR(sj_array_reduce_scalar(SJ_REDUCE_DOT, zc, f.y, &sc), SJ_EMISMATCH);
        }
        SJ_ASSERT_OK(sj_array_destroy(&zc));
        SJ_ASSERT_OK(sj_dist_destroy(&cyc));
    }
    sj_scalar_t a = NULL;
    SJ_ASSERT_OK(sj_scalar_create(2.0, &a));
    SJ_ASSERT_ERR(sj_array_axpy_scalar(1.0, a, f.x, z2), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_axpy_scalar(1.0, a, z32, f.y), SJ_EMISMATCH);
    SJ_ASSERT_OK(sj_scalar_destroy(&a));
    assert_null(sc);
    SJ_ASSERT_OK(sj_array_destroy(&z2));
    SJ_ASSERT_OK(sj_array_destroy(&z32));
    SJ_ASSERT_OK(sj_space_destroy(&s2));
    SJ_ASSERT_OK(sj_space_destroy(&s32));
    check_and_free_fixture(&f);
}

static void test_bad_y_argument(void **state)
{
    fixture_t f = make_fixture();
    double v;
    sj_scalar_t sc = NULL;
    SJ_ASSERT_ERR(sj_array_reduce(SJ_REDUCE_DOT, f.x, NULL, &v), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_reduce_scalar(SJ_REDUCE_DOT, f.x, NULL, &sc), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_dot(f.x, NULL, &v), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_dot(NULL, f.y, &v), SJ_ENULL);
    for (int k = 0; k < 7; k++) {
        SJ_ASSERT_ERR(sj_array_reduce(all_ops[k], f.x, f.y, &v), SJ_EINVAL);
        SJ_ASSERT_ERR(sj_array_reduce_scalar(all_ops[k], f.x, f.y, &sc), SJ_EINVAL);
    }
    assert_null(sc);
    check_and_free_fixture(&f);
}

static void test_bad_op(void **state)
{
    fixture_t f = make_fixture();
    double v;
    sj_scalar_t sc = NULL;
    const int bad[4] = {0, 9, -1, 100};
    for (int k = 0; k < 4; k++) {
        SJ_ASSERT_ERR(sj_array_reduce((sj_reduce_op_t)bad[k], f.x, NULL, &v), SJ_EINVAL);
        SJ_ASSERT_ERR(sj_array_reduce_scalar((sj_reduce_op_t)bad[k], f.x, NULL, &sc), SJ_EINVAL);
    }
    /* norms accept only the three norm types */
    SJ_ASSERT_ERR(sj_array_norm((sj_norm_type_t)SJ_REDUCE_SUM, f.x, &v), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_norm((sj_norm_type_t)SJ_REDUCE_DOT, f.x, &v), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_norm((sj_norm_type_t)0, f.x, &v), SJ_EINVAL);
    assert_null(sc);
    check_and_free_fixture(&f);
}

static void test_bad_null_value(void **state)
{
    fixture_t f = make_fixture();
    double v;
    SJ_ASSERT_ERR(sj_array_reduce(SJ_REDUCE_SUM, f.x, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_reduce(SJ_REDUCE_DOT, f.x, f.y, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_reduce_scalar(SJ_REDUCE_SUM, f.x, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_reduce(SJ_REDUCE_SUM, NULL, NULL, &v), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_sum(f.x, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_sum(NULL, &v), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_min(f.x, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_max(f.x, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_mean(f.x, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_dot(f.x, f.y, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_norm(SJ_NORM_2, f.x, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_norm(SJ_NORM_2, NULL, &v), SJ_ENULL);
    SJ_ASSERT_ERR(sj_scalar_create(1.0, NULL), SJ_ENULL);
    sj_scalar_t a = NULL;
    SJ_ASSERT_OK(sj_scalar_create(1.0, &a));
    SJ_ASSERT_ERR(sj_scalar_value(a, NULL), SJ_ENULL);
    SJ_ASSERT_OK(sj_scalar_destroy(&a));
    check_and_free_fixture(&f);
}

static void test_bad_scalars(void **state)
{
    fixture_t f = make_fixture();
    sj_scalar_t a = NULL, b = NULL, c = NULL;
    double v;
    SJ_ASSERT_OK(sj_scalar_create(1.5, &a));
    SJ_ASSERT_OK(sj_scalar_create(2.5, &b));
    SJ_ASSERT_ERR(sj_scalar_binary((sj_scalar_op_t)0, a, b, &c), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_scalar_binary((sj_scalar_op_t)5, a, b, &c), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_scalar_binary((sj_scalar_op_t)-1, a, b, &c), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_scalar_binary(SJ_SCALAR_ADD, NULL, b, &c), SJ_ENULL);
    SJ_ASSERT_ERR(sj_scalar_binary(SJ_SCALAR_ADD, a, NULL, &c), SJ_ENULL);
    SJ_ASSERT_ERR(sj_scalar_binary(SJ_SCALAR_ADD, a, b, NULL), SJ_ENULL);
    assert_null(c);
    SJ_ASSERT_ERR(sj_scalar_value(NULL, &v), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_axpy_scalar(1.0, NULL, f.x, f.y), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_axpy_scalar(1.0, a, NULL, f.y), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_axpy_scalar(1.0, a, f.x, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_scale_scalar(1.0, NULL, f.x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_scale_scalar(1.0, a, NULL), SJ_ENULL);
    /* the scalars are intact */
    assert_true(value_of(a) == 1.5);
    assert_true(value_of(b) == 2.5);
    SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_MUL, a, b, &c));
    assert_true(value_of(c) == 3.75);
    SJ_ASSERT_OK(sj_scalar_destroy(&a));
    SJ_ASSERT_OK(sj_scalar_destroy(&b));
    SJ_ASSERT_OK(sj_scalar_destroy(&c));
    check_and_free_fixture(&f);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_exact_cases),
        cmocka_unit_test(test_nan),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_documented_bits),
        cmocka_unit_test(test_reduce_scalar_bits),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_scalar_algebra),
        cmocka_unit_test(test_cg_without_waits),
        cmocka_unit_test(test_bad_mismatch),
        cmocka_unit_test(test_bad_y_argument),
        cmocka_unit_test(test_bad_op),
        cmocka_unit_test(test_bad_null_value),
        cmocka_unit_test(test_bad_scalars),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "reduce");
}
