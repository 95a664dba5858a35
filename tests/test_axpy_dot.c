// sj-test: nprocs=1,2,3,4
/*
 * sj_array_axpy_dot_scalar: w = c (a / b) x + y and w . w in one task per
 * block, against the calls it replaces (sj_scalar_binary, sj_array_copyto,
 * sj_array_axpy_scalar, sj_array_reduce_scalar), bit for bit: float and
 * double, blocks of a few elements to a million (every lane count), layouts,
 * in place and apart, with and without the divisor and the reduction,
 * strided views of the host's memory; bad input.
 */
#include "sj_test.h"

static const double C = -1.25, A = 0.37117, B = 1.7003;

/* Owners of the blocks: 0 the default layout, 1 all on rank 0, 2 reversed round robin. */
static sj_dist_t layout(sj_space_t s, int mode)
{
    if (mode == 0)
        return NULL;
    int grid[SJ_MAX_DIMS], total = 0;
    SJ_ASSERT_OK(sj_space_blocks(s, grid, &total));
    int *owners = calloc((size_t)total, sizeof *owners);
    for (int k = 0; k < total; k++)
        owners[k] = mode == 1 ? 0 : (total - 1 - k) % sj_nranks();
    int nd = 0;
    int64_t dims[SJ_MAX_DIMS];
    sj_dtype_t t;
    SJ_ASSERT_OK(sj_space_shape(s, &t, &nd, dims));
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_explicit(nd, grid, owners, &d));
    free(owners);
    return d;
}

static uint64_t scalar_bits(sj_scalar_t s)
{
    double v = NAN;
    SJ_ASSERT_OK(sj_scalar_value(s, &v));
    return sj_t_bits(v);
}

/*
 * One case: the fused call on (x, y1, w1) against the unfused calls on
 * (x, y2, w2); w is y when @p inplace, and y is x when @p y_is_x.
 */
static void one_case(sj_space_t s, sj_dist_t d, int with_b, int inplace, int y_is_x, int reduce)
{
    sj_array_t x, y1, y2, w1, w2;
    SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_SINE), &x));
    SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_COSINE), &y1));
    SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_COSINE), &y2));
    if (inplace) {
        w1 = y1;
        w2 = y2;
    } else {
        SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_RAMP), &w1)); /* overwritten */
        SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_RAMP), &w2));
    }
    sj_array_t ya = y_is_x && !inplace ? x : y1, yb = y_is_x && !inplace ? x : y2;
    sj_scalar_t a, b, q, ww1 = NULL, ww2 = NULL;
    SJ_ASSERT_OK(sj_scalar_create(A, &a));
    SJ_ASSERT_OK(sj_scalar_create(B, &b));
    SJ_ASSERT_OK(
        sj_array_axpy_dot_scalar(C, a, with_b ? b : NULL, x, ya, w1, reduce ? &ww1 : NULL));
    if (with_b)
        SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_DIV, a, b, &q));
    else
        q = a;
    if (!inplace)
        SJ_ASSERT_OK(sj_array_copyto(yb, w2));
    SJ_ASSERT_OK(sj_array_axpy_scalar(C, q, x, w2));
    if (reduce) {
        SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, w2, w2, &ww2));
        assert_non_null(ww1);
        assert_true(scalar_bits(ww1) == scalar_bits(ww2));
    }
    const int64_t n = sj_t_length(w1, NULL);
    double *g1 = sj_t_gather(w1, 0), *g2 = sj_t_gather(w2, 0);
    if (sj_rank() == 0) {
        assert_int_equal(sj_t_diff(g1, g2, n, "fused against unfused"), 0);
        if (reduce) { /* and the dot is the dot */
            double v = 0.0, ref = 0.0;
            SJ_ASSERT_OK(sj_scalar_value(ww1, &v));
            for (int64_t i = 0; i < n; i++)
                ref += g1[i] * g1[i];
            assert_true(fabs(v - ref) <= 1e-12 * ref);
        }
    } else if (reduce) {
        double v;
        SJ_ASSERT_OK(sj_scalar_value(ww1, &v)); /* the same collective calls */
    }
    free(g1);
    free(g2);
    if (with_b)
        sj_scalar_destroy(&q);
    sj_scalar_destroy(&a);
    sj_scalar_destroy(&b);
    sj_scalar_destroy(&ww1);
    sj_scalar_destroy(&ww2);
    sj_array_destroy(&x);
    sj_array_destroy(&y1);
    sj_array_destroy(&y2);
    if (!inplace) {
        sj_array_destroy(&w1);
        sj_array_destroy(&w2);
    }
}

