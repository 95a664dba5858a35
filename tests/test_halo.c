// sj-test: nprocs=1,2,3,4
/*
 * Stencil steps with halo exchange (sj_array_stencil), against serial loops
 * computed here: the Game of Life glider of the DistributedArrays README on a
 * periodic grid, 2-D and 3-D heat steps with fixed boundaries, a width-2
 * stencil and a 27-point stencil with mixed boundaries, on several block
 * layouts (contiguous, one column of blocks per rank, cyclic, irregular block
 * sizes, a single block) and both modes; then bad input.
 *
 * Every result must equal the serial loop bit for bit: the user function and
 * the serial loop evaluate each cell with the same code in the same order.
 */
#include "sj_test.h"

/* ---- layouts ----------------------------------------------------------------- */

enum { LAY_DEFAULT, LAY_CYCLIC, LAY_EXPLICIT, LAY_LAST_RANK };

/* A layout of @p s: default contiguous (NULL), cyclic over (nranks x 1), a
 * scattered owner table, or everything on the last rank. */
static sj_dist_t make_dist(sj_space_t s, int kind)
{
    int ndims = 0, nb[SJ_MAX_DIMS] = {1, 1, 1}, total = 0;
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_space_shape(s, NULL, &ndims, NULL));
    SJ_ASSERT_OK(sj_space_blocks(s, nb, &total));
    if (kind == LAY_CYCLIC) {
        SJ_ASSERT_OK(sj_dist_create_cyclic(ndims, nb, sj_nranks(), 1, NULL, &d));
    } else if (kind == LAY_EXPLICIT || kind == LAY_LAST_RANK) {
        int *owners = malloc((size_t)total * sizeof *owners);
        for (int b = 0; b < total; b++)
            owners[b] = kind == LAY_LAST_RANK ? sj_nranks() - 1 : (7 * b + 3) % sj_nranks();
        SJ_ASSERT_OK(sj_dist_create_explicit(ndims, nb, owners, &d));
        free(owners);
    }
    return d;
}

static sj_space_t make_irregular(sj_dtype_t dt, int ndims, const int nb[],
                                 const int64_t *const sizes[])
{
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create_irregular(dt, ndims, NULL, nb, sizes, &s));
    return s;
}

static sj_space_t make_uniform(sj_dtype_t dt, int ndims, const int64_t dims[], const int nb[])
{
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_space_create(dt, ndims, dims, nb, &s));
    return s;
}

/*
 * Collective: the number of elements of @p a that differ from @p ref, counted
 * on @p root and known to every rank, so that a failed check fails the test on
 * every rank alike and the ranks stay in step for the next test.
 */
static int64_t count_bad(sj_array_t a, int root, const double *ref, const char *name)
{
    int64_t bad = sj_t_check(a, root, ref);
    MPI_Bcast(&bad, 1, MPI_INT64_T, root, MPI_COMM_WORLD);
    if (bad != 0 && sj_rank() == root)
        print_error("%s: %lld cells differ from the serial loop (gathered on rank %d)\n", name,
                    (long long)bad, root);
    return bad;
}

/* Checks the promises of sj_stencil_info_t; returns 0 when they hold. */
static int check_info(const sj_stencil_info_t *s, int width)
{
    const int nd = s->blk.ndims;
    if (s->width != width || s->in_stride[0] != 1 || s->out_stride[0] != 1 ||
        s->out_stride[1] != s->blk.dims[0] || s->out_stride[2] != s->blk.dims[0] * s->blk.dims[1])
        return 1;
    for (int d = 0; d < 3; d++) {
        if (s->lo[d] < 0 || s->hi[d] > s->blk.dims[d] || s->lo[d] >= s->hi[d])
            return 2;
        if (d >= nd && (s->lo[d] != 0 || s->hi[d] != 1))
            return 3;
        if (s->part == SJ_STENCIL_INTERIOR && d < nd &&
            (s->lo[d] < width || s->hi[d] > s->blk.dims[d] - width))
            return 4;
    }
    if (s->part == SJ_STENCIL_INTERIOR &&
        memcmp(s->in_stride, s->out_stride, sizeof s->in_stride) != 0)
        return 5;
    return 0;
}

/* ---- Game of Life (the life_step / life_rule example) ------------------------- */

#define LIFE_N0 24
#define LIFE_N1 20

