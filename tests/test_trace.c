// sj-test: nprocs=1,2
/*
 * Traces and the light profile (sj_init_options_t::trace_dir, ::profile).
 * Each case starts and stops starjets itself (MPI is started here, so that
 * sj_init may run again), and reads what sj_finalize printed on rank 0's
 * stderr. With a StarPU that has FxT the trace case checks the merged files
 * and counts the program's tasks in tasks.rec; with Debian's it checks the
 * one-line warning and that the run went on.
 */
#include "sj_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define NBLOCKS 6
#define NSCALES 3

/* A run of NSCALES scales of a NBLOCKS-block array: NBLOCKS * NSCALES sj_scale
 * tasks, each on the owner of its block. Returns this rank's share of them. */
static int scale_run(double *sum)
{
    const int64_t n = 600;
    sj_space_t sp = NULL;
    sj_array_t x = NULL;
    int nlocal = 0;
    const int *local = NULL;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, &n, (int[]){NBLOCKS}, &sp));
    SJ_ASSERT_OK(sj_array_filled(sp, NULL, 1.0, &x));
    for (int k = 0; k < NSCALES; k++)
        SJ_ASSERT_OK(sj_array_scale(2.0, x));
    SJ_ASSERT_OK(sj_array_sum(x, sum));
    SJ_ASSERT_OK(sj_array_local_blocks(x, &nlocal, &local));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&sp));
    return nlocal * NSCALES;
}

/* stderr goes to a file from capture_begin() to capture_end(), which returns
 * what was written (free it) and echoes it to the test log. */
static char capture_path[64];
static int capture_fd = -1, capture_saved = -1;

static void capture_begin(void)
{
    snprintf(capture_path, sizeof capture_path, "/tmp/sj_test_trace_XXXXXX");
    capture_fd = mkstemp(capture_path);
    assert_true(capture_fd >= 0);
    fflush(stderr);
    capture_saved = dup(STDERR_FILENO);
    dup2(capture_fd, STDERR_FILENO);
}

static char *capture_end(void)
{
    fflush(stderr);
    dup2(capture_saved, STDERR_FILENO);
    close(capture_saved);
    off_t size = lseek(capture_fd, 0, SEEK_END);
    char *text = calloc((size_t)size + 1, 1);
    assert_non_null(text);
    assert_int_equal(pread(capture_fd, text, (size_t)size, 0), size);
    close(capture_fd);
    unlink(capture_path);
    fputs(text, stderr);
    return text;
}

/* sj_finalize, with what it prints on stderr. */
static char *finalize_capturing_stderr(void)
{
    capture_begin();
    int rc = sj_finalize();
    char *text = capture_end();
    SJ_ASSERT_OK(rc);
    return text;
}

static void start(const char *trace_dir, int profile)
{
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.ncpus = 1;
    o.trace_dir = trace_dir;
    o.profile = profile;
    SJ_ASSERT_OK(sj_init(NULL, NULL, &o));
}

/* Every rank's block of the profile, in rank order, with matching counts. */
static void test_profile(void **state)
{
    start(NULL, 1);
    double sum = 0;
    int mine = scale_run(&sum);
    const int nranks = sj_nranks(), rank = sj_rank();
    int *counts = calloc((size_t)nranks, sizeof *counts);
    assert_non_null(counts);
    MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    char *text = finalize_capturing_stderr();
    assert_true(sum == 600.0 * (1 << NSCALES));
    if (rank == 0) {
        const char *p = text;
        for (int r = 0; r < nranks; r++) {
            char head[64];
            snprintf(head, sizeof head, "starjets profile, rank %d:\n", r);
            const char *h = strstr(p, head);
            assert_non_null(h); /* present, and after the previous rank's */
            const char *next = strstr(h + 1, "starjets profile, rank ");
            assert_true(r + 1 < nranks ? next != NULL : next == NULL);
            const char *end = next ? next : h + strlen(h);
            /* Worker lines: tasks and total/busy/idle/overhead that add up;
             * codelet lines: sj_scale with this rank's count, and all counts
             * summing to the workers' tasks. */
            long worker_tasks = 0, codelet_tasks = 0, scale = -1;
            int section = 0; /* 1 workers, 2 codelets */
            for (const char *l = strchr(h, '\n') + 1; l < end; l = strchr(l, '\n') + 1) {
                char name[64] = "";
                long tasks;
                double tot, busy, idle, over;
                if (strncmp(l, "  worker ", 9) == 0) {
                    section = 1;
                } else if (strncmp(l, "  codelet ", 10) == 0) {
                    section = 2;
                } else if (section == 1) {
                    /* the worker's name ("CPU 0") fills the first 2 + 28 columns */
                    assert_int_equal(
                        sscanf(l + 30, "%ld %lf %lf %lf %lf", &tasks, &tot, &busy, &idle, &over),
                        5);
                    assert_true(busy >= 0 && idle >= 0 && over >= 0);
                    assert_true(busy + idle + over <= tot + 0.5);
                    worker_tasks += tasks;
                } else if (section == 2) {
                    double mean;
                    assert_int_equal(sscanf(l, "%63s %ld %lf %lf", name, &tasks, &tot, &mean), 4);
                    assert_true(tasks > 0 && tot >= 0 && mean >= 0);
                    codelet_tasks += tasks;
                    if (strcmp(name, "sj_scale") == 0)
                        scale = tasks;
                }
                if (!strchr(l, '\n'))
                    break;
            }
            assert_int_equal(section, 2);
            assert_int_equal(scale, counts[r] ? counts[r] : -1);
            assert_int_equal(codelet_tasks, worker_tasks);
            p = end;
        }
    }
    free(text);
    free(counts);
}

