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
}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_runs_as_shipped(package, tmp_path):
    repo = checkout("micropython-lib")
    files = {board: repo / path for board, path in PACKAGES[package].items()}
    board = board_with(tmp_path, files, main=HERE / "mplib" / f"{package}.py")
    result = run(board, "--until-ms", "60000")
    assert result.out == (HERE / "mplib" / f"{package}.exp").read_text()
