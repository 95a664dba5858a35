/*
 * Running out of memory is an error on every rank, never an abort or a hang.
 * The program runs under StarPU's memory limit (STARPU_LIMIT_CPU_MEM, set
 * before sj_init) and, for the host's malloc failing, with failures injected
 * on one rank through the runtime's test hooks. Every case checks: the same
 * code on every rank, a sentence that names the call, nothing left behind
 * (objects, handles, tags), the arrays made before still holding their
 * values, and the same call succeeding once memory is there.
 *
 * With --serialized the program starts MPI itself at MPI_THREAD_SERIALIZED,
 * where the ranks agree through StarPU-MPI's messages (ctest oom_serialized_np2).
 */
// sj-test: nprocs=1,2,3,4
#include <mpi.h>
#include <time.h>

#include "sj_test.h"

/* Internal test hooks of the library (src/runtime/rt.h, src/base/base.h). */
void sj__rt_mem_fault_inject(long after, long count);
void sj__object_fault_inject(long after, long count);

static int serialized; /* --serialized: MPI_THREAD_SERIALIZED */

#define LIMIT_MIB 64
#define MIB (1024 * 1024)

static int me(void)
{
    return sj_rank();
}

static int last(void)
{
    return sj_nranks() - 1;
}

static sj_stats_t stats(void)
{
    sj_stats_t s;
    SJ_ASSERT_OK(sj_stats_get(&s));
    return s;
}

static void same_counts(const sj_stats_t *before)
{
    sj_stats_t now = stats();
    assert_int_equal(now.objects, before->objects);
    assert_int_equal(now.handles, before->handles);
    assert_int_equal(now.tags_booked, before->tags_booked);
}

/* A 1-D float64 space of @p nblocks blocks of @p mib MiB each. */
static sj_space_t space_mib(int nblocks, int64_t mib)
{
    sj_space_t s;
    const int64_t n = (int64_t)nblocks * mib * (MIB / 8);
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){nblocks}, &s));
    return s;
}

static void holds(sj_array_t x, double sum)
{
    double v = 0;
    SJ_ASSERT_OK(sj_array_sum(x, &v));
    assert_true(v == sum);
}

/* The sentence says out of memory, and which rank ran out. */
static void says_oom(void)
{
    const char *msg = sj_last_error();
    assert_non_null(strstr(msg, "out of memory"));
}

static void test_array_over_limit(void **state)
{
    (void)state;
    assert_int_equal(sj_mpi_thread_multiple(), !serialized);
    sj_space_t small = space_mib(sj_nranks(), 1);
    sj_array_t keep;
    SJ_ASSERT_OK(sj_array_filled(small, NULL, 3.0, &keep));
    int64_t n = 0;
    SJ_ASSERT_OK(sj_space_length(small, &n));
    const sj_stats_t before = stats();

    /* one block of 2x the limit, on rank 0 only: refused on every rank */
    sj_space_t one = space_mib(1, 2 * LIMIT_MIB);
    const sj_stats_t before_one = stats();
    sj_array_t big = NULL;
    SJ_ASSERT_ERR(sj_array_zeros(one, NULL, &big), SJ_ENOMEM);
    assert_null(big);
    says_oom();
    if (me() == 0)
        assert_non_null(strstr(sj_last_error(), "cannot allocate block 0"));
    else
        assert_non_null(strstr(sj_last_error(), "out of memory on rank 0"));
    same_counts(&before_one);
    SJ_ASSERT_ERR(sj_array_ones(one, NULL, &big), SJ_ENOMEM);
    SJ_ASSERT_OK(sj_array_similar(keep, &big)); /* what fits is still made */
    SJ_ASSERT_OK(sj_array_destroy(&big));
    SJ_ASSERT_OK(sj_space_destroy(&one));

    /* a block over the limit on every rank */
    sj_space_t all = space_mib(sj_nranks(), LIMIT_MIB + 8);
    SJ_ASSERT_ERR(sj_array_rand(all, NULL, 7, &big), SJ_ENOMEM);
    assert_null(big);
    SJ_ASSERT_OK(sj_space_destroy(&all));

    /* many arrays that fit one by one, until the limit: the one that does not is refused */
    sj_space_t mid = space_mib(sj_nranks(), 8);
    sj_array_t many[16] = {0};
    int made = 0, rc = SJ_OK;
    while (made < 16 && (rc = sj_array_ones(mid, NULL, &many[made])) == SJ_OK)
        made++;
    assert_int_equal(rc, SJ_ENOMEM);
    says_oom();
    assert_true(made >= 4 && made < LIMIT_MIB / 8);
    for (int i = 0; i < made; i++) {
        holds(many[i], (double)(sj_nranks() * 8 * (MIB / 8)));
        SJ_ASSERT_OK(sj_array_destroy(&many[i]));
    }
    /* the memory is back: as many fit again */
    for (int i = 0; i < made; i++)
        SJ_ASSERT_OK(sj_array_zeros(mid, NULL, &many[i]));
    for (int i = 0; i < made; i++)
        SJ_ASSERT_OK(sj_array_destroy(&many[i]));
    SJ_ASSERT_OK(sj_space_destroy(&mid));

    same_counts(&before);
    holds(keep, 3.0 * (double)n);
    SJ_ASSERT_OK(sj_array_destroy(&keep));
    SJ_ASSERT_OK(sj_space_destroy(&small));
}

