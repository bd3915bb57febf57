/* esp32sim — one simulated ESP32: opening its flash, the boot sequence the
 * firmware runs (partition table, MicroPython's vfs registration), resets,
 * the virtual clock and identity. */
#define _XOPEN_SOURCE 700   /* realpath */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "device_internal.h"
#include "esp32sim/ota.h"

#define DEFAULT_CPU_FREQ_HZ 160000000u     /* MicroPython's ESP32 default */
#define LAYOUT_FILE_MAX     (64u * 1024u)

/* Messages longer than the buffer are cut short; that is fine for them. */
static void say(esim_ptable_error *why, const char *fmt, const char *a, const char *b)
{
    if (why == NULL)
        return;
    why->line = -1;
    if (snprintf(why->message, sizeof why->message, fmt, a, b) < 0)
        why->message[0] = '\0';
}

static void prefix_error(esim_ptable_error *why, const char *prefix)
{
    if (why == NULL)
        return;
    char tmp[sizeof why->message];
    int n = why->line > 0 ? snprintf(tmp, sizeof tmp, "%s: line %d: %s", prefix, why->line, why->message)
                          : snprintf(tmp, sizeof tmp, "%s: %s", prefix, why->message);
    if (n >= 0)
        memcpy(why->message, tmp, sizeof tmp);
}

static esp_err_t read_text_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ESP_ERR_NOT_FOUND;
    char *buf = malloc(LAYOUT_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, LAYOUT_FILE_MAX + 1, f) : 0;
    int failed = ferror(f);
    fclose(f);
    if (buf == NULL)
        return ESP_ERR_NO_MEM;
    if (failed || n > LAYOUT_FILE_MAX) {
        free(buf);
        return failed ? ESP_FAIL : ESP_ERR_INVALID_SIZE;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return ESP_OK;
}

static esp_err_t parse_layout_file(const char *path, esim_ptable *table, esim_ptable_error *why)
{
    char *text = NULL;
    size_t len = 0;
    esp_err_t err = read_text_file(path, &text, &len);
    if (err == ESP_ERR_NOT_FOUND) {
        say(why, "layout '%s' is neither 'default', 'ota' nor a readable CSV file%s", path, "");
        return ESP_ERR_INVALID_ARG;
    }
    if (err) {
        say(why, "%s: cannot read the layout file (larger than 64 KiB or unreadable)%s", path, "");
        return ESP_ERR_INVALID_ARG;
    }
    err = esim_ptable_parse_csv(text, len, table, why);
    free(text);
    if (err)
        prefix_error(why, path);
    return err;
}

/* The table a config asks for, verified against the flash size. */
static esp_err_t load_layout(const esim_device_config *cfg, size_t flash_size, esim_ptable *table,
                             esim_ptable_error *why)
{
    const char *name = cfg->layout ? cfg->layout : "default";
    const char *builtin = cfg->layout_csv ? cfg->layout_csv : esim_layout_csv(name);
    esp_err_t err;
    if (builtin != NULL) {
        err = esim_ptable_parse_csv(builtin, strlen(builtin), table, why);
        if (err)
            prefix_error(why, cfg->layout_csv ? "layout" : name);
    } else {
        err = parse_layout_file(name, table, why);
    }
    if (err)
        return err;
    err = esim_ptable_verify(table, (uint32_t)flash_size, why);
    if (err)
        prefix_error(why, cfg->layout_csv ? "layout" : name);
    return err;
}

static esp_err_t write_table(esim_flash *flash, const esim_ptable *table, esim_ptable_error *why)
{
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    esp_err_t err = esim_ptable_to_binary(table, true, bin, why);
    if (err)
        return err;
    err = esim_flash_erase_range(flash, ESIM_PTABLE_OFFSET, ESIM_FLASH_SECTOR_SIZE);
    if (err)
        return err;
    return esim_flash_program(flash, ESIM_PTABLE_OFFSET, bin, sizeof bin);
}

