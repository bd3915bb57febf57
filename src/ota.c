/* esp32sim — otadata decoding and the app partition choice (read side). */
#include <string.h>
#include <zlib.h>

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
