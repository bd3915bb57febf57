/* esp32sim — NVS images seen raw: the page and entry walk of nvs_tool.py,
 * its text and JSON renderings, and the integrity check (nvs_image.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/nvs_image.h"

#define PAGE ESIM_NVS_PAGE_SIZE
#define ENTRY ESIM_NVS_ENTRY_SIZE
#define ENTRIES ESIM_NVS_ENTRY_COUNT
#define CHUNK_MAX_SIZE ESIM_NVS_PAGE_PAYLOAD
#define BLOB_MAX_CHUNKS 128u

/* ---- the walk ---- */

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
}

static const uint8_t *slot_at(const uint8_t *page, unsigned slot)
{
    return page + ESIM_NVS_ENTRIES_OFFSET + (size_t)slot * ENTRY;
}

const uint8_t *esim_nvs_raw_data(const uint8_t page[ESIM_NVS_PAGE_SIZE], const esim_nvs_raw_entry *e, unsigned k)
{
    return k < e->data_entries ? slot_at(page, e->index + 1u + k) : NULL;
}

static uint32_t data_crc(const uint8_t *page, const esim_nvs_raw_entry *e)
{
    size_t size = esim_nvs_item_var_size(&e->item);
    size_t have = (size_t)e->data_entries * ENTRY;
    return esim_nvs_crc32(slot_at(page, e->index + 1u), size < have ? size : have);
}

void esim_nvs_raw_page_parse(const uint8_t page[ESIM_NVS_PAGE_SIZE], uint32_t offset, esim_nvs_raw_page *out)
{
    out->offset = offset;
    out->header_blank = all_ff(page, ENTRY);
    out->blank = all_ff(page, PAGE);
    esim_nvs_header_decode(page, &out->header);
    out->header_crc_computed = esim_nvs_header_crc(page);
    memcpy(out->bitmap, page + ESIM_NVS_BITMAP_OFFSET, ESIM_NVS_BITMAP_SIZE);
    out->count = 0;
    for (unsigned i = 0; i < ENTRIES;) {
        const uint8_t *raw = slot_at(page, i);
        esim_nvs_raw_entry *e = &out->entries[out->count++];
        e->index = (uint8_t)i;
        e->state = esim_nvs_bitmap_get(out->bitmap, i);
        e->blank = all_ff(raw, ENTRY);
        esim_nvs_item_decode(raw, &e->item);
        e->crc_computed = esim_nvs_item_crc(&e->item);
        unsigned span = raw[2] == 0 || raw[2] == 0xFF ? 1u : raw[2];
        e->data_entries = (uint8_t)(i + span <= ENTRIES ? span - 1 : ENTRIES - i - 1);
        e->variable = esim_nvs_type_is_variable(e->item.type);
        e->data_crc_computed = e->variable ? data_crc(page, e) : 0;
        i += span;
    }
}

const char *esim_nvs_page_state_name(uint32_t state)
{
    switch (state) {
    case ESIM_NVS_PAGE_UNINITIALIZED: return "Empty";
    case ESIM_NVS_PAGE_ACTIVE: return "Active";
    case ESIM_NVS_PAGE_FULL: return "Full";
    case ESIM_NVS_PAGE_FREEING: return "Erasing";
    case 0: return "Corrupted";
    default: return "Invalid";
    }
}

/* ---- a growing text buffer ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} text;

static void put(text *t, const void *s, size_t n)
{
    if (t->oom)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *buf = realloc(t->buf, cap);
        if (!buf) {
            t->oom = true;
            return;
        }
        t->buf = buf;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void puts_text(text *t, const char *s) { put(t, s, strlen(s)); }

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void printf_text(text *t, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        put(t, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        t->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    put(t, big, (size_t)n);
    free(big);
}

static char *finish(text *t, size_t *len)
{
    if (!t->oom && !t->buf)
        put(t, "", 0);
    if (t->oom) {
        free(t->buf);
        return NULL;
    }
    if (len)
        *len = t->len;
    return t->buf;
}

/* ---- text, as nvs_tool.py -d all prints it ---- */

static const char *tool_type_name(uint8_t type)
{
    switch (type) {
    case ESIM_NVS_TYPE_U8: return "uint8_t";
    case ESIM_NVS_TYPE_I8: return "int8_t";
    case ESIM_NVS_TYPE_U16: return "uint16_t";
    case ESIM_NVS_TYPE_I16: return "int16_t";
    case ESIM_NVS_TYPE_U32: return "uint32_t";
    case ESIM_NVS_TYPE_I32: return "int32_t";
    case ESIM_NVS_TYPE_U64: return "uint64_t";
    case ESIM_NVS_TYPE_I64: return "int64_t";
    case ESIM_NVS_TYPE_STR: return "string";
    case ESIM_NVS_TYPE_BLOB: return "blob";
    case ESIM_NVS_TYPE_BLOB_DATA: return "blob_data";
    case ESIM_NVS_TYPE_BLOB_IDX: return "blob_index";
    default: return NULL;
    }
}

static const char *tool_entry_state(esim_nvs_entry_state s)
{
    switch (s) {
    case ESIM_NVS_ENTRY_WRITTEN: return "Written";
    case ESIM_NVS_ENTRY_ERASED: return "Erased ";
    case ESIM_NVS_ENTRY_EMPTY: return "Empty";
    default: return "Invalid";
    }
}

/* The key as nvs_tool decodes it: trailing NULs dropped, NULL (printed
 * "None") when a byte is not ASCII. */
static bool tool_key(const char key[ESIM_NVS_KEY_SIZE], size_t *len)
{
    size_t n = ESIM_NVS_KEY_SIZE;
    while (n && key[n - 1] == '\0')
        n--;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)key[i] >= 0x80)
            return false;
    *len = n;
    return true;
}

