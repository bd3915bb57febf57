"""RMT and NeoPixel through the Python binding, on a board in memory:

* pulses per second through esp32.RMT.write_pulses into the traced
  waveform (every edge lands in the board's level record), against a plain
  Python loop building the same (time, level) edges as a list — the cost of
  merely touching each pulse once in Python;
* a 1,000-pixel NeoPixel frame through machine.bitstream (RMT at 40 MHz),
  as time per frame and as a ratio of the frame's own on-wire time;
* VCD bytes per 1,000 edges of a recorded waveform (esp32sim run --vcd).

    PYTHONPATH=build/python /usr/bin/python3 bench/bench_rmt.py build/esp32sim
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import esp32
import esp32sim
import machine
import neopixel

PULSES = 20_000


def best(runs, fn):
    result = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        result = min(result, time.perf_counter() - t0)
    return result


def rmt_pulses():
    with esp32sim.Device() as board:
        rmt = esp32.RMT(0, pin=machine.Pin(18), clock_div=8)
        durations = [1 + (i % 50) for i in range(PULSES)]

        def send():
            rmt.write_pulses(durations, 1)
            rmt.wait_done(timeout=10_000)

        send()
        t = best(7, send)
        edges = len(board.pin_changes(18))
    return t, edges


def python_baseline():
    durations = [1 + (i % 50) for i in range(PULSES)]

    def build():
        t, level, out = 0, 1, []
        for d in durations:
            out.append((t, level))
            t += d
            level ^= 1
    return best(7, build)


def neopixel_frame():
    with esp32sim.Device() as board:
        np = neopixel.NeoPixel(machine.Pin(5), 1000)
        for i in range(1000):
            np[i] = (i % 256, (3 * i) % 256, (7 * i) % 256)
        np.write()
        start = board.world_time_us
        np.write()
        wire_us = board.world_time_us - start
        t = best(5, np.write)
    return t, wire_us


def vcd_bytes(esp32sim_cmd):
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "toggle.py")
        with open(script, "w") as f:
            f.write("import esp32, machine\n"
                    "r = esp32.RMT(0, pin=machine.Pin(18), clock_div=8)\n"
                    "r.write_pulses([3, 5, 7, 11] * 5000, 1)\n"
                    "r.wait_done(timeout=1000)\n")
        vcd = os.path.join(tmp, "out.vcd")
        subprocess.run([esp32sim_cmd, "run", "--flash", os.path.join(tmp, "f.bin"), "--vcd", vcd, script],
                       check=True, stdout=subprocess.DEVNULL)
        with open(vcd) as f:
            text = f.read()
        edges = sum(1 for line in text.splitlines() if line[:1] in "01" and not line.startswith("#"))
        return os.path.getsize(vcd), edges


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("esp32sim")
    args = ap.parse_args()
    base = python_baseline()
    rmt, edges = rmt_pulses()
    print("%d pulses per write_pulses; best of 7" % PULSES)
    print("%-52s %10.0f pulses/s  1.00x" % ("plain Python loop over the pulses (baseline)", PULSES / base))
    print("%-52s %10.0f pulses/s  %4.2fx  (%d edges recorded)" % (
        "RMT.write_pulses into the traced waveform", PULSES / rmt, base / rmt, edges))
    frame, wire_us = neopixel_frame()
    print("%-52s %8.2f ms per frame = %.3fx its %.2f ms on the wire" % (
        "1,000-pixel NeoPixel frame (bitstream, RMT 40 MHz)", frame * 1e3, frame * 1e6 / wire_us, wire_us / 1e3))
    size, n = vcd_bytes(os.path.abspath(args.esp32sim))
    print("%-52s %8.0f bytes per 1,000 edges (%d edges, %d bytes)" % ("VCD output", size * 1000 / n, n, size))


if __name__ == "__main__":
    sys.exit(main())
