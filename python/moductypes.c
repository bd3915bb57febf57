/* esp32sim binding — MicroPython's uctypes module: C structures described
 * by descriptor dicts, read and written at addresses of the simulated
 * board (docs/uctypes.md).
 *
 * The encoding of descriptors, the size and alignment rules of sizeof, the
 * access rules and the error messages follow MicroPython's
 * extmod/moductypes.c as built for the ESP32 (32-bit words and pointers,
 * little-endian, no unaligned loads).
 *
 * Addresses are 32-bit board addresses. Two kinds of memory answer them:
 *  - the board's own address map (RTC slow and fast memory), through
 *    esim_device_mem_read/write: what the ULP sees, what machine.mem32 sees;
 *  - host buffers: addressof(obj) places obj's buffer in the "host window"
 *    HOST_BASE..HOST_BASE+HOST_SIZE (where an ESP32 maps external RAM) and
 *    keeps the object alive. Its address stays the same for as long as the
 *    module lives, except that when the window is full the buffers nobody
 *    else refers to any more are let go (a garbage collection) and their
 *    addresses reused.
 * Any other address faults as on the board: LoadProhibited or
 * StoreProhibited, and the board resets (esp32sim.Panic). */
#include "binding.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- descriptor encoding (a 31-bit small int) ---- */

enum {
    T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_UINT64, T_INT64,
    T_BFUINT8, T_BFINT8, T_BFUINT16, T_BFINT16, T_BFUINT32, T_BFINT32,
    T_FLOAT32, T_FLOAT64,
};
enum { AGG_STRUCT, AGG_PTR, AGG_ARRAY };
enum { LAYOUT_LITTLE_ENDIAN = 0, LAYOUT_BIG_ENDIAN = 1, LAYOUT_NATIVE = 2 };

#define TYPE_SHIFT 27              /* scalar type: bits 27..30 */
#define AGG_SHIFT 29               /* aggregate kind: bits 29..30 */
#define SCALAR_OFFSET_MASK 0x07FFFFFFu
#define AGG_OFFSET_MASK 0x1FFFFFFFu
#define BF_POS_SHIFT 17
#define BF_LEN_SHIFT 22
#define BF_OFFSET_MASK 0x1FFFFu
#define SMALL_INT_MIN (-0x40000000LL)
#define SMALL_INT_MAX 0x3FFFFFFFLL
#define POINTER_SIZE 4u            /* sizeof(void *) on the ESP32 */

/* TYPE2SMALLINT: the type in the top bits of a 31-bit signed value. */
static long type_code(unsigned type, unsigned shift)
{
    int32_t v = (int32_t)((uint32_t)type << (shift + 1));
    return (long)(v / 2);
}

/* ---- the host window ---- */

#define HOST_BASE 0x3F800000u
#define HOST_SIZE 0x00400000u      /* 4 MiB */
#define HOST_ALIGN 16u             /* a MicroPython heap block */

typedef struct {
    uint32_t base;
    uint32_t span;                 /* bytes of the window it occupies */
    Py_buffer view;                /* holds the object */
} host_block;

typedef struct {
    host_block *blocks;            /* sorted by base */
    size_t n_blocks;
    size_t cap;
    PyTypeObject *struct_type;
    PyTypeObject *bytes_type;
} uctypes_state;

static struct PyModuleDef uctypes_def;

static uctypes_state *state_of_object(PyObject *obj)
{
    return (uctypes_state *)PyType_GetModuleState(Py_TYPE(obj));
}

static const host_block *find_block(const uctypes_state *st, uint32_t addr, uint32_t n)
{
    for (size_t i = 0; i < st->n_blocks; i++) {
        const host_block *b = &st->blocks[i];
        if (addr >= b->base && (uint64_t)(addr - b->base) + n <= (uint64_t)b->view.len)
            return b;
    }
    return NULL;
}

static const host_block *block_holding(const uctypes_state *st, const void *buf)
{
    uintptr_t p = (uintptr_t)buf;
    for (size_t i = 0; i < st->n_blocks; i++) {
        uintptr_t start = (uintptr_t)st->blocks[i].view.buf;
        if (p >= start && p - start < (uintptr_t)st->blocks[i].view.len)
            return &st->blocks[i];
    }
    return NULL;
}

/* Let go of the buffers only the window still holds. */
static void collect_blocks(uctypes_state *st)
{
    size_t kept = 0;
    for (size_t i = 0; i < st->n_blocks; i++) {
        if (Py_REFCNT(st->blocks[i].view.obj) == 1)
            PyBuffer_Release(&st->blocks[i].view);
        else
            st->blocks[kept++] = st->blocks[i];
    }
    st->n_blocks = kept;
}

/* First fit: the index to insert at and the base, or -1 when full. */
static Py_ssize_t find_gap(const uctypes_state *st, uint32_t span, uint32_t *base)
{
    uint64_t candidate = HOST_BASE;
    for (size_t i = 0; i < st->n_blocks; i++) {
        if (st->blocks[i].base - candidate >= span) {
            *base = (uint32_t)candidate;
            return (Py_ssize_t)i;
        }
        candidate = (uint64_t)st->blocks[i].base + st->blocks[i].span;
    }
    if (HOST_BASE + (uint64_t)HOST_SIZE - candidate < span)
        return -1;
    *base = (uint32_t)candidate;
    return (Py_ssize_t)st->n_blocks;
}

static int insert_block(uctypes_state *st, Py_ssize_t at, const host_block *block)
{
    if (st->n_blocks == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 16;
        host_block *grown = PyMem_Realloc(st->blocks, cap * sizeof *grown);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        st->blocks = grown;
        st->cap = cap;
    }
    memmove(&st->blocks[at + 1], &st->blocks[at], (st->n_blocks - (size_t)at) * sizeof *block);
    st->blocks[at] = *block;
    st->n_blocks++;
    return 0;
}

