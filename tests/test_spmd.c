// sj-test: nprocs=1,2,3,4
/*
 * SPMD: the foo_spmd ring of the DistributedArrays README against a serial
 * computation (small messages and messages large enough for MPI's rendezvous
 * protocol), array blocks sent and received in place, two contexts whose
 * messages cross without mixing, receive from any rank, broadcast / scatter /
 * gather from every root against the expected bytes, subset contexts, storage
 * that lives between runs, and bad input.
 *
 * Checks inside a run only count failures (an assertion there would leave the
 * other ranks waiting for messages); every rank asserts on the total after
 * the run, so all ranks fail a test together.
 */
#include "sj_test.h"

/* What the function of a run records. */
typedef struct rec {
    int failures;
} rec_t;

static void rec_fail(rec_t *r, int line, const char *what)
{
    if (r->failures++ < 5)
        print_error("rank %d, line %d: %s (last error: %s)\n", sj_rank(), line, what,
                    sj_last_error());
}

#define EXPECT(r, cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            rec_fail((r), __LINE__, #cond);                                                        \
    } while (0)

#define EXPECT_OK(r, expr)                                                                         \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != 0)                                                                              \
            rec_fail((r), __LINE__, #expr);                                                        \
    } while (0)

#define EXPECT_ERR(r, expr, code)                                                                  \
    do {                                                                                           \
        sj_clear_error();                                                                          \
        int rc_ = (expr);                                                                          \
        if (!sj_t_err_ok(rc_, (code), (code), #expr))                                              \
            rec_fail((r), __LINE__, #expr);                                                        \
    } while (0)

/* The failures of every rank (direct MPI: the tests run at MPI_THREAD_MULTIPLE). */
static int total_failures(int mine)
{
    int total = 0;
    MPI_Allreduce(&mine, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return total;
}

#define ASSERT_RUN(ctx, fn, arg, failures)                                                         \
    do {                                                                                           \
        SJ_ASSERT_OK(sj_spmd_run((ctx), (fn), (arg)));                                             \
        assert_int_equal(total_failures(failures), 0);                                             \
    } while (0)

/* ---- the foo_spmd ring ----------------------------------------------------- */

typedef struct ring {
    rec_t rec;
    sj_array_t in, out; /* one block per rank, owned by that rank */
    int iterations;
    int64_t len; /* doubles per block */
} ring_t;

/*
 * The README's foo_spmd: each rank sends its local part to both neighbours,
 * keeps what the next one sent (after what the previous one sent), and adds
 * it twice to its sum, n times over. The first send is the array block itself.
 */
static int foo_spmd(sj_spmd_context_t ctx, void *arg)
{
    ring_t *r = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    const int next = (me + 1) % n, prev = (me + n - 1) % n;
    const size_t bytes = (size_t)r->len * sizeof(double);
    double *lp = malloc(bytes), *sum = calloc((size_t)r->len, sizeof(double));
    for (int it = 0; it < r->iterations; it++) {
        if (it == 0) {
            EXPECT_OK(&r->rec, sj_spmd_send_block(ctx, next, 0, r->in, me));
            EXPECT_OK(&r->rec, sj_spmd_send_block(ctx, prev, 0, r->in, me));
        } else {
            EXPECT_OK(&r->rec, sj_spmd_send(ctx, next, 0, lp, bytes));
            EXPECT_OK(&r->rec, sj_spmd_send(ctx, prev, 0, lp, bytes));
        }
        EXPECT_OK(&r->rec, sj_spmd_recv(ctx, prev, 0, lp, bytes));
        EXPECT_OK(&r->rec, sj_spmd_recv(ctx, next, 0, lp, bytes));
        EXPECT_OK(&r->rec, sj_spmd_barrier(ctx));
        for (int64_t i = 0; i < r->len; i++)
            sum[i] += lp[i] + lp[i];
    }
    double *out = NULL;
    EXPECT_OK(&r->rec, sj_array_localpart_get(r->out, me, (void **)&out));
    if (out)
        memcpy(out, sum, bytes);
    EXPECT_OK(&r->rec, sj_array_localpart_restore(r->out, me, (void **)&out));
    free(lp);
    free(sum);
    return 0;
}

/* Block b of the input: element i of it is (b + 1) * 1000 + i. */
static int ring_init(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    for (int64_t i = 0; i < blk->nelems; i++)
        ((double *)out)[i] = (blk->block + 1) * 1000.0 + (double)i;
    return 0;
}

static void run_ring(int64_t len, int iterations)
{
    const int np = sj_nranks();
    sj_space_t sp;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){len * np}, (int[]){np}, &sp));
    ring_t r = {{0}, NULL, NULL, iterations, len};
    SJ_ASSERT_OK(sj_array_create_init(sp, NULL, ring_init, NULL, 0, &r.in));
    SJ_ASSERT_OK(sj_array_zeros(sp, NULL, &r.out));
    ASSERT_RUN(NULL, foo_spmd, &r, r.rec.failures);
    /* serial: after iteration k a rank holds the part of rank (me + k) mod n */
    double *ref = calloc((size_t)(len * np), sizeof(double));
    for (int me = 0; me < np; me++)
        for (int k = 1; k <= iterations; k++)
            for (int64_t i = 0; i < len; i++)
                ref[me * len + i] += 2.0 * (((me + k) % np + 1) * 1000.0 + (double)i);
    SJ_ASSERT_ARRAY(r.out, ref);
    free(ref);
    sj_array_destroy(&r.in);
    sj_array_destroy(&r.out);
    sj_space_destroy(&sp);
}

static void test_ring_foo_spmd(void **state)
{
    run_ring(2, 10); /* the README's sizes: a 1 x 2 part per rank, 10 times */
}

/* 512 KiB parts: every rank sends both before receiving, far above any eager limit. */
static void test_ring_large(void **state)
{
    run_ring(65536, 3);
}

/* ---- two contexts at once ------------------------------------------------------ */

typedef struct cross {
    rec_t rec;
    sj_spmd_context_t a, b; /* b numbers the ranks backwards */
    size_t len;
} cross_t;

static double mark(int ctx_id, int sender, size_t i)
{
    return ctx_id * 100000.0 + sender * 100.0 + (double)(i % 97);
}

/* Every rank sends to the next rank on b then on a, same tag; it receives on a then on b. */
static int crossing(sj_spmd_context_t run, void *arg)
{
    cross_t *c = arg;
    const int np = sj_nranks(), w = sj_rank();
    const int next = (w + 1) % np, prev = (w + np - 1) % np;
    double *buf = malloc(c->len * sizeof(double));
    sj_spmd_context_t order[2] = {c->b, c->a};
    for (int k = 0; k < 2; k++) {
        int id = order[k] == c->a ? 1 : 2;
        for (size_t i = 0; i < c->len; i++)
            buf[i] = mark(id, w, i);
        int dest = order[k] == c->a ? next : np - 1 - next; /* context rank of `next` */
        EXPECT_OK(&c->rec, sj_spmd_send(order[k], dest, 7, buf, c->len * sizeof(double)));
    }
    for (int k = 1; k >= 0; k--) {
        int id = order[k] == c->a ? 1 : 2;
        int src = order[k] == c->a ? prev : np - 1 - prev;
        EXPECT_OK(&c->rec, sj_spmd_recv(order[k], src, 7, buf, c->len * sizeof(double)));
        int bad = 0;
        for (size_t i = 0; i < c->len; i++)
            bad += buf[i] != mark(id, prev, i);
        EXPECT(&c->rec, bad == 0);
    }
    free(buf);
    return 0;
}

static void test_two_contexts(void **state)
{
    const int np = sj_nranks();
    int *rev = malloc((size_t)np * sizeof *rev);
    for (int i = 0; i < np; i++)
        rev[i] = np - 1 - i;
    cross_t c = {{0}, NULL, NULL, 8};
    SJ_ASSERT_OK(sj_spmd_context_create(np, NULL, &c.a));
    SJ_ASSERT_OK(sj_spmd_context_create(np, rev, &c.b));
    assert_int_equal(sj_spmd_rank(c.b), np - 1 - sj_rank());
    assert_int_equal(sj_spmd_world_rank(c.b, 0), np - 1);
    ASSERT_RUN(c.a, crossing, &c, c.rec.failures);
    c.len = 40000; /* 320 KiB: the first send on b waits until its receiver drains it */
    ASSERT_RUN(NULL, crossing, &c, c.rec.failures);
    SJ_ASSERT_OK(sj_spmd_context_destroy(&c.a));
    SJ_ASSERT_OK(sj_spmd_context_destroy(&c.b));
    assert_null(c.a);
    free(rev);
}

/* ---- a context of some ranks ---------------------------------------------------- */

typedef struct subset {
    rec_t rec;
    int ran;
} subset_t;

static int subset_fn(sj_spmd_context_t ctx, void *arg)
{
    subset_t *s = arg;
    s->ran = 1;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    int v = me == 0 ? 4242 : 0;
    EXPECT_OK(&s->rec, sj_spmd_bcast(ctx, 0, &v, sizeof v));
    EXPECT(&s->rec, v == 4242);
    int token = me, got = -1;
    EXPECT_OK(&s->rec, sj_spmd_send(ctx, (me + 1) % n, 1, &token, sizeof token));
    EXPECT_OK(&s->rec, sj_spmd_recv(ctx, (me + n - 1) % n, 1, &got, sizeof got));
    EXPECT(&s->rec, got == (me + n - 1) % n);
    return 0;
}

static void test_subset(void **state)
{
    const int np = sj_nranks();
    /* the last rank and rank 0 (or rank 0 alone) */
    int ranks[2] = {np - 1, 0};
    int n = np > 1 ? 2 : 1;
    sj_spmd_context_t ctx;
    SJ_ASSERT_OK(sj_spmd_context_create(n, ranks, &ctx));
    int member = sj_rank() == 0 || sj_rank() == np - 1;
    if (member)
        assert_int_equal(sj_spmd_rank(ctx), sj_rank() == np - 1 ? 0 : 1 % n);
    else
        SJ_ASSERT_ERR(sj_spmd_rank(ctx), SJ_EINVAL);
    assert_int_equal(sj_spmd_size(ctx), n);
    subset_t s = {{0}, 0};
    ASSERT_RUN(ctx, subset_fn, &s, s.rec.failures);
    assert_int_equal(s.ran, member);
    SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx));
}

