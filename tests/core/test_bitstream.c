/* Tests for machine.bitstream's encoding (bitstream.h): the RMT items, the
 * bit-bang loop's cycle counts, and the edges both paths leave in the GPIO
 * record, to the picosecond. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "esp32sim/bitstream.h"

#define PIN 5
#define PS_PER_NS 1000u
#define TICK_PS 25000u   /* one 40 MHz RMT tick */

static const uint32_t ws2812[4] = {400, 850, 800, 450};   /* NeoPixel timing 1 */
static const esim_pad_config output = {.input = true, .output = true, .drive = 2};

static esim_device *open_board(void)
{
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(NULL, &dev, NULL), ESP_OK);
    return dev;
}

static void make_output(esim_device *dev, int pin)
{
    assert_int_equal(esim_gpio_configure(esim_device_gpio(dev), pin, &output), ESP_OK);
}

/* The pin's changes recorded from index `from` on, into t[] / level[]. */
static size_t changes_of(esim_device *dev, int pin, size_t from, uint64_t *t, int *level, size_t max)
{
    const esim_gpio *g = esim_device_gpio(dev);
    size_t n = 0;
    for (size_t i = from; i < esim_gpio_trace_count(g); i++) {
        const esim_pin_change *c = esim_gpio_trace_at(g, i);
        if (c->pin != pin)
            continue;
        assert_true(n < max);
        t[n] = c->t_ps;
        level[n++] = c->level;
    }
    return n;
}

/* ---- the pure parts ---- */

static void test_rmt_ticks(void **state)
{
    (void)state;
    uint32_t items[2];
    esim_bitstream_bit_items(ws2812, items);
    /* 400 ns -> 16 ticks, 850 -> 34, 800 -> 32, 450 -> 18 */
    assert_int_equal(items[0], esim_rmt_item(16, 1, 34, 0));
    assert_int_equal(items[1], esim_rmt_item(32, 1, 18, 0));
    /* truncated: 24 ns is 0 ticks, 49 ns 1 tick */
    const uint32_t short_ns[4] = {24, 49, 26, 74};
    esim_bitstream_bit_items(short_ns, items);
    assert_int_equal(items[0], esim_rmt_item(0, 1, 1, 0));
    assert_int_equal(items[1], esim_rmt_item(1, 1, 2, 0));
    /* 40000 * ns wraps at 32 bits as on the chip: 200000 ns gives
     * (8000000000 mod 2^32) / 1e6 = 3705 ticks, not 8000 */
    const uint32_t long_ns[4] = {200000, 1000, 100000, 1000};
    esim_bitstream_bit_items(long_ns, items);
    assert_int_equal(items[0] & 0x7FFFu, 3705);
    assert_int_equal(items[1] & 0x7FFFu, 4000);
}

static void test_items_msb_first(void **state)
{
    (void)state;
    const uint8_t data[2] = {0xA0, 0x01};
    uint32_t items[16], bit[2];
    esim_bitstream_bit_items(ws2812, bit);
    esim_bitstream_items(ws2812, data, sizeof data, items);
    const int expect[16] = {1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    for (int i = 0; i < 16; i++)
        assert_int_equal(items[i], bit[expect[i]]);
}

static void test_bitbang_cycles(void **state)
{
    (void)state;
    uint32_t c[4];
    /* 160 MHz: 400 ns = 64 cycles - 6 = 58; 850 ns = 136 - 6 = 130, period
     * 188; 800 ns = 128 - 6 = 122; 450 ns = 72 - 6 = 66, period 188 */
    esim_bitstream_bitbang_cycles(160, ws2812, c);
    assert_int_equal(c[0], 58);
    assert_int_equal(c[1], 188);
    assert_int_equal(c[2], 122);
    assert_int_equal(c[3], 188);
    /* at most 6 cycles: no adjustment; 240 MHz * 25 ns = 6 cycles */
    const uint32_t tiny[4] = {25, 20, 30, 0};
    esim_bitstream_bitbang_cycles(240, tiny, c);
    assert_int_equal(c[0], 6);
    assert_int_equal(c[1], 6 + 4);
    assert_int_equal(c[2], 7 - 6);
    assert_int_equal(c[3], 1 + 0);
}

/* ---- bit-banging on the board ---- */

static void test_bitbang_edges(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    make_output(dev, PIN);
    assert_int_equal(esim_device_advance_us(dev, 3), ESP_OK);
    uint64_t start_us = esim_device_world_time_us(dev);
    size_t from = esim_gpio_trace_count(esim_device_gpio(dev));
    const uint8_t data[1] = {0x80};   /* a 1, then seven 0s */
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_NO_RMT, ws2812, data, 1), ESP_OK);
    uint64_t t[32];
    int level[32];
    assert_int_equal(changes_of(dev, PIN, from, t, level, 32), 16);
    /* 160 MHz: one cycle is 6250 ps; every bit lasts 188 cycles */
    uint64_t s = start_us * 1000000u;
    for (int bit = 0; bit < 8; bit++) {
        uint64_t rise = s + (uint64_t)bit * 188u * 6250u;
        uint64_t high = bit == 0 ? 122u : 58u;
        assert_int_equal(level[2 * bit], 1);
        assert_int_equal(t[2 * bit], rise);
        assert_int_equal(level[2 * bit + 1], 0);
        assert_int_equal(t[2 * bit + 1], rise + high * 6250u);
    }
    /* 8 * 188 cycles = 9.4 us: the call returns at the next whole us */
    assert_int_equal(esim_device_world_time_us(dev), start_us + 10);
    assert_int_equal(esim_gpio_wire_level(esim_device_gpio(dev), PIN), 0);
    esim_device_close(dev);
}

