/* Tests for VCD: the GPIO record written as VCD text (exact text, the
 * timescale rule, floating pins, a record that dropped its oldest changes)
 * and VCD text read back (round trip, other tools' files, errors naming
 * their line). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esp32sim/gpio.h"
#include "esp32sim/vcd.h"

/* ---- helpers ------------------------------------------------------------ */

#define US UINT64_C(1000000)   /* in ps */
#define FLOAT ESIM_LEVEL_FLOATING

typedef struct {
    char *text;
    size_t len;
    FILE *f;
} memfile;

static void mem_open(memfile *m)
{
    m->text = NULL;
    m->len = 0;
    m->f = open_memstream(&m->text, &m->len);
    assert_non_null(m->f);
}

static char *mem_close(memfile *m)
{
    assert_int_equal(fclose(m->f), 0);
    return m->text;
}

static void all_floating(esim_vcd_record *rec)
{
    memset(rec, 0, sizeof *rec);
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        rec->start[pin] = FLOAT;
}

static char *write_record(const esim_vcd_record *rec, uint64_t end_ps, const esim_vcd_header *h)
{
    memfile m;
    mem_open(&m);
    assert_int_equal(esim_vcd_write_record(m.f, rec, end_ps, h), ESP_OK);
    return mem_close(&m);
}

/* The body of a written file: what follows "$enddefinitions $end\n". */
static const char *body_of(const char *text)
{
    const char *p = strstr(text, "$enddefinitions $end\n");
    assert_non_null(p);
    return p + strlen("$enddefinitions $end\n");
}

static const char *timescale_of(const char *text, char *buf, size_t cap)
{
    const char *p = strstr(text, "$timescale ");
    assert_non_null(p);
    p += strlen("$timescale ");
    const char *e = strstr(p, " $end");
    assert_non_null(e);
    assert_true((size_t)(e - p) < cap);
    memcpy(buf, p, (size_t)(e - p));
    buf[e - p] = '\0';
    return buf;
}

static esim_vcd_wave *parse_ok(const char *text)
{
    char why[256];
    esim_vcd_wave *w = NULL;
    esp_err_t err = esim_vcd_parse(text, strlen(text), &w, why, sizeof why);
    if (err != ESP_OK)
        fail_msg("parse failed (0x%x): %s", (unsigned)err, why);
    assert_non_null(w);
    return w;
}

static void parse_fails(const char *text, esp_err_t want, const char *message)
{
    char why[256];
    esim_vcd_wave *w = (esim_vcd_wave *)&why;   /* must come back NULL */
    esp_err_t err = esim_vcd_parse(text, strlen(text), &w, why, sizeof why);
    if (err != want)
        fail_msg("for %s\nwanted error 0x%x, got 0x%x (%s)", text, (unsigned)want, (unsigned)err, why);
    assert_null(w);
    assert_string_equal(why, message);
}

static const esim_vcd_signal *signal_named(const esim_vcd_wave *w, const char *name)
{
    for (size_t i = 0; i < w->signal_count; i++)
        if (strcmp(w->signals[i].name, name) == 0)
            return &w->signals[i];
    fail_msg("no signal %s", name);
    return NULL;
}

static void assert_changes(const esim_vcd_signal *s, const esim_vcd_change *want, size_t n)
{
    assert_int_equal(s->count, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s->changes[i].t, want[i].t);
        assert_int_equal(s->changes[i].level, want[i].level);
    }
}

/* ---- writing ------------------------------------------------------------ */

static const char small_vcd[] =
    "$date\n\ttoday\n$end\n"
    "$version\n\tesp32sim test\n$end\n"
    "$timescale 1 us $end\n"
    "$scope module board $end\n"
    "$var wire 1 ! gpio2 $end\n"
    "$var wire 1 \" gpio18 $end\n"
    "$upscope $end\n"
    "$enddefinitions $end\n"
    "#0\n$dumpvars\n0!\nz\"\n$end\n"
    "#1\n1\"\n"
    "#2\n1!\n0\"\n"
    "#3\nz!\n"
    "#5\n";

static const esim_pin_change small_changes[] = {
    {0, 2, 0},         /* at #0: folded into $dumpvars */
    {1 * US, 18, 1},
    {2 * US, 18, 0},
    {2 * US, 2, 1},    /* written in pin order within an instant */
    {3 * US, 2, FLOAT},
};

