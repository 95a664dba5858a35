/*
 * The CUDA bodies of starjets' kernels (kernels/ids.h), as the runtime's
 * registry sees them: same signature as the CPU bodies, on the buffers'
 * device copies. Each launches its kernels on the worker's stream and
 * returns; StarPU waits for the stream (the codelets are STARPU_CUDA_ASYNC).
 * The per-thread work is in gpu_kernels.h, shared with the host emulation
 * of tests/test_gpu_kernels.c; copies, halo packing and stencils are in
 * halo_cuda.cu.
 *
 * The graph-scalar kernels (a few doubles) run one thread: the point is not
 * speed but that a scalar or a vector of partial results made on the device
 * is used there, without a round trip through host memory.
 *
 * RAND runs on the device for uniform numbers only: sj_array_randn's
 * Box-Muller transform calls log and cos, whose CUDA versions are not
 * correctly rounded, so its tasks stay on CPUs (sj__cuda_condition). Not
 * here: the stencil gate (a no-op that orders receives, and claims their
 * buffers: on a GPU it would only allocate them there).
 */
#include <stdint.h>
#include <string.h>

#include "codelets/cuda_private.h"

extern "C" {
#include "kernels/array.h"
#include "kernels/dtype.h"
#include "kernels/ids.h"
}

using namespace sj_cuda;

/* ---- the per-worker device scratch area ----------------------------------------- */

void *sj_cuda::scratch(size_t bytes)
{
    static void *area[STARPU_NMAXWORKERS];
    static size_t size[STARPU_NMAXWORKERS];
    const int w = starpu_worker_get_id();
    if (w < 0)
        return NULL;
    if (size[w] < bytes) {
        /* at least the most lanes of a reduction, and room to grow */
        size_t want = SJ__LANES_MAX * sizeof(double);
        while (want < bytes)
            want *= 2;
        if (area[w])
            cudaFree(area[w]); /* synchronises the device: only while growing */
        area[w] = NULL;
        size[w] = 0;
        if (cudaMalloc(&area[w], want) != cudaSuccess)
            return NULL;
        size[w] = want;
    }
    return area[w];
}

namespace
{

/* ---- array algebra -------------------------------------------------------------- */

#define ELEMENTWISE_KERNELS(T, S)                                                                  \
    __global__ void k_fill_##S(int64_t n, T *x, T v)                                               \
    {                                                                                              \
        GRID_STRIDE(i, n) sj__g_fill_##S(i, x, v);                                                 \
    }                                                                                              \
    __global__ void k_scale_##S(int64_t n, T *x, T s)                                              \
    {                                                                                              \
        GRID_STRIDE(i, n) sj__g_scale_##S(i, x, s);                                                \
    }                                                                                              \
    __global__ void k_axpby_##S(int64_t n, T *y, const T *x, T a, T b)                             \
    {                                                                                              \
        GRID_STRIDE(i, n) sj__g_axpby_##S(i, y, x, a, b);                                          \
    }                                                                                              \
    __global__ void k_mul_##S(int64_t n, int op, T *z, const T *x, const T *y)                     \
    {                                                                                              \
        GRID_STRIDE(i, n) sj__g_mul_##S(i, op, z, x, y);                                           \
    }                                                                                              \
    __global__ void k_axpy_scalar_##S(int64_t n, T *y, const T *x, double a, const double *alpha)  \
    {                                                                                              \
        GRID_STRIDE(i, n) sj__g_axpy_scalar_##S(i, y, x, a, alpha);                                \
    }                                                                                              \
    __global__ void k_scale_scalar_##S(int64_t n, T *x, double a, const double *alpha)             \
    {                                                                                              \
        GRID_STRIDE(i, n) sj__g_scale_scalar_##S(i, x, a, alpha);                                  \
    }                                                                                              \
    __global__ void k_axpy_ratio_##S(int64_t n, T *w, const T *x, const T *y, double c,            \
                                     const double *a, const double *b)                             \
    {                                                                                              \
        GRID_STRIDE(i, n) sj__g_axpy_ratio_##S(i, w, x, y, c, a, b);                               \
    }

