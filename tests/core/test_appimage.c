/* Tests for the app image verifier and builder (esp32sim/appimage.h):
 * made images verify; each kind of damage gets its own verdict and reason;
 * an image laid out the way esptool elf2image lays one out verifies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "esp32sim/appimage.h"

#define HASHED 1

/* ---- helpers, written from the format description alone ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Offset just past the last segment's data. */
static size_t segments_end(const uint8_t *img)
{
    size_t at = 24;
    for (unsigned i = 0; i < img[1]; i++)
        at += 8 + rd32(img + at + 4);
    return at;
}

/* Recompute the checksum byte and the appended SHA-256 after an edit that
 * keeps the segment layout. */
static void reseal(uint8_t *img)
{
    size_t at = 24;
    uint8_t sum = 0xEF;
    for (unsigned i = 0; i < img[1]; i++) {
        uint32_t n = rd32(img + at + 4);
        for (uint32_t k = 0; k < n; k++)
            sum ^= img[at + 8 + k];
        at += 8 + n;
    }
    size_t padded = (at + 16) & ~(size_t)15;
    img[padded - 1] = sum;
    if (img[23])
        assert_int_equal(mbedtls_sha256_ret(img, padded, img + padded, 0), 0);
}

typedef struct {
    uint8_t *data;
    size_t len;
} image;

static image make(const char *project, const char *version, size_t size)
{
    image im;
    assert_int_equal(esim_image_make(project, version, size, &im.data, &im.len), ESP_OK);
    return im;
}

static void expect_valid(const uint8_t *data, size_t len, esim_image_info *info)
{
    esp_err_t err = esim_image_verify(data, len, info);
    if (err)
        fail_msg("rejected: %s", info->reason);
    assert_string_equal(info->reason, "");
    assert_true(info->checks.magic && info->checks.chip && info->checks.segments);
    assert_true(info->checks.checksum && info->checks.sha256 && info->checks.length);
}

/* Verify a damaged copy; the reason must contain `words`. */
static esim_image_info expect_invalid(const uint8_t *data, size_t len, const char *words)
{
    esim_image_info info;
    assert_int_equal(esim_image_verify(data, len, &info), ESP_ERR_IMAGE_INVALID);
    assert_int_equal(info.result, ESP_ERR_IMAGE_INVALID);
    if (!strstr(info.reason, words))
        fail_msg("reason '%s' lacks '%s'", info.reason, words);
    return info;
}

/* ---- made images ---- */

static void test_made_image_verifies(void **state)
{
    (void)state;
    image im = make("blinky", "2.1.0", 0x30000);
    assert_int_equal(im.len, 0x30000);
    esim_image_info info;
    expect_valid(im.data, im.len, &info);
    assert_int_equal(info.image_len, im.len);
    assert_true(info.hash_appended);
    assert_int_equal(info.chip_id, 0);
    assert_true(info.has_app_desc);
    assert_string_equal(info.app_desc.project_name, "blinky");
    assert_string_equal(info.app_desc.version, "2.1.0");
    assert_string_equal(info.app_desc.idf_ver, "v5.5.2");
    assert_int_equal(info.app_desc.magic_word, ESIM_APP_DESC_MAGIC);
    /* DROM first, its data (the app description) at 0x20 */
    assert_int_equal(info.segments[0].file_offset, 0x20);
    assert_int_equal(info.segments[0].load_addr >> 22, 0x3F400000u >> 22);
    bool irom = false, entry_loaded = false;
    for (unsigned i = 0; i < info.segment_count; i++) {
        const esim_image_segment *s = &info.segments[i];
        bool mapped = (s->load_addr >= 0x400D0000u && s->load_addr < 0x40400000u)
                      || (s->load_addr >= 0x3F400000u && s->load_addr < 0x3F800000u);
        if (mapped)
            assert_int_equal(s->file_offset % 0x10000, s->load_addr % 0x10000);
        irom |= s->load_addr >= 0x400D0000u && s->load_addr < 0x40400000u;
        entry_loaded |= info.entry_addr >= s->load_addr && info.entry_addr < s->load_addr + s->data_len;
    }
    assert_true(irom);
    assert_true(entry_loaded);
    free(im.data);
}

