/* Tests for the ULP-FSM emulator (ulp.h, ulp_host.h): the shared vectors
 * (programs with expected results, loader cases), then every instruction,
 * the flags, the timer, the peripherals and the interpreter's guard. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/gpio.h"
#include "esp32sim/sensors.h"
#include "esp32sim/ulp.h"
#include "esp32sim/ulp_host.h"
#include "fixtures.h"

#define MEM_BYTES 8192u
#define CYCLE_PS 125000ull
#define TICK_PS(n) ((uint64_t)(n) * 20000000ull / 3u)   /* 150 kHz slow clock */
#define FIRST_START_PS (10000000ull + TICK_PS(18))        /* ulp_run: 10 us + 2 + 16 ticks */

/* ---- a tiny assembler (reference ulp-isa.md §3) ---- */

enum { ADD, SUB, AND, OR, MOVE, LSH, RSH };
enum { LT, GE, LE };
#define HALT 0xB0000000u
#define WAKE 0x90000001u
#define NOP 0x40000000u

static uint32_t alu_r(unsigned sel, unsigned rd, unsigned rs1, unsigned rs2)
{
    return 7u << 28 | sel << 21 | rs2 << 4 | rs1 << 2 | rd;
}
static uint32_t alu_i(unsigned sel, unsigned rd, unsigned rs, unsigned imm)
{
    return 7u << 28 | 1u << 25 | sel << 21 | (imm & 0xFFFFu) << 4 | rs << 2 | rd;
}
static uint32_t move_i(unsigned rd, unsigned imm) { return alu_i(MOVE, rd, 0, imm); }
static uint32_t stage_op(unsigned sel, unsigned imm) { return 7u << 28 | 2u << 25 | sel << 21 | imm << 4; }
static uint32_t store(unsigned rval, unsigned raddr, unsigned off) { return 6u << 28 | 4u << 25 | (off & 0x7FFu) << 10 | raddr << 2 | rval; }
static uint32_t load(unsigned rd, unsigned raddr, unsigned off) { return 13u << 28 | (off & 0x7FFu) << 10 | raddr << 2 | rd; }
static uint32_t jump(unsigned addr, unsigned type) { return 8u << 28 | type << 22 | addr << 2; }
static uint32_t jump_reg(unsigned r, unsigned type) { return 8u << 28 | type << 22 | 1u << 21 | r; }
static uint32_t rel(int step) { return (step < 0 ? 1u << 24 : 0) | (unsigned)(step < 0 ? -step : step) << 17; }
static uint32_t jumpr(int step, unsigned thr, unsigned ge) { return 8u << 28 | 1u << 25 | rel(step) | ge << 16 | thr; }
static uint32_t jumps(int step, unsigned thr, unsigned cond) { return 8u << 28 | 2u << 25 | rel(step) | cond << 15 | thr; }
static uint32_t sleep_sel(unsigned n) { return 9u << 28 | 1u << 25 | n; }
static uint32_t wait_n(unsigned n) { return 4u << 28 | n; }
static uint32_t reg_rd(unsigned idx, unsigned high, unsigned low) { return 2u << 28 | high << 23 | low << 18 | idx; }
static uint32_t reg_wr(unsigned idx, unsigned high, unsigned low, unsigned data)
{
    return 1u << 28 | high << 23 | low << 18 | data << 10 | idx;
}
static uint32_t tsens(unsigned rd, unsigned delay) { return 10u << 28 | delay << 2 | rd; }
static uint32_t adc(unsigned rd, unsigned sar, unsigned mux) { return 5u << 28 | sar << 6 | mux << 2 | rd; }
static uint32_t i2c_rd(unsigned sub, unsigned high, unsigned low, unsigned sel)
{
    return 3u << 28 | sel << 22 | high << 19 | low << 16 | sub;
}
static uint32_t i2c_wr(unsigned sub, unsigned val, unsigned high, unsigned low, unsigned sel)
{
    return 3u << 28 | 1u << 27 | sel << 22 | high << 19 | low << 16 | val << 8 | sub;
}

/* ---- a board with just the ULP ---- */

typedef struct {
    uint8_t mem[MEM_BYTES];
    esim_sensors sensors;
    esim_gpio *gpio;
    esim_ulp *u;
} rig;

static rig *rig_new(void)
{
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    esim_sensors_init(&r->sensors);
    assert_int_equal(esim_gpio_create(&r->gpio), ESP_OK);
    esim_ulp_bus bus = {r->mem, &r->sensors, r->gpio};
    assert_int_equal(esim_ulp_create(&bus, &r->u), ESP_OK);
    return r;
}

static void rig_free(rig *r)
{
    esim_ulp_destroy(r->u);
    esim_gpio_destroy(r->gpio);
    free(r);
}

static uint32_t word(const rig *r, uint32_t i)
{
    const uint8_t *p = r->mem + 4u * i;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put(rig *r, uint32_t at, const uint32_t *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned k = 0; k < 4; k++)
            r->mem[4u * (at + i) + k] = (uint8_t)(words[i] >> (8u * k));
}

static uint64_t next_start(const rig *r)
{
    esim_ulp_timing t;
    esim_ulp_get_timing(r->u, &t);
    return t.next_start_ps;
}

/* Lets the timer start exactly one more run; returns the run_until result. */
static uint64_t one_run(rig *r)
{
    uint64_t at = next_start(r);
    assert_true(at != UINT64_MAX);
    return esim_ulp_run_until(r->u, at + 1, false);
}

static esim_ulp_state state(const rig *r)
{
    esim_ulp_state s;
    esim_ulp_get_state(r->u, &s);
    return s;
}

/* The program at word 0, run once from word 0. */
#define RUN(r, ...)                                            \
    do {                                                       \
        const uint32_t prog_[] = {__VA_ARGS__};                \
        put((r), 0, prog_, sizeof prog_ / sizeof prog_[0]);    \
        esim_ulp_run((r)->u, 0, 0);                            \
        one_run(r);                                            \
    } while (0)

static esim_ulp_state run_program(rig *r, const uint32_t *prog, size_t n)
{
    put(r, 0, prog, n);
    esim_ulp_run(r->u, 0, 0);
    one_run(r);
    return state(r);
}
#define RUN_STATE(r, ...) run_program((r), (const uint32_t[]){__VA_ARGS__}, sizeof((const uint32_t[]){__VA_ARGS__}) / 4)

/* ---- the vectors: the expected results in expected/ ---- */

static cJSON *read_json(const char *rel)
{
    size_t len;
    uint8_t *text = read_fixture_file(rel, &len);
    cJSON *j = cJSON_Parse((const char *)text);
    free(text);
    assert_non_null(j);
    return j;
}

static uint32_t hex_item(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsString(v));
    return (uint32_t)strtoul(v->valuestring, NULL, 16);
}

static int int_item(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsNumber(v));
    return v->valueint;
}

static bool bool_item(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsBool(v));
    return cJSON_IsTrue(v);
}

/* SENS_ULP_CP_SLEEP_CYC1..4 reset to 100, 50, 40, 20 in ESP-IDF's
 * sens_reg.h; the vectors' reference model gives all five 200. Only
 * CYC0 (200 in both) is compared with the vectors (docs/ulp.md). */
static void check_periph(rig *r, const cJSON *periph)
{
    static const uint32_t idf_reset[4] = {100, 50, 40, 20};
    const cJSON *item;
    cJSON_ArrayForEach(item, periph) {
        uint32_t index = (uint32_t)strtoul(item->string, NULL, 16);
        uint32_t want = (uint32_t)strtoul(item->valuestring, NULL, 16);
        if (index > ESIM_ULP_REG_SENS_SLEEP_CYC0 && index <= ESIM_ULP_REG_SENS_SLEEP_CYC0 + 4)
            want = idf_reset[index - ESIM_ULP_REG_SENS_SLEEP_CYC0 - 1];
        assert_int_equal(esim_ulp_reg_read(r->u, index), want);
    }
}

typedef struct {
    const char *program, *json;
    uint32_t entry_bytes;
    int runs;
    bool preset;            /* mem[0] = 0x1000 after loading */
    uint64_t cycles_b;      /* EXPECTED.md, model B */
} vector_case;

