/*
 * Task farm: sj_pmap results against a serial map on the root for items whose
 * cost varies tenfold, with fixed and automatic batches, any root, inputs and
 * results of odd sizes; the three failure policies; results kept where they
 * were computed; progress reports; the threads of a farm (workers niced, the
 * serving thread kept on its rank's cores); bad input.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_* */
#include "sj_test.h"

#ifdef __linux__
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define NITEMS 96
#define IN_SIZE 12  /* a double and an int32, packed: inputs are not 8-byte aligned */
#define OUT_SIZE 20 /* two doubles and an int32 */

/* Cost of item i in units of busy work: 1 to 10. */
static int units_of(int64_t i)
{
    return 1 + (int)((i * 37) % 10);
}

static void make_inputs(unsigned char *in, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double x = 0.25 * (double)i - 3.0;
        int32_t u = units_of(i);
        memcpy(in + i * IN_SIZE, &x, sizeof x);
        memcpy(in + i * IN_SIZE + 8, &u, sizeof u);
    }
}

/* A deterministic result that needs u units of work (about 40 us each). */
static void compute(int64_t index, const unsigned char *in, unsigned char *out)
{
    double x;
    int32_t u;
    memcpy(&x, in, sizeof x);
    memcpy(&u, in + 8, sizeof u);
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)index;
    for (int64_t k = 0; k < (int64_t)u * 40000; k++)
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
    double y = x * x + (double)index, z = (double)(h >> 11) / 9007199254740992.0;
    int32_t w = (int32_t)(index * 3 + u);
    memcpy(out, &y, sizeof y);
    memcpy(out + 8, &z, sizeof z);
    memcpy(out + 16, &w, sizeof w);
}

/* What an item's context says: which items fail, and how. */
typedef struct item_ctx {
    int64_t fail_every; /* items i with i % fail_every == fail_rem fail (0: none) */
    int64_t fail_rem;
    int fail_rc_base; /* they return fail_rc_base + i (or fail_rc_base when fail_const) */
    int fail_const;
    int light; /* 1: one unit of work per item */
} item_ctx_t;

static int item_fn(int64_t index, const void *in, void *out, void *ctx)
{
    const item_ctx_t *c = ctx;
    if (c && c->fail_every && index % c->fail_every == c->fail_rem)
        return c->fail_const ? c->fail_rc_base : c->fail_rc_base + (int)index;
    if (c && c->light) {
        unsigned char one[IN_SIZE];
        memcpy(one, in, IN_SIZE);
        int32_t u = 1;
        memcpy(one + 8, &u, sizeof u);
        compute(index, one, out);
    } else {
        compute(index, in, out);
    }
    return 0;
}

static unsigned char *serial_map(const unsigned char *in, int64_t n, int light)
{
    unsigned char *ref = malloc((size_t)n * OUT_SIZE);
    item_ctx_t c = {.light = light};
    for (int64_t i = 0; i < n; i++)
        item_fn(i, in + i * IN_SIZE, ref + i * OUT_SIZE, &c);
    return ref;
}

static int64_t sum64(const int64_t *v, int n)
{
    int64_t s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return s;
}

/* Runs one farm of NITEMS uneven items with @p opts and checks it against the serial map. */
static void check_uneven(sj_pmap_options_t *opts)
{
    const int me = sj_rank(), np = sj_nranks(), root = opts->root;
    unsigned char *in = calloc(NITEMS, IN_SIZE), *out = calloc(NITEMS, OUT_SIZE);
    int status[NITEMS];
    int64_t *ranks = calloc((size_t)np, sizeof *ranks);
    make_inputs(in, NITEMS);
    opts->item_status = status;
    opts->rank_items = ranks;
    sj_pmap_report_t rep;
    item_ctx_t c = {0};
    SJ_ASSERT_OK(sj_pmap(NITEMS, me == root ? in : NULL, IN_SIZE, me == root ? out : NULL, OUT_SIZE,
                         item_fn, &c, sizeof c, opts, &rep));
    assert_int_equal(rep.total, NITEMS);
    assert_int_equal(rep.done, NITEMS);
    assert_int_equal(rep.failed, 0);
    assert_int_equal(rep.not_run, 0);
    assert_int_equal(rep.first_failed, -1);
    assert_int_equal(sum64(ranks, np), NITEMS);
    if (np == 1)
        assert_int_equal(rep.batches, 0);
    if (me == root) {
        unsigned char *ref = serial_map(in, NITEMS, 0);
        for (int64_t i = 0; i < NITEMS; i++) {
            assert_int_equal(status[i], 0);
            if (memcmp(out + i * OUT_SIZE, ref + i * OUT_SIZE, OUT_SIZE) != 0)
                fail_msg("item %lld differs from the serial map", (long long)i);
        }
        free(ref);
    }
    free(in);
    free(out);
    free(ranks);
}

