"""Gauge obfuscation of tensor networks, and the property-inference attacker that tests it.

A tensor train computes the same tensor (hence the same function) after any change of basis on a
bond, ``G_k -> G_k X`` and ``G_{k+1} -> X^{-1} G_{k+1}``.  The cores a training run ends with
therefore carry information the function does not need, e.g. traces of the data and of the
optimizer's path; a white-box attacker reads the cores.  Two ways to remove that freedom:

- :func:`random_gauge` puts a Haar-random orthogonal (real trains) or unitary (complex trains)
  matrix and its inverse on every bond: the cores become random, the function stays, to
  rounding (Work 1's "private TT");
- :func:`canonical_gauge` goes further and fixes every bond's basis by the tensor alone: two
  trains that compute the same tensor end with the same cores (up to rounding), whatever the
  gauge they started in, so the cores say nothing beyond the function.
- :func:`obfuscate` is the form to release: the balanced canonical form (every bond's Schmidt
  values split as square roots on its two sides), then a random gauge.  Its cores are random with
  a distribution fixed by the function alone, and it keeps the function to rounding where the
  plain canonical form, rotated, can lose many digits (see :func:`canonical_gauge`).

Why the random gauge alone is not enough: an orthogonal gauge keeps every core's Frobenius norm
(and the norms and singular values of its slices and unfoldings), and those depend on the gauge
training ended in.  On retrained MPS of MNIST classifiers they told the two training-set mixes
apart as well as the sorted core entries did (94 % at p = 0.1); the canonical step makes them a
function of the function.

Both act on :class:`~tnfast.TensorTrain`, :class:`~tnfast.MPO` and, when PyTorch is present, on
:class:`tnfast.nn.MPSModel`, :class:`tnfast.nn.MPOLinear` and :class:`tnfast.nn.MPOConv2d`
(an MPO's core ``(r, i, j, r')`` is an MPS core of physical dimension ``i j``; the bias is not
touched).  They return a new object and leave the input unchanged.

The attacker (:func:`attack_accuracy`, :func:`white_box_features`, :func:`black_box_features`):
logistic regression (scikit-learn) with k-fold cross-validation that predicts a binary property
of a model's training set from its parameters (white box) or from its outputs on fixed queries
(black box).

The canonical form (what :func:`canonical_gauge` computes)
---------------------------------------------------------
Bond ``k`` (between sites ``k`` and ``k + 1``) of a tensor ``T`` carries the Schmidt
decomposition of the unfolding ``T[(i_1..i_{k+1}), (i_{k+2}..i_n)] = sum_a s_a u_a v_a^H``.
With orthogonality center ``c``, the cores left of ``c`` are left-orthogonal and span, bond by
bond, the left Schmidt vectors ``u_a`` (bonds left of ``c``); the cores right of ``c`` are
right-orthogonal and span the right Schmidt vectors ``v_a`` (bonds right of ``c``); the center
core holds the rest.  Each ``u_a`` lives in the space spanned by the previous bond's (already
fixed) basis times site ``k``'s index, of dimension ``r_{k-1} d_k``, and is written in those
local coordinates (the left core's slice ``[:, :, a]``).  What is left to fix:

1. *Rank.*  Schmidt values ``s_a <= zero_tol * ||T||`` are dropped (they are round-off of a
   bond larger than the tensor needs): the bond takes the numerical rank, and the function
   moves by at most ``zero_tol * ||T||`` per bond, in the Frobenius norm of the tensor.
2. *Order.*  Schmidt vectors in the order of decreasing ``s_a``.
3. *Degenerate values.*  Consecutive Schmidt values closer than ``degeneracy_tol * s_1`` form
   one group, and a group's vectors are only defined as a subspace (any unitary mixes them).
   Every group, of any size, gets the same basis rule: the *pivoted projector basis*.  With
   ``P`` the orthogonal projector on the group's subspace (local coordinates), take the
   coordinate ``j`` with the largest ``||P e_j||`` (the first one within a relative
   ``degeneracy_tol`` of the largest, so ties go to the lowest index), the basis vector
   ``P e_j / ||P e_j||``, remove it from the subspace and repeat.  The basis depends on ``P``
   alone, hence on the tensor alone.
4. *Signs and phases.*  For a single vector the same rule gives ``u / phase(u_j)`` with ``j`` the
   largest entry: the largest local coordinate of every basis vector is real and positive.

Two trains of the same tensor agree core by core to about ``eps / gap`` where ``gap`` is the
smallest relative gap between the Schmidt values kept apart (``>= degeneracy_tol``); a gap or a
Schmidt value lying within rounding of a tolerance may be treated differently by the two copies
(the cores then still compute the same function but differ).  The input's gauge plays no role:
the form is reached by QR sweeps (any gauge) then one SVD per bond.  For an
:class:`~tnfast.nn.MPSModel` the cores determine the function and, for the built-in embeddings
(whose features are linearly independent functions), the function determines the cores: two
models that compute the same function get the same canonical cores.
"""