/* Get obj's buffer, writable when it can be. */
static int get_buffer(PyObject *obj, Py_buffer *view)
{
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_SetString(PyExc_TypeError, "object with buffer protocol required");
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE) == 0)
        return 0;
    PyErr_Clear();
    return PyObject_GetBuffer(obj, view, PyBUF_SIMPLE);
}

/* The address of obj's buffer in the host window (placed there on first
 * use; a buffer inside one already placed gets its address in that). */
static int host_address(uctypes_state *st, PyObject *obj, uint32_t *addr)
{
    host_block block;
    if (get_buffer(obj, &block.view))
        return -1;
    const host_block *holder = block_holding(st, block.view.buf);
    if (holder != NULL) {
        *addr = holder->base + (uint32_t)((const char *)block.view.buf - (const char *)holder->view.buf);
        PyBuffer_Release(&block.view);
        return 0;
    }
    uint64_t span = ((uint64_t)block.view.len + HOST_ALIGN - 1) / HOST_ALIGN * HOST_ALIGN + HOST_ALIGN;
    Py_ssize_t at = span <= HOST_SIZE ? find_gap(st, (uint32_t)span, &block.base) : -1;
    if (at < 0 && span <= HOST_SIZE) {
        collect_blocks(st);
        at = find_gap(st, (uint32_t)span, &block.base);
    }
    if (at < 0) {
        PyErr_Format(PyExc_MemoryError, "memory allocation failed, allocating %zd bytes", block.view.len);
        PyBuffer_Release(&block.view);
        return -1;
    }
    block.span = (uint32_t)span;
    if (insert_block(st, at, &block)) {
        PyBuffer_Release(&block.view);
        return -1;
    }
    *addr = block.base;
    return 0;
}

/* ---- memory access ---- */

static esp_err_t board_read(esim_device *dev, uint32_t addr, uint8_t *out, uint32_t n)
{
    uint32_t v;
    if ((n == 2 || n == 4) && addr % n == 0) {
        esp_err_t err = esim_device_mem_read(dev, addr, n, &v);
        if (err)
            return err;
        for (uint32_t i = 0; i < n; i++)
            out[i] = (uint8_t)(v >> (8 * i));
        return ESP_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        esp_err_t err = esim_device_mem_read(dev, addr + i, 1, &v);
        if (err)
            return err;
        out[i] = (uint8_t)v;
    }
    return ESP_OK;
}

static esp_err_t board_write(esim_device *dev, uint32_t addr, const uint8_t *in, uint32_t n)
{
    uint32_t v = 0;
    if ((n == 1 || n == 2 || n == 4) && addr % n == 0) {
        for (uint32_t i = 0; i < n; i++)
            v |= (uint32_t)in[i] << (8 * i);
        return esim_device_mem_write(dev, addr, n, v);
    }
    for (uint32_t i = 0; i < n; i++) {   /* all or nothing */
        esp_err_t err = esim_device_mem_read(dev, addr + i, 1, &v);
        if (err)
            return err;
    }
    for (uint32_t i = 0; i < n; i++) {
        esp_err_t err = esim_device_mem_write(dev, addr + i, 1, in[i]);
        if (err)
            return err;
    }
    return ESP_OK;
}

static int fault(esp_err_t err, const char *cause)
{
    if (err == ESP_ERR_NOT_FOUND)
        esim_py_panic(cause);
    else
        esim_py_raise_esp_err(err);
    return -1;
}

static int mem_read(const uctypes_state *st, uint32_t addr, void *out, uint32_t n)
{
    if (n == 0)
        return 0;
    const host_block *b = find_block(st, addr, n);
    if (b != NULL) {
        memcpy(out, (const char *)b->view.buf + (addr - b->base), n);
        return 0;
    }
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return -1;
    esp_err_t err = board_read(dev, addr, out, n);
    return err ? fault(err, "LoadProhibited") : 0;
}

static int mem_write(const uctypes_state *st, uint32_t addr, const void *in, uint32_t n)
{
    if (n == 0)
        return 0;
    const host_block *b = find_block(st, addr, n);
    if (b != NULL) {
        if (b->view.readonly)   /* bytes: read-only, as in flash */
            return fault(ESP_ERR_NOT_FOUND, "StoreProhibited");
        memcpy((char *)b->view.buf + (addr - b->base), in, n);
        return 0;
    }
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return -1;
    esp_err_t err = board_write(dev, addr, in, n);
    return err ? fault(err, "StoreProhibited") : 0;
}

/* The Xtensa core has no unaligned 16- and 32-bit loads and stores. */
static int check_native_alignment(uint32_t addr, uint32_t size)
{
    uint32_t align = size > 4 ? 4 : size;
    if (addr % align) {
        esim_py_panic("LoadStoreAlignment");
        return -1;
    }
    return 0;
}

static PyObject *read_bytes(const uctypes_state *st, uint32_t addr, uint32_t n)
{
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, n);
    if (bytes != NULL && mem_read(st, addr, PyBytes_AS_STRING(bytes), n))
        Py_CLEAR(bytes);
    return bytes;
}

/* ---- scalar values ---- */

static uint32_t scalar_size(unsigned type)
{
    return type == T_FLOAT32 ? 4u : 1u << ((type & 7u) >> 1);
}

static bool is_bitfield(unsigned type) { return type >= T_BFUINT8 && type <= T_BFINT32; }

static bool big_endian(int32_t layout)
{
    return layout != LAYOUT_NATIVE && layout != LAYOUT_LITTLE_ENDIAN;
}

