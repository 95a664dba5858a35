// sj-test: nprocs=1,2,3,4
/*
 * Arrays wrapped around the host's memory (sj_array_wrap_local with ghost
 * layers, sj_array_wrap_blocks): algebra, reductions, stencils, operator
 * applies and gathers on wrapped arrays give the bits of arrays starjets
 * allocates; the host's ghost layers are never touched (poisoned under
 * AddressSanitizer, and checked against a sentinel); acquire/release and
 * unwrap hand the memory back with the latest values; every bad input is a
 * clear error on every rank.
 */
#include "sj_test.h"

#if defined(__SANITIZE_ADDRESS__)
#define SJ_T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SJ_T_ASAN 1
#endif
#endif
#ifdef SJ_T_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define SENTINEL (-12345.0)

/* The block description that tasks get, from the space alone. */
static void block_info(sj_space_t s, int b, sj_block_info_t *bi)
{
    memset(bi, 0, sizeof *bi);
    int64_t gd[3] = {1, 1, 1};
    SJ_ASSERT_OK(sj_space_shape(s, &bi->dtype, &bi->ndims, gd));
    for (int d = 0; d < 3; d++) {
        bi->lo[d] = 0;
        bi->hi[d] = 1;
        bi->dims[d] = 1;
        bi->gdims[d] = d < bi->ndims ? gd[d] : 1;
    }
    SJ_ASSERT_OK(sj_space_block_range(s, b, bi->lo, bi->hi));
    SJ_ASSERT_OK(sj_space_block_dims(s, b, bi->dims, &bi->nelems));
    SJ_ASSERT_OK(sj_space_block_coords(s, b, bi->coords));
    bi->block = b;
}

/* ---- a host field with ghost layers -------------------------------------- */

typedef struct field {
    int owns;       /* this rank owns blocks */
    int ndims;      /* 2 or 3 */
    int g;          /* ghost width */
    int64_t lo[3];  /* first global index of this rank's box */
    int64_t ext[3]; /* the box's extent (1 for unused dimensions) */
    int64_t ld[3];  /* the host array's extent: ext + 2 g along used dimensions */
    double *mem;    /* the host array, ghosts included */
    double *base;   /* its first interior element */
} field_t;

static int64_t at(const field_t *f, int64_t i, int64_t j, int64_t k)
{
    return i + f->ld[0] * (j + f->ld[1] * k);
}

static int is_ghost(const field_t *f, int64_t i, int64_t j, int64_t k)
{
    const int64_t c[3] = {i, j, k};
    for (int d = 0; d < f->ndims; d++)
        if (c[d] < f->g || c[d] >= f->g + f->ext[d])
            return 1;
    return 0;
}

/* Poison (or unpoison) every ghost element, one element at a time (8 bytes: one granule). */
static void ghosts_poison(const field_t *f, int poison)
{
    for (int64_t k = 0; k < f->ld[2]; k++)
        for (int64_t j = 0; j < f->ld[1]; j++)
            for (int64_t i = 0; i < f->ld[0]; i++)
                if (is_ghost(f, i, j, k)) {
                    if (poison)
                        POISON(&f->mem[at(f, i, j, k)], sizeof(double));
                    else
                        UNPOISON(&f->mem[at(f, i, j, k)], sizeof(double));
                }
}

