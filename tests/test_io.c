// sj-test: nprocs=1,2,3,4
/*
 * Checkpoint and restart (starjets/io.h): an array saved with one layout and
 * blocking (block-cyclic over every rank) loads bit for bit into another
 * (irregular cuts, blocks on two ranks only), 1-D to 3-D, float64 and
 * float32, wrapped arrays (strided views of the host's memory) as source and
 * target; the file's data are the global column-major elements at byte 8192;
 * a save sees the updates submitted before it and none after; the file is
 * replaced without a stray temporary; every damaged or foreign file, a
 * target of another type or shape, and an unwritable path are one clear
 * error on every rank that leaves the target untouched.
 */
#include <unistd.h>

#include "sj_test.h"

/* A file name per rank count, so that ctest may run the variants at once. */
static const char *fname(const char *what)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "test_io.np%d.%s.sjarr", sj_nranks(), what);
    return p;
}

/* The whole array's bytes, column-major, on every rank. */
static unsigned char *all_bytes(sj_array_t a, size_t *size)
{
    sj_dtype_t t = SJ_FLOAT64;
    const int64_t n = sj_t_length(a, &t);
    *size = (size_t)n * sj_dtype_size(t);
    unsigned char *buf = malloc(*size);
    SJ_ASSERT_OK(sj_array_allgather(a, buf));
    return buf;
}

