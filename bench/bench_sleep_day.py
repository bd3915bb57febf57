"""A simulated day of one-minute deep-sleep cycles: `esp32sim run` boots a
board whose main.py counts its boots in RTC memory, reads the temperature
sensor and sleeps for a minute: 1,441 boots (the power-on and 1,440 timer
wakes, a day and 3.6 minutes of boot time in virtual time), each through the
bootloader (fast wake: no image verification, as ESP-IDF's
CONFIG_BOOTLOADER_SKIP_VALIDATE_IN_DEEP_SLEEP), NVS, boot.py and main.py in
a fresh interpreter. Prints the wall time, boots per second and the time
per boot as a ratio to the Python interpreter's start-up on an empty
script, measured in the same run.

    /usr/bin/python3 bench/bench_sleep_day.py build/esp32sim [--runs R]
"""
import argparse
import os
import subprocess
import tempfile

from benchlib import best_of, python_startup

MAIN = """import machine, esp32
rtc = machine.RTC()
n = int(rtc.memory() or b"0") + 1
rtc.memory(str(n).encode())
t = esp32.raw_temperature()
machine.deepsleep(60_000)
"""
BOOTS = 1 + 24 * 60


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("esp32sim")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    args.esp32sim = os.path.abspath(args.esp32sim)
    with tempfile.TemporaryDirectory() as tmp:
        fs = os.path.join(tmp, "fs")
        os.mkdir(fs)
        open(os.path.join(fs, "boot.py"), "w").close()
        with open(os.path.join(fs, "main.py"), "w") as f:
            f.write(MAIN)
        trace = os.path.join(tmp, "trace.jsonl")
        run = [args.esp32sim, "run", "--flash", "flash.bin", "--fs", "fs", "--max-boots", str(BOOTS)]
        subprocess.run(run + ["--boot-trace", trace], check=True, cwd=tmp, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(trace) as f:
            lines = f.read().splitlines()
        boots = len({line.split(",")[0] for line in lines})
        assert boots == BOOTS, f"expected {BOOTS} boots, the trace shows {boots}"
        last_ms = int(lines[-1].split('"at_ms": ')[1].split(",")[0])
        day = best_of(args.runs, run, cwd=tmp, quiet=True)
        python = python_startup(args.runs * 4, tmp)
    per_boot = day / BOOTS
    print("best of %d runs; one simulated day = %d boots" % (args.runs, BOOTS))
    print("%-44s %8.2f ms             1.00x" % ("python3 empty.py (baseline)", python * 1e3))
    print("%-44s %8.2f s   (virtual: %.2f h)" % ("a day of one-minute deep-sleep cycles", day,
                                                  last_ms / 3.6e6))
    print("%-44s %8.2f ms %7.1f/s  %5.2fx" % ("per boot (wake, bootloader, NVS, main.py)", per_boot * 1e3,
                                               1 / per_boot, per_boot / python))


if __name__ == "__main__":
    main()
