/* esp32sim binding — machine.Pin and its IRQ object on the simulated ESP32,
 * as MicroPython's ESP32 port has them (ports/esp32/machine_pin.c at commit
 * 1c3c201149): one Pin object per GPIO, configured through the core's pad
 * model (esp32sim/gpio.h), soft interrupt handlers run from the edges the
 * core records, and Pin.irq(wake=...) programming ext0 wake-up in the
 * board's machine_rtc_config (esp32sim/sleep.h).
 *
 * Also the entry point that adds Pin, TouchPad and ADC to `machine`. */
#include <string.h>

#include "binding.h"
#include "esp32sim/sleep.h"

/* gpio_mode_t bits: Pin.IN = 1, Pin.OUT = 3, Pin.OPEN_DRAIN = 7. */
#define MODE_INPUT 1
#define MODE_OUTPUT 2
#define MODE_OPEN_DRAIN 4
#define PIN_IN MODE_INPUT
#define PIN_OUT (MODE_INPUT | MODE_OUTPUT)
#define PIN_OPEN_DRAIN (MODE_INPUT | MODE_OUTPUT | MODE_OPEN_DRAIN)

#define PULL_DOWN 1
#define PULL_UP 2

/* gpio_int_type_t: what Pin.irq's trigger sets. */
#define IRQ_RISING 1
#define IRQ_FALLING 2
#define IRQ_BOTH_EDGES (IRQ_RISING | IRQ_FALLING)
#define WAKE_LOW 4
#define WAKE_HIGH 5
#define INTR_TYPE_COUNT 6u   /* GPIO_INTR_MAX: gpio_set_intr_type refuses the rest */

#define DRIVE_COUNT 4        /* GPIO_DRIVE_CAP_0..3 */
#define MAX_ARG_COUNT 0xFFFF /* MP_OBJ_FUN_ARGS_MAX */

typedef struct {
    PyObject_HEAD
    int gpio;
} pin_object;

typedef struct {
    PyObject_HEAD
    int gpio;
} irq_object;

/* Which boot of which board the handlers belong to. MicroPython clears its
 * handler table at every boot (hard or soft), and another board made
 * current is another firmware. */
/* The Pin and IRQ singletons live as long as the interpreter; the handler
 * table and interrupt types follow the current board. */
static struct {
    PyTypeObject *pin_type;
    PyTypeObject *irq_type;
    PyObject *pins[ESIM_GPIO_COUNT];      /* NULL for GPIOs that do not exist */
    PyObject *irqs[ESIM_GPIO_COUNT];
    bool keyed;
    esim_py_boot_key boot;
    PyObject *handler[ESIM_GPIO_COUNT];   /* owned; NULL: none */
    uint8_t intr_type[ESIM_GPIO_COUNT];   /* GPIO.pin[n].int_type */
    uint64_t soft_pending;                /* IRQ objects called, not yet run */
    bool running;                         /* handlers do not nest */
} reg;

static uint64_t bit_of(int gpio)
{
    return UINT64_C(1) << gpio;
}

static bool can_output(int gpio)
{
    return !esim_pin_input_only(gpio);
}

/* ---- following the board ---- */

static void forget_handlers(void)
{
    for (int gpio = 0; gpio < ESIM_GPIO_COUNT; gpio++) {
        reg.intr_type[gpio] = 0;
        Py_CLEAR(reg.handler[gpio]);
    }
    reg.soft_pending = 0;
}

/* Drop what belonged to an earlier boot or another board. */
static void follow_board(const esim_device *dev)
{
    esim_py_boot_key now = esim_py_boot_of(dev);
    if (reg.keyed && esim_py_same_boot(reg.boot, now))
        return;
    reg.keyed = true;
    reg.boot = now;
    forget_handlers();
}

static esim_device *board_followed(void)
{
    esim_device *dev = esim_py_board();
    if (dev != NULL)
        follow_board(dev);
    return dev;
}

/* ---- pin lookup (machine_pin_get_id) ---- */

int esim_py_pin_id(PyObject *obj, int *gpio)
{
    if (reg.pin_type != NULL && Py_IS_TYPE(obj, reg.pin_type)) {
        *gpio = ((pin_object *)obj)->gpio;
        return 0;
    }
    /* bool is not an int to MicroPython; a str would name a board pin, and
     * the generic ESP32 board names none. */
    if (PyLong_Check(obj) && !PyBool_Check(obj)) {
        int32_t n;
        if (esim_py_get_int(obj, &n))
            return -1;
        if (esim_pin_exists(n)) {
            *gpio = n;
            return 0;
        }
    }
    PyErr_SetString(PyExc_ValueError, "invalid pin");
    return -1;
}