static void assert_same_bits(sj_array_t a, sj_array_t b)
{
    size_t na, nb;
    unsigned char *x = all_bytes(a, &na), *y = all_bytes(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    free(x);
    free(y);
}

/* A uniform blocking, block-cyclic over every rank (the saving side). */
static sj_array_t make_cyclic(sj_dtype_t t, int ndims, const int64_t dims[], sj_t_gen_t gen)
{
    int nb[3] = {1, 1, 1};
    for (int d = 0; d < ndims; d++)
        nb[d] = dims[d] >= 5 ? 5 : (int)dims[d];
    sj_space_t s;
    sj_dist_t c;
    SJ_ASSERT_OK(sj_space_create(t, ndims, dims, nb, &s));
    SJ_ASSERT_OK(sj_dist_create_cyclic(ndims, nb, sj_nranks(), 1, NULL, &c));
    sj_array_t a;
    SJ_ASSERT_OK(sj_t_make(s, c, gen, &a));
    SJ_ASSERT_OK(sj_dist_destroy(&c));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    return a;
}

/* Irregular cuts (a block of 1, then the rest in 2), owned by ranks 0 and the last only. */
static sj_array_t make_irregular(sj_dtype_t t, int ndims, const int64_t dims[])
{
    int nb[3] = {1, 1, 1};
    int64_t sizes[3][3];
    const int64_t *ps[3];
    int total = 1;
    for (int d = 0; d < ndims; d++) {
        if (dims[d] >= 4) {
            nb[d] = 3;
            sizes[d][0] = 1;
            sizes[d][1] = (dims[d] - 1) / 3;
            sizes[d][2] = dims[d] - 1 - sizes[d][1];
        } else {
            sizes[d][0] = dims[d];
        }
        ps[d] = sizes[d];
        total *= nb[d];
    }
    sj_space_t s;
    SJ_ASSERT_OK(sj_space_create_irregular(t, ndims, dims, nb, ps, &s));
    int *owners = malloc((size_t)total * sizeof *owners);
    for (int b = 0; b < total; b++)
        owners[b] = (b % 2) ? sj_nranks() - 1 : 0;
    sj_dist_t e;
    SJ_ASSERT_OK(sj_dist_create_explicit(ndims, nb, owners, &e));
    free(owners);
    sj_array_t a;
    SJ_ASSERT_OK(sj_array_zeros(s, e, &a));
    SJ_ASSERT_OK(sj_dist_destroy(&e));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    return a;
}

/* ---- round trips ---------------------------------------------------------- */

static void roundtrip(sj_dtype_t t, int ndims, const int64_t dims[])
{
    const char *path = fname("rt");
    sj_array_t a = make_cyclic(t, ndims, dims, sj_t_gen(SJ_T_SINE));
    const int64_t iter = 1234567;
    SJ_ASSERT_OK(sj_array_save(a, path, "u after 1234567 steps", &iter, sizeof iter));

    sj_file_info_t info;
    SJ_ASSERT_OK(sj_array_file_info(path, &info));
    assert_int_equal(info.dtype, t);
    assert_int_equal(info.ndims, ndims);
    for (int d = 0; d < ndims; d++)
        assert_int_equal(info.dims[d], dims[d]);
    assert_string_equal(info.label, "u after 1234567 steps");
    assert_int_equal(info.meta_size, sizeof iter);
    assert_memory_equal(info.meta, &iter, sizeof iter);
    assert_int_equal(info.data_offset, SJ_FILE_DATA_OFFSET);

    sj_array_t b = make_irregular(t, ndims, dims);
    sj_file_info_t li;
    SJ_ASSERT_OK(sj_array_load(path, b, &li));
    assert_string_equal(li.label, info.label);
    assert_same_bits(a, b);

    /* the data lie in global column-major order from byte 8192 on (the NumPy one-liner) */
    size_t n;
    unsigned char *all = all_bytes(a, &n);
    if (sj_rank() == 0) {
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        unsigned char *raw = malloc(n);
        assert_int_equal(fseek(f, SJ_FILE_DATA_OFFSET, SEEK_SET), 0);
        assert_int_equal(fread(raw, 1, n, f), n);
        fclose(f);
        assert_memory_equal(raw, all, n);
        free(raw);
    }
    free(all);
    SJ_ASSERT_OK(sj_barrier());
    if (sj_rank() == 0)
        unlink(path);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
}

static void test_roundtrip_1d(void **state)
{
    roundtrip(SJ_FLOAT64, 1, (int64_t[]){1001});
    roundtrip(SJ_FLOAT32, 1, (int64_t[]){77});
}

static void test_roundtrip_2d(void **state)
{
    roundtrip(SJ_FLOAT64, 2, (int64_t[]){37, 23});
    roundtrip(SJ_FLOAT32, 2, (int64_t[]){19, 41});
}

static void test_roundtrip_3d(void **state)
{
    roundtrip(SJ_FLOAT64, 3, (int64_t[]){9, 7, 11});
    roundtrip(SJ_FLOAT32, 3, (int64_t[]){6, 13, 5});
}

/* More than one checksum chunk (1 MiB), chunks split between ranks and blocks. */
static void test_roundtrip_chunks(void **state)
{
    roundtrip(SJ_FLOAT64, 2, (int64_t[]){401, 700});
    roundtrip(SJ_FLOAT32, 1, (int64_t[]){600001});
}

/* ---- wrapped arrays ------------------------------------------------------------ */

/* Element range [lo, hi) of this rank's box of blocks under layout d (extent 0 when none). */
static void my_box(sj_space_t s, sj_dist_t d, int64_t lo[2], int64_t ext[2])
{
    int nbox = 0;
    const sj_box_t *box = NULL;
    SJ_ASSERT_OK(sj_dist_blockmap(d, sj_rank(), &nbox, &box));
    ext[0] = ext[1] = 0;
    if (nbox != 1)
        return;
    int first = 0, last = 0;
    int64_t l0[3], h0[3], l1[3], h1[3];
    SJ_ASSERT_OK(sj_space_block_index(s, (int[]){box->lo[0], box->lo[1], 0}, &first));
    SJ_ASSERT_OK(sj_space_block_index(s, (int[]){box->hi[0] - 1, box->hi[1] - 1, 0}, &last));
    SJ_ASSERT_OK(sj_space_block_range(s, first, l0, h0));
    SJ_ASSERT_OK(sj_space_block_range(s, last, l1, h1));
    for (int k = 0; k < 2; k++) {
        lo[k] = l0[k];
        ext[k] = h1[k] - l0[k];
    }
}

/* A 2-D array wrapped around this rank's box of a host field with a ghost layer of 1. */
static sj_array_t wrap_field(sj_space_t s, double **field, int64_t ldout[2])
{
    sj_dist_t d;
    SJ_ASSERT_OK(sj_dist_create_default(s, &d));
    int64_t lo[2], ext[2];
    my_box(s, d, lo, ext);
    const int64_t ld[2] = {ext[0] + 2, ext[1] + 2};
    *field = malloc((size_t)(ld[0] * ld[1]) * sizeof(double));
    for (int64_t i = 0; i < ld[0] * ld[1]; i++)
        (*field)[i] = -7.0; /* ghosts: must stay untouched */
    sj_array_t a;
    SJ_ASSERT_OK(sj_array_wrap_local(s, d, ext[0] ? *field + 1 + ld[0] : NULL, ld, &a));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    ldout[0] = ext[0] ? ld[0] : 0;
    ldout[1] = ld[1];
    return a;
}

static void test_wrapped(void **state)
{
    const int64_t dims[2] = {29, 31};
    const char *path = fname("wrap");
    sj_space_t s;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, dims, (int[]){4, 3}, &s));
    double *fa, *fb;
    int64_t lda[2], ldb[2];
    sj_array_t a = wrap_field(s, &fa, lda), b = wrap_field(s, &fb, ldb);
    sj_array_t ref = make_cyclic(SJ_FLOAT64, 2, dims, sj_t_gen(SJ_T_COSINE));
    SJ_ASSERT_OK(sj_array_redistribute(ref, a, NULL));
    SJ_ASSERT_OK(sj_array_save(a, path, NULL, NULL, 0)); /* from a wrapped array */
    SJ_ASSERT_OK(sj_array_load(path, b, NULL));          /* into another */
    assert_same_bits(ref, b);
    sj_array_t c = make_irregular(SJ_FLOAT64, 2, dims);
    SJ_ASSERT_OK(sj_array_load(path, c, NULL));
    assert_same_bits(ref, c);
    SJ_ASSERT_OK(sj_array_unwrap(&b));
    /* the ghost frame of the host's field is as the host left it */
    for (int64_t j = 0; ldb[0] && j < ldb[1]; j++)
        for (int64_t i = 0; i < ldb[0]; i++)
            if (i == 0 || j == 0 || i == ldb[0] - 1 || j == ldb[1] - 1)
                assert_true(fb[i + ldb[0] * j] == -7.0);
    SJ_ASSERT_OK(sj_array_unwrap(&a));
    SJ_ASSERT_OK(sj_array_destroy(&c));
    SJ_ASSERT_OK(sj_array_destroy(&ref));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    free(fa);
    free(fb);
    SJ_ASSERT_OK(sj_barrier());
    if (sj_rank() == 0)
        unlink(path);
}

