/* esp32sim binding — argument conversions with MicroPython's checks and
 * messages (py/obj.c, py/argcheck.c, ERROR_REPORTING_NORMAL). */
#include "binding.h"

static PyObject *type_name(PyObject *obj)
{
    return PyType_GetName(Py_TYPE(obj));
}

static int cannot_convert_to_int(PyObject *obj)
{
    PyObject *name = type_name(obj);
    if (name != NULL) {
        PyErr_Format(PyExc_TypeError, "can't convert %U to int", name);
        Py_DECREF(name);
    }
    return -1;
}

int esim_py_get_int(PyObject *obj, int32_t *out)
{
    if (!PyLong_Check(obj))
        return cannot_convert_to_int(obj);
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow || v < INT32_MIN || v > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "overflow converting long int to machine word");
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

int esim_py_get_int_truncated(PyObject *obj, uint32_t *out)
{
    if (!PyLong_Check(obj))
        return cannot_convert_to_int(obj);
    unsigned long long v = PyLong_AsUnsignedLongLongMask(obj);
    if (v == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    *out = (uint32_t)v;
    return 0;
}

const char *esim_py_get_str(PyObject *obj, Py_ssize_t *len)
{
    Py_ssize_t n = 0;
    const char *s = NULL;
    if (PyUnicode_Check(obj)) {
        s = PyUnicode_AsUTF8AndSize(obj, &n);
    } else if (PyBytes_Check(obj)) {
        s = PyBytes_AS_STRING(obj);
        n = PyBytes_GET_SIZE(obj);
    } else {
        PyObject *name = type_name(obj);
        if (name != NULL) {
            PyErr_Format(PyExc_TypeError, "can't convert '%U' object to str implicitly", name);
            Py_DECREF(name);
        }
        return NULL;
    }
    if (s != NULL && len != NULL)
        *len = n;
    return s;
}

int esim_py_check_num(Py_ssize_t n_args, PyObject *kwargs, Py_ssize_t n_min, Py_ssize_t n_max, int takes_kw)
{
    if (!takes_kw && kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0) {
        PyErr_SetString(PyExc_TypeError, "function doesn't take keyword arguments");
        return -1;
    }
    if (n_min == n_max && n_args != n_min) {
        PyErr_Format(PyExc_TypeError, "function takes %zd positional arguments but %zd were given", n_min, n_args);
        return -1;
    }
    if (n_args < n_min) {
        PyErr_Format(PyExc_TypeError, "function missing %zd required positional arguments", n_min - n_args);
        return -1;
    }
    if (n_args > n_max) {
        PyErr_Format(PyExc_TypeError, "function expected at most %zd arguments, got %zd", n_max, n_args);
        return -1;
    }
    return 0;
}

int esim_py_parse_all(PyObject *args, PyObject *kwargs, const char *const names[], int n, PyObject *vals[])
{
    Py_ssize_t n_pos = PyTuple_GET_SIZE(args), kw_used = 0;
    for (int i = 0; i < n; i++) {
        vals[i] = NULL;
        if (i < n_pos) {
            vals[i] = PyTuple_GET_ITEM(args, i);
        } else if (kwargs != NULL) {
            vals[i] = PyDict_GetItemString(kwargs, names[i]);
            kw_used += vals[i] != NULL;
        }
    }
    if (n_pos > n) {
        PyErr_SetString(PyExc_TypeError, "extra positional arguments given");
        return -1;
    }
    if (kwargs != NULL && kw_used < PyDict_GET_SIZE(kwargs)) {
        PyErr_SetString(PyExc_TypeError, "extra keyword arguments given");
        return -1;
    }
    return 0;
}

void esim_py_dealloc(PyObject *obj)
{
    PyTypeObject *type = Py_TYPE(obj);
    type->tp_free(obj);
    Py_DECREF(type);
}
