/* esp32sim binding — the firmware modules board code gets where CPython
 * has a module of the same name (docs/board-filesystem.md, "Firmware
 * modules").
 *
 * Board code runs in CPython, and MicroPython's json, struct, re, math ...
 * behave as CPython's do in everything scripts rely on, so their functions
 * are CPython's. What board code must not see is the rest of CPython's
 * module: a board has no time.strftime, sys.exc_info or math.gcd, and
 * libraries test for such names with hasattr() to choose their path. So
 * board code gets a view: a module holding only the names MicroPython
 * v1.28's ESP32 firmware has, whose missing attributes are reported in
 * MicroPython's words ("'module' object has no attribute 'gcd'").
 *
 * sys is a live view: its attributes are looked up on CPython's sys each
 * time (stdout, ps1 and path change at run time), and the ones MicroPython
 * lets scripts assign (path, argv, ps1, ps2) are assigned there. time is
 * the board's own module (modtime.c); io.open and builtins are the board's
 * (its filesystem, its __import__). Views are made once per interpreter:
 * like the firmware's modules they outlive soft resets. */
#include <string.h>

#include "binding.h"

#define KEY_VIEW_TYPE "esp32sim.board_module_type"
#define KEY_VIEW_PREFIX "esp32sim.view."

static const char *const sys_names[] = {
    "argv", "byteorder", "exit", "implementation", "maxsize", "modules", "path", "platform",
    "print_exception", "ps1", "ps2", "stderr", "stdin", "stdout", "version", "version_info", NULL,
};
static const char *const sys_assignable[] = {"argv", "path", "ps1", "ps2", NULL};
static const char *const json_names[] = {"dump", "dumps", "load", "loads", NULL};
static const char *const struct_names[] = {"calcsize", "pack", "pack_into", "unpack", "unpack_from", NULL};
static const char *const collections_names[] = {"OrderedDict", "deque", "namedtuple", NULL};
static const char *const re_names[] = {"compile", "match", "search", "sub", NULL};
static const char *const heapq_names[] = {"heapify", "heappop", "heappush", NULL};
static const char *const random_names[] = {"choice", "getrandbits", "randint", "random", "randrange", "seed",
                                           "uniform", NULL};
static const char *const hashlib_names[] = {"md5", "sha1", "sha256", NULL};
static const char *const io_names[] = {"BytesIO", "IOBase", "StringIO", NULL};
static const char *const select_names[] = {"POLLERR", "POLLHUP", "POLLIN", "POLLOUT", "poll", "select", NULL};
static const char *const array_names[] = {"array", NULL};
static const char *const math_names[] = {
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "copysign", "cos", "cosh", "degrees",
    "e", "erf", "erfc", "exp", "expm1", "fabs", "factorial", "floor", "fmod", "frexp", "gamma", "inf",
    "isclose", "isfinite", "isinf", "isnan", "ldexp", "lgamma", "log", "log10", "log2", "modf", "nan", "pi",
    "pow", "radians", "sin", "sinh", "sqrt", "tan", "tanh", "tau", "trunc", NULL,
};
static const char *const cmath_names[] = {"cos", "e", "exp", "log", "log10", "phase", "pi", "polar", "rect",
                                          "sin", "sqrt", NULL};

static int fill_time(PyObject *view);
static int fill_io(PyObject *view);
static int fill_builtins(PyObject *view);

typedef struct {
    const char *name;
    const char *const *names;     /* taken from CPython's module of that name */
    int (*fill)(PyObject *view);  /* or made by the binding */
    bool live;
} view_spec;

static const view_spec views[] = {
    {"sys", sys_names, NULL, true},
    {"time", NULL, fill_time, false},
    {"builtins", NULL, fill_builtins, false},
    {"io", io_names, fill_io, false},
    {"json", json_names, NULL, false},
    {"struct", struct_names, NULL, false},
    {"collections", collections_names, NULL, false},
    {"re", re_names, NULL, false},
    {"heapq", heapq_names, NULL, false},
    {"random", random_names, NULL, false},
    {"hashlib", hashlib_names, NULL, false},
    {"select", select_names, NULL, false},
    {"array", array_names, NULL, false},
    {"math", math_names, NULL, false},
    {"cmath", cmath_names, NULL, false},
};

