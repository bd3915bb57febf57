/* esp32sim — the NVS partition generator: CSV text to an NVS image, laid
 * out entry for entry the way ESP-IDF's NVS partition generator lays it out
 * (docs/nvs-csv.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/utf8.h"
#include "esp32sim/nvs_image.h"

#define PAGE ESIM_NVS_PAGE_SIZE
#define ENTRY ESIM_NVS_ENTRY_SIZE
#define ENTRIES ESIM_NVS_ENTRY_COUNT
#define MAX_CHUNKS 128u   /* chunk indexes of one blob version: 0x00..0x7F */

/* ---- messages ---- */

typedef struct {
    esim_nvs_image_error *err;
    int line;
    esim_nvs_warn_fn warn;
    void *warn_ctx;
} reporter;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static esp_err_t fail(reporter *r, esp_err_t code, const char *fmt, ...)
{
    if (r->err) {
        va_list ap;
        va_start(ap, fmt);
        r->err->line = r->line;
        vsnprintf(r->err->message, sizeof r->err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void warn(reporter *r, const char *fmt, ...)
{
    if (!r->warn)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->warn(r->line, msg, r->warn_ctx);
}

/* ---- the page writer: pages filled in order, as the generator does ---- */

typedef struct {
    uint8_t *image;
    uint32_t usable_pages;     /* all but the last, which stays free */
    uint32_t page;             /* the page being filled */
    unsigned next;             /* its next free entry */
    uint8_t version;
    reporter *rep;
} writer;

static uint8_t *page_at(const writer *w) { return w->image + (size_t)w->page * PAGE; }

static void start_page(writer *w)
{
    esim_nvs_page_header hdr = {.state = ESIM_NVS_PAGE_ACTIVE, .seqno = w->page, .version = w->version};
    esim_nvs_header_encode(&hdr, page_at(w));
    w->next = 0;
}

static void set_state(uint8_t *page, uint32_t state)
{
    for (int i = 0; i < 4; i++)
        page[i] = (uint8_t)(state >> (8 * i));
}

/* The current page becomes FULL and the next one ACTIVE. */
static esp_err_t next_page(writer *w)
{
    if (w->page + 1 >= w->usable_pages)
        return fail(w->rep, ESP_ERR_NVS_NOT_ENOUGH_SPACE,
                    "the data does not fit in %u pages (the last page of the partition stays free)",
                    (unsigned)w->usable_pages);
    uint8_t *cur = page_at(w);
    esim_nvs_page_header hdr;
    esim_nvs_header_decode(cur, &hdr);
    if (hdr.state == ESIM_NVS_PAGE_ACTIVE)
        set_state(cur, ESIM_NVS_PAGE_FULL);
    w->page++;
    start_page(w);
    return ESP_OK;
}

/* Copy `len` bytes at the next free entry and mark `count` entries written. */
static void put_entries(writer *w, const void *data, size_t len, unsigned count)
{
    uint8_t *page = page_at(w);
    if (len)
        memcpy(page + ESIM_NVS_ENTRIES_OFFSET + (size_t)w->next * ENTRY, data, len);
    for (unsigned i = 0; i < count; i++)
        esim_nvs_bitmap_set(page + ESIM_NVS_BITMAP_OFFSET, w->next++, ESIM_NVS_ENTRY_WRITTEN);
}

static void put_item(writer *w, esim_nvs_item *item)
{
    uint8_t raw[ENTRY];
    item->crc = esim_nvs_item_crc(item);
    esim_nvs_item_encode(item, raw);
    put_entries(w, raw, sizeof raw, 1);
}

static esp_err_t write_int(writer *w, uint8_t ns, const char *key, uint8_t type, uint64_t bits)
{
    if (w->next >= ENTRIES) {
        esp_err_t err = next_page(w);
        if (err)
            return err;
    }
    esim_nvs_item item;
    esim_nvs_item_init(&item, ns, type, key);
    for (unsigned i = 0; i < esim_nvs_int_width(type); i++)
        item.data[i] = (uint8_t)(bits >> (8 * i));
    put_item(w, &item);
    return ESP_OK;
}

/* A string (or a v1 blob): header and data on one page. Like the generator,
 * the item must leave at least one entry of its page unused. */
static esp_err_t write_single(writer *w, uint8_t ns, const char *key, uint8_t type, const uint8_t *data, size_t len)
{
    unsigned span = esim_nvs_span_for_size(len);
    if (w->next + span >= ENTRIES) {
        esp_err_t err = next_page(w);
        if (err)
            return err;
    }
    esim_nvs_item item;
    esim_nvs_item_init(&item, ns, type, key);
    item.span = (uint8_t)span;
    esim_nvs_item_set_var(&item, (uint16_t)len, esim_nvs_crc32(data, len));
    put_item(w, &item);
    put_entries(w, data, len, span - 1);
    return ESP_OK;
}

/* A v2 blob: chunks filling each page's room, then the index. */
static esp_err_t write_blob(writer *w, uint8_t ns, const char *key, const uint8_t *data, size_t len)
{
    esp_err_t err = w->next >= ENTRIES ? next_page(w) : ESP_OK;
    if (err)
        return err;
    size_t offset = 0, remaining = len;
    unsigned chunks = 0;
    for (;;) {
        size_t room = (size_t)(ENTRIES - w->next - 1) * ENTRY;
        size_t chunk = remaining < room ? remaining : room;
        remaining -= chunk;
        if (chunks >= MAX_CHUNKS)
            return fail(w->rep, ESP_ERR_NVS_VALUE_TOO_LONG,
                        "blob '%s' of %zu bytes needs more than %u chunks, more than ESP-IDF can read", key, len,
                        MAX_CHUNKS);
        esim_nvs_item item;
        esim_nvs_item_init(&item, ns, ESIM_NVS_TYPE_BLOB_DATA, key);
        item.span = (uint8_t)esim_nvs_span_for_size(chunk);
        item.chunk_index = (uint8_t)chunks++;
        esim_nvs_item_set_var(&item, (uint16_t)chunk, esim_nvs_crc32(data + offset, chunk));
        put_item(w, &item);
        put_entries(w, data + offset, chunk, item.span - 1u);
        offset += chunk;
        if (remaining || room - chunk < ENTRY) {
            err = next_page(w);
            if (err)
                return err;
        }
        if (!remaining)
            break;
    }
    esim_nvs_item index;
    esim_nvs_item_init(&index, ns, ESIM_NVS_TYPE_BLOB_IDX, key);
    esim_nvs_item_set_blob_index(&index, (uint32_t)len, (uint8_t)chunks, ESIM_NVS_BLOB_VERSION_0);
    put_item(w, &index);
    return ESP_OK;
}

/* ---- CSV reading: Python's csv module (excel dialect) after the
 * generator's own pre-pass (universal newlines, '#' lines dropped) ---- */

typedef struct {
    size_t offset;   /* in the cleaned text */
    int number;      /* 1-based line of the file */
} line_mark;

typedef struct {
    char *text;          /* kept lines, '\n'-terminated */
    size_t len, pos;
    line_mark *lines;
    size_t nlines, line_at;
} csv_reader;

typedef struct {
    char *buf;           /* field texts, each NUL-terminated */
    size_t len, cap;
    size_t *starts;      /* offset of each field in buf */
    size_t *lens;
    size_t nfields, fcap;
    int line;
} csv_record;


/* True when all of s is UTF-8; else *bad is the offset of the first fault. */
static bool utf8_valid_prefix(const uint8_t *s, size_t len, size_t *bad)
{
    size_t i = 0, n;
    while (i < len && (n = esim_utf8_seq_len(s + i, len - i)) != 0)
        i += n;
    *bad = i;
    return i == len;
}

static int line_of(const uint8_t *s, size_t at)
{
    int line = 1;
    for (size_t i = 0; i < at; i++)
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= at || s[i + 1] != '\n')))
            line++;
    return line;
}