/* The host's malloc failing on one rank (injected): every rank gets SJ_ENOMEM. */
static void test_array_malloc_fails_on_one_rank(void **state)
{
    (void)state;
    sj_space_t s = space_mib(2 * sj_nranks(), 1);
    sj_array_t keep, a = NULL;
    SJ_ASSERT_OK(sj_array_filled(s, NULL, 2.0, &keep));
    const sj_stats_t before = stats();
    if (me() == last())
        sj__rt_mem_fault_inject(1, 2); /* its second block, and again after the wait */
    SJ_ASSERT_ERR(sj_array_copy(keep, &a), SJ_ENOMEM);
    assert_null(a);
    if (me() == last())
        assert_non_null(strstr(sj_last_error(), "cannot allocate block"));
    says_oom();
    same_counts(&before);
    SJ_ASSERT_OK(sj_array_copy(keep, &a));
    holds(a, 2.0 * (double)(2 * sj_nranks()) * (MIB / 8));
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&keep));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* An operator's temporary (the middle of a composition) over the limit, then injected. */
static void test_op_temporary(void **state)
{
    (void)state;
    /* one block of 24 MiB, on rank 0: x and y fit under 64 MiB, not a temporary besides */
    sj_space_t s = space_mib(1, 24);
    sj_op_t I1, I2, II;
    SJ_ASSERT_OK(sj_op_identity(s, 0, &I1));
    SJ_ASSERT_OK(sj_op_identity(s, 0, &I2));
    SJ_ASSERT_OK(sj_op_compose(I2, I1, &II)); /* its apply keeps I1 x in a temporary */
    sj_array_t x, y;
    SJ_ASSERT_OK(sj_array_filled(s, NULL, 1.5, &x));
    SJ_ASSERT_OK(sj_array_filled(s, NULL, 9.0, &y));
    const double n = 24.0 * (MIB / 8);
    const sj_stats_t before = stats();
    SJ_ASSERT_ERR(sj_op_apply(II, x, y), SJ_ENOMEM);
    says_oom();
    if (me() != 0)
        assert_non_null(strstr(sj_last_error(), "other rank"));
    same_counts(&before);
    holds(x, 1.5 * n);
    holds(y, 9.0 * n);                   /* nothing was submitted */
    SJ_ASSERT_OK(sj_op_apply(I1, x, y)); /* a leaf needs no temporary */
    holds(y, 1.5 * n);
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_op_destroy(&II));
    SJ_ASSERT_OK(sj_op_destroy(&I1));
    SJ_ASSERT_OK(sj_op_destroy(&I2));
    SJ_ASSERT_OK(sj_space_destroy(&s));

    /* smaller: fits, but the temporary's allocation fails on rank 0 (injected) */
    sj_space_t h = space_mib(1, 8);
    sj_op_t J1, J2, JJ;
    SJ_ASSERT_OK(sj_op_identity(h, 0, &J1));
    SJ_ASSERT_OK(sj_op_identity(h, 0, &J2));
    SJ_ASSERT_OK(sj_op_compose(J2, J1, &JJ));
    sj_array_t u, v;
    SJ_ASSERT_OK(sj_array_filled(h, NULL, 2.0, &u));
    SJ_ASSERT_OK(sj_array_zeros(h, NULL, &v));
    if (me() == 0)
        sj__rt_mem_fault_inject(0, 2);
    SJ_ASSERT_ERR(sj_op_apply(JJ, u, v), SJ_ENOMEM);
    says_oom();
    SJ_ASSERT_OK(sj_op_apply(JJ, u, v));
    SJ_ASSERT_OK(sj_op_apply_adjoint(JJ, u, v));
    holds(v, 2.0 * 8.0 * (MIB / 8));
    holds(u, 2.0 * 8.0 * (MIB / 8));
    SJ_ASSERT_OK(sj_array_destroy(&u));
    SJ_ASSERT_OK(sj_array_destroy(&v));
    SJ_ASSERT_OK(sj_op_destroy(&JJ));
    SJ_ASSERT_OK(sj_op_destroy(&J1));
    SJ_ASSERT_OK(sj_op_destroy(&J2));
    SJ_ASSERT_OK(sj_space_destroy(&h));
}

