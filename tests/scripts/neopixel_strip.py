# A strip of eight pixels: a colour wheel, then a brightness scale.
import machine
import neopixel

np = neopixel.NeoPixel(machine.Pin(13), 8)

def wheel(pos):
    if pos < 85:
        return (255 - pos * 3, pos * 3, 0)
    if pos < 170:
        pos -= 85
        return (0, 255 - pos * 3, pos * 3)
    pos -= 170
    return (pos * 3, 0, 255 - pos * 3)

for i in range(len(np)):
    np[i] = wheel(i * 256 // len(np))
np.write()
print(np[0], np[3], np[7])
print(bytes(np.buf[:6]).hex())

np.fill((10, 20, 30))
np[1] = (255, 255, 255)
np.write()
print(len(np.buf), np.bpp, np.ORDER)
print(list(np.buf[:6]))