static void test_uneven_default(void **state)
{
    (void)state;
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    check_uneven(&o);
}

static void test_uneven_batches_roots(void **state)
{
    (void)state;
    const int64_t batches[] = {1, 5, 1000};
    const int queues[] = {1, 3, 0};
    for (int k = 0; k < 3; k++) {
        sj_pmap_options_t o;
        sj_pmap_options_default(&o);
        o.batch = batches[k];
        o.queue_per_worker = queues[k];
        o.root = (k + 1) % sj_nranks();
        check_uneven(&o);
    }
}

/* The light items of the policy tests: the same results with one unit of work. */
static void check_light_outputs(const unsigned char *in, const unsigned char *out,
                                const int *status, int64_t n)
{
    unsigned char *ref = serial_map(in, n, 1);
    for (int64_t i = 0; i < n; i++)
        if (status[i] == 0 && memcmp(out + i * OUT_SIZE, ref + i * OUT_SIZE, OUT_SIZE) != 0)
            fail_msg("item %lld differs from the serial map", (long long)i);
    free(ref);
}

static void check_stop(int root, int64_t batch)
{
    const int me = sj_rank();
    const int64_t n = 200;
    unsigned char *in = calloc((size_t)n, IN_SIZE), *out = malloc((size_t)n * OUT_SIZE);
    int *status = calloc((size_t)n, sizeof *status);
    make_inputs(in, n);
    memset(out, 0xab, (size_t)n * OUT_SIZE); /* what items that never run must leave */
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.root = root;
    o.batch = batch;
    o.item_status = status;
    item_ctx_t c = {
        .fail_every = 1000, .fail_rem = 37, .fail_rc_base = 3, .fail_const = 1, .light = 1};
    sj_pmap_report_t rep;
    SJ_ASSERT_ERR(sj_pmap(n, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, &rep),
                  SJ_EUSER);
    assert_non_null(strstr(sj_last_error(), "item 37 failed"));
    assert_int_equal(rep.first_failed, 37);
    assert_int_equal(rep.first_error, 3);
    assert_int_equal(rep.failed, 1);
    assert_int_equal(rep.done + rep.not_run, n);
    if (me == root) {
        int64_t ok = 0, not_run = 0;
        for (int64_t i = 0; i < n; i++) {
            if (i == 37)
                assert_int_equal(status[i], 3);
            else if (status[i] == SJ_PMAP_NOT_RUN) {
                not_run++;
                for (int k = 0; k < OUT_SIZE; k++)
                    assert_int_equal(out[i * OUT_SIZE + k], 0xab);
            } else {
                assert_int_equal(status[i], 0);
                ok++;
            }
        }
        assert_int_equal(not_run, rep.not_run);
        assert_int_equal(ok + 1, rep.done);
        check_light_outputs(in, out, status, n);
    }
    free(in);
    free(out);
    free(status);
}

static void test_stop(void **state)
{
    (void)state;
    check_stop(0, 0);
    check_stop(sj_nranks() - 1, 4);
}

