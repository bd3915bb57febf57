"""time additions: sleep_ms/sleep_us and the ticks functions on the board's
virtual clock, with MicroPython's wrap-around arithmetic (period 2**30)."""
import os
import pathlib
import random
import subprocess
import textwrap
import time

import pytest

import machine

PERIOD = 2**30
MASK = PERIOD - 1


def test_functions_are_added_to_cpythons_time():
    for name in ("sleep_ms", "sleep_us", "ticks_ms", "ticks_us", "ticks_cpu", "ticks_add", "ticks_diff"):
        assert callable(getattr(time, name))


def test_cpython_clock_is_kept_outside_board_mode(board):
    # Under pytest (not the esp32sim command) time.time/sleep stay CPython's.
    assert time.time() > 1.6e9
    before = board.time_us
    time.sleep(0)
    assert board.time_us == before


# ---- reading the clock ----

def test_ticks_us_starts_at_boot_and_each_read_costs_a_microsecond(board):
    assert board.time_us == 0
    assert time.ticks_us() == 0
    assert time.ticks_us() == 1
    assert board.time_us == 2


def test_ticks_ms_and_cpu_also_cost_a_microsecond(board):
    time.ticks_ms()
    time.ticks_cpu()
    assert board.time_us == 2


def test_ticks_are_ints(board):
    for fn in (time.ticks_ms, time.ticks_us, time.ticks_cpu):
        assert type(fn()) is int


def test_ticks_argument_errors(board):
    for fn in (time.ticks_ms, time.ticks_us, time.ticks_cpu):
        with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
            fn(1)


def test_ticks_restart_at_reset(board):
    board.advance_us(5_000_000)
    assert time.ticks_ms() == 5000
    board.reset()
    assert time.ticks_ms() == 0


def test_ticks_us_wraps_at_two_to_the_thirty(board):
    board.advance_us(PERIOD - 1)
    last = time.ticks_us()
    first = time.ticks_us()
    assert (last, first) == (MASK, 0)
    assert time.ticks_diff(first, last) == 1


def test_ticks_ms_wraps_at_two_to_the_thirty(board):
    board.advance_us((PERIOD - 1) * 1000)
    assert time.ticks_ms() == MASK
    board.advance_us(1000)
    assert time.ticks_ms() == 0


def test_ticks_cpu_counts_cycles_at_160_mhz(board):
    board.advance_us(1000)
    assert time.ticks_cpu() == 160_000


def test_ticks_cpu_counts_cycles_at_240_mhz(board):
    machine.freq(240_000_000)
    board.advance_us(1000)
    assert time.ticks_cpu() == 240_000
    assert time.ticks_cpu() == 240_240       # one microsecond later


def test_ticks_cpu_wraps(board):
    machine.freq(240_000_000)
    us = PERIOD // 240 + 1                    # just past one period of cycles
    board.advance_us(us)
    assert time.ticks_cpu() == (us * 240) & MASK


# ---- sleeping ----

def test_sleep_ms_advances_ticks_ms_exactly(board):
    t0 = time.ticks_ms()
    assert time.sleep_ms(5) is None
    t1 = time.ticks_ms()
    assert time.ticks_diff(t1, t0) == 5
    assert board.time_us == 5002


def test_sleep_us_advances_ticks_us_exactly(board):
    t0 = time.ticks_us()
    time.sleep_us(250)
    t1 = time.ticks_us()
    assert time.ticks_diff(t1, t0) == 251        # 250 µs plus the first read


def test_sleep_ms_long(board):
    time.sleep_ms(2**31 - 1)
    assert board.time_us == (2**31 - 1) * 1000


def test_sleep_of_zero_or_negative_does_nothing(board):
    for sleep in (time.sleep_ms, time.sleep_us):
        sleep(0)
        sleep(-5)
    assert board.time_us == 0


def test_sleep_argument_errors(board):
    for sleep in (time.sleep_ms, time.sleep_us):
        with pytest.raises(TypeError, match="^can't convert float to int$"):
            sleep(1.5)
        with pytest.raises(TypeError, match="^can't convert str to int$"):
            sleep("1")
        with pytest.raises(OverflowError, match="^overflow converting long int to machine word$"):
            sleep(2**31)
        with pytest.raises(TypeError, match="^function takes 1 positional arguments but 0 were given$"):
            sleep()
        with pytest.raises(TypeError, match="^function doesn't take keyword arguments$"):
            sleep(ms=1)
    assert board.time_us == 0


