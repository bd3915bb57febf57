/* esp32sim binding — esp32.RMT as MicroPython up to v1.26 has it, on the
 * legacy ESP-IDF RMT driver (reference/micropython-esp32.md §4.2,
 * docs/rmt.md): transmit only, one 64-item memory block per channel, idle
 * output always on, channel 7 kept for machine.bitstream by default.
 *
 * The transmissions run on the board's virtual clock (esp32sim/rmt.h).
 * Calls that block on the board (write_pulses after an earlier sequence,
 * wait_done with a timeout) move the clock; a wait nothing can end (a loop
 * that goes on) raises esp32sim.TimeLimit instead of hanging. Objects
 * belong to one boot of one board: after a reset, a soft reset (where the
 * firmware's finalisers deinit them) or on another board they act as
 * deinitialized. Dropping the last reference does not deinit the channel,
 * as on the board while the garbage collector has not run. */
#include "binding.h"

#include <stdbool.h>
#include <stdint.h>

#include "esp32sim/rmt.h"

#define LAST_TX_CHANNEL (ESIM_RMT_CHANNELS - 1)
#define LOOP_PULSES_MAX 126          /* 63 items and the end marker in one block */
#define TICK_MS 10u                  /* FreeRTOS tick: CONFIG_FREERTOS_HZ 100, IDF's default */
#define PS_PER_US UINT64_C(1000000)
#define PS_PER_MS UINT64_C(1000000000)
#define WAITS_FOR_LOOP "the board waits for an RMT loop"

/* Which boot of which board an object belongs to (as machine_pin.c). */
typedef struct {
    PyObject_HEAD
    esim_py_boot_key boot;
    int channel;
    int pin;              /* -1 once deinitialized */
    uint8_t clock_div;
    bool loop_en;         /* loop() asked for, applied by write_pulses */
    bool carrier_level;
    int steady;           /* -1; else the level the carrier level shows (a carrier count of 0) */
} rmt_object;

/* What the firmware keeps: esp32_rmt_bitstream_channel_id (in .data, so a
 * hard reset restores 7, a soft reset keeps it) and the channels objects
 * installed in this boot (their finalisers free them at a soft reset). */
static struct {
    PyTypeObject *type;
    bool keyed;
    esim_py_boot_key boot;
    int bitstream;
    bool made[ESIM_RMT_CHANNELS];
} reg = {.bitstream = LAST_TX_CHANNEL};

/* ---- following the board ---- */

static void follow_board(esim_device *dev)
{
    esim_py_boot_key now = esim_py_boot_of(dev);
    if (reg.keyed && esim_py_same_boot(reg.boot, now))
        return;
    bool soft_reset = reg.keyed && reg.boot.generation == now.generation && reg.boot.boot_count == now.boot_count;
    for (int ch = 0; ch < ESIM_RMT_CHANNELS; ch++) {
        if (soft_reset && reg.made[ch] && esim_rmt_installed(esim_device_rmt(dev), ch))
            esim_rmt_uninstall(esim_device_rmt(dev), esim_device_gpio(dev), ch);
        reg.made[ch] = false;
    }
    if (!soft_reset)
        reg.bitstream = LAST_TX_CHANNEL;
    reg.keyed = true;
    reg.boot = now;
}

/* The current board, followed; NULL with an exception set. */
static esim_device *board(void)
{
    esim_device *dev = esim_py_board();
    if (dev != NULL)
        follow_board(dev);
    return dev;
}

/* The channel number the object's calls act on: its own while it belongs
 * to this boot (deinitialized or not: the driver goes by number), -1 for a
 * stale object, whose channel is gone. Call after board(). */
static int channel_of(const rmt_object *self)
{
    return esim_py_same_boot(self->boot, reg.boot) ? self->channel : -1;
}

static bool live(const rmt_object *self)
{
    return self->pin >= 0 && channel_of(self) >= 0;
}

static bool driver_installed(esim_device *dev, int ch)
{
    return ch >= 0 && esim_rmt_installed(esim_device_rmt(dev), ch);
}

int esim_py_rmt_bitstream_channel(void)
{
    esim_device *dev = esim_py_current_board_or_null();
    if (dev != NULL)
        follow_board(dev);
    return reg.bitstream;
}

/* ---- the clock ---- */

static uint64_t now_ps(const esim_device *dev)
{
    return esim_device_world_time_us(dev) * PS_PER_US;
}

