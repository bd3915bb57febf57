"""machine.Pin, machine.TouchPad and machine.ADC as MicroPython's ESP32 port
has them, on the simulated board's pads and sensors."""
import pytest

import esp32
import esp32sim
import machine
from machine import ADC, Pin, TouchPad

EXISTING = set(range(0, 24)) | {25, 26, 27} | set(range(32, 40))
INPUT_ONLY = set(range(34, 40))
RTC_PINS = {0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39}
TOUCH_GPIOS = [4, 0, 2, 15, 13, 12, 14, 27, 33, 32]          # T0..T9
ADC_GPIOS = {36, 37, 38, 39, 32, 33, 34, 35,                    # ADC1
             4, 0, 2, 15, 13, 12, 14, 27, 25, 26}               # ADC2
SLEEP, DEEPSLEEP = 2, 4                                         # machine.SLEEP / DEEPSLEEP


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, pin):
        self.calls.append(pin)


# ---- constants, the pin set, singletons ----

def test_pin_constants():
    assert (Pin.IN, Pin.OUT, Pin.OPEN_DRAIN) == (1, 3, 7)
    assert (Pin.PULL_UP, Pin.PULL_DOWN) == (2, 1)
    assert (Pin.IRQ_RISING, Pin.IRQ_FALLING, Pin.WAKE_LOW, Pin.WAKE_HIGH) == (1, 2, 4, 5)
    assert (Pin.DRIVE_0, Pin.DRIVE_1, Pin.DRIVE_2, Pin.DRIVE_3) == (0, 1, 2, 3)


def test_existing_pins(board):
    for n in range(40):
        if n in EXISTING:
            assert repr(Pin(n)) == "Pin(%d)" % n
        else:
            with pytest.raises(ValueError, match="^invalid pin$"):
                Pin(n)


@pytest.mark.parametrize("bad", [-1, 40, 24, 28, 31, True, "4", 4.0, None])
def test_not_a_pin(board, bad):
    with pytest.raises(ValueError, match="^invalid pin$"):
        Pin(bad)


def test_pin_id_beyond_machine_word(board):
    with pytest.raises(OverflowError, match="^overflow converting long int to machine word$"):
        Pin(2**40)


def test_pins_are_singletons(board):
    assert Pin(4) is Pin(4)
    assert Pin(Pin(4)) is Pin(4)
    assert Pin(4, Pin.OUT) is Pin(4)
    assert Pin(4) is not Pin(5)
    assert Pin(4).irq() is Pin(4).irq()


@pytest.mark.parametrize("gpio", sorted(INPUT_ONLY))
def test_input_only_pins_refuse_output(board, gpio):
    for mode in (Pin.OUT, Pin.OPEN_DRAIN, 2):
        with pytest.raises(ValueError, match="^pin can only be input$"):
            Pin(gpio, mode)
    assert Pin(gpio, Pin.IN).value() == 0


def test_input_only_pins_ignore_pulls_hold_and_writes(board):
    p = Pin(34, Pin.IN, Pin.PULL_UP, hold=True, drive=Pin.DRIVE_3)
    assert p.value() == 0          # no pull resistor: the wire floats
    p.value(1)
    p.on()
    p.toggle()
    assert p.value() == 0


# ---- modes, pulls, values ----

def test_output_reads_back_the_wire(board):
    p = Pin(4, Pin.OUT)
    assert p.value() == 0
    assert p.on() is None
    assert p.value() == 1 and p() == 1
    assert p.off() is None
    assert p.value() == 0
    assert p(1) is None and p() == 1
    assert p.value(0) is None and p.value() == 0
    p.value([1])                   # any true object
    assert p.value() == 1


def test_toggle_inverts_the_output_register(board):
    p = Pin(4, Pin.OUT, value=0)
    p.toggle()
    assert p.value() == 1
    p.toggle()
    assert p.value() == 0
    # in input mode the register still toggles, the wire follows the pull
    p.init(Pin.IN, Pin.PULL_DOWN)
    p.toggle()
    assert p.value() == 0
    p.init(Pin.OUT)
    assert p.value() == 1


def test_value_keyword_sets_the_output(board):
    assert Pin(4, Pin.OUT, value=1).value() == 1
    assert Pin(5, Pin.OUT, value=0).value() == 0
    assert Pin(5, Pin.OUT, value="yes").value() == 1


