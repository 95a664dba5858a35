// sj-test: nprocs=1
/*
 * Block spaces: cuts, shapes, block numbering, equality, description, and
 * every kind of bad input.
 */
#include "sj_test.h"

static void test_uniform_cuts_10_in_3(void **state)
{
    sj_space_t s = NULL;
    int64_t dims[1] = {10};
    int nb[1] = {3};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, nb, &s));
    const int64_t expect[4] = {0, 4, 7, 10}; /* first blocks one longer */
    for (int b = 0; b < 3; b++) {
        int64_t lo[1] = {-1}, hi[1] = {-1}, bd[1] = {-1}, ne = -1;
        SJ_ASSERT_OK(sj_space_block_range(s, b, lo, hi));
        assert_int_equal(lo[0], expect[b]);
        assert_int_equal(hi[0], expect[b + 1]);
        SJ_ASSERT_OK(sj_space_block_dims(s, b, bd, &ne));
        assert_int_equal(bd[0], expect[b + 1] - expect[b]);
        assert_int_equal(ne, bd[0]);
    }
    int64_t len = 0;
    SJ_ASSERT_OK(sj_space_length(s, &len));
    assert_int_equal(len, 10);
    SJ_ASSERT_OK(sj_space_destroy(&s));
    assert_null(s);
}

/* The documented formula for every (n, nblocks) with n <= 40. */
static void test_uniform_cuts_formula(void **state)
{
    for (int64_t n = 1; n <= 40; n++)
        for (int nb = 1; nb <= n; nb++) {
            sj_space_t s = NULL;
            int64_t dims[1] = {n};
            int nbs[1] = {nb};
            SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 1, dims, nbs, &s));
            int total = 0;
            SJ_ASSERT_OK(sj_space_blocks(s, NULL, &total));
            assert_int_equal(total, nb);
            for (int k = 0; k < nb; k++) {
                int64_t lo[1], hi[1];
                SJ_ASSERT_OK(sj_space_block_range(s, k, lo, hi));
                /* n / nb each, the first n % nb blocks one more */
                const int64_t q = n / nb, r = n % nb;
                assert_int_equal(lo[0], k * q + (k < r ? k : r));
                assert_int_equal(hi[0], (k + 1) * q + (k + 1 < r ? k + 1 : r));
            }
            SJ_ASSERT_OK(sj_space_destroy(&s));
        }
}

static void test_one_block_default(void **state)
{
    sj_space_t s = NULL;
    int64_t dims[2] = {7, 5};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, NULL, &s));
    int nb[2] = {0, 0}, total = 0;
    SJ_ASSERT_OK(sj_space_blocks(s, nb, &total));
    assert_int_equal(nb[0], 1);
    assert_int_equal(nb[1], 1);
    assert_int_equal(total, 1);
    int64_t lo[2], hi[2];
    SJ_ASSERT_OK(sj_space_block_range(s, 0, lo, hi));
    assert_int_equal(lo[0], 0);
    assert_int_equal(lo[1], 0);
    assert_int_equal(hi[0], 7);
    assert_int_equal(hi[1], 5);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_irregular_1d(void **state)
{
    const int64_t sizes[5] = {3, 1, 4, 1, 5};
    sj_space_t s = NULL, t = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 5, sizes, &s));
    const int64_t *bs[1] = {sizes};
    int nb[1] = {5};
    SJ_ASSERT_OK(sj_space_create_irregular(SJ_FLOAT64, 1, NULL, nb, bs, &t));

    sj_dtype_t dt = 0;
    int ndims = 0;
    int64_t dims[1] = {0}, len = 0;
    SJ_ASSERT_OK(sj_space_shape(s, &dt, &ndims, dims));
    assert_int_equal(dt, SJ_FLOAT64);
    assert_int_equal(ndims, 1);
    assert_int_equal(dims[0], 14);
    SJ_ASSERT_OK(sj_space_length(s, &len));
    assert_int_equal(len, 14);

    int64_t start = 0;
    for (int b = 0; b < 5; b++) {
        int64_t lo[1], hi[1], ne;
        SJ_ASSERT_OK(sj_space_block_range(s, b, lo, hi));
        assert_int_equal(lo[0], start);
        assert_int_equal(hi[0], start + sizes[b]);
        SJ_ASSERT_OK(sj_space_block_dims(s, b, NULL, &ne));
        assert_int_equal(ne, sizes[b]);
        start += sizes[b];
    }
    int eq = -1;
    SJ_ASSERT_OK(sj_space_equal(s, t, &eq));
    assert_int_equal(eq, 1);
    SJ_ASSERT_OK(sj_space_destroy(&s));
    SJ_ASSERT_OK(sj_space_destroy(&t));
}

