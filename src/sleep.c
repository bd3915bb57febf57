/* esp32sim — light and deep sleep: esp_sleep's wake sources set up from
 * MicroPython's wake configuration, and the world run forward until the
 * first of them fires (sleep.h, docs/sleep.md). */
#include "device_internal.h"
#include "esp32sim/ulp_host.h"

/* esp_sleep's enabled sources for one sleep. */
typedef struct {
    bool timer;
    uint64_t timer_at_us;   /* world time */
    int ext0_pin;           /* -1: off */
    bool ext0_level;
    uint64_t ext1_pins;
    bool ext1_any_high;
    bool touch;
    bool ulp;
    uint64_t gpio_pins;     /* light sleep only */
    bool gpio_level;
} wake_sources;

typedef enum { LIGHT, DEEP } sleep_kind;

/* With no time limit, a sleep only the ULP can end gives up after a week
 * of virtual time without its WAKE (a ULP program that never wakes the
 * CPU would otherwise be emulated for ever). */
#define ULP_ONLY_SLEEP_MAX_US (7ull * 24 * 3600 * 1000000)

esim_wake_config *esim_device_wake_config(esim_device *dev) { return &dev->wake; }
esim_wake_cause esim_device_wake_cause(const esim_device *dev) { return dev->wake_cause; }
uint64_t esim_device_ext1_wake_status(const esim_device *dev) { return dev->ext1_wake_status; }

void esim_device_set_ulp_runner(esim_device *dev, esim_ulp_runner run, void *ctx)
{
    dev->ulp_runner = run;
    dev->ulp_ctx = ctx;
}

/* ---- setting the sources up (machine_sleep_helper's order) ---- */

static uint64_t timer_deadline(const esim_device *dev, uint64_t time_ms)
{
    uint64_t us = time_ms * 1000u;   /* wraps as the board's uint64_t does */
    return UINT64_MAX - dev->world_time_us < us ? UINT64_MAX : dev->world_time_us + us;
}

/* ESP-IDF on the ESP32 refuses touch and ULP wake-up once ext0 is on
 * (ESP_ERR_INVALID_STATE); MicroPython turns that into a RuntimeError. */
static const char *enable_sources(const esim_device *dev, sleep_kind kind, bool has_timer, uint64_t time_ms,
                                  wake_sources *src)
{
    const esim_wake_config *cfg = &dev->wake;
    unsigned kind_bit = kind == DEEP ? ESIM_WAKE_TYPE_DEEPSLEEP : ESIM_WAKE_TYPE_SLEEP;
    *src = (wake_sources){.ext0_pin = -1};
    src->timer = has_timer;
    if (has_timer)
        src->timer_at_us = timer_deadline(dev, time_ms);
    if (cfg->ext0_pin != -1 && (cfg->ext0_wake_types & kind_bit)) {
        src->ext0_pin = cfg->ext0_pin;
        src->ext0_level = cfg->ext0_level;
    }
    src->ext1_pins = cfg->ext1_pins;
    src->ext1_any_high = cfg->ext1_level;
    if (cfg->wake_on_touch) {
        if (src->ext0_pin != -1)
            return "esp_sleep_enable_touchpad_wakeup";
        src->touch = true;
    }
    if (cfg->wake_on_ulp) {
        if (src->ext0_pin != -1)
            return "esp_sleep_enable_ulp_wakeup";
        src->ulp = true;
    }
    src->gpio_pins = cfg->gpio_pins;
    src->gpio_level = cfg->gpio_level;
    return NULL;
}

/* ---- which source fires now ---- */

static bool pin_high(const esim_device *dev, int pin)
{
    return esim_gpio_wire_level(dev->gpio, pin) == 1;
}

/* ext1: ANY_HIGH fires when one pin is high, ALL_LOW when all are low;
 * the status names the pins that fired (all of them for ALL_LOW). */
static bool ext1_fires(const esim_device *dev, const wake_sources *src, uint64_t *status)
{
    uint64_t high = 0;
    if (src->ext1_pins == 0)
        return false;
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        if ((src->ext1_pins >> pin & 1u) && pin_high(dev, pin))
            high |= UINT64_C(1) << pin;
    *status = src->ext1_any_high ? high : src->ext1_pins;
    return src->ext1_any_high ? high != 0 : high == 0;
}

static bool gpio_fires(const esim_device *dev, const wake_sources *src)
{
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        if ((src->gpio_pins >> pin & 1u) && pin_high(dev, pin) == src->gpio_level)
            return true;
    return false;
}

/* The cause ESP-IDF reports when several sources fire at once follows its
 * order of checks: EXT0, EXT1, TIMER, TOUCHPAD, ULP, GPIO. */
static esim_wake_cause level_cause(esim_device *dev, const wake_sources *src, sleep_kind kind)
{
    uint64_t status = 0;
    if (src->ext0_pin != -1 && pin_high(dev, src->ext0_pin) == src->ext0_level)
        return ESIM_WAKE_EXT0;
    if (ext1_fires(dev, src, &status)) {
        dev->ext1_wake_status = status;
        return ESIM_WAKE_EXT1;
    }
    if (src->timer && dev->world_time_us >= src->timer_at_us)
        return ESIM_WAKE_TIMER;
    if (src->touch && esim_sensors_touched_pads(&dev->sensors) != 0)
        return ESIM_WAKE_TOUCHPAD;
    if (kind == LIGHT && src->gpio_pins != 0 && gpio_fires(dev, src))
        return ESIM_WAKE_GPIO;
    return ESIM_WAKE_UNDEFINED;
}

