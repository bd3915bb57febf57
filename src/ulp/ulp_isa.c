/* esp32sim — the ULP-FSM instruction set: decoding a word into the
 * interpreter's compact form, and printing it in the assemblers' syntax
 * (reference ulp-isa.md §2-§5, docs/ulp.md). */
#include "ulp_isa.h"

#include <stdio.h>

#include "esp32sim/ulp_host.h"

static uint32_t field(uint32_t w, unsigned hi, unsigned lo)
{
    return (w >> lo) & ((1u << (hi - lo + 1u)) - 1u);
}

enum {
    OP_REG_WR = 1, OP_REG_RD = 2, OP_I2C = 3, OP_WAIT = 4, OP_ADC = 5, OP_ST = 6,
    OP_ALU = 7, OP_BRANCH = 8, OP_END = 9, OP_TSENS = 10, OP_HALT = 11, OP_LD = 13,
};

/* ---- cost (reference §5: execute + fetch of the next instruction) ---- */

static uint16_t alu_cycles(const ulp_decode_opts *o)
{
    return o->model == ESIM_ULP_CYCLES_B ? 4 : 6;
}

/* ---- decoding ---- */

static void set(ulp_insn *d, ulp_kind kind, uint16_t cycles)
{
    d->kind = (uint8_t)kind;
    d->cycles = cycles;
}

static void decode_alu(uint32_t w, const ulp_decode_opts *o, ulp_insn *d)
{
    uint32_t sub = field(w, 27, 25), sel = field(w, 24, 21);
    uint16_t cost = alu_cycles(o);
    d->a = (uint8_t)field(w, 1, 0);
    d->b = (uint8_t)field(w, 3, 2);
    if (sub == 0 && sel <= 6) {
        d->c = (uint8_t)field(w, 5, 4);
        set(d, (ulp_kind)(ULP_K_ADD_R + sel), cost);
    } else if (sub == 1 && sel <= 6) {
        d->imm = (uint16_t)field(w, 19, 4);
        set(d, (ulp_kind)(ULP_K_ADD_I + sel), cost);
    } else if (sub == 2 && sel <= 2) {
        d->imm = (uint16_t)field(w, 11, 4);
        set(d, (ulp_kind)(ULP_K_STAGE_INC + sel), cost);
    } else {
        set(d, ULP_K_ILLEGAL, 2);
    }
}

/* PC ± a sign-magnitude step, on the 11-bit PC. */
static uint32_t relative(uint32_t pc, uint32_t w)
{
    uint32_t step = field(w, 23, 17);
    return (field(w, 24, 24) ? pc - step : pc + step) & ULP_ADDR_MASK;
}

static void decode_branch(uint32_t w, uint32_t pc, ulp_insn *d)
{
    uint32_t sub = field(w, 27, 25);
    if (sub == 0) {
        static const ulp_kind by_type[2][3] = {
            {ULP_K_JUMP, ULP_K_JUMP_EQ, ULP_K_JUMP_OV},
            {ULP_K_JUMP_R, ULP_K_JUMP_R_EQ, ULP_K_JUMP_R_OV},
        };
        uint32_t type = field(w, 24, 22);
        d->imm = (uint16_t)field(w, 12, 2);
        d->b = (uint8_t)field(w, 1, 0);
        set(d, type < 3 ? by_type[field(w, 21, 21)][type] : ULP_K_NEXT, 4);
    } else if (sub == 1) {
        d->imm = (uint16_t)field(w, 15, 0);
        d->aux = relative(pc, w);
        set(d, field(w, 16, 16) ? ULP_K_JUMPR_GE : ULP_K_JUMPR_LT, 4);
    } else if (sub == 2) {
        static const ulp_kind by_cond[4] = {ULP_K_JUMPS_LT, ULP_K_JUMPS_GE, ULP_K_JUMPS_LE, ULP_K_JUMPS_LE};
        d->imm = (uint16_t)field(w, 7, 0);
        d->aux = relative(pc, w);
        set(d, by_cond[field(w, 16, 15)], 4);
    } else {
        set(d, ULP_K_ILLEGAL, 2);
    }
}

static void decode_end(uint32_t w, const ulp_decode_opts *o, ulp_insn *d)
{
    uint32_t sub = field(w, 27, 25);
    if (sub == 0)
        set(d, (w & 1u) ? ULP_K_WAKE : ULP_K_NEXT, (w & 1u) ? o->wake_cycles : 6);
    else if (sub == 1) {
        d->imm = (uint16_t)field(w, 3, 0);
        set(d, ULP_K_SLEEP, 6);
    } else
        set(d, ULP_K_ILLEGAL, 2);
}

