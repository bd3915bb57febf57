/* esp32sim binding — machine.RTC: the calendar clock and the user memory
 * in RTC slow memory that survives deep sleep and resets but not power-off
 * (ports/esp32/machine_rtc.c; docs/python-machine.md).
 *
 * The user memory is where MicroPython's RTC_NOINIT variables put it:
 * a magic word, a length and 2048 data bytes in RTC slow memory (here at
 * offset 0x1000, past the ULP's reserved 2040 bytes and .rtc.data). RTC
 * slow memory is zero after power-on, so the magic does not match and the
 * memory reads empty, as on a board whose RTC lost power. */
#include "binding.h"

#include <string.h>

#include "esp32sim/calendar.h"

#define USER_MEM_OFFSET 0x1000u
#define USER_MEM_MAGIC 0x75507921u
#define USER_MEM_MAX 2048u

typedef struct {
    PyObject_HEAD
} rtc_object;

static PyObject *rtc_singleton;   /* the current interpreter's RTC() */

/* ---- the calendar (esp32sim/calendar.h) ---- */

static PyObject *datetime_now(esim_device *board)
{
    uint64_t us = esim_device_rtc_clock_us(board);
    esim_civil_time t;
    esim_civil_from_seconds((int64_t)(us / 1000000u), &t);
    return Py_BuildValue("(LiiiiiiI)", (long long)t.year, t.month, t.mday, t.weekday, t.hour, t.minute, t.second,
                         (unsigned)(us % 1000000u));
}

/* datetime((year, month, day, weekday, hours, minutes, seconds,
 * subseconds)): the weekday is ignored; subseconds are microseconds. */
static PyObject *datetime_set(esim_device *board, PyObject *tuple)
{
    PyObject *items = PySequence_Fast(tuple, "");
    if (items == NULL || (!PyTuple_Check(tuple) && !PyList_Check(tuple))) {
        Py_XDECREF(items);
        PyErr_Format(PyExc_TypeError, "object '%s' isn't a tuple or list", Py_TYPE(tuple)->tp_name);
        return NULL;
    }
    int32_t f[8];
    Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
    if (n != 8) {
        Py_DECREF(items);
        PyErr_Format(PyExc_ValueError, "requested length 8 but object has length %d", (int)n);
        return NULL;
    }
    for (int i = 0; i < 8; i++) {
        if (esim_py_get_int(PySequence_Fast_GET_ITEM(items, i), &f[i])) {
            Py_DECREF(items);
            return NULL;
        }
    }
    Py_DECREF(items);
    int64_t secs = esim_seconds_from_civil(f[0], f[1], f[2], f[4], f[5], f[6]);
    esim_device_set_rtc_clock_us(board, (uint64_t)(secs * 1000000 + f[7]));
    Py_RETURN_NONE;
}

static PyObject *rtc_datetime(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 1, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    if (PyTuple_GET_SIZE(args) == 0)
        return datetime_now(board);
    return datetime_set(board, PyTuple_GET_ITEM(args, 0));
}

static PyObject *rtc_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, 1, 0))
        return NULL;
    esim_device *board = esim_py_board();
    return board ? datetime_set(board, PyTuple_GET_ITEM(args, 0)) : NULL;
}

/* ---- the user memory ---- */

static uint32_t load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The RTC_NOINIT block: magic (4), length (2, little-endian), padding
 * (2), data. A block whose magic does not match (RTC memory lost) starts
 * empty. */
static uint8_t *user_memory(esim_device *board)
{
    uint8_t *block = esim_device_rtc_slow_mem(board) + USER_MEM_OFFSET;
    if (load_u32(block) != USER_MEM_MAGIC) {
        store_u32(block, USER_MEM_MAGIC);
        memset(block + 4, 0, 4);
    }
    return block;
}

static size_t user_length(const uint8_t *block)
{
    size_t len = (size_t)block[4] | (size_t)block[5] << 8;
    return len > USER_MEM_MAX ? USER_MEM_MAX : len;
}

static PyObject *store_user_memory(uint8_t *block, const void *data, size_t len)
{
    if (len > USER_MEM_MAX) {
        PyErr_SetString(PyExc_ValueError, "buffer too long");
        return NULL;
    }
    memcpy(block + 8, data, len);
    block[4] = (uint8_t)len;
    block[5] = (uint8_t)(len >> 8);
    Py_RETURN_NONE;
}

/* memory() gives the bytes stored; memory(data) stores any object with
 * the buffer protocol (a str as its UTF-8 bytes, as MicroPython reads it). */
static PyObject *rtc_memory(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 1, 0))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    uint8_t *block = user_memory(board);
    if (PyTuple_GET_SIZE(args) == 0)
        return PyBytes_FromStringAndSize((const char *)block + 8, (Py_ssize_t)user_length(block));
    PyObject *arg = PyTuple_GET_ITEM(args, 0);
    if (PyUnicode_Check(arg)) {
        Py_ssize_t n;
        const char *utf8 = PyUnicode_AsUTF8AndSize(arg, &n);
        return utf8 ? store_user_memory(block, utf8, (size_t)n) : NULL;
    }
    Py_buffer buf;
    if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0) {
        PyErr_SetString(PyExc_TypeError, "object with buffer protocol required");
        return NULL;
    }
    PyObject *result = store_user_memory(block, buf.buf, (size_t)buf.len);
    PyBuffer_Release(&buf);
    return result;
}

/* ---- the type ---- */

static PyObject *rtc_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0))
        return NULL;
    return Py_NewRef(rtc_singleton);
}

#define RTC_METHOD(name, doc) \
    {#name, (PyCFunction)(void (*)(void))rtc_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef rtc_methods[] = {
    RTC_METHOD(datetime, "datetime([(year, month, day, weekday, hours, minutes, seconds, us)]): get or set."),
    RTC_METHOD(init, "init(datetime): set the date and time."),
    RTC_METHOD(memory, "memory([data]): the bytes kept in RTC memory (at most 2048)."),
    {NULL, NULL, 0, NULL},
};

static PyType_Slot rtc_slots[] = {
    {Py_tp_new, rtc_new},
    {Py_tp_methods, rtc_methods},
    {Py_tp_doc, (void *)"The real-time clock and its memory (machine.RTC)."},
    {0, NULL},
};

static PyType_Spec rtc_spec = {
    .name = "machine.RTC",
    .basicsize = sizeof(rtc_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = rtc_slots,
};

int esim_py_add_rtc_type(PyObject *machine_module)
{
    PyObject *type = PyType_FromSpec(&rtc_spec);
    if (type == NULL)
        return -1;
    /* one RTC object per interpreter (the esp32sim command starts a new
     * interpreter at every boot; the old one's object went with it) */
    rtc_singleton = ((PyTypeObject *)type)->tp_alloc((PyTypeObject *)type, 0);
    if (rtc_singleton == NULL) {
        Py_DECREF(type);
        return -1;
    }
    int err = PyModule_AddObjectRef(machine_module, "RTC", type);
    Py_DECREF(type);
    return err;
}
