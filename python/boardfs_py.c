/* esp32sim binding — board code: CPython code run as if on the board.
 *
 * Board code gets its own builtins (a copy of CPython's, made once per
 * interpreter) where open() works on the board's filesystem and
 * __import__ gives the board's os for os/uos and looks for other modules
 * on the board first (the current directory, then /lib, as MicroPython's
 * sys.path ['', '.frozen', '/lib'] does), falling back to CPython's import.
 * It also serves the u-names MicroPython accepts (ujson is json), refuses
 * the firmware modules the simulator does not model with a message naming
 * them, and resolves relative imports as MicroPython does.
 *
 * Modules loaded from the board are kept in a dict of board modules (and
 * in sys.modules when the name is free); the dict is emptied when another
 * board is made current or the board boots again, as a reboot forgets
 * every import. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "binding.h"
#include "esp32sim/boardfs.h"

#define KEY_BUILTINS "esp32sim.board_builtins"
#define KEY_MODULES  "esp32sim.board_modules"
#define KEY_OWNER    "esp32sim.board_modules_owner"   /* (generation, boot count) */
#define KEY_SCRIPT_DIR "esp32sim.script_dir"
#define MODULE_NAME_MAX 255

/* Built into MicroPython's ESP32 firmware (or frozen into it): these are
 * never looked for on the board's filesystem. */
static const char *const micropython_modules[] = {
    "__future__", "_asyncio", "_boot", "_esp32sim", "_espnow", "_onewire", "_thread", "_webrepl", "apa106",
    "array", "asyncio", "binascii", "bluetooth", "btree", "builtins", "cmath", "collections", "cryptolib",
    "deflate", "dht", "ds18x20", "errno", "esp", "esp32", "esp32sim", "espnow", "flashbdev", "framebuf", "gc",
    "hashlib", "heapq", "inisetup", "io", "json", "machine", "math", "micropython", "mip", "neopixel",
    "network", "ntptime", "onewire", "platform", "random", "re", "requests", "select", "socket", "ssl",
    "struct", "sys", "time", "tls", "uarray", "uasyncio", "ubinascii", "ucollections", "uctypes", "uerrno",
    "uhashlib", "uheapq", "uio", "ujson", "umachine", "upip", "uplatform", "upysh", "urandom", "ure",
    "urequests", "uselect", "usocket", "ussl", "ustruct", "usys", "utime", "vfs", "webrepl",
    "webrepl_setup", "websocket",
};

static bool is_micropython_module(const char *name)
{
    for (size_t i = 0; i < sizeof micropython_modules / sizeof micropython_modules[0]; i++)
        if (strcmp(name, micropython_modules[i]) == 0)
            return true;
    return false;
}

/* CPython's own import of a module, whatever __import__ the calling code
 * sees (PyImport_ImportModule would come back to the board's). */
static PyObject *import_host_module(const char *name)
{
    return PyImport_ImportModuleLevel(name, NULL, NULL, NULL, 0);
}

/* ---- per-interpreter state ---- */

PyObject *esim_py_interp_state(void)
{
    PyObject *state = PyInterpreterState_GetDict(PyInterpreterState_Get());
    if (state == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "esp32sim: no interpreter state for board code");
    return state;
}

/* The board's filesystem for board code, or NULL (no error) without one. */
static esim_boardfs *current_fs(esim_device **dev_out)
{
    esim_device *dev = esim_py_board();
    if (dev_out != NULL)
        *dev_out = dev;
    return dev ? esim_device_fs(dev) : NULL;
}

/* Forget the board modules of another board or an earlier boot. */
static void drop_board_modules(PyObject *modules)
{
    PyObject *sys_modules = PyImport_GetModuleDict();
    PyObject *name, *mod;
    Py_ssize_t pos = 0;
    while (PyDict_Next(modules, &pos, &name, &mod))
        if (PyDict_GetItemWithError(sys_modules, name) == mod)
            PyDict_DelItem(sys_modules, name);
    PyErr_Clear();
}

/* The dict of board modules (borrowed) for the current board and boot. */
static PyObject *board_modules(esim_device *dev)
{
    PyObject *state = esim_py_interp_state();
    if (state == NULL)
        return NULL;
    PyObject *owner = Py_BuildValue("(KI)", (unsigned long long)esim_py_board_generation(),
                                    dev ? esim_device_boot_count(dev) : 0u);
    if (owner == NULL)
        return NULL;
    PyObject *modules = PyDict_GetItemString(state, KEY_MODULES);
    PyObject *old_owner = PyDict_GetItemString(state, KEY_OWNER);
    int same = modules && old_owner ? PyObject_RichCompareBool(owner, old_owner, Py_EQ) : 0;
    if (same < 0) {
        Py_DECREF(owner);
        return NULL;
    }
    if (!same) {
        if (modules != NULL)
            drop_board_modules(modules);
        PyObject *fresh = PyDict_New();
        if (fresh == NULL || PyDict_SetItemString(state, KEY_MODULES, fresh) < 0 ||
            PyDict_SetItemString(state, KEY_OWNER, owner) < 0) {
            Py_XDECREF(fresh);
            Py_DECREF(owner);
            return NULL;
        }
        Py_DECREF(fresh);
        modules = fresh;
    }
    Py_DECREF(owner);
    return modules;
}

/* ---- reading board files ---- */

static PyObject *read_host_file(const char *host)
{
    FILE *f = fopen(host, "rb");
    if (f == NULL)
        return esim_py_raise_errno(errno == ENOENT ? ENOENT : EIO);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool failed = false;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *grown = realloc(buf, ncap);
            if (grown == NULL) {
                failed = true;
                break;
            }
            buf = grown;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    failed = failed || ferror(f);
    fclose(f);
    PyObject *bytes = failed ? esim_py_raise_errno(EIO) : PyBytes_FromStringAndSize(buf, (Py_ssize_t)len);
    free(buf);
    return bytes;
}

