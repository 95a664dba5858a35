// sj-test: nprocs=2,3,4
/*
 * Verbose mode (sj_init_options_t.verbose): rank 0 says, in one line on
 * stderr, when a layout made by the default rule leaves ranks without a
 * block, and says nothing for layouts that use every rank or whose grid was
 * given. stderr is caught around each call on every rank. With the argument
 * "off" (ctest verbose_off_np3) verbose is off and nothing is said.
 */
#include <unistd.h>

#include "sj_test.h"

static int verbose = 1;

/* Run @p make with this rank's stderr caught into @p out. */
static int caught(int (*make)(void *), void *arg, char *out, size_t size)
{
    out[0] = '\0';
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    assert_non_null(tmp);
    assert_true(saved >= 0);
    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    int rc = make(arg);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    out[fread(out, 1, size - 1, tmp)] = '\0';
    fclose(tmp);
    fputs(out, stderr);
    return rc;
}

typedef struct layout {
    int ndims, nblocks[3], nprocs;
    const int *grid;
} layout_t;

static int make_layout(void *arg)
{
    const layout_t *l = arg;
    sj_dist_t d = NULL;
    int rc = sj_dist_create_contiguous(l->ndims, l->nblocks, l->nprocs, NULL, l->grid, &d);
    sj_dist_destroy(&d);
    return rc;
}

static int make_array(void *arg)
{
    const layout_t *l = arg;
    sj_space_t s = NULL;
    sj_array_t a = NULL;
    int64_t dims[3] = {2 * l->nblocks[0], 2 * l->nblocks[1], 2 * l->nblocks[2]};
    int rc = sj_space_create(SJ_FLOAT64, l->ndims, dims, l->nblocks, &s);
    if (rc == SJ_OK)
        rc = sj_array_zeros(s, NULL, &a); /* the default layout */
    sj_array_destroy(&a);
    sj_space_destroy(&s);
    return rc;
}

/* With verbose on, rank 0's text holds @p line once; elsewhere no layout line at all. */
static void expect_line(const char *text, const char *line)
{
    if (verbose && sj_rank() == 0) {
        const char *at = strstr(text, line);
        if (!at)
            fail_msg("expected \"%s\" in \"%s\"", line, text);
        assert_null(strstr(at + 1, "starjets: layout"));
    } else {
        assert_null(strstr(text, "starjets: layout"));
    }
}

static void expect_none(const char *text)
{
    assert_null(strstr(text, "starjets: layout"));
}

static void test_idle_ranks(void **state)
{
    const int n = sj_nranks();
    char text[4096], line[256];

    /* 1-D, one block fewer than ranks */
    layout_t one = {1, {n - 1, 1, 1}, 0, NULL};
    SJ_ASSERT_OK(caught(make_layout, &one, text, sizeof text));
    snprintf(line, sizeof line,
             "starjets: layout of %d blocks: the default process grid %d uses %d of %d ranks, "
             "1 rank(s) get no block",
             n - 1, n - 1, n - 1, n);
    expect_line(text, line);
    /* asked again in a row: said once */
    SJ_ASSERT_OK(caught(make_layout, &one, text, sizeof text));
    expect_none(text);

    /* 2-D: no grid of n fits (2 ranks on 1 x 1 blocks use 1; 3 ranks on 2 x 2 use 2, as
     * 1 x 2; 4 ranks on 3 x 1 use 3) */
    layout_t two = {2, {n == 3 ? 2 : n - 1, n == 3 ? 2 : 1, 1}, 0, NULL};
    const int used = n == 3 ? 2 : n - 1;
    char grid[16];
    snprintf(grid, sizeof grid, n == 3 ? "1 x 2" : "%d x 1", used);
    SJ_ASSERT_OK(caught(make_layout, &two, text, sizeof text));
    snprintf(line, sizeof line,
             "starjets: layout of %d x %d blocks: the default process grid %s uses %d of %d "
             "ranks, %d rank(s) get no block",
             two.nblocks[0], two.nblocks[1], grid, used, n, n - used);
    expect_line(text, line);

    /* through an array made with the default layout */
    SJ_ASSERT_OK(caught(make_array, &one, text, sizeof text));
    snprintf(line, sizeof line, "starjets: layout of %d blocks", n - 1);
    expect_line(text, line);

    /* nprocs fewer than the communicator's ranks counts against nprocs */
    layout_t part = {2, {1, 1, 1}, 2, NULL};
    SJ_ASSERT_OK(caught(make_layout, &part, text, sizeof text));
    expect_line(
        text, "starjets: layout of 1 x 1 blocks: the default process grid 1 x 1 uses 1 of 2 ranks");
}

static void test_quiet(void **state)
{
    const int n = sj_nranks();
    char text[4096];
    /* every rank used: 4 x 3 blocks on 2, 3 and 4 ranks, n blocks in 1-D */
    layout_t full = {2, {4, 3, 1}, 0, NULL};
    SJ_ASSERT_OK(caught(make_layout, &full, text, sizeof text));
    expect_none(text);
    layout_t line = {1, {n, 1, 1}, 0, NULL};
    SJ_ASSERT_OK(caught(make_layout, &line, text, sizeof text));
    expect_none(text);
    /* a grid given by the caller, even one that leaves ranks out */
    layout_t given = {1, {1, 1, 1}, 1, (const int[]){1}};
    SJ_ASSERT_OK(caught(make_layout, &given, text, sizeof text));
    expect_none(text);
    /* a failed call says nothing */
    layout_t bad = {1, {0, 1, 1}, 0, NULL};
    assert_true(caught(make_layout, &bad, text, sizeof text) < 0);
    expect_none(text);
}

int main(int argc, char **argv)
{
    sj_init_options_t opts;
    sj_init_options_default(&opts);
    verbose = !(argc > 1 && strcmp(argv[1], "off") == 0);
    opts.verbose = verbose;
    int rc = sj_init(&argc, &argv, &opts);
    if (rc != SJ_OK) {
        fprintf(stderr, "test_verbose: sj_init: %s\n", sj_last_error());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_ranks),
        cmocka_unit_test(test_quiet),
    };
    int failures = cmocka_run_group_tests_name("verbose", tests, NULL, NULL);
    return sj_finalize() == SJ_OK && failures == 0 ? 0 : 1;
}
