from collections import defaultdict
import collections
print(hasattr(collections, "OrderedDict"), hasattr(collections, "namedtuple"), hasattr(collections, "deque"))
d = defaultdict(list)
d["a"].append(1)
d["a"].append(2)
d["b"]
print(sorted(d.items()), "a" in d, "c" in d)
d2 = defaultdict(lambda: 42, x=1)
print(d2["x"], d2["y"])
d3 = defaultdict()
try:
    d3["k"]
except KeyError as e:
    print("KeyError", e)
del d["a"]
print("a" in d)
