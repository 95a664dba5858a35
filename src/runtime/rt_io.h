/*
 * The runtime's file interface for src/io: MPI-IO on starjets' communicator,
 * and the POSIX steps of an atomic replace. Every function returns SJ_OK or
 * SJ_EIO with a sentence naming the file and MPI's or the system's reason,
 * on the ranks where it failed only: the caller agrees across ranks.
 * These need MPI_THREAD_MULTIPLE (sj__rt_direct_mpi()): the application
 * thread calls MPI beside StarPU-MPI's.
 */
#ifndef SJ_RT_IO_H
#define SJ_RT_IO_H

#include <stddef.h>
#include <stdint.h>

typedef struct sj__rt_file *sj__rt_file_t;

/* Open @p path on every rank (collective): for reading, or created for writing. */
int sj__rt_file_open(const char *path, int create, sj__rt_file_t *file);
/* Close (collective); NULL is a no-op. Sets *file to NULL. */
int sj__rt_file_close(sj__rt_file_t *file);
/* Size of the open file in bytes (local). */
int sj__rt_file_size(sj__rt_file_t file, uint64_t *size);
/* Independent read or write of @p n bytes at byte @p off (local). */
int sj__rt_file_read_at(sj__rt_file_t file, uint64_t off, void *buf, size_t n);
int sj__rt_file_write_at(sj__rt_file_t file, uint64_t off, const void *buf, size_t n);
/*
 * Collective write (@p write non-zero) or read of this rank's @p nruns runs:
 * run i is @p len[i] bytes at file byte @p base + @p off[i] (increasing and
 * disjoint) and at @p mem[i] in memory. One file view per rank (a plain byte
 * view for a single run, an hindexed one otherwise), the memory described by
 * absolute addresses, and MPI_File_{write,read}_at_all in rounds of at most
 * 512 MiB per rank, the same number of calls on every rank.
 */
int sj__rt_file_runs_all(sj__rt_file_t file, int write, uint64_t base, size_t nruns,
                         const uint64_t off[], const uint64_t len[], char *const mem[]);
/* MPI_File_sync (collective): this rank's writes are on stable storage. */
int sj__rt_file_sync(sj__rt_file_t file);
/* Remove a file (local; a missing file is no error). */
int sj__rt_file_remove(const char *path);
/* rename(@p from, @p to), then fsync of @p to's folder (local). */
int sj__rt_file_replace(const char *from, const char *to);
/* Sums modulo 2^64 of @p n integers over all ranks, in place (collective). */
int sj__rt_allreduce_u64_sum(uint64_t *values, size_t n);

#endif /* SJ_RT_IO_H */
