# A sensor log in a btree database on the board's filesystem, keyed by
# zero-padded sample numbers so keys sort in time order.
import btree

try:
    f = open("log.db", "r+b")
except OSError:
    f = open("log.db", "w+b")
db = btree.open(f)
for n in range(20):
    db[b"%04d" % n] = b"%d.%d" % (20 + n // 4, n % 10)
db[b"meta"] = b"units=C"
db.flush()

print(db[b"0003"], db.get(b"9999"), b"meta" in db)
print(list(db.keys(b"0005", b"0008")))
print(list(db.keys(b"0005", b"0008", btree.INCL)))
print([k for k, v in db.items(b"0017")])
print(list(db.values(None, b"0002", btree.DESC))[:3])
del db[b"0000"]
try:
    del db[b"0000"]
except KeyError:
    print("KeyError")
db.close()
f.close()

f = open("log.db", "rb")
db = btree.open(f)
print(sum(1 for _ in db), next(iter(db)))
db.close()
f.close()
