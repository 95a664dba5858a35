// sj-test: nprocs=1,2
/*
 * sj_finalize() with objects the user forgot to destroy: it must release them,
 * say so on rank 0 (one line per kind of object, with the count), stop the
 * runtime (and MPI, which sj_init() started) and return 0.
 * Not a CMocka group: the checks happen after the runtime is gone.
 */
#include <unistd.h>

#include "sj_test.h"

static int failures = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, __LINE__,      \
                    #cond, sj_last_error());                                                       \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static int sj_rank_at_init = -1;

/* Occurrences of @p what in @p text. */
static int count_lines(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/*
 * sj_finalize() with this rank's stderr caught in @p out (the report of
 * forgotten objects goes there), then written to stderr as well.
 */
static int finalize_captured(char *out, size_t size)
{
    out[0] = '\0';
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    if (!tmp || saved < 0) {
        fprintf(stderr, "cannot catch stderr\n");
        return -1;
    }
    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    int rc = sj_finalize();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t got = fread(out, 1, size - 1, tmp);
    out[got] = '\0';
    fclose(tmp);
    fputs(out, stderr);
    return rc;
}

int main(int argc, char **argv)
{
    sj_space_t space = NULL;
    sj_dist_t dist = NULL;
    sj_array_t a = NULL, b = NULL;
    sj_scalar_t scalar = NULL;
    sj_spmd_context_t ctx = NULL;
    sj_array_t c = NULL;
    int64_t dims[2] = {12, 10};
    int nb[2] = {3, 2};
    int inited = 0, finalized = 0;

    CHECK(sj_init(&argc, &argv, NULL) == 0);
    CHECK(sj_initialized());
    sj_rank_at_init = sj_rank();
    CHECK(MPI_Initialized(&inited) == MPI_SUCCESS && inited);

    CHECK(sj_space_create(SJ_FLOAT64, 2, dims, nb, &space) == 0);
    CHECK(sj_dist_create_cyclic(2, nb, sj_nranks(), 1, NULL, &dist) == 0);
    CHECK(sj_array_rand(space, dist, 11, &a) == 0);
    CHECK(sj_array_ones(space, NULL, &b) == 0);
    CHECK(sj_array_scale(3.0, b) == 0);
    CHECK(sj_array_reduce_scalar(SJ_REDUCE_SUM, b, NULL, &scalar) == 0);
    CHECK(sj_spmd_context_create(0, NULL, &ctx) == 0);
    CHECK(sj_array_zeros(space, NULL, &c) == 0);
    CHECK(sj_array_destroy(&c) == 0); /* destroyed: not in the report */
    /* no sj_wait(), nothing else destroyed */

    char report[4096];
    CHECK(finalize_captured(report, sizeof report) == 0);
    if (sj_rank_at_init == 0) {
        /* one line per kind, with the count */
        static const char *lines[] = {
            "sj_finalize: 2 arrays not destroyed", "sj_finalize: 1 scalar not destroyed",
            "sj_finalize: 1 layout not destroyed", "sj_finalize: 1 space not destroyed",
            "sj_finalize: 1 SPMD context not destroyed"};
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
            CHECK(strstr(report, lines[i]) != NULL);
        CHECK(count_lines(report, "not destroyed") == 5);
    } else {
        CHECK(strstr(report, "not destroyed") == NULL); /* rank 0 only */
    }
    CHECK(!sj_initialized());
    CHECK(MPI_Finalized(&finalized) == MPI_SUCCESS && finalized);
    CHECK(sj_finalize() == SJ_ESTATE);
    CHECK(sj_wait() == SJ_ESTATE);
    /* MPI is finalised: a second start is refused, not an abort inside MPI */
    CHECK(sj_init(NULL, NULL, NULL) == SJ_ESTATE);
    CHECK(strstr(sj_last_error(), "finalised") != NULL);

    if (failures)
        fprintf(stderr, "test_finalize: %d check(s) failed\n", failures);
    else
        printf("test_finalize: ok\n");
    return failures ? 1 : 0;
}