/* ---- running the world until then ---- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The next moment something may change: a stimulus or the timer. */
static uint64_t next_moment(const esim_device *dev, const wake_sources *src)
{
    uint64_t next = esim_stimulus_next_time(dev->stimulus);
    if (src->timer)
        next = min_u64(next, src->timer_at_us);
    return next;
}

/* The board's ULP, caught up to until_us: when (in µs, rounded up) it
 * executed a WAKE the RTC accepts. */
static uint64_t board_ulp_wake(esim_device *dev, uint64_t until_us)
{
    uint64_t until_ps = until_us < UINT64_MAX / 1000000u ? until_us * 1000000u : UINT64_MAX - 1u;
    uint64_t wake_ps = esim_ulp_run_until(dev->ulp, until_ps, true);
    return wake_ps == UINT64_MAX ? UINT64_MAX : (wake_ps + 999999u) / 1000000u;
}

static uint64_t ulp_wake_before(esim_device *dev, const wake_sources *src, uint64_t until_us)
{
    if (!src->ulp)
        return UINT64_MAX;
    if (dev->ulp_runner != NULL)
        return dev->ulp_runner(dev, dev->world_time_us, until_us, dev->ulp_ctx);
    return board_ulp_wake(dev, until_us);
}

static esim_sleep_outcome wait_for_wake(esim_device *dev, const wake_sources *src, sleep_kind kind,
                                        esim_wake_cause *cause)
{
    esim_device_advance_to(dev, dev->world_time_us);   /* events due now */
    for (;;) {
        *cause = level_cause(dev, src, kind);
        if (*cause != ESIM_WAKE_UNDEFINED)
            return ESIM_SLEEP_WOKE;
        uint64_t next = next_moment(dev, src);
        uint64_t until = min_u64(next, dev->time_limit_us);
        if (until == UINT64_MAX && src->ulp)   /* only the ULP could end it */
            until = dev->world_time_us + ULP_ONLY_SLEEP_MAX_US;
        uint64_t ulp_at = ulp_wake_before(dev, src, until);
        if (ulp_at != UINT64_MAX && ulp_at <= until) {
            esim_device_advance_to(dev, ulp_at);
            *cause = ESIM_WAKE_ULP;
            return ESIM_SLEEP_WOKE;
        }
        if (next == UINT64_MAX && dev->time_limit_us == UINT64_MAX && src->ulp) {
            esim_device_advance_to(dev, until);
            return ESIM_SLEEP_TIME_LIMIT;
        }
        if (next == UINT64_MAX || next > dev->time_limit_us) {
            if (dev->time_limit_us != UINT64_MAX)
                esim_device_advance_to(dev, dev->time_limit_us);
            return ESIM_SLEEP_TIME_LIMIT;
        }
        esim_device_advance_to(dev, next);
    }
}

static esp_err_t start_sleep(esim_device *dev, sleep_kind kind, bool has_timer, uint64_t time_ms,
                             wake_sources *src, esim_sleep_result *out)
{
    *out = (esim_sleep_result){ESIM_SLEEP_WOKE, ESIM_WAKE_UNDEFINED, 0, NULL};
    if (kind == DEEP && dev->wake.gpio_pins != 0)
        return ESP_ERR_NOT_SUPPORTED;
    dev->ext1_wake_status = 0;
    out->failed_enable = enable_sources(dev, kind, has_timer, time_ms, src);
    return out->failed_enable ? ESP_ERR_INVALID_STATE : ESP_OK;
}

esp_err_t esim_device_light_sleep(esim_device *dev, bool has_timer, uint64_t time_ms, esim_sleep_result *out)
{
    wake_sources src;
    esp_err_t err = start_sleep(dev, LIGHT, has_timer, time_ms, &src, out);
    if (err)
        return err;
    uint64_t start = dev->world_time_us;
    out->outcome = wait_for_wake(dev, &src, LIGHT, &out->cause);
    out->slept_us = dev->world_time_us - start;
    if (out->outcome == ESIM_SLEEP_WOKE)
        dev->wake_cause = out->cause;
    return ESP_OK;
}

static uint64_t rtc_wake_pins(const wake_sources *src)
{
    uint64_t pins = src->ext1_pins;
    if (src->ext0_pin != -1)
        pins |= UINT64_C(1) << src->ext0_pin;
    return pins;
}

esp_err_t esim_device_deep_sleep(esim_device *dev, bool has_timer, uint64_t time_ms, esim_sleep_result *out)
{
    wake_sources src;
    esp_err_t err = start_sleep(dev, DEEP, has_timer, time_ms, &src, out);
    if (err)
        return err;
    uint64_t start = dev->world_time_us;
    esim_rmt_reset(dev->rmt, dev->gpio);   /* the digital peripherals power down */
    esim_gpio_enter_deep_sleep(dev->gpio, rtc_wake_pins(&src));
    esim_ulp_set_soc_deep_sleep(dev->ulp, true);   /* the ULP's SLEEP does nothing meanwhile */
    out->outcome = wait_for_wake(dev, &src, DEEP, &out->cause);
    esim_ulp_set_soc_deep_sleep(dev->ulp, false);
    out->slept_us = dev->world_time_us - start;
    if (out->outcome != ESIM_SLEEP_WOKE)
        return ESP_OK;
    dev->wake_cause = out->cause;
    /* the board reboots whether or not it finds a partition table; a
     * failed boot is recorded (esim_device_boot_error) */
    (void)esim_device_hard_reset(dev, ESIM_RST_DEEPSLEEP);
    return ESP_OK;
}
