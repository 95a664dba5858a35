/*
 * The operator library and a user CUDA leaf on a GPU (CUDA builds only;
 * skipped, exit 77, where no CUDA device is found).
 *
 * starjets starts with one CUDA worker and no CPU worker, so every task runs
 * on the GPU: an apply that returns a result ran there (a task without a
 * CUDA version could not be submitted). Each library operator, in float64
 * and float32, forward and adjoint (nonlinear ones: forward, Jacobian and its
 * adjoint), plain and with alpha and beta, is compared with its CPU class
 * called directly on the host: bit for bit for every class but dense (within
 * 2 n eps (|M| |x|), any summation order) and the nonlinear elementwise ones
 * (CUDA's exp, log, tanh, pow and log1p against the host's: within a few
 * units in the last place). Chained applies on the same blocks (no gather
 * between them), a composition, and a user class whose CUDA function uses
 * the worker's stream and cuBLAS handle complete the picture.
 */
// sj-test: nprocs=1
#include "sj_test.h"

#include <starjets/config.h>
#include <starjets/cuda.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "op/library_classes.h"

enum { EXACT, VALUE, DENSE, MATH };

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static size_t esz(sj_dtype_t t)
{
    return t == SJ_FLOAT64 ? 8 : 4;
}

static double get(sj_dtype_t t, const void *p, int64_t i)
{
    return t == SJ_FLOAT64 ? ((const double *)p)[i] : ((const float *)p)[i];
}

static void *values(sj_dtype_t t, int64_t n, double lo, double hi)
{
    void *p = malloc((size_t)n * 8);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++) {
        const double v = lo + (hi - lo) * uniform();
        if (t == SJ_FLOAT64)
            ((double *)p)[i] = v;
        else
            ((float *)p)[i] = (float)v;
    }
    return p;
}

static sj_space_t space_of(sj_dtype_t t, int nd, const int64_t *dims)
{
    sj_space_t s;
    SJ_ASSERT_OK(sj_space_create(t, nd, dims, NULL, &s));
    return s;
}

/* The info a leaf task gets for an operator from dom to rng (params, state: the class's). */
static sj_op_info_t info_of(sj_space_t dom, sj_space_t rng, const void *params, size_t params_size,
                            const void *state, size_t state_size)
{
    sj_op_info_t info;
    memset(&info, 0, sizeof info);
    int nd;
    sj_dtype_t t;
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        info.dom_dims[d] = info.rng_dims[d] = 1;
    SJ_ASSERT_OK(sj_space_shape(dom, &t, &nd, info.dom_dims));
    info.dom_ndims = nd;
    SJ_ASSERT_OK(sj_space_shape(rng, &t, &nd, info.rng_dims));
    info.rng_ndims = nd;
    info.dtype = t;
    SJ_ASSERT_OK(sj_space_length(dom, &info.dom_n));
    SJ_ASSERT_OK(sj_space_length(rng, &info.rng_n));
    info.params = params;
    info.params_size = params_size;
    info.state = state;
    info.state_size = state_size;
    info.block_row = info.block_col = -1;
    return info;
}

/* got against want: bit for bit, or within the class's tolerance (scale: dense's |M| |x| bound). */
static void compare(const char *label, sj_dtype_t t, const void *got, const void *want, int64_t n,
                    int tol, double scale)
{
    const double eps = t == SJ_FLOAT64 ? 0x1p-52 : 0x1p-23;
    for (int64_t i = 0; i < n; i++) {
        const double g = get(t, got, i), w = get(t, want, i);
        int ok;
        if (tol == EXACT)
            ok = memcmp((const char *)got + i * esz(t), (const char *)want + i * esz(t), esz(t)) ==
                 0;
        else if (tol == VALUE) /* the zero operator: scaled zeros may be -0 */
            ok = g == w;
        else if (tol == DENSE)
            ok = fabs(g - w) <= scale;
        else
            ok = fabs(g - w) <= 8 * eps * (1 + fabs(w)) || (isnan(g) && isnan(w));
        if (!ok) {
            print_error("%s (%s): element %lld: GPU %.17g, CPU %.17g (scale %g)\n", label,
                        t == SJ_FLOAT64 ? "float64" : "float32", (long long)i, g, w, scale);
            fail();
        }
    }
}

