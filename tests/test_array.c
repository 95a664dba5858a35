/*
 * Distributed arrays: constructors, gather / scatter / distribute, blocks to
 * and from a root, localpart, queries, reference counting of spaces and
 * layouts, tag recycling, and bad input (after which the arrays still hold
 * their data).
 */
#include "sj_test.h"

#define NLAYOUTS 5

/* 1-D irregular (7 blocks), 2-D 9x7 in 3x2 blocks, 3-D 5x4x3 in 4x3x2 blocks. */
static sj_space_t make_space(int which, sj_dtype_t dt)
{
    sj_space_t s = NULL;
    if (which == 0) {
        const int64_t sizes[7] = {5, 1, 7, 3, 2, 6, 4};
        SJ_ASSERT_OK(sj_space_create_blocks(dt, 7, sizes, &s));
    } else if (which == 1) {
        int64_t dims[2] = {9, 7};
        int nb[2] = {3, 2};
        SJ_ASSERT_OK(sj_space_create(dt, 2, dims, nb, &s));
    } else {
        int64_t dims[3] = {5, 4, 3};
        int nb[3] = {4, 3, 2};
        SJ_ASSERT_OK(sj_space_create(dt, 3, dims, nb, &s));
    }
    return s;
}

/*
 * Layout number k for the block grid of @p s: 0 default (NULL), 1 block-cyclic,
 * 2 explicit (a scrambled table), 3 contiguous over the ranks in reverse order,
 * 4 everything on the last rank.
 */
static sj_dist_t make_layout(sj_space_t s, int k)
{
    const int n = sj_nranks();
    int ndims = 0, nb[SJ_MAX_DIMS] = {1, 1, 1}, total = 0;
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
    SJ_ASSERT_OK(sj_space_blocks(s, nb, &total));
    if (k == 1) {
        int pr = ndims == 1 ? n : (n >= 2 ? 2 : 1);
        int pc = ndims == 1 ? 1 : (n >= 4 ? 2 : 1);
        SJ_ASSERT_OK(sj_dist_create_cyclic(ndims, nb, pr, pc, NULL, &d));
    } else if (k == 2 || k == 4) {
        int *owners = malloc((size_t)total * sizeof(int));
        for (int b = 0; b < total; b++)
            owners[b] = k == 4 ? n - 1 : (3 * b + 1) % n;
        SJ_ASSERT_OK(sj_dist_create_explicit(ndims, nb, owners, &d));
        free(owners);
    } else if (k == 3) {
        int *procs = malloc((size_t)n * sizeof(int));
        for (int r = 0; r < n; r++)
            procs[r] = n - 1 - r;
        SJ_ASSERT_OK(sj_dist_create_contiguous(ndims, nb, n, procs, NULL, &d));
        free(procs);
    }
    return d;
}

static int64_t space_length(sj_space_t s)
{
    int64_t len = 0;
    SJ_ASSERT_OK(sj_space_length(s, &len));
    return len;
}

static int space_total(sj_space_t s)
{
    int total = 0;
    SJ_ASSERT_OK(sj_space_blocks(s, NULL, &total));
    return total;
}

/* A whole column-major buffer of dtype @p dt made from doubles. */
static void *to_dtype(const double *v, int64_t n, sj_dtype_t dt)
{
    void *out = malloc((size_t)(n > 0 ? n : 1) * sj_dtype_size(dt));
    for (int64_t i = 0; i < n; i++) {
        if (dt == SJ_FLOAT32)
            ((float *)out)[i] = (float)v[i];
        else
            ((double *)out)[i] = v[i];
    }
    return out;
}

/* getblock of block b to root, compared (on the root) with the block of ref. */
static int64_t check_getblock(sj_array_t a, int b, int root, const double *ref)
{
    sj_space_t s = NULL;
    sj_dtype_t dt = SJ_FLOAT64;
    int64_t ne = 0;
    SJ_ASSERT_OK(sj_array_space(a, &s));
    SJ_ASSERT_OK(sj_space_shape(s, &dt, NULL, NULL));
    SJ_ASSERT_OK(sj_space_block_dims(s, b, NULL, &ne));
    void *raw = calloc((size_t)ne, sj_dtype_size(dt));
    SJ_ASSERT_OK(sj_array_block_get(a, b, root, sj_rank() == root ? raw : NULL));
    int64_t bad = 0;
    if (sj_rank() == root) {
        double *expect = malloc((size_t)ne * sizeof(double));
        double *got = malloc((size_t)ne * sizeof(double));
        assert_int_equal(sj_t_extract(s, b, ref, expect), ne);
        for (int64_t i = 0; i < ne; i++)
            got[i] = dt == SJ_FLOAT32 ? (double)((float *)raw)[i] : ((double *)raw)[i];
        char what[64];
        snprintf(what, sizeof what, "getblock %d to root %d", b, root);
        bad = sj_t_diff(got, expect, ne, what);
        free(expect);
        free(got);
    }
    free(raw);
    return bad;
}

/* ---- constructors -------------------------------------------------------- */

static void test_constant_constructors(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        for (int which = 0; which < 3; which++) {
            sj_space_t s = make_space(which, dt);
            int64_t n = space_length(s);
            double *zero = sj_t_const(n, 0.0), *one = sj_t_const(n, 1.0);
            double *val = sj_t_const(n, -2.5);
            for (int k = 0; k < NLAYOUTS; k++) {
                sj_dist_t d = make_layout(s, k);
                sj_array_t a = NULL, b = NULL, c = NULL;
                SJ_ASSERT_OK(sj_array_zeros(s, d, &a));
                SJ_ASSERT_OK(sj_array_ones(s, d, &b));
                SJ_ASSERT_OK(sj_array_filled(s, d, -2.5, &c));
                SJ_ASSERT_ARRAY(a, zero);
                SJ_ASSERT_ARRAY(b, one);
                SJ_ASSERT_ARRAY(c, val);
                SJ_ASSERT_OK(sj_array_destroy(&a));
                SJ_ASSERT_OK(sj_array_destroy(&b));
                SJ_ASSERT_OK(sj_array_destroy(&c));
                assert_null(a);
                SJ_ASSERT_OK(sj_dist_destroy(&d));
            }
            free(zero);
            free(one);
            free(val);
            SJ_ASSERT_OK(sj_space_destroy(&s));
        }
    }
}