static void decode_memory(uint32_t w, uint32_t pc, const ulp_decode_opts *o, ulp_insn *d)
{
    d->a = (uint8_t)field(w, 1, 0);
    d->b = (uint8_t)field(w, 3, 2);
    d->imm = (uint16_t)field(w, 20, 10);
    if (field(w, 31, 28) == OP_LD) {
        set(d, ULP_K_LD, 8);
        return;
    }
    if (field(w, 27, 25) != 4) {
        set(d, ULP_K_ILLEGAL, 2);
        return;
    }
    uint32_t reg_number = o->st_value_reg_index ? d->a : d->b;
    d->aux = (pc & ULP_ADDR_MASK) << 21 | reg_number << 16;
    set(d, ULP_K_ST, 8);
}

static void decode_io(uint32_t w, ulp_insn *d)
{
    switch (field(w, 31, 28)) {
    case OP_REG_WR:
        d->a = (uint8_t)field(w, 17, 10);
        /* fall through */
    case OP_REG_RD:
        d->imm = (uint16_t)field(w, 9, 0);
        d->b = (uint8_t)field(w, 22, 18);
        d->c = (uint8_t)field(w, 27, 23);
        set(d, field(w, 31, 28) == OP_REG_WR ? ULP_K_REG_WR : ULP_K_REG_RD, field(w, 31, 28) == OP_REG_WR ? 12 : 8);
        break;
    case OP_I2C:
        d->imm = (uint16_t)field(w, 7, 0);
        d->a = (uint8_t)field(w, 15, 8);
        d->b = (uint8_t)field(w, 18, 16);
        d->c = (uint8_t)field(w, 21, 19);
        d->aux = field(w, 25, 22);
        set(d, field(w, 27, 27) ? ULP_K_I2C_WR : ULP_K_I2C_RD, 4);
        break;
    case OP_ADC:
        d->a = (uint8_t)field(w, 1, 0);
        d->b = (uint8_t)field(w, 6, 6);
        d->c = (uint8_t)field(w, 5, 2);
        set(d, ULP_K_ADC, 4);
        break;
    default: /* OP_TSENS */
        d->a = (uint8_t)field(w, 1, 0);
        d->imm = (uint16_t)field(w, 15, 2);
        set(d, ULP_K_TSENS, 6);
        break;
    }
}

void esim_ulp_isa_decode(uint32_t word, uint32_t pc, const ulp_decode_opts *opts, ulp_insn *out)
{
    *out = (ulp_insn){.raw = word};
    switch (field(word, 31, 28)) {
    case OP_ALU: decode_alu(word, opts, out); break;
    case OP_BRANCH: decode_branch(word, pc, out); break;
    case OP_ST:
    case OP_LD: decode_memory(word, pc, opts, out); break;
    case OP_END: decode_end(word, opts, out); break;
    case OP_WAIT:
        out->aux = field(word, 15, 0);
        set(out, ULP_K_WAIT, 6);
        break;
    case OP_HALT: set(out, ULP_K_HALT, 2); break;
    case OP_REG_WR:
    case OP_REG_RD:
    case OP_I2C:
    case OP_ADC:
    case OP_TSENS: decode_io(word, out); break;
    default: set(out, ULP_K_ILLEGAL, 2); break;
    }
}

/* ---- disassembly ---- */

static const char *const alu_names[7] = {"ADD", "SUB", "AND", "OR", "MOVE", "LSH", "RSH"};

static int print_alu(uint32_t w, char *buf, size_t cap)
{
    uint32_t sub = field(w, 27, 25), sel = field(w, 24, 21);
    unsigned rd = field(w, 1, 0), rs = field(w, 3, 2);
    if (sub == 0 && sel == 4)
        return snprintf(buf, cap, "MOVE r%u, r%u", rd, rs);
    if (sub == 0 && sel < 7)
        return snprintf(buf, cap, "%s r%u, r%u, r%u", alu_names[sel], rd, rs, (unsigned)field(w, 5, 4));
    if (sub == 1 && sel == 4)
        return snprintf(buf, cap, "MOVE r%u, %u", rd, (unsigned)field(w, 19, 4));
    if (sub == 1 && sel < 7)
        return snprintf(buf, cap, "%s r%u, r%u, %u", alu_names[sel], rd, rs, (unsigned)field(w, 19, 4));
    if (sub == 2 && sel == 2)
        return snprintf(buf, cap, "STAGE_RST");
    if (sub == 2 && sel < 2)
        return snprintf(buf, cap, "STAGE_%s %u", sel ? "DEC" : "INC", (unsigned)field(w, 11, 4));
    return -1;
}