/* An existing image asked to have a layout: it must already hold that table. */
static esp_err_t check_same_table(esim_flash *flash, const esim_ptable *want, const char *path,
                                  esim_ptable_error *why)
{
    uint8_t expected[ESIM_PTABLE_MAX_LEN], actual[ESIM_PTABLE_MAX_LEN];
    esp_err_t err = esim_ptable_to_binary(want, true, expected, why);
    if (err)
        return err;
    memcpy(actual, esim_flash_peek(flash) + ESIM_PTABLE_OFFSET, sizeof actual);
    if (memcmp(expected, actual, sizeof actual) == 0)
        return ESP_OK;
    say(why, "%s already holds a different partition table; it is never rewritten "
             "silently (make a new image with 'esp32sim flash new'%s)", path, "");
    return ESP_ERR_INVALID_STATE;
}

static void derive_mac(esim_device *dev, const char *path)
{
    char resolved[4096];
    const char *id = "esp32sim memory board";
    if (path != NULL && realpath(path, resolved) != NULL)
        id = resolved;
    uLong crc = crc32(0L, (const Bytef *)id, (uInt)strlen(id));
    /* Espressif's OUI, then three bytes that identify this board. */
    const uint8_t mac[6] = {0x24, 0x0A, 0xC4, (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    memcpy(dev->mac, mac, sizeof mac);
}

/* What MicroPython's firmware does at boot when the table has no filesystem
 * partition: register a RAM-only data/fat "vfs" from the end of the last
 * partition to the end of flash. */
static void register_micropython_vfs(esim_device *dev)
{
    esim_partition found;
    if (esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "vfs", &found) ||
        esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "ffat", &found))
        return;
    uint32_t start = esim_ptable_end(&dev->table);
    uint32_t flash_size = (uint32_t)esim_flash_size(dev->flash);
    if (start < flash_size)
        esim_partition_register(dev, start, flash_size - start, "vfs", ESIM_PART_TYPE_DATA,
                                ESIM_PART_SUBTYPE_DATA_FAT, NULL);
}

static esp_err_t load_table_from_flash(esim_device *dev)
{
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    esim_ptable_error why = {-1, ""};
    esp_err_t err = esim_flash_read(dev->flash, ESIM_PTABLE_OFFSET, bin, sizeof bin);
    if (err == ESP_OK)
        err = esim_ptable_parse_binary(bin, sizeof bin, true, &dev->table, &why);
    else
        snprintf(why.message, sizeof why.message, "the flash did not answer (%s)", esim_err_name(err));
    if (err) {
        const char *path = esim_flash_path(dev->flash);
        if (snprintf(dev->boot_error, sizeof dev->boot_error, "%s: no valid partition table at 0x8000: %s",
                     path ? path : "flash", why.message) < 0)
            strcpy(dev->boot_error, "no valid partition table at 0x8000");
        dev->table.count = 0;
    }
    return err;
}

/* nvs_flash_init as MicroPython's main calls it: a partition that has no
 * free page or was written by a newer format is erased and mounted again. */
static void mount_nvs(esim_device *dev)
{
    esim_partition part;
    dev->nvs = NULL;
    dev->nvs_error = ESP_ERR_NVS_PART_NOT_FOUND;
    if (dev->skip_nvs) {
        dev->nvs_error = ESP_ERR_NVS_NOT_INITIALIZED;
        return;
    }
    if (!esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_DATA_NVS, "nvs", &part))
        return;
    bool read_only = dev->read_only || part.readonly;
    esp_err_t err = esim_nvs_mount(dev->flash, part.address, part.size, read_only, &dev->nvs);
    if ((err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) && !read_only) {
        err = esim_nvs_erase_partition(dev->flash, part.address, part.size);
        if (err == ESP_OK)
            err = esim_nvs_mount(dev->flash, part.address, part.size, false, &dev->nvs);
    }
    dev->nvs_error = err;
    if (err)
        dev->nvs = NULL;
}

static void end_boot(esim_device *dev, esim_reset_reason reason)
{
    if (dev->reset_hook != NULL)
        dev->reset_hook(dev, reason, dev->reset_hook_ctx);
    esim_nvs_unmount(dev->nvs);
    dev->nvs = NULL;
}

