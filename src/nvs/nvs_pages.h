/* esp32sim — NVS engine, the page manager (docs/nvs-engine.md).
 *
 * Keeps the pages of a partition in two lists: pages in use, ordered by
 * sequence number (the last one receives writes), and free pages (blank or
 * corrupt), in the order they will be activated. Activates pages and
 * collects garbage when only the spare page is left. Internal to src/nvs. */
#ifndef ESIM_NVS_PAGES_H
#define ESIM_NVS_PAGES_H

#include "nvs_page.h"

typedef struct {
    nvs_page *pages;         /* one per sector, in flash order */
    uint32_t count;
    uint16_t *used;          /* pages in use, by sequence number */
    uint32_t used_len;
    uint16_t *free;          /* free pages, activation order */
    uint32_t free_len;
    uint32_t next_seqno;
    bool read_only;
    nvs_index index;         /* every page's items, by hash */
} nvs_pages;

/* PageManager::load: loads every page, orders them, and (unless read-only)
 * removes a duplicate left by a cut update and finishes a cut garbage
 * collection. Errors: ESP_ERR_NVS_NO_FREE_PAGES,
 * ESP_ERR_NVS_NEW_VERSION_FOUND, ESP_ERR_NO_MEM, flash errors. On error
 * the caller still calls nvs_pages_free. */
esp_err_t nvs_pages_load(nvs_pages *pm, esim_flash *flash, uint32_t base, uint32_t count, bool read_only);
void nvs_pages_free(nvs_pages *pm);
/* Ends the mount: the sector images read by nvs_pages_load are freed and
 * reads go to the flash again. */
void nvs_pages_drop_images(nvs_pages *pm);

/* The i-th page in use (0 = oldest); NULL past the end. */
nvs_page *nvs_pages_at(const nvs_pages *pm, uint32_t i);
/* The next page in use, after *position (UINT32_MAX: from the oldest),
 * that holds an item with this hash; NULL when none is left. */
nvs_page *nvs_pages_next_with_hash(const nvs_pages *pm, uint32_t hash, uint32_t *position);
/* The page that receives writes (the newest), or NULL. */
nvs_page *nvs_pages_current(const nvs_pages *pm);

/* A fresh page becomes the current one; with a single free page left,
 * garbage collection makes room first. */
esp_err_t nvs_pages_request_new(nvs_pages *pm);

typedef struct {
    size_t used, free, available, total;
} nvs_entry_counts;

esp_err_t nvs_pages_count_entries(const nvs_pages *pm, nvs_entry_counts *out);

#endif