from __future__ import annotations

import copy
import sys

import numpy as np

from ._validate import as_array, as_float, as_int
from .mpo import MPO
from .tensortrain import TensorTrain

__all__ = ["random_gauge", "canonical_gauge", "obfuscate", "haar_unitary", "white_box_features", "black_box_features",
           "attack_accuracy"]


# ------------------------------------------------------------------------------------------------
# random matrices
def haar_unitary(n: int, dtype=np.float64, seed=None) -> np.ndarray:
    """A Haar-distributed ``n x n`` orthogonal (real dtype) or unitary (complex dtype) matrix.

    QR of a Gaussian matrix with the phases of ``R``'s diagonal moved into ``Q`` (Mezzadri 2007),
    which makes the distribution exactly Haar.

    Parameters
    ----------
    n : int >= 1
    dtype : float32, float64, complex64 or complex128
    seed : int, numpy Generator or None

    Returns
    -------
    ndarray, shape (n, n), of ``dtype``.
    """
    n = as_int(n, "n", minimum=1)
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        raise TypeError(f"dtype: expected a float or complex dtype, got {dtype}")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, n))
    if dtype.kind == "c":
        z = (z + 1j * rng.standard_normal((n, n))) / np.sqrt(2.0)
    q, r = np.linalg.qr(z)
    d = np.diagonal(r)
    ph = d / np.where(np.abs(d) > 0, np.abs(d), 1.0)
    return (q * ph[None, :]).astype(dtype)


# ------------------------------------------------------------------------------------------------
# what the gauges act on: a list of 3-d cores (r, d, r'), and how to put the result back
def _work_dtype(dtype) -> np.dtype:
    return np.dtype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64)


def _unpack(obj):
    """(cores as (r, d, r') float64/complex128 arrays, original dtype, rebuild(cores) -> object)."""
    if isinstance(obj, TensorTrain):
        cores = [np.asarray(c) for c in obj.cores]
        dtype = obj.dtype
        wd = _work_dtype(dtype)
        return ([c.astype(wd) for c in cores], dtype,
                lambda new: type(obj)([c.astype(dtype) for c in new], copy=False))
    if isinstance(obj, MPO):
        shapes = [c.shape for c in obj.cores]
        dtype = obj.cores[0].dtype
        wd = _work_dtype(dtype)
        cores = [c.reshape(s[0], s[1] * s[2], s[3]).astype(wd) for c, s in zip(obj.cores, shapes)]

        def rebuild(new):
            return MPO([c.reshape(c.shape[0], s[1], s[2], c.shape[2]).astype(dtype) for c, s in zip(new, shapes)],
                       copy=False)
        return cores, dtype, rebuild
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return _unpack_module(obj, torch)
    raise TypeError(f"tt: expected a TensorTrain, an MPO, an MPSModel, an MPOLinear or an MPOConv2d, "
                    f"got {type(obj).__name__}")