static uint64_t decode(const uint8_t *p, uint32_t n, bool big)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < n; i++)
        v |= (uint64_t)p[big ? n - 1 - i : i] << (8 * i);
    return v;
}

static void encode(uint64_t v, uint8_t *p, uint32_t n, bool big)
{
    for (uint32_t i = 0; i < n; i++)
        p[big ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

static uint64_t sign_extend(uint64_t v, uint32_t n)
{
    if (n < 8 && (v >> (8 * n - 1)) & 1u)
        v |= ~(uint64_t)0 << (8 * n);
    return v;
}

static PyObject *scalar_object(unsigned type, uint64_t v)
{
    if (type == T_FLOAT32) {
        uint32_t w = (uint32_t)v;
        float f;
        memcpy(&f, &w, sizeof f);
        return PyFloat_FromDouble(f);
    }
    if (type == T_FLOAT64) {
        double d;
        memcpy(&d, &v, sizeof d);
        return PyFloat_FromDouble(d);
    }
    if (type & 1u)
        return PyLong_FromLongLong((long long)sign_extend(v, scalar_size(type)));
    return PyLong_FromUnsignedLongLong(v);
}

static int cannot_convert(PyObject *value, const char *to)
{
    PyErr_Format(PyExc_TypeError, "can't convert %s to %s", Py_TYPE(value)->tp_name, to);
    return -1;
}

/* mp_obj_get_float then the store's rounding, or an int truncated to the
 * field's width. */
static int scalar_bits(unsigned type, PyObject *value, uint64_t *out)
{
    if (type == T_FLOAT32 || type == T_FLOAT64) {
        if (!PyFloat_Check(value) && !PyLong_Check(value))
            return cannot_convert(value, "float");
        double d = PyFloat_AsDouble(value);
        if (d == -1.0 && PyErr_Occurred())
            return -1;
        if (type == T_FLOAT64) {
            memcpy(out, &d, sizeof d);
            return 0;
        }
        float f = (isfinite(d) && fabs(d) > FLT_MAX) ? (float)copysign(INFINITY, d) : (float)d;
        uint32_t w;
        memcpy(&w, &f, sizeof w);
        *out = w;
        return 0;
    }
    if (!PyLong_Check(value))
        return cannot_convert(value, "int");
    unsigned long long v = PyLong_AsUnsignedLongLongMask(value);
    if (v == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    *out = v;
    return 0;
}

static PyObject *load_scalar(const uctypes_state *st, uint32_t addr, unsigned type, int32_t layout)
{
    uint8_t bytes[8];
    uint32_t n = scalar_size(type);
    if (layout == LAYOUT_NATIVE && check_native_alignment(addr, n))
        return NULL;
    if (mem_read(st, addr, bytes, n))
        return NULL;
    return scalar_object(type, decode(bytes, n, big_endian(layout)));
}

static int store_scalar(const uctypes_state *st, uint32_t addr, unsigned type, int32_t layout, PyObject *value)
{
    uint8_t bytes[8];
    uint64_t v;
    uint32_t n = scalar_size(type);
    if (scalar_bits(type, value, &v))
        return -1;
    if (layout == LAYOUT_NATIVE && check_native_alignment(addr, n))
        return -1;
    encode(v, bytes, n, big_endian(layout));
    return mem_write(st, addr, bytes, n);
}

/* A bitfield: the container is read (and written back) whole. Fields
 * read back unsigned, BFINT ones too, as MicroPython reads them. */
static PyObject *bitfield_op(const uctypes_state *st, uint32_t base, uint32_t code, unsigned type, int32_t layout,
                             PyObject *value)
{
    uint32_t pos = (code >> BF_POS_SHIFT) & 31u, len = (code >> BF_LEN_SHIFT) & 31u;
    uint32_t addr = base + (code & BF_OFFSET_MASK), n = scalar_size(type);
    uint8_t bytes[4];
    if (layout == LAYOUT_NATIVE && check_native_alignment(addr, n))
        return NULL;
    if (mem_read(st, addr, bytes, n))
        return NULL;
    uint32_t container = (uint32_t)decode(bytes, n, big_endian(layout));
    if (layout != LAYOUT_NATIVE && (type & 1u))
        container = (uint32_t)sign_extend(container, n);
    uint32_t mask = (1u << len) - 1u;
    if (value == NULL)
        return PyLong_FromUnsignedLong((container >> pos) & mask);
    int32_t v;
    if (esim_py_get_int(value, &v))
        return NULL;
    container = (container & ~(mask << pos)) | (((uint32_t)v & mask) << pos);
    encode(container, bytes, n, big_endian(layout));
    if (mem_write(st, addr, bytes, n))
        return NULL;
    return Py_NewRef(Py_None);
}

/* ---- descriptors ---- */

static PyObject *syntax_error(void)
{
    PyErr_SetString(PyExc_TypeError, "syntax error in uctypes descriptor");
    return NULL;
}

/* A MicroPython small int (31 bits): the descriptor's encoding unit. */
static bool small_int(PyObject *obj, uint32_t *out)
{
    if (!PyLong_CheckExact(obj))
        return false;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || v < SMALL_INT_MIN || v > SMALL_INT_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* An aggregate field (a tuple), checked: kind and offset. */
static int parse_aggregate(PyObject *tuple, unsigned *kind, uint32_t *offset)
{
    Py_ssize_t len = PyTuple_GET_SIZE(tuple);
    uint32_t code = 0;
    if (len < 2 || !small_int(PyTuple_GET_ITEM(tuple, 0), &code)) {
        syntax_error();
        return -1;
    }
    *kind = (code >> AGG_SHIFT) & 3u;
    *offset = code & AGG_OFFSET_MASK;
    bool ok = (*kind == AGG_ARRAY && len <= 3) || ((*kind == AGG_STRUCT || *kind == AGG_PTR) && len == 2);
    if (ok && *kind == AGG_ARRAY)
        ok = small_int(PyTuple_GET_ITEM(tuple, 1), &code);
    if (!ok) {
        syntax_error();
        return -1;
    }
    return 0;
}

static uint32_t array_count(PyObject *tuple)
{
    uint32_t code = 0;
    small_int(PyTuple_GET_ITEM(tuple, 1), &code);
    return code & SCALAR_OFFSET_MASK;
}

static unsigned array_type(PyObject *tuple)
{
    uint32_t code = 0;
    small_int(PyTuple_GET_ITEM(tuple, 1), &code);
    return (code >> TYPE_SHIFT) & 15u;
}

static int desc_size(PyObject *desc, int32_t layout, uint32_t *max_field, uint32_t *size);

static int aggregate_size(PyObject *tuple, int32_t layout, uint32_t *max_field, uint32_t *size)
{
    unsigned kind;
    uint32_t offset, item;
    if (parse_aggregate(tuple, &kind, &offset))
        return -1;
    if (kind == AGG_STRUCT)
        return desc_size(PyTuple_GET_ITEM(tuple, 1), layout, max_field, size);
    if (kind == AGG_PTR) {
        if (*max_field < POINTER_SIZE)
            *max_field = POINTER_SIZE;
        *size = POINTER_SIZE;
        return 0;
    }
    if (PyTuple_GET_SIZE(tuple) == 2) {
        item = scalar_size(array_type(tuple));
        if (*max_field < item)
            *max_field = item;
    } else if (desc_size(PyTuple_GET_ITEM(tuple, 2), layout, max_field, &item)) {
        return -1;
    }
    *size = item * array_count(tuple);
    return 0;
}

static int field_extent(PyObject *field, int32_t layout, uint32_t *max_field, uint32_t *end)
{
    uint32_t code = 0, size;
    if (small_int(field, &code)) {
        unsigned type = (code >> TYPE_SHIFT) & 15u;
        uint32_t offset = code & (is_bitfield(type) ? BF_OFFSET_MASK : SCALAR_OFFSET_MASK);
        size = scalar_size(type);
        if (*max_field < size)
            *max_field = size;
        *end = offset + size;
        return 0;
    }
    if (!PyTuple_Check(field)) {
        syntax_error();
        return -1;
    }
    if (aggregate_size(field, layout, max_field, &size))
        return -1;
    small_int(PyTuple_GET_ITEM(field, 0), &code);
    *end = (code & AGG_OFFSET_MASK) + size;
    return 0;
}

static int dict_size(PyObject *dict, int32_t layout, uint32_t *max_field, uint32_t *size)
{
    Py_ssize_t pos = 0;
    PyObject *key, *field;
    uint32_t total = 0, end;
    while (PyDict_Next(dict, &pos, &key, &field)) {
        if (field_extent(field, layout, max_field, &end))
            return -1;
        if (end > total)
            total = end;
    }
    if (layout == LAYOUT_NATIVE)   /* round up to the largest field */
        total = (total + *max_field - 1u) & ~(*max_field - 1u);
    *size = total;
    return 0;
}

static int desc_size(PyObject *desc, int32_t layout, uint32_t *max_field, uint32_t *size)
{
    uint32_t code = 0;
    int err;
    if (!PyDict_Check(desc) && !PyTuple_Check(desc)) {
        if (small_int(desc, &code))
            PyErr_SetString(PyExc_TypeError, "can't unambiguously get sizeof scalar");
        else
            syntax_error();
        return -1;
    }
    if (Py_EnterRecursiveCall(" in uctypes descriptor"))
        return -1;
    if (PyDict_Check(desc))
        err = dict_size(desc, layout, max_field, size);
    else
        err = aggregate_size(desc, layout, max_field, size);
    Py_LeaveRecursiveCall();
    return err;
}

static int sizeof_desc(PyObject *desc, int32_t layout, uint32_t *size)
{
    uint32_t max_field = 0;
    return desc_size(desc, layout, &max_field, size);
}

/* ---- struct objects ---- */

typedef struct {
    PyObject_HEAD
    PyObject *desc;
    uint32_t addr;
    int32_t layout;
} struct_object;

typedef struct {
    PyObject_HEAD
    uint32_t addr;
    uint32_t size;
} bytes_object;

static PyObject *new_struct(const uctypes_state *st, uint32_t addr, PyObject *desc, int32_t layout)
{
    struct_object *s = PyObject_New(struct_object, st->struct_type);
    if (s == NULL)
        return NULL;
    s->desc = Py_NewRef(desc);
    s->addr = addr;
    s->layout = layout;
    return (PyObject *)s;
}

static PyObject *new_bytes_view(const uctypes_state *st, uint32_t addr, uint32_t size)
{
    bytes_object *b = PyObject_New(bytes_object, st->bytes_type);
    if (b == NULL)
        return NULL;
    b->addr = addr;
    b->size = size;
    return (PyObject *)b;
}

static PyObject *struct_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    uint32_t addr;
    int32_t layout = LAYOUT_NATIVE;
    if (esim_py_check_num(n, kwargs, 2, 3, 0) || esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 0), &addr))
        return NULL;
    if (n == 3 && esim_py_get_int(PyTuple_GET_ITEM(args, 2), &layout))
        return NULL;
    return new_struct(PyType_GetModuleState(type), addr, PyTuple_GET_ITEM(args, 1), layout);
}

static void struct_dealloc(PyObject *obj)
{
    Py_DECREF(((struct_object *)obj)->desc);
    esim_py_dealloc(obj);
}

/* An aggregate field: a nested struct, a bytearray over a UINT8 array,
 * or a struct for an array or a pointer. */
static PyObject *aggregate_field(struct_object *self, PyObject *tuple)
{
    const uctypes_state *st = state_of_object((PyObject *)self);
    unsigned kind;
    uint32_t offset;
    if (parse_aggregate(tuple, &kind, &offset))
        return NULL;
    uint32_t addr = self->addr + offset;
    if (kind == AGG_STRUCT)
        return new_struct(st, addr, PyTuple_GET_ITEM(tuple, 1), self->layout);
    if (kind == AGG_ARRAY && PyTuple_GET_SIZE(tuple) == 2 && array_type(tuple) == T_UINT8)
        return new_bytes_view(st, addr, array_count(tuple));
    if (kind == AGG_ARRAY || kind == AGG_PTR)
        return new_struct(st, addr, tuple, self->layout);
    return syntax_error();
}

/* Load (value NULL) or store a field; a store returns None. */
static PyObject *field_op(struct_object *self, PyObject *name, PyObject *value)
{
    const uctypes_state *st = state_of_object((PyObject *)self);
    if (!PyDict_Check(self->desc)) {
        PyErr_SetString(PyExc_TypeError, "struct: no fields");
        return NULL;
    }
    PyObject *field = PyDict_GetItemWithError(self->desc, name);
    if (field == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, name);
        return NULL;
    }
    uint32_t code = 0;
    if (small_int(field, &code)) {
        unsigned type = (code >> TYPE_SHIFT) & 15u;
        if (is_bitfield(type))
            return bitfield_op(st, self->addr, code, type, self->layout, value);
        uint32_t addr = self->addr + (code & SCALAR_OFFSET_MASK);
        if (value == NULL)
            return load_scalar(st, addr, type, self->layout);
        return store_scalar(st, addr, type, self->layout, value) ? NULL : Py_NewRef(Py_None);
    }
    if (!PyTuple_Check(field) || value != NULL)   /* no assigning to an aggregate */
        return syntax_error();
    return aggregate_field(self, field);
}

