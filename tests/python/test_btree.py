"""MicroPython's btree module: the documented example, the behaviour
MicroPython's own btree tests pin down, streams (io.BytesIO, host files,
the board's files), errors, and the file format a board reads."""
import errno
import io
import struct
import textwrap

import pytest

import btree
import esp32sim

R_CURSOR, R_FIRST, R_LAST, R_NEXT, R_PREV = 1, 3, 6, 7, 9
EFTYPE = 79


def sample(stream=None, **kw):
    db = btree.open(stream if stream is not None else io.BytesIO(), **kw)
    db[b"foo3"] = b"bar3"
    db[b"foo1"] = b"bar1"
    db[b"foo2"] = b"bar2"
    db[b"bar1"] = b"foo1"
    return db


def test_module_surface():
    assert btree.INCL == 1 and btree.DESC == 2
    db = btree.open(io.BytesIO())
    for name in ("close", "flush", "get", "put", "seq", "keys", "values", "items"):
        assert callable(getattr(db, name))
    assert not hasattr(db, "__enter__")        # MicroPython's has no context manager
    assert repr(db).startswith("<btree ")


def test_documented_example(tmp_path):
    path = tmp_path / "mydb"
    try:
        f = open(path, "r+b")
    except OSError:
        f = open(path, "w+b")
    db = btree.open(f)
    db[b"3"] = b"three"
    db[b"1"] = b"one"
    db[b"2"] = b"two"
    db.flush()
    assert db[b"2"] == b"two"
    assert list(db.values(b"2")) == [b"two", b"three"]
    del db[b"2"]
    assert list(db.items()) == [(b"1", b"one"), (b"3", b"three")]
    db.close()
    f.close()
    with open(path, "r+b") as f:
        db = btree.open(f)
        assert dict(db.items()) == {b"1": b"one", b"3": b"three"}
        db.close()


def test_mapping_behaviour():
    db = sample()
    assert db[b"foo2"] == b"bar2"
    with pytest.raises(KeyError):
        db[b"foo"]
    assert db.get(b"foo") is None
    assert db.get(b"foo", b"dflt") == b"dflt"
    del db[b"foo2"]
    with pytest.raises(KeyError):
        del db[b"foo"]
    assert b"foo1" in db and b"foo2" not in db
    assert db.put(b"p", b"q") == 0 and db[b"p"] == b"q"
    db[b"p"] = b"replaced"
    assert db[b"p"] == b"replaced"


def test_ranges_incl_desc():
    db = sample()
    del db[b"foo2"]
    items = lambda *a: list(db.items(*a))
    all_ = [(b"bar1", b"foo1"), (b"foo1", b"bar1"), (b"foo3", b"bar3")]
    assert items() == all_ and items(None, None) == all_
    assert items(b"f") == all_[1:]
    assert items(b"f", b"foo3") == all_[1:2]
    assert items(None, b"foo3") == all_[:2]
    assert items(b"f", b"foo3", btree.INCL) == all_[1:]
    assert items(None, None, btree.DESC) == all_[::-1]
    assert list(db.keys()) == [b"bar1", b"foo1", b"foo3"]
    assert list(db.values()) == [b"foo1", b"bar1", b"bar3"]
    assert list(db) == [b"bar1", b"foo1", b"foo3"]
    # DESC from a start key: the cursor lands on the first key >= start,
    # then walks down, stopping before the end key (INCL lets it in).
    assert list(db.keys(b"foo3", b"bar1", btree.DESC)) == [b"foo3", b"foo1"]
    assert list(db.keys(b"foo3", b"bar1", btree.DESC | btree.INCL)) == [b"foo3", b"foo1", b"bar1"]
    assert list(db.keys(b"foo2", None, btree.DESC)) == [b"foo3", b"foo1", b"bar1"]


def test_iteration_uses_the_one_cursor():
    db = sample()
    it = db.keys(b"foo")
    assert it is db
    assert next(iter(it)) == b"foo1"
    assert next(db) == b"foo2"
    assert db.seq(R_FIRST) == (b"bar1", b"foo1")
    assert next(db) == b"foo1"          # the walk goes on from the cursor


def test_seq_flags():
    db = sample()
    assert db.seq(R_FIRST) == (b"bar1", b"foo1")
    assert db.seq(R_NEXT) == (b"foo1", b"bar1")
    assert db.seq(R_LAST) == (b"foo3", b"bar3")
    assert db.seq(R_NEXT) is None
    assert db.seq(R_PREV) == (b"foo2", b"bar2")
    assert db.seq(R_CURSOR, b"foo") == (b"foo1", b"bar1")
    with pytest.raises(OSError) as e:
        db.seq(42)
    assert e.value.args[0] == errno.EINVAL


def test_keys_are_bytes_like():
    db = btree.open(io.BytesIO())
    db[bytearray(b"k1")] = memoryview(b"v1")
    db["k2"] = "v\u00e92"
    assert db[b"k1"] == b"v1" and db["k1"] == b"v1"
    assert db[b"k2"] == "v\u00e92".encode()
    with pytest.raises(TypeError):
        db[12] = b"x"
    with pytest.raises(TypeError):
        db[b"x"] = None


