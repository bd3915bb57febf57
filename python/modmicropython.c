/* esp32sim binding — MicroPython's `micropython` module (py/modmicropython.c
 * as built for the ESP32 port): const, opt_level, mem_info, qstr_info,
 * stack_use, heap_lock/heap_unlock, alloc_emergency_exception_buf, kbd_intr
 * and schedule.
 *
 * CPython has no MicroPython heap or C stack to report, so mem_info and
 * stack_use print a small model of them (see docs/python-machine.md): the
 * ESP32 port's initial 56 KiB GC heap, holding a fixed baseline at the first
 * look after a boot plus what CPython allocated since, one 16-byte block per
 * CPython block; the stack as a base plus a fixed cost per Python frame. */
#include "binding.h"
#include "esp32sim/heap.h"

#include <stdbool.h>
#include <stdio.h>

/* The ESP32 port's figures (mpconfigport.h, main.c). */
#define STACK_LIMIT_BYTES 15360u        /* 16 KiB task stack - 1 KiB margin */
#define BYTES_PER_BLOCK 16u
#define HEAP_TOTAL_BLOCKS 3500u         /* gc_init over 56 KiB: 875 ATB bytes x 4 */
#define HEAP_MAX_BLOCKS (1u << 18)      /* the model's ceiling (4 MiB): far above the ESP32's RAM */
#define MIN_NEW_AREA_BYTES 1024u        /* no split-heap area smaller than this is worth adding */
#define SCHEDULER_DEPTH 8               /* MICROPY_SCHEDULER_DEPTH */
#define DEFAULT_INTERRUPT_CHAR 3        /* Ctrl-C */

/* The model's own figures. */
#define STACK_BASE_BYTES 512u           /* the REPL's frames below user code */
#define STACK_BYTES_PER_FRAME 192u      /* C stack per nested Python call */
#define HEAP_BASELINE_BLOCKS 112u       /* what a freshly booted REPL holds */
#define DUMP_BLOCKS_PER_LINE 64u

typedef struct {
    uint32_t opt_level;          /* mp_optimise_value (a machine word) */
    int32_t interrupt_char;
    int32_t emergency_buf_size;
    int scheduled;               /* callbacks queued and not yet run */
    esim_py_boot_key heap_boot;           /* the boot the heap model was last looked at in */
    Py_ssize_t blocks_at_boot;   /* CPython's allocated blocks at that first look */
    int32_t gc_threshold;        /* gc.threshold(): -1 when not set */
} micropython_state;

static micropython_state *state_of(PyObject *module)
{
    return (micropython_state *)PyModule_GetState(module);
}

static Py_ssize_t arg_count(PyObject *args)
{
    return PyTuple_GET_SIZE(args);
}

/* Print to sys.stdout, as mp_plat_print does on the board's UART. */
static int write_out(const char *text)
{
    PyObject *out = PySys_GetObject("stdout");
    if (out == NULL || out == Py_None)
        return 0;
    return PyFile_WriteString(text, out);
}

/* ---- const, opt_level ---- */

static PyObject *micropython_const(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 1, 1, 0))
        return NULL;
    PyObject *x = PyTuple_GET_ITEM(args, 0);
    Py_INCREF(x);
    return x;
}

/* The value comes back as a 31-bit small int, so the top bit is lost. */
static long small_int_of_word(uint32_t word)
{
    return (long)((int32_t)(word << 1) >> 1);
}

static PyObject *micropython_opt_level(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 1, 0))
        return NULL;
    micropython_state *st = state_of(module);
    if (arg_count(args) == 0)
        return PyLong_FromLong(small_int_of_word(st->opt_level));
    int32_t level;
    if (esim_py_get_int(PyTuple_GET_ITEM(args, 0), &level))
        return NULL;
    st->opt_level = (uint32_t)level;
    Py_RETURN_NONE;
}

/* ---- the stack model ---- */

static unsigned python_frame_depth(void)
{
    unsigned depth = 0;
    PyFrameObject *frame = PyEval_GetFrame();
    Py_XINCREF(frame);
    while (frame != NULL) {
        PyFrameObject *back = PyFrame_GetBack(frame);
        Py_DECREF(frame);
        frame = back;
        depth++;
    }
    return depth;
}

static uint32_t stack_usage(void)
{
    uint64_t used = STACK_BASE_BYTES + (uint64_t)STACK_BYTES_PER_FRAME * python_frame_depth();
    return used > STACK_LIMIT_BYTES ? STACK_LIMIT_BYTES : (uint32_t)used;
}

