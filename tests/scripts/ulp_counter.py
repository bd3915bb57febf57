# The counter example of micropython-esp32-ulp, with the binary its
# assembler makes for it embedded (as projects ship it when they do not
# assemble on the board): the ULP wakes every 50 ms and counts.
from esp32 import ULP
from machine import mem32
import time

binary = (b"ulp\x00\x0c\x00\x18\x00\x00\x00\x00\x00"
          b"\x00\x00\x00\x00\x03\x00\x80\x72\x0e\x00\x00\xd0"
          b"\x1a\x00\x00\x72\x0e\x00\x00\x68\x00\x00\x00\xb0")

load_addr, entry_addr = 0, 4
ULP_MEM_BASE = 0x50000000
ULP_DATA_MASK = 0xffff

ulp = ULP()
ulp.set_wakeup_period(0, 50000)
ulp.load_binary(load_addr, binary)
mem32[ULP_MEM_BASE + load_addr] = 0x1000
ulp.run(entry_addr)

last = None
while last != 0x1005:
    value = mem32[ULP_MEM_BASE + load_addr] & ULP_DATA_MASK
    if value != last:
        print(hex(value))
        last = value
    time.sleep_ms(10)
