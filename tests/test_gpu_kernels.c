// sj-test: nprocs=1
/*
 * The CUDA kernels without a GPU: each launch of codelets/cuda_kernels.cu
 * and halo_cuda.cu is emulated on the host by running the per-thread
 * functions of codelets/gpu_kernels.h over every thread index (a tree level
 * by level, as the kernels' __syncthreads do), from the same launch plans
 * (sj__g_*_plan), and compared bit for bit with the CPU kernel bodies run on
 * the same buffers: elementwise algebra, reduction partials of every op,
 * graph scalars, gathers and the final reduction, box copies, halo packing
 * and stencil assembly on 1-, 2- and 3-D blocks of odd sizes, compact and
 * strided. Each family also checks that a deliberately wrong index or lane
 * count is caught: the comparison can fail.
 *
 * Last, sj_stencil_options_t.cuda through the public call, on CPU workers,
 * and in CUDA builds which codelets StarPU may run on CUDA workers.
 *
 * The emulation of a stencil task repeats sj__cuda_stencil's host side
 * (which part, which buffer, where the user function's `in` points); the
 * user function is the CPU one, run on the assembled copy.
 */
#include <starjets/config.h>
#include <starpu.h>

#include "sj_test.h"

#include "codelets/codelets.h"
#include "codelets/gpu_kernels.h"

/* ---- buffers as StarPU hands them to a kernel ------------------------------------- */

static struct starpu_vector_interface vec(void *p, int64_t n, size_t es)
{
    struct starpu_vector_interface v;
    memset(&v, 0, sizeof v);
    v.id = STARPU_VECTOR_INTERFACE_ID;
    v.ptr = (uintptr_t)p;
    v.nx = (uint32_t)n;
    v.elemsize = es;
    v.allocsize = (size_t)n * es;
    return v;
}

/* A strided view: n[0] x n[1] x n[2] elements, columns ld0 apart, planes ld0 * ld1. */
static struct starpu_block_interface view(void *p, const int64_t n[3], int64_t ld0, int64_t ld1,
                                          size_t es)
{
    struct starpu_block_interface b;
    memset(&b, 0, sizeof b);
    b.id = STARPU_BLOCK_INTERFACE_ID;
    b.ptr = (uintptr_t)p;
    b.nx = (uint32_t)n[0];
    b.ny = (uint32_t)n[1];
    b.nz = (uint32_t)n[2];
    b.ldy = (uint32_t)ld0;
    b.ldz = (uint32_t)(ld0 * ld1);
    b.elemsize = es;
    return b;
}

/* Values of mixed signs and magnitudes, so that the order of operations shows in the bits. */
static uint64_t rng = 88172645463325252ull;

static double next_value(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    const double m = (double)(int64_t)(rng % 2000001) - 1000000.0;
    return m / 7919.0 * ldexp(1.0, (int)(rng >> 59) - 8);
}

static void *random_buffer(int64_t n, int dtype)
{
    const size_t es = dtype == SJ_FLOAT64 ? 8 : 4;
    void *p = malloc((size_t)(n > 0 ? n : 1) * es);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++)
        if (dtype == SJ_FLOAT64)
            ((double *)p)[i] = next_value();
        else
            ((float *)p)[i] = (float)next_value();
    return p;
}

static void *dup_buffer(const void *p, size_t bytes)
{
    void *q = malloc(bytes ? bytes : 1);
    assert_non_null(q);
    memcpy(q, p, bytes);
    return q;
}

/* Elements that differ in their bits, after printing the first. */
static int64_t bits_differ(const char *what, const void *a, const void *b, int64_t n, size_t es)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (memcmp((const char *)a + i * es, (const char *)b + i * es, es) != 0 && bad++ == 0)
            printf("%s: element %lld differs\n", what, (long long)i);
    return bad;
}

static const int dtypes[2] = {SJ_FLOAT64, SJ_FLOAT32};
static const int64_t sizes[] = {1, 2, 3, 7, 64, 255, 1000, 4097};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

/* ---- elementwise algebra -------------------------------------------------------------- */

/* One launch over n elements: kernel k of the elementwise family on y (x, z as needed). */
enum {
    E_FILL,
    E_SCALE,
    E_AXPBY0,
    E_AXPBY1,
    E_AXPBY,
    E_MUL_ZXY,
    E_MUL_ZZY,
    E_MUL_ZZZ,
    E_COPY,
    E_AXPY_SCALAR,
    E_SCALE_SCALAR,
    E_COUNT
};

static void emulate_elementwise(int k, int dtype, int64_t n, void *y, const void *x, const void *z,
                                double a, double b, const double *alpha)
{
    for (int64_t i = 0; i < n; i++) {
        if (dtype == SJ_FLOAT64) {
            double *Y = y;
            const double *X = x, *Z = z;
            switch (k) {
            case E_FILL:
                sj__g_fill_d(i, Y, a);
                break;
            case E_SCALE:
                sj__g_scale_d(i, Y, a);
                break;
            case E_AXPBY0:
            case E_AXPBY1:
            case E_AXPBY:
                sj__g_axpby_d(i, Y, X, a, b);
                break;
            case E_MUL_ZXY:
                sj__g_mul_d(i, SJ__MUL_ZXY, Y, X, Z);
                break;
            case E_MUL_ZZY:
                sj__g_mul_d(i, SJ__MUL_ZZY, Y, Y, X);
                break;
            case E_MUL_ZZZ:
                sj__g_mul_d(i, SJ__MUL_ZZZ, Y, Y, Y);
                break;
            case E_COPY:
                sj__g_copy_u64(i, y, x);
                break;
            case E_AXPY_SCALAR:
                sj__g_axpy_scalar_d(i, Y, X, a, alpha);
                break;
            default:
                sj__g_scale_scalar_d(i, Y, a, alpha);
                break;
            }
        } else {
            float *Y = y;
            const float *X = x, *Z = z;
            switch (k) {
            case E_FILL:
                sj__g_fill_f(i, Y, (float)a);
                break;
            case E_SCALE:
                sj__g_scale_f(i, Y, (float)a);
                break;
            case E_AXPBY0:
            case E_AXPBY1:
            case E_AXPBY:
                sj__g_axpby_f(i, Y, X, (float)a, (float)b);
                break;
            case E_MUL_ZXY:
                sj__g_mul_f(i, SJ__MUL_ZXY, Y, X, Z);
                break;
            case E_MUL_ZZY:
                sj__g_mul_f(i, SJ__MUL_ZZY, Y, Y, X);
                break;
            case E_MUL_ZZZ:
                sj__g_mul_f(i, SJ__MUL_ZZZ, Y, Y, Y);
                break;
            case E_COPY:
                sj__g_copy_u32(i, y, x);
                break;
            case E_AXPY_SCALAR:
                sj__g_axpy_scalar_f(i, Y, X, a, alpha);
                break;
            default:
                sj__g_scale_scalar_f(i, Y, a, alpha);
                break;
            }
        }
    }
}