/* ---- receive from any rank -------------------------------------------------------- */

static int any_fn(sj_spmd_context_t ctx, void *arg)
{
    rec_t *r = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    if (me != 0 || n == 1) {
        /* a message with another tag first: recv_any must skip it */
        int other = -me - 1, mine = 10 * me + 3;
        EXPECT_OK(r, sj_spmd_send(ctx, 0, 4, &other, sizeof other));
        EXPECT_OK(r, sj_spmd_send(ctx, 0, 3, &mine, sizeof mine));
    }
    if (me == 0) {
        int senders = n == 1 ? 1 : n - 1, seen = 0;
        for (int k = 0; k < senders; k++) {
            int v = -1, src = -1;
            EXPECT_OK(r, sj_spmd_recv_any(ctx, 3, &v, sizeof v, &src));
            EXPECT(r, src >= 0 && src < n && v == 10 * src + 3);
            if (src >= 0 && src < 31)
                seen |= 1 << src;
        }
        EXPECT(r, seen == (n == 1 ? 1 : ((1 << n) - 2)));
        for (int s = n == 1 ? 0 : 1; s < n; s++) {
            int v = 0;
            EXPECT_OK(r, sj_spmd_recv(ctx, s, 4, &v, sizeof v));
            EXPECT(r, v == -s - 1);
        }
    }
    return 0;
}

