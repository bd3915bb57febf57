/* esp32sim binding — MicroPython's btree module over the btree engine
 * (include/esp32sim/btree.h, docs/btree.md).
 *
 * btree.open(stream, *, flags=0, pagesize=0, cachesize=0, minkeypage=0)
 * keeps a database in any random-access stream (a board file, io.BytesIO,
 * a host file) through its seek/readinto (or read)/write/flush methods. The
 * object behaves as MicroPython's: a dict-like mapping of bytes to bytes,
 * keys()/values()/items() with a start key, an end key and btree.INCL /
 * btree.DESC, each returning the database itself as the iterator (it has
 * one cursor), seq() and put() as MicroPython has them, ValueError once
 * closed, KeyError for a missing key, OSError(errno) for everything else:
 * EINVAL for bad arguments, EFTYPE (79, as the ESP32's C library numbers
 * it) for a file that is not a btree database, the stream's own exception
 * when the stream fails. Keys and values are bytes-like objects (a str is
 * taken as its UTF-8 bytes, as MicroPython's buffer protocol gives them). */
#include "binding.h"

#include <string.h>

#include "esp32sim/btree.h"

#define FLAG_INCL 1
#define FLAG_DESC 2
#define ITER_KEYS 0x40
#define ITER_VALUES 0x80
#define ITER_ITEMS 0xc0
#define ITER_MASK 0xc0

/* Berkeley DB's seq() flags, as btree.seq() takes them. */
#define R_CURSOR 1
#define R_FIRST 3
#define R_LAST 6
#define R_NEXT 7
#define R_PREV 9

#define ERRNO_EINVAL 22
#define ERRNO_EFTYPE 79
#define ERRNO_EOPNOTSUPP 95

typedef struct {
    PyTypeObject *btree_type;
} btree_state;

typedef struct {
    PyObject_HEAD
    esim_btree *db;
    PyObject *stream;
    PyObject *start_key;     /* NULL: the walk has started; None: from an end */
    PyObject *end_key;       /* None: no end */
    int flags;
    int next_flags;
} BtreeObject;

/* ---- the stream under the database ---- */

static esp_err_t stream_seek(PyObject *stream, uint64_t off, int whence, uint64_t *pos)
{
    PyObject *r = PyObject_CallMethod(stream, "seek", "Ki", (unsigned long long)off, whence);
    if (r == NULL)
        return ESP_FAIL;
    unsigned long long at = PyLong_AsUnsignedLongLong(r);
    Py_DECREF(r);
    if (PyErr_Occurred())
        return ESP_FAIL;
    if (pos)
        *pos = at;
    return ESP_OK;
}

static esp_err_t stream_read(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
    PyObject *stream = ctx;
    *got = 0;
    if (stream_seek(stream, off, 0, NULL))
        return ESP_FAIL;
    while (*got < len) {
        PyObject *data = PyObject_CallMethod(stream, "read", "n", (Py_ssize_t)(len - *got));
        if (data == NULL)
            return ESP_FAIL;
        Py_buffer view;
        if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
            Py_DECREF(data);
            return ESP_FAIL;
        }
        size_t n = (size_t)view.len < len - *got ? (size_t)view.len : len - *got;
        memcpy((uint8_t *)buf + *got, view.buf, n);
        *got += n;
        PyBuffer_Release(&view);
        Py_DECREF(data);
        if (n == 0)
            break;
    }
    return ESP_OK;
}

static esp_err_t stream_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    PyObject *stream = ctx;
    if (stream_seek(stream, off, 0, NULL))
        return ESP_FAIL;
    PyObject *data = PyBytes_FromStringAndSize(buf, (Py_ssize_t)len);
    if (data == NULL)
        return ESP_FAIL;
    PyObject *r = PyObject_CallMethod(stream, "write", "O", data);
    Py_DECREF(data);
    if (r == NULL)
        return ESP_FAIL;
    Py_DECREF(r);
    return ESP_OK;
}

static esp_err_t stream_size(void *ctx, uint64_t *size)
{
    return stream_seek(ctx, 0, 2, size);
}

static esp_err_t stream_flush(void *ctx)
{
    PyObject *stream = ctx;
    if (!PyObject_HasAttrString(stream, "flush"))
        return ESP_OK;
    PyObject *r = PyObject_CallMethod(stream, "flush", NULL);
    if (r == NULL)
        return ESP_FAIL;
    Py_DECREF(r);
    return ESP_OK;
}

