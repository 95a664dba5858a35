// sj-test: nprocs=1,2
/*
 * sj_init with explicit options: one worker, the eager scheduler, cores split
 * but nothing pinned, placement printed, workers niced by 7. The options must
 * take effect and the library must compute as with the defaults.
 */
#define _GNU_SOURCE
#include "sj_test.h"

#ifdef __linux__
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define WORKER_NICE 7

static int thread_nice(void)
{
#ifdef __linux__
    errno = 0;
    const int n = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    return errno == 0 ? n : -100;
#else
    return 0;
#endif
}

/* An item: the niceness of the worker that runs it. */
static int nice_fn(int64_t index, const void *in, void *out, void *ctx)
{
    (void)index;
    (void)in;
    (void)ctx;
    *(int *)out = thread_nice();
    return 0;
}

static void test_options_took_effect(void **state)
{
    assert_int_equal(sj_ncpus(), 1);
    assert_true(sj_initialized());
    int world = 0; /* the zero-filled comm option meant MPI_COMM_WORLD */
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    assert_int_equal(sj_nranks(), world);
}

static void test_workers_niced(void **state)
{
    (void)state;
    int seen[8];
    SJ_ASSERT_OK(sj_pmap(8, NULL, 0, seen, sizeof seen[0], nice_fn, NULL, 0, NULL, NULL));
    const int app = thread_nice();
#ifdef __linux__
    const int want = app + WORKER_NICE < 19 ? app + WORKER_NICE : 19;
#else
    const int want = app;
#endif
    if (sj_rank() == 0)
        for (int i = 0; i < 8; i++)
            assert_int_equal(seen[i], want);
}

static void test_compute_with_options(void **state)
{
    const int64_t n = 4096;
    sj_space_t sp = NULL;
    sj_array_t x = NULL;
    double sum = 0;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 1, &n, (int[]){8}, &sp));
    SJ_ASSERT_OK(sj_array_filled(sp, NULL, 0.25, &x));
    SJ_ASSERT_OK(sj_array_scale(4.0, x));
    SJ_ASSERT_OK(sj_array_sum(x, &sum));
    assert_true(sum == (double)n);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&sp));
}

int main(int argc, char **argv)
{
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.ncpus = 1;
    o.sched = "eager";
    o.placement = SJ_PLACE_SPLIT_NOBIND;
    o.verbose = 1;
    o.worker_nice = WORKER_NICE;
    memset(&o.comm, 0, sizeof o.comm); /* as if set by hand: means MPI_COMM_WORLD */
    if (sj_init(&argc, &argv, &o) != SJ_OK) {
        fprintf(stderr, "sj_init failed: %s\n", sj_last_error());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_took_effect),
        cmocka_unit_test(test_workers_niced),
        cmocka_unit_test(test_compute_with_options),
    };
    int failed = cmocka_run_group_tests_name("init_options", tests, NULL, NULL);
    sj_finalize();
    return failed ? 1 : 0;
}
