"""machine.bitstream and the neopixel module as MicroPython's ESP32 port
(up to v1.26) and micropython-lib have them, on the board's virtual clock.

The pin record (Device.pin_changes) shows microseconds; the exact edges in
picoseconds are checked by the core's test_bitstream."""
import pytest

import esp32
import esp32sim
import machine
import neopixel
from machine import Pin, bitstream
from neopixel import NeoPixel

PIN = 5
WS2812 = (400, 850, 800, 450)        # NeoPixel timing 1 (800 kHz), ns
WS2812_SLOW = (800, 1700, 1600, 900)  # timing 0 (400 kHz)


def bits_of(data):
    return [b >> (7 - i) & 1 for b in data for i in range(8)]


def changes_since(board, count):
    return board.pin_changes(PIN)[count:]


def send(board, data, timing=WS2812, pin=PIN):
    """bitstream on `pin`; the pin's changes it made and the time it took."""
    before = len(board.pin_changes(pin))
    start = board.world_time_us
    bitstream(Pin(pin), 0, timing, data)
    return start, board.pin_changes(pin)[before:], board.world_time_us - start


def expected_edges(start, data, high_ns, bit_ns):
    """(t_us, level) of each rise and fall when every bit lasts bit_ns and a
    b bit is high for high_ns[b], from start_us, in whole microseconds."""
    edges = []
    for k, bit in enumerate(bits_of(data)):
        edges.append((start + k * bit_ns // 1000, 1))
        edges.append((start + (k * bit_ns + high_ns[bit]) // 1000, 0))
    return edges


# ---- arguments ----

def test_bitstream_argument_count(board):
    with pytest.raises(TypeError, match="^function takes 4 positional arguments but 3 were given$"):
        bitstream(Pin(PIN), 0, WS2812)
    with pytest.raises(TypeError, match="^function takes 4 positional arguments but 5 were given$"):
        bitstream(Pin(PIN), 0, WS2812, b"\x00", 1)
    with pytest.raises(TypeError, match="^function doesn't take keyword arguments$"):
        bitstream(Pin(PIN), 0, WS2812, data=b"\x00")


@pytest.mark.parametrize("bad", [24, 40, -1, True, "5", None])
def test_bitstream_pin(board, bad):
    with pytest.raises(ValueError, match="^invalid pin$"):
        bitstream(bad, 0, WS2812, b"\x00")


def test_bitstream_encoding(board):
    with pytest.raises(ValueError, match="^encoding$"):
        bitstream(PIN, 1, WS2812, b"\x00")
    with pytest.raises(ValueError, match="^encoding$"):
        bitstream(PIN, True, WS2812, b"\x00")
    with pytest.raises(TypeError, match="^can't convert float to int$"):
        bitstream(PIN, 0.0, WS2812, b"\x00")
    # the data is taken before the encoding is looked at, the timing after
    with pytest.raises(TypeError, match="^object with buffer protocol required$"):
        bitstream(PIN, 1, WS2812, 5)
    with pytest.raises(ValueError, match="^encoding$"):
        bitstream(PIN, 1, "not a timing", b"\x00")


def test_bitstream_timing_errors(board):
    with pytest.raises(TypeError, match="^object 'int' isn't a tuple or list$"):
        bitstream(PIN, 0, 400, b"\x00")
    with pytest.raises(TypeError, match="^object 'range' isn't a tuple or list$"):
        bitstream(PIN, 0, range(4), b"\x00")
    with pytest.raises(TypeError, match="^object 'bytes' isn't a tuple or list$"):
        bitstream(PIN, 0, b"\x01\x02\x03\x04", b"\x00")
    with pytest.raises(ValueError, match="^requested length 4 but object has length 3$"):
        bitstream(PIN, 0, (400, 850, 800), b"\x00")
    with pytest.raises(ValueError, match="^requested length 4 but object has length 5$"):
        bitstream(PIN, 0, [1, 2, 3, 4, 5], b"\x00")
    with pytest.raises(TypeError, match="^can't convert float to int$"):
        bitstream(PIN, 0, (400, 850.0, 800, 450), b"\x00")
    with pytest.raises(OverflowError, match="^overflow converting long int to machine word$"):
        bitstream(PIN, 0, (400, 2**40, 800, 450), b"\x00")


@pytest.mark.parametrize("bad", [None, 5, 1.5, [1, 2], object()])
def test_bitstream_data_needs_a_buffer(board, bad):
    with pytest.raises(TypeError, match="^object with buffer protocol required$"):
        bitstream(PIN, 0, WS2812, bad)


# ---- the default path: the RMT's bitstream channel at 40 MHz ----

def test_bitstream_edges(board):
    Pin(PIN, Pin.OUT)
    data = b"\xff\x00\xa5"
    start, edges, took = send(board, data)
    # 1 bits: 32 ticks high, 18 low; 0 bits: 16 high, 34 low; 50 ticks of
    # 25 ns = 1.25 us a bit
    assert [(t, level) for t, _, level in edges] == expected_edges(start, data, (400, 800), 1250)
    assert took == 30
    assert board.pin_level(PIN) == 0


def test_bitstream_list_timing_and_buffers(board):
    Pin(PIN, Pin.OUT)
    for data in (bytearray(b"\x80\x01"), memoryview(b"\x80\x01"), [b"\x80\x01"][0]):
        start, edges, took = send(board, data, timing=list(WS2812))
        assert len(edges) == 32 and took == 20
        assert [(t, level) for t, _, level in edges] == expected_edges(start, bytes(data), (400, 800), 1250)


def test_bitstream_str_is_utf8(board):
    Pin(PIN, Pin.OUT)
    start, edges, took = send(board, "\u00e9")          # two bytes, c3 a9
    assert [(t, level) for t, _, level in edges] == expected_edges(start, b"\xc3\xa9", (400, 800), 1250)
    assert took == 20


def test_bitstream_ticks_truncated(board):
    Pin(PIN, Pin.OUT)
    # ticks are truncated: 1010 + 2000 ns -> 40 + 80 ticks, 2040 + 999 ns ->
    # 81 + 39 ticks: both bits last 120 ticks, 3 us
    start, edges, took = send(board, b"\x0f", timing=(1010, 2000, 2040, 999))
    assert took == 24
    assert [t for t, _, level in edges if level == 1] == [start + 3 * k for k in range(8)]


def test_bitstream_slow_timing(board):
    Pin(PIN, Pin.OUT)
    start, edges, took = send(board, b"\x3c", timing=WS2812_SLOW)
    assert took == 20                                  # 8 bits of 2.5 us
    assert [(t, level) for t, _, level in edges] == expected_edges(start, b"\x3c", (800, 1600), 2500)


def test_bitstream_nothing_to_send(board):
    Pin(PIN, Pin.OUT)
    start, edges, took = send(board, b"")
    assert edges == [] and took == 0


def test_bitstream_input_only_pin(board):
    with pytest.raises(OSError) as info:
        bitstream(Pin(36), 0, WS2812, b"\xff")
    assert info.value.args == (-258, "ESP_ERR_INVALID_ARG")


def test_bitstream_time_limit(board):
    Pin(PIN, Pin.OUT)
    board.time_limit_us = board.world_time_us + 100
    with pytest.raises(esp32sim.TimeLimit):
        bitstream(Pin(PIN), 0, WS2812, bytes(100))     # 1 ms of bits
    assert board.world_time_us == board.time_limit_us


def test_bitstream_other_pins_untouched(board):
    Pin(4, Pin.OUT, value=1)
    Pin(PIN, Pin.OUT)
    before = len(board.pin_changes(4))
    send(board, b"\xff\xff")
    assert len(board.pin_changes(4)) == before and board.pin_level(4) == 1


# ---- CPU bit-banging (esp32.RMT.bitstream_channel(None)) ----

@pytest.fixture
def bitbang(board):
    if not hasattr(esp32, "RMT"):
        pytest.skip("esp32.RMT is not built in")
    esp32.RMT.bitstream_channel(None)
    yield board
    esp32.RMT.bitstream_channel(7)


def test_bitbang_edges(bitbang):
    Pin(PIN, Pin.OUT)
    data = b"\x80\xff"
    # 160 MHz: 0 bits 58 cycles high, 1 bits 122, every bit 188 cycles
    # (the loop takes 6 cycles off each time), 1.175 us
    start, edges, took = send(bitbang, data)
    assert [(t, level) for t, _, level in edges] == expected_edges(start, data, (362.5, 762.5), 1175)
    assert took == 19                                  # 18.8 us rounded up


def test_bitbang_follows_cpu_clock(bitbang):
    Pin(PIN, Pin.OUT)
    machine.freq(240_000_000)
    start, edges, took = send(bitbang, b"\x00" * 5)     # 288 cycles a bit: 1.2 us
    assert took == 48
    assert [t for t, _, level in edges if level == 1] == [start + k * 1200 // 1000 for k in range(40)]
    machine.freq(80_000_000)
    start, edges, took = send(bitbang, b"\x00" * 5)     # 26 + 62 cycles: 1.1 us
    assert took == 44


def test_bitbang_needs_an_output(bitbang):
    # Pin.IN: the output register moves, the pad does not, the time passes
    Pin(PIN, Pin.IN)
    start, edges, took = send(bitbang, b"\xff" * 4)
    assert edges == [] and took == 38                  # 32 * 1.175 us


def test_bitstream_channel_back_to_rmt(bitbang):
    Pin(PIN, Pin.OUT)
    esp32.RMT.bitstream_channel(7)
    start, edges, took = send(bitbang, b"\x00")
    assert took == 10                                  # 8 * 1.25 us


# ---- neopixel ----

def test_neopixel_module():
    assert neopixel.NeoPixel is NeoPixel
    assert neopixel.bitstream is machine.bitstream     # `from machine import bitstream`
    assert NeoPixel.ORDER == (1, 0, 2, 3)


def test_neopixel_init(board):
    assert board.pin_level(PIN) is None                # an input at reset
    np = NeoPixel(Pin(PIN), 4)
    assert board.pin_level(PIN) == 0                   # pin.init(pin.OUT)
    assert np.pin is Pin(PIN) and np.n == 4 and np.bpp == 3 and len(np) == 4
    assert np.buf == bytearray(12) and type(np.buf) is bytearray
    assert np.timing == WS2812
    assert NeoPixel(Pin(PIN), 2, 4).buf == bytearray(8)
    assert NeoPixel(Pin(PIN), 2, timing=0).timing == WS2812_SLOW
    assert NeoPixel(Pin(PIN), 2, timing=True).timing == WS2812
    user = [300, 900, 600, 600]
    assert NeoPixel(Pin(PIN), 2, timing=user).timing is user
    assert NeoPixel(pin=Pin(PIN), n=1, bpp=4, timing=0).buf == bytearray(4)


def test_neopixel_argument_errors(board):
    with pytest.raises(TypeError, match="^function takes 3 positional arguments but 2 were given$"):
        NeoPixel(Pin(PIN))
    with pytest.raises(TypeError, match="^function takes 5 positional arguments but 6 were given$"):
        NeoPixel(Pin(PIN), 1, 3, 1, 0)
    with pytest.raises(TypeError, match="^function missing required positional argument #2$"):
        NeoPixel(pin=Pin(PIN))
    with pytest.raises(TypeError, match="^function missing required positional argument #1$"):
        NeoPixel(n=3)
    with pytest.raises(TypeError, match="^unexpected keyword argument 'brightness'$"):
        NeoPixel(Pin(PIN), 3, brightness=0.5)
    with pytest.raises(TypeError, match="^function got multiple values for argument 'n'$"):
        NeoPixel(Pin(PIN), 3, n=3)
    with pytest.raises(AttributeError):
        NeoPixel(PIN, 3)                               # pin.init needs a Pin
    np = NeoPixel(Pin(PIN), 1)
    with pytest.raises(TypeError, match="^function takes 2 positional arguments but 1 were given$"):
        np.fill()
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 2 were given$"):
        np.write(1)


def test_neopixel_grb_order(board):
    np = NeoPixel(Pin(PIN), 3)
    np[0] = (10, 20, 30)
    np[2] = (1, 2, 3)
    assert np.buf == bytearray([20, 10, 30, 0, 0, 0, 2, 1, 3])
    assert np[0] == (10, 20, 30) and np[1] == (0, 0, 0) and np[2] == (1, 2, 3)
    assert type(np[0]) is tuple
    np[-1] = [4, 5, 6]                                 # any indexable colour, negative pixels
    assert np[2] == (4, 5, 6) and np.buf[6:] == bytearray([5, 4, 6])
    assert list(np) == [(10, 20, 30), (0, 0, 0), (4, 5, 6)]


def test_neopixel_four_bytes(board):
    np = NeoPixel(Pin(PIN), 2, bpp=4)
    np[1] = (1, 2, 3, 4)
    assert np.buf == bytearray([0, 0, 0, 0, 2, 1, 3, 4])
    assert np[1] == (1, 2, 3, 4)
    np.fill((9, 8, 7, 6))
    assert np.buf == bytearray([8, 9, 7, 6] * 2)


def test_neopixel_values_as_micropython_stores_them(board):
    np = NeoPixel(Pin(PIN), 2)
    np[0] = (256, -1, 0x1234)                          # a bytearray keeps the low byte
    assert np[0] == (0, 255, 0x34)
    np[1] = (True, False, 2**70 + 7)
    assert np[1] == (1, 0, 7)
    with pytest.raises(TypeError, match="^can't convert float to int$"):
        np[0] = (1.5, 0, 0)
    with pytest.raises(IndexError, match="^bytearray index out of range$"):
        np[2] = (1, 2, 3)
    with pytest.raises(IndexError, match="^bytearray index out of range$"):
        np[-3]
    with pytest.raises(IndexError):
        np[0] = (1, 2)                                 # v[2] does not exist
    assert np[0][:2] == (1, 2)                         # written before v[2] failed
    with pytest.raises(TypeError, match="^'NeoPixel' object doesn't support item deletion$"):
        del np[0]


def test_neopixel_fill(board):
    np = NeoPixel(Pin(PIN), 3)
    np.fill((255, 128, 64))
    assert np.buf == bytearray([128, 255, 64] * 3)
    np.fill((1, 2, 3, 4))                              # extra components are ignored
    assert np.buf == bytearray([2, 1, 3] * 3)
    with pytest.raises(IndexError):
        np.fill((1, 2))
    NeoPixel(Pin(PIN), 0).fill((1, 2, 3))              # no pixels: nothing to do


def test_neopixel_subclass_order(board):
    class APA106(NeoPixel):
        ORDER = (0, 1, 2, 3)

    np = APA106(Pin(PIN), 2)
    np[0] = (1, 2, 3)
    assert np.buf == bytearray([1, 2, 3, 0, 0, 0])
    assert isinstance(np, NeoPixel) and np[0] == (1, 2, 3)


def test_neopixel_attributes_are_plain(board):
    np = NeoPixel(Pin(PIN), 2)
    np.buf = bytearray(b"\x01\x02\x03\x04\x05\x06")
    assert np[1] == (5, 4, 6)
    np.extra = "kept"
    assert np.extra == "kept"


def test_neopixel_write(board):
    np = NeoPixel(Pin(PIN), 3)
    np[0] = (255, 0, 0)
    np[1] = (0, 255, 0)
    np[2] = (0, 0, 255)
    before = len(board.pin_changes(PIN))
    start = board.world_time_us
    np.write()
    edges = changes_since(board, before)
    assert len(edges) == 3 * 24 * 2
    assert board.world_time_us - start == 90            # 72 bits of 1.25 us
    assert [(t, level) for t, _, level in edges] == expected_edges(start, bytes(np.buf), (400, 800), 1250)
    assert board.pin_level(PIN) == 0


def test_neopixel_write_400khz(board):
    np = NeoPixel(Pin(PIN), 2, timing=0)
    start = board.world_time_us
    np.write()
    assert board.world_time_us - start == 120           # 48 bits of 2.5 us


def test_neopixel_write_uses_module_bitstream(board, monkeypatch):
    calls = []
    monkeypatch.setattr(neopixel, "bitstream", lambda *args: calls.append(args))
    np = NeoPixel(Pin(PIN), 1, timing=(1, 2, 3, 4))
    np.write()
    assert calls == [(Pin(PIN), 0, (1, 2, 3, 4), np.buf)]
    assert calls[0][3] is np.buf


def test_neopixel_in_board_code(run_board):
    main = (
        "import machine, neopixel\n"
        "np = neopixel.NeoPixel(machine.Pin(5), 2)\n"
        "np.fill((1, 2, 3))\n"
        "t = __import__('time').ticks_us()\n"
        "np.write()\n"
        "print(np.buf, np[1], __import__('time').ticks_diff(__import__('time').ticks_us(), t) >= 60)\n"
    )
    result = run_board(main)
    assert result.code == 0, result
    assert "bytearray(b'\\x02\\x01\\x03\\x02\\x01\\x03') (1, 2, 3) True" in result.out
