/*
 * The runtime side of the task farm and the distributed loop (rt_farm.h):
 * local tasks without data handles whose completions the application thread
 * collects, the farm's private message channel, and byte moves and
 * collectives that work at any MPI thread level.
 *
 * Why a channel of its own: StarPU-MPI keeps a wildcard receive posted on
 * starjets' communicator, which would take the farm's messages. The channel
 * duplicates that communicator for the length of one farm, so several farms
 * (and other users of the library's communicator) never see each other's
 * messages. It is used only at MPI_THREAD_MULTIPLE, from the application
 * thread, while StarPU-MPI's thread runs on its own communicator.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include <errno.h>
#include <limits.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starpu_mpi.h>

#include "base/base.h"
#include "runtime/rt_farm.h"
#include "runtime/rt_private.h"

/* ---- local tasks ---------------------------------------------------------- */

struct sj__pool_s {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int waiting;   /* the application thread sleeps on cond */
    int64_t *ring; /* cookies of finished tasks not yet returned */
    int64_t cap, head, count;
    int64_t pending; /* submitted, cookie not yet returned */
};

typedef struct pool_done {
    sj__pool_t pool;
    int64_t cookie;
} pool_done_t;

int sj__rt_cpu_workers(void)
{
    int n = (int)starpu_cpu_worker_get_count();
    return n > 0 ? n : 1;
}

int sj__pool_create(sj__pool_t *pool)
{
    sj__pool_t p = sj__calloc(1, sizeof *p);
    if (!p)
        return SJ_ENOMEM;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&p->lock, NULL);
    *pool = p;
    return SJ_OK;
}

/* StarPU's callback, on the worker that ran the task. */
static void pool_task_done(void *arg)
{
    sj__trace_task_done();
    pool_done_t *d = arg;
    sj__pool_t p = d->pool;
    pthread_mutex_lock(&p->lock);
    p->ring[(p->head + p->count) % p->cap] = d->cookie;
    p->count++;
    if (p->waiting)
        pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    free(d);
}

/* Room in the ring for every task in flight, so that a callback never lacks a slot. */
static int pool_reserve(sj__pool_t p, int64_t need)
{
    if (need <= p->cap)
        return SJ_OK;
    int64_t cap = p->cap ? 2 * p->cap : 64;
    while (cap < need)
        cap *= 2;
    int64_t *ring = malloc((size_t)cap * sizeof *ring);
    if (!ring)
        return sj__error(SJ_ENOMEM, "starjets", "cannot allocate a task ring of %lld entries",
                         (long long)cap);
    for (int64_t i = 0; i < p->count; i++)
        ring[i] = p->ring[(p->head + i) % p->cap];
    free(p->ring);
    p->ring = ring;
    p->cap = cap;
    p->head = 0;
    return SJ_OK;
}

int sj__pool_submit(sj__pool_t pool, sj__kernel_t kernel, void *args, int64_t cookie)
{
    SJ__RT_NOT_IN_RUN();
    pool_done_t *d = malloc(sizeof *d);
    if (!d)
        return sj__error(SJ_ENOMEM, "starjets", "cannot allocate a task record");
    d->pool = pool;
    d->cookie = cookie;
    pthread_mutex_lock(&pool->lock);
    int rc = pool_reserve(pool, pool->pending + 1);
    if (rc == SJ_OK)
        pool->pending++;
    pthread_mutex_unlock(&pool->lock);
    if (rc < 0) {
        free(d);
        return rc;
    }
    struct starpu_task *task = starpu_task_create();
    task->cl = sj__codelet(kernel);
    task->nbuffers = 0;
    task->cl_arg = args;
    task->cl_arg_free = 0;
    task->callback_func = pool_task_done;
    task->callback_arg = d;
    task->detach = 1;
    task->destroy = 1;
    int ret = starpu_task_submit(task);
    if (ret != 0) {
        task->callback_func = NULL; /* never ran: nothing will call back */
        starpu_task_destroy(task);
        free(d);
        pthread_mutex_lock(&pool->lock);
        pool->pending--;
        pthread_mutex_unlock(&pool->lock);
        return sj__error(SJ_ERUNTIME, "starjets", "task submission failed (%d)", ret);
    }
    sj__registry_submitted(kernel);
    if (sj__rt.synchronous)
        starpu_task_wait_for_all();
    return SJ_OK;
}

