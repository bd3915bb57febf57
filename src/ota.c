/* esp32sim — otadata decoding and the app partition choice (read side). */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "esp32sim/appimage.h"
#include "esp32sim/ota.h"
#include "device_internal.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t esim_ota_seq_crc(uint32_t ota_seq)
{
    const uint8_t bytes[4] = {(uint8_t)ota_seq, (uint8_t)(ota_seq >> 8), (uint8_t)(ota_seq >> 16),
                              (uint8_t)(ota_seq >> 24)};
    return (uint32_t)crc32(0xFFFFFFFFul, bytes, sizeof bytes);
}

void esim_ota_decode_entry(const uint8_t raw[ESIM_OTA_ENTRY_SIZE], esim_ota_entry *out)
{
    out->ota_seq = le32(raw);
    memcpy(out->seq_label, raw + 4, sizeof out->seq_label);
    out->ota_state = le32(raw + 24);
    out->crc = le32(raw + 28);
}

bool esim_ota_entry_valid(const esim_ota_entry *e)
{
    if (e->ota_seq == 0xFFFFFFFFu || e->ota_state == ESIM_OTA_STATE_INVALID ||
        e->ota_state == ESIM_OTA_STATE_ABORTED)
        return false;
    return e->crc == esim_ota_seq_crc(e->ota_seq);
}

int esim_ota_active_entry(const esim_ota_entry entries[2])
{
    bool v0 = esim_ota_entry_valid(&entries[0]);
    bool v1 = esim_ota_entry_valid(&entries[1]);
    if (v0 && v1)
        return entries[1].ota_seq > entries[0].ota_seq ? 1 : 0;
    return v0 ? 0 : v1 ? 1 : -1;
}

int esim_ota_slot_count(const esim_device *dev)
{
    esim_partition p;
    int n = 0;
    while (n < 16 && esim_partition_find_first(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_APP_OTA_0 + n, NULL, &p))
        n++;
    return n;
}

/* The OTA slot the active otadata entry selects, or -1. */
static int selected_slot(esim_device *dev, const esim_partition *otadata)
{
    int slots = esim_ota_slot_count(dev);
    uint8_t raw[2][ESIM_OTA_ENTRY_SIZE];
    esim_ota_entry entries[2];
    if (slots == 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (esim_partition_read(dev, otadata, (size_t)i * ESIM_FLASH_SECTOR_SIZE, raw[i], sizeof raw[i]))
            return -1;
        esim_ota_decode_entry(raw[i], &entries[i]);
    }
    int active = esim_ota_active_entry(entries);
    return active < 0 ? -1 : (int)((entries[active].ota_seq - 1) % (uint32_t)slots);
}

static bool first_app(const esim_device *dev, esim_partition *out)
{
    if (esim_partition_find_first(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_APP_FACTORY, NULL, out))
        return true;
    return esim_partition_find_first(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_APP_OTA_0, NULL, out);
}

bool esim_ota_boot_partition(esim_device *dev, esim_partition *out)
{
    esim_partition otadata;
    if (!esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_DATA_OTA, NULL, &otadata))
        return false;
    if (esim_ota_slot_count(dev) == 0)
        return false;
    int slot = selected_slot(dev, &otadata);
    if (slot >= 0)
        return esim_partition_find_first(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_APP_OTA_0 + slot, NULL, out);
    return first_app(dev, out);
}

bool esim_ota_running_partition(const esim_device *dev, esim_partition *out)
{
    if (dev->running_index < 0)
        return false;
    *out = dev->parts[dev->running_index];
    return true;
}

/* The app the board starts at boot: the active otadata slot when there is
 * one, else factory, else the first OTA slot. */
void esim_ota_choose_running(esim_device *dev)
{
    esim_partition chosen, otadata;
    bool found = false;
    dev->running_index = -1;
    if (esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_DATA_OTA, NULL, &otadata)) {
        int slot = selected_slot(dev, &otadata);
        if (slot >= 0)
            found = esim_partition_find_first(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_APP_OTA_0 + slot, NULL, &chosen);
    }
    if (!found)
        found = first_app(dev, &chosen);
    for (size_t i = 0; found && i < dev->table_parts; i++)
        if (dev->parts[i].address == chosen.address)
            dev->running_index = (int)i;
}

/* ---- the write side (esp_ota_ops) ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void encode_entry(const esim_ota_entry *e, uint8_t raw[ESIM_OTA_ENTRY_SIZE])
{
    put_le32(raw, e->ota_seq);
    memcpy(raw + 4, e->seq_label, sizeof e->seq_label);
    put_le32(raw + 24, e->ota_state);
    put_le32(raw + 28, e->crc);
}

bool esim_ota_find_otadata(const esim_device *dev, esim_partition *out)
{
    return esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_DATA_OTA, NULL, out);
}

bool esim_ota_read_entries(esim_device *dev, esim_ota_entry entries[2])
{
    esim_partition otadata;
    uint8_t raw[ESIM_OTA_ENTRY_SIZE];
    if (!esim_ota_find_otadata(dev, &otadata))
        return false;
    for (int i = 0; i < 2; i++) {
        if (esim_partition_read(dev, &otadata, (size_t)i * ESIM_FLASH_SECTOR_SIZE, raw, sizeof raw))
            return false;
        esim_ota_decode_entry(raw, &entries[i]);
    }
    return true;
}

/* One copy rewritten as ESP-IDF does it: erase its sector, program the 32
 * bytes (CRC recomputed from ota_seq). */
