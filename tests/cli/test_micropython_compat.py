"""MicroPython compatibility of board code under `esp32sim run`: the u-names,
sys and os.uname as the firmware reports them, imports from /lib and from
files written at run time, MicroPython's import quirks, and clear errors for
what a board has but the simulator does not model."""
import pytest

from conftest import script

U_ALIASES = {
    "uarray": "array", "uasyncio": "asyncio", "ubinascii": "binascii", "ucollections": "collections",
    "uerrno": "errno", "uhashlib": "hashlib", "uheapq": "heapq", "uio": "io", "ujson": "json",
    "umachine": "machine", "uplatform": "platform", "urandom": "random", "ure": "re", "uselect": "select",
    "ustruct": "struct", "usys": "sys", "utime": "time",
}

NOT_SIMULATED = {
    "network": " (no Wi-Fi or Bluetooth)", "bluetooth": " (no Wi-Fi or Bluetooth)",
    "espnow": " (no Wi-Fi or Bluetooth)", "socket": " (no network)", "usocket": " (no network)",
    "ssl": " (no network)", "ussl": " (no network)", "webrepl": " (no network)", "ntptime": " (no network)",
    "requests": " (no network)", "urequests": " (no network)", "mip": " (no network)",
    "dht": " (no 1-Wire or DHT sensors)", "onewire": " (no 1-Wire or DHT sensors)",
    "ds18x20": " (no 1-Wire or DHT sensors)", "framebuf": "", "esp": "", "cryptolib": "",
    "apa106": "",   # a firmware module CPython has nothing for
}

MACHINE_NOT_SIMULATED = {
    "UART": " (no serial devices)", "I2C": " (no I2C devices)", "SoftI2C": " (no I2C devices)",
    "SPI": " (no SPI devices)", "SoftSPI": " (no SPI devices)", "I2S": " (no audio devices)",
    "SDCard": " (no SD card)", "PWM": "", "DAC": "", "ADCBlock": "", "WDT": "", "Timer": "", "Signal": "",
    "Encoder": "", "Counter": "",
}


def run_board(sim, tmp_path, text, *options):
    """Run `text` as the script on a board whose filesystem is tmp_path/fs."""
    app = script(tmp_path, text)
    r = sim("run", "--flash", tmp_path / "f.bin", "--fs", tmp_path / "fs", *options, app)
    assert (r.returncode, r.stderr) == (0, ""), r
    return r.stdout.splitlines()


@pytest.fixture
def board_fs(tmp_path):
    fs = tmp_path / "fs"
    fs.mkdir()
    return fs


def test_every_u_alias_is_the_module_itself(sim, tmp_path, board_fs):
    lines = [f"import {u}, {m}\nprint('{u}', {u} is {m})" for u, m in U_ALIASES.items()]
    out = run_board(sim, tmp_path, "\n".join(lines) + "\n")
    assert out == [f"{u} True" for u in U_ALIASES]


def test_from_u_alias_import_and_uos_is_the_boards_os(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "from ujson import loads, dumps\n"
                                   "from ustruct import pack\n"
                                   "import uos, os\n"
                                   "print(loads('[1, 2]'), dumps({'a': 1}), pack('<H', 258))\n"
                                   "print(uos is os, os.getcwd(), 'boot.py' in uos.listdir('/'))\n")
    assert out == ["[1, 2] {\"a\": 1} b'\\x02\\x01'", "True / False"]


def test_u_names_have_no_submodules_and_ugc_is_not_a_name(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "for name in ('ujson.decoder', 'uos.path', 'ugc'):\n"
                                   "    try:\n        __import__(name)\n"
                                   "    except ImportError as e:\n        print(e)\n")
    assert out == ["no module named 'ujson.decoder'", "no module named 'uos.path'", "no module named 'ugc'"]


def test_uasyncio_runs_a_coroutine(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "import uasyncio\n"
                                   "async def answer():\n    return 42\n"
                                   "print(uasyncio.run(answer()))\n")
    assert out == ["42"]


