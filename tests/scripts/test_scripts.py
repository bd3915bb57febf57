"""The real-world script suite: each NAME.py here is a board's main.py,
written in the style of real MicroPython projects, run under
`esp32sim run` and compared line for line with NAME.exp, the output an
ESP32 with MicroPython v1.28 gives for it.

A first comment line `# esp32sim: key=value ...` sets the run: until_ms,
max_boots, layout, stimulus (a JSON file beside the script). NAME.files/
is copied onto the board's filesystem first (packages in /lib)."""
import os
import pathlib
import shutil
import subprocess

import pytest

HERE = pathlib.Path(__file__).parent
SCRIPTS = sorted(p.stem for p in HERE.glob("*.py") if not p.name.startswith("test_"))


def settings(script):
    first = script.read_text().splitlines()[0]
    if not first.startswith("# esp32sim:"):
        return {}
    return dict(item.split("=", 1) for item in first[len("# esp32sim:"):].split())


def command_line(name, board):
    opts = settings(HERE / f"{name}.py")
    unknown = set(opts) - {"until_ms", "max_boots", "layout", "stimulus"}
    assert not unknown, f"{name}.py: unknown settings {unknown}"
    args = [os.environ["ESP32SIM"], "run", "--fs", str(board / "fs"), "--flash", str(board / "flash.bin"),
            "--until-ms", opts.get("until_ms", "600000")]
    if "max_boots" in opts:
        args += ["--max-boots", opts["max_boots"]]
    if "layout" in opts:
        args += ["--layout", opts["layout"]]
    if "stimulus" in opts:
        args += ["--stimulus", str(HERE / opts["stimulus"])]
    return args


def board_env():
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)   # the command carries its own sanitizer runtime
    return env


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_prints_what_a_board_prints(name, tmp_path):
    fs = tmp_path / "fs"
    extra = HERE / f"{name}.files"
    if extra.is_dir():
        shutil.copytree(extra, fs)
    fs.mkdir(exist_ok=True)
    shutil.copy(HERE / f"{name}.py", fs / "main.py")
    proc = subprocess.run(command_line(name, tmp_path), capture_output=True, timeout=300, env=board_env())
    expected = (HERE / f"{name}.exp").read_text()
    assert proc.stdout.decode() == expected, proc.stderr.decode()
    assert proc.returncode == 0, proc.stderr.decode()


def test_every_script_has_its_expected_output():
    assert SCRIPTS, "no scripts found"
    for name in SCRIPTS:
        assert (HERE / f"{name}.exp").is_file(), f"{name}.exp is missing"
