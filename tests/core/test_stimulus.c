/* Tests for stimuli: the JSON timeline format (docs/stimulus.md), events added
 * one by one, and taking them in order on the virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "esp32sim/stimulus.h"

/* ---- helpers ------------------------------------------------------------ */

static esim_stimulus *fresh(void)
{
    esim_stimulus *s = NULL;
    assert_int_equal(esim_stimulus_create(&s), ESP_OK);
    assert_non_null(s);
    return s;
}

static esp_err_t parse(esim_stimulus *s, const char *text, char *why, size_t why_len)
{
    return esim_stimulus_parse_json(s, text, strlen(text), why, why_len);
}

static void parse_ok(esim_stimulus *s, const char *text)
{
    char why[512];
    esp_err_t err = parse(s, text, why, sizeof why);
    if (err != ESP_OK)
        fail_msg("parse failed (%s): %s", esim_err_name(err), why);
    assert_string_equal(why, "");
}

static const esim_stim_event *ev(const esim_stimulus *s, size_t i)
{
    const esim_stim_event *e = esim_stimulus_event(s, i);
    assert_non_null(e);
    return e;
}

static esim_stim_event make(uint64_t at_us, esim_stim_kind kind, int index, int level, double value)
{
    esim_stim_event e;
    memset(&e, 0, sizeof e);
    e.at_us = at_us;
    e.kind = kind;
    e.index = index;
    e.level = level;
    e.value = value;
    return e;
}

static void add_ok(esim_stimulus *s, esim_stim_event e)
{
    char why[256];
    assert_int_equal(esim_stimulus_add(s, &e, why, sizeof why), ESP_OK);
}

/* ---- valid documents ------------------------------------------------------ */

static void test_every_kind(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    parse_ok(s, "{\"events\": [\n"
                "  {\"at_ms\": 0, \"pin\": 4, \"level\": 1, \"comment\": \"button down\"},\n"
                "  {\"at_ms\": 1, \"pin\": 39, \"level\": 0},\n"
                "  {\"at_ms\": 2, \"pin\": 0, \"level\": true},\n"
                "  {\"at_ms\": 3, \"pin\": 0, \"level\": false},\n"
                "  {\"at_ms\": 4, \"pin\": 0, \"level\": null},\n"
                "  {\"at_ms\": 5, \"touch\": 9, \"value\": 120},\n"
                "  {\"at_ms\": 6, \"temperature_c\": -12.5},\n"
                "  {\"at_ms\": 7, \"adc\": 36, \"mv\": 1650.5},\n"
                "  {\"at_ms\": 8, \"adc\": 26, \"mv\": 3300}\n"
                "]}");
    assert_int_equal(esim_stimulus_count(s), 9);
    const esim_stim_event *e = ev(s, 0);
    assert_int_equal(e->at_us, 0);
    assert_int_equal(e->kind, ESIM_STIM_PIN);
    assert_int_equal(e->index, 4);
    assert_int_equal(e->level, 1);
    assert_int_equal(ev(s, 1)->index, 39);
    assert_int_equal(ev(s, 1)->level, 0);
    assert_int_equal(ev(s, 2)->level, 1);
    assert_int_equal(ev(s, 3)->level, 0);
    assert_int_equal(ev(s, 4)->level, ESIM_STIM_RELEASE);
    e = ev(s, 5);
    assert_int_equal(e->at_us, 5000);
    assert_int_equal(e->kind, ESIM_STIM_TOUCH);
    assert_int_equal(e->index, 9);
    assert_true(e->value == 120);
    e = ev(s, 6);
    assert_int_equal(e->kind, ESIM_STIM_TEMPERATURE);
    assert_true(e->value == -12.5);
    e = ev(s, 7);
    assert_int_equal(e->kind, ESIM_STIM_ADC);
    assert_int_equal(e->index, 36);
    assert_true(e->value == 1650.5);
    assert_int_equal(ev(s, 8)->index, 26);
    assert_null(esim_stimulus_event(s, 9));
    esim_stimulus_destroy(s);
}

