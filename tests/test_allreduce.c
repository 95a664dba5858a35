// sj-test: nprocs=1,2,3,4
/*
 * sj_allreduce_int64: sums, minima and maxima of one integer per rank against
 * the serial result, flags agreed with MIN/MAX, values beyond 32 bits, several
 * calls in a row, and bad input (which leaves the value alone).
 */
#include "sj_test.h"

/* A value per rank with large magnitudes and both signs. */
static int64_t value_of(int r)
{
    return (r % 2 ? -1 : 1) * ((int64_t)(r + 1) << 33) + 7 * r;
}

static void test_ops(void **state)
{
    (void)state;
    const int me = sj_rank(), np = sj_nranks();
    int64_t sum = 0, mn = INT64_MAX, mx = INT64_MIN;
    for (int r = 0; r < np; r++) {
        sum += value_of(r);
        mn = value_of(r) < mn ? value_of(r) : mn;
        mx = value_of(r) > mx ? value_of(r) : mx;
    }
    for (int round = 0; round < 3; round++) {
        int64_t v = value_of(me);
        SJ_ASSERT_OK(sj_allreduce_int64(SJ_REDUCE_SUM, &v));
        assert_true(v == sum);
        v = value_of(me);
        SJ_ASSERT_OK(sj_allreduce_int64(SJ_REDUCE_MIN, &v));
        assert_true(v == mn);
        v = value_of(me);
        SJ_ASSERT_OK(sj_allreduce_int64(SJ_REDUCE_MAX, &v));
        assert_true(v == mx);
    }
}

static void test_flags(void **state)
{
    (void)state;
    const int me = sj_rank(), np = sj_nranks();
    for (int odd = 0; odd < np; odd++) { /* rank `odd` alone disagrees */
        int64_t all = me != odd, any = me == odd;
        SJ_ASSERT_OK(sj_allreduce_int64(SJ_REDUCE_MIN, &all));
        SJ_ASSERT_OK(sj_allreduce_int64(SJ_REDUCE_MAX, &any));
        assert_true(all == 0);
        assert_true(any == 1);
    }
    int64_t all = 1;
    SJ_ASSERT_OK(sj_allreduce_int64(SJ_REDUCE_MIN, &all));
    assert_true(all == 1);
}

static void test_bad_input(void **state)
{
    (void)state;
    int64_t v = 42;
    SJ_ASSERT_ERR(sj_allreduce_int64(SJ_REDUCE_SUM, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_allreduce_int64(SJ_REDUCE_DOT, &v), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_allreduce_int64((sj_reduce_op_t)999, &v), SJ_EINVAL);
    assert_true(v == 42);
    /* bad input on one rank fails the call on every rank, with no rank left waiting */
    const int me = sj_rank(), last = sj_nranks() - 1;
    int rc = sj_allreduce_int64(SJ_REDUCE_SUM, me == last ? NULL : &v);
    assert_int_equal(rc, me == last ? SJ_ENULL : (sj_nranks() > 1 ? SJ_EINVAL : SJ_ENULL));
    if (sj_nranks() > 1) {
        rc = sj_allreduce_int64(me == 0 ? SJ_REDUCE_MIN : SJ_REDUCE_MAX, &v);
        assert_int_equal(rc, SJ_EINVAL);
        assert_non_null(strstr(sj_last_error(), "different ops"));
    }
    assert_true(v == 42);
    /* and the next call still matches on every rank */
    SJ_ASSERT_OK(sj_allreduce_int64(SJ_REDUCE_SUM, &v));
    assert_true(v == 42 * sj_nranks());
}

int main(void)
{
    int64_t v = 1;
    if (sj_allreduce_int64(SJ_REDUCE_SUM, &v) != SJ_ESTATE || v != 1) {
        fprintf(stderr, "sj_allreduce_int64 before sj_init: expected SJ_ESTATE\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_bad_input),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "allreduce");
}
