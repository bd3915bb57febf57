/* esp32sim binding — esp32.Partition, as MicroPython's ESP32 port defines it
 * (reference/micropython-esp32.md §2): a flash partition that is also a
 * block device for MicroPython's vfs. */
#include <string.h>

#include "binding.h"
#include "esp32sim/ota.h"
#include "esp32sim/partition.h"

#define NATIVE_BLOCK_SIZE 4096u
#define PART_BOOT 0
#define PART_RUNNING 1
#define EINVAL_NEG (-22)

typedef struct {
    PyObject_HEAD
    esim_partition part;
    uint16_t block_size;        /* stored as MicroPython stores it: uint16, unchecked */
} partition_object;

static PyTypeObject *partition_type;

static PyObject *new_partition(const esim_partition *part, uint16_t block_size)
{
    partition_object *self = PyObject_New(partition_object, partition_type);
    if (self == NULL)
        return NULL;
    self->part = *part;
    self->block_size = block_size;
    return (PyObject *)self;
}

/* ---- construction and lookup ---- */

static bool find_by_label(esim_device *dev, const char *label, esim_partition *out)
{
    return esim_partition_find_first(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_ANY, label, out) ||
           esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, label, out);
}

/* Partition(id): 0 = BOOT, 1 = RUNNING, any other int ValueError(), a str
 * or bytes a label. Returns 1 found, 0 not found, -1 error. */
static int lookup_partition(esim_device *dev, PyObject *id, esim_partition *out)
{
    if (PyLong_Check(id) && !PyBool_Check(id)) {
        int32_t which;
        if (esim_py_get_int(id, &which) < 0)
            return -1;
        if (which == PART_BOOT)
            return esim_ota_boot_partition(dev, out);
        if (which == PART_RUNNING)
            return esim_ota_running_partition(dev, out);
        PyErr_SetNone(PyExc_ValueError);
        return -1;
    }
    const char *label = esim_py_get_str(id, NULL);
    if (label == NULL)
        return -1;
    return find_by_label(dev, label, out);
}

static PyObject *partition_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    int32_t block_size = NATIVE_BLOCK_SIZE;
    esim_partition part;
    if (esim_py_check_num(n, kwargs, 1, 2, 0) < 0)
        return NULL;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    int found = lookup_partition(dev, PyTuple_GET_ITEM(args, 0), &part);
    if (found < 0)
        return NULL;
    if (n == 2 && esim_py_get_int(PyTuple_GET_ITEM(args, 1), &block_size) < 0)
        return NULL;
    if (!found)
        return esim_py_raise_errno(2);   /* ENOENT */
    return new_partition(&part, (uint16_t)block_size);
}

/* ---- Partition.find (mp_arg_parse_all semantics) ---- */

enum { FIND_TYPE, FIND_SUBTYPE, FIND_LABEL, FIND_BLOCK_SIZE, FIND_NARGS };

static int parse_find_args(PyObject *args, PyObject *kwargs, PyObject *vals[FIND_NARGS])
{
    static const char *const names[FIND_NARGS] = {"type", "subtype", "label", "block_size"};
    return esim_py_parse_all(args, kwargs, names, FIND_NARGS, vals);
}

static int int_or_default(PyObject *obj, int32_t dflt, int32_t *out)
{
    if (obj == NULL) {
        *out = dflt;
        return 0;
    }
    return esim_py_get_int(obj, out);
}

static PyObject *list_partitions(esim_device *dev, int32_t type, int32_t subtype, const char *label,
                                 uint16_t block_size)
{
    esim_partition found[ESIM_PTABLE_MAX_ENTRIES + 16];
    size_t n = esim_partition_find(dev, type, subtype, label, found, sizeof found / sizeof found[0]);
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list != NULL && i < n; i++) {
        PyObject *p = new_partition(&found[i], block_size);
        if (p == NULL || PyList_Append(list, p) < 0)
            Py_CLEAR(list);
        Py_XDECREF(p);
    }
    return list;
}