static void test_recv_any(void **state)
{
    rec_t r = {0};
    ASSERT_RUN(NULL, any_fn, &r, r.failures);
}

/* ---- broadcast, scatter, gather ------------------------------------------------------ */

static unsigned char byte_at(int root, size_t i)
{
    return (unsigned char)((i * 31 + (size_t)root * 7 + 1) & 0xff);
}

static int bcast_fn(sj_spmd_context_t ctx, void *arg)
{
    rec_t *r = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    const size_t sizes[] = {0, 1, 1000, 300000};
    unsigned char *buf = malloc(300000);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int root = 0; root < n; root++) {
            for (size_t i = 0; i < sizes[s]; i++)
                buf[i] = me == root ? byte_at(root, i) : 0;
            EXPECT_OK(r, sj_spmd_bcast(ctx, root, sizes[s] ? buf : NULL, sizes[s]));
            size_t bad = 0;
            for (size_t i = 0; i < sizes[s]; i++)
                bad += buf[i] != byte_at(root, i);
            EXPECT(r, bad == 0);
        }
    free(buf);
    return 0;
}

static void test_bcast(void **state)
{
    rec_t r = {0};
    ASSERT_RUN(NULL, bcast_fn, &r, r.failures);
}

/* Element i of the whole buffer, elem_size bytes each. */
static void element(size_t i, size_t es, int salt, unsigned char *out)
{
    for (size_t b = 0; b < es; b++)
        out[b] = (unsigned char)((i * 13 + b * 5 + (size_t)salt) & 0xff);
}

static int scatter_gather_fn(sj_spmd_context_t ctx, void *arg)
{
    rec_t *r = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    const size_t per_rank[] = {0, 1, 5, 4096}, esizes[] = {1, 3, 8};
    for (size_t p = 0; p < 4; p++)
        for (size_t e = 0; e < 3; e++)
            for (int root = 0; root < n; root++) {
                const size_t es = esizes[e], count = per_rank[p] * (size_t)n;
                const size_t mine = per_rank[p] * es, total = count * es;
                unsigned char *whole = malloc(total + 1), *part = malloc(mine + 1);
                unsigned char *expect = malloc(total + 1);
                for (size_t i = 0; i < count; i++)
                    element(i, es, root, expect + i * es);
                memcpy(whole, expect, total);
                memset(part, 0xee, mine);
                EXPECT_OK(r,
                          sj_spmd_scatter(ctx, root, me == root ? whole : NULL, part, count, es));
                EXPECT(r, memcmp(part, expect + (size_t)me * mine, mine) == 0);
                /* send back each part changed in a known way */
                for (size_t i = 0; i < mine; i++)
                    part[i] ^= 0x5a;
                memset(whole, 0, total);
                EXPECT_OK(r, sj_spmd_gather(ctx, root, part, me == root ? whole : NULL, count, es));
                if (me == root) {
                    size_t bad = 0;
                    for (size_t i = 0; i < total; i++)
                        bad += whole[i] != (expect[i] ^ 0x5a);
                    EXPECT(r, bad == 0);
                }
                free(whole);
                free(part);
                free(expect);
            }
    return 0;
}

