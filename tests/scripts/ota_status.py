# esp32sim: layout=ota
# What an OTA-capable application checks at start-up: where it runs from,
# where the next update goes, and marking itself valid.
from esp32 import Partition

running = Partition(Partition.RUNNING)
info = running.info()
print("running:", info[4], "type", info[0], "subtype", info[1])
nxt = running.get_next_update()
print("next update:", nxt.info()[4], hex(nxt.info()[2]), nxt.info()[3] // 1024, "KiB")
print("blocks:", nxt.ioctl(4, None), "block size", nxt.ioctl(5, None))
apps = Partition.find(Partition.TYPE_APP)
print("apps:", [p.info()[4] for p in apps])
data = Partition.find(Partition.TYPE_DATA, label="nvs")
print("nvs:", data[0].info()[1], hex(data[0].info()[2]))
Partition.mark_app_valid_cancel_rollback()
print("marked valid")