/* Checks ranges, dims and the coords <-> index roundtrip of every block. */
static void check_blocks(sj_space_t s, int ndims, const int nbexp[], const int64_t *const cuts[])
{
    int nb[SJ_MAX_DIMS] = {0, 0, 0}, total = 0;
    SJ_ASSERT_OK(sj_space_blocks(s, nb, &total));
    int expect_total = 1;
    for (int d = 0; d < ndims; d++) {
        assert_int_equal(nb[d], nbexp[d]);
        expect_total *= nbexp[d];
    }
    assert_int_equal(total, expect_total);
    for (int b = 0; b < total; b++) {
        int coords[SJ_MAX_DIMS] = {-1, -1, -1}, back = -1;
        SJ_ASSERT_OK(sj_space_block_coords(s, b, coords));
        /* column-major: b = c0 + nb0 * (c1 + nb1 * c2) */
        int lin = 0, stride = 1;
        for (int d = 0; d < ndims; d++) {
            assert_in_range(coords[d], 0, nb[d] - 1);
            lin += coords[d] * stride;
            stride *= nb[d];
        }
        assert_int_equal(lin, b);
        SJ_ASSERT_OK(sj_space_block_index(s, coords, &back));
        assert_int_equal(back, b);

        int64_t lo[SJ_MAX_DIMS], hi[SJ_MAX_DIMS], bd[SJ_MAX_DIMS], ne = 0, prod = 1;
        SJ_ASSERT_OK(sj_space_block_range(s, b, lo, hi));
        SJ_ASSERT_OK(sj_space_block_dims(s, b, bd, &ne));
        for (int d = 0; d < ndims; d++) {
            assert_int_equal(lo[d], cuts[d][coords[d]]);
            assert_int_equal(hi[d], cuts[d][coords[d] + 1]);
            assert_int_equal(bd[d], hi[d] - lo[d]);
            prod *= bd[d];
        }
        assert_int_equal(ne, prod);
    }
}

