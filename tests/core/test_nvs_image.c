/* Tests for the NVS image tools (nvs_image.h): the generator against the
 * images ESP-IDF's NVS partition generator made (tests/fixtures/nvs), the
 * renderings against nvs_tool.py's dumps, the export round trip, the raw
 * walk and the integrity check on good, damaged and random images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

#include "esp32sim/nvs_image.h"

#define SIZE 0x6000u
#define FIXTURES ESIM_FIXTURES_DIR "/nvs"

/* ---- helpers ---- */

static uint8_t *read_fixture(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "nvs/%s", name);
    return read_fixture_file(rel, len);
}

typedef struct {
    int count;
    int last_line;
    char last[256];
} warnings;

static void collect_warning(int line, const char *message, void *ctx)
{
    warnings *w = ctx;
    w->count++;
    w->last_line = line;
    snprintf(w->last, sizeof w->last, "%s", message);
}

static esp_err_t generate(const char *csv, uint32_t size, uint8_t *out, esim_nvs_image_error *err, warnings *w)
{
    esim_nvs_gen_options opts = {.base_dir = FIXTURES, .warn = collect_warning, .warn_ctx = w};
    return esim_nvs_generate(csv, strlen(csv), size, &opts, out, err);
}

static void assert_has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("\"%s\" lacks \"%s\"", text, needle);
}

/* Generation must fail with `code`, on `line`, with `needle` in the message. */
static void assert_gen_fails(const char *csv, uint32_t size, esp_err_t code, int line, const char *needle)
{
    uint8_t *out = malloc(size ? size : 1);
    esim_nvs_image_error err;
    warnings w = {0};
    esp_err_t e = generate(csv, size, out, &err, &w);
    if (e != code)
        fail_msg("expected 0x%x, got 0x%x (%s) for:\n%s", (unsigned)code, (unsigned)e, err.message, csv);
    assert_int_equal(err.line, line);
    assert_has(err.message, needle);
    free(out);
}

static uint8_t *generate_ok(const char *csv, uint32_t size)
{
    uint8_t *out = malloc(size);
    esim_nvs_image_error err;
    warnings w = {0};
    esp_err_t e = generate(csv, size, out, &err, &w);
    if (e)
        fail_msg("generation failed: line %d: %s", err.line, err.message);
    return out;
}

/* ---- the check, collected ---- */

typedef struct {
    esim_nvs_check_result res;
    char notes[4096];
    char findings[8192];
    int first_error_page, first_error_entry;
} check_log;

static void on_problem(const esim_nvs_problem *p, void *ctx)
{
    check_log *log = ctx;
    char *dst = p->severity == ESIM_NVS_NOTE ? log->notes : log->findings;
    size_t cap = p->severity == ESIM_NVS_NOTE ? sizeof log->notes : sizeof log->findings;
    size_t used = strlen(dst);
    snprintf(dst + used, cap - used, "%s%s\n", p->severity == ESIM_NVS_ERROR ? "E " : p->severity == ESIM_NVS_WARNING
             ? "W " : "", p->message);
    if (p->severity == ESIM_NVS_ERROR && log->first_error_page == -2) {
        log->first_error_page = p->page;
        log->first_error_entry = p->entry;
    }
}

static void run_check(const uint8_t *image, size_t len, check_log *log)
{
    memset(log, 0, sizeof *log);
    log->first_error_page = log->first_error_entry = -2;
    assert_int_equal(esim_nvs_check(image, len, on_problem, log, &log->res), ESP_OK);
}

/* The "Page ..." lines of an nvs_tool.py integrity report. */
static void page_lines(const char *report, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *line = report; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (strncmp(line, "Page", 4) == 0) {
            size_t used = strlen(out);
            snprintf(out + used, cap - used, "%.*s\n", (int)n, line);
        }
        line += n + (end != NULL);
    }
}

/* ---- the generator against ESP-IDF's images ---- */

static void assert_generates_fixture(const char *csv_name, const char *bin_name)
{
    size_t csv_len, bin_len;
    char *csv = (char *)read_fixture(csv_name, &csv_len);
    uint8_t *expected = read_fixture(bin_name, &bin_len);
    assert_int_equal(bin_len, SIZE);
    uint8_t *out = generate_ok(csv, SIZE);
    assert_memory_equal(out, expected, SIZE);
    free(csv);
    free(expected);
    free(out);
}

static void test_generate_basic(void **state)
{
    (void)state;
    assert_generates_fixture("nvs_basic.csv", "nvs_basic_0x6000.bin");
}

static void test_generate_multipage_blob(void **state)
{
    (void)state;
    assert_generates_fixture("nvs_multipage_blob_6000.csv", "nvs_mpblob5000_0x6000.bin");
}

/* ---- renderings against nvs_tool.py ---- */

static void assert_text_matches(const char *bin_name, const char *txt_name)
{
    size_t len, txt_len, out_len;
    uint8_t *image = read_fixture(bin_name, &len);
    char *expected = (char *)read_fixture(txt_name, &txt_len);
    char *text = esim_nvs_render_pages_text(image, len, &out_len);
    assert_non_null(text);
    assert_int_equal(out_len, txt_len);
    assert_string_equal(text, expected);
    free(text);
    free(expected);
    free(image);
}

static void test_text_matches_nvs_tool(void **state)
{
    (void)state;
    assert_text_matches("nvs_basic_0x6000.bin", "nvs_basic_0x6000.all.txt");
    assert_text_matches("nvs_mpblob5000_0x6000.bin", "nvs_mpblob5000_0x6000.all.txt");
    assert_text_matches("rt01_mp_session_0x6000.bin", "rt01_mp_session_0x6000.nvs_tool.all.txt");
}

