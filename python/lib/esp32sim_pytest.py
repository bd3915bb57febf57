"""pytest plugin for esp32sim: fixtures that give each test a fresh board.

Use it from a conftest.py with ``pytest_plugins = ["esp32sim_pytest"]``.

``board``       a fresh 4 MiB board held in memory, default layout, made current
``ota_board``   the same with MicroPython's OTA layout
``board_image`` a factory: ``board_image(name="flash.bin", **Device kwargs)`` opens a
                board backed by an image file in the test's tmp_path and makes it current
``run_board``   a runner that boots a board with the esp32sim command (boot.py, main.py,
                deep-sleep wakes, stimuli, a time limit) and reports its boots and output
"""
import json
import os
import shutil
import subprocess

import pytest

import esp32sim


def _use(device):
    device.use()
    return device


@pytest.fixture
def board():
    with _use(esp32sim.Device()) as dev:
        yield dev


@pytest.fixture
def ota_board():
    with _use(esp32sim.Device(layout="ota")) as dev:
        yield dev


@pytest.fixture
def board_image(tmp_path):
    opened = []

    def open_image(name="flash.bin", **kwargs):
        dev = _use(esp32sim.Device(str(tmp_path / name), **kwargs))
        opened.append(dev)
        return dev

    yield open_image
    for dev in opened:
        dev.close()


class BoardRun:
    """What one `esp32sim run` of a board did.

    ``code`` exit status, ``out``/``err`` the UART text and the command's
    messages, ``boots`` one dict per boot (``boot``, ``reset_reason``,
    ``wake_cause``, ``at_ms``: world time of the boot), ``fs`` the board's
    filesystem folder, ``flash`` its image."""

    def __init__(self, proc, trace_path, fs, flash):
        self.code = proc.returncode
        self.out = proc.stdout.decode("utf-8", "replace")
        self.err = proc.stderr.decode("utf-8", "replace")
        self.fs = fs
        self.flash = flash
        self.boots = []
        if trace_path.exists():
            for line in trace_path.read_text().splitlines():
                event = json.loads(line)
                if not self.boots or self.boots[-1]["boot"] != event["boot"]:
                    self.boots.append({k: event[k] for k in ("boot", "reset_reason", "wake_cause", "at_ms")})

    @property
    def wake_causes(self):
        return [b["wake_cause"] for b in self.boots]

    def __repr__(self):
        return f"<BoardRun exit {self.code}, {len(self.boots)} boots\nout: {self.out[-2000:]}\nerr: {self.err[-2000:]}>"


def _command_env():
    """The environment for the command: a sanitizer runtime preloaded for
    the Python process (ASan builds) is not passed on, since the command
    links its own."""
    env = dict(os.environ)
    preload = [p for p in env.get("LD_PRELOAD", "").split(":") if p and "asan" not in os.path.basename(p)]
    if preload:
        env["LD_PRELOAD"] = ":".join(preload)
    else:
        env.pop("LD_PRELOAD", None)
    return env


def _esp32sim_command():
    found = os.environ.get("ESP32SIM") or shutil.which("esp32sim")
    if not found:
        pytest.fail("the esp32sim command was not found: set ESP32SIM or put it on PATH")
    return found


@pytest.fixture
def run_board(tmp_path):
    """Boot a board with the esp32sim command, as a real one boots, until its
    program ends, its time limit or --max-boots:

        result = run_board(main="...", files={"lib/x.py": "..."},
                           stimulus=[{"at_ms": 5000, "pin": 33, "level": 1}],
                           until_ms=3_600_000, max_boots=None, layout=None, args=())

    ``main`` becomes /main.py and ``files`` are written to the board's
    filesystem before the first run; calling it again runs the same board
    again (a new power-on), keeping its flash and files."""
    board_dir = tmp_path / "board"
    fs = board_dir / "fs"
    flash = board_dir / "flash.bin"

    def run(main=None, *, files=None, stimulus=None, until_ms=None, max_boots=None, layout=None,
            args=(), timeout=300):
        fs.mkdir(parents=True, exist_ok=True)
        if main is not None:
            (fs / "main.py").write_text(main)
        for name, text in (files or {}).items():
            path = fs / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text if isinstance(text, bytes) else text.encode())
        trace = board_dir / "trace.jsonl"
        trace.unlink(missing_ok=True)
        cmd = [_esp32sim_command(), "run", "--flash", str(flash), "--fs", str(fs), "--boot-trace", str(trace)]
        if stimulus is not None:
            stim = board_dir / "stimulus.json"
            doc = stimulus if isinstance(stimulus, dict) else {"events": list(stimulus)}
            stim.write_text(json.dumps(doc))
            cmd += ["--stimulus", str(stim)]
        if until_ms is not None:
            cmd += ["--until-ms", str(until_ms)]
        if max_boots is not None:
            cmd += ["--max-boots", str(max_boots)]
        if layout is not None:
            cmd += ["--layout", layout]
        cmd += list(args)
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=_command_env())
        return BoardRun(proc, trace, fs, flash)

    return run
