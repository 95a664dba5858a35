// sj-test: nprocs=1,2,3
/*
 * SPMD messages in a program that initialised MPI at MPI_THREAD_SERIALIZED:
 * they go through StarPU-MPI (no direct MPI call from the application
 * thread). The ring of the DistributedArrays README (small and 64 KiB parts),
 * two contexts crossing, broadcast / scatter / gather from every root, a
 * message of the wrong size, receive from any rank refused, messages left
 * unreceived when a context is destroyed or forgotten (StarPU-MPI would stop
 * the program at shutdown if any stayed queued), spawn / fetch and
 * everywhere. Every rank checks what it holds; the counts are combined after
 * sj_finalize, when the program may call MPI again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d: %s:%d: expected %s (%s)\n", sj_rank(), __FILE__, __LINE__,   \
                    #cond, sj_last_error());                                                       \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* ---- the ring: after iteration k a rank holds the part of rank (me + k) mod n ---- */

typedef struct ring {
    size_t len;
    int iterations;
} ring_t;

static double part(int rank, size_t i)
{
    return (rank + 1) * 1000.0 + (double)(i % 1000);
}

static int ring_fn(sj_spmd_context_t ctx, void *arg)
{
    const ring_t *r = arg;
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    const int next = (me + 1) % n, prev = (me + n - 1) % n;
    const size_t bytes = r->len * sizeof(double);
    double *lp = malloc(bytes), *sum = calloc(r->len, sizeof(double));
    for (size_t i = 0; i < r->len; i++)
        lp[i] = part(me, i);
    for (int it = 0; it < r->iterations; it++) {
        EXPECT(sj_spmd_send(ctx, next, 0, lp, bytes) == SJ_OK);
        EXPECT(sj_spmd_send(ctx, prev, 0, lp, bytes) == SJ_OK);
        EXPECT(sj_spmd_recv(ctx, prev, 0, lp, bytes) == SJ_OK);
        EXPECT(sj_spmd_recv(ctx, next, 0, lp, bytes) == SJ_OK);
        EXPECT(sj_spmd_barrier(ctx) == SJ_OK);
        for (size_t i = 0; i < r->len; i++)
            sum[i] += lp[i] + lp[i];
    }
    size_t bad = 0;
    for (size_t i = 0; i < r->len; i++) {
        double ref = 0;
        for (int k = 1; k <= r->iterations; k++)
            ref += 2.0 * part((me + k) % n, i);
        bad += sum[i] != ref;
    }
    EXPECT(bad == 0);
    free(lp);
    free(sum);
    return 0;
}

/* ---- two contexts, sends in one order and receives in the other ------------------ */

typedef struct cross {
    sj_spmd_context_t a, b; /* b numbers the ranks backwards */
} cross_t;

static int cross_fn(sj_spmd_context_t run, void *arg)
{
    cross_t *c = arg;
    const int np = sj_nranks(), w = sj_rank();
    const int next = (w + 1) % np, prev = (w + np - 1) % np;
    int va = 1000 + w, vb = 2000 + w;
    EXPECT(sj_spmd_send(c->b, np - 1 - next, 3, &vb, sizeof vb) == SJ_OK);
    EXPECT(sj_spmd_send(c->a, next, 3, &va, sizeof va) == SJ_OK);
    int ga = 0, gb = 0;
    EXPECT(sj_spmd_recv(c->a, prev, 3, &ga, sizeof ga) == SJ_OK);
    EXPECT(sj_spmd_recv(c->b, np - 1 - prev, 3, &gb, sizeof gb) == SJ_OK);
    EXPECT(ga == 1000 + prev && gb == 2000 + prev);
    return 0;
}

/* ---- collectives and errors --------------------------------------------------------- */

