/* esp32sim binding — esp32.NVS, as MicroPython's ESP32 port defines it
 * (reference/micropython-esp32.md §3): one namespace of the board's "nvs"
 * partition, with i32 and blob values.
 *
 * Added here: the commit contract made visible (docs/python-nvs.md). Every
 * write goes through the board's journal of uncommitted changes; when the
 * board resets or powers off, namespaces with changes since their last
 * commit() are reported on stderr, and in strict mode the changes are undone
 * before the board boots again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "esp32sim/nvs_journal.h"

/* ---- what the binding keeps per board ----
 * A short list keyed by board; an entry lives from the first NVS use (or
 * the strict switch) until the board is closed. */

typedef struct nvs_board {
    esim_device *dev;
    uint64_t serial;             /* tells this board from a later one at the same address */
    bool strict;
    esim_nvs_journal *journal;   /* the uncommitted changes of this boot; NULL until the first */
    uint32_t journal_boot;       /* the boot the journal's handles belong to */
    struct nvs_board *next;
} nvs_board;

static nvs_board *boards;
static uint64_t last_serial;

static void at_reset(esim_device *dev, esim_reset_reason reason, void *ctx);

static nvs_board *find_board(const esim_device *dev)
{
    for (nvs_board *b = boards; b != NULL; b = b->next)
        if (b->dev == dev)
            return b;
    return NULL;
}

/* The board's entry, made (and the reset hook installed) on first use.
 * NULL when out of memory. */
static nvs_board *board_state(esim_device *dev)
{
    nvs_board *b = find_board(dev);
    if (b != NULL)
        return b;
    b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->dev = dev;
    b->serial = ++last_serial;
    b->next = boards;
    boards = b;
    esim_device_set_reset_hook(dev, at_reset, b);
    return b;
}

void esim_py_board_closing(esim_device *dev)
{
    for (nvs_board **link = &boards; *link != NULL; link = &(*link)->next) {
        nvs_board *b = *link;
        if (b->dev != dev)
            continue;
        *link = b->next;
        esim_device_set_reset_hook(dev, NULL, NULL);
        esim_nvs_journal_free(b->journal);
        free(b);
        return;
    }
}

int esim_py_set_nvs_strict(esim_device *dev, bool strict)
{
    nvs_board *b = board_state(dev);
    if (b == NULL)
        return -1;
    b->strict = strict;
    return 0;
}

bool esim_py_nvs_strict(const esim_device *dev)
{
    const nvs_board *b = find_board(dev);
    return b != NULL && b->strict;
}

/* The journal for writes made in the board's current boot. */
static esim_nvs_journal *journal_for(nvs_board *b)
{
    uint32_t boot = esim_device_boot_count(b->dev);
    if (b->journal == NULL && esim_nvs_journal_new(&b->journal))
        return NULL;
    if (b->journal_boot != boot)
        esim_nvs_journal_clear(b->journal);   /* left from a boot that ended unseen */
    b->journal_boot = boot;
    return b->journal;
}

/* ---- the reset hook ---- */

/* One line on stderr: Python's sys.stderr while an interpreter runs (after
 * flushing sys.stdout, so the line lands where a UART would put it), the C
 * stream otherwise (esp32sim run powers the board on between interpreters). */
