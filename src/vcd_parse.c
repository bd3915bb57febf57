/* esp32sim — VCD text read as waveforms (vcd.h, docs/vcd.md). The input is
 * untrusted: every count is bounded and every error names its line. */
#include "esp32sim/vcd.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCOPE_DEPTH 64
#define MAX_TOKEN_SHOWN 40
#define NO_SIGNAL SIZE_MAX   /* an id of a skipped variable */

typedef struct {
    const char *s;
    size_t n;
    size_t line;
} token;

typedef struct {
    const char *s;    /* points into the input */
    size_t n;
    size_t signal;    /* index into the wave's signals, or NO_SIGNAL */
} id_entry;

typedef struct {
    const char *p, *end;
    size_t line;
    char *why;
    size_t why_len;
    esim_vcd_wave *wave;
    size_t signal_cap;
    id_entry *ids;
    size_t id_count;
    token scopes[MAX_SCOPE_DEPTH];
    size_t depth;
    bool have_timescale;
    uint64_t now;
    size_t change_total;
} parser;

/* ---- messages ---- */

static esp_err_t fail(parser *ps, esp_err_t err, size_t line, const char *fmt, ...)
{
    if (ps->why == NULL || ps->why_len == 0)
        return err;
    int n = snprintf(ps->why, ps->why_len, "line %zu: ", line);
    if (n >= 0 && (size_t)n < ps->why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->why + n, ps->why_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* A token as a message shows it: printable ASCII, cut short. */
static const char *shown(const token *t, char *buf, size_t cap)
{
    size_t n = t->n < MAX_TOKEN_SHOWN ? t->n : MAX_TOKEN_SHOWN;
    if (n + 4 > cap)
        n = cap - 4;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t->s[i];
        buf[i] = c >= 32 && c < 127 ? (char)c : '?';
    }
    strcpy(buf + n, t->n > n ? "..." : "");
    return buf;
}

/* ---- tokens ---- */

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The next whitespace-separated token; false at the end of the input or
 * on a NUL byte (then *err is set). */
static bool next_token(parser *ps, token *t, esp_err_t *err)
{
    *err = ESP_OK;
    while (ps->p < ps->end && is_space((unsigned char)*ps->p))
        if (*ps->p++ == '\n')
            ps->line++;
    if (ps->p == ps->end)
        return false;
    t->s = ps->p;
    t->line = ps->line;
    while (ps->p < ps->end && !is_space((unsigned char)*ps->p)) {
        if (*ps->p == '\0') {
            *err = fail(ps, ESP_ERR_INVALID_ARG, ps->line, "a NUL byte: not VCD text");
            return false;
        }
        ps->p++;
    }
    t->n = (size_t)(ps->p - t->s);
    return true;
}

static bool is_word(const token *t, const char *word)
{
    return t->n == strlen(word) && memcmp(t->s, word, t->n) == 0;
}

/* Tokens up to "$end"; `keyword` is the block's first token. */
static esp_err_t skip_block(parser *ps, const token *keyword)
{
    token t;
    esp_err_t err;
    while (next_token(ps, &t, &err))
        if (is_word(&t, "$end"))
            return ESP_OK;
    if (err)
        return err;
    char buf[64];
    return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "%s is not closed by $end", shown(keyword, buf, sizeof buf));
}

/* The next token inside a block; reaching the end is an error. */
static esp_err_t block_token(parser *ps, const token *keyword, token *t)
{
    esp_err_t err;
    if (next_token(ps, t, &err))
        return ESP_OK;
    if (err)
        return err;
    char buf[64];
    return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "%s is not closed by $end", shown(keyword, buf, sizeof buf));
}

/* ---- $timescale ---- */

static bool parse_timescale_text(const char *s, size_t n, uint64_t *unit_fs)
{
    static const struct {
        const char *name;
        uint64_t fs;
    } units[] = {{"s", UINT64_C(1000000000000000)}, {"ms", UINT64_C(1000000000000)}, {"us", UINT64_C(1000000000)},
                 {"ns", UINT64_C(1000000)},         {"ps", UINT64_C(1000)},          {"fs", 1}};
    uint64_t number = 0;
    size_t i = 0;
    while (i < n && i < 3 && s[i] >= '0' && s[i] <= '9')
        number = number * 10 + (uint64_t)(s[i++] - '0');
    if (number != 1 && number != 10 && number != 100)
        return false;
    if (s[0] == '0')
        return false;
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
        if (n - i == strlen(units[k].name) && memcmp(s + i, units[k].name, n - i) == 0) {
            *unit_fs = number * units[k].fs;
            return true;
        }
    return false;
}

