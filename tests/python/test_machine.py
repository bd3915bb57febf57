"""machine: resets and their cause, the CPU clock, unique_id, the interrupt
mask and the mem8/mem16/mem32 views, as MicroPython does them on an ESP32."""
import pytest

import esp32sim
import machine

RTC_SLOW = 0x50000000
RTC_SLOW_END = 0x50002000     # one past the last byte
RTC_FAST = 0x3FF80000
UNMAPPED = 0x40000000         # no memory behind it in the model

FREQ_ERROR = "frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz"


def test_reset_cause_constants():
    assert (machine.PWRON_RESET, machine.HARD_RESET, machine.WDT_RESET,
            machine.DEEPSLEEP_RESET, machine.SOFT_RESET) == (1, 2, 3, 4, 5)


# ---- resets ----

def test_reset_cause_after_power_on(board):
    assert machine.reset_cause() == machine.PWRON_RESET


def test_reset_unwinds_and_reboots(board):
    boots = board.boot_count
    with pytest.raises(esp32sim.Reset):
        machine.reset()
    assert board.boot_count == boots + 1
    assert board.reset_reason == 3          # ESP_RST_SW
    assert machine.reset_cause() == machine.HARD_RESET


def test_reset_is_not_an_exception_subclass(board):
    # `except Exception` in firmware code must not swallow the reset.
    with pytest.raises(esp32sim.Reset):
        try:
            machine.reset()
        except Exception:
            pytest.fail("machine.reset() was caught by `except Exception`")


def test_reset_takes_no_arguments(board):
    boots = board.boot_count
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        machine.reset(1)
    with pytest.raises(TypeError, match="^function doesn't take keyword arguments$"):
        machine.reset(now=True)
    assert board.boot_count == boots


def test_soft_reset_cause(board):
    board.soft_reset()
    assert machine.reset_cause() == machine.SOFT_RESET
    with pytest.raises(esp32sim.Reset):
        machine.reset()
    assert machine.reset_cause() == machine.HARD_RESET


@pytest.mark.parametrize("reason, cause", [
    ("sw", 2), ("panic", 2), ("ext", 2),
    ("int_wdt", 3), ("task_wdt", 3), ("wdt", 3),
    ("deepsleep", 4),
    ("brownout", 1),
])
def test_reset_cause_of_each_reset_reason(board, reason, cause):
    board.reset(reason)
    assert machine.reset_cause() == cause


def test_reset_cause_after_power_cycle(board):
    board.reset("wdt")
    board.power_cycle()
    assert machine.reset_cause() == machine.PWRON_RESET


def test_reset_cause_argument_check(board):
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        machine.reset_cause(1)


# ---- clock ----

def test_freq_default_is_160mhz(board):
    assert machine.freq() == 160_000_000
    assert type(machine.freq()) is int


@pytest.mark.parametrize("mhz", [20, 40, 80, 160, 240])
def test_freq_set_each_supported_value(board, mhz):
    assert machine.freq(mhz * 1_000_000) is None
    assert machine.freq() == mhz * 1_000_000


def test_freq_truncates_to_whole_megahertz(board):
    machine.freq(240_999_999)
    assert machine.freq() == 240_000_000


@pytest.mark.parametrize("hz", [0, 1, 19_999_999, 100_000_000, 239_999_999, 241_000_000, -160_000_000])
def test_freq_rejects_other_values(board, hz):
    with pytest.raises(ValueError, match="^" + FREQ_ERROR + "$"):
        machine.freq(hz)
    assert machine.freq() == 160_000_000


def test_freq_argument_errors(board):
    with pytest.raises(TypeError, match="^can't convert float to int$"):
        machine.freq(160e6)
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        machine.freq("160")
    with pytest.raises(OverflowError, match="^overflow converting long int to machine word$"):
        machine.freq(2**31)
    with pytest.raises(TypeError, match="^function expected at most 1 arguments, got 2$"):
        machine.freq(160_000_000, 1)
    with pytest.raises(TypeError, match="^function doesn't take keyword arguments$"):
        machine.freq(hz=160_000_000)


def test_freq_returns_to_default_after_reset(board):
    machine.freq(80_000_000)
    with pytest.raises(esp32sim.Reset):
        machine.reset()
    assert machine.freq() == 160_000_000


def test_freq_follows_the_current_board(board):
    machine.freq(240_000_000)
    with esp32sim.Device() as other:
        other.use()
        assert machine.freq() == 160_000_000
    board.use()
    assert machine.freq() == 240_000_000