/* Compile and run the board file whose host path is `host` in `globals`. */
static int exec_board_source(const char *host, const char *board_path, PyObject *globals)
{
    PyObject *source = read_host_file(host);
    if (source == NULL)
        return -1;
    if (strlen(PyBytes_AS_STRING(source)) != (size_t)PyBytes_GET_SIZE(source)) {
        Py_DECREF(source);
        PyErr_SetString(PyExc_ValueError, "source code string cannot contain null bytes");
        return -1;
    }
    PyObject *code = Py_CompileStringExFlags(PyBytes_AS_STRING(source), board_path, Py_file_input, NULL, -1);
    Py_DECREF(source);
    if (code == NULL)
        return -1;
    PyObject *r = PyEval_EvalCode(code, globals, globals);
    Py_DECREF(code);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* ---- finding modules on the board ---- */

typedef enum { FOUND_NONE, FOUND_MODULE, FOUND_PACKAGE } found_kind;

typedef struct {
    found_kind kind;
    char dir[ESIM_BOARDFS_PATH_MAX + 1];    /* a package's directory */
    char file[ESIM_BOARDFS_PATH_MAX + 1];   /* NAME.py or NAME/__init__.py, "" for none */
    size_t shown_from;                      /* where the name the board shows starts in dir/file */
} found_module;

/* What MicroPython names a module found through the current directory's
 * sys.path entry (''): its path relative to that directory, as it joins
 * '' and the name ("util.py", "pkg/__init__.py"); through /lib, the whole
 * path. */
static const char *shown(const found_module *found, const char *path)
{
    return strlen(path) >= found->shown_from ? path + found->shown_from : path;
}

static bool board_path_is(esim_boardfs *fs, const char *path, bool want_dir)
{
    esim_boardfs_stat st;
    return esim_boardfs_stat_path(fs, path, &st) == 0 && st.is_dir == want_dir;
}

/* The absolute board path `dir`/`name``suffix`; false when too long. */
static bool board_join(char *out, const char *dir, const char *name, const char *suffix, esim_boardfs *fs)
{
    char rel[ESIM_BOARDFS_PATH_MAX + 1];
    int n = snprintf(rel, sizeof rel, "%s/%s%s", strcmp(dir, "/") == 0 ? "" : dir, name, suffix);
    if (n < 0 || (size_t)n >= sizeof rel)
        return false;
    char *abs = NULL;
    if (esim_boardfs_resolve(fs, rel, &abs, NULL) != 0)
        return false;
    bool fits = strlen(abs) < ESIM_BOARDFS_PATH_MAX + 1;
    if (fits)
        strcpy(out, abs);
    free(abs);
    return fits;
}

/* As MicroPython looks in one sys.path entry: a directory NAME is a
 * package (with or without __init__.py), else NAME.py a module. */
static bool find_in_dir(esim_boardfs *fs, const char *dir, const char *name, found_module *out)
{
    out->shown_from = 0;
    if (board_join(out->dir, dir, name, "", fs) && board_path_is(fs, out->dir, true)) {
        out->kind = FOUND_PACKAGE;
        if (!board_join(out->file, out->dir, "__init__", ".py", fs) || !board_path_is(fs, out->file, false))
            out->file[0] = '\0';
        return true;
    }
    if (board_join(out->file, dir, name, ".py", fs) && board_path_is(fs, out->file, false)) {
        out->kind = FOUND_MODULE;
        out->dir[0] = '\0';
        return true;
    }
    out->kind = FOUND_NONE;
    return false;
}

/* How much of an absolute path in the current directory is the
 * directory: "/" and "/data/" alike. */
static size_t cwd_prefix_length(esim_boardfs *fs)
{
    const char *cwd = esim_boardfs_getcwd(fs);
    return strcmp(cwd, "/") == 0 ? 1 : strlen(cwd) + 1;
}

/* A top-level name: the current directory, then /lib. */
static bool find_top_level(esim_boardfs *fs, const char *name, found_module *out)
{
    char cwd[ESIM_BOARDFS_PATH_MAX + 1];
    snprintf(cwd, sizeof cwd, "%s", esim_boardfs_getcwd(fs));
    if (find_in_dir(fs, cwd, name, out)) {
        out->shown_from = cwd_prefix_length(fs);
        return true;
    }
    return find_in_dir(fs, "/lib", name, out);
}

/* A submodule of a board package: in the package's directory. */
static bool find_submodule(esim_boardfs *fs, PyObject *parent, const char *name, found_module *out)
{
    out->kind = FOUND_NONE;
    PyObject *path = PyObject_GetAttrString(parent, "__path__");
    if (path == NULL) {
        PyErr_Clear();
        return false;
    }
    bool found = false;
    if (PyList_Check(path) && PyList_GET_SIZE(path) > 0 && PyUnicode_Check(PyList_GET_ITEM(path, 0))) {
        const char *dir = PyUnicode_AsUTF8(PyList_GET_ITEM(path, 0));
        if (dir != NULL)
            found = find_in_dir(fs, dir, name, out);
        if (found && dir[0] != '/')   /* a relative __path__: shown relative too */
            out->shown_from = cwd_prefix_length(fs);
        PyErr_Clear();
    }
    Py_DECREF(path);
    return found;
}

/* ---- loading ---- */

static PyObject *board_builtins(void);
static bool is_extensible(const char *top);

/* True when `fullname` (or its top package) has a built-in's name. */
static bool extends_builtin(const char *fullname)
{
    char top[MODULE_NAME_MAX + 1];
    snprintf(top, sizeof top, "%s", fullname);
    top[strcspn(top, ".")] = '\0';
    return is_extensible(top);
}

static int set_str(PyObject *dict, const char *key, const char *value)
{
    PyObject *v = PyUnicode_DecodeFSDefault(value);
    int rc = v ? PyDict_SetItemString(dict, key, v) : -1;
    Py_XDECREF(v);
    return rc;
}

/* __name__, __file__, __package__, __path__ and the board builtins. */
static int init_module_dict(PyObject *d, const char *fullname, const found_module *found)
{
    PyObject *builtins = board_builtins();
    if (builtins == NULL || PyDict_SetItemString(d, "__builtins__", builtins) < 0)
        return -1;
    if (found->file[0] != '\0' && set_str(d, "__file__", shown(found, found->file)) < 0)
        return -1;
    if (found->kind == FOUND_MODULE) {
        const char *dot = strrchr(fullname, '.');
        PyObject *pkg = PyUnicode_FromStringAndSize(fullname, dot ? dot - fullname : 0);
        int rc = pkg ? PyDict_SetItemString(d, "__package__", pkg) : -1;
        Py_XDECREF(pkg);
        return rc;
    }
    PyObject *path = Py_BuildValue("[N]", PyUnicode_DecodeFSDefault(shown(found, found->dir)));
    int rc = path ? PyDict_SetItemString(d, "__path__", path) : -1;
    Py_XDECREF(path);
    return rc < 0 ? -1 : set_str(d, "__package__", fullname);
}

static void forget_module(PyObject *modules, PyObject *name, PyObject *mod)
{
    PyObject *sys_modules = PyImport_GetModuleDict();
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (PyDict_GetItemWithError(sys_modules, name) == mod)
        PyDict_DelItem(sys_modules, name);
    if (PyDict_GetItemWithError(modules, name) == mod)
        PyDict_DelItem(modules, name);
    PyErr_Restore(type, value, tb);
}

/* Make, remember and run the module; a new reference, or NULL. */
static PyObject *load_module(esim_boardfs *fs, PyObject *modules, PyObject *name, const found_module *found)
{
    const char *fullname = PyUnicode_AsUTF8(name);
    PyObject *mod = fullname ? PyModule_NewObject(name) : NULL;
    if (mod == NULL)
        return NULL;
    PyObject *d = PyModule_GetDict(mod);
    PyObject *sys_modules = PyImport_GetModuleDict();
    /* Remembered before it runs, so that circular imports find it. An
     * extension of a built-in stays out of sys.modules: CPython's module
     * keeps the name, for the u-name and CPython's own imports. */
    int free_name = !extends_builtin(fullname) && PyDict_Contains(sys_modules, name) == 0;
    if (init_module_dict(d, fullname, found) < 0 || PyDict_SetItem(modules, name, mod) < 0 ||
        (free_name && PyDict_SetItem(sys_modules, name, mod) < 0)) {
        forget_module(modules, name, mod);
        Py_DECREF(mod);
        return NULL;
    }
    if (found->file[0] != '\0') {
        char *host = NULL;
        int err = esim_boardfs_resolve(fs, found->file, NULL, &host);
        int rc = err ? (esim_py_raise_errno(err), -1) : exec_board_source(host, shown(found, found->file), d);
        free(host);
        if (rc < 0) {
            forget_module(modules, name, mod);
            Py_DECREF(mod);
            return NULL;
        }
    }
    return mod;
}

/* The board module `name` already loaded this boot (new reference), or
 * NULL. One board code deleted from sys.modules (`del sys.modules['m']`,
 * to load it afresh) is forgotten, as MicroPython's import only looks in
 * sys.modules. Extensions of built-ins never go into sys.modules. */
static PyObject *loaded_board_module(PyObject *modules, PyObject *name, const char *fullname)
{
    PyObject *mod = PyDict_GetItemWithError(modules, name);
    if (mod == NULL || extends_builtin(fullname))
        return Py_XNewRef(mod);
    PyObject *listed = PyDict_GetItemWithError(PyImport_GetModuleDict(), name);
    if (listed != NULL || PyErr_Occurred())
        return PyErr_Occurred() ? NULL : Py_NewRef(mod);
    (void)PyDict_DelItem(modules, name);   /* on failure the error is the caller's */
    return NULL;
}

/* Each dotted part must be a plain name (no path tricks). */
static bool valid_module_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MODULE_NAME_MAX || name[0] == '.' || name[n - 1] == '.' || strstr(name, "..") != NULL)
        return false;
    return strpbrk(name, "/\\") == NULL;
}

