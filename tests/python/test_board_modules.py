"""The firmware modules CPython also has, as board code sees them: only
MicroPython v1.28's names (views of CPython's modules), MicroPython's
AttributeError text, ROM modules that refuse assignment, a live sys, the
board's own time module with its RTC calendar (docs/board-filesystem.md,
"Firmware modules CPython also has")."""
import textwrap

import pytest

pytest_plugins = ["esp32sim_pytest"]


def run(run_board, code, **kwargs):
    result = run_board(main=textwrap.dedent(code), **kwargs)
    assert result.code == 0, result.err + result.out
    return result.out.splitlines()


def public(names):
    return [n for n in names if not n.startswith("_")]


# ---- names ----

MICROPYTHON_NAMES = {
    "time": ["gmtime", "localtime", "mktime", "sleep", "sleep_ms", "sleep_us", "ticks_add", "ticks_cpu",
             "ticks_diff", "ticks_ms", "ticks_us", "time", "time_ns"],
    "json": ["dump", "dumps", "load", "loads"],
    "struct": ["calcsize", "pack", "pack_into", "unpack", "unpack_from"],
    "collections": ["OrderedDict", "deque", "namedtuple"],
    "re": ["compile", "match", "search", "sub"],
    "heapq": ["heapify", "heappop", "heappush"],
    "hashlib": ["md5", "sha1", "sha256"],
    "io": ["BytesIO", "IOBase", "StringIO", "open"],
    "array": ["array"],
    "cmath": ["cos", "e", "exp", "log", "log10", "phase", "pi", "polar", "rect", "sin", "sqrt"],
}


@pytest.mark.parametrize("module", sorted(MICROPYTHON_NAMES))
def test_modules_have_micropythons_names_only(run_board, module):
    out = run(run_board, f"""
        import {module}
        print(sorted(n for n in dir({module}) if not n.startswith('_')))
    """)
    assert out == [repr(MICROPYTHON_NAMES[module])]


def test_sys_has_what_the_esp32_firmware_has(run_board):
    out = run(run_board, """
        import sys
        print(sorted(n for n in dir(sys) if not n.startswith('_')))
        print(hasattr(sys, 'exc_info'), hasattr(sys, 'getsizeof'), hasattr(sys, 'settrace'))
    """)
    names = eval(out[0])
    for name in ["argv", "byteorder", "exit", "implementation", "maxsize", "modules", "path", "platform",
                 "print_exception", "stderr", "stdin", "stdout", "version", "version_info"]:
        assert name in names
    assert set(names) <= {"argv", "byteorder", "exit", "implementation", "maxsize", "modules", "path",
                          "platform", "print_exception", "ps1", "ps2", "stderr", "stdin", "stdout", "version",
                          "version_info"}
    assert out[1] == "False False False"


def test_math_lacks_cpythons_additions(run_board):
    out = run(run_board, """
        import math
        print(math.sqrt(16), math.factorial(5), math.isclose(1, 1.0), math.tau > 6)
        print([hasattr(math, n) for n in ('gcd', 'comb', 'fsum', 'hypot', 'prod', 'isqrt')])
    """)
    assert out == ["4.0 120 True True", "[False, False, False, False, False, False]"]


def test_the_u_names_are_the_same_views(run_board):
    out = run(run_board, """
        import time, utime, json, ujson, sys, usys, io, uio, struct, ustruct
        print(time is utime, json is ujson, sys is usys, io is uio, struct is ustruct)
    """)
    assert out == ["True True True True True"]


def test_missing_attributes_in_micropythons_words(run_board):
    out = run(run_board, """
        import time, sys, json
        for mod, name in ((time, 'strftime'), (sys, 'exc_info'), (json, 'JSONDecodeError')):
            try:
                getattr(mod, name)
            except AttributeError as e:
                print(e)
        print(type(time), time)
    """)
    assert out == ["'module' object has no attribute 'strftime'", "'module' object has no attribute 'exc_info'",
                   "'module' object has no attribute 'JSONDecodeError'", "<class 'module'> <module 'time'>"]


def test_the_functions_are_cpythons_and_work(run_board):
    out = run(run_board, """
        import json, struct, re, collections, heapq, hashlib, io, array
        print(json.dumps({'a': [1, 2]}), json.loads('[1, "x"]'))
        print(struct.pack('<HI', 1, 2), struct.unpack('<H', b'\\x05\\x00'))
        print(re.match(r'(\\d+)-(\\d+)', '12-34').group(2), re.sub('a', 'b', 'aXa'))
        d = collections.deque((), 3); d.append(1); print(list(collections.OrderedDict(a=1).items()), len(d))
        h = [5, 1, 3]; heapq.heapify(h); print(heapq.heappop(h))
        print(hashlib.sha256(b'abc').digest()[:4])
        print(io.BytesIO(b'xy').read(), array.array('h', [1, -1]))
    """)
    assert out == ['{"a": [1, 2]} [1, \'x\']', "b'\\x01\\x00\\x02\\x00\\x00\\x00' (5,)", "34 bXb",
                   "[('a', 1)] 1", "1", "b'\\xbax\\x16\\xbf'", "b'xy' array('h', [1, -1])"]


# ---- assignment ----

def test_firmware_modules_refuse_assignment(run_board):
    out = run(run_board, """
        import time, json
        for mod in (time, json):
            try:
                mod.extra = 1
            except AttributeError as e:
                print(e)
        print(hasattr(time, 'extra'))
    """)
    assert out == ["'module' object has no attribute 'extra'"] * 2 + ["False"]