/* The CPU body of elementwise kernel k on the same buffers. */
static void cpu_elementwise(int k, int dtype, int64_t n, void *y, void *x, void *z, double a,
                            double b, double *alpha)
{
    const size_t es = dtype == SJ_FLOAT64 ? 8 : 4;
    struct starpu_vector_interface vy = vec(y, n, es), vx = vec(x, n, es), vz = vec(z, n, es),
                                   va = vec(alpha, 1, 8);
    sj__kargs_t args = {.dtype = dtype, .a = a, .b = b};
    void *bufs[3] = {&vy, &vx, &vz};
    switch (k) {
    case E_FILL:
        sj__cpu_fill(bufs, &args);
        break;
    case E_SCALE:
        sj__cpu_scale(bufs, &args);
        break;
    case E_AXPBY0:
    case E_AXPBY1:
    case E_AXPBY:
        sj__cpu_axpby(bufs, &args);
        break;
    case E_MUL_ZXY:
        args.op = SJ__MUL_ZXY;
        sj__cpu_mul(bufs, &args);
        break;
    case E_MUL_ZZY:
        args.op = SJ__MUL_ZZY;
        sj__cpu_mul(bufs, &args);
        break;
    case E_MUL_ZZZ:
        args.op = SJ__MUL_ZZZ;
        sj__cpu_mul(bufs, &args);
        break;
    case E_COPY:
        sj__cpu_copy(bufs, &args);
        break;
    case E_AXPY_SCALAR:
        bufs[2] = &va;
        sj__cpu_axpy_scalar(bufs, &args);
        break;
    default:
        bufs[1] = &va;
        sj__cpu_scale_scalar(bufs, &args);
        break;
    }
}

static void test_elementwise(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++)
        for (int s = 0; s < NSIZES; s++)
            for (int k = 0; k < E_COUNT; k++) {
                const int dtype = dtypes[t];
                const int64_t n = sizes[s];
                const size_t es = dtype == SJ_FLOAT64 ? 8 : 4;
                void *y = random_buffer(n, dtype), *x = random_buffer(n, dtype),
                     *z = random_buffer(n, dtype);
                void *y2 = dup_buffer(y, (size_t)n * es);
                const double a = next_value();
                const double b = k == E_AXPBY0 ? 0.0 : k == E_AXPBY1 ? 1.0 : next_value();
                double alpha = next_value();
                cpu_elementwise(k, dtype, n, y, x, z, a, b, &alpha);
                emulate_elementwise(k, dtype, n, y2, x, z, a, b, &alpha);
                char what[64];
                snprintf(what, sizeof what, "elementwise %d, dtype %d, n %lld", k, dtype,
                         (long long)n);
                assert_int_equal(bits_differ(what, y, y2, n, es), 0);
                free(y);
                free(y2);
                free(x);
                free(z);
            }
}

/* ---- uniform random numbers ---------------------------------------------------------------- */

/* Block n at corner lo of an array of shape g: the CPU's numbers and the emulated launch's. */
static int64_t check_uniform(const int64_t n[3], const int64_t lo[3], const int64_t g[3], int dtype,
                             int mistake)
{
    const size_t es = dtype == SJ_FLOAT64 ? 8 : 4;
    sj__kargs_t a = {.dtype = dtype, .op = 0, .seed = 0x1234567890abcdefull};
    for (int d = 0; d < 3; d++) {
        a.blk.dims[d] = n[d];
        a.blk.lo[d] = lo[d];
        a.blk.hi[d] = lo[d] + n[d];
        a.blk.gdims[d] = g[d];
    }
    const int64_t cells = n[0] * n[1] * n[2];
    a.blk.nelems = cells;
    char *cpu = calloc((size_t)cells, es), *gpu = calloc((size_t)cells, es);
    assert_true(cpu && gpu);
    struct starpu_vector_interface v = vec(cpu, cells, es);
    void *bufs[1] = {&v};
    sj__cpu_rand(bufs, &a);
    sj_block_info_t b = a.blk;
    if (mistake) /* the array's shape taken for the block's */
        b.gdims[0] = b.dims[0];
    for (int64_t t = 0; t < cells; t++)
        if (dtype == SJ_FLOAT64)
            sj__g_uniform_d(t, (double *)gpu, &b, a.seed);
        else
            sj__g_uniform_f(t, (float *)gpu, &b, a.seed);
    const int64_t bad =
        bits_differ(mistake ? "uniform (planted mistake)" : "uniform", cpu, gpu, cells, es);
    free(cpu);
    free(gpu);
    return bad;
}

static void test_uniform(void **state)
{
    (void)state;
    const int64_t cases[][3][3] = {{{13, 1, 1}, {5, 0, 0}, {40, 1, 1}},
                                   {{7, 5, 1}, {3, 10, 0}, {11, 17, 1}},
                                   {{6, 5, 4}, {0, 2, 7}, {6, 9, 13}},
                                   {{1, 9, 3}, {4, 0, 1}, {5, 9, 4}},
                                   {{9, 8, 5}, {30, 16, 5}, {50, 24, 10}}};
    for (int t = 0; t < 2; t++)
        for (int c = 0; c < 5; c++)
            assert_int_equal(check_uniform(cases[c][0], cases[c][1], cases[c][2], dtypes[t], 0), 0);
    assert_true(check_uniform(cases[4][0], cases[4][1], cases[4][2], SJ_FLOAT64, 1) > 0);
}

/* ---- reduction partials ------------------------------------------------------------------ */

static const int reduce_ops[] = {SJ_REDUCE_SUM,   SJ_REDUCE_MEAN,    SJ_REDUCE_NORM1,
                                 SJ_REDUCE_NORM2, SJ_REDUCE_NORMINF, SJ_REDUCE_MIN,
                                 SJ_REDUCE_MAX,   SJ_REDUCE_DOT};
#define NOPS ((int)(sizeof reduce_ops / sizeof reduce_ops[0]))