/* Dunder names are the object's own (__class__, __doc__ ...). */
static bool is_dunder(PyObject *name)
{
    const char *s = PyUnicode_AsUTF8(name);
    return s == NULL || (s[0] == '_' && s[1] == '_');
}

static PyObject *struct_getattro(PyObject *obj, PyObject *name)
{
    if (!PyUnicode_Check(name) || is_dunder(name))
        return PyObject_GenericGetAttr(obj, name);
    return field_op((struct_object *)obj, name, NULL);
}

static int struct_setattro(PyObject *obj, PyObject *name, PyObject *value)
{
    if (!PyUnicode_Check(name) || is_dunder(name))
        return PyObject_GenericSetAttr(obj, name, value);
    /* MicroPython's `del s.field` loads the field and does nothing else. */
    PyObject *r = field_op((struct_object *)obj, name, value);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

static int get_index(PyObject *index, int64_t *out)
{
    if (!PyLong_Check(index))
        return cannot_convert(index, "int");
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow || v < INT32_MIN || v > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "overflow converting long int to machine word");
        return -1;
    }
    *out = v;
    return 0;
}

static PyObject *not_supported(const char *what)
{
    PyErr_Format(PyExc_TypeError, "'struct' object doesn't support item %s", what);
    return NULL;
}

