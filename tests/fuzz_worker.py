"""Child process of the fuzz suite (tests/test_fuzz.py): runs fuzz cases sent on stdin.

Protocol: the parent writes one pickled case per message (a 4-byte length, then the bytes) and
reads one pickled outcome back the same way.  A case is ``(api, args)`` where ``args`` holds only
plain data (numbers, strings, numpy arrays, tuples/lists/dicts of them, and ``Spec`` markers that
this process turns into torch tensors, tensor trains, MPOs, black-box functions, layers).  The
outcome is ``(status, detail)``:

* ``"ok"``: the call returned and every property checked on the result held;
* ``"raised"``: a clear exception (``detail`` = type name and message);
* ``"unclear"``: an exception of a type or with a message that does not say what was wrong;
* ``"wrong"``: the call returned a result that violates a checked property (silent wrong result).

A crash kills this process (the parent counts it and starts a new one); a hang is the parent's
timeout.
"""

from __future__ import annotations

import math
import os
import pickle
import struct
import sys
import tempfile
import traceback

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

CLEAR = (TypeError, ValueError, MemoryError, OverflowError, ZeroDivisionError, FileNotFoundError)
UNCLEAR_WORDS = ("incompatible function arguments", "object has no attribute", "std::",
                 "bad_alloc", "Unable to cast", "unhashable type", "not subscriptable", "not iterable",
                 "object is not callable", "index out of bounds", "invalid index to scalar")


class Spec(tuple):
    """A marker ``Spec((kind, *payload))`` for an object the worker builds itself."""


class Wrong(AssertionError):
    pass


# ---- building the objects named by specs ----------------------------------------------------

def _torch():
    import torch

    return torch


def build(v):
    if isinstance(v, Spec):
        kind, *p = v
        if kind == "torch":
            return _torch().from_numpy(np.array(build(p[0])))
        if kind == "list":
            return np.asarray(build(p[0])).tolist()
        if kind == "fortran":
            return np.asfortranarray(build(p[0]))
        if kind == "strided":
            a = np.repeat(build(p[0]), 2, axis=-1) if np.ndim(build(p[0])) else build(p[0])
            return a[..., ::2] if np.ndim(a) else a
        if kind == "pickled":
            return pickle.loads(pickle.dumps(build(p[0])))
        if kind == "tt":
            import tnfast

            shape, rank, dtype, seed, scale = p
            t = tnfast.TensorTrain.random(shape, rank, dtype=dtype, seed=seed)
            return t * scale if scale != 1 else t
        if kind == "tt_cores":
            import tnfast

            return tnfast.TensorTrain([build(c) for c in p[0]], copy=True)
        if kind == "mpo":
            import tnfast

            rows, cols, rank, dtype, seed = p
            return tnfast.MPO.random(rows, cols, rank, dtype=dtype, seed=seed)
        if kind == "blackbox":
            return blackbox(*p)
        if kind == "mpolinear":
            from tnfast.nn import MPOLinear

            i, o, bond, dtype = p
            return MPOLinear(i, o, bond_dim=bond, dtype=getattr(_torch(), dtype))
        if kind == "mpoconv":
            from tnfast.nn import MPOConv2d

            ci, co, k, pad, bond = p
            return MPOConv2d(ci, co, k, padding=pad, bond_dim=bond)
        if kind == "model":
            torch = _torch()
            torch.manual_seed(0)
            i, h, o = p
            return torch.nn.Sequential(torch.nn.Linear(i, h), torch.nn.ReLU(), torch.nn.Linear(h, o))
        if kind == "embedding":
            import tnfast

            return tnfast.get_embedding(*p)
        raise KeyError(kind)
    if isinstance(v, list):
        return [build(x) for x in v]
    if isinstance(v, tuple):
        return tuple(build(x) for x in v)
    if isinstance(v, dict):
        return {k: build(x) for k, x in v.items()}
    return v


