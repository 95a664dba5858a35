// sj-test: nprocs=1,2,3
/*
 * StarPU-MPI's driver mode (docs/latency.md, "One thread per core"): the
 * progress thread runs CPU worker 0 on more than one rank, unless
 * STARPU_MPI_DRIVER_CALL_FREQUENCY=0. One process starts and stops starjets
 * three times, with driver mode on, off and on again (a start without it
 * after one with it must not reuse the driver of the first), and each time
 * checks sj_stats_t.mpi_driver and computes across ranks: a blocking dot, a
 * chain of graph reductions, apply + adjoint of a block operator, all against
 * serial references, then the same once more after sj_pause / sj_resume
 * (paused, the worker the progress thread runs takes no task).
 */
#include <stdlib.h>

#include "sj_test.h"

#define N 600
#define NB 6

static double xval(int64_t i)
{
    return 1.0 + (double)(i % 7) / 8.0;
}

static int fill_x(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)in;
    (void)ctx;
    double *p = out;
    for (int64_t i = 0; i < blk->nelems; i++)
        p[i] = xval(blk->lo[0] + i);
    return 0;
}

/* One round of cross-rank work, checked against serial references. */
static void work(void)
{
    sj_space_t s;
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){N}, (int[]){NB}, &s));
    SJ_ASSERT_OK(sj_array_create_init(s, NULL, fill_x, NULL, 0, &x));
    SJ_ASSERT_OK(sj_array_copy(x, &y));

    /* blocking dot: the exact sum of squares of eighths */
    double d = 0, ref = 0;
    for (int64_t i = 0; i < N; i++)
        ref += xval(i) * xval(i);
    SJ_ASSERT_OK(sj_array_dot(x, y, &d));
    assert_true(d == ref);

    /* a chain of graph reductions: y += 2^-10 (x.x / x.x) x, ten times */
    for (int k = 0; k < 10; k++) {
        sj_scalar_t a = NULL, b = NULL, q = NULL;
        SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, x, x, &a));
        SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, x, x, &b));
        SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_DIV, a, b, &q));
        SJ_ASSERT_OK(sj_array_axpy_scalar(1.0 / 1024, q, x, y));
        SJ_ASSERT_OK(sj_scalar_destroy(&a));
        SJ_ASSERT_OK(sj_scalar_destroy(&b));
        SJ_ASSERT_OK(sj_scalar_destroy(&q));
    }
    double sum = 0, sref = 0;
    for (int64_t i = 0; i < N; i++)
        sref += xval(i) * (1.0 + 10.0 / 1024);
    SJ_ASSERT_OK(sj_array_sum(y, &sum));
    assert_true(fabs(sum - sref) <= 1e-12 * sref);

    /* apply + adjoint of a 3 x 3 block operator of scalings: A x and A' A x */
    sj_space_t bs;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){N / 3}, (int[]){1}, &bs));
    sj_dist_t lay; /* the default layout's owners (what dist NULL gives) */
    SJ_ASSERT_OK(sj_dist_create_contiguous(2, (int[]){3, 3}, 0, NULL, NULL, &lay));
    sj_op_t blocks[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int owner = 0;
            SJ_ASSERT_OK(sj_dist_owner(lay, i + 3 * j, &owner));
            SJ_ASSERT_OK(sj_op_scaled_identity(bs, owner, 1.0 + 3 * i + j, &blocks[3 * i + j]));
        }
    SJ_ASSERT_OK(sj_dist_destroy(&lay));
    sj_op_t A;
    SJ_ASSERT_OK(sj_op_block_create(3, 3, blocks, NULL, &A));
    sj_space_t dom;
    SJ_ASSERT_OK(sj_op_domain(A, &dom, NULL));
    sj_array_t u, v, w;
    SJ_ASSERT_OK(sj_array_filled(dom, NULL, 1.0, &u));
    SJ_ASSERT_OK(sj_array_similar(u, &v));
    SJ_ASSERT_OK(sj_array_similar(u, &w));
    for (int rep = 0; rep < 5; rep++) {
        SJ_ASSERT_OK(sj_op_apply(A, u, v));
        SJ_ASSERT_OK(sj_op_apply_adjoint(A, v, w));
    }
    /* row i of A sums to 3 (i * 3) + 1 + 2 + 3 = 9 i + 6; column j of A' A u */
    double got = 0, want = 0;
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++)
            want += (double)(N / 3) * (1.0 + 3 * i + j) * (9.0 * i + 6.0);
    SJ_ASSERT_OK(sj_array_sum(w, &got));
    assert_true(got == want);

    SJ_ASSERT_OK(sj_array_destroy(&u));
    SJ_ASSERT_OK(sj_array_destroy(&v));
    SJ_ASSERT_OK(sj_array_destroy(&w));
    SJ_ASSERT_OK(sj_op_destroy(&A));
    for (int k = 0; k < 9; k++)
        SJ_ASSERT_OK(sj_op_destroy(&blocks[k]));
    SJ_ASSERT_OK(sj_space_destroy(&bs));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* Start, check the mode, work, pause and resume, work again, stop. */
static void cycle(int want_driver_if_patched)
{
    SJ_ASSERT_OK(sj_init(NULL, NULL, NULL));
    sj_stats_t st;
    SJ_ASSERT_OK(sj_stats_get(&st));
    sj_t_check_mpi_driver(&st, !want_driver_if_patched);
    work();
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_pause());
    SJ_ASSERT_OK(sj_resume());
    work();
    SJ_ASSERT_OK(sj_finalize());
}

static void test_on_off_on(void **state)
{
    (void)state;
    unsetenv("STARPU_MPI_DRIVER_CALL_FREQUENCY");
    cycle(1);
    /* sj_finalize took back the variable it set */
    assert_null(getenv("STARPU_MPI_DRIVER_CALL_FREQUENCY"));
    setenv("STARPU_MPI_DRIVER_CALL_FREQUENCY", "0", 1);
    cycle(0);
    assert_string_equal(getenv("STARPU_MPI_DRIVER_CALL_FREQUENCY"), "0");
    unsetenv("STARPU_MPI_DRIVER_CALL_FREQUENCY");
    cycle(1);
}

int main(int argc, char **argv)
{
    int level;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_on_off_on),
    };
    int failed = cmocka_run_group_tests_name("driver", tests, NULL, NULL);
    MPI_Finalize();
    return failed != 0;
}
