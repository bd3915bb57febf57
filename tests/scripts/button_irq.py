# esp32sim: until_ms=3000 stimulus=button_irq.json
# Count presses of a button on GPIO 4 (pulled up, pressed pulls low) with
# an interrupt handler, as a debounced counter would.
from machine import Pin
import time
import micropython

presses = 0
last_ms = 0

def pressed(pin):
    global presses, last_ms
    now = time.ticks_ms()
    if time.ticks_diff(now, last_ms) > 50:
        presses += 1
        last_ms = now

button = Pin(4, Pin.IN, Pin.PULL_UP)
button.irq(pressed, Pin.IRQ_FALLING)
led = Pin(2, Pin.OUT, value=0)

seen = 0
while True:
    if presses != seen:
        seen = presses
        led.value(seen % 2)
        print("press", seen, "led", led.value(), "button", button.value())
    time.sleep_ms(5)
