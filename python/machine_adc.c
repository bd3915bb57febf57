/* esp32sim binding — machine.ADC on the simulated ESP32, as MicroPython's
 * ESP32 port has it (extmod/machine_adc.c with ports/esp32/machine_adc.c
 * and adc.c): one object per ADC pin of both units, an attenuation per
 * channel and a width per unit, readings from the core's ideal ADC model
 * (esp32sim/sensors.h). */
#include <string.h>

#include "binding.h"

#define ATTEN_COUNT 4       /* ADC_ATTEN_DB_0 .. ADC_ATTEN_DB_11 */
#define DEFAULT_BITS 12
#define MIN_BITS 9
#define MAX_BITS 12
#define NO_ATTEN (-1)       /* init(): keep the attenuation */
#define MAX_ARG_COUNT 0xFFFF /* MP_OBJ_FUN_ARGS_MAX */

typedef struct {
    PyObject_HEAD
    int gpio;
    int unit;      /* 1 or 2 */
} adc_object;

/* The port keeps the attenuations and widths in C statics: one boot of
 * one board. The ADC objects themselves live as long as the interpreter. */
static struct {
    PyObject *adcs[ESIM_GPIO_COUNT];     /* NULL for pins without an ADC */
    bool keyed;
    uint64_t generation;
    uint32_t boot_count;
    uint8_t atten_plus_one[ESIM_GPIO_COUNT];   /* 0: channel not configured */
    uint8_t bits[2];                           /* per unit */
} adc;

static void follow_board(const esim_device *dev)
{
    uint64_t generation = esim_py_board_generation();
    uint32_t boots = esim_device_boot_count(dev);
    if (adc.keyed && adc.generation == generation && adc.boot_count == boots)
        return;
    adc.keyed = true;
    adc.generation = generation;
    adc.boot_count = boots;
    memset(adc.atten_plus_one, 0, sizeof adc.atten_plus_one);
    adc.bits[0] = adc.bits[1] = DEFAULT_BITS;
}

static esim_device *board_followed(void)
{
    esim_device *dev = esim_py_board();
    if (dev != NULL)
        follow_board(dev);
    return dev;
}

static adc_object *as_adc(PyObject *obj)
{
    return (adc_object *)obj;
}

/* ADC_ATTEN_MAX (4) while the channel has not been configured. */
static int atten_of(const adc_object *self)
{
    int stored = adc.atten_plus_one[self->gpio];
    return stored == 0 ? ATTEN_COUNT : stored - 1;
}

static int bits_of(const adc_object *self)
{
    return adc.bits[self->unit - 1];
}

/* adcN_config_channel_atten: the attenuation, and the pad handed to the
 * ADC (digital input, output and pulls off). */
static int set_atten(esim_device *dev, const adc_object *self, int32_t atten)
{
    esim_pad_config cfg;
    if (atten < 0 || atten >= ATTEN_COUNT) {
        PyErr_SetString(PyExc_ValueError, "invalid atten");
        return -1;
    }
    esim_gpio *pads = esim_device_gpio(dev);
    esim_gpio_get_config(pads, self->gpio, &cfg);
    cfg.input = cfg.output = cfg.pull_up = cfg.pull_down = false;
    esp_err_t err = esim_gpio_configure(pads, self->gpio, &cfg);
    if (err)
        return esim_py_raise_esp_err(err), -1;
    adc.atten_plus_one[self->gpio] = (uint8_t)(atten + 1);
    return 0;
}

/* init(*, atten=-1): a given attenuation is set; without one a channel
 * not yet configured gets 0 dB. mp_arg_parse_all's checks and order. */
