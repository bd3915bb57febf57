"""The board's binascii and errno (and ubinascii, uerrno): MicroPython's own
modules, written in C, with the ESP32 firmware's behaviour and numbers
(docs/board-filesystem.md), not CPython's."""
import binascii as host_binascii
import textwrap
import zlib

pytest_plugins = ["esp32sim_pytest"]

# Board code prints one line per call: the repr of the result, or the
# exception as "<exact|subclass> Name: message".
PRELUDE = """
def show(f, *args, **kwargs):
    try:
        print(repr(f(*args, **kwargs)))
    except Exception as e:
        exact = 'exact' if type(e) in (ValueError, TypeError, ImportError) else 'subclass'
        print(exact, type(e).__name__ + ':', e)
"""


def run(run_board, code):
    result = run_board(main=PRELUDE + textwrap.dedent(code))
    assert result.code == 0, result.err + result.out
    return result.out.splitlines()


# ---- binascii: results ----

def test_hexlify_results(run_board):
    out = run(run_board, """
        import binascii, array
        show(binascii.hexlify, b'\\x00\\x01\\x7f\\x80\\xab\\xff')
        show(binascii.hexlify, bytearray(b'AZ'))
        show(binascii.hexlify, memoryview(b'xyz')[1:])
        show(binascii.hexlify, array.array('B', [1, 2, 254]))
        show(binascii.hexlify, 'hi')
        show(binascii.hexlify, b'\\x01\\x02\\x03', ':')
        show(binascii.hexlify, b'\\x01\\x02\\x03', b'-')
        show(binascii.hexlify, b'\\x01\\x02', ', ')
        show(binascii.hexlify, b'\\x01\\x02', '')
        show(binascii.hexlify, b'\\xff', ':')
        show(binascii.hexlify, b'')
        show(binascii.hexlify, b'', ':')
        show(binascii.hexlify, b'', 5)
    """)
    assert out == [
        "b'00017f80abff'",
        "b'415a'",
        "b'797a'",
        "b'0102fe'",
        "b'6869'",
        "b'01:02:03'",
        "b'01-02-03'",
        "b'01,02'",          # only the separator's first character
        "b'01\\x0002'",      # an empty separator gives its terminating NUL
        "b'ff'",
        "b''",
        "b''",
        "b''",               # empty data: the separator is not looked at
    ]


def test_unhexlify_results(run_board):
    out = run(run_board, """
        import binascii
        show(binascii.unhexlify, b'00017f80abff')
        show(binascii.unhexlify, 'ABcdEf')
        show(binascii.unhexlify, bytearray(b'4142'))
        show(binascii.unhexlify, memoryview(b'4142'))
        show(binascii.unhexlify, 'ab cd\\tef\\n')
        show(binascii.unhexlify, ' \\r\\n\\x0b\\x0c ')
        show(binascii.unhexlify, '')
    """)
    assert out == [
        "b'\\x00\\x01\\x7f\\x80\\xab\\xff'",
        "b'\\xab\\xcd\\xef'",
        "b'AB'",
        "b'AB'",
        "b'\\xab\\xcd\\xef'",
        "b''",
        "b''",
    ]


def test_a2b_base64_decodes_leniently(run_board):
    out = run(run_board, """
        import binascii
        show(binascii.a2b_base64, b'aGVsbG8=')
        show(binascii.a2b_base64, b'aGVs\\nbG8=')
        show(binascii.a2b_base64, 'a!G*V s#b\\tG@8=')
        show(binascii.a2b_base64, bytearray(b'YWJj'))
        show(binascii.a2b_base64, b'YQ==')
        show(binascii.a2b_base64, b'YWI=')
        show(binascii.a2b_base64, b'YWI=junk after the end')
        show(binascii.a2b_base64, b'YQ==YWJj')
        show(binascii.a2b_base64, b'Y=Q==')
        show(binascii.a2b_base64, b'+/+/')
        show(binascii.a2b_base64, b'')
        show(binascii.a2b_base64, b'!!!')
    """)
    assert out == [
        "b'hello'",
        "b'hello'",
        "b'hello'",
        "b'abc'",
        "b'a'",
        "b'ab'",
        "b'ab'",              # "=" with 2 bits pending ends the data
        "b'a'",               # so does a second "=" with 4 pending
        "b'a'",               # a "=" before 8 bits are there is skipped
        "b'\\xfb\\xff\\xbf'",
        "b''",
        "b''",
    ]