def _unpack_module(obj, torch):
    from .nn.mpo_layers import MPOConv2d, MPOLinear
    from .nn.mps_model import MPSModel

    if isinstance(obj, MPSModel):
        cores = [c.detach().cpu().numpy().astype(np.float64) for c in obj.cores]

        def rebuild(new):
            out = copy.deepcopy(obj)
            out._set_cores(new)
            # the record of the fit (sample values per input, pivots' error, notes) describes the
            # training samples: a released, obfuscated model does not carry it
            out.domains = None
            out.info = None
            return out
        return cores, obj.cores[0].dtype, rebuild
    if isinstance(obj, (MPOLinear, MPOConv2d)):
        layer = obj.mpo if isinstance(obj, MPOConv2d) else obj
        shapes = [tuple(c.shape) for c in layer.cores]
        ref = layer.cores[0]
        cores = [c.detach().cpu().numpy().astype(np.float64).reshape(s[0], s[1] * s[2], s[3])
                 for c, s in zip(layer.cores, shapes)]

        def rebuild(new):
            out = copy.deepcopy(obj)
            target = out.mpo if isinstance(out, MPOConv2d) else out
            ts = [torch.as_tensor(c.reshape(c.shape[0], s[1], s[2], c.shape[2]), dtype=ref.dtype, device=ref.device)
                  for c, s in zip(new, shapes)]
            target._set_cores(ts)
            for p in target.cores:
                p.requires_grad_(ref.requires_grad)
            return out
        return cores, ref.dtype, rebuild
    raise TypeError(f"tt: expected a TensorTrain, an MPO, an MPSModel, an MPOLinear or an MPOConv2d, "
                    f"got {type(obj).__name__}")


def _check_finite(cores) -> None:
    for k, c in enumerate(cores):
        if not np.all(np.isfinite(c)):
            raise ValueError(f"tt: core {k} holds NaN or Inf")


# ------------------------------------------------------------------------------------------------
# random gauge
def random_gauge(tt, seed=None, *, canonical: bool = False):
    """Insert a Haar-random orthogonal/unitary matrix and its inverse on every bond.

    ``G_k -> G_k Q_k`` and ``G_{k+1} -> Q_k^H G_{k+1}`` for every inner bond ``k``, with
    independent Haar ``Q_k`` (real orthogonal for real cores, unitary for complex ones).  The
    represented tensor, hence the function of a model, is unchanged up to rounding: relative
    ``~1e-15`` in float64 (``~1e-7`` in float32) times the cancellation already present between
    the cores (``prod_k ||G_k|| / ||T||`` of a well-scaled train is small; a train brought into a
    badly conditioned gauge has already lost as many digits itself).  The bond dimensions are
    kept.

    An orthogonal gauge keeps what is invariant under it: every core's Frobenius norm, the norm
    and singular values of every slice ``G_k[:, i, :]``, the singular values of both unfoldings
    of every core.  These depend on the gauge training left the cores in, and a white-box
    attacker reads them (on trained MNIST models the per-core norms alone told the training
    sets apart 94 % of the time, as well as the sorted core entries did).  ``canonical=True``
    first brings the train to the balanced :func:`canonical_gauge`, where every one of those
    invariants is fixed by the function alone, then applies the random gauge: that is
    :func:`obfuscate`.

    Parameters
    ----------
    tt : TensorTrain, MPO, or (with PyTorch) MPSModel, MPOLinear, MPOConv2d
    seed : int, numpy Generator or None
    canonical : bool
        Start from the balanced canonical form (default False: from the cores as they are).

    Returns
    -------
    An object of the same type and dtype (a copy).  For an :class:`~tnfast.nn.MPSModel`, the
    record of its fit (``domains``: the sample values per input; ``info``) is dropped.
    """
    if canonical:
        tt = canonical_gauge(tt, balanced=True)
    cores, _, rebuild = _unpack(tt)
    _check_finite(cores)
    rng = np.random.default_rng(seed)
    for k in range(len(cores) - 1):
        r = cores[k].shape[2]
        q = haar_unitary(r, cores[k].dtype, rng)
        cores[k] = np.tensordot(cores[k], q, axes=(2, 0))
        cores[k + 1] = np.tensordot(q.conj().T, cores[k + 1], axes=(1, 0))
    return rebuild(cores)


