/* esp32sim — facts about the ESP32's pins (ESP32-D0WD, no PSRAM): which
 * GPIOs exist, which are input only, which are RTC GPIOs, touch pads and
 * ADC channels. Pure tables, no state (reference/rmt-sleep.md §2,
 * reference/micropython-esp32.md §1.1). */
#ifndef ESP32SIM_PINS_H
#define ESP32SIM_PINS_H

#include <stdbool.h>

#define ESIM_GPIO_COUNT 40       /* GPIO numbers 0..39 (not all exist) */
#define ESIM_TOUCH_PAD_COUNT 10  /* T0..T9 */

/* 0..23, 25..27, 32..39 (MicroPython's pin table; no 24, 28..31). */
bool esim_pin_exists(int gpio);
/* 34..39: no output driver, no pulls. */
bool esim_pin_input_only(int gpio);
/* The RTC GPIO number of an RTC-capable pin (ext0/ext1 wake, hold in deep
 * sleep), or -1: 36=0, 37=1, 38=2, 39=3, 34=4, 35=5, 25=6, 26=7, 33=8,
 * 32=9, 4=10, 0=11, 2=12, 15=13, 13=14, 12=15, 14=16, 27=17. */
int esim_pin_rtc_gpio(int gpio);
/* Touch pad of a GPIO (T0=4, T1=0, T2=2, T3=15, T4=13, T5=12, T6=14,
 * T7=27, T8=33, T9=32) or -1; and the GPIO of pad 0..9 (-1 for others). */
int esim_pin_touch_pad(int gpio);
int esim_touch_pad_gpio(int pad);
/* ADC unit (1 or 2) and channel of a GPIO, or 0 when it has none.
 * ADC1: 36=0, 37=1, 38=2, 39=3, 32=4, 33=5, 34=6, 35=7.
 * ADC2: 4=0, 0=1, 2=2, 15=3, 13=4, 12=5, 14=6, 27=7, 25=8, 26=9. */
int esim_pin_adc_unit(int gpio, int *channel);

#endif