static int print_branch(uint32_t w, char *buf, size_t cap)
{
    static const char *const jump_types[3] = {"", ", EQ", ", OV"};
    static const char *const conds[3] = {"LT", "GE", "LE"};
    uint32_t sub = field(w, 27, 25);
    const char *sign = field(w, 24, 24) ? "-" : "";
    unsigned step = field(w, 23, 17);
    if (sub == 0 && field(w, 24, 22) < 3) {
        const char *type = jump_types[field(w, 24, 22)];
        if (field(w, 21, 21))
            return snprintf(buf, cap, "JUMP r%u%s", (unsigned)field(w, 1, 0), type);
        return snprintf(buf, cap, "JUMP %u%s", (unsigned)field(w, 12, 2), type);
    }
    if (sub == 1)
        return snprintf(buf, cap, "JUMPR %s%u, %u, %s", sign, step, (unsigned)field(w, 15, 0),
                        conds[field(w, 16, 16)]);
    if (sub == 2 && field(w, 16, 15) < 3)
        return snprintf(buf, cap, "JUMPS %s%u, %u, %s", sign, step, (unsigned)field(w, 7, 0),
                        conds[field(w, 16, 15)]);
    return -1;
}

static int print_io(uint32_t w, char *buf, size_t cap)
{
    unsigned high = field(w, 27, 23), low = field(w, 22, 18), idx = field(w, 9, 0);
    switch (field(w, 31, 28)) {
    case OP_REG_WR:
        return snprintf(buf, cap, "REG_WR 0x%x, %u, %u, %u", idx, high, low, (unsigned)field(w, 17, 10));
    case OP_REG_RD:
        return snprintf(buf, cap, "REG_RD 0x%x, %u, %u", idx, high, low);
    case OP_I2C:
        if (field(w, 27, 27))
            return snprintf(buf, cap, "I2C_WR %u, %u, %u, %u, %u", (unsigned)field(w, 7, 0),
                            (unsigned)field(w, 15, 8), (unsigned)field(w, 21, 19), (unsigned)field(w, 18, 16),
                            (unsigned)field(w, 25, 22));
        return snprintf(buf, cap, "I2C_RD %u, %u, %u, %u", (unsigned)field(w, 7, 0), (unsigned)field(w, 21, 19),
                        (unsigned)field(w, 18, 16), (unsigned)field(w, 25, 22));
    case OP_ADC:
        return snprintf(buf, cap, "ADC r%u, %u, %u", (unsigned)field(w, 1, 0), (unsigned)field(w, 6, 6),
                        (unsigned)field(w, 5, 2));
    default: /* OP_TSENS */
        return snprintf(buf, cap, "TSENS r%u, %u", (unsigned)field(w, 1, 0), (unsigned)field(w, 15, 2));
    }
}

static int print_word(uint32_t w, char *buf, size_t cap)
{
    switch (field(w, 31, 28)) {
    case OP_ALU: return print_alu(w, buf, cap);
    case OP_BRANCH: return print_branch(w, buf, cap);
    case OP_ST:
        if (field(w, 27, 25) != 4)
            return -1;
        /* fall through */
    case OP_LD:
        return snprintf(buf, cap, "%s r%u, r%u, %u", field(w, 31, 28) == OP_LD ? "LD" : "ST",
                        (unsigned)field(w, 1, 0), (unsigned)field(w, 3, 2), (unsigned)field(w, 20, 10));
    case OP_END:
        if (field(w, 27, 25) == 0 && (w & 1u))
            return snprintf(buf, cap, "WAKE");
        if (field(w, 27, 25) == 1)
            return snprintf(buf, cap, "SLEEP %u", (unsigned)field(w, 3, 0));
        return -1;
    case OP_WAIT:
        if (field(w, 15, 0) == 0)
            return snprintf(buf, cap, "NOP");
        return snprintf(buf, cap, "WAIT %u", (unsigned)field(w, 15, 0));
    case OP_HALT: return snprintf(buf, cap, "HALT");
    case OP_REG_WR:
    case OP_REG_RD:
    case OP_I2C:
    case OP_ADC:
    case OP_TSENS: return print_io(w, buf, cap);
    default: return -1;
    }
}

int esim_ulp_disasm(uint32_t word, char *buf, size_t cap)
{
    int n = print_word(word, buf, cap);
    if (n < 0)
        n = snprintf(buf, cap, ".long 0x%08x", (unsigned)word);
    return n;
}
