/* esp32sim ulp: ULP-FSM programs (.ulp binaries) on the emulator of
 * docs/ulp.md — run one on a fresh 8 KiB RTC slow memory as the wakeup
 * timer would, trace it instruction by instruction, or list it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "esp32sim/gpio.h"
#include "esp32sim/sensors.h"
#include "esp32sim/ulp.h"
#include "esp32sim/ulp_host.h"

#define MAX_ULP_FILE (16u * 1024u * 1024u)
#define MEM_BYTES 8192u
#define MEM_WORDS (MEM_BYTES / 4u)
#define MAX_RUNS 1000000u

static const char usage_group[] =
    "Usage: esp32sim ulp SUBCOMMAND FILE.ulp [OPTIONS]\n"
    "\n"
    "ULP-FSM co-processor programs (.ulp binaries, as ESP-IDF's ulp_load_binary and\n"
    "MicroPython's esp32.ULP take them).\n"
    "\n"
    "Subcommands:\n"
    "  run FILE.ulp      load it, let the wakeup timer run it, print the final state\n"
    "  trace FILE.ulp    the same, instruction by instruction\n"
    "  disasm FILE.ulp   list it in the assemblers' syntax\n"
    "\n"
    "Run 'esp32sim ulp SUBCOMMAND --help' for details.\n";

#define RUN_OPTIONS_HELP                                                                        \
    "Options:\n"                                                                                \
    "  --load-addr WORDS   where ulp_load_binary puts it, in 32-bit words (default 0)\n"        \
    "  --entry BYTES       the entry point as MicroPython's ULP.run takes it, in bytes\n"       \
    "                      (a multiple of 4; default 0)\n"                                      \
    "  --runs N            let the timer start the program N times (default 1)\n"               \
    "  --cycle-model A|B   A: ESP-IDF's per-instruction table (ALU = 6 cycles, default);\n"     \
    "                      B: 2-cycle fetch after ALU instructions (ALU = 4)\n"                 \
    "  --max-cycles N      a run that has not halted after N cycles is an error\n"              \
    "                      (default 67108864, 8.4 s of ULP time)\n"                             \
    "  --json              machine-readable output\n"                                           \
    "A loader error prints ESP-IDF's error name and exits with status 1.\n"

static const char usage_run[] =
    "Usage: esp32sim ulp run FILE.ulp [OPTIONS]\n"
    "\n"
    "Load FILE.ulp onto a fresh (zeroed) 8 KiB RTC slow memory, call ulp_run, and\n"
    "let the wakeup timer run the program the given number of times (fewer if the\n"
    "program stops the timer). Then print the registers, flags, stage counter,\n"
    "cycles per run and the memory words that changed.\n"
    "JSON: {\"mem\": [2048 words], \"regs\": [r0, r1, r2, r3], \"stage_cnt\": N,\n"
    "\"zero\": bool, \"overflow\": bool, \"wake_count\": N, \"cycles\": [per run]}\n"
    "\n" RUN_OPTIONS_HELP;

static const char usage_trace[] =
    "Usage: esp32sim ulp trace FILE.ulp [OPTIONS]\n"
    "\n"
    "As 'ulp run', printing every instruction as it executes: its word address\n"
    "(decimal), the word, the instruction, then R0-R3, the stage counter, the Z and\n"
    "OV flags and the run's cycle count after it.\n"
    "JSON: one object per instruction and line: {\"run\": N, \"pc\": N, \"word\": N,\n"
    "\"insn\": TEXT, \"regs\": [...], \"stage_cnt\": N, \"zero\": bool,\n"
    "\"overflow\": bool, \"cycles\": N}\n"
    "\n" RUN_OPTIONS_HELP;

static const char usage_disasm[] =
    "Usage: esp32sim ulp disasm FILE.ulp\n"
    "\n"
    "List FILE.ulp: its header, then .text and .data word by word with their byte\n"
    "addresses and bytes, as micropython-esp32-ulp's disassembler does. Operands\n"
    "are printed as encoded (JUMP targets, JUMPR/JUMPS steps and LD/ST offsets in\n"
    "words). Words no assembler emits print as .long; .data words as <non-empty>\n"
    "or <empty>.\n";

/* ---- arguments ---- */