static void test_scatter_gather(void **state)
{
    rec_t r = {0};
    ASSERT_RUN(NULL, scatter_gather_fn, &r, r.failures);
}

/* ---- blocks of arrays ------------------------------------------------------------------ */

typedef struct blocks {
    rec_t rec;
    sj_array_t a, b;
} blocks_t;

/* Block r of a goes to the next rank, into its block of b. */
static int blocks_fn(sj_spmd_context_t ctx, void *arg)
{
    blocks_t *s = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    EXPECT_OK(&s->rec, sj_spmd_send_block(ctx, (me + 1) % n, 2, s->a, me));
    EXPECT_OK(&s->rec, sj_spmd_recv_block(ctx, (me + n - 1) % n, 2, s->b, me));
    return 0;
}

static void test_blocks(void **state)
{
    const int np = sj_nranks();
    const int64_t per = 37, n = per * np;
    sj_space_t sp;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT32, 1, &n, (int[]){np}, &sp));
    blocks_t s = {{0}, NULL, NULL};
    SJ_ASSERT_OK(sj_t_make(sp, NULL, sj_t_gen(SJ_T_EXACT), &s.a));
    SJ_ASSERT_OK(sj_array_zeros(sp, NULL, &s.b));
    ASSERT_RUN(NULL, blocks_fn, &s, s.rec.failures);
    double *a = sj_t_ref(sp, &(sj_t_gen_t){SJ_T_EXACT, 1.0, 0.0});
    double *ref = malloc((size_t)n * sizeof *ref);
    for (int r = 0; r < np; r++)
        memcpy(ref + r * per, a + ((r + np - 1) % np) * per, (size_t)per * sizeof *ref);
    SJ_ASSERT_ARRAY(s.b, ref);
    free(a);
    free(ref);
    sj_array_destroy(&s.a);
    sj_array_destroy(&s.b);
    sj_space_destroy(&sp);
}

/* ---- storage ----------------------------------------------------------------------- */

typedef struct store_state {
    rec_t rec;
    int run;
} store_state_t;

static int storage_fn(sj_spmd_context_t ctx, void *arg)
{
    store_state_t *s = arg;
    int *count = NULL;
    void *none = &s->run;
    EXPECT_OK(&s->rec, sj_spmd_storage(ctx, "absent", 0, &none));
    EXPECT(&s->rec, none == NULL);
    EXPECT_OK(&s->rec, sj_spmd_storage(ctx, "count", sizeof *count, (void **)&count));
    if (!count)
        return 1;
    EXPECT(&s->rec, *count == s->run); /* zero at the first run, then kept */
    (*count)++;
    int *again = NULL;
    EXPECT_OK(&s->rec, sj_spmd_storage(ctx, "count", 0, (void **)&again));
    EXPECT(&s->rec, again == count);
    EXPECT_ERR(&s->rec, sj_spmd_storage(ctx, "count", 2 * sizeof *count, (void **)&again),
               SJ_ESIZE);
    return sj_spmd_barrier(ctx);
}

static void test_storage(void **state)
{
    sj_spmd_context_t ctx;
    SJ_ASSERT_OK(sj_spmd_context_create(0, NULL, &ctx));
    store_state_t s = {{0}, 0};
    for (s.run = 0; s.run < 3; s.run++)
        ASSERT_RUN(ctx, storage_fn, &s, s.rec.failures);
    int *count = NULL; /* outside a run too */
    SJ_ASSERT_OK(sj_spmd_storage(ctx, "count", 0, (void **)&count));
    assert_non_null(count);
    assert_int_equal(*count, 3);
    SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx));
    /* a new context starts empty */
    SJ_ASSERT_OK(sj_spmd_context_create(0, NULL, &ctx));
    s.run = 0;
    ASSERT_RUN(ctx, storage_fn, &s, s.rec.failures);
    SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx));
    /* a rank outside the context has no storage */
    if (sj_nranks() > 1) {
        SJ_ASSERT_OK(sj_spmd_context_create(1, (int[]){0}, &ctx));
        void *p = NULL;
        if (sj_rank() != 0)
            SJ_ASSERT_ERR(sj_spmd_storage(ctx, "count", 4, &p), SJ_EINVAL);
        SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx));
    }
}

/* ---- messages left unreceived ------------------------------------------------------ */

typedef struct leftover {
    rec_t rec;
    /* 0: send only; 1: receive last run's messages; 2: send and leave them;
     * 3: find none left, then exchange fresh ones */
    int step;
} leftover_t;