static PyObject *partition_find(PyObject *unused, PyObject *args, PyObject *kwargs)
{
    (void)unused;
    PyObject *vals[FIND_NARGS];
    int32_t type, subtype, block_size;
    const char *label = NULL;
    if (parse_find_args(args, kwargs, vals) < 0 ||
        int_or_default(vals[FIND_TYPE], ESIM_PART_TYPE_APP, &type) < 0 ||
        int_or_default(vals[FIND_SUBTYPE], ESIM_PART_SUBTYPE_ANY, &subtype) < 0 ||
        int_or_default(vals[FIND_BLOCK_SIZE], NATIVE_BLOCK_SIZE, &block_size) < 0)
        return NULL;
    if (vals[FIND_LABEL] != NULL && vals[FIND_LABEL] != Py_None) {
        label = esim_py_get_str(vals[FIND_LABEL], NULL);
        if (label == NULL)
            return NULL;
    }
    esim_device *dev = esim_py_board();
    return dev ? list_partitions(dev, type, subtype, label, (uint16_t)block_size) : NULL;
}

/* ---- info, repr ---- */

static PyObject *partition_info(PyObject *self_obj, PyObject *args, PyObject *kwargs)
{
    partition_object *self = (partition_object *)self_obj;
    if (esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, 1, 1, 0) < 0)
        return NULL;
    const esim_partition *p = &self->part;
    return Py_BuildValue("(iikksO)", p->type, p->subtype, (unsigned long)p->address, (unsigned long)p->size,
                         p->label, p->encrypted ? Py_True : Py_False);
}

static PyObject *partition_repr(PyObject *self_obj)
{
    const esim_partition *p = &((partition_object *)self_obj)->part;
    return PyUnicode_FromFormat("<Partition type=%u, subtype=%u, address=%lu, size=%lu, label=%s, encrypted=%u>",
                                (unsigned)p->type, (unsigned)p->subtype, (unsigned long)p->address,
                                (unsigned long)p->size, p->label, (unsigned)p->encrypted);
}

/* ---- block device ---- */

/* block_num * block_size (+ offset), in the chip's 32-bit arithmetic. */
static int block_offset(partition_object *self, PyObject *block_num, PyObject *extra, uint32_t *out)
{
    int32_t block, add = 0;
    if (esim_py_get_int(block_num, &block) < 0)
        return -1;
    if (extra != NULL && esim_py_get_int(extra, &add) < 0)
        return -1;
    *out = (uint32_t)block * self->block_size + (uint32_t)add;
    return 0;
}

static int get_buffer(PyObject *obj, Py_buffer *view, int writable)
{
    if (PyObject_GetBuffer(obj, view, writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) == 0)
        return 0;
    PyErr_SetString(PyExc_TypeError, "object with buffer protocol required");
    return -1;
}

/* A read buffer as MicroPython sees one: str gives its UTF-8 bytes. */
static int get_read_buffer(PyObject *obj, Py_buffer *view, PyObject **holder)
{
    *holder = NULL;
    if (PyUnicode_Check(obj)) {
        *holder = PyUnicode_AsUTF8String(obj);
        if (*holder == NULL)
            return -1;
        obj = *holder;
    }
    if (get_buffer(obj, view, 0) == 0)
        return 0;
    Py_CLEAR(*holder);
    return -1;
}

static PyObject *check(esp_err_t err)
{
    if (err)
        return esim_py_raise_esp_err(err);
    Py_RETURN_NONE;
}

static PyObject *partition_readblocks(PyObject *self_obj, PyObject *args, PyObject *kwargs)
{
    partition_object *self = (partition_object *)self_obj;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    uint32_t offset;
    Py_buffer view;
    if (esim_py_check_num(n + 1, kwargs, 3, 4, 0) < 0)
        return NULL;
    if (block_offset(self, PyTuple_GET_ITEM(args, 0), n == 3 ? PyTuple_GET_ITEM(args, 2) : NULL, &offset) < 0)
        return NULL;
    if (get_buffer(PyTuple_GET_ITEM(args, 1), &view, 1) < 0)
        return NULL;
    esim_device *dev = esim_py_board();
    esp_err_t err = dev ? esim_partition_read(dev, &self->part, offset, view.buf, (size_t)view.len) : ESP_OK;
    PyBuffer_Release(&view);
    return dev ? check(err) : NULL;
}

/* The simple protocol's erase for block sizes below a sector: erase every
 * sector the range touches, keeping the bytes of the sector outside it. */
