/* esp32sim run / repl: a MicroPython script on the simulated board.
 *
 * The board (flash image, clock, RTC memory) lives in C for the whole run;
 * each boot gets a fresh embedded interpreter with the board's modules, as a
 * real board starts a fresh MicroPython after every reset. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "binding.h"
#include "bootlog.h"
#include "cli_util.h"
#include "commands.h"
#include "esp32sim/vcd.h"

PyMODINIT_FUNC PyInit__esp32sim(void);

#define DEFAULT_FLASH_DIR ".esp32sim"
#define DEFAULT_FLASH_FILE ".esp32sim/flash.bin"

static const char run_usage[] =
    "usage: esp32sim run [--flash IMAGE] [--fs DIR] [--layout default|ota|FILE.csv] [--size SIZE]\n"
    "                    [--main] [--max-boots N] [--nvs-strict] [--no-rollback]\n"
    "                    [--stimulus FILE.json] [--until-ms T] [--realtime]\n"
    "                    [--boot-log] [--boot-trace FILE] [--vcd OUT.vcd] [SCRIPT.py [ARG ...]]\n"
    "\n"
    "Boot the simulated ESP32 as MicroPython boots a board: the bootloader picks the\n"
    "app, NVS is mounted, the filesystem appears at /, boot.py runs, then main.py.\n"
    "SCRIPT runs in place of main.py on the first boot, like `mpremote run`; later\n"
    "boots after machine.reset() run the board's own boot.py and main.py with a fresh\n"
    "interpreter; machine.deepsleep() sleeps on the virtual clock and wakes the board\n"
    "through the bootloader. The run ends when a boot finishes without a reset (the\n"
    "board would sit at its REPL), at the time limit, or when the board sleeps with\n"
    "nothing to wake it. The flash image and the filesystem persist between runs.\n"
    "\n"
    "  --flash IMAGE   flash image file (default: $ESP32SIM_FLASH, else .esp32sim/flash.bin);\n"
    "                  a new one gets the layout's partition table and the firmware image\n"
    "  --fs DIR        host folder that is the board's filesystem (default: IMAGE.fs);\n"
    "                  a new one gets MicroPython's default boot.py\n"
    "  --layout L      partition layout of a new image: default (MicroPython ESP32_GENERIC),\n"
    "                  ota (ESP32_GENERIC-OTA) or a gen_esp32part.py CSV file\n"
    "  --size SIZE     flash size of a new image: 2MB, 4MB (default), 8MB or 16MB\n"
    "  --main          run SCRIPT as main.py on every boot, not only the first\n"
    "  --max-boots N   stop after N boots (default 100; no limit with --until-ms)\n"
    "  --stimulus F    a timeline of pin levels, touch readings, die temperature and\n"
    "                  ADC inputs on the virtual clock (JSON, see docs/stimulus.md)\n"
    "  --until-ms T    end the run when the virtual clock reaches T ms since start\n"
    "  --realtime      pace the virtual clock to wall time (sleeps take real time)\n"
    "  --nvs-strict    NVS changes not committed when the board resets or powers off\n"
    "                  are undone (they are always reported on stderr)\n"
    "  --no-rollback   a bootloader built without app rollback\n"
    "  --boot-log      print the ROM and bootloader lines a real ESP32 prints on its UART\n"
    "  --boot-trace F  append each boot's bootloader decisions to F as JSON lines\n"
    "  --vcd OUT.vcd   write every GPIO level change of the run (all boots) to OUT.vcd as a\n"
    "                  Value Change Dump, for GTKWave, PulseView or `esp32sim wave plot`\n"
    "\n"
    "Exit status: 0 when the last boot ends normally, 1 on an uncaught exception or a\n"
    "board that does not boot, the script's own status for sys.exit(N).\n";

static const char repl_usage[] =
    "usage: esp32sim repl [--flash IMAGE] [--fs DIR] [--layout L] [--size SIZE] [--nvs-strict]\n"
    "                     [--no-rollback] [--stimulus FILE.json] [--until-ms T] [--realtime]\n"
    "                     [--boot-log] [--boot-trace FILE]\n"
    "\n"
    "An interactive prompt on the simulated board, after boot.py and main.py have run:\n"
    "esp32, machine, micropython, os and esp32sim are importable. Options as for\n"
    "`esp32sim run`.\n";

typedef struct {
    const char *flash;
    const char *fs;
    const char *layout;
    const char *size;
    const char *max_boots;
    const char *boot_trace;
    const char *stimulus;
    const char *until_ms;
    const char *vcd;
    uint64_t limit_us;          /* UINT64_MAX without --until-ms */
    bool realtime;
    bool every_boot;
    bool nvs_strict;
    bool no_rollback;
    bool boot_log;
    int script_index;           /* the script's argument (run), or argc when none */
} run_options;

