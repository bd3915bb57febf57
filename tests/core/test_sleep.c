/* Tests for light and deep sleep on the world's clock (sleep.h, world.c):
 * each wake source, their order, conflicts, the time limit, stimuli and
 * what survives a deep-sleep wake. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "esp32sim/device.h"
#include "esp32sim/sleep.h"

/* How long boots take (world.c's model). */
#define POWER_ON_BOOT_US 290000u
#define WAKE_BOOT_US 150000u

static esim_device *open_board(void)
{
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(NULL, &dev, NULL), ESP_OK);
    return dev;
}

static void at_ms(esim_device *dev, uint64_t ms, esim_stim_kind kind, int index, int level, double value)
{
    esim_stim_event e = {ms * 1000u, kind, index, level, value};
    assert_int_equal(esim_stimulus_add(esim_device_stimulus(dev), &e, NULL, 0), ESP_OK);
}

static esim_sleep_result deep_sleep(esim_device *dev, bool has_timer, uint64_t ms)
{
    esim_sleep_result r;
    assert_int_equal(esim_device_deep_sleep(dev, has_timer, ms, &r), ESP_OK);
    return r;
}

static void test_timer_wake_reboots(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    esim_device_rtc_slow_mem(dev)[100] = 0x5a;
    assert_int_equal(esim_device_world_time_us(dev), POWER_ON_BOOT_US);
    assert_int_equal(esim_device_time_us(dev), 0);
    esim_device_advance_us(dev, 1500);
    esim_device_wake_config(dev)->wake_on_touch = true;   /* RAM: lost at the wake */
    esim_sleep_result r = deep_sleep(dev, true, 60000);
    assert_int_equal(r.outcome, ESIM_SLEEP_WOKE);
    assert_int_equal(r.cause, ESIM_WAKE_TIMER);
    assert_int_equal(r.slept_us, 60000000u);
    assert_int_equal(esim_device_reset_reason(dev), ESIM_RST_DEEPSLEEP);
    assert_int_equal(esim_device_wake_cause(dev), ESIM_WAKE_TIMER);
    assert_int_equal(esim_device_boot_count(dev), 2);
    assert_int_equal(esim_device_time_us(dev), 0);
    uint64_t woke = POWER_ON_BOOT_US + 1500u + 60000000u;
    assert_int_equal(esim_device_boot_started_us(dev), woke);
    assert_int_equal(esim_device_rtc_time_us(dev), woke + WAKE_BOOT_US);   /* a fast wake: no image check */
    assert_int_equal(esim_device_world_time_us(dev), woke + WAKE_BOOT_US);
    assert_int_equal(esim_device_rtc_slow_mem(dev)[100], 0x5a);
    assert_false(esim_device_wake_config(dev)->wake_on_touch);
    assert_int_equal(esim_device_wake_config(dev)->ext0_pin, -1);
    /* a hard reset forgets the wake cause; a power cycle RTC memory */
    esim_device_hard_reset(dev, ESIM_RST_SW);
    assert_int_equal(esim_device_wake_cause(dev), ESIM_WAKE_UNDEFINED);
    assert_int_equal(esim_device_rtc_slow_mem(dev)[100], 0x5a);
    esim_device_power_cycle(dev);
    assert_int_equal(esim_device_rtc_slow_mem(dev)[100], 0);
    esim_device_close(dev);
}

static void test_ext0_wakes_on_its_level(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    at_ms(dev, 5000, ESIM_STIM_PIN, 33, 1, 0);
    esim_wake_config *w = esim_device_wake_config(dev);
    w->ext0_pin = 33;
    w->ext0_level = true;
    w->ext0_wake_types = ESIM_WAKE_TYPE_DEEPSLEEP;
    esim_sleep_result r = deep_sleep(dev, true, 60000);
    assert_int_equal(r.cause, ESIM_WAKE_EXT0);
    assert_int_equal(esim_device_boot_started_us(dev), 5000000u);
    /* level-triggered: already high when the board sleeps, it wakes at once */
    w = esim_device_wake_config(dev);
    w->ext0_pin = 33;
    w->ext0_level = true;
    w->ext0_wake_types = ESIM_WAKE_TYPE_DEEPSLEEP;
    r = deep_sleep(dev, false, 0);
    assert_int_equal(r.cause, ESIM_WAKE_EXT0);
    assert_int_equal(r.slept_us, 0);
    esim_device_close(dev);
}

