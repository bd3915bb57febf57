"""esp32sim run --vcd and esp32sim wave plot: the pins a script drives, as a
VCD file other tools read, and as a timing diagram (docs/vcd.md)."""
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import script

TOGGLE = """\
import time
from machine import Pin
p = Pin(18, Pin.OUT, value=0)
q = Pin(19, Pin.OUT)
for i in range(3):
    p.value(1)
    time.sleep_us(100)
    p.value(0)
    q.value(i % 2)
    time.sleep_us(150)
Pin(18, Pin.IN)
print("done")
"""

UNITS_PS = {"s": 10**12, "ms": 10**9, "us": 10**6, "ns": 10**3, "ps": 1}


def read_vcd(text):
    """A small reader for the VCD we write: (unit in ps, {name: [(t_ps, v)]}, end_ps)."""
    scale = re.search(r"\$timescale (1|10|100) (s|ms|us|ns|ps) \$end", text)
    assert scale, text
    unit = int(scale.group(1)) * UNITS_PS[scale.group(2)]
    names = dict(re.findall(r"\$var wire 1 (\S) (\S+) \$end", text))
    body = text.split("$enddefinitions $end\n", 1)[1]
    changes = {name: [] for name in names.values()}
    t = None
    times = []
    for line in body.splitlines():
        if line.startswith("#"):
            t = int(line[1:]) * unit
            times.append(t)
        elif line in ("$dumpvars", "$end"):
            continue
        else:
            assert line[0] in "01z" and line[1:] in names, line
            changes[names[line[1:]]].append((t, line[0]))
    assert times == sorted(times) and len(set(times)) == len(times), times
    return unit, changes, times[-1]


def run_toggle(sim, tmp_path, *extra):
    app = script(tmp_path, TOGGLE)
    vcd = tmp_path / "out.vcd"
    r = sim("run", "--flash", tmp_path / "f.bin", "--vcd", vcd, *extra, app)
    assert (r.returncode, r.stdout, r.stderr) == (0, "done\n", ""), r
    return vcd


@pytest.fixture
def toggled(sim, tmp_path):
    return run_toggle(sim, tmp_path)


# ---- run --vcd -------------------------------------------------------------

def test_run_vcd_header(toggled):
    text = toggled.read_text()
    assert text.startswith("$date\n\t")
    assert "$version\n\tesp32sim 0.1.0\n$end\n" in text
    header = text[text.index("$timescale"):text.index("#0\n")]
    assert re.fullmatch(
        r"\$timescale (1|10|100) (s|ms|us|ns|ps) \$end\n"
        r"\$scope module board \$end\n"
        r"\$var wire 1 ! gpio18 \$end\n"
        r"\$var wire 1 \" gpio19 \$end\n"
        r"\$upscope \$end\n"
        r"\$enddefinitions \$end\n", header), header
    # both pins float until the script configures them
    assert "#0\n$dumpvars\nz!\nz\"\n$end\n" in text


def test_run_vcd_changes_follow_the_virtual_clock(toggled):
    unit, changes, end = read_vcd(toggled.read_text())
    t0 = changes["gpio18"][1][0]                 # the script starts after the boot
    assert t0 > 0
    us = 10**6
    assert changes["gpio18"] == [(0, "z"), (t0, "1"), (t0 + 100 * us, "0"), (t0 + 250 * us, "1"),
                                 (t0 + 350 * us, "0"), (t0 + 500 * us, "1"), (t0 + 600 * us, "0"),
                                 (t0 + 750 * us, "z")]
    assert changes["gpio19"] == [(0, "z"), (t0, "0"), (t0 + 350 * us, "1"), (t0 + 600 * us, "0")]
    assert end == t0 + 750 * us
    # the coarsest exact unit: every time is a multiple of it, not of ten times it
    times = [t for c in changes.values() for t, _ in c] + [end]
    assert all(t % unit == 0 for t in times)
    assert unit == 10**14 or any(t % (unit * 10) for t in times)


