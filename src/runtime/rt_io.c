/*
 * MPI-IO and the POSIX steps of an atomic replace, for src/io (rt_io.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "runtime/rt_io.h"
#include "runtime/rt_private.h"

struct sj__rt_file {
    MPI_File fh;
    char path[PATH_MAX];
};

/* MPI's sentence for @p err, as SJ_EIO naming @p what and the file. */
static int mpi_fail(int err, const char *what, const char *path)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", err);
    return sj__error(SJ_EIO, "starjets", "%s '%s' failed: %s", what, path, msg);
}

int sj__rt_file_open(const char *path, int create, sj__rt_file_t *file)
{
    *file = NULL;
    struct sj__rt_file *f = sj__calloc(1, sizeof *f);
    if (!f)
        return SJ_ENOMEM;
    snprintf(f->path, sizeof f->path, "%s", path);
    MPI_Info info = MPI_INFO_NULL;
    const int amode = create ? MPI_MODE_CREATE | MPI_MODE_WRONLY : MPI_MODE_RDONLY;
    int err = MPI_File_open(sj__rt.comm, path, amode, info, &f->fh);
    if (err != MPI_SUCCESS) {
        free(f);
        return mpi_fail(err, create ? "creating" : "opening", path);
    }
    /* return codes, not the default handler's abort: a full disk is an error, not a crash */
    MPI_File_set_errhandler(f->fh, MPI_ERRORS_RETURN);
    *file = f;
    return SJ_OK;
}

int sj__rt_file_close(sj__rt_file_t *file)
{
    if (!file || !*file)
        return SJ_OK;
    struct sj__rt_file *f = *file;
    *file = NULL;
    int err = MPI_File_close(&f->fh);
    int rc = err == MPI_SUCCESS ? SJ_OK : mpi_fail(err, "closing", f->path);
    free(f);
    return rc;
}

int sj__rt_file_size(sj__rt_file_t f, uint64_t *size)
{
    MPI_Offset s = 0;
    int err = MPI_File_get_size(f->fh, &s);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "the size of", f->path);
    *size = (uint64_t)s;
    return SJ_OK;
}

/* MPI counts are ints: move at most this many bytes per call. */
#define ROUND ((uint64_t)1 << 29)

int sj__rt_file_read_at(sj__rt_file_t f, uint64_t off, void *buf, size_t n)
{
    for (uint64_t done = 0; done < n; done += ROUND) {
        const int count = (int)(n - done < ROUND ? n - done : ROUND);
        MPI_Status st;
        int err = MPI_File_read_at(f->fh, (MPI_Offset)(off + done), (char *)buf + done, count,
                                   MPI_BYTE, &st);
        if (err != MPI_SUCCESS)
            return mpi_fail(err, "reading", f->path);
        int got = 0;
        MPI_Get_count(&st, MPI_BYTE, &got);
        if (got != count)
            return sj__error(SJ_EIO, "starjets", "reading '%s': %d bytes at byte %llu, expected %d",
                             f->path, got, (unsigned long long)(off + done), count);
    }
    return SJ_OK;
}

int sj__rt_file_write_at(sj__rt_file_t f, uint64_t off, const void *buf, size_t n)
{
    for (uint64_t done = 0; done < n; done += ROUND) {
        const int count = (int)(n - done < ROUND ? n - done : ROUND);
        int err = MPI_File_write_at(f->fh, (MPI_Offset)(off + done), (const char *)buf + done,
                                    count, MPI_BYTE, MPI_STATUS_IGNORE);
        if (err != MPI_SUCCESS)
            return mpi_fail(err, "writing", f->path);
    }
    return SJ_OK;
}