/* Element `index` of an array field (value NULL: load). */
static PyObject *array_item(struct_object *self, PyObject *tuple, int64_t index, PyObject *value)
{
    const uctypes_state *st = state_of_object((PyObject *)self);
    if (index >= (int64_t)array_count(tuple)) {
        PyErr_SetString(PyExc_IndexError, "struct: index out of range");
        return NULL;
    }
    if (PyTuple_GET_SIZE(tuple) == 2) {
        unsigned type = array_type(tuple);
        if (is_bitfield(type))
            return syntax_error();
        uint32_t addr = self->addr + (uint32_t)(index * scalar_size(type));
        if (value == NULL)
            return load_scalar(st, addr, type, self->layout);
        return store_scalar(st, addr, type, self->layout, value) ? NULL : Py_NewRef(Py_None);
    }
    if (value != NULL)
        return not_supported("assignment");
    uint32_t size;
    if (sizeof_desc(PyTuple_GET_ITEM(tuple, 2), self->layout, &size))
        return NULL;
    return new_struct(st, self->addr + (uint32_t)(index * size), PyTuple_GET_ITEM(tuple, 2), self->layout);
}

/* The pointer a PTR struct holds: a native 32-bit load. */
static int pointer_value(const struct_object *self, uint32_t *ptr)
{
    const uctypes_state *st = state_of_object((PyObject *)self);
    uint8_t bytes[4];
    if (check_native_alignment(self->addr, 4) || mem_read(st, self->addr, bytes, 4))
        return -1;
    *ptr = (uint32_t)decode(bytes, 4, false);
    return 0;
}

/* Element `index` of what a pointer points to: scalars are native. */
static PyObject *pointer_item(struct_object *self, PyObject *tuple, int64_t index, PyObject *value)
{
    const uctypes_state *st = state_of_object((PyObject *)self);
    PyObject *target = PyTuple_GET_ITEM(tuple, 1);
    uint32_t ptr, code = 0, size;
    if (pointer_value(self, &ptr))
        return NULL;
    if (small_int(target, &code)) {
        unsigned type = (code >> TYPE_SHIFT) & 15u;
        if (is_bitfield(type))
            return syntax_error();
        uint32_t addr = ptr + (uint32_t)(index * scalar_size(type));
        if (value == NULL)
            return load_scalar(st, addr, type, LAYOUT_NATIVE);
        return store_scalar(st, addr, type, LAYOUT_NATIVE, value) ? NULL : Py_NewRef(Py_None);
    }
    if (value != NULL)
        return not_supported("assignment");
    if (sizeof_desc(target, self->layout, &size))
        return NULL;
    return new_struct(st, ptr + (uint32_t)(index * size), target, self->layout);
}

