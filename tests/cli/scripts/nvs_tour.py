# Every esp32.NVS method and error path, printing what a board prints.
# Expected output (nvs_tour.expected) is what MicroPython on an ESP32 with the
# ESP32_GENERIC 4 MiB firmware and a blank nvs partition prints, per the
# module reference.
import array

from esp32 import NVS


def attempt(label, fn, *args):
    try:
        print(label, "->", fn(*args))
    except Exception as e:
        print(label, "->", type(e).__name__, e)


nvs = NVS("tour")
print(nvs)

# i32 values
print(nvs.set_i32("count", 42), nvs.get_i32("count"))
nvs.set_i32("neg", -2147483648)
nvs.set_i32("flag", True)
print(nvs.get_i32("neg"), nvs.get_i32("flag"))
attempt("i32 2**31", nvs.set_i32, "big", 2147483648)
attempt("i32 float", nvs.set_i32, "f", 1.5)
attempt("i32 str", nvs.set_i32, "f", "1")
attempt("missing", nvs.get_i32, "nope")

# blobs
print(nvs.set_blob("blob", b"\x01\x02\x03"))
buf = bytearray(5)
print(nvs.get_blob("blob", buf), buf)
small = bytearray(b"ab")
attempt("small buffer", nvs.get_blob, "blob", small)
print(small)
print("size query", nvs.get_blob("blob", bytearray()))
nvs.set_blob("text", "h\u00e9llo")
buf = bytearray(10)
n = nvs.get_blob("text", buf)
print(n, bytes(buf[:n]))
nvs.set_blob("arr", array.array("h", [1, -1]))
buf = bytearray(4)
print(nvs.get_blob("arr", buf), buf)
nvs.set_blob("mv", memoryview(b"xyz")[1:])
buf = bytearray(2)
print(nvs.get_blob("mv", buf), buf)
mv = memoryview(bytearray(6))
print(nvs.get_blob("blob", mv[2:]), bytes(mv))
attempt("blob of int", nvs.set_blob, "x", 5)
attempt("into bytes", nvs.get_blob, "blob", b"123456")
attempt("into str", nvs.get_blob, "blob", "123456")

# a key holds one type at a time
attempt("i32 of blob", nvs.get_i32, "blob")
attempt("blob of i32", nvs.get_blob, "count", bytearray(8))
nvs.set_i32("blob", 7)
attempt("blob replaced", nvs.get_blob, "blob", bytearray(8))
print(nvs.get_i32("blob"))
nvs.set_blob("count", b"c")
attempt("i32 replaced", nvs.get_i32, "count")

# keys: at most 15 bytes; reads and erases compare the first 15
attempt("long key", nvs.set_i32, "sixteen_chars_ab", 1)
nvs.set_i32("fifteen_chars_a", 5)
print(nvs.get_i32("fifteen_chars_abc"))
attempt("same value, long key", nvs.set_i32, "fifteen_chars_abc", 5)
attempt("new value, long key", nvs.set_i32, "fifteen_chars_abc", 6)
print(nvs.erase_key("fifteen_chars_abc"))
attempt("erased", nvs.get_i32, "fifteen_chars_a")
attempt("erase missing", nvs.erase_key, "nope")
nvs.set_i32(b"bytes_key", 3)
print(nvs.get_i32("bytes_key"))
attempt("int key", nvs.get_i32, 5)
nvs.erase_key("count")
attempt("erased blob", nvs.get_blob, "count", bytearray(8))

# arguments
attempt("no args", NVS)
attempt("2 args", NVS, "a", "b")
attempt("int namespace", NVS, 1)
attempt("set_i32 1 arg", nvs.set_i32, "k")
attempt("get_i32 0 args", nvs.get_i32)
attempt("get_blob 1 arg", nvs.get_blob, "blob")
attempt("erase_key 2 args", nvs.erase_key, "a", "b")
attempt("commit 1 arg", nvs.commit, 1)
try:
    nvs.get_i32(key="neg")
except TypeError as e:
    print("keyword ->", e)
try:
    NVS(namespace="tour")
except TypeError as e:
    print("keyword ->", e)

# namespaces
other = NVS(b"other")
attempt("other namespace", other.get_i32, "bytes_key")
attempt("long namespace", NVS, "sixteen_chars_ns")
NVS("fifteen_chars_n").set_i32("v", 9)
print(NVS("fifteen_chars_nXYZ").get_i32("v"))
print(nvs.commit(), other.commit())

# sizes
big = NVS("big")
attempt("over the limit", big.set_blob, "b", bytes(20001))
attempt("at the limit", big.set_blob, "b", bytes(20000))
print(nvs.get_i32("neg"))

try:
    nvs.get_i32("nope")
except OSError as e:
    print(repr(e), e.args, e.errno)
