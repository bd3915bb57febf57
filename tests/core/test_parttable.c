/* Tests for the partition table: binary and CSV, against the gen_esp32part.py
 * fixtures in tests/fixtures/partition_table and hand-made bad inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include <mbedtls/md5.h>

#include "esp32sim/parttable.h"

#define MiB (1024u * 1024u)
#define FLASH_4MB (4u * MiB)

/* ---- helpers ------------------------------------------------------------ */

static char *read_fixture(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "partition_table/%s", name);
    return (char *)read_fixture_file(rel, len);
}

static esp_err_t parse_text(const char *text, esim_ptable *t, esim_ptable_error *err)
{
    return esim_ptable_parse_csv(text, strlen(text), t, err);
}

/* The message must mention `needle` (case-sensitive). */
static void assert_message_has(const esim_ptable_error *err, const char *needle)
{
    if (!strstr(err->message, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err->message, needle);
}

static esim_part_entry entry(const char *label, uint8_t type, uint8_t subtype,
                             uint32_t offset, uint32_t size, uint32_t flags)
{
    esim_part_entry e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.subtype = subtype;
    e.offset = offset;
    e.size = size;
    e.flags = flags;
    snprintf(e.label, sizeof e.label, "%s", label);
    return e;
}

/* The default MicroPython table, as structs. */
static esim_ptable default_table(void)
{
    esim_ptable t;
    memset(&t, 0, sizeof t);
    t.entries[0] = entry("nvs", 1, 2, 0x9000, 0x6000, 0);
    t.entries[1] = entry("phy_init", 1, 1, 0xf000, 0x1000, 0);
    t.entries[2] = entry("factory", 0, 0, 0x10000, 0x1F0000, 0);
    t.count = 3;
    return t;
}

static void write_binary(const esim_ptable *t, bool md5, uint8_t bin[ESIM_PTABLE_MAX_LEN])
{
    esim_ptable_error err;
    assert_int_equal(esim_ptable_to_binary(t, md5, bin, &err), ESP_OK);
}

static void set_row_md5(uint8_t *bin, size_t row)
{
    uint8_t *r = bin + row * 32;
    memset(r, 0xFF, 32);
    r[0] = 0xEB;
    r[1] = 0xEB;
    assert_int_equal(mbedtls_md5_ret(bin, row * 32, r + 16), 0);
}

static void assert_same_tables(const esim_ptable *a, const esim_ptable *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        assert_int_equal(a->entries[i].type, b->entries[i].type);
        assert_int_equal(a->entries[i].subtype, b->entries[i].subtype);
        assert_int_equal(a->entries[i].offset, b->entries[i].offset);
        assert_int_equal(a->entries[i].size, b->entries[i].size);
        assert_int_equal(a->entries[i].flags, b->entries[i].flags);
        assert_string_equal(a->entries[i].label, b->entries[i].label);
    }
}

/* ---- fixtures ------------------------------------------------------------ */

static const char *const fixtures[] = {
    "mp_4MiBplus", "mp_4MiB_legacy_vfs", "mp_4MiB_ota", "mp_2MiB",
};

static void csv_to_bin_matches(const char *csv_name, const char *bin_name)
{
    size_t csv_len, bin_len;
    char *csv = read_fixture(csv_name, &csv_len);
    char *bin = read_fixture(bin_name, &bin_len);
    assert_int_equal(bin_len, ESIM_PTABLE_MAX_LEN);
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(esim_ptable_parse_csv(csv, csv_len, &t, &err), ESP_OK);
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    uint8_t out[ESIM_PTABLE_MAX_LEN];
    write_binary(&t, true, out);
    assert_memory_equal(out, bin, ESIM_PTABLE_MAX_LEN);
    free(csv);
    free(bin);
}

static void test_fixtures_csv_to_binary(void **state)
{
    (void)state;
    char a[64], b[64];
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        snprintf(a, sizeof a, "%s.csv", fixtures[i]);
        snprintf(b, sizeof b, "%s.bin", fixtures[i]);
        csv_to_bin_matches(a, b);
    }
}

static void test_fixtures_decoded_csv_to_binary(void **state)
{
    (void)state;
    char a[64], b[64];
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        snprintf(a, sizeof a, "%s.decoded.csv", fixtures[i]);
        snprintf(b, sizeof b, "%s.bin", fixtures[i]);
        csv_to_bin_matches(a, b);
    }
}

static void test_fixtures_binary_to_csv(void **state)
{
    (void)state;
    char a[64], b[64];
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        snprintf(a, sizeof a, "%s.bin", fixtures[i]);
        snprintf(b, sizeof b, "%s.decoded.csv", fixtures[i]);
        size_t bin_len, csv_len;
        char *bin = read_fixture(a, &bin_len);
        char *csv = read_fixture(b, &csv_len);
        esim_ptable t;
        esim_ptable_error err;
        assert_int_equal(esim_ptable_parse_binary((uint8_t *)bin, bin_len, true, &t, &err), ESP_OK);
        assert_true(esim_ptable_binary_has_md5((uint8_t *)bin, bin_len));
        assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
        char text[1024];
        size_t n = esim_ptable_to_csv(&t, text, sizeof text);
        assert_int_equal(n, csv_len);
        assert_string_equal(text, csv);
        free(bin);
        free(csv);
    }
}

