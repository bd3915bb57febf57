/* esp32sim — offline tools for NVS partition images (docs/nvs-csv.md,
 * docs/nvs-format.md).
 *
 * The partition generator (a CSV file to an image, byte for byte what
 * ESP-IDF's NVS partition generator writes), the export back to such a CSV,
 * a walk over the raw pages and entries as ESP-IDF's nvs_tool.py parses
 * them, its text and JSON renderings, and an integrity check. Everything
 * works on bytes in memory; nothing here mounts the NVS engine or touches a
 * flash chip. */
#ifndef ESP32SIM_NVS_IMAGE_H
#define ESP32SIM_NVS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/nvs_format.h"

/* ---- the generator ---- */

#define ESIM_NVS_GEN_MIN_SIZE   0x3000u              /* three pages */
#define ESIM_NVS_GEN_MAX_SIZE   (16u * 1024u * 1024u)
#define ESIM_NVS_GEN_MAX_STRING 3968u   /* bytes incl. the NUL that fit in one page (v2) */
#define ESIM_NVS_GEN_MAX_V1_VAR 1984u   /* v1: the limit of strings and blobs */
#define ESIM_NVS_CSV_FIELD_MAX  131072u /* characters in one CSV field */

/* What was wrong, for a message: `line` is the 1-based line of the CSV
 * (the first line of the row) or 0 when no line is concerned. */
typedef struct {
    int line;
    char message[256];
} esim_nvs_image_error;

/* Something accepted that deserves a word (e.g. a key set twice). */
typedef void (*esim_nvs_warn_fn)(int line, const char *message, void *ctx);

typedef struct {
    uint8_t version;         /* ESIM_NVS_VERSION_2 (also when 0) or ESIM_NVS_VERSION_1 */
    const char *base_dir;    /* relative paths of "file" rows start here; NULL: the current directory */
    esim_nvs_warn_fn warn;   /* may be NULL */
    void *warn_ctx;
} esim_nvs_gen_options;

/* Build the `size`-byte image for CSV text (the generator's dialect,
 * docs/nvs-csv.md) into `out`. opts may be NULL. On error `out` holds
 * nothing useful and `err` (may be NULL) says why.
 * Errors: ESP_ERR_INVALID_SIZE (size not a multiple of 4096, below 0x3000
 * or above 16 MiB), ESP_ERR_INVALID_ARG (a row the generator refuses),
 * ESP_ERR_NOT_FOUND (a file row's file cannot be read),
 * ESP_ERR_NVS_NOT_ENOUGH_SPACE (the data does not fit), ESP_ERR_NO_MEM. */
esp_err_t esim_nvs_generate(const char *csv, size_t len, uint32_t size, const esim_nvs_gen_options *opts,
                            uint8_t *out, esim_nvs_image_error *err);

/* ---- the export ----
 * The generator CSV for the values an image holds: namespace rows, each
 * followed by its keys, in the order their entries appear on flash (pages by
 * sequence number), integers with their types, strings as "string", blobs
 * as "hex2bin". Generating the export again gives the same image for an
 * image the generator made. Only what ESP-IDF would read is exported
 * (written entries with good CRCs, blobs with all their chunks; of a key
 * stored twice, the newer). A value the CSV cannot carry (a string that is
 * not UTF-8 or holds a NUL or CR, one longer than the generator allows) is
 * left out with a comment line and a warning (line 0).
 * *csv is malloc'd and NUL-terminated; free it.
 * Errors: ESP_ERR_INVALID_SIZE (len not a positive multiple of 4096),
 * ESP_ERR_NO_MEM. */
esp_err_t esim_nvs_export(const uint8_t *image, size_t len, esim_nvs_warn_fn warn, void *ctx,
                          char **csv, size_t *csv_len);

/* ---- the raw walk ----
 * A page as nvs_tool.py reads it: the header, the entry states of the
 * bitmap, and the entries from slot 0 on, each followed by its span - 1
 * data entries (a span of 0 or 0xFF counts as 1), whatever their states. */

