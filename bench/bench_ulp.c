/* ULP-FSM emulator speed (docs/ulp.md): emulated instructions per wall
 * second on a compute-bound program, the real-time factor (8 MHz ULP
 * cycles emulated per wall second), and a simulated day of a program that
 * samples the ADC and TSENS every 10 ms, caught up one emulator second at a
 * time as a board would.   build/bench/bench_ulp [rounds] */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp32sim/sensors.h"
#include "esp32sim/ulp.h"
#include "esp32sim/ulp_host.h"

#define MEM_BYTES 8192u
#define SECOND_PS 1000000000000ull
#define DAY_S 86400u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- encodings (reference ulp-isa.md §3) ---- */

static uint32_t alu_i(unsigned sel, unsigned rd, unsigned rs, unsigned imm)
{
    return 7u << 28 | 1u << 25 | sel << 21 | imm << 4 | rs << 2 | rd;
}
static uint32_t alu_r(unsigned sel, unsigned rd, unsigned rs1, unsigned rs2)
{
    return 7u << 28 | sel << 21 | rs2 << 4 | rs1 << 2 | rd;
}
static uint32_t stage_op(unsigned sel, unsigned imm) { return 7u << 28 | 2u << 25 | sel << 21 | imm << 4; }
static uint32_t back(unsigned step) { return 1u << 24 | step << 17; }
static uint32_t jumpr_lt_back(unsigned step, unsigned thr) { return 8u << 28 | 1u << 25 | back(step) | thr; }
static uint32_t jumps_lt_back(unsigned step, unsigned thr) { return 8u << 28 | 2u << 25 | back(step) | thr; }
static uint32_t store(unsigned rval, unsigned raddr, unsigned off) { return 6u << 28 | 4u << 25 | off << 10 | raddr << 2 | rval; }
static uint32_t load(unsigned rd, unsigned raddr, unsigned off) { return 13u << 28 | off << 10 | raddr << 2 | rd; }
#define HALT 0xB0000000u

static void put(uint8_t *mem, uint32_t at, const uint32_t *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned k = 0; k < 4; k++)
            mem[4u * (at + i) + k] = (uint8_t)(words[i] >> (8u * k));
}

/* ---- compute-bound: nested ALU / JUMPR / JUMPS loops ---- */

#define INNER 50000u
#define OUTER 200u

/* The same loops in C, for scale. */
static double native_loops(uint32_t *sink)
{
    volatile uint32_t inner = INNER, outer = OUTER;
    double t0 = now();
    uint16_t r2 = 0;
    for (uint32_t o = 0; o < outer; o++)
        for (uint16_t r0 = 0; r0 < inner;) {
            r0++;
            r2 = (uint16_t)(r2 + r0);
        }
    *sink = r2;
    return now() - t0;
}