/* 2 n eps max|M| sum|x|: bounds the rounding of op(M) x in any order of summation. */
static double dense_scale(const sj_op_info_t *info, const void *x, int64_t nx, int64_t inner)
{
    if (info->state == NULL)
        return 0;
    const int64_t nm = (int64_t)(info->state_size / esz(info->dtype));
    double mmax = 0, xsum = 0;
    for (int64_t i = 0; i < nm; i++)
        mmax = fmax(mmax, fabs(get(info->dtype, info->state, i)));
    for (int64_t i = 0; i < nx; i++)
        xsum += fabs(get(info->dtype, x, i));
    const double eps = info->dtype == SJ_FLOAT64 ? 0x1p-52 : 0x1p-23;
    return 2.0 * (double)inner * eps * mmax * xsum;
}

/*
 * y = op(x) on the GPU (A in direction dir), then y = 0.75 op(x) - 1.5 y, each
 * against @p ref on the host; x values in [lo, hi).
 */
static void check_apply(const char *label, sj_op_t A, sj_op_dir_t dir, sj_op_fn_t ref,
                        const sj_op_info_t *info, int tol, double lo, double hi)
{
    sj_space_t xs, ys;
    sj_dist_t xd, yd;
    if (dir == SJ_OP_FORWARD) {
        SJ_ASSERT_OK(sj_op_domain(A, &xs, &xd));
        SJ_ASSERT_OK(sj_op_range(A, &ys, &yd));
    } else {
        SJ_ASSERT_OK(sj_op_range(A, &xs, &xd));
        SJ_ASSERT_OK(sj_op_domain(A, &ys, &yd));
    }
    int64_t nx, ny;
    SJ_ASSERT_OK(sj_space_length(xs, &nx));
    SJ_ASSERT_OK(sj_space_length(ys, &ny));
    const sj_dtype_t t = info->dtype;
    void *xh = values(t, nx, lo, hi), *want = malloc((size_t)ny * 8), *got = malloc((size_t)ny * 8),
         *got2 = malloc((size_t)ny * 8), *want2 = malloc((size_t)ny * 8);
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_array_zeros(xs, xd, &x));
    SJ_ASSERT_OK(sj_array_scatter(x, 0, xh));
    SJ_ASSERT_OK(sj_array_zeros(ys, yd, &y));
    SJ_ASSERT_OK(sj_op_apply_ex(A, dir, 1.0, x, 0.0, y));
    SJ_ASSERT_OK(sj_array_gather(y, 0, got));
    assert_int_equal(ref(info, want, xh), 0);
    const int64_t inner = dir == SJ_OP_FORWARD ? info->dom_n : info->rng_n;
    const double scale = tol == DENSE ? dense_scale(info, xh, nx, inner) : 0;
    char l[128];
    snprintf(l, sizeof l, "%s %s", label, dir == SJ_OP_FORWARD ? "forward" : "adjoint");
    compare(l, t, got, want, ny, tol, scale);

    /* alpha and beta: the wrapper's axpby on the device, as codelets/op_kernels.c's loop */
    SJ_ASSERT_OK(sj_op_apply_ex(A, dir, 0.75, x, -1.5, y));
    SJ_ASSERT_OK(sj_array_gather(y, 0, got2));
    for (int64_t i = 0; i < ny; i++) {
        if (t == SJ_FLOAT64)
            ((double *)want2)[i] = 0.75 * ((double *)want)[i] + -1.5 * ((double *)got)[i];
        else
            ((float *)want2)[i] = 0.75f * ((float *)want)[i] + -1.5f * ((float *)got)[i];
    }
    snprintf(l, sizeof l, "%s %s, alpha 0.75 beta -1.5", label,
             dir == SJ_OP_FORWARD ? "forward" : "adjoint");
    compare(l, t, got2, want2, ny, tol, 3 * scale);

    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    free(xh);
    free(want);
    free(got);
    free(got2);
    free(want2);
}