static esp_err_t parse_timescale(parser *ps, const token *keyword)
{
    char text[16];
    size_t len = 0;
    bool too_long = false;
    token t;
    for (;;) {
        esp_err_t err = block_token(ps, keyword, &t);
        if (err)
            return err;
        if (is_word(&t, "$end"))
            break;
        if (len + t.n >= sizeof text)
            too_long = true;
        else
            memcpy(text + len, t.s, t.n), len += t.n;
    }
    if (ps->have_timescale)
        return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "a second $timescale");
    if (too_long || !parse_timescale_text(text, len, &ps->wave->unit_fs)) {
        token whole = {text, too_long ? sizeof text - 1 : len, keyword->line};
        char buf[64];
        return fail(ps, ESP_ERR_INVALID_ARG, keyword->line,
                    "bad $timescale '%s' (1, 10 or 100 then s, ms, us, ns, ps or fs)", shown(&whole, buf, sizeof buf));
    }
    ps->have_timescale = true;
    return ESP_OK;
}

/* ---- $scope / $upscope ---- */

static esp_err_t parse_scope(parser *ps, const token *keyword)
{
    token t[3];
    for (size_t i = 0; i < 3; i++) {
        esp_err_t err = block_token(ps, keyword, &t[i]);
        if (err)
            return err;
        if (is_word(&t[i], "$end") != (i == 2))
            return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "$scope needs a type and a name, then $end");
    }
    token name = t[1];
    if (ps->depth == MAX_SCOPE_DEPTH)
        return fail(ps, ESP_ERR_INVALID_SIZE, keyword->line, "scopes nested deeper than %d", MAX_SCOPE_DEPTH);
    ps->scopes[ps->depth++] = name;
    return ESP_OK;
}

static esp_err_t parse_upscope(parser *ps, const token *keyword)
{
    token end;
    esp_err_t err = block_token(ps, keyword, &end);
    if (err)
        return err;
    if (!is_word(&end, "$end"))
        return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "$upscope takes nothing before $end");
    if (ps->depth == 0)
        return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "$upscope without a $scope");
    ps->depth--;
    return ESP_OK;
}

/* ---- $var ---- */

static bool one_bit_type(const token *t)
{
    static const char *const types[] = {"wire", "reg",  "tri",     "tri0",    "tri1",  "triand", "trior",
                                        "trireg", "wand", "wor", "supply0", "supply1", "uwire", "logic", "bit"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (is_word(t, types[i]))
            return true;
    return false;
}

static bool parse_size(const token *t, uint64_t *size)
{
    *size = 0;
    if (t->n == 0 || t->n > 9)
        return false;
    for (size_t i = 0; i < t->n; i++) {
        if (t->s[i] < '0' || t->s[i] > '9')
            return false;
        *size = *size * 10 + (uint64_t)(t->s[i] - '0');
    }
    return *size > 0;
}

static bool valid_id(const token *t)
{
    for (size_t i = 0; i < t->n; i++)
        if ((unsigned char)t->s[i] < 33 || (unsigned char)t->s[i] > 126)
            return false;
    return t->n > 0;
}

static const id_entry *find_id_linear(const parser *ps, const token *id)
{
    for (size_t i = 0; i < ps->id_count; i++)
        if (ps->ids[i].n == id->n && memcmp(ps->ids[i].s, id->s, id->n) == 0)
            return &ps->ids[i];
    return NULL;
}

/* append `s` to the name being built; false when too long */
static bool name_add(char *name, size_t *len, const char *s, size_t n)
{
    if (*len + n > ESIM_VCD_MAX_NAME)
        return false;
    memcpy(name + *len, s, n);
    *len += n;
    name[*len] = '\0';
    return true;
}

/* The flattened name: scopes below the outermost, joined with '.', then the
 * reference tokens (a name and an optional bit-select). */
static esp_err_t build_name(parser *ps, const token *ref, size_t nref, size_t line, char **out)
{
    char name[ESIM_VCD_MAX_NAME + 1];
    size_t len = 0;
    bool fits = true;
    name[0] = '\0';
    for (size_t i = 1; i < ps->depth && fits; i++)
        fits = name_add(name, &len, ps->scopes[i].s, ps->scopes[i].n) && name_add(name, &len, ".", 1);
    for (size_t i = 0; i < nref && fits; i++)
        fits = name_add(name, &len, ref[i].s, ref[i].n);
    if (!fits)
        return fail(ps, ESP_ERR_INVALID_SIZE, line, "a variable name longer than %u bytes", ESIM_VCD_MAX_NAME);
    *out = malloc(len + 1);
    if (*out == NULL)
        return ESP_ERR_NO_MEM;
    memcpy(*out, name, len + 1);
    return ESP_OK;
}

static esp_err_t add_signal(parser *ps, char *name, size_t *index)
{
    esim_vcd_wave *w = ps->wave;
    if (w->signal_count == ps->signal_cap) {
        size_t cap = ps->signal_cap ? ps->signal_cap * 2 : 16;
        esim_vcd_signal *s = realloc(w->signals, cap * sizeof *s);
        if (s == NULL) {
            free(name);
            return ESP_ERR_NO_MEM;
        }
        w->signals = s;
        ps->signal_cap = cap;
    }
    *index = w->signal_count;
    w->signals[w->signal_count++] = (esim_vcd_signal){name, 0, NULL};
    return ESP_OK;
}

/* Read "$var TYPE SIZE ID REF [SELECT] $end" into its tokens. */
static esp_err_t var_tokens(parser *ps, const token *keyword, token *tok, size_t *n)
{
    *n = 0;
    for (;;) {
        token t;
        esp_err_t err = block_token(ps, keyword, &t);
        if (err)
            return err;
        if (is_word(&t, "$end"))
            break;
        if (*n == 5)
            return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "$var has more than a type, size, id, name and bit-select");
        tok[(*n)++] = t;
    }
    if (*n < 4)
        return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "$var needs a type, a size, an id and a name");
    return ESP_OK;
}

