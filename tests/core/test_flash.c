/* Tests for the NOR flash model (src/flash.c, docs/flash-model.md). */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "esp32sim/flash.h"

#define MIB     ((size_t)1024 * 1024)
#define SECTOR  ESIM_FLASH_SECTOR_SIZE

/* ---- helpers ---- */

typedef struct {
    char dir[64];
    char path[128];     /* "<dir>/a.img" */
    char wear[128];     /* "<dir>/a.img.wear" */
} tmp_paths;

static int make_tmp(void **state)
{
    tmp_paths *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    strcpy(t->dir, "/tmp/esim-flash-XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    snprintf(t->path, sizeof t->path, "%s/a.img", t->dir);
    snprintf(t->wear, sizeof t->wear, "%s/a.img.wear", t->dir);
    *state = t;
    return 0;
}

static int remove_tmp(void **state)
{
    tmp_paths *t = *state;
    DIR *d = opendir(t->dir);
    struct dirent *e;
    char name[512];

    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(name, sizeof name, "%s/%s", t->dir, e->d_name);
        unlink(name);
    }
    if (d)
        closedir(d);
    rmdir(t->dir);
    free(t);
    return 0;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Reads a whole file; the caller frees. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf;
    long n;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void spill(const char *path, const uint8_t *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t value)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != value)
            return false;
    }
    return true;
}

/* A pattern that never contains 0xFF, so every programmed byte shows. */
static void fill_pattern(uint8_t *buf, size_t len, unsigned salt)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((i * 7 + salt) % 0xFF);
}

static esim_flash *open_mem(size_t size)
{
    esim_flash *f = NULL;
    assert_int_equal(esim_flash_open_memory(size, &f), ESP_OK);
    assert_non_null(f);
    return f;
}

static void program_zeros(esim_flash *f, uint32_t addr, size_t len)
{
    uint8_t *zeros = calloc(1, len);
    assert_non_null(zeros);
    assert_int_equal(esim_flash_program(f, addr, zeros, len), ESP_OK);
    free(zeros);
}

static void assert_counters(const esim_flash *f, uint64_t read_ops, uint64_t bytes_read,
                            uint64_t program_ops, uint64_t bytes_programmed,
                            uint64_t erase_ops, uint64_t sectors_erased)
{
    esim_flash_counters c;
    esim_flash_get_counters(f, &c);
    assert_int_equal(c.read_ops, read_ops);
    assert_int_equal(c.bytes_read, bytes_read);
    assert_int_equal(c.program_ops, program_ops);
    assert_int_equal(c.bytes_programmed, bytes_programmed);
    assert_int_equal(c.erase_ops, erase_ops);
    assert_int_equal(c.sectors_erased, sectors_erased);
}

/* ---- geometry and opening ---- */

static void test_sizes_supported(void **state)
{
    (void)state;
    assert_true(esim_flash_size_supported(2 * MIB));
    assert_true(esim_flash_size_supported(4 * MIB));
    assert_true(esim_flash_size_supported(8 * MIB));
    assert_true(esim_flash_size_supported(16 * MIB));
    assert_false(esim_flash_size_supported(0));
    assert_false(esim_flash_size_supported(1 * MIB));
    assert_false(esim_flash_size_supported(3 * MIB));
    assert_false(esim_flash_size_supported(32 * MIB));
    assert_false(esim_flash_size_supported(2 * MIB + SECTOR));
}

static void test_memory_open_rejects_sizes(void **state)
{
    const size_t bad[] = { 0, 1, 1 * MIB, 3 * MIB, 32 * MIB, 2 * MIB - SECTOR };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        esim_flash *f = (esim_flash *)&f;   /* must be reset to NULL */
        assert_int_equal(esim_flash_open_memory(bad[i], &f), ESP_ERR_INVALID_SIZE);
        assert_null(f);
    }
    assert_int_equal(esim_flash_open_memory(2 * MIB, NULL), ESP_ERR_INVALID_ARG);
}

static void test_memory_open_is_erased(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    esim_flash *g = open_mem(4 * MIB);
    (void)state;
    assert_int_equal(esim_flash_size(f), 2 * MIB);
    assert_null(esim_flash_path(f));
    assert_int_equal(esim_flash_sector_count(f), 512);
    assert_int_equal(esim_flash_sector_count(g), 1024);
    assert_true(all_bytes(esim_flash_peek(f), 2 * MIB, 0xFF));
    assert_true(all_bytes(esim_flash_peek(g), 4 * MIB, 0xFF));
    assert_counters(f, 0, 0, 0, 0, 0, 0);
    assert_true(esim_flash_powered(f));
    assert_false(esim_flash_cut_armed(f));
    assert_int_equal(esim_flash_sync(f), ESP_OK);
    esim_flash_close(f);
    esim_flash_close(g);
}