static void test_bitbang_cpu_clock(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    make_output(dev, PIN);
    assert_int_equal(esim_device_set_cpu_freq(dev, 240000000u), ESP_OK);
    uint64_t s = esim_device_world_time_us(dev) * 1000000u;
    size_t from = esim_gpio_trace_count(esim_device_gpio(dev));
    const uint8_t data[1] = {0x00};
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_NO_RMT, ws2812, data, 1), ESP_OK);
    uint64_t t[32];
    int level[32];
    assert_int_equal(changes_of(dev, PIN, from, t, level, 32), 16);
    /* 240 MHz: 400 ns = 96 - 6 = 90 cycles high, period 90 + 198 = 288
     * cycles = 1.2 us; a cycle is 4166.67 ps, times truncated to the ps */
    assert_int_equal(t[1] - t[0], 90u * 1000000u / 240u);
    assert_int_equal(t[2], s + 1200000u);
    assert_int_equal(t[15], s + 7u * 1200000u + 375000u);
    esim_device_close(dev);
}

static void test_bitbang_needs_output(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    size_t from = esim_gpio_trace_count(esim_device_gpio(dev));
    uint64_t start_us = esim_device_world_time_us(dev);
    const uint8_t data[3] = {0xFF, 0x00, 0x55};
    /* an input pin: the output register changes, the pad shows nothing,
     * but the time passes */
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_NO_RMT, ws2812, data, 3), ESP_OK);
    uint64_t t[4];
    int level[4];
    assert_int_equal(changes_of(dev, PIN, from, t, level, 4), 0);
    assert_int_equal(esim_device_world_time_us(dev), start_us + 29);   /* 24 * 1.175 us, rounded up */
    /* input-only pins and missing ones */
    assert_int_equal(esim_device_bitstream(dev, 36, ESIM_BITSTREAM_NO_RMT, ws2812, data, 3), ESP_OK);
    assert_int_equal(esim_device_bitstream(dev, 24, ESIM_BITSTREAM_NO_RMT, ws2812, data, 3), ESP_ERR_INVALID_ARG);
    esim_device_close(dev);
}

static void test_bitbang_long_data(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    make_output(dev, PIN);
    size_t len = 1000;   /* several chunks of scheduled edges */
    uint8_t *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 37u);
    uint64_t s = esim_device_world_time_us(dev) * 1000000u;
    size_t from = esim_gpio_trace_count(esim_device_gpio(dev));
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_NO_RMT, ws2812, data, len), ESP_OK);
    size_t n_edges = len * 16;
    uint64_t *t = malloc(n_edges * sizeof *t);
    int *level = malloc(n_edges * sizeof *level);
    assert_non_null(t);
    assert_non_null(level);
    assert_int_equal(changes_of(dev, PIN, from, t, level, n_edges), n_edges);
    for (size_t i = 0; i < len * 8; i++) {
        int bit = data[i / 8] >> (7 - i % 8) & 1;
        assert_int_equal(t[2 * i], s + i * 188u * 6250u);
        assert_int_equal(t[2 * i + 1] - t[2 * i], (bit ? 122u : 58u) * 6250u);
    }
    free(t);
    free(level);
    free(data);
    esim_device_close(dev);
}

static void test_bitbang_time_limit(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    make_output(dev, PIN);
    uint64_t now = esim_device_world_time_us(dev);
    esim_device_set_time_limit_us(dev, now + 100);
    uint8_t data[200] = {0};   /* 1600 bits of 1.175 us */
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_NO_RMT, ws2812, data, sizeof data),
                     ESP_ERR_TIMEOUT);
    assert_int_equal(esim_device_world_time_us(dev), now + 100);
    esim_device_close(dev);
}

static void test_bitbang_beyond_the_clock(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    /* 20 MHz * 214748364 ns is the largest cycle count the firmware's
     * 32-bit arithmetic gives, 4294967: a bit lasts 0.43 s, and 6 MiB of
     * bits 250 days, beyond what the clock holds in ps (213 days) */
    const uint32_t huge[4] = {214748364u, 214748364u, 214748364u, 214748364u};
    size_t len = 6u << 20;
    uint8_t *data = calloc(len, 1);
    assert_non_null(data);
    assert_int_equal(esim_device_set_cpu_freq(dev, 20000000u), ESP_OK);
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_NO_RMT, huge, data, len), ESP_ERR_INVALID_SIZE);
    free(data);
    esim_device_close(dev);
}

