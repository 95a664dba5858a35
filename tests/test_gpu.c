// sj-test: nprocs=1
/*
 * Every array kernel with a CUDA body, run on a GPU, gives the bits of the
 * CPU kernels (CUDA builds only).
 *
 * Two runs of this program: `--record FILE` runs the scenario on CPU
 * workers only (ncuda 0) and writes every result's bits to FILE (ctest's
 * gpu_cpu_reference); without it, the scenario runs with one CUDA worker
 * and no CPU worker (ncuda 1, ncpus 0), so that every task goes to the GPU,
 * and each result is compared with the record (FILE from SJ_GPU_REFERENCE
 * or `--compare FILE`; ctest's gpu_np1). Where no CUDA device is found that
 * run exits 77: ctest reports it skipped. Run with no reference at all (as
 * scripts/gpu-check does), it makes its own first: the CPU-only run in a
 * child process, before this one starts MPI. `--cpu` compares on CPU workers
 * (ctest's gpu_compare_on_cpu, which runs everywhere): the comparison and
 * the record are checked without a GPU.
 *
 * The scenario, float64 and float32: fill, uniform random numbers, scale,
 * axpby (beta 0, 1 and other), axpy, the three forms of mul, copy, a block
 * kernel with a CUDA function (sj_array_map_kernel); every reduction op
 * through the task graph (per-block partials, gathers, the final tree) and
 * blocking, on blocks of a few lanes up to the most lanes; graph scalars
 * (set, the four binary ops, axpy and scale by a scalar); a redistribution
 * (box copies); stencil steps with a CUDA function (tests/gpu_stencil.cu) on
 * 2-D and 3-D arrays, split and padded, periodic and fixed (halo packing,
 * interior, frame and padded parts); the same on arrays wrapped around host
 * fields with ghost layers (strided views).
 */
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <starjets.h>
#include <starjets/cuda.h>

#include "gpu_stencil.h"

/* ---- the record: label, element size, bytes, in the order of the scenario ---------------- */

typedef struct record {
    FILE *f;
    int writing;
    int results, bad;
} record_t;

static void check_ok(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "test_gpu: %s failed: %s: %s\n", what, sj_err_name(rc), sj_last_error());
        exit(1);
    }
}

#define OK(expr) check_ok((expr), #expr)

static void put(record_t *r, const char *label, const void *p, uint64_t bytes, uint32_t es)
{
    r->results++;
    if (r->writing) {
        const uint32_t len = (uint32_t)strlen(label);
        if (fwrite(&len, sizeof len, 1, r->f) != 1 || fwrite(label, 1, len, r->f) != len ||
            fwrite(&es, sizeof es, 1, r->f) != 1 || fwrite(&bytes, sizeof bytes, 1, r->f) != 1 ||
            fwrite(p, 1, bytes, r->f) != bytes) {
            fprintf(stderr, "test_gpu: cannot write the record\n");
            exit(1);
        }
        return;
    }
    uint32_t len = 0, res = 0;
    uint64_t rbytes = 0;
    char rlabel[256] = "";
    if (fread(&len, sizeof len, 1, r->f) != 1 || len >= sizeof rlabel ||
        fread(rlabel, 1, len, r->f) != len || fread(&res, sizeof res, 1, r->f) != 1 ||
        fread(&rbytes, sizeof rbytes, 1, r->f) != 1 || strcmp(rlabel, label) != 0 ||
        rbytes != bytes || res != es) {
        fprintf(stderr, "test_gpu: the record does not match the scenario at '%s' (record: '%s')\n",
                label, rlabel);
        exit(1);
    }
    char *ref = malloc(bytes ? bytes : 1);
    if (!ref || fread(ref, 1, bytes, r->f) != bytes) {
        fprintf(stderr, "test_gpu: cannot read the record at '%s'\n", label);
        exit(1);
    }
    uint64_t differ = 0, first = 0;
    for (uint64_t i = 0; i < bytes / es; i++)
        if (memcmp(ref + i * es, (const char *)p + i * es, es) != 0 && differ++ == 0)
            first = i;
    if (differ) {
        r->bad++;
        printf("MISMATCH %s: %llu of %llu elements differ from the CPU's, the first at %llu\n",
               label, (unsigned long long)differ, (unsigned long long)(bytes / es),
               (unsigned long long)first);
    }
    free(ref);
}

