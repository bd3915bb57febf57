/* esp32sim — the ULP-FSM emulator's host side, beyond ulp.h (docs/ulp.md):
 * the switches for what the reference leaves open, the peripheral
 * registers as the CPU sees them, the scriptable RTC-I2C devices, an
 * instruction trace, the binary header and the disassembler. */
#ifndef ESP32SIM_ULP_HOST_H
#define ESP32SIM_ULP_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/ulp.h"

/* ---- peripheral register indexes, as REG_RD/REG_WR name them:
 * (DPORT address - 0x3FF48000) / 4 ---- */
#define ESIM_ULP_REG_RTC_STATE0 0x006u         /* bit 24 ULP_CP_SLP_TIMER_EN */
#define ESIM_ULP_REG_RTC_TIMER2 0x008u         /* [23:15] ULPCP_TOUCH_START_WAIT */
#define ESIM_ULP_REG_RTC_TIMER5 0x00Bu         /* [15:8] MIN_SLP_VAL */
#define ESIM_ULP_REG_RTC_INT_ENA 0x00Fu        /* bit 5 ULP_CP_INT */
#define ESIM_ULP_REG_RTC_INT_RAW 0x010u
#define ESIM_ULP_REG_RTC_INT_ST 0x011u
#define ESIM_ULP_REG_RTC_INT_CLR 0x012u
#define ESIM_ULP_REG_RTC_STORE0 0x013u         /* STORE0..3; STORE4..7 at 0x02C.. */
#define ESIM_ULP_REG_RTC_STORE4 0x02Cu
#define ESIM_ULP_REG_RTC_LOW_POWER_ST 0x030u   /* bit 19 RDY_FOR_WAKEUP */
#define ESIM_ULP_REG_RTCIO_OUT 0x100u          /* [31:14]: RTC GPIO 0..17 */
#define ESIM_ULP_REG_RTCIO_OUT_W1TS 0x101u
#define ESIM_ULP_REG_RTCIO_OUT_W1TC 0x102u
#define ESIM_ULP_REG_RTCIO_ENABLE 0x103u
#define ESIM_ULP_REG_RTCIO_ENABLE_W1TS 0x104u
#define ESIM_ULP_REG_RTCIO_ENABLE_W1TC 0x105u
#define ESIM_ULP_REG_RTCIO_IN 0x109u
#define ESIM_ULP_REG_SENS_READ_CTRL 0x200u     /* SAR1 [17:16] sample bits, [15:8] sample cycles */
#define ESIM_ULP_REG_SENS_MEAS_WAIT1 0x202u    /* [31:16] AMP_WAIT2, [15:0] AMP_WAIT1 */
#define ESIM_ULP_REG_SENS_MEAS_WAIT2 0x203u    /* [15:0] AMP_WAIT3 */
#define ESIM_ULP_REG_SENS_SLEEP_CYC0 0x206u    /* ..0x20A: SLEEP_CYC0..4 */
#define ESIM_ULP_REG_SENS_START_FORCE 0x20Bu   /* [21:11] PC_INIT */
#define ESIM_ULP_REG_SENS_ATTEN1 0x20Du        /* 2 bits per ADC1 channel */
#define ESIM_ULP_REG_SENS_ATTEN2 0x20Eu
#define ESIM_ULP_REG_SENS_SLAVE_ADDR1 0x20Fu   /* ..0x212: RTC-I2C slave addresses 0..7 */
#define ESIM_ULP_REG_SENS_TSENS_CTRL 0x213u    /* [23:16] TSENS_CLK_DIV */
#define ESIM_ULP_REG_SENS_MEAS_START1 0x215u   /* [15:0] the last ADC1 reading */
#define ESIM_ULP_REG_SENS_READ_CTRL2 0x224u    /* as READ_CTRL, for SAR2 */
#define ESIM_ULP_REG_SENS_MEAS_START2 0x225u

#define ESIM_ULP_TIMER_EN_BIT 24u
#define ESIM_ULP_RDY_FOR_WAKEUP_BIT 19u
#define ESIM_ULP_INT_BIT 5u

/* A register as the CPU reads it (index 0..0x3FF; others read 0). */
uint32_t esim_ulp_reg_read(esim_ulp *ulp, uint32_t index);
/* The CPU writes a register, at the ULP's current time (the end of the
 * last esim_ulp_run_until, or the time given to power_on / run). Read-only
 * registers (LOW_POWER_ST, INT_ST, RTCIO_IN) take the value too, so the
 * host can model the RTC: e.g. clear RDY_FOR_WAKEUP. The timer enable bit
 * and the RTC GPIO registers act as they do for REG_WR. */
void esim_ulp_reg_write(esim_ulp *ulp, uint32_t index, uint32_t value);

/* ---- what the reference leaves open (docs/ulp.md, "Choices") ---- */
typedef struct {
    bool st_value_reg_index;   /* ST bits [17:16] hold the value register's
                                  number (default false: the address
                                  register's, as the IDF header says) */
    uint16_t wake_cycles;      /* WAKE's cost: 6 (documented, default) or 85
                                  (measured by ulp-c) */
    bool logic_clears_ov;      /* AND/OR/MOVE/LSH/RSH clear OV (default false:
                                  they leave it) */
    bool i2c_shift;            /* I2C_RD puts bits [high:low] at bit 0 of R0,
                                  I2C_WR takes its value from bit 0 (default
                                  false: masked in place) */
    uint64_t run_guard_cycles; /* a run that has not halted after this many
                                  cycles only goes on while its time is before
                                  the until_ps of esim_ulp_run_until, across
                                  calls (default ESIM_ULP_RUN_GUARD_CYCLES) */
} esim_ulp_options;

