/* esp32sim — the world around the board: the clocks, the time limit,
 * real-time pacing, and the stimuli applied to pads and sensors as the
 * clock advances (device.h, docs/stimulus.md). */
#define _POSIX_C_SOURCE 200809L

#include "device_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wait_wall_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* World time in picoseconds, the GPIO record's unit (2^64 ps is 213
 * days: later times stay at the end of the record's range). */
static uint64_t ps_of(uint64_t us)
{
    return us < UINT64_MAX / 1000000u ? us * 1000000u : UINT64_MAX - 1u;
}

esp_err_t esim_world_create(esim_device *dev)
{
    dev->time_limit_us = UINT64_MAX;
    esim_sensors_init(&dev->sensors);
    esp_err_t err = esim_gpio_create(&dev->gpio);
    if (err == ESP_OK)
        err = esim_stimulus_create(&dev->stimulus);
    if (err == ESP_OK)
        err = esim_rmt_create(&dev->rmt);
    esim_ulp_bus bus = {dev->rtc_slow, &dev->sensors, dev->gpio};
    if (err == ESP_OK)
        err = esim_ulp_create(&bus, &dev->ulp);
    return err;
}

void esim_world_destroy(esim_device *dev)
{
    free(dev->scheduled);
    esim_ulp_destroy(dev->ulp);
    esim_rmt_destroy(dev->rmt);
    esim_gpio_destroy(dev->gpio);
    esim_stimulus_destroy(dev->stimulus);
}

static void reset_wake_config(esim_wake_config *w)
{
    *w = (esim_wake_config){.ext0_pin = -1};
}

void esim_world_boot(esim_device *dev, esim_reset_reason reason)
{
    esim_rmt_reset(dev->rmt, dev->gpio);
    dev->n_scheduled = dev->next_scheduled = 0;
    if (reason != ESIM_RST_POWERON)
        esim_gpio_system_reset(dev->gpio);
    esim_sensors_reset(&dev->sensors);
    reset_wake_config(&dev->wake);
    if (reason != ESIM_RST_DEEPSLEEP) {
        dev->wake_cause = ESIM_WAKE_UNDEFINED;
        dev->ext1_wake_status = 0;
    }
}

void esim_world_power_off(esim_device *dev)
{
    esim_ulp_power_on(dev->ulp, ps_of(dev->world_time_us));
    esim_rmt_reset(dev->rmt, dev->gpio);
    dev->n_scheduled = dev->next_scheduled = 0;
    dev->rtc_clock_base_us = 0;
    esim_gpio_power_off(dev->gpio);
    esim_sensors_reset(&dev->sensors);
}

/* ---- how long a boot takes ----
 * Modelled, not measured: the ROM and the second-stage bootloader loading
 * the app, the bootloader's check of the whole image (SHA-256 over the
 * 1.4 MiB firmware, skipped on a deep-sleep wake as ESP-IDF's
 * CONFIG_BOOTLOADER_SKIP_VALIDATE_IN_DEEP_SLEEP does), then ESP-IDF's and
 * MicroPython's start-up up to boot.py (heap, NVS, the filesystem). */
#define BOOT_ROM_AND_LOADER_US 30000u
#define BOOT_IMAGE_CHECK_US 140000u
#define BOOT_STARTUP_US 120000u

void esim_world_boot_takes_time(esim_device *dev, bool fast_wake)
{
    uint64_t us = BOOT_ROM_AND_LOADER_US + BOOT_STARTUP_US + (fast_wake ? 0u : BOOT_IMAGE_CHECK_US);
    esim_device_advance_us(dev, us);   /* at the time limit the clock stops there */
    dev->boot_time_us = 0;             /* esp_timer starts with the app */
}

uint64_t esim_device_boot_started_us(const esim_device *dev) { return dev->boot_world_us; }

/* ---- applying stimuli ---- */

void esim_device_apply_stimulus(esim_device *dev, const esim_stim_event *e)
{
    switch (e->kind) {
    case ESIM_STIM_PIN:
        esim_gpio_drive_from_outside(dev->gpio, e->index,
                                     e->level == ESIM_STIM_RELEASE ? ESIM_LEVEL_FLOATING : e->level);
        break;
    case ESIM_STIM_TOUCH:
        dev->sensors.touch_value[e->index] = e->value < 0 ? ESIM_TOUCH_RELEASED : (int32_t)e->value;
        break;
    case ESIM_STIM_TEMPERATURE:
        dev->sensors.die_c = e->value;
        break;
    case ESIM_STIM_ADC:
        dev->sensors.adc_mv[e->index] = e->value;
        break;
    }
}

/* ---- outputs that change on their own as time passes ---- */