/* The pairwise tree of k_tree over v[0..n): each level to its end before the next. */
static double emulate_tree(int op, double *v, int64_t n)
{
    for (int64_t s = 1; s < n; s *= 2)
        for (int64_t p = 0; p < sj__g_tree_pairs(n, s); p++)
            sj__g_tree_pair(op, v, s, p);
    return v[0];
}

/* k_lanes with L lanes (sj__lanes(m) in the kernel; another value to show a mistake), then k_tree.
 */
static double emulate_partial(int op, int dtype, const void *x, const void *y, int64_t m, int64_t L)
{
    double *v = malloc((size_t)L * sizeof *v);
    assert_non_null(v);
    for (int64_t l = 0; l < L; l++)
        v[l] =
            dtype == SJ_FLOAT64 ? sj__g_lane_d(op, x, y, m, L, l) : sj__g_lane_f(op, x, y, m, L, l);
    const double r = emulate_tree(op, v, L);
    free(v);
    return r;
}

static double cpu_partial(int op, int dtype, void *xb, void *yb)
{
    double out = 0;
    struct starpu_vector_interface vo = vec(&out, 1, 8);
    void *bufs[3] = {&vo, xb, yb};
    sj__kargs_t args = {.dtype = dtype, .op = op};
    sj__cpu_partial(bufs, &args);
    return out;
}

static void test_partials(void **state)
{
    (void)state;
    /* lane counts from 1 to SJ__LANES_MAX: around 4, 512 (8 lanes), 64 L, and the most */
    const int64_t ms[] = {1, 3, 4, 5, 511, 512, 513, 1023, 4096 * 64 + 5, 1100000};
    for (int t = 0; t < 2; t++)
        for (size_t s = 0; s < sizeof ms / sizeof ms[0]; s++)
            for (int o = 0; o < NOPS; o++) {
                const int dtype = dtypes[t], op = reduce_ops[o];
                const int64_t m = ms[s];
                if (m > 100000 && o % 3 != 0)
                    continue; /* the largest block for a few ops: time */
                const size_t es = dtype == SJ_FLOAT64 ? 8 : 4;
                void *x = random_buffer(m, dtype), *y = random_buffer(m, dtype);
                struct starpu_vector_interface vx = vec(x, m, es), vy = vec(y, m, es);
                const double cpu = cpu_partial(op, dtype, &vx, &vy);
                const double gpu =
                    emulate_partial(op, dtype, x, op == SJ_REDUCE_DOT ? y : x, m, sj__lanes(m));
                if (memcmp(&cpu, &gpu, sizeof cpu) != 0)
                    printf("partial op %d dtype %d m %lld: cpu %.17g gpu %.17g\n", op, dtype,
                           (long long)m, cpu, gpu);
                assert_memory_equal(&cpu, &gpu, sizeof cpu);
                free(x);
                free(y);
            }
}

/*
 * SJ__K_AXPY_DOT: cuda_axpy_dot's launches (the update over every element,
 * then the lanes and the tree of w . w over the new w) against the CPU body,
 * in place and apart, with and without the divisor.
 */
static void test_axpy_dot(void **state)
{
    (void)state;
    const uint64_t saved = rng; /* the later tests keep the values they were written with */
    const int64_t ms[] = {1, 5, 513, 4097, 4096 * 64 + 5, 1100000};
    double sa = next_value(), sb = next_value();
    for (int t = 0; t < 2; t++)
        for (size_t s = 0; s < sizeof ms / sizeof ms[0]; s++)
            for (int flags = 0; flags < 4; flags++) { /* SJ__AXPY_DOT_Y, SJ__AXPY_DOT_DIV */
                const int dtype = dtypes[t], apart = flags & SJ__AXPY_DOT_Y,
                          div = flags & SJ__AXPY_DOT_DIV;
                const int64_t m = ms[s];
                const size_t es = dtype == SJ_FLOAT64 ? 8 : 4, bytes = (size_t)m * es;
                void *x = random_buffer(m, dtype), *y = random_buffer(m, dtype);
                void *wc = apart ? random_buffer(m, dtype) : dup_buffer(y, bytes);
                void *wg = apart ? dup_buffer(wc, bytes) : dup_buffer(y, bytes);
                double cpu = 0, gpu;
                struct starpu_vector_interface vw = vec(wc, m, es), vx = vec(x, m, es),
                                               vy = vec(y, m, es), va = vec(&sa, 1, 8),
                                               vb = vec(&sb, 1, 8), vo = vec(&cpu, 1, 8);
                void *bufs[6] = {&vw, &vx};
                int n = 2;
                if (apart)
                    bufs[n++] = &vy;
                bufs[n++] = &va;
                if (div)
                    bufs[n++] = &vb;
                bufs[n++] = &vo;
                sj__kargs_t args = {.dtype = dtype, .a = -1.25, .op = flags | SJ__AXPY_DOT_PARTIAL};
                sj__cpu_axpy_dot(bufs, &args);
                const void *yg = apart ? y : wg;
                for (int64_t i = 0; i < m; i++)
                    if (dtype == SJ_FLOAT64)
                        sj__g_axpy_ratio_d(i, wg, x, yg, -1.25, &sa, div ? &sb : NULL);
                    else
                        sj__g_axpy_ratio_f(i, wg, x, yg, -1.25, &sa, div ? &sb : NULL);
                gpu = emulate_partial(SJ_REDUCE_DOT, dtype, wg, wg, m, sj__lanes(m));
                assert_int_equal(bits_differ("axpy_dot", wc, wg, m, es), 0);
                if (memcmp(&cpu, &gpu, sizeof cpu) != 0)
                    printf("axpy_dot dtype %d m %lld flags %d: cpu %.17g gpu %.17g\n", dtype,
                           (long long)m, flags, cpu, gpu);
                assert_memory_equal(&cpu, &gpu, sizeof cpu);
                free(x);
                free(y);
                free(wc);
                free(wg);
            }
    rng = saved;
}

/*
 * Min and max keep the first of equal values (signed zeros) and the first
 * NaN of a lane: terms of zeros of random signs and NaNs of distinct
 * payloads show the order in which a lane and the tree combine them.
 */