/* Move the board's clock to t_ps (rounded up to its microsecond); -1 with
 * esp32sim.TimeLimit set when the limit comes first. */
static int advance_to_ps(esim_device *dev, uint64_t t_ps, const char *what)
{
    uint64_t us = t_ps == UINT64_MAX ? UINT64_MAX : t_ps / PS_PER_US + (t_ps % PS_PER_US != 0);
    if (esim_device_advance_to(dev, us) == ESP_ERR_TIMEOUT) {
        esim_py_time_limit(dev, what);
        return -1;
    }
    return 0;
}

/* rmt_wait_tx_done: wait until the channel's transmission ends or the
 * clock reaches deadline_ps (UINT64_MAX: no deadline). A loop that goes on
 * never ends: with `forever` (a wait of portMAX_DELAY, or so long it may
 * as well be) and no time limit that is esp32sim.TimeLimit at once, as the
 * sleep code does when nothing can wake the board. *done tells whether the
 * transmission ended. Returns 0, or -1 with the exception set. */
static int wait_tx_done(esim_device *dev, int ch, uint64_t deadline_ps, bool forever, bool *done)
{
    uint64_t now = now_ps(dev);
    uint64_t end = esim_rmt_tx_end_ps(esim_device_rmt(dev), ch, now);
    *done = end <= deadline_ps;
    if (end <= now)
        return 0;
    if (*done)
        return advance_to_ps(dev, end, "");
    bool endless = end == UINT64_MAX;
    if (endless && forever && esim_device_time_limit_us(dev) == UINT64_MAX) {
        esim_py_time_limit(dev, WAITS_FOR_LOOP);
        return -1;
    }
    return advance_to_ps(dev, deadline_ps, endless ? WAITS_FOR_LOOP : "");
}

static bool looping_on(esim_device *dev, int ch)
{
    return esim_rmt_tx_end_ps(esim_device_rmt(dev), ch, now_ps(dev)) == UINT64_MAX;
}

/* ---- MicroPython's argument handling ---- */

typedef enum { ARG_OBJ, ARG_INT, ARG_BOOL } arg_kind;

typedef struct {
    const char *name;
    arg_kind kind;
    bool required;
    bool kw_only;
} arg_spec;

typedef struct {
    PyObject *obj;   /* borrowed; NULL when not given */
    int32_t i;
    bool b;
} arg_val;

/* mp_arg_parse_all: in order, each argument positional (unless kw-only)
 * or by keyword, converted as it is taken. */
static int parse_args(PyObject *args, PyObject *kwargs, const arg_spec *spec, int n, arg_val *out)
{
    Py_ssize_t n_pos = PyTuple_GET_SIZE(args), kw_found = 0;
    for (int i = 0; i < n; i++) {
        PyObject *given = NULL;
        if (i < n_pos) {
            if (spec[i].kw_only)
                break;
            given = PyTuple_GET_ITEM(args, i);
        } else {
            given = kwargs ? PyDict_GetItemString(kwargs, spec[i].name) : NULL;
            kw_found += given != NULL;
        }
        out[i].obj = given;
        if (given == NULL) {
            if (spec[i].required)
                return PyErr_Format(PyExc_TypeError, "'%s' argument required", spec[i].name), -1;
            continue;
        }
        if (spec[i].kind == ARG_INT && esim_py_get_int(given, &out[i].i) < 0)
            return -1;
        int truth = spec[i].kind == ARG_BOOL ? PyObject_IsTrue(given) : 0;
        if (truth < 0)
            return -1;
        out[i].b = truth;
    }
    Py_ssize_t taken = 0;
    while (taken < n && taken < n_pos && !spec[taken].kw_only)
        taken++;
    if (taken < n_pos)
        return PyErr_SetString(PyExc_TypeError, "extra positional arguments given"), -1;
    if (kwargs != NULL && kw_found < PyDict_GET_SIZE(kwargs))
        return PyErr_SetString(PyExc_TypeError, "extra keyword arguments given"), -1;
    return 0;
}

/* mp_obj_get_array: a tuple of the items of a tuple or list (a new
 * reference), else TypeError. */
static PyObject *get_array(PyObject *obj)
{
    if (PyTuple_Check(obj) || PyList_Check(obj))
        return PySequence_Tuple(obj);
    PyObject *name = PyType_GetName(Py_TYPE(obj));
    if (name != NULL) {
        PyErr_Format(PyExc_TypeError, "object '%U' isn't a tuple or list", name);
        Py_DECREF(name);
    }
    return NULL;
}

