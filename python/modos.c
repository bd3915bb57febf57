/* esp32sim binding — MicroPython's os module on the current board's
 * filesystem (esp32sim/boardfs.h), with MicroPython's results and errors:
 * OSError(errno) printed as "[Errno 2] ENOENT", and OSError(ENODEV) for a
 * board without a filesystem. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "binding.h"
#include "esp32sim/boardfs.h"

#define S_IFDIR_BOARD 0x4000   /* MP_S_IFDIR */
#define S_IFREG_BOARD 0x8000   /* MP_S_IFREG */

/* The current board's filesystem; NULL with OSError(ENODEV) when the board
 * has none (or with the error that creating the default board gave). */
static esim_boardfs *board_fs(void)
{
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    esim_boardfs *fs = esim_device_fs(dev);
    if (fs == NULL)
        esim_py_raise_errno(ENODEV);
    return fs;
}

/* The only argument of a function taking one path. */
static const char *one_path(PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, 1, 0) < 0)
        return NULL;
    return esim_py_get_str(PyTuple_GET_ITEM(args, 0), NULL);
}

static PyObject *result(int err)
{
    if (err)
        return esim_py_raise_errno(err);
    Py_RETURN_NONE;
}

/* ---- listing ---- */

static PyObject *entry_name(const esim_boardfs_entry *e, bool as_bytes)
{
    return as_bytes ? PyBytes_FromString(e->name) : PyUnicode_DecodeFSDefault(e->name);
}

static PyObject *entry_tuple(const esim_boardfs_entry *e, bool as_bytes)
{
    PyObject *name = entry_name(e, as_bytes);
    if (name == NULL)
        return NULL;
    return Py_BuildValue("(NiiK)", name, e->is_dir ? S_IFDIR_BOARD : S_IFREG_BOARD, 0,
                         (unsigned long long)e->size);
}

/* listdir([dir]) names, ilistdir([dir]) 4-tuples; bytes names for a bytes
 * dir, as VfsLfs2 gives. */
static PyObject *list_entries(PyObject *args, PyObject *kwargs, bool tuples)
{
    const char *path = NULL;
    bool as_bytes = false;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 1, 0) < 0)
        return NULL;
    if (PyTuple_GET_SIZE(args) == 1) {
        PyObject *arg = PyTuple_GET_ITEM(args, 0);
        path = esim_py_get_str(arg, NULL);
        if (path == NULL)
            return NULL;
        as_bytes = PyBytes_Check(arg);
    }
    esim_boardfs *fs = board_fs();
    if (fs == NULL)
        return NULL;
    esim_boardfs_entry *entries = NULL;
    size_t count = 0;
    int err = esim_boardfs_listdir(fs, path ? path : "", &entries, &count);
    if (err)
        return esim_py_raise_errno(err);
    PyObject *list = PyList_New((Py_ssize_t)count);
    for (size_t i = 0; list != NULL && i < count; i++) {
        PyObject *item = tuples ? entry_tuple(&entries[i], as_bytes) : entry_name(&entries[i], as_bytes);
        if (item == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    free(entries);
    return list;
}

static PyObject *os_listdir(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return list_entries(args, kwargs, false);
}

static PyObject *os_ilistdir(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    PyObject *list = list_entries(args, kwargs, true);
    if (list == NULL)
        return NULL;
    PyObject *it = PyObject_GetIter(list);
    Py_DECREF(list);
    return it;
}

/* ---- one path ---- */

typedef int (*path_op)(esim_boardfs *fs, const char *path);

static PyObject *on_path(PyObject *args, PyObject *kwargs, path_op op)
{
    const char *path = one_path(args, kwargs);
    if (path == NULL)
        return NULL;
    esim_boardfs *fs = board_fs();
    return fs ? result(op(fs, path)) : NULL;
}

static PyObject *os_remove(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return on_path(args, kwargs, esim_boardfs_remove);
}

static PyObject *os_mkdir(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return on_path(args, kwargs, esim_boardfs_mkdir);
}

static PyObject *os_rmdir(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return on_path(args, kwargs, esim_boardfs_rmdir);
}

static PyObject *os_chdir(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    return on_path(args, kwargs, esim_boardfs_chdir);
}

static PyObject *os_rename(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 2, 2, 0) < 0)
        return NULL;
    const char *from = esim_py_get_str(PyTuple_GET_ITEM(args, 0), NULL);
    const char *to = from ? esim_py_get_str(PyTuple_GET_ITEM(args, 1), NULL) : NULL;
    if (to == NULL)
        return NULL;
    esim_boardfs *fs = board_fs();
    return fs ? result(esim_boardfs_rename(fs, from, to)) : NULL;
}

