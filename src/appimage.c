/* esp32sim — ESP-IDF app images: the verifier (esp_image_verify's checks)
 * and a builder of small but realistic ESP32 app images.
 *
 * An image is a 24-byte header, segments of {load_addr, data_len, data},
 * zero padding up to a checksum byte that ends a 16-byte block, and an
 * optional SHA-256 of everything before it. docs/app-image.md draws the
 * bytes and lists the checks in the order they are made. */
#include "esp32sim/appimage.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#define SEG_HEADER_SIZE   8u
#define HASH_LEN          32u
#define CHECKSUM_SEED     0xEFu
#define SIXTEEN_MB        0x1000000u
#define MMU_PAGE          0x10000u

/* ESP32 address ranges (half-open) */
#define IROM_LOW   0x400D0000u
#define IROM_HIGH  0x40400000u
#define DROM_LOW   0x3F400000u
#define DROM_HIGH  0x3F800000u
#define NOT_LOADED 0x10000000u    /* below: padding, never loaded */

typedef struct {
    uint32_t low, high;
    const char *name;
} addr_range;

/* Memory a second-stage bootloader may load segments into. */
static const addr_range ram_ranges[] = {
    {0x3FFAE000u, 0x40000000u, "DRAM"},
    {0x40070000u, 0x400A0000u, "IRAM"},        /* incl. cache-as-IRAM */
    {0x400C0000u, 0x400C2000u, "RTC_IRAM"},    /* RTC fast memory, instruction bus */
    {0x3FF80000u, 0x3FF82000u, "RTC_DRAM"},    /* RTC fast memory, data bus */
    {0x50000000u, 0x50002000u, "RTC_DATA"},    /* RTC slow memory */
};

/* ---- little-endian fields ----------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- address classes ---------------------------------------------------- */

static bool is_mapped(uint32_t addr)
{
    return (addr >= IROM_LOW && addr < IROM_HIGH) || (addr >= DROM_LOW && addr < DROM_HIGH);
}

static bool in_ram(uint32_t addr, uint32_t len)
{
    for (size_t i = 0; i < sizeof ram_ranges / sizeof ram_ranges[0]; i++) {
        const addr_range *r = &ram_ranges[i];
        if (addr >= r->low && addr < r->high && len <= r->high - addr)
            return true;
    }
    return false;
}

const char *esim_image_region_name(uint32_t load_addr)
{
    if (load_addr >= DROM_LOW && load_addr < DROM_HIGH)
        return "DROM";
    if (load_addr >= IROM_LOW && load_addr < IROM_HIGH)
        return "IROM";
    if (load_addr < NOT_LOADED)
        return "padding";
    for (size_t i = 0; i < sizeof ram_ranges / sizeof ram_ranges[0]; i++)
        if (load_addr >= ram_ranges[i].low && load_addr < ram_ranges[i].high)
            return ram_ranges[i].name;
    return "unknown";
}

/* ---- the verdict --------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void fail(esim_image_info *info, const char *fmt, ...)
{
    if (info->result != ESP_OK)
        return;                   /* keep the first reason */
    info->result = ESP_ERR_IMAGE_INVALID;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(info->reason, sizeof info->reason, fmt, ap);
    va_end(ap);
}

/* ---- header ------------------------------------------------------------- */

static void read_header(const uint8_t *h, esim_image_info *info)
{
    info->magic = h[0];
    info->segment_count = h[1];
    info->spi_mode = h[2];
    info->spi_speed = h[3] & 0x0F;
    info->spi_size = h[3] >> 4;
    info->entry_addr = get32(h + 4);
    info->wp_pin = h[8];
    memcpy(info->spi_pin_drv, h + 9, 3);
    info->chip_id = get16(h + 12);
    info->min_chip_rev = h[14];
    info->min_chip_rev_full = get16(h + 15);
    info->max_chip_rev_full = get16(h + 17);
    info->hash_appended = h[23] != 0;
}

static bool max_rev_set(uint16_t max)
{
    return max != 0 && max != 0xFFFF;
}

static bool check_chip(esim_image_info *info)
{
    if (info->chip_id != ESIM_IMAGE_CHIP_ESP32) {
        fail(info, "chip id 0x%04x is not an ESP32's (0x0000)", info->chip_id);
        return false;
    }
    unsigned rev = ESIM_IMAGE_CHIP_REV_FULL;
    if (info->min_chip_rev_full > rev) {
        fail(info, "needs chip revision v%u.%u or later; this chip is v%u.%u",
             info->min_chip_rev_full / 100u, info->min_chip_rev_full % 100u, rev / 100u, rev % 100u);
        return false;
    }
    if (max_rev_set(info->max_chip_rev_full) && rev > info->max_chip_rev_full) {
        fail(info, "supports chip revisions up to v%u.%u; this chip is v%u.%u",
             info->max_chip_rev_full / 100u, info->max_chip_rev_full % 100u, rev / 100u, rev % 100u);
        return false;
    }
    return true;
}