static void test_fixture_values(void **state)
{
    (void)state;
    size_t len;
    char *bin = read_fixture("mp_4MiB_ota.bin", &len);
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(esim_ptable_parse_binary((uint8_t *)bin, len, true, &t, &err), ESP_OK);
    assert_int_equal(t.count, 5);
    assert_string_equal(t.entries[1].label, "otadata");
    assert_int_equal(t.entries[1].type, ESIM_PART_TYPE_DATA);
    assert_int_equal(t.entries[1].subtype, ESIM_PART_SUBTYPE_DATA_OTA);
    assert_int_equal(t.entries[1].offset, 0xd000);
    assert_int_equal(t.entries[1].size, 0x2000);
    assert_int_equal(t.entries[4].subtype, ESIM_PART_SUBTYPE_APP_OTA_0 + 1);
    assert_int_equal(t.entries[4].offset, 0x190000);
    assert_int_equal(esim_ptable_end(&t), 0x310000);
    free(bin);
}

/* ---- built-in layouts ------------------------------------------------------ */

static void layout_matches(const char *name, const char *bin_name)
{
    const char *csv = esim_layout_csv(name);
    assert_non_null(csv);
    size_t len;
    char *bin = read_fixture(bin_name, &len);
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(parse_text(csv, &t, &err), ESP_OK);
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    uint8_t out[ESIM_PTABLE_MAX_LEN];
    write_binary(&t, true, out);
    assert_memory_equal(out, bin, ESIM_PTABLE_MAX_LEN);
    free(bin);
}

static void test_layouts(void **state)
{
    (void)state;
    layout_matches("default", "mp_4MiBplus.bin");
    layout_matches("ota", "mp_4MiB_ota.bin");
    assert_null(esim_layout_csv("nope"));
    assert_null(esim_layout_csv(NULL));
    /* the default layout leaves 0x200000.. free for MicroPython's vfs */
    esim_ptable t;
    assert_int_equal(parse_text(esim_layout_csv("default"), &t, NULL), ESP_OK);
    assert_int_equal(esim_ptable_end(&t), 0x200000);
}

/* ---- binary: malformed input ------------------------------------------------ */

static void test_binary_bad_magic(void **state)
{
    (void)state;
    esim_ptable t = default_table();
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    write_binary(&t, true, bin);
    bin[32] = 0xAB;   /* row 1 */
    esim_ptable back;
    esim_ptable_error err;
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &back, &err), ESP_ERR_INVALID_STATE);
    assert_int_equal(err.line, 1);
    assert_message_has(&err, "row 1");
    assert_message_has(&err, "magic");
    /* an 0xFFFF magic with a type other than 0xFF is not the end marker */
    write_binary(&t, false, bin);
    bin[0] = 0xFF;
    bin[1] = 0xFF;
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &back, &err), ESP_ERR_INVALID_STATE);
    assert_int_equal(err.line, 0);
}

static void test_binary_bad_md5(void **state)
{
    (void)state;
    esim_ptable t = default_table();
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    write_binary(&t, true, bin);
    bin[3 * 32 + 20] ^= 0x01;   /* digest byte */
    esim_ptable back;
    esim_ptable_error err;
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &back, &err), ESP_ERR_INVALID_CRC);
    assert_int_equal(err.line, 3);
    assert_message_has(&err, "MD5");
    /* a changed partition row breaks the digest too */
    write_binary(&t, true, bin);
    bin[2 * 32 + 8] = 0x10;
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &back, &err), ESP_ERR_INVALID_CRC);
}

static void test_binary_two_md5_rows(void **state)
{
    (void)state;
    esim_ptable t = default_table();
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    write_binary(&t, true, bin);
    set_row_md5(bin, 4);   /* a second, correctly computed MD5 row */
    esim_ptable_error err;
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &t, &err), ESP_ERR_INVALID_STATE);
    assert_int_equal(err.line, 4);
    assert_message_has(&err, "one MD5");
}

static void test_binary_md5_required(void **state)
{
    (void)state;
    esim_ptable t = default_table(), back;
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    esim_ptable_error err;
    write_binary(&t, false, bin);
    assert_false(esim_ptable_binary_has_md5(bin, sizeof bin));
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &back, &err), ESP_OK);
    assert_same_tables(&t, &back);
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, true, &back, &err), ESP_ERR_INVALID_CRC);
    assert_message_has(&err, "No MD5");
    write_binary(&t, true, bin);
    assert_true(esim_ptable_binary_has_md5(bin, sizeof bin));
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, true, &back, &err), ESP_OK);
    assert_same_tables(&t, &back);
}