static const vector_case vectors[] = {
    {"ulp/counter.ulp", "ulp/expected/counter.N1.json", 4, 1, false, 26},
    {"ulp/counter.ulp", "ulp/expected/counter.N5.json", 4, 5, false, 26},
    {"ulp/counter.ulp", "ulp/expected/counter.preset.json", 4, 3, true, 26},
    {"ulp/jumpr_conds.ulp", "ulp/expected/jumpr_conds.json", 12, 1, false, 382},
    {"ulp/stage_loops.ulp", "ulp/expected/stage_loops.json", 12, 1, false, 426},
    {"ulp/ldst.ulp", "ulp/expected/ldst.json", 0, 1, false, 74},
};

static rig *load_vector(const vector_case *v, esim_ulp_cycle_model model)
{
    rig *r = rig_new();
    size_t len;
    uint8_t *bin = read_fixture_file(v->program, &len);
    esim_ulp_set_cycle_model(r->u, model);
    assert_int_equal(esim_ulp_load_binary(r->u, 0, bin, len / 4), ESP_OK);
    free(bin);
    if (v->preset)
        put(r, 0, (const uint32_t[]){0x1000}, 1);
    esim_ulp_run(r->u, v->entry_bytes / 4, 0);
    return r;
}

static void check_vector(const vector_case *v)
{
    cJSON *j = read_json(v->json);
    rig *r = load_vector(v, ESIM_ULP_CYCLES_A);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs"), *run;
    assert_int_equal(cJSON_GetArraySize(runs), v->runs);
    assert_int_equal(int_item(j, "runs_executed"), v->runs);
    cJSON_ArrayForEach(run, runs) {
        assert_int_equal(one_run(r), UINT64_MAX);   /* no WAKE */
        esim_ulp_state s = state(r);
        assert_int_equal(s.runs, (uint64_t)int_item(run, "run"));
        assert_int_equal(s.last_run_cycles, (uint64_t)int_item(run, "cycles"));
        assert_int_equal(s.period_sel, (uint32_t)int_item(run, "period_sel_after"));
        assert_int_equal(s.timer_enabled, bool_item(run, "timer_enabled_after"));
        assert_false(bool_item(run, "woke"));
    }
    esim_ulp_state s = state(r);
    const cJSON *regs = cJSON_GetObjectItemCaseSensitive(j, "regs");
    for (int i = 0; i < 4; i++) {
        char name[4] = {'r', (char)('0' + i), 0, 0};
        assert_int_equal(s.regs[i], hex_item(regs, name));
    }
    assert_int_equal(s.stage_cnt, int_item(j, "stage_cnt"));
    assert_int_equal(s.zero, bool_item(j, "zero"));
    assert_int_equal(s.overflow, bool_item(j, "overflow"));
    assert_int_equal(s.wake_count, (uint64_t)int_item(j, "wake_signals"));
    /* full 32-bit words: the emulator's ST layout is the vectors' model */
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(j, "changed_or_dumped_words"))
        assert_int_equal(word(r, (uint32_t)atoi(item->string)), (uint32_t)strtoul(item->valuestring, NULL, 16));
    check_periph(r, cJSON_GetObjectItemCaseSensitive(j, "periph_regs_written"));
    rig_free(r);
    cJSON_Delete(j);

    r = load_vector(v, ESIM_ULP_CYCLES_B);
    one_run(r);
    assert_int_equal(state(r).last_run_cycles, v->cycles_b);
    rig_free(r);
}

static void test_vectors(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        check_vector(&vectors[i]);
}

/* Every word other than the ones the vector lists keeps its loaded value. */
static void test_vector_memory_untouched(void **st)
{
    (void)st;
    const vector_case *v = &vectors[3];   /* jumpr_conds: writes words 0..2 */
    rig *r = load_vector(v, ESIM_ULP_CYCLES_A);
    uint8_t before[MEM_BYTES];
    memcpy(before, r->mem, MEM_BYTES);
    one_run(r);
    for (uint32_t i = 3; i < MEM_BYTES / 4; i++)
        assert_memory_equal(r->mem + 4 * i, before + 4 * i, 4);
    rig_free(r);
}

/* ---- the loader vectors: loader/RESULTS.md ---- */

