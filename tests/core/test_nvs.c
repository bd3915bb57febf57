/* Tests for the NVS engine (src/nvs, include/esp32sim/nvs.h,
 * docs/nvs-engine.md): byte-exact against images ESP-IDF's own engine and
 * generator made, the behaviour of reference D.4-D.10, mount-time recovery
 * from power cuts, robustness against arbitrary page contents. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/flash.h"
#include "esp32sim/nvs.h"
#include "esp32sim/nvs_format.h"

#define MIB     ((size_t)1024 * 1024)
#define SECTOR  ESIM_FLASH_SECTOR_SIZE
#define PAGE(i) ((uint32_t)(i) * SECTOR)

/* ---- helpers: flash, fixtures, comparisons ---- */

static esim_flash *new_flash(void)
{
    esim_flash *f = NULL;
    assert_int_equal(esim_flash_open_memory(2 * MIB, &f), ESP_OK);
    return f;
}

static uint8_t *read_fixture(const char *rel, size_t *len)
{
    return read_fixture_file(rel, len);
}

/* A fresh chip holding a fixture image at base. */
static esim_flash *flash_with_fixture(const char *rel, uint32_t base, size_t *len)
{
    esim_flash *f = new_flash();
    uint8_t *img = read_fixture(rel, len);
    assert_int_equal(esim_flash_program(f, base, img, *len), ESP_OK);
    free(img);
    esim_flash_reset_counters(f);
    return f;
}

static void assert_bytes_equal(const uint8_t *got, const uint8_t *want, size_t len, const char *what)
{
    for (size_t i = 0; i < len; i++) {
        if (got[i] != want[i])
            fail_msg("%s differs at offset 0x%zx: got %02x, want %02x", what, i, got[i], want[i]);
    }
}

static void assert_region_is_fixture(esim_flash *f, uint32_t base, const char *rel)
{
    size_t len;
    uint8_t *want = read_fixture(rel, &len);
    assert_bytes_equal(esim_flash_peek(f) + base, want, len, rel);
    free(want);
}

static uint64_t flash_writes(esim_flash *f)
{
    esim_flash_counters c;
    esim_flash_get_counters(f, &c);
    return c.program_ops + c.erase_ops;
}

static esim_nvs *mount_ok(esim_flash *f, uint32_t base, uint32_t size)
{
    esim_nvs *nvs = NULL;
    assert_int_equal(esim_nvs_mount(f, base, size, false, &nvs), ESP_OK);
    assert_non_null(nvs);
    return nvs;
}

static esim_nvs_handle open_rw(esim_nvs *nvs, const char *ns)
{
    esim_nvs_handle h;
    assert_int_equal(esim_nvs_open(nvs, ns, true, &h), ESP_OK);
    return h;
}

static void set_i32(const esim_nvs_handle *h, const char *key, int32_t v)
{
    assert_int_equal(esim_nvs_set_int(h, key, ESIM_NVS_TYPE_I32, v), ESP_OK);
}

static esp_err_t get_i32(const esim_nvs_handle *h, const char *key, int64_t *v)
{
    return esim_nvs_get_int(h, key, ESIM_NVS_TYPE_I32, v);
}

static void assert_i32(const esim_nvs_handle *h, const char *key, int64_t want)
{
    int64_t v = 0;
    assert_int_equal(get_i32(h, key, &v), ESP_OK);
    assert_int_equal(v, want);
}

static uint8_t *pattern(size_t len, unsigned mul, unsigned add)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    for (size_t k = 0; k < len; k++)
        p[k] = (uint8_t)(mul * k + add);
    return p;
}

static void assert_blob(const esim_nvs_handle *h, const char *key, const uint8_t *want, size_t len)
{
    size_t got_len = 0;
    assert_int_equal(esim_nvs_get_blob(h, key, NULL, &got_len), ESP_OK);
    assert_int_equal(got_len, len);
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    got_len = len;
    assert_int_equal(esim_nvs_get_blob(h, key, buf, &got_len), ESP_OK);
    assert_int_equal(got_len, len);
    assert_memory_equal(buf, want, len);
    free(buf);
}

static esim_nvs_entry_state entry_state(esim_flash *f, uint32_t page_addr, unsigned index)
{
    return esim_nvs_bitmap_get(esim_flash_peek(f) + page_addr + ESIM_NVS_BITMAP_OFFSET, index);
}

static uint32_t page_state(esim_flash *f, uint32_t page_addr)
{
    const uint8_t *p = esim_flash_peek(f) + page_addr;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool all_ff(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
}

/* ---- listing ---- */

typedef struct {
    char lines[64][96];
    int count;
} listing;

static int collect_entry(const esim_nvs_entry_info *info, void *ctx)
{
    listing *l = ctx;
    if (l->count < 64)
        snprintf(l->lines[l->count], sizeof l->lines[0], "%s:%s %s", info->namespace_name, info->key,
                 esim_nvs_type_name(info->type));
    l->count++;
    return 0;
}

static void list_all(esim_nvs *nvs, listing *l)
{
    memset(l, 0, sizeof *l);
    assert_int_equal(esim_nvs_list(nvs, NULL, ESIM_NVS_TYPE_ANY, collect_entry, l), ESP_OK);
}

/* ---- the readback files: ESP-IDF's engine reading the same image ---- */

static uint32_t sum31(const uint8_t *p, size_t len)
{
    uint32_t h = 0;
    for (size_t i = 0; i < len; i++)
        h = h * 31u + p[i];
    return h;
}

static esim_nvs_type type_by_name(const char *name)
{
    static const struct { const char *name; esim_nvs_type type; } names[] = {
        {"u8", ESIM_NVS_TYPE_U8}, {"i8", ESIM_NVS_TYPE_I8}, {"u16", ESIM_NVS_TYPE_U16},
        {"i16", ESIM_NVS_TYPE_I16}, {"u32", ESIM_NVS_TYPE_U32}, {"i32", ESIM_NVS_TYPE_I32},
        {"u64", ESIM_NVS_TYPE_U64}, {"i64", ESIM_NVS_TYPE_I64}, {"str", ESIM_NVS_TYPE_STR},
        {"blob", ESIM_NVS_TYPE_BLOB_DATA},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].name, name) == 0)
            return names[i].type;
    fail_msg("unknown type %s", name);
    return ESIM_NVS_TYPE_ANY;
}

static void check_get_int(const esim_nvs_handle *h, const char *type, const char *key, const char *value)
{
    esim_nvs_type t = type_by_name(type);
    int64_t got = 0;
    assert_int_equal(esim_nvs_get_int(h, key, t, &got), ESP_OK);
    char text[32];
    if (esim_nvs_type_signed(t))
        snprintf(text, sizeof text, "%" PRId64, got);
    else
        snprintf(text, sizeof text, "%" PRIu64, (uint64_t)got);
    assert_string_equal(text, value);
}

static void check_get_str(const esim_nvs_handle *h, const char *key, const char *rest)
{
    const char *open = strchr(rest, '"');
    const char *close = strstr(rest, "\" (len incl NUL ");
    assert_non_null(open);
    assert_non_null(close);
    size_t want_len = strtoul(close + 16, NULL, 10);
    char buf[256];
    size_t len = sizeof buf;
    assert_int_equal(esim_nvs_get_str(h, key, buf, &len), ESP_OK);
    assert_int_equal(len, want_len);
    assert_int_equal(strlen(buf), (size_t)(close - open - 1));
    assert_memory_equal(buf, open + 1, (size_t)(close - open - 1));
}

static void check_get_blob(const esim_nvs_handle *h, const char *key, const char *rest)
{
    size_t want_len;
    unsigned want_sum;
    char hex[300];
    assert_int_equal(sscanf(rest, "len %zu sum31 0x%x hex %299s", &want_len, &want_sum, hex), 3);
    uint8_t *buf = malloc(want_len + 1);
    size_t len = want_len;
    assert_int_equal(esim_nvs_get_blob(h, key, buf, &len), ESP_OK);
    assert_int_equal(len, want_len);
    assert_int_equal(sum31(buf, len), want_sum);
    for (size_t i = 0; i < len && hex[2 * i] && hex[2 * i] != '.'; i++) {
        unsigned byte;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
        assert_int_equal(buf[i], byte);
    }
    free(buf);
}

static void check_get(const esim_nvs_handle *h, const char *line)
{
    char op[16], key[32], rest[400];
    unsigned code;
    assert_int_equal(sscanf(line, "%15s %31s %399[^\n]", op, key, rest), 3);
    if (sscanf(rest, "ERR 0x%x", &code) == 1) {
        int64_t v;
        assert_int_equal(esim_nvs_get_int(h, key, type_by_name(op + 4), &v), (esp_err_t)code);
        return;
    }
    assert_true(strncmp(rest, "= ", 2) == 0);
    if (strcmp(op, "get_str") == 0)
        check_get_str(h, key, rest + 2);
    else if (strcmp(op, "get_blob") == 0)
        check_get_blob(h, key, rest + 2);
    else
        check_get_int(h, op + 4, key, rest + 2);
}

static void check_stats(esim_nvs *nvs, const char *line)
{
    esim_nvs_stats s;
    size_t used, free_, avail, total, ns;
    assert_int_equal(sscanf(line, "stats used=%zu free=%zu available=%zu total=%zu namespaces=%zu",
                            &used, &free_, &avail, &total, &ns), 5);
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    assert_int_equal(s.used_entries, used);
    assert_int_equal(s.free_entries, free_);
    assert_int_equal(s.available_entries, avail);
    assert_int_equal(s.total_entries, total);
    assert_int_equal(s.namespace_count, ns);
}

/* Replays a readback file against a mounted image. */
static void check_readback(esim_nvs *nvs, const char *rel)
{
    size_t len;
    char *text = (char *)read_fixture(rel, &len);
    esim_nvs_handle h = {0};
    listing got, want;
    memset(&want, 0, sizeof want);
    list_all(nvs, &got);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[32], ns[32], key[32], type[16];
        int count;
        if (sscanf(line, "open_ro %31s OK", name) == 1 || sscanf(line, "open %31s OK", name) == 1) {
            assert_int_equal(esim_nvs_open(nvs, name, false, &h), ESP_OK);
        } else if (strncmp(line, "get_", 4) == 0) {
            check_get(&h, line);
        } else if (sscanf(line, "entry %31[^:]:%31s type=%15s", ns, key, type) == 3) {
            snprintf(want.lines[want.count++], sizeof want.lines[0], "%s:%s %s", ns, key,
                     esim_nvs_type_name(type_by_name(type)));
        } else if (sscanf(line, "list: %d entries", &count) == 1) {
            assert_int_equal(got.count, count);
            for (int i = 0; i < count; i++)
                assert_string_equal(got.lines[i], want.lines[i]);
        } else if (strncmp(line, "stats ", 6) == 0) {
            check_stats(nvs, line);
        }
    }
    free(text);
}

/* ---- vectors: ESP-IDF's engine, byte for byte ---- */

/* rt01: a MicroPython-like session on a blank 0x6000 partition. */
static void run_rt01_session(esim_flash *f, uint32_t base)
{
    esim_nvs *nvs = mount_ok(f, base, 0x6000);
    esim_nvs_handle h = open_rw(nvs, "mp");
    set_i32(&h, "a", 1);
    set_i32(&h, "a", 2);
    set_i32(&h, "a", 2);
    uint8_t *big = pattern(5000, 13, 5), *small = pattern(100, 7, 1);
    assert_int_equal(esim_nvs_set_blob(&h, "b", big, 5000), ESP_OK);
    assert_int_equal(esim_nvs_set_blob(&h, "b", small, 100), ESP_OK);
    assert_int_equal(esim_nvs_set_str(&h, "s", "hello"), ESP_OK);
    assert_int_equal(esim_nvs_erase_key(&h, "a"), ESP_OK);
    assert_int_equal(esim_nvs_commit(&h), ESP_OK);
    free(big);
    free(small);
    esim_nvs_unmount(nvs);
}

static void test_rt01_session_bytes(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    run_rt01_session(f, 0);
    assert_region_is_fixture(f, 0, "nvs_runtime/rt01_mp_session_0x6000.bin");
    esim_flash_close(f);
}

static void test_rt01_at_partition_offset(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    run_rt01_session(f, 0x9000);
    assert_region_is_fixture(f, 0x9000, "nvs_runtime/rt01_mp_session_0x6000.bin");
    assert_true(all_ff(esim_flash_peek(f), 0x9000));
    assert_true(all_ff(esim_flash_peek(f) + 0xF000, SECTOR));
    esim_flash_close(f);
}