static void check_linear(const char *label, sj_op_t A, const sj_op_class_t *cls,
                         const sj_op_info_t *info, int tol)
{
    check_apply(label, A, SJ_OP_FORWARD, cls->forward, info, tol, -1, 1);
    check_apply(label, A, SJ_OP_ADJOINT, cls->adjoint, info, tol, -1, 1);
}

static const sj_dtype_t DTYPES[2] = {SJ_FLOAT64, SJ_FLOAT32};
static const int64_t DIMS[3] = {6, 5, 4};

/* ---- linear operators ------------------------------------------------------------------- */

static void test_diagonal_scaling_copies(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const sj_dtype_t t = DTYPES[k];
        sj_space_t s = space_of(t, 3, DIMS), flat;
        const int64_t n = 120;
        flat = space_of(t, 1, &n);
        void *d = values(t, n, -2, 2);
        sj_op_t A;
        SJ_ASSERT_OK(sj_op_diagonal(s, 0, d, &A));
        sj_op_info_t info = info_of(s, s, NULL, 0, d, (size_t)n * esz(t));
        check_linear("diagonal", A, &sj__opclass_diagonal, &info, EXACT);
        SJ_ASSERT_OK(sj_op_destroy(&A));

        const sj__opp_scalar_t p = {-2.5};
        SJ_ASSERT_OK(sj_op_scaled_identity(s, 0, -2.5, &A));
        info = info_of(s, s, &p, sizeof p, NULL, 0);
        check_linear("scaled identity", A, &sj__opclass_scaling, &info, EXACT);
        SJ_ASSERT_OK(sj_op_destroy(&A));

        SJ_ASSERT_OK(sj_op_identity(s, 0, &A));
        info = info_of(s, s, NULL, 0, NULL, 0);
        check_linear("identity", A, &sj__opclass_identity, &info, EXACT);
        SJ_ASSERT_OK(sj_op_destroy(&A));

        SJ_ASSERT_OK(sj_op_reshape(s, flat, 0, &A));
        info = info_of(s, flat, NULL, 0, NULL, 0);
        check_linear("reshape", A, &sj__opclass_reshape, &info, EXACT);
        SJ_ASSERT_OK(sj_op_destroy(&A));

        SJ_ASSERT_OK(sj_op_zero(s, flat, 0, &A));
        info = info_of(s, flat, NULL, 0, NULL, 0);
        check_linear("zero", A, &sj__opclass_zero, &info, VALUE);
        SJ_ASSERT_OK(sj_op_destroy(&A));
        free(d);
        SJ_ASSERT_OK(sj_space_destroy(&s));
        SJ_ASSERT_OK(sj_space_destroy(&flat));
    }
}

static void test_dense(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const sj_dtype_t t = DTYPES[k];
        /* gemm: (cols, k) -> (rows, k); gemv: vectors */
        const int64_t dd[2] = {37, 9}, rd[2] = {23, 9}, dv = 41, rv = 29;
        sj_space_t dom = space_of(t, 2, dd), rng = space_of(t, 2, rd), domv = space_of(t, 1, &dv),
                   rngv = space_of(t, 1, &rv);
        void *M = values(t, 23 * 37, -1, 1), *Mv = values(t, rv * dv, -1, 1);
        sj_op_t A;
        SJ_ASSERT_OK(sj_op_dense(dom, rng, 0, M, &A));
        const sj__opp_dense_t p = {23, 37, 9}, pv = {rv, dv, 1};
        sj_op_info_t info = info_of(dom, rng, &p, sizeof p, M, (size_t)(23 * 37) * esz(t));
        check_linear("dense (gemm)", A, &sj__opclass_dense, &info, DENSE);
        SJ_ASSERT_OK(sj_op_destroy(&A));
        SJ_ASSERT_OK(sj_op_dense(domv, rngv, 0, Mv, &A));
        info = info_of(domv, rngv, &pv, sizeof pv, Mv, (size_t)(rv * dv) * esz(t));
        check_linear("dense (gemv)", A, &sj__opclass_dense, &info, DENSE);
        SJ_ASSERT_OK(sj_op_destroy(&A));
        free(M);
        free(Mv);
        SJ_ASSERT_OK(sj_space_destroy(&dom));
        SJ_ASSERT_OK(sj_space_destroy(&rng));
        SJ_ASSERT_OK(sj_space_destroy(&domv));
        SJ_ASSERT_OK(sj_space_destroy(&rngv));
    }
}

