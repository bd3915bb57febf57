"""esp32sim nvs: mkimage / export / dump / check / get / set / erase, against
the images ESP-IDF's NVS partition generator made and nvs_tool.py's dumps
of them (tests/fixtures/nvs)."""
import base64
import csv
import json
import os
import pathlib
import random
import shutil
import stat
import subprocess

import pytest

from conftest import failed, ok, usage_error

NVS_OFFSET, NVS_SIZE = 0x9000, 0x6000
VECTORS = [("nvs_basic.csv", "nvs_basic_0x6000"),
           ("nvs_multipage_blob_6000.csv", "nvs_mpblob5000_0x6000")]
SUBCOMMANDS = ["mkimage", "export", "dump", "check", "get", "set", "erase"]


@pytest.fixture
def nvs_dir(tmp_path):
    """A writable copy of tests/fixtures/nvs (CSV file rows are relative)."""
    src = pathlib.Path(os.environ["ESIM_FIXTURES_DIR"]) / "nvs"
    dst = tmp_path / "nvs"
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        p.chmod(p.stat().st_mode | stat.S_IWUSR)
    return dst


@pytest.fixture
def run_in(esp32sim):
    """esp32sim run in a given folder: run_in(folder, "nvs", ...)."""
    binary = os.environ["ESP32SIM"]

    def run(cwd, *args):
        proc = subprocess.run([binary, *map(str, args)], capture_output=True, timeout=120, cwd=cwd)
        from conftest import Result
        return Result(proc)

    return run


def expected_values(csv_path):
    """{ns: {key: (type, value)}} as the CSV asks, in the dump's words."""
    out, ns = {}, None
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["type"] == "namespace":
                ns = out.setdefault(row["key"], {})
                continue
            enc, value = row["encoding"], row["value"]
            if row["type"] == "file":
                data = (pathlib.Path(csv_path).parent / value).read_bytes()
                ns[row["key"]] = ("blob", data.hex())
            elif enc == "string":
                ns[row["key"]] = ("string", value)
            elif enc == "hex2bin":
                ns[row["key"]] = ("blob", value.lower())
            elif enc == "base64":
                ns[row["key"]] = ("blob", base64.b64decode(value).hex())
            else:
                ns[row["key"]] = (enc, int(value))
    return out


def dumped_values(dump):
    return {ns: {k: (v["type"], v["value"]) for k, v in keys.items()}
            for ns, keys in dump["namespaces"].items()}