/* ---- options ---- */

static int take_value(const char *cmd, int argc, char **argv, int *i, const char **out)
{
    if (*i + 1 >= argc)
        return cli_usage_error(cmd, "option '%s' needs a value", argv[*i]);
    *out = argv[++*i];
    return CLI_OK;
}

/* --until-ms: a whole number of milliseconds of virtual time. */
static int parse_until(const char *cmd, const char *text, uint64_t *us)
{
    char *end;
    errno = 0;
    unsigned long long ms = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || ms > UINT64_MAX / 1000u)
        return cli_usage_error(cmd, "--until-ms needs a whole number of milliseconds, not '%s'", text);
    *us = ms * 1000u;
    return CLI_OK;
}

static int parse_run_options(const char *cmd, int argc, char **argv, run_options *o, bool wants_script)
{
    memset(o, 0, sizeof *o);
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = CLI_OK;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return -1;
        if (strcmp(a, "--flash") == 0)
            rc = take_value(cmd, argc, argv, &i, &o->flash);
        else if (strcmp(a, "--fs") == 0)
            rc = take_value(cmd, argc, argv, &i, &o->fs);
        else if (strcmp(a, "--boot-trace") == 0)
            rc = take_value(cmd, argc, argv, &i, &o->boot_trace);
        else if (strcmp(a, "--stimulus") == 0)
            rc = take_value(cmd, argc, argv, &i, &o->stimulus);
        else if (strcmp(a, "--until-ms") == 0)
            rc = take_value(cmd, argc, argv, &i, &o->until_ms);
        else if (strcmp(a, "--realtime") == 0)
            o->realtime = true;
        else if (strcmp(a, "--boot-log") == 0)
            o->boot_log = true;
        else if (strcmp(a, "--no-rollback") == 0)
            o->no_rollback = true;
        else if (strcmp(a, "--layout") == 0)
            rc = take_value(cmd, argc, argv, &i, &o->layout);
        else if (strcmp(a, "--size") == 0)
            rc = take_value(cmd, argc, argv, &i, &o->size);
        else if (wants_script && strcmp(a, "--max-boots") == 0)
            rc = take_value(cmd, argc, argv, &i, &o->max_boots);
        else if (wants_script && strcmp(a, "--vcd") == 0)
            rc = take_value(cmd, argc, argv, &i, &o->vcd);
        else if (wants_script && strcmp(a, "--main") == 0)
            o->every_boot = true;
        else if (strcmp(a, "--nvs-strict") == 0)
            o->nvs_strict = true;
        else if (a[0] == '-' && a[1] != '\0')
            return cli_usage_error(cmd, "unknown option '%s'", a);
        else if (wants_script)
            break;
        else
            return cli_usage_error(cmd, "unexpected argument '%s'", a);
        if (rc != CLI_OK)
            return rc;
    }
    o->script_index = i;
    if (o->every_boot && i >= argc)
        return cli_usage_error(cmd, "--main needs a script");
    o->limit_us = UINT64_MAX;
    if (o->until_ms != NULL)
        return parse_until(cmd, o->until_ms, &o->limit_us);
    return CLI_OK;
}

/* ---- the board ---- */