static int copy_fn(const sj_stencil_info_t *info, void *outp, const void *inp, void *ctx)
{
    (void)ctx;
    const double *in = inp;
    double *out = outp;
    for (int64_t j = info->lo[1]; j < info->hi[1]; j++)
        for (int64_t i = info->lo[0]; i < info->hi[0]; i++)
            out[i + info->out_stride[1] * j] = in[i + info->in_stride[1] * j];
    return 0;
}

/* Ghost strips that cannot be allocated on one rank: the stencil is refused everywhere. */
static void test_stencil_strips(void **state)
{
    (void)state;
    sj_space_t s;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){64, 64}, (int[]){2, 2}, &s));
    sj_array_t u, v;
    SJ_ASSERT_OK(sj_array_filled(s, NULL, 1.0, &u));
    SJ_ASSERT_OK(sj_array_filled(s, NULL, 5.0, &v));
    const sj_stats_t before = stats();
    if (me() == 0) /* rank 0 owns a block on any rank count */
        sj__rt_mem_fault_inject(0, 2);
    SJ_ASSERT_ERR(sj_array_stencil(u, v, 1, SJ_BOUNDARY_PERIODIC, NULL, copy_fn, NULL, 0),
                  SJ_ENOMEM);
    sj__rt_mem_fault_inject(0, 0);
    says_oom();
    same_counts(&before);
    holds(v, 5.0 * 64 * 64); /* nothing ran */
    SJ_ASSERT_OK(sj_array_stencil(u, v, 1, SJ_BOUNDARY_PERIODIC, NULL, copy_fn, NULL, 0));
    holds(v, 64.0 * 64);
    SJ_ASSERT_OK(sj_array_destroy(&u));
    SJ_ASSERT_OK(sj_array_destroy(&v));
    SJ_ASSERT_OK(sj_space_destroy(&s));
}

/* Staging temporaries of a redistribution over the limit, then injected on one rank. */
static void test_redistribute(void **state)
{
    (void)state;
    if (sj_nranks() == 1)
        skip(); /* one rank stages nothing */
    const int np = sj_nranks();
    /* src in np blocks, dst in np + 1: every cut moves a part of a block to another rank */
    const int64_t n = (int64_t)np * 20 * (MIB / 8);
    sj_space_t ss, sd;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){np}, &ss));
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){np + 1}, &sd));
    sj_array_t src, dst;
    SJ_ASSERT_OK(sj_array_filled(ss, NULL, 1.0, &src));
    SJ_ASSERT_OK(sj_array_filled(sd, NULL, 4.0, &dst));
    const sj_stats_t before = stats();
    if (me() == 0)
        sj__rt_mem_fault_inject(0, 2);
    int64_t moved = -1;
    SJ_ASSERT_ERR(sj_array_redistribute(src, dst, &moved), SJ_ENOMEM);
    says_oom();
    if (me() == 0)
        sj__rt_mem_fault_inject(0, 0);
    assert_int_equal(moved, 0);
    same_counts(&before);
    holds(dst, 4.0 * (double)n);
    SJ_ASSERT_OK(sj_array_redistribute(src, dst, &moved));
    holds(dst, (double)n);
    holds(src, (double)n);
    SJ_ASSERT_OK(sj_array_destroy(&src));
    SJ_ASSERT_OK(sj_array_destroy(&dst));
    SJ_ASSERT_OK(sj_space_destroy(&ss));
    SJ_ASSERT_OK(sj_space_destroy(&sd));
}

