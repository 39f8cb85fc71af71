"""Argument checking shared by the numpy front end: clear errors that name the argument."""

from __future__ import annotations

import numbers
import os

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64, np.complex64, np.complex128)


def as_array(x, name: str, ndim: int | None = None, dtype=None, allow_complex: bool = True,
             finite: bool = True) -> np.ndarray:
    """Return ``x`` as a C-contiguous numpy array of a floating dtype.

    Integers and booleans are promoted to float64; object, string and other dtypes raise
    TypeError.  ``ndim`` is checked (ValueError), and so is finiteness when ``finite``.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy's own message is kept
        raise TypeError(f"{name}: cannot be converted to a numpy array ({exc})") from None
    if a.dtype == object or a.dtype.kind in "USVMm":
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    if a.dtype.kind in "biu":
        a = a.astype(np.float64)
    if a.dtype.kind == "c" and not allow_complex:
        raise TypeError(f"{name}: complex values are not supported here (got dtype {a.dtype})")
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    if not a.dtype.isnative:  # byte-swapped data (read from a file of the other endianness)
        a = a.astype(a.dtype.newbyteorder("="))
    if a.dtype.type not in FLOAT_DTYPES:
        a = a.astype(np.float64)
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got shape {a.shape}")
    if finite and a.size and not all_finite(a):
        raise ValueError(f"{name}: holds NaN or Inf")
    return a if a.flags.c_contiguous else np.array(a, order="C")


def all_finite(a: np.ndarray) -> bool:
    """Whether every entry is finite; a broadcast view (stride 0) is checked on the memory it
    reads, not on its (possibly huge) expansion."""
    if a.ndim and 0 in a.strides:
        a = a[tuple(slice(0, 1) if s == 0 else slice(None) for s in a.strides)]
    return bool(np.isfinite(a).all())


def finite_result(x, what: str):
    """``x`` (an array or a scalar computed by the core) unless it holds NaN or Inf, which can only
    come from overflow of finite inputs: then OverflowError naming ``what``."""
    if not np.all(np.isfinite(x)):
        raise OverflowError(f"{what}: the result overflows the floating-point range")
    return x


INT64_MAX = 2 ** 63 - 1
INT32_MAX = 2 ** 31 - 1


def as_int(x, name: str, minimum: int | None = None, allow_none: bool = False, maximum: int | None = INT64_MAX):
    """``x`` as a Python int in ``[minimum, maximum]`` (the default maximum is what the compiled
    core's 64-bit integers hold; None: no upper bound), or a TypeError/ValueError naming ``name``."""
    if x is None and allow_none:
        return None
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(x).__name__}")
    x = int(x)
    if minimum is not None and x < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {x}")
    if maximum is not None and x > maximum:
        raise ValueError(f"{name}: expected an integer <= {maximum}, got {x}")
    if x < -INT64_MAX - 1:
        raise ValueError(f"{name}: expected an integer >= {-INT64_MAX - 1}, got {x}")
    return x


def as_float(x, name: str, minimum: float | None = None, allow_none: bool = False, strict: bool = False):
    if x is None and allow_none:
        return None
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(x).__name__}")
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"{name}: expected a finite number, got {x}")
    if minimum is not None and (x < minimum or (strict and x == minimum)):
        op = ">" if strict else ">="
        raise ValueError(f"{name}: expected a number {op} {minimum}, got {x}")
    return x


def result_dtype(*dtypes) -> np.dtype:
    """Common floating dtype (float32 stays float32 only when every input is float32)."""
    return np.result_type(*dtypes, np.float32)


def core_suffix(dtype) -> str:
    """Suffix of the typed compiled entry points for ``dtype``."""
    dt = np.dtype(dtype)
    table = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64",
             np.dtype(np.complex64): "c64", np.dtype(np.complex128): "c128"}
    if dt not in table:
        raise TypeError(f"unsupported dtype {dt}; expected float32, float64, complex64 or complex128")
    return table[dt]


def _meminfo_available() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 50


def _cgroup_headroom() -> int | None:
    """memory.max - memory.current of this process's cgroup (v2), where a limit is set."""
    try:
        with open("/proc/self/cgroup") as fh:
            rel = next((ln.split(":", 2)[2].strip() for ln in fh if ln.startswith("0::")), None)
        if rel is None:
            return None
        base = "/sys/fs/cgroup" + rel.rstrip("/")
        with open(base + "/memory.max") as fh:
            lim = fh.read().strip()
        if lim == "max":
            return None
        with open(base + "/memory.current") as fh:
            cur = int(fh.read().strip())
        return max(0, int(lim) - cur)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _address_space_headroom() -> int | None:
    """RLIMIT_AS (``ulimit -v``) minus the address space in use, where a limit is set."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft < 0:
            return None
        with open("/proc/self/status") as fh:
            vm = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmSize:"))
        return max(0, soft - vm)
    except (ImportError, OSError, ValueError, IndexError, StopIteration):
        return None


def physical_memory_bytes() -> int:
    """Memory that an allocation may count on: the kernel's MemAvailable where it is published
    (Linux), else the physical memory; lowered to what a cgroup memory limit (containers) or an
    address-space limit (``ulimit -v``) leaves to this process."""
    avail = _meminfo_available()
    for extra in (_cgroup_headroom(), _address_space_headroom()):
        if extra is not None:
            avail = min(avail, extra)
    return avail


def require_memory(nbytes: float, what: str, hint: str = "") -> None:
    """MemoryError("<what> would need X GiB, more than the Y GiB ...<hint>") before allocating."""
    avail = physical_memory_bytes()
    if nbytes > avail:
        raise MemoryError(f"{what} would need {nbytes / 2 ** 30:.3g} GiB, more than the {avail / 2 ** 30:.3g} GiB "
                          f"of memory available on this machine{hint}")


def check_cross_sizes(dims, two_site_blocks: bool, name: str = "shape") -> None:
    """MemoryError, before any work, when a mode of a cross interpolation is too large to scan.

    Every mode is evaluated along whole fibers (``d_k`` index tuples of ``n`` int64 and a value
    each), and a full pivot search over 2-site blocks evaluates ``d_k * d_{k+1}`` of them.
    """
    n = len(dims)
    per_point = 8 * (n + 1)
    avail = physical_memory_bytes()
    for k, d in enumerate(dims):
        points = d * dims[k + 1] if two_site_blocks and k + 1 < n else d
        if points * per_point > avail:
            what = (f"{name}[{k}] * {name}[{k + 1}] = {d} * {dims[k + 1]}" if points != d
                    else f"{name}[{k}] = {d}")
            raise MemoryError(f"{what}: too large for cross interpolation, which evaluates whole fibers "
                              f"({points * per_point / 2 ** 30:.3g} GiB of index tuples, more than the "
                              f"{avail / 2 ** 30:.3g} GiB of memory available on this machine); split large modes into binary "
                              f"digits with tnfast.grids.quantics (2**bits points per variable on 'bits' "
                              f"sites of size 2)" + ("" if points == d else " or use pivot_search='rook'"))
