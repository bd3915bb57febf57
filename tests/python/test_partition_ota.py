"""esp32.Partition's OTA methods (set_boot, get_next_update,
mark_app_valid_cancel_rollback) and the simulated bootloader behind
Partition(BOOT)/Partition(RUNNING): reference/micropython-esp32.md §2,
reference/espidf-formats.md §B."""
import hashlib
import struct

import pytest

import esp32sim
from esp32 import Partition

OTADATA_SIZE = 0x2000
NEW, PENDING_VERIFY, VALID, ABORTED, UNDEFINED = 0, 1, 2, 4, 0xFFFFFFFF

FACTORY_OTA_CSV = (
    "nvs,      data, nvs,     0x9000,  0x4000,\n"
    "otadata,  data, ota,     0xd000,  0x2000,\n"
    "phy_init, data, phy,     0xf000,  0x1000,\n"
    "factory,  app,  factory, 0x10000, 0x40000,\n"
    "ota_0,    app,  ota_0,   0x50000, 0x40000,\n"
    "ota_1,    app,  ota_1,   0x90000, 0x40000,\n")


def app_image(project=b"ota_test", version=b"1.0"):
    """A small valid ESP32 app image: one DROM segment holding the
    esp_app_desc_t, the XOR checksum and the appended SHA-256 (§C)."""
    desc = struct.pack("<II8x32s32s16s16s32s32sHHB3x72x", 0xABCD5432, 0, version, project,
                       b"12:00:00", b"Jan  1 2025", b"v5.5.2", bytes(32), 0, 0xFFFF, 0)
    assert len(desc) == 256
    header = struct.pack("<BBBBIB3sHBHHIB", 0xE9, 1, 2, 0x20, 0x400D0000, 0xEE, bytes(3),
                         0, 0, 0, 0xFFFF, 0, 1)
    body = header + struct.pack("<II", 0x3F400020, len(desc)) + desc
    checksum = 0xEF
    for b in desc:
        checksum ^= b
    body += bytes(15 - len(body) % 16) + bytes([checksum])
    return body + hashlib.sha256(body).digest()


def install(label, image=None):
    """Write an app image at the start of a partition, as an OTA updater does."""
    image = image or app_image()
    part = Partition(label)
    padded = image + b"\xff" * (-len(image) % 4096)
    part.writeblocks(0, padded)
    return part


def damage(label):
    """Clear the first byte of the project name: the SHA-256 no longer matches."""
    Partition(label).writeblocks(0, b"\x00", 0x20 + 48)


def otadata():
    buf = bytearray(OTADATA_SIZE)
    Partition("otadata").readblocks(0, buf)
    return bytes(buf)


def entry(copy):
    raw = otadata()[copy * 4096: copy * 4096 + 32]
    seq, state, crc = struct.unpack_from("<I", raw)[0], *struct.unpack_from("<II", raw, 24)
    return seq, state, crc


def vector(fixtures_dir, name):
    return (fixtures_dir / "ota" / name).read_bytes()


def running():
    return Partition(Partition.RUNNING).info()[4]


def boot():
    return Partition(Partition.BOOT).info()[4]


def erase(label):
    part = Partition(label)
    for block in range(part.ioctl(4, 0)):
        part.ioctl(6, block)


@pytest.fixture
def blank_ota_board(ota_board):
    """The OTA board with its apps and otadata erased and powered on again:
    the starting point of ESP-IDF's vectors (a chip never flashed with an
    app). A new board would otherwise run its own firmware from ota_0."""
    for label in ("ota_0", "ota_1", "otadata"):
        erase(label)
    ota_board.power_cycle()
    return ota_board


def raises_oserror(fn, *args):
    with pytest.raises(OSError) as info:
        fn(*args)
    return info.value


# ---- a new board's firmware ----

