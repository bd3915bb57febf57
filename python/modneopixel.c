/* esp32sim binding — the neopixel module: micropython-lib's NeoPixel
 * driver (micropython/drivers/led/neopixel, frozen into MicroPython's
 * ESP32 firmware), written in C.
 *
 * The class behaves as the Python one does. Its state is ordinary instance
 * attributes (pin, n, bpp, buf, timing) and the byte order is the class
 * attribute ORDER, so subclasses (APA106 sets ORDER to RGB) and code that
 * changes them work as on the board; write() calls the module's
 * `bitstream`, which `from machine import bitstream` put there. Argument
 * errors follow MicroPython's for Python functions, and buf is a bytearray
 * with MicroPython's rules: stored values are truncated to a byte. */
#include "binding.h"

#include <stddef.h>
#include <string.h>
#include <structmember.h>

#define DEFAULT_BPP 3
#define DEFAULT_TIMING 1   /* 800 kHz */
#define ENCODING_HIGH_LOW 0

typedef struct {
    PyObject_HEAD
    PyObject *dict;   /* the instance attributes */
} neopixel_object;

static struct PyModuleDef neopixel_def;

/* ---- a Python function's argument binding (mp_setup_code_state) ---- */

typedef struct {
    const char *const *names;   /* the parameters after self */
    Py_ssize_t n_params;
    Py_ssize_t n_defaults;      /* the last ones have defaults */
} signature;

/* The counts include self, as MicroPython's messages do. */
static int positional_mismatch(Py_ssize_t expected, Py_ssize_t given)
{
    PyErr_Format(PyExc_TypeError, "function takes %zd positional arguments but %zd were given", expected, given);
    return -1;
}

static Py_ssize_t param_index(const signature *sig, PyObject *name)
{
    const char *s = PyUnicode_AsUTF8(name);
    for (Py_ssize_t i = 0; s != NULL && i < sig->n_params; i++)
        if (strcmp(s, sig->names[i]) == 0)
            return i;
    return -1;
}

static int bind_keywords(const signature *sig, PyObject *kwargs, PyObject **out)
{
    Py_ssize_t pos = 0;
    PyObject *name, *value;
    while (PyDict_Next(kwargs, &pos, &name, &value)) {
        Py_ssize_t i = param_index(sig, name);
        if (i < 0) {
            PyErr_Format(PyExc_TypeError, "unexpected keyword argument '%U'", name);
            return -1;
        }
        if (out[i] != NULL) {
            PyErr_Format(PyExc_TypeError, "function got multiple values for argument '%U'", name);
            return -1;
        }
        out[i] = value;
    }
    /* the last required parameter missing is reported (self is #0) */
    for (Py_ssize_t i = sig->n_params - sig->n_defaults - 1; i >= 0; i--) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "function missing required positional argument #%zd", i + 1);
            return -1;
        }
    }
    return 0;
}

/* out[i]: the argument for names[i] (borrowed), NULL for a default. */
static int bind_args(const signature *sig, PyObject *args, PyObject *kwargs, PyObject **out)
{
    Py_ssize_t n_args = PyTuple_GET_SIZE(args), given = 1 + n_args, n_pos = 1 + sig->n_params;
    bool has_kwargs = kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0;
    if (given > n_pos)
        return positional_mismatch(n_pos, given);
    if (!has_kwargs && given < n_pos - sig->n_defaults)
        return positional_mismatch(n_pos - sig->n_defaults, given);
    for (Py_ssize_t i = 0; i < sig->n_params; i++)
        out[i] = i < n_args ? PyTuple_GET_ITEM(args, i) : NULL;
    return has_kwargs ? bind_keywords(sig, kwargs, out) : 0;
}

static int no_args(PyObject *args, PyObject *kwargs)
{
    static const signature none = {NULL, 0, 0};
    return bind_args(&none, args, kwargs, NULL);
}

/* ---- buf as MicroPython's bytearray ---- */

/* mp_get_index: an int (or bool) index, negative ones from the end. */
static int byte_index(PyObject *buf, PyObject *index_obj, Py_ssize_t *index)
{
    int32_t i;
    if (!PyLong_Check(index_obj)) {
        PyObject *name = PyType_GetName(Py_TYPE(index_obj));
        if (name != NULL)
            PyErr_Format(PyExc_TypeError, "bytearray indices must be integers, not %U", name);
        Py_XDECREF(name);
        return -1;
    }
    if (esim_py_get_int(index_obj, &i))
        return -1;
    Py_ssize_t len = PyByteArray_GET_SIZE(buf), at = i < 0 ? (Py_ssize_t)i + len : (Py_ssize_t)i;
    if (at < 0 || at >= len) {
        PyErr_SetString(PyExc_IndexError, "bytearray index out of range");
        return -1;
    }
    *index = at;
    return 0;
}