/* ---- ordering and replacement --------------------------------------------------- */

/* A save sees the updates submitted before it and none after, without a wait. */
static void test_ordering(void **state)
{
    const int64_t dims[2] = {64, 48};
    const char *path = fname("order");
    sj_array_t a = make_cyclic(SJ_FLOAT64, 2, dims, sj_t_gen(SJ_T_SINE));
    sj_array_t expect = make_cyclic(SJ_FLOAT64, 2, dims, sj_t_gen(SJ_T_SINE));
    SJ_ASSERT_OK(sj_array_scale(3.0, expect));
    SJ_ASSERT_OK(sj_array_scale(3.0, a)); /* before: seen */
    SJ_ASSERT_OK(sj_array_save(a, path, "order", NULL, 0));
    SJ_ASSERT_OK(sj_array_scale(5.0, a)); /* after: not seen */
    SJ_ASSERT_OK(sj_array_load(path, a, NULL));
    SJ_ASSERT_OK(sj_array_scale(2.0, a)); /* after the load: applies to the loaded values */
    SJ_ASSERT_OK(sj_array_scale(2.0, expect));
    assert_same_bits(a, expect);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&expect));
    SJ_ASSERT_OK(sj_barrier());
    if (sj_rank() == 0)
        unlink(path);
}

static volatile int slow_done;

static int slow_block(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    sleep(2);
    slow_done = 1;
    return 0;
}

