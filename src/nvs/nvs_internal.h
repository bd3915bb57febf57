/* esp32sim — NVS engine: the storage layer shared by the src/nvs files
 * (docs/nvs-engine.md). Internal. */
#ifndef ESIM_NVS_INTERNAL_H
#define ESIM_NVS_INTERNAL_H

#include "esp32sim/nvs.h"
#include "nvs_pages.h"

typedef struct {
    char name[ESIM_NVS_KEY_SIZE];   /* NUL-terminated, at most 15 characters */
    uint8_t index;
} nvs_namespace;

struct esim_nvs {
    esim_flash *flash;
    uint32_t base;
    uint32_t size;
    bool read_only;
    nvs_pages pm;
    nvs_namespace *names;          /* in the order they were found or made */
    size_t name_count;
    size_t name_cap;
    uint8_t ns_in_use[32];         /* bit per namespace index 0..255 */
};

/* Where a lookup found an item. */
typedef struct {
    nvs_page *page;
    uint32_t index;
    esim_nvs_item item;
} nvs_found;

/* Storage::findItem: the first page (oldest first) holding a match.
 * Only ESP_OK or ESP_ERR_NVS_NOT_FOUND. */
esp_err_t nvs_find(esim_nvs *nvs, const nvs_query *q, nvs_found *out);

/* ---- values (nvs_items.c) ---- */

/* Storage::writeItem: type BLOB writes a multi-page blob. */
esp_err_t nvs_write_value(esim_nvs *nvs, uint8_t ns, uint8_t type, const char *key, const void *data, size_t size);
/* Storage::readItem: size must be the stored size for strings and blobs. */
esp_err_t nvs_read_value(esim_nvs *nvs, uint8_t ns, uint8_t type, const char *key, void *data, size_t size);
esp_err_t nvs_value_size(esim_nvs *nvs, uint8_t ns, uint8_t type, const char *key, size_t *size);
esp_err_t nvs_erase_value(esim_nvs *nvs, uint8_t ns, const char *key);
esp_err_t nvs_erase_namespace(esim_nvs *nvs, uint8_t ns);

/* ---- multi-page blobs (nvs_blob.c) ---- */

esp_err_t nvs_blob_write(esim_nvs *nvs, uint8_t ns, const char *key, const void *data, size_t size, uint8_t chunk_start);
esp_err_t nvs_blob_read(esim_nvs *nvs, uint8_t ns, const char *key, void *data, size_t size);
esp_err_t nvs_blob_cmp(esim_nvs *nvs, uint8_t ns, const char *key, const void *data, size_t size);
/* chunk_start NVS_VER_ANY: every index and chunk of the key. */
esp_err_t nvs_blob_erase(esim_nvs *nvs, uint8_t ns, const char *key, uint8_t chunk_start);

/* ---- mount (nvs_recover.c) ---- */

/* A key or name as ESP-IDF copies it: at most 15 characters, NUL-padded. */
void nvs_copy_key(char dst[ESIM_NVS_KEY_SIZE], const char *src);
esp_err_t nvs_load_namespaces(esim_nvs *nvs);
esp_err_t nvs_reconcile_blobs(esim_nvs *nvs);
esp_err_t nvs_add_namespace(esim_nvs *nvs, const char *name, uint8_t index);
const nvs_namespace *nvs_namespace_by_name(const esim_nvs *nvs, const char *name);

#endif