/* create_init over every space, layout and type; gathered to both roots. */
static void test_create_init(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        for (int which = 0; which < 3; which++) {
            sj_space_t s = make_space(which, dt);
            double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
            for (int k = 0; k < NLAYOUTS; k++) {
                sj_dist_t d = make_layout(s, k);
                sj_array_t a = NULL;
                SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &a));
                SJ_ASSERT_OK(sj_wait()); /* sj_t_init() returns 1 on an inconsistent block */
                SJ_ASSERT_ARRAY(a, ref);
                SJ_ASSERT_OK(sj_array_destroy(&a));
                SJ_ASSERT_OK(sj_dist_destroy(&d));
            }
            free(ref);
            SJ_ASSERT_OK(sj_space_destroy(&s));
        }
    }
}

/* The ctx bytes are copied at submission: changing them afterwards changes nothing. */
static void test_create_init_ctx(void **state)
{
    sj_space_t s = make_space(1, SJ_FLOAT64);
    sj_t_gen_t gen = {SJ_T_SINE, 2.0, -1.0};
    double *ref = sj_t_ref(s, &gen);
    sj_array_t a = NULL;
    SJ_ASSERT_OK(sj_array_create_init(s, NULL, sj_t_init, &gen, sizeof gen, &a));
    gen.scale = 1000.0;
    gen.offset = 5.0;
    gen.kind = SJ_T_RAMP;
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_ARRAY(a, ref);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    free(ref);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_distribute(void **state)
{
    const int n = sj_nranks(), me = sj_rank();
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        for (int which = 0; which < 3; which++) {
            sj_space_t s = make_space(which, dt);
            double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
            void *buf = to_dtype(ref, space_length(s), dt);
            for (int k = 0; k < 3; k++) {
                sj_dist_t d = make_layout(s, k);
                int roots[2] = {0, n - 1};
                for (int r = 0; r < 2; r++) {
                    sj_array_t a = NULL;
                    SJ_ASSERT_OK(
                        sj_array_distribute(s, d, roots[r], me == roots[r] ? buf : NULL, &a));
                    SJ_ASSERT_ARRAY(a, ref);
                    SJ_ASSERT_OK(sj_array_destroy(&a));
                }
                SJ_ASSERT_OK(sj_dist_destroy(&d));
            }
            free(buf);
            free(ref);
            SJ_ASSERT_OK(sj_space_destroy(&s));
        }
    }
}

/*
 * Blocks large enough for MPI's rendezvous protocol, moved from the root and
 * followed at once by sj_wait (which ends in StarPU-MPI's barrier): the owner
 * must not reach that barrier before its block has landed, or the run hangs.
 */
static void test_large_moves_then_wait(void **state)
{
    (void)state;
    const int n = sj_nranks(), me = sj_rank();
    const int64_t per = 16384; /* 128 KiB blocks */
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){per * n}, (int[]){n}, &s));
    double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_default(s, &d));
    for (int rep = 0; rep < 3; rep++) {
        sj_array_t a = NULL;
        SJ_ASSERT_OK(sj_array_distribute(s, d, 0, me == 0 ? ref : NULL, &a));
        SJ_ASSERT_OK(sj_wait());
        SJ_ASSERT_OK(sj_array_fill(0.0, a));
        SJ_ASSERT_OK(sj_array_scatter(a, 0, me == 0 ? ref : NULL));
        SJ_ASSERT_OK(sj_wait());
        SJ_ASSERT_OK(sj_array_fill(0.0, a));
        for (int b = 0; b < n; b++) {
            SJ_ASSERT_OK(sj_array_block_set(a, b, 0, me == 0 ? ref + b * per : NULL));
            SJ_ASSERT_OK(sj_wait());
        }
        SJ_ASSERT_ARRAY(a, ref);
        SJ_ASSERT_OK(sj_array_destroy(&a));
    }
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    free(ref);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* The root's buffer is read before the call returns (documented for setblock;
 * distribute and scatter copy from it too): overwriting it changes nothing. */