esp_err_t esim_device_schedule_outputs(esim_device *dev, int pin, const uint64_t *t_ps, const uint8_t *levels,
                                       size_t n)
{
    uint64_t last = dev->n_scheduled > dev->next_scheduled ? dev->scheduled[dev->n_scheduled - 1].t_ps
                                                          : ps_of(dev->world_time_us);
    if (!esim_pin_exists(pin))
        return ESP_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; last = t_ps[i++])
        if (t_ps[i] < last)
            return ESP_ERR_INVALID_ARG;
    if (dev->next_scheduled == dev->n_scheduled)
        dev->n_scheduled = dev->next_scheduled = 0;
    if (dev->n_scheduled + n > dev->cap_scheduled) {
        size_t cap = dev->n_scheduled + n + 1024;
        esim_pin_change *grown = realloc(dev->scheduled, cap * sizeof *grown);
        if (grown == NULL)
            return ESP_ERR_NO_MEM;
        dev->scheduled = grown;
        dev->cap_scheduled = cap;
    }
    for (size_t i = 0; i < n; i++)
        dev->scheduled[dev->n_scheduled++] = (esim_pin_change){t_ps[i], (uint8_t)pin, (int8_t)(levels[i] != 0)};
    return ESP_OK;
}

/* The ULP, the RMT's changes and the scheduled CPU-timed ones, up to
 * t_ps (the ULP catches up first: it runs in the RTC domain on its own
 * 8 MHz clock; its pad writes are rare next to the RMT's). */
static void run_outputs_until(esim_device *dev, uint64_t t_ps)
{
    esim_ulp_run_until(dev->ulp, t_ps, false);
    while (dev->next_scheduled < dev->n_scheduled && dev->scheduled[dev->next_scheduled].t_ps <= t_ps) {
        const esim_pin_change *c = &dev->scheduled[dev->next_scheduled++];
        esim_rmt_run_until(dev->rmt, dev->gpio, c->t_ps);
        esim_gpio_set_time_ps(dev->gpio, c->t_ps);
        esim_gpio_set_output(dev->gpio, c->pin, c->level);
    }
    esim_rmt_run_until(dev->rmt, dev->gpio, t_ps);
}

/* ---- the clocks ---- */

static void set_world_time(esim_device *dev, uint64_t world_us)
{
    uint64_t step = world_us - dev->world_time_us;
    dev->world_time_us = world_us;
    dev->boot_time_us += step;
    dev->rtc_time_us += step;
    esim_gpio_set_time_ps(dev->gpio, ps_of(world_us));
}

static void pace(esim_device *dev)
{
    if (!dev->realtime)
        return;
    uint64_t due = dev->pace_wall_ns + (dev->world_time_us - dev->pace_world_us) * 1000u;
    uint64_t now = wall_ns();
    if (due > now)
        wait_wall_ns(due - now);
}

esp_err_t esim_device_advance_to(esim_device *dev, uint64_t world_us)
{
    bool limited = world_us > dev->time_limit_us;
    uint64_t target = limited ? dev->time_limit_us : world_us;
    const esim_stim_event *e;
    if (target < dev->world_time_us)
        target = dev->world_time_us;
    /* the outputs' own edges (RMT, CPU-timed) up to each stimulus, then it */
    while ((e = esim_stimulus_take_due(dev->stimulus, target)) != NULL) {
        if (e->at_us > dev->world_time_us) {
            run_outputs_until(dev, ps_of(e->at_us));
            set_world_time(dev, e->at_us);
        }
        esim_device_apply_stimulus(dev, e);
    }
    run_outputs_until(dev, ps_of(target));
    set_world_time(dev, target);
    pace(dev);
    return limited ? ESP_ERR_TIMEOUT : ESP_OK;
}

esp_err_t esim_device_advance_us(esim_device *dev, uint64_t us)
{
    uint64_t to = UINT64_MAX - dev->world_time_us < us ? UINT64_MAX : dev->world_time_us + us;
    return esim_device_advance_to(dev, to);
}

uint64_t esim_device_time_us(const esim_device *dev) { return dev->boot_time_us; }
uint64_t esim_device_rtc_time_us(const esim_device *dev) { return dev->rtc_time_us; }
uint64_t esim_device_rtc_clock_us(const esim_device *dev) { return dev->rtc_clock_base_us + dev->rtc_time_us; }

void esim_device_set_rtc_clock_us(esim_device *dev, uint64_t since_2000_us)
{
    dev->rtc_clock_base_us = since_2000_us - dev->rtc_time_us;   /* modulo 2^64, undone on reading */
}

uint64_t esim_device_world_time_us(const esim_device *dev) { return dev->world_time_us; }

void esim_device_set_time_limit_us(esim_device *dev, uint64_t world_us) { dev->time_limit_us = world_us; }
uint64_t esim_device_time_limit_us(const esim_device *dev) { return dev->time_limit_us; }

bool esim_device_time_limit_reached(const esim_device *dev)
{
    return dev->time_limit_us != UINT64_MAX && dev->world_time_us >= dev->time_limit_us;
}

void esim_device_set_realtime(esim_device *dev, bool realtime)
{
    dev->realtime = realtime;
    dev->pace_world_us = dev->world_time_us;
    dev->pace_wall_ns = wall_ns();
}

esim_gpio *esim_device_gpio(esim_device *dev) { return dev->gpio; }
esim_rmt *esim_device_rmt(esim_device *dev) { return dev->rmt; }
esim_ulp *esim_device_ulp(esim_device *dev) { return dev->ulp; }
esim_sensors *esim_device_sensors(esim_device *dev) { return &dev->sensors; }
esim_stimulus *esim_device_stimulus(esim_device *dev) { return dev->stimulus; }
