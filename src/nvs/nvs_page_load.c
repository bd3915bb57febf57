/* esp32sim — NVS engine: loading a page and its power-loss recovery
 * (docs/nvs-engine.md, "Mount").
 *
 * A page is classified from its header; the bitmap is read for the pages
 * that hold data. An ACTIVE page may have been cut in the middle of a write:
 * entries programmed after the last marked one are marked ERASED, items
 * whose data entries are not all WRITTEN are erased, and of two items with
 * the same namespace, key and chunk the earlier is erased. */
#include <stdlib.h>
#include <string.h>

#include "nvs_page.h"

#define ENTRY_COUNT ESIM_NVS_ENTRY_COUNT
#define ENTRY_SIZE  ESIM_NVS_ENTRY_SIZE

static esp_err_t fail(nvs_page *p, esp_err_t err)
{
    p->state = NVS_PAGE_INVALID;
    return err;
}

static esp_err_t sector_is_blank(nvs_page *p, bool *blank)
{
    uint8_t block[512];
    *blank = true;
    for (uint32_t off = 0; off < ESIM_FLASH_SECTOR_SIZE; off += sizeof block) {
        esp_err_t err = nvs_page_read(p, off, block, sizeof block);
        if (err)
            return err;
        for (size_t i = 0; i < sizeof block; i++) {
            if (block[i] != 0xFF) {
                *blank = false;
                return ESP_OK;
            }
        }
    }
    return ESP_OK;
}

static void count_entries(nvs_page *p)
{
    p->used = 0;
    p->erased = 0;
    for (uint32_t i = 0; i < ENTRY_COUNT; i++) {
        esim_nvs_entry_state s = nvs_bitmap_get(p->bitmap, i);
        if (s == ESIM_NVS_ENTRY_WRITTEN) {
            if (p->first_used == NVS_NO_ENTRY)
                p->first_used = i;
            p->used++;
        } else if (s == ESIM_NVS_ENTRY_ERASED) {
            p->erased++;
        }
    }
}

/* ---- ACTIVE pages ---- */

static void find_next_free(nvs_page *p)
{
    for (uint32_t i = 0; i < ENTRY_COUNT; i++) {
        if (nvs_bitmap_get(p->bitmap, i) == ESIM_NVS_ENTRY_EMPTY) {
            p->next_free = i;
            return;
        }
    }
}

/* Entries programmed but never marked (power lost between the entry and its
 * bitmap word) become ERASED, one bitmap word write each. */
static esp_err_t skip_half_written(nvs_page *p)
{
    while (p->next_free < ENTRY_COUNT) {
        uint8_t head[4];
        uint32_t at = ESIM_NVS_ENTRIES_OFFSET + p->next_free * ENTRY_SIZE;
        esp_err_t err = nvs_page_read(p, at, head, sizeof head);
        if (err)
            return fail(p, err);
        if (head[0] == 0xFF && head[1] == 0xFF && head[2] == 0xFF && head[3] == 0xFF)
            return ESP_OK;
        esim_nvs_entry_state old = nvs_bitmap_get(p->bitmap, p->next_free);
        err = nvs_page_set_entry_state(p, p->next_free, ESIM_NVS_ENTRY_ERASED);
        if (err)
            return fail(p, err);
        p->next_free++;
        if (old == ESIM_NVS_ENTRY_WRITTEN && p->used > 0)
            p->used--;
        p->erased++;
    }
    return ESP_OK;
}

static bool span_all_written(const nvs_page *p, uint32_t i, uint32_t span)
{
    for (uint32_t j = i; j < i + span; j++)
        if (j >= ENTRY_COUNT || nvs_bitmap_get(p->bitmap, j) != ESIM_NVS_ENTRY_WRITTEN)
            return false;
    return true;
}

/* What the scan of an ACTIVE page remembers about its last item. */
typedef struct {
    uint32_t last;           /* index of the last WRITTEN item, or NVS_NO_ENTRY */
    esim_nvs_item item;      /* the last entry read */
} active_scan;

/* One WRITTEN entry at i; *span is how far the scan moves on. */
static esp_err_t scan_written(nvs_page *p, uint32_t i, active_scan *s, uint32_t *span)
{
    s->last = i;
    esp_err_t err = nvs_page_read_entry(p, i, &s->item);
    if (err)
        return fail(p, err);
    if (!nvs_page_item_consistent(p, &s->item, i)) {
        err = nvs_page_erase_entry_and_span(p, i);
        return err ? fail(p, err) : ESP_OK;
    }
    uint32_t hash = nvs_item_stored_hash(&s->item);
    err = nvs_index_insert(p->index, p->number, hash, i);
    if (err)
        return fail(p, err);
    uint32_t duplicate = nvs_index_first(p->index, p->number, 0, hash);
    if (nvs_type_is_variable(s->item.type)) {
        *span = s->item.span;
        if (!span_all_written(p, i, *span)) {
            nvs_page_erase_entry_and_span(p, i);
            s->last = NVS_NO_ENTRY;
            return ESP_OK;
        }
    }
    if (duplicate < i)
        nvs_page_erase_entry_and_span(p, duplicate);
    return ESP_OK;
}

static esp_err_t scan_active_items(nvs_page *p, active_scan *s)
{
    uint32_t end = p->next_free < ENTRY_COUNT ? p->next_free : ENTRY_COUNT;
    uint32_t span;
    for (uint32_t i = 0; i < end; i += span) {
        esim_nvs_entry_state state = nvs_bitmap_get(p->bitmap, i);
        esp_err_t err = ESP_OK;
        span = 1;
        if (state == ESIM_NVS_ENTRY_ERASED) {
            s->last = NVS_NO_ENTRY;
        } else if (state == ESIM_NVS_ENTRY_ILLEGAL) {
            s->last = NVS_NO_ENTRY;
            err = nvs_page_erase_entry_and_span(p, i);
            if (err)
                return fail(p, err);
        } else {
            err = scan_written(p, i, s, &span);
            if (err)
                return err;
        }
    }
    return ESP_OK;
}

