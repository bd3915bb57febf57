/* esp32sim binding — MicroPython's additions to the `time` module (extmod/
 * modtime.c, ports/esp32/mphalport.c), added to CPython's own time module and
 * driven by the current board's virtual clock:
 *   sleep_ms, sleep_us      advance the clock at once
 *   ticks_ms, ticks_us      time since boot, wrapped at 2**30
 *   ticks_cpu               CPU cycles since boot, wrapped at 2**30
 *   ticks_add, ticks_diff   wrap-around arithmetic on those values
 * Each ticks_* read costs 1 µs of virtual time, so a loop polling the clock
 * always gets somewhere. With board_mode (the esp32sim command) time.sleep,
 * time.time and time.time_ns follow the board too: time.time() counts
 * seconds of RTC time since 2000-01-01, the ESP32 port's epoch, the RTC
 * starting from there at power-on. */
#include "binding.h"

#include <math.h>

/* MICROPY_PY_TIME_TICKS_PERIOD: MP_SMALL_INT_POSITIVE_MASK + 1 with 32-bit
 * machine words. */
#define TICKS_PERIOD (UINT32_C(1) << 30)
#define TICKS_MASK (TICKS_PERIOD - 1)
#define TICKS_READ_COST_US 1

static Py_ssize_t arg_count(PyObject *args)
{
    return PyTuple_GET_SIZE(args);
}

/* ---- sleeping ---- */

int esim_py_let_time_pass(esim_device *board, uint64_t us)
{
    if (esim_device_advance_us(board, us) == ESP_ERR_TIMEOUT) {
        esim_py_time_limit(board, "");
        return -1;
    }
    return esim_py_run_pending_irqs();
}

/* sleep_ms / sleep_us: advance the board's clock at once; zero or a
 * negative count sleeps not at all, as on the board. */
static PyObject *sleep_units(PyObject *args, PyObject *kwargs, uint64_t unit_us)
{
    if (esim_py_check_num(arg_count(args), kwargs, 1, 1, 0))
        return NULL;
    int32_t count;
    if (esim_py_get_int(PyTuple_GET_ITEM(args, 0), &count))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    if (count > 0 && esim_py_let_time_pass(board, (uint64_t)count * unit_us) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *time_sleep_ms(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return sleep_units(args, kwargs, 1000u);
}

static PyObject *time_sleep_us(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return sleep_units(args, kwargs, 1u);
}

/* ---- reading the clock ---- */

typedef enum { TICKS_MS, TICKS_US, TICKS_CPU } ticks_kind;

static uint64_t ticks_of(const esim_device *board, ticks_kind kind)
{
    uint64_t us = esim_device_time_us(board);
    switch (kind) {
    case TICKS_MS:
        return us / 1000u;
    case TICKS_US:
        return us;
    default:   /* the CCOUNT register, at the current clock */
        return us * (esim_device_cpu_freq(board) / 1000000u);
    }
}

static PyObject *read_ticks(PyObject *args, PyObject *kwargs, ticks_kind kind)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    uint32_t ticks = (uint32_t)(ticks_of(board, kind) & TICKS_MASK);
    if (esim_py_let_time_pass(board, TICKS_READ_COST_US) < 0)
        return NULL;
    return PyLong_FromUnsignedLong(ticks);
}

static PyObject *time_ticks_ms(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return read_ticks(args, kwargs, TICKS_MS);
}

static PyObject *time_ticks_us(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return read_ticks(args, kwargs, TICKS_US);
}

static PyObject *time_ticks_cpu(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return read_ticks(args, kwargs, TICKS_CPU);
}

/* ---- ticks arithmetic ----
 * On the board the ticks arguments are taken as small ints unchecked; here
 * they must be ints (truncated to a machine word), else TypeError. */

static PyObject *time_ticks_add(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(arg_count(args), kwargs, 2, 2, 0))
        return NULL;
    uint32_t ticks;
    int32_t delta;
    if (esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 0), &ticks) ||
        esim_py_get_int(PyTuple_GET_ITEM(args, 1), &delta))
        return NULL;
    /* |delta| must stay below half a period so that ticks_diff can undo it:
     * unsigned, delta + P/2 - 1 < P - 1. */
    if ((uint32_t)delta + TICKS_PERIOD / 2 - 1 >= TICKS_PERIOD - 1) {
        PyErr_SetString(PyExc_OverflowError, "ticks interval overflow");
        return NULL;
    }
    return PyLong_FromUnsignedLong((ticks + (uint32_t)delta) & TICKS_MASK);
}

static PyObject *time_ticks_diff(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(arg_count(args), kwargs, 2, 2, 0))
        return NULL;
    uint32_t end, start;
    if (esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 0), &end) ||
        esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 1), &start))
        return NULL;
    /* Shift forward by half a period, wrap, shift back: a signed result in
     * [-P/2, P/2). */
    uint32_t shifted = (end - start + TICKS_PERIOD / 2) & TICKS_MASK;
    return PyLong_FromLong((long)shifted - (long)(TICKS_PERIOD / 2));
}