static PyObject *subscript_op(struct_object *self, PyObject *index_obj, PyObject *value)
{
    int64_t index;
    unsigned kind;
    uint32_t offset;
    if (!PyTuple_Check(self->desc)) {
        PyErr_SetString(PyExc_TypeError, "struct: can't index");
        return NULL;
    }
    if (parse_aggregate(self->desc, &kind, &offset) || get_index(index_obj, &index))
        return NULL;
    if (kind == AGG_ARRAY)
        return array_item(self, self->desc, index, value);
    if (kind == AGG_PTR)
        return pointer_item(self, self->desc, index, value);
    PyErr_SetString(PyExc_TypeError, "struct: can't index");
    return NULL;
}

static PyObject *struct_subscript(PyObject *obj, PyObject *index)
{
    return subscript_op((struct_object *)obj, index, NULL);
}

static int struct_ass_subscript(PyObject *obj, PyObject *index, PyObject *value)
{
    if (value == NULL) {
        not_supported("deletion");
        return -1;
    }
    PyObject *r = subscript_op((struct_object *)obj, index, value);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

static const char *struct_kind(const struct_object *self)
{
    uint32_t code = 0;
    if (PyDict_Check(self->desc))
        return "STRUCT";
    if (!PyTuple_Check(self->desc))
        return "ERROR";
    if (PyTuple_GET_SIZE(self->desc) > 0 && small_int(PyTuple_GET_ITEM(self->desc, 0), &code)) {
        unsigned kind = (code >> AGG_SHIFT) & 3u;
        if (kind == AGG_PTR)
            return "PTR";
        if (kind == AGG_ARRAY)
            return "ARRAY";
    }
    return "unk";
}

static PyObject *struct_repr(PyObject *obj)
{
    const struct_object *self = (const struct_object *)obj;
    char text[48];
    snprintf(text, sizeof text, "<struct %s %x>", struct_kind(self), (unsigned)self->addr);
    return PyUnicode_FromString(text);
}

/* int(p) of a pointer: the address it holds. */
static PyObject *struct_int(PyObject *obj)
{
    struct_object *self = (struct_object *)obj;
    if (strcmp(struct_kind(self), "PTR") == 0) {
        uint32_t ptr;
        return pointer_value(self, &ptr) ? NULL : PyLong_FromUnsignedLong(ptr);
    }
    cannot_convert(obj, "int");
    return NULL;
}

/* Buffer exports are read-only copies of the memory at the time. */
static int export_copy(PyObject *obj, Py_buffer *view, int flags, uint32_t addr, uint32_t size)
{
    if (flags & PyBUF_WRITABLE) {
        PyErr_SetString(PyExc_BufferError, "uctypes memory exports read-only copies");
        view->obj = NULL;
        return -1;
    }
    PyObject *copy = read_bytes(state_of_object(obj), addr, size);
    if (copy == NULL) {
        view->obj = NULL;
        return -1;
    }
    if (PyBuffer_FillInfo(view, obj, PyBytes_AS_STRING(copy), size, 1, flags) < 0) {
        Py_DECREF(copy);
        return -1;
    }
    view->internal = copy;
    return 0;
}

static void release_copy(PyObject *obj, Py_buffer *view)
{
    (void)obj;
    Py_XDECREF((PyObject *)view->internal);
}

static int struct_getbuffer(PyObject *obj, Py_buffer *view, int flags)
{
    const struct_object *self = (const struct_object *)obj;
    uint32_t size;
    if (sizeof_desc(self->desc, self->layout, &size)) {
        view->obj = NULL;
        return -1;
    }
    return export_copy(obj, view, flags, self->addr, size);
}

static PyType_Slot struct_slots[] = {
    {Py_tp_new, struct_new},
    {Py_tp_dealloc, struct_dealloc},
    {Py_tp_getattro, struct_getattro},
    {Py_tp_setattro, struct_setattro},
    {Py_tp_repr, struct_repr},
    {Py_mp_subscript, struct_subscript},
    {Py_mp_ass_subscript, struct_ass_subscript},
    {Py_nb_int, struct_int},
    {Py_bf_getbuffer, struct_getbuffer},
    {Py_bf_releasebuffer, release_copy},
    {Py_tp_doc, (void *)"struct(addr, descriptor, layout_type=NATIVE): a C structure at a board address."},
    {0, NULL},
};

static PyType_Spec struct_spec = {
    .name = "uctypes.struct",
    .basicsize = sizeof(struct_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = struct_slots,
};

/* ---- bytearray views (bytearray_at, UINT8 array fields) ---- */

static int bytes_read(const bytes_object *self, Py_ssize_t start, Py_ssize_t n, void *out)
{
    return mem_read(state_of_object((PyObject *)self), self->addr + (uint32_t)start, out, (uint32_t)n);
}

static Py_ssize_t bytes_length(PyObject *obj) { return ((bytes_object *)obj)->size; }

static PyObject *bytes_item(PyObject *obj, Py_ssize_t i)
{
    const bytes_object *self = (const bytes_object *)obj;
    uint8_t b;
    if (i < 0 || i >= (Py_ssize_t)self->size) {
        PyErr_SetString(PyExc_IndexError, "bytearray index out of range");
        return NULL;
    }
    return bytes_read(self, i, 1, &b) ? NULL : PyLong_FromLong(b);
}

static PyObject *bytes_slice(const bytes_object *self, PyObject *slice)
{
    Py_ssize_t start, stop, step;
    if (PySlice_Unpack(slice, &start, &stop, &step) < 0)
        return NULL;
    Py_ssize_t n = PySlice_AdjustIndices(self->size, &start, &stop, step);
    PyObject *out = PyByteArray_FromStringAndSize(NULL, n);
    if (out == NULL)
        return NULL;
    char *dst = PyByteArray_AS_STRING(out);
    int err = step == 1 ? bytes_read(self, start, n, dst) : 0;
    for (Py_ssize_t i = 0; step != 1 && !err && i < n; i++)
        err = bytes_read(self, start + i * step, 1, dst + i);
    if (err)
        Py_CLEAR(out);
    return out;
}

static PyObject *bytes_subscript(PyObject *obj, PyObject *index)
{
    const bytes_object *self = (const bytes_object *)obj;
    if (PySlice_Check(index))
        return bytes_slice(self, index);
    Py_ssize_t i = PyNumber_AsSsize_t(index, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    return bytes_item(obj, i < 0 ? i + (Py_ssize_t)self->size : i);
}

static int bytes_store_slice(const bytes_object *self, PyObject *slice, PyObject *value)
{
    Py_ssize_t start, stop, step;
    Py_buffer src;
    if (PySlice_Unpack(slice, &start, &stop, &step) < 0)
        return -1;
    Py_ssize_t n = PySlice_AdjustIndices(self->size, &start, &stop, step);
    if (get_buffer(value, &src))
        return -1;
    int err = 0;
    if (src.len != n || (step != 1 && n > 0)) {
        PyErr_SetString(PyExc_ValueError, "bytearray_at: a slice store must keep the size (step 1)");
        err = -1;
    } else {
        err = mem_write(state_of_object((PyObject *)self), self->addr + (uint32_t)start, src.buf, (uint32_t)n);
    }
    PyBuffer_Release(&src);
    return err;
}

static int bytes_ass_subscript(PyObject *obj, PyObject *index, PyObject *value)
{
    const bytes_object *self = (const bytes_object *)obj;
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "'bytearray' object doesn't support item deletion");
        return -1;
    }
    if (PySlice_Check(index))
        return bytes_store_slice(self, index, value);
    Py_ssize_t i = PyNumber_AsSsize_t(index, PyExc_IndexError);
    int32_t v;
    if ((i == -1 && PyErr_Occurred()) || esim_py_get_int(value, &v))
        return -1;
    if (i < 0)
        i += self->size;
    if (i < 0 || i >= (Py_ssize_t)self->size) {
        PyErr_SetString(PyExc_IndexError, "bytearray index out of range");
        return -1;
    }
    uint8_t b = (uint8_t)v;
    return mem_write(state_of_object(obj), self->addr + (uint32_t)i, &b, 1);
}

static PyObject *bytes_copy(PyObject *obj)
{
    const bytes_object *self = (const bytes_object *)obj;
    return read_bytes(state_of_object(obj), self->addr, self->size);
}

static PyObject *bytes_repr(PyObject *obj)
{
    PyObject *copy = bytes_copy(obj);
    PyObject *text = copy ? PyUnicode_FromFormat("bytearray(%R)", copy) : NULL;
    Py_XDECREF(copy);
    return text;
}

static PyObject *bytes_richcompare(PyObject *obj, PyObject *other, int op)
{
    if (!PyObject_CheckBuffer(other) || (op != Py_EQ && op != Py_NE))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *copy = bytes_copy(obj);
    PyObject *other_copy = copy ? PyBytes_FromObject(other) : NULL;
    PyObject *r = other_copy ? PyObject_RichCompare(copy, other_copy, op) : NULL;
    Py_XDECREF(copy);
    Py_XDECREF(other_copy);
    return r;
}

static int bytes_getbuffer(PyObject *obj, Py_buffer *view, int flags)
{
    const bytes_object *self = (const bytes_object *)obj;
    return export_copy(obj, view, flags, self->addr, self->size);
}

static PyType_Slot bytes_slots[] = {
    {Py_tp_dealloc, esim_py_dealloc},
    {Py_tp_repr, bytes_repr},
    {Py_tp_richcompare, bytes_richcompare},
    {Py_sq_length, bytes_length},
    {Py_sq_item, bytes_item},
    {Py_mp_length, bytes_length},
    {Py_mp_subscript, bytes_subscript},
    {Py_mp_ass_subscript, bytes_ass_subscript},
    {Py_bf_getbuffer, bytes_getbuffer},
    {Py_bf_releasebuffer, release_copy},
    {Py_tp_doc, (void *)"A bytearray by reference: bytes at a board address."},
    {0, NULL},
};

static PyType_Spec bytes_spec = {
    .name = "uctypes.bytearray",
    .basicsize = sizeof(bytes_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = bytes_slots,
};

/* ---- module functions ---- */

static PyObject *uctypes_sizeof(PyObject *module, PyObject *args)
{
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (esim_py_check_num(n, NULL, 1, 2, 0))
        return NULL;
    uctypes_state *st = PyModule_GetState(module);
    PyObject *obj = PyTuple_GET_ITEM(args, 0);
    if (PyByteArray_Check(obj))
        return PyLong_FromSsize_t(PyByteArray_GET_SIZE(obj));
    if (Py_IS_TYPE(obj, st->bytes_type))
        return PyLong_FromUnsignedLong(((bytes_object *)obj)->size);
    int32_t layout = LAYOUT_NATIVE;
    if (Py_IS_TYPE(obj, st->struct_type)) {
        if (n != 1) {
            PyErr_SetNone(PyExc_TypeError);
            return NULL;
        }
        layout = ((struct_object *)obj)->layout;
        obj = ((struct_object *)obj)->desc;
    } else if (n == 2 && esim_py_get_int(PyTuple_GET_ITEM(args, 1), &layout)) {
        return NULL;
    }
    uint32_t size;
    return sizeof_desc(obj, layout, &size) ? NULL : PyLong_FromUnsignedLong(size);
}

static PyObject *uctypes_addressof(PyObject *module, PyObject *obj)
{
    uctypes_state *st = PyModule_GetState(module);
    uint32_t addr;
    if (Py_IS_TYPE(obj, st->struct_type))
        return PyLong_FromUnsignedLong(((struct_object *)obj)->addr);
    if (Py_IS_TYPE(obj, st->bytes_type))
        return PyLong_FromUnsignedLong(((bytes_object *)obj)->addr);
    return host_address(st, obj, &addr) ? NULL : PyLong_FromUnsignedLong(addr);
}

static int address_and_size(PyObject *args, uint32_t *addr, uint32_t *size)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), NULL, 2, 2, 0))
        return -1;
    return esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 0), addr) ||
           esim_py_get_int_truncated(PyTuple_GET_ITEM(args, 1), size) ? -1 : 0;
}