int sj__pool_wait(sj__pool_t pool, int64_t *cookies, int max, double timeout)
{
    pthread_mutex_lock(&pool->lock);
    if (pool->count == 0 && timeout > 0 && pool->pending > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long long ns = (long long)ts.tv_nsec + (long long)(timeout * 1e9);
        ts.tv_sec += (time_t)(ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
        pool->waiting = 1;
        while (pool->count == 0) {
            if (pthread_cond_timedwait(&pool->cond, &pool->lock, &ts) == ETIMEDOUT)
                break;
        }
        pool->waiting = 0;
    } else if (pool->count == 0 && timeout > 0) {
        /* Nothing in flight can wake us: just let the time pass. */
        pthread_mutex_unlock(&pool->lock);
        struct timespec ts = {(time_t)timeout, (long)((timeout - (double)(time_t)timeout) * 1e9)};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&pool->lock);
    }
    int n = 0;
    while (n < max && pool->count > 0) {
        cookies[n++] = pool->ring[pool->head];
        pool->head = (pool->head + 1) % pool->cap;
        pool->count--;
        pool->pending--;
    }
    pthread_mutex_unlock(&pool->lock);
    return n;
}

void sj__farm_watch_begin(const char *what)
{
    sj__wd_enter(what);
}

void sj__farm_watch_end(void)
{
    sj__wd_leave();
}

int64_t sj__pool_pending(sj__pool_t pool)
{
    pthread_mutex_lock(&pool->lock);
    int64_t n = pool->pending;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

void sj__pool_destroy(sj__pool_t *pool)
{
    if (!pool || !*pool)
        return;
    sj__pool_t p = *pool;
    int64_t cookies[64];
    while (sj__pool_pending(p) > 0)
        sj__pool_wait(p, cookies, 64, 0.01);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->ring);
    free(p);
    *pool = NULL;
}

/*
 * Linux lets a sleeping thread oversleep by its timer slack (50 us by
 * default), which would stretch the farm's shortest polls (25 us) to 75 us: the
 * application thread asks for 1 us while a farm runs and gets its own value
 * back afterwards.
 */
long sj__farm_timer_slack(long ns)
{
#ifdef __linux__
    long old = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    if (ns > 0 && old > 0)
        prctl(PR_SET_TIMERSLACK, (unsigned long)ns, 0, 0, 0);
    return old;
#else
    (void)ns;
    return -1;
#endif
}

void *sj__farm_confine(void)
{
#ifdef __linux__
    const void *workers = sj__rt_worker_cpus();
    if (!workers)
        return NULL;
    /* only where the thread may run already (a program may have confined it itself) */
    cpu_set_t *old = malloc(sizeof *old);
    if (!old || !sj__rt_confine_thread(workers, old)) {
        free(old);
        return NULL;
    }
    return old;
#else
    return NULL;
#endif
}

void sj__farm_unconfine(void *token)
{
#ifdef __linux__
    if (token)
        pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t), token);
#endif
    free(token);
}

/* ---- the channel ----------------------------------------------------------- */

#define CHAN_TAG 7
#define CHAN_DATA_TAG 8
#define CHAN_INLINE 64

/*
 * The buffer cache of sj__farm_chan_buf(): freed buffers wait for the next message
 * of their size, the most recent first, up to BUF_KEEP of them and
 * BUF_KEEP_BYTES in all (the oldest go back to the system first).
 */
#define BUF_KEEP 16
#define BUF_KEEP_BYTES ((size_t)64 << 20)
#define BUF_HEAD 64 /* keeps the data 64-byte aligned */

typedef struct buf_head {
    size_t cap;
    struct buf_head *next;
} buf_head_t;

static pthread_mutex_t buf_lock = PTHREAD_MUTEX_INITIALIZER;
static buf_head_t *buf_kept;
static size_t buf_kept_bytes;
static int buf_kept_count;

void *sj__farm_chan_buf(size_t size)
{
    pthread_mutex_lock(&buf_lock);
    /* the smallest kept buffer that fits, if it is not much too large */
    buf_head_t **best = NULL;
    for (buf_head_t **p = &buf_kept; *p; p = &(*p)->next)
        if ((*p)->cap >= size && (*p)->cap / 2 <= size + 4096 &&
            (!best || (*p)->cap < (*best)->cap))
            best = p;
    buf_head_t *h = NULL;
    if (best) {
        h = *best;
        *best = h->next;
        buf_kept_bytes -= h->cap;
        buf_kept_count--;
    }
    pthread_mutex_unlock(&buf_lock);
    if (!h) {
        void *mem = NULL;
        if (size > SIZE_MAX - BUF_HEAD || posix_memalign(&mem, 64, BUF_HEAD + size) != 0)
            return NULL;
        h = mem;
        h->cap = size;
    }
    return (unsigned char *)h + BUF_HEAD;
}