/* A save waits for the tasks that write its array, not for the rest of the graph. */
static void test_no_drain(void **state)
{
    const int64_t dims[1] = {1000};
    const char *path = fname("nodrain");
    sj_array_t a = make_cyclic(SJ_FLOAT64, 1, dims, sj_t_gen(SJ_T_RAMP));
    sj_array_t other = make_cyclic(SJ_FLOAT64, 1, dims, sj_t_gen(SJ_T_RAMP));
    SJ_ASSERT_OK(sj_wait());
    slow_done = 0;
    SJ_ASSERT_OK(sj_array_map(0, NULL, other, slow_block, NULL, 0)); /* 2 s per block */
    SJ_ASSERT_OK(sj_array_save(a, path, NULL, NULL, 0));
    assert_int_equal(slow_done, 0); /* the other array's tasks are still running */
    SJ_ASSERT_OK(sj_wait());
    sj_array_t b = make_irregular(SJ_FLOAT64, 1, dims);
    SJ_ASSERT_OK(sj_array_load(path, b, NULL));
    assert_same_bits(a, b);
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_array_destroy(&other));
    SJ_ASSERT_OK(sj_barrier());
    if (sj_rank() == 0)
        unlink(path);
}

/* Saving over a file replaces it and leaves no temporary beside it. */
static void test_replace(void **state)
{
    const int64_t dims[1] = {100};
    const char *path = fname("replace");
    sj_array_t a = make_cyclic(SJ_FLOAT64, 1, dims, sj_t_gen(SJ_T_RAMP));
    SJ_ASSERT_OK(sj_array_save(a, path, "first", NULL, 0));
    SJ_ASSERT_OK(sj_array_scale(-1.0, a));
    SJ_ASSERT_OK(sj_array_save(a, path, "second", NULL, 0));
    sj_file_info_t info;
    SJ_ASSERT_OK(sj_array_file_info(path, &info));
    assert_string_equal(info.label, "second");
    sj_array_t b = make_irregular(SJ_FLOAT64, 1, dims);
    SJ_ASSERT_OK(sj_array_load(path, b, NULL));
    assert_same_bits(a, b);
    if (sj_rank() == 0) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "ls %s.tmp-* >/dev/null 2>&1", path);
        assert_int_not_equal(system(cmd), 0); /* no temporary left */
    }
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_barrier());
    if (sj_rank() == 0)
        unlink(path);
}

/* ---- errors ------------------------------------------------------------------------ */

/* Rank 0 rewrites the file with @p edit, the others wait. */
static void edit_file(const char *path, void (*edit)(FILE *f, long size))
{
    if (sj_rank() == 0) {
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        edit(f, ftell(f));
        fclose(f);
    }
    SJ_ASSERT_OK(sj_barrier());
}

static void flip_at(FILE *f, long at)
{
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x10, f);
}

static void flip_data(FILE *f, long size)
{
    flip_at(f, SJ_FILE_DATA_OFFSET + 1000 * 8 + 3); /* in the second MiB-chunk? no: the first */
}

static void flip_data_last(FILE *f, long size)
{
    flip_at(f, size - 8 * 2 - 1); /* the last data byte (2 chunks of checksums follow) */
}

static void flip_header(FILE *f, long size)
{
    flip_at(f, 130); /* inside the label */
}

static void flip_table(FILE *f, long size)
{
    flip_at(f, size - 5);
}

static void flip_shape(FILE *f, long size)
{
    flip_at(f, 40); /* dims[0] */
}

static void truncate_it(FILE *f, long size)
{
    assert_int_equal(ftruncate(fileno(f), size - 100), 0);
}

static void foreign(FILE *f, long size)
{
    fseek(f, 0, SEEK_SET);
    fputs("%PDF-1.4 certainly not an array", f);
}

static void short_foreign(FILE *f, long size)
{
    assert_int_equal(ftruncate(fileno(f), 5), 0);
}

/* Copy @p from to @p to on rank 0. */
static void copy_file(const char *from, const char *to)
{
    if (sj_rank() == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "cp %s %s", from, to);
        assert_int_equal(system(cmd), 0);
    }
    SJ_ASSERT_OK(sj_barrier());
}

