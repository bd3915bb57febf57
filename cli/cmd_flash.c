/* esp32sim flash: create flash images and show what is in them — the
 * partition table, the flash model's operation counters and sector wear. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "esp32sim/device.h"
#include "esp32sim/flash.h"
#include "esp32sim/partition.h"
#include "esp32sim/parttable.h"

#define MAX_CSV_SIZE (1024u * 1024u)
#define MOST_WORN    5
#define MAX_ROWS     (ESIM_PTABLE_MAX_ENTRIES + 8)   /* table rows plus registered ones */

static const char usage_group[] =
    "Usage: esp32sim flash SUBCOMMAND [ARGS...]\n"
    "\n"
    "Simulated flash images.\n"
    "\n"
    "Subcommands:\n"
    "  new IMAGE [--size S] [--layout L] [--force]   create a blank image with a partition table\n"
    "  info IMAGE [--json]                           show the table, counters and wear\n"
    "  write IMAGE OFFSET FILE                       write FILE at OFFSET, like esptool write_flash\n"
    "\n"
    "Run 'esp32sim flash SUBCOMMAND --help' for details.\n";

static const char usage_new[] =
    "Usage: esp32sim flash new IMAGE [--size S] [--layout L] [--force]\n"
    "\n"
    "Create IMAGE: an erased (0xFF) flash image with the partition table of\n"
    "layout L written at 0x8000.\n"
    "\n"
    "Options:\n"
    "  --size S     flash size: 2MB, 4MB, 8MB or 16MB (default 4MB; 4M, 4MiB\n"
    "               and 4194304 work too)\n"
    "  --layout L   'default' (MicroPython ESP32_GENERIC), 'ota'\n"
    "               (ESP32_GENERIC-OTA) or a partition table CSV file\n"
    "               (default: default)\n"
    "  --force      replace IMAGE (and its wear counters) if it exists\n";

static const char usage_info[] =
    "Usage: esp32sim flash info IMAGE [--json]\n"
    "\n"
    "Show IMAGE's size, its partition table (plus the 'vfs' partition\n"
    "MicroPython registers at boot), the flash operation counters and the\n"
    "sector wear. IMAGE is not changed.\n"
    "\n"
    "Options:\n"
    "  --json       print the same as one JSON object\n";

static const char usage_write[] =
    "Usage: esp32sim flash write IMAGE OFFSET FILE\n"
    "\n"
    "Write FILE into IMAGE at OFFSET, as esptool.py write_flash does on a\n"
    "board: the 4 KiB sectors the data covers are erased, then the data is\n"
    "programmed (a final partial sector keeps 0xFF after the data). OFFSET is\n"
    "a number such as 0x10000 or 64K and must be a multiple of 0x1000; the\n"
    "data must fit in the flash. The flash counters and wear are updated.\n";

static char *wear_path(const char *image)
{
    size_t n = strlen(image);
    char *path = malloc(n + sizeof ".wear");
    if (path) {
        memcpy(path, image, n);
        memcpy(path + n, ".wear", sizeof ".wear");
    }
    return path;
}

/* Remove an image and its wear sidecar. Returns 0 or an errno value. */
static int remove_image(const char *image)
{
    char *wear = wear_path(image);
    if (!wear)
        return ENOMEM;
    int e = cli_remove(image);
    int e2 = cli_remove(wear);
    free(wear);
    return e ? e : e2;
}

/* ---- flash new ---- */

enum { NEW_SIZE, NEW_LAYOUT, NEW_FORCE, NEW_NOPTS };

static bool image_size_option(const char *text, size_t *out)
{
    uint64_t size = ESIM_DEFAULT_FLASH_SIZE;
    if (text && !cli_parse_size(text, &size))
        return false;
    if (size > SIZE_MAX || !esim_flash_size_supported((size_t)size))
        return false;
    *out = (size_t)size;
    return true;
}

/* A layout that is not built in is a CSV file: read and check it here, so
 * a bad file is reported (with its line) before any image is touched.
 * *csv is malloc'd text, or NULL for a built-in layout. */
