"""esp32sim run / repl: scripts on the simulated board, as a user runs them."""
import pathlib

import pytest

from conftest import script

HERE = pathlib.Path(__file__).parent



def test_partition_tour_prints_what_a_board_prints(sim, tmp_path):
    r = sim("run", "--flash", tmp_path / "tour.bin", HERE / "scripts" / "partition_tour.py")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == (HERE / "scripts" / "partition_tour.expected").read_text()


def test_default_image_persists_between_runs(sim, tmp_path):
    app = script(tmp_path, "from esp32 import Partition\n"
                           "p = Partition('vfs'); b = bytearray(1); p.readblocks(0, b)\n"
                           "print(b[0]); p.writeblocks(0, bytes([b[0] >> 1]), 0)   # NOR: clear one bit a run\n")
    outs = [sim("run", app).stdout for _ in range(3)]
    assert outs == ["255\n", "127\n", "63\n"]
    assert (tmp_path / ".esp32sim" / "flash.bin").stat().st_size == 4 * 1024 * 1024


def test_flash_location_from_the_environment(sim, tmp_path):
    app = script(tmp_path, "print('ok')\n")
    r = sim("run", app, env={"ESP32SIM_FLASH": str(tmp_path / "env.bin")})
    assert r.stdout == "ok\n"
    assert (tmp_path / "env.bin").exists() and not (tmp_path / ".esp32sim").exists()


def test_layout_and_size_of_a_new_image(sim, tmp_path):
    app = script(tmp_path, "from esp32 import Partition\n"
                           "print([p.info()[4] for p in Partition.find(0xff)])\n"
                           "print(Partition('vfs').info()[2:4])\n")
    r = sim("run", "--flash", tmp_path / "o.bin", "--layout", "ota", "--size", "8MB", app)
    assert r.stdout == "['nvs', 'otadata', 'phy_init', 'ota_0', 'ota_1', 'vfs']\n(3211264, 5177344)\n"
    r = sim("run", "--flash", tmp_path / "o.bin", app)                 # the image keeps its table
    assert r.returncode == 0 and "otadata" in r.stdout


def test_existing_image_is_never_given_another_table(sim, tmp_path):
    app = script(tmp_path, "print('ran')\n")
    image = tmp_path / "d.bin"
    assert sim("run", "--flash", image, app).returncode == 0
    before = image.read_bytes()
    r = sim("run", "--flash", image, "--layout", "ota", app)
    assert r.returncode == 1 and r.stdout == ""
    assert "d.bin" in r.stderr and "different partition table" in r.stderr
    assert image.read_bytes() == before


def test_uncaught_exception_traceback_and_status(sim, tmp_path):
    app = script(tmp_path, "print('before')\n\ndef f():\n    raise ValueError('bad thing')\n\nf()\n")
    r = sim("run", "--flash", tmp_path / "f.bin", app)
    assert r.returncode == 1
    assert r.stdout == "before\n"
    assert r.stderr.splitlines() == [
        "Traceback (most recent call last):",
        '  File "%s", line 6, in <module>' % app,
        '  File "%s", line 4, in f' % app,
        "ValueError: bad thing",
    ]


def test_oserror_traceback_reads_as_on_a_board(sim, tmp_path):
    app = script(tmp_path, "import esp32\nesp32.Partition('missing')\n")
    r = sim("run", "--flash", tmp_path / "f.bin", app)
    assert r.returncode == 1 and r.stderr.splitlines()[-1] == "OSError: [Errno 2] ENOENT"


def test_sys_exit_status(sim, tmp_path):
    app = script(tmp_path, "import sys\nprint('x')\nsys.exit(3)\n")
    r = sim("run", "--flash", tmp_path / "f.bin", app)
    assert (r.returncode, r.stdout) == (3, "x\n")