static void test_distribute_buffer_reuse(void **state)
{
    const int n = sj_nranks(), me = sj_rank();
    sj_space_t s = make_space(0, SJ_FLOAT64);
    int64_t len = space_length(s);
    double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
    double *buf = malloc((size_t)len * sizeof(double));
    memcpy(buf, ref, (size_t)len * sizeof(double));
    sj_array_t a = NULL;
    SJ_ASSERT_OK(sj_array_distribute(s, NULL, n - 1, me == n - 1 ? buf : NULL, &a));
    for (int64_t i = 0; i < len; i++)
        buf[i] = -1.0;
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_ARRAY(a, ref);
    free(buf);
    free(ref);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_similar_copy(void **state)
{
    for (int which = 0; which < 3; which++) {
        sj_space_t s = make_space(which, which == 2 ? SJ_FLOAT32 : SJ_FLOAT64);
        sj_dist_t d = make_layout(s, 2);
        int64_t len = space_length(s);
        double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
        double *zero = sj_t_const(len, 0.0), *seven = sj_t_const(len, 7.0);
        sj_array_t a = NULL, z = NULL, c = NULL;
        SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &a));
        SJ_ASSERT_OK(sj_array_similar(a, &z));
        SJ_ASSERT_OK(sj_array_copy(a, &c));

        int eq = -1;
        sj_space_t zs = NULL, cs = NULL;
        sj_dist_t zd = NULL, cd = NULL;
        SJ_ASSERT_OK(sj_array_space(z, &zs));
        SJ_ASSERT_OK(sj_array_space(c, &cs));
        SJ_ASSERT_OK(sj_array_dist(z, &zd));
        SJ_ASSERT_OK(sj_array_dist(c, &cd));
        SJ_ASSERT_OK(sj_space_equal(zs, s, &eq));
        assert_int_equal(eq, 1);
        SJ_ASSERT_OK(sj_space_equal(cs, s, &eq));
        assert_int_equal(eq, 1);
        SJ_ASSERT_OK(sj_dist_equal(zd, d, &eq));
        assert_int_equal(eq, 1);
        SJ_ASSERT_OK(sj_dist_equal(cd, d, &eq));
        assert_int_equal(eq, 1);

        SJ_ASSERT_ARRAY(z, zero);
        SJ_ASSERT_ARRAY(c, ref);
        /* deep copy: changing the source leaves the copy alone, and back */
        SJ_ASSERT_OK(sj_array_fill(7.0, a));
        SJ_ASSERT_ARRAY(c, ref);
        SJ_ASSERT_ARRAY(a, seven);
        SJ_ASSERT_OK(sj_array_fill(0.0, c));
        SJ_ASSERT_ARRAY(a, seven);
        SJ_ASSERT_ARRAY(z, zero);

        SJ_ASSERT_OK(sj_array_destroy(&a));
        SJ_ASSERT_OK(sj_array_destroy(&z));
        SJ_ASSERT_OK(sj_array_destroy(&c));
        SJ_ASSERT_OK(sj_dist_destroy(&d));
        SJ_ASSERT_OK(sj_space_destroy(&s));
        free(ref);
        free(zero);
        free(seven);
    }
}

static void test_scatter(void **state)
{
    const int n = sj_nranks(), me = sj_rank();
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        for (int which = 0; which < 3; which++) {
            sj_space_t s = make_space(which, dt);
            sj_dist_t d = make_layout(s, which == 1 ? 1 : 3);
            int64_t len = space_length(s);
            double *r1 = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
            double *r2 = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SMALL, 1.0, 0.0});
            void *b1 = to_dtype(r1, len, dt), *b2 = to_dtype(r2, len, dt);
            sj_array_t a = NULL;
            SJ_ASSERT_OK(sj_array_zeros(s, d, &a));
            SJ_ASSERT_OK(sj_array_scatter(a, n - 1, me == n - 1 ? b1 : NULL));
            SJ_ASSERT_ARRAY(a, r1);
            SJ_ASSERT_OK(sj_array_scatter(a, 0, me == 0 ? b2 : NULL));
            SJ_ASSERT_ARRAY(a, r2);
            SJ_ASSERT_OK(sj_array_destroy(&a));
            SJ_ASSERT_OK(sj_dist_destroy(&d));
            SJ_ASSERT_OK(sj_space_destroy(&s));
            free(r1);
            free(r2);
            free(b1);
            free(b2);
        }
    }
}

/* ---- blocks to and from a root --------------------------------------------- */

static void test_getblock(void **state)
{
    const int n = sj_nranks();
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        for (int which = 0; which < 3; which++) {
            sj_space_t s = make_space(which, dt);
            sj_dist_t d = make_layout(s, which);
            double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
            sj_array_t a = NULL;
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &a));
            for (int b = 0; b < space_total(s); b++) {
                assert_int_equal(check_getblock(a, b, 0, ref), 0);
                assert_int_equal(check_getblock(a, b, n - 1, ref), 0);
            }
            SJ_ASSERT_OK(sj_array_destroy(&a));
            SJ_ASSERT_OK(sj_dist_destroy(&d));
            SJ_ASSERT_OK(sj_space_destroy(&s));
            free(ref);
        }
    }
}

static void test_setblock(void **state)
{
    const int n = sj_nranks(), me = sj_rank();
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        for (int which = 0; which < 3; which++) {
            sj_space_t s = make_space(which, dt);
            sj_dist_t d = make_layout(s, 1);
            int total = space_total(s);
            double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
            sj_array_t a = NULL;
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &a));

            int targets[2] = {total - 1, total / 2};
            int roots[2] = {n - 1, 0};
            for (int k = 0; k < 2; k++) {
                int b = targets[k];
                int64_t ne = 0, lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1}, gd[3];
                SJ_ASSERT_OK(sj_space_block_dims(s, b, NULL, &ne));
                SJ_ASSERT_OK(sj_space_block_range(s, b, lo, hi));
                sj_t_gdims(s, gd, NULL);
                int ndims = 0;
                SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
                for (int x = ndims; x < 3; x++) {
                    lo[x] = 0;
                    hi[x] = 1;
                }
                double *v = malloc((size_t)ne * sizeof(double));
                for (int64_t e = 0; e < ne; e++)
                    v[e] = -1.0 - (double)e - 100.0 * k;
                void *buf = to_dtype(v, ne, dt);
                SJ_ASSERT_OK(sj_array_block_set(a, b, roots[k], me == roots[k] ? buf : NULL));
                /* buf is read before the call returns */
                memset(buf, 0, (size_t)ne * sj_dtype_size(dt));
                int64_t e = 0;
                for (int64_t z = lo[2]; z < hi[2]; z++)
                    for (int64_t y = lo[1]; y < hi[1]; y++)
                        for (int64_t x = lo[0]; x < hi[0]; x++)
                            ref[x + gd[0] * (y + gd[1] * z)] = v[e++];
                SJ_ASSERT_ARRAY(a, ref);
                assert_int_equal(check_getblock(a, b, n - 1, ref), 0);
                free(v);
                free(buf);
            }
            SJ_ASSERT_OK(sj_array_destroy(&a));
            SJ_ASSERT_OK(sj_dist_destroy(&d));
            SJ_ASSERT_OK(sj_space_destroy(&s));
            free(ref);
        }
    }
}