def test_pulls_and_floating_input(board):
    p = Pin(4, Pin.IN, Pin.PULL_UP)
    assert p.value() == 1
    p.init(Pin.IN)                 # pull=-1: the pull-up stays
    assert p.value() == 1
    p.init(pull=Pin.PULL_DOWN)
    assert p.value() == 0
    p.init(pull=Pin.PULL_UP)
    assert p.value() == 1
    p.init(pull=None)              # no pull: floating reads 0
    assert p.value() == 0
    p.init(pull=Pin.PULL_UP | Pin.PULL_DOWN)
    assert p.value() == 1          # the pull-up wins


def test_input_mode_writes_only_the_register(board):
    p = Pin(4, Pin.IN, Pin.PULL_DOWN)
    p.value(1)
    assert p.value() == 0          # not driven
    p.init(Pin.OUT)
    assert p.value() == 1          # the register was kept


def test_output_without_input_buffer_reads_zero(board):
    p = Pin(4, 2, value=1)         # GPIO_MODE_OUTPUT: driver on, input off
    assert p.value() == 0
    p.init(Pin.OUT)
    assert p.value() == 1


def test_open_drain(board):
    p = Pin(4, Pin.OPEN_DRAIN, Pin.PULL_UP, value=1)
    assert p.value() == 1          # released: the pull-up
    p.value(0)
    assert p.value() == 0          # driven low
    p.value(1)
    assert p.value() == 1
    q = Pin(5, Pin.OPEN_DRAIN, None, value=1)
    assert q.value() == 0          # released, nothing pulls: floating


def test_drive_strength_arguments(board):
    Pin(4, Pin.OUT, drive=Pin.DRIVE_3)
    Pin(4, Pin.OUT, drive=9)       # out of range: ignored, as the port does
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        Pin(4, Pin.OUT, drive="strong")


def test_pin_argument_errors(board):
    with pytest.raises(TypeError, match="^function missing 1 required positional arguments$"):
        Pin()
    with pytest.raises(TypeError, match="^extra positional arguments given$"):
        Pin(4, Pin.OUT, None, 1)
    with pytest.raises(TypeError, match="^extra keyword arguments given$"):
        Pin(4, Pin.OUT, speed=1)
    with pytest.raises(TypeError, match="^extra keyword arguments given$"):
        Pin(4, Pin.OUT, mode=Pin.IN)
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        Pin(4, "out")
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        Pin(4, Pin.IN, "up")
    p = Pin(4)
    with pytest.raises(TypeError, match="^function expected at most 2 arguments, got 3$"):
        p.value(1, 2)
    with pytest.raises(TypeError, match="^function expected at most 1 arguments, got 2$"):
        p(1, 2)
    with pytest.raises(TypeError, match="^function doesn't take keyword arguments$"):
        p.value(x=1)
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 2 were given$"):
        p.on(1)
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 2 were given$"):
        p.toggle(1)
    assert p.init() is None


# ---- hold ----

def test_held_pad_ignores_writes_until_released(board):
    p = Pin(4, Pin.OUT, value=1, hold=True)
    assert p.value() == 1
    p.value(0)
    p.off()
    assert p.value() == 1
    p.init(Pin.IN, Pin.PULL_DOWN)  # configuration changes wait too
    assert p.value() == 1
    p.init(hold=False)             # released: the registers apply
    assert p.value() == 0


def test_hold_is_released_before_the_new_settings_apply(board):
    p = Pin(4, Pin.OUT, value=1, hold=True)
    Pin(4, Pin.OUT, value=0, hold=True)
    assert p.value() == 0          # applied, then held again
    p.on()
    assert p.value() == 0


# ---- irq handlers ----

def test_irq_runs_handler_with_the_pin_on_edges(board):
    p = Pin(4, Pin.OUT, value=0)
    rec = Recorder()
    irq = p.irq(rec)
    assert irq is p.irq() and repr(irq) == "<IRQ>"
    assert irq.trigger() == Pin.IRQ_RISING | Pin.IRQ_FALLING
    p.on()
    assert rec.calls == [p] and rec.calls[0] is p
    p.off()
    assert len(rec.calls) == 2
    p.off()                        # no change, no edge
    p(1)
    p.value(0)
    p.toggle()
    assert len(rec.calls) == 5