static void test_binary_no_end_marker(void **state)
{
    (void)state;
    /* 96 partition rows fill the 0xC00 bytes: no room for the end marker */
    uint8_t bin[ESIM_PTABLE_MAX_LEN + 64];
    memset(bin, 0xFF, sizeof bin);
    for (size_t i = 0; i < ESIM_PTABLE_MAX_LEN / 32; i++) {
        esim_ptable one;
        one.count = 1;
        char name[17];
        snprintf(name, sizeof name, "p%zu", i);
        one.entries[0] = entry(name, 1, 0x81, 0x10000 + (uint32_t)i * 0x1000, 0x1000, 0);
        uint8_t row[ESIM_PTABLE_MAX_LEN];
        write_binary(&one, false, row);
        memcpy(bin + i * 32, row, 32);
    }
    esim_ptable t;
    esim_ptable_error err;
    /* even though an end marker follows at 0xC00 */
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &t, &err), ESP_ERR_INVALID_STATE);
    assert_message_has(&err, "end marker");
    assert_int_equal(esim_ptable_parse_binary(bin, ESIM_PTABLE_MAX_LEN, false, &t, &err),
                     ESP_ERR_INVALID_STATE);
    /* 95 rows and the end marker are fine */
    memset(bin + 95 * 32, 0xFF, 32);
    assert_int_equal(esim_ptable_parse_binary(bin, ESIM_PTABLE_MAX_LEN, false, &t, &err), ESP_OK);
    assert_int_equal(t.count, 95);
    assert_string_equal(t.entries[94].label, "p94");
}

static void test_binary_truncated(void **state)
{
    (void)state;
    esim_ptable t = default_table();
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    write_binary(&t, true, bin);
    esim_ptable_error err;
    /* 3 rows + MD5 + end marker = 160 bytes are needed */
    const size_t short_lens[] = { 0, 1, 31, 32, 100, 128, 159 };
    for (size_t i = 0; i < sizeof short_lens / sizeof short_lens[0]; i++) {
        /* copy into an exact-size heap buffer so ASan sees any over-read */
        uint8_t *copy = malloc(short_lens[i] ? short_lens[i] : 1);
        memcpy(copy, bin, short_lens[i]);
        assert_int_equal(esim_ptable_parse_binary(copy, short_lens[i], false, &t, &err),
                         ESP_ERR_INVALID_SIZE);
        assert_message_has(&err, "truncated");
        /* the MD5 row is row 3: seen only when its 32 bytes are there */
        assert_int_equal(esim_ptable_binary_has_md5(copy, short_lens[i]), short_lens[i] >= 128);
        free(copy);
    }
    uint8_t *exact = malloc(160);
    memcpy(exact, bin, 160);
    assert_int_equal(esim_ptable_parse_binary(exact, 160, true, &t, &err), ESP_OK);
    assert_int_equal(t.count, 3);
    free(exact);
    assert_int_equal(esim_ptable_parse_binary(NULL, 0, false, &t, &err), ESP_ERR_INVALID_SIZE);
}

static void test_binary_empty(void **state)
{
    (void)state;
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    memset(bin, 0xFF, sizeof bin);
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &t, &err), ESP_ERR_INVALID_STATE);
    assert_message_has(&err, "empty");
    /* an MD5 row over nothing is still an empty table */
    set_row_md5(bin, 0);
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &t, &err), ESP_ERR_INVALID_STATE);
    assert_message_has(&err, "empty");
    /* an empty table cannot be written either way that parses */
    esim_ptable none = { 0 };
    write_binary(&none, true, bin);
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &t, &err), ESP_ERR_INVALID_STATE);
}

static void test_binary_labels(void **state)
{
    (void)state;
    esim_ptable t = default_table(), back;
    snprintf(t.entries[0].label, sizeof t.entries[0].label, "%s", "sixteen_chars_ab");
    assert_int_equal(strlen(t.entries[0].label), 16);
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    write_binary(&t, true, bin);
    /* 16 bytes of label, no terminator in the row */
    assert_memory_equal(bin + 12, "sixteen_chars_ab", 16);
    assert_int_equal(bin[28], 0);
    esim_ptable_error err;
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, true, &back, &err), ESP_OK);
    assert_string_equal(back.entries[0].label, "sixteen_chars_ab");
    assert_int_equal(esim_ptable_verify(&back, FLASH_4MB, &err), ESP_OK);
    /* bytes after the first NUL are ignored */
    write_binary(&t, false, bin);
    memcpy(bin + 12, "ab\0zz", 5);
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &back, &err), ESP_OK);
    assert_string_equal(back.entries[0].label, "ab");
}

static void test_binary_flags(void **state)
{
    (void)state;
    esim_ptable t = default_table(), back;
    t.entries[0].flags = ESIM_PART_FLAG_READONLY;
    t.entries[2].flags = ESIM_PART_FLAG_ENCRYPTED;
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    write_binary(&t, true, bin);
    assert_int_equal(bin[28], 2);
    assert_int_equal(bin[2 * 32 + 28], 1);
    esim_ptable_error err;
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, true, &back, &err), ESP_OK);
    assert_same_tables(&t, &back);
    /* unknown flag bits are dropped, like the tool does */
    write_binary(&t, false, bin);
    bin[1 * 32 + 28] = 0xF4;
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &back, &err), ESP_OK);
    assert_int_equal(back.entries[1].flags, 0);
}

/* ---- verify -------------------------------------------------------------------- */