/*
 * Each rank sends to the next one (tag 8) and to itself (tag 9). A message to
 * oneself shows whether one is left without waiting: a receive from oneself
 * with nothing waiting fails with SJ_ESTATE. A message left by the previous
 * rank would come before a fresh one with the same tag.
 */
static int leftover_fn(sj_spmd_context_t ctx, void *arg)
{
    leftover_t *l = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    const int next = (me + 1) % n, prev = (me + n - 1) % n;
    double v = 100.0 * l->step + me, got = -1;
    if (l->step == 1) {
        EXPECT_OK(&l->rec, sj_spmd_recv(ctx, prev, 8, &got, sizeof got));
        EXPECT(&l->rec, got == prev);
        EXPECT_OK(&l->rec, sj_spmd_recv(ctx, me, 9, &got, sizeof got));
        EXPECT(&l->rec, got == me);
        return 0;
    }
    if (l->step == 3)
        EXPECT_ERR(&l->rec, sj_spmd_recv(ctx, me, 9, &got, sizeof got), SJ_ESTATE);
    EXPECT_OK(&l->rec, sj_spmd_send(ctx, next, 8, &v, sizeof v));
    if (l->step == 3) {
        EXPECT_OK(&l->rec, sj_spmd_recv(ctx, prev, 8, &got, sizeof got));
        EXPECT(&l->rec, got == 300.0 + prev);
    } else {
        EXPECT_OK(&l->rec, sj_spmd_send(ctx, me, 9, &v, sizeof v));
    }
    return 0;
}

/*
 * A message not received in a run waits for a later run of its context;
 * destroy drops it, and so does the end of a run of a temporary context (the
 * run after it finds none).
 */
static void test_leftover(void **state)
{
    sj_spmd_context_t ctx;
    SJ_ASSERT_OK(sj_spmd_context_create(0, NULL, &ctx));
    leftover_t l = {{0}, 0};
    for (l.step = 0; l.step < 3; l.step++)
        ASSERT_RUN(ctx, leftover_fn, &l, l.rec.failures);
    SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx));
    SJ_ASSERT_OK(sj_spmd_context_create(0, NULL, &ctx));
    l.step = 3;
    ASSERT_RUN(ctx, leftover_fn, &l, l.rec.failures);
    SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx));
    for (l.step = 2; l.step < 4; l.step++)
        ASSERT_RUN(NULL, leftover_fn, &l, l.rec.failures);
}

/* ---- bad input ------------------------------------------------------------------------ */

static int nested_fn(sj_spmd_context_t ctx, void *arg)
{
    return 0;
}

