/*
 * Checkpoint and restart of distributed arrays (starjets/io.h,
 * docs/reliability.md).
 *
 * A rank's part of the file is the set of *runs* of its blocks: a column of a
 * block (its first dimension) is contiguous in the global column-major order.
 * Each rank sorts its runs by file offset and moves them with one file view
 * and collective MPI-IO calls (runtime/rt_io.h): a save straight from the
 * blocks' memory, a load into a staging buffer that is copied into the
 * blocks only once every checksum of the file matched. The
 * checksum of a chunk of the data is a sum of per-element terms (io/format.h),
 * so every rank adds the terms of its runs and one allreduce gives the
 * chunk checksums, whatever the layout: nothing is gathered on a root.
 *
 * Every failure is agreed across ranks (agree()): all ranks return the same
 * code and sentence, and none is left inside a collective call.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <starjets/io.h>

#include "array/array_private.h"
#include "io/format.h"
#include "kernels/clock.h"
#include "runtime/rt.h"
#include "runtime/rt_io.h"

/* ---- agreement ---------------------------------------------------------------- */

/*
 * Every rank's verdict on a step: SJ_OK when every rank's @p rc is, else the
 * code and sentence of the first rank that failed, recorded on every rank
 * under @p func with that rank's number.
 */
static int agree(const char *func, int rc)
{
    int64_t first = rc < 0 ? sj__rt_rank() : INT64_MAX;
    int r = sj__rt_allreduce_i64(&first, 1, SJ__RT_MIN);
    if (r < 0)
        return sj__error_rename(r, func);
    if (first == INT64_MAX)
        return SJ_OK;
    struct {
        int code;
        char msg[600];
    } v = {0};
    if (sj__rt_rank() == first) {
        v.code = rc;
        const char *m = sj_last_error();
        const char *colon = m ? strstr(m, ": ") : NULL; /* drop the function's name */
        snprintf(v.msg, sizeof v.msg, "%s", colon ? colon + 2 : (m ? m : "failed"));
    }
    r = sj__rt_bcast(&v, sizeof v, (int)first);
    if (r < 0)
        return sj__error_rename(r, func);
    if (sj__rt_nranks() > 1)
        return sj__error(v.code, func, "%s (rank %d)", v.msg, (int)first);
    return sj__error(v.code, func, "%s", v.msg);
}

/* ---- runs ------------------------------------------------------------------- */

typedef struct run {
    uint64_t off; /* byte in the data */
    uint64_t len;
    uint64_t pos; /* byte in the staging buffer */
    int block;
    int64_t mem; /* byte of the run's first element from the block's first element */
} run_t;

typedef struct plan {
    size_t n;      /* runs */
    run_t *runs;   /* grouped by block, in local block order */
    run_t **order; /* the runs by file offset */
    size_t nio;    /* pieces: runs adjacent in the file and in memory, merged */
    uint64_t *off; /* by file offset: what rt_io moves */
    uint64_t *len;
    char **mem;         /* where each piece is: the staging buffer, or the blocks (a save) */
    uint64_t bytes;     /* of this rank */
    unsigned char *buf; /* staging buffer of a load */
    char **held;        /* a save: per block, its memory while held, else NULL */
    int total;
} plan_t;

static void plan_free(plan_t *p)
{
    free(p->runs);
    free(p->order);
    free(p->off);
    free(p->len);
    free(p->mem);
    free(p->buf);
    free(p->held);
    memset(p, 0, sizeof *p);
}

/* Leading dimensions of block b's memory on its owner. */
static void block_ld(sj_array_t a, int b, const sj_block_info_t *bi, int64_t ld[2])
{
    if (a->wrap && a->wrap->view[b]) {
        ld[0] = a->wrap->ld[b][0];
        ld[1] = a->wrap->ld[b][1];
    } else {
        ld[0] = bi->dims[0];
        ld[1] = bi->dims[1];
    }
}

static int cmp_run(const void *x, const void *y)
{
    const run_t *a = *(run_t *const *)x, *b = *(run_t *const *)y;
    return a->off < b->off ? -1 : a->off > b->off;
}

/*
 * The runs of this rank's blocks of @p a and their order in the file; with
 * @p staged, a staging buffer that holds them in that order.
 */