/* ---- errors ---- */

static PyObject *raise_db_error(esp_err_t err)
{
    if (PyErr_Occurred())
        return NULL;     /* the stream's exception */
    switch (err) {
    case ESP_ERR_NO_MEM: return PyErr_NoMemory();
    case ESP_ERR_INVALID_STATE: return esim_py_raise_errno(ERRNO_EFTYPE);
    case ESP_ERR_NOT_SUPPORTED: return esim_py_raise_errno(ERRNO_EOPNOTSUPP);
    default: return esim_py_raise_errno(ERRNO_EINVAL);
    }
}

static int check_open(BtreeObject *self)
{
    if (self->db == NULL) {
        PyErr_SetString(PyExc_ValueError, "database closed");
        return -1;
    }
    return 0;
}

/* A key or value: anything with the buffer protocol, or a str. */
typedef struct {
    Py_buffer view;
    PyObject *utf8;
} bytes_arg;

static int get_bytes(PyObject *obj, bytes_arg *b)
{
    b->utf8 = NULL;
    if (PyUnicode_Check(obj)) {
        if ((b->utf8 = PyUnicode_AsUTF8String(obj)) == NULL)
            return -1;
        obj = b->utf8;
    }
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_SetString(PyExc_TypeError, "object with buffer protocol required");
        return -1;
    }
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_SIMPLE) < 0) {
        Py_XDECREF(b->utf8);
        return -1;
    }
    return 0;
}

static void release_bytes(bytes_arg *b)
{
    PyBuffer_Release(&b->view);
    Py_XDECREF(b->utf8);
}

static PyObject *take_bytes(uint8_t *p, size_t n)
{
    PyObject *r = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
    free(p);
    return r;
}

/* ---- the database object ---- */

static PyObject *db_lookup(BtreeObject *self, PyObject *key, bool *found)
{
    bytes_arg k;
    if (check_open(self) < 0 || get_bytes(key, &k) < 0)
        return NULL;
    uint8_t *v = NULL;
    size_t n = 0;
    esp_err_t err = esim_btree_get(self->db, k.view.buf, (size_t)k.view.len, &v, &n);
    release_bytes(&k);
    *found = err == ESP_OK;
    if (err == ESP_ERR_NOT_FOUND && !PyErr_Occurred())
        Py_RETURN_NONE;
    if (err)
        return raise_db_error(err);
    return take_bytes(v, n);
}

static PyObject *btree_getitem(PyObject *self, PyObject *key)
{
    bool found;
    PyObject *r = db_lookup((BtreeObject *)self, key, &found);
    if (r && !found) {
        Py_DECREF(r);
        PyErr_SetNone(PyExc_KeyError);
        return NULL;
    }
    return r;
}

static int btree_setitem(PyObject *op, PyObject *key, PyObject *value)
{
    BtreeObject *self = (BtreeObject *)op;
    bytes_arg k, v;
    if (check_open(self) < 0 || get_bytes(key, &k) < 0)
        return -1;
    esp_err_t err;
    if (value == NULL) {
        err = esim_btree_delete(self->db, k.view.buf, (size_t)k.view.len);
        release_bytes(&k);
        if (err == ESP_ERR_NOT_FOUND && !PyErr_Occurred()) {
            PyErr_SetNone(PyExc_KeyError);
            return -1;
        }
    } else {
        if (get_bytes(value, &v) < 0) {
            release_bytes(&k);
            return -1;
        }
        err = esim_btree_put(self->db, k.view.buf, (size_t)k.view.len, v.view.buf, (size_t)v.view.len);
        release_bytes(&k);
        release_bytes(&v);
    }
    if (err) {
        raise_db_error(err);
        return -1;
    }
    return 0;
}

static int btree_contains(PyObject *self, PyObject *key)
{
    bool found;
    PyObject *r = db_lookup((BtreeObject *)self, key, &found);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return found;
}

