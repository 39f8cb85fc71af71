"""Two-site DMRG: the ground state of a Hamiltonian given as an MPO, as a tensor train.

Environments are contracted with numpy; the two-site eigenproblem is solved matrix-free by
Lanczos (full reorthogonalization, restarted, started from the current two-site tensor, so
that late sweeps converge in a few steps) or, for small local spaces, by dense
diagonalization.  The split keeps at most
``bond_dim`` singular values and cuts at most ``cutoff**2`` of the squared weight
(``sqrt(sum of discarded s^2) <= cutoff * ||s||``, the convention of :func:`tnfast.tt_rss`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ._truncation import truncation_rank
from ._ui import progress as _progress
from ._validate import as_float, as_int
from .mpo import MPO
from .tensortrain import TensorTrain

__all__ = ["dmrg", "DMRGInfo", "mpo_expectation"]

_DENSE_MAX = 48  # local problems up to this size are diagonalized densely


@dataclass
class DMRGInfo:
    """Diagnostics of a :func:`dmrg` run.

    Attributes
    ----------
    energies : list of float
        Energy at the end of every sweep (a sweep = left-to-right and back).
    discarded : list of float
        Per sweep, the largest discarded weight ``sum s_cut^2 / sum s^2`` of a split.
    bond_dims : tuple of int
        Internal bond dimensions of the result.
    converged : bool
        Whether the energy changed by less than ``tol`` (relative) in the last sweep.
    sweeps : int
        Sweeps done.
    time_s : float
    """

    energies: list = field(default_factory=list)
    discarded: list = field(default_factory=list)
    bond_dims: tuple = ()
    converged: bool = False
    sweeps: int = 0
    time_s: float = 0.0


def _left_env(env, a, w):
    """env[a, w, a'] (ket, mpo, bra) through one site: ket core a (r, d, r'), mpo w (v, i, j, v')."""
    t = np.tensordot(env, a, axes=([0], [0]))  # (w, a', j, r')
    t = np.tensordot(t, w, axes=([0, 2], [0, 2]))  # (a', r', i, v')
    t = np.tensordot(t, np.conj(a), axes=([0, 2], [0, 1]))  # (r', v', b')
    return t


def _right_env(env, a, w):
    """env[b, v, b'] (ket, mpo, bra) through one site from the right."""
    t = np.tensordot(a, env, axes=([2], [0]))  # (r, j, v', b')
    t = np.tensordot(t, w, axes=([1, 2], [2, 3]))  # (r, b', v, i)
    t = np.tensordot(t, np.conj(a), axes=([1, 3], [2, 1]))  # (r, v, r'')
    return t


def mpo_expectation(H: MPO, psi: TensorTrain) -> float:
    """``<psi|H|psi> / <psi|psi>`` by one environment sweep (``O(n r^3 w d + n r^2 w^2 d^2)``)."""
    _check_pair(H, psi)
    env = np.ones((1, 1, 1), dtype=np.result_type(H.dtype, psi.dtype))
    for a, w in zip(psi.cores, H.cores):
        env = _left_env(env, a, w)
    val = env[0, 0, 0] / psi.dot(psi)
    return float(np.real(val))


def _check_pair(H, psi):
    if not isinstance(H, MPO):
        raise TypeError(f"H: expected an MPO, got {type(H).__name__}")
    if not isinstance(psi, TensorTrain):
        raise TypeError(f"psi: expected a TensorTrain, got {type(psi).__name__}")
    if H.row_dims != H.col_dims:
        raise ValueError(f"H: expected a square operator site by site, got rows {H.row_dims} and cols {H.col_dims}")
    if psi.shape != H.col_dims:
        raise ValueError(f"psi: its shape {psi.shape} differs from the operator's dims {H.col_dims}")


def _split(theta, bond_dim, cutoff, direction):
    """SVD of theta (rl, d1, d2, rr); returns (left core, right core, discarded weight)."""
    rl, d1, d2, rr = theta.shape
    u, s, vt = np.linalg.svd(theta.reshape(rl * d1, d2 * rr), full_matrices=False)
    tot = float(np.sum(s ** 2))
    numerical = int(np.sum(s > s[0] * 1e-14)) if s[0] > 0 else 1  # values above the noise floor
    k, _ = truncation_rank(s, max_rank=max(1, min(bond_dim, numerical)), rel_tol=cutoff)
    disc = float(np.sum(s[k:] ** 2) / tot) if tot > 0 else 0.0
    u, s, vt = u[:, :k], s[:k] / np.linalg.norm(s[:k]), vt[:k]
    if direction == "right":  # centre moves right: left core orthogonal
        return u.reshape(rl, d1, k), (s[:, None] * vt).reshape(k, d2, rr), disc
    return (u * s).reshape(rl, d1, k), vt.reshape(k, d2, rr), disc


def _local_ground(L, w1, w2, R, theta, lanczos_tol, maxiter):
    """Lowest eigenpair of the two-site effective Hamiltonian."""
    shape = theta.shape
    dim = theta.size

    def matvec(x):
        t = x.reshape(shape)
        y = np.tensordot(L, t, axes=([0], [0]))  # (w, a', s, t, c)
        y = np.tensordot(y, w1, axes=([0, 2], [0, 2]))  # (a', t, c, s', v)
        y = np.tensordot(y, w2, axes=([4, 1], [0, 2]))  # (a', c, s', t', u)
        y = np.tensordot(y, R, axes=([1, 4], [0, 1]))  # (a', s', t', c')
        return y.reshape(-1)

    if dim <= _DENSE_MAX:
        m = np.stack([matvec(e) for e in np.eye(dim, dtype=theta.dtype)], axis=1)
        m = 0.5 * (m + m.conj().T)
        w, v = np.linalg.eigh(m)
        return float(w[0]), v[:, 0].reshape(shape), dim
    e, v, nmv = _lanczos(matvec, theta.reshape(-1), lanczos_tol, maxiter)
    return e, v.reshape(shape), nmv


def _lanczos(matvec, v0, tol, maxiter):
    """Lowest eigenpair of a Hermitian operator by Lanczos with full reorthogonalization,
    restarted from the Ritz vector; stops when the residual norm ``||H v - e v||`` is below
    ``tol * max(1, |e|)`` (``v0`` is the start: a good guess converges in a few steps)."""
    dim = v0.size
    krylov = min(dim, 24)
    maxiter = maxiter or 8
    rng = np.random.default_rng(0)
    v = v0.copy()
    nv = np.linalg.norm(v)
    if nv == 0:
        v = rng.standard_normal(dim).astype(v0.dtype)
        nv = np.linalg.norm(v)
    v = v / nv
    nmv = 0
    e = np.inf
    for _ in range(maxiter):
        basis = [v]
        alpha, beta = [], []
        w = matvec(v)
        nmv += 1
        for j in range(krylov):
            a = np.vdot(basis[j], w).real
            alpha.append(a)
            w = w - a * basis[j] - (beta[-1] * basis[j - 1] if j > 0 else 0)
            bmat = np.array(basis)  # full reorthogonalization
            w = w - bmat.T @ (bmat.conj() @ w)
            b = np.linalg.norm(w)
            if j + 1 == krylov or b < 1e-13 * max(1.0, abs(a)):
                break
            beta.append(b)
            basis.append(w / b)
            w = matvec(basis[-1])
            nmv += 1
        t = np.diag(alpha) + np.diag(beta[:len(alpha) - 1], 1) + np.diag(beta[:len(alpha) - 1], -1)
        evals, evecs = np.linalg.eigh(t)
        e = float(evals[0])
        v = np.array(basis[:len(alpha)]).T @ evecs[:, 0]
        v = v / np.linalg.norm(v)
        r = matvec(v) - e * v
        nmv += 1
        if np.linalg.norm(r) <= tol * max(1.0, abs(e)) or len(alpha) < krylov:
            break
    return e, v, nmv


def dmrg(H: MPO, bond_dim: int = 32, sweeps: int = 10, cutoff: float = 1e-10, tol: float = 1e-10,
         init: TensorTrain | None = None, seed=None, lanczos_tol: float = 1e-8, maxiter: int | None = None,
         progress: bool = False, return_info: bool = False):
    """Ground state of an MPO Hamiltonian by two-site DMRG.

    Each sweep optimizes the bonds ``(k, k+1)`` left to right and back: the two-site tensor is
    the lowest eigenvector of the effective Hamiltonian (environments ``L``, ``R``), split by SVD
    with at most ``bond_dim`` singular values and a relative discarded norm of at most ``cutoff``.
    Stops after ``sweeps`` sweeps or when the energy changes by less than ``tol * max(1, |E|)``.

    Parameters
    ----------
    H : MPO
        Hermitian operator with square cores ``(w, d, d, w')``.
    bond_dim : int
        Maximal bond dimension of the state.
    sweeps : int
        Maximal number of sweeps.
    cutoff : float
        Relative discarded norm allowed per split.
    tol : float
        Relative energy change that ends the sweeps.
    init : TensorTrain, optional
        Starting state (default: random with bond ``min(bond_dim, 8)``, from ``seed``).
    seed : int or numpy Generator, optional
    lanczos_tol : float
        Local problems: Lanczos stops when ``||H v - e v|| <= lanczos_tol * max(1, |e|)``
        (looser in the first sweeps: ``max(lanczos_tol, 1e-3 * 0.01**sweep)``).
    maxiter : int, optional
        Local problems: at most this many Lanczos restarts (of 24 steps; default 8).
    progress : bool
        A progress bar over the sweeps (tqdm; without it, a notice says once that none is shown).
    return_info : bool

    Returns
    -------
    energy : float
    psi : TensorTrain
        Normalized; every core but the first is right-orthogonal (the last sweep ends at the left).
        ``energy`` is ``<psi|H|psi>`` of this (truncated) state.
    info : DMRGInfo, only when ``return_info``.
    """
    t_start = time.perf_counter()
    if not isinstance(H, MPO):
        raise TypeError(f"H: expected an MPO, got {type(H).__name__}")
    n = H.ndim
    if n < 2:
        raise ValueError("H: two-site DMRG needs at least 2 sites")
    bond_dim = as_int(bond_dim, "bond_dim", minimum=1)
    sweeps = as_int(sweeps, "sweeps", minimum=1)
    cutoff = as_float(cutoff, "cutoff", minimum=0.0)
    tol = as_float(tol, "tol", minimum=0.0)
    lanczos_tol = as_float(lanczos_tol, "lanczos_tol", minimum=0.0)
    maxiter = as_int(maxiter, "maxiter", minimum=1, allow_none=True)
    if init is None:
        psi = TensorTrain.random(H.col_dims, min(bond_dim, 8), dtype=H.dtype, seed=seed)
    else:
        psi = init
    _check_pair(H, psi)
    if psi.norm() == 0:
        raise ValueError("init: the zero state cannot start DMRG")
    dtype = np.result_type(H.dtype, psi.dtype)
    psi = psi.astype(dtype).canonicalize(0)
    cores = [c.copy() for c in psi.cores]
    cores[0] = cores[0] / np.linalg.norm(cores[0])
    W = [w.astype(dtype) for w in H.cores]
    one = np.ones((1, 1, 1), dtype=dtype)
    Ls = [one] + [None] * n
    Rs = [None] * n + [one]
    for k in range(n - 1, 0, -1):
        Rs[k] = _right_env(Rs[k + 1], cores[k], W[k])
    info = DMRGInfo()
    energy = np.inf
    bar = _progress(total=sweeps, desc="dmrg", leave=False) if progress else None
    for sweep in range(sweeps):
        max_disc = 0.0
        e = energy
        # early sweeps need no precise local solutions (their environments are still poor)
        ltol = max(lanczos_tol, 1e-3 * 0.01 ** sweep)
        for k in range(n - 1):  # left to right
            theta = np.tensordot(cores[k], cores[k + 1], axes=([2], [0]))
            e, theta, _ = _local_ground(Ls[k], W[k], W[k + 1], Rs[k + 2], theta, ltol, maxiter)
            cores[k], cores[k + 1], disc = _split(theta, bond_dim, cutoff, "right")
            max_disc = max(max_disc, disc)
            Ls[k + 1] = _left_env(Ls[k], cores[k], W[k])
        for k in range(n - 2, -1, -1):  # right to left
            theta = np.tensordot(cores[k], cores[k + 1], axes=([2], [0]))
            e, theta, _ = _local_ground(Ls[k], W[k], W[k + 1], Rs[k + 2], theta, ltol, maxiter)
            cores[k], cores[k + 1], disc = _split(theta, bond_dim, cutoff, "left")
            max_disc = max(max_disc, disc)
            Rs[k + 1] = _right_env(Rs[k + 2], cores[k + 1], W[k + 1])
        info.energies.append(float(e))
        info.discarded.append(max_disc)
        info.sweeps = sweep + 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(E=f"{e:.10f}", disc=f"{max_disc:.1e}")
        if abs(e - energy) <= tol * max(1.0, abs(e)):
            info.converged = True
            energy = e
            break
        energy = e
    if bar is not None:
        bar.close()
    if not np.isfinite(energy):
        raise RuntimeError("dmrg: the energy is not finite (is H Hermitian and finite?)")
    psi = TensorTrain(cores, copy=False)
    energy = mpo_expectation(H, psi)
    info.bond_dims = psi.bond_dims
    info.time_s = time.perf_counter() - t_start
    return (float(energy), psi, info) if return_info else (float(energy), psi)