static int plan_make(sj_array_t a, plan_t *p, int staged)
{
    memset(p, 0, sizeof *p);
    sj_space_t s = a->space;
    const size_t es = sj_dtype_size(s->dtype);
    int count = 0;
    const int *mine = NULL;
    sj_dist_local_blocks(a->dist, sj__rt_rank(), &count, &mine);
    size_t n = 0;
    for (int i = 0; i < count; i++) {
        sj_block_info_t bi;
        sj__space_block_info(s, mine[i], &bi);
        n += (size_t)(bi.dims[1] * bi.dims[2]);
    }
    const size_t n1 = n ? n : 1;
    p->n = n;
    p->total = s->total;
    p->runs = malloc(n1 * sizeof *p->runs);
    p->order = malloc(n1 * sizeof *p->order);
    p->off = malloc(n1 * sizeof *p->off);
    p->len = malloc(n1 * sizeof *p->len);
    p->mem = malloc(n1 * sizeof *p->mem);
    p->held = calloc((size_t)s->total, sizeof *p->held);
    if (!p->runs || !p->order || !p->off || !p->len || !p->mem || !p->held) {
        plan_free(p);
        return sj__error(SJ_ENOMEM, "starjets", "out of memory for %zu runs of blocks", n);
    }
    size_t k = 0;
    for (int i = 0; i < count; i++) {
        sj_block_info_t bi;
        int64_t ld[2];
        sj__space_block_info(s, mine[i], &bi);
        block_ld(a, mine[i], &bi, ld);
        for (int64_t z = 0; z < bi.dims[2]; z++)
            for (int64_t y = 0; y < bi.dims[1]; y++, k++) {
                run_t *r = &p->runs[k];
                r->off = es * (uint64_t)(bi.lo[0] + s->dims[0] * ((bi.lo[1] + y) +
                                                                  s->dims[1] * (bi.lo[2] + z)));
                r->len = es * (uint64_t)bi.dims[0];
                r->block = mine[i];
                r->mem = (int64_t)es * ld[0] * (y + ld[1] * z);
                p->order[k] = r;
            }
    }
    qsort(p->order, n, sizeof *p->order, cmp_run);
    uint64_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        p->order[i]->pos = pos;
        pos += p->order[i]->len;
    }
    p->bytes = pos;
    if (staged && !(p->buf = malloc(pos ? pos : 1))) {
        plan_free(p);
        return sj__error(SJ_ENOMEM, "starjets",
                         "out of memory for the staging buffer (%llu bytes of this rank's blocks)",
                         (unsigned long long)pos);
    }
    return SJ_OK;
}

/*
 * The pieces that move, by file offset: runs adjacent in the file and in
 * memory merged (up to 1 GiB), so that a rank whose blocks are one piece of
 * the file moves it in one piece. Memory is the staging buffer (a load) or
 * the held blocks (a save).
 */
static void plan_pieces(plan_t *p)
{
    p->nio = 0;
    for (size_t i = 0; i < p->n; i++) {
        const run_t *r = p->order[i];
        char *at = p->buf ? (char *)p->buf + r->pos : p->held[r->block] + r->mem;
        const size_t m = p->nio;
        if (m > 0 && p->off[m - 1] + p->len[m - 1] == r->off &&
            p->mem[m - 1] + p->len[m - 1] == at && p->len[m - 1] + r->len <= ((uint64_t)1 << 30)) {
            p->len[m - 1] += r->len;
        } else {
            p->off[m] = r->off;
            p->len[m] = r->len;
            p->mem[m] = at;
            p->nio++;
        }
    }
}

/*
 * A save holds this rank's blocks for reading (waiting only for the tasks
 * that write them; tasks that read them still run) from here until
 * plan_release(); their memory is what is written, without a copy.
 */
static int plan_hold(sj_array_t a, plan_t *p)
{
    for (size_t k = 0; k < p->n; k++) {
        const int b = p->runs[k].block;
        if (p->held[b])
            continue;
        char *mem = sj__rt_data_acquire(a->handles[b], SJ__R);
        if (!mem)
            return sj__error(SJ_ERUNTIME, "starjets", "cannot acquire block %d", b);
        p->held[b] = a->wrap && a->wrap->view[b] ? a->wrap->view[b] : mem;
    }
    return SJ_OK;
}

static void plan_release(sj_array_t a, plan_t *p)
{
    for (int b = 0; p->held && b < p->total; b++)
        if (p->held[b]) {
            sj__rt_data_release(a->handles[b]);
            p->held[b] = NULL;
        }
}

/*
 * Copy the staging buffer of a load into this rank's blocks, holding each
 * block only while its runs are copied (after the tasks that use it).
 */