static void test_axis_operators(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const sj_dtype_t t = DTYPES[k];
        sj_space_t s = space_of(t, 3, DIMS);
        for (int dim = 0; dim < 3; dim++) {
            sj_op_t A;
            sj__opp_axis_t p = {.dim = dim, .h = 0};
            SJ_ASSERT_OK(sj_op_difference(s, 0, dim, &A));
            sj_op_info_t info = info_of(s, s, &p, sizeof p, NULL, 0);
            check_linear("difference", A, &sj__opclass_difference, &info, EXACT);
            SJ_ASSERT_OK(sj_op_destroy(&A));

            p.h = 0.3;
            SJ_ASSERT_OK(sj_op_derivative(s, 0, dim, 0.3, &A));
            info = info_of(s, s, &p, sizeof p, NULL, 0);
            check_linear("derivative", A, &sj__opclass_derivative, &info, EXACT);
            SJ_ASSERT_OK(sj_op_destroy(&A));

            int64_t rd[2];
            for (int d = 0, r = 0; d < 3; d++)
                if (d != dim)
                    rd[r++] = DIMS[d];
            sj_space_t rng = space_of(t, 2, rd);
            p.h = 0;
            SJ_ASSERT_OK(sj_op_sum_dim(s, rng, 0, dim, &A));
            info = info_of(s, rng, &p, sizeof p, NULL, 0);
            check_linear("sum_dim", A, &sj__opclass_sum_dim, &info, EXACT);
            SJ_ASSERT_OK(sj_op_destroy(&A));
            SJ_ASSERT_OK(sj_space_destroy(&rng));

            /* taper: the reference multiplies by the constructor's weights */
            const int64_t n = DIMS[dim], nlo = 2, nhi = 1;
            void *w = malloc((size_t)n * 8);
            for (int64_t i = 0; i < n; i++) {
                const double v = sj__op_taper_weight(i, n, nlo, nhi);
                if (t == SJ_FLOAT64)
                    ((double *)w)[i] = v;
                else
                    ((float *)w)[i] = (float)v;
            }
            const sj__opp_taper_t tp = {.dim = dim, .nlo = nlo, .nhi = nhi};
            SJ_ASSERT_OK(sj_op_taper(s, 0, dim, nlo, nhi, &A));
            info = info_of(s, s, &tp, sizeof tp, w, (size_t)n * esz(t));
            check_linear("taper", A, &sj__opclass_taper, &info, EXACT);
            SJ_ASSERT_OK(sj_op_destroy(&A));
            free(w);
        }
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
}

