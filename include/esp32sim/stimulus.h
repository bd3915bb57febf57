/* esp32sim — stimuli: the world outside the board on the virtual clock.
 *
 * A stimulus is a timeline of events: a GPIO driven high or low from
 * outside (or released), a touch pad's reading, the die temperature, the
 * voltage on an ADC pin. The device applies each event when its virtual
 * clock reaches the event's time (time since the board was opened, across
 * resets and sleeps). Timelines come from JSON (`esp32sim run --stimulus
 * FILE.json`, docs/stimulus.md) or are built event by event (the esp32sim
 * control module). */
#ifndef ESP32SIM_STIMULUS_H
#define ESP32SIM_STIMULUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/pins.h"

typedef enum {
    ESIM_STIM_PIN,          /* index = GPIO, level = 0, 1, or ESIM_STIM_RELEASE */
    ESIM_STIM_TOUCH,        /* index = touch pad 0..9, value = reading 0..65535 */
    ESIM_STIM_TEMPERATURE,  /* value = die temperature in °C, -40..125 */
    ESIM_STIM_ADC,          /* index = ADC-capable GPIO, value = input in mV, 0..3300 */
} esim_stim_kind;

#define ESIM_STIM_RELEASE (-1)   /* pin no longer driven from outside */

typedef struct {
    uint64_t at_us;      /* virtual time since the board was opened */
    esim_stim_kind kind;
    int index;
    int level;
    double value;
} esim_stim_event;

typedef struct esim_stimulus esim_stimulus;

esp_err_t esim_stimulus_create(esim_stimulus **out);
void esim_stimulus_destroy(esim_stimulus *stim);

/* Add one event, checked as a file's would be. Events are kept sorted by
 * time; events at the same time keep the order they were added in.
 * ESP_ERR_INVALID_ARG with `why` saying what is wrong (why may be NULL). */
esp_err_t esim_stimulus_add(esim_stimulus *stim, const esim_stim_event *event, char *why, size_t why_len);

/* Parse a JSON document {"events": [...]} (docs/stimulus.md) and add its
 * events. On any error nothing is added: ESP_ERR_INVALID_ARG with `why`
 * naming the bad event (e.g. `events[2]: "pin" 24 is not a GPIO of the
 * ESP32`) or the JSON syntax error. ESP_ERR_NO_MEM when out of memory. */
esp_err_t esim_stimulus_parse_json(esim_stimulus *stim, const char *text, size_t len, char *why, size_t why_len);

/* Read and parse a file (its name is put in front of `why`). Errors as
 * above, plus ESP_ERR_NOT_FOUND when it cannot be read. */
esp_err_t esim_stimulus_load_file(esim_stimulus *stim, const char *path, char *why, size_t why_len);

size_t esim_stimulus_count(const esim_stimulus *stim);
const esim_stim_event *esim_stimulus_event(const esim_stimulus *stim, size_t index);

/* Consuming the timeline in order: the next event not yet taken whose time
 * is <= now_us, or NULL; and the time of the next event not yet taken
 * (UINT64_MAX when none). Adding an event earlier than ones already taken
 * is allowed; it is taken next. */
const esim_stim_event *esim_stimulus_take_due(esim_stimulus *stim, uint64_t now_us);
uint64_t esim_stimulus_next_time(const esim_stimulus *stim);

/* Forget every event (taken or not). */
void esim_stimulus_clear(esim_stimulus *stim);

#endif
