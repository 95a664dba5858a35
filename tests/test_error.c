// sj-test: nprocs=1
/*
 * Error codes, their names and messages, the last-error sentence, the
 * version, and the calls that are refused before sj_init() and after a
 * second sj_init().
 */
#include "sj_test.h"

#include <limits.h>
#include <pthread.h>

/* Bad sj_init options tried: ncuda twice, placement, ncpus, worker_nice twice. */
#define NBAD_OPTS 7
#define NBAD_ENV 9

/* What the calls made before sj_init() returned (checked once cmocka runs). */
static struct {
    int wait_rc, barrier_rc, finalize_rc, zeros_rc, space_rc, stats_rc;
    int rank, nranks, ncpus, initialized;
    const char *version;
    int major, minor, patch;
    char wait_msg[512], zeros_msg[512];
    sj_array_t zeros_out;
    int bad_opts_rc[NBAD_OPTS];
    char bad_opts_msg[NBAD_OPTS][512];
    int bad_env_rc[NBAD_ENV], bad_env_null_rc[NBAD_ENV];
    char bad_env_msg[NBAD_ENV][512];
    int switches[7];
} pre;

/* Environment values sj_init_options_default() cannot read: sj_init() refuses each. */
static const struct {
    const char *name, *value, *says;
} bad_env[] = {
    {"SJ_NCPUS", "abc", "opts->ncpus"},
    {"SJ_PLACEMENT", "noband", "opts->placement"},
    {"SJ_CHECK_COLLECTIVES", "maybe", "opts->check_collectives"},
    {"SJ_PROFILE", "x", "opts->profile"},
    {"SJ_VERBOSE", "loud", "opts->verbose"},
    {"SJ_WORKER_NICE", "nice", "opts->worker_nice"},
    {"SJ_MAX_TASKS_IN_FLIGHT", "1e3", "opts->max_tasks_in_flight"},
    {"SJ_WATCHDOG", "abc", "opts->watchdog"},
    {"SJ_SCHED", "bogus", "not one of StarPU's schedulers"},
};

static void record_before_init(void)
{
    sj_space_t space = NULL;
    int64_t dims[1] = {16};
    int nblocks[1] = {4};

    pre.rank = sj_rank();
    pre.nranks = sj_nranks();
    pre.ncpus = sj_ncpus();
    pre.initialized = sj_initialized();
    pre.version = sj_version(&pre.major, &pre.minor, &pre.patch);

    sj_clear_error();
    pre.wait_rc = sj_wait();
    snprintf(pre.wait_msg, sizeof pre.wait_msg, "%s", sj_last_error());
    pre.barrier_rc = sj_barrier();
    pre.finalize_rc = sj_finalize();
    sj_stats_t st;
    pre.stats_rc = sj_stats_get(&st);

    /* Spaces are local values; when the library refuses them too before
     * sj_init(), the array call is tried with a NULL space: the state is
     * what is wrong either way. */
    pre.space_rc = sj_space_create(SJ_FLOAT64, 1, dims, nblocks, &space);
    sj_clear_error();
    pre.zeros_out = NULL;
    pre.zeros_rc = sj_array_zeros(pre.space_rc == 0 ? space : NULL, NULL, &pre.zeros_out);
    snprintf(pre.zeros_msg, sizeof pre.zeros_msg, "%s", sj_last_error());
    if (pre.space_rc == 0)
        sj_space_destroy(&space);

    /* Bad options are refused before MPI or StarPU start. */
    for (int k = 0; k < NBAD_OPTS; k++) {
        sj_init_options_t o;
        sj_init_options_default(&o);
        if (k == 0)
            o.ncuda = -1;
        else if (k == 1)
            o.ncuda = SJ_USE_CUDA ? -2 : 1; /* without CUDA, any device is refused */
        else if (k == 2)
            o.placement = (sj_placement_t)99;
        else if (k == 3)
            o.ncpus = -2;
        else if (k == 4 || k == 5)
            o.worker_nice = k == 4 ? -1 : 20;
        else
            o.max_tasks_in_flight = -1;
        sj_clear_error();
        pre.bad_opts_rc[k] = sj_init(NULL, NULL, &o);
        snprintf(pre.bad_opts_msg[k], sizeof pre.bad_opts_msg[k], "%s", sj_last_error());
    }

    /* So are environment variables that cannot be read, whether the options
     * come from sj_init_options_default() or sj_init(NULL) reads them. */
    for (int k = 0; k < NBAD_ENV; k++) {
        const char *old = getenv(bad_env[k].name);
        char saved[256] = "";
        if (old)
            snprintf(saved, sizeof saved, "%s", old);
        setenv(bad_env[k].name, bad_env[k].value, 1);
        sj_init_options_t o;
        sj_init_options_default(&o);
        sj_clear_error();
        pre.bad_env_rc[k] = sj_init(NULL, NULL, &o);
        snprintf(pre.bad_env_msg[k], sizeof pre.bad_env_msg[k], "%s", sj_last_error());
        pre.bad_env_null_rc[k] = sj_init(NULL, NULL, NULL);
        if (old)
            setenv(bad_env[k].name, saved, 1);
        else
            unsetenv(bad_env[k].name);
    }

    /* Switches read yes/no words as well as numbers. */
    static const char *const words[7] = {"yes", "Off", "TRUE", "no", "2", "0", "-1"};
    const char *old = getenv("SJ_PROFILE");
    char saved[256] = "";
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    for (int k = 0; k < 7; k++) {
        setenv("SJ_PROFILE", words[k], 1);
        sj_init_options_t o;
        sj_init_options_default(&o);
        pre.switches[k] = o.profile;
    }
    if (old)
        setenv("SJ_PROFILE", saved, 1);
    else
        unsetenv("SJ_PROFILE");
}

