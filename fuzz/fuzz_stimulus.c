/* libFuzzer target for stimulus documents (docs/stimulus.md).
 *
 * Every input is parsed into a timeline that already holds two events, one
 * of them taken. A rejected input must leave the timeline exactly as it was
 * and say why; an accepted one must leave it sorted, in range, with the old
 * events still there in their order, and every event must then be taken
 * once, in time order. A second parse into an empty timeline, with a short
 * message buffer, must agree with the first. Any breach aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/stimulus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LATEST_US UINT64_C(9007199254740991)

static void die(const char *what, const char *why)
{
    fprintf(stderr, "fuzz_stimulus: %s (%s)\n", what, why ? why : "");
    abort();
}

static esim_stimulus *seeded(void)
{
    esim_stimulus *s;
    if (esim_stimulus_create(&s) != ESP_OK)
        abort();
    esim_stim_event a = {0, ESIM_STIM_PIN, 4, 1, 0};
    esim_stim_event b = {5000, ESIM_STIM_TEMPERATURE, 0, 0, 30};
    if (esim_stimulus_add(s, &b, NULL, 0) != ESP_OK || esim_stimulus_add(s, &a, NULL, 0) != ESP_OK)
        die("seed events refused", NULL);
    if (esim_stimulus_take_due(s, 0) == NULL)
        die("seed event not taken", NULL);
    return s;
}

static bool same_event(const esim_stim_event *x, const esim_stim_event *y)
{
    return x->at_us == y->at_us && x->kind == y->kind && x->index == y->index
        && x->level == y->level && x->value == y->value;
}

/* The ranges of docs/stimulus.md, checked here independently. */
static bool in_range(const esim_stim_event *e)
{
    if (e->at_us > LATEST_US)
        return false;
    switch (e->kind) {
    case ESIM_STIM_PIN:
        return esim_pin_exists(e->index) && (e->level == 0 || e->level == 1 || e->level == ESIM_STIM_RELEASE);
    case ESIM_STIM_TOUCH:
        return e->index >= 0 && e->index < ESIM_TOUCH_PAD_COUNT && e->value >= -1
            && e->value <= 65535 && (double)(int)e->value == e->value;
    case ESIM_STIM_TEMPERATURE:
        return e->value >= -40 && e->value <= 125;
    case ESIM_STIM_ADC:
        return esim_pin_adc_unit(e->index, NULL) != 0 && e->value >= 0 && e->value <= 3300;
    }
    return false;
}

static void check_accepted(const esim_stimulus *s, const esim_stim_event old[2], const char *why)
{
    size_t n = esim_stimulus_count(s), old_seen = 0;
    if (n < 2 || why[0] != '\0')
        die("accepted, but events lost or a message left", why);
    for (size_t i = 0; i < n; i++) {
        const esim_stim_event *e = esim_stimulus_event(s, i);
        if (!in_range(e))
            die("event out of range", NULL);
        if (i > 0 && esim_stimulus_event(s, i - 1)->at_us > e->at_us)
            die("events not sorted", NULL);
        if (old_seen < 2 && same_event(e, &old[old_seen]))
            old_seen++;
    }
    if (old_seen != 2)
        die("old events lost or reordered", NULL);
    if (esim_stimulus_event(s, n) != NULL)
        die("event past the end", NULL);
}

/* Everything not yet taken comes out once, in time order. */
static void check_takes(esim_stimulus *s)
{
    size_t taken = 0;
    uint64_t last = 0;
    for (;;) {
        uint64_t next = esim_stimulus_next_time(s);
        const esim_stim_event *e = esim_stimulus_take_due(s, UINT64_MAX - 1);
        if (e == NULL) {
            if (next != UINT64_MAX)
                die("next_time names an event take_due does not give", NULL);
            break;
        }
        if (e->at_us != next || e->at_us < last)
            die("take_due out of order", NULL);
        last = e->at_us;
        taken++;
    }
    if (taken != esim_stimulus_count(s) - 1)
        die("not every event was taken once", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    esim_stimulus *s = seeded();
    esim_stim_event old[2] = {*esim_stimulus_event(s, 0), *esim_stimulus_event(s, 1)};
    char why[512];
    esp_err_t err = esim_stimulus_parse_json(s, text, size, why, sizeof why);
    size_t added = esim_stimulus_count(s) - 2;
    if (err == ESP_OK) {
        check_accepted(s, old, why);
        check_takes(s);
    } else {
        if (err != ESP_ERR_INVALID_ARG && err != ESP_ERR_NO_MEM)
            die("undocumented error code", why);
        if (why[0] == '\0' || strlen(why) >= sizeof why)
            die("no message", NULL);
        if (esim_stimulus_count(s) != 2 || !same_event(esim_stimulus_event(s, 0), &old[0])
            || !same_event(esim_stimulus_event(s, 1), &old[1]) || esim_stimulus_next_time(s) != 5000)
            die("a rejected document changed the timeline", why);
    }
    esim_stimulus_destroy(s);

    /* Again, into an empty timeline, with a message buffer too short. */
    esim_stimulus *t;
    if (esim_stimulus_create(&t) != ESP_OK)
        abort();
    char short_why[12];
    esp_err_t again = esim_stimulus_parse_json(t, text, size, short_why, sizeof short_why);
    if (again != err)
        die("a second parse disagrees", why);
    if (err == ESP_OK && esim_stimulus_count(t) != added)
        die("a second parse added a different number of events", NULL);
    if (err != ESP_OK && strncmp(short_why, why, sizeof short_why - 1) != 0)
        die("a short message is not the start of the full one", short_why);
    esim_stimulus_destroy(t);
    return 0;
}
