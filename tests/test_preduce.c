/*
 * Distributed loops with a reducer: sj_preduce and sj_preduce_double against
 * a serial reference that cuts the range into the same parts and combines
 * them along the same tree (so sums match bit for bit), the same bits on
 * every rank, user reducers (minimum with its index, an order-sensitive
 * one), the seed examples (counting heads, darts for pi), failures inside
 * the loop, and bad input.
 */
#include "sj_test.h"

/* ---- the documented split and tree, written out again -------------------- */

static int64_t part_lo(int64_t p, int64_t len, int64_t k)
{
    return p * (len / k) + (p < len % k ? p : len % k);
}

static double serial_sum(int64_t lo, int64_t hi, double (*term)(int64_t, void *), void *ctx)
{
    const int64_t len = hi - lo, k = len < SJ_PREDUCE_PARTS ? len : SJ_PREDUCE_PARTS;
    if (len == 0)
        return 0.0;
    double *part = calloc((size_t)k, sizeof *part);
    for (int64_t p = 0; p < k; p++) {
        double acc = 0.0;
        for (int64_t i = lo + part_lo(p, len, k); i < lo + part_lo(p + 1, len, k); i++)
            acc = acc + term(i, ctx);
        part[p] = acc;
    }
    for (int64_t s = 1; s < k; s *= 2)
        for (int64_t p = 0; p + s < k; p += 2 * s)
            part[p] = part[p] + part[p + s];
    double r = part[0];
    free(part);
    return r;
}

/* All ranks hold the same bytes (checked with MPI where it is allowed). */
static void assert_same_everywhere(const void *v, size_t size)
{
    if (!sj_mpi_thread_multiple())
        return;
    const int n = sj_nranks();
    unsigned char *all = malloc((size_t)n * size);
    assert_int_equal(
        MPI_Allgather(v, (int)size, MPI_BYTE, all, (int)size, MPI_BYTE, MPI_COMM_WORLD),
        MPI_SUCCESS);
    for (int r = 0; r < n; r++)
        assert_memory_equal(all + (size_t)r * size, v, size);
    free(all);
}

/* ---- terms ------------------------------------------------------------------ */

static double sine_term(int64_t i, void *ctx)
{
    const double *scale = ctx;
    int64_t m = ((i % 7) + 7) % 7;
    return *scale * sin(0.37 * (double)i + 0.1) * (double)(1 + m);
}