/* ---- segments ----------------------------------------------------------- */

static bool segment_sane(esim_image_info *info, int i, const esim_image_segment *s)
{
    if (s->data_len % 4 != 0 || s->data_len >= SIXTEEN_MB) {
        fail(info, "segment %d: bad length 0x%x (must be a multiple of 4, under 16 MiB)", i, s->data_len);
        return false;
    }
    if (is_mapped(s->load_addr) && s->file_offset % MMU_PAGE != s->load_addr % MMU_PAGE) {
        fail(info, "segment %d: load address 0x%08x and file offset 0x%x differ modulo 64 KiB",
             i, s->load_addr, s->file_offset);
        return false;
    }
    if (!is_mapped(s->load_addr) && s->load_addr >= NOT_LOADED && s->data_len > 0
        && !in_ram(s->load_addr, s->data_len)) {
        fail(info, "segment %d: load range 0x%08x+0x%x is not ESP32 RAM", i, s->load_addr, s->data_len);
        return false;
    }
    return true;
}

static uint8_t xor_bytes(uint8_t acc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        acc ^= p[i];
    return acc;
}

/* Walk the segment headers. On success *end is the offset just past the
 * last segment's data and the checksum is computed. */
static bool walk_segments(const uint8_t *data, size_t len, esim_image_info *info, size_t *end)
{
    if (info->segment_count > ESIM_IMAGE_MAX_SEGMENTS) {
        fail(info, "segment count %u exceeds %u", info->segment_count, ESIM_IMAGE_MAX_SEGMENTS);
        return false;
    }
    size_t at = ESIM_IMAGE_HEADER_SIZE;
    uint8_t sum = CHECKSUM_SEED;
    for (int i = 0; i < info->segment_count; i++) {
        if (len < SEG_HEADER_SIZE || at > len - SEG_HEADER_SIZE) {
            fail(info, "truncated: segment %d header at 0x%zx is past the end (%zu bytes)", i, at, len);
            return false;
        }
        esim_image_segment *s = &info->segments[i];
        s->load_addr = get32(data + at);
        s->data_len = get32(data + at + 4);
        s->file_offset = (uint32_t)(at + SEG_HEADER_SIZE);
        if (!segment_sane(info, i, s))
            return false;
        at += SEG_HEADER_SIZE;
        if (s->data_len > len - at) {
            info->checks.segments = i + 1 == info->segment_count;
            fail(info, "truncated: segment %d data ends at 0x%zx, past the end (%zu bytes)",
                 i, at + s->data_len, len);
            return false;
        }
        sum = xor_bytes(sum, data + at, s->data_len);
        at += s->data_len;
    }
    info->checks.segments = true;
    info->checksum_computed = sum;
    *end = at;
    return true;
}

/* ---- checksum, hash, length --------------------------------------------- */

static size_t padded_end(size_t end)
{
    return (end + 1 + 15) & ~(size_t)15;
}

/* After the segments: checksum byte, then the appended hash. */
static void check_tail(const uint8_t *data, size_t len, size_t end, esim_image_info *info)
{
    size_t padded = padded_end(end);
    info->image_len = (uint32_t)(padded + (info->hash_appended ? HASH_LEN : 0));
    if (padded > len) {
        fail(info, "truncated: checksum byte at 0x%zx is past the end (%zu bytes)", padded - 1, len);
        return;
    }
    info->checksum_stored = data[padded - 1];
    info->checks.checksum = info->checksum_stored == info->checksum_computed;
    if (!info->checks.checksum)
        fail(info, "checksum 0x%02x does not match computed 0x%02x", info->checksum_stored,
             info->checksum_computed);
    info->checks.length = info->image_len <= len;
    if (!info->checks.length) {
        fail(info, "truncated: the image is %u bytes with its SHA-256, only %zu given", info->image_len, len);
        return;
    }
    if (!info->hash_appended) {
        info->checks.sha256 = true;
        return;
    }
    memcpy(info->sha256_stored, data + padded, HASH_LEN);
    if (mbedtls_sha256_ret(data, padded, info->sha256_computed, 0) != 0) {
        fail(info, "SHA-256 could not be computed");
        return;
    }
    info->checks.sha256 = memcmp(info->sha256_stored, info->sha256_computed, HASH_LEN) == 0;
    if (!info->checks.sha256)
        fail(info, "appended SHA-256 does not match the image contents");
}

/* ---- app description ---------------------------------------------------- */

static void get_text(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, k);
    dst[k] = '\0';
}