/* A leaf that copies, slowly: its task holds its input (a temporary) for 0.3 s. */
static int slow_copy(const sj_op_info_t *info, void *out, const void *in)
{
    nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
    memcpy(out, in, (size_t)info->dom_n * sizeof(double));
    return 0;
}

/*
 * Memory given back once tasks are done (here the temporary of a destroyed
 * operator, still read by a slow task) does not make an allocation made at
 * once near the limit fail: the constructor waits for it, with no wait of the
 * program's. One that cannot fit even then is still refused on every rank.
 */
static void test_destroy_then_create(void **state)
{
    (void)state;
    /* on rank 0: x, y and the temporary, 3 x 12 MiB, then 30 MiB beside x and y */
    sj_space_t h = space_mib(1, 12), big = space_mib(1, 30), bigger = space_mib(1, 48);
    sj_array_t x, y, b = NULL;
    SJ_ASSERT_OK(sj_array_filled(h, NULL, 1.5, &x));
    SJ_ASSERT_OK(sj_array_zeros(h, NULL, &y));
    holds(y, 0.0); /* a first reduction of y (below MULTIPLE it keeps handles with y) */
    const sj_stats_t before = stats();
    const sj_op_class_t cls = {.name = "oom_slow", .forward = slow_copy, .adjoint = slow_copy};
    for (int round = 0; round < 3; round++) {
        sj_op_t S, I, SI;
        SJ_ASSERT_OK(sj_op_create(&cls, h, h, 0, NULL, 0, NULL, 0, &S));
        SJ_ASSERT_OK(sj_op_identity(h, 0, &I));
        SJ_ASSERT_OK(sj_op_compose(S, I, &SI)); /* I x in a temporary, which S reads slowly */
        SJ_ASSERT_OK(sj_op_apply(SI, x, y));
        SJ_ASSERT_OK(sj_op_destroy(&SI)); /* the temporary comes back in 0.3 s */
        SJ_ASSERT_OK(sj_op_destroy(&S));
        SJ_ASSERT_OK(sj_op_destroy(&I));
        SJ_ASSERT_OK(sj_array_zeros(big, NULL, &b));
        holds(y, 1.5 * 12.0 * (MIB / 8));
        SJ_ASSERT_OK(sj_array_destroy(&b));
        SJ_ASSERT_OK(sj_array_fill(0.0, y));
    }
    same_counts(&before);
    /* beside x and y, 48 MiB never fit: refused on every rank, after the wait */
    SJ_ASSERT_ERR(sj_array_zeros(bigger, NULL, &b), SJ_ENOMEM);
    assert_null(b);
    says_oom();
    if (me() == 0)
        assert_non_null(strstr(sj_last_error(), "cannot allocate block 0"));
    else
        assert_non_null(strstr(sj_last_error(), "out of memory on rank 0"));
    same_counts(&before);
    holds(x, 1.5 * 12.0 * (MIB / 8));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_space_destroy(&h));
    SJ_ASSERT_OK(sj_space_destroy(&big));
    SJ_ASSERT_OK(sj_space_destroy(&bigger));
}

/*
 * A task that reads another rank's block near the limit: the copy StarPU
 * receives is its own allocation, which starjets cannot agree on beforehand.
 * It goes over the limit instead of waiting for memory that never comes (a
 * hang); the next allocation starjets makes there waits for it to be given
 * back (the call's copies are flushed at its end) and succeeds.
 */
