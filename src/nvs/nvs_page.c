/* esp32sim — NVS engine: one page, its state and its writes
 * (docs/nvs-engine.md).
 *
 * Flash writes happen with ESP-IDF's granularity and order: a 32-byte
 * header, a 32-byte entry then the 4-byte bitmap word that marks it, the
 * whole data entries of an item in one program then their bitmap words from
 * the last to the first, a 4-byte page state word. */
#include <stdlib.h>
#include <string.h>

#include "nvs_page.h"

#define ENTRY_COUNT ESIM_NVS_ENTRY_COUNT
#define ENTRY_SIZE  ESIM_NVS_ENTRY_SIZE

void nvs_page_setup(nvs_page *p, esim_flash *flash, bool read_only, uint32_t addr,
                    nvs_index *index, uint16_t number)
{
    memset(p, 0, sizeof *p);
    p->flash = flash;
    p->index = index;
    p->number = number;
    p->read_only = read_only;
    p->addr = addr;
    p->state = NVS_PAGE_INVALID;
    p->seqno = UINT32_MAX;
    p->version = ESIM_NVS_VERSION_2;
    memset(p->bitmap, 0xFF, sizeof p->bitmap);
    p->next_free = NVS_NO_ENTRY;
    p->first_used = NVS_NO_ENTRY;
}

void nvs_page_drop_image(nvs_page *p)
{
    free(p->image);
    p->image = NULL;
    memset(p->verified, 0, sizeof p->verified);
}

bool nvs_page_has_seqno(const nvs_page *p)
{
    return p->state == ESIM_NVS_PAGE_ACTIVE || p->state == ESIM_NVS_PAGE_FULL
        || p->state == ESIM_NVS_PAGE_FREEING;
}

size_t nvs_page_var_tailroom(const nvs_page *p)
{
    if (p->state == ESIM_NVS_PAGE_UNINITIALIZED)
        return NVS_CHUNK_MAX;
    if (p->state == ESIM_NVS_PAGE_FULL)
        return 0;
    if (p->next_free >= ENTRY_COUNT - 1)
        return 0;
    return (ENTRY_COUNT - p->next_free - 1) * ENTRY_SIZE;
}

esim_nvs_entry_state nvs_page_entry_state(const nvs_page *p, uint32_t index)
{
    if (index >= ENTRY_COUNT)
        return ESIM_NVS_ENTRY_EMPTY;
    return nvs_bitmap_get(p->bitmap, index);
}

static uint32_t entry_offset(uint32_t index)
{
    return ESIM_NVS_ENTRIES_OFFSET + index * ENTRY_SIZE;
}

/* From the sector image while mounting (failing as the flash would without
 * power), else from flash. */
esp_err_t nvs_page_read(const nvs_page *p, uint32_t offset, void *buf, size_t len)
{
    if (!p->image)
        return esim_flash_read(p->flash, p->addr + offset, buf, len);
    if (!esim_flash_powered(p->flash))
        return ESP_ERR_FLASH_OP_FAIL;
    memcpy(buf, p->image + offset, len);
    return ESP_OK;
}

esp_err_t nvs_page_read_entry(const nvs_page *p, uint32_t index, esim_nvs_item *out)
{
    uint8_t raw[ENTRY_SIZE];
    if (index >= ENTRY_COUNT)
        return ESP_FAIL;
    if (p->image && esim_flash_powered(p->flash)) {
        esim_nvs_item_decode(p->image + entry_offset(index), out);
        return ESP_OK;
    }
    esp_err_t err = nvs_page_read(p, entry_offset(index), raw, sizeof raw);
    if (err)
        return err;
    esim_nvs_item_decode(raw, out);
    return ESP_OK;
}

/* ---- checkHeaderConsistency ---- */

static bool var_item_consistent(const esim_nvs_item *item, uint32_t index)
{
    if (item->type == ESIM_NVS_TYPE_BLOB_DATA && item->chunk_index == ESIM_NVS_CHUNK_ANY)
        return false;
    size_t size = esim_nvs_item_var_size(item);
    size_t left = ENTRY_COUNT - index;
    if (size > (left - 1) * ENTRY_SIZE || item->span > left)
        return false;
    return item->span == esim_nvs_span_for_size(size);
}

