/*
 * Block-parallel algebra: fill, scale, axpy, axpby, mul (with aliasing),
 * copyto and map, against serial references; user callback errors; bad input.
 *
 * Exactness: scale, mul, fill, copyto and map are compared bit for bit. axpy
 * and axpby round once per operation when computed as written; a kernel may
 * also fuse a multiply and the add (FMA, as BLAS kernels do), so each element
 * must equal one of the few correctly rounded ways to evaluate the expression.
 * In float32 the data are chosen so that every way is exact.
 */
#include "sj_test.h"

/* 1-D, 7 irregular blocks (1001) or 2-D 9x7 in 3x2 blocks. */
static sj_space_t make_space(int which, sj_dtype_t dt)
{
    sj_space_t s = NULL;
    if (which == 0) {
        const int64_t sizes[7] = {143, 1, 300, 77, 155, 200, 125};
        SJ_ASSERT_OK(sj_space_create_blocks(dt, 7, sizes, &s));
    } else {
        int64_t dims[2] = {9, 7};
        int nb[2] = {3, 2};
        SJ_ASSERT_OK(sj_space_create(dt, 2, dims, nb, &s));
    }
    return s;
}

/* 0: default layout, 1: block-cyclic over all ranks. */
static sj_dist_t make_layout(sj_space_t s, int k)
{
    if (k == 0)
        return NULL;
    int ndims = 0, nb[SJ_MAX_DIMS] = {1, 1, 1};
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
    SJ_ASSERT_OK(sj_space_blocks(s, nb, NULL));
    SJ_ASSERT_OK(sj_dist_create_cyclic(ndims, nb, sj_nranks(), 1, NULL, &d));
    return d;
}

static int64_t length_of(sj_space_t s)
{
    int64_t n = 0;
    SJ_ASSERT_OK(sj_space_length(s, &n));
    return n;
}

/* Rounds to the array's type, as the array stores it. */
static double as_type(double v, sj_dtype_t dt)
{
    return dt == SJ_FLOAT32 ? (double)(float)v : v;
}

/*
 * Gathers @p a to rank 0 and to the last rank; every element must equal
 * alt[0][i] or ... alt[nalt-1][i]. Returns the number of mismatches on roots.
 */
static int64_t check_any(sj_array_t a, const double *const *alt, int nalt)
{
    const int roots[2] = {0, sj_nranks() - 1};
    int64_t bad = 0, n = sj_t_length(a, NULL);
    for (int r = 0; r < 2; r++) {
        double *got = sj_t_gather(a, roots[r]);
        if (got == NULL)
            return -1;
        if (sj_rank() == roots[r])
            for (int64_t i = 0; i < n; i++) {
                int ok = 0;
                for (int k = 0; k < nalt; k++)
                    ok |= got[i] == alt[k][i];
                if (!ok && bad++ < 5)
                    print_error("root %d: element %lld is %.17g, expected %.17g\n", roots[r],
                                (long long)i, got[i], alt[0][i]);
            }
        free(got);
    }
    return bad;
}

static void test_fill_scale(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        for (int which = 0; which < 2; which++)
            for (int k = 0; k < 2; k++) {
                sj_space_t s = make_space(which, dt);
                sj_dist_t d = make_layout(s, k);
                int64_t n = length_of(s);
                int kind = t == 0 ? SJ_T_SINE : SJ_T_EXACT;
                double *ref = sj_t_ref(s, &(sj_t_gen_t){kind, 1.0, 0.0});
                sj_array_t x = NULL;
                SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(kind), &x));

                SJ_ASSERT_OK(sj_array_scale(-0.75, x));
                for (int64_t i = 0; i < n; i++)
                    ref[i] = as_type(ref[i] * -0.75, dt);
                SJ_ASSERT_ARRAY(x, ref);
                SJ_ASSERT_OK(sj_array_scale(0.0, x));
                for (int64_t i = 0; i < n; i++)
                    ref[i] = as_type(ref[i] * 0.0, dt);
                SJ_ASSERT_ARRAY(x, ref);
                SJ_ASSERT_OK(sj_array_fill(3.25, x));
                SJ_ASSERT_OK(sj_array_scale(2.0, x));
                for (int64_t i = 0; i < n; i++)
                    ref[i] = 6.5;
                SJ_ASSERT_ARRAY(x, ref);

                free(ref);
                SJ_ASSERT_OK(sj_array_destroy(&x));
                SJ_ASSERT_OK(sj_dist_destroy(&d));
                SJ_ASSERT_OK(sj_space_destroy(&s));
            }
    }
}