/* A counter-based generator: the same numbers whatever runs index i. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double uniform(uint64_t seed, uint64_t k)
{
    return (double)(mix64(seed ^ mix64(k)) >> 11) / 9007199254740992.0;
}

static void test_sum_bits(void **state)
{
    (void)state;
    double scale = 1.5;
    const int64_t ranges[][2] = {{-1234, 98765}, {0, 100}, {5, 5 + 257}, {7, 8}, {3, 3}};
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (int r = 0; r < 5; r++) {
        const int64_t lo = ranges[r][0], hi = ranges[r][1];
        double got = -1.0;
        SJ_ASSERT_OK(
            sj_preduce_double(lo, hi, SJ_REDUCE_SUM, sine_term, &scale, sizeof scale, &got));
        const double ref = serial_sum(lo, hi, sine_term, &scale);
        if (sj_t_bits(got) != sj_t_bits(ref))
            fail_msg("[%lld, %lld): %.17g (%016llx), serial %.17g (%016llx)", (long long)lo,
                     (long long)hi, got, (unsigned long long)sj_t_bits(got), ref,
                     (unsigned long long)sj_t_bits(ref));
        assert_same_everywhere(&got, sizeof got);
        uint64_t b = sj_t_bits(got);
        hash = (hash ^ sj_t_fnv1a(&b, sizeof b)) * 0x100000001b3ULL;
    }
    if (sj_rank() == 0)
        printf("preduce: sum bits hash %016llx on %d rank(s)\n", (unsigned long long)hash,
               sj_nranks());
}

static double nan_at_77(int64_t i, void *ctx)
{
    (void)ctx;
    return i == 77 ? NAN : (double)((i * 31) % 101) - 50.0;
}

static void test_min_max(void **state)
{
    (void)state;
    double mn, mx, scale = 2.0;
    SJ_ASSERT_OK(
        sj_preduce_double(-500, 20000, SJ_REDUCE_MIN, sine_term, &scale, sizeof scale, &mn));
    SJ_ASSERT_OK(
        sj_preduce_double(-500, 20000, SJ_REDUCE_MAX, sine_term, &scale, sizeof scale, &mx));
    double rmn = INFINITY, rmx = -INFINITY;
    for (int64_t i = -500; i < 20000; i++) {
        double v = sine_term(i, &scale);
        rmn = v < rmn ? v : rmn;
        rmx = v > rmx ? v : rmx;
    }
    assert_true(sj_t_bits(mn) == sj_t_bits(rmn));
    assert_true(sj_t_bits(mx) == sj_t_bits(rmx));
    assert_same_everywhere(&mn, sizeof mn);

    SJ_ASSERT_OK(sj_preduce_double(0, 1000, SJ_REDUCE_MIN, nan_at_77, NULL, 0, &mn));
    SJ_ASSERT_OK(sj_preduce_double(0, 1000, SJ_REDUCE_MAX, nan_at_77, NULL, 0, &mx));
    assert_true(isnan(mn) && isnan(mx));
    SJ_ASSERT_OK(sj_preduce_double(0, 76, SJ_REDUCE_MAX, nan_at_77, NULL, 0, &mx));
    assert_true(mx == 50.0);

    double s = 1.0;
    SJ_ASSERT_OK(sj_preduce_double(4, 4, SJ_REDUCE_MIN, sine_term, &scale, sizeof scale, &mn));
    SJ_ASSERT_OK(sj_preduce_double(4, 4, SJ_REDUCE_MAX, sine_term, &scale, sizeof scale, &mx));
    SJ_ASSERT_OK(sj_preduce_double(4, 4, SJ_REDUCE_SUM, sine_term, &scale, sizeof scale, &s));
    assert_true(mn == INFINITY && mx == -INFINITY && s == 0.0);
}

/* ---- user reducers ------------------------------------------------------------ */

typedef struct argmin {
    double v;
    int64_t i;
} argmin_t;

static double tie_term(int64_t i)
{
    return floor(10.0 * sin(0.05 * (double)i)); /* many ties */
}

static void argmin_update(argmin_t *a, double v, int64_t i)
{
    if (v < a->v || (v == a->v && i < a->i)) {
        a->v = v;
        a->i = i;
    }
}

static int argmin_fold(void *acc, int64_t i, void *ctx)
{
    (void)ctx;
    argmin_update(acc, tie_term(i), i);
    return 0;
}

static int argmin_combine(void *a, const void *b, void *ctx)
{
    (void)ctx;
    const argmin_t *y = b;
    argmin_update(a, y->v, y->i);
    return 0;
}

static void test_user_argmin(void **state)
{
    (void)state;
    const argmin_t init = {INFINITY, INT64_MAX};
    argmin_t got = {0, 0}, ref = init;
    SJ_ASSERT_OK(
        sj_preduce(-300, 12345, sizeof got, argmin_fold, argmin_combine, &init, NULL, 0, &got));
    for (int64_t i = -300; i < 12345; i++)
        argmin_update(&ref, tie_term(i), i);
    assert_true(got.v == ref.v);
    assert_int_equal(got.i, ref.i);
    assert_same_everywhere(&got, sizeof got);
}

/* Order-sensitive: the first and last index seen, and how many; combine(a, b) needs a before b. */
typedef struct span {
    int64_t first, last, count;
} span_t;

static int span_fold(void *acc, int64_t i, void *ctx)
{
    span_t *s = acc;
    const int64_t *stride = ctx;
    if (s->count == 0)
        s->first = i * *stride;
    else if (i * *stride <= s->last)
        return 11; /* indices must come in increasing order */
    s->last = i * *stride;
    s->count++;
    return 0;
}

static int span_combine(void *a, const void *b, void *ctx)
{
    (void)ctx;
    span_t *x = a;
    const span_t *y = b;
    if (y->count == 0)
        return 0;
    if (x->count && y->first <= x->last)
        return 12; /* b does not follow a */
    if (x->count == 0)
        x->first = y->first;
    x->last = y->last;
    x->count += y->count;
    return 0;
}

