/*
 * bench_gpu: starjets on one rank with one CUDA device against cuBLAS called
 * directly on the same device in the same run. Built with SJ_USE_CUDA only;
 * scripts/gpu-check runs it. Exits 77 (and prints a JSON object that says
 * so) when the rank gets no CUDA worker.
 *
 *   ./bench_gpu [-n N] [-p P] [-m M] [-i I] [-w W]
 *
 * -n N: GEMM order (default 8192), -p P: tiles per dimension (default 2),
 * -m M: elements of the axpy + dot vectors (default 2^26), -i I: timed
 * repetitions (5), -w W: warm-ups (3, which also calibrate dmdas's models).
 *
 * 1. Tiled GEMM C = A B: a P x P block operator of sj_op_dense tiles (N/P x
 *    N/P) applied to B (the tiles' block rows, N/P x N each), against one
 *    cublasDgemm of order N on matrices already on the device. Entries are
 *    small integers, so C is exact in any order: the two must be equal.
 *    Reported: seconds and GFlop/s of each, and how many of the operator's
 *    tasks ran on the CUDA worker (StarPU's per-worker profiling).
 * 2. Chained applies: the same product applied twice in a row (C = A B then
 *    B' = A C, no host access between them): the bytes StarPU moved between
 *    host and device during the second apply (its bus profiling), which
 *    should be the tiles of C only if data stay on the device.
 * 3. axpy + dot on M elements in 4 blocks: seconds per (sj_array_axpy,
 *    blocking sj_array_dot) against the device's copy bandwidth measured
 *    with cudaMemcpy device to device (5 doubles per element move).
 *
 * One JSON object on stdout.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <starpu.h>
#include <starpu_profiling.h>

#include <starjets.h>
#include <starjets/cuda.h>

#include "bench.h" /* CHECK, now, median */

#define CUDA(call)                                                                                 \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            fprintf(stderr, "bench_gpu: %s: %s\n", #call, cudaGetErrorString(e_));                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Small pseudo-random integers: A in [-4, 4], B in [-3, 3]. */
static double a_entry(int64_t r, int64_t c)
{
    uint64_t h = (uint64_t)r * 0x9E3779B97F4A7C15ull ^ ((uint64_t)c + 7) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    return (double)((h * 0xBF58476D1CE4E5B9ull >> 33) % 9) - 4.0;
}
static double b_entry(int64_t r, int64_t c)
{
    uint64_t h = (uint64_t)c * 0x9E3779B97F4A7C15ull ^ ((uint64_t)r + 3) * 0xD6E8FEB86659FD93ull;
    h ^= h >> 31;
    return (double)((h * 0x94D049BB133111EBull >> 35) % 7) - 3.0;
}

typedef struct tiles {
    int64_t n, nb;
    sj_space_t space;
} tiles_t;

static int make_tile(int i, int j, int owner, void *vctx, sj_op_t *block)
{
    const tiles_t *t = vctx;
    double *M = malloc((size_t)(t->nb * t->nb) * sizeof *M);
    if (!M)
        return SJ_ENOMEM;
    for (int64_t c = 0; c < t->nb; c++)
        for (int64_t r = 0; r < t->nb; r++)
            M[r + t->nb * c] = a_entry(i * t->nb + r, j * t->nb + c);
    int rc = sj_op_dense(t->space, t->space, owner, M, block);
    free(M);
    return rc;
}

static int init_b(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)in;
    const int64_t nb = *(const int64_t *)ctx, r0 = (int64_t)blk->block * nb;
    double *o = out;
    for (int64_t e = 0; e < blk->nelems; e++)
        o[e] = b_entry(r0 + e % nb, e / nb);
    return 0;
}

/* Tasks executed on CUDA and on CPU workers since the last reset. */
static void worker_tasks(int *cuda, int *cpu)
{
    *cuda = *cpu = 0;
    for (unsigned w = 0; w < starpu_worker_get_count(); w++) {
        struct starpu_profiling_worker_info info;
        if (starpu_profiling_worker_get_info((int)w, &info) != 0)
            continue;
        if (starpu_worker_get_type((int)w) == STARPU_CUDA_WORKER)
            *cuda += info.executed_tasks;
        else
            *cpu += info.executed_tasks;
    }
}