static void test_axpy_axpby_double(void **state)
{
    for (int which = 0; which < 2; which++)
        for (int k = 0; k < 2; k++) {
            sj_space_t s = make_space(which, SJ_FLOAT64);
            sj_dist_t d = make_layout(s, k);
            int64_t n = length_of(s);
            double *x = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
            double *y = sj_t_ref(s, &(sj_t_gen_t){SJ_T_COSINE, 1.0, 0.0});
            double *plain = malloc((size_t)n * sizeof(double));
            double *fused = malloc((size_t)n * sizeof(double));
            double *fused2 = malloc((size_t)n * sizeof(double));
            sj_array_t xa = NULL, ya = NULL;
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_SINE), &xa));
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_COSINE), &ya));

            /* y = alpha * x + y */
            const double alpha = 0.3;
            SJ_ASSERT_OK(sj_array_axpy(alpha, xa, ya));
            for (int64_t i = 0; i < n; i++) {
                double ax = alpha * x[i];
                plain[i] = ax + y[i];
                fused[i] = fma(alpha, x[i], y[i]);
            }
            const double *alt2[2] = {plain, fused};
            assert_int_equal(check_any(ya, alt2, 2), 0);
            /* x unchanged */
            SJ_ASSERT_ARRAY(xa, x);

            /* y = alpha * x + beta * y, from a known y */
            SJ_ASSERT_OK(sj_array_copyto(xa, ya)); /* y = x, exactly */
            const double a2 = 1.7, b2 = -0.45;
            SJ_ASSERT_OK(sj_array_axpby(a2, xa, b2, ya));
            for (int64_t i = 0; i < n; i++) {
                double ax = a2 * x[i], by = b2 * x[i];
                plain[i] = ax + by;
                fused[i] = fma(a2, x[i], by);
                fused2[i] = fma(b2, x[i], ax);
            }
            const double *alt3[3] = {plain, fused, fused2};
            assert_int_equal(check_any(ya, alt3, 3), 0);

            /* axpy with alpha = 0 leaves y; axpby with beta = 0 gives alpha x */
            SJ_ASSERT_OK(sj_array_copyto(xa, ya));
            SJ_ASSERT_OK(sj_array_axpy(0.0, xa, ya));
            SJ_ASSERT_ARRAY(ya, x);
            SJ_ASSERT_OK(sj_array_axpby(2.0, xa, 0.0, ya));
            for (int64_t i = 0; i < n; i++)
                plain[i] = 2.0 * x[i];
            SJ_ASSERT_ARRAY(ya, plain);

            free(x);
            free(y);
            free(plain);
            free(fused);
            free(fused2);
            SJ_ASSERT_OK(sj_array_destroy(&xa));
            SJ_ASSERT_OK(sj_array_destroy(&ya));
            SJ_ASSERT_OK(sj_dist_destroy(&d));
            SJ_ASSERT_OK(sj_space_destroy(&s));
        }
}

