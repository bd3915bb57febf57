/* esp32sim image: build ESP32 app images of chosen versions (for OTA tests)
 * and show what is in one — header, segments, app description — with the
 * verdict of each check esp_image_verify makes (docs/app-image.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "esp32sim/appimage.h"

#define MAX_IMAGE_FILE (16u * 1024u * 1024u)

static const char usage_group[] =
    "Usage: esp32sim image SUBCOMMAND [ARGS...]\n"
    "\n"
    "ESP-IDF app images (the .bin files esptool elf2image writes).\n"
    "\n"
    "Subcommands:\n"
    "  make -o APP.bin [--project NAME] [--version V] [--size BYTES]\n"
    "                      build a valid app image\n"
    "  info APP.bin [--json]\n"
    "                      show header, segments, app description and checks\n"
    "\n"
    "Run 'esp32sim image SUBCOMMAND --help' for details.\n";

static const char usage_make[] =
    "Usage: esp32sim image make -o APP.bin [--project NAME] [--version V] [--size BYTES]\n"
    "\n"
    "Write APP.bin: a valid ESP32 app image laid out as esptool elf2image lays\n"
    "out an ESP-IDF app, with an app description (esp_app_desc_t) naming\n"
    "the project and version. The same arguments always give the same bytes.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE  the image file to write (replaced if it exists)\n"
    "  --project NAME     project name, up to 31 bytes (default esp32sim-app)\n"
    "  --version V        app version, up to 31 bytes (default 1.0.0)\n"
    "  --size BYTES       image size, 70K to 3M, rounded down to 16 bytes\n"
    "                     (default 128K; 0x20000, 128K, 1M work)\n";

static const char usage_info[] =
    "Usage: esp32sim image info APP.bin [--json]\n"
    "\n"
    "Show APP.bin's header fields, segments and app description, and each\n"
    "check ESP-IDF's esp_image_verify makes: magic, chip, segments,\n"
    "checksum, SHA-256, length. The exit status is 0 only for a valid image;\n"
    "otherwise the reason is printed.\n"
    "\n"
    "Options:\n"
    "  --json       print the same as one JSON object\n";

/* ---- image make ---- */

enum { MAKE_OUTPUT, MAKE_PROJECT, MAKE_VERSION, MAKE_SIZE, MAKE_NOPTS };

static int make_image(int argc, char **argv)
{
    const char *cmd = "image make";
    cli_option opts[MAKE_NOPTS] = {
        [MAKE_OUTPUT] = {"output", 'o', true, NULL},
        [MAKE_PROJECT] = {"project", 0, true, NULL},
        [MAKE_VERSION] = {"version", 0, true, NULL},
        [MAKE_SIZE] = {"size", 0, true, NULL},
    };
    char *pos[1];
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, opts, MAKE_NOPTS, pos, 0, &npos);
    if (r == CLI_HELP)
        return cli_print_help(usage_make);
    if (r == CLI_BAD)
        return CLI_USAGE;
    const char *path = opts[MAKE_OUTPUT].value;
    if (!path || !path[0])
        return cli_usage_error(cmd, "missing -o APP.bin");
    const char *project = opts[MAKE_PROJECT].value, *version = opts[MAKE_VERSION].value;
    if ((project && strlen(project) > 31) || (version && strlen(version) > 31))
        return cli_usage_error(cmd, "--project and --version take at most 31 bytes");
    uint64_t size = 0;
    if (opts[MAKE_SIZE].value && (!cli_parse_size(opts[MAKE_SIZE].value, &size) || size == 0 || size > SIZE_MAX))
        return cli_usage_error(cmd, "bad --size '%s'", opts[MAKE_SIZE].value);
    uint8_t *data;
    size_t len;
    esp_err_t err = esim_image_make(project, version, (size_t)size, &data, &len);
    if (err == ESP_ERR_INVALID_ARG)
        return cli_usage_error(cmd, "--size %s is out of range (70K to 3M)", opts[MAKE_SIZE].value);
    if (err) {
        char buf[64];
        return cli_fail(cmd, "cannot build the image: %s", cli_err_text(err, buf, sizeof buf));
    }
    int e = cli_write_file_atomic(path, data, len);
    free(data);
    if (e)
        return cli_fail(cmd, "%s: cannot write: %s", path, cli_errno_text(e));
    printf("wrote %s: %zu bytes, project %s, version %s\n", path, len, project ? project : "esp32sim-app",
           version ? version : "1.0.0");
    return CLI_OK;
}