/* This rank's box of a contiguous layout, a host array around it, ghosts = SENTINEL. */
static void field_make(sj_space_t s, sj_dist_t dist, int g, const sj_t_gen_t *gen, field_t *f)
{
    memset(f, 0, sizeof *f);
    int nd = 0;
    int64_t gd[3] = {1, 1, 1};
    sj_dtype_t t;
    SJ_ASSERT_OK(sj_space_shape(s, &t, &nd, gd));
    f->ndims = nd;
    f->g = g;
    int nboxes = 0;
    const sj_box_t *box = NULL;
    SJ_ASSERT_OK(sj_dist_blockmap(dist, sj_t_rank(), &nboxes, &box));
    assert_true(nboxes <= 1);
    f->owns = nboxes == 1;
    if (!f->owns)
        return;
    int first = 0, last = 0, cf[3], cl[3];
    for (int d = 0; d < 3; d++) {
        cf[d] = box->lo[d];
        cl[d] = box->hi[d] - 1;
    }
    SJ_ASSERT_OK(sj_space_block_index(s, cf, &first));
    SJ_ASSERT_OK(sj_space_block_index(s, cl, &last));
    sj_block_info_t bf, bl;
    block_info(s, first, &bf);
    block_info(s, last, &bl);
    for (int d = 0; d < 3; d++) {
        f->lo[d] = bf.lo[d];
        f->ext[d] = bl.hi[d] - bf.lo[d];
        f->ld[d] = f->ext[d] + (d < nd ? 2 * g : 0);
    }
    const int64_t n = f->ld[0] * f->ld[1] * f->ld[2];
    f->mem = malloc((size_t)n * sizeof(double));
    assert_non_null(f->mem);
    for (int64_t k = 0; k < f->ld[2]; k++)
        for (int64_t j = 0; j < f->ld[1]; j++)
            for (int64_t i = 0; i < f->ld[0]; i++) {
                double v = SENTINEL;
                if (!is_ghost(f, i, j, k)) {
                    const int64_t c[3] = {f->lo[0] + i - g, f->lo[1] + j - g,
                                          f->lo[2] + k - (nd == 3 ? g : 0)};
                    v = sj_t_value(gen, c[0] + gd[0] * (c[1] + gd[1] * c[2]), c);
                }
                f->mem[at(f, i, j, k)] = v;
            }
    f->base = &f->mem[at(f, g, g, nd == 3 ? g : 0)];
    ghosts_poison(f, 1);
}

/* The ghosts hold the sentinel still; frees the host array. */
static void field_free(field_t *f)
{
    if (!f->owns)
        return;
    ghosts_poison(f, 0);
    int64_t touched = 0;
    for (int64_t k = 0; k < f->ld[2]; k++)
        for (int64_t j = 0; j < f->ld[1]; j++)
            for (int64_t i = 0; i < f->ld[0]; i++)
                touched += is_ghost(f, i, j, k) && f->mem[at(f, i, j, k)] != SENTINEL;
    assert_int_equal(touched, 0);
    free(f->mem);
    f->mem = NULL;
}

/* The whole array on every rank. */
static double *everywhere(sj_array_t a)
{
    sj_space_t s;
    SJ_ASSERT_OK(sj_array_space(a, &s));
    int64_t n = 0;
    SJ_ASSERT_OK(sj_space_length(s, &n));
    double *v = malloc((size_t)n * sizeof *v);
    assert_non_null(v);
    SJ_ASSERT_OK(sj_array_allgather(a, v));
    return v;
}

static void assert_same_bits(sj_array_t a, sj_array_t b)
{
    sj_space_t s;
    SJ_ASSERT_OK(sj_array_space(a, &s));
    int64_t n = 0;
    SJ_ASSERT_OK(sj_space_length(s, &n));
    double *va = everywhere(a), *vb = everywhere(b);
    assert_memory_equal(va, vb, (size_t)n * sizeof(double));
    free(va);
    free(vb);
}

/* A 5-point (7-point in 3-D) update: out = c - 0.2 * (sum of neighbours - 2 nd c). */
static int relax(const sj_stencil_info_t *s, void *outp, const void *inp, void *ctx)
{
    (void)ctx;
    const double *in = inp;
    double *out = outp;
    const int nd = s->blk.ndims;
    for (int64_t k = s->lo[2]; k < s->hi[2]; k++)
        for (int64_t j = s->lo[1]; j < s->hi[1]; j++)
            for (int64_t i = s->lo[0]; i < s->hi[0]; i++) {
                const double *c =
                    in + i * s->in_stride[0] + j * s->in_stride[1] + k * s->in_stride[2];
                double sum = 0;
                for (int d = 0; d < nd; d++)
                    sum += c[-s->in_stride[d]] + c[s->in_stride[d]];
                out[i * s->out_stride[0] + j * s->out_stride[1] + k * s->out_stride[2]] =
                    *c - 0.2 * (sum - 2.0 * nd * *c);
            }
    return 0;
}

/* A 2-D update in float reading two cells away along each dimension. */
static int relax_float(const sj_stencil_info_t *s, void *outp, const void *inp, void *ctx)
{
    (void)ctx;
    const float *in = inp;
    float *out = outp;
    const int64_t a = s->in_stride[1], o = s->out_stride[1];
    for (int64_t j = s->lo[1]; j < s->hi[1]; j++)
        for (int64_t i = s->lo[0]; i < s->hi[0]; i++) {
            const float *c = in + i + a * j;
            out[i + o * j] = *c - 0.1f * ((c[-2] + c[2]) + (c[-2 * a] + c[2 * a]) - 4.0f * *c);
        }
    return 0;
}