/* Without the option nothing is printed. */
static void test_no_profile(void **state)
{
    start(NULL, 0);
    double sum = 0;
    scale_run(&sum);
    char *text = finalize_capturing_stderr();
    assert_null(strstr(text, "starjets profile"));
    free(text);
}

static int file_size(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_size > 0) : -1;
}

/* Tasks records of one codelet in a tasks.rec ("Name: <codelet>" lines). */
static long count_records(const char *dir, const char *codelet)
{
    char path[512], line[256], want[128];
    snprintf(path, sizeof path, "%s/tasks.rec", dir);
    snprintf(want, sizeof want, "Name: %s\n", codelet);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long n = 0;
    while (fgets(line, sizeof line, f))
        n += strcmp(line, want) == 0;
    fclose(f);
    return n;
}

/* What rank 0 finds in the trace folder and its stderr; NULL when all is right. */
static const char *trace_problem(const char *sub, const char *text, int nranks)
{
    static char why[128];
    if (sj_trace_supported()) {
        if (strstr(text, "no trace written") || strstr(text, "not merged"))
            return "sj_finalize warned about the trace";
        const char *merged[] = {"paje.trace", "tasks.rec", "dag.dot"};
        for (int i = 0; i < 3; i++)
            if (file_size(sub, merged[i]) != 1)
                return merged[i];
        for (int r = 0; r < nranks; r++) {
            snprintf(why, sizeof why, "prof_file_%d", r);
            if (file_size(sub, why) != 1)
                return why;
        }
        long n = count_records(sub, "sj_scale");
        snprintf(why, sizeof why, "%ld sj_scale records in tasks.rec, %d submitted", n,
                 NBLOCKS * NSCALES);
        return n == NBLOCKS * NSCALES ? NULL : why;
    }
    const char *head = "starjets: no trace written to '";
    const char *w = strstr(text, head);
    if (!w)
        return "no warning";
    if (strstr(w + strlen(head), "no trace written"))
        return "more than one warning line";
    if (file_size(sub, "paje.trace") != -1)
        return "a paje.trace without FxT";
    return NULL;
}

/* FxT: merged files with every task; no FxT: one warning line, run goes on. */
static void test_trace(void **state)
{
    char dir[64] = "/tmp/sj_test_trace_dir_XXXXXX";
    int world_rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    if (world_rank == 0 && !mkdtemp(dir))
        dir[0] = '\0';
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    assert_true(dir[0] != '\0');
    char sub[96];
    snprintf(sub, sizeof sub, "%s/run", dir); /* sj_init creates it */
    capture_begin();                          /* the warning comes from sj_init */
    start(sub, 0);
    const int rank = sj_rank(), nranks = sj_nranks();
    double sum = 0;
    scale_run(&sum);
    int rc = sj_finalize();
    char *text = capture_end();
    SJ_ASSERT_OK(rc);
    const char *problem = rank == 0 ? trace_problem(sub, text, nranks) : NULL;
    free(text);
    if (rank == 0) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_trace: could not remove %s\n", dir);
        if (problem)
            fail_msg("trace: %s", problem);
    }
    assert_true(sum == 600.0 * (1 << NSCALES));
}

/* Bad trace folders are refused before anything starts. */
static void test_bad_trace_dir(void **state)
{
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.trace_dir = "";
    SJ_ASSERT_ERR(sj_init(NULL, NULL, &o), SJ_EINVAL);
    char longdir[160];
    memset(longdir, 'a', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    o.trace_dir = longdir;
    SJ_ASSERT_ERR(sj_init(NULL, NULL, &o), SJ_EINVAL);
    assert_non_null(strstr(sj_last_error(), "trace_dir"));
    assert_false(sj_initialized());
}

/* SJ_TRACE and SJ_PROFILE set the defaults. */
static void test_environment(void **state)
{
    sj_init_options_t o;
    unsetenv("SJ_TRACE");
    unsetenv("SJ_PROFILE");
    sj_init_options_default(&o);
    assert_null(o.trace_dir);
    assert_int_equal(o.profile, 0);
    setenv("SJ_TRACE", "/tmp/some_trace", 1);
    setenv("SJ_PROFILE", "1", 1);
    sj_init_options_default(&o);
    assert_string_equal(o.trace_dir, "/tmp/some_trace");
    assert_int_equal(o.profile, 1);
    unsetenv("SJ_TRACE");
    unsetenv("SJ_PROFILE");
}

int main(int argc, char **argv)
{
    int level;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    /* Not the environment of the ctest run: each case says what it wants. */
    unsetenv("SJ_TRACE");
    unsetenv("SJ_PROFILE");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_environment), cmocka_unit_test(test_bad_trace_dir),
        cmocka_unit_test(test_profile),     cmocka_unit_test(test_no_profile),
        cmocka_unit_test(test_trace),
    };
    int failed = cmocka_run_group_tests_name("trace", tests, NULL, NULL);
    MPI_Finalize();
    return failed ? 1 : 0;
}