static void test_skip(void **state)
{
    (void)state;
    const int me = sj_rank(), np = sj_nranks();
    const int64_t n = 150;
    unsigned char *in = calloc((size_t)n, IN_SIZE), *out = calloc((size_t)n, OUT_SIZE);
    int *status = calloc((size_t)n, sizeof *status);
    int64_t *ranks = calloc((size_t)np, sizeof *ranks);
    make_inputs(in, n);
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.on_error = SJ_PMAP_SKIP;
    o.item_status = status;
    o.rank_items = ranks;
    item_ctx_t c = {.fail_every = 7, .fail_rem = 3, .fail_rc_base = 100, .light = 1};
    sj_pmap_report_t rep;
    SJ_ASSERT_OK(sj_pmap(n, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, &rep));
    int64_t nfail = 0;
    for (int64_t i = 0; i < n; i++)
        nfail += i % 7 == 3;
    assert_int_equal(rep.failed, nfail);
    assert_int_equal(rep.done, n);
    assert_int_equal(rep.not_run, 0);
    assert_int_equal(rep.first_failed, 3);
    assert_int_equal(rep.first_error, 103);
    assert_int_equal(sum64(ranks, np), n);
    if (me == 0) {
        for (int64_t i = 0; i < n; i++)
            assert_int_equal(status[i], i % 7 == 3 ? 100 + (int)i : 0);
        check_light_outputs(in, out, status, n);
    }
    free(in);
    free(out);
    free(status);
    free(ranks);
}

/* Item i fails its first (i % 3) attempts; the counters are per rank (retries stay on a rank). */
static int flaky_fn(int64_t index, const void *in, void *out, void *ctx)
{
    int *attempts = *(int *const *)ctx;
    int a = __atomic_fetch_add(&attempts[index], 1, __ATOMIC_RELAXED);
    if (a < index % 3)
        return 9;
    memcpy(out, &index, sizeof index);
    return 0;
}

static void check_retry(int retries)
{
    const int me = sj_rank();
    const int64_t n = 60;
    int *attempts = calloc((size_t)n, sizeof *attempts);
    int64_t *out = calloc((size_t)n, sizeof *out);
    int *status = calloc((size_t)n, sizeof *status);
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.on_error = SJ_PMAP_RETRY;
    o.retries = retries;
    o.item_status = status;
    sj_pmap_report_t rep;
    SJ_ASSERT_OK(
        sj_pmap(n, NULL, 0, out, sizeof *out, flaky_fn, &attempts, sizeof attempts, &o, &rep));
    int64_t retried = 0, failed = 0;
    for (int64_t i = 0; i < n; i++) {
        int needed = (int)(i % 3) + 1; /* attempts until success */
        retried += (needed - 1 < retries ? needed - 1 : retries);
        failed += needed > retries + 1;
    }
    assert_int_equal(rep.retried, retried);
    assert_int_equal(rep.failed, failed);
    assert_int_equal(rep.done, n);
    if (me == 0)
        for (int64_t i = 0; i < n; i++) {
            int ok = (int)(i % 3) + 1 <= retries + 1;
            assert_int_equal(status[i], ok ? 0 : 9);
            if (ok)
                assert_int_equal(out[i], i);
        }
    free(attempts);
    free(out);
    free(status);
}

static void test_retry(void **state)
{
    (void)state;
    check_retry(2); /* every item succeeds in the end */
    check_retry(1); /* items i % 3 == 2 fail twice: recorded as failed */
    check_retry(0);
}

/* Results kept where they were computed. */
typedef struct kept {
    int64_t *seen;
    unsigned char *values;
} kept_t;

static void keep_output(int64_t index, const void *out, void *ctx)
{
    kept_t *k = ctx;
    k->seen[index]++;
    memcpy(k->values + index * OUT_SIZE, out, OUT_SIZE);
}