def page_section(text):
    """The nvs_tool-like part of a text dump: from the first 'Page' line."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("Page "))
    return "".join(lines[start:])


def page_lines(text):
    return [line for line in text.splitlines() if line.startswith("Page")]


def full_image(esp32sim, tmp_path, nvs_bin, name="board.bin"):
    board = tmp_path / name
    ok(esp32sim("flash", "new", board))
    r = esp32sim("part", "write", board, "nvs", nvs_bin)
    assert r.code == 0, r
    return board


# ---- help ----

def test_group_help(esp32sim):
    r = ok(esp32sim("nvs", "--help"))
    for sub in SUBCOMMANDS:
        assert f"  {sub} " in r.out
    assert ok(esp32sim("help", "nvs")).out == r.out
    assert "nvs mkimage|export|dump|check|get|set|erase" in ok(esp32sim("--help")).out


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_subcommand_help(esp32sim, sub):
    r = ok(esp32sim("nvs", sub, "--help"))
    assert r.out.startswith(f"Usage: esp32sim nvs {sub} ")
    assert ok(esp32sim("nvs", sub, "-h")).out == r.out


def test_unknown_subcommand(esp32sim):
    usage_error(esp32sim("nvs", "frobnicate"), "nvs")
    usage_error(esp32sim("nvs"), "nvs")


# ---- mkimage ----

@pytest.mark.parametrize("csv_name,stem", VECTORS)
def test_mkimage_matches_generator(run_in, nvs_dir, csv_name, stem):
    ok(run_in(nvs_dir, "nvs", "mkimage", csv_name, "0x6000", "-o", "out.bin"))
    assert (nvs_dir / "out.bin").read_bytes() == (nvs_dir / f"{stem}.bin").read_bytes()


def test_mkimage_sizes(run_in, nvs_dir):
    ok(run_in(nvs_dir, "nvs", "mkimage", "nvs_basic.csv", "24K", "-o", "a.bin"))
    assert (nvs_dir / "a.bin").read_bytes() == (nvs_dir / "nvs_basic_0x6000.bin").read_bytes()
    ok(run_in(nvs_dir, "nvs", "mkimage", "nvs_basic.csv", "0x10000", "-o", "b.bin"))
    big = (nvs_dir / "b.bin").read_bytes()
    assert len(big) == 0x10000 and big[:0x6000] == (nvs_dir / "a.bin").read_bytes()
    assert big[0x6000:] == b"\xff" * 0xA000


def test_mkimage_version1(run_in, nvs_dir):
    (nvs_dir / "v1.csv").write_text("key,type,encoding,value\nns,namespace,,\nb,data,hex2bin,0102\n")
    ok(run_in(nvs_dir, "nvs", "mkimage", "v1.csv", "0x3000", "-o", "v1.bin", "--version", "1"))
    image = (nvs_dir / "v1.bin").read_bytes()
    assert image[8] == 0xFF and image[64 + 32 + 1] == 0x41
    usage_error(run_in(nvs_dir, "nvs", "mkimage", "v1.csv", "0x3000", "-o", "x.bin", "--version", "3"),
                "nvs mkimage")


@pytest.mark.parametrize("row,words", [
    ("a,data,u9,1", ["line 3", "unknown encoding 'u9'"]),
    ("a,data,u8,256", ["line 3", "out of range (0..255)"]),
    ("a,data,i16,-40000", ["line 3", "out of range (-32768..32767)"]),
    ("a,data,u32,ten", ["line 3", "not a decimal integer"]),
    ("a_key_of_16_chrs,data,u8,1", ["line 3", "longer than 15 bytes"]),
    ("a,data,hex2bin,abc", ["line 3", "odd number of digits"]),
    ("a,data,base64,QUJDRA=", ["line 3", "incorrect padding"]),
    ("a,file,binary,missing.bin", ["line 3", "cannot open file 'missing.bin'"]),
    ("a,data,string," + "x" * 3968, ["line 3", "3968 bytes"]),
    ("big,data,hex2bin," + "ab" * 9000, ["line 3", "does not fit"]),
])
def test_mkimage_bad_rows(run_in, nvs_dir, row, words):
    (nvs_dir / "bad.csv").write_text("key,type,encoding,value\nns,namespace,,\n" + row + "\n")
    failed(run_in(nvs_dir, "nvs", "mkimage", "bad.csv", "0x3000", "-o", "bad.bin"),
           "esp32sim: nvs mkimage: bad.csv: ", *words)
    assert not (nvs_dir / "bad.bin").exists()


@pytest.mark.parametrize("size,words", [("0x6100", ["not a multiple of 4096"]),
                                        ("0x2000", ["below the minimum of 0x3000"])])
def test_mkimage_bad_size(run_in, nvs_dir, size, words):
    failed(run_in(nvs_dir, "nvs", "mkimage", "nvs_basic.csv", size, "-o", "x.bin"), "nvs mkimage", *words)


def test_mkimage_usage(run_in, nvs_dir):
    usage_error(run_in(nvs_dir, "nvs", "mkimage", "nvs_basic.csv", "0x6000"), "nvs mkimage")
    usage_error(run_in(nvs_dir, "nvs", "mkimage", "nvs_basic.csv", "-o", "x.bin"), "nvs mkimage")
    usage_error(run_in(nvs_dir, "nvs", "mkimage", "nvs_basic.csv", "lots", "-o", "x.bin"), "nvs mkimage")
    failed(run_in(nvs_dir, "nvs", "mkimage", "nope.csv", "0x6000", "-o", "x.bin"),
           "esp32sim: nvs mkimage: nope.csv: no such file")


def test_mkimage_duplicate_key_warns(run_in, nvs_dir):
    (nvs_dir / "dup.csv").write_text("key,type,encoding,value\nns,namespace,,\na,data,u8,1\na,data,u8,2\n")
    r = run_in(nvs_dir, "nvs", "mkimage", "dup.csv", "0x3000", "-o", "dup.bin")
    assert r.code == 0, r
    assert "esp32sim: nvs mkimage: dup.csv: line 4: warning: key 'a' is already set" in r.err


# ---- dump ----

@pytest.mark.parametrize("csv_name,stem", VECTORS)
def test_dump_json_values_match_csv(esp32sim, nvs_dir, csv_name, stem):
    r = ok(esp32sim("nvs", "dump", "--json", nvs_dir / f"{stem}.bin"))
    dump = json.loads(r.out)
    assert dumped_values(dump) == expected_values(nvs_dir / csv_name)
    assert dump["partition"] == {"label": None, "offset": 0, "size": NVS_SIZE, "bare": True}
    pages = dump["pages"]
    assert [p["address"] for p in pages] == list(range(0, NVS_SIZE, 0x1000))
    assert pages[-1]["state"] == "Empty" and pages[-1]["blank"]
    assert all(p["crc"]["ok"] for p in pages if not p["blank"])


def test_dump_json_pages(esp32sim, nvs_dir):
    dump = json.loads(ok(esp32sim("nvs", "dump", "--json", nvs_dir / "nvs_mpblob5000_0x6000.bin")).out)
    p0, p1 = dump["pages"][:2]
    assert (p0["state"], p0["seq"], p0["version"]) == ("Full", 0, 2)
    assert p0["counts"] == {"written": 126, "erased": 0, "empty": 0, "illegal": 0}
    assert (p1["state"], p1["seq"]) == ("Active", 1)
    assert p1["counts"]["written"] == 37
    chunk0 = p0["entries"][2]
    assert (chunk0["type"], chunk0["key"], chunk0["chunk_index"], chunk0["size"]) == ("blob_data", "bigblob", 0, 3936)
    data = (nvs_dir / "data" / "blob_5000.bin").read_bytes()
    assert chunk0["data"] == data[:3936].hex() and chunk0["data_crc"]["ok"]
    index = p1["entries"][1]
    assert (index["type"], index["size"], index["chunk_count"], index["chunk_start"]) == ("blob_index", 5000, 2, 0)


@pytest.mark.parametrize("csv_name,stem", VECTORS)
def test_dump_text_pages_match_nvs_tool(esp32sim, nvs_dir, csv_name, stem):
    r = ok(esp32sim("nvs", "dump", nvs_dir / f"{stem}.bin"))
    assert page_section(r.out) == (nvs_dir / f"{stem}.all.txt").read_text(encoding="utf-8")


def test_dump_text_values(esp32sim, nvs_dir):
    r = ok(esp32sim("nvs", "dump", nvs_dir / "nvs_basic_0x6000.bin"))
    head = r.out[:r.out.index("\nPage ")]
    assert "a bare NVS image" in head
    assert "Namespace storage (index 1)\n  u8key (u8) = 200\n" in head
    assert '  strkey (string) = "hello world"\n' in head
    assert "  u64key (u64) = 18446744073709551615\n" in head
    assert "  blobkey (blob) = 6 bytes: deadbeef00ff\n" in head
    assert "Namespace mp_nvs (index 3)\n  counter (i32) = 42\n" in head


def test_dump_engine_image(esp32sim, nvs_dir):
    """An image ESP-IDF's engine wrote: erased entries, blob version 0x80."""
    image = nvs_dir / "rt01_mp_session_0x6000.bin"
    dump = json.loads(ok(esp32sim("nvs", "dump", "--json", image)).out)
    values = dumped_values(dump)
    assert list(values) == ["mp"]
    assert values["mp"]["s"] == ("string", "hello")
    assert values["mp"]["b"] == ("blob", bytes((7 * k + 1) & 0xFF for k in range(100)).hex())
    assert "a" not in values["mp"]
    text = ok(esp32sim("nvs", "dump", image)).out
    assert page_section(text) == (nvs_dir / "rt01_mp_session_0x6000.nvs_tool.all.txt").read_text(encoding="utf-8")


