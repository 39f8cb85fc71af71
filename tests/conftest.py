import os
import pathlib

import numpy as np
import pytest

DATA_DIR = pathlib.Path(os.environ.get("TNFAST_DATA") or pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def data_dir():
    if not DATA_DIR.is_dir():
        pytest.skip(f"real data sets not found at {DATA_DIR}")
    return DATA_DIR


def pytest_addoption(parser):
    parser.addoption("--fuzz-long", action="store_true", default=False,
                     help="run the long fuzz campaign (>= 10^5 cases) instead of the bounded CI budget")
