"""esp32sim ulp run / trace / disasm: the ULP vectors' programs on the
emulator (docs/ulp.md, docs/cli.md "ulp")."""
import json
import os
import pathlib
import re
import struct

import pytest

from conftest import failed, ok, usage_error

# json, program, entry in bytes, runs, model B cycles (EXPECTED.md). The
# "preset" scenario writes memory between load and run, which the command
# has no option for; the C tests cover it.
SCENARIOS = [
    ("counter.N1", "counter", 4, 1, 26),
    ("counter.N5", "counter", 4, 5, 26),
    ("jumpr_conds", "jumpr_conds", 12, 1, 382),
    ("stage_loops", "stage_loops", 12, 1, 426),
    ("ldst", "ldst", 0, 1, 74),
]
PROGRAMS = ["counter", "jumpr_conds", "stage_loops", "ldst"]
HALT = 0xB0000000


@pytest.fixture
def ulp_dir():
    return pathlib.Path(os.environ["ESIM_FIXTURES_DIR"]) / "ulp"


def loaded_image(binary, load_addr=0):
    """RTC slow memory (2048 words) right after ulp_load_binary."""
    _, text_offset, text_size, data_size, _ = struct.unpack_from("<IHHHH", binary)
    mem = bytearray(8192)
    body = binary[text_offset:text_offset + text_size + data_size]
    mem[4 * load_addr:4 * load_addr + len(body)] = body
    return list(struct.unpack("<2048I", mem))


def make_ulp(words, data_words=()):
    text = struct.pack(f"<{len(words)}I", *words)
    data = struct.pack(f"<{len(data_words)}I", *data_words)
    return struct.pack("<IHHHH", 0x00706C75, 12, len(text), len(data), 0) + text + data


def run_json(esp32sim, path, *options):
    r = ok(esp32sim("ulp", "run", path, "--json", *options))
    return json.loads(r.out)


@pytest.mark.parametrize("name,program,entry,runs,cycles_b", SCENARIOS)
def test_run_json_equals_expected(esp32sim, ulp_dir, name, program, entry, runs, cycles_b):
    expected = json.loads((ulp_dir / "expected" / f"{name}.json").read_text())
    path = ulp_dir / f"{program}.ulp"
    got = run_json(esp32sim, path, "--entry", entry, "--runs", runs)
    assert sorted(got) == ["cycles", "mem", "overflow", "regs", "stage_cnt", "wake_count", "zero"]
    assert got["cycles"] == [run["cycles"] for run in expected["runs"]]
    assert got["regs"] == [int(expected["regs"][f"r{i}"], 16) for i in range(4)]
    assert got["stage_cnt"] == expected["stage_cnt"]
    assert got["zero"] is expected["zero"]
    assert got["overflow"] is expected["overflow"]
    assert got["wake_count"] == expected["wake_signals"]
    # every word: the listed ones (full 32 bits) and the loaded image elsewhere
    want = loaded_image(path.read_bytes())
    for index, value in expected["changed_or_dumped_words"].items():
        want[int(index)] = int(value, 16)
    assert len(got["mem"]) == 2048
    assert got["mem"] == want
    b = run_json(esp32sim, path, "--entry", entry, "--runs", runs, "--cycle-model", "B")
    assert b["cycles"] == [cycles_b] * runs
    assert b["mem"] == want


def test_run_text(esp32sim, ulp_dir):
    r = ok(esp32sim("ulp", "run", ulp_dir / "counter.ulp", "--entry", "4", "--runs", "3"))
    assert "runs: 3\n" in r.out
    assert "cycles per run: 30 30 30\n" in r.out
    assert "r2=0x0003" in r.out
    assert "[0] 0x00830003 (was 0x00000000)" in r.out


def test_load_addr(esp32sim, ulp_dir):
    # counter at word 64: its code uses absolute addresses (word 0), so the
    # counter lands in word 0 while the image sits at 64..69
    path = ulp_dir / "counter.ulp"
    got = run_json(esp32sim, path, "--load-addr", "64", "--entry", 4 * 65, "--runs", "2")
    assert got["mem"][0] & 0xFFFF == 2
    assert got["mem"][64:70] == loaded_image(path.read_bytes())[0:6]
    assert got["cycles"] == [30, 30]