static void test_2d_uniform(void **state)
{
    sj_space_t s = NULL;
    int64_t dims[2] = {7, 5};
    int nb[2] = {3, 2};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, nb, &s));
    const int64_t c0[4] = {0, 3, 5, 7}, c1[3] = {0, 3, 5};
    const int64_t *cuts[2] = {c0, c1};
    check_blocks(s, 2, nb, cuts);
    /* block (2, 1) is number 2 + 3 * 1 = 5 */
    int coords[2] = {2, 1}, b = -1;
    SJ_ASSERT_OK(sj_space_block_index(s, coords, &b));
    assert_int_equal(b, 5);
    int64_t len = 0;
    SJ_ASSERT_OK(sj_space_length(s, &len));
    assert_int_equal(len, 35);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_3d_uniform(void **state)
{
    sj_space_t s = NULL;
    int64_t dims[3] = {4, 6, 5};
    int nb[3] = {2, 3, 2};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 3, dims, nb, &s));
    const int64_t c0[3] = {0, 2, 4}, c1[4] = {0, 2, 4, 6}, c2[3] = {0, 3, 5};
    const int64_t *cuts[3] = {c0, c1, c2};
    check_blocks(s, 3, nb, cuts);
    sj_dtype_t dt = 0;
    int nd = 0;
    int64_t sh[3] = {0, 0, 0}, len = 0;
    SJ_ASSERT_OK(sj_space_shape(s, &dt, &nd, sh));
    assert_int_equal(dt, SJ_FLOAT32);
    assert_int_equal(nd, 3);
    assert_int_equal(sh[0], 4);
    assert_int_equal(sh[1], 6);
    assert_int_equal(sh[2], 5);
    SJ_ASSERT_OK(sj_space_length(s, &len));
    assert_int_equal(len, 120);
    /* block (1, 2, 1) is 1 + 2 * (2 + 3 * 1) = 11 */
    int coords[3] = {1, 2, 1}, b = -1;
    SJ_ASSERT_OK(sj_space_block_index(s, coords, &b));
    assert_int_equal(b, 11);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_irregular_2d_3d(void **state)
{
    sj_space_t s = NULL;
    const int64_t r[3] = {2, 5, 1}, c[2] = {4, 3}, z[2] = {1, 2};
    const int64_t *bs[3] = {r, c, z};
    int nb[3] = {3, 2, 2};
    SJ_ASSERT_OK(sj_space_create_irregular(SJ_FLOAT64, 2, NULL, nb, bs, &s));
    const int64_t c0[4] = {0, 2, 7, 8}, c1[3] = {0, 4, 7}, c2[3] = {0, 1, 3};
    const int64_t *cuts[3] = {c0, c1, c2};
    check_blocks(s, 2, nb, cuts);
    int64_t len = 0;
    SJ_ASSERT_OK(sj_space_length(s, &len));
    assert_int_equal(len, 8 * 7);
    SJ_ASSERT_OK(sj_space_destroy(&s));

    SJ_ASSERT_OK(sj_space_create_irregular(SJ_FLOAT64, 3, NULL, nb, bs, &s));
    check_blocks(s, 3, nb, cuts);
    SJ_ASSERT_OK(sj_space_length(s, &len));
    assert_int_equal(len, 8 * 7 * 3);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_equal(void **state)
{
    sj_space_t a = NULL, b = NULL, c = NULL, d = NULL, e = NULL, f = NULL;
    int64_t dims[1] = {10}, dims2[2] = {10, 1};
    int nb3[1] = {3}, nb2[1] = {2}, nb31[2] = {3, 1};
    const int64_t same[3] = {4, 3, 3};
    int eq = -1;

    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, nb3, &a));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, nb3, &b));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, nb2, &c));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 1, dims, nb3, &d));
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 3, same, &e));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims2, nb31, &f));

    SJ_ASSERT_OK(sj_space_equal(a, a, &eq));
    assert_int_equal(eq, 1);
    SJ_ASSERT_OK(sj_space_equal(a, b, &eq));
    assert_int_equal(eq, 1);
    SJ_ASSERT_OK(sj_space_equal(a, c, &eq)); /* different cuts */
    assert_int_equal(eq, 0);
    SJ_ASSERT_OK(sj_space_equal(a, d, &eq)); /* different dtype */
    assert_int_equal(eq, 0);
    SJ_ASSERT_OK(sj_space_equal(a, e, &eq)); /* same cuts given explicitly */
    assert_int_equal(eq, 1);
    SJ_ASSERT_OK(sj_space_equal(e, a, &eq));
    assert_int_equal(eq, 1);
    SJ_ASSERT_OK(sj_space_equal(a, f, &eq)); /* different number of dims */
    assert_int_equal(eq, 0);

    const int64_t other[3] = {3, 3, 4}; /* same length and count, other cuts */
    sj_space_t g = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 3, other, &g));
    SJ_ASSERT_OK(sj_space_equal(a, g, &eq));
    assert_int_equal(eq, 0);

    sj_space_t all[7] = {a, b, c, d, e, f, g};
    for (int i = 0; i < 7; i++)
        SJ_ASSERT_OK(sj_space_destroy(&all[i]));
}