static PyObject *micropython_stack_use(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    return PyLong_FromUnsignedLong(stack_usage());
}

/* ---- the heap model ----
 * The used blocks sit at the bottom of the pool as allocations of 1, 1, 2
 * and 8 blocks, repeating (the last one cut short); the free blocks form
 * one run above them. */

static const uint32_t allocation_pattern[] = {1, 1, 2, 8};
#define PATTERN_LEN (sizeof allocation_pattern / sizeof allocation_pattern[0])

typedef struct {
    uint32_t total_blocks;
    uint32_t used_blocks;
    uint32_t one_blocks;
    uint32_t two_blocks;
    uint32_t max_block;
} heap_model;

static Py_ssize_t cpython_allocated_blocks(void)
{
    PyObject *fn = PySys_GetObject("getallocatedblocks");
    if (fn == NULL)
        return 0;
    PyObject *count = PyObject_CallNoArgs(fn);
    Py_ssize_t n = count != NULL ? PyLong_AsSsize_t(count) : -1;
    Py_XDECREF(count);
    if (n < 0) {
        PyErr_Clear();
        return 0;
    }
    return n;
}

static uint32_t allocation_size(uint32_t index, uint32_t blocks_left)
{
    uint32_t size = allocation_pattern[index % PATTERN_LEN];
    return size < blocks_left ? size : blocks_left;
}

/* The pool blocks gc_init makes of an area: 16-byte blocks plus their
 * allocation-table and finaliser bits (131 bits per block), in whole
 * table bytes. */
static uint32_t pool_blocks_of(size_t area_bytes)
{
    return (uint32_t)(area_bytes * 8u / (BYTES_PER_BLOCK * 8u + 3u)) & ~3u;
}

/* The heap's blocks, growing it as MicroPython's split heap does when
 * `used` blocks no longer fit: each new area comes from the IDF heap, so
 * esp32.idf_heap_info and "max new split" show it. */
static uint32_t heap_blocks_for(uint64_t used)
{
    esim_device *board = esim_py_current_board_or_null();
    if (board == NULL)
        return HEAP_TOTAL_BLOCKS;
    uint32_t total = pool_blocks_of(esim_device_gc_heap_bytes(board));
    const esim_heaps *heaps = esim_device_heaps(board);
    while (used > total && total < HEAP_MAX_BLOCKS && heaps != NULL) {
        /* one area at a time, as allocations fail one by one on the board */
        size_t needed = (size_t)(used - total) * (BYTES_PER_BLOCK * 8u + 3u) / 8u + 64u;
        size_t largest = esim_heap_caps_largest_free_block(heaps, ESIM_MALLOC_CAP_DEFAULT);
        if (needed > largest)
            needed = largest;
        if (needed < MIN_NEW_AREA_BYTES || esim_device_gc_heap_grow(board, needed) != ESP_OK)
            break;
        total = pool_blocks_of(esim_device_gc_heap_bytes(board));
    }
    return total ? total : HEAP_TOTAL_BLOCKS;
}

/* The first look in a boot sees the baseline; later ones add what CPython
 * allocated since. */
static heap_model heap_now(micropython_state *st)
{
    heap_model m = {0, 0, 0, 0, 0};
    esim_py_boot_key now = esim_py_boot_now();
    Py_ssize_t blocks = cpython_allocated_blocks();
    if (!esim_py_same_boot(now, st->heap_boot)) {
        st->heap_boot = now;
        st->blocks_at_boot = blocks;
    }
    Py_ssize_t grown = blocks - st->blocks_at_boot;
    uint64_t used = HEAP_BASELINE_BLOCKS + (uint64_t)(grown > 0 ? grown : 0);
    m.total_blocks = heap_blocks_for(used);
    m.used_blocks = used > m.total_blocks ? m.total_blocks : (uint32_t)used;
    for (uint32_t i = 0, left = m.used_blocks; left > 0; i++) {
        uint32_t size = allocation_size(i, left);
        m.one_blocks += size == 1;
        m.two_blocks += size == 2;
        if (size > m.max_block)
            m.max_block = size;
        left -= size;
    }
    return m;
}

/* gc_get_max_new_split: the largest block ESP-IDF could add to the split
 * heap (heap_caps_get_largest_free_block(MALLOC_CAP_DEFAULT)). */
static size_t max_new_split(void)
{
    esim_device *board = esim_py_current_board_or_null();
    const esim_heaps *heaps = board ? esim_device_heaps(board) : NULL;
    return heaps ? esim_heap_caps_largest_free_block(heaps, ESIM_MALLOC_CAP_DEFAULT) : 0;
}