static void test_partial_order(void **state)
{
    (void)state;
    const int64_t ms[] = {5, 600, 70001};
    for (size_t s = 0; s < sizeof ms / sizeof ms[0]; s++)
        for (int op = SJ_REDUCE_MIN; op <= SJ_REDUCE_MAX; op++)
            for (int nans = 0; nans < 2; nans++) {
                const int64_t m = ms[s];
                double *x = random_buffer(m, SJ_FLOAT64);
                for (int64_t i = 0; i < m; i++) {
                    const uint64_t bits =
                        (x[i] < 0 ? 0x8000000000000000ull : 0) |
                        (nans && i % 97 == 3 ? 0x7ff8000000000000ull + (uint64_t)i : 0);
                    memcpy(&x[i], &bits, sizeof bits);
                }
                struct starpu_vector_interface vx = vec(x, m, 8);
                const double cpu = cpu_partial(op, SJ_FLOAT64, &vx, &vx);
                const double gpu = emulate_partial(op, SJ_FLOAT64, x, x, m, sj__lanes(m));
                assert_memory_equal(&cpu, &gpu, sizeof cpu);
                free(x);
            }
}

/* A strided view on the CPU (column by column) and its compact device copy give the same bits. */
static void test_partial_views(void **state)
{
    (void)state;
    const int64_t n[3] = {37, 29, 3}, ld0 = 41, ld1 = 31;
    for (int t = 0; t < 2; t++)
        for (int o = 0; o < NOPS; o++) {
            const int dtype = dtypes[t], op = reduce_ops[o];
            const size_t es = dtype == SJ_FLOAT64 ? 8 : 4;
            const int64_t m = n[0] * n[1] * n[2];
            char *host = random_buffer(ld0 * ld1 * n[2], dtype);
            char *x = malloc((size_t)m * es), *y = random_buffer(m, dtype);
            assert_non_null(x);
            for (int64_t k = 0; k < n[2]; k++)
                for (int64_t j = 0; j < n[1]; j++)
                    memcpy(x + (size_t)((k * n[1] + j) * n[0]) * es,
                           host + (size_t)((k * ld1 + j) * ld0) * es, (size_t)n[0] * es);
            struct starpu_block_interface vx = view(host, n, ld0, ld1, es);
            struct starpu_vector_interface vy = vec(y, m, es);
            const double cpu = cpu_partial(op, dtype, &vx, &vy);
            const double gpu =
                emulate_partial(op, dtype, x, op == SJ_REDUCE_DOT ? y : x, m, sj__lanes(m));
            assert_memory_equal(&cpu, &gpu, sizeof cpu);
            free(host);
            free(x);
            free(y);
        }
}

/* Half the lanes, or the terms dealt in another order, give other bits: the check can fail. */
static void test_partial_mistakes(void **state)
{
    (void)state;
    const int64_t m = 100003;
    double *x = random_buffer(m, SJ_FLOAT64);
    struct starpu_vector_interface vx = vec(x, m, 8);
    const double cpu = cpu_partial(SJ_REDUCE_SUM, SJ_FLOAT64, &vx, &vx);
    const double right = emulate_partial(SJ_REDUCE_SUM, SJ_FLOAT64, x, x, m, sj__lanes(m));
    const double half = emulate_partial(SJ_REDUCE_SUM, SJ_FLOAT64, x, x, m, sj__lanes(m) / 2);
    assert_memory_equal(&cpu, &right, sizeof cpu);
    assert_memory_not_equal(&cpu, &half, sizeof cpu);
    /* a tree that pairs neighbours the other way round: a sequential sum of the lanes */
    const int64_t L = sj__lanes(m);
    double seq = 0;
    for (int64_t l = 0; l < L; l++)
        seq += sj__g_lane_d(SJ_REDUCE_SUM, x, x, m, L, l);
    assert_memory_not_equal(&cpu, &seq, sizeof cpu);
    free(x);
}

/* ---- graph scalars, gathers, the final reduction ------------------------------------------ */

static void test_scalars(void **state)
{
    (void)state;
    const double vals[] = {1.5, -2.25, 0.1, 3e300, -0.0, NAN, INFINITY};
    const int nv = (int)(sizeof vals / sizeof vals[0]);
    for (int i = 0; i < nv; i++)
        for (int j = 0; j < nv; j++) {
            double p = vals[i], q = vals[j];
            struct starpu_vector_interface vp = vec(&p, 1, 8), vq = vec(&q, 1, 8);
            for (int o = 0; o < NOPS; o++) {
                sj__kargs_t args = {.op = reduce_ops[o], .count = 7};
                p = vals[i];
                void *bufs[2] = {&vp, &vq};
                sj__cpu_combine(bufs, &args);
                double g = sj__g_combine(reduce_ops[o], vals[i], vals[j]);
                assert_memory_equal(&p, &g, sizeof p);
                p = vals[i];
                sj__cpu_finish(bufs, &args);
                g = sj__g_finish(reduce_ops[o], vals[i], 7);
                assert_memory_equal(&p, &g, sizeof p);
            }
            for (int op = SJ_SCALAR_ADD; op <= SJ_SCALAR_DIV; op++) {
                double c = 0, a = vals[i], b = vals[j];
                struct starpu_vector_interface vc = vec(&c, 1, 8), va = vec(&a, 1, 8),
                                               vb = vec(&b, 1, 8);
                void *bufs[3] = {&vc, &va, &vb};
                sj__kargs_t args = {.op = op};
                sj__cpu_scalar_binary(bufs, &args);
                const double g = sj__g_scalar_binary(op, a, b);
                assert_memory_equal(&c, &g, sizeof c);
            }
        }
}

/* Inputs of these lengths, their values' blocks a permutation of 0..total. */
static void test_gather_reduce_all(void **state)
{
    (void)state;
    const int64_t lens[] = {3, 1, 5, 8, 2};
    const int nin = 5;
    int64_t total = 0;
    for (int i = 0; i < nin; i++)
        total += lens[i];
    double *in[5];
    struct starpu_vector_interface vin[5];
    for (int i = 0; i < nin; i++) {
        in[i] = random_buffer(lens[i], SJ_FLOAT64);
        vin[i] = vec(in[i], lens[i], 8);
    }
    /* GATHER from slot 4 */
    double *out = random_buffer(total + 4, SJ_FLOAT64),
           *out2 = dup_buffer(out, (size_t)(total + 4) * 8);
    struct starpu_vector_interface vout = vec(out, total + 4, 8);
    void *bufs[6] = {&vout, &vin[0], &vin[1], &vin[2], &vin[3], &vin[4]};
    sj__kargs_t gargs = {.nin = nin, .count = 4};
    sj__cpu_gather(bufs, &gargs);
    for (int i = 0, at = 4; i < nin; at += (int)lens[i], i++)
        for (int64_t j = 0; j < lens[i]; j++)
            sj__g_gather(j, out2, at, in[i]);
    assert_int_equal(bits_differ("gather", out, out2, total + 4, 8), 0);

    /* REDUCE_ALL: the arguments, then the block of each value */
    sj__kargs_t *args = calloc(1, sizeof *args + (size_t)total * sizeof(int));
    assert_non_null(args);
    int *block = (int *)(args + 1);
    for (int64_t k = 0; k < total; k++)
        block[k] = (int)((k * 7 + 3) % total); /* 7 and 19 are coprime */
    args->nin = nin;
    args->count = 1000;
    for (int o = 0; o < NOPS; o++) {
        for (int mistake = 0; mistake < 2; mistake++) {
            args->op = reduce_ops[o];
            double r = 0, part[64] = {0};
            struct starpu_vector_interface vr = vec(&r, 1, 8);
            bufs[0] = &vr;
            sj__cpu_reduce_all(bufs, args);
            for (int i = 0, k = 0; i < nin; k += (int)lens[i], i++)
                for (int64_t j = 0; j < lens[i]; j++)
                    sj__g_scatter(j, part, block + k + (mistake && i == 2 ? 1 : 0), in[i]);
            const double g = sj__g_finish(args->op, emulate_tree(args->op, part, total), 1000);
            if (!mistake)
                assert_memory_equal(&r, &g, sizeof r);
            else if (args->op == SJ_REDUCE_SUM) /* a value at a neighbour's place */
                assert_memory_not_equal(&r, &g, sizeof r);
        }
    }
    free(args);
    free(out);
    free(out2);
    for (int i = 0; i < nin; i++)
        free(in[i]);
}