static bool add_line_mark(csv_reader *r, size_t offset, int number)
{
    if ((r->nlines & (r->nlines - 1)) == 0) {   /* grow at powers of two */
        size_t cap = r->nlines ? r->nlines * 2 : 16;
        line_mark *lines = realloc(r->lines, cap * sizeof *lines);
        if (!lines)
            return false;
        r->lines = lines;
    }
    r->lines[r->nlines].offset = offset;
    r->lines[r->nlines].number = number;
    r->nlines++;
    return true;
}

/* Universal newlines, a leading BOM dropped, '#' lines dropped. */
static esp_err_t clean_text(csv_reader *r, const char *csv, size_t len, reporter *rep)
{
    const uint8_t *s = (const uint8_t *)csv;
    size_t bad;
    if (!utf8_valid_prefix(s, len, &bad)) {
        rep->line = line_of(s, bad);
        return fail(rep, ESP_ERR_INVALID_ARG, "the file is not UTF-8 text");
    }
    size_t i = len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    r->text = malloc(len + 2);
    if (!r->text)
        return ESP_ERR_NO_MEM;
    for (int number = 1; i < len; number++) {
        size_t start = i;
        while (i < len && s[i] != '\n' && s[i] != '\r')
            i++;
        size_t end = i;
        if (i < len)
            i += (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
        if (end > start && s[start] == '#')
            continue;
        if (memchr(s + start, '\0', end - start)) {
            rep->line = number;
            return fail(rep, ESP_ERR_INVALID_ARG, "line contains a NUL character");
        }
        if (!add_line_mark(r, r->len, number))
            return ESP_ERR_NO_MEM;
        memcpy(r->text + r->len, s + start, end - start);
        r->len += end - start;
        r->text[r->len++] = '\n';
    }
    return ESP_OK;
}

static bool record_put(csv_record *rec, char c)
{
    if (rec->len + 1 >= rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 256;
        char *buf = realloc(rec->buf, cap);
        if (!buf)
            return false;
        rec->buf = buf;
        rec->cap = cap;
    }
    rec->buf[rec->len++] = c;
    return true;
}

static bool record_end_field(csv_record *rec, size_t start)
{
    if (rec->nfields == rec->fcap) {
        size_t cap = rec->fcap ? rec->fcap * 2 : 8;
        size_t *starts = realloc(rec->starts, cap * sizeof *starts);
        if (!starts)
            return false;
        rec->starts = starts;
        size_t *lens = realloc(rec->lens, cap * sizeof *lens);
        if (!lens)
            return false;
        rec->lens = lens;
        rec->fcap = cap;
    }
    rec->starts[rec->nfields] = start;
    rec->lens[rec->nfields] = rec->len - start;
    rec->nfields++;
    return record_put(rec, '\0');
}

static int line_number_at(csv_reader *r, size_t offset)
{
    while (r->line_at + 1 < r->nlines && r->lines[r->line_at + 1].offset <= offset)
        r->line_at++;
    return r->nlines ? r->lines[r->line_at].number : 1;
}

enum { FIELD_START, IN_FIELD, IN_QUOTES, QUOTE_IN_QUOTES };

/* The next record; *done when the text is used up. Blank lines give no
 * record. */
static esp_err_t next_record(csv_reader *r, csv_record *rec, bool *done, reporter *rep)
{
    rec->len = rec->nfields = 0;
    while (r->pos < r->len && r->text[r->pos] == '\n')
        r->pos++;
    *done = r->pos >= r->len;
    if (*done)
        return ESP_OK;
    rec->line = rep->line = line_number_at(r, r->pos);
    int state = FIELD_START;
    size_t start = 0, chars = 0;
    for (;;) {
        if (r->pos >= r->len)
            return fail(rep, ESP_ERR_INVALID_ARG, "a quoted field is not closed before the end of the file");
        char c = r->text[r->pos++];
        bool ends_field = (c == ',' || c == '\n') && state != IN_QUOTES;
        if (ends_field) {
            if (!record_end_field(rec, start))
                return ESP_ERR_NO_MEM;
            if (c == '\n')
                return ESP_OK;
            state = FIELD_START;
            start = rec->len;
            chars = 0;
            continue;
        }
        if (state == FIELD_START) {
            state = c == '"' ? IN_QUOTES : IN_FIELD;
            if (c == '"')
                continue;
        } else if (state == IN_QUOTES && c == '"') {
            state = QUOTE_IN_QUOTES;
            continue;
        } else if (state == QUOTE_IN_QUOTES) {
            state = c == '"' ? IN_QUOTES : IN_FIELD;   /* "" is a quote; other text goes on unquoted */
        }
        if (((uint8_t)c & 0xC0) != 0x80 && ++chars > ESIM_NVS_CSV_FIELD_MAX)
            return fail(rep, ESP_ERR_INVALID_ARG, "a field is longer than %u characters (the limit of the csv module "
                        "the generator reads with)", ESIM_NVS_CSV_FIELD_MAX);
        if (!record_put(rec, c))
            return ESP_ERR_NO_MEM;
    }
}

static const char *record_field(const csv_record *rec, int column, size_t *len)
{
    if (column < 0 || (size_t)column >= rec->nfields)
        return NULL;
    if (len)
        *len = rec->lens[column];
    return rec->buf + rec->starts[column];
}

/* ---- value conversions ---- */

static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F);
}

