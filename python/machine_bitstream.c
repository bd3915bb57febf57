/* esp32sim binding — machine.bitstream(pin, encoding, timing, data, /) as
 * MicroPython's ESP32 port up to v1.26 has it (extmod/machine_bitstream.c,
 * ports/esp32/machine_bitstream.c): the high/low encoding sent through the
 * bitstream RMT channel, or bit-banged by the CPU when that channel is
 * None, blocking on the board's clock (esp32sim/bitstream.h). */
#include "binding.h"

#include "esp32sim/bitstream.h"

#define ENCODING_HIGH_LOW 0
#define TIMING_COUNT 4

/* mp_get_buffer_raise(..., MP_BUFFER_READ): any buffer; a str gives its
 * UTF-8 bytes, as MicroPython's str does. */
typedef struct {
    Py_buffer view;
    bool has_view;
    const uint8_t *bytes;
    Py_ssize_t len;
} read_buffer;

static int get_read_buffer(PyObject *obj, read_buffer *b)
{
    b->has_view = false;
    if (PyUnicode_Check(obj)) {
        const char *s = PyUnicode_AsUTF8AndSize(obj, &b->len);
        b->bytes = (const uint8_t *)s;
        return s ? 0 : -1;
    }
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_SetString(PyExc_TypeError, "object with buffer protocol required");
        return -1;
    }
    b->has_view = true;
    b->bytes = b->view.buf;
    b->len = b->view.len;
    return 0;
}

static void release_read_buffer(read_buffer *b)
{
    if (b->has_view)
        PyBuffer_Release(&b->view);
    b->has_view = false;
}

/* mp_obj_get_array_fixed_n(timing, 4) and mp_obj_get_int of each item,
 * kept as the firmware keeps them: 32-bit unsigned (-1 is 4294967295). */
static int get_timing(PyObject *obj, uint32_t timing_ns[TIMING_COUNT])
{
    if (!PyTuple_CheckExact(obj) && !PyList_CheckExact(obj)) {
        PyObject *name = PyType_GetName(Py_TYPE(obj));
        if (name != NULL)
            PyErr_Format(PyExc_TypeError, "object '%U' isn't a tuple or list", name);
        Py_XDECREF(name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(obj);
    if (n != TIMING_COUNT) {
        PyErr_Format(PyExc_ValueError, "requested length %d but object has length %d", TIMING_COUNT, (int)n);
        return -1;
    }
    for (Py_ssize_t i = 0; i < TIMING_COUNT; i++) {
        int32_t ns;
        if (esim_py_get_int(PySequence_Fast_GET_ITEM(obj, i), &ns))
            return -1;
        timing_ns[i] = (uint32_t)ns;
    }
    return 0;
}

/* Send and wait, as the board does; then the pin interrupts that came
 * meanwhile run. */
static PyObject *send_bits(int pin, const uint32_t timing_ns[TIMING_COUNT], const read_buffer *data)
{
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    esp_err_t err = esim_device_bitstream(board, pin, esim_py_rmt_bitstream_channel(), timing_ns, data->bytes,
                                          (size_t)data->len);
    if (err == ESP_ERR_TIMEOUT && esim_device_time_limit_reached(board))
        return esim_py_time_limit(board, "");
    if (err)
        return esim_py_raise_esp_err(err);
    if (esim_py_run_pending_irqs() < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The arguments are taken in MicroPython's order: the pin, the encoding
 * as an int, the data's buffer, then the encoding's value and the
 * timing. */
static PyObject *machine_bitstream(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    int pin;
    int32_t encoding;
    uint32_t timing_ns[TIMING_COUNT];
    read_buffer data;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 4, 4, 0) ||
        esim_py_pin_id(PyTuple_GET_ITEM(args, 0), &pin) || esim_py_get_int(PyTuple_GET_ITEM(args, 1), &encoding) ||
        get_read_buffer(PyTuple_GET_ITEM(args, 3), &data))
        return NULL;
    PyObject *result = NULL;
    if (encoding != ENCODING_HIGH_LOW)
        PyErr_SetString(PyExc_ValueError, "encoding");
    else if (get_timing(PyTuple_GET_ITEM(args, 2), timing_ns) == 0)
        result = send_bits(pin, timing_ns, &data);
    release_read_buffer(&data);
    return result;
}

static PyMethodDef bitstream_functions[] = {
    {"bitstream", (PyCFunction)(void (*)(void))machine_bitstream, METH_VARARGS | METH_KEYWORDS,
     "bitstream(pin, encoding, timing, data, /): send data's bits on pin, blocking. encoding 0: each bit a "
     "high then a low pulse, timing = (high0, low0, high1, low1) in ns, most significant bit first."},
    {NULL, NULL, 0, NULL},
};

int esim_py_add_bitstream(PyObject *machine_module)
{
    return PyModule_AddFunctions(machine_module, bitstream_functions);
}
