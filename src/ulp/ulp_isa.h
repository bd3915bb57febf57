/* esp32sim — the ULP-FSM instruction set, inside the emulator: one 32-bit
 * word decoded into a compact form the interpreter runs from (reference
 * ulp-isa.md §2-§5, docs/ulp.md). Every encoding decodes to something:
 * what the ISA leaves undefined becomes ULP_K_ILLEGAL. */
#ifndef ESP32SIM_ULP_ISA_INTERNAL_H
#define ESP32SIM_ULP_ISA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "esp32sim/ulp.h"

#define ULP_WORDS 2048u          /* RTC slow memory in 32-bit words */
#define ULP_ADDR_MASK 0x7FFu     /* PC, ST/LD addresses: 11 bits */

/* What the interpreter does; the ALU kinds come in the order of their
 * `sel` field so decoding is an addition. */
typedef enum {
    ULP_K_ADD_R, ULP_K_SUB_R, ULP_K_AND_R, ULP_K_OR_R, ULP_K_MOVE_R, ULP_K_LSH_R, ULP_K_RSH_R,
    ULP_K_ADD_I, ULP_K_SUB_I, ULP_K_AND_I, ULP_K_OR_I, ULP_K_MOVE_I, ULP_K_LSH_I, ULP_K_RSH_I,
    ULP_K_STAGE_INC, ULP_K_STAGE_DEC, ULP_K_STAGE_RST,
    ULP_K_ST, ULP_K_LD,
    ULP_K_JUMP, ULP_K_JUMP_EQ, ULP_K_JUMP_OV, ULP_K_JUMP_R, ULP_K_JUMP_R_EQ, ULP_K_JUMP_R_OV,
    ULP_K_NEXT,                  /* goes on to PC+1: JUMP types 3..7, END without wake */
    ULP_K_WAIT,                  /* aux = the extra cycles */
    ULP_K_JUMPR_LT, ULP_K_JUMPR_GE,
    ULP_K_JUMPS_LT, ULP_K_JUMPS_GE, ULP_K_JUMPS_LE,
    ULP_K_HALT, ULP_K_WAKE, ULP_K_SLEEP,
    ULP_K_REG_RD, ULP_K_REG_WR, ULP_K_TSENS, ULP_K_ADC, ULP_K_I2C_RD, ULP_K_I2C_WR,
    ULP_K_ILLEGAL,
} ulp_kind;

/* The options that change how a word decodes or what it costs. */
typedef struct {
    esim_ulp_cycle_model model;
    bool st_value_reg_index;     /* ST bits [17:16]: the value register's number */
    uint16_t wake_cycles;
} ulp_decode_opts;

/* One decoded instruction (16 bytes). Fields by kind:
 *   ALU reg:  a = Rdst, b = Rsrc1, c = Rsrc2
 *   ALU imm:  a = Rdst, b = Rsrc1, imm = imm16
 *   stage:    imm = imm8
 *   ST:       a = Rval, b = Raddr, imm = offset11, aux = the word's upper half
 *   LD:       a = Rdst, b = Raddr, imm = offset11
 *   JUMP:     imm = target; JUMP_R*: b = Rx
 *   JUMPR:    imm = threshold16, aux = target; JUMPS: imm = threshold8, aux = target
 *   SLEEP:    imm = cycle_sel; WAIT: aux = cycles16
 *   REG_RD:   imm = reg index, b = low, c = high
 *   REG_WR:   imm = reg index, b = low, c = high, a = data8
 *   TSENS:    a = Rdst, imm = wait delay
 *   ADC:      a = Rdst, b = sar_sel, c = mux
 *   I2C:      imm = sub_addr, a = data8, b = low, c = high, aux = slave_sel
 * `cycles` is the fixed cost (execute + fetch of the next) under the model
 * it was decoded for; TSENS, ADC and I2C add their variable part when they
 * run. */
typedef struct {
    uint32_t raw;
    uint32_t aux;
    uint8_t kind;
    uint8_t a, b, c;
    uint16_t imm;
    uint16_t cycles;
} ulp_insn;

void esim_ulp_isa_decode(uint32_t word, uint32_t pc, const ulp_decode_opts *opts, ulp_insn *out);

#endif