/* The whole array's bits, gathered on rank 0 (the only rank). */
static void put_array(record_t *r, const char *label, sj_array_t a)
{
    sj_space_t space;
    sj_dtype_t dtype;
    int nd;
    int64_t dims[SJ_MAX_DIMS], n;
    OK(sj_array_space(a, &space));
    OK(sj_space_shape(space, &dtype, &nd, dims));
    OK(sj_space_length(space, &n));
    const size_t es = sj_dtype_size(dtype);
    void *buf = malloc((size_t)n * es);
    if (!buf)
        exit(1);
    OK(sj_array_gather(a, 0, buf));
    put(r, label, buf, (uint64_t)n * es, (uint32_t)es);
    free(buf);
}

static void put_value(record_t *r, const char *label, double v)
{
    put(r, label, &v, sizeof v, sizeof v);
}

/* ---- the scenario ------------------------------------------------------------------------ */

/* Values of mixed signs and magnitudes, a function of the index. */
static void *values(int64_t n, sj_dtype_t dtype, uint64_t seed)
{
    void *p = malloc((size_t)n * sj_dtype_size(dtype));
    if (!p)
        exit(1);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        const double v = ((double)(s % 2000001) - 1000000.0) / 7919.0;
        if (dtype == SJ_FLOAT64)
            ((double *)p)[i] = v;
        else
            ((float *)p)[i] = (float)v;
    }
    return p;
}

static sj_array_t array_of(sj_space_t space, uint64_t seed)
{
    sj_dtype_t dtype;
    int nd;
    int64_t dims[SJ_MAX_DIMS], n;
    OK(sj_space_shape(space, &dtype, &nd, dims));
    OK(sj_space_length(space, &n));
    void *buf = values(n, dtype, seed);
    sj_array_t a;
    OK(sj_array_distribute(space, NULL, 0, buf, &a));
    free(buf);
    return a;
}

/* The CPU function of the block kernel (gpu_stencil.h): the same elements as the CUDA one. */
static int map_cpu(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)ctx;
    for (int64_t i = 0; i < blk->nelems; i++)
        if (blk->dtype == SJ_FLOAT64)
            map_elem_d(i, out, in[0], in[1]);
        else
            map_elem_f(i, out, in[0], in[1]);
    return 0;
}