static void test_made_image_is_deterministic(void **state)
{
    (void)state;
    image a = make("app", "1.0", 0), b = make("app", "1.0", 0), c = make("app", "1.1", 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(a.len, c.len);
    assert_memory_not_equal(a.data, c.data, a.len);
    esim_image_info info;
    expect_valid(c.data, c.len, &info);
    assert_string_equal(info.app_desc.version, "1.1");
    assert_string_equal(info.app_desc.date, "Jan  1 2025");     /* fixed, not the wall clock */
    assert_string_equal(info.app_desc.time, "00:00:00");
    free(a.data);
    free(b.data);
    free(c.data);
}

static void test_make_sizes_and_names(void **state)
{
    (void)state;
    uint8_t *out = (uint8_t *)&out;
    size_t len = 1;
    char long_name[33];
    memset(long_name, 'x', 32);
    long_name[32] = '\0';
    assert_int_equal(esim_image_make(long_name, "1", 0, &out, &len), ESP_ERR_INVALID_ARG);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_int_equal(esim_image_make("a", long_name, 0, &out, &len), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_image_make("a", "1", 4096, &out, &len), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_image_make("a", "1", 64u << 20, &out, &len), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_image_make("a", "1", 0, NULL, &len), ESP_ERR_INVALID_ARG);
    /* 31 characters fit; sizes round down to 16 */
    long_name[31] = '\0';
    image im = make(long_name, long_name, 0x12345);
    assert_int_equal(im.len, 0x12340);
    esim_image_info info;
    expect_valid(im.data, im.len, &info);
    assert_string_equal(info.app_desc.project_name, long_name);
    free(im.data);
    im = make(NULL, NULL, 0);
    expect_valid(im.data, im.len, &info);
    assert_true(info.app_desc.project_name[0] && info.app_desc.version[0]);
    free(im.data);
}

/* ---- damage ---- */

static image fresh(void)
{
    return make("ota-test", "3.0.1", 0x18000);
}

static void test_header_fields(void **state)
{
    (void)state;
    image im = fresh();
    uint8_t *d = malloc(im.len);
    assert_non_null(d);
    /* byte offset -> expected words; unchecked fields only fail the hash */
    static const struct {
        size_t off;
        uint8_t value;
        const char *words;
    } cases[] = {
        {0, 0xE8, "magic"}, {1, 17, "segment count"}, {2, 0, "SHA-256"}, {3, 0x1F, "SHA-256"},
        {4, 0x04, "SHA-256"}, {8, 0x00, "SHA-256"}, {9, 0x11, "SHA-256"}, {12, 2, "chip id"},
        {13, 1, "chip id"}, {14, 3, "SHA-256"}, {15, 0x2D, "v3.1 or later"}, {17, 0x2B, "up to v2.99"},
        {19, 1, "SHA-256"}, {22, 1, "SHA-256"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(d, im.data, im.len);
        d[cases[i].off] = cases[i].value;
        if (cases[i].off == 17)
            d[18] = 0x01;      /* 0x012B = 299 */
        if (cases[i].off == 15)
            d[16] = 0x01;      /* 0x012D = 301 */
        esim_image_info info = expect_invalid(d, im.len, cases[i].words);
        if (strcmp(cases[i].words, "SHA-256") == 0) {
            assert_true(info.checks.checksum && info.checks.length && info.checks.chip);
            assert_false(info.checks.sha256);
        }
        if (cases[i].off == 0)
            assert_false(info.checks.magic);
        if (cases[i].off == 12 || cases[i].off == 15 || cases[i].off == 17)
            assert_false(info.checks.chip);
    }
    free(d);
    free(im.data);
}

static void test_chip_revision_limits(void **state)
{
    (void)state;
    image im = fresh();
    esim_image_info info;
    wr16(im.data + 15, ESIM_IMAGE_CHIP_REV_FULL);   /* min = this chip: fine */
    wr16(im.data + 17, 0xFFFF);                     /* max unset */
    reseal(im.data);
    expect_valid(im.data, im.len, &info);
    wr16(im.data + 17, 0);                          /* also unset */
    reseal(im.data);
    expect_valid(im.data, im.len, &info);
    wr16(im.data + 17, ESIM_IMAGE_CHIP_REV_FULL);
    reseal(im.data);
    expect_valid(im.data, im.len, &info);
    wr16(im.data + 17, ESIM_IMAGE_CHIP_REV_FULL - 1);
    reseal(im.data);
    expect_invalid(im.data, im.len, "up to v2.99");
    free(im.data);
}

static void test_hash_not_appended(void **state)
{
    (void)state;
    image im = fresh();
    esim_image_info info;
    im.data[23] = 0;      /* the hash is no longer checked, and not counted */
    expect_valid(im.data, im.len, &info);
    assert_false(info.hash_appended);
    assert_int_equal(info.image_len, im.len - 32);
    expect_valid(im.data, im.len - 32, &info);
    free(im.data);
}

static void test_segment_count_changed(void **state)
{
    (void)state;
    image im = fresh();
    for (uint8_t n = 0; n <= 16; n++) {
        if (n == 5)
            continue;
        uint8_t save = im.data[1];
        im.data[1] = n;
        esim_image_info info;
        assert_int_equal(esim_image_verify(im.data, im.len, &info), ESP_ERR_IMAGE_INVALID);
        assert_true(info.reason[0] != '\0');
        im.data[1] = save;
    }
    free(im.data);
}

static void test_segment_lengths(void **state)
{
    (void)state;
    image im = fresh();
    esim_image_info info;
    assert_int_equal(esim_image_verify(im.data, im.len, &info), ESP_OK);
    uint8_t *len0 = im.data + 24 + 4;
    uint32_t orig = rd32(len0);
    wr32(len0, orig + 1);
    info = expect_invalid(im.data, im.len, "segment 0: bad length");
    assert_false(info.checks.segments);
    wr32(len0, 0x1000000);
    expect_invalid(im.data, im.len, "segment 0: bad length");
    wr32(len0, 0xFFFFFFFCu);
    expect_invalid(im.data, im.len, "segment 0: bad length");
    wr32(len0, orig + 4);      /* shifts the later segment headers */
    assert_int_equal(esim_image_verify(im.data, im.len, &info), ESP_ERR_IMAGE_INVALID);
    wr32(len0, orig);
    /* the last segment claims more data than the image holds */
    uint8_t *last = im.data + 0x10020 + rd32(im.data + 0x10018 + 4) + 4;
    wr32(last, rd32(last) + 0x100);
    info = expect_invalid(im.data, im.len, "segment 4 data ends");
    assert_true(info.checks.segments);
    assert_false(info.checks.length);
    free(im.data);
}

static void test_load_addresses(void **state)
{
    (void)state;
    image im = fresh();
    esim_image_info info;
    assert_int_equal(esim_image_verify(im.data, im.len, &info), ESP_OK);
    uint8_t *dram = im.data + info.segments[1].file_offset - 8;
    wr32(dram, 0x3FF00000u);     /* peripherals, not RAM */
    reseal(im.data);
    expect_invalid(im.data, im.len, "not ESP32 RAM");
    wr32(dram, 0x3FFFF000u);     /* runs past the end of DRAM */
    reseal(im.data);
    expect_invalid(im.data, im.len, "not ESP32 RAM");
    wr32(dram, 0);               /* a padding segment: never loaded */
    reseal(im.data);
    expect_valid(im.data, im.len, &info);
    uint8_t *irom = im.data + info.segments[3].file_offset - 8;
    wr32(irom, rd32(irom) + 4);
    reseal(im.data);
    expect_invalid(im.data, im.len, "segment 3: load address 0x400d0024");
    free(im.data);
}

static void test_flipped_bytes(void **state)
{
    (void)state;
    image im = fresh();
    /* a data byte in each segment: the checksum catches it first */
    esim_image_info info;
    expect_valid(im.data, im.len, &info);
    esim_image_info good = info;
    for (unsigned i = 0; i < good.segment_count; i++) {
        size_t at = good.segments[i].file_offset + good.segments[i].data_len / 2;
        im.data[at] ^= 0x40;
        info = expect_invalid(im.data, im.len, "checksum 0x");
        assert_false(info.checks.checksum);
        assert_false(info.checks.sha256);
        assert_true(info.checks.segments && info.checks.length);
        im.data[at] ^= 0x40;
    }
    /* padding is not checksummed but hashed */
    size_t end = segments_end(im.data);
    im.data[end] ^= 1;
    info = expect_invalid(im.data, im.len, "SHA-256");
    assert_true(info.checks.checksum);
    im.data[end] ^= 1;
    /* the checksum byte itself */
    im.data[im.len - 33] ^= 0x80;
    expect_invalid(im.data, im.len, "checksum");
    im.data[im.len - 33] ^= 0x80;
    /* each byte of the hash */
    for (size_t k = im.len - 32; k < im.len; k++) {
        im.data[k] ^= 0x01;
        info = expect_invalid(im.data, im.len, "SHA-256 does not match");
        assert_true(info.checks.checksum && info.checks.length);
        assert_false(info.checks.sha256);
        im.data[k] ^= 0x01;
    }
    expect_valid(im.data, im.len, &info);
    free(im.data);
}

static void test_truncation(void **state)
{
    (void)state;
    image im = fresh();
    for (size_t n = 0; n < im.len; n += (n < 64 || n > im.len - 64) ? 1 : 61) {
        esim_image_info info = expect_invalid(im.data, n, "truncated");
        assert_false(info.checks.length);
    }
    /* a copy exactly as long as the cut: ASan sees any read past it */
    for (size_t n = im.len - 40; n < im.len; n++) {
        uint8_t *copy = malloc(n);
        assert_non_null(copy);
        memcpy(copy, im.data, n);
        expect_invalid(copy, n, "truncated");
        free(copy);
    }
    free(im.data);
}

static void test_partition_larger_than_image(void **state)
{
    (void)state;
    image im = fresh();
    size_t part = 0x40000;
    uint8_t *p = malloc(part);
    assert_non_null(p);
    memset(p, 0xFF, part);
    memcpy(p, im.data, im.len);
    esim_image_info info;
    expect_valid(p, part, &info);
    assert_int_equal(info.image_len, im.len);
    /* blank flash: fails at the magic */
    memset(p, 0xFF, part);
    info = expect_invalid(p, part, "magic byte 0xff");
    assert_false(info.checks.magic);
    assert_false(info.has_app_desc);
    free(p);
    free(im.data);
}

static void test_app_desc_magic_is_not_checked(void **state)
{
    (void)state;
    image im = fresh();
    im.data[0x20] ^= 0xFF;
    reseal(im.data);
    esim_image_info info;
    expect_valid(im.data, im.len, &info);
    assert_false(info.has_app_desc);
    assert_int_equal(info.app_desc.magic_word, ESIM_APP_DESC_MAGIC ^ 0xFFu);
    assert_int_equal(esim_image_verify(im.data, im.len, NULL), ESP_OK);
    assert_int_equal(esim_image_verify(NULL, 0, NULL), ESP_ERR_IMAGE_INVALID);
    free(im.data);
}

/* ---- an image laid out as esptool elf2image does it ---- */

typedef struct {
    uint8_t buf[0x12000];
    size_t at;
} writer;

static void seg(writer *w, uint32_t addr, uint32_t len, uint8_t fill)
{
    wr32(w->buf + w->at, addr);
    wr32(w->buf + w->at + 4, len);
    memset(w->buf + w->at + 8, fill, len);
    w->at += 8 + len;
}

/* Header, DROM with an app description at 0x20, a DRAM segment and a zero
 * padding segment placing the IROM data at 0x10020, IROM, then IRAM;
 * zero padding to a 16-byte block ending in the checksum, SHA-256. */
static size_t build_elf2image_style(writer *w, bool hashed)
{
    memset(w, 0, sizeof *w);
    uint8_t *h = w->buf;
    h[0] = 0xE9;
    h[1] = 5;
    h[2] = 2;
    h[3] = 0x10;
    wr32(h + 4, 0x40080404u);
    h[8] = 0xEE;
    wr16(h + 17, 399);
    h[23] = hashed ? 1 : 0;
    w->at = 24;
    seg(w, 0x3F400020u, 0x140, 0x11);
    uint8_t *desc = w->buf + 0x20;
    memset(desc, 0, 256);
    wr32(desc, 0xABCD5432u);
    memcpy(desc + 16, "v1.0", 4);
    memcpy(desc + 48, "hello_world", 11);
    seg(w, 0x3FFB0000u, 0x800, 0x22);
    size_t pad = 0x10020 - 8 - (w->at + 8);
    seg(w, 0, (uint32_t)pad, 0);
    assert_int_equal(w->at + 8, 0x10020);
    seg(w, 0x400D0020u, 0x404, 0x33);
    seg(w, 0x40080000u, 0x408, 0x44);
    size_t padded = (w->at + 16) & ~(size_t)15;
    reseal(w->buf);
    return padded + (hashed ? 32 : 0);
}

static void test_elf2image_layout_verifies(void **state)
{
    (void)state;
    writer *w = malloc(sizeof *w);
    assert_non_null(w);
    size_t len = build_elf2image_style(w, HASHED);
    esim_image_info info;
    expect_valid(w->buf, len, &info);
    assert_int_equal(info.image_len, len);
    assert_int_equal(info.segment_count, 5);
    assert_int_equal(info.segments[3].file_offset, 0x10020);
    assert_int_equal(info.spi_size, 1);
    assert_true(info.has_app_desc);
    assert_string_equal(info.app_desc.project_name, "hello_world");
    assert_int_equal(info.checksum_stored, info.checksum_computed);
    expect_invalid(w->buf, len - 1, "truncated");
    len = build_elf2image_style(w, !HASHED);
    expect_valid(w->buf, len, &info);
    assert_false(info.hash_appended);
    free(w);
}

static void test_region_names(void **state)
{
    (void)state;
    assert_string_equal(esim_image_region_name(0x3F400020u), "DROM");
    assert_string_equal(esim_image_region_name(0x3F7FFFFFu), "DROM");
    assert_string_equal(esim_image_region_name(0x3F800000u), "unknown");
    assert_string_equal(esim_image_region_name(0x400D0020u), "IROM");
    assert_string_equal(esim_image_region_name(0x400CFFFFu), "unknown");
    assert_string_equal(esim_image_region_name(0x3FFB0000u), "DRAM");
    assert_string_equal(esim_image_region_name(0x40080000u), "IRAM");
    assert_string_equal(esim_image_region_name(0x400C0000u), "RTC_IRAM");
    assert_string_equal(esim_image_region_name(0x3FF80000u), "RTC_DRAM");
    assert_string_equal(esim_image_region_name(0x50000000u), "RTC_DATA");
    assert_string_equal(esim_image_region_name(0u), "padding");
    assert_string_equal(esim_image_region_name(0x0FFFFFFFu), "padding");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_made_image_verifies),
        cmocka_unit_test(test_made_image_is_deterministic),
        cmocka_unit_test(test_make_sizes_and_names),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_chip_revision_limits),
        cmocka_unit_test(test_hash_not_appended),
        cmocka_unit_test(test_segment_count_changed),
        cmocka_unit_test(test_segment_lengths),
        cmocka_unit_test(test_load_addresses),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_partition_larger_than_image),
        cmocka_unit_test(test_app_desc_magic_is_not_checked),
        cmocka_unit_test(test_elf2image_layout_verifies),
        cmocka_unit_test(test_region_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
