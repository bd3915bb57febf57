/* esp32sim binding — the esp32 module: wake-up configuration, the deep
 * sleep hold, the temperature sensor and the IDF heap. Its classes live in
 * their own files (esp32_partition.c, …), as in MicroPython's ESP32 port.
 *
 * idf_heap_info reads the simulated ESP-IDF heaps (docs/heap.md).
 * Wake functions follow ports/esp32/modesp32.c (reference/
 * micropython-esp32.md §1.1): they only change MicroPython's wake
 * configuration; machine.lightsleep/deepsleep turn it into esp_sleep's
 * sources. */
#include <string.h>

#include "binding.h"

#include "esp32sim/heap.h"
#include "esp32sim/sleep.h"

#define RTC_VALID_EXT_PIN(pin) (esim_pin_rtc_gpio(pin) >= 0)

static esim_wake_config *wake_config(void)
{
    esim_device *board = esim_py_board();
    return board ? esim_device_wake_config(board) : NULL;
}

static PyObject *no_resources(void)
{
    PyErr_SetString(PyExc_ValueError, "no resources");
    return NULL;
}

static PyObject *invalid_pin(void)
{
    PyErr_SetString(PyExc_ValueError, "invalid pin");
    return NULL;
}

/* MP_ARG_BOOL: any object, by truthiness; `dflt` when not given. */
static int bool_arg(PyObject *obj, bool dflt, bool *out)
{
    int truth = obj == NULL ? dflt : PyObject_IsTrue(obj);
    if (truth < 0)
        return -1;
    *out = truth != 0;
    return 0;
}

/* ---- touch and ULP ---- */

/* Both refuse while ext0 or GPIO wake is configured, whatever `wake` is. */
static PyObject *set_wake_flag(PyObject *args, PyObject *kwargs, bool ulp)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, 1, 0))
        return NULL;
    esim_wake_config *cfg = wake_config();
    if (cfg == NULL)
        return NULL;
    if (cfg->ext0_pin != -1 || cfg->gpio_pins != 0)
        return no_resources();
    bool wake;
    if (bool_arg(PyTuple_GET_ITEM(args, 0), false, &wake))
        return NULL;
    if (ulp)
        cfg->wake_on_ulp = wake;
    else
        cfg->wake_on_touch = wake;
    Py_RETURN_NONE;
}

static PyObject *esp32_wake_on_touch(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    return set_wake_flag(args, kwargs, false);
}

static PyObject *esp32_wake_on_ulp(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    return set_wake_flag(args, kwargs, true);
}

/* ---- ext0 ---- */

static const char *const pin_level_names[] = {"pin", "level"};

static int resolve_ext0_pin(esim_wake_config *cfg, PyObject *pin_obj)
{
    int pin;
    if (pin_obj == Py_None) {
        cfg->ext0_pin = -1;
        return 0;
    }
    if (pin_obj == NULL) {
        /* the default is the current pin as an int: -1 when none is set */
        if (cfg->ext0_pin == -1)
            return invalid_pin(), -1;
        return 0;
    }
    if (esim_py_pin_id(pin_obj, &pin))
        return -1;
    if (pin != cfg->ext0_pin) {
        if (!RTC_VALID_EXT_PIN(pin))
            return invalid_pin(), -1;
        cfg->ext0_pin = pin;
    }
    return 0;
}

static PyObject *esp32_wake_on_ext0(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    esim_wake_config *cfg = wake_config();
    if (cfg == NULL)
        return NULL;
    if (cfg->wake_on_touch)
        return no_resources();
    PyObject *vals[2];
    bool level;
    if (esim_py_parse_all(args, kwargs, pin_level_names, 2, vals) ||
        bool_arg(vals[1], cfg->ext0_level, &level) || resolve_ext0_pin(cfg, vals[0]))
        return NULL;
    cfg->ext0_level = level;
    cfg->ext0_wake_types = ESIM_WAKE_TYPE_SLEEP | ESIM_WAKE_TYPE_DEEPSLEEP;
    Py_RETURN_NONE;
}

/* ---- ext1 and GPIO ---- */

/* A tuple or list of pins as a bit mask; RTC pins only when `rtc_only`.
 * Nothing is changed on error. */
static int pin_mask_of(PyObject *pins, bool rtc_only, uint64_t *mask)
{
    if (!PyTuple_Check(pins) && !PyList_Check(pins)) {
        PyErr_Format(PyExc_TypeError, "object '%s' isn't a tuple or list", Py_TYPE(pins)->tp_name);
        return -1;
    }
    *mask = 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(pins); i++) {
        int pin;
        if (esim_py_pin_id(PySequence_Fast_GET_ITEM(pins, i), &pin))
            return -1;
        if (rtc_only && !RTC_VALID_EXT_PIN(pin))
            return invalid_pin(), -1;
        *mask |= UINT64_C(1) << pin;
    }
    return 0;
}

/* wake_on_ext1 / wake_on_gpio: pins=None keeps the pins already set. */
static PyObject *set_pin_wake(PyObject *args, PyObject *kwargs, uint64_t *pins, bool *level, bool rtc_only)
{
    static const char *const names[] = {"pins", "level"};
    PyObject *vals[2];
    uint64_t mask = *pins;
    bool new_level;
    if (esim_py_parse_all(args, kwargs, names, 2, vals) || bool_arg(vals[1], *level, &new_level))
        return NULL;
    if (vals[0] != NULL && vals[0] != Py_None && pin_mask_of(vals[0], rtc_only, &mask))
        return NULL;
    *level = new_level;
    *pins = mask;
    Py_RETURN_NONE;
}