/* Python's str.isprintable() for chr(c), c < 256. */
static bool latin1_printable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7F) || (c >= 0xA1 && c != 0xAD);
}

static void put_latin1(text *t, uint8_t c)
{
    if (c < 0x80) {
        put(t, &c, 1);
        return;
    }
    char utf8[2] = {(char)(0xC0 | c >> 6), (char)(0x80 | (c & 0x3F))};
    put(t, utf8, 2);
}

static void dump_raw(text *t, const uint8_t *raw)
{
    for (unsigned i = 0; i < ENTRY; i++)
        printf_text(t, "%s%02x ", i == ENTRY / 2 ? " " : "", raw[i]);
    puts_text(t, " ");
    for (unsigned i = 0; i < ENTRY; i++) {
        if (i == ENTRY / 2)
            puts_text(t, " ");
        put_latin1(t, latin1_printable(raw[i]) ? raw[i] : (uint8_t)'.');
    }
}

static void int_value_text(text *t, const esim_nvs_item *item)
{
    unsigned width = esim_nvs_int_width(item->type);
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)item->data[i] << (8 * i);
    if (esim_nvs_type_signed(item->type) && width < 8 && (v >> (8 * width - 1)) & 1)
        v |= ~UINT64_C(0) << (8 * width);
    if (esim_nvs_type_signed(item->type))
        printf_text(t, "%lld", (long long)(int64_t)v);
    else
        printf_text(t, "%llu", (unsigned long long)v);
}

static void entry_value_text(text *t, const esim_nvs_raw_entry *e, bool key_ok)
{
    const esim_nvs_item *item = &e->item;
    if (!key_ok || !tool_type_name(item->type))
        puts_text(t, "None");
    else if (item->type == ESIM_NVS_TYPE_BLOB_IDX)
        printf_text(t, "Size=%u, ChunkCount=%u, ChunkStart=%u", (unsigned)esim_nvs_item_blob_size(item),
                    esim_nvs_item_blob_chunk_count(item), esim_nvs_item_blob_chunk_start(item));
    else if (e->variable)
        printf_text(t, "Size=%u, CRC32=%x", esim_nvs_item_var_size(item), (unsigned)esim_nvs_item_var_crc(item));
    else
        int_value_text(t, item);
    puts_text(t, "\n");
}

static void entry_text(text *t, const uint8_t *page, const esim_nvs_raw_entry *e)
{
    const esim_nvs_item *item = &e->item;
    const char *type = tool_type_name(item->type);
    char type_hex[8];
    snprintf(type_hex, sizeof type_hex, "0x%02x", item->type);
    printf_text(t, " %03u. %s, Namespace Index: %03u, Type: %-10s, Span: %03u, Chunk Index: %03u, CRC32: %8x | ",
                e->index, tool_entry_state(e->state), item->ns_index, type ? type : type_hex, item->span,
                item->chunk_index, (unsigned)item->crc);
    size_t key_len;
    bool key_ok = tool_key(item->key, &key_len);
    if (key_ok)
        put(t, item->key, key_len);
    else
        puts_text(t, "None");
    puts_text(t, ": ");
    entry_value_text(t, e, key_ok);
    if (item->span == 1)
        return;
    for (unsigned k = 0; k < e->data_entries; k++) {
        printf_text(t, "      0x%03x  ", k * ENTRY);
        dump_raw(t, esim_nvs_raw_data(page, e, k));
        puts_text(t, "\n");
    }
}

/* Runs of 3 or more empty entries are shown as first, "...", last. */
static void empty_run_text(text *t, int first, int last)
{
    if (first < 0)
        return;
    if (last - first >= 2) {
        printf_text(t, " %03d. Empty\n ...\n %03d. Empty\n", first, last);
        return;
    }
    for (int i = first; i <= last; i++)
        printf_text(t, " %03d. Empty\n", i);
}

static void page_text(text *t, const uint8_t *page, const esim_nvs_raw_page *p)
{
    if (p->header_blank)
        printf_text(t, "Page Empty, Page address: 0x%x\n", (unsigned)p->offset);
    else
        printf_text(t, "Page no. %u, Status: %s, Version: %d, CRC32: %8x, Page address: 0x%x\n",
                    (unsigned)p->header.seqno, esim_nvs_page_state_name(p->header.state), 256 - p->header.version,
                    (unsigned)p->header.crc, (unsigned)p->offset);
    puts_text(t, " Entry state bitmap: ");
    for (unsigned i = 0; i < ESIM_NVS_BITMAP_SIZE; i++)
        printf_text(t, "%02x ", p->bitmap[i]);
    puts_text(t, "\n");
    int first = -1, last = -1;
    for (size_t i = 0; i < p->count; i++) {
        const esim_nvs_raw_entry *e = &p->entries[i];
        if (e->state == ESIM_NVS_ENTRY_EMPTY && e->blank) {
            if (first < 0)
                first = e->index;
            last = e->index;
            continue;
        }
        empty_run_text(t, first, last);
        first = -1;
        entry_text(t, page, e);
    }
    empty_run_text(t, first, last);
    puts_text(t, "\n");
}

char *esim_nvs_render_pages_text(const uint8_t *image, size_t len, size_t *out_len)
{
    esim_nvs_raw_page *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    text t = {0};
    for (size_t off = 0; off + PAGE <= len && !t.oom; off += PAGE) {
        esim_nvs_raw_page_parse(image + off, (uint32_t)off, p);
        page_text(&t, image + off, p);
    }
    free(p);
    return finish(&t, out_len);
}

/* ---- JSON ---- */

/* Bytes up to the first NUL (at most n) as a JSON string; bytes above 0x7F
 * are taken as Latin-1. */
static void json_string(text *t, const char *s, size_t n)
{
    puts_text(t, "\"");
    for (size_t i = 0; i < n && s[i]; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '"' || c == '\\')
            printf_text(t, "\\%c", c);
        else if (c < 0x20 || c >= 0x7F)
            printf_text(t, "\\u%04x", c);
        else
            put(t, &c, 1);
    }
    puts_text(t, "\"");
}