/* A bytearray stores any int truncated to its low byte. */
static int byte_value(PyObject *value, uint8_t *byte)
{
    uint32_t v;
    if (esim_py_get_int_truncated(value, &v))
        return -1;
    *byte = (uint8_t)v;
    return 0;
}

static int store_item(PyObject *buf, PyObject *index, PyObject *value)
{
    Py_ssize_t at;
    uint8_t byte;
    if (!PyByteArray_Check(buf))
        return PyObject_SetItem(buf, index, value);
    if (byte_index(buf, index, &at) || byte_value(value, &byte))
        return -1;
    PyByteArray_AS_STRING(buf)[at] = (char)byte;
    return 0;
}

static PyObject *load_item(PyObject *buf, PyObject *index)
{
    Py_ssize_t at;
    if (!PyByteArray_Check(buf))
        return PyObject_GetItem(buf, index);
    if (byte_index(buf, index, &at))
        return NULL;
    return PyLong_FromLong((uint8_t)PyByteArray_AS_STRING(buf)[at]);
}

/* ---- attribute helpers ---- */

static PyObject *attr(PyObject *self, const char *name)
{
    return PyObject_GetAttrString(self, name);
}

/* An attribute used as range()'s argument or a loop bound. */
static int int_attr(PyObject *self, const char *name, int32_t *out)
{
    PyObject *v = attr(self, name);
    int rc = v ? esim_py_get_int(v, out) : -1;
    Py_XDECREF(v);
    return rc;
}

static PyObject *item_at(PyObject *seq, Py_ssize_t i)
{
    PyObject *key = PyLong_FromSsize_t(i);
    PyObject *item = key ? PyObject_GetItem(seq, key) : NULL;
    Py_XDECREF(key);
    return item;
}

/* offset + self.ORDER[k] */
static PyObject *byte_position(PyObject *self, PyObject *offset, Py_ssize_t k)
{
    PyObject *order = attr(self, "ORDER");
    PyObject *slot = order ? item_at(order, k) : NULL;
    PyObject *pos = slot ? PyNumber_Add(offset, slot) : NULL;
    Py_XDECREF(order);
    Py_XDECREF(slot);
    return pos;
}

/* i * self.bpp */
static PyObject *pixel_offset(PyObject *self, PyObject *i)
{
    PyObject *bpp = attr(self, "bpp");
    PyObject *offset = bpp ? PyNumber_Multiply(i, bpp) : NULL;
    Py_XDECREF(bpp);
    return offset;
}

/* ---- __init__(self, pin, n, bpp=3, timing=1) ---- */

enum { ARG_PIN, ARG_N, ARG_BPP, ARG_TIMING, INIT_ARG_COUNT };

static PyObject *timing_of(PyObject *timing)
{
    if (timing == NULL)
        return Py_BuildValue("(iiii)", 400, 850, 800, 450);
    if (!PyLong_Check(timing))
        return Py_NewRef(timing);   /* the user's (high0, low0, high1, low1) */
    int fast = PyObject_IsTrue(timing);
    if (fast < 0)
        return NULL;
    return fast ? Py_BuildValue("(iiii)", 400, 850, 800, 450) : Py_BuildValue("(iiii)", 800, 1700, 1600, 900);
}

static int set_attr_new(PyObject *self, const char *name, PyObject *value)
{
    int rc = value ? PyObject_SetAttrString(self, name, value) : -1;
    Py_XDECREF(value);
    return rc;
}

/* self.buf = bytearray(n * bpp) */
static int make_buffer(PyObject *self, PyObject *n, PyObject *bpp)
{
    PyObject *size = PyNumber_Multiply(n, bpp);
    PyObject *buf = size ? PyObject_CallOneArg((PyObject *)&PyByteArray_Type, size) : NULL;
    Py_XDECREF(size);
    return set_attr_new(self, "buf", buf);
}

/* self.pin.init(pin.OUT) */
static int pin_to_output(PyObject *self, PyObject *pin)
{
    PyObject *own = attr(self, "pin");
    PyObject *out = own ? attr(pin, "OUT") : NULL;
    PyObject *name = out ? PyUnicode_FromString("init") : NULL;
    PyObject *r = name ? PyObject_CallMethodOneArg(own, name, out) : NULL;
    Py_XDECREF(own);
    Py_XDECREF(out);
    Py_XDECREF(name);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

static int neopixel_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static const char *const names[INIT_ARG_COUNT] = {"pin", "n", "bpp", "timing"};
    static const signature sig = {names, INIT_ARG_COUNT, 2};
    PyObject *a[INIT_ARG_COUNT];
    if (bind_args(&sig, args, kwargs, a))
        return -1;
    PyObject *bpp = a[ARG_BPP] ? Py_NewRef(a[ARG_BPP]) : PyLong_FromLong(DEFAULT_BPP);
    if (bpp == NULL)
        return -1;
    int rc = PyObject_SetAttrString(self, "pin", a[ARG_PIN]) || PyObject_SetAttrString(self, "n", a[ARG_N]) ||
        PyObject_SetAttrString(self, "bpp", bpp) || make_buffer(self, a[ARG_N], bpp) ||
        pin_to_output(self, a[ARG_PIN]) || set_attr_new(self, "timing", timing_of(a[ARG_TIMING]));
    Py_DECREF(bpp);
    return rc ? -1 : 0;
}

