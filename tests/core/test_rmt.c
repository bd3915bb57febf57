/* Tests for the RMT transmitter (rmt.h): item packing, exact edge times in
 * picoseconds, idle and end levels, the carrier, loops, several channels
 * at once, memory-block ownership, uninstall and reset, and the RMT on a
 * device's clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "esp32sim/device.h"
#include "esp32sim/rmt.h"

#define US 1000000u              /* ps */
#define CYCLE 12500u             /* one 80 MHz source cycle, ps */
#define MAX_EDGES 64

typedef struct {
    esim_gpio *gpio;
    esim_rmt *rmt;
} rig;

static rig open_rig(void)
{
    rig r = {NULL, NULL};
    assert_int_equal(esim_gpio_create(&r.gpio), ESP_OK);
    assert_int_equal(esim_rmt_create(&r.rmt), ESP_OK);
    return r;
}

static void close_rig(rig *r)
{
    esim_rmt_destroy(r->rmt);
    esim_gpio_destroy(r->gpio);
}

static esim_rmt_config config(int gpio, uint8_t clock_div, bool idle_level)
{
    esim_rmt_config c = {.gpio = gpio, .clock_div = clock_div, .mem_blocks = 1, .idle_output = true,
                         .idle_level = idle_level};
    return c;
}

static void install(rig *r, int channel, const esim_rmt_config *cfg)
{
    assert_int_equal(esim_rmt_install(r->rmt, r->gpio, channel, cfg), ESP_OK);
    esim_gpio_trace_clear(r->gpio);   /* keep only what the transmissions do */
}

typedef struct {
    uint64_t t;
    int level;
} edge;

/* The recorded changes of `pin`, oldest first. */
static size_t edges_of(const esim_gpio *g, int pin, edge *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < esim_gpio_trace_count(g); i++) {
        const esim_pin_change *c = esim_gpio_trace_at(g, i);
        if (c->pin != pin)
            continue;
        assert_true(n < max);
        out[n++] = (edge){c->t_ps, c->level};
    }
    return n;
}

static void expect_edges(const esim_gpio *g, int pin, const edge *want, size_t n_want)
{
    edge got[MAX_EDGES];
    size_t n = edges_of(g, pin, got, MAX_EDGES);
    for (size_t i = 0; i < n && i < n_want; i++) {
        if (got[i].t != want[i].t || got[i].level != want[i].level)
            fail_msg("pin %d edge %zu: got %llu ps -> %d, want %llu ps -> %d", pin, i,
                     (unsigned long long)got[i].t, got[i].level, (unsigned long long)want[i].t, want[i].level);
    }
    assert_int_equal(n, n_want);
}

static void write_items(rig *r, int channel, const uint32_t *items, size_t n, bool loop, uint64_t now)
{
    assert_int_equal(esim_rmt_write(r->rmt, channel, items, n, loop, now), ESP_OK);
}

/* ---- items ---- */

static void test_item_packing(void **state)
{
    (void)state;
    assert_int_equal(esim_rmt_item(1, 1, 2, 0), 0x00028001u);
    assert_int_equal(esim_rmt_item(0x7FFF, 0, 0x7FFF, 1), 0xFFFF7FFFu);
    assert_int_equal(esim_rmt_item(0x8003, 7, 0, 0), 0x00008003u);   /* 15 bits, any true level is 1 */
    assert_int_equal(esim_rmt_item(0, 0, 0, 0), 0u);
}

/* ---- timing ---- */

/* high 3 ticks, low 5, high 2, then the end marker: the idle level. */
static void pulse_train_at(uint8_t clock_div)
{
    rig r = open_rig();
    esim_rmt_config cfg = config(18, clock_div, false);
    install(&r, 0, &cfg);
    assert_true(esim_gpio_routed(r.gpio, 18));
    assert_int_equal(esim_gpio_wire_level(r.gpio, 18), 0);
    const uint32_t items[] = {esim_rmt_item(3, 1, 5, 0), esim_rmt_item(2, 1, 0, 0)};
    uint64_t s = 1 * US, tick = (uint64_t)clock_div * CYCLE;
    write_items(&r, 0, items, 2, false, s);
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), s);
    assert_int_equal(esim_rmt_tx_end_ps(r.rmt, 0, s), s + 10 * tick);
    esim_rmt_run_until(r.rmt, r.gpio, s + 10 * tick - 1);
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), s + 10 * tick);
    assert_true(esim_rmt_busy(r.rmt, 0, s + 10 * tick - 1));
    assert_false(esim_rmt_busy(r.rmt, 0, s + 10 * tick));
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want[] = {{s, 1}, {s + 3 * tick, 0}, {s + 8 * tick, 1}, {s + 10 * tick, 0}};
    expect_edges(r.gpio, 18, want, 4);
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), UINT64_MAX);
    close_rig(&r);
}