static void warn(const char *line)
{
    if (!Py_IsInitialized()) {
        fputs(line, stderr);
        return;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *out = PySys_GetObject("stdout");
    PyObject *r = out ? PyObject_CallMethod(out, "flush", NULL) : NULL;
    Py_XDECREF(r);
    PyErr_Clear();
    PySys_WriteStderr("%s", line);
    PyErr_Restore(type, value, tb);
    PyGILState_Release(gil);
}

typedef struct {
    const char *when;
    const char *suffix;
} report_words;

static int warn_namespace(const char *ns_name, size_t changes, void *ctx)
{
    const report_words *words = ctx;
    char line[160];
    snprintf(line, sizeof line, "esp32sim: warning: NVS namespace '%s' had %zu uncommitted change%s at %s%s\n",
             ns_name, changes, changes == 1 ? "" : "s", words->when, words->suffix);
    warn(line);
    return 0;
}

/* Without power (a cut fired) nothing can be written: the engine would only
 * fail, or find nothing to erase. */
static void undo_changes(nvs_board *b)
{
    esp_err_t err = ESP_ERR_FLASH_OP_FAIL;
    if (esim_flash_powered(esim_device_flash(b->dev)))
        err = esim_nvs_journal_rollback(b->journal);
    if (err) {
        char line[160];
        snprintf(line, sizeof line, "esp32sim: warning: the uncommitted NVS changes could not all be undone (%s)\n",
                 esim_err_name(err));
        warn(line);
    }
}

static void at_reset(esim_device *dev, esim_reset_reason reason, void *ctx)
{
    nvs_board *b = ctx;
    if (b->journal == NULL)
        return;
    if (b->journal_boot == esim_device_boot_count(dev) && esim_nvs_journal_pending(b->journal, NULL) > 0) {
        report_words words = {reason == ESIM_RST_POWERON ? "power-off" : "reset",
                              b->strict ? " (undone: strict mode)" : ""};
        if (esim_nvs_journal_report(b->journal, warn_namespace, &words))
            warn("esp32sim: warning: NVS had uncommitted changes at reset\n");
        if (b->strict)
            undo_changes(b);
    }
    esim_nvs_journal_clear(b->journal);
}

/* ---- the NVS object ---- */

typedef struct {
    PyObject_HEAD
    esim_device *dev;            /* the board current when the object was made */
    uint64_t board_serial;
    uint32_t boot;               /* the boot `handle` was opened in */
    esim_nvs_handle handle;
    PyObject *name;              /* bytes: the namespace as given, to open it on later boots */
} nvs_object;

static PyTypeObject *nvs_type;

/* check_esp_err for this object's board (which need not be the current one). */
static PyObject *raise_for(esim_device *dev, esp_err_t err)
{
    if (!esim_flash_powered(esim_device_flash(dev))) {
        PyErr_SetString(esim_py_PowerLoss, "the board lost power during a flash operation");
        return NULL;
    }
    return esim_py_raise_esp_err(err);
}

/* After a call that may have written: the item hash list in the IDF heap
 * follows the items stored. */
static PyObject *result(nvs_object *self, esp_err_t err)
{
    esim_device_heap_nvs_changed(self->dev);
    if (err)
        return raise_for(self->dev, err);
    Py_RETURN_NONE;
}

/* nvs_open(name, NVS_READWRITE) on the board's NVS. Without a mounted NVS,
 * ESP-IDF answers ESP_ERR_NVS_NOT_INITIALIZED; with no heap left for the
 * handle, ESP_ERR_NO_MEM. */
static esp_err_t open_namespace(esim_device *dev, const char *name, esim_nvs_handle *out)
{
    esim_nvs *nvs = esim_device_nvs(dev);
    if (nvs == NULL)
        return ESP_ERR_NVS_NOT_INITIALIZED;
    esp_err_t err = esim_nvs_open(nvs, name, true, out);
    esim_device_heap_nvs_changed(dev);   /* a new namespace is an item */
    /* then the handle entry, never freed: MicroPython's NVS objects are
     * not closed */
    return err ? err : esim_device_heap_nvs_open(dev);
}

/* The board entry, with the handle valid for the board's current boot: after
 * a reset or power cycle the namespace is opened again, as the code that
 * made the object would do on the new boot. NULL with an exception set. */
static nvs_board *live(nvs_object *self)
{
    nvs_board *b = find_board(self->dev);
    if (b == NULL || b->serial != self->board_serial) {
        PyErr_SetString(PyExc_ValueError, "the board of this NVS object is closed");
        return NULL;
    }
    uint32_t boot = esim_device_boot_count(self->dev);
    if (boot != self->boot) {
        esp_err_t err = open_namespace(self->dev, PyBytes_AS_STRING(self->name), &self->handle);
        if (err) {
            raise_for(self->dev, err);
            return NULL;
        }
        self->boot = boot;
    }
    return b;
}

/* The journal a write of this object goes through. NULL with an exception set. */
static esim_nvs_journal *journal_of(nvs_object *self)
{
    nvs_board *b = live(self);
    if (b == NULL)
        return NULL;
    esim_nvs_journal *j = journal_for(b);
    if (j == NULL)
        PyErr_NoMemory();
    return j;
}

static PyObject *nvs_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, 1, 0) < 0)
        return NULL;
    const char *name = esim_py_get_str(PyTuple_GET_ITEM(args, 0), NULL);
    if (name == NULL)
        return NULL;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    nvs_board *b = board_state(dev);
    if (b == NULL)
        return PyErr_NoMemory();
    esim_nvs_handle handle;
    esp_err_t err = open_namespace(dev, name, &handle);
    if (err)
        return raise_for(dev, err);
    PyObject *name_copy = PyBytes_FromString(name);
    nvs_object *self = name_copy ? PyObject_New(nvs_object, nvs_type) : NULL;
    if (self == NULL) {
        Py_XDECREF(name_copy);
        return NULL;
    }
    self->dev = dev;
    self->board_serial = b->serial;
    self->boot = esim_device_boot_count(dev);
    self->handle = handle;
    self->name = name_copy;
    return (PyObject *)self;
}