static const char *default_flash_path(void)
{
    const char *env = getenv("ESP32SIM_FLASH");
    if (env != NULL && env[0] != '\0')
        return env;
    if (mkdir(DEFAULT_FLASH_DIR, 0777) != 0 && errno != EEXIST)
        return NULL;
    return DEFAULT_FLASH_FILE;
}

static void close_board(esim_device *dev)
{
    esim_py_board_closing(dev);
    esim_device_close(dev);
}

/* IMAGE.fs beside the flash image, unless --fs says otherwise. */
static char *fs_path_for(const run_options *o, const char *flash_path)
{
    if (o->fs != NULL)
        return strdup(o->fs);
    size_t n = strlen(flash_path);
    char *path = malloc(n + 4);
    if (path != NULL)
        memcpy(path, flash_path, n), memcpy(path + n, ".fs", 4);
    return path;
}

/* The stimulus timeline, the time limit and real-time pacing. */
static int set_up_world(const char *cmd, const run_options *o, esim_device *dev)
{
    char why[512] = "";
    esim_device_set_time_limit_us(dev, o->limit_us);
    if (o->stimulus != NULL &&
        esim_stimulus_load_file(esim_device_stimulus(dev), o->stimulus, why, sizeof why) != ESP_OK)
        return cli_fail(cmd, "bad stimulus: %s", why);
    esim_device_advance_us(dev, 0);   /* what the world does at time 0 */
    esim_device_set_realtime(dev, o->realtime);
    return CLI_OK;
}

static int open_board(const char *cmd, const run_options *o, esim_device **dev)
{
    esim_device_config cfg = {0};
    uint64_t size = 0;
    if (o->size != NULL && (!cli_parse_size(o->size, &size) || !esim_flash_size_supported((size_t)size)))
        return cli_usage_error(cmd, "bad flash size '%s' (2MB, 4MB, 8MB or 16MB)", o->size);
    cfg.flash_path = o->flash ? o->flash : default_flash_path();
    if (cfg.flash_path == NULL)
        return cli_fail(cmd, "%s: cannot create the folder: %s", DEFAULT_FLASH_DIR, cli_errno_text(errno));
    char *fs = fs_path_for(o, cfg.flash_path);
    if (fs == NULL)
        return cli_fail(cmd, "out of memory");
    cfg.fs_path = fs;
    cfg.flash_size = (size_t)size;
    cfg.layout = o->layout;
    cfg.no_rollback = o->no_rollback;
    esim_ptable_error why = {-1, ""};
    esp_err_t err = esim_device_open(&cfg, dev, &why);
    free(fs);
    if (err)
        return cli_fail(cmd, "%s", why.message[0] ? why.message : esim_err_name(err));
    if (o->nvs_strict && esim_py_set_nvs_strict(*dev, true) < 0) {
        close_board(*dev);
        return cli_fail(cmd, "out of memory");
    }
    if (set_up_world(cmd, o, *dev) != CLI_OK) {
        close_board(*dev);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* ---- the interpreter ---- */

static int start_interpreter(int argc, char **argv, esim_device *dev)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 0;
    config.safe_path = 1;
    PyStatus status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        fprintf(stderr, "esp32sim: cannot start the interpreter: %s\n", status.err_msg ? status.err_msg : "?");
        return -1;
    }
    PyObject *ext = PyImport_ImportModule("_esp32sim");
    if (ext == NULL || esim_py_install_time(1) < 0 || esim_py_install_board_sys() < 0) {
        Py_XDECREF(ext);
        PyErr_Print();
        return -1;
    }
    Py_DECREF(ext);
    esim_py_set_board(dev);
    return 0;
}

static void stop_interpreter(void)
{
    esim_py_set_board(NULL);
    Py_FinalizeEx();
}

/* Output goes through the interpreter's own streams, stdout flushed first, so
 * it interleaves with the script's prints as on a board's UART. */
static void flush_stdout(void)
{
    PyObject *out = PySys_GetObject("stdout");
    PyObject *r = out ? PyObject_CallMethod(out, "flush", NULL) : NULL;
    Py_XDECREF(r);
    PyErr_Clear();
}