static void read_app_desc(const uint8_t *data, size_t len, esim_image_info *info)
{
    if (len < ESIM_APP_DESC_OFFSET + ESIM_APP_DESC_SIZE)
        return;
    const uint8_t *d = data + ESIM_APP_DESC_OFFSET;
    esim_app_desc *a = &info->app_desc;
    a->magic_word = get32(d);
    a->secure_version = get32(d + 4);
    get_text(a->version, sizeof a->version, d + 16, 32);
    get_text(a->project_name, sizeof a->project_name, d + 48, 32);
    get_text(a->time, sizeof a->time, d + 80, 16);
    get_text(a->date, sizeof a->date, d + 96, 16);
    get_text(a->idf_ver, sizeof a->idf_ver, d + 112, 32);
    memcpy(a->app_elf_sha256, d + 144, 32);
    a->min_efuse_blk_rev_full = get16(d + 176);
    a->max_efuse_blk_rev_full = get16(d + 178);
    a->mmu_page_size = d[180];
    info->has_app_desc = a->magic_word == ESIM_APP_DESC_MAGIC;
}

/* ---- the verifier ------------------------------------------------------- */

esp_err_t esim_image_verify(const uint8_t *data, size_t len, esim_image_info *info)
{
    esim_image_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    if (!data)
        len = 0;
    if (len < ESIM_IMAGE_HEADER_SIZE) {
        fail(info, "truncated: %zu bytes, the header alone is %u", len, ESIM_IMAGE_HEADER_SIZE);
        return info->result;
    }
    read_header(data, info);
    read_app_desc(data, len, info);
    info->checks.magic = info->magic == ESIM_IMAGE_MAGIC;
    if (!info->checks.magic)
        fail(info, "bad magic byte 0x%02x, expected 0xe9 (nothing flashed here?)", info->magic);
    info->checks.chip = check_chip(info);
    size_t end;
    if (walk_segments(data, len, info, &end))
        check_tail(data, len, end, info);
    return info->result;
}

/* ---- the builder ---------------------------------------------------------- *
 * Layout, as esptool elf2image lays out an IDF app: flash-mapped segments
 * by address (DROM first, holding the app description), RAM segments fill
 * the gap before the IROM segment so that its data starts at a file offset
 * equal to its address modulo 64 KiB, the rest of IRAM follows IROM. */

#define DEFAULT_PROJECT   "esp32sim-app"
#define DEFAULT_VERSION   "1.0.0"
#define DEFAULT_SIZE      0x20000u
#define MAX_SIZE          0x300000u
#define DROM_ADDR         0x3F400020u
#define DROM_LEN          0x4000u
#define DRAM_ADDR         0x3FFB0000u
#define DRAM_LEN          0x2000u
#define IRAM_ADDR         0x40080000u
#define IRAM_TAIL_LEN     0x1000u
#define IROM_ADDR         0x400D0020u
#define IROM_DATA_AT      0x10020u       /* file offset of IROM data */
#define ENTRY_ADDR        0x40081000u    /* call_start_cpu0 lives in IRAM */
#define MIN_IROM_LEN      0x100u
#define SEGMENT_COUNT     5u
#define FIXED_LEN         (IROM_DATA_AT + SEG_HEADER_SIZE + IRAM_TAIL_LEN + 16u + HASH_LEN)
#define MIN_SIZE          (FIXED_LEN + MIN_IROM_LEN)

typedef struct {
    uint8_t *buf;
    size_t at;
    uint64_t rng;            /* filler state, seeded from the arguments */
} builder;

/* Deterministic filler bytes: xorshift64*, seeded from the arguments. */
static uint8_t next_byte(builder *b)
{
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return (uint8_t)((b->rng * 0x2545F4914F6CDD1DULL) >> 56);
}

static void add_segment_header(builder *b, uint32_t addr, uint32_t len)
{
    put32(b->buf + b->at, addr);
    put32(b->buf + b->at + 4, len);
    b->at += SEG_HEADER_SIZE;
}

static void add_filler(builder *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b->buf[b->at++] = next_byte(b);
}

static void put_text(uint8_t *dst, const char *s)
{
    memcpy(dst, s, strlen(s));
}

static void write_header(uint8_t *h)
{
    h[0] = ESIM_IMAGE_MAGIC;
    h[1] = SEGMENT_COUNT;
    h[2] = 2;                 /* DIO */
    h[3] = 0x20;              /* 4 MB, 40 MHz */
    put32(h + 4, ENTRY_ADDR);
    h[8] = 0xEE;              /* WP pin disabled */
    put16(h + 12, ESIM_IMAGE_CHIP_ESP32);
    put16(h + 15, 0);         /* min chip revision v0.0 */
    put16(h + 17, 399);       /* max chip revision v3.99 */
    h[23] = 1;                /* SHA-256 appended */
}

