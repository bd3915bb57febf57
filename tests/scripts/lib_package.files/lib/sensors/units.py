def c_to_f(c):
    return c * 9 / 5 + 32

def scale(raw, gain, offset):
    return raw * gain + offset
