/* esp32sim — the binary partition table: parse, verify, write, names.
 *
 * The table lives in the flash sector at 0x8000. Its first 0xC00 bytes are
 * 32-byte rows: partitions (magic AA 50), an optional MD5 row (magic EB EB)
 * and an end marker (FF FF FF FF ...). docs/partition-table.md draws the
 * bytes; the CSV side is in parttable_csv.c. */
#include "esp32sim/parttable.h"
#include "parttable_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md5.h>

#define ROW_COUNT        (ESIM_PTABLE_MAX_LEN / ESIM_PTABLE_ENTRY_SIZE)  /* 96 */
#define MAGIC_ENTRY      0x50AAu
#define MAGIC_MD5        0xEBEBu
#define MAGIC_END        0xFFFFu
#define MD5_LEN          16u
#define MD5_OFFSET       16u           /* digest position inside the MD5 row */
#define FIRST_FREE       (ESIM_PTABLE_OFFSET + 0x1000u)  /* 0x9000 */
#define APP_ALIGN        0x10000u
#define DATA_ALIGN       0x1000u
#define APP_SIZE_ALIGN   0x1000u
#define OTADATA_SIZE     0x2000u
#define NVS_RW_MIN_SIZE  0x3000u
#define KNOWN_FLAGS      (ESIM_PART_FLAG_ENCRYPTED | ESIM_PART_FLAG_READONLY)

#define SUBTYPE_DATA_COREDUMP 0x03
#define SUBTYPE_PRIMARY       0x00  /* bootloader and partition_table */

/* ---- errors ------------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static esp_err_t report(esim_ptable_error *err, esp_err_t code, int line, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->line = line;
    return code;
}

static void clear_error(esim_ptable_error *err)
{
    if (!err)
        return;
    err->line = -1;
    err->message[0] = '\0';
}

/* ---- names -------------------------------------------------------------- */

typedef struct {
    uint8_t value;
    const char *name;
} name_entry;

static const name_entry type_names[] = {
    { ESIM_PART_TYPE_APP, "app" },
    { ESIM_PART_TYPE_DATA, "data" },
    { ESIM_PART_TYPE_BOOTLOADER, "bootloader" },
    { ESIM_PART_TYPE_PTABLE, "partition_table" },
};

static const name_entry app_subtype_names[] = {
    { 0x00, "factory" },
    { 0x10, "ota_0" },  { 0x11, "ota_1" },  { 0x12, "ota_2" },  { 0x13, "ota_3" },
    { 0x14, "ota_4" },  { 0x15, "ota_5" },  { 0x16, "ota_6" },  { 0x17, "ota_7" },
    { 0x18, "ota_8" },  { 0x19, "ota_9" },  { 0x1A, "ota_10" }, { 0x1B, "ota_11" },
    { 0x1C, "ota_12" }, { 0x1D, "ota_13" }, { 0x1E, "ota_14" }, { 0x1F, "ota_15" },
    { 0x20, "test" },
    { 0x30, "tee_0" },  { 0x31, "tee_1" },
};

static const name_entry data_subtype_names[] = {
    { 0x00, "ota" },      { 0x01, "phy" },       { 0x02, "nvs" },
    { 0x03, "coredump" }, { 0x04, "nvs_keys" },  { 0x05, "efuse" },
    { 0x06, "undefined" },
    { 0x80, "esphttpd" }, { 0x81, "fat" },       { 0x82, "spiffs" },
    { 0x83, "littlefs" }, { 0x90, "tee_ota" },
};

/* bootloader and partition_table share their two subtypes */
static const name_entry pseudo_subtype_names[] = {
    { 0x00, "primary" },
    { 0x01, "ota" },
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *lookup_name(const name_entry *table, size_t n, uint8_t value)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].value == value)
            return table[i].name;
    return NULL;
}

const char *esim_ptable_type_name(uint8_t type)
{
    return lookup_name(type_names, COUNT_OF(type_names), type);
}

