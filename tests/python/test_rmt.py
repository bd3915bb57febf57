"""esp32.RMT as MicroPython up to v1.26 has it (the legacy IDF driver), with
its transmissions on the board's virtual clock. Sub-microsecond timing is
checked by the C tests (tests/core/test_rmt.c); Device.pin_changes() gives
microseconds."""
import pytest

import esp32
import esp32sim
from esp32 import RMT
from machine import Pin


def mark(board, pin):
    """Now, and how many changes the pin has had."""
    return board.world_time_us, len(board.pin_changes(pin))


def changes(board, pin, since):
    """[(t_us, level)] of the pin's changes after the mark `since`, times
    counted from it."""
    t0, n0 = since
    return [(t - t0, level) for t, p, level in board.pin_changes(pin)[n0:]]


def oserror_args(excinfo):
    return excinfo.value.args


# ---- the class ----

def test_constants_and_source_freq(board):
    assert RMT.PULSE_MAX == 32767
    assert RMT.source_freq() == 80000000
    r = RMT(0, pin=Pin(18))
    assert r.source_freq() == 80000000      # a static method, also on instances
    assert r.PULSE_MAX == 32767
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        RMT.source_freq(1)


def test_repr_and_clock_div(board):
    r = RMT(0, pin=Pin(18))
    assert repr(r) == "RMT(channel=0, pin=18, source_freq=80000000, clock_div=8, idle_level=0)"
    assert r.clock_div() == 8
    s = RMT(3, pin=5, clock_div=80, idle_level=True)
    assert repr(s) == "RMT(channel=3, pin=5, source_freq=80000000, clock_div=80, idle_level=1)"
    assert s.clock_div() == 80
    r.deinit()
    assert repr(r) == "RMT()"


def test_the_pin_shows_the_idle_level(board):
    RMT(1, pin=Pin(19), idle_level=1)
    assert board.pin_level(19) == 1
    RMT(2, pin=Pin(21))
    assert board.pin_level(21) == 0


# ---- construction errors ----

def test_arguments_required(board):
    with pytest.raises(TypeError, match="^'pin' argument required$"):
        RMT(0)
    with pytest.raises(TypeError, match="^'id' argument required$"):
        RMT(pin=18)
    with pytest.raises(TypeError, match="^extra positional arguments given$"):
        RMT(0, 18)
    with pytest.raises(TypeError, match="^extra keyword arguments given$"):
        RMT(0, pin=18, carrier=1)
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        RMT("0", pin=18)
    assert repr(RMT(id=0, pin=18)).startswith("RMT(channel=0, ")


@pytest.mark.parametrize("bad", [0, 256, -1])
def test_clock_div_range(board, bad):
    with pytest.raises(ValueError, match="^clock_div must be between 1 and 255$"):
        RMT(0, pin=18, clock_div=bad)
    RMT(0, pin=18, clock_div=255).deinit()
    RMT(0, pin=18, clock_div=1).deinit()


def test_bad_pins_and_channels(board):
    with pytest.raises(ValueError, match="^invalid pin$"):
        RMT(0, pin=24)
    with pytest.raises(OSError) as e:
        RMT(0, pin=36)                        # input only
    assert oserror_args(e) == (-258, "ESP_ERR_INVALID_ARG")
    for channel in (8, -1, 100):
        with pytest.raises(OSError) as e:
            RMT(channel, pin=18)
        assert oserror_args(e) == (-258, "ESP_ERR_INVALID_ARG")


def test_channel_in_use(board):
    RMT(0, pin=18)
    with pytest.raises(OSError) as e:
        RMT(0, pin=19)
    assert oserror_args(e) == (-259, "ESP_ERR_INVALID_STATE")


def test_channel_used_by_bitstream(board):
    with pytest.raises(ValueError, match="^channel used by bitstream$"):
        RMT(7, pin=18)
    assert RMT.bitstream_channel(None) is None
    r = RMT(7, pin=18)
    assert repr(r).startswith("RMT(channel=7, ")
    assert RMT.bitstream_channel(2) == 2
    with pytest.raises(ValueError, match="^channel used by bitstream$"):
        RMT(2, pin=19)


def test_tx_carrier_checks(board):
    with pytest.raises(TypeError, match="^object 'int' isn't a tuple or list$"):
        RMT(0, pin=18, tx_carrier=38000)
    with pytest.raises(ValueError, match="^requested length 3 but object has length 2$"):
        RMT(0, pin=18, tx_carrier=(38000, 50))
    with pytest.raises(ValueError, match="^tx_carrier frequency must be >0$"):
        RMT(0, pin=18, tx_carrier=(0, 50, 1))
    for duty in (101, -1):
        with pytest.raises(ValueError, match="^tx_carrier duty must be 0..100$"):
            RMT(0, pin=18, tx_carrier=[38000, duty, 1])
    RMT(0, pin=18, tx_carrier=(38000, 50, 1))