def test_disasm_equals_listing(esp32sim, ulp_dir):
    for name in PROGRAMS:
        r = ok(esp32sim("ulp", "disasm", ulp_dir / f"{name}.ulp"))
        listing = (ulp_dir / f"{name}.lst").read_text()
        # the .lst is the verbose listing: drop the per-field lines
        want = [line for line in listing.splitlines() if not line.startswith("          ")]
        assert r.out.splitlines() == want, name


def test_trace(esp32sim, ulp_dir):
    r = ok(esp32sim("ulp", "trace", ulp_dir / "counter.ulp", "--entry", "4", "--runs", "2"))
    lines = r.out.splitlines()
    assert lines[0] == "run 1 at 130.000 us"
    steps = [line for line in lines if re.match(r"^ +\d+  [0-9a-f]{8}  ", line)]
    assert len(steps) == 10
    first = steps[0].split()
    assert first[:5] == ["1", "72800003", "MOVE", "r3,", "0"]
    assert "Z=1 OV=0" in steps[0]
    assert steps[2].split()[2:6] == ["ADD", "r2,", "r2,", "1"]
    assert "r2=0001" in steps[2] and steps[2].endswith("cycles=20")
    assert steps[4].split()[2] == "HALT" and steps[4].endswith("cycles=30")
    assert "r2=0002" in steps[7]
    assert lines[-2:] == ["run 1: 30 cycles", "run 2: 30 cycles"]


def test_trace_json(esp32sim, ulp_dir):
    r = ok(esp32sim("ulp", "trace", ulp_dir / "jumpr_conds.ulp", "--entry", "12", "--json"))
    steps = [json.loads(line) for line in r.out.splitlines()]
    assert steps[0]["pc"] == 3 and steps[0]["insn"] == "MOVE r1, 0" and steps[0]["cycles"] == 6
    assert steps[-1]["insn"] == "HALT"
    assert steps[-1]["cycles"] == 494
    assert steps[-1]["regs"] == [1, 0x1996, 10, 55]
    assert all(s["run"] == 1 for s in steps)
    # cycles rise by the cost of each instruction: 6 ALU, 4 branches, 8 ST
    cost = {"MOVE": 6, "OR": 6, "ADD": 6, "SUB": 6, "JUMP": 4, "JUMPR": 4, "ST": 8, "HALT": 2}
    for before, step in zip(steps, steps[1:]):
        assert step["cycles"] - before["cycles"] == cost[step["insn"].split()[0]], step


def test_program_stopping_the_timer(esp32sim, tmp_path):
    # ADD r1, r1, 1 ; REG_WR 0x006, 24, 24, 0 (I_END) ; HALT
    path = tmp_path / "once.ulp"
    path.write_bytes(make_ulp([0x72000015, 0x1C600006, HALT]))
    got = run_json(esp32sim, path, "--runs", "5")
    assert got["cycles"] == [6 + 12 + 2]
    assert got["regs"][1] == 1


def test_wake_counted(esp32sim, tmp_path):
    path = tmp_path / "wake.ulp"
    path.write_bytes(make_ulp([0x90000001, HALT]))
    got = run_json(esp32sim, path, "--runs", "3")
    assert got["wake_count"] == 3
    assert got["cycles"] == [8, 8, 8]


def test_no_halt_is_an_error(esp32sim, tmp_path):
    path = tmp_path / "loop.ulp"
    path.write_bytes(make_ulp([0x72000015, 0x80000000]))   # ADD r1, r1, 1 ; JUMP 0
    failed(esp32sim("ulp", "run", path, "--max-cycles", "1000"), "did not HALT", "1000 cycles")


@pytest.fixture
def loader_cases(ulp_dir):
    """(file, load_addr, error name or None) from loader/RESULTS.md."""
    rows = re.findall(r"^\| loader/(\S+)\.ulp \| \d+ \| (\d+) \| (.+?) \|$",
                      (ulp_dir / "loader" / "RESULTS.md").read_text(), re.M)
    assert len(rows) == 13
    return [(f, int(addr), None if res == "OK" else res.split()[1]) for f, addr, res in rows]