def test_closed_database():
    f = io.BytesIO()
    db = btree.open(f)
    db[b"foo"] = b"42"
    assert db.close() == 0
    for action in (lambda: db[b"foo"], lambda: db.__setitem__(b"bar", b"43"), db.flush,
                   lambda: [kv for kv in db.items()], lambda: b"foo" in db):
        with pytest.raises(ValueError, match="database closed"):
            action()
    assert db.close() == 0
    assert repr(db) == "<btree 0>"


def test_changes_reach_the_stream_on_flush_and_close():
    f = io.BytesIO()
    db = btree.open(f)
    assert f.getvalue() == b""
    db[b"k"] = b"v"
    assert f.getvalue() == b""          # cached until flushed
    assert db.flush() == 0
    assert len(f.getvalue()) == 2 * 4096  # meta page + root, default 4096-byte pages
    db[b"k2"] = b"v2"
    db.close()
    again = btree.open(f)
    assert list(again.items()) == [(b"k", b"v"), (b"k2", b"v2")]


def test_on_disk_format_is_berkeley_db_little_endian():
    f = io.BytesIO()
    db = btree.open(f, pagesize=512)
    db[b"a"] = b"1"
    db.close()
    raw = f.getvalue()
    assert len(raw) == 1024
    assert struct.unpack_from("<6I", raw, 0) == (0x053162, 3, 512, 0, 0, 0x20)
    pgno, prev, nxt, flags, lower, upper = struct.unpack_from("<4I2H", raw, 512)
    assert (pgno, prev, nxt, flags, lower, upper) == (1, 0, 0, 2, 22, 500)
    off = struct.unpack_from("<H", raw, 512 + 20)[0]
    assert off == 500
    assert struct.unpack_from("<IIB", raw, 512 + off) == (1, 1, 0)
    assert raw[512 + off + 9:512 + off + 11] == b"a1"


def test_many_keys_and_big_values_round_trip(tmp_path):
    path = tmp_path / "big.db"
    with open(path, "w+b") as f:
        db = btree.open(f, pagesize=1024, cachesize=4096, minkeypage=3)
        for i in range(3000):
            db[b"key%05d" % i] = b"v%d" % (i * 7)
        db[b"huge"] = bytes(range(256)) * 100
        db[b"k" * 5000] = b"long key"
        for i in range(0, 3000, 3):
            del db[b"key%05d" % i]
        db.close()
    with open(path, "r+b") as f:
        db = btree.open(f)
        keys = list(db.keys(b"key", b"key99999"))
        assert keys == [b"key%05d" % i for i in range(3000) if i % 3]
        assert db[b"huge"] == bytes(range(256)) * 100
        assert db[b"k" * 5000] == b"long key"
        assert list(db.keys(None, None, btree.DESC))[:2] == [b"k" * 5000, b"key02999"]  # b"kk" > b"ke"
        db.close()


def test_open_errors():
    with pytest.raises(OSError) as e:
        btree.open(io.BytesIO(), pagesize=511)
    assert e.value.args[0] == errno.EINVAL
    with pytest.raises(OSError) as e:
        btree.open(io.BytesIO(), minkeypage=1)
    assert e.value.args[0] == errno.EINVAL
    with pytest.raises(OSError) as e:
        btree.open(io.BytesIO(b"not a database" * 100))
    assert e.value.args[0] == EFTYPE
    with pytest.raises(OSError) as e:
        btree.open(io.BytesIO(b"short"))
    assert e.value.args[0] == EFTYPE
    with pytest.raises(OSError):
        btree.open(object())
    with pytest.raises(TypeError):
        btree.open(io.BytesIO(), 512)          # keyword-only


def test_a_failing_stream_raises_its_own_error():
    class Failing(io.BytesIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, "full")

    db = btree.open(Failing())
    db[b"k"] = b"v"
    with pytest.raises(OSError) as e:
        db.flush()
    assert e.value.args[0] == errno.ENOSPC


def test_corrupt_file_gives_eftype_not_a_crash():
    f = io.BytesIO()
    db = sample(f, pagesize=512)
    db.close()
    raw = bytearray(f.getvalue())
    struct.pack_into("<H", raw, 512 + 20, 2)        # a linp into the header
    db = btree.open(io.BytesIO(bytes(raw)))
    with pytest.raises(OSError) as e:
        db[b"foo1"]
    assert e.value.args[0] == EFTYPE


@pytest.fixture
def fsboard(tmp_path):
    dev = esp32sim.Device(fs=str(tmp_path / "fs")).use()
    yield dev
    dev.close()


def test_board_code_round_trips_a_db_file(fsboard, tmp_path):
    code = textwrap.dedent("""
        import btree
        try:
            f = open('data.db', 'r+b')
        except OSError:
            f = open('data.db', 'w+b')
        db = btree.open(f)
        for i in range(200):
            db[b'k%03d' % i] = b'value %d' % i
        db.flush()
        db.close()
        f.close()
        f = open('data.db', 'r+b')
        db = btree.open(f)
        got = (db[b'k150'], len(list(db.keys())), list(db.keys(b'k197')))
        db.close()
        f.close()
    """)
    g = esp32sim.run_board_code(code)
    assert g["got"] == (b"value 150", 200, [b"k197", b"k198", b"k199"])
    raw = (tmp_path / "fs" / "data.db").read_bytes()
    assert struct.unpack_from("<3I", raw, 0) == (0x053162, 3, 4096)
    with open(tmp_path / "fs" / "data.db", "r+b") as f:     # the host reads the board's file
        db = btree.open(f)
        assert db[b"k007"] == b"value 7"
        db.close()