static void test_json_pages(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = read_fixture("nvs_mpblob5000_0x6000.bin", &len);
    char *json = esim_nvs_render_pages_json(image, len);
    assert_non_null(json);
    assert_int_equal(json[0], '[');
    assert_has(json, "\"state\": \"Full\"");
    assert_has(json, "\"counts\": {\"written\": 126, \"erased\": 0, \"empty\": 0, \"illegal\": 0}");
    assert_has(json, "\"key\": \"bigblob\", \"crc\": {\"stored\": 2900051736, \"computed\": 2900051736, \"ok\": true}, "
                     "\"size\": 5000, \"chunk_count\": 2, \"chunk_start\": 0");
    assert_has(json, "\"key\": \"counter\"");
    assert_has(json, "\"value\": 123");
    free(json);
    free(image);
}

/* ---- the raw walk ---- */

static void test_raw_walk(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = read_fixture("nvs_basic_0x6000.bin", &len);
    esim_nvs_raw_page *p = malloc(sizeof *p);
    esim_nvs_raw_page_parse(image, 0, p);
    assert_false(p->header_blank);
    assert_int_equal(p->header.state, ESIM_NVS_PAGE_ACTIVE);
    assert_int_equal(p->header.seqno, 0);
    assert_int_equal(p->header.version, ESIM_NVS_VERSION_2);
    assert_int_equal(p->header.crc, p->header_crc_computed);
    assert_string_equal(esim_nvs_page_state_name(p->header.state), "Active");
    /* 30 written slots: 24 items (6 with a data entry), then 96 empty */
    size_t written = 0;
    for (size_t i = 0; i < p->count; i++)
        written += p->entries[i].state == ESIM_NVS_ENTRY_WRITTEN;
    assert_int_equal(written, 24);
    assert_int_equal(p->count, 24 + 96);
    const esim_nvs_raw_entry *str = &p->entries[9];
    assert_int_equal(str->index, 9);
    assert_string_equal(str->item.key, "strkey");
    assert_int_equal(str->data_entries, 1);
    assert_true(str->variable);
    assert_int_equal(str->data_crc_computed, esim_nvs_item_var_crc(&str->item));
    assert_memory_equal(esim_nvs_raw_data(image, str, 0), "hello world", 12);
    assert_null(esim_nvs_raw_data(image, str, 1));
    for (size_t i = 0; i < p->count; i++)
        if (p->entries[i].state == ESIM_NVS_ENTRY_WRITTEN)
            assert_true(esim_nvs_raw_entry_ok(image, p, &p->entries[i], NULL, 0));
    char why[128];
    assert_false(esim_nvs_raw_entry_ok(image, p, &p->entries[40], why, sizeof why));
    assert_has(why, "not written");
    esim_nvs_raw_page_parse(image + 0x1000, 0x1000, p);
    assert_true(p->blank);
    assert_true(p->header_blank);
    assert_int_equal(p->count, 126);
    assert_string_equal(esim_nvs_page_state_name(p->header.state), "Empty");
    assert_string_equal(esim_nvs_page_state_name(ESIM_NVS_PAGE_FREEING), "Erasing");
    assert_string_equal(esim_nvs_page_state_name(0x12345678), "Invalid");
    free(p);
    free(image);
}

/* ---- the check on good images ---- */

static void assert_clean_like_nvs_tool(const char *bin_name, const char *integrity_name)
{
    size_t len, rlen;
    uint8_t *image = read_fixture(bin_name, &len);
    char *report = (char *)read_fixture(integrity_name, &rlen);
    check_log *log = malloc(sizeof *log);
    run_check(image, len, log);
    if (log->res.errors || log->res.warnings)
        fail_msg("%s: %s", bin_name, log->findings);
    assert_int_equal(log->res.pages, len / 4096);
    char expected[4096];
    page_lines(report, expected, sizeof expected);
    assert_string_equal(log->notes, expected);
    free(log);
    free(report);
    free(image);
}

static void test_check_clean_images(void **state)
{
    (void)state;
    assert_clean_like_nvs_tool("nvs_basic_0x6000.bin", "nvs_basic_0x6000.integrity.txt");
    assert_clean_like_nvs_tool("nvs_mpblob5000_0x6000.bin", "nvs_mpblob5000_0x6000.integrity.txt");
    assert_clean_like_nvs_tool("rt01_mp_session_0x6000.bin", "rt01_mp_session_0x6000.nvs_tool.integrity.txt");
}

static void test_check_power_loss_leftover(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = read_fixture("rt03_powerloss_after_32B.before_mount.bin", &len);
    check_log *log = malloc(sizeof *log);
    run_check(image, len, log);
    assert_int_equal(log->res.errors, 0);
    assert_int_equal(log->res.warnings, 1);
    assert_has(log->findings, "page 0 entry 003: programmed but its bitmap state is empty");
    free(log);
    free(image);
}

/* ---- the check on damaged copies ---- */

static uint8_t *damaged(const char *bin_name, size_t *len)
{
    return read_fixture(bin_name, len);
}

static void assert_damage_found(uint8_t *image, size_t len, int page, int entry, const char *needle)
{
    check_log *log = malloc(sizeof *log);
    run_check(image, len, log);
    if (log->res.errors == 0)
        fail_msg("no error found (needle \"%s\")", needle);
    assert_has(log->findings, needle);
    assert_int_equal(log->first_error_page, page);
    assert_int_equal(log->first_error_entry, entry);
    free(log);
}

static void test_check_entry_crc(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_basic_0x6000.bin", &len);
    image[64 + 3 * 32 + 4] ^= 0x01;   /* u16key's CRC */
    assert_damage_found(image, len, 0, 3, "page 0 entry 003, key 'u16key': entry CRC32 is 66548aa2, computed 66548aa3");
    free(image);
}