static void test_describe(void **state)
{
    sj_space_t s = NULL;
    int64_t dims[2] = {100, 50};
    int nb[2] = {4, 2};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, nb, &s));
    char buf[256];
    memset(buf, 'x', sizeof buf);
    SJ_ASSERT_OK(sj_space_describe(s, buf, sizeof buf));
    assert_non_null(memchr(buf, '\0', sizeof buf));
    assert_true(strlen(buf) > 0);
    assert_non_null(strstr(buf, "100"));
    assert_non_null(strstr(buf, "50"));

    /* truncated to the size given, always terminated */
    char small[6];
    memset(small, 'x', sizeof small);
    SJ_ASSERT_OK(sj_space_describe(s, small, sizeof small));
    assert_non_null(memchr(small, '\0', sizeof small));
    assert_true(strlen(small) <= 5);
    assert_memory_equal(small, buf, strlen(small));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_dtype_size(void **state)
{
    assert_int_equal(sj_dtype_size(SJ_FLOAT64), 8);
    assert_int_equal(sj_dtype_size(SJ_FLOAT32), 4);
    assert_int_equal(sj_dtype_size((sj_dtype_t)0), 0);
    assert_int_equal(sj_dtype_size((sj_dtype_t)7), 0);
}

static void test_optional_outputs(void **state)
{
    sj_space_t s = NULL;
    int64_t dims[3] = {3, 4, 5};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 3, dims, NULL, &s));
    SJ_ASSERT_OK(sj_space_shape(s, NULL, NULL, NULL));
    SJ_ASSERT_OK(sj_space_blocks(s, NULL, NULL));
    SJ_ASSERT_OK(sj_space_block_dims(s, 0, NULL, NULL));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- bad input ---------------------------------------------------------- */

static void test_bad_null_out(void **state)
{
    int64_t dims[1] = {10};
    int nb[1] = {2};
    const int64_t sizes[2] = {4, 6};
    const int64_t *bs[1] = {sizes};
    sj_space_t s = NULL;
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 1, dims, nb, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 1, NULL, nb, &s), SJ_ENULL);
    assert_null(s);
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT64, 1, NULL, nb, bs, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT64, 1, NULL, nb, NULL, &s), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT64, 1, NULL, NULL, bs, &s), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_create_blocks(SJ_FLOAT64, 2, sizes, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_create_blocks(SJ_FLOAT64, 2, NULL, &s), SJ_ENULL);
    assert_null(s);
}

static void test_bad_null_space(void **state)
{
    int64_t len, lo[1], hi[1];
    int nb[1], total, eq, b, coords[1] = {0};
    char buf[16];
    SJ_ASSERT_ERR(sj_space_length(NULL, &len), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_shape(NULL, NULL, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_blocks(NULL, nb, &total), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_block_range(NULL, 0, lo, hi), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_block_dims(NULL, 0, lo, &len), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_block_index(NULL, coords, &b), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_block_coords(NULL, 0, coords), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_equal(NULL, NULL, &eq), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_describe(NULL, buf, sizeof buf), SJ_ENULL);

    sj_space_t s = NULL;
    int64_t dims[1] = {4};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, NULL, &s));
    SJ_ASSERT_ERR(sj_space_length(s, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_block_range(s, 0, NULL, hi), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_block_range(s, 0, lo, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_block_index(s, NULL, &b), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_block_index(s, coords, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_block_coords(s, 0, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_equal(s, NULL, &eq), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_equal(s, s, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_space_describe(s, NULL, 16), SJ_ENULL);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_bad_ndims(void **state)
{
    int64_t dims[4] = {4, 4, 4, 4};
    int nb[4] = {1, 1, 1, 1};
    const int64_t sz[1] = {4};
    const int64_t *bs[4] = {sz, sz, sz, sz};
    sj_space_t s = NULL;
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 0, dims, nb, &s), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 4, dims, nb, &s), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, -1, dims, nb, &s), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT64, 0, NULL, nb, bs, &s), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT64, 4, NULL, nb, bs, &s), SJ_EINVAL);
    assert_null(s);
}

