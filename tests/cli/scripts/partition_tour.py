# Every esp32.Partition method and error path, printing what a board prints.
# Expected output (partition_tour.expected) is what MicroPython on an ESP32
# with the ESP32_GENERIC 4 MiB firmware prints, per the module reference.
from esp32 import Partition


def attempt(label, fn, *args):
    try:
        print(label, "->", fn(*args))
    except Exception as e:
        print(label, "->", type(e).__name__, e)


print(Partition.BOOT, Partition.RUNNING, Partition.TYPE_APP, Partition.TYPE_DATA)
for p in Partition.find(0xFF):
    print(p)
print([p.info()[4] for p in Partition.find()])
print([p.info()[4] for p in Partition.find(Partition.TYPE_DATA)])
print([p.info()[4] for p in Partition.find(Partition.TYPE_DATA, 0x01)])
print([p.info()[4] for p in Partition.find(type=1, label="vfs")])
print(Partition.find(0xFF, 0x02), Partition.find(label="nvs"))
print(Partition("nvs").info())
print(Partition(b"factory").info())
print(Partition(Partition.RUNNING))

attempt("label", Partition, "nope")
attempt("boot", Partition, Partition.BOOT)
attempt("id 7", Partition, 7)
attempt("float id", Partition, 1.5)
attempt("no args", Partition)
attempt("3 args", Partition, "nvs", 4096, 0)
attempt("find str", Partition.find, "data")
attempt("find 5 args", Partition.find, 1, 2, None, 4096, 0)

vfs = Partition("vfs")
print(vfs.ioctl(1, 0), vfs.ioctl(2, 0), vfs.ioctl(3, 0), vfs.ioctl(4, 0), vfs.ioctl(5, 0), vfs.ioctl(9, 0))
print(vfs.ioctl(6, 0))
vfs.writeblocks(0, bytearray(b"\x12" * 4096))
vfs.writeblocks(0, b"\x0f\xf0", 8)
buf = bytearray(12)
vfs.readblocks(0, buf)
print(buf)
vfs.readblocks(0, buf, 4090)
print(buf[:6])
print(vfs.writeblocks(0, bytearray(4096)), vfs.readblocks(1, bytearray(1)))

small = Partition("vfs", 512)
print(small.ioctl(4, 0), small.ioctl(5, 0), small.ioctl(6, 0))
vfs.ioctl(6, 0)
small.writeblocks(0, b"\xaa" * 4096, 0)
small.writeblocks(1, b"\x55" * 512)
check = bytearray(4096)
small.readblocks(0, check)
print(check[510:514], check[1022:1026], check.count(b"\xaa"), check.count(b"\x55"))

phy = Partition("phy_init")
attempt("read past end", phy.readblocks, 1, bytearray(1))
attempt("read far", phy.readblocks, 2, bytearray(1))
attempt("read offset", phy.readblocks, 0, bytearray(8), 4092)
attempt("read bytes", phy.readblocks, 0, b"1234")
attempt("partial sector", vfs.writeblocks, 0, bytearray(100))
attempt("erase past end", phy.ioctl, 6, 1)
attempt("info arg", phy.info, 1)
try:
    phy.readblocks(1, bytearray(1))
except OSError as e:
    print(repr(e), e.args, e.errno)
try:
    Partition("nope")
except OSError as e:
    print(repr(e), e.args, e.errno)
