/* esp32sim — NVS engine, one page (docs/nvs-engine.md).
 *
 * A page is one 4 KiB sector: header, entry-state bitmap, 126 entries. The
 * in-RAM part of a page is its state, sequence number, a copy of its bitmap
 * and its fill pointers and counts; the partition's index (nvs_index.c)
 * lets a lookup by namespace/key start at the right page and entry. Once
 * mounted, entries are read from flash each time, as ESP-IDF does.
 * Internal to src/nvs. */
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

/* Inline copies of esim_nvs_bitmap_get and esim_nvs_type_is_variable for
 * the engine's inner loops. */
static inline esim_nvs_entry_state nvs_bitmap_get(const uint8_t *bitmap, uint32_t index)
{
    return (esim_nvs_entry_state)((bitmap[index / 4] >> (2 * (index % 4))) & 3u);
}

static inline bool nvs_type_is_variable(uint8_t type)
{
    return type == ESIM_NVS_TYPE_STR || type == ESIM_NVS_TYPE_BLOB || type == ESIM_NVS_TYPE_BLOB_DATA;
}

/* ---- the index over the whole partition (nvs_index.c) ----
 *
 * For every page, the nodes ESP-IDF's per-page hash list would hold: an
 * item's 24-bit hash (namespace, 16 key bytes, chunk index) at its first
 * entry. Owned by the page manager; every page points to it. */

typedef struct {
    uint32_t key;       /* 24-bit hash | entry << 24 */
    uint32_t next;      /* next node in the bucket */
    uint32_t same;      /* next node at the same page and entry */
    uint16_t page;      /* 0xFFFF: on the free list */
} nvs_index_node;

typedef struct {
    nvs_index_node *nodes;
    uint32_t node_count;     /* nodes ever handed out */
    uint32_t node_cap;
    uint32_t free_head;
    uint32_t live;
    uint32_t *buckets;       /* first node of each bucket */
    uint32_t bucket_mask;
    uint32_t *slots;         /* pages x 126: first node at each entry */
    uint32_t *order;         /* per page: its place among the pages in use */
    uint32_t pages;
} nvs_index;

esp_err_t nvs_index_init(nvs_index *ix, uint32_t pages);
void nvs_index_free(nvs_index *ix);
/* Where a page stands in the list of pages in use (UINT32_MAX: not in it). */
void nvs_index_set_order(nvs_index *ix, uint32_t page, uint32_t position);
esp_err_t nvs_index_insert(nvs_index *ix, uint32_t page, uint32_t hash, uint32_t entry);
/* Drops the node at this entry (the earliest one added there). */
void nvs_index_erase(nvs_index *ix, uint32_t page, uint32_t entry);
void nvs_index_clear_page(nvs_index *ix, uint32_t page);
/* The lowest entry >= start of the page with this hash, or NVS_NO_ENTRY. */
uint32_t nvs_index_first(const nvs_index *ix, uint32_t page, uint32_t start, uint32_t hash);
/* The page in use after *position (UINT32_MAX: from the first) holding an
 * item with this hash; *position becomes its place. UINT32_MAX when none. */
uint32_t nvs_index_next_page(const nvs_index *ix, uint32_t hash, uint32_t *position);

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
    nvs_index *index;        /* the partition's index */
    uint16_t number;         /* the page's place in the partition */
    uint8_t *image;          /* while mounting: the sector as read once */
    uint8_t verified[16];    /* while mounting: entries of the image found sound */
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

void nvs_page_setup(nvs_page *p, esim_flash *flash, bool read_only, uint32_t addr,
                    nvs_index *index, uint16_t number);
/* Frees the sector image kept while mounting. */
void nvs_page_drop_image(nvs_page *p);

/* Page::load: classify, read the bitmap, run the per-page recovery.
 * Errors: ESP_ERR_NVS_NEW_VERSION_FOUND, ESP_ERR_NO_MEM, flash errors. */
esp_err_t nvs_page_load(nvs_page *p);

bool nvs_page_has_seqno(const nvs_page *p);   /* ACTIVE, FULL or FREEING */
size_t nvs_page_var_tailroom(const nvs_page *p);

esp_err_t nvs_page_read_entry(const nvs_page *p, uint32_t index, esim_nvs_item *out);
esim_nvs_entry_state nvs_page_entry_state(const nvs_page *p, uint32_t index);

/* checkHeaderConsistency: CRC, known type, span and size within the page. */
bool nvs_item_consistent(const esim_nvs_item *item, uint32_t index);
/* The same for the entry at index just read from the page (checked once
 * while the sector image lasts). */
bool nvs_page_item_consistent(nvs_page *p, const esim_nvs_item *item, uint32_t index);

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
/* The same with the query's hash already computed (any value when the
 * query does not use it). */
esp_err_t nvs_page_find_hashed(nvs_page *p, const nvs_query *q, uint32_t hash, uint32_t *index, esim_nvs_item *item);
/* Whether a lookup starts from the index (namespace and key given, and a
 * chunk unless the type is BLOB_DATA), and the hash it looks for. */
bool nvs_query_uses_hash(const nvs_query *q);
uint32_t nvs_query_hash(const nvs_query *q);
esp_err_t nvs_page_read_item(nvs_page *p, const nvs_query *q, void *data, size_t size);
esp_err_t nvs_page_cmp_item(nvs_page *p, const nvs_query *q, const void *data, size_t size);
/* The part of read_item / cmp_item after the lookup, for an item a lookup
 * of the same query just found at index. */
esp_err_t nvs_page_read_found(nvs_page *p, const nvs_query *q, uint32_t index, const esim_nvs_item *item,
                              void *data, size_t size);
esp_err_t nvs_page_cmp_found(nvs_page *p, const nvs_query *q, uint32_t index, const esim_nvs_item *item,
                             const void *data, size_t size);
esp_err_t nvs_page_erase_item(nvs_page *p, const nvs_query *q);
/* Reads the payload of a variable-length item at index into out
 * (item->data size bytes); a payload CRC mismatch erases it: NOT_FOUND. */
esp_err_t nvs_page_read_var_data(nvs_page *p, uint32_t index, const esim_nvs_item *item, void *out);
/* Page::copyItems: every WRITTEN entry of src, in order, into dst. */
esp_err_t nvs_page_copy_items(nvs_page *src, nvs_page *dst);

/* Read-only walk over the valid items (no repairs): from *index on. */
bool nvs_page_next_item(const nvs_page *p, uint32_t *index, esim_nvs_item *item);

/* Internal to the page files: read bytes at an offset within the page
 * (from the sector image while mounting), program them (skipped on a
 * read-only mount). */
esp_err_t nvs_page_read(const nvs_page *p, uint32_t offset, void *buf, size_t len);
esp_err_t nvs_page_program(nvs_page *p, uint32_t offset, const void *data, size_t len);

#endif