/* The notebook: a vector of 8 in 4 blocks of 2; getblock, setblock!, owner mutation. */
static void test_notebook_blocks(void **state)
{
    const int me = sj_rank();
    int64_t dims[1] = {8};
    int nb[1] = {4};
    sj_space_t s = NULL;
    sj_array_t d = NULL;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, nb, &s));
    SJ_ASSERT_OK(sj_array_rand(s, NULL, 2024, &d));
    double *ref = sj_t_gather(d, 0);
    assert_non_null(ref);

    /* getblock(d, 1): a copy of the first block on the root */
    double blk[2] = {-1.0, -1.0};
    SJ_ASSERT_OK(sj_array_block_get(d, 0, 0, blk));
    if (me == 0)
        assert_memory_equal(blk, ref, sizeof blk);

    /* setblock!(d, 1, ones(2)) */
    double ones[2] = {1.0, 1.0};
    SJ_ASSERT_OK(sj_array_block_set(d, 0, 0, me == 0 ? ones : NULL));
    double *got = sj_t_gather(d, 0);
    assert_non_null(got);
    if (me == 0) {
        assert_true(got[0] == 1.0 && got[1] == 1.0);
        assert_memory_equal(got + 2, ref + 2, 6 * sizeof(double));
    }

    /* the owner of block 0 mutates it in place */
    int owner = -1;
    sj_dist_t dist = NULL;
    SJ_ASSERT_OK(sj_array_dist(d, &dist));
    SJ_ASSERT_OK(sj_dist_owner(dist, 0, &owner));
    if (me == owner) {
        void *p = NULL;
        SJ_ASSERT_OK(sj_array_localpart_get(d, 0, &p));
        assert_non_null(p);
        assert_true(((double *)p)[0] == 1.0 && ((double *)p)[1] == 1.0);
        ((double *)p)[0] = ((double *)p)[1] = 2.0;
        SJ_ASSERT_OK(sj_array_localpart_restore(d, 0, &p));
        assert_null(p);
    }
    double *after = sj_t_gather(d, 0);
    assert_non_null(after);
    if (me == 0) {
        assert_true(after[0] == 2.0 && after[1] == 2.0);
        assert_memory_equal(after + 2, ref + 2, 6 * sizeof(double));
    }
    free(after);
    free(got);
    free(ref);
    SJ_ASSERT_OK(sj_array_destroy(&d));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- localpart ------------------------------------------------------------ */

static void test_localpart(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        for (int which = 0; which < 3; which++) {
            sj_space_t s = make_space(which, dt);
            sj_dist_t d = make_layout(s, 2);
            int total = space_total(s);
            int64_t len = space_length(s), gd[3];
            sj_t_gdims(s, gd, NULL);
            double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
            sj_array_t a = NULL;
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &a));

            int cnt = -1;
            const int *blocks = NULL;
            SJ_ASSERT_OK(sj_array_local_blocks(a, &cnt, &blocks));
            for (int i = 0; i < cnt; i++) {
                int b = blocks[i];
                sj_block_info_t info;
                SJ_ASSERT_OK(sj_array_block_info(a, b, &info));
                double *expect = malloc((size_t)info.nelems * sizeof(double));
                assert_int_equal(sj_t_extract(s, b, ref, expect), info.nelems);
                void *p = NULL;
                SJ_ASSERT_OK(sj_array_localpart_get(a, b, &p));
                assert_non_null(p);
                for (int64_t e = 0; e < info.nelems; e++) {
                    double v = dt == SJ_FLOAT32 ? ((float *)p)[e] : ((double *)p)[e];
                    assert_true(v == expect[e]);
                    if (dt == SJ_FLOAT32)
                        ((float *)p)[e] = (float)(2.0 + b);
                    else
                        ((double *)p)[e] = 2.0 + b;
                }
                SJ_ASSERT_OK(sj_array_localpart_restore(a, b, &p));
                assert_null(p);
                free(expect);
            }
            /* every block is owned by some rank: all were mutated */
            double *mut = malloc((size_t)len * sizeof(double));
            for (int b = 0; b < total; b++) {
                int64_t lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
                int ndims = 0;
                SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
                SJ_ASSERT_OK(sj_space_block_range(s, b, lo, hi));
                for (int x = ndims; x < 3; x++) {
                    lo[x] = 0;
                    hi[x] = 1;
                }
                for (int64_t z = lo[2]; z < hi[2]; z++)
                    for (int64_t y = lo[1]; y < hi[1]; y++)
                        for (int64_t x = lo[0]; x < hi[0]; x++)
                            mut[x + gd[0] * (y + gd[1] * z)] = 2.0 + b;
            }
            SJ_ASSERT_ARRAY(a, mut);
            /* tasks see the restored blocks */
            SJ_ASSERT_OK(sj_array_scale(2.0, a));
            for (int64_t e = 0; e < len; e++)
                mut[e] *= 2.0;
            SJ_ASSERT_ARRAY(a, mut);
            free(mut);
            free(ref);
            SJ_ASSERT_OK(sj_array_destroy(&a));
            SJ_ASSERT_OK(sj_dist_destroy(&d));
            SJ_ASSERT_OK(sj_space_destroy(&s));
        }
    }
}

