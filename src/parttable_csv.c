/* esp32sim — the CSV partition table dialect of gen_esp32part.py.
 *
 * Reading: one partition per line, "Name, Type, SubType, Offset, Size,
 * Flags"; comment and blank lines skipped; blank offsets placed after the
 * previous partition; "-X" sizes meaning "up to X". Writing: the canonical
 * text the tool prints for a binary table. docs/partition-table.md has the
 * full rules. */
#include "esp32sim/parttable.h"
#include "parttable_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FIRST_FREE       (ESIM_PTABLE_OFFSET + 0x1000u)  /* 0x9000 */
#define PTABLE_SECTOR    0x1000u
#define BOOTLOADER_AT    0x1000u    /* ESP32 primary bootloader offset */
#define APP_ALIGN        0x10000u
#define DATA_ALIGN       0x1000u
#define NUMBER_LIMIT     (1ull << 52)  /* far beyond any 32-bit field */
#define SUBTYPE_PRIMARY  0x00
#define SUBTYPE_UNDEFINED 0x06

/* ---- errors ------------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static esp_err_t fail(esim_ptable_error *err, int line, const char *fmt, ...)
{
    if (!err)
        return ESP_ERR_INVALID_ARG;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(err->message, sizeof err->message, "Error at line %d: %s", line, what);
    else
        snprintf(err->message, sizeof err->message, "%s", what);
    err->line = line;
    return ESP_ERR_INVALID_ARG;
}

/* ---- text spans ---------------------------------------------------------- */

typedef struct {
    const char *p;
    size_t n;
} span;

static bool is_space(char c)
{
    /* what Python's str.strip() removes, ASCII part */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
        || (c >= 0x1C && c <= 0x1F);
}

static span strip(span s)
{
    while (s.n && is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool equals_nocase(span s, const char *word)
{
    size_t n = strlen(word);
    if (n != s.n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s.p[i]) != word[i])
            return false;
    return true;
}

static bool equals(span s, const char *word)
{
    return strlen(word) == s.n && memcmp(s.p, word, s.n) == 0;
}

/* Python's str.splitlines() breaks (ASCII part): \n, \r, \r\n, \v, \f, \x1c-\x1e. */
static bool is_line_break(char c)
{
    return c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1C && c <= 0x1E);
}

/* Cut the next line off *rest; false at the end of the text. */
static bool next_line(span *rest, span *line)
{
    if (rest->n == 0)
        return false;
    size_t i = 0;
    while (i < rest->n && !is_line_break(rest->p[i]))
        i++;
    *line = (span){ rest->p, i };
    if (i < rest->n && rest->p[i] == '\r' && i + 1 < rest->n && rest->p[i + 1] == '\n')
        i++;
    if (i < rest->n)
        i++;
    rest->p += i;
    rest->n -= i;
    return true;
}

/* Cut the next comma-separated field off *rest (always succeeds; a missing
 * field is empty, as the tool pads every line with commas). */
static span next_field(span *rest)
{
    size_t i = 0;
    while (i < rest->n && rest->p[i] != ',')
        i++;
    span f = { rest->p, i };
    if (i < rest->n)
        i++;
    rest->p += i;
    rest->n -= i;
    return strip(f);
}

/* ---- numbers: int(x, 0) with K/M suffixes ------------------------------------- */

typedef struct {
    bool negative;
    uint64_t magnitude;
} number;

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    return 99;
}

static unsigned base_of(span *s)
{
    if (s->n >= 2 && s->p[0] == '0') {
        char c = lower(s->p[1]);
        unsigned base = c == 'x' ? 16 : c == 'o' ? 8 : c == 'b' ? 2 : 0;
        if (base) {
            s->p += 2;
            s->n -= 2;
            /* one underscore may follow the prefix */
            if (s->n && s->p[0] == '_') {
                s->p++;
                s->n--;
            }
            return base;
        }
    }
    return 10;
}

