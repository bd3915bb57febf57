"""esp32.NVS against reference/micropython-esp32.md §3 (MicroPython on ESP32),
and esp32sim's commit contract: uncommitted changes are reported at reset,
and undone in strict mode (docs/python-nvs.md)."""
import array

import pytest

import esp32sim
import machine
from esp32 import NVS

NOT_FOUND = (-4354, "ESP_ERR_NVS_NOT_FOUND")
NO_LAYOUT_NVS = "factory, app, factory, 0x10000, 0x1F0000,\n"


def oserror(fn, *args):
    with pytest.raises(OSError) as info:
        fn(*args)
    return info.value


def assert_oserror(fn, *args, code):
    e = oserror(fn, *args)
    assert e.args == code
    assert str(e) == "(%d, '%s')" % code
    assert repr(e) == "OSError(%d, '%s')" % code
    assert e.errno == code[0]
    return e


def type_error(fn, *args, **kwargs):
    with pytest.raises(TypeError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def warning(ns, n, when="reset", strict=False):
    return "esp32sim: warning: NVS namespace '%s' had %d uncommitted change%s at %s%s\n" % (
        ns, n, "" if n == 1 else "s", when, " (undone: strict mode)" if strict else "")


# ---- construction ----

def test_repr_and_type(board):
    n = NVS("app")
    assert repr(n) == str(n) == "<NVS namespace>"
    assert type(n).__name__ == "NVS"


def test_opening_creates_the_namespace_on_flash_at_once(board):
    board.reset_counters()
    NVS("fresh")
    assert board.counters()["program_ops"] > 0
    board.reset_counters()
    NVS(b"fresh")                       # bytes name, existing namespace: nothing written
    assert board.counters()["program_ops"] == 0


@pytest.mark.parametrize("args, kwargs, message", [
    ((), {}, "function takes 1 positional arguments but 0 were given"),
    (("a", "b"), {}, "function takes 1 positional arguments but 2 were given"),
    ((), {"namespace": "a"}, "function doesn't take keyword arguments"),
    ((1,), {}, "can't convert 'int' object to str implicitly"),
    ((bytearray(b"a"),), {}, "can't convert 'bytearray' object to str implicitly"),
])
def test_constructor_argument_errors(board, args, kwargs, message):
    assert type_error(NVS, *args, **kwargs) == message


def test_long_namespace_names(board):
    assert_oserror(NVS, "sixteen_chars_ns", code=(-4361, "ESP_ERR_NVS_KEY_TOO_LONG"))
    NVS("fifteen_chars_n").set_i32("v", 9)
    assert NVS("fifteen_chars_nXYZ").get_i32("v") == 9      # a lookup compares 15 bytes


def test_254_namespaces_at_most(board):
    for i in range(254):
        NVS("ns%d" % i)
    board.reset_counters()
    assert_oserror(NVS, "one_more", code=(-4357, "ESP_ERR_NVS_NOT_ENOUGH_SPACE"))
    assert board.counters()["program_ops"] == 0
    NVS("ns0")                                                # existing ones still open


def test_board_without_nvs_partition():
    with esp32sim.Device(layout_csv=NO_LAYOUT_NVS) as dev:
        dev.use()
        assert_oserror(NVS, "app", code=(-4353, "ESP_ERR_NVS_NOT_INITIALIZED"))


# ---- i32 ----

def test_i32_round_trip(board):
    n = NVS("app")
    assert n.set_i32("count", 42) is None
    assert n.get_i32("count") == 42
    for value in (-2**31, 2**31 - 1, 0, -1):
        n.set_i32("v", value)
        assert n.get_i32("v") == value
    n.set_i32("flag", True)
    assert n.get_i32("flag") == 1 and type(n.get_i32("flag")) is int


@pytest.mark.parametrize("value, exc, message", [
    (2**31, OverflowError, "overflow converting long int to machine word"),
    (-2**31 - 1, OverflowError, "overflow converting long int to machine word"),
    (1.5, TypeError, "can't convert float to int"),
    ("1", TypeError, "can't convert str to int"),
    (None, TypeError, "can't convert NoneType to int"),
])
def test_set_i32_value_errors(board, value, exc, message):
    n = NVS("app")
    with pytest.raises(exc) as info:
        n.set_i32("k", value)
    assert str(info.value) == message
    assert_oserror(n.get_i32, "k", code=NOT_FOUND)


def test_missing_key(board):
    assert_oserror(NVS("app").get_i32, "nope", code=NOT_FOUND)


# ---- blobs ----

@pytest.mark.parametrize("value, stored", [
    (b"\x01\x02\x03", b"\x01\x02\x03"),
    (bytearray(b"abc"), b"abc"),
    ("h\u00e9llo", "h\u00e9llo".encode()),
    (memoryview(b"xyz")[1:], b"yz"),
    (array.array("h", [1, -1]), b"\x01\x00\xff\xff"),
    (b"", b""),
])
def test_set_blob_takes_any_read_buffer(board, value, stored):
    n = NVS("app")
    assert n.set_blob("b", value) is None
    buf = bytearray(len(stored) + 3)
    assert n.get_blob("b", buf) == len(stored)
    assert bytes(buf) == stored + b"\x00\x00\x00"


def test_get_blob_buffers(board):
    n = NVS("app")
    n.set_blob("b", b"\x01\x02\x03")
    mv = memoryview(bytearray(6))
    assert n.get_blob("b", mv[2:]) == 3
    assert bytes(mv) == b"\x00\x00\x01\x02\x03\x00"
    arr = array.array("B", [9] * 4)
    assert n.get_blob("b", arr) == 3 and list(arr) == [1, 2, 3, 9]


def test_get_blob_too_small_leaves_the_buffer(board):
    n = NVS("app")
    n.set_blob("b", b"\x01\x02\x03")
    small = bytearray(b"ab")
    assert_oserror(n.get_blob, "b", small, code=(-4364, "ESP_ERR_NVS_INVALID_LENGTH"))
    assert small == b"ab"


def test_get_blob_with_no_storage_is_a_size_query(board):
    n = NVS("app")
    n.set_blob("b", b"12345")
    assert n.get_blob("b", bytearray()) == 5
    assert n.get_blob("b", memoryview(bytearray())) == 5
    assert n.get_blob("b", array.array("B")) == 5
    # A zero-length view into real storage is a buffer of length 0.
    assert_oserror(n.get_blob, "b", memoryview(bytearray(4))[1:1], code=(-4364, "ESP_ERR_NVS_INVALID_LENGTH"))
    assert_oserror(n.get_blob, "nope", bytearray(), code=NOT_FOUND)


@pytest.mark.parametrize("call, message", [
    (lambda n: n.set_blob("k", 5), "object with buffer protocol required"),
    (lambda n: n.set_blob("k", None), "object with buffer protocol required"),
    (lambda n: n.get_blob("b", b"123456"), "object with buffer protocol required"),
    (lambda n: n.get_blob("b", "123456"), "object with buffer protocol required"),
    (lambda n: n.get_blob(5, bytearray(4)), "can't convert 'int' object to str implicitly"),
])
def test_blob_argument_errors(board, call, message):
    n = NVS("app")
    n.set_blob("b", b"x")
    assert type_error(call, n) == message


def test_blob_size_limits(board):
    n = NVS("big")
    board.reset_counters()
    assert_oserror(n.set_blob, "b", bytes(20001), code=(-4366, "ESP_ERR_NVS_VALUE_TOO_LONG"))
    assert board.counters()["program_ops"] == 0                  # nothing written
    assert_oserror(n.set_blob, "b", bytes(20000), code=(-4357, "ESP_ERR_NVS_NOT_ENOUGH_SPACE"))
    assert_oserror(n.get_blob, "b", bytearray(), code=NOT_FOUND)


def test_largest_blob_on_a_blank_partition(board):
    n = NVS("big")
    data = bytes(range(256)) * 77 + bytes(19936 - 256 * 77)
    n.set_blob("b", data)
    buf = bytearray(19936)
    assert n.get_blob("b", buf) == 19936 and buf == data


# ---- types and keys ----

def test_types_are_separate_and_a_key_holds_one(board):
    n = NVS("app")
    n.set_blob("blob", b"x")
    n.set_i32("int", 1)
    assert_oserror(n.get_i32, "blob", code=NOT_FOUND)
    assert_oserror(n.get_blob, "int", bytearray(8), code=NOT_FOUND)
    n.set_i32("blob", 7)
    assert_oserror(n.get_blob, "blob", bytearray(8), code=NOT_FOUND)
    assert n.get_i32("blob") == 7
    n.set_blob("int", b"c")
    assert_oserror(n.get_i32, "int", code=NOT_FOUND)


def test_keys_are_15_bytes_at_most(board):
    n = NVS("app")
    assert_oserror(n.set_i32, "sixteen_chars_ab", 1, code=(-4361, "ESP_ERR_NVS_KEY_TOO_LONG"))
    assert_oserror(n.set_blob, "sixteen_chars_ab", b"x", code=(-4361, "ESP_ERR_NVS_KEY_TOO_LONG"))
    n.set_i32("fifteen_chars_a", 5)
    assert n.get_i32("fifteen_chars_abc") == 5
    n.set_i32("fifteen_chars_abc", 5)                             # identical value: accepted, nothing written
    assert_oserror(n.set_i32, "fifteen_chars_abc", 6, code=(-4361, "ESP_ERR_NVS_KEY_TOO_LONG"))
    n.erase_key("fifteen_chars_abc")
    assert_oserror(n.get_i32, "fifteen_chars_a", code=NOT_FOUND)


def test_bytes_keys_and_namespaces_are_separate(board):
    n, other = NVS("app"), NVS(b"other")
    n.set_i32(b"k", 3)
    assert n.get_i32("k") == 3
    assert_oserror(other.get_i32, "k", code=NOT_FOUND)


def test_erase_key(board):
    n = NVS("app")
    n.set_blob("b", bytes(5000))                                   # two pages of chunks
    n.set_i32("i", 1)
    assert n.erase_key("b") is None
    assert n.erase_key("i") is None
    assert_oserror(n.get_blob, "b", bytearray(), code=NOT_FOUND)
    assert_oserror(n.erase_key, "i", code=NOT_FOUND)


def test_commit_returns_none(board):
    assert NVS("app").commit() is None


@pytest.mark.parametrize("call, message", [
    (lambda n: n.set_i32("k"), "function takes 3 positional arguments but 2 were given"),
    (lambda n: n.set_i32("k", 1, 2), "function takes 3 positional arguments but 4 were given"),
    (lambda n: n.get_i32(), "function takes 2 positional arguments but 1 were given"),
    (lambda n: n.set_blob("k"), "function takes 3 positional arguments but 2 were given"),
    (lambda n: n.get_blob("k"), "function takes 3 positional arguments but 2 were given"),
    (lambda n: n.erase_key("a", "b"), "function takes 2 positional arguments but 3 were given"),
    (lambda n: n.commit(1), "function takes 1 positional arguments but 2 were given"),
    (lambda n: n.get_i32(key="k"), "function doesn't take keyword arguments"),
    (lambda n: n.commit(x=1), "function doesn't take keyword arguments"),
    (lambda n: n.set_i32(1, 1), "can't convert 'int' object to str implicitly"),
    (lambda n: n.erase_key(None), "can't convert 'NoneType' object to str implicitly"),
])
def test_method_argument_errors(board, call, message):
    assert type_error(call, NVS("app")) == message


# ---- persistence ----

def test_values_survive_reset_and_power_cycle(board):
    n = NVS("app")
    n.set_i32("i", -7)
    n.set_blob("b", b"kept")
    n.commit()
    board.reset()
    assert NVS("app").get_i32("i") == -7
    assert n.get_i32("i") == -7                # an object from before: opened again on this boot
    board.power_cycle()
    buf = bytearray(4)
    assert n.get_blob("b", buf) == 4 and buf == b"kept"


def test_values_survive_closing_the_image(board_image):
    dev = board_image()
    n = NVS("app")
    n.set_i32("i", 11)
    n.commit()
    dev.close()
    with pytest.raises(ValueError):
        n.get_i32("i")                         # its board is gone
    board_image()
    assert NVS("app").get_i32("i") == 11


def test_object_works_on_the_board_current_at_creation(board):
    n = NVS("app")
    with esp32sim.Device() as other:
        other.use()
        n.set_i32("x", 1)
        assert_oserror(NVS("app").get_i32, "x", code=NOT_FOUND)
    assert n.get_i32("x") == 1


# ---- the commit contract ----

def test_uncommitted_changes_are_reported_at_reset(board, capsys):
    n = NVS("app")
    n.set_i32("a", 1)
    n.set_i32("a", 2)                          # one key: one change
    n.set_blob("b", b"x")
    o = NVS("other")
    o.set_i32("c", 3)
    board.reset()
    out, err = capsys.readouterr()
    assert out == ""
    assert err == warning("app", 2) + warning("other", 1)
    assert n.get_i32("a") == 2 and o.get_i32("c") == 3             # written when set, as on ESP-IDF
    board.reset()
    assert capsys.readouterr().err == ""                              # reported once


def test_committed_and_failed_writes_are_not_reported(board, capsys):
    n = NVS("app")
    n.set_i32("a", 1)
    n.commit()
    for call in (lambda: n.erase_key("missing"), lambda: n.set_i32("sixteen_chars_ab", 1),
                 lambda: n.set_blob("b", bytes(20001))):
        with pytest.raises(OSError):
            call()
    board.power_cycle()
    assert capsys.readouterr().err == ""


def test_commit_covers_every_object_of_the_namespace(board, capsys):
    a, b = NVS("app"), NVS("app")
    a.set_i32("x", 1)
    b.set_i32("y", 2)
    b.commit()
    board.reset()
    assert capsys.readouterr().err == ""


def test_machine_reset_and_power_off_warnings(board, capsys):
    NVS("app").set_i32("x", 1)
    with pytest.raises(esp32sim.Reset):
        machine.reset()
    assert capsys.readouterr().err == warning("app", 1)
    NVS("app").erase_key("x")
    board.power_cycle()
    assert capsys.readouterr().err == warning("app", 1, when="power-off")


def test_strict_mode_undoes_uncommitted_changes(capsys):
    with esp32sim.Device(nvs_strict=True) as dev:
        dev.use()
        assert dev.nvs_strict is True
        n = NVS("app")
        n.set_i32("kept", 1)
        n.set_blob("blob", b"old")
        n.commit()
        n.set_i32("kept", 100)                 # changed, not committed
        n.set_blob("blob", b"new value")
        n.set_i32("new", 5)
        n.erase_key("kept")
        dev.reset()
        assert capsys.readouterr().err == warning("app", 3, strict=True)
        assert n.get_i32("kept") == 1
        buf = bytearray(8)
        assert n.get_blob("blob", buf) == 3 and buf[:3] == b"old"
        assert_oserror(n.get_i32, "new", code=NOT_FOUND)


@pytest.mark.parametrize("end", ["machine.reset", "reset", "power_cycle"])
def test_strict_mode_on_every_kind_of_reset(board, capsys, end):
    board.nvs_strict = True
    assert board.nvs_strict is True
    n = NVS("app")
    n.set_i32("committed", 1)
    n.commit()
    n.set_i32("uncommitted", 2)
    if end == "machine.reset":
        with pytest.raises(esp32sim.Reset):
            machine.reset()
    else:
        getattr(board, end)()
    assert "(undone: strict mode)" in capsys.readouterr().err
    assert n.get_i32("committed") == 1
    assert_oserror(n.get_i32, "uncommitted", code=NOT_FOUND)


def test_strict_mode_belongs_to_the_open_board(board_image):
    dev = board_image(nvs_strict=True)
    n = NVS("app")
    n.set_i32("a", 1)
    n.commit()
    n.set_i32("a", 2)
    dev.close()                                # closing is not a reset: the value stays
    dev = board_image()
    assert dev.nvs_strict is False
    assert NVS("app").get_i32("a") == 2


def test_strict_mode_switch(board):
    assert board.nvs_strict is False
    board.nvs_strict = 1
    assert esp32sim.current().nvs_strict is True                     # a property of the board
    board.nvs_strict = False
    assert board.nvs_strict is False
    with pytest.raises(TypeError):
        del board.nvs_strict


def test_strict_mode_cannot_undo_without_power(board, capsys):
    board.nvs_strict = True
    n = NVS("app")
    n.set_i32("a", 1)
    board.arm_power_cut(op=1)
    with pytest.raises(esp32sim.PowerLoss):
        n.set_i32("b", 2)
    board.power_cycle()
    err = capsys.readouterr().err
    assert err == (warning("app", 1, when="power-off", strict=True) +
                   "esp32sim: warning: the uncommitted NVS changes could not all be undone (ESP_ERR_FLASH_OP_FAIL)\n")
    assert n.get_i32("a") == 1

