/* esp32sim — the NVS engine: ESP-IDF's non-volatile storage, format v2,
 * on the simulated flash (docs/nvs-format.md, docs/nvs-engine.md).
 *
 * For the same sequence of operations it leaves the same bytes on flash as
 * ESP-IDF's nvs_flash does, recovers from power loss the way it does at
 * mount, and returns the same esp_err_t codes. All state lives in the
 * esim_nvs object (one per mounted partition). */
#ifndef ESP32SIM_NVS_H
#define ESP32SIM_NVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/flash.h"
#include "esp32sim/nvs_format.h"

typedef struct esim_nvs esim_nvs;

/* An open namespace (nvs_handle_t). Plain data: copy it freely while the
 * esim_nvs it came from stays mounted. */
typedef struct {
    esim_nvs *nvs;
    uint8_t ns_index;
    bool read_only;
} esim_nvs_handle;

typedef struct {
    size_t used_entries;
    size_t free_entries;
    size_t available_entries;   /* free minus the spare page's entries */
    size_t total_entries;
    size_t namespace_count;
} esim_nvs_stats;

/* ---- mount ----
 * nvs_flash_init_partition over [base, base+size) of `flash` (both sector
 * aligned, at least 3 pages for a writable partition). Loads every page,
 * runs ESP-IDF's mount-time recovery (which may write flash unless
 * read_only), builds the in-RAM indexes.
 * Errors: ESP_ERR_NVS_NO_FREE_PAGES, ESP_ERR_NVS_NEW_VERSION_FOUND,
 * ESP_ERR_NVS_NOT_ENOUGH_SPACE (an interrupted garbage collection finds no
 * page to finish into, as in ESP-IDF), ESP_ERR_INVALID_ARG (bad geometry),
 * ESP_ERR_NO_MEM, flash errors. */
esp_err_t esim_nvs_mount(esim_flash *flash, uint32_t base, uint32_t size, bool read_only, esim_nvs **out);
void esim_nvs_unmount(esim_nvs *nvs);   /* frees RAM; writes nothing. NULL is fine. */

/* nvs_flash_erase_partition: erase every sector of the partition. */
esp_err_t esim_nvs_erase_partition(esim_flash *flash, uint32_t base, uint32_t size);

/* ---- namespaces ----
 * nvs_open: read_write creates a missing namespace (writes its entry at
 * once); read-only on a missing namespace gives ESP_ERR_NVS_NOT_FOUND.
 * Names over 15 bytes: ESP_ERR_NVS_KEY_TOO_LONG when created (a lookup
 * compares the first 15 bytes). 255th namespace: ESP_ERR_NVS_NOT_ENOUGH_SPACE. */
esp_err_t esim_nvs_open(esim_nvs *nvs, const char *ns_name, bool read_write, esim_nvs_handle *out);

/* ---- values ----
 * Integers of every width: `value` holds the number (signed types
 * sign-extended, U64 as its bit pattern); set truncates to the type's width.
 * A key holding another type in the namespace is replaced. Identical values
 * write nothing. Missing key or other type on get: ESP_ERR_NVS_NOT_FOUND.
 * Key over 15 bytes on set: ESP_ERR_NVS_KEY_TOO_LONG (unless an identical
 * value is already stored under its first 15 bytes). */
esp_err_t esim_nvs_set_int(const esim_nvs_handle *h, const char *key, esim_nvs_type type, int64_t value);
esp_err_t esim_nvs_get_int(const esim_nvs_handle *h, const char *key, esim_nvs_type type, int64_t *value);

/* Strings (NUL included in the stored size, at most 4000 bytes). get_str:
 * out NULL is a size query (*len = size incl. NUL); *len smaller than the
 * size gives ESP_ERR_NVS_INVALID_LENGTH. */
esp_err_t esim_nvs_set_str(const esim_nvs_handle *h, const char *key, const char *value);
esp_err_t esim_nvs_get_str(const esim_nvs_handle *h, const char *key, char *out, size_t *len);

/* Blobs, multi-page (BLOB_DATA chunks + BLOB_IDX, version toggling); legacy
 * v1 BLOB items are read too. get_blob: out NULL is a size query; *len
 * smaller than the blob gives ESP_ERR_NVS_INVALID_LENGTH, out untouched.
 * Too long for the partition: ESP_ERR_NVS_VALUE_TOO_LONG, nothing written. */
esp_err_t esim_nvs_set_blob(const esim_nvs_handle *h, const char *key, const void *data, size_t len);
esp_err_t esim_nvs_get_blob(const esim_nvs_handle *h, const char *key, void *out, size_t *len);

/* The type stored under key (any type), or ESP_ERR_NVS_NOT_FOUND. */
esp_err_t esim_nvs_find_key(const esim_nvs_handle *h, const char *key, esim_nvs_type *type);

esp_err_t esim_nvs_erase_key(const esim_nvs_handle *h, const char *key);
esp_err_t esim_nvs_erase_all(const esim_nvs_handle *h);
esp_err_t esim_nvs_commit(const esim_nvs_handle *h);   /* writes are immediate: ESP_OK */

/* Writes through a read-only handle: ESP_ERR_NVS_READ_ONLY. */

/* ---- inspection ---- */

esp_err_t esim_nvs_get_stats(const esim_nvs *nvs, esim_nvs_stats *out);

typedef struct {
    char namespace_name[ESIM_NVS_KEY_SIZE];
    char key[ESIM_NVS_KEY_SIZE];
    esim_nvs_type type;          /* blobs are reported as ESIM_NVS_TYPE_BLOB_DATA, as nvs_entry_info does */
} esim_nvs_entry_info;

/* nvs_entry_find/next: every entry (namespace NULL = all; type ANY = all),
 * in ESP-IDF's iteration order. Calls fn for each; a non-zero return stops. */
typedef int (*esim_nvs_entry_fn)(const esim_nvs_entry_info *info, void *ctx);
esp_err_t esim_nvs_list(const esim_nvs *nvs, const char *ns_name, esim_nvs_type type, esim_nvs_entry_fn fn, void *ctx);

/* Every namespace name and index (in index order). */
typedef int (*esim_nvs_namespace_fn)(const char *name, uint8_t index, void *ctx);
esp_err_t esim_nvs_namespaces(const esim_nvs *nvs, esim_nvs_namespace_fn fn, void *ctx);

#endif
