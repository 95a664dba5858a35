/*
 * Collectives and byte moves between the application threads of the ranks,
 * at any MPI thread level: the one set that the algorithms use to agree on a
 * verdict, share sizes or broadcast a root's bytes.
 *
 * With MPI_THREAD_MULTIPLE they are direct non-blocking MPI calls waited on
 * quietly (sj__rt_wait_quietly: no spinning in MPI while a worker computes).
 * Below it only StarPU-MPI's thread may call MPI, so they travel as blocking
 * StarPU-MPI messages under one reserved tag; every rank makes them in the
 * same program order, so messages between two ranks always match in order.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <starpu_mpi.h>

#include "base/base.h"
#include "runtime/rt_private.h"

/* Above the tags the allocator books (tags.c stops below 2^62): no handle carries it. */
#define SJ__TAG_COLL ((int64_t)1 << 62)
/* StarPU vectors count elements in 32 bits: move large buffers in pieces. */
#define PIECE ((size_t)1 << 30)

#define IN_RUN_SENTENCE                                                                            \
    "called inside sj_spmd_run: only the context's ranks run its function and the workers are "    \
    "paused, so a call that submits tasks, waits for them or needs every rank cannot be made "     \
    "there (make it before or after the run)"

#define PAUSED_SENTENCE                                                                            \
    "starjets is paused (sj_pause): its workers run no task, so a call that submits tasks or "     \
    "waits for them cannot be made before sj_resume"

int sj__rt_refuse_in_run(void)
{
    return sj__error(SJ_ESTATE, "starjets", sj__rt.in_run ? IN_RUN_SENTENCE : PAUSED_SENTENCE);
}

int sj__rt_check_collective(const char *func)
{
    SJ_CHECK_FN(func, sj__rt.running, SJ_ESTATE, "starjets is not initialised (call sj_init)");
    SJ_CHECK_FN(func, !sj__rt.in_run, SJ_ESTATE, IN_RUN_SENTENCE);
    SJ_CHECK_FN(func, !sj__rt.paused, SJ_ESTATE, PAUSED_SENTENCE);
    sj__rt_collective_called(func);
    return SJ_OK;
}

int sj__rt_send(const void *buf, size_t size, int dest)
{
    SJ__RT_NOT_IN_RUN();
    for (size_t off = 0; off < size; off += PIECE) {
        size_t len = size - off < PIECE ? size - off : PIECE;
        starpu_data_handle_t h;
        starpu_vector_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)((const char *)buf + off),
                                    (uint32_t)len, 1);
        sj__wd_enter("a starjets collective (send)");
        int ret = starpu_mpi_send(h, dest, SJ__TAG_COLL, sj__rt.comm);
        sj__wd_leave();
        starpu_data_unregister(h);
        if (ret != 0)
            return sj__error(SJ_ERUNTIME, "starjets", "StarPU-MPI send to rank %d failed (%d)",
                             dest, ret);
    }
    return SJ_OK;
}

int sj__rt_recv(void *buf, size_t size, int src)
{
    SJ__RT_NOT_IN_RUN();
    for (size_t off = 0; off < size; off += PIECE) {
        size_t len = size - off < PIECE ? size - off : PIECE;
        starpu_data_handle_t h;
        MPI_Status st;
        starpu_vector_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)((char *)buf + off),
                                    (uint32_t)len, 1);
        sj__wd_enter("a starjets collective (receive)");
        int ret = starpu_mpi_recv(h, src, SJ__TAG_COLL, sj__rt.comm, &st);
        sj__wd_leave();
        starpu_data_unregister(h);
        if (ret != 0)
            return sj__error(SJ_ERUNTIME, "starjets", "StarPU-MPI receive from rank %d failed (%d)",
                             src, ret);
    }
    return SJ_OK;
}

int sj__rt_bcast(void *buf, size_t size, int root)
{
    SJ__RT_NOT_IN_RUN();
    if (sj__rt.nranks == 1 || size == 0)
        return SJ_OK;
    if (sj__rt.thread_multiple && size <= INT_MAX) {
        MPI_Request req;
        if (MPI_Ibcast(buf, (int)size, MPI_BYTE, root, sj__rt.comm, &req) != MPI_SUCCESS)
            return sj__error(SJ_ERUNTIME, "starjets", "MPI_Ibcast failed");
        return sj__rt_wait_quietly(&req, "MPI_Ibcast");
    }
    if (sj__rt.rank != root)
        return sj__rt_recv(buf, size, root);
    for (int r = 0; r < sj__rt.nranks; r++)
        if (r != root)
            SJ_TRY(sj__rt_send(buf, size, r));
    return SJ_OK;
}

int sj__rt_agree(int *flag, int root)
{
    return sj__rt_bcast(flag, sizeof *flag, root);
}