/* "name: message" as MicroPython prints an exception (empty message kept). */
static void print_exception_line(PyObject *exc)
{
    PyObject *name = PyType_GetName(Py_TYPE(exc));
    PyObject *text = PyObject_Str(exc);
    if (name != NULL && text != NULL)
        PySys_FormatStderr("%U: %U\n", name, text);
    PyErr_Clear();
    Py_XDECREF(name);
    Py_XDECREF(text);
}

/* MicroPython's traceback: one line per frame, no source lines. */
static void print_traceback(PyObject *exc)
{
    flush_stdout();
    PySys_WriteStderr("Traceback (most recent call last):\n");
    for (PyObject *tb = PyException_GetTraceback(exc); tb != NULL && tb != Py_None;) {
        PyTracebackObject *t = (PyTracebackObject *)tb;
        PyCodeObject *code = PyFrame_GetCode(t->tb_frame);
        PySys_FormatStderr("  File \"%U\", line %d, in %U\n", code->co_filename, t->tb_lineno, code->co_name);
        Py_DECREF(code);
        PyObject *next = (PyObject *)t->tb_next;
        Py_XINCREF(next);
        Py_DECREF(tb);
        tb = next;
    }
    print_exception_line(exc);
}

typedef enum { BOOT_DONE, BOOT_RESET, BOOT_PANIC, BOOT_POWER_LOSS, BOOT_FAILED, BOOT_EXIT, BOOT_TIME_LIMIT } boot_outcome;

static boot_outcome exit_status_of(PyObject *exc, int *status)
{
    PyObject *code = PyObject_GetAttrString(exc, "code");
    *status = 0;
    if (code != NULL && PyLong_Check(code))
        *status = (int)PyLong_AsLong(code);
    else if (code != NULL && code != Py_None)
        *status = 1;
    Py_XDECREF(code);
    PyErr_Clear();
    return BOOT_EXIT;
}

/* What an uncaught exception means for the board. */
static boot_outcome classify(PyObject *exc, int *status)
{
    if (PyErr_GivenExceptionMatches(exc, esim_py_Reset))
        return BOOT_RESET;
    if (PyErr_GivenExceptionMatches(exc, esim_py_Panic)) {
        PyObject *text = PyObject_Str(exc);
        flush_stdout();
        if (text != NULL)
            PySys_FormatStderr("%U\n\nRebooting...\n", text);
        Py_XDECREF(text);
        PyErr_Clear();
        *status = 1;
        return BOOT_PANIC;
    }
    if (PyErr_GivenExceptionMatches(exc, esim_py_PowerLoss)) {
        flush_stdout();
        PySys_WriteStderr("esp32sim: the board lost power (power cut); powering it on again\n");
        *status = 1;
        return BOOT_POWER_LOSS;
    }
    if (PyErr_GivenExceptionMatches(exc, esim_py_TimeLimit)) {
        PyObject *text = PyObject_Str(exc);
        flush_stdout();
        if (text != NULL)
            PySys_FormatStderr("esp32sim: %U\n", text);
        Py_XDECREF(text);
        PyErr_Clear();
        return BOOT_TIME_LIMIT;
    }
    if (PyErr_GivenExceptionMatches(exc, PyExc_SystemExit))
        return exit_status_of(exc, status);
    print_traceback(exc);
    *status = 1;
    return BOOT_FAILED;
}

/* The script's folder goes first on sys.path, as `micropython SCRIPT` does. */
static int add_script_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    PyObject *dir = slash ? PyUnicode_DecodeFSDefaultAndSize(path, slash - path) : PyUnicode_FromString("");
    PyObject *sys_path = PySys_GetObject("path");
    int rc = (dir != NULL && sys_path != NULL) ? PyList_Insert(sys_path, 0, dir) : -1;
    const char *dir_text = rc == 0 ? PyUnicode_AsUTF8(dir) : NULL;
    rc = dir_text ? esim_py_set_script_dir(dir_text) : -1;
    Py_XDECREF(dir);
    return rc;
}