void sj__farm_chan_buf_free(void *buf)
{
    if (!buf)
        return;
    buf_head_t *h = (buf_head_t *)(void *)((unsigned char *)buf - BUF_HEAD);
    if (h->cap > BUF_KEEP_BYTES) {
        free(h);
        return;
    }
    pthread_mutex_lock(&buf_lock);
    h->next = buf_kept;
    buf_kept = h;
    buf_kept_bytes += h->cap;
    buf_kept_count++;
    /* over the limits: drop the oldest */
    buf_head_t *drop = NULL;
    if (buf_kept_count > BUF_KEEP || buf_kept_bytes > BUF_KEEP_BYTES) {
        size_t bytes = 0;
        int count = 0;
        for (buf_head_t **p = &buf_kept; *p; p = &(*p)->next) {
            if (count == BUF_KEEP || bytes + (*p)->cap > BUF_KEEP_BYTES) {
                drop = *p;
                *p = NULL;
                break;
            }
            bytes += (*p)->cap;
            count++;
        }
        buf_kept_bytes = bytes;
        buf_kept_count = count;
    }
    pthread_mutex_unlock(&buf_lock);
    while (drop) {
        buf_head_t *next = drop->next;
        free(drop);
        drop = next;
    }
}

static void buf_fini(void)
{
    pthread_mutex_lock(&buf_lock);
    buf_head_t *h = buf_kept;
    buf_kept = NULL;
    buf_kept_bytes = 0;
    buf_kept_count = 0;
    pthread_mutex_unlock(&buf_lock);
    while (h) {
        buf_head_t *next = h->next;
        free(h);
        h = next;
    }
}

/* A send in flight; records are allocated one by one, so inline copies never move. */
typedef struct chan_send {
    MPI_Request req;
    void *buf; /* from sj__farm_chan_buf, the inline copy, or the caller's data */
    int owned; /* buf is from sj__farm_chan_buf */
    struct chan_send *next;
    unsigned char small[CHAN_INLINE];
} chan_send_t;

struct sj__farm_chan_s {
    MPI_Comm comm;
    chan_send_t *sends;
};

/*
 * The communicator of the last farm that ended cleanly (every message
 * received, on every rank alike), kept for the next one: duplicating a
 * communicator is a collective that costs a good part of a millisecond.
 */
static MPI_Comm spare = MPI_COMM_NULL;

void sj__farm_fini(void)
{
    if (spare != MPI_COMM_NULL)
        MPI_Comm_free(&spare);
    buf_fini();
}

int sj__farm_chan_open(sj__farm_chan_t *chan)
{
    sj__farm_chan_t c = sj__calloc(1, sizeof *c);
    if (!c)
        return SJ_ENOMEM;
    if (spare != MPI_COMM_NULL) {
        c->comm = spare;
        spare = MPI_COMM_NULL;
        *chan = c;
        return SJ_OK;
    }
    MPI_Request req;
    if (MPI_Comm_idup(sj__rt.comm, &c->comm, &req) != MPI_SUCCESS ||
        sj__rt_wait_quietly(&req, "MPI_Comm_idup") < 0) {
        free(c);
        return sj__error(SJ_ERUNTIME, "starjets", "MPI_Comm_idup failed");
    }
    /* Errors come back as codes, so that a failure is reported, not fatal. */
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    *chan = c;
    return SJ_OK;
}

static void send_free(chan_send_t *s)
{
    if (s->owned)
        sj__farm_chan_buf_free(s->buf);
    free(s);
}

