"""The board's filesystem from board code: open(), MicroPython's os module,
imports from the board (cwd, /lib, packages), and no way out of the root."""
import errno
import os as host_os
import sys
import textwrap

import pytest

import _esp32sim
import esp32sim

DEFAULT_BOOT_PY = (
    "# This file is executed on every boot (including wake-boot from deepsleep)\n"
    "#import esp\n#esp.osdebug(None)\n#import webrepl\n#webrepl.start()\n"
)


@pytest.fixture
def fs_root(tmp_path):
    return tmp_path / "fs"


@pytest.fixture
def fsboard(fs_root):
    dev = esp32sim.Device(fs=str(fs_root)).use()
    yield dev
    dev.close()


def run(code, g=None):
    """Run board code; its globals come back."""
    return esp32sim.run_board_code(textwrap.dedent(code), g)


def board_error(code):
    """The errno of the OSError that board code raises."""
    with pytest.raises(OSError) as info:
        run(code)
    assert type(info.value) is esp32sim.OSError
    assert len(info.value.args) == 1
    return info.value.args[0]


def write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# ---- the filesystem itself ----

def test_new_filesystem_has_the_default_boot_py(fsboard, fs_root):
    assert (fs_root / "boot.py").read_bytes() == DEFAULT_BOOT_PY.encode()
    g = run("import os\nnames = os.listdir()\ntext = open('/boot.py').read()")
    assert g["names"] == ["boot.py"]
    assert g["text"] == DEFAULT_BOOT_PY


def test_existing_directory_is_kept(fs_root):
    fs_root.mkdir()
    (fs_root / "main.py").write_text("x = 1\n")
    with esp32sim.Device(fs=str(fs_root)).use():
        assert run("import os\nn = os.listdir('/')")["n"] == ["main.py"]


def test_a_file_is_not_a_filesystem(tmp_path):
    f = tmp_path / "plain"
    f.write_text("")
    with pytest.raises(ValueError, match="plain"):
        esp32sim.Device(fs=str(f))


# ---- open ----

def test_open_write_read_append(fsboard, fs_root):
    g = run("""
        with open('data.txt', 'w') as f:
            n = f.write('héllo\\r\\nworld\\n')
        with open('data.txt', 'a') as f:
            f.write('more')
        with open('/data.txt') as f:
            text = f.read()
        with open('data.txt', 'rb') as f:
            raw = f.read()
        with open('bin.dat', 'wb') as f:
            f.write(b'\\x00\\xff')
        with open('bin.dat', 'ab') as f:
            f.write(bytearray(b'\\x01'))
        data = open('bin.dat', 'rb').read()
        lines = open('data.txt').readlines()
        name = repr(open('data.txt'))
        f = open('data.txt', 'r+')
        f.write('H')
        f.close()
    """)
    assert g["n"] == 13                                 # CPython counts characters
    assert g["text"] == "héllo\r\nworld\nmore"          # no newline translation, UTF-8
    assert g["raw"] == "héllo\r\nworld\nmore".encode()
    assert g["data"] == b"\x00\xff\x01"
    assert g["lines"] == ["héllo\r\n", "world\n", "more"]
    assert "'/data.txt'" in g["name"] and str(fs_root) not in g["name"]
    assert (fs_root / "data.txt").read_bytes().startswith(b"H\xc3\xa9llo")
    assert (fs_root / "bin.dat").read_bytes() == b"\x00\xff\x01"


def test_open_keyword_and_positional_arguments(fsboard, fs_root):
    write(fs_root, "latin.txt", "")
    (fs_root / "latin.txt").write_bytes("é".encode("latin-1"))
    g = run("""
        a = open('latin.txt', 'r', -1, 'latin-1').read()
        b = open(file='latin.txt', mode='rb', buffering=0).read()
        c = open(b'latin.txt', encoding='latin-1').read()
    """)
    assert g["a"] == "é"
    assert g["b"] == b"\xe9"
    assert g["c"] == "é"


