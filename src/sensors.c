/* esp32sim — temperature, touch and ADC models (sensors.h, docs/sensors.md). */
#include "esp32sim/sensors.h"

#include <math.h>
#include <stddef.h>

void esim_sensors_init(esim_sensors *s)
{
    s->die_c = ESIM_DEFAULT_DIE_C;
    for (int pad = 0; pad < ESIM_TOUCH_PAD_COUNT; pad++)
        s->touch_value[pad] = ESIM_TOUCH_RELEASED;
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        s->adc_mv[pin] = 0.0;
    esim_sensors_reset(s);
}

void esim_sensors_reset(esim_sensors *s)
{
    for (int pad = 0; pad < ESIM_TOUCH_PAD_COUNT; pad++)
        s->touch_threshold[pad] = 0;
}

uint8_t esim_sensors_raw_temperature(const esim_sensors *s)
{
    double raw = floor(s->die_c * 1.8 + 32.0 + 0.5);
    if (!(raw > 0.0))   /* also NaN */
        return 0;
    return raw >= 255.0 ? 255 : (uint8_t)raw;
}

uint16_t esim_sensors_touch_read(const esim_sensors *s, int pad)
{
    if (pad < 0 || pad >= ESIM_TOUCH_PAD_COUNT)
        return 0;
    int32_t v = s->touch_value[pad];
    return v == ESIM_TOUCH_RELEASED ? (uint16_t)ESIM_TOUCH_UNTOUCHED : (uint16_t)v;
}

uint32_t esim_sensors_touched_pads(const esim_sensors *s)
{
    uint32_t pads = 0;
    for (int pad = 0; pad < ESIM_TOUCH_PAD_COUNT; pad++)
        if (s->touch_threshold[pad] != 0 && esim_sensors_touch_read(s, pad) < s->touch_threshold[pad])
            pads |= 1u << pad;
    return pads;
}

/* The voltage a 12-bit reading's full scale stands for, per attenuation
 * (MicroPython's ESP32 ADC documentation: 1.00 V, 1.34 V, 2.00 V, 3.6 V). */
double esim_sensors_adc_full_scale_mv(int atten)
{
    static const double mv[4] = {1000.0, 1340.0, 2000.0, 3600.0};
    return atten >= 0 && atten < 4 ? mv[atten] : mv[3];
}

uint32_t esim_sensors_adc_raw(const esim_sensors *s, int gpio, int atten, int bits)
{
    if (gpio < 0 || gpio >= ESIM_GPIO_COUNT || bits < 9 || bits > 12)
        return 0;
    uint32_t max = (1u << bits) - 1u;
    double raw = floor(s->adc_mv[gpio] / esim_sensors_adc_full_scale_mv(atten) * (double)max + 0.5);
    if (!(raw > 0.0))
        return 0;
    return raw >= (double)max ? max : (uint32_t)raw;
}