static void test_exact_text(void **state)
{
    (void)state;
    esim_vcd_record rec;
    all_floating(&rec);
    rec.changes = small_changes;
    rec.count = sizeof small_changes / sizeof small_changes[0];
    esim_vcd_header h = {"today", "esp32sim test"};
    char *text = write_record(&rec, 5 * US, &h);
    assert_string_equal(text, small_vcd);
    free(text);
}

/* The same record made by driving a GPIO block from outside. */
static void test_gpio_record(void **state)
{
    (void)state;
    esim_gpio *g = NULL;
    assert_int_equal(esim_gpio_create(&g), ESP_OK);
    for (size_t i = 0; i < sizeof small_changes / sizeof small_changes[0]; i++) {
        esim_gpio_set_time_ps(g, small_changes[i].t_ps);
        esim_gpio_drive_from_outside(g, small_changes[i].pin, small_changes[i].level);
    }
    memfile m;
    mem_open(&m);
    esim_vcd_header h = {"today", "esp32sim test"};
    assert_int_equal(esim_vcd_write_gpio(m.f, g, 5 * US, &h), ESP_OK);
    char *text = mem_close(&m);
    assert_string_equal(text, small_vcd);
    free(text);
    esim_gpio_destroy(g);
}

static void test_default_header_and_no_pins(void **state)
{
    (void)state;
    esim_vcd_record rec;
    all_floating(&rec);
    char *text = write_record(&rec, 3 * US, NULL);
    assert_string_equal(text, "$version\n\tesp32sim\n$end\n"
                              "$timescale 1 us $end\n"
                              "$scope module board $end\n$upscope $end\n$enddefinitions $end\n"
                              "#0\n$dumpvars\n$end\n#3\n");
    free(text);
}

static void test_unit_choice(void **state)
{
    (void)state;
    const uint64_t ns1[] = {1000, 3000, 7000};           /* 1 ns steps */
    const uint64_t apb[] = {12500, 25000, 37500};        /* 12.5 ns RMT ticks */
    const uint64_t rmt100[] = {100000, 300000, 1200000}; /* 100 ns ticks */
    const uint64_t us1[] = {US, 5 * US, 12 * US};
    const uint64_t mixed[] = {10 * US, 2500 * US};       /* gcd 10 us */
    const uint64_t sec[] = {3 * 1000000 * US, 0};
    const uint64_t zero[] = {0, 0};
    const uint64_t odd[] = {1000, 1001};
    assert_int_equal(esim_vcd_unit_ps(ns1, 3), 1000);
    assert_int_equal(esim_vcd_unit_ps(apb, 3), 100);
    assert_int_equal(esim_vcd_unit_ps(rmt100, 3), 100000);
    assert_int_equal(esim_vcd_unit_ps(us1, 3), US);
    assert_int_equal(esim_vcd_unit_ps(mixed, 2), 10 * US);
    assert_int_equal(esim_vcd_unit_ps(sec, 2), 1000000 * US);
    assert_int_equal(esim_vcd_unit_ps(zero, 2), UINT64_C(100000000000000));
    assert_int_equal(esim_vcd_unit_ps(NULL, 0), UINT64_C(100000000000000));
    assert_int_equal(esim_vcd_unit_ps(odd, 2), 1);
}

/* The written timescale covers the change times and the end time. */
static void written_unit(const uint64_t *times, size_t n, uint64_t end_ps, const char *want_scale,
                         const char *want_body)
{
    esim_pin_change changes[8];
    for (size_t i = 0; i < n; i++)
        changes[i] = (esim_pin_change){times[i], 5, (int8_t)(i % 2 == 0)};
    esim_vcd_record rec;
    all_floating(&rec);
    rec.changes = changes;
    rec.count = n;
    char *text = write_record(&rec, end_ps, NULL);
    char scale[32];
    assert_string_equal(timescale_of(text, scale, sizeof scale), want_scale);
    assert_string_equal(body_of(text), want_body);
    free(text);
}

