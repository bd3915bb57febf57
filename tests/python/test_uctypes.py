"""uctypes: MicroPython's descriptor encoding, struct objects over host
buffers (addressof) and over the board's address map, sizeof's size and
alignment rules, and the errors MicroPython raises (docs/uctypes.md)."""
import struct

import pytest

import esp32sim
import machine
import uctypes
from uctypes import (ARRAY, BF_LEN, BF_POS, BIG_ENDIAN, LITTLE_ENDIAN, NATIVE, PTR,
                     BFINT8, BFINT16, BFUINT8, BFUINT16, BFUINT32, BFINT32,
                     FLOAT32, FLOAT64, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32, UINT64)

RTC_SLOW = 0x50000000
RTC_FAST = 0x3FF80000
UNMAPPED = 0x40000000
HOST_WINDOW = (0x3F800000, 0x3FC00000)


def over(data, desc, layout=NATIVE):
    """A struct over a fresh bytearray holding `data`; returns (struct, buffer)."""
    buf = bytearray(data)
    return uctypes.struct(uctypes.addressof(buf), desc, layout), buf


# ---- the encoding ----

def test_constants_are_micropythons():
    assert (UINT8, INT8, UINT16, INT16) == (0, 1 << 27, 2 << 27, 3 << 27)
    assert (UINT32, INT32, UINT64, INT64) == (4 << 27, 5 << 27, 6 << 27, 7 << 27)
    # types 8..15 set the top bit of a 31-bit small int: negative
    assert BFUINT8 == -0x40000000 and BFINT32 == -0x18000000
    assert FLOAT32 == -0x10000000 and FLOAT64 == -0x08000000
    assert uctypes.VOID == UINT8
    assert (PTR, ARRAY) == (0x20000000, -0x40000000)
    assert (BF_POS, BF_LEN) == (17, 22)
    assert (LITTLE_ENDIAN, BIG_ENDIAN, NATIVE) == (0, 1, 2)
    assert (uctypes.INT, uctypes.LONG, uctypes.ULONGLONG, uctypes.SHORT) == (INT32, INT32, UINT64, INT16)


# ---- scalar types, both byte orders ----

RAW = bytes(range(0x81, 0x91))          # 16 bytes, top bits set: signedness shows

INT_TYPES = [(UINT8, "B"), (INT8, "b"), (UINT16, "H"), (INT16, "h"),
             (UINT32, "I"), (INT32, "i"), (UINT64, "Q"), (INT64, "q")]


@pytest.mark.parametrize("layout,order", [(LITTLE_ENDIAN, "<"), (BIG_ENDIAN, ">"), (NATIVE, "<")])
@pytest.mark.parametrize("typ,code", INT_TYPES)
def test_int_fields_load(typ, code, layout, order):
    s, _ = over(RAW, {"f": 8 | typ}, layout)
    assert s.f == struct.unpack_from(order + code, RAW, 8)[0]


@pytest.mark.parametrize("layout,order", [(LITTLE_ENDIAN, "<"), (BIG_ENDIAN, ">"), (NATIVE, "<")])
@pytest.mark.parametrize("typ,code", INT_TYPES)
def test_int_fields_store_truncate_to_the_width(typ, code, layout, order):
    s, buf = over(bytes(16), {"f": 8 | typ}, layout)
    size = struct.calcsize(code)
    s.f = -2
    assert buf[8:8 + size] == struct.pack(order + code.upper(), (1 << 8 * size) - 2)
    s.f = (1 << 70) + 0x0102030405060708                  # big ints keep their low bits
    assert buf[8:8 + size] == struct.pack(order + code.upper(), 0x0102030405060708 & ((1 << 8 * size) - 1))
    assert buf[:8] == bytes(8) and buf[8 + size:] == bytes(8 - size)
    s.f = True
    assert s.f == 1


@pytest.mark.parametrize("layout,order", [(LITTLE_ENDIAN, "<"), (BIG_ENDIAN, ">"), (NATIVE, "<")])
def test_float_fields(layout, order):
    s, buf = over(bytes(16), {"f": 0 | FLOAT32, "d": 8 | FLOAT64}, layout)
    s.f = 1.5
    s.d = -2.25
    assert buf[:4] == struct.pack(order + "f", 1.5) and buf[8:] == struct.pack(order + "d", -2.25)
    assert (s.f, s.d) == (1.5, -2.25)
    s.f = 3                                   # ints convert, as mp_obj_get_float does
    assert s.f == 3.0 and isinstance(s.f, float)
    s.f = 0.1                                 # rounded to single precision on the way in
    assert s.f == struct.unpack("f", struct.pack("f", 0.1))[0]
    s.f = 1e300
    assert s.f == float("inf")


