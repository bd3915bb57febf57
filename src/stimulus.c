/* esp32sim — stimuli: the outside world's events on the virtual clock
 * (stimulus.h, docs/stimulus.md).
 *
 * The timeline is one array of slots sorted by time; events at the same time
 * keep the order they were added in. A cursor marks the next slot not yet
 * taken: every slot before it has been taken. An event added before the
 * cursor moves the cursor back to it, so it is taken next; the taken slots it
 * passes over are skipped again by the following takes. */
#include "esp32sim/stimulus.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2^53 - 1 µs (about 285 years): every time is exact as a JSON number. */
#define MAX_TIME_US UINT64_C(9007199254740991)
#define MAX_FILE_BYTES ((size_t)16 * 1024 * 1024)
#define MSG_LEN 256

typedef struct {
    esim_stim_event ev;
    bool taken;
} slot;

/* An event waiting to be merged; seq keeps equal times in the order given. */
typedef struct {
    esim_stim_event ev;
    size_t seq;
} pending;

struct esim_stimulus {
    slot *slots;
    size_t count;
    size_t cap;
    size_t cursor;
};

/* ---- messages ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static void say(char *why, size_t why_len, const char *fmt, ...)
{
    if (why == NULL || why_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* The shortest of %.15g and %.17g that reads back as v. */
static void number_text(double v, char out[32])
{
    if (isnan(v)) {
        snprintf(out, 32, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, 32, v > 0 ? "inf" : "-inf");
        return;
    }
    snprintf(out, 32, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, 32, "%.17g", v);
}

/* At most 40 bytes of s, control bytes shown as '?', "..." when cut. */
static void quoted(const char *s, size_t len, char out[48])
{
    size_t n = len > 40 ? 40 : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    snprintf(out + n, 48 - n, "%s", len > 40 ? "..." : "");
}

static const char *json_type_name(const cJSON *item)
{
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsArray(item))
        return "an array";
    if (cJSON_IsObject(item))
        return "an object";
    return "an unknown value";
}

/* ---- range checks shared by the JSON reader and esim_stimulus_add -------- */

/* Without libm: every double of magnitude 2^53 or more is a whole number. */
static bool is_integer(double v)
{
    const double big = 9007199254740992.0;
    return isfinite(v) && (v <= -big || v >= big || (double)(int64_t)v == v);
}

static bool index_ok(esim_stim_kind kind, double index, char *msg, size_t n)
{
    char num[32];
    number_text(index, num);
    bool gpio = index >= 0 && index < ESIM_GPIO_COUNT;
    switch (kind) {
    case ESIM_STIM_PIN:
        if (gpio && esim_pin_exists((int)index))
            return true;
        snprintf(msg, n, "\"pin\" %s is not a GPIO of the ESP32 (0..23, 25..27, 32..39)", num);
        return false;
    case ESIM_STIM_TOUCH:
        if (index >= 0 && index < ESIM_TOUCH_PAD_COUNT)
            return true;
        snprintf(msg, n, "\"touch\" %s is not a touch pad (0..9)", num);
        return false;
    case ESIM_STIM_ADC:
        if (gpio && esim_pin_adc_unit((int)index, NULL) != 0)
            return true;
        snprintf(msg, n, "\"adc\" %s is not an ADC pin of the ESP32 "
                 "(0, 2, 4, 12..15, 25..27, 32..39)", num);
        return false;
    case ESIM_STIM_TEMPERATURE:
        return true;
    }
    return true;
}

/* The value of a touch, temperature or ADC event. A touch value of -1 (back
 * to the untouched reading) only comes from for_ms or esim_stimulus_add. */