static bool is_array(PyObject *obj)
{
    return PyTuple_Check(obj) || PyList_Check(obj);
}

/* mp_obj_is_int: an int, not a bool. */
static bool is_int(PyObject *obj)
{
    return PyLong_Check(obj) && !PyBool_Check(obj);
}

/* ---- construction ---- */

/* tx_carrier=(freq, duty, level): the checks of MicroPython, then the
 * legacy driver's arithmetic (32-bit, into 16-bit count fields). When a
 * count comes out 0 the carrier cannot toggle: the carrier level then
 * shows the other phase steadily (assumed; docs/rmt.md). */
static int carrier_config(PyObject *obj, esim_rmt_config *cfg, int *steady)
{
    PyObject *t = get_array(obj);
    if (t == NULL)
        return -1;
    int32_t freq_i = 0, duty_i = 0;
    int level = -1;
    if (PyTuple_GET_SIZE(t) != 3)
        PyErr_Format(PyExc_ValueError, "requested length 3 but object has length %d", (int)PyTuple_GET_SIZE(t));
    else if (esim_py_get_int(PyTuple_GET_ITEM(t, 0), &freq_i) == 0 &&
             esim_py_get_int(PyTuple_GET_ITEM(t, 1), &duty_i) == 0)
        level = PyObject_IsTrue(PyTuple_GET_ITEM(t, 2));
    Py_DECREF(t);
    if (level < 0)
        return -1;
    uint32_t freq = (uint32_t)freq_i, duty = (uint32_t)duty_i;
    if (freq == 0)
        return PyErr_SetString(PyExc_ValueError, "tx_carrier frequency must be >0"), -1;
    if (duty > 100)
        return PyErr_SetString(PyExc_ValueError, "tx_carrier duty must be 0..100"), -1;
    uint16_t high, low;
    if (esim_rmt_carrier_counts(freq, duty, &high, &low) != ESP_OK) {
        uint32_t period = ESIM_RMT_SOURCE_HZ / freq, h = period * duty / 100u;
        high = (uint16_t)h;
        low = (uint16_t)(period - h);
    }
    cfg->carrier_level = level;
    *steady = -1;
    if (high != 0 && low != 0) {
        cfg->carrier = true;
        cfg->carrier_high = high;
        cfg->carrier_low = low;
    } else {
        *steady = high != 0;
    }
    return 0;
}

enum { A_ID, A_PIN, A_CLOCK_DIV, A_IDLE_LEVEL, A_TX_CARRIER, N_MAKE_ARGS };

static const arg_spec make_args[N_MAKE_ARGS] = {
    {"id", ARG_INT, true, false},
    {"pin", ARG_OBJ, true, true},
    {"clock_div", ARG_INT, false, true},
    {"idle_level", ARG_BOOL, false, true},
    {"tx_carrier", ARG_OBJ, false, true},
};

static PyObject *rmt_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    arg_val a[N_MAKE_ARGS] = {{0}};
    a[A_CLOCK_DIV].i = 8;   /* 100 ns ticks */
    if (parse_args(args, kwargs, make_args, N_MAKE_ARGS, a) < 0)
        return NULL;
    int gpio;
    if (esim_py_pin_id(a[A_PIN].obj, &gpio) < 0)
        return NULL;
    esim_device *dev = board();
    if (dev == NULL)
        return NULL;
    uint32_t channel = (uint32_t)a[A_ID].i, clock_div = (uint32_t)a[A_CLOCK_DIV].i;
    if (reg.bitstream >= 0 && channel == (uint32_t)reg.bitstream)
        return PyErr_Format(PyExc_ValueError, "channel used by bitstream");
    if (clock_div < 1 || clock_div > 255)
        return PyErr_Format(PyExc_ValueError, "clock_div must be between 1 and 255");
    esim_rmt_config cfg = {.gpio = gpio, .clock_div = (uint8_t)clock_div, .mem_blocks = 1, .idle_output = true,
                           .idle_level = a[A_IDLE_LEVEL].b};
    int steady = -1;
    if (a[A_TX_CARRIER].obj != NULL && a[A_TX_CARRIER].obj != Py_None &&
        carrier_config(a[A_TX_CARRIER].obj, &cfg, &steady) < 0)
        return NULL;
    int ch = channel < ESIM_RMT_CHANNELS ? (int)channel : -1;
    esp_err_t err = esim_rmt_install(esim_device_rmt(dev), esim_device_gpio(dev), ch, &cfg);
    if (err)
        return esim_py_raise_esp_err(err);
    rmt_object *self = (rmt_object *)type->tp_alloc(type, 0);
    if (self == NULL) {
        esim_rmt_uninstall(esim_device_rmt(dev), esim_device_gpio(dev), ch);
        return NULL;
    }
    self->boot = reg.boot;
    self->channel = ch;
    self->pin = gpio;
    self->clock_div = (uint8_t)clock_div;
    self->carrier_level = cfg.carrier_level;
    self->steady = steady;
    reg.made[ch] = true;
    return (PyObject *)self;
}