static int square_plus(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    const double *x = in[0];
    double *y = out;
    const double add = *(const double *)ctx;
    for (int64_t e = 0; e < blk->nelems; e++)
        y[e] = y[e] * x[e] + add;
    return 0;
}

/*
 * The same sequence of calls on a wrapped array w and on an array r starjets
 * allocated with the same values: after each, the same bits.
 */
static void same_as_allocated(sj_space_t s, sj_dist_t dist, sj_array_t w, sj_array_t r)
{
    sj_array_t u, o1, o2;
    SJ_ASSERT_OK(sj_t_make(s, dist, sj_t_gen(SJ_T_COSINE), &u));
    assert_same_bits(w, r);
    /* algebra */
    sj_array_t both[2] = {w, r};
    for (int i = 0; i < 2; i++) {
        SJ_ASSERT_OK(sj_array_scale(1.5, both[i]));
        SJ_ASSERT_OK(sj_array_axpby(0.3, u, 0.7, both[i]));
        SJ_ASSERT_OK(sj_array_mul(both[i], u, both[i]));
        const double add = 0.125;
        SJ_ASSERT_OK(sj_array_map(1, (sj_array_t[]){u}, both[i], square_plus, &add, sizeof add));
    }
    assert_same_bits(w, r);
    /* reductions (task partials and blocking ones) */
    double vw, vr;
    for (int op = SJ_REDUCE_SUM; op <= SJ_REDUCE_NORMINF; op++) {
        SJ_ASSERT_OK(sj_array_reduce((sj_reduce_op_t)op, w, NULL, &vw));
        SJ_ASSERT_OK(sj_array_reduce((sj_reduce_op_t)op, r, NULL, &vr));
        assert_memory_equal(&vw, &vr, sizeof vw);
    }
    SJ_ASSERT_OK(sj_array_dot(w, u, &vw));
    SJ_ASSERT_OK(sj_array_dot(r, u, &vr));
    assert_memory_equal(&vw, &vr, sizeof vw);
    sj_scalar_t sw, sr;
    SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_SUM, w, NULL, &sw));
    SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_SUM, r, NULL, &sr));
    SJ_ASSERT_OK(sj_scalar_value(sw, &vw));
    SJ_ASSERT_OK(sj_scalar_value(sr, &vr));
    assert_memory_equal(&vw, &vr, sizeof vw);
    SJ_ASSERT_OK(sj_scalar_destroy(&sw));
    SJ_ASSERT_OK(sj_scalar_destroy(&sr));
    /* stencils reading the wrapped array, and writing it */
    SJ_ASSERT_OK(sj_array_similar(r, &o1));
    SJ_ASSERT_OK(sj_array_similar(r, &o2));
    SJ_ASSERT_OK(sj_array_stencil(w, o1, 1, SJ_BOUNDARY_PERIODIC, NULL, relax, NULL, 0));
    SJ_ASSERT_OK(sj_array_stencil(r, o2, 1, SJ_BOUNDARY_PERIODIC, NULL, relax, NULL, 0));
    assert_same_bits(o1, o2);
    SJ_ASSERT_OK(sj_array_stencil(o1, w, 1, SJ_BOUNDARY_FIXED, NULL, relax, NULL, 0));
    SJ_ASSERT_OK(sj_array_stencil(o2, r, 1, SJ_BOUNDARY_FIXED, NULL, relax, NULL, 0));
    assert_same_bits(w, r);
    /* whole-array and per-block reads */
    int total = 0;
    SJ_ASSERT_OK(sj_space_blocks(s, NULL, &total));
    for (int b = 0; b < total; b++) {
        sj_block_info_t bi;
        SJ_ASSERT_OK(sj_array_block_info(w, b, &bi));
        double *bw = malloc((size_t)bi.nelems * sizeof *bw),
               *br = malloc((size_t)bi.nelems * sizeof *br);
        const int root = b % sj_t_nranks();
        SJ_ASSERT_OK(sj_array_block_get(w, b, root, bw));
        SJ_ASSERT_OK(sj_array_block_get(r, b, root, br));
        if (sj_t_rank() == root)
            assert_memory_equal(bw, br, (size_t)bi.nelems * sizeof *bw);
        free(bw);
        free(br);
    }
    SJ_ASSERT_OK(sj_array_destroy(&o1));
    SJ_ASSERT_OK(sj_array_destroy(&o2));
    SJ_ASSERT_OK(sj_array_destroy(&u));
}