static bool value_ok(esim_stim_kind kind, double v, bool allow_untouched, char *msg, size_t n)
{
    static const struct { const char *key; double lo, hi; } range[] = {
        [ESIM_STIM_TOUCH] = {"value", 0, 65535},
        [ESIM_STIM_TEMPERATURE] = {"temperature_c", -40, 125},
        [ESIM_STIM_ADC] = {"mv", 0, 3300},
    };
    if (kind == ESIM_STIM_PIN)
        return true;
    char num[32];
    number_text(v, num);
    const char *key = range[kind].key;
    if (!isfinite(v)) {
        snprintf(msg, n, "\"%s\" %s is not a finite number", key, num);
        return false;
    }
    if (kind == ESIM_STIM_TOUCH && !is_integer(v)) {
        snprintf(msg, n, "\"%s\" %s is not an integer", key, num);
        return false;
    }
    if (kind == ESIM_STIM_TOUCH && allow_untouched && v == -1)
        return true;
    if (v >= range[kind].lo && v <= range[kind].hi)
        return true;
    snprintf(msg, n, "\"%s\" %s is out of range (%g..%g)", key, num, range[kind].lo, range[kind].hi);
    return false;
}

static bool event_ok(const esim_stim_event *e, char *msg, size_t n)
{
    if (e->kind != ESIM_STIM_PIN && e->kind != ESIM_STIM_TOUCH
        && e->kind != ESIM_STIM_TEMPERATURE && e->kind != ESIM_STIM_ADC) {
        snprintf(msg, n, "unknown event kind %d", (int)e->kind);
        return false;
    }
    if (e->at_us > MAX_TIME_US) {
        snprintf(msg, n, "the time is too late (the latest is %" PRIu64 " us)", MAX_TIME_US);
        return false;
    }
    if (!index_ok(e->kind, e->index, msg, n))
        return false;
    if (e->kind == ESIM_STIM_PIN && e->level != 0 && e->level != 1 && e->level != ESIM_STIM_RELEASE) {
        snprintf(msg, n, "\"level\" %d must be 0, 1 or ESIM_STIM_RELEASE (-1)", e->level);
        return false;
    }
    return value_ok(e->kind, e->value, true, msg, n);
}

/* ---- the timeline --------------------------------------------------------- */

esp_err_t esim_stimulus_create(esim_stimulus **out)
{
    if (out == NULL)
        return ESP_ERR_INVALID_ARG;
    *out = calloc(1, sizeof **out);
    return *out ? ESP_OK : ESP_ERR_NO_MEM;
}

void esim_stimulus_destroy(esim_stimulus *stim)
{
    if (stim == NULL)
        return;
    free(stim->slots);
    free(stim);
}

void esim_stimulus_clear(esim_stimulus *stim)
{
    if (stim == NULL)
        return;
    free(stim->slots);
    stim->slots = NULL;
    stim->count = stim->cap = stim->cursor = 0;
}

size_t esim_stimulus_count(const esim_stimulus *stim)
{
    return stim ? stim->count : 0;
}

const esim_stim_event *esim_stimulus_event(const esim_stimulus *stim, size_t index)
{
    if (stim == NULL || index >= stim->count)
        return NULL;
    return &stim->slots[index].ev;
}

static esp_err_t reserve(esim_stimulus *stim, size_t extra)
{
    size_t most = SIZE_MAX / sizeof(slot);
    if (extra > most - stim->count)
        return ESP_ERR_NO_MEM;
    size_t need = stim->count + extra;
    if (need <= stim->cap)
        return ESP_OK;
    size_t cap = stim->cap < most / 2 ? stim->cap * 2 : most;
    if (cap < need)
        cap = need < 16 ? 16 : need;
    slot *slots = realloc(stim->slots, cap * sizeof(slot));
    if (slots == NULL)
        return ESP_ERR_NO_MEM;
    stim->slots = slots;
    stim->cap = cap;
    return ESP_OK;
}

/* Merge m sorted events in from the back; room for them is reserved. New
 * events go after old ones of the same time. The cursor moves to whichever
 * comes first: the slot it was on, or the first new event. */
static void merge_in(esim_stimulus *stim, const pending *batch, size_t m)
{
    size_t i = stim->count, j = m, k = stim->count + m;
    size_t old_cursor = stim->cursor, cursor_at = k, first_new = k;
    while (j > 0) {
        if (i > 0 && stim->slots[i - 1].ev.at_us > batch[j - 1].ev.at_us) {
            stim->slots[--k] = stim->slots[--i];
            if (i == old_cursor)
                cursor_at = k;
        } else {
            stim->slots[--k] = (slot){batch[--j].ev, false};
            first_new = k;
        }
    }
    if (old_cursor < i)
        cursor_at = old_cursor;
    stim->count += m;
    stim->cursor = cursor_at < first_new ? cursor_at : first_new;
}