def test_wrong_value_types():
    s, _ = over(bytes(8), {"i": 0 | UINT32, "f": 4 | FLOAT32}, LITTLE_ENDIAN)
    with pytest.raises(TypeError, match="^can't convert float to int$"):
        s.i = 1.5
    with pytest.raises(TypeError, match="^can't convert str to float$"):
        s.f = "1"


# ---- bitfields ----

def test_bitfields_unsigned():
    desc = {
        "lo": 0 | BFUINT16 | 0 << BF_POS | 4 << BF_LEN,
        "mid": 0 | BFUINT16 | 4 << BF_POS | 8 << BF_LEN,
        "top": 0 | BFUINT16 | 12 << BF_POS | 4 << BF_LEN,
        "wide": 4 | BFUINT32 | 1 << BF_POS | 31 << BF_LEN,
    }
    s, buf = over(bytes([0x21, 0x43, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF]), desc, LITTLE_ENDIAN)
    assert (s.lo, s.mid, s.top) == (0x1, 0x32, 0x4)
    assert s.wide == 0x7FFFFFFF
    s.mid = 0x1AB                              # masked to the field's 8 bits
    assert buf[:2] == bytes([0xB1, 0x4A])
    s.lo = -1
    assert buf[:2] == bytes([0xBF, 0x4A])


def test_bitfields_are_independent_of_byte_order():
    desc = {"low_byte": 0 | BFUINT16 | 0 << BF_POS | 8 << BF_LEN}
    le, _ = over(b"\x12\x34", desc, LITTLE_ENDIAN)
    be, buf = over(b"\x12\x34", desc, BIG_ENDIAN)
    assert (le.low_byte, be.low_byte) == (0x12, 0x34)
    be.low_byte = 0xAA
    assert buf == b"\x12\xaa"


def test_signed_bitfields_read_back_unsigned_as_in_micropython():
    # MicroPython's moductypes does not sign-extend BFINT fields ("TODO:
    # signed"): the bits come back as an unsigned number.
    desc = {"n": 0 | BFINT8 | 2 << BF_POS | 4 << BF_LEN, "m": 0 | BFINT16 | 0 << BF_POS | 16 << BF_LEN,
            "u": 0 | BFUINT8 | 2 << BF_POS | 4 << BF_LEN}
    s, buf = over(b"\x3c\xff", desc, LITTLE_ENDIAN)
    assert s.n == 0xF == s.u
    assert s.m == 0xFF3C
    s.n = -3                                  # stored as its low 4 bits
    assert buf[0] == (0xD << 2)
    with pytest.raises(OverflowError, match="overflow converting long int to machine word"):
        s.n = 1 << 40


# ---- arrays, nested structs, pointers ----

def test_byte_array_field_is_a_bytearray_by_reference():
    s, buf = over(b"abcdef", {"name": (1 | ARRAY, 4 | UINT8)})
    name = s.name
    assert name == b"bcde" and len(name) == 4 and uctypes.sizeof(name) == 4
    name[0] = ord("X")
    name[1:3] = b"YZ"
    assert buf == bytearray(b"aXYZef")
    assert name[-1] == ord("e") and name[::2] == bytearray(b"XZ") and list(name) == list(b"XYZe")
    assert bytes(name) == b"XYZe" and repr(name) == "bytearray(b'XYZe')"
    assert uctypes.addressof(name) == uctypes.addressof(buf) + 1
    with pytest.raises(IndexError, match="bytearray index out of range"):
        name[4]
    name[3] = 0x141                           # truncated to a byte
    assert buf[4] == 0x41


@pytest.mark.parametrize("layout,order", [(LITTLE_ENDIAN, "<"), (BIG_ENDIAN, ">")])
def test_scalar_array(layout, order):
    s, buf = over(bytes(8), {"a": (0 | ARRAY, 4 | INT16)}, layout)
    arr = s.a
    assert repr(arr).startswith("<struct ARRAY 3f8")
    for i in range(4):
        arr[i] = -1000 * i
    assert buf == struct.pack(order + "4h", 0, -1000, -2000, -3000)
    assert [arr[i] for i in range(4)] == [0, -1000, -2000, -3000]
    with pytest.raises(IndexError, match="^struct: index out of range$"):
        arr[4]
    with pytest.raises(IndexError, match="^struct: index out of range$"):
        arr[4] = 1