static void test_range_edges_accepted(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    parse_ok(s, "{\"events\": ["
                "{\"at_us\": 0, \"touch\": 0, \"value\": 0},"
                "{\"at_us\": 0, \"touch\": 0, \"value\": 65535},"
                "{\"at_us\": 0, \"temperature_c\": -40},"
                "{\"at_us\": 0, \"temperature_c\": 125},"
                "{\"at_us\": 0, \"adc\": 4, \"mv\": 0},"
                "{\"at_us\": 9007199254740991, \"pin\": 23, \"level\": 1}]}");
    assert_int_equal(esim_stimulus_count(s), 6);
    assert_int_equal(ev(s, 5)->at_us, UINT64_C(9007199254740991));
    esim_stimulus_destroy(s);
}

static void test_empty_events(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    parse_ok(s, "{\"events\": []}");
    parse_ok(s, " \n{ \"events\" : [ ] }\n\n");
    assert_int_equal(esim_stimulus_count(s), 0);
    assert_true(esim_stimulus_next_time(s) == UINT64_MAX);
    assert_null(esim_stimulus_take_due(s, UINT64_MAX));
    esim_stimulus_destroy(s);
}

static void test_times(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    parse_ok(s, "{\"events\": ["
                "{\"at_ms\": 2.5, \"pin\": 2, \"level\": 1},"
                "{\"at_ms\": 0.0006, \"pin\": 2, \"level\": 0},"
                "{\"at_ms\": 0.0004, \"pin\": 2, \"level\": 1},"
                "{\"at_us\": 7, \"pin\": 2, \"level\": 0},"
                "{\"at_ms\": 1e3, \"pin\": 2, \"level\": 0}]}");
    assert_int_equal(esim_stimulus_count(s), 5);
    assert_int_equal(ev(s, 0)->at_us, 0);      /* 0.4 us rounds down */
    assert_int_equal(ev(s, 1)->at_us, 1);      /* 0.6 us rounds up */
    assert_int_equal(ev(s, 2)->at_us, 7);
    assert_int_equal(ev(s, 3)->at_us, 2500);
    assert_int_equal(ev(s, 4)->at_us, 1000000);
    esim_stimulus_destroy(s);
}

static void test_for_ms_expands(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    parse_ok(s, "{\"events\": ["
                "{\"at_ms\": 100, \"pin\": 0, \"level\": 0, \"for_ms\": 50},"
                "{\"at_ms\": 120, \"touch\": 3, \"value\": 200, \"for_ms\": 0.5},"
                "{\"at_ms\": 150, \"temperature_c\": 30}]}");
    assert_int_equal(esim_stimulus_count(s), 5);
    const esim_stim_event *e = ev(s, 0);
    assert_int_equal(e->at_us, 100000);
    assert_int_equal(e->level, 0);
    e = ev(s, 1);
    assert_int_equal(e->at_us, 120000);
    assert_int_equal(e->kind, ESIM_STIM_TOUCH);
    assert_true(e->value == 200);
    e = ev(s, 2);   /* the touch ends: back to the untouched reading */
    assert_int_equal(e->at_us, 120500);
    assert_int_equal(e->kind, ESIM_STIM_TOUCH);
    assert_int_equal(e->index, 3);
    assert_true(e->value == -1);
    e = ev(s, 3);   /* the pin is released, before the later event at the same time */
    assert_int_equal(e->at_us, 150000);
    assert_int_equal(e->kind, ESIM_STIM_PIN);
    assert_int_equal(e->index, 0);
    assert_int_equal(e->level, ESIM_STIM_RELEASE);
    assert_int_equal(ev(s, 4)->kind, ESIM_STIM_TEMPERATURE);
    esim_stimulus_destroy(s);
}