static int plan_copy_in(sj_array_t a, plan_t *p)
{
    size_t k = 0;
    while (k < p->n) {
        const int b = p->runs[k].block;
        char *mem = sj__rt_data_acquire(a->handles[b], SJ__W);
        if (!mem)
            return sj__error(SJ_ERUNTIME, "starjets", "cannot acquire block %d", b);
        if (a->wrap && a->wrap->view[b])
            mem = a->wrap->view[b]; /* the host's memory, strided or not */
        for (; k < p->n && p->runs[k].block == b; k++)
            memcpy(mem + p->runs[k].mem, p->buf + p->runs[k].pos, p->runs[k].len);
        sj__rt_data_release(a->handles[b]);
    }
    return SJ_OK;
}

/* This rank's terms of every chunk checksum. */
static void plan_sums(const plan_t *p, uint64_t chunk_bytes, uint32_t elemsize, uint64_t *sums)
{
    for (size_t i = 0; i < p->nio; i++)
        sj__io_chunk_sums(p->off[i], p->mem[i], p->len[i], chunk_bytes, elemsize, 0, sums);
}

/* A block of @p a held on this rank (SJ_ESTATE naming it), for every I/O call. */
static int check_not_held(const char *func, sj_array_t a, int save)
{
    if (a->wrap && a->wrap->acquired && (!save || a->wrap->acquired == SJ_ACCESS_READWRITE))
        return sj__error(SJ_ESTATE, func,
                         "the array is acquired by the host on this rank "
                         "(sj_array_release it first)");
    int count = 0;
    const int *mine = NULL;
    sj_dist_local_blocks(a->dist, sj__rt_rank(), &count, &mine);
    for (int i = 0; i < count; i++)
        SJ_CHECK_FN(func, !a->got[mine[i]] || (a->wrap && a->wrap->acquired), SJ_ESTATE,
                    "block %d is taken by sj_array_localpart_get (restore it first)", mine[i]);
    return SJ_OK;
}

static int check_mpi(const char *func)
{
    SJ_CHECK_FN(func, sj__rt_direct_mpi(), SJ_ENOTSUP,
                "file I/O needs MPI_THREAD_MULTIPLE (MPI-IO from the calling thread beside "
                "StarPU-MPI's); MPI was started at a lower level");
    return SJ_OK;
}

static uint32_t file_type(sj_dtype_t t)
{
    return t == SJ_FLOAT32 ? SJ__IO_F32 : SJ__IO_F64;
}

/* ---- save --------------------------------------------------------------------- */

static int save_args(const char *func, sj_array_t array, const char *path, const char *label,
                     const void *meta, size_t meta_size)
{
    SJ_TRY(sj__check_array(func, "array", array));
    SJ_CHECK_FN(func, path != NULL, SJ_ENULL, "argument 'path' is NULL");
    SJ_CHECK_FN(func, path[0] != '\0' && strlen(path) < PATH_MAX - 32, SJ_EINVAL,
                "path is empty or longer than %d bytes", PATH_MAX - 32);
    SJ_CHECK_FN(func, !label || strlen(label) <= SJ_FILE_LABEL_MAX, SJ_ESIZE,
                "label has %zu bytes, at most %d", label ? strlen(label) : 0, SJ_FILE_LABEL_MAX);
    SJ_CHECK_FN(func, meta_size <= SJ_FILE_META_MAX, SJ_ESIZE, "meta_size is %zu, at most %d",
                meta_size, SJ_FILE_META_MAX);
    SJ_CHECK_FN(func, meta != NULL || meta_size == 0, SJ_ENULL,
                "argument 'meta' is NULL but meta_size is %zu", meta_size);
    SJ_TRY(check_mpi(func));
    return check_not_held(func, array, 1);
}

/* The header and checksum table of a save, on rank 0 (sums: the agreed chunk sums). */
static int write_header(sj__rt_file_t f, sj_array_t a, const char *label, const void *meta,
                        size_t meta_size, const uint64_t *sums, const sj__io_header_t *layout)
{
    sj__io_header_t h = *layout;
    h.label_len = label ? (uint32_t)strlen(label) : 0;
    memcpy(h.label, label ? label : "", h.label_len);
    h.meta_size = (uint32_t)meta_size;
    if (meta_size)
        memcpy(h.meta, meta, meta_size);
    h.table_checksum = sj__io_fnv1a(sums, 8 * h.nchunks);
    unsigned char *buf = malloc(SJ__IO_HEADER);
    if (!buf)
        return sj__error(SJ_ENOMEM, "starjets", "out of memory for a header");
    sj__io_header_encode(&h, buf);
    int rc = sj__rt_file_write_at(f, h.table_offset, sums, 8 * h.nchunks);
    if (rc == SJ_OK)
        rc = sj__rt_file_write_at(f, 0, buf, SJ__IO_HEADER);
    free(buf);
    return rc;
}

