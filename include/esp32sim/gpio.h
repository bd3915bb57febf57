/* esp32sim — the ESP32's GPIO pads: configuration, levels, holds, what the
 * outside world drives, edges for pin interrupts and a record of every
 * level change on the virtual clock (docs/gpio.md).
 *
 * The level on a pad's wire is, in order: the chip's output driver when it
 * is enabled (an open-drain output drives only 0), else what the outside
 * drives (a stimulus), else the pull-up / pull-down, else nothing
 * (floating; it reads as 0). A held pad keeps the configuration and level
 * it had when the hold was set: later writes change the registers but not
 * the pad, until the hold is released. */
#ifndef ESP32SIM_GPIO_H
#define ESP32SIM_GPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/pins.h"

typedef struct esim_gpio esim_gpio;

#define ESIM_LEVEL_FLOATING (-1)   /* nothing drives the wire */

typedef struct {
    bool input;        /* input buffer enabled (the level can be read) */
    bool output;       /* output driver enabled */
    bool open_drain;
    bool pull_up;
    bool pull_down;
    uint8_t drive;     /* drive strength 0..3 (default 2) */
    uint8_t out_level; /* the output register, 0 or 1 */
} esim_pad_config;

/* One change of a pad's wire level. */
typedef struct {
    uint64_t t_ps;     /* virtual time since the board was opened, in
                          picoseconds (RMT ticks are 12.5 ns at clock_div 1) */
    uint8_t pin;
    int8_t level;      /* 0, 1 or ESIM_LEVEL_FLOATING */
} esim_pin_change;

#define ESIM_EDGE_RISING 1u
#define ESIM_EDGE_FALLING 2u

esp_err_t esim_gpio_create(esim_gpio **out);
void esim_gpio_destroy(esim_gpio *gpio);

/* The time stamped on changes from now on, in ps (the device keeps it
 * current). */
void esim_gpio_set_time_ps(esim_gpio *gpio, uint64_t now_ps);

/* A peripheral's output routed to the pad through the GPIO matrix (RMT,
 * bitstream): while routed, an enabled output driver shows the
 * peripheral's level instead of the output register. Routing enables the
 * output driver (as gpio_set_direction does when a driver installs);
 * unrouting gives the pad back to the registers. ESP_ERR_INVALID_ARG for a
 * pin that does not exist or is input only. */
esp_err_t esim_gpio_route_peripheral(esim_gpio *gpio, int pin, bool routed);
bool esim_gpio_routed(const esim_gpio *gpio, int pin);
/* The routed peripheral's output level now (0 or 1). */
void esim_gpio_peripheral_level(esim_gpio *gpio, int pin, int level);

/* gpio_config: ESP_ERR_INVALID_ARG for a pin that does not exist or an
 * output / pull on an input-only pin (34..39). */
esp_err_t esim_gpio_configure(esim_gpio *gpio, int pin, const esim_pad_config *cfg);
/* The registers (what was configured last, held or not). */
esp_err_t esim_gpio_get_config(const esim_gpio *gpio, int pin, esim_pad_config *out);
/* gpio_set_level: the output register. */
esp_err_t esim_gpio_set_output(esim_gpio *gpio, int pin, int level);

/* gpio_get_level: the wire level as the input buffer sees it (0 when the
 * input is disabled or the wire floats). 0 for pins that do not exist. */
int esim_gpio_get_level(const esim_gpio *gpio, int pin);
/* The wire level: 0, 1 or ESIM_LEVEL_FLOATING. */
int esim_gpio_wire_level(const esim_gpio *gpio, int pin);

/* The outside world drives the pin to 0 or 1, or lets go
 * (ESIM_LEVEL_FLOATING). Pins that do not exist are ignored. */
void esim_gpio_drive_from_outside(esim_gpio *gpio, int pin, int level);
int esim_gpio_outside_level(const esim_gpio *gpio, int pin);

/* gpio_hold_en / gpio_hold_dis. Releasing a hold applies the registers. */
esp_err_t esim_gpio_set_hold(esim_gpio *gpio, int pin, bool hold);
bool esim_gpio_held(const esim_gpio *gpio, int pin);
/* gpio_deep_sleep_hold_en / _dis: held digital (non-RTC) pads keep their
 * state through deep sleep only while this is on. */
void esim_gpio_set_deep_sleep_hold(esim_gpio *gpio, bool enable);
bool esim_gpio_deep_sleep_hold(const esim_gpio *gpio);

/* The chip's life. A system reset (software, panic, watchdog, deep-sleep
 * wake) returns every pad that is not held to its default (input only, no
 * pull); held pads and the deep-sleep-hold setting stay. Entering deep
 * sleep powers down every pad except held RTC pads, held digital pads
 * while deep-sleep hold is on, and the pins in `wake_pins` (ext0/ext1
 * inputs, which the RTC keeps with their pulls). Power-off clears
 * everything, holds included; what the outside drives stays. */
void esim_gpio_system_reset(esim_gpio *gpio);
void esim_gpio_enter_deep_sleep(esim_gpio *gpio, uint64_t wake_pins);
void esim_gpio_power_off(esim_gpio *gpio);

/* Edges seen on a pin's input since they were last taken
 * (ESIM_EDGE_RISING | ESIM_EDGE_FALLING), cleared by taking them; and a
 * mask of the pins with edges waiting (bit n = GPIO n). */
unsigned esim_gpio_take_edges(esim_gpio *gpio, int pin);
uint64_t esim_gpio_pins_with_edges(const esim_gpio *gpio);

/* The record of level changes, oldest first. It keeps the latest
 * ESIM_GPIO_TRACE_MAX changes; esim_gpio_trace_dropped says how many older
 * ones were dropped. esim_gpio_trace_start_level gives each pin's level
 * when the record started (every pad floats at power-on);
 * esim_gpio_trace_clear restarts the record from the levels of now. */
#define ESIM_GPIO_TRACE_MAX (1u << 22)
size_t esim_gpio_trace_count(const esim_gpio *gpio);
const esim_pin_change *esim_gpio_trace_at(const esim_gpio *gpio, size_t index);
uint64_t esim_gpio_trace_dropped(const esim_gpio *gpio);
int esim_gpio_trace_start_level(const esim_gpio *gpio, int pin);
void esim_gpio_trace_clear(esim_gpio *gpio);

#endif
