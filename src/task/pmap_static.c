/*
 * The static task farm of sj_pmap, below MPI_THREAD_MULTIPLE: the
 * application thread may not call MPI while StarPU-MPI's thread runs, so
 * requests cannot be served during the farm. Items are dealt round-robin up
 * front (item i to rank i % nranks) with StarPU-MPI messages; each rank
 * balances its share over its own workers; the root collects the statuses
 * and results at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "task/pmap_private.h"

/* The shortest wait for a task (the dynamic farm's shortest poll). */
#define WAIT_MIN 2e-5

static int64_t share(int64_t n, int np, int r)
{
    return n > r ? (n - 1 - r) / np + 1 : 0;
}

/* The share's statuses and results stay in its buffers until sent. */
void sj__farm_static_batch_done(sj__engine_t *e, sj__batch_t *b)
{
    (void)e;
    (void)b;
}

/* Root: deal the inputs of every other rank (item i goes to rank i % np). */
static int deal_inputs(sj__farm_t *f, unsigned char *pack)
{
    for (int r = 0; r < f->np; r++) {
        const int64_t cnt = share(f->n, f->np, r);
        if (r == f->me || cnt == 0 || f->in_size == 0)
            continue;
        for (int64_t j = 0; j < cnt; j++)
            memcpy(pack + (size_t)j * f->in_size, f->in + (size_t)(r + j * f->np) * f->in_size,
                   f->in_size);
        SJ_TRY(sj__rt_send(pack, (size_t)cnt * f->in_size, r));
    }
    return SJ_OK;
}

/* Root: collect the statuses and results of every other rank. */
static int collect_results(sj__farm_t *f, int *status, unsigned char *pack)
{
    for (int r = 0; r < f->np; r++) {
        const int64_t cnt = share(f->n, f->np, r);
        if (r == f->me || cnt == 0)
            continue;
        int64_t head[2] = {0, 0}; /* retried, runtime failure */
        SJ_TRY(sj__rt_recv(head, sizeof head, r));
        if (head[1] < 0)
            sj__farm_error(f, sj__error((int)head[1], "starjets", "a task could not be run there"),
                           r);
        SJ_TRY(sj__rt_recv(status, (size_t)cnt * sizeof *status, r));
        if (!f->o.output && f->out_size) {
            SJ_TRY(sj__rt_recv(pack, (size_t)cnt * f->out_size, r));
            sj__farm_copy_results(f, r, f->np, cnt, status, pack);
        }
        sj__farm_account(f, r, f->np, cnt, status, head[0], r);
        sj__farm_progress(f, f->sum.done, 0);
    }
    return SJ_OK;
}

/* Run this rank's share (items me, me + np, ...) on its workers. */
static void run_share(sj__farm_t *f, sj__batch_t *b)
{
    sj__engine_add(&f->e, b);
    const double wait =
        f->o.progress && f->o.progress_interval < 0.1 ? f->o.progress_interval : 0.1;
    while (!sj__engine_idle(&f->e)) {
        sj__engine_fill(&f->e);
        sj__engine_step(&f->e, wait > WAIT_MIN ? wait : WAIT_MIN);
        if (f->me == f->o.root)
            sj__farm_progress(f, b->final, 0); /* the root's own items until the others report */
    }
    sj__farm_error(f, f->e.error, f->me);
}

int sj__farm_run_static(sj__farm_t *f)
{
    const int root = f->o.root, me = f->me, np = f->np;
    const int64_t mine = share(f->n, np, me);
    const int64_t most = share(f->n, np, 0);
    const size_t item = f->in_size > f->out_size ? f->in_size : f->out_size;
    int *status = malloc((size_t)(me == root ? most : mine) * sizeof *status + 1);
    unsigned char *pack = me == root ? malloc((size_t)most * item + 1) : NULL;
    unsigned char *in = me != root ? malloc((size_t)mine * f->in_size + 1) : NULL;
    unsigned char *out = me != root || f->o.output ? malloc((size_t)mine * f->out_size + 1) : NULL;
    int bad = !status || (me == root && !pack) || (me != root && !in) ||
              ((me != root || f->o.output) && !out);
    int nbad = 0;
    int rc;
    SJ_TRY_GOTO(rc, sj__rt_sum_int(bad, &nbad), done);
    if (nbad) {
        rc = sj__error(SJ_ENOMEM, "starjets", "cannot allocate the shares of the farm");
        goto done;
    }
    SJ_TRY_GOTO(
        rc, me == root ? deal_inputs(f, pack) : sj__rt_recv(in, (size_t)mine * f->in_size, root),
        done);
    sj__batch_t b = {.start = me, .stride = np, .count = mine, .status = status};
    if (me == root) {
        b.in = f->in_size ? f->in + (size_t)me * f->in_size : NULL;
        b.in_step = (size_t)np * f->in_size;
        b.out = f->o.output ? out : f->out_size ? f->out + (size_t)me * f->out_size : NULL;
        b.out_step = f->o.output ? f->out_size : (size_t)np * f->out_size;
    } else {
        b.in = in;
        b.in_step = f->in_size;
        b.out = out;
        b.out_step = f->out_size;
    }
    if (mine > 0)
        run_share(f, &b);
    if (me == root) {
        sj__farm_account(f, me, np, mine, status, b.retried, me);
        rc = collect_results(f, status, pack);
        sj__farm_progress(f, f->sum.done, 1);
    } else if (mine > 0) {
        const int64_t head[2] = {b.retried, f->e.error};
        SJ_TRY_GOTO(rc, sj__rt_send(head, sizeof head, root), done);
        SJ_TRY_GOTO(rc, sj__rt_send(status, (size_t)mine * sizeof *status, root), done);
        if (!f->o.output)
            SJ_TRY_GOTO(rc, sj__rt_send(out, (size_t)mine * f->out_size, root), done);
    }
done:
    free(status);
    free(pack);
    free(in);
    free(out);
    return rc;
}
