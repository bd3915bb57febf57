/* esp32sim binding — the esp32sim control module, for tests and harnesses:
 * open or create boards, choose the one the board modules act on, reset and
 * power-cycle them, read the flash counters and arm power cuts. */
#include <string.h>

#include "binding.h"
#include "device_world.h"
#include "esp32sim/ota.h"
#include "esp32sim/partition.h"

typedef struct {
    PyObject_HEAD
    esim_device *dev;
    int owned;
} device_object;

static PyTypeObject *device_type;
static PyObject *current_device;   /* the Device made current by use(), kept alive */

static esim_device *live(device_object *self)
{
    if (self->dev == NULL)
        PyErr_SetString(PyExc_ValueError, "the device is closed");
    return self->dev;
}

esim_device *esim_py_device_of(PyObject *device)
{
    return live((device_object *)device);
}

static PyObject *wrap_device(esim_device *dev, int owned)
{
    device_object *self = PyObject_New(device_object, device_type);
    if (self != NULL) {
        self->dev = dev;
        self->owned = owned;
    }
    return (PyObject *)self;
}

/* ---- construction ---- */

static int optional_str(PyObject *obj, const char **out)
{
    *out = NULL;
    if (obj == NULL || obj == Py_None)
        return 0;
    if (!PyUnicode_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "expected a str or None");
        return -1;
    }
    *out = PyUnicode_AsUTF8(obj);
    return *out ? 0 : -1;
}

static PyObject *device_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    static char *kwlist[] = {"flash", "size", "layout", "layout_csv", "nvs_strict", "fs", "no_rollback", NULL};
    PyObject *flash = NULL, *layout = NULL, *layout_csv = NULL, *fs = NULL, *path_bytes = NULL, *fs_bytes = NULL;
    Py_ssize_t size = 0;
    int nvs_strict = 0, no_rollback = 0;
    esim_device_config cfg = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O$nOOpOp:Device", kwlist, &flash, &size, &layout, &layout_csv,
                                     &nvs_strict, &fs, &no_rollback))
        return NULL;
    if (flash != NULL && flash != Py_None && !PyUnicode_FSConverter(flash, &path_bytes))
        return NULL;
    if (fs != NULL && fs != Py_None && !PyUnicode_FSConverter(fs, &fs_bytes)) {
        Py_XDECREF(path_bytes);
        return NULL;
    }
    if (optional_str(layout, &cfg.layout) < 0 || optional_str(layout_csv, &cfg.layout_csv) < 0 || size < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "size must be positive");
        Py_XDECREF(path_bytes);
        Py_XDECREF(fs_bytes);
        return NULL;
    }
    cfg.flash_path = path_bytes ? PyBytes_AS_STRING(path_bytes) : NULL;
    cfg.fs_path = fs_bytes ? PyBytes_AS_STRING(fs_bytes) : NULL;
    cfg.flash_size = (size_t)size;
    cfg.no_rollback = no_rollback != 0;
    esim_device *dev = NULL;
    esim_ptable_error why = {-1, ""};
    esp_err_t err = esim_device_open(&cfg, &dev, &why);
    Py_XDECREF(path_bytes);
    Py_XDECREF(fs_bytes);
    if (err) {
        PyErr_Format(PyExc_ValueError, "%s (%s)", why.message[0] ? why.message : "cannot open the board",
                     esim_err_name(err));
        return NULL;
    }
    if (nvs_strict && esim_py_set_nvs_strict(dev, true) < 0) {
        esim_device_close(dev);
        return PyErr_NoMemory();
    }
    return wrap_device(dev, 1);
}

static void device_dealloc(PyObject *obj)
{
    device_object *self = (device_object *)obj;
    PyTypeObject *tp = Py_TYPE(obj);
    if (self->owned && self->dev != NULL) {
        if (esim_py_current_board_or_null() == self->dev)
            esim_py_set_board(NULL);
        esim_py_board_closing(self->dev);
        esim_device_close(self->dev);
    }
    PyObject_Free(obj);
    Py_DECREF(tp);
}

