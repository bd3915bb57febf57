/* esp32sim binding — micropython.heap_lock()'s effect: while the board's
 * heap is locked, allocations fail and board code gets MemoryError, as
 * gc_alloc fails under gc_lock on the board.
 *
 * CPython allocates its objects through the "object" and "mem" allocator
 * domains. While the lock is on, a hook wrapped around both answers
 * NULL, and CPython turns that into MemoryError where the allocation was
 * asked for (a list built, a string joined, a list extended). What does not
 * reach the allocator still works, as on the board:
 *  - integers that are small ints on MicroPython (|n| < 2**30: one CPython
 *    digit) — the two sizes CPython allocates them with are let through
 *    (which lets a few other objects of those sizes through too);
 *  - reusing objects CPython keeps on free lists (floats, short tuples) —
 *    lenient: on the board a float result needs a heap block;
 *  - printing and reporting errors, which the board does without the heap
 *    (the board's print and the firmware's error output pause the guard).
 * The lock belongs to one boot: a reset, soft or hard, frees it as
 * gc_init does, and the hook lets everything through from then on. */
#include "binding.h"

#include <stdbool.h>

#define LOCK_DEPTH_SHIFT 1   /* GC_LOCK_DEPTH_SHIFT: bit 0 flags a collection */

static struct {
    PyMemAllocatorEx object, mem;   /* the allocators wrapped */
    bool installed;
    uint16_t lock_depth;            /* as py/gc.c keeps it: depth << LOCK_DEPTH_SHIFT */
    esim_py_boot_key boot;          /* the boot lock_depth belongs to */
    unsigned paused;
    size_t small_int_bytes[2];      /* a one-digit int's allocations */
} guard;

/* The lock depth of this boot: a new boot starts unlocked. */
static uint16_t depth_now(void)
{
    if (guard.lock_depth != 0 && !esim_py_same_boot(guard.boot, esim_py_boot_now()))
        guard.lock_depth = 0;
    return guard.lock_depth;
}

/* `inner` is the allocator asked: ints come from the object domain. */
static bool denies(const PyMemAllocatorEx *inner, size_t bytes)
{
    if (guard.lock_depth == 0 || guard.paused)
        return false;
    if (inner == &guard.object && (bytes == guard.small_int_bytes[0] || bytes == guard.small_int_bytes[1]))
        return false;
    return (depth_now() >> LOCK_DEPTH_SHIFT) != 0 && esim_py_board_code_allocates();
}
static void *guarded_malloc(void *ctx, size_t bytes)
{
    PyMemAllocatorEx *inner = ctx;
    return denies(inner, bytes) ? NULL : inner->malloc(inner->ctx, bytes);
}

static void *guarded_calloc(void *ctx, size_t count, size_t size)
{
    PyMemAllocatorEx *inner = ctx;
    size_t bytes = size != 0 && count > SIZE_MAX / size ? SIZE_MAX : count * size;
    return denies(inner, bytes) ? NULL : inner->calloc(inner->ctx, count, size);
}

static void *guarded_realloc(void *ctx, void *ptr, size_t bytes)
{
    PyMemAllocatorEx *inner = ctx;
    return denies(inner, bytes) ? NULL : inner->realloc(inner->ctx, ptr, bytes);
}

static void guarded_free(void *ctx, void *ptr)
{
    PyMemAllocatorEx *inner = ctx;
    inner->free(inner->ctx, ptr);
}

static void wrap_domain(PyMemAllocatorDomain domain, PyMemAllocatorEx *inner)
{
    PyMem_GetAllocator(domain, inner);
    PyMemAllocatorEx hook = {inner, guarded_malloc, guarded_calloc, guarded_realloc, guarded_free};
    PyMem_SetAllocator(domain, &hook);
}

/* Installed once, at the first heap_lock: wrapping an allocator already
 * in use is allowed as long as every call is passed on to it. */
static void install(void)
{
    if (guard.installed)
        return;
    /* made digit by digit, or whole as a "medium" value */
    guard.small_int_bytes[0] = (size_t)(PyLong_Type.tp_basicsize + PyLong_Type.tp_itemsize);
    guard.small_int_bytes[1] = sizeof(PyLongObject);
    wrap_domain(PYMEM_DOMAIN_OBJ, &guard.object);
    wrap_domain(PYMEM_DOMAIN_MEM, &guard.mem);
    guard.installed = true;
}

static unsigned change_depth(int step)
{
    install();
    guard.lock_depth = (uint16_t)(depth_now() + step * (1 << LOCK_DEPTH_SHIFT));
    guard.boot = esim_py_boot_now();
    return guard.lock_depth >> LOCK_DEPTH_SHIFT;
}

unsigned esim_py_heap_lock(void)
{
    return change_depth(+1);
}

unsigned esim_py_heap_unlock(void)
{
    return change_depth(-1);
}

void esim_py_heap_unlock_all(void)
{
    guard.lock_depth = 0;
}

void esim_py_heap_guard_pause(void)
{
    guard.paused++;
}

void esim_py_heap_guard_resume(void)
{
    if (guard.paused > 0)
        guard.paused--;
}