static PyObject *run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return PyErr_Format(PyExc_OSError, "%s: %s", path, strerror(errno));
    PyObject *main_dict = PyModule_GetDict(PyImport_AddModule("__main__"));
    PyObject *file = PyUnicode_DecodeFSDefault(path);
    if (file == NULL || PyDict_SetItemString(main_dict, "__file__", file) < 0 || add_script_dir(path) < 0) {
        Py_XDECREF(file);
        fclose(f);
        return NULL;
    }
    Py_DECREF(file);
    return PyRun_FileExFlags(f, path, Py_file_input, main_dict, main_dict, 1, NULL);
}

/* What the exception now set means for the board. */
static boot_outcome outcome_of_exception(int *status)
{
    PyObject *type, *exc, *tb;
    esim_py_heap_guard_pause();   /* the firmware reports without the heap */
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    if (tb != NULL)
        PyException_SetTraceback(exc, tb);
    boot_outcome outcome = classify(exc, status);
    Py_XDECREF(type);
    Py_XDECREF(exc);
    Py_XDECREF(tb);
    esim_py_heap_guard_resume();
    return outcome;
}

/* main.py's part of a boot: the host script in its place, or the board's. */
static boot_outcome run_main(const char *script, PyObject *globals, int *status)
{
    if (script == NULL)
        return esim_py_run_board_file("main.py", globals) < 0 ? outcome_of_exception(status) : BOOT_DONE;
    PyObject *result = run_file(script);
    if (result == NULL)
        return outcome_of_exception(status);
    Py_DECREF(result);
    return BOOT_DONE;
}

/* MicroPython's start-up after the bootloader: boot.py, then main.py only
 * when boot.py ran without an error (ports/esp32/main.c). */
static boot_outcome run_boot_scripts(const char *script, int *status)
{
    PyObject *globals = PyModule_GetDict(PyImport_AddModule("__main__"));
    *status = 0;
    if (globals == NULL || esim_py_use_board_builtins(globals) < 0)
        return outcome_of_exception(status);
    if (esim_py_run_board_file("boot.py", globals) < 0)
        return outcome_of_exception(status);
    boot_outcome outcome = run_main(script, globals, status);
    esim_py_heap_unlock_all();   /* the soft reset's gc_init */
    return outcome;
}

static int script_readable(const char *cmd, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return cli_fail(cmd, "%s: %s", path, cli_errno_text(errno));
    fclose(f);
    return CLI_OK;
}

/* What the board shows before the firmware starts: the UART lines with
 * --boot-log, the decisions in the trace file with --boot-trace. */
static int report_boot(esim_device *dev, const run_options *o, FILE *trace)
{
    fflush(stdout);
    if (o->boot_log)
        cli_print_boot_log(dev, stdout);
    if (trace != NULL && cli_write_boot_trace(dev, trace) < 0)
        return cli_fail("run", "%s: cannot write the boot trace: %s", o->boot_trace, cli_errno_text(errno));
    if (esim_device_fs_created(dev) && esim_device_boot_count(dev) == 1)
        printf("Performing initial setup\n");
    fflush(stdout);
    return CLI_OK;
}

static int boot_loop(esim_device *dev, const run_options *o, int argc, char **argv, long max_boots, FILE *trace)
{
    bool has_script = o->script_index < argc;
    const char *script = has_script ? argv[o->script_index] : NULL;
    int status = 0;
    bool failed = false;
    for (long boot = 1; boot <= max_boots; boot++) {
        if (esim_device_boot_error(dev) != NULL)
            return cli_fail("run", "the board did not boot: %s", esim_device_boot_error(dev));
        if (report_boot(dev, o, trace) != CLI_OK)
            return CLI_FAIL;
        if (esim_device_time_limit_reached(dev)) {   /* the limit fell inside the boot */
            fprintf(stderr, "esp32sim: time limit reached at %llu ms, the board is booting\n",
                    (unsigned long long)(esim_device_time_limit_us(dev) / 1000u));
            break;
        }
        int pargc = has_script ? argc - o->script_index : 1;
        char *board_argv[] = {"", NULL};
        if (start_interpreter(pargc, has_script ? argv + o->script_index : board_argv, dev) < 0)
            return CLI_FAIL;
        bool runs_script = boot == 1 || o->every_boot || !has_script;
        boot_outcome outcome = run_boot_scripts(runs_script ? script : NULL, &status);
        stop_interpreter();
        /* A crash or power cut fails the run unless the script later runs
         * to its end (--main, or the board's own main.py without SCRIPT). */
        if (outcome == BOOT_PANIC || outcome == BOOT_POWER_LOSS)
            failed = true;
        else if ((outcome == BOOT_DONE || outcome == BOOT_TIME_LIMIT) && runs_script)
            failed = false;
        if (outcome == BOOT_POWER_LOSS && esim_device_power_cycle(dev) == ESP_OK)
            continue;
        if (outcome != BOOT_RESET && outcome != BOOT_PANIC)
            break;
    }
    return status != 0 ? status : failed ? CLI_FAIL : CLI_OK;
}

