/* esp32sim — light and deep sleep, wake-up sources and the world's clock
 * (docs/sleep.md).
 *
 * Two layers, as on a board:
 *  - the wake configuration MicroPython keeps (machine_rtc_config: the
 *    ext0 pin and level, ext1 pins and level, GPIO pins, touch and ULP
 *    flags). It is RAM: lost at every hard reset and deep-sleep wake,
 *    kept by a soft reset;
 *  - esp_sleep's enabled sources, set up from that configuration at each
 *    sleep in MicroPython's order, with ESP-IDF's conflict rules.
 * A sleep runs the world forward on the virtual clock — stimuli are
 * applied, the ULP runs — until the earliest wake source fires, or the
 * run's time limit comes first. */
#ifndef ESP32SIM_SLEEP_H
#define ESP32SIM_SLEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "esp32sim/err.h"

struct esim_device;

/* esp_sleep_wakeup_cause_t (values 0..8 are the same in every ESP-IDF). */
typedef enum {
    ESIM_WAKE_UNDEFINED = 0,
    ESIM_WAKE_EXT0 = 2,
    ESIM_WAKE_EXT1 = 3,
    ESIM_WAKE_TIMER = 4,
    ESIM_WAKE_TOUCHPAD = 5,
    ESIM_WAKE_ULP = 6,
    ESIM_WAKE_GPIO = 7,
} esim_wake_cause;

/* machine.SLEEP / machine.DEEPSLEEP as wake types of ext0. */
#define ESIM_WAKE_TYPE_SLEEP 2u
#define ESIM_WAKE_TYPE_DEEPSLEEP 4u

/* MicroPython's machine_rtc_config. */
typedef struct {
    int ext0_pin;              /* -1: none */
    bool ext0_level;
    unsigned ext0_wake_types;  /* ESIM_WAKE_TYPE_* bits */
    uint64_t ext1_pins;        /* bit n = GPIO n */
    bool ext1_level;           /* false ALL_LOW, true ANY_HIGH */
    uint64_t gpio_pins;
    bool gpio_level;
    bool wake_on_touch;
    bool wake_on_ulp;
} esim_wake_config;

/* The board's configuration (reset to the initial values at every boot). */
esim_wake_config *esim_device_wake_config(struct esim_device *dev);

typedef enum {
    ESIM_SLEEP_WOKE,        /* a source fired; for deep sleep the board has
                               rebooted (reset reason DEEPSLEEP) */
    ESIM_SLEEP_TIME_LIMIT,  /* the run's time limit came first; the clock
                               stands at the limit, the board still sleeps */
} esim_sleep_outcome;

/* What a sleep call did. */
typedef struct {
    esim_sleep_outcome outcome;
    esim_wake_cause cause;
    uint64_t slept_us;
    /* ESP_ERR_INVALID_STATE from esp_sleep_enable_touchpad_wakeup or
     * _ulp_wakeup (ext0 enabled first): MicroPython raises
     * RuntimeError("esp_sleep_enable_<name>_wakeup() failed") */
    const char *failed_enable;
} esim_sleep_result;

/* machine.lightsleep([ms]) / machine.deepsleep([ms]) as MicroPython's
 * machine_sleep_helper does them: all sources disabled, the timer when
 * `has_timer`, then ext0 (when its wake types include this kind of sleep),
 * ext1, touch, ULP, GPIO. Deep sleep with GPIO pins is
 * ESP_ERR_NOT_SUPPORTED (MicroPython's ValueError "DEEPSLEEP with gpio
 * pins not supported on this chip"), checked before anything happens.
 * Light sleep returns in place with the wake cause set. Deep sleep powers
 * down what the chip powers down (pads not held, RAM) and, on waking,
 * reboots through the bootloader with reset reason DEEPSLEEP. */
esp_err_t esim_device_light_sleep(struct esim_device *dev, bool has_timer, uint64_t time_ms, esim_sleep_result *out);
esp_err_t esim_device_deep_sleep(struct esim_device *dev, bool has_timer, uint64_t time_ms, esim_sleep_result *out);

/* esp_sleep_get_wakeup_cause(): the cause of the last light-sleep wake of
 * this boot, else of the deep sleep this boot woke from, else UNDEFINED;
 * and esp_sleep_get_ext1_wakeup_status() (bit n = GPIO n). */
esim_wake_cause esim_device_wake_cause(const struct esim_device *dev);
uint64_t esim_device_ext1_wake_status(const struct esim_device *dev);

/* What a sleep with wake_on_ulp asks to find the ULP's WAKE: by default
 * the board's own ULP (esim_device_ulp); a runner set here replaces it
 * (tests): run from `from_us` up to `until_us` of world time and return
 * when a WAKE was executed, or UINT64_MAX. NULL restores the board's. */
typedef uint64_t (*esim_ulp_runner)(struct esim_device *dev, uint64_t from_us, uint64_t until_us, void *ctx);
void esim_device_set_ulp_runner(struct esim_device *dev, esim_ulp_runner run, void *ctx);

#endif