static void test_init_bad_options(void **state)
{
    const char *field[NBAD_OPTS] = {"ncuda",       "ncuda",       "placement",          "ncpus",
                                    "worker_nice", "worker_nice", "max_tasks_in_flight"};
    for (int k = 0; k < NBAD_OPTS; k++) {
        assert_int_equal(pre.bad_opts_rc[k], SJ_EINVAL);
        assert_non_null(strstr(pre.bad_opts_msg[k], "sj_init"));
        assert_non_null(strstr(pre.bad_opts_msg[k], field[k]));
    }
}

static void test_init_bad_environment(void **state)
{
    (void)state;
    for (int k = 0; k < NBAD_ENV; k++) {
        char note[128];
        snprintf(note, sizeof note, "%s is '%s'", bad_env[k].name, bad_env[k].value);
        assert_int_equal(pre.bad_env_rc[k], SJ_EINVAL);
        assert_int_equal(pre.bad_env_null_rc[k], SJ_EINVAL);
        assert_non_null(strstr(pre.bad_env_msg[k], bad_env[k].says));
        if (strcmp(bad_env[k].name, "SJ_SCHED") == 0)
            assert_non_null(strstr(pre.bad_env_msg[k], "bogus"));
        else
            assert_non_null(strstr(pre.bad_env_msg[k], note));
    }
    const int expect[7] = {1, 0, 1, 0, 1, 0, 1};
    for (int k = 0; k < 7; k++)
        assert_int_equal(pre.switches[k], expect[k]);
}

static void test_before_init(void **state)
{
    assert_int_equal(pre.rank, -1);
    assert_int_equal(pre.nranks, 0);
    assert_int_equal(pre.ncpus, 0);
    assert_int_equal(pre.initialized, 0);
    assert_int_equal(pre.wait_rc, SJ_ESTATE);
    assert_non_null(strstr(pre.wait_msg, "sj_wait"));
    assert_int_equal(pre.barrier_rc, SJ_ESTATE);
    assert_int_equal(pre.finalize_rc, SJ_ESTATE);
    assert_int_equal(pre.stats_rc, SJ_ESTATE);
    assert_true(pre.space_rc == 0 || pre.space_rc == SJ_ESTATE);
    assert_int_equal(pre.zeros_rc, SJ_ESTATE);
    assert_non_null(strstr(pre.zeros_msg, "sj_array_zeros"));
    assert_null(pre.zeros_out);
    /* sj_version() may be called before sj_init() */
    assert_non_null(pre.version);
    assert_int_equal(pre.major, SJ_VERSION_MAJOR);
    assert_int_equal(pre.minor, SJ_VERSION_MINOR);
    assert_int_equal(pre.patch, SJ_VERSION_PATCH);
}

static void test_stats_null(void **state)
{
    (void)state;
    sj_clear_error();
    SJ_ASSERT_ERR(sj_stats_get(NULL), SJ_ENULL);
    assert_non_null(strstr(sj_last_error(), "sj_stats_get"));
}

static void test_init_twice(void **state)
{
    assert_true(sj_initialized());
    SJ_ASSERT_ERR(sj_init(NULL, NULL, NULL), SJ_ESTATE);
    /* still running, still usable */
    assert_true(sj_initialized());
    assert_int_equal(sj_nranks(), 1);
    assert_int_equal(sj_rank(), 0);
    SJ_ASSERT_OK(sj_wait());
}