static void test_written_timescales(void **state)
{
    (void)state;
    const uint64_t ns1[] = {1000, 4000};
    written_unit(ns1, 2, 10000, "1 ns", "#0\n$dumpvars\nz!\n$end\n#1\n1!\n#4\n0!\n#10\n");
    const uint64_t apb[] = {12500, 25000};
    written_unit(apb, 2, 50000, "100 ps", "#0\n$dumpvars\nz!\n$end\n#125\n1!\n#250\n0!\n#500\n");
    const uint64_t rmt100[] = {100000, 300000};
    written_unit(rmt100, 2, 1000000, "100 ns", "#0\n$dumpvars\nz!\n$end\n#1\n1!\n#3\n0!\n#10\n");
    const uint64_t us1[] = {2 * US, 7 * US};
    written_unit(us1, 2, 290000 * US, "1 us", "#0\n$dumpvars\nz!\n$end\n#2\n1!\n#7\n0!\n#290000\n");
    const uint64_t ms[] = {100000 * US, 300000 * US};
    written_unit(ms, 2, 1000000 * US, "100 ms", "#0\n$dumpvars\nz!\n$end\n#1\n1!\n#3\n0!\n#10\n");
    /* the end time counts: 1 us changes, an end at 2.5 us */
    written_unit(us1, 2, 7 * US + 500000, "100 ns", "#0\n$dumpvars\nz!\n$end\n#20\n1!\n#70\n0!\n#75\n");
    /* an end before the last change is raised to it */
    written_unit(us1, 2, 3 * US, "1 us", "#0\n$dumpvars\nz!\n$end\n#2\n1!\n#7\n0!\n");
}

static void test_instants_and_floating(void **state)
{
    (void)state;
    const esim_pin_change changes[] = {
        {0, 4, 1},          /* 4 is driven from the start */
        {0, 4, 0},          /* ... and settles at 0 at #0 */
        {2 * US, 4, 1},     /* a zero-length pulse: nothing written */
        {2 * US, 4, 0},
        {3 * US, 4, FLOAT}, /* released: z */
        {3 * US, 6, 1},
        {1 * US, 6, 0},     /* stamped before the change above: written at #3, after it */
        {4 * US, 4, 1},
        {4 * US, 6, 0},     /* already 0 in the file: nothing */
        {5 * US, 40, 1},    /* not a GPIO: ignored */
        {5 * US, 6, 7},     /* not a level: written as z */
    };
    esim_vcd_record rec;
    all_floating(&rec);
    rec.changes = changes;
    rec.count = sizeof changes / sizeof changes[0];
    char *text = write_record(&rec, 6 * US, NULL);
    assert_non_null(strstr(text, "$var wire 1 ! gpio4 $end\n$var wire 1 \" gpio6 $end\n$upscope"));
    assert_string_equal(body_of(text), "#0\n$dumpvars\n0!\nz\"\n$end\n"
                                       "#3\nz!\n0\"\n"
                                       "#4\n1!\n"
                                       "#5\nz\"\n"
                                       "#6\n");
    free(text);
}

/* After the record dropped its oldest changes, #0 shows the levels it
 * starts from, pins with no change left included, and a comment says so. */
static void test_dropped_record(void **state)
{
    (void)state;
    const esim_pin_change changes[] = {{50 * US, 2, 0}, {60 * US, 2, 1}};
    esim_vcd_record rec;
    all_floating(&rec);
    rec.start[2] = 1;
    rec.start[33] = 0;   /* no change left in the record */
    rec.changes = changes;
    rec.count = 2;
    rec.dropped = 4194304;
    char *text = write_record(&rec, 70 * US, NULL);
    assert_non_null(strstr(text, "$comment\n\t4194304 earlier level changes were dropped from the record;"
                                 " #0 shows the levels it starts from\n$end\n"));
    assert_non_null(strstr(text, "$var wire 1 ! gpio2 $end\n$var wire 1 \" gpio33 $end\n"));
    char scale[32];
    assert_string_equal(timescale_of(text, scale, sizeof scale), "10 us");
    assert_string_equal(body_of(text), "#0\n$dumpvars\n1!\n0\"\n$end\n#5\n0!\n#6\n1!\n#7\n");
    free(text);

    /* the GPIO block reports its own start levels after a clear */
    esim_gpio *g = NULL;
    assert_int_equal(esim_gpio_create(&g), ESP_OK);
    esim_gpio_set_time_ps(g, 5 * US);
    esim_gpio_drive_from_outside(g, 13, 1);
    esim_gpio_trace_clear(g);
    esim_gpio_set_time_ps(g, 9 * US);
    esim_gpio_drive_from_outside(g, 12, 0);
    memfile m;
    mem_open(&m);
    assert_int_equal(esim_vcd_write_gpio(m.f, g, 10 * US, NULL), ESP_OK);
    text = mem_close(&m);
    assert_non_null(strstr(text, "$var wire 1 ! gpio12 $end\n$var wire 1 \" gpio13 $end\n"));
    assert_string_equal(body_of(text), "#0\n$dumpvars\nz!\n1\"\n$end\n#9\n0!\n#10\n");
    free(text);
    esim_gpio_destroy(g);
}