/* ---- mp_arg_parse_all ---- */

typedef struct {
    const char *name;
    bool kw_only;
    bool is_int;   /* MP_ARG_INT: converted as it is found */
} arg_spec;

static int extra_positional(void)
{
    PyErr_SetString(PyExc_TypeError, "extra positional arguments given");
    return -1;
}

/* Positionals from args[first..], then keywords. out[i] is the argument
 * given (borrowed) or NULL; ints[i] its value for MP_ARG_INT ones. */
static int parse_args(PyObject *args, Py_ssize_t first, PyObject *kwargs, const arg_spec *spec, size_t n,
                      PyObject **out, int32_t *ints)
{
    Py_ssize_t n_pos = PyTuple_GET_SIZE(args) - first, kw_found = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = NULL;
        if ((Py_ssize_t)i < n_pos) {
            if (spec[i].kw_only)
                return extra_positional();
            out[i] = PyTuple_GET_ITEM(args, first + (Py_ssize_t)i);
        } else if (kwargs != NULL) {
            out[i] = PyDict_GetItemString(kwargs, spec[i].name);
            kw_found += out[i] != NULL;
        }
        if (out[i] != NULL && spec[i].is_int && esim_py_get_int(out[i], &ints[i]))
            return -1;
    }
    if (n_pos > (Py_ssize_t)n)
        return extra_positional();
    if (kwargs != NULL && kw_found < PyDict_GET_SIZE(kwargs)) {
        PyErr_SetString(PyExc_TypeError, "extra keyword arguments given");
        return -1;
    }
    return 0;
}

static bool has_kwargs(PyObject *kwargs)
{
    return kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0;
}

/* ---- pad configuration (Pin.init) ---- */

static int apply_config(esim_gpio *gpio, int pin, const esim_pad_config *cfg)
{
    esp_err_t err = esim_gpio_configure(gpio, pin, cfg);
    return err ? (esim_py_raise_esp_err(err), -1) : 0;
}

/* gpio_set_level: refused (silently, to Python) on input-only pins. */
static void write_level(esim_gpio *gpio, int pin, int level)
{
    if (can_output(pin))
        (void)esim_gpio_set_output(gpio, pin, level);
}

static int set_initial_value(esim_gpio *gpio, int pin, PyObject *value)
{
    if (value == NULL)
        return 0;
    int level = PyObject_IsTrue(value);
    if (level < 0)
        return -1;
    write_level(gpio, pin, level);
    return 0;
}

/* Strengths outside DRIVE_0..DRIVE_3 are ignored, as are input-only pins. */
static int set_drive(esim_gpio *gpio, int pin, PyObject *drive)
{
    int32_t strength;
    esim_pad_config cfg;
    if (drive == NULL || !can_output(pin))
        return 0;
    if (esim_py_get_int(drive, &strength))
        return -1;
    if (strength < 0 || strength >= DRIVE_COUNT)
        return 0;
    esim_gpio_get_config(gpio, pin, &cfg);
    cfg.drive = (uint8_t)strength;
    return apply_config(gpio, pin, &cfg);
}

/* gpio_set_direction: each bit of the mode switches its part on or off. */
static int set_mode(esim_gpio *gpio, int pin, PyObject *mode_obj)
{
    int32_t mode;
    esim_pad_config cfg;
    if (mode_obj == NULL || mode_obj == Py_None)
        return 0;
    if (esim_py_get_int(mode_obj, &mode))
        return -1;
    if (!can_output(pin) && (mode & MODE_OUTPUT)) {
        PyErr_SetString(PyExc_ValueError, "pin can only be input");
        return -1;
    }
    esim_gpio_get_config(gpio, pin, &cfg);
    cfg.input = (mode & MODE_INPUT) != 0;
    cfg.output = (mode & MODE_OUTPUT) != 0;
    cfg.open_drain = (mode & MODE_OPEN_DRAIN) != 0;
    return apply_config(gpio, pin, &cfg);
}