static void test_codes_table(void **state)
{
    int n = 0;
#define CHECK_CODE(name, value, msg)                                                               \
    assert_int_equal(SJ_##name, value);                                                            \
    assert_true((value) < 0);                                                                      \
    assert_string_equal(sj_strerror(value), msg);                                                  \
    assert_string_equal(sj_err_name(value), "SJ_" #name);                                          \
    n++;
    SJ_ERRNO_MAP(CHECK_CODE)
#undef CHECK_CODE
    /* the codes are -1, -2, ... without a gap */
    int lowest = 0;
#define LOWEST(name, value, msg) lowest = (value) < lowest ? (value) : lowest;
    SJ_ERRNO_MAP(LOWEST)
#undef LOWEST
    assert_int_equal(n, -lowest);
    assert_true(n >= 13);
    assert_int_equal(SJ_OK, 0);
}

static void test_codes_distinct(void **state)
{
    const int codes[] = {
#define LIST_CODE(name, value, msg) value,
        SJ_ERRNO_MAP(LIST_CODE)
#undef LIST_CODE
    };
    const size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(codes[i], codes[j]);
            assert_string_not_equal(sj_err_name(codes[i]), sj_err_name(codes[j]));
            assert_string_not_equal(sj_strerror(codes[i]), sj_strerror(codes[j]));
        }
}

static void test_unknown_codes(void **state)
{
    int lowest = 0;
#define LOWEST(name, value, msg) lowest = (value) < lowest ? (value) : lowest;
    SJ_ERRNO_MAP(LOWEST)
#undef LOWEST
    const int unknown[] = {lowest - 1, -100, 1, 5, 12, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_non_null(sj_strerror(unknown[i]));
        assert_non_null(sj_err_name(unknown[i]));
        assert_string_equal(sj_strerror(unknown[i]), "unknown error");
        assert_string_equal(sj_err_name(unknown[i]), "SJ_UNKNOWN");
    }
    assert_non_null(sj_strerror(0));
    assert_non_null(sj_err_name(0));
}

static void test_last_error(void **state)
{
    sj_clear_error();
    assert_non_null(sj_last_error());
    assert_string_equal(sj_last_error(), "");

    int64_t dims[1] = {10};
    assert_int_equal(sj_space_create(SJ_FLOAT64, 1, dims, NULL, NULL), SJ_ENULL);
    assert_true(strlen(sj_last_error()) > 0);
    assert_non_null(strstr(sj_last_error(), "sj_space_create"));

    /* the next error replaces it */
    assert_int_equal(sj_dist_owner(NULL, 0, NULL), SJ_ENULL);
    assert_non_null(strstr(sj_last_error(), "sj_dist_owner"));
    assert_null(strstr(sj_last_error(), "sj_space_create"));

    sj_clear_error();
    assert_string_equal(sj_last_error(), "");
    sj_clear_error(); /* twice is fine */
    assert_string_equal(sj_last_error(), "");
}

static int fill_nothing(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)blk, (void)out, (void)in, (void)ctx;
    return 0;
}

/* Does @p trace name @p file (relative to the repository) followed by ":<line>"? */
static int names_file(const char *trace, const char *file)
{
    for (const char *p = strstr(trace, file); p; p = strstr(p + 1, file)) {
        const int at_start = p == trace || p[-1] == ' ';
        if (at_start && p[strlen(file)] == ':' && atoi(p + strlen(file) + 1) > 0)
            return 1;
    }
    return 0;
}

