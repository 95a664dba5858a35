/*
 * Checkpoints across rank counts (tests/io.cmake): `io_cross save PATH` on N
 * ranks writes a 2-D float64 array with a block-cyclic layout of 7 x 5
 * blocks, element (i, j) = i + 1000 j, label "io_cross" and the rank count as
 * metadata; `io_cross load PATH` on M ranks loads it into irregular cuts
 * owned by ranks 0 and M-1 and checks every element on every rank. The
 * NumPy check (tests/io_numpy.py) reads the same file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

#define N0 300
#define N1 200

static int value(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    double *x = out;
    for (int64_t j = 0; j < blk->dims[1]; j++)
        for (int64_t i = 0; i < blk->dims[0]; i++)
            x[i + blk->dims[0] * j] = (double)(blk->lo[0] + i) + 1000.0 * (double)(blk->lo[1] + j);
    return 0;
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0) {                                                                            \
            fprintf(stderr, "io_cross: %s: %s\n", #call, sj_last_error());                         \
            sj_finalize();                                                                         \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "save") && strcmp(argv[1], "load"))) {
        fprintf(stderr, "usage: io_cross save|load PATH\n");
        return 2;
    }
    TRY(sj_init(&argc, &argv, NULL));
    const int np = sj_nranks(), me = sj_rank();
    const int64_t dims[2] = {N0, N1};
    sj_space_t s;
    sj_dist_t d;
    sj_array_t a;
    if (strcmp(argv[1], "save") == 0) {
        TRY(sj_space_create(SJ_FLOAT64, 2, dims, (int[]){7, 5}, &s));
        TRY(sj_dist_create_cyclic(2, (int[]){7, 5}, np, 1, NULL, &d));
        TRY(sj_array_create_init(s, d, value, NULL, 0, &a));
        const int64_t meta = np;
        TRY(sj_array_save(a, argv[2], "io_cross", &meta, sizeof meta));
        if (me == 0)
            printf("io_cross: saved %d x %d on %d ranks, block-cyclic 7 x 5\n", N0, N1, np);
    } else {
        sj_file_info_t info;
        TRY(sj_array_file_info(argv[2], &info));
        const int64_t c0[3] = {1, 120, N0 - 121}, c1[2] = {150, N1 - 150};
        TRY(sj_space_create_irregular(info.dtype, info.ndims, info.dims, (int[]){3, 2},
                                      (const int64_t *const[]){c0, c1}, &s));
        TRY(sj_dist_create_explicit(2, (int[]){3, 2}, (int[]){np - 1, 0, np - 1, 0, 0, np - 1},
                                    &d));
        TRY(sj_array_zeros(s, d, &a));
        TRY(sj_array_load(argv[2], a, &info));
        double *all = malloc(sizeof(double) * N0 * N1);
        TRY(sj_array_allgather(a, all));
        int64_t bad = 0;
        for (int64_t j = 0; j < N1; j++)
            for (int64_t i = 0; i < N0; i++)
                bad += all[i + N0 * j] != (double)i + 1000.0 * (double)j;
        free(all);
        int64_t saved_on = 0;
        memcpy(&saved_on, info.meta, sizeof saved_on);
        printf("io_cross: rank %d: saved on %lld ranks, loaded on %d: %lld wrong element(s)\n", me,
               (long long)saved_on, np, (long long)bad);
        if (bad || strcmp(info.label, "io_cross") != 0) {
            sj_finalize();
            return 1;
        }
    }
    TRY(sj_array_destroy(&a));
    TRY(sj_dist_destroy(&d));
    TRY(sj_space_destroy(&s));
    TRY(sj_finalize());
    return 0;
}
