/* esp32sim binding — MicroPython's `binascii` module as the ESP32 firmware
 * has it (extmod/modbinascii.c, the hex helpers of py/objstr.c): hexlify,
 * unhexlify, a2b_base64, b2a_base64 and crc32, nothing else. Board code
 * imports it as binascii or ubinascii (boardfs_py.c); the host keeps
 * CPython's binascii.
 *
 * Where it differs from CPython's module, it follows the board:
 *   - data may be a str (taken as its UTF-8 bytes): MicroPython's str has
 *     the buffer protocol;
 *   - hexlify's separator is the first byte of a str or bytes, put between
 *     every two bytes;
 *   - unhexlify skips whitespace between byte pairs, as bytes.fromhex;
 *   - a2b_base64 skips what is not in the base64 alphabet;
 *   - errors are plain ValueError (the board has no binascii.Error). */
#include <string.h>

#include <zlib.h>

#include "binding.h"

/* py/objstr.c's fromhex since it skips whitespace (MicroPython PR 12057,
 * before v1.28): one message for a bad digit, a space inside a pair and a
 * lone digit at the end. */
#define MSG_NON_HEX "non-hex digit"
#define MSG_BAD_PADDING "incorrect padding"

/* PY_SSIZE_T_MAX needs POSIX's SSIZE_MAX, which strict C11 lacks. */
#define SSIZE_LIMIT ((Py_ssize_t)(SIZE_MAX >> 1))

/* ---- reading the data argument (mp_get_buffer_raise) ---- */

typedef struct {
    Py_buffer view;
    bool has_view;
    const uint8_t *bytes;
    Py_ssize_t len;
} data_arg;

/* Any object with the buffer protocol, or a str as its UTF-8 bytes; else
 * TypeError as MicroPython words it. Release with release_data. */
static int get_data(PyObject *obj, data_arg *arg)
{
    arg->has_view = false;
    if (PyUnicode_Check(obj)) {
        const char *utf8 = PyUnicode_AsUTF8AndSize(obj, &arg->len);
        if (utf8 == NULL)
            return -1;
        arg->bytes = (const uint8_t *)utf8;
        return 0;
    }
    if (PyObject_GetBuffer(obj, &arg->view, PyBUF_SIMPLE) < 0) {
        PyErr_SetString(PyExc_TypeError, "object with buffer protocol required");
        return -1;
    }
    arg->has_view = true;
    arg->bytes = arg->view.buf;
    arg->len = arg->view.len;
    return 0;
}

static void release_data(data_arg *arg)
{
    if (arg->has_view)
        PyBuffer_Release(&arg->view);
    arg->has_view = false;
}

static Py_ssize_t arg_count(PyObject *args)
{
    return PyTuple_GET_SIZE(args);
}

/* ---- hexlify / unhexlify ---- */

static char hex_digit(unsigned v)
{
    return "0123456789abcdef"[v & 15u];
}

/* Two lowercase digits per byte; with `sep`, its byte between each pair. */
static PyObject *hex_of(const uint8_t *in, Py_ssize_t n, const char *sep)
{
    if (n == 0)
        return PyBytes_FromStringAndSize(NULL, 0);
    if (n > SSIZE_LIMIT / 3)
        return PyErr_NoMemory();
    PyObject *out = PyBytes_FromStringAndSize(NULL, 2 * n + (sep ? n - 1 : 0));
    if (out == NULL)
        return NULL;
    char *p = PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (sep != NULL && i > 0)
            *p++ = *sep;
        *p++ = hex_digit(in[i] >> 4);
        *p++ = hex_digit(in[i]);
    }
    return out;
}

/* hexlify(data[, sep]): an empty separator gives its terminating NUL, as
 * on the board. */