static void test_sorted_and_stable(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    parse_ok(s, "{\"events\": ["
                "{\"at_ms\": 30, \"pin\": 1, \"level\": 1},"
                "{\"at_ms\": 10, \"pin\": 2, \"level\": 1},"
                "{\"at_ms\": 30, \"pin\": 3, \"level\": 1},"
                "{\"at_us\": 10000, \"pin\": 4, \"level\": 1},"
                "{\"at_ms\": 20, \"pin\": 5, \"level\": 1}]}");
    add_ok(s, make(10000, ESIM_STIM_PIN, 6, 1, 0));
    parse_ok(s, "{\"events\": [{\"at_ms\": 30, \"pin\": 7, \"level\": 1},"
                "{\"at_ms\": 0, \"pin\": 8, \"level\": 1}]}");
    static const int order[] = {8, 2, 4, 6, 5, 1, 3, 7};
    assert_int_equal(esim_stimulus_count(s), 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(ev(s, i)->index, order[i]);
    esim_stimulus_destroy(s);
}

/* ---- errors --------------------------------------------------------------- */

static const struct {
    const char *doc;
    const char *why;
} bad_docs[] = {
    {"[]", "the document must be an object {\"events\": [...]}, not an array"},
    {"42", "the document must be an object {\"events\": [...]}, not a number"},
    {"{}", "the document has no \"events\""},
    {"{\"events\": [], \"pins\": 3}", "unknown top-level key \"pins\" (the document holds only \"events\")"},
    {"{\"events\": [], \"events\": []}", "\"events\" is given twice"},
    {"{\"events\": {}}", "\"events\" must be an array, not an object"},
    {"", "the document is empty"},
    {" \n\t ", "the document is empty"},
    {"{\"events\": [7]}", "events[0]: must be an object, not a number"},
    {"{\"events\": [{\"pin\": 4, \"level\": 1}]}", "events[0]: has no time; give \"at_ms\" or \"at_us\""},
    {"{\"events\": [{\"at_ms\": 1, \"at_us\": 1000, \"pin\": 4, \"level\": 1}]}",
     "events[0]: has both \"at_ms\" and \"at_us\"; give one time"},
    {"{\"events\": [{\"at_ms\": -1, \"pin\": 4, \"level\": 1}]}", "events[0]: \"at_ms\" -1 is negative"},
    {"{\"events\": [{\"at_ms\": \"5\", \"pin\": 4, \"level\": 1}]}",
     "events[0]: \"at_ms\" must be a number, not a string"},
    {"{\"events\": [{\"at_ms\": 1e999, \"pin\": 4, \"level\": 1}]}",
     "events[0]: \"at_ms\" inf is not a finite number"},
    {"{\"events\": [{\"at_ms\": 1e13, \"pin\": 4, \"level\": 1}]}",
     "events[0]: \"at_ms\" 10000000000000 is too late (the latest time is 9007199254740991 us)"},
    {"{\"events\": [{\"at_us\": 1.5, \"pin\": 4, \"level\": 1}]}", "events[0]: \"at_us\" 1.5 is not an integer"},
    {"{\"events\": [{\"at_us\": 9007199254740992, \"pin\": 4, \"level\": 1}]}",
     "events[0]: \"at_us\" 9007199254740992 is too late (the latest time is 9007199254740991 us)"},
    {"{\"events\": [{\"at_ms\": 5}]}",
     "events[0] (at_ms 5): says nothing happens; give \"pin\", \"touch\", \"temperature_c\" or \"adc\""},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": 1, \"adc\": 4, \"mv\": 3}]}",
     "events[0] (at_ms 5): has both \"pin\" and \"adc\"; one kind per event"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"levle\": 1}]}", "events[0] (at_ms 5): unknown key \"levle\""},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": 1, \"level\": 0}]}",
     "events[0] (at_ms 5): \"level\" is given twice"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"value\": 1}]}",
     "events[0] (at_ms 5): \"value\" does not belong in a \"pin\" event"},
    {"{\"events\": [{\"at_ms\": 5, \"temperature_c\": 20, \"for_ms\": 10}]}",
     "events[0] (at_ms 5): \"for_ms\" does not belong in a \"temperature_c\" event"},
    {"{\"events\": [{\"at_ms\": 5, \"adc\": 36, \"mv\": 10, \"for_ms\": 10}]}",
     "events[0] (at_ms 5): \"for_ms\" does not belong in an \"adc\" event"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4}]}", "events[0] (at_ms 5): a \"pin\" event needs \"level\""},
    {"{\"events\": [{\"at_ms\": 5, \"touch\": 4}]}", "events[0] (at_ms 5): a \"touch\" event needs \"value\""},
    {"{\"events\": [{\"at_ms\": 5, \"adc\": 36}]}", "events[0] (at_ms 5): an \"adc\" event needs \"mv\""},
    {"{\"events\": [{\"at_ms\": 0, \"pin\": 1, \"level\": 1}, {\"at_us\": 1, \"pin\": 1, \"level\": 0},"
     " {\"at_ms\": 5000, \"pin\": 24, \"level\": 1}]}",
     "events[2] (at_ms 5000): \"pin\" 24 is not a GPIO of the ESP32 (0..23, 25..27, 32..39)"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 40, \"level\": 1}]}",
     "events[0] (at_ms 5): \"pin\" 40 is not a GPIO of the ESP32 (0..23, 25..27, 32..39)"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": -1, \"level\": 1}]}",
     "events[0] (at_ms 5): \"pin\" -1 is not a GPIO of the ESP32 (0..23, 25..27, 32..39)"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4.5, \"level\": 1}]}", "events[0] (at_ms 5): \"pin\" 4.5 is not an integer"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": \"4\", \"level\": 1}]}",
     "events[0] (at_ms 5): \"pin\" must be a number, not a string"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": 2}]}",
     "events[0] (at_ms 5): \"level\" 2 must be 0, 1, true, false or null"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": \"high\"}]}",
     "events[0] (at_ms 5): \"level\" must be 0, 1, true, false or null, not a string"},
    {"{\"events\": [{\"at_ms\": 5, \"touch\": 10, \"value\": 1}]}",
     "events[0] (at_ms 5): \"touch\" 10 is not a touch pad (0..9)"},
    {"{\"events\": [{\"at_ms\": 5, \"touch\": 1, \"value\": 65536}]}",
     "events[0] (at_ms 5): \"value\" 65536 is out of range (0..65535)"},
    {"{\"events\": [{\"at_ms\": 5, \"touch\": 1, \"value\": -1}]}",
     "events[0] (at_ms 5): \"value\" -1 is out of range (0..65535)"},
    {"{\"events\": [{\"at_ms\": 5, \"touch\": 1, \"value\": 10.25}]}",
     "events[0] (at_ms 5): \"value\" 10.25 is not an integer"},
    {"{\"events\": [{\"at_ms\": 5, \"touch\": 1, \"value\": null}]}",
     "events[0] (at_ms 5): \"value\" must be a number, not null"},
    {"{\"events\": [{\"at_ms\": 5, \"temperature_c\": 125.5}]}",
     "events[0] (at_ms 5): \"temperature_c\" 125.5 is out of range (-40..125)"},
    {"{\"events\": [{\"at_ms\": 5, \"temperature_c\": true}]}",
     "events[0] (at_ms 5): \"temperature_c\" must be a number, not a boolean"},
    {"{\"events\": [{\"at_ms\": 5, \"adc\": 5, \"mv\": 1}]}",
     "events[0] (at_ms 5): \"adc\" 5 is not an ADC pin of the ESP32 (0, 2, 4, 12..15, 25..27, 32..39)"},
    {"{\"events\": [{\"at_ms\": 5, \"adc\": 36, \"mv\": 3300.5}]}",
     "events[0] (at_ms 5): \"mv\" 3300.5 is out of range (0..3300)"},
    {"{\"events\": [{\"at_ms\": 5, \"adc\": 36, \"mv\": [1]}]}",
     "events[0] (at_ms 5): \"mv\" must be a number, not an array"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": 1, \"for_ms\": 0}]}",
     "events[0] (at_ms 5): \"for_ms\" 0 must be more than 0"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": 1, \"for_ms\": -3}]}",
     "events[0] (at_ms 5): \"for_ms\" -3 must be more than 0"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": 1, \"for_ms\": 0.0001}]}",
     "events[0] (at_ms 5): \"for_ms\" 0.0001 is shorter than a microsecond"},
    {"{\"events\": [{\"at_us\": 9007199254740991, \"touch\": 0, \"value\": 1, \"for_ms\": 0.001}]}",
     "events[0] (at_us 9007199254740991): \"for_ms\" 0.001 ends too late (the latest time is 9007199254740991 us)"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": 1, \"for_ms\": {}}]}",
     "events[0] (at_ms 5): \"for_ms\" must be a number, not an object"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": 1, \"comment\": 3}]}",
     "events[0] (at_ms 5): \"comment\" must be a string, not a number"},
    {"{\"events\": [{\"at_ms\": 5, \"pin\": 4, \"level\": 1, \"x\\u0001y\": 3}]}",
     "events[0] (at_ms 5): unknown key \"x?y\""},
    {"{\"events\": [\n  {\"at_ms\": 0,, \"pin\": 4}\n]}", "JSON syntax error at line 2, column 16 (near \" \"pin\": 4}?]}\")"},
    {"{\"events\": [] } x", "text after the end of the JSON document at line 1, column 17 (near \"x\")"},
    {"{\"events\": [", "JSON syntax error at line 1, column 12 (near \"[\")"},
};

