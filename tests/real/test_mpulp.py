"""micropython-esp32-ulp, the real package, on the board: its ESP32
examples run unchanged under `esp32sim run` with the package copied into
/lib, assemble their ULP programs on the board (the package imports btree
at import time) and behave as on hardware.

Needs a checkout of the package: scripts/check-real-packages.sh provides
it (see tests/real/README.md)."""
import re

from realpkg import board_with, checkout, run, vcd_changes

ULP_REPO = "micropython-esp32-ulp"


def ulp_board(tmp_path, example):
    repo = checkout(ULP_REPO)
    return board_with(tmp_path, {"lib/esp32_ulp": repo / "esp32_ulp"}, main=repo / "examples" / example)


def distinct(lines):
    out = []
    for line in lines:
        if not out or out[-1] != line:
            out.append(line)
    return out


def test_counter_example_counts_every_50_ms(tmp_path):
    board = ulp_board(tmp_path, "counter.py")
    result = run(board, "--until-ms", "700")
    values = distinct(result.lines)
    # the ULP counts up from 0x1000 every 50 ms of the 410 ms main.py runs
    assert values[:3] == ["0x1000", "0x1001", "0x1002"]
    assert [int(v, 16) for v in values] == list(range(0x1000, 0x1000 + len(values)))
    assert 8 <= len(values) <= 10


def test_blink_example_toggles_gpio2_every_500_ms(tmp_path):
    board = ulp_board(tmp_path, "blink.py")
    result = run(board, "--until-ms", "2800", "--vcd", str(tmp_path / "blink.vcd"))
    assert result.lines[0] == "0002 entry"            # the assembler lists global symbols
    assert distinct(result.lines[1:])[-2:] in (["0xcafe 0x1", "0xcafe 0x0"], ["0xcafe 0x0", "0xcafe 0x1"])
    changes = vcd_changes(tmp_path / "blink.vcd", "gpio2")
    highs = [t for t, level in changes if level == "1"]
    lows = [t for t, level in changes if level == "0" and t > highs[0]]
    assert len(highs) >= 3
    for a, b in zip(highs, highs[1:]):
        assert abs((b - a) - 1_000_000_000) < 2_000_000   # ns: on every second 500 ms wake-up
    assert abs((lows[0] - highs[0]) - 500_000_000) < 2_000_000


def test_readgpio_example_follows_gpio4(tmp_path):
    board = ulp_board(tmp_path, "readgpio.py")
    stimulus = tmp_path / "gpio4.json"
    stimulus.write_text('{"events": [{"at_ms": 600, "pin": 4, "level": 1}, {"at_ms": 900, "pin": 4, "level": 0}]}')
    result = run(board, "--until-ms", "1200", "--stimulus", str(stimulus))
    assert distinct(result.lines) == ["0x0", "0x1", "0x0"]


def test_assembling_on_the_board_matches_the_fixture_binary(tmp_path):
    # The counter source assembled on the board gives the bytes the
    # package's assembler gives on a host (tests/fixtures/ulp/counter.ulp).
    repo = checkout(ULP_REPO)
    source = (repo / "examples" / "counter.py").read_text()
    program = re.search(r'source = """\\\n(.*?)"""', source, re.S).group(1)
    main = tmp_path / "main.py"
    main.write_text("from esp32_ulp import src_to_binary\n"
                    f"print(src_to_binary({program!r}, cpu='esp32').hex())\n")
    board = board_with(tmp_path, {"lib/esp32_ulp": repo / "esp32_ulp"}, main=main)
    result = run(board)
    fixture = (checkout.fixtures / "ulp" / "counter.ulp").read_bytes()
    assert result.lines == [fixture.hex()]