static void test_bad_files(void **state)
{
    const int64_t dims[1] = {150000}; /* 1.14 MiB of float64: two checksum chunks */
    const char *good = fname("good"), *bad = fname("bad");
    sj_array_t a = make_cyclic(SJ_FLOAT64, 1, dims, sj_t_gen(SJ_T_SINE));
    SJ_ASSERT_OK(sj_array_save(a, good, "good", NULL, 0));
    sj_array_t b = make_irregular(SJ_FLOAT64, 1, dims);
    SJ_ASSERT_OK(sj_array_fill(42.0, b));
    sj_array_t untouched = make_irregular(SJ_FLOAT64, 1, dims);
    SJ_ASSERT_OK(sj_array_fill(42.0, untouched));

    struct {
        void (*edit)(FILE *, long);
        const char *says;
    } cases[] = {
        {flip_data, "data chunk 0"},
        {flip_data_last, "data chunk 1"},
        {flip_header, "header is corrupted"},
        {flip_table, "checksum table is corrupted"},
        {flip_shape, "header is corrupted"},
        {truncate_it, "truncated"},
        {foreign, "not a starjets array file"},
        {short_foreign, "not a starjets array file"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        copy_file(good, bad);
        edit_file(bad, cases[k].edit);
        SJ_ASSERT_ERR(sj_array_load(bad, b, NULL), SJ_EFORMAT);
        if (!strstr(sj_last_error(), cases[k].says))
            fail_msg("case %zu: '%s' does not say '%s'", k, sj_last_error(), cases[k].says);
        assert_same_bits(b, untouched); /* a refused file leaves the target as it was */
        if (sj_rank() == 0) {
            sj_file_info_t info;
            int rc = sj_array_file_info(bad, &info);
            /* the header alone shows all but damaged data and tables */
            if (k >= 2 && k != 3)
                assert_int_equal(rc, SJ_EFORMAT);
        }
    }

    /* a missing file, another shape, another type */
    SJ_ASSERT_ERR(sj_array_load("test_io.no-such-file.sjarr", b, NULL), SJ_EIO);
    sj_array_t other = make_irregular(SJ_FLOAT64, 1, (int64_t[]){149999});
    SJ_ASSERT_ERR(sj_array_load(good, other, NULL), SJ_EMISMATCH);
    SJ_ASSERT_OK(sj_array_destroy(&other));
    other = make_irregular(SJ_FLOAT32, 1, dims);
    SJ_ASSERT_ERR(sj_array_load(good, other, NULL), SJ_EMISMATCH);
    assert_non_null(strstr(sj_last_error(), "float64"));
    SJ_ASSERT_OK(sj_array_destroy(&other));
    other = make_irregular(SJ_FLOAT64, 2, (int64_t[]){150000, 1});
    SJ_ASSERT_ERR(sj_array_load(good, other, NULL), SJ_EMISMATCH);
    SJ_ASSERT_OK(sj_array_destroy(&other));
    SJ_ASSERT_ERR(sj_array_file_info("test_io.no-such-file.sjarr", &(sj_file_info_t){0}), SJ_EIO);

    /* an unwritable path: the folder does not exist; the good file is kept */
    SJ_ASSERT_ERR(sj_array_save(a, "test_io.no-such-folder/x.sjarr", NULL, NULL, 0), SJ_EIO);
    SJ_ASSERT_ERR(sj_array_save(a, good, NULL, NULL, 8), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_save(a, good, NULL, "x", SJ_FILE_META_MAX + 1), SJ_ESIZE);
    char longlabel[SJ_FILE_LABEL_MAX + 2];
    memset(longlabel, 'x', sizeof longlabel - 1);
    longlabel[sizeof longlabel - 1] = '\0';
    SJ_ASSERT_ERR(sj_array_save(a, good, longlabel, NULL, 0), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_array_save(NULL, good, NULL, NULL, 0), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_save(a, NULL, NULL, NULL, 0), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_load(NULL, b, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_array_load(good, NULL, NULL), SJ_ENULL);
    /* an argument only one rank gets wrong fails every rank */
    SJ_ASSERT_ERR(sj_array_save(a, sj_rank() == sj_nranks() - 1 ? NULL : good, NULL, NULL, 0),
                  sj_rank() == sj_nranks() - 1 ? SJ_ENULL : SJ_ENULL);
    SJ_ASSERT_OK(sj_array_load(good, b, NULL));
    assert_same_bits(a, b);

    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_array_destroy(&untouched));
    SJ_ASSERT_OK(sj_barrier());
    if (sj_rank() == 0) {
        unlink(good);
        unlink(bad);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_1d), cmocka_unit_test(test_roundtrip_2d),
        cmocka_unit_test(test_roundtrip_3d), cmocka_unit_test(test_roundtrip_chunks),
        cmocka_unit_test(test_wrapped),      cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_replace),      cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_no_drain),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "io");
}