# ---- identity, idle, interrupts ----

def test_unique_id_is_the_base_mac(board):
    uid = machine.unique_id()
    assert type(uid) is bytes and len(uid) == 6
    assert uid[:3] == b"\x24\x0a\xc4"       # an Espressif OUI
    assert machine.unique_id() == uid


def test_unique_id_follows_the_image(board_image):
    first = board_image("a.bin")
    uid_a = machine.unique_id()
    board_image("b.bin")
    uid_b = machine.unique_id()
    assert uid_a != uid_b
    first.use()
    assert machine.unique_id() == uid_a
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        machine.unique_id(1)


def test_idle_returns_none(board):
    assert machine.idle() is None
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        machine.idle(1)


def test_disable_irq_nests():
    outer = machine.disable_irq()
    inner = machine.disable_irq()
    assert outer == 0            # interrupts were enabled
    assert inner != 0            # already masked
    assert machine.enable_irq(inner) is None
    assert machine.disable_irq() == inner
    machine.enable_irq(outer)
    assert machine.disable_irq() == 0
    machine.enable_irq(0)


def test_enable_irq_argument_errors():
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 0 were given$"):
        machine.enable_irq()
    with pytest.raises(TypeError, match="^can't convert NoneType to int$"):
        machine.enable_irq(None)
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        machine.disable_irq(0)


# ---- mem8 / mem16 / mem32 ----

def test_mem_repr():
    assert repr(machine.mem8) == "<8-bit memory>"
    assert repr(machine.mem16) == "<16-bit memory>"
    assert str(machine.mem32) == "<32-bit memory>"
    assert type(machine.mem8).__name__ == "mem"
    assert type(machine.mem8) is type(machine.mem32)


@pytest.mark.parametrize("addr", [RTC_SLOW, RTC_SLOW + 4, RTC_SLOW + 0x1000, RTC_SLOW_END - 4])
def test_mem32_round_trip_over_rtc_slow_memory(board, addr):
    machine.mem32[addr] = 0x12345678
    assert machine.mem32[addr] == 0x12345678
    assert machine.mem32[addr ^ 4] == 0     # the neighbour is untouched


def test_mem_views_are_little_endian(board):
    machine.mem32[RTC_SLOW] = 0x44332211
    assert [machine.mem8[RTC_SLOW + i] for i in range(4)] == [0x11, 0x22, 0x33, 0x44]
    assert machine.mem16[RTC_SLOW] == 0x2211
    assert machine.mem16[RTC_SLOW + 2] == 0x4433
    machine.mem8[RTC_SLOW + 3] = 0xAB
    machine.mem16[RTC_SLOW] = 0xBEEF
    assert machine.mem32[RTC_SLOW] == 0xAB33BEEF - 2**32   # bit 31 set: negative


def test_mem32_with_bit_31_set_reads_negative(board):
    # mp_obj_new_int(mp_int_t) of the loaded uint32 on a 32-bit port.
    machine.mem32[RTC_SLOW] = 0x80000000
    assert machine.mem32[RTC_SLOW] == -2**31
    machine.mem32[RTC_SLOW] = 0xFFFFFFFF
    assert machine.mem32[RTC_SLOW] == -1
    assert machine.mem32[RTC_SLOW] & 0xFFFF == 0xFFFF
    machine.mem16[RTC_SLOW] = 0xFFFF
    assert machine.mem16[RTC_SLOW] == 0xFFFF              # narrower loads stay positive


def test_mem_loads_cost_a_microsecond_and_stores_none(board):
    # As a clock read does: a loop polling memory lets time pass.
    start = board.time_us
    machine.mem32[RTC_SLOW] = 1
    machine.mem8[RTC_SLOW] = 2
    assert board.time_us == start
    machine.mem32[RTC_SLOW]
    machine.mem16[RTC_SLOW]
    machine.mem8[RTC_SLOW]
    assert board.time_us == start + 3


def test_mem_store_truncates_the_value(board):
    machine.mem32[RTC_SLOW] = -1
    assert machine.mem8[RTC_SLOW] == 0xFF
    machine.mem32[RTC_SLOW] = 2**40 + 5
    assert machine.mem32[RTC_SLOW] == 5
    machine.mem8[RTC_SLOW] = 0x1FF
    assert machine.mem32[RTC_SLOW] == 0xFF
    machine.mem16[RTC_SLOW] = True
    assert machine.mem32[RTC_SLOW] == 1


