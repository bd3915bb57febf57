/* esp32sim — NVS engine: lookups within one page (docs/nvs-engine.md).
 *
 * A lookup by namespace and key asks the index where to start and scans
 * the entries from there; an item whose header is not sound is erased on
 * the way, as ESP-IDF does. */
#include <string.h>

#include "nvs_page.h"

#define ENTRY_COUNT ESIM_NVS_ENTRY_COUNT
#define ENTRY_SIZE  ESIM_NVS_ENTRY_SIZE

nvs_query nvs_query_make(uint8_t ns, uint8_t type, const char *key)
{
    nvs_query q = {ns, type, key, ESIM_NVS_CHUNK_ANY, NVS_VER_ANY};
    return q;
}

static bool page_is_searchable(const nvs_page *p)
{
    return p->state != NVS_PAGE_CORRUPT && p->state != NVS_PAGE_INVALID
        && p->state != ESIM_NVS_PAGE_UNINITIALIZED;
}

static uint32_t scan_end(const nvs_page *p)
{
    return p->next_free < ENTRY_COUNT ? p->next_free : ENTRY_COUNT;
}

static uint32_t scan_start(const nvs_page *p, uint32_t from)
{
    if (p->first_used != NVS_NO_ENTRY && from > p->first_used)
        return from;
    return p->first_used;
}

bool nvs_query_uses_hash(const nvs_query *q)
{
    return q->ns != ESIM_NVS_NS_ANY && q->key != NULL
        && (q->type != ESIM_NVS_TYPE_BLOB_DATA || q->chunk != ESIM_NVS_CHUNK_ANY);
}

/* The key as an item stores it: at most 15 bytes, NUL-padded. */
uint32_t nvs_query_hash(const nvs_query *q)
{
    char key[ESIM_NVS_KEY_SIZE];
    size_t i = 0;
    for (; i < ESIM_NVS_KEY_MAX && q->key[i] != '\0'; i++)
        key[i] = q->key[i];
    memset(key + i, 0, sizeof key - i);
    return esim_nvs_item_hash(q->ns, key, q->chunk);
}

typedef enum { SKIP, MATCH, MISMATCH, MISMATCH_AT } match_result;

/* The BLOB_DATA / BLOB / BLOB_IDX rules of findItem. */
static match_result match_blob_rules(const nvs_query *q, const esim_nvs_item *it)
{
    bool any_chunk = q->chunk == ESIM_NVS_CHUNK_ANY;
    if (!any_chunk && q->type == ESIM_NVS_TYPE_BLOB_DATA && it->chunk_index != q->chunk)
        return SKIP;
    if (any_chunk && q->type == ESIM_NVS_TYPE_BLOB_DATA && it->type != ESIM_NVS_TYPE_BLOB_DATA)
        return SKIP;
    if (any_chunk && q->type == ESIM_NVS_TYPE_BLOB && it->type == ESIM_NVS_TYPE_BLOB_IDX)
        return MISMATCH;
    if (any_chunk && q->type == ESIM_NVS_TYPE_BLOB && it->type == ESIM_NVS_TYPE_BLOB_DATA)
        return SKIP;
    if (q->type == ESIM_NVS_TYPE_BLOB_IDX && it->chunk_index != ESIM_NVS_CHUNK_ANY)
        return SKIP;
    if (q->type == ESIM_NVS_TYPE_BLOB_IDX && q->chunk_start != NVS_VER_ANY
        && esim_nvs_item_blob_chunk_start(it) != q->chunk_start)
        return SKIP;
    return MATCH;
}

static match_result match_item(const nvs_query *q, const esim_nvs_item *it)
{
    if (q->ns != ESIM_NVS_NS_ANY && it->ns_index != q->ns)
        return SKIP;
    if (q->key != NULL && strncmp(q->key, it->key, ESIM_NVS_KEY_MAX) != 0)
        return SKIP;
    match_result r = match_blob_rules(q, it);
    if (r != MATCH)
        return r;
    if (q->type != ESIM_NVS_TYPE_ANY && it->type != q->type) {
        if (q->key == NULL && q->ns == ESIM_NVS_NS_ANY && q->chunk == ESIM_NVS_CHUNK_ANY)
            return SKIP;
        return MISMATCH_AT;
    }
    return MATCH;
}

/* Reads entry i if WRITTEN and sound; an unsound header is erased.
 * *ok false: skip it. */
static esp_err_t fetch_entry(nvs_page *p, uint32_t i, esim_nvs_item *it, bool *ok)
{
    *ok = false;
    if (nvs_bitmap_get(p->bitmap, i) != ESIM_NVS_ENTRY_WRITTEN)
        return ESP_OK;
    esp_err_t err = nvs_page_read_entry(p, i, it);
    if (err) {
        p->state = NVS_PAGE_INVALID;
        return err;
    }
    if (nvs_page_item_consistent(p, it, i)) {
        *ok = true;
        return ESP_OK;
    }
    err = nvs_page_erase_entry_and_span(p, i);
    if (err)
        p->state = NVS_PAGE_INVALID;
    return err;
}

