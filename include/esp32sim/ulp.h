/* esp32sim — the ESP32's ULP-FSM co-processor (reference/ulp-isa.md,
 * docs/ulp.md): the instruction set, the 8 MHz cycle timing, the wakeup
 * timer, and ESP-IDF's ulp_load_binary / ulp_set_wakeup_period / ulp_run.
 *
 * The emulator works on the board's RTC slow memory (shared with the main
 * CPU at 0x50000000) and reads the board's sensors (TSENS, ADC) and RTC
 * GPIOs; it keeps its own clock in picoseconds of world time and runs
 * only when asked to catch up (esim_ulp_run_until). */
#ifndef ESP32SIM_ULP_H
#define ESP32SIM_ULP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/gpio.h"
#include "esp32sim/sensors.h"

#define ESIM_ULP_RESERVE_MEM 2040u      /* CONFIG_ULP_COPROC_RESERVE_MEM in MicroPython */
#define ESIM_ULP_CLOCK_HZ 8000000u      /* RTC_FAST_CLK: 125 ns per cycle */

typedef enum {
    ESIM_ULP_CYCLES_A,   /* ESP-IDF's per-instruction table (ALU = 6) */
    ESIM_ULP_CYCLES_B,   /* the "2-cycle fetch after ALU" rule (ALU = 4) */
} esim_ulp_cycle_model;

typedef struct esim_ulp esim_ulp;

/* What the ULP reaches besides RTC slow memory (pointers stay owned by
 * the caller; gpio and sensors may be NULL: reads give 0). */
typedef struct {
    uint8_t *rtc_slow_mem;      /* 8 KiB, the board's RTC slow memory */
    esim_sensors *sensors;
    esim_gpio *gpio;
} esim_ulp_bus;

esp_err_t esim_ulp_create(const esim_ulp_bus *bus, esim_ulp **out);
void esim_ulp_destroy(esim_ulp *ulp);

/* Power-on state: timer off, registers and flags cleared, periods back to
 * their reset value; RTC slow memory is the caller's. */
void esim_ulp_power_on(esim_ulp *ulp, uint64_t now_ps);

void esim_ulp_set_cycle_model(esim_ulp *ulp, esim_ulp_cycle_model model);

/* ESP-IDF's calls (reference §6, §7), with its error codes. */
esp_err_t esim_ulp_load_binary(esim_ulp *ulp, uint32_t load_addr_words, const uint8_t *program, size_t size_words);
esp_err_t esim_ulp_set_wakeup_period(esim_ulp *ulp, uint32_t index, uint32_t period_us);
/* ulp_run: from now_ps the timer runs the program at entry_words. */
void esim_ulp_run(esim_ulp *ulp, uint32_t entry_words, uint64_t now_ps);
/* ulp_timer_stop. */
void esim_ulp_timer_stop(esim_ulp *ulp);

/* Catch the ULP up to until_ps: every program run whose start falls before
 * it executes (a run that started keeps going to its HALT, as the
 * hardware does). Returns the time of the first WAKE executed at or after
 * the call's start whose wake signal the RTC would accept (RDY_FOR_WAKEUP
 * set), or UINT64_MAX. With stop_at_wake, it returns right after that
 * WAKE's run instead of going on to until_ps. */
uint64_t esim_ulp_run_until(esim_ulp *ulp, uint64_t until_ps, bool stop_at_wake);

/* The state as the CLI and tests see it. */
typedef struct {
    uint16_t regs[4];
    uint8_t stage_cnt;
    bool zero, overflow;
    bool timer_enabled;
    uint32_t pc;                  /* words */
    uint32_t period_sel;
    uint64_t runs;                /* program runs started */
    uint64_t wake_count;          /* WAKE instructions executed */
    uint64_t instructions;        /* executed, all runs */
    uint64_t last_run_cycles;
} esim_ulp_state;
void esim_ulp_get_state(const esim_ulp *ulp, esim_ulp_state *out);

#endif