/* ---- queries ---------------------------------------------------------------- */

static void test_queries(void **state)
{
    const int me = sj_rank();
    for (int which = 0; which < 3; which++) {
        sj_space_t s = make_space(which, SJ_FLOAT64);
        for (int k = 0; k < NLAYOUTS; k++) {
            sj_dist_t d = make_layout(s, k);
            sj_array_t a = NULL;
            SJ_ASSERT_OK(sj_array_zeros(s, d, &a));

            sj_space_t as = NULL;
            sj_dist_t ad = NULL;
            int eq = -1;
            SJ_ASSERT_OK(sj_array_space(a, &as));
            SJ_ASSERT_OK(sj_array_dist(a, &ad));
            assert_non_null(as);
            assert_non_null(ad);
            SJ_ASSERT_OK(sj_space_equal(as, s, &eq));
            assert_int_equal(eq, 1);
            if (d) {
                SJ_ASSERT_OK(sj_dist_equal(ad, d, &eq));
                assert_int_equal(eq, 1);
            } else {
                sj_dist_t def = NULL;
                SJ_ASSERT_OK(sj_dist_create_default(s, &def));
                SJ_ASSERT_OK(sj_dist_equal(ad, def, &eq));
                assert_int_equal(eq, 1);
                SJ_ASSERT_OK(sj_dist_destroy(&def));
            }

            int cnt = -1, dcnt = -1;
            const int *blocks = NULL, *dblocks = NULL;
            SJ_ASSERT_OK(sj_array_local_blocks(a, &cnt, &blocks));
            SJ_ASSERT_OK(sj_dist_local_blocks(ad, me, &dcnt, &dblocks));
            assert_int_equal(cnt, dcnt);
            for (int i = 0; i < cnt; i++)
                assert_int_equal(blocks[i], dblocks[i]);

            int ndims = 0, total = 0;
            int64_t gd[SJ_MAX_DIMS] = {1, 1, 1};
            SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, gd));
            SJ_ASSERT_OK(sj_space_blocks(s, NULL, &total));
            for (int b = 0; b < total; b++) {
                sj_block_info_t info;
                int64_t lo[SJ_MAX_DIMS], hi[SJ_MAX_DIMS], ne = 0;
                int coords[SJ_MAX_DIMS] = {0, 0, 0};
                memset(&info, 0xff, sizeof info);
                SJ_ASSERT_OK(sj_array_block_info(a, b, &info));
                SJ_ASSERT_OK(sj_space_block_range(s, b, lo, hi));
                SJ_ASSERT_OK(sj_space_block_dims(s, b, NULL, &ne));
                SJ_ASSERT_OK(sj_space_block_coords(s, b, coords));
                assert_int_equal(info.block, b);
                assert_int_equal(info.ndims, ndims);
                assert_int_equal(info.dtype, SJ_FLOAT64);
                assert_int_equal(info.nelems, ne);
                for (int x = 0; x < SJ_MAX_DIMS; x++) {
                    if (x < ndims) {
                        assert_int_equal(info.lo[x], lo[x]);
                        assert_int_equal(info.hi[x], hi[x]);
                        assert_int_equal(info.dims[x], hi[x] - lo[x]);
                        assert_int_equal(info.gdims[x], gd[x]);
                        assert_int_equal(info.coords[x], coords[x]);
                    } else {
                        assert_int_equal(info.dims[x], 1);
                        assert_int_equal(info.gdims[x], 1);
                    }
                }
            }
            SJ_ASSERT_OK(sj_array_destroy(&a));
            SJ_ASSERT_OK(sj_dist_destroy(&d));
        }
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
}

/* The array keeps its space and layout alive. */
static void test_refcount(void **state)
{
    const int n = sj_nranks();
    sj_space_t s = make_space(1, SJ_FLOAT64);
    sj_dist_t d = make_layout(s, 1);
    double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
    sj_array_t a = NULL, b = NULL;
    SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &a));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    assert_null(s);
    assert_null(d);

    SJ_ASSERT_ARRAY(a, ref);
    sj_space_t as = NULL;
    sj_dist_t ad = NULL;
    SJ_ASSERT_OK(sj_array_space(a, &as));
    SJ_ASSERT_OK(sj_array_dist(a, &ad));
    int64_t len = 0;
    SJ_ASSERT_OK(sj_space_length(as, &len));
    assert_int_equal(len, 63);
    char text[128];
    SJ_ASSERT_OK(sj_space_describe(as, text, sizeof text));
    assert_true(strlen(text) > 0);
    int r = -1;
    SJ_ASSERT_OK(sj_dist_owner(ad, 5, &r));
    assert_in_range(r, 0, n - 1);
    assert_int_equal(check_getblock(a, 5, n - 1, ref), 0);

    /* arrays made from it share them too, and outlive it */
    SJ_ASSERT_OK(sj_array_copy(a, &b));
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_ARRAY(b, ref);
    SJ_ASSERT_OK(sj_array_scale(-1.0, b));
    for (int64_t i = 0; i < len; i++)
        ref[i] = -ref[i];
    SJ_ASSERT_ARRAY(b, ref);
    SJ_ASSERT_OK(sj_array_destroy(&b));
    free(ref);
}

/* Destroying a borrowed handle drops the user's reference; the real one then
 * reports the double destroy instead of freeing a space the array still uses. */