/* ---- boxes ---------------------------------------------------------------------------------- */

/* One launch of k_pieces_u32/u64 on the host: every cell of every piece. */
static void emulate_pieces(const sj__g_piece_t *p, int n, size_t es)
{
    for (int i = 0; i < n; i++)
        for (int64_t t = 0; t < sj__g_box_cells(&p[i].box); t++)
            if (es == 8)
                sj__g_piece_u64(t, &p[i]);
            else
                sj__g_piece_u32(t, &p[i]);
}

/* A buffer of a block of shape n, compact (ld = n) or strided (ld > n). */
typedef struct buf {
    char *p;
    int64_t n[3], ld[2];
    size_t es;
    int strided;
    struct starpu_vector_interface v;
    struct starpu_block_interface b;
} buf_t;

static void buf_make(buf_t *b, const int64_t n[3], int strided, int dtype)
{
    b->es = dtype == SJ_FLOAT64 ? 8 : 4;
    memcpy(b->n, n, sizeof b->n);
    b->strided = strided;
    b->ld[0] = n[0] + (strided ? 3 : 0);
    b->ld[1] = n[1] + (strided ? 2 : 0);
    b->p = random_buffer(b->ld[0] * b->ld[1] * n[2], dtype);
    b->v = vec(b->p, n[0] * n[1] * n[2], b->es);
    b->b = view(b->p, n, b->ld[0], b->ld[1], b->es);
}

static void *buf_iface(buf_t *b)
{
    return b->strided ? (void *)&b->b : (void *)&b->v;
}

static int64_t buf_elems(const buf_t *b)
{
    return b->ld[0] * b->ld[1] * b->n[2];
}

/* Element strides of a buffer, as sj_cuda::dev_strides reads them. */
static void buf_strides(const buf_t *b, int64_t s[3])
{
    s[0] = 1;
    s[1] = b->ld[0];
    s[2] = b->ld[0] * b->ld[1];
}

static const int64_t shapes[][3] = {{1, 1, 1}, {13, 1, 1}, {7, 5, 1}, {1, 9, 1},
                                    {6, 5, 4}, {3, 1, 7},  {9, 8, 5}};
#define NSHAPES ((int)(sizeof shapes / sizeof shapes[0]))

/* Box copies from a src of shape sn into a dst of shape dn, with a wrong stride when told. */
static int64_t check_boxcopy(const int64_t dn[3], const int64_t sn[3], int dstrided, int sstrided,
                             int dtype, int mistake)
{
    buf_t dst, src;
    buf_make(&dst, dn, dstrided, dtype);
    buf_make(&src, sn, sstrided, dtype);
    sj__boxcopy_args_t a = {.elemsize = dst.es};
    for (int d = 0; d < 3; d++) {
        const int64_t most = dn[d] < sn[d] ? dn[d] : sn[d];
        a.n[d] = most > 2 ? most - 1 - d % 2 : most; /* a box smaller than both, when it can */
        a.dst_dims[d] = dn[d];
        a.src_dims[d] = sn[d];
        a.dst_off[d] = dn[d] - a.n[d];
        a.src_off[d] = (sn[d] - a.n[d]) / 2;
    }
    char *expect = dup_buffer(dst.p, (size_t)buf_elems(&dst) * dst.es);
    void *bufs[2] = {buf_iface(&dst), buf_iface(&src)};
    sj__cpu_boxcopy(bufs, &a);
    sj__g_piece_t p = {.dst = expect, .src = src.p};
    p.box = sj__g_boxcopy_plan(&a, dst.ld, src.ld);
    if (mistake)
        p.box.src_s[0] += 1;
    emulate_pieces(&p, 1, dst.es);
    const int64_t bad = bits_differ(mistake ? "boxcopy (planted mistake)" : "boxcopy", dst.p,
                                    expect, buf_elems(&dst), dst.es);
    free(expect);
    free(dst.p);
    free(src.p);
    return bad;
}

static void test_boxcopy(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < NSHAPES; i++)
            for (int j = 0; j < NSHAPES; j++)
                for (int strided = 0; strided < 4; strided++)
                    assert_int_equal(check_boxcopy(shapes[i], shapes[j], strided & 1, strided >> 1,
                                                   dtypes[t], 0),
                                     0);
    const int64_t dn[3] = {9, 8, 5}, sn[3] = {6, 5, 4};
    assert_true(check_boxcopy(dn, sn, 1, 0, SJ_FLOAT64, 1) > 0);
}

/* ---- halo packing --------------------------------------------------------------------------- */

/*
 * The strips of a block of shape n for width w: the rims along every
 * direction of the block's dimensions (nd of them), as halo.c makes them.
 */
static int rims(const int64_t n[3], int nd, int w, sj__halo_box_t box[SJ__HALO_MAX_DIRS])
{
    int count = 0;
    int dir[3];
    for (dir[2] = nd > 2 ? -1 : 0; dir[2] <= (nd > 2 ? 1 : 0); dir[2]++)
        for (dir[1] = nd > 1 ? -1 : 0; dir[1] <= (nd > 1 ? 1 : 0); dir[1]++)
            for (dir[0] = -1; dir[0] <= 1; dir[0]++) {
                if (!dir[0] && !dir[1] && !dir[2])
                    continue;
                for (int d = 0; d < 3; d++) {
                    box[count].lo[d] = dir[d] > 0 ? n[d] - w : 0;
                    box[count].hi[d] = dir[d] < 0 ? w : n[d];
                }
                count++;
            }
    return count;
}

