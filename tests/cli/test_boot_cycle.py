"""The board's boot cycle under `esp32sim run`: bootloader, filesystem,
boot.py, main.py, resets; the OTA self-test across five reboots; the boot
trace and log."""
import json
import os
import pathlib
import subprocess

import pytest

HERE = pathlib.Path(__file__).parent

DEFAULT_BOOT_PY = ("# This file is executed on every boot (including wake-boot from deepsleep)\n"
                   "#import esp\n#esp.osdebug(None)\n#import webrepl\n#webrepl.start()\n")


@pytest.fixture
def sim(tmp_path):
    """Run the command in tmp_path with flash image tmp_path/flash.bin."""
    binary = os.environ["ESP32SIM"]

    def run(*args, flash="flash.bin"):
        env = dict(os.environ)
        env.pop("ESP32SIM_FLASH", None)
        cmd = [binary, args[0], "--flash", str(tmp_path / flash), *map(str, args[1:])]
        return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)

    return run


def board_fs(tmp_path, **files):
    """A board filesystem folder holding `files` (name -> text)."""
    fs = tmp_path / "fs"
    fs.mkdir(exist_ok=True)
    for name, text in files.items():
        (fs / name.replace("__", ".")).write_text(text)
    return fs


def trace(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---- boot.py and main.py ----

def test_new_filesystem_gets_the_default_boot_py(sim, tmp_path):
    r = sim("run")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == "Performing initial setup\n"
    fs = tmp_path / "flash.bin.fs"
    assert sorted(p.name for p in fs.iterdir()) == ["boot.py"]
    assert (fs / "boot.py").read_text() == DEFAULT_BOOT_PY
    r = sim("run")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_boot_py_then_main_py(sim, tmp_path):
    fs = board_fs(tmp_path, boot__py="print('boot', __file__)\nx = 1\n",
                  main__py="print('main', __file__, x)\n")
    r = sim("run", "--fs", fs)
    assert (r.returncode, r.stdout, r.stderr) == (0, "boot boot.py\nmain main.py 1\n", "")


def test_main_py_is_skipped_when_boot_py_fails(sim, tmp_path):
    fs = board_fs(tmp_path, boot__py="print('boot')\n1/0\n", main__py="print('main')\n")
    r = sim("run", "--fs", fs)
    assert r.returncode == 1
    assert r.stdout == "boot\n"
    assert r.stderr.splitlines() == ["Traceback (most recent call last):",
                                     '  File "boot.py", line 2, in <module>',
                                     "ZeroDivisionError: division by zero"]


def test_script_replaces_main_py_on_the_first_boot_only(sim, tmp_path):
    fs = board_fs(tmp_path, boot__py="print('boot')\n", main__py="print('main')\n")
    app = tmp_path / "app.py"
    app.write_text("import machine\nprint('app')\nmachine.reset()\n")
    r = sim("run", "--fs", fs, app)
    assert (r.returncode, r.stdout, r.stderr) == (0, "boot\napp\nboot\nmain\n", "")


def test_main_option_runs_the_script_at_every_boot(sim, tmp_path):
    fs = board_fs(tmp_path, boot__py="", main__py="print('main')\n")
    app = tmp_path / "app.py"
    app.write_text("import machine, os\n"
                   "n = len(os.listdir('/'))\n"
                   "print('app', n)\n"
                   "if n < 4:\n"
                   "    open('f%d' % n, 'w').close()\n"
                   "    machine.reset()\n")
    r = sim("run", "--fs", fs, "--main", app)
    assert (r.returncode, r.stdout, r.stderr) == (0, "app 2\napp 3\napp 4\n", "")


def test_max_boots_ends_a_reset_loop(sim, tmp_path):
    fs = board_fs(tmp_path, main__py="import machine\nprint('up')\nmachine.reset()\n")
    r = sim("run", "--fs", fs, "--max-boots", 3)
    assert (r.returncode, r.stdout) == (0, "up\nup\nup\n")


def test_files_written_by_scripts_land_in_the_folder_and_persist(sim, tmp_path):
    fs = board_fs(tmp_path, boot__py="")
    app = tmp_path / "app.py"
    app.write_text("import os\n"
                   "os.mkdir('data')\n"
                   "with open('/data/../data/log.txt', 'w') as f: f.write('hello')\n"
                   "with open('../../../escape.txt', 'w') as f: f.write('inside')\n"
                   "print(sorted(os.listdir()), os.getcwd())\n")
    r = sim("run", "--fs", fs, app)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == "['boot.py', 'data', 'escape.txt'] /\n"
    assert (fs / "data" / "log.txt").read_text() == "hello"
    assert (fs / "escape.txt").read_text() == "inside"
    assert not (tmp_path.parent / "escape.txt").exists()
    r = sim("run", "--fs", fs, app)                      # the folder persists: mkdir fails now
    assert r.returncode == 1 and r.stderr.endswith("OSError: [Errno 17] EEXIST\n")


# ---- the OTA self-test across five reboots ----

def test_ota_self_test_flow_across_five_reboots(sim, tmp_path):
    fs = board_fs(tmp_path, boot__py=(HERE / "scripts" / "ota_selftest_boot.py").read_text())
    r = sim("run", "--layout", "ota", "--fs", fs, "--boot-trace", tmp_path / "trace.jsonl")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert (fs / "ota_log").read_text().splitlines() == [
        "copy ota_0 1",            # power-on, the new board's firmware in ota_0
        "unconfirmed ota_1 2",     # the copy boots once (HARD_RESET after machine.reset)
        "rolled_back ota_0 2",     # not confirmed: the bootloader went back
        "confirm ota_1 2",
        "switched_back ota_0 2",
    ]
    assert (fs / "ota_state").read_text() == "done"

    events = trace(tmp_path / "trace.jsonl")
    assert sorted({e["boot"] for e in events}) == [1, 2, 3, 4, 5]
    by_boot = {b: [e for e in events if e["boot"] == b] for b in range(1, 6)}
    assert [e["kind"] for e in by_boot[1]] == ["no_selection", "loaded", "initial_seq"]
    assert by_boot[1][0]["reset_reason"] == "POWERON" and by_boot[2][0]["reset_reason"] == "SW"
    assert ("state_change", "NEW", "PENDING_VERIFY") in [(e["kind"], e["from"], e["to"]) for e in by_boot[2]]
    aborted = [e for e in by_boot[3] if e["kind"] == "state_change"]
    assert [(e["from"], e["to"], e["written"]) for e in aborted] == [("PENDING_VERIFY", "ABORTED", True)]
    assert [e["label"] for e in by_boot[3] if e["kind"] == "loaded"] == ["ota_0"]
    assert [e["label"] for e in by_boot[5] if e["kind"] == "loaded"] == ["ota_0"]

    binary = os.environ["ESP32SIM"]
    out = subprocess.run([binary, "ota", "status", str(tmp_path / "flash.bin"), "--json"],
                         capture_output=True, text=True, check=True).stdout
    status = json.loads(out)
    assert status["next_boot"] == "ota_0"
    assert sorted(e["state"] for e in status["entries"]) == ["VALID", "VALID"]

    r = sim("run", "--fs", fs)                            # done: the board just boots
    assert (r.returncode, r.stderr) == (0, "")
    assert len((fs / "ota_log").read_text().splitlines()) == 6


def test_without_rollback_an_unconfirmed_app_stays(sim, tmp_path):
    fs = board_fs(tmp_path, boot__py=(HERE / "scripts" / "ota_selftest_boot.py").read_text())
    r = sim("run", "--layout", "ota", "--fs", fs, "--no-rollback")
    assert r.returncode == 1
    # boot 3 still runs ota_1: nothing marked it PENDING_VERIFY, so nothing aborted it
    assert (fs / "ota_log").read_text().splitlines()[:3] == [
        "copy ota_0 1", "unconfirmed ota_1 2", "rolled_back ota_1 2"]
    assert "AssertionError: ota_1" in r.stderr


# ---- the boot log ----

def boots_of(log):
    """The UART text split at each ROM banner."""
    banner = "ets Jul 29 2019 12:21:46"
    return [banner + part for part in log.split(banner)[1:]]


def test_boot_log_shows_rom_and_bootloader_lines_for_each_boot(sim, tmp_path):
    fs = board_fs(tmp_path, main__py="import machine, os\n"
                                     "if 'again' not in os.listdir():\n"
                                     "    open('again', 'w').close()\n"
                                     "    machine.reset()\n")
    r = sim("run", "--layout", "ota", "--fs", fs, "--boot-log")
    assert (r.returncode, r.stderr) == (0, "")
    first, second = boots_of(r.stdout)
    lines = first.splitlines()
    assert lines[:3] == ["ets Jul 29 2019 12:21:46", "", "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"]
    assert lines[10] == "entry 0x40080638"
    text = [line.split(") ", 1)[1] for line in lines[11:]]     # without "I (ms)"
    assert text[:8] == ["boot: ESP-IDF v5.5.2 2nd stage bootloader", "boot: compile time Jan  1 2025 00:00:00",
                        "boot: Multicore bootloader", "boot: chip revision: v3.0",
                        "boot.esp32: SPI Speed      : 40MHz", "boot.esp32: SPI Mode       : DIO",
                        "boot.esp32: SPI Flash Size : 4MB", "boot: Enabling RNG early entropy source..."]
    assert "boot:  3 ota_0            OTA app          00 10 00010000 00180000" in text
    assert "boot:  1 otadata          OTA data         01 00 0000d000 00002000" in text
    assert text[text.index("boot: End of partition table") + 1] == "boot: No factory image, trying OTA 0"
    assert "esp_image: segment 0: paddr=00010020 vaddr=3f400020 size=04000h ( 16384) map" in text
    assert text[-3:] == ["boot: Loaded app from partition at offset 0x10000",
                         "boot: Set actual ota_seq=1 in otadata[0]",
                         "boot: Disabling RNG early entropy source..."]
    assert all(line.startswith("I (") for line in lines[11:])
    assert "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)" in second    # machine.reset()
    assert "Set actual ota_seq" not in second and "No factory image" not in second


def test_boot_log_shows_a_damaged_update_being_skipped(sim, tmp_path):
    binary = os.environ["ESP32SIM"]
    image, app = tmp_path / "flash.bin", tmp_path / "app.bin"

    def tool(*args):
        out = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
        assert out.returncode == 0, out
    fs = board_fs(tmp_path, boot__py="")
    assert sim("run", "--layout", "ota", "--fs", fs).returncode == 0
    tool("image", "make", "-o", app, "--version", "2.0.0")
    tool("flash", "write", image, "0x190000", app)
    tool("ota", "set-boot", image, "ota_1")
    (tmp_path / "byte").write_bytes(b"\x00")
    tool("flash", "write", image, hex(0x190000 + 0x1000), tmp_path / "byte")   # damage the update
    r = sim("run", "--fs", fs, "--boot-log")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    errors = [line.split(") ", 1)[1] for line in lines if line.startswith("E (")]
    assert len(errors) == 2 and errors[0].startswith("esp_image: Checksum failed. Calculated 0x")
    assert errors[1] == "boot: OTA app partition slot 1 is not bootable"
    assert lines[-2].endswith("boot: Loaded app from partition at offset 0x10000")
