"""esp32.NVS under `esp32sim run` / `repl`: the tour, persistence between runs
and boots, the uncommitted-change warning and --nvs-strict."""
import pathlib

from conftest import script

HERE = pathlib.Path(__file__).parent

WARNING = "esp32sim: warning: NVS namespace 'app' had 2 uncommitted changes at {when}{suffix}\n"
STRICT = " (undone: strict mode)"



def test_nvs_tour_prints_what_a_board_prints(sim, tmp_path):
    r = sim("run", "--flash", tmp_path / "tour.bin", HERE / "scripts" / "nvs_tour.py")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == (HERE / "scripts" / "nvs_tour.expected").read_text()


COUNTER = ("import esp32\n"
           "n = esp32.NVS('app')\n"
           "try:\n    count = n.get_i32('runs')\nexcept OSError:\n    count = 0\n"
           "n.set_i32('runs', count + 1)\n"
           "n.commit()\n"
           "print(count + 1)\n")


def test_values_persist_between_runs(sim, tmp_path):
    app = script(tmp_path, COUNTER)
    outs = [sim("run", "--flash", tmp_path / "c.bin", app) for _ in range(3)]
    assert [(r.stdout, r.stderr) for r in outs] == [("1\n", ""), ("2\n", ""), ("3\n", "")]


# Boot 1 commits one value, leaves two changes uncommitted and resets; boot 2 reads back.
RESET_APP = ("import esp32, machine\n"
             "nvs = esp32.NVS('app')\n"
             "if machine.reset_cause() == machine.PWRON_RESET:\n"
             "    nvs.set_i32('kept', 1)\n"
             "    nvs.commit()\n"
             "    nvs.set_i32('lost', 2)\n"
             "    nvs.set_blob('blob', b'x')\n"
             "    print('set')\n"
             "    machine.reset()\n"
             "for key in ('kept', 'lost'):\n"
             "    try:\n        print(key, nvs.get_i32(key))\n"
             "    except OSError as e:\n        print(key, e)\n")


def test_uncommitted_changes_are_reported_at_reset(sim, tmp_path):
    r = sim("run", "--main", "--flash", tmp_path / "r.bin", script(tmp_path, RESET_APP))
    assert r.returncode == 0, r
    assert r.stdout == "set\nkept 1\nlost 2\n"              # ESP-IDF wrote them when set
    assert r.stderr == WARNING.format(when="reset", suffix="")


def test_nvs_strict_undoes_uncommitted_changes(sim, tmp_path):
    r = sim("run", "--main", "--nvs-strict", "--flash", tmp_path / "r.bin", script(tmp_path, RESET_APP))
    assert r.returncode == 0, r
    assert r.stdout == "set\nkept 1\nlost (-4354, 'ESP_ERR_NVS_NOT_FOUND')\n"
    assert r.stderr == WARNING.format(when="reset", suffix=STRICT)


def test_committed_run_gives_no_warning_in_strict_mode(sim, tmp_path):
    app = script(tmp_path, COUNTER + "import machine\nif count < 2:\n    machine.reset()\n")
    r = sim("run", "--main", "--nvs-strict", "--flash", tmp_path / "s.bin", app)
    assert (r.returncode, r.stdout, r.stderr) == (0, "1\n2\n3\n", "")


# The power fails in the middle of a write: the board powers on again between
# interpreters, so the warning comes from the command itself.
POWER_APP = ("import esp32, esp32sim, machine\n"
             "nvs = esp32.NVS('app')\n"
             "if esp32sim.current().boot_count == 1:\n"
             "    nvs.set_i32('a', 1)\n"
             "    nvs.set_i32('b', 2)\n"
             "    esp32sim.current().arm_power_cut(op=1)\n"
             "    nvs.set_i32('c', 3)\n"
             "for key in 'abc':\n"
             "    try:\n        print(key, nvs.get_i32(key))\n"
             "    except OSError as e:\n        print(key, e.errno)\n")


def test_uncommitted_changes_are_reported_at_power_loss(sim, tmp_path):
    r = sim("run", "--main", "--flash", tmp_path / "p.bin", script(tmp_path, POWER_APP))
    assert r.returncode == 0, r
    assert r.stdout == "a 1\nb 2\nc -4354\n"
    assert r.stderr == ("esp32sim: the board lost power (power cut); powering it on again\n"
                        + WARNING.format(when="power-off", suffix=""))


def test_strict_mode_cannot_undo_without_power(sim, tmp_path):
    r = sim("run", "--main", "--nvs-strict", "--flash", tmp_path / "p.bin", script(tmp_path, POWER_APP))
    assert r.returncode == 0, r
    assert r.stdout == "a 1\nb 2\nc -4354\n"
    assert r.stderr.splitlines()[1:] == [
        WARNING.format(when="power-off", suffix=STRICT).rstrip("\n"),
        "esp32sim: warning: the uncommitted NVS changes could not all be undone (ESP_ERR_FLASH_OP_FAIL)",
    ]


def test_repl_nvs_strict(sim, tmp_path):
    stdin = ("import esp32, machine\n"
             "n = esp32.NVS('app')\n"
             "n.set_i32('x', 1)\n"
             "n.set_i32('y', 2)\n"
             "machine.reset()\n"
             "import esp32\n"
             "try:\n    esp32.NVS('app').get_i32('x')\nexcept OSError as e:\n    print('x gone', e.errno)\n\n")
    r = sim("repl", "--nvs-strict", "--flash", tmp_path / "repl.bin", stdin=stdin)
    assert r.returncode == 0, r
    assert "x gone -4354" in r.stdout
    assert "esp32sim: warning: NVS namespace 'app' had 2 uncommitted changes at reset (undone: strict mode)" in r.stderr


def test_help_mentions_nvs_strict(sim):
    for cmd in ("run", "repl"):
        r = sim(cmd, "--help")
        assert r.returncode == 0 and "--nvs-strict" in r.stdout
