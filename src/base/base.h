/*
 * Internal base layer: error reporting, argument checks and the registry of
 * live objects. No StarPU, no MPI.
 */
#ifndef SJ_BASE_H
#define SJ_BASE_H

#include <stddef.h>
#include <stdint.h>

#include <starjets/error.h>

/*
 * Error trail. A failure is recorded once, where it is found (sj__error, an
 * SJ_CHECK or sj__calloc): that sets the sentence sj_last_error() returns and
 * starts the thread's trail at the origin's file and line. Each SJ_TRY,
 * SJ_TRY_GOTO and sj__named/sj__error_rename that passes the failure up adds
 * its own file and line, so sj_last_error_trace() names the path without
 * threading function names through the callees. Frames cost nothing until a
 * call fails: they are two stores on the error path.
 */

/*
 * Record the sentence "<func>: <message>" as the last error of this thread,
 * start the trail at @p file:@p line and return @p code.
 */
int sj__error_at(const char *file, int line, int code, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define sj__error(code, func, ...) sj__error_at(__FILE__, __LINE__, (code), (func), __VA_ARGS__)

/* Add @p file:@p line to this thread's trail (bounded) and return @p code. */
int sj__error_frame(const char *file, int line, int code);

/* Re-attribute the last error to public function @p func, keeping its reason and trail. */
int sj__error_rename_at(const char *file, int line, int code, const char *func);
#define sj__error_rename(code, func) sj__error_rename_at(__FILE__, __LINE__, (code), (func))

/* @p rc, with a failure re-attributed to public function @p func. */
static inline int sj__named_at(const char *file, int line, int rc, const char *func)
{
    return rc < 0 ? sj__error_rename_at(file, line, rc, func) : rc;
}
#define sj__named(rc, func) sj__named_at(__FILE__, __LINE__, (rc), (func))

/* Validate a public argument: on failure return a clear error naming the function. */
#define SJ_CHECK(cond, code, ...)                                                                  \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return sj__error((code), __func__, __VA_ARGS__);                                       \
    } while (0)

/* The same, for helpers that check on behalf of the public function @p func. */
#define SJ_CHECK_FN(func, cond, code, ...)                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return sj__error((code), (func), __VA_ARGS__);                                         \
    } while (0)

#define SJ_CHECK_NULL(p) SJ_CHECK((p) != NULL, SJ_ENULL, "argument '%s' is NULL", #p)

/* Propagate an error from a callee: its sentence stays, this line joins the trail. */
#define SJ_TRY(expr)                                                                               \
    do {                                                                                           \
        int sj__rc_ = (expr);                                                                      \
        if (sj__rc_ < 0)                                                                           \
            return sj__error_frame(__FILE__, __LINE__, sj__rc_);                                   \
    } while (0)

/*
 * The same for a function with a cleanup label: @p rc = @p expr and, on
 * failure, this line joins the trail and control goes to @p label.
 */
#define SJ_TRY_GOTO(rc, expr, label)                                                               \
    do {                                                                                           \
        if (((rc) = (expr)) < 0) {                                                                 \
            sj__error_frame(__FILE__, __LINE__, (rc));                                             \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

/*
 * Start of part k when n items are cut into m nearly equal parts, the first
 * n % m parts one longer (DistributedArrays' convention).
 */
static inline int64_t sj__split_lo(int64_t k, int64_t n, int64_t m)
{
    const int64_t q = n / m, r = n % m;
    return k * q + (k < r ? k : r);
}

/* ---- registry of live objects, for sj_finalize()'s report ------------- */

typedef enum sj__kind {
    SJ__KIND_OP = 0, /* first: operators hold arrays' spaces and layouts */
    SJ__KIND_ARRAY,
    SJ__KIND_SCALAR,
    SJ__KIND_DIST,
    SJ__KIND_SPACE,
    SJ__KIND_SPMD_CONTEXT,
    SJ__KIND_FUTURE,
    SJ__NKINDS
} sj__kind_t;

typedef struct sj__object sj__object_t;

/*
 * Header of every public object. `refs` counts the user's reference (while
 * `user_holds`) plus one per object built on it. `release_user` drops the
 * user's reference as the public destroy function would.
 */
struct sj__object {
    sj__object_t *prev, *next;
    sj__kind_t kind;
    int refs;
    int user_holds;
    void (*release_user)(sj__object_t *obj);
};

/*
 * List @p obj and make its address known to the handle checks. SJ_ENOMEM (no
 * sentence recorded, nothing listed) when the set of live addresses cannot
 * grow: the constructor must then fail, since a handle that no check finds
 * would be refused by every later call.
 */
int sj__object_add(sj__object_t *obj, sj__kind_t kind, void (*release_user)(sj__object_t *));
void sj__object_remove(sj__object_t *obj);

/*
 * Handle checks. Every registered object's address is also in a hash set, so
 * that a public function can tell, without reading through the pointer, whether
 * a handle it was given is a live object of the kind it expects. The memory of
 * a removed object goes through sj__object_free, which keeps the last
 * SJ__QUARANTINE of them allocated before freeing: a handle kept after its
 * destroy cannot meet a new object at the same address until that many objects
 * were destroyed after it.
 *
 * sj__check_handle returns SJ_OK, or records and returns:
 *   SJ_ENULL   @p handle is NULL;
 *   SJ_EHANDLE @p handle is not a live object (destroyed, never created, not a
 *              starjets handle), or one of another kind.
 * An object the user destroyed but others still use (a space under a live
 * array) stays live: handles borrowed from queries (sj_array_space) are
 * valid as long as the object is.
 * @p name is the parameter's name in the sentence. Thread-safe (a mutex).
 */
#define SJ__QUARANTINE 1024
void sj__object_free(void *obj);
/* A handle that is not in the registry's lists (an internal temporary the
 * user may still be given, such as sj_spmd_run's context of sj_everywhere)
 * made known to the checks, and forgotten again (no-op if unknown). */
int sj__object_track(sj__object_t *obj, sj__kind_t kind); /* SJ_OK or SJ_ENOMEM */
void sj__object_untrack(sj__object_t *obj);
/* Non-zero when @p handle is a live object of @p kind (records nothing). */
int sj__handle_live(const void *handle, sj__kind_t kind);
int sj__check_handle(const char *func, const char *name, const void *handle, sj__kind_t kind);
/* Tests only: after @p after more growths of the set of live addresses, fail the
 * next @p count (0: stop failing). */
void sj__object_fault_inject(long after, long count);
/* Free the quarantine (sj_finalize, after every object was released). */
void sj__object_flush(void);
#define SJ_CHECK_HANDLE(h, kind)                                                                   \
    do {                                                                                           \
        SJ_CHECK_NULL(h);                                                                          \
        SJ_TRY(sj__check_handle(__func__, #h, (h), (kind)));                                       \
    } while (0)

/*
 * Release every object the user still holds, kind by kind (arrays and scalars
 * before the layouts and spaces they use); counts[k] receives how many of kind
 * k were forgotten.
 */
void sj__object_release_all(int counts[SJ__NKINDS]);
/* Live objects of every kind (walks the registry: for sj_stats_get only). */
int64_t sj__object_count(void);

const char *sj__kind_name(sj__kind_t kind, int plural);

/* calloc that records SJ_ENOMEM with a sentence (and the caller's line) on failure. */
void *sj__calloc_at(const char *file, int line, size_t n, size_t size);
#define sj__calloc(n, size) sj__calloc_at(__FILE__, __LINE__, (n), (size))

#endif /* SJ_BASE_H */