static void test_user_ordered(void **state)
{
    (void)state;
    const span_t init = {0, 0, 0};
    const int64_t lens[] = {1, 3, 255, 256, 257, 1000, 100003};
    for (int k = 0; k < 7; k++) {
        span_t got;
        int64_t stride = 3; /* copied: ctx_size > 0 */
        SJ_ASSERT_OK(sj_preduce(10, 10 + lens[k], sizeof got, span_fold, span_combine, &init,
                                &stride, sizeof stride, &got));
        assert_int_equal(got.count, lens[k]);
        assert_int_equal(got.first, 30);
        assert_int_equal(got.last, 3 * (10 + lens[k] - 1));
    }
}

/* ---- the seed examples --------------------------------------------------------- */

static int heads_fold(void *acc, int64_t i, void *ctx)
{
    const uint64_t *seed = ctx;
    *(int64_t *)acc += (int64_t)(mix64(*seed ^ mix64((uint64_t)i)) >> 63);
    return 0;
}

static int add_int64(void *a, const void *b, void *ctx)
{
    (void)ctx;
    *(int64_t *)a += *(const int64_t *)b;
    return 0;
}

static void test_counting_heads(void **state)
{
    (void)state;
    const int64_t n = 2000000, zero = 0;
    uint64_t seed = 2024;
    int64_t heads = -1, ref = 0;
    SJ_ASSERT_OK(
        sj_preduce(0, n, sizeof heads, heads_fold, add_int64, &zero, &seed, sizeof seed, &heads));
    for (int64_t i = 0; i < n; i++)
        heads_fold(&ref, i, &seed);
    assert_int_equal(heads, ref);
    assert_true(llabs(heads - n / 2) < 5 * 708); /* 5 sigma: sqrt(n) / 2 = 707 */
    assert_same_everywhere(&heads, sizeof heads);
}

static int darts_fold(void *acc, int64_t i, void *ctx)
{
    const uint64_t *seed = ctx;
    double x = uniform(*seed, 2 * (uint64_t)i), y = uniform(*seed, 2 * (uint64_t)i + 1);
    *(int64_t *)acc += x * x + y * y < 1.0;
    return 0;
}

static void test_darts_pi(void **state)
{
    (void)state;
    const int64_t n = 1000000, zero = 0;
    uint64_t seed = 7;
    int64_t hits = -1, ref = 0;
    SJ_ASSERT_OK(
        sj_preduce(0, n, sizeof hits, darts_fold, add_int64, &zero, &seed, sizeof seed, &hits));
    for (int64_t i = 0; i < n; i++)
        darts_fold(&ref, i, &seed);
    assert_int_equal(hits, ref);
    const double pi = 4.0 * (double)hits / (double)n;
    assert_true(fabs(pi - 3.14159265358979323846) < 0.01);
    if (sj_rank() == 0)
        printf("preduce: pi ~ %.6f from %lld darts\n", pi, (long long)n);
}

/* ---- failures inside the loop --------------------------------------------------- */

static int fold_fails_at_4321(void *acc, int64_t i, void *ctx)
{
    (void)ctx;
    if (i == 4321)
        return 5;
    *(int64_t *)acc += i;
    return 0;
}

static int combine_fails(void *a, const void *b, void *ctx)
{
    (void)a;
    (void)b;
    (void)ctx;
    return 6;
}

