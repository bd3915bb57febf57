/* esp32sim — NVS engine, one page (docs/nvs-engine.md).
 *
 * A page is one 4 KiB sector: header, entry-state bitmap, 126 entries. The
 * in-RAM part of a page is its state, sequence number, a copy of its bitmap,
 * its fill pointers and counts, and the hash list that lets a lookup by
 * namespace/key start at the right entry. Entries themselves are read from
 * flash each time, as ESP-IDF does. Internal to src/nvs. */
#ifndef ESIM_NVS_PAGE_H
#define ESIM_NVS_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/flash.h"
#include "esp32sim/nvs_format.h"

/* No entry (fill pointers not known or not set). */
#define NVS_NO_ENTRY 0xFFFFFFFFu

/* RAM-only page states besides the on-flash ones of nvs_format.h. */
#define NVS_PAGE_CORRUPT ESIM_NVS_PAGE_CORRUPT   /* unusable contents: erase before use */
#define NVS_PAGE_INVALID 0u                       /* a flash operation on it failed */

/* Blob versions as lookups use them (the chunkStart of a BLOB_IDX). */
#define NVS_VER_0   ESIM_NVS_BLOB_VERSION_0
#define NVS_VER_1   ESIM_NVS_BLOB_VERSION_1
#define NVS_VER_ANY 0xFFu

/* Internal result of a comparison (ESP-IDF's ESP_ERR_NVS_CONTENT_DIFFERS);
 * never returned by the public API. */
#define NVS_ERR_CONTENT_DIFFERS (ESP_ERR_NVS_BASE + 0x18)

/* Largest payload of one variable-length item: 125 data entries. */
#define NVS_CHUNK_MAX ESIM_NVS_PAGE_PAYLOAD

/* ---- hash list: (24-bit hash, entry index) in insertion order ---- */

typedef struct {
    uint32_t hash;
    uint8_t index;      /* NVS_HASH_DEAD once erased */
} nvs_hash_node;

#define NVS_HASH_DEAD 0xFFu

typedef struct {
    nvs_hash_node *nodes;
    size_t count;
    size_t cap;
} nvs_hash_list;

esp_err_t nvs_hash_insert(nvs_hash_list *h, uint32_t hash, unsigned index);
void nvs_hash_erase(nvs_hash_list *h, unsigned index);
/* The first node (insertion order) at index >= start with this hash, or
 * NVS_NO_ENTRY. */
uint32_t nvs_hash_find(const nvs_hash_list *h, uint32_t start, uint32_t hash);
void nvs_hash_clear(nvs_hash_list *h);

/* The hash of an item as stored (its own key bytes). */
uint32_t nvs_item_stored_hash(const esim_nvs_item *item);

/* ---- pages ---- */

typedef struct {
    esim_flash *flash;
    bool read_only;          /* repairs and writes change RAM only */
    uint32_t addr;           /* flash address of the sector */
    uint32_t state;          /* ESIM_NVS_PAGE_*, NVS_PAGE_CORRUPT or NVS_PAGE_INVALID */
    uint32_t seqno;
    uint8_t version;
    uint8_t bitmap[ESIM_NVS_BITMAP_SIZE];
    uint32_t next_free;      /* first entry never written, or NVS_NO_ENTRY */
    uint32_t first_used;     /* first WRITTEN entry, or NVS_NO_ENTRY */
    unsigned used;           /* WRITTEN entries */
    unsigned erased;         /* ERASED entries */
    nvs_hash_list hashes;
} nvs_page;

/* What a lookup matches (ESP-IDF's findItem arguments). */
typedef struct {
    uint8_t ns;              /* ESIM_NVS_NS_ANY: any */
    uint8_t type;            /* ESIM_NVS_TYPE_ANY: any */
    const char *key;         /* NULL: any; compared on its first 15 bytes */
    uint8_t chunk;           /* ESIM_NVS_CHUNK_ANY: any */
    uint8_t chunk_start;     /* NVS_VER_ANY: any (BLOB_IDX lookups) */
} nvs_query;

nvs_query nvs_query_make(uint8_t ns, uint8_t type, const char *key);

void nvs_page_setup(nvs_page *p, esim_flash *flash, bool read_only, uint32_t addr);
void nvs_page_release(nvs_page *p);

/* Page::load: classify, read the bitmap, run the per-page recovery.
 * Errors: ESP_ERR_NVS_NEW_VERSION_FOUND, ESP_ERR_NO_MEM, flash errors. */
esp_err_t nvs_page_load(nvs_page *p);

bool nvs_page_has_seqno(const nvs_page *p);   /* ACTIVE, FULL or FREEING */
size_t nvs_page_var_tailroom(const nvs_page *p);

esp_err_t nvs_page_read_entry(const nvs_page *p, uint32_t index, esim_nvs_item *out);
esim_nvs_entry_state nvs_page_entry_state(const nvs_page *p, uint32_t index);

/* checkHeaderConsistency: CRC, known type, span and size within the page. */
bool nvs_item_consistent(const esim_nvs_item *item, uint32_t index);

/* ---- writing (nvs_page.c) ---- */

esp_err_t nvs_page_initialize(nvs_page *p);
esp_err_t nvs_page_write_item(nvs_page *p, uint8_t ns, uint8_t type, const char *key,
                              const void *data, size_t size, uint8_t chunk);
esp_err_t nvs_page_write_entry(nvs_page *p, const uint8_t raw[ESIM_NVS_ENTRY_SIZE]);
esp_err_t nvs_page_set_entry_state(nvs_page *p, uint32_t index, esim_nvs_entry_state state);
esp_err_t nvs_page_set_range_state(nvs_page *p, uint32_t begin, uint32_t end, esim_nvs_entry_state state);
esp_err_t nvs_page_erase_entry_and_span(nvs_page *p, uint32_t index);
esp_err_t nvs_page_mark_full(nvs_page *p);
esp_err_t nvs_page_mark_freeing(nvs_page *p);
esp_err_t nvs_page_erase(nvs_page *p);

/* ---- lookups (nvs_page_find.c) ---- */

/* Page::findItem: from *index on; on success *index and *item describe the
 * match. ESP_ERR_NVS_TYPE_MISMATCH when the key holds another type. */
esp_err_t nvs_page_find(nvs_page *p, const nvs_query *q, uint32_t *index, esim_nvs_item *item);
esp_err_t nvs_page_read_item(nvs_page *p, const nvs_query *q, void *data, size_t size);
esp_err_t nvs_page_cmp_item(nvs_page *p, const nvs_query *q, const void *data, size_t size);
esp_err_t nvs_page_erase_item(nvs_page *p, const nvs_query *q);
/* Reads the payload of a variable-length item at index into out
 * (item->data size bytes); a payload CRC mismatch erases it: NOT_FOUND. */
esp_err_t nvs_page_read_var_data(nvs_page *p, uint32_t index, const esim_nvs_item *item, void *out);
/* Page::copyItems: every WRITTEN entry of src, in order, into dst. */
esp_err_t nvs_page_copy_items(nvs_page *src, nvs_page *dst);

/* Read-only walk over the valid items (no repairs): from *index on. */
bool nvs_page_next_item(const nvs_page *p, uint32_t *index, esim_nvs_item *item);

/* Internal to the page files: program bytes at an offset within the page
 * (skipped on a read-only mount). */
esp_err_t nvs_page_program(nvs_page *p, uint32_t offset, const void *data, size_t len);

#endif
