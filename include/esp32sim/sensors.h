/* esp32sim — the analog side of the simulated ESP32: the die temperature
 * sensor (esp32.raw_temperature, the ULP's TSENS), the ten touch pads and
 * the voltages on the ADC pins. Values are set by stimuli or the control
 * API; readings follow the models of docs/sensors.md. */
#ifndef ESP32SIM_SENSORS_H
#define ESP32SIM_SENSORS_H

#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/pins.h"

/* A die running at room temperature: about 130 raw. */
#define ESIM_DEFAULT_DIE_C 54.5
/* A pad nobody touches reads above a thousand; a finger brings it to tens. */
#define ESIM_TOUCH_UNTOUCHED 1200u
#define ESIM_TOUCH_RELEASED (-1)   /* set_touch: back to the untouched reading */

typedef struct {
    double die_c;
    int32_t touch_value[ESIM_TOUCH_PAD_COUNT];      /* ESIM_TOUCH_RELEASED or 0..65535 */
    uint16_t touch_threshold[ESIM_TOUCH_PAD_COUNT]; /* 0: not configured */
    double adc_mv[ESIM_GPIO_COUNT];                  /* input voltage, 0..3300 */
} esim_sensors;

/* The state of a board at power-on (nothing touched, no thresholds,
 * ADC pins at 0 V, die at ESIM_DEFAULT_DIE_C). */
void esim_sensors_init(esim_sensors *s);
/* A reset clears the touch thresholds (the firmware configures them). */
void esim_sensors_reset(esim_sensors *s);

/* TSENS_OUT: round(°F) of the die, as MicroPython's quickref reads it
 * (°C = (raw - 32) / 1.8), clamped to the 8-bit field. */
uint8_t esim_sensors_raw_temperature(const esim_sensors *s);

/* touch_pad_read of pad 0..9. */
uint16_t esim_sensors_touch_read(const esim_sensors *s, int pad);
/* Pads whose reading is below their configured threshold (bit n = pad n):
 * the ESP32's touch wake-up condition. */
uint32_t esim_sensors_touched_pads(const esim_sensors *s);

/* The voltage a reading of all ones stands for at attenuation 0..3, in mV
 * (1000, 1340, 2000, 3600); out-of-range attenuations give 11 dB's. */
double esim_sensors_adc_full_scale_mv(int atten);

/* The ADC reading of `mv` at a 12-bit width and attenuation `atten`
 * (0: 0 dB ... 3: 11 dB), over the ideal range of that attenuation. */
uint32_t esim_sensors_adc_raw(const esim_sensors *s, int gpio, int atten, int bits);

#endif
