/* esp32sim binding — MicroPython's `machine` module on the simulated board:
 * resets and their cause, light and deep sleep and the wake reason, the CPU clock, the chip id, the interrupt mask and
 * the mem8/mem16/mem32 views of the address map.
 *
 * Behaviour follows ports/esp32/modmachine.c and extmod/machine_mem.c of
 * MicroPython (ESP32, 32-bit small ints, ERROR_REPORTING_NORMAL). */
#include <string.h>

#include "binding.h"

#include "esp32sim/sleep.h"

/* machine.reset_cause() values. */
enum {
    MACHINE_PWRON_RESET = 1,
    MACHINE_HARD_RESET = 2,
    MACHINE_WDT_RESET = 3,
    MACHINE_DEEPSLEEP_RESET = 4,
    MACHINE_SOFT_RESET = 5,
};

/* The Xtensa interrupt level that disable_irq() masks up to
 * (XCHAL_EXCM_LEVEL on the ESP32). */
#define MASKED_IRQ_LEVEL 3u
#define IRQ_LEVEL_BITS 0xFu

typedef struct {
    uint32_t irq_level;   /* 0: interrupts enabled */
} machine_state;

static machine_state *state_of(PyObject *module)
{
    return (machine_state *)PyModule_GetState(module);
}

static Py_ssize_t arg_count(PyObject *args)
{
    return PyTuple_GET_SIZE(args);
}

/* ---- resets ---- */

static PyObject *machine_reset(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    /* The firmware is gone whether or not the next boot finds a partition
     * table; the board records a failed boot (esim_device_boot_error). */
    (void)esim_device_hard_reset(board, ESIM_RST_SW);
    PyErr_SetString(esim_py_Reset, "machine.reset(): the board restarted");
    return NULL;
}

static long reset_cause_of(esim_reset_reason reason)
{
    switch (reason) {
    case ESIM_RST_POWERON:
    case ESIM_RST_BROWNOUT:
        return MACHINE_PWRON_RESET;
    case ESIM_RST_INT_WDT:
    case ESIM_RST_TASK_WDT:
    case ESIM_RST_WDT:
        return MACHINE_WDT_RESET;
    case ESIM_RST_DEEPSLEEP:
        return MACHINE_DEEPSLEEP_RESET;
    case ESIM_RST_SW:
    case ESIM_RST_PANIC:
    case ESIM_RST_EXT:
        return MACHINE_HARD_RESET;
    default:
        return 0;
    }
}

static PyObject *machine_reset_cause(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    if (esim_device_soft_reset_since_boot(board))
        return PyLong_FromLong(MACHINE_SOFT_RESET);
    return PyLong_FromLong(reset_cause_of(esim_device_reset_reason(board)));
}

/* ---- sleeping ---- */

/* lightsleep([time_ms]) / deepsleep([time_ms]): the time is taken as a
 * machine int and multiplied into microseconds as uint64_t, as the board
 * does (a negative time is a very long sleep). */
static int sleep_args(PyObject *args, PyObject *kwargs, bool *has_timer, uint64_t *time_ms)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 1, 0))
        return -1;
    *has_timer = arg_count(args) == 1;
    *time_ms = 0;
    if (!*has_timer)
        return 0;
    int32_t ms;
    if (esim_py_get_int(PyTuple_GET_ITEM(args, 0), &ms))
        return -1;
    *time_ms = (uint64_t)(int64_t)ms;
    return 0;
}

static PyObject *sleep_failed(esp_err_t err, const esim_sleep_result *r)
{
    if (err == ESP_ERR_NOT_SUPPORTED)
        PyErr_SetString(PyExc_ValueError, "DEEPSLEEP with gpio pins not supported on this chip");
    else if (err == ESP_ERR_INVALID_STATE && r->failed_enable != NULL)
        PyErr_Format(PyExc_RuntimeError, "%s() failed", r->failed_enable);
    else
        esim_py_raise_esp_err(err);
    return NULL;
}

typedef esp_err_t (*sleep_function)(esim_device *, bool, uint64_t, esim_sleep_result *);

/* Parse the arguments and sleep. The board, or NULL with an exception set
 * (bad arguments, a configuration the chip refuses, the time limit). */