static PyObject *binascii_hexlify(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 1, 2, 0))
        return NULL;
    data_arg data;
    if (get_data(PyTuple_GET_ITEM(args, 0), &data))
        return NULL;
    const char *sep = NULL;
    PyObject *result = NULL;
    if (data.len > 0 && arg_count(args) > 1)   /* b'' is b'' whatever sep is */
        sep = esim_py_get_str(PyTuple_GET_ITEM(args, 1), NULL);
    if (sep != NULL || data.len == 0 || arg_count(args) == 1)
        result = hex_of(data.bytes, data.len, sep);
    release_data(&data);
    return result;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* MicroPython's unichar_isspace: space, \t \n \v \f \r. */
static bool is_space(uint8_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Pairs of hex digits, whitespace allowed between pairs only. */
static PyObject *bytes_of_hex(const uint8_t *in, Py_ssize_t n)
{
    PyObject *out = PyBytes_FromStringAndSize(NULL, n / 2);
    if (out == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    Py_ssize_t len = 0;
    for (Py_ssize_t i = 0; i < n;) {
        if (is_space(in[i])) {
            i++;
            continue;
        }
        int high = hex_value(in[i]);
        int low = i + 1 < n ? hex_value(in[i + 1]) : -1;
        if (high < 0 || low < 0) {
            Py_DECREF(out);
            PyErr_SetString(PyExc_ValueError, MSG_NON_HEX);
            return NULL;
        }
        p[len++] = (uint8_t)(high << 4 | low);
        i += 2;
    }
    if (_PyBytes_Resize(&out, len) < 0)
        return NULL;
    return out;
}

/* A function of one data argument: decode(bytes, length). */
static PyObject *decode_data(PyObject *args, PyObject *kwargs, PyObject *(*decode)(const uint8_t *, Py_ssize_t))
{
    if (esim_py_check_num(arg_count(args), kwargs, 1, 1, 0))
        return NULL;
    data_arg data;
    if (get_data(PyTuple_GET_ITEM(args, 0), &data))
        return NULL;
    PyObject *result = decode(data.bytes, data.len);
    release_data(&data);
    return result;
}

static PyObject *binascii_unhexlify(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    return decode_data(args, kwargs, bytes_of_hex);
}

/* ---- base64 ---- */

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value of a base64 character, -1 for '=' and everything else. */
static int sextet_of(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* The board's lenient decoder: characters outside the alphabet are
 * skipped; a '=' ends the data when 2 bits are pending (after "xx="), or 4
 * with another '=' since the last valid character ("xxx==" cases); bits
 * still pending at the end are an error. */
static PyObject *decode_base64(const uint8_t *in, Py_ssize_t n)
{
    PyObject *out = PyBytes_FromStringAndSize(NULL, n / 4 * 3 + 3);
    if (out == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    Py_ssize_t len = 0;
    uint32_t acc = 0;
    int pending = 0;   /* bits of acc not yet output */
    bool pad_seen = false;   /* a '=' since the last valid character */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (in[i] == '=') {
            if (pending == 2 || (pending == 4 && pad_seen)) {
                pending = 0;
                break;
            }
            pad_seen = true;
        }
        int sextet = sextet_of(in[i]);
        if (sextet < 0)
            continue;
        pad_seen = false;
        acc = (acc << 6 | (uint32_t)sextet) & 0xffffffu;
        pending += 6;
        if (pending >= 8) {
            pending -= 8;
            p[len++] = (uint8_t)(acc >> pending);
        }
    }
    if (pending != 0) {
        Py_DECREF(out);
        PyErr_SetString(PyExc_ValueError, MSG_BAD_PADDING);
        return NULL;
    }
    if (_PyBytes_Resize(&out, len) < 0)
        return NULL;
    return out;
}

static PyObject *binascii_a2b_base64(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    return decode_data(args, kwargs, decode_base64);
}

/* Four characters for each 3 bytes, the last group padded with '='. */
static void encode_group(const uint8_t *in, Py_ssize_t n, char *out)
{
    uint32_t bits = (uint32_t)in[0] << 16;
    if (n > 1)
        bits |= (uint32_t)in[1] << 8;
    if (n > 2)
        bits |= in[2];
    out[0] = base64_alphabet[bits >> 18 & 63];
    out[1] = base64_alphabet[bits >> 12 & 63];
    out[2] = n > 1 ? base64_alphabet[bits >> 6 & 63] : '=';
    out[3] = n > 2 ? base64_alphabet[bits & 63] : '=';
}

static PyObject *encode_base64(const uint8_t *in, Py_ssize_t n, bool newline)
{
    Py_ssize_t groups = n / 3 + (n % 3 != 0);
    if (groups > (SSIZE_LIMIT - 1) / 4)
        return PyErr_NoMemory();
    PyObject *out = PyBytes_FromStringAndSize(NULL, groups * 4 + newline);
    if (out == NULL)
        return NULL;
    char *p = PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i += 3, p += 4)
        encode_group(in + i, n - i < 3 ? n - i : 3, p);
    if (newline)
        *p = '\n';
    return out;
}

/* b2a_base64(data, newline=True): mp_arg_parse_all after the data, so
 * newline may also be given by position, as the firmware accepts it. */
static PyObject *binascii_b2a_base64(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 1, SSIZE_LIMIT, 1))
        return NULL;
    static const char *const names[] = {"newline"};
    PyObject *rest = PyTuple_GetSlice(args, 1, arg_count(args));
    if (rest == NULL)
        return NULL;
    PyObject *vals[1];
    int err = esim_py_parse_all(rest, kwargs, names, 1, vals);
    Py_DECREF(rest);
    if (err)
        return NULL;
    int newline = vals[0] == NULL ? 1 : PyObject_IsTrue(vals[0]);
    if (newline < 0)
        return NULL;
    data_arg data;
    if (get_data(PyTuple_GET_ITEM(args, 0), &data))
        return NULL;
    PyObject *result = encode_base64(data.bytes, data.len, newline != 0);
    release_data(&data);
    return result;
}

