/* esp32sim — one simulated ESP32: flash, partition table, RTC memory, the
 * virtual clock and the reset/boot state. All state lives in the device
 * object, so a program can hold several boards at once. */
#ifndef ESP32SIM_DEVICE_H
#define ESP32SIM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/flash.h"
#include "esp32sim/nvs.h"
#include "esp32sim/parttable.h"
#include "esp32sim/gpio.h"
#include "esp32sim/rmt.h"
#include "esp32sim/sensors.h"
#include "esp32sim/stimulus.h"
#include "esp32sim/ulp.h"

typedef struct esim_device esim_device;

/* esp_reset_reason_t */
typedef enum {
    ESIM_RST_UNKNOWN = 0,
    ESIM_RST_POWERON = 1,
    ESIM_RST_EXT = 2,
    ESIM_RST_SW = 3,
    ESIM_RST_PANIC = 4,
    ESIM_RST_INT_WDT = 5,
    ESIM_RST_TASK_WDT = 6,
    ESIM_RST_WDT = 7,
    ESIM_RST_DEEPSLEEP = 8,
    ESIM_RST_BROWNOUT = 9,
    ESIM_RST_SDIO = 10,
} esim_reset_reason;

#define ESIM_DEFAULT_FLASH_SIZE (4u * 1024u * 1024u)

/* The app image a new board's first app partition (factory, else ota_0)
 * holds: a valid ESP32 image of about MicroPython's size whose app
 * description names this project and version (docs/app-image.md). */
#define ESIM_FIRMWARE_PROJECT "micropython"
#define ESIM_FIRMWARE_VERSION "v1.28.0-esp32sim-0.1.0"

/* Address map (what machine.mem8/16/32 and later the ULP see). */
#define ESIM_RTC_SLOW_MEM_ADDR 0x50000000u
#define ESIM_RTC_SLOW_MEM_SIZE 0x2000u          /* 8 KiB */
#define ESIM_RTC_FAST_MEM_ADDR 0x3FF80000u      /* data-bus view */
#define ESIM_RTC_FAST_MEM_SIZE 0x2000u          /* 8 KiB */

typedef struct {
    const char *flash_path;   /* image file; NULL keeps the flash in memory */
    size_t flash_size;        /* 0: the existing file's size, or 4 MiB for a new image */
    const char *layout;       /* "default", "ota" or a CSV file; NULL: the image's own
                                 table, or "default" for a new image */
    const char *layout_csv;   /* CSV text, used instead of `layout` when set */
    bool read_only;           /* look, never write: the image is opened with
                                 esim_flash_open_file_readonly (programs and
                                 erases fail with ESP_ERR_NOT_ALLOWED, the image
                                 and its .wear are never written). It must exist
                                 (ESP_ERR_NOT_FOUND otherwise; a NULL flash_path
                                 is ESP_ERR_INVALID_ARG); a layout is only
                                 compared with the image's table, as always */
    bool skip_nvs;            /* image tools: boot without mounting NVS, so the
                                 NVS partition is neither read nor repaired nor
                                 wiped (esim_device_nvs is NULL); the bootloader
                                 chooses the app but writes nothing to otadata
                                 (opening an image is not a boot of its app) */
    bool no_rollback;         /* a bootloader built without app rollback
                                 (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE off):
                                 set_boot writes state UNDEFINED and boots
                                 never change entry states */
    const char *fs_path;      /* host directory that is the board's filesystem
                                 "/" (esp32sim/boardfs.h); made, with the
                                 default boot.py, when missing (unless
                                 read_only). NULL: the board has no
                                 filesystem mounted */
} esim_device_config;

/* Open (or create) the board's flash and power it on.
 * A new image gets the layout's table written at 0x8000 and the firmware
 * image (ESIM_FIRMWARE_*) in its first app partition, as esptool flashes a
 * board. An existing image
 * keeps its table; asking for a different layout is an error, never a silent
 * rewrite. With cfg->read_only nothing is created or written (see above).
 * `why` (may be NULL) says what was wrong, naming the file.
 * Errors: those of esim_flash_open_file, ESP_ERR_INVALID_ARG (bad layout or
 * CSV), ESP_ERR_INVALID_STATE / ESP_ERR_INVALID_CRC (no valid table in the
 * image, or a different one), ESP_ERR_NO_MEM. */
esp_err_t esim_device_open(const esim_device_config *cfg, esim_device **out, esim_ptable_error *why);

/* Sync the flash and free the board. NULL is accepted. */
void esim_device_close(esim_device *dev);

esim_flash *esim_device_flash(esim_device *dev);

