"""Whole boards through the esp32sim command (the run_board fixture):
deep-sleep cycles with a boot counter in RTC memory, pin and touch wakes
from stimuli, power-off, the time limit."""
import json

COUNTER = """
import machine, esp32
rtc = machine.RTC()
n = int(rtc.memory() or b"0") + 1
rtc.memory(str(n).encode())
print("boot", n, machine.reset_cause(), machine.wake_reason())
"""


def test_a_minute_of_sleep_per_cycle(run_board):
    result = run_board(COUNTER + "machine.deepsleep(60_000)\n", until_ms=600_000)
    assert result.code == 0, result
    # each cycle is the minute asleep plus the wake's boot (150 ms; the
    # power-on boot took 290 ms)
    assert [b["at_ms"] for b in result.boots] == [0] + [290 + 60_000 + i * 60_150 for i in range(9)]
    assert result.wake_causes == [0] + [4] * 9
    assert [b["reset_reason"] for b in result.boots] == ["POWERON"] + ["DEEPSLEEP"] * 9
    assert "boot 10 4 4" in result.out
    assert "time limit reached at 600000 ms, the board is in deep sleep" in result.err


def test_boot_count_vanishes_at_power_off(run_board):
    first = run_board(COUNTER + "if n < 3: machine.deepsleep(1000)\n")
    assert "boot 3 4 4" in first.out, first
    second = run_board()   # the same board, powered on again: RTC memory was lost
    assert second.out.splitlines() == ["boot 1 1 0", "boot 2 4 4", "boot 3 4 4"], second


def test_pin_33_pulled_high_at_5_s_wakes_the_board(run_board):
    main = COUNTER + """
if n == 1:
    esp32.wake_on_ext0(machine.Pin(33), esp32.WAKEUP_ANY_HIGH)
    machine.deepsleep(3_600_000)
"""
    result = run_board(main, stimulus=[{"at_ms": 5000, "pin": 33, "level": 1}])
    assert result.code == 0, result
    assert result.wake_causes == [0, 2]
    assert result.boots[1]["at_ms"] == 5000
    assert "boot 2 4 2" in result.out


def test_ext1_all_low_and_touch(run_board):
    main = COUNTER + """
if n == 1:
    esp32.wake_on_ext1([machine.Pin(32), machine.Pin(34)], esp32.WAKEUP_ALL_LOW)
    machine.deepsleep()
elif n == 2:
    print("pins", machine.wake_pins())
    machine.TouchPad(machine.Pin(4)).config(300)
    esp32.wake_on_touch(True)
    machine.deepsleep()
"""
    stimulus = [{"at_ms": 0, "pin": 32, "level": 1}, {"at_ms": 0, "pin": 34, "level": 1},
                {"at_ms": 1000, "pin": 32, "level": 0}, {"at_ms": 2000, "pin": 34, "level": 0},
                {"at_ms": 7000, "touch": 0, "value": 90, "for_ms": 200}]
    result = run_board(main, stimulus=stimulus)
    assert result.code == 0, result
    assert result.wake_causes == [0, 3, 5]
    assert [b["at_ms"] for b in result.boots] == [0, 2000, 7000]
    assert "pins (32, 34)" in result.out


def test_lightsleep_keeps_ram(run_board):
    main = """
import machine, time
seen = []
for i in range(3):
    machine.lightsleep(10_000)
    seen.append((machine.wake_reason(), time.ticks_ms() // 1000))
print(seen, machine.reset_cause())
"""
    result = run_board(main)
    assert "[(4, 10), (4, 20), (4, 30)] 1" in result.out, result
    assert len(result.boots) == 1


def test_a_bad_stimulus_is_refused_naming_the_event(run_board):
    result = run_board("print('never')\n", stimulus={"events": [{"at_ms": 1, "touch": 12, "value": 5}]})
    assert result.code != 0
    assert "events[0]" in result.err and "touch" in result.err, result
    assert "never" not in result.out


def test_hour_of_sleep_takes_no_wall_time(run_board, tmp_path):
    import time as host_time
    start = host_time.monotonic()
    result = run_board(COUNTER + "if n < 2: machine.deepsleep(3_600_000)\n")
    assert result.boots[1]["at_ms"] == 290 + 3_600_000
    assert host_time.monotonic() - start < 30


