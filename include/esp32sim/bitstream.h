/* esp32sim — machine.bitstream's high/low encoding on the ESP32, as
 * MicroPython's ESP32 port up to v1.26 sends it (docs/python-machine.md).
 *
 * Each bit is a high pulse followed by a low one, most significant bit of
 * each byte first. `timing_ns` holds (high0, low0, high1, low1): the two
 * pulses of a 0 bit, then of a 1 bit, in nanoseconds, taken as 32-bit
 * unsigned numbers as the firmware takes them.
 *
 * Two ways to send it:
 * - RMT (the default, on the bitstream channel 7): the channel runs at
 *   80 MHz / 2 = 40 MHz, each pulse lasting ns * 40 000 / 1 000 000 ticks
 *   (truncated; the product wraps at 32 bits as the firmware's does), one
 *   item per bit. A pulse that comes out 0 ticks is an end marker: the
 *   hardware stops there.
 * - CPU bit-banging (when the bitstream channel is None): a cycle-counting
 *   loop with interrupts off. The pulses become CPU cycles
 *   (MHz * ns / 1000, wrapping at 32 bits), minus a fixed 6 cycles of loop
 *   overhead when longer than that; the loop raises the pin, waits until
 *   `high` cycles have passed since the rise, lowers it, and waits until
 *   `high + low` cycles have passed, then starts the next bit. The edges
 *   land exactly on those cycle counts. */
#ifndef ESP32SIM_BITSTREAM_H
#define ESP32SIM_BITSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "esp32sim/device.h"
#include "esp32sim/err.h"

#define ESIM_BITSTREAM_RMT_CHANNEL 7        /* MicroPython's default bitstream channel */
#define ESIM_BITSTREAM_RMT_CLOCK_DIV 2      /* 40 MHz: 25 ns ticks */
#define ESIM_BITSTREAM_RMT_TICK_KHZ 40000u
#define ESIM_BITSTREAM_BITBANG_OVERHEAD 6u  /* cycles taken off each pulse */
#define ESIM_BITSTREAM_NO_RMT (-1)          /* channel argument: bit-bang */

/* The RMT items of a 0 bit (items[0]) and of a 1 bit (items[1]):
 * (high ticks, level 1, low ticks, level 0). */
void esim_bitstream_bit_items(const uint32_t timing_ns[4], uint32_t items[2]);

/* One item per bit of data[0..len), most significant bit first: len * 8
 * items written to `items`. */
void esim_bitstream_items(const uint32_t timing_ns[4], const uint8_t *data, size_t len, uint32_t *items);

/* The bit-bang loop's thresholds in CPU cycles at cpu_mhz:
 * cycles = {high0, high0 + low0, high1, high1 + low1} after the overhead
 * adjustment (32-bit arithmetic, as on the chip). */
void esim_bitstream_bitbang_cycles(uint32_t cpu_mhz, const uint32_t timing_ns[4], uint32_t cycles[4]);

/* machine.bitstream(pin, 0, timing, data), blocking as on the board: from
 * the world's time now, the bits go out on `pin` through RMT channel
 * `rmt_channel` (0..7), or by bit-banging when it is ESIM_BITSTREAM_NO_RMT,
 * and the clock advances to the end of the last bit (rounded up to the
 * next microsecond). The RMT channel is installed for the call (40 MHz, no
 * carrier, idle output low) and uninstalled after, giving the pin back to
 * its GPIO registers. Bit-banging writes the pin's output register, so it
 * shows on the pad only when the pin is an output.
 * Errors: those of esim_rmt_install / esim_rmt_write (a pin that cannot
 * output, a channel in use), ESP_ERR_INVALID_SIZE when the bits would run
 * past the end of the world's clock, ESP_ERR_NO_MEM, and ESP_ERR_TIMEOUT
 * when the time limit stopped the clock first. */
esp_err_t esim_device_bitstream(esim_device *dev, int pin, int rmt_channel, const uint32_t timing_ns[4],
                                const uint8_t *data, size_t len);

#endif
