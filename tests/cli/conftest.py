"""Shared fixtures for the esp32sim command tests.

The build tells us where things are through the environment:
ESP32SIM is the command, ESIM_FIXTURES_DIR the test fixtures folder."""
import os
import pathlib
import subprocess

import pytest

MiB = 1024 * 1024
TABLE_OFFSET = 0x8000
TABLE_LEN = 0xC00
FIRMWARE_LEN = 0x160000   # the app image a new board's first app partition holds
FIXTURE_TABLES = ["mp_4MiBplus", "mp_4MiB_legacy_vfs", "mp_4MiB_ota", "mp_2MiB"]


class Result:
    """What one run of the command did."""

    def __init__(self, proc):
        self.code = proc.returncode
        self.raw = proc.stdout
        self.out = proc.stdout.decode("utf-8", "replace")
        self.err = proc.stderr.decode("utf-8", "replace")

    def __repr__(self):
        return f"<exit {self.code}\nstdout: {self.out[:2000]!r}\nstderr: {self.err!r}>"


def _env_path(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests through ctest")
    return pathlib.Path(value)


@pytest.fixture
def esp32sim():
    """A runner: esp32sim("part", "table", path) -> Result."""
    binary = _env_path("ESP32SIM")

    def run(*args, stdin=None):
        proc = subprocess.run([str(binary), *map(str, args)], input=stdin,
                              capture_output=True, timeout=120)
        return Result(proc)

    return run


@pytest.fixture
def tables_dir():
    """The folder with partition_table/X.csv, X.bin, X.decoded.csv."""
    return _env_path("ESIM_FIXTURES_DIR") / "partition_table"


@pytest.fixture
def new_image(esp32sim, tmp_path):
    """Make a flash image with `flash new`; returns its path."""
    def make(name="flash.bin", *options):
        path = tmp_path / name
        r = esp32sim("flash", "new", path, *options)
        assert r.code == 0, r
        return path

    return make


def ok(result):
    assert result.code == 0, result
    assert result.err == "", result
    return result


def failed(result, *words):
    """The command failed (exit 1) with a one-line message naming `words`."""
    assert result.code == 1, result
    assert result.err.startswith("esp32sim: "), result
    assert result.err.count("\n") == 1, result
    for word in words:
        assert str(word) in result.err, (word, result)
    return result


def usage_error(result, command):
    """Exit 2, a message and a hint to `esp32sim COMMAND --help`."""
    assert result.code == 2, result
    assert result.err.startswith("esp32sim: "), result
    assert f"Try 'esp32sim {command} --help'." in result.err, result
    return result


def without_first_boot_setup(result):
    """A new board's first boot prints "Performing initial setup" as it makes
    its filesystem (tests/cli/test_boot_cycle.py checks that); the tests here
    that use it look at what the scripts print."""
    setup = "Performing initial setup\n"
    if result.stdout.startswith(setup):
        result.stdout = result.stdout[len(setup):]
    return result


@pytest.fixture
def sim(tmp_path):
    """Run the command in tmp_path (so the default image lands there), with
    text output and the new board's set-up line dropped."""
    binary = _env_path("ESP32SIM")

    def run(*args, stdin=None, env=None):
        full_env = dict(os.environ)
        full_env.pop("ESP32SIM_FLASH", None)
        full_env.update(env or {})
        r = subprocess.run([str(binary), *map(str, args)], cwd=tmp_path, input=stdin, capture_output=True,
                           text=True, timeout=120, env=full_env)
        return without_first_boot_setup(r)

    return run


def script(tmp_path, text, name="app.py"):
    """Write a script for the board; returns its path."""
    path = tmp_path / name
    path.write_text(text)
    return path
