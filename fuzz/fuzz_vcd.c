/* libFuzzer target for VCD (docs/vcd.md).
 *
 * Every input is used twice:
 *  1. as VCD text for the reader. A rejected input gives an error naming a
 *     line and no waveform; an accepted one gives signals whose changes are
 *     in time order, one per instant, within the file's end, with levels
 *     that are 0, 1, z or x and differ from the one before, and a legal
 *     timescale; level lookups agree with the changes.
 *  2. as a GPIO record (start levels, then changes of 3 bytes: a time step,
 *     a pin, a level; some steps go back in time, some pins and levels are
 *     out of range). It is written as VCD, read back, and must give the
 *     changes this harness expects, worked out here on its own: per pin the
 *     last level at each instant, repeats dropped, times exact in the
 *     coarsest unit that divides them.
 * Any breach aborts. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/vcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *why)
{
    fprintf(stderr, "fuzz_vcd: %s (%s)\n", what, why ? why : "");
    abort();
}

/* ---- 1. the reader on arbitrary text ---- */

static bool legal_unit_fs(uint64_t fs)
{
    for (uint64_t power = 1; power <= UINT64_C(1000000000000000); power *= 1000)
        if (fs == power || fs == 10 * power || fs == 100 * power)
            return true;
    return false;
}

static bool legal_level(int level)
{
    return level == 0 || level == 1 || level == ESIM_LEVEL_FLOATING || level == ESIM_VCD_LEVEL_X;
}

static void check_signal(const esim_vcd_wave *w, const esim_vcd_signal *s)
{
    if (s->name == NULL || s->name[0] == '\0' || strlen(s->name) > ESIM_VCD_MAX_NAME)
        die("bad signal name", s->name);
    int before = ESIM_VCD_LEVEL_X;
    for (size_t i = 0; i < s->count; i++) {
        const esim_vcd_change *c = &s->changes[i];
        if (i > 0 && c->t <= s->changes[i - 1].t)
            die("changes not in time order, or two at one instant", s->name);
        if (c->t > w->end)
            die("change after the end", s->name);
        if (!legal_level(c->level) || c->level == before)
            die("bad level, or a level repeated", s->name);
        if (esim_vcd_level_at(s, c->t) != c->level || esim_vcd_first_after(s, c->t) != i + 1)
            die("lookup disagrees at a change", s->name);
        if (c->t > 0 && esim_vcd_level_at(s, c->t - 1) != before)
            die("lookup disagrees before a change", s->name);
        before = c->level;
    }
}

static void read_text(const uint8_t *data, size_t size)
{
    char why[160];
    esim_vcd_wave *w = (esim_vcd_wave *)why;
    esp_err_t err = esim_vcd_parse((const char *)data, size, &w, why, sizeof why);
    if (err != ESP_OK) {
        if (w != NULL || strncmp(why, "line ", 5) != 0)
            die("rejected without a line, or with a waveform", why);
        if (err != ESP_ERR_INVALID_ARG && err != ESP_ERR_INVALID_SIZE && err != ESP_ERR_NO_MEM)
            die("an undocumented error code", why);
        return;
    }
    if (w == NULL || why[0] != '\0' || !legal_unit_fs(w->unit_fs) || w->signal_count > ESIM_VCD_MAX_SIGNALS)
        die("accepted with a bad waveform or a message", why);
    for (size_t i = 0; i < w->signal_count; i++)
        check_signal(w, &w->signals[i]);
    esim_vcd_wave_free(w);
}

/* ---- 2. records written and read back ---- */

static const uint64_t steps_ps[] = {1, 10, 100, 12500, 1000, 25000, 100000, 1000000, 1000000000,
                                    UINT64_C(1000000000000)};

typedef struct {
    esim_vcd_record rec;
    esim_pin_change *changes;
    uint64_t end_ps;
} made_record;

static int8_t level_from(uint8_t b)
{
    static const int8_t levels[] = {0, 1, ESIM_LEVEL_FLOATING, 7, ESIM_VCD_LEVEL_X};
    return levels[b % 5];
}

static void make_record(const uint8_t *data, size_t size, made_record *m)
{
    memset(m, 0, sizeof *m);
    uint64_t step = steps_ps[data[0] % (sizeof steps_ps / sizeof steps_ps[0])];
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++) {
        size_t byte = 1 + (size_t)pin / 4;
        int code = byte < size ? data[byte] >> (pin % 4 * 2) & 3 : 0;
        m->rec.start[pin] = code == 1 ? 0 : code == 2 ? 1 : ESIM_LEVEL_FLOATING;
    }
    size_t n = size > 11 ? (size - 11) / 3 : 0;
    m->changes = calloc(n ? n : 1, sizeof *m->changes);
    if (m->changes == NULL)
        abort();
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *c = data + 11 + 3 * i;
        uint64_t delta = (uint64_t)(c[0] & 0x7f) * step;
        uint64_t stamp = c[0] & 0x80 ? (t > delta ? t - delta : 0) : (t += delta);
        m->changes[i] = (esim_pin_change){stamp, (uint8_t)(c[1] % 42), level_from(c[2])};
    }
    m->rec.changes = m->changes;
    m->rec.count = n;
    m->rec.dropped = data[0] >> 7;
    m->end_ps = t + (uint64_t)(data[0] >> 4 & 7) * step / 2;   /* sometimes between steps */
    if (data[0] & 0x08)
        m->end_ps /= 3;                                         /* sometimes before the last change */
}