esp_err_t esim_stimulus_add(esim_stimulus *stim, const esim_stim_event *event, char *why, size_t why_len)
{
    say(why, why_len, "%s", "");
    if (stim == NULL || event == NULL) {
        say(why, why_len, "no stimulus or no event");
        return ESP_ERR_INVALID_ARG;
    }
    char msg[MSG_LEN];
    if (!event_ok(event, msg, sizeof msg)) {
        say(why, why_len, "event at_us %" PRIu64 ": %s", event->at_us, msg);
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err = reserve(stim, 1);
    if (err) {
        say(why, why_len, "out of memory");
        return err;
    }
    pending one = {*event, 0};
    merge_in(stim, &one, 1);
    return ESP_OK;
}

const esim_stim_event *esim_stimulus_take_due(esim_stimulus *stim, uint64_t now_us)
{
    if (stim == NULL || stim->cursor >= stim->count)
        return NULL;
    slot *next = &stim->slots[stim->cursor];
    if (next->ev.at_us > now_us)
        return NULL;
    next->taken = true;
    do
        stim->cursor++;
    while (stim->cursor < stim->count && stim->slots[stim->cursor].taken);
    return &next->ev;
}

uint64_t esim_stimulus_next_time(const esim_stimulus *stim)
{
    if (stim == NULL || stim->cursor >= stim->count)
        return UINT64_MAX;
    return stim->slots[stim->cursor].ev.at_us;
}

/* ---- reading one event from JSON ------------------------------------------ */

enum key_id {
    K_AT_MS, K_AT_US, K_PIN, K_LEVEL, K_TOUCH, K_VALUE,
    K_TEMPERATURE, K_ADC, K_MV, K_FOR_MS, K_COMMENT, K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "at_ms", "at_us", "pin", "level", "touch", "value",
    "temperature_c", "adc", "mv", "for_ms", "comment",
};

/* What each kind of event is made of: its own key, the key of its value
 * (-1: the kind key holds the value), whether it takes for_ms. */
static const struct {
    esim_stim_kind kind;
    int key;
    int value_key;
    bool has_for;
    const char *name;      /* with its article, for messages */
} kinds[] = {
    {ESIM_STIM_PIN, K_PIN, K_LEVEL, true, "a \"pin\" event"},
    {ESIM_STIM_TOUCH, K_TOUCH, K_VALUE, true, "a \"touch\" event"},
    {ESIM_STIM_TEMPERATURE, K_TEMPERATURE, -1, false, "a \"temperature_c\" event"},
    {ESIM_STIM_ADC, K_ADC, K_MV, false, "an \"adc\" event"},
};

#define KIND_COUNT (sizeof kinds / sizeof kinds[0])

typedef struct {
    const cJSON *item[K_COUNT];
    const char *unknown;   /* the first key not in key_names */
    int twice;             /* a known key given twice, or -1 */
} event_keys;

/* Where errors about one event go, and what names the event in them. */
typedef struct {
    char *why;
    size_t why_len;
    size_t index;
    char when[64];         /* " (at_ms 5000)" once the time is read */
} event_ctx;

__attribute__((format(printf, 2, 3)))
static esp_err_t fail(event_ctx *c, const char *fmt, ...)
{
    char msg[MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    say(c->why, c->why_len, "events[%zu]%s: %s", c->index, c->when, msg);
    return ESP_ERR_INVALID_ARG;
}

static void collect_keys(const cJSON *event, event_keys *k)
{
    memset(k, 0, sizeof *k);
    k->twice = -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, event) {
        int id = 0;
        while (id < K_COUNT && strcmp(item->string, key_names[id]) != 0)
            id++;
        if (id == K_COUNT) {
            if (k->unknown == NULL)
                k->unknown = item->string;
        } else if (k->item[id] != NULL) {
            if (k->twice < 0)
                k->twice = id;
        } else {
            k->item[id] = item;
        }
    }
}

static esp_err_t number_arg(event_ctx *c, int key, const cJSON *item, double *v)
{
    if (!cJSON_IsNumber(item))
        return fail(c, "\"%s\" must be a number, not %s", key_names[key], json_type_name(item));
    *v = item->valuedouble;
    if (!isfinite(*v)) {
        char num[32];
        number_text(*v, num);
        return fail(c, "\"%s\" %s is not a finite number", key_names[key], num);
    }
    return ESP_OK;
}

static esp_err_t integer_arg(event_ctx *c, int key, const cJSON *item, double *v)
{
    esp_err_t err = number_arg(c, key, item, v);
    if (err)
        return err;
    if (is_integer(*v))
        return ESP_OK;
    char num[32];
    number_text(*v, num);
    return fail(c, "\"%s\" %s is not an integer", key_names[key], num);
}

static esp_err_t too_late(event_ctx *c, int key, double v)
{
    char num[32];
    number_text(v, num);
    return fail(c, "\"%s\" %s is too late (the latest time is %" PRIu64 " us)",
                key_names[key], num, MAX_TIME_US);
}

/* Milliseconds (finite, >= 0) to whole microseconds, rounded to nearest;
 * false when past MAX_TIME_US. */
static bool ms_to_us(double ms, double *us)
{
    double x = ms * 1000.0;
    if (x >= (double)MAX_TIME_US + 1.0)
        return false;
    uint64_t whole = (uint64_t)x;
    if (x - (double)whole >= 0.5)
        whole++;
    *us = (double)whole;
    return whole <= MAX_TIME_US;
}

static esp_err_t read_time(event_ctx *c, const event_keys *k, uint64_t *at_us)
{
    const cJSON *ms = k->item[K_AT_MS], *us = k->item[K_AT_US];
    if (ms && us)
        return fail(c, "has both \"at_ms\" and \"at_us\"; give one time");
    if (!ms && !us)
        return fail(c, "has no time; give \"at_ms\" or \"at_us\"");
    int key = ms ? K_AT_MS : K_AT_US;
    double v, t;
    esp_err_t err = ms ? number_arg(c, key, ms, &v) : integer_arg(c, key, us, &v);
    if (err)
        return err;
    char num[32];
    number_text(v, num);
    if (v < 0)
        return fail(c, "\"%s\" %s is negative", key_names[key], num);
    if (ms ? !ms_to_us(v, &t) : v > (double)MAX_TIME_US)
        return too_late(c, key, v);
    *at_us = ms ? (uint64_t)t : (uint64_t)v;
    snprintf(c->when, sizeof c->when, " (%s %s)", key_names[key], num);
    return ESP_OK;
}

/* The one kind key present, as an index in kinds[]. */
static esp_err_t read_kind(event_ctx *c, const event_keys *k, size_t *kind)
{
    size_t found = KIND_COUNT;
    for (size_t i = 0; i < KIND_COUNT; i++) {
        if (k->item[kinds[i].key] == NULL)
            continue;
        if (found != KIND_COUNT)
            return fail(c, "has both \"%s\" and \"%s\"; one kind per event",
                        key_names[kinds[found].key], key_names[kinds[i].key]);
        found = i;
    }
    if (found == KIND_COUNT)
        return fail(c, "says nothing happens; give \"pin\", \"touch\", \"temperature_c\" or \"adc\"");
    *kind = found;
    return ESP_OK;
}

static bool key_belongs(size_t kind, int key)
{
    return key == K_AT_MS || key == K_AT_US || key == K_COMMENT || key == kinds[kind].key
        || key == kinds[kind].value_key || (key == K_FOR_MS && kinds[kind].has_for);
}

static esp_err_t check_keys(event_ctx *c, const event_keys *k, size_t kind)
{
    char name[48];
    if (k->unknown != NULL) {
        quoted(k->unknown, strlen(k->unknown), name);
        return fail(c, "unknown key \"%s\"", name);
    }
    if (k->twice >= 0)
        return fail(c, "\"%s\" is given twice", key_names[k->twice]);
    for (int key = 0; key < K_COUNT; key++)
        if (k->item[key] != NULL && !key_belongs(kind, key))
            return fail(c, "\"%s\" does not belong in %s", key_names[key], kinds[kind].name);
    int value_key = kinds[kind].value_key;
    if (value_key >= 0 && k->item[value_key] == NULL)
        return fail(c, "%s needs \"%s\"", kinds[kind].name, key_names[value_key]);
    const cJSON *comment = k->item[K_COMMENT];
    if (comment != NULL && !cJSON_IsString(comment))
        return fail(c, "\"comment\" must be a string, not %s", json_type_name(comment));
    return ESP_OK;
}

static esp_err_t read_level(event_ctx *c, const cJSON *item, int *level)
{
    if (cJSON_IsNull(item))
        *level = ESIM_STIM_RELEASE;
    else if (cJSON_IsBool(item))
        *level = cJSON_IsTrue(item) ? 1 : 0;
    else if (cJSON_IsNumber(item) && (item->valuedouble == 0 || item->valuedouble == 1))
        *level = (int)item->valuedouble;
    else if (cJSON_IsNumber(item)) {
        char num[32];
        number_text(item->valuedouble, num);
        return fail(c, "\"level\" %s must be 0, 1, true, false or null", num);
    } else
        return fail(c, "\"level\" must be 0, 1, true, false or null, not %s", json_type_name(item));
    return ESP_OK;
}

/* The index (GPIO or pad) and value of the event; the time is set. */
static esp_err_t read_what(event_ctx *c, const event_keys *k, size_t kind, esim_stim_event *e)
{
    char msg[MSG_LEN];
    double v;
    e->kind = kinds[kind].kind;
    const cJSON *first = k->item[kinds[kind].key];
    esp_err_t err = e->kind == ESIM_STIM_TEMPERATURE ? number_arg(c, kinds[kind].key, first, &v)
                                                     : integer_arg(c, kinds[kind].key, first, &v);
    if (err)
        return err;
    if (e->kind == ESIM_STIM_TEMPERATURE) {
        e->value = v;
        return value_ok(e->kind, v, false, msg, sizeof msg) ? ESP_OK : fail(c, "%s", msg);
    }
    if (!index_ok(e->kind, v, msg, sizeof msg))
        return fail(c, "%s", msg);
    e->index = (int)v;
    const cJSON *second = k->item[kinds[kind].value_key];
    if (e->kind == ESIM_STIM_PIN)
        return read_level(c, second, &e->level);
    err = number_arg(c, kinds[kind].value_key, second, &e->value);
    if (err)
        return err;
    return value_ok(e->kind, e->value, false, msg, sizeof msg) ? ESP_OK : fail(c, "%s", msg);
}

/* for_ms as microseconds after the event, or 0 when not given. */
static esp_err_t read_duration(event_ctx *c, const event_keys *k, uint64_t at_us, uint64_t *for_us)
{
    *for_us = 0;
    const cJSON *item = k->item[K_FOR_MS];
    if (item == NULL)
        return ESP_OK;
    double v, us;
    esp_err_t err = number_arg(c, K_FOR_MS, item, &v);
    if (err)
        return err;
    char num[32];
    number_text(v, num);
    if (!(v > 0))
        return fail(c, "\"for_ms\" %s must be more than 0", num);
    if (!ms_to_us(v, &us) || us > (double)(MAX_TIME_US - at_us))
        return fail(c, "\"for_ms\" %s ends too late (the latest time is %" PRIu64 " us)",
                    num, MAX_TIME_US);
    if (us < 1)
        return fail(c, "\"for_ms\" %s is shorter than a microsecond", num);
    *for_us = (uint64_t)us;
    return ESP_OK;
}

typedef struct {
    pending *items;
    size_t count;
} batch;

static void batch_push(batch *b, const esim_stim_event *e)
{
    b->items[b->count] = (pending){*e, b->count};
    b->count++;
}

static esp_err_t read_event(event_ctx *c, const cJSON *item, batch *b)
{
    if (!cJSON_IsObject(item))
        return fail(c, "must be an object, not %s", json_type_name(item));
    event_keys k;
    collect_keys(item, &k);
    esim_stim_event e = {0};
    size_t kind = 0;
    uint64_t for_us = 0;
    esp_err_t err = read_time(c, &k, &e.at_us);
    if (!err)
        err = read_kind(c, &k, &kind);
    if (!err)
        err = check_keys(c, &k, kind);
    if (!err)
        err = read_what(c, &k, kind, &e);
    if (!err)
        err = read_duration(c, &k, e.at_us, &for_us);
    if (err)
        return err;
    batch_push(b, &e);
    if (for_us == 0)
        return ESP_OK;
    e.at_us += for_us;
    if (e.kind == ESIM_STIM_PIN)
        e.level = ESIM_STIM_RELEASE;
    else
        e.value = -1;
    batch_push(b, &e);
    return ESP_OK;
}

/* ---- reading the document ------------------------------------------------- */

/* "line L, column C" of a byte offset; columns count characters. */
static void position_text(const char *text, size_t pos, char *out, size_t n)
{
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            line++;
            column = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            column++;
        }
    }
    snprintf(out, n, "line %zu, column %zu", line, column);
}