/* gc_init puts the pool at the end of the heap, after its tables. */
static uint32_t pool_start(void)
{
    esim_device *board = esim_py_current_board_or_null();
    uint32_t addr = 0;
    size_t size = 0;
    if (board != NULL)
        esim_device_gc_heap(board, &addr, &size);
    return size ? addr + (uint32_t)size - HEAP_TOTAL_BLOCKS * BYTES_PER_BLOCK : 0;
}

static int print_gc_info(const heap_model *m)
{
    uint32_t free_blocks = m->total_blocks - m->used_blocks;
    char line[256];
    snprintf(line, sizeof line,
        "GC: total: %u, used: %u, free: %u, max new split: %u\n"
        " No. of 1-blocks: %u, 2-blocks: %u, max blk sz: %u, max free sz: %u\n",
        m->total_blocks * BYTES_PER_BLOCK, m->used_blocks * BYTES_PER_BLOCK,
        free_blocks * BYTES_PER_BLOCK, (unsigned)max_new_split(),
        m->one_blocks, m->two_blocks, m->max_block, free_blocks);
    return write_out(line);
}

/* The allocation table as gc_dump_alloc_table draws it: 'h' for the head of
 * an allocation, '=' for its tail, '.' for a free block. */
static void draw_blocks(const heap_model *m, char *kinds)
{
    /* the first area, the 56 KiB heap made at boot (areas the split heap
     * added later are not drawn) */
    uint32_t used = m->used_blocks < HEAP_TOTAL_BLOCKS ? m->used_blocks : HEAP_TOTAL_BLOCKS;
    uint32_t block = 0;
    for (uint32_t i = 0; block < used; i++) {
        uint32_t size = allocation_size(i, used - block);
        kinds[block++] = 'h';
        for (uint32_t t = 1; t < size; t++)
            kinds[block++] = '=';
    }
    while (block < HEAP_TOTAL_BLOCKS)
        kinds[block++] = '.';
}

static uint32_t free_run_from(const char *kinds, uint32_t block)
{
    uint32_t end = block;
    while (end < HEAP_TOTAL_BLOCKS && kinds[end] == '.')
        end++;
    return end;
}

static int print_alloc_table(const heap_model *m)
{
    char kinds[HEAP_TOTAL_BLOCKS];
    char line[128];
    size_t len = 0;
    draw_blocks(m, kinds);
    snprintf(line, sizeof line, "GC memory layout; from %x:", (unsigned)pool_start());
    if (write_out(line))
        return -1;
    for (uint32_t bl = 0; bl < HEAP_TOTAL_BLOCKS; bl++) {
        if (bl % DUMP_BLOCKS_PER_LINE == 0) {
            uint32_t end = free_run_from(kinds, bl);
            line[len] = '\0';
            if (write_out(line))
                return -1;
            len = 0;
            if (end - bl >= 2 * DUMP_BLOCKS_PER_LINE) {
                len = (size_t)snprintf(line, sizeof line, "\n       (%u lines all free)", (end - bl) / DUMP_BLOCKS_PER_LINE);
                bl = end & ~(DUMP_BLOCKS_PER_LINE - 1);
                if (bl >= HEAP_TOTAL_BLOCKS)
                    break;
            }
            len += (size_t)snprintf(line + len, sizeof line - len, "\n%08x: ", bl * BYTES_PER_BLOCK);
        }
        line[len++] = kinds[bl];
    }
    line[len] = '\0';
    if (write_out(line))
        return -1;
    return write_out("\n");
}

static PyObject *micropython_mem_info(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 1, 0))
        return NULL;
    if (esim_py_board() == NULL)
        return NULL;
    heap_model m = heap_now(state_of(module));
    char line[64];
    snprintf(line, sizeof line, "stack: %u out of %u\n", stack_usage(), STACK_LIMIT_BYTES);
    if (write_out(line) || print_gc_info(&m))
        return NULL;
    /* Any argument, even False, asks for the table (n_args == 1). */
    if (arg_count(args) == 1 && print_alloc_table(&m))
        return NULL;
    Py_RETURN_NONE;
}

/* Only RAM-interned strings are counted; the model has none. */
static PyObject *micropython_qstr_info(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 1, 0))
        return NULL;
    if (write_out("qstr pool: n_pool=0, n_qstr=0, n_str_data_bytes=0, n_total_bytes=0\n"))
        return NULL;
    Py_RETURN_NONE;
}