ELEMENTWISE_KERNELS(double, d)
ELEMENTWISE_KERNELS(float, f)

__global__ void k_copy_u32(int64_t n, uint32_t *dst, const uint32_t *src)
{
    GRID_STRIDE(i, n) sj__g_copy_u32(i, dst, src);
}
__global__ void k_copy_u64(int64_t n, uint64_t *dst, const uint64_t *src)
{
    GRID_STRIDE(i, n) sj__g_copy_u64(i, dst, src);
}

#define LAUNCH(kernel, n) kernel<<<grid_for(n), THREADS, 0, stream()>>>

void cuda_fill(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    if (a->dtype == SJ_FLOAT64)
        LAUNCH(k_fill_d, n)(n, (double *)dev_ptr(buffers[0]), a->a);
    else
        LAUNCH(k_fill_f, n)(n, (float *)dev_ptr(buffers[0]), (float)a->a);
    check_launch("sj_fill");
}

void cuda_scale(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    if (a->dtype == SJ_FLOAT64)
        LAUNCH(k_scale_d, n)(n, (double *)dev_ptr(buffers[0]), a->a);
    else
        LAUNCH(k_scale_f, n)(n, (float *)dev_ptr(buffers[0]), (float)a->a);
    check_launch("sj_scale");
}

void cuda_axpby(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    if (a->dtype == SJ_FLOAT64)
        LAUNCH(k_axpby_d, n)
    (n, (double *)dev_ptr(buffers[0]), (const double *)dev_ptr(buffers[1]), a->a, a->b);
    else LAUNCH(k_axpby_f, n)(n, (float *)dev_ptr(buffers[0]), (const float *)dev_ptr(buffers[1]),
                              (float)a->a, (float)a->b);
    check_launch("sj_axpby");
}

/* Buffers after the op (SJ__MUL_*): z x y, z y, or z alone. */
void cuda_mul(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    void *z = dev_ptr(buffers[0]);
    const void *x = a->op == SJ__MUL_ZXY ? dev_ptr(buffers[1]) : z;
    const void *y = a->op == SJ__MUL_ZXY   ? dev_ptr(buffers[2])
                    : a->op == SJ__MUL_ZZY ? dev_ptr(buffers[1])
                                           : z;
    if (a->dtype == SJ_FLOAT64)
        LAUNCH(k_mul_d, n)(n, a->op, (double *)z, (const double *)x, (const double *)y);
    else
        LAUNCH(k_mul_f, n)(n, a->op, (float *)z, (const float *)x, (const float *)y);
    check_launch("sj_mul");
}

void cuda_copy(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    if (a->dtype == SJ_FLOAT64)
        LAUNCH(k_copy_u64, n)
    (n, (uint64_t *)dev_ptr(buffers[0]), (const uint64_t *)dev_ptr(buffers[1]));
    else LAUNCH(k_copy_u32, n)(n, (uint32_t *)dev_ptr(buffers[0]),
                               (const uint32_t *)dev_ptr(buffers[1]));
    check_launch("sj_copy");
}

/* y += a * alpha * x and x *= a * alpha, alpha a graph scalar (1 double) on the device */
void cuda_axpy_scalar(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    const double *alpha = (const double *)dev_ptr(buffers[2]);
    if (a->dtype == SJ_FLOAT64)
        LAUNCH(k_axpy_scalar_d, n)
    (n, (double *)dev_ptr(buffers[0]), (const double *)dev_ptr(buffers[1]), a->a, alpha);
    else LAUNCH(k_axpy_scalar_f, n)(n, (float *)dev_ptr(buffers[0]),
                                    (const float *)dev_ptr(buffers[1]), a->a, alpha);
    check_launch("sj_axpy_scalar");
}

void cuda_scale_scalar(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    const double *alpha = (const double *)dev_ptr(buffers[1]);
    if (a->dtype == SJ_FLOAT64)
        LAUNCH(k_scale_scalar_d, n)(n, (double *)dev_ptr(buffers[0]), a->a, alpha);
    else
        LAUNCH(k_scale_scalar_f, n)(n, (float *)dev_ptr(buffers[0]), a->a, alpha);
    check_launch("sj_scale_scalar");
}

