/*
 * A small RGB canvas, a line drawer and a PNG writer and checker without a
 * library, for the examples' plots (examples/inversion.c).
 *
 * The PNG (RFC 2083) is 8-bit RGB, not interlaced; its IDAT chunk holds a zlib
 * stream (RFC 1950) of stored, uncompressed deflate blocks (RFC 1951, BTYPE
 * 00) over the rows, each row led by filter byte 0: no compressor is needed,
 * and a plot of 640 x 400 pixels takes 750 KiB. Chunks end with their CRC-32,
 * the zlib stream with the Adler-32 of the rows. png_check() reads a file
 * back and checks all of it.
 */
#ifndef SJ_EXAMPLE_PNG_H
#define SJ_EXAMPLE_PNG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct png_image {
    int w, h;
    unsigned char *rgb; /* row after row, 3 bytes a pixel, top row first */
} png_image_t;

typedef struct png_color {
    unsigned char r, g, b;
} png_color_t;

/* A white w x h canvas; 0, or -1 when out of memory. */
static inline int png_image_init(png_image_t *im, int w, int h)
{
    im->w = w;
    im->h = h;
    im->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!im->rgb)
        return -1;
    memset(im->rgb, 255, (size_t)w * (size_t)h * 3);
    return 0;
}

static inline void png_image_free(png_image_t *im)
{
    free(im->rgb);
    im->rgb = NULL;
}

/* Pixel (x, y), y downwards; outside the canvas: nothing. */
static inline void png_pixel(png_image_t *im, int x, int y, png_color_t c)
{
    if (x < 0 || y < 0 || x >= im->w || y >= im->h)
        return;
    unsigned char *p = im->rgb + 3 * ((size_t)y * (size_t)im->w + (size_t)x);
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
}