static esp_err_t scan(nvs_page *p, const nvs_query *q, uint32_t start, uint32_t *index, esim_nvs_item *item)
{
    uint32_t end = scan_end(p), next;
    for (uint32_t i = start; i < end; i = next) {
        esim_nvs_item it;
        bool ok;
        next = i + 1;
        esp_err_t err = fetch_entry(p, i, &it, &ok);
        if (err)
            return err;
        if (!ok)
            continue;
        if (nvs_type_is_variable(it.type))
            next = i + it.span;
        match_result r = match_item(q, &it);
        if (r == SKIP)
            continue;
        if (r == MISMATCH)
            return ESP_ERR_NVS_TYPE_MISMATCH;
        *index = i;
        *item = it;
        return r == MATCH ? ESP_OK : ESP_ERR_NVS_TYPE_MISMATCH;
    }
    return ESP_ERR_NVS_NOT_FOUND;
}

esp_err_t nvs_page_find_hashed(nvs_page *p, const nvs_query *q, uint32_t hash, uint32_t *index, esim_nvs_item *item)
{
    if (!page_is_searchable(p) || *index >= ENTRY_COUNT)
        return ESP_ERR_NVS_NOT_FOUND;
    uint32_t start = scan_start(p, *index);
    if (nvs_query_uses_hash(q)) {
        uint32_t cached = nvs_index_first(p->index, p->number, start, hash);
        if (cached >= ENTRY_COUNT)
            return ESP_ERR_NVS_NOT_FOUND;
        start = cached;
    }
    return scan(p, q, start, index, item);
}

esp_err_t nvs_page_find(nvs_page *p, const nvs_query *q, uint32_t *index, esim_nvs_item *item)
{
    uint32_t hash = nvs_query_uses_hash(q) ? nvs_query_hash(q) : 0;
    return nvs_page_find_hashed(p, q, hash, index, item);
}

bool nvs_page_next_item(const nvs_page *p, uint32_t *index, esim_nvs_item *item)
{
    if (!page_is_searchable(p) || *index >= ENTRY_COUNT)
        return false;
    uint32_t end = scan_end(p), next;
    for (uint32_t i = scan_start(p, *index); i < end; i = next) {
        next = i + 1;
        if (nvs_bitmap_get(p->bitmap, i) != ESIM_NVS_ENTRY_WRITTEN)
            continue;
        if (nvs_page_read_entry(p, i, item) != ESP_OK)
            return false;
        if (!nvs_item_consistent(item, i))
            continue;
        *index = i;
        return true;
    }
    return false;
}

/* ---- reading and comparing values ---- */

esp_err_t nvs_page_read_var_data(nvs_page *p, uint32_t index, const esim_nvs_item *item, void *out)
{
    uint8_t *dst = out;
    size_t left = esim_nvs_item_var_size(item);
    for (uint32_t i = index + 1; i < index + item->span && left > 0; i++) {
        esim_nvs_item data;
        uint8_t raw[ENTRY_SIZE];
        esp_err_t err = nvs_page_read_entry(p, i, &data);
        if (err)
            return err;
        esim_nvs_item_encode(&data, raw);
        size_t n = left < ENTRY_SIZE ? left : ENTRY_SIZE;
        memcpy(dst, raw, n);
        dst += n;
        left -= n;
    }
    if (esim_nvs_crc32(out, esim_nvs_item_var_size(item)) == esim_nvs_item_var_crc(item))
        return ESP_OK;
    esp_err_t err = nvs_page_erase_entry_and_span(p, index);
    return err ? err : ESP_ERR_NVS_NOT_FOUND;
}

/* Fixed-size values are read as 1, 2, 4 or 8 bytes (the low type nibble). */
static size_t fixed_size(uint8_t type)
{
    return type & 0x0Fu;
}

esp_err_t nvs_page_read_found(nvs_page *p, const nvs_query *q, uint32_t index, const esim_nvs_item *item,
                              void *data, size_t size)
{
    if (!nvs_type_is_variable(q->type)) {
        if (size != fixed_size(q->type))
            return ESP_ERR_NVS_TYPE_MISMATCH;
        memcpy(data, item->data, size);
        return ESP_OK;
    }
    if (size < esim_nvs_item_var_size(item))
        return ESP_ERR_NVS_INVALID_LENGTH;
    return nvs_page_read_var_data(p, index, item, data);
}