def test_open_errors(fsboard, fs_root):
    assert board_error("open('missing.txt')") == errno.ENOENT
    assert board_error("open('no/such/dir.txt', 'w')") == errno.ENOENT
    assert board_error("open('/', 'r')") == errno.EISDIR
    (fs_root / "d").mkdir()
    assert board_error("open('d')") == errno.EISDIR
    assert board_error("open('d', 'w')") == errno.EISDIR
    assert board_error("open('boot.py', 'x')") == errno.EEXIST
    assert board_error("open('boot.py/x', 'w')") == errno.ENOTDIR
    assert board_error("open('n' * 256, 'w')") == errno.ENAMETOOLONG
    with pytest.raises(TypeError, match="can't convert 'int' object to str implicitly"):
        run("open(3)")
    with pytest.raises(OSError) as info:
        run("open('missing.txt')")
    assert str(info.value) == "[Errno 2] ENOENT"
    assert str(fs_root) not in repr(info.value)
    assert info.value.__context__ is None


def test_host_errors_carry_no_host_path(fsboard, fs_root):
    import socket
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(fs_root / "s"))                  # opening a socket file: ENXIO on the host
        with pytest.raises(OSError) as info:
            run("open('s')")
    finally:
        sock.close()
    assert type(info.value) is esp32sim.OSError
    assert info.value.args == (errno.EIO,)
    assert str(info.value) == "[Errno 5] EIO"
    assert info.value.__context__ is None
    assert run("import os\nn = os.listdir()")["n"] == ["boot.py"]   # not a file or directory


# ---- os ----

def test_os_is_the_board_module_for_os_and_uos(fsboard):
    g = run("""
        import os
        import uos
        from os import listdir
        from uos import getcwd
    """)
    assert g["os"] is _esp32sim.os
    assert g["uos"] is _esp32sim.os
    assert g["listdir"] is _esp32sim.os.listdir
    assert sys.modules["os"] is host_os                  # CPython's os is untouched
    with pytest.raises(ImportError, match="no module named 'os.path'"):
        run("import os.path")


def test_listdir_and_ilistdir(fsboard, fs_root):
    for name in ("b.py", "a.txt", "B", "aa"):
        write(fs_root, name, name)
    (fs_root / "dir").mkdir()
    write(fs_root, "dir/inner.txt", "12345")
    g = run("""
        import os
        top = os.listdir()
        top2 = os.listdir('/')
        inner = os.listdir('dir')
        raw = os.listdir(b'/dir')
        it = os.ilistdir()
        entries = list(it)
        inner_entries = list(os.ilistdir('/dir/'))
        bentries = list(os.ilistdir(b'dir'))
    """)
    assert g["top"] == ["B", "a.txt", "aa", "b.py", "boot.py", "dir"]
    assert g["top2"] == g["top"]
    assert g["inner"] == ["inner.txt"]
    assert g["raw"] == [b"inner.txt"]
    assert not isinstance(g["it"], list)
    assert g["entries"][0] == ("B", 0x8000, 0, 1)
    assert g["entries"][-1] == ("dir", 0x4000, 0, 0)
    assert g["inner_entries"] == [("inner.txt", 0x8000, 0, 5)]
    assert g["bentries"] == [(b"inner.txt", 0x8000, 0, 5)]
    assert board_error("import os\nos.listdir('missing')") == errno.ENOENT
    assert board_error("import os\nos.listdir('boot.py')") == errno.ENOTDIR
    assert board_error("import os\nos.ilistdir('missing')") == errno.ENOENT


def test_stat(fsboard, fs_root):
    (fs_root / "d").mkdir()
    host_os.utime(fs_root / "boot.py", (946684800 + 5, 946684800 + 86400))
    g = run("""
        import os
        f = os.stat('boot.py')
        d = os.stat('/d')
        r = os.stat('/')
    """)
    assert g["f"] == (0x8000, 0, 0, 0, 0, 0, len(DEFAULT_BOOT_PY), 86400, 86400, 86400)
    assert g["d"][:7] == (0x4000, 0, 0, 0, 0, 0, 0)
    assert g["r"][0] == 0x4000
    assert board_error("import os\nos.stat('missing')") == errno.ENOENT
    assert board_error("import os\nos.stat('boot.py/x')") == errno.ENOTDIR


