/* Tests for the GPIO pads (gpio.h) and the pin facts (pins.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "esp32sim/gpio.h"

static esim_gpio *new_gpio(void)
{
    esim_gpio *g = NULL;
    assert_int_equal(esim_gpio_create(&g), ESP_OK);
    return g;
}

static const esim_pad_config output = {.input = true, .output = true, .drive = 2};

static void test_pin_facts(void **state)
{
    (void)state;
    int exist = 0;
    for (int pin = -1; pin <= 40; pin++)
        exist += esim_pin_exists(pin);
    assert_int_equal(exist, 35);   /* 0..23, 25..27, 32..39 */
    assert_false(esim_pin_exists(24));
    assert_false(esim_pin_exists(28));
    assert_true(esim_pin_input_only(36));
    assert_false(esim_pin_input_only(33));
    assert_int_equal(esim_pin_rtc_gpio(36), 0);
    assert_int_equal(esim_pin_rtc_gpio(27), 17);
    assert_int_equal(esim_pin_rtc_gpio(5), -1);
    assert_int_equal(esim_touch_pad_gpio(8), 33);
    assert_int_equal(esim_pin_touch_pad(32), 9);
    assert_int_equal(esim_pin_touch_pad(5), -1);
    int ch = -1;
    assert_int_equal(esim_pin_adc_unit(34, &ch), 1);
    assert_int_equal(ch, 6);
    assert_int_equal(esim_pin_adc_unit(26, &ch), 2);
    assert_int_equal(ch, 9);
    assert_int_equal(esim_pin_adc_unit(5, &ch), 0);
}

static void test_wire_levels(void **state)
{
    (void)state;
    esim_gpio *g = new_gpio();
    assert_int_equal(esim_gpio_wire_level(g, 4), ESIM_LEVEL_FLOATING);
    assert_int_equal(esim_gpio_get_level(g, 4), 0);
    esim_pad_config up = {.input = true, .pull_up = true, .drive = 2};
    assert_int_equal(esim_gpio_configure(g, 4, &up), ESP_OK);
    assert_int_equal(esim_gpio_get_level(g, 4), 1);
    esim_gpio_drive_from_outside(g, 4, 0);   /* a button to ground beats the pull-up */
    assert_int_equal(esim_gpio_get_level(g, 4), 0);
    assert_int_equal(esim_gpio_configure(g, 4, &output), ESP_OK);
    assert_int_equal(esim_gpio_set_output(g, 4, 1), ESP_OK);
    assert_int_equal(esim_gpio_wire_level(g, 4), 1);   /* the driver wins */
    esim_pad_config od = output;
    od.open_drain = true;
    od.out_level = 1;
    assert_int_equal(esim_gpio_configure(g, 4, &od), ESP_OK);
    assert_int_equal(esim_gpio_wire_level(g, 4), 0);   /* released: the outside's 0 */
    esim_gpio_drive_from_outside(g, 4, ESIM_LEVEL_FLOATING);
    assert_int_equal(esim_gpio_wire_level(g, 4), ESIM_LEVEL_FLOATING);
    esim_gpio_destroy(g);
}

