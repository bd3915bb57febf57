# esp32sim: max_boots=3
# A settings store in NVS that survives resets: a boot counter, a device
# name and a calibration blob written once.
import esp32
import machine
import struct

nvs = esp32.NVS("settings")
try:
    boots = nvs.get_i32("boots")
except OSError:
    boots = 0
boots += 1
nvs.set_i32("boots", boots)

buf = bytearray(32)
try:
    n = nvs.get_blob("name", buf)
    name = buf[:n].decode()
except OSError:
    name = "sensor-%02d" % 7
    nvs.set_blob("name", name.encode())
    nvs.set_blob("calib", struct.pack("<hhh", -12, 34, 560))
nvs.commit()

calib = bytearray(6)
nvs.get_blob("calib", calib)
print("boot", boots, "name", name, "calib", struct.unpack("<hhh", calib))

if boots < 3:
    machine.reset()
nvs.erase_key("boots")
nvs.commit()
try:
    nvs.get_i32("boots")
except OSError as e:
    print("erased:", e)