def test_irq_trigger_filters_edges(board):
    p = Pin(4, Pin.OUT, value=0)
    rising, falling = Recorder(), Recorder()
    p.irq(rising, Pin.IRQ_RISING)
    p.on()
    p.off()
    assert len(rising.calls) == 1
    p.irq(handler=falling, trigger=Pin.IRQ_FALLING)
    p.on()
    p.off()
    assert len(falling.calls) == 1 and len(rising.calls) == 1


def test_irq_trigger_method(board):
    p = Pin(4, Pin.OUT, value=0)
    rec = Recorder()
    irq = p.irq(rec, Pin.IRQ_FALLING)
    assert irq.trigger(Pin.IRQ_RISING) == Pin.IRQ_FALLING
    assert irq.trigger() == Pin.IRQ_RISING
    assert irq.trigger(9) == Pin.IRQ_RISING   # refused by gpio_set_intr_type
    assert irq.trigger() == Pin.IRQ_RISING
    p.on()
    p.off()
    assert len(rec.calls) == 1
    irq.trigger(0)
    p.on()
    assert len(rec.calls) == 1


def test_irq_none_disables(board):
    p = Pin(4, Pin.OUT, value=0)
    rec = Recorder()
    p.irq(rec)
    p.irq(None)
    assert p.irq().trigger() == 0
    p.on()
    p.off()
    assert rec.calls == []


def test_irq_without_arguments_changes_nothing(board):
    p = Pin(4, Pin.OUT, value=0)
    rec = Recorder()
    p.irq(rec, Pin.IRQ_RISING)
    p.irq()
    p.on()
    assert len(rec.calls) == 1


def test_irq_object_call_runs_the_handler(board):
    p = Pin(4)
    rec = Recorder()
    p.irq(rec, Pin.IRQ_RISING)
    p.irq()()
    assert rec.calls == [p]
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        p.irq()(1)
    p.irq(None)
    p.irq()()                      # no handler: nothing runs
    assert len(rec.calls) == 1


def test_irq_on_an_input_edge_from_a_pull(board):
    p = Pin(4, Pin.IN, Pin.PULL_DOWN)
    rec = Recorder()
    p.irq(rec, Pin.IRQ_RISING)
    p.init(pull=Pin.PULL_UP)
    assert rec.calls == [p]


def test_value_is_set_before_the_mode(board):
    p = Pin(4, Pin.IN, Pin.PULL_UP)
    rec = Recorder()
    p.irq(rec, Pin.IRQ_FALLING)
    p.init(Pin.OUT, value=1)       # the register is 1 before the driver turns on
    assert rec.calls == [] and p.value() == 1
    p.init(Pin.IN)
    p.value(0)                     # register 0, the pull-up still holds the wire
    assert rec.calls == []
    p.init(Pin.OUT)                # now the driver pulls it low
    assert rec.calls == [p]


def test_irq_argument_errors(board):
    p = Pin(4)
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        p.irq(None, "rising")
    with pytest.raises(TypeError, match="^extra keyword arguments given$"):
        p.irq(Recorder(), hard=True)
    with pytest.raises(TypeError, match="^extra positional arguments given$"):
        p.irq(None, 3, None, 1)


def test_handler_exception_is_printed_and_dropped(board, capsys):
    def handler(pin):
        raise ValueError("boom")

    p = Pin(4, Pin.OUT, value=0)
    p.irq(handler)
    p.on()                         # does not raise
    out = capsys.readouterr().out
    assert out.startswith("Traceback (most recent call last):\n")
    assert ", in handler\n" in out
    assert out.endswith("ValueError: boom\n")
    p.irq(42)
    p.off()
    assert capsys.readouterr().out.endswith("TypeError: 'int' object isn't callable\n")


def test_handler_reset_propagates(board):
    p = Pin(4, Pin.OUT, value=0)
    p.irq(lambda pin: machine.reset())
    boots = board.boot_count
    with pytest.raises(esp32sim.Reset):
        p.on()
    assert board.boot_count == boots + 1