static void test_pulse_train_times(void **state)
{
    (void)state;
    pulse_train_at(8);     /* 100 ns ticks */
    pulse_train_at(1);     /* 12.5 ns ticks */
    pulse_train_at(80);    /* 1 us */
    pulse_train_at(255);
}

static void test_clock_div_1_in_picoseconds(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config cfg = config(5, 1, false);
    install(&r, 2, &cfg);
    const uint32_t items[] = {esim_rmt_item(3, 1, 5, 0), esim_rmt_item(2, 1, 0, 0)};
    write_items(&r, 2, items, 2, false, 1000000);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want[] = {{1000000, 1}, {1037500, 0}, {1100000, 1}, {1125000, 0}};
    expect_edges(r.gpio, 5, want, 4);
    close_rig(&r);
}

static void test_long_sequences_play_whole(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config cfg = config(18, 8, false);
    install(&r, 0, &cfg);
    uint32_t items[200];
    for (size_t i = 0; i < 200; i++)
        items[i] = esim_rmt_item(1, 1, 2, 0);   /* far more than one 64-item block */
    write_items(&r, 0, items, 200, false, 0);
    assert_int_equal(esim_rmt_tx_end_ps(r.rmt, 0, 0), 600u * 8 * CYCLE);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    assert_int_equal(esim_gpio_trace_count(r.gpio), 400);
    const esim_pin_change *last = esim_gpio_trace_at(r.gpio, 399);
    assert_int_equal(last->t_ps, 598u * 8 * CYCLE);   /* the last high ends at tick 598 */
    assert_int_equal(last->level, 0);
    close_rig(&r);
}

static void test_end_marker_and_idle_levels(void **state)
{
    (void)state;
    rig r = open_rig();
    uint64_t t = 80 * CYCLE;   /* clock_div 80: 1 us */

    /* idle high: the pin shows it from the install, and again at the end */
    esim_rmt_config cfg = config(18, 80, true);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, &cfg), ESP_OK);
    assert_int_equal(esim_gpio_wire_level(r.gpio, 18), 1);
    esim_gpio_trace_clear(r.gpio);
    const uint32_t a[] = {esim_rmt_item(2, 0, 2, 1), esim_rmt_item(2, 0, 0, 0)};
    write_items(&r, 0, a, 2, false, 0);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want_a[] = {{0, 0}, {2 * t, 1}, {4 * t, 0}, {6 * t, 1}};
    expect_edges(r.gpio, 18, want_a, 4);

    /* without idle output the end marker's level field stays on the pin */
    cfg = config(19, 80, false);
    cfg.idle_output = false;
    install(&r, 1, &cfg);
    const uint32_t b[] = {esim_rmt_item(2, 1, 0, 1)};
    write_items(&r, 1, b, 1, false, 0);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want_b[] = {{0, 1}};
    expect_edges(r.gpio, 19, want_b, 1);

    /* a sequence without a marker ends on the driver's, which carries the
     * idle level of the register (1 here) */
    cfg = config(21, 80, true);
    cfg.idle_output = false;
    install(&r, 2, &cfg);
    assert_int_equal(esim_gpio_wire_level(r.gpio, 21), 0);   /* the output starts low */
    const uint32_t c[] = {esim_rmt_item(2, 1, 3, 0)};
    write_items(&r, 2, c, 1, false, 0);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want_c[] = {{0, 1}, {2 * t, 0}, {5 * t, 1}};
    expect_edges(r.gpio, 21, want_c, 3);

    /* a marker in the first half: nothing to send, the end level at once */
    esim_gpio_trace_clear(r.gpio);
    const uint32_t d[] = {esim_rmt_item(0, 0, 9, 1)};
    write_items(&r, 0, d, 1, false, 10 * t);
    assert_false(esim_rmt_busy(r.rmt, 0, 10 * t));
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    assert_int_equal(esim_gpio_trace_count(r.gpio), 0);   /* idle high already */
    close_rig(&r);
}

