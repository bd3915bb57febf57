/* esp32sim nvs: NVS partition images — the generator (CSV to image, as
 * ESP-IDF's nvs_partition_gen.py writes it), the export back to CSV, a dump
 * of the pages and values, an integrity check, and get/set/erase of single
 * keys through the NVS engine (docs/cli.md, docs/nvs-csv.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "esp32sim/utf8.h"
#include "esp32sim/flash.h"
#include "esp32sim/nvs.h"
#include "esp32sim/nvs_image.h"
#include "esp32sim/parttable.h"

#define MAX_CSV_SIZE   (64u * 1024u * 1024u)
#define MAX_IMAGE_SIZE (16u * 1024u * 1024u)
#define BLOB_TEXT_MAX  64u   /* blob bytes shown in the text dump */

static const char usage_group[] =
    "Usage: esp32sim nvs SUBCOMMAND [ARGS...]\n"
    "\n"
    "NVS partition images: a flash image (the partition labelled 'nvs') or a\n"
    "bare NVS partition image.\n"
    "\n"
    "Subcommands:\n"
    "  mkimage FILE.csv SIZE -o OUT.bin   build an image from a generator CSV\n"
    "  export IMAGE [-o FILE.csv]         write the values back as a generator CSV\n"
    "  dump IMAGE [--json]                show values, pages and entries\n"
    "  check IMAGE                        check the partition's integrity\n"
    "  get IMAGE NS KEY                   print one value\n"
    "  set IMAGE NS KEY --type T VALUE    store one value\n"
    "  erase IMAGE NS KEY                 erase one key\n"
    "\n"
    "Run 'esp32sim nvs SUBCOMMAND --help' for details.\n";

#define TARGET_HELP \
    "IMAGE is a flash image (its partition table at 0x8000 names the NVS\n" \
    "partition) or a bare NVS partition image: a file whose size is not a\n" \
    "flash size (2, 4, 8 or 16 MiB), or that has no valid partition table.\n" \
    "\n" \
    "Options:\n" \
    "  --partition LABEL   the NVS partition of a flash image (default: nvs)\n" \
    "  --offset N --size N the NVS partition at offset N, N bytes long\n"

static const char usage_mkimage[] =
    "Usage: esp32sim nvs mkimage FILE.csv SIZE -o OUT.bin [--version 1|2]\n"
    "\n"
    "Build the SIZE-byte NVS partition image for FILE.csv, byte for byte what\n"
    "ESP-IDF's NVS partition generator writes for it (nvs_partition_gen.py\n"
    "generate FILE.csv OUT.bin SIZE). The CSV has the header line\n"
    "key,type,encoding,value, then namespace rows (NAME,namespace,,), data rows\n"
    "and file rows (KEY,file,ENCODING,PATH, PATH relative to the current\n"
    "directory); encodings: u8 i8 u16 i16 u32 i32 u64 i64 string hex2bin base64\n"
    "binary (docs/nvs-csv.md). SIZE is a multiple of 4096, at least 0x3000; the\n"
    "last page is left free.\n"
    "\n"
    "Options:\n"
    "  -o, --output OUT.bin   where to write the image (required)\n"
    "  --version 1|2          NVS format version (default 2: multi-page blobs)\n";

static const char usage_export[] =
    "Usage: esp32sim nvs export IMAGE [-o FILE.csv] [--partition LABEL | --offset N --size N]\n"
    "\n"
    "Write the values of the NVS partition as a generator CSV: namespace rows,\n"
    "each followed by its keys in the order they are stored; integers with\n"
    "their types, strings as string, blobs as hex2bin. 'nvs mkimage' of the\n"
    "export rebuilds the image (byte for byte for a generator-made image).\n"
    "Values a CSV cannot hold are left out with a comment and a warning.\n"
    "\n"
    "  -o, --output FILE.csv  where to write the CSV (default: standard output)\n"
    TARGET_HELP;

static const char usage_dump[] =
    "Usage: esp32sim nvs dump IMAGE [--json] [--partition LABEL | --offset N --size N]\n"
    "\n"
    "Show the namespaces, keys, types and values (read through the NVS engine,\n"
    "mounted read-only), then every page as ESP-IDF's nvs_tool.py prints it:\n"
    "state, sequence number, version, CRC, entry state bitmap and entries.\n"
    "\n"
    "  --json              {\"namespaces\": {NS: {KEY: {\"type\": T, \"value\": V}}},\n"
    "                       \"pages\": [...]} (docs/cli.md)\n"
    TARGET_HELP;

static const char usage_check[] =
    "Usage: esp32sim nvs check IMAGE [--partition LABEL | --offset N --size N]\n"
    "\n"
    "Check the NVS partition as ESP-IDF's nvs_tool.py -i does and more: page\n"
    "headers and CRCs, page states, the entry state bitmap, entry and data\n"
    "CRCs, spans, blob indexes against their chunks, namespaces, duplicate\n"
    "keys, a free page. Each problem names its page and entry. Exit status 0\n"
    "when no error is found (warnings allowed), 1 otherwise.\n"
    "\n"
    TARGET_HELP;

static const char usage_get[] =
    "Usage: esp32sim nvs get IMAGE NAMESPACE KEY [--partition LABEL | --offset N --size N]\n"
    "\n"
    "Print the value of KEY in NAMESPACE, read through the NVS engine (mounted\n"
    "read-only): integers in decimal, strings as they are, blobs in hex.\n"
    "\n"
    TARGET_HELP;

