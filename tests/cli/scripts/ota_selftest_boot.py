# boot.py of an OTA self-test across five boots, as MicroPython's docs
# describe the flow: copy the running app into the next slot, set_boot,
# reset, let the bootloader roll back the unconfirmed app, boot it again,
# confirm it, switch back. The step lives in /ota_state, a log in /ota_log.
import esp32
import machine


def read_state():
    try:
        with open("ota_state") as f:
            return f.read()
    except OSError:
        return "copy"


def next_step(step, reset=True):
    with open("ota_state", "w") as f:
        f.write(step)
    if reset:
        machine.reset()


running = esp32.Partition(esp32.Partition.RUNNING)
label = running.info()[4]
step = read_state()
with open("ota_log", "a") as log:
    log.write("%s %s %d\n" % (step, label, machine.reset_cause()))

if step == "copy":
    target = running.get_next_update()
    block = bytearray(4096)
    for n in range(running.ioctl(4, 0)):
        running.readblocks(n, block)
        target.writeblocks(n, block)
    target.set_boot()
    next_step("unconfirmed")
elif step == "unconfirmed":
    # the new app runs once, PENDING_VERIFY, and resets without confirming
    assert label == "ota_1", label
    next_step("rolled_back")
elif step == "rolled_back":
    assert label == "ota_0", label
    esp32.Partition("ota_1").set_boot()
    next_step("confirm")
elif step == "confirm":
    assert label == "ota_1", label
    esp32.Partition.mark_app_valid_cancel_rollback()
    esp32.Partition("ota_0").set_boot()
    next_step("switched_back")
elif step == "switched_back":
    assert label == "ota_0", label
    esp32.Partition.mark_app_valid_cancel_rollback()
    next_step("done", reset=False)