static void strip(const uint8_t **s, size_t *len)
{
    while (*len && is_space((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_space((*s)[*len - 1]))
        (*len)--;
}

/* Python's int(text): blanks around, a sign, decimal digits with single
 * underscores between them. */
static bool parse_decimal(const uint8_t *s, size_t len, bool *negative, uint64_t *magnitude, bool *overflow)
{
    strip(&s, &len);
    *negative = false;
    *overflow = false;
    *magnitude = 0;
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        *negative = s[i++] == '-';
    if (i >= len)
        return false;
    bool digit_before = false;
    for (; i < len; i++) {
        if (s[i] == '_' && digit_before && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9') {
            digit_before = false;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (*magnitude > (UINT64_MAX - d) / 10)
            *overflow = true;
        *magnitude = *magnitude * 10 + d;
        digit_before = true;
    }
    return true;
}

static void int_range(uint8_t type, int64_t *min, uint64_t *max)
{
    unsigned bits = 8 * esim_nvs_int_width(type);
    if (esim_nvs_type_signed(type)) {
        *max = (UINT64_C(1) << (bits - 1)) - 1;
        *min = -(int64_t)*max - 1;
    } else {
        *max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        *min = 0;
    }
}

static esp_err_t convert_int(reporter *rep, uint8_t type, const char *enc, const uint8_t *s, size_t len,
                             uint64_t *bits)
{
    bool negative, overflow;
    uint64_t magnitude;
    if (!parse_decimal(s, len, &negative, &magnitude, &overflow))
        return fail(rep, ESP_ERR_INVALID_ARG, "%s value '%.*s' is not a decimal integer", enc,
                    (int)(len > 40 ? 40 : len), (const char *)s);
    int64_t min;
    uint64_t max;
    int_range(type, &min, &max);
    uint64_t limit = !negative ? max : min == 0 ? 0 : max + 1;
    if (overflow || magnitude > limit)
        return fail(rep, ESP_ERR_INVALID_ARG, "%s value '%.*s' is out of range (%lld..%llu)", enc,
                    (int)(len > 40 ? 40 : len), (const char *)s, (long long)min, (unsigned long long)max);
    *bits = negative ? (uint64_t)0 - magnitude : magnitude;
    return ESP_OK;
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static esp_err_t convert_hex(reporter *rep, const uint8_t *s, size_t len, uint8_t *out, size_t *out_len)
{
    strip(&s, &len);
    if (len % 2)
        return fail(rep, ESP_ERR_INVALID_ARG, "hex2bin value has an odd number of digits (%zu)", len);
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return fail(rep, ESP_ERR_INVALID_ARG, "hex2bin value has a character that is not a hex digit at %zu",
                        i + (hi < 0 ? 0 : 1) + 1);
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = len / 2;
    return ESP_OK;
}

static int base64_digit(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Python's lenient binascii.a2b_base64: other characters are skipped, a
 * complete padding ends the data, an incomplete last group is an error. */
static esp_err_t convert_base64(reporter *rep, const uint8_t *s, size_t len, uint8_t *out, size_t *out_len)
{
    unsigned quad = 0, pads = 0, left = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=') {
            if (quad >= 2 && quad + ++pads >= 4) {
                *out_len = o;
                return ESP_OK;
            }
            continue;
        }
        int v = base64_digit(s[i]);
        if (v < 0)
            continue;
        pads = 0;
        if (quad == 1)
            out[o++] = (uint8_t)(left << 2 | (unsigned)v >> 4);
        else if (quad == 2)
            out[o++] = (uint8_t)(left << 4 | (unsigned)v >> 2);
        else if (quad == 3)
            out[o++] = (uint8_t)(left << 6 | (unsigned)v);
        left = (unsigned)v & (quad == 0 ? 0x3Fu : quad == 1 ? 0x0Fu : 0x03u);
        quad = (quad + 1) % 4;
    }
    if (quad == 1)
        return fail(rep, ESP_ERR_INVALID_ARG, "base64 value has one data character more than a multiple of 4");
    if (quad != 0)
        return fail(rep, ESP_ERR_INVALID_ARG, "base64 value has incorrect padding");
    *out_len = o;
    return ESP_OK;
}

/* ---- encodings ---- */

typedef enum { ENC_INT, ENC_STRING, ENC_HEX, ENC_BASE64, ENC_BINARY } enc_kind;

typedef struct {
    const char *name;
    enc_kind kind;
    uint8_t type;
} encoding;

static const encoding encodings[] = {
    {"u8", ENC_INT, ESIM_NVS_TYPE_U8},       {"i8", ENC_INT, ESIM_NVS_TYPE_I8},
    {"u16", ENC_INT, ESIM_NVS_TYPE_U16},     {"i16", ENC_INT, ESIM_NVS_TYPE_I16},
    {"u32", ENC_INT, ESIM_NVS_TYPE_U32},     {"i32", ENC_INT, ESIM_NVS_TYPE_I32},
    {"u64", ENC_INT, ESIM_NVS_TYPE_U64},     {"i64", ENC_INT, ESIM_NVS_TYPE_I64},
    {"string", ENC_STRING, ESIM_NVS_TYPE_STR}, {"hex2bin", ENC_HEX, 0},
    {"base64", ENC_BASE64, 0},              {"binary", ENC_BINARY, 0},
};

static const encoding *find_encoding(const char *name)
{
    for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++)
        if (strcmp(encodings[i].name, name) == 0)
            return &encodings[i];
    return NULL;
}

/* ---- the generator's state ---- */

typedef struct {
    uint8_t ns;
    char key[ESIM_NVS_KEY_SIZE];
} seen_key;

typedef struct {
    writer w;
    reporter rep;
    const char *base_dir;
    char names[ESIM_NVS_MAX_NAMESPACES][ESIM_NVS_KEY_SIZE];
    int name_lines[ESIM_NVS_MAX_NAMESPACES];
    unsigned namespaces;
    seen_key *seen;            /* open addressing, for the duplicate warning */
    size_t seen_cap, seen_count;
} generator;

static esp_err_t add_namespace(generator *g, const char *name)
{
    for (unsigned i = 0; i < g->namespaces; i++)
        if (strcmp(g->names[i], name) == 0)
            return fail(&g->rep, ESP_ERR_INVALID_ARG,
                        "namespace '%s' was already defined on line %d; the generator cannot go back to a "
                        "namespace: put all its keys under one namespace row", name, g->name_lines[i]);
    if (g->namespaces >= ESIM_NVS_MAX_NAMESPACES)
        return fail(&g->rep, ESP_ERR_INVALID_ARG, "too many namespaces: at most %u", ESIM_NVS_MAX_NAMESPACES);
    strcpy(g->names[g->namespaces], name);
    g->name_lines[g->namespaces] = g->rep.line;
    g->namespaces++;
    return write_int(&g->w, 0, name, ESIM_NVS_TYPE_U8, g->namespaces);
}

static size_t seen_slot(const generator *g, uint8_t ns, const char *key)
{
    char padded[ESIM_NVS_KEY_SIZE] = {0};
    memcpy(padded, key, strlen(key));
    size_t i = esim_nvs_item_hash(ns, padded, 0) & (g->seen_cap - 1);
    while (g->seen[i].key[0] && !(g->seen[i].ns == ns && strcmp(g->seen[i].key, key) == 0))
        i = (i + 1) & (g->seen_cap - 1);
    return i;
}

static esp_err_t grow_seen(generator *g)
{
    generator bigger = *g;
    bigger.seen_cap = g->seen_cap ? g->seen_cap * 2 : 64;
    bigger.seen = calloc(bigger.seen_cap, sizeof *bigger.seen);
    if (!bigger.seen)
        return ESP_ERR_NO_MEM;
    for (size_t i = 0; i < g->seen_cap; i++)
        if (g->seen[i].key[0])
            bigger.seen[seen_slot(&bigger, g->seen[i].ns, g->seen[i].key)] = g->seen[i];
    free(g->seen);
    g->seen = bigger.seen;
    g->seen_cap = bigger.seen_cap;
    return ESP_OK;
}

/* Warn about a key given twice in a namespace (the generator writes both). */
static esp_err_t note_key(generator *g, uint8_t ns, const char *key)
{
    if (!key[0])
        return ESP_OK;
    if (2 * (g->seen_count + 1) > g->seen_cap) {
        esp_err_t err = grow_seen(g);
        if (err)
            return err;
    }
    size_t i = seen_slot(g, ns, key);
    if (g->seen[i].key[0]) {
        warn(&g->rep, "key '%s' is already set in namespace '%s'; both entries are written", key, g->names[ns - 1]);
        return ESP_OK;
    }
    g->seen[i].ns = ns;
    strcpy(g->seen[i].key, key);
    g->seen_count++;
    return ESP_OK;
}

/* ---- file rows ---- */

static esp_err_t read_value_file(generator *g, const char *path, uint8_t **data, size_t *len)
{
    char full[4096];
    if (g->base_dir && path[0] != '/' && path[0])
        snprintf(full, sizeof full, "%s/%s", g->base_dir, path);
    else
        snprintf(full, sizeof full, "%s", path);
    FILE *f = path[0] ? fopen(full, "rb") : NULL;
    if (!f)
        return fail(&g->rep, ESP_ERR_NOT_FOUND, "cannot open file '%s'", path);
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    esp_err_t err = buf ? ESP_OK : ESP_ERR_NO_MEM;
    while (!err) {
        if (n == cap) {
            uint8_t *bigger = cap > ESIM_NVS_GEN_MAX_SIZE ? NULL : realloc(buf, cap * 2);
            if (!bigger) {
                err = cap > ESIM_NVS_GEN_MAX_SIZE
                          ? fail(&g->rep, ESP_ERR_NVS_NOT_ENOUGH_SPACE, "file '%s' is larger than any partition", path)
                          : ESP_ERR_NO_MEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                err = fail(&g->rep, ESP_ERR_NOT_FOUND, "cannot read file '%s'", path);
            break;
        }
    }
    fclose(f);
    if (err) {
        free(buf);
        return err;
    }
    *data = buf;
    *len = n;
    return ESP_OK;
}

/* ---- rows ---- */

enum { COL_KEY, COL_TYPE, COL_ENCODING, COL_VALUE, NCOLS };
static const char *const column_names[NCOLS] = {"key", "type", "encoding", "value"};

static esp_err_t write_value(generator *g, uint8_t ns, const char *key, const encoding *enc,
                             const uint8_t *value, size_t len)
{
    writer *w = &g->w;
    if (enc->kind == ENC_INT) {
        uint64_t bits = 0;
        esp_err_t err = convert_int(&g->rep, enc->type, enc->name, value, len, &bits);
        return err ? err : write_int(w, ns, key, enc->type, bits);
    }
    if (enc->kind == ENC_STRING) {
        size_t limit = w->version == ESIM_NVS_VERSION_1 ? ESIM_NVS_GEN_MAX_V1_VAR : ESIM_NVS_GEN_MAX_STRING;
        if (len + 1 > limit)
            return fail(&g->rep, ESP_ERR_INVALID_ARG,
                        "string '%s' of %zu bytes is too long: the generator fits at most %zu bytes "
                        "(with the terminating NUL) in a page", key, len, limit);
        uint8_t *text = malloc(len + 1);
        if (!text)
            return ESP_ERR_NO_MEM;
        memcpy(text, value, len);
        text[len] = '\0';
        esp_err_t err = write_single(w, ns, key, ESIM_NVS_TYPE_STR, text, len + 1);
        free(text);
        return err;
    }
    uint8_t *bytes = malloc(len ? len : 1);
    if (!bytes)
        return ESP_ERR_NO_MEM;
    size_t n = len;
    esp_err_t err = ESP_OK;
    if (enc->kind == ENC_HEX)
        err = convert_hex(&g->rep, value, len, bytes, &n);
    else if (enc->kind == ENC_BASE64)
        err = convert_base64(&g->rep, value, len, bytes, &n);
    else if (len)
        memcpy(bytes, value, len);
    if (!err && w->version == ESIM_NVS_VERSION_1 && n > ESIM_NVS_GEN_MAX_V1_VAR)
        err = fail(&g->rep, ESP_ERR_INVALID_ARG, "blob '%s' of %zu bytes is too long for format version 1 "
                   "(at most %u bytes)", key, n, ESIM_NVS_GEN_MAX_V1_VAR);
    if (!err)
        err = w->version == ESIM_NVS_VERSION_1 ? write_single(w, ns, key, ESIM_NVS_TYPE_BLOB, bytes, n)
                                                : write_blob(w, ns, key, bytes, n);
    free(bytes);
    return err;
}

static esp_err_t data_row(generator *g, const char *key, bool from_file, const csv_record *rec, const int *cols)
{
    const char *enc_name = record_field(rec, cols[COL_ENCODING], NULL);
    size_t len;
    const char *value = record_field(rec, cols[COL_VALUE], &len);
    if (!enc_name || !enc_name[0])
        return fail(&g->rep, ESP_ERR_INVALID_ARG, "key '%s' has no encoding", key);
    const encoding *enc = find_encoding(enc_name);
    if (!enc)
        return fail(&g->rep, ESP_ERR_INVALID_ARG,
                    "unknown encoding '%s' (u8, i8, u16, i16, u32, i32, u64, i64, string, hex2bin, base64, binary)",
                    enc_name);
    if (!value)
        return fail(&g->rep, ESP_ERR_INVALID_ARG, "key '%s' has no value", key);
    if (g->namespaces == 0)
        return fail(&g->rep, ESP_ERR_INVALID_ARG, "key '%s' comes before any namespace row", key);
    uint8_t ns = (uint8_t)g->namespaces;
    uint8_t *file = NULL;
    const uint8_t *bytes = (const uint8_t *)value;
    esp_err_t err = ESP_OK;
    if (from_file) {
        err = read_value_file(g, value, &file, &len);
        bytes = file;
        size_t bad;
        if (!err && enc->kind == ENC_STRING && !utf8_valid_prefix(file, len, &bad))
            err = fail(&g->rep, ESP_ERR_INVALID_ARG, "file '%s' is not UTF-8 text", value);
    }
    if (!err)
        err = note_key(g, ns, key);
    if (!err)
        err = write_value(g, ns, key, enc, bytes, len);
    free(file);
    return err;
}

static esp_err_t one_row(generator *g, const csv_record *rec, const int *cols)
{
    size_t key_len;
    const char *key = record_field(rec, cols[COL_KEY], &key_len);
    const char *type = record_field(rec, cols[COL_TYPE], NULL);
    if (!key)
        return fail(&g->rep, ESP_ERR_INVALID_ARG, "the row has no key");
    if (key_len > ESIM_NVS_KEY_MAX)
        return fail(&g->rep, ESP_ERR_INVALID_ARG, "key '%s' is longer than %u bytes", key, ESIM_NVS_KEY_MAX);
    if (!type)
        return fail(&g->rep, ESP_ERR_INVALID_ARG, "key '%s' has no type", key);
    if (strcmp(type, "namespace") == 0)
        return add_namespace(g, key);
    if (strcmp(type, "data") == 0 || strcmp(type, "file") == 0)
        return data_row(g, key, type[0] == 'f', rec, cols);
    return fail(&g->rep, ESP_ERR_INVALID_ARG, "unknown type '%s' for key '%s' (namespace, data or file)", type, key);
}

static esp_err_t read_header(generator *g, const csv_record *rec, int *cols)
{
    for (int c = 0; c < NCOLS; c++) {
        cols[c] = -1;
        for (size_t i = 0; i < rec->nfields; i++)
            if (strcmp(rec->buf + rec->starts[i], column_names[c]) == 0)
                cols[c] = (int)i;   /* the last of equal names wins, as in csv.DictReader */
        if (cols[c] < 0)
            return fail(&g->rep, ESP_ERR_INVALID_ARG,
                        "the first line must name the columns: key,type,encoding,value (no '%s' column)",
                        column_names[c]);
    }
    return ESP_OK;
}

static esp_err_t run_rows(generator *g, csv_reader *r)
{
    csv_record rec = {0};
    int cols[NCOLS];
    bool done, header = true;
    esp_err_t err = ESP_OK;
    while (!err) {
        err = next_record(r, &rec, &done, &g->rep);
        if (err || done)
            break;
        err = header ? read_header(g, &rec, cols) : one_row(g, &rec, cols);
        header = false;
    }
    if (!err && header) {
        g->rep.line = 0;
        err = fail(&g->rep, ESP_ERR_INVALID_ARG, "the file is empty: it needs the line key,type,encoding,value");
    }
    free(rec.buf);
    free(rec.starts);
    free(rec.lens);
    return err;
}

static esp_err_t check_size(reporter *rep, uint32_t size, uint8_t version)
{
    if (version != ESIM_NVS_VERSION_1 && version != ESIM_NVS_VERSION_2)
        return fail(rep, ESP_ERR_INVALID_ARG, "format version byte 0x%02x is not 0xFE (v2) or 0xFF (v1)", version);
    if (size % PAGE)
        return fail(rep, ESP_ERR_INVALID_SIZE, "size 0x%x is not a multiple of 4096", (unsigned)size);
    if (size < ESIM_NVS_GEN_MIN_SIZE)
        return fail(rep, ESP_ERR_INVALID_SIZE, "size 0x%x is below the minimum of 0x3000 (3 pages)", (unsigned)size);
    if (size > ESIM_NVS_GEN_MAX_SIZE)
        return fail(rep, ESP_ERR_INVALID_SIZE, "size 0x%x is larger than 16 MiB", (unsigned)size);
    return ESP_OK;
}

esp_err_t esim_nvs_generate(const char *csv, size_t len, uint32_t size, const esim_nvs_gen_options *opts,
                            uint8_t *out, esim_nvs_image_error *err)
{
    generator *g = calloc(1, sizeof *g);
    if (!g)
        return ESP_ERR_NO_MEM;
    g->rep.err = err;
    if (err) {
        err->line = 0;
        err->message[0] = '\0';
    }
    if (opts) {
        g->rep.warn = opts->warn;
        g->rep.warn_ctx = opts->warn_ctx;
        g->base_dir = opts->base_dir;
    }
    uint8_t version = opts && opts->version ? opts->version : ESIM_NVS_VERSION_2;
    esp_err_t e = check_size(&g->rep, size, version);
    csv_reader r = {0};
    if (!e)
        e = clean_text(&r, csv ? csv : "", csv ? len : 0, &g->rep);
    if (!e) {
        memset(out, 0xFF, size);
        g->w = (writer){.image = out, .usable_pages = size / PAGE - 1, .version = version, .rep = &g->rep};
        start_page(&g->w);
        e = run_rows(g, &r);
    }
    free(r.text);
    free(r.lines);
    free(g->seen);
    free(g);
    return e;
}