def obfuscate(tt, seed=None, *, center: int | None = None, zero_tol: float | None = None,
              degeneracy_tol: float | None = None):
    """The released form of a model: balanced canonical gauge, then a Haar-random gauge.

    ``random_gauge(canonical_gauge(tt, center, balanced=True), seed)``.  What it hides, and what
    it cannot:

    - *Hidden: everything the gauge freedom carries.*  The canonical step is a function of the
      represented tensor (the model's function) alone, and the Haar matrices are drawn
      independently of it, so the released cores are a random variable whose distribution
      depends on the function alone: two trains of the same function (any gauge, any redundant
      bond dimensions) give the same cores for the same ``seed``.  Whatever training left in the
      gauge (per-core norms, the scale on each bond, where the orthogonality center was) is gone.
    - *Not hidden: whatever the function itself tells.*  The cores compute the function, so a
      white-box attacker can always do what a black-box one does (evaluate the model), and more:
      bring the cores back to the canonical form and read function-determined statistics such
      as how strongly each input enters (the norms of the slices ``G_k[:, i, :]`` of the
      canonical cores).  The best white-box attack on the obfuscated form is the best attack
      on the function; when the function leaks the property (a black-box attack far above
      chance), so does this form.

    The function is kept to rounding (see :func:`canonical_gauge`'s ``balanced``), but for
    Schmidt values below ``zero_tol * ||T||``, which are dropped.

    Parameters
    ----------
    tt : TensorTrain, MPO, or (with PyTorch) MPSModel, MPOLinear, MPOConv2d
    seed : int, numpy Generator or None
        Of the Haar matrices.
    center, zero_tol, degeneracy_tol
        As in :func:`canonical_gauge`.

    Returns
    -------
    An object of the same type and dtype (a copy); its bonds may be smaller than the input's.
    For an :class:`~tnfast.nn.MPSModel`, the record of its fit (``domains``, ``info``) is dropped.
    """
    can = canonical_gauge(tt, center, zero_tol=zero_tol, degeneracy_tol=degeneracy_tol, balanced=True)
    return random_gauge(can, seed)


# ------------------------------------------------------------------------------------------------
# canonical gauge
def _first_near_max(w: np.ndarray, tol: float) -> int:
    """Index of the first entry within a relative ``tol`` of the largest (ties: lowest index)."""
    return int(np.flatnonzero(w >= (1.0 - tol) * w.max())[0])


def pivoted_projector_basis(Y: np.ndarray, tol: float) -> np.ndarray:
    """The orthonormal basis of ``span(Y)`` fixed by the subspace alone (see the module notes).

    Parameters
    ----------
    Y : ndarray (N, m) with orthonormal columns
    tol : float
        Relative tolerance of the ties between row norms.

    Returns
    -------
    ndarray (N, m): columns ``P e_j / ||P e_j||`` for successive pivots ``j``, each with a real
    positive entry at its pivot.
    """
    m = Y.shape[1]
    out = np.empty_like(Y)
    for t in range(m):
        w = np.sum(np.abs(Y) ** 2, axis=1)
        j = _first_near_max(w, tol)
        c = Y[j].conj() / np.sqrt(w[j])
        out[:, t] = Y @ c
        if t < m - 1:
            q, _ = np.linalg.qr(c[:, None], mode="complete")
            Y = Y @ q[:, 1:]
    return out