static esp_err_t erase_preserving(esim_device *dev, const esim_partition *p, uint32_t offset, uint32_t len)
{
    uint8_t cache[NATIVE_BLOCK_SIZE];
    uint32_t end = offset + len;
    for (uint32_t sector = offset - offset % NATIVE_BLOCK_SIZE; sector < end; sector += NATIVE_BLOCK_SIZE) {
        uint32_t keep_head = offset > sector ? offset - sector : 0;
        uint32_t keep_tail_from = end < sector + NATIVE_BLOCK_SIZE ? end - sector : NATIVE_BLOCK_SIZE;
        esp_err_t err = ESP_OK;
        if (keep_head > 0 || keep_tail_from < NATIVE_BLOCK_SIZE)
            err = esim_partition_read(dev, p, sector, cache, NATIVE_BLOCK_SIZE);
        if (!err)
            err = esim_partition_erase_range(dev, p, sector, NATIVE_BLOCK_SIZE);
        if (!err && keep_head > 0)
            err = esim_partition_write(dev, p, sector, cache, keep_head);
        if (!err && keep_tail_from < NATIVE_BLOCK_SIZE)
            err = esim_partition_write(dev, p, sector + keep_tail_from, cache + keep_tail_from,
                                       NATIVE_BLOCK_SIZE - keep_tail_from);
        if (err)
            return err;
    }
    return ESP_OK;
}

static esp_err_t write_blocks(partition_object *self, esim_device *dev, uint32_t offset, const Py_buffer *view,
                              int erase_first)
{
    esp_err_t err = ESP_OK;
    if (erase_first && self->block_size >= NATIVE_BLOCK_SIZE)
        err = esim_partition_erase_range(dev, &self->part, offset, (size_t)view->len);
    else if (erase_first)
        err = erase_preserving(dev, &self->part, offset, (uint32_t)view->len);
    if (err)
        return err;
    return esim_partition_write(dev, &self->part, offset, view->buf, (size_t)view->len);
}

static PyObject *partition_writeblocks(PyObject *self_obj, PyObject *args, PyObject *kwargs)
{
    partition_object *self = (partition_object *)self_obj;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    uint32_t offset;
    Py_buffer view;
    PyObject *holder;
    if (esim_py_check_num(n + 1, kwargs, 3, 4, 0) < 0)
        return NULL;
    if (block_offset(self, PyTuple_GET_ITEM(args, 0), n == 3 ? PyTuple_GET_ITEM(args, 2) : NULL, &offset) < 0)
        return NULL;
    if (get_read_buffer(PyTuple_GET_ITEM(args, 1), &view, &holder) < 0)
        return NULL;
    esim_device *dev = esim_py_board();
    esp_err_t err = dev ? write_blocks(self, dev, offset, &view, n == 2) : ESP_OK;
    PyBuffer_Release(&view);
    Py_XDECREF(holder);
    return dev ? check(err) : NULL;
}

enum { IOCTL_INIT = 1, IOCTL_DEINIT, IOCTL_SYNC, IOCTL_BLOCK_COUNT, IOCTL_BLOCK_SIZE, IOCTL_BLOCK_ERASE };

static PyObject *ioctl_erase(partition_object *self, PyObject *arg)
{
    int32_t block;
    if (self->block_size != NATIVE_BLOCK_SIZE)
        return PyLong_FromLong(EINVAL_NEG);
    if (esim_py_get_int(arg, &block) < 0)
        return NULL;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    esp_err_t err = esim_partition_erase_range(dev, &self->part, (uint32_t)block * NATIVE_BLOCK_SIZE, NATIVE_BLOCK_SIZE);
    return err ? esim_py_raise_esp_err(err) : PyLong_FromLong(0);
}

static PyObject *partition_ioctl(PyObject *self_obj, PyObject *args, PyObject *kwargs)
{
    partition_object *self = (partition_object *)self_obj;
    int32_t cmd;
    if (esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, 3, 3, 0) < 0)
        return NULL;
    if (esim_py_get_int(PyTuple_GET_ITEM(args, 0), &cmd) < 0)
        return NULL;
    switch (cmd) {
    case IOCTL_INIT:
    case IOCTL_DEINIT:
    case IOCTL_SYNC:
        return PyLong_FromLong(0);
    case IOCTL_BLOCK_COUNT:
        if (self->block_size == 0)
            return esim_py_panic("IntegerDivideByZero");
        return PyLong_FromUnsignedLong(self->part.size / self->block_size);
    case IOCTL_BLOCK_SIZE:
        return PyLong_FromLong(self->block_size);
    case IOCTL_BLOCK_ERASE:
        return ioctl_erase(self, PyTuple_GET_ITEM(args, 1));
    default:
        Py_RETURN_NONE;
    }
}