#define ESIM_ULP_RUN_GUARD_CYCLES (1ull << 26)   /* 8.4 s of ULP time */

void esim_ulp_default_options(esim_ulp_options *out);
void esim_ulp_get_options(const esim_ulp *ulp, esim_ulp_options *out);
void esim_ulp_set_options(esim_ulp *ulp, const esim_ulp_options *opts);

/* The main CPU is in deep sleep: SLEEP has no effect and the timer uses
 * SLEEP_CYC0 (ESP-IDF's note on SLEEP). */
void esim_ulp_set_soc_deep_sleep(esim_ulp *ulp, bool deep_sleep);

/* ---- the timer and the run in progress ---- */
typedef struct {
    uint64_t now_ps;          /* how far the ULP has been caught up */
    uint64_t next_start_ps;   /* the next run the timer starts; UINT64_MAX: none */
    bool running;             /* a run past the guard is waiting to go on */
    uint64_t run_start_ps;    /* of the current or last run */
    uint64_t wakes_accepted;  /* WAKEs with RDY_FOR_WAKEUP set */
    uint64_t illegal;         /* runs ended by an undefined instruction */
    uint32_t illegal_pc, illegal_word;   /* the last of them */
    uint64_t i2c_nacks;       /* I2C transfers nobody answered */
} esim_ulp_timing;
void esim_ulp_get_timing(const esim_ulp *ulp, esim_ulp_timing *out);

/* ---- RTC-I2C devices: a register file of 256 bytes per 7-bit address.
 * I2C_RD/I2C_WR reach the device whose address is in the SENS slave
 * address register slave_sel selects; nobody at that address is a NACK
 * (I2C_RD gives 0). A read may be scripted: queued values come out of
 * successive reads of that register, then the register file again. ---- */
#define ESIM_ULP_I2C_DEVICES 8u
#define ESIM_ULP_I2C_QUEUE 64u

/* ESP_ERR_INVALID_ARG (address > 0x7F), ESP_ERR_INVALID_STATE (already
 * there), ESP_ERR_NO_MEM (ESIM_ULP_I2C_DEVICES present). */
esp_err_t esim_ulp_i2c_attach(esim_ulp *ulp, uint8_t addr7);
/* ESP_ERR_NOT_FOUND when no device has that address (for all below). */
esp_err_t esim_ulp_i2c_detach(esim_ulp *ulp, uint8_t addr7);
esp_err_t esim_ulp_i2c_set_reg(esim_ulp *ulp, uint8_t addr7, uint8_t reg, uint8_t value);
esp_err_t esim_ulp_i2c_get_reg(const esim_ulp *ulp, uint8_t addr7, uint8_t reg, uint8_t *value);
/* ESP_ERR_NO_MEM when the device's queue holds ESIM_ULP_I2C_QUEUE values. */
esp_err_t esim_ulp_i2c_queue_read(esim_ulp *ulp, uint8_t addr7, uint8_t reg, uint8_t value);
/* Transfers the device took part in. */
esp_err_t esim_ulp_i2c_counts(const esim_ulp *ulp, uint8_t addr7, uint64_t *reads, uint64_t *writes);

/* ---- instruction trace: called after every instruction while set (the
 * interpreter then runs its slower, traced loop). The step carries the
 * machine's state; the function must not call back into the emulator. ---- */
typedef struct {
    uint64_t run;          /* 1 for the first run since power-on */
    uint64_t time_ps;      /* when the instruction began */
    uint32_t pc;           /* its word address */
    uint32_t word;
    uint64_t cycles;       /* the run's cycles after it */
    uint16_t regs[4];      /* after it */
    uint8_t stage_cnt;
    bool zero, overflow;
} esim_ulp_step;
typedef void (*esim_ulp_trace_fn)(void *ctx, const esim_ulp_step *step);
void esim_ulp_set_trace(esim_ulp *ulp, esim_ulp_trace_fn fn, void *ctx);

/* ---- the binary (.ulp / .bin) ---- */
#define ESIM_ULP_MAGIC 0x00706C75u   /* "ulp\0" */
typedef struct {
    uint16_t text_offset, text_size, data_size, bss_size;
} esim_ulp_header;

/* The checks ulp_load_binary makes that do not depend on the load
 * address, on size_words * 4 bytes: ESP_ERR_INVALID_SIZE (shorter than
 * the header, or the sections do not add up), ESP_ERR_NOT_SUPPORTED (bad
 * magic). */
esp_err_t esim_ulp_parse_header(const uint8_t *program, size_t size_words, esim_ulp_header *out);

/* ---- disassembler: the assemblers' syntax, operands as encoded (as
 * micropython-esp32-ulp's disassembler prints them: JUMP addresses, JUMPR
 * and JUMPS steps and LD/ST offsets in words, immediates in decimal,
 * register indexes in hex), "NOP" for WAIT 0; ADC in source order
 * (Rdst, sar_sel, mux). A word no assembler emits prints as
 * ".long 0xXXXXXXXX". Returns the length written (snprintf's). ---- */
int esim_ulp_disasm(uint32_t word, char *buf, size_t cap);

#endif
