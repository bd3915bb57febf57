"""esp32sim flash new / info, and the command's top level."""
import hashlib
import json
import os

import pytest

import struct

from conftest import FIRMWARE_LEN, MiB, TABLE_LEN, TABLE_OFFSET, failed, ok, usage_error

DEFAULT_ROWS = [  # label, type, subtype, offset, size, registered
    ("nvs", "data", "nvs", 0x9000, 0x6000, False),
    ("phy_init", "data", "phy", 0xF000, 0x1000, False),
    ("factory", "app", "factory", 0x10000, 0x1F0000, False),
    ("vfs", "data", "fat", 0x200000, 0x200000, True),
]


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def info_json(esp32sim, image):
    r = ok(esp32sim("flash", "info", image, "--json"))
    return json.loads(r.out)


def rows(info):
    return [(p["label"], p["type"], p["subtype"], p["offset"], p["size"], p["registered"])
            for p in info["partitions"]]


def first_app(table):
    """(offset, size) of the factory app, else of the lowest OTA slot."""
    apps = []
    for row in range(0, len(table), 32):
        magic, ptype, subtype, offset, size = struct.unpack_from("<HBBII", table, row)
        if magic == 0x50AA and ptype == 0 and subtype in range(0x00, 0x20):
            apps.append((subtype, offset, size))
    _, offset, size = min(apps)
    return offset, size


def only_table_written(data, table):
    """The image is 0xFF everywhere except the table at 0x8000 and the
    firmware image at the start of the first app partition."""
    assert data[TABLE_OFFSET:TABLE_OFFSET + TABLE_LEN] == table
    offset, size = first_app(table)
    firmware_len = min(FIRMWARE_LEN, size)
    firmware = data[offset:offset + firmware_len]
    assert firmware[0] == 0xE9 and firmware[0x20 + 48:0x20 + 60] == b"micropython\0"
    rest = data[:offset] + data[offset + firmware_len:]
    assert rest.count(b"\xff"[0]) == len(rest) - (TABLE_LEN - table.count(b"\xff"[0]))


# ---- flash new ----

def test_new_default(esp32sim, tables_dir, tmp_path):
    image = tmp_path / "flash.bin"
    r = ok(esp32sim("flash", "new", image))
    assert "flash.bin" in r.out
    data = image.read_bytes()
    assert len(data) == 4 * MiB
    only_table_written(data, (tables_dir / "mp_4MiBplus.bin").read_bytes())


def test_new_ota(esp32sim, tables_dir, new_image):
    data = new_image("ota.bin", "--layout", "ota").read_bytes()
    assert len(data) == 4 * MiB
    only_table_written(data, (tables_dir / "mp_4MiB_ota.bin").read_bytes())


@pytest.mark.parametrize("name,size", [
    ("mp_4MiB_legacy_vfs", "4MB"), ("mp_2MiB", "2MB"), ("mp_4MiBplus", "8MB")])
def test_new_with_csv_layout(esp32sim, tables_dir, new_image, name, size):
    data = new_image("csv.bin", "--size", size, "--layout", tables_dir / f"{name}.csv").read_bytes()
    only_table_written(data, (tables_dir / f"{name}.bin").read_bytes())


@pytest.mark.parametrize("text,size", [
    ("2MB", 2 * MiB), ("2M", 2 * MiB), ("2MiB", 2 * MiB), ("2097152", 2 * MiB),
    ("0x200000", 2 * MiB), ("4mb", 4 * MiB), ("4MiB", 4 * MiB), ("4194304", 4 * MiB),
    ("4096K", 4 * MiB), ("8MB", 8 * MiB), ("16MB", 16 * MiB), ("16M", 16 * MiB)])
def test_new_sizes(esp32sim, tables_dir, tmp_path, text, size):
    image = tmp_path / "s.bin"
    csv = tables_dir / "mp_2MiB.csv"   # fits every size
    r = esp32sim("flash", "new", image, f"--size={text}", "--layout", csv)
    ok(r)
    assert image.stat().st_size == size


