/*
 * Handles that cannot be misused silently: a destroyed handle (a copy kept
 * after its destroy), a handle of another kind, a garbage pointer and a freed
 * pointer, passed to local queries, collective calls and destroys, are each
 * SJ_EHANDLE with a sentence on every rank (every rank makes the same
 * mistake, as an SPMD program does), never a read through the pointer (ASan
 * and valgrind would see one), and the runtime goes on working. Handles
 * borrowed from queries stay valid while their object lives.
 */
#include "sj_test.h"

static sj_space_t space_of(int64_t n, int nb)
{
    sj_space_t s;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){nb}, &s));
    return s;
}

/* After the bad calls: the runtime still computes, and agrees. */
static void still_works(void)
{
    sj_space_t s = space_of(100, 4);
    sj_array_t x;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &x));
    double v = 0;
    SJ_ASSERT_OK(sj_array_dot(x, x, &v));
    assert_true(v == 100.0);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_destroyed_array(void **state)
{
    (void)state;
    sj_space_t s = space_of(64, 4);
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &x));
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &y));
    sj_array_t stale = x;
    SJ_ASSERT_OK(sj_array_destroy(&x));
    assert_null(x);
    double v;
    sj_space_t got;
    SJ_ASSERT_ERR(sj_array_fill(1.0, stale), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_dot(stale, y, &v), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_dot(y, stale, &v), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_axpy(2.0, stale, y), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_space(stale, &got), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_gather(stale, 0, NULL), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_destroy(&stale), SJ_EHANDLE);
    assert_non_null(stale); /* a refused destroy leaves the variable alone */
    assert_true(strstr(sj_last_error(), "not a live starjets array") != NULL);
    /* y was not touched by any of it */
    SJ_ASSERT_OK(sj_array_sum(y, &v));
    assert_true(v == 64.0);
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    still_works();
}

/* A new object never takes a destroyed one's address while the quarantine holds it. */
static void test_reused_address(void **state)
{
    (void)state;
    sj_space_t s = space_of(16, 2);
    sj_array_t a;
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &a));
    sj_array_t stale = a;
    SJ_ASSERT_OK(sj_array_destroy(&a));
    sj_array_t fresh[32];
    for (int i = 0; i < 32; i++) {
        SJ_ASSERT_OK(sj_array_ones(s, NULL, &fresh[i]));
        assert_ptr_not_equal(fresh[i], stale);
    }
    SJ_ASSERT_ERR(sj_array_scale(2.0, stale), SJ_EHANDLE);
    for (int i = 0; i < 32; i++)
        SJ_ASSERT_OK(sj_array_destroy(&fresh[i]));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_wrong_kind(void **state)
{
    (void)state;
    sj_space_t s = space_of(32, 2);
    sj_dist_t d;
    SJ_ASSERT_OK(sj_dist_create_default(s, &d));
    sj_array_t x;
    SJ_ASSERT_OK(sj_array_ones(s, d, &x));
    double v;
    int64_t len;
    sj_array_t z = NULL;
    SJ_ASSERT_ERR(sj_array_sum((sj_array_t)(void *)s, &v), SJ_EHANDLE);
    assert_true(strstr(sj_last_error(), "is a space, not an array") != NULL);
    SJ_ASSERT_ERR(sj_space_length((sj_space_t)(void *)x, &len), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_array_zeros((sj_space_t)(void *)d, NULL, &z), SJ_EHANDLE);
    assert_null(z);
    SJ_ASSERT_ERR(sj_array_zeros(s, (sj_dist_t)(void *)s, &z), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_op_apply((sj_op_t)(void *)x, x, x), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_dist_destroy((sj_dist_t *)(void *)&s), SJ_EHANDLE);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    still_works();
}

/* The address of a heap block already given back (as a number: never read). */
__attribute__((noinline)) static uintptr_t freed_address(void)
{
    void *mem = malloc(256);
    assert_non_null(mem);
    uintptr_t at = (uintptr_t)mem;
    free(mem);
    return at;
}

/* Pointers starjets never made: on the stack, freed heap memory. Never read. */
static void test_garbage(void **state)
{
    (void)state;
    unsigned char junk[512];
    memset(junk, 0xA5, sizeof junk);
    void *freed = (void *)freed_address();
    void *bad[2] = {junk, freed};
    sj_space_t s = space_of(8, 1);
    sj_array_t ok;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &ok));
    for (int k = 0; k < 2; k++) {
        double v;
        int64_t len;
        sj_array_t z = NULL;
        sj_scalar_t c = NULL;
        SJ_ASSERT_ERR(sj_array_norm(SJ_NORM_2, (sj_array_t)bad[k], &v), SJ_EHANDLE);
        SJ_ASSERT_ERR(sj_array_copyto(ok, (sj_array_t)bad[k]), SJ_EHANDLE);
        SJ_ASSERT_ERR(sj_space_length((sj_space_t)bad[k], &len), SJ_EHANDLE);
        SJ_ASSERT_ERR(sj_array_zeros((sj_space_t)bad[k], NULL, &z), SJ_EHANDLE);
        SJ_ASSERT_ERR(sj_scalar_value((sj_scalar_t)bad[k], &v), SJ_EHANDLE);
        SJ_ASSERT_ERR(sj_scalar_binary(SJ_SCALAR_ADD, (sj_scalar_t)bad[k], (sj_scalar_t)bad[k], &c),
                      SJ_EHANDLE);
        SJ_ASSERT_ERR(sj_array_scale_scalar(1.0, (sj_scalar_t)bad[k], ok), SJ_EHANDLE);
        SJ_ASSERT_ERR(sj_op_apply((sj_op_t)bad[k], ok, ok), SJ_EHANDLE);
        SJ_ASSERT_ERR(sj_spmd_size((sj_spmd_context_t)bad[k]), SJ_EHANDLE);
        SJ_ASSERT_ERR(sj_future_wait((sj_future_t)bad[k]), SJ_EHANDLE);
        sj_array_t victim = (sj_array_t)bad[k];
        SJ_ASSERT_ERR(sj_array_destroy(&victim), SJ_EHANDLE);
    }
    for (size_t i = 0; i < sizeof junk; i++) /* nothing wrote through the pointer */
        assert_int_equal(junk[i], 0xA5);
    SJ_ASSERT_OK(sj_array_destroy(&ok));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    still_works();
}