static void test_output_kept(void **state)
{
    (void)state;
    const int me = sj_rank(), np = sj_nranks();
    const int64_t n = 80;
    unsigned char *in = calloc((size_t)n, IN_SIZE);
    kept_t k = {calloc((size_t)n, sizeof(int64_t)), calloc((size_t)n, OUT_SIZE)};
    int64_t *ranks = calloc((size_t)np, sizeof *ranks);
    make_inputs(in, n);
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.output = keep_output;
    o.output_ctx = &k;
    o.rank_items = ranks;
    item_ctx_t c = {.light = 1};
    SJ_ASSERT_OK(sj_pmap(n, in, IN_SIZE, NULL, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL));
    assert_int_equal(sum64(k.seen, (int)n), ranks[me]); /* this rank kept what it ran */
    unsigned char *ref = serial_map(in, n, 1);
    for (int64_t i = 0; i < n; i++)
        if (k.seen[i] && memcmp(k.values + i * OUT_SIZE, ref + i * OUT_SIZE, OUT_SIZE) != 0)
            fail_msg("kept result of item %lld differs from the serial map", (long long)i);
    if (sj_mpi_thread_multiple()) {
        int64_t *total = calloc((size_t)n, sizeof *total);
        assert_int_equal(MPI_Allreduce(k.seen, total, (int)n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD),
                         MPI_SUCCESS);
        for (int64_t i = 0; i < n; i++)
            assert_int_equal(total[i], 1); /* every item kept exactly once, somewhere */
        free(total);
    }
    free(ref);
    free(in);
    free(k.seen);
    free(k.values);
    free(ranks);
}

typedef struct progress_log {
    int calls;
    int64_t last, total;
    int backwards;
} progress_log_t;

static void log_progress(int64_t done, int64_t total, void *ctx)
{
    progress_log_t *p = ctx;
    p->backwards |= done < p->last;
    p->calls++;
    p->last = done;
    p->total = total;
}

static void test_progress(void **state)
{
    (void)state;
    progress_log_t log = {0};
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.progress = log_progress;
    o.progress_ctx = &log;
    o.progress_interval = 0.0;
    const int64_t n = 40;
    unsigned char *in = calloc((size_t)n, IN_SIZE), *out = calloc((size_t)n, OUT_SIZE);
    make_inputs(in, n);
    item_ctx_t c = {.light = 1};
    SJ_ASSERT_OK(sj_pmap(n, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL));
    if (sj_rank() == 0) {
        assert_true(log.calls >= 1);
        assert_false(log.backwards);
        assert_int_equal(log.last, n);
        assert_int_equal(log.total, n);
    } else {
        assert_int_equal(log.calls, 0); /* the root only */
    }
    /* A long interval: only the final report. */
    progress_log_t once = {0};
    o.progress_ctx = &once;
    o.progress_interval = 3600.0;
    SJ_ASSERT_OK(sj_pmap(n, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL));
    if (sj_rank() == 0) {
        assert_int_equal(once.calls, 1);
        assert_int_equal(once.last, n);
    }
    free(in);
    free(out);
}

#ifdef __linux__
/* What an item sees of the worker thread that runs it. */
typedef struct thread_seen {
    int32_t rank, nice, ncpus, cpu; /* cpu: the only one allowed, or -1 */
} thread_seen_t;