/* ---- the carrier ---- */

static void test_carrier_counts(void **state)
{
    (void)state;
    uint16_t h = 0, l = 0;
    assert_int_equal(esim_rmt_carrier_counts(38000, 50, &h, &l), ESP_OK);
    assert_int_equal(h, 1052);   /* 80 MHz / 38 kHz = 2105 cycles */
    assert_int_equal(l, 1053);
    assert_int_equal(esim_rmt_carrier_counts(8000000, 40, &h, &l), ESP_OK);
    assert_int_equal(h, 4);
    assert_int_equal(l, 6);
    assert_int_equal(esim_rmt_carrier_counts(0, 50, &h, &l), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_rmt_carrier_counts(38000, 101, &h, &l), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_rmt_carrier_counts(38000, 0, &h, &l), ESP_ERR_INVALID_ARG);     /* high 0 */
    assert_int_equal(esim_rmt_carrier_counts(38000, 100, &h, &l), ESP_ERR_INVALID_ARG);   /* low 0 */
    assert_int_equal(esim_rmt_carrier_counts(1000, 50, &h, &l), ESP_OK);                  /* 80000 cycles */
    assert_int_equal(h, 40000);
    assert_int_equal(esim_rmt_carrier_counts(500, 50, &h, &l), ESP_ERR_INVALID_ARG);      /* 80000 high */
    assert_int_equal(esim_rmt_carrier_counts(80000000, 50, &h, &l), ESP_ERR_INVALID_ARG); /* 1 cycle */
}

static esim_rmt_config carrier_config(int gpio, uint8_t clock_div, uint16_t high, uint16_t low, bool on_level,
                                      bool idle_level)
{
    esim_rmt_config c = config(gpio, clock_div, idle_level);
    c.carrier = true;
    c.carrier_high = high;
    c.carrier_low = low;
    c.carrier_level = on_level;
    return c;
}

static void test_carrier_in_record(void **state)
{
    (void)state;
    rig r = open_rig();
    uint16_t high, low;
    assert_int_equal(esim_rmt_carrier_counts(8000000, 40, &high, &low), ESP_OK);
    /* clock_div 2: 2 cycles a tick; 20 ticks of 1 (carrier: 4 high, 6
     * low), 10 ticks of 0 */
    esim_rmt_config cfg = carrier_config(18, 2, high, low, true, false);
    install(&r, 0, &cfg);
    const uint32_t items[] = {esim_rmt_item(20, 1, 10, 0)};
    uint64_t s = 7 * US;
    write_items(&r, 0, items, 1, false, s);
    assert_int_equal(esim_rmt_tx_end_ps(r.rmt, 0, s), s + 60 * CYCLE);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    edge got[MAX_EDGES];
    size_t n = edges_of(r.gpio, 18, got, MAX_EDGES);
    assert_int_equal(n, 8);   /* 4 periods in the 40 gated cycles, none after */
    for (size_t i = 0; i < n; i += 2) {
        assert_int_equal(got[i].level, 1);
        assert_int_equal(got[i].t, s + i / 2 * 10 * CYCLE);             /* period 10 cycles */
        assert_int_equal(got[i + 1].t - got[i].t, 4 * CYCLE);           /* 40 % duty */
        assert_int_equal(got[i + 1].level, 0);
    }
    close_rig(&r);
}

static void test_carrier_on_low_level(void **state)
{
    (void)state;
    rig r = open_rig();
    /* clock_div 1, carrier 2 high / 3 low on data level 0, idle high */
    esim_rmt_config cfg = carrier_config(18, 1, 2, 3, false, true);
    install(&r, 0, &cfg);
    const uint32_t items[] = {esim_rmt_item(4, 1, 10, 0)};
    write_items(&r, 0, items, 1, false, 0);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    /* high 4 cycles (plain), then the gated low half starts with the
     * carrier's high phase: still high until 6, low 6..9, high 9..11,
     * low 11..14, then the idle level */
    const edge want[] = {{6 * CYCLE, 0}, {9 * CYCLE, 1}, {11 * CYCLE, 0}, {14 * CYCLE, 1}};
    expect_edges(r.gpio, 18, want, 4);
    close_rig(&r);
}