/* float32 with exactly representable data: every evaluation order is exact. */
static void test_axpy_axpby_float(void **state)
{
    for (int which = 0; which < 2; which++) {
        sj_space_t s = make_space(which, SJ_FLOAT32);
        sj_dist_t d = make_layout(s, 1);
        int64_t n = length_of(s);
        double *x = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SMALL, 1.0, 0.0});
        double *y = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
        sj_array_t xa = NULL, ya = NULL;
        SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_SMALL), &xa));
        SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &ya));
        SJ_ASSERT_OK(sj_array_axpy(0.25, xa, ya));
        for (int64_t i = 0; i < n; i++)
            y[i] = 0.25 * x[i] + y[i];
        SJ_ASSERT_ARRAY(ya, y);
        SJ_ASSERT_OK(sj_array_axpby(-2.0, xa, 0.5, ya));
        for (int64_t i = 0; i < n; i++)
            y[i] = -2.0 * x[i] + 0.5 * y[i];
        SJ_ASSERT_ARRAY(ya, y);
        SJ_ASSERT_ARRAY(xa, x);
        free(x);
        free(y);
        SJ_ASSERT_OK(sj_array_destroy(&xa));
        SJ_ASSERT_OK(sj_array_destroy(&ya));
        SJ_ASSERT_OK(sj_dist_destroy(&d));
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
}

static void test_mul(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        int kx = t == 0 ? SJ_T_SINE : SJ_T_SMALL, ky = t == 0 ? SJ_T_COSINE : SJ_T_EXACT;
        for (int which = 0; which < 2; which++) {
            sj_space_t s = make_space(which, dt);
            sj_dist_t d = make_layout(s, which);
            int64_t n = length_of(s);
            double *x = sj_t_ref(s, &(sj_t_gen_t){kx, 1.0, 0.0});
            double *y = sj_t_ref(s, &(sj_t_gen_t){ky, 1.0, 0.0});
            double *z = malloc((size_t)n * sizeof(double));
            sj_array_t xa = NULL, ya = NULL, za = NULL;
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(kx), &xa));
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(ky), &ya));
            SJ_ASSERT_OK(sj_array_similar(xa, &za));

            /* z distinct */
            SJ_ASSERT_OK(sj_array_mul(xa, ya, za));
            for (int64_t i = 0; i < n; i++)
                z[i] = as_type(x[i] * y[i], dt);
            SJ_ASSERT_ARRAY(za, z);
            SJ_ASSERT_ARRAY(xa, x);
            SJ_ASSERT_ARRAY(ya, y);

            /* z == x: x = x .* y */
            SJ_ASSERT_OK(sj_array_mul(xa, ya, xa));
            for (int64_t i = 0; i < n; i++)
                x[i] = as_type(x[i] * y[i], dt);
            SJ_ASSERT_ARRAY(xa, x);
            /* z == y: y = x .* y */
            SJ_ASSERT_OK(sj_array_mul(xa, ya, ya));
            for (int64_t i = 0; i < n; i++)
                y[i] = as_type(x[i] * y[i], dt);
            SJ_ASSERT_ARRAY(ya, y);
            /* all three the same: z = z .* z */
            SJ_ASSERT_OK(sj_array_mul(za, za, za));
            for (int64_t i = 0; i < n; i++)
                z[i] = as_type(z[i] * z[i], dt);
            SJ_ASSERT_ARRAY(za, z);

            free(x);
            free(y);
            free(z);
            SJ_ASSERT_OK(sj_array_destroy(&xa));
            SJ_ASSERT_OK(sj_array_destroy(&ya));
            SJ_ASSERT_OK(sj_array_destroy(&za));
            SJ_ASSERT_OK(sj_dist_destroy(&d));
            SJ_ASSERT_OK(sj_space_destroy(&s));
        }
    }
}

static void test_copyto(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        sj_space_t s = make_space(0, dt);
        sj_dist_t d = make_layout(s, 1);
        int64_t n = length_of(s);
        double *x = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
        double *ones = sj_t_const(n, 1.0);
        sj_array_t xa = NULL, ya = NULL;
        SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_SINE), &xa));
        SJ_ASSERT_OK(sj_array_ones(s, d, &ya));
        SJ_ASSERT_OK(sj_array_copyto(xa, ya));
        SJ_ASSERT_OK(sj_array_fill(1.0, xa)); /* ordered after the copy */
        SJ_ASSERT_ARRAY(ya, x);
        SJ_ASSERT_ARRAY(xa, ones);
        free(x);
        free(ones);
        SJ_ASSERT_OK(sj_array_destroy(&xa));
        SJ_ASSERT_OK(sj_array_destroy(&ya));
        SJ_ASSERT_OK(sj_dist_destroy(&d));
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
}