/* ---- len, indexing ---- */

static Py_ssize_t neopixel_len(PyObject *self)
{
    PyObject *n = attr(self, "n");
    Py_ssize_t len = n ? PyNumber_AsSsize_t(n, PyExc_OverflowError) : -1;
    Py_XDECREF(n);
    if (len < 0 && !PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "__len__() should return >= 0");
    return len;
}

/* self.buf[offset + self.ORDER[k]] = v[k], in Python's order: the value,
 * then buf, then the position. */
static int store_component(PyObject *self, PyObject *offset, PyObject *v, Py_ssize_t k)
{
    PyObject *value = item_at(v, k);
    PyObject *buf = value ? attr(self, "buf") : NULL;
    PyObject *pos = buf ? byte_position(self, offset, k) : NULL;
    int rc = pos ? store_item(buf, pos, value) : -1;
    Py_XDECREF(value);
    Py_XDECREF(buf);
    Py_XDECREF(pos);
    return rc;
}

static int set_pixel(PyObject *self, PyObject *i, PyObject *v)
{
    int32_t bpp;
    PyObject *offset = pixel_offset(self, i);
    if (offset == NULL)
        return -1;
    int rc = int_attr(self, "bpp", &bpp);
    for (int32_t k = 0; rc == 0 && k < bpp; k++)
        rc = store_component(self, offset, v, k);
    Py_DECREF(offset);
    return rc;
}

static int neopixel_ass_subscript(PyObject *self, PyObject *i, PyObject *v)
{
    if (v == NULL) {
        PyErr_SetString(PyExc_TypeError, "'NeoPixel' object doesn't support item deletion");
        return -1;
    }
    return set_pixel(self, i, v);
}

/* self.buf[offset + self.ORDER[k]] */
static PyObject *load_component(PyObject *self, PyObject *offset, Py_ssize_t k)
{
    PyObject *buf = attr(self, "buf");
    PyObject *pos = buf ? byte_position(self, offset, k) : NULL;
    PyObject *value = pos ? load_item(buf, pos) : NULL;
    Py_XDECREF(buf);
    Py_XDECREF(pos);
    return value;
}

static PyObject *neopixel_subscript(PyObject *self, PyObject *i)
{
    int32_t bpp;
    PyObject *offset = pixel_offset(self, i);
    if (offset == NULL || int_attr(self, "bpp", &bpp)) {
        Py_XDECREF(offset);
        return NULL;
    }
    PyObject *list = PyList_New(0);
    for (int32_t k = 0; list != NULL && k < bpp; k++) {
        PyObject *value = load_component(self, offset, k);
        if (value == NULL || PyList_Append(list, value) < 0)
            Py_CLEAR(list);
        Py_XDECREF(value);
    }
    Py_DECREF(offset);
    PyObject *tuple = list ? PyList_AsTuple(list) : NULL;
    Py_XDECREF(list);
    return tuple;
}

/* Iteration calls __getitem__(0), (1), ... until IndexError, as for the
 * Python class. */
static PyObject *neopixel_item(PyObject *self, Py_ssize_t i)
{
    PyObject *index = PyLong_FromSsize_t(i);
    PyObject *pixel = index ? neopixel_subscript(self, index) : NULL;
    Py_XDECREF(index);
    return pixel;
}

/* ---- fill, write ---- */

/* j = self.ORDER[k]; while j < len(buf): buf[j] = c; j += bpp */
static int fill_component(PyObject *self, PyObject *buf, Py_ssize_t len, int32_t bpp, PyObject *c, Py_ssize_t k)
{
    PyObject *order = attr(self, "ORDER");
    PyObject *first = order ? item_at(order, k) : NULL;
    int32_t j0 = 0;
    int rc = first ? esim_py_get_int(first, &j0) : -1;
    Py_XDECREF(order);
    Py_XDECREF(first);
    for (Py_ssize_t j = j0; rc == 0 && j < len; j += bpp) {
        PyObject *index = PyLong_FromSsize_t(j);
        rc = index ? store_item(buf, index, c) : -1;
        Py_XDECREF(index);
    }
    return rc;
}