static PyObject *rmt_repr(PyObject *obj)
{
    rmt_object *self = (rmt_object *)obj;
    esim_device *dev = esim_py_current_board_or_null();
    esim_rmt_config cfg;
    if (dev != NULL)
        follow_board(dev);
    if (dev == NULL || !live(self) || esim_rmt_get_config(esim_device_rmt(dev), self->channel, &cfg) != ESP_OK)
        return PyUnicode_FromString("RMT()");
    return PyUnicode_FromFormat("RMT(channel=%d, pin=%d, source_freq=%u, clock_div=%u, idle_level=%d)",
                                self->channel, self->pin, (unsigned)ESIM_RMT_SOURCE_HZ, (unsigned)self->clock_div,
                                (int)cfg.idle_level);
}

/* ---- methods ---- */

static PyObject *rmt_deinit(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    rmt_object *self = (rmt_object *)obj;
    if (esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, 1, 1, 0) < 0)
        return NULL;
    if (self->pin < 0)
        Py_RETURN_NONE;
    esim_device *dev = board();
    if (dev == NULL)
        return NULL;
    int ch = channel_of(self);
    if (driver_installed(dev, ch)) {
        esim_rmt_uninstall(esim_device_rmt(dev), esim_device_gpio(dev), ch);
        reg.made[ch] = false;
    }
    self->pin = -1;
    Py_RETURN_NONE;
}

static PyObject *rmt_clock_div(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, 1, 1, 0) < 0)
        return NULL;
    return PyLong_FromLong(((rmt_object *)obj)->clock_div);
}

static PyObject *rmt_source_freq(PyObject *unused, PyObject *args, PyObject *kwargs)
{
    (void)unused;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0) < 0)
        return NULL;
    return PyLong_FromUnsignedLong(ESIM_RMT_SOURCE_HZ);
}

/* wait_done(*, timeout=0): the timeout in ms becomes FreeRTOS ticks of
 * 10 ms, truncated, in unsigned 32-bit arithmetic as the port's C does: a
 * negative timeout is about 49.7 days, which a loop that goes on outlasts. */
static PyObject *rmt_wait_done(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    rmt_object *self = (rmt_object *)obj;
    static const arg_spec spec[] = {{"timeout", ARG_INT, false, true}};
    arg_val timeout = {0};
    if (parse_args(args, kwargs, spec, 1, &timeout) < 0)
        return NULL;
    esim_device *dev = board();
    if (dev == NULL)
        return NULL;
    int ch = channel_of(self);
    if (!driver_installed(dev, ch))
        Py_RETURN_FALSE;   /* ESP_FAIL: no driver */
    uint64_t ticks = (uint32_t)timeout.i / TICK_MS;
    uint64_t wait_ps = ticks * TICK_MS * PS_PER_MS, now = now_ps(dev);
    uint64_t deadline = UINT64_MAX - now < wait_ps ? UINT64_MAX : now + wait_ps;
    bool done;
    if (wait_tx_done(dev, ch, deadline, timeout.i < 0, &done) < 0 || esim_py_run_pending_irqs() < 0)
        return NULL;
    return PyBool_FromLong(done);
}

static PyObject *rmt_loop(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    rmt_object *self = (rmt_object *)obj;
    int32_t enable;
    if (esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, 2, 2, 0) < 0 ||
        esim_py_get_int(PyTuple_GET_ITEM(args, 0), &enable) < 0)
        return NULL;
    self->loop_en = enable != 0;
    if (self->loop_en)
        Py_RETURN_NONE;
    esim_device *dev = board();
    if (dev == NULL)
        return NULL;
    int ch = channel_of(self);
    if (driver_installed(dev, ch) && looping_on(dev, ch))
        esim_rmt_stop_loop(esim_device_rmt(dev), ch, now_ps(dev));   /* the pass in progress finishes */
    Py_RETURN_NONE;
}

