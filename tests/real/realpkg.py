"""Shared helpers for the real-package checks: where the checkouts are,
boards made of them, and runs of the esp32sim command."""
import os
import pathlib
import shutil
import subprocess

import pytest


def checkout(name):
    """The checkout of repository `name` under $ESIM_REAL_PACKAGES."""
    root = os.environ.get("ESIM_REAL_PACKAGES")
    if not root:
        pytest.fail("ESIM_REAL_PACKAGES is not set: run scripts/check-real-packages.sh")
    path = pathlib.Path(root) / name
    if not path.is_dir():
        pytest.fail(f"{path} is missing: run scripts/check-real-packages.sh")
    return path


checkout.fixtures = pathlib.Path(__file__).resolve().parent.parent / "fixtures"


def board_with(tmp_path, files, main):
    """A board folder: `files` maps board paths to host files or folders."""
    fs = tmp_path / "fs"
    fs.mkdir()
    (fs / "boot.py").write_text("# This file is executed on every boot (including wake-boot from deepsleep)\n")
    for board_path, host in files.items():
        target = fs / board_path
        target.parent.mkdir(parents=True, exist_ok=True)
        if pathlib.Path(host).is_dir():
            shutil.copytree(host, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(host, target)
    shutil.copy(main, fs / "main.py")
    return tmp_path


class Run:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout.decode("utf-8", "replace")
        self.err = proc.stderr.decode("utf-8", "replace")
        self.lines = self.out.splitlines()


def run(board, *options):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    cmd = [os.environ.get("ESP32SIM", "esp32sim"), "run", "--fs", str(board / "fs"),
           "--flash", str(board / "flash.bin"), *options]
    proc = subprocess.run(cmd, capture_output=True, timeout=600, env=env)
    result = Run(proc)
    assert result.code == 0, result.err
    return result


def vcd_changes(path, wire):
    """[(time in ns, level)] of one wire of a VCD file esp32sim wrote."""
    scale_ns = None
    ident = None
    changes = []
    now = 0
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("$timescale"):
            number, unit = line.split()[1:3]
            scale_ns = int(number) * {"ps": 0.001, "ns": 1, "us": 1000, "ms": 1_000_000}[unit]
        elif line.startswith("$var") and line.split()[4] == wire:
            ident = line.split()[3]
        elif line.startswith("#"):
            now = int(line[1:]) * scale_ns
        elif ident and line.endswith(ident) and line[0] in "01xz":
            changes.append((now, line[0]))
    return changes