static void expect_verify_error(const esim_ptable *t, uint32_t flash, const char *needle)
{
    esim_ptable_error err;
    assert_int_equal(esim_ptable_verify(t, flash, &err), ESP_ERR_INVALID_ARG);
    assert_message_has(&err, needle);
}

static void test_verify_overlap(void **state)
{
    (void)state;
    esim_ptable t = default_table();
    t.entries[1].offset = 0xe000;   /* phy_init inside nvs (0x9000-0xEFFF) */
    expect_verify_error(&t, FLASH_4MB, "overlaps");
    expect_verify_error(&t, FLASH_4MB, "0x9000-0xefff");
    /* order in the table does not matter: sorted by offset */
    t = default_table();
    t.entries[0] = entry("late", 1, 0x81, 0x1F0000, 0x20000, 0);
    expect_verify_error(&t, FLASH_4MB, "late");
}

static void test_verify_alignment(void **state)
{
    (void)state;
    esim_ptable t = default_table();
    t.entries[2].offset = 0x11000;   /* app: 64 KiB alignment */
    t.entries[2].size = 0x1E0000;
    expect_verify_error(&t, FLASH_4MB, "not aligned to 0x10000");
    t = default_table();
    t.entries[1].offset = 0xf800;    /* data: 4 KiB alignment */
    t.entries[1].size = 0x800;
    expect_verify_error(&t, FLASH_4MB, "Offset 0xf800 is not aligned to 0x1000");
    t = default_table();
    t.entries[2].size = 0x1EF800;    /* app size: multiple of 4 KiB */
    expect_verify_error(&t, FLASH_4MB, "Size 0x1ef800");
    t = default_table();
    t.entries[1].size = 0x800;       /* data size: free */
    esim_ptable_error err;
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
}

static void test_verify_labels(void **state)
{
    (void)state;
    esim_ptable t = default_table();
    snprintf(t.entries[2].label, sizeof t.entries[2].label, "nvs");
    expect_verify_error(&t, FLASH_4MB, "unique");
    expect_verify_error(&t, FLASH_4MB, "'nvs'");
    t = default_table();
    t.entries[1].label[0] = '\0';
    expect_verify_error(&t, FLASH_4MB, "empty");
    t = default_table();
    memset(t.entries[1].label, 'x', sizeof t.entries[1].label);   /* no terminator at all */
    expect_verify_error(&t, FLASH_4MB, "longer than 16");
}

static void test_verify_placement(void **state)
{
    (void)state;
    esim_ptable t = default_table();
    t.entries[0].offset = 0x8000;
    t.entries[0].size = 0x7000;
    expect_verify_error(&t, FLASH_4MB, "below 0x9000");
    t = default_table();
    expect_verify_error(&t, 2 * MiB - 1, "does not fit");
    esim_ptable_error err;
    assert_int_equal(esim_ptable_verify(&t, 2 * MiB, &err), ESP_OK);
    assert_int_equal(esim_ptable_verify(&t, 0, &err), ESP_OK);   /* 0: not checked */
    /* the primary partition table pseudo-entry sits at 0x8000 legally */
    t.entries[3] = entry("ptable", ESIM_PART_TYPE_PTABLE, 0, 0x8000, 0x1000, 0);
    t.count = 4;
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    t.entries[3].subtype = 1;
    expect_verify_error(&t, FLASH_4MB, "below");
}

static void test_verify_otadata(void **state)
{
    (void)state;
    esim_ptable t;
    assert_int_equal(parse_text(esim_layout_csv("ota"), &t, NULL), ESP_OK);
    t.entries[1].size = 0x1000;
    expect_verify_error(&t, FLASH_4MB, "0x2000");
    assert_int_equal(parse_text(esim_layout_csv("ota"), &t, NULL), ESP_OK);
    t.entries[2] = entry("otadata2", 1, 0, 0xf000, 0x2000, 0);
    t.entries[3].offset = 0x20000;
    t.entries[4].offset = 0x1A0000;
    expect_verify_error(&t, FLASH_4MB, "multiple otadata");
}

static void test_verify_readonly_rules(void **state)
{
    (void)state;
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(parse_text(esim_layout_csv("ota"), &t, NULL), ESP_OK);
    t.entries[1].flags = ESIM_PART_FLAG_READONLY;   /* otadata */
    expect_verify_error(&t, FLASH_4MB, "cannot be readonly");
    t = default_table();
    t.entries[3] = entry("coredump", 1, 0x03, 0x200000, 0x10000, ESIM_PART_FLAG_READONLY);
    t.count = 4;
    expect_verify_error(&t, FLASH_4MB, "cannot be readonly");
    t.entries[3].flags = 0;
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    /* a small NVS must be readonly */
    t = default_table();
    t.entries[0].size = 0x2000;
    expect_verify_error(&t, FLASH_4MB, "NVS");
    t.entries[0].flags = ESIM_PART_FLAG_READONLY;
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    t.entries[0].flags = 0;
    t.entries[0].size = 0x3000;
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
}