/* Import `fullname` ("a.b.c") from the board, parents first. Returns 1
 * with *leaf set (new reference), 0 when the top-level name is not on the
 * board (or, with missing_ok, a submodule is missing), -1 with an error
 * (a missing submodule is ImportError as MicroPython words it). */
static int import_chain(esim_boardfs *fs, PyObject *modules, const char *fullname, bool missing_ok, PyObject **leaf)
{
    char prefix[MODULE_NAME_MAX + 1];
    PyObject *parent = NULL;
    *leaf = NULL;
    snprintf(prefix, sizeof prefix, "%s", fullname);
    for (const char *p = fullname;; p++) {
        if (*p != '.' && *p != '\0')
            continue;
        size_t n = (size_t)(p - fullname);
        prefix[n] = '\0';
        const char *part = strrchr(prefix, '.') ? strrchr(prefix, '.') + 1 : prefix;
        PyObject *name = PyUnicode_FromString(prefix);
        PyObject *mod = name ? loaded_board_module(modules, name, prefix) : NULL;
        found_module found;
        if (name != NULL && mod == NULL && !PyErr_Occurred()) {
            bool ok = parent ? find_submodule(fs, parent, part, &found) : find_top_level(fs, part, &found);
            if (ok)
                mod = load_module(fs, modules, name, &found);
            else if (parent == NULL || missing_ok)
                *leaf = NULL;
            else
                PyErr_Format(PyExc_ImportError, "no module named '%s'", prefix);
            if (ok && mod != NULL && parent != NULL && PyObject_SetAttrString(parent, part, mod) < 0)
                Py_CLEAR(mod);
        }
        Py_XDECREF(name);
        Py_XDECREF(parent);
        if (mod == NULL)
            return PyErr_Occurred() ? -1 : 0;
        if (*p == '\0') {
            *leaf = mod;
            return 1;
        }
        parent = mod;
        prefix[n] = '.';
    }
}

/* ---- __import__ ---- */

/* One call of the board's __import__, its arguments made plain. */
typedef struct {
    PyObject *name;       /* as given: relative names come without their dots */
    PyObject *globals;    /* the importer's globals, or NULL */
    PyObject *locals;     /* or NULL */
    PyObject *fromlist;   /* a non-empty list or tuple, or NULL for none */
    int level;
} import_request;