/* ---- OTA (esp_ota_ops) ---- */

static PyObject *partition_set_boot(PyObject *self_obj, PyObject *unused)
{
    (void)unused;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    return check(esim_ota_set_boot_partition(dev, &((partition_object *)self_obj)->part));
}

static PyObject *partition_get_next_update(PyObject *self_obj, PyObject *unused)
{
    (void)unused;
    esim_partition next;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    if (!esim_ota_next_update_partition(dev, &((partition_object *)self_obj)->part, &next))
        return esim_py_raise_errno(2);   /* ENOENT */
    return new_partition(&next, NATIVE_BLOCK_SIZE);
}

static PyObject *partition_mark_app_valid(PyObject *cls, PyObject *unused)
{
    (void)cls;
    (void)unused;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    return check(esim_ota_mark_app_valid(dev));
}

/* ---- the type ---- */

static PyMethodDef partition_methods[] = {
    {"find", (PyCFunction)(void (*)(void))partition_find, METH_VARARGS | METH_KEYWORDS | METH_STATIC,
     "find(type=TYPE_APP, subtype=0xff, label=None, block_size=4096): matching partitions, table order."},
    {"info", (PyCFunction)(void (*)(void))partition_info, METH_VARARGS | METH_KEYWORDS,
     "info(): (type, subtype, address, size, label, encrypted)."},
    {"readblocks", (PyCFunction)(void (*)(void))partition_readblocks, METH_VARARGS | METH_KEYWORDS,
     "readblocks(block_num, buf[, offset])"},
    {"writeblocks", (PyCFunction)(void (*)(void))partition_writeblocks, METH_VARARGS | METH_KEYWORDS,
     "writeblocks(block_num, buf[, offset]): erases first without offset."},
    {"ioctl", (PyCFunction)(void (*)(void))partition_ioctl, METH_VARARGS | METH_KEYWORDS,
     "ioctl(cmd, arg): the block-device control operations 1-6."},
    {"set_boot", partition_set_boot, METH_NOARGS,
     "set_boot(): boot this app partition from the next reset (the image must verify)."},
    {"get_next_update", partition_get_next_update, METH_NOARGS,
     "get_next_update(): the OTA slot after this one, wrapping (block_size 4096)."},
    {"mark_app_valid_cancel_rollback", partition_mark_app_valid, METH_NOARGS | METH_CLASS,
     "mark_app_valid_cancel_rollback(): confirm the running app so no rollback happens."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot partition_slots[] = {
    {Py_tp_new, partition_new},
    {Py_tp_repr, partition_repr},
    {Py_tp_methods, partition_methods},
    {Py_tp_doc, (void *)"Partition(id, block_size=4096, /): a flash partition, usable as a block device."},
    {0, NULL},
};

static PyType_Spec partition_spec = {
    .name = "esp32.Partition",
    .basicsize = sizeof(partition_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = partition_slots,
};

static int add_int(PyObject *type, const char *name, long value)
{
    PyObject *v = PyLong_FromLong(value);
    int rc = v ? PyObject_SetAttrString(type, name, v) : -1;
    Py_XDECREF(v);
    return rc;
}

int esim_py_add_partition_type(PyObject *esp32_module)
{
    PyObject *type = PyType_FromSpec(&partition_spec);
    if (type == NULL)
        return -1;
    if (add_int(type, "BOOT", PART_BOOT) < 0 || add_int(type, "RUNNING", PART_RUNNING) < 0 ||
        add_int(type, "TYPE_APP", ESIM_PART_TYPE_APP) < 0 || add_int(type, "TYPE_DATA", ESIM_PART_TYPE_DATA) < 0 ||
        PyModule_AddObjectRef(esp32_module, "Partition", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    partition_type = (PyTypeObject *)type;   /* kept for the life of the process */
    return 0;
}