static int init_adc(esim_device *dev, const adc_object *self, PyObject *args, Py_ssize_t first, PyObject *kwargs)
{
    int32_t atten = NO_ATTEN;
    Py_ssize_t kw_found = 0;
    if (PyTuple_GET_SIZE(args) > first) {
        PyErr_SetString(PyExc_TypeError, "extra positional arguments given");
        return -1;
    }
    PyObject *given = kwargs ? PyDict_GetItemString(kwargs, "atten") : NULL;
    if (given != NULL) {
        kw_found = 1;
        if (esim_py_get_int(given, &atten))
            return -1;
    }
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > kw_found) {
        PyErr_SetString(PyExc_TypeError, "extra keyword arguments given");
        return -1;
    }
    if (atten != NO_ATTEN)
        return set_atten(dev, self, atten);
    return atten_of(self) == ATTEN_COUNT ? set_atten(dev, self, 0) : 0;
}

/* ADC(pin, *, atten): any ADC1 or ADC2 pin, else ValueError("invalid pin"). */
static PyObject *adc_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    int gpio, channel;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, MAX_ARG_COUNT, 1) ||
        esim_py_pin_id(PyTuple_GET_ITEM(args, 0), &gpio))
        return NULL;
    if (esim_pin_adc_unit(gpio, &channel) == 0) {
        PyErr_SetString(PyExc_ValueError, "invalid pin");
        return NULL;
    }
    esim_device *dev = board_followed();
    if (dev == NULL || init_adc(dev, as_adc(adc.adcs[gpio]), args, 1, kwargs))
        return NULL;
    return Py_NewRef(adc.adcs[gpio]);
}

static PyObject *adc_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    esim_device *dev = board_followed();
    if (dev == NULL || init_adc(dev, as_adc(self), args, 0, kwargs))
        return NULL;
    Py_RETURN_NONE;
}

/* Methods count self among their arguments in MicroPython's messages. */
static int check_method_args(PyObject *args, PyObject *kwargs, Py_ssize_t n)
{
    return esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, n + 1, n + 1, 0);
}

/* The raw reading at the unit's width; a channel never configured on this
 * board reads at 0 dB. */
static int read_raw(PyObject *obj, uint32_t *raw)
{
    esim_device *dev = board_followed();
    if (dev == NULL)
        return -1;
    const adc_object *self = as_adc(obj);
    int atten = atten_of(self) == ATTEN_COUNT ? 0 : atten_of(self);
    *raw = esim_sensors_adc_raw(esim_device_sensors(dev), self->gpio, atten, bits_of(self));
    return 0;
}

static PyObject *adc_read(PyObject *self, PyObject *args, PyObject *kwargs)
{
    uint32_t raw;
    if (check_method_args(args, kwargs, 0) || read_raw(self, &raw))
        return NULL;
    return PyLong_FromUnsignedLong(raw);
}

/* The port's scaling to 16 bits: the reading shifted up, its top bits
 * repeated below (for 8..16-bit widths). */
static PyObject *adc_read_u16(PyObject *self, PyObject *args, PyObject *kwargs)
{
    uint32_t raw;
    if (check_method_args(args, kwargs, 0) || read_raw(self, &raw))
        return NULL;
    int bits = bits_of(as_adc(self));
    return PyLong_FromUnsignedLong(raw << (16 - bits) | raw >> (2 * bits - 16));
}

/* Calibration gives whole millivolts, returned in microvolts; the ideal
 * model maps the reading linearly onto the attenuation's full scale. */
static PyObject *adc_read_uv(PyObject *self, PyObject *args, PyObject *kwargs)
{
    uint32_t raw;
    if (check_method_args(args, kwargs, 0) || read_raw(self, &raw))
        return NULL;
    int atten = atten_of(as_adc(self)) == ATTEN_COUNT ? 0 : atten_of(as_adc(self));
    uint32_t max = (1u << bits_of(as_adc(self))) - 1u;
    uint32_t full_scale = (uint32_t)esim_sensors_adc_full_scale_mv(atten);
    uint32_t mv = (raw * full_scale + max / 2u) / max;
    return PyLong_FromUnsignedLong(mv * 1000u);
}

static PyObject *adc_atten(PyObject *self, PyObject *args, PyObject *kwargs)
{
    int32_t atten;
    if (check_method_args(args, kwargs, 1) || esim_py_get_int(PyTuple_GET_ITEM(args, 0), &atten))
        return NULL;
    esim_device *dev = board_followed();
    if (dev == NULL || set_atten(dev, as_adc(self), atten))
        return NULL;
    Py_RETURN_NONE;
}