static PyObject *uctypes_bytes_at(PyObject *module, PyObject *args)
{
    uint32_t addr, size;
    if (address_and_size(args, &addr, &size))
        return NULL;
    return read_bytes(PyModule_GetState(module), addr, size);
}

static PyObject *uctypes_bytearray_at(PyObject *module, PyObject *args)
{
    uint32_t addr, size;
    if (address_and_size(args, &addr, &size))
        return NULL;
    return new_bytes_view(PyModule_GetState(module), addr, size);
}

static PyMethodDef uctypes_functions[] = {
    {"sizeof", uctypes_sizeof, METH_VARARGS,
     "sizeof(struct or descriptor[, layout_type]): the structure's size in bytes."},
    {"addressof", uctypes_addressof, METH_O,
     "addressof(obj): the address of obj's buffer (a host buffer gets one in the host window)."},
    {"bytes_at", uctypes_bytes_at, METH_VARARGS, "bytes_at(addr, size): a copy of the memory as bytes."},
    {"bytearray_at", uctypes_bytearray_at, METH_VARARGS,
     "bytearray_at(addr, size): the memory by reference, as a bytearray."},
    {NULL, NULL, 0, NULL},
};

static void uctypes_free(void *module)
{
    uctypes_state *st = PyModule_GetState(module);
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_blocks; i++)
        PyBuffer_Release(&st->blocks[i].view);
    PyMem_Free(st->blocks);
    st->blocks = NULL;
    st->n_blocks = st->cap = 0;
    Py_CLEAR(st->struct_type);
    Py_CLEAR(st->bytes_type);
}

