"""The board's asyncio (and uasyncio): MicroPython's scheduling order and
semantics, in C, on the board's virtual clock (docs/asyncio.md)."""
import textwrap

pytest_plugins = ["esp32sim_pytest"]


def run(run_board, code, **kwargs):
    result = run_board(main=textwrap.dedent(code), **kwargs)
    assert result.code == 0, result.err + result.out
    return result.out.splitlines()


def test_two_tasks_blink_in_micropythons_order(run_board):
    out = run(run_board, """
        import asyncio, time
        async def blink(name, period, n):
            for i in range(n):
                print(name, i, time.ticks_ms() // 10 * 10)
                await asyncio.sleep_ms(period)
        async def main():
            asyncio.create_task(blink('a', 100, 4))
            asyncio.create_task(blink('b', 150, 3))
            await asyncio.sleep_ms(1000)
            print('main done')
        asyncio.run(main())
    """)
    assert out == ["a 0 0", "b 0 0", "a 1 100", "b 1 150", "a 2 200", "b 2 300", "a 3 300", "main done"]


def test_sleep_zero_goes_to_the_back_of_the_queue(run_board):
    out = run(run_board, """
        import asyncio
        async def task(name):
            for i in range(3):
                print(name, i)
                await asyncio.sleep(0)
        async def main():
            asyncio.create_task(task('x'))
            asyncio.create_task(task('y'))
            await asyncio.sleep_ms(5)
        asyncio.run(main())
    """)
    assert out == ["x 0", "y 0", "x 1", "y 1", "x 2", "y 2"]


def test_gather_results_and_exceptions(run_board):
    out = run(run_board, """
        import asyncio
        async def value(v, ms):
            await asyncio.sleep_ms(ms)
            return v
        async def fail(ms):
            await asyncio.sleep_ms(ms)
            raise ValueError('bad')
        async def main():
            print(await asyncio.gather(value(1, 30), value(2, 10), value(3, 20)))
            print(await asyncio.gather())
            print(await asyncio.gather(value(1, 10), fail(5), return_exceptions=True))
            slow = asyncio.create_task(value('late', 50))
            try:
                await asyncio.gather(slow, fail(5))
            except ValueError as e:
                print('raised', e, slow.done())
            print(await slow)
        asyncio.run(main())
    """)
    assert out == ["[1, 2, 3]", "[]", "[1, ValueError('bad')]", "raised bad False", "late"]


def test_wait_for_timeout_cancels_the_inner_task(run_board):
    out = run(run_board, """
        import asyncio, time
        async def slow():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                print('inner cancelled')
                raise
        async def quick():
            await asyncio.sleep_ms(5)
            return 'quick'
        async def main():
            t0 = time.ticks_ms()
            try:
                await asyncio.wait_for(slow(), 0.5)
            except asyncio.TimeoutError:
                print('timeout after', time.ticks_diff(time.ticks_ms(), t0) // 10 * 10)
            print(await asyncio.wait_for(quick(), 1))
            print(await asyncio.wait_for_ms(quick(), 100))
            print(await asyncio.wait_for(quick(), None))
        asyncio.run(main())
    """)
    assert out == ["inner cancelled", "timeout after 500", "quick", "quick", "quick"]


def test_event_wakes_waiters_in_order(run_board):
    out = run(run_board, """
        import asyncio
        async def waiter(ev, i):
            print('wait', i)
            print('woke', i, await ev.wait())
        async def main():
            ev = asyncio.Event()
            for i in range(3):
                asyncio.create_task(waiter(ev, i))
            await asyncio.sleep_ms(10)
            print('set', ev.is_set())
            ev.set()
            await asyncio.sleep_ms(0)
            print(ev.is_set(), await ev.wait())
            ev.clear()
            print(ev.is_set())
        asyncio.run(main())
    """)
    assert out == ["wait 0", "wait 1", "wait 2", "set False", "woke 0 True", "woke 1 True", "woke 2 True",
                   "True True", "False"]


def test_lock_is_handed_on_in_order(run_board):
    out = run(run_board, """
        import asyncio
        async def worker(lock, i):
            async with lock:
                print('got', i)
                await asyncio.sleep_ms(10)
                print('release', i)
        async def main():
            lock = asyncio.Lock()
            await asyncio.gather(*[worker(lock, i) for i in range(3)])
            print(lock.locked())
            await lock.acquire()
            print(lock.locked())
            lock.release()
            try:
                lock.release()
            except RuntimeError as e:
                print(e)
        asyncio.run(main())
    """)
    assert out == ["got 0", "release 0", "got 1", "release 1", "got 2", "release 2", "False", "True",
                   "Lock not acquired"]


def test_thread_safe_flag_set_by_a_pin_irq(run_board):
    out = run(run_board, """
        import asyncio, time
        from machine import Pin
        async def main():
            flag = asyncio.ThreadSafeFlag()
            pin = Pin(4, Pin.IN)
            pin.irq(lambda p: flag.set(), Pin.IRQ_RISING)
            t0 = time.ticks_ms()
            await flag.wait()
            print('woken', pin.value())
            await asyncio.sleep_ms(1)
            flag.set()
            await flag.wait()
            print('already set')
        asyncio.run(main())
    """, stimulus=[{"at_ms": 500, "pin": 4, "level": 1}])
    assert out == ["woken 1", "already set"]


