/* esp32sim — NVS engine: multi-page blobs (docs/nvs-engine.md, "Blobs").
 *
 * A blob is written as BLOB_DATA chunks, each filling the current page's
 * tailroom, then one BLOB_IDX naming the total size, the chunk count and the
 * version (chunkStart 0x00 or 0x80) the chunk indices start at. */
#include <stdlib.h>
#include <string.h>

#include "nvs_internal.h"

#define ENTRY_SIZE ESIM_NVS_ENTRY_SIZE

/* ---- writing ---- */

typedef struct {
    esim_nvs *nvs;
    uint8_t ns;
    const char *key;
    const uint8_t *data;
    size_t size;
    uint8_t chunk_start;
    uint8_t chunk_count;
    size_t offset;
    nvs_page **used;         /* the page of each chunk written */
    size_t used_len;
    size_t used_cap;
} blob_writer;

static esp_err_t remember_page(blob_writer *w, nvs_page *p)
{
    if (w->used_len == w->used_cap) {
        size_t cap = w->used_cap ? w->used_cap * 2 : 8;
        nvs_page **grown = realloc(w->used, cap * sizeof *grown);
        if (!grown)
            return ESP_ERR_NO_MEM;
        w->used = grown;
        w->used_cap = cap;
    }
    w->used[w->used_len++] = p;
    return ESP_OK;
}

/* Closes the page (unless already FULL) and makes a new one current. */
static esp_err_t next_page(blob_writer *w, nvs_page *page)
{
    if (page->state != ESIM_NVS_PAGE_FULL) {
        esp_err_t err = nvs_page_mark_full(page);
        if (err)
            return err;
    }
    return nvs_pages_request_new(&w->nvs->pm);
}

static esp_err_t write_index(blob_writer *w)
{
    uint8_t data[8];
    esim_nvs_item idx;
    memset(&idx, 0, sizeof idx);
    esim_nvs_item_set_blob_index(&idx, (uint32_t)w->size, w->chunk_count, w->chunk_start);
    memcpy(data, idx.data, sizeof data);
    return nvs_page_write_item(nvs_pages_current(&w->nvs->pm), w->ns, ESIM_NVS_TYPE_BLOB_IDX,
                               w->key, data, sizeof data, ESIM_NVS_CHUNK_ANY);
}

/* One chunk on `page`; *done once the index is written too. */
static esp_err_t write_chunk(blob_writer *w, nvs_page *page, size_t tailroom, bool *done)
{
    size_t left = w->size - w->offset;
    size_t chunk = left > tailroom ? tailroom : left;
    uint8_t index = (uint8_t)(w->chunk_start + w->chunk_count);
    esp_err_t err = nvs_page_write_item(page, w->ns, ESIM_NVS_TYPE_BLOB_DATA, w->key,
                                        w->data + w->offset, chunk, index);
    w->chunk_count++;
    if (err)
        return err;
    err = remember_page(w, page);
    if (err)
        return err;
    left -= chunk;
    if (left > 0 || tailroom - chunk < ENTRY_SIZE) {
        err = next_page(w, page);
        if (err)
            return err;
    }
    w->offset += chunk;
    if (left > 0)
        return ESP_OK;
    *done = true;
    return write_index(w);
}

/* A first chunk that would not fit in a small tailroom starts a new page.
 * *stop with the result when that does not help. */
static bool start_elsewhere(blob_writer *w, size_t tailroom, esp_err_t *result)
{
    nvs_page *page = nvs_pages_current(&w->nvs->pm);
    *result = next_page(w, page);
    if (*result)
        return true;
    if (nvs_page_var_tailroom(nvs_pages_current(&w->nvs->pm)) == tailroom) {
        *result = ESP_ERR_NVS_NOT_ENOUGH_SPACE;
        return true;
    }
    return false;
}

static bool first_chunk_too_small(const blob_writer *w, size_t tailroom)
{
    if (w->chunk_count != 0 || tailroom >= NVS_CHUNK_MAX / 10)
        return false;
    return tailroom < w->size || (tailroom == 0 && w->size == 0);
}

/* The chunks written so far are erased: chunk index 0, 1, … on the pages
 * in the order used (ESP-IDF erases these indices whatever the version). */
static void erase_written_chunks(blob_writer *w)
{
    for (size_t i = 0; i < w->used_len; i++) {
        nvs_query q = nvs_query_make(w->ns, ESIM_NVS_TYPE_BLOB_DATA, w->key);
        q.chunk = (uint8_t)i;
        nvs_page_erase_item(w->used[i], &q);
    }
}

