/*
 * The program traced by the `trace` ctest entries (and drawn in
 * docs/reading-a-trace.md): an M x M block operator of dense B x B leaves
 * applied to K vectors at once, forward and adjoint N times. Block columns are
 * dealt to the ranks in turn (1 x P process grid), or block rows with
 * --grid rows (P x 1).
 *
 *   SJ_TRACE=/tmp/tr mpiexec -n 2 ./trace_apply [--blocks M] [--size B] [--cols K]
 *                                [--applies N] [--grid cols|rows] [--expect FILE]
 *
 * Every block (i, j) is a leaf, and a leaf runs one task per apply (its codelet
 * is sj_op_dense_fwd forward, sj_op_dense_adj adjoint), so the program knows
 * exactly how many operator tasks it submitted: M * M * N of each. With
 * --expect, rank 0 writes those counts as JSON for the check that compares them
 * with the trace (tests/trace_apply_check.py). The partial sums, copies and
 * random fills starjets adds around the leaves are its own business and are
 * not counted here.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != SJ_OK) {                                                                        \
            fprintf(stderr, "trace_apply: %s failed: %s (%s)\n", #call, sj_err_name(rc_),          \
                    sj_last_error());                                                              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

typedef struct params {
    int m;        /* block rows and columns */
    int64_t b;    /* rows and columns of one dense block */
    int64_t k;    /* right-hand sides applied at once (gemm) */
    int napplies; /* forward and adjoint applies */
    int by_rows;  /* deal block rows (P x 1 grid) instead of columns (1 x P) */
    const char *expect;
} params_t;

static int parse_int(const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s ? s : "", &end, 10);
    if (!s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "trace_apply: %s wants an integer in [%ld, %ld], got '%s'\n", flag, lo, hi,
                s ? s : "(nothing)");
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, params_t *p)
{
    *p = (params_t){.m = 4, .b = 128, .k = 16, .napplies = 2, .by_rows = 0, .expect = NULL};
    for (int a = 1; a < argc; a++) {
        const char *val = a + 1 < argc ? argv[a + 1] : NULL;
        long v;
        if (strcmp(argv[a], "--expect") == 0 && val) {
            p->expect = val;
        } else if (strcmp(argv[a], "--grid") == 0 && val &&
                   (strcmp(val, "rows") == 0 || strcmp(val, "cols") == 0)) {
            p->by_rows = strcmp(val, "rows") == 0;
        } else if (strcmp(argv[a], "--blocks") == 0) {
            if (parse_int("--blocks", val, 1, 64, &v))
                return -1;
            p->m = (int)v;
        } else if (strcmp(argv[a], "--size") == 0) {
            if (parse_int("--size", val, 1, 8192, &v))
                return -1;
            p->b = v;
        } else if (strcmp(argv[a], "--cols") == 0) {
            if (parse_int("--cols", val, 1, 4096, &v))
                return -1;
            p->k = v;
        } else if (strcmp(argv[a], "--applies") == 0) {
            if (parse_int("--applies", val, 1, 1000, &v))
                return -1;
            p->napplies = (int)v;
        } else {
            fprintf(stderr, "trace_apply: unknown or incomplete argument '%s'\n", argv[a]);
            return -1;
        }
        a++;
    }
    return 0;
}

typedef struct block_ctx {
    const params_t *p;
    sj_space_t leaf; /* (b, k): every block maps it to itself */
} block_ctx_t;

/* Block (i, j): a dense b x b matrix, well conditioned, built on its owner only. */
static int make_block(int i, int j, int owner, void *ctx, sj_op_t *block)
{
    const block_ctx_t *c = ctx;
    const int64_t b = c->p->b;
    double *M = NULL;
    if (sj_rank() == owner) {
        M = malloc((size_t)(b * b) * sizeof *M);
        if (!M)
            return SJ_ENOMEM;
        for (int64_t col = 0; col < b; col++)
            for (int64_t row = 0; row < b; row++)
                M[row + b * col] =
                    (row == col && i == j ? 2.0 : 0.0) +
                    0.5 * sin(0.1 * (double)(row + 3 * col + 7 * i + 11 * j)) / (double)b;
    }
    int rc = sj_op_dense(c->leaf, c->leaf, owner, M, block);
    free(M);
    return rc;
}

static int write_expect(const params_t *p)
{
    FILE *f = fopen(p->expect, "w");
    if (!f) {
        fprintf(stderr, "trace_apply: cannot write '%s'\n", p->expect);
        return -1;
    }
    const long per_dir = (long)p->m * p->m * p->napplies;
    fprintf(f,
            "{\"ranks\": %d, \"blocks\": %d, \"applies\": %d,\n"
            " \"codelets\": {\"sj_op_dense_fwd\": %ld, \"sj_op_dense_adj\": %ld}}\n",
            sj_nranks(), p->m, p->napplies, per_dir, per_dir);
    return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    params_t p;
    if (parse_args(argc, argv, &p))
        return 2;
    CHECK(sj_init(&argc, &argv, NULL));

    int64_t dims[2] = {p.b, p.k};
    int ones[2] = {1, 1};
    block_ctx_t c = {&p, NULL};
    CHECK(sj_space_create(SJ_FLOAT64, 2, dims, ones, &c.leaf));

    /* By columns, the partial sums of each row meet across ranks forward and y
     * travels to the other columns adjoint; by rows, x travels forward and the
     * partials of each column meet across ranks adjoint. */
    int nb[2] = {p.m, p.m};
    sj_dist_t dist;
    CHECK(sj_dist_create_cyclic(2, nb, p.by_rows ? sj_nranks() : 1, p.by_rows ? 1 : sj_nranks(),
                                NULL, &dist));
    sj_op_t A;
    CHECK(sj_op_block_create_fn(p.m, p.m, dist, make_block, &c, sizeof c, &A));

    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    CHECK(sj_op_domain(A, &ds, &dd));
    CHECK(sj_op_range(A, &rs, &rd));
    sj_array_t x, y, x2;
    CHECK(sj_array_rand(ds, dd, 42, &x));
    CHECK(sj_array_zeros(rs, rd, &y));
    CHECK(sj_array_zeros(ds, dd, &x2));
    for (int a = 0; a < p.napplies; a++) {
        CHECK(sj_op_apply(A, x, y));
        CHECK(sj_op_apply_adjoint(A, y, x2));
    }
    double nx2;
    CHECK(sj_array_norm(SJ_NORM_2, x2, &nx2));
    if (sj_rank() == 0)
        printf("trace_apply: %d x %d blocks of %" PRId64 " x %" PRId64 " on %" PRId64
               " vectors, %d ranks by %s, %d applies: |A'A x| = %.6g\n",
               p.m, p.m, p.b, p.b, p.k, sj_nranks(), p.by_rows ? "rows" : "columns", p.napplies,
               nx2);
    if (!isfinite(nx2) || nx2 <= 0.0) {
        fprintf(stderr, "trace_apply: |A'A x| = %g: the applies went wrong\n", nx2);
        return 1;
    }
    int rc = sj_rank() == 0 && p.expect ? write_expect(&p) : 0;

    CHECK(sj_array_destroy(&x));
    CHECK(sj_array_destroy(&y));
    CHECK(sj_array_destroy(&x2));
    CHECK(sj_op_destroy(&A));
    CHECK(sj_dist_destroy(&dist));
    CHECK(sj_space_destroy(&c.leaf));
    CHECK(sj_finalize());
    return rc ? 1 : 0;
}