/* (mode, ino, dev, nlink, uid, gid, size, atime, mtime, ctime) */
static PyObject *os_stat(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    const char *path = one_path(args, kwargs);
    if (path == NULL)
        return NULL;
    esim_boardfs *fs = board_fs();
    if (fs == NULL)
        return NULL;
    esim_boardfs_stat st;
    int err = esim_boardfs_stat_path(fs, path, &st);
    if (err)
        return esim_py_raise_errno(err);
    unsigned long t = st.mtime;
    return Py_BuildValue("(iiiiiiKkkk)", st.is_dir ? S_IFDIR_BOARD : S_IFREG_BOARD, 0, 0, 0, 0, 0,
                         (unsigned long long)st.size, t, t, t);
}

/* The path only chooses the mount, as on the board: any str will do. */
static PyObject *os_statvfs(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (one_path(args, kwargs) == NULL)
        return NULL;
    esim_boardfs *fs = board_fs();
    if (fs == NULL)
        return NULL;
    esim_boardfs_statvfs v;
    int err = esim_boardfs_statvfs_get(fs, &v);
    if (err)
        return esim_py_raise_errno(err);
    return Py_BuildValue("(kkkkkkkkkk)", (unsigned long)v.bsize, (unsigned long)v.frsize, (unsigned long)v.blocks,
                         (unsigned long)v.bfree, (unsigned long)v.bavail, (unsigned long)v.files,
                         (unsigned long)v.ffree, (unsigned long)v.favail, (unsigned long)v.flag,
                         (unsigned long)v.namemax);
}

/* ---- no path ---- */

/* With nothing mounted the board's VFS is at its root "/". */
static PyObject *os_getcwd(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0) < 0)
        return NULL;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    esim_boardfs *fs = esim_device_fs(dev);
    return PyUnicode_FromString(fs ? esim_boardfs_getcwd(fs) : "/");
}

/* os.sync() syncs every mounted filesystem: none is nothing to do. */
static PyObject *os_sync(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0) < 0)
        return NULL;
    esim_device *dev = esim_py_board();
    if (dev == NULL)
        return NULL;
    esim_boardfs *fs = esim_device_fs(dev);
    return result(fs ? esim_boardfs_sync(fs) : 0);
}

static PyObject *os_urandom(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    int32_t n = 0;
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 1, 1, 0) < 0 ||
        esim_py_get_int(PyTuple_GET_ITEM(args, 0), &n) < 0)
        return NULL;
    if (n < 0)   /* the board tries to allocate (size_t)n bytes */
        return PyErr_Format(PyExc_MemoryError, "memory allocation failed, allocating %u bytes", (unsigned)n);
    /* CPython's os, not the board's one that board code would import. */
    PyObject *host_os = PyImport_ImportModuleLevel("os", NULL, NULL, NULL, 0);
    if (host_os == NULL)
        return NULL;
    PyObject *bytes = PyObject_CallMethod(host_os, "urandom", "i", (int)n);
    Py_DECREF(host_os);
    return bytes;
}

/* ---- uname(): an attribute tuple printed as MicroPython prints it ---- */

#define UNAME_FIELDS 5

static PyObject *uname_field(PyObject *self, void *index)
{
    PyObject *item = PyTuple_GetItem(self, (Py_ssize_t)(intptr_t)index);
    return Py_XNewRef(item);
}

