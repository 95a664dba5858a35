/*
 * What starjets holds (sj_stats_get) and what keeps it flat: a long loop of
 * graph reductions and scalar arithmetic returns to the same objects, handles
 * and booked tags; replicated graph scalars have the bits of the blocking
 * reduction on every rank; sj_init_options_t.max_tasks_in_flight (here 64,
 * through SJ_MAX_TASKS_IN_FLIGHT) bounds how far submission runs ahead.
 * SJ_TEST_GATHER_MAX=2 makes graph reductions gather in several tasks (the
 * paths of many ranks and many blocks per rank).
 */
#include <stdlib.h>

#include "sj_test.h"

#define MAX_IN_FLIGHT 64

static sj_stats_t stats(void)
{
    sj_stats_t s;
    SJ_ASSERT_OK(sj_stats_get(&s));
    return s;
}

/* The same 64-bit pattern on every rank. */
static void assert_same_everywhere(double v)
{
    uint64_t bits = sj_t_bits(v), lo = bits, hi = bits;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    assert_true(lo == hi);
}

static void test_stats_fields(void **state)
{
    (void)state;
    SJ_ASSERT_OK(sj_wait());
    sj_stats_t s0 = stats();
    assert_true(s0.objects >= 0 && s0.handles >= 0 && s0.tags_booked >= 0);
    assert_true(s0.adaptive_polling == 0 || s0.adaptive_polling == 1);
    /* driver mode (sj_init sets the variable to 1 where it applies; the
     * stats_no_driver entries set 0) */
    const char *freq = getenv("STARPU_MPI_DRIVER_CALL_FREQUENCY");
    sj_t_check_mpi_driver(&s0, freq && atoi(freq) <= 0);

    sj_space_t sp;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){1000}, (int[]){4}, &sp));
    sj_array_t x;
    SJ_ASSERT_OK(sj_array_ones(sp, NULL, &x));
    sj_stats_t s1 = stats();
    assert_true(s1.objects >= s0.objects + 2);    /* the space, the array (and its layout) */
    assert_int_equal(s1.handles, s0.handles + 4); /* one per block, on every rank */
    assert_true(s1.tags_booked >= s0.tags_booked + 4);
    assert_true(s1.tasks_submitted >= s0.tasks_submitted);

    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&sp));
    SJ_ASSERT_OK(sj_wait());
    sj_stats_t s2 = stats();
    assert_int_equal(s2.objects, s0.objects);
    assert_int_equal(s2.handles, s0.handles);
    assert_int_equal(s2.tags_booked, s0.tags_booked);
    assert_int_equal(s2.tasks_in_flight, 0);
}

/* x(i) = 1 + i / n, y(i) = 2 - i / n, over 5 blocks spread over the ranks. */
static int fill_xy(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)in;
    const double sign = *(const double *)ctx;
    double *v = out;
    for (int64_t k = 0; k < blk->nelems; k++)
        v[k] = 1.5 + sign * (double)(blk->lo[0] + k) / 1000.0;
    return 0;
}