static int fill_pixels(PyObject *self, PyObject *v)
{
    int32_t bpp;
    PyObject *buf = attr(self, "buf");
    if (buf == NULL)
        return -1;
    Py_ssize_t len = PyObject_Size(buf);
    int rc = len < 0 || int_attr(self, "bpp", &bpp) ? -1 : 0;
    for (int32_t k = 0; rc == 0 && k < bpp; k++) {
        PyObject *c = item_at(v, k);
        rc = c ? fill_component(self, buf, len, bpp, c, k) : -1;
        Py_XDECREF(c);
    }
    Py_DECREF(buf);
    return rc;
}

static PyObject *neopixel_fill(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static const char *const names[] = {"v"};
    static const signature sig = {names, 1, 0};
    PyObject *v;
    if (bind_args(&sig, args, kwargs, &v) || fill_pixels(self, v))
        return NULL;
    Py_RETURN_NONE;
}

/* bitstream(self.pin, 0, self.timing, self.buf), `bitstream` being the
 * module's global. */
static PyObject *neopixel_write(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (no_args(args, kwargs))
        return NULL;
    PyObject *module = PyType_GetModuleByDef(Py_TYPE(self), &neopixel_def);
    if (module == NULL)
        return NULL;
    PyObject *bitstream = PyObject_GetAttrString(module, "bitstream");
    if (bitstream == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_NameError, "name 'bitstream' isn't defined");
        }
        return NULL;
    }
    PyObject *pin = attr(self, "pin");
    PyObject *timing = pin ? attr(self, "timing") : NULL;
    PyObject *buf = timing ? attr(self, "buf") : NULL;
    PyObject *r = buf ? PyObject_CallFunction(bitstream, "OiOO", pin, ENCODING_HIGH_LOW, timing, buf) : NULL;
    Py_DECREF(bitstream);
    Py_XDECREF(pin);
    Py_XDECREF(timing);
    Py_XDECREF(buf);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

/* ---- the type ---- */

static int neopixel_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((neopixel_object *)self)->dict);
    return 0;
}

static int neopixel_clear(PyObject *self)
{
    Py_CLEAR(((neopixel_object *)self)->dict);
    return 0;
}

static void neopixel_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    neopixel_clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyMethodDef neopixel_methods[] = {
    {"fill", (PyCFunction)(void (*)(void))neopixel_fill, METH_VARARGS | METH_KEYWORDS,
     "fill(v): set every pixel to the colour tuple v."},
    {"write", (PyCFunction)(void (*)(void))neopixel_write, METH_VARARGS | METH_KEYWORDS,
     "write(): send buf to the pixels with machine.bitstream (blocking)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef neopixel_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(neopixel_object, dict), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot neopixel_slots[] = {
    {Py_tp_init, neopixel_init},
    {Py_tp_dealloc, neopixel_dealloc},
    {Py_tp_traverse, neopixel_traverse},
    {Py_tp_clear, neopixel_clear},
    {Py_tp_methods, neopixel_methods},
    {Py_tp_members, neopixel_members},
    {Py_mp_length, neopixel_len},
    {Py_mp_subscript, neopixel_subscript},
    {Py_mp_ass_subscript, neopixel_ass_subscript},
    {Py_sq_item, neopixel_item},
    {Py_tp_doc, (void *)"NeoPixel(pin, n, bpp=3, timing=1): a strip of n WS2812 pixels of bpp bytes on pin; "
                        "timing 1 is 800 kHz, 0 is 400 kHz, or a (high0, low0, high1, low1) tuple in ns."},
    {0, NULL},
};

static PyType_Spec neopixel_spec = {
    .name = "neopixel.NeoPixel",
    .basicsize = sizeof(neopixel_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = neopixel_slots,
};

/* ---- the module ---- */

static struct PyModuleDef neopixel_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "neopixel",
    .m_doc = "micropython-lib's NeoPixel (WS2812) driver on the simulated ESP32.",
    .m_size = -1,
};

static int add_class(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &neopixel_spec, NULL);
    if (type == NULL)
        return -1;
    PyObject *order = Py_BuildValue("(iiii)", 1, 0, 2, 3);   /* G R B W */
    int rc = order ? PyObject_SetAttrString(type, "ORDER", order) : -1;
    if (rc == 0)
        rc = PyModule_AddObjectRef(module, "NeoPixel", type);
    Py_XDECREF(order);
    Py_DECREF(type);
    return rc;
}

PyObject *esim_py_make_neopixel(PyObject *machine_module)
{
    PyObject *module = PyModule_Create(&neopixel_def);
    if (module == NULL)
        return NULL;
    PyObject *bitstream = PyObject_GetAttrString(machine_module, "bitstream");
    int rc = bitstream ? PyModule_AddObjectRef(module, "bitstream", bitstream) : -1;
    Py_XDECREF(bitstream);
    if (rc < 0 || add_class(module) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
