// sj-example: nprocs=1,2,3,4 args=--small
/*
 * Data moved vs data computed where it is needed: the `method1` / `method2`
 * comparison of the Julia Distributed tutorial.
 *
 *   mpirun -n 2 ./move_vs_compute [--n ORDER] [--reps R] [--small]
 *
 * method1: rank 0 makes two random n x n matrices A and B, sends them to a
 *          worker rank, which computes C = A^2 * B^2 and sends C back.
 * method2: the worker makes A and B itself and computes C; only C travels.
 *
 * In Julia, `@fetch A^2 * B^2` captures the master's A and B and ships them
 * with the call. starjets' sj_spawn() reads its argument bytes on the rank
 * that runs the function, not on rank 0, so the matrices travel here the
 * array way: A, B and C are arrays whose single block lives on the worker,
 * sj_array_block_set() copies rank 0's matrices into them (the move),
 * sj_array_map() computes C there as a task, and sj_array_block_get() brings
 * C back to rank 0.
 *
 * Both give the same C (the random numbers are a function of the seed and
 * the element index, not of where they are drawn), and rank 0 checks it
 * against its own serial computation. The timings show what moving 2 n^2
 * doubles costs next to computing them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starjets.h>

#include "example.h"

/* Counter-based random numbers (splitmix64): element k of matrix `seed`. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* rand(n, n): column-major, entries in [0, 1). */
static void rand_matrix(double *a, int64_t n, uint64_t seed)
{
    for (int64_t k = 0; k < n * n; k++)
        a[k] = (double)(mix64(seed ^ mix64((uint64_t)k)) >> 11) / 9007199254740992.0;
}

/* c = a * b for n x n column-major matrices (a plain loop: the example is
 * about data movement, not about a fast product). */
static void matmul(double *c, const double *a, const double *b, int64_t n)
{
    memset(c, 0, (size_t)(n * n) * sizeof *c);
    for (int64_t j = 0; j < n; j++)
        for (int64_t k = 0; k < n; k++) {
            const double bkj = b[k + j * n];
            for (int64_t i = 0; i < n; i++)
                c[i + j * n] += a[i + k * n] * bkj;
        }
}

/* c = a^2 * b^2; returns non-zero when out of memory. */
static int square_times_square(double *c, const double *a, const double *b, int64_t n)
{
    double *a2 = malloc((size_t)(n * n) * sizeof *a2), *b2 = malloc((size_t)(n * n) * sizeof *b2);
    if (!a2 || !b2) {
        free(a2);
        free(b2);
        return 1;
    }
    matmul(a2, a, a, n);
    matmul(b2, b, b, n);
    matmul(c, a2, b2, n);
    free(a2);
    free(b2);
    return 0;
}

/* The seeds of A and B. */
enum { SEED_A = 11, SEED_B = 22 };

/* Block function: out = in[0]^2 * in[1]^2 (C from A and B). */
static int square_blocks(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    return square_times_square(out, in[0], in[1], blk->dims[0]);
}