static void test_verify_count(void **state)
{
    (void)state;
    esim_ptable t = default_table();
    t.count = ESIM_PTABLE_MAX_ENTRIES + 1;
    expect_verify_error(&t, 0, "at most 95");
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    esim_ptable_error err;
    assert_int_equal(esim_ptable_to_binary(&t, false, bin, &err), ESP_ERR_INVALID_SIZE);
}

/* ---- capacity: 94 with MD5, 95 without ---------------------------------------- */

static void make_many(esim_ptable *t, size_t n)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        char name[17];
        snprintf(name, sizeof name, "part%zu", i);
        t->entries[i] = entry(name, 1, 0x81, 0x10000 + (uint32_t)i * 0x1000, 0x1000, 0);
    }
    t->count = n;
}

static void test_capacity(void **state)
{
    (void)state;
    esim_ptable t, back;
    esim_ptable_error err;
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    make_many(&t, 94);
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    assert_int_equal(esim_ptable_to_binary(&t, true, bin, &err), ESP_OK);
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, true, &back, &err), ESP_OK);
    assert_same_tables(&t, &back);
    make_many(&t, 95);
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    assert_int_equal(esim_ptable_to_binary(&t, true, bin, &err), ESP_ERR_INVALID_SIZE);
    assert_message_has(&err, "3072");
    assert_int_equal(esim_ptable_to_binary(&t, false, bin, &err), ESP_OK);
    assert_int_equal(esim_ptable_parse_binary(bin, sizeof bin, false, &back, &err), ESP_OK);
    assert_same_tables(&t, &back);
}

static void test_capacity_csv(void **state)
{
    (void)state;
    size_t cap = 96 * 40 + 1;
    char *text = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < 96; i++)
        len += (size_t)snprintf(text + len, cap - len, "p%d,data,fat,,4K\n", i);
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(parse_text(text, &t, &err), ESP_ERR_INVALID_ARG);
    assert_int_equal(err.line, 96);
    assert_message_has(&err, "more than 95");
    /* cut the last line: 95 rows parse */
    text[len - strlen("p95,data,fat,,4K\n")] = '\0';
    assert_int_equal(parse_text(text, &t, &err), ESP_OK);
    assert_int_equal(t.count, 95);
    assert_int_equal(t.entries[94].offset, 0x9000 + 94 * 0x1000);
    free(text);
}

/* ---- CSV features ------------------------------------------------------------------ */

static void test_csv_auto_offsets(void **state)
{
    (void)state;
    const char *csv =
        "# auto offsets\n"
        "nvs,      data, nvs,     , 0x6000\n"
        "phy_init, data, phy,     , 0x1000\n"
        "factory,  app,  factory, , 1M\n"
        "small,    data, fat,     , 0x800\n"
        "after,    data, spiffs,  , 4K\n"
        "app2,     app,  ota_0,   , 64K\n";
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(parse_text(csv, &t, &err), ESP_OK);
    assert_int_equal(t.count, 6);
    assert_int_equal(t.entries[0].offset, 0x9000);
    assert_int_equal(t.entries[1].offset, 0xf000);
    assert_int_equal(t.entries[2].offset, 0x10000);
    assert_int_equal(t.entries[3].offset, 0x110000);
    assert_int_equal(t.entries[4].offset, 0x111000);   /* 0x110800 rounded to 4 KiB */
    assert_int_equal(t.entries[5].offset, 0x120000);   /* 0x112000 rounded to 64 KiB */
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    /* the first app after the 0x9000 start goes to 0x10000 */
    assert_int_equal(parse_text("a, app, factory, , 0x10000", &t, &err), ESP_OK);
    assert_int_equal(t.entries[0].offset, 0x10000);
}

static void test_csv_negative_size(void **state)
{
    (void)state;
    const char *csv =
        "nvs,     data, nvs,     0x9000,  0x6000\n"
        "factory, app,  factory, 0x10000, -0x200000\n"
        "vfs,     data, fat,     ,        -4M\n";
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(parse_text(csv, &t, &err), ESP_OK);
    assert_int_equal(t.entries[1].size, 0x1F0000);
    assert_int_equal(t.entries[2].offset, 0x200000);
    assert_int_equal(t.entries[2].size, 0x200000);
    assert_int_equal(esim_ptable_end(&t), FLASH_4MB);
    assert_int_equal(parse_text("x, data, fat, 0x20000, -0x10000", &t, &err), ESP_ERR_INVALID_ARG);
    assert_int_equal(err.line, 1);
    assert_message_has(&err, "below the offset");
}