# ---- bitstream_channel ----

def test_bitstream_channel(board):
    assert RMT.bitstream_channel() == 7
    assert RMT.bitstream_channel(0) == 0
    assert RMT.bitstream_channel() == 0
    assert RMT.bitstream_channel(None) is None
    assert RMT.bitstream_channel() is None
    for bad in (-1, 8):
        with pytest.raises(ValueError, match="^invalid channel$"):
            RMT.bitstream_channel(bad)
    assert RMT.bitstream_channel() is None
    with pytest.raises(TypeError, match="^function expected at most 1 arguments, got 2$"):
        RMT.bitstream_channel(1, 2)
    board.soft_reset()                        # the firmware's .data survives a soft reset
    assert RMT.bitstream_channel() is None
    board.reset()                             # and starts again at a hard one
    assert RMT.bitstream_channel() == 7


# ---- write_pulses ----

def test_pulse_train_timing(board):
    """100 ns ticks: 10 ticks a microsecond."""
    r = RMT(0, pin=Pin(18))
    m = mark(board, 18)
    t0 = m[0]
    r.write_pulses((10, 20, 30), 1)
    assert board.world_time_us == t0          # it does not wait for the pulses
    board.advance_us(100)
    assert changes(board, 18, m) == [(0, 1), (1, 0), (3, 1), (6, 0)]


def test_three_ways_to_give_pulses(board):
    r = RMT(0, pin=Pin(18), clock_div=80)     # 1 us ticks
    m = mark(board, 18)
    t0 = m[0]
    r.write_pulses([5, 5, 5], False)          # mode 1: toggling from data
    assert r.wait_done(timeout=10)
    t1 = board.world_time_us
    r.write_pulses(4, [1, 0, 0, 1])           # mode 2: one duration
    assert r.wait_done(timeout=10)
    t2 = board.world_time_us
    r.write_pulses((2, 3), (True, 1))         # mode 3: both lists
    assert r.wait_done(timeout=10)
    board.advance_us(20)
    assert changes(board, 18, m) == [(5, 1), (10, 0),
                                      (t1 - t0, 1), (t1 - t0 + 4, 0), (t1 - t0 + 12, 1), (t1 - t0 + 16, 0),
                                      (t2 - t0, 1), (t2 - t0 + 5, 0)]


def test_data_defaults_to_high(board):
    r = RMT(0, pin=Pin(18), clock_div=80)
    m = mark(board, 18)
    r.write_pulses((3, 3))
    board.advance_us(10)
    assert changes(board, 18, m) == [(0, 1), (3, 0)]


def test_duration_keeps_15_bits(board):
    """32768 packs as 0, the end marker: the sequence stops there."""
    r = RMT(0, pin=Pin(18), clock_div=80)
    m = mark(board, 18)
    r.write_pulses((3, 32768, 3), 1)
    assert r.wait_done(timeout=10)
    board.advance_us(20)
    assert changes(board, 18, m) == [(0, 1), (3, 0)]


def test_write_pulses_errors(board):
    r = RMT(0, pin=Pin(18))
    for args in (((),), ([], 0), (10, []), ([], [])):
        with pytest.raises(ValueError, match="^No pulses$"):
            r.write_pulses(*args)
    with pytest.raises(ValueError, match="^duration and data must have same length$"):
        r.write_pulses([1, 2], [1])
    with pytest.raises(TypeError, match="^object 'int' isn't a tuple or list$"):
        r.write_pulses(5)
    with pytest.raises(TypeError, match="^object 'bool' isn't a tuple or list$"):
        r.write_pulses(True, [1, 0])        # a bool is not a duration
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        r.write_pulses(["1"])
    with pytest.raises(TypeError, match="^function doesn't take keyword arguments$"):
        r.write_pulses((1,), data=0)
    with pytest.raises(TypeError, match="^function missing 1 required positional arguments$"):
        r.write_pulses()
    with pytest.raises(TypeError, match="^function expected at most 3 arguments, got 4$"):
        r.write_pulses((1,), 1, 2)
    assert r.wait_done()                      # nothing was sent


def test_loop_pulse_limit(board):
    r = RMT(0, pin=Pin(18))
    r.loop(True)
    with pytest.raises(ValueError, match="^Too many pulses for loop$"):
        r.write_pulses([1] * 127)
    r.write_pulses([1] * 126)
    r.loop(False)
    assert r.wait_done(timeout=10)
    r.write_pulses([1] * 1000)               # without a loop, any length
    assert r.wait_done(timeout=10)