/* CPython's own __import__ (borrowed from its builtins module). */
static PyObject *host_import(const import_request *req, PyObject *name)
{
    PyObject *builtins = import_host_module("builtins");
    PyObject *imp = builtins ? PyObject_GetAttrString(builtins, "__import__") : NULL;
    Py_XDECREF(builtins);
    if (imp == NULL)
        return NULL;
    PyObject *none = Py_None;
    if (req->level > 0)
        name = req->name;   /* CPython resolves it against the globals again */
    PyObject *r = PyObject_CallFunction(imp, "OOOOi", name, req->globals ? req->globals : none,
                                        req->locals ? req->locals : none, req->fromlist ? req->fromlist : none,
                                        req->level);
    Py_DECREF(imp);
    return r;
}

/* ---- names that are never board files ---- */

/* The u-names MicroPython v1.28 still accepts: each extensible built-in
 * module may be imported as uNAME (and sys as usys). uctypes is a module of
 * its own. uzlib and zlib left the firmware in v1.21 (deflate replaced
 * them), so neither is a name. */
static const struct {
    const char *name;
    const char *module;
} u_aliases[] = {
    {"uarray", "array"}, {"uasyncio", "asyncio"}, {"ubinascii", "binascii"}, {"ucollections", "collections"},
    {"uerrno", "errno"}, {"uhashlib", "hashlib"}, {"uheapq", "heapq"}, {"uio", "io"}, {"ujson", "json"},
    {"umachine", "machine"}, {"uos", "os"}, {"uplatform", "platform"}, {"urandom", "random"}, {"ure", "re"},
    {"uselect", "select"}, {"ustruct", "struct"}, {"usys", "sys"}, {"utime", "time"},
};

/* Modules of the board's firmware the simulator does not model (CPython's
 * socket and ssl are kept from board code too: they would reach the host's
 * network). */
#define NO_RADIO "no Wi-Fi or Bluetooth"
#define NO_NETWORK "no network"
#define NO_ONEWIRE "no 1-Wire or DHT sensors"
static const struct {
    const char *name;
    const char *why;   /* NULL: no reason worth adding */
} unsimulated_modules[] = {
    {"network", NO_RADIO}, {"bluetooth", NO_RADIO}, {"espnow", NO_RADIO}, {"_espnow", NO_RADIO},
    {"socket", NO_NETWORK}, {"usocket", NO_NETWORK}, {"ssl", NO_NETWORK}, {"ussl", NO_NETWORK},
    {"tls", NO_NETWORK}, {"webrepl", NO_NETWORK}, {"_webrepl", NO_NETWORK}, {"webrepl_setup", NO_NETWORK},
    {"websocket", NO_NETWORK}, {"ntptime", NO_NETWORK}, {"requests", NO_NETWORK}, {"urequests", NO_NETWORK},
    {"mip", NO_NETWORK}, {"upip", NO_NETWORK},
    {"dht", NO_ONEWIRE}, {"onewire", NO_ONEWIRE}, {"_onewire", NO_ONEWIRE}, {"ds18x20", NO_ONEWIRE},
    {"framebuf", NULL}, {"esp", NULL}, {"cryptolib", NULL},
};

static const char *u_alias_of(const char *name)
{
    for (size_t i = 0; i < sizeof u_aliases / sizeof u_aliases[0]; i++)
        if (strcmp(name, u_aliases[i].name) == 0)
            return u_aliases[i].module;
    return NULL;
}

static PyObject *raise_unsimulated(const char *name, const char *why)
{
    return PyErr_Format(PyExc_ImportError, "esp32sim: the '%s' module is not simulated%s%s%s", name,
                        why ? " (" : "", why ? why : "", why ? ")" : "");
}

/* True when `top` is a module the simulator lacks. */
static bool is_unsimulated(const char *top)
{
    for (size_t i = 0; i < sizeof unsimulated_modules / sizeof unsimulated_modules[0]; i++)
        if (strcmp(top, unsimulated_modules[i].name) == 0)
            return true;
    return false;
}

/* NULL with ImportError set: `top` is a module the simulator lacks. */
static PyObject *refuse_unsimulated(const char *top)
{
    for (size_t i = 0; i < sizeof unsimulated_modules / sizeof unsimulated_modules[0]; i++)
        if (strcmp(top, unsimulated_modules[i].name) == 0)
            return raise_unsimulated(top, unsimulated_modules[i].why);
    return NULL;
}

/* An unsimulated module board code put in sys.modules itself (a stand-in,
 * as MicroPython's import looks at loaded modules before its built-in
 * ones), else the ImportError naming it. */
static PyObject *stand_in_or_refuse(PyObject *fullname, const char *top)
{
    if (PyUnicode_CompareWithASCIIString(fullname, top) == 0) {
        PyObject *mod = PyDict_GetItemWithError(PyImport_GetModuleDict(), fullname);
        if (mod != NULL || PyErr_Occurred())
            return Py_XNewRef(mod);
    }
    return refuse_unsimulated(top);
}

/* Attribute `name` of _esp32sim; with `optional`, NULL (no error) when it
 * has none. */
static PyObject *ext_attribute(const char *name, bool optional)
{
    PyObject *ext = import_host_module("_esp32sim");
    if (ext == NULL)
        return NULL;
    PyObject *attr = optional && !PyObject_HasAttrString(ext, name) ? NULL : PyObject_GetAttrString(ext, name);
    Py_DECREF(ext);
    return attr;
}

/* Firmware modules the binding writes itself, kept as _esp32sim's private
 * attributes of the same names (besides os and gc). */
static bool is_binding_module(const char *module)
{
    return strcmp(module, "platform") == 0 || strcmp(module, "asyncio") == 0 ||
           strcmp(module, "binascii") == 0 || strcmp(module, "errno") == 0;
}

/* What board code gets for a firmware module the board's __import__
 * serves itself: the board's os, platform, asyncio, binascii and errno,
 * the board's gc when the binding has one, a view of the ones CPython also
 * has (sys, time, json, math ...: board_views.c), else CPython's module. */
