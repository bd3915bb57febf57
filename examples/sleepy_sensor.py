# A battery-powered sensor node: it wakes every 10 minutes (or when the
# button on GPIO 33 pulls the pin high), reads the die temperature, keeps
# its boot count and the last readings in RTC memory across deep sleep, and
# saves a summary to NVS every sixth wake.
#
#   esp32sim run --stimulus examples/sleepy_sensor.json --until-ms 7200000 \
#       --main examples/sleepy_sensor.py
import esp32
import machine

BUTTON = machine.Pin(33, machine.Pin.IN, machine.Pin.PULL_DOWN)
rtc = machine.RTC()

state = rtc.memory().split(b",") if rtc.memory() else [b"0"]
boots = int(state[0]) + 1
readings = [int(x) for x in state[1:]][-5:] + [esp32.raw_temperature()]
rtc.memory(b",".join([str(boots).encode()] + [str(r).encode() for r in readings]))

why = {machine.PIN_WAKE: "button", machine.TIMER_WAKE: "timer"}.get(machine.wake_reason(), "power-on")
print("wake %d (%s): raw temperature %d" % (boots, why, readings[-1]))

if boots % 6 == 0:
    nvs = esp32.NVS("sensor")
    nvs.set_i32("boots", boots)
    nvs.set_blob("last", bytes(readings))
    nvs.commit()
    print("saved %d readings to NVS" % len(readings))

esp32.wake_on_ext0(BUTTON, esp32.WAKEUP_ANY_HIGH)
machine.deepsleep(10 * 60 * 1000)