/* ---- map ----------------------------------------------------------------------- */

typedef struct map_ctx {
    double a, b;
    int32_t tag;
    char name[12];
} map_ctx_t;

static int ctx_ok(const map_ctx_t *c)
{
    return c != NULL && c->tag == 42 && strcmp(c->name, "starjets") == 0;
}

static double map0_value(int64_t g, const map_ctx_t *c)
{
    return c->a * (double)g + c->b;
}

static double map3_value(double out, double i0, double i1, double i2, const map_ctx_t *c)
{
    return i0 * c->a + i1 * i2 - out * c->b;
}

static int64_t global_index(const sj_block_info_t *blk, int64_t e)
{
    int64_t i = e % blk->dims[0], j = (e / blk->dims[0]) % blk->dims[1];
    int64_t k = e / (blk->dims[0] * blk->dims[1]);
    return (blk->lo[0] + i) + blk->gdims[0] * ((blk->lo[1] + j) + blk->gdims[1] * (blk->lo[2] + k));
}

static double get(const void *p, sj_dtype_t dt, int64_t e)
{
    return dt == SJ_FLOAT32 ? (double)((const float *)p)[e] : ((const double *)p)[e];
}

static void put(void *p, sj_dtype_t dt, int64_t e, double v)
{
    if (dt == SJ_FLOAT32)
        ((float *)p)[e] = (float)v;
    else
        ((double *)p)[e] = v;
}

static int map0(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    if (!ctx_ok(ctx))
        return 1;
    for (int64_t e = 0; e < blk->nelems; e++)
        put(out, blk->dtype, e, map0_value(global_index(blk, e), ctx));
    return 0;
}

static int map1(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    if (!ctx_ok(ctx) || in == NULL || in[0] == NULL)
        return 1;
    for (int64_t e = 0; e < blk->nelems; e++)
        put(out, blk->dtype, e, get(out, blk->dtype, e) + 2.0 * get(in[0], blk->dtype, e));
    return 0;
}

static int map3(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    if (!ctx_ok(ctx) || in == NULL || !in[0] || !in[1] || !in[2])
        return 1;
    for (int64_t e = 0; e < blk->nelems; e++) {
        double v = map3_value(get(out, blk->dtype, e), get(in[0], blk->dtype, e),
                              get(in[1], blk->dtype, e), get(in[2], blk->dtype, e), ctx);
        put(out, blk->dtype, e, v);
    }
    return 0;
}

