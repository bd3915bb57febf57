/* esp32sim — the GPIO record written as VCD (vcd.h, docs/vcd.md). The
 * reader is in vcd_parse.c. */
#include "esp32sim/vcd.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

/* Where the changes come from: the GPIO block's ring or one array. */
typedef struct {
    const esim_gpio *gpio;
    const esim_vcd_record *rec;
} source;

static size_t source_count(const source *s)
{
    return s->gpio ? esim_gpio_trace_count(s->gpio) : s->rec->count;
}

static const esim_pin_change *source_at(const source *s, size_t i)
{
    return s->gpio ? esim_gpio_trace_at(s->gpio, i) : &s->rec->changes[i];
}

static int source_start(const source *s, int pin)
{
    return s->gpio ? esim_gpio_trace_start_level(s->gpio, pin) : s->rec->start[pin];
}

static uint64_t source_dropped(const source *s)
{
    return s->gpio ? esim_gpio_trace_dropped(s->gpio) : s->rec->dropped;
}

/* 0, 1 or floating; anything else is written as floating. */
static int8_t clean_level(int level)
{
    return level == 0 || level == 1 ? (int8_t)level : ESIM_LEVEL_FLOATING;
}

static char level_char(int8_t level)
{
    return level == 0 ? '0' : level == 1 ? '1' : 'z';
}

/* ---- the timescale ---- */

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

#define UNIT_MAX_PS UINT64_C(100000000000000)   /* 100 s */

static uint64_t unit_for_gcd(uint64_t g)
{
    uint64_t unit = UNIT_MAX_PS;
    while (unit > 1 && g % unit != 0)
        unit /= 10;
    return unit;
}

uint64_t esim_vcd_unit_ps(const uint64_t *times_ps, size_t n)
{
    uint64_t g = 0;
    for (size_t i = 0; i < n; i++)
        g = gcd64(g, times_ps[i]);
    return unit_for_gcd(g);
}

static const char *unit_text(uint64_t unit_ps, unsigned *number)
{
    static const char *const names[] = {"ps", "ns", "us", "ms", "s"};
    size_t k = 0;
    uint64_t n = unit_ps;
    while (n >= 1000 && k < 4) {
        n /= 1000;
        k++;
    }
    *number = (unsigned)n;
    return names[k];
}

/* ---- the first pass: pins, unit, end ---- */

typedef struct {
    char id[ESIM_GPIO_COUNT];   /* the pin's id, or 0 when not in the file */
    uint64_t unit_ps;
    uint64_t end_ps;
} layout;

static void plan(const source *s, uint64_t end_ps, layout *lay)
{
    bool used[ESIM_GPIO_COUNT];
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        used[pin] = clean_level(source_start(s, pin)) != ESIM_LEVEL_FLOATING;
    uint64_t g = 0, last = 0;
    for (size_t i = 0, n = source_count(s); i < n; i++) {
        const esim_pin_change *c = source_at(s, i);
        if (c->pin >= ESIM_GPIO_COUNT)
            continue;
        used[c->pin] = true;
        g = gcd64(g, c->t_ps);
        if (c->t_ps > last)
            last = c->t_ps;
    }
    lay->end_ps = end_ps > last ? end_ps : last;
    lay->unit_ps = unit_for_gcd(gcd64(g, lay->end_ps));
    char next = '!';
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        lay->id[pin] = used[pin] ? next++ : 0;
}

/* ---- the second pass: the text ---- */

static void write_block(FILE *out, const char *keyword, const char *text)
{
    fprintf(out, "$%s\n\t%s\n$end\n", keyword, text);
}

