/**
 * @file starjets/task.h
 * @brief Task farms (Distributed.jl's `pmap`, ipyparallel's load-balanced
 * view) and distributed loops with a reducer (`@distributed (+)`).
 *
 * Both calls are **collective** and **blocking**: every rank calls them with
 * the same arguments, and they return once the work is done everywhere. The
 * functions they run execute as StarPU tasks on the CPU workers of every rank
 * (the root's included), several at a time on each rank: they must be
 * thread-safe with respect to each other.
 *
 * sj_pmap() hands items out dynamically: the root gives batches of items to
 * the ranks that ask for work, each rank keeps a short queue of tasks per
 * worker and asks for more as its tasks finish. Results come back to the root
 * in input order (or stay where they were computed, with an output callback).
 *
 * sj_preduce() cuts a range of indices into a fixed number of parts that does
 * not depend on the number of ranks, folds each part in a task, and combines
 * the parts along a fixed pairwise tree: the result has the same bits on any
 * number of ranks.
 *
 * @defgroup task Task farms and distributed loops
 * @{
 */
#ifndef STARJETS_TASK_H
#define STARJETS_TASK_H

#include <stddef.h>
#include <stdint.h>

#include <starjets/array.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- task farm ---------------------------------------------------------- */

/**
 * The function a task farm applies to one item.
 *
 * Runs in a StarPU task on any rank; several calls run at once on a rank.
 * @param[in] index the item's number, 0 to n - 1
 * @param[in] in    the item's `in_size` input bytes (NULL when `in_size` is 0):
 *                  on the root `in + index * in_size` of the caller's buffer,
 *                  elsewhere a copy in a buffer 64-byte aligned at the first
 *                  item of its batch, so aligned as the item size allows
 *                  (8-byte items are 8-byte aligned, 13-byte items are not)
 * @param[out] out  room for the item's `out_size` result bytes (NULL when
 *                  `out_size` is 0), aligned in the same way
 * @param[in] ctx   the context of sj_pmap() (see there)
 * @return 0 on success; any other value marks the item as failed, and is
 *         recorded as its status (sj_pmap_options_t::item_status), except
 *         #SJ_PMAP_NOT_RUN, which is reserved: the item then fails with the
 *         status #SJ_PMAP_RETURNED_NOT_RUN, under the farm's on_error policy
 *         like any failure
 */
typedef int (*sj_item_fn_t)(int64_t index, const void *in, void *out, void *ctx);

/**
 * A progress report of a task farm, called on the root's application thread.
 * @param[in] done  items finished so far (succeeded or failed for good)
 * @param[in] total the number of items
 * @param[in] ctx   sj_pmap_options_t::progress_ctx
 */
typedef void (*sj_pmap_progress_fn_t)(int64_t done, int64_t total, void *ctx);

/**
 * Receives one result of a task farm on the rank that computed it, when the
 * results stay distributed (sj_pmap_options_t::output).
 *
 * Called on that rank's application thread (inside sj_pmap(), never
 * concurrently with itself), once per item that succeeded, in completion order.
 * @param[in] index the item's number
 * @param[in] out   its `out_size` result bytes, valid during the call only
 * @param[in] ctx   sj_pmap_options_t::output_ctx of this rank
 */
typedef void (*sj_pmap_output_fn_t)(int64_t index, const void *out, void *ctx);

/** What a task farm does when an item fails. */
typedef enum sj_pmap_on_error {
    /** Stop handing out items at the first failure; sj_pmap() returns SJ_EUSER. */
    SJ_PMAP_STOP = 0,
    /** Record the failure in the item's status and go on. */
    SJ_PMAP_SKIP = 1,
    /** Run a failed item again, up to sj_pmap_options_t::retries more times,
     *  on the same rank; record it as failed when every attempt failed. */
    SJ_PMAP_RETRY = 2,
} sj_pmap_on_error_t;

/** The status of an item that never ran (sj_pmap_options_t::item_status). */
#define SJ_PMAP_NOT_RUN INT32_MIN

/**
 * The status of an item whose function returned #SJ_PMAP_NOT_RUN, a value an
 * item function must not return: the item counts as failed (under
 * SJ_PMAP_STOP sj_pmap() returns SJ_EUSER with a sentence that says so).
 * Do not return this value from an item function either.
 */
#define SJ_PMAP_RETURNED_NOT_RUN (INT32_MIN + 1)

