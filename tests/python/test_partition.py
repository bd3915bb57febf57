"""esp32.Partition against reference/micropython-esp32.md §2 (MicroPython on ESP32)."""
import pytest

import esp32
import esp32sim
from esp32 import Partition

FACTORY_REPR = "<Partition type=0, subtype=0, address=65536, size=2031616, label=factory, encrypted=0>"
VFS_REPR = "<Partition type=1, subtype=129, address=2097152, size=2097152, label=vfs, encrypted=0>"


def labels(parts):
    return [p.info()[4] for p in parts]


def raises_oserror(fn, *args):
    with pytest.raises(OSError) as info:
        fn(*args)
    return info.value


# ---- constants, find, info, repr ----

def test_constants():
    assert (Partition.BOOT, Partition.RUNNING) == (0, 1)
    assert (Partition.TYPE_APP, Partition.TYPE_DATA) == (0, 1)


def test_find_defaults_to_app_partitions(board):
    assert [repr(p) for p in Partition.find()] == [FACTORY_REPR]


def test_find_data_lists_table_order_then_vfs(board):
    found = Partition.find(Partition.TYPE_DATA)
    assert labels(found) == ["nvs", "phy_init", "vfs"]
    assert repr(found[-1]) == VFS_REPR


def test_find_any_type_and_subtype(board):
    assert labels(Partition.find(0xFF)) == ["nvs", "phy_init", "factory", "vfs"]
    assert Partition.find(0xFF, 0x02) == []          # ESP-IDF quirk


def test_find_by_subtype_and_label(board):
    assert labels(Partition.find(Partition.TYPE_DATA, 0x02)) == ["nvs"]
    assert Partition.find(label="nvs") == []          # type defaults to APP
    assert labels(Partition.find(Partition.TYPE_DATA, label=b"nvs")) == ["nvs"]
    assert labels(Partition.find(type=1, subtype=0x81, label="vfs")) == ["vfs"]


def test_find_block_size(board):
    (vfs,) = Partition.find(Partition.TYPE_DATA, label="vfs", block_size=512)
    assert vfs.ioctl(5, None) == 512
    assert vfs.ioctl(4, None) == 2097152 // 512


@pytest.mark.parametrize("call, message", [
    (lambda: Partition.find(1, 2, None, 4096, 5), "extra positional arguments given"),
    (lambda: Partition.find(kind=1), "extra keyword arguments given"),
    (lambda: Partition.find(1, type=1), "extra keyword arguments given"),
    (lambda: Partition.find("app"), "can't convert str to int"),
    (lambda: Partition.find(1.0), "can't convert float to int"),
    (lambda: Partition.find(1, label=5), "can't convert 'int' object to str implicitly"),
])
def test_find_argument_errors(board, call, message):
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value) == message


def test_info_is_a_six_tuple(board):
    assert Partition("nvs").info() == (1, 2, 0x9000, 0x6000, "nvs", False)
    assert Partition(b"factory").info() == (0, 0, 0x10000, 0x1F0000, "factory", False)


def test_objects_compare_by_identity(board):
    a, b = Partition("nvs"), Partition("nvs")
    assert a != b and a == a


# ---- constructor ----

def test_unknown_label_is_enoent(board):
    e = raises_oserror(Partition, "nope")
    assert (e.errno, e.args) == (2, (2,))
    assert str(e) == "[Errno 2] ENOENT"
    assert repr(e) == "OSError(2,)"
    assert type(e).__name__ == "OSError"


def test_other_int_id_is_bare_value_error(board):
    with pytest.raises(ValueError) as info:
        Partition(5)
    assert str(info.value) == "" and info.value.args == ()


@pytest.mark.parametrize("arg, name", [(True, "bool"), (1.5, "float"), (None, "NoneType")])
def test_id_must_be_int_or_str(board, arg, name):
    with pytest.raises(TypeError) as info:
        Partition(arg)
    assert str(info.value) == "can't convert '%s' object to str implicitly" % name


@pytest.mark.parametrize("call, message", [
    (lambda: Partition(), "function missing 1 required positional arguments"),
    (lambda: Partition("nvs", 4096, 1), "function expected at most 2 arguments, got 3"),
    (lambda: Partition("nvs", block_size=512), "function doesn't take keyword arguments"),
    (lambda: Partition("nvs", "big"), "can't convert str to int"),
])
def test_constructor_argument_errors(board, call, message):
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value) == message


def test_block_size_is_stored_as_uint16(board):
    assert Partition("nvs", 512).ioctl(5, 0) == 512
    assert Partition("nvs", 65536 + 1024).ioctl(5, 0) == 1024


def test_running_and_boot_without_otadata(board):
    assert repr(Partition(Partition.RUNNING)) == FACTORY_REPR
    e = raises_oserror(Partition, Partition.BOOT)      # no otadata: IDF returns NULL
    assert str(e) == "[Errno 2] ENOENT"


