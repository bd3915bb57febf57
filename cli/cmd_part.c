/* esp32sim part: partition tables (binary <-> CSV, as ESP-IDF's
 * gen_esp32part.py does) and the contents of partitions in a flash image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "esp32sim/device.h"
#include "esp32sim/partition.h"
#include "esp32sim/parttable.h"

#define MAX_CSV_SIZE   (1024u * 1024u)
#define MAX_FLASH_SIZE (16u * 1024u * 1024u)

static const char usage_group[] =
    "Usage: esp32sim part SUBCOMMAND [ARGS...]\n"
    "\n"
    "Partition tables and partition contents.\n"
    "\n"
    "Subcommands:\n"
    "  table IMAGE                         print the partition table as CSV\n"
    "  mktable FILE.csv -o OUT.bin         build a binary partition table\n"
    "  read IMAGE LABEL [FILE]             copy a partition to FILE or stdout\n"
    "  write IMAGE LABEL FILE              program FILE into a partition (erasing first)\n"
    "  erase IMAGE LABEL                   erase a whole partition\n"
    "\n"
    "Run 'esp32sim part SUBCOMMAND --help' for details.\n";

static const char usage_table[] =
    "Usage: esp32sim part table IMAGE\n"
    "\n"
    "Print the partition table of IMAGE as CSV, exactly as ESP-IDF's\n"
    "gen_esp32part.py prints it. IMAGE is a flash image (the table is read at\n"
    "0x8000, e.g. an 'esptool read_flash' dump) or a bare table binary.\n";

static const char usage_mktable[] =
    "Usage: esp32sim part mktable FILE.csv -o OUT.bin [--no-md5] [--flash-size S]\n"
    "\n"
    "Build the 0xC00-byte binary partition table for FILE.csv, byte for byte\n"
    "what ESP-IDF's gen_esp32part.py writes.\n"
    "\n"
    "Options:\n"
    "  -o, --output OUT.bin   where to write the table (required)\n"
    "  --no-md5               leave out the MD5 row\n"
    "  --flash-size S         check that the partitions fit in S (default 4MB)\n";

static const char usage_read[] =
    "Usage: esp32sim part read IMAGE LABEL [FILE]\n"
    "\n"
    "Copy the whole partition LABEL of IMAGE to FILE, or to stdout when FILE\n"
    "is missing or '-'. LABEL is looked up among app partitions first, then\n"
    "data partitions (including the 'vfs' partition registered at boot).\n"
    "IMAGE is opened read-only: neither it nor its counters change.\n";

static const char usage_write[] =
    "Usage: esp32sim part write IMAGE LABEL FILE\n"
    "\n"
    "Erase the sectors of partition LABEL that FILE covers, then program FILE\n"
    "at the start of the partition. A FILE larger than the partition or a\n"
    "read-only partition is an error, and nothing is written.\n";

static const char usage_erase[] =
    "Usage: esp32sim part erase IMAGE LABEL\n"
    "\n"
    "Erase the whole partition LABEL of IMAGE (every byte becomes 0xFF).\n"
    "Read-only partitions are refused.\n";

/* Parse arguments that take no options and exactly `min`..`max` positionals.
 * Returns -1 to go on, else the exit status. */
static int parse_plain(const char *cmd, const char *usage, int argc, char **argv,
                       char **pos, int min, int max)
{
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, NULL, 0, pos, max, &npos);
    if (r == CLI_HELP)
        return cli_print_help(usage);
    if (r == CLI_BAD)
        return CLI_USAGE;
    if (npos < min)
        return cli_usage_error(cmd, "missing %s", npos == 0 ? "IMAGE" : npos == 1 ? "LABEL" : "FILE");
    for (int i = npos; i < max; i++)
        pos[i] = NULL;
    return -1;
}

/* ---- part table ---- */

#define IMAGE_PREFIX (ESIM_PTABLE_OFFSET + ESIM_PTABLE_MAX_LEN)

static bool has_magic(const uint8_t *buf, size_t len, size_t at)
{
    return len >= at + 2 && buf[at] == 0xAA && buf[at + 1] == 0x50;
}

/* Where the table starts: 0x8000 in a flash image, 0 in a bare table
 * binary. False when neither holds a table row. */