/* The host's view of its box matches the gathered array. */
static void host_matches(const field_t *f, sj_array_t r)
{
    double *v = everywhere(r);
    sj_space_t s;
    SJ_ASSERT_OK(sj_array_space(r, &s));
    int64_t gd[3];
    sj_t_gdims(s, gd, NULL);
    int64_t bad = 0;
    for (int64_t k = 0; f->owns && k < f->ext[2]; k++)
        for (int64_t j = 0; j < f->ext[1]; j++)
            for (int64_t i = 0; i < f->ext[0]; i++) {
                double h = f->base[i + f->ld[0] * (j + f->ld[1] * k)];
                double e = v[(f->lo[0] + i) + gd[0] * ((f->lo[1] + j) + gd[1] * (f->lo[2] + k))];
                bad += memcmp(&h, &e, sizeof h) != 0;
            }
    assert_int_equal(bad, 0);
    free(v);
}

static void run_field(int ndims, const int64_t *dims, const int *nblocks, int g)
{
    sj_space_t s;
    sj_dist_t dist;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, ndims, dims, nblocks, &s));
    SJ_ASSERT_OK(sj_dist_create_default(s, &dist));
    const sj_t_gen_t gen = sj_t_gen(SJ_T_SINE);
    field_t f;
    field_make(s, dist, g, &gen, &f);
    sj_array_t w, r;
    SJ_ASSERT_OK(sj_array_wrap_local(s, dist, f.base, (int64_t[]){f.ld[0], f.ld[1]}, &w));
    SJ_ASSERT_OK(sj_t_make(s, dist, gen, &r));
    same_as_allocated(s, dist, w, r);

    /* the host reads its field, then updates it in place */
    SJ_ASSERT_OK(sj_array_acquire(w, SJ_ACCESS_READ));
    host_matches(&f, r);
    SJ_ASSERT_ERR(sj_array_acquire(w, SJ_ACCESS_READ), SJ_ESTATE);
    SJ_ASSERT_OK(sj_array_release(w));
    SJ_ASSERT_ERR(sj_array_release(w), SJ_ESTATE);
    SJ_ASSERT_OK(sj_array_scale(-2.0, w)); /* the acquire below waits for it */
    SJ_ASSERT_OK(sj_array_scale(-2.0, r));
    SJ_ASSERT_OK(sj_array_acquire(w, SJ_ACCESS_READWRITE));
    for (int64_t k = 0; f.owns && k < f.ext[2]; k++)
        for (int64_t j = 0; j < f.ext[1]; j++)
            for (int64_t i = 0; i < f.ext[0]; i++)
                f.base[i + f.ld[0] * (j + f.ld[1] * k)] += 1.0;
    SJ_ASSERT_OK(sj_array_release(w));
    sj_array_t one;
    SJ_ASSERT_OK(sj_array_ones(s, dist, &one));
    SJ_ASSERT_OK(sj_array_axpy(1.0, one, r)); /* what the host did, the same bits */
    SJ_ASSERT_OK(sj_array_destroy(&one));
    assert_same_bits(w, r);

    /* unwrap: the last values are in the host's array */
    SJ_ASSERT_OK(sj_array_scale(0.5, w));
    SJ_ASSERT_OK(sj_array_copyto(w, r));
    SJ_ASSERT_OK(sj_array_unwrap(&w));
    assert_null(w);
    host_matches(&f, r);
    field_free(&f);
    SJ_ASSERT_OK(sj_array_destroy(&r));
    SJ_ASSERT_OK(sj_dist_destroy(&dist));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

static void test_field_2d(void **state)
{
    (void)state;
    run_field(2, (int64_t[]){41, 29}, (int[]){4, 3}, 2);
}

static void test_field_3d(void **state)
{
    (void)state;
    run_field(3, (int64_t[]){13, 11, 9}, (int[]){2, 3, 2}, 1);
}

