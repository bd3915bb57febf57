# A tour of esp32.Partition on the simulated board: the same script runs
# unchanged on an ESP32 with MicroPython's ESP32_GENERIC firmware.
import esp32
import machine
from esp32 import Partition

print("reset cause:", machine.reset_cause())
print("running app:", Partition(Partition.RUNNING).info())

print("\nPartitions (the table, then MicroPython's vfs):")
for part in Partition.find(0xFF):
    print(" ", part)

# The vfs partition is a block device, as MicroPython's filesystem sees it.
vfs = Partition("vfs")
count, size = vfs.ioctl(4, 0), vfs.ioctl(5, 0)
print("\nvfs: %d blocks of %d bytes" % (count, size))

# Keep a small boot counter in the last block of vfs, using the extended
# block protocol like littlefs does: erase once, then program 4-byte slots.
last = count - 1
slots = bytearray(size)
vfs.readblocks(last, slots)
used = 0
while used < size // 4 and slots[used * 4:used * 4 + 4] != b"\xff\xff\xff\xff":
    used += 1
if used == size // 4:
    vfs.ioctl(6, last)          # block full: erase it and start again
    used = 0
vfs.writeblocks(last, used.to_bytes(4, "little"), used * 4)
print("this is run number", used + 1, "on this flash image")

# Errors are the ones a real board raises.
for label in ("nvs", "no-such-partition"):
    try:
        print("found", Partition(label).info()[4])
    except OSError as e:
        print("Partition(%r) failed:" % label, e)
try:
    Partition("phy_init").readblocks(1, bytearray(16))
except OSError as e:
    print("reading past the end:", e)
try:
    vfs.writeblocks(0, bytearray(100))
except OSError as e:
    print("simple write of a partial sector:", repr(e))
