/* esp32sim binding — MicroPython's `errno` module as the ESP32 firmware
 * has it (py/moderrno.c with the default name list): the 22 names
 * MicroPython exposes, with the values of ESP-IDF's C library (newlib),
 * which differ from Linux's for the network errors, and `errorcode`, which
 * maps each value back to its name. Board code imports it as errno or
 * uerrno (boardfs_py.c); the host keeps CPython's errno. */
#include "binding.h"

/* newlib's sys/errno.h, in MicroPython's order. */
static const struct {
    const char *name;
    int value;
} board_errnos[] = {
    {"EPERM", 1},
    {"ENOENT", 2},
    {"EIO", 5},
    {"EBADF", 9},
    {"EAGAIN", 11},
    {"ENOMEM", 12},
    {"EACCES", 13},
    {"EEXIST", 17},
    {"ENODEV", 19},
    {"EISDIR", 21},
    {"EINVAL", 22},
    {"EOPNOTSUPP", 95},
    {"EADDRINUSE", 112},
    {"ECONNABORTED", 113},
    {"ECONNREFUSED", 111},
    {"ECONNRESET", 104},
    {"EHOSTUNREACH", 118},
    {"EALREADY", 120},
    {"EINPROGRESS", 119},
    {"ENOBUFS", 105},
    {"ENOTCONN", 128},
    {"ETIMEDOUT", 116},
};

#define N_ERRNOS (sizeof board_errnos / sizeof board_errnos[0])

/* errorcode[value] = name for every entry. */
static PyObject *make_errorcode(void)
{
    PyObject *codes = PyDict_New();
    for (size_t i = 0; codes != NULL && i < N_ERRNOS; i++) {
        PyObject *key = PyLong_FromLong(board_errnos[i].value);
        PyObject *name = key ? PyUnicode_FromString(board_errnos[i].name) : NULL;
        if (name == NULL || PyDict_SetItem(codes, key, name) < 0)
            Py_CLEAR(codes);
        Py_XDECREF(key);
        Py_XDECREF(name);
    }
    return codes;
}

static int add_names(PyObject *module)
{
    for (size_t i = 0; i < N_ERRNOS; i++)
        if (PyModule_AddIntConstant(module, board_errnos[i].name, board_errnos[i].value) < 0)
            return -1;
    PyObject *codes = make_errorcode();
    if (codes == NULL)
        return -1;
    int rc = PyModule_AddObjectRef(module, "errorcode", codes);
    Py_DECREF(codes);
    return rc;
}

static struct PyModuleDef errno_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "errno",
    .m_doc = "The ESP32 firmware's error numbers, as MicroPython's errno module.",
    .m_size = -1,
};

PyObject *esim_py_make_errno(void)
{
    PyObject *module = PyModule_Create(&errno_def);
    if (module != NULL && add_names(module) < 0)
        Py_CLEAR(module);
    return module;
}

const char *esim_py_errno_name(long value)
{
    for (size_t i = 0; i < N_ERRNOS; i++)
        if (board_errnos[i].value == value)
            return board_errnos[i].name;
    return NULL;
}
