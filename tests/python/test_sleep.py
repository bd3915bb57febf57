"""Sleep and wake-up: esp32.wake_on_*, machine.lightsleep/deepsleep,
wake_reason, RTC memory, the temperature sensor and stimuli
(reference/micropython-esp32.md §1, §6; docs/sleep.md)."""
import esp32
import machine
import pytest
import time

import esp32sim

MIN = 60_000
POWER_ON_BOOT_US = 290_000   # a boot takes virtual time (docs/sleep.md)
WAKE_BOOT_US = 150_000


def later(board, ms):
    """World time `ms` from now, in ms, for a stimulus."""
    return board.world_time_us // 1000 + ms


def deepsleep(*args):
    with pytest.raises(esp32sim.Reset):
        machine.deepsleep(*args)


# ---- the wake functions' rules ----

def test_touch_and_ulp_refuse_while_ext0_is_set(board):
    esp32.wake_on_ext0(33, esp32.WAKEUP_ANY_HIGH)
    for fn in (esp32.wake_on_touch, esp32.wake_on_ulp):
        for arg in (True, False):
            with pytest.raises(ValueError, match="^no resources$"):
                fn(arg)


def test_ext0_refuses_while_touch_is_on(board):
    esp32.wake_on_touch(True)
    with pytest.raises(ValueError, match="^no resources$"):
        esp32.wake_on_ext0(None)
    esp32.wake_on_touch(False)
    esp32.wake_on_ext0(4)   # touch off again: fine


def test_ext0_pin_rules(board):
    with pytest.raises(ValueError, match="^invalid pin$"):
        esp32.wake_on_ext0()        # the default is the current pin, -1
    with pytest.raises(ValueError, match="^invalid pin$"):
        esp32.wake_on_ext0(5)       # not an RTC pin
    with pytest.raises(ValueError, match="^invalid pin$"):
        esp32.wake_on_ext0(24)      # no such GPIO
    with pytest.raises(TypeError, match="extra keyword arguments given"):
        esp32.wake_on_ext0(pin=4, lvl=1)
    esp32.wake_on_ext0(pin=4, level=esp32.WAKEUP_ANY_HIGH)
    esp32.wake_on_ext0()            # the current pin and level again
    esp32.wake_on_ext0(None)        # off: touch is allowed again
    esp32.wake_on_touch(True)


def test_wake_functions_check_their_argument_counts(board):
    with pytest.raises(TypeError, match="function takes 1 positional arguments but 0 were given"):
        esp32.wake_on_touch()
    with pytest.raises(TypeError, match="extra positional arguments given"):
        esp32.wake_on_ext1((), 1, 2)
    with pytest.raises(TypeError, match="object 'int' isn't a tuple or list"):
        esp32.wake_on_ext1(4)


def test_constants(board):
    assert esp32.WAKEUP_ALL_LOW is False and esp32.WAKEUP_ANY_HIGH is True
    assert (esp32.HEAP_DATA, esp32.HEAP_EXEC) == (4, 1)
    assert (machine.SLEEP, machine.DEEPSLEEP) == (2, 4)
    assert (machine.PIN_WAKE, machine.EXT0_WAKE, machine.EXT1_WAKE, machine.TIMER_WAKE,
            machine.TOUCHPAD_WAKE, machine.ULP_WAKE) == (2, 2, 3, 4, 5, 6)


# ---- sleeping ----

def test_deepsleep_timer_wake_reboots(board):
    assert machine.reset_cause() == machine.PWRON_RESET
    assert machine.wake_reason() == 0
    time.sleep_ms(250)
    deepsleep(MIN)
    assert board.boot_count == 2
    assert machine.reset_cause() == machine.DEEPSLEEP_RESET
    assert machine.wake_reason() == machine.TIMER_WAKE
    assert board.boot_started_us == POWER_ON_BOOT_US + 250_000 + MIN * 1000
    assert board.world_time_us == board.boot_started_us + WAKE_BOOT_US
    assert time.ticks_ms() == 0   # a new boot


def test_wake_configuration_does_not_survive_deep_sleep(board):
    esp32.wake_on_ext0(33, esp32.WAKEUP_ANY_HIGH)
    deepsleep(10)
    esp32.wake_on_touch(True)   # ext0 was forgotten: no conflict


def test_ext0_wake_from_a_stimulus(board):
    board.stimulus([{"at_ms": 5000, "pin": 33, "level": 1}])
    esp32.wake_on_ext0(33, esp32.WAKEUP_ANY_HIGH)
    deepsleep(MIN)
    assert machine.wake_reason() == machine.EXT0_WAKE
    assert board.boot_started_us == 5_000_000


