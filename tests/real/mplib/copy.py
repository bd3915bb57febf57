import copy
a = [1, [2, 3], {"k": [4]}]
b = copy.copy(a)
c = copy.deepcopy(a)
print(b == a, b is a, b[1] is a[1])
print(c == a, c[1] is a[1], c[2]["k"] is a[2]["k"])
t = (1, [2])
print(copy.deepcopy(t) == t, copy.deepcopy(t) is t, copy.deepcopy((1, 2)) is not None)
class P:
    def __init__(self, v):
        self.v = v
    def __copy__(self):
        return P(self.v)
    def __deepcopy__(self, memo):
        return P(copy.deepcopy(self.v, memo))
p = P([1])
print(copy.copy(p).v is p.v, copy.deepcopy(p).v is p.v, copy.deepcopy(p).v)
r = [1]; r.append(r)
rc = copy.deepcopy(r)
print(rc[1] is rc, rc is not r)
print(copy.copy({1, 2}), copy.copy(None), copy.deepcopy("s"))
try:
    copy.copy(object())
except copy.Error as e:
    print("Error", e)