static void test_bad_documents(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    add_ok(s, make(1000, ESIM_STIM_TEMPERATURE, 0, 0, 25));
    for (size_t i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
        char why[512];
        esp_err_t err = parse(s, bad_docs[i].doc, why, sizeof why);
        if (err != ESP_ERR_INVALID_ARG)
            fail_msg("doc %zu: %s instead of ESP_ERR_INVALID_ARG", i, esim_err_name(err));
        if (strcmp(why, bad_docs[i].why) != 0)
            fail_msg("doc %zu:\n got  %s\n want %s", i, why, bad_docs[i].why);
        assert_int_equal(esim_stimulus_count(s), 1);
    }
    esim_stimulus_destroy(s);
}

/* Control characters in the syntax error's excerpt are shown as '?'. */
static void test_syntax_error_excerpt(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    char why[256];
    assert_int_equal(parse(s, "{\"events\":\n\n  [1 2]}", why, sizeof why), ESP_ERR_INVALID_ARG);
    assert_non_null(strstr(why, "JSON syntax error at line 3, column "));
    static const char with_nul[] = "{\"events\": [\0]}";
    assert_int_equal(esim_stimulus_parse_json(s, with_nul, sizeof with_nul - 1, why, sizeof why),
                     ESP_ERR_INVALID_ARG);
    assert_string_equal(why, "control character 0x00 at line 1, column 13 (near \"?]}\")");
    assert_int_equal(esim_stimulus_count(s), 0);
    /* A message cut short still ends in NUL; why may be NULL. */
    char tiny[8];
    assert_int_equal(parse(s, "[]", tiny, sizeof tiny), ESP_ERR_INVALID_ARG);
    assert_string_equal(tiny, "the doc");
    assert_int_equal(parse(s, "[]", NULL, 0), ESP_ERR_INVALID_ARG);
    esim_stimulus_destroy(s);
}

