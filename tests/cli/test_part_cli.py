"""esp32sim part: table / mktable / read / write / erase."""
import hashlib
import os
import random

import pytest

from conftest import (FIRMWARE_LEN, FIXTURE_TABLES, MiB, TABLE_LEN, TABLE_OFFSET, failed, ok,
                      usage_error)

NVS_OFFSET, NVS_SIZE = 0x9000, 0x6000


def rows_in(table_bin):
    """Number of partition rows before the MD5 row / end marker."""
    n = 0
    while table_bin[32 * n:32 * n + 2] == b"\xaa\x50":
        n += 1
    return n


def random_bytes(n, seed):
    return random.Random(seed).randbytes(n)


# ---- part mktable / part table against gen_esp32part.py's own output ----

@pytest.mark.parametrize("name", FIXTURE_TABLES)
def test_mktable_matches_gen_esp32part(esp32sim, tables_dir, tmp_path, name):
    out = tmp_path / "out.bin"
    ok(esp32sim("part", "mktable", tables_dir / f"{name}.csv", "-o", out))
    assert out.read_bytes() == (tables_dir / f"{name}.bin").read_bytes()


@pytest.mark.parametrize("name", FIXTURE_TABLES)
def test_table_of_bare_binary_matches_gen_esp32part(esp32sim, tables_dir, name):
    r = ok(esp32sim("part", "table", tables_dir / f"{name}.bin"))
    assert r.out == (tables_dir / f"{name}.decoded.csv").read_text()


@pytest.mark.parametrize("name", FIXTURE_TABLES)
def test_table_of_esptool_dump(esp32sim, tables_dir, tmp_path, name):
    """A real board's read_flash dump: bootloader at 0x1000, table at 0x8000."""
    size = 2 * MiB if "2MiB" in name else 4 * MiB
    image = bytearray(b"\xff" * size)
    image[0x1000:0x1000 + 4096] = b"\xe9" + random_bytes(4095, 1)
    image[TABLE_OFFSET:TABLE_OFFSET + TABLE_LEN] = (tables_dir / f"{name}.bin").read_bytes()
    image[0x10000:0x10000 + 4096] = b"\xe9" + random_bytes(4095, 2)
    dump = tmp_path / "dump.bin"
    dump.write_bytes(bytes(image))
    r = ok(esp32sim("part", "table", dump))
    assert r.out == (tables_dir / f"{name}.decoded.csv").read_text()


@pytest.mark.parametrize("layout,expected", [
    (None, "mp_4MiBplus"), ("default", "mp_4MiBplus"), ("ota", "mp_4MiB_ota")])
def test_table_of_new_image(esp32sim, tables_dir, new_image, layout, expected):
    image = new_image("img.bin", *(["--layout", layout] if layout else []))
    r = ok(esp32sim("part", "table", image))
    assert r.out == (tables_dir / f"{expected}.decoded.csv").read_text()


def test_mktable_no_md5(esp32sim, tables_dir, tmp_path):
    ref = (tables_dir / "mp_4MiB_ota.bin").read_bytes()
    n = rows_in(ref)
    assert ref[32 * n:32 * n + 2] == b"\xeb\xeb"
    out = tmp_path / "nomd5.bin"
    ok(esp32sim("part", "mktable", tables_dir / "mp_4MiB_ota.csv", "--no-md5", "-o", out))
    data = out.read_bytes()
    assert len(data) == TABLE_LEN
    assert data[:32 * n] == ref[:32 * n]
    assert data[32 * n:] == b"\xff" * (TABLE_LEN - 32 * n)
    r = ok(esp32sim("part", "table", out))
    assert r.out == (tables_dir / "mp_4MiB_ota.decoded.csv").read_text()


def test_mktable_option_forms(esp32sim, tables_dir, tmp_path):
    ref = (tables_dir / "mp_4MiBplus.bin").read_bytes()
    out1, out2 = tmp_path / "a.bin", tmp_path / "b.bin"
    ok(esp32sim("part", "mktable", f"--output={out1}", tables_dir / "mp_4MiBplus.csv"))
    ok(esp32sim("part", "mktable", "--flash-size", "4MB", "--output", out2,
                tables_dir / "mp_4MiBplus.csv"))
    assert out1.read_bytes() == ref and out2.read_bytes() == ref


def test_mktable_flash_size_checks_the_end(esp32sim, tables_dir, tmp_path):
    csv = tables_dir / "mp_4MiB_legacy_vfs.csv"   # ends at 4 MiB
    out = tmp_path / "out.bin"
    failed(esp32sim("part", "mktable", csv, "-o", out, "--flash-size", "2MB"), csv.name)
    assert not out.exists()
    ok(esp32sim("part", "mktable", csv, "-o", out, "--flash-size", "8MB"))
    assert out.read_bytes() == (tables_dir / "mp_4MiB_legacy_vfs.bin").read_bytes()


