"""RMT and NeoPixel waveforms as users see them: our VCD, decoded by
sigrok-cli's own protocol decoders (ir_nec, rgb_led_ws281x), and the IR
carrier measured edge by edge."""
import subprocess

from conftest import script
from test_wave_cli import read_vcd

NEC = """\
import esp32, machine, time

def nec_pulses(address, command):
    bits = []
    for byte in (address, address ^ 0xFF, command, command ^ 0xFF):
        bits += [(byte >> i) & 1 for i in range(8)]
    pulses = [9000, 4500]
    for b in bits:
        pulses += [562, 1687 if b else 562]
    return pulses + [562]

pulses = nec_pulses(0x04, 0x08)
if MODULATED:
    # the IR LED's drive: the 38 kHz carrier, 33 % duty, on the marks
    tx = esp32.RMT(1, pin=machine.Pin(5), clock_div=80, tx_carrier=(38000, 33, 1))
    tx.write_pulses(pulses, 1)
else:
    # what the IR receiver outputs: the demodulated frame, active low
    tx = esp32.RMT(0, pin=machine.Pin(4), clock_div=80, idle_level=True)
    time.sleep_ms(20)
    tx.write_pulses(pulses, 0)
print("sent", tx.wait_done(timeout=200))
time.sleep_ms(20)
"""

NEOPIXEL = """\
import machine, neopixel, time
np = neopixel.NeoPixel(machine.Pin(18), 4)
np[0] = (255, 0, 0)
np[1] = (0, 255, 0)
np[2] = (0, 0, 255)
np[3] = (0x12, 0x34, 0x56)
time.sleep_ms(1)
np.write()
time.sleep_ms(1)
"""


def vcd_of(sim, tmp_path, source, name):
    app = script(tmp_path, source, name + ".py")
    vcd = tmp_path / (name + ".vcd")
    r = sim("run", "--flash", tmp_path / "f.bin", "--vcd", vcd, app)
    assert r.returncode == 0, r
    return vcd


def decode(vcd, decoder, channel, rows):
    out = subprocess.run(["sigrok-cli", "-I", "vcd", "-i", str(vcd), "-P", "%s:%s" % (decoder, channel),
                          "-A", "%s=%s" % (decoder, rows)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [line.split(": ", 1)[1] for line in out.stdout.splitlines()]


def test_nec_frame_decodes_with_sigroks_ir_nec(sim, tmp_path):
    vcd = vcd_of(sim, tmp_path, "MODULATED = False\n" + NEC, "nec")
    fields = decode(vcd, "ir_nec", "ir=gpio4", "fields")
    assert fields == ["Leader code", "Address: 0x04", "Address#: 0xFB", "Command: 0x08", "Command#: 0xF7"]


def test_ir_carrier_period_and_duty(sim, tmp_path):
    vcd = vcd_of(sim, tmp_path, "MODULATED = True\n" + NEC, "carrier")
    _, changes, _ = read_vcd(vcd.read_text())
    edges = [(t, v) for t, v in changes["gpio5"] if v in "01"]
    rises = [t for t, v in edges if v == "1"]
    # the leader mark (9 ms) is 342 whole carrier periods of 80 MHz / 38 kHz
    # = 2105 source cycles (26.3125 µs), high for 2105 * 33 // 100 = 694
    # cycles (8.675 µs)
    first = rises[:342]
    periods = {b - a for a, b in zip(first, first[1:])}
    assert periods == {2105 * 12_500}
    falls = [t for t, v in edges if v == "0"]
    highs = {f - r for r, f in zip(first, falls[:342])}
    assert highs == {694 * 12_500}
    # the mark ends 1.125 µs into its 343rd period (the data, not the
    # carrier, ends it); the 4.5 ms space carries no carrier
    assert falls[342] - rises[342] == 90 * 12_500
    assert rises[343] - falls[342] == 4_500_000_000


def test_neopixel_frame_decodes_with_sigroks_ws281x(sim, tmp_path):
    vcd = vcd_of(sim, tmp_path, NEOPIXEL, "np")
    colours = decode(vcd, "rgb_led_ws281x", "din=gpio18", "rgb")
    assert colours == ["#ff0000", "#00ff00", "#0000ff", "#123456"]


def test_neopixel_bits_are_40_mhz_ticks(sim, tmp_path):
    vcd = vcd_of(sim, tmp_path, NEOPIXEL, "np")
    _, changes, _ = read_vcd(vcd.read_text())
    edges = [(t, v) for t, v in changes["gpio18"] if v in "01"]
    highs = sorted({b[0] - a[0] for a, b in zip(edges, edges[1:]) if a[1] == "1"})
    # timing 1: (400, 850, 800, 450) ns -> 16/34/32/18 ticks of 25 ns
    assert highs == [400_000, 800_000]
    assert edges[0] == (290_000_000_000, "0")   # Pin.init(OUT) at the end of the boot
    assert len(edges) == 1 + 4 * 24 * 2            # then each bit rises and falls