static void layout_of(sj_array_t a, sj__io_header_t *h)
{
    memset(h, 0, sizeof *h);
    h->type = file_type(a->space->dtype);
    h->ndims = (uint32_t)a->space->ndims;
    for (int d = 0; d < 3; d++)
        h->dims[d] = a->space->dims[d];
    sj__io_header_layout(h);
}

int sj_array_save(sj_array_t array, const char *path, const char *label, const void *meta,
                  size_t meta_size)
{
    const char *func = __func__;
    SJ_TRY(sj__rt_check_collective(func));
    plan_t p = {0};
    sj__io_header_t h;
    uint64_t *sums = NULL;
    sj__rt_file_t f = NULL;
    char tmp[PATH_MAX] = "";
    int rc = save_args(func, array, path, label, meta, meta_size);
    if (rc == SJ_OK) {
        layout_of(array, &h);
        rc = plan_make(array, &p, 0);
    }
    if (rc == SJ_OK && !(sums = calloc(h.nchunks, sizeof *sums)))
        rc = sj__error(SJ_ENOMEM, "starjets", "out of memory for %llu checksums",
                       (unsigned long long)h.nchunks);
    /* phases, printed with SJ_VERBOSE: start, held and summed, agreed, written, synced, renamed */
    double t[6] = {sj__now(), 0, 0, 0, 0, 0};
    if (rc == SJ_OK && (rc = plan_hold(array, &p)) == SJ_OK) {
        plan_pieces(&p);
        plan_sums(&p, h.chunk_bytes, h.elemsize, sums);
    }
    t[1] = sj__now();
    SJ_TRY_GOTO(rc, agree(func, rc), out);
    SJ_TRY_GOTO(rc, sj__named(sj__rt_allreduce_u64_sum(sums, h.nchunks), func), out);

    /* one name on every rank, new at each save: rank 0's pid and clock */
    uint64_t id = 0;
    if (sj__rt_rank() == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        id = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec * 1000000000u ^ (uint64_t)ts.tv_nsec;
    }
    SJ_TRY_GOTO(rc, sj__named(sj__rt_bcast(&id, sizeof id, 0), func), out);
    snprintf(tmp, sizeof tmp, "%s.tmp-%016llx", path, (unsigned long long)id);
    t[2] = sj__now();

    SJ_TRY_GOTO(rc, agree(func, sj__rt_file_open(tmp, 1, &f)), out);
    const double t_open = sj__now();
    rc = sj__rt_file_runs_all(f, 1, h.data_offset, p.nio, p.off, p.len, p.mem);
    plan_release(array, &p); /* the file has the data: tasks may write the blocks again */
    const double t_data = sj__now();
    if (rc == SJ_OK && sj__rt_rank() == 0)
        rc = write_header(f, array, label, meta, meta_size, sums, &h);
    t[3] = sj__now();
    /* durable on every rank before the name changes */
    const int sync_rc = sj__rt_file_sync(f);
    SJ_TRY_GOTO(rc, agree(func, rc < 0 ? rc : sync_rc), out);
    t[4] = sj__now();
    SJ_TRY_GOTO(rc, agree(func, sj__rt_file_close(&f)), out);
    SJ_TRY_GOTO(rc, agree(func, sj__rt_rank() == 0 ? sj__rt_file_replace(tmp, path) : SJ_OK), out);
    t[5] = sj__now();
    if (sj__rt_verbose() && sj__rt_rank() == 0)
        fprintf(stderr,
                "starjets: sj_array_save '%s': %llu bytes in %.3f s; rank 0: hold and checksums "
                "%.3f s, agreement %.3f s, open %.3f s, write %.3f s, header %.3f s, sync %.3f s, "
                "rename %.3f s\n",
                path, (unsigned long long)h.data_bytes, t[5] - t[0], t[1] - t[0], t[2] - t[1],
                t_open - t[2], t_data - t_open, t[3] - t_data, t[4] - t[3], t[5] - t[4]);
out:
    if (f) {
        sj__rt_file_close(&f);
        if (sj__rt_rank() == 0)
            sj__rt_file_remove(tmp);
    } else if (rc < 0 && sj__rt_rank() == 0 && tmp[0]) {
        sj__rt_file_remove(tmp); /* written, then refused: do not leave it */
    }
    plan_release(array, &p);
    free(sums);
    plan_free(&p);
    return rc;
}