/* The partition table as loaded at the last boot. */
const esim_ptable *esim_device_ptable(const esim_device *dev);

/* Resets. A hard reset (machine.reset(), panic, watchdog) re-reads the
 * partition table and restarts the clock; RTC memory is kept. A power cycle
 * also clears RTC memory and restores power to the flash after a cut.
 * A soft reset (Ctrl-D) only records that it happened. */
esp_err_t esim_device_hard_reset(esim_device *dev, esim_reset_reason reason);
esp_err_t esim_device_power_cycle(esim_device *dev);
void esim_device_soft_reset(esim_device *dev);

esim_reset_reason esim_device_reset_reason(const esim_device *dev);
bool esim_device_soft_reset_since_boot(const esim_device *dev);
uint32_t esim_device_boot_count(const esim_device *dev);   /* boots since open */

/* NVS as MicroPython's start-up leaves it: the partition labelled "nvs"
 * mounted at every boot (nvs_flash_init); when the mount reports
 * ESP_ERR_NVS_NO_FREE_PAGES or ESP_ERR_NVS_NEW_VERSION_FOUND the partition
 * is erased and mounted again. NULL when the table has no "nvs" partition or
 * the mount failed otherwise (esim_device_nvs_error says why). The handle
 * is valid until the next reset. */
esim_nvs *esim_device_nvs(esim_device *dev);
esp_err_t esim_device_nvs_error(const esim_device *dev);

/* Called at the start of every hard reset and power cycle, before the board
 * reboots (the NVS of the ending boot is still mounted), e.g. to report or
 * undo uncommitted NVS changes. One hook per board; NULL removes it. */
typedef void (*esim_reset_hook)(esim_device *dev, esim_reset_reason reason, void *ctx);
void esim_device_set_reset_hook(esim_device *dev, esim_reset_hook hook, void *ctx);

/* The second-stage bootloader runs at every power-on and hard reset
 * (esim_bootloader_select, docs/otadata.md): it picks the app partition
 * from otadata with app rollback, verifying images; a deep-sleep wake
 * restarts the same app without verification. When no app partition holds
 * an image that verifies, the board still comes up running the partition
 * otadata selects, else factory, else ota_0, and the events say so
 * ("unverified"). Rollback is on unless the config or this setter turns it
 * off (takes effect from the next set_boot and boot). */
void esim_device_set_app_rollback(esim_device *dev, bool enabled);
bool esim_device_app_rollback(const esim_device *dev);

/* (esim_device_boot_events, the bootloader's decisions of the last boot,
 * is declared in esp32sim/ota.h with the event type.) */

/* Why the last boot failed (no valid partition table), or NULL when the
 * board booted. A board that did not boot refuses partition access. */
const char *esim_device_boot_error(const esim_device *dev);

/* The board's filesystem (NULL without one; its current directory goes
 * back to "/" at every boot), and whether opening the board created it
 * (MicroPython's "Performing initial setup"). */
struct esim_boardfs;
struct esim_boardfs *esim_device_fs(esim_device *dev);
bool esim_device_fs_created(const esim_device *dev);

/* Virtual clock: microseconds since this boot, since power-on (RTC), and
 * the world's time since the board was opened (it never restarts; stimuli
 * and the time limit count on it). */
uint64_t esim_device_time_us(const esim_device *dev);
uint64_t esim_device_rtc_time_us(const esim_device *dev);
uint64_t esim_device_world_time_us(const esim_device *dev);

/* The RTC's calendar: microseconds since 2000-01-01 00:00:00, the ESP32
 * port's epoch. It starts there at power-on, keeps counting through resets
 * and deep sleep, and can be set (machine.RTC().datetime(...)). */
uint64_t esim_device_rtc_clock_us(const esim_device *dev);
void esim_device_set_rtc_clock_us(esim_device *dev, uint64_t since_2000_us);

/* World time at which the current boot began. A boot itself takes virtual
 * time before the app runs (docs/sleep.md: about 290 ms from a reset or
 * power-on, 150 ms from a deep-sleep wake); the clock since boot starts at
 * 0 when MicroPython's start-up is done. */
uint64_t esim_device_boot_started_us(const esim_device *dev);

/* Let `us` pass: the clocks move on, stimuli falling due are applied at
 * their times (esim_device_stimulus). ESP_ERR_TIMEOUT when the time limit
 * stops the clock first (it then stands at the limit). */
esp_err_t esim_device_advance_us(esim_device *dev, uint64_t us);
/* Move the world's clock to `world_us` (not backwards), as advance. */
esp_err_t esim_device_advance_to(esim_device *dev, uint64_t world_us);