static void test_check_header_crc(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_mpblob5000_0x6000.bin", &len);
    image[0x1000 + 28] ^= 0x80;   /* page 1's header CRC */
    check_log *log = malloc(sizeof *log);
    run_check(image, len, log);
    assert_has(log->notes, "Page no. 1 Original CRC32: 389f4823 Generated CRC32: 389f48a3");
    assert_has(log->findings, "E page 1: header CRC32 is 389f4823, computed 389f48a3");
    /* the page is lost with the blob's index: its first chunk is left over */
    assert_has(log->findings, "page 0 entry 002: chunk 0 of blob 'bigblob' has no blob index");
    free(log);
    free(image);
}

static void test_check_bitmap_illegal(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_basic_0x6000.bin", &len);
    esim_nvs_bitmap_set(image + 32, 5, ESIM_NVS_ENTRY_ILLEGAL);
    assert_damage_found(image, len, 0, 5, "page 0 entry 005: bitmap state 0b01 is illegal");
    free(image);
}

static void test_check_bitmap_data_erased(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_basic_0x6000.bin", &len);
    esim_nvs_bitmap_set(image + 32, 10, ESIM_NVS_ENTRY_ERASED);   /* strkey's data entry */
    assert_damage_found(image, len, 0, 9, "key 'strkey': data entry 010 is erased, not written");
    free(image);
}

static void test_check_bitmap_empty_amid(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_basic_0x6000.bin", &len);
    image[32 + 1] |= 0x0C;   /* entry 5 back to EMPTY, written entries after it */
    assert_damage_found(image, len, 0, 5, "page 0 entry 005: programmed but its bitmap state is empty");
    free(image);
}

static void test_check_data_crc(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_basic_0x6000.bin", &len);
    image[64 + 10 * 32] = 'H';   /* "hello world" -> "Hello world" */
    assert_damage_found(image, len, 0, 9, "key 'strkey': data CRC32 is cbf7eba3");
    free(image);
}

static void test_check_blob_index_lost(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_mpblob5000_0x6000.bin", &len);
    esim_nvs_bitmap_set(image + 0x1000 + 32, 35, ESIM_NVS_ENTRY_ERASED);   /* bigblob's index */
    check_log *log = malloc(sizeof *log);
    run_check(image, len, log);
    assert_int_equal(log->res.errors, 2);
    assert_has(log->findings, "page 0 entry 002: chunk 0 of blob 'bigblob' has no blob index");
    assert_has(log->findings, "page 1 entry 000: chunk 1 of blob 'bigblob' has no blob index");
    free(log);
    free(image);
}

static void test_check_truncated(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_mpblob5000_0x6000.bin", &len);
    check_log *log = malloc(sizeof *log);
    run_check(image, 0x5800, log);
    assert_has(log->findings, "the image is 22528 bytes, not a multiple of 4096");
    run_check(image, 0x2000, log);
    assert_has(log->findings, "2 whole page(s): a writable NVS partition needs at least 3");
    assert_has(log->findings, "no free page");
    run_check(image, 0x1000, log);
    assert_has(log->findings, "chunk 0 of blob 'bigblob' has no blob index");
    run_check(image, 100, log);
    assert_int_equal(log->res.pages, 0);
    assert_true(log->res.errors >= 2);
    run_check(image, 0, log);
    assert_true(log->res.errors >= 1);
    free(log);
    free(image);
}

static void test_check_duplicates_and_namespaces(void **state)
{
    (void)state;
    uint8_t *image = generate_ok("key,type,encoding,value\n"
                                 "ns1,namespace,,\n"
                                 "a,data,u8,1\n"
                                 "a,data,string,x\n"
                                 "empty,namespace,,\n",
                                 0x3000);
    check_log *log = malloc(sizeof *log);
    run_check(image, 0x3000, log);
    /* on the active page ESP-IDF erases the earlier 'a' (the type is not
     * part of its item hash) */
    assert_int_equal(log->res.errors, 0);
    assert_has(log->findings, "W page 0 entry 002, key 'a' of namespace ns1 is stored again on this active page "
                              "(first at entry 001); ESP-IDF erases the earlier entry at mount");
    assert_int_equal(log->res.warnings, 2);
    assert_has(log->findings, "W page 0 entry 004: namespace 'empty' (index 2) holds no keys");
    /* a key whose namespace has no definition */
    esim_nvs_bitmap_set(image + 32, 0, ESIM_NVS_ENTRY_ERASED);
    run_check(image, 0x3000, log);
    assert_has(log->findings, "key 'a': namespace index 1 is not defined by any namespace entry");
    free(log);
    free(image);
}

/* A CSV that sets keys twice (the generator writes both entries, as
 * ESP-IDF's does), its check and its round trip through the export. */
static void check_generated(const char *csv, uint32_t size, check_log *log)
{
    uint8_t *image = generate_ok(csv, size);
    run_check(image, size, log);
    char *out = NULL;
    assert_int_equal(esim_nvs_export(image, size, NULL, NULL, &out, NULL), ESP_OK);
    free(out);
    free(image);
}

/* Regression (fuzz_nvs_image): values set twice on the page the generator
 * leaves ACTIVE are no error: ESP-IDF erases the earlier entries when it
 * loads the page. The check called them duplicates, paired the second blob
 * index with the first blob's chunk and took that chunk for an orphan. */