def test_handler_chain_and_self_retrigger(board):
    a, b = Pin(4, Pin.OUT, value=0), Pin(5, Pin.OUT, value=0)
    seen = []
    a.irq(lambda pin: (seen.append("a"), b.toggle()))
    b.irq(lambda pin: seen.append("b"))
    a.on()
    assert seen == ["a", "b"]      # b's edge is served in the same check

    loops = []

    def again(pin):
        loops.append(pin)
        pin.toggle()               # re-triggers itself

    c = Pin(12, Pin.OUT, value=0)
    c.irq(again)
    c.on()
    assert len(loops) == 1         # once per check: the program goes on
    c.value(c.value())             # no change, but a new check serves the edge
    assert len(loops) == 2


def test_edges_before_the_handler_are_not_served(board):
    a, b = Pin(4, Pin.OUT, value=0), Pin(5, Pin.OUT, value=0)
    rec = Recorder()

    def handler(pin):
        b.on()                     # an edge on b while b has no interrupt on
        b.irq(rec, Pin.IRQ_RISING)

    a.irq(handler, Pin.IRQ_RISING)
    a.on()
    assert rec.calls == []         # the edge was never latched
    b.off()
    b.on()
    assert rec.calls == [b]


def test_handlers_belong_to_one_boot_of_one_board(board):
    p = Pin(4, Pin.OUT, value=0)
    rec = Recorder()
    p.irq(rec)
    board.reset()
    assert p.irq().trigger() == 0
    p.init(Pin.OUT)
    p.on()
    assert rec.calls == []

    p.irq(rec)
    with esp32sim.Device() as other:
        other.use()
        Pin(4, Pin.OUT).on()
        assert rec.calls == []
    board.use()
    p.init(Pin.OUT, value=0)
    p.on()
    assert rec.calls == []         # the other board's turn forgot it


# ---- irq wake= (ext0) ----

def test_wake_value_checked_first(board):
    p = Pin(5)                     # not an RTC pin, but the value comes first
    for bad in (0, 1, 8, -1, "x", 2.0):
        with pytest.raises(ValueError, match="^bad wake value$"):
            p.irq(trigger=Pin.WAKE_LOW, wake=bad)


def test_wake_needs_an_rtc_pin(board):
    for n in sorted(EXISTING):
        if n in RTC_PINS:
            continue
        with pytest.raises(ValueError, match="^invalid pin for wake$"):
            Pin(n).irq(trigger=Pin.WAKE_HIGH, wake=DEEPSLEEP)


def test_one_ext0_pin(board):
    Pin(4).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)
    Pin(4).irq(trigger=Pin.WAKE_HIGH, wake=SLEEP | DEEPSLEEP)   # same pin: fine
    with pytest.raises(ValueError, match="^no resources$"):
        Pin(2).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)
    Pin(4).irq(Recorder())         # a normal irq on the ext0 pin clears ext0
    Pin(2).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)
    Pin(4).irq(None)               # not the ext0 pin: ext0 stays
    with pytest.raises(ValueError, match="^no resources$"):
        Pin(4).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)


def test_wake_irq_leaves_the_handler(board):
    p = Pin(4, Pin.OUT, value=0)
    rec, other = Recorder(), Recorder()
    p.irq(rec)
    p.irq(other, Pin.WAKE_HIGH, DEEPSLEEP)
    assert p.irq().trigger() == Pin.IRQ_RISING | Pin.IRQ_FALLING
    p.on()
    assert rec.calls == [p] and other.calls == []


def test_wake_none_is_a_normal_irq(board):
    Pin(4).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)
    Pin(4).irq(Recorder(), Pin.WAKE_LOW, None)   # clears ext0
    Pin(2).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)


def test_ext0_belongs_to_the_board(board):
    Pin(4).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)
    with esp32sim.Device() as other:
        other.use()
        Pin(2).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)
    board.use()
    with pytest.raises(ValueError, match="^no resources$"):
        Pin(2).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)


def test_wake_refused_while_touch_wakes(board):
    esp32.wake_on_touch(True)
    with pytest.raises(ValueError, match="^no resources$"):
        Pin(4).irq(trigger=Pin.WAKE_LOW, wake=DEEPSLEEP)


# ---- TouchPad ----

def test_touch_pads(board):
    pads = [TouchPad(Pin(g)) for g in TOUCH_GPIOS]
    assert len(set(map(id, pads))) == 10
    for g, pad in zip(TOUCH_GPIOS, pads):
        assert TouchPad(g) is pad
        assert pad.read() == 1200  # nobody touches it
        assert repr(pad) == "<TouchPad>"