/* ---- image info: names ---- */

static const char *spi_mode_name(uint8_t mode)
{
    static const char *const names[] = {"QIO", "QOUT", "DIO", "DOUT", "FAST_READ", "SLOW_READ"};
    return mode < sizeof names / sizeof names[0] ? names[mode] : "unknown";
}

static const char *spi_speed_name(uint8_t speed)
{
    switch (speed) {
    case 0x0: return "40MHz";
    case 0x1: return "26.7MHz";
    case 0x2: return "20MHz";
    case 0xF: return "80MHz";
    default: return "unknown";
    }
}

static const char *flash_size_name(uint8_t size)
{
    static const char *const names[] = {"1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB"};
    return size < sizeof names / sizeof names[0] ? names[size] : "unknown";
}

static const char *hex_text(const uint8_t *p, size_t n, char *buf)
{
    for (size_t i = 0; i < n; i++)
        snprintf(buf + 2 * i, 3, "%02x", p[i]);
    buf[2 * n] = '\0';
    return buf;
}

/* Segments the verifier got to read (it stops at the first bad one). */
static unsigned segments_read(const esim_image_info *info)
{
    unsigned n = 0;
    while (n < info->segment_count && n < ESIM_IMAGE_MAX_SEGMENTS && info->segments[n].file_offset)
        n++;
    return n;
}

/* ---- image info: text ---- */

static void print_text_value(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    putchar('\n');
}

static void print_header_text(const esim_image_info *info)
{
    printf("header:\n");
    printf("  %-18s 0x%02x\n", "magic", info->magic);
    printf("  %-18s %u\n", "segment count", info->segment_count);
    printf("  %-18s %s (%u)\n", "flash mode", spi_mode_name(info->spi_mode), info->spi_mode);
    printf("  %-18s %s (0x%x)\n", "flash speed", spi_speed_name(info->spi_speed), info->spi_speed);
    printf("  %-18s %s (%u)\n", "flash size", flash_size_name(info->spi_size), info->spi_size);
    printf("  %-18s 0x%08" PRIx32 "\n", "entry", info->entry_addr);
    printf("  %-18s 0x%02x\n", "wp pin", info->wp_pin);
    printf("  %-18s 0x%04x%s\n", "chip id", info->chip_id, info->chip_id == 0 ? " (ESP32)" : "");
    printf("  %-18s v%u.%u to v%u.%u\n", "chip revisions", info->min_chip_rev_full / 100u,
           info->min_chip_rev_full % 100u, info->max_chip_rev_full / 100u, info->max_chip_rev_full % 100u);
    printf("  %-18s %s\n", "hash appended", info->hash_appended ? "yes" : "no");
}

static void print_segments_text(const esim_image_info *info)
{
    unsigned n = segments_read(info);
    printf("segments:%s\n", n ? "" : " none read");
    if (n)
        printf("  %-3s %-10s  %-8s  %-10s  %s\n", "#", "load", "length", "offset", "region");
    for (unsigned i = 0; i < n; i++) {
        const esim_image_segment *s = &info->segments[i];
        printf("  %-3u 0x%08" PRIx32 "  0x%06" PRIx32 "  0x%08" PRIx32 "  %s\n", i, s->load_addr, s->data_len,
               s->file_offset, esim_image_region_name(s->load_addr));
    }
}