/* ---- methods ---- */

static PyObject *device_use(PyObject *obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    esim_py_set_board(dev);
    Py_XSETREF(current_device, Py_NewRef(obj));
    return Py_NewRef(obj);
}

static PyObject *device_close(PyObject *obj, PyObject *unused)
{
    (void)unused;
    device_object *self = (device_object *)obj;
    if (self->dev != NULL && esim_py_current_board_or_null() == self->dev)
        esim_py_set_board(NULL);
    if (current_device == obj)
        Py_CLEAR(current_device);
    if (self->owned && self->dev != NULL) {
        esim_py_board_closing(self->dev);
        esim_device_close(self->dev);
    }
    self->dev = NULL;
    Py_RETURN_NONE;
}

static PyObject *device_exit(PyObject *obj, PyObject *args)
{
    (void)args;
    return device_close(obj, NULL);
}

static const struct { const char *name; esim_reset_reason reason; } reset_names[] = {
    {"sw", ESIM_RST_SW}, {"panic", ESIM_RST_PANIC}, {"ext", ESIM_RST_EXT}, {"int_wdt", ESIM_RST_INT_WDT},
    {"task_wdt", ESIM_RST_TASK_WDT}, {"wdt", ESIM_RST_WDT}, {"deepsleep", ESIM_RST_DEEPSLEEP},
    {"brownout", ESIM_RST_BROWNOUT},
};

static PyObject *boot_result(esim_device *dev, esp_err_t err)
{
    if (err) {
        const char *why = esim_device_boot_error(dev);
        PyErr_Format(PyExc_RuntimeError, "the board did not boot: %s", why ? why : esim_err_name(err));
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *device_reset(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"reason", NULL};
    const char *name = "sw";
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|s:reset", kwlist, &name))
        return NULL;
    for (size_t i = 0; i < sizeof reset_names / sizeof reset_names[0]; i++)
        if (strcmp(name, reset_names[i].name) == 0)
            return boot_result(dev, esim_device_hard_reset(dev, reset_names[i].reason));
    return PyErr_Format(PyExc_ValueError, "unknown reset reason '%s' (sw, panic, ext, int_wdt, task_wdt, wdt, "
                                          "deepsleep or brownout; power_cycle() for power-on)", name);
}

static PyObject *device_power_cycle(PyObject *obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = live((device_object *)obj);
    return dev ? boot_result(dev, esim_device_power_cycle(dev)) : NULL;
}

static PyObject *device_soft_reset(PyObject *obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    esim_device_soft_reset(dev);
    Py_RETURN_NONE;
}

static PyObject *device_counters(PyObject *obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    esim_flash_counters c;
    esim_flash_get_counters(esim_device_flash(dev), &c);
    return Py_BuildValue("{sKsKsKsKsKsK}", "read_ops", c.read_ops, "bytes_read", c.bytes_read,
                         "program_ops", c.program_ops, "bytes_programmed", c.bytes_programmed,
                         "erase_ops", c.erase_ops, "sectors_erased", c.sectors_erased);
}

static PyObject *device_reset_counters(PyObject *obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    esim_flash_reset_counters(esim_device_flash(dev));
    Py_RETURN_NONE;
}

static PyObject *device_wear(PyObject *obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    esim_flash *flash = esim_device_flash(dev);
    uint32_t n = esim_flash_sector_count(flash);
    PyObject *list = PyList_New(n);
    for (uint32_t i = 0; list != NULL && i < n; i++) {
        PyObject *v = PyLong_FromUnsignedLong(esim_flash_sector_erase_count(flash, i));
        if (v == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, v);
    }
    return list;
}

static PyObject *device_arm_power_cut(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"op", "after_bytes", "seed", NULL};
    PyObject *op = Py_None, *after = Py_None;
    unsigned long long seed = 0;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|$OOK:arm_power_cut", kwlist, &op, &after, &seed))
        return NULL;
    if ((op == Py_None) == (after == Py_None))
        return PyErr_Format(PyExc_TypeError, "give exactly one of op= or after_bytes=");
    unsigned long long n = PyLong_AsUnsignedLongLong(op != Py_None ? op : after);
    if (PyErr_Occurred())
        return NULL;
    esim_flash *flash = esim_device_flash(dev);
    esp_err_t err = op != Py_None ? esim_flash_arm_cut_at_op(flash, n, seed)
                                  : esim_flash_arm_cut_after_bytes(flash, n, seed);
    if (err)
        return PyErr_Format(PyExc_ValueError, "cannot arm the power cut (%s)", esim_err_name(err));
    Py_RETURN_NONE;
}