static PyObject *served_module(const char *module)
{
    if (strcmp(module, "os") == 0 || is_binding_module(module))
        return ext_attribute(module, false);
    if (strcmp(module, "gc") == 0) {
        PyObject *gc = ext_attribute("gc", true);
        if (gc != NULL || PyErr_Occurred())
            return gc;
    }
    if (esim_py_has_board_view(module))
        return esim_py_board_view(module);
    return import_host_module(module);
}

static bool is_served(const char *top)
{
    return strcmp(top, "os") == 0 || strcmp(top, "gc") == 0 || is_binding_module(top) ||
           esim_py_has_board_view(top);
}

/* The modules served_module gives and the u-names: *handled set when `top`
 * is one of them. None of them has submodules on the board. */
static PyObject *import_served(const char *fullname, const char *top, bool *handled)
{
    const char *module = u_alias_of(top);
    if (module == NULL && is_served(top))
        module = top;
    *handled = module != NULL;
    if (module == NULL)
        return NULL;
    if (strcmp(fullname, top) != 0)
        return PyErr_Format(PyExc_ImportError, "no module named '%s'", fullname);
    return served_module(module);
}

/* True when the ModuleNotFoundError set is about `name` itself. */
static bool missing_module_is(const char *name)
{
    if (!PyErr_ExceptionMatches(PyExc_ModuleNotFoundError))
        return false;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *missing = value ? PyObject_GetAttrString(value, "name") : NULL;
    bool same = missing != NULL && PyUnicode_Check(missing) && PyUnicode_CompareWithASCIIString(missing, name) == 0;
    Py_XDECREF(missing);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
    return same;
}

/* A firmware module CPython has no module for is one the simulator lacks. */
static PyObject *import_firmware_module(const import_request *req, PyObject *name, const char *top)
{
    PyObject *mod = host_import(req, name);
    if (mod == NULL && missing_module_is(top)) {
        PyErr_Clear();
        return raise_unsimulated(top, NULL);
    }
    return mod;
}

/* from machine import UART, from esp32 import PCNT: the board's message
 * rather than CPython's "cannot import name". */
static int check_unsimulated_names(const char *top, PyObject *mod, PyObject *fromlist)
{
    bool machine = strcmp(top, "machine") == 0 || strcmp(top, "umachine") == 0;
    if (mod == NULL || fromlist == NULL || (!machine && strcmp(top, "esp32") != 0))
        return 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fromlist); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fromlist, i);
        const char *s = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
        if (s == NULL) {
            PyErr_Clear();
            continue;
        }
        if (PyObject_HasAttr(mod, item))
            continue;
        if (machine ? esim_py_machine_unsimulated(s, PyExc_ImportError) : esim_py_esp32_unsimulated(s, PyExc_ImportError))
            return -1;
    }
    return 0;
}

/* The absolute name of a relative import made inside a board package, or
 * NULL (no error) when the importer is not one. */
static PyObject *relative_name(PyObject *modules, PyObject *name, PyObject *globals, int level)
{
    PyObject *pkg = globals && PyDict_Check(globals) ? PyDict_GetItemString(globals, "__package__") : NULL;
    if (pkg == NULL || !PyUnicode_Check(pkg) || PyUnicode_GET_LENGTH(pkg) == 0 || PyDict_Contains(modules, pkg) != 1)
        return NULL;
    Py_ssize_t end = PyUnicode_GET_LENGTH(pkg);
    for (int i = 1; i < level; i++) {
        end = PyUnicode_FindChar(pkg, '.', 0, end, -1);
        if (end < 0) {
            PyErr_Clear();
            return NULL;   /* beyond the top: CPython's import says so */
        }
    }
    PyObject *base = PyUnicode_Substring(pkg, 0, end);
    if (base == NULL || PyUnicode_GET_LENGTH(name) == 0)
        return base;
    PyObject *full = PyUnicode_FromFormat("%U.%U", base, name);
    Py_DECREF(base);
    return full;
}

/* from PACKAGE import a, b: submodules not yet attributes are looked for
 * in the package's directory; names found nowhere are left to the
 * IMPORT_FROM that follows (which raises ImportError). */
static int import_fromlist(esim_boardfs *fs, PyObject *modules, PyObject *mod, PyObject *fromlist)
{
    if (fromlist == NULL || !PyObject_IsTrue(fromlist) || !PyObject_HasAttrString(mod, "__path__"))
        return PyErr_Occurred() ? -1 : 0;
    PyObject *seq = PySequence_Fast(fromlist, "fromlist must be a sequence");
    PyObject *modname = seq ? PyObject_GetAttrString(mod, "__name__") : NULL;
    int rc = modname ? 0 : -1;
    for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(item) || PyUnicode_CompareWithASCIIString(item, "*") == 0 ||
            PyObject_HasAttr(mod, item))
            continue;
        PyObject *full = PyUnicode_FromFormat("%S.%U", modname, item);
        const char *s = full ? PyUnicode_AsUTF8(full) : NULL;
        PyObject *sub = NULL;
        rc = s == NULL ? -1 : valid_module_name(s) ? import_chain(fs, modules, s, true, &sub) : 0;
        rc = rc < 0 ? -1 : 0;
        Py_XDECREF(sub);
        Py_XDECREF(full);
    }
    Py_XDECREF(modname);
    Py_XDECREF(seq);
    return rc;
}

/* What `import a.b.c` binds (the top module) or what `from a.b import x`
 * takes names from (the leaf). */
static PyObject *import_result(PyObject *modules, PyObject *leaf, const char *fullname, PyObject *fromlist,
                               int level)
{
    int has_from = fromlist ? PyObject_IsTrue(fromlist) : 0;
    if (has_from < 0)
        return NULL;
    if (has_from || level > 0 || strchr(fullname, '.') == NULL)
        return Py_NewRef(leaf);
    PyObject *top = PyUnicode_FromStringAndSize(fullname, strchr(fullname, '.') - fullname);
    PyObject *mod = top ? PyDict_GetItemWithError(modules, top) : NULL;
    Py_XDECREF(top);
    if (mod == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_ImportError, "board package vanished during import");
    return Py_XNewRef(mod);
}