static PyObject *uname_repr(PyObject *self)
{
    if (PyTuple_GET_SIZE(self) != UNAME_FIELDS)
        return PyTuple_Type.tp_repr(self);
    return PyUnicode_FromFormat("(sysname=%R, nodename=%R, release=%R, version=%R, machine=%R)",
                                PyTuple_GET_ITEM(self, 0), PyTuple_GET_ITEM(self, 1), PyTuple_GET_ITEM(self, 2),
                                PyTuple_GET_ITEM(self, 3), PyTuple_GET_ITEM(self, 4));
}

static PyGetSetDef uname_getset[] = {
    {"sysname", uname_field, NULL, NULL, (void *)0},
    {"nodename", uname_field, NULL, NULL, (void *)1},
    {"release", uname_field, NULL, NULL, (void *)2},
    {"version", uname_field, NULL, NULL, (void *)3},
    {"machine", uname_field, NULL, NULL, (void *)4},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot uname_slots[] = {
    {Py_tp_repr, uname_repr},
    {Py_tp_getset, uname_getset},
    {Py_tp_doc, (void *)"os.uname() result: sysname, nodename, release, version, machine."},
    {0, NULL},
};

static PyType_Spec uname_spec = {
    .name = "os.uname_result",
    .basicsize = 0,
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = uname_slots,
};

static PyObject *os_uname(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0) < 0)
        return NULL;
    PyObject *type = PyObject_GetAttrString(module, "_uname_result");
    if (type == NULL)
        return NULL;
    int v[3];
    esim_py_firmware_version(v);
    char release[40];
    snprintf(release, sizeof release, "%d.%d.%d", v[0], v[1], v[2]);
    PyObject *values = Py_BuildValue("(sssss)", "esp32", "esp32", release,
                                     ESIM_FIRMWARE_VERSION " on " ESIM_PY_FIRMWARE_DATE, ESIM_PY_BOARD_MACHINE);
    PyObject *r = values ? PyObject_CallOneArg(type, values) : NULL;
    Py_XDECREF(values);
    Py_DECREF(type);
    return r;
}

/* ---- module ---- */

#define OS_FN(name, doc) {#name, (PyCFunction)(void (*)(void))os_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef os_functions[] = {
    OS_FN(listdir, "listdir([dir]): names in dir (default: the current directory), sorted as littlefs keeps them."),
    OS_FN(ilistdir, "ilistdir([dir]): iterator of (name, type, inode, size); type 0x4000 dir, 0x8000 file."),
    OS_FN(remove, "remove(path): remove a file (or an empty directory, as littlefs does)."),
    OS_FN(rename, "rename(old, new): rename or move; an existing file new is replaced."),
    OS_FN(mkdir, "mkdir(path): make a directory."),
    OS_FN(rmdir, "rmdir(path): remove an empty directory (or a file, as littlefs does)."),
    OS_FN(stat, "stat(path): (mode, 0, 0, 0, 0, 0, size, mtime, mtime, mtime), times from 2000-01-01."),
    OS_FN(statvfs, "statvfs(path): (bsize, frsize, blocks, bfree, bavail, files, ffree, favail, flag, namemax)."),
    OS_FN(getcwd, "getcwd(): the current directory."),
    OS_FN(chdir, "chdir(path): change the current directory."),
    OS_FN(sync, "sync(): write buffered file data out."),
    OS_FN(uname, "uname(): (sysname, nodename, release, version, machine)."),
    OS_FN(urandom, "urandom(n): n random bytes."),
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef os_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "os",
    .m_doc = "MicroPython's os module on the simulated board's filesystem.",
    .m_size = -1,
    .m_methods = os_functions,
};

PyObject *esim_py_make_os(void)
{
    PyObject *m = PyModule_Create(&os_module);
    if (m == NULL)
        return NULL;
    PyObject *bases = PyTuple_Pack(1, (PyObject *)&PyTuple_Type);
    PyObject *uname_type = bases ? PyType_FromSpecWithBases(&uname_spec, bases) : NULL;
    Py_XDECREF(bases);
    if (uname_type == NULL || PyModule_AddObjectRef(m, "_uname_result", uname_type) < 0 ||
        PyModule_AddStringConstant(m, "sep", "/") < 0) {
        Py_XDECREF(uname_type);
        Py_DECREF(m);
        return NULL;
    }
    Py_DECREF(uname_type);
    return m;
}
