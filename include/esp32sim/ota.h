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

/* ---- the write side (esp_ota_ops), reference/espidf-formats.md §B.3-B.5 ---- */

/* Both otadata entries as stored (false when the table has no otadata or
 * the flash does not answer). */
bool esim_ota_read_entries(esim_device *dev, esim_ota_entry entries[2]);

/* esp_ota_set_boot_partition: verifies the image first (any failure, data
 * partitions included: ESP_ERR_OTA_VALIDATE_FAILED); factory: erases
 * otadata; ota_k: writes the next sequence number into the other entry with
 * state NEW (rollback enabled) — ESP_ERR_NOT_FOUND without otadata,
 * ESP_ERR_INVALID_ARG for k >= slots. */
esp_err_t esim_ota_set_boot_partition(esim_device *dev, const esim_partition *part);

/* esp_ota_get_next_update_partition(start): the OTA slot after `start`
 * (NULL: the running partition), wrapping; the first slot when start is not
 * an OTA slot; false without OTA slots. */
bool esim_ota_next_update_partition(esim_device *dev, const esim_partition *start, esim_partition *out);

/* esp_ota_mark_app_valid_cancel_rollback: ESP_ERR_NOT_FOUND without
 * otadata, ESP_FAIL without an active entry or OTA slots; the active entry
 * becomes VALID (rewritten) unless it already is. */
esp_err_t esim_ota_mark_app_valid(esim_device *dev);

/* ---- the second-stage bootloader (§B.6) ---- */

/* One decision of the bootloader, for people (message) and programs (the
 * other fields). */
typedef enum {
    ESIM_BOOT_EV_NO_OTADATA,         /* no otadata partition: starts from factory */
    ESIM_BOOT_EV_OTADATA_UNREADABLE, /* the flash did not answer */
    ESIM_BOOT_EV_STATE_CHANGE,       /* entry: state_from -> state_to (written, err) */
    ESIM_BOOT_EV_NO_SELECTION,       /* both entries blank or invalid: starts from `label` */
    ESIM_BOOT_EV_OTADATA_INVALID,    /* entries present but none valid (CRC): starts from
                                        `label` (factory), or tries every app ("") */
    ESIM_BOOT_EV_ACTIVE,             /* entry with seq (state_to: its state) selects `label` */
    ESIM_BOOT_EV_INITIAL_SEQ,        /* seq written to entry 0 as VALID (written, err) */
    ESIM_BOOT_EV_NOT_BOOTABLE,       /* `label`'s image fails `failed_check` */
    ESIM_BOOT_EV_LOADED,             /* `label` verified and started */
    ESIM_BOOT_EV_FAST_WAKE,          /* deep-sleep wake: `label` restarted unverified */
    ESIM_BOOT_EV_FAST_WAKE_FAILED,   /* deep-sleep wake without a usable image: usual choice */
    ESIM_BOOT_EV_NO_APP,             /* no bootable app partition */
    ESIM_BOOT_EV_UNVERIFIED,         /* the board runs `label` although no image verifies */
} esim_boot_event_kind;

typedef struct {
    esim_boot_event_kind kind;
    int entry;                 /* otadata copy 0 or 1, -1 when none */
    uint32_t seq;              /* ota_seq, 0xFFFFFFFF when none */
    uint32_t state_from;       /* ESIM_OTA_STATE_*; STATE_CHANGE only */
    uint32_t state_to;         /* STATE_CHANGE: new state; ACTIVE: the entry's state */
    bool written;              /* STATE_CHANGE, INITIAL_SEQ: reached the flash */
    esp_err_t err;             /* why a write did not happen (ESP_OK when it did, or
                                  ESP_ERR_NOT_ALLOWED for read-only boards and image tools) */
    char label[17];            /* the partition concerned, "" when none */
    uint32_t address;          /* its flash address */
    const char *failed_check;  /* NOT_BOOTABLE: "magic", "chip", "segments", "checksum",
                                  "sha256" or "length"; NULL otherwise */
    char message[160];         /* in words, e.g. "otadata[1] PENDING_VERIFY -> ABORTED ..." */
} esim_boot_event;

/* "state_change", "active", "loaded", ... (the kind in the event trace). */
const char *esim_boot_event_kind_name(esim_boot_event_kind kind);

/* "NEW", "PENDING_VERIFY", "VALID", "INVALID", "ABORTED", "UNDEFINED", or
 * "UNKNOWN" for other values. */
const char *esim_ota_state_name(uint32_t state);

typedef struct {
    bool rollback_enabled;     /* CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE (default true) */
    bool skip_validate;        /* deep-sleep wake: CONFIG_BOOTLOADER_SKIP_VALIDATE_IN_DEEP_SLEEP */
    const esim_partition *wake_partition; /* with skip_validate: the app the RTC memory
                                 remembers; it starts again unverified and otadata is
                                 left alone (NULL or no image there: the usual choice) */
} esim_boot_options;

/* Run the bootloader's choice on the current table and otadata: ABORT the
 * PENDING_VERIFY entries, pick the active slot (NEW -> PENDING_VERIFY),
 * verify the image (unless skip_validate), fall back down then up then to
 * test/factory on failure, write the initial-contents entry when needed.
 * Sets *chosen (false: no bootable app) and appends the decisions to
 * events[0..cap) (count in *n_events). Writes otadata as ESP-IDF's
 * bootloader does. */
esp_err_t esim_bootloader_select(esim_device *dev, const esim_boot_options *opts, esim_partition *chosen,
                                 bool *found, esim_boot_event *events, size_t cap, size_t *n_events);

/* The bootloader's decisions at the board's last boot, oldest first (valid
 * until the next reset). Returns their number. */
size_t esim_device_boot_events(const esim_device *dev, const esim_boot_event **events);

#endif