static void test_check_generated_duplicates_active(void **state)
{
    (void)state;
    check_log *log = malloc(sizeof *log);
    check_generated("key,type,encoding,value\n"
                    "ns,namespace,,\n"
                    "a,data,u8,1\n"
                    "b,data,hex2bin,deadbeef00\n"
                    "a,data,u8,2\n"
                    "b,data,hex2bin,deadbeef00ff\n",
                    0x3000, log);
    assert_int_equal(log->res.errors, 0);
    assert_int_equal(log->res.warnings, 3);
    assert_has(log->findings, "W page 0 entry 005, key 'a' of namespace ns is stored again on this active page "
                              "(first at entry 001); ESP-IDF erases the earlier entry at mount");
    assert_has(log->findings, "W page 0 entry 006, chunk 0 of blob 'b' of namespace ns is stored again on this "
                              "active page (first at entry 002)");
    assert_has(log->findings, "W page 0 entry 008, key 'b' of namespace ns is stored again on this active page "
                              "(first at entry 004)");
    free(log);
}

/* Two different keys whose 24-bit item hashes (namespace 1, chunk 255) are
 * equal: loading the active page, ESP-IDF erases the earlier as if it were
 * a duplicate, and its value is lost. */
static void test_check_hash_collision(void **state)
{
    (void)state;
    char k1[ESIM_NVS_KEY_SIZE] = "70f2244b", k2[ESIM_NVS_KEY_SIZE] = "eef68755";
    assert_int_equal(esim_nvs_item_hash(1, k1, 0xFF), esim_nvs_item_hash(1, k2, 0xFF));
    check_log *log = malloc(sizeof *log);
    check_generated("key,type,encoding,value\nns,namespace,,\n70f2244b,data,u8,1\neef68755,data,u8,2\n", 0x3000, log);
    assert_int_equal(log->res.errors, 1);
    assert_has(log->findings, "E page 0 entry 001, key '70f2244b' of namespace ns: ESP-IDF erases it at mount, as "
                              "entry 002 (key 'eef68755' of namespace ns) of this active page has the same 24-bit "
                              "hash");
    free(log);
}

/* "key,type,encoding,value\nns,namespace,,\n" + head + n u8 fillers + tail */
static char *csv_with_fillers(const char *head, unsigned n, const char *tail)
{
    size_t cap = 64 + strlen(head) + strlen(tail) + (size_t)n * 24;
    char *csv = malloc(cap);
    size_t used = (size_t)snprintf(csv, cap, "key,type,encoding,value\nns,namespace,,\n%s", head);
    for (unsigned i = 0; i < n; i++)
        used += (size_t)snprintf(csv + used, cap - used, "k%u,data,u8,%u\n", i, i % 200);
    snprintf(csv + used, cap - used, "%s", tail);
    return csv;
}

/* Set twice on a page the generator fills (FULL), a key keeps both entries
 * and ESP-IDF reads the first; set again as the very last row, the older
 * copy is erased at mount. */
static void test_check_generated_duplicates_full(void **state)
{
    (void)state;
    check_log *log = malloc(sizeof *log);
    char *csv = csv_with_fillers("a,data,u8,1\na,data,u8,2\n", 130, "");
    check_generated(csv, 0x4000, log);
    free(csv);
    assert_int_equal(log->res.errors, 1);
    assert_has(log->findings, "E page 0 entry 002, key 'a' of namespace ns is stored again "
                              "(first at page 0 entry 001)");

    csv = csv_with_fillers("a,data,u8,1\n", 130, "a,data,u8,2\nz,data,u8,3\n");
    check_generated(csv, 0x4000, log);
    free(csv);
    assert_int_equal(log->res.errors, 1);
    assert_has(log->findings, "E page 1 entry 006, key 'a' of namespace ns is stored again "
                              "(first at page 0 entry 001)");

    csv = csv_with_fillers("a,data,u8,1\n", 130, "a,data,u8,2\n");
    check_generated(csv, 0x4000, log);
    free(csv);
    assert_int_equal(log->res.errors, 0);
    assert_int_equal(log->res.warnings, 1);
    assert_has(log->findings, "W page 0 entry 001, key 'a' of namespace ns is stored again as the last item of the "
                              "newest page (page 1 entry 006); ESP-IDF erases this older copy at mount");
    free(log);
}

static void test_check_key_padding(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_basic_0x6000.bin", &len);
    uint8_t *entry = image + 64 + 1 * 32;   /* "u8key", NUL, then 0xFF padding; CRC fixed */
    memset(entry + 8 + 6, 0xFF, 9);
    esim_nvs_item item;
    esim_nvs_item_decode(entry, &item);
    item.crc = esim_nvs_item_crc(&item);
    esim_nvs_item_encode(&item, entry);
    assert_damage_found(image, len, 0, 1, "key bytes after the terminating NUL are not zero");
    /* no NUL after "u8key": another key, with odd bytes, that nobody asks for */
    entry[8 + 5] = 0xFF;
    esim_nvs_item_decode(entry, &item);
    item.crc = esim_nvs_item_crc(&item);
    esim_nvs_item_encode(&item, entry);
    check_log *log = malloc(sizeof *log);
    run_check(image, len, log);
    assert_int_equal(log->res.errors, 0);
    assert_int_equal(log->res.warnings, 1);
    assert_has(log->findings, "W page 0 entry 001, key 'u8key\\xff\\xff");
    assert_has(log->findings, "the key holds bytes that are not printable ASCII");
    free(log);
    free(image);
}

static void test_check_page_state(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = damaged("nvs_basic_0x6000.bin", &len);
    image[0x2000 + 100] = 0x00;   /* a byte in an uninitialised page */
    assert_damage_found(image, len, 2, -1, "page 2: state says uninitialized but the page is not erased");
    free(image);
    image = damaged("nvs_basic_0x6000.bin", &len);
    image[0] = 0xF0;   /* CORRUPT: not a state ESP-IDF writes */
    assert_damage_found(image, len, 0, -1, "page 0: state 0xfffffff0 is not a valid page state");
    free(image);
    image = damaged("nvs_basic_0x6000.bin", &len);
    esim_nvs_page_header h = {.state = ESIM_NVS_PAGE_ACTIVE, .seqno = 0, .version = 0xFD};
    esim_nvs_header_encode(&h, image);
    assert_damage_found(image, len, 0, -1, "ESP_ERR_NVS_NEW_VERSION_FOUND");
    free(image);
}