/* Digits with single underscores between them; false when malformed. */
static bool parse_digits(span s, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    bool digit_before = false;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] == '_') {
            if (!digit_before || i + 1 == s.n)
                return false;
            digit_before = false;
            continue;
        }
        int d = digit_value(s.p[i]);
        if (d >= (int)base)
            return false;
        v = v * base + (unsigned)d;
        if (v > NUMBER_LIMIT)
            return false;
        digit_before = true;
    }
    *out = v;
    return digit_before;
}

static bool all_zero_digits(span s)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] != '0' && s.p[i] != '_')
            return false;
    return true;
}

/* Python's int(text, 0). */
static bool parse_plain_int(span s, number *out)
{
    s = strip(s);
    out->negative = false;
    if (s.n && (s.p[0] == '+' || s.p[0] == '-')) {
        out->negative = s.p[0] == '-';
        s.p++;
        s.n--;
    }
    unsigned base = base_of(&s);
    /* decimal with a leading zero is only allowed for zero itself */
    if (base == 10 && s.n > 1 && s.p[0] == '0' && !all_zero_digits(s))
        return false;
    return parse_digits(s, base, &out->magnitude);
}

/* Numbers as the tool reads them: a trailing k/K (x1024) or m/M (x1048576),
 * possibly repeated, then int(x, 0). */
static bool parse_number(span s, number *out)
{
    if (s.n == 0)
        return false;
    char last = lower(s.p[s.n - 1]);
    uint64_t scale = last == 'k' ? 1024u : last == 'm' ? 1024u * 1024u : 0;
    if (!scale)
        return parse_plain_int(s, out);
    if (!parse_number((span){ s.p, s.n - 1 }, out))
        return false;
    if (out->magnitude > NUMBER_LIMIT / scale)
        return false;
    out->magnitude *= scale;
    return true;
}

/* ---- fields ------------------------------------------------------------------- */

typedef struct {
    esim_part_entry e;
    bool auto_offset;
    bool size_up_to;       /* size field was -X: size = X - offset */
    uint64_t size_limit;   /* X */
    int line;
} csv_row;

static bool is_fixed_pseudo(uint8_t type, uint8_t subtype)
{
    return (type == ESIM_PART_TYPE_BOOTLOADER || type == ESIM_PART_TYPE_PTABLE)
        && subtype == SUBTYPE_PRIMARY;
}

/* A keyword (case-insensitive) from `names`, else a number in 0..255. */
static esp_err_t parse_byte(span s, int type, const char *what, int line,
                            uint8_t *out, esim_ptable_error *err)
{
    for (unsigned v = 0; v < 256; v++) {
        const char *name = type < 0 ? esim_ptable_type_name((uint8_t)v)
                                    : esim_ptable_subtype_name((uint8_t)type, (uint8_t)v);
        if (name && equals_nocase(s, name)) {
            *out = (uint8_t)v;
            return ESP_OK;
        }
    }
    number n;
    if (!parse_number(s, &n))
        return fail(err, line, "%s '%.*s' is neither a known keyword nor a number",
                    what, (int)s.n, s.p);
    if (n.negative || n.magnitude > 0xFF)
        return fail(err, line, "%s '%.*s' is out of range (0..255)", what, (int)s.n, s.p);
    *out = (uint8_t)n.magnitude;
    return ESP_OK;
}

/* The tool's parse_int also tries the k/m suffix on keywords ("0k"); only
 * whole keywords make sense here, so a suffixed keyword is a number error. */
static esp_err_t parse_type(span s, int line, csv_row *r, esim_ptable_error *err)
{
    if (s.n == 0)
        return fail(err, line, "the type field can't be empty");
    return parse_byte(s, -1, "type", line, &r->e.type, err);
}

static esp_err_t parse_subtype(span s, int line, csv_row *r, esim_ptable_error *err)
{
    if (s.n == 0) {
        if (r->e.type == ESIM_PART_TYPE_APP)
            return fail(err, line, "an app partition cannot have an empty subtype");
        r->e.subtype = SUBTYPE_UNDEFINED;
        return ESP_OK;
    }
    return parse_byte(s, r->e.type, "subtype", line, &r->e.subtype, err);
}

