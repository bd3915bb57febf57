/* esp32sim command — the boot's trace (JSON lines) and UART log. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bootlog.h"
#include "cli_util.h"
#include "esp32sim/appimage.h"
#include "esp32sim/ota.h"
#include "esp32sim/partition.h"
#include "esp32sim/sleep.h"

/* esp_reset_reason_t as the trace names it. */
static const char *reason_name(esim_reset_reason r)
{
    static const char *const names[] = {"UNKNOWN", "POWERON", "EXT", "SW", "PANIC", "INT_WDT",
                                        "TASK_WDT", "WDT", "DEEPSLEEP", "BROWNOUT", "SDIO"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "UNKNOWN";
}

static void trace_state(FILE *out, const char *key, uint32_t state, bool present)
{
    fprintf(out, ", \"%s\": ", key);
    if (present)
        fprintf(out, "\"%s\"", esim_ota_state_name(state));
    else
        fputs("null", out);
}

static void trace_event(FILE *out, const esim_device *dev, const esim_boot_event *e)
{
    bool change = e->kind == ESIM_BOOT_EV_STATE_CHANGE;
    bool writes = change || e->kind == ESIM_BOOT_EV_INITIAL_SEQ;
    fprintf(out, "{\"boot\": %" PRIu32 ", \"reset_reason\": \"%s\", \"wake_cause\": %d, \"at_ms\": %" PRIu64
            ", \"kind\": \"%s\", \"entry\": ",
            esim_device_boot_count(dev), reason_name(esim_device_reset_reason(dev)), (int)esim_device_wake_cause(dev),
            esim_device_boot_started_us(dev) / 1000u, esim_boot_event_kind_name(e->kind));
    if (e->entry >= 0)
        fprintf(out, "%d", e->entry);
    else
        fputs("null", out);
    if (e->seq != 0xFFFFFFFFu)
        fprintf(out, ", \"seq\": %" PRIu32, e->seq);
    else
        fputs(", \"seq\": null", out);
    trace_state(out, "from", e->state_from, change);
    trace_state(out, "to", e->state_to, writes || e->kind == ESIM_BOOT_EV_ACTIVE);
    fprintf(out, ", \"written\": %s, \"label\": ", writes ? (e->written ? "true" : "false") : "null");
    if (e->label[0]) {
        cli_json_string(out, e->label);
        fprintf(out, ", \"address\": %" PRIu32, e->address);
    } else {
        fputs("null, \"address\": null", out);
    }
    fputs(", \"check\": ", out);
    if (e->failed_check)
        cli_json_string(out, e->failed_check);
    else
        fputs("null", out);
    fputs(", \"message\": ", out);
    cli_json_string(out, e->message);
    fputs("}\n", out);
}

int cli_write_boot_trace(esim_device *dev, FILE *out)
{
    const esim_boot_event *events;
    size_t n = esim_device_boot_events(dev, &events);
    for (size_t i = 0; i < n; i++)
        trace_event(out, dev, &events[i]);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

/* ---- the UART log (docs/boot-log.md) ---- */

/* The bootloader's log: "I (ms) tag: text", with a modelled clock. */
typedef struct {
    FILE *out;
    esim_device *dev;
    unsigned ms;
} uart;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void logline(uart *u, char level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    fprintf(u->out, "%c (%u) %s: ", level, u->ms, tag);
    va_start(ap, fmt);
    vfprintf(u->out, fmt, ap);
    va_end(ap);
    fputc('\n', u->out);
    u->ms += 3;
}

/* The ROM's reset cause for esp_reset_reason (esp_restart and the panic
 * handler end in a CPU software reset). */
static const char *rom_reset(esim_reset_reason r, unsigned *code)
{
    switch (r) {
    case ESIM_RST_SW:
    case ESIM_RST_PANIC:
    case ESIM_RST_INT_WDT:
    case ESIM_RST_TASK_WDT: *code = 0xc; return "SW_CPU_RESET";
    case ESIM_RST_DEEPSLEEP: *code = 0x5; return "DEEPSLEEP_RESET";
    case ESIM_RST_WDT: *code = 0x8; return "TG1WDT_SYS_RESET";
    case ESIM_RST_BROWNOUT: *code = 0xf; return "RTCWDT_BROWN_OUT_RESET";
    case ESIM_RST_SDIO: *code = 0x6; return "SDIO_RESET";
    default: *code = 0x1; return "POWERON_RESET";
    }
}

/* First stage: the mask ROM of an ESP32 v3 loading the bootloader. */
static void print_rom(FILE *out, esim_reset_reason reason)
{
    unsigned code;
    const char *name = rom_reset(reason, &code);
    fprintf(out, "ets Jul 29 2019 12:21:46\n\n"
                 "rst:0x%x (%s),boot:0x13 (SPI_FAST_FLASH_BOOT)\n"
                 "configsip: 0, SPIWP:0xee\n"
                 "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\n"
                 "mode:DIO, clock div:2\n"
                 "load:0x3fff0030,len:6380\n"
                 "ho 0 tail 12 room 4\n"
                 "load:0x40078000,len:15916\n"
                 "load:0x40080400,len:3860\n"
                 "entry 0x40080638\n",
            code, name);
}

static void print_bootloader_start(uart *u)
{
    unsigned mib = (unsigned)(esim_flash_size(esim_device_flash(u->dev)) >> 20);
    logline(u, 'I', "boot", "ESP-IDF v5.5.2 2nd stage bootloader");
    logline(u, 'I', "boot", "compile time Jan  1 2025 00:00:00");
    logline(u, 'I', "boot", "Multicore bootloader");
    logline(u, 'I', "boot", "chip revision: v3.0");
    logline(u, 'I', "boot.esp32", "SPI Speed      : 40MHz");
    logline(u, 'I', "boot.esp32", "SPI Mode       : DIO");
    logline(u, 'I', "boot.esp32", "SPI Flash Size : %uMB", mib);
    logline(u, 'I', "boot", "Enabling RNG early entropy source...");
}

static const char *usage_name(const esim_part_entry *e)
{
    if (e->type == ESIM_PART_TYPE_APP) {
        if (e->subtype == ESIM_PART_SUBTYPE_APP_FACTORY)
            return "factory app";
        if (e->subtype == ESIM_PART_SUBTYPE_APP_TEST)
            return "test app";
        return e->subtype >= ESIM_PART_SUBTYPE_APP_OTA_0 && e->subtype < ESIM_PART_SUBTYPE_APP_TEST ? "OTA app"
                                                                                                   : "Unknown app";
    }
    if (e->type != ESIM_PART_TYPE_DATA)
        return "unknown";
    static const char *const data[] = {"OTA data", "RF data", "WiFi data", "Unknown data", "NVS keys", "efuse"};
    return e->subtype < sizeof data / sizeof data[0] ? data[e->subtype] : "Unknown data";
}

static void print_partition_table(uart *u)
{
    const esim_ptable *t = esim_device_ptable(u->dev);
    logline(u, 'I', "boot", "Partition Table:");
    logline(u, 'I', "boot", "## Label            Usage          Type ST Offset   Length");
    for (size_t i = 0; i < t->count; i++) {
        const esim_part_entry *e = &t->entries[i];
        logline(u, 'I', "boot", "%2zu %-16s %-16s %02x %02x %08" PRIx32 " %08" PRIx32, i, e->label, usage_name(e),
                e->type, e->subtype, e->offset, e->size);
    }
    logline(u, 'I', "boot", "End of partition table");
}

/* The image in the partition an event names, verified again for its
 * segments and the reason it failed (false when it is outside the flash). */
static bool examine(uart *u, const esim_boot_event *e, esim_image_info *info)
{
    const esim_ptable *t = esim_device_ptable(u->dev);
    size_t flash_size = esim_flash_size(esim_device_flash(u->dev));
    for (size_t i = 0; i < t->count; i++) {
        const esim_part_entry *p = &t->entries[i];
        if (p->offset != e->address || strcmp(p->label, e->label) != 0)
            continue;
        if (p->offset > flash_size || p->size > flash_size - p->offset)
            return false;
        esim_image_verify(esim_flash_peek(esim_device_flash(u->dev)) + p->offset, p->size, info);
        return true;
    }
    return false;
}

/* "segment N: paddr=... vaddr=... size=...h (...) map|load|" */
static void print_segments(uart *u, uint32_t base, const esim_image_info *info, bool deep_sleep)
{
    for (unsigned i = 0; i < info->segment_count && i < ESIM_IMAGE_MAX_SEGMENTS; i++) {
        const esim_image_segment *s = &info->segments[i];
        const char *region = esim_image_region_name(s->load_addr);
        const char *how = "load";
        if (strcmp(region, "DROM") == 0 || strcmp(region, "IROM") == 0)
            how = "map";
        else if (strcmp(region, "padding") == 0 || (deep_sleep && strncmp(region, "RTC", 3) == 0))
            how = "";
        logline(u, 'I', "esp_image", "segment %u: paddr=%08" PRIx32 " vaddr=%08" PRIx32 " size=%05" PRIx32 "h (%6" PRIu32
                ") %s", i, base + s->file_offset, s->load_addr, s->data_len, s->data_len, how);
        u->ms += s->data_len / 4096;     /* reading and hashing the segment */
    }
}

static void print_image_error(uart *u, const esim_boot_event *e, const esim_image_info *info, uint32_t part_size)
{
    const char *check = e->failed_check ? e->failed_check : "magic";
    if (strcmp(check, "magic") == 0)
        logline(u, 'E', "esp_image", "image at 0x%" PRIx32 " has invalid magic byte (nothing flashed here?)", e->address);
    else if (strcmp(check, "chip") == 0)
        logline(u, 'E', "boot_comm", "mismatch chip ID, expected %d, found %u", 0, info->chip_id);
    else if (strcmp(check, "segments") == 0 && info->segment_count > ESIM_IMAGE_MAX_SEGMENTS)
        logline(u, 'E', "esp_image", "image at 0x%" PRIx32 " segment count %u exceeds max %u", e->address,
                info->segment_count, ESIM_IMAGE_MAX_SEGMENTS);
    else if (strcmp(check, "segments") == 0)
        logline(u, 'E', "esp_image", "%s", info->reason);
    else if (strcmp(check, "length") == 0)
        logline(u, 'E', "esp_image", "Image length %" PRIu32 " doesn't fit in partition length %" PRIu32,
                info->image_len, part_size);
    else if (strcmp(check, "checksum") == 0)
        logline(u, 'E', "esp_image", "Checksum failed. Calculated 0x%x read 0x%x", info->checksum_computed,
                info->checksum_stored);
    else
        logline(u, 'E', "esp_image", "Image hash failed - image is corrupt");
}

static void print_not_bootable(uart *u, const esim_boot_event *e)
{
    esim_image_info info;
    memset(&info, 0, sizeof info);
    bool found = examine(u, e, &info);
    if (found && e->failed_check != NULL && strcmp(e->failed_check, "magic") != 0)
        print_segments(u, e->address, &info, false);
    esim_partition p;
    if (!esim_partition_find_first(u->dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_ANY, e->label, &p))
        return;
    print_image_error(u, e, &info, p.size);
    if (p.subtype == ESIM_PART_SUBTYPE_APP_FACTORY)
        logline(u, 'E', "boot", "Factory app partition is not bootable");
    else if (p.subtype == ESIM_PART_SUBTYPE_APP_TEST)
        logline(u, 'E', "boot", "Factory test app partition is not bootable");
    else
        logline(u, 'E', "boot", "OTA app partition slot %u is not bootable", p.subtype & 0x0Fu);
}

static void print_loaded(uart *u, const esim_boot_event *e, bool deep_sleep)
{
    esim_image_info info;
    memset(&info, 0, sizeof info);
    if (examine(u, e, &info))
        print_segments(u, e->address, &info, deep_sleep);
    if (e->kind == ESIM_BOOT_EV_FAST_WAKE)
        logline(u, 'I', "boot", "Fast booting app from partition at offset 0x%" PRIx32, e->address);
    else
        logline(u, 'I', "boot", "Loaded app from partition at offset 0x%" PRIx32, e->address);
}

/* What one decision prints at INFO level (rollback bookkeeping is DEBUG). */
static void print_event(uart *u, const esim_boot_event *e, bool deep_sleep)
{
    switch (e->kind) {
    case ESIM_BOOT_EV_NO_SELECTION:
        logline(u, 'I', "boot", e->label[0] && strcmp(e->label, "factory") == 0 ? "Defaulting to factory image"
                                                                                 : "No factory image, trying OTA 0");
        break;
    case ESIM_BOOT_EV_OTADATA_INVALID:
        logline(u, 'E', "boot", e->label[0] ? "ota data partition invalid, falling back to factory"
                                            : "ota data partition invalid and no factory, will try all partitions");
        break;
    case ESIM_BOOT_EV_NOT_BOOTABLE: print_not_bootable(u, e); break;
    case ESIM_BOOT_EV_LOADED:
    case ESIM_BOOT_EV_FAST_WAKE: print_loaded(u, e, deep_sleep); break;
    case ESIM_BOOT_EV_INITIAL_SEQ:
        logline(u, 'I', "boot", "Set actual ota_seq=%" PRIu32 " in otadata[0]", e->seq);
        break;
    case ESIM_BOOT_EV_FAST_WAKE_FAILED:
        logline(u, 'E', "boot", "Fast booting is not successful");
        logline(u, 'I', "boot", "Try to load an app as usual with all validations");
        break;
    case ESIM_BOOT_EV_NO_APP:
        logline(u, 'E', "boot", "No bootable app partitions in the partition table");
        break;
    case ESIM_BOOT_EV_OTADATA_UNREADABLE:
        logline(u, 'E', "boot", "Failed to read otadata");
        break;
    case ESIM_BOOT_EV_UNVERIFIED:
        fprintf(u->out, "esp32sim: no app image verifies; the board runs %s anyway (a real ESP32 would reset here "
                        "and try again)\n", e->label);
        break;
    default:
        break;
    }
}

void cli_print_boot_log(esim_device *dev, FILE *out)
{
    uart u = {out, dev, 27};
    esim_reset_reason reason = esim_device_reset_reason(dev);
    bool deep_sleep = reason == ESIM_RST_DEEPSLEEP;
    const esim_boot_event *events;
    size_t n = esim_device_boot_events(dev, &events);
    print_rom(out, reason);
    print_bootloader_start(&u);
    bool fast = n > 0 && events[0].kind == ESIM_BOOT_EV_FAST_WAKE;
    size_t i = 0;
    if (n > 0 && (fast || events[0].kind == ESIM_BOOT_EV_FAST_WAKE_FAILED))
        print_event(&u, &events[i++], deep_sleep);
    if (!fast)
        print_partition_table(&u);
    for (; i < n; i++)
        print_event(&u, &events[i], deep_sleep);
    logline(&u, 'I', "boot", "Disabling RNG early entropy source...");
    fflush(out);
}