def blackbox(kind, n_out=1):
    def ok(idx):
        idx = np.asarray(idx, dtype=np.float64)
        v = 1.0 / (1.0 + np.sum(idx * idx, axis=1) / (1.0 + idx.shape[1]))
        return v if n_out == 1 else np.stack([v * (k + 1) for k in range(n_out)], axis=1)

    table = {
        "ok": ok,
        "wrong_shape": lambda idx: np.ones(len(idx) + 1),
        "transposed": lambda idx: np.ones((1, len(idx))),
        "nan": lambda idx: np.full(len(idx), np.nan),
        "inf_one": lambda idx: np.where(np.arange(len(idx)) == len(idx) // 2, np.inf, 1.0),
        "list": lambda idx: [1.0] * len(idx),
        "raise": lambda idx: (_ for _ in ()).throw(RuntimeError("from f")),
        "complex": lambda idx: np.ones(len(idx)) * 1j,
        "string": lambda idx: np.array(["x"] * len(idx)),
        "none": lambda idx: None,
        "scalar": lambda idx: 1.0,
        "object": lambda idx: np.array([object()] * len(idx), dtype=object),
        "int": lambda idx: np.ones(len(idx), dtype=np.int64),
        "torch": lambda idx: _torch().ones(len(idx), dtype=_torch().float64),
        "zeros": lambda idx: np.zeros(len(idx)),
        "huge": lambda idx: np.full(len(idx), 1e300),
    }
    return table[kind]


# ---- properties of results ------------------------------------------------------------------

def _close(a, b, tol=1e-6):
    a = np.asarray(a)
    b = np.asarray(b)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol * scale))


def _finite_tt(t):
    for c in t.cores:
        if not np.all(np.isfinite(c)):
            raise Wrong("a result core holds NaN or Inf")


def _small(t, limit=4096):
    return math.prod(t.shape) <= limit