def test_ten_minutes_of_virtual_sleep_take_no_time(run_board):
    import time
    start = time.monotonic()
    out = run(run_board, """
        import asyncio, time
        async def sleeper(n):
            await asyncio.sleep(n * 60)
            print('slept', n, time.ticks_ms() // 1000)
        async def main():
            await asyncio.gather(sleeper(10), sleeper(5))
        asyncio.run(main())
    """)
    assert out == ["slept 5 300", "slept 10 600"]
    assert time.monotonic() - start < 30


def test_uasyncio_is_the_same_module(run_board):
    out = run(run_board, """
        import asyncio, uasyncio
        from uasyncio import sleep_ms
        print(uasyncio is asyncio, sleep_ms is asyncio.sleep_ms, asyncio.__version__)
    """)
    assert out == ["True True (3, 0, 0)"]


def test_unretrieved_task_exception_is_printed(run_board):
    out = run(run_board, """
        import asyncio
        async def bad():
            raise ValueError('boom')
        async def main():
            asyncio.create_task(bad())
            await asyncio.sleep_ms(10)
            print('main goes on')
        asyncio.run(main())
    """)
    assert out[0] == "Task exception wasn't retrieved"
    assert out[1].startswith("future: <Task> coro= <generator object 'bad' at ")
    assert out[2:] == ["Traceback (most recent call last):", '  File "main.py", line 4, in bad',
                       "ValueError: boom", "main goes on"]


def test_custom_exception_handler(run_board):
    out = run(run_board, """
        import asyncio
        async def bad():
            raise KeyError('k')
        def handler(loop, context):
            print('handler', loop is asyncio.get_event_loop(), context['message'],
                  repr(context['exception']), context['future'])
        async def main():
            loop = asyncio.get_event_loop()
            print(loop.get_exception_handler())
            loop.set_exception_handler(handler)
            print(loop.get_exception_handler() is handler)
            asyncio.create_task(bad())
            await asyncio.sleep_ms(10)
        asyncio.run(main())
    """)
    assert out == ["None", "True", "handler True Task exception wasn't retrieved KeyError('k') <Task>"]


def test_run_returns_the_value_and_leaves_other_tasks_pending(run_board):
    out = run(run_board, """
        import asyncio
        async def other():
            print('other starts')
            await asyncio.sleep_ms(100)
            print('other ends')
        async def main():
            asyncio.create_task(other())
            await asyncio.sleep_ms(10)
            return 42
        print(asyncio.run(main()))
        async def later():
            await asyncio.sleep_ms(200)
        asyncio.run(later())
    """)
    assert out == ["other starts", "42", "other ends"]


def test_awaiting_a_cancelled_task_raises_cancelled_error(run_board):
    out = run(run_board, """
        import asyncio
        async def sleeper():
            try:
                await asyncio.sleep(100)
            except asyncio.CancelledError:
                print('sleeper cancelled')
                raise
        async def main():
            t = asyncio.create_task(sleeper())
            await asyncio.sleep_ms(10)
            print(t.cancel(), t.done())
            try:
                await t
            except asyncio.CancelledError:
                print('await raised CancelledError', t.done(), t.cancel())
            try:
                asyncio.current_task().cancel()
            except RuntimeError as e:
                print(e)
        asyncio.run(main())
    """)
    assert out == ["True False", "sleeper cancelled", "await raised CancelledError True False",
                   "can't cancel self"]


def test_exception_of_the_main_task_leaves_run(run_board):
    out = run(run_board, """
        import asyncio
        async def main():
            await asyncio.sleep_ms(1)
            raise OSError(5)
        try:
            asyncio.run(main())
        except OSError as e:
            print('caught', e)
        try:
            asyncio.current_task()
        except RuntimeError as e:
            print(e)
    """)
    assert out == ["caught 5", "no running event loop"]


def test_run_forever_until_stop(run_board):
    out = run(run_board, """
        import asyncio, time
        loop = asyncio.get_event_loop()
        async def stopper():
            await asyncio.sleep_ms(250)
            print('stopping')
            loop.stop()
        loop.create_task(stopper())
        loop.run_forever()
        print('returned', time.ticks_ms() // 10 * 10)
        print(loop.run_until_complete(asyncio.sleep_ms(1)))
    """)
    assert out == ["stopping", "returned 250", "None"]


def test_time_limit_ends_a_loop_with_nothing_to_do(run_board):
    result = run_board(main=textwrap.dedent("""
        import asyncio
        async def main():
            await asyncio.Event().wait()
        asyncio.run(main())
    """), until_ms=2000)
    assert "time limit reached at 2000 ms" in result.err
    assert result.out == ""


def test_streams_say_what_is_missing(run_board):
    out = run(run_board, """
        import asyncio
        for name in ('open_connection', 'start_server', 'StreamReader', 'StreamWriter'):
            try:
                getattr(asyncio, name)('x', 1)
            except NotImplementedError as e:
                print(name, e)
    """)
    assert out == [n + " esp32sim: asyncio streams are not simulated (no UART or network)"
                   for n in ("open_connection", "start_server", "StreamReader", "StreamWriter")]


def test_host_keeps_cpythons_asyncio():
    import asyncio
    assert not hasattr(asyncio, "sleep_ms")