static void test_csv_numbers_and_keywords(void **state)
{
    (void)state;
    const char *csv =
        "a, 0x40,  0x8f,    0x10000, 64k\n"
        "b, DATA,  NVS,     0o400000, 0b1000000000000000\n"
        "c, Data,  ,        1_60K,   1_024\n"
        "d, 1,     129,     0x4A_0000, 0x10_000\n"
        "e, app,   OTA_15,  0x500000, 1m\n"
        "f, app,   test,    +0x600000, 1M\n"
        "g, data,  littlefs, 0x700000, 1M\n"
        "h, 64,    0,       8388608, 0\n"
        "i, 0x40,  00,      0x800000, 4 K\n";
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(parse_text(csv, &t, &err), ESP_OK);
    assert_int_equal(t.count, 9);
    assert_int_equal(t.entries[0].type, 0x40);
    assert_int_equal(t.entries[0].subtype, 0x8f);
    assert_int_equal(t.entries[0].size, 0x10000);
    assert_int_equal(t.entries[1].type, 1);
    assert_int_equal(t.entries[1].subtype, 2);
    assert_int_equal(t.entries[1].offset, 0x20000);
    assert_int_equal(t.entries[1].size, 0x8000);
    assert_int_equal(t.entries[2].subtype, 0x06);       /* empty data subtype: undefined */
    assert_int_equal(t.entries[2].offset, 0x28000);
    assert_int_equal(t.entries[2].size, 1024);
    assert_int_equal(t.entries[3].subtype, 0x81);
    assert_int_equal(t.entries[3].offset, 0x4A0000);
    assert_int_equal(t.entries[3].size, 0x10000);
    assert_int_equal(t.entries[4].subtype, 0x1F);
    assert_int_equal(t.entries[4].size, MiB);
    assert_int_equal(t.entries[5].subtype, 0x20);
    assert_int_equal(t.entries[5].offset, 0x600000);
    assert_int_equal(t.entries[6].subtype, 0x83);
    assert_int_equal(t.entries[7].type, 64);
    assert_int_equal(t.entries[7].offset, 0x800000);
    assert_int_equal(t.entries[7].size, 0);
    assert_int_equal(t.entries[8].offset, 0x800000);
    assert_int_equal(t.entries[8].size, 4096);
}

static void test_csv_flags(void **state)
{
    (void)state;
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(parse_text("a, data, nvs, 0x9000, 0x2000, readonly:encrypted\n"
                                "b, app, factory, 0x10000, 1M, encrypted\n"
                                "c, data, fat, , 1M, :readonly:\n", &t, &err), ESP_OK);
    assert_int_equal(t.entries[0].flags, ESIM_PART_FLAG_READONLY | ESIM_PART_FLAG_ENCRYPTED);
    assert_int_equal(t.entries[1].flags, ESIM_PART_FLAG_ENCRYPTED);
    assert_int_equal(t.entries[2].flags, ESIM_PART_FLAG_READONLY);
    char text[512];
    esim_ptable_to_csv(&t, text, sizeof text);
    assert_non_null(strstr(text, "a,data,nvs,0x9000,8K,encrypted:readonly\n"));
    assert_non_null(strstr(text, "b,app,factory,0x10000,1M,encrypted\n"));
    assert_non_null(strstr(text, "c,data,fat,0x110000,1M,readonly\n"));
    /* unknown flags, and flags with spaces inside the column, are errors */
    assert_int_equal(parse_text("a, data, nvs, 0x9000, 0x6000, secret", &t, &err), ESP_ERR_INVALID_ARG);
    assert_message_has(&err, "unknown flag 'secret'");
    assert_int_equal(parse_text("a, data, nvs, 0x9000, 0x6000, encrypted: readonly", &t, &err),
                     ESP_ERR_INVALID_ARG);
    assert_message_has(&err, "' readonly'");
    assert_int_equal(parse_text("a, data, nvs, 0x9000, 0x6000, Readonly", &t, &err), ESP_ERR_INVALID_ARG);
}

static void test_csv_text_details(void **state)
{
    (void)state;
    esim_ptable t;
    esim_ptable_error err;
    /* BOM, CRLF, blank lines, indented comments, short lines, extra fields */
    const char *csv =
        "\xEF\xBB\xBF# comment\r\n"
        "\r\n"
        "   \t\n"
        "   # indented comment\n"
        "  nvs , data , nvs , 0x9000 , 0x6000  \r\n"
        "phy_init,data,phy,0xf000,0x1000,,ignored,too\n"
        "factory,app,factory,0x10000,0x1F0000";
    assert_int_equal(parse_text(csv, &t, &err), ESP_OK);
    esim_ptable d = default_table();
    assert_same_tables(&t, &d);
    /* old Mac line ends count as lines too */
    assert_int_equal(parse_text("# x\rnvs,data,nvs,0x9000\r", &t, &err), ESP_ERR_INVALID_ARG);
    assert_int_equal(err.line, 2);
    /* an empty text is an empty table (verify then has nothing to complain about) */
    assert_int_equal(esim_ptable_parse_csv("", 0, &t, &err), ESP_OK);
    assert_int_equal(t.count, 0);
    /* text is bounded by len, not by a NUL */
    const char two[] = "a,data,nvs,0x9000,0x6000\nb,data,nvs,,0x6000\n";
    assert_int_equal(esim_ptable_parse_csv(two, 25, &t, &err), ESP_OK);
    assert_int_equal(t.count, 1);
    assert_int_equal(esim_ptable_parse_csv(two, sizeof two, &t, &err), ESP_ERR_INVALID_ARG);
    assert_message_has(&err, "NUL");
}