static void nvs_dealloc(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    Py_XDECREF(((nvs_object *)obj)->name);
    PyObject_Free(obj);
    Py_DECREF(tp);
}

static PyObject *nvs_repr(PyObject *obj)
{
    (void)obj;
    return PyUnicode_FromString("<NVS namespace>");
}

/* ---- methods: MP_DEFINE_CONST_FUN_OBJ_n, so self is counted ---- */

#define ARG(i) PyTuple_GET_ITEM(args, (i))

static int takes(PyObject *args, PyObject *kwargs, Py_ssize_t n_with_self)
{
    return esim_py_check_num(PyTuple_GET_SIZE(args) + 1, kwargs, n_with_self, n_with_self, 0);
}

static PyObject *nvs_set_i32(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    nvs_object *self = (nvs_object *)obj;
    int32_t value;
    if (takes(args, kwargs, 3) < 0)
        return NULL;
    const char *key = esim_py_get_str(ARG(0), NULL);
    if (key == NULL || esim_py_get_int(ARG(1), &value) < 0)
        return NULL;
    esim_nvs_journal *j = journal_of(self);
    if (j == NULL)
        return NULL;
    return result(self, esim_nvs_journal_set_int(j, &self->handle, key, ESIM_NVS_TYPE_I32, value));
}

static PyObject *nvs_get_i32(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    nvs_object *self = (nvs_object *)obj;
    int64_t value;
    if (takes(args, kwargs, 2) < 0)
        return NULL;
    const char *key = esim_py_get_str(ARG(0), NULL);
    if (key == NULL || live(self) == NULL)
        return NULL;
    esp_err_t err = esim_nvs_get_int(&self->handle, key, ESIM_NVS_TYPE_I32, &value);
    return err ? raise_for(self->dev, err) : PyLong_FromLongLong(value);
}

/* mp_get_buffer_raise: a str gives its UTF-8 bytes (read only). */
static int get_buffer(PyObject *obj, Py_buffer *view, int writable, PyObject **holder)
{
    *holder = NULL;
    if (!writable && PyUnicode_Check(obj)) {
        *holder = PyUnicode_AsUTF8String(obj);
        if (*holder == NULL)
            return -1;
        obj = *holder;
    }
    if (PyObject_GetBuffer(obj, view, writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) == 0)
        return 0;
    Py_CLEAR(*holder);
    PyErr_SetString(PyExc_TypeError, "object with buffer protocol required");
    return -1;
}

static PyObject *nvs_set_blob(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    nvs_object *self = (nvs_object *)obj;
    Py_buffer view;
    PyObject *holder;
    if (takes(args, kwargs, 3) < 0)
        return NULL;
    const char *key = esim_py_get_str(ARG(0), NULL);
    if (key == NULL || get_buffer(ARG(1), &view, 0, &holder) < 0)
        return NULL;
    esim_nvs_journal *j = journal_of(self);
    esp_err_t err = j ? esim_nvs_journal_set_blob(j, &self->handle, key, view.buf, (size_t)view.len) : ESP_OK;
    PyBuffer_Release(&view);
    Py_XDECREF(holder);
    return j ? result(self, err) : NULL;
}