def test_array_of_structs_and_nested_structs():
    point = {"x": 0 | UINT8, "y": 1 | UINT8}
    desc = {"n": 0 | UINT8, "pts": (1 | ARRAY, 3, point), "origin": (7, point)}
    s, buf = over(bytes(9), desc, LITTLE_ENDIAN)
    s.pts[2].y = 9
    s.origin.x = 7
    assert buf == bytes([0, 0, 0, 0, 0, 0, 9, 7, 0])
    assert s.pts[2].y == 9 and s.origin.x == 7
    assert repr(s.origin).startswith("<struct STRUCT 3f8")
    with pytest.raises(TypeError, match="doesn't support item assignment"):
        s.pts[0] = 1
    with pytest.raises(TypeError, match="^syntax error in uctypes descriptor$"):
        s.origin = 1                          # no assigning to an aggregate


def test_pointers_to_a_buffer():
    target = bytearray(struct.pack("<4H", 10, 20, 30, 40))
    holder = bytearray(4)
    desc = {"p": (0 | PTR, UINT16), "ps": (0 | PTR, {"a": 0 | UINT16, "b": 2 | UINT16}),
            "raw": 0 | UINT32}
    s = uctypes.struct(uctypes.addressof(holder), desc, LITTLE_ENDIAN)
    s.raw = uctypes.addressof(target)
    p = s.p
    assert repr(p).startswith("<struct PTR ") and int(p) == uctypes.addressof(target)
    assert (p[0], p[3]) == (10, 40)
    p[1] = 21                                 # stores go through the pointer
    assert target[2:4] == b"\x15\x00"
    assert (s.ps[0].b, s.ps[1].a) == (21, 30)  # index steps by the struct's size
    s.ps[1].b = 41
    assert target[6:] == b"\x29\x00"


def test_pointer_into_rtc_memory(board):
    holder = bytearray(4)
    s = uctypes.struct(uctypes.addressof(holder), {"p": (0 | PTR, UINT32), "raw": 0 | UINT32})
    s.raw = RTC_SLOW + 8
    s.p[0] = 0xCAFE
    assert machine.mem32[RTC_SLOW + 8] == 0xCAFE


def test_struct_buffer_protocol_is_a_copy():
    s, buf = over(b"\x01\x02\x03\x04\x05", {"a": 0 | UINT32, "b": 4 | UINT8}, LITTLE_ENDIAN)
    assert bytes(s) == b"\x01\x02\x03\x04\x05"
    view = memoryview(s)
    buf[0] = 9                                # a snapshot: later changes don't show
    assert view.readonly and view.tobytes() == b"\x01\x02\x03\x04\x05"
    view.release()
    assert bytes(s)[0] == 9


# ---- sizeof ----

@pytest.mark.parametrize("desc,native,packed", [
    ({"a": 0 | UINT8, "b": 4 | UINT32}, 8, 8),
    ({"a": 0 | UINT32, "b": 4 | UINT8}, 8, 5),
    ({"a": 0 | UINT8, "d": 1 | FLOAT64}, 16, 9),
    ({"a": 0 | UINT8, "s": (1, {"x": 0 | UINT16})}, 4, 3),
    ({"arr": (0 | ARRAY, 3 | UINT16), "c": 6 | UINT8}, 8, 7),
    ({"p": (0 | PTR, UINT8), "c": 4 | UINT8}, 8, 5),
    ({"bf": 2 | BFUINT16 | 3 << BF_POS | 4 << BF_LEN}, 4, 4),
    ({"bf": 1 | BFUINT32 | 31 << BF_POS | 1 << BF_LEN}, 8, 5),
    ({"n": (0 | ARRAY, 2, {"a": 0 | UINT32, "b": 4 | UINT8})}, 16, 10),
    ({}, 0, 0),
])
def test_sizeof_rules(desc, native, packed):
    assert uctypes.sizeof(desc) == native == uctypes.sizeof(desc, NATIVE)
    assert uctypes.sizeof(desc, LITTLE_ENDIAN) == packed == uctypes.sizeof(desc, BIG_ENDIAN)