static int8_t clean(int level)
{
    return level == 0 || level == 1 ? (int8_t)level : ESIM_LEVEL_FLOATING;
}

/* What pin `pin` must read back as, in ps: its level at 0, then one change
 * per instant where the last level given differs from the one before. */
static size_t expected_for_pin(const made_record *m, int pin, esim_vcd_change *out, bool *used)
{
    const esim_vcd_record *r = &m->rec;
    *used = clean(r->start[pin]) != ESIM_LEVEL_FLOATING;
    int8_t level = clean(r->start[pin]);
    size_t n = 0;
    uint64_t clamp = 0;
    out[n++] = (esim_vcd_change){0, level};
    for (size_t i = 0; i < r->count; i++) {
        if (r->changes[i].pin >= ESIM_GPIO_COUNT)
            continue;   /* not a GPIO: ignored altogether */
        clamp = r->changes[i].t_ps > clamp ? r->changes[i].t_ps : clamp;
        if (r->changes[i].pin != pin)
            continue;
        *used = true;
        int8_t v = clean(r->changes[i].level);
        if (out[n - 1].t == clamp)
            out[n - 1].level = v;   /* the last level at an instant counts */
        else if (out[n - 1].level != v)
            out[n++] = (esim_vcd_change){clamp, v};
        if (n > 1 && out[n - 1].t == clamp && out[n - 2].level == out[n - 1].level)
            n--;
    }
    return n;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

static void check_unit(const made_record *m, uint64_t unit_ps, uint64_t end_ps)
{
    uint64_t g = end_ps;
    for (size_t i = 0; i < m->rec.count; i++)
        if (m->rec.changes[i].pin < ESIM_GPIO_COUNT)
            g = gcd(g, m->rec.changes[i].t_ps);
    if (g % unit_ps != 0)
        die("the timescale does not divide every time", NULL);
    if (unit_ps < UINT64_C(100000000000000) && g % (unit_ps * 10) == 0)
        die("a coarser timescale was possible", NULL);
}

static void compare(const made_record *m, const esim_vcd_wave *w)
{
    if (w->unit_fs % 1000 != 0)
        die("a unit finer than 1 ps", NULL);
    uint64_t unit_ps = w->unit_fs / 1000, last = 0;
    for (size_t i = 0; i < m->rec.count; i++)
        if (m->rec.changes[i].pin < ESIM_GPIO_COUNT && m->rec.changes[i].t_ps > last)
            last = m->rec.changes[i].t_ps;
    uint64_t end_ps = m->end_ps > last ? m->end_ps : last;
    check_unit(m, unit_ps, end_ps);
    if (w->end * unit_ps != end_ps)
        die("wrong end time", NULL);
    esim_vcd_change *want = malloc((m->rec.count + 1) * sizeof *want);
    if (want == NULL)
        abort();
    size_t s = 0;
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++) {
        bool used;
        size_t n = expected_for_pin(m, pin, want, &used);
        if (!used)
            continue;
        char name[16];
        snprintf(name, sizeof name, "gpio%d", pin);
        if (s >= w->signal_count || strcmp(w->signals[s].name, name) != 0)
            die("pins missing or out of order", name);
        const esim_vcd_signal *sig = &w->signals[s++];
        if (sig->count != n)
            die("a different number of changes", name);
        for (size_t i = 0; i < sig->count; i++)
            if (sig->changes[i].t * unit_ps != want[i].t || sig->changes[i].level != want[i].level)
                die("a different change", name);
    }
    if (s != w->signal_count)
        die("pins that were never driven", NULL);
    free(want);
}

static void round_trip(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    made_record m;
    make_record(data, size, &m);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        abort();
    esim_vcd_header h = {"fuzz", NULL};
    if (esim_vcd_write_record(f, &m.rec, m.end_ps, &h) != ESP_OK || fclose(f) != 0)
        die("writing failed", NULL);
    char why[160];
    esim_vcd_wave *w = NULL;
    if (esim_vcd_parse(text, len, &w, why, sizeof why) != ESP_OK)
        die("our own VCD does not read back", why);
    compare(&m, w);
    esim_vcd_wave_free(w);
    free(text);
    free(m.changes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_text(data, size);
    round_trip(data, size);
    return 0;
}