def test_b2a_base64_results(run_board):
    out = run(run_board, """
        import binascii
        show(binascii.b2a_base64, b'hello')
        show(binascii.b2a_base64, b'hello', newline=False)
        show(binascii.b2a_base64, b'a')
        show(binascii.b2a_base64, b'ab')
        show(binascii.b2a_base64, b'abc')
        show(binascii.b2a_base64, b'\\xfb\\xff\\xbf')
        show(binascii.b2a_base64, b'')
        show(binascii.b2a_base64, b'', newline=False)
        show(binascii.b2a_base64, 'hi', newline=0)
        show(binascii.b2a_base64, memoryview(b'abcd'), newline=[])
        show(binascii.b2a_base64, b'abc', False)
        print(binascii.b2a_base64(bytes(range(256))) == binascii.b2a_base64(bytes(range(256)), newline=False) + b'\\n')
        print(binascii.a2b_base64(binascii.b2a_base64(bytes(range(256)))) == bytes(range(256)))
        print(binascii.b2a_base64(bytes(range(256))))
    """)
    assert out[:13] == [
        "b'aGVsbG8=\\n'",
        "b'aGVsbG8='",
        "b'YQ==\\n'",
        "b'YWI=\\n'",
        "b'YWJj\\n'",
        "b'+/+/\\n'",
        "b'\\n'",
        "b''",
        "b'aGk='",
        "b'YWJjZA=='",
        "b'YWJj'",            # the firmware takes newline by position too
        "True",
        "True",
    ]
    assert out[13] == repr(host_binascii.b2a_base64(bytes(range(256))))


def test_crc32_results(run_board):
    out = run(run_board, """
        import binascii
        show(binascii.crc32, b'hello')
        show(binascii.crc32, b'')
        show(binascii.crc32, 'hello')
        show(binascii.crc32, bytearray(b'hello'))
        show(binascii.crc32, b'lo', binascii.crc32(b'hel'))
        show(binascii.crc32, b'x', -1)
        show(binascii.crc32, b'x', 0xffffffff)
        show(binascii.crc32, b'x', (1 << 40) + 5)
        show(binascii.crc32, b'x', 5)
        show(binascii.crc32, b'x', True)
        show(binascii.crc32, b'123456789')
    """)
    assert out == [
        str(0x3610A686),
        "0",
        str(0x3610A686),
        str(0x3610A686),
        str(0x3610A686),
        str(zlib.crc32(b"x", 0xFFFFFFFF)),
        str(zlib.crc32(b"x", 0xFFFFFFFF)),
        str(zlib.crc32(b"x", 5)),            # the value truncated to 32 bits
        str(zlib.crc32(b"x", 5)),
        str(zlib.crc32(b"x", 1)),
        str(0xCBF43926),                     # unsigned, above 2**31
    ]


# ---- binascii: errors ----

def test_bad_data_errors(run_board):
    out = run(run_board, """
        import binascii
        for bad in ('abc', 'a', 'a b', 'ab c', 'abgg', 'ab:cd', 'ab cd e', b'\\xffab', '0x12'):
            show(binascii.unhexlify, bad)
        for bad in (b'YQ', b'YQ=', b'A', b'YWJjZ', b'YQ=Q'):
            show(binascii.a2b_base64, bad)
    """)
    assert out == ["exact ValueError: non-hex digit"] * 9 + ["exact ValueError: incorrect padding"] * 5


def test_wrong_types(run_board):
    out = run(run_board, """
        import binascii
        show(binascii.hexlify, 1)
        show(binascii.hexlify, None, ':')
        show(binascii.unhexlify, 12)
        show(binascii.a2b_base64, None)
        show(binascii.b2a_base64, 1)
        show(binascii.crc32, [1, 2])
        show(binascii.crc32, 1.5)
        show(binascii.hexlify, b'ab', 1)
        show(binascii.hexlify, b'ab', bytearray(b':'))
        show(binascii.crc32, b'ab', 'x')
        show(binascii.crc32, b'ab', 1.0)
    """)
    assert out == ["exact TypeError: object with buffer protocol required"] * 7 + [
        "exact TypeError: can't convert 'int' object to str implicitly",
        "exact TypeError: can't convert 'bytearray' object to str implicitly",
        "exact TypeError: can't convert str to int",
        "exact TypeError: can't convert float to int",
    ]


def test_argument_count_errors(run_board):
    out = run(run_board, """
        import binascii
        show(binascii.hexlify)
        show(binascii.hexlify, b'a', ':', 1)
        show(binascii.hexlify, b'a', sep=':')
        show(binascii.unhexlify)
        show(binascii.unhexlify, 'ab', 'cd')
        show(binascii.unhexlify, data='ab')
        show(binascii.a2b_base64)
        show(binascii.a2b_base64, b'', b'')
        show(binascii.crc32)
        show(binascii.crc32, b'', 0, 0)
        show(binascii.crc32, b'', value=0)
        show(binascii.b2a_base64)
        show(binascii.b2a_base64, data=b'a')
        show(binascii.b2a_base64, b'a', True, 1)
        show(binascii.b2a_base64, b'a', line=True)
        show(binascii.b2a_base64, b'a', True, newline=True)
    """)
    assert out == [
        "exact TypeError: function missing 1 required positional arguments",
        "exact TypeError: function expected at most 2 arguments, got 3",
        "exact TypeError: function doesn't take keyword arguments",
        "exact TypeError: function takes 1 positional arguments but 0 were given",
        "exact TypeError: function takes 1 positional arguments but 2 were given",
        "exact TypeError: function doesn't take keyword arguments",
        "exact TypeError: function takes 1 positional arguments but 0 were given",
        "exact TypeError: function takes 1 positional arguments but 2 were given",
        "exact TypeError: function missing 1 required positional arguments",
        "exact TypeError: function expected at most 2 arguments, got 3",
        "exact TypeError: function doesn't take keyword arguments",
        "exact TypeError: function missing 1 required positional arguments",
        "exact TypeError: function missing 1 required positional arguments",
        "exact TypeError: extra positional arguments given",
        "exact TypeError: extra keyword arguments given",
        "exact TypeError: extra keyword arguments given",
    ]


