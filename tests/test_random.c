/*
 * Random arrays: element k (column-major global index) depends only on the
 * seed and k, so arrays with the same seed are bit-identical whatever the
 * blocking, the layout, the shape or the number of ranks. Plus basic
 * statistics of the uniform and normal draws.
 *
 * Across rank counts: every run compares with an array of one block on rank 0
 * (what one rank computes) and prints the FNV-1a hash of the bytes on rank 0,
 * so the logs of the np1..np4 runs can be compared as well.
 */
#include "sj_test.h"

#define N1 1001

static const int64_t sizes7[7] = {143, 1, 300, 77, 155, 200, 125}; /* sums to 1001 */

typedef int (*maker_t)(sj_space_t, sj_dist_t, uint64_t, sj_array_t *);

/* Gathers the raw bytes of @p a on @p root (collective); *nbytes set. */
static unsigned char *gather_raw(sj_array_t a, int root, size_t *nbytes)
{
    sj_dtype_t dt = SJ_FLOAT64;
    int64_t n = sj_t_length(a, &dt);
    *nbytes = (size_t)n * sj_dtype_size(dt);
    unsigned char *buf = calloc(*nbytes, 1);
    SJ_ASSERT_OK(sj_array_gather(a, root, buf));
    return buf;
}

/* Makes an array with @p make on (space, dist, seed) and gathers it on rank 0. */
static unsigned char *draw(maker_t make, sj_space_t s, sj_dist_t d, uint64_t seed, size_t *nbytes)
{
    sj_array_t a = NULL;
    SJ_ASSERT_OK(make(s, d, seed, &a));
    unsigned char *buf = gather_raw(a, 0, nbytes);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    return buf;
}

/* A layout with every block on rank @p r. */
static sj_dist_t all_on(sj_space_t s, int r)
{
    int ndims = 0, nb[SJ_MAX_DIMS] = {1, 1, 1}, total = 0;
    SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
    SJ_ASSERT_OK(sj_space_blocks(s, nb, &total));
    int *owners = malloc((size_t)total * sizeof(int));
    for (int b = 0; b < total; b++)
        owners[b] = r;
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_explicit(ndims, nb, owners, &d));
    free(owners);
    return d;
}

static const char *maker_name(maker_t m)
{
    return m == sj_array_rand ? "rand" : "randn";
}

/* 1 block vs 7 irregular blocks, rand and randn, float64 and float32. */
static void test_blockings_1d(void **state)
{
    const maker_t makers[2] = {sj_array_rand, sj_array_randn};
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        sj_space_t one = NULL, seven = NULL;
        int64_t dims[1] = {N1};
        SJ_ASSERT_OK(sj_space_create(dt, 1, dims, NULL, &one));
        SJ_ASSERT_OK(sj_space_create_blocks(dt, 7, sizes7, &seven));
        for (int m = 0; m < 2; m++) {
            size_t n1 = 0, n7 = 0;
            unsigned char *a = draw(makers[m], one, NULL, 12345, &n1);
            unsigned char *b = draw(makers[m], seven, NULL, 12345, &n7);
            assert_int_equal(n1, n7);
            if (sj_rank() == 0)
                assert_memory_equal(a, b, n1);
            free(a);
            free(b);
        }
        SJ_ASSERT_OK(sj_space_destroy(&one));
        SJ_ASSERT_OK(sj_space_destroy(&seven));
    }
}

/* 2-D 30x20: 3x2 blocks vs one block; and both equal to 1-D 600 (same k). */
static void test_blockings_2d_and_shape(void **state)
{
    const maker_t makers[2] = {sj_array_rand, sj_array_randn};
    sj_space_t s32 = NULL, s11 = NULL, s1d = NULL, s3d = NULL;
    int64_t dims[2] = {30, 20}, lin[1] = {600}, dims3[3] = {10, 6, 10};
    int nb[2] = {3, 2}, nb3[3] = {3, 2, 4};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, nb, &s32));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, NULL, &s11));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, lin, NULL, &s1d));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 3, dims3, nb3, &s3d));
    for (int m = 0; m < 2; m++) {
        size_t na, nb_, nc, nd;
        unsigned char *a = draw(makers[m], s32, NULL, 777, &na);
        unsigned char *b = draw(makers[m], s11, NULL, 777, &nb_);
        unsigned char *c = draw(makers[m], s1d, NULL, 777, &nc);
        unsigned char *d = draw(makers[m], s3d, NULL, 777, &nd);
        assert_int_equal(na, 600 * sizeof(double));
        assert_int_equal(nb_, na);
        assert_int_equal(nc, na);
        assert_int_equal(nd, na);
        if (sj_rank() == 0) {
            assert_memory_equal(a, b, na);
            assert_memory_equal(a, c, na);
            assert_memory_equal(a, d, na);
        }
        free(a);
        free(b);
        free(c);
        free(d);
    }
    SJ_ASSERT_OK(sj_space_destroy(&s32));
    SJ_ASSERT_OK(sj_space_destroy(&s11));
    SJ_ASSERT_OK(sj_space_destroy(&s1d));
    SJ_ASSERT_OK(sj_space_destroy(&s3d));
}