/* The three ways write_pulses takes its pulses. */
typedef struct {
    PyObject *durations;   /* tuple, or NULL: one duration for all */
    PyObject *levels;      /* tuple, or NULL: toggling from `first` */
    uint32_t duration;
    int first;
    Py_ssize_t n;
} pulse_spec;

static int read_pulse_spec(PyObject *duration, PyObject *data, pulse_spec *p)
{
    *p = (pulse_spec){NULL, NULL, 0, 0, 0};
    if (!is_array(data)) {   /* mode 1: durations, levels toggling from bool(data) */
        if ((p->durations = get_array(duration)) == NULL || (p->first = PyObject_IsTrue(data)) < 0)
            return -1;
        p->n = PyTuple_GET_SIZE(p->durations);
    } else if (is_int(duration)) {   /* mode 2: one duration, levels */
        int32_t d;
        if (esim_py_get_int(duration, &d) < 0 || (p->levels = get_array(data)) == NULL)
            return -1;
        p->duration = (uint32_t)d;
        p->n = PyTuple_GET_SIZE(p->levels);
    } else {   /* mode 3: durations and levels */
        p->durations = get_array(duration);
        p->levels = p->durations ? get_array(data) : NULL;
        if (p->levels == NULL)
            return -1;
        p->n = PyTuple_GET_SIZE(p->durations);
        if (PyTuple_GET_SIZE(p->levels) != p->n)
            return PyErr_SetString(PyExc_ValueError, "duration and data must have same length"), -1;
    }
    return 0;
}

/* One pulse as an item half: 15 bits of duration (the bit-field keeps the
 * low bits), the level (the carrier level shown steadily when the carrier
 * cannot toggle). */
static int pulse_half(const rmt_object *self, const pulse_spec *p, Py_ssize_t i, uint32_t *half)
{
    uint32_t duration = p->duration;
    int level = (p->first + (int)(i & 1)) & 1;
    if (p->durations != NULL) {
        int32_t d;
        if (esim_py_get_int(PyTuple_GET_ITEM(p->durations, i), &d) < 0)
            return -1;
        duration = (uint32_t)d;
    }
    if (p->levels != NULL && (level = PyObject_IsTrue(PyTuple_GET_ITEM(p->levels, i))) < 0)
        return -1;
    if (self->steady >= 0 && level == (int)self->carrier_level)
        level = self->steady;
    *half = (duration & 0x7FFFu) | (uint32_t)level << 15;
    return 0;
}

/* Two pulses an item; an odd count ends on a (0, low) half, the end
 * marker. */
static uint32_t *pack_items(const rmt_object *self, const pulse_spec *p, size_t *n_items)
{
    size_t n = ((size_t)p->n + 1) / 2;
    uint32_t *items = PyMem_Calloc(n, sizeof *items);
    if (items == NULL)
        return (uint32_t *)PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < p->n; i++) {
        uint32_t half;
        if (pulse_half(self, p, i, &half) < 0) {
            PyMem_Free(items);
            return NULL;
        }
        items[i / 2] |= i & 1 ? half << 16 : half;
    }
    *n_items = n;
    return items;
}

/* Wait as the port does before sending, then send: with loop() on, a
 * running loop is told to stop after its pass, and its end awaited; else
 * rmt_write_items waits for the earlier transmission. */
