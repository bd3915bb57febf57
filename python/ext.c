/* esp32sim binding — the _esp32sim extension module. Importing it creates
 * the board modules (esp32, machine, micropython, neopixel, uctypes, btree and the
 * esp32sim control module), makes them importable by name, and adds the time additions. */
#include "binding.h"

/* The REPL's prompt forces the heap unlocked, as MicroPython's friendly
 * REPL does before reading each line. */
static PyObject *ext_heap_unlock_all(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    esim_py_heap_unlock_all();
    Py_RETURN_NONE;
}

static PyMethodDef ext_methods[] = {
    {"_heap_unlock_all", ext_heap_unlock_all, METH_NOARGS, "Unlock the board's heap (the REPL prompt's reset)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef ext_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_esp32sim",
    .m_doc = "Builds the simulated ESP32's modules; import esp32, machine, micropython or esp32sim instead.",
    .m_size = -1,
    .m_methods = ext_methods,
};

static int add_board_module(PyObject *ext, const char *name, PyObject *module)
{
    if (module == NULL)
        return -1;
    PyObject *modules = PyImport_GetModuleDict();
    int rc = PyModule_AddObjectRef(ext, name, module);
    /* Leave an entry that an import shim is filling in right now alone. */
    if (rc == 0 && PyDict_GetItemString(modules, name) == NULL)
        rc = PyDict_SetItemString(modules, name, module);
    Py_DECREF(module);
    return rc;
}

/* An attribute of _esp32sim only: board code gets it through the board's
 * __import__, CPython's own "os" stays what it is. */
static int add_private_module(PyObject *ext, const char *name, PyObject *module)
{
    if (module == NULL)
        return -1;
    int rc = PyModule_AddObjectRef(ext, name, module);
    Py_DECREF(module);
    return rc;
}

/* neopixel takes machine.bitstream from the machine module just made. */
static PyObject *make_neopixel(PyObject *ext)
{
    PyObject *machine = PyObject_GetAttrString(ext, "machine");
    PyObject *neopixel = machine ? esim_py_make_neopixel(machine) : NULL;
    Py_XDECREF(machine);
    return neopixel;
}

/* gc shares micropython's heap model (esim_py_make_gc). */
static PyObject *make_gc(PyObject *ext)
{
    PyObject *micropython = PyObject_GetAttrString(ext, "micropython");
    PyObject *gc = micropython ? esim_py_make_gc(micropython) : NULL;
    Py_XDECREF(micropython);
    return gc;
}

PyMODINIT_FUNC PyInit__esp32sim(void);

PyMODINIT_FUNC PyInit__esp32sim(void)
{
    PyObject *ext = PyModule_Create(&ext_module);
    if (ext == NULL)
        return NULL;
    if (add_board_module(ext, "esp32sim", esim_py_make_control()) < 0 ||
        add_board_module(ext, "esp32", esim_py_make_esp32()) < 0 ||
        add_board_module(ext, "machine", esim_py_make_machine()) < 0 ||
        add_board_module(ext, "micropython", esim_py_make_micropython()) < 0 ||
        add_board_module(ext, "neopixel", make_neopixel(ext)) < 0 ||
        add_board_module(ext, "uctypes", esim_py_make_uctypes()) < 0 ||
        add_board_module(ext, "btree", esim_py_make_btree()) < 0 ||
        add_private_module(ext, "os", esim_py_make_os()) < 0 ||
        add_private_module(ext, "gc", make_gc(ext)) < 0 ||
        add_private_module(ext, "platform", esim_py_make_platform()) < 0 ||
        add_private_module(ext, "binascii", esim_py_make_binascii()) < 0 ||
        add_private_module(ext, "errno", esim_py_make_errno()) < 0 ||
        add_private_module(ext, "asyncio", esim_py_make_asyncio()) < 0 ||
        esim_py_install_time(0) < 0) {
        Py_DECREF(ext);
        return NULL;
    }
    return ext;
}