def test_sizeof_of_objects():
    s, _ = over(bytes(8), {"a": 0 | UINT32, "b": 4 | UINT8, "arr": (5 | ARRAY, 2 | UINT16)}, LITTLE_ENDIAN)
    assert uctypes.sizeof(s) == 9
    assert uctypes.sizeof(s.arr) == 4
    assert uctypes.sizeof(bytearray(7)) == 7
    assert uctypes.sizeof((0 | ARRAY, 5 | UINT32)) == 20
    with pytest.raises(TypeError):
        uctypes.sizeof(s, NATIVE)
    with pytest.raises(TypeError, match="^can't unambiguously get sizeof scalar$"):
        uctypes.sizeof(s.a)
    for bad in ("x", {"a": "x"}, {"a": 1 << 40}, (0 | ARRAY,), (0, {}, 1), (0 | PTR, UINT8, 1)):
        with pytest.raises(TypeError, match="^syntax error in uctypes descriptor$"):
            uctypes.sizeof(bad)


# ---- addressof, bytes_at, bytearray_at ----

def test_addressof_host_buffers():
    a, b = bytearray(10), b"constant"
    addr_a, addr_b = uctypes.addressof(a), uctypes.addressof(b)
    for addr in (addr_a, addr_b):
        assert HOST_WINDOW[0] <= addr < HOST_WINDOW[1] and addr % 16 == 0
    assert addr_a != addr_b and uctypes.addressof(a) == addr_a      # stable
    assert uctypes.addressof(memoryview(a)[3:]) == addr_a + 3      # inside a known buffer
    assert uctypes.bytes_at(addr_b, 8) == b"constant"
    view = uctypes.bytearray_at(addr_a + 2, 3)
    view[:] = b"xyz"
    assert a == bytearray(b"\0\0xyz\0\0\0\0\0")
    assert uctypes.bytes_at(addr_a, 0) == b""
    with pytest.raises(TypeError, match="^object with buffer protocol required$"):
        uctypes.addressof(5)


def test_a_full_host_window_lets_go_of_unreferenced_buffers():
    held = [bytearray(1 << 20) for _ in range(3)]
    for b in held:
        uctypes.addressof(b)
    with pytest.raises(MemoryError, match="^memory allocation failed, allocating 2097152 bytes$"):
        uctypes.addressof(bytearray(2 << 20))
    del held, b
    assert HOST_WINDOW[0] <= uctypes.addressof(bytearray(2 << 20)) < HOST_WINDOW[1]


def test_bytes_at_copies_bytearray_at_refers():
    buf = bytearray(b"abcd")
    addr = uctypes.addressof(buf)
    copy, ref = uctypes.bytes_at(addr, 4), uctypes.bytearray_at(addr, 4)
    buf[0] = ord("z")
    assert copy == b"abcd" and ref == b"zbcd" and ref != b"abcd"


def test_writing_a_bytes_object_faults(board):
    s = uctypes.struct(uctypes.addressof(b"read only!"), {"c": 0 | UINT8})
    assert s.c == ord("r")
    with pytest.raises(esp32sim.Panic, match="StoreProhibited"):
        s.c = 1


def test_reading_past_a_host_buffer_faults(board):
    addr = uctypes.addressof(bytearray(4))
    with pytest.raises(esp32sim.Panic, match="LoadProhibited"):
        uctypes.bytes_at(addr, 5)
    assert board.reset_reason == 4            # ESP_RST_PANIC


# ---- the board's address map ----

def test_struct_over_rtc_slow_memory_agrees_with_mem32(board):
    desc = {"counter": 0 | UINT16, "flags": 2 | UINT16, "word": 4 | UINT32, "be": 8 | UINT32}
    s = uctypes.struct(RTC_SLOW, desc, LITTLE_ENDIAN)
    machine.mem32[RTC_SLOW] = 0x00070005
    assert (s.counter, s.flags) == (5, 7)
    s.word = 0x89ABCDEF
    assert machine.mem32[RTC_SLOW + 4] & 0xFFFFFFFF == 0x89ABCDEF
    big = uctypes.struct(RTC_SLOW, desc, BIG_ENDIAN)
    big.be = 0x11223344
    assert machine.mem32[RTC_SLOW + 8] == 0x44332211
    assert uctypes.bytes_at(RTC_SLOW, 4) == b"\x05\x00\x07\x00"
    view = uctypes.bytearray_at(RTC_SLOW + 12, 4)
    view[0] = 0x5A
    assert machine.mem8[RTC_SLOW + 12] == 0x5A
    fast = uctypes.struct(RTC_FAST, {"x": 0 | UINT32})
    fast.x = 42
    assert machine.mem32[RTC_FAST] == 42