static void algebra(record_t *r, sj_space_t space, const char *tag)
{
    char label[128];
#define L(what) (snprintf(label, sizeof label, "%s %s", tag, what), label)
    sj_array_t x = array_of(space, 1), y = array_of(space, 2), z;
    OK(sj_array_filled(space, NULL, 0.3, &z));
    put_array(r, L("fill"), z);
    sj_array_t u; /* uniform numbers (normal ones stay on CPUs: none here on the GPU) */
    OK(sj_array_rand(space, NULL, 0x5eed, &u));
    put_array(r, L("rand"), u);
    sj_array_destroy(&u);
    OK(sj_array_copyto(x, z));
    put_array(r, L("copy"), z);
    OK(sj_array_scale(1.7, z));
    put_array(r, L("scale"), z);
    const double betas[3] = {0.0, 1.0, -0.37};
    for (int b = 0; b < 3; b++) {
        sj_array_t w;
        OK(sj_array_copy(y, &w));
        OK(sj_array_axpby(0.61, x, betas[b], w));
        char what[32];
        snprintf(what, sizeof what, "axpby beta %g", betas[b]);
        put_array(r, L(what), w);
        OK(sj_array_axpy(-1.3, x, w));
        put_array(r, L("axpy"), w);
        sj_array_destroy(&w);
    }
    OK(sj_array_mul(x, y, z));
    put_array(r, L("mul z = x y"), z);
    OK(sj_array_mul(z, y, z));
    put_array(r, L("mul z = z y"), z);
    OK(sj_array_mul(z, z, z));
    put_array(r, L("mul z = z z"), z);
    const sj_array_t in[2] = {x, y};
    const sj_block_kernel_t kernel = {"gpu_test_map", map_cpu, gpu_map_cuda};
    OK(sj_array_map_kernel(2, in, z, &kernel, NULL, 0));
    put_array(r, L("map kernel"), z);

    /* every reduction op, through the graph and blocking */
    for (int op = SJ_REDUCE_SUM; op <= SJ_REDUCE_DOT; op++) {
        sj_array_t second = op == SJ_REDUCE_DOT ? y : NULL;
        sj_scalar_t s;
        double v;
        OK(sj_array_reduce_scalar((sj_reduce_op_t)op, x, second, &s));
        OK(sj_scalar_value(s, &v));
        char what[32];
        snprintf(what, sizeof what, "reduce_scalar op %d", op);
        put_value(r, L(what), v);
        OK(sj_array_reduce((sj_reduce_op_t)op, x, second, &v));
        snprintf(what, sizeof what, "reduce op %d", op);
        put_value(r, L(what), v);
        sj_scalar_destroy(&s);
    }

    /* graph scalars */
    sj_scalar_t a, b;
    OK(sj_scalar_create(2.5, &a));
    OK(sj_array_reduce_scalar(SJ_REDUCE_NORM2, y, NULL, &b));
    for (int op = SJ_SCALAR_ADD; op <= SJ_SCALAR_DIV; op++) {
        sj_scalar_t c;
        double v;
        OK(sj_scalar_binary((sj_scalar_op_t)op, a, b, &c));
        OK(sj_scalar_value(c, &v));
        char what[32];
        snprintf(what, sizeof what, "scalar op %d", op);
        put_value(r, L(what), v);
        sj_scalar_destroy(&c);
    }
    OK(sj_array_copyto(y, z));
    OK(sj_array_axpy_scalar(0.75, b, x, z));
    put_array(r, L("axpy_scalar"), z);
    OK(sj_array_scale_scalar(-1.25, a, z));
    put_array(r, L("scale_scalar"), z);
    sj_scalar_destroy(&a);
    sj_scalar_destroy(&b);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_array_destroy(&z);
#undef L
}

/* x into the same shape cut another way: box copies between the blockings' pieces. */
static void redistribute(record_t *r, sj_dtype_t dtype, const char *tag)
{
    const int64_t dims[2] = {301, 203};
    const int nb1[2] = {2, 3}, nb2[2] = {3, 2};
    sj_space_t s1, s2;
    OK(sj_space_create(dtype, 2, dims, nb1, &s1));
    OK(sj_space_create(dtype, 2, dims, nb2, &s2));
    sj_array_t x = array_of(s1, 3), y;
    OK(sj_array_zeros(s2, NULL, &y));
    OK(sj_array_redistribute(x, y, NULL));
    char label[128];
    snprintf(label, sizeof label, "%s redistribute", tag);
    put_array(r, label, y);
    sj_array_destroy(&x);
    sj_array_destroy(&y);
    sj_space_destroy(&s1);
    sj_space_destroy(&s2);
}

/* The CPU function of the stencil (gpu_stencil.h): the same cells as the CUDA one. */
static int heat_cpu(const sj_stencil_info_t *info, void *out, const void *in, void *ctx)
{
    (void)ctx;
    const int64_t *is = info->in_stride, *os = info->out_stride;
    for (int64_t k = info->lo[2]; k < info->hi[2]; k++)
        for (int64_t j = info->lo[1]; j < info->hi[1]; j++)
            for (int64_t i = info->lo[0]; i < info->hi[0]; i++) {
                const int64_t c = i * is[0] + j * is[1] + k * is[2],
                              o = i * os[0] + j * os[1] + k * os[2];
                if (info->blk.dtype == SJ_FLOAT64)
                    ((double *)out)[o] = heat_cell_d(in, c, is, info->blk.ndims);
                else
                    ((float *)out)[o] = heat_cell_f(in, c, is, info->blk.ndims);
            }
    return 0;
}

