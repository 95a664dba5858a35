/*
 * sj_array_allgather: every rank receives the whole array, column-major,
 * with the bits of the serial reference (float64 and float32; 1-D irregular,
 * 2-D and 3-D blocks; default, cyclic and explicit layouts, one that leaves
 * rank 0 without blocks), after pending tasks; bad input fails on every rank
 * alike and leaves nothing behind.
 */
#include "sj_test.h"

/* Allgather @p a and compare every rank's copy with @p ref times @p factor. */
static void check_allgather(sj_array_t a, const double *ref, double factor)
{
    sj_dtype_t t = SJ_FLOAT64;
    const int64_t n = sj_t_length(a, &t);
    const size_t es = sj_dtype_size(t);
    unsigned char *buf = malloc((size_t)n * es), *want = malloc((size_t)n * es);
    assert_non_null(buf);
    assert_non_null(want);
    memset(buf, 0xA5, (size_t)n * es);
    for (int64_t i = 0; i < n; i++) {
        if (t == SJ_FLOAT32)
            ((float *)want)[i] = (float)(factor * ref[i]);
        else
            ((double *)want)[i] = factor * ref[i];
    }
    SJ_ASSERT_OK(sj_array_allgather(a, buf));
    int wrong = 0, total = 0;
    for (int64_t i = 0; i < n; i++)
        if (memcmp(buf + (size_t)i * es, want + (size_t)i * es, es) != 0 && wrong++ == 0)
            print_error("rank %d, element %lld differs\n", sj_rank(), (long long)i);
    free(buf);
    free(want);
    /* every rank fails together (direct MPI: the tests run at MPI_THREAD_MULTIPLE) */
    MPI_Allreduce(&wrong, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    assert_int_equal(total, 0);
}

static void test_values(void **state)
{
    const int n = sj_nranks();
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        sj_space_t spaces[3] = {NULL, NULL, NULL};
        SJ_ASSERT_OK(sj_space_create_blocks(dt, 5, (int64_t[]){7, 1, 30, 2, 11}, &spaces[0]));
        SJ_ASSERT_OK(sj_space_create(dt, 2, (int64_t[]){13, 9}, (int[]){3, 2}, &spaces[1]));
        SJ_ASSERT_OK(sj_space_create(dt, 3, (int64_t[]){5, 4, 3}, (int[]){2, 2, 2}, &spaces[2]));
        for (int w = 0; w < 3; w++) {
            sj_space_t s = spaces[w];
            int ndims = 0, nb[3] = {1, 1, 1}, total = 0;
            SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
            SJ_ASSERT_OK(sj_space_blocks(s, nb, &total));
            sj_dist_t layouts[3] = {NULL, NULL, NULL};
            SJ_ASSERT_OK(sj_dist_create_cyclic(ndims, nb, n, 1, NULL, &layouts[1]));
            int *last = malloc((size_t)total * sizeof *last);
            for (int b = 0; b < total; b++)
                last[b] = n - 1; /* rank 0, where the gather goes, owns nothing when n > 1 */
            SJ_ASSERT_OK(sj_dist_create_explicit(ndims, nb, last, &layouts[2]));
            free(last);
            double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
            for (int k = 0; k < 3; k++) {
                sj_array_t a = NULL;
                SJ_ASSERT_OK(sj_t_make(s, layouts[k], sj_t_gen(SJ_T_SINE), &a));
                check_allgather(a, ref, 1.0);
                /* tasks still pending: the copy waits for them */
                SJ_ASSERT_OK(sj_array_scale(2.0, a));
                check_allgather(a, ref, 2.0);
                SJ_ASSERT_OK(sj_array_destroy(&a));
            }
            free(ref);
            SJ_ASSERT_OK(sj_dist_destroy(&layouts[1]));
            SJ_ASSERT_OK(sj_dist_destroy(&layouts[2]));
            SJ_ASSERT_OK(sj_space_destroy(&spaces[w]));
        }
    }
}

static int allgather_in_run(sj_spmd_context_t ctx, void *arg)
{
    sj_array_t a = arg;
    double buf[8];
    sj_clear_error();
    return sj_array_allgather(a, buf) == SJ_ESTATE &&
                   strstr(sj_last_error(), "sj_array_allgather") != NULL
               ? 0
               : 1;
}

static void test_bad_input(void **state)
{
    const int n = sj_nranks(), me = sj_rank();
    sj_space_t s = NULL;
    sj_array_t a = NULL;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){8}, (int[]){4}, &s));
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &a));
    double buf[8];
    SJ_ASSERT_ERR(sj_array_allgather(NULL, buf), SJ_ENULL);
    /* a NULL buffer on one rank only: every rank fails */
    SJ_ASSERT_ERR(sj_array_allgather(a, me == n - 1 ? NULL : buf), SJ_ENULL);
    assert_non_null(strstr(sj_last_error(), "on 1 rank(s)"));
    /* a NULL array on one rank only: every rank fails, none waits */
    int rc = sj_array_allgather(me == n - 1 ? NULL : a, buf);
    assert_int_equal(rc, me == n - 1 || n == 1 ? SJ_ENULL : SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_allgather(a, NULL), SJ_ENULL);
    /* inside an SPMD run */
    SJ_ASSERT_OK(sj_spmd_run(NULL, allgather_in_run, a));
    /* nothing left behind: the next call works */
    double ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    check_allgather(a, ones, 1.0);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_bad_input),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "allgather");
}