/* The rule of DistributedArrays' life_rule, on a box of a block. */
static int life_fn(const sj_stencil_info_t *s, void *outp, const void *inp, void *ctx)
{
    (void)ctx;
    if (s->blk.dtype != SJ_FLOAT64 || check_info(s, 1) != 0)
        return 1;
    const double *in = inp;
    double *out = outp;
    const int64_t a = s->in_stride[1], o = s->out_stride[1];
    for (int64_t j = s->lo[1]; j < s->hi[1]; j++)
        for (int64_t i = s->lo[0]; i < s->hi[0]; i++) {
            const double *c = in + i + a * j;
            double n = c[-1 - a] + c[-a] + c[1 - a] + c[-1] + c[1] + c[a - 1] + c[a] + c[a + 1];
            out[i + o * j] = (n == 3.0 || (n == 2.0 && *c == 1.0)) ? 1.0 : 0.0;
        }
    return 0;
}

static void life_ref_step(const double *g, double *h, int64_t n0, int64_t n1)
{
    for (int64_t j = 0; j < n1; j++)
        for (int64_t i = 0; i < n0; i++) {
            double n = 0;
            for (int dj = -1; dj <= 1; dj++)
                for (int di = -1; di <= 1; di++)
                    if (di || dj)
                        n += g[(i + di + n0) % n0 + n0 * ((j + dj + n1) % n1)];
            h[i + n0 * j] = (n == 3.0 || (n == 2.0 && g[i + n0 * j] == 1.0)) ? 1.0 : 0.0;
        }
}

/* The glider of the README's figure at (r, c): moves one cell down and right every 4 steps. */
static void put_glider(double *g, int64_t n0, int64_t n1, int64_t r, int64_t c)
{
    static const int cells[5][2] = {{0, 1}, {1, 2}, {2, 0}, {2, 1}, {2, 2}};
    for (int k = 0; k < 5; k++)
        g[(r + cells[k][0]) % n0 + n0 * ((c + cells[k][1]) % n1)] = 1.0;
}