static void test_bad_configurations(void **state)
{
    (void)state;
    esim_gpio *g = new_gpio();
    esim_pad_config pulled = {.input = true, .pull_down = true};
    assert_int_equal(esim_gpio_configure(g, 24, &output), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_gpio_configure(g, 34, &output), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_gpio_configure(g, 39, &pulled), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_gpio_set_output(g, 40, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_gpio_set_hold(g, -1, true), ESP_ERR_INVALID_ARG);
    esim_gpio_destroy(g);
}

static void test_hold_freezes_the_pad(void **state)
{
    (void)state;
    esim_gpio *g = new_gpio();
    esim_gpio_configure(g, 26, &output);
    esim_gpio_set_output(g, 26, 1);
    esim_gpio_set_hold(g, 26, true);
    esim_gpio_set_output(g, 26, 0);
    assert_int_equal(esim_gpio_wire_level(g, 26), 1);
    esim_pad_config reg;
    esim_gpio_get_config(g, 26, &reg);
    assert_int_equal(reg.out_level, 0);   /* the register took the write */
    esim_gpio_set_hold(g, 26, false);
    assert_int_equal(esim_gpio_wire_level(g, 26), 0);
    esim_gpio_destroy(g);
}

static void test_resets_and_deep_sleep(void **state)
{
    (void)state;
    esim_gpio *g = new_gpio();
    int pins[] = {26, 5, 18, 33};   /* held RTC, held digital, plain, wake pin */
    for (int i = 0; i < 4; i++) {
        esim_gpio_configure(g, pins[i], &output);
        esim_gpio_set_output(g, pins[i], 1);
    }
    esim_gpio_set_hold(g, 26, true);
    esim_gpio_set_hold(g, 5, true);
    esim_gpio_enter_deep_sleep(g, UINT64_C(1) << 33);
    assert_int_equal(esim_gpio_wire_level(g, 26), 1);
    assert_int_equal(esim_gpio_wire_level(g, 5), ESIM_LEVEL_FLOATING);   /* no deep-sleep hold */
    assert_int_equal(esim_gpio_wire_level(g, 18), ESIM_LEVEL_FLOATING);
    assert_int_equal(esim_gpio_wire_level(g, 33), 1);
    esim_gpio_system_reset(g);
    assert_int_equal(esim_gpio_wire_level(g, 26), 1);   /* still held after the wake */
    assert_true(esim_gpio_held(g, 26));
    assert_false(esim_gpio_held(g, 5));
    assert_int_equal(esim_gpio_wire_level(g, 33), ESIM_LEVEL_FLOATING);

    esim_gpio_configure(g, 5, &output);
    esim_gpio_set_output(g, 5, 1);
    esim_gpio_set_hold(g, 5, true);
    esim_gpio_set_deep_sleep_hold(g, true);
    esim_gpio_enter_deep_sleep(g, 0);
    assert_int_equal(esim_gpio_wire_level(g, 5), 1);
    esim_gpio_power_off(g);
    assert_false(esim_gpio_held(g, 26));
    assert_false(esim_gpio_deep_sleep_hold(g));
    assert_int_equal(esim_gpio_wire_level(g, 26), ESIM_LEVEL_FLOATING);
    esim_gpio_destroy(g);
}

static void test_edges_and_record(void **state)
{
    (void)state;
    esim_gpio *g = new_gpio();
    esim_gpio_configure(g, 2, &output);
    esim_gpio_set_time_ps(g, 1000);
    esim_gpio_set_output(g, 2, 1);
    esim_gpio_set_time_ps(g, 5000);
    esim_gpio_set_output(g, 2, 0);
    esim_gpio_set_output(g, 2, 0);   /* no change, nothing recorded */
    assert_int_equal(esim_gpio_pins_with_edges(g), UINT64_C(1) << 2);
    assert_int_equal(esim_gpio_take_edges(g, 2), ESIM_EDGE_RISING | ESIM_EDGE_FALLING);
    assert_int_equal(esim_gpio_take_edges(g, 2), 0);
    assert_int_equal(esim_gpio_pins_with_edges(g), 0);
    /* configure at t=0 (floating -> 0), then 1 at 1 µs, 0 at 5 µs */
    assert_int_equal(esim_gpio_trace_count(g), 3);
    const esim_pin_change *c = esim_gpio_trace_at(g, 1);
    assert_int_equal(c->t_ps, 1000);
    assert_int_equal(c->pin, 2);
    assert_int_equal(c->level, 1);
    assert_int_equal(esim_gpio_trace_at(g, 2)->level, 0);
    assert_null(esim_gpio_trace_at(g, 3));
    esim_gpio_trace_clear(g);
    assert_int_equal(esim_gpio_trace_count(g), 0);
    assert_int_equal(esim_gpio_trace_start_level(g, 2), 0);
    assert_int_equal(esim_gpio_trace_start_level(g, 3), ESIM_LEVEL_FLOATING);
    esim_gpio_destroy(g);
}

static void test_record_keeps_the_latest(void **state)
{
    (void)state;
    esim_gpio *g = new_gpio();
    esim_gpio_configure(g, 2, &output);
    size_t n = ESIM_GPIO_TRACE_MAX + 10;
    for (size_t i = 0; i < n; i++) {
        esim_gpio_set_time_ps(g, i);
        esim_gpio_set_output(g, 2, (int)(i & 1u) ^ 1);
    }
    assert_int_equal(esim_gpio_trace_count(g), ESIM_GPIO_TRACE_MAX);
    assert_int_equal(esim_gpio_trace_dropped(g), n + 1 - ESIM_GPIO_TRACE_MAX);
    const esim_pin_change *last = esim_gpio_trace_at(g, ESIM_GPIO_TRACE_MAX - 1);
    assert_int_equal(last->t_ps, n - 1);
    const esim_pin_change *first = esim_gpio_trace_at(g, 0);
    /* the start level is the level just before the oldest kept change */
    assert_int_equal(esim_gpio_trace_start_level(g, 2), first->level ^ 1);
    esim_gpio_destroy(g);
}

static void test_peripheral_routing(void **state)
{
    (void)state;
    esim_gpio *g = new_gpio();
    assert_int_equal(esim_gpio_route_peripheral(g, 36, true), ESP_ERR_INVALID_ARG);   /* input only */
    assert_int_equal(esim_gpio_route_peripheral(g, 18, true), ESP_OK);
    assert_true(esim_gpio_routed(g, 18));
    assert_int_equal(esim_gpio_wire_level(g, 18), 0);   /* the driver is on, the peripheral idles low */
    esim_gpio_set_time_ps(g, 12500);
    esim_gpio_peripheral_level(g, 18, 1);
    esim_gpio_set_output(g, 18, 0);                     /* the register does not reach the pad */
    assert_int_equal(esim_gpio_wire_level(g, 18), 1);
    assert_int_equal(esim_gpio_trace_at(g, esim_gpio_trace_count(g) - 1)->t_ps, 12500);
    assert_int_equal(esim_gpio_route_peripheral(g, 18, false), ESP_OK);
    assert_int_equal(esim_gpio_wire_level(g, 18), 0);   /* back to the register */
    esim_gpio_route_peripheral(g, 18, true);
    esim_gpio_system_reset(g);
    assert_false(esim_gpio_routed(g, 18));
    esim_gpio_destroy(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_facts),
        cmocka_unit_test(test_wire_levels),
        cmocka_unit_test(test_bad_configurations),
        cmocka_unit_test(test_hold_freezes_the_pad),
        cmocka_unit_test(test_resets_and_deep_sleep),
        cmocka_unit_test(test_edges_and_record),
        cmocka_unit_test(test_record_keeps_the_latest),
        cmocka_unit_test(test_peripheral_routing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
