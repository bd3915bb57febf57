/* esp32sim — the ULP-FSM co-processor (ulp.h, docs/ulp.md): the machine,
 * its interpreter, the wakeup timer and ESP-IDF's loader calls.
 *
 * The interpreter runs from code[], one decoded entry per word of RTC slow
 * memory. Each entry keeps the word it was decoded from; a fetch compares
 * it with memory and decodes again when they differ, so stores by the ULP
 * and by the CPU (which writes the memory directly) are always seen. */
#include <stdlib.h>
#include <string.h>

#include "ulp_internal.h"

#define SLOW_CLK_HZ 150000u
/* RTC_SLOW_CLK's period in µs as ESP-IDF's Q13.19 calibration value. */
#define SLOWCLK_CAL ((uint32_t)((1000000ull << 19) / SLOW_CLK_HZ))
#define RUN_DELAY_PS 10000000ull     /* ulp_run's 10 µs wait */
#define RESERVE_BYTES ESIM_ULP_RESERVE_MEM
#define MEM_BYTES (ULP_WORDS * 4u)
#define HEADER_BYTES 12u

/* ---- time ---- */

static uint64_t ticks_ps(uint64_t ticks)
{
    return ticks * 20000000ull / 3u;   /* 10^12 / 150 kHz */
}

static uint32_t touch_start_wait(const esim_ulp *u)
{
    return (u->periph[ESIM_ULP_REG_RTC_TIMER2] >> 15) & 0x1FFu;
}

/* The FSM's wake-up: 2 ticks, then TOUCH_START_WAIT for the 8 MHz clock. */
static uint64_t startup_ps(const esim_ulp *u)
{
    return ticks_ps(2u + touch_start_wait(u));
}

static bool timer_enabled(const esim_ulp *u)
{
    return (u->periph[ESIM_ULP_REG_RTC_STATE0] >> ESIM_ULP_TIMER_EN_BIT) & 1u;
}

static uint32_t sleep_cycles(const esim_ulp *u)
{
    uint32_t sel = u->soc_deep_sleep ? 0 : u->period_sel;
    return u->periph[ESIM_ULP_REG_SENS_SLEEP_CYC0 + sel];
}

/* After a HALT: 2 ticks to power down, the selected sleep period, the
 * start-up. */
static void schedule_after_halt(esim_ulp *u)
{
    u->scheduled = timer_enabled(u);
    u->from_halt = true;
    u->next_start_ps = u->last_halt_ps + ticks_ps(2u + (uint64_t)sleep_cycles(u)) + startup_ps(u);
}

void esim_ulp_timer_enable_changed(esim_ulp *u, bool on, uint64_t t_ps)
{
    if (u->running)
        return;   /* the HALT will look at the bit */
    u->scheduled = on;
    u->from_halt = false;
    u->next_start_ps = t_ps + startup_ps(u);
}

void esim_ulp_timer_period_changed(esim_ulp *u)
{
    if (u->running || !u->scheduled || !u->from_halt)
        return;
    schedule_after_halt(u);
    if (u->next_start_ps < u->now_ps)
        u->next_start_ps = u->now_ps;
}

/* ---- decoding ---- */