static void test_last_error_trace(void **state)
{
    sj_clear_error();
    assert_non_null(sj_last_error_trace());
    assert_string_equal(sj_last_error_trace(), "");

    /* found two files down: sj_array_map's check of ctx_size, reached through
     * sj_array_create_init, which names itself in the sentence */
    int64_t dims[1] = {12};
    int nb[1] = {3};
    sj_space_t s;
    assert_int_equal(sj_space_create(SJ_FLOAT64, 1, dims, nb, &s), SJ_OK);
    static const char big_ctx[1];
    sj_array_t a = NULL;
    sj_clear_error();
    assert_int_equal(sj_array_create_init(s, NULL, fill_nothing, big_ctx, (size_t)2 << 20, &a),
                     SJ_ESIZE);
    assert_null(a);
    assert_string_equal(sj_last_error(),
                        "sj_array_create_init: ctx_size is 2097152, more than 1 MiB");
    char trace[1024];
    snprintf(trace, sizeof trace, "%s", sj_last_error_trace());
    print_message("trace: %s\n", trace);
    /* origin first, relative path, then the caller, then the public function */
    assert_true(strncmp(trace, "src/array/algebra.c:", 20) == 0);
    assert_true(names_file(trace, "src/array/array.c"));
    assert_true(strstr(trace, "src/array/algebra.c:") < strstr(trace, " <- src/array/array.c:"));
    const char *tail = " (sj_array_create_init)";
    assert_true(strlen(trace) > strlen(tail));
    assert_string_equal(trace + strlen(trace) - strlen(tail), tail);
    assert_null(strstr(trace, "/work/"));

    /* a new error starts a new trail: one frame, in the file that found it */
    assert_int_equal(sj_dist_owner(NULL, 0, NULL), SJ_ENULL);
    snprintf(trace, sizeof trace, "%s", sj_last_error_trace());
    assert_true(names_file(trace, "src/array/dist.c"));
    assert_null(strstr(trace, " <- "));
    assert_null(strstr(trace, "algebra.c"));
    assert_non_null(strstr(trace, " (sj_dist_owner)"));

    sj_clear_error();
    assert_string_equal(sj_last_error_trace(), "");
    sj_space_destroy(&s);
}

static void *fail_in_thread(void *arg)
{
    char *seen = arg;
    sj_clear_error();
    int64_t dims[1] = {10};
    int nb[1] = {11};
    sj_space_t s = NULL;
    int rc = sj_space_create(SJ_FLOAT64, 1, dims, nb, &s);
    snprintf(seen, 512, "%d|%s|%s", rc, sj_last_error(), sj_last_error_trace());
    return NULL;
}

static void test_last_error_per_thread(void **state)
{
    char seen[512] = "";
    pthread_t t;

    sj_clear_error();
    assert_int_equal(sj_space_length(NULL, NULL), SJ_ENULL);
    char mine[512], my_trace[1024];
    snprintf(mine, sizeof mine, "%s", sj_last_error());
    snprintf(my_trace, sizeof my_trace, "%s", sj_last_error_trace());
    assert_non_null(strstr(mine, "sj_space_length"));
    assert_non_null(strstr(my_trace, "(sj_space_length)"));

    assert_int_equal(pthread_create(&t, NULL, fail_in_thread, seen), 0);
    assert_int_equal(pthread_join(t, NULL), 0);

    /* the other thread saw its own error, this one still has its own */
    char expect[32];
    snprintf(expect, sizeof expect, "%d|", SJ_ESIZE);
    assert_memory_equal(seen, expect, strlen(expect));
    assert_non_null(strstr(seen, "sj_space_create"));
    assert_non_null(strstr(seen, "|src/array/space.c:"));
    assert_string_equal(sj_last_error(), mine);
    assert_string_equal(sj_last_error_trace(), my_trace);
}

static void test_version(void **state)
{
    int major = -1, minor = -1, patch = -1;
    const char *v = sj_version(&major, &minor, &patch);
    assert_non_null(v);
    assert_int_equal(major, SJ_VERSION_MAJOR);
    assert_int_equal(minor, SJ_VERSION_MINOR);
    assert_int_equal(patch, SJ_VERSION_PATCH);
    assert_string_equal(v, SJ_VERSION_STRING);
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", SJ_VERSION_MAJOR, SJ_VERSION_MINOR,
             SJ_VERSION_PATCH);
    assert_string_equal(v, expect);
    /* every output may be NULL */
    assert_string_equal(sj_version(NULL, NULL, NULL), expect);
    assert_string_equal(sj_version(&major, NULL, NULL), expect);
    assert_string_equal(pre.version, expect);
}

static void test_dtype_size(void **state)
{
    assert_int_equal(sj_dtype_size(SJ_FLOAT64), sizeof(double));
    assert_int_equal(sj_dtype_size(SJ_FLOAT32), sizeof(float));
    assert_int_equal(sj_dtype_size((sj_dtype_t)0), 0);
    assert_int_equal(sj_dtype_size((sj_dtype_t)3), 0);
    assert_int_equal(sj_dtype_size((sj_dtype_t)-1), 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    record_before_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before_init),
        cmocka_unit_test(test_init_bad_options),
        cmocka_unit_test(test_init_bad_environment),
        cmocka_unit_test(test_init_twice),
        cmocka_unit_test(test_codes_table),
        cmocka_unit_test(test_stats_null),
        cmocka_unit_test(test_codes_distinct),
        cmocka_unit_test(test_unknown_codes),
        cmocka_unit_test(test_last_error),
        cmocka_unit_test(test_last_error_trace),
        cmocka_unit_test(test_last_error_per_thread),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_dtype_size),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "error");
}