def check(api, args, result):
    """Raise Wrong when ``result`` of ``api(*args)`` is wrong in a way we can tell (``args`` are the
    built objects the call received)."""
    import tnfast

    def build(v):
        return v

    if api == "tt_svd":
        a = np.asarray(build(args[0]), dtype=np.complex128 if np.iscomplexobj(build(args[0])) else np.float64)
        _finite_tt(result)
        if args[1] is None and args[2] is None and a.size <= 4096:
            if not _close(result.full(), a, 1e-4):
                raise Wrong("tt_svd without truncation does not reproduce the array")
    elif api.startswith("tt."):
        t = build(args[0])
        name = api[3:]
        if isinstance(result, tnfast.TensorTrain):
            _finite_tt(result)
        if not _small(t):
            return
        ref = t.full()
        if not np.all(np.isfinite(ref)) or (ref.size and np.abs(ref).max() < 1e-290):
            return  # the dense reference itself over- or underflows: nothing to compare with
        if name == "norm":
            big = float(np.abs(ref).max()) if ref.size else 0.0
            dense = big * float(np.linalg.norm(ref / big)) if big > 0 else 0.0  # scaled: no overflow near 1e300
            if not math.isclose(result, dense, rel_tol=1e-4, abs_tol=1e-300):
                raise Wrong(f"norm {result} differs from the dense {dense}")
        if name == "canonicalize" and not _close(result.full(), ref, 1e-4):
            raise Wrong("canonicalize changed the tensor")
        if name == "round" and args[1] is None and args[2] in (None, 0.0):
            if not _close(result.full(), ref, 1e-4):
                raise Wrong("a lossless round changed the tensor")
        if name == "evaluate":
            idx = np.asarray(build(args[1]))
            if idx.ndim == 2 and len(idx):
                if not _close(result, ref[tuple(idx.T)], 1e-4):
                    raise Wrong("evaluate differs from the dense tensor")
        if name == "entropy" and (np.any(~np.isfinite(result)) or np.any(result < -1e-9)):
            raise Wrong("entropy not finite / negative")
        if name == "dot":
            o = build(args[1])
            if _small(o):
                if not math.isclose(abs(result), abs(np.vdot(ref, o.full())), rel_tol=1e-4, abs_tol=1e-8):
                    raise Wrong("dot differs from the dense inner product")
        if name in ("mul", "div"):
            alpha = args[1]
            f = alpha if name == "mul" else 1.0 / alpha
            if not _close(result.full(), ref * f, 1e-4):
                raise Wrong("scalar multiple wrong")
    elif api == "maxvol":
        a = np.asarray(build(args[0]))
        rows = np.asarray(result if not isinstance(result, tuple) else result[0])
        if len(set(rows.tolist())) != len(rows) or (len(rows) and (rows.min() < 0 or rows.max() >= a.shape[0])):
            raise Wrong("maxvol returned invalid rows")
    elif api == "rect_maxvol":
        a = np.asarray(build(args[0]))
        rows = np.asarray(result if not isinstance(result, tuple) else result[0])
        if len(set(rows.tolist())) != len(rows) or (len(rows) and (rows.min() < 0 or rows.max() >= a.shape[0])):
            raise Wrong("rect_maxvol returned invalid rows")
    elif api == "tt_cross":
        tt = result[0]
        _finite_tt(tt)
        f = build(args[0])
        # a run that reports convergence must be right; one stopped by a rank or sweep cap has warned
        if args[2] == "ok" and result[1].converged and _small(tt, 2000):
            full = tt.full()
            idx = np.indices(tt.shape).reshape(len(tt.shape), -1).T
            ref = np.asarray(f(idx)).reshape(tt.shape)
            if not _close(full, ref, 1e-3):
                raise Wrong("tt_cross of a smooth function is far from it")
    elif api == "mpo.apply":
        m, x = build(args[0]), build(args[1])
        if math.prod(m.shape) <= 4096:
            if not _close(result.full().reshape(-1), m.full() @ x.full().reshape(-1), 1e-4):
                raise Wrong("MPO.apply differs from the dense product")
    elif api == "nn.forward":
        torch = _torch()
        from tnfast.nn import MPOLinear

        layer, x = build(args[0]), build(args[1])
        if isinstance(layer, MPOLinear) and isinstance(x, torch.Tensor) and x.dtype == layer.cores[0].dtype and x.ndim >= 1 and x.numel():
            with torch.no_grad():
                ref = torch.nn.functional.linear(x, layer.to_dense(), layer.bias)
            if not torch.allclose(result, ref, atol=1e-4, rtol=1e-4):
                raise Wrong("MPOLinear forward differs from the dense layer")
    elif api == "factorize":
        n, k = args
        if math.prod(result) != n or len(result) != k:
            raise Wrong("factorize: product or length wrong")


# ---- the calls ------------------------------------------------------------------------------