static PyObject *send_items(rmt_object *self, const uint32_t *items, size_t n)
{
    esim_device *dev = board();
    if (dev == NULL)
        return NULL;
    int ch = channel_of(self);
    if (!driver_installed(dev, ch))
        return esim_py_raise_esp_err(ESP_FAIL);
    esim_rmt *rmt = esim_device_rmt(dev);
    if (self->loop_en && looping_on(dev, ch))
        esim_rmt_stop_loop(rmt, ch, now_ps(dev));
    bool done;
    if (wait_tx_done(dev, ch, UINT64_MAX, true, &done) < 0)
        return NULL;
    esp_err_t err = esim_rmt_write(rmt, ch, items, n, self->loop_en, now_ps(dev));
    if (err)
        return esim_py_raise_esp_err(err);
    if (esim_py_run_pending_irqs() < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *rmt_write_pulses(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    rmt_object *self = (rmt_object *)obj;
    Py_ssize_t n_args = PyTuple_GET_SIZE(args);
    if (esim_py_check_num(n_args + 1, kwargs, 2, 3, 0) < 0)
        return NULL;
    pulse_spec p;
    PyObject *result = NULL;
    if (read_pulse_spec(PyTuple_GET_ITEM(args, 0), n_args > 1 ? PyTuple_GET_ITEM(args, 1) : Py_True, &p) < 0)
        goto out;
    if (p.n == 0) {
        PyErr_SetString(PyExc_ValueError, "No pulses");
        goto out;
    }
    if (self->loop_en && p.n > LOOP_PULSES_MAX) {
        PyErr_SetString(PyExc_ValueError, "Too many pulses for loop");
        goto out;
    }
    size_t n_items = 0;
    uint32_t *items = pack_items(self, &p, &n_items);
    if (items != NULL) {
        result = send_items(self, items, n_items);
        PyMem_Free(items);
    }
out:
    Py_XDECREF(p.durations);
    Py_XDECREF(p.levels);
    return result;
}

/* bitstream_channel([None | 0..7]): the channel machine.bitstream uses,
 * None for bit-banging. */
static PyObject *rmt_bitstream_channel(PyObject *unused, PyObject *args, PyObject *kwargs)
{
    (void)unused;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 1, 0) < 0 || board() == NULL)
        return NULL;
    if (PyTuple_GET_SIZE(args) == 1) {
        PyObject *value = PyTuple_GET_ITEM(args, 0);
        int32_t ch = -1;
        if (value != Py_None && esim_py_get_int(value, &ch) < 0)
            return NULL;
        if (value != Py_None && (ch < 0 || ch > LAST_TX_CHANNEL))
            return PyErr_Format(PyExc_ValueError, "invalid channel");
        reg.bitstream = ch;
    }
    return reg.bitstream < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(reg.bitstream);
}

/* ---- the type ---- */

#define METHOD(name, flags, doc) \
    {#name, (PyCFunction)(void (*)(void))rmt_##name, METH_VARARGS | METH_KEYWORDS | (flags), doc}

static PyMethodDef rmt_methods[] = {
    METHOD(deinit, 0, "deinit(): release the channel; the pin goes back to its GPIO registers."),
    METHOD(clock_div, 0, "clock_div(): the divider of the 80 MHz source clock."),
    METHOD(wait_done, 0, "wait_done(*, timeout=0): True once the transmission has ended; waits up to timeout ms "
                         "of virtual time (in 10 ms ticks)."),
    METHOD(loop, 0, "loop(enable): loop the next write_pulses; loop(False) ends a running loop after its pass."),
    METHOD(write_pulses, 0, "write_pulses(duration, data=True): send pulses (durations in ticks) without waiting "
                            "for them; waits for the previous transmission first."),
    METHOD(bitstream_channel, METH_STATIC, "bitstream_channel([value]): the channel machine.bitstream uses "
                                           "(None: bit-banging); returns it."),
    METHOD(source_freq, METH_STATIC, "source_freq(): the source clock, 80000000 Hz."),
    {NULL, NULL, 0, NULL},
};

static PyType_Slot rmt_slots[] = {
    {Py_tp_new, rmt_new},
    {Py_tp_dealloc, esim_py_dealloc},
    {Py_tp_repr, rmt_repr},
    {Py_tp_methods, rmt_methods},
    {Py_tp_doc, (void *)"RMT(channel, *, pin, clock_div=8, idle_level=False, tx_carrier=None): an RMT channel "
                        "transmitting on pin."},
    {0, NULL},
};

static PyType_Spec rmt_spec = {
    .name = "esp32.RMT",
    .basicsize = sizeof(rmt_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = rmt_slots,
};

int esim_py_add_rmt_type(PyObject *esp32_module)
{
    PyObject *type = PyType_FromSpec(&rmt_spec);
    if (type == NULL)
        return -1;
    PyObject *pulse_max = PyLong_FromUnsignedLong(ESIM_RMT_DURATION_MAX);
    int failed = pulse_max == NULL || PyObject_SetAttrString(type, "PULSE_MAX", pulse_max) < 0 ||
                 PyModule_AddObjectRef(esp32_module, "RMT", type) < 0;
    Py_XDECREF(pulse_max);
    if (failed) {
        Py_DECREF(type);
        return -1;
    }
    reg.type = (PyTypeObject *)type;   /* kept for the life of the interpreter */
    return 0;
}
