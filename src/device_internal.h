/* esp32sim — the device object's layout, shared by the files that make up
 * the device subsystem (device.c, partition.c, memmap.c). Not public. */
#ifndef ESP32SIM_DEVICE_INTERNAL_H
#define ESP32SIM_DEVICE_INTERNAL_H

#include "esp32sim/appimage.h"
#include "esp32sim/boardfs.h"
#include "esp32sim/device.h"
#include "esp32sim/ota.h"
#include "esp32sim/partition.h"

#define ESIM_MAX_BOOT_EVENTS 32

#define ESIM_MAX_REGISTERED 8

struct esim_device {
    esim_flash *flash;
    esim_ptable table;
    esim_partition parts[ESIM_PTABLE_MAX_ENTRIES + ESIM_MAX_REGISTERED];
    size_t table_parts;        /* parts[0 .. table_parts) come from the table */
    size_t part_count;         /* then registered ones up to part_count */
    int running_index;         /* the app booted, index in parts, or -1 */
    bool no_rollback;          /* bootloader built without app rollback */
    bool has_wake_app;         /* RTC memory remembers the app booted last */
    esim_partition wake_app;
    esim_boot_event boot_events[ESIM_MAX_BOOT_EVENTS];
    size_t n_boot_events;      /* the bootloader's decisions at the last boot */
    char boot_error[256];      /* empty when the last boot succeeded */
    esim_reset_reason reason;
    bool soft_reset;
    uint32_t boot_count;
    uint64_t boot_time_us;     /* since this boot */
    uint64_t rtc_time_us;      /* since power-on */
    uint32_t cpu_freq_hz;
    uint8_t mac[6];
    uint8_t rtc_slow[ESIM_RTC_SLOW_MEM_SIZE];
    uint8_t rtc_fast[ESIM_RTC_FAST_MEM_SIZE];
    bool read_only;            /* opened for inspection: nothing is written */
    bool skip_nvs;             /* image tools: NVS is not mounted at boot */
    esim_nvs *nvs;             /* mounted at boot, NULL without an nvs partition */
    esp_err_t nvs_error;
    esim_reset_hook reset_hook;
    void *reset_hook_ctx;
    esim_boardfs *fs;          /* the board's filesystem, NULL without one */
    bool fs_created;           /* opening the board made it */
};

/* firmware.c: write a new board's firmware image into the table's first
 * app partition (nothing when it has none large enough). */
esp_err_t esim_firmware_install(esim_flash *flash, const esim_ptable *table);

/* partition.c: rebuild the partition list from dev->table (boot time). */
void esim_partitions_load(esim_device *dev);

/* ota.c: the app partition this boot runs when no image verifies (boards
 * whose app partitions hold no app yet): the active otadata slot, else
 * factory, else ota_0. */
void esim_ota_choose_running(esim_device *dev);

/* ota.c, shared with bootloader.c. */
bool esim_ota_find_otadata(const esim_device *dev, esim_partition *out);
/* Erase copy `index`'s sector and program *e (its crc is recomputed). */
esp_err_t esim_ota_write_entry(esim_device *dev, const esim_partition *otadata, int index, esim_ota_entry *e);
/* esp_image_verify over the whole partition; *info (may be NULL) says what
 * was found and why it failed. */
bool esim_ota_image_verifies(esim_device *dev, const esim_partition *part, esim_image_info *info);

#endif
