// sj-test: nprocs=1,2,3,4
/*
 * sj_array_redistribute: 1-D to 3-D arrays of both element types move
 * between contiguous, block-cyclic and explicit layouts, other process grids
 * and other blockings (irregular cuts), and arrive bit for bit; bytes_moved
 * is the count of elements whose owner changes (brute force over every
 * element) times the element size; calls chain with algebra, a reduction and
 * the way back without a wait; wrapped arrays (strided views of the host's
 * memory) are sources and destinations; every bad input is the same clear
 * error on every rank and leaves nothing behind.
 */
#include "sj_test.h"

/* ---- references ---------------------------------------------------------- */

static sj_space_t space_of(sj_array_t a)
{
    sj_space_t s = NULL;
    SJ_ASSERT_OK(sj_array_space(a, &s));
    return s;
}

static sj_dist_t dist_of(sj_array_t a)
{
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_array_dist(a, &d));
    return d;
}

/* The owner of every element (column-major), block by block through the public queries. */
static int *element_owners(sj_array_t a)
{
    sj_space_t s = space_of(a);
    int64_t gdims[3];
    const int64_t n = sj_t_gdims(s, gdims, NULL);
    int *own = malloc((size_t)n * sizeof *own);
    int total = 0;
    SJ_ASSERT_OK(sj_space_blocks(s, NULL, &total));
    for (int b = 0; b < total; b++) {
        int64_t lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
        int r = -1;
        SJ_ASSERT_OK(sj_space_block_range(s, b, lo, hi));
        SJ_ASSERT_OK(sj_dist_owner(dist_of(a), b, &r));
        for (int64_t k = lo[2]; k < hi[2]; k++)
            for (int64_t j = lo[1]; j < hi[1]; j++)
                for (int64_t i = lo[0]; i < hi[0]; i++)
                    own[i + gdims[0] * (j + gdims[1] * k)] = r;
    }
    return own;
}

/* The least bytes a redistribution from src to dst can send: elements whose owner changes. */
static int64_t brute_bytes(sj_array_t src, sj_array_t dst)
{
    sj_dtype_t t = SJ_FLOAT64;
    const int64_t n = sj_t_length(src, &t);
    int *os = element_owners(src), *od = element_owners(dst);
    int64_t moved = 0;
    for (int64_t g = 0; g < n; g++)
        moved += os[g] != od[g];
    free(os);
    free(od);
    return moved * (int64_t)sj_dtype_size(t);
}

/* What sj_t_init() writes with @p gen, times @p factor, in the space's own element type. */
static void *ref_bits(sj_space_t s, sj_t_gen_t gen, double factor)
{
    int64_t gdims[3];
    sj_dtype_t t = SJ_FLOAT64;
    const int64_t n = sj_t_gdims(s, gdims, &t);
    void *ref = malloc((size_t)n * sj_dtype_size(t));
    for (int64_t g = 0; g < n; g++) {
        int64_t c[3];
        sj_t_coords(g, gdims, c);
        const double v = sj_t_value(&gen, g, c);
        if (t == SJ_FLOAT32)
            ((float *)ref)[g] = (float)v * (float)factor;
        else
            ((double *)ref)[g] = v * factor;
    }
    return ref;
}

/* Every rank gathers @p a (sj_array_allgather) and counts the elements whose bits differ. */
static int64_t mismatches(sj_array_t a, const void *ref, const char *what)
{
    sj_dtype_t t = SJ_FLOAT64;
    const int64_t n = sj_t_length(a, &t);
    const size_t es = sj_dtype_size(t);
    char *got = malloc((size_t)n * es);
    SJ_ASSERT_OK(sj_array_allgather(a, got));
    int64_t bad = 0;
    for (int64_t g = 0; g < n; g++) {
        if (memcmp(got + g * es, (const char *)ref + g * es, es) == 0)
            continue;
        if (bad++ < 5) {
            double x = t == SJ_FLOAT32 ? ((float *)got)[g] : ((double *)got)[g];
            double y = t == SJ_FLOAT32 ? ((const float *)ref)[g] : ((const double *)ref)[g];
            print_error("%s (rank %d): element %lld is %.17g, expected %.17g\n", what, sj_rank(),
                        (long long)g, x, y);
        }
    }
    free(got);
    return bad;
}