/* ---- random numbers ---------------------------------------------------------------- */

__global__ void k_uniform_d(int64_t n, double *x, sj_block_info_t b, uint64_t seed)
{
    GRID_STRIDE(t, n) sj__g_uniform_d(t, x, &b, seed);
}
__global__ void k_uniform_f(int64_t n, float *x, sj_block_info_t b, uint64_t seed)
{
    GRID_STRIDE(t, n) sj__g_uniform_f(t, x, &b, seed);
}

/* Uniform numbers (op 0); the registry keeps normal ones (op 1) on CPUs. */
void cuda_rand(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int64_t n = dev_n(buffers[0]);
    if (a->op != 0) {
        sj__kernel_fail("sj_rand: normal numbers on a CUDA worker");
        return;
    }
    if (a->dtype == SJ_FLOAT64)
        LAUNCH(k_uniform_d, n)(n, (double *)dev_ptr(buffers[0]), a->blk, a->seed);
    else
        LAUNCH(k_uniform_f, n)(n, (float *)dev_ptr(buffers[0]), a->blk, a->seed);
    check_launch("sj_rand");
}

int rand_on_device(const void *args)
{
    return ((const sj__kargs_t *)args)->op == 0;
}

/* ---- reductions: lanes into device scratch, then the tree in one block ------------ */

__global__ void k_lanes_d(int op, const double *x, const double *y, int64_t m, int64_t L, double *v)
{
    GRID_STRIDE(l, L) v[l] = sj__g_lane_d(op, x, y, m, L, l);
}
__global__ void k_lanes_f(int op, const float *x, const float *y, int64_t m, int64_t L, double *v)
{
    GRID_STRIDE(l, L) v[l] = sj__g_lane_f(op, x, y, m, L, l);
}

/*
 * The pairwise tree over v[0..n) by one block, level by level; the result
 * into *out, through the final step when @p finish (REDUCE_ALL).
 */
__global__ void k_tree(int op, double *v, int64_t n, double *out, int finish, int64_t count)
{
    for (int64_t s = 1; s < n; s *= 2) {
        const int64_t pairs = sj__g_tree_pairs(n, s);
        for (int64_t p = threadIdx.x; p < pairs; p += blockDim.x)
            sj__g_tree_pair(op, v, s, p);
        __syncthreads();
    }
    if (threadIdx.x == 0)
        *out = finish ? sj__g_finish(op, v[0], count) : v[0];
}

void cuda_partial(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    double *out = (double *)dev_ptr(buffers[0]);
    const int64_t m = dev_n(buffers[1]), L = sj__lanes(m);
    const void *x = dev_ptr(buffers[1]);
    const void *y = a->op == SJ_REDUCE_DOT ? dev_ptr(buffers[2]) : x;
    double *v = (double *)scratch((size_t)L * sizeof(double));
    if (!v) {
        sj__kernel_fail("sj_reduce_block: cannot allocate %lld doubles on the device",
                        (long long)L);
        return;
    }
    if (a->dtype == SJ_FLOAT64)
        LAUNCH(k_lanes_d, L)(a->op, (const double *)x, (const double *)y, m, L, v);
    else
        LAUNCH(k_lanes_f, L)(a->op, (const float *)x, (const float *)y, m, L, v);
    k_tree<<<1, 1024, 0, stream()>>>(a->op, v, L, out, 0, 0);
    check_launch("sj_reduce_block");
}

/*
 * w = c a x + y or c (a / b) x + y, then, with a partial buffer, the lanes
 * and the tree of w . w over the new w (kernels/ids.h, SJ__K_AXPY_DOT): the
 * launches of an axpy and of a DOT partial, in order on the worker's stream.
 */
