"""Partition.readblocks/writeblocks throughput, 4 KiB blocks over a 1.5 MiB
partition, as a ratio to copying the same bytes with a plain memcpy
(memoryview slice assignment, block by block) in the same run.

    PYTHONPATH=build/python /usr/bin/python3 bench/bench_partition.py [--rounds N]
"""
import argparse
import time

import esp32sim
from esp32 import Partition

BLOCK = 4096


def best_of(rounds, fn):
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()

    esp32sim.Device(layout="ota").use()          # ota_1 is exactly 1.5 MiB
    part = Partition("ota_1")
    size = part.info()[3]
    blocks = size // BLOCK
    data = bytes((i * 7) & 0xFF for i in range(BLOCK))
    buf = bytearray(BLOCK)
    src = memoryview(bytearray(size))
    dst = memoryview(bytearray(size))

    def write_all():
        for n in range(blocks):
            part.writeblocks(n, data)            # simple protocol: erase + program

    def write_extended():
        for n in range(blocks):
            part.writeblocks(n, data, 0)         # extended protocol: program only

    def read_all():
        for n in range(blocks):
            part.readblocks(n, buf)

    def memcpy_all():
        for n in range(blocks):
            o = n * BLOCK
            dst[o:o + BLOCK] = src[o:o + BLOCK]

    base = best_of(args.rounds, memcpy_all)
    mib = size / (1 << 20)
    print("partition: %s, %.1f MiB in %d blocks of %d bytes, best of %d" % ("ota_1", mib, blocks, BLOCK, args.rounds))
    print("%-34s %10.1f MiB/s   1.00x" % ("memcpy (baseline)", mib / base))
    for name, fn in (("readblocks", read_all), ("writeblocks (erase + program)", write_all),
                     ("writeblocks (extended, program)", write_extended)):
        t = best_of(args.rounds, fn)
        print("%-34s %10.1f MiB/s  %5.2fx memcpy time" % (name, mib / t, t / base))


if __name__ == "__main__":
    main()