static bool parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

typedef struct {
    const char *file;
    uint32_t load_addr, entry_words;
    uint64_t runs, max_cycles;
    esim_ulp_cycle_model model;
    bool json;
} run_args;

enum { OPT_LOAD, OPT_ENTRY, OPT_RUNS, OPT_MODEL, OPT_MAX, OPT_JSON, OPT_COUNT };

static int number_option(const char *cmd, const cli_option *o, uint64_t max, uint64_t *out)
{
    if (o->value && !parse_u64(o->value, max, out))
        return cli_usage_error(cmd, "--%s: expected a number from 0 to %" PRIu64 ", not '%s'", o->name, max,
                               o->value);
    return CLI_OK;
}

/* Options into `a`; CLI_OK or the exit status. *done after --help. */
static int parse_run_args(const char *cmd, const char *usage, int argc, char **argv, run_args *a, bool *done)
{
    cli_option opts[OPT_COUNT] = {
        {"load-addr", 0, true, NULL}, {"entry", 0, true, NULL}, {"runs", 0, true, NULL},
        {"cycle-model", 0, true, NULL}, {"max-cycles", 0, true, NULL}, {"json", 0, false, NULL},
    };
    char *pos[1];
    int npos, st;
    cli_parse_result r = cli_parse(cmd, argc, argv, opts, OPT_COUNT, pos, 1, &npos);
    *done = r == CLI_HELP;
    if (r != CLI_PARSED)
        return r == CLI_HELP ? cli_print_help(usage) : CLI_USAGE;
    if (npos < 1)
        return cli_usage_error(cmd, "missing FILE.ulp");
    uint64_t load = 0, entry = 0, runs = 1, max_cycles = ESIM_ULP_RUN_GUARD_CYCLES;
    if ((st = number_option(cmd, &opts[OPT_LOAD], 0xFFFFFFFFu, &load)) != CLI_OK ||
        (st = number_option(cmd, &opts[OPT_ENTRY], MEM_BYTES - 4u, &entry)) != CLI_OK ||
        (st = number_option(cmd, &opts[OPT_RUNS], MAX_RUNS, &runs)) != CLI_OK ||
        (st = number_option(cmd, &opts[OPT_MAX], UINT64_MAX / 2u, &max_cycles)) != CLI_OK)
        return st;
    if (entry % 4u != 0)
        return cli_usage_error(cmd, "--entry: %" PRIu64 " is not a multiple of 4 bytes", entry);
    if (max_cycles == 0)
        return cli_usage_error(cmd, "--max-cycles: must be at least 1");
    const char *model = opts[OPT_MODEL].value;
    if (model && strcmp(model, "A") != 0 && strcmp(model, "a") != 0 && strcmp(model, "B") != 0 &&
        strcmp(model, "b") != 0)
        return cli_usage_error(cmd, "--cycle-model: expected A or B, not '%s'", model);
    *a = (run_args){
        .file = pos[0], .load_addr = (uint32_t)load, .entry_words = (uint32_t)(entry / 4u), .runs = runs,
        .max_cycles = max_cycles, .json = opts[OPT_JSON].value != NULL,
        .model = model && (model[0] == 'B' || model[0] == 'b') ? ESIM_ULP_CYCLES_B : ESIM_ULP_CYCLES_A,
    };
    return CLI_OK;
}

static int read_program(const char *cmd, const char *file, uint8_t **data, size_t *len)
{
    int e = cli_read_file(file, MAX_ULP_FILE, data, len);
    if (e)
        return cli_fail(cmd, "%s: %s", file, cli_errno_text(e));
    return CLI_OK;
}

/* ---- a board with just the ULP ---- */

typedef struct {
    uint8_t mem[MEM_BYTES], loaded[MEM_BYTES];
    esim_sensors sensors;
    esim_gpio *gpio;
    esim_ulp *ulp;
} ulp_board;

