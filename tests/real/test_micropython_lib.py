"""micropython-lib packages that need only MicroPython's core, copied into
/lib as `mip` installs them, run unchanged on the board: each
mplib/PACKAGE.py exercises one the way its own tests do and prints what a
board prints (mplib/PACKAGE.exp, worked out from the package and
MicroPython's semantics).

Needs a checkout of micropython-lib: scripts/check-real-packages.sh."""
import pathlib

import pytest

from realpkg import board_with, checkout, run

HERE = pathlib.Path(__file__).parent

# Where esp32sim is known to differ from the board (the .exp files keep what
# a board prints; docs/board-filesystem.md, "Known differences"). Strict:
# when one is fixed its test passes and this list must shrink.
KNOWN_DIFFERENCES = {
    "contextlib": "ExitStack() builds collections.deque() with no arguments; the firmware's deque needs "
                  "(iterable, maxlen), so a board raises TypeError where CPython's deque works",
    "fnmatch": "re.compile('(?ms)...') is a ValueError on the board (re1.5), so fnmatch falls back to a "
               "pattern where '[]]' is an empty class; CPython's re accepts the flags",
    "unittest": "an OSError(5) made by board code prints as 'OSError: 5' (CPython's OSError) where a board "
                "prints '[Errno 5] EIO'",
}

# package -> {board path: path in micropython-lib}, as each manifest.py
# installs it (require() lines included).
PACKAGES = {
    "functools": {"lib/functools.py": "python-stdlib/functools/functools.py"},
    "itertools": {"lib/itertools.py": "python-stdlib/itertools/itertools.py"},
    "operator": {"lib/operator.py": "python-stdlib/operator/operator.py"},
    "string": {"lib/string.py": "python-stdlib/string/string.py"},
    "abc": {"lib/abc.py": "python-stdlib/abc/abc.py"},
    "copy": {"lib/copy.py": "python-stdlib/copy/copy.py", "lib/types.py": "python-stdlib/types/types.py"},
    "collections-defaultdict": {
        "lib/collections/__init__.py": "python-stdlib/collections/collections/__init__.py",
        "lib/collections/defaultdict.py": "python-stdlib/collections-defaultdict/collections/defaultdict.py"},
    "bisect": {"lib/bisect.py": "python-stdlib/bisect/bisect.py"},
    "datetime": {"lib/datetime.py": "python-stdlib/datetime/datetime.py"},
    "unittest": {"lib/unittest/__init__.py": "python-stdlib/unittest/unittest/__init__.py"},
    "logging": {"lib/logging.py": "python-stdlib/logging/logging.py"},
    "base64": {
        "lib/base64.py": "python-stdlib/base64/base64.py",
        "lib/binascii.py": "python-stdlib/binascii/binascii.py",
        "lib/struct.py": "python-stdlib/struct/struct.py"},
    "fnmatch": {"lib/fnmatch.py": "python-stdlib/fnmatch/fnmatch.py"},
    "contextlib": {
        "lib/contextlib.py": "python-stdlib/contextlib/contextlib.py",
        "lib/ucontextlib.py": "micropython/ucontextlib/ucontextlib.py",
        "lib/collections/__init__.py": "python-stdlib/collections/collections/__init__.py"},
}


def known(package):
    if package in KNOWN_DIFFERENCES:
        return pytest.param(package, marks=pytest.mark.xfail(reason=KNOWN_DIFFERENCES[package], strict=True))
    return package


@pytest.mark.parametrize("package", [known(p) for p in sorted(PACKAGES)])
def test_package_runs_as_shipped(package, tmp_path):
    repo = checkout("micropython-lib")
    files = {board: repo / path for board, path in PACKAGES[package].items()}
    board = board_with(tmp_path, files, main=HERE / "mplib" / f"{package}.py")
    result = run(board, "--until-ms", "60000")
    assert result.out == (HERE / "mplib" / f"{package}.exp").read_text()