/* width(bits): 9..12 (the WIDTH_* constants), for the whole unit. */
static PyObject *adc_width(PyObject *self, PyObject *args, PyObject *kwargs)
{
    int32_t bits;
    if (check_method_args(args, kwargs, 1) || esim_py_get_int(PyTuple_GET_ITEM(args, 0), &bits))
        return NULL;
    if (board_followed() == NULL)
        return NULL;
    if (bits < MIN_BITS || bits > MAX_BITS) {
        PyErr_SetString(PyExc_ValueError, "invalid bits");
        return NULL;
    }
    adc.bits[as_adc(self)->unit - 1] = (uint8_t)bits;
    Py_RETURN_NONE;
}

static PyObject *adc_repr(PyObject *self)
{
    esim_device *dev = esim_py_current_board_or_null();
    if (dev != NULL)
        follow_board(dev);
    return PyUnicode_FromFormat("ADC(Pin(%d), atten=%d)", as_adc(self)->gpio, atten_of(as_adc(self)));
}

#define ADC_METHOD(name, doc) \
    {#name, (PyCFunction)(void (*)(void))adc_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef adc_methods[] = {
    ADC_METHOD(init, "init(*, atten): set the attenuation (0 dB for a new channel when not given)."),
    ADC_METHOD(read_u16, "read_u16(): the reading scaled to 0..65535."),
    ADC_METHOD(read_uv, "read_uv(): the reading in microvolts (whole millivolts)."),
    ADC_METHOD(atten, "atten(value): set the attenuation (ATTN_0DB .. ATTN_11DB)."),
    ADC_METHOD(width, "width(bits): set the unit's width (WIDTH_9BIT .. WIDTH_12BIT)."),
    ADC_METHOD(read, "read(): the raw reading at the unit's width."),
    {NULL, NULL, 0, NULL},
};

static PyType_Slot adc_slots[] = {
    {Py_tp_new, adc_new},
    {Py_tp_repr, adc_repr},
    {Py_tp_methods, adc_methods},
    {Py_tp_dealloc, esim_py_dealloc},
    {Py_tp_doc, (void *)"ADC(pin, *, atten): an ADC channel (ADC1: GPIO 32..39, ADC2: 0, 2, 4, 12..15, 25..27)."},
    {0, NULL},
};

static PyType_Spec adc_spec = {
    .name = "machine.ADC",
    .basicsize = sizeof(adc_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = adc_slots,
};

static int add_constants(PyObject *type)
{
    static const struct { const char *name; long value; } constants[] = {
        {"ATTN_0DB", 0}, {"ATTN_2_5DB", 1}, {"ATTN_6DB", 2}, {"ATTN_11DB", 3},
        {"WIDTH_9BIT", 9}, {"WIDTH_10BIT", 10}, {"WIDTH_11BIT", 11}, {"WIDTH_12BIT", 12},
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

static int make_channels(PyTypeObject *type)
{
    int channel;
    for (int gpio = 0; gpio < ESIM_GPIO_COUNT; gpio++) {
        int unit = esim_pin_adc_unit(gpio, &channel);
        if (unit == 0)
            continue;
        adc_object *obj = PyObject_New(adc_object, type);
        adc.adcs[gpio] = (PyObject *)obj;
        if (obj == NULL)
            return -1;
        obj->gpio = gpio;
        obj->unit = unit;
    }
    return 0;
}

int esim_py_add_adc_type(PyObject *machine_module)
{
    memset(&adc, 0, sizeof adc);   /* a new interpreter */
    PyObject *type = PyType_FromSpec(&adc_spec);
    if (type == NULL)
        return -1;
    int rc = add_constants(type) < 0 || make_channels((PyTypeObject *)type) < 0 ? -1
           : PyModule_AddObjectRef(machine_module, "ADC", type);
    Py_DECREF(type);
    return rc;
}
