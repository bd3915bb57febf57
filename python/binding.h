/* esp32sim — shared pieces of the CPython binding.
 *
 * The binding turns MicroPython's board modules (esp32, machine,
 * micropython, the time additions) and the esp32sim control module into
 * CPython modules, all acting on one "current board". Argument checks and
 * error messages follow MicroPython (reference/micropython-esp32.md §0). */
#ifndef ESP32SIM_PY_BINDING_H
#define ESP32SIM_PY_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdbool.h>
#include <stdint.h>

#include "esp32sim/device.h"

/* The board the modules act on. On first use with no board chosen, a
 * default board is created: 4 MiB flash in memory, the default layout.
 * Returns NULL with an exception set on failure. */
esim_device *esim_py_board(void);

/* Make `dev` the current board (not owned; NULL clears). Used by the
 * esp32sim control module and the esp32sim command. */
void esim_py_set_board(esim_device *dev);

/* The current board without creating the default one (NULL when none). */
esim_device *esim_py_current_board_or_null(void);

/* A number that changes whenever another board is made current (a board
 * opened after another was closed may reuse its address). */
uint64_t esim_py_board_generation(void);

/* Which boot of which board: a reset (hard or soft) starts a new boot, and
 * so does another board made current. What firmware state belongs to
 * (IRQ handlers, RMT channels, the heap lock, scheduled calls) lasts one. */
typedef struct {
    uint64_t generation;
    uint32_t boot_count;
    bool soft_reset;
} esim_py_boot_key;

/* The boot `dev` is in, and the current board's (generation only, no
 * board yet: nothing of a boot can exist then). */
esim_py_boot_key esim_py_boot_of(const esim_device *dev);
esim_py_boot_key esim_py_boot_now(void);
bool esim_py_same_boot(esim_py_boot_key a, esim_py_boot_key b);

/* ---- micropython.heap_lock (heap_guard.c) ---- */

/* Lock or unlock the board's heap (the lock nests, in a 16-bit counter as
 * on the board); both return the depth after the change. While it is
 * locked, allocations by board code fail with MemoryError. A new boot
 * starts unlocked; unlock_all is the REPL prompt's forced unlock. */
unsigned esim_py_heap_lock(void);
unsigned esim_py_heap_unlock(void);
void esim_py_heap_unlock_all(void);

/* Output the board makes without its heap (print, error reports) runs
 * with the guard paused; pauses nest. */
void esim_py_heap_guard_pause(void);
void esim_py_heap_guard_resume(void);

/* True when the instruction board code is running makes MicroPython
 * allocate too (bytecode_site.c). */
bool esim_py_board_code_allocates(void);

/* ---- exceptions ---- */

/* MicroPython's check_esp_err: raise OSError(pcode, 'ESP_ERR_...'), or
 * esp32sim.PowerLoss when the board's power has been cut.
 * Always returns NULL. */
PyObject *esim_py_raise_esp_err(esp_err_t err);

/* mp_raise_OSError(n): OSError with the single argument n. Returns NULL. */
PyObject *esim_py_raise_errno(int n);

/* The OSError subclass whose str()/repr() print as MicroPython prints
 * OSError (its __name__ is "OSError"; `except OSError` catches it). */
extern PyObject *esim_py_OSError;

/* BaseException subclasses that unwind the firmware: esp32sim.Reset is
 * raised by machine.reset() after the board has been reset; esp32sim.Panic
 * by a CPU exception (e.g. LoadProhibited) after the board has been reset
 * with reason PANIC. */
extern PyObject *esim_py_Reset;
extern PyObject *esim_py_Panic;

/* esp32sim.TimeLimit: the run's time limit was reached (the clock stands
 * at it), or the board went to sleep with nothing to wake it. The run
 * ends there. */
extern PyObject *esim_py_TimeLimit;

/* Raise esp32sim.TimeLimit; `what` says what the board was doing ("" when
 * it was running; "the board sleeps" ...). Returns NULL. */
PyObject *esim_py_time_limit(const esim_device *board, const char *what);

/* Let `us` of virtual time pass on the board (stimuli apply), then run the
 * pin interrupt handlers that became due. -1 with esp32sim.TimeLimit (or
 * a handler's exception) set. */
int esim_py_let_time_pass(esim_device *board, uint64_t us);

/* esp32sim.PowerLoss: raised when a flash operation finds the power cut
 * (an armed power cut fired); the board stays unpowered until
 * Device.power_cycle(). */
extern PyObject *esim_py_PowerLoss;