int esim_py_set_script_dir(const char *dir)
{
    PyObject *state = esim_py_interp_state();
    PyObject *value = state ? PyUnicode_DecodeFSDefault(dir) : NULL;
    int rc = value ? PyDict_SetItemString(state, KEY_SCRIPT_DIR, value) : -1;
    Py_XDECREF(value);
    return rc;
}

/* True when the host script's folder (esp32sim run SCRIPT) has a module
 * or package `top`, which CPython's import finds on sys.path. */
static bool in_script_dir(const char *top)
{
    PyObject *state = esim_py_interp_state();
    PyObject *dir = state ? PyDict_GetItemString(state, KEY_SCRIPT_DIR) : NULL;
    const char *base = dir ? PyUnicode_AsUTF8(dir) : NULL;
    if (base == NULL) {
        PyErr_Clear();
        return false;
    }
    char path[PATH_MAX];
    struct stat st;
    const char *sep = base[0] ? "/" : "";
    snprintf(path, sizeof path, "%s%s%s.py", base, sep, top);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return true;
    snprintf(path, sizeof path, "%s%s%s", base, sep, top);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Neither in the firmware nor on the board's filesystem: MicroPython's
 * ImportError, even when CPython has such a module (a board has no
 * functools or logging until they are copied into /lib). */
static PyObject *no_such_module(const char *fullname)
{
    return PyErr_Format(PyExc_ImportError, "no module named '%s'", fullname);
}

/* MicroPython's extensible built-ins (the modules that also answer to a
 * u-name): a module or package of the same name on the board's filesystem
 * is found before the built-in, which is how micropython-lib extends them
 * (its collections/__init__.py does `from ucollections import *`). The
 * u-name always gives the built-in. */
static bool is_extensible(const char *top)
{
    for (size_t i = 0; i < sizeof u_aliases / sizeof u_aliases[0]; i++)
        if (strcmp(top, u_aliases[i].module) == 0)
            return true;
    return false;
}

/* 1 with *out set when `fullname` is an extension on the board, 0 when it
 * is not one, -1 with an exception set. */
static int extension_on_board(const char *fullname, const char *top, const import_request *req, PyObject **out)
{
    if (!is_extensible(top) || !valid_module_name(fullname))
        return 0;
    esim_device *dev = NULL;
    esim_boardfs *fs = current_fs(&dev);
    if (dev == NULL)
        return -1;
    PyObject *modules = fs ? board_modules(dev) : NULL;
    if (modules == NULL)
        return fs ? -1 : 0;
    PyObject *leaf = NULL;
    int found = import_chain(fs, modules, fullname, false, &leaf);
    if (found <= 0)
        return found;
    *out = import_fromlist(fs, modules, leaf, req->fromlist) < 0
               ? NULL
               : import_result(modules, leaf, fullname, req->fromlist, req->level);
    Py_DECREF(leaf);
    return *out ? 1 : -1;
}

static PyObject *import_from_board(PyObject *fullname_obj, const import_request *req)
{
    const char *fullname = PyUnicode_AsUTF8(fullname_obj);
    if (fullname == NULL)
        return NULL;
    char top[MODULE_NAME_MAX + 1];
    snprintf(top, sizeof top, "%s", fullname);
    top[strcspn(top, ".")] = '\0';
    PyObject *extension = NULL;
    int extended = extension_on_board(fullname, top, req, &extension);
    if (extended != 0)
        return extended < 0 ? NULL : extension;
    bool handled = false;
    PyObject *served = import_served(fullname, top, &handled);
    if (!handled && is_unsimulated(top))
        return stand_in_or_refuse(fullname_obj, top);
    if (handled)
        return check_unsimulated_names(top, served, req->fromlist) < 0 ? (Py_XDECREF(served), NULL) : served;
    esim_device *dev = NULL;
    esim_boardfs *fs = current_fs(&dev);
    if (dev == NULL)
        return NULL;
    if (fs == NULL || is_micropython_module(top) || !valid_module_name(fullname)) {
        PyObject *mod = is_micropython_module(top) ? import_firmware_module(req, fullname_obj, top)
                                                   : host_import(req, fullname_obj);
        return check_unsimulated_names(top, mod, req->fromlist) < 0 ? (Py_XDECREF(mod), NULL) : mod;
    }
    PyObject *modules = board_modules(dev);
    PyObject *leaf = NULL;
    int found = modules ? import_chain(fs, modules, fullname, false, &leaf) : -1;
    if (found < 0)
        return NULL;
    if (found == 0)
        return in_script_dir(top) ? host_import(req, fullname_obj) : no_such_module(fullname);
    PyObject *r = import_fromlist(fs, modules, leaf, req->fromlist) < 0
                      ? NULL
                      : import_result(modules, leaf, fullname, req->fromlist, req->level);
    Py_DECREF(leaf);
    return r;
}

/* A relative import. MicroPython resolves it against the calling module
 * whatever globals are passed (libraries call __import__(name, None, None,
 * (), 1)); with nothing to go up from it says "can't perform relative
 * import". */
static PyObject *import_relative(import_request *req)
{
    if (req->globals == NULL || !PyDict_Check(req->globals))
        req->globals = PyEval_GetGlobals();   /* the caller's, borrowed */
    if (req->globals == NULL)
        return PyErr_Format(PyExc_ImportError, "can't perform relative import");
    esim_device *dev = NULL;
    esim_boardfs *fs = current_fs(&dev);
    if (dev == NULL)
        return NULL;
    PyObject *modules = fs ? board_modules(dev) : NULL;
    if (fs != NULL && modules == NULL)
        return NULL;
    PyObject *full = modules ? relative_name(modules, req->name, req->globals, req->level) : NULL;
    if (full != NULL) {
        PyObject *r = import_from_board(full, req);
        Py_DECREF(full);
        return r;
    }
    if (PyErr_Occurred())
        return NULL;
    PyObject *pkg = PyDict_GetItemString(req->globals, "__package__");
    bool in_package = (pkg != NULL && PyUnicode_Check(pkg) && PyUnicode_GET_LENGTH(pkg) > 0) ||
                      PyDict_GetItemString(req->globals, "__path__") != NULL;
    if (!in_package)
        return PyErr_Format(PyExc_ImportError, "can't perform relative import");
    return host_import(req, req->name);
}

/* The fromlist as CPython's import machinery takes it. MicroPython returns
 * the leaf module for any fromlist but None (micropython-lib passes True);
 * ("__name__",) asks for the leaf and imports nothing more, as every
 * module has that attribute. */
static PyObject *plain_fromlist(PyObject *fromlist)
{
    if (fromlist == NULL || fromlist == Py_None)
        return NULL;
    if ((PyTuple_Check(fromlist) || PyList_Check(fromlist)) && PySequence_Size(fromlist) > 0)
        return PySequence_Tuple(fromlist);
    return Py_BuildValue("(s)", "__name__");
}

static PyObject *board_import(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    static char *kwlist[] = {"name", "globals", "locals", "fromlist", "level", NULL};
    import_request req = {NULL, NULL, NULL, NULL, 0};
    PyObject *fromlist = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|OOOi:__import__", kwlist, &req.name, &req.globals,
                                     &req.locals, &fromlist, &req.level))
        return NULL;
    if (req.level < 0)
        return PyErr_Format(PyExc_ValueError, "level must be >= 0");
    if (req.globals == Py_None)
        req.globals = NULL;
    if (req.locals == Py_None)
        req.locals = NULL;
    req.fromlist = plain_fromlist(fromlist);
    if (req.fromlist == NULL && PyErr_Occurred())
        return NULL;
    PyObject *r;
    if (req.level > 0)
        r = import_relative(&req);
    else if (PyUnicode_GET_LENGTH(req.name) == 0)
        r = PyErr_Format(PyExc_ValueError, "Empty module name");
    else
        r = import_from_board(req.name, &req);
    Py_XDECREF(req.fromlist);
    return r;
}