static esp_err_t parse_var(parser *ps, const token *keyword)
{
    token tok[5];
    size_t n;
    esp_err_t err = var_tokens(ps, keyword, tok, &n);
    if (err)
        return err;
    uint64_t size;
    char buf[64];
    if (!parse_size(&tok[1], &size))
        return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "$var size '%s' is not a number of bits", shown(&tok[1], buf, sizeof buf));
    if (!valid_id(&tok[2]))
        return fail(ps, ESP_ERR_INVALID_ARG, keyword->line, "$var id '%s' is not printable ASCII", shown(&tok[2], buf, sizeof buf));
    if (ps->id_count == ESIM_VCD_MAX_SIGNALS)
        return fail(ps, ESP_ERR_INVALID_SIZE, keyword->line, "more than %u variables", ESIM_VCD_MAX_SIGNALS);
    if (find_id_linear(ps, &tok[2]) != NULL)
        return ESP_OK;   /* another name for a variable already declared: the first name is kept */
    size_t index = NO_SIGNAL;
    if (size == 1 && one_bit_type(&tok[0])) {
        char *name = NULL;
        err = build_name(ps, &tok[3], n - 3, keyword->line, &name);
        if (!err)
            err = add_signal(ps, name, &index);
        if (err)
            return err;
    }
    ps->ids[ps->id_count++] = (id_entry){tok[2].s, tok[2].n, index};
    return ESP_OK;
}

/* ---- the header ---- */

static int compare_ids(const void *a, const void *b)
{
    const id_entry *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return memcmp(x->s, y->s, x->n);
}

static esp_err_t header_keyword(parser *ps, const token *t, bool *done)
{
    if (is_word(t, "$timescale"))
        return parse_timescale(ps, t);
    if (is_word(t, "$scope"))
        return parse_scope(ps, t);
    if (is_word(t, "$upscope"))
        return parse_upscope(ps, t);
    if (is_word(t, "$var"))
        return parse_var(ps, t);
    if (is_word(t, "$enddefinitions")) {
        *done = true;
        return skip_block(ps, t);
    }
    char buf[64];
    if (is_word(t, "$end") || t->s[0] != '$' || t->n < 2)
        return fail(ps, ESP_ERR_INVALID_ARG, t->line, "'%s' outside a $keyword block", shown(t, buf, sizeof buf));
    return skip_block(ps, t);   /* $date, $version, $comment and others */
}