/* Create the exception types and add them to the control module
 * (errors.c; called once per interpreter by the module set-up). */
int esim_py_errors_init(PyObject *control_module);

/* Raise esp32sim.Panic for a Guru Meditation `cause` such as
 * "LoadProhibited", resetting the board first. Returns NULL. */
PyObject *esim_py_panic(const char *cause);

/* True when the exception set ends the firmware's run (esp32sim.Reset,
 * Panic, PowerLoss, TimeLimit): handlers and scheduled calls let those
 * through. */
bool esim_py_unwinds_firmware(void);

/* mp_call_function_1_protected: call function(argument) (TypeError "'X'
 * object isn't callable" for others); an exception is printed to stdout
 * as MicroPython prints it and dropped, except the ones that end the
 * firmware's run: then -1 with it set. Otherwise 0. */
int esim_py_call_protected(PyObject *function, PyObject *argument);

/* MicroPython's sys.print_exception: the traceback (frames, no source
 * lines) and "Name: message" written to `file` (sys.stdout when NULL).
 * Never fails: write errors are dropped, as the UART drops nothing. */
void esim_py_print_exception(PyObject *file, PyObject *exc);

/* ---- MicroPython argument conversions ---- */

/* mp_obj_get_int: int or bool; else TypeError "can't convert %s to int";
 * out of machine-word range: OverflowError "overflow converting long int to
 * machine word". Returns 0, or -1 with the exception set. */
int esim_py_get_int(PyObject *obj, int32_t *out);

/* mp_obj_get_int_truncated: like esim_py_get_int but big ints are
 * truncated to 32 bits instead of raising. */
int esim_py_get_int_truncated(PyObject *obj, uint32_t *out);

/* mp_obj_str_get_str: str or bytes. Else TypeError "can't convert '%s'
 * object to str implicitly". The pointer lives as long as obj. */
const char *esim_py_get_str(PyObject *obj, Py_ssize_t *len);

/* TypeError "function takes %d positional arguments but %d were given" and
 * friends (mp_arg_check_num). Returns 0 or -1 with the exception set. */
int esim_py_check_num(Py_ssize_t n_args, PyObject *kwargs, Py_ssize_t n_min, Py_ssize_t n_max, int takes_kw);

/* mp_arg_parse_all for n optional arguments, positional or by keyword:
 * vals[i] is the object given for names[i], or NULL (borrowed). TypeError
 * "extra positional arguments given" / "extra keyword arguments given". */
int esim_py_parse_all(PyObject *args, PyObject *kwargs, const char *const names[], int n, PyObject *vals[]);

/* machine.RTC (machine_rtc.c): add the type to the machine module. */
int esim_py_add_rtc_type(PyObject *machine_module);

/* tp_dealloc of the binding's heap types with no references to drop:
 * free the object and release its type. */
void esim_py_dealloc(PyObject *obj);

/* ---- module constructors (one per file) ---- */
PyObject *esim_py_make_esp32(void);        /* modesp32.c */
PyObject *esim_py_make_machine(void);      /* modmachine.c */
PyObject *esim_py_make_micropython(void);  /* modmicropython.c */
/* The board's gc module (modmicropython.c): collect, enable, disable,
 * isenabled, mem_alloc, mem_free, threshold over the micropython module's
 * heap model. Board code imports it as gc (boardfs_py.c); CPython's own gc
 * module stays what it is. */
PyObject *esim_py_make_gc(PyObject *micropython_module);
PyObject *esim_py_make_control(void);      /* modesp32sim.c: the esp32sim module */

/* Add sleep_ms, sleep_us, ticks_ms, ticks_us, ticks_cpu, ticks_add and
 * ticks_diff to CPython's time module (modtime.c). With `board_mode` set
 * (the esp32sim command), time.sleep and time.time also follow the board's
 * virtual clock. Returns 0 or -1 with an exception set. */
int esim_py_install_time(int board_mode);

/* Fill the time module board code imports (time, utime) with MicroPython's
 * names only: the functions above, sleep, time and time_ns on the board's
 * clock, and gmtime, localtime and mktime over the board's RTC calendar. */
int esim_py_add_board_time_functions(PyObject *time);

/* gmtime, localtime and mktime (time_calendar.c), NULL-terminated. */
PyMethodDef *esim_py_time_calendar_functions(void);

/* ---- firmware modules CPython also has (board_views.c) ---- */

/* True when board code gets a view of `name` (sys, time, json, math ...)
 * instead of CPython's module. */