static esp_err_t syntax_error(const char *text, size_t len, size_t pos, const char *what,
                              char *why, size_t why_len)
{
    char where[64], near[48];
    position_text(text, pos, where, sizeof where);
    size_t rest = len - pos;
    quoted(text + pos, rest > 16 ? 16 : rest, near);
    say(why, why_len, "%s at %s (near \"%s%s\")", what, where, near, rest > 16 ? "..." : "");
    return ESP_ERR_INVALID_ARG;
}

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static esp_err_t parse_document(const char *text, size_t len, cJSON **doc, char *why, size_t why_len)
{
    size_t start = 0;
    while (start < len && is_blank((unsigned char)text[start]))
        start++;
    if (start == len) {
        say(why, why_len, "the document is empty");
        return ESP_ERR_INVALID_ARG;
    }
    /* JSON allows no raw control characters, in strings or between tokens
     * (cJSON would skip them as blanks). */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            char what[48];
            snprintf(what, sizeof what, "control character 0x%02x", c);
            return syntax_error(text, len, i, what, why, why_len);
        }
    }
    /* A copy ending in NUL: nothing past the end is ever read. */
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        say(why, why_len, "out of memory");
        return ESP_ERR_NO_MEM;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    const char *end = NULL;
    *doc = cJSON_ParseWithLengthOpts(copy, len, &end, 0);
    size_t pos = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : 0;
    esp_err_t err = ESP_OK;
    if (*doc == NULL) {
        err = syntax_error(copy, len, pos < len ? pos : len - 1, "JSON syntax error", why, why_len);
    } else {
        while (pos < len && is_blank((unsigned char)copy[pos]))
            pos++;
        if (pos < len) {
            err = syntax_error(copy, len, pos, "text after the end of the JSON document", why, why_len);
            cJSON_Delete(*doc);
            *doc = NULL;
        }
    }
    free(copy);
    return err;
}

