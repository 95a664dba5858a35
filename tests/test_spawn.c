// sj-test: nprocs=1,2,3,4
/*
 * Spawn / fetch (`@spawnat` + `fetch`) and everywhere (`@everywhere`): a
 * function spawned on each rank runs there and its result reaches any root;
 * failures surface as SJ_EUSER on every rank (and stay out of sj_wait);
 * per-rank state set up by sj_everywhere is what later spawned tasks read;
 * bad input.
 */
#include "sj_test.h"

#define NVAL 10

typedef struct job {
    int rank; /* where it should run */
    double scale;
    double values[NVAL];
} job_t;

/* out[0] = the rank that ran it, out[1 + i] = scale * values[i] + i. */
static int job_fn(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    const job_t *j = arg;
    if (arg_size != sizeof *j || out_size != (1 + NVAL) * sizeof(double))
        return 99;
    double *o = out;
    o[0] = sj_rank();
    for (int i = 0; i < NVAL; i++)
        o[1 + i] = j->scale * j->values[i] + i;
    return 0;
}

static job_t make_job(int rank)
{
    job_t j = {rank, 0.5 + rank, {0}};
    for (int i = 0; i < NVAL; i++)
        j.values[i] = rank * 100.0 + i * 0.25;
    return j;
}

static void check_result(const job_t *j, const double *out)
{
    assert_int_equal((int)out[0], j->rank);
    for (int i = 0; i < NVAL; i++)
        assert_true(out[1 + i] == j->scale * j->values[i] + i);
}

static void test_spawn_each_rank(void **state)
{
    const int np = sj_nranks(), me = sj_rank();
    sj_future_t *f = calloc((size_t)np, sizeof *f);
    job_t *jobs = calloc((size_t)np, sizeof *jobs);
    /* all spawned first, then fetched: they run concurrently */
    for (int r = 0; r < np; r++) {
        jobs[r] = make_job(r);
        SJ_ASSERT_OK(
            sj_spawn(r, job_fn, &jobs[r], sizeof jobs[r], (1 + NVAL) * sizeof(double), &f[r]));
    }
    for (int r = 0; r < np; r++) {
        int roots[2] = {0, np - 1};
        for (int k = 0; k < 2; k++) {
            double out[1 + NVAL] = {-1};
            SJ_ASSERT_OK(sj_future_fetch(f[r], roots[k], me == roots[k] ? out : NULL));
            if (me == roots[k])
                check_result(&jobs[r], out);
        }
        SJ_ASSERT_OK(sj_future_wait(f[r]));
        SJ_ASSERT_OK(sj_future_destroy(&f[r]));
        assert_null(f[r]);
    }
    SJ_ASSERT_OK(sj_future_destroy(&f[0])); /* NULL: no-op */
    free(f);
    free(jobs);
}

/* No argument, no result: the function only reports success. */
static int nothing_fn(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    return arg == NULL && arg_size == 0 && out == NULL && out_size == 0 ? 0 : 1;
}

static int fail_fn(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    ((double *)out)[0] = 7.5; /* written before failing: fetch still delivers it */
    return 5;
}

static void test_spawn_failure(void **state)
{
    const int np = sj_nranks(), me = sj_rank();
    sj_future_t f;
    SJ_ASSERT_OK(sj_spawn(np - 1, nothing_fn, NULL, 0, 0, &f));
    SJ_ASSERT_OK(sj_future_fetch(f, 0, NULL));
    SJ_ASSERT_OK(sj_future_wait(f));
    SJ_ASSERT_OK(sj_future_destroy(&f));

    SJ_ASSERT_OK(sj_spawn(np - 1, fail_fn, NULL, 0, sizeof(double), &f));
    SJ_ASSERT_ERR(sj_future_wait(f), SJ_EUSER);
    double out = 0;
    SJ_ASSERT_ERR(sj_future_fetch(f, 0, me == 0 ? &out : NULL), SJ_EUSER);
    if (me == 0)
        assert_true(out == 7.5);
    assert_non_null(strstr(sj_last_error(), "returned 5"));
    /* the failure belongs to the future, not to the task graph */
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_future_destroy(&f));
}

/* ---- everywhere -------------------------------------------------------------- */

