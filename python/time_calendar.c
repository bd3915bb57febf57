/* esp32sim binding — time.gmtime, time.localtime and time.mktime of the
 * board's time module (extmod/modtime.c with the ESP32 port's clock):
 * 8-tuples (year, month, mday, hour, minute, second, weekday, yearday) over
 * seconds since 2000-01-01 on the board's RTC, which has no time zone, so
 * gmtime and localtime are one function. The calendar itself is the core's
 * (esp32sim/calendar.h), shared with machine.RTC. */
#include "binding.h"

#include "esp32sim/calendar.h"

#define MKTIME_LENGTH_ERROR "mktime needs a tuple of length 8 or 9"

static PyObject *civil_tuple(int64_t seconds)
{
    esim_civil_time t;
    esim_civil_from_seconds(seconds, &t);
    return Py_BuildValue("(Liiiiiii)", (long long)t.year, t.month, t.mday, t.hour, t.minute, t.second, t.weekday,
                         t.yearday);
}

static PyObject *raise_int_conversion(PyObject *obj)
{
    PyObject *name = PyType_GetName(Py_TYPE(obj));
    if (name != NULL) {
        PyErr_Format(PyExc_TypeError, "can't convert %U to int", name);
        Py_DECREF(name);
    }
    return NULL;
}

/* The seconds argument: an int, or anything int() takes without parsing
 * text (a float is truncated), as an unsigned machine word. */
static int get_timestamp(PyObject *obj, uint32_t *out)
{
    PyObject *as_int = NULL;
    if (PyLong_Check(obj))
        as_int = Py_NewRef(obj);
    else if (Py_TYPE(obj)->tp_as_number != NULL && Py_TYPE(obj)->tp_as_number->nb_int != NULL)
        as_int = PyNumber_Long(obj);
    else
        return raise_int_conversion(obj), -1;
    if (as_int == NULL)
        return -1;
    unsigned long long value = PyLong_AsUnsignedLongLong(as_int);
    Py_DECREF(as_int);
    if ((value == (unsigned long long)-1 && PyErr_Occurred()) || value > UINT32_MAX) {
        if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_SetString(PyExc_OverflowError, "overflow converting long int to machine word");
        return -1;
    }
    *out = (uint32_t)value;
    return 0;
}

/* localtime([secs]) and gmtime([secs]): secs None or left out is now. */
static PyObject *time_localtime(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 1, 0))
        return NULL;
    PyObject *secs = PyTuple_GET_SIZE(args) ? PyTuple_GET_ITEM(args, 0) : Py_None;
    if (secs == Py_None) {
        esim_device *board = esim_py_board();
        return board ? civil_tuple((int64_t)(esim_device_rtc_clock_us(board) / 1000000u)) : NULL;
    }
    uint32_t seconds;
    return get_timestamp(secs, &seconds) < 0 ? NULL : civil_tuple(seconds);
}

/* The fields of mktime's argument: a tuple or list of 8 or 9 ints. */
static int mktime_fields(PyObject *obj, int32_t f[6])
{
    if (!PyTuple_Check(obj) && !PyList_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "object '%s' isn't a tuple or list", Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(obj);
    if (n < 8 || n > 9) {
        PyErr_SetString(PyExc_TypeError, MKTIME_LENGTH_ERROR);
        return -1;
    }
    for (int i = 0; i < 6; i++)
        if (esim_py_get_int(PySequence_Fast_GET_ITEM(obj, i), &f[i]))
            return -1;
    return 0;
}

/* mktime(tuple): the inverse of localtime, fields out of range carried;
 * the seconds wrap to an unsigned machine word as on the board. */
static PyObject *time_mktime(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, 1, 0))
        return NULL;
    int32_t f[6];
    if (mktime_fields(PyTuple_GET_ITEM(args, 0), f) < 0)
        return NULL;
    int64_t seconds = esim_seconds_from_civil(f[0], f[1], f[2], f[3], f[4], f[5]);
    return PyLong_FromUnsignedLong((uint32_t)(uint64_t)seconds);
}

#define CAL_FN(name, fn, doc) {name, (PyCFunction)(void (*)(void))fn, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef calendar_functions[] = {
    CAL_FN("gmtime", time_localtime, "gmtime([secs]): the board's date and time as an 8-tuple."),
    CAL_FN("localtime", time_localtime, "localtime([secs]): the board's date and time as an 8-tuple."),
    CAL_FN("mktime", time_mktime, "mktime(tuple): seconds since 2000-01-01 of a localtime() tuple."),
    {NULL, NULL, 0, NULL},
};

PyMethodDef *esim_py_time_calendar_functions(void)
{
    return calendar_functions;
}