static PyObject *esp32_wake_on_ext1(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    esim_wake_config *cfg = wake_config();
    return cfg ? set_pin_wake(args, kwargs, &cfg->ext1_pins, &cfg->ext1_level, true) : NULL;
}

static PyObject *esp32_wake_on_gpio(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    esim_wake_config *cfg = wake_config();
    if (cfg == NULL)
        return NULL;
    if (cfg->wake_on_ulp || cfg->wake_on_touch)
        return no_resources();
    return set_pin_wake(args, kwargs, &cfg->gpio_pins, &cfg->gpio_level, false);
}

/* ---- hold, temperature ---- */

static PyObject *esp32_gpio_deep_sleep_hold(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    bool enable;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, 1, 0) ||
        bool_arg(PyTuple_GET_ITEM(args, 0), false, &enable))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    esim_gpio_set_deep_sleep_hold(esim_device_gpio(board), enable);
    Py_RETURN_NONE;
}

static PyObject *esp32_raw_temperature(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    return PyLong_FromLong(esim_sensors_raw_temperature(esim_device_sensors(board)));
}

/* ---- the IDF heap ---- */

/* idf_heap_info(caps): a 4-tuple (total, free, largest free block, lowest
 * free ever) per registered heap whose caps include all of `caps`, in
 * registration order (0 matches every heap, -1 none). */
static PyObject *esp32_idf_heap_info(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    int32_t caps;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, 1, 0) ||
        esim_py_get_int(PyTuple_GET_ITEM(args, 0), &caps))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    const esim_heaps *heaps = esim_device_heaps(board);
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list != NULL && heaps != NULL && i < esim_heaps_count(heaps); i++) {
        esim_heap_info info;
        esim_heaps_get_info(heaps, i, &info);
        if ((info.caps & (uint32_t)caps) != (uint32_t)caps)
            continue;
        PyObject *t = Py_BuildValue("(nnnn)", (Py_ssize_t)info.total_bytes, (Py_ssize_t)info.free_bytes,
                                    (Py_ssize_t)info.largest_free_block, (Py_ssize_t)info.minimum_free_bytes);
        if (t == NULL || PyList_Append(list, t) < 0)
            Py_CLEAR(list);
        Py_XDECREF(t);
    }
    return list;
}

/* ---- the module ---- */

int esim_py_esp32_unsimulated(const char *name, PyObject *exc_type)
{
    if (strcmp(name, "PCNT") != 0)
        return 0;
    PyErr_SetString(exc_type, "esp32sim: esp32.PCNT is not simulated (no pulse counter)");
    return 1;
}

/* Module __getattr__ (PEP 562), called for names the module lacks. */
static PyObject *esp32___getattr__(PyObject *self, PyObject *name)
{
    (void)self;
    return esim_py_missing_attribute(name, esim_py_esp32_unsimulated);
}

#define ESP32_FN(name, doc) \
    {#name, (PyCFunction)(void (*)(void))esp32_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef esp32_functions[] = {
    ESP32_FN(wake_on_touch, "wake_on_touch(wake): whether a touch wakes the board from sleep."),
    ESP32_FN(wake_on_ulp, "wake_on_ulp(wake): whether the ULP can wake the board from sleep."),
    ESP32_FN(wake_on_ext0, "wake_on_ext0(pin, level): wake on one RTC pin's level."),
    ESP32_FN(wake_on_ext1, "wake_on_ext1(pins, level): wake on RTC pins, all low or any high."),
    ESP32_FN(wake_on_gpio, "wake_on_gpio(pins, level): wake from light sleep on GPIO levels."),
    ESP32_FN(gpio_deep_sleep_hold, "gpio_deep_sleep_hold(enable): keep held digital pads in deep sleep."),
    ESP32_FN(raw_temperature, "raw_temperature(): the temperature sensor's raw 8-bit reading."),
    ESP32_FN(idf_heap_info, "idf_heap_info(caps): (total, free, largest free, min free) of each IDF heap with caps."),
    {"__getattr__", esp32___getattr__, METH_O, "__getattr__(name): names a board has but the simulator lacks."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef esp32_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "esp32",
    .m_doc = "Functionality specific to the ESP32, on a simulated board.",
    .m_size = -1,
    .m_methods = esp32_functions,
};

static int add_constants(PyObject *m)
{
    return PyModule_AddObjectRef(m, "WAKEUP_ALL_LOW", Py_False) < 0 ||
                   PyModule_AddObjectRef(m, "WAKEUP_ANY_HIGH", Py_True) < 0 ||
                   PyModule_AddIntConstant(m, "HEAP_DATA", 4) < 0 ||
                   PyModule_AddIntConstant(m, "HEAP_EXEC", 1) < 0
               ? -1
               : 0;
}

PyObject *esim_py_make_esp32(void)
{
    PyObject *m = PyModule_Create(&esp32_module);
    if (m == NULL)
        return NULL;
    if (add_constants(m) < 0 || esim_py_add_partition_type(m) < 0 || esim_py_add_nvs_type(m) < 0 ||
        esim_py_add_rmt_type(m) < 0 || esim_py_add_ulp_type(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