static void test_double_destroy(void **state)
{
    sj_space_t s = NULL, borrowed = NULL;
    sj_dist_t d = NULL, dborrowed = NULL;
    sj_array_t a = NULL;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){12}, (int[]){3}, &s));
    SJ_ASSERT_OK(sj_dist_create_default(s, &d));
    SJ_ASSERT_OK(sj_array_filled(s, d, 2.0, &a));
    SJ_ASSERT_OK(sj_array_space(a, &borrowed));
    SJ_ASSERT_OK(sj_array_dist(a, &dborrowed));
    SJ_ASSERT_OK(sj_space_destroy(&borrowed));
    SJ_ASSERT_OK(sj_dist_destroy(&dborrowed));
    SJ_ASSERT_ERR(sj_space_destroy(&s), SJ_ESTATE);
    SJ_ASSERT_ERR(sj_dist_destroy(&d), SJ_ESTATE);
    assert_null(s);
    assert_null(d);
    double *two = sj_t_const(12, 2.0);
    SJ_ASSERT_ARRAY(a, two); /* the array still has its space and layout */
    free(two);
    SJ_ASSERT_OK(sj_array_destroy(&a));
}

/* getblock to the owner of a block it holds with localpart_get would wait for
 * itself: refused on that rank (the only one taking part). */
static void test_getblock_while_held(void **state)
{
    sj_space_t s = NULL;
    sj_array_t a = NULL;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){8}, (int[]){2}, &s));
    SJ_ASSERT_OK(sj_array_filled(s, NULL, 5.0, &a));
    sj_dist_t d = NULL;
    int owner = -1;
    SJ_ASSERT_OK(sj_array_dist(a, &d));
    SJ_ASSERT_OK(sj_dist_owner(d, 0, &owner));
    double buf[4] = {0};
    void *p = NULL;
    if (sj_rank() == owner) {
        SJ_ASSERT_OK(sj_array_localpart_get(a, 0, &p));
        SJ_ASSERT_ERR(sj_array_block_get(a, 0, owner, buf), SJ_ESTATE);
        SJ_ASSERT_OK(sj_array_localpart_restore(a, 0, &p));
    } else {
        SJ_ASSERT_OK(sj_array_block_get(a, 0, owner, buf));
    }
    SJ_ASSERT_OK(sj_array_block_get(a, 0, owner, buf));
    if (sj_rank() == owner)
        assert_true(buf[0] == 5.0 && buf[3] == 5.0);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_destroy_null(void **state)
{
    assert_int_equal(sj_array_destroy(NULL), 0);
    sj_array_t a = NULL;
    assert_int_equal(sj_array_destroy(&a), 0);
    assert_null(a);
}

/*
 * Tags are released on destroy: a long run of create/destroy must not fail,
 * both between collective waits (tags set aside) and across them (tags reused).
 * SJ_TEST_TAG_STRESS lowers the count for instrumented builds (sanitizers,
 * valgrind); the default is the 100 000 the library promises.
 */
static void test_tag_stress(void **state)
{
    int64_t dims[1] = {16};
    int nb[1] = {4};
    sj_space_t s = NULL;
    const char *env = getenv("SJ_TEST_TAG_STRESS");
    const int iterations = env ? atoi(env) : 100000;
    const int every = iterations >= 8 ? iterations / 4 : 1; /* a wait now and then */
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, nb, &s));
    for (int i = 0; i < iterations; i++) {
        if (i % every == every - 1)
            SJ_ASSERT_OK(sj_wait());
        sj_array_t a = NULL;
        int rc = sj_array_zeros(s, NULL, &a);
        if (rc != 0) {
            print_error("iteration %d: sj_array_zeros: %s: %s\n", i, sj_err_name(rc),
                        sj_last_error());
            fail();
        }
        rc = sj_array_destroy(&a);
        if (rc != 0 || a != NULL) {
            print_error("iteration %d: sj_array_destroy: %s: %s\n", i, sj_err_name(rc),
                        sj_last_error());
            fail();
        }
    }
    sj_array_t a = NULL;
    SJ_ASSERT_OK(sj_array_filled(s, NULL, 3.0, &a));
    double *three = sj_t_const(16, 3.0);
    SJ_ASSERT_ARRAY(a, three);
    free(three);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- bad input ---------------------------------------------------------------- */

