/*
 * Fuzz target of the array file reader (src/io/format.c): every input is a
 * whole file, which sj__io_verify_buffer() must accept or refuse with a
 * sentence, never reading outside it; what it accepts must be consistent.
 *
 * Built two ways:
 *   clang -fsanitize=fuzzer,address,undefined -DSJ_LIBFUZZER ...   libFuzzer
 *                                       (tests/fuzz/run-fuzz, ctest fuzz_io)
 *   any C compiler, without SJ_LIBFUZZER: a driver that replays files
 *   (ctest fuzz_io_corpus) or writes the seed corpus:
 *       fuzz_io --make-corpus tests/fuzz/corpus
 *       fuzz_io FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_one(const uint8_t *data, size_t size);

/*
 * Each input is checked as it is, then with its checksums recomputed, so that
 * mutated header fields and data reach the checks behind the checksums.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_one(data, size);
    if (size >= SJ__IO_HEADER) {
        uint8_t *copy = malloc(size);
        memcpy(copy, data, size);
        sj__io_reseal(copy, size);
        check_one(copy, size);
        free(copy);
    }
    return 0;
}

static int check_one(const uint8_t *data, size_t size)
{
    sj__io_header_t h;
    char why[SJ__IO_WHY];
    why[0] = '\0';
    const int rc = sj__io_verify_buffer(data, size, &h, why);
    if (rc != 0) {
        if (rc > 0 || rc < -3 || why[0] == '\0' || strlen(why) >= SJ__IO_WHY)
            __builtin_trap(); /* a refusal always says why */
        return 0;
    }
    /* an accepted file is exactly header + data + table, and its fields agree */
    if (h.table_offset + 8 * h.nchunks != size || h.data_offset != SJ__IO_HEADER || h.ndims < 1 ||
        h.ndims > 3 || h.label_len > SJ__IO_LABEL_MAX || h.meta_size > SJ__IO_META_MAX ||
        strlen(h.label) != h.label_len)
        __builtin_trap();
    uint64_t n = 1;
    for (int d = 0; d < 3; d++)
        n *= (uint64_t)h.dims[d];
    if (n * h.elemsize != h.data_bytes)
        __builtin_trap();
    return 0;
}

#ifndef SJ_LIBFUZZER
/* A valid file of the given shape, values k * 0.5, chunks of @p chunk bytes. */
static unsigned char *make_file(uint32_t type, int ndims, const int64_t dims[3], uint64_t chunk,
                                const char *label, size_t meta_size, size_t *size)
{
    sj__io_header_t h;
    memset(&h, 0, sizeof h);
    h.type = type;
    h.ndims = (uint32_t)ndims;
    for (int d = 0; d < 3; d++)
        h.dims[d] = dims[d];
    sj__io_header_layout(&h);
    h.chunk_bytes = chunk;
    h.nchunks = (h.data_bytes + chunk - 1) / chunk;
    h.label_len = (uint32_t)strlen(label);
    memcpy(h.label, label, h.label_len);
    h.meta_size = (uint32_t)meta_size;
    for (size_t i = 0; i < meta_size; i++)
        h.meta[i] = (unsigned char)(i * 7);
    *size = h.table_offset + 8 * h.nchunks;
    unsigned char *buf = calloc(1, *size);
    unsigned char *data = buf + h.data_offset;
    for (uint64_t k = 0; k < h.data_bytes / h.elemsize; k++) {
        if (type == SJ__IO_F32) {
            float v = (float)k * 0.5f;
            memcpy(data + 4 * k, &v, 4);
        } else {
            double v = (double)k * 0.5;
            memcpy(data + 8 * k, &v, 8);
        }
    }
    uint64_t *sums = calloc(h.nchunks, 8);
    sj__io_chunk_sums(0, data, h.data_bytes, h.chunk_bytes, h.elemsize, 0, sums);
    memcpy(buf + h.table_offset, sums, 8 * h.nchunks);
    h.table_checksum = sj__io_fnv1a(sums, 8 * h.nchunks);
    sj__io_header_encode(&h, buf);
    free(sums);
    return buf;
}

static int write_seed(const char *dir, const char *name, const unsigned char *buf, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, size, f) != size) {
        perror(path);
        return 1;
    }
    fclose(f);
    return 0;
}

static int make_corpus(const char *dir)
{
    struct {
        const char *name;
        uint32_t type;
        int ndims;
        int64_t dims[3];
        uint64_t chunk;
        const char *label;
        size_t meta;
    } seeds[] = {
        {"valid-1d-f64", SJ__IO_F64, 1, {10, 1, 1}, 1 << 20, "", 0},
        {"valid-2d-f32-label-meta", SJ__IO_F32, 2, {3, 4, 1}, 1 << 20, "heat step 40", 8},
        {"valid-3d-f64", SJ__IO_F64, 3, {2, 3, 2}, 4096, "u", 100},
        {"valid-1d-f64-3chunks", SJ__IO_F64, 1, {1100, 1, 1}, 4096, "three chunks", 16},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        size_t size;
        unsigned char *buf = make_file(seeds[i].type, seeds[i].ndims, seeds[i].dims, seeds[i].chunk,
                                       seeds[i].label, seeds[i].meta, &size);
        bad |= write_seed(dir, seeds[i].name, buf, size);
        if (i == 0) { /* damaged variants of the first */
            bad |= write_seed(dir, "truncated", buf, size - 9);
            bad |= write_seed(dir, "header-only", buf, SJ__IO_HEADER);
            buf[SJ__IO_HEADER + 3] ^= 1;
            bad |= write_seed(dir, "data-bit-flip", buf, size);
            buf[SJ__IO_HEADER + 3] ^= 1;
            buf[45] ^= 1;
            bad |= write_seed(dir, "header-bit-flip", buf, size);
        }
        free(buf);
    }
    bad |= write_seed(dir, "foreign", (const unsigned char *)"#!/bin/sh\necho hello\n", 21);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--make-corpus") == 0)
        return make_corpus(argv[2]);
    int accepted = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            perror(argv[i]);
            return 1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        sj__io_header_t h;
        char why[SJ__IO_WHY] = "";
        const int rc = sj__io_verify_buffer(buf, (size_t)n, &h, why);
        accepted += rc == 0;
        printf("%s: %s\n", argv[i], rc == 0 ? "valid" : why);
        free(buf);
    }
    printf("fuzz_io: %d file(s) replayed, %d valid\n", argc - 1, accepted);
    return 0;
}
#endif