static void test_loader_vectors(void **st)
{
    (void)st;
    static const struct {
        const char *file;
        uint32_t load_addr;
        esp_err_t want;
    } cases[] = {
        {"ok_counter", 0, ESP_OK},
        {"bad_magic", 0, ESP_ERR_NOT_SUPPORTED},
        {"extra_word", 0, ESP_ERR_INVALID_SIZE},
        {"extra_2_bytes", 0, ESP_OK},
        {"truncated", 0, ESP_ERR_INVALID_SIZE},
        {"short_header", 0, ESP_ERR_INVALID_SIZE},
        {"fits_exactly_2040", 0, ESP_OK},
        {"too_big_2044", 0, ESP_ERR_INVALID_SIZE},
        {"load_addr_510", 510, ESP_ERR_INVALID_SIZE},
        {"load_addr_511", 511, ESP_ERR_INVALID_ARG},
        {"load_addr_64", 64, ESP_OK},
        {"text_offset_16", 0, ESP_OK},
        {"bss_16", 0, ESP_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[96];
        snprintf(rel, sizeof rel, "ulp/loader/%s.ulp", cases[i].file);
        size_t len;
        uint8_t *bin = read_fixture_file(rel, &len);
        rig *r = rig_new();
        memset(r->mem, 0xAA, MEM_BYTES);
        esp_err_t err = esim_ulp_load_binary(r->u, cases[i].load_addr, bin, len / 4);
        if (err != cases[i].want)
            fail_msg("%s: got 0x%x, want 0x%x", cases[i].file, (unsigned)err, (unsigned)cases[i].want);
        if (err) {   /* a rejected binary writes nothing */
            for (size_t k = 0; k < MEM_BYTES; k++)
                assert_int_equal(r->mem[k], 0xAA);
        }
        rig_free(r);
        free(bin);
    }
}

static void test_loader_placement(void **st)
{
    (void)st;
    size_t len, len16;
    uint8_t *counter = read_fixture_file("ulp/loader/ok_counter.ulp", &len);
    uint8_t *off16 = read_fixture_file("ulp/loader/text_offset_16.ulp", &len16);
    uint8_t *bss = read_fixture_file("ulp/loader/bss_16.ulp", &len16);
    rig *r = rig_new();
    memset(r->mem, 0xAA, MEM_BYTES);
    assert_int_equal(esim_ulp_load_binary(r->u, 64, counter, len / 4), ESP_OK);
    assert_memory_equal(r->mem + 256, counter + 12, len - 12);   /* word 64 */
    assert_int_equal(r->mem[255], 0xAA);
    assert_int_equal(r->mem[256 + len - 12], 0xAA);
    memset(r->mem, 0xAA, MEM_BYTES);
    assert_int_equal(esim_ulp_load_binary(r->u, 0, off16, 40 / 4), ESP_OK);
    assert_memory_equal(r->mem, counter + 12, len - 12);         /* text from offset 16 */
    memset(r->mem, 0xAA, MEM_BYTES);
    assert_int_equal(esim_ulp_load_binary(r->u, 0, bss, 36 / 4), ESP_OK);
    for (size_t k = len - 12; k < len - 12 + 16; k++)             /* 4 .bss words zeroed */
        assert_int_equal(r->mem[k], 0);
    assert_int_equal(r->mem[len - 12 + 16], 0xAA);
    /* a .bss that reaches past 8 KiB stops at the end of the memory */
    uint8_t big[36];
    memcpy(big, counter, sizeof big);
    big[10] = 0xFF;
    big[11] = 0xFF;
    assert_int_equal(esim_ulp_load_binary(r->u, 500, big, 9), ESP_OK);
    assert_int_equal(r->mem[MEM_BYTES - 1], 0);
    assert_int_equal(esim_ulp_load_binary(r->u, 0, NULL, 9), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_ulp_load_binary(r->u, 0, counter, 2), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esim_ulp_set_wakeup_period(r->u, 5, 1000), ESP_ERR_INVALID_ARG);
    esim_ulp_header h;
    assert_int_equal(esim_ulp_parse_header(counter, len / 4, &h), ESP_OK);
    assert_int_equal(h.text_offset, 12);
    assert_int_equal(h.text_size, 24);
    assert_int_equal(esim_ulp_parse_header(counter, 2, &h), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esim_ulp_parse_header(counter, len / 4 + 1, &h), ESP_ERR_INVALID_SIZE);
    counter[0] ^= 1;
    assert_int_equal(esim_ulp_parse_header(counter, len / 4, &h), ESP_ERR_NOT_SUPPORTED);
    rig_free(r);
    free(counter);
    free(off16);
    free(bss);
}

/* ---- ALU and flags ---- */

static void test_alu_add_sub_flags(void **st)
{
    (void)st;
    rig *r = rig_new();
    esim_ulp_state s = RUN_STATE(r, move_i(0, 0xFFFF), alu_i(ADD, 1, 0, 1), HALT);
    assert_int_equal(s.regs[1], 0);
    assert_true(s.zero);
    assert_true(s.overflow);                       /* unsigned carry */
    s = RUN_STATE(r, move_i(0, 0x7FFF), alu_i(ADD, 1, 0, 1), HALT);
    assert_int_equal(s.regs[1], 0x8000);
    assert_false(s.zero);
    assert_false(s.overflow);                      /* not signed overflow */
    s = RUN_STATE(r, move_i(0, 0), alu_i(SUB, 1, 0, 1), HALT);
    assert_int_equal(s.regs[1], 0xFFFF);
    assert_false(s.zero);
    assert_true(s.overflow);                       /* borrow */
    s = RUN_STATE(r, move_i(0, 5), move_i(2, 5), alu_r(SUB, 1, 0, 2), HALT);
    assert_int_equal(s.regs[1], 0);
    assert_true(s.zero);
    assert_false(s.overflow);
    s = RUN_STATE(r, move_i(0, 0x1234), move_i(2, 0xF0F0), alu_r(ADD, 3, 0, 2), HALT);
    assert_int_equal(s.regs[3], 0x0324);           /* 0x10324 wraps */
    assert_true(s.overflow);
    s = RUN_STATE(r, move_i(0, 0xFFFF), alu_i(ADD, 0, 0, 0xFFFF), HALT);   /* add r0, r0, -1 */
    assert_int_equal(s.regs[0], 0xFFFE);
    assert_true(s.overflow);
    rig_free(r);
}

static void test_alu_logic_and_shifts(void **st)
{
    (void)st;
    rig *r = rig_new();
    esim_ulp_state s = RUN_STATE(r, move_i(0, 0xF0F0), move_i(1, 0x0FF0), alu_r(AND, 2, 0, 1), alu_r(OR, 3, 0, 1),
                                 HALT);
    assert_int_equal(s.regs[2], 0x00F0);
    assert_int_equal(s.regs[3], 0xFFF0);
    s = RUN_STATE(r, move_i(0, 0xF0F0), alu_i(AND, 1, 0, 0x0F0F), HALT);
    assert_int_equal(s.regs[1], 0);
    assert_true(s.zero);
    s = RUN_STATE(r, move_i(0, 1), alu_i(LSH, 1, 0, 15), alu_i(RSH, 2, 1, 3), alu_i(LSH, 3, 0, 16), HALT);
    assert_int_equal(s.regs[1], 0x8000);
    assert_int_equal(s.regs[2], 0x1000);
    assert_int_equal(s.regs[3], 0);                /* shifts of 16 or more give 0 */
    assert_true(s.zero);
    s = RUN_STATE(r, move_i(0, 0x0F00), move_i(1, 4), alu_r(LSH, 2, 0, 1), alu_r(RSH, 3, 0, 1), HALT);
    assert_int_equal(s.regs[2], 0xF000);
    assert_int_equal(s.regs[3], 0x00F0);
    assert_false(s.zero);
    s = RUN_STATE(r, move_i(0, 0x00FF), move_i(1, 100), alu_r(RSH, 2, 0, 1), HALT);
    assert_int_equal(s.regs[2], 0);
    s = RUN_STATE(r, move_i(1, 0xABCD), alu_r(MOVE, 2, 1, 1), move_i(3, 0), HALT);
    assert_int_equal(s.regs[2], 0xABCD);
    assert_true(s.zero);                           /* MOVE sets Z */
    rig_free(r);
}

/* OV after AND/OR/MOVE/LSH/RSH: kept by default, cleared as an option. */
static void test_alu_logic_ov_choice(void **st)
{
    (void)st;
    rig *r = rig_new();
    esim_ulp_state s = RUN_STATE(r, move_i(0, 0), alu_i(SUB, 0, 0, 1), alu_i(AND, 1, 0, 1), HALT);
    assert_true(s.overflow);
    assert_false(s.zero);
    esim_ulp_options o;
    esim_ulp_get_options(r->u, &o);
    o.logic_clears_ov = true;
    esim_ulp_set_options(r->u, &o);
    s = RUN_STATE(r, move_i(0, 0), alu_i(SUB, 0, 0, 1), alu_i(OR, 1, 0, 1), HALT);
    assert_false(s.overflow);
    s = RUN_STATE(r, move_i(0, 0), alu_i(SUB, 0, 0, 1), move_i(1, 1), HALT);
    assert_false(s.overflow);
    rig_free(r);
}

static void test_stage_counter(void **st)
{
    (void)st;
    rig *r = rig_new();
    /* stage ops leave the flags: Z stays set by the MOVE */
    esim_ulp_state s = RUN_STATE(r, move_i(0, 0), stage_op(0, 200), stage_op(0, 100), HALT);
    assert_int_equal(s.stage_cnt, 44);             /* 300 mod 256 */
    assert_true(s.zero);
    s = RUN_STATE(r, stage_op(2, 0), stage_op(1, 3), HALT);
    assert_int_equal(s.stage_cnt, 253);
    s = RUN_STATE(r, stage_op(0, 9), stage_op(2, 0), HALT);
    assert_int_equal(s.stage_cnt, 0);
    assert_int_equal(s.last_run_cycles, 6 + 6 + 2);
    rig_free(r);
}

/* ---- memory ---- */

static void test_st_ld(void **st)
{
    (void)st;
    rig *r = rig_new();
    /* ST r1 via r2 at word 100 + 3 from PC 2 */
    esim_ulp_state s = RUN_STATE(r, move_i(1, 0xBEEF), move_i(2, 100), store(1, 2, 3), load(3, 2, 3), HALT);
    assert_int_equal(word(r, 103), 2u << 21 | 2u << 16 | 0xBEEF);
    assert_int_equal(s.regs[3], 0xBEEF);
    assert_int_equal(s.last_run_cycles, 6 + 6 + 8 + 8 + 2);
    /* 11-bit address wrap: 2047 + 10 = word 9 */
    s = RUN_STATE(r, move_i(0, 2047), move_i(1, 0x1234), store(1, 0, 10), load(3, 0, 10), HALT);
    assert_int_equal(word(r, 9), 2u << 21 | 0u << 16 | 0x1234);
    assert_int_equal(s.regs[3], 0x1234);
    /* LD leaves the flags */
    put(r, 50, (const uint32_t[]){0xFFFF0000u}, 1);
    s = RUN_STATE(r, move_i(0, 50), load(1, 0, 0), HALT);
    assert_int_equal(s.regs[1], 0);
    assert_false(s.zero);
    /* ST's register field choice: the value register's number */
    esim_ulp_options o;
    esim_ulp_get_options(r->u, &o);
    o.st_value_reg_index = true;
    esim_ulp_set_options(r->u, &o);
    RUN(r, move_i(1, 7), move_i(2, 200), store(1, 2, 0), HALT);
    assert_int_equal(word(r, 200), 2u << 21 | 1u << 16 | 7);
    rig_free(r);
}

/* Stores into the program and host writes between runs are executed. */
static void test_code_changes_are_seen(void **st)
{
    (void)st;
    rig *r = rig_new();
    /* word 4 holds "MOVE r3, 1"; the program overwrites it with a word
     * whose low half reads as "MOVE r3, 2" */
    uint32_t patched = move_i(3, 2);
    esim_ulp_state s = RUN_STATE(r, move_i(0, patched & 0xFFFF), move_i(1, 4), store(0, 1, 0), NOP, move_i(3, 1),
                                 HALT);
    /* the stored word is {PC 2, r1#, value}: its upper half decides the opcode */
    assert_int_equal(word(r, 4), 2u << 21 | 1u << 16 | (patched & 0xFFFF));
    assert_int_equal(s.regs[3], 0);                /* 0x0041xxxx is opcode 0: undefined, ends the run */
    esim_ulp_timing t;
    esim_ulp_get_timing(r->u, &t);
    assert_int_equal(t.illegal, 1);
    assert_int_equal(t.illegal_pc, 4);
    /* the host rewrites word 1; the next run executes the new word */
    put(r, 0, (const uint32_t[]){move_i(3, 5), HALT}, 2);
    one_run(r);
    assert_int_equal(state(r).regs[3], 5);
    put(r, 0, (const uint32_t[]){move_i(3, 6)}, 1);
    one_run(r);
    assert_int_equal(state(r).regs[3], 6);
    /* An ST at PC 916 writes a word whose upper half, {916, 3'b0, r1#},
     * is "MOVE, immediate": word 920 first runs as MOVE r3, 1, then the
     * ST turns it into MOVE r3, 0x1012 (imm = {0001, 0x012}, Rdst = 3). */
    put(r, 914, (const uint32_t[]){move_i(0, 0x0123), move_i(1, 920), store(0, 1, 0), NOP, NOP, NOP, move_i(3, 1), HALT},
        8);
    esim_ulp_run(r->u, 920, 0);
    one_run(r);
    assert_int_equal(state(r).regs[3], 1);
    esim_ulp_run(r->u, 914, 0);
    one_run(r);
    assert_int_equal(word(r, 920), 916u << 21 | 1u << 16 | 0x0123);
    assert_int_equal(state(r).regs[3], 0x1012);
    rig_free(r);
}

/* ---- branches ---- */

static void test_jump(void **st)
{
    (void)st;
    rig *r = rig_new();
    /* registers live on from run to run: each program sets what it checks */
    esim_ulp_state s = RUN_STATE(r, move_i(1, 0), move_i(2, 0), move_i(0, 0), jump(5, 1), move_i(1, 1), jump(7, 0),
                                 move_i(2, 1), HALT);
    assert_int_equal(s.regs[1], 0);
    assert_int_equal(s.regs[2], 0);
    assert_int_equal(s.last_run_cycles, 3 * 6 + 4 + 4 + 2);
    s = RUN_STATE(r, move_i(1, 0), move_i(0, 1), jump(4, 1), move_i(1, 1), HALT);   /* EQ not taken */
    assert_int_equal(s.regs[1], 1);
    s = RUN_STATE(r, move_i(1, 0), move_i(0, 0xFFFF), alu_i(ADD, 0, 0, 1), jump(5, 2), move_i(1, 1), HALT);
    assert_int_equal(s.regs[1], 0);                /* OV taken */
    s = RUN_STATE(r, move_i(1, 0), move_i(0, 1), alu_i(ADD, 0, 0, 1), jump(5, 2), move_i(1, 1), HALT);
    assert_int_equal(s.regs[1], 1);
    /* by register, masked to 11 bits: 0x0806 -> 6 */
    s = RUN_STATE(r, move_i(1, 0), move_i(2, 0x0806), jump_reg(2, 0), move_i(1, 1), move_i(1, 2), move_i(1, 3), HALT);
    assert_int_equal(s.regs[1], 0);
    s = RUN_STATE(r, move_i(1, 0), move_i(2, 6), move_i(0, 0), jump_reg(2, 1), move_i(1, 1), move_i(1, 2), HALT);
    assert_int_equal(s.regs[1], 0);
    /* types 3..7 never jump */
    s = RUN_STATE(r, move_i(1, 0), move_i(0, 0), jump(4, 5), move_i(1, 9), HALT);
    assert_int_equal(s.regs[1], 9);
    rig_free(r);
}

static void test_jumpr_jumps(void **st)
{
    (void)st;
    rig *r = rig_new();
    /* R0 compare is unsigned: 0x8000 >= 0x7FFF */
    esim_ulp_state s = RUN_STATE(r, move_i(1, 0), move_i(0, 0x8000), jumpr(2, 0x7FFF, GE), move_i(1, 1), HALT);
    assert_int_equal(s.regs[1], 0);
    s = RUN_STATE(r, move_i(1, 0), move_i(0, 0x8000), jumpr(2, 0x7FFF, LT), move_i(1, 1), HALT);
    assert_int_equal(s.regs[1], 1);
    /* a backward loop: r1 counts until r0 reaches 10 */
    s = RUN_STATE(r, move_i(0, 0), move_i(1, 0), alu_i(ADD, 1, 1, 1), alu_i(ADD, 0, 0, 1), jumpr(-2, 10, LT), HALT);
    assert_int_equal(s.regs[1], 10);
    assert_int_equal(s.last_run_cycles, 12 + 10 * 16 + 2);
    /* JUMPS: LT / GE / LE on the stage counter */
    s = RUN_STATE(r, move_i(1, 0), move_i(2, 0), move_i(3, 0), stage_op(2, 0), stage_op(0, 5), jumps(2, 5, LE),
                  move_i(1, 1), jumps(2, 6, GE), move_i(2, 1), jumps(2, 5, LT), move_i(3, 1), HALT);
    assert_int_equal(s.regs[1], 0);                /* 5 <= 5 taken */
    assert_int_equal(s.regs[2], 1);                /* 5 >= 6 not taken */
    assert_int_equal(s.regs[3], 1);                /* 5 < 5 not taken */
    /* JUMPS cond 3 acts as LE */
    s = RUN_STATE(r, move_i(1, 0), stage_op(2, 0), stage_op(0, 4), jumps(2, 4, 3), move_i(1, 1), HALT);
    assert_int_equal(s.regs[1], 0);
    rig_free(r);
}

/* ---- WAIT, HALT, WAKE, SLEEP and the timer ---- */

static void test_wait_and_cycles(void **st)
{
    (void)st;
    rig *r = rig_new();
    esim_ulp_state s = RUN_STATE(r, NOP, wait_n(100), wait_n(65535), HALT);
    assert_int_equal(s.last_run_cycles, 6 + 106 + 65541 + 2);
    assert_int_equal(s.instructions, 4);
    esim_ulp_set_cycle_model(r->u, ESIM_ULP_CYCLES_B);
    s = RUN_STATE(r, move_i(0, 1), stage_op(0, 1), NOP, store(0, 0, 10), reg_wr(0x13, 7, 0, 1), reg_rd(0x13, 7, 0), HALT);
    assert_int_equal(s.last_run_cycles, 4 + 4 + 6 + 8 + 12 + 8 + 2);
    rig_free(r);
}

static void test_first_run_and_period(void **st)
{
    (void)st;
    rig *r = rig_new();
    put(r, 0, (const uint32_t[]){alu_i(ADD, 1, 1, 1), HALT}, 2);
    esim_ulp_run(r->u, 0, 5000000);
    assert_int_equal(next_start(r), 5000000 + FIRST_START_PS);
    assert_int_equal(esim_ulp_set_wakeup_period(r->u, 0, 100000), ESP_OK);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_SENS_SLEEP_CYC0), 15000 - 20);
    one_run(r);
    uint64_t halt = 5000000 + FIRST_START_PS + 8 * CYCLE_PS;
    assert_int_equal(next_start(r), halt + 100000000000ull);   /* 15000 ticks = 100 ms */
    /* ~10 increments a second (IDF's test: 1e6 / period +-15 %) */
    esim_ulp_run_until(r->u, 1000000000000ull, false);
    assert_int_equal(state(r).regs[1], 10);
    assert_int_equal(state(r).runs, 10);
    /* a period below the minimum is clipped to 20 ticks */
    assert_int_equal(esim_ulp_set_wakeup_period(r->u, 1, 10), ESP_OK);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_SENS_SLEEP_CYC0 + 1), 20);
    assert_int_equal(esim_ulp_set_wakeup_period(r->u, 2, 1000000), ESP_OK);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_SENS_SLEEP_CYC0 + 2), 150000 - 20);
    /* a new period reschedules the sleeping timer from the last HALT */
    esim_ulp_timing t;
    esim_ulp_get_timing(r->u, &t);
    uint64_t last_halt = t.run_start_ps + 8 * CYCLE_PS;
    assert_int_equal(esim_ulp_set_wakeup_period(r->u, 0, 200000), ESP_OK);
    assert_int_equal(next_start(r), last_halt + 200000000000ull);
    rig_free(r);
}

