"""Integer factorizations and size formulas for matrix product operators (MPOs).

An MPO with cores of shape ``(D_{k-1}, i_k, j_k, D_k)`` (``D_0 = D_n = 1``) represents a
matrix of shape ``(prod i_k, prod j_k)``.  The helpers here pick balanced mode sizes,
cap bond dimensions at their useful maximum and count parameters.
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

from ._checks import check_int

__all__ = ["factorize", "choose_modes", "bond_caps", "resolve_bond_dims", "mpo_num_params", "check_modes"]


_TRIAL_LIMIT = 1 << 16
MAX_FACTORS = 256  # modes (cores) of one MPO; more would only add modes of size 1


def _prime_factors(n: int) -> list:
    """Prime factors of ``n`` found by trial division up to 2**16; a cofactor left with no factor
    below that bound is returned as one factor (it may be composite: the product is still ``n``,
    only the balance of very large factorizations suffers)."""
    out = []
    while n % 2 == 0 and n > 1:
        out.append(2)
        n //= 2
    p = 3
    while p * p <= n and p <= _TRIAL_LIMIT:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 2
    if n > 1:
        out.append(n)
    return out


def factorize(n: int, n_factors: int) -> tuple:
    """Balanced factorization of ``n`` into exactly ``n_factors`` positive integers.

    Prime factors are distributed greedily (largest first, onto the currently smallest
    factor), padded with 1s when ``n`` has fewer prime factors than ``n_factors``, and the
    result is arranged with small factors at both ends and large ones in the middle
    (e.g. ``factorize(784, 4) == (4, 7, 7, 4)``).

    Parameters
    ----------
    n : int >= 1
    n_factors : int >= 1

    Returns
    -------
    tuple of int, length ``n_factors``, whose product is ``n``.
    """
    n = check_int(n, "n")
    n_factors = check_int(n_factors, "n_factors")
    if n_factors > MAX_FACTORS:
        raise ValueError(f"n_factors: expected at most {MAX_FACTORS}, got {n_factors}")
    factors = [1] * n_factors
    for p in sorted(_prime_factors(n), reverse=True):
        k = min(range(n_factors), key=lambda t: (factors[t], t))
        factors[k] *= p
    factors.sort()
    # smallest at the ends, largest in the middle
    left, right = [], []
    for t, f in enumerate(factors):
        (left if t % 2 == 0 else right).append(f)
    return tuple(left + right[::-1])


def choose_modes(in_features: int, out_features: int,
                 n_cores: int | None = None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Balanced input and output modes of equal length for an ``out x in`` weight.

    ``n_cores`` defaults to ``max(2, round(log(max(in, out)) / log(6)))`` (modes around 4-8).

    Returns
    -------
    (in_modes, out_modes) : two tuples of int of length ``n_cores``.
    """
    in_features = check_int(in_features, "in_features")
    out_features = check_int(out_features, "out_features")
    if n_cores is None:
        n_cores = max(2, int(round(math.log(max(in_features, out_features, 2)) / math.log(6.0))))
    n_cores = check_int(n_cores, "n_cores")
    if n_cores > MAX_FACTORS:
        raise ValueError(f"n_cores: expected at most {MAX_FACTORS}, got {n_cores}")
    return factorize(in_features, n_cores), factorize(out_features, n_cores)


def check_modes(modes, features: int, name: str, features_name: str) -> tuple:
    """Validate a mode tuple: positive integers whose product equals ``features``."""
    try:
        modes = tuple(modes)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of positive integers, got {type(modes).__name__}") from None
    if len(modes) == 0:
        raise ValueError(f"{name}: expected at least one mode")
    out = tuple(check_int(m, name) for m in modes)
    if math.prod(out) != features:
        raise ValueError(f"{name}: the product of {out} is {math.prod(out)}, expected {features_name}={features}")
    return out


def bond_caps(in_modes: Sequence[int], out_modes: Sequence[int]) -> tuple:
    """Useful maximum of each inner bond: ``min(prod_{l<=k} i_l j_l, prod_{l>k} i_l j_l)``.

    Returns a tuple of length ``n - 1``.
    """
    sizes = [int(i) * int(j) for i, j in zip(out_modes, in_modes)]
    caps = []
    for k in range(1, len(sizes)):
        caps.append(min(math.prod(sizes[:k]), math.prod(sizes[k:])))
    return tuple(caps)


def resolve_bond_dims(bond_dim: int | Sequence[int], in_modes: Sequence[int], out_modes: Sequence[int],
                      name: str = "bond_dim") -> tuple:
    """Inner bond dimensions ``(D_1, ..., D_{n-1})`` from an int or a sequence, capped by :func:`bond_caps`."""
    caps = bond_caps(in_modes, out_modes)
    if isinstance(bond_dim, numbers.Integral) and not isinstance(bond_dim, bool):
        dims = [check_int(bond_dim, name)] * len(caps)
    else:
        try:
            dims = [check_int(d, name) for d in bond_dim]
        except TypeError:
            raise TypeError(f"{name}: expected an int or a sequence of ints, got {type(bond_dim).__name__}") from None
        if len(dims) != len(caps):
            raise ValueError(f"{name}: expected {len(caps)} inner bond dimensions, got {len(dims)}")
    return tuple(min(d, c) for d, c in zip(dims, caps))


def mpo_num_params(in_modes: Sequence[int], out_modes: Sequence[int], bond_dims: Sequence[int]) -> int:
    """Number of MPO parameters ``sum_k D_{k-1} i_k j_k D_k`` (bond dims taken as given)."""
    ranks = (1,) + tuple(int(d) for d in bond_dims) + (1,)
    if len(ranks) != len(in_modes) + 1 or len(in_modes) != len(out_modes):
        raise ValueError("bond_dims: expected len(in_modes) - 1 inner bonds and len(in_modes) == len(out_modes)")
    return int(sum(ranks[k] * int(out_modes[k]) * int(in_modes[k]) * ranks[k + 1] for k in range(len(in_modes))))


def resolve_modes(n_in: int, n_out: int, in_modes: Sequence[int] | None, out_modes: Sequence[int] | None,
                  what: str, default_len: int | None = None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Factorizations of ``n_in``/``n_out`` (``what``: "features" or "channels") of equal length.

    Missing ones are chosen by :func:`choose_modes` (with the length of the given one, or
    ``default_len`` when neither is given); given ones are checked by :func:`check_modes`.
    """
    in_name, out_name = f"in_{what}", f"out_{what}"
    if in_modes is None and out_modes is None:
        if default_len is None:
            in_modes, out_modes = choose_modes(n_in, n_out)
        else:
            in_modes, out_modes = choose_modes(n_in, n_out, default_len)
    elif in_modes is None:
        out_modes = check_modes(out_modes, n_out, "out_modes", out_name)
        in_modes = choose_modes(n_in, n_out, len(out_modes))[0]
    elif out_modes is None:
        in_modes = check_modes(in_modes, n_in, "in_modes", in_name)
        out_modes = choose_modes(n_in, n_out, len(in_modes))[1]
    in_modes = check_modes(in_modes, n_in, "in_modes", in_name)
    out_modes = check_modes(out_modes, n_out, "out_modes", out_name)
    if len(in_modes) != len(out_modes):
        raise ValueError(f"in_modes/out_modes: expected the same length, got {len(in_modes)} and "
                         f"{len(out_modes)} (pad the shorter with 1s)")
    return in_modes, out_modes