bool nvs_item_consistent(const esim_nvs_item *item, uint32_t index)
{
    if (index >= ENTRY_COUNT || item->crc != esim_nvs_item_crc(item))
        return false;
    if (esim_nvs_int_width(item->type) != 0)
        return item->span == 1;
    if (item->type == ESIM_NVS_TYPE_BLOB_IDX) {
        const uint32_t max = 127u * (ENTRY_COUNT - 1) * ENTRY_SIZE;
        return item->span == 1 && item->chunk_index == ESIM_NVS_CHUNK_ANY
            && esim_nvs_item_blob_size(item) <= max;
    }
    if (nvs_type_is_variable(item->type))
        return var_item_consistent(item, index);
    return false;
}

/* While mounting, an entry of the image found sound stays sound until its
 * bytes change, so its CRC is checked once (the mount looks at every item
 * several times). */
static bool verified(const nvs_page *p, uint32_t index)
{
    return p->image && index < ENTRY_COUNT && (p->verified[index / 8] >> (index % 8)) & 1u;
}

static void forget_verified(nvs_page *p, uint32_t offset, size_t len)
{
    if (offset + len <= ESIM_NVS_ENTRIES_OFFSET)
        return;
    uint32_t from = offset < ESIM_NVS_ENTRIES_OFFSET ? 0 : (offset - ESIM_NVS_ENTRIES_OFFSET) / ENTRY_SIZE;
    uint32_t to = (uint32_t)(offset + len - ESIM_NVS_ENTRIES_OFFSET + ENTRY_SIZE - 1) / ENTRY_SIZE;
    for (uint32_t i = from; i < to && i < ENTRY_COUNT; i++)
        p->verified[i / 8] &= (uint8_t)~(1u << (i % 8));
}

bool nvs_page_item_consistent(nvs_page *p, const esim_nvs_item *item, uint32_t index)
{
    if (verified(p, index))
        return true;
    bool ok = nvs_item_consistent(item, index);
    if (ok && p->image)
        p->verified[index / 8] |= (uint8_t)(1u << (index % 8));
    return ok;
}

/* ---- flash writes ---- */

/* The image follows the flash (NOR: bits only go to 0); after a failed
 * program the flash holds an unknown part of it, so the image goes. */
esp_err_t nvs_page_program(nvs_page *p, uint32_t offset, const void *data, size_t len)
{
    if (p->read_only)
        return ESP_OK;
    esp_err_t err = esim_flash_program(p->flash, p->addr + offset, data, len);
    if (err) {
        nvs_page_drop_image(p);
        return err;
    }
    forget_verified(p, offset, len);
    if (p->image) {
        const uint8_t *src = data;
        for (size_t i = 0; i < len; i++)
            p->image[offset + i] &= src[i];
    }
    return ESP_OK;
}

static esp_err_t program_bitmap_word(nvs_page *p, unsigned word)
{
    return nvs_page_program(p, ESIM_NVS_BITMAP_OFFSET + word * 4, p->bitmap + word * 4, 4);
}

esp_err_t nvs_page_set_entry_state(nvs_page *p, uint32_t index, esim_nvs_entry_state state)
{
    if (index >= ENTRY_COUNT)
        return ESP_FAIL;
    esim_nvs_bitmap_set(p->bitmap, index, state);
    esp_err_t err = program_bitmap_word(p, index / 16);
    if (err)
        p->state = NVS_PAGE_INVALID;
    return err;
}

/* Marks [begin, end): the bitmap words are written from the last one back
 * to the first, each once. */
esp_err_t nvs_page_set_range_state(nvs_page *p, uint32_t begin, uint32_t end, esim_nvs_entry_state state)
{
    if (end > ENTRY_COUNT || end <= begin)
        return ESP_FAIL;
    for (uint32_t i = end; i-- > begin;) {
        esim_nvs_bitmap_set(p->bitmap, i, state);
        if (i == begin || (i - 1) / 16 != i / 16) {
            esp_err_t err = program_bitmap_word(p, i / 16);
            if (err)
                return err;
        }
    }
    return ESP_OK;
}

static esp_err_t set_page_state(nvs_page *p, uint32_t state)
{
    uint8_t word[4] = {(uint8_t)state, (uint8_t)(state >> 8), (uint8_t)(state >> 16), (uint8_t)(state >> 24)};
    esp_err_t err = nvs_page_program(p, ESIM_NVS_HEADER_OFFSET, word, sizeof word);
    if (err) {
        p->state = NVS_PAGE_INVALID;
        return err;
    }
    p->state = state;
    return ESP_OK;
}

