/* esp32sim — the ESP32's pin facts (pins.h). */
#include "esp32sim/pins.h"

#include <stddef.h>

static bool in_range(int gpio)
{
    return gpio >= 0 && gpio < ESIM_GPIO_COUNT;
}

bool esim_pin_exists(int gpio)
{
    return in_range(gpio) && gpio != 24 && (gpio < 28 || gpio > 31);
}

bool esim_pin_input_only(int gpio)
{
    return gpio >= 34 && gpio <= 39;
}

/* RTC GPIO number by GPIO, -1 where the pad is digital only. */
static const signed char rtc_gpio_of[ESIM_GPIO_COUNT] = {
    11, -1, 12, -1, 10, -1, -1, -1, -1, -1,    /* 0..9 */
    -1, -1, 15, 14, 16, 13, -1, -1, -1, -1,    /* 10..19 */
    -1, -1, -1, -1, -1, 6, 7, 17, -1, -1,      /* 20..29 */
    -1, -1, 9, 8, 4, 5, 0, 1, 2, 3,            /* 30..39 */
};

int esim_pin_rtc_gpio(int gpio)
{
    return in_range(gpio) ? rtc_gpio_of[gpio] : -1;
}

static const signed char touch_pad_gpio[ESIM_TOUCH_PAD_COUNT] = {4, 0, 2, 15, 13, 12, 14, 27, 33, 32};

int esim_touch_pad_gpio(int pad)
{
    return pad >= 0 && pad < ESIM_TOUCH_PAD_COUNT ? touch_pad_gpio[pad] : -1;
}

int esim_pin_touch_pad(int gpio)
{
    for (int pad = 0; pad < ESIM_TOUCH_PAD_COUNT; pad++)
        if (touch_pad_gpio[pad] == gpio)
            return pad;
    return -1;
}

static const signed char adc1_gpio[] = {36, 37, 38, 39, 32, 33, 34, 35};
static const signed char adc2_gpio[] = {4, 0, 2, 15, 13, 12, 14, 27, 25, 26};

static int channel_in(const signed char *table, size_t n, int gpio)
{
    for (size_t i = 0; i < n; i++)
        if (table[i] == gpio)
            return (int)i;
    return -1;
}

int esim_pin_adc_unit(int gpio, int *channel)
{
    int ch = channel_in(adc1_gpio, sizeof adc1_gpio, gpio);
    int unit = 1;
    if (ch < 0) {
        ch = channel_in(adc2_gpio, sizeof adc2_gpio, gpio);
        unit = 2;
    }
    if (ch < 0)
        return 0;
    if (channel != NULL)
        *channel = ch;
    return unit;
}