static PyObject *device_disarm_power_cut(PyObject *obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    esim_flash_disarm_cut(esim_device_flash(dev));
    Py_RETURN_NONE;
}

static PyObject *device_read_flash(PyObject *obj, PyObject *args)
{
    unsigned long addr, size;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL || !PyArg_ParseTuple(args, "kk:read_flash", &addr, &size))
        return NULL;
    esim_flash *flash = esim_device_flash(dev);
    if (addr > esim_flash_size(flash) || size > esim_flash_size(flash) - addr)
        return PyErr_Format(PyExc_ValueError, "range 0x%lx+0x%lx is outside the %zu-byte flash", addr, size,
                            esim_flash_size(flash));
    return PyBytes_FromStringAndSize((const char *)esim_flash_peek(flash) + addr, (Py_ssize_t)size);
}

static PyObject *device_partition_table(PyObject *obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    const esim_ptable *t = esim_device_ptable(dev);
    size_t n = esim_ptable_to_csv(t, NULL, 0);
    char *text = PyMem_Malloc(n + 1);
    if (text == NULL)
        return PyErr_NoMemory();
    esim_ptable_to_csv(t, text, n + 1);
    PyObject *result = PyUnicode_FromStringAndSize(text, (Py_ssize_t)n);
    PyMem_Free(text);
    return result;
}

static PyObject *device_sync(PyObject *obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    esp_err_t err = esim_flash_sync(esim_device_flash(dev));
    if (err)
        return PyErr_Format(PyExc_OSError, "cannot write the flash image (%s)", esim_err_name(err));
    Py_RETURN_NONE;
}

/* ---- properties ---- */

#define DEVICE_GETTER(name, expr)                                     \
    static PyObject *get_##name(PyObject *obj, void *closure)         \
    {                                                                 \
        (void)closure;                                                \
        esim_device *dev = live((device_object *)obj);                \
        return dev ? (expr) : NULL;                                   \
    }

DEVICE_GETTER(powered, PyBool_FromLong(esim_flash_powered(esim_device_flash(dev))))
DEVICE_GETTER(flash_size, PyLong_FromSize_t(esim_flash_size(esim_device_flash(dev))))
DEVICE_GETTER(time_us, PyLong_FromUnsignedLongLong(esim_device_time_us(dev)))
DEVICE_GETTER(reset_reason, PyLong_FromLong(esim_device_reset_reason(dev)))
DEVICE_GETTER(boot_count, PyLong_FromUnsignedLong(esim_device_boot_count(dev)))

static PyObject *get_flash_path(PyObject *obj, void *closure)
{
    (void)closure;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    const char *path = esim_flash_path(esim_device_flash(dev));
    return path ? PyUnicode_DecodeFSDefault(path) : Py_NewRef(Py_None);
}

static PyObject *get_nvs_strict(PyObject *obj, void *closure)
{
    (void)closure;
    esim_device *dev = live((device_object *)obj);
    return dev ? PyBool_FromLong(esim_py_nvs_strict(dev)) : NULL;
}