static bool locate_table(const uint8_t *buf, size_t len, uint64_t file_size, size_t *at)
{
    if (file_size > ESIM_PTABLE_OFFSET && has_magic(buf, len, ESIM_PTABLE_OFFSET)) {
        *at = ESIM_PTABLE_OFFSET;
        return true;
    }
    if (has_magic(buf, len, 0)) {
        *at = 0;
        return true;
    }
    return false;
}

static int print_csv(const esim_ptable *table)
{
    size_t need = esim_ptable_to_csv(table, NULL, 0);
    char *text = malloc(need + 1);
    if (!text)
        return cli_fail("part table", "out of memory");
    esim_ptable_to_csv(table, text, need + 1);
    int e = cli_write_stdout(text, need);
    free(text);
    if (e)
        return cli_fail("part table", "stdout: %s", cli_errno_text(e));
    return CLI_OK;
}

/* Find, check and print the table in `file`; `buf` holds IMAGE_PREFIX bytes. */
static int print_table_of(const char *cmd, const char *file, uint8_t *buf)
{
    size_t len, at;
    uint64_t file_size;
    int e = cli_read_prefix(file, buf, IMAGE_PREFIX, &len, &file_size);
    if (e)
        return cli_fail(cmd, "%s: %s", file, cli_errno_text(e));
    if (!locate_table(buf, len, file_size, &at))
        return cli_fail(cmd, "%s: no partition table found at 0x0 or 0x%x", file, ESIM_PTABLE_OFFSET);
    size_t span = len - at < ESIM_PTABLE_MAX_LEN ? len - at : ESIM_PTABLE_MAX_LEN;
    esim_ptable table;
    esim_ptable_error perr;
    if (esim_ptable_parse_binary(buf + at, span, false, &table, &perr))
        return cli_fail(cmd, "%s: table at 0x%zx: %s", file, at, perr.message);
    return print_csv(&table);
}

static int part_table(int argc, char **argv)
{
    const char *cmd = "part table";
    char *pos[1];
    int status = parse_plain(cmd, usage_table, argc, argv, pos, 1, 1);
    if (status >= 0)
        return status;
    uint8_t *buf = malloc(IMAGE_PREFIX);
    if (!buf)
        return cli_fail(cmd, "out of memory");
    status = print_table_of(cmd, pos[0], buf);
    free(buf);
    return status;
}

/* ---- part mktable ---- */

enum { OPT_OUTPUT, OPT_NO_MD5, OPT_FLASH_SIZE, MKTABLE_NOPTS };

static bool flash_size_option(const char *text, uint32_t *out)
{
    uint64_t size = ESIM_DEFAULT_FLASH_SIZE;
    if (text && (!cli_parse_size(text, &size) || size == 0 || size > UINT32_MAX))
        return false;
    *out = (uint32_t)size;
    return true;
}

/* Parse and check FILE.csv, then build the binary. */
static int build_table(const char *cmd, const char *csv_path, uint32_t flash_size, bool with_md5,
                       uint8_t out[ESIM_PTABLE_MAX_LEN])
{
    uint8_t *text;
    size_t len;
    int e = cli_read_file(csv_path, MAX_CSV_SIZE, &text, &len);
    if (e)
        return cli_fail(cmd, "%s: %s", csv_path, cli_errno_text(e));
    esim_ptable table;
    esim_ptable_error perr;
    esp_err_t err = esim_ptable_parse_csv((const char *)text, len, &table, &perr);
    free(text);
    if (err)
        return cli_ptable_fail(cmd, csv_path, &perr);
    if (esim_ptable_verify(&table, flash_size, &perr))
        return cli_ptable_fail(cmd, csv_path, &perr);
    if (esim_ptable_to_binary(&table, with_md5, out, &perr))
        return cli_ptable_fail(cmd, csv_path, &perr);
    return CLI_OK;
}