/*
 * float32, 2-D, blocks large enough for task partials (over 32768 elements
 * per rank), a ghost layer of 3: the same bits as an allocated array.
 */
static void test_field_float(void **state)
{
    (void)state;
    sj_space_t s;
    sj_dist_t dist;
    const int64_t n0 = 301, n1 = 257;
    const int g = 3;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 2, (int64_t[]){n0, n1}, (int[]){3, 2}, &s));
    SJ_ASSERT_OK(sj_dist_create_default(s, &dist));
    int nb = 0;
    const sj_box_t *box = NULL;
    SJ_ASSERT_OK(sj_dist_blockmap(dist, sj_t_rank(), &nb, &box));
    int64_t lo[2] = {0, 0}, ext[2] = {0, 0};
    if (nb == 1) {
        int first = 0, last = 0;
        SJ_ASSERT_OK(sj_space_block_index(s, (int[]){box->lo[0], box->lo[1], 0}, &first));
        SJ_ASSERT_OK(sj_space_block_index(s, (int[]){box->hi[0] - 1, box->hi[1] - 1, 0}, &last));
        sj_block_info_t bf, bl;
        block_info(s, first, &bf);
        block_info(s, last, &bl);
        for (int d = 0; d < 2; d++) {
            lo[d] = bf.lo[d];
            ext[d] = bl.hi[d] - bf.lo[d];
        }
    }
    const int64_t ld = ext[0] + 2 * g;
    float *mem = calloc((size_t)(ld * (ext[1] + 2 * g) + 1), sizeof *mem);
    const sj_t_gen_t gen = sj_t_gen(SJ_T_SINE);
    for (int64_t j = 0; j < ext[1]; j++)
        for (int64_t i = 0; i < ext[0]; i++) {
            const int64_t c[3] = {lo[0] + i, lo[1] + j, 0};
            mem[(g + i) + ld * (g + j)] = (float)sj_t_value(&gen, c[0] + n0 * c[1], c);
        }
    sj_array_t w, r, o1, o2;
    SJ_ASSERT_OK(sj_array_wrap_local(s, dist, &mem[g + ld * g], (int64_t[]){ld, 0}, &w));
    SJ_ASSERT_OK(sj_t_make(s, dist, gen, &r));
    for (int op = SJ_REDUCE_SUM; op <= SJ_REDUCE_NORMINF; op++) {
        double vw, vr;
        SJ_ASSERT_OK(sj_array_reduce((sj_reduce_op_t)op, w, NULL, &vw));
        SJ_ASSERT_OK(sj_array_reduce((sj_reduce_op_t)op, r, NULL, &vr));
        assert_memory_equal(&vw, &vr, sizeof vw);
    }
    double dw, dr;
    SJ_ASSERT_OK(sj_array_dot(w, r, &dw));
    SJ_ASSERT_OK(sj_array_dot(r, r, &dr));
    assert_memory_equal(&dw, &dr, sizeof dw);
    sj_array_t u;
    SJ_ASSERT_OK(sj_array_rand(s, dist, 7, &u));
    SJ_ASSERT_OK(sj_array_axpby(0.5, u, -1.25, w));
    SJ_ASSERT_OK(sj_array_axpby(0.5, u, -1.25, r));
    SJ_ASSERT_OK(sj_array_destroy(&u));
    SJ_ASSERT_OK(sj_array_similar(r, &o1));
    SJ_ASSERT_OK(sj_array_similar(r, &o2));
    SJ_ASSERT_OK(sj_array_stencil(w, o1, 2, SJ_BOUNDARY_PERIODIC, NULL, relax_float, NULL, 0));
    SJ_ASSERT_OK(sj_array_stencil(r, o2, 2, SJ_BOUNDARY_PERIODIC, NULL, relax_float, NULL, 0));
    SJ_ASSERT_OK(sj_array_stencil(o1, w, 2, SJ_BOUNDARY_FIXED, NULL, relax_float, NULL, 0));
    SJ_ASSERT_OK(sj_array_stencil(o2, r, 2, SJ_BOUNDARY_FIXED, NULL, relax_float, NULL, 0));
    int64_t len = 0;
    SJ_ASSERT_OK(sj_space_length(s, &len));
    float *vw = malloc((size_t)len * sizeof *vw), *vr = malloc((size_t)len * sizeof *vr);
    SJ_ASSERT_OK(sj_array_allgather(w, vw));
    SJ_ASSERT_OK(sj_array_allgather(r, vr));
    assert_memory_equal(vw, vr, (size_t)len * sizeof *vw);
    SJ_ASSERT_OK(sj_array_unwrap(&w));
    /* the ghosts are still zero: only the interior was written */
    int64_t touched = 0;
    for (int64_t j = 0; j < ext[1] + 2 * g; j++)
        for (int64_t i = 0; i < ld; i++)
            if (i < g || i >= g + ext[0] || j < g || j >= g + ext[1])
                touched += mem[i + ld * j] != 0.0f;
    assert_int_equal(touched, 0);
    free(vw);
    free(vr);
    free(mem);
    SJ_ASSERT_OK(sj_array_destroy(&r));
    SJ_ASSERT_OK(sj_array_destroy(&o1));
    SJ_ASSERT_OK(sj_array_destroy(&o2));
    SJ_ASSERT_OK(sj_dist_destroy(&dist));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* ---- one host buffer per block, under a block operator --------------------- */