static void test_rt01_readback(void **state)
{
    (void)state;
    size_t len;
    esim_flash *f = flash_with_fixture("nvs_runtime/rt01_mp_session_0x6000.bin", 0, &len);
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    check_readback(nvs, "nvs_runtime/rt01_mp_session_0x6000.readback.txt");
    esim_nvs_handle h;
    assert_int_equal(esim_nvs_open(nvs, "mp", false, &h), ESP_OK);
    uint8_t *small = pattern(100, 7, 1);
    assert_blob(&h, "b", small, 100);
    free(small);
    esim_nvs_unmount(nvs);
    assert_int_equal(flash_writes(f), 0);
    assert_region_is_fixture(f, 0, "nvs_runtime/rt01_mp_session_0x6000.bin");
    esim_flash_close(f);
}

static void make_rt03_base(esim_flash *f)
{
    esim_nvs *nvs = mount_ok(f, 0, 0x4000);
    esim_nvs_handle h = open_rw(nvs, "p");
    set_i32(&h, "a", 1);
    set_i32(&h, "b", 7);
    esim_nvs_unmount(nvs);
}

static void test_rt03_base_bytes(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    make_rt03_base(f);
    assert_region_is_fixture(f, 0, "nvs_runtime/rt03_base_0x4000.bin");
    esim_flash_close(f);
}

static void test_rt03_power_loss_after_32_bytes(void **state)
{
    (void)state;
    size_t len;
    esim_flash *f = flash_with_fixture("nvs_runtime/rt03_base_0x4000.bin", 0, &len);
    esim_nvs *nvs = mount_ok(f, 0, 0x4000);
    esim_nvs_handle h = open_rw(nvs, "p");
    assert_int_equal(esim_flash_arm_cut_after_bytes(f, 32, 1), ESP_OK);
    assert_int_equal(esim_nvs_set_int(&h, "a", ESIM_NVS_TYPE_I32, 2), ESP_ERR_FLASH_OP_FAIL);
    esim_nvs_unmount(nvs);
    assert_region_is_fixture(f, 0, "nvs_runtime/rt03_powerloss_after_32B.before_mount.bin");

    esim_flash_power_on(f);
    nvs = mount_ok(f, 0, 0x4000);
    assert_region_is_fixture(f, 0, "nvs_runtime/rt03_powerloss_after_32B.after_mount.bin");
    h = open_rw(nvs, "p");
    assert_i32(&h, "a", 1);
    assert_i32(&h, "b", 7);
    listing l;
    list_all(nvs, &l);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.lines[0], "p:a i32");
    assert_string_equal(l.lines[1], "p:b i32");
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* Mounting a generator image changes nothing; every key reads back as
 * ESP-IDF's engine read it. */
static void check_generator_image(const char *image, const char *readback)
{
    size_t len;
    esim_flash *f = flash_with_fixture(image, 0x9000, &len);
    esim_nvs *nvs = mount_ok(f, 0x9000, (uint32_t)len);
    check_readback(nvs, readback);
    esim_nvs_unmount(nvs);
    assert_int_equal(flash_writes(f), 0);
    assert_region_is_fixture(f, 0x9000, image);
    esim_flash_close(f);
}

static void test_generator_basic(void **state)
{
    (void)state;
    check_generator_image("nvs/nvs_basic_0x6000.bin", "nvs/nvs_basic_0x6000.espidf_readback.txt");
}

