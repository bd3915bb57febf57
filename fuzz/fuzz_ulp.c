/* libFuzzer target for the ULP-FSM emulator (docs/ulp.md).
 *
 * An input that starts with the ULP magic is a .ulp binary: it is loaded at
 * word 0 and run from the first non-zero word of its .text (so the vector
 * programs are good seeds). Otherwise bytes 0-3 are a header: bit 0 of
 * byte 0 chooses
 *  - 0: bytes 4.. are a binary loaded at word byte 1 + 256 * bit 1 of
 *    byte 0 (0..511: all RESERVE_MEM allows and one word beyond);
 *  - 1: bytes 4.. are the raw 8 KiB RTC slow memory (the rest zero);
 * and the run starts at word byte 2 + 256 * (byte 0 >> 2), on 11 bits.
 * Byte 3 picks the cycle model, the open-question options, a trace and
 * a few host register writes. Every run is under a cycle guard, then goes
 * on for 1 ms of emulator time: no input can hang the harness.
 *
 * Checked: the loader returns only its documented codes and agrees with
 * esim_ulp_parse_header; a rejected binary leaves memory untouched and an
 * accepted one touches only its own words and .bss; the state stays in
 * range; each traced step has a PC in range and a disassembly that fits,
 * and cycle counts only grow. Any breach aborts. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/gpio.h"
#include "esp32sim/sensors.h"
#include "esp32sim/ulp.h"
#include "esp32sim/ulp_host.h"

#define MEM_BYTES 8192u
#define FILL 0xA5u
#define GUARD_CYCLES 200000u
#define MS_PS 1000000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_ulp: %s\n", what);
    abort();
}

typedef struct {
    uint64_t steps, last_cycles, run;
} watcher;

static uint32_t mem_word(const uint8_t *mem, uint32_t i)
{
    const uint8_t *p = mem + 4u * i;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void watch_step(void *ctx, const esim_ulp_step *s)
{
    watcher *w = ctx;
    char text[48];
    if (s->pc >= 2048)
        die("PC out of range");
    int n = esim_ulp_disasm(s->word, text, sizeof text);
    if (n <= 0 || (size_t)n >= sizeof text || strlen(text) != (size_t)n)
        die("a disassembly that does not fit");
    if (s->run == w->run && s->cycles <= w->last_cycles)
        die("cycles did not grow");
    w->run = s->run;
    w->last_cycles = s->cycles;
    w->steps++;
}

static bool documented(esp_err_t err)
{
    return err == ESP_OK || err == ESP_ERR_INVALID_SIZE || err == ESP_ERR_INVALID_ARG ||
           err == ESP_ERR_NOT_SUPPORTED;
}

/* Loads `bin` at `load`; checks what the loader wrote. */
static bool load(esim_ulp *u, uint8_t *mem, uint32_t load_words, const uint8_t *bin, size_t len)
{
    memset(mem, FILL, MEM_BYTES);
    esim_ulp_header h;
    esp_err_t parsed = esim_ulp_parse_header(bin, len / 4, &h);
    esp_err_t err = esim_ulp_load_binary(u, load_words, bin, len / 4);
    if (!documented(err) || !documented(parsed))
        die("an undocumented loader error");
    if (err == ESP_OK && parsed != ESP_OK)
        die("loaded what the header check rejects");
    size_t from = 0, to = 0;
    if (err == ESP_OK) {
        from = (size_t)load_words * 4u;
        to = from + h.text_size + h.data_size + h.bss_size;
        if (memcmp(mem + from, bin + h.text_offset, (size_t)h.text_size + h.data_size) != 0)
            die("sections not copied");
        for (size_t i = from + h.text_size + h.data_size; i < to && i < MEM_BYTES; i++)
            if (mem[i] != 0)
                die(".bss not zeroed");
    }
    for (size_t i = 0; i < MEM_BYTES; i++)
        if ((i < from || i >= to) && mem[i] != FILL)
            die("the loader wrote outside the program");
    return err == ESP_OK;
}

