"""Start-up time of `esp32sim run` on an empty script, as a ratio to the
Python interpreter's own start-up on the same empty script, in the same run.

    /usr/bin/python3 bench/bench_startup.py build/esp32sim [--runs N]
"""
import argparse
import os
import subprocess
import sys
import tempfile

from benchlib import best_of


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("esp32sim")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "empty.py")
        open(script, "w").close()
        env = dict(os.environ, ESP32SIM_FLASH=os.path.join(tmp, "flash.bin"))
        subprocess.run([args.esp32sim, "run", script], check=True, env=env)   # creates the image once
        python = best_of(args.runs, [sys.executable, script], env=env)
        sim = best_of(args.runs, [args.esp32sim, "run", script], env=env)
    print("best of %d runs" % args.runs)
    print("%-40s %8.1f ms   1.00x" % ("python3 empty.py (baseline)", python * 1e3))
    print("%-40s %8.1f ms  %5.2fx" % ("esp32sim run empty.py (4 MiB image)", sim * 1e3, sim / python))


if __name__ == "__main__":
    main()