static void test_received_copy(void **state)
{
    (void)state;
    if (sj_nranks() == 1)
        skip(); /* nothing is received */
    /* x and y: one 16 MiB block on rank 0; on the last rank, 40 MiB of its own */
    sj_space_t h = space_mib(1, 16), fill = space_mib(1, 40);
    sj_dist_t on_last;
    SJ_ASSERT_OK(sj_dist_create_explicit(1, (int[]){1}, (int[]){last()}, &on_last));
    sj_array_t x, y, f, b = NULL;
    SJ_ASSERT_OK(sj_array_filled(h, NULL, 1.5, &x));
    SJ_ASSERT_OK(sj_array_zeros(h, NULL, &y));
    SJ_ASSERT_OK(sj_array_filled(fill, on_last, 1.0, &f));
    /* runs on the last rank: a 16 MiB temporary (agreed: 56 MiB there) and x's copy (72) */
    sj_op_t I;
    SJ_ASSERT_OK(sj_op_identity(h, last(), &I));
    SJ_ASSERT_OK(sj_op_apply(I, x, y));
    holds(y, 1.5 * 16.0 * (MIB / 8));
    SJ_ASSERT_OK(sj_op_destroy(&I));
    /* beside the filler, 20 MiB fit once x's copy and the temporary are given back */
    sj_space_t more = space_mib(1, 20);
    SJ_ASSERT_OK(sj_array_ones(more, on_last, &b));
    holds(b, 20.0 * (MIB / 8));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_array_destroy(&f));
    SJ_ASSERT_OK(sj_array_destroy(&x));
    SJ_ASSERT_OK(sj_array_destroy(&y));
    SJ_ASSERT_OK(sj_dist_destroy(&on_last));
    SJ_ASSERT_OK(sj_space_destroy(&more));
    SJ_ASSERT_OK(sj_space_destroy(&fill));
    SJ_ASSERT_OK(sj_space_destroy(&h));
}

/* A failure that passes by the second try (injected once on one rank) is no failure. */
static void test_failure_that_passes(void **state)
{
    (void)state;
    const int np = sj_nranks();
    sj_space_t s = space_mib(2 * np, 1);
    sj_array_t a = NULL, b = NULL;
    SJ_ASSERT_OK(sj_array_filled(s, NULL, 2.0, &a));
    if (me() == last())
        sj__rt_mem_fault_inject(1, 1);
    SJ_ASSERT_OK(sj_array_copy(a, &b));
    holds(b, 2.0 * 2 * np * (MIB / 8));
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_space_destroy(&s));
    /* an operator's temporary (the middle of a composition, on rank 0) */
    sj_space_t h = space_mib(1, 1);
    sj_op_t I1, I2, II;
    SJ_ASSERT_OK(sj_op_identity(h, 0, &I1));
    SJ_ASSERT_OK(sj_op_identity(h, 0, &I2));
    SJ_ASSERT_OK(sj_op_compose(I2, I1, &II));
    SJ_ASSERT_OK(sj_array_filled(h, NULL, 2.0, &a));
    SJ_ASSERT_OK(sj_array_zeros(h, NULL, &b));
    if (me() == 0)
        sj__rt_mem_fault_inject(0, 1);
    SJ_ASSERT_OK(sj_op_apply(II, a, b));
    holds(b, 2.0 * (MIB / 8));
    SJ_ASSERT_OK(sj_op_destroy(&II));
    SJ_ASSERT_OK(sj_op_destroy(&I1));
    SJ_ASSERT_OK(sj_op_destroy(&I2));
    SJ_ASSERT_OK(sj_array_destroy(&a));
    SJ_ASSERT_OK(sj_array_destroy(&b));
    SJ_ASSERT_OK(sj_space_destroy(&h));
    /* a stencil's ghost strips */
    sj_space_t g;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){64, 64}, (int[]){2, 2}, &g));
    sj_array_t u, v;
    SJ_ASSERT_OK(sj_array_filled(g, NULL, 1.0, &u));
    SJ_ASSERT_OK(sj_array_zeros(g, NULL, &v));
    if (me() == 0)
        sj__rt_mem_fault_inject(0, 1);
    SJ_ASSERT_OK(sj_array_stencil(u, v, 1, SJ_BOUNDARY_PERIODIC, NULL, copy_fn, NULL, 0));
    holds(v, 64.0 * 64);
    SJ_ASSERT_OK(sj_array_destroy(&u));
    SJ_ASSERT_OK(sj_array_destroy(&v));
    SJ_ASSERT_OK(sj_space_destroy(&g));
    /* a redistribution's staging */
    if (np > 1) {
        const int64_t n = (int64_t)np * (MIB / 8);
        sj_space_t ss, sd;
        SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){np}, &ss));
        SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){np + 1}, &sd));
        sj_array_t src, dst;
        SJ_ASSERT_OK(sj_array_filled(ss, NULL, 1.0, &src));
        SJ_ASSERT_OK(sj_array_zeros(sd, NULL, &dst));
        if (me() == last())
            sj__rt_mem_fault_inject(0, 1);
        SJ_ASSERT_OK(sj_array_redistribute(src, dst, NULL));
        holds(dst, (double)n);
        SJ_ASSERT_OK(sj_array_destroy(&src));
        SJ_ASSERT_OK(sj_array_destroy(&dst));
        SJ_ASSERT_OK(sj_space_destroy(&ss));
        SJ_ASSERT_OK(sj_space_destroy(&sd));
    }
}

