/* esp32sim — the world around the board: the clocks, the time limit,
 * real-time pacing, and the stimuli applied to pads and sensors as the
 * clock advances (device.h, docs/stimulus.md). */
#define _POSIX_C_SOURCE 200809L

#include "device_internal.h"

#include <errno.h>
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

esp_err_t esim_world_create(esim_device *dev)
{
    dev->time_limit_us = UINT64_MAX;
    esim_sensors_init(&dev->sensors);
    esp_err_t err = esim_gpio_create(&dev->gpio);
    if (err == ESP_OK)
        err = esim_stimulus_create(&dev->stimulus);
    return err;
}

void esim_world_destroy(esim_device *dev)
{
    esim_gpio_destroy(dev->gpio);
    esim_stimulus_destroy(dev->stimulus);
}

static void reset_wake_config(esim_wake_config *w)
{
    *w = (esim_wake_config){.ext0_pin = -1};
}

void esim_world_boot(esim_device *dev, esim_reset_reason reason)
{
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

/* ---- the clocks ---- */

static void set_world_time(esim_device *dev, uint64_t world_us)
{
    uint64_t step = world_us - dev->world_time_us;
    dev->world_time_us = world_us;
    dev->boot_time_us += step;
    dev->rtc_time_us += step;
    esim_gpio_set_time_ns(dev->gpio, world_us * 1000u);
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
    while ((e = esim_stimulus_take_due(dev->stimulus, target)) != NULL) {
        if (e->at_us > dev->world_time_us)
            set_world_time(dev, e->at_us);
        esim_device_apply_stimulus(dev, e);
    }
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
esim_sensors *esim_device_sensors(esim_device *dev) { return &dev->sensors; }
esim_stimulus *esim_device_stimulus(esim_device *dev) { return dev->stimulus; }