def test_ext1_none_keeps_the_pins_and_empty_clears(board):
    board.stimulus([{"at_ms": later(board, 100), "pin": 39, "level": 1}])
    esp32.wake_on_ext1((32, 39), esp32.WAKEUP_ANY_HIGH)
    esp32.wake_on_ext1(None, esp32.WAKEUP_ANY_HIGH)
    deepsleep(MIN)
    assert machine.wake_reason() == machine.EXT1_WAKE
    assert machine.wake_pins() == (39,)
    esp32.wake_on_ext1((32, 39), True)
    esp32.wake_on_ext1([], True)
    deepsleep(1000)
    assert machine.wake_reason() == machine.TIMER_WAKE
    assert machine.wake_pins() == ()


def test_ext1_bad_pin_leaves_the_pins(board):
    board.stimulus([{"at_ms": later(board, 10), "pin": 32, "level": 1}])
    esp32.wake_on_ext1([32], True)
    with pytest.raises(ValueError, match="^invalid pin$"):
        esp32.wake_on_ext1([33, 5], False)
    deepsleep(MIN)
    assert machine.wake_reason() == machine.EXT1_WAKE   # still [32], ANY_HIGH


def test_ulp_then_ext0_fails_at_sleep_time(board):
    esp32.wake_on_ulp(True)
    esp32.wake_on_ext0(4, 0)   # allowed: ext0 does not look at the ULP flag
    with pytest.raises(RuntimeError, match=r"^esp_sleep_enable_ulp_wakeup\(\) failed$"):
        machine.deepsleep(100)
    with pytest.raises(RuntimeError, match=r"^esp_sleep_enable_ulp_wakeup\(\) failed$"):
        machine.lightsleep(100)
    assert board.boot_count == 1


def test_touch_wake_needs_a_configured_pad(board):
    board.stimulus([{"at_ms": 2000, "touch": 9, "value": 80}])
    esp32.wake_on_touch(True)
    machine.TouchPad(machine.Pin(32)).config(500)
    deepsleep(MIN)
    assert machine.wake_reason() == machine.TOUCHPAD_WAKE
    assert board.boot_started_us == 2_000_000


def test_gpio_wake_is_light_sleep_only(board):
    esp32.wake_on_gpio((5,), True)
    with pytest.raises(ValueError, match="^DEEPSLEEP with gpio pins not supported on this chip$"):
        machine.deepsleep(100)
    with pytest.raises(ValueError, match="^no resources$"):
        esp32.wake_on_touch(True)
    board.stimulus([{"at_ms": later(board, 30), "pin": 5, "level": 1}])
    machine.lightsleep(1000)
    assert machine.wake_reason() == 7   # ESP_SLEEP_WAKEUP_GPIO, no machine constant


def test_lightsleep_returns_in_place(board):
    kept = [1, 2, 3]
    t0 = time.ticks_ms()
    machine.lightsleep(1500)
    assert kept == [1, 2, 3]
    assert machine.wake_reason() == machine.TIMER_WAKE
    assert time.ticks_diff(time.ticks_ms(), t0) >= 1500
    assert board.boot_count == 1
    machine.sleep(10)   # the deprecated name
    assert machine.reset_cause() == machine.PWRON_RESET


def test_sleeping_past_the_time_limit(board):
    board.time_limit_us = 90_000_000
    deepsleep(MIN)
    with pytest.raises(esp32sim.TimeLimit, match="time limit reached at 90000 ms, the board is in deep sleep"):
        machine.deepsleep(MIN)
    assert board.world_time_us == 90_000_000
    assert board.boot_count == 2
    board.time_limit_us = None
    with pytest.raises(esp32sim.TimeLimit, match="deep sleep and nothing will wake it"):
        machine.deepsleep()


def test_time_limit_stops_a_busy_board(board):
    limit = board.world_time_us + 1000
    board.time_limit_us = limit
    with pytest.raises(esp32sim.TimeLimit):
        while True:
            time.ticks_us()
    assert board.world_time_us == limit


# ---- RTC memory and the calendar ----

def test_rtc_memory_survives_deep_sleep_and_reset_not_power_off(board):
    rtc = machine.RTC()
    assert rtc.memory() == b""
    rtc.memory(b"boots=1")
    deepsleep(10)
    assert machine.RTC().memory() == b"boots=1"
    board.reset()
    assert machine.RTC().memory() == b"boots=1"
    board.power_cycle()
    assert machine.RTC().memory() == b""