def test_new_board_runs_a_real_firmware_image(ota_board):
    assert running() == "ota_0"
    assert entry(0)[:2] == (1, VALID)        # the bootloader's initial contents
    assert entry(1)[0] == 0xFFFFFFFF
    running_part = Partition(Partition.RUNNING)
    desc = bytearray(256)
    running_part.readblocks(0, desc, 0x20)
    magic, = struct.unpack_from("<I", desc)
    assert magic == 0xABCD5432
    assert desc[16:48].rstrip(b"\0") == esp32sim.FIRMWARE_VERSION.encode()
    assert desc[48:80].rstrip(b"\0") == b"micropython"
    running_part.set_boot()                  # verifies the image: no error
    assert entry(1)[:2] == (1, NEW)          # the other copy, same seq (§B.3)
    # equal sequence numbers: copy 0 stays active (§B.2), so ESP-IDF's
    # bootloader never looks at the NEW copy
    ota_board.reset()
    assert running() == "ota_0"
    assert (entry(0)[:2], entry(1)[:2]) == ((1, VALID), (1, NEW))


# ---- the rollback vectors, byte for byte ----

def test_set_boot_reset_and_confirm_match_the_vectors(blank_ota_board, ota_board, fixtures_dir):
    install("ota_0").set_boot()
    assert otadata() == vector(fixtures_dir, "rb_01_setboot_ota0_from_blank_NEW.bin")
    ota_board.reset()
    assert otadata() == vector(fixtures_dir, "rb_02_bootloader_marked_PENDING_VERIFY.bin")
    assert running() == "ota_0"
    assert Partition.mark_app_valid_cancel_rollback() is None
    assert otadata() == vector(fixtures_dir, "rb_03_app_marked_VALID.bin")


def test_mark_valid_is_a_classmethod_also_on_instances(blank_ota_board, ota_board):
    install("ota_1").set_boot()
    ota_board.reset()
    Partition("ota_1").mark_app_valid_cancel_rollback()
    assert entry(0) == (2, VALID, entry(0)[2])


# ---- the rollback timeline ----

def test_unconfirmed_update_rolls_back_and_confirmed_one_stays(ota_board):
    install("ota_0").set_boot()
    ota_board.reset()
    Partition.mark_app_valid_cancel_rollback()
    install("ota_1", app_image(version=b"2.0"))
    Partition(Partition.RUNNING).get_next_update().set_boot()
    assert (running(), boot()) == ("ota_0", "ota_1")
    assert entry(1)[:2] == (2, NEW)

    ota_board.reset()                               # first boot of 2.0
    assert running() == "ota_1"
    assert entry(1)[:2] == (2, PENDING_VERIFY)
    ota_board.reset(reason="panic")                 # it crashed before confirming
    assert entry(1)[:2] == (2, ABORTED)
    assert (running(), boot()) == ("ota_0", "ota_0")

    Partition("ota_1").set_boot()                   # try again, and confirm
    ota_board.reset()
    assert running() == "ota_1"
    Partition.mark_app_valid_cancel_rollback()
    for _ in range(3):
        ota_board.power_cycle()
        assert running() == "ota_1"
        assert entry(1)[:2] == (2, VALID)


def test_deep_sleep_wake_restarts_the_same_app(ota_board):
    install("ota_0").set_boot()
    ota_board.reset()
    Partition.mark_app_valid_cancel_rollback()
    install("ota_1").set_boot()
    before = otadata()
    ota_board.reset(reason="deepsleep")
    assert running() == "ota_0"
    assert otadata() == before
    ota_board.reset()
    assert running() == "ota_1"


def test_factory_app_and_fallback(board_image):
    board_image(layout_csv=FACTORY_OTA_CSV)
    install("factory")
    install("ota_0").set_boot()
    damage("ota_0")
    esp32sim.current().reset()
    assert running() == "factory"                   # ota_0 does not verify: down to factory
    install("ota_0").set_boot()
    Partition("factory").set_boot()                 # factory: otadata erased
    assert otadata() == b"\xff" * OTADATA_SIZE
    assert boot() == "factory"
    e = raises_oserror(Partition.mark_app_valid_cancel_rollback)
    assert str(e) == "[Errno 1] EPERM: ESP_FAIL"
    assert repr(e) == "OSError(1, 'ESP_FAIL')"


# ---- errors ----

def test_set_boot_of_a_damaged_image_is_refused_and_otadata_untouched(ota_board):
    install("ota_0").set_boot()
    install("ota_1")
    damage("ota_1")
    before = otadata()
    e = raises_oserror(Partition("ota_1").set_boot)
    assert repr(e) == "OSError(-5379, 'ESP_ERR_OTA_VALIDATE_FAILED')"
    for label in ("nvs", "otadata", "vfs"):
        e = raises_oserror(Partition(label).set_boot)
        assert e.args[0] == -5379
    assert otadata() == before