/* The file type of this rank's runs: an hindexed type of bytes. */
static int runs_type(size_t nruns, const uint64_t off[], const uint64_t len[], MPI_Datatype *t)
{
    int *lens = malloc((nruns ? nruns : 1) * sizeof *lens);
    MPI_Aint *disp = malloc((nruns ? nruns : 1) * sizeof *disp);
    if (!lens || !disp) {
        free(lens);
        free(disp);
        return sj__error(SJ_ENOMEM, "starjets", "out of memory for a file view of %zu runs", nruns);
    }
    for (size_t i = 0; i < nruns; i++) {
        lens[i] = (int)len[i];
        disp[i] = (MPI_Aint)off[i];
    }
    int err = MPI_Type_create_hindexed((int)nruns, lens, disp, MPI_BYTE, t);
    if (err == MPI_SUCCESS)
        err = MPI_Type_commit(t);
    free(lens);
    free(disp);
    return err == MPI_SUCCESS ? SJ_OK : sj__error(SJ_ERUNTIME, "starjets", "MPI file type failed");
}

/*
 * The memory of bytes [at, at + count) of this rank's runs, as an hindexed
 * type of bytes at absolute addresses (used with MPI_BOTTOM).
 */
static int round_type(size_t nruns, const uint64_t len[], char *const mem[], uint64_t at,
                      uint64_t count, MPI_Datatype *t)
{
    size_t first = 0, n = 0;
    uint64_t start = 0; /* stream byte of run `first` */
    while (first < nruns && start + len[first] <= at)
        start += len[first++];
    for (uint64_t s = start; first + n < nruns && s < at + count; s += len[first + n], n++)
        ;
    int *lens = malloc((n ? n : 1) * sizeof *lens);
    MPI_Aint *disp = malloc((n ? n : 1) * sizeof *disp);
    if (!lens || !disp) {
        free(lens);
        free(disp);
        return sj__error(SJ_ENOMEM, "starjets", "out of memory for a memory type of %zu runs", n);
    }
    uint64_t s = start;
    for (size_t i = 0; i < n; i++) {
        const uint64_t lo = s < at ? at : s,
                       hi = s + len[first + i] < at + count ? s + len[first + i] : at + count;
        MPI_Get_address(mem[first + i] + (lo - s), &disp[i]);
        lens[i] = (int)(hi - lo);
        s += len[first + i];
    }
    int err = MPI_Type_create_hindexed((int)n, lens, disp, MPI_BYTE, t);
    if (err == MPI_SUCCESS)
        err = MPI_Type_commit(t);
    free(lens);
    free(disp);
    return err == MPI_SUCCESS ? SJ_OK
                              : sj__error(SJ_ERUNTIME, "starjets", "MPI memory type failed");
}

