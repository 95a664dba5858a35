/*
 * bench_checkpoint: sj_array_save and sj_array_load against the disk, the
 * same bytes in the same run.
 *
 *   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
 *   mpiexec -n 2 --oversubscribe --bind-to none ./bench_checkpoint [options]
 *
 * Options: -m MIB (size of the array, default 512), -b B (blocks per rank,
 * 4), -r R (repetitions, 3), -d DIR (folder of the files, default ".").
 *
 * The array is 1-D float64, contiguous over the ranks. Per repetition:
 *   raw write   every rank pwrite()s its contiguous share of the same number
 *               of bytes into one file, in 8 MiB calls, then fsync()s it: a
 *               dd-like write at the same parallelism, the disk's number
 *               (a new file per repetition, as a save makes one: writing
 *               into a new file costs more than overwriting one on some
 *               file systems; the files are removed at the end);
 *   MPI-IO      the same shares written with MPI_File_write_at_all and
 *               MPI_File_sync, no starjets: what the I/O library costs;
 *   save        sj_array_save() of the array (staging copy, checksums, one
 *               collective MPI-IO write, MPI_File_sync, rename, folder fsync);
 *   raw read    every rank pread()s its share, after the file's cached pages
 *               were dropped (posix_fadvise DONTNEED after the fsync);
 *   load        sj_array_load() into an array of the same shape with a
 *               block-cyclic layout (every rank reads blocks another rank
 *               wrote), the saved file's cached pages dropped first, every
 *               checksum checked.
 * Each time is taken on rank 0 between barriers. Bandwidth = bytes of data /
 * median time. Reported ratios: save / raw write, load / raw read.
 *
 * Exactness: element g is g mod 1021 (an integer), so sums over any blocking
 * are exact: the loaded array's sum, min and max must equal the saved one's.
 *
 * One JSON object on stdout (rank 0); diagnostics on stderr.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static int value(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    double *x = out;
    for (int64_t i = 0; i < blk->dims[0]; i++)
        x[i] = (double)((blk->lo[0] + i) % 1021);
    return 0;
}

#define PIECE ((size_t)8 << 20)

/* Drop the page cache's copy of @p path (rank 0; the data are synced first). */
static void drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        fdatasync(fd);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
}