/* The last event says the board runs `p` although no image verified. */
static void note_unverified(esim_device *dev, esim_partition p)
{
    if (dev->n_boot_events >= ESIM_MAX_BOOT_EVENTS)
        dev->n_boot_events = ESIM_MAX_BOOT_EVENTS - 1;
    esim_boot_event *e = &dev->boot_events[dev->n_boot_events++];
    memset(e, 0, sizeof *e);
    e->kind = ESIM_BOOT_EV_UNVERIFIED;
    e->entry = -1;
    e->seq = 0xFFFFFFFFu;
    e->state_from = e->state_to = ESIM_OTA_STATE_UNDEFINED;
    snprintf(e->label, sizeof e->label, "%s", p.label);
    e->address = p.address;
    if (snprintf(e->message, sizeof e->message, "unverified: no app image verifies; running %s as if it held one",
                 p.label) < 0)
        e->message[0] = '\0';
}

static void set_running(esim_device *dev, const esim_partition *chosen)
{
    dev->running_index = -1;
    for (size_t i = 0; i < dev->table_parts; i++)
        if (dev->parts[i].address == chosen->address)
            dev->running_index = (int)i;
}

/* The second-stage bootloader picks the app (docs/otadata.md). A board
 * whose app partitions hold no image that verifies still comes up, running
 * what otadata selects (else factory, else ota_0), marked "unverified". */
static void run_bootloader(esim_device *dev, esim_reset_reason reason)
{
    esim_boot_options opts = {!dev->no_rollback, reason == ESIM_RST_DEEPSLEEP,
                              dev->has_wake_app ? &dev->wake_app : NULL};
    esim_partition chosen;
    bool found = false;
    esp_err_t err = esim_bootloader_select(dev, &opts, &chosen, &found, dev->boot_events,
                                           ESIM_MAX_BOOT_EVENTS, &dev->n_boot_events);
    if (err == ESP_OK && found) {
        set_running(dev, &chosen);
    } else {
        esim_ota_choose_running(dev);
        if (dev->running_index >= 0)
            note_unverified(dev, dev->parts[dev->running_index]);
    }
    dev->has_wake_app = dev->running_index >= 0;
    if (dev->has_wake_app)
        dev->wake_app = dev->parts[dev->running_index];
}

static bool fast_wake_of(const esim_device *dev)
{
    for (size_t i = 0; i < dev->n_boot_events; i++)
        if (dev->boot_events[i].kind == ESIM_BOOT_EV_FAST_WAKE)
            return true;
    return false;
}

/* The part of a boot that the firmware sees: fresh clock and RAM state, the
 * partition table read from flash, MicroPython's vfs registered. */
static esp_err_t boot(esim_device *dev, esim_reset_reason reason)
{
    dev->reason = reason;
    dev->soft_reset = false;
    dev->boot_time_us = 0;
    dev->boot_count++;
    dev->cpu_freq_hz = DEFAULT_CPU_FREQ_HZ;
    dev->boot_error[0] = '\0';
    dev->n_boot_events = 0;
    dev->boot_world_us = dev->world_time_us;
    esim_world_boot(dev, reason);
    esp_err_t err = load_table_from_flash(dev);
    esim_partitions_load(dev);
    if (err == ESP_OK) {
        run_bootloader(dev, reason);
        register_micropython_vfs(dev);
        mount_nvs(dev);
    }
    esim_firmware_heap_boot(dev);
    if (dev->fs != NULL)
        esim_boardfs_reset_cwd(dev->fs);
    esim_world_boot_takes_time(dev, fast_wake_of(dev));
    return err;
}