/* An array with known data for the bad-input cases. */
static sj_array_t victim(sj_space_t *s, double **ref)
{
    sj_array_t a = NULL;
    *s = make_space(1, SJ_FLOAT64);
    *ref = sj_t_ref(*s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
    SJ_ASSERT_OK(sj_t_make(*s, NULL, sj_t_gen(SJ_T_SINE), &a));
    return a;
}

static void release(sj_array_t *a, sj_space_t *s, double *ref)
{
    SJ_ASSERT_OK(sj_array_destroy(a));
    SJ_ASSERT_OK(sj_space_destroy(s));
    free(ref);
}

static void test_bad_null_space_out(void **state)
{
    sj_space_t s;
    double *ref;
    sj_array_t a = victim(&s, &ref), x = NULL;
    sj_t_gen_t gen = sj_t_gen(SJ_T_EXACT);
    SJ_ASSERT_ERR(sj_array_zeros(NULL, NULL, &x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_zeros(s, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_ones(NULL, NULL, &x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_ones(s, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_filled(NULL, NULL, 1.0, &x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_filled(s, NULL, 1.0, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_rand(NULL, NULL, 1, &x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_randn(s, NULL, 1, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_create_init(NULL, NULL, sj_t_init, &gen, sizeof gen, &x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_create_init(s, NULL, sj_t_init, &gen, sizeof gen, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_distribute(NULL, NULL, 0, ref, &x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_distribute(s, NULL, 0, ref, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_similar(NULL, &x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_similar(a, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_copy(NULL, &x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_copy(a, NULL), SJ_ENULL);
    assert_null(x);
    sj_space_t qs;
    sj_dist_t qd;
    int cnt;
    const int *blocks;
    sj_block_info_t info;
    SJ_ASSERT_ERR(sj_array_space(NULL, &qs), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_space(a, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_dist(NULL, &qd), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_local_blocks(NULL, &cnt, &blocks), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_block_info(NULL, 0, &info), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_block_info(a, 0, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_gather(NULL, 0, ref), SJ_ENULL);
    SJ_ASSERT_ARRAY(a, ref);
    release(&a, &s, ref);
}

static void test_bad_dist_mismatch(void **state)
{
    sj_space_t s = make_space(1, SJ_FLOAT64); /* 3x2 blocks */
    double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
    sj_array_t a = NULL, x = NULL;
    SJ_ASSERT_OK(sj_t_make(s, NULL, sj_t_gen(SJ_T_EXACT), &a));
    int nb23[2] = {2, 3}, nb6[1] = {6}, nb32[3] = {3, 2, 1};
    sj_dist_t d23 = NULL, d6 = NULL, d321 = NULL;
    SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb23, 1, NULL, NULL, &d23));
    SJ_ASSERT_OK(sj_dist_create_cyclic(1, nb6, 1, 1, NULL, &d6));
    SJ_ASSERT_OK(sj_dist_create_cyclic(3, nb32, 1, 1, NULL, &d321));
    sj_t_gen_t gen = sj_t_gen(SJ_T_EXACT);
    SJ_ASSERT_ERR(sj_array_zeros(s, d23, &x), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_zeros(s, d6, &x), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_ones(s, d23, &x), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_filled(s, d6, 2.0, &x), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_rand(s, d23, 3, &x), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_randn(s, d6, 3, &x), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_create_init(s, d23, sj_t_init, &gen, sizeof gen, &x), SJ_EMISMATCH);
    SJ_ASSERT_ERR(sj_array_distribute(s, d6, 0, ref, &x), SJ_EMISMATCH);
    /* 3x2x1 is not the 2-D 3x2 grid either */
    SJ_ASSERT_ERR(sj_array_zeros(s, d321, &x), SJ_EMISMATCH);
    assert_null(x);
    SJ_ASSERT_ARRAY(a, ref);
    SJ_ASSERT_OK(sj_dist_destroy(&d23));
    SJ_ASSERT_OK(sj_dist_destroy(&d6));
    SJ_ASSERT_OK(sj_dist_destroy(&d321));
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    free(ref);
}

static void test_bad_root(void **state)
{
    const int n = sj_nranks();
    sj_space_t s;
    double *ref;
    sj_array_t a = victim(&s, &ref), x = NULL;
    double *buf = calloc(64, sizeof(double));
    SJ_ASSERT_ERR(sj_array_gather(a, n, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_gather(a, -1, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_scatter(a, n, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_scatter(a, -1, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_block_get(a, 0, n, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_block_get(a, 0, -2, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_block_set(a, 0, n, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_block_set(a, 0, -1, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_distribute(s, NULL, n, buf, &x), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_distribute(s, NULL, -1, buf, &x), SJ_ERANGE);
    assert_null(x);
    free(buf);
    SJ_ASSERT_ARRAY(a, ref);
    release(&a, &s, ref);
}

static void test_bad_block(void **state)
{
    sj_space_t s;
    double *ref;
    sj_array_t a = victim(&s, &ref);
    double *buf = calloc(64, sizeof(double));
    sj_block_info_t info;
    void *p = NULL;
    SJ_ASSERT_ERR(sj_array_block_get(a, 6, 0, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_block_get(a, -1, 0, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_block_set(a, 6, 0, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_block_set(a, -1, 0, buf), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_block_info(a, 6, &info), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_block_info(a, -1, &info), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_localpart_get(a, 6, &p), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_array_localpart_get(a, -1, &p), SJ_ERANGE);
    assert_null(p);
    free(buf);
    SJ_ASSERT_ARRAY(a, ref);
    release(&a, &s, ref);
}

/*
 * A NULL buffer on the root. The calls are collective, so they must fail on
 * every rank (the other ranks may pass NULL legitimately): a rank that went on
 * would wait for a root that gave up.
 */
static void test_bad_null_buf_on_root(void **state)
{
    const int n = sj_nranks();
    sj_space_t s;
    double *ref;
    sj_array_t a = victim(&s, &ref), x = NULL;
    SJ_ASSERT_ERR(sj_array_gather(a, n - 1, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_scatter(a, n - 1, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_block_get(a, 2, n - 1, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_block_set(a, 2, n - 1, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_distribute(s, NULL, n - 1, NULL, &x), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_gather(a, 0, NULL), SJ_ENULL);
    assert_null(x);
    SJ_ASSERT_ARRAY(a, ref);
    release(&a, &s, ref);
}

static void test_bad_localpart_not_owned(void **state)
{
    const int n = sj_nranks(), me = sj_rank();
    sj_space_t s = make_space(0, SJ_FLOAT64);
    sj_dist_t d = make_layout(s, 4); /* everything on the last rank */
    double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
    sj_array_t a = NULL;
    SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &a));
    void *p = NULL;
    if (me != n - 1) {
        for (int b = 0; b < 7; b++)
            SJ_ASSERT_ERR(sj_array_localpart_get(a, b, &p), SJ_EINVAL);
        assert_null(p);
        int cnt = -1;
        SJ_ASSERT_OK(sj_array_local_blocks(a, &cnt, NULL));
        assert_int_equal(cnt, 0);
    } else {
        /* the owner: a NULL output is refused, a real one works */
        SJ_ASSERT_ERR(sj_array_localpart_get(a, 3, NULL), SJ_ENULL);
        SJ_ASSERT_OK(sj_array_localpart_get(a, 3, &p));
        assert_non_null(p);
        assert_true(((double *)p)[0] == ref[13]); /* block 3 starts at 5+1+7 */
        SJ_ASSERT_OK(sj_array_localpart_restore(a, 3, &p));
        assert_null(p);
    }
    SJ_ASSERT_ARRAY(a, ref);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    free(ref);
}

static void test_bad_localpart_twice(void **state)
{
    sj_space_t s;
    double *ref;
    sj_array_t a = victim(&s, &ref);
    int cnt = 0;
    const int *blocks = NULL;
    SJ_ASSERT_OK(sj_array_local_blocks(a, &cnt, &blocks));
    assert_true(cnt >= 1); /* 6 blocks over at most 4 ranks, contiguous */
    int b = blocks[0];
    void *p = NULL, *q = NULL;
    SJ_ASSERT_OK(sj_array_localpart_get(a, b, &p));
    assert_non_null(p);
    SJ_ASSERT_ERR(sj_array_localpart_get(a, b, &q), SJ_ESTATE);
    assert_null(q);
    SJ_ASSERT_OK(sj_array_localpart_restore(a, b, &p));
    assert_null(p);
    SJ_ASSERT_OK(sj_array_localpart_get(a, b, &p)); /* and again after the restore */
    assert_non_null(p);
    SJ_ASSERT_OK(sj_array_localpart_restore(a, b, &p));
    SJ_ASSERT_ARRAY(a, ref);
    release(&a, &s, ref);
}

static void test_bad_init(void **state)
{
    sj_space_t s;
    double *ref;
    sj_array_t a = victim(&s, &ref), x = NULL;
    sj_t_gen_t gen = sj_t_gen(SJ_T_EXACT);
    SJ_ASSERT_ERR(sj_array_create_init(s, NULL, NULL, &gen, sizeof gen, &x), SJ_ENULL);
    SJ_ASSERT_ERR2(sj_array_create_init(s, NULL, sj_t_init, NULL, sizeof gen, &x), SJ_ENULL,
                   SJ_EINVAL);
    assert_null(x);
    SJ_ASSERT_ARRAY(a, ref);
    release(&a, &s, ref);
}

static int add_inputs(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    const int nin = *(const int *)ctx;
    for (int64_t e = 0; e < blk->nelems; e++)
        for (int k = 0; k < nin; k++)
            ((double *)out)[e] += ((const double *)in[k])[e];
    return 0;
}

static void test_bad_map(void **state)
{
    sj_space_t s;
    double *ref;
    sj_array_t a = victim(&s, &ref), b = NULL, c = NULL;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &b));
    sj_space_t s2 = make_space(0, SJ_FLOAT64);
    SJ_ASSERT_OK(sj_array_ones(s2, NULL, &c));
    sj_array_t in[9] = {b, b, b, b, b, b, b, b, b};
    int nin = 9;
    SJ_ASSERT_ERR(sj_array_map(9, in, a, add_inputs, &nin, sizeof nin), SJ_EINVAL);
    nin = -1;
    SJ_ASSERT_ERR(sj_array_map(-1, in, a, add_inputs, &nin, sizeof nin), SJ_EINVAL);
    nin = 2;
    sj_array_t with_out[2] = {b, a};
    SJ_ASSERT_ERR(sj_array_map(2, with_out, a, add_inputs, &nin, sizeof nin), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_map(2, in, a, NULL, &nin, sizeof nin), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_map(2, in, NULL, add_inputs, &nin, sizeof nin), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_map(2, NULL, a, add_inputs, &nin, sizeof nin), SJ_ENULL);
    sj_array_t with_null[2] = {b, NULL};
    SJ_ASSERT_ERR(sj_array_map(2, with_null, a, add_inputs, &nin, sizeof nin), SJ_ENULL);
    sj_array_t other[1] = {c};
    nin = 1;
    SJ_ASSERT_ERR(sj_array_map(1, other, a, add_inputs, &nin, sizeof nin), SJ_EMISMATCH);
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_ARRAY(a, ref);

    /* 8 inputs is the limit and works */
    nin = 8;
    SJ_ASSERT_OK(sj_array_map(8, in, a, add_inputs, &nin, sizeof nin));
    for (int i = 0; i < 63; i++)
        ref[i] = ref[i] + 1.0 + 1.0 + 1.0 + 1.0 + 1.0 + 1.0 + 1.0 + 1.0;
    SJ_ASSERT_ARRAY(a, ref);
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_array_destroy(&c));
    SJ_ASSERT_OK(sj_space_destroy(&s2));
    release(&a, &s, ref);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_constructors),
        cmocka_unit_test(test_create_init),
        cmocka_unit_test(test_create_init_ctx),
        cmocka_unit_test(test_distribute),
        cmocka_unit_test(test_large_moves_then_wait),
        cmocka_unit_test(test_distribute_buffer_reuse),
        cmocka_unit_test(test_similar_copy),
        cmocka_unit_test(test_scatter),
        cmocka_unit_test(test_getblock),
        cmocka_unit_test(test_setblock),
        cmocka_unit_test(test_notebook_blocks),
        cmocka_unit_test(test_localpart),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_destroy_null),
        cmocka_unit_test(test_double_destroy),
        cmocka_unit_test(test_getblock_while_held),
        cmocka_unit_test(test_bad_null_space_out),
        cmocka_unit_test(test_bad_dist_mismatch),
        cmocka_unit_test(test_bad_root),
        cmocka_unit_test(test_bad_block),
        cmocka_unit_test(test_bad_localpart_not_owned),
        cmocka_unit_test(test_bad_localpart_twice),
        cmocka_unit_test(test_bad_init),
        cmocka_unit_test(test_bad_map),
        cmocka_unit_test(test_tag_stress),
        /* last: if a rank goes on alone, the others hang here, after every other result */
        cmocka_unit_test(test_bad_null_buf_on_root),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "array");
}