/*
 * Fill an array of (ss, ds) with @p kind, redistribute it into an array of
 * (sd, dd) and check the destination's bits and bytes_moved.
 */
static void check_case(const char *what, sj_space_t ss, sj_dist_t ds, sj_space_t sd, sj_dist_t dd,
                       int kind)
{
    sj_array_t src = NULL, dst = NULL;
    SJ_ASSERT_OK(sj_t_make(ss, ds, sj_t_gen(kind), &src));
    SJ_ASSERT_OK(sj_array_filled(sd, dd, -7.0, &dst));
    int64_t bytes = -1;
    SJ_ASSERT_OK(sj_array_redistribute(src, dst, &bytes));
    const int64_t least = brute_bytes(src, dst);
    if (bytes != least)
        print_error("%s: bytes_moved %lld, expected %lld\n", what, (long long)bytes,
                    (long long)least);
    assert_int_equal(bytes, least);
    void *ref = ref_bits(ss, sj_t_gen(kind), 1.0);
    assert_int_equal(mismatches(dst, ref, what), 0);
    free(ref);
    SJ_ASSERT_OK(sj_array_destroy(&src));
    SJ_ASSERT_OK(sj_array_destroy(&dst));
}

/* ---- spaces and layouts ----------------------------------------------------- */

static const int64_t DIMS[3][3] = {{103, 1, 1}, {23, 17, 1}, {9, 7, 5}};
/* uniform cuts: enough blocks along the first two dimensions for 4 ranks */
static const int NBLOCKS[3][3] = {{7, 1, 1}, {5, 4, 1}, {4, 4, 2}};

/* The same shape with irregular cuts that share few boundaries with the uniform ones. */
static sj_space_t irregular(sj_dtype_t t, int ndims)
{
    static const int64_t s1[] = {10, 40, 3, 50};
    static const int64_t s2a[] = {5, 5, 13}, s2b[] = {1, 16};
    static const int64_t s3a[] = {2, 7}, s3b[] = {3, 3, 1}, s3c[] = {5};
    const int64_t *sizes1[] = {s1};
    const int64_t *sizes2[] = {s2a, s2b};
    const int64_t *sizes3[] = {s3a, s3b, s3c};
    const int64_t *const *sizes[] = {sizes1, sizes2, sizes3};
    static const int nb[3][3] = {{4}, {3, 2}, {2, 3, 1}};
    sj_space_t s = NULL;
    SJ_ASSERT_OK(
        sj_space_create_irregular(t, ndims, DIMS[ndims - 1], nb[ndims - 1], sizes[ndims - 1], &s));
    return s;
}

static void grid_of(sj_space_t s, int nb[3], int *total)
{
    nb[0] = nb[1] = nb[2] = 1;
    SJ_ASSERT_OK(sj_space_blocks(s, nb, total));
}

/* Block-cyclic over all ranks: along dimension 0 in 1-D, a 1 x P grid above. */
static sj_dist_t cyclic(sj_space_t s, int ndims)
{
    int nb[3], total;
    grid_of(s, nb, &total);
    sj_dist_t d = NULL;
    const int p = sj_nranks();
    SJ_ASSERT_OK(
        sj_dist_create_cyclic(ndims, nb, ndims == 1 ? p : 1, ndims == 1 ? 1 : p, NULL, &d));
    return d;
}

/* An irregular owner table: runs, repeats and ranks left out. */
static sj_dist_t explicit_owners(sj_space_t s, int ndims)
{
    int nb[3], total;
    grid_of(s, nb, &total);
    int *owners = malloc((size_t)total * sizeof *owners);
    for (int b = 0; b < total; b++)
        owners[b] = (3 * b * b + b / 2 + 1) % sj_nranks();
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_explicit(ndims, nb, owners, &d));
    free(owners);
    return d;
}

/* Contiguous over the ranks in reverse order, on a P x 1 (x 1) grid or 1 x P (x 1). */
static sj_dist_t contiguous(sj_space_t s, int ndims, int along)
{
    int nb[3], total;
    grid_of(s, nb, &total);
    const int p = sj_nranks();
    int procs[4], grid[3] = {1, 1, 1};
    for (int r = 0; r < p; r++)
        procs[r] = p - 1 - r;
    grid[ndims == 1 ? 0 : along] = p;
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_contiguous(ndims, nb, p, procs, grid, &d));
    return d;
}