static int open_board(const char *cmd, const run_args *a, ulp_board **out)
{
    ulp_board *b = calloc(1, sizeof *b);
    if (!b)
        return cli_fail(cmd, "%s", cli_errno_text(ENOMEM));
    esim_sensors_init(&b->sensors);
    esim_ulp_bus bus = {b->mem, &b->sensors, NULL};
    if (esim_gpio_create(&b->gpio) == ESP_OK)
        bus.gpio = b->gpio;
    if (!bus.gpio || esim_ulp_create(&bus, &b->ulp) != ESP_OK) {
        esim_gpio_destroy(b->gpio);
        free(b);
        return cli_fail(cmd, "%s", cli_errno_text(ENOMEM));
    }
    esim_ulp_set_cycle_model(b->ulp, a->model);
    esim_ulp_options o;
    esim_ulp_get_options(b->ulp, &o);
    o.run_guard_cycles = a->max_cycles;
    esim_ulp_set_options(b->ulp, &o);
    *out = b;
    return CLI_OK;
}

static void close_board(ulp_board *b)
{
    if (!b)
        return;
    esim_ulp_destroy(b->ulp);
    esim_gpio_destroy(b->gpio);
    free(b);
}

static int load_program(const char *cmd, const run_args *a, ulp_board *b)
{
    uint8_t *data;
    size_t len;
    int st = read_program(cmd, a->file, &data, &len);
    if (st != CLI_OK)
        return st;
    esp_err_t err = esim_ulp_load_binary(b->ulp, a->load_addr, data, len / 4u);
    free(data);
    if (err) {
        char buf[64];
        return cli_fail(cmd, "%s: %s", a->file, cli_err_text(err, buf, sizeof buf));
    }
    memcpy(b->loaded, b->mem, MEM_BYTES);
    return CLI_OK;
}

/* Lets the timer start up to a->runs runs; their cycle counts go to
 * cycles[]. CLI_FAIL when a run does not halt within --max-cycles. */
static int run_program(const char *cmd, const run_args *a, ulp_board *b, uint64_t *cycles, uint64_t *n)
{
    esim_ulp_run(b->ulp, a->entry_words, 0);
    for (*n = 0; *n < a->runs;) {
        esim_ulp_timing t;
        esim_ulp_get_timing(b->ulp, &t);
        if (t.next_start_ps == UINT64_MAX)
            break;   /* the program stopped the timer */
        esim_ulp_run_until(b->ulp, t.next_start_ps + 1u, false);
        esim_ulp_state s;
        esim_ulp_get_state(b->ulp, &s);
        esim_ulp_get_timing(b->ulp, &t);
        if (t.running)
            return cli_fail(cmd, "%s: run %" PRIu64 " did not HALT within %" PRIu64 " cycles (pc %" PRIu32 ")",
                            a->file, s.runs, a->max_cycles, s.pc);
        cycles[(*n)++] = s.last_run_cycles;
    }
    return CLI_OK;
}

/* ---- output ---- */