/* The set of live handles cannot grow (injected): the constructor fails, cleanly. */
static void test_handle_set_full(void **state)
{
    (void)state;
    enum { MAX = 4096 };
    sj_space_t *sp = calloc(MAX, sizeof *sp);
    assert_non_null(sp);
    const sj_stats_t before = stats();
    /* local constructors: the next growth of the set fails on this rank */
    sj__object_fault_inject(0, 1);
    int made = 0, rc = SJ_OK;
    while (made < MAX &&
           (rc = sj_space_create(SJ_FLOAT64, 1, (int64_t[]){8}, (int[]){2}, &sp[made])) == SJ_OK)
        made++;
    assert_int_equal(rc, SJ_ENOMEM);
    assert_null(sp[made]);
    assert_non_null(strstr(sj_last_error(), "sj_space_create"));
    assert_non_null(strstr(sj_last_error(), "live handles"));
    for (int i = 0; i < made; i++) {
        int64_t len = 0;
        SJ_ASSERT_OK(sj_space_length(sp[i], &len)); /* each one made is checked and live */
        SJ_ASSERT_OK(sj_space_destroy(&sp[i]));
    }
    same_counts(&before);

    /* a collective constructor: the failure on one rank fails the array on all */
    sj_array_t *arr = calloc(MAX, sizeof *arr);
    assert_non_null(arr);
    sj_space_t tiny;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){(int64_t)sj_nranks()},
                                 (int[]){sj_nranks()}, &tiny));
    const sj_stats_t before_arrays = stats();
    if (me() == last())
        sj__object_fault_inject(0, 2); /* and again after the wait */
    made = 0;
    while (made < MAX && (rc = sj_array_zeros(tiny, NULL, &arr[made])) == SJ_OK)
        made++;
    assert_int_equal(rc, SJ_ENOMEM);
    assert_null(arr[made]);
    says_oom();
    for (int i = 0; i < made; i++)
        SJ_ASSERT_OK(sj_array_destroy(&arr[i]));
    same_counts(&before_arrays);
    SJ_ASSERT_OK(sj_space_destroy(&tiny));
    free(arr);
    free(sp);
}

int main(int argc, char **argv)
{
    /* before sj_init: StarPU reads it when it starts (MiB of host memory per rank) */
    setenv("STARPU_LIMIT_CPU_MEM", "64", 1);
    /* a wait for memory that never comes is a report and a failure, not a hang */
    setenv("SJ_WATCHDOG", "20", 0);
    serialized = argc > 1 && strcmp(argv[1], "--serialized") == 0;
    if (serialized) {
        int level = 0;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &level);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_array_over_limit),
        cmocka_unit_test(test_array_malloc_fails_on_one_rank),
        cmocka_unit_test(test_op_temporary),
        cmocka_unit_test(test_stencil_strips),
        cmocka_unit_test(test_redistribute),
        cmocka_unit_test(test_destroy_then_create),
        cmocka_unit_test(test_failure_that_passes),
        cmocka_unit_test(test_received_copy),
        cmocka_unit_test(test_handle_set_full),
    };
    const int rc = sj_test_main(tests, sizeof tests / sizeof tests[0], "oom");
    if (serialized)
        MPI_Finalize();
    return rc;
}