static int64_t check_pack(const int64_t n[3], int nd, int w, int strided, int dtype, int mistake)
{
    buf_t src;
    buf_make(&src, n, strided, dtype);
    sj__halo_pack_args_t a = {.elemsize = src.es};
    a.stride[0] = 1;
    a.stride[1] = n[0];
    a.stride[2] = n[0] * n[1];
    a.nstrips = rims(n, nd, w, a.box);
    char *strip[SJ__HALO_MAX_DIRS], *strip2[SJ__HALO_MAX_DIRS];
    struct starpu_vector_interface vs[SJ__HALO_MAX_DIRS];
    void *bufs[1 + SJ__HALO_MAX_DIRS] = {buf_iface(&src)};
    sj__g_piece_t p[SJ__HALO_MAX_DIRS];
    int64_t sst[3];
    buf_strides(&src, sst);
    for (int s = 0; s < a.nstrips; s++) {
        int64_t cells = 1;
        for (int d = 0; d < 3; d++)
            cells *= a.box[s].hi[d] - a.box[s].lo[d];
        strip[s] = random_buffer(cells, dtype);
        strip2[s] = dup_buffer(strip[s], (size_t)cells * src.es);
        vs[s] = vec(strip[s], cells, src.es);
        bufs[1 + s] = &vs[s];
        p[s] = (sj__g_piece_t){.dst = strip2[s], .src = src.p};
        p[s].box = sj__g_pack_plan(&a, s, sst);
        if (mistake && s == a.nstrips - 1)
            p[s].box.src_at += 1;
    }
    sj__cpu_halo_pack(bufs, &a);
    emulate_pieces(p, a.nstrips, src.es);
    int64_t bad = 0;
    for (int s = 0; s < a.nstrips; s++) {
        bad += bits_differ(mistake ? "pack (planted mistake)" : "pack", strip[s], strip2[s],
                           (int64_t)vs[s].nx, src.es);
        free(strip[s]);
        free(strip2[s]);
    }
    free(src.p);
    return bad;
}

static void test_halo_pack(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < NSHAPES; i++) {
            const int nd = shapes[i][2] > 1 ? 3 : shapes[i][1] > 1 ? 2 : 1;
            for (int w = 1; w <= 2; w++)
                for (int strided = 0; strided < 2; strided++) {
                    int ok = 1;
                    for (int d = 0; d < nd; d++)
                        ok &= shapes[i][d] >= w;
                    if (ok)
                        assert_int_equal(check_pack(shapes[i], nd, w, strided, dtypes[t], 0), 0);
                }
        }
    const int64_t n[3] = {9, 8, 5};
    assert_true(check_pack(n, 3, 2, 1, SJ_FLOAT32, 1) > 0);
}

/* ---- stencil parts ------------------------------------------------------------------------- */

/*
 * The user function of these checks: each cell of the box from its
 * neighbours within `width` along the array's dimensions (the whole ghost
 * layer is read), with weights that make the order visible in the bits.
 */
static int heat(const sj_stencil_info_t *info, void *out, const void *in, void *ctx)
{
    (void)ctx;
    const int nd = info->blk.ndims, w = info->width;
    const int64_t *is = info->in_stride, *os = info->out_stride;
    for (int64_t k = info->lo[2]; k < info->hi[2]; k++)
        for (int64_t j = info->lo[1]; j < info->hi[1]; j++)
            for (int64_t i = info->lo[0]; i < info->hi[0]; i++) {
                const int64_t c = i * is[0] + j * is[1] + k * is[2];
                if (info->blk.dtype == SJ_FLOAT64) {
                    const double *x = in;
                    double s = 0.5 * x[c];
                    for (int d = 0; d < nd; d++)
                        for (int r = 1; r <= w; r++)
                            s = s + 0.125 / r * (x[c - r * is[d]] - 3.0 * x[c + r * is[d]]);
                    ((double *)out)[i * os[0] + j * os[1] + k * os[2]] = s;
                } else {
                    const float *x = in;
                    float s = 0.5f * x[c];
                    for (int d = 0; d < nd; d++)
                        for (int r = 1; r <= w; r++)
                            s = s +
                                0.125f / (float)r * (x[c - r * is[d]] - 3.0f * x[c + r * is[d]]);
                    ((float *)out)[i * os[0] + j * os[1] + k * os[2]] = s;
                }
            }
    return 0;
}

/*
 * sj__cuda_stencil's host side with the launches emulated: parts in order,
 * the padded copy assembled from the plans, `in` at the copy's origin.
 */
static void emulate_stencil(const sj__halo_args_t *a, char *const ptrs[],
                            const int64_t strides[][3], int mistake)
{
    const size_t es = a->info.blk.dtype == SJ_FLOAT64 ? 8 : 4;
    sj_stencil_info_t info = a->info;
    memcpy(info.out_stride, strides[0], sizeof info.out_stride);
    for (int p = 0; p < a->nparts; p++) {
        memcpy(info.lo, a->part[p].lo, sizeof info.lo);
        memcpy(info.hi, a->part[p].hi, sizeof info.hi);
        const char *in;
        char *pad = NULL;
        if (info.part == SJ_STENCIL_INTERIOR) {
            memcpy(info.in_stride, strides[1], sizeof info.in_stride);
            in = ptrs[1];
        } else {
            int64_t lo[3], origin;
            const int64_t cells = sj__g_padded(a, &a->part[p], lo, info.in_stride, &origin);
            pad = malloc((size_t)cells * es);
            assert_non_null(pad);
            memset(pad, 0xA5, (size_t)cells * es); /* cells left unassembled would show */
            sj__g_piece_t pc[SJ__G_MAX_PIECES];
            int n = 0;
            const uint64_t bits = sj__g_value_bits(a->info.blk.dtype, a->fixed_value);
            for (int r = 0; r < a->nsrc; r++) {
                const sj__halo_src_t *src = &a->src[r];
                int64_t sst[3] = {1, 1, 1};
                if (src->buf >= 0)
                    memcpy(sst, strides[src->buf], sizeof sst);
                if (!sj__g_assemble_plan(a, &a->part[p], r, sst, &pc[n].box))
                    continue;
                pc[n].dst = pad;
                pc[n].src = src->buf < 0 ? NULL : ptrs[src->buf];
                pc[n].bits = bits;
                if (mistake && r == 0) /* the block's box a cell short along dimension 0 */
                    pc[n].box.n[0] -= 1;
                n++;
            }
            emulate_pieces(pc, n, es);
            in = (const char *)((uintptr_t)pad + (uintptr_t)(origin * (int64_t)es));
        }
        heat(&info, ptrs[0], in, NULL);
        free(pad);
    }
}

