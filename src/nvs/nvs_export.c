/* esp32sim — an NVS image back to the generator's CSV (nvs_image.h,
 * docs/nvs-csv.md): the values ESP-IDF would read, in the order their
 * entries appear on flash, so that the generator rebuilds the same image. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/utf8.h"
#include "esp32sim/nvs_image.h"

#define PAGE ESIM_NVS_PAGE_SIZE
#define ENTRY ESIM_NVS_ENTRY_SIZE

/* A loadable written entry, in walk order. */
typedef struct {
    uint32_t order;
    const uint8_t *page;        /* its page's bytes */
    esim_nvs_raw_entry entry;
} found;

typedef struct {
    found *items;
    size_t count, cap;
    char *out;
    size_t len, cap_out;
    bool oom;
    esim_nvs_warn_fn warn;
    void *ctx;
} exporter;

/* ---- output ---- */

static void put(exporter *x, const char *s, size_t n)
{
    if (x->oom)
        return;
    if (x->len + n + 1 > x->cap_out) {
        size_t cap = x->cap_out ? x->cap_out : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *out = realloc(x->out, cap);
        if (!out) {
            x->oom = true;
            return;
        }
        x->out = out;
        x->cap_out = cap;
    }
    memcpy(x->out + x->len, s, n);
    x->len += n;
    x->out[x->len] = '\0';
}

static void puts_out(exporter *x, const char *s) { put(x, s, strlen(s)); }

/* A field, quoted when the csv module or the generator's comment filter
 * would otherwise misread it. */
static void field(exporter *x, const char *s, size_t n)
{
    bool quote = n && s[0] == '#';
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n';
    if (!quote) {
        put(x, s, n);
        return;
    }
    puts_out(x, "\"");
    for (size_t i = 0; i < n; i++) {
        put(x, s + i, 1);
        if (s[i] == '"')
            puts_out(x, "\"");   /* a quote inside quotes is doubled */
    }
    puts_out(x, "\"");
}

/* ---- text checks ---- */


/* Can the generator read these bytes back from a CSV field? */
static const char *csv_unsafe(const uint8_t *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k) {
        k = esim_utf8_seq_len(s + i, n - i);
        if (k == 0)
            return "is not UTF-8 text";
        if (s[i] == '\0')
            return "holds a NUL byte";
        if (s[i] == '\r')
            return "holds a carriage return, which the generator reads as a newline";
        if (s[i] == '\n' && i + 1 < n && s[i + 1] == '#')
            return "has a line starting with '#', which the generator drops as a comment";
    }
    return NULL;
}

/* A key or text for a comment and a warning: \xNN for anything odd. */
static const char *safe_text(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && s[i] && o + 5 < cap; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c >= 0x20 && c < 0x7F)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = '\0';
    return out;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void leave_out(exporter *x, const char *ns, const char key[ESIM_NVS_KEY_SIZE], const char *fmt, ...)
{
    char kt[68], what[200], line[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "namespace '%s', key '%s': %s; left out", ns, safe_text(key, ESIM_NVS_KEY_SIZE, kt,
             sizeof kt), what);
    puts_out(x, "# ");
    puts_out(x, line);
    puts_out(x, "\n");
    if (x->warn)
        x->warn(0, line, x->ctx);
}

/* ---- collecting entries ---- */

typedef struct {
    size_t position;
    uint32_t seq;
} page_ref;

static int cmp_pages(const void *a, const void *b)
{
    const page_ref *x = a, *y = b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->position < y->position ? -1 : x->position > y->position;
}

static bool page_in_use(const uint8_t *page)
{
    esim_nvs_page_header h;
    esim_nvs_header_decode(page, &h);
    bool state_ok = h.state == ESIM_NVS_PAGE_ACTIVE || h.state == ESIM_NVS_PAGE_FULL || h.state == ESIM_NVS_PAGE_FREEING;
    return state_ok && h.version >= ESIM_NVS_VERSION_2 && h.crc == esim_nvs_header_crc(page);
}

static void add_found(exporter *x, const uint8_t *page, const esim_nvs_raw_entry *e)
{
    if (x->count == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 256;
        found *items = realloc(x->items, cap * sizeof *items);
        if (!items) {
            x->oom = true;
            return;
        }
        x->items = items;
        x->cap = cap;
    }
    x->items[x->count] = (found){.order = (uint32_t)x->count, .page = page, .entry = *e};
    x->count++;
}