const char *esim_ptable_subtype_name(uint8_t type, uint8_t subtype)
{
    switch (type) {
    case ESIM_PART_TYPE_APP:
        return lookup_name(app_subtype_names, COUNT_OF(app_subtype_names), subtype);
    case ESIM_PART_TYPE_DATA:
        return lookup_name(data_subtype_names, COUNT_OF(data_subtype_names), subtype);
    case ESIM_PART_TYPE_BOOTLOADER:
    case ESIM_PART_TYPE_PTABLE:
        return lookup_name(pseudo_subtype_names, COUNT_OF(pseudo_subtype_names), subtype);
    default:
        return NULL;
    }
}

/* ---- little-endian fields ------------------------------------------------ */

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- binary parse --------------------------------------------------------- */

static bool is_end_row(const uint8_t *row)
{
    return get_le16(row) == MAGIC_END && row[2] == 0xFF && row[3] == 0xFF;
}

static void decode_entry(const uint8_t *row, esim_part_entry *e)
{
    memset(e, 0, sizeof *e);
    e->type = row[2];
    e->subtype = row[3];
    e->offset = get_le32(row + 4);
    e->size = get_le32(row + 8);
    memcpy(e->label, row + 12, ESIM_PTABLE_LABEL_MAX);
    e->label[ESIM_PTABLE_LABEL_MAX] = '\0';
    /* bytes after the first NUL are padding; clear them for clean compares */
    size_t n = strlen(e->label);
    memset(e->label + n, 0, sizeof e->label - n);
    e->flags = get_le32(row + 28) & KNOWN_FLAGS;
}

static esp_err_t check_md5_row(const uint8_t *buf, size_t row, esim_ptable_error *err)
{
    uint8_t digest[MD5_LEN];
    if (mbedtls_md5_ret(buf, row * ESIM_PTABLE_ENTRY_SIZE, digest) != 0)
        return report(err, ESP_FAIL, (int)row, "MD5 computation failed");
    if (memcmp(digest, buf + row * ESIM_PTABLE_ENTRY_SIZE + MD5_OFFSET, MD5_LEN) != 0)
        return report(err, ESP_ERR_INVALID_CRC, (int)row,
                      "row %zu: MD5 checksum does not match the %zu partition rows before it",
                      row, row);
    return ESP_OK;
}

static esp_err_t finish_parse(const esim_ptable *out, bool md5_found, bool require_md5,
                              size_t row, esim_ptable_error *err)
{
    if (out->count == 0)
        return report(err, ESP_ERR_INVALID_STATE, (int)row,
                      "partition table is empty (row %zu is the end marker)", row);
    if (require_md5 && !md5_found)
        return report(err, ESP_ERR_INVALID_CRC, -1, "No MD5 found in partition table");
    return ESP_OK;
}

esp_err_t esim_ptable_parse_binary(const uint8_t *buf, size_t len, bool require_md5,
                                   esim_ptable *out, esim_ptable_error *err)
{
    clear_error(err);
    out->count = 0;
    bool md5_found = false;
    for (size_t row = 0; row < ROW_COUNT; row++) {
        size_t at = row * ESIM_PTABLE_ENTRY_SIZE;
        if (!buf || len < at + ESIM_PTABLE_ENTRY_SIZE)
            return report(err, ESP_ERR_INVALID_SIZE, (int)row,
                          "partition table is truncated: row %zu needs bytes 0x%zx-0x%zx, only %zu given",
                          row, at, at + ESIM_PTABLE_ENTRY_SIZE - 1, len);
        const uint8_t *p = buf + at;
        uint16_t magic = get_le16(p);
        if (is_end_row(p))
            return finish_parse(out, md5_found, require_md5, row, err);
        if (magic == MAGIC_MD5) {
            if (md5_found)
                return report(err, ESP_ERR_INVALID_STATE, (int)row,
                              "row %zu: only one MD5 row is allowed", row);
            md5_found = true;
            esp_err_t e = check_md5_row(buf, row, err);
            if (e)
                return e;
            continue;
        }
        if (magic != MAGIC_ENTRY)
            return report(err, ESP_ERR_INVALID_STATE, (int)row,
                          "row %zu: invalid magic 0x%04x (partition rows start with AA 50)",
                          row, (unsigned)magic);
        if (out->count >= ESIM_PTABLE_MAX_ENTRIES)
            break;
        decode_entry(p, &out->entries[out->count++]);
    }
    out->count = 0;
    return report(err, ESP_ERR_INVALID_STATE, -1,
                  "partition table has no end marker within 0x%x bytes", ESIM_PTABLE_MAX_LEN);
}