static esp_err_t open_flash(const esim_device_config *cfg, bool exists, size_t size, esim_flash **flash,
                            esim_ptable_error *why)
{
    esp_err_t err;
    if (cfg->read_only)
        err = esim_flash_open_file_readonly(cfg->flash_path, cfg->flash_size, flash);
    else if (cfg->flash_path)
        err = esim_flash_open_file(cfg->flash_path, exists ? cfg->flash_size : size, true, flash);
    else
        err = esim_flash_open_memory(size, flash);
    if (err == ESP_ERR_INVALID_SIZE)
        say(why, "%s: the flash size must be 2, 4, 8 or 16 MiB and match an existing image%s",
            cfg->flash_path ? cfg->flash_path : "flash", "");
    else if (err)
        say(why, "%s: cannot open the flash image (%s)", cfg->flash_path ? cfg->flash_path : "flash",
            esim_err_name(err));
    return err;
}

/* A read-only board can only look at an image that is already there:
 * making one (or a memory chip) would need writing its table. */
static esp_err_t check_read_only(const esim_device_config *cfg, bool exists, esim_ptable_error *why)
{
    if (!cfg->read_only)
        return ESP_OK;
    if (cfg->flash_path == NULL) {
        say(why, "a read-only board needs an existing flash image file%s%s", "", "");
        return ESP_ERR_INVALID_ARG;
    }
    if (exists)
        return ESP_OK;
    say(why, "%s: no such flash image (a read-only board never creates one)%s", cfg->flash_path, "");
    return ESP_ERR_NOT_FOUND;
}

static esp_err_t prepare_flash(esim_device *dev, const esim_device_config *cfg, esim_ptable_error *why)
{
    bool exists = cfg->flash_path != NULL && access(cfg->flash_path, F_OK) == 0;
    size_t size = cfg->flash_size ? cfg->flash_size : ESIM_DEFAULT_FLASH_SIZE;
    bool wants_layout = cfg->layout != NULL || cfg->layout_csv != NULL;
    esim_ptable *wanted = &dev->table;
    esp_err_t err = check_read_only(cfg, exists, why);
    if (err)
        return err;
    if (!exists && !esim_flash_size_supported(size)) {
        say(why, "the flash size must be 2, 4, 8 or 16 MiB%s%s", "", "");
        return ESP_ERR_INVALID_SIZE;
    }
    if (!exists)
        err = load_layout(cfg, size, wanted, why);
    if (err == ESP_OK)
        err = open_flash(cfg, exists, size, &dev->flash, why);
    if (err)
        return err;
    if (!exists) {
        err = write_table(dev->flash, wanted, why);
        if (!err && (err = esim_firmware_install(dev->flash, wanted)) != ESP_OK)
            say(why, "cannot write the firmware image (%s)%s", esim_err_name(err), "");
        return err;
    }
    if (!wants_layout)
        return ESP_OK;
    err = load_layout(cfg, esim_flash_size(dev->flash), wanted, why);
    return err ? err : check_same_table(dev->flash, wanted, cfg->flash_path, why);
}

/* The board's filesystem, as large as the vfs (or ffat) partition of the
 * first boot: _boot.py mounts it, inisetup.py makes it on a new board. */
static esp_err_t open_fs(esim_device *dev, const esim_device_config *cfg, esim_ptable_error *why)
{
    esim_partition part;
    uint64_t capacity = 0;
    if (cfg->fs_path == NULL)
        return ESP_OK;
    if (esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "vfs", &part) ||
        esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "ffat", &part))
        capacity = part.size;
    int err = esim_boardfs_open(cfg->fs_path, capacity, !cfg->read_only, &dev->fs_created, &dev->fs);
    if (err == 0)
        return ESP_OK;
    if (err == ENOENT && cfg->read_only) {
        say(why, "%s: no such filesystem directory (a read-only board never creates one)%s", cfg->fs_path, "");
        return ESP_ERR_NOT_FOUND;
    }
    say(why, "%s: cannot use this directory as the board's filesystem (%s)", cfg->fs_path, strerror(err));
    return ESP_ERR_INVALID_ARG;
}