static const view_spec *spec_of(const char *name)
{
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        if (strcmp(views[i].name, name) == 0)
            return &views[i];
    return NULL;
}

static bool listed(const char *const *names, PyObject *name)
{
    for (; names != NULL && *names != NULL; names++)
        if (PyUnicode_CompareWithASCIIString(name, *names) == 0)
            return true;
    return false;
}

/* The spec of a live view (sys), else NULL. */
static const view_spec *live_spec_of(PyObject *view)
{
    const char *name = PyModule_GetName(view);
    if (name == NULL) {
        PyErr_Clear();
        return NULL;
    }
    const view_spec *spec = strcmp(name, "sys") == 0 ? spec_of(name) : NULL;
    return spec && spec->live ? spec : NULL;
}

static PyObject *raise_no_attribute(PyObject *name)
{
    return PyErr_Format(PyExc_AttributeError, "'module' object has no attribute '%U'", name);
}

static PyObject *view_getattro(PyObject *self, PyObject *name)
{
    const view_spec *spec = live_spec_of(self);
    if (spec != NULL && PyUnicode_Check(name) && listed(spec->names, name)) {
        PyObject *host = PyImport_ImportModuleLevel(spec->name, NULL, NULL, NULL, 0);
        PyObject *value = host ? PyObject_GetAttr(host, name) : NULL;
        Py_XDECREF(host);
        if (value != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError))
            return value;
        PyErr_Clear();
        return raise_no_attribute(name);
    }
    PyObject *value = PyObject_GenericGetAttr(self, name);
    if (value == NULL && PyUnicode_Check(name) && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        return raise_no_attribute(name);
    }
    return value;
}

/* builtins.NAME = value overrides the built-in for board code, as
 * MICROPY_CAN_OVERRIDE_BUILTINS lets scripts do. */
static int override_builtin(PyObject *self, PyObject *name, PyObject *value)
{
    PyObject *all = esim_py_board_builtin(NULL);
    if (all == NULL)
        return -1;
    int rc = value ? PyDict_SetItem(all, name, value) : PyDict_DelItem(all, name);
    return rc < 0 ? -1 : PyObject_GenericSetAttr(self, name, value);
}

/* True when `module` is the firmware's view of its name (board code can
 * make modules of the same type with type(sys)('name'); those are its
 * own, and writable). */
static bool is_firmware_view(PyObject *module)
{
    const char *name = PyModule_GetName(module);
    PyObject *state = name ? esim_py_interp_state() : NULL;
    PyObject *key = state ? PyUnicode_FromFormat(KEY_VIEW_PREFIX "%s", name) : NULL;
    PyObject *view = key ? PyDict_GetItemWithError(state, key) : NULL;
    Py_XDECREF(key);
    PyErr_Clear();
    return view == module;
}

/* The firmware's modules are in ROM: only sys's path, argv, ps1 and ps2
 * and the built-ins can be assigned. */
static int view_setattro(PyObject *self, PyObject *name, PyObject *value)
{
    if (!is_firmware_view(self))
        return PyObject_GenericSetAttr(self, name, value);
    const view_spec *spec = live_spec_of(self);
    if (spec != NULL && PyUnicode_Check(name) && listed(sys_assignable, name)) {
        PyObject *host = PyImport_ImportModuleLevel(spec->name, NULL, NULL, NULL, 0);
        int rc = host ? PyObject_SetAttr(host, name, value) : -1;
        Py_XDECREF(host);
        return rc;
    }
    const char *module = PyModule_GetName(self);
    if (module != NULL && strcmp(module, "builtins") == 0 && PyUnicode_Check(name))
        return override_builtin(self, name, value);
    PyErr_Clear();
    if (PyUnicode_Check(name))
        raise_no_attribute(name);
    else
        PyErr_SetString(PyExc_TypeError, "attribute name must be a string");
    return -1;
}