def call(api, a):
    import tnfast

    if api == "tt_svd":
        return tnfast.tt_svd(a[0], max_rank=a[1], rel_tol=a[2])
    if api == "TensorTrain":
        return tnfast.TensorTrain(a[0])
    if api == "TensorTrain.random":
        return tnfast.TensorTrain.random(a[0], a[1], dtype=a[2], seed=a[3])
    if api == "TensorTrain.zeros":
        return tnfast.TensorTrain.zeros(a[0], dtype=a[1])
    if api == "TensorTrain.ones":
        return tnfast.TensorTrain.ones(a[0], dtype=a[1])
    if api.startswith("tt."):
        t = a[0]
        name = api[3:]
        if name == "norm":
            return t.norm()
        if name == "entropy":
            return t.entropy()
        if name == "singular_values":
            return t.singular_values()
        if name == "canonicalize":
            return t.canonicalize(a[1])
        if name == "round":
            return t.round(max_rank=a[1], rel_tol=a[2])
        if name == "evaluate":
            return t.evaluate(a[1], num_threads=a[2])
        if name == "evaluate_embedded":
            return t.evaluate_embedded(a[1])
        if name == "dot":
            return t.dot(a[1])
        if name == "add":
            return t + a[1]
        if name == "sub":
            return t - a[1]
        if name == "hadamard":
            return t.hadamard(a[1])
        if name == "mul":
            return t * a[1]
        if name == "div":
            return t / a[1]
        if name == "full":
            return t.full(max_elements=a[1])
        if name == "astype":
            return t.astype(a[1])
        if name == "save_load":
            with tempfile.TemporaryDirectory() as d:
                p = os.path.join(d, "t")
                t.save(p)
                data = open(p + ".npz", "rb").read()
                cut = a[1]
                if cut is not None:
                    open(p + ".npz", "wb").write(data[:cut] + bytes(a[2]))
                return tnfast.TensorTrain.load(p)
    if api == "MPO":
        return tnfast.MPO(a[0])
    if api == "MPO.from_matrix":
        return tnfast.MPO.from_matrix(a[0], a[1], a[2], max_rank=a[3], rel_tol=a[4])
    if api == "MPO.random":
        return tnfast.MPO.random(a[0], a[1], a[2])
    if api == "MPO.identity":
        return tnfast.MPO.identity(a[0], dtype=a[1])
    if api == "mpo.apply":
        return a[0].apply(a[1])
    if api == "mpo.compose":
        return a[0] @ a[1]
    if api == "mpo.round":
        return a[0].round(max_rank=a[1], rel_tol=a[2])
    if api == "maxvol":
        return tnfast.maxvol(a[0], tol=a[1], max_iters=a[2])
    if api == "rect_maxvol":
        return tnfast.rect_maxvol(a[0], tol=a[1], min_rows=a[2], max_rows=a[3])
    if api == "prrlu":
        return tnfast.prrlu(a[0], max_rank=a[1], rel_tol=a[2], pivot_search=a[3])
    if api == "tt_cross":
        return tnfast.tt_cross(a[0], a[1], method=a[3], rel_tol=a[4], max_rank=a[5], max_sweeps=a[6],
                               pivot_search=a[7])
    if api == "tt_rss":
        return tnfast.tt_rss(a[0], a[1], embedding=a[2], rank=a[3], cutoff=a[4])
    if api == "tt_rs":
        return tnfast.tt_rs(a[0], d=a[1], rank=a[2], cutoff=a[3], sketch=a[4])
    if api == "tt_density":
        return tnfast.tt_density(a[0], a[1])
    if api == "tt_sample":
        return tnfast.tt_sample(a[0], a[1], seed=0)
    if api == "tt_evaluate":
        return tnfast.tt_evaluate(a[0], a[1], a[2])
    if api == "grids.quantics_to_points":
        return tnfast.grids.quantics_to_points(a[0], a[1], a[2], layout=a[3])
    if api == "grids.points_to_quantics":
        return tnfast.grids.points_to_quantics(a[0], a[1], a[2], layout=a[3])
    if api == "grids.grid_function":
        g = tnfast.grids.grid_function(lambda x: np.sum(x, axis=1), a[0])
        return g(a[1])
    if api == "grids.uniform_grid":
        return tnfast.grids.uniform_grid(a[0], a[1], a[2])
    if api == "get_embedding":
        return tnfast.get_embedding(a[0], a[1])
    if api == "embedding.call":
        return tnfast.get_embedding(a[0], a[1])(a[2])
    if api == "set_num_threads":
        old = tnfast.get_num_threads()
        out = tnfast.set_num_threads(a[0])
        tnfast.set_num_threads(old)
        return out
    if api == "factorize":
        from tnfast.nn import factorize

        return factorize(a[0], a[1])
    if api == "choose_modes":
        from tnfast.nn import choose_modes

        return choose_modes(a[0], a[1], a[2])
    if api == "MPOLinear":
        from tnfast.nn import MPOLinear

        return MPOLinear(a[0], a[1], in_modes=a[2], out_modes=a[3], bond_dim=a[4])
    if api == "MPOConv2d":
        from tnfast.nn import MPOConv2d

        return MPOConv2d(a[0], a[1], a[2], stride=a[3], padding=a[4], bond_dim=a[5])
    if api == "nn.forward":
        out = a[0](a[1])
        if out.requires_grad and out.numel():
            out.sum().backward()
        return out.detach()
    if api == "nn.compress":
        from tnfast.nn import compress

        return compress(a[0], max_bond=a[1], cutoff=a[2])
    if api == "nn.from_dense":
        from tnfast.nn import MPOLinear

        return MPOLinear.from_dense(a[0], max_bond=a[1], cutoff=a[2])
    raise KeyError(api)