static void test_bits(void **state)
{
    (void)state;
    sj_space_t sp[4];
    /* 3 blocks of about 23 000 (512 lanes, the four-round loop), a 2-D float
       grid, blocks of one element, one block of 1.1 million (16384 lanes:
       a piece of the update is a part of a round) */
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){70001}, (int[]){3}, &sp[0]));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 2, (int64_t[]){300, 250}, (int[]){2, 3}, &sp[1]));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){5}, (int[]){5}, &sp[2]));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){1100000}, (int[]){1}, &sp[3]));
    for (int k = 0; k < 4; k++)
        for (int mode = 0; mode < 3; mode++) {
            sj_dist_t d = layout(sp[k], mode);
            for (int v = 0; v < (k == 3 ? 2 : 8); v++) /* with b, in place, y is x */
                one_case(sp[k], d, v & 1, (v >> 1) & 1, (v >> 2) & 1, 1);
            one_case(sp[k], d, 1, 0, 0, 0); /* no reduction */
            sj_dist_destroy(&d);
        }
    for (int k = 0; k < 4; k++)
        sj_space_destroy(&sp[k]);
}

/* Blocks that are strided views of the host's memory (staged around the task). */
static void test_strided(void **state)
{
    (void)state;
    const int64_t nx = 40, ny = 30, ld = 43;
    sj_space_t s;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){nx, ny}, (int[]){2, 2}, &s));
    sj_dist_t d = NULL; /* every block on rank 0, one box */
    SJ_ASSERT_OK(sj_dist_create_contiguous(2, (int[]){2, 2}, 1, (int[]){0}, (int[]){1, 1}, &d));
    const int me0 = sj_rank() == 0;
    double *m[3];
    sj_array_t a[3]; /* x, y (fused), y (unfused) */
    for (int k = 0; k < 3; k++) {
        m[k] = calloc((size_t)(ld * ny), sizeof(double));
        for (int64_t j = 0; j < ny; j++)
            for (int64_t i = 0; i < ld; i++)
                m[k][i + ld * j] = i < nx ? sin(0.1 * (double)(i + nx * j) + (k > 0)) : -7.0;
        SJ_ASSERT_OK(sj_array_wrap_local(s, d, me0 ? m[k] : NULL, (int64_t[]){ld, ny}, &a[k]));
    }
    sj_scalar_t sa, sb, q, w1, w2;
    SJ_ASSERT_OK(sj_scalar_create(A, &sa));
    SJ_ASSERT_OK(sj_scalar_create(B, &sb));
    SJ_ASSERT_OK(sj_array_axpy_dot_scalar(C, sa, sb, a[0], a[1], a[1], &w1));
    SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_DIV, sa, sb, &q));
    SJ_ASSERT_OK(sj_array_axpy_scalar(C, q, a[0], a[2]));
    SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, a[2], a[2], &w2));
    assert_true(scalar_bits(w1) == scalar_bits(w2));
    SJ_ASSERT_OK(sj_wait());
    if (me0)
        for (int64_t j = 0; j < ny; j++)
            for (int64_t i = 0; i < ld; i++) {
                assert_memory_equal(&m[1][i + ld * j], &m[2][i + ld * j], sizeof(double));
                if (i >= nx) /* the ghosts are not touched */
                    assert_true(m[1][i + ld * j] == -7.0);
            }
    sj_scalar_destroy(&sa);
    sj_scalar_destroy(&sb);
    sj_scalar_destroy(&q);
    sj_scalar_destroy(&w1);
    sj_scalar_destroy(&w2);
    for (int k = 0; k < 3; k++)
        sj_array_destroy(&a[k]);
    SJ_ASSERT_OK(sj_wait());
    for (int k = 0; k < 3; k++)
        free(m[k]);
    sj_dist_destroy(&d);
    sj_space_destroy(&s);
}