static void test_carrier_runs_on_across_halves(void **state)
{
    (void)state;
    rig r = open_rig();
    /* two gated halves in a row are one segment: the carrier goes on */
    esim_rmt_config cfg = carrier_config(18, 1, 2, 2, true, false);
    install(&r, 0, &cfg);
    const uint32_t items[] = {esim_rmt_item(3, 1, 3, 1)};
    write_items(&r, 0, items, 1, false, 0);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want[] = {{0, 1}, {2 * CYCLE, 0}, {4 * CYCLE, 1}, {6 * CYCLE, 0}};
    expect_edges(r.gpio, 18, want, 4);

    /* a segment after a plain half restarts with the high phase */
    esim_gpio_trace_clear(r.gpio);
    const uint32_t again[] = {esim_rmt_item(3, 1, 2, 0), esim_rmt_item(3, 1, 0, 0)};
    write_items(&r, 0, again, 2, false, 10 * CYCLE);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    /* a carrier running on from 10 would be high 14..16, then low */
    const edge want2[] = {{10 * CYCLE, 1}, {12 * CYCLE, 0}, {15 * CYCLE, 1}, {17 * CYCLE, 0}};
    expect_edges(r.gpio, 18, want2, 4);
    close_rig(&r);
}

/* ---- loops ---- */

static void test_loop_and_stop(void **state)
{
    (void)state;
    rig r = open_rig();
    uint64_t t = US;   /* clock_div 80 */
    esim_rmt_config cfg = config(18, 80, true);
    install(&r, 0, &cfg);
    const uint32_t items[] = {esim_rmt_item(2, 1, 2, 0)};   /* a 4 us pass */
    write_items(&r, 0, items, 1, true, 0);
    assert_int_equal(esim_rmt_tx_end_ps(r.rmt, 0, 0), UINT64_MAX);
    assert_true(esim_rmt_busy(r.rmt, 0, 1000 * t));
    esim_rmt_run_until(r.rmt, r.gpio, 10 * t + t / 2);
    esim_rmt_stop_loop(r.rmt, 0, 10 * t + t / 2);   /* in the pass 8..12 */
    assert_int_equal(esim_rmt_tx_end_ps(r.rmt, 0, 10 * t), 12 * t);
    esim_rmt_stop_loop(r.rmt, 0, 11 * t);            /* a second stop changes nothing */
    assert_int_equal(esim_rmt_tx_end_ps(r.rmt, 0, 11 * t), 12 * t);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want[] = {{2 * t, 0}, {4 * t, 1}, {6 * t, 0}, {8 * t, 1}, {10 * t, 0}, {12 * t, 1}};
    expect_edges(r.gpio, 18, want, 6);
    assert_false(esim_rmt_busy(r.rmt, 0, 12 * t));
    write_items(&r, 0, items, 1, false, 12 * t);   /* free again at the pass end */
    close_rig(&r);
}

static void test_stop_loop_when_the_next_change_is_in_a_later_pass(void **state)
{
    (void)state;
    rig r = open_rig();
    uint64_t t = US;
    esim_rmt_config cfg = config(18, 80, true);
    install(&r, 0, &cfg);
    const uint32_t items[] = {esim_rmt_item(3, 0, 1, 1)};   /* low 3, high 1 */
    write_items(&r, 0, items, 1, true, 0);
    esim_rmt_run_until(r.rmt, r.gpio, 3 * t + t / 2);
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), 4 * t);   /* the second pass's low */
    esim_rmt_stop_loop(r.rmt, 0, 3 * t + t / 2);
    assert_int_equal(esim_rmt_tx_end_ps(r.rmt, 0, 0), 4 * t);
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), UINT64_MAX);   /* it ends high, on the idle level */
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want[] = {{0, 0}, {3 * t, 1}};
    expect_edges(r.gpio, 18, want, 2);
    close_rig(&r);
}