/* ---- heap lock, emergency buffer, Ctrl-C character ---- */

static PyObject *micropython_heap_lock(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    (void)module;
    esim_py_heap_lock();
    Py_RETURN_NONE;
}

/* Returns the depth left; unlocking an unlocked heap wraps the 16-bit
 * counter, as on the board. */
static PyObject *micropython_heap_unlock(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    (void)module;
    return PyLong_FromUnsignedLong(esim_py_heap_unlock());
}

static PyObject *micropython_alloc_emergency_exception_buf(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 1, 1, 0))
        return NULL;
    int32_t size;
    if (esim_py_get_int(PyTuple_GET_ITEM(args, 0), &size))
        return NULL;
    state_of(module)->emergency_buf_size = size;
    Py_RETURN_NONE;
}

static PyObject *micropython_kbd_intr(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 1, 1, 0))
        return NULL;
    int32_t chr;
    if (esim_py_get_int(PyTuple_GET_ITEM(args, 0), &chr))
        return NULL;
    state_of(module)->interrupt_char = chr;
    Py_RETURN_NONE;
}

/* ---- schedule ----
 * A scheduled call runs from CPython's pending-call hook, at the
 * interpreter's next check (a call or a loop iteration), as MicroPython's VM
 * runs it at its next pending check. Like mp_call_function_1_protected, an
 * exception it raises is printed, not propagated, except the ones that
 * unwind the firmware (reset, panic, power loss). */

typedef struct {
    PyObject *module;
    PyObject *function;
    PyObject *argument;
    esim_py_boot_key boot;
} scheduled_call;

static void free_scheduled(scheduled_call *call)
{
    Py_DECREF(call->module);
    Py_DECREF(call->function);
    Py_DECREF(call->argument);
    PyMem_RawFree(call);
}

static int run_scheduled(void *arg)
{
    scheduled_call *call = (scheduled_call *)arg;
    state_of(call->module)->scheduled--;
    if (!esim_py_same_boot(call->boot, esim_py_boot_now())) {
        free_scheduled(call);
        return 0;
    }
    Py_INCREF(call->function);
    Py_INCREF(call->argument);
    PyObject *function = call->function, *argument = call->argument;
    free_scheduled(call);
    int err = esim_py_call_protected(function, argument);
    Py_DECREF(function);
    Py_DECREF(argument);
    return err;
}

static PyObject *schedule_full(void)
{
    PyErr_SetString(PyExc_RuntimeError, "schedule queue full");
    return NULL;
}

static PyObject *micropython_schedule(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 2, 2, 0))
        return NULL;
    micropython_state *st = state_of(module);
    if (st->scheduled >= SCHEDULER_DEPTH)
        return schedule_full();
    if (esim_py_board() == NULL)
        return NULL;
    scheduled_call *call = PyMem_RawMalloc(sizeof *call);
    if (call == NULL)
        return PyErr_NoMemory();
    call->module = module;
    call->function = PyTuple_GET_ITEM(args, 0);
    call->argument = PyTuple_GET_ITEM(args, 1);
    call->boot = esim_py_boot_now();
    Py_INCREF(call->module);
    Py_INCREF(call->function);
    Py_INCREF(call->argument);
    if (Py_AddPendingCall(run_scheduled, call) < 0) {
        free_scheduled(call);
        return schedule_full();
    }
    st->scheduled++;
    Py_RETURN_NONE;
}

/* ---- the module ---- */

#define MICROPYTHON_FN(name, doc) \
    {#name, (PyCFunction)(void (*)(void))micropython_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef micropython_functions[] = {
    MICROPYTHON_FN(const, "const(x): returns x."),
    MICROPYTHON_FN(opt_level, "opt_level([level]): get or set the compiler's optimisation level."),
    MICROPYTHON_FN(mem_info, "mem_info([verbose]): print stack and heap use (a model)."),
    MICROPYTHON_FN(qstr_info, "qstr_info([verbose]): print the interned-string pool (a model)."),
    MICROPYTHON_FN(stack_use, "stack_use(): bytes of stack in use (a model)."),
    MICROPYTHON_FN(heap_lock, "heap_lock(): lock the heap (nests)."),
    MICROPYTHON_FN(heap_unlock, "heap_unlock(): unlock the heap; returns the depth left."),
    MICROPYTHON_FN(alloc_emergency_exception_buf, "alloc_emergency_exception_buf(size): returns None."),
    MICROPYTHON_FN(kbd_intr, "kbd_intr(chr): set the character that raises KeyboardInterrupt."),
    MICROPYTHON_FN(schedule, "schedule(function, arg): call function(arg) soon."),
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef micropython_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "micropython",
    .m_doc = "MicroPython's micropython module on the simulated ESP32.",
    .m_size = sizeof(micropython_state),
    .m_methods = micropython_functions,
};