# ---- bare and full images ----

def test_full_image_default_partition(esp32sim, nvs_dir, tmp_path):
    board = full_image(esp32sim, tmp_path, nvs_dir / "nvs_basic_0x6000.bin")
    before = board.read_bytes()
    dump = json.loads(ok(esp32sim("nvs", "dump", "--json", board)).out)
    assert dump["partition"] == {"label": "nvs", "offset": NVS_OFFSET, "size": NVS_SIZE, "bare": False}
    assert dumped_values(dump) == expected_values(nvs_dir / "nvs_basic.csv")
    same = json.loads(ok(esp32sim("nvs", "dump", "--json", board, "--offset", "0x9000", "--size", "0x6000")).out)
    assert dumped_values(same) == dumped_values(dump)
    named = json.loads(ok(esp32sim("nvs", "dump", "--json", board, "--partition", "nvs")).out)
    assert dumped_values(named) == dumped_values(dump)
    assert board.read_bytes() == before   # looking writes nothing


def test_flash_sized_file_without_table_is_bare(esp32sim, run_in, nvs_dir):
    ok(run_in(nvs_dir, "nvs", "mkimage", "nvs_basic.csv", "2M", "-o", "two.bin"))
    dump = json.loads(ok(esp32sim("nvs", "dump", "--json", nvs_dir / "two.bin")).out)
    assert dump["partition"]["bare"] and dump["partition"]["size"] == 2 * 1024 * 1024
    assert dumped_values(dump) == expected_values(nvs_dir / "nvs_basic.csv")