def test_mktable_replaces_output_and_leaves_no_temp_files(esp32sim, tables_dir, tmp_path):
    out = tmp_path / "out.bin"
    out.write_bytes(b"old contents")
    ok(esp32sim("part", "mktable", tables_dir / "mp_2MiB.csv", "-o", out))
    assert out.read_bytes() == (tables_dir / "mp_2MiB.bin").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


# ---- malformed input ----

BAD_CSV = """# Name, Type, SubType, Offset, Size, Flags
nvs,      data, nvs,     0x9000,  0x6000,
phy_init, data, phy,     0xf000,  0x1000,
factory,  app,  factory, 0x10000, lots,
"""


def test_mktable_bad_csv_line(esp32sim, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text(BAD_CSV)
    out = tmp_path / "out.bin"
    r = failed(esp32sim("part", "mktable", csv, "-o", out), "bad.csv: line 4:")
    assert r.err.startswith("esp32sim: part mktable: "), r
    assert not out.exists()


def test_mktable_overlap_is_rejected(esp32sim, tmp_path):
    csv = tmp_path / "overlap.csv"
    csv.write_text("nvs, data, nvs, 0x9000, 0x6000,\n"
                   "other, data, nvs, 0xa000, 0x6000,\n")
    out = tmp_path / "out.bin"
    failed(esp32sim("part", "mktable", csv, "-o", out), "overlap.csv")
    assert not out.exists()


def test_mktable_missing_csv(esp32sim, tmp_path):
    failed(esp32sim("part", "mktable", tmp_path / "nope.csv", "-o", tmp_path / "o.bin"),
           "nope.csv: no such file")


def test_mktable_unwritable_output(esp32sim, tables_dir, tmp_path):
    out = tmp_path / "no_such_dir" / "out.bin"
    failed(esp32sim("part", "mktable", tables_dir / "mp_2MiB.csv", "-o", out), out)


@pytest.mark.parametrize("args", [
    [],                                   # no CSV
    ["x.csv"],                            # no -o
    ["x.csv", "-o"],                      # -o without a value
    ["x.csv", "-o", "o.bin", "--md5"],    # unknown option
    ["x.csv", "y.csv", "-o", "o.bin"],    # two CSVs
    ["x.csv", "-o", "o.bin", "--flash-size", "lots"],
    ["x.csv", "-o", "o.bin", "--no-md5=yes"],
])
def test_mktable_usage_errors(esp32sim, tmp_path, args):
    usage_error(esp32sim("part", "mktable", *args), "part mktable")


def test_table_truncated(esp32sim, tables_dir, tmp_path):
    bad = tmp_path / "truncated.bin"
    bad.write_bytes((tables_dir / "mp_4MiBplus.bin").read_bytes()[:64])
    failed(esp32sim("part", "table", bad), "truncated.bin")


def test_table_bad_md5(esp32sim, tables_dir, tmp_path):
    data = bytearray((tables_dir / "mp_4MiBplus.bin").read_bytes())
    n = rows_in(data)
    data[32 * n + 20] ^= 0x01                   # inside the digest
    bad = tmp_path / "badmd5.bin"
    bad.write_bytes(bytes(data))
    failed(esp32sim("part", "table", bad), "badmd5.bin")


def test_table_changed_row_fails_md5(esp32sim, tables_dir, tmp_path):
    data = bytearray((tables_dir / "mp_4MiBplus.bin").read_bytes())
    data[12] = ord("N")                         # "nvs" -> "Nvs"
    bad = tmp_path / "edited.bin"
    bad.write_bytes(bytes(data))
    failed(esp32sim("part", "table", bad), "edited.bin")


def test_table_not_found(esp32sim, tmp_path):
    blank = tmp_path / "blank.bin"
    blank.write_bytes(b"\xff" * (4 * MiB))
    r = failed(esp32sim("part", "table", blank), "blank.bin")
    assert "0x0" in r.err and "0x8000" in r.err


def test_table_missing_file(esp32sim, tmp_path):
    failed(esp32sim("part", "table", tmp_path / "x.bin"), "x.bin: no such file")


def test_table_usage_errors(esp32sim, tmp_path):
    usage_error(esp32sim("part", "table"), "part table")
    usage_error(esp32sim("part", "table", "a.bin", "b.bin"), "part table")
    usage_error(esp32sim("part", "table", "--json", "a.bin"), "part table")


# ---- part read / write / erase ----

def image_without(data, offset, size):
    return data[:offset] + data[offset + size:]


def test_write_read_round_trip(esp32sim, new_image, tmp_path):
    image = new_image()
    zeros = tmp_path / "zeros.bin"
    zeros.write_bytes(b"\x00" * NVS_SIZE)
    ok(esp32sim("part", "write", image, "nvs", zeros))
    before = image.read_bytes()

    payload = random_bytes(5000, 3)
    src = tmp_path / "payload.bin"
    src.write_bytes(payload)
    r = ok(esp32sim("part", "write", image, "nvs", src))
    assert "5000" in r.out

    out = tmp_path / "nvs.bin"
    ok(esp32sim("part", "read", image, "nvs", out))
    got = out.read_bytes()
    assert len(got) == NVS_SIZE
    assert got[:5000] == payload
    assert got[5000:0x2000] == b"\xff" * (0x2000 - 5000)   # the rest of the erased sectors
    assert got[0x2000:] == b"\x00" * (NVS_SIZE - 0x2000)   # sectors the file did not cover
    after = image.read_bytes()
    assert after[NVS_OFFSET:NVS_OFFSET + NVS_SIZE] == got
    assert image_without(after, NVS_OFFSET, NVS_SIZE) == image_without(before, NVS_OFFSET, NVS_SIZE)


def protect(*paths):
    """chmod 444 and an mtime long ago, so that any write would show."""
    for path in paths:
        os.utime(path, ns=(10**18, 10**18))
        path.chmod(0o444)


def file_state(path):
    return path.read_bytes(), path.stat().st_mtime_ns


def test_read_opens_the_image_read_only(esp32sim, new_image, tmp_path):
    image = new_image()
    wear = image.with_name(image.name + ".wear")
    payload = random_bytes(3000, 7)
    src = tmp_path / "p.bin"
    src.write_bytes(payload)
    ok(esp32sim("part", "write", image, "nvs", src))
    protect(image, wear)
    before = file_state(image), file_state(wear)
    out = tmp_path / "nvs.bin"
    ok(esp32sim("part", "read", image, "nvs", out))
    r = ok(esp32sim("part", "read", image, "nvs"))
    assert out.read_bytes() == r.raw
    assert r.raw[:3000] == payload and len(r.raw) == NVS_SIZE
    assert (file_state(image), file_state(wear)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "flash.bin", "flash.bin.wear", "nvs.bin", "p.bin"]


def test_read_starts_no_sidecar(esp32sim, new_image, tmp_path):
    image = new_image()
    image.with_name(image.name + ".wear").unlink()
    protect(image)
    before = file_state(image)
    r = ok(esp32sim("part", "read", image, "factory"))
    assert r.raw[0] == 0xE9 and len(r.raw) == 0x1F0000      # the firmware, then erased flash
    assert r.raw[FIRMWARE_LEN:] == b"\xff" * (0x1F0000 - FIRMWARE_LEN)
    assert file_state(image) == before
    assert [p.name for p in tmp_path.iterdir()] == ["flash.bin"]


def test_read_to_stdout(esp32sim, new_image, tmp_path):
    image = new_image()
    payload = random_bytes(4096 + 7, 4)
    src = tmp_path / "p.bin"
    src.write_bytes(payload)
    ok(esp32sim("part", "write", image, "nvs", src))
    r1 = esp32sim("part", "read", image, "nvs")
    r2 = esp32sim("part", "read", image, "nvs", "-")
    assert r1.code == 0 and r2.code == 0, (r1, r2)
    assert len(r1.raw) == NVS_SIZE
    assert r1.raw[:len(payload)] == payload
    assert r2.raw == r1.raw


def test_write_registered_vfs_partition(esp32sim, new_image, tmp_path):
    """The default layout has no vfs row; the board registers one at 0x200000."""
    image = new_image()
    payload = random_bytes(3 * 4096 + 100, 5)
    src = tmp_path / "fs.bin"
    src.write_bytes(payload)
    ok(esp32sim("part", "write", image, "vfs", src))
    data = image.read_bytes()
    assert data[0x200000:0x200000 + len(payload)] == payload
    r = ok(esp32sim("part", "read", image, "vfs"))
    assert len(r.raw) == 2 * MiB and r.raw[:len(payload)] == payload


def test_write_app_partition(esp32sim, new_image, tmp_path):
    image = new_image("ota.bin", "--layout", "ota")
    payload = b"\xe9" + random_bytes(70000, 6)
    src = tmp_path / "app.bin"
    src.write_bytes(payload)
    ok(esp32sim("part", "write", image, "ota_1", src))
    assert image.read_bytes()[0x190000:0x190000 + len(payload)] == payload


def test_erase(esp32sim, new_image, tmp_path):
    image = new_image()
    src = tmp_path / "zeros.bin"
    src.write_bytes(b"\x00" * NVS_SIZE)
    ok(esp32sim("part", "write", image, "nvs", src))
    before = image.read_bytes()
    assert before[NVS_OFFSET:NVS_OFFSET + NVS_SIZE] == b"\x00" * NVS_SIZE
    ok(esp32sim("part", "erase", image, "nvs"))
    after = image.read_bytes()
    assert after[NVS_OFFSET:NVS_OFFSET + NVS_SIZE] == b"\xff" * NVS_SIZE
    assert image_without(after, NVS_OFFSET, NVS_SIZE) == image_without(before, NVS_OFFSET, NVS_SIZE)


def test_wrong_label(esp32sim, new_image, tmp_path):
    image = new_image()
    before = image.read_bytes()
    src = tmp_path / "p.bin"
    src.write_bytes(b"x")
    failed(esp32sim("part", "read", image, "nosuch"), image.name, "nosuch")
    failed(esp32sim("part", "write", image, "nosuch", src), image.name, "nosuch")
    failed(esp32sim("part", "erase", image, "nosuch"), image.name, "nosuch")
    assert image.read_bytes() == before


def test_write_file_too_big(esp32sim, new_image, tmp_path):
    image = new_image()
    src = tmp_path / "zeros.bin"
    src.write_bytes(b"\x00" * NVS_SIZE)
    ok(esp32sim("part", "write", image, "nvs", src))
    before = image.read_bytes()
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x11" * (NVS_SIZE + 1))
    failed(esp32sim("part", "write", image, "nvs", big), "big.bin", "nvs")
    assert image.read_bytes() == before


def test_write_missing_file(esp32sim, new_image, tmp_path):
    image = new_image()
    before = image.read_bytes()
    failed(esp32sim("part", "write", image, "nvs", tmp_path / "gone.bin"), "gone.bin: no such file")
    assert image.read_bytes() == before


READONLY_CSV = """# Name, Type, SubType, Offset, Size, Flags
nvs,      data, nvs,     0x9000,  0x6000,
phy_init, data, phy,     0xf000,  0x1000,
factory,  app,  factory, 0x10000, 0x1F0000,
assets,   data, spiffs,  0x200000, 0x10000, readonly
"""


def test_readonly_partition(esp32sim, new_image, tmp_path):
    csv = tmp_path / "ro.csv"
    csv.write_text(READONLY_CSV)
    image = new_image("ro.bin", "--layout", csv)
    r = ok(esp32sim("part", "table", image))
    assert "assets,data,spiffs,0x200000,64K,readonly" in r.out
    before = image.read_bytes()
    src = tmp_path / "p.bin"
    src.write_bytes(b"\x00" * 16)
    failed(esp32sim("part", "write", image, "assets", src), "ro.bin", "assets", "read-only")
    failed(esp32sim("part", "erase", image, "assets"), "ro.bin", "assets", "read-only")
    assert image.read_bytes() == before
    r = ok(esp32sim("part", "read", image, "assets"))
    assert r.raw == b"\xff" * 0x10000


def test_missing_image_is_not_created(esp32sim, tmp_path):
    image = tmp_path / "none.bin"
    src = tmp_path / "p.bin"
    src.write_bytes(b"x")
    failed(esp32sim("part", "read", image, "nvs"), "none.bin: no such file")
    failed(esp32sim("part", "write", image, "nvs", src), "none.bin: no such file")
    failed(esp32sim("part", "erase", image, "nvs"), "none.bin: no such file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.bin"]


def test_image_without_table(esp32sim, tmp_path):
    image = tmp_path / "blank.bin"
    image.write_bytes(b"\xff" * (4 * MiB))
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    failed(esp32sim("part", "read", image, "nvs"), "blank.bin")
    failed(esp32sim("part", "erase", image, "nvs"), "blank.bin")
    assert hashlib.sha256(image.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("sub,args", [
    ("read", []), ("read", ["img"]), ("read", ["img", "nvs", "out", "more"]),
    ("write", ["img", "nvs"]), ("erase", ["img"]), ("erase", ["img", "nvs", "--force"]),
])
def test_read_write_erase_usage_errors(esp32sim, sub, args):
    usage_error(esp32sim("part", sub, *args), f"part {sub}")


# ---- help ----

@pytest.mark.parametrize("sub", ["table", "mktable", "read", "write", "erase"])
def test_subcommand_help(esp32sim, sub):
    r = ok(esp32sim("part", sub, "--help"))
    assert r.out.startswith(f"Usage: esp32sim part {sub} ")
    assert ok(esp32sim("part", sub, "-h")).out == r.out


def test_group_help(esp32sim):
    r = ok(esp32sim("part", "--help"))
    assert r.out.startswith("Usage: esp32sim part ")
    for sub in ["table", "mktable", "read", "write", "erase"]:
        assert f"  {sub} " in r.out
    assert ok(esp32sim("part", "help")).out == r.out
    assert ok(esp32sim("help", "part")).out == r.out


def test_group_usage_errors(esp32sim):
    usage_error(esp32sim("part"), "part")
    usage_error(esp32sim("part", "frobnicate"), "part")