def test_mkdir_rmdir_remove(fsboard, fs_root):
    run("""
        import os
        os.mkdir('a')
        os.mkdir('/a/b')
        with open('a/b/f', 'w') as f:
            f.write('x')
    """)
    assert (fs_root / "a/b/f").read_text() == "x"
    assert board_error("import os\nos.mkdir('a')") == errno.EEXIST
    assert board_error("import os\nos.mkdir('x/y')") == errno.ENOENT
    assert board_error("import os\nos.rmdir('a')") == errno.ENOTEMPTY
    assert board_error("import os\nos.rmdir('/')") == errno.EINVAL
    assert board_error("import os\nos.remove('missing')") == errno.ENOENT
    assert board_error("import os\nos.rmdir('missing')") == errno.ENOENT
    # As littlefs's lfs_remove: either takes a file or an empty directory.
    run("""
        import os
        os.remove('a/b/f')
        os.remove('a/b')
        os.mkdir('a/c')
        with open('a/g', 'w') as f:
            pass
        os.rmdir('a/g')
        os.rmdir('a/c')
        os.rmdir('a')
    """)
    assert not (fs_root / "a").exists()


def test_rename(fsboard, fs_root):
    write(fs_root, "old.txt", "new content")
    write(fs_root, "target.txt", "to be replaced")
    (fs_root / "d").mkdir()
    run("import os\nos.rename('old.txt', 'target.txt')")
    assert (fs_root / "target.txt").read_text() == "new content"
    assert not (fs_root / "old.txt").exists()
    run("import os\nos.chdir('d')\nos.rename('../target.txt', 'moved.txt')")
    assert (fs_root / "d/moved.txt").exists()
    assert run("import os\nc = os.getcwd()")["c"] == "/d"   # the same boot: still there
    run("import os\nos.chdir('/')")
    assert board_error("import os\nos.rename('missing', 'x')") == errno.ENOENT
    assert board_error("import os\nos.rename('boot.py', 'd')") == errno.EISDIR
    assert board_error("import os\nos.rename('d', 'boot.py')") == errno.ENOTDIR
    assert board_error("import os\nos.rename('/', 'x')") == errno.EINVAL
    assert board_error("import os\nos.rename('d', 'd/e')") == errno.EINVAL


def test_chdir_getcwd_and_relative_paths(fsboard, fs_root):
    (fs_root / "lib/sub").mkdir(parents=True)
    g = run("""
        import os
        start = os.getcwd()
        os.chdir('lib')
        a = os.getcwd()
        os.chdir('sub/')
        b = os.getcwd()
        with open('here.txt', 'w') as f:
            f.write('x')
        os.chdir('../..')
        c = os.getcwd()
        os.chdir('/lib/sub')
        os.chdir('..')
        d = os.getcwd()
    """)
    assert (g["start"], g["a"], g["b"], g["c"], g["d"]) == ("/", "/lib", "/lib/sub", "/", "/lib")
    assert (fs_root / "lib/sub/here.txt").exists()
    assert board_error("import os\nos.chdir('missing')") == errno.ENOENT
    assert board_error("import os\nos.chdir('/boot.py')") == errno.ENOENT
    # Every boot starts at "/".
    fsboard.reset()
    assert run("import os\nc = os.getcwd()")["c"] == "/"


