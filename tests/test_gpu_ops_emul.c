/*
 * The operator library's CUDA functions, emulated on the host: for each
 * class direction, the plan of codelets/op_gpu.h and its per-thread function
 * run over every thread index in turn, launch after launch (what the kernels
 * of codelets/op_cuda.cu do on a stream), and the result is compared with the
 * CPU class of src/op/library_classes.c, bit for bit, in float64 and float32,
 * on 1-D to 3-D shapes along every axis. A wrong stride, bound or offset in
 * the device code fails here, without a GPU.
 *
 * The nonlinear classes are compared bit for bit too: on the host both sides
 * call the same libm. On a device, CUDA's exp, log, tanh, pow and log1p may
 * differ in the last bit (docs/gpu.md; tests/test_gpu_ops.c checks them with
 * a tolerance). Dense operators go through cuBLAS: the plan's shape is
 * checked with a plain product against CBLAS, within rounding.
 *
 * No starjets runtime: the classes are plain functions.
 */
// sj-test: nprocs=1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets/config.h>

#include "codelets/op_gpu.h"
#include "op/library_classes.h"

/* ---- data ------------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* n values of dtype in [lo, hi), with a few exact zeros of both signs when lo < 0. */
static void *values(int dtype, int64_t n, double lo, double hi)
{
    void *p = malloc((size_t)(n ? n : 1) * 8);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++) {
        double v = lo + (hi - lo) * uniform();
        if (lo < 0 && i % 7 == 3)
            v = i % 2 ? -0.0 : 0.0;
        if (dtype == SJ_FLOAT64)
            ((double *)p)[i] = v;
        else
            ((float *)p)[i] = (float)v;
    }
    return p;
}

static size_t esz(int dtype)
{
    return dtype == SJ_FLOAT64 ? 8 : 4;
}

/* A domain and a range of given shapes (padded with 1s). */
static sj_op_info_t info_of(int dtype, int dnd, const int64_t *dd, int rnd, const int64_t *rd)
{
    sj_op_info_t info;
    memset(&info, 0, sizeof info);
    info.dtype = (sj_dtype_t)dtype;
    info.dom_ndims = dnd;
    info.rng_ndims = rnd;
    info.dom_n = info.rng_n = 1;
    for (int d = 0; d < SJ_MAX_DIMS; d++) {
        info.dom_dims[d] = d < dnd ? dd[d] : 1;
        info.rng_dims[d] = d < rnd ? rd[d] : 1;
        info.dom_n *= info.dom_dims[d];
        info.rng_n *= info.rng_dims[d];
    }
    info.block_row = info.block_col = -1;
    return info;
}

/* ---- the emulated launches --------------------------------------------------------------- */

static int emulate(int what, const sj_op_info_t *info, void *out, const void *in)
{
    sj__gop_t g[2];
    const int n = sj__gop_plan(what, info, g);
    if (n == 0)
        return 1;
    for (int l = 0; l < n; l++)
        for (int64_t t = 0; t < g[l].n; t++) {
            if (info->dtype == SJ_FLOAT64)
                sj__gop_thread_d(&g[l], t, out, in, info->state, info->point);
            else
                sj__gop_thread_f(&g[l], t, out, in, info->state, info->point);
        }
    return 0;
}

/*
 * The CPU function @p cpu and the emulation of @p what on info, from in into
 * outputs of `outn` elements that start with different garbage: same return
 * value, and when 0, the same bits.
 */
static void check(const char *label, sj_op_fn_t cpu, int what, const sj_op_info_t *info,
                  const void *in, int64_t outn)
{
    const size_t bytes = (size_t)(outn ? outn : 1) * esz(info->dtype);
    unsigned char *a = malloc(bytes), *b = malloc(bytes);
    assert_non_null(a);
    assert_non_null(b);
    memset(a, 0x7f, bytes); /* NaN-like garbage, different on each side */
    memset(b, 0xa5, bytes);
    const int rc_cpu = cpu(info, a, in), rc_emu = emulate(what, info, b, in);
    if ((rc_cpu != 0) != (rc_emu != 0)) {
        print_error("%s: CPU returned %d, emulation %d\n", label, rc_cpu, rc_emu);
        fail();
    }
    if (rc_cpu == 0 && memcmp(a, b, bytes) != 0) {
        for (int64_t i = 0; i < outn; i++) {
            const size_t e = esz(info->dtype);
            if (memcmp(a + i * e, b + i * e, e) != 0) {
                const double va = info->dtype == SJ_FLOAT64 ? ((double *)a)[i] : ((float *)a)[i];
                const double vb = info->dtype == SJ_FLOAT64 ? ((double *)b)[i] : ((float *)b)[i];
                print_error("%s (%s): element %lld: CPU %.17g, emulation %.17g\n", label,
                            info->dtype == SJ_FLOAT64 ? "float64" : "float32", (long long)i, va,
                            vb);
                break;
            }
        }
        fail();
    }
    free(a);
    free(b);
}