static const char usage_set[] =
    "Usage: esp32sim nvs set IMAGE NAMESPACE KEY --type T VALUE [--partition LABEL | --offset N --size N]\n"
    "\n"
    "Store VALUE under KEY in NAMESPACE through the NVS engine, writing the\n"
    "image as a board would (the namespace is created if needed). T is one of\n"
    "u8 i8 u16 i16 u32 i32 u64 i64 (VALUE in decimal or 0x hex), string (VALUE\n"
    "is the text) or blob (VALUE in hex, e.g. deadbeef). A negative number\n"
    "works as it is (--type i32 -5) or after '--'.\n"
    "\n"
    "  --type T            the type to store (required)\n"
    TARGET_HELP;

static const char usage_erase[] =
    "Usage: esp32sim nvs erase IMAGE NAMESPACE KEY [--partition LABEL | --offset N --size N]\n"
    "\n"
    "Erase KEY from NAMESPACE through the NVS engine, writing the image as a\n"
    "board would.\n"
    "\n"
    TARGET_HELP;

/* ---- the NVS partition of IMAGE ---- */

enum { OPT_PARTITION, OPT_OFFSET, OPT_SIZE, TARGET_NOPTS };

#define TARGET_OPTIONS \
    [OPT_PARTITION] = {"partition", 0, true, NULL}, [OPT_OFFSET] = {"offset", 0, true, NULL}, \
    [OPT_SIZE] = {"size", 0, true, NULL}

typedef struct {
    const char *cmd;
    const char *path;
    uint8_t *file;          /* the whole file */
    size_t file_len;
    bool bare;              /* no partition table: the file is the partition */
    uint32_t base, size;    /* the NVS partition in the file */
    char label[ESIM_PTABLE_LABEL_MAX + 1];
    bool readonly_flag;     /* flagged readonly in the table */
    esim_flash *flash;      /* for the engine */
} target;

static bool table_at_0x8000(const target *t, esim_ptable *table)
{
    esim_ptable_error perr;
    if (!esim_flash_size_supported(t->file_len))
        return false;
    return esim_ptable_parse_binary(t->file + ESIM_PTABLE_OFFSET, ESIM_PTABLE_MAX_LEN, false, table, &perr) == ESP_OK;
}

static int no_such_label(const target *t, const esim_ptable *table, const char *label)
{
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < table->count && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", table->entries[i].label);
    return cli_fail(t->cmd, "%s: no partition labelled '%s' (partitions: %s)", t->path, label, names);
}

static int use_label(target *t, const esim_ptable *table, const char *label)
{
    for (size_t i = 0; i < table->count; i++) {
        const esim_part_entry *e = &table->entries[i];
        if (strcmp(e->label, label) != 0)
            continue;
        if (e->type != ESIM_PART_TYPE_DATA || e->subtype != ESIM_PART_SUBTYPE_DATA_NVS)
            return cli_fail(t->cmd, "%s: partition '%s' is not an NVS partition (data/nvs)", t->path, label);
        if ((uint64_t)e->offset + e->size > t->file_len)
            return cli_fail(t->cmd, "%s: partition '%s' ends past the end of the image", t->path, label);
        t->base = e->offset;
        t->size = e->size;
        t->readonly_flag = (e->flags & ESIM_PART_FLAG_READONLY) != 0;
        snprintf(t->label, sizeof t->label, "%s", label);
        return CLI_OK;
    }
    return no_such_label(t, table, label);
}