/* ---- tests ---------------------------------------------------------------- */

static void layouts_for(sj_dtype_t t, int ndims)
{
    char what[96];
    sj_space_t a = NULL, b = irregular(t, ndims);
    SJ_ASSERT_OK(sj_space_create(t, ndims, DIMS[ndims - 1], NBLOCKS[ndims - 1], &a));
    sj_dist_t cyc = cyclic(a, ndims), exa = explicit_owners(a, ndims);
    sj_dist_t row = contiguous(a, ndims, 0), col = contiguous(a, ndims, 1);
    sj_dist_t exb = explicit_owners(b, ndims), cycb = cyclic(b, ndims);
#define CASE(name, ss, ds, sd, dd, kind)                                                           \
    do {                                                                                           \
        snprintf(what, sizeof what, "%s %d-D %s", t == SJ_FLOAT32 ? "float32" : "float64", ndims,  \
                 name);                                                                            \
        check_case(what, ss, ds, sd, dd, kind);                                                    \
    } while (0)
    CASE("contiguous -> cyclic", a, NULL, a, cyc, SJ_T_SINE);
    CASE("cyclic -> explicit", a, cyc, a, exa, SJ_T_COSINE);
    CASE("contiguous -> contiguous, other grid", a, row, a, col, SJ_T_SINE);
    CASE("same layout", a, exa, a, exa, SJ_T_SINE);
    CASE("uniform cyclic -> irregular explicit", a, cyc, b, exb, SJ_T_SINE);
    CASE("irregular contiguous -> uniform explicit", b, NULL, a, exa, SJ_T_COSINE);
    CASE("irregular cyclic -> irregular contiguous", b, cycb, b, NULL, SJ_T_SINE);
#undef CASE
    /* the same layout moves nothing */
    sj_array_t x = NULL, y = NULL;
    int64_t bytes = -1;
    SJ_ASSERT_OK(sj_array_rand(a, NULL, 7, &x));
    SJ_ASSERT_OK(sj_array_zeros(a, NULL, &y));
    SJ_ASSERT_OK(sj_array_redistribute(x, y, &bytes));
    assert_int_equal(bytes, 0);
    SJ_ASSERT_OK(sj_array_redistribute(x, y, NULL));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_dist_destroy(&cyc));
    SJ_ASSERT_OK(sj_dist_destroy(&exa));
    SJ_ASSERT_OK(sj_dist_destroy(&row));
    SJ_ASSERT_OK(sj_dist_destroy(&col));
    SJ_ASSERT_OK(sj_dist_destroy(&exb));
    SJ_ASSERT_OK(sj_dist_destroy(&cycb));
    SJ_ASSERT_OK(sj_space_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&b));
}

static void test_layouts_1d(void **state)
{
    (void)state;
    layouts_for(SJ_FLOAT64, 1);
    layouts_for(SJ_FLOAT32, 1);
}

static void test_layouts_2d(void **state)
{
    (void)state;
    layouts_for(SJ_FLOAT64, 2);
    layouts_for(SJ_FLOAT32, 2);
}

static void test_layouts_3d(void **state)
{
    (void)state;
    layouts_for(SJ_FLOAT64, 3);
    layouts_for(SJ_FLOAT32, 3);
}

/* Random arrays do not depend on the layout: redistributing one gives the other. */
static void test_random(void **state)
{
    (void)state;
    sj_space_t a = NULL, b = irregular(SJ_FLOAT64, 2);
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, DIMS[1], NBLOCKS[1], &a));
    sj_dist_t d = explicit_owners(b, 2);
    sj_array_t x = NULL, y = NULL, z = NULL;
    SJ_ASSERT_OK(sj_array_rand(a, NULL, 42, &x));
    SJ_ASSERT_OK(sj_array_rand(b, d, 42, &y));
    SJ_ASSERT_OK(sj_array_zeros(b, d, &z));
    SJ_ASSERT_OK(sj_array_redistribute(x, z, NULL));
    const int64_t n = sj_t_length(y, NULL);
    double *want = malloc((size_t)n * sizeof *want);
    SJ_ASSERT_OK(sj_array_allgather(y, want));
    assert_int_equal(mismatches(z, want, "rand"), 0);
    free(want);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_array_destroy(&z));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_space_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&b));
}