# ---- binascii: the module itself ----

def test_binascii_is_micropythons_module(run_board):
    out = run(run_board, """
        import binascii, ubinascii
        print(ubinascii is binascii, binascii.__name__)
        print(sorted(n for n in dir(binascii) if not n.startswith('__')))
        for name in ('Error', 'Incomplete', 'a2b_qp', 'b2a_hex', 'a2b_hex', 'crc_hqx', 'a2b_uu'):
            print(name, hasattr(binascii, name))
        try:
            from binascii import Error
        except ImportError:
            print('no Error')
        try:
            import binascii.sub
        except ImportError:
            print('no submodule')
    """)
    assert out == [
        "True binascii",
        "['a2b_base64', 'b2a_base64', 'crc32', 'hexlify', 'unhexlify']",
        "Error False",
        "Incomplete False",
        "a2b_qp False",
        "b2a_hex False",
        "a2b_hex False",
        "crc_hqx False",
        "a2b_uu False",
        "no Error",
        "no submodule",
    ]


def test_host_keeps_cpythons_binascii_and_errno():
    import esp32sim  # noqa: F401  (loads the extension and its board modules)
    import binascii
    import errno
    assert hasattr(binascii, "Error") and hasattr(binascii, "a2b_qp")
    assert hasattr(errno, "ENOTDIR") and errno.errorcode[errno.ENOTDIR] == "ENOTDIR"


# ---- errno ----

BOARD_ERRNOS = {
    "EPERM": 1, "ENOENT": 2, "EIO": 5, "EBADF": 9, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13,
    "EEXIST": 17, "ENODEV": 19, "EISDIR": 21, "EINVAL": 22, "EOPNOTSUPP": 95, "ECONNRESET": 104,
    "ENOBUFS": 105, "ECONNREFUSED": 111, "EADDRINUSE": 112, "ECONNABORTED": 113, "ETIMEDOUT": 116,
    "EHOSTUNREACH": 118, "EINPROGRESS": 119, "EALREADY": 120, "ENOTCONN": 128,
}


def test_errno_has_the_firmwares_names_and_newlib_values(run_board):
    out = run(run_board, """
        import errno, uerrno
        print(uerrno is errno, errno.__name__)
        print(sorted(n for n in dir(errno) if not n.startswith('__')))
        for name in sorted(n for n in dir(errno) if n.startswith('E')):
            print(name, getattr(errno, name))
        print(sorted(errno.errorcode.items()))
        print(all(errno.errorcode[getattr(errno, n)] == n for n in dir(errno) if n.startswith('E')))
        print(hasattr(errno, 'ENOTDIR'), hasattr(errno, 'EWOULDBLOCK'))
    """)
    assert out[0] == "True errno"
    assert out[1] == repr(sorted(list(BOARD_ERRNOS) + ["errorcode"]))
    assert out[2:24] == [f"{name} {value}" for name, value in sorted(BOARD_ERRNOS.items())]
    assert out[24] == repr(sorted((value, name) for name, value in BOARD_ERRNOS.items()))
    assert out[25:] == ["True", "False False"]


def test_errno_matches_the_oserror_board_code_gets(run_board):
    out = run(run_board, """
        import errno
        try:
            open('/nonexistent')
        except OSError as e:
            print(e.errno == errno.ENOENT, e.errno, errno.errorcode[e.errno])
        import os
        os.mkdir('/d')
        try:
            os.mkdir('/d')
        except OSError as e:
            print(e.errno == errno.EEXIST, errno.errorcode[e.errno])
    """)
    assert out == ["True 2 ENOENT", "True EEXIST"]


def test_binascii_stays_extensible_from_lib(run_board):
    """micropython-lib style: a /lib/binascii.py that builds on ubinascii."""
    result = run_board(main=textwrap.dedent("""
        import binascii
        print(binascii.b2a_hex(b'\\x12'), binascii.hexlify(b'\\x34'))
        import ubinascii
        print(ubinascii is binascii, hasattr(ubinascii, 'b2a_hex'))
    """), files={"lib/binascii.py": "from ubinascii import *\ndef b2a_hex(d):\n    return hexlify(d)\n"})
    assert result.code == 0, result.err + result.out
    assert result.out.splitlines() == ["b'12' b'34'", "False False"]