static int load_layout(const char *cmd, const char *layout, size_t flash_size, char **csv)
{
    *csv = NULL;
    if (esim_layout_csv(layout))
        return CLI_OK;
    uint8_t *text;
    size_t len;
    int e = cli_read_file(layout, MAX_CSV_SIZE, &text, &len);
    if (e)
        return cli_fail(cmd, "%s: %s (--layout takes default, ota or a CSV file)", layout, cli_errno_text(e));
    esim_ptable table;
    esim_ptable_error perr;
    if (esim_ptable_parse_csv((const char *)text, len, &table, &perr) == ESP_OK
        && esim_ptable_verify(&table, (uint32_t)flash_size, &perr) == ESP_OK) {
        *csv = (char *)text;
        return CLI_OK;
    }
    free(text);
    return cli_ptable_fail(cmd, layout, &perr);
}

/* Make room for a new image: refuse an existing one unless forced. */
static int clear_image(const char *cmd, const char *image, bool force)
{
    if (!cli_file_exists(image))
        return CLI_OK;
    if (!force)
        return cli_fail(cmd, "%s: already exists (use --force to replace it)", image);
    int e = remove_image(image);
    if (e)
        return cli_fail(cmd, "%s: cannot remove: %s", image, cli_errno_text(e));
    return CLI_OK;
}

static int create_image(const char *cmd, const char *image, size_t size, const char *layout,
                        const char *csv)
{
    esim_device_config cfg = {
        .flash_path = image, .flash_size = size,
        .layout = csv ? NULL : layout, .layout_csv = csv, .skip_nvs = true,
    };
    esim_ptable_error why = {.line = -1, .message = ""};
    esim_device *dev;
    esp_err_t err = esim_device_open(&cfg, &dev, &why);
    if (err) {
        remove_image(image);
        return cli_open_fail(cmd, image, err, &why);
    }
    err = esim_flash_sync(esim_device_flash(dev));
    esim_device_close(dev);
    if (err) {
        char buf[64];
        remove_image(image);
        return cli_fail(cmd, "%s: writing the image failed: %s", image, cli_err_text(err, buf, sizeof buf));
    }
    return CLI_OK;
}

static int flash_new(int argc, char **argv)
{
    const char *cmd = "flash new";
    cli_option opts[NEW_NOPTS] = {
        [NEW_SIZE] = {"size", 0, true, NULL},
        [NEW_LAYOUT] = {"layout", 0, true, NULL},
        [NEW_FORCE] = {"force", 0, false, NULL},
    };
    char *pos[1];
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, opts, NEW_NOPTS, pos, 1, &npos);
    if (r == CLI_HELP)
        return cli_print_help(usage_new);
    if (r == CLI_BAD)
        return CLI_USAGE;
    if (npos < 1)
        return cli_usage_error(cmd, "missing IMAGE");
    size_t size;
    if (!image_size_option(opts[NEW_SIZE].value, &size))
        return cli_usage_error(cmd, "bad --size '%s' (2MB, 4MB, 8MB or 16MB)", opts[NEW_SIZE].value);
    const char *layout = opts[NEW_LAYOUT].value ? opts[NEW_LAYOUT].value : "default";
    char *csv;
    int status = load_layout(cmd, layout, size, &csv);
    if (status == CLI_OK)
        status = clear_image(cmd, pos[0], opts[NEW_FORCE].value != NULL);
    if (status == CLI_OK)
        status = create_image(cmd, pos[0], size, layout, csv);
    free(csv);
    if (status == CLI_OK) {
        char buf[32];
        printf("created %s: %s, layout %s\n", pos[0], cli_size_text(size, buf, sizeof buf), layout);
    }
    return status;
}

/* ---- flash info ---- */

typedef struct {
    uint32_t sector;
    uint32_t erases;
} worn_sector;

typedef struct {
    esim_partition part;
    uint32_t flags;                /* ESIM_PART_FLAG_*, as the table has them */
} info_row;