typedef struct {
    uint8_t index;                 /* slot, 0..125 */
    esim_nvs_entry_state state;    /* from the bitmap */
    bool blank;                    /* all 32 bytes 0xFF */
    esim_nvs_item item;
    uint32_t crc_computed;         /* over bytes 0..3 and 8..31 */
    uint8_t data_entries;          /* data entries that follow, clipped to the page */
    bool variable;                 /* SZ, BLOB or BLOB_DATA: data_crc_computed is set */
    uint32_t data_crc_computed;    /* over min(size, data_entries * 32) data bytes */
} esim_nvs_raw_entry;

typedef struct {
    uint32_t offset;               /* in the partition */
    bool header_blank;             /* header bytes all 0xFF */
    bool blank;                    /* the whole page 0xFF */
    esim_nvs_page_header header;
    uint32_t header_crc_computed;
    uint8_t bitmap[ESIM_NVS_BITMAP_SIZE];
    size_t count;                  /* entries[] used */
    esim_nvs_raw_entry entries[ESIM_NVS_ENTRY_COUNT];
} esim_nvs_raw_page;

void esim_nvs_raw_page_parse(const uint8_t page[ESIM_NVS_PAGE_SIZE], uint32_t offset, esim_nvs_raw_page *out);

/* The bytes of data entry k (0-based) of entry e of a page. */
const uint8_t *esim_nvs_raw_data(const uint8_t page[ESIM_NVS_PAGE_SIZE], const esim_nvs_raw_entry *e, unsigned k);

/* Would ESP-IDF load entry e when it loads the page? True for a written
 * entry whose CRC is right, whose header follows the rules of
 * Item::checkHeaderConsistency (known type, span and size, chunk index),
 * whose key is NUL-padded and whose data entries are written with the right
 * CRC. Otherwise false, and `why` (cap bytes, may be NULL) says why. */
bool esim_nvs_raw_entry_ok(const uint8_t page[ESIM_NVS_PAGE_SIZE], const esim_nvs_raw_page *p,
                           const esim_nvs_raw_entry *e, char *why, size_t cap);

/* "Empty", "Active", "Full", "Erasing", "Corrupted" (state 0) or "Invalid",
 * as nvs_tool.py names page states. */
const char *esim_nvs_page_state_name(uint32_t state);

/* ---- renderings (malloc'd, NUL-terminated text; NULL when out of memory) ----
 * Only whole pages are rendered (a shorter tail is ignored).
 * Text: every page, its bitmap and entries, in the words and layout of
 * `nvs_tool.py --color never -d all` (UTF-8; keys are printed as stored, so
 * the text may hold any byte: *out_len is its length). */
char *esim_nvs_render_pages_text(const uint8_t *image, size_t len, size_t *out_len);

/* JSON: an array with one object per page (docs/cli.md, "nvs dump"). */
char *esim_nvs_render_pages_json(const uint8_t *image, size_t len);

/* ---- the integrity check ---- */

typedef enum {
    ESIM_NVS_NOTE,       /* a page verdict, as nvs_tool.py prints it */
    ESIM_NVS_WARNING,    /* odd but harmless, or repaired by the engine at mount */
    ESIM_NVS_ERROR,      /* data lost or unreadable, or the engine refuses the partition */
} esim_nvs_severity;

typedef struct {
    esim_nvs_severity severity;
    int page;            /* page position in the partition, or -1 */
    int entry;           /* entry slot, or -1 */
    char message[240];   /* names the page and entry itself */
} esim_nvs_problem;

typedef void (*esim_nvs_problem_fn)(const esim_nvs_problem *problem, void *ctx);

typedef struct {
    size_t pages;
    size_t notes;
    size_t warnings;
    size_t errors;
} esim_nvs_check_result;

/* Check an NVS partition image of any length (garbage included): page
 * headers, states and CRCs, the bitmap, entry CRCs, data CRCs, spans, the
 * rules ESP-IDF applies to items, blob indexes against their chunks,
 * namespaces, duplicate keys, a free page. Every finding goes to fn (may be
 * NULL) in order, and is counted in *out. Error: ESP_ERR_NO_MEM only. */
esp_err_t esim_nvs_check(const uint8_t *image, size_t len, esim_nvs_problem_fn fn, void *ctx,
                         esim_nvs_check_result *out);

#endif