static void test_sleep_selects_period(void **st)
{
    (void)st;
    rig *r = rig_new();
    put(r, 0, (const uint32_t[]){sleep_sel(3), HALT}, 2);
    esim_ulp_run(r->u, 0, 0);
    one_run(r);
    esim_ulp_state s = state(r);
    assert_int_equal(s.period_sel, 3);
    uint64_t halt = FIRST_START_PS + 8 * CYCLE_PS;
    assert_int_equal(next_start(r), halt + TICK_PS(2 + 40 + 18));   /* SLEEP_CYC3 resets to 40 */
    /* SLEEP 7 means nothing: the selection stays */
    put(r, 0, (const uint32_t[]){sleep_sel(7)}, 1);
    one_run(r);
    assert_int_equal(state(r).period_sel, 3);
    /* in deep sleep SLEEP does nothing and SLEEP_CYC0 is used */
    esim_ulp_set_soc_deep_sleep(r->u, true);
    put(r, 0, (const uint32_t[]){sleep_sel(1)}, 1);
    one_run(r);
    esim_ulp_timing t;
    esim_ulp_get_timing(r->u, &t);
    assert_int_equal(state(r).period_sel, 3);
    assert_int_equal(next_start(r), t.run_start_ps + 8 * CYCLE_PS + TICK_PS(2 + 200 + 18));
    /* ulp_run goes back to SLEEP_CYC0 */
    esim_ulp_set_soc_deep_sleep(r->u, false);
    esim_ulp_run(r->u, 1, t.now_ps);
    assert_int_equal(state(r).period_sel, 0);
    rig_free(r);
}

