"""Quantum states as tensor trains: the spin-1 AKLT state, exact sampling from ``|psi|^2``,
fidelities, local and string expectation values, the Z2 x Z2 SPT order parameter, and MPO
Hamiltonians of spin-1 chains (for :func:`tnfast.dmrg`).

Conventions
-----------
A state of ``n`` spin-1 sites is a :class:`~tnfast.TensorTrain` with physical dimension 3 at
every site; the entry at ``(s_1, ..., s_n)`` is the amplitude ``<s_1 ... s_n|psi>``.  The
physical index ``s = 0, 1, 2`` is the ``S^z`` eigenvalue ``m = +1, 0, -1`` (``m = 1 - s``).
States need not be normalized: every expectation value divides by ``<psi|psi>``.
An operator ``O`` on one site is a (3, 3) matrix ``O[s, s'] = <s|O|s'>``; MPO cores
``(r_{k-1}, i_k, j_k, r_k)`` follow :class:`~tnfast.MPO` (row ``i`` = output).

The Z2 x Z2 order parameter (:func:`spt_order`)
-----------------------------------------------
With ``R^a = exp(i pi S^a)`` (a pi rotation about axis a; for spin 1 it is the real matrix
``1 - 2 (S^a)^2``), two adjacent blocks ``I1 = [i, i + L)`` and ``I2 = [i + L, i + 2L)`` and
``SWAP`` the operator exchanging the configurations of the two blocks,

    O_{Z2xZ2} = <psi| SWAP (prod_{k in I1} R^x_k) (prod_{k in I2} R^z_k) |psi>
                / <psi| SWAP |psi>.

In the bulk of an injective MPS in canonical form with Schmidt values ``Lambda`` the symmetries
act on the bonds as ``R^a B = V_a^dagger B V_a`` (projective representation ``V_x, V_z``), and
for ``L`` much longer than the correlation length the numerator tends to
``tr(Lambda^6 V_x^dagger V_z V_x V_z^dagger)`` and the denominator to ``tr(Lambda^6)``
(Pollmann and Turner, Phys. Rev. B 86, 125441 (2012): twist by symmetries, swap, overlap).
Hence ``O = -1`` when ``V_x`` and ``V_z`` anticommute (Haldane phase, the AKLT state) and
``O = +1`` when they commute (trivial phase, e.g. the product state ``|0 0 ... 0>``); in a
finite system the value varies continuously between the two near a transition.  ``L`` even
removes the on-site phases of the rotations (``(+-1)^L``).  The numerator and denominator are
computed exactly by transfer matrices of the mixed-canonical form (memory ``O(r^4)`` for bond
dimension ``r``).

The string order (:func:`string_order`) is den Nijs and Rommelse's
``<S^z_i exp(i pi sum_{i<k<j} S^z_k) S^z_j>``, ``-4/9`` in the bulk of the AKLT state.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validate import as_array, as_int
from .mpo import MPO
from .tensortrain import TensorTrain

__all__ = [
    "spin_operators",
    "aklt",
    "product_state",
    "sample",
    "marshall_sign",
    "fidelity",
    "overlap",
    "expect",
    "correlation",
    "string_order",
    "spt_order",
    "spt_order_sampled",
    "transfer_matrix",
    "correlation_length",
    "nearest_neighbour_mpo",
    "spin1_chain",
    "bilinear_biquadratic",
]


# ---- single-site operators -------------------------------------------------------------------
def spin_operators(spin: float = 1.0) -> dict:
    """Spin operators in the ``S^z`` basis ordered ``m = S, S-1, ..., -S``.

    Returns
    -------
    dict with real (2S+1, 2S+1) arrays ``"Sz"``, ``"Sp"`` (raising), ``"Sm"`` (lowering),
    ``"Sx"``, ``"Id"``, the rotations ``"Rx" = exp(i pi S^x)``, ``"Rz" = exp(i pi S^z)`` (real for
    integer spin) and the complex ``"Sy"``.
    """
    two_s = 2.0 * float(spin)
    if not (two_s >= 1 and float(two_s).is_integer()):
        raise ValueError(f"spin: expected a positive multiple of 1/2, got {spin!r}")
    s = float(spin)
    d = int(two_s) + 1
    m = s - np.arange(d)
    sz = np.diag(m)
    sp = np.zeros((d, d))
    for k in range(1, d):  # <m+1| S+ |m> = sqrt(s(s+1) - m(m+1)); row k-1 has m = m_k + 1
        sp[k - 1, k] = np.sqrt(s * (s + 1) - m[k] * (m[k] + 1))
    sm = sp.T.copy()
    sx = 0.5 * (sp + sm)
    sy = -0.5j * (sp - sm)
    ops = {"Sz": sz, "Sp": sp, "Sm": sm, "Sx": sx, "Sy": sy, "Id": np.eye(d)}
    if float(s).is_integer():
        # exp(i pi S^a) has eigenvalues (-1)^m: real, = sum over eigenprojectors
        for name, op in (("Rx", sx), ("Rz", sz)):
            w, v = np.linalg.eigh(op)
            r = (v * np.cos(np.pi * np.rint(w))) @ v.T
            r[np.abs(r) < 1e-12] = 0.0  # exact zeros (e.g. 1 - 2 (S^x)^2 for spin 1)
            ops[name] = np.rint(r) if np.allclose(r, np.rint(r), atol=1e-12) else r
    return ops


_S1 = spin_operators(1)


# ---- states ----------------------------------------------------------------------------------
def _aklt_tensor() -> np.ndarray:
    """The bulk AKLT tensor A[a, s, b] (bond 2; left- and right-orthogonal)."""
    a = np.zeros((2, 3, 2))
    a[:, 0, :] = np.sqrt(2.0 / 3.0) * np.array([[0.0, 1.0], [0.0, 0.0]])  # m = +1: sqrt(2/3) sigma^+
    a[:, 1, :] = -np.sqrt(1.0 / 3.0) * np.diag([1.0, -1.0])  # m = 0: -sqrt(1/3) sigma^z
    a[:, 2, :] = -np.sqrt(2.0 / 3.0) * np.array([[0.0, 0.0], [1.0, 0.0]])  # m = -1: -sqrt(2/3) sigma^-
    return a


def aklt(n: int, boundary=(0, 1), normalize: bool = True) -> TensorTrain:
    """The spin-1 AKLT state on an open chain of ``n`` sites, an MPS of bond dimension 2.

    Bulk tensor ``A^{+1} = sqrt(2/3) sigma^+``, ``A^0 = -sqrt(1/3) sigma^z``,
    ``A^{-1} = -sqrt(2/3) sigma^-`` (left- and right-orthogonal; transfer-matrix spectrum
    ``1, -1/3, -1/3, -1/3``, correlation length ``1/ln 3``).  The open chain has four ground
    states of ``sum_i [S_i.S_{i+1} + (S_i.S_{i+1})^2 / 3]`` (two free edge spins 1/2); ``boundary``
    picks one by fixing the left and right virtual index.

    Parameters
    ----------
    n : int, >= 2
    boundary : (int, int)
        Left and right virtual indices in {0, 1}.
    normalize : bool
        Scale to unit norm.

    Returns
    -------
    TensorTrain of shape (3,) * n, ranks (1, 2, ..., 2, 1), float64.
    """
    n = as_int(n, "n", minimum=2)
    if (not isinstance(boundary, (tuple, list)) or len(boundary) != 2
            or any(not isinstance(b, numbers.Integral) or b not in (0, 1) for b in boundary)):
        raise ValueError(f"boundary: expected two virtual indices in {{0, 1}}, got {boundary!r}")
    a = _aklt_tensor()
    cores = [a.copy() for _ in range(n)]
    cores[0] = a[boundary[0]:boundary[0] + 1].copy()
    cores[-1] = a[:, :, boundary[1]:boundary[1] + 1].copy()
    tt = TensorTrain(cores, copy=False)
    if normalize:
        tt = tt / tt.norm()
    return tt


def product_state(local, n: int | None = None) -> TensorTrain:
    """The product state ``|v_1> ... |v_n>`` (bond dimension 1).

    ``local`` is one vector (repeated ``n`` times) or a list of per-site vectors; an integer
    ``s`` stands for the basis vector ``e_s`` of dimension 3.
    """
    if isinstance(local, numbers.Integral):
        if n is None:
            raise ValueError("n: required when local is a single basis index")
        local = np.eye(3)[int(local)]
    arr = np.asarray(local)
    if arr.ndim == 1:
        n = as_int(n, "n", minimum=1)
        vecs = [arr] * n
    else:
        vecs = list(local)
    return TensorTrain([as_array(v, f"local[{k}]", ndim=1).reshape(1, -1, 1) for k, v in enumerate(vecs)])


# ---- sampling and overlaps -------------------------------------------------------------------
def sample(mps: TensorTrain, n_samples: int, seed=None) -> np.ndarray:
    """Exact (perfect) samples of configurations from ``|psi(s)|^2 / <psi|psi>``.

    The train is brought to right-canonical form; then ``s_1, s_2, ...`` are drawn in turn from
    the exact conditionals ``p(s_k | s_{<k}) = ||v A_k[:, s_k, :]||^2 / ||v||^2`` where ``v`` is the
    product of the cores already fixed (the right-orthogonal rest contracts to the identity).
    All samples advance together (one batched contraction per site); cost
    ``O(n_samples n d r^2)``.  Independent samples, no Markov chain.

    Parameters
    ----------
    mps : TensorTrain
    n_samples : int
    seed : int or numpy Generator, optional

    Returns
    -------
    ndarray of int64, shape (n_samples, n): physical indices.
    """
    if not isinstance(mps, TensorTrain):
        raise TypeError(f"mps: expected a TensorTrain, got {type(mps).__name__}")
    n_samples = as_int(n_samples, "n_samples", minimum=0)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if mps.norm() == 0:
        raise ValueError("mps: the zero state cannot be sampled")
    psi = mps.canonicalize(0)
    n = psi.ndim
    out = np.empty((n_samples, n), dtype=np.int64)
    v = np.ones((n_samples, 1), dtype=psi.dtype)
    for k, g in enumerate(psi.cores):
        w = np.einsum("ba,asc->bsc", v, g)  # (B, d, r)
        p = np.sum(np.abs(w) ** 2, axis=2)
        p /= p.sum(axis=1, keepdims=True)
        u = rng.random(n_samples)
        sk = np.minimum((np.cumsum(p, axis=1) < u[:, None]).sum(axis=1), g.shape[1] - 1)
        out[:, k] = sk
        v = w[np.arange(n_samples), sk]
        v /= np.linalg.norm(v, axis=1, keepdims=True)
    return out


def marshall_sign(x, sublattice: int = 0) -> np.ndarray:
    """The Marshall sign ``(-1)^(sum_{i in A} (S - m_i))`` of spin-1 configurations, with ``A``
    the sites ``i = sublattice, sublattice + 2, ...`` and ``S - m_i = s_i`` in the index
    convention of this module.

    Marshall's rule: after the rotation ``exp(i pi sum_{i in A} S^z_i)`` the Hamiltonian
    ``sum S_i.S_{i+1} + D sum (S^z_i)^2`` has non-positive off-diagonal elements, so its ground
    state has the sign ``+-marshall_sign(s)`` on every configuration (the AKLT state too, a
    product of bond singlets projected on spin 1).

    Parameters
    ----------
    x : array_like of int, shape (B, n) or (n,)
    sublattice : {0, 1}

    Returns
    -------
    ndarray of float64 with entries +-1, shape (B,) (or a 0-d array for one configuration).
    """
    if sublattice not in (0, 1):
        raise ValueError(f"sublattice: expected 0 or 1, got {sublattice!r}")
    arr = np.asarray(x)
    if arr.ndim not in (1, 2) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"x: expected integer configurations of shape (B, n) or (n,), got {arr.dtype} {arr.shape}")
    parity = np.sum(arr[..., sublattice::2], axis=-1) % 2
    return 1.0 - 2.0 * parity


def _log_overlap(a: TensorTrain, b: TensorTrain):
    """``(log|<a|b>|, phase)`` by a left-to-right sweep rescaled at every site (no under/overflow)."""
    if not isinstance(a, TensorTrain) or not isinstance(b, TensorTrain):
        raise TypeError("expected two TensorTrain objects")
    if a.shape != b.shape:
        raise ValueError(f"states of different shapes: {a.shape} vs {b.shape}")
    env = np.ones((1, 1), dtype=np.result_type(a.dtype, b.dtype))
    log = 0.0
    for ga, gb in zip(a.cores, b.cores):
        env = np.einsum("ab,asc,bsd->cd", env, np.conj(ga), gb, optimize=True)
        s = np.abs(env).max()
        if s == 0:
            return -np.inf, 0.0
        env = env / s
        log += np.log(s)
    val = env[0, 0]
    return log + np.log(np.abs(val)), val / np.abs(val)


def overlap(a: TensorTrain, b: TensorTrain) -> complex | float:
    """``<a|b> / (||a|| ||b||)``: the normalized overlap (computed on a logarithmic scale)."""
    lab, ph = _log_overlap(a, b)
    laa, _ = _log_overlap(a, a)
    lbb, _ = _log_overlap(b, b)
    if not (np.isfinite(laa) and np.isfinite(lbb)):
        raise ValueError("overlap: a state has zero norm")
    val = ph * np.exp(lab - 0.5 * (laa + lbb))
    return complex(val) if np.iscomplexobj(val) else float(val)


def fidelity(a: TensorTrain, b: TensorTrain) -> float:
    """``|<a|b>|^2 / (<a|a> <b|b>)``, in [0, 1]; computed on a logarithmic scale, so that long
    chains with tiny or huge amplitudes do not under- or overflow.  Raises ValueError for a
    zero state or different shapes."""
    lab, _ = _log_overlap(a, b)
    laa, _ = _log_overlap(a, a)
    lbb, _ = _log_overlap(b, b)
    if not (np.isfinite(laa) and np.isfinite(lbb)):
        raise ValueError("fidelity: a state has zero norm")
    if not np.isfinite(lab):
        return 0.0
    return float(min(1.0, np.exp(2 * lab - laa - lbb)))


# ---- expectation values by transfer matrices -------------------------------------------------
def _site(i, n, name):
    i = as_int(i, name)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise ValueError(f"{name}: expected a site in [-{n}, {n}), got {i}")
    return i


def _check_op(op, d, name):
    op = as_array(op, name, ndim=2)
    if op.shape != (d, d):
        raise ValueError(f"{name}: expected a ({d}, {d}) matrix, got shape {op.shape}")
    return op


def expect(mps: TensorTrain, ops: dict):
    """``<psi| prod_k O_k |psi> / <psi|psi>`` for operators on a few sites.

    Parameters
    ----------
    mps : TensorTrain
    ops : dict site -> (d_k, d_k) array
        Operators (``O[s, s'] = <s|O|s'>``); sites may be negative (from the end).

    The train is put in mixed-canonical form centred at the leftmost site of ``ops``; then only
    the transfer matrices from that site to the rightmost one are contracted
    (``O((j - i) d r^3)``).  Returns a float for real data, else a complex number.
    """
    if not isinstance(mps, TensorTrain):
        raise TypeError(f"mps: expected a TensorTrain, got {type(mps).__name__}")
    if not isinstance(ops, dict) or not ops:
        raise ValueError("ops: expected a non-empty dict site -> operator")
    n = mps.ndim
    sites = {}
    for k, op in ops.items():
        s = _site(k, n, "ops (site)")
        if s in sites:
            raise ValueError(f"ops: site {s} given twice")
        sites[s] = _check_op(op, mps.shape[s], f"ops[{k}]")
    i, j = min(sites), max(sites)
    psi = mps.canonicalize(i)
    c = psi.cores[i]
    nrm2 = float(np.vdot(c, c).real)
    if nrm2 == 0:
        raise ValueError("mps: the zero state has no expectation values")
    env = np.eye(c.shape[0], dtype=c.dtype)
    for k in range(i, j + 1):
        g = psi.cores[k]
        gk = np.einsum("st,atb->asb", sites[k], g) if k in sites else g
        env = np.einsum("ab,asc,bsd->cd", env, np.conj(g), gk, optimize=True)
    val = np.trace(env) / nrm2
    return complex(val) if np.iscomplexobj(val) and abs(val.imag) > 0 else float(np.real(val))


def correlation(mps: TensorTrain, op_a, op_b, i: int, j: int):
    """``<O^a_i O^b_j>`` (``i != j``); see :func:`expect`."""
    if _site(i, mps.ndim, "i") == _site(j, mps.ndim, "j"):
        raise ValueError("i and j: expected two different sites (use expect with the product for one site)")
    return expect(mps, {i: op_a, j: op_b})


def string_order(mps: TensorTrain, i: int, j: int, op=None, string=None) -> float:
    """The string correlator ``<O_i (prod_{i<k<j} U_k) O_j>`` (den Nijs-Rommelse for spin 1).

    Defaults: ``O = S^z``, ``U = exp(i pi S^z)``; equals ``-4/9`` in the bulk of the AKLT state
    (any ``j > i``), and decays to 0 in a trivial phase.

    Parameters
    ----------
    mps : TensorTrain
    i, j : int
        Sites with ``i < j`` (negative counts from the end).
    op, string : (d, d) arrays, optional
    """
    n = mps.ndim
    i, j = _site(i, n, "i"), _site(j, n, "j")
    if not i < j:
        raise ValueError(f"i and j: expected i < j, got {i} and {j}")
    d = mps.shape[i]
    op = _S1["Sz"] if op is None else op
    string = _S1["Rz"] if string is None else string
    ops = {i: op, j: op}
    for k in range(i + 1, j):
        ops[k] = _check_op(string, mps.shape[k], "string")
    _check_op(op, d, "op")
    return float(np.real(expect(mps, ops)))


def _pair_transfer(ket_cores, bra_cores, ket_ops):
    """``M[a, b, x, y] = sum_s prod_k (O_k K_k)^{s}[a..x] conj(B_k)^{s}[b..y]`` over paired sites."""
    k0, b0 = ket_cores[0], bra_cores[0]
    ra, rb = k0.shape[0], b0.shape[0]
    dtype = np.result_type(k0.dtype, b0.dtype)
    m = np.einsum("ax,by->abxy", np.eye(ra, dtype=dtype), np.eye(rb, dtype=dtype))
    for g, h, op in zip(ket_cores, bra_cores, ket_ops):
        gk = np.einsum("st,atb->asb", op, g) if op is not None else g
        t = np.tensordot(m, gk, axes=([2], [0]))  # (a, b, y, s, X)
        m = np.tensordot(t, np.conj(h), axes=([2, 3], [0, 1]))  # (a, b, X, Y)
    return m


def spt_order(mps: TensorTrain, block: int = 10, start: int | None = None, rotations=None,
              return_parts: bool = False):
    """The Z2 x Z2 SPT order parameter from a twisted swap of two adjacent blocks.

    ``O = <SWAP_{I1,I2} R^x(I1) R^z(I2)> / <SWAP_{I1,I2}>`` with ``I1 = [start, start + block)``
    and ``I2 = [start + block, start + 2 block)`` (see the module docstring for the derivation):
    ``-1`` in the Haldane phase, ``+1`` in a trivial phase, continuous in between for a finite
    block.  Exact contraction with transfer matrices of the mixed-canonical form; memory and
    time grow as ``r^4`` and ``block d r^5`` with the bond dimension ``r``.

    Parameters
    ----------
    mps : TensorTrain
        A state with equal physical dimensions on the two blocks.
    block : int
        Block length ``L`` (even recommended: the rotations' on-site phases cancel).
    start : int, optional
        First site of ``I1``; default centres the two blocks in the chain.
    rotations : (array, array), optional
        The two commuting on-site symmetries applied on I1 and I2; default
        ``(exp(i pi S^x), exp(i pi S^z))`` for spin 1.
    return_parts : bool
        Also return the numerator and the denominator (each divided by ``<psi|psi>``).

    Returns
    -------
    float (or complex for complex data), or (value, numerator, denominator).
    """
    if not isinstance(mps, TensorTrain):
        raise TypeError(f"mps: expected a TensorTrain, got {type(mps).__name__}")
    n = mps.ndim
    block = as_int(block, "block", minimum=1)
    if 2 * block > n:
        raise ValueError(f"block: two blocks of {block} sites do not fit in {n} sites")
    if start is None:
        start = (n - 2 * block) // 2
    start = as_int(start, "start", minimum=0)
    if start + 2 * block > n:
        raise ValueError(f"start: blocks [{start}, {start + 2 * block}) exceed the {n} sites")
    i1 = list(range(start, start + block))
    i2 = list(range(start + block, start + 2 * block))
    if any(mps.shape[a] != mps.shape[b] for a, b in zip(i1, i2)):
        raise ValueError("mps: the two blocks must have equal physical dimensions site by site")
    if rotations is None:
        rx, rz = _S1["Rx"], _S1["Rz"]
        if mps.shape[start] != 3:
            raise ValueError("rotations: required for physical dimensions other than 3")
    else:
        rx, rz = rotations
    rx = [_check_op(rx, mps.shape[k], "rotations[0]") for k in i1]
    rz = [_check_op(rz, mps.shape[k], "rotations[1]") for k in i2]
    psi = mps.canonicalize(start)
    c = psi.cores[start]
    nrm2 = float(np.vdot(c, c).real)
    if nrm2 == 0:
        raise ValueError("mps: the zero state has no order parameter")
    k1 = [psi.cores[k] for k in i1]
    k2 = [psi.cores[k] for k in i2]

    def swapped(ops1, ops2):
        # ket I1 (with ops1) against bra I2, and ket I2 (with ops2) against bra I1; the left and
        # right environments of the mixed-canonical form are identities
        m1 = _pair_transfer(k1, k2, ops1)  # [a, b', b, c']
        m2 = _pair_transfer(k2, k1, ops2)  # [b, a', c, b']
        return np.einsum("ajbc,bacj->", m1, m2, optimize=True) / nrm2

    num = swapped(rx, rz)
    den = swapped([None] * block, [None] * block)
    if den == 0:
        raise ValueError("spt_order: the untwisted swap has zero expectation; the order is undefined")
    val = num / den
    if not np.iscomplexobj(val) or abs(np.imag(val)) == 0:
        val, num, den = float(np.real(val)), float(np.real(num)), float(np.real(den))
    return (val, num, den) if return_parts else val


def _monomial(op, name):
    """(row of the nonzero entry, its value) for every column of a generalized permutation matrix."""
    op = np.asarray(op)
    nz = op != 0
    if op.ndim != 2 or op.shape[0] != op.shape[1] or not np.all(nz.sum(axis=0) == 1):
        raise ValueError(f"{name}: expected a square matrix with one nonzero entry per column (a signed permutation)")
    rows = np.argmax(nz, axis=0)
    return rows, op[rows, np.arange(op.shape[1])]


def spt_order_sampled(amplitude, x, block: int = 10, start: int | None = None, rotations=None):
    """The order parameter of :func:`spt_order` for a state given only by its amplitudes, by
    Monte Carlo over samples ``x`` of ``|phi|^2`` (e.g. a neural network's own samples).

    The twisted swap ``A = SWAP (prod_{I1} R^x) (prod_{I2} R^z)`` maps every configuration to one
    configuration with a sign (the rotations of spin 1 are signed permutations), ``A|s> = c(s)
    |T s>``, so for a real ``phi``: ``<phi|A|phi> / <phi|phi> = E_{s ~ |phi|^2}[c(s) phi(T s) /
    phi(s)]``, and likewise the untwisted swap; the order is the ratio of the two means.

    Parameters
    ----------
    amplitude : callable
        ``amplitude(x)`` with ``x`` an int64 (B, n) array returns the (B,) real amplitudes.
    x : array_like of int, shape (N, n)
        Samples of ``|phi(s)|^2`` (normalized or not).
    block, start, rotations : as in :func:`spt_order` (``rotations`` must be signed permutations).

    Returns
    -------
    (value, standard error): the ratio of the two sample means and its delta-method error.
    """
    x = np.asarray(x)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer) or len(x) < 2:
        raise ValueError(f"x: expected at least two integer configurations of shape (N, n), got {x.dtype} {x.shape}")
    n = x.shape[1]
    block = as_int(block, "block", minimum=1)
    if 2 * block > n:
        raise ValueError(f"block: two blocks of {block} sites do not fit in {n} sites")
    start = (n - 2 * block) // 2 if start is None else as_int(start, "start", minimum=0)
    if start + 2 * block > n:
        raise ValueError(f"start: blocks [{start}, {start + 2 * block}) exceed the {n} sites")
    rx, rz = (_S1["Rx"], _S1["Rz"]) if rotations is None else rotations
    (px, vx), (pz, vz) = _monomial(rx, "rotations[0]"), _monomial(rz, "rotations[1]")
    if x.min() < 0 or x.max() >= len(px) or len(px) != len(pz):
        raise ValueError(f"x: expected indices in [0, {len(px)}) matching the rotations")
    i1, i2 = slice(start, start + block), slice(start + block, start + 2 * block)
    phi = np.asarray(amplitude(x), dtype=np.float64)
    if phi.shape != (len(x),) or not np.all(np.isfinite(phi)):
        raise ValueError("amplitude: expected finite (N,) values at the samples")
    if np.any(phi == 0):
        raise ValueError("x: a sample has amplitude 0, so it is not a sample of |phi|^2")
    swap = x.copy()
    swap[:, i1], swap[:, i2] = x[:, i2], x[:, i1]
    twisted = x.copy()
    twisted[:, i1], twisted[:, i2] = pz[x[:, i2]], px[x[:, i1]]
    sign = np.prod(vx[x[:, i1]], axis=1) * np.prod(vz[x[:, i2]], axis=1)
    num = sign * np.asarray(amplitude(twisted), dtype=np.float64) / phi
    den = np.asarray(amplitude(swap), dtype=np.float64) / phi
    mn, md = float(num.mean()), float(den.mean())
    if md == 0:
        raise ValueError("spt_order_sampled: the untwisted swap averages to zero; the order is undefined")
    val = mn / md
    c = np.cov(num, den)
    var = (c[0, 0] - 2 * val * c[0, 1] + val ** 2 * c[1, 1]) / (len(x) * md ** 2)
    return val, float(np.sqrt(max(var, 0.0)))


def transfer_matrix(core) -> np.ndarray:
    """``E[(a, a'), (b, b')] = sum_s A[a, s, b] conj(A[a', s, b'])`` of one core (r^2 x r^2)."""
    a = as_array(core, "core", ndim=3)
    r0, _, r1 = a.shape
    return np.einsum("asb,csd->acbd", a, np.conj(a)).reshape(r0 * r0, r1 * r1)


def correlation_length(core) -> float:
    """``xi = -1 / ln |lambda_2 / lambda_1|`` from the two largest eigenvalue moduli of the
    transfer matrix of a bulk core (a translation-invariant MPS: the core repeats with the
    same gauge on both bonds).  ``inf`` for a degenerate leading eigenvalue, 0 for rank 1."""
    a = as_array(core, "core", ndim=3)
    if a.shape[0] != a.shape[2]:
        raise ValueError(f"core: expected equal left and right bonds, got shape {a.shape}")
    ev = np.sort(np.abs(np.linalg.eigvals(transfer_matrix(a))))[::-1]
    if ev.size < 2 or ev[1] == 0:
        return 0.0
    if ev[1] >= ev[0]:
        return float("inf")
    return float(-1.0 / np.log(ev[1] / ev[0]))


# ---- MPO Hamiltonians ------------------------------------------------------------------------
def nearest_neighbour_mpo(n: int, onsite=None, couplings=()) -> MPO:
    """MPO of ``H = sum_i h_i + sum_i sum_t A^t_i B^t_{i+1}`` on ``n`` equal sites.

    Parameters
    ----------
    n : int, >= 2
    onsite : (d, d) array, optional
        ``h`` on every site.
    couplings : sequence of ((d, d), (d, d)) pairs
        Two-site terms ``A^t (x) B^t`` on every bond.

    Returns
    -------
    MPO with bond dimension ``2 + len(couplings)`` (the usual lower-triangular automaton:
    state 0 = nothing placed yet, ``1 + t`` = ``A^t`` placed, last = done).
    """
    n = as_int(n, "n", minimum=2)
    couplings = list(couplings)
    if onsite is None and not couplings:
        raise ValueError("onsite and couplings: the Hamiltonian has no terms")
    mats = ([onsite] if onsite is not None else []) + [m for pair in couplings for m in pair]
    d = as_array(mats[0], "onsite" if onsite is not None else "couplings[0][0]", ndim=2).shape[0]
    h = np.zeros((d, d)) if onsite is None else _check_op(onsite, d, "onsite")
    pairs = []
    for t, pair in enumerate(couplings):
        if len(pair) != 2:
            raise ValueError(f"couplings[{t}]: expected a pair (A, B)")
        pairs.append((_check_op(pair[0], d, f"couplings[{t}][0]"), _check_op(pair[1], d, f"couplings[{t}][1]")))
    dtype = np.result_type(h, *[m for p in pairs for m in p])
    w = len(pairs) + 2
    core = np.zeros((w, d, d, w), dtype=dtype)
    core[0, :, :, 0] = np.eye(d)
    core[w - 1, :, :, w - 1] = np.eye(d)
    core[0, :, :, w - 1] = h
    for t, (a, b) in enumerate(pairs):
        core[0, :, :, 1 + t] = a
        core[1 + t, :, :, w - 1] = b
    cores = [core.copy() for _ in range(n)]
    cores[0] = core[:1].copy()
    cores[-1] = core[:, :, :, w - 1:].copy()
    return MPO(cores, copy=False)


def _heisenberg_pairs(jxy: float, jz: float):
    """``jxy (Sx Sx + Sy Sy) + jz Sz Sz`` as real pairs: ``Sx Sx + Sy Sy = (S+ S- + S- S+) / 2``."""
    pairs = []
    if jz != 0:
        pairs.append((jz * _S1["Sz"], _S1["Sz"]))
    if jxy != 0:
        pairs.append((0.5 * jxy * _S1["Sp"], _S1["Sm"]))
        pairs.append((0.5 * jxy * _S1["Sm"], _S1["Sp"]))
    return pairs


def spin1_chain(n: int, D: float = 0.0, J: float = 1.0, Jz: float = 1.0, hz: float = 0.0) -> MPO:
    """The spin-1 chain with single-ion anisotropy,
    ``H = J sum_i (S^x_i S^x_{i+1} + S^y_i S^y_{i+1} + Jz S^z_i S^z_{i+1}) + D sum_i (S^z_i)^2
    - hz sum_i S^z_i`` (open boundary), as an MPO of bond dimension 5 (real).

    For ``J = Jz = 1`` the Haldane phase (small D) ends at ``D_c = 0.96847`` (a Gaussian transition
    to the trivial large-D phase; Tzeng et al., arXiv:1705.01558)."""
    onsite = float(D) * (_S1["Sz"] @ _S1["Sz"]) - float(hz) * _S1["Sz"]
    return nearest_neighbour_mpo(n, onsite, _heisenberg_pairs(float(J), float(J) * float(Jz)))


def bilinear_biquadratic(n: int, beta: float | None = None, theta: float | None = None, J: float = 1.0) -> MPO:
    """The bilinear-biquadratic spin-1 chain, ``H = J sum_i [S_i.S_{i+1} + beta (S_i.S_{i+1})^2]``,
    or with ``theta``: ``sum_i [cos(theta) S_i.S_{i+1} + sin(theta) (S_i.S_{i+1})^2]``
    (give exactly one).  ``beta = 1/3`` is the AKLT Hamiltonian with ground energy
    ``-2/3`` per bond; ``beta = 0`` the Heisenberg chain.  MPO bond dimension 14 (real).
    """
    if (beta is None) == (theta is None):
        raise ValueError("beta and theta: give exactly one of them")
    if theta is not None:
        c1, c2 = float(np.cos(theta)), float(np.sin(theta))
    else:
        c1, c2 = float(J), float(J) * float(beta)
    # S.S = sum_t P_t (x) Q_t with P = (Sz, S+, S-), Q = (Sz, S-/2, S+/2)
    p = [_S1["Sz"], _S1["Sp"], _S1["Sm"]]
    q = [_S1["Sz"], 0.5 * _S1["Sm"], 0.5 * _S1["Sp"]]
    pairs = [(c1 * a, b) for a, b in zip(p, q)] if c1 != 0 else []
    if c2 != 0:  # (S.S)^2 = sum_{t,u} (P_t P_u) (x) (Q_t Q_u)
        pairs += [(c2 * (p[t] @ p[u]), q[t] @ q[u]) for t in range(3) for u in range(3)]
    return nearest_neighbour_mpo(n, None, pairs)
