/* esp32sim binding — exceptions as MicroPython makes and prints them. */
#include "binding.h"

#include "esp32sim/err.h"

PyObject *esim_py_OSError;
PyObject *esim_py_Reset;
PyObject *esim_py_Panic;
PyObject *esim_py_TimeLimit;
PyObject *esim_py_PowerLoss;

static const char *errno_name(PyObject *arg)
{
    if (!PyLong_Check(arg) || PyBool_Check(arg))
        return NULL;
    int overflow = 0;
    long n = PyLong_AsLongAndOverflow(arg, &overflow);
    if (overflow || (n == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return NULL;
    }
    return esim_py_errno_name(n);
}

static PyObject *exception_args(PyObject *self)
{
    PyObject *args = PyObject_GetAttrString(self, "args");
    if (args != NULL && !PyTuple_Check(args)) {
        Py_DECREF(args);
        PyErr_SetString(PyExc_TypeError, "exception args must be a tuple");
        return NULL;
    }
    return args;
}

/* str(e): "[Errno N] NAME[: msg]", the lone argument, or the args tuple. */
static PyObject *oserror_str(PyObject *self)
{
    PyObject *args = exception_args(self);
    if (args == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    const char *name = (n == 1 || n == 2) ? errno_name(PyTuple_GET_ITEM(args, 0)) : NULL;
    PyObject *result;
    if (name != NULL && n == 2)
        result = PyUnicode_FromFormat("[Errno %S] %s: %S", PyTuple_GET_ITEM(args, 0), name, PyTuple_GET_ITEM(args, 1));
    else if (name != NULL)
        result = PyUnicode_FromFormat("[Errno %S] %s", PyTuple_GET_ITEM(args, 0), name);
    else if (n == 0)
        result = PyUnicode_FromString("");
    else if (n == 1)
        result = PyObject_Str(PyTuple_GET_ITEM(args, 0));
    else
        result = PyObject_Repr(args);
    Py_DECREF(args);
    return result;
}

/* repr(e): "OSError" followed by the args tuple, e.g. OSError(258,). */
static PyObject *oserror_repr(PyObject *self)
{
    PyObject *args = exception_args(self);
    if (args == NULL)
        return NULL;
    PyObject *result = PyUnicode_FromFormat("OSError%R", args);
    Py_DECREF(args);
    return result;
}

/* e.errno is args[0] whatever the number of args, as on MicroPython. */
static PyObject *oserror_errno(PyObject *self, void *closure)
{
    (void)closure;
    PyObject *args = exception_args(self);
    if (args == NULL)
        return NULL;
    PyObject *result = PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : Py_None;
    Py_INCREF(result);
    Py_DECREF(args);
    return result;
}

static PyGetSetDef oserror_getset[] = {
    {"errno", oserror_errno, NULL, "The error number: the first argument.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot oserror_slots[] = {
    {Py_tp_str, oserror_str},
    {Py_tp_repr, oserror_repr},
    {Py_tp_getset, oserror_getset},
    {Py_tp_doc, (void *)"OSError as MicroPython prints it."},
    {0, NULL},
};

static PyType_Spec oserror_spec = {
    .name = "builtins.OSError",
    .basicsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = oserror_slots,
};

int esim_py_errors_init(PyObject *control_module)
{
    esim_py_OSError = PyType_FromSpecWithBases(&oserror_spec, PyExc_OSError);
    esim_py_Reset = PyErr_NewExceptionWithDoc("esp32sim.Reset",
        "The board was reset (machine.reset()); the firmware unwinds.", PyExc_BaseException, NULL);
    esim_py_Panic = PyErr_NewExceptionWithDoc("esp32sim.Panic",
        "The CPU raised an unhandled exception (Guru Meditation); the board was reset.", PyExc_BaseException, NULL);
    esim_py_PowerLoss = PyErr_NewExceptionWithDoc("esp32sim.PowerLoss",
        "The board lost power in the middle of a flash operation (an armed power cut).", PyExc_BaseException, NULL);
    esim_py_TimeLimit = PyErr_NewExceptionWithDoc("esp32sim.TimeLimit",
        "The run's time limit was reached (or the board sleeps with nothing to wake it); the run ends.",
        PyExc_BaseException, NULL);
    if (esim_py_OSError == NULL || esim_py_Reset == NULL || esim_py_Panic == NULL || esim_py_PowerLoss == NULL ||
        esim_py_TimeLimit == NULL)
        return -1;
    if (PyModule_AddObjectRef(control_module, "OSError", esim_py_OSError) < 0 ||
        PyModule_AddObjectRef(control_module, "Reset", esim_py_Reset) < 0 ||
        PyModule_AddObjectRef(control_module, "Panic", esim_py_Panic) < 0 ||
        PyModule_AddObjectRef(control_module, "PowerLoss", esim_py_PowerLoss) < 0 ||
        PyModule_AddObjectRef(control_module, "TimeLimit", esim_py_TimeLimit) < 0)
        return -1;
    return 0;
}

static PyObject *raise_oserror(PyObject *args)
{
    if (args == NULL)
        return NULL;
    PyErr_SetObject(esim_py_OSError, args);
    Py_DECREF(args);
    return NULL;
}

PyObject *esim_py_raise_errno(int n)
{
    return raise_oserror(Py_BuildValue("(i)", n));
}

/* check_esp_err (ports/esp32/mphalport.c): the code becomes a negative
 * errno-like number in 32-bit arithmetic, with three codes mapped to real
 * errnos, and the name from esp_err_to_name. */
static int32_t esp_err_to_pcode(esp_err_t err)
{
    switch (err) {
    case ESP_ERR_NO_MEM: return 12;          /* ENOMEM */
    case ESP_ERR_TIMEOUT: return 116;        /* ETIMEDOUT, newlib's */
    case ESP_ERR_NOT_SUPPORTED: return 95;   /* EOPNOTSUPP */
    default: return (int32_t)(0u - (uint32_t)err);
    }
}

PyObject *esim_py_raise_esp_err(esp_err_t err)
{
    esim_device *board = esim_py_current_board_or_null();
    if (board != NULL && !esim_flash_powered(esim_device_flash(board))) {
        PyErr_SetString(esim_py_PowerLoss, "the board lost power during a flash operation");
        return NULL;
    }
    return raise_oserror(Py_BuildValue("(is)", (int)esp_err_to_pcode(err), esim_err_name(err)));
}

PyObject *esim_py_panic(const char *cause)
{
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    esim_device_hard_reset(board, ESIM_RST_PANIC);
    PyErr_Format(esim_py_Panic, "Guru Meditation Error: Core  1 panic'ed (%s). Exception was unhandled.", cause);
    return NULL;
}

PyObject *esim_py_time_limit(const esim_device *board, const char *what)
{
    uint64_t limit = esim_device_time_limit_us(board);
    if (limit == UINT64_MAX)
        PyErr_Format(esim_py_TimeLimit, "%s and nothing will wake it", what);
    else
        PyErr_Format(esim_py_TimeLimit, "time limit reached at %llu ms%s%s", (unsigned long long)(limit / 1000u),
                     what[0] ? ", " : "", what);
    return NULL;
}

/* ---- mp_call_function_1_protected ---- */

bool esim_py_unwinds_firmware(void)
{
    return PyErr_ExceptionMatches(esim_py_Reset) || PyErr_ExceptionMatches(esim_py_Panic) ||
           PyErr_ExceptionMatches(esim_py_PowerLoss) || PyErr_ExceptionMatches(esim_py_TimeLimit);
}

/* Write to `file` (sys.stdout when NULL), as the board prints to its UART. */
static void write_to(PyObject *file, PyObject *text)
{
    PyObject *out = file != NULL ? file : PySys_GetObject("stdout");
    const char *utf8 = text != NULL ? PyUnicode_AsUTF8(text) : NULL;
    if (out != NULL && out != Py_None && utf8 != NULL)
        PyFile_WriteString(utf8, out);
    PyErr_Clear();
}

static void print_traceback_frames(PyObject *file, PyObject *tb)
{
    PyObject *head = PyUnicode_FromString("Traceback (most recent call last):\n");
    write_to(file, head);
    Py_XDECREF(head);
    for (; tb != NULL && tb != Py_None; tb = (PyObject *)((PyTracebackObject *)tb)->tb_next) {
        PyCodeObject *code = PyFrame_GetCode(((PyTracebackObject *)tb)->tb_frame);
        PyObject *lineno = PyObject_GetAttrString(tb, "tb_lineno");
        PyObject *line = lineno ? PyUnicode_FromFormat("  File \"%U\", line %S, in %U\n", code->co_filename,
                                                       lineno, code->co_name) : NULL;
        write_to(file, line);
        Py_XDECREF(line);
        Py_XDECREF(lineno);
        Py_DECREF(code);
    }
}

/* mp_obj_print_exception: frames innermost last, no source lines (the
 * line number is read as an attribute: CPython computes it on demand),
 * then "Name: message". Something not an exception prints as str(). */
static void print_exception_to(PyObject *file, PyObject *value, PyObject *tb)
{
    esim_py_heap_guard_pause();
    bool is_exception = value != NULL && PyExceptionInstance_Check(value);
    if (is_exception && tb != NULL && tb != Py_None)   /* an exception never raised has no frames */
        print_traceback_frames(file, tb);
    PyObject *name = is_exception ? PyType_GetName(Py_TYPE(value)) : NULL;
    PyObject *text = value != NULL ? PyObject_Str(value) : NULL;
    PyObject *line = NULL;
    if (text != NULL)
        line = name ? PyUnicode_FromFormat("%U: %U\n", name, text) : PyUnicode_FromFormat("%U\n", text);
    write_to(file, line);
    Py_XDECREF(line);
    Py_XDECREF(text);
    Py_XDECREF(name);
    esim_py_heap_guard_resume();
}

static void print_exception(PyObject *value, PyObject *tb)
{
    print_exception_to(NULL, value, tb);
}

void esim_py_print_exception(PyObject *file, PyObject *exc)
{
    PyObject *tb = PyExceptionInstance_Check(exc) ? PyException_GetTraceback(exc) : NULL;
    print_exception_to(file, exc, tb);
    Py_XDECREF(tb);
}

int esim_py_call_protected(PyObject *function, PyObject *argument)
{
    PyObject *result = NULL;
    if (!PyCallable_Check(function)) {
        PyObject *name = PyType_GetName(Py_TYPE(function));
        if (name != NULL) {
            PyErr_Format(PyExc_TypeError, "'%U' object isn't callable", name);
            Py_DECREF(name);
        }
    } else {
        result = PyObject_CallOneArg(function, argument);
    }
    if (result != NULL) {
        Py_DECREF(result);
        return 0;
    }
    if (esim_py_unwinds_firmware())
        return -1;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL)
        PyException_SetTraceback(value, tb);
    print_exception(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyErr_Clear();
    return 0;
}

PyObject *esim_py_missing_attribute(PyObject *name, int (*unsimulated)(const char *name, PyObject *exc_type))
{
    const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    if (s == NULL && PyErr_Occurred())
        return NULL;
    if (s == NULL || !unsimulated(s, PyExc_AttributeError))
        PyErr_Format(PyExc_AttributeError, "'module' object has no attribute '%S'", name);
    return NULL;
}