/* pull=-1 (the default) leaves the pulls alone; None means neither. */
static bool is_minus_one(PyObject *obj)
{
    int overflow = 0;
    return PyLong_CheckExact(obj) && PyLong_AsLongAndOverflow(obj, &overflow) == -1 && !overflow;
}

static int set_pull(esim_gpio *gpio, int pin, PyObject *pull)
{
    int32_t pulls = 0;
    esim_pad_config cfg;
    if (pull == NULL || is_minus_one(pull))
        return 0;
    if (pull != Py_None && esim_py_get_int(pull, &pulls))
        return -1;
    if (!can_output(pin))
        return 0;   /* 34..39 have no pull resistors; ESP-IDF ignores the call */
    esim_gpio_get_config(gpio, pin, &cfg);
    cfg.pull_down = (pulls & PULL_DOWN) != 0;
    cfg.pull_up = (pulls & PULL_UP) != 0;
    return apply_config(gpio, pin, &cfg);
}

/* The hold is always released first, so the changes above reach the pad,
 * then set again when asked. */
static int set_hold(esim_gpio *gpio, int pin, PyObject *hold)
{
    if (hold == NULL || !can_output(pin))
        return 0;
    (void)esim_gpio_set_hold(gpio, pin, false);
    int on = PyObject_IsTrue(hold);
    if (on < 0)
        return -1;
    if (on)
        (void)esim_gpio_set_hold(gpio, pin, true);
    return 0;
}

enum { INIT_MODE, INIT_PULL, INIT_VALUE, INIT_DRIVE, INIT_HOLD, INIT_ARG_COUNT };

static const arg_spec init_args[INIT_ARG_COUNT] = {
    {"mode", false, false}, {"pull", false, false}, {"value", true, false},
    {"drive", true, false}, {"hold", true, false},
};

/* init(mode=None, pull=-1, *, value, drive, hold), in MicroPython's order:
 * the output level first, then drive, mode, pulls and the hold. */
static int init_pin(int pin, PyObject *args, Py_ssize_t first, PyObject *kwargs)
{
    PyObject *a[INIT_ARG_COUNT];
    int32_t unused[INIT_ARG_COUNT];
    if (parse_args(args, first, kwargs, init_args, INIT_ARG_COUNT, a, unused))
        return -1;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return -1;
    esim_gpio *gpio = esim_device_gpio(dev);
    if (set_initial_value(gpio, pin, a[INIT_VALUE]) || set_drive(gpio, pin, a[INIT_DRIVE]) ||
        set_mode(gpio, pin, a[INIT_MODE]) || set_pull(gpio, pin, a[INIT_PULL]) || set_hold(gpio, pin, a[INIT_HOLD]))
        return -1;
    return esim_py_run_pending_irqs();
}

/* ---- Pin ---- */

static int gpio_of(PyObject *obj)
{
    return ((pin_object *)obj)->gpio;
}

static PyObject *pin_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    int pin;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (esim_py_check_num(n, kwargs, 1, MAX_ARG_COUNT, 1) || esim_py_pin_id(PyTuple_GET_ITEM(args, 0), &pin))
        return NULL;
    if ((n > 1 || has_kwargs(kwargs)) && init_pin(pin, args, 1, kwargs))
        return NULL;
    return Py_NewRef(reg.pins[pin]);
}

static PyObject *pin_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (init_pin(gpio_of(self), args, 0, kwargs))
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *write_and_run(int pin, int level)
{
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    write_level(esim_device_gpio(dev), pin, level);
    if (esim_py_run_pending_irqs())
        return NULL;
    Py_RETURN_NONE;
}

/* value() reads the wire through the input buffer (0 when it is off);
 * value(x) sets the output register. */
static PyObject *value_of(int pin, PyObject *args)
{
    if (PyTuple_GET_SIZE(args) == 0) {
        esim_device *dev = esim_py_board();
        return dev ? PyLong_FromLong(esim_gpio_get_level(esim_device_gpio(dev), pin)) : NULL;
    }
    int level = PyObject_IsTrue(PyTuple_GET_ITEM(args, 0));
    return level < 0 ? NULL : write_and_run(pin, level);
}

static PyObject *pin_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 1, 0))
        return NULL;
    return value_of(gpio_of(self), args);
}

