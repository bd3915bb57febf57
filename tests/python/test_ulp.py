"""esp32.ULP on the board: the singleton, the loader's errors, and the ULP
running on the board's clock — while the script runs and through deep
sleep, where its WAKE wakes the CPU (reference/micropython-esp32.md §5,
reference/ulp-isa.md §6-7; the emulator's own tests are tests/core/test_ulp.c)."""
import struct
import time

import esp32
import machine
import pytest

import esp32sim

RTC_SLOW = 0x50000000


# ---- a few instructions, encoded as reference/ulp-isa.md §3 gives them ----

def move_imm(rd, imm):
    return 0x72800000 | (imm & 0xFFFF) << 4 | rd


def ld(rd, raddr, offset_words=0):
    return 0xD0000000 | offset_words << 10 | raddr << 2 | rd


def add_imm(rd, rs, imm):
    return 0x72000000 | (imm & 0xFFFF) << 4 | rs << 2 | rd


def st(rval, raddr, offset_words=0):
    return 0x68000000 | offset_words << 10 | raddr << 2 | rval


def jumpr_forward_ge(step, threshold):
    return 0x82000000 | step << 17 | 1 << 16 | threshold


HALT = 0xB0000000
WAKE = 0x90000001


def ulp_binary(words):
    text = b"".join(struct.pack("<I", w) for w in words)
    return struct.pack("<IHHHH", 0x00706C75, 12, len(text), 0, 0) + text


def counting_waker(samples):
    """Word 0 counts runs; after `samples` runs every run ends with WAKE."""
    return ulp_binary([
        0,                              # counter
        move_imm(3, 0),                 # r3 = &counter
        ld(0, 3),
        add_imm(0, 0, 1),
        st(0, 3),
        jumpr_forward_ge(2, samples),   # r0 >= samples: skip the HALT
        HALT,
        WAKE,
        HALT,
    ])


def counter(board):
    return machine.mem32[RTC_SLOW] & 0xFFFF


# ---- the class ----

def test_singleton_and_constants(board):
    assert esp32.ULP() is esp32.ULP()
    assert esp32.ULP.RESERVE_MEM == 2040
    with pytest.raises(TypeError, match="function takes 0 positional arguments but 1 were given"):
        esp32.ULP(1)


def test_loader_errors_are_one_argument_oserrors(board, fixtures_dir):
    ulp = esp32.ULP()
    good = (fixtures_dir / "ulp" / "counter.ulp").read_bytes()
    cases = [
        (0, good[:8], 260),                         # shorter than the header
        (511, good, 258),                           # load address past RESERVE_MEM
        (505, good, 260),                           # runs past RESERVE_MEM
        (0, b"ulx\0" + good[4:], 262),              # bad magic
        (0, good + b"\0\0\0\0", 260),               # sizes do not add up
    ]
    for addr, program, code in cases:
        with pytest.raises(OSError) as e:
            ulp.load_binary(addr, program)
        assert e.value.args == (code,) and str(e.value) == str(code)
    ulp.load_binary(0, good + b"\0\0")              # trailing bytes short of a word are dropped
    with pytest.raises(OSError) as e:
        ulp.set_wakeup_period(5, 1000)
    assert e.value.args == (258,)
    with pytest.raises(OSError):
        ulp.set_wakeup_period(-1, 1000)             # unsigned: a huge index
    with pytest.raises(TypeError):
        ulp.load_binary(0)


# ---- running on the board's clock ----

def test_counter_example_counts_as_time_passes(board, fixtures_dir):
    ulp = esp32.ULP()
    ulp.load_binary(0, (fixtures_dir / "ulp" / "counter.ulp").read_bytes())
    ulp.run(4)
    assert counter(board) == 0                      # nothing ran yet: no time passed
    time.sleep_ms(100)
    first = counter(board)
    assert 40 < first < 100                         # about one run per 1.5 ms (200 slow ticks + overhead)
    ulp.set_wakeup_period(0, 10_000)                # one run per 10 ms
    time.sleep_ms(1000)
    assert 95 <= counter(board) - first <= 101
    machine.mem32[RTC_SLOW] = 1000                  # the CPU writes, the ULP goes on from there
    time.sleep_ms(100)
    assert 1009 <= counter(board) <= 1011


def test_polling_rtc_memory_without_sleeping_sees_the_ulp_count(board):
    # A script that only reads mem32 in a loop (no sleep, no clock read), as
    # the ULP examples do: each load lets time pass, so the ULP's timer fires.
    ulp = esp32.ULP()
    ulp.set_wakeup_period(0, 50_000)                # one run per 50 ms
    ulp.load_binary(0, ulp_binary([0x1000, move_imm(3, 0), ld(2, 3), add_imm(2, 2, 1), st(2, 3), HALT]))
    ulp.run(4)
    seen = []
    for _ in range(1_000_000):                      # about a second of loads
        value = counter(board)
        if not seen or value != seen[-1]:
            seen.append(value)
        if len(seen) == 4:
            break
    assert seen == [0x1000, 0x1001, 0x1002, 0x1003]
    assert 100_000 <= board.time_us <= 160_000      # the 2nd and 3rd run came 50 ms apart


def test_ulp_runs_through_deep_sleep(board, fixtures_dir):
    ulp = esp32.ULP()
    ulp.load_binary(0, (fixtures_dir / "ulp" / "counter.ulp").read_bytes())
    ulp.set_wakeup_period(0, 10_000)
    ulp.run(4)
    with pytest.raises(esp32sim.Reset):
        machine.deepsleep(1000)
    assert machine.wake_reason() == machine.TIMER_WAKE
    # the second asleep and the 150 ms boot, in ~10.15 ms runs: RTC memory
    # and the timer survived the sleep and the reset
    assert 112 <= counter(board) <= 116
    board.power_cycle()
    time.sleep_ms(100)
    assert counter(board) == 0                      # power-off stops it and clears the memory


def test_wake_after_n_samples(board):
    ulp = esp32.ULP()
    ulp.set_wakeup_period(0, 10_000)
    ulp.load_binary(0, counting_waker(25))
    ulp.run(4)
    esp32.wake_on_ulp(True)
    start = board.world_time_us
    with pytest.raises(esp32sim.Reset):
        machine.deepsleep()
    assert machine.reset_cause() == machine.DEEPSLEEP_RESET
    assert machine.wake_reason() == machine.ULP_WAKE
    woke = board.boot_started_us - start
    assert 240_000 <= woke <= 250_000              # 24 periods of ~10.15 ms after the first run
    assert counter(board) == 25 + 14               # and 14 more runs during the 150 ms boot


def test_a_wake_while_awake_does_not_reset(board):
    ulp = esp32.ULP()
    ulp.set_wakeup_period(0, 1_000)
    ulp.load_binary(0, counting_waker(1))
    ulp.run(4)
    time.sleep_ms(50)
    assert board.boot_count == 1 and counter(board) > 30


def test_ulp_wake_with_ext0_configured_first_fails(board):
    esp32.wake_on_ulp(True)
    esp32.wake_on_ext0(4, 0)
    with pytest.raises(RuntimeError, match="esp_sleep_enable_ulp_wakeup"):
        machine.deepsleep()
