// sj-test: nprocs=1,2,3
/*
 * starjets in a program that initialised MPI itself at MPI_THREAD_SERIALIZED:
 * no direct MPI from starjets, so blocking reductions, graph scalars and the
 * root-buffer moves go through StarPU-MPI only. Results are compared across
 * ranks after sj_finalize, when the program may call MPI again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s (%s)\n", __FILE__, __LINE__, #cond,                \
                    sj_last_error());                                                              \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* A block function that fails on block 3 and leaves the data alone. */
static int fail_block(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    return blk->block == 3 ? 7 : 0;
}

int main(int argc, char **argv)
{
    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &level);
    EXPECT(sj_init(&argc, &argv, NULL) == SJ_OK);
    EXPECT(sj_mpi_thread_multiple() == 0);
    const int me = sj_rank(), np = sj_nranks();

    const int64_t n = 1000;
    sj_space_t sp;
    EXPECT(sj_space_create(SJ_FLOAT64, 1, &n, (int[]){7}, &sp) == SJ_OK);
    sj_array_t x, y;
    EXPECT(sj_array_ones(sp, NULL, &x) == SJ_OK);
    EXPECT(sj_array_filled(sp, NULL, 2.0, &y) == SJ_OK);
    EXPECT(sj_array_axpy(0.5, x, y) == SJ_OK); /* y = 2.5 */

    double dot = 0, sum = 0, mx = 0, sv = 0;
    EXPECT(sj_array_dot(x, y, &dot) == SJ_OK);
    EXPECT(sj_array_sum(y, &sum) == SJ_OK);
    EXPECT(sj_array_max(y, &mx) == SJ_OK);
    EXPECT(dot == 2500.0 && sum == 2500.0 && mx == 2.5);

    /* agreement without direct MPI */
    int64_t agreed = me + 1, all = me != np - 1, any = me == np - 1;
    EXPECT(sj_allreduce_int64(SJ_REDUCE_SUM, &agreed) == SJ_OK);
    EXPECT(sj_allreduce_int64(SJ_REDUCE_MIN, &all) == SJ_OK);
    EXPECT(sj_allreduce_int64(SJ_REDUCE_MAX, &any) == SJ_OK);
    EXPECT(agreed == (int64_t)np * (np + 1) / 2 && all == 0 && any == 1);

    sj_scalar_t a, b, c;
    EXPECT(sj_array_reduce_scalar(SJ_REDUCE_SUM, x, NULL, &a) == SJ_OK);
    EXPECT(sj_scalar_create(4.0, &b) == SJ_OK);
    EXPECT(sj_scalar_binary(SJ_SCALAR_DIV, a, b, &c) == SJ_OK);
    EXPECT(sj_scalar_value(c, &sv) == SJ_OK);
    EXPECT(sv == 250.0);

    /* checks only the root can make fail on every rank */
    EXPECT(sj_array_gather(y, np - 1, NULL) == SJ_ENULL);
    EXPECT(sj_array_block_set(y, 0, 0, NULL) == SJ_ENULL);
    /* a task error reaches every rank: the failing one names it, the others say where */
    EXPECT(sj_array_map(0, NULL, y, fail_block, NULL, 0) == SJ_OK);
    EXPECT(sj_wait() == SJ_EUSER);
    EXPECT(strstr(sj_last_error(), "returned 7 on block 3") != NULL ||
           strstr(sj_last_error(), "1 task(s) failed on other ranks") != NULL);
    EXPECT(sj_wait() == SJ_OK);

    double *whole = me == np - 1 ? malloc((size_t)n * sizeof(double)) : NULL;
    EXPECT(sj_array_gather(y, np - 1, whole) == SJ_OK);
    if (whole) {
        for (int64_t i = 0; i < n; i++)
            EXPECT(whole[i] == 2.5);
        free(whole);
    }
    sj_scalar_destroy(&a);
    sj_scalar_destroy(&b);
    sj_scalar_destroy(&c);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_space_destroy(&sp);
    EXPECT(sj_finalize() == SJ_OK);

    /* MPI is ours again: every rank must have seen the same values */
    double mine[2] = {dot, sv}, lo[2], hi[2];
    MPI_Allreduce(mine, lo, 2, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(mine, hi, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    EXPECT(lo[0] == hi[0] && lo[1] == hi[1]);
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0)
        printf("serialized: %d failure(s) over %d rank(s)\n", total, np);
    MPI_Finalize();
    return total ? 1 : 0;
}