static void test_timer_stop(void **st)
{
    (void)st;
    rig *r = rig_new();
    /* the program clears ULP_CP_SLP_TIMER_EN (I_END) then halts: no more runs */
    put(r, 0, (const uint32_t[]){alu_i(ADD, 1, 1, 1), reg_wr(ESIM_ULP_REG_RTC_STATE0, 24, 24, 0), HALT}, 3);
    esim_ulp_run(r->u, 0, 0);
    assert_true(state(r).timer_enabled);
    one_run(r);
    assert_false(state(r).timer_enabled);
    assert_int_equal(next_start(r), UINT64_MAX);
    esim_ulp_run_until(r->u, 10000000000000ull, false);
    assert_int_equal(state(r).runs, 1);
    assert_int_equal(state(r).regs[1], 1);
    /* ulp_run starts it again; ulp_timer_stop from the host stops it */
    put(r, 1, (const uint32_t[]){NOP}, 1);
    esim_ulp_run(r->u, 0, 10000000000000ull);
    esim_ulp_run_until(r->u, 10010000000000ull, false);
    assert_true(state(r).runs > 2);
    esim_ulp_timer_stop(r->u);
    uint64_t runs = state(r).runs;
    esim_ulp_run_until(r->u, 20000000000000ull, false);
    assert_int_equal(state(r).runs, runs);
    /* the timer enable bit written by the host schedules a run */
    esim_ulp_reg_write(r->u, ESIM_ULP_REG_RTC_STATE0, 1u << 24);
    assert_int_equal(next_start(r), 20000000000000ull + TICK_PS(18));
    rig_free(r);
}

static void test_wake(void **st)
{
    (void)st;
    rig *r = rig_new();
    put(r, 0, (const uint32_t[]){NOP, WAKE, alu_i(ADD, 1, 1, 1), HALT}, 4);
    esim_ulp_run(r->u, 0, 0);
    uint64_t wake_at = FIRST_START_PS + 6 * CYCLE_PS;
    assert_int_equal(esim_ulp_run_until(r->u, FIRST_START_PS + 1, false), wake_at);
    esim_ulp_state s = state(r);
    assert_int_equal(s.wake_count, 1);
    assert_int_equal(s.regs[1], 1);                /* WAKE does not halt */
    assert_int_equal(s.last_run_cycles, 6 + 6 + 6 + 2);
    assert_true(s.timer_enabled);                  /* nor stop the timer */
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_RTC_INT_RAW), 1u << 5);
    esim_ulp_reg_write(r->u, ESIM_ULP_REG_RTC_INT_ENA, 1u << 5);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_RTC_INT_ST), 1u << 5);
    esim_ulp_reg_write(r->u, ESIM_ULP_REG_RTC_INT_CLR, 1u << 5);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_RTC_INT_RAW), 0);
    /* stop_at_wake: returns after the waking run, before until_ps */
    uint64_t second = next_start(r);
    assert_int_equal(esim_ulp_run_until(r->u, 1000000000000ull, true), second + 6 * CYCLE_PS);
    assert_int_equal(state(r).runs, 2);
    esim_ulp_timing t;
    esim_ulp_get_timing(r->u, &t);
    assert_int_equal(t.now_ps, second + 20 * CYCLE_PS);
    assert_int_equal(t.wakes_accepted, 2);
    /* RDY_FOR_WAKEUP clear: the WAKE counts but the RTC ignores it */
    esim_ulp_reg_write(r->u, ESIM_ULP_REG_RTC_LOW_POWER_ST, 0);
    assert_int_equal(esim_ulp_run_until(r->u, next_start(r) + 1, true), UINT64_MAX);
    assert_int_equal(state(r).wake_count, 3);
    esim_ulp_get_timing(r->u, &t);
    assert_int_equal(t.wakes_accepted, 2);
    /* WAKE's cost as measured by ulp-c */
    esim_ulp_reg_write(r->u, ESIM_ULP_REG_RTC_LOW_POWER_ST, 1u << 19);
    esim_ulp_options o;
    esim_ulp_get_options(r->u, &o);
    o.wake_cycles = 85;
    esim_ulp_set_options(r->u, &o);
    one_run(r);
    assert_int_equal(state(r).last_run_cycles, 6 + 85 + 6 + 2);
    rig_free(r);
}

/* A run that started before until_ps goes on to its HALT. */
static void test_run_finishes_past_until(void **st)
{
    (void)st;
    rig *r = rig_new();
    put(r, 0, (const uint32_t[]){wait_n(60000), wait_n(60000), alu_i(ADD, 1, 1, 1), HALT}, 4);
    esim_ulp_run(r->u, 0, 0);
    esim_ulp_run_until(r->u, FIRST_START_PS + 1, false);
    assert_int_equal(state(r).regs[1], 1);
    esim_ulp_timing t;
    esim_ulp_get_timing(r->u, &t);
    assert_false(t.running);
    assert_int_equal(t.now_ps, FIRST_START_PS + (2 * 60006 + 6 + 2) * CYCLE_PS);
    /* nothing starts at or after until_ps */
    uint64_t at = next_start(r);
    esim_ulp_run_until(r->u, at, false);
    assert_int_equal(state(r).runs, 1);
    rig_free(r);
}

/* A program that never halts: the guard hands control back, then the run
 * only goes on as the emulator's time passes. */
static void test_guard(void **st)
{
    (void)st;
    rig *r = rig_new();
    esim_ulp_options o;
    esim_ulp_get_options(r->u, &o);
    assert_int_equal(o.run_guard_cycles, ESIM_ULP_RUN_GUARD_CYCLES);
    o.run_guard_cycles = 1000000;
    esim_ulp_set_options(r->u, &o);
    put(r, 0, (const uint32_t[]){alu_i(ADD, 1, 1, 1), jump(0, 0)}, 2);
    esim_ulp_run(r->u, 0, 0);
    esim_ulp_run_until(r->u, FIRST_START_PS + 1, false);
    esim_ulp_timing t;
    esim_ulp_get_timing(r->u, &t);
    assert_true(t.running);
    esim_ulp_state s = state(r);
    assert_int_equal(s.last_run_cycles, 1000000);   /* 100,000 loops of 10 cycles */
    assert_int_equal(s.instructions, 200000);
    assert_int_equal(s.regs[1], 100000 & 0xFFFF);
    /* 1 ms more of the emulator's time: 8000 cycles more */
    uint64_t until = FIRST_START_PS + 1000000 * CYCLE_PS + 1000000000ull;
    esim_ulp_run_until(r->u, until, false);
    s = state(r);
    assert_int_equal(s.last_run_cycles, 1008000);
    esim_ulp_get_timing(r->u, &t);
    assert_true(t.running);
    assert_int_equal(t.now_ps, until);
    /* the host can stop it only by rewriting the program */
    put(r, 0, (const uint32_t[]){HALT}, 1);
    esim_ulp_run_until(r->u, until + 1000000, false);
    esim_ulp_get_timing(r->u, &t);
    assert_false(t.running);
    assert_int_equal(state(r).runs, 1);
    rig_free(r);
}