static esp_err_t collect(exporter *x, const uint8_t *image, size_t npages)
{
    page_ref *pages = malloc(npages * sizeof *pages);
    esim_nvs_raw_page *p = malloc(sizeof *p);
    size_t used = 0;
    if (!pages || !p) {
        free(pages);
        free(p);
        return ESP_ERR_NO_MEM;
    }
    for (size_t i = 0; i < npages; i++)
        if (page_in_use(image + i * PAGE)) {
            esim_nvs_page_header h;
            esim_nvs_header_decode(image + i * PAGE, &h);
            pages[used++] = (page_ref){.position = i, .seq = h.seqno};
        }
    qsort(pages, used, sizeof *pages, cmp_pages);
    for (size_t k = 0; k < used && !x->oom; k++) {
        const uint8_t *page = image + pages[k].position * PAGE;
        esim_nvs_raw_page_parse(page, (uint32_t)(pages[k].position * PAGE), p);
        for (size_t i = 0; i < p->count; i++)
            if (esim_nvs_raw_entry_ok(page, p, &p->entries[i], NULL, 0))
                add_found(x, page, &p->entries[i]);
    }
    free(pages);
    free(p);
    return x->oom ? ESP_ERR_NO_MEM : ESP_OK;
}

/* ---- values ---- */

static bool same_key(const esim_nvs_item *a, const esim_nvs_item *b)
{
    return a->ns_index == b->ns_index && memcmp(a->key, b->key, ESIM_NVS_KEY_SIZE) == 0;
}

static int cmp_by_key(const void *a, const void *b)
{
    const found *x = *(const found *const *)a, *y = *(const found *const *)b;
    if (x->entry.item.ns_index != y->entry.item.ns_index)
        return x->entry.item.ns_index < y->entry.item.ns_index ? -1 : 1;
    int k = memcmp(x->entry.item.key, y->entry.item.key, ESIM_NVS_KEY_SIZE);
    if (k)
        return k;
    return x->order < y->order ? -1 : x->order > y->order;
}

static const uint8_t *data_of(const found *f)
{
    return esim_nvs_raw_data(f->page, &f->entry, 0);
}

/* Entries of one namespace and key, in walk order. */
typedef struct {
    found *const *items;
    size_t count;
} key_group;

/* The chunk `want` of the group's blob, or NULL. */
static const found *find_chunk(const key_group *g, unsigned want)
{
    for (size_t i = 0; i < g->count; i++) {
        const found *c = g->items[i];
        if (c->entry.item.type == ESIM_NVS_TYPE_BLOB_DATA && c->entry.item.chunk_index == want)
            return c;
    }
    return NULL;
}

/* A blob index whose chunks are all there and add up; *first gets the
 * first chunk (where the blob starts on flash). */
static bool blob_complete(const key_group *g, const found *idx, const found **first)
{
    const esim_nvs_item *it = &idx->entry.item;
    unsigned count = esim_nvs_item_blob_chunk_count(it), start = esim_nvs_item_blob_chunk_start(it);
    uint64_t total = 0;
    if (count == 0 || start + count > 0x100)
        return false;
    for (unsigned n = 0; n < count; n++) {
        const found *c = find_chunk(g, start + n);
        if (!c)
            return false;
        if (n == 0)
            *first = c;
        total += esim_nvs_item_var_size(&c->entry.item);
    }
    return total == esim_nvs_item_blob_size(it);
}

/* A key's value: the newest complete value entry of (ns, key). */
typedef struct {
    const found *value;
    key_group group;
    uint32_t position;   /* where the value starts on flash, in walk order */
} chosen;

static bool is_value(const found *f)
{
    return f->entry.item.type != ESIM_NVS_TYPE_BLOB_DATA && f->entry.item.ns_index != 0;
}

static bool choose_value(const key_group *g, chosen *out)
{
    for (size_t i = g->count; i-- > 0;) {
        const found *f = g->items[i];
        const found *first = f;
        if (!is_value(f))
            continue;
        if (f->entry.item.type == ESIM_NVS_TYPE_BLOB_IDX && !blob_complete(g, f, &first))
            continue;
        *out = (chosen){.value = f, .group = *g, .position = first->order};
        return true;
    }
    return false;
}