static void stencils(record_t *r, sj_dtype_t dtype, const char *tag)
{
    const int64_t dims2[2] = {157, 131}, dims3[3] = {37, 29, 23};
    const int nb2[2] = {3, 2}, nb3[3] = {2, 2, 2};
    for (int nd = 2; nd <= 3; nd++)
        for (int mode = SJ_STENCIL_SPLIT; mode <= SJ_STENCIL_PADDED; mode++)
            for (int bc = SJ_BOUNDARY_PERIODIC; bc <= SJ_BOUNDARY_FIXED; bc++) {
                sj_space_t space;
                OK(sj_space_create(dtype, nd, nd == 2 ? dims2 : dims3, nd == 2 ? nb2 : nb3,
                                   &space));
                sj_array_t u = array_of(space, 4), v;
                OK(sj_array_zeros(space, NULL, &v));
                sj_stencil_options_t o;
                sj_stencil_options_default(&o);
                o.mode = (sj_stencil_mode_t)mode;
                o.fixed_value = 0.25;
                o.cuda = gpu_heat_cuda;
                for (int step = 0; step < 3; step++) {
                    OK(sj_array_stencil(u, v, 1, (sj_boundary_t)bc, &o, heat_cpu, NULL, 0));
                    sj_array_t t = u;
                    u = v;
                    v = t;
                }
                char label[128];
                snprintf(label, sizeof label, "%s stencil %d-D mode %d boundary %d", tag, nd, mode,
                         bc);
                put_array(r, label, u);
                sj_array_destroy(&u);
                sj_array_destroy(&v);
                sj_space_destroy(&space);
            }
}

/*
 * Arrays wrapped around host fields with ghost layers (strided views: block
 * interfaces, compact on the device): stencil steps in and out of them,
 * axpby, a dot product, a redistribution from one, then the host's fields,
 * ghosts included (never written), after unwrap.
 */
static void wrapped(record_t *r, sj_dtype_t dtype, const char *tag)
{
    const int64_t dims[2] = {157, 131}, g = 2, ld[2] = {157 + 2 * g, 131 + 2 * g};
    const int nb[2] = {3, 2}, other[2] = {2, 3};
    const size_t es = sj_dtype_size(dtype);
    const int64_t total = ld[0] * ld[1];
    sj_space_t space, space2;
    OK(sj_space_create(dtype, 2, dims, nb, &space));
    OK(sj_space_create(dtype, 2, dims, other, &space2));
    char *fu = values(total, dtype, 5), *fv = values(total, dtype, 6);
    sj_array_t u, v, w;
    OK(sj_array_wrap_local(space, NULL, fu + (size_t)(g + ld[0] * g) * es, ld, &u));
    OK(sj_array_wrap_local(space, NULL, fv + (size_t)(g + ld[0] * g) * es, ld, &v));
    sj_stencil_options_t o;
    sj_stencil_options_default(&o);
    o.cuda = gpu_heat_cuda;
    OK(sj_array_stencil(u, v, 1, SJ_BOUNDARY_PERIODIC, &o, heat_cpu, NULL, 0));
    OK(sj_array_stencil(v, u, 1, SJ_BOUNDARY_FIXED, &o, heat_cpu, NULL, 0));
    OK(sj_array_axpby(0.5, u, 1.5, v));
    double d;
    sj_scalar_t s;
    OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, u, v, &s));
    OK(sj_scalar_value(s, &d));
    sj_scalar_destroy(&s);
    OK(sj_array_zeros(space2, NULL, &w));
    OK(sj_array_redistribute(v, w, NULL));
    char label[128];
    snprintf(label, sizeof label, "%s wrapped dot", tag);
    put_value(r, label, d);
    snprintf(label, sizeof label, "%s wrapped redistribute", tag);
    put_array(r, label, w);
    OK(sj_array_unwrap(&u));
    OK(sj_array_unwrap(&v));
    snprintf(label, sizeof label, "%s wrapped u with ghosts", tag);
    put(r, label, fu, (uint64_t)total * es, (uint32_t)es);
    snprintf(label, sizeof label, "%s wrapped v with ghosts", tag);
    put(r, label, fv, (uint64_t)total * es, (uint32_t)es);
    sj_array_destroy(&w);
    free(fu);
    free(fv);
    sj_space_destroy(&space);
    sj_space_destroy(&space2);
}