def test_partition_options(esp32sim, nvs_dir, tmp_path):
    board = full_image(esp32sim, tmp_path, nvs_dir / "nvs_basic_0x6000.bin")
    failed(esp32sim("nvs", "dump", board, "--partition", "phy_init"), "board.bin", "'phy_init' is not an NVS partition")
    failed(esp32sim("nvs", "dump", board, "--partition", "nope"), "board.bin", "no partition labelled 'nope'")
    failed(esp32sim("nvs", "get", nvs_dir / "nvs_basic_0x6000.bin", "storage", "u8key", "--partition", "nvs"),
           "a bare NVS image")
    usage_error(esp32sim("nvs", "dump", board, "--offset", "0x9000"), "nvs dump")
    usage_error(esp32sim("nvs", "dump", board, "--offset", "0x9000", "--size", "0x6000", "--partition", "nvs"),
                "nvs dump")
    failed(esp32sim("nvs", "dump", board, "--offset", "0x9100", "--size", "0x6000"), "multiples of 4096")
    failed(esp32sim("nvs", "dump", board, "--offset", "0x3ff000", "--size", "0x6000"), "past the end")


def test_missing_and_odd_files(esp32sim, tmp_path):
    for sub in ["dump", "check", "export"]:
        failed(esp32sim("nvs", sub, tmp_path / "nope.bin"), f"esp32sim: nvs {sub}: ", "nope.bin: no such file")
    odd = tmp_path / "odd.bin"
    odd.write_bytes(b"\xff" * 5000)
    failed(esp32sim("nvs", "dump", odd), "esp32sim: nvs dump: ", "odd.bin", "4096-byte pages")
    usage_error(esp32sim("nvs", "dump"), "nvs dump")