static PyObject *btree_get(PyObject *self, PyObject *args)
{
    PyObject *key, *dflt = Py_None;
    if (!PyArg_ParseTuple(args, "O|O:get", &key, &dflt))
        return NULL;
    bool found;
    PyObject *r = db_lookup((BtreeObject *)self, key, &found);
    if (r && !found) {
        Py_DECREF(r);
        return Py_NewRef(dflt);
    }
    return r;
}

static PyObject *btree_put(PyObject *self, PyObject *args)
{
    PyObject *key, *value, *unused = NULL;
    if (!PyArg_ParseTuple(args, "OO|O:put", &key, &value, &unused))
        return NULL;
    if (btree_setitem(self, key, value) < 0)
        return NULL;
    return PyLong_FromLong(0);
}

static PyObject *btree_flush(PyObject *op, PyObject *unused)
{
    (void)unused;
    BtreeObject *self = (BtreeObject *)op;
    if (check_open(self) < 0)
        return NULL;
    esp_err_t err = esim_btree_flush(self->db);
    if (err)
        return raise_db_error(err);
    return PyLong_FromLong(0);
}

static PyObject *btree_close(PyObject *op, PyObject *unused)
{
    (void)unused;
    BtreeObject *self = (BtreeObject *)op;
    esp_err_t err = ESP_OK;
    if (self->db) {
        err = esim_btree_close(self->db);
        self->db = NULL;
    }
    if (err)
        return raise_db_error(err);
    return PyLong_FromLong(0);
}

/* One cursor move; the pair as a tuple, or None at the end. */
static PyObject *move(BtreeObject *self, esim_btree_move mv, PyObject *key, PyObject **k_out, PyObject **v_out)
{
    bytes_arg k = {0};
    if (key && get_bytes(key, &k) < 0)
        return NULL;
    uint8_t *kp = NULL, *vp = NULL;
    size_t kn = 0, vn = 0;
    esp_err_t err = esim_btree_seq(self->db, mv, key ? k.view.buf : NULL, key ? (size_t)k.view.len : 0, &kp, &kn,
                                   &vp, &vn);
    if (key)
        release_bytes(&k);
    if (err == ESP_ERR_NOT_FOUND && !PyErr_Occurred())
        Py_RETURN_NONE;
    if (err)
        return raise_db_error(err);
    *k_out = take_bytes(kp, kn);
    *v_out = take_bytes(vp, vn);
    if (*k_out == NULL || *v_out == NULL) {
        Py_XDECREF(*k_out);
        Py_XDECREF(*v_out);
        return NULL;
    }
    return Py_True;   /* a marker: the pair is in *k_out, *v_out */
}

static PyObject *btree_seq(PyObject *op, PyObject *args)
{
    BtreeObject *self = (BtreeObject *)op;
    int flags;
    PyObject *key = NULL, *unused = NULL;
    if (!PyArg_ParseTuple(args, "i|OO:seq", &flags, &key, &unused) || check_open(self) < 0)
        return NULL;
    esim_btree_move mv;
    switch (flags) {
    case R_CURSOR: mv = ESIM_BTREE_AT; break;
    case R_FIRST: mv = ESIM_BTREE_FIRST; key = NULL; break;
    case R_LAST: mv = ESIM_BTREE_LAST; key = NULL; break;
    case R_NEXT: mv = ESIM_BTREE_NEXT; key = NULL; break;
    case R_PREV: mv = ESIM_BTREE_PREV; key = NULL; break;
    default: return esim_py_raise_errno(ERRNO_EINVAL);
    }
    if (mv == ESIM_BTREE_AT && key == NULL)
        return esim_py_raise_errno(ERRNO_EINVAL);
    PyObject *k, *v, *r = move(self, mv, key, &k, &v);
    if (r != Py_True)
        return r;
    return Py_BuildValue("(NN)", k, v);
}

static PyObject *init_iter(BtreeObject *self, PyObject *args, int type, const char *fmt)
{
    PyObject *start = Py_None, *end = Py_None;
    int flags = 0;
    if (!PyArg_ParseTuple(args, fmt, &start, &end, &flags))
        return NULL;
    Py_XSETREF(self->start_key, Py_NewRef(start));
    Py_XSETREF(self->end_key, Py_NewRef(end));
    self->next_flags = type | flags;
    return Py_NewRef((PyObject *)self);
}