static uint32_t mem_word(const uint8_t *mem, uint32_t index)
{
    const uint8_t *p = mem + 4u * index;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_word(uint8_t *mem, uint32_t index, uint32_t w)
{
    uint8_t *p = mem + 4u * index;
    p[0] = (uint8_t)w;
    p[1] = (uint8_t)(w >> 8);
    p[2] = (uint8_t)(w >> 16);
    p[3] = (uint8_t)(w >> 24);
}

static ulp_decode_opts decode_opts(const esim_ulp *u)
{
    return (ulp_decode_opts){u->model, u->opt.st_value_reg_index, u->opt.wake_cycles};
}

static void decode_all(esim_ulp *u)
{
    ulp_decode_opts o = decode_opts(u);
    for (uint32_t pc = 0; pc < ULP_WORDS; pc++)
        esim_ulp_isa_decode(mem_word(u->bus.rtc_slow_mem, pc), pc, &o, &u->code[pc]);
}

static void decode_one(esim_ulp *u, uint32_t pc, uint32_t w)
{
    ulp_decode_opts o = decode_opts(u);
    esim_ulp_isa_decode(w, pc, &o, &u->code[pc]);
}

/* ---- life ---- */

void esim_ulp_default_options(esim_ulp_options *out)
{
    *out = (esim_ulp_options){.wake_cycles = 6, .run_guard_cycles = ESIM_ULP_RUN_GUARD_CYCLES};
}

esp_err_t esim_ulp_create(const esim_ulp_bus *bus, esim_ulp **out)
{
    if (!bus || !bus->rtc_slow_mem || !out)
        return ESP_ERR_INVALID_ARG;
    esim_ulp *u = calloc(1, sizeof *u);
    if (!u)
        return ESP_ERR_NO_MEM;
    u->bus = *bus;
    u->model = ESIM_ULP_CYCLES_A;
    esim_ulp_default_options(&u->opt);
    esim_ulp_periph_init(u);
    esim_ulp_power_on(u, 0);
    *out = u;
    return ESP_OK;
}

void esim_ulp_destroy(esim_ulp *ulp)
{
    free(ulp);
}

void esim_ulp_power_on(esim_ulp *ulp, uint64_t now_ps)
{
    memset(ulp->r, 0, sizeof ulp->r);
    ulp->stage = 0;
    ulp->z = ulp->ov = false;
    ulp->pc = 0;
    ulp->period_sel = 0;
    ulp->soc_deep_sleep = false;
    esim_ulp_periph_reset(ulp);
    ulp->now_ps = now_ps;
    ulp->scheduled = ulp->from_halt = ulp->running = false;
    ulp->next_start_ps = ulp->last_halt_ps = ulp->run_start_ps = 0;
    ulp->run_cycles = 0;
    ulp->runs = ulp->wake_count = ulp->wakes_accepted = ulp->instructions = ulp->last_run_cycles = 0;
    ulp->illegal = ulp->i2c_nacks = 0;
    ulp->illegal_pc = ulp->illegal_word = 0;
    decode_all(ulp);
}

void esim_ulp_set_cycle_model(esim_ulp *ulp, esim_ulp_cycle_model model)
{
    ulp->model = model == ESIM_ULP_CYCLES_B ? ESIM_ULP_CYCLES_B : ESIM_ULP_CYCLES_A;
    decode_all(ulp);
}

void esim_ulp_get_options(const esim_ulp *ulp, esim_ulp_options *out)
{
    *out = ulp->opt;
}

void esim_ulp_set_options(esim_ulp *ulp, const esim_ulp_options *opts)
{
    ulp->opt = *opts;
    if (ulp->opt.run_guard_cycles == 0)
        ulp->opt.run_guard_cycles = 1;
    decode_all(ulp);
}

void esim_ulp_set_soc_deep_sleep(esim_ulp *ulp, bool deep_sleep)
{
    ulp->soc_deep_sleep = deep_sleep;
}

void esim_ulp_set_trace(esim_ulp *ulp, esim_ulp_trace_fn fn, void *ctx)
{
    ulp->trace = fn;
    ulp->trace_ctx = ctx;
}

/* ---- registers as the CPU sees them ---- */

uint32_t esim_ulp_reg_read(esim_ulp *ulp, uint32_t index)
{
    return esim_ulp_periph_read(ulp, index);
}

void esim_ulp_reg_write(esim_ulp *ulp, uint32_t index, uint32_t value)
{
    esim_ulp_periph_write(ulp, index, value, true, ulp->now_ps);
}

/* ---- the interpreter ---- */

typedef enum { RUN_HALTED, RUN_PAUSED } run_end;

/* The registers the interpreter keeps in locals while it runs. */
typedef struct {
    uint16_t r[4];
    uint32_t pc;
    uint8_t stage;
    bool z, ov;
    uint64_t cycles;
} machine;

static uint64_t time_at(const esim_ulp *u, uint64_t cycles)
{
    return u->run_start_ps + cycles * ULP_CYCLE_PS;
}

static void wake(esim_ulp *u, uint64_t t_ps)
{
    u->wake_count++;
    if (!((u->periph[ESIM_ULP_REG_RTC_LOW_POWER_ST] >> ESIM_ULP_RDY_FOR_WAKEUP_BIT) & 1u))
        return;   /* the RTC ignores the signal */
    u->wakes_accepted++;
    u->periph[ESIM_ULP_REG_RTC_INT_RAW] |= 1u << ESIM_ULP_INT_BIT;
    if (u->call_wake_ps == UINT64_MAX)
        u->call_wake_ps = t_ps;
}

static void sleep_select(esim_ulp *u, uint32_t sel)
{
    if (sel <= 4 && !u->soc_deep_sleep)
        u->period_sel = sel;
}

static void emit_step(esim_ulp *u, const machine *m, uint32_t pc, uint32_t word, uint64_t start)
{
    esim_ulp_step s = {
        .run = u->runs, .time_ps = time_at(u, start), .pc = pc, .word = word, .cycles = m->cycles,
        .regs = {m->r[0], m->r[1], m->r[2], m->r[3]}, .stage_cnt = m->stage, .zero = m->z, .overflow = m->ov,
    };
    u->trace(u->trace_ctx, &s);
}

/* ALU write-back: Z from the result; OV from the carry or borrow for ADD
 * and SUB, kept (or cleared, as an option) by the others. */
#define ALU_SET(value) do { m.r[d->a] = (uint16_t)(value); m.z = m.r[d->a] == 0; } while (0)
#define ALU_LOGIC(value) do { ALU_SET(value); m.ov = m.ov && !clear_ov; } while (0)
#define SHIFT_LEFT(v, n) ((n) >= 16u ? 0u : (uint32_t)(v) << (n))
#define SHIFT_RIGHT(v, n) ((n) >= 16u ? 0u : (uint32_t)(v) >> (n))

/* Runs the current run from m until HALT (or an undefined instruction) or
 * until its cycle count reaches `limit` before an instruction. `traced` is
 * a constant in each caller, so the untraced loop carries no trace code. */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

static ALWAYS_INLINE run_end interpret(esim_ulp *u, machine *mp, uint64_t limit, bool traced)
{
    machine m = *mp;
    uint8_t *mem = u->bus.rtc_slow_mem;
    ulp_insn *code = u->code;
    const bool clear_ov = u->opt.logic_clears_ov;
    uint64_t count = 0;
    run_end end = RUN_PAUSED;
    while (m.cycles < limit) {
        uint32_t pc = m.pc, w = mem_word(mem, pc);
        ulp_insn *d = &code[pc];
        if (d->raw != w)
            decode_one(u, pc, w);
        uint64_t start = m.cycles;
        uint32_t next = (pc + 1u) & ULP_ADDR_MASK, extra = 0;
        m.cycles += d->cycles;
        count++;
        switch ((ulp_kind)d->kind) {
        case ULP_K_ADD_R: {
            uint32_t s = (uint32_t)m.r[d->b] + m.r[d->c];
            m.ov = s > 0xFFFFu;
            ALU_SET(s);
            break;
        }
        case ULP_K_SUB_R:
            m.ov = m.r[d->b] < m.r[d->c];
            ALU_SET(m.r[d->b] - m.r[d->c]);
            break;
        case ULP_K_AND_R: ALU_LOGIC(m.r[d->b] & m.r[d->c]); break;
        case ULP_K_OR_R: ALU_LOGIC(m.r[d->b] | m.r[d->c]); break;
        case ULP_K_MOVE_R: ALU_LOGIC(m.r[d->b]); break;
        case ULP_K_LSH_R: ALU_LOGIC(SHIFT_LEFT(m.r[d->b], m.r[d->c])); break;
        case ULP_K_RSH_R: ALU_LOGIC(SHIFT_RIGHT(m.r[d->b], m.r[d->c])); break;
        case ULP_K_ADD_I: {
            uint32_t s = (uint32_t)m.r[d->b] + d->imm;
            m.ov = s > 0xFFFFu;
            ALU_SET(s);
            break;
        }
        case ULP_K_SUB_I:
            m.ov = m.r[d->b] < d->imm;
            ALU_SET(m.r[d->b] - d->imm);
            break;
        case ULP_K_AND_I: ALU_LOGIC(m.r[d->b] & d->imm); break;
        case ULP_K_OR_I: ALU_LOGIC(m.r[d->b] | d->imm); break;
        case ULP_K_MOVE_I: ALU_LOGIC(d->imm); break;
        case ULP_K_LSH_I: ALU_LOGIC(SHIFT_LEFT(m.r[d->b], d->imm)); break;
        case ULP_K_RSH_I: ALU_LOGIC(SHIFT_RIGHT(m.r[d->b], d->imm)); break;
        case ULP_K_STAGE_INC: m.stage = (uint8_t)(m.stage + d->imm); break;
        case ULP_K_STAGE_DEC: m.stage = (uint8_t)(m.stage - d->imm); break;
        case ULP_K_STAGE_RST: m.stage = 0; break;
        case ULP_K_ST:
            put_word(mem, (m.r[d->b] + d->imm) & ULP_ADDR_MASK, d->aux | m.r[d->a]);
            break;
        case ULP_K_LD:
            m.r[d->a] = (uint16_t)mem_word(mem, (m.r[d->b] + d->imm) & ULP_ADDR_MASK);
            break;
        case ULP_K_JUMP: next = d->imm; break;
        case ULP_K_JUMP_EQ: next = m.z ? d->imm : next; break;
        case ULP_K_JUMP_OV: next = m.ov ? d->imm : next; break;
        case ULP_K_JUMP_R: next = m.r[d->b] & ULP_ADDR_MASK; break;
        case ULP_K_JUMP_R_EQ: next = m.z ? m.r[d->b] & ULP_ADDR_MASK : next; break;
        case ULP_K_JUMP_R_OV: next = m.ov ? m.r[d->b] & ULP_ADDR_MASK : next; break;
        case ULP_K_NEXT: break;
        case ULP_K_WAIT: m.cycles += d->aux; break;
        case ULP_K_JUMPR_LT: next = m.r[0] < d->imm ? d->aux : next; break;
        case ULP_K_JUMPR_GE: next = m.r[0] >= d->imm ? d->aux : next; break;
        case ULP_K_JUMPS_LT: next = m.stage < d->imm ? d->aux : next; break;
        case ULP_K_JUMPS_GE: next = m.stage >= d->imm ? d->aux : next; break;
        case ULP_K_JUMPS_LE: next = m.stage <= d->imm ? d->aux : next; break;
        case ULP_K_WAKE: wake(u, time_at(u, start)); break;
        case ULP_K_SLEEP: sleep_select(u, d->imm); break;
        case ULP_K_REG_RD: m.r[0] = esim_ulp_io_reg_rd(u, d->imm, d->b, d->c); break;
        case ULP_K_REG_WR: esim_ulp_io_reg_wr(u, d->imm, d->b, d->c, d->a, time_at(u, start)); break;
        case ULP_K_TSENS: m.r[d->a] = esim_ulp_io_tsens(u, d->imm, &extra); break;
        case ULP_K_ADC: m.r[d->a] = esim_ulp_io_adc(u, d->b, d->c, &extra); break;
        case ULP_K_I2C_RD:
        case ULP_K_I2C_WR: m.r[0] = esim_ulp_io_i2c(u, d, m.r[0], &extra); break;
        case ULP_K_ILLEGAL:
            u->illegal++;
            u->illegal_pc = pc;
            u->illegal_word = w;
            /* an undefined instruction ends the run as HALT does */
            /* fall through */
        case ULP_K_HALT:
        default:
            end = RUN_HALTED;
            break;
        }
        m.cycles += extra;
        if (traced)
            emit_step(u, &m, pc, w, start);
        if (end == RUN_HALTED)
            break;
        m.pc = next;
    }
    u->instructions += count;
    *mp = m;
    return end;
}

static run_end interpret_fast(esim_ulp *u, machine *m, uint64_t limit)
{
    return interpret(u, m, limit, false);
}

static run_end interpret_traced(esim_ulp *u, machine *m, uint64_t limit)
{
    return interpret(u, m, limit, true);
}

/* ---- runs ---- */

static void begin_run(esim_ulp *u)
{
    u->running = true;
    u->scheduled = false;
    u->run_start_ps = u->next_start_ps;
    u->run_cycles = 0;
    u->runs++;
    u->pc = (u->periph[ESIM_ULP_REG_SENS_START_FORCE] >> 11) & ULP_ADDR_MASK;
}

/* The cycle count the run may reach: the guard, or further while the
 * instructions start before until_ps. */
static uint64_t cycle_limit(const esim_ulp *u, uint64_t until_ps)
{
    uint64_t limit = u->opt.run_guard_cycles;
    if (until_ps > u->run_start_ps) {
        uint64_t span = until_ps - u->run_start_ps;
        uint64_t by_time = span / ULP_CYCLE_PS + (span % ULP_CYCLE_PS != 0);
        limit = by_time > limit ? by_time : limit;
    }
    return limit;
}

/* Goes on with the current run; true when it halted. */
static bool continue_run(esim_ulp *u, uint64_t until_ps)
{
    machine m = {{u->r[0], u->r[1], u->r[2], u->r[3]}, u->pc, u->stage, u->z, u->ov, u->run_cycles};
    uint64_t limit = cycle_limit(u, until_ps);
    run_end end = u->trace ? interpret_traced(u, &m, limit) : interpret_fast(u, &m, limit);
    memcpy(u->r, m.r, sizeof u->r);
    u->pc = m.pc;
    u->stage = m.stage;
    u->z = m.z;
    u->ov = m.ov;
    u->run_cycles = m.cycles;
    u->last_run_cycles = m.cycles;
    uint64_t t = time_at(u, m.cycles);
    if (t > u->now_ps)
        u->now_ps = t;
    if (end == RUN_PAUSED)
        return false;
    u->running = false;
    u->last_halt_ps = t;
    schedule_after_halt(u);
    return true;
}

uint64_t esim_ulp_run_until(esim_ulp *ulp, uint64_t until_ps, bool stop_at_wake)
{
    ulp->call_wake_ps = UINT64_MAX;
    for (;;) {
        if (!ulp->running) {
            if (!ulp->scheduled || ulp->next_start_ps >= until_ps)
                break;
            begin_run(ulp);
        }
        if (!continue_run(ulp, until_ps))
            break;
        if (stop_at_wake && ulp->call_wake_ps != UINT64_MAX)
            return ulp->call_wake_ps;
    }
    if (until_ps > ulp->now_ps)
        ulp->now_ps = until_ps;
    return ulp->call_wake_ps;
}

/* ---- ESP-IDF's calls ---- */

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void read_header(const uint8_t *program, esim_ulp_header *h)
{
    h->text_offset = le16(program + 4);
    h->text_size = le16(program + 6);
    h->data_size = le16(program + 8);
    h->bss_size = le16(program + 10);
}

static uint64_t bytes_of_words(size_t words)
{
    return words > 0x3FFFFFFFu ? UINT64_MAX / 4u : (uint64_t)words * 4u;
}

static bool magic_ok(const uint8_t *program)
{
    return (uint32_t)le16(program) == (ESIM_ULP_MAGIC & 0xFFFFu) &&
           (uint32_t)le16(program + 2) == ESIM_ULP_MAGIC >> 16;
}

static bool sections_fit(const esim_ulp_header *h, uint64_t size)
{
    return (uint64_t)h->text_offset + h->text_size + h->data_size == size;
}

esp_err_t esim_ulp_parse_header(const uint8_t *program, size_t size_words, esim_ulp_header *out)
{
    uint64_t size = bytes_of_words(size_words);
    if (size < HEADER_BYTES)
        return ESP_ERR_INVALID_SIZE;
    if (!program || !out)
        return ESP_ERR_INVALID_ARG;
    if (!magic_ok(program))
        return ESP_ERR_NOT_SUPPORTED;
    read_header(program, out);
    return sections_fit(out, size) ? ESP_OK : ESP_ERR_INVALID_SIZE;
}

/* ulp_load_binary, check by check in ESP-IDF's order. The .bss is zeroed
 * without a range check, as IDF <= 5.5 does, but never past the 8 KiB. */
esp_err_t esim_ulp_load_binary(esim_ulp *ulp, uint32_t load_addr_words, const uint8_t *program, size_t size_words)
{
    uint64_t size = bytes_of_words(size_words), load = (uint64_t)load_addr_words * 4u;
    if (size < HEADER_BYTES)
        return ESP_ERR_INVALID_SIZE;
    if (!program)
        return ESP_ERR_INVALID_ARG;
    if (load > RESERVE_BYTES)
        return ESP_ERR_INVALID_ARG;
    if (load + size > RESERVE_BYTES)
        return ESP_ERR_INVALID_SIZE;
    if (!magic_ok(program))
        return ESP_ERR_NOT_SUPPORTED;
    esim_ulp_header h;
    read_header(program, &h);
    if (!sections_fit(&h, size))
        return ESP_ERR_INVALID_SIZE;
    uint8_t *mem = ulp->bus.rtc_slow_mem;
    size_t copy = (size_t)h.text_size + h.data_size, at = (size_t)load;
    memcpy(mem + at, program + h.text_offset, copy);
    size_t bss_at = at + copy, bss = h.bss_size;
    if (bss > MEM_BYTES - bss_at)
        bss = MEM_BYTES - bss_at;
    memset(mem + bss_at, 0, bss);
    return ESP_OK;
}

esp_err_t esim_ulp_set_wakeup_period(esim_ulp *ulp, uint32_t index, uint32_t period_us)
{
    if (index > 4)
        return ESP_ERR_INVALID_ARG;
    uint64_t cycles = ((uint64_t)period_us << 19) / SLOWCLK_CAL;
    uint64_t min = 2u + 2u + touch_start_wait(ulp);
    uint32_t value = (uint32_t)(cycles < min ? min : cycles - min);
    esim_ulp_periph_write(ulp, ESIM_ULP_REG_SENS_SLEEP_CYC0 + index, value, true, ulp->now_ps);
    return ESP_OK;
}

/* ulp_run: timer off, 10 µs, PC_INIT = entry, software start off, the
 * shortest MIN_SLP_VAL, timer on. The first run begins once the FSM has
 * woken; the SLEEP selection goes back to SLEEP_CYC0. */
void esim_ulp_run(esim_ulp *ulp, uint32_t entry_words, uint64_t now_ps)
{
    if (now_ps > ulp->now_ps)
        ulp->now_ps = now_ps;
    uint32_t *state0 = &ulp->periph[ESIM_ULP_REG_RTC_STATE0];
    uint32_t *force = &ulp->periph[ESIM_ULP_REG_SENS_START_FORCE];
    uint32_t *timer5 = &ulp->periph[ESIM_ULP_REG_RTC_TIMER5];
    *force = (*force & ~(ULP_ADDR_MASK << 11 | 1u << 8)) | (entry_words & ULP_ADDR_MASK) << 11;
    *timer5 = (*timer5 & ~(0xFFu << 8)) | 2u << 8;
    *state0 |= 1u << ESIM_ULP_TIMER_EN_BIT;
    ulp->period_sel = 0;
    if (ulp->running)
        return;   /* the run in progress goes on; its HALT restarts the timer */
    ulp->scheduled = true;
    ulp->from_halt = false;
    ulp->next_start_ps = now_ps + RUN_DELAY_PS + startup_ps(ulp);
}

void esim_ulp_timer_stop(esim_ulp *ulp)
{
    uint32_t v = ulp->periph[ESIM_ULP_REG_RTC_STATE0] & ~(1u << ESIM_ULP_TIMER_EN_BIT);
    esim_ulp_periph_write(ulp, ESIM_ULP_REG_RTC_STATE0, v, true, ulp->now_ps);
}

/* ---- state ---- */

void esim_ulp_get_state(const esim_ulp *ulp, esim_ulp_state *out)
{
    *out = (esim_ulp_state){
        .regs = {ulp->r[0], ulp->r[1], ulp->r[2], ulp->r[3]},
        .stage_cnt = ulp->stage,
        .zero = ulp->z,
        .overflow = ulp->ov,
        .timer_enabled = timer_enabled(ulp),
        .pc = ulp->pc,
        .period_sel = ulp->period_sel,
        .runs = ulp->runs,
        .wake_count = ulp->wake_count,
        .instructions = ulp->instructions,
        .last_run_cycles = ulp->last_run_cycles,
    };
}

void esim_ulp_get_timing(const esim_ulp *ulp, esim_ulp_timing *out)
{
    *out = (esim_ulp_timing){
        .now_ps = ulp->now_ps,
        .next_start_ps = ulp->scheduled ? ulp->next_start_ps : UINT64_MAX,
        .running = ulp->running,
        .run_start_ps = ulp->run_start_ps,
        .wakes_accepted = ulp->wakes_accepted,
        .illegal = ulp->illegal,
        .illegal_pc = ulp->illegal_pc,
        .illegal_word = ulp->illegal_word,
        .i2c_nacks = ulp->i2c_nacks,
    };
}