static int thread_fn(int64_t index, const void *in, void *out, void *ctx)
{
    (void)index;
    (void)in;
    (void)ctx;
    thread_seen_t t = {.rank = sj_rank(), .cpu = -1};
    errno = 0;
    t.nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    cpu_set_t set;
    if (errno != 0 || sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    t.ncpus = CPU_COUNT(&set);
    for (int c = 0; c < CPU_SETSIZE && t.ncpus == 1; c++)
        if (CPU_ISSET(c, &set))
            t.cpu = c;
    memcpy(out, &t, sizeof t);
    return 0;
}

/* The root's progress reports run on the thread that serves the farm: its cores then. */
static void affinity_progress(int64_t done, int64_t total, void *ctx)
{
    (void)done;
    (void)total;
    cpu_set_t *during = ctx;
    cpu_set_t now;
    if (sched_getaffinity(0, sizeof now, &now) == 0)
        CPU_OR(during, during, &now);
}

/*
 * Workers run at the niceness sj_init_options_t.worker_nice asks (the default
 * 0, or SJ_WORKER_NICE) above the application thread's (test_init_options
 * sets it); the thread that
 * serves a farm stays on its rank's cores while it does (where workers are
 * pinned to cores of their own) and gets its cores back after.
 */
static void test_threads(void **state)
{
    (void)state;
    const int64_t n = 8 * sj_ncpus();
    thread_seen_t *seen = calloc((size_t)n, sizeof *seen);
    assert_non_null(seen);
    cpu_set_t before, during, after;
    CPU_ZERO(&during);
    assert_int_equal(sched_getaffinity(0, sizeof before, &before), 0);
    errno = 0;
    const int app_nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    assert_int_equal(errno, 0);
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.progress = affinity_progress;
    o.progress_ctx = &during;
    o.progress_interval = 0.0;
    SJ_ASSERT_OK(sj_pmap(n, NULL, 0, seen, sizeof *seen, thread_fn, NULL, 0, &o, NULL));
    assert_int_equal(sched_getaffinity(0, sizeof after, &after), 0);
    assert_true(CPU_EQUAL(&before, &after));

    const char *env = getenv("SJ_WORKER_NICE");
    const int add = env ? atoi(env) : 0;
    const int want = app_nice + add < 19 ? app_nice + add : 19;
    if (sj_rank() == 0) {
        int pinned = 1;
        for (int64_t i = 0; i < n; i++) {
            assert_int_equal(seen[i].nice, want);
            if (seen[i].rank == 0) {
                pinned &= seen[i].ncpus == 1;
                if (seen[i].cpu >= 0) /* a pinned worker's core is one of the rank's */
                    assert_true(CPU_ISSET(seen[i].cpu, &during));
            }
        }
        cpu_set_t outside;
        CPU_XOR(&outside, &during, &before);
        CPU_AND(&outside, &outside, &during);
        assert_int_equal(CPU_COUNT(&outside), 0); /* never more cores than before */
        /* two ranks, each with pinned workers on cores of its own: confined */
        if (sj_nranks() == 2 && pinned && CPU_COUNT(&before) >= 2)
            assert_true(CPU_COUNT(&during) < CPU_COUNT(&before));
    }
    free(seen);
}
#endif

/*
 * Results the root has no memory for (SJ_TEST_FARM_NOMEM, read by the root's
 * farm): the call fails with SJ_ENOMEM on every rank, the lost items count as
 * not run and keep their `out` bytes, every other result is right, and the
 * next farm runs normally.
 */
static void test_lost_results(void **state)
{
    (void)state;
    const int me = sj_rank();
    const int64_t n = 120;
    unsigned char *in = calloc((size_t)n, IN_SIZE), *out = malloc((size_t)n * OUT_SIZE);
    int *status = malloc((size_t)n * sizeof *status);
    assert_true(in && out && status);
    make_inputs(in, n);
    memset(out, 0xab, (size_t)n * OUT_SIZE);
    memset(status, 0x5a, (size_t)n * sizeof *status); /* every entry must be written */
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.item_status = status;
    o.batch = 4;
    item_ctx_t c = {.light = 1};
    sj_pmap_report_t rep;
    setenv("SJ_TEST_FARM_NOMEM", "2", 1);
    sj_clear_error();
    const int rc = sj_pmap(n, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, &rep);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sj_last_error());
    unsetenv("SJ_TEST_FARM_NOMEM");
    if (sj_nranks() == 1) { /* no messages: nothing to lose */
        assert_int_equal(rc, SJ_OK);
    } else {
        assert_int_equal(rc, SJ_ENOMEM);
        assert_non_null(strstr(msg, me == 0 ? "no memory for a result" : "failure on rank 0"));
        assert_true(rep.not_run >= 4); /* a batch of 4 at least: the root stops at the first loss */
    }
    assert_int_equal(rep.done + rep.not_run, n);
    if (me == 0) {
        int64_t ran = 0;
        for (int64_t i = 0; i < n; i++) {
            if (status[i] == SJ_PMAP_NOT_RUN) {
                for (int k = 0; k < OUT_SIZE; k++)
                    assert_int_equal(out[i * OUT_SIZE + k], 0xab);
            } else {
                assert_int_equal(status[i], 0);
                ran++;
            }
        }
        assert_int_equal(ran, rep.done);
        check_light_outputs(in, out, status, n);
    }
    /* the next farm is whole */
    memset(status, 0x5a, (size_t)n * sizeof *status);
    SJ_ASSERT_OK(sj_pmap(n, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, &rep));
    assert_int_equal(rep.done, n);
    if (me == 0) {
        for (int64_t i = 0; i < n; i++)
            assert_int_equal(status[i], 0);
        check_light_outputs(in, out, status, n);
    }
    free(in);
    free(out);
    free(status);
}