static void test_graph_loop_is_flat(void **state)
{
    (void)state;
    sj_space_t sp;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){1000}, (int[]){5}, &sp));
    sj_array_t a, b;
    const double plus = 1, minus = -1;
    SJ_ASSERT_OK(sj_array_create_init(sp, NULL, fill_xy, &plus, sizeof plus, &a));
    SJ_ASSERT_OK(sj_array_create_init(sp, NULL, fill_xy, &minus, sizeof minus, &b));

    sj_stats_t after_warmup = {0};
    for (int it = 0; it < 1200; it++) {
        sj_scalar_t dot, one, q;
        SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, a, b, &dot));
        SJ_ASSERT_OK(sj_scalar_create(1.0, &one));
        SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_DIV, one, dot, &q)); /* 1 / (a . b) */
        SJ_ASSERT_OK(sj_array_axpy_scalar(1e-3, q, a, b));           /* b += 1e-3 a / (a . b) */
        if (it % 200 == 7) {
            /* the graph result has the blocking reduction's bits, on every rank */
            double g, ref;
            SJ_ASSERT_OK(sj_scalar_value(dot, &g));
            SJ_ASSERT_OK(sj_array_dot(a, b, &ref)); /* b has moved on since: recompute */
            sj_scalar_t again;
            SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_DOT, a, b, &again));
            SJ_ASSERT_OK(sj_scalar_value(again, &g));
            assert_true(sj_t_bits(g) == sj_t_bits(ref));
            assert_same_everywhere(g);
            SJ_ASSERT_OK(sj_scalar_destroy(&again));
        }
        SJ_ASSERT_OK(sj_scalar_destroy(&dot));
        SJ_ASSERT_OK(sj_scalar_destroy(&one));
        SJ_ASSERT_OK(sj_scalar_destroy(&q));
        if (it % 100 == 99)
            SJ_ASSERT_OK(sj_wait());
        if (it == 199)
            after_warmup = stats();
    }
    SJ_ASSERT_OK(sj_wait());
    sj_stats_t end = stats();
    assert_int_equal(end.objects, after_warmup.objects);
    assert_int_equal(end.handles, after_warmup.handles);
    assert_int_equal(end.tags_booked, after_warmup.tags_booked);
    assert_true(end.tags_waiting <= after_warmup.tags_waiting + 16);

    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_space_destroy(&sp));
}

/* A graph reduction over more blocks per rank than one task takes inputs
 * (the per-block results are gathered in several tasks): the bits of the
 * blocking reduction, for every reduction kind. */
static void test_many_blocks(void **state)
{
    (void)state;
    sj_space_t sp;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){1000}, (int[]){100}, &sp));
    sj_array_t a, b;
    const double plus = 1, minus = -1;
    SJ_ASSERT_OK(sj_array_create_init(sp, NULL, fill_xy, &plus, sizeof plus, &a));
    SJ_ASSERT_OK(sj_array_create_init(sp, NULL, fill_xy, &minus, sizeof minus, &b));
    for (int op = SJ_REDUCE_SUM; op <= SJ_REDUCE_DOT; op++) {
        sj_array_t y = op == SJ_REDUCE_DOT ? b : NULL;
        double blocking, graph;
        sj_scalar_t s;
        SJ_ASSERT_OK(sj_array_reduce((sj_reduce_op_t)op, a, y, &blocking));
        SJ_ASSERT_OK(sj_array_reduce_scalar((sj_reduce_op_t)op, a, y, &s));
        SJ_ASSERT_OK(sj_scalar_value(s, &graph));
        SJ_ASSERT_OK(sj_scalar_destroy(&s));
        assert_true(sj_t_bits(graph) == sj_t_bits(blocking));
        assert_same_everywhere(graph);
    }
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_space_destroy(&sp));
}

/* A replicated scalar read by tasks on every rank's blocks. */
static void test_scalar_everywhere(void **state)
{
    (void)state;
    const int np = sj_nranks();
    sj_space_t sp;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){40}, (int[]){2 * np}, &sp));
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_array_ones(sp, NULL, &x));
    SJ_ASSERT_OK(sj_array_zeros(sp, NULL, &y));
    sj_scalar_t a, b, c;
    SJ_ASSERT_OK(sj_scalar_create(3.0, &a));
    SJ_ASSERT_OK(sj_scalar_create(0.5, &b));
    SJ_ASSERT_OK(sj_scalar_binary(SJ_SCALAR_MUL, a, b, &c)); /* 1.5 */
    SJ_ASSERT_OK(sj_array_axpy_scalar(2.0, c, x, y));        /* y = 3 */
    SJ_ASSERT_OK(sj_array_scale_scalar(1.0, a, y));          /* y = 9 */
    double v;
    SJ_ASSERT_OK(sj_scalar_value(c, &v));
    assert_true(v == 1.5);
    double *ref = sj_t_const(40, 9.0);
    SJ_ASSERT_ARRAY(y, ref);
    free(ref);
    SJ_ASSERT_OK(sj_scalar_destroy(&a));
    SJ_ASSERT_OK(sj_scalar_destroy(&b));
    SJ_ASSERT_OK(sj_scalar_destroy(&c));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_space_destroy(&sp));
}

/* Submission waits once MAX_IN_FLIGHT tasks are in flight: every step here
 * is a task on this rank's own block (one block per rank). */
