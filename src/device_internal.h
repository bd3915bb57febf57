/* esp32sim — the device object's layout, shared by the files that make up
 * the device subsystem (device.c, partition.c, memmap.c). Not public. */
#ifndef ESP32SIM_DEVICE_INTERNAL_H
#define ESP32SIM_DEVICE_INTERNAL_H

#include "esp32sim/appimage.h"
#include "esp32sim/boardfs.h"
#include "esp32sim/heap.h"
#include "esp32sim/device.h"
#include "esp32sim/ota.h"
#include "esp32sim/partition.h"
#include "esp32sim/rmt.h"
#include "esp32sim/sleep.h"
#include "esp32sim/ulp.h"

#define ESIM_MAX_BOOT_EVENTS 32

#define ESIM_MAX_REGISTERED 8

/* 126 entries per page, 29 per hash-list block, at most 255 pages */
#define ESIM_MAX_NVS_HASH_BLOCKS 1120

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
    uint64_t world_time_us;    /* since the board was opened */
    uint64_t boot_world_us;    /* when this boot began (reset or wake) */
    uint64_t rtc_clock_base_us; /* the calendar at rtc_time_us == 0 */
    uint64_t time_limit_us;    /* UINT64_MAX: none */
    bool realtime;
    uint64_t pace_world_us;    /* real-time pacing: the world time and */
    uint64_t pace_wall_ns;     /* the wall clock when pacing started */
    esim_gpio *gpio;
    esim_rmt *rmt;
    esim_ulp *ulp;             /* the ULP-FSM: RTC domain, runs through resets and deep sleep */
    esim_pin_change *scheduled;  /* CPU-timed output changes not yet made, by time */
    size_t n_scheduled, cap_scheduled, next_scheduled;
    esim_sensors sensors;
    esim_stimulus *stimulus;
    esim_wake_config wake;     /* MicroPython's machine_rtc_config (RAM) */
    esim_wake_cause wake_cause;
    uint64_t ext1_wake_status;
    esim_ulp_runner ulp_runner;
    void *ulp_ctx;
    esim_heaps *heaps;         /* ESP-IDF's heaps: RAM, refilled at every boot */
    uint32_t gc_heap;          /* MicroPython's heap this boot */
    size_t gc_heap_size;
    size_t gc_areas_added;     /* split-heap areas taken from the IDF heap since */
    size_t gc_added_bytes;
    uint32_t nvs_hash_blocks[ESIM_MAX_NVS_HASH_BLOCKS];   /* NVS's item hash list */
    size_t n_nvs_hash_blocks;
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

/* world.c: the world at power-on (pads, sensors, clocks) and what a boot
 * resets (pads not held, touch thresholds, the wake configuration; the
 * wake cause unless this boot is a deep-sleep wake). */
esp_err_t esim_world_create(esim_device *dev);
void esim_world_destroy(esim_device *dev);
void esim_world_boot(esim_device *dev, esim_reset_reason reason);
void esim_world_power_off(esim_device *dev);
/* The time a boot takes before the app runs (ROM, bootloader, image check
 * unless `fast_wake`, MicroPython's start-up): the world moves on by it
 * and the clock since boot starts at 0 after it. */
void esim_world_boot_takes_time(esim_device *dev, bool fast_wake);

/* firmware_heap.c: what the firmware takes from the heaps at boot
 * (after NVS is mounted); what it gives back goes with the RAM. */
void esim_firmware_heap_boot(esim_device *dev);

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
