/* esp32sim ota: the OTA state of a flash image — both otadata entries and
 * what the bootloader will boot next — and the app-side OTA operations
 * (set-boot, mark-valid) plus erasing otadata, on an image file. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "esp32sim/ota.h"

static const char usage_group[] =
    "Usage: esp32sim ota SUBCOMMAND IMAGE [ARGS...]\n"
    "\n"
    "OTA state of a flash image (its otadata partition).\n"
    "\n"
    "Subcommands:\n"
    "  status IMAGE [--json]     both otadata entries and the partition the next boot loads\n"
    "  set-boot IMAGE LABEL      esp_ota_set_boot_partition (the image must verify)\n"
    "  mark-valid IMAGE          esp_ota_mark_app_valid_cancel_rollback\n"
    "  erase IMAGE               erase otadata (the next boot loads factory, else ota_0)\n"
    "\n"
    "Run 'esp32sim ota SUBCOMMAND --help' for details.\n";

static const char usage_status[] =
    "Usage: esp32sim ota status IMAGE [--json]\n"
    "\n"
    "Show both otadata entries (sequence, state, CRC verdict, the slot each\n"
    "points to) and which partition the next boot will load and why, by the\n"
    "bootloader's rules (app rollback enabled). IMAGE is not changed.\n"
    "JSON: {\"entries\": [{\"seq\": N|null, \"state\": S, \"crc_ok\": bool,\n"
    "\"slot\": \"ota_N\"|null}, ...], \"next_boot\": LABEL|null, \"why\": [...]}\n";

static const char usage_set_boot[] =
    "Usage: esp32sim ota set-boot IMAGE LABEL\n"
    "\n"
    "Do what Partition(LABEL).set_boot() does on the board: verify the app image\n"
    "in LABEL, then write otadata (factory: erase it; ota_N: the next sequence\n"
    "number, state NEW).\n";

static const char usage_mark_valid[] =
    "Usage: esp32sim ota mark-valid IMAGE\n"
    "\n"
    "Do what Partition.mark_app_valid_cancel_rollback() does: the active\n"
    "otadata entry becomes VALID.\n";

static const char usage_erase[] =
    "Usage: esp32sim ota erase IMAGE\n"
    "\n"
    "Erase the otadata partition, as otatool.py erase_otadata does.\n";

/* ---- opening the image ---- */

static int open_image(const char *cmd, const char *image, bool read_only, esim_device **dev)
{
    if (!cli_file_exists(image))
        return cli_fail(cmd, "%s: %s", image, cli_errno_text(ENOENT));
    esim_device_config cfg = {.flash_path = image, .read_only = read_only, .skip_nvs = true};
    esim_ptable_error why = {-1, ""};
    esp_err_t err = esim_device_open(&cfg, dev, &why);
    if (err)
        return cli_fail(cmd, "%s", why.message[0] ? why.message : esim_err_name(err));
    esim_partition otadata;
    if (!esim_partition_find_first(*dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_DATA_OTA, NULL, &otadata)) {
        esim_device_close(*dev);
        return cli_fail(cmd, "%s: the partition table has no otadata partition", image);
    }
    return CLI_OK;
}

/* One IMAGE (and maybe one more) positional argument; 1 = go on. */
static int take_args(const char *cmd, const char *usage, int argc, char **argv, cli_option *opts, size_t nopts,
                     char **pos, int want, int *status)
{
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, opts, nopts, pos, want, &npos);
    *status = r == CLI_HELP ? cli_print_help(usage) : r == CLI_BAD ? CLI_USAGE : CLI_OK;
    if (r != CLI_PARSED)
        return 0;
    if (npos < want) {
        *status = cli_usage_error(cmd, want == 1 ? "missing IMAGE" : "expected IMAGE LABEL");
        return 0;
    }
    return 1;
}

/* ---- status ---- */

/* The slot an entry points to, or -1 (empty entry, no OTA slots). */
static int entry_slot(const esim_ota_entry *e, int slots)
{
    if (e->ota_seq == 0xFFFFFFFFu || e->ota_seq == 0 || slots == 0)
        return -1;
    return (int)((e->ota_seq - 1) % (uint32_t)slots);
}

static void print_status_text(const esim_ota_entry e[2], int slots, const esim_partition *next, bool found,
                              const esim_boot_event *events, size_t n)
{
    for (int i = 0; i < 2; i++) {
        int slot = entry_slot(&e[i], slots);
        bool crc_ok = e[i].crc == esim_ota_seq_crc(e[i].ota_seq);
        if (e[i].ota_seq == 0xFFFFFFFFu)
            printf("otadata[%d]: empty\n", i);
        else
            printf("otadata[%d]: seq %" PRIu32 ", state %s, CRC %s, slot %s%d%s\n", i, e[i].ota_seq,
                   esim_ota_state_name(e[i].ota_state), crc_ok ? "ok" : "BAD", slot < 0 ? "(none" : "ota_",
                   slot < 0 ? 0 : slot, slot < 0 ? ")" : "");
    }
    printf("next boot: %s\n", found ? next->label : "(no bootable app)");
    for (size_t i = 0; i < n; i++)
        printf("  %s\n", events[i].message);
}

