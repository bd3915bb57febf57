"""Shared pieces of the Python-driven benchmarks: best-of timing of a
command, and the baseline they compare against (the interpreter's own
start-up on an empty script, measured in the same run)."""
import os
import subprocess
import sys
import time


def best_of(runs, cmd, cwd=None, env=None, quiet=False):
    """The shortest wall time of `runs` runs of `cmd`, in seconds (its
    output discarded; its messages too when quiet)."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL if quiet else None)
        best = min(best, time.perf_counter() - t0)
    return best


def python_startup(runs, tmp):
    """Seconds for `python3 empty.py`: the baseline."""
    empty = os.path.join(tmp, "empty.py")
    open(empty, "w").close()
    return best_of(runs, [sys.executable, empty], cwd=tmp)