static bool parse_u32(const char *text, uint32_t *out)
{
    uint64_t v;
    if (!text || !cli_parse_size(text, &v) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

static int use_range(target *t, const cli_option *opts)
{
    const char *off = opts[OPT_OFFSET].value, *size = opts[OPT_SIZE].value;
    if (!off || !size)
        return cli_usage_error(t->cmd, "--offset and --size go together");
    if (opts[OPT_PARTITION].value)
        return cli_usage_error(t->cmd, "give --partition or --offset/--size, not both");
    if (!parse_u32(off, &t->base) || !parse_u32(size, &t->size))
        return cli_usage_error(t->cmd, "bad --offset '%s' or --size '%s' (a number, e.g. 0x9000)", off, size);
    if (t->base % ESIM_NVS_PAGE_SIZE || t->size % ESIM_NVS_PAGE_SIZE || t->size == 0)
        return cli_fail(t->cmd, "%s: --offset 0x%x and --size 0x%x must be multiples of 4096 (and the size not 0)",
                        t->path, (unsigned)t->base, (unsigned)t->size);
    if ((uint64_t)t->base + t->size > t->file_len)
        return cli_fail(t->cmd, "%s: 0x%x bytes at 0x%x run past the end of the file (0x%zx bytes)", t->path,
                        (unsigned)t->size, (unsigned)t->base, t->file_len);
    return CLI_OK;
}

/* Read IMAGE and find the partition. `any_size`: a bare image of any
 * length is taken whole (check looks at garbage too). */
static int open_target(target *t, const cli_option *opts, bool any_size)
{
    int e = cli_read_file(t->path, MAX_IMAGE_SIZE, &t->file, &t->file_len);
    if (e == EFBIG)
        return cli_fail(t->cmd, "%s: %zu bytes, larger than any flash image", t->path, t->file_len);
    if (e)
        return cli_fail(t->cmd, "%s: %s", t->path, cli_errno_text(e));
    esim_ptable table;
    t->bare = !table_at_0x8000(t, &table);
    if (opts[OPT_OFFSET].value || opts[OPT_SIZE].value)
        return use_range(t, opts);
    if (t->bare && opts[OPT_PARTITION].value)
        return cli_fail(t->cmd, "%s: a bare NVS image (no partition table at 0x8000) has no partition '%s'", t->path,
                        opts[OPT_PARTITION].value);
    if (!t->bare)
        return use_label(t, &table, opts[OPT_PARTITION].value ? opts[OPT_PARTITION].value : "nvs");
    if (!any_size && (t->file_len == 0 || t->file_len % ESIM_NVS_PAGE_SIZE))
        return cli_fail(t->cmd, "%s: %zu bytes: an NVS image is a whole number of 4096-byte pages", t->path,
                        t->file_len);
    t->base = 0;
    t->size = (uint32_t)t->file_len;
    return CLI_OK;
}

static const uint8_t *target_bytes(const target *t) { return t->file + t->base; }

static void close_target(target *t)
{
    esim_flash_close(t->flash);
    t->flash = NULL;
    free(t->file);
    t->file = NULL;
}

/* A flash chip for the engine: the image file itself, or a bare image
 * copied into a memory chip. */
static int open_flash(target *t, bool writable)
{
    char buf[64];
    esp_err_t err;
    if (!t->bare) {
        err = writable ? esim_flash_open_file(t->path, 0, false, &t->flash)
                       : esim_flash_open_file_readonly(t->path, 0, &t->flash);
        if (err)
            return cli_fail(t->cmd, "%s: cannot open the image: %s", t->path, cli_err_text(err, buf, sizeof buf));
        return CLI_OK;
    }
    size_t chip = 2u * 1024u * 1024u;
    while (chip < t->file_len)
        chip *= 2;
    err = esim_flash_open_memory(chip, &t->flash);
    if (!err)
        err = esim_flash_program(t->flash, 0, t->file, t->file_len);
    if (err)
        return cli_fail(t->cmd, "%s: %s", t->path, cli_err_text(err, buf, sizeof buf));
    return CLI_OK;
}

/* After a change: the file chip syncs, a bare image is written back. */
static int save_flash(target *t)
{
    char buf[64];
    if (!t->bare) {
        esp_err_t err = esim_flash_sync(t->flash);
        if (err)
            return cli_fail(t->cmd, "%s: saving the image failed: %s", t->path, cli_err_text(err, buf, sizeof buf));
        return CLI_OK;
    }
    int e = cli_write_file_atomic(t->path, esim_flash_peek(t->flash), t->file_len);
    if (e)
        return cli_fail(t->cmd, "%s: %s", t->path, cli_errno_text(e));
    return CLI_OK;
}

static int mount(target *t, bool read_only, esim_nvs **nvs)
{
    char buf[64];
    int status = open_flash(t, !read_only);
    if (status)
        return status;
    esp_err_t err = esim_nvs_mount(t->flash, t->base, t->size, read_only, nvs);
    if (err)
        return cli_fail(t->cmd, "%s: the NVS engine cannot mount the partition: %s", t->path,
                        cli_err_text(err, buf, sizeof buf));
    return CLI_OK;
}

/* Parse options and positionals of a subcommand working on a target. */
static int parse_target_args(const char *cmd, const char *usage, int argc, char **argv, cli_option *opts,
                             size_t nopts, char **pos, int npos_wanted, const char *const *names)
{
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, opts, nopts, pos, npos_wanted, &npos);
    if (r == CLI_HELP)
        return cli_print_help(usage);
    if (r == CLI_BAD)
        return CLI_USAGE;
    if (npos < npos_wanted)
        return cli_usage_error(cmd, "missing %s", names[npos]);
    return -1;
}

/* ---- mkimage ---- */

typedef struct {
    const char *cmd;
    const char *file;
} warn_ctx;

static void print_csv_warning(int line, const char *message, void *ctx)
{
    const warn_ctx *w = ctx;
    if (line > 0)
        fprintf(stderr, "esp32sim: %s: %s: line %d: warning: %s\n", w->cmd, w->file, line, message);
    else
        fprintf(stderr, "esp32sim: %s: %s: warning: %s\n", w->cmd, w->file, message);
}

static int gen_fail(const char *cmd, const char *csv_path, esp_err_t err, const esim_nvs_image_error *why)
{
    char buf[64];
    if (err == ESP_ERR_NO_MEM)
        return cli_fail(cmd, "out of memory");
    if (err == ESP_ERR_INVALID_SIZE)
        return cli_fail(cmd, "%s", why->message);
    if (why->line > 0)
        return cli_fail(cmd, "%s: line %d: %s", csv_path, why->line, why->message);
    if (why->message[0])
        return cli_fail(cmd, "%s: %s", csv_path, why->message);
    return cli_fail(cmd, "%s: %s", csv_path, cli_err_text(err, buf, sizeof buf));
}

static int build_image(const char *cmd, const char *csv_path, uint32_t size, uint8_t version, const char *out_path)
{
    uint8_t *csv, *image = NULL;
    size_t len;
    int e = cli_read_file(csv_path, MAX_CSV_SIZE, &csv, &len);
    if (e)
        return cli_fail(cmd, "%s: %s", csv_path, cli_errno_text(e));
    int status = CLI_OK;
    bool size_ok = size % ESIM_NVS_PAGE_SIZE == 0 && size >= ESIM_NVS_GEN_MIN_SIZE && size <= ESIM_NVS_GEN_MAX_SIZE;
    if (size_ok && (image = malloc(size)) == NULL) {
        free(csv);
        return cli_fail(cmd, "out of memory");
    }
    warn_ctx w = {cmd, csv_path};
    esim_nvs_gen_options opts = {.version = version, .warn = print_csv_warning, .warn_ctx = &w};
    esim_nvs_image_error why;
    uint8_t none[1];   /* a size the generator refuses before writing */
    esp_err_t err = esim_nvs_generate((const char *)csv, len, size, &opts, image ? image : none, &why);
    if (err)
        status = gen_fail(cmd, csv_path, err, &why);
    else if ((e = cli_write_file_atomic(out_path, image, size)) != 0)
        status = cli_fail(cmd, "%s: %s", out_path, cli_errno_text(e));
    free(image);
    free(csv);
    return status;
}

static int nvs_mkimage(int argc, char **argv)
{
    const char *cmd = "nvs mkimage";
    enum { OPT_OUTPUT, OPT_VERSION, NOPTS };
    cli_option opts[NOPTS] = {[OPT_OUTPUT] = {"output", 'o', true, NULL}, [OPT_VERSION] = {"version", 0, true, NULL}};
    char *pos[2];
    static const char *const names[] = {"FILE.csv", "SIZE"};
    int status = parse_target_args(cmd, usage_mkimage, argc, argv, opts, NOPTS, pos, 2, names);
    if (status >= 0)
        return status;
    if (!opts[OPT_OUTPUT].value || !opts[OPT_OUTPUT].value[0])
        return cli_usage_error(cmd, "missing -o OUT.bin");
    uint64_t size;
    if (!cli_parse_size(pos[1], &size) || size > UINT32_MAX)
        return cli_usage_error(cmd, "bad SIZE '%s' (e.g. 0x6000 or 24K)", pos[1]);
    const char *v = opts[OPT_VERSION].value;
    if (v && strcmp(v, "1") != 0 && strcmp(v, "2") != 0)
        return cli_usage_error(cmd, "bad --version '%s' (1 or 2)", v);
    uint8_t version = v && v[0] == '1' ? ESIM_NVS_VERSION_1 : ESIM_NVS_VERSION_2;
    return build_image(cmd, pos[0], (uint32_t)size, version, opts[OPT_OUTPUT].value);
}

/* ---- export ---- */

static int nvs_export(int argc, char **argv)
{
    const char *cmd = "nvs export";
    enum { OPT_OUTPUT = TARGET_NOPTS, NOPTS };
    cli_option opts[NOPTS] = {TARGET_OPTIONS, [OPT_OUTPUT] = {"output", 'o', true, NULL}};
    char *pos[1];
    static const char *const names[] = {"IMAGE"};
    int status = parse_target_args(cmd, usage_export, argc, argv, opts, NOPTS, pos, 1, names);
    if (status >= 0)
        return status;
    target t = {.cmd = cmd, .path = pos[0]};
    status = open_target(&t, opts, false);
    char *csv = NULL;
    size_t len = 0;
    warn_ctx w = {cmd, pos[0]};
    if (status == CLI_OK && esim_nvs_export(target_bytes(&t), t.size, print_csv_warning, &w, &csv, &len))
        status = cli_fail(cmd, "out of memory");
    const char *out = opts[OPT_OUTPUT].value;
    bool to_stdout = !out || !out[0] || strcmp(out, "-") == 0;
    if (status == CLI_OK) {
        int e = to_stdout ? cli_write_stdout(csv, len) : cli_write_file_atomic(out, csv, len);
        if (e)
            status = cli_fail(cmd, "%s: %s", to_stdout ? "stdout" : out, cli_errno_text(e));
    }
    free(csv);
    close_target(&t);
    return status;
}

/* ---- values through the engine ---- */

typedef struct {
    esim_nvs_entry_info *items;
    size_t count, cap;
    bool oom;
} entry_list;

static int collect_entry(const esim_nvs_entry_info *info, void *ctx)
{
    entry_list *l = ctx;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        esim_nvs_entry_info *items = realloc(l->items, cap * sizeof *items);
        if (!items) {
            l->oom = true;
            return 1;
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = *info;
    return 0;
}

typedef struct {
    char names[ESIM_NVS_MAX_NAMESPACES + 1][ESIM_NVS_KEY_SIZE];
    uint8_t index[ESIM_NVS_MAX_NAMESPACES + 1];
    size_t count;
} ns_list;

static int collect_namespace(const char *name, uint8_t index, void *ctx)
{
    ns_list *l = ctx;
    if (l->count > ESIM_NVS_MAX_NAMESPACES)
        return 1;
    snprintf(l->names[l->count], ESIM_NVS_KEY_SIZE, "%s", name);
    l->index[l->count++] = index;
    return 0;
}

typedef enum { VAL_INT, VAL_UINT, VAL_STR, VAL_BLOB } value_kind;

typedef struct {
    value_kind kind;
    esim_nvs_type type;
    int64_t i;
    uint8_t *bytes;      /* strings (without the NUL) and blobs */
    size_t len;
} value;

static bool is_blob_type(esim_nvs_type type)
{
    return type == ESIM_NVS_TYPE_BLOB_DATA || type == ESIM_NVS_TYPE_BLOB || type == ESIM_NVS_TYPE_BLOB_IDX;
}

static const char *type_word(esim_nvs_type type)
{
    return is_blob_type(type) ? "blob" : esim_nvs_type_name(type) ? esim_nvs_type_name(type) : "?";
}

static esp_err_t read_bytes(const esim_nvs_handle *h, const char *key, bool string, value *v)
{
    size_t len = 0;
    esp_err_t err = string ? esim_nvs_get_str(h, key, NULL, &len) : esim_nvs_get_blob(h, key, NULL, &len);
    if (err)
        return err;
    v->bytes = malloc(len ? len : 1);
    if (!v->bytes)
        return ESP_ERR_NO_MEM;
    err = string ? esim_nvs_get_str(h, key, (char *)v->bytes, &len) : esim_nvs_get_blob(h, key, v->bytes, &len);
    v->len = string && len ? len - 1 : len;
    return err;
}

static esp_err_t read_value(const esim_nvs_handle *h, const char *key, esim_nvs_type type, value *v)
{
    *v = (value){.type = type};
    if (esim_nvs_int_width(type)) {
        v->kind = esim_nvs_type_signed(type) ? VAL_INT : VAL_UINT;
        return esim_nvs_get_int(h, key, type, &v->i);
    }
    if (type == ESIM_NVS_TYPE_STR) {
        v->kind = VAL_STR;
        return read_bytes(h, key, true, v);
    }
    v->kind = VAL_BLOB;
    return read_bytes(h, key, false, v);
}

static void print_hex(FILE *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", p[i]);
}

/* ---- text and JSON strings ---- */

/* A double-quoted string: well-formed UTF-8 passes, quotes and backslashes
 * are escaped, other control and non-ASCII bytes go through `byte_format`
 * (JSON: "\\u%04x"; the text dump: "\\x%02x", which also writes \n). */
static void escaped_text(FILE *out, const uint8_t *s, size_t n, const char *byte_format, bool newline_escape)
{
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        size_t k = esim_utf8_seq_len(s + i, n - i);
        if (k > 1) {
            fwrite(s + i, 1, k, out);
            i += k;
            continue;
        }
        uint8_t c = s[i++];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n' && newline_escape)
            fputs("\\n", out);
        else if (c < 0x20 || c >= 0x7F)
            fprintf(out, byte_format, c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_text(FILE *out, const uint8_t *s, size_t n)
{
    escaped_text(out, s, n, "\\u%04x", false);
}

static void quoted_text(FILE *out, const uint8_t *s, size_t n)
{
    escaped_text(out, s, n, "\\x%02x", true);
}

/* ---- dump ---- */

typedef struct {
    target *t;
    esim_nvs *nvs;
    esp_err_t mount_err;
    ns_list *namespaces;
    entry_list entries;
} dump_state;

static void value_text(FILE *out, const value *v)
{
    if (v->kind == VAL_INT)
        fprintf(out, "%lld", (long long)v->i);
    else if (v->kind == VAL_UINT)
        fprintf(out, "%llu", (unsigned long long)(uint64_t)v->i);
    else if (v->kind == VAL_STR)
        quoted_text(out, v->bytes, v->len);
    else {
        fprintf(out, "%zu bytes: ", v->len);
        print_hex(out, v->bytes, v->len < BLOB_TEXT_MAX ? v->len : BLOB_TEXT_MAX);
        if (v->len > BLOB_TEXT_MAX)
            fputs("...", out);
    }
}

static void value_json(FILE *out, const value *v)
{
    fprintf(out, "{\"type\": \"%s\", \"value\": ", type_word(v->type));
    if (v->kind == VAL_INT)
        fprintf(out, "%lld", (long long)v->i);
    else if (v->kind == VAL_UINT)
        fprintf(out, "%llu", (unsigned long long)(uint64_t)v->i);
    else if (v->kind == VAL_STR)
        json_text(out, v->bytes, v->len);
    else {
        fputc('"', out);
        print_hex(out, v->bytes, v->len);
        fputc('"', out);
    }
    fputc('}', out);
}

/* Each key of namespace `ns`: its value through a read-only handle. */
typedef void (*key_fn)(FILE *out, const char *key, const value *v, esp_err_t err, bool first);

static void each_key(dump_state *d, const char *ns, FILE *out, key_fn fn)
{
    esim_nvs_handle h;
    esp_err_t open_err = esim_nvs_open(d->nvs, ns, false, &h);
    bool first = true;
    for (size_t i = 0; i < d->entries.count; i++) {
        const esim_nvs_entry_info *e = &d->entries.items[i];
        if (strcmp(e->namespace_name, ns) != 0)
            continue;
        value v = {.type = e->type};
        esp_err_t err = open_err ? open_err : read_value(&h, e->key, e->type, &v);
        fn(out, e->key, &v, err, first);
        first = false;
        free(v.bytes);
    }
}

/* A key or namespace name: as it is when plain, else quoted. */
static void name_text(FILE *out, const char *name)
{
    bool plain = name[0] != '\0';
    for (const char *p = name; *p && plain; p++)
        plain = *p > ' ' && *p < 0x7F && *p != '"';
    if (plain)
        fputs(name, out);
    else
        quoted_text(out, (const uint8_t *)name, strlen(name));
}

static void key_line_text(FILE *out, const char *key, const value *v, esp_err_t err, bool first)
{
    (void)first;
    char buf[64];
    fputs("  ", out);
    name_text(out, key);
    fprintf(out, " (%s) = ", type_word(v->type));
    if (err)
        fprintf(out, "(unreadable: %s)", cli_err_text(err, buf, sizeof buf));
    else
        value_text(out, v);
    fputc('\n', out);
}

static void key_line_json(FILE *out, const char *key, const value *v, esp_err_t err, bool first)
{
    char buf[64];
    fputs(first ? "" : ", ", out);
    json_text(out, (const uint8_t *)key, strlen(key));
    fputs(": ", out);
    if (err) {
        fprintf(out, "{\"type\": \"%s\", \"value\": null, \"error\": \"%s\"}", type_word(v->type),
                cli_err_text(err, buf, sizeof buf));
        return;
    }
    value_json(out, v);
}

static void where_text(FILE *out, const target *t)
{
    if (t->label[0])
        fprintf(out, "NVS partition '%s' of %s: 0x%x bytes at 0x%x (%u pages)\n", t->label, t->path,
                (unsigned)t->size, (unsigned)t->base, (unsigned)(t->size / ESIM_NVS_PAGE_SIZE));
    else
        fprintf(out, "NVS partition in %s: 0x%x bytes at 0x%x (%u pages)%s\n", t->path, (unsigned)t->size,
                (unsigned)t->base, (unsigned)(t->size / ESIM_NVS_PAGE_SIZE), t->bare ? ", a bare NVS image" : "");
}

static void values_text(FILE *out, dump_state *d)
{
    char buf[64];
    where_text(out, d->t);
    if (d->mount_err) {
        fprintf(out, "The NVS engine cannot mount it: %s\n\n", cli_err_text(d->mount_err, buf, sizeof buf));
        return;
    }
    for (size_t i = 0; i < d->namespaces->count; i++) {
        const char *ns = d->namespaces->names[i];
        fputs("Namespace ", out);
        name_text(out, ns);
        fprintf(out, " (index %u)\n", d->namespaces->index[i]);
        each_key(d, ns, out, key_line_text);
    }
    fputc('\n', out);
}

static void values_json(FILE *out, dump_state *d)
{
    char buf[64];
    const target *t = d->t;
    fputs("{\"partition\": {\"label\": ", out);
    if (t->label[0])
        json_text(out, (const uint8_t *)t->label, strlen(t->label));
    else
        fputs("null", out);
    fprintf(out, ", \"offset\": %u, \"size\": %u, \"bare\": %s},\n \"namespaces\": {", (unsigned)t->base,
            (unsigned)t->size, t->bare ? "true" : "false");
    for (size_t i = 0; !d->mount_err && i < d->namespaces->count; i++) {
        const char *ns = d->namespaces->names[i];
        fputs(i ? ",\n  " : "\n  ", out);
        json_text(out, (const uint8_t *)ns, strlen(ns));
        fputs(": {", out);
        each_key(d, ns, out, key_line_json);
        fputs("}", out);
    }
    fputs("},\n", out);
    if (d->mount_err)
        fprintf(out, " \"error\": \"%s\",\n", cli_err_text(d->mount_err, buf, sizeof buf));
}

static int print_pages(const char *cmd, const target *t, bool json)
{
    size_t len = 0;
    char *text = json ? esim_nvs_render_pages_json(target_bytes(t), t->size)
                      : esim_nvs_render_pages_text(target_bytes(t), t->size, &len);
    if (!text)
        return cli_fail(cmd, "out of memory");
    if (json)
        printf(" \"pages\": %s}\n", text);
    else
        fwrite(text, 1, len, stdout);
    free(text);
    return CLI_OK;
}

static void load_values(dump_state *d)
{
    target *t = d->t;
    d->mount_err = open_flash(t, false) ? ESP_FAIL : esim_nvs_mount(t->flash, t->base, t->size, true, &d->nvs);
    if (d->mount_err)
        return;
    esp_err_t err = esim_nvs_namespaces(d->nvs, collect_namespace, d->namespaces);
    if (!err)
        err = esim_nvs_list(d->nvs, NULL, ESIM_NVS_TYPE_ANY, collect_entry, &d->entries);
    if (!err && d->entries.oom)
        err = ESP_ERR_NO_MEM;
    d->mount_err = err;
}

static int nvs_dump(int argc, char **argv)
{
    const char *cmd = "nvs dump";
    enum { OPT_JSON = TARGET_NOPTS, NOPTS };
    cli_option opts[NOPTS] = {TARGET_OPTIONS, [OPT_JSON] = {"json", 0, false, NULL}};
    char *pos[1];
    static const char *const names[] = {"IMAGE"};
    int status = parse_target_args(cmd, usage_dump, argc, argv, opts, NOPTS, pos, 1, names);
    if (status >= 0)
        return status;
    target t = {.cmd = cmd, .path = pos[0]};
    status = open_target(&t, opts, false);
    if (status) {
        close_target(&t);
        return status;
    }
    ns_list *namespaces = calloc(1, sizeof *namespaces);
    dump_state d = {.t = &t, .namespaces = namespaces};
    if (!namespaces) {
        close_target(&t);
        return cli_fail(cmd, "out of memory");
    }
    load_values(&d);
    bool json = opts[OPT_JSON].value != NULL;
    if (json)
        values_json(stdout, &d);
    else
        values_text(stdout, &d);
    status = print_pages(cmd, &t, json);
    char buf[64];
    if (d.mount_err && status == CLI_OK)
        status = cli_fail(cmd, "%s: the NVS engine cannot mount the partition: %s", t.path,
                          cli_err_text(d.mount_err, buf, sizeof buf));
    esim_nvs_unmount(d.nvs);
    free(d.entries.items);
    free(namespaces);
    close_target(&t);
    return status;
}

/* ---- check ---- */

static void print_problem(const esim_nvs_problem *p, void *ctx)
{
    (void)ctx;
    if (p->severity == ESIM_NVS_NOTE)
        printf("%s\n", p->message);
    else
        printf("  %s: %s\n", p->severity == ESIM_NVS_ERROR ? "error" : "warning", p->message);
}

static int nvs_check(int argc, char **argv)
{
    const char *cmd = "nvs check";
    cli_option opts[TARGET_NOPTS] = {TARGET_OPTIONS};
    char *pos[1];
    static const char *const names[] = {"IMAGE"};
    int status = parse_target_args(cmd, usage_check, argc, argv, opts, TARGET_NOPTS, pos, 1, names);
    if (status >= 0)
        return status;
    target t = {.cmd = cmd, .path = pos[0]};
    status = open_target(&t, opts, true);
    if (status == CLI_OK) {
        esim_nvs_check_result res;
        where_text(stdout, &t);
        if (esim_nvs_check(target_bytes(&t), t.size, print_problem, NULL, &res))
            status = cli_fail(cmd, "out of memory");
        else
            printf("%s: %zu pages, %zu errors, %zu warnings\n", t.path, res.pages, res.errors, res.warnings);
        if (status == CLI_OK && res.errors)
            status = CLI_FAIL;
    }
    close_target(&t);
    return status;
}

/* ---- get / set / erase ---- */

static int engine_fail(const char *cmd, const char *image, const char *what, const char *ns, const char *key,
                       esp_err_t err)
{
    char buf[64];
    if (err == ESP_ERR_NVS_NOT_FOUND && !key)
        return cli_fail(cmd, "%s: namespace '%s' not found: %s", image, ns, cli_err_text(err, buf, sizeof buf));
    if (err == ESP_ERR_NVS_NOT_FOUND)
        return cli_fail(cmd, "%s: key '%s' not found in namespace '%s': %s", image, key, ns,
                        cli_err_text(err, buf, sizeof buf));
    return cli_fail(cmd, "%s: %s '%s' in namespace '%s' failed: %s", image, what, key ? key : ns, ns,
                    cli_err_text(err, buf, sizeof buf));
}

static int print_value(const char *cmd, const char *image, const esim_nvs_handle *h, const char *ns,
                       const char *key)
{
    esim_nvs_type type;
    value v = {0};
    esp_err_t err = esim_nvs_find_key(h, key, &type);
    if (!err)
        err = read_value(h, key, type, &v);
    if (err) {
        free(v.bytes);
        return engine_fail(cmd, image, "reading", ns, key, err);
    }
    if (v.kind == VAL_INT)
        printf("%lld", (long long)v.i);
    else if (v.kind == VAL_UINT)
        printf("%llu", (unsigned long long)(uint64_t)v.i);
    else if (v.kind == VAL_STR)
        fwrite(v.bytes, 1, v.len, stdout);
    else
        print_hex(stdout, v.bytes, v.len);
    putchar('\n');
    free(v.bytes);
    return CLI_OK;
}

static int nvs_get(int argc, char **argv)
{
    const char *cmd = "nvs get";
    cli_option opts[TARGET_NOPTS] = {TARGET_OPTIONS};
    char *pos[3];
    static const char *const names[] = {"IMAGE", "NAMESPACE", "KEY"};
    int status = parse_target_args(cmd, usage_get, argc, argv, opts, TARGET_NOPTS, pos, 3, names);
    if (status >= 0)
        return status;
    target t = {.cmd = cmd, .path = pos[0]};
    esim_nvs *nvs = NULL;
    status = open_target(&t, opts, false);
    if (status == CLI_OK)
        status = mount(&t, true, &nvs);
    if (status == CLI_OK) {
        esim_nvs_handle h;
        esp_err_t err = esim_nvs_open(nvs, pos[1], false, &h);
        status = err ? engine_fail(cmd, t.path, "opening", pos[1], NULL, err) : print_value(cmd, t.path, &h, pos[1],
                                                                                              pos[2]);
    }
    esim_nvs_unmount(nvs);
    close_target(&t);
    return status;
}

typedef struct {
    const char *name;
    esim_nvs_type type;
} type_name;

static const type_name set_types[] = {
    {"u8", ESIM_NVS_TYPE_U8},   {"i8", ESIM_NVS_TYPE_I8},   {"u16", ESIM_NVS_TYPE_U16},
    {"i16", ESIM_NVS_TYPE_I16}, {"u32", ESIM_NVS_TYPE_U32}, {"i32", ESIM_NVS_TYPE_I32},
    {"u64", ESIM_NVS_TYPE_U64}, {"i64", ESIM_NVS_TYPE_I64}, {"string", ESIM_NVS_TYPE_STR},
    {"blob", ESIM_NVS_TYPE_BLOB_DATA},
};

static bool find_set_type(const char *name, esim_nvs_type *type)
{
    for (size_t i = 0; name && i < sizeof set_types / sizeof set_types[0]; i++)
        if (strcmp(set_types[i].name, name) == 0) {
            *type = set_types[i].type;
            return true;
        }
    return false;
}

/* Decimal or 0x hex, with a sign, within the type's range. */
static bool parse_int_value(const char *text, esim_nvs_type type, int64_t *out)
{
    const char *p = text;
    bool negative = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    int base = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') ? 16 : 10;
    if (base == 16)
        p += 2;
    if (!*p)
        return false;
    uint64_t mag = 0;
    for (; *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
              : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : 99;
        if (d >= base || mag > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        mag = mag * (uint64_t)base + (uint64_t)d;
    }
    unsigned bits = 8 * esim_nvs_int_width(type);
    bool is_signed = esim_nvs_type_signed(type);
    uint64_t max = is_signed ? (UINT64_C(1) << (bits - 1)) - 1 : bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    uint64_t limit = !negative ? max : is_signed ? max + 1 : 0;
    if (mag > limit)
        return false;
    *out = negative ? (int64_t)(0 - mag) : (int64_t)mag;
    return true;
}

static bool parse_hex_value(const char *text, uint8_t **out, size_t *len)
{
    size_t n = strlen(text);
    if (n % 2)
        return false;
    *out = malloc(n / 2 + 1);
    if (!*out)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        unsigned byte;
        if (!strchr("0123456789abcdefABCDEF", text[i]) || !strchr("0123456789abcdefABCDEF", text[i + 1])
            || sscanf(text + i, "%2x", &byte) != 1) {
            free(*out);
            *out = NULL;
            return false;
        }
        (*out)[i / 2] = (uint8_t)byte;
    }
    *len = n / 2;
    return true;
}

typedef struct {
    esim_nvs_type type;
    int64_t i;
    uint8_t *blob;
    size_t len;
    const char *text;
} new_value;

static int parse_new_value(const char *cmd, const char *type_text, const char *text, new_value *v)
{
    if (!type_text)
        return cli_usage_error(cmd, "missing --type (u8 i8 u16 i16 u32 i32 u64 i64 string blob)");
    if (!find_set_type(type_text, &v->type))
        return cli_usage_error(cmd, "bad --type '%s' (u8 i8 u16 i16 u32 i32 u64 i64 string blob)", type_text);
    v->text = text;
    if (esim_nvs_int_width(v->type) && !parse_int_value(text, v->type, &v->i))
        return cli_usage_error(cmd, "bad %s value '%s' (a number in its range, decimal or 0x hex)", type_text, text);
    if (v->type == ESIM_NVS_TYPE_BLOB_DATA && !parse_hex_value(text, &v->blob, &v->len))
        return cli_usage_error(cmd, "bad blob value '%s' (hex digits, two per byte)", text);
    return -1;
}

static esp_err_t store(const esim_nvs_handle *h, const char *key, const new_value *v)
{
    if (esim_nvs_int_width(v->type))
        return esim_nvs_set_int(h, key, v->type, v->i);
    if (v->type == ESIM_NVS_TYPE_STR)
        return esim_nvs_set_str(h, key, v->text);
    return esim_nvs_set_blob(h, key, v->blob ? v->blob : (const uint8_t *)"", v->len);
}

static int refuse_readonly(const target *t)
{
    if (!t->readonly_flag)
        return CLI_OK;
    return cli_fail(t->cmd, "%s: partition '%s' is read-only", t->path, t->label);
}

/* Mount read-write, run `op`, save the image. */
typedef esp_err_t (*write_op)(esim_nvs *nvs, const char *ns, const char *key, const void *arg, bool *ns_missing);

static int change(target *t, const cli_option *opts, const char *ns, const char *key, const char *what, write_op op,
                  const void *arg)
{
    esim_nvs *nvs = NULL;
    int status = open_target(t, opts, false);
    if (status == CLI_OK)
        status = refuse_readonly(t);
    if (status == CLI_OK)
        status = mount(t, false, &nvs);
    if (status == CLI_OK) {
        bool ns_missing = false;
        esp_err_t err = op(nvs, ns, key, arg, &ns_missing);
        if (err)
            status = engine_fail(t->cmd, t->path, what, ns, ns_missing ? NULL : key, err);
    }
    esim_nvs_unmount(nvs);
    if (t->flash && status == CLI_OK)
        status = save_flash(t);
    close_target(t);
    return status;
}

static esp_err_t set_op(esim_nvs *nvs, const char *ns, const char *key, const void *arg, bool *ns_missing)
{
    (void)ns_missing;
    esim_nvs_handle h;
    esp_err_t err = esim_nvs_open(nvs, ns, true, &h);
    return err ? err : store(&h, key, arg);
}

/* Words like "-5" are values, not options, unless "--" already came. */
static int args_with_negatives(int argc, char **argv, char **out)
{
    int n = 0, tail = 0;
    char *negatives[64];
    bool dashdash = false;
    for (int i = 0; i < argc; i++)
        dashdash |= strcmp(argv[i], "--") == 0;
    for (int i = 0; i < argc; i++) {
        bool negative = !dashdash && i > 0 && argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9';
        if (negative && tail < 64)
            negatives[tail++] = argv[i];
        else
            out[n++] = argv[i];
    }
    if (tail) {
        out[n++] = "--";
        for (int i = 0; i < tail; i++)
            out[n++] = negatives[i];
    }
    out[n] = NULL;
    return n;
}

static int nvs_set(int argc, char **argv)
{
    const char *cmd = "nvs set";
    enum { OPT_TYPE = TARGET_NOPTS, NOPTS };
    cli_option opts[NOPTS] = {TARGET_OPTIONS, [OPT_TYPE] = {"type", 0, true, NULL}};
    char **args = malloc(((size_t)argc + 2) * sizeof *args);
    if (!args)
        return cli_fail(cmd, "out of memory");
    int nargs = args_with_negatives(argc, argv, args);
    char *pos[4];
    static const char *const names[] = {"IMAGE", "NAMESPACE", "KEY", "VALUE"};
    int status = parse_target_args(cmd, usage_set, nargs, args, opts, NOPTS, pos, 4, names);
    new_value v = {0};
    if (status < 0)
        status = parse_new_value(cmd, opts[OPT_TYPE].value, pos[3], &v);
    if (status < 0) {
        target t = {.cmd = cmd, .path = pos[0]};
        status = change(&t, opts, pos[1], pos[2], "setting", set_op, &v);
    }
    free(v.blob);
    free(args);
    return status;
}

static esp_err_t erase_op(esim_nvs *nvs, const char *ns, const char *key, const void *arg, bool *ns_missing)
{
    (void)arg;
    esim_nvs_handle h;
    esp_err_t err = esim_nvs_open(nvs, ns, false, &h);   /* a missing namespace is not created */
    *ns_missing = err == ESP_ERR_NVS_NOT_FOUND;
    if (!err)
        err = esim_nvs_open(nvs, ns, true, &h);
    return err ? err : esim_nvs_erase_key(&h, key);
}

static int nvs_erase(int argc, char **argv)
{
    const char *cmd = "nvs erase";
    cli_option opts[TARGET_NOPTS] = {TARGET_OPTIONS};
    char *pos[3];
    static const char *const names[] = {"IMAGE", "NAMESPACE", "KEY"};
    int status = parse_target_args(cmd, usage_erase, argc, argv, opts, TARGET_NOPTS, pos, 3, names);
    if (status >= 0)
        return status;
    target t = {.cmd = cmd, .path = pos[0]};
    return change(&t, opts, pos[1], pos[2], "erasing", erase_op, NULL);
}

int cmd_nvs(int argc, char **argv)
{
    static const cli_subcommand subs[] = {
        {"mkimage", nvs_mkimage}, {"export", nvs_export}, {"dump", nvs_dump}, {"check", nvs_check},
        {"get", nvs_get},         {"set", nvs_set},       {"erase", nvs_erase},
    };
    return cli_dispatch("nvs", usage_group, subs, sizeof subs / sizeof subs[0], argc, argv);
}