static void configure(esim_ulp *u, uint8_t flags, const uint8_t *pokes, size_t npokes)
{
    esim_ulp_options o;
    esim_ulp_get_options(u, &o);
    o.st_value_reg_index = flags & 2u;
    o.logic_clears_ov = flags & 4u;
    o.i2c_shift = flags & 8u;
    o.wake_cycles = flags & 16u ? 85 : 6;
    o.run_guard_cycles = GUARD_CYCLES;
    esim_ulp_set_options(u, &o);
    esim_ulp_set_cycle_model(u, flags & 1u ? ESIM_ULP_CYCLES_B : ESIM_ULP_CYCLES_A);
    esim_ulp_set_soc_deep_sleep(u, flags & 32u);
    esim_ulp_i2c_attach(u, 0x48);
    esim_ulp_i2c_set_reg(u, 0x48, 1, 0x5A);
    esim_ulp_i2c_queue_read(u, 0x48, 2, 0x77);
    /* host writes: 5 bytes each, index (10 bits) and value */
    for (size_t i = 0; i + 5 <= npokes && i < 40; i += 5) {
        uint32_t index = (pokes[i] | (uint32_t)pokes[i + 1] << 8) & 0x3FFu;
        uint32_t value = mem_word(pokes + i + 1, 0);
        if (index != 0x006)   /* the timer bit is the harness's */
            esim_ulp_reg_write(u, index, value);
    }
}

static void run(esim_ulp *u, uint32_t entry, bool traced)
{
    watcher w = {0, 0, 0};
    if (traced)
        esim_ulp_set_trace(u, watch_step, &w);
    esim_ulp_run(u, entry, 0);
    for (int i = 0; i < 3; i++) {
        esim_ulp_timing t;
        esim_ulp_get_timing(u, &t);
        if (t.next_start_ps == UINT64_MAX && !t.running)
            break;
        uint64_t until = t.running ? t.now_ps + MS_PS : t.next_start_ps + 1u;
        esim_ulp_run_until(u, until, i == 2);
        esim_ulp_state s;
        esim_ulp_get_state(u, &s);
        if (s.pc >= 2048 || s.period_sel > 4)
            die("state out of range");
        esim_ulp_get_timing(u, &t);
        if (t.running && s.last_run_cycles < GUARD_CYCLES)
            die("a paused run before the guard");
    }
    esim_ulp_state s;
    esim_ulp_get_state(u, &s);
    if (traced && w.steps != s.instructions)
        die("trace and instruction count differ");
}

static uint32_t first_code_word(const uint8_t *bin, size_t len)
{
    esim_ulp_header h;
    if (esim_ulp_parse_header(bin, len / 4, &h) != ESP_OK)
        return 0;
    for (uint32_t off = 0; off + 4 <= h.text_size; off += 4)
        if (mem_word(bin + h.text_offset + off, 0) != 0)
            return off / 4;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t mem[MEM_BYTES];
    esim_sensors sensors;
    esim_gpio *gpio = NULL;
    esim_ulp *u = NULL;
    if (size < 4 || size > 3 * MEM_BYTES)
        return 0;
    esim_sensors_init(&sensors);
    sensors.die_c = data[size - 1];
    for (int pin = 0; pin < ESIM_GPIO_COUNT; pin++)
        sensors.adc_mv[pin] = 13.0 * pin;
    if (esim_gpio_create(&gpio) != ESP_OK)
        return 0;
    esim_ulp_bus bus = {mem, &sensors, gpio};
    if (esim_ulp_create(&bus, &u) != ESP_OK)
        die("create failed");
    bool binary = mem_word(data, 0) == ESIM_ULP_MAGIC || (data[0] & 1u) == 0;
    const uint8_t *body = mem_word(data, 0) == ESIM_ULP_MAGIC ? data : data + 4;
    size_t body_len = size - (size_t)(body - data);
    uint8_t flags = body == data ? 0 : data[3];
    uint32_t entry = body == data ? first_code_word(data, size) : (data[2] | (uint32_t)(data[0] >> 2) << 8) & 0x7FFu;
    uint32_t load_words = body == data ? 0 : data[1] | (uint32_t)(data[0] >> 1 & 1u) << 8;
    bool ready = true;
    if (binary) {
        ready = load(u, mem, load_words, body, body_len);
    } else {
        memset(mem, 0, MEM_BYTES);
        memcpy(mem, body, body_len < MEM_BYTES ? body_len : MEM_BYTES);
    }
    if (ready) {
        configure(u, flags, body, body_len);
        run(u, entry, flags & 64u);
    }
    esim_ulp_destroy(u);
    esim_gpio_destroy(gpio);
    return 0;
}