static int part_mktable(int argc, char **argv)
{
    const char *cmd = "part mktable";
    cli_option opts[MKTABLE_NOPTS] = {
        [OPT_OUTPUT] = {"output", 'o', true, NULL},
        [OPT_NO_MD5] = {"no-md5", 0, false, NULL},
        [OPT_FLASH_SIZE] = {"flash-size", 0, true, NULL},
    };
    char *pos[1];
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, opts, MKTABLE_NOPTS, pos, 1, &npos);
    if (r == CLI_HELP)
        return cli_print_help(usage_mktable);
    if (r == CLI_BAD)
        return CLI_USAGE;
    if (npos < 1)
        return cli_usage_error(cmd, "missing FILE.csv");
    if (!opts[OPT_OUTPUT].value || !opts[OPT_OUTPUT].value[0])
        return cli_usage_error(cmd, "missing -o OUT.bin");
    uint32_t flash_size;
    if (!flash_size_option(opts[OPT_FLASH_SIZE].value, &flash_size))
        return cli_usage_error(cmd, "bad --flash-size '%s' (e.g. 4MB)", opts[OPT_FLASH_SIZE].value);
    uint8_t bin[ESIM_PTABLE_MAX_LEN];
    int status = build_table(cmd, pos[0], flash_size, !opts[OPT_NO_MD5].value, bin);
    if (status)
        return status;
    int e = cli_write_file_atomic(opts[OPT_OUTPUT].value, bin, sizeof bin);
    if (e)
        return cli_fail(cmd, "%s: %s", opts[OPT_OUTPUT].value, cli_errno_text(e));
    return CLI_OK;
}

/* ---- read / write / erase: one partition of a flash image ---- */

typedef struct {
    esim_device *dev;
    esim_partition part;
} target;

/* `read_only`: part read only looks, and must not change the image or
 * its counters (and works on an image file without write permission). */
static int open_image(const char *cmd, const char *image, bool read_only, esim_device **dev)
{
    if (!cli_file_exists(image))
        return cli_fail(cmd, "%s: %s", image, cli_errno_text(ENOENT));
    esim_device_config cfg = {.flash_path = image, .read_only = read_only, .skip_nvs = true};
    esim_ptable_error why = {.line = -1, .message = ""};
    esp_err_t err = esim_device_open(&cfg, dev, &why);
    if (err)
        return cli_open_fail(cmd, image, err, &why);
    const char *boot_error = esim_device_boot_error(*dev);
    if (boot_error) {
        int status = cli_fail(cmd, "%s: %s", image, boot_error);
        esim_device_close(*dev);
        return status;
    }
    return CLI_OK;
}

/* Partition(label) in MicroPython: app partitions first, then data. */
static bool find_by_label(esim_device *dev, const char *label, esim_partition *out)
{
    return esim_partition_find_first(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_ANY, label, out)
        || esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, label, out);
}

static int label_not_found(const char *cmd, const char *image, esim_device *dev, const char *label)
{
    esim_partition parts[ESIM_PTABLE_MAX_ENTRIES + 8];
    size_t n = esim_partition_find(dev, ESIM_PART_TYPE_ANY, ESIM_PART_SUBTYPE_ANY, NULL, parts,
                                   sizeof parts / sizeof parts[0]);
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && i < sizeof parts / sizeof parts[0] && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", parts[i].label);
    return cli_fail(cmd, "%s: no app or data partition labelled '%s' (partitions: %s)", image, label, names);
}

static int open_target(const char *cmd, const char *image, const char *label, bool read_only, target *t)
{
    int status = open_image(cmd, image, read_only, &t->dev);
    if (status)
        return status;
    if (!find_by_label(t->dev, label, &t->part)) {
        status = label_not_found(cmd, image, t->dev, label);
        esim_device_close(t->dev);
        return status;
    }
    return CLI_OK;
}

static int refuse_readonly(const char *cmd, const char *image, const target *t)
{
    if (!t->part.readonly)
        return CLI_OK;
    return cli_fail(cmd, "%s: partition '%s' is read-only", image, t->part.label);
}

/* Sync the image to disk and free the board; the exit status. */
static int close_target(const char *cmd, const char *image, target *t, int status)
{
    char buf[64];
    esp_err_t err = status ? ESP_OK : esim_flash_sync(esim_device_flash(t->dev));
    esim_device_close(t->dev);
    if (err)
        return cli_fail(cmd, "%s: saving the image failed: %s", image, cli_err_text(err, buf, sizeof buf));
    return status;
}

static int flash_error(const char *cmd, const char *image, const char *what, const target *t, esp_err_t err)
{
    char buf[64];
    return cli_fail(cmd, "%s: %s partition '%s' failed: %s", image, what, t->part.label,
                    cli_err_text(err, buf, sizeof buf));
}

/* ---- part read ---- */

static int save_output(const char *cmd, const char *file, const uint8_t *data, size_t len)
{
    bool to_stdout = !file || strcmp(file, "-") == 0;
    int e = to_stdout ? cli_write_stdout(data, len) : cli_write_file_atomic(file, data, len);
    if (e)
        return cli_fail(cmd, "%s: %s", to_stdout ? "stdout" : file, cli_errno_text(e));
    return CLI_OK;
}