/* ---- open ---- */

/* A host OSError as the board reports it: its errno only, no host path. */
static PyObject *reraise_host_error(void)
{
    if (!PyErr_ExceptionMatches(PyExc_OSError))
        return NULL;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    int n = EIO;
    PyObject *num = value ? PyObject_GetAttrString(value, "errno") : NULL;
    if (num != NULL && PyLong_Check(num))
        n = (int)PyLong_AsLong(num);
    Py_XDECREF(num);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyErr_Clear();
    switch (n) {
    case ENOENT: case EEXIST: case ENOTDIR: case EISDIR: case EINVAL: case EACCES: case ENOSPC: case ENOMEM:
    case ENAMETOOLONG:
        break;
    case EPERM: case EROFS:
        n = EACCES;
        break;
    default:
        n = EIO;
    }
    return esim_py_raise_errno(n);
}

/* The file shows its board path as its name. */
static void name_file(PyObject *file, const char *board_path)
{
    PyObject *obj = Py_NewRef(file);
    static const char *const layers[] = {"buffer", "raw"};
    for (size_t i = 0; i < 2; i++) {
        if (PyObject_HasAttrString(obj, layers[i])) {
            PyObject *inner = PyObject_GetAttrString(obj, layers[i]);
            if (inner == NULL)
                break;
            Py_SETREF(obj, inner);
        }
    }
    PyObject *name = PyUnicode_DecodeFSDefault(board_path);
    if (name == NULL || PyObject_SetAttrString(obj, "name", name) < 0)
        PyErr_Clear();
    Py_XDECREF(name);
    Py_DECREF(obj);
}

/* The keyword arguments for io.open: text is UTF-8 with no newline
 * translation, as MicroPython has it. */
static PyObject *open_kwargs(PyObject *mode, PyObject *buffering, PyObject *encoding)
{
    PyObject *kw = PyDict_New();
    const char *m = mode ? PyUnicode_AsUTF8(mode) : "r";
    if (kw == NULL || m == NULL) {
        Py_XDECREF(kw);
        return NULL;
    }
    bool text = strchr(m, 'b') == NULL;
    bool has_encoding = encoding != NULL && encoding != Py_None;
    int rc = mode ? PyDict_SetItemString(kw, "mode", mode) : set_str(kw, "mode", "r");
    if (rc == 0 && buffering != NULL)
        rc = PyDict_SetItemString(kw, "buffering", buffering);
    if (rc == 0 && has_encoding)
        rc = PyDict_SetItemString(kw, "encoding", encoding);
    else if (rc == 0 && text)
        rc = set_str(kw, "encoding", "utf-8");
    if (rc == 0 && text)
        rc = set_str(kw, "newline", "");
    if (rc < 0)
        Py_CLEAR(kw);
    return kw;
}

static PyObject *open_host(const char *host, PyObject *mode, PyObject *buffering, PyObject *encoding)
{
    PyObject *io = import_host_module("io");
    PyObject *fn = io ? PyObject_GetAttrString(io, "open") : NULL;
    PyObject *kw = fn ? open_kwargs(mode, buffering, encoding) : NULL;
    PyObject *args = kw ? Py_BuildValue("(N)", PyUnicode_DecodeFSDefault(host)) : NULL;
    PyObject *result = args ? PyObject_Call(fn, args, kw) : NULL;
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_XDECREF(fn);
    Py_XDECREF(io);
    return result;
}

static PyObject *board_open(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    static char *kwlist[] = {"file", "mode", "buffering", "encoding", NULL};
    PyObject *file, *mode = NULL, *buffering = NULL, *encoding = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OOO:open", kwlist, &file, &mode, &buffering, &encoding))
        return NULL;
    const char *path = esim_py_get_str(file, NULL);
    if (path == NULL || (mode != NULL && esim_py_get_str(mode, NULL) == NULL))
        return NULL;
    if (mode != NULL && !PyUnicode_Check(mode))
        return PyErr_Format(PyExc_TypeError, "open() mode must be str");
    esim_device *dev = NULL;
    esim_boardfs *fs = current_fs(&dev);
    if (fs == NULL)
        return dev ? esim_py_raise_errno(ENODEV) : NULL;
    char *board_path = NULL, *host = NULL;
    int err = esim_boardfs_resolve(fs, path, &board_path, &host);
    struct stat st;
    if (err == 0 && stat(host, &st) == 0 && S_ISDIR(st.st_mode))
        err = EISDIR;
    PyObject *f = err ? esim_py_raise_errno(err) : open_host(host, mode, buffering, encoding);
    if (f == NULL && !err)
        reraise_host_error();
    if (f != NULL)
        name_file(f, board_path);
    free(board_path);
    free(host);
    return f;
}