/* --vcd: the board's level record, which spans every boot of the run, up
 * to the world's time now (docs/vcd.md). */
static int write_vcd(esim_device *dev, const char *path, FILE *f)
{
    char date[64] = "";
    time_t now = time(NULL);
    struct tm *tm = localtime(&now);
    if (tm != NULL)
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", tm);
    esim_vcd_header header = {date[0] ? date : NULL, "esp32sim " CLI_VERSION};
    uint64_t us = esim_device_world_time_us(dev);
    uint64_t end_ps = us < UINT64_MAX / 1000000u ? us * 1000000u : UINT64_MAX;
    esp_err_t err = esim_vcd_write_gpio(f, esim_device_gpio(dev), end_ps, &header);
    if (fclose(f) != 0 || err != ESP_OK)
        return cli_fail("run", "%s: cannot write the VCD: %s", path, cli_errno_text(errno));
    return CLI_OK;
}

static FILE *open_trace(const run_options *o)
{
    if (o->boot_trace == NULL)
        return NULL;
    FILE *f = fopen(o->boot_trace, "a");
    if (f == NULL)
        cli_fail("run", "%s: %s", o->boot_trace, cli_errno_text(errno));
    return f;
}

int cmd_run(int argc, char **argv)
{
    run_options o;
    int rc = parse_run_options("run", argc, argv, &o, true);
    if (rc < 0)
        return cli_print_help(run_usage);
    if (rc != CLI_OK)
        return rc;
    long max_boots = o.until_ms != NULL ? LONG_MAX : 100;
    if (o.max_boots != NULL) {
        char *end;
        max_boots = strtol(o.max_boots, &end, 10);
        if (*end != '\0' || max_boots < 1)
            return cli_usage_error("run", "--max-boots needs a whole number of at least 1");
    }
    if (o.script_index < argc && script_readable("run", argv[o.script_index]) != CLI_OK)
        return CLI_FAIL;
    FILE *trace = open_trace(&o);
    if (o.boot_trace != NULL && trace == NULL)
        return CLI_FAIL;
    esim_device *dev = NULL;
    if ((rc = open_board("run", &o, &dev)) == CLI_OK) {
        FILE *vcd = o.vcd != NULL ? fopen(o.vcd, "w") : NULL;
        if (o.vcd != NULL && vcd == NULL)
            rc = cli_fail("run", "%s: %s", o.vcd, cli_errno_text(errno));
        if (rc == CLI_OK) {
            PyImport_AppendInittab("_esp32sim", PyInit__esp32sim);
            rc = boot_loop(dev, &o, argc, argv, max_boots, trace);
        }
        if (vcd != NULL && write_vcd(dev, o.vcd, vcd) != CLI_OK && rc == CLI_OK)
            rc = CLI_FAIL;
        close_board(dev);
    }
    if (trace != NULL)
        fclose(trace);
    return rc;
}

/* ---- repl ---- */

