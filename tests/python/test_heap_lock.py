"""micropython.heap_lock(): allocations under the lock raise MemoryError on
the board, as gc_alloc fails under gc_lock; what MicroPython does without
its heap keeps working."""
import textwrap

import pytest

pytest_plugins = ["esp32sim_pytest"]


def run(run_board, code):
    result = run_board(main=textwrap.dedent(code))
    assert result.code == 0, result.err
    return result.out.splitlines()


def test_allocations_under_the_lock_raise_memory_error(run_board):
    # The builders are made before the lock: a function object (a lambda
    # too) is made on the heap.
    out = run(run_board, """
        import micropython
        def attempt(what, build):
            try:
                build()
                print(what, 'ok')
            except MemoryError:
                print(what, 'MemoryError')
        values = list(range(100))
        kept = []
        n = 40
        builders = [
            ('list', lambda: [1, 2, 3]),
            ('str', lambda: 'x' * n),
            ('bytes', lambda: bytes(n)),
            ('extend', lambda: kept.extend(values)),
            ('bigint', lambda: 3 ** n),
            ('instance', lambda: Exception('made')),
        ]
        last = builders[-1][1]
        micropython.heap_lock()
        for what, build in builders:
            attempt(what, build)
        print('depth', micropython.heap_unlock())
        attempt('after unlock', last)
    """)
    assert out == ["list MemoryError", "str MemoryError", "bytes MemoryError",
                   "extend MemoryError", "bigint MemoryError", "instance MemoryError", "depth 0",
                   "after unlock ok"]


def test_locks_nest(run_board):
    out = run(run_board, """
        import micropython
        def make():
            return [0] * 8
        micropython.heap_lock()
        micropython.heap_lock()
        print(micropython.heap_unlock())
        try:
            make()
        except MemoryError:
            print('still locked')
        print(micropython.heap_unlock())
        print(len(make()))
    """)
    assert out == ["1", "still locked", "0", "8"]


def test_code_that_needs_no_heap_runs_under_the_lock(run_board):
    # Small-int arithmetic, counting loops over range, iterating a list,
    # writing into a preallocated buffer, calling functions and methods,
    # pin I/O and print need no heap on the board.
    out = run(run_board, """
        import micropython
        from machine import Pin
        buf = bytearray(16)
        samples = [3, 1, 4, 1, 5, 9, 2, 6]
        led = Pin(2, Pin.OUT)
        class Counter:
            def __init__(self):
                self.n = 0
            def bump(self, k):
                self.n += k
        c = Counter()
        t = 0
        def isr_like():
            total = 0
            for i in range(len(buf)):
                buf[i] = i * 3
                total += buf[i]
            for s in samples:
                c.bump(s)
            led.value(1)
            led.value(not led.value())
            return total
        micropython.heap_lock()
        t = isr_like()
        print('under lock', t, c.n, led.value())
        micropython.heap_unlock()
    """)
    assert out == ["under lock 360 31 0"]


def test_memory_error_escaping_is_reported_and_the_next_boot_is_unlocked(run_board):
    result = run_board(main=textwrap.dedent("""
        import micropython, machine
        print('boot', machine.reset_cause())
        if machine.reset_cause() != machine.SOFT_RESET and machine.reset_cause() != machine.HARD_RESET:
            micropython.heap_lock()
            names = ['a'] * 10
    """))
    assert result.code == 1
    assert "MemoryError" in result.err
    assert result.out.splitlines() == ["boot 1"]
    again = run_board(main=textwrap.dedent("""
        import micropython
        print(micropython.heap_unlock())
    """))
    # a power-on: nothing of the last run's lock is left
    assert again.out.splitlines() == ["32767"]


def test_a_reset_frees_the_lock(run_board):
    result = run_board(main=textwrap.dedent("""
        import micropython, machine
        if machine.reset_cause() == machine.PWRON_RESET:
            micropython.heap_lock()
            machine.reset()
        print('after reset', len([1, 2, 3]))
    """), max_boots=2)
    assert result.out.splitlines() == ["after reset 3"]