static int set_nvs_strict(PyObject *obj, PyObject *value, void *closure)
{
    (void)closure;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return -1;
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "nvs_strict cannot be deleted");
        return -1;
    }
    int strict = PyObject_IsTrue(value);
    if (strict < 0)
        return -1;
    if (esim_py_set_nvs_strict(dev, strict) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static PyObject *get_closed(PyObject *obj, void *closure)
{
    (void)closure;
    return PyBool_FromLong(((device_object *)obj)->dev == NULL);
}

/* None for "no such value" fields, so scripts can test them simply. */
static PyObject *state_or_none(uint32_t state, bool present)
{
    return present ? PyUnicode_FromString(esim_ota_state_name(state)) : Py_NewRef(Py_None);
}

static PyObject *boot_event_dict(const esim_boot_event *e)
{
    bool change = e->kind == ESIM_BOOT_EV_STATE_CHANGE;
    bool has_to = change || e->kind == ESIM_BOOT_EV_ACTIVE || e->kind == ESIM_BOOT_EV_INITIAL_SEQ;
    bool writes = change || e->kind == ESIM_BOOT_EV_INITIAL_SEQ;
    PyObject *entry = e->entry >= 0 ? PyLong_FromLong(e->entry) : Py_NewRef(Py_None);
    PyObject *seq = e->seq != 0xFFFFFFFFu ? PyLong_FromUnsignedLong(e->seq) : Py_NewRef(Py_None);
    PyObject *label = e->label[0] ? PyUnicode_FromString(e->label) : Py_NewRef(Py_None);
    PyObject *address = e->label[0] ? PyLong_FromUnsignedLong(e->address) : Py_NewRef(Py_None);
    PyObject *written = writes ? PyBool_FromLong(e->written) : Py_NewRef(Py_None);
    PyObject *check = e->failed_check ? PyUnicode_FromString(e->failed_check) : Py_NewRef(Py_None);
    PyObject *from = state_or_none(e->state_from, change), *to = state_or_none(e->state_to, has_to);
    PyObject *d = NULL;
    if (entry && seq && label && address && written && check && from && to)
        d = Py_BuildValue("{s:s,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:s}", "kind", esim_boot_event_kind_name(e->kind),
                          "entry", entry, "seq", seq, "from", from, "to", to, "written", written, "label", label,
                          "address", address, "check", check, "message", e->message);
    Py_XDECREF(entry);
    Py_XDECREF(seq);
    Py_XDECREF(label);
    Py_XDECREF(address);
    Py_XDECREF(written);
    Py_XDECREF(check);
    Py_XDECREF(from);
    Py_XDECREF(to);
    return d;
}

static PyObject *get_boot_events(PyObject *obj, void *closure)
{
    (void)closure;
    esim_device *dev = live((device_object *)obj);
    if (dev == NULL)
        return NULL;
    const esim_boot_event *events;
    size_t n = esim_device_boot_events(dev, &events);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        PyObject *d = boot_event_dict(&events[i]);
        if (d == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    return list;
}

DEVICE_GETTER(app_rollback, PyBool_FromLong(esim_device_app_rollback(dev)))

static PyGetSetDef device_getset[] = {
    {"boot_events", get_boot_events, NULL,
     "The bootloader's decisions at the last boot, oldest first: dicts with kind, entry, seq, from, to, written, "
     "label, address, check and message.", NULL},
    {"app_rollback", get_app_rollback, NULL, "False when the board's bootloader has app rollback off.", NULL},
    {"powered", get_powered, NULL, "False after a power cut fired, until power_cycle().", NULL},
    {"flash_size", get_flash_size, NULL, "Flash size in bytes.", NULL},
    {"flash_path", get_flash_path, NULL, "The flash image file, or None for a board in memory.", NULL},
    {"time_us", get_time_us, NULL, "The virtual clock: microseconds since this boot.", NULL},
    {"reset_reason", get_reset_reason, NULL, "esp_reset_reason() of this boot (1 power-on, 3 software, ...).", NULL},
    {"boot_count", get_boot_count, NULL, "Boots since the device was opened.", NULL},
    {"world_time_us", esim_py_device_get_world_time_us, NULL,
     "The world's clock: microseconds since the device was opened (never restarts).", NULL},
    {"boot_started_us", esim_py_device_get_boot_started_us, NULL,
     "World time at which this boot began (a boot takes about 290 ms, 150 ms from deep sleep).", NULL},
    {"time_limit_us", esim_py_device_get_time_limit_us, esim_py_device_set_time_limit_us,
     "World time at which time stops with esp32sim.TimeLimit (None: no limit).", NULL},
    {"wake_reason", esim_py_device_get_wake_reason, NULL, "machine.wake_reason() of the board.", NULL},
    {"closed", get_closed, NULL, "True once close() was called.", NULL},
    {"nvs_strict", get_nvs_strict, set_nvs_strict,
     "NVS changes not committed at a reset or power-off are undone (they are always reported).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

#define METHOD(name, flags, doc) {#name, (PyCFunction)(void (*)(void))device_##name, flags, doc}

static PyMethodDef device_methods[] = {
    METHOD(use, METH_NOARGS, "use(): make this the board esp32, machine and time act on (kept open while it is); "
                          "returns the device."),
    METHOD(close, METH_NOARGS, "close(): write the image and release the board."),
    METHOD(reset, METH_VARARGS | METH_KEYWORDS, "reset(reason='sw'): a hard reset (reboot) of the board."),
    METHOD(power_cycle, METH_NOARGS, "power_cycle(): power off and on: restores power after a cut."),
    METHOD(soft_reset, METH_NOARGS, "soft_reset(): record a soft reset (Ctrl-D), as reset_cause() sees it."),
    METHOD(counters, METH_NOARGS, "counters(): flash operation counters as a dict."),
    METHOD(reset_counters, METH_NOARGS, "reset_counters(): zero the counters and the wear."),
    METHOD(wear, METH_NOARGS, "wear(): erase count of every 4 KiB sector."),
    METHOD(arm_power_cut, METH_VARARGS | METH_KEYWORDS,
           "arm_power_cut(*, op=N | after_bytes=N, seed=0): cut the power during the Nth flash program/erase "
           "from now, or once N more bytes are programmed."),
    METHOD(disarm_power_cut, METH_NOARGS, "disarm_power_cut()"),
    METHOD(read_flash, METH_VARARGS, "read_flash(addr, size): raw flash bytes (not counted)."),
#define WORLD(name, flags, doc) {#name, (PyCFunction)(void (*)(void))esim_py_device_##name, flags, doc}
    WORLD(advance_us, METH_VARARGS, "advance_us(us): let virtual time pass (stimuli apply; TimeLimit at the limit)."),
    WORLD(stimulus, METH_O, "stimulus(doc): add a stimulus timeline: JSON text or a list of event dicts "
                            "(docs/stimulus.md); times count from when the board was opened."),
    WORLD(load_stimulus, METH_O, "load_stimulus(path): add the timeline of a JSON file."),
    WORLD(set_pin, METH_VARARGS, "set_pin(gpio, level): drive a pin from outside now (None lets go)."),
    WORLD(set_touch, METH_VARARGS, "set_touch(pad, value): a touch pad's reading now (None: untouched)."),
    WORLD(set_temperature, METH_VARARGS, "set_temperature(celsius): the die temperature now."),
    WORLD(set_adc, METH_VARARGS, "set_adc(gpio, mv): the voltage on an ADC pin now."),
    WORLD(pin_level, METH_VARARGS, "pin_level(gpio): the level on the pin's wire: 0, 1 or None (floating)."),
    WORLD(pin_changes, METH_VARARGS, "pin_changes([gpio]): [(t_us, gpio, level)] every level change recorded."),
    METHOD(partition_table, METH_NOARGS, "partition_table(): the loaded table as gen_esp32part.py CSV."),
    METHOD(sync, METH_NOARGS, "sync(): write the flash image and its wear file to disk."),
    {"__enter__", (PyCFunction)(void (*)(void))device_use, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))device_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyObject *device_repr(PyObject *obj)
{
    esim_device *dev = ((device_object *)obj)->dev;
    if (dev == NULL)
        return PyUnicode_FromString("<esp32sim.Device closed>");
    const char *path = esim_flash_path(esim_device_flash(dev));
    return PyUnicode_FromFormat("<esp32sim.Device flash=%s size=%zu>", path ? path : "memory",
                                esim_flash_size(esim_device_flash(dev)));
}

static PyType_Slot device_slots[] = {
    {Py_tp_new, device_new},
    {Py_tp_dealloc, device_dealloc},
    {Py_tp_repr, device_repr},
    {Py_tp_methods, device_methods},
    {Py_tp_getset, device_getset},
    {Py_tp_doc, (void *)"Device(flash=None, *, size=0, layout=None, layout_csv=None, nvs_strict=False, fs=None, no_rollback=False): a simulated "
                        "ESP32 board. flash is an image file (created when missing) or None for memory."},
    {0, NULL},
};

static PyType_Spec device_spec = {
    .name = "esp32sim.Device",
    .basicsize = sizeof(device_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = device_slots,
};

/* ---- module ---- */

static PyObject *control_current(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    esim_device *dev = esim_py_board();
    return dev ? wrap_device(dev, 0) : NULL;
}

/* run_board_code(source, globals=None): source (str or bytes) compiled as
 * "<stdin>" and run as board code; returns the globals. */
static PyObject *control_run_board_code(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"source", "globals", NULL};
    PyObject *source, *globals = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:run_board_code", kwlist, &source, &globals))
        return NULL;
    const char *text = PyUnicode_Check(source) ? PyUnicode_AsUTF8(source)
                     : PyBytes_Check(source)   ? PyBytes_AS_STRING(source)
                                               : NULL;
    if (text == NULL)
        return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_TypeError, "source must be str or bytes");
    if (globals != Py_None && !PyDict_Check(globals))
        return PyErr_Format(PyExc_TypeError, "globals must be a dict or None");
    PyObject *g = globals == Py_None ? Py_BuildValue("{ss}", "__name__", "__main__") : Py_NewRef(globals);
    PyObject *code = g ? Py_CompileStringExFlags(text, "<stdin>", Py_file_input, NULL, -1) : NULL;
    PyObject *r = code && esim_py_use_board_builtins(g) == 0 ? PyEval_EvalCode(code, g, g) : NULL;
    Py_XDECREF(code);
    if (r == NULL) {
        Py_XDECREF(g);
        return NULL;
    }
    Py_DECREF(r);
    return g;
}

static PyMethodDef control_functions[] = {
    {"current", control_current, METH_NOARGS, "current(): the board the modules act on now (not owned)."},
    {"run_board_code", (PyCFunction)(void (*)(void))control_run_board_code, METH_VARARGS | METH_KEYWORDS,
     "run_board_code(source, globals=None): run source as board code (open() and imports on the board's "
     "filesystem, os is the board's); returns the globals dict."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef control_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "esp32sim",
    .m_doc = "Control of the simulated ESP32 board: devices, resets, power cuts, flash counters.",
    .m_size = -1,
    .m_methods = control_functions,
};

PyObject *esim_py_make_control(void)
{
    PyObject *m = PyModule_Create(&control_module);
    if (m == NULL)
        return NULL;
    PyObject *type = PyType_FromSpec(&device_spec);
    if (type == NULL || esim_py_errors_init(m) < 0 || PyModule_AddObjectRef(m, "Device", type) < 0) {
        Py_XDECREF(type);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "FIRMWARE_PROJECT", ESIM_FIRMWARE_PROJECT) < 0 ||
        PyModule_AddStringConstant(m, "FIRMWARE_VERSION", ESIM_FIRMWARE_VERSION) < 0) {
        Py_DECREF(type);
        Py_DECREF(m);
        return NULL;
    }
    device_type = (PyTypeObject *)type;   /* kept for the life of the process */
    current_device = NULL;                /* a new interpreter starts with none */
    return m;
}