/** Options of sj_pmap(). Fill with sj_pmap_options_default() first. */
typedef struct sj_pmap_options {
    /** The rank that holds the inputs and receives the results. Default 0. */
    int root;
    /**
     * Items per hand-out to a rank. 0 (default): automatic, large while much
     * work remains and down to 1 item at the end (guided self-scheduling).
     * A fixed batch trades balance at the end for fewer messages.
     */
    int64_t batch;
    /** Failure policy. Default SJ_PMAP_STOP. */
    sj_pmap_on_error_t on_error;
    /** Extra attempts of a failed item under SJ_PMAP_RETRY (>= 0). Default 1. */
    int retries;
    /**
     * Tasks queued per StarPU worker on each rank (1 to 1024), one item per
     * task. 0 (default): automatic: 2 for items of 1 ms or more, more for
     * shorter ones (about 2 ms of work per worker), and items shorter than
     * 250 us run several to a task (about 0.5 ms of work), so that the
     * workers do not wait for the application thread.
     */
    int queue_per_worker;
    /** Called on the root at most every progress_interval seconds; may be NULL. */
    sj_pmap_progress_fn_t progress;
    /** Passed to progress. */
    void *progress_ctx;
    /** Seconds between two progress calls (>= 0). Default 1. */
    double progress_interval;
    /**
     * Keep the results distributed: when non-NULL, every rank hands its
     * results to this function instead of sending them to the root, and
     * `out` is not used (it may be NULL everywhere).
     */
    sj_pmap_output_fn_t output;
    /** Passed to output on each rank (each rank's own pointer). */
    void *output_ctx;
    /**
     * On the root: NULL or room for n ints, set to each item's status: 0 for
     * success, the value the item's last attempt returned when it failed,
     * #SJ_PMAP_NOT_RUN when it never ran (SJ_PMAP_STOP) or its result was
     * lost to a runtime failure (the call then returns that failure; the
     * item may have run), #SJ_PMAP_RETURNED_NOT_RUN when the item's function
     * returned the reserved #SJ_PMAP_NOT_RUN. Ignored elsewhere.
     */
    int *item_status;
    /**
     * NULL or room for sj_nranks() values, set on every rank that gives one
     * to the number of items each rank ran (failed ones included).
     */
    int64_t *rank_items;
} sj_pmap_options_t;

/** What a task farm did; the same on every rank except `seconds`. */
typedef struct sj_pmap_report {
    int64_t total;  /**< the number of items, n */
    int64_t done;   /**< items that ran to a final status (succeeded + failed) */
    int64_t failed; /**< items that failed (after their retries) */
    int64_t
        not_run; /**< items that never ran (after a stop), or whose result a runtime failure lost */
    int64_t retried;      /**< extra attempts made under SJ_PMAP_RETRY */
    int64_t first_failed; /**< the lowest index among the failed items, -1 when none */
    int first_error;      /**< what that item's last attempt returned, 0 when none */
    int64_t batches;      /**< hand-outs to ranks other than the root */
    double seconds;       /**< wall time of the call on this rank */
} sj_pmap_report_t;

/**
 * @brief Fill @p opts with the defaults (root 0, automatic batches, stop at
 * the first failure, 1 retry, progress every second, results to the root).
 *
 * Local. NULL is ignored.
 * @param[out] opts options to fill
 */
void sj_pmap_options_default(sj_pmap_options_t *opts);