static void test_close_null(void **state)
{
    (void)state;
    esim_flash_close(NULL);
    assert_int_equal(esim_flash_sync(NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_read(NULL, 0, NULL, 0), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_sector(NULL, 0), ESP_ERR_INVALID_ARG);
}

/* ---- semantics ---- */

static void test_program_ands_bits(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    const uint8_t a[4] = { 0x0F, 0xF0, 0xAA, 0x00 };
    const uint8_t b[4] = { 0xF0, 0xFF, 0x55, 0xFF };
    const uint8_t *chip = esim_flash_peek(f);
    (void)state;

    assert_int_equal(esim_flash_program(f, 10, a, 4), ESP_OK);
    assert_memory_equal(chip + 10, a, 4);
    assert_int_equal(esim_flash_program(f, 10, b, 4), ESP_OK);
    assert_int_equal(chip[10], 0x00);
    assert_int_equal(chip[11], 0xF0);
    assert_int_equal(chip[12], 0x00);
    assert_int_equal(chip[13], 0x00);
    assert_int_equal(chip[9], 0xFF);
    assert_int_equal(chip[14], 0xFF);
    esim_flash_close(f);
}

static void test_read_copies_out(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    uint8_t data[16], back[16];
    (void)state;

    fill_pattern(data, sizeof data, 3);
    assert_int_equal(esim_flash_program(f, 2 * MIB - 16, data, 16), ESP_OK);
    assert_int_equal(esim_flash_read(f, 2 * MIB - 16, back, 16), ESP_OK);
    assert_memory_equal(back, data, 16);
    back[0] ^= 0x01;
    assert_int_equal(esim_flash_peek(f)[2 * MIB - 16], data[0]);
    assert_counters(f, 1, 16, 1, 16, 0, 0);
    esim_flash_close(f);
}

static void test_bounds(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    uint8_t buf[8] = { 0 };
    (void)state;

    assert_int_equal(esim_flash_read(f, 2 * MIB - 1, buf, 2), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_program(f, 2 * MIB - 1, buf, 2), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_read(f, 2 * MIB, buf, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_read(f, UINT32_MAX, buf, 1), ESP_ERR_INVALID_ARG);
    /* addr + len wraps around: must still be rejected */
    assert_int_equal(esim_flash_read(f, 4, buf, SIZE_MAX - 2), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_program(f, 4, buf, SIZE_MAX - 2), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_program(f, UINT32_MAX, buf, SIZE_MAX), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_read(f, 0, NULL, 4), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_program(f, 0, NULL, 4), ESP_ERR_INVALID_ARG);
    /* len 0 is a no-op that succeeds, even at the very end */
    assert_int_equal(esim_flash_read(f, 2 * MIB, buf, 0), ESP_OK);
    assert_int_equal(esim_flash_program(f, 0, NULL, 0), ESP_OK);
    /* the last byte is fine */
    assert_int_equal(esim_flash_program(f, 2 * MIB - 1, buf, 1), ESP_OK);
    assert_int_equal(esim_flash_peek(f)[2 * MIB - 1], 0x00);
    assert_counters(f, 0, 0, 1, 1, 0, 0);
    assert_true(all_bytes(esim_flash_peek(f), 2 * MIB - 1, 0xFF));
    esim_flash_close(f);
}

static void test_erase_alignment_and_bounds(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    (void)state;

    program_zeros(f, 0, 2 * SECTOR);
    assert_int_equal(esim_flash_erase_sector(f, 512), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_sector(f, UINT32_MAX), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_range(f, 1, SECTOR), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_range(f, 0, SECTOR + 4), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_range(f, 2 * MIB - SECTOR, 2 * SECTOR), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_range(f, 2 * MIB, SECTOR), ESP_ERR_INVALID_ARG);
    /* aligned, but addr + len wraps */
    assert_int_equal(esim_flash_erase_range(f, 0xFFFFF000u, SIZE_MAX - (SECTOR - 1)),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_range(f, SECTOR, SIZE_MAX - (SECTOR - 1)),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_range(f, 2 * MIB, 0), ESP_OK);
    assert_int_equal(esim_flash_erase_range(f, 0, 0), ESP_OK);
    /* nothing was erased by any of the above */
    assert_true(all_bytes(esim_flash_peek(f), 2 * SECTOR, 0x00));
    assert_counters(f, 0, 0, 1, 2 * SECTOR, 0, 0);
    esim_flash_close(f);
}

static void test_erase_sector_and_range(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    const uint8_t *chip = esim_flash_peek(f);
    (void)state;

    program_zeros(f, 0, 5 * SECTOR);
    assert_int_equal(esim_flash_erase_sector(f, 1), ESP_OK);
    assert_true(all_bytes(chip, SECTOR, 0x00));
    assert_true(all_bytes(chip + SECTOR, SECTOR, 0xFF));
    assert_true(all_bytes(chip + 2 * SECTOR, 3 * SECTOR, 0x00));

    assert_int_equal(esim_flash_erase_range(f, 2 * SECTOR, 2 * SECTOR), ESP_OK);
    assert_true(all_bytes(chip, SECTOR, 0x00));
    assert_true(all_bytes(chip + SECTOR, 3 * SECTOR, 0xFF));
    assert_true(all_bytes(chip + 4 * SECTOR, SECTOR, 0x00));

    assert_int_equal(esim_flash_erase_range(f, 0, 2 * MIB), ESP_OK);
    assert_true(all_bytes(chip, 2 * MIB, 0xFF));
    esim_flash_close(f);
}

static void test_counters_and_wear(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    uint8_t buf[100];
    (void)state;

    fill_pattern(buf, sizeof buf, 1);
    assert_int_equal(esim_flash_program(f, 0, buf, 100), ESP_OK);
    assert_int_equal(esim_flash_program(f, 200, buf, 50), ESP_OK);
    assert_int_equal(esim_flash_read(f, 0, buf, 100), ESP_OK);
    assert_int_equal(esim_flash_read(f, 0, buf, 3), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 7), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 7), ESP_OK);
    assert_int_equal(esim_flash_erase_range(f, 6 * SECTOR, 3 * SECTOR), ESP_OK);
    /* rejected calls are not counted */
    assert_int_equal(esim_flash_read(f, 2 * MIB, buf, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_sector(f, 9999), ESP_ERR_INVALID_ARG);

    assert_counters(f, 2, 103, 2, 150, 5, 5);
    assert_int_equal(esim_flash_sector_erase_count(f, 5), 0);
    assert_int_equal(esim_flash_sector_erase_count(f, 6), 1);
    assert_int_equal(esim_flash_sector_erase_count(f, 7), 3);
    assert_int_equal(esim_flash_sector_erase_count(f, 8), 1);
    assert_int_equal(esim_flash_sector_erase_count(f, 9), 0);
    assert_int_equal(esim_flash_sector_erase_count(f, 512), 0);

    esim_flash_reset_counters(f);
    assert_counters(f, 0, 0, 0, 0, 0, 0);
    assert_int_equal(esim_flash_sector_erase_count(f, 7), 0);
    esim_flash_close(f);
}

/* ---- image files ---- */

static void test_file_missing_without_create(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = (esim_flash *)&f;

    assert_int_equal(esim_flash_open_file(t->path, 2 * MIB, false, &f), ESP_ERR_NOT_FOUND);
    assert_null(f);
    assert_false(file_exists(t->path));
    assert_int_equal(esim_flash_open_file(NULL, 2 * MIB, true, &f), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_open_file(t->path, 2 * MIB, true, NULL), ESP_ERR_INVALID_ARG);
    assert_false(file_exists(t->path));
}

static void test_file_create(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = NULL;
    size_t len;
    uint8_t *img;

    assert_int_equal(esim_flash_open_file(t->path, 3 * MIB, true, &f), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esim_flash_open_file(t->path, 0, true, &f), ESP_ERR_INVALID_SIZE);
    assert_false(file_exists(t->path));

    assert_int_equal(esim_flash_open_file(t->path, 4 * MIB, true, &f), ESP_OK);
    assert_string_equal(esim_flash_path(f), t->path);
    assert_int_equal(esim_flash_size(f), 4 * MIB);
    assert_true(all_bytes(esim_flash_peek(f), 4 * MIB, 0xFF));
    esim_flash_close(f);

    img = slurp(t->path, &len);
    assert_int_equal(len, 4 * MIB);
    assert_true(all_bytes(img, len, 0xFF));
    free(img);
    assert_true(file_exists(t->wear));
}

static void test_file_reopen_keeps_data(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = NULL;
    uint8_t data[300], back[300];
    size_t len1, len2;
    uint8_t *before, *after;

    fill_pattern(data, sizeof data, 9);
    assert_int_equal(esim_flash_open_file(t->path, 2 * MIB, true, &f), ESP_OK);
    assert_int_equal(esim_flash_program(f, 5000, data, sizeof data), ESP_OK);
    esim_flash_close(f);

    /* size 0 = whatever the file has; create with an existing file just opens it */
    assert_int_equal(esim_flash_open_file(t->path, 0, false, &f), ESP_OK);
    assert_int_equal(esim_flash_size(f), 2 * MIB);
    assert_int_equal(esim_flash_read(f, 5000, back, sizeof back), ESP_OK);
    assert_memory_equal(back, data, sizeof data);
    esim_flash_close(f);
    assert_int_equal(esim_flash_open_file(t->path, 2 * MIB, true, &f), ESP_OK);
    assert_memory_equal(esim_flash_peek(f) + 5000, data, sizeof data);
    esim_flash_close(f);

    /* a size mismatch fails and leaves the file as it was */
    before = slurp(t->path, &len1);
    f = (esim_flash *)&f;
    assert_int_equal(esim_flash_open_file(t->path, 4 * MIB, true, &f), ESP_ERR_INVALID_SIZE);
    assert_null(f);
    after = slurp(t->path, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(before, after, len1);
    free(before);
    free(after);
}

static void test_file_unsupported_existing(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = NULL;
    uint8_t junk[1000], *back;
    size_t len;

    fill_pattern(junk, sizeof junk, 5);
    spill(t->path, junk, sizeof junk);
    assert_int_equal(esim_flash_open_file(t->path, 0, true, &f), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esim_flash_open_file(t->path, 2 * MIB, true, &f), ESP_ERR_INVALID_SIZE);
    assert_null(f);
    back = slurp(t->path, &len);
    assert_int_equal(len, sizeof junk);
    assert_memory_equal(back, junk, sizeof junk);
    free(back);
    assert_false(file_exists(t->wear));
}

/* Does a fixed set of operations on a file image and closes it. */
static void exercise_file(const char *path)
{
    esim_flash *f = NULL;
    uint8_t buf[64];

    fill_pattern(buf, sizeof buf, 2);
    assert_int_equal(esim_flash_open_file(path, 2 * MIB, true, &f), ESP_OK);
    assert_int_equal(esim_flash_program(f, 0, buf, 64), ESP_OK);
    assert_int_equal(esim_flash_read(f, 0, buf, 10), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 3), ESP_OK);
    assert_int_equal(esim_flash_erase_range(f, 3 * SECTOR, 2 * SECTOR), ESP_OK);
    esim_flash_close(f);
}

static void test_sidecar_persists(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = NULL;
    uint8_t buf[8];

    exercise_file(t->path);
    assert_int_equal(esim_flash_open_file(t->path, 0, false, &f), ESP_OK);
    assert_counters(f, 1, 10, 1, 64, 3, 3);
    assert_int_equal(esim_flash_sector_erase_count(f, 3), 2);
    assert_int_equal(esim_flash_sector_erase_count(f, 4), 1);
    assert_int_equal(esim_flash_read(f, 0, buf, 8), ESP_OK);
    esim_flash_close(f);

    /* the counters keep adding up across sessions */
    assert_int_equal(esim_flash_open_file(t->path, 0, false, &f), ESP_OK);
    assert_counters(f, 2, 18, 1, 64, 3, 3);
    esim_flash_close(f);
}

/* The byte layout documented in docs/flash-model.md. */
static void test_sidecar_layout(void **state)
{
    tmp_paths *t = *state;
    size_t len;
    uint8_t *w;

    exercise_file(t->path);
    w = slurp(t->wear, &len);
    assert_int_equal(len, 60 + 4 * 512 + 4);
    assert_memory_equal(w, "ESWR", 4);
    assert_int_equal(w[4], 1);                          /* version, LE */
    assert_true(all_bytes(w + 5, 3, 0));
    assert_int_equal(w[8], 1);                          /* read_ops */
    assert_int_equal(w[16], 10);                        /* bytes_read */
    assert_int_equal(w[24], 1);                         /* program_ops */
    assert_int_equal(w[32], 64);                        /* bytes_programmed */
    assert_int_equal(w[40], 3);                         /* erase_ops */
    assert_int_equal(w[48], 3);                         /* sectors_erased */
    assert_int_equal(w[56] | w[57] << 8, 512);          /* sector count */
    assert_int_equal(w[60 + 4 * 3], 2);                 /* wear of sector 3 */
    assert_int_equal(w[60 + 4 * 4], 1);
    assert_int_equal(w[60 + 4 * 5], 0);
    uint32_t crc = (uint32_t)crc32(0L, w, (uInt)(len - 4));
    uint32_t stored = (uint32_t)w[len - 4] | (uint32_t)w[len - 3] << 8
                    | (uint32_t)w[len - 2] << 16 | (uint32_t)w[len - 1] << 24;
    assert_int_equal(stored, crc);
    free(w);
}

/* Replaces the sidecar, reopens, and expects zero counters and intact data. */
static void reopen_expect_fresh_counters(const tmp_paths *t, const uint8_t *wear, size_t len)
{
    esim_flash *f = NULL;
    uint8_t expect[64];

    spill(t->wear, wear, len);
    assert_int_equal(esim_flash_open_file(t->path, 0, false, &f), ESP_OK);
    assert_counters(f, 0, 0, 0, 0, 0, 0);
    assert_int_equal(esim_flash_sector_erase_count(f, 3), 0);
    fill_pattern(expect, sizeof expect, 2);
    assert_memory_equal(esim_flash_peek(f), expect, sizeof expect);
    esim_flash_close(f);
}

static void test_sidecar_corrupt(void **state)
{
    tmp_paths *t = *state;
    char other[160], other_wear[168];
    size_t len, olen;
    uint8_t *good, *bad, *foreign;

    exercise_file(t->path);
    good = slurp(t->wear, &len);
    bad = malloc(len);
    assert_non_null(bad);

    memcpy(bad, good, len);
    bad[60 + 4 * 3] ^= 0x40;                            /* a wear count */
    reopen_expect_fresh_counters(t, bad, len);
    memcpy(bad, good, len);
    bad[0] = 'X';                                       /* the magic, CRC fixed up */
    uint32_t crc = (uint32_t)crc32(0L, bad, (uInt)(len - 4));
    for (int i = 0; i < 4; i++)
        bad[len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
    reopen_expect_fresh_counters(t, bad, len);
    reopen_expect_fresh_counters(t, good, len - 1);     /* truncated */
    reopen_expect_fresh_counters(t, good, 0);

    /* a valid sidecar of a 4 MiB image is foreign to a 2 MiB one */
    snprintf(other, sizeof other, "%s/b.img", t->dir);
    snprintf(other_wear, sizeof other_wear, "%s.wear", other);
    esim_flash *g = NULL;
    assert_int_equal(esim_flash_open_file(other, 4 * MIB, true, &g), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(g, 3), ESP_OK);
    esim_flash_close(g);
    foreign = slurp(other_wear, &olen);
    reopen_expect_fresh_counters(t, foreign, olen);

    /* and the good one still loads */
    esim_flash *f = NULL;
    spill(t->wear, good, len);
    assert_int_equal(esim_flash_open_file(t->path, 0, false, &f), ESP_OK);
    assert_counters(f, 1, 10, 1, 64, 3, 3);
    esim_flash_close(f);
    free(good);
    free(bad);
    free(foreign);
}

static void test_sync_writes_to_disk(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = NULL;
    char tmpname[160];
    uint8_t data[32], *img, *w;
    size_t len, wlen;

    fill_pattern(data, sizeof data, 4);
    assert_int_equal(esim_flash_open_file(t->path, 2 * MIB, true, &f), ESP_OK);
    assert_int_equal(esim_flash_program(f, 100, data, sizeof data), ESP_OK);
    assert_int_equal(esim_flash_sync(f), ESP_OK);

    img = slurp(t->path, &len);
    assert_memory_equal(img + 100, data, sizeof data);
    w = slurp(t->wear, &wlen);
    assert_int_equal(wlen, 60 + 4 * 512 + 4);
    assert_int_equal(w[32], sizeof data);               /* bytes_programmed */
    snprintf(tmpname, sizeof tmpname, "%s.tmp", t->wear);
    assert_false(file_exists(tmpname));
    esim_flash_close(f);
    free(img);
    free(w);
}

static void test_new_image_ignores_stale_sidecar(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = NULL;

    exercise_file(t->path);
    assert_int_equal(unlink(t->path), 0);
    assert_true(file_exists(t->wear));
    assert_int_equal(esim_flash_open_file(t->path, 2 * MIB, true, &f), ESP_OK);
    assert_counters(f, 0, 0, 0, 0, 0, 0);
    assert_int_equal(esim_flash_sector_erase_count(f, 3), 0);
    esim_flash_close(f);
}

/* ---- read-only images ---- */

/* A file's bytes and modification time, to show it was left alone. */
typedef struct {
    uint8_t *bytes;
    size_t len;
    struct timespec mtime;
} file_snapshot;

static void snapshot(const char *path, file_snapshot *snap)
{
    struct stat st;
    snap->bytes = slurp(path, &snap->len);
    assert_int_equal(stat(path, &st), 0);
    snap->mtime = st.st_mtim;
}

static void assert_unchanged(const char *path, file_snapshot *snap)
{
    file_snapshot now;
    snapshot(path, &now);
    assert_int_equal(now.len, snap->len);
    assert_memory_equal(now.bytes, snap->bytes, snap->len);
    assert_int_equal(now.mtime.tv_sec, snap->mtime.tv_sec);
    assert_int_equal(now.mtime.tv_nsec, snap->mtime.tv_nsec);
    free(now.bytes);
    free(snap->bytes);
}

/* Sets a file's times to long ago and makes it read-only (chmod 444), so
 * that any write would show in its mtime. */
static void age_and_protect(const char *path)
{
    const struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    assert_int_equal(chmod(path, 0444), 0);
}

/* The image exercise_file leaves, with the chip and sidecar read-only. */
static void make_protected_image(const tmp_paths *t)
{
    exercise_file(t->path);
    age_and_protect(t->path);
    age_and_protect(t->wear);
}

static void test_readonly_opens_protected_image(void **state)
{
    tmp_paths *t = *state;
    file_snapshot img, wear;
    esim_flash *f = NULL;
    uint8_t buf[64], expect[64];

    make_protected_image(t);
    snapshot(t->path, &img);
    snapshot(t->wear, &wear);
    assert_int_equal(esim_flash_open_file_readonly(t->path, 0, &f), ESP_OK);
    assert_true(esim_flash_read_only(f));
    assert_string_equal(esim_flash_path(f), t->path);
    assert_int_equal(esim_flash_size(f), 2 * MIB);
    assert_counters(f, 1, 10, 1, 64, 3, 3);         /* from the sidecar */
    assert_int_equal(esim_flash_sector_erase_count(f, 3), 2);
    assert_int_equal(esim_flash_sector_erase_count(f, 4), 1);

    fill_pattern(expect, sizeof expect, 2);
    assert_int_equal(esim_flash_read(f, 0, buf, sizeof buf), ESP_OK);
    assert_memory_equal(buf, expect, sizeof buf);
    assert_counters(f, 2, 74, 1, 64, 3, 3);         /* reads count, in memory */
    assert_int_equal(esim_flash_sync(f), ESP_OK);
    esim_flash_close(f);

    assert_unchanged(t->path, &img);
    assert_unchanged(t->wear, &wear);
}

static void test_readonly_refuses_program_and_erase(void **state)
{
    tmp_paths *t = *state;
    file_snapshot img, wear;
    esim_flash *f = NULL;
    uint8_t zeros[16] = {0};

    make_protected_image(t);
    snapshot(t->path, &img);
    snapshot(t->wear, &wear);
    assert_int_equal(esim_flash_open_file_readonly(t->path, 2 * MIB, &f), ESP_OK);
    assert_int_equal(esim_flash_program(f, 0, zeros, sizeof zeros), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esim_flash_program(f, 100, zeros, 0), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esim_flash_erase_sector(f, 0), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esim_flash_erase_range(f, 0, 2 * SECTOR), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esim_flash_erase_range(f, 0, 0), ESP_ERR_NOT_ALLOWED);
    /* bad arguments are still reported as such */
    assert_int_equal(esim_flash_program(f, 2 * MIB, zeros, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_sector(f, 512), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_erase_range(f, 1, SECTOR), ESP_ERR_INVALID_ARG);
    /* a refused operation is no operation: an armed cut does not fire */
    assert_int_equal(esim_flash_arm_cut_at_op(f, 1, 7), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 9), ESP_ERR_NOT_ALLOWED);
    assert_true(esim_flash_powered(f));

    assert_memory_equal(esim_flash_peek(f), img.bytes, img.len);
    assert_counters(f, 1, 10, 1, 64, 3, 3);
    esim_flash_reset_counters(f);                   /* in memory only */
    assert_counters(f, 0, 0, 0, 0, 0, 0);
    esim_flash_close(f);

    assert_unchanged(t->path, &img);
    assert_unchanged(t->wear, &wear);
}

/* The mapping comes from an O_RDONLY descriptor: it cannot even be made
 * writable, whoever runs the test (root can write a chmod 444 file). */
static void test_readonly_mapping_cannot_be_made_writable(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = NULL;
    void *page;

    exercise_file(t->path);
    assert_int_equal(esim_flash_open_file(t->path, 0, false, &f), ESP_OK);
    page = (void *)(uintptr_t)esim_flash_peek(f);
    assert_int_equal(mprotect(page, SECTOR, PROT_READ | PROT_WRITE), 0);
    assert_false(esim_flash_read_only(f));
    esim_flash_close(f);

    assert_int_equal(esim_flash_open_file_readonly(t->path, 0, &f), ESP_OK);
    page = (void *)(uintptr_t)esim_flash_peek(f);
    errno = 0;
    assert_int_equal(mprotect(page, SECTOR, PROT_READ | PROT_WRITE), -1);
    assert_int_equal(errno, EACCES);
    esim_flash_close(f);
}

static void test_readonly_without_sidecar(void **state)
{
    tmp_paths *t = *state;
    file_snapshot img;
    esim_flash *f = NULL;
    uint8_t buf[4];

    exercise_file(t->path);
    assert_int_equal(unlink(t->wear), 0);
    age_and_protect(t->path);
    snapshot(t->path, &img);
    assert_int_equal(esim_flash_open_file_readonly(t->path, 0, &f), ESP_OK);
    assert_counters(f, 0, 0, 0, 0, 0, 0);
    assert_int_equal(esim_flash_read(f, 0, buf, sizeof buf), ESP_OK);
    esim_flash_close(f);
    assert_false(file_exists(t->wear));             /* never started either */
    assert_unchanged(t->path, &img);
}

static void test_readonly_open_errors(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = (esim_flash *)&f;
    uint8_t junk[1000];

    assert_int_equal(esim_flash_open_file_readonly(t->path, 0, &f), ESP_ERR_NOT_FOUND);
    assert_null(f);
    assert_false(file_exists(t->path));
    assert_int_equal(esim_flash_open_file_readonly(NULL, 0, &f), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_open_file_readonly(t->path, 0, NULL), ESP_ERR_INVALID_ARG);

    exercise_file(t->path);
    f = (esim_flash *)&f;
    assert_int_equal(esim_flash_open_file_readonly(t->path, 4 * MIB, &f), ESP_ERR_INVALID_SIZE);
    assert_null(f);
    assert_int_equal(esim_flash_open_file_readonly(t->dir, 0, &f), ESP_ERR_INVALID_SIZE);

    fill_pattern(junk, sizeof junk, 5);
    spill(t->path, junk, sizeof junk);
    assert_int_equal(esim_flash_open_file_readonly(t->path, 0, &f), ESP_ERR_INVALID_SIZE);

    assert_false(esim_flash_read_only(NULL));
    f = open_mem(2 * MIB);
    assert_false(esim_flash_read_only(f));
    esim_flash_close(f);
}

/* ---- power cuts: op mode ---- */

static void test_arm_validation(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    (void)state;
    assert_int_equal(esim_flash_arm_cut_at_op(f, 0, 1), ESP_ERR_INVALID_ARG);
    assert_false(esim_flash_cut_armed(f));
    assert_int_equal(esim_flash_arm_cut_at_op(NULL, 1, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_arm_cut_after_bytes(NULL, 1, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_flash_arm_cut_at_op(f, 1, 1), ESP_OK);
    assert_true(esim_flash_cut_armed(f));
    esim_flash_close(f);
}

#define TORN_ADDR   (SECTOR + 2)    /* deliberately not word-aligned */
#define TORN_LEN    1000u           /* touches words 1024..1274: 251 words */

/* Cuts the power during one program; returns the bytes it left written.
 * The chip is copied to `image` (2 MiB) if that is not NULL. */
static size_t torn_program(uint64_t seed, uint8_t *image)
{
    esim_flash *f = open_mem(2 * MIB);
    const uint8_t *chip = esim_flash_peek(f);
    esim_flash_counters c;
    uint8_t data[TORN_LEN];
    size_t written = 0;

    fill_pattern(data, sizeof data, 11);
    assert_int_equal(esim_flash_arm_cut_at_op(f, 1, seed), ESP_OK);
    assert_int_equal(esim_flash_program(f, TORN_ADDR, data, TORN_LEN), ESP_ERR_FLASH_OP_FAIL);
    while (written < TORN_LEN && chip[TORN_ADDR + written] == data[written])
        written++;
    /* a whole-word prefix: it ends on a word boundary, short of the end */
    assert_true(written == 0 || (TORN_ADDR + written) % ESIM_FLASH_WORD_SIZE == 0);
    assert_true(written < TORN_LEN);
    assert_true(all_bytes(chip + TORN_ADDR + written, 2 * MIB - TORN_ADDR - written, 0xFF));
    assert_true(all_bytes(chip, TORN_ADDR, 0xFF));
    esim_flash_get_counters(f, &c);
    assert_int_equal(c.program_ops, 1);
    assert_int_equal(c.bytes_programmed, written);
    assert_false(esim_flash_powered(f));
    assert_false(esim_flash_cut_armed(f));
    if (image)
        memcpy(image, chip, 2 * MIB);
    esim_flash_close(f);
    return written;
}

static void test_cut_program_deterministic(void **state)
{
    uint8_t *a = malloc(2 * MIB), *b = malloc(2 * MIB);
    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(torn_program(42, a), torn_program(42, b));
    assert_memory_equal(a, b, 2 * MIB);
    free(a);
    free(b);
}

static void test_cut_program_varies_with_seed(void **state)
{
    bool seen[TORN_LEN] = { false };
    unsigned distinct = 0;
    (void)state;
    for (uint64_t seed = 0; seed < 40; seed++) {
        size_t n = torn_program(seed, NULL);
        if (!seen[n])
            distinct++;
        seen[n] = true;
    }
    /* 40 draws from 251 prefixes: all but a few must differ */
    assert_true(distinct >= 30);
}

static void test_cut_small_program_writes_nothing(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    const uint8_t data[3] = { 0, 0, 0 };
    (void)state;
    /* 3 bytes inside one word: k is drawn from [0, 0] */
    for (uint64_t seed = 0; seed < 8; seed++) {
        esim_flash_power_on(f);
        assert_int_equal(esim_flash_arm_cut_at_op(f, 1, seed), ESP_OK);
        assert_int_equal(esim_flash_program(f, 8, data, 3), ESP_ERR_FLASH_OP_FAIL);
    }
    assert_true(all_bytes(esim_flash_peek(f), 2 * MIB, 0xFF));
    esim_flash_close(f);
}

static void test_cut_at_third_op(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    uint8_t buf[4] = { 1, 2, 3, 4 };
    (void)state;

    assert_int_equal(esim_flash_arm_cut_at_op(f, 3, 7), ESP_OK);
    assert_int_equal(esim_flash_read(f, 0, buf, 4), ESP_OK);   /* reads don't count */
    assert_int_equal(esim_flash_program(f, 0, buf, 4), ESP_OK);
    assert_int_equal(esim_flash_program(f, 0, buf, 0), ESP_OK);  /* len 0 doesn't count */
    assert_int_equal(esim_flash_read(f, 0, buf, 4), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 0), ESP_OK);
    assert_true(esim_flash_cut_armed(f));
    assert_true(esim_flash_powered(f));
    assert_int_equal(esim_flash_erase_sector(f, 1), ESP_ERR_FLASH_OP_FAIL);
    assert_false(esim_flash_powered(f));
    esim_flash_close(f);
}

/* The sector was all 0x00 before a torn erase: checks the shape it has now
 * (k words of 0xFF, one word with some bits set, then 0x00) and returns k. */
static size_t torn_erase_shape(const uint8_t *sector)
{
    size_t last = ESIM_FLASH_SECTOR_SIZE;   /* one past the last nonzero byte */
    while (last > 0 && sector[last - 1] == 0x00)
        last--;
    size_t k = last == 0 ? 0 : (last - 1) / ESIM_FLASH_WORD_SIZE;
    assert_true(all_bytes(sector, k * ESIM_FLASH_WORD_SIZE, 0xFF));
    return k;
}

static size_t torn_erase(uint64_t seed, uint8_t *sector_out)
{
    esim_flash *f = open_mem(2 * MIB);
    const uint8_t *chip = esim_flash_peek(f);
    size_t k;

    program_zeros(f, 4 * SECTOR, 3 * SECTOR);
    assert_int_equal(esim_flash_arm_cut_at_op(f, 1, seed), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 5), ESP_ERR_FLASH_OP_FAIL);
    k = torn_erase_shape(chip + 5 * SECTOR);
    assert_true(all_bytes(chip + 4 * SECTOR, SECTOR, 0x00));
    assert_true(all_bytes(chip + 6 * SECTOR, SECTOR, 0x00));
    assert_counters(f, 0, 0, 1, 3 * SECTOR, 1, 0);
    assert_int_equal(esim_flash_sector_erase_count(f, 5), 0);
    assert_false(esim_flash_powered(f));
    if (sector_out)
        memcpy(sector_out, chip + 5 * SECTOR, SECTOR);
    esim_flash_close(f);
    return k;
}

static void test_cut_erase_partial(void **state)
{
    uint8_t a[SECTOR], b[SECTOR];
    bool seen[SECTOR / 4] = { false };
    unsigned distinct = 0, partial = 0;
    (void)state;

    assert_int_equal(torn_erase(99, a), torn_erase(99, b));
    assert_memory_equal(a, b, SECTOR);
    for (uint64_t seed = 0; seed < 40; seed++) {
        size_t k = torn_erase(seed, a);
        if (!seen[k])
            distinct++;
        seen[k] = true;
        if (!all_bytes(a, SECTOR, 0xFF) && !all_bytes(a, SECTOR, 0x00))
            partial++;
    }
    assert_true(distinct >= 30);
    assert_int_equal(partial, 40);
}

static void test_cut_erase_range_middle(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    const uint8_t *chip = esim_flash_peek(f);
    (void)state;

    program_zeros(f, 0, 4 * SECTOR);
    assert_int_equal(esim_flash_arm_cut_at_op(f, 2, 5), ESP_OK);
    assert_int_equal(esim_flash_erase_range(f, 0, 4 * SECTOR), ESP_ERR_FLASH_OP_FAIL);
    assert_true(all_bytes(chip, SECTOR, 0xFF));
    assert_false(all_bytes(chip + SECTOR, SECTOR, 0xFF));
    torn_erase_shape(chip + SECTOR);
    assert_true(all_bytes(chip + 2 * SECTOR, 2 * SECTOR, 0x00));
    assert_counters(f, 0, 0, 1, 4 * SECTOR, 2, 1);
    assert_int_equal(esim_flash_sector_erase_count(f, 0), 1);
    assert_int_equal(esim_flash_sector_erase_count(f, 1), 0);
    esim_flash_close(f);
}

/* ---- power cuts: byte mode ---- */

static void test_cut_bytes_exact_boundary(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    uint8_t data[8] = { 0 }, back[8];
    (void)state;

    assert_int_equal(esim_flash_arm_cut_after_bytes(f, 8, 1), ESP_OK);
    assert_int_equal(esim_flash_program(f, 0, data, 4), ESP_OK);
    assert_true(esim_flash_powered(f));
    assert_int_equal(esim_flash_program(f, 4, data, 4), ESP_OK);   /* ends on the limit */
    assert_false(esim_flash_powered(f));
    assert_false(esim_flash_cut_armed(f));
    assert_int_equal(esim_flash_read(f, 0, back, 8), ESP_ERR_FLASH_OP_FAIL);
    assert_true(all_bytes(esim_flash_peek(f), 8, 0x00));
    assert_true(all_bytes(esim_flash_peek(f) + 8, 2 * MIB - 8, 0xFF));
    assert_counters(f, 0, 0, 2, 8, 0, 0);
    esim_flash_close(f);
}

static void test_cut_bytes_mid_write(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    uint8_t data[8];
    const uint8_t *chip = esim_flash_peek(f);
    (void)state;

    fill_pattern(data, sizeof data, 0);
    assert_int_equal(esim_flash_arm_cut_after_bytes(f, 10, 1), ESP_OK);
    assert_int_equal(esim_flash_program(f, 0, data, 4), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 9), ESP_OK);   /* erases don't spend bytes */
    assert_int_equal(esim_flash_program(f, 101, data, 8), ESP_ERR_FLASH_OP_FAIL);
    assert_memory_equal(chip + 101, data, 6);
    assert_true(all_bytes(chip + 107, 2 * MIB - 107, 0xFF));
    assert_false(esim_flash_powered(f));
    assert_counters(f, 0, 0, 2, 10, 1, 1);
    assert_int_equal(esim_flash_erase_sector(f, 9), ESP_ERR_FLASH_OP_FAIL);
    assert_counters(f, 0, 0, 2, 10, 1, 1);
    esim_flash_close(f);
}

static void test_cut_bytes_zero(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    const uint8_t one = 0;
    (void)state;
    assert_int_equal(esim_flash_arm_cut_after_bytes(f, 0, 1), ESP_OK);
    assert_false(esim_flash_powered(f));
    assert_int_equal(esim_flash_program(f, 0, &one, 1), ESP_ERR_FLASH_OP_FAIL);
    assert_true(all_bytes(esim_flash_peek(f), 2 * MIB, 0xFF));
    esim_flash_close(f);
}

/* ---- after the cut ---- */

static void test_everything_fails_until_power_on(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    uint8_t buf[16] = { 0 };
    (void)state;

    assert_int_equal(esim_flash_arm_cut_at_op(f, 1, 3), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 0), ESP_ERR_FLASH_OP_FAIL);
    assert_counters(f, 0, 0, 0, 0, 1, 0);

    assert_int_equal(esim_flash_read(f, 0, buf, 16), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_flash_program(f, SECTOR, buf, 16), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_flash_program(f, SECTOR, buf, 0), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_flash_erase_sector(f, 1), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_flash_erase_range(f, 0, SECTOR), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_flash_arm_cut_at_op(f, 1, 3), ESP_ERR_INVALID_STATE);
    /* a bad argument is still reported as such */
    assert_int_equal(esim_flash_read(f, 2 * MIB, buf, 1), ESP_ERR_INVALID_ARG);
    assert_counters(f, 0, 0, 0, 0, 1, 0);
    assert_true(all_bytes(esim_flash_peek(f) + SECTOR, SECTOR, 0xFF));

    esim_flash_power_on(f);
    assert_true(esim_flash_powered(f));
    assert_false(esim_flash_cut_armed(f));
    assert_int_equal(esim_flash_program(f, SECTOR, buf, 16), ESP_OK);
    assert_int_equal(esim_flash_read(f, SECTOR, buf, 16), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 0), ESP_OK);
    assert_counters(f, 1, 16, 1, 16, 2, 1);
    esim_flash_close(f);
}