static void test_restriction_boxes_shifts(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const sj_dtype_t t = DTYPES[k];
        sj_space_t s = space_of(t, 3, DIMS);
        /* repeated indices: the state is the indices and their order (by index, then position) */
        const int64_t uniq[5] = {7, 0, 119, 33, 8},
                      rep[14] = {7, 0, 7, 119, 33, 7, 0, /* order: */ 1, 6, 0, 2, 5, 4, 3};
        for (int r = 0; r < 2; r++) {
            const int64_t m = r ? 7 : 5, *idx = r ? rep : uniq;
            const sj__opp_restriction_t p = {.unique = !r};
            sj_space_t rng = space_of(t, 1, &m);
            sj_op_t A;
            SJ_ASSERT_OK(sj_op_restriction(s, 0, m, idx, &A));
            sj_op_info_t info =
                info_of(s, rng, &p, sizeof p, idx, (size_t)m * (r ? 2 : 1) * sizeof(int64_t));
            check_linear(r ? "restriction (repeated indices)" : "restriction", A,
                         &sj__opclass_restriction, &info, EXACT);
            SJ_ASSERT_OK(sj_op_destroy(&A));
            SJ_ASSERT_OK(sj_space_destroy(&rng));
        }

        const int64_t small[3] = {3, 2, 4}, big[3] = {6, 5, 7}, lo[3] = {1, 2, 3};
        sj_space_t sm = space_of(t, 3, small), bg = space_of(t, 3, big);
        const sj__opp_box_t box = {{1, 2, 3}};
        sj_op_t A;
        SJ_ASSERT_OK(sj_op_pad(sm, bg, 0, lo, &A));
        sj_op_info_t info = info_of(sm, bg, &box, sizeof box, NULL, 0);
        check_linear("pad", A, &sj__opclass_pad, &info, EXACT);
        SJ_ASSERT_OK(sj_op_destroy(&A));
        SJ_ASSERT_OK(sj_op_truncate(bg, sm, 0, lo, &A));
        info = info_of(bg, sm, &box, sizeof box, NULL, 0);
        check_linear("truncate", A, &sj__opclass_truncate, &info, EXACT);
        SJ_ASSERT_OK(sj_op_destroy(&A));

        const int64_t shift[3] = {1, -3, 9};
        sj__opp_box_t sh = {{0}};
        for (int d = 0; d < 3; d++)
            sh.off[d] = shift[d] % DIMS[d]; /* as the constructor */
        SJ_ASSERT_OK(sj_op_circshift(s, 0, shift, &A));
        info = info_of(s, s, &sh, sizeof sh, NULL, 0);
        check_linear("circshift", A, &sj__opclass_circshift, &info, EXACT);
        SJ_ASSERT_OK(sj_op_destroy(&A));
        SJ_ASSERT_OK(sj_space_destroy(&sm));
        SJ_ASSERT_OK(sj_space_destroy(&bg));
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
}

/* ---- nonlinear operators ------------------------------------------------------------------ */

/* F forward, then its Jacobian at m0 forward and adjoint; inputs in [lo, hi). */
static void check_nonlinear(const char *label, sj_op_t F, const sj_op_class_t *cls,
                            sj_op_info_t info, int tol, double lo, double hi)
{
    check_apply(label, F, SJ_OP_FORWARD, cls->forward, &info, tol, lo, hi);
    sj_space_t s;
    sj_dist_t d;
    SJ_ASSERT_OK(sj_op_domain(F, &s, &d));
    void *m0h = values(info.dtype, info.dom_n, lo, hi);
    sj_array_t m0;
    SJ_ASSERT_OK(sj_array_zeros(s, d, &m0));
    SJ_ASSERT_OK(sj_array_scatter(m0, 0, m0h));
    sj_op_t J;
    SJ_ASSERT_OK(sj_op_jacobian(F, m0, &J));
    info.point = m0h;
    char l[96];
    snprintf(l, sizeof l, "%s jacobian", label);
    check_apply(l, J, SJ_OP_FORWARD, cls->jacobian, &info, tol, -1, 1);
    check_apply(l, J, SJ_OP_ADJOINT, cls->adjoint, &info, tol, -1, 1);
    SJ_ASSERT_OK(sj_op_destroy(&J));
    SJ_ASSERT_OK(sj_array_destroy(&m0));
    free(m0h);
}