def test_run_vcd_spans_resets(sim, tmp_path):
    app = script(tmp_path, "import machine, time\n"
                           "machine.Pin(5, machine.Pin.OUT, value=1)\n"
                           "time.sleep_ms(10)\n"
                           "machine.reset()\n")
    vcd = tmp_path / "reset.vcd"
    r = sim("run", "--flash", tmp_path / "f.bin", "--vcd", vcd, app)
    assert r.returncode == 0, r
    _, changes, end = read_vcd(vcd.read_text())
    (_, start), (t_high, high), (t_reset, released) = changes["gpio5"]
    assert (start, high, released) == ("z", "1", "z")     # a reset returns the pad to input
    assert t_reset - t_high == 10 * 10**9
    assert end > t_reset + 100 * 10**9                    # the second boot is in the record


def test_run_vcd_option_errors(sim, tmp_path):
    app = script(tmp_path, "print('x')\n")
    r = sim("run", "--flash", tmp_path / "f.bin", "--vcd")
    assert r.returncode == 2 and "'--vcd' needs a value" in r.stderr, r
    r = sim("run", "--flash", tmp_path / "f.bin", "--vcd", tmp_path / "no" / "such" / "dir.vcd", app)
    assert r.returncode == 1 and r.stdout == "", r
    assert "dir.vcd: no such file" in r.stderr, r


# ---- other tools read it ------------------------------------------------------

