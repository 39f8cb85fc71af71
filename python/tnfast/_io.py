"""Saving and loading the cores of tensor trains and MPOs: ``.npz`` files without pickle.

A file holds ``format`` (a version number), ``kind`` (``"TensorTrain"`` or ``"MPO"``), ``n`` and
the cores ``core_0 .. core_{n-1}``.  Loading checks all of it and turns every way a file can be
wrong (not a zip archive, truncated, missing or extra entries, another format version, wrong
dtypes, shapes that do not chain, NaN/Inf) into a ValueError naming the file.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from ._cores import check_cores

FORMAT_VERSION = 1
_DTYPES = (np.float32, np.float64, np.complex64, np.complex128)


def _npz_path(path) -> str:
    path = os.fspath(path)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    return path


def save_cores(path, kind: str, cores) -> str:
    """Write ``cores`` to ``path`` (``.npz`` appended when missing); returns the path written."""
    path = _npz_path(path)
    if not path.endswith(".npz"):
        path += ".npz"
    arrays = {f"core_{k}": np.ascontiguousarray(c) for k, c in enumerate(cores)}
    np.savez(path, format=np.array(FORMAT_VERSION), kind=np.array(kind), n=np.array(len(arrays)), **arrays)
    return path


def _resolve(path) -> str:
    path = _npz_path(path)
    if os.path.isfile(path):
        return path
    if not path.endswith(".npz") and os.path.isfile(path + ".npz"):
        return path + ".npz"
    if os.path.isdir(path):
        raise ValueError(f"path: {path!r} is a directory, expected a file written by save()")
    raise FileNotFoundError(f"path: no such file {path!r}" + ("" if path.endswith(".npz") else " (nor .npz)"))


def _scalar(f, key: str, path: str, kinds: str):
    a = f[key]
    if a.shape != () or a.dtype.kind not in kinds:
        raise _BadFile(f"{path}: entry {key!r} is malformed (dtype {a.dtype}, shape {a.shape})")
    return a[()]


class _BadFile(ValueError):
    pass


def load_cores(path, kind: str, ndim: int) -> list:
    """The cores stored in a file written by :func:`save_cores` for ``kind`` (checked)."""
    path = _resolve(path)
    try:
        with open(path, "rb") as fh:
            f = np.load(fh, allow_pickle=False)
            if not isinstance(f, np.lib.npyio.NpzFile):
                raise _BadFile(f"{path}: not a tnfast {kind} file (a plain .npy array)")
            keys = set(f.files)
            if "kind" not in keys or "n" not in keys:
                raise _BadFile(f"{path}: not a tnfast {kind} file (no 'kind'/'n' entries)")
            got = str(_scalar(f, "kind", path, "U"))
            if got != kind:
                raise _BadFile(f"{path}: not a tnfast {kind} file (it holds a tnfast {got})")
            version = int(_scalar(f, "format", path, "iu")) if "format" in keys else 0
            if version not in (0, FORMAT_VERSION):
                raise _BadFile(f"{path}: format version {version} is not supported (this tnfast reads "
                               f"versions 0 to {FORMAT_VERSION}); upgrade tnfast")
            n = int(_scalar(f, "n", path, "iu"))
            if n < 1 or n > len(keys):
                raise _BadFile(f"{path}: n={n} does not match the {len(keys)} entries (file altered or truncated)")
            expected = {"kind", "n", "format"} | {f"core_{k}" for k in range(max(n, 0))}
            if n < 1 or keys - expected or any(f"core_{k}" not in keys for k in range(n)):
                raise _BadFile(f"{path}: the entries do not match n={n} cores (file altered or truncated)")
            cores = []
            for k in range(n):
                c = f[f"core_{k}"]
                if c.ndim != ndim or c.dtype.type not in _DTYPES:
                    raise _BadFile(f"{path}: core_{k} has dtype {c.dtype} and shape {c.shape}, expected a "
                                   f"{ndim}-d float32/float64/complex64/complex128 array")
                cores.append(c)
    except _BadFile as exc:
        raise ValueError(str(exc)) from None
    except (ValueError, zipfile.BadZipFile, EOFError, OSError, KeyError, zipfile.LargeZipFile) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(f"{path}: not a readable tnfast {kind} file (truncated or corrupted: "
                         f"{type(exc).__name__}: {exc})") from None
    if len({c.dtype for c in cores}) != 1:
        raise ValueError(f"{path}: the cores have different dtypes (file altered)")
    try:
        return check_cores(cores, f"{path}: core", ndim)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: inconsistent cores (file altered): {exc}") from None