static int cmp_chosen(const void *a, const void *b)
{
    const chosen *x = a, *y = b;
    return x->position < y->position ? -1 : x->position > y->position;
}

/* ---- rows ---- */

static void int_row(exporter *x, const esim_nvs_item *it)
{
    unsigned width = esim_nvs_int_width(it->type);
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)it->data[i] << (8 * i);
    if (esim_nvs_type_signed(it->type) && width < 8 && (v >> (8 * width - 1)) & 1)
        v |= ~UINT64_C(0) << (8 * width);
    char buf[48];
    if (esim_nvs_type_signed(it->type))
        snprintf(buf, sizeof buf, ",data,%s,%lld\n", esim_nvs_type_name(it->type), (long long)(int64_t)v);
    else
        snprintf(buf, sizeof buf, ",data,%s,%llu\n", esim_nvs_type_name(it->type), (unsigned long long)v);
    puts_out(x, buf);
}

static void hex_field(exporter *x, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char two[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        put(x, two, 2);
    }
}

static void string_row(exporter *x, const char *ns, const found *f)
{
    const esim_nvs_item *it = &f->entry.item;
    size_t size = esim_nvs_item_var_size(it);
    const uint8_t *s = data_of(f);
    const char *why = size == 0 || s[size - 1] != '\0' ? "has no terminating NUL" : csv_unsafe(s, size - 1);
    if (!why && size > ESIM_NVS_GEN_MAX_STRING)
        why = "is longer than the generator writes (3968 bytes with the NUL)";
    if (why) {
        leave_out(x, ns, it->key, "the string %s", why);
        return;
    }
    field(x, it->key, strlen(it->key));
    puts_out(x, ",data,string,");
    field(x, (const char *)s, size - 1);
    puts_out(x, "\n");
}

static bool blob_fits_csv(exporter *x, const char *ns, const esim_nvs_item *it, size_t size)
{
    if (2 * size <= ESIM_NVS_CSV_FIELD_MAX)
        return true;
    leave_out(x, ns, it->key, "the blob of %zu bytes is too long for the generator's CSV reader as hex", size);
    return false;
}

static void blob_row(exporter *x, const char *ns, const chosen *ch)
{
    const found *f = ch->value;
    const esim_nvs_item *it = &f->entry.item;
    bool legacy = it->type == ESIM_NVS_TYPE_BLOB;
    size_t size = legacy ? esim_nvs_item_var_size(it) : esim_nvs_item_blob_size(it);
    if (!blob_fits_csv(x, ns, it, size))
        return;
    field(x, it->key, strlen(it->key));
    puts_out(x, ",data,hex2bin,");
    if (legacy) {
        hex_field(x, data_of(f), size);
    } else {
        unsigned count = esim_nvs_item_blob_chunk_count(it), start = esim_nvs_item_blob_chunk_start(it);
        for (unsigned n = 0; n < count; n++) {
            const found *c = find_chunk(&ch->group, start + n);
            hex_field(x, data_of(c), esim_nvs_item_var_size(&c->entry.item));
        }
    }
    puts_out(x, "\n");
}

static void value_row(exporter *x, const char *ns, const chosen *ch)
{
    const found *f = ch->value;
    const esim_nvs_item *it = &f->entry.item;
    const char *why = csv_unsafe((const uint8_t *)it->key, strlen(it->key));
    if (why) {
        leave_out(x, ns, it->key, "the key %s", why);
        return;
    }
    if (esim_nvs_int_width(it->type)) {
        field(x, it->key, strlen(it->key));
        int_row(x, it);
    } else if (it->type == ESIM_NVS_TYPE_STR) {
        string_row(x, ns, f);
    } else {
        blob_row(x, ns, ch);
    }
}

/* The newest definition of each namespace index and name, in walk order. */
static size_t namespace_defs(const exporter *x, const found **defs)
{
    bool index_seen[256] = {false};
    size_t n = 0;
    for (size_t i = x->count; i-- > 0 && n < 256;) {
        const found *f = &x->items[i];
        const esim_nvs_item *it = &f->entry.item;
        if (it->ns_index != 0 || it->type != ESIM_NVS_TYPE_U8 || index_seen[it->data[0]])
            continue;
        bool name_seen = false;
        for (size_t d = 0; d < n && !name_seen; d++)
            name_seen = strcmp(defs[d]->entry.item.key, it->key) == 0;
        if (name_seen)
            continue;
        index_seen[it->data[0]] = true;
        defs[n++] = f;
    }
    for (size_t d = 0; d < n / 2; d++) {   /* back to walk order */
        const found *t = defs[d];
        defs[d] = defs[n - 1 - d];
        defs[n - 1 - d] = t;
    }
    return n;
}