/* Block function: out = rand(n, n) with the seed in ctx. */
static int rand_block(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    rand_matrix(out, blk->dims[0], *(const uint64_t *)ctx);
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--n ORDER] [--reps R] [--small]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int64_t n = 100; /* the tutorial's rand(100, 100) */
    int reps = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small")) {
            n = 60;
            reps = 3;
        } else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else
            usage(argv[0]);
    }
    if (n < 1 || n > 4000 || reps < 1)
        usage(argv[0]);

    CHECK(sj_init(&argc, &argv, NULL));
    const int me = sj_rank(), np = sj_nranks();
    const int worker = np > 1 ? 1 : 0;
    const size_t nn = (size_t)(n * n), matrix_bytes = nn * sizeof(double);
    if (me == 0)
        printf("move_vs_compute: C = A^2 * B^2 for %lld x %lld random matrices on rank %d "
               "(%d rank(s)), %d timed calls each\n\n",
               (long long)n, (long long)n, worker, np, reps);

    /* A, B and C are n x n arrays of one block each, all owned by the worker:
     * an explicit layout, "block 0 lives on rank `worker`". */
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){n, n}, (int[]){1, 1}, &space));
    sj_dist_t on_worker;
    CHECK(sj_dist_create_explicit(2, (int[]){1, 1}, (int[]){worker}, &on_worker));
    sj_array_t a, b, c;
    CHECK(sj_array_zeros(space, on_worker, &a));
    CHECK(sj_array_zeros(space, on_worker, &b));
    CHECK(sj_array_zeros(space, on_worker, &c));

    /* Rank 0's buffers: A and B as method1 makes them, the results, the
     * serial reference and the timings. */
    double *a0 = NULL, *b0 = NULL, *ref = NULL, *c1 = NULL, *c2 = NULL, *t1 = NULL, *t2 = NULL;
    if (me == 0) {
        a0 = malloc(matrix_bytes);
        b0 = malloc(matrix_bytes);
        ref = malloc(matrix_bytes);
        c1 = malloc(matrix_bytes);
        c2 = malloc(matrix_bytes);
        t1 = malloc((size_t)reps * sizeof *t1);
        t2 = malloc((size_t)reps * sizeof *t2);
        if (!a0 || !b0 || !ref || !c1 || !c2 || !t1 || !t2) {
            fprintf(stderr, "move_vs_compute: out of memory\n");
            return 1;
        }
        rand_matrix(a0, n, SEED_A);
        rand_matrix(b0, n, SEED_B);
        if (square_times_square(ref, a0, b0, n)) {
            fprintf(stderr, "move_vs_compute: out of memory\n");
            return 1;
        }
    }

    const uint64_t seed_a = SEED_A, seed_b = SEED_B;
    /* One extra round first, untimed: it warms up the workers and the path. */
    for (int r = -1; r < reps; r++) {
        /* method1: rank 0 makes A and B (inside the timing, as in the
         * tutorial); setblock copies them from rank 0 into the worker's
         * blocks; the worker computes C in a task; getblock brings C back. */
        CHECK(sj_barrier());
        double t0 = now();
        if (me == 0) {
            rand_matrix(a0, n, SEED_A);
            rand_matrix(b0, n, SEED_B);
        }
        CHECK(sj_array_block_set(a, 0, 0, a0));
        CHECK(sj_array_block_set(b, 0, 0, b0));
        CHECK(sj_array_map(2, (sj_array_t[]){a, b}, c, square_blocks, NULL, 0));
        CHECK(sj_array_block_get(c, 0, 0, c1));
        if (me == 0 && r >= 0)
            t1[r] = now() - t0;

        /* method2: tasks on the worker make A and B where they are used; only
         * C travels. */
        CHECK(sj_barrier());
        t0 = now();
        CHECK(sj_array_map(0, NULL, a, rand_block, &seed_a, sizeof seed_a));
        CHECK(sj_array_map(0, NULL, b, rand_block, &seed_b, sizeof seed_b));
        CHECK(sj_array_map(2, (sj_array_t[]){a, b}, c, square_blocks, NULL, 0));
        CHECK(sj_array_block_get(c, 0, 0, c2));
        if (me == 0 && r >= 0)
            t2[r] = now() - t0;
    }
    /* getblock waits for C's data, not for task errors: collect those. */
    CHECK(sj_wait());

    int ok = 1;
    if (me == 0) {
        /* The same code on the same numbers: the same bits as the serial run. */
        ok = memcmp(c1, ref, matrix_bytes) == 0 && memcmp(c2, ref, matrix_bytes) == 0;
        const double m1 = median(t1, reps), m2 = median(t2, reps);
        printf("method1 (A, B made on rank 0, moved to rank %d): %8.3f ms median, %zu bytes "
               "moved there, %zu back\n",
               worker, 1e3 * m1, worker ? 2 * matrix_bytes : 0, worker ? matrix_bytes : 0);
        printf("method2 (A, B made on rank %d):                  %8.3f ms median, %zu bytes "
               "moved there, %zu back\n",
               worker, 1e3 * m2, (size_t)0, worker ? matrix_bytes : 0);
        printf("method1 / method2 = %.2f\n", m1 / m2);
        printf("C[1,1] = %.6f, C[n,n] = %.6f (serial: %.6f, %.6f)\n", c2[0], c2[nn - 1], ref[0],
               ref[nn - 1]);
        if (!ok)
            printf("C differs from the serial result: method1 %s, method2 %s\n",
                   memcmp(c1, ref, matrix_bytes) ? "differs" : "same",
                   memcmp(c2, ref, matrix_bytes) ? "differs" : "same");
        printf("\n%s\n", ok ? "move_vs_compute: both methods match the serial result bit for bit"
                            : "move_vs_compute: WRONG RESULTS");
    }
    sj_array_destroy(&a);
    sj_array_destroy(&b);
    sj_array_destroy(&c);
    sj_dist_destroy(&on_worker);
    sj_space_destroy(&space);
    free(a0);
    free(b0);
    free(ref);
    free(c1);
    free(c2);
    free(t1);
    free(t2);
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