def test_loader_vectors(esp32sim, ulp_dir, loader_cases):
    for name, load_addr, error in loader_cases:
        entry = 4 * (load_addr + 1)   # the counter's code starts at its word 1
        r = esp32sim("ulp", "run", ulp_dir / "loader" / f"{name}.ulp", "--load-addr", load_addr, "--entry", entry)
        if error is None:
            ok(r)
            if name != "fits_exactly_2040":   # NOPs, not the counter
                assert "cycles per run: 30\n" in r.out, name
        else:
            failed(r, f"{name}.ulp", error)


def test_disasm_errors(esp32sim, ulp_dir, tmp_path):
    failed(esp32sim("ulp", "disasm", ulp_dir / "loader" / "bad_magic.ulp"), "ESP_ERR_NOT_SUPPORTED")
    failed(esp32sim("ulp", "disasm", ulp_dir / "loader" / "truncated.ulp"), "ESP_ERR_INVALID_SIZE")
    failed(esp32sim("ulp", "disasm", tmp_path / "missing.ulp"), "no such file")
    # a header that adds up but does not fit below RESERVE_MEM still lists
    r = ok(esp32sim("ulp", "disasm", ulp_dir / "loader" / "too_big_2044.ulp"))
    assert ".text size   : 2032 (0x7f0)" in r.out


def test_disasm_every_kind(esp32sim, tmp_path):
    words = [0x21040321, 0x10880D23, 0x50000060, 0xA0000009, 0x30110003, 0x39130100, 0x40000064,
             0x92000001, 0x90000001, 0x80600001, 0x74200030, 0xC0000000]
    path = tmp_path / "kinds.ulp"
    path.write_bytes(make_ulp(words, [0x12345678, 0]))
    r = ok(esp32sim("ulp", "disasm", path))
    text = [line[16:] for line in r.out.splitlines() if re.match(r"^[0-9a-f]{4}  ", line)]
    assert text == ["REG_RD 0x321, 2, 1", "REG_WR 0x123, 1, 2, 3", "ADC r0, 1, 8", "TSENS r1, 2",
                    "I2C_RD 3, 2, 1, 0", "I2C_WR 0, 1, 2, 3, 4", "WAIT 100", "SLEEP 1", "WAKE",
                    "JUMP r1, EQ", "STAGE_DEC 3", ".long 0xc0000000", "<non-empty>", "<empty>"]
    assert "0030  78563412  <non-empty>" in r.out


def test_usage_errors(esp32sim, ulp_dir, tmp_path):
    counter = ulp_dir / "counter.ulp"
    usage_error(esp32sim("ulp", "run"), "ulp run")
    usage_error(esp32sim("ulp", "run", counter, "--entry", "5"), "ulp run")
    usage_error(esp32sim("ulp", "run", counter, "--entry", "8192"), "ulp run")
    usage_error(esp32sim("ulp", "run", counter, "--runs", "x"), "ulp run")
    usage_error(esp32sim("ulp", "run", counter, "--cycle-model", "C"), "ulp run")
    usage_error(esp32sim("ulp", "run", counter, "--max-cycles", "0"), "ulp run")
    usage_error(esp32sim("ulp", "trace", counter, "--bogus"), "ulp trace")
    usage_error(esp32sim("ulp", "disasm"), "ulp disasm")
    usage_error(esp32sim("ulp", "disasm", counter, counter), "ulp disasm")
    usage_error(esp32sim("ulp", "frobnicate"), "ulp")
    failed(esp32sim("ulp", "run", tmp_path / "missing.ulp"), "missing.ulp", "no such file")


def test_help(esp32sim):
    for args in (("ulp", "--help"), ("help", "ulp"), ("ulp", "run", "--help"), ("ulp", "trace", "-h"),
                 ("ulp", "disasm", "--help")):
        r = ok(esp32sim(*args))
        assert r.out.startswith("Usage: esp32sim ulp"), args
    assert "ulp run|trace|disasm" in ok(esp32sim("--help")).out