static void test_bad_dims(void **state)
{
    sj_space_t s = NULL;
    int nb[2] = {1, 1};
    int64_t zero[1] = {0}, neg[1] = {-5}, two[2] = {5, 0}, twoneg[2] = {5, -1};
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 1, zero, nb, &s), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 1, neg, nb, &s), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 2, two, nb, &s), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 2, twoneg, NULL, &s), SJ_ESIZE);
    assert_null(s);
}

static void test_bad_nblocks(void **state)
{
    sj_space_t s = NULL;
    int64_t dims[2] = {5, 3};
    int zero[2] = {0, 1}, big[2] = {6, 1}, big2[2] = {5, 4}, neg[2] = {-1, 1};
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 2, dims, zero, &s), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 2, dims, big, &s), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 2, dims, big2, &s), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 2, dims, neg, &s), SJ_ESIZE);
    const int64_t sz[2] = {2, 3};
    const int64_t *bs[2] = {sz, sz};
    SJ_ASSERT_ERR(sj_space_create_blocks(SJ_FLOAT64, 0, sz, &s), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_space_create_blocks(SJ_FLOAT64, -2, sz, &s), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT64, 2, NULL, zero, bs, &s), SJ_ESIZE);
    assert_null(s);
}

static void test_bad_irregular_sizes(void **state)
{
    sj_space_t s = NULL;
    const int64_t withzero[3] = {4, 0, 2}, withneg[3] = {4, -2, 2}, good[2] = {1, 1};
    SJ_ASSERT_ERR(sj_space_create_blocks(SJ_FLOAT64, 3, withzero, &s), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_space_create_blocks(SJ_FLOAT64, 3, withneg, &s), SJ_ESIZE);
    const int64_t *bs[2] = {good, withzero};
    int nb[2] = {2, 3};
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT32, 2, NULL, nb, bs, &s), SJ_ESIZE);
    const int64_t *bs2[2] = {good, withneg};
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT32, 2, NULL, nb, bs2, &s), SJ_ESIZE);
    assert_null(s);
}

/* Block sizes that do not add up to the dims given. */
static void test_bad_sizes_do_not_add_up(void **state)
{
    sj_space_t s = NULL;
    const int64_t rows[2] = {3, 4}, cols[3] = {2, 2, 2};
    const int64_t *bs[2] = {rows, cols};
    int nb[2] = {2, 3};
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT64, 2, (int64_t[]){7, 5}, nb, bs, &s),
                  SJ_ESIZE);
    assert_null(s);
    assert_non_null(strstr(sj_last_error(), "add up to 6"));
    SJ_ASSERT_ERR(sj_space_create_irregular(SJ_FLOAT64, 2, (int64_t[]){8, 6}, nb, bs, &s),
                  SJ_ESIZE);
    assert_null(s);
    SJ_ASSERT_OK(sj_space_create_irregular(SJ_FLOAT64, 2, (int64_t[]){7, 6}, nb, bs, &s));
    int64_t len = 0;
    SJ_ASSERT_OK(sj_space_length(s, &len));
    assert_int_equal(len, 42);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* Blocks of 2 GiB or more do not fit a StarPU-MPI message: refused up front. */