int sj__rt_allgatherv(const void *mine, void *all, const size_t sizes[])
{
    SJ__RT_NOT_IN_RUN();
    const int np = sj__rt.nranks, me = sj__rt.rank;
    size_t total = 0, offset = 0;
    for (int r = 0; r < np; r++) {
        if (r == me)
            offset = total;
        total += sizes[r];
    }
    if (sizes[me])
        memmove((char *)all + offset, mine, sizes[me]);
    if (np == 1)
        return SJ_OK;
    if (sj__rt.thread_multiple && total <= INT_MAX) {
        int *counts = malloc((size_t)np * sizeof *counts),
            *displs = malloc((size_t)np * sizeof *displs);
        int rc = SJ_OK;
        MPI_Request req;
        if (!counts || !displs) {
            rc = sj__error(SJ_ENOMEM, "starjets", "cannot allocate %d counts", np);
            goto out;
        }
        size_t d = 0;
        for (int r = 0; r < np; r++) {
            counts[r] = (int)sizes[r];
            displs[r] = (int)d;
            d += sizes[r];
        }
        if (MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_BYTE, all, counts, displs, MPI_BYTE, sj__rt.comm,
                            &req) != MPI_SUCCESS) {
            rc = sj__error(SJ_ERUNTIME, "starjets", "MPI_Iallgatherv failed");
            goto out;
        }
        rc = sj__rt_wait_quietly(&req, "MPI_Iallgatherv");
    out:
        free(counts);
        free(displs);
        return rc;
    }
    /* Gather on rank 0, then rank 0 sends the whole to every rank. */
    if (me != 0) {
        SJ_TRY(sj__rt_send(mine, sizes[me], 0));
        return sj__rt_recv(all, total, 0);
    }
    size_t d = sizes[0];
    for (int r = 1; r < np; r++) {
        SJ_TRY(sj__rt_recv((char *)all + d, sizes[r], r));
        d += sizes[r];
    }
    for (int r = 1; r < np; r++)
        SJ_TRY(sj__rt_send(all, total, r));
    return SJ_OK;
}

static int64_t combine(sj__rt_op_t op, int64_t a, int64_t b)
{
    switch (op) {
    case SJ__RT_MIN:
        return a < b ? a : b;
    case SJ__RT_MAX:
        return a > b ? a : b;
    default:
        return a + b;
    }
}

int sj__rt_allreduce_i64(int64_t *values, int n, sj__rt_op_t op)
{
    SJ__RT_NOT_IN_RUN();
    if (n < 0 || n > SJ__RT_ALLREDUCE_MAX)
        return sj__error(SJ_EINVAL, "starjets", "an allreduce of %d integers (at most %d)", n,
                         SJ__RT_ALLREDUCE_MAX);
    if (sj__rt.nranks == 1 || n == 0)
        return SJ_OK;
    if (sj__rt.thread_multiple) {
        MPI_Request req;
        MPI_Op mop = op == SJ__RT_MIN ? MPI_MIN : op == SJ__RT_MAX ? MPI_MAX : MPI_SUM;
        if (MPI_Iallreduce(MPI_IN_PLACE, values, n, MPI_INT64_T, mop, sj__rt.comm, &req) !=
            MPI_SUCCESS)
            return sj__error(SJ_ERUNTIME, "starjets", "MPI_Iallreduce failed");
        return sj__rt_wait_quietly(&req, "MPI_Iallreduce");
    }
    const size_t size = (size_t)n * sizeof *values;
    if (sj__rt.rank != 0) {
        SJ_TRY(sj__rt_send(values, size, 0));
        return sj__rt_recv(values, size, 0);
    }
    int64_t theirs[SJ__RT_ALLREDUCE_MAX];
    for (int r = 1; r < sj__rt.nranks; r++) { /* in rank order: the same result everywhere */
        SJ_TRY(sj__rt_recv(theirs, size, r));
        for (int i = 0; i < n; i++)
            values[i] = combine(op, values[i], theirs[i]);
    }
    for (int r = 1; r < sj__rt.nranks; r++)
        SJ_TRY(sj__rt_send(values, size, r));
    return SJ_OK;
}

int sj__rt_sum_ints(int *values, int n)
{
    int64_t v[SJ__RT_ALLREDUCE_MAX];
    for (int i = 0; i < n && i < SJ__RT_ALLREDUCE_MAX; i++)
        v[i] = values[i];
    SJ_TRY(sj__rt_allreduce_i64(v, n, SJ__RT_SUM));
    for (int i = 0; i < n; i++)
        values[i] = (int)v[i];
    return SJ_OK;
}

int sj__rt_sum_int(int value, int *sum)
{
    *sum = value;
    return sj__rt_sum_ints(sum, 1);
}

int sj__rt_agree_rc(const char *func, int rc, int code, const char *before, const char *after)
{
    int nbad = rc < 0;
    SJ_TRY(sj__named(sj__rt_sum_ints(&nbad, 1), func));
    if (rc < 0)
        return rc;
    if (nbad)
        return sj__error(code, func, "%s on %d other rank(s)%s", before, nbad, after);
    return SJ_OK;
}

int sj__rt_agree_alloc(const char *func, int (*alloc)(void *ctx), void *ctx, const char *before,
                       const char *after)
{
    int rc;
    int64_t nbad;
    SJ_TRY(sj__named(sj__rt_alloc_agreed(alloc, ctx, SJ__RT_SUM, 0, 1, &rc, &nbad), func));
    if (rc < 0)
        return rc;
    if (nbad)
        return sj__error(SJ_ENOMEM, func, "%s on %lld other rank(s)%s", before, (long long)nbad,
                         after);
    return SJ_OK;
}

int sj__rt_allgatherv_double(const double *send, int count, double *recv, const int counts[],
                             const int displs[])
{
    SJ__RT_NOT_IN_RUN();
    MPI_Request req;
    if (MPI_Iallgatherv(send, count, MPI_DOUBLE, recv, counts, displs, MPI_DOUBLE, sj__rt.comm,
                        &req) != MPI_SUCCESS)
        return sj__error(SJ_ERUNTIME, "starjets", "MPI_Iallgatherv failed");
    return sj__rt_wait_quietly(&req, "MPI_Iallgatherv");
}