/*
 * One stencil task on a block of shape n (nd dimensions), width w: its
 * output and input compact or strided; around it, direction by direction,
 * a strip, the fixed value, or the block itself (a periodic wrap onto
 * itself), in turn. Parts: the interior, the frame slabs, or the whole block.
 */
static int64_t check_stencil(const int64_t n[3], int nd, int w, int part, int strided, int dtype,
                             int mistake)
{
    const size_t es = dtype == SJ_FLOAT64 ? 8 : 4;
    sj__halo_args_t a;
    memset(&a, 0, sizeof a);
    a.fn = heat;
    a.fixed_value = 0.375;
    a.info.width = w;
    a.info.part = part;
    a.info.blk.ndims = nd;
    a.info.blk.dtype = dtype;
    for (int d = 0; d < 3; d++) {
        a.info.blk.dims[d] = n[d];
        a.info.out_stride[d] = d == 0 ? 1 : d == 1 ? n[0] : n[0] * n[1];
    }
    /* parts */
    if (part == SJ_STENCIL_INTERIOR || part == SJ_STENCIL_WHOLE) {
        a.nparts = 1;
        for (int d = 0; d < 3; d++) {
            const int inner = part == SJ_STENCIL_INTERIOR && d < nd;
            a.part[0].lo[d] = inner ? w : 0;
            a.part[0].hi[d] = inner ? n[d] - w : n[d];
        }
    } else { /* slabs: along d, both ends, inside the slabs of earlier dimensions */
        for (int d = 0; d < nd; d++)
            for (int side = 0; side < 2; side++) {
                sj__halo_box_t *b = &a.part[a.nparts++];
                for (int e = 0; e < 3; e++) {
                    b->lo[e] = e < d && e < nd ? w : 0;
                    b->hi[e] = e < d && e < nd ? n[e] - w : n[e];
                }
                b->lo[d] = side ? n[d] - w : 0;
                b->hi[d] = side ? n[d] : w;
            }
    }
    /* buffers: 0 out, 1 in, 2.. strips */
    buf_t out, in;
    buf_make(&out, n, strided, dtype);
    buf_make(&in, n, strided, dtype);
    void *ifaces[2 + SJ__HALO_MAX_DIRS] = {buf_iface(&out), buf_iface(&in)};
    char *ptrs[2 + SJ__HALO_MAX_DIRS] = {out.p, in.p};
    int64_t strides[2 + SJ__HALO_MAX_DIRS][3];
    buf_strides(&out, strides[0]);
    buf_strides(&in, strides[1]);
    struct starpu_vector_interface vs[SJ__HALO_MAX_DIRS];
    int nbufs = 2;
    a.nsrc = 1;
    a.src[0].buf = 1;
    for (int d = 0; d < 3; d++) {
        a.src[0].region.hi[d] = n[d];
        a.src[0].stride[d] = a.info.out_stride[d];
    }
    if (part != SJ_STENCIL_INTERIOR) {
        int dir[3], k = 0;
        for (dir[2] = nd > 2 ? -1 : 0; dir[2] <= (nd > 2 ? 1 : 0); dir[2]++)
            for (dir[1] = -1; dir[1] <= 1; dir[1]++)
                for (dir[0] = -1; dir[0] <= 1; dir[0]++, k++) {
                    if (!dir[0] && !dir[1] && !dir[2])
                        continue;
                    sj__halo_src_t *r = &a.src[a.nsrc++];
                    int64_t ext[3];
                    for (int d = 0; d < 3; d++) {
                        r->region.lo[d] = dir[d] < 0 ? -w : dir[d] > 0 ? n[d] : 0;
                        r->region.hi[d] = dir[d] < 0 ? 0 : dir[d] > 0 ? n[d] + w : n[d];
                        ext[d] = r->region.hi[d] - r->region.lo[d];
                    }
                    if (k % 3 == 0) {
                        r->buf = -1;
                    } else if (k % 3 == 1 && nd == 2) { /* periodic onto itself */
                        r->buf = 1;
                        for (int d = 0; d < 3; d++) {
                            r->shift[d] = -dir[d] * n[d];
                            r->stride[d] = a.info.out_stride[d];
                        }
                    } else {
                        r->buf = nbufs;
                        for (int d = 0; d < 3; d++)
                            r->shift[d] = -r->region.lo[d];
                        r->stride[0] = 1;
                        r->stride[1] = ext[0];
                        r->stride[2] = ext[0] * ext[1];
                        const int64_t cells = ext[0] * ext[1] * ext[2];
                        ptrs[nbufs] = random_buffer(cells, dtype);
                        vs[nbufs - 2] = vec(ptrs[nbufs], cells, es);
                        ifaces[nbufs] = &vs[nbufs - 2];
                        memcpy(strides[nbufs], r->stride, sizeof r->stride);
                        nbufs++;
                    }
                }
    }
    char *expect = dup_buffer(out.p, (size_t)buf_elems(&out) * es);
    sj__cpu_stencil(ifaces, &a);
    char *got = out.p;
    out.p = expect;
    ptrs[0] = expect;
    emulate_stencil(&a, ptrs, (const int64_t(*)[3])strides, mistake);
    const int64_t bad = bits_differ(mistake ? "stencil (planted mistake)" : "stencil", got, expect,
                                    buf_elems(&out), es);
    free(got);
    free(expect);
    free(in.p);
    for (int i = 2; i < nbufs; i++)
        free(ptrs[i]);
    return bad;
}

static void test_stencil_parts(void **state)
{
    (void)state;
    const int64_t blocks[][3] = {{7, 5, 1}, {6, 9, 1}, {5, 6, 4}, {9, 7, 5}};
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 4; i++) {
            const int nd = blocks[i][2] > 1 ? 3 : 2;
            for (int w = 1; w <= 2; w++)
                for (int part = 0; part < 3; part++)
                    for (int strided = 0; strided < 2; strided++)
                        assert_int_equal(
                            check_stencil(blocks[i], nd, w, part, strided, dtypes[t], 0), 0);
        }
    const int64_t n[3] = {9, 7, 5};
    assert_true(check_stencil(n, 3, 2, SJ_STENCIL_FRAME, 1, SJ_FLOAT64, 1) > 0);
}