bool esim_ptable_binary_has_md5(const uint8_t *buf, size_t len)
{
    for (size_t row = 0; buf && row < ROW_COUNT; row++) {
        size_t at = row * ESIM_PTABLE_ENTRY_SIZE;
        if (len < at + ESIM_PTABLE_ENTRY_SIZE || is_end_row(buf + at))
            return false;
        if (get_le16(buf + at) == MAGIC_MD5)
            return true;
    }
    return false;
}

/* ---- binary write ---------------------------------------------------------- */

static void encode_entry(const esim_part_entry *e, uint8_t *row)
{
    memset(row, 0, ESIM_PTABLE_ENTRY_SIZE);
    put_le16(row, MAGIC_ENTRY);
    row[2] = e->type;
    row[3] = e->subtype;
    put_le32(row + 4, e->offset);
    put_le32(row + 8, e->size);
    memcpy(row + 12, e->label, esim_label_len(e->label, ESIM_PTABLE_LABEL_MAX));
    put_le32(row + 28, e->flags & KNOWN_FLAGS);
}

esp_err_t esim_ptable_to_binary(const esim_ptable *table, bool with_md5,
                                uint8_t out[ESIM_PTABLE_MAX_LEN], esim_ptable_error *err)
{
    clear_error(err);
    size_t rows = table->count + (with_md5 ? 1 : 0);
    if (table->count > ESIM_PTABLE_MAX_ENTRIES || rows * ESIM_PTABLE_ENTRY_SIZE >= ESIM_PTABLE_MAX_LEN)
        return report(err, ESP_ERR_INVALID_SIZE, -1,
                      "Binary partition table length (%zu) longer than max (%zu partitions%s; "
                      "the rows must stay below 0x%x bytes)",
                      rows * ESIM_PTABLE_ENTRY_SIZE, table->count, with_md5 ? " + MD5 row" : "",
                      ESIM_PTABLE_MAX_LEN);
    memset(out, 0xFF, ESIM_PTABLE_MAX_LEN);
    for (size_t i = 0; i < table->count; i++)
        encode_entry(&table->entries[i], out + i * ESIM_PTABLE_ENTRY_SIZE);
    if (!with_md5)
        return ESP_OK;
    uint8_t *md5_row = out + table->count * ESIM_PTABLE_ENTRY_SIZE;
    put_le16(md5_row, MAGIC_MD5);   /* bytes 2..15 stay 0xFF */
    if (mbedtls_md5_ret(out, table->count * ESIM_PTABLE_ENTRY_SIZE, md5_row + MD5_OFFSET) != 0)
        return report(err, ESP_FAIL, -1, "MD5 computation failed");
    return ESP_OK;
}

/* ---- verify ------------------------------------------------------------------ */

static uint64_t entry_end(const esim_part_entry *e)
{
    return (uint64_t)e->offset + e->size;
}

static uint32_t offset_alignment(uint8_t type)
{
    return type == ESIM_PART_TYPE_APP ? APP_ALIGN : DATA_ALIGN;
}

/* The primary bootloader and primary partition table pseudo-entries sit
 * below 0x9000 by design. */