/* The module type of views: a module whose type prints as 'module'. */
static PyObject *view_type(void)
{
    PyObject *state = esim_py_interp_state();
    PyObject *type = state ? PyDict_GetItemString(state, KEY_VIEW_TYPE) : NULL;
    if (type != NULL || state == NULL)
        return type;
    PyType_Slot slots[] = {
        {Py_tp_getattro, (void *)view_getattro},
        {Py_tp_setattro, (void *)view_setattro},
        {0, NULL},
    };
    PyType_Spec spec = {"builtins.module", 0, 0, Py_TPFLAGS_DEFAULT, slots};
    PyObject *made = PyType_FromSpecWithBases(&spec, (PyObject *)&PyModule_Type);
    if (made != NULL)
        ((PyTypeObject *)made)->tp_name = "module";   /* printed as <class 'module'> */
    if (made == NULL || PyDict_SetItemString(state, KEY_VIEW_TYPE, made) < 0) {
        Py_XDECREF(made);
        return NULL;
    }
    Py_DECREF(made);
    return made;
}

PyObject *esim_py_new_board_module(const char *name)
{
    PyObject *type = view_type();
    return type ? PyObject_CallFunction(type, "s", name) : NULL;
}

/* Copy the spec's names from CPython's module into the view. */
static int copy_names(PyObject *view, const view_spec *spec)
{
    PyObject *host = PyImport_ImportModuleLevel(spec->name, NULL, NULL, NULL, 0);
    if (host == NULL)
        return -1;
    int rc = 0;
    for (const char *const *n = spec->names; rc == 0 && n != NULL && *n != NULL; n++) {
        if (spec->live && !PyObject_HasAttrString(host, *n))
            continue;   /* sys.ps1 exists only once a prompt was shown */
        PyObject *value = PyObject_GetAttrString(host, *n);
        PyObject *key = value ? PyUnicode_InternFromString(*n) : NULL;
        rc = key ? PyObject_GenericSetAttr(view, key, value) : -1;
        Py_XDECREF(key);
        Py_XDECREF(value);
    }
    Py_DECREF(host);
    return rc;
}

static int fill_time(PyObject *view)
{
    return esim_py_add_board_time_functions(view);
}

static int fill_io(PyObject *view)
{
    PyObject *open = esim_py_board_builtin("open");
    return open ? PyModule_AddObjectRef(view, "open", open) : -1;
}

/* builtins: the names board code has as built-ins, its open, print and
 * __import__ among them. */
static int fill_builtins(PyObject *view)
{
    PyObject *all = esim_py_board_builtin(NULL);
    if (all == NULL)
        return -1;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(all, &pos, &key, &value)) {
        if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, "__name__") == 0)
            continue;
        if (PyObject_GenericSetAttr(view, key, value) < 0)
            return -1;
    }
    return 0;
}

static PyObject *make_view(const view_spec *spec)
{
    PyObject *view = esim_py_new_board_module(spec->name);
    if (view == NULL)
        return NULL;
    if ((spec->names != NULL && copy_names(view, spec) < 0) || (spec->fill != NULL && spec->fill(view) < 0))
        Py_CLEAR(view);
    return view;
}

bool esim_py_has_board_view(const char *name)
{
    return spec_of(name) != NULL;
}

PyObject *esim_py_board_view(const char *name)
{
    const view_spec *spec = spec_of(name);
    if (spec == NULL)
        return PyErr_Format(PyExc_ImportError, "no module named '%s'", name);
    PyObject *state = esim_py_interp_state();
    if (state == NULL)
        return NULL;
    PyObject *key = PyUnicode_FromFormat(KEY_VIEW_PREFIX "%s", name);
    PyObject *view = key ? Py_XNewRef(PyDict_GetItemWithError(state, key)) : NULL;
    if (key != NULL && view == NULL && !PyErr_Occurred()) {
        view = make_view(spec);
        if (view != NULL && PyDict_SetItem(state, key, view) < 0)
            Py_CLEAR(view);
    }
    Py_XDECREF(key);
    return view;
}