static void test_submission_bound(void **state)
{
    (void)state;
    const int np = sj_nranks();
    sj_space_t sp;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){np * 64}, (int[]){np}, &sp));
    sj_array_t x;
    SJ_ASSERT_OK(sj_array_ones(sp, NULL, &x));
    SJ_ASSERT_OK(sj_wait());
    const sj_stats_t s0 = stats();
    int64_t most = 0;
    for (int i = 0; i < 2000; i++) {
        SJ_ASSERT_OK(sj_array_scale(i % 2 ? 2.0 : 0.5, x));
        const sj_stats_t s = stats();
        if (s.tasks_in_flight > most)
            most = s.tasks_in_flight;
    }
    SJ_ASSERT_OK(sj_wait());
    const sj_stats_t s1 = stats();
    assert_true(most <= MAX_IN_FLIGHT);
    assert_true(s1.tasks_submitted >= s0.tasks_submitted + 2000);
    double *ref = sj_t_const(np * 64, 1.0);
    SJ_ASSERT_ARRAY(x, ref);
    free(ref);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_space_destroy(&sp));
}

/* Block (i, j) of a 3 x 3 operator of 4 x 4 dense blocks: M = (i + 1) I + j. */
static int make_block(int i, int j, int owner, void *ctx, sj_op_t *block)
{
    (void)ctx;
    sj_space_t s;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){4}, (int[]){1}, &s));
    double m[16];
    for (int k = 0; k < 16; k++)
        m[k] = (k % 5 == 0 ? i + 1.0 : 0.0) + j;
    int rc = sj_op_dense(s, s, owner, m, block);
    sj_space_destroy(&s);
    return rc;
}

/* y = A x with x and y on the operator's layouts, then on round-robin ones,
 * then on the operator's again: an apply reuses the previous apply's
 * temporaries only when the shapes match, and the results never change. */
static void test_apply_temporaries(void **state)
{
    (void)state;
    const int np = sj_nranks();
    sj_op_t A;
    SJ_ASSERT_OK(sj_op_block_create_fn(3, 3, NULL, make_block, NULL, 0, &A));
    sj_space_t dom;
    sj_dist_t dd;
    SJ_ASSERT_OK(sj_op_domain(A, &dom, &dd));
    int rr[3];
    for (int b = 0; b < 3; b++)
        rr[b] = (b + 1) % np;
    sj_dist_t other;
    SJ_ASSERT_OK(sj_dist_create_explicit(1, (int[]){3}, rr, &other));
    sj_array_t x1, y1, x2, y2;
    SJ_ASSERT_OK(sj_array_ones(dom, dd, &x1));
    SJ_ASSERT_OK(sj_array_zeros(dom, dd, &y1));
    SJ_ASSERT_OK(sj_array_ones(dom, other, &x2));
    SJ_ASSERT_OK(sj_array_zeros(dom, other, &y2));
    /* (A 1)_k in block i = sum over j of ((i + 1) + 4 j) = 3 (i + 1) + 12 */
    double ref[12];
    for (int k = 0; k < 12; k++)
        ref[k] = 3.0 * (k / 4 + 1) + 12.0;
    sj_stats_t s1 = {0};
    for (int round = 0; round < 6; round++) {
        const int mine = round % 3 != 1;
        /* a new x every round: a temporary read on another rank and not
         * flushed would keep the previous round's value there */
        SJ_ASSERT_OK(sj_array_fill(round + 1.0, mine ? x1 : x2));
        SJ_ASSERT_OK(sj_op_apply(A, mine ? x1 : x2, mine ? y1 : y2));
        double want[12];
        for (int k = 0; k < 12; k++)
            want[k] = (round + 1.0) * ref[k];
        SJ_ASSERT_ARRAY(mine ? y1 : y2, want);
        SJ_ASSERT_OK(sj_wait());
        if (round == 2)
            s1 = stats();
    }
    SJ_ASSERT_OK(sj_wait());
    const sj_stats_t s2 = stats();
    assert_int_equal(s2.handles, s1.handles);
    assert_int_equal(s2.tags_booked, s1.tags_booked);
    SJ_ASSERT_OK(sj_array_destroy(&x1));
    SJ_ASSERT_OK(sj_array_destroy(&y1));
    SJ_ASSERT_OK(sj_array_destroy(&x2));
    SJ_ASSERT_OK(sj_array_destroy(&y2));
    SJ_ASSERT_OK(sj_dist_destroy(&other));
    SJ_ASSERT_OK(sj_op_destroy(&A));
}