def test_sigrok_reads_our_vcd(toggled):
    unit, changes, end = read_vcd(toggled.read_text())
    show = subprocess.run(["sigrok-cli", "-I", "vcd", "-i", str(toggled), "--show"],
                          capture_output=True, text=True, timeout=60)
    assert show.returncode == 0, show.stderr
    assert "- gpio18: logic" in show.stdout and "- gpio19: logic" in show.stdout
    assert f"Samplerate: {10**12 // unit}" in show.stdout
    csv = subprocess.run(["sigrok-cli", "-I", "vcd", "-i", str(toggled), "-O", "csv"],
                         capture_output=True, text=True, timeout=60)
    assert csv.returncode == 0, csv.stderr
    samples = [line for line in csv.stdout.splitlines() if re.fullmatch(r"[01],[01]", line)]
    t0 = changes["gpio18"][1][0]
    us = 10**6
    # columns are gpio18, gpio19; one sample per time unit
    assert samples[(t0 + 50 * us) // unit] == "1,0"
    assert samples[(t0 + 200 * us) // unit] == "0,0"
    assert samples[(t0 + 400 * us) // unit] == "0,1"
    assert samples[(t0 + 550 * us) // unit] == "1,1"


# ---- wave plot -----------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def test_plot_svg(esp32sim, toggled, tmp_path):
    out = tmp_path / "wave.svg"
    r = esp32sim("wave", "plot", toggled, "-o", out)
    assert (r.code, r.out, r.err) == (0, "", ""), r
    root = ET.parse(out).getroot()
    assert root.tag == SVG + "svg"
    assert root.get("viewBox").startswith("0 0 1200 ")
    assert root.find(SVG + "title").text.startswith("out.vcd: 0 s to ")
    desc = root.find(SVG + "desc").text
    assert desc.startswith("GPIO18, GPIO19 from 0 s to ")
    assert len(list(root.iter(SVG + "path"))) > 20      # lines and glyphs were drawn


def test_plot_png_and_pins(esp32sim, toggled, tmp_path):
    out = tmp_path / "wave.png"
    r = esp32sim("wave", "plot", toggled, "-o", out, "--pins", "19", "--from", "250ms", "--to", "0.3s")
    assert r.code == 0, r
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    one_row = height
    assert width == 1200
    r = esp32sim("wave", "plot", toggled, "-o", out, "--pins", "gpio18,GPIO19")
    assert r.code == 0, r
    width, height = struct.unpack(">II", out.read_bytes()[16:24])
    assert height > one_row                           # one more row


def test_plot_window_and_rows_in_svg(esp32sim, toggled, tmp_path):
    out = tmp_path / "w.svg"
    r = esp32sim("wave", "plot", toggled, "--pins=19,18", "--from", "289.5ms", "--to", "291000us", "-o", out)
    assert r.code == 0, r
    root = ET.parse(out).getroot()
    assert root.find(SVG + "desc").text == "GPIO19, GPIO18 from 289.5 ms to 291 ms"


def test_plot_other_tools_vcd(esp32sim, tmp_path):
    vcd = tmp_path / "other.vcd"
    vcd.write_text("$timescale 10ns $end\n$scope module top $end\n$var reg 1 # clk $end\n"
                   "$var wire 8 $ bus [7:0] $end\n$scope module uart $end\n$var wire 1 % tx $end\n"
                   "$upscope $end\n$upscope $end\n$enddefinitions $end\n"
                   "#0\n$dumpvars\n0#\nb0 $\nx%\n$end\n" +
                   "".join(f"#{t}\n{t % 2}#\n" for t in range(1, 20000)) + "#20000\n1%\n#30000\n")
    out = tmp_path / "other.svg"
    r = esp32sim("wave", "plot", vcd, "-o", out)
    assert r.code == 0, r
    assert ET.parse(out).getroot().find(SVG + "desc").text == "clk, uart.tx from 0 s to 300 \u00b5s"
    r = esp32sim("wave", "plot", vcd, "-o", out, "--pins", "uart.tx")
    assert r.code == 0, r
    assert ET.parse(out).getroot().find(SVG + "desc").text.startswith("uart.tx from ")


def test_plot_usage_errors(esp32sim, toggled, tmp_path):
    def usage(*args, words):
        r = esp32sim("wave", "plot", *args)
        assert r.code == 2, r
        assert r.err.startswith("esp32sim: wave plot: ") and words in r.err, r
        assert "Try 'esp32sim wave plot --help'." in r.err, r

    usage(toggled, words="missing -o OUT.svg or OUT.png")
    usage("-o", tmp_path / "x.svg", words="missing FILE.vcd")
    usage(toggled, "-o", tmp_path / "x.pdf", words="ending in .svg or .png")
    usage(toggled, "-o", tmp_path / "x.svg", "--from", "5 parsecs", words="--from needs a time like 5ms")
    usage(toggled, "-o", tmp_path / "x.svg", "--to", "12", words="--to needs a time like 5ms")
    usage(toggled, "-o", tmp_path / "x.svg", "--from", "5ms", "--to", "5ms", words="nothing to draw")
    usage(toggled, "-o", tmp_path / "x.svg", "--pins", "18,,19", words="--pins needs GPIO numbers")
    usage(toggled, "-o", tmp_path / "x.svg", "--colour", "red", words="unknown option")
    r = esp32sim("wave", "frobnicate")
    assert r.code == 2 and "unknown subcommand 'frobnicate'" in r.err
    assert not (tmp_path / "x.svg").exists()


def test_plot_failures(esp32sim, toggled, tmp_path):
    def failed(*args, words):
        r = esp32sim("wave", "plot", *args)
        assert r.code == 1, r
        assert r.err.startswith("esp32sim: wave plot: ") and r.err.count("\n") == 1, r
        assert words in r.err, r

    out = tmp_path / "x.svg"
    failed(tmp_path / "missing.vcd", "-o", out, words="missing.vcd: no such file")
    failed(tmp_path, "-o", out, words="is a directory")
    bad = tmp_path / "bad.vcd"
    bad.write_text("$timescale 1 ns $end\n$var wire 1 ! a $end\n$enddefinitions $end\n#5\n#4\n")
    failed(bad, "-o", out, words="bad.vcd: line 5: time #4 goes back (after #5)")
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    failed(bad, "-o", out, words="bad.vcd: line 1: ")
    failed(toggled, "-o", out, "--pins", "7", words="no signal '7' in the file")
    failed(toggled, "-o", tmp_path / "no" / "dir" / "x.png", words="x.png: no such file")
    empty = tmp_path / "empty.vcd"
    empty.write_text("$timescale 1 us $end\n$enddefinitions $end\n#10\n")
    failed(empty, "-o", out, words="no 1-bit signals to draw")
    assert not out.exists()


def test_help(esp32sim):
    r = esp32sim("wave", "plot", "--help")
    assert r.code == 0 and "--pins N,M" in r.out and "5ms, 250us, 1.5s, 300ns" in r.out
    r = esp32sim("help", "wave")
    assert r.code == 0 and "plot FILE.vcd" in r.out
    r = esp32sim("run", "--help")
    assert "--vcd OUT.vcd" in r.out