/* ---- header and load ------------------------------------------------------------ */

static void info_of(const sj__io_header_t *h, sj_file_info_t *info)
{
    memset(info, 0, sizeof *info);
    info->dtype = h->type == SJ__IO_F32 ? SJ_FLOAT32 : SJ_FLOAT64;
    info->ndims = (int)h->ndims;
    for (int d = 0; d < SJ_MAX_DIMS; d++)
        info->dims[d] = d < 3 ? h->dims[d] : 1;
    memcpy(info->label, h->label, sizeof info->label);
    info->meta_size = h->meta_size;
    memcpy(info->meta, h->meta, h->meta_size);
    info->data_offset = (int64_t)h->data_offset;
    info->data_bytes = (int64_t)h->data_bytes;
}

int sj_array_file_info(const char *path, sj_file_info_t *info)
{
    SJ_CHECK_NULL(path);
    SJ_CHECK_NULL(info);
    memset(info, 0, sizeof *info);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sj__error(SJ_EIO, __func__, "cannot open '%s': %s", path, strerror(errno));
    unsigned char *buf = malloc(SJ__IO_HEADER);
    sj__io_header_t *h = malloc(sizeof *h);
    int rc = SJ_OK;
    if (!buf || !h) {
        rc = sj__error(SJ_ENOMEM, __func__, "out of memory for a header");
        goto out;
    }
    const size_t got = fread(buf, 1, SJ__IO_HEADER, fp);
    if (ferror(fp) || fseeko(fp, 0, SEEK_END) != 0) {
        rc = sj__error(SJ_EIO, __func__, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    const off_t size = ftello(fp);
    char why[SJ__IO_WHY];
    if (sj__io_header_decode(buf, got, (uint64_t)size, h, why) != 0) {
        rc = sj__error(SJ_EFORMAT, __func__, "'%s': %s", path, why);
        goto out;
    }
    info_of(h, info);
out:
    fclose(fp);
    free(buf);
    free(h);
    return rc;
}

static int load_args(const char *func, const char *path, sj_array_t array)
{
    SJ_CHECK_FN(func, path != NULL, SJ_ENULL, "argument 'path' is NULL");
    SJ_TRY(sj__check_array(func, "array", array));
    SJ_TRY(check_mpi(func));
    return check_not_held(func, array, 0);
}

/* The file's type and shape against the target's (the same on every rank). */
static int check_target(const char *func, const char *path, const sj__io_header_t *h, sj_array_t a)
{
    sj_space_t s = a->space;
    int same = h->type == file_type(s->dtype) && (int)h->ndims == s->ndims;
    for (int d = 0; d < 3; d++)
        same = same && h->dims[d] == s->dims[d];
    if (same)
        return SJ_OK;
    char want[128];
    sj_space_describe(s, want, sizeof want);
    return sj__error(SJ_EMISMATCH, func, "'%s' holds %s %u-D %lld x %lld x %lld, the array is %s",
                     path, h->type == SJ__IO_F32 ? "float32" : "float64", h->ndims,
                     (long long)h->dims[0], (long long)h->dims[1], (long long)h->dims[2], want);
}

/* Rank 0 reads @p n bytes at @p off and every rank gets them (agreed). */
static int read_bcast(const char *func, sj__rt_file_t f, uint64_t off, void *buf, size_t n)
{
    SJ_TRY(agree(func, sj__rt_rank() == 0 ? sj__rt_file_read_at(f, off, buf, n) : SJ_OK));
    return sj__named(sj__rt_bcast(buf, n, 0), func);
}

int sj_array_load(const char *path, sj_array_t array, sj_file_info_t *info)
{
    const char *func = __func__;
    SJ_TRY(sj__rt_check_collective(func));
    plan_t p = {0};
    sj__rt_file_t f = NULL;
    uint64_t *table = NULL, *sums = NULL;
    unsigned char *hbuf = NULL;
    sj__io_header_t *h = calloc(1, sizeof *h);
    int rc =
        h ? load_args(func, path, array) : sj__error(SJ_ENOMEM, func, "out of memory for a header");
    SJ_TRY_GOTO(rc, agree(func, rc), out);
    SJ_TRY_GOTO(rc, agree(func, sj__rt_file_open(path, 0, &f)), out);

    struct {
        uint64_t size;
        unsigned char head[SJ__IO_HEADER];
    } *first = calloc(1, sizeof *first);
    hbuf = (unsigned char *)first;
    rc = first ? SJ_OK : sj__error(SJ_ENOMEM, func, "out of memory for a header");
    if (rc == SJ_OK && sj__rt_rank() == 0) {
        rc = sj__rt_file_size(f, &first->size);
        if (rc == SJ_OK)
            rc = sj__rt_file_read_at(f, 0, first->head,
                                     first->size < SJ__IO_HEADER ? first->size : SJ__IO_HEADER);
    }
    SJ_TRY_GOTO(rc, agree(func, rc), out);
    SJ_TRY_GOTO(rc, sj__named(sj__rt_bcast(first, sizeof *first, 0), func), out);
    char why[SJ__IO_WHY];
    /* the same bytes everywhere: every rank reaches the same verdict without a message */
    const size_t hsize = first->size < SJ__IO_HEADER ? (size_t)first->size : SJ__IO_HEADER;
    if (sj__io_header_decode(first->head, hsize, first->size, h, why) != 0) {
        rc = sj__error(SJ_EFORMAT, func, "'%s': %s", path, why);
        goto out;
    }
    SJ_TRY_GOTO(rc, check_target(func, path, h, array), out);

    table = malloc(8 * h->nchunks);
    sums = calloc(h->nchunks, sizeof *sums);
    rc = table && sums ? plan_make(array, &p, 1)
                       : sj__error(SJ_ENOMEM, func, "out of memory for %llu checksums",
                                   (unsigned long long)h->nchunks);
    SJ_TRY_GOTO(rc, agree(func, rc), out);
    SJ_TRY_GOTO(rc, read_bcast(func, f, h->table_offset, table, 8 * h->nchunks), out);
    if (sj__io_fnv1a(table, 8 * h->nchunks) != h->table_checksum) {
        rc = sj__error(SJ_EFORMAT, func,
                       "'%s': the checksum table is corrupted (its checksum does not match)", path);
        goto out;
    }
    /* phases, printed with SJ_VERBOSE: start, read, checked, copied */
    double t[4] = {sj__now(), 0, 0, 0};
    plan_pieces(&p);
    rc = sj__rt_file_runs_all(f, 0, h->data_offset, p.nio, p.off, p.len, p.mem);
    SJ_TRY_GOTO(rc, agree(func, rc), out);
    t[1] = sj__now();
    plan_sums(&p, h->chunk_bytes, h->elemsize, sums);
    SJ_TRY_GOTO(rc, sj__named(sj__rt_allreduce_u64_sum(sums, h->nchunks), func), out);
    t[2] = sj__now();
    for (uint64_t c = 0; c < h->nchunks; c++)
        if (sums[c] != table[c]) {
            uint64_t hi = (c + 1) * h->chunk_bytes;
            rc = sj__error(SJ_EFORMAT, func,
                           "'%s': data chunk %llu (bytes %llu to %llu of the data) is corrupted: "
                           "checksum %016llx, the table says %016llx",
                           path, (unsigned long long)c, (unsigned long long)(c * h->chunk_bytes),
                           (unsigned long long)(hi < h->data_bytes ? hi : h->data_bytes),
                           (unsigned long long)sums[c], (unsigned long long)table[c]);
            goto out;
        }
    /* the whole file checked: only now is the array written */
    SJ_TRY_GOTO(rc, agree(func, plan_copy_in(array, &p)), out);
    t[3] = sj__now();
    if (sj__rt_verbose() && sj__rt_rank() == 0)
        fprintf(stderr,
                "starjets: sj_array_load '%s': %llu bytes; rank 0: read %.3f s, checksums %.3f s, "
                "copy into the blocks %.3f s\n",
                path, (unsigned long long)h->data_bytes, t[1] - t[0], t[2] - t[1], t[3] - t[2]);
    if (info)
        info_of(h, info);
out:
    if (f) { /* every rank comes here together, the file open */
        const int close_rc = agree(func, sj__rt_file_close(&f));
        if (rc == SJ_OK)
            rc = close_rc;
    }
    free(hbuf);
    free(h);
    free(table);
    free(sums);
    plan_free(&p);
    return rc;
}