void cuda_axpy_dot(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int flags = a->op;
    int i = 2;
    const int64_t n = dev_n(buffers[0]);
    void *w = dev_ptr(buffers[0]);
    const void *x = dev_ptr(buffers[1]);
    const void *y = flags & SJ__AXPY_DOT_Y ? dev_ptr(buffers[i++]) : w;
    const double *sa = (const double *)dev_ptr(buffers[i++]);
    const double *sb = flags & SJ__AXPY_DOT_DIV ? (const double *)dev_ptr(buffers[i++]) : NULL;
    double *out = flags & SJ__AXPY_DOT_PARTIAL ? (double *)dev_ptr(buffers[i]) : NULL;
    if (a->dtype == SJ_FLOAT64) {
        LAUNCH(k_axpy_ratio_d, n)
        (n, (double *)w, (const double *)x, (const double *)y, a->a, sa, sb);
    } else {
        LAUNCH(k_axpy_ratio_f, n)(n, (float *)w, (const float *)x, (const float *)y, a->a, sa, sb);
    }
    if (out) {
        const int64_t L = sj__lanes(n);
        double *v = (double *)scratch((size_t)L * sizeof(double));
        if (!v) {
            sj__kernel_fail("sj_axpy_dot: cannot allocate %lld doubles on the device",
                            (long long)L);
            return;
        }
        if (a->dtype == SJ_FLOAT64)
            LAUNCH(k_lanes_d, L)(SJ_REDUCE_DOT, (const double *)w, (const double *)w, n, L, v);
        else
            LAUNCH(k_lanes_f, L)(SJ_REDUCE_DOT, (const float *)w, (const float *)w, n, L, v);
        k_tree<<<1, 1024, 0, stream()>>>(SJ_REDUCE_DOT, v, L, out, 0, 0);
    }
    check_launch("sj_axpy_dot");
}

/* ---- graph scalars: one thread --------------------------------------------------- */

__global__ void k_combine(int op, double *p, const double *q)
{
    *p = sj__g_combine(op, *p, *q);
}
__global__ void k_finish(int op, double *p, int64_t count)
{
    *p = sj__g_finish(op, *p, count);
}
__global__ void k_scalar_binary(int op, double *c, const double *x, const double *y)
{
    *c = sj__g_scalar_binary(op, *x, *y);
}
__global__ void k_scalar_set(double *p, double v)
{
    *p = v;
}

void cuda_combine(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    k_combine<<<1, 1, 0, stream()>>>(a->op, (double *)dev_ptr(buffers[0]),
                                     (const double *)dev_ptr(buffers[1]));
    check_launch("sj_reduce_combine");
}

void cuda_finish(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    k_finish<<<1, 1, 0, stream()>>>(a->op, (double *)dev_ptr(buffers[0]), a->count);
    check_launch("sj_reduce_finish");
}

void cuda_scalar_binary(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    k_scalar_binary<<<1, 1, 0, stream()>>>(a->op, (double *)dev_ptr(buffers[0]),
                                           (const double *)dev_ptr(buffers[1]),
                                           (const double *)dev_ptr(buffers[2]));
    check_launch("sj_scalar_binary");
}

void cuda_scalar_set(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    k_scalar_set<<<1, 1, 0, stream()>>>((double *)dev_ptr(buffers[0]), a->a);
    check_launch("sj_scalar_set");
}

/* ---- vectors of per-block results -------------------------------------------------- */

__global__ void k_gather(int64_t n, double *out, int64_t at, const double *in)
{
    GRID_STRIDE(j, n) sj__g_gather(j, out, at, in);
}
__global__ void k_scatter(int64_t n, double *part, const int *block, const double *in)
{
    GRID_STRIDE(j, n) sj__g_scatter(j, part, block, in);
}

/* A short block list travels as a kernel parameter (CUDA takes up to 4 KiB of them). */
const int FEW_BLOCKS = 768;
typedef struct block_list {
    int b[FEW_BLOCKS];
} block_list_t;

static_assert(sizeof(block_list_t) + 64 <= 4096, "a block list must fit CUDA's parameter space");

__global__ void k_scatter_few(int64_t n, double *part, block_list_t blocks, int64_t from,
                              const double *in)
{
    GRID_STRIDE(j, n) sj__g_scatter(j, part, blocks.b + from, in);
}

void cuda_gather(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    double *out = (double *)dev_ptr(buffers[0]);
    int64_t at = a->count;
    for (int i = 1; i <= a->nin; i++) {
        const int64_t n = dev_n(buffers[i]);
        LAUNCH(k_gather, n)(n, out, at, (const double *)dev_ptr(buffers[i]));
        at += n;
    }
    check_launch("sj_reduce_gather");
}