/*
 * No wait anywhere: there and back, overwrite the destination while the way
 * back still reads it, scale it, reduce it, and back again.
 */
static void test_chain(void **state)
{
    (void)state;
    for (int ndims = 1; ndims <= 3; ndims++) {
        sj_space_t a = NULL, b = irregular(SJ_FLOAT64, ndims);
        SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, ndims, DIMS[ndims - 1], NBLOCKS[ndims - 1], &a));
        sj_dist_t cyc = cyclic(b, ndims);
        sj_array_t x = NULL, y = NULL, back = NULL;
        SJ_ASSERT_OK(sj_t_make(a, NULL, sj_t_gen(SJ_T_SINE), &x));
        SJ_ASSERT_OK(sj_array_zeros(b, cyc, &y));
        SJ_ASSERT_OK(sj_array_zeros(a, NULL, &back));
        SJ_ASSERT_OK(sj_array_redistribute(x, y, NULL));
        SJ_ASSERT_OK(sj_array_redistribute(y, back, NULL));
        SJ_ASSERT_OK(sj_array_fill(0.25, y)); /* after the way back has read y */
        void *ref = ref_bits(a, sj_t_gen(SJ_T_SINE), 1.0);
        assert_int_equal(mismatches(back, ref, "there and back"), 0);
        free(ref);

        /* exact values: the sum does not depend on the order of the additions */
        sj_array_t e = NULL;
        SJ_ASSERT_OK(sj_t_make(a, NULL, sj_t_gen(SJ_T_EXACT), &e));
        SJ_ASSERT_OK(sj_array_redistribute(e, y, NULL));
        SJ_ASSERT_OK(sj_array_scale(2.0, y));
        double sum = 0, want = 0;
        SJ_ASSERT_OK(sj_array_sum(y, &sum));
        SJ_ASSERT_OK(sj_array_redistribute(y, back, NULL));
        ref = ref_bits(a, sj_t_gen(SJ_T_EXACT), 2.0);
        for (int64_t g = 0; g < sj_t_length(back, NULL); g++)
            want += ((double *)ref)[g];
        assert_true(sum == want);
        assert_int_equal(mismatches(back, ref, "scaled and back"), 0);
        free(ref);
        SJ_ASSERT_OK(sj_wait());
        SJ_ASSERT_OK(sj_array_destroy(&e));
        SJ_ASSERT_OK(sj_array_destroy(&x));
        SJ_ASSERT_OK(sj_array_destroy(&y));
        SJ_ASSERT_OK(sj_array_destroy(&back));
        SJ_ASSERT_OK(sj_dist_destroy(&cyc));
        SJ_ASSERT_OK(sj_space_destroy(&a));
        SJ_ASSERT_OK(sj_space_destroy(&b));
    }
}

/*
 * Blocks above MPI's eager limit (rendezvous needs the receiver) followed at
 * once by sj_wait, with no task reading dst yet: the wait must still cover
 * the messages, whole blocks and packed pieces alike.
 */
static void test_large_then_wait(void **state)
{
    (void)state;
    const int64_t dims[2] = {600, 500};
    sj_space_t a = NULL, b = NULL;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, (int[]){4, 4}, &a));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, (int[]){3, 5}, &b));
    sj_dist_t cyc = cyclic(a, 2), exb = explicit_owners(b, 2);
    sj_array_t x = NULL, y = NULL, z = NULL;
    SJ_ASSERT_OK(sj_t_make(a, NULL, sj_t_gen(SJ_T_SINE), &x));
    SJ_ASSERT_OK(sj_array_zeros(a, cyc, &y));
    SJ_ASSERT_OK(sj_array_zeros(b, exb, &z));
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_array_redistribute(x, y, NULL));
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_array_redistribute(y, z, NULL));
    SJ_ASSERT_OK(sj_wait());
    void *ref = ref_bits(a, sj_t_gen(SJ_T_SINE), 1.0);
    assert_int_equal(mismatches(y, ref, "large, whole blocks"), 0);
    assert_int_equal(mismatches(z, ref, "large, pieces"), 0);
    free(ref);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_array_destroy(&z));
    SJ_ASSERT_OK(sj_dist_destroy(&cyc));
    SJ_ASSERT_OK(sj_dist_destroy(&exb));
    SJ_ASSERT_OK(sj_space_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&b));
}