/* Same blocking, every kind of layout. */
static void test_layouts(void **state)
{
    const int n = sj_nranks();
    const maker_t makers[2] = {sj_array_rand, sj_array_randn};
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        sj_space_t s = NULL;
        SJ_ASSERT_OK(sj_space_create_blocks(dt, 7, sizes7, &s));
        int nb[1] = {7};
        int *procs = malloc((size_t)n * sizeof(int));
        for (int r = 0; r < n; r++)
            procs[r] = n - 1 - r;
        sj_dist_t layouts[5] = {NULL, NULL, NULL, NULL, NULL};
        SJ_ASSERT_OK(sj_dist_create_cyclic(1, nb, n, 1, NULL, &layouts[1]));
        layouts[2] = all_on(s, 0);
        layouts[3] = all_on(s, n - 1);
        SJ_ASSERT_OK(sj_dist_create_contiguous(1, nb, n, procs, NULL, &layouts[4]));
        free(procs);
        for (int m = 0; m < 2; m++) {
            size_t n0 = 0;
            unsigned char *ref = draw(makers[m], s, NULL, 99, &n0);
            for (int k = 1; k < 5; k++) {
                size_t nk = 0;
                unsigned char *got = draw(makers[m], s, layouts[k], 99, &nk);
                assert_int_equal(nk, n0);
                if (sj_rank() == 0)
                    assert_memory_equal(got, ref, n0);
                free(got);
            }
            free(ref);
        }
        for (int k = 1; k < 5; k++)
            SJ_ASSERT_OK(sj_dist_destroy(&layouts[k]));
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
}

/*
 * The hash of the default 7-block layout on N ranks equals the hash of one
 * block on rank 0 (what a single rank computes). Printed for the logs.
 */
static void test_hash_vs_single_rank(void **state)
{
    const maker_t makers[2] = {sj_array_rand, sj_array_randn};
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        sj_space_t one = NULL, seven = NULL;
        int64_t dims[1] = {N1};
        SJ_ASSERT_OK(sj_space_create(dt, 1, dims, NULL, &one));
        SJ_ASSERT_OK(sj_space_create_blocks(dt, 7, sizes7, &seven));
        sj_dist_t on0 = all_on(one, 0);
        for (int m = 0; m < 2; m++) {
            size_t n1 = 0, n7 = 0;
            unsigned char *single = draw(makers[m], one, on0, 2718281828ULL, &n1);
            unsigned char *multi = draw(makers[m], seven, NULL, 2718281828ULL, &n7);
            if (sj_rank() == 0) {
                uint64_t h1 = sj_t_fnv1a(single, n1), h7 = sj_t_fnv1a(multi, n7);
                printf("random: %s %s seed 2718281828 n %d: fnv1a %016llx (1 block on rank 0), "
                       "%016llx (7 blocks on %d ranks)\n",
                       maker_name(makers[m]), dt == SJ_FLOAT64 ? "float64" : "float32", N1,
                       (unsigned long long)h1, (unsigned long long)h7, sj_nranks());
                assert_int_equal(n1, n7);
                assert_true(h1 == h7);
            }
            free(single);
            free(multi);
        }
        SJ_ASSERT_OK(sj_dist_destroy(&on0));
        SJ_ASSERT_OK(sj_space_destroy(&one));
        SJ_ASSERT_OK(sj_space_destroy(&seven));
    }
}