static PyObject *btree_keys(PyObject *self, PyObject *args)
{
    return init_iter((BtreeObject *)self, args, ITER_KEYS, "|OOi:keys");
}
static PyObject *btree_values(PyObject *self, PyObject *args)
{
    return init_iter((BtreeObject *)self, args, ITER_VALUES, "|OOi:values");
}
static PyObject *btree_items(PyObject *self, PyObject *args)
{
    return init_iter((BtreeObject *)self, args, ITER_ITEMS, "|OOi:items");
}

static PyObject *btree_iter(PyObject *op)
{
    BtreeObject *self = (BtreeObject *)op;
    if (self->next_flags) {
        self->flags = self->next_flags;
        self->next_flags = 0;
    } else {
        self->flags = ITER_KEYS;
        Py_XSETREF(self->start_key, Py_NewRef(Py_None));
        Py_XSETREF(self->end_key, Py_NewRef(Py_None));
    }
    return Py_NewRef(op);
}

/* Past the end key? (MicroPython's rule, INCL letting an equal key in.) */
static int past_end(BtreeObject *self, PyObject *key)
{
    if (self->end_key == NULL || self->end_key == Py_None)
        return 0;
    bytes_arg e;
    if (get_bytes(self->end_key, &e) < 0)
        return -1;
    int c = esim_btree_compare(PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key), e.view.buf,
                               (size_t)e.view.len);
    release_bytes(&e);
    if (self->flags & FLAG_DESC)
        c = -c;
    if (self->flags & FLAG_INCL)
        c--;
    return c >= 0;
}

static PyObject *btree_iternext(PyObject *op)
{
    BtreeObject *self = (BtreeObject *)op;
    if (check_open(self) < 0)
        return NULL;
    bool desc = self->flags & FLAG_DESC;
    esim_btree_move mv = desc ? ESIM_BTREE_PREV : ESIM_BTREE_NEXT;
    PyObject *start = NULL;
    if (self->start_key) {
        if (self->start_key != Py_None)
            mv = ESIM_BTREE_AT, start = self->start_key;
        else
            mv = desc ? ESIM_BTREE_LAST : ESIM_BTREE_FIRST;
    }
    PyObject *k, *v, *r = move(self, mv, start, &k, &v);
    Py_CLEAR(self->start_key);
    if (r != Py_True) {
        if (r == Py_None)
            Py_DECREF(r);
        return NULL;     /* the end (no exception set) or an error */
    }
    int end = past_end(self, k);
    if (end != 0) {
        Py_DECREF(k);
        Py_DECREF(v);
        return NULL;
    }
    switch (self->flags & ITER_MASK) {
    case ITER_KEYS:
        Py_DECREF(v);
        return k;
    case ITER_VALUES:
        Py_DECREF(k);
        return v;
    default:
        return Py_BuildValue("(NN)", k, v);
    }
}

static PyObject *btree_repr(PyObject *op)
{
    BtreeObject *self = (BtreeObject *)op;
    if (self->db == NULL)
        return PyUnicode_FromString("<btree 0>");
    return PyUnicode_FromFormat("<btree %p>", (void *)self->db);
}

static void btree_dealloc(PyObject *op)
{
    BtreeObject *self = (BtreeObject *)op;
    PyTypeObject *type = Py_TYPE(op);
    if (self->db) {
        /* MicroPython has no finaliser: what was not flushed is lost there.
         * Here the pages are freed; a failing stream is ignored. */
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        esim_btree_close(self->db);
        PyErr_Clear();
        PyErr_Restore(et, ev, tb);
    }
    Py_XDECREF(self->stream);
    Py_XDECREF(self->start_key);
    Py_XDECREF(self->end_key);
    type->tp_free(op);
    Py_DECREF(type);
}