/* Methods count self among their arguments in MicroPython's messages. */
static int check_method_args(PyObject *args, PyObject *kwargs, Py_ssize_t n_min, Py_ssize_t n_max)
{
    return esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, n_min + 1, n_max + 1, 0);
}

static PyObject *pin_value(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (check_method_args(args, kwargs, 0, 1))
        return NULL;
    return value_of(gpio_of(self), args);
}

static PyObject *pin_on(PyObject *self, PyObject *args, PyObject *kwargs)
{
    return check_method_args(args, kwargs, 0, 0) ? NULL : write_and_run(gpio_of(self), 1);
}

static PyObject *pin_off(PyObject *self, PyObject *args, PyObject *kwargs)
{
    return check_method_args(args, kwargs, 0, 0) ? NULL : write_and_run(gpio_of(self), 0);
}

/* The inverse of the output register (not of the wire). */
static PyObject *pin_toggle(PyObject *self, PyObject *args, PyObject *kwargs)
{
    esim_pad_config cfg;
    if (check_method_args(args, kwargs, 0, 0))
        return NULL;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    esim_gpio_get_config(esim_device_gpio(dev), gpio_of(self), &cfg);
    return write_and_run(gpio_of(self), !cfg.out_level);
}

/* ---- Pin.irq ---- */

static void set_intr_type(int pin, uint32_t type)
{
    if (type < INTR_TYPE_COUNT)
        reg.intr_type[pin] = (uint8_t)type;
}

static int value_error(const char *message)
{
    PyErr_SetString(PyExc_ValueError, message);
    return -1;
}

/* trigger=WAKE_LOW/WAKE_HIGH with wake=: the pin becomes the ext0 wake
 * source; the handler is not touched. */
static int set_wake(esim_device *dev, int pin, uint32_t trigger, PyObject *wake_obj)
{
    int32_t wake;
    if (!PyLong_Check(wake_obj))
        return value_error("bad wake value");
    if (esim_py_get_int(wake_obj, &wake))
        return -1;
    if (wake < 2 || wake > 7)
        return value_error("bad wake value");
    esim_wake_config *cfg = esim_device_wake_config(dev);
    if (cfg->wake_on_touch)
        return value_error("no resources");
    if (esim_pin_rtc_gpio(pin) < 0)
        return value_error("invalid pin for wake");
    if (cfg->ext0_pin == -1)
        cfg->ext0_pin = pin;
    else if (cfg->ext0_pin != pin)
        return value_error("no resources");
    cfg->ext0_level = trigger == WAKE_HIGH;
    cfg->ext0_wake_types = (unsigned)wake;
    return 0;
}

/* A normal irq: the pin stops being the ext0 source; handler None turns
 * the interrupt off. Edges seen while no interrupt was on were never
 * latched, so the ones recorded so far are dropped. */
static void set_handler(esim_device *dev, int pin, PyObject *handler, uint32_t trigger)
{
    esim_wake_config *cfg = esim_device_wake_config(dev);
    if (cfg->ext0_pin == pin)
        cfg->ext0_pin = -1;
    if (handler == Py_None) {
        handler = NULL;
        trigger = 0;
    }
    Py_XSETREF(reg.handler[pin], Py_XNewRef(handler));
    set_intr_type(pin, trigger);
    (void)esim_gpio_take_edges(esim_device_gpio(dev), pin);
}

enum { IRQ_HANDLER, IRQ_TRIGGER, IRQ_WAKE, IRQ_ARG_COUNT };

static const arg_spec irq_args[IRQ_ARG_COUNT] = {
    {"handler", false, false}, {"trigger", false, true}, {"wake", false, false},
};

/* irq(handler=None, trigger=IRQ_FALLING | IRQ_RISING, wake=None): with no
 * arguments only returns the IRQ object. */
static PyObject *pin_irq(PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *a[IRQ_ARG_COUNT];
    int32_t ints[IRQ_ARG_COUNT];
    int pin = gpio_of(self);
    if (parse_args(args, 0, kwargs, irq_args, IRQ_ARG_COUNT, a, ints))
        return NULL;
    if (PyTuple_GET_SIZE(args) > 0 || has_kwargs(kwargs)) {
        esim_device *dev = board_followed();
        if (dev == NULL)
            return NULL;
        uint32_t trigger = a[IRQ_TRIGGER] ? (uint32_t)ints[IRQ_TRIGGER] : IRQ_BOTH_EDGES;
        PyObject *handler = a[IRQ_HANDLER] ? a[IRQ_HANDLER] : Py_None;
        PyObject *wake = a[IRQ_WAKE] ? a[IRQ_WAKE] : Py_None;
        if ((trigger == WAKE_LOW || trigger == WAKE_HIGH) && wake != Py_None) {
            if (set_wake(dev, pin, trigger, wake))
                return NULL;
        } else {
            set_handler(dev, pin, handler, trigger);
        }
    }
    return Py_NewRef(reg.irqs[pin]);
}