typedef struct {
    size_t size;
    uint32_t sectors;
    esim_flash_counters counters;
    uint32_t max_erases;
    uint64_t total_erases;
    size_t nworn;
    worn_sector worn[MOST_WORN];   /* most erased first, then lowest sector */
    bool table_md5;
    char table_error[256];         /* "" when the table loaded */
    size_t nrows;
    info_row rows[MAX_ROWS];       /* table order, registered partitions last */
} image_info;

/* Keep the MOST_WORN most erased sectors, in order. */
static void note_wear(image_info *info, uint32_t sector, uint32_t erases)
{
    size_t at = info->nworn;
    while (at > 0 && info->worn[at - 1].erases < erases)
        at--;
    if (at >= MOST_WORN)
        return;
    size_t last = info->nworn < MOST_WORN ? info->nworn : MOST_WORN - 1;
    memmove(&info->worn[at + 1], &info->worn[at], (last - at) * sizeof info->worn[0]);
    info->worn[at] = (worn_sector){sector, erases};
    if (info->nworn < MOST_WORN)
        info->nworn++;
}

static void collect_wear(const esim_flash *flash, image_info *info)
{
    info->sectors = esim_flash_sector_count(flash);
    for (uint32_t s = 0; s < info->sectors; s++) {
        uint32_t n = esim_flash_sector_erase_count(flash, s);
        info->total_erases += n;
        if (n > info->max_erases)
            info->max_erases = n;
        if (n > 0)
            note_wear(info, s, n);
    }
}

static int flash_open_fail(const char *cmd, const char *image, esp_err_t err)
{
    char buf[64];
    if (err == ESP_ERR_INVALID_SIZE)
        return cli_fail(cmd, "%s: not a flash image: its size is not 2, 4, 8 or 16 MiB", image);
    if (err == ESP_FAIL)
        return cli_fail(cmd, "%s: cannot open: %s", image, cli_errno_text(errno));
    return cli_fail(cmd, "%s: cannot open: %s", image, cli_err_text(err, buf, sizeof buf));
}

/* Size, counters and wear, from the flash model alone. */
static int collect_flash(const char *cmd, const char *image, image_info *info)
{
    esim_flash *flash;
    errno = 0;
    esp_err_t err = esim_flash_open_file_readonly(image, 0, &flash);
    if (err)
        return flash_open_fail(cmd, image, err);
    info->size = esim_flash_size(flash);
    esim_flash_get_counters(flash, &info->counters);
    collect_wear(flash, info);
    info->table_md5 = esim_ptable_binary_has_md5(esim_flash_peek(flash) + ESIM_PTABLE_OFFSET,
                                                 ESIM_PTABLE_MAX_LEN);
    esim_flash_close(flash);
    return CLI_OK;
}

static void set_table_error(image_info *info, const char *image, const char *message)
{
    size_t n = strlen(image);
    if (strncmp(message, image, n) == 0 && strncmp(message + n, ": ", 2) == 0)
        message += n + 2;
    snprintf(info->table_error, sizeof info->table_error, "%s", message);
}

static uint32_t flags_of(const esim_partition *p)
{
    return (p->encrypted ? ESIM_PART_FLAG_ENCRYPTED : 0u) | (p->readonly ? ESIM_PART_FLAG_READONLY : 0u);
}

static void collect_rows(esim_device *dev, image_info *info)
{
    esim_partition parts[MAX_ROWS];
    size_t n = esim_partition_find(dev, ESIM_PART_TYPE_ANY, ESIM_PART_SUBTYPE_ANY, NULL, parts, MAX_ROWS);
    const esim_ptable *table = esim_device_ptable(dev);
    info->nrows = n < MAX_ROWS ? n : MAX_ROWS;
    for (size_t i = 0; i < info->nrows; i++) {
        bool in_table = !parts[i].registered && i < table->count;
        info->rows[i].part = parts[i];
        info->rows[i].flags = in_table ? table->entries[i].flags : flags_of(&parts[i]);
    }
}

/* The partitions a booted board sees: the table, then registered ones.
 * The board is read-only, so its boot leaves the image and the counters
 * as they were. */