#if SJ_USE_CUDA
/* The runtime's registry (src/runtime/rt_private.h, rt.h), declared here: the test only reads it.
 */
struct starpu_codelet *sj__codelet(sj__kernel_t kernel);
int sj__rt_kernel_variant(sj__kernel_t family, const char *name, int cuda, sj__kernel_t *kernel);

/*
 * Which codelets may run on CUDA workers, as StarPU sees them: every kernel
 * with a CUDA body; never the families whose CUDA body calls the user's
 * CUDA function (only their variants made with one); normal random numbers
 * refused by the RAND codelet's per-task test.
 */
static void check_cuda_codelets(void)
{
    const sj__kernel_t gpu[] = {
        SJ__K_FILL,          SJ__K_SCALE,       SJ__K_AXPBY,        SJ__K_MUL,        SJ__K_COPY,
        SJ__K_RAND,          SJ__K_BOXCOPY,     SJ__K_PARTIAL,      SJ__K_COMBINE,    SJ__K_FINISH,
        SJ__K_SCALAR_BINARY, SJ__K_AXPY_SCALAR, SJ__K_SCALE_SCALAR, SJ__K_SCALAR_SET, SJ__K_GATHER,
        SJ__K_REDUCE_ALL,    SJ__K_AXPY_DOT,    SJ__K_HALO_PACK};
    const sj__kernel_t cpu[] = {SJ__K_MAP,          SJ__K_HALO_INTERIOR, SJ__K_HALO_FRAME,
                                SJ__K_HALO_PADDED,  SJ__K_HALO_GATE,     SJ__K_PMAP_ITEM,
                                SJ__K_PREDUCE_PART, SJ__K_SPAWN,         SJ__K_OP};
    for (size_t i = 0; i < sizeof gpu / sizeof gpu[0]; i++) {
        assert_non_null(sj__cuda_body(gpu[i]));
        assert_true(sj__codelet(gpu[i])->where & STARPU_CUDA);
    }
    for (size_t i = 0; i < sizeof cpu / sizeof cpu[0]; i++)
        assert_false(sj__codelet(cpu[i])->where & STARPU_CUDA);
    const char *names[] = {"sj_stencil_interior_cuda", "sj_stencil_frame_cuda",
                           "sj_stencil_padded_cuda"};
    for (int k = SJ__K_HALO_INTERIOR; k <= SJ__K_HALO_PADDED; k++) {
        sj__kernel_t v;
        assert_int_equal(
            sj__rt_kernel_variant((sj__kernel_t)k, names[k - SJ__K_HALO_INTERIOR], 1, &v), 0);
        assert_true(sj__codelet(v)->where & STARPU_CUDA);
        assert_ptr_equal(sj__codelet(v)->cuda_funcs[0], sj__codelet(SJ__K_FILL)->cuda_funcs[0]);
    }
    sj__kargs_t uniform = {.op = 0}, normal = {.op = 1};
    assert_non_null(sj__codelet(SJ__K_RAND)->can_execute);
    assert_true(sj__cuda_condition(SJ__K_RAND)(&uniform));
    assert_false(sj__cuda_condition(SJ__K_RAND)(&normal));
    assert_null(sj__cuda_condition(SJ__K_AXPBY));
}
#endif

/* Never called here: a stencil's CUDA function runs on CUDA workers only. */
static int heat_not_on_cpus(const sj_stencil_info_t *info, void *out, const void *in, void *ctx)
{
    (void)info;
    (void)out;
    (void)in;
    (void)ctx;
    return 1;
}

/*
 * sj_stencil_options_t.cuda through the public call: refused when it is the
 * CPU function itself; otherwise the tasks run the CPU function on CPU
 * workers (the only ones here) and give the cells of a call without it.
 */
static void test_stencil_option(void **state)
{
    (void)state;
    SJ_ASSERT_OK(sj_init(NULL, NULL, NULL));
    const int64_t dims[2] = {23, 19};
    const int nb[2] = {2, 2};
    sj_space_t space;
    sj_array_t u, a, b;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, nb, &space));
    SJ_ASSERT_OK(sj_array_rand(space, NULL, 7, &u));
    SJ_ASSERT_OK(sj_array_zeros(space, NULL, &a));
    SJ_ASSERT_OK(sj_array_zeros(space, NULL, &b));
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    assert_null(o.cuda);
    o.cuda = heat;
    SJ_ASSERT_ERR(sj_array_stencil(u, a, 1, SJ_BOUNDARY_PERIODIC, &o, heat, NULL, 0), SJ_EINVAL);
    for (int mode = SJ_STENCIL_SPLIT; mode <= SJ_STENCIL_PADDED; mode++) {
        o.mode = (sj_stencil_mode_t)mode;
        o.cuda = heat_not_on_cpus;
        SJ_ASSERT_OK(sj_array_stencil(u, a, 2, SJ_BOUNDARY_FIXED, &o, heat, NULL, 0));
        o.cuda = NULL;
        SJ_ASSERT_OK(sj_array_stencil(u, b, 2, SJ_BOUNDARY_FIXED, &o, heat, NULL, 0));
        double ga[23 * 19], gb[23 * 19];
        SJ_ASSERT_OK(sj_array_gather(a, 0, ga));
        SJ_ASSERT_OK(sj_array_gather(b, 0, gb));
        assert_int_equal(bits_differ("stencil with opts.cuda", ga, gb, 23 * 19, 8), 0);
    }
    SJ_ASSERT_OK(sj_wait());
    sj_array_destroy(&u);
    sj_array_destroy(&a);
    sj_array_destroy(&b);
    sj_space_destroy(&space);
#if SJ_USE_CUDA
    check_cuda_codelets();
#endif
    SJ_ASSERT_OK(sj_finalize());
}

int main(void)
{
    // clang-format off
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elementwise),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_partials),
        cmocka_unit_test(test_axpy_dot),
        cmocka_unit_test(test_partial_order),
        cmocka_unit_test(test_partial_views),
        cmocka_unit_test(test_partial_mistakes),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_gather_reduce_all),
        cmocka_unit_test(test_boxcopy),
        cmocka_unit_test(test_halo_pack),
        cmocka_unit_test(test_stencil_parts),
        cmocka_unit_test(test_stencil_option), /* last: starts and stops starjets */
    };
    // clang-format on
    return cmocka_run_group_tests(tests, NULL, NULL);
}