static esp_err_t find_events(const cJSON *doc, const cJSON **events, char *why, size_t why_len)
{
    if (!cJSON_IsObject(doc)) {
        say(why, why_len, "the document must be an object {\"events\": [...]}, not %s", json_type_name(doc));
        return ESP_ERR_INVALID_ARG;
    }
    *events = NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, doc) {
        char name[48];
        quoted(item->string, strlen(item->string), name);
        if (strcmp(item->string, "events") != 0) {
            say(why, why_len, "unknown top-level key \"%s\" (the document holds only \"events\")", name);
            return ESP_ERR_INVALID_ARG;
        }
        if (*events != NULL) {
            say(why, why_len, "\"events\" is given twice");
            return ESP_ERR_INVALID_ARG;
        }
        *events = item;
    }
    if (*events == NULL) {
        say(why, why_len, "the document has no \"events\"");
        return ESP_ERR_INVALID_ARG;
    }
    if (!cJSON_IsArray(*events)) {
        say(why, why_len, "\"events\" must be an array, not %s", json_type_name(*events));
        return ESP_ERR_INVALID_ARG;
    }
    return ESP_OK;
}

/* Every event of the array into b (room for two per event), sorted. */
static esp_err_t read_events(const cJSON *events, batch *b, char *why, size_t why_len)
{
    size_t n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, events)
        n++;
    if (n > SIZE_MAX / (2 * sizeof(pending)) - 1) {
        say(why, why_len, "out of memory");
        return ESP_ERR_NO_MEM;
    }
    b->items = malloc((2 * n + 1) * sizeof(pending));
    if (b->items == NULL) {
        say(why, why_len, "out of memory");
        return ESP_ERR_NO_MEM;
    }
    event_ctx c = {why, why_len, 0, ""};
    cJSON_ArrayForEach(item, events) {
        c.when[0] = '\0';
        esp_err_t err = read_event(&c, item, b);
        if (err)
            return err;
        c.index++;
    }
    return ESP_OK;
}