def _schmidt_step(core: np.ndarray, norm: float, zero_tol: float, deg_tol: float):
    """Canonical left core of one bond and what it leaves for the next core.

    ``core`` (r, d, r') is the orthogonality center, with left-orthonormal cores before it and
    right-orthonormal ones after.  Returns ``(A (r, d, m), carry (m, r'), s (m,))`` with
    ``core = A carry`` up to the dropped Schmidt values, and ``s`` the bond's Schmidt values with
    every degenerate group's values replaced by their mean (so that ``s`` is constant on the
    subspaces the basis rule fixes only as a whole)."""
    r, d, rr = core.shape
    M = core.reshape(r * d, rr)
    U, s, _ = np.linalg.svd(M, full_matrices=False)
    keep = s > zero_tol * norm
    keep[0] = True
    U, s = U[:, keep], s[keep]
    cuts = np.flatnonzero(s[:-1] - s[1:] > deg_tol * s[0]) + 1
    groups = np.split(np.arange(len(s)), cuts)
    W = np.concatenate([pivoted_projector_basis(U[:, g], deg_tol) for g in groups], axis=1)
    s_group = np.concatenate([np.full(len(g), s[g].mean()) for g in groups])
    return W.reshape(r, d, -1), W.conj().T @ M, s_group


def _default_tols(dtype, zero_tol, degeneracy_tol):
    single = str(dtype).replace("torch.", "") in ("float32", "complex64")
    zt = (1e-6 if single else 1e-12) if zero_tol is None else as_float(zero_tol, "zero_tol", minimum=0.0)
    dt = (1e-4 if single else 1e-8) if degeneracy_tol is None else as_float(degeneracy_tol, "degeneracy_tol",
                                                                            minimum=0.0)
    if dt >= 1:
        raise ValueError(f"degeneracy_tol: expected a number in [0, 1), got {dt}")
    return zt, dt


def canonical_cores(cores, center: int, zero_tol: float, degeneracy_tol: float, balanced: bool = False) -> list:
    """The canonical cores (see the module notes) of a list of (r, d, r') arrays; ``balanced``: the
    balanced canonical form (see :func:`canonical_gauge`)."""
    n = len(cores)
    cores = [np.array(c) for c in cores]
    # right-orthogonal sites n-1..1 (QR; any gauge): site 0 is the orthogonality center
    for k in range(n - 1, 0, -1):
        r, d, rr = cores[k].shape
        q, R = np.linalg.qr(cores[k].reshape(r, d * rr).conj().T)
        cores[k] = q.conj().T.reshape(-1, d, rr)
        cores[k - 1] = np.tensordot(cores[k - 1], R.conj().T, axes=(2, 0))
    norm = float(np.linalg.norm(cores[0]))
    if norm == 0.0:
        return [np.zeros((1, c.shape[1], 1), dtype=c.dtype) for c in cores]
    svals = [None] * (n - 1)
    # left Schmidt bases on bonds 0..center-1
    for k in range(center):
        cores[k], carry, svals[k] = _schmidt_step(cores[k], norm, zero_tol, degeneracy_tol)
        cores[k + 1] = np.tensordot(carry, cores[k + 1], axes=(1, 0))
    # left-orthogonal sites center..n-2 (QR), then right Schmidt bases from the end back to center
    for k in range(center, n - 1):
        r, d, rr = cores[k].shape
        q, R = np.linalg.qr(cores[k].reshape(r * d, rr))
        cores[k] = q.reshape(r, d, -1)
        cores[k + 1] = np.tensordot(R, cores[k + 1], axes=(1, 0))
    for k in range(n - 1, center, -1):
        A, carry, svals[k - 1] = _schmidt_step(cores[k].transpose(2, 1, 0), norm, zero_tol, degeneracy_tol)
        cores[k] = np.ascontiguousarray(A.transpose(2, 1, 0))
        cores[k - 1] = np.tensordot(cores[k - 1], carry.T, axes=(2, 0))
    if balanced:
        # bond k: left of the center the left side is an isometry and the right side carries s;
        # right of it the reverse.  sqrt(s) on each side (a diagonal gauge, exact in exact arithmetic)
        for k in range(n - 1):
            h = np.sqrt(svals[k]).astype(cores[k].real.dtype)
            if k < center:
                cores[k], cores[k + 1] = cores[k] * h[None, None, :], cores[k + 1] / h[:, None, None]
            else:
                cores[k], cores[k + 1] = cores[k] / h[None, None, :], cores[k + 1] * h[:, None, None]
    return cores