def test_statvfs_follows_what_is_written(fsboard, fs_root):
    g = run("import os\nv = os.statvfs('/')")
    v = g["v"]
    assert len(v) == 10
    assert v[:3] == (4096, 4096, 2 * 1024 * 1024 // 4096)        # the registered vfs partition
    assert v[3] == v[4] == v[2] - 3                                # root pair + boot.py
    assert v[5:] == (0, 0, 0, 0, 255)
    g = run("""
        import os
        with open('small.txt', 'w') as f:
            f.write('x' * 100)
        a = os.statvfs('/')[3]
        with open('big.bin', 'wb') as f:
            f.write(b'x' * 5000)
        b = os.statvfs('')[3]
        os.mkdir('d')
        c = os.statvfs('whatever')[3]
        os.remove('big.bin')
        d = os.statvfs('/')[3]
    """)
    free = v[3]
    assert (g["a"], g["b"], g["c"], g["d"]) == (free, free - 2, free - 4, free - 2)


def test_sync_uname_urandom_sep(fsboard):
    g = run("""
        import os
        s = os.sync()
        u = os.uname()
        r = os.urandom(16)
        z = os.urandom(0)
        sep = os.sep
    """)
    assert g["s"] is None
    u = g["u"]
    assert tuple(u) == ("esp32", "esp32", "1.28.0", "v1.28.0-esp32sim-0.1.0 on 2026-04-06",
                        "Generic ESP32 module with ESP32")
    assert (u.sysname, u.nodename, u.release, u.machine) == ("esp32", "esp32", "1.28.0",
                                                            "Generic ESP32 module with ESP32")
    assert u.version.startswith("v1.28.0")
    assert repr(u).startswith("(sysname='esp32', nodename='esp32', release='1.28.0'")
    assert isinstance(g["r"], bytes) and len(g["r"]) == 16
    assert g["z"] == b""
    assert g["sep"] == "/"


def test_os_argument_errors(fsboard):
    with pytest.raises(TypeError, match="can't convert 'int' object to str implicitly"):
        run("import os\nos.stat(1)")
    with pytest.raises(TypeError, match="can't convert 'NoneType' object to str implicitly"):
        run("import os\nos.listdir(None)")
    with pytest.raises(TypeError, match="function takes 1 positional arguments but 2 were given"):
        run("import os\nos.mkdir('a', 'b')")
    with pytest.raises(TypeError, match="function expected at most 1 arguments, got 2"):
        run("import os\nos.listdir('a', 'b')")
    with pytest.raises(TypeError, match="function takes 2 positional arguments but 1 were given"):
        run("import os\nos.rename('a')")
    with pytest.raises(TypeError, match="doesn't take keyword arguments"):
        run("import os\nos.stat(path='a')")
    with pytest.raises(TypeError, match="can't convert str to int"):
        run("import os\nos.urandom('3')")


# ---- no way out ----

@pytest.fixture
def outside(tmp_path):
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret").write_text("top secret")
    return out


def test_dot_dot_and_absolute_host_paths_stay_inside(fsboard, fs_root, outside):
    assert board_error("open('../outside/secret')") == errno.ENOENT
    assert board_error("open('/../../outside/secret')") == errno.ENOENT
    assert board_error(f"open({str(outside / 'secret')!r})") == errno.ENOENT
    assert board_error("import os\nos.listdir('../outside')") == errno.ENOENT
    g = run("""
        import os
        os.chdir('..')
        top = os.getcwd()
        with open('../../escaped.txt', 'w') as f:
            f.write('still inside')
    """)
    assert g["top"] == "/"
    assert (fs_root / "escaped.txt").read_text() == "still inside"
    assert not (fs_root.parent / "escaped.txt").exists()
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


def test_symlinks_leading_out_are_refused(fsboard, fs_root, outside):
    (fs_root / "out").symlink_to(outside)
    (fs_root / "secret-link").symlink_to(outside / "secret")
    (fs_root / "trap").symlink_to(outside / "planted")
    assert board_error("open('secret-link')") == errno.EACCES
    assert board_error("open('out/secret')") == errno.EACCES
    assert board_error("open('trap', 'w')") == errno.EACCES
    assert board_error("open('out/new', 'w')") == errno.EACCES
    assert board_error("import os\nos.listdir('out')") == errno.EACCES
    assert board_error("import os\nos.stat('secret-link')") == errno.EACCES
    assert board_error("import os\nos.remove('out/secret')") == errno.EACCES
    assert board_error("import os\nos.rename('boot.py', 'out/boot.py')") == errno.EACCES
    assert board_error("import os\nos.chdir('out')") == errno.EACCES
    assert run("import os\nn = os.listdir()")["n"] == ["boot.py"]      # links out are not shown
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    (outside / "evil.py").write_text("PWNED = True\n")
    (fs_root / "lib").mkdir()
    (fs_root / "lib/evil.py").symlink_to(outside / "evil.py")
    with pytest.raises(ImportError):
        run("import evil")


# ---- board without a filesystem ----

def test_board_without_filesystem_is_enodev(board):
    assert board_error("import os\nos.listdir()") == errno.ENODEV
    assert board_error("import os\nos.stat('/boot.py')") == errno.ENODEV
    assert board_error("import os\nos.mkdir('x')") == errno.ENODEV
    assert board_error("import os\nos.statvfs('/')") == errno.ENODEV
    assert board_error("open('x.txt', 'w')") == errno.ENODEV
    with pytest.raises(OSError, match=r"\[Errno 19\] ENODEV"):
        run("import os\nos.chdir('/')")
    g = run("import os\ncwd = os.getcwd()\nos.sync()\nu = os.uname().sysname\nimport json")
    assert g["cwd"] == "/"
    assert g["u"] == "esp32"
    assert g["json"].dumps is sys.modules["json"].dumps


# ---- imports ----

def test_import_from_lib_and_cwd(fsboard, fs_root):
    write(fs_root, "lib/where.py", "WHERE = 'lib'\n")
    write(fs_root, "lib/onlylib.py", "import os\nFILE = __file__\nNAME = __name__\nOS = os\n")
    write(fs_root, "where.py", "WHERE = 'root'\n")
    g = run("""
        import where
        import onlylib
        from onlylib import FILE
        w = where.WHERE
    """)
    assert g["w"] == "root"                              # the current directory first
    assert g["FILE"] == "/lib/onlylib.py"
    assert g["onlylib"].NAME == "onlylib"
    assert g["onlylib"].OS is _esp32sim.os
    assert sys.modules["onlylib"] is g["onlylib"]
    fsboard.reset()                                      # a new boot imports afresh
    g = run("import os\nos.chdir('/lib')\nimport where\nw = where.WHERE")
    assert g["w"] == "lib"


def test_modules_run_once_per_boot(fsboard, fs_root):
    write(fs_root, "counter.py", "with open('/runs.txt', 'a') as f:\n    f.write('x')\n")
    runs = "with open('/runs.txt') as f:\n    n = len(f.read())"
    run("import counter\nimport counter")
    run("import counter")
    assert run(runs)["n"] == 1
    fsboard.reset(reason="deepsleep")
    run("import counter")
    assert run(runs)["n"] == 2


def test_a_module_deleted_from_sys_modules_loads_afresh(fsboard, fs_root):
    write(fs_root, "counter.py", "with open('/runs.txt', 'a') as f:\n    f.write('x')\n")
    g = run("import sys\nimport counter\ndel sys.modules['counter']\nimport counter\nimport counter\n"
            "with open('/runs.txt') as f:\n    n = len(f.read())")
    assert g["n"] == 2


def test_packages(fsboard, fs_root):
    write(fs_root, "lib/pkg/__init__.py", "INIT = True\nfrom . import helper\n")
    write(fs_root, "lib/pkg/helper.py", "def f():\n    return 'helped'\n")
    write(fs_root, "lib/pkg/sub/__init__.py", "from ..helper import f as g\nfrom .deep import VALUE\n")
    write(fs_root, "lib/pkg/sub/deep.py", "VALUE = 7\n")
    write(fs_root, "nsp/mod.py", "X = 'namespace'\n")
    g = run("""
        import pkg
        import pkg.sub.deep
        from pkg.sub import deep
        from pkg import helper
        from pkg.sub import g
        import nsp.mod
        from nsp import mod
        r = (pkg.INIT, pkg.helper.f(), pkg.sub.deep.VALUE, deep.VALUE, g(), nsp.mod.X, mod.X)
    """)
    assert g["r"] == (True, "helped", 7, 7, "helped", "namespace", "namespace")
    assert g["pkg"].__file__ == "/lib/pkg/__init__.py"
    assert g["pkg"].__path__ == ["/lib/pkg"]
    assert g["pkg"].sub.deep.__file__ == "/lib/pkg/sub/deep.py"
    assert not hasattr(g["nsp"], "__file__")
    with pytest.raises(ImportError, match="no module named 'pkg.nope'"):
        run("import pkg.nope")
    with pytest.raises(ImportError):
        run("from pkg import nope")


def test_a_stand_in_put_in_sys_modules_serves_an_unsimulated_module(fsboard):
    # MicroPython's import looks at loaded modules before its built-in ones,
    # so a script can supply its own framebuf (or network) before importing a
    # library that needs one.
    with pytest.raises(ImportError, match="the 'framebuf' module is not simulated"):
        run("import framebuf")
    try:
        g = run("""
            import sys
            stand_in = type(sys)('framebuf')
            stand_in.FrameBuffer = lambda b: 'fb'
            sys.modules['framebuf'] = stand_in
            import framebuf
            from framebuf import FrameBuffer
            r = (framebuf is stand_in, FrameBuffer(None))
        """)
        assert g["r"] == (True, "fb")
        with pytest.raises(ImportError, match="no module named 'framebuf.sub'|not simulated"):
            run("import framebuf.sub")
    finally:
        sys.modules.pop("framebuf", None)
    with pytest.raises(ImportError, match="the 'framebuf' module is not simulated"):
        run("import framebuf")


def test_package_directory_wins_over_module_file(fsboard, fs_root):
    write(fs_root, "lib/both/__init__.py", "KIND = 'package'\n")
    write(fs_root, "lib/both.py", "KIND = 'module'\n")
    assert run("import both\nk = both.KIND")["k"] == "package"


def test_builtin_names_are_the_firmwares(fsboard, fs_root):
    write(fs_root, "lib/neopixel.py", "raise RuntimeError('board neopixel must not load')\n")
    g = run("import json\nimport time\nimport machine\nimport neopixel")
    assert g["json"].loads is sys.modules["json"].loads   # a view of CPython's module
    assert not hasattr(g["json"], "JSONDecoder")
    assert hasattr(g["time"], "ticks_ms") and not hasattr(g["time"], "strftime")
    assert g["machine"] is sys.modules["machine"]
    assert g["neopixel"] is sys.modules["neopixel"]     # not extensible: never looked for on the board
    with pytest.raises(ImportError, match="no module named 'surely_not_a_module_anywhere'"):
        run("import surely_not_a_module_anywhere")


def test_extensible_builtins_are_extended_from_the_board(fsboard, fs_root):
    # As micropython-lib extends a built-in: the board's module is found
    # first, the u-name is always the built-in, and CPython keeps its own.
    write(fs_root, "lib/json.py", "from ujson import *\nEXTENDED = True\n")
    write(fs_root, "lib/collections/__init__.py", "from ucollections import *\nfrom .extra import pair\n")
    write(fs_root, "lib/collections/extra.py", "def pair(a, b):\n    return (a, b)\n")
    g = run("import json, ujson, collections\n"
            "r = (json.EXTENDED, json.dumps([1]), ujson.dumps is sys_json.dumps, collections.pair(1, 2),\n"
            "     collections.OrderedDict is sys_collections.OrderedDict)",
            {"sys_json": sys.modules["json"], "sys_collections": sys.modules["collections"]})
    assert g["r"] == (True, "[1]", True, (1, 2), True)
    assert not hasattr(sys.modules["json"], "EXTENDED")


def test_cpython_modules_the_firmware_lacks_are_not_there(fsboard, fs_root):
    # A board has no textwrap, functools or logging until micropython-lib's
    # are copied into /lib.
    for name in ("textwrap", "functools", "logging", "zlib", "uzlib"):
        with pytest.raises(ImportError, match=f"^no module named '{name}'$"):
            run(f"import {name}")
    write(fs_root, "lib/functools.py", "def partial(f, *a):\n    return lambda *b: f(*(a + b))\n")
    g = run("import functools\nr = functools.partial(max, 3)(7)")
    assert g["r"] == 7


def test_board_module_does_not_replace_a_taken_name(fsboard, fs_root):
    write(fs_root, "textwrap.py", "BOARD = True\n")
    g = run("import textwrap")
    assert g["textwrap"].BOARD
    assert sys.modules["textwrap"] is textwrap


def test_errors_in_board_modules(fsboard, fs_root):
    write(fs_root, "broken.py", "x = (\n")
    write(fs_root, "raises.py", "import os\nos.listdir('nowhere')\n")
    with pytest.raises(SyntaxError) as info:
        run("import broken")
    assert info.value.filename == "broken.py"      # found through '', relative as on a board
    with pytest.raises(OSError) as info:
        run("import raises")
    assert info.value.args == (errno.ENOENT,)
    assert info.value.__traceback__ is not None
    frames = []
    tb = info.value.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    assert "raises.py" in frames
    assert "raises" not in sys.modules and "broken" not in sys.modules
    write(fs_root, "raises.py", "OK = 1\n")                   # fixed: loads now
    assert run("import raises\nv = raises.OK")["v"] == 1


def test_open_inside_board_module_uses_the_board(fsboard, fs_root):
    write(fs_root, "lib/reader.py", "def read(p):\n    with open(p) as f:\n        return f.read()\n")
    write(fs_root, "data/cfg.txt", "cfg")
    assert run("import reader\nv = reader.read('/data/cfg.txt')")["v"] == "cfg"


def test_run_board_code_globals(fsboard):
    g = {"__name__": "__main__", "given": 5}
    out = esp32sim.run_board_code("result = given * 2", g)
    assert out is g and g["result"] == 10
    assert g["__builtins__"]["open"] is not open
    out = esp32sim.run_board_code(b"x = __name__")
    assert out["x"] == "__main__"
    with pytest.raises(TypeError):
        esp32sim.run_board_code(5)
    with pytest.raises(TypeError):
        esp32sim.run_board_code("x = 1", [])
    with pytest.raises(ZeroDivisionError):
        esp32sim.run_board_code("1 / 0")


# ---- esim_py_run_board_file (what the esp32sim command runs boot.py with) ----

@pytest.fixture
def run_board_file():
    import ctypes
    lib = ctypes.PyDLL(_esp32sim.__file__)
    if not hasattr(lib, "esim_py_run_board_file"):
        pytest.skip("the extension does not export its C functions")
    fn = lib.esim_py_run_board_file
    fn.argtypes = [ctypes.c_char_p, ctypes.py_object]
    fn.restype = ctypes.c_int
    return lambda path, g: fn(path.encode(), g)


def test_run_board_file(fsboard, fs_root, run_board_file):
    write(fs_root, "main.py", "import os\nHERE = __file__\nCWD = os.getcwd()\nTEXT = open('boot.py').read()\n")
    g = {"__name__": "__main__"}
    assert run_board_file("/boot.py", g) == 1                 # the default one: comments only
    assert g["__file__"] == "/boot.py"
    g = {"__name__": "__main__"}
    assert run_board_file("main.py", g) == 1                  # as the firmware names it
    assert (g["HERE"], g["CWD"], g["TEXT"]) == ("main.py", "/", DEFAULT_BOOT_PY)
    assert run_board_file("/missing.py", {}) == 0
    (fs_root / "adir").mkdir()
    assert run_board_file("/adir", {}) == 0
    write(fs_root, "bad.py", "raise ValueError('from the board')\n")
    with pytest.raises(ValueError, match="from the board"):
        run_board_file("/bad.py", {"__name__": "__main__"})


def test_run_board_file_without_filesystem(board, run_board_file):
    assert run_board_file("/boot.py", {}) == 0
