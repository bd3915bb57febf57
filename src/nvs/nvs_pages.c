/* esp32sim — NVS engine, the page manager (docs/nvs-engine.md). */
#include <stdlib.h>
#include <string.h>

#include "nvs_pages.h"

#define ENTRY_COUNT ESIM_NVS_ENTRY_COUNT

/* ---- the two lists ---- */

nvs_page *nvs_pages_at(const nvs_pages *pm, uint32_t i)
{
    return i < pm->used_len ? &pm->pages[pm->used[i]] : NULL;
}

nvs_page *nvs_pages_current(const nvs_pages *pm)
{
    return pm->used_len ? nvs_pages_at(pm, pm->used_len - 1) : NULL;
}

nvs_page *nvs_pages_next_with_hash(const nvs_pages *pm, uint32_t hash, uint32_t *position)
{
    uint32_t page = nvs_index_next_page(&pm->index, hash, position);
    return page < pm->count ? &pm->pages[page] : NULL;
}

static uint16_t page_number(const nvs_pages *pm, const nvs_page *p)
{
    return (uint16_t)(p - pm->pages);
}

/* The index learns the new places of the pages in use from `from` on. */
static void renumber(nvs_pages *pm, uint32_t from)
{
    for (uint32_t i = from; i < pm->used_len; i++)
        nvs_index_set_order(&pm->index, pm->used[i], i);
}

static void list_insert(uint16_t *list, uint32_t *len, uint32_t at, uint16_t page)
{
    memmove(list + at + 1, list + at, (*len - at) * sizeof *list);
    list[at] = page;
    (*len)++;
}

static void list_remove(uint16_t *list, uint32_t *len, uint16_t page)
{
    for (uint32_t i = 0; i < *len; i++) {
        if (list[i] == page) {
            memmove(list + i, list + i + 1, (*len - i - 1) * sizeof *list);
            (*len)--;
            return;
        }
    }
}

/* Before the first page with a larger sequence number. */
static void add_in_seqno_order(nvs_pages *pm, uint16_t page)
{
    uint32_t at = 0;
    uint32_t seqno = pm->pages[page].seqno;
    while (at < pm->used_len && pm->pages[pm->used[at]].seqno <= seqno)
        at++;
    list_insert(pm->used, &pm->used_len, at, page);
    renumber(pm, at);
}

/* A page leaves the used list for the back of the free list. */
static void retire(nvs_pages *pm, nvs_page *p)
{
    uint16_t n = page_number(pm, p);
    list_remove(pm->used, &pm->used_len, n);
    pm->free[pm->free_len++] = n;
    nvs_index_set_order(&pm->index, n, UINT32_MAX);
    renumber(pm, 0);
}

static esp_err_t activate(nvs_pages *pm)
{
    if (pm->free_len == 0)
        return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
    nvs_page *p = &pm->pages[pm->free[0]];
    if (p->state == NVS_PAGE_CORRUPT) {
        esp_err_t err = nvs_page_erase(p);
        if (err)
            return err;
    }
    uint16_t n = pm->free[0];
    list_remove(pm->free, &pm->free_len, n);
    pm->used[pm->used_len++] = n;
    nvs_index_set_order(&pm->index, n, pm->used_len - 1);
    if (p->state == ESIM_NVS_PAGE_UNINITIALIZED)
        p->seqno = pm->next_seqno;
    pm->next_seqno++;
    return ESP_OK;
}

/* ---- garbage collection ---- */

/* The page with the most entries not WRITTEN; the oldest on a tie. */
static nvs_page *pick_victim(const nvs_pages *pm)
{
    nvs_page *victim = NULL;
    size_t most = 0;
    for (uint32_t i = 0; i < pm->used_len; i++) {
        nvs_page *p = nvs_pages_at(pm, i);
        size_t unused = p->used < ENTRY_COUNT ? ENTRY_COUNT - p->used : 0;
        if (unused > most) {
            victim = p;
            most = unused;
        }
    }
    return victim;
}

/* FREEING victim: its items go to a new page, then it is erased. */
static esp_err_t move_and_erase(nvs_pages *pm, nvs_page *victim)
{
    esp_err_t err = activate(pm);
    if (err)
        return err;
    err = nvs_page_copy_items(victim, nvs_pages_current(pm));
    if (err && err != ESP_ERR_NVS_NOT_FOUND)
        return err;
    err = nvs_page_erase(victim);
    if (err)
        return err;
    retire(pm, victim);
    return ESP_OK;
}

esp_err_t nvs_pages_request_new(nvs_pages *pm)
{
    if (pm->free_len == 0)
        return ESP_ERR_NVS_INVALID_STATE;
    if (pm->free_len >= 2)
        return activate(pm);
    nvs_page *victim = pick_victim(pm);
    if (!victim)
        return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
    esp_err_t err = nvs_page_mark_freeing(victim);
    if (err)
        return err;
    return move_and_erase(pm, victim);
}

/* ---- mount-time recovery across pages ---- */

static bool last_item_of(nvs_page *p, esim_nvs_item *last)
{
    nvs_query any = nvs_query_make(ESIM_NVS_NS_ANY, ESIM_NVS_TYPE_ANY, NULL);
    uint32_t index = 0;
    esim_nvs_item item;
    bool found = false;
    while (nvs_page_find(p, &any, &index, &item) == ESP_OK) {
        index += item.span ? item.span : 1u;
        *last = item;
        found = true;
    }
    return found;
}