static void test_generator_multipage_blob(void **state)
{
    (void)state;
    check_generator_image("nvs/nvs_mpblob5000_0x6000.bin", "nvs/nvs_mpblob5000_0x6000.espidf_readback.txt");
    size_t len, blob_len;
    esim_flash *f = flash_with_fixture("nvs/nvs_mpblob5000_0x6000.bin", 0, &len);
    uint8_t *want = read_fixture("nvs/data/blob_5000.bin", &blob_len);
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_handle h;
    assert_int_equal(esim_nvs_open(nvs, "mp_nvs", false, &h), ESP_OK);
    assert_blob(&h, "bigblob", want, blob_len);
    free(want);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- crafting images with the format primitives ---- */

static void raw_header(esim_flash *f, uint32_t page, uint32_t state, uint32_t seqno, uint8_t version)
{
    esim_nvs_page_header h = {state, seqno, version, 0};
    uint8_t raw[32];
    esim_nvs_header_encode(&h, raw);
    assert_int_equal(esim_flash_program(f, page, raw, sizeof raw), ESP_OK);
}

static void raw_mark(esim_flash *f, uint32_t page, unsigned index, esim_nvs_entry_state state)
{
    uint8_t bitmap[ESIM_NVS_BITMAP_SIZE];
    memcpy(bitmap, esim_flash_peek(f) + page + ESIM_NVS_BITMAP_OFFSET, sizeof bitmap);
    esim_nvs_bitmap_set(bitmap, index, state);
    assert_int_equal(esim_flash_program(f, page + ESIM_NVS_BITMAP_OFFSET + index / 4, bitmap + index / 4, 1), ESP_OK);
}

static void raw_entry(esim_flash *f, uint32_t page, unsigned index, const uint8_t raw[32], esim_nvs_entry_state state)
{
    assert_int_equal(esim_flash_program(f, page + ESIM_NVS_ENTRIES_OFFSET + index * 32, raw, 32), ESP_OK);
    raw_mark(f, page, index, state);
}

static void raw_item(esim_flash *f, uint32_t page, unsigned index, esim_nvs_item *item)
{
    uint8_t raw[32];
    item->crc = esim_nvs_item_crc(item);
    esim_nvs_item_encode(item, raw);
    raw_entry(f, page, index, raw, ESIM_NVS_ENTRY_WRITTEN);
}

static void raw_ns(esim_flash *f, uint32_t page, unsigned index, const char *name, uint8_t ns)
{
    esim_nvs_item it;
    esim_nvs_item_init(&it, 0, ESIM_NVS_TYPE_U8, name);
    it.data[0] = ns;
    raw_item(f, page, index, &it);
}

static void raw_i32(esim_flash *f, uint32_t page, unsigned index, uint8_t ns, const char *key, int32_t v)
{
    esim_nvs_item it;
    esim_nvs_item_init(&it, ns, ESIM_NVS_TYPE_I32, key);
    for (int i = 0; i < 4; i++)
        it.data[i] = (uint8_t)((uint32_t)v >> (8 * i));
    raw_item(f, page, index, &it);
}

/* A variable-length item and its data entries; returns the span. */
static unsigned raw_var(esim_flash *f, uint32_t page, unsigned index, uint8_t ns, uint8_t type,
                        const char *key, const uint8_t *data, size_t len, uint8_t chunk)
{
    esim_nvs_item it;
    esim_nvs_item_init(&it, ns, type, key);
    it.span = (uint8_t)esim_nvs_span_for_size(len);
    it.chunk_index = chunk;
    esim_nvs_item_set_var(&it, (uint16_t)len, esim_nvs_crc32(data, len));
    raw_item(f, page, index, &it);
    for (unsigned e = 1; e < it.span; e++) {
        uint8_t raw[32];
        size_t off = (e - 1) * 32, n = len - off < 32 ? len - off : 32;
        memset(raw, 0xFF, sizeof raw);
        memcpy(raw, data + off, n);
        raw_entry(f, page, index + e, raw, ESIM_NVS_ENTRY_WRITTEN);
    }
    return it.span;
}

static void raw_blob_index(esim_flash *f, uint32_t page, unsigned index, uint8_t ns, const char *key,
                           uint32_t size, uint8_t count, uint8_t start)
{
    esim_nvs_item it;
    esim_nvs_item_init(&it, ns, ESIM_NVS_TYPE_BLOB_IDX, key);
    esim_nvs_item_set_blob_index(&it, size, count, start);
    raw_item(f, page, index, &it);
}

/* The first WRITTEN item of a type and key on the partition's pages. */
static bool find_on_flash(esim_flash *f, uint32_t base, unsigned pages, uint8_t type, const char *key,
                          esim_nvs_item *out, uint32_t *page_out, unsigned *index_out)
{
    for (unsigned p = 0; p < pages; p++) {
        uint32_t page = base + PAGE(p);
        if (page_state(f, page) == ESIM_NVS_PAGE_UNINITIALIZED)
            continue;
        for (unsigned i = 0; i < ESIM_NVS_ENTRY_COUNT; i++) {
            if (entry_state(f, page, i) != ESIM_NVS_ENTRY_WRITTEN)
                continue;
            esim_nvs_item it;
            esim_nvs_item_decode(esim_flash_peek(f) + page + ESIM_NVS_ENTRIES_OFFSET + i * 32, &it);
            if (it.type == type && strcmp(it.key, key) == 0 && it.crc == esim_nvs_item_crc(&it)) {
                *out = it;
                if (page_out)
                    *page_out = page;
                if (index_out)
                    *index_out = i;
                return true;
            }
        }
    }
    return false;
}

/* ---- D.2 / D.6: headers and namespaces ---- */

static void test_blank_mount_writes_nothing(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_stats s;
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    assert_int_equal(s.used_entries, 0);
    assert_int_equal(s.free_entries, 756);
    assert_int_equal(s.available_entries, 630);
    assert_int_equal(s.total_entries, 756);
    assert_int_equal(s.namespace_count, 0);
    esim_nvs_unmount(nvs);
    assert_int_equal(flash_writes(f), 0);
    assert_true(all_ff(esim_flash_peek(f), 0x6000));
    esim_flash_close(f);
}

static void test_header_written_at_first_write(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_handle h = open_rw(nvs, "ns");
    assert_int_equal(h.ns_index, 1);
    esim_flash_counters c;
    esim_flash_get_counters(f, &c);
    assert_int_equal(c.program_ops, 3);          /* header, entry, bitmap word */
    assert_int_equal(c.bytes_programmed, 32 + 32 + 4);
    esim_nvs_page_header hdr;
    esim_nvs_header_decode(esim_flash_peek(f), &hdr);
    assert_int_equal(hdr.state, ESIM_NVS_PAGE_ACTIVE);
    assert_int_equal(hdr.seqno, 0);
    assert_int_equal(hdr.version, ESIM_NVS_VERSION_2);
    assert_int_equal(hdr.crc, esim_nvs_header_crc(esim_flash_peek(f)));
    assert_int_equal(esim_flash_peek(f)[ESIM_NVS_BITMAP_OFFSET], 0xFE);
    esim_nvs_item it;
    assert_true(find_on_flash(f, 0, 6, ESIM_NVS_TYPE_U8, "ns", &it, NULL, NULL));
    assert_int_equal(it.ns_index, 0);
    assert_int_equal(it.data[0], 1);
    /* opening it again writes nothing */
    esim_flash_reset_counters(f);
    h = open_rw(nvs, "ns");
    assert_int_equal(flash_writes(f), 0);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_failed_first_write_leaves_header(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_handle h;
    assert_int_equal(esim_nvs_open(nvs, "namespace_name_1", true, &h), ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(flash_writes(f), 1);
    assert_int_equal(page_state(f, 0), ESIM_NVS_PAGE_ACTIVE);
    assert_true(all_ff(esim_flash_peek(f) + 32, 0x6000 - 32));
    assert_int_equal(esim_nvs_open(nvs, "namespace_name_", false, &h), ESP_ERR_NVS_NOT_FOUND);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static int collect_namespace(const char *name, uint8_t index, void *ctx)
{
    listing *l = ctx;
    snprintf(l->lines[l->count++], sizeof l->lines[0], "%s=%u", name, index);
    return 0;
}

static void test_namespace_lowest_free_index(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    raw_header(f, 0, ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, 0, 0, "x", 1);
    raw_ns(f, 0, 1, "z", 3);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    assert_int_equal(open_rw(nvs, "y").ns_index, 2);
    assert_int_equal(open_rw(nvs, "w").ns_index, 4);
    assert_int_equal(open_rw(nvs, "z").ns_index, 3);
    listing l;
    memset(&l, 0, sizeof l);
    assert_int_equal(esim_nvs_namespaces(nvs, collect_namespace, &l), ESP_OK);
    assert_int_equal(l.count, 4);
    assert_string_equal(l.lines[0], "x=1");
    assert_string_equal(l.lines[1], "y=2");
    assert_string_equal(l.lines[2], "z=3");
    assert_string_equal(l.lines[3], "w=4");
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_namespace_limit(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    char name[16];
    for (unsigned i = 0; i < 254; i++) {
        snprintf(name, sizeof name, "n%u", i);
        assert_int_equal(open_rw(nvs, name).ns_index, i + 1);
    }
    uint64_t before = flash_writes(f);
    esim_nvs_handle h;
    assert_int_equal(esim_nvs_open(nvs, "one_too_many", true, &h), ESP_ERR_NVS_NOT_ENOUGH_SPACE);
    assert_int_equal(flash_writes(f), before);
    assert_int_equal(open_rw(nvs, "n200").ns_index, 201);
    esim_nvs_stats s;
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    assert_int_equal(s.namespace_count, 254);
    assert_int_equal(s.used_entries, 254);
    esim_nvs_unmount(nvs);
    nvs = mount_ok(f, 0, 0x6000);
    assert_int_equal(esim_nvs_open(nvs, "n253", false, &h), ESP_OK);
    assert_int_equal(h.ns_index, 254);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- D.10: key length rules ---- */

static void test_key_length_rules(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_handle h = open_rw(nvs, "keys");
    int64_t v;
    assert_int_equal(esim_nvs_set_int(&h, "sixteen_chars_ke", ESIM_NVS_TYPE_I32, 1), ESP_ERR_NVS_KEY_TOO_LONG);
    set_i32(&h, "fifteen_chars_k", 5);
    uint64_t before = flash_writes(f);
    /* identical value under the first 15 bytes: success, nothing written */
    assert_int_equal(esim_nvs_set_int(&h, "fifteen_chars_kXY", ESIM_NVS_TYPE_I32, 5), ESP_OK);
    assert_int_equal(flash_writes(f), before);
    assert_int_equal(esim_nvs_set_int(&h, "fifteen_chars_kXY", ESIM_NVS_TYPE_I32, 6), ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(esim_nvs_set_int(&h, "fifteen_chars_kXY", ESIM_NVS_TYPE_U32, 5), ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(get_i32(&h, "fifteen_chars_kZZZ", &v), ESP_OK);
    assert_int_equal(v, 5);
    assert_int_equal(esim_nvs_set_str(&h, "fifteen_chars_s", "v"), ESP_OK);
    before = flash_writes(f);
    assert_int_equal(esim_nvs_set_str(&h, "fifteen_chars_sLONG", "v"), ESP_OK);
    assert_int_equal(flash_writes(f), before);
    assert_int_equal(esim_nvs_erase_key(&h, "fifteen_chars_kQQ"), ESP_OK);
    assert_int_equal(get_i32(&h, "fifteen_chars_k", &v), ESP_ERR_NVS_NOT_FOUND);
    /* namespaces: created names are checked, lookups use 15 bytes */
    esim_nvs_handle n;
    assert_int_equal(esim_nvs_open(nvs, "namespace_name_1", true, &n), ESP_ERR_NVS_KEY_TOO_LONG);
    esim_nvs_handle m = open_rw(nvs, "namespace_name_");
    before = flash_writes(f);
    assert_int_equal(esim_nvs_open(nvs, "namespace_name_XYZ", true, &n), ESP_OK);
    assert_int_equal(n.ns_index, m.ns_index);
    assert_int_equal(flash_writes(f), before);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- D.6: replacing values ---- */

static void test_type_replacement(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_handle h = open_rw(nvs, "t");
    int64_t v;
    esim_nvs_type type;
    listing l;
    uint8_t blob[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    set_i32(&h, "k", 1);
    assert_int_equal(esim_nvs_set_blob(&h, "k", blob, sizeof blob), ESP_OK);
    assert_int_equal(get_i32(&h, "k", &v), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(esim_nvs_find_key(&h, "k", &type), ESP_OK);
    assert_int_equal(type, ESIM_NVS_TYPE_BLOB_DATA);
    assert_blob(&h, "k", blob, sizeof blob);
    assert_int_equal(entry_state(f, 0, 1), ESIM_NVS_ENTRY_ERASED);   /* the i32 */
    list_all(nvs, &l);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.lines[0], "t:k blob_data");

    assert_int_equal(esim_nvs_set_int(&h, "k", ESIM_NVS_TYPE_U8, 200), ESP_OK);
    size_t len = 0;
    assert_int_equal(esim_nvs_get_blob(&h, "k", NULL, &len), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(esim_nvs_get_int(&h, "k", ESIM_NVS_TYPE_U8, &v), ESP_OK);
    assert_int_equal(v, 200);
    assert_int_equal(get_i32(&h, "k", &v), ESP_ERR_NVS_NOT_FOUND);
    list_all(nvs, &l);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.lines[0], "t:k u8");

    assert_int_equal(esim_nvs_set_str(&h, "k", "text"), ESP_OK);
    assert_int_equal(esim_nvs_get_int(&h, "k", ESIM_NVS_TYPE_U8, &v), ESP_ERR_NVS_NOT_FOUND);
    esim_nvs_stats s;
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    assert_int_equal(s.used_entries, 1 + 2);     /* namespace + string */
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_integer_widths(void **state)
{
    (void)state;
    static const struct { esim_nvs_type type; int64_t in, out; } cases[] = {
        {ESIM_NVS_TYPE_U8, 300, 44}, {ESIM_NVS_TYPE_I8, -100, -100}, {ESIM_NVS_TYPE_U16, 65000, 65000},
        {ESIM_NVS_TYPE_I16, -32000, -32000}, {ESIM_NVS_TYPE_U32, 4000000000LL, 4000000000LL},
        {ESIM_NVS_TYPE_I32, -123456789, -123456789}, {ESIM_NVS_TYPE_U64, -1, -1},
        {ESIM_NVS_TYPE_I64, INT64_MIN, INT64_MIN},
    };
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_handle h = open_rw(nvs, "ints");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char key[8];
        int64_t v;
        snprintf(key, sizeof key, "k%zu", i);
        assert_int_equal(esim_nvs_set_int(&h, key, cases[i].type, cases[i].in), ESP_OK);
        assert_int_equal(esim_nvs_get_int(&h, key, cases[i].type, &v), ESP_OK);
        assert_int_equal(v, cases[i].out);
        esim_nvs_item it;
        assert_true(find_on_flash(f, 0, 3, (uint8_t)cases[i].type, key, &it, NULL, NULL));
        for (unsigned b = esim_nvs_int_width(cases[i].type); b < 8; b++)
            assert_int_equal(it.data[b], 0xFF);
    }
    assert_int_equal(esim_nvs_set_int(&h, "bad", ESIM_NVS_TYPE_STR, 1), ESP_ERR_INVALID_ARG);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_identical_values_write_nothing(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_handle h = open_rw(nvs, "same");
    uint8_t *small = pattern(300, 3, 1), *big = pattern(5000, 13, 5);
    set_i32(&h, "i", 7);
    assert_int_equal(esim_nvs_set_str(&h, "s", "abc"), ESP_OK);
    assert_int_equal(esim_nvs_set_blob(&h, "b", small, 300), ESP_OK);
    uint64_t before = flash_writes(f);
    set_i32(&h, "i", 7);
    assert_int_equal(esim_nvs_set_str(&h, "s", "abc"), ESP_OK);
    assert_int_equal(esim_nvs_set_blob(&h, "b", small, 300), ESP_OK);
    assert_int_equal(flash_writes(f), before);

    /* a blob of two chunks is rewritten: the second chunk's CRC is compared
     * with the CRC of the value's first bytes */
    esim_nvs_item idx;
    assert_int_equal(esim_nvs_set_blob(&h, "big", big, 5000), ESP_OK);
    assert_true(find_on_flash(f, 0, 6, ESIM_NVS_TYPE_BLOB_IDX, "big", &idx, NULL, NULL));
    assert_int_equal(esim_nvs_item_blob_chunk_count(&idx), 2);
    assert_int_equal(esim_nvs_item_blob_chunk_start(&idx), 0x00);
    before = flash_writes(f);
    assert_int_equal(esim_nvs_set_blob(&h, "big", big, 5000), ESP_OK);
    assert_true(flash_writes(f) > before);
    assert_true(find_on_flash(f, 0, 6, ESIM_NVS_TYPE_BLOB_IDX, "big", &idx, NULL, NULL));
    assert_int_equal(esim_nvs_item_blob_chunk_start(&idx), 0x80);
    assert_blob(&h, "big", big, 5000);

    /* unless every later chunk repeats the value's start */
    memset(big, 0x55, 5000);
    assert_int_equal(esim_nvs_set_blob(&h, "flat", big, 5000), ESP_OK);
    before = flash_writes(f);
    assert_int_equal(esim_nvs_set_blob(&h, "flat", big, 5000), ESP_OK);
    assert_int_equal(flash_writes(f), before);
    free(small);
    free(big);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- D.10: blob sizes ---- */

static void test_blob_too_long_writes_nothing(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_handle h = open_rw(nvs, "b");
    uint8_t *data = pattern(20001, 1, 0);
    uint64_t before = flash_writes(f);
    assert_int_equal(esim_nvs_set_blob(&h, "x", data, 20001), ESP_ERR_NVS_VALUE_TOO_LONG);
    assert_int_equal(flash_writes(f), before);
    free(data);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void check_largest_blob(uint32_t size, size_t largest)
{
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, size);
    esim_nvs_handle h = open_rw(nvs, "b");
    uint8_t *data = pattern(largest + 1, 7, 3);
    assert_int_equal(esim_nvs_set_blob(&h, "x", data, largest), ESP_OK);
    assert_blob(&h, "x", data, largest);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);

    /* one byte more: chunks written, then erased; the pages stay FULL */
    f = new_flash();
    nvs = mount_ok(f, 0, size);
    h = open_rw(nvs, "b");
    assert_int_equal(esim_nvs_set_blob(&h, "x", data, largest + 1), ESP_ERR_NVS_NOT_ENOUGH_SPACE);
    unsigned pages = size / SECTOR;
    for (unsigned p = 0; p + 1 < pages; p++) {
        assert_int_equal(page_state(f, PAGE(p)), ESIM_NVS_PAGE_FULL);
        for (unsigned i = p == 0 ? 1 : 0; i < ESIM_NVS_ENTRY_COUNT; i++)
            assert_int_equal(entry_state(f, PAGE(p), i), ESIM_NVS_ENTRY_ERASED);
    }
    assert_true(all_ff(esim_flash_peek(f) + PAGE(pages - 1), SECTOR));
    size_t len;
    assert_int_equal(esim_nvs_get_blob(&h, "x", NULL, &len), ESP_ERR_NVS_NOT_FOUND);
    /* the next write collects the emptiest page (page 1) and goes on */
    set_i32(&h, "after", 1);
    assert_i32(&h, "after", 1);
    assert_true(all_ff(esim_flash_peek(f) + PAGE(1), SECTOR));
    assert_int_equal(page_state(f, PAGE(pages - 1)), ESIM_NVS_PAGE_ACTIVE);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
    free(data);
}

static void test_largest_blob_0x6000(void **state)
{
    (void)state;
    check_largest_blob(0x6000, 19936);
}

static void test_largest_blob_0x4000(void **state)
{
    (void)state;
    check_largest_blob(0x4000, 11936);
}

static void test_get_lengths(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_handle h = open_rw(nvs, "len");
    uint8_t data[40], buf[64];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    assert_int_equal(esim_nvs_set_blob(&h, "b", data, sizeof data), ESP_OK);
    size_t len = 0;
    assert_int_equal(esim_nvs_get_blob(&h, "b", NULL, &len), ESP_OK);
    assert_int_equal(len, 40);
    memset(buf, 0xAA, sizeof buf);
    len = 39;
    assert_int_equal(esim_nvs_get_blob(&h, "b", buf, &len), ESP_ERR_NVS_INVALID_LENGTH);
    assert_int_equal(len, 40);
    for (unsigned i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xAA);
    len = 0;
    assert_int_equal(esim_nvs_get_blob(&h, "b", buf, &len), ESP_ERR_NVS_INVALID_LENGTH);
    len = sizeof buf;
    assert_int_equal(esim_nvs_get_blob(&h, "b", buf, &len), ESP_OK);
    assert_int_equal(len, 40);
    assert_memory_equal(buf, data, 40);
    assert_int_equal(buf[40], 0xAA);
    assert_int_equal(esim_nvs_get_blob(&h, "b", buf, NULL), ESP_ERR_NVS_INVALID_LENGTH);

    assert_int_equal(esim_nvs_set_blob(&h, "empty", NULL, 0), ESP_OK);
    len = 5;
    assert_int_equal(esim_nvs_get_blob(&h, "empty", buf, &len), ESP_OK);
    assert_int_equal(len, 0);

    char s[8];
    assert_int_equal(esim_nvs_set_str(&h, "s", "hello"), ESP_OK);
    len = 0;
    assert_int_equal(esim_nvs_get_str(&h, "s", NULL, &len), ESP_OK);
    assert_int_equal(len, 6);
    len = 5;
    assert_int_equal(esim_nvs_get_str(&h, "s", s, &len), ESP_ERR_NVS_INVALID_LENGTH);
    len = sizeof s;
    assert_int_equal(esim_nvs_get_str(&h, "s", s, &len), ESP_OK);
    assert_string_equal(s, "hello");
    assert_int_equal(esim_nvs_set_str(&h, "e", ""), ESP_OK);
    len = sizeof s;
    assert_int_equal(esim_nvs_get_str(&h, "e", s, &len), ESP_OK);
    assert_int_equal(len, 1);
    assert_int_equal(esim_nvs_get_blob(&h, "s", NULL, &len), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(esim_nvs_get_str(&h, "b", NULL, &len), ESP_ERR_NVS_NOT_FOUND);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_string_limits(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_handle h = open_rw(nvs, "s");
    char *s = malloc(4002);
    memset(s, 'x', 4001);
    s[3999] = '\0';   /* 4000 bytes with the NUL: one whole page */
    assert_int_equal(esim_nvs_set_str(&h, "max", s), ESP_OK);
    assert_int_equal(page_state(f, PAGE(0)), ESIM_NVS_PAGE_FULL);
    assert_int_equal(entry_state(f, PAGE(1), 125), ESIM_NVS_ENTRY_WRITTEN);
    char *back = malloc(4000);
    size_t len = 4000;
    assert_int_equal(esim_nvs_get_str(&h, "max", back, &len), ESP_OK);
    assert_string_equal(back, s);
    s[3999] = 'x';
    s[4000] = '\0';
    assert_int_equal(esim_nvs_set_str(&h, "over", s), ESP_ERR_NVS_VALUE_TOO_LONG);
    free(s);
    free(back);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- D.7: garbage collection ---- */

/* Fills pages 0 and 1 of a 3-page partition with i32 keys k000..k250 (the
 * namespace entry first), then erases `a` keys of page 0 and `b` of page 1. */
static esim_nvs *two_full_pages(esim_flash *f, esim_nvs_handle *h, unsigned a, unsigned b)
{
    char key[8];
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    *h = open_rw(nvs, "gc");
    for (unsigned i = 0; i < 251; i++) {
        snprintf(key, sizeof key, "k%03u", i);
        set_i32(h, key, (int32_t)i);
    }
    assert_int_equal(page_state(f, PAGE(0)), ESIM_NVS_PAGE_FULL);
    assert_int_equal(entry_state(f, PAGE(1), 125), ESIM_NVS_ENTRY_WRITTEN);
    for (unsigned i = 0; i < a; i++) {
        snprintf(key, sizeof key, "k%03u", i);
        assert_int_equal(esim_nvs_erase_key(h, key), ESP_OK);
    }
    for (unsigned i = 0; i < b; i++) {
        snprintf(key, sizeof key, "k%03u", 125 + i);
        assert_int_equal(esim_nvs_erase_key(h, key), ESP_OK);
    }
    return nvs;
}

static void assert_gc_keys(const esim_nvs_handle *h, unsigned a, unsigned b)
{
    char key[8];
    for (unsigned i = 0; i < 251; i++) {
        int64_t v;
        snprintf(key, sizeof key, "k%03u", i);
        bool erased = i < a || (i >= 125 && i < 125 + b);
        assert_int_equal(get_i32(h, key, &v), erased ? ESP_ERR_NVS_NOT_FOUND : ESP_OK);
        if (!erased)
            assert_int_equal(v, i);
    }
}

static void test_gc_picks_most_unused(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs_handle h;
    esim_nvs *nvs = two_full_pages(f, &h, 10, 20);
    set_i32(&h, "z", -1);
    /* page 1 had the most erased entries: copied to page 2, then erased */
    assert_true(all_ff(esim_flash_peek(f) + PAGE(1), SECTOR));
    esim_nvs_page_header hdr;
    esim_nvs_header_decode(esim_flash_peek(f) + PAGE(2), &hdr);
    assert_int_equal(hdr.state, ESIM_NVS_PAGE_ACTIVE);
    assert_int_equal(hdr.seqno, 2);
    for (unsigned i = 0; i < 106; i++) {
        esim_nvs_item it;
        char key[8];
        snprintf(key, sizeof key, "k%03u", 145 + i);
        esim_nvs_item_decode(esim_flash_peek(f) + PAGE(2) + ESIM_NVS_ENTRIES_OFFSET + i * 32, &it);
        assert_string_equal(it.key, key);
        assert_int_equal(entry_state(f, PAGE(2), i), ESIM_NVS_ENTRY_WRITTEN);
    }
    esim_nvs_item z;
    unsigned z_index;
    assert_true(find_on_flash(f, 0, 3, ESIM_NVS_TYPE_I32, "z", &z, NULL, &z_index));
    assert_int_equal(z_index, 106);
    assert_gc_keys(&h, 10, 20);
    assert_i32(&h, "z", -1);
    esim_nvs_stats s;
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    assert_int_equal(s.used_entries, 126 - 10 + 107);
    assert_int_equal(s.available_entries, s.free_entries - 126);
    esim_nvs_unmount(nvs);
    nvs = mount_ok(f, 0, 0x3000);
    h = open_rw(nvs, "gc");
    assert_gc_keys(&h, 10, 20);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_gc_tie_takes_oldest(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs_handle h;
    esim_nvs *nvs = two_full_pages(f, &h, 10, 10);
    set_i32(&h, "z", -1);
    assert_true(all_ff(esim_flash_peek(f) + PAGE(0), SECTOR));
    esim_nvs_item it;
    esim_nvs_item_decode(esim_flash_peek(f) + PAGE(2) + ESIM_NVS_ENTRIES_OFFSET, &it);
    assert_string_equal(it.key, "gc");                  /* the namespace entry moved first */
    esim_nvs_item_decode(esim_flash_peek(f) + PAGE(2) + ESIM_NVS_ENTRIES_OFFSET + 32, &it);
    assert_string_equal(it.key, "k010");
    assert_gc_keys(&h, 10, 10);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_gc_without_room(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs_handle h;
    esim_nvs *nvs = two_full_pages(f, &h, 0, 0);
    assert_int_equal(esim_nvs_set_int(&h, "z", ESIM_NVS_TYPE_I32, 1), ESP_ERR_NVS_NOT_ENOUGH_SPACE);
    assert_int_equal(page_state(f, PAGE(1)), ESIM_NVS_PAGE_FULL);
    assert_true(all_ff(esim_flash_peek(f) + PAGE(2), SECTOR));
    esim_nvs_stats s;
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    assert_int_equal(s.used_entries, 252);
    assert_int_equal(s.free_entries, 126);
    assert_int_equal(s.available_entries, 0);
    esim_nvs_unmount(nvs);
    nvs = mount_ok(f, 0, 0x3000);
    h = open_rw(nvs, "gc");
    assert_gc_keys(&h, 0, 0);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* A long random workload against a model, with remounts. */
typedef struct {
    int kind;            /* 0 absent, 1 i32, 2 string, 3 blob */
    int32_t number;
    uint8_t bytes[3000];
    size_t len;
} model_value;

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void check_model(const esim_nvs_handle *h, const model_value *m, unsigned keys)
{
    static uint8_t buf[3001];
    for (unsigned k = 0; k < keys; k++) {
        char key[8];
        size_t len = sizeof buf;
        int64_t v;
        snprintf(key, sizeof key, "key%u", k);
        if (m[k].kind == 1) {
            assert_int_equal(get_i32(h, key, &v), ESP_OK);
            assert_int_equal(v, m[k].number);
        } else if (m[k].kind == 2) {
            assert_int_equal(esim_nvs_get_str(h, key, (char *)buf, &len), ESP_OK);
            assert_int_equal(len, m[k].len + 1);
            assert_memory_equal(buf, m[k].bytes, m[k].len);
        } else if (m[k].kind == 3) {
            assert_int_equal(esim_nvs_get_blob(h, key, buf, &len), ESP_OK);
            assert_int_equal(len, m[k].len);
            assert_memory_equal(buf, m[k].bytes, len);
        } else {
            esim_nvs_type t;
            assert_int_equal(esim_nvs_find_key(h, key, &t), ESP_ERR_NVS_NOT_FOUND);
        }
    }
}

static void random_op(const esim_nvs_handle *h, model_value *m, unsigned k, uint64_t *rng)
{
    char key[8];
    snprintf(key, sizeof key, "key%u", k);
    unsigned op = (unsigned)(rng_next(rng) % 10);
    model_value *v = &m[k];
    if (op < 4) {
        v->kind = 1;
        v->number = (int32_t)rng_next(rng);
        set_i32(h, key, v->number);
    } else if (op < 6) {
        v->kind = 2;
        v->len = rng_next(rng) % 200;
        for (size_t i = 0; i < v->len; i++)
            v->bytes[i] = (uint8_t)('a' + rng_next(rng) % 26);
        v->bytes[v->len] = 0;
        assert_int_equal(esim_nvs_set_str(h, key, (const char *)v->bytes), ESP_OK);
    } else if (op < 8) {
        v->kind = 3;
        v->len = rng_next(rng) % (rng_next(rng) % 4 ? 300 : 3000);
        for (size_t i = 0; i < v->len; i++)
            v->bytes[i] = (uint8_t)rng_next(rng);
        assert_int_equal(esim_nvs_set_blob(h, key, v->bytes, v->len), ESP_OK);
    } else {
        esp_err_t err = esim_nvs_erase_key(h, key);
        assert_int_equal(err, v->kind ? ESP_OK : ESP_ERR_NVS_NOT_FOUND);
        v->kind = 0;
    }
}

static void test_churn_against_model(void **state)
{
    (void)state;
    enum { KEYS = 8 };
    static model_value m[KEYS];
    memset(m, 0, sizeof m);
    uint64_t rng = 42;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x5000);
    esim_nvs_handle h = open_rw(nvs, "churn");
    for (unsigned step = 0; step < 3000; step++) {
        random_op(&h, m, (unsigned)(rng_next(&rng) % KEYS), &rng);
        if (step % 97 == 0) {
            esim_nvs_unmount(nvs);
            esim_flash_reset_counters(f);
            nvs = mount_ok(f, 0, 0x5000);
            assert_int_equal(flash_writes(f), 0);
            h = open_rw(nvs, "churn");
        }
        if (step % 10 == 0)
            check_model(&h, m, KEYS);
        esim_nvs_stats s;
        assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
        assert_int_equal(s.available_entries, s.free_entries - 126);
    }
    check_model(&h, m, KEYS);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- D.9: hash list lookups ---- */

static void test_lookup_uses_hash_list(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_handle h = open_rw(nvs, "hash");
    char key[8];
    for (unsigned i = 0; i < 120; i++) {
        snprintf(key, sizeof key, "k%u", i);
        set_i32(&h, key, (int32_t)i);
    }
    esim_flash_reset_counters(f);
    assert_i32(&h, "k119", 119);
    esim_flash_counters c;
    esim_flash_get_counters(f, &c);
    assert_true(c.bytes_read <= 64);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_key_padded_with_ff_not_found(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    raw_header(f, 0, ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, 0, 0, "pad", 1);
    esim_nvs_item it;
    esim_nvs_item_init(&it, 1, ESIM_NVS_TYPE_U8, "u8key");
    memset(it.key + 6, 0xFF, 10);
    it.data[0] = 9;
    raw_item(f, 0, 1, &it);
    esim_nvs_item_init(&it, 1, ESIM_NVS_TYPE_U8, "good");
    it.data[0] = 8;
    raw_item(f, 0, 2, &it);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_handle h = open_rw(nvs, "pad");
    int64_t v;
    assert_int_equal(esim_nvs_get_int(&h, "u8key", ESIM_NVS_TYPE_U8, &v), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(esim_nvs_get_int(&h, "good", ESIM_NVS_TYPE_U8, &v), ESP_OK);
    assert_int_equal(v, 8);
    listing l;
    list_all(nvs, &l);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.lines[0], "pad:u8key u8");
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- D.6: order and granularity of writes ---- */

static void test_write_granularity(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_handle h = open_rw(nvs, "g");
    esim_flash_counters c;
    esim_flash_reset_counters(f);
    set_i32(&h, "i", 1);
    esim_flash_get_counters(f, &c);
    assert_int_equal(c.program_ops, 2);
    assert_int_equal(c.bytes_programmed, 36);
    /* 41 bytes: header entry + bitmap, one data entry + bitmap, the padded tail + bitmap */
    esim_flash_reset_counters(f);
    assert_int_equal(esim_nvs_set_str(&h, "s", "0123456789012345678901234567890123456789"), ESP_OK);
    esim_flash_get_counters(f, &c);
    assert_int_equal(c.program_ops, 6);
    assert_int_equal(c.bytes_programmed, 32 + 4 + 32 + 4 + 32 + 4);
    const uint8_t *tail = esim_flash_peek(f) + ESIM_NVS_ENTRIES_OFFSET + 4 * 32;
    assert_int_equal(tail[7], '9');
    assert_int_equal(tail[8], 0);
    assert_true(all_ff(tail + 9, 23));
    /* the old value's span: one bitmap word; a page state: one word */
    esim_flash_reset_counters(f);
    assert_int_equal(esim_nvs_erase_key(&h, "s"), ESP_OK);
    esim_flash_get_counters(f, &c);
    assert_int_equal(c.program_ops, 1);
    assert_int_equal(c.bytes_programmed, 4);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* Entries 14..17: the namespace, 13 integers, then a 96-byte string. */
static esim_nvs *string_across_words(esim_flash *f, esim_nvs_handle *h, uint64_t cut_after)
{
    char key[8], s[96];
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    *h = open_rw(nvs, "w");
    for (unsigned i = 1; i <= 13; i++) {
        snprintf(key, sizeof key, "i%u", i);
        set_i32(h, key, (int32_t)i);
    }
    memset(s, 'q', 95);
    s[95] = 0;
    if (cut_after)
        assert_int_equal(esim_flash_arm_cut_after_bytes(f, cut_after, 3), ESP_OK);
    esp_err_t err = esim_nvs_set_str(h, "str", s);
    assert_int_equal(err, cut_after ? ESP_ERR_FLASH_OP_FAIL : ESP_OK);
    return nvs;
}

static void test_range_written_back_to_front(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs_handle h;
    /* entry, its word, the 3 data entries, then the first word of their range */
    esim_nvs *nvs = string_across_words(f, &h, 32 + 4 + 96 + 4);
    esim_nvs_unmount(nvs);
    assert_int_equal(entry_state(f, 0, 14), ESIM_NVS_ENTRY_WRITTEN);
    assert_int_equal(entry_state(f, 0, 15), ESIM_NVS_ENTRY_EMPTY);
    assert_int_equal(entry_state(f, 0, 16), ESIM_NVS_ENTRY_WRITTEN);
    assert_int_equal(entry_state(f, 0, 17), ESIM_NVS_ENTRY_WRITTEN);
    esim_flash_power_on(f);
    nvs = mount_ok(f, 0, 0x3000);
    for (unsigned i = 14; i <= 17; i++)
        assert_int_equal(entry_state(f, 0, i), ESIM_NVS_ENTRY_ERASED);
    h = open_rw(nvs, "w");
    size_t len;
    assert_int_equal(esim_nvs_get_str(&h, "str", NULL, &len), ESP_ERR_NVS_NOT_FOUND);
    assert_i32(&h, "i13", 13);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_erase_range_back_to_front(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs_handle h;
    esim_nvs *nvs = string_across_words(f, &h, 0);
    assert_int_equal(esim_flash_arm_cut_after_bytes(f, 4, 5), ESP_OK);
    assert_int_equal(esim_nvs_erase_key(&h, "str"), ESP_ERR_FLASH_OP_FAIL);
    esim_nvs_unmount(nvs);
    assert_int_equal(entry_state(f, 0, 14), ESIM_NVS_ENTRY_WRITTEN);
    assert_int_equal(entry_state(f, 0, 15), ESIM_NVS_ENTRY_WRITTEN);
    assert_int_equal(entry_state(f, 0, 16), ESIM_NVS_ENTRY_ERASED);
    assert_int_equal(entry_state(f, 0, 17), ESIM_NVS_ENTRY_ERASED);
    esim_flash_power_on(f);
    nvs = mount_ok(f, 0, 0x3000);
    assert_int_equal(entry_state(f, 0, 14), ESIM_NVS_ENTRY_ERASED);
    assert_int_equal(entry_state(f, 0, 15), ESIM_NVS_ENTRY_ERASED);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- D.8: power cuts at every flash operation, then mount ---- */

typedef struct {
    const char *name;
    uint32_t size;
    void (*setup)(esim_nvs_handle *h);
    esp_err_t (*action)(esim_nvs *nvs, esim_nvs_handle *h);
    void (*check)(esim_nvs_handle *h);
} cut_scenario;

static void assert_unique_listing(esim_nvs *nvs)
{
    listing l;
    list_all(nvs, &l);
    for (int i = 0; i < l.count && i < 64; i++)
        for (int j = i + 1; j < l.count && j < 64; j++)
            if (strcmp(l.lines[i], l.lines[j]) == 0)
                fail_msg("listed twice: %s", l.lines[i]);
}

static void restore(esim_flash *f, const uint8_t *img, uint32_t size)
{
    assert_int_equal(esim_flash_erase_range(f, 0, size), ESP_OK);
    assert_int_equal(esim_flash_program(f, 0, img, size), ESP_OK);
    esim_flash_reset_counters(f);
}

/* After the cut: mount recovers, the values are old or new, and a second
 * mount finds nothing left to repair. */
static void recover_and_check(esim_flash *f, const cut_scenario *sc)
{
    esim_flash_power_on(f);
    esim_nvs *nvs = mount_ok(f, 0, sc->size);
    esim_nvs_handle h = open_rw(nvs, "c");
    sc->check(&h);
    assert_unique_listing(nvs);
    esim_nvs_stats s;
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    esim_nvs_unmount(nvs);
    esim_flash_reset_counters(f);
    nvs = mount_ok(f, 0, sc->size);
    assert_int_equal(flash_writes(f), 0);
    esim_nvs_unmount(nvs);
}

static void sweep_cuts(const cut_scenario *sc)
{
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, sc->size);
    esim_nvs_handle h = open_rw(nvs, "c");
    sc->setup(&h);
    esim_nvs_unmount(nvs);
    uint8_t *img = malloc(sc->size);
    memcpy(img, esim_flash_peek(f), sc->size);

    restore(f, img, sc->size);
    nvs = mount_ok(f, 0, sc->size);
    h = open_rw(nvs, "c");
    assert_int_equal(sc->action(nvs, &h), ESP_OK);
    uint64_t ops = flash_writes(f);
    esim_nvs_unmount(nvs);
    assert_true(ops > 0);

    for (uint64_t n = 1; n <= ops; n++) {
        for (uint64_t seed = n; seed <= n + 2000; seed += 1000) {
            restore(f, img, sc->size);
            nvs = mount_ok(f, 0, sc->size);
            h = open_rw(nvs, "c");
            assert_int_equal(esim_flash_arm_cut_at_op(f, n, seed), ESP_OK);
            if (sc->action(nvs, &h) == ESP_OK)
                fail_msg("%s: cut at op %" PRIu64 " not reported", sc->name, n);
            esim_nvs_unmount(nvs);
            recover_and_check(f, sc);
        }
    }
    free(img);
    esim_flash_close(f);
}

static bool value_is(const esim_nvs_handle *h, const char *key, const uint8_t *want, size_t len)
{
    static uint8_t buf[6000];
    size_t got = sizeof buf;
    if (esim_nvs_get_blob(h, key, buf, &got) != ESP_OK)
        return false;
    return got == len && memcmp(buf, want, len) == 0;
}

static bool blob_absent(const esim_nvs_handle *h, const char *key)
{
    size_t len;
    return esim_nvs_get_blob(h, key, NULL, &len) == ESP_ERR_NVS_NOT_FOUND;
}

static void assert_i32_in(const esim_nvs_handle *h, const char *key, int64_t a, int64_t b)
{
    int64_t v = 0;
    assert_int_equal(get_i32(h, key, &v), ESP_OK);
    if (v != a && v != b)
        fail_msg("%s = %" PRId64 ", want %" PRId64 " or %" PRId64, key, v, a, b);
}

/* i32 update on the same page */
static void s1_setup(esim_nvs_handle *h)
{
    set_i32(h, "a", 1);
    set_i32(h, "b", 2);
}

static esp_err_t s1_action(esim_nvs *nvs, esim_nvs_handle *h)
{
    (void)nvs;
    return esim_nvs_set_int(h, "a", ESIM_NVS_TYPE_I32, 2);
}

static void s1_check(esim_nvs_handle *h)
{
    assert_i32_in(h, "a", 1, 2);
    assert_i32(h, "b", 2);
}

static void test_cut_int_update(void **state)
{
    (void)state;
    cut_scenario sc = {"int update", 0x3000, s1_setup, s1_action, s1_check};
    sweep_cuts(&sc);
}

/* string update with data entries */
static char old_text[101], new_text[71];

static void s2_setup(esim_nvs_handle *h)
{
    memset(old_text, 'x', 100);
    memset(new_text, 'y', 70);
    assert_int_equal(esim_nvs_set_str(h, "s", old_text), ESP_OK);
    set_i32(h, "b", 2);
}

static esp_err_t s2_action(esim_nvs *nvs, esim_nvs_handle *h)
{
    (void)nvs;
    return esim_nvs_set_str(h, "s", new_text);
}

static void s2_check(esim_nvs_handle *h)
{
    char buf[128];
    size_t len = sizeof buf;
    assert_int_equal(esim_nvs_get_str(h, "s", buf, &len), ESP_OK);
    if (strcmp(buf, old_text) != 0 && strcmp(buf, new_text) != 0)
        fail_msg("string is neither old nor new: %s", buf);
    assert_i32(h, "b", 2);
}

static void test_cut_string_update(void **state)
{
    (void)state;
    cut_scenario sc = {"string update", 0x3000, s2_setup, s2_action, s2_check};
    sweep_cuts(&sc);
}

/* the new value lands on a new page: the old one is in an older page */
static void s3_setup(esim_nvs_handle *h)
{
    char key[8];
    set_i32(h, "a", 1);
    for (unsigned i = 0; i < 124; i++) {
        snprintf(key, sizeof key, "f%u", i);
        set_i32(h, key, (int32_t)i);
    }
}

static void s3_check(esim_nvs_handle *h)
{
    assert_i32_in(h, "a", 1, 2);
    assert_i32(h, "f0", 0);
    assert_i32(h, "f123", 123);
}

static void test_cut_update_across_pages(void **state)
{
    (void)state;
    cut_scenario sc = {"update across pages", 0x3000, s3_setup, s1_action, s3_check};
    sweep_cuts(&sc);
}

/* multi-page blob rewrite */
static uint8_t blob_a[5000], blob_b[5000];

static void s4_setup(esim_nvs_handle *h)
{
    for (unsigned k = 0; k < 5000; k++) {
        blob_a[k] = (uint8_t)(13 * k + 5);
        blob_b[k] = (uint8_t)(7 * k + 1);
    }
    set_i32(h, "x", 3);
    assert_int_equal(esim_nvs_set_blob(h, "b", blob_a, 5000), ESP_OK);
}

static esp_err_t s4_action(esim_nvs *nvs, esim_nvs_handle *h)
{
    (void)nvs;
    return esim_nvs_set_blob(h, "b", blob_b, 5000);
}

static esp_err_t s4_small_action(esim_nvs *nvs, esim_nvs_handle *h)
{
    (void)nvs;
    return esim_nvs_set_blob(h, "b", blob_b, 100);
}

static esp_err_t s4_erase_action(esim_nvs *nvs, esim_nvs_handle *h)
{
    (void)nvs;
    return esim_nvs_erase_key(h, "b");
}

/* ESP-IDF can lose a blob cut in the middle of its rewrite (a new chunk
 * that is the last item of its page takes an older chunk of the key with
 * it at mount); a blob never comes back mixed or truncated. */
static void s4_check(esim_nvs_handle *h)
{
    if (!value_is(h, "b", blob_a, 5000) && !value_is(h, "b", blob_b, 5000)
        && !value_is(h, "b", blob_b, 100) && !blob_absent(h, "b"))
        fail_msg("blob is neither old, new nor absent");
    assert_i32(h, "x", 3);
}

static void test_cut_blob_rewrite(void **state)
{
    (void)state;
    cut_scenario sc = {"blob rewrite", 0x6000, s4_setup, s4_action, s4_check};
    sweep_cuts(&sc);
    cut_scenario small = {"blob shrink", 0x6000, s4_setup, s4_small_action, s4_check};
    sweep_cuts(&small);
    cut_scenario erase = {"blob erase", 0x6000, s4_setup, s4_erase_action, s4_check};
    sweep_cuts(&erase);
}

/* a write that garbage-collects: FREEING pages at mount */
static void s5_setup(esim_nvs_handle *h)
{
    char key[8];
    for (unsigned i = 0; i < 250; i++) {
        snprintf(key, sizeof key, "k%03u", i);
        set_i32(h, key, (int32_t)i);
    }
    for (unsigned i = 0; i < 30; i++) {
        snprintf(key, sizeof key, "k%03u", 130 + i);
        assert_int_equal(esim_nvs_erase_key(h, key), ESP_OK);
    }
    set_i32(h, "fill", 0);
}

static esp_err_t s5_action(esim_nvs *nvs, esim_nvs_handle *h)
{
    (void)nvs;
    return esim_nvs_set_int(h, "z", ESIM_NVS_TYPE_I32, -1);
}

static void s5_check(esim_nvs_handle *h)
{
    char key[8];
    for (unsigned i = 0; i < 250; i++) {
        int64_t v;
        snprintf(key, sizeof key, "k%03u", i);
        bool erased = i >= 130 && i < 160;
        assert_int_equal(get_i32(h, key, &v), erased ? ESP_ERR_NVS_NOT_FOUND : ESP_OK);
        if (!erased)
            assert_int_equal(v, i);
    }
    int64_t z;
    esp_err_t err = get_i32(h, "z", &z);
    assert_true(err == ESP_ERR_NVS_NOT_FOUND || (err == ESP_OK && z == -1));
}

static void test_cut_during_gc(void **state)
{
    (void)state;
    cut_scenario sc = {"garbage collection", 0x3000, s5_setup, s5_action, s5_check};
    sweep_cuts(&sc);
}

/* a new namespace */
static void s6_setup(esim_nvs_handle *h)
{
    set_i32(h, "a", 1);
}

static esp_err_t s6_action(esim_nvs *nvs, esim_nvs_handle *h)
{
    (void)h;
    esim_nvs_handle n;
    return esim_nvs_open(nvs, "fresh", true, &n);
}

static void s6_check(esim_nvs_handle *h)
{
    esim_nvs_handle n;
    esp_err_t err = esim_nvs_open(h->nvs, "fresh", false, &n);
    assert_true(err == ESP_OK || err == ESP_ERR_NVS_NOT_FOUND);
    if (err == ESP_OK)
        assert_int_equal(n.ns_index, 2);
    assert_i32(h, "a", 1);
}

static void test_cut_namespace_creation(void **state)
{
    (void)state;
    cut_scenario sc = {"namespace", 0x3000, s6_setup, s6_action, s6_check};
    sweep_cuts(&sc);
}

/* ---- D.8: crafted images ---- */

static void test_duplicate_in_active_page(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    raw_header(f, 0, ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, 0, 0, "d", 1);
    raw_i32(f, 0, 1, 1, "a", 1);
    raw_i32(f, 0, 2, 1, "a", 2);
    raw_i32(f, 0, 3, 1, "c", 3);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    assert_int_equal(entry_state(f, 0, 1), ESIM_NVS_ENTRY_ERASED);
    assert_int_equal(entry_state(f, 0, 2), ESIM_NVS_ENTRY_WRITTEN);
    esim_nvs_handle h = open_rw(nvs, "d");
    assert_i32(&h, "a", 2);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ESP-IDF looks for duplicates within ACTIVE pages only. */
static void test_duplicate_in_full_page_kept(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    raw_header(f, 0, ESIM_NVS_PAGE_FULL, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, 0, 0, "d", 1);
    raw_i32(f, 0, 1, 1, "a", 1);
    raw_i32(f, 0, 2, 1, "a", 2);
    esim_flash_reset_counters(f);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    assert_int_equal(flash_writes(f), 0);
    esim_nvs_handle h = open_rw(nvs, "d");
    assert_i32(&h, "a", 1);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_duplicate_across_pages(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    raw_header(f, PAGE(0), ESIM_NVS_PAGE_FULL, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, PAGE(0), 0, "d", 1);
    raw_i32(f, PAGE(0), 1, 1, "a", 1);
    raw_i32(f, PAGE(0), 2, 1, "b", 5);
    raw_header(f, PAGE(1), ESIM_NVS_PAGE_ACTIVE, 1, ESIM_NVS_VERSION_2);
    raw_i32(f, PAGE(1), 0, 1, "a", 2);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    assert_int_equal(entry_state(f, PAGE(0), 1), ESIM_NVS_ENTRY_ERASED);
    assert_int_equal(entry_state(f, PAGE(0), 2), ESIM_NVS_ENTRY_WRITTEN);
    esim_nvs_handle h = open_rw(nvs, "d");
    assert_i32(&h, "a", 2);
    assert_i32(&h, "b", 5);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_var_item_with_unwritten_data(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    uint8_t text[96];
    memset(text, 'w', 95);
    text[95] = 0;
    raw_header(f, 0, ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, 0, 0, "v", 1);
    raw_var(f, 0, 1, 1, ESIM_NVS_TYPE_STR, "s", text, 96, ESIM_NVS_CHUNK_ANY);
    /* data entries 3 and 4 programmed, their bitmap bits never set */
    uint8_t page[SECTOR];
    memcpy(page, esim_flash_peek(f), SECTOR);
    esim_nvs_bitmap_set(page + ESIM_NVS_BITMAP_OFFSET, 3, ESIM_NVS_ENTRY_EMPTY);
    esim_nvs_bitmap_set(page + ESIM_NVS_BITMAP_OFFSET, 4, ESIM_NVS_ENTRY_EMPTY);
    assert_int_equal(esim_flash_erase_sector(f, 0), ESP_OK);
    assert_int_equal(esim_flash_program(f, 0, page, SECTOR), ESP_OK);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    for (unsigned i = 1; i <= 4; i++)
        assert_int_equal(entry_state(f, 0, i), ESIM_NVS_ENTRY_ERASED);
    esim_nvs_handle h = open_rw(nvs, "v");
    size_t len;
    assert_int_equal(esim_nvs_get_str(&h, "s", NULL, &len), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(esim_nvs_set_str(&h, "s", "again"), ESP_OK);
    esim_nvs_item it;
    unsigned index;
    assert_true(find_on_flash(f, 0, 3, ESIM_NVS_TYPE_STR, "s", &it, NULL, &index));
    assert_int_equal(index, 5);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_freeing_page_recovered(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    raw_header(f, PAGE(0), ESIM_NVS_PAGE_FREEING, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, PAGE(0), 0, "g", 1);
    raw_i32(f, PAGE(0), 1, 1, "a", 1);
    raw_i32(f, PAGE(0), 2, 1, "b", 2);
    raw_header(f, PAGE(1), ESIM_NVS_PAGE_ACTIVE, 1, ESIM_NVS_VERSION_2);
    raw_ns(f, PAGE(1), 0, "g", 1);                  /* a partial copy */
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    assert_true(all_ff(esim_flash_peek(f) + PAGE(0), SECTOR));
    assert_true(all_ff(esim_flash_peek(f) + PAGE(1), SECTOR));
    esim_nvs_page_header hdr;
    esim_nvs_header_decode(esim_flash_peek(f) + PAGE(2), &hdr);
    assert_int_equal(hdr.state, ESIM_NVS_PAGE_ACTIVE);
    assert_int_equal(hdr.seqno, 2);
    esim_nvs_handle h = open_rw(nvs, "g");
    assert_i32(&h, "a", 1);
    assert_i32(&h, "b", 2);
    esim_nvs_stats s;
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    assert_int_equal(s.used_entries, 3);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_blob_reconciliation(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    uint8_t data[50];
    memset(data, 7, sizeof data);
    raw_header(f, 0, ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, 0, 0, "r", 1);
    unsigned at = 1;
    at += raw_var(f, 0, at, 1, ESIM_NVS_TYPE_BLOB_DATA, "short", data, 50, 0);
    raw_blob_index(f, 0, at++, 1, "short", 100, 2, 0);          /* one chunk missing */
    at += raw_var(f, 0, at, 1, ESIM_NVS_TYPE_BLOB_DATA, "good", data, 50, 0x80);
    raw_blob_index(f, 0, at++, 1, "good", 50, 1, 0x80);
    unsigned orphan = at;
    at += raw_var(f, 0, at, 1, ESIM_NVS_TYPE_BLOB_DATA, "orphan", data, 50, 0);
    raw_i32(f, 0, at, 1, "last", 1);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    for (unsigned i = 1; i <= 4; i++)
        assert_int_equal(entry_state(f, 0, i), ESIM_NVS_ENTRY_ERASED);
    assert_int_equal(entry_state(f, 0, orphan), ESIM_NVS_ENTRY_ERASED);
    esim_nvs_handle h = open_rw(nvs, "r");
    assert_true(blob_absent(&h, "short"));
    assert_true(blob_absent(&h, "orphan"));
    assert_true(value_is(&h, "good", data, 50));
    listing l;
    list_all(nvs, &l);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.lines[0], "r:good blob_data");
    assert_string_equal(l.lines[1], "r:last i32");
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_corrupt_pages_are_free(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    raw_header(f, PAGE(0), ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, PAGE(0), 0, "c", 1);
    raw_i32(f, PAGE(0), 1, 1, "a", 1);
    raw_header(f, PAGE(1), ESIM_NVS_PAGE_FULL, 7, ESIM_NVS_VERSION_2);
    uint8_t junk[4] = {0x12, 0x34, 0x56, 0x78};
    assert_int_equal(esim_flash_program(f, PAGE(1) + 4, junk, 4), ESP_OK);   /* header CRC now wrong */
    assert_int_equal(esim_flash_program(f, PAGE(2) + 100, junk, 4), ESP_OK); /* blank state, not blank */
    raw_header(f, PAGE(3), 0x12345678u, 9, ESIM_NVS_VERSION_2);              /* unknown state */
    esim_flash_reset_counters(f);
    esim_nvs *nvs = mount_ok(f, 0, 0x4000);
    assert_int_equal(flash_writes(f), 0);
    esim_nvs_stats s;
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    assert_int_equal(s.used_entries, 2);
    assert_int_equal(s.free_entries, 4 * 126 - 2);
    esim_nvs_handle h = open_rw(nvs, "c");
    char key[8];
    for (unsigned i = 0; i < 125; i++) {
        snprintf(key, sizeof key, "k%u", i);
        set_i32(&h, key, (int32_t)i);
    }
    /* the first free page (page 1) was erased before it was used */
    esim_nvs_page_header hdr;
    esim_nvs_header_decode(esim_flash_peek(f) + PAGE(1), &hdr);
    assert_int_equal(hdr.state, ESIM_NVS_PAGE_ACTIVE);
    assert_int_equal(hdr.seqno, 1);
    assert_int_equal(hdr.crc, esim_nvs_header_crc(esim_flash_peek(f) + PAGE(1)));
    assert_true(all_ff(esim_flash_peek(f) + PAGE(1) + ESIM_NVS_ENTRIES_OFFSET + 32, SECTOR - 96));
    assert_i32(&h, "a", 1);
    assert_i32(&h, "k124", 124);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_all_pages_corrupt(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    uint8_t junk = 0x00;
    for (unsigned p = 0; p < 3; p++)
        assert_int_equal(esim_flash_program(f, PAGE(p) + 200, &junk, 1), ESP_OK);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    assert_true(all_ff(esim_flash_peek(f), SECTOR));              /* activated: erased */
    assert_int_equal(esim_flash_peek(f)[PAGE(1) + 200], 0x00);
    esim_nvs_handle h = open_rw(nvs, "c");
    set_i32(&h, "a", 1);
    assert_i32(&h, "a", 1);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_no_free_pages(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    for (unsigned p = 0; p < 3; p++) {
        raw_header(f, PAGE(p), ESIM_NVS_PAGE_FULL, p, ESIM_NVS_VERSION_2);
        if (p == 0)
            raw_ns(f, 0, 0, "n", 1);
        raw_i32(f, PAGE(p), 1, 1, p == 0 ? "a" : p == 1 ? "b" : "c", (int32_t)p);
    }
    esim_flash_reset_counters(f);
    esim_nvs *nvs = NULL;
    assert_int_equal(esim_nvs_mount(f, 0, 0x3000, false, &nvs), ESP_ERR_NVS_NO_FREE_PAGES);
    assert_null(nvs);
    assert_int_equal(esim_nvs_mount(f, 0, 0x3000, true, &nvs), ESP_OK);
    esim_nvs_handle h;
    assert_int_equal(esim_nvs_open(nvs, "n", false, &h), ESP_OK);
    assert_i32(&h, "c", 2);
    esim_nvs_unmount(nvs);
    assert_int_equal(flash_writes(f), 0);
    assert_int_equal(esim_nvs_erase_partition(f, 0, 0x3000), ESP_OK);
    assert_true(all_ff(esim_flash_peek(f), 0x3000));
    nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_new_version_found(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    raw_header(f, PAGE(0), ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_2);
    raw_header(f, PAGE(1), ESIM_NVS_PAGE_FULL, 1, 0xFD);
    esim_nvs *nvs = NULL;
    assert_int_equal(esim_nvs_mount(f, 0, 0x3000, false, &nvs), ESP_ERR_NVS_NEW_VERSION_FOUND);
    assert_null(nvs);
    /* a wrong CRC makes the page corrupt instead */
    uint8_t zero = 0;
    assert_int_equal(esim_flash_program(f, PAGE(1) + 12, &zero, 1), ESP_OK);
    nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_v1_blob_readable(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    uint8_t data[40];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 5);
    raw_header(f, 0, ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_1);
    raw_ns(f, 0, 0, "old", 1);
    raw_var(f, 0, 1, 1, ESIM_NVS_TYPE_BLOB, "legacy", data, sizeof data, ESIM_NVS_CHUNK_ANY);
    esim_flash_reset_counters(f);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    assert_int_equal(flash_writes(f), 0);
    esim_nvs_handle h = open_rw(nvs, "old");
    assert_true(value_is(&h, "legacy", data, sizeof data));
    esim_nvs_type t;
    assert_int_equal(esim_nvs_find_key(&h, "legacy", &t), ESP_OK);
    assert_int_equal(t, ESIM_NVS_TYPE_BLOB_DATA);
    listing l;
    list_all(nvs, &l);
    assert_int_equal(l.count, 0);     /* the iterator skips v1 blobs */
    /* the next write replaces it with a chunk and an index */
    assert_int_equal(esim_nvs_set_blob(&h, "legacy", data, sizeof data), ESP_OK);
    assert_int_equal(entry_state(f, 0, 1), ESIM_NVS_ENTRY_ERASED);
    esim_nvs_item idx;
    assert_true(find_on_flash(f, 0, 3, ESIM_NVS_TYPE_BLOB_IDX, "legacy", &idx, NULL, NULL));
    assert_true(value_is(&h, "legacy", data, sizeof data));
    list_all(nvs, &l);
    assert_int_equal(l.count, 1);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- modes, errors, iteration ---- */

static void test_read_only(void **state)
{
    (void)state;
    size_t len;
    esim_flash *f = flash_with_fixture("nvs_runtime/rt03_powerloss_after_32B.before_mount.bin", 0, &len);
    esim_nvs *nvs = NULL;
    assert_int_equal(esim_nvs_mount(f, 0, 0x4000, true, &nvs), ESP_OK);
    esim_nvs_handle h;
    assert_int_equal(esim_nvs_open(nvs, "p", true, &h), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esim_nvs_open(nvs, "p", false, &h), ESP_OK);
    assert_i32(&h, "a", 1);
    assert_int_equal(esim_nvs_set_int(&h, "a", ESIM_NVS_TYPE_I32, 3), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(esim_nvs_set_str(&h, "a", "x"), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(esim_nvs_set_blob(&h, "a", "x", 1), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(esim_nvs_erase_key(&h, "a"), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(esim_nvs_erase_all(&h), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(esim_nvs_commit(&h), ESP_OK);
    esim_nvs_unmount(nvs);
    assert_int_equal(flash_writes(f), 0);
    assert_region_is_fixture(f, 0, "nvs_runtime/rt03_powerloss_after_32B.before_mount.bin");
    /* a read-only handle on a writable mount */
    nvs = mount_ok(f, 0, 0x4000);
    assert_int_equal(esim_nvs_open(nvs, "p", false, &h), ESP_OK);
    assert_int_equal(esim_nvs_set_int(&h, "a", ESIM_NVS_TYPE_I32, 3), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(esim_nvs_open(nvs, "missing", false, &h), ESP_ERR_NVS_NOT_FOUND);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_flash_errors_propagate(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_handle h = open_rw(nvs, "e");
    set_i32(&h, "a", 1);
    uint8_t *big = pattern(5000, 3, 3);
    assert_int_equal(esim_flash_arm_cut_at_op(f, 4, 9), ESP_OK);
    assert_int_equal(esim_nvs_set_blob(&h, "b", big, 5000), ESP_ERR_FLASH_OP_FAIL);
    /* without power every call that needs the flash fails */
    int64_t v;
    size_t len;
    esim_nvs_stats s;
    esim_nvs_type t;
    listing l;
    assert_int_equal(esim_nvs_set_int(&h, "a", ESIM_NVS_TYPE_I32, 2), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_nvs_set_blob(&h, "b", big, 5000), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(get_i32(&h, "a", &v), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_nvs_get_blob(&h, "b", NULL, &len), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_nvs_find_key(&h, "a", &t), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_nvs_erase_key(&h, "a"), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_nvs_erase_all(&h), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_nvs_open(nvs, "new", true, &h), ESP_ERR_FLASH_OP_FAIL);
    memset(&l, 0, sizeof l);
    assert_int_equal(esim_nvs_list(nvs, NULL, ESIM_NVS_TYPE_ANY, collect_entry, &l), ESP_ERR_FLASH_OP_FAIL);
    (void)esim_nvs_get_stats(nvs, &s);
    assert_int_equal(esim_nvs_commit(&h), ESP_OK);
    esim_nvs_unmount(nvs);
    assert_int_equal(esim_nvs_mount(f, 0, 0x6000, false, &nvs), ESP_ERR_FLASH_OP_FAIL);
    esim_flash_power_on(f);
    nvs = mount_ok(f, 0, 0x6000);
    h = open_rw(nvs, "e");
    assert_i32(&h, "a", 1);
    assert_true(blob_absent(&h, "b"));
    assert_int_equal(esim_nvs_set_blob(&h, "b", big, 5000), ESP_OK);
    assert_blob(&h, "b", big, 5000);
    free(big);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_erase_all(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    esim_nvs_handle a = open_rw(nvs, "a"), b = open_rw(nvs, "b");
    uint8_t *big = pattern(5000, 1, 2);
    set_i32(&a, "x", 1);
    assert_int_equal(esim_nvs_set_str(&a, "y", "why"), ESP_OK);
    assert_int_equal(esim_nvs_set_blob(&a, "z", big, 5000), ESP_OK);
    set_i32(&b, "x", 2);
    assert_int_equal(esim_nvs_erase_all(&a), ESP_OK);
    listing l;
    list_all(nvs, &l);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.lines[0], "b:x i32");
    esim_nvs_stats s;
    assert_int_equal(esim_nvs_get_stats(nvs, &s), ESP_OK);
    assert_int_equal(s.used_entries, 3);
    assert_int_equal(s.namespace_count, 2);
    int64_t v;
    assert_int_equal(get_i32(&a, "x", &v), ESP_ERR_NVS_NOT_FOUND);
    assert_true(blob_absent(&a, "z"));
    assert_int_equal(esim_nvs_erase_key(&a, "x"), ESP_ERR_NVS_NOT_FOUND);
    free(big);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static int stop_after_one(const esim_nvs_entry_info *info, void *ctx)
{
    (void)info;
    (*(int *)ctx)++;
    return 1;
}

static void test_list_filters(void **state)
{
    (void)state;
    size_t len;
    esim_flash *f = flash_with_fixture("nvs/nvs_basic_0x6000.bin", 0, &len);
    esim_nvs *nvs = mount_ok(f, 0, 0x6000);
    listing l;
    memset(&l, 0, sizeof l);
    assert_int_equal(esim_nvs_list(nvs, "net", ESIM_NVS_TYPE_ANY, collect_entry, &l), ESP_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.lines[0], "net:ssid string");
    assert_string_equal(l.lines[1], "net:port u16");
    memset(&l, 0, sizeof l);
    assert_int_equal(esim_nvs_list(nvs, NULL, ESIM_NVS_TYPE_BLOB_DATA, collect_entry, &l), ESP_OK);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.lines[2], "mp_nvs:cfg blob_data");
    memset(&l, 0, sizeof l);
    assert_int_equal(esim_nvs_list(nvs, "storage", ESIM_NVS_TYPE_I32, collect_entry, &l), ESP_OK);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.lines[0], "storage:i32key i32");
    assert_int_equal(esim_nvs_list(nvs, "nope", ESIM_NVS_TYPE_ANY, collect_entry, &l), ESP_ERR_NVS_NOT_FOUND);
    int calls = 0;
    assert_int_equal(esim_nvs_list(nvs, NULL, ESIM_NVS_TYPE_ANY, stop_after_one, &calls), ESP_OK);
    assert_int_equal(calls, 1);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = NULL;
    assert_int_equal(esim_nvs_mount(NULL, 0, 0x3000, false, &nvs), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_mount(f, 0x100, 0x3000, false, &nvs), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_mount(f, 0, 0x3100, false, &nvs), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_mount(f, 0, 0x2000, false, &nvs), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_mount(f, 0, 0, true, &nvs), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_mount(f, 0x1FF000, 0x3000, false, &nvs), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_mount(f, 0, 0x3000, false, NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_mount(f, 0, 0x1000, true, &nvs), ESP_OK);
    esim_nvs_unmount(nvs);
    esim_nvs_unmount(NULL);
    nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_handle h = open_rw(nvs, "x"), bad = {NULL, 1, false};
    int64_t v;
    size_t len;
    assert_int_equal(esim_nvs_open(nvs, NULL, true, &h), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_set_int(&h, NULL, ESIM_NVS_TYPE_I32, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_set_str(&h, "k", NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_set_blob(&h, "k", NULL, 3), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_get_int(&h, "k", ESIM_NVS_TYPE_BLOB, &v), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_get_int(&bad, "k", ESIM_NVS_TYPE_I32, &v), ESP_ERR_NVS_INVALID_HANDLE);
    assert_int_equal(esim_nvs_get_blob(NULL, "k", NULL, &len), ESP_ERR_NVS_INVALID_HANDLE);
    assert_int_equal(esim_nvs_commit(&bad), ESP_ERR_NVS_INVALID_HANDLE);
    assert_int_equal(esim_nvs_get_stats(NULL, NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_nvs_erase_partition(f, 0x10, 0x1000), ESP_ERR_INVALID_ARG);
    assert_int_equal(flash_writes(f), 3);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* ---- robustness: arbitrary page contents ---- */

static const uint8_t fuzz_types[] = {
    ESIM_NVS_TYPE_U8, ESIM_NVS_TYPE_I32, ESIM_NVS_TYPE_U64, ESIM_NVS_TYPE_STR, ESIM_NVS_TYPE_BLOB,
    ESIM_NVS_TYPE_BLOB_DATA, ESIM_NVS_TYPE_BLOB_IDX, 0x00, 0x77,
};
static const char *const fuzz_keys[] = {"a", "b", "k", "p", "fuzz", "fifteen_chars_k"};

static void fuzz_item(uint64_t *rng, uint8_t raw[32])
{
    esim_nvs_item it;
    uint8_t type = fuzz_types[rng_next(rng) % sizeof fuzz_types];
    esim_nvs_item_init(&it, (uint8_t)(rng_next(rng) % 4), type, fuzz_keys[rng_next(rng) % 6]);
    for (int i = 0; i < 8; i++)
        it.data[i] = (uint8_t)rng_next(rng);
    unsigned shape = (unsigned)(rng_next(rng) % 4);
    if (esim_nvs_type_is_variable(type) && shape != 0) {
        uint16_t size = (uint16_t)(rng_next(rng) % 300);
        esim_nvs_item_set_var(&it, size, (uint32_t)rng_next(rng));
        it.span = (uint8_t)esim_nvs_span_for_size(size);
    } else if (type == ESIM_NVS_TYPE_BLOB_IDX && shape != 0) {
        esim_nvs_item_set_blob_index(&it, (uint32_t)(rng_next(rng) % 9000), (uint8_t)(rng_next(rng) % 4),
                                     rng_next(rng) % 2 ? 0x80 : 0);
    } else {
        it.span = (uint8_t)rng_next(rng);
    }
    it.chunk_index = rng_next(rng) % 2 ? (uint8_t)(rng_next(rng) % 3) : (uint8_t)rng_next(rng);
    if (type != ESIM_NVS_TYPE_BLOB_DATA && shape != 0)
        it.chunk_index = 0xFF;
    it.crc = rng_next(rng) % 8 ? esim_nvs_item_crc(&it) : (uint32_t)rng_next(rng);
    esim_nvs_item_encode(&it, raw);
}

static void fuzz_page(uint64_t *rng, uint8_t page[SECTOR])
{
    static const uint32_t states[] = {
        ESIM_NVS_PAGE_ACTIVE, ESIM_NVS_PAGE_FULL, ESIM_NVS_PAGE_FREEING, ESIM_NVS_PAGE_CORRUPT, 0x1234u,
    };
    unsigned kind = (unsigned)(rng_next(rng) % 6);
    memset(page, 0xFF, SECTOR);
    if (kind == 0)
        return;
    if (kind == 1) {
        for (unsigned i = 0; i < SECTOR; i++)
            page[i] = (uint8_t)rng_next(rng);
        return;
    }
    esim_nvs_page_header h = {states[rng_next(rng) % 5], (uint32_t)(rng_next(rng) % 5),
                              rng_next(rng) % 10 ? ESIM_NVS_VERSION_2 : ESIM_NVS_VERSION_1, 0};
    esim_nvs_header_encode(&h, page);
    unsigned filled = (unsigned)(rng_next(rng) % 127);
    for (unsigned i = 0; i < filled; i++) {
        uint8_t raw[32];
        if (rng_next(rng) % 3)
            fuzz_item(rng, raw);
        else
            for (int b = 0; b < 32; b++)
                raw[b] = (uint8_t)rng_next(rng);
        memcpy(page + ESIM_NVS_ENTRIES_OFFSET + i * 32, raw, 32);
        unsigned r = (unsigned)(rng_next(rng) % 10);
        esim_nvs_bitmap_set(page + 32, i, r < 6 ? ESIM_NVS_ENTRY_WRITTEN : r < 8 ? ESIM_NVS_ENTRY_ERASED
                                          : r < 9 ? ESIM_NVS_ENTRY_EMPTY : ESIM_NVS_ENTRY_ILLEGAL);
    }
}

static void exercise(esim_nvs *nvs)
{
    esim_nvs_stats s;
    listing l;
    esim_nvs_handle h;
    int64_t v;
    size_t len;
    uint8_t buf[4000];
    (void)esim_nvs_get_stats(nvs, &s);
    memset(&l, 0, sizeof l);
    (void)esim_nvs_list(nvs, NULL, ESIM_NVS_TYPE_ANY, collect_entry, &l);
    if (esim_nvs_open(nvs, "p", true, &h) != ESP_OK && esim_nvs_open(nvs, "p", false, &h) != ESP_OK)
        return;
    for (unsigned k = 0; k < 6; k++) {
        len = sizeof buf;
        (void)get_i32(&h, fuzz_keys[k], &v);
        (void)esim_nvs_get_str(&h, fuzz_keys[k], (char *)buf, &len);
        len = sizeof buf;
        (void)esim_nvs_get_blob(&h, fuzz_keys[k], buf, &len);
    }
    memset(buf, 0x3C, sizeof buf);
    (void)esim_nvs_set_int(&h, "a", ESIM_NVS_TYPE_I32, 5);
    (void)esim_nvs_set_str(&h, "b", "fuzzed");
    (void)esim_nvs_set_blob(&h, "k", buf, 3000);
    (void)esim_nvs_set_blob(&h, "p", buf, 200);
    (void)esim_nvs_erase_key(&h, "a");
    (void)esim_nvs_erase_key(&h, "k");
    if (h.ns_index % 2)
        (void)esim_nvs_erase_all(&h);
}

static void fuzz_one(esim_flash *f, const uint8_t *img, uint32_t size)
{
    esim_nvs *nvs = NULL;
    restore(f, img, size);
    if (esim_nvs_mount(f, 0, size, true, &nvs) == ESP_OK) {
        exercise(nvs);
        esim_nvs_unmount(nvs);
    }
    /* a read-only mount repairs in RAM only */
    assert_int_equal(flash_writes(f), 0);
    assert_memory_equal(esim_flash_peek(f), img, size);
    for (int round = 0; round < 2; round++) {
        if (esim_nvs_mount(f, 0, size, false, &nvs) != ESP_OK)
            return;
        exercise(nvs);
        esim_nvs_unmount(nvs);
    }
}

static void test_random_images(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    uint8_t *img = malloc(0x4000);
    size_t len;
    uint8_t *rt01 = read_fixture("nvs_runtime/rt01_mp_session_0x6000.bin", &len);
    for (uint64_t seed = 1; seed <= 1000; seed++) {
        uint64_t rng = seed * 0x9E3779B97F4A7C15ULL;
        uint32_t size = seed % 3 ? 0x4000 : 0x3000;
        for (uint32_t p = 0; p < size / SECTOR; p++)
            fuzz_page(&rng, img + p * SECTOR);
        fuzz_one(f, img, size);
    }
    uint8_t *mut = malloc(len);
    for (uint64_t seed = 1; seed <= 600; seed++) {
        uint64_t rng = seed;
        memcpy(mut, rt01, len);
        for (unsigned n = (unsigned)(rng_next(&rng) % 12) + 1; n > 0; n--) {
            size_t at = rng_next(&rng) % 0x2000;
            mut[at] ^= (uint8_t)(1u << (rng_next(&rng) % 8));
        }
        fuzz_one(f, mut, (uint32_t)len);
    }
    free(mut);
    free(rt01);
    free(img);
    esim_flash_close(f);
}


/* D.8: a cut after 16 bytes keeps the old value; after 36 (entry and its
 * bitmap word) the new value wins and the old one is erased at mount. */
static void test_rt03_other_cut_points(void **state)
{
    (void)state;
    static const struct { uint64_t bytes; int64_t a; esim_nvs_entry_state stray; } cases[] = {
        {16, 1, ESIM_NVS_ENTRY_ERASED}, {36, 2, ESIM_NVS_ENTRY_WRITTEN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        esim_flash *f = flash_with_fixture("nvs_runtime/rt03_base_0x4000.bin", 0, &len);
        esim_nvs *nvs = mount_ok(f, 0, 0x4000);
        esim_nvs_handle h = open_rw(nvs, "p");
        assert_int_equal(esim_flash_arm_cut_after_bytes(f, cases[i].bytes, 1), ESP_OK);
        assert_int_not_equal(esim_nvs_set_int(&h, "a", ESIM_NVS_TYPE_I32, 2), ESP_OK);
        esim_nvs_unmount(nvs);
        esim_flash_power_on(f);
        nvs = mount_ok(f, 0, 0x4000);
        assert_int_equal(entry_state(f, 0, 3), cases[i].stray);
        assert_int_equal(entry_state(f, 0, 1), cases[i].a == 1 ? ESIM_NVS_ENTRY_WRITTEN : ESIM_NVS_ENTRY_ERASED);
        h = open_rw(nvs, "p");
        assert_i32(&h, "a", cases[i].a);
        assert_i32(&h, "b", 7);
        esim_nvs_unmount(nvs);
        esim_flash_close(f);
    }
}

/* D.6: a blob larger than a tailroom under 400 bytes closes the page and
 * starts a new one before the key is checked. */
static void test_small_tailroom_blob_starts_new_page(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    esim_nvs_handle h = open_rw(nvs, "t");
    char key[8];
    for (unsigned i = 1; i < 115; i++) {
        snprintf(key, sizeof key, "k%u", i);
        set_i32(&h, key, (int32_t)i);
    }
    uint8_t data[500];
    memset(data, 1, sizeof data);
    assert_int_equal(esim_nvs_set_blob(&h, "a_key_that_is_too_long", data, sizeof data), ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(page_state(f, PAGE(0)), ESIM_NVS_PAGE_FULL);
    esim_nvs_page_header hdr;
    esim_nvs_header_decode(esim_flash_peek(f) + PAGE(1), &hdr);
    assert_int_equal(hdr.state, ESIM_NVS_PAGE_ACTIVE);
    assert_int_equal(hdr.seqno, 1);
    assert_true(all_ff(esim_flash_peek(f) + PAGE(1) + 32, SECTOR - 32));
    /* a blob that fits the small tailroom stays on the page it starts on */
    assert_int_equal(esim_nvs_set_blob(&h, "fits", data, 100), ESP_OK);
    esim_nvs_item it;
    uint32_t page;
    assert_true(find_on_flash(f, 0, 3, ESIM_NVS_TYPE_BLOB_DATA, "fits", &it, &page, NULL));
    assert_int_equal(page, PAGE(1));
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* A payload whose CRC does not match is dropped when read. */
static void test_data_crc_mismatch(void **state)
{
    (void)state;
    esim_flash *f = new_flash();
    uint8_t text[40];
    memset(text, 'm', 39);
    text[39] = 0;
    raw_header(f, 0, ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_2);
    raw_ns(f, 0, 0, "m", 1);
    raw_var(f, 0, 1, 1, ESIM_NVS_TYPE_STR, "s", text, sizeof text, ESIM_NVS_CHUNK_ANY);
    uint8_t zero = 0;
    assert_int_equal(esim_flash_program(f, ESIM_NVS_ENTRIES_OFFSET + 2 * 32, &zero, 1), ESP_OK);
    esim_nvs *nvs = mount_ok(f, 0, 0x3000);
    assert_int_equal(entry_state(f, 0, 1), ESIM_NVS_ENTRY_WRITTEN);
    esim_nvs_handle h = open_rw(nvs, "m");
    char buf[64];
    size_t len = sizeof buf;
    assert_int_equal(esim_nvs_get_str(&h, "s", buf, &len), ESP_ERR_NVS_NOT_FOUND);
    for (unsigned i = 1; i <= 3; i++)
        assert_int_equal(entry_state(f, 0, i), ESIM_NVS_ENTRY_ERASED);
    len = sizeof buf;
    assert_int_equal(esim_nvs_get_str(&h, "s", buf, &len), ESP_ERR_NVS_NOT_FOUND);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rt01_session_bytes),
        cmocka_unit_test(test_rt01_at_partition_offset),
        cmocka_unit_test(test_rt01_readback),
        cmocka_unit_test(test_rt03_base_bytes),
        cmocka_unit_test(test_rt03_power_loss_after_32_bytes),
        cmocka_unit_test(test_generator_basic),
        cmocka_unit_test(test_generator_multipage_blob),
        cmocka_unit_test(test_blank_mount_writes_nothing),
        cmocka_unit_test(test_header_written_at_first_write),
        cmocka_unit_test(test_failed_first_write_leaves_header),
        cmocka_unit_test(test_namespace_lowest_free_index),
        cmocka_unit_test(test_namespace_limit),
        cmocka_unit_test(test_key_length_rules),
        cmocka_unit_test(test_type_replacement),
        cmocka_unit_test(test_integer_widths),
        cmocka_unit_test(test_identical_values_write_nothing),
        cmocka_unit_test(test_blob_too_long_writes_nothing),
        cmocka_unit_test(test_largest_blob_0x6000),
        cmocka_unit_test(test_largest_blob_0x4000),
        cmocka_unit_test(test_get_lengths),
        cmocka_unit_test(test_string_limits),
        cmocka_unit_test(test_gc_picks_most_unused),
        cmocka_unit_test(test_gc_tie_takes_oldest),
        cmocka_unit_test(test_gc_without_room),
        cmocka_unit_test(test_churn_against_model),
        cmocka_unit_test(test_lookup_uses_hash_list),
        cmocka_unit_test(test_key_padded_with_ff_not_found),
        cmocka_unit_test(test_write_granularity),
        cmocka_unit_test(test_range_written_back_to_front),
        cmocka_unit_test(test_erase_range_back_to_front),
        cmocka_unit_test(test_cut_int_update),
        cmocka_unit_test(test_cut_string_update),
        cmocka_unit_test(test_cut_update_across_pages),
        cmocka_unit_test(test_cut_blob_rewrite),
        cmocka_unit_test(test_cut_during_gc),
        cmocka_unit_test(test_cut_namespace_creation),
        cmocka_unit_test(test_duplicate_in_active_page),
        cmocka_unit_test(test_duplicate_in_full_page_kept),
        cmocka_unit_test(test_duplicate_across_pages),
        cmocka_unit_test(test_var_item_with_unwritten_data),
        cmocka_unit_test(test_freeing_page_recovered),
        cmocka_unit_test(test_blob_reconciliation),
        cmocka_unit_test(test_corrupt_pages_are_free),
        cmocka_unit_test(test_all_pages_corrupt),
        cmocka_unit_test(test_no_free_pages),
        cmocka_unit_test(test_new_version_found),
        cmocka_unit_test(test_v1_blob_readable),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_flash_errors_propagate),
        cmocka_unit_test(test_erase_all),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_random_images),
        cmocka_unit_test(test_rt03_other_cut_points),
        cmocka_unit_test(test_small_tailroom_blob_starts_new_page),
        cmocka_unit_test(test_data_crc_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