static int coll_fn(sj_spmd_context_t ctx, void *arg)
{
    const int me = sj_spmd_rank(ctx), n = sj_spmd_size(ctx);
    for (int root = 0; root < n; root++) {
        double v[3] = {0, 0, 0};
        if (me == root)
            v[0] = root + 0.5, v[1] = -1, v[2] = 1e300;
        EXPECT(sj_spmd_bcast(ctx, root, v, sizeof v) == SJ_OK);
        EXPECT(v[0] == root + 0.5 && v[1] == -1 && v[2] == 1e300);
        int *whole = malloc((size_t)(2 * n) * sizeof *whole), mine[2] = {-1, -1};
        for (int i = 0; i < 2 * n; i++)
            whole[i] = 7 * i + root;
        EXPECT(sj_spmd_scatter(ctx, root, whole, mine, (size_t)(2 * n), sizeof(int)) == SJ_OK);
        EXPECT(mine[0] == 7 * (2 * me) + root && mine[1] == 7 * (2 * me + 1) + root);
        mine[0] = -mine[0];
        mine[1] = -mine[1];
        memset(whole, 0, (size_t)(2 * n) * sizeof *whole);
        EXPECT(sj_spmd_gather(ctx, root, mine, whole, (size_t)(2 * n), sizeof(int)) == SJ_OK);
        if (me == root)
            for (int i = 0; i < 2 * n; i++)
                EXPECT(whole[i] == -(7 * i + root));
        free(whole);
    }
    /* a NULL buffer on the root of a scatter fails every rank */
    int one = 0;
    EXPECT(sj_spmd_scatter(ctx, n - 1, NULL, &one, (size_t)n, sizeof one) == SJ_ENULL);
    /* a message of another size is dropped; the next one arrives */
    double x[2] = {1.5, 2.5}, y[2] = {0, 0};
    const int next = (me + 1) % n, prev = (me + n - 1) % n;
    EXPECT(sj_spmd_send(ctx, next, 9, x, sizeof x) == SJ_OK);
    EXPECT(sj_spmd_send(ctx, next, 9, x, sizeof x) == SJ_OK);
    EXPECT(sj_spmd_recv(ctx, prev, 9, y, sizeof x[0]) == SJ_ESIZE);
    EXPECT(sj_spmd_recv(ctx, prev, 9, y, sizeof y) == SJ_OK);
    EXPECT(y[0] == 1.5 && y[1] == 2.5);
    /* StarPU-MPI cannot receive from any source */
    int src = 0;
    EXPECT(sj_spmd_recv_any(ctx, 9, y, sizeof y, &src) == SJ_ENOTSUP);
    EXPECT(strstr(sj_last_error(), "MPI_THREAD_SERIALIZED") != NULL);
    /* and -1 is a rank out of range, not "any source" */
    EXPECT(sj_spmd_recv(ctx, -1, 9, y, sizeof y) == SJ_ERANGE);
    /* left unreceived: the context's destruction must clear it */
    EXPECT(sj_spmd_send(ctx, next, 11, x, sizeof x) == SJ_OK);
    return 0;
}

/* Storage kept between two runs of one context. */
static int storage_fn(sj_spmd_context_t ctx, void *arg)
{
    int *count = NULL;
    EXPECT(sj_spmd_storage(ctx, "runs", sizeof *count, (void **)&count) == SJ_OK);
    if (!count)
        return 1;
    EXPECT(*count == *(int *)arg);
    (*count)++;
    return 0;
}

/* ---- spawn and everywhere ------------------------------------------------------------- */

static int square_fn(const void *arg, size_t arg_size, void *out, size_t out_size)
{
    double v;
    memcpy(&v, arg, sizeof v);
    double r[2] = {v * v, (double)sj_rank()};
    memcpy(out, r, sizeof r);
    return 0;
}

static int set_flag(void *arg)
{
    *(int *)arg = 1;
    return 0;
}

int main(int argc, char **argv)
{
    int level = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &level);
    EXPECT(sj_init(&argc, &argv, NULL) == SJ_OK);
    EXPECT(sj_mpi_thread_multiple() == 0);
    const int me = sj_rank(), np = sj_nranks();

    ring_t small = {2, 4}, large = {8192, 2}; /* 16 B and 64 KiB parts */
    EXPECT(sj_spmd_run(NULL, ring_fn, &small) == SJ_OK);
    EXPECT(sj_spmd_run(NULL, ring_fn, &large) == SJ_OK);

    cross_t c;
    int *rev = malloc((size_t)np * sizeof *rev);
    for (int i = 0; i < np; i++)
        rev[i] = np - 1 - i;
    EXPECT(sj_spmd_context_create(0, NULL, &c.a) == SJ_OK);
    EXPECT(sj_spmd_context_create(np, rev, &c.b) == SJ_OK);
    EXPECT(sj_spmd_run(c.a, cross_fn, &c) == SJ_OK);
    EXPECT(sj_spmd_run(NULL, coll_fn, NULL) == SJ_OK);
    EXPECT(sj_spmd_run(c.b, coll_fn, NULL) == SJ_OK); /* leaves a message in b */
    EXPECT(sj_spmd_context_destroy(&c.a) == SJ_OK);
    EXPECT(sj_spmd_context_destroy(&c.b) == SJ_OK);
    free(rev);

    sj_spmd_context_t kept;
    EXPECT(sj_spmd_context_create(0, NULL, &kept) == SJ_OK);
    for (int run = 0; run < 2; run++)
        EXPECT(sj_spmd_run(kept, storage_fn, &run) == SJ_OK);
    /* forgotten with a message in it: sj_finalize destroys it */
    EXPECT(sj_spmd_run(kept, coll_fn, NULL) == SJ_OK);

    for (int r = 0; r < np; r++) {
        sj_future_t f;
        double v = 1.5 + r, out[2] = {0, -1};
        EXPECT(sj_spawn(r, square_fn, &v, sizeof v, sizeof out, &f) == SJ_OK);
        EXPECT(sj_future_fetch(f, np - 1, out) == SJ_OK);
        if (me == np - 1)
            EXPECT(out[0] == v * v && out[1] == r);
        EXPECT(sj_future_destroy(&f) == SJ_OK);
    }
    int flag = 0;
    EXPECT(sj_everywhere(set_flag, &flag) == SJ_OK && flag == 1);

    EXPECT(sj_finalize() == SJ_OK);
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0)
        printf("spmd_serialized: %d failure(s) over %d rank(s)\n", total, np);
    MPI_Finalize();
    return total ? 1 : 0;
}