static void test_write_error(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (f == NULL)
        skip();
    esim_vcd_record rec;
    all_floating(&rec);
    rec.changes = small_changes;
    rec.count = sizeof small_changes / sizeof small_changes[0];
    esp_err_t err = esim_vcd_write_record(f, &rec, 5 * US, NULL);
    int closed = fclose(f);
    assert_true(err == ESP_FAIL || closed != 0);   /* buffered: the error may show only at close */
}

/* ---- reading ------------------------------------------------------------ */

static void test_round_trip(void **state)
{
    (void)state;
    esim_vcd_record rec;
    all_floating(&rec);
    rec.changes = small_changes;
    rec.count = sizeof small_changes / sizeof small_changes[0];
    char *text = write_record(&rec, 5 * US, NULL);
    esim_vcd_wave *w = parse_ok(text);
    assert_int_equal(w->unit_fs, UINT64_C(1000000000));
    assert_int_equal(w->end, 5);
    assert_int_equal(w->signal_count, 2);
    assert_string_equal(w->signals[0].name, "gpio2");
    assert_string_equal(w->signals[1].name, "gpio18");
    const esim_vcd_change g2[] = {{0, 0}, {2, 1}, {3, FLOAT}};
    const esim_vcd_change g18[] = {{0, FLOAT}, {1, 1}, {2, 0}};
    assert_changes(&w->signals[0], g2, 3);
    assert_changes(&w->signals[1], g18, 3);
    esim_vcd_wave_free(w);
    free(text);

    /* 12.5 ns ticks come back exact */
    const esim_pin_change apb[] = {{12500, 18, 1}, {25000, 18, 0}, {37500, 18, 1}};
    rec.changes = apb;
    rec.count = 3;
    text = write_record(&rec, 50000, NULL);
    w = parse_ok(text);
    assert_int_equal(w->unit_fs, 100000);
    const esim_vcd_change want[] = {{0, FLOAT}, {125, 1}, {250, 0}, {375, 1}};
    assert_changes(&w->signals[0], want, 4);
    assert_int_equal(w->end, 500);
    esim_vcd_wave_free(w);
    free(text);
}

static void test_other_tools(void **state)
{
    (void)state;
    const char *text =
        "$comment made by hand $end\n"
        "$timescale\n\t10ns\n$end\n"
        "$scope module top $end\n"
        "$var reg 1 ab clk $end\n"
        "$var wire 8 # data [7:0] $end\n"
        "$var integer 32 $ count $end\n"
        "$var real 64 % level $end\n"
        "$var event 1 & tick $end\n"
        "$scope module uart $end\n"
        "$var wire 1 ' tx $end\n"
        "$var wire 1 ab clk_alias $end\n"
        "$var wire 1 ( bit [3] $end\n"
        "$upscope $end\n"
        "$upscope $end\n"
        "$enddefinitions $end\n"
        "$dumpvars\nxab\nb00000000 #\nb0 $\nr0.5 %\nx'\nZ(\n$end\n"
        "#5\n1ab\nb10100101 #\n1&\nb1 '\n"
        "$comment halfway $end\n"
        "#5\n0ab\n1ab\n"   /* the same time again: the last value counts */
        "#7\nX'\n"
        "#9\n0ab\n"
        "#12\n";
    esim_vcd_wave *w = parse_ok(text);
    assert_int_equal(w->unit_fs, 10000000);
    assert_int_equal(w->end, 12);
    assert_int_equal(w->signal_count, 3);
    assert_string_equal(w->signals[0].name, "clk");
    assert_string_equal(w->signals[1].name, "uart.tx");
    assert_string_equal(w->signals[2].name, "uart.bit[3]");
    const esim_vcd_change clk[] = {{5, 1}, {9, 0}};   /* x at 0 is the unknown start */
    const esim_vcd_change tx[] = {{5, 1}, {7, ESIM_VCD_LEVEL_X}};
    const esim_vcd_change bit[] = {{0, FLOAT}};
    assert_changes(signal_named(w, "clk"), clk, 2);
    assert_changes(signal_named(w, "uart.tx"), tx, 2);
    assert_changes(signal_named(w, "uart.bit[3]"), bit, 1);

    const esim_vcd_signal *c = &w->signals[0];
    assert_int_equal(esim_vcd_level_at(c, 0), ESIM_VCD_LEVEL_X);
    assert_int_equal(esim_vcd_level_at(c, 5), 1);
    assert_int_equal(esim_vcd_level_at(c, 8), 1);
    assert_int_equal(esim_vcd_level_at(c, 9), 0);
    assert_int_equal(esim_vcd_level_at(c, 1000), 0);
    assert_int_equal(esim_vcd_first_after(c, 0), 0);
    assert_int_equal(esim_vcd_first_after(c, 5), 1);
    assert_int_equal(esim_vcd_first_after(c, 9), 2);
    esim_vcd_wave_free(w);
}