static esp_err_t parse_header(parser *ps)
{
    bool done = false;
    token t;
    esp_err_t err;
    while (!done && next_token(ps, &t, &err)) {
        err = header_keyword(ps, &t, &done);
        if (err)
            return err;
    }
    if (err)
        return err;
    if (!done)
        return fail(ps, ESP_ERR_INVALID_ARG, ps->line, "no $enddefinitions: not a VCD file");
    if (!ps->have_timescale)
        return fail(ps, ESP_ERR_INVALID_ARG, ps->line, "no $timescale before $enddefinitions");
    if (ps->id_count > 1)
        qsort(ps->ids, ps->id_count, sizeof ps->ids[0], compare_ids);
    return ESP_OK;
}

/* ---- the body ---- */

static const id_entry *find_id(const parser *ps, const char *s, size_t n)
{
    id_entry key = {s, n, 0};
    return bsearch(&key, ps->ids, ps->id_count, sizeof key, compare_ids);
}

static int level_of(char c)
{
    switch (c) {
    case '0': return 0;
    case '1': return 1;
    case 'z': case 'Z': return ESIM_LEVEL_FLOATING;
    case 'x': case 'X': return ESIM_VCD_LEVEL_X;
    default: return 2;
    }
}

static esp_err_t append_change(parser *ps, esim_vcd_signal *sig, int8_t level, size_t line)
{
    if (ps->change_total == ESIM_VCD_MAX_CHANGES)
        return fail(ps, ESP_ERR_INVALID_SIZE, line, "more than %u value changes", ESIM_VCD_MAX_CHANGES);
    /* the array holds 8 changes, then the next power of 2 above count:
     * full at 0 and at every power of 2 from 8 */
    size_t n = sig->count;
    if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) {
        esim_vcd_change *c = realloc(sig->changes, (n == 0 ? 8 : 2 * n) * sizeof *c);
        if (c == NULL)
            return ESP_ERR_NO_MEM;
        sig->changes = c;
    }
    sig->changes[sig->count++] = (esim_vcd_change){ps->now, level};
    ps->change_total++;
    return ESP_OK;
}

/* One value at the current time: the last value at an instant wins, and
 * a value equal to the level before it is no change. */
static esp_err_t set_value(parser *ps, esim_vcd_signal *sig, int8_t level, size_t line)
{
    size_t n = sig->count;
    if (n > 0 && sig->changes[n - 1].t == ps->now) {
        int8_t before = n > 1 ? sig->changes[n - 2].level : ESIM_VCD_LEVEL_X;
        sig->changes[n - 1].level = level;
        if (before == level) {
            sig->count--;
            ps->change_total--;
        }
        return ESP_OK;
    }
    int8_t before = n > 0 ? sig->changes[n - 1].level : ESIM_VCD_LEVEL_X;
    return before == level ? ESP_OK : append_change(ps, sig, level, line);
}

static esp_err_t unknown_id(parser *ps, const token *id)
{
    char buf[64];
    return fail(ps, ESP_ERR_INVALID_ARG, id->line, "value change for unknown id '%s'", shown(id, buf, sizeof buf));
}

static esp_err_t scalar_change(parser *ps, const token *t)
{
    if (t->n < 2) {
        char buf[64];
        return fail(ps, ESP_ERR_INVALID_ARG, t->line, "value '%s' without an id", shown(t, buf, sizeof buf));
    }
    token id = {t->s + 1, t->n - 1, t->line};
    const id_entry *e = find_id(ps, id.s, id.n);
    if (e == NULL)
        return unknown_id(ps, &id);
    if (e->signal == NO_SIGNAL)
        return ESP_OK;   /* an event or another skipped variable */
    return set_value(ps, &ps->wave->signals[e->signal], (int8_t)level_of(t->s[0]), t->line);
}

/* "bVALUE ID" or "rVALUE ID" (or "s..."): skipped variables, or a 1-bit
 * signal given as a vector (its last bit counts). */
static esp_err_t vector_change(parser *ps, const token *t)
{
    token id;
    esp_err_t err;
    char buf[64];
    if (!next_token(ps, &id, &err))
        return err ? err : fail(ps, ESP_ERR_INVALID_ARG, t->line, "value '%s' without an id", shown(t, buf, sizeof buf));
    const id_entry *e = find_id(ps, id.s, id.n);
    if (e == NULL)
        return unknown_id(ps, &id);
    bool binary = t->s[0] == 'b' || t->s[0] == 'B';
    if (binary)
        for (size_t i = 1; i < t->n; i++)
            if (level_of(t->s[i]) == 2)
                return fail(ps, ESP_ERR_INVALID_ARG, t->line, "'%s' is not a binary value", shown(t, buf, sizeof buf));
    if (e->signal == NO_SIGNAL)
        return ESP_OK;
    if (!binary || t->n < 2)
        return fail(ps, ESP_ERR_INVALID_ARG, t->line, "'%s' is not a value for a 1-bit variable", shown(t, buf, sizeof buf));
    return set_value(ps, &ps->wave->signals[e->signal], (int8_t)level_of(t->s[t->n - 1]), t->line);
}

