/* esp32sim binding — machine.TouchPad on the simulated ESP32, as
 * MicroPython's ESP32 port has it (ports/esp32/machine_touchpad.c): one
 * object per touch pad T0..T9, readings from the core's touch model
 * (esp32sim/sensors.h), config() setting the pad's wake-up threshold. */
#include "binding.h"

typedef struct {
    PyObject_HEAD
    int pad;
} touchpad_object;

/* The ten singletons, kept for the life of the interpreter. */
static PyObject *touchpads[ESIM_TOUCH_PAD_COUNT];

static int pad_of(PyObject *obj)
{
    return ((touchpad_object *)obj)->pad;
}

/* touch_pad_config(pad, threshold): the threshold, and the pad handed to
 * the touch sensor (touch_pad_io_init): digital input, output and pulls
 * off, so Pin.value() reads 0 until the pin is configured again. */
static int config_pad(int pad, uint16_t threshold)
{
    esim_pad_config cfg;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return -1;
    int gpio = esim_touch_pad_gpio(pad);
    esim_gpio *pads = esim_device_gpio(dev);
    esim_device_sensors(dev)->touch_threshold[pad] = threshold;
    esim_gpio_get_config(pads, gpio, &cfg);
    cfg.input = cfg.output = cfg.pull_up = cfg.pull_down = false;
    esp_err_t err = esim_gpio_configure(pads, gpio, &cfg);
    return err ? (esim_py_raise_esp_err(err), -1) : 0;
}

/* TouchPad(pin): the pad of a touch GPIO, configured with threshold 0 (no
 * wake-up) every time, as the port does. */
static PyObject *touchpad_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    int gpio;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, 1, 1) ||
        esim_py_pin_id(PyTuple_GET_ITEM(args, 0), &gpio))
        return NULL;
    int pad = esim_pin_touch_pad(gpio);
    if (pad < 0) {
        PyErr_SetString(PyExc_ValueError, "invalid pin for touchpad");
        return NULL;
    }
    if (config_pad(pad, 0))
        return NULL;
    return Py_NewRef(touchpads[pad]);
}

/* Methods count self among their arguments in MicroPython's messages. */
static int check_method_args(PyObject *args, PyObject *kwargs, Py_ssize_t n)
{
    return esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, n + 1, n + 1, 0);
}

/* config(value): the wake-up threshold, truncated to 16 bits as the port
 * stores it (config(-1) sets 65535); a pad reading below it is touched. */
static PyObject *touchpad_config(PyObject *self, PyObject *args, PyObject *kwargs)
{
    int32_t value;
    if (check_method_args(args, kwargs, 1) || esim_py_get_int(PyTuple_GET_ITEM(args, 0), &value))
        return NULL;
    if (config_pad(pad_of(self), (uint16_t)value))
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *touchpad_read(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (check_method_args(args, kwargs, 0))
        return NULL;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    return PyLong_FromLong(esim_sensors_touch_read(esim_device_sensors(dev), pad_of(self)));
}

static PyObject *touchpad_repr(PyObject *self)
{
    (void)self;
    return PyUnicode_FromString("<TouchPad>");
}

static PyMethodDef touchpad_methods[] = {
    {"config", (PyCFunction)(void (*)(void))touchpad_config, METH_VARARGS | METH_KEYWORDS,
     "config(value): set the pad's threshold (wake-up on touch when a reading falls below it)."},
    {"read", (PyCFunction)(void (*)(void))touchpad_read, METH_VARARGS | METH_KEYWORDS,
     "read(): the pad's reading (lower when touched)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot touchpad_slots[] = {
    {Py_tp_new, touchpad_new},
    {Py_tp_repr, touchpad_repr},
    {Py_tp_methods, touchpad_methods},
    {Py_tp_dealloc, esim_py_dealloc},
    {Py_tp_doc, (void *)"TouchPad(pin): a capacitive touch pad (GPIO 4, 0, 2, 15, 13, 12, 14, 27, 33, 32)."},
    {0, NULL},
};

static PyType_Spec touchpad_spec = {
    .name = "machine.TouchPad",
    .basicsize = sizeof(touchpad_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = touchpad_slots,
};

int esim_py_add_touchpad_type(PyObject *machine_module)
{
    PyObject *type = PyType_FromSpec(&touchpad_spec);
    if (type == NULL)
        return -1;
    for (int pad = 0; pad < ESIM_TOUCH_PAD_COUNT; pad++) {
        touchpad_object *obj = PyObject_New(touchpad_object, (PyTypeObject *)type);
        touchpads[pad] = (PyObject *)obj;
        if (obj == NULL) {
            Py_DECREF(type);
            return -1;
        }
        obj->pad = pad;
    }
    int rc = PyModule_AddObjectRef(machine_module, "TouchPad", type);
    Py_DECREF(type);
    return rc;
}
