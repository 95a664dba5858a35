/**
 * @file starjets/error.h
 * @brief Error codes, their names and messages, and the last error's sentence.
 *
 * Every public starjets function returns `int`: `SJ_OK` (0) on success or a
 * negative `SJ_E...` code. A failed call also leaves a sentence that names the
 * function, the wrong argument and what was expected; read it with
 * sj_last_error(). The sentence is per thread and is replaced by the next error.
 *
 * @defgroup error Errors
 * @{
 */
#ifndef STARJETS_ERROR_H
#define STARJETS_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The one table of error codes: `XX(NAME, value, message)`.
 * It generates the enum below, sj_strerror() and sj_err_name().
 */
#define SJ_ERRNO_MAP(XX)                                                                           \
    XX(EINVAL, -1, "invalid argument")                                                             \
    XX(ENULL, -2, "NULL handle or pointer where one is required")                                  \
    XX(ERANGE, -3, "index, rank or root out of range")                                             \
    XX(ESIZE, -4, "size is zero, negative, too large or does not add up")                          \
    XX(EMISMATCH, -5, "objects do not match (spaces, layouts or element types)")                   \
    XX(ETYPE, -6, "unsupported element type")                                                      \
    XX(ENOMEM, -7, "out of memory")                                                                \
    XX(ESTATE, -8, "call not allowed in the library's current state")                              \
    XX(ERUNTIME, -9, "the StarPU or MPI runtime failed")                                           \
    XX(ENODEV, -10, "no usable worker or device")                                                  \
    XX(ENOTSUP, -11, "operation not supported for these arguments")                                \
    XX(EUSER, -12, "a user callback reported an error")                                            \
    XX(EHANDLE, -13, "not a live starjets handle of the expected kind")                            \
    XX(EIO, -14, "a file could not be created, written, read or renamed")                          \
    XX(EFORMAT, -15, "not a valid starjets array file (foreign, truncated or corrupted)")

/** Error codes. `SJ_OK` is 0; every error is negative. */
typedef enum sj_errno {
    SJ_OK = 0,
#define SJ__ERRNO_ENUM(name, value, msg) SJ_##name = (value),
    SJ_ERRNO_MAP(SJ__ERRNO_ENUM)
#undef SJ__ERRNO_ENUM
} sj_errno_t;

/**
 * @brief The message of an error code ("invalid argument").
 *
 * Local. Never returns NULL: unknown codes give "unknown error".
 * @param[in] code a value returned by a starjets function
 * @return a static string
 * @see sj_err_name, sj_last_error
 */
const char *sj_strerror(int code);

/**
 * @brief The name of an error code ("SJ_EINVAL").
 *
 * Local. Never returns NULL: unknown codes give "SJ_UNKNOWN".
 * @param[in] code a value returned by a starjets function
 * @return a static string
 */
const char *sj_err_name(int code);

/**
 * @brief The sentence left by the last failed starjets call on this thread.
 *
 * Local. Example: "sj_array_axpy: x and y have different spaces (x: 1-D 100 in 4
 * blocks, y: 1-D 100 in 5 blocks)". Empty string when no call has failed.
 * @return a thread-local string, valid until the next failing call on this thread
 */
const char *sj_last_error(void);

/**
 * @brief Where the last error of this thread was found, and the path it took up.
 *
 * Local. The trail starts at the source line that found the failure (the
 * argument check, the failed allocation, the runtime call), then names each
 * line inside the library that passed it up, innermost first, and ends with
 * the function the sentence of sj_last_error() names, in parentheses:
 * "src/op/block.c:83 <- src/op/block.c:171 <- src/op/block.c:238 (sj_op_block_create)".
 * Paths are relative to the repository's root. At most 16 lines are kept
 * (the origin and its nearest callers); "<- (3 more)" says how many were left
 * out. A new error starts a new trail; sj_clear_error() empties it. Meant for
 * bug reports and debugging: the lines change from one version to the next,
 * so do not parse them.
 * @return a thread-local string, "" when no call has failed; valid until the
 *         next starjets call on this thread
 * @see sj_last_error
 */
const char *sj_last_error_trace(void);

/**
 * @brief Forget the last error (sj_last_error() and sj_last_error_trace() then return "").
 *
 * Local.
 */
void sj_clear_error(void);

#ifdef __cplusplus
}
#endif
/** @} */
#endif /* STARJETS_ERROR_H */