static bool erase_in_older(nvs_pages *pm, const esim_nvs_item *item, uint8_t type)
{
    char key[ESIM_NVS_KEY_SIZE];
    memcpy(key, item->key, ESIM_NVS_KEY_MAX);
    key[ESIM_NVS_KEY_MAX] = '\0';
    nvs_query q = nvs_query_make(item->ns_index, type, key);
    q.chunk = item->chunk_index;
    for (uint32_t i = 0; i + 1 < pm->used_len; i++) {
        nvs_page *p = nvs_pages_at(pm, i);
        if (p->state != ESIM_NVS_PAGE_FREEING && nvs_page_erase_item(p, &q) == ESP_OK)
            return true;
    }
    return false;
}

/* Power lost between writing a new value and erasing the old one: the
 * newest page's last item is looked for in older pages. */
static void drop_stale_duplicate(nvs_pages *pm)
{
    esim_nvs_item last;
    if (!last_item_of(nvs_pages_current(pm), &last))
        return;
    if (erase_in_older(pm, &last, last.type))
        return;
    if (last.type == ESIM_NVS_TYPE_BLOB_IDX)
        erase_in_older(pm, &last, ESIM_NVS_TYPE_BLOB);
}

/* Power lost during garbage collection: copy the FREEING page again. */
static esp_err_t finish_freeing(nvs_pages *pm)
{
    for (uint32_t i = 0; i < pm->used_len; i++) {
        nvs_page *p = nvs_pages_at(pm, i);
        if (p->state != ESIM_NVS_PAGE_FREEING)
            continue;
        nvs_page *newest = nvs_pages_current(pm);
        if (newest->state == ESIM_NVS_PAGE_ACTIVE) {
            esp_err_t err = nvs_page_erase(newest);
            if (err)
                return err;
            retire(pm, newest);
        }
        return move_and_erase(pm, p);
    }
    return ESP_OK;
}

/* ---- load ---- */

static esp_err_t allocate(nvs_pages *pm, uint32_t count)
{
    memset(pm, 0, sizeof *pm);
    pm->pages = calloc(count, sizeof *pm->pages);
    pm->used = calloc(count, sizeof *pm->used);
    pm->free = calloc(count, sizeof *pm->free);
    if (!pm->pages || !pm->used || !pm->free)
        return ESP_ERR_NO_MEM;
    pm->count = count;
    return nvs_index_init(&pm->index, count);
}

static esp_err_t load_all(nvs_pages *pm, esim_flash *flash, uint32_t base, bool read_only)
{
    for (uint32_t i = 0; i < pm->count; i++) {
        nvs_page *p = &pm->pages[i];
        nvs_page_setup(p, flash, read_only, base + i * ESIM_FLASH_SECTOR_SIZE, &pm->index, (uint16_t)i);
        esp_err_t err = nvs_page_load(p);
        if (err)
            return err;
        if (nvs_page_has_seqno(p))
            add_in_seqno_order(pm, (uint16_t)i);
        else
            pm->free[pm->free_len++] = (uint16_t)i;
    }
    return ESP_OK;
}

esp_err_t nvs_pages_load(nvs_pages *pm, esim_flash *flash, uint32_t base, uint32_t count, bool read_only)
{
    esp_err_t err = allocate(pm, count);
    if (err)
        return err;
    pm->read_only = read_only;
    err = load_all(pm, flash, base, read_only);
    if (err)
        return err;
    if (pm->used_len == 0) {
        pm->next_seqno = 0;
        return activate(pm);
    }
    pm->next_seqno = nvs_pages_current(pm)->seqno + 1;
    if (read_only)
        return ESP_OK;
    drop_stale_duplicate(pm);
    err = finish_freeing(pm);
    if (err)
        return err;
    return pm->free_len == 0 ? ESP_ERR_NVS_NO_FREE_PAGES : ESP_OK;
}

void nvs_pages_drop_images(nvs_pages *pm)
{
    if (pm->pages)
        for (uint32_t i = 0; i < pm->count; i++)
            nvs_page_drop_image(&pm->pages[i]);
}

void nvs_pages_free(nvs_pages *pm)
{
    nvs_pages_drop_images(pm);
    nvs_index_free(&pm->index);
    free(pm->pages);
    free(pm->used);
    free(pm->free);
    memset(pm, 0, sizeof *pm);
}

/* ---- statistics ---- */

static esp_err_t count_page(const nvs_page *p, nvs_entry_counts *c)
{
    c->total += ENTRY_COUNT;
    switch (p->state) {
    case ESIM_NVS_PAGE_UNINITIALIZED:
    case NVS_PAGE_CORRUPT:
        c->free += ENTRY_COUNT;
        return ESP_OK;
    case ESIM_NVS_PAGE_FULL:
    case ESIM_NVS_PAGE_ACTIVE:
        c->used += p->used;
        c->free += ENTRY_COUNT - p->used;
        return ESP_OK;
    case ESIM_NVS_PAGE_FREEING:
        return ESP_FAIL;
    default:
        return ESP_ERR_INVALID_STATE;
    }
}

esp_err_t nvs_pages_count_entries(const nvs_pages *pm, nvs_entry_counts *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < pm->used_len; i++) {
        esp_err_t err = count_page(nvs_pages_at(pm, i), out);
        if (err)
            return err;
    }
    out->total += (size_t)pm->free_len * ENTRY_COUNT;
    out->free += (size_t)pm->free_len * ENTRY_COUNT;
    out->available = out->free >= ENTRY_COUNT ? out->free - ENTRY_COUNT : 0;
    return ESP_OK;
}