def test_sys_is_live_and_takes_path_and_prompts(run_board):
    out = run(run_board, """
        import sys
        sys.path.append('/data')
        print(sys.path[-1])
        sys.ps1 = '> '
        print(sys.ps1)
        sys.path = ['', '/lib']
        print(sys.path)
        try:
            sys.extra = 1
        except AttributeError as e:
            print(e)
        print(sys.stdout is sys.stdout, sys.modules is sys.modules)
    """)
    assert out == ["/data", "> ", "['', '/lib']", "'module' object has no attribute 'extra'", "True True"]


def test_builtins_can_be_overridden(run_board):
    out = run(run_board, """
        import builtins
        original = builtins.print
        builtins.print = lambda *a: original('!', *a)
        print('hello')
        builtins.print = original
        print('back', builtins.open is open)
    """)
    assert out == ["! hello", "back True"]


def test_io_open_is_the_boards_open(run_board):
    out = run(run_board, """
        import io
        with io.open('/note.txt', 'w') as f:
            f.write('on the board')
        import os
        print(os.listdir('/').count('note.txt'), open('/note.txt').read())
    """)
    assert out == ["1 on the board"]


# ---- time: the board's calendar ----

def test_localtime_starts_at_the_epoch_and_follows_the_rtc(run_board):
    out = run(run_board, """
        import time, machine
        print(time.localtime(), time.gmtime())
        time.sleep(61)
        print(time.localtime())
        machine.RTC().datetime((2026, 11, 24, 1, 13, 45, 7, 0))
        print(time.localtime(), time.time(), time.localtime(time.time()) == time.localtime())
    """)
    assert out == [
        "(2000, 1, 1, 0, 0, 0, 5, 1) (2000, 1, 1, 0, 0, 0, 5, 1)",
        "(2000, 1, 1, 0, 1, 1, 5, 1)",
        "(2026, 11, 24, 13, 45, 7, 1, 328) 848843107 True",
    ]


def test_gmtime_of_seconds(run_board):
    out = run(run_board, """
        import time
        for s in (0, 59 * 86400, 848843107, 4294967295, None, 1.9, True):
            print(time.gmtime(s) if s is not None else time.localtime(None))
    """)
    assert out == [
        "(2000, 1, 1, 0, 0, 0, 5, 1)",
        "(2000, 2, 29, 0, 0, 0, 1, 60)",
        "(2026, 11, 24, 13, 45, 7, 1, 328)",
        "(2136, 2, 7, 6, 28, 15, 1, 38)",
        "(2000, 1, 1, 0, 0, 0, 5, 1)",
        "(2000, 1, 1, 0, 0, 1, 5, 1)",
        "(2000, 1, 1, 0, 0, 1, 5, 1)",
    ]


def test_mktime_inverts_localtime_and_carries_fields(run_board):
    out = run(run_board, """
        import time
        t = time.gmtime(848843107)
        print(time.mktime(t), time.mktime(list(t) + [0]))
        print(time.gmtime(time.mktime((2026, 13, 1, 0, 0, 0, 0, 0))))
        print(time.gmtime(time.mktime((2026, 3, 0, 24, 0, 0, 0, 0))))
        print(time.mktime((1999, 12, 31, 23, 59, 59, 0, 0)))
    """)
    assert out == ["848843107 848843107", "(2027, 1, 1, 0, 0, 0, 4, 1)", "(2026, 3, 1, 0, 0, 0, 6, 60)",
                   "4294967295"]


@pytest.mark.parametrize("call, error", [
    ("time.gmtime(-1)", "OverflowError: overflow converting long int to machine word"),
    ("time.gmtime(2**32)", "OverflowError: overflow converting long int to machine word"),
    ("time.gmtime('0')", "TypeError: can't convert str to int"),
    ("time.gmtime(0, 1)", "TypeError: function expected at most 1 arguments, got 2"),
    ("time.mktime(5)", "TypeError: object 'int' isn't a tuple or list"),
    ("time.mktime((2000, 1, 1, 0, 0, 0, 0))", "TypeError: mktime needs a tuple of length 8 or 9"),
    ("time.mktime((2000, 1, 1, 0, 0, 0, 0, 0, 0, 0))", "TypeError: mktime needs a tuple of length 8 or 9"),
    ("time.mktime(('2000', 1, 1, 0, 0, 0, 0, 0))", "TypeError: can't convert str to int"),
])
def test_calendar_errors(run_board, call, error):
    out = run(run_board, f"""
        import time
        try:
            {call}
        except Exception as e:
            print(type(e).__name__ + ': ' + str(e))
    """)
    assert out == [error]


# ---- classes board code makes ----

def test_board_classes_are_named_as_micropython_names_them(run_board):
    out = run(run_board, """
        import sys
        class Sensor:
            pass
        class MyError(Exception):
            pass
        print(Sensor, repr(Sensor()).split(' at ')[0], MyError)
        try:
            raise MyError('too hot')
        except MyError as e:
            sys.print_exception(e)
    """)
    assert out[0] == "<class 'Sensor'> <Sensor object <class 'MyError'>"
    assert out[-1] == "MyError: too hot"


def test_an_uncaught_board_exception_names_the_class_alone(run_board):
    result = run_board(main="class Broken(Exception):\n    pass\nraise Broken('x')\n")
    assert result.code != 0
    assert "Broken: x" in (result.out + result.err).splitlines()