static void collect_partitions(const char *image, image_info *info)
{
    esim_device_config cfg = {.flash_path = image, .read_only = true, .skip_nvs = true};
    esim_ptable_error why = {.line = -1, .message = ""};
    esim_device *dev;
    esp_err_t err = esim_device_open(&cfg, &dev, &why);
    if (err) {
        char buf[64];
        set_table_error(info, image, why.message[0] ? why.message : cli_err_text(err, buf, sizeof buf));
        return;
    }
    const char *boot_error = esim_device_boot_error(dev);
    if (boot_error)
        set_table_error(info, image, boot_error);
    else
        collect_rows(dev, info);
    esim_device_close(dev);
}

/* ---- text output ---- */

static const char *type_text(const esim_partition *p, char *buf, size_t cap)
{
    const char *name = esim_ptable_type_name(p->type);
    if (name)
        return name;
    snprintf(buf, cap, "0x%02x", p->type);
    return buf;
}

static const char *subtype_text(const esim_partition *p, char *buf, size_t cap)
{
    const char *name = esim_ptable_subtype_name(p->type, p->subtype);
    if (name)
        return name;
    snprintf(buf, cap, "0x%02x", p->subtype);
    return buf;
}

static const char *flags_text(uint32_t flags)
{
    bool encrypted = flags & ESIM_PART_FLAG_ENCRYPTED, readonly = flags & ESIM_PART_FLAG_READONLY;
    if (encrypted && readonly)
        return "encrypted:readonly";
    return encrypted ? "encrypted" : readonly ? "readonly" : "";
}

static void print_row_text(const info_row *row)
{
    const esim_partition *p = &row->part;
    char tbuf[8], sbuf[8];
    const char *flags = p->registered ? "(registered at boot, not in the table)" : flags_text(row->flags);
    printf("  %-16s  %-6s %-9s 0x%08" PRIx32 "  0x%08" PRIx32 "%s%s\n", p->label,
           type_text(p, tbuf, sizeof tbuf), subtype_text(p, sbuf, sizeof sbuf), p->address, p->size,
           flags[0] ? "  " : "", flags);
}

static void print_table_text(const image_info *info)
{
    if (info->table_error[0]) {
        printf("partition table: none (%s)\n", info->table_error);
        return;
    }
    printf("partition table at 0x%x (%s MD5 row):\n", ESIM_PTABLE_OFFSET,
           info->table_md5 ? "with" : "without");
    printf("  %-16s  %-6s %-9s %-10s  %-10s  %s\n", "label", "type", "subtype", "offset", "size", "flags");
    for (size_t i = 0; i < info->nrows; i++)
        print_row_text(&info->rows[i]);
}

static void print_counters_text(const esim_flash_counters *c)
{
    printf("counters:\n");
    printf("  %-18s %" PRIu64 "\n", "reads", c->read_ops);
    printf("  %-18s %" PRIu64 "\n", "bytes read", c->bytes_read);
    printf("  %-18s %" PRIu64 "\n", "programs", c->program_ops);
    printf("  %-18s %" PRIu64 "\n", "bytes programmed", c->bytes_programmed);
    printf("  %-18s %" PRIu64 "\n", "erases", c->erase_ops);
    printf("  %-18s %" PRIu64 "\n", "sectors erased", c->sectors_erased);
}

static void print_wear_text(const image_info *info)
{
    printf("wear:\n");
    printf("  %-18s %" PRIu32 "\n", "max erase count", info->max_erases);
    printf("  %-18s %" PRIu64 "\n", "total erase count", info->total_erases);
    printf("  most worn sectors%s\n", info->nworn ? ":" : "  none");
    for (size_t i = 0; i < info->nworn; i++)
        printf("    sector %-5" PRIu32 " at 0x%08" PRIx32 "  %" PRIu32 " erase%s\n", info->worn[i].sector,
               info->worn[i].sector * ESIM_FLASH_SECTOR_SIZE, info->worn[i].erases,
               info->worn[i].erases == 1 ? "" : "s");
}

static void print_info_text(const char *image, const image_info *info)
{
    char buf[32];
    printf("image: %s\n", image);
    printf("size: %zu bytes (%s), %" PRIu32 " sectors\n", info->size,
           cli_size_text(info->size, buf, sizeof buf), info->sectors);
    print_table_text(info);
    print_counters_text(&info->counters);
    print_wear_text(info);
}