/* Bytes moved over every bus since the last reset. */
static double bus_bytes(void)
{
    double total = 0;
    for (int b = 0; b < starpu_bus_get_count(); b++) {
        struct starpu_profiling_bus_info info;
        if (starpu_bus_get_profiling_info(b, &info) == 0)
            total += (double)info.transferred_bytes;
    }
    return total;
}

int main(int argc, char **argv)
{
    int64_t n = 8192, m = (int64_t)1 << 26;
    int p = 2, iters = 5, warm = 3;
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "-n"))
            n = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "-p"))
            p = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "-m"))
            m = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "-i"))
            iters = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "-w"))
            warm = atoi(argv[a + 1]);
    }
    if (p < 1 || n % p || iters < 1 || iters > 100 || warm < 0 || m < 4) {
        fprintf(stderr, "usage: bench_gpu [-n N] [-p P] [-m M] [-i I] [-w W] (P divides N)\n");
        return 2;
    }
    setenv("STARPU_PROFILING", "1", 0);
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.ncuda = 1;
    CHECK(sj_init(&argc, &argv, &o));
    if (sj_ncuda_workers() == 0) {
        printf("{\"bench\": \"gpu\", \"skipped\": \"no CUDA worker on this rank\"}\n");
        sj_finalize();
        return 77;
    }
    starpu_profiling_status_set(STARPU_PROFILING_ENABLE);
    double *t = malloc((size_t)(iters + warm) * sizeof *t);

    /* ---- 1. tiled GEMM ---- */
    const int64_t nb = n / p;
    tiles_t tl = {.n = n, .nb = nb};
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){nb, n}, NULL, &tl.space));
    sj_op_t A;
    CHECK(sj_op_block_create_fn(p, p, NULL, make_tile, &tl, sizeof tl, &A));
    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    CHECK(sj_op_domain(A, &ds, &dd));
    CHECK(sj_op_range(A, &rs, &rd));
    sj_array_t B, C, D;
    CHECK(sj_array_create_init(ds, dd, init_b, &nb, sizeof nb, &B));
    CHECK(sj_array_zeros(rs, rd, &C));
    CHECK(sj_array_zeros(ds, dd, &D));
    CHECK(sj_wait());
    for (int k = 0; k < warm + iters; k++) {
        if (k == warm)
            starpu_profiling_init();
        double t0 = now();
        CHECK(sj_op_apply(A, B, C));
        CHECK(sj_wait());
        t[k] = now() - t0;
    }
    int on_cuda, on_cpu;
    worker_tasks(&on_cuda, &on_cpu);
    const double sj_gemm = median(t + warm, iters);

    /* 2. chained: C = A B was just computed; D = A C right after, data left in place */
    starpu_profiling_init();
    CHECK(sj_op_apply(A, C, D));
    CHECK(sj_wait());
    const double chained_bytes = bus_bytes();

    /* cuBLAS on the whole matrices, already on the device */
    const size_t nn = (size_t)(n * n);
    double *hA = malloc(nn * sizeof *hA), *hB = malloc(nn * sizeof *hB);
    double *hC = malloc(nn * sizeof *hC), *sC = malloc(nn * sizeof *sC);
    if (!hA || !hB || !hC || !sC) {
        fprintf(stderr, "bench_gpu: out of host memory for N = %lld\n", (long long)n);
        return 1;
    }
    for (int64_t c = 0; c < n; c++)
        for (int64_t r = 0; r < n; r++) {
            hA[r + n * c] = a_entry(r, c);
            hB[r + n * c] = b_entry(r, c);
        }
    double *dA, *dB, *dC;
    CUDA(cudaMalloc((void **)&dA, nn * sizeof(double)));
    CUDA(cudaMalloc((void **)&dB, nn * sizeof(double)));
    CUDA(cudaMalloc((void **)&dC, nn * sizeof(double)));
    CUDA(cudaMemcpy(dA, hA, nn * sizeof(double), cudaMemcpyHostToDevice));
    CUDA(cudaMemcpy(dB, hB, nn * sizeof(double), cudaMemcpyHostToDevice));
    cublasHandle_t h;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) {
        fprintf(stderr, "bench_gpu: cublasCreate failed\n");
        return 1;
    }
    const double one = 1, zero = 0;
    for (int k = 0; k < warm + iters; k++) {
        double t0 = now();
        cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)n, (int)n, (int)n, &one, dA, (int)n, dB,
                    (int)n, &zero, dC, (int)n);
        CUDA(cudaDeviceSynchronize());
        t[k] = now() - t0;
    }
    const double cublas_gemm = median(t + warm, iters);
    CUDA(cudaMemcpy(hC, dC, nn * sizeof(double), cudaMemcpyDeviceToHost));
    /* starjets' C: block i holds rows i*nb.., nb x n column-major */
    double *blk = malloc((size_t)(nb * n) * sizeof *blk);
    int64_t wrong = 0;
    for (int i = 0; i < p; i++) {
        CHECK(sj_array_block_get(C, i, 0, blk));
        for (int64_t c = 0; c < n; c++)
            for (int64_t r = 0; r < nb; r++)
                wrong += blk[r + nb * c] != hC[i * nb + r + n * c];
    }
    free(blk);

    /* ---- 3. axpy + dot against the device's copy bandwidth ---- */
    sj_space_t vs;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){m}, NULL, &vs));
    sj_dist_t vd;
    CHECK(sj_dist_create_contiguous(1, (int[]){4}, 1, NULL, NULL, &vd));
    sj_array_t x, y;
    CHECK(sj_array_filled(vs, vd, 1.0, &x));
    CHECK(sj_array_filled(vs, vd, 2.0, &y));
    double dot = 0;
    for (int k = 0; k < warm + iters; k++) {
        double t0 = now();
        CHECK(sj_array_axpy(0.5, x, y));
        CHECK(sj_array_dot(x, y, &dot));
        t[k] = now() - t0;
    }
    const double sj_axpy_dot = median(t + warm, iters);
    const int dot_ok = dot == (double)m * (2.0 + 0.5 * (warm + iters));
    double *d1, *d2;
    CUDA(cudaMalloc((void **)&d1, (size_t)m * sizeof(double)));
    CUDA(cudaMalloc((void **)&d2, (size_t)m * sizeof(double)));
    for (int k = 0; k < warm + iters; k++) {
        double t0 = now();
        CUDA(cudaMemcpy(d2, d1, (size_t)m * sizeof(double), cudaMemcpyDeviceToDevice));
        CUDA(cudaDeviceSynchronize());
        t[k] = now() - t0;
    }
    const double copy_bw = 2.0 * (double)m * sizeof(double) / median(t + warm, iters);
    const double sj_bw = 5.0 * (double)m * sizeof(double) / sj_axpy_dot;

    printf("{\"bench\": \"gpu\", \"device_workers\": %d, \"gemm\": {\"n\": %lld, \"tiles\": %d, "
           "\"starjets_s\": %.6f, \"cublas_s\": %.6f, \"starjets_gflops\": %.1f, "
           "\"cublas_gflops\": %.1f, \"ratio\": %.3f, \"tasks_on_cuda\": %d, \"tasks_on_cpu\": %d, "
           "\"wrong_entries\": %lld, \"chained_apply_bus_bytes\": %.0f, "
           "\"tile_bytes\": %.0f}, \"axpy_dot\": {\"m\": %lld, \"starjets_s\": %.6f, "
           "\"starjets_GBps\": %.1f, \"device_copy_GBps\": %.1f, \"ratio\": %.3f, "
           "\"dot_exact\": %s}}\n",
           sj_ncuda_workers(), (long long)n, p, sj_gemm, cublas_gemm,
           2.0 * (double)n * n * n / sj_gemm * 1e-9, 2.0 * (double)n * n * n / cublas_gemm * 1e-9,
           cublas_gemm / sj_gemm, on_cuda, on_cpu, (long long)wrong, chained_bytes,
           (double)(nb * nb) * sizeof(double), (long long)m, sj_axpy_dot, sj_bw * 1e-9,
           copy_bw * 1e-9, sj_bw / copy_bw, dot_ok ? "true" : "false");

    cudaFree(d1);
    cudaFree(d2);
    cudaFree(dA);
    cudaFree(dB);
    cudaFree(dC);
    cublasDestroy(h);
    free(hA);
    free(hB);
    free(hC);
    free(sC);
    free(t);
    CHECK(sj_array_destroy(&x));
    CHECK(sj_array_destroy(&y));
    CHECK(sj_array_destroy(&B));
    CHECK(sj_array_destroy(&C));
    CHECK(sj_array_destroy(&D));
    CHECK(sj_op_destroy(&A));
    CHECK(sj_dist_destroy(&vd));
    CHECK(sj_space_destroy(&vs));
    CHECK(sj_space_destroy(&tl.space));
    CHECK(sj_finalize());
    return wrong || !dot_ok;
}
