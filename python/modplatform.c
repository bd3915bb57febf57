/* esp32sim binding — MicroPython's `platform` module as the ESP32 firmware
 * has it (extmod/modplatform.c): fixed strings naming the firmware, the
 * Xtensa toolchain and the C library ESP-IDF builds it with. Board code
 * gets it through the board's import; CPython's own platform stays what it
 * is for the host. */
#include <stdio.h>

#include "binding.h"

/* ESP-IDF v5.5's toolchain: GCC 14.2.0 (esp-14.2.0) and newlib 4.3.0. */
#define BOARD_COMPILER "GCC 14.2.0"
#define BOARD_LIBC "newlib"
#define BOARD_LIBC_VERSION "4.3.0"
#define BOARD_IDF_VERSION "v5.5.2"

/* "MicroPython-1.28.0-xtensa-IDFv5.5.2-with-newlib4.3.0" */
static PyObject *platform_platform(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    (void)kwargs;   /* aliased and terse are accepted and ignored */
    if (esim_py_check_num(PyTuple_GET_SIZE(args), NULL, 0, 0, 0))
        return NULL;
    int v[3];
    esim_py_firmware_version(v);
    return PyUnicode_FromFormat("MicroPython-%d.%d.%d-xtensa-IDF%s-with-%s%s", v[0], v[1], v[2],
                                BOARD_IDF_VERSION, BOARD_LIBC, BOARD_LIBC_VERSION);
}

static PyObject *platform_python_compiler(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyUnicode_FromString(BOARD_COMPILER);
}

static PyObject *platform_libc_ver(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    (void)args;
    (void)kwargs;   /* CPython-style arguments are accepted and ignored */
    return Py_BuildValue("(ss)", BOARD_LIBC, BOARD_LIBC_VERSION);
}

static PyMethodDef platform_methods[] = {
    {"platform", (PyCFunction)(void (*)(void))platform_platform, METH_VARARGS | METH_KEYWORDS,
     "platform(): the firmware, the architecture, ESP-IDF and the C library."},
    {"python_compiler", platform_python_compiler, METH_NOARGS, "python_compiler(): the compiler the firmware was built with."},
    {"libc_ver", (PyCFunction)(void (*)(void))platform_libc_ver, METH_VARARGS | METH_KEYWORDS,
     "libc_ver(): ('newlib', version)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef platform_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "platform",
    .m_doc = "Identifies the board's firmware, as MicroPython's platform module.",
    .m_size = -1,
    .m_methods = platform_methods,
};

PyObject *esim_py_make_platform(void)
{
    return PyModule_Create(&platform_def);
}

/* sys.version as MicroPython writes it: the Python language version it
 * follows, then its banner. */
PyObject *esim_py_board_sys_version(void)
{
    return PyUnicode_FromString("3.4.0; MicroPython " ESIM_FIRMWARE_VERSION " on " ESIM_PY_FIRMWARE_DATE);
}
