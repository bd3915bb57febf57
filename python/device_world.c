/* esp32sim binding — the world around a Device, for tests and harnesses:
 * stimuli (now or on the virtual clock), what the pads show, the world's
 * clock and its time limit (docs/stimulus.md, docs/python-api.md). */
#include "device_world.h"

#include <math.h>

static PyObject *bad_event(const char *why)
{
    PyErr_SetString(PyExc_ValueError, why);
    return NULL;
}

/* Add one event (checked as a file's would be) and apply what is due. */
static PyObject *add_event(esim_device *dev, esim_stim_event *e)
{
    char why[256] = "";
    if (esim_stimulus_add(esim_device_stimulus(dev), e, why, sizeof why) != ESP_OK)
        return bad_event(why);
    if (esim_py_let_time_pass(dev, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *event_now(PyObject *self, esim_stim_kind kind, int index, int level, double value)
{
    esim_device *dev = esim_py_device_of(self);
    if (dev == NULL)
        return NULL;
    esim_stim_event e = {esim_device_world_time_us(dev), kind, index, level, value};
    return add_event(dev, &e);
}

PyObject *esim_py_device_set_pin(PyObject *self, PyObject *args)
{
    int pin;
    PyObject *level;
    if (!PyArg_ParseTuple(args, "iO:set_pin", &pin, &level))
        return NULL;
    int l = ESIM_STIM_RELEASE;
    if (level != Py_None && (l = PyObject_IsTrue(level)) < 0)
        return NULL;
    return event_now(self, ESIM_STIM_PIN, pin, l, 0.0);
}

PyObject *esim_py_device_set_touch(PyObject *self, PyObject *args)
{
    int pad;
    PyObject *value;
    if (!PyArg_ParseTuple(args, "iO:set_touch", &pad, &value))
        return NULL;
    double v = -1.0;
    if (value != Py_None) {
        long n = PyLong_AsLong(value);
        if (n == -1 && PyErr_Occurred())
            return NULL;
        if (n < 0)
            return bad_event("a touch reading is 0..65535, or None for untouched");
        v = (double)n;
    }
    return event_now(self, ESIM_STIM_TOUCH, pad, 0, v);
}

PyObject *esim_py_device_set_temperature(PyObject *self, PyObject *args)
{
    double c;
    if (!PyArg_ParseTuple(args, "d:set_temperature", &c))
        return NULL;
    return event_now(self, ESIM_STIM_TEMPERATURE, 0, 0, c);
}

PyObject *esim_py_device_set_adc(PyObject *self, PyObject *args)
{
    int pin;
    double mv;
    if (!PyArg_ParseTuple(args, "id:set_adc", &pin, &mv))
        return NULL;
    return event_now(self, ESIM_STIM_ADC, pin, 0, mv);
}

/* stimulus(doc): a JSON document (str) or the list of its events. */
PyObject *esim_py_device_stimulus(PyObject *self, PyObject *arg)
{
    esim_device *dev = esim_py_device_of(self);
    if (dev == NULL)
        return NULL;
    PyObject *text = NULL;
    if (PyUnicode_Check(arg)) {
        text = Py_NewRef(arg);
    } else {
        PyObject *json = PyImport_ImportModule("json");
        PyObject *doc = json ? Py_BuildValue("{sO}", "events", arg) : NULL;
        text = doc ? PyObject_CallMethod(json, "dumps", "O", doc) : NULL;
        Py_XDECREF(json);
        Py_XDECREF(doc);
    }
    Py_ssize_t len;
    const char *utf8 = text ? PyUnicode_AsUTF8AndSize(text, &len) : NULL;
    char why[512] = "";
    esp_err_t err = utf8 ? esim_stimulus_parse_json(esim_device_stimulus(dev), utf8, (size_t)len, why, sizeof why)
                         : ESP_FAIL;
    Py_XDECREF(text);
    if (utf8 == NULL)
        return NULL;
    if (err == ESP_ERR_NO_MEM)
        return PyErr_NoMemory();
    if (err)
        return bad_event(why);
    if (esim_py_let_time_pass(dev, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *esim_py_device_load_stimulus(PyObject *self, PyObject *arg)
{
    esim_device *dev = esim_py_device_of(self);
    PyObject *path = NULL;
    if (dev == NULL || !PyUnicode_FSConverter(arg, &path))
        return NULL;
    char why[512] = "";
    esp_err_t err = esim_stimulus_load_file(esim_device_stimulus(dev), PyBytes_AS_STRING(path), why, sizeof why);
    Py_DECREF(path);
    if (err == ESP_ERR_NOT_FOUND)
        return PyErr_Format(PyExc_FileNotFoundError, "%s", why);
    if (err)
        return err == ESP_ERR_NO_MEM ? PyErr_NoMemory() : bad_event(why);
    if (esim_py_let_time_pass(dev, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* ---- what the pads show ---- */

static PyObject *level_object(int level)
{
    return level == ESIM_LEVEL_FLOATING ? Py_NewRef(Py_None) : PyLong_FromLong(level);
}

PyObject *esim_py_device_pin_level(PyObject *self, PyObject *args)
{
    int pin;
    esim_device *dev = esim_py_device_of(self);
    if (dev == NULL || !PyArg_ParseTuple(args, "i:pin_level", &pin))
        return NULL;
    if (!esim_pin_exists(pin))
        return PyErr_Format(PyExc_ValueError, "GPIO %d does not exist on the ESP32", pin);
    return level_object(esim_gpio_wire_level(esim_device_gpio(dev), pin));
}

static PyObject *change_tuple(const esim_pin_change *c)
{
    PyObject *level = level_object(c->level);
    PyObject *t = level ? Py_BuildValue("(KiN)", (unsigned long long)(c->t_ps / 1000000u), c->pin, level) : NULL;
    return t;
}

/* pin_changes(pin=None): [(t_us, pin, level)], level None when floating. */
PyObject *esim_py_device_pin_changes(PyObject *self, PyObject *args)
{
    int pin = -1;
    esim_device *dev = esim_py_device_of(self);
    if (dev == NULL || !PyArg_ParseTuple(args, "|i:pin_changes", &pin))
        return NULL;
    const esim_gpio *gpio = esim_device_gpio(dev);
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list != NULL && i < esim_gpio_trace_count(gpio); i++) {
        const esim_pin_change *c = esim_gpio_trace_at(gpio, i);
        if (pin >= 0 && c->pin != pin)
            continue;
        PyObject *t = change_tuple(c);
        if (t == NULL || PyList_Append(list, t) < 0)
            Py_CLEAR(list);
        Py_XDECREF(t);
    }
    return list;
}

/* ---- clocks ---- */

PyObject *esim_py_device_advance_us(PyObject *self, PyObject *args)
{
    unsigned long long us;
    esim_device *dev = esim_py_device_of(self);
    if (dev == NULL || !PyArg_ParseTuple(args, "K:advance_us", &us))
        return NULL;
    if (esim_py_let_time_pass(dev, us) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *esim_py_device_get_world_time_us(PyObject *self, void *closure)
{
    (void)closure;
    esim_device *dev = esim_py_device_of(self);
    return dev ? PyLong_FromUnsignedLongLong(esim_device_world_time_us(dev)) : NULL;
}

PyObject *esim_py_device_get_boot_started_us(PyObject *self, void *closure)
{
    (void)closure;
    esim_device *dev = esim_py_device_of(self);
    return dev ? PyLong_FromUnsignedLongLong(esim_device_boot_started_us(dev)) : NULL;
}

PyObject *esim_py_device_get_time_limit_us(PyObject *self, void *closure)
{
    (void)closure;
    esim_device *dev = esim_py_device_of(self);
    if (dev == NULL)
        return NULL;
    uint64_t limit = esim_device_time_limit_us(dev);
    return limit == UINT64_MAX ? Py_NewRef(Py_None) : PyLong_FromUnsignedLongLong(limit);
}

int esim_py_device_set_time_limit_us(PyObject *self, PyObject *value, void *closure)
{
    (void)closure;
    esim_device *dev = esim_py_device_of(self);
    if (dev == NULL)
        return -1;
    uint64_t limit = UINT64_MAX;
    if (value != NULL && value != Py_None) {
        limit = PyLong_AsUnsignedLongLong(value);
        if (PyErr_Occurred())
            return -1;
    }
    esim_device_set_time_limit_us(dev, limit);
    return 0;
}

PyObject *esim_py_device_get_wake_reason(PyObject *self, void *closure)
{
    (void)closure;
    esim_device *dev = esim_py_device_of(self);
    return dev ? PyLong_FromLong((long)esim_device_wake_cause(dev)) : NULL;
}