static int bad_fn(sj_spmd_context_t ctx, void *arg)
{
    rec_t *r = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    const int next = (me + 1) % n, prev = (me + n - 1) % n;
    double x[4] = {1, 2, 3, 4}, y[4];
    /* rank out of range */
    EXPECT_ERR(r, sj_spmd_send(ctx, n, 0, x, sizeof x), SJ_ERANGE);
    EXPECT_ERR(r, sj_spmd_send(ctx, -1, 0, x, sizeof x), SJ_ERANGE);
    EXPECT_ERR(r, sj_spmd_recv(ctx, n, 0, y, sizeof y), SJ_ERANGE);
    /* -1 is out of range too, not "any rank" (sj_spmd_recv_any is): a message to
     * oneself waits, which a receive from any rank would take */
    EXPECT_OK(r, sj_spmd_send(ctx, me, 13, x, sizeof x));
    EXPECT_ERR(r, sj_spmd_recv(ctx, -1, 13, y, sizeof y), SJ_ERANGE);
    EXPECT_ERR(r, sj_spmd_recv(ctx, -5, 13, y, sizeof y), SJ_ERANGE);
    EXPECT_OK(r, sj_spmd_recv(ctx, me, 13, y, sizeof y));
    EXPECT_ERR(r, sj_spmd_bcast(ctx, n, x, sizeof x), SJ_ERANGE);
    EXPECT_ERR(r, sj_spmd_scatter(ctx, -1, x, y, (size_t)n, 1), SJ_ERANGE);
    EXPECT_ERR(r, sj_spmd_world_rank(ctx, n), SJ_ERANGE);
    /* negative or too large tag */
    EXPECT_ERR(r, sj_spmd_send(ctx, next, -1, x, sizeof x), SJ_EINVAL);
    EXPECT_ERR(r, sj_spmd_recv(ctx, prev, -3, y, sizeof y), SJ_EINVAL);
    EXPECT_ERR(r, sj_spmd_recv_any(ctx, -1, y, sizeof y, NULL), SJ_EINVAL);
    EXPECT_ERR(r, sj_spmd_send(ctx, next, SJ_SPMD_TAG_MAX + 1, x, sizeof x), SJ_EINVAL);
    /* NULL buffers with a size */
    EXPECT_ERR(r, sj_spmd_send(ctx, next, 0, NULL, 8), SJ_ENULL);
    EXPECT_ERR(r, sj_spmd_recv(ctx, prev, 0, NULL, 8), SJ_ENULL);
    EXPECT_ERR(r, sj_spmd_send(NULL, next, 0, x, sizeof x), SJ_ENULL);
    EXPECT_ERR(r, sj_spmd_bcast(ctx, 0, NULL, 8), SJ_ENULL); /* every rank passes NULL */
    EXPECT_ERR(r, sj_spmd_scatter(ctx, n - 1, NULL, y, (size_t)n, sizeof(double)), SJ_ENULL);
    EXPECT_ERR(r, sj_spmd_gather(ctx, 0, NULL, y, (size_t)n, sizeof(double)), SJ_ENULL);
    EXPECT_ERR(r, sj_spmd_send_block(ctx, next, 0, NULL, 0), SJ_ENULL);
    /* scatter / gather counts that do not divide, zero element size */
    if (n > 1) {
        EXPECT_ERR(r, sj_spmd_scatter(ctx, 0, x, y, (size_t)n + 1, 1), SJ_ESIZE);
        EXPECT_ERR(r, sj_spmd_gather(ctx, 0, x, y, (size_t)n + 1, 1), SJ_ESIZE);
    }
    EXPECT_ERR(r, sj_spmd_scatter(ctx, 0, x, y, (size_t)n, 0), SJ_ESIZE);
    /* a message of another size is dropped; the next one arrives */
    EXPECT_OK(r, sj_spmd_send(ctx, next, 5, x, 2 * sizeof(double)));
    EXPECT_OK(r, sj_spmd_send(ctx, next, 5, x, sizeof x));
    EXPECT_ERR(r, sj_spmd_recv(ctx, prev, 5, y, sizeof(double)), SJ_ESIZE);
    EXPECT_OK(r, sj_spmd_recv(ctx, prev, 5, y, sizeof y));
    EXPECT(r, memcmp(x, y, sizeof x) == 0);
    /* a bcast whose sizes differ between ranks fails below the first mismatch, never hangs */
    if (n > 1) {
        int rc = sj_spmd_bcast(ctx, 0, x, me == n - 1 ? sizeof x : 2 * sizeof(double));
        EXPECT(r, me == n - 1 ? rc == SJ_ESIZE : rc == SJ_OK);
    }
    /* nothing from oneself is waiting: an error, not a wait forever */
    EXPECT_ERR(r, sj_spmd_recv(ctx, me, 12, y, sizeof y), SJ_ESTATE);
    /* runs do not nest; collective calls over all ranks are refused inside */
    EXPECT_ERR(r, sj_spmd_run(ctx, nested_fn, NULL), SJ_ESTATE);
    sj_spmd_context_t other = NULL;
    EXPECT_ERR(r, sj_spmd_context_create(0, NULL, &other), SJ_ESTATE);
    EXPECT_OK(r, sj_spmd_barrier(ctx));
    return 0;
}

static int fail_on_last(sj_spmd_context_t ctx, void *arg)
{
    return sj_spmd_rank(ctx) == sj_spmd_size(ctx) - 1 ? 3 : 0;
}

/*
 * A function that returns early while the other ranks are still in
 * collectives: every rank's run says SJ_EUSER (the early rank's too), nobody
 * waits forever, and the context works again in the next run.
 */
typedef struct early {
    rec_t rec;
    int leaver;  /* context rank that returns before the collectives */
    int variant; /* 0: return 3; 1: return a starjets error; 2: oversized bcast */
} early_t;

static int early_fn(sj_spmd_context_t ctx, void *arg)
{
    early_t *e = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    double x[4] = {me, me, me, me}, all[4 * 4];
    if (me == e->leaver && e->variant == 0)
        return 3;
    if (me == e->leaver && e->variant == 1)
        return sj_spmd_send(ctx, -1, 0, x, sizeof x); /* SJ_ERANGE: a bad rank */
    size_t size = me == e->leaver && e->variant == 2 ? (size_t)1 << 62 : sizeof x;
    int rc = sj_spmd_bcast(ctx, 0, x, size);
    if (rc)
        return rc;
    return sj_spmd_gather(ctx, 0, x, me == 0 ? all : NULL, 4 * (size_t)n, sizeof(double));
}

static int check_fn(sj_spmd_context_t ctx, void *arg)
{
    rec_t *r = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    double v = me == n - 1 ? 42.0 : -1.0, all[4];
    EXPECT_OK(r, sj_spmd_barrier(ctx));
    EXPECT_OK(r, sj_spmd_bcast(ctx, n - 1, &v, sizeof v));
    EXPECT(r, v == 42.0);
    double mine = me;
    EXPECT_OK(r, sj_spmd_gather(ctx, 0, &mine, me == 0 ? all : NULL, (size_t)n, sizeof mine));
    for (int k = 0; me == 0 && k < n && k < 4; k++)
        EXPECT(r, all[k] == k);
    return 0;
}