static void test_timescales_read(void **state)
{
    (void)state;
    static const struct {
        const char *scale;
        uint64_t fs;
    } cases[] = {{"1 s", UINT64_C(1000000000000000)}, {"100 s", UINT64_C(100000000000000000)},
                 {"10 ms", UINT64_C(10000000000000)}, {"1us", UINT64_C(1000000000)},
                 {"100 ns", 100000000},                {"1 ps", 1000},
                 {"10 fs", 10},                        {"1 fs", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "$timescale %s $end $enddefinitions $end #3", cases[i].scale);
        esim_vcd_wave *w = parse_ok(text);
        assert_int_equal(w->unit_fs, cases[i].fs);
        assert_int_equal(w->end, 3);
        assert_int_equal(w->signal_count, 0);
        esim_vcd_wave_free(w);
    }
}

#define HEAD "$timescale 1 ns $end\n$scope module m $end\n$var wire 1 ! a $end\n$upscope $end\n"

static void test_parse_errors(void **state)
{
    (void)state;
    const esp_err_t BAD = ESP_ERR_INVALID_ARG;
    parse_fails("", BAD, "line 1: no $enddefinitions: not a VCD file");
    parse_fails("hello\n", BAD, "line 1: 'hello' outside a $keyword block");
    parse_fails(HEAD, BAD, "line 5: no $enddefinitions: not a VCD file");
    parse_fails("$date\n today\n", BAD, "line 1: $date is not closed by $end");
    parse_fails("\n$scope module m $end\n$var wire 1 ! a\n", BAD, "line 3: $var is not closed by $end");
    parse_fails("$scope module m $end $enddefinitions $end\n", BAD, "line 1: no $timescale before $enddefinitions");
    parse_fails("\n\n$timescale 1000 ns $end\n", BAD,
                "line 3: bad $timescale '1000ns' (1, 10 or 100 then s, ms, us, ns, ps or fs)");
    parse_fails("$timescale 1 sec $end\n", BAD, "line 1: bad $timescale '1sec' (1, 10 or 100 then s, ms, us, ns, ps or fs)");
    parse_fails("$timescale 1 ns $end\n$timescale 1 ns $end\n", BAD, "line 2: a second $timescale");
    parse_fails("$timescale 1 ns $end\n$upscope $end\n", BAD, "line 2: $upscope without a $scope");
    parse_fails("$timescale 1 ns $end\n$scope module $end\n", BAD, "line 2: $scope needs a type and a name, then $end");
    parse_fails("$timescale 1 ns $end\n$var wire 1 ! $end\n", BAD, "line 2: $var needs a type, a size, an id and a name");
    parse_fails("$timescale 1 ns $end\n$var wire x ! a $end\n", BAD, "line 2: $var size 'x' is not a number of bits");
    parse_fails("$timescale 1 ns $end\n$var wire 0 ! a $end\n", BAD, "line 2: $var size '0' is not a number of bits");
    parse_fails("$timescale 1 ns $end\n$var wire 1 ! a [0] b $end\n", BAD,
                "line 2: $var has more than a type, size, id, name and bit-select");
    parse_fails("$timescale 1 ns $end\n$var wire 1 \xc3\xa9 a $end\n", BAD, "line 2: $var id '?" "?' is not printable ASCII");
    parse_fails(HEAD "$enddefinitions $end\n#0\n1!\n1?\n", BAD, "line 8: value change for unknown id '?'");
    parse_fails(HEAD "$enddefinitions $end\n#10\n#9\n", BAD, "line 7: time #9 goes back (after #10)");
    parse_fails(HEAD "$enddefinitions $end\n#1x\n", BAD, "line 6: time '#1x' is not a whole number");
    parse_fails(HEAD "$enddefinitions $end\n#\n", BAD, "line 6: '#' without a time");
    parse_fails(HEAD "$enddefinitions $end\n#99999999999999999999\n", ESP_ERR_INVALID_SIZE,
                "line 6: time '#99999999999999999999' is too large");
    parse_fails(HEAD "$enddefinitions $end\n1\n", BAD, "line 6: value '1' without an id");
    parse_fails(HEAD "$enddefinitions $end\nq!\n", BAD, "line 6: 'q!' is not a time or a value change");
    parse_fails(HEAD "$enddefinitions $end\n$var wire 1 \" b $end\n", BAD, "line 6: '$var' after $enddefinitions");
    parse_fails(HEAD "$enddefinitions $end\nb102 !\n", BAD, "line 6: 'b102' is not a binary value");
    parse_fails(HEAD "$enddefinitions $end\nb1\n", BAD, "line 6: value 'b1' without an id");
    parse_fails(HEAD "$enddefinitions $end\nr1.5 !\n", BAD, "line 6: 'r1.5' is not a value for a 1-bit variable");
    parse_fails(HEAD "$enddefinitions $end\n$comment never closed\n", BAD, "line 6: $comment is not closed by $end");
}