bool esim_py_has_board_view(const char *name);

/* The view of `name` board code imports, made once per interpreter (new
 * reference), or NULL with an exception set. */
PyObject *esim_py_board_view(const char *name);

/* A new, empty module of the kind views are: its type prints as 'module'
 * and a missing attribute is AttributeError in MicroPython's words. */
PyObject *esim_py_new_board_module(const char *name);

/* The interpreter's state dict for the binding (borrowed), or NULL with an
 * exception set (boardfs_py.c). */
PyObject *esim_py_interp_state(void);

/* The board's built-in `name` (borrowed): open, print, __import__ are the
 * board's; with name NULL the whole dict. NULL with an exception set when
 * missing. */
PyObject *esim_py_board_builtin(const char *name);

/* ---- the board's identity (modsys.c) ---- */

/* What MicroPython's ESP32_GENERIC firmware calls the chip
 * (sys.implementation._machine, os.uname().machine), and the build date
 * os.uname().version reports. */
#define ESIM_PY_BOARD_MACHINE "Generic ESP32 module with ESP32"
#define ESIM_PY_FIRMWARE_DATE "2026-04-06"

/* The MicroPython version of the simulated firmware, from
 * ESIM_FIRMWARE_VERSION ("v1.28.0-..." gives 1, 28, 0). */
void esim_py_firmware_version(int version[3]);

/* Board mode (the esp32sim command): sys.platform becomes "esp32" and
 * sys.implementation the firmware's (name "micropython", version
 * (1, 28, 0, ''), _machine, _mpy, _build), keeping CPython's cache_tag.
 * Returns 0 or -1 with an exception set. */
int esim_py_install_board_sys(void);

/* machine.NAME when NAME is a class a board has but the simulator does not
 * model (UART, I2C, SPI, PWM ...): sets `exc_type` (AttributeError for
 * machine.NAME, ImportError for `from machine import NAME`) with a message
 * naming it and returns 1; otherwise returns 0 with nothing set. */
int esim_py_machine_unsimulated(const char *name, PyObject *exc_type);

/* The same for esp32.NAME (esp32.PCNT, the pulse counter). */
int esim_py_esp32_unsimulated(const char *name, PyObject *exc_type);

/* A module __getattr__'s answer for a name the module lacks: the
 * `unsimulated` message when it names something the simulator leaves out,
 * else MicroPython's "'module' object has no attribute 'X'". Always NULL
 * with AttributeError set. */
PyObject *esim_py_missing_attribute(PyObject *name, int (*unsimulated)(const char *name, PyObject *exc_type));

/* esp32.Partition (esp32_partition.c): create the type and add it to the
 * esp32 module. Returns 0 or -1 with an exception set. */
int esim_py_add_partition_type(PyObject *esp32_module);

/* esp32.NVS (esp32_nvs.c): create the type and add it to the esp32 module.
 * Returns 0 or -1 with an exception set. */
int esim_py_add_nvs_type(PyObject *esp32_module);

/* esp32.RMT (esp32_rmt.c), MicroPython's legacy (<= v1.26) API: create the
 * type and add it to the esp32 module. Returns 0 or -1 with an exception
 * set. */
int esim_py_add_rmt_type(PyObject *esp32_module);

/* The RMT channel machine.bitstream uses on the current board
 * (esp32.RMT.bitstream_channel(): 7 from each boot until changed), -1 when
 * set to None (bit-banging). */
int esim_py_rmt_bitstream_channel(void);

/* NVS strict mode of a board (docs/python-nvs.md): changes not committed
 * when the board resets or powers off are undone before it boots again
 * (they are always reported on stderr). Works without an interpreter, for
 * the esp32sim command. set returns 0, or -1 when out of memory (no
 * exception set). */
int esim_py_set_nvs_strict(esim_device *dev, bool strict);
bool esim_py_nvs_strict(const esim_device *dev);

/* ---- machine.Pin, TouchPad, ADC (machine_pin.c, machine_touchpad.c,
 * machine_adc.c) ---- */

/* Add Pin (and its IRQ type), TouchPad and ADC to the machine module.
 * Returns 0 or -1 with an exception set. */
int esim_py_add_pin_types(PyObject *machine_module);
/* TouchPad and ADC alone (called by esim_py_add_pin_types). */
int esim_py_add_touchpad_type(PyObject *machine_module);
int esim_py_add_adc_type(PyObject *machine_module);