static void print_app_desc_text(const esim_image_info *info)
{
    const esim_app_desc *a = &info->app_desc;
    if (!info->has_app_desc) {
        printf("app description: none at 0x%x\n", ESIM_APP_DESC_OFFSET);
        return;
    }
    char hex[65];
    printf("app description:\n");
    printf("  %-18s ", "project");
    print_text_value(a->project_name);
    printf("  %-18s ", "version");
    print_text_value(a->version);
    printf("  %-18s ", "date");
    print_text_value(a->date);
    printf("  %-18s ", "time");
    print_text_value(a->time);
    printf("  %-18s ", "idf version");
    print_text_value(a->idf_ver);
    printf("  %-18s %" PRIu32 "\n", "secure version", a->secure_version);
    printf("  %-18s %s\n", "elf sha256", hex_text(a->app_elf_sha256, 32, hex));
}

static void print_check(const char *name, bool ok, const char *detail)
{
    printf("  %-10s %s%s%s\n", name, ok ? "ok" : "FAILED", detail[0] ? "  " : "", detail);
}

static void print_checks_text(const esim_image_info *info, size_t file_len)
{
    char detail[96];
    printf("checks:\n");
    print_check("magic", info->checks.magic, "");
    print_check("chip", info->checks.chip, "");
    print_check("segments", info->checks.segments, "");
    snprintf(detail, sizeof detail, "stored 0x%02x, computed 0x%02x", info->checksum_stored,
             info->checksum_computed);
    print_check("checksum", info->checks.checksum, info->checks.segments ? detail : "");
    print_check("sha256", info->checks.sha256, info->hash_appended ? "" : "no hash appended");
    snprintf(detail, sizeof detail, "image %" PRIu32 " bytes, file %zu", info->image_len, file_len);
    print_check("length", info->checks.length, info->image_len ? detail : "");
    if (info->result == ESP_OK)
        printf("valid: yes\n");
    else
        printf("valid: no (%s)\n", info->reason);
}

static void print_info_text(const char *path, size_t file_len, const esim_image_info *info)
{
    printf("image: %s (%zu bytes)\n", path, file_len);
    if (file_len >= ESIM_IMAGE_HEADER_SIZE) {
        print_header_text(info);
        print_segments_text(info);
        print_app_desc_text(info);
    }
    print_checks_text(info, file_len);
}

/* ---- image info: JSON ---- */

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\u%04x", c);    /* bytes above 0x7e as their Latin-1 code point */
        else
            putchar(c);
    }
    putchar('"');
}

static const char *json_bool(bool b)
{
    return b ? "true" : "false";
}

static void json_header(const esim_image_info *info)
{
    printf("  \"header\": {\"magic\": %u, \"segment_count\": %u, \"spi_mode\": %u, \"spi_mode_name\": \"%s\", "
           "\"spi_speed\": %u, \"spi_speed_name\": \"%s\", \"spi_size\": %u, \"flash_size\": \"%s\", "
           "\"entry_addr\": %" PRIu32 ", \"wp_pin\": %u, \"spi_pin_drv\": [%u, %u, %u], \"chip_id\": %u, "
           "\"min_chip_rev\": %u, \"min_chip_rev_full\": %u, \"max_chip_rev_full\": %u, \"hash_appended\": %s},\n",
           info->magic, info->segment_count, info->spi_mode, spi_mode_name(info->spi_mode), info->spi_speed,
           spi_speed_name(info->spi_speed), info->spi_size, flash_size_name(info->spi_size), info->entry_addr,
           info->wp_pin, info->spi_pin_drv[0], info->spi_pin_drv[1], info->spi_pin_drv[2], info->chip_id,
           info->min_chip_rev, info->min_chip_rev_full, info->max_chip_rev_full, json_bool(info->hash_appended));
}

static void json_segments(const esim_image_info *info)
{
    unsigned n = segments_read(info);
    printf("  \"segments\": [");
    for (unsigned i = 0; i < n; i++) {
        const esim_image_segment *s = &info->segments[i];
        printf("%s\n    {\"load_addr\": %" PRIu32 ", \"data_len\": %" PRIu32 ", \"file_offset\": %" PRIu32
               ", \"region\": \"%s\"}", i ? "," : "", s->load_addr, s->data_len, s->file_offset,
               esim_image_region_name(s->load_addr));
    }
    printf("%s],\n", n ? "\n  " : "");
}