static void namespace_rows(exporter *x, const found *def, chosen *keys, size_t nkeys)
{
    char name[ESIM_NVS_KEY_SIZE + 1];
    memcpy(name, def->entry.item.key, ESIM_NVS_KEY_SIZE);
    name[ESIM_NVS_KEY_SIZE] = '\0';
    const char *why = csv_unsafe((const uint8_t *)name, strlen(name));
    if (why) {
        for (size_t k = 0; k < nkeys; k++)
            if (keys[k].value->entry.item.ns_index == def->entry.item.data[0])
                leave_out(x, "?", keys[k].value->entry.item.key, "the namespace name %s", why);
        return;
    }
    field(x, name, strlen(name));
    puts_out(x, ",namespace,,\n");
    for (size_t k = 0; k < nkeys; k++)
        if (keys[k].value->entry.item.ns_index == def->entry.item.data[0])
            value_row(x, name, &keys[k]);
}

static void orphans(exporter *x, const found *const *defs, size_t ndefs, const chosen *keys, size_t nkeys)
{
    for (size_t k = 0; k < nkeys; k++) {
        uint8_t ns = keys[k].value->entry.item.ns_index;
        bool defined = false;
        for (size_t d = 0; d < ndefs && !defined; d++)
            defined = defs[d]->entry.item.data[0] == ns;
        if (!defined) {
            char label[8];
            snprintf(label, sizeof label, "#%u", ns);
            leave_out(x, label, keys[k].value->entry.item.key, "no namespace entry defines index %u", ns);
        }
    }
}

/* One chosen value per (namespace, key), ordered by where it starts. */
static size_t choose_values(exporter *x, found **by_key, chosen *keys)
{
    for (size_t i = 0; i < x->count; i++)
        by_key[i] = &x->items[i];
    qsort(by_key, x->count, sizeof *by_key, cmp_by_key);
    size_t nkeys = 0;
    for (size_t from = 0, to; from < x->count; from = to) {
        for (to = from + 1; to < x->count && same_key(&by_key[from]->entry.item, &by_key[to]->entry.item);)
            to++;
        key_group g = {by_key + from, to - from};
        if (by_key[from]->entry.item.ns_index != 0 && choose_value(&g, &keys[nkeys]))
            nkeys++;
    }
    qsort(keys, nkeys, sizeof *keys, cmp_chosen);
    return nkeys;
}

static esp_err_t write_rows(exporter *x)
{
    size_t n = x->count ? x->count : 1;
    const found **defs = malloc(256 * sizeof *defs);
    found **by_key = malloc(n * sizeof *by_key);
    chosen *keys = malloc(n * sizeof *keys);
    if (defs && by_key && keys) {
        size_t nkeys = choose_values(x, by_key, keys);
        size_t ndefs = namespace_defs(x, defs);
        puts_out(x, "key,type,encoding,value\n");
        for (size_t d = 0; d < ndefs; d++)
            namespace_rows(x, defs[d], keys, nkeys);
        orphans(x, defs, ndefs, keys, nkeys);
    } else {
        x->oom = true;
    }
    free(defs);
    free(by_key);
    free(keys);
    return x->oom ? ESP_ERR_NO_MEM : ESP_OK;
}

esp_err_t esim_nvs_export(const uint8_t *image, size_t len, esim_nvs_warn_fn warn, void *ctx,
                          char **csv, size_t *csv_len)
{
    *csv = NULL;
    if (csv_len)
        *csv_len = 0;
    if (len == 0 || len % PAGE)
        return ESP_ERR_INVALID_SIZE;
    exporter x = {.warn = warn, .ctx = ctx};
    esp_err_t err = collect(&x, image, len / PAGE);
    if (!err)
        err = write_rows(&x);
    free(x.items);
    if (err) {
        free(x.out);
        return err;
    }
    *csv = x.out;
    if (csv_len)
        *csv_len = x.len;
    return ESP_OK;
}
