# Check that an interrupt-style routine needs no heap: run it under
# micropython.heap_lock(), then show what allocating there does.
import micropython
from machine import Pin

micropython.alloc_emergency_exception_buf(100)
samples = bytearray(32)
state = [0, 0]
out = Pin(2, Pin.OUT)

def on_edge(pin):
    i = state[0]
    samples[i % len(samples)] = pin.value()
    state[0] = i + 1
    state[1] += i * 2
    out.value(i & 1)

def careless(pin):
    return [pin.value()] * 4

micropython.heap_lock()
for _ in range(10):
    on_edge(out)
try:
    careless(out)
    result = "allocated"
except MemoryError:
    result = "MemoryError"
micropython.heap_unlock()
print(state, result, out.value(), list(samples[:10]))
