/* esp32sim — NVS engine: mount-time work above the pages
 * (docs/nvs-engine.md, "Mount"): the namespace table, and blob indices
 * reconciled with their chunks. */
#include <stdlib.h>
#include <string.h>

#include "nvs_internal.h"

/* At most 15 characters, NUL-padded (strncpy of 15, then a NUL). */
void nvs_copy_key(char dst[ESIM_NVS_KEY_SIZE], const char *src)
{
    size_t i = 0;
    for (; i < ESIM_NVS_KEY_MAX && src[i] != '\0'; i++)
        dst[i] = src[i];
    memset(dst + i, 0, ESIM_NVS_KEY_SIZE - i);
}

/* ---- namespaces ---- */

static void mark_in_use(esim_nvs *nvs, uint8_t index)
{
    nvs->ns_in_use[index / 8] |= (uint8_t)(1u << (index % 8));
}

esp_err_t nvs_add_namespace(esim_nvs *nvs, const char *name, uint8_t index)
{
    if (nvs->name_count == nvs->name_cap) {
        size_t cap = nvs->name_cap ? nvs->name_cap * 2 : 8;
        nvs_namespace *grown = realloc(nvs->names, cap * sizeof *grown);
        if (!grown)
            return ESP_ERR_NO_MEM;
        nvs->names = grown;
        nvs->name_cap = cap;
    }
    nvs_namespace *ns = &nvs->names[nvs->name_count++];
    nvs_copy_key(ns->name, name);
    ns->index = index;
    mark_in_use(nvs, index);
    return ESP_OK;
}

const nvs_namespace *nvs_namespace_by_name(const esim_nvs *nvs, const char *name)
{
    for (size_t i = 0; i < nvs->name_count; i++)
        if (strncmp(name, nvs->names[i].name, ESIM_NVS_KEY_MAX) == 0)
            return &nvs->names[i];
    return NULL;
}

/* A key as ESP-IDF copies it out of an entry: at most 15 bytes. */
static void copy_key(char dst[ESIM_NVS_KEY_SIZE], const esim_nvs_item *item)
{
    nvs_copy_key(dst, item->key);
}

/* Namespace entries: namespace index 0, type U8. Another type there ends
 * the page's scan, as in ESP-IDF. */
esp_err_t nvs_load_namespaces(esim_nvs *nvs)
{
    nvs_query q = nvs_query_make(0, ESIM_NVS_TYPE_U8, NULL);
    for (uint32_t i = 0; i < nvs->pm.used_len; i++) {
        nvs_page *p = nvs_pages_at(&nvs->pm, i);
        uint32_t index = 0;
        esim_nvs_item item;
        while (nvs_page_find(p, &q, &index, &item) == ESP_OK) {
            char name[ESIM_NVS_KEY_SIZE];
            copy_key(name, &item);
            esp_err_t err = nvs_add_namespace(nvs, name, item.data[0]);
            if (err)
                return err;
            index += item.span;
        }
    }
    mark_in_use(nvs, 0);
    mark_in_use(nvs, 255);
    return ESP_OK;
}

/* ---- blob indices and their chunks ---- */

typedef struct {
    char key[ESIM_NVS_KEY_SIZE];
    uint8_t ns;
    uint8_t chunk_start;
    uint8_t chunk_count;
    uint32_t size;
    uint32_t seen_size;
    uint32_t seen_count;
    bool dropped;
} blob_index;

typedef struct {
    blob_index *items;
    size_t len;
    size_t cap;
} blob_index_list;

static esp_err_t add_index(blob_index_list *l, const esim_nvs_item *item)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        blob_index *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown)
            return ESP_ERR_NO_MEM;
        l->items = grown;
        l->cap = cap;
    }
    blob_index *b = &l->items[l->len++];
    memset(b, 0, sizeof *b);
    copy_key(b->key, item);
    b->ns = item->ns_index;
    b->chunk_start = esim_nvs_item_blob_chunk_start(item);
    b->chunk_count = esim_nvs_item_blob_chunk_count(item);
    b->size = esim_nvs_item_blob_size(item);
    return ESP_OK;
}

typedef esp_err_t (*item_visitor)(esim_nvs *nvs, nvs_page *p, const esim_nvs_item *item, void *ctx);