static void test_map(void **state)
{
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        for (int which = 0; which < 2; which++) {
            sj_space_t s = make_space(which, dt);
            sj_dist_t d = make_layout(s, which);
            int64_t n = length_of(s);
            map_ctx_t ctx = {0.5, -3.0, 42, "starjets"};
            sj_array_t out = NULL, a = NULL, b = NULL, c = NULL;
            SJ_ASSERT_OK(sj_array_filled(s, d, 9.0, &out));
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &a));
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_SMALL), &b));
            SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_RAMP), &c));
            double *ra = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
            double *rb = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SMALL, 1.0, 0.0});
            double *rc = sj_t_ref(s, &(sj_t_gen_t){SJ_T_RAMP, 1.0, 0.0});
            double *ref = malloc((size_t)n * sizeof(double));

            /* no input; the ctx is copied at submission */
            SJ_ASSERT_OK(sj_array_map(0, NULL, out, map0, &ctx, sizeof ctx));
            map_ctx_t orig = ctx;
            ctx.a = 100.0;
            ctx.tag = 0;
            SJ_ASSERT_OK(sj_wait());
            ctx = orig;
            for (int64_t g = 0; g < n; g++)
                ref[g] = as_type(map0_value(g, &ctx), dt);
            SJ_ASSERT_ARRAY(out, ref);

            /* one input, out updated in place */
            sj_array_t in1[1] = {a};
            SJ_ASSERT_OK(sj_array_map(1, in1, out, map1, &ctx, sizeof ctx));
            for (int64_t g = 0; g < n; g++)
                ref[g] = as_type(ref[g] + 2.0 * ra[g], dt);
            SJ_ASSERT_ARRAY(out, ref);

            /* three inputs, one of them twice */
            sj_array_t in3[3] = {a, b, c};
            SJ_ASSERT_OK(sj_array_map(3, in3, out, map3, &ctx, sizeof ctx));
            for (int64_t g = 0; g < n; g++)
                ref[g] = as_type(map3_value(ref[g], ra[g], rb[g], rc[g], &ctx), dt);
            SJ_ASSERT_ARRAY(out, ref);
            sj_array_t in3b[3] = {b, b, a};
            SJ_ASSERT_OK(sj_array_map(3, in3b, out, map3, &ctx, sizeof ctx));
            for (int64_t g = 0; g < n; g++)
                ref[g] = as_type(map3_value(ref[g], rb[g], rb[g], ra[g], &ctx), dt);
            SJ_ASSERT_ARRAY(out, ref);
            /* inputs untouched */
            SJ_ASSERT_ARRAY(a, ra);
            SJ_ASSERT_ARRAY(b, rb);
            SJ_ASSERT_ARRAY(c, rc);

            free(ra);
            free(rb);
            free(rc);
            free(ref);
            SJ_ASSERT_OK(sj_array_destroy(&out));
            SJ_ASSERT_OK(sj_array_destroy(&a));
            SJ_ASSERT_OK(sj_array_destroy(&b));
            SJ_ASSERT_OK(sj_array_destroy(&c));
            SJ_ASSERT_OK(sj_dist_destroy(&d));
            SJ_ASSERT_OK(sj_space_destroy(&s));
        }
    }
}

/*
 * sj_array_map_kernel: a named kernel (with a CUDA version that a CPU-only
 * run never calls) computes what sj_array_map computes; bad kernels are
 * refused with nothing submitted.
 */
static int never_called(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)blk;
    (void)out;
    (void)in;
    (void)ctx;
    return 99;
}