static const char repl_prelude[] =
    "import sys, esp32sim\n"
    "def _esp32sim_hook(t, v, tb, _default=sys.excepthook):\n"
    "    if issubclass(t, (esp32sim.Reset, esp32sim.Panic)):\n"
    "        if issubclass(t, esp32sim.Panic): print(v)\n"
    "        print('esp32sim: the board was reset; the session starts afresh')\n"
    "        g = sys.modules['__main__'].__dict__\n"
    "        for k in [k for k in g if not k.startswith('__')]: del g[k]\n"
    "    else:\n"
    "        _default(t, v, tb)\n"
    "sys.excepthook = _esp32sim_hook\n"
    "del _esp32sim_hook\n"
    "class _esp32sim_ps1:\n"
    "    def __str__(self, _unlock=__import__('_esp32sim')._heap_unlock_all):\n"
    "        _unlock()\n"
    "        return '>>> '\n"
    "sys.ps1 = _esp32sim_ps1()\n"
    "del _esp32sim_ps1\n";

/* The prelude is the simulator's, not board code: it runs with CPython's
 * built-ins, so its `import sys` is CPython's sys (board code gets the
 * firmware's view, which has no excepthook). */
static int run_repl_prelude(void)
{
    PyObject *builtins = PyImport_ImportModuleLevel("builtins", NULL, NULL, NULL, 0);
    PyObject *globals = builtins ? PyDict_New() : NULL;
    PyObject *r = NULL;
    if (globals != NULL && PyDict_SetItemString(globals, "__builtins__", builtins) == 0)
        r = PyRun_String(repl_prelude, Py_file_input, globals, globals);
    if (r == NULL)
        PyErr_Print();
    Py_XDECREF(r);
    Py_XDECREF(globals);
    Py_XDECREF(builtins);
    return r ? 0 : -1;
}

/* The interactive prompt, then the interpreter stops. */
static int prompt(esim_device *dev)
{
    const char *path = esim_flash_path(esim_device_flash(dev));
    printf("esp32sim %s on a simulated ESP32 (flash: %s)\nType Ctrl-D to leave.\n", CLI_VERSION, path);
    int rc = run_repl_prelude() == 0 && PyRun_InteractiveLoop(stdin, "<stdin>") == 0 ? CLI_OK
                                                                                                   : CLI_FAIL;
    stop_interpreter();
    return rc;
}

/* Boots up to the prompt (boot.py, main.py; resets reboot), then the
 * prompt. A reset at the prompt starts the session afresh (see the
 * prelude). */
static int repl_session(esim_device *dev, const run_options *o, FILE *trace)
{
    PyImport_AppendInittab("_esp32sim", PyInit__esp32sim);
    char *pargv[] = {"esp32sim", NULL};
    for (int boot = 1; boot <= 100; boot++) {
        if (esim_device_boot_error(dev) != NULL)
            return cli_fail("repl", "the board did not boot: %s", esim_device_boot_error(dev));
        if (report_boot(dev, o, trace) != CLI_OK || start_interpreter(1, pargv, dev) < 0)
            return CLI_FAIL;
        int status = 0;
        boot_outcome outcome = run_boot_scripts(NULL, &status);
        if (outcome == BOOT_DONE || outcome == BOOT_FAILED)
            return prompt(dev);
        stop_interpreter();
        if (outcome == BOOT_POWER_LOSS)
            esim_device_power_cycle(dev);
        else if (outcome != BOOT_RESET && outcome != BOOT_PANIC)
            return status;
    }
    return cli_fail("repl", "the board kept resetting during boot.py/main.py");
}

int cmd_repl(int argc, char **argv)
{
    run_options o;
    int rc = parse_run_options("repl", argc, argv, &o, false);
    if (rc < 0)
        return cli_print_help(repl_usage);
    if (rc != CLI_OK)
        return rc;
    FILE *trace = open_trace(&o);
    if (o.boot_trace != NULL && trace == NULL)
        return CLI_FAIL;
    esim_device *dev = NULL;
    if ((rc = open_board("repl", &o, &dev)) == CLI_OK) {
        rc = repl_session(dev, &o, trace);
        close_board(dev);
    }
    if (trace != NULL)
        fclose(trace);
    return rc;
}