static void test_nonlinear(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const sj_dtype_t t = DTYPES[k];
        sj_space_t s = space_of(t, 3, DIMS);
        const sj_op_info_t plain = info_of(s, s, NULL, 0, NULL, 0);
        sj_op_t F;
        SJ_ASSERT_OK(sj_op_exp(s, 0, &F));
        check_nonlinear("exp", F, &sj__opclass_exp, plain, MATH, -5, 5);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        SJ_ASSERT_OK(sj_op_log(s, 0, &F));
        check_nonlinear("log", F, &sj__opclass_log, plain, MATH, 0.01, 40);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        SJ_ASSERT_OK(sj_op_tanh(s, 0, &F));
        check_nonlinear("tanh", F, &sj__opclass_tanh, plain, MATH, -4, 4);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        SJ_ASSERT_OK(sj_op_sigmoid(s, 0, &F));
        check_nonlinear("sigmoid", F, &sj__opclass_sigmoid, plain, MATH, -30, 30);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        const sj__opp_scalar_t pw = {2.5};
        SJ_ASSERT_OK(sj_op_power(s, 0, 2.5, &F));
        check_nonlinear("power", F, &sj__opclass_power, info_of(s, s, &pw, sizeof pw, NULL, 0),
                        MATH, 0.1, 3);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        const sj__opp_clamp_t c = {-1, 2, 0.25};
        SJ_ASSERT_OK(sj_op_clamp(s, 0, -1, 2, 0.25, &F));
        check_nonlinear("clamp", F, &sj__opclass_clamp, info_of(s, s, &c, sizeof c, NULL, 0), MATH,
                        -4, 5);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        /* shift is exact: x + b, and a Jacobian that copies */
        void *b = values(t, plain.dom_n, -3, 3);
        SJ_ASSERT_OK(sj_op_shift(s, 0, b, &F));
        check_nonlinear("shift", F, &sj__opclass_shift,
                        info_of(s, s, NULL, 0, b, (size_t)plain.dom_n * esz(t)), EXACT, -1, 1);
        SJ_ASSERT_OK(sj_op_destroy(&F));
        free(b);
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
}

/* ---- chained applies, and a user class with a CUDA function ------------------------------- */

static int cpu_calls, cuda_calls;

typedef struct {
    double c;
} scale_params_t;

static int user_scale(const sj_op_info_t *info, void *out, const void *in)
{
    __atomic_add_fetch(&cpu_calls, 1, __ATOMIC_RELAXED);
    const double c = ((const scale_params_t *)info->params)->c;
    for (int64_t i = 0; i < info->dom_n; i++)
        ((double *)out)[i] = c * ((const double *)in)[i];
    return 0;
}

/* out = c in on the worker's stream: a device copy, then cuBLAS's dscal (c x[i], the CPU's bits).
 */
static int user_scale_cuda(const sj_op_info_t *info, void *out, const void *in)
{
    __atomic_add_fetch(&cuda_calls, 1, __ATOMIC_RELAXED);
    cudaStream_t st = (cudaStream_t)sj_cuda_stream();
    cublasHandle_t h = (cublasHandle_t)sj_cublas_handle();
    if (!st || !h || info->dtype != SJ_FLOAT64)
        return 1;
    const double c = ((const scale_params_t *)info->params)->c;
    if (cudaMemcpyAsync(out, in, (size_t)info->dom_n * sizeof(double), cudaMemcpyDeviceToDevice,
                        st) != cudaSuccess)
        return 2;
    if (cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST) != CUBLAS_STATUS_SUCCESS ||
        cublasDscal(h, (int)info->dom_n, &c, out, 1) != CUBLAS_STATUS_SUCCESS)
        return 3;
    return 0;
}

static const sj_op_class_t user_class = {.name = "gpu_user_scale",
                                         .forward = user_scale,
                                         .adjoint = user_scale,
                                         .forward_cuda = user_scale_cuda,
                                         .adjoint_cuda = user_scale_cuda};