# ---- get / set / erase ----

@pytest.fixture(params=["bare", "full"])
def writable(request, esp32sim, nvs_dir, tmp_path):
    src = nvs_dir / "nvs_basic_0x6000.bin"
    if request.param == "full":
        return full_image(esp32sim, tmp_path, src)
    image = tmp_path / "bare.bin"
    image.write_bytes(src.read_bytes())
    return image


@pytest.mark.parametrize("ns,key,expected", [
    ("storage", "u8key", "200"), ("storage", "i8key", "-100"), ("storage", "u64key", "18446744073709551615"),
    ("storage", "i64key", "-9223372036854775808"), ("storage", "strkey", "hello world"),
    ("storage", "emptystr", ""), ("storage", "blobkey", "deadbeef00ff"), ("net", "port", "8080"),
    ("mp_nvs", "cfg", bytes(range(1, 33)).hex())])
def test_get(esp32sim, writable, ns, key, expected):
    before = writable.read_bytes()
    assert ok(esp32sim("nvs", "get", writable, ns, key)).out == expected + "\n"
    assert writable.read_bytes() == before


def test_get_missing(esp32sim, writable):
    failed(esp32sim("nvs", "get", writable, "storage", "nokey"), "esp32sim: nvs get: ", "key 'nokey' not found",
           "ESP_ERR_NVS_NOT_FOUND")
    failed(esp32sim("nvs", "get", writable, "nons", "u8key"), "namespace 'nons' not found", "ESP_ERR_NVS_NOT_FOUND")
    usage_error(esp32sim("nvs", "get", writable, "storage"), "nvs get")


def test_get_read_only_file(esp32sim, nvs_dir, tmp_path):
    board = full_image(esp32sim, tmp_path, nvs_dir / "nvs_basic_0x6000.bin")
    os.remove(str(board) + ".wear")
    board.chmod(0o444)
    try:
        assert ok(esp32sim("nvs", "get", board, "net", "ssid")).out == "MyNetwork\n"
        assert not os.path.exists(str(board) + ".wear")
    finally:
        board.chmod(0o644)


@pytest.mark.parametrize("type_,value,shown", [
    ("u8", "255", "255"), ("i8", "-128", "-128"), ("u16", "0xffff", "65535"), ("i16", "-32768", "-32768"),
    ("u32", "4294967295", "4294967295"), ("i32", "-5", "-5"), ("u64", "18446744073709551615", "18446744073709551615"),
    ("i64", "-9223372036854775808", "-9223372036854775808"), ("string", "héllo, wörld", "héllo, wörld"),
    ("string", "", ""), ("blob", "00FF10", "00ff10"), ("blob", "", "")])
def test_set_then_get(esp32sim, writable, type_, value, shown):
    size = writable.stat().st_size
    r = esp32sim("nvs", "set", writable, "newns", "k", "--type", type_, value)
    assert r.code == 0 and r.out == "" and r.err == "", r
    assert ok(esp32sim("nvs", "get", writable, "newns", "k")).out == shown + "\n"
    assert writable.stat().st_size == size
    assert ok(esp32sim("nvs", "get", writable, "storage", "strkey")).out == "hello world\n"
    check = esp32sim("nvs", "check", writable)
    assert check.code == 0 and ", 0 errors" in check.out, check


def test_set_negative_after_dashdash(esp32sim, writable):
    ok(esp32sim("nvs", "set", writable, "storage", "neg", "--type", "i32", "--", "-7"))
    assert ok(esp32sim("nvs", "get", writable, "storage", "neg")).out == "-7\n"


def test_set_replaces_and_dump_sees_it(esp32sim, writable):
    ok(esp32sim("nvs", "set", writable, "storage", "u8key", "--type", "u8", "7"))
    ok(esp32sim("nvs", "set", writable, "storage", "strkey", "--type", "string", "bye"))
    values = dumped_values(json.loads(ok(esp32sim("nvs", "dump", "--json", writable)).out))
    assert values["storage"]["u8key"] == ("u8", 7)
    assert values["storage"]["strkey"] == ("string", "bye")
    assert values["net"]["ssid"] == ("string", "MyNetwork")