/* machine_pin_get_id: a Pin or an int naming a GPIO that exists (bool and
 * str are not pins); else ValueError("invalid pin") (OverflowError for an
 * int beyond a machine word). Returns 0, or -1 with the exception set. */
int esim_py_pin_id(PyObject *obj, int *gpio);

/* Run the Pin.irq handlers that are due, as MicroPython's scheduler runs
 * soft IRQ handlers between bytecodes: for each pin with edges recorded by
 * the core (esim_gpio_take_edges) whose interrupt type matches, or whose IRQ
 * object was called, handler(pin) is called; edges on pins without a
 * handler are dropped. Each pin's handler runs at most once per call.
 * Handlers do not nest (a call from inside a handler does nothing). A
 * handler's exception is printed to stdout and dropped, as on the board,
 * except esp32sim.Reset / Panic / PowerLoss: then -1 is returned with it
 * set. Pin writes call this; call it also after the clock advances.
 * Handlers belong to one boot of the current board and are forgotten on
 * a reset or when another board is made current. */
int esim_py_run_pending_irqs(void);

/* esp32.ULP (esp32_ulp.c): add the type to the esp32 module. */
int esim_py_add_ulp_type(PyObject *esp32_module);

/* ---- machine.bitstream and neopixel (machine_bitstream.c, modneopixel.c) ---- */

/* Add bitstream(pin, encoding, timing, data, /) to the machine module.
 * Returns 0 or -1 with an exception set. */
int esim_py_add_bitstream(PyObject *machine_module);

/* The neopixel module: micropython-lib's NeoPixel class, writing through
 * `machine_module`'s bitstream (the module's `bitstream` attribute, as
 * `from machine import bitstream` leaves it). */
PyObject *esim_py_make_neopixel(PyObject *machine_module);

/* The uctypes module (moductypes.c): MicroPython's uctypes over the
 * current board's address map and host buffers (docs/uctypes.md). */
PyObject *esim_py_make_uctypes(void);

/* The board's platform module and sys.version string (modplatform.c). */
PyObject *esim_py_make_platform(void);
PyObject *esim_py_board_sys_version(void);

/* The board's binascii (modbinascii.c) and errno (moderrno.c): MicroPython's
 * own modules, which board code imports as binascii/ubinascii and
 * errno/uerrno; the host keeps CPython's. */
PyObject *esim_py_make_binascii(void);
PyObject *esim_py_make_errno(void);

/* The errno module's name of an error number (newlib's numbering, as
 * OSError prints it: "[Errno 116] ETIMEDOUT"), or NULL. */
const char *esim_py_errno_name(long value);

/* The btree module (modbtree.c): MicroPython's btree, a Berkeley DB 1.85
 * btree database in any stream (docs/btree.md). */
PyObject *esim_py_make_btree(void);

/* The board's asyncio module (modasyncio.c, docs/asyncio.md): MicroPython's
 * asyncio in C on the board's virtual clock. Board code imports it as
 * asyncio or uasyncio; the host keeps CPython's. */
PyObject *esim_py_make_asyncio(void);

/* ---- board code and the board's filesystem (boardfs_py.c, modos.c) ---- */

/* The board's os module (also importable by board code as uos): listdir,
 * ilistdir, remove, rename, mkdir, rmdir, stat, statvfs, getcwd, chdir,
 * sync, uname, urandom, sep, on the current board's filesystem
 * (OSError(ENODEV) when the board has none). */
PyObject *esim_py_make_os(void);

/* Make `globals` (a module dict) run as board code: its __builtins__
 * become CPython's builtins with open() on the board's filesystem and an
 * __import__ that gives the board's os for os/uos and finds modules in the
 * board's current directory and /lib as MicroPython's sys.path does.
 * Returns 0 or -1 with an exception set. */
int esim_py_use_board_builtins(PyObject *globals);

/* Run the board file `board_path` (e.g. "/boot.py") as board code in
 * `globals`, with __file__ set to the board path. Returns 1 when it ran,
 * 0 when the board has no filesystem or no such file (nothing raised),
 * -1 with the exception the code raised (or a loading error) set. */
int esim_py_run_board_file(const char *board_path, PyObject *globals);

/* The folder of the host script `esp32sim run` runs: modules beside it
 * import, as `micropython SCRIPT` finds them. -1 with an exception set. */
int esim_py_set_script_dir(const char *dir);

/* Call before esim_device_close(dev): drops what the binding keeps for the
 * board (its NVS journal and strict flag) and removes its reset hook. NVS
 * objects of the board then raise ValueError. */
void esim_py_board_closing(esim_device *dev);

#endif