static void test_chain_and_user_leaf(void **state)
{
    (void)state;
    sj_space_t s = space_of(SJ_FLOAT64, 3, DIMS);
    const int64_t n = 120;
    /* D = difference along 1, T = taper along 0, U = user scale by 3 */
    sj_op_t D, T, U, TD;
    SJ_ASSERT_OK(sj_op_difference(s, 0, 1, &D));
    SJ_ASSERT_OK(sj_op_taper(s, 0, 0, 2, 2, &T));
    const scale_params_t up = {3.0};
    SJ_ASSERT_OK(sj_op_create(&user_class, s, s, 0, &up, sizeof up, NULL, 0, &U));
    SJ_ASSERT_OK(sj_op_compose(T, D, &TD));

    double *xh = values(SJ_FLOAT64, n, -1, 1), got[120], got2[120], a[120], b[120], c[120];
    sj_array_t x, y, z, w, v;
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &x));
    SJ_ASSERT_OK(sj_array_scatter(x, 0, xh));
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &y));
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &z));
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &w));
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &v));
    /* y = D x, z = T y, w = U z, then x = D' w in place of x: no read-back between */
    SJ_ASSERT_OK(sj_op_apply(D, x, y));
    SJ_ASSERT_OK(sj_op_apply(T, y, z));
    SJ_ASSERT_OK(sj_op_apply(U, z, w));
    SJ_ASSERT_OK(sj_op_apply(TD, x, v)); /* the composition, on the same x */
    SJ_ASSERT_OK(sj_op_apply_adjoint(D, w, x));
    SJ_ASSERT_OK(sj_array_gather(x, 0, got));
    SJ_ASSERT_OK(sj_array_gather(v, 0, got2));

    const sj__opp_axis_t dp = {.dim = 1};
    const sj__opp_taper_t tp = {.dim = 0, .nlo = 2, .nhi = 2};
    double wt[6];
    for (int i = 0; i < 6; i++)
        wt[i] = sj__op_taper_weight(i, 6, 2, 2);
    const sj_op_info_t di = info_of(s, s, &dp, sizeof dp, NULL, 0),
                       ti = info_of(s, s, &tp, sizeof tp, wt, sizeof wt),
                       ui = info_of(s, s, &up, sizeof up, NULL, 0);
    assert_int_equal(sj__opclass_difference.forward(&di, a, xh), 0);
    assert_int_equal(sj__opclass_taper.forward(&ti, b, a), 0);
    double tdx[120];
    memcpy(tdx, b, sizeof tdx);
    for (int i = 0; i < 120; i++)
        c[i] = 3.0 * b[i];
    assert_int_equal(sj__opclass_difference.adjoint(&di, a, c), 0);
    assert_memory_equal(got, a, sizeof a);
    assert_memory_equal(got2, tdx, sizeof tdx);
    (void)ui;
    /* every task ran on the GPU: the user's CPU function never ran */
    assert_int_equal(__atomic_load_n(&cpu_calls, __ATOMIC_RELAXED), 0);
    assert_true(__atomic_load_n(&cuda_calls, __ATOMIC_RELAXED) >= 1);

    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&z);
    sj_array_destroy(&w);
    sj_array_destroy(&v);
    sj_op_destroy(&D);
    sj_op_destroy(&T);
    sj_op_destroy(&U);
    sj_op_destroy(&TD);
    free(xh);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

int main(void)
{
    /* No device: skipped before MPI starts (so that the skip code reaches ctest). */
    int ndev = 0;
    if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
        printf("gpu_ops: no CUDA device: skipped\n");
        return 77;
    }
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.ncuda = 1;
    o.ncpus = 0; /* every task on the GPU: a result means it ran there */
    o.environment_overrides = 0;
    int rc = sj_init(NULL, NULL, &o);
    if (rc != 0) {
        fprintf(stderr, "gpu_ops: sj_init failed: %s: %s\n", sj_err_name(rc), sj_last_error());
        return 1;
    }
    if (sj_ncuda_workers() == 0) {
        printf("gpu_ops: starjets found no usable CUDA device: skipped\n");
        sj_finalize();
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diagonal_scaling_copies),
        cmocka_unit_test(test_dense),
        cmocka_unit_test(test_axis_operators),
        cmocka_unit_test(test_restriction_boxes_shifts),
        cmocka_unit_test(test_nonlinear),
        cmocka_unit_test(test_chain_and_user_leaf),
    };
    const int failures = cmocka_run_group_tests_name("gpu_ops", tests, NULL, NULL);
    rc = sj_finalize();
    return failures || rc != 0 ? 1 : 0;
}