static int read_partition(const char *cmd, const char *image, target *t, const char *file)
{
    uint8_t *data = malloc(t->part.size ? t->part.size : 1);
    if (!data)
        return cli_fail(cmd, "out of memory");
    esp_err_t err = esim_partition_read(t->dev, &t->part, 0, data, t->part.size);
    int status = err ? flash_error(cmd, image, "reading", t, err)
                     : save_output(cmd, file, data, t->part.size);
    free(data);
    return status;
}

static int part_read(int argc, char **argv)
{
    const char *cmd = "part read";
    char *pos[3];
    int status = parse_plain(cmd, usage_read, argc, argv, pos, 2, 3);
    if (status >= 0)
        return status;
    target t;
    status = open_target(cmd, pos[0], pos[1], true, &t);
    if (status)
        return status;
    status = read_partition(cmd, pos[0], &t, pos[2]);
    return close_target(cmd, pos[0], &t, status);
}

/* ---- part write ---- */

static size_t erase_length(size_t len, uint32_t part_size)
{
    size_t sectors = (len + ESIM_FLASH_SECTOR_SIZE - 1) / ESIM_FLASH_SECTOR_SIZE;
    size_t bytes = sectors * ESIM_FLASH_SECTOR_SIZE;
    return bytes > part_size ? part_size : bytes;
}

static int write_partition(const char *cmd, const char *image, target *t, const char *file,
                           const uint8_t *data, size_t len)
{
    if (len > t->part.size)
        return cli_fail(cmd, "%s: %zu bytes do not fit in partition '%s' (%u bytes); nothing written",
                        file, len, t->part.label, (unsigned)t->part.size);
    esp_err_t err = esim_partition_erase_range(t->dev, &t->part, 0, erase_length(len, t->part.size));
    if (err)
        return flash_error(cmd, image, "erasing", t, err);
    err = esim_partition_write(t->dev, &t->part, 0, data, len);
    if (err)
        return flash_error(cmd, image, "writing", t, err);
    printf("wrote %zu bytes to partition '%s' at 0x%x\n", len, t->part.label, (unsigned)t->part.address);
    return CLI_OK;
}

static int part_write(int argc, char **argv)
{
    const char *cmd = "part write";
    char *pos[3];
    int status = parse_plain(cmd, usage_write, argc, argv, pos, 3, 3);
    if (status >= 0)
        return status;
    uint8_t *data;
    size_t len;
    int e = cli_read_file(pos[2], MAX_FLASH_SIZE, &data, &len);
    if (e == EFBIG)
        return cli_fail(cmd, "%s: %zu bytes, larger than any flash image; nothing written", pos[2], len);
    if (e)
        return cli_fail(cmd, "%s: %s", pos[2], cli_errno_text(e));
    target t;
    status = open_target(cmd, pos[0], pos[1], false, &t);
    if (status == CLI_OK) {
        status = refuse_readonly(cmd, pos[0], &t);
        if (status == CLI_OK)
            status = write_partition(cmd, pos[0], &t, pos[2], data, len);
        status = close_target(cmd, pos[0], &t, status);
    }
    free(data);
    return status;
}

/* ---- part erase ---- */

static int part_erase(int argc, char **argv)
{
    const char *cmd = "part erase";
    char *pos[2];
    int status = parse_plain(cmd, usage_erase, argc, argv, pos, 2, 2);
    if (status >= 0)
        return status;
    target t;
    status = open_target(cmd, pos[0], pos[1], false, &t);
    if (status)
        return status;
    status = refuse_readonly(cmd, pos[0], &t);
    if (status == CLI_OK) {
        esp_err_t err = esim_partition_erase_range(t.dev, &t.part, 0, t.part.size);
        status = err ? flash_error(cmd, pos[0], "erasing", &t, err) : CLI_OK;
    }
    if (status == CLI_OK)
        printf("erased partition '%s' (0x%x bytes at 0x%x)\n", t.part.label, (unsigned)t.part.size,
               (unsigned)t.part.address);
    return close_target(cmd, pos[0], &t, status);
}

int cmd_part(int argc, char **argv)
{
    static const cli_subcommand subs[] = {
        {"table", part_table}, {"mktable", part_mktable}, {"read", part_read},
        {"write", part_write}, {"erase", part_erase},
    };
    return cli_dispatch("part", usage_group, subs, sizeof subs / sizeof subs[0], argc, argv);
}
