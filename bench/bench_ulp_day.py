"""A simulated day of deep sleep with the ULP sampling every 10 ms (a
counting program: LD, ADD, ST, HALT), through the board: one
machine.deepsleep(24 h) on the Python binding, the ULP emulated run by run
while the CPU sleeps. Prints the wall time; the baseline is the day
itself.

    PYTHONPATH=build/python /usr/bin/python3 bench/bench_ulp_day.py
"""
import struct
import time

import esp32
import esp32sim
import machine

WORDS = [0, 0x72800003, 0xD000000C, 0x72000010, 0x6800000C, 0xB0000000]   # counter += 1; halt
DAY_MS = 24 * 3600 * 1000


def main():
    text = b"".join(struct.pack("<I", w) for w in WORDS)
    program = struct.pack("<IHHHH", 0x00706C75, 12, len(text), 0, 0) + text
    best = float("inf")
    for _ in range(3):
        with esp32sim.Device():
            ulp = esp32.ULP()
            ulp.set_wakeup_period(0, 10_000)
            ulp.load_binary(0, program)
            ulp.run(4)
            t0 = time.perf_counter()
            try:
                machine.deepsleep(DAY_MS)
            except esp32sim.Reset:
                pass
            best = min(best, time.perf_counter() - t0)
    runs = DAY_MS * 1000 // 10_150   # ~10.15 ms start to start
    print("a day asleep, the ULP sampling every 10 ms (~%d runs): %.2f s wall = %.0f x real time"
          % (runs, best, DAY_MS / 1000 / best))


if __name__ == "__main__":
    main()