static void test_illegal_ends_run(void **st)
{
    (void)st;
    rig *r = rig_new();
    static const uint32_t undefined[] = {
        0x00000000u, 0xC0000000u, 0xE0000000u, 0xF0000000u, 7u << 28 | 7u << 21, 7u << 28 | 3u << 25,
        7u << 28 | 2u << 25 | 3u << 21, 8u << 28 | 3u << 25, 9u << 28 | 2u << 25, 6u << 28 | 1u << 25,
    };
    for (size_t i = 0; i < sizeof undefined / sizeof undefined[0]; i++) {
        esim_ulp_state s = run_program(r, (const uint32_t[]){move_i(1, 3), undefined[i], move_i(1, 4), HALT}, 4);
        assert_int_equal(s.regs[1], 3);
        assert_int_equal(s.pc, 1);
        assert_int_equal(s.last_run_cycles, 6 + 2);
        assert_true(s.timer_enabled);
        assert_true(next_start(r) != UINT64_MAX);   /* the timer restarts as after HALT */
    }
    esim_ulp_timing t;
    esim_ulp_get_timing(r->u, &t);
    assert_int_equal(t.illegal, sizeof undefined / sizeof undefined[0]);
    rig_free(r);
}

/* ---- peripheral registers ---- */

static void test_reg_rd_wr(void **st)
{
    (void)st;
    rig *r = rig_new();
    /* widths 1..8 at the lows IDF's hardware test uses, on STORE0 */
    static const unsigned lows[] = {0, 3, 15, 16, 18, 24};
    for (size_t i = 0; i < sizeof lows / sizeof lows[0]; i++) {
        for (unsigned width = 1; width <= 8; width++) {
            unsigned low = lows[i], high = low + width - 1, data = 0xA5u & ((1u << width) - 1);
            esim_ulp_reg_write(r->u, ESIM_ULP_REG_RTC_STORE0, 0x5A5A5A5Au);
            esim_ulp_state s = RUN_STATE(r, reg_wr(ESIM_ULP_REG_RTC_STORE0, high, low, data),
                                         reg_rd(ESIM_ULP_REG_RTC_STORE0, high, low), HALT);
            uint32_t mask = ((1u << width) - 1) << low;
            assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_RTC_STORE0),
                             (0x5A5A5A5Au & ~mask) | (data << low));
            assert_int_equal(s.regs[0], data);
        }
    }
    /* REG_RD of [31:16], [27:20], a field wider than 16 bits; flags untouched */
    esim_ulp_reg_write(r->u, ESIM_ULP_REG_RTC_STORE4, 0x89ABCDEFu);
    esim_ulp_state s = RUN_STATE(r, move_i(1, 0), reg_rd(ESIM_ULP_REG_RTC_STORE4, 31, 16), alu_r(MOVE, 2, 0, 0),
                                 reg_rd(ESIM_ULP_REG_RTC_STORE4, 27, 20), alu_r(MOVE, 3, 0, 0),
                                 reg_rd(ESIM_ULP_REG_RTC_STORE4, 31, 0), HALT);
    assert_int_equal(s.regs[2], 0x89AB);
    assert_int_equal(s.regs[3], 0x9A);
    assert_int_equal(s.regs[0], 0xCDEF);
    /* a wide REG_WR zero-extends data8; high < low writes nothing */
    s = RUN_STATE(r, reg_wr(ESIM_ULP_REG_RTC_STORE4, 23, 8, 0x7F), reg_wr(ESIM_ULP_REG_RTC_STORE4, 1, 2, 3), HALT);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_RTC_STORE4), 0x89007FEFu);
    /* RDY_FOR_WAKEUP reads 1; the ULP cannot write it */
    s = RUN_STATE(r, reg_wr(ESIM_ULP_REG_RTC_LOW_POWER_ST, 19, 19, 0), reg_rd(ESIM_ULP_REG_RTC_LOW_POWER_ST, 19, 19),
                  HALT);
    assert_int_equal(s.regs[0], 1);
    /* PC_INIT written by REG_WR sets where the next run starts */
    s = RUN_STATE(r, reg_wr(ESIM_ULP_REG_SENS_START_FORCE, 18, 11, 2), HALT, move_i(2, 0x33), HALT);
    one_run(r);
    assert_int_equal(state(r).regs[2], 0x33);
    /* indexes beyond the four blocks: nothing */
    assert_int_equal(esim_ulp_reg_read(r->u, 0x400), 0);
    esim_ulp_reg_write(r->u, 0x400, 1);
    rig_free(r);
}

/* ---- sensors ---- */

static void test_tsens(void **st)
{
    (void)st;
    rig *r = rig_new();
    r->sensors.die_c = 30.0;
    esim_ulp_state s = RUN_STATE(r, tsens(2, 100), HALT);
    assert_int_equal(s.regs[2], esim_sensors_raw_temperature(&r->sensors));
    assert_int_equal(s.regs[2], 86);
    assert_int_equal(s.last_run_cycles, 2 + 100 + 3 * 6 + 4 + 2);
    assert_int_equal((esim_ulp_reg_read(r->u, ESIM_ULP_REG_SENS_SLAVE_ADDR1 + 2) >> 22) & 0xFF, 86);
    rig_free(r);
}

static void test_adc(void **st)
{
    (void)st;
    rig *r = rig_new();
    r->sensors.adc_mv[34] = 1000.0;   /* ADC1 channel 6: mux 7 */
    r->sensors.adc_mv[26] = 500.0;    /* ADC2 channel 9: mux 10 */
    esim_ulp_state s = RUN_STATE(r, adc(1, 0, 7), adc(2, 1, 10), adc(3, 0, 0), HALT);
    assert_int_equal(s.regs[1], esim_sensors_adc_raw(&r->sensors, 34, 3, 12));   /* reset: 11 dB */
    assert_in_range(s.regs[1], 1137, 1138);                                        /* 1000/3600 of 4095 */
    assert_int_equal(s.regs[2], esim_sensors_adc_raw(&r->sensors, 26, 3, 12));
    assert_int_equal(s.regs[3], 0);                                                /* mux 0: no pad */
    assert_int_equal(s.last_run_cycles, 3 * (23 + 10 + 10 + 10 + 9 + 3 + 4) + 2);
    /* 0 dB on channel 6, 9-bit width */
    s = RUN_STATE(r, reg_wr(ESIM_ULP_REG_SENS_ATTEN1, 13, 12, 0), reg_wr(ESIM_ULP_REG_SENS_READ_CTRL, 17, 16, 0),
                  adc(0, 0, 7), HALT);
    assert_int_equal(s.regs[0], 511);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_SENS_MEAS_START1) & 0xFFFF, 511);
    r->sensors.adc_mv[34] = 500.0;
    s = RUN_STATE(r, adc(0, 0, 7), HALT);
    assert_int_equal(s.regs[0], esim_sensors_adc_raw(&r->sensors, 34, 0, 9));
    rig_free(r);
}

/* ---- RTC-I2C ---- */