/* The run's time limit in world time (UINT64_MAX: none, the default). */
void esim_device_set_time_limit_us(esim_device *dev, uint64_t world_us);
uint64_t esim_device_time_limit_us(const esim_device *dev);
bool esim_device_time_limit_reached(const esim_device *dev);

/* Real-time pacing: advancing the clock waits until as much wall time has
 * passed since pacing started (esp32sim run --realtime). Off by default:
 * an hour of sleep takes no time. */
void esim_device_set_realtime(esim_device *dev, bool realtime);

/* The world around the board: GPIO pads, sensors, and the stimulus
 * timeline applied as the clock advances. */
esim_gpio *esim_device_gpio(esim_device *dev);
esim_rmt *esim_device_rmt(esim_device *dev);   /* stopped by every reset and by deep sleep */
/* The ULP co-processor on the board's RTC slow memory, sensors and pads.
 * It lives in the RTC domain: it runs as the clock advances, awake or in
 * deep sleep (where its WAKE ends the sleep when wake_on_ulp is set), and
 * only a power-on resets it. */
esim_ulp *esim_device_ulp(esim_device *dev);

/* CPU-timed output (bit-banging with interrupts off): the pin's output
 * register takes levels[i] at t_ps[i] (world time in ps, ascending, not
 * before now), as the clock advances, in time order with everything else
 * the world does. ESP_ERR_INVALID_ARG for a pin that does not exist,
 * times out of order or in the past; ESP_ERR_NO_MEM. A reset drops what
 * is still scheduled. */
esp_err_t esim_device_schedule_outputs(esim_device *dev, int pin, const uint64_t *t_ps, const uint8_t *levels,
                                       size_t n);
esim_sensors *esim_device_sensors(esim_device *dev);
esim_stimulus *esim_device_stimulus(esim_device *dev);
/* ESP-IDF's heaps (esp32sim/heap.h), as the firmware left them: every
 * boot starts from empty RAM and replays what ESP-IDF's start-up and
 * MicroPython's main() allocate, MicroPython's own heap included
 * (esim_device_gc_heap: its address and size this boot). NULL when the
 * heaps could not be made (out of host memory). */
struct esim_heaps *esim_device_heaps(esim_device *dev);
void esim_device_gc_heap(const esim_device *dev, uint32_t *addr, size_t *size);

/* MicroPython's split heap (MICROPY_GC_SPLIT_HEAP_AUTO): when the GC
 * heap cannot hold `needed` more bytes it adds an area from the IDF heap,
 * as large as the heap is already (doubling it) or `needed` if more,
 * limited to the largest free block (MALLOC_CAP_DEFAULT).
 * ESP_ERR_NO_MEM when no block can hold `needed`. esim_device_gc_heap_bytes
 * is the heap's size with every area added this boot. */
esp_err_t esim_device_gc_heap_grow(esim_device *dev, size_t needed);
size_t esim_device_gc_heap_bytes(const esim_device *dev);

/* What the firmware allocates as it works: nvs_open's handle entry (esp32.NVS
 * objects are never closed: it stays until the next boot) —
 * ESP_ERR_NO_MEM when the heaps have no room, as nvs_open says — and the
 * NVS item hash list, which grows and shrinks with the items stored (call
 * after NVS writes). */
esp_err_t esim_device_heap_nvs_open(esim_device *dev);
void esim_device_heap_nvs_changed(esim_device *dev);

/* Apply one stimulus event now (whatever its time says). */
void esim_device_apply_stimulus(esim_device *dev, const esim_stim_event *event);

/* CPU clock in Hz: 20, 40, 80, 160 or 240 MHz (default 160 MHz, as
 * MicroPython's ESP32 port configures). Other values: ESP_ERR_INVALID_ARG. */
uint32_t esim_device_cpu_freq(const esim_device *dev);
esp_err_t esim_device_set_cpu_freq(esim_device *dev, uint32_t hz);

/* The base MAC address (eFuse), derived from the flash image path so a board
 * keeps its identity across runs. */
void esim_device_mac(const esim_device *dev, uint8_t mac[6]);

/* Address map. size is 1, 2 or 4; addr must be aligned to it.
 * Unmapped address: ESP_ERR_NOT_FOUND (the binding turns it into the
 * LoadProhibited/StoreProhibited panic a board shows). */
esp_err_t esim_device_mem_read(esim_device *dev, uint32_t addr, unsigned size, uint32_t *value);
esp_err_t esim_device_mem_write(esim_device *dev, uint32_t addr, unsigned size, uint32_t value);
uint8_t *esim_device_rtc_slow_mem(esim_device *dev);

#endif