def test_rtc_memory_limits(board):
    rtc = machine.RTC()
    rtc.memory(bytes(range(256)) * 8)
    assert len(rtc.memory()) == 2048
    with pytest.raises(ValueError, match="^buffer too long$"):
        rtc.memory(bytes(2049))
    assert len(rtc.memory()) == 2048   # unchanged
    rtc.memory("héllo")
    assert rtc.memory() == "héllo".encode()
    with pytest.raises(TypeError, match="object with buffer protocol required"):
        rtc.memory(5)


def test_rtc_datetime(board):
    rtc = machine.RTC()
    assert rtc.datetime() == (2000, 1, 1, 5, 0, 0, 0, POWER_ON_BOOT_US)   # a Saturday; the boot took 290 ms
    rtc.datetime((2024, 2, 29, 0, 23, 59, 58, 500000))
    assert rtc.datetime() == (2024, 2, 29, 3, 23, 59, 58, 500000)   # a Thursday
    deepsleep(2000)
    assert rtc.datetime()[:7] == (2024, 3, 1, 4, 0, 0, 0)   # the RTC ran through the sleep
    with pytest.raises(ValueError, match="requested length 8 but object has length 3"):
        rtc.datetime((2024, 1, 1))
    assert machine.RTC() is machine.RTC()


# ---- the temperature sensor and stimuli ----

def test_raw_temperature(board):
    assert esp32.raw_temperature() == 130   # a die at 54.5 °C
    board.set_temperature(45)
    assert esp32.raw_temperature() == 113
    board.stimulus('{"events": [{"at_ms": %d, "temperature_c": -18}]}' % later(board, 1000))
    time.sleep_ms(999)
    assert esp32.raw_temperature() == 113
    time.sleep_ms(1)
    assert esp32.raw_temperature() == 0   # -18 °C is -0.4 °F: the field's floor
    with pytest.raises(TypeError):
        esp32.raw_temperature(1)


def test_stimulus_errors_name_the_event(board):
    with pytest.raises(ValueError, match=r'events\[1\].*"pin".*24'):
        board.stimulus([{"at_ms": 0, "pin": 4, "level": 1}, {"at_ms": 10, "pin": 24, "level": 1}])
    assert board.pin_level(4) is None   # nothing of the bad document was added
    with pytest.raises(ValueError):
        board.set_touch(10, 5)


def test_pins_driven_from_outside_are_recorded(board):
    start = later(board, 2)
    board.stimulus([{"at_ms": start, "pin": 13, "level": 1, "for_ms": 3}])
    time.sleep_ms(10)
    assert board.pin_changes(13) == [(start * 1000, 13, 1), (start * 1000 + 3000, 13, None)]
    board.set_pin(13, 0)
    assert board.pin_level(13) == 0


# ---- pins through deep sleep ----

def test_held_pins_keep_their_level_through_deep_sleep(board):
    Pin = machine.Pin
    Pin(26, Pin.OUT, value=1, hold=True)     # an RTC pad: held in deep sleep by itself
    Pin(5, Pin.OUT, value=1, hold=True)      # a digital pad: needs gpio_deep_sleep_hold
    Pin(18, Pin.OUT, value=1)                # not held
    deepsleep(1000)
    assert (board.pin_level(26), board.pin_level(5), board.pin_level(18)) == (1, None, None)
    Pin(5, Pin.OUT, value=1, hold=True)
    esp32.gpio_deep_sleep_hold(True)
    deepsleep(1000)
    assert board.pin_level(5) == 1
    # the whole night is in the record: pin 18 let go when the board slept
    assert [c[2] for c in board.pin_changes(18)] == [1, None]   # value= before the mode: no glitch to 0
    board.power_cycle()
    assert board.pin_level(26) is None and board.pin_level(5) is None


def test_pin_irq_wake_is_ext0_for_the_chosen_sleeps(board):
    Pin = machine.Pin
    t = later(board, 100)
    board.stimulus([{"at_ms": 0, "pin": 4, "level": 1}, {"at_ms": t, "pin": 4, "level": 0}])
    Pin(4, Pin.IN).irq(trigger=Pin.WAKE_LOW, wake=machine.DEEPSLEEP)
    machine.lightsleep(1000)                 # not a wake source for light sleep
    assert machine.wake_reason() == machine.TIMER_WAKE
    assert board.pin_level(4) == 0           # it went low during the light sleep
    Pin(4, Pin.IN).irq(trigger=Pin.WAKE_LOW, wake=machine.DEEPSLEEP)
    asleep_at = board.world_time_us
    deepsleep(MIN)
    assert machine.wake_reason() == machine.PIN_WAKE
    assert board.boot_started_us == asleep_at   # level-triggered: low already, so at once