static void expect_csv_error(const char *csv, int line, const char *needle)
{
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(parse_text(csv, &t, &err), ESP_ERR_INVALID_ARG);
    if (err.line != line)
        fail_msg("\"%s\": line %d, expected %d (%s)", csv, err.line, line, err.message);
    assert_message_has(&err, needle);
    char where[32];
    snprintf(where, sizeof where, "line %d", line);
    assert_message_has(&err, where);
}

static void test_csv_bad_fields(void **state)
{
    (void)state;
    const char *head = "nvs, data, nvs, 0x9000, 0x6000\n";
    char csv[256];
    struct { const char *row; const char *needle; } cases[] = {
        { "x, , nvs, , 0x1000", "type" },
        { "x, dta, nvs, , 0x1000", "'dta'" },
        { "x, 0x100, 0, , 0x1000", "out of range" },
        { "x, -1, 0, , 0x1000", "out of range" },
        { "x, data, nvz, , 0x1000", "'nvz'" },
        { "x, data, factory, , 0x1000", "'factory'" },   /* an app keyword on data */
        { "x, app, , , 0x10000", "empty subtype" },
        { "x, 0x40, fat, , 0x1000", "'fat'" },           /* custom types have no keywords */
        { "x, data, 0x1ff, , 0x1000", "out of range" },
        { "x, data, fat, 0x1g000, 0x1000", "offset '0x1g000'" },
        { "x, data, fat, 010000, 0x1000", "offset '010000'" },
        { "x, data, fat, 0x1__0000, 0x1000", "not a number" },
        { "x, data, fat, 0x100000000, 0x1000", "32 bits" },
        { "x, data, fat, -0x10000, 0x1000", "negative" },
        { "x, data, fat, 0x10000", "size" },
        { "x, data, fat, 0x10000, ", "size" },
        { "x, data, fat, 0x10000, 4KB", "size '4KB'" },
        { "x, data, fat, 0x10000, 5G", "size '5G'" },
        { "x, data, fat, 0x10000, 0x1000, bogus", "bogus" },
        { "seventeen_chars_x, data, fat, , 0x1000", "longer than 16" },
        { "x, data, fat, $OFFSET, 0x1000", "environment variables" },
        { "x, data, fat, ${OFFSET}, 0x1000", "not expanded" },
        { "x, data, fat, 0x9000, 0x1000", "overlap" },    /* below the end of nvs */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(csv, sizeof csv, "%s# comment\n%s\n", head, cases[i].row);
        expect_csv_error(csv, 3, cases[i].needle);
    }
    /* the first partition may not start inside the table sector */
    expect_csv_error("\n\nnvs, data, nvs, 0x8000, 0x1000\n", 3, "0x9000");
}

static void test_csv_label_lengths(void **state)
{
    (void)state;
    esim_ptable t;
    esim_ptable_error err;
    assert_int_equal(parse_text("sixteen_chars_ab, data, nvs, 0x9000, 0x6000", &t, &err), ESP_OK);
    assert_string_equal(t.entries[0].label, "sixteen_chars_ab");
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    write_binary(&t, true, bin);
    assert_memory_equal(bin + 12, "sixteen_chars_ab", 16);
    assert_int_equal(parse_text("seventeen_chars_x, data, nvs, 0x9000, 0x6000", &t, &err),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(err.line, 1);
    /* an empty name parses but does not verify */
    assert_int_equal(parse_text(", data, nvs, 0x9000, 0x6000", &t, &err), ESP_OK);
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_ERR_INVALID_ARG);
    assert_message_has(&err, "empty");
}

static void test_csv_dollar_in_comment(void **state)
{
    (void)state;
    esim_ptable t;
    esim_ptable_error err;
    /* comments are not data; a '$' not followed by a name is literal */
    assert_int_equal(parse_text("# costs $HOME\nnvs$, data, nvs, 0x9000, 0x6000", &t, &err), ESP_OK);
    assert_string_equal(t.entries[0].label, "nvs$");
}

static void test_csv_pseudo_entries(void **state)
{
    (void)state;
    esim_ptable t;
    esim_ptable_error err;
    const char *csv =
        "bootloader, bootloader, primary, , \n"
        "ptable, partition_table, primary, 0x1234, 99\n"
        "nvs, data, nvs, , 0x6000\n";
    assert_int_equal(parse_text(csv, &t, &err), ESP_OK);
    assert_int_equal(t.entries[0].offset, 0x1000);
    assert_int_equal(t.entries[0].size, 0x7000);
    assert_int_equal(t.entries[1].type, ESIM_PART_TYPE_PTABLE);
    assert_int_equal(t.entries[1].offset, 0x8000);
    assert_int_equal(t.entries[1].size, 0x1000);
    assert_int_equal(t.entries[2].offset, 0x9000);   /* they do not move the auto offset */
    assert_int_equal(esim_ptable_verify(&t, FLASH_4MB, &err), ESP_OK);
    char text[512];
    esim_ptable_to_csv(&t, text, sizeof text);
    assert_non_null(strstr(text, "bootloader,bootloader,primary,0x1000,28K,\n"));
    assert_non_null(strstr(text, "ptable,partition_table,primary,0x8000,4K,\n"));
}

