/*
 * Encoding, decoding and checksums of the starjets array file (format.h).
 * Every field is read with memcpy at a fixed offset of a buffer whose length
 * is checked first, so that no file, however damaged, makes the reader read
 * past what it was given (tests/fuzz/fuzz_io.c holds it to that).
 */
#include <stdio.h>
#include <string.h>

#include "io/format.h"

/* Offsets of the header fields (docs/reliability.md has the table). */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 8,
    OFF_ENDIAN = 12,
    OFF_TYPE = 16,
    OFF_ELEMSIZE = 20,
    OFF_DESCR = 24, /* NumPy's dtype string, "<f8" or "<f4", for a human with od */
    OFF_NDIMS = 32,
    OFF_DIMS = 40,
    OFF_DATA_OFFSET = 64,
    OFF_DATA_BYTES = 72,
    OFF_CHUNK_BYTES = 80,
    OFF_NCHUNKS = 88,
    OFF_TABLE_OFFSET = 96,
    OFF_TABLE_CHECKSUM = 104,
    OFF_LABEL_LEN = 112,
    OFF_META_SIZE = 116,
    OFF_LABEL = 120,
    OFF_META = OFF_LABEL + SJ__IO_LABEL_MAX + 1,
    OFF_HEADER_CHECKSUM = SJ__IO_HEADER - 8,
};

static const unsigned char MAGIC[8] = {0x89, 'S', 'J', 'A', 'R', 'R', 'A', 'Y'};