/* out = the sum of the in cells at distance `width` along dimension 0, on a
 * periodic grid: a stencil whose result depends on its ghost cells. */
static int shift_sum(const sj_stencil_info_t *info, void *out, const void *in, void *ctx)
{
    (void)ctx;
    const int w = info->width;
    double *o = out;
    const double *x = in;
    for (int64_t j = info->lo[1]; j < info->hi[1]; j++)
        for (int64_t i = info->lo[0]; i < info->hi[0]; i++)
            o[i + j * info->out_stride[1]] =
                x[(i - w) + j * info->in_stride[1]] + x[(i + w) + j * info->in_stride[1]];
    return 0;
}

/* Cell (i, j) of a 16 x 8 grid: i + 100 j. */
static int fill_ij(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)in;
    (void)ctx;
    double *v = out;
    for (int64_t j = 0; j < blk->dims[1]; j++)
        for (int64_t i = 0; i < blk->dims[0]; i++)
            v[i + blk->dims[0] * j] = (double)(blk->lo[0] + i) + 100.0 * (double)(blk->lo[1] + j);
    return 0;
}

/* Stencil steps of widths 1, 2, 1, 1 on the same input: the ghost strips are
 * kept between steps of one width and replaced when the width changes; every
 * result matches the serial formula and the handles stay flat. */
static void test_stencil_strips(void **state)
{
    (void)state;
    sj_space_t sp;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){16, 8}, (int[]){4, 2}, &sp));
    sj_array_t in, out;
    SJ_ASSERT_OK(sj_array_create_init(sp, NULL, fill_ij, NULL, 0, &in));
    SJ_ASSERT_OK(sj_array_zeros(sp, NULL, &out));
    const int widths[5] = {1, 2, 1, 1, 2};
    sj_stats_t s1 = {0};
    for (int k = 0; k < 5; k++) {
        const int w = widths[k];
        const double f = (double)(1 << k); /* in doubles every step: a stale strip would show */
        if (k > 0)
            SJ_ASSERT_OK(sj_array_scale(2.0, in));
        SJ_ASSERT_OK(sj_array_stencil(in, out, w, SJ_BOUNDARY_PERIODIC, NULL, shift_sum, NULL, 0));
        double ref[128];
        for (int j = 0; j < 8; j++)
            for (int i = 0; i < 16; i++)
                ref[i + 16 * j] =
                    f * ((double)((i - w + 16) % 16) + (double)((i + w) % 16) + 200.0 * j);
        SJ_ASSERT_ARRAY(out, ref);
        SJ_ASSERT_OK(sj_wait());
        if (k == 1)
            s1 = stats();
    }
    const sj_stats_t s2 = stats();
    assert_int_equal(s2.handles, s1.handles);
    assert_int_equal(s2.tags_booked, s1.tags_booked);
    SJ_ASSERT_OK(sj_array_destroy(&in));
    SJ_ASSERT_OK(sj_array_destroy(&out));
    SJ_ASSERT_OK(sj_space_destroy(&sp));
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    setenv("SJ_MAX_TASKS_IN_FLIGHT", "64", 1); /* read by sj_init_options_default */
    /* graph reductions gather at most 2 vectors per task here: 3 and 4 ranks
     * take the path of more than 31 ranks, several blocks per rank that of
     * more than 31 blocks per rank */
    setenv("SJ_TEST_GATHER_MAX", "2", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_fields),      cmocka_unit_test(test_graph_loop_is_flat),
        cmocka_unit_test(test_scalar_everywhere), cmocka_unit_test(test_many_blocks),
        cmocka_unit_test(test_submission_bound),  cmocka_unit_test(test_apply_temporaries),
        cmocka_unit_test(test_stencil_strips),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "stats");
}
