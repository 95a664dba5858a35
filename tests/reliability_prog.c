/*
 * The mistakes and accidents that tests/reliability_check.py provokes, one
 * per mode (argv[1]); each but "agree" must end the job within seconds with
 * the expected sentences:
 *
 *   agree      checking mode on, every rank makes the same calls (also ones
 *              with roots and blocks): exits 0 (no false alarm)
 *   diverge    checking mode on, the last rank calls sj_array_norm where
 *              the others call sj_array_dot
 *   root       checking mode on, the last rank gathers to another root
 *   stall      watchdog on (2 s): the last rank's block function never
 *              returns, every rank's sj_wait waits for it
 *   unchecked  watchdog on, no checking: the last rank skips a blocking dot
 *              and stays in its own code (a long sleep), the others wait in
 *              the dot: their watchdogs end the job
 *   imbalance  watchdog on (2 s): the last rank runs five 1 s tasks in a row
 *              while the others wait in sj_wait: not a hang (exits 0)
 *   kill       rank 1 kills itself (SIGKILL) in the middle of a loop of
 *              blocking dots; the others must not be left waiting
 *   farm       watchdog on (2 s): a task farm (sj_pmap) whose items never
 *              return on the last rank; every rank waits in the farm
 *   held       watchdog on (2 s): the last rank takes its block of x with
 *              sj_array_localpart_get, scales x and stays in its own code; the
 *              scaling of its block waits for the release, the others wait in
 *              sj_wait: its report says it holds an acquired block
 *   memory     watchdog on (2 s), StarPU's memory limit 16 MiB per rank, all
 *              of it taken by an array: stalled as in stall, every rank's
 *              report says it is out of memory (used and limit)
 *   stall_serialized, diverge_serialized
 *              stall and diverge in a program that started MPI itself at
 *              MPI_THREAD_SERIALIZED: the watchdog's thread and the check may
 *              not call MPI_Abort there, so each rank's process exits instead
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>
#include <starjets.h>

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != SJ_OK) {                                                                        \
            fprintf(stderr, "%s failed: %s\n", #call, sj_last_error());                            \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static int slow(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)out;
    (void)in;
    (void)ctx;
    if (blk->hi[0] == blk->gdims[0]) /* the last block */
        sleep(1);
    return 0;
}

static int stuck(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    (void)out;
    (void)in;
    (void)ctx;
    if (blk->hi[0] == blk->gdims[0]) /* the last block */
        for (;;)
            sleep(1000);
    return 0;
}

/* An item that never returns on the last rank (the others take 10 ms each). */
static int stuck_item(int64_t index, const void *in, void *out, void *ctx)
{
    (void)index;
    (void)in;
    (void)out;
    (void)ctx;
    if (sj_rank() == sj_nranks() - 1)
        for (;;)
            sleep(1000);
    nanosleep(&(struct timespec){0, 10000000}, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    const char *arg = argc > 1 ? argv[1] : "agree";
    const char *tail = strstr(arg, "_serialized");
    char mode[32];
    snprintf(mode, sizeof mode, "%.*s", tail ? (int)(tail - arg) : (int)strlen(arg), arg);
    if (tail) { /* the program starts MPI itself, below MPI_THREAD_MULTIPLE */
        int level = 0;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &level);
    }
    sj_init_options_t o;
    sj_init_options_default(&o);
    o.check_collectives =
        !strcmp(mode, "agree") || !strcmp(mode, "diverge") || !strcmp(mode, "root");
    if (!strcmp(mode, "stall") || !strcmp(mode, "unchecked") || !strcmp(mode, "imbalance") ||
        !strcmp(mode, "farm") || !strcmp(mode, "memory") || !strcmp(mode, "held"))
        o.watchdog = 2.0;
    if (!strcmp(mode, "memory"))
        setenv("STARPU_LIMIT_CPU_MEM", "16", 1); /* MiB per rank, read when StarPU starts */
    CHECK(sj_init(&argc, &argv, &o));
    const int me = sj_rank(), np = sj_nranks(), last = np - 1;
    sj_space_t s;
    CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){1000}, (int[]){np}, &s));
    sj_array_t x;
    CHECK(sj_array_ones(s, NULL, &x));
    double v = 0;
    double *buf = malloc(1000 * sizeof *buf);

    if (!strcmp(mode, "agree")) {
        for (int i = 0; i < 20; i++)
            CHECK(sj_array_dot(x, x, &v));
        CHECK(sj_array_gather(x, np - 1, buf));
        CHECK(sj_array_block_get(x, 0, 0, buf));
        CHECK(sj_array_norm(SJ_NORM_2, x, &v));
        CHECK(sj_wait());
        printf("agree: rank %d: %d calls checked, dot %g\n", me, 24, v);
    } else if (!strcmp(mode, "diverge")) {
        CHECK(sj_array_dot(x, x, &v));
        if (me == last)
            CHECK(sj_array_norm(SJ_NORM_2, x, &v)); /* the bug */
        else
            CHECK(sj_array_dot(x, x, &v));
    } else if (!strcmp(mode, "root")) {
        CHECK(sj_array_gather(x, me == last ? 1 % np : 0, buf));
    } else if (!strcmp(mode, "stall")) {
        CHECK(sj_array_map(0, NULL, x, stuck, NULL, 0));
        CHECK(sj_wait());
    } else if (!strcmp(mode, "memory")) {
        sj_space_t big; /* 16 MiB less 64 KiB per rank, beside x's few bytes */
        sj_array_t all;
        const int64_t n = (int64_t)np * (16 * 1024 - 64) * 1024 / 8;
        CHECK(sj_space_create(SJ_FLOAT64, 1, (int64_t[]){n}, (int[]){np}, &big));
        CHECK(sj_array_zeros(big, NULL, &all));
        CHECK(sj_array_map(0, NULL, x, stuck, NULL, 0));
        CHECK(sj_wait());
    } else if (!strcmp(mode, "unchecked")) {
        if (me == last)
            sleep(1000); /* the bug: the others are in a dot */
        else
            CHECK(sj_array_dot(x, x, &v));
        CHECK(sj_wait());
    } else if (!strcmp(mode, "held")) {
        if (me == last) {
            void *mine;
            CHECK(sj_array_localpart_get(x, last, &mine));
            CHECK(sj_array_scale(2.0, x)); /* its block's task waits for the release */
            sleep(1000);                   /* the bug: the release never comes */
        } else {
            CHECK(sj_array_scale(2.0, x));
        }
        CHECK(sj_wait());
    } else if (!strcmp(mode, "imbalance")) {
        for (int k = 0; k < 5; k++)
            CHECK(sj_array_map(0, NULL, x, slow, NULL, 0));
        CHECK(sj_wait());
        printf("imbalance: rank %d: done\n", me);
    } else if (!strcmp(mode, "kill")) {
        for (int i = 0; i < 1000000; i++) {
            if (me == 1 && i == 50)
                raise(SIGKILL);
            CHECK(sj_array_dot(x, x, &v));
        }
    } else if (!strcmp(mode, "farm")) {
        CHECK(sj_pmap(64, NULL, 0, NULL, 0, stuck_item, NULL, 0, NULL, NULL));
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    free(buf);
    CHECK(sj_array_destroy(&x));
    CHECK(sj_space_destroy(&s));
    CHECK(sj_finalize());
    if (tail)
        MPI_Finalize();
    return 0;
}