/*
 * The per-block results to their blocks' places, the tree, the final step.
 * The block list follows the arguments in host memory: a short one goes to
 * the kernels as a parameter; a long one is copied to the device scratch
 * after the values (from pageable memory, a copy that first waits for the
 * stream: only past FEW_BLOCKS blocks).
 */
void cuda_reduce_all(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = (const sj__kargs_t *)cl_arg;
    const int *block = (const int *)(a + 1);
    int64_t total = 0;
    for (int i = 1; i <= a->nin; i++)
        total += dev_n(buffers[i]);
    const int few = total <= FEW_BLOCKS;
    char *s = (char *)scratch((size_t)total * (sizeof(double) + (few ? 0 : sizeof(int))));
    if (!s) {
        sj__kernel_fail("sj_reduce_all: cannot allocate %lld partial results on the device",
                        (long long)total);
        return;
    }
    double *part = (double *)s;
    int *dblock = (int *)(s + (size_t)total * sizeof(double));
    block_list_t list;
    if (few)
        memcpy(list.b, block, (size_t)total * sizeof(int));
    else if (cudaMemcpyAsync(dblock, block, (size_t)total * sizeof(int), cudaMemcpyHostToDevice,
                             stream()) != cudaSuccess) {
        sj__kernel_fail("sj_reduce_all: cannot copy the block list to the device");
        return;
    }
    int64_t k = 0;
    for (int i = 1; i <= a->nin; i++) {
        const int64_t n = dev_n(buffers[i]);
        const double *in = (const double *)dev_ptr(buffers[i]);
        if (few)
            LAUNCH(k_scatter_few, n)(n, part, list, k, in);
        else
            LAUNCH(k_scatter, n)(n, part, dblock + k, in);
        k += n;
    }
    k_tree<<<1, 1024, 0, stream()>>>(a->op, part, total, (double *)dev_ptr(buffers[0]), 1,
                                     a->count);
    check_launch("sj_reduce_all");
}

} /* namespace */

/* ---- the tables the registry reads -------------------------------------------------- */

extern "C" sj__cpu_fn_t sj__cuda_body(int kernel)
{
    switch (kernel) {
    case SJ__K_FILL:
        return cuda_fill;
    case SJ__K_SCALE:
        return cuda_scale;
    case SJ__K_AXPBY:
        return cuda_axpby;
    case SJ__K_MUL:
        return cuda_mul;
    case SJ__K_COPY:
        return cuda_copy;
    case SJ__K_RAND:
        return cuda_rand;
    case SJ__K_BOXCOPY:
        return sj__cuda_boxcopy;
    case SJ__K_PARTIAL:
        return cuda_partial;
    case SJ__K_COMBINE:
        return cuda_combine;
    case SJ__K_FINISH:
        return cuda_finish;
    case SJ__K_SCALAR_BINARY:
        return cuda_scalar_binary;
    case SJ__K_AXPY_SCALAR:
        return cuda_axpy_scalar;
    case SJ__K_SCALE_SCALAR:
        return cuda_scale_scalar;
    case SJ__K_SCALAR_SET:
        return cuda_scalar_set;
    case SJ__K_GATHER:
        return cuda_gather;
    case SJ__K_REDUCE_ALL:
        return cuda_reduce_all;
    case SJ__K_AXPY_DOT:
        return cuda_axpy_dot;
    case SJ__K_HALO_PACK:
        return sj__cuda_halo_pack;
    default:
        return NULL;
    }
}

extern "C" sj__cpu_fn_t sj__cuda_user_body(int family)
{
    switch (family) {
    case SJ__K_MAP:
        return sj__cuda_map;
    case SJ__K_OP:
        return sj__cuda_op;
    case SJ__K_HALO_INTERIOR:
    case SJ__K_HALO_FRAME:
    case SJ__K_HALO_PADDED:
        return sj__cuda_stencil;
    default:
        return NULL;
    }
}

extern "C" sj__cuda_cond_t sj__cuda_condition(int kernel)
{
    return kernel == SJ__K_RAND ? rand_on_device : NULL;
}