static esp_err_t parse_u32(span s, const char *what, int line, number *n, esim_ptable_error *err)
{
    if (!parse_number(s, n))
        return fail(err, line, "%s '%.*s' is not a number (decimal or 0x hex, optional K/M suffix)",
                    what, (int)s.n, s.p);
    if (n->magnitude > UINT32_MAX)
        return fail(err, line, "%s '%.*s' does not fit in 32 bits", what, (int)s.n, s.p);
    return ESP_OK;
}

static esp_err_t parse_offset(span s, int line, csv_row *r, esim_ptable_error *err)
{
    if (r->e.type == ESIM_PART_TYPE_BOOTLOADER && r->e.subtype == SUBTYPE_PRIMARY) {
        r->e.offset = BOOTLOADER_AT;
        return ESP_OK;
    }
    if (r->e.type == ESIM_PART_TYPE_PTABLE && r->e.subtype == SUBTYPE_PRIMARY) {
        r->e.offset = ESIM_PTABLE_OFFSET;
        return ESP_OK;
    }
    if (s.n == 0) {
        r->auto_offset = true;
        return ESP_OK;
    }
    number n;
    esp_err_t rc = parse_u32(s, "offset", line, &n, err);
    if (rc)
        return rc;
    if (n.negative && n.magnitude)
        return fail(err, line, "offset '%.*s' is negative", (int)s.n, s.p);
    r->e.offset = (uint32_t)n.magnitude;
    return ESP_OK;
}

static esp_err_t parse_size(span s, int line, csv_row *r, esim_ptable_error *err)
{
    /* the tool sizes the pseudo-entries itself and ignores the field */
    if (r->e.type == ESIM_PART_TYPE_BOOTLOADER) {
        r->e.size = ESIM_PTABLE_OFFSET - BOOTLOADER_AT;
        return ESP_OK;
    }
    if (r->e.type == ESIM_PART_TYPE_PTABLE) {
        r->e.size = PTABLE_SECTOR;
        return ESP_OK;
    }
    if (s.n == 0)
        return fail(err, line, "the size field can't be empty");
    number n;
    esp_err_t rc = parse_u32(s, "size", line, &n, err);
    if (rc)
        return rc;
    r->size_up_to = n.negative && n.magnitude;
    r->size_limit = n.magnitude;
    r->e.size = r->size_up_to ? 0 : (uint32_t)n.magnitude;
    return ESP_OK;
}

/* Colon-separated, compared exactly (no stripping, case-sensitive). */
static esp_err_t parse_flags(span s, int line, csv_row *r, esim_ptable_error *err)
{
    while (s.n) {
        size_t i = 0;
        while (i < s.n && s.p[i] != ':')
            i++;
        span flag = { s.p, i };
        if (equals(flag, "encrypted"))
            r->e.flags |= ESIM_PART_FLAG_ENCRYPTED;
        else if (equals(flag, "readonly"))
            r->e.flags |= ESIM_PART_FLAG_READONLY;
        else if (flag.n)
            return fail(err, line, "unknown flag '%.*s' (known: encrypted, readonly)",
                        (int)flag.n, flag.p);
        s.p += i < s.n ? i + 1 : i;
        s.n -= i < s.n ? i + 1 : i;
    }
    return ESP_OK;
}

static esp_err_t parse_name(span s, int line, csv_row *r, esim_ptable_error *err)
{
    if (s.n > ESIM_PTABLE_LABEL_MAX)
        return fail(err, line, "name '%.*s' is longer than %u characters",
                    (int)s.n, s.p, ESIM_PTABLE_LABEL_MAX);
    memcpy(r->e.label, s.p, s.n);
    return ESP_OK;
}