def canonical_gauge(tt, center: int | None = None, *, zero_tol: float | None = None,
                    degeneracy_tol: float | None = None, balanced: bool = False):
    """The canonical form fixed by the represented tensor alone (see the module notes).

    Two trains of the same tensor (any gauge, any redundant bond dimensions) map to the same
    cores up to rounding; the tensor (the model's function) is unchanged but for Schmidt values
    below ``zero_tol * ||T||``, which are dropped.

    Parameters
    ----------
    tt : TensorTrain, MPO, or (with PyTorch) MPSModel, MPOLinear, MPOConv2d
    center : int, optional
        Orthogonality center: cores before it left-orthogonal, after it right-orthogonal.
        Default: the output site of an MPSModel, else the last site.  Negative counts from the
        end.
    zero_tol : float >= 0, optional
        Schmidt values ``<= zero_tol * ||T||`` are dropped (default 1e-12; 1e-6 for single
        precision).
    degeneracy_tol : float in [0, 1), optional
        Schmidt values within ``degeneracy_tol * s_1`` of each other are one degenerate group;
        also the relative tie tolerance of the basis pivots (default 1e-8; 1e-4 for single
        precision).
    balanced : bool
        The *balanced* canonical form: every bond's Schmidt values ``s`` split as ``sqrt(s)`` on
        each side (the diagonal gauge ``diag(sqrt(s))`` on the bonds left of the center,
        ``diag(1 / sqrt(s))`` on those right of it), so that no core is an isometry and none
        carries a whole bond's weight.  Still a function of the tensor (and ``center``) alone.
        It is the form to rotate: a random orthogonal gauge on a bond of the plain canonical
        form mixes the direction of the largest Schmidt value into those of the smallest, which
        costs ``eps * s_1 / s_a`` of relative accuracy wherever the inputs excite small-``s``
        directions strongly (as real-data models do: a trained MPS of MNIST lost 1e-11..1e-8
        of its outputs' norm this way); balanced, the loss is ``eps * sqrt(s_1 / s_a)`` at
        worst and was at rounding level (1e-13) on the same models.

    Returns
    -------
    An object of the same type and dtype (a copy); its bonds may be smaller than the input's.
    For an :class:`~tnfast.nn.MPSModel`, the record of its fit (``domains``, ``info``) is
    dropped.
    """
    cores, dtype, rebuild = _unpack(tt)
    _check_finite(cores)
    n = len(cores)
    if center is None:
        center = getattr(tt, "out_position", None)
        center = n - 1 if center is None else center
    c = as_int(center, "center")
    if c < 0:
        c += n
    if not 0 <= c < n:
        raise ValueError(f"center: expected -{n} <= center < {n}, got {center}")
    zt, dt = _default_tols(dtype, zero_tol, degeneracy_tol)
    return rebuild(canonical_cores(cores, c, zt, dt, balanced=bool(balanced)))