/* ---- wrapped arrays -------------------------------------------------------- */

#define SENTINEL (-12345.0)

/* This rank's part of a default-layout 2-D array in a host array with a ghost layer of 1. */
typedef struct field {
    int64_t lo[2], ext[2], ld[2];
    double *mem, *base;
} field_t;

static void field_make(sj_space_t s, field_t *f)
{
    memset(f, 0, sizeof *f);
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_default(s, &d));
    int nboxes = 0;
    const sj_box_t *boxes = NULL;
    SJ_ASSERT_OK(sj_dist_blockmap(d, sj_rank(), &nboxes, &boxes));
    assert_true(nboxes <= 1);
    if (nboxes == 1) {
        int first, last;
        int c0[3] = {boxes[0].lo[0], boxes[0].lo[1], 0};
        int c1[3] = {boxes[0].hi[0] - 1, boxes[0].hi[1] - 1, 0};
        SJ_ASSERT_OK(sj_space_block_index(s, c0, &first));
        SJ_ASSERT_OK(sj_space_block_index(s, c1, &last));
        int64_t lo[2], hi[2], lo1[2], hi1[2];
        SJ_ASSERT_OK(sj_space_block_range(s, first, lo, hi));
        SJ_ASSERT_OK(sj_space_block_range(s, last, lo1, hi1));
        for (int k = 0; k < 2; k++) {
            f->lo[k] = lo[k];
            f->ext[k] = hi1[k] - lo[k];
            f->ld[k] = f->ext[k] + 2;
        }
        const int64_t n = f->ld[0] * f->ld[1];
        f->mem = malloc((size_t)n * sizeof(double));
        for (int64_t i = 0; i < n; i++)
            f->mem[i] = SENTINEL;
        f->base = f->mem + 1 + f->ld[0];
    }
    SJ_ASSERT_OK(sj_dist_destroy(&d));
}

/* The interior holds @p ref (global, column-major, gdims[0] rows); the ghosts the sentinel. */
static int64_t field_mismatches(const field_t *f, int64_t gdim0, const double *ref)
{
    int64_t bad = 0;
    for (int64_t j = -1; f->mem && j <= f->ext[1]; j++)
        for (int64_t i = -1; i <= f->ext[0]; i++) {
            const int inside = i >= 0 && j >= 0 && i < f->ext[0] && j < f->ext[1];
            const double got = f->base[i + f->ld[0] * j];
            const double want = inside ? ref[(f->lo[0] + i) + gdim0 * (f->lo[1] + j)] : SENTINEL;
            if (memcmp(&got, &want, sizeof got) != 0 && bad++ < 5)
                print_error("wrapped (rank %d): local (%lld, %lld) is %.17g, expected %.17g\n",
                            sj_rank(), (long long)i, (long long)j, got, want);
        }
    return bad;
}

/*
 * Into a wrapped destination whose blocks are strided views: whole blocks
 * (received into the view, or copied on the rank), then pieces of other
 * cuts (unpacked into it); out of it into another layout (the views sent);
 * a refusal while the host holds its memory; then the host gets the latest
 * values back at unwrap.
 */
