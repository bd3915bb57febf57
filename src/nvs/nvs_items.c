/* esp32sim — NVS engine: values across pages (docs/nvs-engine.md).
 *
 * A write first looks for the old value (same type, then any type), skips
 * the write when the value is identical, writes the new item on the current
 * page (a full page is closed and a new one requested), and only then erases
 * the old item. */
#include <string.h>

#include "nvs_internal.h"

#define SKIPPED 1   /* internal: identical value, nothing written */

/* One page of Storage::findItem: ESP_OK, or whether to go on. */
static esp_err_t find_on(nvs_page *p, const nvs_query *q, uint32_t hash, nvs_found *out, bool *next)
{
    uint32_t index = 0;
    esp_err_t err = nvs_page_find_hashed(p, q, hash, &index, &out->item);
    *next = err == ESP_ERR_NVS_NOT_FOUND || err == ESP_ERR_NVS_TYPE_MISMATCH;
    if (err == ESP_OK) {
        out->page = p;
        out->index = index;
    }
    return err;
}

/* A query without a hash: every page in use, oldest first. */
static esp_err_t find_by_walk(esim_nvs *nvs, const nvs_query *q, nvs_found *out)
{
    for (uint32_t i = 0; i < nvs->pm.used_len; i++) {
        bool next;
        esp_err_t err = find_on(nvs_pages_at(&nvs->pm, i), q, 0, out, &next);
        if (!next)
            return err;
    }
    return ESP_ERR_NVS_NOT_FOUND;
}

/* ESP-IDF's Storage::findItem passes over any page that does not match;
 * here a flash error (the power is off) comes back to the caller. A page
 * without an item of the query's hash cannot match, so only the pages the
 * index names are searched, in the same order. */
esp_err_t nvs_find(esim_nvs *nvs, const nvs_query *q, nvs_found *out)
{
    if (!nvs_query_uses_hash(q))
        return find_by_walk(nvs, q, out);
    uint32_t hash = nvs_query_hash(q), position = UINT32_MAX;
    nvs_page *p;
    while ((p = nvs_pages_next_with_hash(&nvs->pm, hash, &position)) != NULL) {
        bool next;
        esp_err_t err = find_on(p, q, hash, out, &next);
        if (!next)
            return err;
    }
    return ESP_ERR_NVS_NOT_FOUND;
}

/* What a write knows about the value it replaces. */
typedef struct {
    nvs_found at;
    bool present;
    bool same_type;          /* found under the written type (BLOB: BLOB_IDX) */
    uint32_t seqno;          /* of its page when found */
} old_value;

static esp_err_t find_old_value(esim_nvs *nvs, uint8_t ns, uint8_t type, const char *key, old_value *old)
{
    bool blob = type == ESIM_NVS_TYPE_BLOB;
    nvs_query q = nvs_query_make(ns, blob ? ESIM_NVS_TYPE_BLOB_IDX : type, key);
    memset(old, 0, sizeof *old);
    esp_err_t err = nvs_find(nvs, &q, &old->at);
    if (err == ESP_OK) {
        old->present = old->same_type = true;
        old->seqno = blob ? UINT32_MAX : old->at.page->seqno;
        return ESP_OK;
    }
    if (err != ESP_ERR_NVS_NOT_FOUND)
        return err;
    q = nvs_query_make(ns, ESIM_NVS_TYPE_ANY, key);
    err = nvs_find(nvs, &q, &old->at);
    if (err == ESP_OK) {
        old->present = true;
        old->seqno = old->at.page->seqno;
    }
    return err == ESP_ERR_NVS_NOT_FOUND ? ESP_OK : err;
}

/* Page::cmpItem looks the item up again on its page; with the power on
 * that finds what nvs_find just found (any repair it made is done), so the
 * second lookup is skipped. Without power it fails as it would. */
static esp_err_t cmp_old_value(esim_nvs *nvs, const nvs_query *q, const old_value *old, const void *data, size_t size)
{
    const nvs_found *at = &old->at;
    if (!esim_flash_powered(nvs->flash))
        return nvs_page_cmp_item(at->page, q, data, size);
    return nvs_page_cmp_found(at->page, q, at->index, &at->item, data, size);
}

/* A fixed-size value or a string on the current page. */
static esp_err_t write_plain(esim_nvs *nvs, uint8_t ns, uint8_t type, const char *key,
                             const void *data, size_t size, const old_value *old)
{
    nvs_query q = nvs_query_make(ns, type, key);
    if (old->same_type && cmp_old_value(nvs, &q, old, data, size) == ESP_OK)
        return SKIPPED;
    nvs_page *page = nvs_pages_current(&nvs->pm);
    esp_err_t err = page ? nvs_page_write_item(page, ns, type, key, data, size, ESIM_NVS_CHUNK_ANY)
                         : ESP_ERR_NVS_INVALID_STATE;
    if (err != ESP_ERR_NVS_PAGE_FULL)
        return err;
    if (page->state != ESIM_NVS_PAGE_FULL) {
        err = nvs_page_mark_full(page);
        if (err)
            return err;
    }
    err = nvs_pages_request_new(&nvs->pm);
    if (err)
        return err;
    err = nvs_page_write_item(nvs_pages_current(&nvs->pm), ns, type, key, data, size, ESIM_NVS_CHUNK_ANY);
    return err == ESP_ERR_NVS_PAGE_FULL ? ESP_ERR_NVS_NOT_ENOUGH_SPACE : err;
}