/* The loop of writeMultiPageBlob; PAGE_FULL comes back without cleanup. */
static esp_err_t write_chunks(blob_writer *w, bool *cleanup)
{
    uint32_t guard = 4 * w->nvs->pm.count + 260;
    *cleanup = true;
    for (bool done = false; !done && guard > 0; guard--) {
        nvs_page *page = nvs_pages_current(&w->nvs->pm);
        if (!page)
            return ESP_ERR_NVS_INVALID_STATE;
        size_t tailroom = nvs_page_var_tailroom(page);
        esp_err_t err;
        if (first_chunk_too_small(w, tailroom)) {
            *cleanup = false;
            if (start_elsewhere(w, tailroom, &err))
                return err;
            *cleanup = true;
            continue;
        }
        if (tailroom == 0)
            return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
        err = write_chunk(w, page, tailroom, &done);
        if (err == ESP_ERR_NVS_PAGE_FULL)
            *cleanup = false;
        if (err)
            return err;
    }
    return guard > 0 ? ESP_OK : ESP_ERR_NVS_NOT_ENOUGH_SPACE;
}

esp_err_t nvs_blob_write(esim_nvs *nvs, uint8_t ns, const char *key, const void *data, size_t size, uint8_t chunk_start)
{
    uint32_t max_pages = nvs->pm.count - 1;
    if (max_pages > 127)
        max_pages = 127;
    if (size > (size_t)max_pages * NVS_CHUNK_MAX)
        return ESP_ERR_NVS_VALUE_TOO_LONG;
    blob_writer w = {nvs, ns, key, data, size, chunk_start, 0, 0, NULL, 0, 0};
    bool cleanup;
    esp_err_t err = write_chunks(&w, &cleanup);
    if (err && cleanup)
        erase_written_chunks(&w);
    free(w.used);
    return err;
}

/* ---- reading and comparing ---- */

static nvs_query chunk_query(uint8_t ns, const char *key, uint8_t chunk)
{
    nvs_query q = nvs_query_make(ns, ESIM_NVS_TYPE_BLOB_DATA, key);
    q.chunk = chunk;
    return q;
}

static esp_err_t find_index(esim_nvs *nvs, uint8_t ns, const char *key, uint8_t chunk_start, nvs_found *out)
{
    nvs_query q = nvs_query_make(ns, ESIM_NVS_TYPE_BLOB_IDX, key);
    q.chunk_start = chunk_start;
    return nvs_find(nvs, &q, out);
}

/* The chunks in order into data; *offset is how much arrived. A missing
 * chunk or one too long sets *cleanup (the blob is then erased). */
static esp_err_t read_chunks(esim_nvs *nvs, uint8_t ns, const char *key, const nvs_found *idx,
                             uint8_t *data, size_t size, size_t *offset, bool *cleanup)
{
    uint8_t start = esim_nvs_item_blob_chunk_start(&idx->item);
    uint8_t count = esim_nvs_item_blob_chunk_count(&idx->item);
    *cleanup = true;
    for (uint8_t n = 0; n < count; n++) {
        nvs_query q = chunk_query(ns, key, (uint8_t)(start + n));
        nvs_found at;
        if (nvs_find(nvs, &q, &at) != ESP_OK)
            return ESP_ERR_NVS_NOT_FOUND;
        size_t chunk = esim_nvs_item_var_size(&at.item);
        if (chunk > size - *offset)
            return ESP_ERR_NVS_INVALID_LENGTH;
        esp_err_t err = nvs_page_read_var_data(at.page, at.index, &at.item, data + *offset);
        if (err) {
            *cleanup = false;
            return err;
        }
        *offset += chunk;
    }
    *cleanup = false;
    return ESP_OK;
}

esp_err_t nvs_blob_read(esim_nvs *nvs, uint8_t ns, const char *key, void *data, size_t size)
{
    nvs_found idx;
    size_t offset = 0;
    bool cleanup;
    esp_err_t err = find_index(nvs, ns, key, NVS_VER_ANY, &idx);
    if (err)
        return err;
    if (size != esim_nvs_item_blob_size(&idx.item))
        return ESP_FAIL;
    err = read_chunks(nvs, ns, key, &idx, data, size, &offset, &cleanup);
    if (err && !cleanup)
        return err;
    if (cleanup)
        nvs_blob_erase(nvs, ns, key, NVS_VER_ANY);
    return offset == size ? err : ESP_FAIL;
}

/* Each chunk's stored CRC is compared with the CRC of the value's first
 * bytes (of that chunk's length), then its bytes with the value's. */