def run_case(case):
    api, args = case
    try:
        args = build(args)
        result = call(api, args)
    except RuntimeError as exc:
        if api == "set_num_threads" and "no optimized BLAS" in str(exc):  # documented
            return "raised", f"RuntimeError: {exc}"
        if str(exc) == "from f":  # the black box's own exception, propagated as it should be
            return "raised", "RuntimeError: from f"
        return "unclear", f"RuntimeError: {str(exc)[:300]}\n{traceback.format_exc(limit=4)[-1200:]}"
    except CLEAR as exc:
        msg = str(exc)
        if not msg or any(w in msg for w in UNCLEAR_WORDS):
            return "unclear", f"{type(exc).__name__}: {msg[:300]}"
        return "raised", f"{type(exc).__name__}: {msg[:200]}"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - any other type is an unclear error
        tb = traceback.format_exc(limit=4)
        return "unclear", f"{type(exc).__name__}: {str(exc)[:300]}\n{tb[-1200:]}"
    try:
        check(api, args, result)
    except Wrong as exc:
        return "wrong", str(exc)
    except CLEAR:  # a property that cannot be checked on this result (e.g. too large)
        pass
    except Exception as exc:  # noqa: BLE001 - the checker itself failed: reported, not a crash
        return "checker", f"{type(exc).__name__}: {str(exc)[:300]}"
    return "ok", ""


def _read(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack("<I", head)
    return pickle.loads(stream.read(n))


def _write(stream, obj):
    data = pickle.dumps(obj)
    stream.write(struct.pack("<I", len(data)) + data)
    stream.flush()


def _limit_memory():
    """Cap the child's address space (TNFAST_FUZZ_MEMORY_GIB above what it holds after its imports,
    default 4): a case asking for a legitimate but huge allocation then meets the library's memory
    guard at once instead of paging for minutes on a shared machine (or waking the OOM killer)."""
    try:
        import resource

        with open("/proc/self/status") as fh:
            vm = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmSize:"))
        extra = float(os.environ.get("TNFAST_FUZZ_MEMORY_GIB", "4")) * 2 ** 30
        resource.setrlimit(resource.RLIMIT_AS, (int(vm + extra), resource.RLIM_INFINITY))
    except (ImportError, OSError, ValueError, StopIteration):
        pass


def main():
    import warnings

    warnings.simplefilter("ignore")
    sys.modules.setdefault("fuzz_worker", sys.modules[__name__])
    import tnfast  # noqa: F401 - import once, before the first case

    _limit_memory()

    try:
        import torch

        torch.set_num_threads(1)
        import tnfast.nn  # noqa: F401
    except ImportError:
        pass
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol
    _write(out, ("ready", ""))
    trace = os.environ.get("TNFAST_FUZZ_TRACE")
    while True:
        case = _read(inp)
        if case is None:
            return
        if trace:  # the case being run, for a post-mortem of a crash or a hang
            with open(trace, "w") as fh:
                fh.write(repr(case))
        _write(out, run_case(case))


if __name__ == "__main__":
    main()