/* ---- JSON output ---- */

static void json_string(const char *s)
{
    cli_json_string(stdout, s);
}

static void json_name_or_null(const char *name)
{
    if (name)
        json_string(name);
    else
        fputs("null", stdout);
}

static void json_flags(uint32_t flags)
{
    bool encrypted = flags & ESIM_PART_FLAG_ENCRYPTED, readonly = flags & ESIM_PART_FLAG_READONLY;
    printf("[%s%s%s]", encrypted ? "\"encrypted\"" : "", encrypted && readonly ? ", " : "",
           readonly ? "\"readonly\"" : "");
}

static void json_row(const info_row *row)
{
    const esim_partition *p = &row->part;
    printf("{\"label\": ");
    json_string(p->label);
    printf(", \"type\": ");
    json_name_or_null(esim_ptable_type_name(p->type));
    printf(", \"type_id\": %u, \"subtype\": ", p->type);
    json_name_or_null(esim_ptable_subtype_name(p->type, p->subtype));
    printf(", \"subtype_id\": %u, \"offset\": %" PRIu32 ", \"size\": %" PRIu32 ", \"flags\": ",
           p->subtype, p->address, p->size);
    json_flags(row->flags);
    printf(", \"registered\": %s}", p->registered ? "true" : "false");
}

static void json_partitions(const image_info *info)
{
    printf("  \"table_error\": ");
    json_name_or_null(info->table_error[0] ? info->table_error : NULL);
    printf(",\n  \"table_md5\": %s,\n  \"partitions\": [",
           !info->table_error[0] && info->table_md5 ? "true" : "false");
    for (size_t i = 0; i < info->nrows; i++) {
        printf("%s\n    ", i ? "," : "");
        json_row(&info->rows[i]);
    }
    printf("%s],\n", info->nrows ? "\n  " : "");
}

static void json_counters(const esim_flash_counters *c)
{
    printf("  \"counters\": {\"reads\": %" PRIu64 ", \"bytes_read\": %" PRIu64 ", \"programs\": %" PRIu64
           ", \"bytes_programmed\": %" PRIu64 ", \"erases\": %" PRIu64 ", \"sectors_erased\": %" PRIu64 "},\n",
           c->read_ops, c->bytes_read, c->program_ops, c->bytes_programmed, c->erase_ops, c->sectors_erased);
}

static void json_wear(const image_info *info)
{
    printf("  \"wear\": {\"max_erase_count\": %" PRIu32 ", \"total_erase_count\": %" PRIu64
           ", \"most_worn\": [", info->max_erases, info->total_erases);
    for (size_t i = 0; i < info->nworn; i++)
        printf("%s{\"sector\": %" PRIu32 ", \"offset\": %" PRIu32 ", \"erase_count\": %" PRIu32 "}",
               i ? ", " : "", info->worn[i].sector, info->worn[i].sector * ESIM_FLASH_SECTOR_SIZE,
               info->worn[i].erases);
    printf("]}\n");
}

static void print_info_json(const char *image, const image_info *info)
{
    printf("{\n  \"image\": ");
    json_string(image);
    printf(",\n  \"size\": %zu,\n  \"sectors\": %" PRIu32 ",\n", info->size, info->sectors);
    json_partitions(info);
    json_counters(&info->counters);
    json_wear(info);
    printf("}\n");
}

/* Everything info shows; both opens are read-only, so the image and its
 * counters stay as they were. */
static int collect_info(const char *cmd, const char *image, image_info *info)
{
    int status = collect_flash(cmd, image, info);
    if (status == CLI_OK)
        collect_partitions(image, info);
    return status;
}

