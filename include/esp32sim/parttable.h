/* esp32sim — the ESP-IDF partition table (docs/partition-table.md).
 *
 * One parser and one writer for the binary table found at flash offset
 * 0x8000 and for the CSV format of ESP-IDF's gen_esp32part.py, shared by the
 * device, the binding and the command line. */
#ifndef ESP32SIM_PARTTABLE_H
#define ESP32SIM_PARTTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"

#define ESIM_PTABLE_OFFSET        0x8000u   /* CONFIG_PARTITION_TABLE_OFFSET */
#define ESIM_PTABLE_MAX_LEN       0xC00u    /* table bytes; the sector's last 1 KiB is reserved */
#define ESIM_PTABLE_ENTRY_SIZE    32u
#define ESIM_PTABLE_MAX_ENTRIES   95u       /* 0xC00/32 rows minus the end marker */
#define ESIM_PTABLE_LABEL_MAX     16u

#define ESIM_PART_TYPE_APP        0x00
#define ESIM_PART_TYPE_DATA       0x01
#define ESIM_PART_TYPE_BOOTLOADER 0x02
#define ESIM_PART_TYPE_PTABLE     0x03
#define ESIM_PART_TYPE_ANY        0xFF
#define ESIM_PART_SUBTYPE_ANY     0xFF

#define ESIM_PART_SUBTYPE_APP_FACTORY 0x00
#define ESIM_PART_SUBTYPE_APP_OTA_0   0x10
#define ESIM_PART_SUBTYPE_APP_TEST    0x20
#define ESIM_PART_SUBTYPE_DATA_OTA    0x00
#define ESIM_PART_SUBTYPE_DATA_PHY    0x01
#define ESIM_PART_SUBTYPE_DATA_NVS    0x02
#define ESIM_PART_SUBTYPE_DATA_FAT    0x81

#define ESIM_PART_FLAG_ENCRYPTED  0x1u
#define ESIM_PART_FLAG_READONLY   0x2u

typedef struct {
    uint8_t type;
    uint8_t subtype;
    uint32_t offset;      /* absolute flash address */
    uint32_t size;
    char label[ESIM_PTABLE_LABEL_MAX + 1];   /* always NUL-terminated */
    uint32_t flags;       /* ESIM_PART_FLAG_* */
} esim_part_entry;

typedef struct {
    size_t count;
    esim_part_entry entries[ESIM_PTABLE_MAX_ENTRIES];
} esim_ptable;

/* Why a table was rejected, in words a user can act on. `line` is the CSV
 * line (1-based) or the binary row (0-based) the problem is in, or -1. */
typedef struct {
    int line;
    char message[192];
} esim_ptable_error;

/* Parse a binary table (normally 0xC00 bytes read from 0x8000; a longer
 * buffer is fine, parsing stops at the end marker). Checks what ESP-IDF's
 * loader checks: entry magic, at most one MD5 row and its digest, an end
 * marker within 0xC00 bytes, at least one entry. `require_md5` demands the
 * MD5 row, as the app side does with CONFIG_PARTITION_TABLE_MD5.
 * Errors: ESP_ERR_INVALID_STATE (bad magic, no end marker, empty),
 * ESP_ERR_INVALID_CRC (MD5 mismatch or missing when required),
 * ESP_ERR_INVALID_SIZE (buffer too short). */
esp_err_t esim_ptable_parse_binary(const uint8_t *buf, size_t len, bool require_md5,
                                   esim_ptable *out, esim_ptable_error *err);

/* Does the binary table carry an MD5 row? (Valid tables only.) */
bool esim_ptable_binary_has_md5(const uint8_t *buf, size_t len);

/* gen_esp32part.py's table rules: alignment (app 64 KiB, others 4 KiB),
 * unique labels, no overlaps, nothing below 0x9000, one otadata of 0x2000,
 * readonly rules, the end within flash_size (0 = do not check).
 * Error: ESP_ERR_INVALID_ARG with the reason in err. */
esp_err_t esim_ptable_verify(const esim_ptable *table, uint32_t flash_size, esim_ptable_error *err);

/* Write the 0xC00-byte binary: entries, optional MD5 row, 0xFF fill.
 * Error: ESP_ERR_INVALID_SIZE when the rows do not fit. */
esp_err_t esim_ptable_to_binary(const esim_ptable *table, bool with_md5,
                                uint8_t out[ESIM_PTABLE_MAX_LEN], esim_ptable_error *err);

/* Parse gen_esp32part.py CSV text (comments, blank lines, auto offsets,
 * K/M sizes, named or numeric types and subtypes, flags). The result is not
 * verified: call esim_ptable_verify. Error: ESP_ERR_INVALID_ARG. */
esp_err_t esim_ptable_parse_csv(const char *text, size_t len, esim_ptable *out, esim_ptable_error *err);

/* The CSV text gen_esp32part.py prints for a table. Writes at most `cap`
 * bytes including the NUL; returns the length the full text needs (without
 * NUL), like snprintf. */
size_t esim_ptable_to_csv(const esim_ptable *table, char *out, size_t cap);

/* Names of types and subtypes as gen_esp32part.py spells them, or NULL. */
const char *esim_ptable_type_name(uint8_t type);
const char *esim_ptable_subtype_name(uint8_t type, uint8_t subtype);

/* Built-in layouts, as CSV text: "default" (MicroPython ESP32_GENERIC,
 * partitions-4MiBplus.csv) and "ota" (ESP32_GENERIC-OTA,
 * partitions-4MiB-ota.csv). NULL for an unknown name. */
const char *esim_layout_csv(const char *name);

/* End of the highest partition (0 for an empty table). */
uint32_t esim_ptable_end(const esim_ptable *table);

#endif