static void test_bad_block_too_large(void **state)
{
    sj_space_t s = NULL;
    const int64_t n = (int64_t)1 << 28; /* 2 GiB of doubles */
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT64, 1, &n, NULL, &s), SJ_ESIZE);
    assert_null(s);
    assert_non_null(strstr(sj_last_error(), "2 GiB"));
    const int64_t big2[2] = {1 << 16, 1 << 15}; /* one 2-D block of 2^31 floats */
    SJ_ASSERT_ERR(sj_space_create(SJ_FLOAT32, 2, big2, NULL, &s), SJ_ESIZE);
    const int64_t sizes[2] = {8, (int64_t)1 << 33};
    SJ_ASSERT_ERR(sj_space_create_blocks(SJ_FLOAT32, 2, sizes, &s), SJ_ESIZE);
    /* the same length in blocks of 1 GiB is fine (nothing is allocated) */
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &n, (int[]){2}, &s));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_bad_dtype(void **state)
{
    sj_space_t s = NULL;
    int64_t dims[1] = {4};
    const int64_t sz[1] = {4};
    const int64_t *bs[1] = {sz};
    int nb[1] = {1};
    SJ_ASSERT_ERR(sj_space_create((sj_dtype_t)0, 1, dims, NULL, &s), SJ_ETYPE);
    SJ_ASSERT_ERR(sj_space_create((sj_dtype_t)3, 1, dims, NULL, &s), SJ_ETYPE);
    SJ_ASSERT_ERR(sj_space_create((sj_dtype_t)-1, 1, dims, NULL, &s), SJ_ETYPE);
    SJ_ASSERT_ERR(sj_space_create_blocks((sj_dtype_t)9, 1, sz, &s), SJ_ETYPE);
    SJ_ASSERT_ERR(sj_space_create_irregular((sj_dtype_t)9, 1, NULL, nb, bs, &s), SJ_ETYPE);
    assert_null(s);
}

static void test_bad_block_index(void **state)
{
    sj_space_t s = NULL;
    int64_t dims[2] = {6, 4};
    int nb[2] = {3, 2};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, nb, &s));
    int64_t lo[2], hi[2], bd[2], ne;
    int coords[2], b;
    SJ_ASSERT_ERR(sj_space_block_range(s, 6, lo, hi), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_space_block_range(s, -1, lo, hi), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_space_block_dims(s, 6, bd, &ne), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_space_block_dims(s, -1, bd, &ne), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_space_block_coords(s, 6, coords), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_space_block_coords(s, -3, coords), SJ_ERANGE);
    int c1[2] = {3, 0}, c2[2] = {0, 2}, c3[2] = {-1, 0}, c4[2] = {0, -1};
    SJ_ASSERT_ERR(sj_space_block_index(s, c1, &b), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_space_block_index(s, c2, &b), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_space_block_index(s, c3, &b), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_space_block_index(s, c4, &b), SJ_ERANGE);
    /* the last valid block still works */
    SJ_ASSERT_OK(sj_space_block_range(s, 5, lo, hi));
    assert_int_equal(lo[0], 4);
    assert_int_equal(hi[1], 4);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_destroy_null(void **state)
{
    assert_int_equal(sj_space_destroy(NULL), 0);
    sj_space_t s = NULL;
    assert_int_equal(sj_space_destroy(&s), 0);
    assert_null(s);
    int64_t dims[1] = {3};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, NULL, &s));
    assert_non_null(s);
    assert_int_equal(sj_space_destroy(&s), 0);
    assert_null(s);
    assert_int_equal(sj_space_destroy(&s), 0); /* again: a no-op */
    assert_null(s);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_cuts_10_in_3),
        cmocka_unit_test(test_uniform_cuts_formula),
        cmocka_unit_test(test_one_block_default),
        cmocka_unit_test(test_irregular_1d),
        cmocka_unit_test(test_2d_uniform),
        cmocka_unit_test(test_3d_uniform),
        cmocka_unit_test(test_irregular_2d_3d),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_dtype_size),
        cmocka_unit_test(test_optional_outputs),
        cmocka_unit_test(test_bad_null_out),
        cmocka_unit_test(test_bad_null_space),
        cmocka_unit_test(test_bad_ndims),
        cmocka_unit_test(test_bad_dims),
        cmocka_unit_test(test_bad_nblocks),
        cmocka_unit_test(test_bad_irregular_sizes),
        cmocka_unit_test(test_bad_sizes_do_not_add_up),
        cmocka_unit_test(test_bad_block_too_large),
        cmocka_unit_test(test_bad_dtype),
        cmocka_unit_test(test_bad_block_index),
        cmocka_unit_test(test_destroy_null),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "space");
}