def test_errors_without_otadata(board):
    install("factory")
    e = raises_oserror(Partition("factory").set_boot)
    assert repr(e) == "OSError(-261, 'ESP_ERR_NOT_FOUND')"
    e = raises_oserror(Partition.mark_app_valid_cancel_rollback)
    assert repr(e) == "OSError(-261, 'ESP_ERR_NOT_FOUND')"
    e = raises_oserror(Partition("factory").get_next_update)
    assert str(e) == "[Errno 2] ENOENT"


def test_slot_beyond_the_consecutive_ones_is_invalid_arg(board_image):
    board_image(layout_csv="otadata, data, ota, 0xd000, 0x2000,\n"
                           "ota_0, app, ota_0, 0x10000, 0x40000,\n"
                           "ota_2, app, ota_2, 0x50000, 0x40000,\n")
    e = raises_oserror(install("ota_2").set_boot)
    assert repr(e) == "OSError(-258, 'ESP_ERR_INVALID_ARG')"


def test_mark_valid_with_blank_otadata_is_esp_fail(blank_ota_board, ota_board):
    e = raises_oserror(Partition.mark_app_valid_cancel_rollback)
    assert str(e) == "[Errno 1] EPERM: ESP_FAIL"


# ---- get_next_update ----

def test_get_next_update_wraps_and_has_native_block_size(ota_board):
    nxt = Partition("ota_0", 512).get_next_update()
    assert nxt.info()[4] == "ota_1"
    assert nxt.ioctl(5, 0) == 4096
    assert Partition("ota_1").get_next_update().info()[4] == "ota_0"
    assert Partition("nvs").get_next_update().info()[4] == "ota_0"


def test_boards_without_app_images_boot_as_before(blank_ota_board, ota_board, fixtures_dir):
    assert (running(), boot()) == ("ota_0", "ota_0")
    Partition("otadata").writeblocks(0, vector(fixtures_dir, "otadata_01_after_switch_slot1.bin"))
    ota_board.reset()
    assert running() == "ota_1"


# ---- the bootloader's decisions, as Device.boot_events gives them ----

def test_boot_events_record_rollback_decisions(ota_board):
    first = ota_board.boot_events
    assert [e["kind"] for e in first] == ["no_selection", "loaded", "initial_seq"]
    assert first[2]["seq"] == 1 and first[2]["to"] == "VALID" and first[2]["written"] is True
    firmware = bytearray(0x160000)
    Partition("ota_0").readblocks(0, firmware)
    Partition("ota_1").writeblocks(0, firmware)
    Partition("ota_1").set_boot()
    ota_board.reset()
    ev = ota_board.boot_events
    assert [(e["kind"], e["entry"], e["seq"], e["to"], e["label"]) for e in ev[:2]] == [
        ("active", 1, 2, "NEW", "ota_1"), ("state_change", 1, 2, "PENDING_VERIFY", None)]
    assert ev[1]["from"] == "NEW" and ev[-1]["kind"] == "loaded" and ev[-1]["address"] == 0x190000
    ota_board.reset()                                   # never confirmed: rolled back
    ev = ota_board.boot_events
    assert (ev[0]["kind"], ev[0]["from"], ev[0]["to"]) == ("state_change", "PENDING_VERIFY", "ABORTED")
    assert ev[-1]["label"] == "ota_0" and ota_board.app_rollback is True


def test_a_board_without_rollback_keeps_an_unconfirmed_app(tmp_path):
    with esp32sim.Device(layout="ota", no_rollback=True) as dev:
        dev.use()
        assert dev.app_rollback is False
        firmware = bytearray(0x160000)
        Partition("ota_0").readblocks(0, firmware)
        Partition("ota_1").writeblocks(0, firmware)
        Partition("ota_1").set_boot()
        assert entry(1)[:2] == (2, UNDEFINED)
        dev.reset()
        dev.reset()
        assert running() == "ota_1"
        assert "state_change" not in [e["kind"] for e in dev.boot_events]