def test_touchpad_errors(board):
    for n in sorted(EXISTING - set(TOUCH_GPIOS)):
        with pytest.raises(ValueError, match="^invalid pin for touchpad$"):
            TouchPad(Pin(n))
    with pytest.raises(ValueError, match="^invalid pin$"):
        TouchPad(24)
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 0 were given$"):
        TouchPad()
    pad = TouchPad(Pin(4))
    assert pad.config(500) is None
    assert pad.config(-1) is None  # stored as a uint16
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        pad.config("high")
    with pytest.raises(TypeError, match="^function takes 2 positional arguments but 1 were given$"):
        pad.config()
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 2 were given$"):
        pad.read(1)


def test_touchpad_takes_the_pad_from_the_digital_side(board):
    p = Pin(4, Pin.IN, Pin.PULL_UP)
    assert p.value() == 1
    TouchPad(p)
    assert p.value() == 0          # input buffer and pulls off
    p.init(Pin.IN)
    assert p.value() == 0          # the pull-up is gone
    p.init(Pin.IN, Pin.PULL_UP)
    assert p.value() == 1


# ---- ADC ----

def test_adc_constants():
    assert (ADC.ATTN_0DB, ADC.ATTN_2_5DB, ADC.ATTN_6DB, ADC.ATTN_11DB) == (0, 1, 2, 3)
    assert (ADC.WIDTH_9BIT, ADC.WIDTH_10BIT, ADC.WIDTH_11BIT, ADC.WIDTH_12BIT) == (9, 10, 11, 12)


def test_adc_pins_read_zero_at_0v(board):
    for g in sorted(ADC_GPIOS):
        a = ADC(Pin(g))
        assert ADC(g) is a
        assert repr(a) == "ADC(Pin(%d), atten=0)" % g
        assert (a.read(), a.read_u16(), a.read_uv()) == (0, 0, 0)


def test_adc_errors(board):
    for n in sorted(EXISTING - ADC_GPIOS):
        with pytest.raises(ValueError, match="^invalid pin$"):
            ADC(Pin(n))
    with pytest.raises(ValueError, match="^invalid pin$"):
        ADC(30)
    with pytest.raises(TypeError, match="^function missing 1 required positional arguments$"):
        ADC()
    with pytest.raises(TypeError, match="^extra positional arguments given$"):
        ADC(Pin(36), ADC.ATTN_11DB)
    with pytest.raises(TypeError, match="^extra keyword arguments given$"):
        ADC(Pin(36), bits=12)
    a = ADC(Pin(36))
    for bad in (-1, 4, 12):
        with pytest.raises(ValueError, match="^invalid atten$"):
            a.atten(bad)
    with pytest.raises(ValueError, match="^invalid atten$"):
        ADC(Pin(36), atten=7)
    for bad in (8, 13, 16):
        with pytest.raises(ValueError, match="^invalid bits$"):
            a.width(bad)
    with pytest.raises(TypeError, match="^can't convert NoneType to int$"):
        a.init(atten=None)


def test_adc_attenuation_is_kept(board):
    a = ADC(Pin(34), atten=ADC.ATTN_11DB)
    assert repr(a) == "ADC(Pin(34), atten=3)"
    assert repr(ADC(Pin(34))) == "ADC(Pin(34), atten=3)"      # no atten: kept
    assert a.atten(ADC.ATTN_6DB) is None
    assert repr(a) == "ADC(Pin(34), atten=2)"
    a.init(atten=ADC.ATTN_2_5DB)
    assert repr(a) == "ADC(Pin(34), atten=1)"
    a.init()
    assert repr(a) == "ADC(Pin(34), atten=1)"
    assert a.width(ADC.WIDTH_9BIT) is None
    assert (a.read(), a.read_u16(), a.read_uv()) == (0, 0, 0)


def test_adc_takes_the_pad_from_the_digital_side(board):
    p = Pin(32, Pin.IN, Pin.PULL_UP)
    assert p.value() == 1
    ADC(p)
    assert p.value() == 0
    p.init(Pin.IN, Pin.PULL_UP)
    assert p.value() == 1