static esp_err_t write_blob(esim_nvs *nvs, uint8_t ns, const char *key,
                            const void *data, size_t size, const old_value *old)
{
    uint8_t next = NVS_VER_0;
    if (old->same_type) {
        if (nvs_blob_cmp(nvs, ns, key, data, size) == ESP_OK)
            return SKIPPED;
        uint8_t prev = esim_nvs_item_blob_chunk_start(&old->at.item);
        if (prev != NVS_VER_0 && prev != NVS_VER_1)
            return ESP_FAIL;
        next = prev == NVS_VER_1 ? NVS_VER_0 : NVS_VER_1;
    }
    esp_err_t err = nvs_blob_write(nvs, ns, key, data, size, next);
    return err == ESP_ERR_NVS_PAGE_FULL ? ESP_ERR_NVS_NOT_ENOUGH_SPACE : err;
}

/* The old value's page may have been garbage-collected by the write. */
static esp_err_t refind_if_moved(esim_nvs *nvs, uint8_t ns, const char *key, old_value *old)
{
    nvs_page *p = old->at.page;
    bool moved = p->state != ESIM_NVS_PAGE_ACTIVE && p->state != ESIM_NVS_PAGE_FULL;
    if (!moved && p->seqno == old->seqno)
        return ESP_OK;
    nvs_query q = nvs_query_make(ns, old->at.item.type, key);
    return nvs_find(nvs, &q, &old->at);
}

static esp_err_t erase_old_value(esim_nvs *nvs, uint8_t ns, const char *key, old_value *old)
{
    esp_err_t err;
    if (old->at.item.type == ESIM_NVS_TYPE_BLOB_IDX) {
        err = nvs_blob_erase(nvs, ns, key, esim_nvs_item_blob_chunk_start(&old->at.item));
    } else {
        err = refind_if_moved(nvs, ns, key, old);
        if (err)
            return err;
        err = nvs_page_erase_entry_and_span(old->at.page, old->at.index);
    }
    return err == ESP_ERR_FLASH_OP_FAIL ? ESP_ERR_NVS_REMOVE_FAILED : err;
}

esp_err_t nvs_write_value(esim_nvs *nvs, uint8_t ns, uint8_t type, const char *key, const void *data, size_t size)
{
    old_value old;
    esp_err_t err = find_old_value(nvs, ns, type, key, &old);
    if (err)
        return err;
    err = type == ESIM_NVS_TYPE_BLOB ? write_blob(nvs, ns, key, data, size, &old)
                                               : write_plain(nvs, ns, type, key, data, size, &old);
    if (err == SKIPPED)
        return ESP_OK;
    if (err || !old.present)
        return err;
    return erase_old_value(nvs, ns, key, &old);
}

esp_err_t nvs_read_value(esim_nvs *nvs, uint8_t ns, uint8_t type, const char *key, void *data, size_t size)
{
    if (type == ESIM_NVS_TYPE_BLOB) {
        esp_err_t err = nvs_blob_read(nvs, ns, key, data, size);
        if (err != ESP_ERR_NVS_NOT_FOUND)
            return err;
    }
    nvs_query q = nvs_query_make(ns, type, key);
    nvs_found at;
    esp_err_t err = nvs_find(nvs, &q, &at);
    if (err)
        return err;
    if (!esim_flash_powered(nvs->flash))   /* as in cmp_old_value */
        return nvs_page_read_item(at.page, &q, data, size);
    return nvs_page_read_found(at.page, &q, at.index, &at.item, data, size);
}

esp_err_t nvs_value_size(esim_nvs *nvs, uint8_t ns, uint8_t type, const char *key, size_t *size)
{
    nvs_found at;
    if (type == ESIM_NVS_TYPE_BLOB) {
        nvs_query idx = nvs_query_make(ns, ESIM_NVS_TYPE_BLOB_IDX, key);
        if (nvs_find(nvs, &idx, &at) == ESP_OK) {
            *size = esim_nvs_item_blob_size(&at.item);
            return ESP_OK;
        }
    }
    nvs_query q = nvs_query_make(ns, type, key);
    esp_err_t err = nvs_find(nvs, &q, &at);
    if (err)
        return err;
    *size = esim_nvs_item_var_size(&at.item);
    return ESP_OK;
}

esp_err_t nvs_erase_value(esim_nvs *nvs, uint8_t ns, const char *key)
{
    nvs_query q = nvs_query_make(ns, ESIM_NVS_TYPE_ANY, key);
    nvs_found at;
    esp_err_t err = nvs_find(nvs, &q, &at);
    if (err)
        return err;
    if (at.item.type == ESIM_NVS_TYPE_BLOB_IDX)
        return nvs_blob_erase(nvs, ns, key, esim_nvs_item_blob_chunk_start(&at.item));
    return nvs_page_erase_entry_and_span(at.page, at.index);
}

esp_err_t nvs_erase_namespace(esim_nvs *nvs, uint8_t ns)
{
    nvs_query q = nvs_query_make(ns, ESIM_NVS_TYPE_ANY, NULL);
    for (uint32_t i = 0; i < nvs->pm.used_len; i++) {
        nvs_page *p = nvs_pages_at(&nvs->pm, i);
        for (unsigned n = 0; n <= ESIM_NVS_ENTRY_COUNT; n++) {
            esp_err_t err = nvs_page_erase_item(p, &q);
            if (err == ESP_ERR_NVS_NOT_FOUND)
                break;
            if (err)
                return err;
        }
    }
    return ESP_OK;
}