static void test_map_kernel(void **state)
{
    (void)state;
    sj_space_t s = make_space(1, SJ_FLOAT64);
    sj_dist_t d = make_layout(s, 1);
    int64_t n = length_of(s);
    map_ctx_t ctx = {0.5, -3.0, 42, "starjets"};
    sj_array_t out = NULL, a = NULL;
    SJ_ASSERT_OK(sj_array_filled(s, d, 9.0, &out));
    SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_EXACT), &a));
    double *ra = sj_t_ref(s, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
    double *ref = malloc((size_t)n * sizeof(double));
    const int on_gpu = sj_ncuda_workers() > 0;
    const sj_block_kernel_t k = {"twice_in", map1, on_gpu ? NULL : never_called};
    sj_array_t in1[1] = {a};
    SJ_ASSERT_OK(sj_array_map_kernel(1, in1, out, &k, &ctx, sizeof ctx));
    SJ_ASSERT_OK(sj_array_map_kernel(1, in1, out, &k, &ctx, sizeof ctx)); /* the same variant */
    for (int64_t g = 0; g < n; g++)
        ref[g] = 9.0 + 4.0 * ra[g];
    SJ_ASSERT_ARRAY(out, ref);
    /* bad kernels */
    sj_block_kernel_t bad = k;
    SJ_ASSERT_ERR(sj_array_map_kernel(1, in1, out, NULL, &ctx, sizeof ctx), SJ_ENULL);
    bad.name = NULL;
    SJ_ASSERT_ERR(sj_array_map_kernel(1, in1, out, &bad, &ctx, sizeof ctx), SJ_ENULL);
    bad.name = "has space";
    SJ_ASSERT_ERR(sj_array_map_kernel(1, in1, out, &bad, &ctx, sizeof ctx), SJ_EINVAL);
    bad.name = "a_name_that_is_longer_than_31_chars";
    SJ_ASSERT_ERR(sj_array_map_kernel(1, in1, out, &bad, &ctx, sizeof ctx), SJ_EINVAL);
    bad.name = "ok";
    bad.cpu = NULL;
    SJ_ASSERT_ERR(sj_array_map_kernel(1, in1, out, &bad, &ctx, sizeof ctx), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_map_kernel(1, in1, out, &k, NULL, 8), SJ_ENULL);
    SJ_ASSERT_ARRAY(out, ref); /* nothing ran */
    free(ra);
    free(ref);
    SJ_ASSERT_OK(sj_array_destroy(&out));
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/*
 * ctx_size 0: ctx is the caller's pointer as is, NULL or not. Writes base +
 * 1000 * block + local index, base = *ctx (0 without a context).
 */
static int block_stamp(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    const double base = ctx ? *(const double *)ctx : 0.0;
    for (int64_t e = 0; e < blk->nelems; e++)
        put(out, blk->dtype, e, base + 1000.0 * blk->block + (double)e);
    return 0;
}

static void test_map_without_ctx(void **state)
{
    sj_space_t s = make_space(1, SJ_FLOAT64);
    sj_dist_t d = make_layout(s, 1);
    int64_t n = length_of(s), gd[3];
    sj_t_gdims(s, gd, NULL);
    int total = 0;
    SJ_ASSERT_OK(sj_space_blocks(s, NULL, &total));
    double *ref = malloc((size_t)n * sizeof(double));
    for (int b = 0; b < total; b++) {
        int64_t lo[2], hi[2], e = 0;
        SJ_ASSERT_OK(sj_space_block_range(s, b, lo, hi));
        for (int64_t j = lo[1]; j < hi[1]; j++)
            for (int64_t i = lo[0]; i < hi[0]; i++)
                ref[i + gd[0] * j] = 1000.0 * b + (double)e++;
    }
    sj_array_t a = NULL, c = NULL;
    SJ_ASSERT_OK(sj_array_zeros(s, d, &a));
    SJ_ASSERT_OK(sj_array_map(0, NULL, a, block_stamp, NULL, 0));
    SJ_ASSERT_ARRAY(a, ref);
    SJ_ASSERT_OK(sj_array_create_init(s, d, block_stamp, NULL, 0, &c));
    SJ_ASSERT_ARRAY(c, ref);
    /* a pointer with ctx_size 0 reaches the function as is (valid until the wait) */
    const double base = 0.5;
    for (int64_t i = 0; i < n; i++)
        ref[i] += base;
    SJ_ASSERT_OK(sj_array_map(0, NULL, a, block_stamp, &base, 0));
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_ARRAY(a, ref);
    free(ref);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&c));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- user errors ------------------------------------------------------------------ */

static int fail_block(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    const int only = *(const int *)ctx; /* -1: every block */
    if (only < 0 || blk->block == only)
        return 7;
    for (int64_t e = 0; e < blk->nelems; e++)
        put(out, blk->dtype, e, 5.0);
    return 0;
}

static void check_user_error(int only)
{
    sj_space_t s = make_space(0, SJ_FLOAT64);
    sj_array_t x = NULL;
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &x));
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_array_map(0, NULL, x, fail_block, &only, sizeof only));
    sj_clear_error();
    int rc = sj_wait();
    if (rc != SJ_EUSER)
        print_error("rank %d: sj_wait after a failing map returned %s, expected SJ_EUSER\n",
                    sj_rank(), sj_err_name(rc));
    assert_int_equal(rc, SJ_EUSER);
    assert_true(strlen(sj_last_error()) > 0);
    /* reported once */
    SJ_ASSERT_OK(sj_wait());
    /* the array is still usable */
    int64_t n = length_of(s);
    double *ones = sj_t_const(n, 1.0);
    SJ_ASSERT_OK(sj_array_fill(1.0, x));
    SJ_ASSERT_ARRAY(x, ones);
    free(ones);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_user_error_every_block(void **state)
{
    check_user_error(-1);
}

