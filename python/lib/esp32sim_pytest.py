"""pytest plugin for esp32sim: fixtures that give each test a fresh board.

Use it from a conftest.py with ``pytest_plugins = ["esp32sim_pytest"]``.

``board``       a fresh 4 MiB board held in memory, default layout, made current
``ota_board``   the same with MicroPython's OTA layout
``board_image`` a factory: ``board_image(name="flash.bin", **Device kwargs)`` opens a
                board backed by an image file in the test's tmp_path and makes it current
"""
import pytest

import esp32sim


def _use(device):
    device.use()
    return device


@pytest.fixture
def board():
    with _use(esp32sim.Device()) as dev:
        yield dev


@pytest.fixture
def ota_board():
    with _use(esp32sim.Device(layout="ota")) as dev:
        yield dev


@pytest.fixture
def board_image(tmp_path):
    opened = []

    def open_image(name="flash.bin", **kwargs):
        dev = _use(esp32sim.Device(str(tmp_path / name), **kwargs))
        opened.append(dev)
        return dev

    yield open_image
    for dev in opened:
        dev.close()