/* A '$' that os.path.expandvars would try to expand ($NAME or ${...}). */
static const char *find_variable(span line)
{
    for (size_t i = 0; i + 1 < line.n; i++) {
        char c = line.p[i + 1];
        if (line.p[i] == '$' && (c == '{' || c == '_' || (lower(c) >= 'a' && lower(c) <= 'z')))
            return line.p + i;
    }
    return NULL;
}

static esp_err_t parse_row(span line, int line_no, csv_row *r, esim_ptable_error *err)
{
    memset(r, 0, sizeof *r);
    r->line = line_no;
    const char *var = find_variable(line);
    if (var)
        return fail(err, line_no, "'%.*s': environment variables ($NAME) are not expanded; "
                    "write the value itself", (int)(line.n - (size_t)(var - line.p)), var);
    span rest = line;
    span name = next_field(&rest);
    span type = next_field(&rest);
    span subtype = next_field(&rest);
    span offset = next_field(&rest);
    span size = next_field(&rest);
    span flags = next_field(&rest);   /* anything after a sixth comma is ignored */
    esp_err_t rc = parse_name(name, line_no, r, err);
    if (!rc)
        rc = parse_type(type, line_no, r, err);
    if (!rc)
        rc = parse_subtype(subtype, line_no, r, err);
    if (!rc)
        rc = parse_offset(offset, line_no, r, err);
    if (!rc)
        rc = parse_size(size, line_no, r, err);
    if (!rc)
        rc = parse_flags(flags, line_no, r, err);
    return rc;
}

/* ---- offsets: the tool's fix-up pass ---------------------------------------- */

static esp_err_t place_row(csv_row *r, bool first, uint64_t *last_end, esim_ptable_error *err)
{
    if (is_fixed_pseudo(r->e.type, r->e.subtype))
        return ESP_OK;   /* they keep their fixed place and do not move last_end */
    if (!r->auto_offset && r->e.offset < *last_end) {
        if (first)
            return fail(err, r->line, "partitions overlap: offset 0x%x is inside the partition "
                        "table sector at 0x%x; use 0x%x or higher",
                        (unsigned)r->e.offset, ESIM_PTABLE_OFFSET, FIRST_FREE);
        return fail(err, r->line, "partitions overlap: offset 0x%x is below the end of the "
                    "previous partition, 0x%llx",
                    (unsigned)r->e.offset, (unsigned long long)*last_end);
    }
    if (r->auto_offset) {
        uint64_t align = r->e.type == ESIM_PART_TYPE_APP ? APP_ALIGN : DATA_ALIGN;
        uint64_t at = (*last_end + align - 1) / align * align;
        if (at > UINT32_MAX)
            return fail(err, r->line, "no room for an automatic offset: the previous partition "
                        "ends at 0x%llx", (unsigned long long)*last_end);
        r->e.offset = (uint32_t)at;
    }
    if (r->size_up_to) {
        if (r->size_limit < r->e.offset)
            return fail(err, r->line, "size -0x%llx means 'up to 0x%llx', which is below "
                        "the offset 0x%x", (unsigned long long)r->size_limit,
                        (unsigned long long)r->size_limit, (unsigned)r->e.offset);
        r->e.size = (uint32_t)(r->size_limit - r->e.offset);
    }
    *last_end = (uint64_t)r->e.offset + r->e.size;
    return ESP_OK;
}

/* ---- the whole text -------------------------------------------------------------- */

static span skip_bom(const char *text, size_t len)
{
    static const char bom[] = "\xEF\xBB\xBF";
    if (len >= 3 && memcmp(text, bom, 3) == 0)
        return (span){ text + 3, len - 3 };
    return (span){ text, len };
}

static bool is_skipped(span line)
{
    return line.n == 0 || line.p[0] == '#';
}