/* Every refused call names the function and leaves nothing behind. */
static void test_bad_input(void **state)
{
    (void)state;
    sj_space_t s, s2;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){100}, (int[]){4}, &s));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){100}, (int[]){5}, &s2));
    sj_dist_t d1 = layout(s, 1);
    sj_array_t x, y, w, other, elsewhere, dead;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &x));
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &y));
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &w));
    SJ_ASSERT_OK(sj_array_ones(s2, NULL, &other));
    SJ_ASSERT_OK(sj_array_ones(s, d1, &elsewhere));
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &dead));
    sj_array_t dead_copy = dead;
    SJ_ASSERT_OK(sj_array_destroy(&dead));
    sj_scalar_t a, b, dead_s, ww = (sj_scalar_t)(uintptr_t)1;
    SJ_ASSERT_OK(sj_scalar_create(2.0, &a));
    SJ_ASSERT_OK(sj_scalar_create(4.0, &b));
    SJ_ASSERT_OK(sj_scalar_create(4.0, &dead_s));
    sj_scalar_t dead_s_copy = dead_s;
    SJ_ASSERT_OK(sj_scalar_destroy(&dead_s));
    sj_stats_t before, after;
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_stats_get(&before));

    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, NULL, b, x, y, w, &ww), SJ_ENULL);
    assert_null(ww); /* cleared on entry */
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, NULL, y, w, &ww), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, x, NULL, w, &ww), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, x, y, NULL, &ww), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, dead_s_copy, b, x, y, w, &ww), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, dead_s_copy, x, y, w, NULL), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, (sj_scalar_t)x, x, y, w, &ww), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, dead_copy, y, w, &ww), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, x, (sj_array_t)a, w, &ww), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, x, y, x, &ww), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, NULL, x, x, x, NULL), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, other, y, w, &ww), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, x, other, w, &ww), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, x, y, other, &ww), SJ_EMISMATCH);
    if (sj_nranks() > 1) { /* same space, other layout */
        SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, x, elsewhere, w, &ww), SJ_EMISMATCH);
        SJ_ASSERT_ERR(sj_array_axpy_dot_scalar(1.0, a, b, x, y, elsewhere, NULL), SJ_EMISMATCH);
    }
    assert_null(ww);
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_stats_get(&after));
    assert_int_equal(after.objects, before.objects);
    assert_int_equal(after.handles, before.handles);

    /* the values: w = 1 * (2 / 4) * 1 + 1 = 1.5 and w . w = 100 * 2.25 */
    SJ_ASSERT_OK(sj_array_axpy_dot_scalar(1.0, a, b, x, y, w, &ww));
    double v = 0.0;
    SJ_ASSERT_OK(sj_scalar_value(ww, &v));
    assert_true(v == 225.0);
    sj_scalar_destroy(&ww);
    sj_scalar_destroy(&a);
    sj_scalar_destroy(&b);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&w);
    sj_array_destroy(&other);
    sj_array_destroy(&elsewhere);
    sj_dist_destroy(&d1);
    sj_space_destroy(&s);
    sj_space_destroy(&s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bits),
        cmocka_unit_test(test_strided),
        cmocka_unit_test(test_bad_input),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "axpy_dot");
}