/* Garbage of many lengths: findings, never a crash (run under ASan). */
static void test_check_random_garbage(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    check_log *log = malloc(sizeof *log);
    uint8_t *buf = malloc(5 * 4096 + 17);
    for (int round = 0; round < 300; round++) {
        size_t len = (size_t)(round % 6) * 4096 + (size_t)(round % 7 == 0 ? round : 0);
        for (size_t i = 0; i < 5 * 4096 + 17; i++) {
            seed = seed * 1103515245u + 12345u;
            uint8_t r = (uint8_t)(seed >> 16);
            /* mostly plausible pages: headers and states from a few values */
            buf[i] = round % 3 == 0 ? r : (r & 0x80 ? 0xFF : r);
        }
        if (round % 2) {
            esim_nvs_page_header h = {.state = ESIM_NVS_PAGE_ACTIVE, .seqno = (uint32_t)round, .version = 0xFE};
            esim_nvs_header_encode(&h, buf);
        }
        run_check(buf, len, log);
        if (len >= 4096) {
            char *t = esim_nvs_render_pages_text(buf, len, NULL);
            char *j = esim_nvs_render_pages_json(buf, len);
            assert_non_null(t);
            assert_non_null(j);
            free(t);
            free(j);
            char *csv;
            size_t csv_len;
            if (len % 4096 == 0) {
                assert_int_equal(esim_nvs_export(buf, len, NULL, NULL, &csv, &csv_len), ESP_OK);
                free(csv);
            }
        }
    }
    free(buf);
    free(log);
}

/* ---- the export ---- */

static void assert_round_trip(const char *bin_name)
{
    size_t len, csv_len;
    uint8_t *image = read_fixture(bin_name, &len);
    char *csv;
    warnings w = {0};
    assert_int_equal(esim_nvs_export(image, len, collect_warning, &w, &csv, &csv_len), ESP_OK);
    assert_int_equal(w.count, 0);
    assert_int_equal(strlen(csv), csv_len);
    uint8_t *again = generate_ok(csv, (uint32_t)len);
    assert_memory_equal(again, image, len);
    free(again);
    free(csv);
    free(image);
}

static void test_export_round_trip(void **state)
{
    (void)state;
    assert_round_trip("nvs_basic_0x6000.bin");
    assert_round_trip("nvs_mpblob5000_0x6000.bin");
}

static void test_export_text(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = read_fixture("nvs_basic_0x6000.bin", &len);
    char *csv;
    assert_int_equal(esim_nvs_export(image, len, NULL, NULL, &csv, NULL), ESP_OK);
    assert_has(csv, "key,type,encoding,value\nstorage,namespace,,\nu8key,data,u8,200\n");
    assert_has(csv, "u64key,data,u64,18446744073709551615\ni64key,data,i64,-9223372036854775808\n");
    assert_has(csv, "emptystr,data,string,\nblobkey,data,hex2bin,deadbeef00ff\n");
    assert_has(csv, "b64key,data,hex2bin,48656c6c6f20626173653634\n");
    free(csv);
    free(image);
}

/* An image ESP-IDF's engine wrote (erased entries, a blob rewritten with
 * version 0x80): the values it reads, then the same after a round trip. */
static void test_export_engine_image(void **state)
{
    (void)state;
    size_t len;
    uint8_t *image = read_fixture("rt01_mp_session_0x6000.bin", &len);
    char *csv, *csv2;
    assert_int_equal(esim_nvs_export(image, len, NULL, NULL, &csv, NULL), ESP_OK);
    assert_has(csv, "mp,namespace,,\nb,data,hex2bin,01080f161d");
    assert_has(csv, "\ns,data,string,hello\n");
    assert_null(strstr(csv, "\na,"));   /* erased */
    uint8_t *again = generate_ok(csv, (uint32_t)len);
    assert_int_equal(esim_nvs_export(again, len, NULL, NULL, &csv2, NULL), ESP_OK);
    assert_string_equal(csv, csv2);
    free(again);
    free(csv);
    free(csv2);
    free(image);
}

static void test_export_quoting_and_leftovers(void **state)
{
    (void)state;
    uint8_t *image = generate_ok("key,type,encoding,value\n"
                                 "\"#ns\",namespace,,\n"
                                 "comma,data,string,\"a,b\"\n"
                                 "quote,data,string,\"say \"\"hi\"\"\"\n"
                                 "nl,data,string,\"two\nlines\"\n"
                                 "\"#k\",data,u8,7\n"
                                 "bad,data,binary,x\n",
                                 0x3000);
    /* make 'bad' a string without its NUL: not exportable */
    esim_nvs_raw_page *p = malloc(sizeof *p);
    esim_nvs_raw_page_parse(image, 0, p);
    char *csv;
    warnings w = {0};
    assert_int_equal(esim_nvs_export(image, 0x3000, collect_warning, &w, &csv, NULL), ESP_OK);
    assert_has(csv, "\"#ns\",namespace,,\ncomma,data,string,\"a,b\"\nquote,data,string,\"say \"\"hi\"\"\"\n"
                    "nl,data,string,\"two\nlines\"\n\"#k\",data,u8,7\nbad,data,hex2bin,78\n");
    assert_int_equal(w.count, 0);
    uint8_t *again = generate_ok(csv, 0x3000);
    assert_memory_equal(again, image, 0x3000);
    free(again);
    free(csv);
    /* a string holding a CR cannot go through the CSV */
    uint8_t *data = image + 64 + 2 * 32;   /* comma's data entry: "a,b\0" */
    data[1] = '\r';
    esim_nvs_item item;
    esim_nvs_item_decode(image + 64 + 1 * 32, &item);
    esim_nvs_item_set_var(&item, 4, esim_nvs_crc32(data, 4));
    item.crc = esim_nvs_item_crc(&item);
    esim_nvs_item_encode(&item, image + 64 + 1 * 32);
    assert_int_equal(esim_nvs_export(image, 0x3000, collect_warning, &w, &csv, NULL), ESP_OK);
    assert_int_equal(w.count, 1);
    assert_has(w.last, "namespace '#ns', key 'comma': the string holds a carriage return");
    assert_has(csv, "# namespace '#ns', key 'comma': the string holds a carriage return");
    free(csv);
    free(p);
    free(image);
}