static esp_err_t parse_time(parser *ps, const token *t)
{
    uint64_t v = 0;
    char buf[64];
    if (t->n < 2)
        return fail(ps, ESP_ERR_INVALID_ARG, t->line, "'#' without a time");
    for (size_t i = 1; i < t->n; i++) {
        unsigned d = (unsigned)(t->s[i] - '0');
        if (d > 9)
            return fail(ps, ESP_ERR_INVALID_ARG, t->line, "time '%s' is not a whole number", shown(t, buf, sizeof buf));
        if (v > (UINT64_MAX - d) / 10)
            return fail(ps, ESP_ERR_INVALID_SIZE, t->line, "time '%s' is too large", shown(t, buf, sizeof buf));
        v = v * 10 + d;
    }
    if (v < ps->now)
        return fail(ps, ESP_ERR_INVALID_ARG, t->line, "time #%llu goes back (after #%llu)", (unsigned long long)v,
                    (unsigned long long)ps->now);
    ps->now = v;
    ps->wave->end = v;
    return ESP_OK;
}

static esp_err_t body_token(parser *ps, const token *t)
{
    char buf[64];
    char c = t->s[0];
    if (c == '#')
        return parse_time(ps, t);
    if (c == '$') {
        if (is_word(t, "$dumpvars") || is_word(t, "$dumpall") || is_word(t, "$dumpon") ||
            is_word(t, "$dumpoff") || is_word(t, "$end"))
            return ESP_OK;   /* the values inside are value changes like any other */
        if (is_word(t, "$comment"))
            return skip_block(ps, t);
        return fail(ps, ESP_ERR_INVALID_ARG, t->line, "'%s' after $enddefinitions", shown(t, buf, sizeof buf));
    }
    if (level_of(c) != 2)
        return scalar_change(ps, t);
    if (c == 'b' || c == 'B' || c == 'r' || c == 'R' || c == 's' || c == 'S')
        return vector_change(ps, t);
    return fail(ps, ESP_ERR_INVALID_ARG, t->line, "'%s' is not a time or a value change", shown(t, buf, sizeof buf));
}

static esp_err_t parse_body(parser *ps)
{
    token t;
    esp_err_t err;
    while (next_token(ps, &t, &err)) {
        err = body_token(ps, &t);
        if (err)
            return err;
    }
    return err;
}

/* ---- the whole ---- */

void esim_vcd_wave_free(esim_vcd_wave *wave)
{
    if (wave == NULL)
        return;
    for (size_t i = 0; i < wave->signal_count; i++) {
        free(wave->signals[i].name);
        free(wave->signals[i].changes);
    }
    free(wave->signals);
    free(wave);
}

esp_err_t esim_vcd_parse(const char *text, size_t len, esim_vcd_wave **out, char *why, size_t why_len)
{
    *out = NULL;
    if (why != NULL && why_len > 0)
        why[0] = '\0';
    parser ps = {.p = text, .end = text + len, .line = 1, .why = why, .why_len = why_len};
    ps.wave = calloc(1, sizeof *ps.wave);
    ps.ids = malloc(ESIM_VCD_MAX_SIGNALS * sizeof *ps.ids);
    esp_err_t err = ps.wave && ps.ids ? ESP_OK : ESP_ERR_NO_MEM;
    if (!err)
        err = parse_header(&ps);
    if (!err)
        err = parse_body(&ps);
    free(ps.ids);
    if (err) {
        if (err == ESP_ERR_NO_MEM)
            fail(&ps, err, ps.line, "out of memory");
        esim_vcd_wave_free(ps.wave);
        return err;
    }
    *out = ps.wave;
    return ESP_OK;
}

/* ---- looking up ---- */

size_t esim_vcd_first_after(const esim_vcd_signal *sig, uint64_t t)
{
    size_t lo = 0, hi = sig->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sig->changes[mid].t <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int esim_vcd_level_at(const esim_vcd_signal *sig, uint64_t t)
{
    size_t i = esim_vcd_first_after(sig, t);
    return i == 0 ? ESIM_VCD_LEVEL_X : sig->changes[i - 1].level;
}
