import os
import pathlib

import pytest

pytest_plugins = ["esp32sim_pytest"]


@pytest.fixture
def fixtures_dir():
    return pathlib.Path(os.environ["ESIM_FIXTURES_DIR"])