static void test_nothing_added_on_error(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    parse_ok(s, "{\"events\": [{\"at_ms\": 10, \"pin\": 4, \"level\": 1},"
                "{\"at_ms\": 20, \"pin\": 4, \"level\": 0}]}");
    assert_non_null(esim_stimulus_take_due(s, 10000));
    char why[256];
    assert_int_equal(parse(s, "{\"events\": ["
                              "{\"at_ms\": 0, \"pin\": 5, \"level\": 1, \"for_ms\": 3},"
                              "{\"at_ms\": 1, \"touch\": 2, \"value\": 5},"
                              "{\"at_ms\": 2, \"temperature_c\": 999}]}",
                           why, sizeof why),
                     ESP_ERR_INVALID_ARG);
    assert_string_equal(why, "events[2] (at_ms 2): \"temperature_c\" 999 is out of range (-40..125)");
    assert_int_equal(esim_stimulus_count(s), 2);
    assert_int_equal(esim_stimulus_next_time(s), 20000);
    assert_int_equal(ev(s, 0)->index, 4);
    assert_int_equal(ev(s, 1)->level, 0);
    esim_stimulus_destroy(s);
}

/* ---- esim_stimulus_add ------------------------------------------------------ */

static void test_add_checks(void **state)
{
    (void)state;
    static const struct {
        esim_stim_kind kind;
        int index, level;
        double value;
        const char *why;
    } bad[] = {
        {ESIM_STIM_PIN, 24, 1, 0, "event at_us 5: \"pin\" 24 is not a GPIO of the ESP32 (0..23, 25..27, 32..39)"},
        {ESIM_STIM_PIN, 4, 2, 0, "event at_us 5: \"level\" 2 must be 0, 1 or ESIM_STIM_RELEASE (-1)"},
        {ESIM_STIM_TOUCH, 10, 0, 5, "event at_us 5: \"touch\" 10 is not a touch pad (0..9)"},
        {ESIM_STIM_TOUCH, 1, 0, -2, "event at_us 5: \"value\" -2 is out of range (0..65535)"},
        {ESIM_STIM_TOUCH, 1, 0, 0.5, "event at_us 5: \"value\" 0.5 is not an integer"},
        {ESIM_STIM_TEMPERATURE, 0, 0, -41, "event at_us 5: \"temperature_c\" -41 is out of range (-40..125)"},
        {ESIM_STIM_TEMPERATURE, 0, 0, NAN, "event at_us 5: \"temperature_c\" nan is not a finite number"},
        {ESIM_STIM_ADC, 23, 0, 1, "event at_us 5: \"adc\" 23 is not an ADC pin of the ESP32 (0, 2, 4, 12..15, 25..27, 32..39)"},
        {ESIM_STIM_ADC, 39, 0, INFINITY, "event at_us 5: \"mv\" inf is not a finite number"},
        {(esim_stim_kind)9, 0, 0, 0, "event at_us 5: unknown event kind 9"},
    };
    esim_stimulus *s = fresh();
    char why[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        esim_stim_event e = make(5, bad[i].kind, bad[i].index, bad[i].level, bad[i].value);
        assert_int_equal(esim_stimulus_add(s, &e, why, sizeof why), ESP_ERR_INVALID_ARG);
        if (strcmp(why, bad[i].why) != 0)
            fail_msg("case %zu:\n got  %s\n want %s", i, why, bad[i].why);
    }
    esim_stim_event late = make(UINT64_C(9007199254740992), ESIM_STIM_PIN, 4, 1, 0);
    assert_int_equal(esim_stimulus_add(s, &late, why, sizeof why), ESP_ERR_INVALID_ARG);
    assert_string_equal(why, "event at_us 9007199254740992: the time is too late (the latest is 9007199254740991 us)");
    assert_int_equal(esim_stimulus_add(s, NULL, why, sizeof why), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_stimulus_count(s), 0);
    /* What for_ms makes is accepted: a release, an untouched pad. */
    add_ok(s, make(5, ESIM_STIM_PIN, 34, ESIM_STIM_RELEASE, 0));
    add_ok(s, make(5, ESIM_STIM_TOUCH, 9, 0, -1));
    add_ok(s, make(5, ESIM_STIM_ADC, 25, 0, 3300));
    assert_int_equal(esim_stimulus_count(s), 3);
    esim_stimulus_destroy(s);
}