static esp_err_t read_rows(const char *text, size_t len, csv_row *rows, size_t *count,
                           esim_ptable_error *err)
{
    if (!text && len)
        return fail(err, -1, "no CSV text");
    if (text && memchr(text, '\0', len))
        return fail(err, -1, "the CSV text contains a NUL byte");
    span rest = text ? skip_bom(text, len) : (span){ "", 0 };
    span line;
    int line_no = 0;
    while (next_line(&rest, &line)) {
        line_no++;
        line = strip(line);
        if (is_skipped(line))
            continue;
        if (*count >= ESIM_PTABLE_MAX_ENTRIES)
            return fail(err, line_no, "more than %u partitions", ESIM_PTABLE_MAX_ENTRIES);
        esp_err_t rc = parse_row(line, line_no, &rows[*count], err);
        if (rc)
            return rc;
        (*count)++;
    }
    return ESP_OK;
}

esp_err_t esim_ptable_parse_csv(const char *text, size_t len, esim_ptable *out, esim_ptable_error *err)
{
    if (err) {
        err->line = -1;
        err->message[0] = '\0';
    }
    out->count = 0;
    csv_row rows[ESIM_PTABLE_MAX_ENTRIES];
    size_t count = 0;
    esp_err_t rc = read_rows(text, len, rows, &count, err);
    if (rc)
        return rc;
    uint64_t last_end = FIRST_FREE;
    for (size_t i = 0; i < count; i++) {
        rc = place_row(&rows[i], i == 0, &last_end, err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < count; i++)
        out->entries[i] = rows[i].e;
    out->count = count;
    return ESP_OK;
}

/* ---- writing --------------------------------------------------------------------- */

typedef struct {
    char *out;
    size_t cap;
    size_t len;   /* length of the full text so far, even past cap */
} writer;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(writer *w, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    for (int i = 0; i < n && (size_t)i < sizeof tmp - 1; i++) {
        if (w->len + 1 < w->cap)
            w->out[w->len] = tmp[i];
        w->len++;
    }
}

static void put_bytes(writer *w, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (w->len + 1 < w->cap)
            w->out[w->len] = p[i];
        w->len++;
    }
}

static void put_keyword(writer *w, const char *name, uint8_t value)
{
    if (name)
        put(w, "%s", name);
    else
        put(w, "%u", (unsigned)value);
}

static void put_size(writer *w, uint32_t size)
{
    if (size % 0x100000u == 0)
        put(w, "%uM", (unsigned)(size / 0x100000u));
    else if (size % 0x400u == 0)
        put(w, "%uK", (unsigned)(size / 0x400u));
    else
        put(w, "0x%x", (unsigned)size);
}

static void put_flags(writer *w, uint32_t flags)
{
    const char *sep = "";
    if (flags & ESIM_PART_FLAG_ENCRYPTED) {
        put(w, "encrypted");
        sep = ":";
    }
    if (flags & ESIM_PART_FLAG_READONLY)
        put(w, "%sreadonly", sep);
}

static void put_entry(writer *w, const esim_part_entry *e)
{
    put_bytes(w, e->label, esim_label_len(e->label, ESIM_PTABLE_LABEL_MAX));
    put(w, ",");
    put_keyword(w, esim_ptable_type_name(e->type), e->type);
    put(w, ",");
    put_keyword(w, esim_ptable_subtype_name(e->type, e->subtype), e->subtype);
    put(w, ",0x%x,", (unsigned)e->offset);
    put_size(w, e->size);
    put(w, ",");
    put_flags(w, e->flags);
    put(w, "\n");
}

size_t esim_ptable_to_csv(const esim_ptable *table, char *out, size_t cap)
{
    writer w = { out, cap, 0 };
    put(&w, "# ESP-IDF Partition Table\n");
    put(&w, "# Name, Type, SubType, Offset, Size, Flags\n");
    size_t n = table->count < ESIM_PTABLE_MAX_ENTRIES ? table->count : ESIM_PTABLE_MAX_ENTRIES;
    for (size_t i = 0; i < n; i++)
        put_entry(&w, &table->entries[i]);
    if (cap)
        out[w.len < cap ? w.len : cap - 1] = '\0';
    return w.len;
}