static void test_nul_and_limits(void **state)
{
    (void)state;
    static const char nul[] = HEAD "$enddefinitions $end\n#1\n1\0!\n";
    char why[128];
    esim_vcd_wave *w = NULL;
    assert_int_equal(esim_vcd_parse(nul, sizeof nul - 1, &w, why, sizeof why), ESP_ERR_INVALID_ARG);
    assert_null(w);
    assert_string_equal(why, "line 7: a NUL byte: not VCD text");

    /* one more variable than the limit */
    size_t cap = (ESIM_VCD_MAX_SIGNALS + 1) * 40 + 100;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = (size_t)snprintf(text, cap, "$timescale 1 ns $end\n");
    for (unsigned i = 0; i <= ESIM_VCD_MAX_SIGNALS; i++)
        n += (size_t)snprintf(text + n, cap - n, "$var wire 1 i%u s%u $end\n", i, i);
    snprintf(text + n, cap - n, "$enddefinitions $end\n");
    assert_int_equal(esim_vcd_parse(text, strlen(text), &w, why, sizeof why), ESP_ERR_INVALID_SIZE);
    assert_string_equal(why, "line 1026: more than 1024 variables");
    free(text);

    /* a name longer than 255 bytes */
    char longname[400];
    memset(longname, 'n', 256);
    longname[256] = '\0';
    char doc[600];
    snprintf(doc, sizeof doc, "$timescale 1 ns $end\n$var wire 1 ! %s $end\n", longname);
    assert_int_equal(esim_vcd_parse(doc, strlen(doc), &w, why, sizeof why), ESP_ERR_INVALID_SIZE);
    assert_string_equal(why, "line 2: a variable name longer than 255 bytes");
    longname[255] = '\0';
    snprintf(doc, sizeof doc, "$timescale 1 ns $end\n$var wire 1 ! %s $end\n$enddefinitions $end\n", longname);
    w = parse_ok(doc);
    assert_int_equal(strlen(w->signals[0].name), 255);
    esim_vcd_wave_free(w);

    /* a short message buffer gets a prefix; a NULL one is allowed */
    char tiny[8];
    assert_int_equal(esim_vcd_parse("x", 1, &w, tiny, sizeof tiny), ESP_ERR_INVALID_ARG);
    assert_string_equal(tiny, "line 1:");
    assert_int_equal(esim_vcd_parse("x", 1, &w, NULL, 0), ESP_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_text),
        cmocka_unit_test(test_gpio_record),
        cmocka_unit_test(test_default_header_and_no_pins),
        cmocka_unit_test(test_unit_choice),
        cmocka_unit_test(test_written_timescales),
        cmocka_unit_test(test_instants_and_floating),
        cmocka_unit_test(test_dropped_record),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_other_tools),
        cmocka_unit_test(test_timescales_read),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_nul_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