/* Items without input or result, and empty farms. */
static int count_fn(int64_t index, const void *in, void *out, void *ctx)
{
    int64_t *sum = ctx;
    if (in || out)
        return 1; /* no bytes: no pointers */
    __atomic_fetch_add(sum, index, __ATOMIC_RELAXED);
    return 0;
}

static void test_no_io_and_empty(void **state)
{
    (void)state;
    const int np = sj_nranks();
    int64_t sum = 0, total = 0;
    int64_t *ranks = calloc((size_t)np, sizeof *ranks);
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);
    o.rank_items = ranks;
    sj_pmap_report_t rep;
    /* ctx_size 0: the pointer itself, this rank's own counter */
    SJ_ASSERT_OK(sj_pmap(1000, NULL, 0, NULL, 0, count_fn, &sum, 0, &o, &rep));
    assert_int_equal(rep.done, 1000);
    assert_int_equal(sum64(ranks, np), 1000);
    if (sj_mpi_thread_multiple()) {
        assert_int_equal(MPI_Allreduce(&sum, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD),
                         MPI_SUCCESS);
        assert_int_equal(total, 999 * 1000 / 2);
    }
    SJ_ASSERT_OK(sj_pmap(0, NULL, 8, NULL, 8, count_fn, &sum, 0, NULL, &rep));
    assert_int_equal(rep.total, 0);
    assert_int_equal(rep.done, 0);
    assert_int_equal(rep.first_failed, -1);
    free(ranks);
}

/* Item 5 returns the status reserved for items that never ran. */
static int reserved_fn(int64_t index, const void *in, void *out, void *ctx)
{
    (void)in, (void)out, (void)ctx;
    return index == 5 ? SJ_PMAP_NOT_RUN : 0;
}