static int flash_info(int argc, char **argv)
{
    const char *cmd = "flash info";
    cli_option opts[] = {{"json", 0, false, NULL}};
    char *pos[1];
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, opts, 1, pos, 1, &npos);
    if (r == CLI_HELP)
        return cli_print_help(usage_info);
    if (r == CLI_BAD)
        return CLI_USAGE;
    if (npos < 1)
        return cli_usage_error(cmd, "missing IMAGE");
    if (!cli_file_exists(pos[0]))
        return cli_fail(cmd, "%s: %s", pos[0], cli_errno_text(ENOENT));
    image_info *info = calloc(1, sizeof *info);
    if (!info)
        return cli_fail(cmd, "out of memory");
    int status = collect_info(cmd, pos[0], info);
    if (status == CLI_OK && opts[0].value)
        print_info_json(pos[0], info);
    else if (status == CLI_OK)
        print_info_text(pos[0], info);
    free(info);
    return status;
}

/* ---- flash write ---- */

static int parse_offset(const char *cmd, const char *text, uint32_t *offset)
{
    uint64_t v = 0;
    if (!cli_parse_size(text, &v) || v > UINT32_MAX)
        return cli_usage_error(cmd, "bad OFFSET '%s'", text);
    if (v % ESIM_FLASH_SECTOR_SIZE != 0)
        return cli_usage_error(cmd, "OFFSET 0x%" PRIx64 " is not a multiple of 0x1000 (one flash sector)", v);
    *offset = (uint32_t)v;
    return CLI_OK;
}

static esp_err_t erase_and_program(esim_flash *flash, uint32_t offset, const uint8_t *data, size_t len)
{
    size_t span = (len + ESIM_FLASH_SECTOR_SIZE - 1) / ESIM_FLASH_SECTOR_SIZE * ESIM_FLASH_SECTOR_SIZE;
    esp_err_t err = esim_flash_erase_range(flash, offset, span);
    return err ? err : esim_flash_program(flash, offset, data, len);
}

static int write_into_image(const char *cmd, const char *image, uint32_t offset, const char *file,
                            const uint8_t *data, size_t len)
{
    esim_flash *flash = NULL;
    esp_err_t err = esim_flash_open_file(image, 0, false, &flash);
    if (err)
        return flash_open_fail(cmd, image, err);
    size_t size = esim_flash_size(flash);
    if (offset > size || len > size - offset) {
        esim_flash_close(flash);
        return cli_fail(cmd, "%s: %zu bytes at 0x%" PRIx32 " do not fit in the %zu-byte flash of %s", file, len,
                        offset, size, image);
    }
    err = erase_and_program(flash, offset, data, len);
    esim_flash_close(flash);
    if (err)
        return cli_fail(cmd, "%s: writing failed (%s)", image, esim_err_name(err));
    printf("wrote %zu bytes of %s at 0x%08" PRIx32 " in %s\n", len, file, offset, image);
    return CLI_OK;
}

static int flash_write(int argc, char **argv)
{
    const char *cmd = "flash write";
    char *pos[3];
    int npos;
    uint32_t offset = 0;
    cli_parse_result r = cli_parse(cmd, argc, argv, NULL, 0, pos, 3, &npos);
    if (r == CLI_HELP)
        return cli_print_help(usage_write);
    if (r == CLI_BAD)
        return CLI_USAGE;
    if (npos < 3)
        return cli_usage_error(cmd, "expected IMAGE OFFSET FILE");
    int status = parse_offset(cmd, pos[1], &offset);
    if (status != CLI_OK)
        return status;
    if (!cli_file_exists(pos[0]))
        return cli_fail(cmd, "%s: %s", pos[0], cli_errno_text(ENOENT));
    uint8_t *data = NULL;
    size_t len = 0;
    int e = cli_read_file(pos[2], 16u << 20, &data, &len);
    if (e)
        return cli_fail(cmd, "%s: %s", pos[2], e == EFBIG ? "larger than any flash" : cli_errno_text(e));
    status = write_into_image(cmd, pos[0], offset, pos[2], data, len);
    free(data);
    return status;
}

int cmd_flash(int argc, char **argv)
{
    static const cli_subcommand subs[] = {{"new", flash_new}, {"info", flash_info}, {"write", flash_write}};
    return cli_dispatch("flash", usage_group, subs, sizeof subs / sizeof subs[0], argc, argv);
}