/* Every item of a type on every page, in page order. */
static esp_err_t visit_items(esim_nvs *nvs, uint8_t type, item_visitor fn, void *ctx)
{
    nvs_query q = nvs_query_make(ESIM_NVS_NS_ANY, type, NULL);
    for (uint32_t i = 0; i < nvs->pm.used_len; i++) {
        nvs_page *p = nvs_pages_at(&nvs->pm, i);
        uint32_t index = 0;
        esim_nvs_item item;
        while (nvs_page_find(p, &q, &index, &item) == ESP_OK) {
            esp_err_t err = fn(nvs, p, &item, ctx);
            if (err)
                return err;
            index += item.span;
        }
    }
    return ESP_OK;
}

static esp_err_t collect_index(esim_nvs *nvs, nvs_page *p, const esim_nvs_item *item, void *ctx)
{
    (void)nvs;
    (void)p;
    return add_index(ctx, item);
}

static bool same_blob(const blob_index *b, const esim_nvs_item *chunk)
{
    return !b->dropped && strncmp(chunk->key, b->key, ESIM_NVS_KEY_MAX) == 0 && chunk->ns_index == b->ns
        && chunk->chunk_index >= b->chunk_start;
}

/* A chunk counts for the first index of its key whose version range
 * (0x00..0x7F or 0x80..0xFE) holds its chunk index. */
static esp_err_t tally_chunk(esim_nvs *nvs, nvs_page *p, const esim_nvs_item *item, void *ctx)
{
    blob_index_list *l = ctx;
    (void)nvs;
    (void)p;
    for (size_t i = 0; i < l->len; i++) {
        blob_index *b = &l->items[i];
        unsigned limit = b->chunk_start == NVS_VER_0 ? NVS_VER_1 : NVS_VER_ANY;
        if (same_blob(b, item) && item->chunk_index < limit) {
            b->seen_size += esim_nvs_item_var_size(item);
            b->seen_count++;
            return ESP_OK;
        }
    }
    return ESP_OK;
}

static void erase_index(esim_nvs *nvs, const blob_index *b)
{
    nvs_query q = nvs_query_make(b->ns, ESIM_NVS_TYPE_BLOB_IDX, b->key);
    q.chunk_start = b->chunk_start;
    for (uint32_t i = 0; i < nvs->pm.used_len; i++) {
        nvs_page *p = nvs_pages_at(&nvs->pm, i);
        if (p->state == NVS_PAGE_CORRUPT || p->state == NVS_PAGE_INVALID
            || p->state == ESIM_NVS_PAGE_UNINITIALIZED)
            continue;
        if (nvs_page_erase_item(p, &q) == ESP_OK)
            return;
    }
}

/* An index whose chunks do not add up to its size and count is erased. */
static void drop_mismatched(esim_nvs *nvs, blob_index_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        blob_index *b = &l->items[i];
        if (b->seen_size == b->size && b->seen_count == b->chunk_count)
            continue;
        erase_index(nvs, b);
        b->dropped = true;
    }
}

/* A chunk no index claims is erased. */
static esp_err_t drop_if_orphan(esim_nvs *nvs, nvs_page *p, const esim_nvs_item *item, void *ctx)
{
    blob_index_list *l = ctx;
    (void)nvs;
    for (size_t i = 0; i < l->len; i++) {
        const blob_index *b = &l->items[i];
        if (same_blob(b, item) && item->chunk_index < (unsigned)b->chunk_start + b->chunk_count)
            return ESP_OK;
    }
    char key[ESIM_NVS_KEY_SIZE];
    copy_key(key, item);
    nvs_query q = nvs_query_make(item->ns_index, ESIM_NVS_TYPE_BLOB_DATA, key);
    q.chunk = item->chunk_index;
    nvs_page_erase_item(p, &q);
    return ESP_OK;
}

esp_err_t nvs_reconcile_blobs(esim_nvs *nvs)
{
    blob_index_list l = {NULL, 0, 0};
    esp_err_t err = visit_items(nvs, ESIM_NVS_TYPE_BLOB_IDX, collect_index, &l);
    if (!err)
        err = visit_items(nvs, ESIM_NVS_TYPE_BLOB_DATA, tally_chunk, &l);
    if (!err) {
        drop_mismatched(nvs, &l);
        err = visit_items(nvs, ESIM_NVS_TYPE_BLOB_DATA, drop_if_orphan, &l);
    }
    free(l.items);
    return err;
}