static int diag_block(int i, int j, int owner, void *ctx, sj_op_t *block)
{
    (void)ctx;
    *block = NULL;
    if (i != j)
        return 0;
    int64_t n = 20 + 7 * i;
    sj_space_t s;
    int rc = sj_space_create(SJ_FLOAT64, 1, &n, (int[]){1}, &s);
    double *d = malloc((size_t)n * sizeof *d);
    for (int64_t e = 0; e < n; e++)
        d[e] = 1.0 + 0.01 * (double)(e + 3 * i);
    if (rc == 0)
        rc = sj_op_diagonal(s, owner, d, block);
    free(d);
    sj_space_destroy(&s);
    return rc;
}

static void test_blocks_under_operator(void **state)
{
    (void)state;
    const int nb = 5;
    sj_dist_t odist;
    /* block-cyclic over all ranks: a rank's blocks are not one box */
    SJ_ASSERT_OK(sj_dist_create_cyclic(2, (int[]){nb, nb}, 1, sj_t_nranks(), NULL, &odist));
    sj_op_t A;
    SJ_ASSERT_OK(sj_op_block_create_fn(nb, nb, odist, diag_block, NULL, 0, &A));
    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    SJ_ASSERT_OK(sj_op_domain(A, &ds, &dd));
    SJ_ASSERT_OK(sj_op_range(A, &rs, &rd));
    /* the host's buffers for the local blocks of x, values of the serial reference */
    const sj_t_gen_t gen = sj_t_gen(SJ_T_SMALL);
    int count = 0;
    const int *mine = NULL;
    SJ_ASSERT_OK(sj_dist_local_blocks(dd, sj_t_rank(), &count, &mine));
    void **bufs = calloc((size_t)count + 1, sizeof *bufs);
    for (int i = 0; i < count; i++) {
        sj_block_info_t bi;
        block_info(ds, mine[i], &bi);
        bufs[i] = malloc((size_t)bi.nelems * sizeof(double));
        assert_int_equal(sj_t_init(&bi, bufs[i], NULL, (void *)&gen), 0);
    }
    sj_array_t x, xr, y, yr;
    SJ_ASSERT_OK(sj_array_wrap_blocks(ds, dd, count, bufs, &x));
    SJ_ASSERT_OK(sj_t_make(ds, dd, gen, &xr));
    SJ_ASSERT_OK(sj_array_zeros(rs, rd, &y));
    SJ_ASSERT_OK(sj_array_zeros(rs, rd, &yr));
    SJ_ASSERT_OK(sj_op_apply(A, x, y));
    SJ_ASSERT_OK(sj_op_apply(A, xr, yr));
    assert_same_bits(y, yr);
    /* adjoint into the wrapped array, then localpart on a contiguous wrapped block */
    SJ_ASSERT_OK(sj_op_apply_adjoint(A, y, x));
    SJ_ASSERT_OK(sj_op_apply_adjoint(A, yr, xr));
    assert_same_bits(x, xr);
    for (int i = 0; i < count; i++) {
        void *p = NULL;
        SJ_ASSERT_OK(sj_array_localpart_get(x, mine[i], &p));
        assert_ptr_equal(p, bufs[i]); /* zero-copy: the host's own buffer */
        SJ_ASSERT_OK(sj_array_localpart_restore(x, mine[i], &p));
    }
    /* sj_array_destroy of a wrapped array leaves the buffers to the host, with the values */
    double *ref = everywhere(xr);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    for (int i = 0; i < count; i++) {
        sj_block_info_t bi;
        block_info(ds, mine[i], &bi);
        int64_t bad = 0;
        for (int64_t e = 0; e < bi.nelems; e++)
            bad += ((double *)bufs[i])[e] != ref[bi.lo[0] + e];
        assert_int_equal(bad, 0);
        free(bufs[i]);
    }
    free(bufs);
    free(ref);
    SJ_ASSERT_OK(sj_array_destroy(&xr));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_array_destroy(&yr));
    SJ_ASSERT_OK(sj_op_destroy(&A));
    SJ_ASSERT_OK(sj_dist_destroy(&odist));
}