/* That item fails under each policy; it is not taken for an item that did not run. */
static void test_reserved_status(void **state)
{
    (void)state;
    const int64_t n = 40;
    int status[40];
    const sj_pmap_on_error_t policies[] = {SJ_PMAP_STOP, SJ_PMAP_SKIP, SJ_PMAP_RETRY};
    for (int p = 0; p < 3; p++) {
        sj_pmap_options_t o;
        sj_pmap_options_default(&o);
        o.on_error = policies[p];
        o.retries = 2;
        o.item_status = status;
        sj_pmap_report_t rep;
        if (policies[p] == SJ_PMAP_STOP) {
            SJ_ASSERT_ERR(sj_pmap(n, NULL, 0, NULL, 0, reserved_fn, NULL, 0, &o, &rep), SJ_EUSER);
            assert_non_null(strstr(sj_last_error(), "sj_pmap: item 5 failed: fn returned "
                                                    "SJ_PMAP_NOT_RUN (INT32_MIN), a status "
                                                    "reserved for items that did not run"));
            assert_int_equal(rep.done + rep.not_run, n);
        } else {
            SJ_ASSERT_OK(sj_pmap(n, NULL, 0, NULL, 0, reserved_fn, NULL, 0, &o, &rep));
            assert_int_equal(rep.done, n);
            assert_int_equal(rep.not_run, 0);
        }
        assert_int_equal(rep.failed, 1);
        assert_int_equal(rep.first_failed, 5);
        assert_int_equal(rep.first_error, SJ_PMAP_RETURNED_NOT_RUN);
        assert_int_equal(rep.retried, policies[p] == SJ_PMAP_RETRY ? 2 : 0);
        if (sj_rank() == o.root)
            assert_int_equal(status[5], SJ_PMAP_RETURNED_NOT_RUN);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    const int me = sj_rank(), np = sj_nranks();
    unsigned char in[4 * IN_SIZE] = {0}, out[4 * OUT_SIZE];
    item_ctx_t c = {.light = 1};
    sj_pmap_options_t o;
    sj_pmap_options_default(&o);

    SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, NULL, &c, sizeof c, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_pmap(-1, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, NULL, NULL),
                  SJ_ESIZE);
    /* only the root's buffers count: the other ranks pass valid ones and fail too */
    SJ_ASSERT_ERR(
        sj_pmap(4, me == 0 ? NULL : in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, NULL, NULL),
        SJ_ENULL);
    SJ_ASSERT_ERR(
        sj_pmap(4, in, IN_SIZE, me == 0 ? NULL : out, OUT_SIZE, item_fn, &c, sizeof c, NULL, NULL),
        SJ_ENULL);
    SJ_ASSERT_ERR(
        sj_pmap(4, me == 0 ? in : NULL, 0, out, OUT_SIZE, item_fn, &c, sizeof c, NULL, NULL),
        SJ_ESIZE);
    SJ_ASSERT_ERR(
        sj_pmap(4, in, IN_SIZE, me == 0 ? out : NULL, 0, item_fn, &c, sizeof c, NULL, NULL),
        SJ_ESIZE);
    SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, NULL, 8, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, (size_t)2 << 20, NULL, NULL),
                  SJ_ESIZE);
    SJ_ASSERT_ERR(sj_pmap(INT64_MAX, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, NULL, NULL),
                  SJ_ESIZE);
    if (np > 1) {
        /* a call whose shape differs between ranks fails on every rank, not in a hang */
        const int last = me == np - 1;
        SJ_ASSERT_ERR(sj_pmap(4, in, last ? IN_SIZE - 4 : IN_SIZE, out, OUT_SIZE, item_fn, &c,
                              sizeof c, NULL, NULL),
                      SJ_EINVAL);
        assert_non_null(strstr(sj_last_error(), "differ between ranks"));
        SJ_ASSERT_ERR(
            sj_pmap(last ? 3 : 4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, NULL, NULL),
            SJ_EINVAL);
        sj_pmap_options_t kept;
        sj_pmap_options_default(&kept);
        kept.output = last ? keep_output : NULL; /* fails before any item runs */
        SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &kept, NULL),
                      SJ_EINVAL);
        /* and the next call is fine */
        SJ_ASSERT_OK(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, NULL, NULL));
    }

    const int roots[] = {-1, np};
    for (int k = 0; k < 2; k++) {
        o.root = roots[k];
        SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL),
                      SJ_ERANGE);
    }
    sj_pmap_options_default(&o);
    o.batch = -1;
    SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL),
                  SJ_EINVAL);
    sj_pmap_options_default(&o);
    o.retries = -1;
    SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL),
                  SJ_EINVAL);
    sj_pmap_options_default(&o);
    o.on_error = (sj_pmap_on_error_t)7;
    SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL),
                  SJ_EINVAL);
    sj_pmap_options_default(&o);
    o.queue_per_worker = -2;
    SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL),
                  SJ_EINVAL);
    sj_pmap_options_default(&o);
    o.progress_interval = -1.0;
    SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL),
                  SJ_EINVAL);
    o.progress_interval = NAN;
    SJ_ASSERT_ERR(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, &o, NULL),
                  SJ_EINVAL);

    /* the failed calls left nothing behind: a good call works */
    make_inputs(in, 4);
    SJ_ASSERT_OK(sj_pmap(4, in, IN_SIZE, out, OUT_SIZE, item_fn, &c, sizeof c, NULL, NULL));
    if (me == 0) {
        unsigned char *ref = serial_map(in, 4, 1);
        assert_memory_equal(out, ref, 4 * OUT_SIZE);
        free(ref);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uneven_default),
        cmocka_unit_test(test_uneven_batches_roots),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_skip),
        cmocka_unit_test(test_retry),
        cmocka_unit_test(test_output_kept),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_no_io_and_empty),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_lost_results),
        cmocka_unit_test(test_reserved_status),
#ifdef __linux__
        cmocka_unit_test(test_threads),
#endif
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "pmap");
}