int sj__rt_file_runs_all(sj__rt_file_t f, int write, uint64_t base, size_t nruns,
                         const uint64_t off[], const uint64_t len[], char *const mem[])
{
    uint64_t total = 0;
    for (size_t i = 0; i < nruns; i++)
        total += len[i];
    /* every rank makes the same number of collective calls */
    int64_t rounds = (int64_t)((total + ROUND - 1) / ROUND);
    int rc = sj__rt_allreduce_i64(&rounds, 1, SJ__RT_MAX);
    if (rc < 0)
        return rc;
    /* one run: a plain byte view from its start (what a contiguous layout gives, and the
     * fastest path of the MPI-IO libraries); several: an hindexed view of bytes; none: the
     * plain view, moving 0 bytes. What cannot be described moves nothing, but every call
     * is still made so that the other ranks are not left waiting. */
    MPI_Datatype ftype = MPI_BYTE;
    int own_type = 0;
    MPI_Offset disp = (MPI_Offset)base + (nruns == 1 ? (MPI_Offset)off[0] : 0);
    if (nruns > INT_MAX)
        rc = sj__error(SJ_ESIZE, "starjets", "%zu runs: more than an MPI file view holds", nruns);
    else if (nruns > 1 && (rc = runs_type(nruns, off, len, &ftype)) == SJ_OK)
        own_type = 1;
    if (rc < 0)
        total = 0;
    char dummy = 0;
    int err = MPI_File_set_view(f->fh, disp, MPI_BYTE, ftype, "native", MPI_INFO_NULL);
    for (int64_t r = 0; err == MPI_SUCCESS && r < rounds; r++) {
        const uint64_t at = (uint64_t)r * ROUND;
        const uint64_t count = at >= total ? 0 : (total - at < ROUND ? total - at : ROUND);
        MPI_Datatype mtype = MPI_BYTE;
        if (count > 0 && (rc = round_type(nruns, len, mem, at, count, &mtype)) < 0)
            total = 0; /* nothing more moves on this rank; the calls go on */
        const int moving = count > 0 && rc == SJ_OK;
        void *buf = moving ? MPI_BOTTOM : &dummy;
        MPI_Status st;
        if (write)
            err = MPI_File_write_at_all(f->fh, (MPI_Offset)at, buf, moving,
                                        moving ? mtype : MPI_BYTE, &st);
        else /* independent reads: Open MPI 4.1's OMPIO leaks on its aggregator in every
              * collective read through a file view (rank 0 grew about 4 KiB per load, and
              * more with fcoll two_phase, in scripts/soak; none with fcoll individual,
              * which is what independent reads are, nor with ROMIO) */
            err = MPI_File_read_at(f->fh, (MPI_Offset)at, buf, moving, moving ? mtype : MPI_BYTE,
                                   &st);
        if (moving)
            MPI_Type_free(&mtype);
        if (err == MPI_SUCCESS && moving) {
            MPI_Count got = 0;
            MPI_Get_elements_x(&st, MPI_BYTE, &got);
            if (got != (MPI_Count)count) {
                rc = sj__error(SJ_EIO, "starjets", "%s '%s': %lld bytes moved, expected %llu",
                               write ? "writing" : "reading", f->path, (long long)got,
                               (unsigned long long)count);
                total = 0; /* keep making the collective calls the other ranks make */
            }
        }
    }
    if (err != MPI_SUCCESS)
        rc = mpi_fail(err, write ? "writing" : "reading", f->path);
    MPI_File_set_view(f->fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL);
    if (own_type)
        MPI_Type_free(&ftype);
    return rc < 0 ? rc : SJ_OK;
}

int sj__rt_file_sync(sj__rt_file_t f)
{
    int err = MPI_File_sync(f->fh);
    return err == MPI_SUCCESS ? SJ_OK : mpi_fail(err, "syncing", f->path);
}

int sj__rt_file_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return sj__error(SJ_EIO, "starjets", "removing '%s' failed: %s", path, strerror(errno));
    return SJ_OK;
}

int sj__rt_file_replace(const char *from, const char *to)
{
    if (rename(from, to) != 0)
        return sj__error(SJ_EIO, "starjets", "renaming '%s' to '%s' failed: %s", from, to,
                         strerror(errno));
    /* the rename itself is durable once the folder that holds the name is */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", to);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return sj__error(SJ_EIO, "starjets", "opening folder '%s' failed: %s", dir,
                         strerror(errno));
    int rc = fsync(fd) == 0 ? SJ_OK
                            : sj__error(SJ_EIO, "starjets", "fsync of folder '%s' failed: %s", dir,
                                        strerror(errno));
    close(fd);
    return rc;
}

int sj__rt_allreduce_u64_sum(uint64_t *values, size_t n)
{
    for (size_t done = 0; done < n; done += (size_t)1 << 26) {
        const int count = (int)(n - done < ((size_t)1 << 26) ? n - done : ((size_t)1 << 26));
        int err =
            MPI_Allreduce(MPI_IN_PLACE, values + done, count, MPI_UINT64_T, MPI_SUM, sj__rt.comm);
        if (err != MPI_SUCCESS)
            return sj__error(SJ_ERUNTIME, "starjets", "MPI_Allreduce of checksums failed (%d)",
                             err);
    }
    return SJ_OK;
}