/* Only the owner of block 0 sees the failure; the collective sj_wait() reports it everywhere. */
static void test_user_error_one_block(void **state)
{
    check_user_error(0);
}

/* A blocking reduction reports the failed tasks before it on every rank (the
 * counts travel in its own gather), once, and the next one succeeds. */
static void test_user_error_blocking_reduction(void **state)
{
    (void)state;
    sj_space_t s = make_space(0, SJ_FLOAT64);
    sj_array_t x = NULL;
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &x));
    const int only = 0; /* block 0, on rank 0 */
    SJ_ASSERT_OK(sj_array_map(0, NULL, x, fail_block, &only, sizeof only));
    sj_clear_error();
    double v = 0;
    int rc = sj_array_sum(x, &v);
    assert_int_equal(rc, SJ_EUSER);
    if (sj_rank() == 0)
        assert_non_null(strstr(sj_last_error(), "failed on rank 0; first:"));
    else
        assert_non_null(strstr(sj_last_error(), "failed on other ranks"));
    assert_non_null(strstr(sj_last_error(), "sj_array_sum"));
    SJ_ASSERT_OK(sj_array_fill(1.0, x));
    SJ_ASSERT_OK(sj_array_sum(x, &v));
    assert_true(v == (double)length_of(s));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- bad input ---------------------------------------------------------------------- */

typedef struct pair {
    sj_space_t s;
    sj_array_t x, y;
    double *rx, *ry;
} pair_t;

static pair_t make_pair(void)
{
    pair_t p;
    p.s = make_space(0, SJ_FLOAT64);
    p.rx = sj_t_ref(p.s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
    p.ry = sj_t_ref(p.s, &(sj_t_gen_t){SJ_T_COSINE, 1.0, 0.0});
    p.x = p.y = NULL;
    SJ_ASSERT_OK(sj_t_make(p.s, NULL, sj_t_gen(SJ_T_SINE), &p.x));
    SJ_ASSERT_OK(sj_t_make(p.s, NULL, sj_t_gen(SJ_T_COSINE), &p.y));
    return p;
}

static void check_and_free_pair(pair_t *p)
{
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_ARRAY(p->x, p->rx);
    SJ_ASSERT_ARRAY(p->y, p->ry);
    SJ_ASSERT_OK(sj_array_destroy(&p->x));
    SJ_ASSERT_OK(sj_array_destroy(&p->y));
    SJ_ASSERT_OK(sj_space_destroy(&p->s));
    free(p->rx);
    free(p->ry);
}

/* Every binary operation refuses @p other against p->x / p->y with @p code. */
static void refuse_all(pair_t *p, sj_array_t other, int code)
{
    SJ_ASSERT_ERR(sj_array_axpy(1.0, other, p->y), code);
    SJ_ASSERT_ERR(sj_array_axpy(1.0, p->x, other), code);
    SJ_ASSERT_ERR(sj_array_axpby(1.0, other, 2.0, p->y), code);
    SJ_ASSERT_ERR(sj_array_axpby(1.0, p->x, 2.0, other), code);
    SJ_ASSERT_ERR(sj_array_mul(other, p->y, p->x), code);
    SJ_ASSERT_ERR(sj_array_mul(p->y, other, p->x), code);
    SJ_ASSERT_ERR(sj_array_mul(p->x, p->y, other), code);
    SJ_ASSERT_ERR(sj_array_copyto(other, p->y), code);
    SJ_ASSERT_ERR(sj_array_copyto(p->x, other), code);
    sj_array_t in[1] = {other};
    SJ_ASSERT_ERR(sj_array_map(1, in, p->x, map1, NULL, 0), code);
}

static void test_bad_different_spaces(void **state)
{
    pair_t p = make_pair();
    /* same length (1001), other cuts */
    const int64_t other_sizes[7] = {143, 2, 299, 77, 155, 200, 125};
    sj_space_t s2 = NULL, s3 = NULL;
    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 7, other_sizes, &s2));
    int64_t dims[1] = {1002};
    int nb[1] = {7};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, nb, &s3));
    sj_array_t o2 = NULL, o3 = NULL;
    SJ_ASSERT_OK(sj_array_ones(s2, NULL, &o2));
    SJ_ASSERT_OK(sj_array_ones(s3, NULL, &o3));
    refuse_all(&p, o2, SJ_EMISMATCH);
    refuse_all(&p, o3, SJ_EMISMATCH);
    SJ_ASSERT_OK(sj_array_destroy(&o2));
    SJ_ASSERT_OK(sj_array_destroy(&o3));
    SJ_ASSERT_OK(sj_space_destroy(&s2));
    SJ_ASSERT_OK(sj_space_destroy(&s3));
    check_and_free_pair(&p);
}