/* ---- crc32 ---- */

/* crc32(data[, value]): zlib's CRC-32, continuing from `value` taken as a
 * 32-bit word; the result is unsigned. */
static PyObject *binascii_crc32(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 1, 2, 0))
        return NULL;
    data_arg data;
    if (get_data(PyTuple_GET_ITEM(args, 0), &data))
        return NULL;
    uint32_t crc = 0;
    if (arg_count(args) > 1 && esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 1), &crc)) {
        release_data(&data);
        return NULL;
    }
    crc = (uint32_t)crc32_z(crc, data.bytes, (z_size_t)data.len);
    release_data(&data);
    return PyLong_FromUnsignedLong(crc);
}

/* ---- the module ---- */

#define KW_FUNCTION(fn) ((PyCFunction)(void (*)(void))(fn)), METH_VARARGS | METH_KEYWORDS

static PyMethodDef binascii_methods[] = {
    {"hexlify", KW_FUNCTION(binascii_hexlify), "hexlify(data[, sep]): the bytes as lowercase hex digits."},
    {"unhexlify", KW_FUNCTION(binascii_unhexlify), "unhexlify(data): the bytes that pairs of hex digits give."},
    {"a2b_base64", KW_FUNCTION(binascii_a2b_base64), "a2b_base64(data): decode base64, skipping other characters."},
    {"b2a_base64", KW_FUNCTION(binascii_b2a_base64), "b2a_base64(data, newline=True): encode in base64."},
    {"crc32", KW_FUNCTION(binascii_crc32), "crc32(data[, value]): the CRC-32 of data, continuing from value."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef binascii_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "binascii",
    .m_doc = "Conversions between binary data and ASCII, as MicroPython's binascii module.",
    .m_size = -1,
    .m_methods = binascii_methods,
};

PyObject *esim_py_make_binascii(void)
{
    return PyModule_Create(&binascii_def);
}
