# esp32sim: max_boots=4
# Wake every 10 s from deep sleep, keeping a reading count in RTC memory.
import machine
import ustruct

rtc = machine.RTC()
mem = rtc.memory()
count = ustruct.unpack("<I", mem)[0] if len(mem) == 4 else 0

if machine.reset_cause() == machine.DEEPSLEEP_RESET:
    print("woke", machine.wake_reason() == machine.TIMER_WAKE, "count", count)
else:
    print("power on, cause", machine.reset_cause())

count += 1
rtc.memory(ustruct.pack("<I", count))
print("sleeping after reading", count)
machine.deepsleep(10000)
