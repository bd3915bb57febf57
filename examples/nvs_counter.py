# A boot counter kept in NVS, the way ESP32 MicroPython code usually does it.
# Run it a few times: the count survives, as it would on a board. Add
# --nvs-strict and remove the commit() to see an uncommitted change lost.
import machine
from esp32 import NVS

nvs = NVS("app")
try:
    boots = nvs.get_i32("boots")
except OSError:          # first run: OSError(-4354, 'ESP_ERR_NVS_NOT_FOUND')
    boots = 0
boots += 1
nvs.set_i32("boots", boots)
nvs.commit()

name = bytearray(32)
try:
    n = nvs.get_blob("name", name)
    print("hello again,", bytes(name[:n]).decode())
except OSError:
    nvs.set_blob("name", "esp32sim")
    nvs.commit()
    print("stored a name")
print("boot number", boots, "reset cause", machine.reset_cause())