/* Counts equal doubles at the same position. */
static int64_t count_equal(const unsigned char *a, const unsigned char *b, int64_t n)
{
    int64_t same = 0;
    for (int64_t i = 0; i < n; i++)
        same += memcmp(a + 8 * i, b + 8 * i, 8) == 0;
    return same;
}

static void test_seeds(void **state)
{
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 7, sizes7, &s));
    const uint64_t seeds[5] = {1, 2, 1 + (1ULL << 32), 0, UINT64_MAX};
    unsigned char *bufs[5];
    size_t nbytes = 0;
    for (int k = 0; k < 5; k++)
        bufs[k] = draw(sj_array_rand, s, NULL, seeds[k], &nbytes);
    /* the same seed again, in the same run */
    unsigned char *again = draw(sj_array_rand, s, NULL, seeds[0], &nbytes);
    unsigned char *normal = draw(sj_array_randn, s, NULL, seeds[0], &nbytes);
    if (sj_rank() == 0) {
        assert_memory_equal(again, bufs[0], nbytes);
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++) {
                int64_t same = count_equal(bufs[i], bufs[j], N1);
                if (same > N1 / 100)
                    print_error("seeds %llu and %llu give %lld equal elements of %d\n",
                                (unsigned long long)seeds[i], (unsigned long long)seeds[j],
                                (long long)same, N1);
                assert_true(same <= N1 / 100);
            }
        /* rand and randn with one seed are different arrays */
        assert_true(count_equal(normal, bufs[0], N1) <= N1 / 100);
    }
    for (int k = 0; k < 5; k++)
        free(bufs[k]);
    free(again);
    free(normal);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* Mean and variance of 100000 draws, float64 and float32. */
static void stats(maker_t make, sj_dtype_t dt, uint64_t seed, double *mean, double *var, double *lo,
                  double *hi, int64_t *nonfinite)
{
    sj_space_t s = NULL;
    int64_t dims[1] = {100000};
    int nb[1] = {10};
    SJ_ASSERT_OK(sj_space_create(dt, 1, dims, nb, &s));
    sj_array_t a = NULL;
    SJ_ASSERT_OK(make(s, NULL, seed, &a));
    double *v = sj_t_gather(a, 0);
    assert_non_null(v);
    double sum = 0.0, sq = 0.0;
    *lo = INFINITY;
    *hi = -INFINITY;
    *nonfinite = 0;
    for (int64_t i = 0; i < dims[0]; i++) {
        if (!isfinite(v[i]))
            (*nonfinite)++;
        sum += v[i];
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
    *mean = sum / (double)dims[0];
    for (int64_t i = 0; i < dims[0]; i++)
        sq += (v[i] - *mean) * (v[i] - *mean);
    *var = sq / (double)(dims[0] - 1);
    free(v);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_uniform_stats(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        double mean, var, lo, hi;
        int64_t bad;
        stats(sj_array_rand, dt, 31337, &mean, &var, &lo, &hi, &bad);
        if (sj_rank() == 0) {
            printf("random: uniform %s mean %.6f var %.6f min %.3g max %.17g\n",
                   t == 0 ? "float64" : "float32", mean, var, lo, hi);
            assert_int_equal(bad, 0);
            assert_true(lo >= 0.0);
            assert_true(hi < 1.0);
            assert_true(fabs(mean - 0.5) < 0.01);
            assert_true(fabs(var - 1.0 / 12.0) < 0.005);
        }
    }
}

static void test_normal_stats(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        double mean, var, lo, hi;
        int64_t bad;
        stats(sj_array_randn, dt, 4242, &mean, &var, &lo, &hi, &bad);
        if (sj_rank() == 0) {
            printf("random: normal %s mean %.6f var %.6f min %.3f max %.3f\n",
                   t == 0 ? "float64" : "float32", mean, var, lo, hi);
            assert_int_equal(bad, 0);
            assert_true(fabs(mean) < 0.02);
            assert_true(fabs(var - 1.0) < 0.03);
            assert_true(lo < -3.0 && hi > 3.0); /* 100000 normal draws reach 3 sigma */
            assert_true(lo > -8.0 && hi < 8.0);
        }
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    // clang-format off
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blockings_1d),
        cmocka_unit_test(test_blockings_2d_and_shape),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_hash_vs_single_rank),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_uniform_stats),
        cmocka_unit_test(test_normal_stats),
    };
    // clang-format on
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "random");
}