static void test_early_return(void **state)
{
    (void)state;
    const int np = sj_nranks();
    if (np > 4)
        skip();
    sj_spmd_context_t ctx = NULL;
    SJ_ASSERT_OK(sj_spmd_context_create(0, NULL, &ctx));
    for (int variant = 0; variant < 3; variant++)
        for (int leaver = 0; leaver < np; leaver++) {
            if (np == 1 && variant == 0)
                continue; /* nobody to leave behind; the plain failure is tested elsewhere */
            early_t e = {{0}, leaver, variant};
            for (int pass = 0; pass < 2; pass++) {
                sj_spmd_context_t c = pass ? ctx : NULL;
                sj_clear_error();
                int rc = sj_spmd_run(c, early_fn, &e);
                assert_int_equal(rc, SJ_EUSER);
                const char *why = sj_last_error();
                if (sj_rank() == leaver && variant == 1) {
                    /* the function's own sentence, once, not overwritten */
                    assert_non_null(strstr(why, "its last error: sj_spmd_send"));
                    assert_null(strstr(strstr(why, "its last error") + 1, "its last error"));
                }
                rec_t r = {0};
                ASSERT_RUN(c, check_fn, &r, r.failures);
            }
        }
    SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx));
}

/* Collective calls inside a run: refused with SJ_ESTATE on the ranks that make them. */
typedef struct inside {
    rec_t r;
    sj_array_t x, y;
    sj_space_t space;
    sj_op_t B; /* 2 I composed with itself, on x's space */
} inside_t;

static int collective_inside_fn(sj_spmd_context_t ctx, void *arg)
{
    (void)ctx;
    inside_t *in = arg;
    double v = 0;
    sj_array_t y = NULL;
    sj_scalar_t s = NULL;
    EXPECT(&in->r, sj_array_dot(in->x, in->x, &v) == SJ_ESTATE);
    EXPECT(&in->r, strstr(sj_last_error(), "inside sj_spmd_run") != NULL);
    EXPECT(&in->r, sj_wait() == SJ_ESTATE);
    EXPECT(&in->r, sj_barrier() == SJ_ESTATE);
    EXPECT(&in->r, sj_array_fill(5.0, in->x) == SJ_ESTATE);
    EXPECT(&in->r, sj_array_scale(2.0, in->x) == SJ_ESTATE);
    EXPECT(&in->r, sj_array_sum(in->x, &v) == SJ_ESTATE);
    EXPECT(&in->r, sj_array_zeros(in->space, NULL, &y) == SJ_ESTATE && y == NULL);
    EXPECT(&in->r, sj_array_reduce_scalar(SJ_REDUCE_SUM, in->x, NULL, &s) == SJ_ESTATE && !s);
    EXPECT(&in->r, sj_op_apply(in->B, in->x, in->y) == SJ_ESTATE);
    EXPECT(&in->r, strstr(sj_last_error(), "sj_op_apply: called inside sj_spmd_run") != NULL);
    EXPECT(&in->r, sj_array_destroy(&in->y) == SJ_ESTATE && in->y != NULL);
    EXPECT(&in->r, sj_finalize() == SJ_ESTATE);
    EXPECT(&in->r, sj_spmd_run(NULL, collective_inside_fn, arg) == SJ_ESTATE);
    return 0;
}