/* dd-like: this rank's share of @p bytes at its offset of one file, written or read. */
static void raw_io(const char *path, int write, size_t bytes, char *buf)
{
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    const size_t lo = bytes / (size_t)np * (size_t)me,
                 hi = me == np - 1 ? bytes : bytes / (size_t)np * (size_t)(me + 1);
    int fd = open(path, write ? O_WRONLY | O_CREAT : O_RDONLY, 0644);
    if (fd < 0) {
        perror(path);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (size_t off = lo; off < hi; off += PIECE) {
        const size_t n = hi - off < PIECE ? hi - off : PIECE;
        const ssize_t done = write ? pwrite(fd, buf + (off - lo), n, (off_t)off)
                                   : pread(fd, buf + (off - lo), n, (off_t)off);
        if (done != (ssize_t)n) {
            perror(path);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    if (write && fsync(fd) != 0) {
        perror(path);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    close(fd);
}

/* The same shares with collective MPI-IO (MPI_File_write_at_all, then MPI_File_sync). */
static void mpiio_write(const char *path, size_t bytes, char *buf)
{
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    const size_t lo = bytes / (size_t)np * (size_t)me,
                 hi = me == np - 1 ? bytes : bytes / (size_t)np * (size_t)(me + 1);
    MPI_File fh;
    if (MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL,
                      &fh) != MPI_SUCCESS)
        MPI_Abort(MPI_COMM_WORLD, 2);
    const size_t round = (size_t)1 << 29;
    const size_t rounds = (bytes / (size_t)np + (size_t)np + round - 1) / round;
    for (size_t r = 0; r < rounds; r++) {
        const size_t at = lo + r * round;
        const int n = at >= hi ? 0 : (int)(hi - at < round ? hi - at : round);
        if (MPI_File_write_at_all(fh, (MPI_Offset)at, buf + (n ? r * round : 0), n, MPI_BYTE,
                                  MPI_STATUS_IGNORE) != MPI_SUCCESS)
            MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_File_sync(fh);
    MPI_File_close(&fh);
}

int main(int argc, char **argv)
{
    int mib = 512, blocks = 4, reps = 3;
    char dir_default[] = ".";
    char *dir = dir_default;
    int level;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-d") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "-m") && i + 1 < argc)
            mib = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-b") && i + 1 < argc)
            blocks = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            if (me == 0)
                fprintf(stderr, "usage: %s [-m MIB] [-b BLOCKS_PER_RANK] [-r REPS] [-d DIR]\n",
                        argv[0]);
            MPI_Finalize();
            return 2;
        }
    }
    if (mib < 1 || blocks < 1 || reps < 1 || reps > MAX_ROUNDS) {
        MPI_Finalize();
        return 2;
    }
    CHECK(sj_init(&argc, &argv, NULL));
    const int64_t n = (int64_t)mib << 17; /* doubles */
    const size_t bytes = (size_t)n * 8;
    char ckpt[4096], raw[4096], mpiio[4096];
    snprintf(ckpt, sizeof ckpt, "%s/bench_checkpoint.np%d.sjarr", dir, np);
    snprintf(raw, sizeof raw, "%s/bench_checkpoint.np%d.raw", dir, np);

    sj_space_t s;
    sj_dist_t cyc;
    sj_array_t a, b;
    const int nb = blocks * np;
    CHECK(sj_space_create(SJ_FLOAT64, 1, &n, &nb, &s));
    CHECK(sj_dist_create_cyclic(1, &nb, np, 1, NULL, &cyc));
    CHECK(sj_array_create_init(s, NULL, value, NULL, 0, &a));
    CHECK(sj_array_zeros(s, cyc, &b));
    char *buf = xmalloc(bytes / (size_t)np + (size_t)np * 8 + PIECE);
    memset(buf, 1, bytes / (size_t)np + (size_t)np * 8);

    double t_raw_w[MAX_ROUNDS], t_mpiio[MAX_ROUNDS], t_save[MAX_ROUNDS], t_raw_r[MAX_ROUNDS],
        t_load[MAX_ROUNDS];
    CHECK(sj_wait());
    for (int r = 0; r < reps; r++) {
        snprintf(raw, sizeof raw, "%s/bench_checkpoint.np%d.raw%d", dir, np, r);
        snprintf(mpiio, sizeof mpiio, "%s/bench_checkpoint.np%d.mpiio%d", dir, np, r);
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        raw_io(raw, 1, bytes, buf);
        MPI_Barrier(MPI_COMM_WORLD);
        t_raw_w[r] = now() - t0;

        MPI_Barrier(MPI_COMM_WORLD);
        t0 = now();
        mpiio_write(mpiio, bytes, buf);
        MPI_Barrier(MPI_COMM_WORLD);
        t_mpiio[r] = now() - t0;

        t0 = now();
        CHECK(sj_array_save(a, ckpt, "bench_checkpoint", &r, sizeof r));
        t_save[r] = now() - t0;

        if (me == 0) {
            drop_cache(raw);
            drop_cache(ckpt);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = now();
        raw_io(raw, 0, bytes, buf);
        MPI_Barrier(MPI_COMM_WORLD);
        t_raw_r[r] = now() - t0;

        t0 = now();
        CHECK(sj_array_load(ckpt, b, NULL));
        t_load[r] = now() - t0;
        if (me == 0)
            fprintf(stderr,
                    "rep %d: raw write %.3f s, MPI-IO write %.3f s, save %.3f s, raw read %.3f s, "
                    "load %.3f s\n",
                    r, t_raw_w[r], t_mpiio[r], t_save[r], t_raw_r[r], t_load[r]);
    }
    double sa, sb, mina, minb, maxa, maxb;
    CHECK(sj_array_sum(a, &sa));
    CHECK(sj_array_sum(b, &sb));
    CHECK(sj_array_min(a, &mina));
    CHECK(sj_array_min(b, &minb));
    CHECK(sj_array_max(a, &maxa));
    CHECK(sj_array_max(b, &maxb));
    const int correct = sa == sb && mina == minb && maxa == maxb;

    const double gb = (double)bytes / 1e9;
    const double w = median(t_raw_w, reps), sv = median(t_save, reps), rr = median(t_raw_r, reps),
                 ld = median(t_load, reps), mw = median(t_mpiio, reps);
    if (me == 0) {
        printf("{\"bench\":\"checkpoint\",\"ranks\":%d,\"bytes\":%zu,\"blocks\":%d,\"reps\":%d,",
               np, bytes, nb, reps);
        printf("\"dir\":\"%s\",", dir);
        printf("\"raw_write_s\":%.6f,\"save_s\":%.6f,\"raw_read_s\":%.6f,\"load_s\":%.6f,", w, sv,
               rr, ld);
        printf("\"mpiio_write_s\":%.6f,\"mpiio_write_GBps\":%.3f,", mw, gb / mw);
        printf("\"raw_write_GBps\":%.3f,\"save_GBps\":%.3f,\"raw_read_GBps\":%.3f,"
               "\"load_GBps\":%.3f,",
               gb / w, gb / sv, gb / rr, gb / ld);
        print_array("save_rounds_s", "%.4f", t_save, reps);
        print_array("load_rounds_s", "%.4f", t_load, reps);
        printf("\"starjets_s\":%.6f,\"save_ratio\":%.3f,\"load_ratio\":%.3f,\"ratio\":%.3f,", sv,
               w / sv, rr / ld, w / sv);
        printf("\"correct\":%s}\n", json_bool(correct));
        unlink(ckpt);
        for (int r = 0; r < reps; r++) {
            snprintf(raw, sizeof raw, "%s/bench_checkpoint.np%d.raw%d", dir, np, r);
            snprintf(mpiio, sizeof mpiio, "%s/bench_checkpoint.np%d.mpiio%d", dir, np, r);
            unlink(raw);
            unlink(mpiio);
        }
    }
    free(buf);
    CHECK(sj_array_destroy(&a));
    CHECK(sj_array_destroy(&b));
    CHECK(sj_dist_destroy(&cyc));
    CHECK(sj_space_destroy(&s));
    CHECK(sj_finalize());
    MPI_Finalize();
    return correct ? 0 : 1;
}