@pytest.mark.parametrize("text", ["3MB", "1MB", "32MB", "0", "", "lots", "4XB", "4MBB", "-4MB", "0x"])
def test_new_bad_sizes(esp32sim, tmp_path, text):
    image = tmp_path / "s.bin"
    usage_error(esp32sim("flash", "new", image, "--size", text), "flash new")
    assert not image.exists()


def test_new_layout_too_big_for_flash(esp32sim, tables_dir, tmp_path):
    image = tmp_path / "small.bin"
    csv = tables_dir / "mp_4MiB_legacy_vfs.csv"
    failed(esp32sim("flash", "new", image, "--size", "2MB", "--layout", csv), csv.name)
    assert not image.exists()


def test_new_bad_csv_layout(esp32sim, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("nvs, data, nvs, 0x9000, 0x6000,\nfactory, app, nosuchsubtype, 0x10000, 1M,\n")
    image = tmp_path / "img.bin"
    failed(esp32sim("flash", "new", image, "--layout", csv), "bad.csv", "line 2")
    assert not image.exists()


def test_new_missing_layout(esp32sim, tmp_path):
    image = tmp_path / "img.bin"
    failed(esp32sim("flash", "new", image, "--layout", tmp_path / "nope.csv"), "nope.csv: no such file")
    assert not image.exists()


def test_new_refuses_to_overwrite(esp32sim, new_image, tmp_path):
    image = new_image()
    src = tmp_path / "p.bin"
    src.write_bytes(b"\x00" * 100)
    ok(esp32sim("part", "write", image, "nvs", src))
    digest = sha(image)
    failed(esp32sim("flash", "new", image), "flash.bin", "--force")
    failed(esp32sim("flash", "new", image, "--layout", "ota"), "flash.bin", "--force")
    assert sha(image) == digest


def test_new_force_recreates(esp32sim, tables_dir, new_image, tmp_path):
    image = new_image()
    src = tmp_path / "p.bin"
    src.write_bytes(b"\x00" * 100)
    ok(esp32sim("part", "write", image, "nvs", src))
    assert info_json(esp32sim, image)["counters"]["erases"] > 0
    ok(esp32sim("flash", "new", image, "--force", "--layout", "ota"))
    only_table_written(image.read_bytes(), (tables_dir / "mp_4MiB_ota.bin").read_bytes())
    fresh = info_json(esp32sim, new_image("fresh.bin", "--layout", "ota"))
    info = info_json(esp32sim, image)
    assert info["counters"] == fresh["counters"]
    assert info["wear"] == fresh["wear"]
    assert info["wear"]["max_erase_count"] == 1     # only the table's sector


def test_new_bad_layout_with_force_keeps_old_image(esp32sim, new_image, tmp_path):
    image = new_image()
    digest = sha(image)
    failed(esp32sim("flash", "new", image, "--force", "--layout", tmp_path / "nope.csv"), "nope.csv")
    assert sha(image) == digest


@pytest.mark.parametrize("args", [[], ["a.bin", "b.bin"], ["a.bin", "--sise", "4MB"],
                                  ["a.bin", "--size"], ["a.bin", "--force=yes"]])
def test_new_usage_errors(esp32sim, args):
    usage_error(esp32sim("flash", "new", *args), "flash new")


# ---- flash info ----

def test_info_json_default(esp32sim, new_image):
    image = new_image()
    info = info_json(esp32sim, image)
    assert info["image"] == str(image)
    assert info["size"] == 4 * MiB
    assert info["sectors"] == 1024
    assert info["table_error"] is None
    assert info["table_md5"] is True
    assert rows(info) == DEFAULT_ROWS
    assert [p["flags"] for p in info["partitions"]] == [[], [], [], []]
    assert [(p["type_id"], p["subtype_id"]) for p in info["partitions"]] == [
        (1, 2), (1, 1), (0, 0), (1, 0x81)]
    assert set(info["counters"]) == {"reads", "bytes_read", "programs", "bytes_programmed",
                                     "erases", "sectors_erased"}
    assert all(isinstance(v, int) for v in info["counters"].values())
    # creating the image erased and programmed the table's sector and the
    # firmware's sectors, once each
    firmware_sectors = FIRMWARE_LEN // 4096
    assert info["wear"]["max_erase_count"] == 1
    assert info["wear"]["total_erase_count"] == 1 + firmware_sectors
    assert info["wear"]["most_worn"] == [{"sector": s, "offset": s * 4096, "erase_count": 1}
                                         for s in (8, 16, 17, 18, 19)]
    assert info["counters"]["bytes_programmed"] == TABLE_LEN + FIRMWARE_LEN


def test_info_json_ota(esp32sim, new_image):
    info = info_json(esp32sim, new_image("ota.bin", "--layout", "ota"))
    assert rows(info) == [
        ("nvs", "data", "nvs", 0x9000, 0x4000, False),
        ("otadata", "data", "ota", 0xD000, 0x2000, False),
        ("phy_init", "data", "phy", 0xF000, 0x1000, False),
        ("ota_0", "app", "ota_0", 0x10000, 0x180000, False),
        ("ota_1", "app", "ota_1", 0x190000, 0x180000, False),
        ("vfs", "data", "fat", 0x310000, 0xF0000, True),
    ]


def test_info_legacy_table_has_no_registered_vfs(esp32sim, tables_dir, new_image):
    image = new_image("legacy.bin", "--layout", tables_dir / "mp_4MiB_legacy_vfs.csv")
    info = info_json(esp32sim, image)
    assert rows(info)[-1] == ("vfs", "data", "fat", 0x200000, 0x200000, False)
    assert not any(p["registered"] for p in info["partitions"])


def test_info_text(esp32sim, new_image):
    image = new_image()
    r = ok(esp32sim("flash", "info", image))
    lines = r.out.splitlines()
    assert "4194304" in r.out and "4 MiB" in r.out
    for label, type_, subtype, offset, size, registered in DEFAULT_ROWS:
        row = [l for l in lines if l.split()[:1] == [label]]
        assert len(row) == 1, (label, r.out)
        words = row[0].split()
        assert words[1:5] == [type_, subtype, f"0x{offset:08x}", f"0x{size:08x}"]
        assert ("registered" in row[0]) == registered
    for word in ["reads", "bytes read", "programs", "bytes programmed", "erases",
                 "sectors erased", "max erase count", "total erase count", "most worn"]:
        assert word in r.out, word


def test_info_readonly_flag(esp32sim, new_image, tmp_path):
    csv = tmp_path / "ro.csv"
    csv.write_text("nvs, data, nvs, 0x9000, 0x6000,\n"
                   "factory, app, factory, 0x10000, 1M,\n"
                   "assets, data, spiffs, , 64K, readonly\n")
    info = info_json(esp32sim, new_image("ro.bin", "--layout", csv))
    assert [p["flags"] for p in info["partitions"] if p["label"] == "assets"] == [["readonly"]]
    r = ok(esp32sim("flash", "info", tmp_path / "ro.bin"))
    assert [l for l in r.out.splitlines() if l.split()[:1] == ["assets"]][0].split()[-1] == "readonly"


def test_info_does_not_change_the_image(esp32sim, new_image):
    image = new_image()
    wear = image.with_name(image.name + ".wear")
    digest = sha(image)
    first = info_json(esp32sim, image)
    wear_digest = sha(wear) if wear.exists() else None
    ok(esp32sim("flash", "info", image))
    second = info_json(esp32sim, image)
    assert sha(image) == digest
    assert (sha(wear) if wear.exists() else None) == wear_digest
    assert second["counters"] == first["counters"]
    assert second["wear"] == first["wear"]


def protect(*paths):
    """Make files look like an old esptool dump kept read-only: chmod 444 and
    an mtime long ago, so that any write would show."""
    for path in paths:
        os.utime(path, ns=(10**18, 10**18))
        path.chmod(0o444)


def file_state(path):
    """What must not change: the bytes and the modification time."""
    return path.read_bytes(), path.stat().st_mtime_ns


def test_info_opens_a_read_only_image_read_only(esp32sim, new_image, tmp_path):
    image = new_image()
    wear = image.with_name(image.name + ".wear")
    protect(image, wear)
    before = file_state(image), file_state(wear)
    first = info_json(esp32sim, image)
    text = ok(esp32sim("flash", "info", image)).out
    second = info_json(esp32sim, image)
    assert (file_state(image), file_state(wear)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flash.bin", "flash.bin.wear"]
    # the counters are the sidecar's: what `flash new` did, and no more
    assert first["counters"] == second["counters"] == {
        "reads": 1, "bytes_read": TABLE_LEN, "programs": 2, "bytes_programmed": TABLE_LEN + FIRMWARE_LEN,
        "erases": 1 + FIRMWARE_LEN // 4096, "sectors_erased": 1 + FIRMWARE_LEN // 4096}
    assert rows(first) == DEFAULT_ROWS
    assert "  reads              1\n" in text


def test_info_starts_no_sidecar(esp32sim, new_image, tmp_path):
    """An image from another tool has no .wear file; looking does not add one."""
    image = new_image()
    image.with_name(image.name + ".wear").unlink()
    protect(image)
    before = file_state(image)
    info = info_json(esp32sim, image)
    assert info["counters"] == {k: 0 for k in info["counters"]}
    assert rows(info) == DEFAULT_ROWS
    assert file_state(image) == before
    assert [p.name for p in tmp_path.iterdir()] == ["flash.bin"]


def test_info_counts_erases_and_programs(esp32sim, new_image, tmp_path):
    image = new_image()
    before = info_json(esp32sim, image)
    ok(esp32sim("part", "erase", image, "nvs"))       # 6 sectors
    ok(esp32sim("part", "erase", image, "nvs"))
    src = tmp_path / "p.bin"
    src.write_bytes(b"\x5a" * 5000)
    ok(esp32sim("part", "write", image, "factory", src))   # 2 sectors erased, 5000 bytes
    after = info_json(esp32sim, image)
    diff = {k: after["counters"][k] - before["counters"][k] for k in before["counters"]}
    assert diff["sectors_erased"] == 6 + 6 + 2
    assert diff["erases"] == 6 + 6 + 2
    assert diff["bytes_programmed"] == 5000
    assert diff["programs"] >= 1
    wear = after["wear"]
    assert wear["max_erase_count"] == 2
    assert wear["total_erase_count"] == before["wear"]["total_erase_count"] + 14
    assert wear["most_worn"] == [
        {"sector": s, "offset": s * 4096, "erase_count": 2} for s in range(9, 14)]
    r = ok(esp32sim("flash", "info", image))
    assert "0x00009000" in r.out.split("most worn")[1]


def test_info_image_without_table(esp32sim, tmp_path):
    image = tmp_path / "blank.bin"
    image.write_bytes(b"\xff" * (2 * MiB))
    digest = sha(image)
    info = info_json(esp32sim, image)
    assert info["size"] == 2 * MiB
    assert info["table_error"]
    assert info["partitions"] == []
    assert "partition table: none" in ok(esp32sim("flash", "info", image)).out
    assert sha(image) == digest


def test_info_missing_file(esp32sim, tmp_path):
    r = failed(esp32sim("flash", "info", tmp_path / "x.bin"), "x.bin: no such file")
    assert r.err.startswith("esp32sim: flash info: ")
    assert not (tmp_path / "x.bin").exists()


def test_info_not_an_image(esp32sim, tmp_path):
    odd = tmp_path / "odd.bin"
    odd.write_bytes(b"\xff" * 1000)
    failed(esp32sim("flash", "info", odd), "odd.bin")
    assert odd.read_bytes() == b"\xff" * 1000


def test_info_usage_errors(esp32sim):
    usage_error(esp32sim("flash", "info"), "flash info")
    usage_error(esp32sim("flash", "info", "a.bin", "--yaml"), "flash info")


# ---- help, version, dispatch ----

@pytest.mark.parametrize("sub", ["new", "info"])
def test_flash_subcommand_help(esp32sim, sub):
    r = ok(esp32sim("flash", sub, "--help"))
    assert r.out.startswith(f"Usage: esp32sim flash {sub} ")
    assert ok(esp32sim("flash", sub, "-h")).out == r.out


def test_flash_group_help(esp32sim):
    r = ok(esp32sim("flash", "--help"))
    assert r.out.startswith("Usage: esp32sim flash ")
    assert "  new " in r.out and "  info " in r.out
    assert ok(esp32sim("help", "flash")).out == r.out
    usage_error(esp32sim("flash"), "flash")
    usage_error(esp32sim("flash", "old"), "flash")


def test_top_level_help_and_version(esp32sim):
    r = ok(esp32sim("--help"))
    assert r.out.startswith("Usage: esp32sim ")
    for command in ["run", "repl", "flash", "part"]:
        assert f"  {command} " in r.out
    assert ok(esp32sim("help")).out == r.out
    assert ok(esp32sim("-h")).out == r.out
    assert ok(esp32sim("--version")).out == "esp32sim 0.1.0\n"


def test_top_level_usage_errors(esp32sim):
    for args in [[], ["frobnicate"], ["--frobnicate"], ["help", "frobnicate"]]:
        r = esp32sim(*args)
        assert r.code == 2, (args, r)
        assert r.err.startswith("esp32sim: ") and "Try 'esp32sim --help'." in r.err, (args, r)


# ---- flash write ----

def test_write_erases_covered_sectors_and_programs(esp32sim, new_image, tmp_path):
    image = new_image()
    raw = bytearray(image.read_bytes())
    raw[0x20000:0x22000] = b"\x00" * 0x2000          # old content in two sectors
    image.write_bytes(raw)
    data = bytes((i * 7 + 3) & 0xFF for i in range(5000))
    (tmp_path / "d.bin").write_bytes(data)
    r = ok(esp32sim("flash", "write", image, "0x20000", tmp_path / "d.bin"))
    assert "5000 bytes" in r.out and "0x00020000" in r.out
    after = image.read_bytes()
    assert after[0x20000:0x20000 + 5000] == data
    assert after[0x20000 + 5000:0x22000] == b"\xff" * (0x2000 - 5000)   # rest of the covered sectors erased
    assert after[:0x20000] == bytes(raw[:0x20000]) and after[0x22000:] == bytes(raw[0x22000:])


def test_write_counts_in_the_wear(esp32sim, new_image, tmp_path):
    image = new_image()
    (tmp_path / "d.bin").write_bytes(b"\x01" * 4097)
    ok(esp32sim("flash", "write", image, "128K", tmp_path / "d.bin"))
    info = json.loads(ok(esp32sim("flash", "info", image, "--json")).out)
    # the table's sector and the firmware's, then two
    assert info["counters"]["sectors_erased"] == 1 + FIRMWARE_LEN // 4096 + 2
    assert info["counters"]["bytes_programmed"] == TABLE_LEN + FIRMWARE_LEN + 4097


@pytest.mark.parametrize("offset, code, words", [
    ("0x20001", 2, "multiple of 0x1000"),
    ("nope", 2, "bad OFFSET"),
    ("0x3FF000", 1, "do not fit"),
])
def test_write_refuses_bad_offsets_without_change(esp32sim, new_image, tmp_path, offset, code, words):
    image = new_image()
    before = image.read_bytes()
    (tmp_path / "d.bin").write_bytes(b"\x01" * 5000)
    r = esp32sim("flash", "write", image, offset, tmp_path / "d.bin")
    assert r.code == code and words in r.err
    assert image.read_bytes() == before


def test_write_missing_files(esp32sim, new_image, tmp_path):
    image = new_image()
    failed(esp32sim("flash", "write", image, "0x10000", tmp_path / "gone.bin"), "gone.bin")
    failed(esp32sim("flash", "write", tmp_path / "none.bin", "0x10000", image), "none.bin")