esp_err_t nvs_page_initialize(nvs_page *p)
{
    uint8_t raw[32];
    if (p->state != ESIM_NVS_PAGE_UNINITIALIZED)
        return ESP_FAIL;
    p->state = ESIM_NVS_PAGE_ACTIVE;
    esim_nvs_page_header hdr = {ESIM_NVS_PAGE_ACTIVE, p->seqno, p->version, 0};
    esim_nvs_header_encode(&hdr, raw);
    esp_err_t err = nvs_page_program(p, ESIM_NVS_HEADER_OFFSET, raw, sizeof raw);
    if (err) {
        p->state = NVS_PAGE_INVALID;
        return err;
    }
    p->next_free = 0;
    memset(p->bitmap, 0xFF, sizeof p->bitmap);
    return ESP_OK;
}

esp_err_t nvs_page_mark_full(nvs_page *p)
{
    if (p->state != ESIM_NVS_PAGE_ACTIVE)
        return ESP_ERR_NVS_INVALID_STATE;
    return set_page_state(p, ESIM_NVS_PAGE_FULL);
}

esp_err_t nvs_page_mark_freeing(nvs_page *p)
{
    if (p->state != ESIM_NVS_PAGE_FULL && p->state != ESIM_NVS_PAGE_ACTIVE)
        return ESP_ERR_NVS_INVALID_STATE;
    return set_page_state(p, ESIM_NVS_PAGE_FREEING);
}

esp_err_t nvs_page_erase(nvs_page *p)
{
    if (!p->read_only) {
        esp_err_t err = esim_flash_erase_sector(p->flash, p->addr / ESIM_FLASH_SECTOR_SIZE);
        if (err) {
            nvs_page_drop_image(p);
            p->state = NVS_PAGE_INVALID;
            return err;
        }
        if (p->image)
            memset(p->image, 0xFF, ESIM_FLASH_SECTOR_SIZE);
        memset(p->verified, 0, sizeof p->verified);
    }
    p->used = 0;
    p->erased = 0;
    p->first_used = NVS_NO_ENTRY;
    p->next_free = NVS_NO_ENTRY;
    p->state = ESIM_NVS_PAGE_UNINITIALIZED;
    memset(p->bitmap, 0xFF, sizeof p->bitmap);
    nvs_index_clear_page(p->index, p->number);
    return ESP_OK;
}

/* ---- items ---- */

/* One 32-byte entry at next_free, then its bitmap word. */
esp_err_t nvs_page_write_entry(nvs_page *p, const uint8_t raw[ENTRY_SIZE])
{
    if (p->next_free >= ENTRY_COUNT)
        return ESP_FAIL;
    esp_err_t err = nvs_page_program(p, entry_offset(p->next_free), raw, ENTRY_SIZE);
    if (err) {
        p->state = NVS_PAGE_INVALID;
        return err;
    }
    err = nvs_page_set_entry_state(p, p->next_free, ESIM_NVS_ENTRY_WRITTEN);
    if (err)
        return err;
    if (p->first_used == NVS_NO_ENTRY)
        p->first_used = p->next_free;
    p->used++;
    p->next_free++;
    return ESP_OK;
}

/* Whole data entries in one program, then their bitmap range. */
static esp_err_t write_entry_data(nvs_page *p, const uint8_t *data, size_t size)
{
    uint32_t count = (uint32_t)(size / ENTRY_SIZE);
    if (p->next_free >= ENTRY_COUNT || p->next_free + count > ENTRY_COUNT)
        return ESP_FAIL;
    esp_err_t err = nvs_page_program(p, entry_offset(p->next_free), data, size);
    if (err) {
        p->state = NVS_PAGE_INVALID;
        return err;
    }
    err = nvs_page_set_range_state(p, p->next_free, p->next_free + count, ESIM_NVS_ENTRY_WRITTEN);
    if (err)
        return err;
    p->used += count;
    p->next_free += count;
    return ESP_OK;
}

static esp_err_t write_item_entry(nvs_page *p, esim_nvs_item *item)
{
    uint8_t raw[ENTRY_SIZE];
    item->crc = esim_nvs_item_crc(item);
    esim_nvs_item_encode(item, raw);
    return nvs_page_write_entry(p, raw);
}

static esp_err_t write_var_payload(nvs_page *p, const uint8_t *data, size_t size)
{
    size_t whole = size - size % ENTRY_SIZE;
    if (whole > 0) {
        esp_err_t err = write_entry_data(p, data, whole);
        if (err)
            return err;
    }
    if (whole == size)
        return ESP_OK;
    uint8_t tail[ENTRY_SIZE];
    memset(tail, 0xFF, sizeof tail);
    memcpy(tail, data + whole, size - whole);
    return nvs_page_write_entry(p, tail);
}

