/* esp32sim binding — esp32.ULP: the ULP-FSM co-processor of the current
 * board (ports/esp32/esp32_ulp.c; reference/micropython-esp32.md §5,
 * reference/ulp-isa.md §7; the emulator is src/ulp/).
 *
 * ULP() is a singleton acting on whichever board is current. Its errors
 * are not check_esp_err's: the raw esp_err_t becomes a one-argument
 * OSError (258, 260, 262). The program runs on the board's clock: as
 * time.sleep and friends advance it, and through deep sleep. */
#include "binding.h"

#include "esp32sim/ulp.h"

typedef struct {
    PyObject_HEAD
} ulp_object;

static PyObject *ulp_singleton;   /* the current interpreter's ULP() */

static esim_ulp *board_ulp(void)
{
    esim_device *board = esim_py_board();
    return board ? esim_device_ulp(board) : NULL;
}

/* MicroPython's fixed-arity methods count self among the arguments. */
static int takes(PyObject *args, PyObject *kwargs, Py_ssize_t n_with_self)
{
    return esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, n_with_self, n_with_self, 0);
}

static PyObject *ulp_result(esp_err_t err)
{
    if (err)
        return esim_py_raise_errno((int)err);
    Py_RETURN_NONE;
}

/* set_wakeup_period(period_index, period_us): both taken as machine
 * words, unsigned as the C API has them (a negative index is > 4). */
static PyObject *ulp_set_wakeup_period(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    uint32_t index, period_us;
    if (takes(args, kwargs, 3) || esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 0), &index) ||
        esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 1), &period_us))
        return NULL;
    esim_ulp *ulp = board_ulp();
    return ulp ? ulp_result(esim_ulp_set_wakeup_period(ulp, index, period_us)) : NULL;
}

/* load_binary(load_addr, program_binary): load_addr in 32-bit words, the
 * program's length in words (trailing bytes are dropped). */
static PyObject *ulp_load_binary(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    uint32_t load_addr;
    Py_buffer program;
    if (takes(args, kwargs, 3) || esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 0), &load_addr))
        return NULL;
    esim_ulp *ulp = board_ulp();
    if (ulp == NULL)
        return NULL;
    if (PyObject_GetBuffer(PyTuple_GET_ITEM(args, 1), &program, PyBUF_SIMPLE) < 0) {
        PyErr_SetString(PyExc_TypeError, "object with buffer protocol required");
        return NULL;
    }
    esp_err_t err = esim_ulp_load_binary(ulp, load_addr, program.buf, (size_t)program.len / 4u);
    PyBuffer_Release(&program);
    return ulp_result(err);
}

/* run(entry_point): the entry in bytes; ulp_run takes words. */
static PyObject *ulp_run(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    uint32_t entry;
    if (takes(args, kwargs, 2) || esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 0), &entry))
        return NULL;
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    uint64_t now_ps = esim_device_world_time_us(board) * 1000000u;
    esim_ulp *ulp = esim_device_ulp(board);
    esim_ulp_run_until(ulp, now_ps, false);   /* what ran before this call ran on the old entry */
    esim_ulp_run(ulp, entry / 4u, now_ps);
    Py_RETURN_NONE;
}

static PyObject *ulp_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0))
        return NULL;
    return Py_NewRef(ulp_singleton);
}

#define ULP_METHOD(name, doc) \
    {#name, (PyCFunction)(void (*)(void))ulp_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef ulp_methods[] = {
    ULP_METHOD(set_wakeup_period, "set_wakeup_period(period_index, period_us): a wakeup timer period."),
    ULP_METHOD(load_binary, "load_binary(load_addr, program_binary): load a .ulp binary at a word address."),
    ULP_METHOD(run, "run(entry_point): start the program at a byte address; the timer reruns it."),
    {NULL, NULL, 0, NULL},
};

static PyType_Slot ulp_slots[] = {
    {Py_tp_new, ulp_new},
    {Py_tp_methods, ulp_methods},
    {Py_tp_dealloc, esim_py_dealloc},
    {Py_tp_doc, (void *)"The ULP-FSM co-processor (a singleton)."},
    {0, NULL},
};

static PyType_Spec ulp_spec = {
    .name = "esp32.ULP",
    .basicsize = sizeof(ulp_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = ulp_slots,
};

int esim_py_add_ulp_type(PyObject *esp32_module)
{
    PyObject *type = PyType_FromSpec(&ulp_spec);
    if (type == NULL)
        return -1;
    /* one per interpreter: the esp32sim command starts a new one per boot */
    ulp_singleton = ((PyTypeObject *)type)->tp_alloc((PyTypeObject *)type, 0);
    PyObject *reserve = PyLong_FromUnsignedLong(ESIM_ULP_RESERVE_MEM);
    int err = ulp_singleton == NULL || reserve == NULL ||
              PyObject_SetAttrString(type, "RESERVE_MEM", reserve) < 0 ||
              PyModule_AddObjectRef(esp32_module, "ULP", type) < 0;
    Py_XDECREF(reserve);
    Py_DECREF(type);
    return err ? -1 : 0;
}
