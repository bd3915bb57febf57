"""esp32sim ota: otadata state and the bootloader's next choice, on image files."""
import json

import pytest

from conftest import failed, ok

OTADATA = 0xD000


def ota_image(esp32sim, new_image, tmp_path, otadata=None, apps=()):
    image = new_image("ota.bin", "--layout", "ota")
    for offset, version in apps:
        app = tmp_path / ("app-%s.bin" % version)
        ok(esp32sim("image", "make", "-o", app, "--version", version))
        ok(esp32sim("flash", "write", image, hex(offset), app))
    if otadata is not None:
        raw = bytearray(image.read_bytes())
        raw[OTADATA:OTADATA + 0x2000] = otadata
        image.write_bytes(raw)
    return image


def status(esp32sim, image):
    return json.loads(ok(esp32sim("ota", "status", image, "--json")).out)


@pytest.fixture
def vector():
    import os
    import pathlib
    folder = pathlib.Path(os.environ["ESIM_FIXTURES_DIR"]) / "ota"
    return lambda name: (folder / name).read_bytes()


def test_blank_otadata(esp32sim, new_image, tmp_path):
    image = ota_image(esp32sim, new_image, tmp_path, apps=[(0x10000, "1.0")])
    s = status(esp32sim, image)
    assert s["entries"] == [{"seq": None, "state": "UNDEFINED", "crc_ok": False, "slot": None}] * 2
    assert s["next_boot"] == "ota_0"


@pytest.mark.parametrize("name, entries, next_boot", [
    ("otadata_01_after_switch_slot1.bin", [(2, "ota_1"), (None, None)], "ota_1"),
    ("otadata_02_after_switch_slot0.bin", [(2, "ota_1"), (3, "ota_0")], "ota_0"),
    ("otadata_03_after_switch_slot1.bin", [(4, "ota_1"), (3, "ota_0")], "ota_1"),
])
def test_status_reads_otatool_vectors(esp32sim, new_image, tmp_path, vector, name, entries, next_boot):
    image = ota_image(esp32sim, new_image, tmp_path, vector(name), [(0x10000, "1.0"), (0x190000, "2.0")])
    before = image.read_bytes()
    s = status(esp32sim, image)
    assert [(e["seq"], e["slot"]) for e in s["entries"]] == entries
    assert all(e["crc_ok"] for e in s["entries"] if e["seq"] is not None)
    assert s["next_boot"] == next_boot
    assert image.read_bytes() == before                     # status changes nothing


def test_status_predicts_rollback(esp32sim, new_image, tmp_path, vector):
    # The app on ota_0 was booted once (PENDING_VERIFY) and never confirmed:
    # the bootloader aborts it and, with no other valid entry, falls back.
    image = ota_image(esp32sim, new_image, tmp_path, vector("rb_02_bootloader_marked_PENDING_VERIFY.bin"),
                      [(0x10000, "1.0"), (0x190000, "2.0")])
    s = status(esp32sim, image)
    assert s["entries"][0]["state"] == "PENDING_VERIFY"
    assert any("ABORTED" in why for why in s["why"])


def test_set_boot_mark_valid_erase(esp32sim, new_image, tmp_path, vector):
    image = ota_image(esp32sim, new_image, tmp_path, apps=[(0x10000, "1.0"), (0x190000, "2.0")])
    ok(esp32sim("ota", "set-boot", image, "ota_0"))
    assert image.read_bytes()[OTADATA:OTADATA + 0x2000] == vector("rb_01_setboot_ota0_from_blank_NEW.bin")
    ok(esp32sim("ota", "set-boot", image, "ota_1"))
    s = status(esp32sim, image)
    assert [(e["seq"], e["state"]) for e in s["entries"]] == [(1, "NEW"), (2, "NEW")]
    assert s["next_boot"] == "ota_1"
    ok(esp32sim("ota", "mark-valid", image))
    assert status(esp32sim, image)["entries"][1]["state"] == "VALID"
    ok(esp32sim("ota", "erase", image))
    assert image.read_bytes()[OTADATA:OTADATA + 0x2000] == b"\xff" * 0x2000


def test_set_boot_refuses_an_image_that_does_not_verify(esp32sim, new_image, tmp_path):
    image = ota_image(esp32sim, new_image, tmp_path)
    before = image.read_bytes()
    failed(esp32sim("ota", "set-boot", image, "ota_1"), "does not verify", "ESP_ERR_OTA_VALIDATE_FAILED")
    assert image.read_bytes() == before


def test_errors(esp32sim, new_image, tmp_path):
    plain = new_image("plain.bin")
    failed(esp32sim("ota", "status", plain), "no otadata partition")
    image = ota_image(esp32sim, new_image, tmp_path)
    failed(esp32sim("ota", "set-boot", image, "nope"), "no app partition labelled 'nope'")
    failed(esp32sim("ota", "mark-valid", image), "no active otadata entry")
    failed(esp32sim("ota", "status", tmp_path / "gone.bin"), "gone.bin")
    for sub in ("status", "set-boot", "mark-valid", "erase"):
        r = esp32sim("ota", sub, "--help")
        assert r.code == 0 and r.out.startswith("Usage: esp32sim ota " + sub)