static struct PyModuleDef uctypes_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "uctypes",
    .m_doc = "MicroPython's uctypes: C structures at the simulated board's addresses.",
    .m_size = sizeof(uctypes_state),
    .m_methods = uctypes_functions,
    .m_free = uctypes_free,
};

static int add_constants(PyObject *module)
{
    static const struct { const char *name; unsigned type; } scalars[] = {
        {"VOID", T_UINT8}, {"UINT8", T_UINT8}, {"INT8", T_INT8}, {"UINT16", T_UINT16}, {"INT16", T_INT16},
        {"UINT32", T_UINT32}, {"INT32", T_INT32}, {"UINT64", T_UINT64}, {"INT64", T_INT64},
        {"BFUINT8", T_BFUINT8}, {"BFINT8", T_BFINT8}, {"BFUINT16", T_BFUINT16}, {"BFINT16", T_BFINT16},
        {"BFUINT32", T_BFUINT32}, {"BFINT32", T_BFINT32}, {"FLOAT32", T_FLOAT32}, {"FLOAT64", T_FLOAT64},
        /* C type names as the ESP32's compiler sizes them */
        {"SHORT", T_INT16}, {"USHORT", T_UINT16}, {"INT", T_INT32}, {"UINT", T_UINT32},
        {"LONG", T_INT32}, {"ULONG", T_UINT32}, {"LONGLONG", T_INT64}, {"ULONGLONG", T_UINT64},
    };
    static const struct { const char *name; long value; } plain[] = {
        {"NATIVE", LAYOUT_NATIVE}, {"LITTLE_ENDIAN", LAYOUT_LITTLE_ENDIAN}, {"BIG_ENDIAN", LAYOUT_BIG_ENDIAN},
        {"BF_POS", BF_POS_SHIFT}, {"BF_LEN", BF_LEN_SHIFT},
    };
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (PyModule_AddIntConstant(module, scalars[i].name, type_code(scalars[i].type, TYPE_SHIFT)) < 0)
            return -1;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (PyModule_AddIntConstant(module, plain[i].name, plain[i].value) < 0)
            return -1;
    if (PyModule_AddIntConstant(module, "PTR", type_code(AGG_PTR, AGG_SHIFT)) < 0 ||
        PyModule_AddIntConstant(module, "ARRAY", type_code(AGG_ARRAY, AGG_SHIFT)) < 0)
        return -1;
    return 0;
}

static int add_types(PyObject *module)
{
    uctypes_state *st = PyModule_GetState(module);
    st->struct_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &struct_spec, NULL);
    if (st->struct_type == NULL)
        return -1;
    st->bytes_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &bytes_spec, NULL);
    if (st->bytes_type == NULL)
        return -1;
    return PyModule_AddObjectRef(module, "struct", (PyObject *)st->struct_type);
}

PyObject *esim_py_make_uctypes(void)
{
    PyObject *module = PyModule_Create(&uctypes_def);
    if (module == NULL)
        return NULL;
    if (add_constants(module) < 0 || add_types(module) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