/* The last item must not repeat an earlier one on the page. */
static esp_err_t drop_duplicate_of_last(nvs_page *p, const active_scan *s)
{
    char key[ESIM_NVS_KEY_SIZE];
    memcpy(key, s->item.key, ESIM_NVS_KEY_MAX);
    key[ESIM_NVS_KEY_MAX] = '\0';
    nvs_query q = nvs_query_make(s->item.ns_index, s->item.type, key);
    uint32_t index = 0;
    esim_nvs_item found;
    if (nvs_page_find(p, &q, &index, &found) != ESP_OK || index >= s->last)
        return ESP_OK;
    esp_err_t err = nvs_page_erase_entry_and_span(p, index);
    return err ? fail(p, err) : ESP_OK;
}

static esp_err_t recover_active(nvs_page *p)
{
    active_scan s;
    memset(&s, 0, sizeof s);
    s.last = NVS_NO_ENTRY;
    find_next_free(p);
    esp_err_t err = skip_half_written(p);
    if (err)
        return err;
    err = scan_active_items(p, &s);
    if (err)
        return err;
    if (s.last == NVS_NO_ENTRY)
        return ESP_OK;
    return drop_duplicate_of_last(p, &s);
}

/* ---- FULL and FREEING pages ---- */

/* One WRITTEN entry at *i of a FULL/FREEING page; moves *i to the item's
 * last entry. */
static esp_err_t check_full_item(nvs_page *p, uint32_t *i)
{
    esim_nvs_item item;
    esp_err_t err = nvs_page_read_entry(p, *i, &item);
    if (err)
        return fail(p, err);
    if (!nvs_page_item_consistent(p, &item, *i)) {
        err = nvs_page_erase_entry_and_span(p, *i);
        return err ? fail(p, err) : ESP_OK;
    }
    err = nvs_index_insert(p->index, p->number, nvs_item_stored_hash(&item), *i);
    if (err)
        return fail(p, err);
    if (nvs_type_is_variable(item.type) && !span_all_written(p, *i + 1, item.span - 1u))
        nvs_page_erase_entry_and_span(p, *i);
    *i += item.span - 1u;
    return ESP_OK;
}

static esp_err_t recover_full(nvs_page *p)
{
    if (p->first_used == NVS_NO_ENTRY)
        return ESP_OK;
    for (uint32_t i = p->first_used; i < ENTRY_COUNT; i++) {
        if (nvs_bitmap_get(p->bitmap, i) != ESIM_NVS_ENTRY_WRITTEN)
            continue;
        esp_err_t err = check_full_item(p, &i);
        if (err)
            return err;
    }
    return ESP_OK;
}

static esp_err_t load_entry_table(nvs_page *p)
{
    esp_err_t err = nvs_page_read(p, ESIM_NVS_BITMAP_OFFSET, p->bitmap, sizeof p->bitmap);
    if (err)
        return fail(p, err);
    count_entries(p);
    if (p->state == ESIM_NVS_PAGE_ACTIVE)
        return recover_active(p);
    return recover_full(p);
}

/* ---- classification ---- */

static esp_err_t classify(nvs_page *p, const uint8_t raw[32])
{
    esim_nvs_page_header hdr;
    esim_nvs_header_decode(raw, &hdr);
    if (hdr.state == ESIM_NVS_PAGE_UNINITIALIZED) {
        bool blank;
        esp_err_t err = sector_is_blank(p, &blank);
        if (err)
            return fail(p, err);
        p->state = blank ? ESIM_NVS_PAGE_UNINITIALIZED : NVS_PAGE_CORRUPT;
        return ESP_OK;
    }
    if (hdr.crc != esim_nvs_header_crc(raw)) {
        p->state = NVS_PAGE_CORRUPT;
        return ESP_OK;
    }
    p->state = hdr.state;
    p->seqno = hdr.seqno;
    if (hdr.version < ESIM_NVS_VERSION_2)
        return ESP_ERR_NVS_NEW_VERSION_FOUND;
    p->version = hdr.version;
    return ESP_OK;
}

/* The whole sector in one read; the load and the rest of the mount work on
 * this image (nvs_page_read), which every write keeps up to date. */
static esp_err_t read_image(nvs_page *p)
{
    p->image = malloc(ESIM_FLASH_SECTOR_SIZE);
    if (!p->image)
        return ESP_ERR_NO_MEM;
    esp_err_t err = esim_flash_read(p->flash, p->addr, p->image, ESIM_FLASH_SECTOR_SIZE);
    if (err)
        nvs_page_drop_image(p);
    return err;
}

esp_err_t nvs_page_load(nvs_page *p)
{
    uint8_t raw[32];
    p->used = 0;
    p->erased = 0;
    esp_err_t err = read_image(p);
    if (!err)
        err = nvs_page_read(p, 0, raw, sizeof raw);
    if (err)
        return fail(p, err);
    err = classify(p, raw);
    if (err)
        return err;
    if (p->state == ESIM_NVS_PAGE_UNINITIALIZED || p->state == NVS_PAGE_CORRUPT)
        return ESP_OK;
    if (!nvs_page_has_seqno(p)) {
        p->state = NVS_PAGE_CORRUPT;
        return ESP_OK;
    }
    return load_entry_table(p);
}
