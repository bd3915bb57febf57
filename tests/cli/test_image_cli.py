"""esp32sim image make / info: ESP-IDF app images."""
import hashlib
import json
import struct

from conftest import failed, ok, usage_error

CHECKS = ["magic", "chip", "segments", "checksum", "sha256", "length"]


def make(esp32sim, path, *options):
    r = ok(esp32sim("image", "make", "-o", path, *options))
    assert str(path) in r.out
    return path.read_bytes()


def info(esp32sim, path):
    """(exit code, parsed JSON, stderr) of `image info --json`."""
    r = esp32sim("image", "info", path, "--json")
    return r.code, json.loads(r.out), r.err


def reseal(data):
    """Recompute the checksum byte and the appended SHA-256 (format per
    docs/app-image.md) after an edit that keeps the segment layout."""
    data = bytearray(data)
    at, checksum = 24, 0xEF
    for _ in range(data[1]):
        _, length = struct.unpack_from("<II", data, at)
        for b in data[at + 8:at + 8 + length]:
            checksum ^= b
        at += 8 + length
    padded = (at + 16) & ~15
    data[padded - 1] = checksum
    if data[23]:
        data[padded:padded + 32] = hashlib.sha256(bytes(data[:padded])).digest()
    return bytes(data)


# ---- make ----

def test_make_and_info(esp32sim, tmp_path):
    data = make(esp32sim, tmp_path / "app.bin", "--project", "blinky", "--version", "2.0.1", "--size", "200K")
    assert len(data) == 200 * 1024
    code, j, err = info(esp32sim, tmp_path / "app.bin")
    assert code == 0 and err == ""
    assert j["valid"] is True and j["reason"] is None
    assert j["checks"] == {name: True for name in CHECKS}
    assert j["app_desc"]["project_name"] == "blinky"
    assert j["app_desc"]["version"] == "2.0.1"
    assert j["app_desc"]["idf_ver"] == "v5.5.2"
    assert j["app_desc"]["magic_word"] == 0xABCD5432
    assert j["header"]["magic"] == 0xE9 and j["header"]["chip_id"] == 0
    assert j["header"]["hash_appended"] is True
    assert j["image_len"] == len(data) == j["file_size"]
    segs = j["segments"]
    assert len(segs) == j["header"]["segment_count"]
    assert segs[0]["region"] == "DROM" and segs[0]["file_offset"] == 0x20
    assert "IROM" in [s["region"] for s in segs]
    for s in segs:
        if s["region"] in ("DROM", "IROM"):
            assert s["file_offset"] % 0x10000 == s["load_addr"] % 0x10000
    # the header's fields are where the format puts them
    assert data[0] == 0xE9
    assert struct.unpack_from("<I", data, 4)[0] == j["header"]["entry_addr"]
    assert data[0x20:0x24] == bytes([0x32, 0x54, 0xCD, 0xAB])
    assert data[0x20 + 48:0x20 + 54] == b"blinky"
    assert hashlib.sha256(data[:-32]).digest() == data[-32:]


def test_make_text_info(esp32sim, tmp_path):
    make(esp32sim, tmp_path / "app.bin", "--version", "9.9")
    r = ok(esp32sim("image", "info", tmp_path / "app.bin"))
    for words in ["magic", "DROM", "IROM", "9.9", "valid: yes", "checksum   ok"]:
        assert words in r.out, (words, r)


def test_make_is_deterministic(esp32sim, tmp_path):
    a = make(esp32sim, tmp_path / "a.bin", "--project", "p", "--version", "1")
    b = make(esp32sim, tmp_path / "b.bin", "--project", "p", "--version", "1")
    c = make(esp32sim, tmp_path / "c.bin", "--project", "p", "--version", "2")
    assert a == b
    assert a != c and len(a) == len(c)
    assert info(esp32sim, tmp_path / "c.bin")[1]["app_desc"]["date"] == "Jan  1 2025"


def test_make_replaces_output(esp32sim, tmp_path):
    path = tmp_path / "app.bin"
    path.write_bytes(b"old")
    make(esp32sim, path, "--size", "0x12000")
    assert len(path.read_bytes()) == 0x12000


def test_make_usage_errors(esp32sim, tmp_path):
    usage_error(esp32sim("image", "make"), "image make")
    usage_error(esp32sim("image", "make", "-o", tmp_path / "x.bin", "--size", "1K"), "image make")
    usage_error(esp32sim("image", "make", "-o", tmp_path / "x.bin", "--size", "64M"), "image make")
    usage_error(esp32sim("image", "make", "-o", tmp_path / "x.bin", "--size", "lots"), "image make")
    usage_error(esp32sim("image", "make", "-o", tmp_path / "x.bin", "--project", "p" * 32), "image make")
    usage_error(esp32sim("image", "make", "-o", tmp_path / "x.bin", "--version", "v" * 32), "image make")
    usage_error(esp32sim("image", "make", "-o", tmp_path / "x.bin", "extra"), "image make")
    usage_error(esp32sim("image", "frobnicate"), "image")
    assert not (tmp_path / "x.bin").exists()
    failed(esp32sim("image", "make", "-o", tmp_path / "no" / "such" / "x.bin"), "x.bin")


def test_help(esp32sim):
    assert "image make|info" in ok(esp32sim("--help")).out
    assert "make -o APP.bin" in ok(esp32sim("image", "--help")).out
    assert "--project" in ok(esp32sim("image", "make", "--help")).out
    assert "info APP.bin [--json]" in ok(esp32sim("help", "image")).out


# ---- damage ----