static uint32_t word_at(const uint8_t *mem, size_t i)
{
    const uint8_t *p = mem + 4u * i;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void print_json(const ulp_board *b, const uint64_t *cycles, uint64_t n)
{
    esim_ulp_state s;
    esim_ulp_get_state(b->ulp, &s);
    printf("{\"mem\": [");
    for (size_t i = 0; i < MEM_WORDS; i++)
        printf("%s%" PRIu32, i ? ", " : "", word_at(b->mem, i));
    printf("], \"regs\": [%u, %u, %u, %u], \"stage_cnt\": %u, \"zero\": %s, \"overflow\": %s, ", s.regs[0],
           s.regs[1], s.regs[2], s.regs[3], s.stage_cnt, s.zero ? "true" : "false", s.overflow ? "true" : "false");
    printf("\"wake_count\": %" PRIu64 ", \"cycles\": [", s.wake_count);
    for (uint64_t i = 0; i < n; i++)
        printf("%s%" PRIu64, i ? ", " : "", cycles[i]);
    printf("]}\n");
}

static void print_text(const ulp_board *b, const uint64_t *cycles, uint64_t n)
{
    esim_ulp_state s;
    esim_ulp_timing t;
    esim_ulp_get_state(b->ulp, &s);
    esim_ulp_get_timing(b->ulp, &t);
    printf("runs: %" PRIu64 "\ncycles per run:", n);
    for (uint64_t i = 0; i < n; i++)
        printf(" %" PRIu64, cycles[i]);
    printf("\nregisters: r0=0x%04x r1=0x%04x r2=0x%04x r3=0x%04x\n", s.regs[0], s.regs[1], s.regs[2], s.regs[3]);
    printf("stage_cnt: %u  Z: %d  OV: %d  pc: %" PRIu32 "\n", s.stage_cnt, s.zero, s.overflow, s.pc);
    printf("WAKE executed: %" PRIu64 "  timer: %s  sleep period: SLEEP_CYC%" PRIu32 "\n", s.wake_count,
           s.timer_enabled ? "on" : "off", s.period_sel);
    if (t.illegal)
        printf("undefined instructions: %" PRIu64 " (last 0x%08" PRIx32 " at pc %" PRIu32 ", ended the run as HALT)\n",
               t.illegal, t.illegal_word, t.illegal_pc);
    printf("memory words changed:");
    bool any = false;
    for (size_t i = 0; i < MEM_WORDS; i++) {
        if (word_at(b->mem, i) == word_at(b->loaded, i))
            continue;
        printf("\n  [%zu] 0x%08" PRIx32 " (was 0x%08" PRIx32 ")", i, word_at(b->mem, i), word_at(b->loaded, i));
        any = true;
    }
    printf("%s\n", any ? "" : " none");
}

/* ---- run and trace ---- */

typedef struct {
    bool json;
    uint64_t run;
} tracer;

static void trace_step(void *ctx, const esim_ulp_step *st)
{
    tracer *tr = ctx;
    char insn[64];
    esim_ulp_disasm(st->word, insn, sizeof insn);
    if (tr->json) {
        printf("{\"run\": %" PRIu64 ", \"pc\": %" PRIu32 ", \"word\": %" PRIu32 ", \"insn\": \"%s\", "
               "\"regs\": [%u, %u, %u, %u], \"stage_cnt\": %u, \"zero\": %s, \"overflow\": %s, \"cycles\": %" PRIu64
               "}\n",
               st->run, st->pc, st->word, insn, st->regs[0], st->regs[1], st->regs[2], st->regs[3], st->stage_cnt,
               st->zero ? "true" : "false", st->overflow ? "true" : "false", st->cycles);
        return;
    }
    if (st->run != tr->run) {
        tr->run = st->run;
        printf("run %" PRIu64 " at %.3f us\n", st->run, (double)st->time_ps / 1e6);
    }
    printf("%5" PRIu32 "  %08" PRIx32 "  %-26s r0=%04x r1=%04x r2=%04x r3=%04x stage=%-3u Z=%d OV=%d  cycles=%" PRIu64
           "\n",
           st->pc, st->word, insn, st->regs[0], st->regs[1], st->regs[2], st->regs[3], st->stage_cnt, st->zero,
           st->overflow, st->cycles);
}

static int run_or_trace(const char *cmd, const char *usage, bool trace, int argc, char **argv)
{
    run_args a = {0};
    bool done = false;
    int st = parse_run_args(cmd, usage, argc, argv, &a, &done);
    if (st != CLI_OK || done)
        return st;
    ulp_board *b = NULL;
    uint64_t *cycles = calloc(a.runs ? a.runs : 1, sizeof *cycles), n = 0;
    tracer tr = {a.json, 0};
    if (!cycles)
        return cli_fail(cmd, "%s", cli_errno_text(ENOMEM));
    if ((st = open_board(cmd, &a, &b)) == CLI_OK && (st = load_program(cmd, &a, b)) == CLI_OK) {
        if (trace)
            esim_ulp_set_trace(b->ulp, trace_step, &tr);
        st = run_program(cmd, &a, b, cycles, &n);
        fflush(stdout);
    }
    if (st == CLI_OK && !trace)
        a.json ? print_json(b, cycles, n) : print_text(b, cycles, n);
    if (st == CLI_OK && trace && !a.json)
        for (uint64_t i = 0; i < n; i++)
            printf("run %" PRIu64 ": %" PRIu64 " cycles\n", i + 1, cycles[i]);
    close_board(b);
    free(cycles);
    return st;
}

static int ulp_run_cmd(int argc, char **argv)
{
    return run_or_trace("ulp run", usage_run, false, argc, argv);
}

static int ulp_trace_cmd(int argc, char **argv)
{
    return run_or_trace("ulp trace", usage_trace, true, argc, argv);
}

/* ---- disasm ---- */

/* The word at byte `at` of the file, zero-padded past `end`. */
static uint32_t file_word(const uint8_t *data, size_t at, size_t end)
{
    uint32_t w = 0;
    for (unsigned k = 0; k < 4 && at + k < end; k++)
        w |= (uint32_t)data[at + k] << (8u * k);
    return w;
}

static void list_section(const char *name, const uint8_t *data, size_t from, size_t size, size_t addr, bool code)
{
    printf("----------------------------------------\n%s\n", name);
    for (size_t off = 0; off < size; off += 4, addr += 4) {
        uint32_t w = file_word(data, from + off, from + size);
        char text[64];
        if (w == 0)
            snprintf(text, sizeof text, "<empty>");
        else if (!code)
            snprintf(text, sizeof text, "<non-empty>");
        else
            esim_ulp_disasm(w, text, sizeof text);
        printf("%04zx  %02x%02x%02x%02x  %s\n", addr, w & 0xFFu, (w >> 8) & 0xFFu, (w >> 16) & 0xFFu, w >> 24, text);
    }
}

static int ulp_disasm_cmd(int argc, char **argv)
{
    const char *cmd = "ulp disasm";
    char *pos[1];
    int npos;
    cli_parse_result r = cli_parse(cmd, argc, argv, NULL, 0, pos, 1, &npos);
    if (r != CLI_PARSED)
        return r == CLI_HELP ? cli_print_help(usage_disasm) : CLI_USAGE;
    if (npos < 1)
        return cli_usage_error(cmd, "missing FILE.ulp");
    uint8_t *data;
    size_t len;
    int st = read_program(cmd, pos[0], &data, &len);
    if (st != CLI_OK)
        return st;
    esim_ulp_header h;
    esp_err_t err = esim_ulp_parse_header(data, len / 4u, &h);
    if (err) {
        char buf[64];
        free(data);
        return cli_fail(cmd, "%s: %s", pos[0], cli_err_text(err, buf, sizeof buf));
    }
    unsigned data_offset = (unsigned)h.text_offset + h.text_size;
    printf("header\nULP magic    : b'ulp\\x00' (0x%08x)\n", ESIM_ULP_MAGIC);
    printf(".text offset : %u (0x%02x)\n.text size   : %u (0x%02x)\n", h.text_offset, h.text_offset, h.text_size,
           h.text_size);
    printf(".data offset : %u (0x%02x)\n.data size   : %u (0x%02x)\n", data_offset, data_offset, h.data_size,
           h.data_size);
    printf(".bss size    : %u (0x%02x)\n", h.bss_size, h.bss_size);
    list_section(".text", data, h.text_offset, h.text_size, 0, true);
    list_section(".data", data, data_offset, h.data_size, h.text_size, false);
    free(data);
    return CLI_OK;
}

int cmd_ulp(int argc, char **argv)
{
    static const cli_subcommand subs[] = {
        {"run", ulp_run_cmd}, {"trace", ulp_trace_cmd}, {"disasm", ulp_disasm_cmd},
    };
    return cli_dispatch("ulp", usage_group, subs, sizeof subs / sizeof subs[0], argc, argv);
}
