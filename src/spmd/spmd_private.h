/* Internal structures of SPMD contexts, shared by the files of src/spmd. */
#ifndef SJ_SPMD_PRIVATE_H
#define SJ_SPMD_PRIVATE_H

#include <stddef.h>

#include <starjets/spmd.h>

#include "base/base.h"
#include "runtime/rt_msg.h"

/* One key of a context's per-rank storage. */
typedef struct sj__store {
    struct sj__store *next;
    size_t size;
    void *ptr;
    char key[];
} sj__store_t;

struct sj_spmd_context_s {
    sj__object_t obj;
    sj__chan_t chan;
    int n, me; /* me: context rank, -1 when this rank is not in the context */
    sj__store_t *store;
    /* per context rank: the end-of-run mark it sent, received early by a
     * collective of this rank (0: none); see sj__spmd_agree() */
    int *agree;
};

/* Refuse collective calls over all ranks inside a run (only some ranks run it). */
int sj__spmd_check_not_in_run(const char *func);

/*
 * Checks of a messaging call: starjets running, @p ctx non-NULL, inside a
 * run, this rank a member.
 */
int sj__spmd_check(const char *func, sj_spmd_context_t ctx);

/* Largest message (bytes) and whether @p size fits, with a sentence. */
int sj__spmd_check_size(const char *func, const char *what, size_t size);

/*
 * Combine @p k ints over the context's ranks (binomial tree up, then down):
 * element i is summed when ops[i] == '+', the minimum when '<'. Every rank
 * gets the result.
 */
int sj__spmd_allreduce_ints(const char *func, sj_spmd_context_t ctx, int *v, int k,
                            const char *ops);

/*
 * The end of a run (coll.c): every member says whether its function failed;
 * all get the number of failures and the lowest failing context rank
 * (INT_MAX when none). The marks travel as flags of the COLL lane, which
 * collectives recognise: a collective that meets the mark of a rank that left
 * its function fails (SJ_EUSER) instead of waiting for data that will not
 * come, and keeps the mark for this agreement. The agreement drops the
 * collective data still addressed to this rank, and after a failed run the
 * members flush the lane, so that the next run starts clean.
 */
int sj__spmd_agree(const char *func, sj_spmd_context_t ctx, int failed, int *count, int *lowest);

#endif /* SJ_SPMD_PRIVATE_H */