@pytest.mark.parametrize("args", [
    ["storage", "k", "1"], ["storage", "k", "--type", "u9", "1"], ["storage", "k", "--type", "u8", "256"],
    ["storage", "k", "--type", "u8", "-1"], ["storage", "k", "--type", "i8", "x"],
    ["storage", "k", "--type", "blob", "abc"], ["storage", "k", "--type", "blob", "zz"], ["storage", "k"]])
def test_set_usage_errors(esp32sim, writable, args):
    before = writable.read_bytes()
    usage_error(esp32sim("nvs", "set", writable, *args), "nvs set")
    assert writable.read_bytes() == before


def test_set_engine_error(esp32sim, writable):
    before = writable.read_bytes()
    failed(esp32sim("nvs", "set", writable, "storage", "a_key_of_16_chrs", "--type", "u8", "1"),
           "esp32sim: nvs set: ", "ESP_ERR_NVS_KEY_TOO_LONG")
    if writable.name == "bare.bin":
        assert writable.read_bytes() == before   # a bare image is saved only on success


def test_erase(esp32sim, writable):
    r = esp32sim("nvs", "erase", writable, "storage", "blobkey")
    assert r.code == 0 and r.out == "" and r.err == "", r
    failed(esp32sim("nvs", "get", writable, "storage", "blobkey"), "ESP_ERR_NVS_NOT_FOUND")
    failed(esp32sim("nvs", "erase", writable, "storage", "blobkey"), "esp32sim: nvs erase: ", "key 'blobkey' not found",
           "ESP_ERR_NVS_NOT_FOUND")
    failed(esp32sim("nvs", "erase", writable, "nons", "blobkey"), "namespace 'nons' not found")
    assert ok(esp32sim("nvs", "get", writable, "storage", "b64key")).out == b"Hello base64".hex() + "\n"
    exported = ok(esp32sim("nvs", "export", writable)).out
    assert "blobkey" not in exported and "b64key" in exported


def test_set_on_readonly_partition(esp32sim, tmp_path):
    layout = tmp_path / "ro.csv"
    layout.write_text("nvs,data,nvs,0x9000,0x6000,readonly\nfactory,app,factory,0x10000,0x100000,\n")
    board = tmp_path / "ro.bin"
    r = esp32sim("flash", "new", board, "--layout", layout)
    if r.code != 0:
        pytest.skip(f"the table refuses a readonly nvs partition: {r.err}")
    before = board.read_bytes()
    failed(esp32sim("nvs", "set", board, "ns", "k", "--type", "u8", "1"), "partition 'nvs' is read-only")
    assert board.read_bytes() == before


# ---- export ----

@pytest.mark.parametrize("csv_name,stem", VECTORS)
def test_export_round_trip(esp32sim, run_in, nvs_dir, csv_name, stem):
    ok(esp32sim("nvs", "export", nvs_dir / f"{stem}.bin", "-o", nvs_dir / "e.csv"))
    text = (nvs_dir / "e.csv").read_text()
    assert text.startswith("key,type,encoding,value\n")
    assert ok(esp32sim("nvs", "export", nvs_dir / f"{stem}.bin")).out == text
    ok(run_in(nvs_dir, "nvs", "mkimage", "e.csv", "0x6000", "-o", "again.bin"))
    assert (nvs_dir / "again.bin").read_bytes() == (nvs_dir / f"{stem}.bin").read_bytes()


def test_export_values_match_csv(esp32sim, nvs_dir, tmp_path):
    board = full_image(esp32sim, tmp_path, nvs_dir / "nvs_basic_0x6000.bin")
    out = tmp_path / "board.csv"
    ok(esp32sim("nvs", "export", board, "-o", out))
    assert expected_values(out) == expected_values(nvs_dir / "nvs_basic.csv")