esp_err_t esim_ota_write_entry(esim_device *dev, const esim_partition *otadata, int index, esim_ota_entry *e)
{
    uint8_t raw[ESIM_OTA_ENTRY_SIZE];
    size_t offset = (size_t)index * ESIM_FLASH_SECTOR_SIZE;
    e->crc = esim_ota_seq_crc(e->ota_seq);
    encode_entry(e, raw);
    esp_err_t err = esim_partition_erase_range(dev, otadata, offset, ESIM_FLASH_SECTOR_SIZE);
    if (err)
        return err;
    return esim_partition_write(dev, otadata, offset, raw, sizeof raw);
}

/* The image is looked at in place, without counting flash reads: the flash
 * statistics measure what the firmware does, and the same boot must cost
 * the same whether or not the app partitions hold an app. */
bool esim_ota_image_verifies(esim_device *dev, const esim_partition *part, esim_image_info *info)
{
    size_t flash_size = esim_flash_size(dev->flash);
    if (info != NULL)
        memset(info, 0, sizeof *info);
    if (!esim_flash_powered(dev->flash) || part->address > flash_size || part->size > flash_size - part->address) {
        if (info != NULL) {
            info->result = ESP_ERR_IMAGE_INVALID;
            snprintf(info->reason, sizeof info->reason, "the partition cannot be read");
        }
        return false;
    }
    return esim_image_verify(esim_flash_peek(dev->flash) + part->address, part->size, info) == ESP_OK;
}

/* The smallest sequence number >= the active one that selects `slot`. */
static esp_err_t next_seq(uint32_t active_seq, uint32_t slot, uint32_t slots, uint32_t *out)
{
    uint64_t base = (slot + 1) % slots;
    uint64_t seq = base;
    if (active_seq > base)
        seq = base + (((uint64_t)active_seq - base + slots - 1) / slots) * slots;
    if (seq >= 0xFFFFFFFFu)
        return ESP_ERR_INVALID_STATE;   /* the sequence space is used up */
    *out = (uint32_t)seq;
    return ESP_OK;
}

/* esp_rewrite_ota_data: the copy that is not active gets the next sequence
 * number for `slot` (copy 0 with seq slot+1 when none is active). */
static esp_err_t select_slot(esim_device *dev, uint32_t slot, uint32_t new_state)
{
    esim_partition otadata;
    esim_ota_entry entries[2];
    if (!esim_ota_find_otadata(dev, &otadata))
        return ESP_ERR_NOT_FOUND;
    if (!esim_ota_read_entries(dev, entries))
        return ESP_FAIL;
    uint32_t slots = (uint32_t)esim_ota_slot_count(dev);
    if (slot >= slots)
        return ESP_ERR_INVALID_ARG;
    int active = esim_ota_active_entry(entries);
    int target = active < 0 ? 0 : 1 - active;
    uint32_t seq = slot + 1;
    if (active >= 0) {
        esp_err_t err = next_seq(entries[active].ota_seq, slot, slots, &seq);
        if (err)
            return err;
    }
    entries[target].ota_seq = seq;
    entries[target].ota_state = new_state;
    return esim_ota_write_entry(dev, &otadata, target, &entries[target]);
}

static esp_err_t erase_otadata(esim_device *dev)
{
    esim_partition otadata;
    if (!esim_ota_find_otadata(dev, &otadata))
        return ESP_ERR_NOT_FOUND;
    return esim_partition_erase_range(dev, &otadata, 0, otadata.size);
}

esp_err_t esim_ota_set_boot_partition(esim_device *dev, const esim_partition *part)
{
    if (part == NULL)
        return ESP_ERR_INVALID_ARG;
    if (!esim_ota_image_verifies(dev, part, NULL))
        return ESP_ERR_OTA_VALIDATE_FAILED;
    if (part->type != ESIM_PART_TYPE_APP)
        return ESP_ERR_INVALID_ARG;
    if (part->subtype == ESIM_PART_SUBTYPE_APP_FACTORY)
        return erase_otadata(dev);
    /* ESP-IDF takes the slot from the low nibble of any other app subtype. */
    uint32_t state = dev->no_rollback ? ESIM_OTA_STATE_UNDEFINED : ESIM_OTA_STATE_NEW;
    return select_slot(dev, part->subtype & 0x0Fu, state);
}

static bool is_ota_slot(const esim_partition *p)
{
    return p->type == ESIM_PART_TYPE_APP && p->subtype >= ESIM_PART_SUBTYPE_APP_OTA_0 &&
           p->subtype < ESIM_PART_SUBTYPE_APP_OTA_0 + 16;
}

bool esim_ota_next_update_partition(esim_device *dev, const esim_partition *start, esim_partition *out)
{
    esim_partition running, p, first;
    bool have_first = false, next_is_it = false;
    if (start == NULL)
        start = esim_ota_running_partition(dev, &running) ? &running : NULL;
    for (int slot = 0; slot < 16; slot++) {
        if (!esim_partition_find_first(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_APP_OTA_0 + slot, NULL, &p))
            continue;
        if (next_is_it) {
            *out = p;
            return true;
        }
        if (!have_first) {
            first = p;
            have_first = true;
        }
        next_is_it = start != NULL && is_ota_slot(start) && start->address == p.address;
    }
    if (have_first)
        *out = first;
    return have_first;
}

esp_err_t esim_ota_mark_app_valid(esim_device *dev)
{
    esim_partition otadata;
    esim_ota_entry entries[2];
    if (!esim_ota_find_otadata(dev, &otadata))
        return ESP_ERR_NOT_FOUND;
    if (!esim_ota_read_entries(dev, entries))
        return ESP_FAIL;
    int active = esim_ota_active_entry(entries);
    if (active < 0 || esim_ota_slot_count(dev) == 0)
        return ESP_FAIL;
    if (entries[active].ota_state == ESIM_OTA_STATE_VALID)
        return ESP_OK;
    entries[active].ota_state = ESIM_OTA_STATE_VALID;
    return esim_ota_write_entry(dev, &otadata, active, &entries[active]);
}