static void test_disarm(void **state)
{
    esim_flash *f = open_mem(2 * MIB);
    const uint8_t data[4] = { 0 };
    (void)state;

    assert_int_equal(esim_flash_arm_cut_at_op(f, 1, 3), ESP_OK);
    esim_flash_disarm_cut(f);
    assert_false(esim_flash_cut_armed(f));
    assert_int_equal(esim_flash_program(f, 0, data, 4), ESP_OK);
    assert_int_equal(esim_flash_erase_sector(f, 1), ESP_OK);
    assert_true(esim_flash_powered(f));

    assert_int_equal(esim_flash_arm_cut_after_bytes(f, 2, 3), ESP_OK);
    esim_flash_power_on(f);     /* also disarms */
    assert_false(esim_flash_cut_armed(f));
    assert_int_equal(esim_flash_program(f, 0, data, 4), ESP_OK);
    assert_true(esim_flash_powered(f));
    esim_flash_close(f);
}

static void test_file_torn_write_persists(void **state)
{
    tmp_paths *t = *state;
    esim_flash *f = NULL;
    uint8_t data[TORN_LEN];
    uint8_t *expect = malloc(2 * MIB);
    size_t written = torn_program(1234, expect);

    assert_non_null(expect);
    fill_pattern(data, sizeof data, 11);
    assert_int_equal(esim_flash_open_file(t->path, 2 * MIB, true, &f), ESP_OK);
    assert_int_equal(esim_flash_arm_cut_at_op(f, 1, 1234), ESP_OK);
    assert_int_equal(esim_flash_program(f, TORN_ADDR, data, TORN_LEN), ESP_ERR_FLASH_OP_FAIL);
    esim_flash_close(f);

    assert_int_equal(esim_flash_open_file(t->path, 0, false, &f), ESP_OK);
    assert_true(esim_flash_powered(f));
    assert_memory_equal(esim_flash_peek(f), expect, 2 * MIB);
    assert_counters(f, 0, 0, 1, written, 0, 0);
    esim_flash_close(f);
    free(expect);
}