uint64_t sj__io_fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* A bijection of 64-bit words (MurmurHash3's finaliser). */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

void sj__io_chunk_sums(uint64_t off, const void *p, size_t n, uint64_t chunk_bytes,
                       uint32_t elemsize, uint64_t first, uint64_t *sums)
{
    const unsigned char *b = p;
    while (n > 0) {
        const uint64_t c = off / chunk_bytes;
        size_t len = (size_t)(chunk_bytes - off % chunk_bytes);
        if (len > n)
            len = n;
        /* element g's term: its bits, keyed by (g + 1) * an odd constant, mixed */
        uint64_t s = 0, key = (off / elemsize + 1) * 0x9e3779b97f4a7c15ull;
        if (elemsize == 8) {
            for (size_t i = 0; i + 8 <= len; i += 8, key += 0x9e3779b97f4a7c15ull) {
                uint64_t w;
                memcpy(&w, b + i, 8);
                s += mix64(w ^ key);
            }
        } else {
            for (size_t i = 0; i + 4 <= len; i += 4, key += 0x9e3779b97f4a7c15ull) {
                uint32_t w;
                memcpy(&w, b + i, 4);
                s += mix64(w ^ key);
            }
        }
        sums[c - first] += s;
        b += len;
        off += len;
        n -= len;
    }
}

static void put32(unsigned char *buf, int off, uint32_t v)
{
    memcpy(buf + off, &v, 4);
}

static void put64(unsigned char *buf, int off, uint64_t v)
{
    memcpy(buf + off, &v, 8);
}

static uint32_t get32(const unsigned char *buf, int off)
{
    uint32_t v;
    memcpy(&v, buf + off, 4);
    return v;
}

static uint64_t get64(const unsigned char *buf, int off)
{
    uint64_t v;
    memcpy(&v, buf + off, 8);
    return v;
}

void sj__io_header_layout(sj__io_header_t *h)
{
    h->version = SJ__IO_VERSION;
    h->elemsize = h->type == SJ__IO_F32 ? 4 : 8;
    uint64_t n = 1;
    for (int d = 0; d < 3; d++)
        n *= (uint64_t)h->dims[d];
    h->data_offset = SJ__IO_HEADER;
    h->data_bytes = n * h->elemsize;
    h->chunk_bytes = SJ__IO_CHUNK;
    h->nchunks = (h->data_bytes + h->chunk_bytes - 1) / h->chunk_bytes;
    h->table_offset = h->data_offset + h->data_bytes;
}

void sj__io_header_encode(const sj__io_header_t *h, unsigned char *buf)
{
    memset(buf, 0, SJ__IO_HEADER);
    memcpy(buf + OFF_MAGIC, MAGIC, sizeof MAGIC);
    put32(buf, OFF_VERSION, h->version);
    put32(buf, OFF_ENDIAN, SJ__IO_ENDIAN);
    put32(buf, OFF_TYPE, h->type);
    put32(buf, OFF_ELEMSIZE, h->elemsize);
    memcpy(buf + OFF_DESCR, h->type == SJ__IO_F32 ? "<f4" : "<f8", 3);
    put32(buf, OFF_NDIMS, h->ndims);
    for (int d = 0; d < 3; d++)
        put64(buf, OFF_DIMS + 8 * d, (uint64_t)h->dims[d]);
    put64(buf, OFF_DATA_OFFSET, h->data_offset);
    put64(buf, OFF_DATA_BYTES, h->data_bytes);
    put64(buf, OFF_CHUNK_BYTES, h->chunk_bytes);
    put64(buf, OFF_NCHUNKS, h->nchunks);
    put64(buf, OFF_TABLE_OFFSET, h->table_offset);
    put64(buf, OFF_TABLE_CHECKSUM, h->table_checksum);
    put32(buf, OFF_LABEL_LEN, h->label_len);
    put32(buf, OFF_META_SIZE, h->meta_size);
    memcpy(buf + OFF_LABEL, h->label, h->label_len);
    memcpy(buf + OFF_META, h->meta, h->meta_size);
    put64(buf, OFF_HEADER_CHECKSUM, sj__io_fnv1a(buf, OFF_HEADER_CHECKSUM));
}

#define FAIL(code, ...)                                                                            \
    do {                                                                                           \
        snprintf(why, SJ__IO_WHY, __VA_ARGS__);                                                    \
        return (code);                                                                             \
    } while (0)

int sj__io_header_decode(const unsigned char *buf, size_t size, uint64_t file_size,
                         sj__io_header_t *h, char why[SJ__IO_WHY])
{
    memset(h, 0, sizeof *h);
    if (size < sizeof MAGIC || memcmp(buf, MAGIC, sizeof MAGIC) != 0)
        FAIL(-1, "not a starjets array file (its first 8 bytes are not the magic \\x89SJARRAY)");
    if (size < SJ__IO_HEADER || file_size < SJ__IO_HEADER)
        FAIL(-2, "truncated: %llu bytes, shorter than the %d-byte header",
             (unsigned long long)file_size, SJ__IO_HEADER);
    const uint32_t endian = get32(buf, OFF_ENDIAN);
    if (endian != SJ__IO_ENDIAN)
        FAIL(-2,
             "byte-order marker 0x%08x, expected 0x%08x: written on a machine of the other "
             "byte order, or a corrupted header",
             endian, SJ__IO_ENDIAN);
    if (get64(buf, OFF_HEADER_CHECKSUM) != sj__io_fnv1a(buf, OFF_HEADER_CHECKSUM))
        FAIL(-2, "the header is corrupted (its checksum does not match)");
    h->version = get32(buf, OFF_VERSION);
    if (h->version != SJ__IO_VERSION)
        FAIL(-2, "format version %u, this starjets reads version %u", h->version, SJ__IO_VERSION);
    h->type = get32(buf, OFF_TYPE);
    h->elemsize = get32(buf, OFF_ELEMSIZE);
    if (!((h->type == SJ__IO_F64 && h->elemsize == 8) ||
          (h->type == SJ__IO_F32 && h->elemsize == 4)))
        FAIL(-2, "unknown element type %u of %u bytes", h->type, h->elemsize);
    h->ndims = get32(buf, OFF_NDIMS);
    if (h->ndims < 1 || h->ndims > 3)
        FAIL(-2, "%u dimensions, expected 1 to 3", h->ndims);
    uint64_t n = 1;
    for (uint32_t d = 0; d < 3; d++) {
        const uint64_t len = get64(buf, OFF_DIMS + 8 * (int)d);
        if (len < 1 || len > ((uint64_t)1 << 48) || (d >= h->ndims && len != 1))
            FAIL(-2, "dimension %u has length %llu", d, (unsigned long long)len);
        h->dims[d] = (int64_t)len;
        n *= len;
        if (n > ((uint64_t)1 << 56))
            FAIL(-2, "the shape has more than 2^56 elements");
    }
    h->data_offset = get64(buf, OFF_DATA_OFFSET);
    h->data_bytes = get64(buf, OFF_DATA_BYTES);
    h->chunk_bytes = get64(buf, OFF_CHUNK_BYTES);
    h->nchunks = get64(buf, OFF_NCHUNKS);
    h->table_offset = get64(buf, OFF_TABLE_OFFSET);
    h->table_checksum = get64(buf, OFF_TABLE_CHECKSUM);
    if (h->data_offset != SJ__IO_HEADER)
        FAIL(-2, "data offset %llu, expected %d", (unsigned long long)h->data_offset,
             SJ__IO_HEADER);
    if (h->data_bytes != n * h->elemsize)
        FAIL(-2, "%llu data bytes for %llu elements of %u bytes", (unsigned long long)h->data_bytes,
             (unsigned long long)n, h->elemsize);
    if (h->chunk_bytes < 4096 || h->chunk_bytes > ((uint64_t)1 << 30) ||
        (h->chunk_bytes & (h->chunk_bytes - 1)) != 0)
        FAIL(-2, "chunk size %llu is not a power of two in [4 KiB, 1 GiB]",
             (unsigned long long)h->chunk_bytes);
    if (h->nchunks != (h->data_bytes + h->chunk_bytes - 1) / h->chunk_bytes)
        FAIL(-2, "%llu checksums for %llu data bytes", (unsigned long long)h->nchunks,
             (unsigned long long)h->data_bytes);
    if (h->table_offset != h->data_offset + h->data_bytes)
        FAIL(-2, "checksum table at byte %llu, expected %llu", (unsigned long long)h->table_offset,
             (unsigned long long)(h->data_offset + h->data_bytes));
    const uint64_t expect = h->table_offset + 8 * h->nchunks;
    if (file_size < expect)
        FAIL(-2, "truncated: %llu bytes, the header says %llu", (unsigned long long)file_size,
             (unsigned long long)expect);
    if (file_size > expect)
        FAIL(-2, "%llu bytes, the header says %llu: bytes were appended",
             (unsigned long long)file_size, (unsigned long long)expect);
    h->label_len = get32(buf, OFF_LABEL_LEN);
    h->meta_size = get32(buf, OFF_META_SIZE);
    if (h->label_len > SJ__IO_LABEL_MAX)
        FAIL(-2, "label of %u bytes, at most %d", h->label_len, SJ__IO_LABEL_MAX);
    if (h->meta_size > SJ__IO_META_MAX)
        FAIL(-2, "metadata of %u bytes, at most %d", h->meta_size, SJ__IO_META_MAX);
    memcpy(h->label, buf + OFF_LABEL, h->label_len);
    h->label[h->label_len] = '\0';
    if (strlen(h->label) != h->label_len)
        FAIL(-2, "the label holds a NUL byte");
    memcpy(h->meta, buf + OFF_META, h->meta_size);
    return 0;
}

int sj__io_verify_buffer(const unsigned char *buf, size_t size, sj__io_header_t *h,
                         char why[SJ__IO_WHY])
{
    int rc = sj__io_header_decode(buf, size, size, h, why);
    if (rc != 0)
        return rc;
    const unsigned char *table = buf + h->table_offset;
    if (sj__io_fnv1a(table, 8 * h->nchunks) != h->table_checksum)
        FAIL(-3, "the checksum table is corrupted (its checksum does not match)");
    uint64_t sums[64];
    for (uint64_t c0 = 0; c0 < h->nchunks; c0 += 64) {
        const uint64_t nc = h->nchunks - c0 < 64 ? h->nchunks - c0 : 64;
        memset(sums, 0, sizeof sums);
        const uint64_t lo = c0 * h->chunk_bytes;
        uint64_t hi = (c0 + nc) * h->chunk_bytes;
        if (hi > h->data_bytes)
            hi = h->data_bytes;
        sj__io_chunk_sums(lo, buf + h->data_offset + lo, (size_t)(hi - lo), h->chunk_bytes,
                          h->elemsize, c0, sums);
        for (uint64_t c = 0; c < nc; c++) {
            uint64_t want;
            memcpy(&want, table + 8 * (c0 + c), 8);
            if (sums[c] != want)
                FAIL(-3,
                     "data chunk %llu (bytes %llu to %llu of the data) is corrupted: checksum "
                     "%016llx, the table says %016llx",
                     (unsigned long long)(c0 + c), (unsigned long long)((c0 + c) * h->chunk_bytes),
                     (unsigned long long)((c0 + c + 1) * h->chunk_bytes < h->data_bytes
                                              ? (c0 + c + 1) * h->chunk_bytes
                                              : h->data_bytes),
                     (unsigned long long)sums[c], (unsigned long long)want);
        }
    }
    return 0;
}

void sj__io_reseal(unsigned char *buf, size_t size)
{
    if (size < SJ__IO_HEADER)
        return;
    const uint64_t table = get64(buf, OFF_TABLE_OFFSET), n = get64(buf, OFF_NCHUNKS);
    if (table <= size && n <= (size - table) / 8)
        put64(buf, OFF_TABLE_CHECKSUM, sj__io_fnv1a(buf + table, 8 * n));
    put64(buf, OFF_HEADER_CHECKSUM, sj__io_fnv1a(buf, OFF_HEADER_CHECKSUM));
}