# ------------------------------------------------------------------------------------------------
# the attacker
def white_box_features(param_sets, mode: str = "sorted") -> np.ndarray:
    """One feature row per model from its parameters (cores, weights, biases).

    Parameters
    ----------
    param_sets : sequence (models) of sequences (parts) of arrays
        ``param_sets[m][k]``: part ``k`` (a layer's weight, a core) of model ``m``; every model
        has the same number of parts.  Tensors from torch are accepted.
    mode : {"sorted", "flat"}
        ``"flat"``: the parts' entries in storage order; ``"sorted"``: each part's entries in
        increasing order (invariant to permutations within a part, e.g. of hidden units).

    Returns
    -------
    ndarray (models, features), float64.  Parts whose size differs between models (e.g. bonds
    cut by :func:`canonical_gauge`) are zero-padded to the largest size; complex entries give
    their real then imaginary parts.
    """
    if mode not in ("sorted", "flat"):
        raise ValueError(f"mode: expected 'sorted' or 'flat', got {mode!r}")
    sets = [[as_array(p, f"param_sets[{m}][{k}]").ravel() for k, p in enumerate(ps)]
            for m, ps in enumerate(param_sets)]
    if not sets:
        raise ValueError("param_sets: expected at least one model")
    nparts = len(sets[0])
    if any(len(s) != nparts for s in sets):
        raise ValueError("param_sets: every model must have the same number of parts")
    rows = []
    for s in sets:
        parts = []
        for p in s:
            if np.iscomplexobj(p):
                p = np.concatenate([p.real, p.imag])
            parts.append(np.sort(p) if mode == "sorted" else p)
        rows.append(parts)
    sizes = [max(len(r[k]) for r in rows) for k in range(nparts)]
    out = np.zeros((len(rows), sum(sizes)))
    for m, r in enumerate(rows):
        off = 0
        for k, p in enumerate(r):
            out[m, off:off + len(p)] = p
            off += sizes[k]
    return out


def black_box_features(outputs) -> np.ndarray:
    """One feature row per model from its outputs on fixed queries.

    Parameters
    ----------
    outputs : sequence (models) of arrays (queries, C)
        The same queries, in the same order, for every model.

    Returns
    -------
    ndarray (models, queries * C), float64.
    """
    rows = [as_array(o, f"outputs[{m}]", allow_complex=False).ravel() for m, o in enumerate(outputs)]
    if not rows:
        raise ValueError("outputs: expected at least one model")
    if len({len(r) for r in rows}) != 1:
        raise ValueError("outputs: every model must have outputs of the same shape")
    return np.stack(rows).astype(np.float64)


def attack_accuracy(features, labels, *, folds: int = 10, seed: int = 0, C: float = 1.0,
                    max_iter: int = 5000) -> dict:
    """Accuracy of a property-inference attacker, by stratified k-fold cross-validation.

    The attacker standardizes the features (fitted on the training folds) and fits an
    L2-regularized logistic regression (scikit-learn, lbfgs).

    Parameters
    ----------
    features : array (models, features)
    labels : array (models,) of two distinct values (the property of each model's training set)
    folds : int >= 2
        Every label must occur at least ``folds`` times.
    seed : int
        Shuffling of the folds.
    C : float > 0
        Inverse regularization strength.

    Returns
    -------
    dict
        ``accuracy`` (mean over folds), ``std`` (over folds), ``folds`` (per-fold accuracies),
        ``chance`` (share of the larger class).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = as_array(features, "features", ndim=2, allow_complex=False).astype(np.float64)
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"labels: expected shape ({len(X)},), got {y.shape}")
    folds = as_int(folds, "folds", minimum=2)
    C = as_float(C, "C", minimum=0.0, strict=True)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) != 2:
        raise ValueError(f"labels: expected two distinct values, got {len(classes)}")
    if counts.min() < folds:
        raise ValueError(f"labels: every value must occur at least folds={folds} times, got counts {counts.tolist()}")
    accs = []
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in cv.split(X, y):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
        clf.fit(X[tr], y[tr])
        accs.append(float(np.mean(clf.predict(X[te]) == y[te])))
    return {"accuracy": float(np.mean(accs)), "std": float(np.std(accs)), "folds": accs,
            "chance": float(counts.max() / counts.sum())}