static void test_i2c(void **st)
{
    (void)st;
    rig *r = rig_new();
    assert_int_equal(esim_ulp_i2c_attach(r->u, 0x48), ESP_OK);
    assert_int_equal(esim_ulp_i2c_attach(r->u, 0x48), ESP_ERR_INVALID_STATE);
    assert_int_equal(esim_ulp_i2c_attach(r->u, 0x80), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_ulp_i2c_set_reg(r->u, 0x48, 5, 0xA5), ESP_OK);
    assert_int_equal(esim_ulp_i2c_set_reg(r->u, 0x48, 7, 0xA0), ESP_OK);
    assert_int_equal(esim_ulp_i2c_set_reg(r->u, 0x49, 7, 0xA0), ESP_ERR_NOT_FOUND);
    esim_ulp_reg_write(r->u, ESIM_ULP_REG_SENS_SLAVE_ADDR1, 0x48u << 11);   /* slave_sel 0 */
    esim_ulp_state s = RUN_STATE(r, move_i(3, 100), i2c_rd(5, 7, 0, 0), store(0, 3, 0), i2c_rd(5, 3, 1, 0), store(0, 3, 1),
                                 i2c_wr(6, 0x3C, 7, 0, 0), i2c_wr(7, 0xFF, 3, 0, 0), move_i(0, 0x77),
                                 i2c_rd(5, 7, 0, 1), HALT);
    assert_int_equal(word(r, 100) & 0xFFFF, 0xA5);
    assert_int_equal(word(r, 101) & 0xFFFF, 0x04);   /* bits [3:1] of 0xA5, in place */
    uint8_t v;
    assert_int_equal(esim_ulp_i2c_get_reg(r->u, 0x48, 6, &v), ESP_OK);
    assert_int_equal(v, 0x3C);
    assert_int_equal(esim_ulp_i2c_get_reg(r->u, 0x48, 7, &v), ESP_OK);
    assert_int_equal(v, 0xAF);                       /* only [3:0] written */
    assert_int_equal(s.regs[0], 0);                  /* slave_sel 1: address 0, nobody: NACK */
    esim_ulp_timing t;
    esim_ulp_get_timing(r->u, &t);
    assert_int_equal(t.i2c_nacks, 1);
    uint64_t reads, writes;
    assert_int_equal(esim_ulp_i2c_counts(r->u, 0x48, &reads, &writes), ESP_OK);
    assert_int_equal(reads, 2);
    assert_int_equal(writes, 2);
    assert_int_equal(s.last_run_cycles, 6 + 3 * (4 + 3040) + 2 * 8 + 2 * (4 + 2320) + 6 + 2);
    /* scripted reads, then the register file (holding the last of them) */
    assert_int_equal(esim_ulp_i2c_queue_read(r->u, 0x48, 5, 0x11), ESP_OK);
    assert_int_equal(esim_ulp_i2c_queue_read(r->u, 0x48, 9, 0x99), ESP_OK);
    assert_int_equal(esim_ulp_i2c_queue_read(r->u, 0x48, 5, 0x22), ESP_OK);
    RUN(r, move_i(3, 100), i2c_rd(5, 7, 0, 0), store(0, 3, 0), i2c_rd(5, 7, 0, 0), store(0, 3, 1), i2c_rd(5, 7, 0, 0),
        store(0, 3, 2), i2c_rd(9, 7, 0, 0), store(0, 3, 3), HALT);
    assert_int_equal(word(r, 100) & 0xFFFF, 0x11);
    assert_int_equal(word(r, 101) & 0xFFFF, 0x22);
    assert_int_equal(word(r, 102) & 0xFFFF, 0x22);
    assert_int_equal(word(r, 103) & 0xFFFF, 0x99);
    /* the shifted reading of the field, as an option */
    esim_ulp_options o;
    esim_ulp_get_options(r->u, &o);
    o.i2c_shift = true;
    esim_ulp_set_options(r->u, &o);
    assert_int_equal(esim_ulp_i2c_set_reg(r->u, 0x48, 5, 0xA5), ESP_OK);
    s = RUN_STATE(r, i2c_rd(5, 3, 1, 0), i2c_wr(8, 0x3, 5, 4, 0), HALT);
    assert_int_equal(s.regs[0], 0x2);
    assert_int_equal(esim_ulp_i2c_get_reg(r->u, 0x48, 8, &v), ESP_OK);
    assert_int_equal(v, 0x30);
    /* odd slave_sel and the last address register; full queue; detach */
    esim_ulp_reg_write(r->u, ESIM_ULP_REG_SENS_SLAVE_ADDR1 + 3, 0x48u);   /* slave_sel 7 */
    s = RUN_STATE(r, i2c_rd(5, 7, 0, 7), HALT);
    assert_int_equal(s.regs[0], 0xA5);
    for (unsigned i = 0; i < ESIM_ULP_I2C_QUEUE; i++)
        assert_int_equal(esim_ulp_i2c_queue_read(r->u, 0x48, 1, (uint8_t)i), ESP_OK);
    assert_int_equal(esim_ulp_i2c_queue_read(r->u, 0x48, 1, 0), ESP_ERR_NO_MEM);
    assert_int_equal(esim_ulp_i2c_detach(r->u, 0x48), ESP_OK);
    assert_int_equal(esim_ulp_i2c_detach(r->u, 0x48), ESP_ERR_NOT_FOUND);
    for (uint8_t a = 1; a <= ESIM_ULP_I2C_DEVICES; a++)
        assert_int_equal(esim_ulp_i2c_attach(r->u, a), ESP_OK);
    assert_int_equal(esim_ulp_i2c_attach(r->u, 0x70), ESP_ERR_NO_MEM);
    rig_free(r);
}

/* ---- RTC GPIO ---- */

static const esim_pin_change *find_change(const rig *r, int pin, size_t nth)
{
    for (size_t i = 0; i < esim_gpio_trace_count(r->gpio); i++) {
        const esim_pin_change *c = esim_gpio_trace_at(r->gpio, i);
        if (c->pin == pin && nth-- == 0)
            return c;
    }
    return NULL;
}

static void test_rtc_gpio_output(void **st)
{
    (void)st;
    rig *r = rig_new();
    /* RTC GPIO 10 is GPIO 4: bit 14 + 10 */
    RUN(r, reg_wr(ESIM_ULP_REG_RTCIO_ENABLE_W1TS, 24, 24, 1), reg_wr(ESIM_ULP_REG_RTCIO_OUT_W1TS, 24, 24, 1),
        wait_n(100), reg_wr(ESIM_ULP_REG_RTCIO_OUT_W1TC, 24, 24, 1), wait_n(10),
        reg_wr(ESIM_ULP_REG_RTCIO_OUT, 24, 24, 1), reg_wr(ESIM_ULP_REG_RTCIO_ENABLE_W1TC, 24, 24, 1), HALT);
    const esim_pin_change *c0 = find_change(r, 4, 0), *c1 = find_change(r, 4, 1), *c2 = find_change(r, 4, 2);
    const esim_pin_change *c3 = find_change(r, 4, 3), *c4 = find_change(r, 4, 4);
    assert_non_null(c0);
    assert_non_null(c4);
    assert_int_equal(c0->level, 0);                 /* enabled, output register 0 */
    assert_int_equal(c0->t_ps, FIRST_START_PS);
    assert_int_equal(c1->level, 1);
    assert_int_equal(c1->t_ps, FIRST_START_PS + 12 * CYCLE_PS);
    assert_int_equal(c2->level, 0);
    assert_int_equal(c2->t_ps, FIRST_START_PS + (24 + 106) * CYCLE_PS);
    assert_int_equal(c3->level, 1);
    assert_int_equal(c3->t_ps, FIRST_START_PS + (36 + 106 + 16) * CYCLE_PS);
    assert_int_equal(c4->level, ESIM_LEVEL_FLOATING);   /* output driver off again */
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_RTCIO_OUT), 1u << 24);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_RTCIO_ENABLE), 0);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_RTCIO_OUT_W1TS), 0);
    /* an input-only pad (RTC GPIO 4 = GPIO 34) is not driven */
    size_t before = esim_gpio_trace_count(r->gpio);
    RUN(r, reg_wr(ESIM_ULP_REG_RTCIO_ENABLE_W1TS, 18, 18, 1), reg_wr(ESIM_ULP_REG_RTCIO_OUT_W1TS, 18, 18, 1), HALT);
    assert_int_equal(esim_gpio_trace_count(r->gpio), before);
    rig_free(r);
}

static void test_rtc_gpio_input(void **st)
{
    (void)st;
    rig *r = rig_new();
    esim_gpio_drive_from_outside(r->gpio, 4, 1);    /* RTC GPIO 10 */
    esim_gpio_drive_from_outside(r->gpio, 36, 1);   /* RTC GPIO 0 */
    esim_ulp_state s = RUN_STATE(r, reg_rd(ESIM_ULP_REG_RTCIO_IN, 24, 24), alu_r(MOVE, 1, 0, 0),
                                 reg_rd(ESIM_ULP_REG_RTCIO_IN, 29, 14), HALT);
    assert_int_equal(s.regs[1], 1);
    assert_int_equal(s.regs[0], 1u << 10 | 1u);
    esim_gpio_drive_from_outside(r->gpio, 4, 0);
    s = RUN_STATE(r, reg_rd(ESIM_ULP_REG_RTCIO_IN, 24, 24), HALT);
    assert_int_equal(s.regs[0], 0);
    rig_free(r);
}

