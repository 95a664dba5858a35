// sj-test: nprocs=1,2
/*
 * sj_finalize() with objects the user forgot to destroy: it must release them,
 * stop the runtime (and MPI, which sj_init() started) and return 0.
 * Not a CMocka group: the checks happen after the runtime is gone.
 */
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

int main(int argc, char **argv)
{
    sj_space_t space = NULL;
    sj_dist_t dist = NULL;
    sj_array_t a = NULL, b = NULL;
    sj_scalar_t scalar = NULL;
    int64_t dims[2] = {12, 10};
    int nb[2] = {3, 2};
    int inited = 0, finalized = 0;

    CHECK(sj_init(&argc, &argv, NULL) == 0);
    CHECK(sj_initialized());
    CHECK(MPI_Initialized(&inited) == MPI_SUCCESS && inited);

    CHECK(sj_space_create(SJ_FLOAT64, 2, dims, nb, &space) == 0);
    CHECK(sj_dist_create_cyclic(2, nb, sj_nranks(), 1, NULL, &dist) == 0);
    CHECK(sj_array_rand(space, dist, 11, &a) == 0);
    CHECK(sj_array_ones(space, NULL, &b) == 0);
    CHECK(sj_array_scale(3.0, b) == 0);
    CHECK(sj_array_reduce_scalar(SJ_REDUCE_SUM, b, NULL, &scalar) == 0);
    /* no sj_wait(), nothing destroyed */

    CHECK(sj_finalize() == 0);
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