/* ---- taking events in order --------------------------------------------- */

static void test_take_in_order(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    assert_true(esim_stimulus_next_time(s) == UINT64_MAX);
    parse_ok(s, "{\"events\": [{\"at_ms\": 2, \"pin\": 4, \"level\": 1},"
                "{\"at_ms\": 1, \"pin\": 5, \"level\": 1},"
                "{\"at_ms\": 2, \"pin\": 6, \"level\": 1}]}");
    assert_int_equal(esim_stimulus_next_time(s), 1000);
    assert_null(esim_stimulus_take_due(s, 999));
    const esim_stim_event *e = esim_stimulus_take_due(s, 1000);
    assert_non_null(e);
    assert_int_equal(e->index, 5);
    assert_null(esim_stimulus_take_due(s, 1999));
    assert_int_equal(esim_stimulus_next_time(s), 2000);
    e = esim_stimulus_take_due(s, 5000);
    assert_int_equal(e->index, 4);
    e = esim_stimulus_take_due(s, 5000);
    assert_int_equal(e->index, 6);
    assert_null(esim_stimulus_take_due(s, 5000));
    assert_true(esim_stimulus_next_time(s) == UINT64_MAX);
    /* Taken events are still listed until cleared. */
    assert_int_equal(esim_stimulus_count(s), 3);
    esim_stimulus_clear(s);
    assert_int_equal(esim_stimulus_count(s), 0);
    assert_true(esim_stimulus_next_time(s) == UINT64_MAX);
    add_ok(s, make(3, ESIM_STIM_TEMPERATURE, 0, 0, 20));
    assert_int_equal(esim_stimulus_next_time(s), 3);
    esim_stimulus_destroy(s);
}