/* ---- CSV output ------------------------------------------------------------------- */

static void test_to_csv_format(void **state)
{
    (void)state;
    esim_ptable t;
    memset(&t, 0, sizeof t);
    t.entries[0] = entry("romfs", 1, 0x8f, 0x200000, 0x100100, 0);
    t.entries[1] = entry("custom", 0x40, 7, 0x400000, 0x400, 0);
    t.entries[2] = entry("zero", 1, 0x81, 0x500000, 0, 0);
    t.entries[3] = entry("t0", 0, 0x30, 0x510000, 0x10000, 0);
    t.count = 4;
    const char *expected =
        "# ESP-IDF Partition Table\n"
        "# Name, Type, SubType, Offset, Size, Flags\n"
        "romfs,data,143,0x200000,0x100100,\n"
        "custom,64,7,0x400000,1K,\n"
        "zero,data,fat,0x500000,0M,\n"
        "t0,app,tee_0,0x510000,64K,\n";
    char text[512];
    size_t n = esim_ptable_to_csv(&t, text, sizeof text);
    assert_int_equal(n, strlen(expected));
    assert_string_equal(text, expected);
    /* snprintf-style: the length is reported even when cut short */
    char small[20];
    assert_int_equal(esim_ptable_to_csv(&t, small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, expected, sizeof small - 1);
    assert_int_equal(esim_ptable_to_csv(&t, NULL, 0), n);
    /* and it reads back to the same table */
    esim_ptable back;
    esim_ptable_error err;
    assert_int_equal(parse_text(text, &back, &err), ESP_OK);
    assert_same_tables(&t, &back);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(esim_ptable_type_name(0), "app");
    assert_string_equal(esim_ptable_type_name(1), "data");
    assert_string_equal(esim_ptable_type_name(2), "bootloader");
    assert_string_equal(esim_ptable_type_name(3), "partition_table");
    assert_null(esim_ptable_type_name(0x40));
    assert_string_equal(esim_ptable_subtype_name(0, 0x00), "factory");
    assert_string_equal(esim_ptable_subtype_name(0, 0x1A), "ota_10");
    assert_string_equal(esim_ptable_subtype_name(0, 0x20), "test");
    assert_null(esim_ptable_subtype_name(0, 0x21));
    assert_string_equal(esim_ptable_subtype_name(1, 0x00), "ota");
    assert_string_equal(esim_ptable_subtype_name(1, 0x04), "nvs_keys");
    assert_string_equal(esim_ptable_subtype_name(1, 0x06), "undefined");
    assert_string_equal(esim_ptable_subtype_name(1, 0x82), "spiffs");
    assert_string_equal(esim_ptable_subtype_name(1, 0x83), "littlefs");
    assert_null(esim_ptable_subtype_name(1, 0x8f));
    assert_string_equal(esim_ptable_subtype_name(2, 0x01), "ota");
    assert_string_equal(esim_ptable_subtype_name(3, 0x00), "primary");
    assert_null(esim_ptable_subtype_name(0x40, 0x00));
}

static void test_end(void **state)
{
    (void)state;
    esim_ptable t = { 0 };
    assert_int_equal(esim_ptable_end(&t), 0);
    t = default_table();
    assert_int_equal(esim_ptable_end(&t), 0x200000);
    t.entries[0] = entry("top", 1, 0x81, 0xFFFF0000u, 0x20000, 0);   /* past 4 GiB: clamped */
    assert_int_equal(esim_ptable_end(&t), UINT32_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_csv_to_binary),
        cmocka_unit_test(test_fixtures_decoded_csv_to_binary),
        cmocka_unit_test(test_fixtures_binary_to_csv),
        cmocka_unit_test(test_fixture_values),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_binary_bad_magic),
        cmocka_unit_test(test_binary_bad_md5),
        cmocka_unit_test(test_binary_two_md5_rows),
        cmocka_unit_test(test_binary_md5_required),
        cmocka_unit_test(test_binary_no_end_marker),
        cmocka_unit_test(test_binary_truncated),
        cmocka_unit_test(test_binary_empty),
        cmocka_unit_test(test_binary_labels),
        cmocka_unit_test(test_binary_flags),
        cmocka_unit_test(test_verify_overlap),
        cmocka_unit_test(test_verify_alignment),
        cmocka_unit_test(test_verify_labels),
        cmocka_unit_test(test_verify_placement),
        cmocka_unit_test(test_verify_otadata),
        cmocka_unit_test(test_verify_readonly_rules),
        cmocka_unit_test(test_verify_count),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_capacity_csv),
        cmocka_unit_test(test_csv_auto_offsets),
        cmocka_unit_test(test_csv_negative_size),
        cmocka_unit_test(test_csv_numbers_and_keywords),
        cmocka_unit_test(test_csv_flags),
        cmocka_unit_test(test_csv_text_details),
        cmocka_unit_test(test_csv_bad_fields),
        cmocka_unit_test(test_csv_label_lengths),
        cmocka_unit_test(test_csv_dollar_in_comment),
        cmocka_unit_test(test_csv_pseudo_entries),
        cmocka_unit_test(test_to_csv_format),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
