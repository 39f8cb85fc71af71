import hashlib
import gzip

import numpy as np
import pytest

from tnfast import datasets


def test_mnist_matches_canonical_files(data_dir):
    x, y = datasets.load_mnist("test", root=data_dir)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and set(np.unique(y)) == set(range(10))
    raw = gzip.open(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").read()
    assert hashlib.md5(raw).hexdigest().startswith("27ae3e4e")
    assert np.array_equal(np.frombuffer(raw, np.uint8, offset=8), y)


def test_fashion_mnist_shapes(data_dir):
    x, y = datasets.load_fashion_mnist("test", root=data_dir)
    assert x.shape == (10000, 28, 28) and np.bincount(y).tolist() == [1000] * 10


def test_digits_always_available():
    x, y = datasets.load_digits()
    assert x.shape == (1797, 8, 8) and x.max() == 16 and len(y) == 1797


def test_bad_split_and_missing_root(tmp_path):
    with pytest.raises(ValueError, match="split"):
        datasets.load_mnist("validation", root=tmp_path)
    with pytest.raises(datasets.DatasetNotFoundError):
        datasets.load_mnist("train", root=tmp_path)