/* esp_app_desc_t: date and time are fixed, the ELF hash is derived from
 * the project name and version, so equal arguments give equal images. */
static esp_err_t write_app_desc(uint8_t *d, const char *project, const char *version)
{
    put32(d, ESIM_APP_DESC_MAGIC);
    put_text(d + 16, version);
    put_text(d + 48, project);
    put_text(d + 80, "00:00:00");
    put_text(d + 96, "Jan  1 2025");
    put_text(d + 112, "v5.5.2");
    size_t np = strlen(project), nv = strlen(version);
    uint8_t seed[64] = {0};
    memcpy(seed, project, np);
    memcpy(seed + 32, version, nv);
    if (mbedtls_sha256_ret(seed, sizeof seed, d + 144, 0) != 0)
        return ESP_FAIL;
    put16(d + 176, 0);        /* min eFuse block revision v0.0 */
    put16(d + 178, 99);       /* max eFuse block revision v0.99 */
    d[180] = 16;              /* log2 of the 64 KiB MMU page */
    return ESP_OK;
}

static void write_segments(builder *b, size_t irom_len)
{
    uint32_t iram_head = (uint32_t)(IROM_DATA_AT - SEG_HEADER_SIZE)
                         - (ESIM_APP_DESC_OFFSET + DROM_LEN + SEG_HEADER_SIZE + DRAM_LEN + SEG_HEADER_SIZE);
    b->at = ESIM_IMAGE_HEADER_SIZE;
    add_segment_header(b, DROM_ADDR, DROM_LEN);
    b->at += ESIM_APP_DESC_SIZE;                  /* written by write_app_desc */
    add_filler(b, DROM_LEN - ESIM_APP_DESC_SIZE);
    add_segment_header(b, DRAM_ADDR, DRAM_LEN);
    add_filler(b, DRAM_LEN);
    add_segment_header(b, IRAM_ADDR, iram_head);
    add_filler(b, iram_head);
    add_segment_header(b, IROM_ADDR, (uint32_t)irom_len);
    add_filler(b, irom_len);
    add_segment_header(b, IRAM_ADDR + iram_head, IRAM_TAIL_LEN);
    add_filler(b, IRAM_TAIL_LEN);
}

/* Zero padding, the checksum byte and the SHA-256; returns the length. */
static esp_err_t seal(uint8_t *buf, size_t end, size_t *len)
{
    uint8_t sum = CHECKSUM_SEED;
    size_t at = ESIM_IMAGE_HEADER_SIZE;
    for (unsigned i = 0; i < buf[1]; i++) {
        uint32_t n = get32(buf + at + 4);
        sum = xor_bytes(sum, buf + at + SEG_HEADER_SIZE, n);
        at += SEG_HEADER_SIZE + n;
    }
    size_t padded = padded_end(end);
    memset(buf + end, 0, padded - end);
    buf[padded - 1] = sum;
    if (mbedtls_sha256_ret(buf, padded, buf + padded, 0) != 0)
        return ESP_FAIL;
    *len = padded + HASH_LEN;
    return ESP_OK;
}

static uint64_t seed_of(const char *project, const char *version, size_t size)
{
    uint64_t h = 0xCBF29CE484222325ULL;           /* FNV-1a */
    for (const char *s = project; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001B3ULL;
    h = (h ^ 0xFF) * 0x100000001B3ULL;
    for (const char *s = version; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001B3ULL;
    h ^= size;
    return h ? h : 1;
}

esp_err_t esim_image_make(const char *project, const char *version, size_t size, uint8_t **out,
                          size_t *out_len)
{
    if (!out || !out_len)
        return ESP_ERR_INVALID_ARG;
    *out = NULL;
    *out_len = 0;
    project = project ? project : DEFAULT_PROJECT;
    version = version ? version : DEFAULT_VERSION;
    size = size ? size & ~(size_t)15 : DEFAULT_SIZE;
    if (strlen(project) > 31 || strlen(version) > 31 || size < MIN_SIZE || size > MAX_SIZE)
        return ESP_ERR_INVALID_ARG;
    uint8_t *buf = calloc(1, size);
    if (!buf)
        return ESP_ERR_NO_MEM;
    builder b = {.buf = buf, .at = 0, .rng = seed_of(project, version, size)};
    write_header(buf);
    write_segments(&b, size - FIXED_LEN);
    esp_err_t err = write_app_desc(buf + ESIM_APP_DESC_OFFSET, project, version);
    if (!err)
        err = seal(buf, b.at, out_len);
    if (err) {
        free(buf);
        return err;
    }
    *out = buf;
    return ESP_OK;
}