/* ---- board mode: sleep, time, time_ns ---- */

static int long_is_negative(PyObject *obj)
{
    PyObject *zero = PyLong_FromLong(0);
    if (zero == NULL)
        return -1;
    int negative = PyObject_RichCompareBool(obj, zero, Py_LT);
    Py_DECREF(zero);
    return negative;
}

/* mp_obj_get_float: int, bool or float (single precision on the ESP32). */
static int get_float(PyObject *obj, float *out)
{
    if (PyFloat_Check(obj)) {
        *out = (float)PyFloat_AS_DOUBLE(obj);
        return 0;
    }
    if (!PyLong_Check(obj)) {
        PyObject *name = PyType_GetName(Py_TYPE(obj));
        if (name != NULL) {
            PyErr_Format(PyExc_TypeError, "can't convert %U to float", name);
            Py_DECREF(name);
        }
        return -1;
    }
    double d = PyLong_AsDouble(obj);
    if (d == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();   /* too big for a double: infinite, as MicroPython makes it */
        int negative = long_is_negative(obj);
        if (negative < 0)
            return -1;
        d = negative ? -HUGE_VAL : HUGE_VAL;
    }
    *out = (float)d;
    return 0;
}

/* (mp_uint_t)(1000 * seconds), in single precision; negative or NaN sleeps
 * nothing, too long sleeps the longest a machine word holds. */
static uint64_t sleep_ms_of(float seconds)
{
    float ms = 1000.0f * seconds;
    if (!(ms > 0.0f))
        return 0;
    if (ms >= 4294967296.0f)
        return UINT32_MAX;
    return (uint64_t)(uint32_t)ms;
}

static PyObject *time_sleep(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(arg_count(args), kwargs, 1, 1, 0))
        return NULL;
    float seconds;
    if (get_float(PyTuple_GET_ITEM(args, 0), &seconds))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    if (esim_py_let_time_pass(board, sleep_ms_of(seconds) * 1000u) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *time_time(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    return PyLong_FromUnsignedLongLong(esim_device_rtc_clock_us(board) / 1000000u);
}

static PyObject *time_time_ns(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    return PyLong_FromUnsignedLongLong(esim_device_rtc_clock_us(board) * 1000u);
}

/* ---- installing them ---- */

#define TIME_FN(name, doc) \
    {#name, (PyCFunction)(void (*)(void))time_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef ticks_functions[] = {
    TIME_FN(sleep_ms, "sleep_ms(ms): advance the board's clock by ms milliseconds."),
    TIME_FN(sleep_us, "sleep_us(us): advance the board's clock by us microseconds."),
    TIME_FN(ticks_ms, "ticks_ms(): milliseconds since boot, wrapped at 2**30."),
    TIME_FN(ticks_us, "ticks_us(): microseconds since boot, wrapped at 2**30."),
    TIME_FN(ticks_cpu, "ticks_cpu(): CPU cycles since boot, wrapped at 2**30."),
    TIME_FN(ticks_add, "ticks_add(ticks, delta): ticks moved by delta, wrapped."),
    TIME_FN(ticks_diff, "ticks_diff(end, start): signed distance between two ticks values."),
    {NULL, NULL, 0, NULL},
};

static PyMethodDef board_clock_functions[] = {
    TIME_FN(sleep, "sleep(seconds): advance the board's clock."),
    TIME_FN(time, "time(): seconds since 2000-01-01 on the board's RTC."),
    TIME_FN(time_ns, "time_ns(): nanoseconds since 2000-01-01 on the board's RTC."),
    {NULL, NULL, 0, NULL},
};

static int add_functions(PyObject *module, PyMethodDef *defs)
{
    PyObject *module_name = PyModule_GetNameObject(module);
    if (module_name == NULL)
        return -1;
    int err = 0;
    for (PyMethodDef *def = defs; def->ml_name != NULL && !err; def++) {
        PyObject *fn = PyCFunction_NewEx(def, NULL, module_name);
        err = fn == NULL || PyModule_AddObjectRef(module, def->ml_name, fn) < 0;
        Py_XDECREF(fn);
    }
    Py_DECREF(module_name);
    return err ? -1 : 0;
}

int esim_py_add_board_time_functions(PyObject *time)
{
    return add_functions(time, ticks_functions) < 0 || add_functions(time, board_clock_functions) < 0 ||
                   add_functions(time, esim_py_time_calendar_functions()) < 0
               ? -1
               : 0;
}

int esim_py_install_time(int board_mode)
{
    PyObject *time = PyImport_ImportModule("time");
    if (time == NULL)
        return -1;
    int err = add_functions(time, ticks_functions);
    if (!err && board_mode)
        err = add_functions(time, board_clock_functions);
    Py_DECREF(time);
    return err;
}