/* Spaces and layouts destroyed while nothing uses them; borrowed ones while something does. */
static void test_space_and_dist(void **state)
{
    (void)state;
    sj_space_t s = space_of(40, 4);
    sj_dist_t d;
    SJ_ASSERT_OK(sj_dist_create_default(s, &d));
    sj_space_t stale_s = s;
    sj_dist_t stale_d = d;
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    sj_array_t z = NULL;
    int nb[1], total;
    int owner;
    SJ_ASSERT_ERR(sj_array_zeros(stale_s, NULL, &z), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_space_blocks(stale_s, nb, &total), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_dist_owner(stale_d, 0, &owner), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_space_destroy(&stale_s), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_dist_destroy(&stale_d), SJ_EHANDLE);

    /* borrowed: the array keeps its space alive after the user's destroy */
    s = space_of(40, 4);
    sj_array_t a;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &a));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    sj_space_t borrowed;
    SJ_ASSERT_OK(sj_array_space(a, &borrowed));
    sj_array_t b;
    SJ_ASSERT_OK(sj_array_zeros(borrowed, NULL, &b));
    int64_t len;
    SJ_ASSERT_OK(sj_space_length(borrowed, &len));
    assert_int_equal(len, 40);
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_array_destroy(&a));
    /* now the space is gone too */
    SJ_ASSERT_ERR(sj_space_length(borrowed, &len), SJ_EHANDLE);
    still_works();
}

static void test_scalar_op_blocks(void **state)
{
    (void)state;
    const int np = sj_t_nranks();
    sj_space_t s = space_of(12, 1);
    sj_scalar_t c;
    SJ_ASSERT_OK(sj_scalar_create(3.0, &c));
    sj_scalar_t stale_c = c;
    SJ_ASSERT_OK(sj_scalar_destroy(&c));
    double v;
    SJ_ASSERT_ERR(sj_scalar_value(stale_c, &v), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_scalar_destroy(&stale_c), SJ_EHANDLE);

    sj_op_t I;
    SJ_ASSERT_OK(sj_op_identity(s, np - 1, &I));
    sj_op_t stale_op = I;
    SJ_ASSERT_OK(sj_op_destroy(&I));
    sj_array_t x;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &x));
    char buf[64];
    SJ_ASSERT_ERR(sj_op_apply(stale_op, x, x), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_op_describe(stale_op, buf, sizeof buf), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_op_destroy(&stale_op), SJ_EHANDLE);

    /* a destroyed block among the blocks of a block operator */
    sj_op_t b0, b1;
    SJ_ASSERT_OK(sj_op_identity(s, 0, &b0));
    SJ_ASSERT_OK(sj_op_identity(s, 0, &b1));
    sj_op_t blocks[2] = {b0, b1};
    SJ_ASSERT_OK(sj_op_destroy(&b1));
    sj_op_t A = NULL;
    SJ_ASSERT_ERR(sj_op_block_diag(2, blocks, NULL, &A), SJ_EHANDLE);
    assert_null(A);
    assert_true(strstr(sj_last_error(), "block (1, 1)") != NULL);
    SJ_ASSERT_OK(sj_op_destroy(&b0));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    still_works();
}

static int ring_fn(sj_spmd_context_t ctx, void *arg)
{
    (void)arg;
    return sj_spmd_size(ctx) >= 1 ? 0 : -1;
}

static int remote_fn(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    (void)arg;
    (void)arg_size;
    (void)out;
    (void)out_size;
    return 0;
}

static void test_context_future(void **state)
{
    (void)state;
    sj_spmd_context_t ctx;
    SJ_ASSERT_OK(sj_spmd_context_create(0, NULL, &ctx));
    SJ_ASSERT_OK(sj_spmd_run(ctx, ring_fn, NULL));
    SJ_ASSERT_OK(sj_spmd_run(NULL, ring_fn, NULL)); /* the temporary context is a live handle */
    sj_spmd_context_t stale = ctx;
    SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx));
    SJ_ASSERT_ERR(sj_spmd_run(stale, ring_fn, NULL), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_spmd_context_destroy(&stale), SJ_EHANDLE);

    sj_future_t f;
    SJ_ASSERT_OK(sj_spawn(0, remote_fn, NULL, 0, 0, &f));
    SJ_ASSERT_OK(sj_future_wait(f));
    sj_future_t stale_f = f;
    SJ_ASSERT_OK(sj_future_destroy(&f));
    SJ_ASSERT_ERR(sj_future_wait(stale_f), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_future_fetch(stale_f, 0, NULL), SJ_EHANDLE);
    SJ_ASSERT_ERR(sj_future_destroy(&stale_f), SJ_EHANDLE);
    still_works();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_destroyed_array), cmocka_unit_test(test_reused_address),
        cmocka_unit_test(test_wrong_kind),      cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_space_and_dist),  cmocka_unit_test(test_scalar_op_blocks),
        cmocka_unit_test(test_context_future),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "handles");
}
