/*
 * Helpers shared by the CMocka tests: error assertions, the test driver, and a
 * serial reference (values that are a function of the global index, built by
 * the same code in the test and, through sj_array_create_init(), on the
 * owners of the blocks).
 *
 * Every rank runs every test and makes the same collective calls; only the
 * checks of gathered data happen on the root.
 */
#ifndef SJ_TEST_H
#define SJ_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

/* ---- assertions -------------------------------------------------------- */

/** Fails the test when @p expr does not return 0, printing the error. */
#define SJ_ASSERT_OK(expr)                                                                         \
    do {                                                                                           \
        int sj_rc_ = (expr);                                                                       \
        if (sj_rc_ != 0) {                                                                         \
            print_error("%s returned %d (%s): %s\n", #expr, sj_rc_, sj_err_name(sj_rc_),           \
                        sj_last_error());                                                          \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

/* The public function a call expression names: its leading identifier. */
static inline void sj_t_callee(const char *expr, char *name, size_t size)
{
    size_t n = 0;
    while (*expr == ' ' || *expr == '(')
        expr++;
    while (n + 1 < size &&
           (expr[n] == '_' || (expr[n] >= 'a' && expr[n] <= 'z') ||
            (expr[n] >= 'A' && expr[n] <= 'Z') || (expr[n] >= '0' && expr[n] <= '9'))) {
        name[n] = expr[n];
        n++;
    }
    name[n] = '\0';
}

/* rc must be code1 or code2, and the last error must name the callee. */
static inline int sj_t_err_ok(int rc, int code1, int code2, const char *expr)
{
    char name[128];
    const char *msg = sj_last_error();
    sj_t_callee(expr, name, sizeof name);
    if (rc != code1 && rc != code2) {
        print_error("%s returned %d (%s), expected %s%s%s; last error: \"%s\"\n", expr, rc,
                    sj_err_name(rc), sj_err_name(code1), code1 == code2 ? "" : " or ",
                    code1 == code2 ? "" : sj_err_name(code2), msg ? msg : "(NULL)");
        return 0;
    }
    if (msg == NULL || msg[0] == '\0') {
        print_error("%s returned %s but sj_last_error() is empty\n", expr, sj_err_name(rc));
        return 0;
    }
    if (strstr(msg, name) == NULL) {
        print_error("%s: sj_last_error() does not name %s: \"%s\"\n", expr, name, msg);
        return 0;
    }
    return 1;
}

/**
 * Checks that @p expr returns exactly @p code and leaves a sentence that names
 * the function called (the leading identifier of @p expr).
 */
#define SJ_ASSERT_ERR(expr, code)                                                                  \
    do {                                                                                           \
        sj_clear_error();                                                                          \
        int sj_rc_ = (expr);                                                                       \
        if (!sj_t_err_ok(sj_rc_, (code), (code), #expr))                                           \
            _fail(__FILE__, __LINE__);                                                             \
    } while (0)

/** Same, where the contract allows either of two codes. */
#define SJ_ASSERT_ERR2(expr, code1, code2)                                                         \
    do {                                                                                           \
        sj_clear_error();                                                                          \
        int sj_rc_ = (expr);                                                                       \
        if (!sj_t_err_ok(sj_rc_, (code1), (code2), #expr))                                         \
            _fail(__FILE__, __LINE__);                                                             \
    } while (0)

/* ---- driver ------------------------------------------------------------ */

/**
 * Starts starjets, runs the group, stops starjets. Returns 0 when every test
 * passed on this rank (mpiexec fails when any rank returns non-zero).
 */
static inline int sj_test_main(const struct CMUnitTest *tests, size_t n, const char *group)
{
    int rc = sj_init(NULL, NULL, NULL);
    if (rc != 0) {
        fprintf(stderr, "%s: sj_init failed: %s: %s\n", group, sj_err_name(rc), sj_last_error());
        return 1;
    }
    const char *filter = getenv("SJ_TEST_FILTER"); /* run the tests matching a pattern */
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    int failures = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    rc = sj_finalize();
    if (rc != 0) {
        fprintf(stderr, "%s: sj_finalize failed: %s: %s\n", group, sj_err_name(rc),
                sj_last_error());
        return 1;
    }
    return failures != 0; /* never 77 (= skipped) by accident */
}

static inline int sj_t_rank(void)
{
    return sj_rank();
}

static inline int sj_t_nranks(void)
{
    return sj_nranks();
}

/* ---- serial reference -------------------------------------------------- */

/** Kinds of value, as a function of the global index (see sj_t_value()). */
enum sj_t_kind {
    SJ_T_EXACT = 0,  /* 0.5 + i + 64 j + 4096 k: exact in float32 for small shapes */
    SJ_T_SINE = 1,   /* sin(0.37 g + 0.1) * (1 + g mod 7): signs mixed, inexact */
    SJ_T_COSINE = 2, /* cos(0.11 g) * 3 - 0.25 */
    SJ_T_SMALL = 3,  /* (7 g mod 17) - 8 + 0.5: exact, small */
    SJ_T_RAMP = 4,   /* g + 1 */
};

/** What sj_t_init() computes; passed as the ctx bytes of sj_array_create_init(). */
typedef struct sj_t_gen {
    int kind;      /**< an sj_t_kind */
    double scale;  /**< value = scale * f + offset */
    double offset; /**< value = scale * f + offset */
} sj_t_gen_t;

static inline sj_t_gen_t sj_t_gen(int kind)
{
    sj_t_gen_t g = {kind, 1.0, 0.0};
    return g;
}

/** The value of global element (c[0], c[1], c[2]), column-major linear index g. */
static inline double sj_t_value(const sj_t_gen_t *gen, int64_t g, const int64_t c[3])
{
    double f;
    switch (gen->kind) {
    case SJ_T_EXACT:
        f = 0.5 + (double)c[0] + 64.0 * (double)c[1] + 4096.0 * (double)c[2];
        break;
    case SJ_T_SINE:
        f = sin(0.37 * (double)g + 0.1) * (double)(1 + g % 7);
        break;
    case SJ_T_COSINE:
        f = cos(0.11 * (double)g) * 3.0 - 0.25;
        break;
    case SJ_T_SMALL:
        f = (double)((7 * g) % 17) - 8.0 + 0.5;
        break;
    default:
        f = (double)g + 1.0;
        break;
    }
    return gen->scale * f + gen->offset;
}

/** Column-major linear index -> coordinates in a shape of 3 dims (1 for unused). */
static inline void sj_t_coords(int64_t g, const int64_t gdims[3], int64_t c[3])
{
    c[0] = g % gdims[0];
    c[1] = (g / gdims[0]) % gdims[1];
    c[2] = g / (gdims[0] * gdims[1]);
}

/** Global shape of a space padded with 1s to 3 dims; returns the length. */
static inline int64_t sj_t_gdims(sj_space_t space, int64_t gdims[3], sj_dtype_t *dtype)
{
    int ndims = 0;
    int64_t d[SJ_MAX_DIMS] = {1, 1, 1};
    sj_dtype_t t = SJ_FLOAT64;
    if (sj_space_shape(space, &t, &ndims, d) != 0)
        return -1;
    for (int i = 0; i < 3; i++)
        gdims[i] = i < ndims ? d[i] : 1;
    if (dtype)
        *dtype = t;
    return gdims[0] * gdims[1] * gdims[2];
}

/**
 * Block function for sj_array_create_init() and sj_array_map() with no input:
 * writes sj_t_value() of each element's global index. It also checks that the
 * block description is consistent and returns 1 when it is not.
 */
static inline int sj_t_init(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    const sj_t_gen_t *gen = (const sj_t_gen_t *)ctx;
    int64_t n = 1;
    for (int d = 0; d < 3; d++) {
        if (blk->hi[d] - blk->lo[d] != blk->dims[d] || blk->dims[d] < 1 || blk->lo[d] < 0 ||
            blk->hi[d] > blk->gdims[d])
            return 1;
        n *= blk->dims[d];
    }
    if (n != blk->nelems || out == NULL || gen == NULL)
        return 1;
    int64_t e = 0;
    for (int64_t k = 0; k < blk->dims[2]; k++)
        for (int64_t j = 0; j < blk->dims[1]; j++)
            for (int64_t i = 0; i < blk->dims[0]; i++, e++) {
                int64_t c[3] = {blk->lo[0] + i, blk->lo[1] + j, blk->lo[2] + k};
                int64_t g = c[0] + blk->gdims[0] * (c[1] + blk->gdims[1] * c[2]);
                double v = sj_t_value(gen, g, c);
                if (blk->dtype == SJ_FLOAT32)
                    ((float *)out)[e] = (float)v;
                else
                    ((double *)out)[e] = v;
            }
    return 0;
}

/** The whole array sj_t_init() makes, as doubles (rounded through float for float32). */
static inline double *sj_t_ref(sj_space_t space, const sj_t_gen_t *gen)
{
    int64_t gdims[3];
    sj_dtype_t t;
    int64_t n = sj_t_gdims(space, gdims, &t);
    double *ref = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    for (int64_t g = 0; g < n; g++) {
        int64_t c[3];
        sj_t_coords(g, gdims, c);
        double v = sj_t_value(gen, g, c);
        ref[g] = t == SJ_FLOAT32 ? (double)(float)v : v;
    }
    return ref;
}

/** sj_array_create_init() with sj_t_init(). */
static inline int sj_t_make(sj_space_t space, sj_dist_t dist, sj_t_gen_t gen, sj_array_t *array)
{
    return sj_array_create_init(space, dist, sj_t_init, &gen, sizeof gen, array);
}

/** Length and dtype of an array. */
static inline int64_t sj_t_length(sj_array_t a, sj_dtype_t *dtype)
{
    sj_space_t sp = NULL;
    int64_t gdims[3];
    if (sj_array_space(a, &sp) != 0)
        return -1;
    return sj_t_gdims(sp, gdims, dtype);
}

/**
 * Gathers @p a to @p root and returns it as doubles (collective; the contents
 * are meaningful on the root only). Returns NULL when the gather failed.
 */
static inline double *sj_t_gather(sj_array_t a, int root)
{
    sj_dtype_t t = SJ_FLOAT64;
    int64_t n = sj_t_length(a, &t);
    if (n < 0)
        return NULL;
    size_t esz = sj_dtype_size(t);
    void *raw = calloc((size_t)(n > 0 ? n : 1), esz);
    int rc = sj_array_gather(a, root, sj_rank() == root ? raw : NULL); /* NULL is fine elsewhere */
    if (rc != 0) {
        print_error("sj_array_gather to %d failed: %s: %s\n", root, sj_err_name(rc),
                    sj_last_error());
        free(raw);
        return NULL;
    }
    double *out = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    for (int64_t i = 0; i < n; i++)
        out[i] = t == SJ_FLOAT32 ? (double)((float *)raw)[i] : ((double *)raw)[i];
    free(raw);
    return out;
}

/** Number of elements where @p got and @p ref differ (bitwise-equal doubles or both NaN). */
static inline int64_t sj_t_diff(const double *got, const double *ref, int64_t n, const char *what)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (got[i] == ref[i] || (isnan(got[i]) && isnan(ref[i])))
            continue;
        if (bad < 5)
            print_error("%s: element %lld is %.17g, expected %.17g\n", what, (long long)i, got[i],
                        ref[i]);
        bad++;
    }
    return bad;
}

/**
 * Collective: gathers @p a to @p root and, on the root, counts the elements
 * that differ from @p ref. Returns -1 when the gather fails (on any rank).
 */
static inline int64_t sj_t_check(sj_array_t a, int root, const double *ref)
{
    double *got = sj_t_gather(a, root);
    if (got == NULL)
        return -1;
    int64_t bad = 0;
    if (sj_rank() == root) {
        char what[64];
        snprintf(what, sizeof what, "gather to root %d", root);
        bad = sj_t_diff(got, ref, sj_t_length(a, NULL), what);
    }
    free(got);
    return bad;
}

/** Asserts that gathering @p a to rank 0 and to the last rank both give @p ref. */
#define SJ_ASSERT_ARRAY(a, ref)                                                                    \
    do {                                                                                           \
        assert_int_equal(sj_t_check((a), 0, (ref)), 0);                                            \
        assert_int_equal(sj_t_check((a), sj_nranks() - 1, (ref)), 0);                              \
    } while (0)

/** A constant reference buffer of n doubles. */
static inline double *sj_t_const(int64_t n, double v)
{
    double *r = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    for (int64_t i = 0; i < n; i++)
        r[i] = v;
    return r;
}

/** Copies block @p block of the whole column-major @p ref into @p out (column-major). */
static inline int64_t sj_t_extract(sj_space_t space, int block, const double *ref, double *out)
{
    int64_t gdims[3], lo[SJ_MAX_DIMS] = {0, 0, 0}, hi[SJ_MAX_DIMS] = {1, 1, 1};
    sj_t_gdims(space, gdims, NULL);
    if (sj_space_block_range(space, block, lo, hi) != 0)
        return -1;
    int ndims = 0;
    sj_space_shape(space, NULL, &ndims, NULL);
    for (int d = ndims; d < 3; d++) {
        lo[d] = 0;
        hi[d] = 1;
    }
    int64_t e = 0;
    for (int64_t k = lo[2]; k < hi[2]; k++)
        for (int64_t j = lo[1]; j < hi[1]; j++)
            for (int64_t i = lo[0]; i < hi[0]; i++)
                out[e++] = ref[i + gdims[0] * (j + gdims[1] * k)];
    return e;
}

/** 64-bit FNV-1a hash of bytes. */
static inline uint64_t sj_t_fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/** The bits of a double, for exact comparisons and hex printing. */
static inline uint64_t sj_t_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/**
 * Checks the driver mode sj_stats_get() reports against the rule of sj_init
 * (docs/latency.md): never on 1 rank, with a stock StarPU or when the user
 * turned it off (@p off); on with one CPU worker per rank (no core kept for
 * the progress thread) and the patched StarPU.
 */
static inline void sj_t_check_mpi_driver(const sj_stats_t *st, int off)
{
    if (sj_nranks() == 1 || off || !st->adaptive_polling)
        assert_int_equal(st->mpi_driver, 0);
    else if (sj_ncpus() == 1)
        assert_int_equal(st->mpi_driver, 1);
    assert_true(st->mpi_driver == 0 || st->mpi_driver == 1);
}

#endif /* SJ_TEST_H */
