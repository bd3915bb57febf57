# Describe a block of RTC slow memory with uctypes and read it back through
# the address map, as drivers that share memory with the ULP do.
import uctypes
from machine import mem32

RTC_SLOW_MEM = 0x50000000
LAYOUT = {
    "magic": 0 | uctypes.UINT32,
    "samples": (4 | uctypes.ARRAY, 4 | uctypes.UINT16),
    "flags": 12 | uctypes.BFUINT32 | 0 << uctypes.BF_POS | 4 << uctypes.BF_LEN,
    "mode": 12 | uctypes.BFUINT32 | 4 << uctypes.BF_POS | 3 << uctypes.BF_LEN,
}

mem32[RTC_SLOW_MEM + 0x100] = 0xC0FFEE01
mem32[RTC_SLOW_MEM + 0x104] = 0x00020001
mem32[RTC_SLOW_MEM + 0x108] = 0x00040003
mem32[RTC_SLOW_MEM + 0x10C] = 0b101_1010

shared = uctypes.struct(RTC_SLOW_MEM + 0x100, LAYOUT, uctypes.LITTLE_ENDIAN)
print(hex(shared.magic), [shared.samples[i] for i in range(4)])
print(bin(shared.flags), shared.mode, uctypes.sizeof(LAYOUT))
shared.samples[2] = 0xBEEF
print(hex(mem32[RTC_SLOW_MEM + 0x108]))

buf = bytearray(8)
hdr = uctypes.struct(uctypes.addressof(buf), {"len": 0 | uctypes.UINT16, "kind": 2 | uctypes.UINT8}, uctypes.BIG_ENDIAN)
hdr.len = 0x1234
hdr.kind = 7
print(buf, bytes(uctypes.bytes_at(uctypes.addressof(buf), 3)))