def test_write_pulses_waits_for_the_previous_transmission(board):
    r = RMT(0, pin=Pin(18))
    m = mark(board, 18)
    t0 = m[0]
    r.write_pulses((1000, 1000), 1)           # 200 us
    assert board.world_time_us == t0
    r.write_pulses((500,), 1)                 # blocks until the first ends
    assert board.world_time_us == t0 + 200
    assert not r.wait_done()
    assert r.wait_done(timeout=10)
    assert board.world_time_us == t0 + 250
    assert changes(board, 18, m) == [(0, 1), (100, 0), (200, 1), (250, 0)]


# ---- wait_done ----

def test_wait_done_timeouts_in_virtual_time(board):
    r = RMT(0, pin=Pin(18), clock_div=255)    # 3.1875 us ticks
    assert r.wait_done()                      # nothing sent yet
    assert r.wait_done(timeout=0)
    m = mark(board, 18)
    t0 = m[0]
    r.write_pulses((32767,) * 2, 1)           # about 208.9 ms
    assert r.wait_done() is False
    assert r.wait_done(timeout=9) is False    # under one 10 ms tick: a poll
    assert board.world_time_us == t0
    assert r.wait_done(timeout=100) is False  # 10 ticks
    assert board.world_time_us == t0 + 100000
    assert r.wait_done(timeout=105) is False  # still 10 ticks
    assert board.world_time_us == t0 + 200000
    assert r.wait_done(timeout=1000) is True  # returns at the end
    end_ps = 2 * 32767 * 255 * 12500
    assert board.world_time_us == t0 + -(-end_ps // 1000000)
    assert r.wait_done() is True


def test_wait_done_arguments(board):
    r = RMT(0, pin=Pin(18))
    with pytest.raises(TypeError, match="^extra positional arguments given$"):
        r.wait_done(5)
    with pytest.raises(TypeError, match="^extra keyword arguments given$"):
        r.wait_done(time=5)
    with pytest.raises(TypeError, match="^can't convert NoneType to int$"):
        r.wait_done(timeout=None)


def test_wait_done_stops_at_the_time_limit(board):
    r = RMT(0, pin=Pin(18), clock_div=255)
    r.write_pulses((32767,) * 2, 1)
    board.time_limit_us = board.world_time_us + 50000
    with pytest.raises(esp32sim.TimeLimit):
        r.wait_done(timeout=1000)
    assert board.world_time_us == board.time_limit_us


# ---- the carrier ----

def test_carrier_on_high_level(board):
    """10 kHz at 50 %: 50 us high, 50 us low while the data is high."""
    r = RMT(0, pin=Pin(18), clock_div=80, tx_carrier=(10000, 50, 1))
    m = mark(board, 18)
    r.write_pulses((300, 200), 1)
    assert r.wait_done(timeout=10)
    assert changes(board, 18, m) == [(0, 1), (50, 0), (100, 1), (150, 0), (200, 1), (250, 0)]


def test_carrier_on_low_level_and_duty(board):
    """5 kHz at 20 %: 40 us high, 160 us low while the data is low."""
    r = RMT(0, pin=Pin(18), clock_div=80, idle_level=1, tx_carrier=(5000, 20, 0))
    m = mark(board, 18)
    r.write_pulses((100, 400), 1)
    assert r.wait_done(timeout=10)
    assert changes(board, 18, m) == [(140, 0), (300, 1), (340, 0), (500, 1)]


@pytest.mark.parametrize("duty, shown", [(0, 0), (100, 1)])
def test_carrier_with_a_zero_count(board, duty, shown):
    r = RMT(0, pin=Pin(18), clock_div=80, tx_carrier=(10000, duty, 1))
    m = mark(board, 18)
    r.write_pulses((10, 10, 10), 0)
    assert r.wait_done(timeout=10)
    assert changes(board, 18, m) == ([(10, 1), (20, 0)] if shown else [])


# ---- loops ----

def test_loop_and_loop_false(board):
    r = RMT(0, pin=Pin(18))
    r.loop(True)
    m = mark(board, 18)
    t0 = m[0]
    r.write_pulses((100, 100), 1)             # 10 us high, 10 us low, again and again
    board.advance_us(55)
    assert changes(board, 18, m) == [(0, 1), (10, 0), (20, 1), (30, 0), (40, 1), (50, 0)]
    assert r.wait_done() is False
    assert r.wait_done(timeout=10) is False   # 10 ms of looping
    assert board.world_time_us == t0 + 10055
    r.loop(False)                             # the pass 10040..10060 finishes
    assert r.wait_done(timeout=10) is True
    assert board.world_time_us == t0 + 10060
    board.advance_us(100)
    assert changes(board, 18, m)[-2:] == [(10040, 1), (10050, 0)]
    assert len(changes(board, 18, m)) == 2 * 503


def test_write_pulses_while_looping_waits_for_the_pass(board):
    r = RMT(0, pin=Pin(18), clock_div=80)
    r.loop(True)
    m = mark(board, 18)
    t0 = m[0]
    r.write_pulses((3, 7), 1)                 # a 10 us pass
    board.advance_us(25)
    r.write_pulses((2, 2), 1)                 # starts when the third pass ends
    assert board.world_time_us == t0 + 30
    assert r.wait_done() is False             # the new sequence loops
    board.advance_us(10)
    assert changes(board, 18, m) == [(0, 1), (3, 0), (10, 1), (13, 0), (20, 1), (23, 0),
                                     (30, 1), (32, 0), (34, 1), (36, 0), (38, 1), (40, 0)]


def test_an_endless_wait_raises_time_limit(board):
    r = RMT(0, pin=Pin(18))
    r.loop(True)
    r.write_pulses((100, 100), 1)
    with pytest.raises(esp32sim.TimeLimit, match="the board waits for an RMT loop"):
        r.wait_done(timeout=-1)               # ~49.7 days of 10 ms ticks: forever
    board.time_limit_us = board.world_time_us + 1000
    with pytest.raises(esp32sim.TimeLimit, match="the board waits for an RMT loop"):
        r.wait_done(timeout=-1)
    assert board.world_time_us == board.time_limit_us


def test_negative_timeout_waits_for_a_finite_transmission(board):
    r = RMT(0, pin=Pin(18), clock_div=80)
    m = mark(board, 18)
    t0 = m[0]
    r.write_pulses((500,), 1)
    assert r.wait_done(timeout=-1) is True
    assert board.world_time_us == t0 + 500


def test_loop_arguments(board):
    r = RMT(0, pin=Pin(18))
    with pytest.raises(TypeError, match="^function takes 2 positional arguments but 1 were given$"):
        r.loop()
    with pytest.raises(TypeError, match="^can't convert NoneType to int$"):
        r.loop(None)
    r.loop(1)
    r.loop(False)


# ---- deinit and the board's life ----

def test_deinit(board):
    r = RMT(0, pin=Pin(18), idle_level=1)
    assert board.pin_level(18) == 1
    r.deinit()
    assert repr(r) == "RMT()"
    assert board.pin_level(18) == 0           # back to the GPIO output register
    r.deinit()                                # again: nothing
    assert r.clock_div() == 8
    assert r.wait_done() is False             # no driver: ESP_FAIL
    r.loop(True)
    r.loop(False)
    with pytest.raises(OSError) as e:
        r.write_pulses((1, 2))
    assert oserror_args(e) == (1, "ESP_FAIL")
    assert str(e.value) == "[Errno 1] EPERM: ESP_FAIL"
    RMT(0, pin=Pin(18))                       # the channel is free again


def test_deinit_stops_a_transmission(board):
    r = RMT(0, pin=Pin(18), clock_div=80)
    m = mark(board, 18)
    r.write_pulses((100, 100), 1)
    board.advance_us(30)
    r.deinit()
    board.advance_us(500)
    assert changes(board, 18, m) == [(0, 1), (30, 0)]


def test_objects_go_stale_at_a_reset(board):
    r = RMT(0, pin=Pin(18))
    r.loop(True)
    r.write_pulses((100, 100), 1)
    board.reset()
    assert repr(r) == "RMT()"
    assert r.wait_done() is False
    with pytest.raises(OSError) as e:
        r.write_pulses((1, 2))
    assert oserror_args(e) == (1, "ESP_FAIL")
    s = RMT(0, pin=Pin(18))                   # the reset freed the channel
    r.deinit()                                # a stale object leaves it alone
    assert repr(s).startswith("RMT(channel=0, ")


def test_a_soft_reset_frees_the_channels(board):
    r = RMT(0, pin=Pin(18))
    board.soft_reset()
    s = RMT(0, pin=Pin(18))                   # the finalisers deinit at a soft reset
    assert repr(r) == "RMT()"
    assert repr(s).startswith("RMT(channel=0, ")


def test_dropping_the_object_keeps_the_channel(board):
    """As on the board until the garbage collector runs."""
    m = mark(board, 18)
    RMT(0, pin=Pin(18), clock_div=80).write_pulses((5, 5), 1)
    board.advance_us(20)
    assert changes(board, 18, m) == [(0, 0), (0, 1), (5, 0)]   # the driver takes the floating pin low
    with pytest.raises(OSError):
        RMT(0, pin=Pin(18))


def test_objects_belong_to_their_board(board):
    r = RMT(0, pin=Pin(18))
    with esp32sim.Device() as other:
        other.use()
        assert repr(r) == "RMT()"
        RMT(0, pin=Pin(18))
        assert RMT.bitstream_channel() == 7
    board.use()
    assert repr(r) == "RMT()"                 # another board was current meanwhile


def test_esp32_module_has_rmt(board):
    assert esp32.RMT is RMT