/* No sensors, no pads: readings give 0 and nothing breaks. */
static void test_bare_bus(void **st)
{
    (void)st;
    uint8_t *mem = calloc(1, MEM_BYTES);
    esim_ulp *u;
    esim_ulp_bus bus = {mem, NULL, NULL};
    assert_int_equal(esim_ulp_create(&bus, &u), ESP_OK);
    const uint32_t prog[] = {move_i(1, 9), tsens(1, 0), move_i(2, 9), adc(2, 0, 7),
                             reg_wr(ESIM_ULP_REG_RTCIO_ENABLE_W1TS, 24, 24, 1), reg_rd(ESIM_ULP_REG_RTCIO_IN, 31, 14),
                             HALT};
    for (size_t i = 0; i < sizeof prog / sizeof prog[0]; i++)
        for (unsigned k = 0; k < 4; k++)
            mem[4 * i + k] = (uint8_t)(prog[i] >> (8 * k));
    esim_ulp_run(u, 0, 0);
    esim_ulp_run_until(u, 1000000000ull, false);
    esim_ulp_state s;
    esim_ulp_get_state(u, &s);
    assert_int_equal(s.runs, 1);
    assert_int_equal(s.regs[1], 0);
    assert_int_equal(s.regs[2], 0);
    assert_int_equal(s.regs[0], 0);
    esim_ulp_destroy(u);
    bus.rtc_slow_mem = NULL;
    assert_int_equal(esim_ulp_create(&bus, &u), ESP_ERR_INVALID_ARG);
    free(mem);
}

/* ---- trace, power-on ---- */

typedef struct {
    esim_ulp_step steps[8];
    size_t n;
} trace_log;

static void log_step(void *ctx, const esim_ulp_step *s)
{
    trace_log *log = ctx;
    if (log->n < 8)
        log->steps[log->n] = *s;
    log->n++;
}

static void test_trace_and_power_on(void **st)
{
    (void)st;
    rig *r = rig_new();
    trace_log log = {0};
    esim_ulp_set_trace(r->u, log_step, &log);
    esim_ulp_state s = RUN_STATE(r, move_i(1, 0), alu_i(SUB, 1, 1, 1), stage_op(0, 3), HALT);
    assert_int_equal(log.n, 4);
    assert_int_equal(log.steps[0].pc, 0);
    assert_int_equal(log.steps[0].word, move_i(1, 0));
    assert_int_equal(log.steps[0].time_ps, FIRST_START_PS);
    assert_int_equal(log.steps[0].cycles, 6);
    assert_true(log.steps[0].zero);
    assert_int_equal(log.steps[1].regs[1], 0xFFFF);
    assert_true(log.steps[1].overflow);
    assert_int_equal(log.steps[1].time_ps, FIRST_START_PS + 6 * CYCLE_PS);
    assert_int_equal(log.steps[2].stage_cnt, 3);
    assert_int_equal(log.steps[3].pc, 3);
    assert_int_equal(log.steps[3].cycles, s.last_run_cycles);
    assert_int_equal(log.steps[3].run, 1);
    esim_ulp_set_trace(r->u, NULL, NULL);
    one_run(r);
    assert_int_equal(log.n, 4);
    esim_ulp_power_on(r->u, 777);
    s = state(r);
    assert_int_equal(s.runs, 0);
    assert_int_equal(s.regs[1], 0);
    assert_int_equal(s.stage_cnt, 0);
    assert_false(s.overflow);
    assert_false(s.timer_enabled);
    assert_int_equal(next_start(r), UINT64_MAX);
    assert_int_equal(esim_ulp_reg_read(r->u, ESIM_ULP_REG_SENS_SLEEP_CYC0), 200);
    assert_int_equal(esim_ulp_run_until(r->u, 1000000000000ull, false), UINT64_MAX);
    assert_int_equal(state(r).runs, 0);
    rig_free(r);
}

/* ---- disassembler ---- */

static void test_disasm(void **st)
{
    (void)st;
    static const struct {
        uint32_t word;
        const char *text;
    } cases[] = {
        {0x70000006u, "ADD r2, r1, r0"}, {0x70800016u, "MOVE r2, r1"}, {0x72800001u, "MOVE r1, 0"},
        {0x728FFFF0u, "MOVE r0, 65535"}, {0x6800000Bu, "ST r3, r2, 0"}, {0xD0000006u, "LD r2, r1, 0"},
        {0x74400000u, "STAGE_RST"}, {0x74000070u, "STAGE_INC 7"}, {0x74200030u, "STAGE_DEC 3"},
        {0x80400000u, "JUMP 0, EQ"}, {0x80600001u, "JUMP r1, EQ"}, {0x83070001u, "JUMPR -3, 1, GE"},
        {0x84028005u, "JUMPS 1, 5, GE"}, {0xB0000000u, "HALT"}, {0x90000001u, "WAKE"},
        {0x92000007u, "SLEEP 7"}, {0x40000000u, "NOP"}, {0x40000064u, "WAIT 100"},
        {0x21040321u, "REG_RD 0x321, 2, 1"}, {0x10880D23u, "REG_WR 0x123, 1, 2, 3"},
        {0x50000060u, "ADC r0, 1, 8"}, {0xA0000009u, "TSENS r1, 2"}, {0x30110003u, "I2C_RD 3, 2, 1, 0"},
        {0x39130100u, "I2C_WR 0, 1, 2, 3, 4"}, {0x681FFC04u, "ST r0, r1, 2047"},
        {0x00000000u, ".long 0x00000000"}, {0x90000000u, ".long 0x90000000"}, {0x71E00000u, ".long 0x71e00000"},
        {0x8401C000u, ".long 0x8401c000"}, {0x81C00000u, ".long 0x81c00000"}, {0x62000000u, ".long 0x62000000"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = esim_ulp_disasm(cases[i].word, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(n, (int)strlen(cases[i].text));
    }
    char tiny[5];
    assert_int_equal(esim_ulp_disasm(0x39130100u, tiny, sizeof tiny), 20);   /* snprintf's length */
    assert_string_equal(tiny, "I2C_");
}

/* The listing vectors: every instruction line of NAME.lst decodes to the
 * text it shows. */
static void test_disasm_listings(void **st)
{
    (void)st;
    static const char *const names[] = {"counter", "jumpr_conds", "stage_loops", "ldst"};
    for (size_t i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "ulp/%s.lst", names[i]);
        size_t len;
        char *text = (char *)read_fixture_file(rel, &len);
        bool in_text = false;
        int checked = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            if (strcmp(line, ".text") == 0 || strcmp(line, ".data") == 0)
                in_text = strcmp(line, ".text") == 0;
            unsigned addr;
            char bytes[9], buf[64];
            if (!in_text || line[0] == ' ' || sscanf(line, "%4x  %8s", &addr, bytes) != 2 || strlen(line) < 16 ||
                line[4] != ' ')
                continue;
            uint32_t w = (uint32_t)strtoul(bytes, NULL, 16);
            w = (w >> 24) | ((w >> 8) & 0xFF00u) | ((w << 8) & 0xFF0000u) | (w << 24);   /* bytes -> word */
            if (w == 0)
                continue;   /* <empty> */
            esim_ulp_disasm(w, buf, sizeof buf);
            assert_string_equal(buf, line + 16);
            checked++;
        }
        assert_true(checked >= 5);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_vector_memory_untouched),
        cmocka_unit_test(test_loader_vectors),
        cmocka_unit_test(test_loader_placement),
        cmocka_unit_test(test_alu_add_sub_flags),
        cmocka_unit_test(test_alu_logic_and_shifts),
        cmocka_unit_test(test_alu_logic_ov_choice),
        cmocka_unit_test(test_stage_counter),
        cmocka_unit_test(test_st_ld),
        cmocka_unit_test(test_code_changes_are_seen),
        cmocka_unit_test(test_jump),
        cmocka_unit_test(test_jumpr_jumps),
        cmocka_unit_test(test_wait_and_cycles),
        cmocka_unit_test(test_first_run_and_period),
        cmocka_unit_test(test_sleep_selects_period),
        cmocka_unit_test(test_timer_stop),
        cmocka_unit_test(test_wake),
        cmocka_unit_test(test_run_finishes_past_until),
        cmocka_unit_test(test_guard),
        cmocka_unit_test(test_illegal_ends_run),
        cmocka_unit_test(test_reg_rd_wr),
        cmocka_unit_test(test_tsens),
        cmocka_unit_test(test_adc),
        cmocka_unit_test(test_i2c),
        cmocka_unit_test(test_rtc_gpio_output),
        cmocka_unit_test(test_rtc_gpio_input),
        cmocka_unit_test(test_bare_bus),
        cmocka_unit_test(test_trace_and_power_on),
        cmocka_unit_test(test_disasm),
        cmocka_unit_test(test_disasm_listings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