static void write_header(FILE *out, const source *s, const layout *lay, const esim_vcd_header *h)
{
    if (h != NULL && h->date != NULL)
        write_block(out, "date", h->date);
    write_block(out, "version", h != NULL && h->version != NULL ? h->version : "esp32sim");
    uint64_t dropped = source_dropped(s);
    if (dropped != 0)
        fprintf(out, "$comment\n\t%" PRIu64 " earlier level changes were dropped from the record;"
                     " #0 shows the levels it starts from\n$end\n", dropped);
    unsigned number;
    const char *unit = unit_text(lay->unit_ps, &number);
    fprintf(out, "$timescale %u %s $end\n$scope module board $end\n", number, unit);
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        if (lay->id[pin])
            fprintf(out, "$var wire 1 %c gpio%d $end\n", lay->id[pin], pin);
    fputs("$upscope $end\n$enddefinitions $end\n", out);
}

/* The levels the file shows and those pending at the current instant. */
typedef struct {
    FILE *out;
    const layout *lay;
    int8_t shown[ESIM_GPIO_COUNT];
    int8_t pending[ESIM_GPIO_COUNT];
    uint64_t last_written;   /* the last #time written, in units */
} body;

/* Write the pending levels that differ from the shown ones at time t. */
static void flush_instant(body *b, uint64_t t_ps)
{
    bool stamped = false;
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++) {
        if (!b->lay->id[pin] || b->pending[pin] == b->shown[pin])
            continue;
        if (!stamped) {
            b->last_written = t_ps / b->lay->unit_ps;
            fprintf(b->out, "#%" PRIu64 "\n", b->last_written);
            stamped = true;
        }
        fprintf(b->out, "%c%c\n", level_char(b->pending[pin]), b->lay->id[pin]);
        b->shown[pin] = b->pending[pin];
    }
}

/* The next change from index *i on that names a GPIO (others are
 * ignored), or NULL. */
static const esim_pin_change *next_change(const source *s, size_t *i)
{
    for (size_t n = source_count(s); *i < n; ++*i) {
        const esim_pin_change *c = source_at(s, *i);
        if (c->pin < ESIM_GPIO_COUNT)
            return c;
    }
    return NULL;
}

/* Apply the changes from index *i that fall at time t (after clamping). */
static void take_instant(const source *s, size_t *i, uint64_t t, int8_t *levels)
{
    for (const esim_pin_change *c; (c = next_change(s, i)) != NULL && c->t_ps <= t; ++*i)
        levels[c->pin] = clean_level(c->level);
}

static void write_initial(body *b, const source *s, size_t *i)
{
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        b->pending[pin] = clean_level(source_start(s, pin));
    take_instant(s, i, 0, b->pending);
    fputs("#0\n$dumpvars\n", b->out);
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        if (b->lay->id[pin])
            fprintf(b->out, "%c%c\n", level_char(b->pending[pin]), b->lay->id[pin]);
    fputs("$end\n", b->out);
    memcpy(b->shown, b->pending, sizeof b->shown);
    b->last_written = 0;
}

static esp_err_t write_all(FILE *out, const source *s, uint64_t end_ps, const esim_vcd_header *h)
{
    layout lay;
    plan(s, end_ps, &lay);
    write_header(out, s, &lay, h);
    body b = {.out = out, .lay = &lay};
    size_t i = 0;
    write_initial(&b, s, &i);
    uint64_t t = 0;
    for (const esim_pin_change *c; (c = next_change(s, &i)) != NULL;) {
        t = c->t_ps > t ? c->t_ps : t;   /* an earlier stamp is written at t */
        take_instant(s, &i, t, b.pending);
        flush_instant(&b, t);
    }
    if (lay.end_ps / lay.unit_ps != b.last_written)
        fprintf(out, "#%" PRIu64 "\n", lay.end_ps / lay.unit_ps);
    return ferror(out) ? ESP_FAIL : ESP_OK;
}

esp_err_t esim_vcd_write_record(FILE *out, const esim_vcd_record *rec, uint64_t end_ps,
                                const esim_vcd_header *header)
{
    source s = {NULL, rec};
    return write_all(out, &s, end_ps, header);
}

esp_err_t esim_vcd_write_gpio(FILE *out, const esim_gpio *gpio, uint64_t end_ps, const esim_vcd_header *header)
{
    source s = {gpio, NULL};
    return write_all(out, &s, end_ps, header);
}