static PyMethodDef btree_methods[] = {
    {"close", btree_close, METH_NOARGS, "Close the database (writes what changed)."},
    {"flush", btree_flush, METH_NOARGS, "Write what changed to the stream."},
    {"get", btree_get, METH_VARARGS, "get(key, default=None)"},
    {"put", btree_put, METH_VARARGS, "put(key, value)"},
    {"seq", btree_seq, METH_VARARGS, "seq(flags[, key]): Berkeley DB's cursor move"},
    {"keys", btree_keys, METH_VARARGS, "keys([start_key[, end_key[, flags]]])"},
    {"values", btree_values, METH_VARARGS, "values([start_key[, end_key[, flags]]])"},
    {"items", btree_items, METH_VARARGS, "items([start_key[, end_key[, flags]]])"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot btree_slots[] = {
    {Py_tp_dealloc, btree_dealloc},
    {Py_tp_repr, btree_repr},
    {Py_tp_iter, btree_iter},
    {Py_tp_iternext, btree_iternext},
    {Py_tp_methods, btree_methods},
    {Py_mp_subscript, btree_getitem},
    {Py_mp_ass_subscript, btree_setitem},
    {Py_sq_contains, btree_contains},
    {0, NULL},
};

static PyType_Spec btree_spec = {
    .name = "btree.btree",
    .basicsize = sizeof(BtreeObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = btree_slots,
};

/* ---- the module ---- */

static bool has_method(PyObject *obj, const char *name)
{
    PyObject *m = PyObject_GetAttrString(obj, name);
    if (m == NULL) {
        PyErr_Clear();
        return false;
    }
    bool ok = PyCallable_Check(m);
    Py_DECREF(m);
    return ok;
}

static PyObject *mod_open(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"", "flags", "cachesize", "pagesize", "minkeypage", NULL};
    PyObject *stream;
    long flags = 0, cachesize = 0, pagesize = 0, minkeypage = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$llll:open", kwlist, &stream, &flags, &cachesize,
                                     &pagesize, &minkeypage))
        return NULL;
    if (!has_method(stream, "read") || !has_method(stream, "write") || !has_method(stream, "seek")) {
        PyErr_SetString(esim_py_OSError, "stream operation not supported");
        return NULL;
    }
    if (flags < 0 || cachesize < 0 || pagesize < 0 || minkeypage < 0 || pagesize > (long)UINT32_MAX ||
        minkeypage > (long)UINT32_MAX || flags > (long)UINT32_MAX || cachesize > (long)UINT32_MAX)
        return esim_py_raise_errno(ERRNO_EINVAL);
    btree_state *st = PyModule_GetState(module);
    BtreeObject *self = PyObject_New(BtreeObject, st->btree_type);
    if (self == NULL)
        return NULL;
    self->db = NULL;
    self->stream = Py_NewRef(stream);
    self->start_key = Py_NewRef(Py_None);
    self->end_key = Py_NewRef(Py_None);
    self->flags = ITER_KEYS;
    self->next_flags = 0;
    esim_btree_io io = {stream_read, stream_write, stream_size, stream_flush, stream};
    esim_btree_config cfg = {(uint32_t)flags, (uint32_t)pagesize, (uint32_t)cachesize, (uint32_t)minkeypage};
    esp_err_t err = esim_btree_open(&io, &cfg, &self->db);
    if (err) {
        Py_DECREF(self);
        return raise_db_error(err);
    }
    return (PyObject *)self;
}

static PyMethodDef btree_module_methods[] = {
    {"open", (PyCFunction)(void (*)(void))mod_open, METH_VARARGS | METH_KEYWORDS,
     "open(stream, *, flags=0, pagesize=0, cachesize=0, minkeypage=0)"},
    {NULL, NULL, 0, NULL},
};

static int btree_traverse(PyObject *module, visitproc visit, void *arg)
{
    btree_state *st = PyModule_GetState(module);
    Py_VISIT(st->btree_type);
    return 0;
}

static int btree_clear(PyObject *module)
{
    btree_state *st = PyModule_GetState(module);
    Py_CLEAR(st->btree_type);
    return 0;
}

static struct PyModuleDef btree_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "btree",
    .m_doc = "MicroPython's btree module: a Berkeley DB 1.85 btree database in a stream.",
    .m_size = sizeof(btree_state),
    .m_methods = btree_module_methods,
    .m_traverse = btree_traverse,
    .m_clear = btree_clear,
};

PyObject *esim_py_make_btree(void)
{
    PyObject *module = PyModule_Create(&btree_def);
    if (module == NULL)
        return NULL;
    btree_state *st = PyModule_GetState(module);
    st->btree_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &btree_spec, NULL);
    if (st->btree_type == NULL || PyModule_AddIntConstant(module, "INCL", FLAG_INCL) < 0 ||
        PyModule_AddIntConstant(module, "DESC", FLAG_DESC) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