def test_gc_is_the_boards_when_the_binding_has_one(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "import gc, _esp32sim\n"
                                   "board = getattr(_esp32sim, 'gc', None)\n"
                                   "import sys\n"
                                   "print(gc is (board if board is not None else sys.modules['gc']))\n"
                                   "gc.collect()\n")
    assert out == ["True"]


def test_sys_reports_the_firmware(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "import sys\n"
                                   "i = sys.implementation\n"
                                   "print(sys.platform)\n"
                                   "print(i.name, i.version, i._machine, i._mpy, i._build)\n"
                                   "print(i._mpy & 0xff, i._mpy >> 8 & 3, i._mpy >> 10)\n"
                                   "print(isinstance(i.cache_tag, str))\n")
    assert out == ["esp32",
                   "micropython (1, 28, 0, '') Generic ESP32 module with ESP32 11014 ESP32_GENERIC",
                   "6 3 10",     # .mpy version 6.3, native code for xtensawin
                   "True"]


def test_sys_version_and_platform_name_the_firmware(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "import sys, platform, uplatform\n"
                                   "print(sys.version)\n"
                                   "print(platform.platform())\n"
                                   "print(platform.python_compiler(), platform.libc_ver(), uplatform is platform)\n"
                                   "import json, collections\n"
                                   "print(json.dumps(collections.OrderedDict(a=1)))\n")
    assert out == ["3.4.0; MicroPython v1.28.0-esp32sim-0.1.0 on 2026-04-06",
                   "MicroPython-1.28.0-xtensa-IDFv5.5.2-with-newlib4.3.0",
                   "GCC 14.2.0 ('newlib', '4.3.0') True",
                   '{"a": 1}']


def test_os_uname_reports_the_firmware(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "import os\nu = os.uname()\n"
                                   "print(u.sysname, u.nodename, u.release, u.machine, sep='|')\n"
                                   "print(u.version)\n")
    assert out == ["esp32|esp32|1.28.0|Generic ESP32 module with ESP32", "v1.28.0-esp32sim-0.1.0 on 2026-04-06"]


def test_package_copied_into_lib_imports(sim, tmp_path, board_fs):
    pkg = board_fs / "lib" / "sensorlib"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .units import celsius\nNAME = 'sensorlib'\n")
    (pkg / "units.py").write_text("def celsius(k):\n    return k - 273\n")
    out = run_board(sim, tmp_path, "import sensorlib\nfrom sensorlib.units import celsius\n"
                                   "print(sensorlib.NAME, sensorlib.celsius(300), celsius(273))\n")
    assert out == ["sensorlib 27 0"]


def test_module_written_at_run_time_imports(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "import os\n"
                                   "os.mkdir('/lib')\n"
                                   "with open('late.py', 'w') as f:\n    f.write('WHERE = \"cwd\"\\n')\n"
                                   "with open('/lib/later.py', 'w') as f:\n    f.write('WHERE = \"lib\"\\n')\n"
                                   "import late, later\nprint(late.WHERE, later.WHERE)\n")
    assert out == ["cwd lib"]
    assert (board_fs / "late.py").exists() and (board_fs / "lib" / "later.py").exists()


def test_relative_import_with_no_globals_works_as_micropython(sim, tmp_path, board_fs):
    # micropython-lib's lazy loaders: __import__(attr, None, None, True, 1)
    pkg = board_fs / "lib" / "lazy"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("def __getattr__(attr):\n"
                                     "    mod = __import__(attr, None, None, True, 1)\n"
                                     "    globals()[attr] = mod\n    return mod\n")
    (pkg / "part.py").write_text("VALUE = 'part'\n")
    out = run_board(sim, tmp_path, "import lazy\nprint(lazy.part.VALUE)\n"
                                   "print(__import__('lazy.part', None, None, True).VALUE)\n"
                                   "print(__import__('lazy.part', None, None, ()).VALUE)\n"
                                   "for fromlist in ((), True):\n"
                                   "    try:\n        __import__('x', None, None, fromlist, 1)\n"
                                   "    except ImportError as e:\n        print(type(e).__name__, e)\n"
                                   "try:\n    __import__('x', None, None, (), -1)\n"
                                   "except ValueError as e:\n    print('ValueError')\n")
    assert out == ["part", "part", "part",
                   "ImportError can't perform relative import", "ImportError can't perform relative import",
                   "ValueError"]


