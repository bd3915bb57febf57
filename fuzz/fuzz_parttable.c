/* libFuzzer target for the partition table parsers.
 *
 * Every input is tried twice: as a binary table and as CSV text. Whatever
 * parses must survive a round trip through the writers unchanged; any
 * difference aborts, so libFuzzer records the input as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/parttable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *why, const esim_ptable_error *err)
{
    fprintf(stderr, "fuzz_parttable: %s (%s)\n", why, err ? err->message : "");
    abort();
}

static void must_equal(const esim_ptable *a, const esim_ptable *b, const char *where)
{
    if (a->count != b->count)
        die(where, NULL);
    for (size_t i = 0; i < a->count; i++) {
        const esim_part_entry *x = &a->entries[i], *y = &b->entries[i];
        if (x->type != y->type || x->subtype != y->subtype || x->offset != y->offset
            || x->size != y->size || x->flags != y->flags || strcmp(x->label, y->label) != 0)
            die(where, NULL);
    }
}

/* Text from esim_ptable_to_csv, NUL-terminated; caller frees. */
static char *csv_text(const esim_ptable *t, size_t *len)
{
    *len = esim_ptable_to_csv(t, NULL, 0);
    char *text = malloc(*len + 1);
    if (!text)
        abort();
    if (esim_ptable_to_csv(t, text, *len + 1) != *len || strlen(text) != *len)
        die("to_csv length changed between calls", NULL);
    return text;
}

/* Can a table read from binary be written as CSV and read back the same?
 * Not when a label holds CSV syntax, when offsets are out of order (the CSV
 * reader rejects that), or for pseudo-entries whose place the reader fixes. */
static bool label_is_plain(const char *label)
{
    for (const char *p = label; *p; p++)
        if (*p <= ' ' || *p > '~' || *p == ',' || *p == '$' || *p == '#')
            return false;
    return true;
}

static bool csv_round_trip_applies(const esim_ptable *t)
{
    uint64_t last_end = ESIM_PTABLE_OFFSET + 0x1000u;
    for (size_t i = 0; i < t->count; i++) {
        const esim_part_entry *e = &t->entries[i];
        if (!label_is_plain(e->label) || e->type == ESIM_PART_TYPE_BOOTLOADER
            || e->type == ESIM_PART_TYPE_PTABLE || e->offset < last_end)
            return false;
        last_end = (uint64_t)e->offset + e->size;
    }
    return true;
}

static void check_csv_round_trip(const esim_ptable *t, const char *where)
{
    size_t len;
    char *text = csv_text(t, &len);
    esim_ptable back;
    esim_ptable_error err;
    if (esim_ptable_parse_csv(text, len, &back, &err) != ESP_OK)
        die(where, &err);
    must_equal(t, &back, where);
    free(text);
}

static void check_binary_round_trip(const esim_ptable *t, bool md5, const char *where)
{
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    esim_ptable back;
    esim_ptable_error err;
    if (esim_ptable_to_binary(t, md5, bin, &err) != ESP_OK)
        die(where, &err);
    if (esim_ptable_parse_binary(bin, sizeof bin, md5, &back, &err) != ESP_OK)
        die(where, &err);
    if (esim_ptable_binary_has_md5(bin, sizeof bin) != md5)
        die("has_md5 disagrees with the writer", NULL);
    must_equal(t, &back, where);
}

static void fuzz_binary(const uint8_t *data, size_t size)
{
    esim_ptable t;
    esim_ptable_error err;
    bool md5 = esim_ptable_binary_has_md5(data, size);
    if (esim_ptable_parse_binary(data, size, false, &t, &err) != ESP_OK)
        return;
    (void)esim_ptable_verify(&t, 4u * 1024 * 1024, &err);
    (void)esim_ptable_end(&t);
    check_binary_round_trip(&t, md5, "binary -> binary");
    size_t len;
    free(csv_text(&t, &len));
    if (csv_round_trip_applies(&t))
        check_csv_round_trip(&t, "binary -> csv -> table");
}

static void fuzz_csv(const uint8_t *data, size_t size)
{
    esim_ptable t;
    esim_ptable_error err;
    if (esim_ptable_parse_csv((const char *)data, size, &t, &err) != ESP_OK || t.count == 0)
        return;
    (void)esim_ptable_verify(&t, 0, &err);
    /* 95 rows leave no room for the MD5 row */
    check_binary_round_trip(&t, t.count < ESIM_PTABLE_MAX_ENTRIES, "csv -> binary -> table");
    check_csv_round_trip(&t, "csv -> csv -> table");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_binary(data, size);
    fuzz_csv(data, size);
    return 0;
}