/* A table each rank loads once, then read by spawned tasks. */
static double table[64];

static int load_table(void *arg)
{
    const double *base = arg;
    for (int i = 0; i < 64; i++)
        table[i] = *base + sj_rank() * 64 + i;
    return 0;
}

static int table_sum(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    double s = 0;
    for (int i = 0; i < 64; i++)
        s += table[i];
    memcpy(out, &s, sizeof s);
    return 0;
}

static int fail_on_last(void *arg)
{
    return sj_rank() == sj_nranks() - 1 ? 4 : 0;
}

static void test_everywhere(void **state)
{
    const int np = sj_nranks(), me = sj_rank();
    double base = 0.5;
    SJ_ASSERT_OK(sj_everywhere(load_table, &base));
    for (int r = 0; r < np; r++) {
        sj_future_t f;
        SJ_ASSERT_OK(sj_spawn(r, table_sum, NULL, 0, sizeof(double), &f));
        double s = 0;
        SJ_ASSERT_OK(sj_future_fetch(f, 0, &s)); /* a buffer everywhere is fine too */
        if (me == 0) {
            double ref = 0; /* the serial sum, in the same order */
            for (int i = 0; i < 64; i++)
                ref += 0.5 + r * 64 + i;
            assert_true(s == ref);
        }
        SJ_ASSERT_OK(sj_future_destroy(&f));
    }
    SJ_ASSERT_ERR(sj_everywhere(fail_on_last, NULL), SJ_EUSER);
    SJ_ASSERT_OK(sj_everywhere(load_table, &base)); /* and it works again */
}

/* ---- bad input ---------------------------------------------------------------- */

typedef struct inside {
    int failures;
} inside_t;

static int inside_run(sj_spmd_context_t ctx, void *arg)
{
    inside_t *in = arg;
    sj_future_t f = NULL;
    sj_clear_error();
    in->failures += sj_spawn(0, nothing_fn, NULL, 0, 0, &f) != SJ_ESTATE;
    in->failures += sj_everywhere(load_table, NULL) != SJ_ESTATE;
    in->failures += strstr(sj_last_error(), "sj_everywhere") == NULL;
    return 0;
}

static void test_bad_input(void **state)
{
    const int np = sj_nranks(), me = sj_rank();
    sj_future_t f = NULL;
    job_t j = make_job(0);
    SJ_ASSERT_ERR(sj_spawn(np, job_fn, &j, sizeof j, 8, &f), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_spawn(-1, job_fn, &j, sizeof j, 8, &f), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_spawn(0, NULL, &j, sizeof j, 8, &f), SJ_ENULL);
    SJ_ASSERT_ERR(sj_spawn(0, job_fn, NULL, sizeof j, 8, &f), SJ_ENULL);
    SJ_ASSERT_ERR(sj_spawn(0, job_fn, &j, sizeof j, 8, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_spawn(0, job_fn, &j, sizeof j, SJ_SPMD_SIZE_MAX, &f), SJ_ESIZE);
    assert_null(f);
    SJ_ASSERT_ERR(sj_everywhere(NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_future_wait(NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_future_fetch(NULL, 0, NULL), SJ_ENULL);

    SJ_ASSERT_OK(sj_spawn(0, job_fn, &j, sizeof j, (1 + NVAL) * sizeof(double), &f));
    double out[1 + NVAL];
    SJ_ASSERT_ERR(sj_future_fetch(f, np, out), SJ_ERANGE);
    /* the root's buffer is missing: every rank fails */
    SJ_ASSERT_ERR(sj_future_fetch(f, np - 1, me == np - 1 ? NULL : out), SJ_ENULL);
    SJ_ASSERT_OK(sj_future_fetch(f, np - 1, out)); /* the future is still usable */
    if (me == np - 1)
        check_result(&j, out);
    SJ_ASSERT_OK(sj_future_destroy(&f));

    inside_t in = {0};
    SJ_ASSERT_OK(sj_spmd_run(NULL, inside_run, &in));
    assert_int_equal(in.failures, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_each_rank),
        cmocka_unit_test(test_spawn_failure),
        cmocka_unit_test(test_everywhere),
        cmocka_unit_test(test_bad_input),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "spawn");
}
