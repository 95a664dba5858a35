/*
 * The starjets array file format (docs/reliability.md): a fixed header of
 * SJ__IO_HEADER bytes, the data in global column-major order, then a table of
 * one checksum per chunk of the data. Pure C: no runtime, no MPI, so that the
 * parser is fuzzed on its own (tests/fuzz/fuzz_io.c).
 */
#ifndef SJ_IO_FORMAT_H
#define SJ_IO_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define SJ__IO_HEADER 8192 /* the data start here */
#define SJ__IO_VERSION 1u
#define SJ__IO_ENDIAN 0x01020304u        /* reads back swapped on the other byte order */
#define SJ__IO_CHUNK ((uint64_t)1 << 20) /* bytes of data per checksum */
#define SJ__IO_LABEL_MAX 255
#define SJ__IO_META_MAX 4096
#define SJ__IO_WHY 320 /* room for a sentence */

/* Element types as the file numbers them (independent of sj_dtype_t). */
enum { SJ__IO_F64 = 1, SJ__IO_F32 = 2 };

/* What a header says, decoded. */
typedef struct sj__io_header {
    uint32_t version;
    uint32_t type;     /* SJ__IO_F64 or SJ__IO_F32 */
    uint32_t elemsize; /* 8 or 4 */
    uint32_t ndims;    /* 1 to 3 */
    int64_t dims[3];   /* 1 for unused dimensions */
    uint64_t data_offset;
    uint64_t data_bytes;
    uint64_t chunk_bytes;
    uint64_t nchunks;
    uint64_t table_offset;
    uint64_t table_checksum;
    uint32_t label_len;
    uint32_t meta_size;
    char label[SJ__IO_LABEL_MAX + 1]; /* NUL-terminated */
    unsigned char meta[SJ__IO_META_MAX];
} sj__io_header_t;

/* Fill the derived fields (data_offset, data_bytes, chunk_bytes, nchunks,
 * table_offset) of a header whose type, ndims and dims are set. */
void sj__io_header_layout(sj__io_header_t *h);
/* Encode @p h into @p buf (SJ__IO_HEADER bytes), with its checksum. */
void sj__io_header_encode(const sj__io_header_t *h, unsigned char *buf);
/*
 * Decode and validate a header read from a file of @p file_size bytes
 * (@p size bytes of it at @p buf, at most SJ__IO_HEADER are read). Returns 0,
 * or -1 (not a starjets array file at all) or -2 (one, but damaged:
 * truncated, corrupted, an unknown version) with a sentence in @p why.
 */
int sj__io_header_decode(const unsigned char *buf, size_t size, uint64_t file_size,
                         sj__io_header_t *h, char why[SJ__IO_WHY]);

/* FNV-1a, 64 bits (header and table checksums). */
uint64_t sj__io_fnv1a(const void *p, size_t n);
/*
 * Add the checksum terms of @p n bytes that lie at byte @p off of the data
 * (whole elements of @p elemsize bytes, 8 or 4) to the per-chunk sums
 * @p sums (sums[c - first] for chunk c). A chunk's checksum is the sum,
 * modulo 2^64, of one term per element: a bijective mix of the element's bits
 * xor (g + 1) times an odd constant, g its global index. Pieces of a chunk
 * may be summed on different ranks in any order; any single changed element
 * changes the sum, and so does, with overwhelming probability, any other
 * damage (moved, swapped or zeroed elements).
 */
void sj__io_chunk_sums(uint64_t off, const void *p, size_t n, uint64_t chunk_bytes,
                       uint32_t elemsize, uint64_t first, uint64_t *sums);
/*
 * Check a whole file held in memory: header, table and every chunk. Returns
 * 0 or a negative value with a sentence, as sj__io_header_decode(); -3 for a
 * data chunk or table that does not match its checksum.
 */
int sj__io_verify_buffer(const unsigned char *buf, size_t size, sj__io_header_t *h,
                         char why[SJ__IO_WHY]);

/*
 * Recompute the table checksum (when the header's table lies inside @p size
 * bytes) and the header checksum of a file in memory: lets the fuzzer reach
 * the checks behind the checksums with mutated fields.
 */
void sj__io_reseal(unsigned char *buf, size_t size);

#endif /* SJ_IO_FORMAT_H */
