/*
 * The smallest program a user builds against an installed starjets with
 * pkg-config (tests/install_pkgconfig.cmake): it must start (find
 * libstarjets and StarPU without a path variable) and compute.
 */
#include <stdio.h>

#include <starjets.h>

int main(int argc, char **argv)
{
    sj_space_t space = NULL;
    sj_array_t x = NULL;
    double sum = 0.0;
    int rc = sj_init(&argc, &argv, NULL);
    if (rc == SJ_OK)
        rc = sj_space_create(SJ_FLOAT64, 1, (int64_t[]){100}, (int[]){4}, &space);
    if (rc == SJ_OK)
        rc = sj_array_ones(space, NULL, &x);
    if (rc == SJ_OK)
        rc = sj_array_sum(x, &sum);
    if (rc == SJ_OK)
        printf("rank %d of %d: sum %g\n", sj_rank(), sj_nranks(), sum);
    else
        fprintf(stderr, "pkgconfig_app: %s\n", sj_last_error());
    sj_array_destroy(&x);
    sj_space_destroy(&space);
    if (sj_initialized() && sj_finalize() != SJ_OK)
        rc = -1;
    return rc == SJ_OK ? 0 : 1;
}