/* ---- bad input ------------------------------------------------------------- */

/* Every rank fails: @p code on the ranks named bad, SJ_EINVAL on the others. */
#define ASSERT_ALL_FAIL(expr, here_bad, code)                                                      \
    do {                                                                                           \
        if (here_bad)                                                                              \
            SJ_ASSERT_ERR(expr, code);                                                             \
        else                                                                                       \
            SJ_ASSERT_ERR(expr, SJ_EINVAL);                                                        \
    } while (0)

static void test_bad_input(void **state)
{
    (void)state;
    const int me = sj_t_rank(), np = sj_t_nranks();
    sj_space_t s;
    sj_dist_t dist;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){16, 12}, (int[]){2, 2}, &s));
    SJ_ASSERT_OK(sj_dist_create_default(s, &dist));
    const sj_t_gen_t gen = sj_t_gen(SJ_T_RAMP);
    field_t f;
    field_make(s, dist, 1, &gen, &f);
    const int64_t ld[2] = {f.ld[0], f.ld[1]};
    sj_array_t w = (sj_array_t)(uintptr_t)1;
    const int last = np - 1; /* the rank that passes the bad argument */
    int owns_last = 0;
    {
        int nb = 0;
        SJ_ASSERT_OK(sj_dist_blockmap(dist, last, &nb, NULL));
        owns_last = nb > 0;
    }
    if (owns_last) {
        /* NULL base on an owner */
        ASSERT_ALL_FAIL(sj_array_wrap_local(s, dist, me == last ? NULL : f.base, ld, &w),
                        me == last, SJ_ENULL);
        assert_null(w);
        /* misaligned base */
        ASSERT_ALL_FAIL(
            sj_array_wrap_local(s, dist, me == last ? (void *)((char *)f.base + 4) : (void *)f.base,
                                ld, &w),
            me == last, SJ_EINVAL);
        /* leading dimension smaller than the box */
        const int64_t small[2] = {f.ext[0] - 1, f.ld[1]};
        ASSERT_ALL_FAIL(sj_array_wrap_local(s, dist, f.base, me == last ? small : ld, &w),
                        me == last, SJ_EINVAL);
        if (me == last)
            assert_non_null(strstr(sj_last_error(), "ld[0]"));
    }
    /* one pointer per block: the local part missing on a rank that owns blocks */
    int count = 0;
    const int *mine = NULL;
    SJ_ASSERT_OK(sj_dist_local_blocks(dist, me, &count, &mine));
    void *bufs[4] = {0};
    for (int i = 0; i < count; i++) {
        sj_block_info_t bi;
        block_info(s, mine[i], &bi);
        bufs[i] = calloc((size_t)bi.nelems, sizeof(double));
    }
    int last_count = 0;
    SJ_ASSERT_OK(sj_dist_local_blocks(dist, last, &last_count, NULL));
    if (last_count > 0) {
        ASSERT_ALL_FAIL(sj_array_wrap_blocks(s, dist, me == last ? 0 : count, bufs, &w), me == last,
                        SJ_EINVAL);
        ASSERT_ALL_FAIL(sj_array_wrap_blocks(s, dist, count, me == last ? NULL : bufs, &w),
                        me == last, SJ_ENULL);
        void *keep = bufs[0];
        if (me == last)
            bufs[0] = NULL;
        ASSERT_ALL_FAIL(sj_array_wrap_blocks(s, dist, count, bufs, &w), me == last, SJ_ENULL);
        if (me == last)
            bufs[0] = (char *)keep + 1;
        ASSERT_ALL_FAIL(sj_array_wrap_blocks(s, dist, count, bufs, &w), me == last, SJ_EINVAL);
        bufs[0] = keep;
    }
    /* a NULL space or output: every rank alike */
    SJ_ASSERT_ERR(sj_array_wrap_local(NULL, dist, f.base, ld, &w), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_wrap_blocks(s, dist, count, bufs, NULL), SJ_ENULL);
    /* a layout that does not give this rank one box */
    if (np > 1) {
        sj_dist_t cyc;
        SJ_ASSERT_OK(sj_dist_create_cyclic(2, (int[]){4, 3}, 1, np, NULL, &cyc));
        sj_space_t s2;
        SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){16, 12}, (int[]){4, 3}, &s2));
        int nb = 0, any = 0;
        for (int q = 0; q < np; q++) {
            int n = 0;
            SJ_ASSERT_OK(sj_dist_blockmap(cyc, q, &n, NULL));
            any += n > 1;
        }
        SJ_ASSERT_OK(sj_dist_blockmap(cyc, me, &nb, NULL));
        double *big = calloc(16 * 12, sizeof *big);
        if (any) {
            /* a rank whose blocks are not one box: every rank fails */
            ASSERT_ALL_FAIL(sj_array_wrap_local(s2, cyc, big, NULL, &w), nb > 1, SJ_EINVAL);
            if (nb > 1)
                assert_non_null(strstr(sj_last_error(), "boxes"));
        } else {
            SJ_ASSERT_OK(sj_array_wrap_local(s2, cyc, big, NULL, &w));
            SJ_ASSERT_OK(sj_array_unwrap(&w));
        }
        free(big);
        SJ_ASSERT_OK(sj_dist_destroy(&cyc));
        SJ_ASSERT_OK(sj_space_destroy(&s2));
    }
    /* nothing was left behind: a good wrap works now */
    SJ_ASSERT_OK(sj_array_wrap_local(s, dist, f.base, ld, &w));
    sj_array_t r;
    SJ_ASSERT_OK(sj_t_make(s, dist, gen, &r));
    assert_same_bits(w, r);
    /* acquire and release misuse */
    SJ_ASSERT_ERR(sj_array_acquire(NULL, SJ_ACCESS_READ), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_acquire(w, (sj_access_t)2), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_acquire(r, SJ_ACCESS_READ), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_release(r), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_array_release(w), SJ_ESTATE);
    SJ_ASSERT_OK(sj_array_acquire(w, SJ_ACCESS_READWRITE));
    SJ_ASSERT_ERR(sj_array_acquire(w, SJ_ACCESS_READWRITE), SJ_ESTATE);
    for (int i = 0; i < count; i++) {
        void *p = NULL;
        SJ_ASSERT_ERR(sj_array_localpart_get(w, mine[i], &p), SJ_ESTATE);
    }
    SJ_ASSERT_OK(sj_array_release(w));
    /* a strided view refuses direct block access */
    for (int i = 0; i < count; i++) {
        void *p = NULL;
        SJ_ASSERT_ERR(sj_array_localpart_get(w, mine[i], &p), SJ_EINVAL);
        assert_non_null(strstr(sj_last_error(), "strided"));
    }
    /* unwrap is for wrapped arrays only; a held acquire is released by unwrap */
    SJ_ASSERT_ERR(sj_array_unwrap(&r), SJ_EINVAL);
    assert_non_null(r);
    SJ_ASSERT_OK(sj_array_acquire(w, SJ_ACCESS_READ));
    SJ_ASSERT_OK(sj_array_unwrap(&w));
    SJ_ASSERT_OK(sj_array_unwrap(&w)); /* NULL: a no-op */
    SJ_ASSERT_OK(sj_array_destroy(&r));
    for (int i = 0; i < count; i++)
        free(bufs[i]);
    field_free(&f);
    SJ_ASSERT_OK(sj_dist_destroy(&dist));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_2d),    cmocka_unit_test(test_field_3d),
        cmocka_unit_test(test_field_float), cmocka_unit_test(test_blocks_under_operator),
        cmocka_unit_test(test_bad_input),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "wrap");
}