static void test_collective_inside(void **state)
{
    (void)state;
    inside_t in = {{0}, NULL, NULL, NULL, NULL};
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){100}, (int[]){1}, &in.space));
    SJ_ASSERT_OK(sj_array_filled(in.space, NULL, 1.5, &in.x));
    SJ_ASSERT_OK(sj_array_zeros(in.space, NULL, &in.y));
    sj_op_t two = NULL;
    SJ_ASSERT_OK(sj_op_scaled_identity(in.space, sj_nranks() - 1, 2.0, &two));
    SJ_ASSERT_OK(sj_op_compose(two, two, &in.B));
    SJ_ASSERT_OK(sj_op_destroy(&two));
    sj_spmd_context_t sub = NULL;
    SJ_ASSERT_OK(sj_spmd_context_create(1, (int[]){0}, &sub)); /* rank 0 only */
    for (int pass = 0; pass < 2; pass++)
        ASSERT_RUN(pass ? sub : NULL, collective_inside_fn, &in, in.r.failures);
    /* Nothing was submitted, booked or cached: the array still holds 1.5, and every
     * call refused inside works after the run (graph reduction, apply through the
     * operator's temporaries, a new array whose tags match on every rank). */
    double sum = 0;
    SJ_ASSERT_OK(sj_array_sum(in.x, &sum));
    assert_true(sum == 150.0);
    sj_scalar_t s = NULL;
    SJ_ASSERT_OK(sj_array_reduce_scalar(SJ_REDUCE_SUM, in.x, NULL, &s));
    SJ_ASSERT_OK(sj_scalar_value(s, &sum));
    assert_true(sum == 150.0);
    SJ_ASSERT_OK(sj_op_apply(in.B, in.x, in.y));
    SJ_ASSERT_OK(sj_array_sum(in.y, &sum));
    assert_true(sum == 600.0);
    sj_array_t z = NULL;
    SJ_ASSERT_OK(sj_array_filled(in.space, NULL, 3.0, &z));
    double *all = malloc(100 * sizeof *all);
    SJ_ASSERT_OK(sj_array_allgather(z, all));
    for (int i = 0; i < 100; i++)
        assert_true(all[i] == 3.0);
    free(all);
    SJ_ASSERT_OK(sj_wait());
    SJ_ASSERT_OK(sj_scalar_destroy(&s));
    SJ_ASSERT_OK(sj_array_destroy(&z));
    SJ_ASSERT_OK(sj_op_destroy(&in.B));
    SJ_ASSERT_OK(sj_array_destroy(&in.y));
    SJ_ASSERT_OK(sj_spmd_context_destroy(&sub));
    SJ_ASSERT_OK(sj_array_destroy(&in.x));
    SJ_ASSERT_OK(sj_space_destroy(&in.space));
}

static void test_bad_input(void **state)
{
    rec_t r = {0};
    ASSERT_RUN(NULL, bad_fn, &r, r.failures);
    const int np = sj_nranks();
    sj_spmd_context_t ctx = NULL;
    /* NULL function */
    SJ_ASSERT_ERR(sj_spmd_run(NULL, NULL, NULL), SJ_ENULL);
    /* the function fails on one rank: every rank of the context says so */
    SJ_ASSERT_ERR(sj_spmd_run(NULL, fail_on_last, NULL), SJ_EUSER);
    /* messages outside a run */
    SJ_ASSERT_OK(sj_spmd_context_create(0, NULL, &ctx));
    double x = 1;
    SJ_ASSERT_ERR(sj_spmd_send(ctx, 0, 0, &x, sizeof x), SJ_ESTATE);
    SJ_ASSERT_ERR(sj_spmd_barrier(ctx), SJ_ESTATE);
    SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx));
    SJ_ASSERT_OK(sj_spmd_context_destroy(&ctx)); /* NULL: no-op */
    /* contexts: ranks out of range, twice, none */
    SJ_ASSERT_ERR(sj_spmd_context_create(1, (int[]){np}, &ctx), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_spmd_context_create(1, (int[]){-1}, &ctx), SJ_ERANGE);
    if (np > 1)
        SJ_ASSERT_ERR(sj_spmd_context_create(2, (int[]){0, 0}, &ctx), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_spmd_context_create(0, (int[]){0}, &ctx), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_spmd_context_create(np + 1, NULL, &ctx), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_spmd_context_create(0, NULL, NULL), SJ_ENULL);
    assert_null(ctx);
    SJ_ASSERT_ERR(sj_spmd_rank(NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_spmd_storage(NULL, "k", 4, &(void *){NULL}), SJ_ENULL);
}

/* A block owned by another rank cannot be sent from here. */
typedef struct foreign {
    rec_t rec;
    sj_array_t a;
} foreign_t;

static int foreign_fn(sj_spmd_context_t ctx, void *arg)
{
    foreign_t *f = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    EXPECT_ERR(&f->rec, sj_spmd_send_block(ctx, 0, 0, f->a, (me + 1) % n), SJ_EINVAL);
    EXPECT_ERR(&f->rec, sj_spmd_recv_block(ctx, 0, 0, f->a, n), SJ_ERANGE);
    return 0;
}

static void test_bad_blocks(void **state)
{
    const int np = sj_nranks();
    if (np == 1)
        skip();
    sj_space_t sp;
    SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){4 * np}, (int[]){np}, &sp));
    foreign_t f = {{0}, NULL};
    SJ_ASSERT_OK(sj_array_zeros(sp, NULL, &f.a));
    ASSERT_RUN(NULL, foreign_fn, &f, f.rec.failures);
    sj_array_destroy(&f.a);
    sj_space_destroy(&sp);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_foo_spmd),  cmocka_unit_test(test_ring_large),
        cmocka_unit_test(test_two_contexts),   cmocka_unit_test(test_subset),
        cmocka_unit_test(test_recv_any),       cmocka_unit_test(test_bcast),
        cmocka_unit_test(test_scatter_gather), cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_storage),        cmocka_unit_test(test_leftover),
        cmocka_unit_test(test_bad_input),      cmocka_unit_test(test_bad_blocks),
        cmocka_unit_test(test_early_return),   cmocka_unit_test(test_collective_inside),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "spmd");
}