/* A line from (x0, y0) to (x1, y1), both ends drawn (Bresenham). */
static inline void png_line(png_image_t *im, int x0, int y0, int x1, int y1, png_color_t c)
{
    const int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        png_pixel(im, x0, y0, c);
        if (x0 == x1 && y0 == y1)
            return;
        const int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

/* A filled square of side 2 r + 1 around (x, y). */
static inline void png_dot(png_image_t *im, int x, int y, int r, png_color_t c)
{
    for (int j = -r; j <= r; j++)
        for (int i = -r; i <= r; i++)
            png_pixel(im, x + i, y + j, c);
}

/* ---- checksums ------------------------------------------------------------- */

/* CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) of n bytes, continuing crc. */
static inline uint32_t png_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    static uint32_t table[256];
    if (table[1] == 0)
        for (uint32_t k = 0; k < 256; k++) {
            uint32_t c = k;
            for (int b = 0; b < 8; b++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[k] = c;
        }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* Adler-32 (RFC 1950) of n bytes, continuing adler (1 to start). */
static inline uint32_t png_adler32(uint32_t adler, const unsigned char *p, size_t n)
{
    uint32_t a = adler & 0xFFFF, b = adler >> 16;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

static inline void png_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline uint32_t png_get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- writing ------------------------------------------------------------- */

/* One chunk: length, type, data, CRC-32 of type and data. 0, or -1 on a write error. */
static inline int png_chunk(FILE *f, const char type[4], const unsigned char *data, uint32_t n)
{
    unsigned char word[4];
    png_put32(word, n);
    uint32_t crc = png_crc32(0, (const unsigned char *)type, 4);
    crc = png_crc32(crc, data, n);
    int ok = fwrite(word, 1, 4, f) == 4 && fwrite(type, 1, 4, f) == 4 &&
             (n == 0 || fwrite(data, 1, n, f) == n);
    png_put32(word, crc);
    return ok && fwrite(word, 1, 4, f) == 4 ? 0 : -1;
}

/* Most bytes a stored deflate block holds. */
#define PNG_STORED_MAX 65535u

/* Write @p im to @p path: 0, or -1 (the file cannot be written, or no memory). */
static inline int png_write(const char *path, const png_image_t *im)
{
    const size_t row = 1 + 3 * (size_t)im->w, raw_n = row * (size_t)im->h;
    const size_t nblocks = raw_n / PNG_STORED_MAX + 1;
    const size_t z_n = 2 + raw_n + 5 * nblocks + 4;
    unsigned char *raw = malloc(raw_n), *z = malloc(z_n);
    FILE *f = raw && z ? fopen(path, "wb") : NULL;
    int rc = -1;
    if (!f)
        goto out;
    for (int y = 0; y < im->h; y++) { /* filter type 0 (None), then the pixels */
        raw[(size_t)y * row] = 0;
        memcpy(raw + (size_t)y * row + 1, im->rgb + (size_t)y * 3 * (size_t)im->w, row - 1);
    }
    size_t at = 0;
    z[at++] = 0x78; /* deflate, 32 KiB window; (0x78 * 256 + 0x01) % 31 == 0 */
    z[at++] = 0x01;
    for (size_t done = 0; done < raw_n || done == 0;) {
        const size_t len = raw_n - done < PNG_STORED_MAX ? raw_n - done : PNG_STORED_MAX;
        z[at++] = done + len == raw_n; /* BFINAL on the last, BTYPE 00: stored */
        z[at++] = (unsigned char)len;
        z[at++] = (unsigned char)(len >> 8);
        z[at++] = (unsigned char)~len;
        z[at++] = (unsigned char)(~len >> 8);
        memcpy(z + at, raw + done, len);
        at += len;
        done += len;
        if (len == 0)
            break;
    }
    png_put32(z + at, png_adler32(1, raw, raw_n));
    at += 4;
    unsigned char ihdr[13];
    png_put32(ihdr, (uint32_t)im->w);
    png_put32(ihdr + 4, (uint32_t)im->h);
    ihdr[8] = 8;  /* bits per sample */
    ihdr[9] = 2;  /* colour type: RGB */
    ihdr[10] = 0; /* compression: deflate */
    ihdr[11] = 0; /* filter method 0 */
    ihdr[12] = 0; /* not interlaced */
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (fwrite(signature, 1, 8, f) == 8 && png_chunk(f, "IHDR", ihdr, 13) == 0 &&
        png_chunk(f, "IDAT", z, (uint32_t)at) == 0 && png_chunk(f, "IEND", NULL, 0) == 0)
        rc = 0;
out:
    if (f && fclose(f) != 0)
        rc = -1;
    free(raw);
    free(z);
    return rc;
}

/* ---- reading back -------------------------------------------------------- */

/*
 * Check the PNG at @p path as png_write() makes them: the signature, a
 * w x h 8-bit RGB header, every chunk's CRC-32, IDAT's zlib header, its
 * stored blocks (LEN and NLEN), the rows' filter bytes, the Adler-32 of the
 * rows, and IEND last. NULL when all holds, else what did not.
 */
static inline const char *png_check(const char *path, int w, int h)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    const char *why = NULL;
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL, *raw = NULL;
    long size = -1;
    if (!f)
        return "cannot open the file";
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    rewind(f);
    buf = size > 0 ? malloc((size_t)size) : NULL;
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(buf);
        return "cannot read the file";
    }
    fclose(f);
    const size_t n = (size_t)size, row = 1 + 3 * (size_t)w, raw_n = row * (size_t)h;
    size_t at = 8, got = 0;
    int seen_ihdr = 0, seen_iend = 0;
    uint32_t adler = 0;
    raw = malloc(raw_n);
    if (!raw) {
        why = "no memory";
        goto out;
    }
    if (n < 8 || memcmp(buf, signature, 8) != 0) {
        why = "not a PNG signature";
        goto out;
    }
    while (!seen_iend) {
        if (at + 12 > n) {
            why = "a chunk runs past the end of the file";
            goto out;
        }
        const uint32_t len = png_get32(buf + at);
        const unsigned char *type = buf + at + 4, *data = buf + at + 8;
        if (len > n - at - 12) {
            why = "a chunk runs past the end of the file";
            goto out;
        }
        if (png_crc32(0, type, 4 + (size_t)len) != png_get32(data + len)) {
            why = "a chunk's CRC-32 is wrong";
            goto out;
        }
        if (!memcmp(type, "IHDR", 4)) {
            if (len != 13 || png_get32(data) != (uint32_t)w || png_get32(data + 4) != (uint32_t)h ||
                data[8] != 8 || data[9] != 2 || data[10] || data[11] || data[12]) {
                why = "the header is not that of a w x h 8-bit RGB image";
                goto out;
            }
            seen_ihdr = 1;
        } else if (!memcmp(type, "IDAT", 4)) { /* one zlib stream of stored blocks */
            size_t z = 0;
            if (len < 6 || data[0] != 0x78 || (data[0] * 256 + data[1]) % 31 != 0) {
                why = "no zlib header in IDAT";
                goto out;
            }
            z = 2;
            for (int last = 0; !last;) {
                if (z + 5 > len || (data[z] & 0x06) != 0) {
                    why = "IDAT holds a block that is not stored";
                    goto out;
                }
                last = data[z] & 1;
                const size_t bl = data[z + 1] | (size_t)data[z + 2] << 8;
                const size_t nl = data[z + 3] | (size_t)data[z + 4] << 8;
                if ((bl ^ nl) != 0xFFFF || z + 5 + bl > len || got + bl > raw_n) {
                    why = "a stored block's LEN and NLEN disagree or overrun";
                    goto out;
                }
                memcpy(raw + got, data + z + 5, bl);
                got += bl;
                z += 5 + bl;
            }
            if (z + 4 != len) {
                why = "IDAT does not end with the Adler-32 of its stream";
                goto out;
            }
            adler = png_get32(data + z);
        } else if (!memcmp(type, "IEND", 4)) {
            seen_iend = 1;
        }
        at += 12 + (size_t)len;
    }
    if (!seen_ihdr || got != raw_n) {
        why = seen_ihdr ? "the rows do not fill the image" : "no IHDR chunk";
        goto out;
    }
    if (png_adler32(1, raw, raw_n) != adler) {
        why = "the Adler-32 of the rows is wrong";
        goto out;
    }
    for (int y = 0; y < h; y++)
        if (raw[(size_t)y * row] != 0) {
            why = "a row's filter byte is not 0";
            goto out;
        }
    if (at != n)
        why = "bytes after IEND";
out:
    free(buf);
    free(raw);
    return why;
}

#endif /* SJ_EXAMPLE_PNG_H */