static esp_err_t cmp_chunks(esim_nvs *nvs, uint8_t ns, const char *key, const nvs_found *idx,
                            const uint8_t *data, size_t size, size_t *offset)
{
    uint8_t start = esim_nvs_item_blob_chunk_start(&idx->item);
    uint8_t count = esim_nvs_item_blob_chunk_count(&idx->item);
    for (uint8_t n = 0; n < count; n++) {
        nvs_query q = chunk_query(ns, key, (uint8_t)(start + n));
        nvs_found at;
        if (nvs_find(nvs, &q, &at) != ESP_OK)
            return ESP_ERR_NVS_NOT_FOUND;
        size_t chunk = esim_nvs_item_var_size(&at.item);
        if (chunk > size - *offset)
            return NVS_ERR_CONTENT_DIFFERS;
        if (esim_nvs_crc32(data, chunk) != esim_nvs_item_var_crc(&at.item))
            return NVS_ERR_CONTENT_DIFFERS;
        esp_err_t err = nvs_page_cmp_item(at.page, &q, data + *offset, chunk);
        if (err)
            return err;
        *offset += chunk;
    }
    return ESP_OK;
}

esp_err_t nvs_blob_cmp(esim_nvs *nvs, uint8_t ns, const char *key, const void *data, size_t size)
{
    nvs_found idx;
    size_t offset = 0;
    esp_err_t err = find_index(nvs, ns, key, NVS_VER_ANY, &idx);
    if (err)
        return err;
    if (size != esim_nvs_item_blob_size(&idx.item))
        return NVS_ERR_CONTENT_DIFFERS;
    err = cmp_chunks(nvs, ns, key, &idx, data, size, &offset);
    if (err && err != ESP_ERR_NVS_NOT_FOUND)
        return err;
    return offset == size ? err : ESP_FAIL;
}

/* ---- erasing ---- */

/* Every BLOB_DATA of the key on every page, whatever its chunk index. */
static esp_err_t erase_all_chunks(esim_nvs *nvs, uint8_t ns, const char *key)
{
    nvs_query q = nvs_query_make(ns, ESIM_NVS_TYPE_BLOB_DATA, key);
    for (uint32_t i = 0; i < nvs->pm.used_len; i++) {
        nvs_page *p = nvs_pages_at(&nvs->pm, i);
        uint32_t index = 0;
        esim_nvs_item item;
        while (index < ESIM_NVS_ENTRY_COUNT) {
            esp_err_t err = nvs_page_find(p, &q, &index, &item);
            if (err == ESP_ERR_NVS_NOT_FOUND)
                break;
            if (!err) {
                err = nvs_page_erase_entry_and_span(p, index);
                index += item.span ? item.span : 1u;
            }
            if (err)
                return err;
        }
    }
    return ESP_OK;
}

static esp_err_t erase_any_version(esim_nvs *nvs, uint8_t ns, const char *key)
{
    nvs_found idx;
    esp_err_t err = find_index(nvs, ns, key, NVS_VER_ANY, &idx);
    if (!err)
        err = nvs_page_erase_entry_and_span(idx.page, idx.index);
    if (err && err != ESP_ERR_NVS_NOT_FOUND)
        return err;
    return erase_all_chunks(nvs, ns, key);
}

static esp_err_t erase_version_chunks(esim_nvs *nvs, uint8_t ns, const char *key, uint8_t start, uint8_t count)
{
    uint8_t first = NVS_VER_ANY, end = NVS_VER_ANY;
    if (start == NVS_VER_0 || start == NVS_VER_1) {
        first = start;
        end = (uint8_t)(start + count);
    }
    for (uint8_t c = first; c < end; c++) {
        nvs_query q = chunk_query(ns, key, c);
        nvs_found at;
        esp_err_t err = nvs_find(nvs, &q, &at);
        if (!err)
            err = nvs_page_erase_entry_and_span(at.page, at.index);
        if (err)
            return err;
    }
    return ESP_OK;
}

esp_err_t nvs_blob_erase(esim_nvs *nvs, uint8_t ns, const char *key, uint8_t chunk_start)
{
    nvs_found idx;
    esp_err_t err = find_index(nvs, ns, key, chunk_start, &idx);
    if (err)
        return err;
    uint8_t count = esim_nvs_item_blob_chunk_count(&idx.item);
    err = nvs_page_erase_entry_and_span(idx.page, idx.index);
    if (err)
        return err;
    if (chunk_start == NVS_VER_ANY)
        return erase_any_version(nvs, ns, key);
    return erase_version_chunks(nvs, ns, key, chunk_start, count);
}