static void test_export_bad_size(void **state)
{
    (void)state;
    uint8_t buf[100] = {0};
    char *csv = (char *)buf;
    assert_int_equal(esim_nvs_export(buf, sizeof buf, NULL, NULL, &csv, NULL), ESP_ERR_INVALID_SIZE);
    assert_null(csv);
}

/* ---- the generator's layout rules ---- */

static const uint8_t *entry_at(const uint8_t *image, unsigned page, unsigned slot)
{
    return image + page * 4096u + 64u + slot * 32u;
}

static uint32_t page_state(const uint8_t *image, unsigned page)
{
    esim_nvs_page_header h;
    esim_nvs_header_decode(image + page * 4096u, &h);
    return h.state;
}

/* A CSV: a namespace and `n` u8 keys k0..k(n-1). */
static char *many_keys(unsigned n, const char *tail)
{
    size_t cap = 64 + n * 32 + strlen(tail);
    char *csv = malloc(cap);
    size_t used = (size_t)snprintf(csv, cap, "key,type,encoding,value\nns,namespace,,\n");
    for (unsigned i = 0; i < n; i++)
        used += (size_t)snprintf(csv + used, cap - used, "k%u,data,u8,%u\n", i, i & 0xFF);
    snprintf(csv + used, cap - used, "%s", tail);
    return csv;
}

static void test_layout_string_moves_to_next_page(void **state)
{
    (void)state;
    /* 1 + 120 entries used; a 200-byte string needs 8: it goes to page 1 */
    char tail[400] = "s,data,string,";
    memset(tail + strlen(tail), 'x', 199);
    strcat(tail, "\n");
    char *csv = many_keys(120, tail);
    uint8_t *image = generate_ok(csv, 0x4000);
    assert_int_equal(page_state(image, 0), ESIM_NVS_PAGE_FULL);
    assert_int_equal(page_state(image, 1), ESIM_NVS_PAGE_ACTIVE);
    assert_int_equal(entry_at(image, 1, 0)[1], ESIM_NVS_TYPE_STR);
    assert_int_equal(entry_at(image, 1, 0)[2], 8);
    assert_true(entry_at(image, 0, 121)[0] == 0xFF);
    free(image);
    free(csv);
}

static void test_layout_blob_fills_page(void **state)
{
    (void)state;
    /* 1 + 124 entries: one entry left, so the blob's first chunk is empty */
    char *csv = many_keys(124, "b,data,hex2bin,0102030405\n");
    uint8_t *image = generate_ok(csv, 0x4000);
    const uint8_t *chunk0 = entry_at(image, 0, 125);
    assert_int_equal(chunk0[1], ESIM_NVS_TYPE_BLOB_DATA);
    assert_int_equal(chunk0[2], 1);
    assert_int_equal(chunk0[3], 0);
    assert_int_equal(chunk0[24] | chunk0[25] << 8, 0);
    assert_int_equal(page_state(image, 0), ESIM_NVS_PAGE_FULL);
    const uint8_t *chunk1 = entry_at(image, 1, 0);
    assert_int_equal(chunk1[1], ESIM_NVS_TYPE_BLOB_DATA);
    assert_int_equal(chunk1[3], 1);
    assert_int_equal(chunk1[24], 5);
    const uint8_t *idx = entry_at(image, 1, 2);
    assert_int_equal(idx[1], ESIM_NVS_TYPE_BLOB_IDX);
    assert_int_equal(idx[24], 5);
    assert_int_equal(idx[28], 2);
    assert_int_equal(idx[29], 0);
    free(image);
    free(csv);
}

static void test_layout_page_exactly_full(void **state)
{
    (void)state;
    /* 1 + 125 entries fill page 0, which stays ACTIVE: nothing follows */
    char *csv = many_keys(125, "");
    uint8_t *image = generate_ok(csv, 0x3000);
    assert_int_equal(page_state(image, 0), ESIM_NVS_PAGE_ACTIVE);
    assert_int_equal(image[32 + 31], 0xFA);
    assert_int_equal(page_state(image, 1), ESIM_NVS_PAGE_UNINITIALIZED);
    free(image);
    free(csv);
    /* one more key opens page 1 and fills page 0 */
    csv = many_keys(126, "");
    image = generate_ok(csv, 0x3000);
    assert_int_equal(page_state(image, 0), ESIM_NVS_PAGE_FULL);
    assert_int_equal(page_state(image, 1), ESIM_NVS_PAGE_ACTIVE);
    assert_string_equal((const char *)entry_at(image, 1, 0) + 8, "k125");
    free(image);
    free(csv);
}

