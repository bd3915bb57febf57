# Two blinkers and a reporter as asyncio tasks, the shape of most
# MicroPython apps: tasks sleeping in milliseconds, an Event between them,
# a timeout and a cancelled task.
import uasyncio as asyncio
from machine import Pin
import time

led = Pin(2, Pin.OUT)
done = asyncio.Event()
start = time.ticks_ms()

def stamp():
    return time.ticks_diff(time.ticks_ms(), start)

async def blink(name, period_ms, times):
    for i in range(times):
        led.value(not led.value())
        print(stamp(), name, i)
        await asyncio.sleep_ms(period_ms)
    return name

async def slow():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print(stamp(), "slow cancelled")
        raise

async def waiter():
    await done.wait()
    print(stamp(), "event seen")

async def main():
    w = asyncio.create_task(waiter())
    names = await asyncio.gather(blink("a", 200, 3), blink("b", 300, 2))
    print(stamp(), "gathered", names)
    done.set()
    await w
    try:
        await asyncio.wait_for(slow(), 0.25)
    except asyncio.TimeoutError:
        print(stamp(), "timeout")
    return "finished"

print(asyncio.run(main()), stamp())
