/*
 * The runtime: ranks, workers, waiting, MPI from the application thread while
 * starjets runs, synchronous mode, init options.
 */
#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sj_test.h"

static void test_ranks(void **state)
{
    int rank = -1, size = 0, inited = 0;
    assert_int_equal(MPI_Initialized(&inited), MPI_SUCCESS);
    assert_true(inited);
    assert_int_equal(MPI_Comm_rank(MPI_COMM_WORLD, &rank), MPI_SUCCESS);
    assert_int_equal(MPI_Comm_size(MPI_COMM_WORLD, &size), MPI_SUCCESS);
    assert_true(sj_initialized());
    assert_int_equal(sj_rank(), rank);
    assert_int_equal(sj_nranks(), size);
    assert_in_range(sj_rank(), 0, sj_nranks() - 1);
}

static void test_ncpus(void **state)
{
    assert_true(sj_ncpus() >= 1);
}

/*
 * @p sync holds every rank until the last one arrives: each round one rank
 * arrives late (after a pause) and leaves a mark, a file, just before it
 * calls @p sync; after @p sync every rank on its node must find the mark. A
 * barrier that lets a rank through early finds none (the pause only makes
 * that likely; a barrier that waits passes whatever the timing).
 */
static void check_holds(int (*sync)(void), const char *dir, const int node[])
{
    const int n = sj_nranks(), me = sj_rank();
    static int round;
    for (int late = 0; late < n; late++, round++) {
        char path[600];
        snprintf(path, sizeof path, "%s/mark%d", dir, round);
        if (me == late) {
            nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
            FILE *f = fopen(path, "w");
            assert_non_null(f);
            fclose(f);
        }
        SJ_ASSERT_OK(sync());
        if (node[late] == node[me] && access(path, F_OK) != 0)
            fail_msg("rank %d left the barrier of round %d before rank %d arrived", me, round,
                     late);
    }
}

static void test_wait_barrier(void **state)
{
    const int n = sj_nranks(), me = sj_rank();
    /* node of each rank: the world rank of its node's first rank (marks are local files) */
    MPI_Comm local;
    int first = me, *node = calloc((size_t)n, sizeof *node);
    assert_non_null(node);
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL, &local);
    MPI_Bcast(&first, 1, MPI_INT, 0, local);
    MPI_Comm_free(&local);
    MPI_Allgather(&first, 1, MPI_INT, node, 1, MPI_INT, MPI_COMM_WORLD);
    char dir[64] = "/tmp/sj_barrier_XXXXXX";
    if (me == 0)
        assert_non_null(mkdtemp(dir));
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (node[me] != node[0] && mkdir(dir, 0700) != 0)
        assert_int_equal(errno, EEXIST); /* another node: a folder of the same name there */

    check_holds(sj_barrier, dir, node);
    check_holds(sj_wait, dir, node);

    /* sj_wait also waits for every task submitted so far */
    sj_space_t sp = NULL;
    sj_array_t x = NULL;
    sj_stats_t st;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){4000}, (int[]){8}, &sp));
    SJ_ASSERT_OK(sj_array_rand(sp, NULL, 3, &x));
    SJ_ASSERT_OK(sj_array_scale(2.0, x));
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_stats_get(&st));
    assert_int_equal(st.tasks_in_flight, 0);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&sp));

    SJ_ASSERT_OK(sj_barrier()); /* nobody looks at the marks any more */
    for (int r = 0; r < 2 * n; r++) {
        char path[600];
        snprintf(path, sizeof path, "%s/mark%d", dir, r);
        if (me == r % n)
            unlink(path);
    }
    SJ_ASSERT_OK(sj_barrier());
    if (me == 0 || node[me] != node[0])
        rmdir(dir);
    free(node);
}

static void test_thread_multiple(void **state)
{
    int provided = -1;
    assert_int_equal(sj_mpi_thread_multiple(), 1);
    assert_int_equal(MPI_Query_thread(&provided), MPI_SUCCESS);
    assert_int_equal(provided, MPI_THREAD_MULTIPLE);
}