def test_mem_index_is_truncated_to_32_bits(board):
    machine.mem32[RTC_SLOW] = 77
    assert machine.mem32[RTC_SLOW + 2**32] == 77
    assert machine.mem32[RTC_SLOW - 2**32] == 77
    machine.mem32[RTC_SLOW + 5 * 2**32] = 78
    assert machine.mem32[RTC_SLOW] == 78


def test_rtc_fast_memory_is_mapped(board):
    machine.mem32[RTC_FAST] = 0x5A5A5A5A
    assert machine.mem32[RTC_FAST] == 0x5A5A5A5A


def test_mem_alignment_errors(board):
    with pytest.raises(ValueError, match="^address 50000001 is not aligned to 2 bytes$"):
        machine.mem16[RTC_SLOW + 1]
    with pytest.raises(ValueError, match="^address 50000002 is not aligned to 4 bytes$"):
        machine.mem32[RTC_SLOW + 2]
    with pytest.raises(ValueError, match="^address 50000003 is not aligned to 4 bytes$"):
        machine.mem32[RTC_SLOW + 3] = 1
    with pytest.raises(ValueError, match="^address 00000001 is not aligned to 4 bytes$"):
        machine.mem32[1]
    assert machine.mem32[RTC_SLOW] == 0
    machine.mem8[RTC_SLOW + 1] = 9            # bytes have no alignment
    assert machine.mem8[RTC_SLOW + 1] == 9


def test_mem_alignment_is_checked_before_the_value(board):
    with pytest.raises(ValueError, match="not aligned"):
        machine.mem32[RTC_SLOW + 2] = "x"


def test_mem_unmapped_read_panics(board):
    boots = board.boot_count
    with pytest.raises(esp32sim.Panic, match="LoadProhibited"):
        machine.mem32[UNMAPPED]
    assert board.boot_count == boots + 1
    assert board.reset_reason == 4            # ESP_RST_PANIC
    assert machine.reset_cause() == machine.HARD_RESET


def test_mem_unmapped_write_panics(board):
    with pytest.raises(esp32sim.Panic, match="StoreProhibited"):
        machine.mem8[RTC_SLOW_END] = 1
    assert board.reset_reason == 4


def test_mem_access_past_the_end_of_a_region_panics(board):
    machine.mem16[RTC_SLOW_END - 2] = 0x1234
    assert machine.mem16[RTC_SLOW_END - 2] == 0x1234
    with pytest.raises(esp32sim.Panic, match="LoadProhibited"):
        machine.mem32[RTC_SLOW_END]


def test_panic_is_not_an_exception_subclass(board):
    with pytest.raises(esp32sim.Panic):
        try:
            machine.mem32[0]
        except Exception:
            pytest.fail("a CPU exception was caught by `except Exception`")


def test_rtc_slow_memory_survives_reset_not_power_cycle(board):
    machine.mem32[RTC_SLOW + 8] = 0xCAFE
    with pytest.raises(esp32sim.Reset):
        machine.reset()
    assert machine.mem32[RTC_SLOW + 8] == 0xCAFE
    board.power_cycle()
    assert machine.mem32[RTC_SLOW + 8] == 0


def test_mem_index_and_value_type_errors(board):
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        machine.mem32["0x50000000"]
    with pytest.raises(TypeError, match="^can't convert float to int$"):
        machine.mem32[float(RTC_SLOW)]
    with pytest.raises(TypeError, match="^can't convert slice to int$"):
        machine.mem32[RTC_SLOW:RTC_SLOW + 8]
    with pytest.raises(TypeError, match="^can't convert slice to int$"):
        machine.mem8[RTC_SLOW:RTC_SLOW + 2] = b"ab"
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        machine.mem32[RTC_SLOW] = "1"
    with pytest.raises(TypeError, match="^can't convert float to int$"):
        machine.mem32[RTC_SLOW] = 1.0
    assert machine.mem32[RTC_SLOW] == 0


def test_mem_item_deletion_is_refused(board):
    machine.mem32[RTC_SLOW] = 5
    with pytest.raises(TypeError, match="^'mem' object doesn't support item deletion$"):
        del machine.mem32[RTC_SLOW]
    assert machine.mem32[RTC_SLOW] == 5


def test_mem_follows_the_current_board(board):
    machine.mem32[RTC_SLOW] = 1
    with esp32sim.Device() as other:
        other.use()
        assert machine.mem32[RTC_SLOW] == 0
        machine.mem32[RTC_SLOW] = 2
    board.use()
    assert machine.mem32[RTC_SLOW] == 1