static void test_bad_different_layouts(void **state)
{
    const int n = sj_nranks();
    pair_t p = make_pair();
    if (n >= 2) {
        /* 7 blocks: contiguous (default) and cyclic differ for 2..4 ranks */
        int nb[1] = {7};
        sj_dist_t cyc = NULL;
        SJ_ASSERT_OK(sj_dist_create_cyclic(1, nb, n, 1, NULL, &cyc));
        sj_array_t o = NULL;
        SJ_ASSERT_OK(sj_array_ones(p.s, cyc, &o));
        refuse_all(&p, o, SJ_EMISMATCH);
        SJ_ASSERT_OK(sj_array_destroy(&o));
        SJ_ASSERT_OK(sj_dist_destroy(&cyc));
    } else {
        /* one rank: every layout is the same; a different block grid is not */
        const int64_t sizes[1] = {1001};
        sj_space_t s1 = NULL;
        SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 1, sizes, &s1));
        sj_array_t o = NULL;
        SJ_ASSERT_OK(sj_array_ones(s1, NULL, &o));
        refuse_all(&p, o, SJ_EMISMATCH);
        SJ_ASSERT_OK(sj_array_destroy(&o));
        SJ_ASSERT_OK(sj_space_destroy(&s1));
    }
    check_and_free_pair(&p);
}

static void test_bad_mixed_types(void **state)
{
    pair_t p = make_pair();
    sj_space_t s32 = make_space(0, SJ_FLOAT32);
    sj_array_t o = NULL;
    SJ_ASSERT_OK(sj_array_ones(s32, NULL, &o));
    refuse_all(&p, o, SJ_EMISMATCH);
    SJ_ASSERT_OK(sj_array_destroy(&o));
    SJ_ASSERT_OK(sj_space_destroy(&s32));
    check_and_free_pair(&p);
}

static void test_bad_null_arrays(void **state)
{
    pair_t p = make_pair();
    refuse_all(&p, NULL, SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_fill(1.0, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_scale(1.0, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_map(0, NULL, NULL, map0, NULL, 0), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_map(0, NULL, p.x, NULL, NULL, 0), SJ_ENULL);
    check_and_free_pair(&p);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_scale),
        cmocka_unit_test(test_axpy_axpby_double),
        cmocka_unit_test(test_axpy_axpby_float),
        cmocka_unit_test(test_mul),
        cmocka_unit_test(test_copyto),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_map_without_ctx),
        cmocka_unit_test(test_map_kernel),
        cmocka_unit_test(test_user_error_every_block),
        cmocka_unit_test(test_user_error_one_block),
        cmocka_unit_test(test_user_error_blocking_reduction),
        cmocka_unit_test(test_bad_different_spaces),
        cmocka_unit_test(test_bad_different_layouts),
        cmocka_unit_test(test_bad_mixed_types),
        cmocka_unit_test(test_bad_null_arrays),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "algebra");
}