static void test_layout_string_limit(void **state)
{
    (void)state;
    char *csv = malloc(5000);
    int n = snprintf(csv, 5000, "key,type,encoding,value\nns,namespace,,\ns,data,string,");
    memset(csv + n, 'y', 3967);
    strcpy(csv + n + 3967, "\n");
    uint8_t *image = generate_ok(csv, 0x3000);
    assert_int_equal(entry_at(image, 1, 0)[2], 125);   /* a fresh page, 124 data entries */
    assert_int_equal(page_state(image, 0), ESIM_NVS_PAGE_FULL);
    free(image);
    memset(csv + n, 'y', 3968);
    strcpy(csv + n + 3968, "\n");
    assert_gen_fails(csv, 0x3000, ESP_ERR_INVALID_ARG, 3, "3968 bytes");
    free(csv);
}

static void test_layout_version1(void **state)
{
    (void)state;
    const char *csv = "key,type,encoding,value\nns,namespace,,\nb,data,hex2bin,0102\n";
    uint8_t *out = malloc(0x3000);
    esim_nvs_gen_options opts = {.version = ESIM_NVS_VERSION_1};
    assert_int_equal(esim_nvs_generate(csv, strlen(csv), 0x3000, &opts, out, NULL), ESP_OK);
    assert_int_equal(out[8], 0xFF);
    assert_int_equal(entry_at(out, 0, 1)[1], ESIM_NVS_TYPE_BLOB);
    assert_int_equal(entry_at(out, 0, 1)[2], 2);
    assert_int_equal(entry_at(out, 0, 1)[3], 0xFF);
    opts.version = 0x12;
    assert_int_equal(esim_nvs_generate(csv, strlen(csv), 0x3000, &opts, out, NULL), ESP_ERR_INVALID_ARG);
    free(out);
}

static void test_csv_dialect(void **state)
{
    (void)state;
    /* comments, CRLF, quotes, base64 with blanks, Python int forms, columns in another order */
    const char *csv = "# a comment\r\n"
                      "type,key,value,encoding\r\n"
                      "namespace,ns,,\r\n"
                      "\r\n"
                      "# another\r\n"
                      "data,a,\" 1_000 \",u16\r\n"
                      "data,b,\"SGVs bG8=\",base64\r\n"
                      "data,c,+7,i8\r\n"
                      "data,d,\"x\"\"y\",string\r\n"
                      "data,e,\"ab\"cd,string\r\n"
                      "data,f,\" DEAD \",hex2bin\r\n";
    uint8_t *image = generate_ok(csv, 0x3000);
    assert_int_equal(entry_at(image, 0, 1)[24] | entry_at(image, 0, 1)[25] << 8, 1000);
    assert_int_equal(entry_at(image, 0, 2)[24], 5);
    assert_memory_equal(entry_at(image, 0, 3), "Hello", 5);
    assert_int_equal(entry_at(image, 0, 5)[24], 7);
    assert_memory_equal(entry_at(image, 0, 7), "x\"y", 4);
    assert_memory_equal(entry_at(image, 0, 9), "abcd", 5);
    assert_memory_equal(entry_at(image, 0, 11), "\xde\xad", 2);
    free(image);
}

static void test_duplicate_key_warning(void **state)
{
    (void)state;
    const char *csv = "key,type,encoding,value\nns,namespace,,\na,data,u8,1\nb,data,u8,1\na,data,u8,2\n";
    uint8_t *out = malloc(0x3000);
    warnings w = {0};
    assert_int_equal(generate(csv, 0x3000, out, NULL, &w), ESP_OK);
    assert_int_equal(w.count, 1);
    assert_int_equal(w.last_line, 5);
    assert_has(w.last, "key 'a' is already set in namespace 'ns'");
    free(out);
}

/* ---- the generator's errors ---- */

#define HDR "key,type,encoding,value\nns,namespace,,\n"

static void test_errors_size(void **state)
{
    (void)state;
    assert_gen_fails(HDR, 0x6100, ESP_ERR_INVALID_SIZE, 0, "not a multiple of 4096");
    assert_gen_fails(HDR, 0x2000, ESP_ERR_INVALID_SIZE, 0, "below the minimum of 0x3000");
    assert_gen_fails(HDR, 0x2000000, ESP_ERR_INVALID_SIZE, 0, "larger than 16 MiB");
}