static void test_a_loop_without_changes_parks(void **state)
{
    (void)state;
    rig r = open_rig();
    uint64_t t = US;
    esim_rmt_config cfg = config(18, 80, false);
    install(&r, 0, &cfg);
    const uint32_t items[] = {esim_rmt_item(5, 1, 5, 1)};
    write_items(&r, 0, items, 1, true, 0);
    esim_rmt_run_until(r.rmt, r.gpio, 1000 * t);
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), UINT64_MAX);
    assert_true(esim_rmt_busy(r.rmt, 0, 1000 * t));
    esim_rmt_stop_loop(r.rmt, 0, 1003 * t);   /* the pass 1000..1010 */
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), 1010 * t);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want[] = {{0, 1}, {1010 * t, 0}};
    expect_edges(r.gpio, 18, want, 2);
    close_rig(&r);
}

static void test_carrier_restarts_every_pass(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config cfg = carrier_config(18, 1, 2, 3, true, false);
    install(&r, 0, &cfg);
    const uint32_t items[] = {esim_rmt_item(7, 1, 3, 0)};   /* a 10-cycle pass */
    write_items(&r, 0, items, 1, true, 0);
    esim_rmt_run_until(r.rmt, r.gpio, 20 * CYCLE);
    const edge want[] = {{0, 1},          {2 * CYCLE, 0},  {5 * CYCLE, 1},  {7 * CYCLE, 0},
                         {10 * CYCLE, 1}, {12 * CYCLE, 0}, {15 * CYCLE, 1}, {17 * CYCLE, 0},
                         {20 * CYCLE, 1}};
    expect_edges(r.gpio, 18, want, 9);
    close_rig(&r);
}

static void test_loops_must_fit_in_memory(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config cfg = config(18, 8, false);
    install(&r, 0, &cfg);
    uint32_t items[130];
    for (size_t i = 0; i < 130; i++)
        items[i] = esim_rmt_item(1, 1, 1, 0);
    /* 63 items and the end marker fill one block */
    assert_int_equal(esim_rmt_write(r.rmt, 0, items, 64, true, 0), ESP_ERR_INVALID_ARG);
    write_items(&r, 0, items, 63, true, 0);
    esim_rmt_uninstall(r.rmt, r.gpio, 0);
    install(&r, 0, &cfg);
    write_items(&r, 0, items, 64, false, 0);   /* without a loop the driver refills */
    esim_rmt_uninstall(r.rmt, r.gpio, 0);
    install(&r, 0, &cfg);
    items[10] = esim_rmt_item(1, 1, 0, 0);     /* the sequence ends in item 10 */
    write_items(&r, 0, items, 100, true, 0);
    esim_rmt_uninstall(r.rmt, r.gpio, 0);
    items[10] = items[11];
    cfg.mem_blocks = 2;
    install(&r, 0, &cfg);
    assert_int_equal(esim_rmt_write(r.rmt, 0, items, 128, true, 0), ESP_ERR_INVALID_ARG);
    write_items(&r, 0, items, 127, true, 0);
    close_rig(&r);
}

/* ---- several channels ---- */

static void test_two_channels_interleave(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config a = config(18, 80, false), b = config(19, 40, false);
    install(&r, 0, &a);
    install(&r, 1, &b);
    const uint32_t ia[] = {esim_rmt_item(3, 1, 3, 0)};                              /* 1 us ticks */
    const uint32_t ib[] = {esim_rmt_item(3, 1, 3, 0), esim_rmt_item(3, 1, 3, 0)};   /* 0.5 us */
    write_items(&r, 1, ib, 2, false, 1 * US);
    write_items(&r, 0, ia, 1, false, 0);
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), 0);
    /* in steps, as the device runs it */
    for (uint64_t t = 0; t <= 10 * US; t += US / 4)
        esim_rmt_run_until(r.rmt, r.gpio, t);
    const esim_pin_change want[] = {{0, 18, 1},          {1 * US, 19, 1}, {2500000, 19, 0},
                                    {3 * US, 18, 0},     {4 * US, 19, 1}, {5500000, 19, 0}};
    assert_int_equal(esim_gpio_trace_count(r.gpio), 6);
    for (size_t i = 0; i < 6; i++) {
        const esim_pin_change *c = esim_gpio_trace_at(r.gpio, i);
        assert_int_equal(c->t_ps, want[i].t_ps);
        assert_int_equal(c->pin, want[i].pin);
        assert_int_equal(c->level, want[i].level);
    }
    close_rig(&r);
}

