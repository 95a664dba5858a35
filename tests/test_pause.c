// sj-test: nprocs=1,2,3,4
/*
 * sj_pause / sj_resume: while paused, calls that submit or wait are refused
 * with SJ_ESTATE and leave nothing behind, local calls work, and after
 * sj_resume the same calls give the serial reference; a second pause, a
 * resume without a pause and a pause inside an SPMD run are refused;
 * sj_finalize resumes a rank that is still paused (main).
 */
#include "sj_test.h"

static void test_pause_resume(void **state)
{
    (void)state;
    sj_space_t s = NULL;
    sj_array_t x = NULL, y = NULL;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){1000}, (int[]){6}, &s));
    SJ_ASSERT_OK(sj_array_filled(s, NULL, 2.0, &x));
    for (int round = 0; round < 3; round++) {
        SJ_ASSERT_OK(sj_pause());
        double v = 0;
        SJ_ASSERT_ERR(sj_array_fill(5.0, x), SJ_ESTATE);
        assert_non_null(strstr(sj_last_error(), "paused"));
        SJ_ASSERT_ERR(sj_array_sum(x, &v), SJ_ESTATE);
        SJ_ASSERT_ERR(sj_wait(), SJ_ESTATE);
        SJ_ASSERT_ERR(sj_array_zeros(s, NULL, &y), SJ_ESTATE);
        assert_null(y);
        SJ_ASSERT_ERR(sj_pause(), SJ_ESTATE);
        /* local calls work: the blocks this rank owns, and their memory */
        int count = 0;
        const int *blocks = NULL;
        SJ_ASSERT_OK(sj_array_local_blocks(x, &count, &blocks));
        for (int k = 0; k < count; k++) {
            void *p = NULL;
            SJ_ASSERT_OK(sj_array_localpart_get(x, blocks[k], &p));
            assert_true(((double *)p)[0] == 2.0 + round);
            SJ_ASSERT_OK(sj_array_localpart_restore(x, blocks[k], &p));
        }
        SJ_ASSERT_OK(sj_resume());
        SJ_ASSERT_ERR(sj_resume(), SJ_ESTATE);
        SJ_ASSERT_OK(sj_array_sum(x, &v));
        assert_true(v == 1000.0 * (2.0 + round));
        SJ_ASSERT_OK(sj_array_fill(3.0 + round, x)); /* the next round's value */
    }
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static int pause_in_run(sj_spmd_context_t context, void *arg)
{
    (void)context;
    int *bad = arg;
    *bad += sj_pause() != SJ_ESTATE;
    *bad += sj_resume() != SJ_ESTATE;
    return 0;
}

static void test_pause_in_run(void **state)
{
    (void)state;
    int bad = 0;
    SJ_ASSERT_OK(sj_spmd_run(NULL, pause_in_run, &bad));
    assert_int_equal(bad, 0);
}

int main(void)
{
    if (sj_pause() != SJ_ESTATE || sj_resume() != SJ_ESTATE) {
        fprintf(stderr, "sj_pause / sj_resume before sj_init: expected SJ_ESTATE\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_pause_in_run),
    };
    int rc = sj_init(NULL, NULL, NULL);
    if (rc != SJ_OK)
        return 1;
    int failures = cmocka_run_group_tests(tests, NULL, NULL);
    /* sj_finalize resumes a rank left paused */
    if (sj_pause() != SJ_OK || sj_finalize() != SJ_OK) {
        fprintf(stderr, "sj_finalize of a paused rank failed: %s\n", sj_last_error());
        return 1;
    }
    return failures != 0;
}