static void json_hex(text *t, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    puts_text(t, "\"");
    for (size_t i = 0; i < n; i++) {
        char two[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        put(t, two, 2);
    }
    puts_text(t, "\"");
}

static void json_crc(text *t, const char *name, uint32_t stored, uint32_t computed)
{
    printf_text(t, ", \"%s\": {\"stored\": %u, \"computed\": %u, \"ok\": %s}", name, (unsigned)stored,
                (unsigned)computed, stored == computed ? "true" : "false");
}

static const char *json_state(esim_nvs_entry_state s)
{
    static const char *const names[] = {"erased", "illegal", "written", "empty"};
    return names[s & 3];
}

static void json_var_data(text *t, const uint8_t *page, const esim_nvs_raw_entry *e)
{
    size_t size = esim_nvs_item_var_size(&e->item);
    size_t have = (size_t)e->data_entries * ENTRY;
    printf_text(t, ", \"size\": %zu", size);
    json_crc(t, "data_crc", esim_nvs_item_var_crc(&e->item), e->data_crc_computed);
    puts_text(t, ", \"data\": ");
    json_hex(t, e->data_entries ? esim_nvs_raw_data(page, e, 0) : page, size < have ? size : have);
}

static void json_entry(text *t, const uint8_t *page, const esim_nvs_raw_entry *e)
{
    const esim_nvs_item *item = &e->item;
    const char *type = esim_nvs_type_name(item->type);
    printf_text(t, "{\"index\": %u, \"state\": \"%s\", \"ns\": %u, \"type\": ", e->index, json_state(e->state),
                item->ns_index);
    if (type)
        printf_text(t, "\"%s\"", type);
    else
        puts_text(t, "null");
    printf_text(t, ", \"type_raw\": %u, \"span\": %u, \"chunk_index\": %u, \"key\": ", item->type, item->span,
                item->chunk_index);
    json_string(t, item->key, ESIM_NVS_KEY_SIZE);
    json_crc(t, "crc", item->crc, e->crc_computed);
    if (esim_nvs_int_width(item->type)) {
        puts_text(t, ", \"value\": ");
        int_value_text(t, item);
    } else if (item->type == ESIM_NVS_TYPE_BLOB_IDX) {
        printf_text(t, ", \"size\": %u, \"chunk_count\": %u, \"chunk_start\": %u",
                    (unsigned)esim_nvs_item_blob_size(item), esim_nvs_item_blob_chunk_count(item),
                    esim_nvs_item_blob_chunk_start(item));
    } else if (e->variable) {
        json_var_data(t, page, e);
    }
    puts_text(t, "}");
}

static void json_page(text *t, const uint8_t *page, const esim_nvs_raw_page *p, size_t index)
{
    const esim_nvs_page_header *h = &p->header;
    printf_text(t, "{\"index\": %zu, \"address\": %u, \"blank\": %s, \"state\": \"%s\", \"state_raw\": %u, "
                "\"seq\": %u, \"version\": %d, \"version_raw\": %u",
                index, (unsigned)p->offset, p->blank ? "true" : "false", esim_nvs_page_state_name(h->state),
                (unsigned)h->state, (unsigned)h->seqno, 256 - h->version, h->version);
    json_crc(t, "crc", h->crc, p->header_crc_computed);
    puts_text(t, ", \"bitmap\": ");
    json_hex(t, p->bitmap, sizeof p->bitmap);
    unsigned counts[4] = {0};
    for (unsigned i = 0; i < ENTRIES; i++)
        counts[esim_nvs_bitmap_get(p->bitmap, i)]++;
    printf_text(t, ", \"counts\": {\"written\": %u, \"erased\": %u, \"empty\": %u, \"illegal\": %u}, \"entries\": [",
                counts[ESIM_NVS_ENTRY_WRITTEN], counts[ESIM_NVS_ENTRY_ERASED], counts[ESIM_NVS_ENTRY_EMPTY],
                counts[ESIM_NVS_ENTRY_ILLEGAL]);
    bool first = true;
    for (size_t i = 0; i < p->count; i++) {
        const esim_nvs_raw_entry *e = &p->entries[i];
        if (e->state == ESIM_NVS_ENTRY_EMPTY && e->blank)
            continue;
        puts_text(t, first ? "" : ", ");
        first = false;
        json_entry(t, page, e);
    }
    puts_text(t, "]}");
}

char *esim_nvs_render_pages_json(const uint8_t *image, size_t len)
{
    esim_nvs_raw_page *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    text t = {0};
    puts_text(&t, "[");
    for (size_t off = 0; off + PAGE <= len && !t.oom; off += PAGE) {
        esim_nvs_raw_page_parse(image + off, (uint32_t)off, p);
        puts_text(&t, off ? ",\n " : "");
        json_page(&t, image + off, p, off / PAGE);
    }
    puts_text(&t, "]");
    free(p);
    return finish(&t, NULL);
}

/* ---- the integrity check ---- */

/* A written item that passed the per-entry checks. */
typedef struct {
    int page, slot;
    uint32_t seq;            /* the page's sequence number */
    uint32_t page_state;     /* the page's state: ACTIVE, FULL or FREEING */
    uint32_t hash;           /* ESP-IDF's 24-bit item hash */
    uint8_t ns, type, chunk;
    char key[ESIM_NVS_KEY_SIZE];
    uint32_t size;           /* var size, or blob index total */
    uint8_t chunk_count, chunk_start;
    uint8_t ns_value;        /* namespace entries: the index they define */
    bool gone;               /* erased by ESP-IDF at mount */
} good_item;

typedef struct {
    esim_nvs_problem_fn fn;
    void *ctx;
    esim_nvs_check_result *res;
    good_item *items;        /* in walk order: pages by position, slots */
    size_t nitems, cap;
    int newest;              /* the used page with the highest sequence number, or -1 */
    bool oom;
} checker;

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static void report(checker *c, esim_nvs_severity sev, int page, int entry, const char *fmt, ...)
{
    esim_nvs_problem p = {.severity = sev, .page = page, .entry = entry};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p.message, sizeof p.message, fmt, ap);
    va_end(ap);
    if (sev == ESIM_NVS_NOTE)
        c->res->notes++;
    else if (sev == ESIM_NVS_WARNING)
        c->res->warnings++;
    else
        c->res->errors++;
    if (c->fn)
        c->fn(&p, c->ctx);
}