esp_err_t nvs_page_read_item(nvs_page *p, const nvs_query *q, void *data, size_t size)
{
    uint32_t index = 0;
    esim_nvs_item item;
    if (p->state == NVS_PAGE_INVALID)
        return ESP_ERR_NVS_INVALID_STATE;
    esp_err_t err = nvs_page_find(p, q, &index, &item);
    if (err)
        return err;
    return nvs_page_read_found(p, q, index, &item, data, size);
}

static esp_err_t cmp_var_data(nvs_page *p, uint32_t index, const esim_nvs_item *item, const uint8_t *src)
{
    size_t left = esim_nvs_item_var_size(item);
    const uint8_t *at = src;
    for (uint32_t i = index + 1; i < index + item->span && left > 0; i++) {
        esim_nvs_item data;
        uint8_t raw[ENTRY_SIZE];
        esp_err_t err = nvs_page_read_entry(p, i, &data);
        if (err)
            return err;
        esim_nvs_item_encode(&data, raw);
        size_t n = left < ENTRY_SIZE ? left : ENTRY_SIZE;
        if (memcmp(at, raw, n) != 0)
            return NVS_ERR_CONTENT_DIFFERS;
        at += n;
        left -= n;
    }
    if (esim_nvs_crc32(src, esim_nvs_item_var_size(item)) != esim_nvs_item_var_crc(item))
        return ESP_ERR_NVS_NOT_FOUND;
    return ESP_OK;
}

esp_err_t nvs_page_cmp_found(nvs_page *p, const nvs_query *q, uint32_t index, const esim_nvs_item *item,
                             const void *data, size_t size)
{
    if (!nvs_type_is_variable(q->type)) {
        if (size != fixed_size(q->type))
            return ESP_ERR_NVS_TYPE_MISMATCH;
        return memcmp(data, item->data, size) ? NVS_ERR_CONTENT_DIFFERS : ESP_OK;
    }
    if (size < esim_nvs_item_var_size(item))
        return ESP_ERR_NVS_INVALID_LENGTH;
    return cmp_var_data(p, index, item, data);
}

esp_err_t nvs_page_cmp_item(nvs_page *p, const nvs_query *q, const void *data, size_t size)
{
    uint32_t index = 0;
    esim_nvs_item item;
    if (p->state == NVS_PAGE_INVALID)
        return ESP_ERR_NVS_INVALID_STATE;
    esp_err_t err = nvs_page_find(p, q, &index, &item);
    if (err)
        return err;
    return nvs_page_cmp_found(p, q, index, &item, data, size);
}

esp_err_t nvs_page_erase_item(nvs_page *p, const nvs_query *q)
{
    uint32_t index = 0;
    esim_nvs_item item;
    esp_err_t err = nvs_page_find(p, q, &index, &item);
    if (err)
        return err;
    return nvs_page_erase_entry_and_span(p, index);
}

/* ---- copying a page (garbage collection) ---- */

static esp_err_t copy_entry(nvs_page *src, nvs_page *dst, uint32_t i)
{
    uint8_t raw[ENTRY_SIZE];
    esp_err_t err = nvs_page_read(src, ESIM_NVS_ENTRIES_OFFSET + i * ENTRY_SIZE, raw, sizeof raw);
    if (err)
        return err;
    return nvs_page_write_entry(dst, raw);
}

/* One item (header entry, then each data entry) into dst; *next past it. */
static esp_err_t copy_item(nvs_page *src, nvs_page *dst, uint32_t i, uint32_t *next)
{
    esim_nvs_item item;
    esp_err_t err = nvs_page_read_entry(src, i, &item);
    if (err)
        return err;
    err = nvs_index_insert(dst->index, dst->number, nvs_item_stored_hash(&item), dst->next_free);
    if (err)
        return err;
    err = copy_entry(src, dst, i);
    if (err)
        return err;
    uint32_t end = i + (item.span ? item.span : 1);
    if (end > ENTRY_COUNT)
        return ESP_FAIL;
    for (uint32_t j = i + 1; j < end; j++) {
        err = copy_entry(src, dst, j);
        if (err)
            return err;
    }
    *next = end;
    return ESP_OK;
}

esp_err_t nvs_page_copy_items(nvs_page *src, nvs_page *dst)
{
    if (src->first_used == NVS_NO_ENTRY)
        return ESP_ERR_NVS_NOT_FOUND;
    if (dst->state == ESIM_NVS_PAGE_UNINITIALIZED) {
        esp_err_t err = nvs_page_initialize(dst);
        if (err)
            return err;
    }
    uint32_t i = src->first_used;
    while (i < ENTRY_COUNT) {
        if (nvs_bitmap_get(src->bitmap, i) != ESIM_NVS_ENTRY_WRITTEN) {
            i++;
            continue;
        }
        esp_err_t err = copy_item(src, dst, i, &i);
        if (err)
            return err;
    }
    return ESP_OK;
}