def damaged(esp32sim, tmp_path, data, *words):
    """`image info` rejects the bytes (exit 1) and says why."""
    path = tmp_path / "bad.bin"
    path.write_bytes(data)
    code, j, err = info(esp32sim, path)
    assert code == 1, (code, j, err)
    assert j["valid"] is False
    for w in words:
        assert w in j["reason"], (w, j["reason"])
        assert w in err
    r = failed(esp32sim("image", "info", path), "invalid image", *words)
    assert "valid: no" in r.out
    return j


def test_damage(esp32sim, tmp_path):
    good = make(esp32sim, tmp_path / "app.bin", "--size", "96K")
    j = info(esp32sim, tmp_path / "app.bin")[1]
    irom = next(s for s in j["segments"] if s["region"] == "IROM")

    def edit(offset, value):
        d = bytearray(good)
        d[offset] = value
        return bytes(d)

    assert not damaged(esp32sim, tmp_path, edit(0, 0xE8), "magic")["checks"]["magic"]
    assert not damaged(esp32sim, tmp_path, edit(12, 0x09), "chip id")["checks"]["chip"]
    damaged(esp32sim, tmp_path, edit(1, 17), "segment count")
    for offset in (2, 3, 4, 8):    # header fields only the hash covers
        assert damaged(esp32sim, tmp_path, edit(offset, good[offset] ^ 1), "SHA-256")["checks"]["checksum"]
    d = damaged(esp32sim, tmp_path, edit(irom["file_offset"] + 100, good[irom["file_offset"] + 100] ^ 0xFF),
                "checksum")
    assert not d["checks"]["checksum"] and d["checks"]["segments"]
    d = damaged(esp32sim, tmp_path, edit(len(good) - 5, good[-5] ^ 0x10), "SHA-256")
    assert d["checks"]["checksum"] and not d["checks"]["sha256"]
    seg_len = bytearray(good)
    struct.pack_into("<I", seg_len, 28, struct.unpack_from("<I", good, 28)[0] + 2)
    assert not damaged(esp32sim, tmp_path, bytes(seg_len), "segment 0")["checks"]["segments"]


def test_truncated(esp32sim, tmp_path):
    good = make(esp32sim, tmp_path / "app.bin")
    for n in (0, 1, 23, 24, 31, 0x120, 0x4020, 0x10000, len(good) // 2, len(good) - 33, len(good) - 1):
        j = damaged(esp32sim, tmp_path, good[:n], "truncated")
        assert j["checks"]["length"] is False


def test_longer_file_is_fine(esp32sim, tmp_path):
    good = make(esp32sim, tmp_path / "app.bin")
    path = tmp_path / "part.bin"
    path.write_bytes(good + b"\xff" * 0x10000)
    code, j, _ = info(esp32sim, path)
    assert code == 0 and j["image_len"] == len(good)


def test_blank_partition(esp32sim, tmp_path):
    j = damaged(esp32sim, tmp_path, b"\xff" * 0x20000, "magic byte 0xff")
    assert j["app_desc"] is None


def test_app_desc_magic_not_checked(esp32sim, tmp_path):
    good = make(esp32sim, tmp_path / "app.bin")
    d = bytearray(good)
    d[0x20] ^= 0xFF
    path = tmp_path / "nodesc.bin"
    path.write_bytes(reseal(d))
    code, j, _ = info(esp32sim, path)
    assert code == 0 and j["valid"] and j["app_desc"] is None
    assert "app description: none" in ok(esp32sim("image", "info", path)).out


def test_missing_file(esp32sim, tmp_path):
    failed(esp32sim("image", "info", tmp_path / "nope.bin"), "nope.bin")
    usage_error(esp32sim("image", "info"), "image info")


# ---- an image built as esptool elf2image builds one ----

def elf2image_style(hashed=True):
    """Header, DROM (app description at 0x20), DRAM, a zero padding segment
    so the IROM data lands at 0x10020, IROM, IRAM; padding, checksum, hash."""
    desc = bytearray(256)
    struct.pack_into("<I", desc, 0, 0xABCD5432)
    desc[16:16 + 4] = b"v1.2"
    desc[48:48 + 6] = b"sensor"
    desc[112:112 + 6] = b"v5.1.2"
    segs = [(0x3F400020, bytes(desc) + bytes(range(64)) * 2),
            (0x3FFB0000, b"\x5a" * 0x400)]
    at = 24 + sum(8 + len(d) for _, d in segs)
    segs.append((0, bytes(0x10020 - 8 - (at + 8))))
    segs += [(0x400D0020, b"\xa5" * 0x800), (0x40080000, b"\x3c" * 0x104)]
    head = struct.pack("<BBBBIBBBBHBHH4sB", 0xE9, len(segs), 2, 0x20, 0x40080080, 0xEE, 0, 0, 0,
                       0, 0, 0, 399, bytes(4), 1 if hashed else 0)
    body = head + b"".join(struct.pack("<II", a, len(d)) + d for a, d in segs)
    checksum = 0xEF
    for _, d in segs:
        for b in d:
            checksum ^= b
    body += bytes(15 - len(body) % 16) + bytes([checksum])
    return body + (hashlib.sha256(body).digest() if hashed else b"")


def test_elf2image_style_image(esp32sim, tmp_path):
    path = tmp_path / "esptool.bin"
    for hashed in (True, False):
        data = elf2image_style(hashed)
        path.write_bytes(data)
        code, j, err = info(esp32sim, path)
        assert code == 0, (j, err)
        assert j["image_len"] == len(data)
        assert [s["region"] for s in j["segments"]] == ["DROM", "DRAM", "padding", "IROM", "IRAM"]
        assert j["segments"][3]["file_offset"] == 0x10020
        assert j["app_desc"]["project_name"] == "sensor"
        assert j["header"]["hash_appended"] is hashed
    damaged(esp32sim, tmp_path, data[:-1], "truncated")