def test_running_and_boot_with_blank_otadata(ota_board):
    assert Partition(Partition.RUNNING).info()[4] == "ota_0"
    assert Partition(Partition.BOOT).info()[4] == "ota_0"
    assert labels(Partition.find(Partition.TYPE_DATA)) == ["nvs", "otadata", "phy_init", "vfs"]
    assert Partition("vfs").info() == (1, 0x81, 0x310000, 0xF0000, "vfs", False)


def test_boot_follows_valid_otadata(ota_board, fixtures_dir):
    # otadata as otatool.py left it after `switch_ota_partition --slot 1`.
    image = (fixtures_dir / "ota" / "otadata_01_after_switch_slot1.bin").read_bytes()
    Partition("otadata").writeblocks(0, image)
    assert Partition(Partition.BOOT).info()[4] == "ota_1"
    assert Partition(Partition.RUNNING).info()[4] == "ota_0"   # until the next boot
    ota_board.reset()                                          # ota_1 is empty
    assert Partition(Partition.RUNNING).info()[4] == "ota_0"
    firmware = bytearray(0x160000)
    Partition("ota_0").readblocks(0, firmware)
    Partition("ota_1").writeblocks(0, firmware)                # an OTA update
    Partition("otadata").writeblocks(0, image)
    ota_board.reset()
    assert Partition(Partition.RUNNING).info()[4] == "ota_1"


# ---- block device: simple protocol ----

def test_simple_write_erases_first(board):
    vfs = Partition("vfs")
    vfs.writeblocks(3, bytes(4096))
    vfs.writeblocks(3, b"\xa5" * 4096)
    buf = bytearray(4096)
    vfs.readblocks(3, buf)
    assert buf == b"\xa5" * 4096


def test_simple_write_needs_whole_sectors(board):
    e = raises_oserror(Partition("vfs").writeblocks, 0, bytearray(100))
    assert e.args == (-260, "ESP_ERR_INVALID_SIZE")
    assert str(e) == "(-260, 'ESP_ERR_INVALID_SIZE')"
    assert repr(e) == "OSError(-260, 'ESP_ERR_INVALID_SIZE')"


def test_small_block_size_keeps_the_rest_of_the_sector(board):
    (vfs,) = Partition.find(Partition.TYPE_DATA, label="vfs", block_size=512)
    vfs.writeblocks(0, bytes(range(256)) * 16, 0)         # extended: no erase
    vfs.writeblocks(2, b"\x11" * 512)                       # simple: erase keeps the rest
    buf = bytearray(4096)
    vfs.readblocks(0, buf)
    expected = bytearray(bytes(range(256)) * 16)
    expected[1024:1536] = b"\x11" * 512
    assert buf == expected


def test_small_block_write_across_sectors(board):
    (vfs,) = Partition.find(Partition.TYPE_DATA, label="vfs", block_size=512)
    vfs.writeblocks(0, b"\x22" * 8192, 0)
    vfs.writeblocks(7, b"\x33" * 1024)                      # last block of sector 0, first of 1
    buf = bytearray(8192)
    vfs.readblocks(0, buf)
    assert buf == b"\x22" * 3584 + b"\x33" * 1024 + b"\x22" * 3584


# ---- block device: extended protocol ----

def test_extended_write_ands_bits_like_nor_flash(board):
    vfs = Partition("vfs")
    vfs.ioctl(6, 1)
    vfs.writeblocks(1, b"\x0f\xff", 10)
    vfs.writeblocks(1, b"\xf0\x3c", 10)
    buf = bytearray(4)
    vfs.readblocks(1, buf, 9)
    assert buf == b"\xff\x00\x3c\xff"


def test_str_is_a_read_buffer(board):
    vfs = Partition("vfs")
    vfs.writeblocks(0, "hé", 0)
    buf = bytearray(3)
    vfs.readblocks(0, buf)
    assert bytes(buf) == "hé".encode()


def test_read_buffer_must_be_writable(board):
    with pytest.raises(TypeError) as info:
        Partition("nvs").readblocks(0, bytes(4))
    assert str(info.value) == "object with buffer protocol required"
    with pytest.raises(TypeError):
        Partition("nvs").writeblocks(0, 42)


def test_read_ranges(board):
    phy = Partition("phy_init")                            # 4096 bytes
    phy.readblocks(0, bytearray(4096))
    e = raises_oserror(phy.readblocks, 1, bytearray(1))    # offset == size: size error
    assert e.args == (-260, "ESP_ERR_INVALID_SIZE")
    e = raises_oserror(phy.readblocks, 2, bytearray(1))    # offset > size
    assert e.args == (-258, "ESP_ERR_INVALID_ARG")
    e = raises_oserror(phy.readblocks, 0, bytearray(8), 4090)
    assert e.args == (-260, "ESP_ERR_INVALID_SIZE")
    e = raises_oserror(phy.readblocks, -1, bytearray(1))   # wraps to a huge offset
    assert e.args == (-258, "ESP_ERR_INVALID_ARG")