esp_err_t esim_device_open(const esim_device_config *cfg, esim_device **out, esim_ptable_error *why)
{
    static const esim_device_config defaults = {0};
    esim_device *dev = calloc(1, sizeof *dev);
    if (dev == NULL)
        return ESP_ERR_NO_MEM;
    if (cfg == NULL)
        cfg = &defaults;
    dev->read_only = cfg->read_only;
    dev->skip_nvs = cfg->skip_nvs;
    dev->no_rollback = cfg->no_rollback;
    esp_err_t err = esim_world_create(dev);
    if (err == ESP_OK)
        err = prepare_flash(dev, cfg, why);
    if (err == ESP_OK) {
        derive_mac(dev, cfg->flash_path);
        err = boot(dev, ESIM_RST_POWERON);
        if (err)
            say(why, "%s%s", dev->boot_error, "");
        else
            err = open_fs(dev, cfg, why);
    }
    if (err) {
        esim_device_close(dev);
        return err;
    }
    *out = dev;
    return ESP_OK;
}

void esim_device_close(esim_device *dev)
{
    if (dev == NULL)
        return;
    esim_nvs_unmount(dev->nvs);
    esim_boardfs_close(dev->fs);
    esim_flash_close(dev->flash);
    esim_world_destroy(dev);
    esim_heaps_destroy(dev->heaps);
    free(dev);
}

esim_flash *esim_device_flash(esim_device *dev) { return dev->flash; }
const esim_ptable *esim_device_ptable(const esim_device *dev) { return &dev->table; }

esp_err_t esim_device_hard_reset(esim_device *dev, esim_reset_reason reason)
{
    end_boot(dev, reason);
    return boot(dev, reason);
}

esp_err_t esim_device_power_cycle(esim_device *dev)
{
    end_boot(dev, ESIM_RST_POWERON);
    esim_flash_power_on(dev->flash);
    memset(dev->rtc_slow, 0, sizeof dev->rtc_slow);
    memset(dev->rtc_fast, 0, sizeof dev->rtc_fast);
    dev->rtc_time_us = 0;
    dev->has_wake_app = false;
    esim_world_power_off(dev);
    return boot(dev, ESIM_RST_POWERON);
}

void esim_device_soft_reset(esim_device *dev) { dev->soft_reset = true; }

esim_reset_reason esim_device_reset_reason(const esim_device *dev) { return dev->reason; }
bool esim_device_soft_reset_since_boot(const esim_device *dev) { return dev->soft_reset; }
uint32_t esim_device_boot_count(const esim_device *dev) { return dev->boot_count; }

const char *esim_device_boot_error(const esim_device *dev)
{
    return dev->boot_error[0] ? dev->boot_error : NULL;
}

uint32_t esim_device_cpu_freq(const esim_device *dev) { return dev->cpu_freq_hz; }

esp_err_t esim_device_set_cpu_freq(esim_device *dev, uint32_t hz)
{
    static const uint32_t allowed_mhz[] = {20, 40, 80, 160, 240};
    for (size_t i = 0; i < sizeof allowed_mhz / sizeof allowed_mhz[0]; i++) {
        if (hz == allowed_mhz[i] * 1000000u) {
            dev->cpu_freq_hz = hz;
            return ESP_OK;
        }
    }
    return ESP_ERR_INVALID_ARG;
}

void esim_device_mac(const esim_device *dev, uint8_t mac[6]) { memcpy(mac, dev->mac, 6); }

esim_nvs *esim_device_nvs(esim_device *dev) { return dev->nvs; }
esim_boardfs *esim_device_fs(esim_device *dev) { return dev->fs; }
bool esim_device_fs_created(const esim_device *dev) { return dev->fs_created; }
esp_err_t esim_device_nvs_error(const esim_device *dev) { return dev->nvs_error; }

void esim_device_set_reset_hook(esim_device *dev, esim_reset_hook hook, void *ctx)
{
    dev->reset_hook = hook;
    dev->reset_hook_ctx = ctx;
}

void esim_device_set_app_rollback(esim_device *dev, bool enabled) { dev->no_rollback = !enabled; }
bool esim_device_app_rollback(const esim_device *dev) { return !dev->no_rollback; }

size_t esim_device_boot_events(const esim_device *dev, const esim_boot_event **events)
{
    *events = dev->boot_events;
    return dev->n_boot_events;
}
