/* esp32sim — OTA data (otadata) and the app partition choice.
 *
 * otadata holds two 32-byte select entries, one per 4 KiB sector
 * (docs/otadata.md). This header gives the read side ESP-IDF uses at run
 * time: decoding entries, which one is active, and which app partition is
 * booted next (esp_ota_get_boot_partition) or running now. */
#ifndef ESP32SIM_OTA_H
#define ESP32SIM_OTA_H

#include <stdbool.h>
#include <stdint.h>

#include "esp32sim/partition.h"

#define ESIM_OTA_ENTRY_SIZE 32u

enum {
    ESIM_OTA_STATE_NEW = 0,
    ESIM_OTA_STATE_PENDING_VERIFY = 1,
    ESIM_OTA_STATE_VALID = 2,
    ESIM_OTA_STATE_INVALID = 3,
    ESIM_OTA_STATE_ABORTED = 4,
    ESIM_OTA_STATE_UNDEFINED = 0xFFFFFFFFu,
};

typedef struct {
    uint32_t ota_seq;
    uint8_t seq_label[20];
    uint32_t ota_state;
    uint32_t crc;
} esim_ota_entry;

/* CRC ESP-IDF stores: crc32_le(0xFFFFFFFF) over the 4 bytes of ota_seq. */
uint32_t esim_ota_seq_crc(uint32_t ota_seq);

void esim_ota_decode_entry(const uint8_t raw[ESIM_OTA_ENTRY_SIZE], esim_ota_entry *out);

/* Not empty, not INVALID/ABORTED, and the CRC matches. */
bool esim_ota_entry_valid(const esim_ota_entry *e);

/* Index (0 or 1) of the active entry, or -1 when neither is valid. */
int esim_ota_active_entry(const esim_ota_entry entries[2]);

/* Number of ota_N app partitions in the table (consecutive from ota_0). */
int esim_ota_slot_count(const esim_device *dev);

/* esp_ota_get_boot_partition: false when the table has no otadata or no
 * OTA slot, or the choice is missing. */
bool esim_ota_boot_partition(esim_device *dev, esim_partition *out);

/* The app partition the board booted from, chosen at boot; false when the
 * table holds no app partition. */
bool esim_ota_running_partition(const esim_device *dev, esim_partition *out);

#endif