static esim_device *go_to_sleep(PyObject *args, PyObject *kwargs, sleep_function sleep, const char *state,
                                esim_sleep_result *r)
{
    bool has_timer;
    uint64_t time_ms;
    if (sleep_args(args, kwargs, &has_timer, &time_ms))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    esp_err_t err = sleep(board, has_timer, time_ms, r);
    if (err)
        return sleep_failed(err, r), NULL;
    if (r->outcome == ESIM_SLEEP_TIME_LIMIT)
        return esim_py_time_limit(board, state), NULL;
    return board;
}

static PyObject *machine_lightsleep(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    esim_sleep_result r;
    esim_device *board = go_to_sleep(args, kwargs, esim_device_light_sleep, "the board is in light sleep", &r);
    if (board == NULL || esim_py_let_time_pass(board, 0) < 0)   /* pin interrupts that came meanwhile */
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *machine_deepsleep(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    esim_sleep_result r;
    if (go_to_sleep(args, kwargs, esim_device_deep_sleep, "the board is in deep sleep", &r) == NULL)
        return NULL;
    PyErr_Format(esim_py_Reset, "machine.deepsleep(): the board woke up (wake reason %d) and rebooted", (int)r.cause);
    return NULL;
}

static PyObject *machine_wake_reason(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    (void)args;
    (void)kwargs;   /* the board accepts and ignores any arguments */
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    return PyLong_FromLong((long)esim_device_wake_cause(board));
}

static PyObject *machine_wake_pins(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    uint64_t status = esim_device_ext1_wake_status(board);
    PyObject *pins = PyList_New(0);
    for (int pin = 0; pins != NULL && pin < ESIM_GPIO_COUNT; pin++) {
        if (!(status >> pin & 1u))
            continue;
        PyObject *n = PyLong_FromLong(pin);
        if (n == NULL || PyList_Append(pins, n) < 0)
            Py_CLEAR(pins);
        Py_XDECREF(n);
    }
    PyObject *tuple = pins ? PyList_AsTuple(pins) : NULL;
    Py_XDECREF(pins);
    return tuple;
}

/* ---- clock and identity ---- */

static int is_supported_mhz(int32_t mhz)
{
    return mhz == 20 || mhz == 40 || mhz == 80 || mhz == 160 || mhz == 240;
}

static PyObject *set_freq(esim_device *board, PyObject *hz_obj)
{
    int32_t hz;
    if (esim_py_get_int(hz_obj, &hz))
        return NULL;
    int32_t mhz = hz / 1000000;   /* C division truncates, as on the board */
    if (!is_supported_mhz(mhz)) {
        PyErr_SetString(PyExc_ValueError, "frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz");
        return NULL;
    }
    if (esim_device_set_cpu_freq(board, (uint32_t)mhz * 1000000u)) {
        PyErr_SetNone(PyExc_ValueError);   /* esp_pm_configure failed */
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *machine_freq(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 1, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    if (arg_count(args) == 0)
        return PyLong_FromUnsignedLong(esim_device_cpu_freq(board));
    return set_freq(board, PyTuple_GET_ITEM(args, 0));
}

static PyObject *machine_unique_id(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    uint8_t mac[6];
    esim_device_mac(board, mac);
    return PyBytes_FromStringAndSize((const char *)mac, sizeof mac);
}

static PyObject *machine_idle(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    Py_RETURN_NONE;
}

/* ---- interrupt mask ----
 * On the chip the state is the PS register from before masking; here it is
 * just its interrupt-level field: 0 when interrupts were enabled. */

static PyObject *machine_disable_irq(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    machine_state *st = state_of(module);
    uint32_t previous = st->irq_level;
    st->irq_level = MASKED_IRQ_LEVEL;
    return PyLong_FromUnsignedLong(previous);
}

static PyObject *machine_enable_irq(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 1, 1, 0))
        return NULL;
    int32_t irq_state;
    if (esim_py_get_int(PyTuple_GET_ITEM(args, 0), &irq_state))
        return NULL;
    state_of(module)->irq_level = (uint32_t)irq_state & IRQ_LEVEL_BITS;
    Py_RETURN_NONE;
}

/* ---- mem8 / mem16 / mem32 ---- */

/* Each load costs 1 µs of virtual time, as a clock read does, so a loop
 * polling a register or RTC memory (the ULP's results) gets somewhere. */
#define MEM_READ_COST_US 1

typedef struct {
    PyObject_HEAD
    unsigned elem_size;   /* 1, 2 or 4 bytes */
} mem_object;

/* machine_mem_get_addr: the index truncated to 32 bits, which must be
 * aligned to the element size. */
static int mem_address(const mem_object *self, PyObject *index, uint32_t *addr)
{
    if (esim_py_get_int_truncated(index, addr))
        return -1;
    if (*addr & (self->elem_size - 1)) {
        PyErr_Format(PyExc_ValueError, "address %08x is not aligned to %d bytes",
            (unsigned)*addr, (int)self->elem_size);
        return -1;
    }
    return 0;
}

static PyObject *mem_load(PyObject *obj, PyObject *index)
{
    const mem_object *self = (const mem_object *)obj;
    uint32_t addr, value;
    if (mem_address(self, index, &addr))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    esp_err_t err = esim_device_mem_read(board, addr, self->elem_size, &value);
    if (err == ESP_ERR_NOT_FOUND)
        return esim_py_panic("LoadProhibited");
    if (err)
        return esim_py_raise_esp_err(err);
    if (esim_py_let_time_pass(board, MEM_READ_COST_US) < 0)
        return NULL;
    /* mp_obj_new_int takes a signed machine word: a 32-bit load with bit 31
     * set comes back negative on the board. */
    return PyLong_FromLong((long)(int32_t)value);
}

static int mem_store(PyObject *obj, PyObject *index, PyObject *value_obj)
{
    const mem_object *self = (const mem_object *)obj;
    uint32_t addr, value;
    if (value_obj == NULL) {
        PyErr_SetString(PyExc_TypeError, "'mem' object doesn't support item deletion");
        return -1;
    }
    if (mem_address(self, index, &addr) || esim_py_get_int_truncated(value_obj, &value))
        return -1;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return -1;
    esp_err_t err = esim_device_mem_write(board, addr, self->elem_size, value);
    if (err == ESP_ERR_NOT_FOUND) {
        esim_py_panic("StoreProhibited");
        return -1;
    }
    if (err) {
        esim_py_raise_esp_err(err);
        return -1;
    }
    return 0;
}

static PyObject *mem_repr(PyObject *obj)
{
    return PyUnicode_FromFormat("<%u-bit memory>", 8u * ((const mem_object *)obj)->elem_size);
}

static PyType_Slot mem_slots[] = {
    {Py_mp_subscript, mem_load},
    {Py_mp_ass_subscript, mem_store},
    {Py_tp_repr, mem_repr},
    {Py_tp_dealloc, esim_py_dealloc},
    {Py_tp_doc, (void *)"Word-sized view of the board's address map (machine.mem8/16/32)."},
    {0, NULL},
};

static PyType_Spec mem_spec = {
    .name = "machine.mem",   /* __name__ "mem", as MicroPython names it */
    .basicsize = sizeof(mem_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = mem_slots,
};

static int add_mem_view(PyObject *module, PyTypeObject *type, const char *name, unsigned elem_size)
{
    mem_object *view = PyObject_New(mem_object, type);
    if (view == NULL)
        return -1;
    view->elem_size = elem_size;
    int err = PyModule_AddObjectRef(module, name, (PyObject *)view);
    Py_DECREF(view);
    return err;
}

static int add_mem_views(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &mem_spec, NULL);
    if (type == NULL)
        return -1;
    int err = add_mem_view(module, (PyTypeObject *)type, "mem8", 1) ||
        add_mem_view(module, (PyTypeObject *)type, "mem16", 2) ||
        add_mem_view(module, (PyTypeObject *)type, "mem32", 4);
    Py_DECREF(type);
    return err ? -1 : 0;
}

/* ---- classes a board has that the simulator does not model ---- */

static const struct {
    const char *name;
    const char *why;   /* NULL: no reason worth adding */
} unsimulated_classes[] = {
    {"UART", "no serial devices"}, {"I2C", "no I2C devices"}, {"SoftI2C", "no I2C devices"},
    {"SPI", "no SPI devices"}, {"SoftSPI", "no SPI devices"}, {"I2S", "no audio devices"},
    {"SDCard", "no SD card"}, {"PWM", NULL}, {"DAC", NULL}, {"ADCBlock", NULL}, {"WDT", NULL},
    {"Timer", NULL}, {"Signal", NULL}, {"Encoder", NULL}, {"Counter", NULL},
};

int esim_py_machine_unsimulated(const char *name, PyObject *exc_type)
{
    for (size_t i = 0; i < sizeof unsimulated_classes / sizeof unsimulated_classes[0]; i++) {
        if (strcmp(name, unsimulated_classes[i].name) != 0)
            continue;
        const char *why = unsimulated_classes[i].why;
        PyErr_Format(exc_type, "esp32sim: machine.%s is not simulated%s%s%s", name, why ? " (" : "",
                     why ? why : "", why ? ")" : "");
        return 1;
    }
    return 0;
}

/* Module __getattr__ (PEP 562): called for names the module lacks. */
static PyObject *machine___getattr__(PyObject *self, PyObject *name)
{
    (void)self;
    return esim_py_missing_attribute(name, esim_py_machine_unsimulated);
}

/* ---- the module ---- */

#define MACHINE_FN(name, doc) \
    {#name, (PyCFunction)(void (*)(void))machine_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef machine_functions[] = {
    MACHINE_FN(reset, "reset(): hard-reset the board (raises esp32sim.Reset)."),
    MACHINE_FN(reset_cause, "reset_cause(): why the board last (re)started."),
    MACHINE_FN(freq, "freq([hz]): get or set the CPU clock."),
    MACHINE_FN(unique_id, "unique_id(): the 6-byte base MAC address."),
    MACHINE_FN(idle, "idle(): yield the CPU; returns None."),
    MACHINE_FN(lightsleep, "lightsleep([time_ms]): sleep until a wake source fires; RAM is kept."),
    {"sleep", (PyCFunction)(void (*)(void))machine_lightsleep, METH_VARARGS | METH_KEYWORDS,
     "sleep([time_ms]): the same as lightsleep (deprecated)."},
    MACHINE_FN(deepsleep, "deepsleep([time_ms]): sleep until a wake source fires, then reboot."),
    MACHINE_FN(wake_reason, "wake_reason(): what woke the board (0: not a sleep wake)."),
    MACHINE_FN(wake_pins, "wake_pins(): the GPIOs that woke the board through ext1, as a tuple."),
    MACHINE_FN(disable_irq, "disable_irq(): mask interrupts, return the previous state."),
    MACHINE_FN(enable_irq, "enable_irq(state): restore the state disable_irq() returned."),
    {"__getattr__", machine___getattr__, METH_O, "__getattr__(name): names a board has but the simulator lacks."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef machine_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "machine",
    .m_doc = "MicroPython's machine module on the simulated ESP32.",
    .m_size = sizeof(machine_state),
    .m_methods = machine_functions,
};

static int add_constants(PyObject *module)
{
    static const struct { const char *name; long value; } constants[] = {
        {"PWRON_RESET", MACHINE_PWRON_RESET},
        {"HARD_RESET", MACHINE_HARD_RESET},
        {"WDT_RESET", MACHINE_WDT_RESET},
        {"DEEPSLEEP_RESET", MACHINE_DEEPSLEEP_RESET},
        {"SOFT_RESET", MACHINE_SOFT_RESET},
        {"SLEEP", ESIM_WAKE_TYPE_SLEEP},
        {"DEEPSLEEP", ESIM_WAKE_TYPE_DEEPSLEEP},
        {"PIN_WAKE", ESIM_WAKE_EXT0},
        {"EXT0_WAKE", ESIM_WAKE_EXT0},
        {"EXT1_WAKE", ESIM_WAKE_EXT1},
        {"TIMER_WAKE", ESIM_WAKE_TIMER},
        {"TOUCHPAD_WAKE", ESIM_WAKE_TOUCHPAD},
        {"ULP_WAKE", ESIM_WAKE_ULP},
    };
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
        if (PyModule_AddIntConstant(module, constants[i].name, constants[i].value) < 0)
            return -1;
    return 0;
}

PyObject *esim_py_make_machine(void)
{
    PyObject *module = PyModule_Create(&machine_def);
    if (module == NULL)
        return NULL;
    state_of(module)->irq_level = 0;
    if (add_constants(module) < 0 || add_mem_views(module) < 0 || esim_py_add_rtc_type(module) < 0 ||
        esim_py_add_pin_types(module) < 0 || esim_py_add_bitstream(module) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