def test_reset_reboots_with_a_fresh_interpreter(sim, tmp_path):
    app = script(tmp_path, "import machine, esp32sim\n"
                           "n = esp32sim.current().boot_count\n"
                           "print(n, machine.reset_cause(), 'seen' in globals())\n"
                           "seen = True\n"
                           "if n < 3:\n    machine.reset()\n")
    r = sim("run", "--main", "--flash", tmp_path / "r.bin", app)
    assert (r.returncode, r.stdout) == (0, "1 1 False\n2 2 False\n3 2 False\n")
    r = sim("run", "--flash", tmp_path / "r.bin", app)               # SCRIPT runs on the first boot only
    assert (r.returncode, r.stdout) == (0, "1 1 False\n")
    r = sim("run", "--main", "--max-boots", "2", "--flash", tmp_path / "r.bin", app)
    assert r.stdout == "1 1 False\n2 2 False\n"


def test_panic_prints_guru_meditation_and_fails(sim, tmp_path):
    app = script(tmp_path, "import machine\nprint('peek')\nmachine.mem32[0x60000000]\n")
    r = sim("run", "--flash", tmp_path / "p.bin", app)
    assert r.returncode == 1 and r.stdout == "peek\n"
    assert r.stderr.startswith("Guru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.")
    assert "Rebooting..." in r.stderr


def test_power_cut_during_a_script(sim, tmp_path):
    app = script(tmp_path, "import esp32, esp32sim\n"
                           "esp32sim.current().arm_power_cut(op=1)\n"
                           "try:\n    esp32.Partition('vfs').writeblocks(0, bytes(4096))\n"
                           "except Exception:\n    print('caught')\n"
                           "print('unreachable')\n")
    r = sim("run", "--flash", tmp_path / "c.bin", app)
    assert r.returncode == 1 and r.stdout == ""
    assert "lost power" in r.stderr


def test_script_arguments_reach_sys_argv(sim, tmp_path):
    app = script(tmp_path, "import sys\nprint(sys.argv[1:])\n")
    r = sim("run", "--flash", tmp_path / "a.bin", app, "--verbose", "x")
    assert r.stdout == "['--verbose', 'x']\n"


def test_script_folder_is_importable(sim, tmp_path):
    script(tmp_path, "VALUE = 42\n", name="helper.py")
    app = script(tmp_path, "import helper\nprint(helper.VALUE)\n")
    assert sim("run", "--flash", tmp_path / "i.bin", app).stdout == "42\n"


@pytest.mark.parametrize("args, code, words", [
    (["run", "--main"], 2, "--main needs a script"),
    (["run", "missing.py"], 1, "missing.py"),
    (["run", "--size", "3MB", "x.py"], 2, "3MB"),
    (["run", "--bogus", "x.py"], 2, "--bogus"),
    (["run", "--max-boots", "0", "x.py"], 2, "--max-boots"),
    (["run", "--layout", "nope.csv", "x.py"], 1, "nope.csv"),
])
def test_bad_invocations(sim, tmp_path, args, code, words):
    script(tmp_path, "print('never')\n", name="x.py")
    r = sim(*args)
    assert r.returncode == code, r
    assert r.stdout == "" and words in r.stderr and r.stderr.startswith("esp32sim: ")


def test_help(sim):
    for cmd in ("run", "repl"):
        r = sim(cmd, "--help")
        assert r.returncode == 0 and r.stdout.startswith("usage: esp32sim " + cmd)


def test_repl_runs_statements_on_the_board(sim, tmp_path):
    r = sim("repl", "--flash", tmp_path / "repl.bin",
            stdin="import esp32\nprint(esp32.Partition('nvs'))\nx = 5\n"
                  "import machine\nmachine.reset()\nimport machine\nprint('x' in globals(), machine.reset_cause())\n")
    assert r.returncode == 0, r
    assert "<Partition type=1, subtype=2, address=36864, size=24576, label=nvs, encrypted=0>" in r.stdout
    assert "the board was reset" in r.stdout
    assert "False 2" in r.stdout
