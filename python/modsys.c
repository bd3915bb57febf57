/* esp32sim binding — sys as the board's firmware shows it (board mode).
 *
 * Under the esp32sim command the whole interpreter stands for the board, so
 * sys says what MicroPython v1.28 on an ESP32_GENERIC board says:
 * sys.platform "esp32", sys.version and a sys.implementation naming
 * MicroPython (sys.version_info stays CPython's: its own library checks
 * it when board code imports json, re or collections). CPython
 * still needs sys.implementation.cache_tag to import its own modules, so
 * that attribute (and _multiarch, which sysconfig reads) stays. */
#include <stdio.h>

#include "binding.h"

/* .mpy files the firmware loads: version 6, sub-version 3, native code for
 * the xtensawin architecture (10): 6 | 3 << 8 | 10 << 10. */
#define MPY_VERSION 6
#define MPY_SUB_VERSION 3
#define MPY_ARCH_XTENSAWIN 10
#define BOARD_MPY (MPY_VERSION | MPY_SUB_VERSION << 8 | MPY_ARCH_XTENSAWIN << 10)
#define BOARD_BUILD "ESP32_GENERIC"

void esim_py_firmware_version(int version[3])
{
    version[0] = version[1] = version[2] = 0;
    if (sscanf(ESIM_FIRMWARE_VERSION, "v%d.%d.%d", &version[0], &version[1], &version[2]) != 3)
        version[0] = version[1] = version[2] = 0;
}

/* Copy attribute `name` of `from` into `kwargs` when it has it. */
static int keep_attribute(PyObject *kwargs, PyObject *from, const char *name)
{
    if (!PyObject_HasAttrString(from, name))
        return 0;
    PyObject *value = PyObject_GetAttrString(from, name);
    int rc = value ? PyDict_SetItemString(kwargs, name, value) : -1;
    Py_XDECREF(value);
    return rc;
}

static PyObject *implementation_kwargs(PyObject *host_impl)
{
    int v[3];
    esim_py_firmware_version(v);
    PyObject *kwargs = Py_BuildValue("{s:s,s:(iiis),s:s,s:i,s:s}", "name", "micropython", "version", v[0], v[1],
                                     v[2], "", "_machine", ESIM_PY_BOARD_MACHINE, "_mpy", BOARD_MPY, "_build",
                                     BOARD_BUILD);
    if (kwargs != NULL &&
        (keep_attribute(kwargs, host_impl, "cache_tag") < 0 || keep_attribute(kwargs, host_impl, "_multiarch") < 0))
        Py_CLEAR(kwargs);
    return kwargs;
}

static PyObject *board_implementation(void)
{
    PyObject *host_impl = PySys_GetObject("implementation");   /* borrowed */
    if (host_impl == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "esp32sim: sys.implementation is missing");
        return NULL;
    }
    PyObject *types = PyImport_ImportModule("types");
    PyObject *namespace = types ? PyObject_GetAttrString(types, "SimpleNamespace") : NULL;
    PyObject *kwargs = namespace ? implementation_kwargs(host_impl) : NULL;
    PyObject *args = kwargs ? PyTuple_New(0) : NULL;
    PyObject *impl = args ? PyObject_Call(namespace, args, kwargs) : NULL;
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    Py_XDECREF(namespace);
    Py_XDECREF(types);
    return impl;
}

/* sys.print_exception(exc, file=sys.stdout) */
static PyObject *sys_print_exception(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    static const char *const names[] = {"exc", "file"};
    PyObject *vals[2] = {NULL, NULL};
    if (esim_py_parse_all(args, kwargs, names, 2, vals) < 0)
        return NULL;
    if (vals[0] == NULL)
        return PyErr_Format(PyExc_TypeError, "function missing 1 required positional arguments");
    esim_py_print_exception(vals[1] == Py_None ? NULL : vals[1], vals[0]);
    Py_RETURN_NONE;
}

static PyMethodDef print_exception_def = {
    "print_exception", (PyCFunction)(void (*)(void))sys_print_exception, METH_VARARGS | METH_KEYWORDS,
    "print_exception(exc, file=sys.stdout): print the exception and its traceback as MicroPython does."};

static int add_print_exception(void)
{
    PyObject *fn = PyCFunction_New(&print_exception_def, NULL);
    int rc = fn ? PySys_SetObject("print_exception", fn) : -1;
    Py_XDECREF(fn);
    return rc;
}

int esim_py_install_board_sys(void)
{
    PyObject *platform = PyUnicode_FromString("esp32");
    int rc = platform ? PySys_SetObject("platform", platform) : -1;
    Py_XDECREF(platform);
    if (rc < 0)
        return -1;
    PyObject *impl = board_implementation();
    rc = impl ? PySys_SetObject("implementation", impl) : -1;
    Py_XDECREF(impl);
    PyObject *version = rc == 0 ? esim_py_board_sys_version() : NULL;
    rc = version ? PySys_SetObject("version", version) : -1;
    Py_XDECREF(version);
    return rc < 0 ? -1 : add_print_exception();
}