/* The checks Page::writeItem makes before writing, in its order. */
static esp_err_t check_write(nvs_page *p, uint8_t type, const char *key, size_t size, uint32_t *entries)
{
    if (p->state == NVS_PAGE_INVALID)
        return ESP_ERR_NVS_INVALID_STATE;
    if (p->state == ESIM_NVS_PAGE_UNINITIALIZED) {
        esp_err_t err = nvs_page_initialize(p);
        if (err)
            return err;
    }
    if (p->state == ESIM_NVS_PAGE_FULL)
        return ESP_ERR_NVS_PAGE_FULL;
    if (strlen(key) > ESIM_NVS_KEY_MAX)
        return ESP_ERR_NVS_KEY_TOO_LONG;
    if (size > NVS_CHUNK_MAX)
        return ESP_ERR_NVS_VALUE_TOO_LONG;
    bool var = nvs_type_is_variable(type);
    if (!var && size > 8)
        return ESP_ERR_INVALID_ARG;
    *entries = var ? esim_nvs_span_for_size(size) : 1;
    if (p->next_free == NVS_NO_ENTRY || p->next_free + *entries > ENTRY_COUNT)
        return ESP_ERR_NVS_PAGE_FULL;
    return ESP_OK;
}

esp_err_t nvs_page_write_item(nvs_page *p, uint8_t ns, uint8_t type, const char *key,
                              const void *data, size_t size, uint8_t chunk)
{
    uint32_t entries;
    esim_nvs_item item;
    esp_err_t err = check_write(p, type, key, size, &entries);
    if (err)
        return err;
    esim_nvs_item_init(&item, ns, type, key);
    item.span = (uint8_t)entries;
    item.chunk_index = chunk;
    err = nvs_index_insert(p->index, p->number, nvs_item_stored_hash(&item), p->next_free);
    if (err)
        return err;
    if (!nvs_type_is_variable(type)) {
        if (size > 0)
            memcpy(item.data, data, size);
        return write_item_entry(p, &item);
    }
    esim_nvs_item_set_var(&item, (uint16_t)size, esim_nvs_crc32(data, size));
    err = write_item_entry(p, &item);
    if (err)
        return err;
    return write_var_payload(p, data, size);
}

/* ---- erasing ---- */

static void drop_used(nvs_page *p)
{
    if (p->used > 0)
        p->used--;
}

static void update_first_used(nvs_page *p, uint32_t index, uint32_t span)
{
    uint32_t end = p->next_free < ENTRY_COUNT ? p->next_free : ENTRY_COUNT;
    p->first_used = NVS_NO_ENTRY;
    for (uint32_t i = index + span; i < end; i++) {
        if (nvs_bitmap_get(p->bitmap, i) == ESIM_NVS_ENTRY_WRITTEN) {
            p->first_used = i;
            return;
        }
    }
}

/* A WRITTEN entry: its whole span if its header is sound, else itself. */
static esp_err_t erase_written(nvs_page *p, uint32_t index, uint32_t *span)
{
    esim_nvs_item item;
    esp_err_t err = nvs_page_read_entry(p, index, &item);
    if (err)
        return err;
    nvs_index_erase(p->index, p->number, index);
    if (!nvs_page_item_consistent(p, &item, index)) {
        err = nvs_page_set_entry_state(p, index, ESIM_NVS_ENTRY_ERASED);
        drop_used(p);
        p->erased++;
        return err;
    }
    *span = item.span;
    for (uint32_t i = index + *span; i-- > index;) {
        if (nvs_bitmap_get(p->bitmap, i) == ESIM_NVS_ENTRY_WRITTEN)
            drop_used(p);
        p->erased++;
    }
    if (*span == 1)
        return nvs_page_set_entry_state(p, index, ESIM_NVS_ENTRY_ERASED);
    return nvs_page_set_range_state(p, index, index + *span, ESIM_NVS_ENTRY_ERASED);
}

esp_err_t nvs_page_erase_entry_and_span(nvs_page *p, uint32_t index)
{
    uint32_t span = 1;
    esp_err_t err;
    if (index >= ENTRY_COUNT)
        return ESP_FAIL;
    if (nvs_bitmap_get(p->bitmap, index) == ESIM_NVS_ENTRY_WRITTEN)
        err = erase_written(p, index, &span);
    else
        err = nvs_page_set_entry_state(p, index, ESIM_NVS_ENTRY_ERASED);
    if (err)
        return err;
    if (index == p->first_used)
        update_first_used(p, index, span);
    if (p->next_free != NVS_NO_ENTRY && index + span > p->next_free)
        p->next_free = index + span;
    return ESP_OK;
}