static void print_status_json(const esim_ota_entry e[2], int slots, const esim_partition *next, bool found,
                              const esim_boot_event *events, size_t n)
{
    printf("{\"entries\": [");
    for (int i = 0; i < 2; i++) {
        int slot = entry_slot(&e[i], slots);
        bool empty = e[i].ota_seq == 0xFFFFFFFFu;
        printf("%s{\"seq\": ", i ? ", " : "");
        empty ? printf("null") : printf("%" PRIu32, e[i].ota_seq);
        printf(", \"state\": \"%s\", \"crc_ok\": %s, \"slot\": ", esim_ota_state_name(e[i].ota_state),
               e[i].crc == esim_ota_seq_crc(e[i].ota_seq) ? "true" : "false");
        slot < 0 ? printf("null}") : printf("\"ota_%d\"}", slot);
    }
    printf("], \"next_boot\": ");
    found ? printf("\"%s\"", next->label) : printf("null");
    printf(", \"why\": [");
    for (size_t i = 0; i < n; i++) {
        printf("%s\"", i ? ", " : "");
        for (const char *c = events[i].message; *c; c++)
            (*c == '"' || *c == '\\') ? printf("\\%c", *c) : putchar(*c);
        printf("\"");
    }
    printf("]}\n");
}

static int ota_status(int argc, char **argv)
{
    const char *cmd = "ota status";
    cli_option opts[] = {{"json", 0, false, NULL}};
    char *pos[1];
    int status;
    esim_device *dev;
    if (!take_args(cmd, usage_status, argc, argv, opts, 1, pos, 1, &status))
        return status;
    /* A read-only board runs the bootloader's choice without writing it. */
    if ((status = open_image(cmd, pos[0], true, &dev)) != CLI_OK)
        return status;
    esim_ota_entry e[2];
    esim_partition next;
    const esim_boot_event *events;
    bool read = esim_ota_read_entries(dev, e);
    bool found = esim_ota_running_partition(dev, &next);
    size_t n = esim_device_boot_events(dev, &events);
    int slots = esim_ota_slot_count(dev);
    if (read && opts[0].value)
        print_status_json(e, slots, &next, found, events, n);
    else if (read)
        print_status_text(e, slots, &next, found, events, n);
    esim_device_close(dev);
    return read ? CLI_OK : cli_fail(cmd, "%s: cannot read otadata", pos[0]);
}

/* ---- set-boot, mark-valid, erase ---- */

static int finish(const char *cmd, esim_device *dev, esp_err_t err, const char *done)
{
    esim_device_close(dev);
    if (err)
        return cli_fail(cmd, "%s (%s)", done, esim_err_name(err));
    return CLI_OK;
}

static int ota_set_boot(int argc, char **argv)
{
    const char *cmd = "ota set-boot";
    char *pos[2];
    int status;
    esim_device *dev;
    esim_partition part;
    if (!take_args(cmd, usage_set_boot, argc, argv, NULL, 0, pos, 2, &status))
        return status;
    if ((status = open_image(cmd, pos[0], false, &dev)) != CLI_OK)
        return status;
    if (!esim_partition_find_first(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_ANY, pos[1], &part)) {
        esim_device_close(dev);
        return cli_fail(cmd, "%s: no app partition labelled '%s'", pos[0], pos[1]);
    }
    esp_err_t err = esim_ota_set_boot_partition(dev, &part);
    return finish(cmd, dev, err, err == ESP_ERR_OTA_VALIDATE_FAILED ? "the app image does not verify" : "failed");
}

static int ota_mark_valid(int argc, char **argv)
{
    const char *cmd = "ota mark-valid";
    char *pos[1];
    int status;
    esim_device *dev;
    if (!take_args(cmd, usage_mark_valid, argc, argv, NULL, 0, pos, 1, &status))
        return status;
    if ((status = open_image(cmd, pos[0], false, &dev)) != CLI_OK)
        return status;
    esp_err_t err = esim_ota_mark_app_valid(dev);
    return finish(cmd, dev, err, err == ESP_FAIL ? "no active otadata entry to mark" : "failed");
}

static int ota_erase(int argc, char **argv)
{
    const char *cmd = "ota erase";
    char *pos[1];
    int status;
    esim_device *dev;
    esim_partition otadata;
    if (!take_args(cmd, usage_erase, argc, argv, NULL, 0, pos, 1, &status))
        return status;
    if ((status = open_image(cmd, pos[0], false, &dev)) != CLI_OK)
        return status;
    esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_DATA_OTA, NULL, &otadata);
    esp_err_t err = esim_partition_erase_range(dev, &otadata, 0, otadata.size);
    return finish(cmd, dev, err, "erasing otadata failed");
}

int cmd_ota(int argc, char **argv)
{
    static const cli_subcommand subs[] = {
        {"status", ota_status}, {"set-boot", ota_set_boot}, {"mark-valid", ota_mark_valid}, {"erase", ota_erase},
    };
    return cli_dispatch("ota", usage_group, subs, sizeof subs / sizeof subs[0], argc, argv);
}
