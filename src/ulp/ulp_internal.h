/* esp32sim — the ULP-FSM emulator's state, shared by the machine (ulp.c)
 * and the peripherals it reaches (ulp_periph.c). */
#ifndef ESP32SIM_ULP_INTERNAL_H
#define ESP32SIM_ULP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "esp32sim/ulp.h"
#include "esp32sim/ulp_host.h"
#include "ulp_isa.h"

#define ULP_PERIPH_REGS 1024u       /* REG_RD/REG_WR index space */
#define ULP_RTC_GPIOS 18
#define ULP_CYCLE_PS 125000u        /* one 8 MHz cycle */

typedef struct {
    uint8_t reg, value;
} ulp_i2c_queued;

typedef struct {
    bool present;
    uint8_t addr;
    uint8_t regs[256];
    ulp_i2c_queued queue[ESIM_ULP_I2C_QUEUE];
    uint32_t queued;
    uint64_t reads, writes;
} ulp_i2c_dev;

struct esim_ulp {
    esim_ulp_bus bus;
    esim_ulp_cycle_model model;
    esim_ulp_options opt;
    ulp_insn code[ULP_WORDS];       /* code[pc] decodes code[pc].raw */

    /* the machine */
    uint16_t r[4];
    uint8_t stage;
    bool z, ov;
    uint32_t pc;
    uint32_t periph[ULP_PERIPH_REGS];
    uint32_t period_sel;
    bool soc_deep_sleep;

    /* the timer */
    uint64_t now_ps;
    bool scheduled;                 /* next_start_ps is a run the timer will start */
    bool from_halt;                 /* ... counted from last_halt_ps */
    uint64_t next_start_ps, last_halt_ps;

    /* the run in progress */
    bool running;
    uint64_t run_start_ps, run_cycles;
    uint64_t call_wake_ps;          /* first accepted WAKE of this run_until call */

    /* counters */
    uint64_t runs, wake_count, wakes_accepted, instructions, last_run_cycles;
    uint64_t illegal, i2c_nacks;
    uint32_t illegal_pc, illegal_word;

    /* pads and sensors */
    int8_t rtc_gpio_pin[ULP_RTC_GPIOS];
    int8_t adc_pin[2][16];
    uint32_t pads_enabled, pads_out; /* RTC GPIO outputs as last driven */

    ulp_i2c_dev i2c[ESIM_ULP_I2C_DEVICES];
    esim_ulp_trace_fn trace;
    void *trace_ctx;
};

/* ulp_periph.c */
void esim_ulp_periph_init(esim_ulp *u);           /* pin tables; once */
void esim_ulp_periph_reset(esim_ulp *u);          /* registers to reset values */
uint32_t esim_ulp_periph_read(esim_ulp *u, uint32_t index);
/* A whole-register write; `host` lets read-only registers take it. */
void esim_ulp_periph_write(esim_ulp *u, uint32_t index, uint32_t value, bool host, uint64_t t_ps);
uint16_t esim_ulp_io_reg_rd(esim_ulp *u, uint32_t index, unsigned low, unsigned high);
void esim_ulp_io_reg_wr(esim_ulp *u, uint32_t index, unsigned low, unsigned high, uint32_t data, uint64_t t_ps);
uint16_t esim_ulp_io_tsens(esim_ulp *u, uint32_t delay, uint32_t *extra_cycles);
uint16_t esim_ulp_io_adc(esim_ulp *u, unsigned sar_sel, unsigned mux, uint32_t *extra_cycles);
uint16_t esim_ulp_io_i2c(esim_ulp *u, const ulp_insn *d, uint16_t r0, uint32_t *extra_cycles);

/* ulp.c: the timer follows its registers */
void esim_ulp_timer_enable_changed(esim_ulp *u, bool on, uint64_t t_ps);
void esim_ulp_timer_period_changed(esim_ulp *u);

#endif