/* MPI collectives from the application thread, with tasks in flight. */
static void test_mpi_from_app_thread(void **state)
{
    const int n = sj_nranks(), me = sj_rank();
    int64_t dims[1] = {40000};
    int nb[1] = {8};
    sj_space_t sp = NULL;
    sj_array_t x = NULL, y = NULL;
    double sum = 0.0;

    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, dims, nb, &sp));
    SJ_ASSERT_OK(sj_array_rand(sp, NULL, 42, &x));
    SJ_ASSERT_OK(sj_array_sum(x, &sum));
    assert_true(sum > 0.0 && sum < 40000.0);

    /* every rank got the same bits */
    double lo = 0, hi = 0;
    assert_int_equal(MPI_Allreduce(&sum, &lo, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD), MPI_SUCCESS);
    assert_int_equal(MPI_Allreduce(&sum, &hi, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), MPI_SUCCESS);
    assert_true(lo == sum && hi == sum);

    /* submit more work and talk MPI while it runs */
    SJ_ASSERT_OK(sj_array_copy(x, &y));
    SJ_ASSERT_OK(sj_array_scale(2.0, y));
    SJ_ASSERT_OK(sj_array_axpy(1.0, x, y));
    int ranksum = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(MPI_Allreduce(&me, &ranksum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD),
                         MPI_SUCCESS);
        assert_int_equal(ranksum, n * (n - 1) / 2);
    }
    int token = me == 0 ? 1234 : -1;
    assert_int_equal(MPI_Bcast(&token, 1, MPI_INT, 0, MPI_COMM_WORLD), MPI_SUCCESS);
    assert_int_equal(token, 1234);
    SJ_ASSERT_OK(sj_wait());

    /* y = 3 x elementwise (2 x + x rounds once, like 3 x), on both roots */
    const int roots[2] = {0, n - 1};
    for (int k = 0; k < 2; k++) {
        double *gx = sj_t_gather(x, roots[k]), *gy = sj_t_gather(y, roots[k]);
        assert_non_null(gx);
        assert_non_null(gy);
        if (me == roots[k]) {
            for (int64_t i = 0; i < dims[0]; i++)
                gx[i] = 3.0 * gx[i];
            assert_int_equal(sj_t_diff(gy, gx, dims[0], "y = 3 x"), 0);
        }
        free(gx);
        free(gy);
    }

    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&sp));
}

/* A small sequence of operations; its results in *out (gathered on 0) and sums. */
static void run_sequence(sj_space_t sp, double **out, double sums[3])
{
    sj_array_t a = NULL, b = NULL, c = NULL;
    SJ_ASSERT_OK(sj_array_rand(sp, NULL, 7, &a));
    SJ_ASSERT_OK(sj_array_randn(sp, NULL, 8, &b));
    SJ_ASSERT_OK(sj_array_similar(a, &c));
    SJ_ASSERT_OK(sj_array_axpby(0.5, a, -1.25, b));
    SJ_ASSERT_OK(sj_array_mul(a, b, c));
    SJ_ASSERT_OK(sj_array_scale(3.0, c));
    SJ_ASSERT_OK(sj_array_sum(c, &sums[0]));
    SJ_ASSERT_OK(sj_array_dot(a, b, &sums[1]));
    SJ_ASSERT_OK(sj_array_norm(SJ_NORM_2, b, &sums[2]));
    *out = sj_t_gather(c, 0);
    assert_non_null(*out);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_array_destroy(&c));
}

static void test_synchronous(void **state)
{
    const int64_t sizes[5] = {100, 333, 17, 250, 300};
    sj_space_t sp = NULL;
    double *async = NULL, *sync = NULL, *again = NULL;
    double s1[3], s2[3], s3[3];

    SJ_ASSERT_OK(sj_space_create_blocks(SJ_FLOAT64, 5, sizes, &sp));
    run_sequence(sp, &async, s1);
    sj_set_synchronous(1);
    run_sequence(sp, &sync, s2);
    sj_set_synchronous(0);
    run_sequence(sp, &again, s3);
    SJ_ASSERT_OK(sj_wait());

    assert_memory_equal(s1, s2, sizeof s1);
    assert_memory_equal(s1, s3, sizeof s1);
    if (sj_rank() == 0) {
        assert_memory_equal(async, sync, 1000 * sizeof(double));
        assert_memory_equal(async, again, 1000 * sizeof(double));
    }
    free(async);
    free(sync);
    free(again);
    SJ_ASSERT_OK(sj_space_destroy(&sp));
}

static void test_init_options_default(void **state)
{
    sj_init_options_t o;
    memset(&o, 0x5a, sizeof o);
    sj_init_options_default(&o);
    assert_int_equal(o.ncuda, 0);
    assert_true(o.placement == SJ_PLACE_SPLIT || o.placement == SJ_PLACE_SPLIT_NOBIND ||
                o.placement == SJ_PLACE_STARPU);
    assert_int_equal(o.reserve_mpi_core, -1);
    assert_int_equal(o.environment_overrides, 1);
    if (getenv("SJ_NCPUS") == NULL)
        assert_int_equal(o.ncpus, -1);
    if (getenv("SJ_PLACEMENT") == NULL)
        assert_int_equal(o.placement, SJ_PLACE_SPLIT);
    if (getenv("SJ_VERBOSE") == NULL)
        assert_int_equal(o.verbose, 0);
    if (getenv("SJ_SCHED") == NULL)
        assert_true(o.sched == NULL || strcmp(o.sched, "lws") == 0);
    if (getenv("SJ_MAX_TASKS_IN_FLIGHT") == NULL)
        assert_int_equal(o.max_tasks_in_flight, 1000);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranks),
        cmocka_unit_test(test_ncpus),
        cmocka_unit_test(test_wait_barrier),
        cmocka_unit_test(test_thread_multiple),
        cmocka_unit_test(test_mpi_from_app_thread),
        cmocka_unit_test(test_synchronous),
        cmocka_unit_test(test_init_options_default),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "runtime");
}
