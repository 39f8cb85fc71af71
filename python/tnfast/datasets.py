"""Loaders for the real data sets used by the experiments (no network, ever).

The data live in a folder with ``mnist/``, ``fashion-mnist/`` and ``cifar10-jpeg/`` sub-folders
(the IDX files gzipped; CIFAR-10 as JPEG tarballs).  The folder is, in order: the ``root``
argument, the ``TNFAST_DATA`` environment variable, or the first ``shared/data`` found beside
the current directory or one of its parents (so ``../shared/data`` from a checkout).
scikit-learn's 8x8 digits are always available through :func:`load_digits`.
"""

from __future__ import annotations

import gzip
import io
import os
import pathlib
import tarfile

import numpy as np

__all__ = ["DatasetNotFoundError", "find_data_dir", "load_mnist", "load_fashion_mnist", "load_cifar10",
           "load_digits", "CIFAR10_CLASSES"]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class DatasetNotFoundError(FileNotFoundError):
    """The requested data set is not on this machine."""


def find_data_dir(root=None) -> pathlib.Path:
    """The data folder (see the module docstring); raises DatasetNotFoundError if none."""
    cands = []
    if root is not None:
        cands.append(pathlib.Path(root))
    elif os.environ.get("TNFAST_DATA"):
        cands.append(pathlib.Path(os.environ["TNFAST_DATA"]))
    else:
        here = pathlib.Path.cwd().resolve()
        for p in (here, *here.parents):
            cands.append(p / "shared" / "data")
            cands.append(p.parent / "shared" / "data")
    for c in cands:
        if c.is_dir():
            return c
    raise DatasetNotFoundError(
        "no data folder found: pass root=..., or set TNFAST_DATA to the folder holding mnist/, "
        "fashion-mnist/ and cifar10-jpeg/")


def _read_idx(path: pathlib.Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: truncated IDX file")
    return data.reshape(dims)


def _idx_pair(folder: pathlib.Path, split: str):
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    img, lab = folder / f"{prefix}-images-idx3-ubyte.gz", folder / f"{prefix}-labels-idx1-ubyte.gz"
    if not img.is_file() or not lab.is_file():
        raise DatasetNotFoundError(f"{folder}: {img.name} / {lab.name} not found")
    images, labels = _read_idx(img), _read_idx(lab).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels")
    return images, labels


def load_mnist(split: str = "train", root=None):
    """MNIST digits: ``(images uint8 (N, 28, 28), labels int64 (N,))``; N = 60000 or 10000."""
    return _idx_pair(find_data_dir(root) / "mnist", split)


def load_fashion_mnist(split: str = "train", root=None):
    """Fashion-MNIST: ``(images uint8 (N, 28, 28), labels int64 (N,))``."""
    return _idx_pair(find_data_dir(root) / "fashion-mnist", split)


def _cache_dir() -> pathlib.Path:
    base = os.environ.get("TNFAST_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tnfast")
    p = pathlib.Path(base)
    p.mkdir(parents=True, exist_ok=True)
    return p


def load_cifar10(split: str = "train", root=None, cache: bool = True):
    """CIFAR-10 (JPEG copy): ``(images uint8 (N, 32, 32, 3), labels int64 (N,))``.

    The JPEGs are decoded once (needs Pillow) and the arrays cached as ``.npz`` under
    ``$TNFAST_CACHE`` (default ``~/.cache/tnfast``).  Members are sorted by class then file
    name, so the order is deterministic (the original order of CIFAR-10 is not kept in this copy).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    tar_path = find_data_dir(root) / "cifar10-jpeg" / f"{split}.tar.gz"
    if not tar_path.is_file():
        raise DatasetNotFoundError(f"{tar_path} not found")
    stat = tar_path.stat()
    cache_file = _cache_dir() / f"cifar10_{split}_{stat.st_size}.npz" if cache else None
    if cache_file is not None and cache_file.is_file():
        with np.load(cache_file, allow_pickle=False) as f:
            return f["images"], f["labels"]
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover
        raise ImportError("load_cifar10 needs Pillow to decode the JPEG copy: pip install pillow") from exc
    index = {name: i for i, name in enumerate(CIFAR10_CLASSES)}
    items = []
    with tarfile.open(tar_path, "r:gz") as tf:
        for m in tf:
            if not m.isfile() or not m.name.lower().endswith(".jpg"):
                continue
            parts = pathlib.PurePosixPath(m.name).parts
            if len(parts) < 2 or parts[-2] not in index:
                continue
            with Image.open(io.BytesIO(tf.extractfile(m).read())) as im:
                arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
            if arr.shape != (32, 32, 3):
                raise ValueError(f"{tar_path}:{m.name}: expected a 32x32 RGB image, got {arr.shape}")
            items.append((index[parts[-2]], parts[-1], arr))
    items.sort(key=lambda t: (t[0], t[1]))
    images = np.stack([t[2] for t in items])
    labels = np.array([t[0] for t in items], dtype=np.int64)
    if cache_file is not None:
        tmp = cache_file.with_suffix(".tmp.npz")
        np.savez(tmp, images=images, labels=labels)
        os.replace(tmp, cache_file)
    return images, labels


def load_digits():
    """scikit-learn's 8x8 digits: ``(images float64 (1797, 8, 8) in [0, 16], labels int64)``."""
    from sklearn.datasets import load_digits as _ld

    d = _ld()
    return d.images.astype(np.float64), d.target.astype(np.int64)