static bool is_fixed_pseudo_entry(const esim_part_entry *e)
{
    return (e->type == ESIM_PART_TYPE_BOOTLOADER || e->type == ESIM_PART_TYPE_PTABLE)
        && e->subtype == SUBTYPE_PRIMARY;
}

static bool is_data(const esim_part_entry *e, uint8_t subtype)
{
    return e->type == ESIM_PART_TYPE_DATA && e->subtype == subtype;
}

static esp_err_t verify_label(const esim_part_entry *e, size_t row, esim_ptable_error *err)
{
    size_t n = esim_label_len(e->label, sizeof e->label);
    if (n == 0)
        return report(err, ESP_ERR_INVALID_ARG, (int)row,
                      "Partition in row %zu invalid: the name is empty", row);
    if (n > ESIM_PTABLE_LABEL_MAX)
        return report(err, ESP_ERR_INVALID_ARG, (int)row,
                      "Partition in row %zu invalid: the name is longer than %u characters",
                      row, ESIM_PTABLE_LABEL_MAX);
    return ESP_OK;
}

static esp_err_t verify_entry(const esim_part_entry *e, size_t row, esim_ptable_error *err)
{
    esp_err_t rc = verify_label(e, row, err);
    if (rc)
        return rc;
    uint32_t align = offset_alignment(e->type);
    if (e->offset % align)
        return report(err, ESP_ERR_INVALID_ARG, (int)row,
                      "Partition %s invalid: Offset 0x%x is not aligned to 0x%x",
                      e->label, (unsigned)e->offset, (unsigned)align);
    if (e->type == ESIM_PART_TYPE_APP && e->size % APP_SIZE_ALIGN)
        return report(err, ESP_ERR_INVALID_ARG, (int)row,
                      "Partition %s invalid: Size 0x%x is not aligned to 0x%x",
                      e->label, (unsigned)e->size, APP_SIZE_ALIGN);
    bool readonly = (e->flags & ESIM_PART_FLAG_READONLY) != 0;
    if (readonly && (is_data(e, ESIM_PART_SUBTYPE_DATA_OTA) || is_data(e, SUBTYPE_DATA_COREDUMP)))
        return report(err, ESP_ERR_INVALID_ARG, (int)row,
                      "Partition %s invalid: data/%s partitions are always read-write and cannot be readonly",
                      e->label, esim_ptable_subtype_name(e->type, e->subtype));
    if (!readonly && is_data(e, ESIM_PART_SUBTYPE_DATA_NVS) && e->size < NVS_RW_MIN_SIZE)
        return report(err, ESP_ERR_INVALID_ARG, (int)row,
                      "Partition %s invalid: a read-write NVS partition needs at least 0x%x bytes "
                      "(size is 0x%x); flag it readonly or make it larger",
                      e->label, NVS_RW_MIN_SIZE, (unsigned)e->size);
    return ESP_OK;
}

static esp_err_t verify_unique_labels(const esim_ptable *t, esim_ptable_error *err)
{
    for (size_t i = 1; i < t->count; i++)
        for (size_t j = 0; j < i; j++)
            if (strncmp(t->entries[i].label, t->entries[j].label, ESIM_PTABLE_LABEL_MAX) == 0)
                return report(err, ESP_ERR_INVALID_ARG, (int)i,
                              "Partition names must be unique: '%s' is used by rows %zu and %zu",
                              t->entries[i].label, j, i);
    return ESP_OK;
}