# ---- check ----

@pytest.mark.parametrize("stem,report", [
    ("nvs_basic_0x6000", "nvs_basic_0x6000.integrity.txt"),
    ("nvs_mpblob5000_0x6000", "nvs_mpblob5000_0x6000.integrity.txt"),
    ("rt01_mp_session_0x6000", "rt01_mp_session_0x6000.nvs_tool.integrity.txt")])
def test_check_clean_like_nvs_tool(esp32sim, nvs_dir, stem, report):
    r = ok(esp32sim("nvs", "check", nvs_dir / f"{stem}.bin"))
    assert page_lines(r.out) == page_lines((nvs_dir / report).read_text())
    assert r.out.rstrip().endswith(f"{stem}.bin: 6 pages, 0 errors, 0 warnings")


def test_check_full_image(esp32sim, nvs_dir, tmp_path):
    board = full_image(esp32sim, tmp_path, nvs_dir / "nvs_mpblob5000_0x6000.bin")
    r = ok(esp32sim("nvs", "check", board))
    assert "NVS partition 'nvs' of " in r.out and ", 0 errors, 0 warnings" in r.out


def damaged_copy(nvs_dir, stem, tmp_path, change):
    image = bytearray((nvs_dir / f"{stem}.bin").read_bytes())
    change(image)
    path = tmp_path / "damaged.bin"
    path.write_bytes(bytes(image))
    return path


def flip(offset, mask=0x01):
    def change(image):
        image[offset] ^= mask
    return change


@pytest.mark.parametrize("stem,change,words", [
    ("nvs_basic_0x6000", flip(64 + 3 * 32 + 4), ["page 0 entry 003, key 'u16key': entry CRC32 is 66548aa2"]),
    ("nvs_basic_0x6000", flip(28), ["page 0: header CRC32"]),
    ("nvs_basic_0x6000", flip(64 + 10 * 32 + 3), ["page 0 entry 009, key 'strkey': data CRC32"]),
    ("nvs_basic_0x6000", flip(32 + 1, 0x0C), ["page 0 entry 005: bitmap state 0b01 is illegal"]),
    ("nvs_basic_0x6000", flip(32 + 2, 0x20), ["page 0 entry 009, key 'strkey': data entry 010 is erased"]),
    ("nvs_mpblob5000_0x6000", flip(0x1000 + 32 + 8, 0x80), ["chunk 0 of blob 'bigblob' has no blob index",
                                                            "chunk 1 of blob 'bigblob' has no blob index"]),
    ("nvs_mpblob5000_0x6000", flip(0x1000 + 32, 0x01), ["page 1 entry 000", "blob 'bigblob': chunk 1 is missing"]),
])
def test_check_damaged(esp32sim, nvs_dir, tmp_path, stem, change, words):
    r = esp32sim("nvs", "check", damaged_copy(nvs_dir, stem, tmp_path, change))
    assert r.code == 1, r
    assert "  error: " in r.out
    for w in words:
        assert w in r.out, (w, r.out)


def test_check_truncated(esp32sim, nvs_dir, tmp_path):
    data = (nvs_dir / "nvs_mpblob5000_0x6000.bin").read_bytes()
    for n, words in [(0x5800, ["22528 bytes, not a multiple of 4096"]),
                     (0x2000, ["no free page", "at least 3"]), (0, ["0 whole page(s)"])]:
        path = tmp_path / f"cut{n}.bin"
        path.write_bytes(data[:n])
        r = esp32sim("nvs", "check", path)
        assert r.code == 1, r
        for w in words:
            assert w in r.out, (w, r.out)