def test_struct_reads_the_ulps_variable(board, fixtures_dir):
    import esp32
    import time
    ulp = esp32.ULP()
    ulp.load_binary(0, (fixtures_dir / "ulp" / "counter.ulp").read_bytes())
    ulp.run(4)
    time.sleep_ms(100)
    s = uctypes.struct(RTC_SLOW, {"counter": 0 | UINT16}, LITTLE_ENDIAN)
    assert s.counter > 0 and s.counter == machine.mem32[RTC_SLOW] & 0xFFFF


def test_unmapped_addresses_panic(board):
    s = uctypes.struct(UNMAPPED, {"x": 0 | UINT32})
    with pytest.raises(esp32sim.Panic, match=r"LoadProhibited"):
        s.x
    with pytest.raises(esp32sim.Panic, match=r"StoreProhibited"):
        s.x = 1
    with pytest.raises(esp32sim.Panic, match=r"LoadProhibited"):
        uctypes.bytes_at(RTC_SLOW + 0x1FFE, 4)       # runs off the end of RTC slow memory
    with pytest.raises(esp32sim.Panic, match=r"StoreProhibited"):
        uctypes.struct(RTC_SLOW + 0x1FFE, {"x": 0 | UINT32}, LITTLE_ENDIAN).x = 1
    assert machine.mem16[RTC_SLOW + 0x1FFE] == 0     # nothing half-written


def test_native_layout_needs_alignment(board):
    s = uctypes.struct(RTC_SLOW, {"x": 1 | UINT16, "y": 1 | UINT8})
    assert s.y == 0
    with pytest.raises(esp32sim.Panic, match="LoadStoreAlignment"):
        s.x
    packed = uctypes.struct(RTC_SLOW, {"x": 1 | UINT16}, LITTLE_ENDIAN)
    packed.x = 0xBEEF                               # packed layouts may be unaligned
    assert machine.mem32[RTC_SLOW] == 0x00BEEF00


# ---- errors ----

def test_struct_errors():
    s, _ = over(bytes(4), {"a": 0 | UINT8})
    with pytest.raises(KeyError):
        s.missing
    with pytest.raises(TypeError, match="^struct: can't index$"):
        s[0]
    with pytest.raises(TypeError, match="^struct: no fields$"):
        uctypes.struct(0, (0 | ARRAY, 2 | UINT8)).a
    with pytest.raises(TypeError, match="function missing 1 required positional arguments"):
        uctypes.struct(0)
    with pytest.raises(TypeError, match="can't convert str to int"):
        uctypes.struct("0", {})
    with pytest.raises(TypeError, match="function takes 2 positional arguments but 1 were given"):
        uctypes.bytes_at(0)
    with pytest.raises(TypeError, match="^syntax error in uctypes descriptor$"):
        uctypes.struct(0, {"a": "no"}).a
    with pytest.raises(TypeError, match="^syntax error in uctypes descriptor$"):
        uctypes.struct(0, {"a": (0 | ARRAY,)}).a
    assert repr(uctypes.struct(0x1234, {})) == "<struct STRUCT 1234>"
    assert type(s).__name__ == "struct" and s.__class__ is uctypes.struct


# ---- board code ----

def test_import_in_board_code(run_board):
    main = (
        "import uctypes, machine\n"
        "s = uctypes.struct(0x50000000, {'counter': 0 | uctypes.UINT16}, uctypes.LITTLE_ENDIAN)\n"
        "machine.mem32[0x50000000] = 0x10203\n"
        "b = bytearray(4)\n"
        "t = uctypes.struct(uctypes.addressof(b), {'w': 0 | uctypes.UINT32})\n"
        "t.w = 0x01020304\n"
        "print('uctypes', hex(s.counter), b, uctypes.sizeof({'a': 0 | uctypes.UINT32, 'b': 4 | uctypes.UINT8}))\n"
    )
    result = run_board(main)
    assert result.code == 0, result
    assert "uctypes 0x203 bytearray(b'\\x04\\x03\\x02\\x01') 8" in result.out