static PyObject *pin_repr(PyObject *self)
{
    return PyUnicode_FromFormat("Pin(%d)", gpio_of(self));
}

/* ---- the IRQ object ---- */

static int irq_gpio(PyObject *obj)
{
    return ((irq_object *)obj)->gpio;
}

/* irq(): run the handler as if the pin had interrupted. */
static PyObject *irq_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0) || board_followed() == NULL)
        return NULL;
    reg.soft_pending |= bit_of(irq_gpio(self));
    if (esim_py_run_pending_irqs())
        return NULL;
    Py_RETURN_NONE;
}

/* trigger([type]): the interrupt type before the call; sets a new one. */
static PyObject *irq_trigger(PyObject *self, PyObject *args, PyObject *kwargs)
{
    int pin = irq_gpio(self);
    int32_t type;
    if (check_method_args(args, kwargs, 0, 1) || board_followed() == NULL)
        return NULL;
    long before = reg.intr_type[pin];
    if (PyTuple_GET_SIZE(args) == 1) {
        if (esim_py_get_int(PyTuple_GET_ITEM(args, 0), &type))
            return NULL;
        set_intr_type(pin, (uint32_t)type);
    }
    return PyLong_FromLong(before);
}

static PyObject *irq_repr(PyObject *self)
{
    (void)self;
    return PyUnicode_FromString("<IRQ>");
}

/* ---- running the handlers ---- */

static bool edges_match(unsigned edges, unsigned intr_type)
{
    /* Level types (WAKE_LOW/WAKE_HIGH) are not modelled as interrupts. */
    return intr_type <= IRQ_BOTH_EDGES && (edges & intr_type) != 0;
}

static int run_pin(esim_gpio *gpio, int pin)
{
    unsigned edges = esim_gpio_take_edges(gpio, pin);
    bool soft = (reg.soft_pending & bit_of(pin)) != 0;
    reg.soft_pending &= ~bit_of(pin);
    PyObject *handler = reg.handler[pin];
    if (handler == NULL || !(soft || edges_match(edges, reg.intr_type[pin])))
        return 0;
    Py_INCREF(handler);
    int err = esim_py_call_protected(handler, reg.pins[pin]);
    Py_DECREF(handler);
    return err;
}

/* Each pin's handler runs at most once per check, so a handler that keeps
 * re-triggering its own pin cannot hold the program; edges made by a
 * handler on other pins are served in the same check. A handler that
 * changes or resets the board ends the check. */
static int run_due_pins(esim_device *dev)
{
    esim_py_boot_key boot = reg.boot;
    uint64_t done = 0;
    for (;;) {
        if (esim_py_current_board_or_null() != dev || !esim_py_same_boot(boot, esim_py_boot_of(dev)))
            return 0;
        esim_gpio *gpio = esim_device_gpio(dev);
        uint64_t due = (esim_gpio_pins_with_edges(gpio) | reg.soft_pending) & ~done;
        if (due == 0)
            return 0;
        int pin = 0;
        while (!(due & bit_of(pin)))
            pin++;
        done |= bit_of(pin);
        if (run_pin(gpio, pin))
            return -1;
    }
}

int esim_py_run_pending_irqs(void)
{
    esim_device *dev = esim_py_current_board_or_null();
    if (dev == NULL || reg.pin_type == NULL || reg.running)
        return 0;
    follow_board(dev);
    reg.running = true;
    int rc = run_due_pins(dev);
    reg.running = false;
    return rc;
}

/* ---- types ---- */