/* ---- through the RMT ---- */

static void test_rmt_edges(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    esim_gpio *g = esim_device_gpio(dev);
    assert_int_equal(esim_device_advance_us(dev, 7), ESP_OK);
    uint64_t start_us = esim_device_world_time_us(dev);
    size_t from = esim_gpio_trace_count(g);
    const uint8_t data[2] = {0x0F, 0xF0};
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_RMT_CHANNEL, ws2812, data, 2), ESP_OK);
    uint64_t t[64];
    int level[64];
    size_t n = changes_of(dev, PIN, from, t, level, 64);
    /* the pin floated (input at reset); installing shows the idle low, then
     * 16 bits of a rise and a fall */
    assert_true(n == 33);
    assert_int_equal(level[0], 0);
    assert_int_equal(t[0], start_us * 1000000u);
    uint64_t at = start_us * 1000000u;
    for (int i = 0; i < 16; i++) {
        int bit = data[i / 8] >> (7 - i % 8) & 1;
        uint64_t high = bit ? 32u : 16u, low = bit ? 18u : 34u;
        assert_int_equal(level[1 + 2 * i], 1);
        assert_int_equal(t[1 + 2 * i], at);
        assert_int_equal(level[2 + 2 * i], 0);
        assert_int_equal(t[2 + 2 * i], at + high * TICK_PS);
        at += (high + low) * TICK_PS;
    }
    /* 16 * 1.25 us = 20 us; the channel is free again, the pin is the
     * GPIO's, an output driving its register's low */
    assert_int_equal(esim_device_world_time_us(dev), start_us + 20);
    assert_false(esim_rmt_installed(esim_device_rmt(dev), ESIM_BITSTREAM_RMT_CHANNEL));
    assert_false(esim_gpio_routed(g, PIN));
    assert_int_equal(esim_gpio_wire_level(g, PIN), 0);
    esim_device_close(dev);
}

static void test_rmt_zero_ticks_end(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    make_output(dev, PIN);
    uint64_t start_us = esim_device_world_time_us(dev);
    size_t from = esim_gpio_trace_count(esim_device_gpio(dev));
    /* a 0 bit's high time is 0 ticks: the end marker; the 1 bits before it
     * go out, nothing after */
    const uint32_t timing[4] = {10, 1000, 1000, 1000};
    const uint8_t data[1] = {0xC7};   /* 1 1 0 ... */
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_RMT_CHANNEL, timing, data, 1), ESP_OK);
    uint64_t t[16];
    int level[16];
    assert_int_equal(changes_of(dev, PIN, from, t, level, 16), 4);
    assert_int_equal(t[3], start_us * 1000000u + 3u * 40u * TICK_PS);
    assert_int_equal(esim_device_world_time_us(dev), start_us + 4);
    esim_device_close(dev);
}

static void test_rmt_refusals(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    const uint8_t data[1] = {0xFF};
    assert_int_equal(esim_device_bitstream(dev, 36, ESIM_BITSTREAM_RMT_CHANNEL, ws2812, data, 1),
                     ESP_ERR_INVALID_ARG);   /* input only */
    esim_rmt_config cfg = {.gpio = 4, .clock_div = 8, .mem_blocks = 1};
    assert_int_equal(esim_rmt_install(esim_device_rmt(dev), esim_device_gpio(dev), 0, &cfg), ESP_OK);
    assert_int_equal(esim_device_bitstream(dev, PIN, 0, ws2812, data, 1), ESP_ERR_INVALID_STATE);
    assert_true(esim_rmt_installed(esim_device_rmt(dev), 0));   /* the user's channel stays */
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_RMT_CHANNEL, ws2812, NULL, 0), ESP_OK);
    assert_int_equal(esim_device_bitstream(dev, PIN, ESIM_BITSTREAM_RMT_CHANNEL, ws2812, NULL, 1),
                     ESP_ERR_INVALID_ARG);
    esim_device_close(dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rmt_ticks),
        cmocka_unit_test(test_items_msb_first),
        cmocka_unit_test(test_bitbang_cycles),
        cmocka_unit_test(test_bitbang_edges),
        cmocka_unit_test(test_bitbang_cpu_clock),
        cmocka_unit_test(test_bitbang_needs_output),
        cmocka_unit_test(test_bitbang_long_data),
        cmocka_unit_test(test_bitbang_time_limit),
        cmocka_unit_test(test_bitbang_beyond_the_clock),
        cmocka_unit_test(test_rmt_edges),
        cmocka_unit_test(test_rmt_zero_ticks_end),
        cmocka_unit_test(test_rmt_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