static void test_wrapped(void **state)
{
    (void)state;
    sj_space_t a = NULL, b = irregular(SJ_FLOAT64, 2);
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, DIMS[1], NBLOCKS[1], &a));
    field_t f;
    field_make(a, &f);
    sj_array_t w = NULL, x = NULL, y = NULL, z = NULL;
    SJ_ASSERT_OK(sj_array_wrap_local(a, NULL, f.base, f.mem ? f.ld : NULL, &w));
    sj_dist_t cyc = cyclic(a, 2), exb = explicit_owners(b, 2);
    SJ_ASSERT_OK(sj_t_make(a, cyc, sj_t_gen(SJ_T_SINE), &x));
    SJ_ASSERT_OK(sj_t_make(b, exb, sj_t_gen(SJ_T_COSINE), &y));
    SJ_ASSERT_OK(sj_array_zeros(a, cyc, &z));

    int64_t bytes = -1;
    SJ_ASSERT_OK(sj_array_redistribute(x, w, &bytes));
    assert_int_equal(bytes, brute_bytes(x, w));
    void *ref = ref_bits(a, sj_t_gen(SJ_T_SINE), 1.0);
    assert_int_equal(mismatches(w, ref, "whole blocks into a wrapped array"), 0);
    free(ref);

    /* the host holds its memory on rank 0: every rank refuses */
    if (sj_rank() == 0)
        SJ_ASSERT_OK(sj_array_acquire(w, SJ_ACCESS_READ));
    SJ_ASSERT_ERR(sj_array_redistribute(y, w, &bytes), SJ_ESTATE);
    assert_non_null(strstr(sj_last_error(), "sj_array_acquire"));
    if (sj_rank() == 0)
        SJ_ASSERT_OK(sj_array_release(w));

    SJ_ASSERT_OK(sj_array_redistribute(y, w, &bytes));
    assert_int_equal(bytes, brute_bytes(y, w));
    SJ_ASSERT_OK(sj_array_redistribute(w, z, &bytes));
    assert_int_equal(bytes, brute_bytes(w, z));
    ref = ref_bits(a, sj_t_gen(SJ_T_COSINE), 1.0);
    assert_int_equal(mismatches(z, ref, "pieces through a wrapped array"), 0);
    SJ_ASSERT_OK(sj_array_unwrap(&w));
    assert_int_equal(field_mismatches(&f, DIMS[1][0], ref), 0);
    free(ref);
    free(f.mem);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_array_destroy(&z));
    SJ_ASSERT_OK(sj_dist_destroy(&cyc));
    SJ_ASSERT_OK(sj_dist_destroy(&exb));
    SJ_ASSERT_OK(sj_space_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&b));
}

/* ---- bad input ------------------------------------------------------------- */

static void assert_nothing_left(const sj_stats_t *before)
{
    sj_stats_t now;
    SJ_ASSERT_OK(sj_stats_get(&now));
    assert_int_equal(now.tags_booked, before->tags_booked);
    assert_int_equal(now.handles, before->handles);
    assert_int_equal(now.tasks_submitted, before->tasks_submitted);
}

static int redistribute_in_run(sj_spmd_context_t context, void *arg)
{
    (void)context;
    sj_array_t *xy = arg;
    return sj_array_redistribute(xy[0], xy[1], NULL) != SJ_ESTATE;
}

