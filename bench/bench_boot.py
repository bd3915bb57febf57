"""Boots per second of `esp32sim run` in a reset loop: every boot runs the
bootloader (verifying the firmware image), mounts NVS, runs an empty
boot.py and a main.py that calls machine.reset(), each in a fresh
interpreter. The per-boot time is (T(N boots) - T(1 boot)) / (N - 1), so the
command's own start-up is left out; the baseline is the Python
interpreter's start-up on an empty script, measured in the same run.

    /usr/bin/python3 bench/bench_boot.py build/esp32sim [--boots N] [--runs R]
"""
import argparse
import os
import subprocess
import tempfile

from benchlib import best_of, python_startup


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("esp32sim")
    ap.add_argument("--boots", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    args.esp32sim = os.path.abspath(args.esp32sim)
    with tempfile.TemporaryDirectory() as tmp:
        fs = os.path.join(tmp, "fs")
        os.mkdir(fs)
        open(os.path.join(fs, "boot.py"), "w").close()
        with open(os.path.join(fs, "main.py"), "w") as f:
            f.write("import machine\nmachine.reset()\n")
        run = [args.esp32sim, "run", "--flash", "flash.bin", "--fs", "fs", "--max-boots"]
        subprocess.run(run + ["1"], check=True, cwd=tmp, stdout=subprocess.DEVNULL)   # makes the image
        one = best_of(args.runs, run + ["1"], tmp)
        many = best_of(args.runs, run + [str(args.boots)], tmp)
        python = python_startup(args.runs * 4, tmp)
    per_boot = (many - one) / (args.boots - 1)
    print("best of %d runs; %d boots per run" % (args.runs, args.boots))
    print("%-46s %8.2f ms            1.00x" % ("python3 empty.py (baseline)", python * 1e3))
    print("%-46s %8.2f ms %7.1f/s  %5.2fx" % ("one boot: bootloader, NVS, boot.py, main.py", per_boot * 1e3,
                                                1 / per_boot, per_boot / python))


if __name__ == "__main__":
    main()