#define PIN_METHOD(name, doc) \
    {#name, (PyCFunction)(void (*)(void))pin_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef pin_methods[] = {
    PIN_METHOD(init, "init(mode=None, pull=-1, *, value, drive, hold): configure the pin."),
    PIN_METHOD(value, "value([x]): read the input level, or set the output level."),
    PIN_METHOD(on, "on(): set the output high."),
    PIN_METHOD(off, "off(): set the output low."),
    PIN_METHOD(toggle, "toggle(): invert the output register."),
    PIN_METHOD(irq, "irq(handler=None, trigger=IRQ_FALLING | IRQ_RISING, wake=None): set the pin's interrupt "
                    "handler or make it the ext0 wake source; returns the pin's IRQ object."),
    {NULL, NULL, 0, NULL},
};

static PyType_Slot pin_slots[] = {
    {Py_tp_new, pin_new},
    {Py_tp_call, pin_call},
    {Py_tp_repr, pin_repr},
    {Py_tp_methods, pin_methods},
    {Py_tp_dealloc, esim_py_dealloc},
    {Py_tp_doc, (void *)"Pin(id, mode=None, pull=-1, *, value, drive, hold): a GPIO of the simulated ESP32 "
                        "(one object per GPIO)."},
    {0, NULL},
};

static PyType_Spec pin_spec = {
    .name = "machine.Pin",
    .basicsize = sizeof(pin_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = pin_slots,
};

static PyMethodDef irq_methods[] = {
    {"trigger", (PyCFunction)(void (*)(void))irq_trigger, METH_VARARGS | METH_KEYWORDS,
     "trigger([type]): the interrupt type in force; sets a new one when given."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot irq_slots[] = {
    {Py_tp_call, irq_call},
    {Py_tp_repr, irq_repr},
    {Py_tp_methods, irq_methods},
    {Py_tp_dealloc, esim_py_dealloc},
    {Py_tp_doc, (void *)"A pin's interrupt (Pin.irq()); calling it runs the handler."},
    {0, NULL},
};

static PyType_Spec irq_spec = {
    .name = "machine.IRQ",
    .basicsize = sizeof(irq_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = irq_slots,
};

static int add_constants(PyObject *type)
{
    static const struct { const char *name; long value; } constants[] = {
        {"IN", PIN_IN}, {"OUT", PIN_OUT}, {"OPEN_DRAIN", PIN_OPEN_DRAIN},
        {"PULL_UP", PULL_UP}, {"PULL_DOWN", PULL_DOWN},
        {"IRQ_RISING", IRQ_RISING}, {"IRQ_FALLING", IRQ_FALLING},
        {"WAKE_LOW", WAKE_LOW}, {"WAKE_HIGH", WAKE_HIGH},
        {"DRIVE_0", 0}, {"DRIVE_1", 1}, {"DRIVE_2", 2}, {"DRIVE_3", 3},
    };
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
        PyObject *v = PyLong_FromLong(constants[i].value);
        int rc = v ? PyObject_SetAttrString(type, constants[i].name, v) : -1;
        Py_XDECREF(v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int make_singletons(void)
{
    for (int gpio = 0; gpio < ESIM_GPIO_COUNT; gpio++) {
        if (!esim_pin_exists(gpio))
            continue;
        pin_object *pin = PyObject_New(pin_object, reg.pin_type);
        irq_object *irq = PyObject_New(irq_object, reg.irq_type);
        if (pin != NULL)
            pin->gpio = gpio;
        if (irq != NULL)
            irq->gpio = gpio;
        reg.pins[gpio] = (PyObject *)pin;
        reg.irqs[gpio] = (PyObject *)irq;
        if (pin == NULL || irq == NULL)
            return -1;
    }
    return 0;
}

int esim_py_add_pin_types(PyObject *machine_module)
{
    /* A new interpreter: whatever an earlier one left here is gone. */
    memset(&reg, 0, sizeof reg);
    PyObject *pin_type = PyType_FromSpec(&pin_spec);
    PyObject *irq_type = pin_type ? PyType_FromSpec(&irq_spec) : NULL;
    if (irq_type == NULL) {
        Py_XDECREF(pin_type);
        return -1;
    }
    reg.pin_type = (PyTypeObject *)pin_type;   /* kept for the life of the interpreter */
    reg.irq_type = (PyTypeObject *)irq_type;
    if (add_constants(pin_type) < 0 || make_singletons() < 0 ||
        PyModule_AddObjectRef(machine_module, "Pin", pin_type) < 0)
        return -1;
    return esim_py_add_touchpad_type(machine_module) < 0 || esim_py_add_adc_type(machine_module) < 0 ? -1 : 0;
}