static void test_bad_input(void **state)
{
    (void)state;
    const int64_t dims[2] = {10, 8}, other[2] = {10, 9}, flat[1] = {80};
    sj_space_t s = NULL, s2 = NULL, s9 = NULL, s1 = NULL, s32 = NULL;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, (int[]){4, 2}, &s));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, (int[]){3, 3}, &s2));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, other, (int[]){4, 2}, &s9));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, flat, (int[]){4}, &s1));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 2, dims, (int[]){4, 2}, &s32));
    sj_dist_t cyc = cyclic(s2, 2);
    sj_array_t x = NULL, y = NULL, y9 = NULL, y1 = NULL, y32 = NULL;
    SJ_ASSERT_OK(sj_t_make(s, NULL, sj_t_gen(SJ_T_SINE), &x));
    SJ_ASSERT_OK(sj_array_zeros(s2, cyc, &y));
    SJ_ASSERT_OK(sj_array_zeros(s9, NULL, &y9));
    SJ_ASSERT_OK(sj_array_zeros(s1, NULL, &y1));
    SJ_ASSERT_OK(sj_array_zeros(s32, NULL, &y32));
    sj_array_t xy[2] = {x, y};
    SJ_ASSERT_OK(sj_spmd_run(NULL, redistribute_in_run, xy));
    SJ_ASSERT_OK(sj_wait());
    sj_stats_t before;
    SJ_ASSERT_OK(sj_stats_get(&before));

    int64_t bytes = -1;
    SJ_ASSERT_ERR(sj_array_redistribute(NULL, y, &bytes), SJ_ENULL);
    assert_non_null(strstr(sj_last_error(), "src"));
    assert_int_equal(bytes, 0);
    SJ_ASSERT_ERR(sj_array_redistribute(x, NULL, NULL), SJ_ENULL);
    assert_non_null(strstr(sj_last_error(), "dst"));
    SJ_ASSERT_ERR(sj_array_redistribute(x, x, NULL), SJ_EINVAL);
    assert_non_null(strstr(sj_last_error(), "same array"));
    SJ_ASSERT_ERR(sj_array_redistribute(x, y9, NULL), SJ_EMISMATCH);
    assert_non_null(strstr(sj_last_error(), "10x8"));
    assert_non_null(strstr(sj_last_error(), "10x9"));
    SJ_ASSERT_ERR(sj_array_redistribute(y1, x, NULL), SJ_EMISMATCH);
    assert_non_null(strstr(sj_last_error(), "1-D 80"));
    SJ_ASSERT_ERR(sj_array_redistribute(x, y32, NULL), SJ_EMISMATCH);
    assert_non_null(strstr(sj_last_error(), "float32"));
    assert_nothing_left(&before);

    /* a block of dst held by its owner: every rank refuses, then it works again */
    int owner = -1;
    void *p = NULL;
    SJ_ASSERT_OK(sj_dist_owner(cyc, 0, &owner));
    if (sj_rank() == owner)
        SJ_ASSERT_OK(sj_array_localpart_get(y, 0, &p));
    SJ_ASSERT_ERR(sj_array_redistribute(x, y, &bytes), SJ_ESTATE);
    assert_non_null(strstr(sj_last_error(), "sj_array_localpart_get"));
    if (sj_rank() == owner) {
        assert_non_null(strstr(sj_last_error(), "block 0"));
        SJ_ASSERT_OK(sj_array_localpart_restore(y, 0, &p));
    }
    assert_nothing_left(&before);

    SJ_ASSERT_OK(sj_array_redistribute(x, y, &bytes));
    assert_int_equal(bytes, brute_bytes(x, y));
    void *ref = ref_bits(s, sj_t_gen(SJ_T_SINE), 1.0);
    assert_int_equal(mismatches(y, ref, "after the refusals"), 0);
    free(ref);
    /* a layout mismatch in an operation stays one: redistribute is the explicit move */
    SJ_ASSERT_ERR(sj_array_copyto(x, y), SJ_EMISMATCH);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_array_destroy(&y9));
    SJ_ASSERT_OK(sj_array_destroy(&y1));
    SJ_ASSERT_OK(sj_array_destroy(&y32));
    SJ_ASSERT_OK(sj_dist_destroy(&cyc));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    SJ_ASSERT_OK(sj_space_destroy(&s2));
    SJ_ASSERT_OK(sj_space_destroy(&s9));
    SJ_ASSERT_OK(sj_space_destroy(&s1));
    SJ_ASSERT_OK(sj_space_destroy(&s32));
}

/* Many small redistributions without a wait: tags and temporaries come back. */
static void test_repeat(void **state)
{
    (void)state;
    sj_space_t a = NULL, b = irregular(SJ_FLOAT32, 1);
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 1, DIMS[0], NBLOCKS[0], &a));
    sj_dist_t cyc = cyclic(b, 1);
    sj_array_t x = NULL, y = NULL;
    SJ_ASSERT_OK(sj_t_make(a, NULL, sj_t_gen(SJ_T_SMALL), &x));
    SJ_ASSERT_OK(sj_array_zeros(b, cyc, &y));
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_wait());
    sj_stats_t before, after;
    SJ_ASSERT_OK(sj_stats_get(&before));
    for (int i = 0; i < 50; i++) {
        SJ_ASSERT_OK(sj_array_redistribute(x, y, NULL));
        SJ_ASSERT_OK(sj_array_redistribute(y, x, NULL));
    }
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_stats_get(&after));
    assert_int_equal(after.tags_booked, before.tags_booked);
    assert_int_equal(after.tags_waiting, 0);
    assert_int_equal(after.handles, before.handles);
    void *ref = ref_bits(a, sj_t_gen(SJ_T_SMALL), 1.0);
    assert_int_equal(mismatches(x, ref, "50 round trips"), 0);
    free(ref);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_dist_destroy(&cyc));
    SJ_ASSERT_OK(sj_space_destroy(&a));
    SJ_ASSERT_OK(sj_space_destroy(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts_1d), cmocka_unit_test(test_layouts_2d),
        cmocka_unit_test(test_layouts_3d), cmocka_unit_test(test_random),
        cmocka_unit_test(test_chain),      cmocka_unit_test(test_large_then_wait),
        cmocka_unit_test(test_wrapped),    cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_repeat),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "redistribute");
}