/* ---- the builtins ---- */

static PyMethodDef open_def = {"open", (PyCFunction)(void (*)(void))board_open, METH_VARARGS | METH_KEYWORDS,
                               "open(file, mode='r', buffering=-1, encoding=None): a file on the board's filesystem."};
static PyMethodDef import_def = {"__import__", (PyCFunction)(void (*)(void))board_import,
                                 METH_VARARGS | METH_KEYWORDS,
                                 "__import__(name, globals=None, locals=None, fromlist=(), level=0): "
                                 "board modules first, then CPython's."};

/* print, as the board prints: straight to the UART, needing no heap, so
 * it works under micropython.heap_lock(). `host_print` is CPython's. A
 * fast call, so no argument tuple is allocated to reach it. */
static PyObject *board_print(PyObject *host_print, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    esim_py_heap_guard_pause();
    PyObject *result = PyObject_Vectorcall(host_print, args, (size_t)nargs, kwnames);
    esim_py_heap_guard_resume();
    return result;
}

static PyMethodDef print_def = {"print", (PyCFunction)(void (*)(void))board_print, METH_FASTCALL | METH_KEYWORDS,
                                "print(*objects, sep=' ', end='\\n', file=None): CPython's print, "
                                "working under micropython.heap_lock() as the board's does."};

static int set_function_of(PyObject *dict, PyMethodDef *def, PyObject *self)
{
    PyObject *fn = PyCFunction_New(def, self);
    int rc = fn ? PyDict_SetItemString(dict, def->ml_name, fn) : -1;
    Py_XDECREF(fn);
    return rc;
}

static int set_function(PyObject *dict, PyMethodDef *def)
{
    return set_function_of(dict, def, NULL);
}

/* MicroPython names a class by its name alone: <class 'Sensor'>,
 * <Sensor object at ...>, "MyError: message" in a traceback. CPython
 * prints its own classes that way, the ones whose __module__ is
 * 'builtins', so the classes board code makes get that __module__. */
static PyObject *board_build_class(PyObject *host_build_class, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    PyObject *cls = PyObject_Vectorcall(host_build_class, args, (size_t)nargs, kwnames);
    if (cls == NULL || !PyType_Check(cls))
        return cls;
    PyObject *builtins = PyUnicode_InternFromString("builtins");
    if (builtins == NULL || PyObject_SetAttrString(cls, "__module__", builtins) < 0)
        PyErr_Clear();   /* a metaclass that refuses it keeps CPython's naming */
    Py_XDECREF(builtins);
    return cls;
}

static PyMethodDef build_class_def = {"__build_class__", (PyCFunction)(void (*)(void))board_build_class,
                                      METH_FASTCALL | METH_KEYWORDS,
                                      "__build_class__(func, name, *bases, **kwds): CPython's, the class named as "
                                      "MicroPython names it."};

static int set_board_build_class(PyObject *dict)
{
    PyObject *host = PyDict_GetItemString(dict, "__build_class__");
    return host ? set_function_of(dict, &build_class_def, host) : 0;
}

static int set_board_print(PyObject *dict)
{
    PyObject *host_print = PyDict_GetItemString(dict, "print");
    return host_print ? set_function_of(dict, &print_def, host_print) : 0;
}

/* Borrowed; made once per interpreter. */
static PyObject *board_builtins(void)
{
    PyObject *state = esim_py_interp_state();
    if (state == NULL)
        return NULL;
    PyObject *cached = PyDict_GetItemString(state, KEY_BUILTINS);
    if (cached != NULL)
        return cached;
    PyObject *module = import_host_module("builtins");
    PyObject *copy = module ? PyDict_Copy(PyModule_GetDict(module)) : NULL;
    Py_XDECREF(module);
    if (copy == NULL || set_function(copy, &open_def) < 0 || set_function(copy, &import_def) < 0 ||
        set_board_print(copy) < 0 || set_board_build_class(copy) < 0 ||
        PyDict_SetItemString(state, KEY_BUILTINS, copy) < 0) {
        Py_XDECREF(copy);
        return NULL;
    }
    Py_DECREF(copy);
    return copy;
}

PyObject *esim_py_board_builtin(const char *name)
{
    PyObject *builtins = board_builtins();
    if (builtins == NULL || name == NULL)
        return builtins;
    PyObject *value = PyDict_GetItemString(builtins, name);
    if (value == NULL)
        PyErr_Format(PyExc_NameError, "name '%s' isn't defined", name);
    return value;
}

int esim_py_use_board_builtins(PyObject *globals)
{
    if (!PyDict_Check(globals)) {
        PyErr_SetString(PyExc_TypeError, "board code globals must be a dict");
        return -1;
    }
    PyObject *builtins = board_builtins();
    return builtins ? PyDict_SetItemString(globals, "__builtins__", builtins) : -1;
}

int esim_py_run_board_file(const char *board_path, PyObject *globals)
{
    esim_device *dev = NULL;
    esim_boardfs *fs = current_fs(&dev);
    if (dev == NULL)
        return -1;
    esim_boardfs_stat st;
    if (fs == NULL || esim_boardfs_stat_path(fs, board_path, &st) != 0 || st.is_dir)
        return 0;   /* as pyexec_file_if_exists: only a file runs */
    char *abs = NULL, *host = NULL;
    int err = esim_boardfs_resolve(fs, board_path, &abs, &host);
    int rc = err ? (esim_py_raise_errno(err), -1) : esim_py_use_board_builtins(globals);
    if (rc == 0)
        rc = set_str(globals, "__file__", board_path);
    if (rc == 0)
        rc = exec_board_source(host, board_path, globals);
    free(abs);
    free(host);
    return rc < 0 ? -1 : 1;
}