PyObject *esim_py_make_micropython(void)
{
    PyObject *module = PyModule_Create(&micropython_def);
    if (module == NULL)
        return NULL;
    micropython_state *st = state_of(module);
    st->interrupt_char = DEFAULT_INTERRUPT_CHAR;
    st->gc_threshold = -1;
    return module;
}

/* ---- the board's gc module ----
 * Its functions share the micropython module's heap model (they are bound
 * to that module), so gc.mem_free(), gc.mem_alloc() and mem_info() agree
 * at every moment: mem_free() is the model's free bytes plus "max new
 * split", the largest free block of the IDF heap the split heap could add
 * (as the esp32 module's documentation says). */

static PyObject *gc_mem_alloc(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0) || esim_py_board() == NULL)
        return NULL;
    heap_model m = heap_now(state_of(module));
    return PyLong_FromUnsignedLong(m.used_blocks * BYTES_PER_BLOCK);
}

static PyObject *gc_mem_free(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0) || esim_py_board() == NULL)
        return NULL;
    heap_model m = heap_now(state_of(module));
    size_t free_bytes = (size_t)(m.total_blocks - m.used_blocks) * BYTES_PER_BLOCK;
    return PyLong_FromSize_t(free_bytes + max_new_split());
}

/* CPython's collector, called for its garbage; MicroPython returns None. */
static PyObject *call_host_gc(const char *name)
{
    PyObject *gc = PyImport_ImportModuleLevel("gc", NULL, NULL, NULL, 0);   /* CPython's, not the board's */
    PyObject *r = gc ? PyObject_CallMethod(gc, name, NULL) : NULL;
    Py_XDECREF(gc);
    return r;
}

static PyObject *host_gc_void(PyObject *args, PyObject *kwargs, const char *name)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    PyObject *r = call_host_gc(name);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyObject *gc_collect(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    return host_gc_void(args, kwargs, "collect");
}

static PyObject *gc_enable(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    return host_gc_void(args, kwargs, "enable");
}

static PyObject *gc_disable(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    return host_gc_void(args, kwargs, "disable");
}

static PyObject *gc_isenabled(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    if (esim_py_check_num(arg_count(args), kwargs, 0, 0, 0))
        return NULL;
    return call_host_gc("isenabled");
}

/* threshold([amount]): the allocation amount after which a collection
 * runs; -1 (the default) when none is set. */
static PyObject *gc_threshold(PyObject *module, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(arg_count(args), kwargs, 0, 1, 0))
        return NULL;
    micropython_state *st = state_of(module);
    if (arg_count(args) == 0)
        return PyLong_FromLong(st->gc_threshold);
    int32_t amount;
    if (esim_py_get_int(PyTuple_GET_ITEM(args, 0), &amount))
        return NULL;
    st->gc_threshold = amount < 0 ? -1 : amount;
    Py_RETURN_NONE;
}

#define GC_FN(name, doc) {#name, (PyCFunction)(void (*)(void))gc_##name, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef gc_functions[] = {
    GC_FN(collect, "collect(): run a garbage collection."),
    GC_FN(enable, "enable(): turn automatic collection on."),
    GC_FN(disable, "disable(): turn automatic collection off."),
    GC_FN(isenabled, "isenabled(): whether automatic collection is on."),
    GC_FN(mem_alloc, "mem_alloc(): bytes of the MicroPython heap in use."),
    GC_FN(mem_free, "mem_free(): free heap bytes plus what the IDF heap could add (max new split)."),
    GC_FN(threshold, "threshold([amount]): get or set the collection threshold."),
    {NULL, NULL, 0, NULL},
};

PyObject *esim_py_make_gc(PyObject *micropython_module)
{
    PyObject *gc = PyModule_New("gc");
    if (gc == NULL)
        return NULL;
    for (PyMethodDef *def = gc_functions; def->ml_name != NULL; def++) {
        PyObject *fn = PyCFunction_NewEx(def, micropython_module, NULL);
        if (fn == NULL || PyModule_AddObjectRef(gc, def->ml_name, fn) < 0) {
            Py_XDECREF(fn);
            Py_DECREF(gc);
            return NULL;
        }
        Py_DECREF(fn);
    }
    return gc;
}