static void test_same_time_on_two_channels(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config a = config(22, 8, false), b = config(23, 16, false);
    install(&r, 3, &a);
    install(&r, 6, &b);
    const uint32_t ia[] = {esim_rmt_item(4, 1, 0, 0)}, ib[] = {esim_rmt_item(2, 1, 0, 0)};
    write_items(&r, 6, ib, 1, false, 0);
    write_items(&r, 3, ia, 1, false, 0);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    assert_int_equal(esim_gpio_trace_count(r.gpio), 4);
    assert_int_equal(esim_gpio_trace_at(r.gpio, 0)->pin, 22);   /* the lower channel first */
    assert_int_equal(esim_gpio_trace_at(r.gpio, 1)->pin, 23);
    assert_int_equal(esim_gpio_trace_at(r.gpio, 2)->t_ps, 32 * CYCLE);
    assert_int_equal(esim_gpio_trace_at(r.gpio, 3)->t_ps, 32 * CYCLE);
    close_rig(&r);
}

/* ---- configuration errors ---- */

static void test_memory_block_ownership(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config wide = config(18, 8, false), one = config(19, 8, false);
    wide.mem_blocks = 3;   /* channel 0 takes blocks 0, 1, 2 */
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, &wide), ESP_OK);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 1, &one), ESP_ERR_INVALID_STATE);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 2, &one), ESP_ERR_INVALID_STATE);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, &one), ESP_ERR_INVALID_STATE);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 3, &one), ESP_OK);
    assert_false(esim_rmt_installed(r.rmt, 1));
    esim_rmt_config two = config(21, 8, false);
    two.mem_blocks = 2;    /* 2 and 3: 3 is channel 3's */
    assert_int_equal(esim_rmt_uninstall(r.rmt, r.gpio, 0), ESP_OK);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 2, &two), ESP_ERR_INVALID_STATE);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 1, &two), ESP_OK);   /* 1 and 2 are free now */
    esim_rmt_config past = config(21, 8, false);
    past.mem_blocks = 3;
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 6, &past), ESP_ERR_INVALID_ARG);   /* past channel 7 */
    past.mem_blocks = 1;
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 7, &past), ESP_OK);
    esim_rmt_config got;
    assert_int_equal(esim_rmt_get_config(r.rmt, 1, &got), ESP_OK);
    assert_int_equal(got.mem_blocks, 2);
    assert_int_equal(got.gpio, 21);
    assert_int_equal(esim_rmt_get_config(r.rmt, 0, &got), ESP_ERR_INVALID_STATE);
    assert_int_equal(esim_rmt_get_config(r.rmt, 8, &got), ESP_ERR_INVALID_ARG);
    close_rig(&r);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config ok = config(18, 8, false), bad;
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, -1, &ok), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 8, &ok), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, NULL), ESP_ERR_INVALID_ARG);
    bad = ok;
    bad.clock_div = 0;
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, &bad), ESP_ERR_INVALID_ARG);
    bad = ok;
    bad.mem_blocks = 0;
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, &bad), ESP_ERR_INVALID_ARG);
    bad = carrier_config(18, 8, 0, 5, true, false);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, &bad), ESP_ERR_INVALID_ARG);
    bad = carrier_config(18, 8, 5, 0, true, false);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, &bad), ESP_ERR_INVALID_ARG);
    for (int pin = 34; pin <= 40; pin++) {   /* input only, then no such pin */
        bad = config(pin, 8, false);
        assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, &bad), ESP_ERR_INVALID_ARG);
    }
    bad = config(24, 8, false);
    assert_int_equal(esim_rmt_install(r.rmt, r.gpio, 0, &bad), ESP_ERR_INVALID_ARG);
    assert_false(esim_rmt_installed(r.rmt, 0));
    assert_int_equal(esim_gpio_trace_count(r.gpio), 0);   /* nothing touched the pads */

    const uint32_t items[] = {esim_rmt_item(10, 1, 10, 0)};
    assert_int_equal(esim_rmt_write(r.rmt, 0, items, 1, false, 0), ESP_ERR_INVALID_STATE);
    assert_int_equal(esim_rmt_uninstall(r.rmt, r.gpio, 0), ESP_ERR_INVALID_STATE);
    assert_int_equal(esim_rmt_uninstall(r.rmt, r.gpio, 9), ESP_ERR_INVALID_ARG);
    install(&r, 0, &ok);
    assert_int_equal(esim_rmt_write(r.rmt, 0, items, 0, false, 0), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_rmt_write(r.rmt, 0, NULL, 1, false, 0), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_rmt_write(r.rmt, 9, items, 1, false, 0), ESP_ERR_INVALID_ARG);
    write_items(&r, 0, items, 1, false, 0);
    uint64_t end = 20u * 8 * CYCLE;
    assert_int_equal(esim_rmt_write(r.rmt, 0, items, 1, false, end - 1), ESP_ERR_INVALID_STATE);
    esim_rmt_run_until(r.rmt, r.gpio, end);
    write_items(&r, 0, items, 1, false, end);
    close_rig(&r);
}