/**
 * @brief Apply @p fn to @p n items with dynamic load balancing over the ranks
 * and their workers (Distributed.jl's `pmap`).
 *
 * Collective; blocking. @p fn runs in StarPU tasks, several at once on
 * each rank: it must be thread-safe and must not call starjets or MPI. The
 * inputs are read on the root only: item `i` is
 * the `in_size` bytes at `in + i * in_size`; its result lands at
 * `out + i * out_size` on the root, so the results are in input order
 * whatever rank computed them. Other ranks may pass NULL for @p in and
 * @p out. On the root @p in must not overlap @p out, and stays untouched until
 * the call returns (batches are sent straight from it). @p in_size,
 * @p out_size and whether `opts->output` is set must be the same on every
 * rank.
 *
 * How the work moves: the root hands out batches of consecutive items (and
 * their inputs) to the ranks that ask; each rank runs its items as StarPU
 * tasks, keeping about `queue_per_worker` tasks per worker queued, and asks
 * for the next batch before it runs out; it sends the results of a batch back
 * once the batch is finished. The root computes items too, taking from the
 * queue only as many as its workers can start at once. Where MPI runs below `MPI_THREAD_MULTIPLE`
 * (sj_mpi_thread_multiple() is 0), the ranks cannot exchange requests while tasks run: the items
 * are then dealt round-robin over the ranks up front (item `i` to rank `i % nranks`), balanced
 * dynamically only between each rank's workers, and a stop halts the failing rank only.
 *
 * @p ctx: when @p ctx_size > 0, each rank copies the @p ctx_size bytes at
 * @p ctx once and passes every item it runs a pointer to its copy; when
 * @p ctx_size is 0, @p ctx (which may be NULL) is passed as is. In both cases
 * every rank uses its own @p ctx and the items of a rank share it: read it,
 * or synchronise the writes.
 *
 * @param[in] n        number of items (>= 0)
 * @param[in] in       on the root: the inputs, n * in_size bytes; NULL when
 *                     in_size is 0
 * @param[in] in_size  bytes per input item (0: items have no input)
 * @param[out] out     on the root: room for n * out_size bytes of results,
 *                     unless opts->output is set; NULL when out_size is 0
 * @param[in] out_size bytes per result (0: items have no result)
 * @param[in] fn       the function applied to each item
 * @param[in] ctx      context for @p fn (see above)
 * @param[in] ctx_size bytes of @p ctx to copy (at most 1 MiB), or 0
 * @param[in] opts     options, or NULL for the defaults
 * @param[out] report  what happened, or NULL
 * @retval SJ_OK when every item ran, or, under SJ_PMAP_SKIP and
 *         SJ_PMAP_RETRY, when every item ran or failed for good (see the
 *         report and the item statuses)
 * @retval SJ_EUSER on every rank under SJ_PMAP_STOP when an item failed; the
 *         sentence names the lowest failed index and its return value
 * @retval SJ_ENULL @p fn NULL; on the root, @p in NULL with n > 0 and
 *         in_size > 0, or @p out NULL with n > 0, out_size > 0 and no
 *         output callback; @p ctx NULL with ctx_size > 0
 * @retval SJ_ESIZE n < 0; in_size 0 with @p in given, out_size 0 with @p out
 *         given (on the root); ctx_size over 1 MiB; n * size overflowing
 * @retval SJ_ERANGE opts->root outside [0, sj_nranks())
 * @retval SJ_EINVAL a bad option (batch < 0, retries < 0, unknown on_error,
 *         queue_per_worker < 0, progress_interval < 0 or not a number); @p n,
 *         @p in_size, @p out_size or whether opts->output is set differ
 *         between ranks
 * @retval SJ_ESTATE starjets is not running
 * @retval SJ_ENOMEM, SJ_ERUNTIME
 * A check that only the root can make (its @p in and @p out) fails on every
 * rank alike.
 */
int sj_pmap(int64_t n, const void *in, size_t in_size, void *out, size_t out_size, sj_item_fn_t fn,
            const void *ctx, size_t ctx_size, const sj_pmap_options_t *opts,
            sj_pmap_report_t *report);

/* ---- distributed loop with a reducer ------------------------------------ */

/**
 * Folds one index into an accumulator: `acc = acc (+) term(i)`.
 * @param[in,out] acc the part's accumulator (`acc_size` bytes, aligned for any type)
 * @param[in] i       the index
 * @param[in] ctx     the context of sj_preduce()
 * @return 0, or non-zero to fail the loop (sj_preduce() returns SJ_EUSER)
 */
typedef int (*sj_fold_fn_t)(void *acc, int64_t i, void *ctx);

/**
 * Combines two accumulators: `a = a (+) b`, where @p b holds the indices that
 * follow those of @p a. Need not be commutative.
 * @return 0, or non-zero to fail the loop (sj_preduce() returns SJ_EUSER)
 */
typedef int (*sj_combine_fn_t)(void *a, const void *b, void *ctx);

/** The number of parts sj_preduce() cuts a range of at least that many indices into. */
#define SJ_PREDUCE_PARTS 256