def test_check_power_loss_leftover_is_a_warning(esp32sim, nvs_dir):
    r = ok(esp32sim("nvs", "check", nvs_dir / "rt03_powerloss_after_32B.before_mount.bin"))
    assert "  warning: page 0 entry 003: programmed but its bitmap state is empty" in r.out
    assert "0 errors, 1 warnings" in r.out


@pytest.mark.parametrize("seed", range(8))
def test_check_garbage_never_crashes(esp32sim, tmp_path, seed):
    rnd = random.Random(seed)
    size = rnd.choice([4096 * rnd.randint(1, 8), rnd.randint(0, 40000)])
    data = bytearray(rnd.randbytes(size))
    for page in range(0, len(data) - 4096 + 1, 4096):   # some plausible headers
        if rnd.random() < 0.5:
            data[page:page + 4] = rnd.choice([b"\xfe\xff\xff\xff", b"\xfc\xff\xff\xff", b"\xff\xff\xff\xff"])
    path = tmp_path / "garbage.bin"
    path.write_bytes(bytes(data))
    r = esp32sim("nvs", "check", path)
    assert r.code in (0, 1), r
    assert r.code == 1 or size == 0 or "0 errors" in r.out
    r = esp32sim("nvs", "dump", "--json", path)
    assert r.code in (0, 1), r


# ---- larger generated images: engine, check and export agree ----

def random_csv(seed):
    """Rows of every kind, strings and blobs of sizes that cross pages."""
    rnd = random.Random(seed)
    rows, expected = ["key,type,encoding,value"], {}
    for n in range(rnd.randint(1, 4)):
        ns = f"ns{n}"
        rows.append(f"{ns},namespace,,")
        keys = expected.setdefault(ns, {})
        for k in range(rnd.randint(0, 12)):
            key = f"k{k}"
            kind = rnd.choice(["int", "string", "blob", "base64"])
            if kind == "int":
                enc = rnd.choice(["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64"])
                bits = int(enc[1:])
                lo, hi = (0, 2 ** bits - 1) if enc[0] == "u" else (-2 ** (bits - 1), 2 ** (bits - 1) - 1)
                value = rnd.randint(lo, hi)
                rows.append(f"{key},data,{enc},{value}")
                keys[key] = (enc, value)
            elif kind == "string":
                text = "".join(rnd.choice("abc xyz,\"") for _ in range(rnd.choice([0, 5, 31, 32, 200, 1500])))
                rows.append(f'{key},data,string,"{text.replace(chr(34), chr(34) * 2)}"')
                keys[key] = ("string", text)
            else:
                data = rnd.randbytes(rnd.choice([0, 1, 32, 100, 3000, 4500]))
                if kind == "blob":
                    rows.append(f"{key},data,hex2bin,{data.hex()}")
                else:
                    rows.append(f"{key},data,base64,{base64.b64encode(data).decode()}")
                keys[key] = ("blob", data.hex())
    return "\n".join(rows) + "\n", expected


@pytest.mark.parametrize("seed", range(6))
def test_random_csv_through_everything(esp32sim, run_in, tmp_path, seed):
    text, expected = random_csv(seed)
    (tmp_path / "r.csv").write_text(text)
    r = run_in(tmp_path, "nvs", "mkimage", "r.csv", "0x20000", "-o", "r.bin")
    assert r.code == 0, r
    dump = json.loads(ok(esp32sim("nvs", "dump", "--json", tmp_path / "r.bin")).out)
    assert dumped_values(dump) == expected
    check = ok(esp32sim("nvs", "check", tmp_path / "r.bin"))
    assert ", 0 errors, 0 warnings" in check.out or (", 0 errors, " in check.out and "holds no keys" in check.out)
    ok(esp32sim("nvs", "export", tmp_path / "r.bin", "-o", tmp_path / "e.csv"))
    ok(run_in(tmp_path, "nvs", "mkimage", "e.csv", "0x20000", "-o", "e.bin"))
    assert (tmp_path / "e.bin").read_bytes() == (tmp_path / "r.bin").read_bytes()