static void test_ext0_only_for_its_wake_types(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    at_ms(dev, 10, ESIM_STIM_PIN, 4, 0, 0);
    esim_wake_config *w = esim_device_wake_config(dev);
    w->ext0_pin = 4;
    w->ext0_level = false;
    w->ext0_wake_types = ESIM_WAKE_TYPE_DEEPSLEEP;   /* Pin.irq(wake=machine.DEEPSLEEP) */
    esim_sleep_result r;
    assert_int_equal(esim_device_light_sleep(dev, true, 1000, &r), ESP_OK);
    assert_int_equal(r.cause, ESIM_WAKE_TIMER);
    assert_int_equal(esim_device_wake_cause(dev), ESIM_WAKE_TIMER);
    assert_int_equal(esim_device_boot_count(dev), 1);   /* light sleep returns in place */
    esim_device_close(dev);
}

static void test_ext1_modes(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    at_ms(dev, 0, ESIM_STIM_PIN, 32, 1, 0);
    at_ms(dev, 0, ESIM_STIM_PIN, 39, 1, 0);
    at_ms(dev, 300, ESIM_STIM_PIN, 39, 0, 0);
    at_ms(dev, 400, ESIM_STIM_PIN, 32, 0, 0);
    at_ms(dev, 600, ESIM_STIM_PIN, 39, 1, 0);
    esim_device_advance_us(dev, 0);
    esim_wake_config *w = esim_device_wake_config(dev);
    w->ext1_pins = (UINT64_C(1) << 32) | (UINT64_C(1) << 39);
    w->ext1_level = false;   /* ALL_LOW */
    esim_sleep_result r = deep_sleep(dev, false, 0);
    assert_int_equal(r.cause, ESIM_WAKE_EXT1);
    assert_int_equal(esim_device_boot_started_us(dev), 400000u);
    assert_int_equal(esim_device_ext1_wake_status(dev), (UINT64_C(1) << 32) | (UINT64_C(1) << 39));
    assert_int_equal(esim_device_wake_config(dev)->ext1_pins, 0);   /* the wake forgot it */
    w = esim_device_wake_config(dev);
    w->ext1_pins = (UINT64_C(1) << 32) | (UINT64_C(1) << 39);
    w->ext1_level = true;   /* ANY_HIGH */
    r = deep_sleep(dev, false, 0);
    assert_int_equal(r.cause, ESIM_WAKE_EXT1);
    assert_int_equal(esim_device_boot_started_us(dev), 600000u);
    assert_int_equal(esim_device_ext1_wake_status(dev), UINT64_C(1) << 39);
    esim_device_close(dev);
}

static void test_touch_needs_a_threshold(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    at_ms(dev, 1000, ESIM_STIM_TOUCH, 9, 0, 80);
    at_ms(dev, 2000, ESIM_STIM_TOUCH, 9, 0, -1);
    at_ms(dev, 3000, ESIM_STIM_TOUCH, 9, 0, 80);
    esim_device_wake_config(dev)->wake_on_touch = true;
    esim_sleep_result r;
    assert_int_equal(esim_device_light_sleep(dev, true, 2500, &r), ESP_OK);
    assert_int_equal(r.cause, ESIM_WAKE_TIMER);   /* no pad configured */
    esim_device_sensors(dev)->touch_threshold[9] = 500;
    assert_int_equal(esim_device_light_sleep(dev, true, 10000, &r), ESP_OK);
    assert_int_equal(r.cause, ESIM_WAKE_TOUCHPAD);
    assert_int_equal(esim_device_world_time_us(dev), 3000000u);   /* light sleep: no boot */
    esim_device_close(dev);
}

static void test_conflicts_and_gpio(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    esim_wake_config *w = esim_device_wake_config(dev);
    w->wake_on_ulp = true;
    w->ext0_pin = 4;
    w->ext0_wake_types = ESIM_WAKE_TYPE_SLEEP | ESIM_WAKE_TYPE_DEEPSLEEP;
    esim_sleep_result r;
    assert_int_equal(esim_device_deep_sleep(dev, true, 10, &r), ESP_ERR_INVALID_STATE);
    assert_string_equal(r.failed_enable, "esp_sleep_enable_ulp_wakeup");
    assert_int_equal(esim_device_boot_count(dev), 1);
    w->wake_on_ulp = false;
    w->ext0_pin = -1;
    w->gpio_pins = UINT64_C(1) << 5;
    w->gpio_level = true;
    assert_int_equal(esim_device_deep_sleep(dev, true, 10, &r), ESP_ERR_NOT_SUPPORTED);
    at_ms(dev, 400, ESIM_STIM_PIN, 5, 1, 0);
    assert_int_equal(esim_device_light_sleep(dev, true, 1000, &r), ESP_OK);
    assert_int_equal(r.cause, ESIM_WAKE_GPIO);
    assert_int_equal(esim_device_world_time_us(dev), 400000u);
    esim_device_close(dev);
}