static void test_errors_values(void **state)
{
    (void)state;
    assert_gen_fails(HDR "a,data,u9,1\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "unknown encoding 'u9'");
    assert_gen_fails(HDR "a,data,U8,1\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "unknown encoding 'U8'");
    assert_gen_fails(HDR "a,data,u8,256\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "u8 value '256' is out of range (0..255)");
    assert_gen_fails(HDR "a,data,u8,-1\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "out of range");
    assert_gen_fails(HDR "a,data,i8,-129\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "out of range (-128..127)");
    assert_gen_fails(HDR "a,data,i64,9223372036854775808\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "out of range");
    assert_gen_fails(HDR "a,data,u64,18446744073709551616\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "out of range");
    assert_gen_fails(HDR "a,data,i32,0x10\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "is not a decimal integer");
    assert_gen_fails(HDR "a,data,i32,1__0\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "is not a decimal integer");
    assert_gen_fails(HDR "a,data,i32,\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "is not a decimal integer");
    assert_gen_fails(HDR "a,data,hex2bin,abc\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "odd number of digits");
    assert_gen_fails(HDR "a,data,hex2bin,zz\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "not a hex digit");
    assert_gen_fails(HDR "a,data,base64,QUJDRA=\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "incorrect padding");
    assert_gen_fails(HDR "a,data,base64,Q\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "one data character more");
    assert_gen_fails(HDR "a,data\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "key 'a' has no encoding");
    assert_gen_fails(HDR "a,data,u8\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "key 'a' has no value");
}

static void test_errors_rows(void **state)
{
    (void)state;
    assert_gen_fails(HDR "sixteen_chars_ky,data,u8,1\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "longer than 15 bytes");
    assert_gen_fails("key,type,encoding,value\nsixteen_chars_ns,namespace,,\n", 0x3000, ESP_ERR_INVALID_ARG, 2,
                     "key 'sixteen_chars_ns' is longer than 15 bytes");
    assert_gen_fails("key,type,encoding,value\na,data,u8,1\n", 0x3000, ESP_ERR_INVALID_ARG, 2,
                     "comes before any namespace row");
    assert_gen_fails(HDR "x,namespace,,\nns,namespace,,\n", 0x3000, ESP_ERR_INVALID_ARG, 4,
                     "namespace 'ns' was already defined on line 2");
    assert_gen_fails(HDR "a,blob,u8,1\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "unknown type 'blob'");
    assert_gen_fails(HDR "a,file,binary,no/such/file.bin\n", 0x3000, ESP_ERR_NOT_FOUND, 3,
                     "cannot open file 'no/such/file.bin'");
    assert_gen_fails("key,type,value\nns,namespace,\n", 0x3000, ESP_ERR_INVALID_ARG, 1, "no 'encoding' column");
    assert_gen_fails("", 0x3000, ESP_ERR_INVALID_ARG, 0, "the file is empty");
    assert_gen_fails(HDR "a,data,string,\"open\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "quoted field is not closed");
    assert_gen_fails(HDR "a,data,string,\xff\n", 0x3000, ESP_ERR_INVALID_ARG, 3, "not UTF-8");
}

static void test_errors_space(void **state)
{
    (void)state;
    /* 2 usable pages of 0x3000: a 9000-byte blob does not fit */
    size_t cap = 64 + 18000 + 8;
    char *csv = malloc(cap);
    int n = snprintf(csv, cap, HDR "big,data,hex2bin,");
    for (int i = 0; i < 9000; i++)
        memcpy(csv + n + 2 * i, "ab", 2);
    strcpy(csv + n + 18000, "\n");
    assert_gen_fails(csv, 0x3000, ESP_ERR_NVS_NOT_ENOUGH_SPACE, 3, "does not fit in 2 pages");
    uint8_t *image = generate_ok(csv, 0x5000);   /* 4 usable pages: it does */
    check_log *log = malloc(sizeof *log);
    run_check(image, 0x5000, log);
    assert_int_equal(log->res.errors + log->res.warnings, 0);
    free(log);
    free(image);
    free(csv);
    /* too many namespaces */
    size_t cap2 = 40 + 256 * 24;
    char *many = malloc(cap2);
    size_t used = (size_t)snprintf(many, cap2, "key,type,encoding,value\n");
    for (int i = 0; i < 255; i++)
        used += (size_t)snprintf(many + used, cap2 - used, "n%d,namespace,,\n", i);
    assert_gen_fails(many, 0x6000, ESP_ERR_INVALID_ARG, 256, "too many namespaces");
    free(many);
}

static void test_csv_field_limit(void **state)
{
    (void)state;
    size_t cap = 64 + ESIM_NVS_CSV_FIELD_MAX + 8;
    char *csv = malloc(cap);
    int n = snprintf(csv, cap, HDR "big,data,hex2bin,");
    memset(csv + n, 'a', ESIM_NVS_CSV_FIELD_MAX + 2);
    strcpy(csv + n + ESIM_NVS_CSV_FIELD_MAX + 2, "\n");
    assert_gen_fails(csv, 0x40000, ESP_ERR_INVALID_ARG, 3, "longer than 131072 characters");
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_basic),
        cmocka_unit_test(test_generate_multipage_blob),
        cmocka_unit_test(test_text_matches_nvs_tool),
        cmocka_unit_test(test_json_pages),
        cmocka_unit_test(test_raw_walk),
        cmocka_unit_test(test_check_clean_images),
        cmocka_unit_test(test_check_power_loss_leftover),
        cmocka_unit_test(test_check_entry_crc),
        cmocka_unit_test(test_check_header_crc),
        cmocka_unit_test(test_check_bitmap_illegal),
        cmocka_unit_test(test_check_bitmap_data_erased),
        cmocka_unit_test(test_check_bitmap_empty_amid),
        cmocka_unit_test(test_check_data_crc),
        cmocka_unit_test(test_check_blob_index_lost),
        cmocka_unit_test(test_check_truncated),
        cmocka_unit_test(test_check_duplicates_and_namespaces),
        cmocka_unit_test(test_check_generated_duplicates_active),
        cmocka_unit_test(test_check_generated_duplicates_full),
        cmocka_unit_test(test_check_hash_collision),
        cmocka_unit_test(test_check_key_padding),
        cmocka_unit_test(test_check_page_state),
        cmocka_unit_test(test_check_random_garbage),
        cmocka_unit_test(test_export_round_trip),
        cmocka_unit_test(test_export_text),
        cmocka_unit_test(test_export_engine_image),
        cmocka_unit_test(test_export_quoting_and_leftovers),
        cmocka_unit_test(test_export_bad_size),
        cmocka_unit_test(test_layout_string_moves_to_next_page),
        cmocka_unit_test(test_layout_blob_fills_page),
        cmocka_unit_test(test_layout_page_exactly_full),
        cmocka_unit_test(test_layout_string_limit),
        cmocka_unit_test(test_layout_version1),
        cmocka_unit_test(test_csv_dialect),
        cmocka_unit_test(test_duplicate_key_warning),
        cmocka_unit_test(test_errors_size),
        cmocka_unit_test(test_errors_values),
        cmocka_unit_test(test_errors_rows),
        cmocka_unit_test(test_errors_space),
        cmocka_unit_test(test_csv_field_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
