"""Embedding: install the library, build examples/embed.c with pkg-config, run it."""
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not os.environ.get("ESIM_BUILD_DIR"), reason="needs ESIM_BUILD_DIR (run through ctest)")
@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="pkg-config is not installed")
def test_installed_library_builds_and_runs_a_c_harness(tmp_path):
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", os.environ["ESIM_BUILD_DIR"], "--prefix", str(prefix)],
                   check=True, capture_output=True)
    assert (prefix / "include" / "esp32sim" / "device.h").exists()
    pc_dirs = [str(p.parent) for p in prefix.rglob("esp32sim.pc")]
    assert pc_dirs, "esp32sim.pc was not installed"
    env = dict(os.environ, PKG_CONFIG_PATH=":".join(pc_dirs))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "--static", "esp32sim"], env=env,
                           check=True, capture_output=True, text=True).stdout.split()
    exe = tmp_path / "embed"
    libdir = next(f[2:] for f in flags if f.startswith("-L"))
    subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", str(ROOT / "examples" / "embed.c"), "-o", str(exe),
                    *flags, "-Wl,-rpath," + libdir], check=True)
    out = subprocess.run([str(exe), str(tmp_path / "board.bin")], check=True, capture_output=True,
                         text=True).stdout
    assert "vfs      type 1 subtype 0x81 at 0x200000, 2097152 bytes (registered at boot)" in out
    # the new image got its partition table (0xC00 bytes, one sector) and its
    # firmware (0x160000 bytes), then the block
    assert f"programmed {0xC00 + 0x160000 + 4096} bytes, erased {1 + 0x160 + 1} sectors" in out
    assert (tmp_path / "board.bin").stat().st_size == 4 << 20
