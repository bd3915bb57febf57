import bisect
a = [1, 2, 2, 2, 3, 5, 8]
print(bisect.bisect_left(a, 2), bisect.bisect_right(a, 2), bisect.bisect(a, 2))
print(bisect.bisect_left(a, 0), bisect.bisect_right(a, 9), bisect.bisect_left(a, 4))
print(bisect.bisect_left(a, 2, 2), bisect.bisect_right(a, 2, 0, 3), bisect.bisect_left(a, 8, 0, 5))
b = []
for x in (5, 1, 4, 1, 3):
    bisect.insort(b, x)
print(b)
bisect.insort_left(b, 4)
bisect.insort_right(b, 2, 0, 3)
print(b)
t = [(1, "a"), (2, "b")]
bisect.insort(t, (1, "z"))
print(t)
words = ["ant", "bee", "cat"]
print(bisect.bisect_left(words, "bat"), bisect.bisect_right(words, "cat"))
try:
    bisect.bisect_left(a, 2, -1)
except ValueError as e:
    print("ValueError", e)
try:
    bisect.insort_right(a, 3, -2)
except ValueError as e:
    print("ValueError", e)
try:
    bisect.bisect_left([1, "x"], 2)
except TypeError:
    print("TypeError")
