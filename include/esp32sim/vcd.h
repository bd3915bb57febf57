/* esp32sim — the GPIO level record as a Value Change Dump (IEEE 1364 VCD),
 * and VCD text read back as waveforms for plotting (docs/vcd.md).
 *
 * Writing: one flat `$scope module board`, one 1-bit `$var wire` per pin
 * whose wire level changed during the record (named gpioN, single-character
 * ids from '!' in pin order), the levels at #0 in `$dumpvars` (0, 1, or z
 * for a floating wire), then `#t` lines with the changes and a final `#end`.
 * The timescale is the coarsest of 1/10/100 s, ms, us, ns, ps that divides
 * every change time and the end time exactly. Per pin, only the last level
 * at one instant is written (a zero-length pulse has no duration), and only
 * when it differs from the level the file already shows.
 *
 * Reading: 1-bit variables of the net and register types, scopes flattened
 * (names below the outermost scope joined with '.'), vectors, reals and
 * other types skipped, any legal timescale. Bounded: at most
 * ESIM_VCD_MAX_SIGNALS signals and ESIM_VCD_MAX_CHANGES value changes;
 * every error names the line. */
#ifndef ESP32SIM_VCD_H
#define ESP32SIM_VCD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "esp32sim/err.h"
#include "esp32sim/gpio.h"

/* ---- writing ---- */

typedef struct {
    const char *date;      /* the $date text, or NULL to leave the block out */
    const char *version;   /* the $version text, or NULL for "esp32sim" */
} esim_vcd_header;

/* A record held in one array (the same shape as the GPIO record). */
typedef struct {
    int8_t start[ESIM_GPIO_COUNT];   /* each pin's level when the record starts */
    const esim_pin_change *changes;  /* oldest first */
    size_t count;
    uint64_t dropped;                /* older changes no longer held */
} esim_vcd_record;

/* Write the record as VCD to `out`, ending at `end_ps` (raised to the
 * last change's time when earlier). Changes stamped earlier than the one
 * before them are written at that one's time (VCD time never goes back).
 * ESP_FAIL when writing to `out` failed. */
esp_err_t esim_vcd_write_record(FILE *out, const esim_vcd_record *rec, uint64_t end_ps,
                                const esim_vcd_header *header);
/* The same for a GPIO block's record (esim_gpio_trace_*). */
esp_err_t esim_vcd_write_gpio(FILE *out, const esim_gpio *gpio, uint64_t end_ps,
                              const esim_vcd_header *header);

/* The unit the writer picks for these times, in ps: 1, 10, 100, 1000 ...
 * up to 100 s (1e14 ps) when every time is 0. */
uint64_t esim_vcd_unit_ps(const uint64_t *times_ps, size_t n);

/* ---- reading ---- */

#define ESIM_VCD_LEVEL_X (-2)          /* unknown ('x'); floating ('z') is ESIM_LEVEL_FLOATING */
#define ESIM_VCD_MAX_SIGNALS 1024u
#define ESIM_VCD_MAX_CHANGES (1u << 24)
#define ESIM_VCD_MAX_NAME 255u         /* a flattened name, in bytes */

typedef struct {
    uint64_t t;        /* in the file's time units */
    int8_t level;      /* 0, 1, ESIM_LEVEL_FLOATING or ESIM_VCD_LEVEL_X */
} esim_vcd_change;

/* One 1-bit signal. Before its first change its level is unknown. Changes
 * are sorted by time, at most one per instant (the last value given at
 * that time), each with a level different from the one before it. */
typedef struct {
    char *name;        /* "gpio18", or "uart.tx" for a var in a nested scope */
    size_t count;
    esim_vcd_change *changes;
} esim_vcd_signal;

typedef struct {
    uint64_t unit_fs;      /* one time unit in femtoseconds (1 .. 1e17) */
    uint64_t end;          /* the last #time in the file (0 when none) */
    size_t signal_count;   /* in the order of their $var lines */
    esim_vcd_signal *signals;
} esim_vcd_wave;

/* Parse VCD text (`len` bytes, NUL bytes are an error). ESP_ERR_INVALID_ARG
 * with `why` saying what is wrong and on which line ("line 12: value
 * change for unknown id 'q'"), ESP_ERR_INVALID_SIZE when a limit above is
 * passed, ESP_ERR_NO_MEM. `why` may be NULL. On error *out is NULL. */
esp_err_t esim_vcd_parse(const char *text, size_t len, esim_vcd_wave **out, char *why, size_t why_len);
void esim_vcd_wave_free(esim_vcd_wave *wave);

/* The signal's level at time t (file units): that of its last change at
 * or before t, ESIM_VCD_LEVEL_X before the first; and the index of the
 * first change after t (count when none). */
int esim_vcd_level_at(const esim_vcd_signal *sig, uint64_t t);
size_t esim_vcd_first_after(const esim_vcd_signal *sig, uint64_t t);

#endif
