/* esp32sim binding — what the board code is doing when CPython allocates:
 * the bytecode instruction running in the innermost Python frame. The
 * heap lock (heap_guard.c) uses it to fail only the allocations that
 * MicroPython makes too.
 *
 * CPython's frame and instruction layout are internal to each minor
 * version; this file reads those of CPython 3.11 (Debian 12's), the
 * interpreter the build is made for. */
#define Py_BUILD_CORE 1
#define NEED_OPCODE_TABLES
#include "binding.h"

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#include "internal/pycore_frame.h"
#include "internal/pycore_opcode.h"

/* Instructions that build objects on MicroPython too: containers,
 * strings, results of arithmetic (small ints aside), functions, stored
 * attributes and items growing their tables, imports, and calls (the
 * callee's allocations, instances, exceptions). */
static bool builds_objects(int opcode)
{
    switch (opcode) {
    case BUILD_LIST: case BUILD_TUPLE: case BUILD_SET: case BUILD_MAP: case BUILD_CONST_KEY_MAP:
    case BUILD_STRING: case BUILD_SLICE: case LIST_APPEND: case LIST_EXTEND: case LIST_TO_TUPLE:
    case SET_ADD: case SET_UPDATE: case MAP_ADD: case DICT_UPDATE: case DICT_MERGE:
    case BINARY_OP: case BINARY_SUBSCR: case UNARY_NEGATIVE: case UNARY_INVERT:
    case MAKE_FUNCTION: case FORMAT_VALUE: case STORE_ATTR: case STORE_SUBSCR: case STORE_GLOBAL:
    case STORE_NAME: case IMPORT_NAME: case IMPORT_FROM: case PRECALL: case CALL: case CALL_FUNCTION_EX:
        return true;
    default:
        return false;
    }
}

static int base_opcode(const _Py_CODEUNIT *instr)
{
    return _PyOpcode_Deopt[_Py_OPCODE(*instr)];
}

/* `for x in range(n)`: MicroPython compiles it into a counting loop and
 * iterates anything else through a buffer on the C stack, so neither the
 * call right before GET_ITER nor GET_ITER itself takes heap. */
static bool starts_for_loop(const _Py_CODEUNIT *instr, int opcode)
{
    if (opcode != PRECALL && opcode != CALL)
        return false;
    const _Py_CODEUNIT *next = instr + 1 + _PyOpcode_Caches[opcode];
    int following = base_opcode(next);
    if (following == CALL)
        following = base_opcode(next + 1 + _PyOpcode_Caches[CALL]);
    return following == GET_ITER;
}

bool esim_py_board_code_allocates(void)
{
    PyThreadState *tstate = PyThreadState_GET();
    _PyInterpreterFrame *frame = tstate && tstate->cframe ? tstate->cframe->current_frame : NULL;
    if (frame == NULL || frame->prev_instr < _PyCode_CODE(frame->f_code))
        return false;
    const _Py_CODEUNIT *instr = frame->prev_instr;
    int opcode = base_opcode(instr);
    return builds_objects(opcode) && !starts_for_loop(instr, opcode);
}

#else
/* Another CPython: every allocation of board code counts. */
bool esim_py_board_code_allocates(void)
{
    return PyThreadState_GET() != NULL;
}
#endif