def test_realtime_paces_the_clock_to_the_wall(run_board):
    import time as host_time
    start = host_time.monotonic()
    result = run_board("import time\ntime.sleep_ms(400)\nprint('awake', time.ticks_ms())\n",
                       args=["--realtime"])
    assert "awake 400" in result.out, result
    assert host_time.monotonic() - start >= 0.4


def test_until_ms_needs_a_number(run_board):
    result = run_board("print('x')\n", args=["--until-ms", "soon"])
    assert result.code == 2
    assert "--until-ms needs a whole number of milliseconds, not 'soon'" in result.err


def test_a_busy_board_stops_at_the_limit(run_board):
    result = run_board("import time\nwhile True:\n    time.sleep_ms(100)\n", until_ms=5000)
    assert result.code == 0, result
    assert "esp32sim: time limit reached at 5000 ms" in result.err


def test_the_sleepy_sensor_example(run_board):
    import pathlib
    examples = pathlib.Path(__file__).resolve().parents[2] / "examples"
    stimulus = json.loads((examples / "sleepy_sensor.json").read_text())
    result = run_board((examples / "sleepy_sensor.py").read_text(), stimulus=stimulus, until_ms=7_200_000)
    assert result.code == 0, result
    lines = result.out.splitlines()
    # timer wakes every 10 minutes; the button (high for 300 ms at 25 min)
    # wakes the board twice: once at the press, once more after that boot
    assert lines[:7] == ["wake 1 (power-on): raw temperature 118", "wake 2 (timer): raw temperature 118",
                         "wake 3 (timer): raw temperature 118", "wake 4 (button): raw temperature 118",
                         "wake 5 (button): raw temperature 118", "wake 6 (timer): raw temperature 118",
                         "saved 6 readings to NVS"]
    assert "wake 9 (timer): raw temperature 142" in lines   # 61 °C after the first hour
    assert result.wake_causes[3:5] == [2, 2]
    assert result.boots[3]["at_ms"] == 1_500_000
    assert len(result.boots) == 14


ULP_WAKER = '''
import esp32, machine, struct
HALT, WAKE = 0xB0000000, 0x90000001
words = [0, 0x72800003, 0xD000000C, 0x72000010, 0x6800000C, 0x82000000 | 2 << 17 | 1 << 16 | 8, HALT, WAKE, HALT]
text = b"".join(struct.pack("<I", w) for w in words)
program = struct.pack("<IHHHH", 0x00706C75, 12, len(text), 0, 0) + text
if machine.reset_cause() != machine.DEEPSLEEP_RESET:
    ulp = esp32.ULP()
    ulp.set_wakeup_period(0, 100_000)      # a sample every 100 ms
    ulp.load_binary(0, program)
    ulp.run(4)
    esp32.wake_on_ulp(True)
    print("sleeping")
    machine.deepsleep()
else:
    print("woke", machine.wake_reason(), machine.mem32[0x50000000] & 0xFFFF)
'''


def test_a_ulp_wakes_the_sleeping_board_after_8_samples(run_board):
    result = run_board(ULP_WAKER)
    assert result.code == 0, result
    # the eighth sample woke the board; the ULP went on sampling through
    # the 150 ms the wake's boot took, so main.py reads 9
    assert result.out.splitlines() == ["sleeping", "woke 6 9"]
    assert result.wake_causes == [0, 6]
    assert 290 + 700 <= result.boots[1]["at_ms"] <= 290 + 800


COUNTER_EXAMPLE = '''
import esp32, machine, time
ulp = esp32.ULP()
ulp.set_wakeup_period(0, 50_000)
with open("counter.ulp", "rb") as f:
    ulp.load_binary(0, f.read())
ulp.run(4)
for i in range(3):
    time.sleep_ms(500)
    print("count", machine.mem32[0x50000000] & 0xFFFF)
'''


def test_the_ulp_counter_example_under_run(run_board, fixtures_dir):
    result = run_board(COUNTER_EXAMPLE, files={"counter.ulp": (fixtures_dir / "ulp" / "counter.ulp").read_bytes()})
    assert result.code == 0, result
    counts = [int(line.split()[1]) for line in result.out.splitlines()]
    assert counts == [10, 20, 30]   # a run at once, then one per ~50.1 ms
