/* esp32sim — the ESP32's RMT peripheral, transmit side, as the legacy
 * ESP-IDF driver (driver/rmt.h) programs it for MicroPython <= v1.26
 * (reference/rmt-sleep.md §1, docs/rmt.md).
 *
 * Eight channels share 512 32-bit items of RAM, 64 per channel block; a
 * channel may own several consecutive blocks. An item holds two
 * (duration, level) halves; a zero duration ends the transmission. A
 * channel's output is routed to its GPIO through the matrix; while it
 * transmits, the pin follows the items on the virtual clock, one tick
 * being clock_div / 80 MHz, with the carrier (counted in 80 MHz source
 * cycles) gated onto the chosen level, and the idle level in between.
 *
 * Nothing happens by itself: the device calls esim_rmt_run_until as its
 * clock advances, and every level change lands in the GPIO record at its
 * exact time (picoseconds). */
#ifndef ESP32SIM_RMT_H
#define ESP32SIM_RMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/gpio.h"

#define ESIM_RMT_CHANNELS 8
#define ESIM_RMT_BLOCK_ITEMS 64
#define ESIM_RMT_SOURCE_HZ 80000000u   /* APB clock */
#define ESIM_RMT_DURATION_MAX 32767u   /* 15 bits; MicroPython's RMT.PULSE_MAX */

/* One item as the hardware stores it: bits 0-14 duration0, bit 15 level0,
 * bits 16-30 duration1, bit 31 level1. */
static inline uint32_t esim_rmt_item(uint32_t duration0, int level0, uint32_t duration1, int level1)
{
    return (duration0 & 0x7FFFu) | (uint32_t)(level0 != 0) << 15 | (duration1 & 0x7FFFu) << 16 |
           (uint32_t)(level1 != 0) << 31;
}

typedef struct {
    int gpio;                 /* output pin (not 34..39) */
    uint8_t clock_div;        /* 1..255: one tick = clock_div source cycles */
    uint8_t mem_blocks;       /* 1..8-channel consecutive 64-item blocks */
    bool idle_output;         /* idle_out_en: drive idle_level between transmissions */
    bool idle_level;
    bool carrier;             /* carrier_en */
    uint16_t carrier_high;    /* source-clock cycles the carrier is high */
    uint16_t carrier_low;     /* and low (both >= 1 when the carrier is on) */
    bool carrier_level;       /* the data level the carrier is gated onto */
} esim_rmt_config;

typedef struct esim_rmt esim_rmt;

esp_err_t esim_rmt_create(esim_rmt **out);
void esim_rmt_destroy(esim_rmt *rmt);

/* rmt_config + rmt_driver_install. ESP_ERR_INVALID_ARG: channel not
 * 0..7, clock_div 0, mem_blocks 0 or reaching past channel 7, a carrier
 * with a zero count, a pin that cannot output; ESP_ERR_INVALID_STATE: the
 * channel is installed already, or one of its blocks belongs to another
 * installed channel. The pin is routed to the channel and shows the idle
 * level (when idle output is on). */
esp_err_t esim_rmt_install(esim_rmt *rmt, esim_gpio *gpio, int channel, const esim_rmt_config *cfg);
/* rmt_driver_uninstall: the transmission stops where it is; the pin goes
 * back to its GPIO registers. ESP_ERR_INVALID_STATE when not installed. */
esp_err_t esim_rmt_uninstall(esim_rmt *rmt, esim_gpio *gpio, int channel);
bool esim_rmt_installed(const esim_rmt *rmt, int channel);
esp_err_t esim_rmt_get_config(const esim_rmt *rmt, int channel, esim_rmt_config *out);

/* The legacy driver's carrier counts for freq_hz and duty (0..100 %):
 * period = 80 MHz / freq_hz cycles, high = period * duty / 100, low the
 * rest. ESP_ERR_INVALID_ARG when freq_hz is 0, duty > 100, or a count
 * does not fit 16 bits or comes out 0. */
esp_err_t esim_rmt_carrier_counts(uint32_t freq_hz, uint32_t duty_percent, uint16_t *high, uint16_t *low);

/* Start transmitting `n` items at `now_ps` (rmt_write_items without
 * waiting). The sequence ends at the first zero duration or after the
 * last item; sequences longer than the channel's memory play whole (the
 * driver refills the memory as it empties). With `loop` the sequence must
 * fit in the channel's memory with its end marker, else
 * ESP_ERR_INVALID_ARG, and repeats until esim_rmt_stop_loop.
 * ESP_ERR_INVALID_STATE when not installed or still transmitting at
 * now_ps (callers wait for esim_rmt_tx_end_ps first). */
esp_err_t esim_rmt_write(esim_rmt *rmt, int channel, const uint32_t *items, size_t n, bool loop, uint64_t now_ps);

/* When the transmission in progress ends: for a loop being stopped, the
 * end of the iteration in progress; UINT64_MAX for a loop that goes on;
 * `now_ps` or earlier when the channel is idle. */
uint64_t esim_rmt_tx_end_ps(const esim_rmt *rmt, int channel, uint64_t now_ps);
bool esim_rmt_busy(const esim_rmt *rmt, int channel, uint64_t now_ps);

/* loop(False) during a looping transmission: the iteration in progress at
 * now_ps finishes, then the channel goes idle. */
void esim_rmt_stop_loop(esim_rmt *rmt, int channel, uint64_t now_ps);

/* Driving the world: the time of the next level change any channel will
 * make (UINT64_MAX when none), and making every change due at or before
 * t_ps on the pins, in time order across channels (esim_gpio_set_time_ps
 * before each). */
uint64_t esim_rmt_next_change_ps(const esim_rmt *rmt);
void esim_rmt_run_until(esim_rmt *rmt, esim_gpio *gpio, uint64_t t_ps);

/* A system reset: every channel stops and is uninstalled. */
void esim_rmt_reset(esim_rmt *rmt, esim_gpio *gpio);

#endif
