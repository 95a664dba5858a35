/*
 * The crash test's program (tests/io_crash.py kills it with SIGKILL during a
 * save). `io_crash write PATH MIB` saves checkpoints 1, 2, 3 ... of a 1-D
 * float64 array of MIB MiB to PATH forever, printing "saving K" and
 * "saved K"; element g of checkpoint K is K * 2^27 + g. `io_crash check
 * PATH` loads PATH on any rank count (every checksum checked) and checks
 * every element against the checkpoint number in its metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

static int value(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    const int64_t k = *(const int64_t *)ctx;
    double *x = out;
    for (int64_t i = 0; i < blk->dims[0]; i++)
        x[i] = (double)k * 134217728.0 + (double)(blk->lo[0] + i);
    return 0;
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0) {                                                                            \
            fprintf(stderr, "io_crash: %s: %s\n", #call, sj_last_error());                         \
            sj_finalize();                                                                         \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static int check(const char *path)
{
    sj_file_info_t info;
    TRY(sj_array_file_info(path, &info));
    sj_space_t s;
    sj_array_t a;
    TRY(sj_space_create(info.dtype, 1, info.dims, (int[]){2 * sj_nranks() + 1}, &s));
    TRY(sj_array_zeros(s, NULL, &a));
    TRY(sj_array_load(path, a, &info));
    int64_t k = 0;
    memcpy(&k, info.meta, sizeof k);
    /* every element, through the deterministic sum and the extremes */
    const double n = (double)info.dims[0];
    double sum, lo, hi;
    TRY(sj_array_sum(a, &sum));
    TRY(sj_array_min(a, &lo));
    TRY(sj_array_max(a, &hi));
    const double base = (double)k * 134217728.0;
    const int ok = lo == base && hi == base + n - 1 && sum == base * n + n * (n - 1) / 2;
    if (sj_rank() == 0)
        printf("io_crash: checked checkpoint %lld on %d ranks: %s\n", (long long)k, sj_nranks(),
               ok ? "bit-identical" : "WRONG");
    TRY(sj_array_destroy(&a));
    TRY(sj_space_destroy(&s));
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: io_crash write PATH MIB | check PATH\n");
        return 2;
    }
    TRY(sj_init(&argc, &argv, NULL));
    if (strcmp(argv[1], "check") == 0) {
        int rc = check(argv[2]);
        TRY(sj_finalize());
        return rc;
    }
    const int64_t n = (argc > 3 ? atoll(argv[3]) : 64) * 131072;
    sj_space_t s;
    TRY(sj_space_create(SJ_FLOAT64, 1, &n, (int[]){4 * sj_nranks()}, &s));
    for (int64_t k = 1;; k++) {
        sj_array_t a;
        TRY(sj_array_create_init(s, NULL, value, &k, sizeof k, &a));
        TRY(sj_wait());
        if (sj_rank() == 0) {
            printf("saving %lld\n", (long long)k);
            fflush(stdout);
        }
        TRY(sj_array_save(a, argv[2], "io_crash", &k, sizeof k));
        if (sj_rank() == 0) {
            printf("saved %lld\n", (long long)k);
            fflush(stdout);
        }
        TRY(sj_array_destroy(&a));
    }
}