def test_busy_wait_loop_terminates(board):
    deadline = time.ticks_add(time.ticks_ms(), 10)
    polls = 0
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        polls += 1
    assert polls == 9999                   # one microsecond per read
    assert board.time_us == 10_001


def test_sleep_follows_the_current_board(board):
    import esp32sim
    with esp32sim.Device() as other:
        other.use()
        time.sleep_ms(3)
        assert other.time_us == 3000
    board.use()
    assert board.time_us == 0


# ---- ticks arithmetic ----

@pytest.mark.parametrize("ticks, delta, result", [
    (0, 1, 1),
    (MASK, 1, 0),
    (0, -1, MASK),
    (5, 2**29 - 1, 5 + 2**29 - 1),
    (5, -(2**29 - 1), (5 - 2**29 + 1) & MASK),
    (100, 0, 100),
])
def test_ticks_add(ticks, delta, result):
    assert time.ticks_add(ticks, delta) == result


@pytest.mark.parametrize("end, start, diff", [
    (1, 0, 1),
    (0, 1, -1),
    (0, MASK, 1),
    (MASK, 0, -1),
    (2**29 - 1, 0, 2**29 - 1),
    (2**29, 0, -2**29),                  # half a period away reads as behind
    (0, 2**29, -2**29),
    (123, 123, 0),
])
def test_ticks_diff(end, start, diff):
    assert time.ticks_diff(end, start) == diff


def test_ticks_diff_undoes_ticks_add():
    rng = random.Random(1234)
    for _ in range(1000):
        t = rng.randrange(PERIOD)
        d = rng.randrange(-(2**29) + 1, 2**29)
        assert time.ticks_diff(time.ticks_add(t, d), t) == d
        assert time.ticks_diff(t, time.ticks_add(t, d)) == -d


@pytest.mark.parametrize("delta", [2**29, -(2**29), 2**30, -(2**31)])
def test_ticks_add_interval_overflow(delta):
    with pytest.raises(OverflowError, match="^ticks interval overflow$"):
        time.ticks_add(5, delta)


def test_ticks_arithmetic_argument_errors():
    with pytest.raises(OverflowError, match="^overflow converting long int to machine word$"):
        time.ticks_add(0, 2**31)
    with pytest.raises(TypeError, match="^can't convert float to int$"):
        time.ticks_add(0, 1.0)
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        time.ticks_add("0", 1)
    with pytest.raises(TypeError, match="^can't convert NoneType to int$"):
        time.ticks_diff(None, 1)
    with pytest.raises(TypeError, match="^function takes 2 positional arguments but 1 were given$"):
        time.ticks_diff(1)
    with pytest.raises(TypeError, match="^function takes 2 positional arguments but 3 were given$"):
        time.ticks_add(1, 2, 3)


# ---- board mode (the esp32sim command) ----

BOARD_MODE_SCRIPT = textwrap.dedent("""\
    import time
    print("start", time.time(), time.time_ns())
    time.sleep(2)
    print("after 2", time.time(), time.time_ns())
    time.sleep(0.25)
    print("after 0.25", time.time_ns())
    time.sleep(-1)
    time.sleep(True)
    print("after -1 and True", time.time_ns())
    t0 = time.ticks_us()
    time.sleep(0.001)
    print("ticks", time.ticks_diff(time.ticks_us(), t0))
    for bad in ("1", None):
        try:
            time.sleep(bad)
        except TypeError as e:
            print("TypeError", e)
""")


def esp32sim_command():
    path = os.environ.get("ESP32SIM")
    if not path or not pathlib.Path(path).exists():
        pytest.skip("the esp32sim command is not built")
    return path


def test_board_mode_sleep_and_time_follow_the_board(tmp_path):
    command = esp32sim_command()
    script = tmp_path / "clock.py"
    script.write_text(BOARD_MODE_SCRIPT)
    # The command links its own sanitizer runtime: don't hand it the preloaded one.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    run = subprocess.run([command, "run", "--flash", str(tmp_path / "flash.bin"), str(script)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines.pop(0) == "Performing initial setup"     # the new board's filesystem
    # the RTC starts at the 2000 epoch at power-on; the boot took 290 ms
    assert lines[0] == "start 0 290000000"
    assert lines[1] == "after 2 2 2290000000"
    assert lines[2] == "after 0.25 2540000000"
    assert lines[3] == "after -1 and True 3540000000"
    assert lines[4] == "ticks 1001"
    assert lines[5] == "TypeError can't convert str to float"
    assert lines[6] == "TypeError can't convert NoneType to float"