static void test_failures(void **state)
{
    (void)state;
    const int64_t zero = 0;
    int64_t r;
    SJ_ASSERT_ERR(sj_preduce(0, 10000, sizeof r, fold_fails_at_4321, add_int64, &zero, NULL, 0, &r),
                  SJ_EUSER);
    assert_non_null(strstr(sj_last_error(), "index 4321"));
    assert_non_null(strstr(sj_last_error(), "returned 5"));
    SJ_ASSERT_ERR(sj_preduce(0, 1000, sizeof r, heads_fold, combine_fails, &zero, &(uint64_t){1},
                             sizeof(uint64_t), &r),
                  SJ_EUSER);
    assert_non_null(strstr(sj_last_error(), "combine returned 6"));
    /* one part: no combine at all */
    SJ_ASSERT_OK(sj_preduce(0, 1, sizeof r, fold_fails_at_4321, combine_fails, &zero, NULL, 0, &r));
    assert_int_equal(r, 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    const int64_t zero = 0;
    int64_t r;
    double v;
    double scale = 1.0;
    SJ_ASSERT_ERR(sj_preduce(0, 10, sizeof r, NULL, add_int64, &zero, NULL, 0, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_preduce(0, 10, sizeof r, heads_fold, NULL, &zero, NULL, 0, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_preduce(0, 10, sizeof r, heads_fold, add_int64, NULL, NULL, 0, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_preduce(0, 10, sizeof r, heads_fold, add_int64, &zero, NULL, 0, NULL),
                  SJ_ENULL);
    SJ_ASSERT_ERR(sj_preduce(10, 9, sizeof r, heads_fold, add_int64, &zero, NULL, 0, &r),
                  SJ_ERANGE);
    SJ_ASSERT_ERR(
        sj_preduce(INT64_MIN, INT64_MAX, sizeof r, heads_fold, add_int64, &zero, NULL, 0, &r),
        SJ_ESIZE);
    SJ_ASSERT_ERR(sj_preduce(0, 10, 0, heads_fold, add_int64, &zero, NULL, 0, &r), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_preduce(0, 10, (size_t)2 << 20, heads_fold, add_int64, &zero, NULL, 0, &r),
                  SJ_ESIZE);
    SJ_ASSERT_ERR(sj_preduce(0, 10, sizeof r, heads_fold, add_int64, &zero, NULL, 8, &r), SJ_ENULL);
    SJ_ASSERT_ERR(
        sj_preduce(0, 10, sizeof r, heads_fold, add_int64, &zero, &scale, (size_t)2 << 20, &r),
        SJ_ESIZE);
    SJ_ASSERT_ERR(sj_preduce_double(0, 10, SJ_REDUCE_SUM, NULL, &scale, sizeof scale, &v),
                  SJ_ENULL);
    SJ_ASSERT_ERR(sj_preduce_double(0, 10, SJ_REDUCE_SUM, sine_term, &scale, sizeof scale, NULL),
                  SJ_ENULL);
    SJ_ASSERT_ERR(sj_preduce_double(0, 10, SJ_REDUCE_DOT, sine_term, &scale, sizeof scale, &v),
                  SJ_EINVAL);
    SJ_ASSERT_ERR(sj_preduce_double(0, 10, (sj_reduce_op_t)42, sine_term, &scale, sizeof scale, &v),
                  SJ_EINVAL);
    SJ_ASSERT_ERR(sj_preduce_double(3, 2, SJ_REDUCE_MAX, sine_term, &scale, sizeof scale, &v),
                  SJ_ERANGE);
    /* nothing left behind */
    SJ_ASSERT_OK(sj_preduce_double(0, 10, SJ_REDUCE_SUM, sine_term, &scale, sizeof scale, &v));
    assert_true(sj_t_bits(v) == sj_t_bits(serial_sum(0, 10, sine_term, &scale)));
}

/* The context of sj_preduce_double: copied with a size, as is (NULL or not) without. */
static double ctx_term(int64_t i, void *ctx)
{
    (void)i;
    return ctx ? *(const double *)ctx : 1.0;
}

static void test_double_ctx(void **state)
{
    (void)state;
    const double three = 3.0;
    double v = 0;
    SJ_ASSERT_OK(sj_preduce_double(0, 10, SJ_REDUCE_SUM, ctx_term, NULL, 0, &v));
    assert_true(v == 10.0);
    SJ_ASSERT_OK(sj_preduce_double(0, 10, SJ_REDUCE_SUM, ctx_term, &three, 0, &v));
    assert_true(v == 30.0);
    SJ_ASSERT_OK(sj_preduce_double(0, 10, SJ_REDUCE_SUM, ctx_term, &three, sizeof three, &v));
    assert_true(v == 30.0);
    SJ_ASSERT_ERR(sj_preduce_double(0, 10, SJ_REDUCE_SUM, ctx_term, NULL, 8, &v), SJ_ENULL);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_ctx),   cmocka_unit_test(test_sum_bits),
        cmocka_unit_test(test_min_max),      cmocka_unit_test(test_user_argmin),
        cmocka_unit_test(test_user_ordered), cmocka_unit_test(test_counting_heads),
        cmocka_unit_test(test_darts_pi),     cmocka_unit_test(test_failures),
        cmocka_unit_test(test_bad_input),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "preduce");
}