#define FILE_TEST(fn) cmocka_unit_test_setup_teardown(fn, make_tmp, remove_tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_supported),
        cmocka_unit_test(test_memory_open_rejects_sizes),
        cmocka_unit_test(test_memory_open_is_erased),
        cmocka_unit_test(test_close_null),
        cmocka_unit_test(test_program_ands_bits),
        cmocka_unit_test(test_read_copies_out),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_erase_alignment_and_bounds),
        cmocka_unit_test(test_erase_sector_and_range),
        cmocka_unit_test(test_counters_and_wear),
        FILE_TEST(test_file_missing_without_create),
        FILE_TEST(test_file_create),
        FILE_TEST(test_file_reopen_keeps_data),
        FILE_TEST(test_file_unsupported_existing),
        FILE_TEST(test_sidecar_persists),
        FILE_TEST(test_sidecar_layout),
        FILE_TEST(test_sidecar_corrupt),
        FILE_TEST(test_sync_writes_to_disk),
        FILE_TEST(test_new_image_ignores_stale_sidecar),
        FILE_TEST(test_readonly_opens_protected_image),
        FILE_TEST(test_readonly_refuses_program_and_erase),
        FILE_TEST(test_readonly_mapping_cannot_be_made_writable),
        FILE_TEST(test_readonly_without_sidecar),
        FILE_TEST(test_readonly_open_errors),
        cmocka_unit_test(test_arm_validation),
        cmocka_unit_test(test_cut_program_deterministic),
        cmocka_unit_test(test_cut_program_varies_with_seed),
        cmocka_unit_test(test_cut_small_program_writes_nothing),
        cmocka_unit_test(test_cut_at_third_op),
        cmocka_unit_test(test_cut_erase_partial),
        cmocka_unit_test(test_cut_erase_range_middle),
        cmocka_unit_test(test_cut_bytes_exact_boundary),
        cmocka_unit_test(test_cut_bytes_mid_write),
        cmocka_unit_test(test_cut_bytes_zero),
        cmocka_unit_test(test_everything_fails_until_power_on),
        cmocka_unit_test(test_disarm),
        FILE_TEST(test_file_torn_write_persists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
