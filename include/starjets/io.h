/**
 * @file starjets/io.h
 * @brief Checkpoint and restart: save a distributed array to a file and load
 * it back on any number of ranks, with any layout and any blocking.
 *
 * The file is self-describing (element type, shape, a label and up to
 * SJ_FILE_META_MAX bytes of the caller's metadata) and holds the elements in
 * global column-major order from byte SJ_FILE_DATA_OFFSET on, so that NumPy
 * reads it with
 * `np.fromfile(f, dtype, offset=8192, count=n).reshape(shape, order='F')`.
 * A table of checksums (one per MiB of data) follows the data. Every rank
 * writes and reads its own blocks with collective MPI-IO; a save replaces the
 * previous file atomically once every rank's data are durable.
 * docs/reliability.md describes the format and the restart recipe.
 *
 * @defgroup io Checkpoint and restart
 * @{
 */
#ifndef STARJETS_IO_H
#define STARJETS_IO_H

#include <stddef.h>
#include <stdint.h>

#include <starjets/array.h>
#include <starjets/space.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest label a file holds, in bytes (without the terminating NUL). */
#define SJ_FILE_LABEL_MAX 255
/** Largest user metadata blob a file holds, in bytes. */
#define SJ_FILE_META_MAX 4096
/** Byte offset of the first element in a file (the header's size). */
#define SJ_FILE_DATA_OFFSET 8192

/** What a file's header says (sj_array_file_info(), sj_array_load()). */
typedef struct sj_file_info {
    sj_dtype_t dtype;                     /**< element type */
    int ndims;                            /**< 1 to 3 */
    int64_t dims[SJ_MAX_DIMS];            /**< global shape; 1 for unused dimensions */
    char label[SJ_FILE_LABEL_MAX + 1];    /**< the label given to sj_array_save(), NUL-terminated */
    size_t meta_size;                     /**< bytes of @ref meta */
    unsigned char meta[SJ_FILE_META_MAX]; /**< the metadata given to sj_array_save() */
    int64_t data_offset;                  /**< byte of the first element (SJ_FILE_DATA_OFFSET) */
    int64_t data_bytes;                   /**< bytes of elements */
} sj_file_info_t;

/**
 * @brief Save @p array to the file @p path, replacing it atomically.
 *
 * Collective; blocking. The call sees every update submitted before it and
 * none submitted after: each rank takes its own blocks of @p array for
 * reading, which waits only for the tasks that write them (not for the rest
 * of the graph), writes them from their memory (no copy) with collective
 * MPI-IO into `<path>.tmp-<id>` and hands them back, then syncs the file,
 * and once every rank's data are on stable storage rank 0 renames it over
 * @p path and syncs the folder. A run killed at any point leaves either the
 * previous file or the new one at @p path, never a mix (a stray
 * `<path>.tmp-<id>` may remain). Needs MPI_THREAD_MULTIPLE (the default
 * when sj_init() starts MPI).
 * @param[in] array     the array (any layout; may be wrapped)
 * @param[in] path      the file, the same on every rank, in a folder every rank sees
 * @param[in] label     a NUL-terminated label of at most SJ_FILE_LABEL_MAX
 *                      bytes, or NULL for none
 * @param[in] meta      @p meta_size bytes stored as they are (an iteration
 *                      count, a time); NULL when @p meta_size is 0
 * @param[in] meta_size at most SJ_FILE_META_MAX
 * @retval SJ_OK on success, on every rank
 * @retval SJ_ENULL @p array or @p path NULL, or @p meta NULL with a size
 * @retval SJ_ESIZE @p label or @p meta too long
 * @retval SJ_ESTATE starjets not running, inside sj_spmd_run(), a block held
 *         by sj_array_localpart_get() or sj_array_acquire(SJ_ACCESS_READWRITE)
 * @retval SJ_ENOTSUP MPI runs below MPI_THREAD_MULTIPLE
 * @retval SJ_EIO the file cannot be created, written, synced or renamed
 *         (@p path keeps its previous contents)
 * @retval SJ_ENOMEM no memory for the description of the blocks' pieces
 * Every rank returns the same code and sentence (which names the rank that
 * failed first).
 * @see sj_array_load, sj_array_file_info
 */
int sj_array_save(sj_array_t array, const char *path, const char *label, const void *meta,
                  size_t meta_size);

/**
 * @brief Read the header of the file @p path: element type, shape, label and
 * metadata, so that a program can make an array to load it into.
 *
 * Local (plain reads on the calling rank; call it on every rank, or on one
 * and broadcast). The header's checksum and the file's size are checked; the
 * data are not read (sj_array_load() checks them).
 * @param[in] path  the file
 * @param[out] info what the header says
 * @retval SJ_OK on success
 * @retval SJ_ENULL @p path or @p info NULL
 * @retval SJ_EIO the file cannot be opened or read
 * @retval SJ_EFORMAT not a starjets array file, a damaged header, or a file
 *         shorter or longer than its header says
 */
int sj_array_file_info(const char *path, sj_file_info_t *info);

/**
 * @brief Overwrite @p array with the contents of the file @p path.
 *
 * Collective; blocking. @p array may have any layout and any blocking (and
 * any number of ranks) as long as its element type and global shape are the
 * file's; it may be wrapped. Every rank reads its own blocks with collective
 * MPI-IO and the checksums of the whole file are checked before any block is
 * written: a bad file leaves @p array untouched. The load is ordered like a
 * task that writes every block: it waits for the tasks submitted before it
 * that use @p array's local blocks, and tasks submitted after it see the
 * loaded values. Needs MPI_THREAD_MULTIPLE.
 * @param[in] path      the file, the same on every rank
 * @param[in,out] array the target
 * @param[out] info     what the file's header says, on every rank; may be NULL
 * @retval SJ_OK on success, on every rank
 * @retval SJ_ENULL @p path or @p array NULL
 * @retval SJ_EIO the file cannot be opened or read
 * @retval SJ_EFORMAT not a starjets array file; truncated, or a header,
 *         table or data chunk that does not match its checksum
 * @retval SJ_EMISMATCH the file's element type or shape is not @p array's
 * @retval SJ_ESTATE starjets not running, inside sj_spmd_run(), or a block of
 *         @p array held by sj_array_localpart_get() or sj_array_acquire()
 * @retval SJ_ENOTSUP MPI runs below MPI_THREAD_MULTIPLE
 * @retval SJ_ENOMEM no memory for the staging buffer
 * Every rank returns the same code and sentence.
 * @see sj_array_save, sj_array_file_info
 */
int sj_array_load(const char *path, sj_array_t array, sj_file_info_t *info);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* STARJETS_IO_H */