/* ---- stopping ---- */

static void test_uninstall_mid_transmission(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config cfg = config(18, 80, false);
    install(&r, 0, &cfg);
    const uint32_t items[] = {esim_rmt_item(10, 1, 10, 0)};
    write_items(&r, 0, items, 1, false, 0);
    esim_rmt_run_until(r.rmt, r.gpio, 5 * US);
    assert_int_equal(esim_gpio_wire_level(r.gpio, 18), 1);
    esim_gpio_set_time_ps(r.gpio, 5 * US);
    assert_int_equal(esim_rmt_uninstall(r.rmt, r.gpio, 0), ESP_OK);
    assert_false(esim_rmt_installed(r.rmt, 0));
    assert_false(esim_gpio_routed(r.gpio, 18));
    assert_int_equal(esim_gpio_wire_level(r.gpio, 18), 0);   /* the output register's 0 */
    assert_false(esim_rmt_busy(r.rmt, 0, 5 * US));
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), UINT64_MAX);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    const edge want[] = {{0, 1}, {5 * US, 0}};
    expect_edges(r.gpio, 18, want, 2);
    assert_int_equal(esim_rmt_write(r.rmt, 0, items, 1, false, 6 * US), ESP_ERR_INVALID_STATE);
    install(&r, 0, &cfg);   /* and it can be installed again */
    write_items(&r, 0, items, 1, false, 6 * US);
    assert_true(esim_rmt_busy(r.rmt, 0, 6 * US));
    close_rig(&r);
}

static void test_reset_uninstalls_everything(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config a = config(18, 8, true), b = config(19, 8, false);
    install(&r, 0, &a);
    install(&r, 5, &b);
    const uint32_t items[] = {esim_rmt_item(10, 1, 10, 0)};
    write_items(&r, 5, items, 1, true, 0);
    esim_rmt_reset(r.rmt, r.gpio);
    for (int ch = 0; ch < ESIM_RMT_CHANNELS; ch++) {
        assert_false(esim_rmt_installed(r.rmt, ch));
        assert_false(esim_rmt_busy(r.rmt, ch, 0));
    }
    assert_false(esim_gpio_routed(r.gpio, 18));
    assert_false(esim_gpio_routed(r.gpio, 19));
    assert_int_equal(esim_rmt_next_change_ps(r.rmt), UINT64_MAX);
    install(&r, 5, &b);   /* the channels are free again */
    close_rig(&r);
}

static void test_a_later_channel_takes_the_pin(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config cfg = config(18, 80, false);
    install(&r, 0, &cfg);
    install(&r, 1, &cfg);   /* the matrix connects one signal to a pad */
    const uint32_t items[] = {esim_rmt_item(2, 1, 2, 0)};
    write_items(&r, 0, items, 1, false, 0);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    assert_int_equal(esim_gpio_trace_count(r.gpio), 0);
    write_items(&r, 1, items, 1, false, 10 * US);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    assert_int_equal(esim_gpio_trace_count(r.gpio), 2);
    close_rig(&r);
}