static void test_late_added_events(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    for (int i = 1; i <= 4; i++)
        add_ok(s, make((uint64_t)i * 100, ESIM_STIM_PIN, i, 1, 0));
    assert_int_equal(esim_stimulus_take_due(s, 250)->index, 1);
    assert_int_equal(esim_stimulus_take_due(s, 250)->index, 2);
    assert_null(esim_stimulus_take_due(s, 250));
    /* Earlier than everything taken: next, though its time has passed. */
    add_ok(s, make(50, ESIM_STIM_PIN, 10, 1, 0));
    /* Same time as a taken event: after it, so still before 300. */
    add_ok(s, make(200, ESIM_STIM_PIN, 11, 1, 0));
    parse_ok(s, "{\"events\": [{\"at_us\": 150, \"pin\": 12, \"level\": 0},"
                "{\"at_us\": 350, \"pin\": 13, \"level\": 0}]}");
    assert_int_equal(esim_stimulus_count(s), 8);
    assert_int_equal(esim_stimulus_next_time(s), 50);
    assert_int_equal(esim_stimulus_take_due(s, 250)->index, 10);
    assert_int_equal(esim_stimulus_next_time(s), 150);
    assert_int_equal(esim_stimulus_take_due(s, 250)->index, 12);
    assert_int_equal(esim_stimulus_take_due(s, 250)->index, 11);
    assert_null(esim_stimulus_take_due(s, 250));
    assert_int_equal(esim_stimulus_next_time(s), 300);
    /* An earlier event while others wait: the cursor moves back, then on. */
    add_ok(s, make(0, ESIM_STIM_PIN, 14, 1, 0));
    assert_int_equal(esim_stimulus_next_time(s), 0);
    static const int rest[] = {14, 3, 13, 4};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(esim_stimulus_take_due(s, 1000)->index, rest[i]);
    assert_null(esim_stimulus_take_due(s, UINT64_MAX));
    static const int listed[] = {14, 10, 1, 12, 2, 11, 3, 13, 4};
    assert_int_equal(esim_stimulus_count(s), 9);
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(ev(s, i)->index, listed[i]);
    esim_stimulus_destroy(s);
}