static void test_life_glider(void **state)
{
    (void)state;
    const int64_t n0 = LIFE_N0, n1 = LIFE_N1, n = n0 * n1;
    const int steps = 100;
    double *start = calloc((size_t)n, sizeof *start);
    double *ref = calloc((size_t)n, sizeof *ref);
    double *tmp = calloc((size_t)n, sizeof *tmp);
    put_glider(start, n0, n1, 2, 3);
    /* The reference itself: 100 steps move the glider by (25, 25) on the torus. */
    memcpy(ref, start, (size_t)n * sizeof *ref);
    for (int s = 0; s < steps; s++) {
        life_ref_step(ref, tmp, n0, n1);
        memcpy(ref, tmp, (size_t)n * sizeof *ref);
    }
    memset(tmp, 0, (size_t)n * sizeof *tmp);
    put_glider(tmp, n0, n1, 2 + 25, 3 + 25);
    assert_int_equal(sj_t_diff(ref, tmp, n, "serial glider after 100 steps"), 0);

    const int64_t dims[2] = {n0, n1};
    const int64_t r0[4] = {1, 10, 3, 10}, r1[3] = {7, 1, 12};
    const int64_t *cuts[2] = {r0, r1};
    struct {
        const char *name;
        int nb[2];
        int irregular, layout;
        sj_stencil_mode_t mode;
    } cases[] = {
        {"2x2 contiguous", {2, 2}, 0, LAY_DEFAULT, SJ_STENCIL_SPLIT},
        {"2x2 contiguous, padded", {2, 2}, 0, LAY_DEFAULT, SJ_STENCIL_PADDED},
        {"1 x nranks", {1, 0}, 0, LAY_DEFAULT, SJ_STENCIL_SPLIT},
        {"4x3 cyclic", {4, 3}, 0, LAY_CYCLIC, SJ_STENCIL_SPLIT},
        {"irregular 4x3 scattered", {4, 3}, 1, LAY_EXPLICIT, SJ_STENCIL_SPLIT},
        {"one block", {1, 1}, 0, LAY_LAST_RANK, SJ_STENCIL_SPLIT},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int nb[2] = {cases[c].nb[0], cases[c].nb[1] ? cases[c].nb[1] : sj_nranks()};
        sj_space_t s = cases[c].irregular ? make_irregular(SJ_FLOAT64, 2, nb, cuts)
                                          : make_uniform(SJ_FLOAT64, 2, dims, nb);
        sj_dist_t d = make_dist(s, cases[c].layout);
        sj_array_t a = NULL, b = NULL;
        SJ_ASSERT_OK(sj_array_distribute(s, d, 0, start, &a));
        SJ_ASSERT_OK(sj_array_similar(a, &b));
        sj_stencil_options_t o;
        sj_stencil_options_default(&o);
        o.mode = cases[c].mode;
        /* No wait inside the time loop: the steps chain in the task graph. */
        for (int step = 0; step < steps; step++) {
            SJ_ASSERT_OK(sj_array_stencil(a, b, 1, SJ_BOUNDARY_PERIODIC, &o, life_fn, NULL, 0));
            sj_array_t t = a;
            a = b;
            b = t;
        }
        SJ_ASSERT_OK(sj_wait());
        assert_int_equal(count_bad(a, 0, ref, cases[c].name), 0);
        assert_int_equal(count_bad(a, sj_nranks() - 1, ref, cases[c].name), 0);
        SJ_ASSERT_OK(sj_array_destroy(&a));
        SJ_ASSERT_OK(sj_array_destroy(&b));
        SJ_ASSERT_OK(sj_dist_destroy(&d));
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
    free(start);
    free(ref);
    free(tmp);
}

/* ---- generic stencils: one cell function for the tasks and the serial loop ---- */

enum { K_HEAT5, K_HEAT7, K_BOX27, K_LAP4 };

typedef struct st_ctx {
    int kind;
    int width; /* radius of the stencil = ghost width */
    double k;  /* diffusion number */
} st_ctx_t;

/* Neighbourhood of a cell: nb[dk + 2][dj + 2][di + 2], radius up to 2. */
typedef double hood_t[5][5][5];

static double cell(const st_ctx_t *c, hood_t h)
{
#define U(di, dj, dk) h[(dk) + 2][(dj) + 2][(di) + 2]
    const double u = U(0, 0, 0);
    switch (c->kind) {
    case K_HEAT5:
        return u + c->k * (((U(-1, 0, 0) + U(1, 0, 0)) + (U(0, -1, 0) + U(0, 1, 0))) - 4.0 * u);
    case K_HEAT7:
        return u + c->k * ((((U(-1, 0, 0) + U(1, 0, 0)) + (U(0, -1, 0) + U(0, 1, 0))) +
                            (U(0, 0, -1) + U(0, 0, 1))) -
                           6.0 * u);
    case K_BOX27: {
        double s = 0;
        for (int dk = -1; dk <= 1; dk++)
            for (int dj = -1; dj <= 1; dj++)
                for (int di = -1; di <= 1; di++)
                    s += U(di, dj, dk);
        return s / 27.0;
    }
    default: { /* fourth-order Laplacian, radius 2 */
        double near = (U(-1, 0, 0) + U(1, 0, 0)) + (U(0, -1, 0) + U(0, 1, 0));
        double far = (U(-2, 0, 0) + U(2, 0, 0)) + (U(0, -2, 0) + U(0, 2, 0));
        return u + c->k * ((16.0 * near - far - 60.0 * u) / 12.0);
    }
    }
#undef U
}

static double load(const void *p, sj_dtype_t t, int64_t i)
{
    return t == SJ_FLOAT32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static void store(void *p, sj_dtype_t t, int64_t i, double v)
{
    if (t == SJ_FLOAT32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

/* The user function: fills the neighbourhood from `in` (radius = width, along
 * the array's dimensions only: nothing outside the promised range is read). */
static int generic_fn(const sj_stencil_info_t *s, void *out, const void *in, void *ctxp)
{
    const st_ctx_t *c = ctxp;
    if (!c || check_info(s, c->width) != 0)
        return 7;
    const int nd = s->blk.ndims, r = c->width;
    const int rk = nd > 2 ? r : 0;
    const sj_dtype_t t = s->blk.dtype;
    const int64_t *is = s->in_stride, *os = s->out_stride;
    for (int64_t k = s->lo[2]; k < s->hi[2]; k++)
        for (int64_t j = s->lo[1]; j < s->hi[1]; j++)
            for (int64_t i = s->lo[0]; i < s->hi[0]; i++) {
                hood_t h = {{{0}}};
                for (int dk = -rk; dk <= rk; dk++)
                    for (int dj = -r; dj <= r; dj++)
                        for (int di = -r; di <= r; di++)
                            h[dk + 2][dj + 2][di + 2] =
                                load(in, t, (i + di) * is[0] + (j + dj) * is[1] + (k + dk) * is[2]);
                store(out, t, i * os[0] + j * os[1] + k * os[2], cell(c, h));
            }
    return 0;
}

/* One serial step on the whole array (values as doubles, rounded to the type). */
static void ref_step(const st_ctx_t *c, const double *u, double *v, const int64_t g[3], int nd,
                     const sj_boundary_t bc[3], double fixed, sj_dtype_t t)
{
    const int r = c->width, rk = nd > 2 ? r : 0;
    const double fx = t == SJ_FLOAT32 ? (double)(float)fixed : fixed;
    for (int64_t k = 0; k < g[2]; k++)
        for (int64_t j = 0; j < g[1]; j++)
            for (int64_t i = 0; i < g[0]; i++) {
                hood_t h = {{{0}}};
                for (int dk = -rk; dk <= rk; dk++)
                    for (int dj = -r; dj <= r; dj++)
                        for (int di = -r; di <= r; di++) {
                            int64_t x[3] = {i + di, j + dj, k + dk};
                            int outside = 0;
                            for (int d = 0; d < 3; d++)
                                if (x[d] < 0 || x[d] >= g[d]) {
                                    if (bc[d] == SJ_BOUNDARY_FIXED)
                                        outside = 1;
                                    x[d] = (x[d] + g[d]) % g[d];
                                }
                            h[dk + 2][dj + 2][di + 2] =
                                outside ? fx : u[x[0] + g[0] * (x[1] + g[1] * x[2])];
                        }
                double y = cell(c, h);
                v[i + g[0] * (j + g[1] * k)] = t == SJ_FLOAT32 ? (double)(float)y : y;
            }
}

/*
 * Runs @p steps steps of stencil @p c on @p s (laid out by @p layout) from
 * sj_t_init's SINE values, and compares with the serial loop.
 */
static void run_case_waits(const char *name, sj_space_t s, int layout, const st_ctx_t *c,
                           sj_boundary_t boundary, const sj_stencil_options_t *o, int steps,
                           int wait_each)
{
    sj_dtype_t t = SJ_FLOAT64;
    int64_t g[3] = {1, 1, 1};
    int nd = 0;
    int64_t n = sj_t_gdims(s, g, &t);
    SJ_ASSERT_OK(sj_space_shape(s, NULL, &nd, NULL));
    sj_boundary_t bc[3];
    for (int d = 0; d < 3; d++)
        bc[d] = o && o->boundary[d] ? o->boundary[d] : boundary;
    double *ref = sj_t_ref(s, &(sj_t_gen_t){SJ_T_SINE, 1.0, 0.0});
    double *tmp = malloc((size_t)n * sizeof *tmp);
    for (int step = 0; step < steps; step++) {
        ref_step(c, ref, tmp, g, nd, bc, o ? o->fixed_value : 0.0, t);
        memcpy(ref, tmp, (size_t)n * sizeof *ref);
    }

    sj_dist_t d = make_dist(s, layout);
    sj_array_t a = NULL, b = NULL;
    SJ_ASSERT_OK(sj_t_make(s, d, sj_t_gen(SJ_T_SINE), &a));
    SJ_ASSERT_OK(sj_array_similar(a, &b));
    for (int step = 0; step < steps; step++) {
        /* odd steps hand c over as is (ctx_size 0): it outlives the tasks */
        SJ_ASSERT_OK(
            sj_array_stencil(a, b, c->width, boundary, o, generic_fn, c, step % 2 ? 0 : sizeof *c));
        if (wait_each) /* released strip tags come back into use after two waits */
            SJ_ASSERT_OK(sj_wait());
        sj_array_t x = a;
        a = b;
        b = x;
    }
    SJ_ASSERT_OK(sj_wait());
    assert_int_equal(count_bad(a, 0, ref, name), 0);
    assert_int_equal(count_bad(a, sj_nranks() - 1, ref, name), 0);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    free(ref);
    free(tmp);
}

static void run_case(const char *name, sj_space_t s, int layout, const st_ctx_t *c,
                     sj_boundary_t boundary, const sj_stencil_options_t *o, int steps)
{
    run_case_waits(name, s, layout, c, boundary, o, steps, 0);
}

static void test_heat2d_fixed(void **state)
{
    (void)state;
    const st_ctx_t c = {K_HEAT5, 1, 0.2};
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    o.fixed_value = 1.5;
    const int64_t dims[2] = {29, 23};
    const int64_t r0[4] = {1, 12, 9, 7}, r1[3] = {10, 2, 11};
    const int64_t *cuts[2] = {r0, r1};
    for (int t = 0; t < 2; t++) {
        sj_dtype_t dt = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        sj_space_t s = make_uniform(dt, 2, dims, (int[]){3, 2});
        run_case("heat 2-D 3x2 contiguous", s, LAY_DEFAULT, &c, SJ_BOUNDARY_FIXED, &o, 5);
        run_case("heat 2-D 3x2 cyclic", s, LAY_CYCLIC, &c, SJ_BOUNDARY_FIXED, &o, 5);
        o.mode = SJ_STENCIL_PADDED;
        run_case("heat 2-D 3x2 padded", s, LAY_DEFAULT, &c, SJ_BOUNDARY_FIXED, &o, 5);
        o.mode = SJ_STENCIL_SPLIT;
        SJ_ASSERT_OK(sj_space_destroy(&s));
        s = make_irregular(dt, 2, (int[]){4, 3}, cuts);
        run_case("heat 2-D irregular", s, LAY_EXPLICIT, &c, SJ_BOUNDARY_FIXED, &o, 5);
        SJ_ASSERT_OK(sj_space_destroy(&s));
        s = make_uniform(dt, 2, dims, (int[]){1, 1});
        run_case("heat 2-D one block", s, LAY_LAST_RANK, &c, SJ_BOUNDARY_FIXED, &o, 5);
        SJ_ASSERT_OK(sj_space_destroy(&s));
    }
    /* Default options: the boundary value is 0. */
    sj_space_t s = make_uniform(SJ_FLOAT64, 2, dims, (int[]){2, 2});
    run_case("heat 2-D, fixed value 0", s, LAY_DEFAULT, &c, SJ_BOUNDARY_FIXED, NULL, 3);
    /* A wait after every step: later steps reuse the tags of earlier ones. */
    run_case_waits("heat 2-D, waits", s, LAY_CYCLIC, &c, SJ_BOUNDARY_FIXED, &o, 6, 1);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_width2_mixed(void **state)
{
    (void)state;
    /* Radius 2; fixed along dimension 0, periodic along dimension 1. Blocks of
     * exactly 2 and 3 cells have no interior: their frame covers them. */
    const st_ctx_t c = {K_LAP4, 2, 0.05};
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    o.fixed_value = -0.75;
    o.boundary[1] = SJ_BOUNDARY_PERIODIC;
    const int64_t r0[4] = {2, 5, 3, 7}, r1[3] = {4, 2, 9};
    const int64_t *cuts[2] = {r0, r1};
    sj_space_t s = make_irregular(SJ_FLOAT64, 2, (int[]){4, 3}, cuts);
    run_case("width 2 irregular contiguous", s, LAY_DEFAULT, &c, SJ_BOUNDARY_FIXED, &o, 4);
    run_case("width 2 irregular cyclic", s, LAY_CYCLIC, &c, SJ_BOUNDARY_FIXED, &o, 4);
    SJ_ASSERT_OK(sj_space_destroy(&s));
    /* Periodic along a dimension with one block: the block is its own neighbour. */
    s = make_uniform(SJ_FLOAT64, 2, (int64_t[]){17, 15}, (int[]){3, 1});
    run_case("width 2, one block along dimension 1", s, LAY_CYCLIC, &c, SJ_BOUNDARY_FIXED, &o, 4);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_heat3d(void **state)
{
    (void)state;
    const st_ctx_t c = {K_HEAT7, 1, 0.1};
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    o.fixed_value = 0.25;
    const int64_t dims[3] = {11, 9, 7};
    sj_space_t s = make_uniform(SJ_FLOAT64, 3, dims, (int[]){2, 2, 2});
    run_case("heat 3-D 2x2x2 contiguous", s, LAY_DEFAULT, &c, SJ_BOUNDARY_FIXED, &o, 3);
    run_case("heat 3-D 2x2x2 scattered", s, LAY_EXPLICIT, &c, SJ_BOUNDARY_FIXED, &o, 3);
    o.mode = SJ_STENCIL_PADDED;
    run_case("heat 3-D 2x2x2 padded", s, LAY_CYCLIC, &c, SJ_BOUNDARY_FIXED, &o, 3);
    SJ_ASSERT_OK(sj_space_destroy(&s));
    sj_space_t f = make_uniform(SJ_FLOAT32, 3, dims, (int[]){3, 1, 2});
    o.mode = SJ_STENCIL_SPLIT;
    run_case("heat 3-D float32 3x1x2 cyclic", f, LAY_CYCLIC, &c, SJ_BOUNDARY_FIXED, &o, 3);
    SJ_ASSERT_OK(sj_space_destroy(&f));
}

static void test_box27_corners(void **state)
{
    (void)state;
    /* Every one of the 26 neighbours counts: edges and corners must arrive. */
    const st_ctx_t c = {K_BOX27, 1, 0.0};
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    o.fixed_value = -0.5;
    o.boundary[1] = SJ_BOUNDARY_FIXED;
    const int64_t r0[3] = {3, 1, 5}, r1[2] = {4, 3}, r2[3] = {2, 2, 3};
    const int64_t *cuts[3] = {r0, r1, r2};
    sj_space_t s = make_irregular(SJ_FLOAT64, 3, (int[]){3, 2, 3}, cuts);
    run_case("27-point irregular contiguous", s, LAY_DEFAULT, &c, SJ_BOUNDARY_PERIODIC, &o, 3);
    run_case("27-point irregular scattered", s, LAY_EXPLICIT, &c, SJ_BOUNDARY_PERIODIC, &o, 3);
    SJ_ASSERT_OK(sj_space_destroy(&s));
    s = make_uniform(SJ_FLOAT64, 3, (int64_t[]){6, 5, 4}, (int[]){2, 3, 1});
    run_case("27-point, periodic with one block along dimension 2", s, LAY_CYCLIC, &c,
             SJ_BOUNDARY_PERIODIC, &o, 3);
    SJ_ASSERT_OK(sj_space_destroy(&s));
    s = make_uniform(SJ_FLOAT64, 3, (int64_t[]){4, 3, 5}, (int[]){1, 1, 1});
    run_case("27-point, one block", s, LAY_LAST_RANK, &c, SJ_BOUNDARY_PERIODIC, NULL, 2);
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- failures -------------------------------------------------------------------- */

static int failing_fn(const sj_stencil_info_t *s, void *out, const void *in, void *ctx)
{
    (void)out;
    (void)in;
    (void)ctx;
    return s->blk.block == 0 ? 3 : 0;
}

static void test_user_error(void **state)
{
    (void)state;
    sj_space_t s = make_uniform(SJ_FLOAT64, 2, (int64_t[]){8, 6}, (int[]){2, 2});
    sj_array_t a = NULL, b = NULL;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &a));
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &b));
    SJ_ASSERT_OK(sj_array_stencil(a, b, 1, SJ_BOUNDARY_PERIODIC, NULL, failing_fn, NULL, 0));
    SJ_ASSERT_ERR(sj_wait(), SJ_EUSER);
    SJ_ASSERT_OK(sj_wait()); /* the record is cleared */
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_bad_input(void **state)
{
    (void)state;
    const st_ctx_t c = {K_HEAT5, 1, 0.2};
    /* 10 x 8 in 4 x 2 blocks: blocks of 3, 3, 2, 2 cells along dimension 0. */
    sj_space_t s = make_uniform(SJ_FLOAT64, 2, (int64_t[]){10, 8}, (int[]){4, 2});
    sj_space_t other = make_uniform(SJ_FLOAT64, 2, (int64_t[]){10, 8}, (int[]){2, 2});
    sj_space_t line = make_uniform(SJ_FLOAT64, 1, (int64_t[]){40}, (int[]){2});
    sj_dist_t last = make_dist(s, LAY_LAST_RANK);
    sj_array_t a = NULL, b = NULL, x = NULL, y = NULL, l1 = NULL, l2 = NULL;
    SJ_ASSERT_OK(sj_array_ones(s, NULL, &a));
    SJ_ASSERT_OK(sj_array_zeros(s, NULL, &b));
    SJ_ASSERT_OK(sj_array_zeros(other, NULL, &x));
    SJ_ASSERT_OK(sj_array_zeros(s, last, &y)); /* another layout on 2 ranks or more */
    SJ_ASSERT_OK(sj_array_zeros(line, NULL, &l1));
    SJ_ASSERT_OK(sj_array_zeros(line, NULL, &l2));
    const sj_boundary_t P = SJ_BOUNDARY_PERIODIC;

    /* A halo wider than a block (2 cells), and no halo. */
    SJ_ASSERT_ERR(sj_array_stencil(a, b, 3, P, NULL, generic_fn, &c, sizeof c), SJ_EINVAL);
    assert_non_null(strstr(sj_last_error(), "width 3"));
    SJ_ASSERT_ERR(sj_array_stencil(a, b, 0, P, NULL, generic_fn, &c, sizeof c), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_stencil(a, b, -1, P, NULL, generic_fn, &c, sizeof c), SJ_EINVAL);
    /* NULL function, arrays, context. */
    SJ_ASSERT_ERR(sj_array_stencil(a, b, 1, P, NULL, NULL, &c, sizeof c), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_stencil(a, NULL, 1, P, NULL, generic_fn, &c, sizeof c), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_stencil(NULL, b, 1, P, NULL, generic_fn, &c, sizeof c), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_stencil(a, b, 1, P, NULL, generic_fn, NULL, sizeof c), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_stencil(a, b, 1, P, NULL, generic_fn, &c, (size_t)2 << 20), SJ_ESIZE);
    /* out == in. */
    SJ_ASSERT_ERR(sj_array_stencil(a, a, 1, P, NULL, generic_fn, &c, sizeof c), SJ_EINVAL);
    /* Mismatched spaces, mismatched layouts. */
    SJ_ASSERT_ERR(sj_array_stencil(a, x, 1, P, NULL, generic_fn, &c, sizeof c), SJ_EMISMATCH);
    if (sj_nranks() > 1)
        SJ_ASSERT_ERR(sj_array_stencil(a, y, 1, P, NULL, generic_fn, &c, sizeof c), SJ_EMISMATCH);
    /* A 1-D array. */
    SJ_ASSERT_ERR(sj_array_stencil(l1, l2, 1, P, NULL, generic_fn, &c, sizeof c), SJ_ENOTSUP);
    /* Unknown boundaries and modes. */
    SJ_ASSERT_ERR(sj_array_stencil(a, b, 1, (sj_boundary_t)0, NULL, generic_fn, &c, sizeof c),
                  SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_stencil(a, b, 1, (sj_boundary_t)7, NULL, generic_fn, &c, sizeof c),
                  SJ_EINVAL);
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    o.boundary[1] = (sj_boundary_t)9;
    SJ_ASSERT_ERR(sj_array_stencil(a, b, 1, P, &o, generic_fn, &c, sizeof c), SJ_EINVAL);
    sj_stencil_options_default(&o);
    o.mode = (sj_stencil_mode_t)5;
    SJ_ASSERT_ERR(sj_array_stencil(a, b, 1, P, &o, generic_fn, &c, sizeof c), SJ_EINVAL);
    sj_stencil_options_default(NULL); /* ignored */

    /* Nothing was submitted by the failed calls; a valid call still works. */
    SJ_ASSERT_OK(sj_array_stencil(a, b, 2, P, NULL, generic_fn, &(st_ctx_t){K_LAP4, 2, 0.1},
                                  sizeof(st_ctx_t)));
    SJ_ASSERT_OK(sj_wait());
    double sum = 0;
    SJ_ASSERT_OK(sj_array_sum(b, &sum));
    assert_true(sum == 80.0); /* a constant field stays constant under a periodic Laplacian */

    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_array_destroy(&l1));
    SJ_ASSERT_OK(sj_array_destroy(&l2));
    SJ_ASSERT_OK(sj_dist_destroy(&last));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    SJ_ASSERT_OK(sj_space_destroy(&other));
    SJ_ASSERT_OK(sj_space_destroy(&line));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_life_glider),   cmocka_unit_test(test_heat2d_fixed),
        cmocka_unit_test(test_width2_mixed),  cmocka_unit_test(test_heat3d),
        cmocka_unit_test(test_box27_corners), cmocka_unit_test(test_user_error),
        cmocka_unit_test(test_bad_input),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "halo");
}