/* A key for messages: up to its NUL, other bytes as \xNN. */
static const char *key_text(const char key[ESIM_NVS_KEY_SIZE], char out[68])
{
    size_t o = 0;
    for (size_t i = 0; i < ESIM_NVS_KEY_SIZE && key[i]; i++) {
        uint8_t c = (uint8_t)key[i];
        if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
    }
    out[o] = '\0';
    return out;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool refuse(char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool item_type_known(uint8_t type)
{
    return esim_nvs_type_name(type) != NULL && type != ESIM_NVS_TYPE_ANY;
}

static bool key_padded(const char key[ESIM_NVS_KEY_SIZE], char *why, size_t cap)
{
    if (key[ESIM_NVS_KEY_SIZE - 1] != '\0')
        return refuse(why, cap, "the key is not NUL-terminated");
    for (size_t k = strlen(key); k < ESIM_NVS_KEY_SIZE; k++)
        if (key[k] != '\0')
            return refuse(why, cap, "key bytes after the terminating NUL are not zero, so ESP-IDF cannot find it");
    return true;
}

/* Item::checkHeaderConsistency for fixed-size items and blob indexes. */
static bool fixed_item_ok(const esim_nvs_item *it, char *why, size_t cap)
{
    if (it->span != 1)
        return refuse(why, cap, "span %u, but a %s item spans 1 entry", it->span, esim_nvs_type_name(it->type));
    if (it->type != ESIM_NVS_TYPE_BLOB_IDX)
        return true;
    if (it->chunk_index != ESIM_NVS_CHUNK_ANY)
        return refuse(why, cap, "a blob index with chunk index %u, not 255", it->chunk_index);
    if (esim_nvs_item_blob_size(it) > CHUNK_MAX_SIZE * BLOB_MAX_CHUNKS)
        return refuse(why, cap, "blob size %u is larger than ESP-IDF allows", (unsigned)esim_nvs_item_blob_size(it));
    return true;
}

/* Item::checkHeaderConsistency for strings and blob data. */
static bool variable_item_ok(const esim_nvs_item *it, unsigned slot, char *why, size_t cap)
{
    size_t size = esim_nvs_item_var_size(it);
    if (it->type == ESIM_NVS_TYPE_BLOB_DATA && it->chunk_index == ESIM_NVS_CHUNK_ANY)
        return refuse(why, cap, "a blob chunk with chunk index 255");
    if (size > (size_t)(ENTRIES - slot - 1) * ENTRY)
        return refuse(why, cap, "%zu data bytes run past the end of the page", size);
    if (it->span != esim_nvs_span_for_size(size))
        return refuse(why, cap, "span %u does not match the data size %zu (span %u)", it->span, size,
                      esim_nvs_span_for_size(size));
    return true;
}

static const char *json_state(esim_nvs_entry_state s);

static bool data_intact(const esim_nvs_raw_page *p, const esim_nvs_raw_entry *e, char *why, size_t cap)
{
    for (unsigned k = 0; k < e->data_entries; k++) {
        esim_nvs_entry_state s = esim_nvs_bitmap_get(p->bitmap, e->index + 1u + k);
        if (s != ESIM_NVS_ENTRY_WRITTEN)
            return refuse(why, cap, "data entry %03u is %s, not written", e->index + 1u + k, json_state(s));
    }
    uint32_t stored = esim_nvs_item_var_crc(&e->item);
    if (stored != e->data_crc_computed)
        return refuse(why, cap, "data CRC32 is %08x, computed %08x", (unsigned)stored, (unsigned)e->data_crc_computed);
    return true;
}

bool esim_nvs_raw_entry_ok(const uint8_t page[ESIM_NVS_PAGE_SIZE], const esim_nvs_raw_page *p,
                           const esim_nvs_raw_entry *e, char *why, size_t cap)
{
    (void)page;
    const esim_nvs_item *it = &e->item;
    if (e->state != ESIM_NVS_ENTRY_WRITTEN)
        return refuse(why, cap, "not written (%s)", json_state(e->state));
    if (e->blank)
        return refuse(why, cap, "marked written but blank (all 0xFF)");
    if (it->crc != e->crc_computed)
        return refuse(why, cap, "entry CRC32 is %08x, computed %08x", (unsigned)it->crc, (unsigned)e->crc_computed);
    if (!item_type_known(it->type))
        return refuse(why, cap, "unknown item type 0x%02x", it->type);
    if (!key_padded(it->key, why, cap))
        return false;
    if (it->ns_index == ESIM_NVS_NS_ANY)
        return refuse(why, cap, "namespace index 255 is reserved");
    if (!e->variable)
        return fixed_item_ok(it, why, cap);
    return variable_item_ok(it, e->index, why, cap) && data_intact(p, e, why, cap);
}

static void keep_item(checker *c, int pg, const esim_nvs_raw_page *p, const esim_nvs_raw_entry *e)
{
    if (c->nitems == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        good_item *items = realloc(c->items, cap * sizeof *items);
        if (!items) {
            c->oom = true;
            return;
        }
        c->items = items;
        c->cap = cap;
    }
    const esim_nvs_item *it = &e->item;
    good_item *g = &c->items[c->nitems];
    *g = (good_item){.page = pg, .slot = e->index, .seq = p->header.seqno, .page_state = p->header.state,
                     .hash = esim_nvs_item_hash(it->ns_index, it->key, it->chunk_index), .ns = it->ns_index,
                     .type = it->type, .chunk = it->chunk_index};
    memcpy(g->key, it->key, sizeof g->key);
    if (it->type == ESIM_NVS_TYPE_BLOB_IDX) {
        g->size = esim_nvs_item_blob_size(it);
        g->chunk_count = esim_nvs_item_blob_chunk_count(it);
        g->chunk_start = esim_nvs_item_blob_chunk_start(it);
    } else if (e->variable) {
        g->size = esim_nvs_item_var_size(it);
    }
    g->ns_value = it->data[0];
    c->nitems++;
}

static void check_written(checker *c, int pg, const uint8_t *page, const esim_nvs_raw_page *p,
                          const esim_nvs_raw_entry *e)
{
    char kt[68], why[160];
    const char *key = key_text(e->item.key, kt);
    unsigned i = e->index;
    if (!esim_nvs_raw_entry_ok(page, p, e, why, sizeof why)) {
        if (e->blank)
            report(c, ESIM_NVS_ERROR, pg, (int)i, "page %d entry %03u: %s", pg, i, why);
        else
            report(c, ESIM_NVS_ERROR, pg, (int)i, "page %d entry %03u, key '%s': %s; ESP-IDF drops the entry", pg, i,
                   key, why);
        return;
    }
    if (e->item.ns_index == 0 && e->item.type != ESIM_NVS_TYPE_U8) {
        report(c, ESIM_NVS_ERROR, pg, (int)i, "page %d entry %03u, key '%s': an item of type %s in namespace 0, "
               "which holds namespace names", pg, i, key, esim_nvs_type_name(e->item.type));
        return;
    }
    if (e->item.ns_index == 0 && (e->item.data[0] == 0 || e->item.data[0] == 0xFF)) {
        report(c, ESIM_NVS_ERROR, pg, (int)i, "page %d entry %03u: namespace '%s' has index %u, not one of 1..254", pg,
               i, key, e->item.data[0]);
        return;
    }
    for (const char *k = e->item.key; *k; k++)
        if ((uint8_t)*k < 0x20 || (uint8_t)*k >= 0x7F) {
            report(c, ESIM_NVS_WARNING, pg, (int)i, "page %d entry %03u, key '%s': the key holds bytes that are not "
                   "printable ASCII", pg, i, key);
            break;
        }
    if (e->item.type != ESIM_NVS_TYPE_BLOB_DATA && e->item.chunk_index != ESIM_NVS_CHUNK_ANY)
        report(c, ESIM_NVS_WARNING, pg, (int)i, "page %d entry %03u, key '%s': chunk index %u where 255 is expected",
               pg, i, key, e->item.chunk_index);
    keep_item(c, pg, p, e);
}

static unsigned last_used_slot(const esim_nvs_raw_page *p)
{
    unsigned last = 0;
    for (unsigned i = 0; i < ENTRIES; i++)
        if (esim_nvs_bitmap_get(p->bitmap, i) != ESIM_NVS_ENTRY_EMPTY)
            last = i + 1;
    return last;   /* one past the last slot not EMPTY */
}

static void check_entries(checker *c, int pg, const uint8_t *page, const esim_nvs_raw_page *p)
{
    unsigned used_end = last_used_slot(p);
    for (size_t k = 0; k < p->count; k++) {
        const esim_nvs_raw_entry *e = &p->entries[k];
        unsigned i = e->index;
        switch (e->state) {
        case ESIM_NVS_ENTRY_WRITTEN:
            check_written(c, pg, page, p, e);
            break;
        case ESIM_NVS_ENTRY_ILLEGAL:
            report(c, ESIM_NVS_ERROR, pg, (int)i, "page %d entry %03u: bitmap state 0b01 is illegal; ESP-IDF erases "
                   "the entry", pg, i);
            break;
        case ESIM_NVS_ENTRY_ERASED:
            if (e->blank)
                report(c, ESIM_NVS_WARNING, pg, (int)i, "page %d entry %03u: marked erased but blank", pg, i);
            break;
        case ESIM_NVS_ENTRY_EMPTY:
            if (e->blank)
                break;
            if (p->header.state == ESIM_NVS_PAGE_ACTIVE && i >= used_end)
                report(c, ESIM_NVS_WARNING, pg, (int)i, "page %d entry %03u: programmed but its bitmap state is "
                       "empty (power lost between the two writes); ESP-IDF erases it at mount", pg, i);
            else
                report(c, ESIM_NVS_ERROR, pg, (int)i, "page %d entry %03u: programmed but its bitmap state is "
                       "empty", pg, i);
            break;
        }
    }
}

/* Per page: the header, then the entries of a page ESP-IDF would use.
 * Returns whether ESP-IDF counts the page as free (blank or corrupt). */
static bool check_page(checker *c, int pg, const uint8_t *page, esim_nvs_raw_page *p)
{
    esim_nvs_raw_page_parse(page, (uint32_t)pg * PAGE, p);
    const esim_nvs_page_header *h = &p->header;
    if (h->state == ESIM_NVS_PAGE_UNINITIALIZED) {
        report(c, ESIM_NVS_NOTE, pg, -1, "Page Empty");
        if (!p->blank)
            report(c, ESIM_NVS_ERROR, pg, -1, "page %d: state says uninitialized but the page is not erased; "
                   "ESP-IDF takes it for corrupt and erases it before use", pg);
        return true;
    }
    bool crc_ok = h->crc == p->header_crc_computed;
    if (crc_ok)
        report(c, ESIM_NVS_NOTE, pg, -1, "Page no. %u \tCRC32: OK", (unsigned)h->seqno);
    else
        report(c, ESIM_NVS_NOTE, pg, -1, "Page no. %u Original CRC32: %x Generated CRC32: %x", (unsigned)h->seqno,
               (unsigned)h->crc, (unsigned)p->header_crc_computed);
    bool state_ok = h->state == ESIM_NVS_PAGE_ACTIVE || h->state == ESIM_NVS_PAGE_FULL
                 || h->state == ESIM_NVS_PAGE_FREEING;
    if (!crc_ok)
        report(c, ESIM_NVS_ERROR, pg, -1, "page %d: header CRC32 is %08x, computed %08x; ESP-IDF takes the page for "
               "corrupt and its entries are lost", pg, (unsigned)h->crc, (unsigned)p->header_crc_computed);
    if (!state_ok)
        report(c, ESIM_NVS_ERROR, pg, -1, "page %d: state 0x%08x is not a valid page state; ESP-IDF takes the page "
               "for corrupt and its entries are lost", pg, (unsigned)h->state);
    if (!crc_ok || !state_ok)
        return true;
    if (h->version < ESIM_NVS_VERSION_2)
        report(c, ESIM_NVS_ERROR, pg, -1, "page %d: format version byte 0x%02x is newer than version 2; ESP-IDF "
               "refuses to mount (ESP_ERR_NVS_NEW_VERSION_FOUND)", pg, h->version);
    else if (h->version == ESIM_NVS_VERSION_1)
        report(c, ESIM_NVS_WARNING, pg, -1, "page %d: format version 1 (ESP-IDF reads it)", pg);
    if (h->state == ESIM_NVS_PAGE_FREEING)
        report(c, ESIM_NVS_WARNING, pg, -1, "page %d: state FREEING: garbage collection was interrupted; ESP-IDF "
               "finishes it at mount", pg);
    check_entries(c, pg, page, p);
    return false;
}

/* ---- across pages ---- */

static bool is_value_item(const good_item *g) { return g->type != ESIM_NVS_TYPE_BLOB_DATA; }

static bool same_key(const good_item *x, const good_item *y)
{
    return x->ns == y->ns && memcmp(x->key, y->key, ESIM_NVS_KEY_SIZE) == 0;
}

/* Namespace, key and chunk index: what ESP-IDF's item hash covers (not the
 * type). */
static bool same_hashed(const good_item *x, const good_item *y)
{
    return same_key(x, y) && x->chunk == y->chunk;
}

/* Oldest first, as ESP-IDF lists its pages: by sequence number, then by
 * position; on a page by slot. */
static int cmp_age(const good_item *x, const good_item *y)
{
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    if (x->page != y->page)
        return x->page < y->page ? -1 : 1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

static int cmp_items(const void *a, const void *b)
{
    const good_item *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    int k = memcmp(x->key, y->key, ESIM_NVS_KEY_SIZE);
    if (k)
        return k;
    return cmp_age(x, y);
}

static const char *ns_name(const checker *c, uint8_t ns, char out[68])
{
    for (size_t i = 0; i < c->nitems; i++)
        if (c->items[i].ns == 0 && c->items[i].ns_value == ns && !c->items[i].gone)
            return key_text(c->items[i].key, out);
    snprintf(out, 68, "#%u", ns);
    return out;
}

#define ITEM_TEXT 200

/* An item for messages: "namespace 'n'", "key 'k' of namespace n" or
 * "chunk 2 of blob 'k' of namespace n". */
static const char *item_text(const checker *c, const good_item *g, char out[ITEM_TEXT])
{
    char kt[68], nt[68];
    const char *key = key_text(g->key, kt);
    if (g->ns == 0)
        snprintf(out, ITEM_TEXT, "namespace '%s'", key);
    else if (g->type == ESIM_NVS_TYPE_BLOB_DATA)
        snprintf(out, ITEM_TEXT, "chunk %u of blob '%s' of namespace %s", g->chunk, key, ns_name(c, g->ns, nt));
    else
        snprintf(out, ITEM_TEXT, "key '%s' of namespace %s", key, ns_name(c, g->ns, nt));
    return out;
}

static void drop_gone(checker *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nitems; i++)
        if (!c->items[i].gone)
            c->items[n++] = c->items[i];
    c->nitems = n;
}

/* Items [from, to) are one ACTIVE page's. Loading it, ESP-IDF erases the
 * earlier of two items with the same 24-bit hash: a value set twice keeps
 * the later one; a different key that collides with a later item is lost. */
static void resolve_active_page(checker *c, size_t from, size_t to)
{
    char a[ITEM_TEXT], b[ITEM_TEXT];
    for (size_t i = from + 1; i < to; i++) {
        const good_item *later = &c->items[i];
        good_item *earlier = NULL;
        for (size_t j = from; j < i && !earlier; j++)
            if (!c->items[j].gone && c->items[j].hash == later->hash)
                earlier = &c->items[j];
        if (!earlier)
            continue;
        earlier->gone = true;
        if (same_hashed(earlier, later))
            report(c, ESIM_NVS_WARNING, later->page, later->slot, "page %d entry %03d, %s is stored again on this "
                   "active page (first at entry %03d); ESP-IDF erases the earlier entry at mount", later->page,
                   later->slot, item_text(c, later, a), earlier->slot);
        else
            report(c, ESIM_NVS_ERROR, earlier->page, earlier->slot, "page %d entry %03d, %s: ESP-IDF erases it at "
                   "mount, as entry %03d (%s) of this active page has the same 24-bit hash", earlier->page,
                   earlier->slot, item_text(c, earlier, a), later->slot, item_text(c, later, b));
    }
}

static void resolve_active_pages(checker *c)
{
    for (size_t from = 0, to; from < c->nitems; from = to) {
        for (to = from + 1; to < c->nitems && c->items[to].page == c->items[from].page;)
            to++;
        if (c->items[from].page_state == ESIM_NVS_PAGE_ACTIVE)
            resolve_active_page(c, from, to);
    }
    drop_gone(c);
}

/* Where ESP-IDF's lookup for `like` on a page stops: the page's first item
 * with the same namespace, key and chunk index. */
static const good_item *first_on_page(const checker *c, int page, const good_item *like)
{
    for (size_t i = 0; i < c->nitems; i++)
        if (c->items[i].page == page && same_hashed(&c->items[i], like))
            return &c->items[i];
    return NULL;
}

/* The copy of `last` of this type that ESP-IDF erases: on the oldest page,
 * other than the newest and not FREEING, whose lookup finds that type. */
static good_item *older_copy(checker *c, const good_item *last, uint8_t type)
{
    good_item *best = NULL;
    for (size_t i = 0; i < c->nitems; i++) {
        good_item *g = &c->items[i];
        if (g->page == c->newest || g->page_state == ESIM_NVS_PAGE_FREEING || g->type != type
            || !same_hashed(g, last) || first_on_page(c, g->page, last) != g)
            continue;
        if (!best || cmp_age(g, best) < 0)
            best = g;
    }
    return best;
}

/* Mounting, ESP-IDF looks the last item of the newest page up in the older
 * pages and erases the first copy it finds (a new value written, power lost
 * before the old one was erased). */
static void resolve_stale_copy(checker *c)
{
    const good_item *last = NULL;
    for (size_t i = 0; i < c->nitems; i++)
        if (c->items[i].page == c->newest)
            last = &c->items[i];
    if (!last)
        return;
    good_item *old = older_copy(c, last, last->type);
    if (!old && last->type == ESIM_NVS_TYPE_BLOB_IDX)
        old = older_copy(c, last, ESIM_NVS_TYPE_BLOB);
    if (!old)
        return;
    char a[ITEM_TEXT];
    report(c, ESIM_NVS_WARNING, old->page, old->slot, "page %d entry %03d, %s is stored again as the last item of "
           "the newest page (page %d entry %03d); ESP-IDF erases this older copy at mount", old->page, old->slot,
           item_text(c, old, a), last->page, last->slot);
    old->gone = true;
    drop_gone(c);
}

/* Items [from, to) share a namespace and key, oldest first: duplicates
 * ESP-IDF keeps (it reads the oldest) and blobs. */
static void check_group(checker *c, size_t from, size_t to)
{
    char kt[68], nt[68];
    const good_item *first = &c->items[from];
    const char *key = key_text(first->key, kt);
    const char *ns = ns_name(c, first->ns, nt);
    const good_item *value = NULL;
    for (size_t i = from; i < to; i++) {
        good_item *g = &c->items[i];
        if (is_value_item(g)) {
            if (value && g->ns == 0)
                report(c, ESIM_NVS_ERROR, g->page, g->slot, "page %d entry %03d: namespace '%s' is defined again "
                       "(first at page %d entry %03d)", g->page, g->slot, key, value->page, value->slot);
            else if (value)
                report(c, ESIM_NVS_ERROR, g->page, g->slot, "page %d entry %03d, key '%s' of namespace %s is stored "
                       "again (first at page %d entry %03d)", g->page, g->slot, key, ns, value->page, value->slot);
            else
                value = g;
            continue;
        }
        for (size_t j = from; j < i; j++)
            if (!is_value_item(&c->items[j]) && c->items[j].chunk == g->chunk) {
                report(c, ESIM_NVS_ERROR, g->page, g->slot, "page %d entry %03d: chunk %u of blob '%s' of namespace "
                       "%s is stored again (first at page %d entry %03d)", g->page, g->slot, g->chunk, key, ns,
                       c->items[j].page, c->items[j].slot);
                break;
            }
    }
}

/* The blob ESP-IDF reads: the index's chunks, each the oldest copy. */
static void check_blob(checker *c, const good_item *idx, size_t from, size_t to)
{
    char kt[68];
    const char *key = key_text(idx->key, kt);
    if (idx->chunk_count == 0 || idx->chunk_count > BLOB_MAX_CHUNKS
        || (idx->chunk_start != ESIM_NVS_BLOB_VERSION_0 && idx->chunk_start != ESIM_NVS_BLOB_VERSION_1)) {
        report(c, ESIM_NVS_ERROR, idx->page, idx->slot, "page %d entry %03d, blob '%s': the index names %u chunks "
               "from %u, which ESP-IDF does not accept", idx->page, idx->slot, key, idx->chunk_count, idx->chunk_start);
        return;
    }
    uint64_t total = 0;
    for (unsigned n = 0; n < idx->chunk_count; n++) {
        unsigned want = idx->chunk_start + n;
        const good_item *chunk = NULL;
        for (size_t i = from; i < to && !chunk; i++)
            if (!is_value_item(&c->items[i]) && c->items[i].chunk == want)
                chunk = &c->items[i];
        if (!chunk) {
            report(c, ESIM_NVS_ERROR, idx->page, idx->slot, "page %d entry %03d, blob '%s': chunk %u is missing; "
                   "ESP-IDF drops the blob", idx->page, idx->slot, key, want);
            return;
        }
        total += chunk->size;
    }
    if (total != idx->size)
        report(c, ESIM_NVS_ERROR, idx->page, idx->slot, "page %d entry %03d, blob '%s': the index says %u bytes but "
               "its chunks hold %llu; ESP-IDF drops the blob", idx->page, idx->slot, key, (unsigned)idx->size,
               (unsigned long long)total);
}

/* Does a blob index of the group name this chunk? ESP-IDF erases the chunks
 * none names. */
static bool chunk_named(const checker *c, const good_item *chunk, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const good_item *x = &c->items[i];
        if (x->type == ESIM_NVS_TYPE_BLOB_IDX && chunk->chunk >= x->chunk_start
            && chunk->chunk < x->chunk_start + x->chunk_count)
            return true;
    }
    return false;
}

static void check_blobs_of(checker *c, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (c->items[i].type == ESIM_NVS_TYPE_BLOB_IDX) {
            check_blob(c, &c->items[i], from, to);   /* later indexes are stored again */
            break;
        }
    char kt[68];
    for (size_t i = from; i < to; i++) {
        const good_item *g = &c->items[i];
        if (g->type == ESIM_NVS_TYPE_BLOB_DATA && !chunk_named(c, g, from, to))
            report(c, ESIM_NVS_ERROR, g->page, g->slot, "page %d entry %03d: chunk %u of blob '%s' has no blob "
                   "index; ESP-IDF erases it at mount", g->page, g->slot, g->chunk, key_text(g->key, kt));
    }
}

static void check_namespaces(checker *c)
{
    char kt[68];
    bool defined[256] = {false}, used[256] = {false};
    for (size_t i = 0; i < c->nitems; i++) {
        const good_item *g = &c->items[i];
        if (g->ns != 0) {
            used[g->ns] = true;
            continue;
        }
        if (defined[g->ns_value])
            report(c, ESIM_NVS_ERROR, g->page, g->slot, "page %d entry %03d: namespace '%s' takes index %u, which "
                   "another namespace has", g->page, g->slot, key_text(g->key, kt), g->ns_value);
        defined[g->ns_value] = true;
    }
    for (size_t i = 0; i < c->nitems; i++) {
        const good_item *g = &c->items[i];
        if (g->ns != 0 && !defined[g->ns]) {
            report(c, ESIM_NVS_ERROR, g->page, g->slot, "page %d entry %03d, key '%s': namespace index %u is not "
                   "defined by any namespace entry", g->page, g->slot, key_text(g->key, kt), g->ns);
            defined[g->ns] = true;   /* once per index */
        }
    }
    for (size_t i = 0; i < c->nitems; i++) {
        const good_item *g = &c->items[i];
        if (g->ns == 0 && !used[g->ns_value])
            report(c, ESIM_NVS_WARNING, g->page, g->slot, "page %d entry %03d: namespace '%s' (index %u) holds no "
                   "keys", g->page, g->slot, key_text(g->key, kt), g->ns_value);
    }
}

static void check_across(checker *c)
{
    resolve_active_pages(c);
    resolve_stale_copy(c);
    check_namespaces(c);
    if (c->nitems)
        qsort(c->items, c->nitems, sizeof *c->items, cmp_items);
    for (size_t from = 0, to; from < c->nitems; from = to) {
        for (to = from + 1; to < c->nitems && same_key(&c->items[from], &c->items[to]);)
            to++;
        check_group(c, from, to);
        check_blobs_of(c, from, to);
    }
}

/* Page-level rules across pages: seq numbers, the free page. */
static void check_pages(checker *c, size_t npages, size_t free_pages, const uint32_t *seqs, const bool *used)
{
    for (size_t i = 0; i < npages; i++) {
        for (size_t j = 0; used[i] && j < i; j++)
            if (used[j] && seqs[j] == seqs[i]) {
                report(c, ESIM_NVS_WARNING, (int)i, -1, "page %zu: sequence number %u is also page %zu's", i,
                       (unsigned)seqs[i], j);
                break;
            }
    }
    if (npages && free_pages == 0)
        report(c, ESIM_NVS_ERROR, -1, -1, "no free page: ESP-IDF needs one and refuses to mount the partition "
               "writable (ESP_ERR_NVS_NO_FREE_PAGES)");
}

/* The page ESP-IDF lists last: the highest sequence number, the later
 * position of two with the same. */
static int newest_page(size_t npages, const uint32_t *seqs, const bool *used)
{
    int newest = -1;
    for (size_t i = 0; i < npages; i++)
        if (used[i] && (newest < 0 || seqs[i] >= seqs[newest]))
            newest = (int)i;
    return newest;
}

static void check_geometry(checker *c, size_t len)
{
    if (len % PAGE)
        report(c, ESIM_NVS_ERROR, -1, -1, "the image is %zu bytes, not a multiple of 4096: its last %zu bytes are not "
               "a page", len, len % PAGE);
    if (len / PAGE < 3)
        report(c, ESIM_NVS_ERROR, -1, -1, "%zu whole page(s): a writable NVS partition needs at least 3 (0x3000 bytes)",
               len / PAGE);
}

esp_err_t esim_nvs_check(const uint8_t *image, size_t len, esim_nvs_problem_fn fn, void *ctx,
                         esim_nvs_check_result *out)
{
    esim_nvs_check_result res = {0};
    checker c = {.fn = fn, .ctx = ctx, .res = &res};
    size_t npages = len / PAGE;
    esim_nvs_raw_page *p = malloc(sizeof *p);
    uint32_t *seqs = malloc((npages ? npages : 1) * sizeof *seqs);
    bool *used = calloc(npages ? npages : 1, sizeof *used);
    esp_err_t err = p && seqs && used ? ESP_OK : ESP_ERR_NO_MEM;
    if (!err) {
        check_geometry(&c, len);
        size_t free_pages = 0;
        for (size_t i = 0; i < npages && !c.oom; i++) {
            bool is_free = check_page(&c, (int)i, image + i * PAGE, p);
            free_pages += is_free;
            used[i] = !is_free;
            seqs[i] = p->header.seqno;
        }
        check_pages(&c, npages, free_pages, seqs, used);
        c.newest = newest_page(npages, seqs, used);
        if (!c.oom)
            check_across(&c);
        res.pages = npages;
        err = c.oom ? ESP_ERR_NO_MEM : ESP_OK;
    }
    free(c.items);
    free(p);
    free(seqs);
    free(used);
    if (out)
        *out = res;
    return err;
}