static int by_time_then_seq(const void *a, const void *b)
{
    const pending *x = a, *y = b;
    if (x->ev.at_us != y->ev.at_us)
        return x->ev.at_us < y->ev.at_us ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

esp_err_t esim_stimulus_parse_json(esim_stimulus *stim, const char *text, size_t len, char *why, size_t why_len)
{
    say(why, why_len, "%s", "");
    if (stim == NULL || (text == NULL && len > 0)) {
        say(why, why_len, "no stimulus or no text");
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *doc = NULL;
    const cJSON *events;
    batch b = {NULL, 0};
    esp_err_t err = parse_document(text, len, &doc, why, why_len);
    if (!err)
        err = find_events(doc, &events, why, why_len);
    if (!err)
        err = read_events(events, &b, why, why_len);
    cJSON_Delete(doc);
    if (!err) {
        err = reserve(stim, b.count);
        if (err)
            say(why, why_len, "out of memory");
    }
    if (!err) {
        qsort(b.items, b.count, sizeof(pending), by_time_then_seq);
        merge_in(stim, b.items, b.count);
    }
    free(b.items);
    return err;
}

/* ---- files ---------------------------------------------------------------- */

/* The whole file, up to MAX_FILE_BYTES, with a NUL after it. */
static esp_err_t read_file(const char *path, char **text, size_t *len, char *msg, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(msg, n, "cannot open: %s", strerror(errno));
        return ESP_ERR_NOT_FOUND;
    }
    char *buf = NULL;
    size_t used = 0, cap = 0;
    esp_err_t err = ESP_OK;
    for (;;) {
        if (used == cap) {
            cap = cap ? cap * 2 : 64 * 1024;
            if (cap > MAX_FILE_BYTES + 1)
                cap = MAX_FILE_BYTES + 1;
            char *more = realloc(buf, cap + 1);
            if (more == NULL) {
                snprintf(msg, n, "out of memory");
                err = ESP_ERR_NO_MEM;
                break;
            }
            buf = more;
        }
        size_t got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (used > MAX_FILE_BYTES) {
            snprintf(msg, n, "the file is larger than 16 MiB, the limit for stimulus files");
            err = ESP_ERR_INVALID_ARG;
            break;
        }
        if (got > 0)
            continue;
        if (ferror(f)) {
            snprintf(msg, n, "cannot read: %s", strerror(errno));
            err = ESP_ERR_NOT_FOUND;
        }
        break;
    }
    fclose(f);
    if (err) {
        free(buf);
        return err;
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return ESP_OK;
}

esp_err_t esim_stimulus_load_file(esim_stimulus *stim, const char *path, char *why, size_t why_len)
{
    say(why, why_len, "%s", "");
    if (stim == NULL || path == NULL) {
        say(why, why_len, "no stimulus or no path");
        return ESP_ERR_INVALID_ARG;
    }
    char msg[MSG_LEN + 64];
    char *text = NULL;
    size_t len = 0;
    esp_err_t err = read_file(path, &text, &len, msg, sizeof msg);
    if (!err) {
        err = esim_stimulus_parse_json(stim, text, len, msg, sizeof msg);
        free(text);
    }
    if (err)
        say(why, why_len, "%s: %s", path, msg);
    return err;
}