static void json_text_field(const char *name, const char *value, bool last)
{
    printf("\"%s\": ", name);
    json_string(value);
    printf("%s", last ? "" : ", ");
}

static void json_app_desc(const esim_image_info *info)
{
    const esim_app_desc *a = &info->app_desc;
    printf("  \"app_desc\": ");
    if (!info->has_app_desc) {
        printf("null,\n");
        return;
    }
    char hex[65];
    printf("{\"magic_word\": %" PRIu32 ", \"secure_version\": %" PRIu32 ", ", a->magic_word, a->secure_version);
    json_text_field("version", a->version, false);
    json_text_field("project_name", a->project_name, false);
    json_text_field("time", a->time, false);
    json_text_field("date", a->date, false);
    json_text_field("idf_ver", a->idf_ver, false);
    json_text_field("app_elf_sha256", hex_text(a->app_elf_sha256, 32, hex), false);
    printf("\"min_efuse_blk_rev_full\": %u, \"max_efuse_blk_rev_full\": %u, \"mmu_page_size\": %u},\n",
           a->min_efuse_blk_rev_full, a->max_efuse_blk_rev_full, a->mmu_page_size);
}

static void json_checks(const esim_image_info *info)
{
    char stored[65], computed[65];
    printf("  \"checksum\": {\"stored\": %u, \"computed\": %u},\n", info->checksum_stored,
           info->checksum_computed);
    printf("  \"sha256\": {\"stored\": \"%s\", \"computed\": \"%s\"},\n", hex_text(info->sha256_stored, 32, stored),
           hex_text(info->sha256_computed, 32, computed));
    printf("  \"image_len\": %" PRIu32 ",\n", info->image_len);
    printf("  \"checks\": {\"magic\": %s, \"chip\": %s, \"segments\": %s, \"checksum\": %s, \"sha256\": %s, "
           "\"length\": %s},\n", json_bool(info->checks.magic), json_bool(info->checks.chip),
           json_bool(info->checks.segments), json_bool(info->checks.checksum), json_bool(info->checks.sha256),
           json_bool(info->checks.length));
    printf("  \"valid\": %s,\n  \"reason\": ", json_bool(info->result == ESP_OK));
    if (info->result == ESP_OK)
        printf("null\n");
    else
        json_string(info->reason);
    printf("%s", info->result == ESP_OK ? "" : "\n");
}

static void print_info_json(const char *path, size_t file_len, const esim_image_info *info)
{
    printf("{\n  \"file\": ");
    json_string(path);
    printf(",\n  \"file_size\": %zu,\n", file_len);
    json_header(info);
    json_segments(info);
    json_app_desc(info);
    json_checks(info);
    printf("}\n");
}

/* ---- image info ---- */

static int image_info(int argc, char **argv)
{
    const char *cmd = "image info";
    cli_option opts[] = {{"json", 0, false, NULL}};
    char *pos[1];
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, opts, 1, pos, 1, &npos);
    if (r == CLI_HELP)
        return cli_print_help(usage_info);
    if (r == CLI_BAD)
        return CLI_USAGE;
    if (npos < 1)
        return cli_usage_error(cmd, "missing APP.bin");
    uint8_t *data;
    size_t len;
    int e = cli_read_file(pos[0], MAX_IMAGE_FILE, &data, &len);
    if (e)
        return cli_fail(cmd, "%s: %s", pos[0], cli_errno_text(e));
    esim_image_info *info = malloc(sizeof *info);
    if (!info) {
        free(data);
        return cli_fail(cmd, "out of memory");
    }
    esp_err_t err = esim_image_verify(data, len, info);
    free(data);
    if (opts[0].value)
        print_info_json(pos[0], len, info);
    else
        print_info_text(pos[0], len, info);
    int status = err == ESP_OK ? CLI_OK : cli_fail(cmd, "%s: invalid image: %s", pos[0], info->reason);
    free(info);
    return status;
}

int cmd_image(int argc, char **argv)
{
    static const cli_subcommand subs[] = {{"make", make_image}, {"info", image_info}};
    return cli_dispatch("image", usage_group, subs, sizeof subs / sizeof subs[0], argc, argv);
}