/* ---- on a device's clock ---- */

static void test_on_the_device_clock(void **state)
{
    (void)state;
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(NULL, &dev, NULL), ESP_OK);
    esim_rmt *rmt = esim_device_rmt(dev);
    esim_gpio *gpio = esim_device_gpio(dev);
    esim_rmt_config cfg = config(18, 80, false);
    assert_int_equal(esim_rmt_install(rmt, gpio, 0, &cfg), ESP_OK);
    uint64_t now = esim_device_world_time_us(dev);
    const uint32_t items[] = {esim_rmt_item(1000, 1, 1000, 0)};
    assert_int_equal(esim_rmt_write(rmt, 0, items, 1, false, now * US), ESP_OK);
    esim_gpio_trace_clear(gpio);
    assert_int_equal(esim_device_advance_us(dev, 1500), ESP_OK);
    assert_int_equal(esim_gpio_wire_level(gpio, 18), 0);   /* high 0..1 ms, low since */
    assert_int_equal(esim_gpio_trace_count(gpio), 2);
    assert_int_equal(esim_gpio_trace_at(gpio, 0)->t_ps, now * US);
    assert_int_equal(esim_gpio_trace_at(gpio, 1)->t_ps, (now + 1000) * US);
    assert_true(esim_rmt_busy(rmt, 0, (now + 1500) * US));
    assert_int_equal(esim_device_advance_us(dev, 600), ESP_OK);
    assert_false(esim_rmt_busy(rmt, 0, esim_device_world_time_us(dev) * US));
    assert_int_equal(esim_rmt_write(rmt, 0, items, 1, true, esim_device_world_time_us(dev) * US), ESP_OK);
    assert_int_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);
    assert_false(esim_rmt_installed(rmt, 0));
    esim_device_close(dev);
}

static void test_a_million_pulses(void **state)
{
    (void)state;
    rig r = open_rig();
    esim_rmt_config cfg = config(18, 1, false);
    install(&r, 0, &cfg);
    size_t n = 500000;
    uint32_t *items = malloc(n * sizeof *items);
    assert_non_null(items);
    for (size_t i = 0; i < n; i++)
        items[i] = esim_rmt_item(1, 1, 1, 0);
    write_items(&r, 0, items, n, false, 0);
    free(items);
    esim_rmt_run_until(r.rmt, r.gpio, UINT64_MAX);
    assert_int_equal(esim_gpio_trace_count(r.gpio), 2 * n);
    const esim_pin_change *last = esim_gpio_trace_at(r.gpio, 2 * n - 1);
    assert_int_equal(last->t_ps, (2 * n - 1) * CYCLE);
    assert_int_equal(last->level, 0);
    close_rig(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_packing),
        cmocka_unit_test(test_pulse_train_times),
        cmocka_unit_test(test_clock_div_1_in_picoseconds),
        cmocka_unit_test(test_long_sequences_play_whole),
        cmocka_unit_test(test_end_marker_and_idle_levels),
        cmocka_unit_test(test_carrier_counts),
        cmocka_unit_test(test_carrier_in_record),
        cmocka_unit_test(test_carrier_on_low_level),
        cmocka_unit_test(test_carrier_runs_on_across_halves),
        cmocka_unit_test(test_loop_and_stop),
        cmocka_unit_test(test_stop_loop_when_the_next_change_is_in_a_later_pass),
        cmocka_unit_test(test_a_loop_without_changes_parks),
        cmocka_unit_test(test_carrier_restarts_every_pass),
        cmocka_unit_test(test_loops_must_fit_in_memory),
        cmocka_unit_test(test_two_channels_interleave),
        cmocka_unit_test(test_same_time_on_two_channels),
        cmocka_unit_test(test_memory_block_ownership),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_uninstall_mid_transmission),
        cmocka_unit_test(test_reset_uninstalls_everything),
        cmocka_unit_test(test_a_later_channel_takes_the_pin),
        cmocka_unit_test(test_on_the_device_clock),
        cmocka_unit_test(test_a_million_pulses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