@pytest.mark.parametrize("call, message", [
    (lambda p: p.readblocks(0), "function missing 1 required positional arguments"),
    (lambda p: p.readblocks(0, bytearray(1), 0, 0), "function expected at most 4 arguments, got 5"),
    (lambda p: p.writeblocks(0, b"", offset=0), "function doesn't take keyword arguments"),
    (lambda p: p.info(1), "function takes 1 positional arguments but 2 were given"),
    (lambda p: p.ioctl(1), "function takes 3 positional arguments but 2 were given"),
    (lambda p: p.readblocks("0", bytearray(1)), "can't convert str to int"),
])
def test_method_argument_errors(board, call, message):
    with pytest.raises(TypeError) as info:
        call(Partition("nvs"))
    assert str(info.value) == message


# ---- ioctl ----

def test_ioctl(board):
    nvs = Partition("nvs")
    assert [nvs.ioctl(cmd, None) for cmd in (1, 2, 3)] == [0, 0, 0]
    assert nvs.ioctl(4, None) == 6
    assert nvs.ioctl(5, None) == 4096
    assert nvs.ioctl(7, 0) is None and nvs.ioctl(0, 0) is None
    nvs.writeblocks(2, bytes(4096))
    assert nvs.ioctl(6, 2) == 0
    buf = bytearray(4096)
    nvs.readblocks(2, buf)
    assert buf == b"\xff" * 4096


def test_ioctl_erase_errors(board):
    assert Partition("nvs", 512).ioctl(6, 0) == -22
    e = raises_oserror(Partition("nvs").ioctl, 6, 6)
    assert e.args == (-260, "ESP_ERR_INVALID_SIZE")


def test_block_size_zero_panics_on_block_count(board):
    with pytest.raises(esp32sim.Panic) as info:
        Partition("nvs", 0).ioctl(4, 0)
    assert "IntegerDivideByZero" in str(info.value)
    assert board.reset_reason == 4            # ESP_RST_PANIC


# ---- readonly partitions ----

READONLY_LAYOUT = """nvs, data, nvs, 0x9000, 0x6000,
factory, app, factory, 0x10000, 0x100000,
keys, data, nvs, , 0x2000, readonly
"""


def test_readonly_partition_refuses_writes(board_image):
    board_image(layout_csv=READONLY_LAYOUT)
    keys = Partition("keys")
    before = keys.info()
    e = raises_oserror(keys.writeblocks, 0, bytearray(4096))
    assert e.args == (-269, "ESP_ERR_NOT_ALLOWED")
    e = raises_oserror(keys.writeblocks, 0, b"x", 0)
    assert e.args == (-269, "ESP_ERR_NOT_ALLOWED")
    e = raises_oserror(keys.ioctl, 6, 0)
    assert e.args == (-269, "ESP_ERR_NOT_ALLOWED")
    buf = bytearray(4)
    keys.readblocks(0, buf)
    assert buf == b"\xff" * 4 and keys.info() == before


# ---- as a filesystem's block device ----

def test_log_structured_use_like_littlefs(board):
    """The calls MicroPython's littlefs driver makes: count, size, erase, prog, read."""
    bdev = Partition("vfs")
    count, size = bdev.ioctl(4, 0), bdev.ioctl(5, 0)
    assert (count, size) == (512, 4096)
    records = [bytes([i % 251 + 1]) * 16 for i in range(300)]
    for block in range(3):
        assert bdev.ioctl(6, block) == 0
    for i, rec in enumerate(records):
        bdev.writeblocks(i * 16 // size, rec, i * 16 % size)
    buf = bytearray(16)
    for i, rec in enumerate(records):
        bdev.readblocks(i * 16 // size, buf, i * 16 % size)
        assert buf == rec


# ---- flash behind it ----

def test_writes_reach_the_flash_and_its_counters(board):
    board.reset_counters()
    Partition("vfs").writeblocks(1, b"\x42" * 4096)
    c = board.counters()
    assert c["sectors_erased"] == 1 and c["bytes_programmed"] == 4096
    assert board.read_flash(0x200000 + 4096, 4) == b"\x42" * 4
    assert board.wear()[(0x200000 + 4096) // 4096] == 1


def test_data_persists_in_the_image_file(board_image, tmp_path):
    dev = board_image("persist.bin")
    Partition("vfs").writeblocks(5, b"\x99" * 4096)
    dev.close()
    board_image("persist.bin")
    buf = bytearray(4096)
    Partition("vfs").readblocks(5, buf)
    assert buf == b"\x99" * 4096


def test_power_cut_stops_the_firmware(board):
    vfs = Partition("vfs")
    board.arm_power_cut(op=1, seed=7)
    with pytest.raises(esp32sim.PowerLoss):
        vfs.writeblocks(0, b"\x00" * 4096)
    assert not board.powered
    board.power_cycle()
    assert board.powered and board.reset_reason == 1
    vfs.readblocks(0, bytearray(16))