/* MicroPython gives an empty bytearray or array (or a memoryview of one) no
 * storage: its buffer pointer is NULL, which nvs_get_blob takes as a size
 * query. CPython's pointer is never NULL, so the case is recognised here. */
static bool has_no_storage(PyObject *obj, const Py_buffer *view)
{
    if (view->len != 0)
        return false;
    PyObject *base = PyMemoryView_Check(obj) ? PyMemoryView_GET_BASE(obj) : obj;
    if (base == NULL)
        return false;
    if (PyByteArray_Check(base))
        return PyByteArray_GET_SIZE(base) == 0;
    PyObject *name = PyType_GetName(Py_TYPE(base));
    bool empty_array = false;
    if (name != NULL && PyUnicode_CompareWithASCIIString(name, "array") == 0)
        empty_array = PyObject_Length(base) == 0;
    Py_XDECREF(name);
    PyErr_Clear();
    return empty_array;
}

static PyObject *nvs_get_blob(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    nvs_object *self = (nvs_object *)obj;
    Py_buffer view;
    PyObject *holder;
    if (takes(args, kwargs, 3) < 0)
        return NULL;
    const char *key = esim_py_get_str(ARG(0), NULL);
    if (key == NULL || get_buffer(ARG(1), &view, 1, &holder) < 0)
        return NULL;
    size_t len = (size_t)view.len;
    void *out = has_no_storage(ARG(1), &view) ? NULL : view.buf;
    esp_err_t err = ESP_OK;
    nvs_board *b = live(self);
    if (b != NULL)
        err = esim_nvs_get_blob(&self->handle, key, out, &len);
    PyBuffer_Release(&view);
    if (b == NULL)
        return NULL;
    return err ? raise_for(self->dev, err) : PyLong_FromSize_t(len);
}

static PyObject *nvs_erase_key(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    nvs_object *self = (nvs_object *)obj;
    if (takes(args, kwargs, 2) < 0)
        return NULL;
    const char *key = esim_py_get_str(ARG(0), NULL);
    esim_nvs_journal *j = key ? journal_of(self) : NULL;
    if (j == NULL)
        return NULL;
    return result(self, esim_nvs_journal_erase_key(j, &self->handle, key));
}

static PyObject *nvs_commit(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    nvs_object *self = (nvs_object *)obj;
    if (takes(args, kwargs, 1) < 0)
        return NULL;
    esim_nvs_journal *j = journal_of(self);
    if (j == NULL)
        return NULL;
    return result(self, esim_nvs_journal_commit(j, &self->handle));
}

/* ---- the type ---- */

#define METHOD(name, doc) {#name, (PyCFunction)(void (*)(void))nvs_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef nvs_methods[] = {
    METHOD(set_i32, "set_i32(key, value): store a 32-bit signed integer."),
    METHOD(get_i32, "get_i32(key): the integer stored under key."),
    METHOD(set_blob, "set_blob(key, value): store the bytes of a buffer (a str as UTF-8)."),
    METHOD(get_blob, "get_blob(key, buffer): read the blob into a writable buffer; returns its length."),
    METHOD(erase_key, "erase_key(key): remove the key, whatever its type."),
    METHOD(commit, "commit(): mark the namespace's changes committed (values reach flash when set)."),
    {NULL, NULL, 0, NULL},
};

static PyType_Slot nvs_slots[] = {
    {Py_tp_new, nvs_new},
    {Py_tp_dealloc, nvs_dealloc},
    {Py_tp_repr, nvs_repr},
    {Py_tp_methods, nvs_methods},
    {Py_tp_doc, (void *)"NVS(namespace, /): a namespace of the board's NVS partition, opened read-write."},
    {0, NULL},
};

static PyType_Spec nvs_spec = {
    .name = "esp32.NVS",
    .basicsize = sizeof(nvs_object),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = nvs_slots,
};

int esim_py_add_nvs_type(PyObject *esp32_module)
{
    PyObject *type = PyType_FromSpec(&nvs_spec);
    if (type == NULL)
        return -1;
    if (PyModule_AddObjectRef(esp32_module, "NVS", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    nvs_type = (PyTypeObject *)type;   /* kept for the life of the interpreter */
    return 0;
}