/* Many events added in a scrambled order come out sorted and stable. */
static void test_many_events(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    for (int i = 0; i < 2000; i++)
        add_ok(s, make((uint64_t)((i * 7919) % 101), ESIM_STIM_TOUCH, 0, 0, i));
    uint64_t last_t = 0;
    double last_v = -1;
    for (int n = 0; n < 2000; n++) {
        const esim_stim_event *e = esim_stimulus_take_due(s, UINT64_MAX - 1);
        assert_non_null(e);
        assert_true(e->at_us >= last_t);
        if (e->at_us == last_t)
            assert_true(e->value > last_v);
        last_t = e->at_us;
        last_v = e->value;
    }
    assert_null(esim_stimulus_take_due(s, UINT64_MAX));
    esim_stimulus_destroy(s);
}

/* ---- files -------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_load_file(void **state)
{
    (void)state;
    esim_stimulus *s = fresh();
    char why[512];
    const char *missing = "no-such-dir/stimulus.json";
    assert_int_equal(esim_stimulus_load_file(s, missing, why, sizeof why), ESP_ERR_NOT_FOUND);
    assert_string_equal(why, "no-such-dir/stimulus.json: cannot open: No such file or directory");

    const char *path = "test_stimulus_tmp.json";
    write_file(path, "{\"events\": [{\"at_ms\": 1, \"adc\": 34, \"mv\": 100}]}\n");
    assert_int_equal(esim_stimulus_load_file(s, path, why, sizeof why), ESP_OK);
    assert_int_equal(esim_stimulus_count(s), 1);
    assert_int_equal(ev(s, 0)->index, 34);

    write_file(path, "{\"events\": [{\"at_ms\": 1, \"adc\": 34}]}\n");
    assert_int_equal(esim_stimulus_load_file(s, path, why, sizeof why), ESP_ERR_INVALID_ARG);
    assert_string_equal(why, "test_stimulus_tmp.json: events[0] (at_ms 1): an \"adc\" event needs \"mv\"");

    write_file(path, "");
    assert_int_equal(esim_stimulus_load_file(s, path, why, sizeof why), ESP_ERR_INVALID_ARG);
    assert_string_equal(why, "test_stimulus_tmp.json: the document is empty");

    /* One byte over 16 MiB (a sparse file). */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 16L * 1024 * 1024, SEEK_SET), 0);
    assert_int_equal(fputc(' ', f), ' ');
    assert_int_equal(fclose(f), 0);
    assert_int_equal(esim_stimulus_load_file(s, path, why, sizeof why), ESP_ERR_INVALID_ARG);
    assert_string_equal(why, "test_stimulus_tmp.json: the file is larger than 16 MiB, the limit for stimulus files");
    assert_int_equal(esim_stimulus_count(s), 1);
    assert_int_equal(unlink(path), 0);

    assert_int_equal(esim_stimulus_load_file(s, ".", why, sizeof why), ESP_ERR_NOT_FOUND);
    assert_string_equal(why, ".: cannot read: Is a directory");
    esim_stimulus_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_range_edges_accepted),
        cmocka_unit_test(test_empty_events),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_for_ms_expands),
        cmocka_unit_test(test_sorted_and_stable),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_syntax_error_excerpt),
        cmocka_unit_test(test_nothing_added_on_error),
        cmocka_unit_test(test_add_checks),
        cmocka_unit_test(test_take_in_order),
        cmocka_unit_test(test_late_added_events),
        cmocka_unit_test(test_many_events),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