/* Forward and adjoint of a linear class, with the given params and state. */
static void check_linear(const char *label, const sj_op_class_t *cls, int fwd, int adj,
                         sj_op_info_t info)
{
    void *x = values(info.dtype, info.dom_n, -1, 1), *y = values(info.dtype, info.rng_n, -1, 1);
    char l[96];
    snprintf(l, sizeof l, "%s forward", label);
    check(l, cls->forward, fwd, &info, x, info.rng_n);
    snprintf(l, sizeof l, "%s adjoint", label);
    check(l, cls->adjoint, adj, &info, y, info.dom_n);
    free(x);
    free(y);
}

static const int64_t SHAPES[][3] = {{17, 1, 1}, {5, 4, 3}, {3, 6, 2}, {1, 5, 4}};
static const int NDIMS[] = {1, 3, 3, 3};
#define NSHAPES 4
static const int DTYPES[] = {SJ_FLOAT64, SJ_FLOAT32};

/* ---- linear classes ---------------------------------------------------------------------- */

static void test_copy_zero_diag_scale(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++)
        for (int s = 0; s < NSHAPES; s++) {
            sj_op_info_t info = info_of(DTYPES[t], NDIMS[s], SHAPES[s], NDIMS[s], SHAPES[s]);
            check_linear("identity", &sj__opclass_identity, SJ__GOPC_COPY_FWD, SJ__GOPC_COPY_ADJ,
                         info);
            check_linear("zero", &sj__opclass_zero, SJ__GOPC_ZERO_FWD, SJ__GOPC_ZERO_ADJ, info);
            void *d = values(DTYPES[t], info.dom_n, -2, 2);
            info.state = d;
            info.state_size = (size_t)info.dom_n * esz(DTYPES[t]);
            check_linear("diagonal", &sj__opclass_diagonal, SJ__GOPC_DIAGONAL, SJ__GOPC_DIAGONAL,
                         info);
            info.state_size--; /* a state that does not fit: both refuse */
            check_linear("diagonal (bad state)", &sj__opclass_diagonal, SJ__GOPC_DIAGONAL,
                         SJ__GOPC_DIAGONAL, info);
            free(d);
            info.state = NULL;
            info.state_size = 0;
            const sj__opp_scalar_t p = {-1.7};
            info.params = &p;
            info.params_size = sizeof p;
            check_linear("scaling", &sj__opclass_scaling, SJ__GOPC_SCALING, SJ__GOPC_SCALING, info);
        }
}

static void test_axis_classes(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++)
        for (int s = 0; s < NSHAPES; s++)
            for (int dim = 0; dim < NDIMS[s]; dim++) {
                sj_op_info_t info = info_of(DTYPES[t], NDIMS[s], SHAPES[s], NDIMS[s], SHAPES[s]);
                const sj__opp_axis_t p = {.dim = dim, .h = 0.3};
                info.params = &p;
                info.params_size = sizeof p;
                check_linear("difference", &sj__opclass_difference, SJ__GOPC_DIFFERENCE_FWD,
                             SJ__GOPC_DIFFERENCE_ADJ, info);
                check_linear("derivative", &sj__opclass_derivative, SJ__GOPC_DERIVATIVE_FWD,
                             SJ__GOPC_DERIVATIVE_ADJ, info);

                /* sum along dim: the range drops the dimension */
                int64_t rd[3];
                int rnd = 0;
                for (int d = 0; d < NDIMS[s]; d++)
                    if (d != dim)
                        rd[rnd++] = SHAPES[s][d];
                if (rnd == 0)
                    rd[rnd++] = 1;
                sj_op_info_t sum = info_of(DTYPES[t], NDIMS[s], SHAPES[s], rnd, rd);
                sum.params = &p;
                sum.params_size = sizeof p;
                check_linear("sum_dim", &sj__opclass_sum_dim, SJ__GOPC_SUM_DIM_FWD,
                             SJ__GOPC_SUM_DIM_ADJ, sum);

                /* taper: the constructor's weights as state */
                const int64_t n = SHAPES[s][dim], nlo = n / 3, nhi = n - nlo > 2 ? 2 : n - nlo;
                const sj__opp_taper_t tp = {.dim = dim, .nlo = nlo, .nhi = nhi};
                void *w = malloc((size_t)n * 8);
                for (int64_t i = 0; i < n; i++) {
                    const double v = sj__op_taper_weight(i, n, nlo, nhi);
                    if (DTYPES[t] == SJ_FLOAT64)
                        ((double *)w)[i] = v;
                    else
                        ((float *)w)[i] = (float)v;
                }
                info.params = &tp;
                info.params_size = sizeof tp;
                info.state = w;
                info.state_size = (size_t)n * esz(DTYPES[t]);
                check_linear("taper", &sj__opclass_taper, SJ__GOPC_TAPER, SJ__GOPC_TAPER, info);
                free(w);
            }
}

