// sj-test: nprocs=2,3,4
/*
 * starjets on half of the ranks (sj_init_options_t.comm), while the other half
 * exchange their own messages on their own communicator; both halves finish.
 * The program owns MPI (MPI_Init_thread, MPI_Finalize) at MPI_THREAD_MULTIPLE,
 * or at MPI_THREAD_SERIALIZED with --serialized (tests/CMakeLists.txt runs
 * both). On the starjets half: ranks and sizes of the sub-communicator, an
 * array distributed from a buffer every rank computes, its dot product and an
 * axpy against serial loops, an all-gather, an SPMD ring; with
 * MPI_THREAD_MULTIPLE the program also uses its own communicator between
 * starjets calls. Bad communicators (MPI_COMM_NULL, an intercommunicator) are
 * refused with SJ_EINVAL on every rank. The verdict is agreed on
 * MPI_COMM_WORLD after sj_finalize.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s (last error: %s)\n", __FILE__, __LINE__, #cond,    \
                    sj_last_error());                                                              \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define N 1000

/* One step of the ring inside an SPMD run: pass a counter to the next rank. */
static int ring_fn(sj_spmd_context_t context, void *arg)
{
    int *count = arg;
    const int me = sj_spmd_rank(context), n = sj_spmd_size(context);
    if (n == 1)
        return 0;
    int got = 0;
    if (me == 0) {
        int rc = sj_spmd_send(context, 1, 5, count, sizeof *count);
        rc = rc ? rc : sj_spmd_recv(context, n - 1, 5, &got, sizeof got);
        *count = got;
        return rc;
    }
    int rc = sj_spmd_recv(context, me - 1, 5, &got, sizeof got);
    got++;
    return rc ? rc : sj_spmd_send(context, (me + 1) % n, 5, &got, sizeof got);
}

static void starjets_half(MPI_Comm half, int multiple)
{
    int hr = 0, hn = 0;
    MPI_Comm_rank(half, &hr);
    MPI_Comm_size(half, &hn);
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.comm = half;
    int rc = sj_init(NULL, NULL, &o);
    if (rc == SJ_ENOTSUP) { /* a stock StarPU-MPI (SJ_STARPU=system): refused, and why */
        EXPECT(strstr(sj_last_error(), "scripts/build-starpu") != NULL);
        if (hr == 0)
            printf("subcomm: this StarPU refuses a sub-communicator, as documented\n");
        return;
    }
    EXPECT(rc == SJ_OK);
    if (rc != SJ_OK)
        return;
    EXPECT(sj_rank() == hr && sj_nranks() == hn);

    double *buf = malloc(N * sizeof *buf), *all = malloc(N * sizeof *all);
    double serial_dot = 0;
    for (int i = 0; i < N; i++) {
        buf[i] = sin(0.01 * i) + 0.001 * i;
        serial_dot += buf[i] * buf[i];
    }
    sj_space_t s = NULL;
    sj_array_t x = NULL, y = NULL;
    EXPECT(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){N}, (int[]){7}, &s) == SJ_OK);
    EXPECT(sj_array_distribute(s, NULL, 0, buf, &x) == SJ_OK);
    EXPECT(sj_array_filled(s, NULL, 1.0, &y) == SJ_OK);
    double dot = 0;
    EXPECT(sj_array_dot(x, x, &dot) == SJ_OK);
    EXPECT(fabs(dot - serial_dot) <= 1e-12 * serial_dot);
    EXPECT(sj_array_axpy(2.0, x, y) == SJ_OK); /* y = 1 + 2 x */
    if (multiple) { /* the program's own collective on its communicator, starjets running */
        int one = 1, sum = 0;
        MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, half);
        EXPECT(sum == hn);
    }
    EXPECT(sj_array_allgather(y, all) == SJ_OK);
    for (int i = 0; i < N; i++)
        if (all[i] != 1.0 + 2.0 * buf[i]) {
            EXPECT(all[i] == 1.0 + 2.0 * buf[i]);
            break;
        }
    int count = 0;
    EXPECT(sj_spmd_run(NULL, ring_fn, &count) == SJ_OK);
    EXPECT(count == (hr == 0 ? hn - 1 : 0)); /* rank 0 gets the token back after n - 1 steps */
    EXPECT(sj_array_destroy(&x) == SJ_OK && sj_array_destroy(&y) == SJ_OK);
    EXPECT(sj_space_destroy(&s) == SJ_OK);
    EXPECT(sj_finalize() == SJ_OK);
    free(buf);
    free(all);
}

/* The other half: a ring of its own messages and a collective, many times over. */
static void host_half(MPI_Comm half)
{
    int hr = 0, hn = 0;
    MPI_Comm_rank(half, &hr);
    MPI_Comm_size(half, &hn);
    long token = 0;
    for (int round = 0; round < 200; round++) {
        if (hn > 1) {
            long got = 0;
            MPI_Sendrecv(&token, 1, MPI_LONG, (hr + 1) % hn, 9, &got, 1, MPI_LONG,
                         (hr + hn - 1) % hn, 9, half, MPI_STATUS_IGNORE);
            token = got + 1;
        }
        long sum = 0;
        MPI_Allreduce(&token, &sum, 1, MPI_LONG, MPI_SUM, half);
        EXPECT(sum == (long)hn * token);
    }
}

int main(int argc, char **argv)
{
    const int serialized = argc > 1 && strcmp(argv[1], "--serialized") == 0;
    int level = 0, wr = 0, wn = 0;
    MPI_Init_thread(&argc, &argv, serialized ? MPI_THREAD_SERIALIZED : MPI_THREAD_MULTIPLE, &level);
    MPI_Comm_rank(MPI_COMM_WORLD, &wr);
    MPI_Comm_size(MPI_COMM_WORLD, &wn);

    /* Bad communicators, refused the same way on every rank, MPI untouched. */
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.comm = MPI_COMM_NULL;
    EXPECT(sj_init(NULL, NULL, &o) == SJ_EINVAL && !sj_initialized());
    MPI_Comm half, inter;
    const int color = wr % 2;
    MPI_Comm_split(MPI_COMM_WORLD, color, wr, &half);
    MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, color ? 0 : 1, 77, &inter);
    o.comm = inter;
    EXPECT(sj_init(NULL, NULL, &o) == SJ_EINVAL && !sj_initialized());
    EXPECT(strstr(sj_last_error(), "intercommunicator") != NULL);
    MPI_Comm_free(&inter);

    if (color == 0)
        starjets_half(half, level >= MPI_THREAD_MULTIPLE);
    else
        host_half(half);
    MPI_Comm_free(&half);

    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (wr == 0)
        printf("subcomm (%s, %d ranks, starjets on %d): %s\n",
               serialized ? "MPI_THREAD_SERIALIZED" : "MPI_THREAD_MULTIPLE", wn, (wn + 1) / 2,
               total ? "FAILED" : "ok");
    MPI_Finalize();
    return total ? 1 : 0;
}