/* Retire the sends that completed. */
static int chan_progress(sj__farm_chan_t c)
{
    chan_send_t **p = &c->sends;
    while (*p) {
        int done = 0;
        if (MPI_Test(&(*p)->req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return sj__error(SJ_ERUNTIME, "starjets", "MPI_Test of a farm message failed");
        if (done) {
            chan_send_t *s = *p;
            *p = s->next;
            send_free(s);
        } else {
            p = &(*p)->next;
        }
    }
    return SJ_OK;
}

/*
 * Send @p buf with @p tag. SEND_OWNED: a buffer of sj__farm_chan_buf, freed once
 * sent (or on failure); SEND_COPY: copied, at most CHAN_INLINE bytes;
 * SEND_REF: the caller's memory, valid until the channel closes.
 */
enum { SEND_OWNED, SEND_COPY, SEND_REF };

static int chan_isend(sj__farm_chan_t c, int dest, int tag, void *buf, size_t size, int how)
{
    if (size > INT_MAX) {
        if (how == SEND_OWNED)
            sj__farm_chan_buf_free(buf);
        return sj__error(SJ_ESIZE, "starjets", "a farm message of %zu bytes is too large", size);
    }
    chan_send_t *s = malloc(sizeof *s);
    if (!s) {
        /* No record to keep a request in: send synchronously. */
        int ok = MPI_Send(buf, (int)size, MPI_BYTE, dest, tag, c->comm) == MPI_SUCCESS;
        if (how == SEND_OWNED)
            sj__farm_chan_buf_free(buf);
        return ok ? SJ_OK : sj__error(SJ_ERUNTIME, "starjets", "MPI_Send of a farm message failed");
    }
    s->owned = how == SEND_OWNED;
    if (how == SEND_COPY) {
        memcpy(s->small, buf, size);
        s->buf = s->small;
    } else {
        s->buf = buf;
    }
    if (MPI_Isend(s->buf, (int)size, MPI_BYTE, dest, tag, c->comm, &s->req) != MPI_SUCCESS) {
        send_free(s);
        return sj__error(SJ_ERUNTIME, "starjets", "MPI_Isend of a farm message failed");
    }
    s->next = c->sends;
    c->sends = s;
    return SJ_OK;
}

int sj__farm_chan_send(sj__farm_chan_t chan, int dest, void *buf, size_t size)
{
    return chan_isend(chan, dest, CHAN_TAG, buf, size, SEND_OWNED);
}

int sj__farm_chan_send_small(sj__farm_chan_t chan, int dest, const void *buf, size_t size)
{
    if (size > CHAN_INLINE)
        return sj__error(SJ_ESIZE, "starjets", "a small farm message has %zu bytes", size);
    return chan_isend(chan, dest, CHAN_TAG, (void *)buf, size, SEND_COPY);
}

int sj__farm_chan_send_data(sj__farm_chan_t chan, int dest, const void *buf, size_t size)
{
    return chan_isend(chan, dest, CHAN_DATA_TAG, (void *)buf, size, SEND_REF);
}

int sj__farm_chan_send_data_buf(sj__farm_chan_t chan, int dest, void *buf, size_t size)
{
    return chan_isend(chan, dest, CHAN_DATA_TAG, buf, size, SEND_OWNED);
}

int sj__farm_chan_probe(sj__farm_chan_t chan, int src, int *from, size_t *size)
{
    SJ_TRY(chan_progress(chan));
    int flag = 0, count = 0;
    MPI_Status st;
    if (MPI_Iprobe(src < 0 ? MPI_ANY_SOURCE : src, CHAN_TAG, chan->comm, &flag, &st) != MPI_SUCCESS)
        return sj__error(SJ_ERUNTIME, "starjets", "MPI_Iprobe failed");
    if (!flag)
        return 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    *from = st.MPI_SOURCE;
    *size = (size_t)count;
    return 1;
}

int sj__farm_chan_recv(sj__farm_chan_t chan, int from, void *buf, size_t size)
{
    int rc = MPI_Recv(buf, (int)size, MPI_BYTE, from, CHAN_TAG, chan->comm, MPI_STATUS_IGNORE);
    return rc == MPI_SUCCESS
               ? SJ_OK
               : sj__error(SJ_ERUNTIME, "starjets", "MPI_Recv of a farm message failed");
}

int sj__farm_chan_recv_data(sj__farm_chan_t chan, int from, void *buf, size_t size)
{
    if (size > INT_MAX)
        return sj__error(SJ_ESIZE, "starjets", "farm data of %zu bytes are too large", size);
    int rc = MPI_Recv(buf, (int)size, MPI_BYTE, from, CHAN_DATA_TAG, chan->comm, MPI_STATUS_IGNORE);
    return rc == MPI_SUCCESS ? SJ_OK
                             : sj__error(SJ_ERUNTIME, "starjets", "MPI_Recv of farm data failed");
}

/* Take the next message from @p from with @p tag and throw it away. */
static int chan_drop(sj__farm_chan_t chan, int from, int tag)
{
    char none;
    /* a receive of nothing takes the message and reports its truncation */
    int rc = MPI_Recv(&none, 0, MPI_BYTE, from, tag, chan->comm, MPI_STATUS_IGNORE);
    int cls = MPI_SUCCESS;
    if (rc != MPI_SUCCESS)
        MPI_Error_class(rc, &cls);
    return cls == MPI_SUCCESS || cls == MPI_ERR_TRUNCATE
               ? SJ_OK
               : sj__error(SJ_ERUNTIME, "starjets", "MPI_Recv of a farm message failed");
}

int sj__farm_chan_drop(sj__farm_chan_t chan, int from)
{
    return chan_drop(chan, from, CHAN_TAG);
}

int sj__farm_chan_drop_data(sj__farm_chan_t chan, int from)
{
    return chan_drop(chan, from, CHAN_DATA_TAG);
}

void sj__farm_chan_close(sj__farm_chan_t *chan, int clean)
{
    if (!chan || !*chan)
        return;
    sj__farm_chan_t c = *chan;
    while (c->sends) {
        chan_send_t *s = c->sends;
        c->sends = s->next;
        MPI_Wait(&s->req, MPI_STATUS_IGNORE);
        send_free(s);
    }
    if (clean && spare == MPI_COMM_NULL)
        spare = c->comm;
    else
        MPI_Comm_free(&c->comm);
    free(c);
    *chan = NULL;
}
