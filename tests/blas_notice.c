/*
 * sj_init's one-line notice about slow BLAS kernels (src/runtime/blas_check.c),
 * driven by the test hooks SJ_TEST_BLAS_CORE (the core type OpenBLAS would
 * report) and SJ_TEST_CPU_LEVEL (1 SSE, 2 AVX, 3 AVX2, 4 AVX-512); ctest checks
 * stderr for the notice, or its absence (tests/CMakeLists.txt). With the
 * argument --unset-coretype it first removes OPENBLAS_CORETYPE from its
 * environment (OpenBLAS has loaded by then; only sj_init's check reads it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--unset-coretype") == 0)
        unsetenv("OPENBLAS_CORETYPE");
    if (sj_init(&argc, &argv, NULL) != SJ_OK) {
        fprintf(stderr, "blas_notice: sj_init failed: %s\n", sj_last_error());
        return 1;
    }
    const int me = sj_rank();
    if (sj_finalize() != SJ_OK)
        return 1;
    if (me == 0)
        printf("blas_notice: done\n");
    return 0;
}