static void compute_bound(int rounds)
{
    static uint8_t mem[MEM_BYTES];
    const uint32_t prog[] = {
        stage_op(2, 0),                 /* 0: stage = 0 */
        alu_i(4, 0, 0, 0),              /* 1: r0 = 0 */
        alu_i(0, 0, 0, 1),              /* 2: r0 += 1 */
        alu_r(0, 2, 2, 0),              /* 3: r2 += r0 */
        jumpr_lt_back(2, INNER),        /* 4: r0 < INNER: to 2 */
        stage_op(0, 1),                 /* 5: stage += 1 */
        jumps_lt_back(5, OUTER),        /* 6: stage < OUTER: to 1 */
        HALT,
    };
    put(mem, 0, prog, sizeof prog / sizeof prog[0]);
    esim_ulp_bus bus = {mem, NULL, NULL};
    esim_ulp *u;
    if (esim_ulp_create(&bus, &u) != ESP_OK)
        exit(1);
    /* one run of 20 s of ULP time: past the default guard */
    esim_ulp_options o;
    esim_ulp_get_options(u, &o);
    o.run_guard_cycles = UINT64_MAX / 2;
    esim_ulp_set_options(u, &o);
    double best = 1e30;
    esim_ulp_state s = {0};
    for (int i = 0; i < rounds; i++) {
        esim_ulp_power_on(u, 0);
        esim_ulp_run(u, 0, 0);
        esim_ulp_timing tm;
        esim_ulp_get_timing(u, &tm);
        double t0 = now();
        esim_ulp_run_until(u, tm.next_start_ps + 1, false);
        double t = now() - t0;
        esim_ulp_get_state(u, &s);
        best = t < best ? t : best;
    }
    uint32_t sink;
    double native = native_loops(&sink);
    printf("compute-bound loop: %" PRIu64 " instructions, %" PRIu64 " cycles (%.1f ms of ULP time), best of %d\n",
           s.instructions, s.last_run_cycles, (double)s.last_run_cycles / 8000.0, rounds);
    printf("  %-34s %8.0f M instructions/s\n", "emulated", (double)s.instructions / best / 1e6);
    printf("  %-34s %8.0f x real time (8 MHz cycles per wall second: %.0f M)\n", "real-time factor",
           (double)s.last_run_cycles / 8e6 / best, (double)s.last_run_cycles / best / 1e6);
    printf("  %-34s %8.1f x the native C loop's time (%.1f ms; r2 = %" PRIu32 ", ULP r2 = %u)\n", "vs the same loop in C",
           best / native, native * 1e3, sink, s.regs[2]);
    esim_ulp_destroy(u);
}

/* ---- a day of sampling every 10 ms ---- */

static void sampling_day(void)
{
    static uint8_t mem[MEM_BYTES];
    memset(mem, 0, sizeof mem);
    const uint32_t prog[] = {
        0,                              /* 0: ring index */
        10u << 28 | 10u << 2 | 1u,      /* 1: TSENS r1, 10 */
        5u << 28 | 7u << 2 | 2u,        /* 2: ADC r2, 0, 7 (GPIO 34) */
        alu_i(4, 3, 0, 0),              /* 3: r3 = &index */
        load(0, 3, 0),                  /* 4: r0 = index */
        alu_i(0, 0, 0, 1),              /* 5: r0 += 1 */
        alu_i(2, 0, 0, 63),             /* 6: r0 &= 63 */
        store(0, 3, 0),                 /* 7: index = r0 */
        alu_i(0, 0, 0, 16),             /* 8: r0 += 16: the ring */
        store(2, 0, 0),                 /* 9: ADC sample */
        store(1, 0, 64),                /* 10: temperature, 64 words on */
        HALT,
    };
    put(mem, 0, prog, sizeof prog / sizeof prog[0]);
    esim_sensors sensors;
    esim_sensors_init(&sensors);
    sensors.adc_mv[34] = 1234.0;
    esim_ulp_bus bus = {mem, &sensors, NULL};
    esim_ulp *u;
    if (esim_ulp_create(&bus, &u) != ESP_OK || esim_ulp_set_wakeup_period(u, 0, 10000) != ESP_OK)
        exit(1);
    esim_ulp_run(u, 1, 0);
    double t0 = now();
    for (uint64_t s = 1; s <= DAY_S; s++)
        esim_ulp_run_until(u, s * SECOND_PS, false);
    double t = now() - t0;
    esim_ulp_state st;
    esim_ulp_get_state(u, &st);
    uint32_t index = mem[0] | (uint32_t)mem[1] << 8;
    printf("a day of ADC + TSENS sampling every 10 ms, caught up 1 s at a time (86,400 calls)\n");
    printf("  %-34s %8.2f s wall (%.0f x real time)\n", "24 h of emulator time", t, DAY_S / t);
    printf("  %-34s %8" PRIu64 " runs, %" PRIu64 " instructions, %.0f ns per run\n", "executed", st.runs,
           st.instructions, t / (double)st.runs * 1e9);
    if (index != st.runs % 64)
        printf("  WRONG: ring index %" PRIu32 ", expected %" PRIu64 "\n", index, st.runs % 64);
    esim_ulp_destroy(u);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1)
        rounds = 1;
    compute_bound(rounds);
    sampling_day();
    return 0;
}
