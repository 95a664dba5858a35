/*
 * The kernels of the task farm and the distributed loop, as seen by src/task:
 * their argument blocks (SJ__K_PMAP_ITEM, SJ__K_PREDUCE_PART). These tasks have no data
 * handles: they run on the rank that submits them, read and write the memory
 * their argument block points to, and leave their outcome in it.
 */
#ifndef SJ_KERNELS_TASK_H
#define SJ_KERNELS_TASK_H

#include <stdint.h>

#include <starjets/task.h>

/*
 * A run of items of sj_pmap(): item j < count has index index + j * stride,
 * input in + j * in_step (NULL when in_size is 0), output out + j * out_step
 * (NULL when out_size is 0). The task writes status[j] = fn(...), counts the
 * failures and times the run.
 */
typedef struct sj__item_args {
    sj_item_fn_t fn;
    void *ctx;
    int64_t index, stride, count;
    const unsigned char *in;
    size_t in_step, in_size;
    unsigned char *out;
    size_t out_step, out_size;
    int *status;
    int64_t failed;
    double seconds;
} sj__item_args_t;

/* One part of sj_preduce(): fold(acc, i, ctx) for i in [lo, hi), stopping at the first failure. */
typedef struct sj__part_args {
    sj_fold_fn_t fold;
    void *ctx;
    int64_t lo, hi;
    void *acc;
    int rc;             /* what fold returned at fail_index, 0 when every index folded */
    int64_t fail_index; /* the index fold failed on */
} sj__part_args_t;

#endif /* SJ_KERNELS_TASK_H */