/*
 * The state of a restriction: the m indices, then (when not marked unique)
 * the positions sorted by (index, position), found here by insertion sort.
 */
static int64_t *restriction_state(const int64_t *idx, int64_t m, int unique)
{
    int64_t *st = malloc((size_t)m * 2 * sizeof *st);
    memcpy(st, idx, (size_t)m * sizeof *st);
    if (unique)
        return st;
    int64_t *order = st + m;
    for (int64_t k = 0; k < m; k++) {
        int64_t j = k;
        while (j > 0 && idx[order[j - 1]] > idx[k]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    return st;
}

static void test_restriction(void **state)
{
    (void)state;
    const int64_t dims[1] = {40};
    const int64_t unique_idx[6] = {7, 2, 39, 0, 11, 3};
    const int64_t repeated[12] = {7, 2, 7, 39, 0, 7, 2, 11, 3, 39, 39, 7};
    for (int t = 0; t < 2; t++)
        for (int c = 0; c < 3; c++) {
            const int64_t *idx = c == 1 ? repeated : unique_idx;
            const int64_t m = c == 1 ? 12 : 6;
            /* c == 2: unique indices, marked not unique: runs of one, same bits */
            const sj__opp_restriction_t p = {.unique = c == 0};
            int64_t *st = restriction_state(idx, m, c == 0);
            sj_op_info_t info = info_of(DTYPES[t], 1, dims, 1, &m);
            info.params = &p;
            info.params_size = sizeof p;
            info.state = st;
            info.state_size = (size_t)m * (c == 0 ? 1 : 2) * sizeof(int64_t);
            check_linear(c == 1 ? "restriction (repeated)" : "restriction",
                         &sj__opclass_restriction, SJ__GOPC_RESTRICTION_FWD,
                         SJ__GOPC_RESTRICTION_ADJ, info);
            info.state_size -= 8; /* a state that does not fit: both refuse */
            check_linear("restriction (bad state)", &sj__opclass_restriction,
                         SJ__GOPC_RESTRICTION_FWD, SJ__GOPC_RESTRICTION_ADJ, info);
            free(st);
        }
}

static void test_boxes_and_shifts(void **state)
{
    (void)state;
    const int64_t small[3] = {3, 2, 4}, big[3] = {6, 5, 7};
    const sj__opp_box_t offs[3] = {{{0, 0, 0}}, {{3, 3, 3}}, {{1, 2, 0}}};
    for (int t = 0; t < 2; t++)
        for (int o = 0; o < 3; o++) {
            sj_op_info_t pad = info_of(DTYPES[t], 3, small, 3, big);
            pad.params = &offs[o];
            pad.params_size = sizeof offs[o];
            check_linear("pad", &sj__opclass_pad, SJ__GOPC_PAD_FWD, SJ__GOPC_PAD_ADJ, pad);
            sj_op_info_t tr = info_of(DTYPES[t], 3, big, 3, small);
            tr.params = &offs[o];
            tr.params_size = sizeof offs[o];
            check_linear("truncate", &sj__opclass_truncate, SJ__GOPC_TRUNCATE_FWD,
                         SJ__GOPC_TRUNCATE_ADJ, tr);
        }
    const sj__opp_box_t shifts[4] = {{{1, -3, 5}}, {{0, 0, 0}}, {{-8, 4, -1}}, {{5, 1, 2}}};
    for (int t = 0; t < 2; t++)
        for (int s = 0; s < NSHAPES; s++)
            for (int k = 0; k < 4; k++) {
                sj_op_info_t info = info_of(DTYPES[t], NDIMS[s], SHAPES[s], NDIMS[s], SHAPES[s]);
                sj__opp_box_t sh = shifts[k];
                for (int d = 0; d < 3; d++) /* the constructor reduces modulo the length */
                    sh.off[d] %= info.dom_dims[d];
                info.params = &sh;
                info.params_size = sizeof sh;
                check_linear("circshift", &sj__opclass_circshift, SJ__GOPC_CIRCSHIFT_FWD,
                             SJ__GOPC_CIRCSHIFT_ADJ, info);
            }
}

/* ---- nonlinear classes ---------------------------------------------------------------------- */

static void check_nonlinear(const char *label, const sj_op_class_t *cls, int fwd, int jac,
                            sj_op_info_t info, double lo, double hi)
{
    void *x = values(info.dtype, info.dom_n, lo, hi), *m0 = values(info.dtype, info.dom_n, lo, hi);
    char l[96];
    snprintf(l, sizeof l, "%s forward", label);
    check(l, cls->forward, fwd, &info, x, info.rng_n);
    info.point = m0;
    snprintf(l, sizeof l, "%s jacobian", label);
    check(l, cls->jacobian, jac, &info, x, info.rng_n);
    snprintf(l, sizeof l, "%s jacobian adjoint", label);
    check(l, cls->adjoint, jac, &info, x, info.dom_n);
    free(x);
    free(m0);
}

static void test_nonlinear(void **state)
{
    (void)state;
    const int64_t dims[2] = {9, 7};
    for (int t = 0; t < 2; t++) {
        sj_op_info_t info = info_of(DTYPES[t], 2, dims, 2, dims);
        check_nonlinear("exp", &sj__opclass_exp, SJ__GOPC_EXP_FWD, SJ__GOPC_EXP_JAC, info, -5, 5);
        check_nonlinear("log", &sj__opclass_log, SJ__GOPC_LOG_FWD, SJ__GOPC_LOG_JAC, info, 0.01,
                        50);
        check_nonlinear("tanh", &sj__opclass_tanh, SJ__GOPC_TANH_FWD, SJ__GOPC_TANH_JAC, info, -4,
                        4);
        check_nonlinear("sigmoid", &sj__opclass_sigmoid, SJ__GOPC_SIGMOID_FWD, SJ__GOPC_SIGMOID_JAC,
                        info, -30, 30);
        const sj__opp_scalar_t p = {2.5};
        info.params = &p;
        info.params_size = sizeof p;
        check_nonlinear("power", &sj__opclass_power, SJ__GOPC_POWER_FWD, SJ__GOPC_POWER_JAC, info,
                        0.1, 3);
        const sj__opp_clamp_t c = {-1, 2, 0.25};
        info.params = &c;
        info.params_size = sizeof c;
        check_nonlinear("clamp", &sj__opclass_clamp, SJ__GOPC_CLAMP_FWD, SJ__GOPC_CLAMP_JAC, info,
                        -4, 5);
        info.params = NULL;
        info.params_size = 0;
        void *b = values(DTYPES[t], info.dom_n, -3, 3), *x = values(DTYPES[t], info.dom_n, -1, 1);
        info.state = b;
        info.state_size = (size_t)info.dom_n * esz(DTYPES[t]);
        check("shift forward", sj__opclass_shift.forward, SJ__GOPC_SHIFT_FWD, &info, x, info.rng_n);
        info.point = x;
        check("shift jacobian", sj__opclass_shift.jacobian, SJ__GOPC_COPY_FWD, &info, x,
              info.rng_n);
        check("shift jacobian adjoint", sj__opclass_shift.adjoint, SJ__GOPC_COPY_ADJ, &info, x,
              info.dom_n);
        free(b);
        free(x);
    }
}

/* ---- alpha and beta (the wrapper's step after the class function) --------------------------- */

static void test_axpby(void **state)
{
    (void)state;
    const double ab[4][2] = {{2.5, 0.0}, {-1.0, 1.0}, {0.3, -0.7}, {1.0, 2.0}};
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 4; k++) {
            const int64_t n = 50;
            void *tmp = values(DTYPES[t], n, -1, 1), *y0 = values(DTYPES[t], n, -1, 1);
            void *ref = malloc((size_t)n * 8), *emu = malloc((size_t)n * 8);
            memcpy(ref, y0, (size_t)n * esz(DTYPES[t]));
            memcpy(emu, y0, (size_t)n * esz(DTYPES[t]));
            const double al = ab[k][0], be = ab[k][1];
            /* codelets/op_kernels.c's loop */
            for (int64_t i = 0; i < n; i++) {
                if (DTYPES[t] == SJ_FLOAT64) {
                    double *y = ref;
                    const double *tt = tmp;
                    y[i] = be == 0.0 ? al * tt[i] : al * tt[i] + be * y[i];
                } else {
                    float *y = ref;
                    const float *tt = tmp;
                    const float a = (float)al, b = (float)be;
                    y[i] = b == 0.0f ? a * tt[i] : a * tt[i] + b * y[i];
                }
            }
            const sj__gop_t g = sj__gop_axpby(DTYPES[t], n, al, be);
            for (int64_t i = 0; i < n; i++) {
                if (DTYPES[t] == SJ_FLOAT64)
                    sj__gop_thread_d(&g, i, emu, tmp, NULL, NULL);
                else
                    sj__gop_thread_f(&g, i, emu, tmp, NULL, NULL);
            }
            assert_memory_equal(ref, emu, (size_t)n * esz(DTYPES[t]));
            free(tmp);
            free(y0);
            free(ref);
            free(emu);
        }
}

/* ---- dense: the shape of the cuBLAS call ---------------------------------------------------- */

/* y = op(M) x as cuBLAS computes it from the plan: column-major, lda = rows. */
static void plan_product(const sj__gop_dense_t *d, const double *M, const double *x, double *y)
{
    if (d->gemv) {
        const int m_out = d->adjoint ? d->cols : d->rows, m_in = d->adjoint ? d->rows : d->cols;
        for (int i = 0; i < m_out; i++) {
            double s = 0;
            for (int j = 0; j < m_in; j++)
                s += (d->adjoint ? M[j + d->rows * i] : M[i + d->rows * j]) * x[j];
            y[i] = s;
        }
        return;
    }
    for (int c = 0; c < d->k; c++)
        for (int i = 0; i < d->m_out; i++) {
            double s = 0;
            for (int j = 0; j < d->m_in; j++)
                s += (d->adjoint ? M[j + d->rows * i] : M[i + d->rows * j]) * x[j + d->m_in * c];
            y[i + d->m_out * c] = s;
        }
}

static void test_dense_plan(void **state)
{
    (void)state;
    const int64_t shapes[3][3] = {{5, 3, 1}, {4, 6, 3}, {7, 2, 5}}; /* rows, cols, k */
    for (int c = 0; c < 3; c++) {
        const int64_t rows = shapes[c][0], cols = shapes[c][1], k = shapes[c][2];
        const int64_t dd[2] = {cols, k}, rd[2] = {rows, k};
        sj_op_info_t info =
            k == 1 ? info_of(SJ_FLOAT64, 1, &cols, 1, &rows) : info_of(SJ_FLOAT64, 2, dd, 2, rd);
        const sj__opp_dense_t p = {rows, cols, k};
        double *M = values(SJ_FLOAT64, rows * cols, -1, 1);
        info.params = &p;
        info.params_size = sizeof p;
        info.state = M;
        info.state_size = (size_t)(rows * cols) * 8;
        for (int adj = 0; adj < 2; adj++) {
            const int64_t nin = adj ? info.rng_n : info.dom_n, nout = adj ? info.dom_n : info.rng_n;
            double *x = values(SJ_FLOAT64, nin, -1, 1), *a = malloc((size_t)nout * 8),
                   *b = malloc((size_t)nout * 8);
            sj__gop_dense_t d;
            assert_int_equal(sj__gop_dense_plan(&info, adj, &d), 0);
            assert_int_equal(d.gemv, k == 1);
            assert_int_equal(
                (adj ? sj__opclass_dense.adjoint : sj__opclass_dense.forward)(&info, a, x), 0);
            plan_product(&d, M, x, b);
            for (int64_t i = 0; i < nout; i++)
                assert_true(fabs(a[i] - b[i]) <= 1e-13 * (1 + fabs(a[i])));
            free(x);
            free(a);
            free(b);
        }
        info.state_size -= 8; /* a matrix that does not fit: the plan refuses, as the class */
        sj__gop_dense_t d;
        assert_int_not_equal(sj__gop_dense_plan(&info, 0, &d), 0);
        free(M);
    }
}

/* ---- the class tables name their CUDA functions in CUDA builds ------------------------------ */

static void test_class_tables(void **state)
{
    (void)state;
    const sj_op_class_t *linear[] = {
        &sj__opclass_diagonal,    &sj__opclass_dense,      &sj__opclass_zero,
        &sj__opclass_identity,    &sj__opclass_reshape,    &sj__opclass_scaling,
        &sj__opclass_difference,  &sj__opclass_derivative, &sj__opclass_sum_dim,
        &sj__opclass_restriction, &sj__opclass_pad,        &sj__opclass_truncate,
        &sj__opclass_taper,       &sj__opclass_circshift};
    const sj_op_class_t *nonlinear[] = {
        &sj__opclass_exp,   &sj__opclass_log,   &sj__opclass_tanh, &sj__opclass_sigmoid,
        &sj__opclass_power, &sj__opclass_shift, &sj__opclass_clamp};
    for (size_t i = 0; i < sizeof linear / sizeof linear[0]; i++) {
        assert_int_equal(linear[i]->forward_cuda != NULL, SJ_USE_CUDA);
        assert_int_equal(linear[i]->adjoint_cuda != NULL, SJ_USE_CUDA);
    }
    for (size_t i = 0; i < sizeof nonlinear / sizeof nonlinear[0]; i++) {
        assert_int_equal(nonlinear[i]->forward_cuda != NULL, SJ_USE_CUDA);
        assert_int_equal(nonlinear[i]->adjoint_cuda != NULL, SJ_USE_CUDA);
        assert_int_equal(nonlinear[i]->jacobian_cuda != NULL, SJ_USE_CUDA);
    }
#if SJ_USE_CUDA
    /* each class names the CUDA functions whose plans the tests above emulate */
#define WIRED(cls, fwd, adj)                                                                       \
    do {                                                                                           \
        assert_ptr_equal(sj__opclass_##cls.forward_cuda, sj__opcuda_##fwd);                        \
        assert_ptr_equal(sj__opclass_##cls.adjoint_cuda, sj__opcuda_##adj);                        \
    } while (0)
    WIRED(diagonal, diagonal, diagonal);
    WIRED(dense, dense_fwd, dense_adj);
    WIRED(zero, zero_fwd, zero_adj);
    WIRED(identity, copy_fwd, copy_adj);
    WIRED(reshape, copy_fwd, copy_adj);
    WIRED(scaling, scaling, scaling);
    WIRED(difference, difference_fwd, difference_adj);
    WIRED(derivative, derivative_fwd, derivative_adj);
    WIRED(sum_dim, sum_dim_fwd, sum_dim_adj);
    WIRED(restriction, restriction_fwd, restriction_adj);
    WIRED(pad, pad_fwd, pad_adj);
    WIRED(truncate, truncate_fwd, truncate_adj);
    WIRED(taper, taper, taper);
    WIRED(circshift, circshift_fwd, circshift_adj);
    WIRED(exp, exp_fwd, exp_jac);
    WIRED(log, log_fwd, log_jac);
    WIRED(tanh, tanh_fwd, tanh_jac);
    WIRED(sigmoid, sigmoid_fwd, sigmoid_jac);
    WIRED(power, power_fwd, power_jac);
    WIRED(clamp, clamp_fwd, clamp_jac);
    WIRED(shift, shift_fwd, copy_adj);
    assert_ptr_equal(sj__opclass_shift.jacobian_cuda, sj__opcuda_copy_fwd);
    const sj_op_class_t *jac[] = {&sj__opclass_exp,     &sj__opclass_log,   &sj__opclass_tanh,
                                  &sj__opclass_sigmoid, &sj__opclass_power, &sj__opclass_clamp};
    for (size_t i = 0; i < sizeof jac / sizeof jac[0]; i++)
        assert_ptr_equal(jac[i]->jacobian_cuda, jac[i]->adjoint_cuda);
#undef WIRED
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_zero_diag_scale),
        cmocka_unit_test(test_axis_classes),
        cmocka_unit_test(test_restriction),
        cmocka_unit_test(test_boxes_and_shifts),
        cmocka_unit_test(test_nonlinear),
        cmocka_unit_test(test_axpby),
        cmocka_unit_test(test_dense_plan),
        cmocka_unit_test(test_class_tables),
    };
    return cmocka_run_group_tests_name("gpu_ops_emul", tests, NULL, NULL);
}