@pytest.mark.parametrize("name", sorted(NOT_SIMULATED))
def test_modules_not_simulated_say_so(sim, tmp_path, board_fs, name):
    out = run_board(sim, tmp_path, f"try:\n    import {name}\n"
                                   "except ImportError as e:\n    print(type(e).__name__, e)\n"
                                   f"try:\n    from {name} import anything\n"
                                   "except ImportError as e:\n    print(e)\n")
    message = f"esp32sim: the '{name}' module is not simulated{NOT_SIMULATED[name]}"
    assert out == ["ImportError " + message, message]


def test_not_simulated_module_ends_the_run_with_its_message(sim, tmp_path, board_fs):
    app = script(tmp_path, "import network\nnetwork.WLAN(network.STA_IF)\n")
    r = sim("run", "--flash", tmp_path / "f.bin", "--fs", board_fs, app)
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1] == \
        "ImportError: esp32sim: the 'network' module is not simulated (no Wi-Fi or Bluetooth)"


@pytest.mark.parametrize("name", sorted(MACHINE_NOT_SIMULATED))
def test_machine_classes_not_simulated_say_so(sim, tmp_path, board_fs, name):
    out = run_board(sim, tmp_path, "import machine, umachine\n"
                                   f"try:\n    machine.{name}\n"
                                   "except AttributeError as e:\n    print(type(e).__name__, e)\n"
                                   f"try:\n    from umachine import Pin, {name}\n"
                                   "except ImportError as e:\n    print(type(e).__name__, e)\n"
                                   f"print(hasattr(machine, '{name}'))\n")
    message = f"esp32sim: machine.{name} is not simulated{MACHINE_NOT_SIMULATED[name]}"
    assert out == ["AttributeError " + message, "ImportError " + message, "False"]


def test_machine_keeps_what_it_has_and_plain_missing_names(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "import machine\nfrom machine import Pin, ADC, RTC, TouchPad\n"
                                   "print(Pin is machine.Pin)\n"
                                   "try:\n    machine.Nothing\n"
                                   "except AttributeError as e:\n    print(e)\n"
                                   "try:\n    from machine import Nothing\n"
                                   "except ImportError as e:\n    print(type(e).__name__)\n")
    assert out == ["True", "'module' object has no attribute 'Nothing'", "ImportError"]


def test_sys_print_exception_prints_as_micropython(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "import sys, io\n"
                                   "def f():\n    raise ValueError('boom')\n"
                                   "try:\n    f()\n"
                                   "except Exception as e:\n"
                                   "    sys.print_exception(e)\n"
                                   "    buf = io.StringIO()\n"
                                   "    sys.print_exception(e, buf)\n"
                                   "    print(buf.getvalue().count(chr(10)), buf.getvalue().endswith('ValueError: boom' + chr(10)))\n"
                                   "sys.print_exception(ValueError('never raised'))\n")
    app = str(tmp_path / "app.py")
    assert [line.replace(app, "app.py") for line in out] == [
        "Traceback (most recent call last):", '  File "app.py", line 5, in <module>',
        '  File "app.py", line 3, in f', "ValueError: boom", "4 True", "ValueError: never raised"]


def test_esp32_pcnt_is_named_as_not_simulated(sim, tmp_path, board_fs):
    out = run_board(sim, tmp_path, "import esp32\n"
                                   "try:\n    esp32.PCNT(0)\n"
                                   "except AttributeError as e:\n    print(type(e).__name__, e)\n"
                                   "try:\n    from esp32 import NVS, PCNT\n"
                                   "except ImportError as e:\n    print(type(e).__name__, e)\n"
                                   "try:\n    esp32.nothing\n"
                                   "except AttributeError as e:\n    print(e)\n"
                                   "print(hasattr(esp32, 'PCNT'))\n")
    message = "esp32sim: esp32.PCNT is not simulated (no pulse counter)"
    assert out == ["AttributeError " + message, "ImportError " + message,
                   "'module' object has no attribute 'nothing'", "False"]