static void test_time_limit(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    esim_device_set_time_limit_us(dev, 90000000u);
    esim_sleep_result r = deep_sleep(dev, true, 60000);
    assert_int_equal(r.outcome, ESIM_SLEEP_WOKE);
    r = deep_sleep(dev, true, 60000);
    assert_int_equal(r.outcome, ESIM_SLEEP_TIME_LIMIT);
    assert_int_equal(esim_device_world_time_us(dev), 90000000u);
    assert_int_equal(esim_device_boot_count(dev), 2);
    assert_true(esim_device_time_limit_reached(dev));
    assert_int_equal(esim_device_advance_us(dev, 1), ESP_ERR_TIMEOUT);
    esim_device_close(dev);

    dev = open_board();   /* no limit, no source: it would sleep for ever */
    r = deep_sleep(dev, false, 0);
    assert_int_equal(r.outcome, ESIM_SLEEP_TIME_LIMIT);
    assert_int_equal(esim_device_world_time_us(dev), POWER_ON_BOOT_US);
    esim_device_close(dev);
}

static uint64_t ulp_wakes_at_7s(esim_device *dev, uint64_t from_us, uint64_t until_us, void *ctx)
{
    (void)dev;
    *(int *)ctx += 1;
    return 7000000u >= from_us && 7000000u <= until_us ? 7000000u : UINT64_MAX;
}

static void test_ulp_runner_plugs_in(void **state)
{
    (void)state;
    esim_device *dev = open_board();
    int calls = 0;
    esim_device_set_ulp_runner(dev, ulp_wakes_at_7s, &calls);
    at_ms(dev, 3000, ESIM_STIM_TEMPERATURE, 0, 0, 30.0);
    esim_device_wake_config(dev)->wake_on_ulp = true;
    esim_sleep_result r = deep_sleep(dev, true, 60000);
    assert_int_equal(r.cause, ESIM_WAKE_ULP);
    assert_int_equal(esim_device_boot_started_us(dev), 7000000u);
    assert_int_equal(calls, 2);   /* up to the stimulus, then on to the timer */
    assert_int_equal(esim_sensors_raw_temperature(esim_device_sensors(dev)), 86);
    esim_device_close(dev);
}

static void test_sensors(void **state)
{
    (void)state;
    esim_sensors s;
    esim_sensors_init(&s);
    assert_int_equal(esim_sensors_raw_temperature(&s), 130);
    s.die_c = -40.0;
    assert_int_equal(esim_sensors_raw_temperature(&s), 0);
    s.die_c = 125.0;
    assert_int_equal(esim_sensors_raw_temperature(&s), 255);
    assert_int_equal(esim_sensors_touch_read(&s, 3), ESIM_TOUCH_UNTOUCHED);
    s.touch_value[3] = 70;
    s.touch_threshold[3] = 100;
    assert_int_equal(esim_sensors_touched_pads(&s), 1u << 3);
    esim_sensors_reset(&s);
    assert_int_equal(esim_sensors_touched_pads(&s), 0);
    s.adc_mv[34] = 1800.0;
    assert_int_equal(esim_sensors_adc_raw(&s, 34, 3, 12), 2048);   /* 1.8 V of 3.6 V */
    s.adc_mv[34] = 3300.0;
    assert_int_equal(esim_sensors_adc_raw(&s, 34, 0, 12), 4095);   /* clipped at 1.0 V */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_wake_reboots),
        cmocka_unit_test(test_ext0_wakes_on_its_level),
        cmocka_unit_test(test_ext0_only_for_its_wake_types),
        cmocka_unit_test(test_ext1_modes),
        cmocka_unit_test(test_touch_needs_a_threshold),
        cmocka_unit_test(test_conflicts_and_gpio),
        cmocka_unit_test(test_time_limit),
        cmocka_unit_test(test_ulp_runner_plugs_in),
        cmocka_unit_test(test_sensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