/**
 * @brief A distributed loop with a reducer (`@distributed (op) for i in lo:hi-1`).
 *
 * Collective; blocking. The result is on every rank.
 *
 * The half-open range [lo, hi) of `len = hi - lo` indices is cut into
 * `K = min(len, SJ_PREDUCE_PARTS)` parts: with `q = len / K`, `r = len % K`,
 * part `p` starts at `lo + p * q + min(p, r)` (the first r parts have one
 * index more). Each part starts from a copy of @p init and folds its indices
 * in increasing order with @p fold, in one task; the parts are dealt to the
 * ranks in contiguous runs and run on their workers. Every rank then gets all
 * K part results and combines them in place along the pairwise tree
 * `for (s = 1; s < K; s *= 2) for (p = 0; p + s < K; p += 2 * s) combine(part[p], part[p + s])`;
 * the result is part[0]. Neither the parts nor the order depend on the number
 * of ranks or workers: the same bits on 1 or 64 ranks.
 *
 * @p init must be the identity of @p combine (0 for a sum, +inf for a
 * minimum), since every part starts from it. @p ctx is handled as in
 * sj_pmap(): copied once per rank when @p ctx_size > 0, passed as is
 * otherwise; concurrent parts share it.
 *
 * @param[in] lo, hi    the range [lo, hi); hi == lo gives @p init
 * @param[in] acc_size  bytes of an accumulator (1 to 1 MiB)
 * @param[in] fold      `acc = acc (+) term(i)`
 * @param[in] combine   `a = a (+) b`
 * @param[in] init      the identity accumulator, @p acc_size bytes
 * @param[in] ctx       context of @p fold and @p combine
 * @param[in] ctx_size  bytes of @p ctx to copy (at most 1 MiB), or 0
 * @param[out] result   @p acc_size bytes, on every rank
 * @retval SJ_OK
 * @retval SJ_EUSER on every rank when @p fold or @p combine returned
 *         non-zero; the sentence gives the index (fold) or the parts
 *         (combine) and the value returned
 * @retval SJ_ENULL @p fold, @p combine, @p init or @p result NULL; @p ctx NULL
 *         with ctx_size > 0
 * @retval SJ_ERANGE hi < lo
 * @retval SJ_ESIZE acc_size 0 or over 1 MiB, ctx_size over 1 MiB
 * @retval SJ_ESTATE starjets is not running
 * @retval SJ_ENOMEM, SJ_ERUNTIME
 */
int sj_preduce(int64_t lo, int64_t hi, size_t acc_size, sj_fold_fn_t fold, sj_combine_fn_t combine,
               const void *init, const void *ctx, size_t ctx_size, void *result);

/** A term of sj_preduce_double(): the value of index @p i. */
typedef double (*sj_term_fn_t)(int64_t i, void *ctx);

/**
 * @brief `op` over `term(i)` for i in [lo, hi), on every rank: the built-in
 * reducers of sj_preduce() for doubles.
 *
 * Collective; blocking. Same parts and tree as sj_preduce(); SJ_REDUCE_SUM
 * adds in that order (so its bits do not depend on the number of ranks),
 * SJ_REDUCE_MIN and SJ_REDUCE_MAX give NaN when a term is NaN. An empty range
 * gives 0, +inf and -inf respectively.
 * @param[in] lo, hi the range [lo, hi) of indices
 * @param[in] op    SJ_REDUCE_SUM, SJ_REDUCE_MIN or SJ_REDUCE_MAX
 * @param[in] term  the value of each index
 * @param[in] ctx   context for @p term, handled as in sj_pmap(): copied
 *                  once per rank when @p ctx_size > 0, passed as is otherwise
 * @param[in] ctx_size bytes of @p ctx to copy (at most 1 MiB), or 0
 * @param[out] value the result, on every rank
 * @retval SJ_OK, SJ_ENULL (term or value NULL, ctx NULL with ctx_size > 0),
 *         SJ_ERANGE (hi < lo), SJ_EINVAL (another op), SJ_ESIZE (ctx_size
 *         over 1 MiB), SJ_ESTATE, SJ_ENOMEM, SJ_ERUNTIME
 */
int sj_preduce_double(int64_t lo, int64_t hi, sj_reduce_op_t op, sj_term_fn_t term, const void *ctx,
                      size_t ctx_size, double *value);

/* ---- agreement ---------------------------------------------------------- */

/**
 * @brief Combine one integer from every rank and give the result to every
 * rank (`MPI_Allreduce` of one `int64_t`): the way for all ranks to agree on a
 * count, a size or a flag (SJ_REDUCE_MIN of 0/1 flags: "all true";
 * SJ_REDUCE_MAX: "any true").
 *
 * Collective; blocking. Works at every MPI thread level that sj_init()
 * accepts (below MPI_THREAD_MULTIPLE a program may not call MPI itself
 * between sj_init() and sj_finalize(), so this is the call to use there).
 * Exact: the sum must fit in an `int64_t`.
 *
 * @param[in] op        SJ_REDUCE_SUM, SJ_REDUCE_MIN or SJ_REDUCE_MAX
 * @param[in,out] value this rank's value in; the combined value out, on every rank
 * Bad arguments on one rank fail the call on every rank (the ranks first
 * agree that every value is given and that all passed the same op: one
 * more small allreduce), rather than leaving the others waiting.
 *
 * @retval SJ_OK
 * @retval SJ_ENULL @p value NULL on this rank
 * @retval SJ_EINVAL another op; another rank's value or op bad; the ranks
 *         passed different ops
 * @retval SJ_ESTATE starjets not running, or called inside sj_spmd_run()
 * @retval SJ_ERUNTIME the messages failed
 */
int sj_allreduce_int64(sj_reduce_op_t op, int64_t *value);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_TASK_H */