static void scenario(record_t *r)
{
    for (int t = 0; t < 2; t++) {
        const sj_dtype_t dtype = t == 0 ? SJ_FLOAT64 : SJ_FLOAT32;
        const char *tag = t == 0 ? "float64" : "float32";
        char stag[64];
        /* blocks of about 10^4 elements (128 lanes), then two of 2^20 (the most lanes) */
        const int64_t small[2] = {301, 203}, big[2] = {2048, 1024};
        const int nbs[2] = {2, 3}, nbb[2] = {1, 2};
        sj_space_t space;
        OK(sj_space_create(dtype, 2, small, nbs, &space));
        snprintf(stag, sizeof stag, "%s small", tag);
        algebra(r, space, stag);
        sj_space_destroy(&space);
        OK(sj_space_create(dtype, 2, big, nbb, &space));
        snprintf(stag, sizeof stag, "%s big", tag);
        algebra(r, space, stag);
        sj_space_destroy(&space);
        redistribute(r, dtype, tag);
        stencils(r, dtype, tag);
        wrapped(r, dtype, tag);
    }
}

extern char **environ;

/* This program with --record @p path in a child process; 0 when it succeeded. */
static int record_in_child(const char *self, const char *path)
{
    char *args[] = {(char *)self, "--record", (char *)path, NULL};
    pid_t pid;
    int status;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ) != 0 ||
        waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *path = getenv("SJ_GPU_REFERENCE");
    int writing = 0, cpu = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--record") == 0) {
            writing = cpu = 1;
            path = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--compare") == 0) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--cpu") == 0) { /* compare on CPUs: checks the check */
            cpu = 1;
        }
    }
    char own[4096] = "";
    if (!cpu && gpu_test_devices() == 0) {
        printf("test_gpu: no CUDA device: skipped\n");
        return 77;
    }
    if (!path) { /* no reference given: make one (before MPI starts here) */
        const char *tmp = getenv("TMPDIR");
        snprintf(own, sizeof own, "%s/test_gpu_reference.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        const int fd = mkstemp(own);
        if (fd < 0 || close(fd) != 0 || record_in_child(argv[0], own) != 0) {
            fprintf(stderr, "test_gpu: the CPU-only run into %s failed\n", own);
            return 1;
        }
        path = own;
    }
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.environment_overrides = 0; /* STARPU_NCPU and the like must not undo the split below */
    if (!cpu) {
        o.ncuda = 1;
        o.ncpus = 0; /* every task on the GPU */
    }
    int rc = sj_init(&argc, &argv, &o);
    if (!cpu && rc == SJ_ENODEV) {
        printf("test_gpu: no CUDA device (%s): skipped\n", sj_last_error());
        return 77;
    }
    check_ok(rc, "sj_init");
    if (!cpu && sj_ncuda_workers() == 0) {
        printf("test_gpu: no CUDA worker: skipped\n");
        sj_finalize();
        return 77;
    }
    record_t r = {.f = fopen(path, writing ? "wb" : "rb"), .writing = writing};
    if (!r.f) {
        fprintf(stderr, "test_gpu: cannot open %s\n", path);
        sj_finalize();
        return 1;
    }
    scenario(&r);
    fclose(r.f);
    OK(sj_finalize());
    printf("test_gpu: %d results %s%s, %d differ\n", r.results,
           writing ? "recorded in " : "compared with ", path, r.bad);
    if (own[0])
        unlink(own);
    return r.bad != 0;
}