/* Row indices ordered by offset; stable, so equal offsets keep table order. */
static void sort_by_offset(const esim_ptable *t, size_t order[ESIM_PTABLE_MAX_ENTRIES])
{
    for (size_t i = 0; i < t->count; i++) {
        size_t j = i;
        while (j > 0 && t->entries[order[j - 1]].offset > t->entries[i].offset) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}

static esp_err_t verify_layout(const esim_ptable *t, esim_ptable_error *err)
{
    size_t order[ESIM_PTABLE_MAX_ENTRIES];
    sort_by_offset(t, order);
    const esim_part_entry *last = NULL;
    for (size_t k = 0; k < t->count; k++) {
        const esim_part_entry *p = &t->entries[order[k]];
        if (p->offset < FIRST_FREE && !is_fixed_pseudo_entry(p))
            return report(err, ESP_ERR_INVALID_ARG, (int)order[k],
                          "Partition offset 0x%x is below 0x%x (partition %s; the partition table sector ends there)",
                          (unsigned)p->offset, FIRST_FREE, p->label);
        if (last && p->offset < entry_end(last))
            return report(err, ESP_ERR_INVALID_ARG, (int)order[k],
                          "Partition %s at 0x%x overlaps %s at 0x%x-0x%llx",
                          p->label, (unsigned)p->offset, last->label, (unsigned)last->offset,
                          (unsigned long long)(entry_end(last) - 1));
        last = p;
    }
    return ESP_OK;
}

static esp_err_t verify_otadata(const esim_ptable *t, esim_ptable_error *err)
{
    const esim_part_entry *found = NULL;
    for (size_t i = 0; i < t->count; i++) {
        const esim_part_entry *p = &t->entries[i];
        if (!is_data(p, ESIM_PART_SUBTYPE_DATA_OTA))
            continue;
        if (found)
            return report(err, ESP_ERR_INVALID_ARG, (int)i,
                          "Found multiple otadata partitions (%s and %s). Only one partition can be "
                          "defined with type=\"data\"(1) and subtype=\"ota\"(0).",
                          found->label, p->label);
        if (p->size != OTADATA_SIZE)
            return report(err, ESP_ERR_INVALID_ARG, (int)i,
                          "otadata partition must have size = 0x%x (%s has 0x%x)",
                          OTADATA_SIZE, p->label, (unsigned)p->size);
        found = p;
    }
    return ESP_OK;
}

static esp_err_t verify_fits(const esim_ptable *t, uint32_t flash_size, esim_ptable_error *err)
{
    if (flash_size == 0)
        return ESP_OK;
    uint64_t end = 0;
    for (size_t i = 0; i < t->count; i++)
        if (entry_end(&t->entries[i]) > end)
            end = entry_end(&t->entries[i]);
    if (end <= flash_size)
        return ESP_OK;
    return report(err, ESP_ERR_INVALID_ARG, -1,
                  "Partitions occupy %.1fMB of flash (%llu bytes) which does not fit in the "
                  "flash size %.1fMB (%u bytes)",
                  (double)end / (1024.0 * 1024.0), (unsigned long long)end,
                  (double)flash_size / (1024.0 * 1024.0), (unsigned)flash_size);
}

esp_err_t esim_ptable_verify(const esim_ptable *table, uint32_t flash_size, esim_ptable_error *err)
{
    clear_error(err);
    if (table->count > ESIM_PTABLE_MAX_ENTRIES)
        return report(err, ESP_ERR_INVALID_ARG, -1, "%zu partitions: at most %u fit in the table",
                      table->count, ESIM_PTABLE_MAX_ENTRIES);
    for (size_t i = 0; i < table->count; i++) {
        esp_err_t rc = verify_entry(&table->entries[i], i, err);
        if (rc)
            return rc;
    }
    esp_err_t rc = verify_unique_labels(table, err);
    if (rc)
        return rc;
    rc = verify_layout(table, err);
    if (rc)
        return rc;
    rc = verify_otadata(table, err);
    if (rc)
        return rc;
    return verify_fits(table, flash_size, err);
}

uint32_t esim_ptable_end(const esim_ptable *table)
{
    uint64_t end = 0;
    size_t n = table->count < ESIM_PTABLE_MAX_ENTRIES ? table->count : ESIM_PTABLE_MAX_ENTRIES;
    for (size_t i = 0; i < n; i++)
        if (entry_end(&table->entries[i]) > end)
            end = entry_end(&table->entries[i]);
    return end > UINT32_MAX ? UINT32_MAX : (uint32_t)end;
}
