from math import comb

import numpy as np
import pytest

from tnfast.embeddings import (Basis, Fourier, FunctionEmbedding, Legendre, Poly, Quantics, Unit,
                               get_embedding)


def test_poly_closed_form():
    x = np.array([[0.0, 0.5], [-2.0, 3.0]])
    e = Poly(4)(x)
    assert e.shape == (2, 2, 4)
    np.testing.assert_allclose(e[1, 1], [1, 3, 9, 27])
    np.testing.assert_allclose(e[0, 0], [1, 0, 0, 0])


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_unit_closed_form_and_norm(d):
    x = np.linspace(0, 1, 11)
    e = Unit(d)(x)
    for s in range(1, d + 1):
        ref = np.sqrt(comb(d - 1, s - 1)) * np.cos(np.pi * x / 2) ** (d - s) * np.sin(np.pi * x / 2) ** (s - 1)
        np.testing.assert_allclose(e[:, s - 1], ref, atol=1e-15)
    np.testing.assert_allclose((e ** 2).sum(-1), 1.0, atol=1e-14)  # unit norm
    if d == 2:  # the endpoints map to the two basis states, which are orthogonal
        np.testing.assert_allclose(e[0], [1, 0], atol=1e-15)
        np.testing.assert_allclose(e[-1], [0, 1], atol=1e-15)
        assert abs(e[0] @ e[-1]) < 1e-15


def test_fourier_closed_form_and_orthogonality():
    emb = Fourier(5, period=2.0)
    x = np.array([0.3])
    w = np.pi
    np.testing.assert_allclose(emb(x)[0], [1, np.cos(w * 0.3), np.sin(w * 0.3), np.cos(2 * w * 0.3),
                                           np.sin(2 * w * 0.3)])
    # equispaced grid over one period: the features are orthogonal
    grid = np.arange(16) * 2.0 / 16
    E = emb(grid)
    gram = E.T @ E
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0, atol=1e-12)
    with pytest.raises(ValueError, match="period"):
        Fourier(3, period=0.0)


def test_legendre_closed_form_and_orthogonality():
    x = np.array([0.2, -0.7])
    e = Legendre(4)(x)
    for i, t in enumerate(x):
        np.testing.assert_allclose(e[i], [1, t, 0.5 * (3 * t * t - 1), 0.5 * (5 * t ** 3 - 3 * t)])
    nodes, weights = np.polynomial.legendre.leggauss(10)
    E = Legendre(5)(nodes)
    gram = E.T @ (weights[:, None] * E)
    np.testing.assert_allclose(gram, np.diag(2.0 / (2 * np.arange(5) + 1)), atol=1e-13)


def test_basis():
    e = Basis(3)(np.array([[0, 2], [1, 1]]))
    np.testing.assert_array_equal(e[0, 1], [0, 0, 1])
    np.testing.assert_array_equal(e[1, 0], [0, 1, 0])
    with pytest.raises(ValueError, match="integers"):
        Basis(3)(np.array([3]))
    with pytest.raises(ValueError, match="integers"):
        Basis(3)(np.array([0.5]))


def test_quantics_roundtrip():
    q = Quantics(2, bits=4, lo=0.0, hi=1.0)
    x = np.array([[0.0, 0.5, 0.8125]])
    dig = q.encode(x)
    np.testing.assert_array_equal(dig[0, :4], [0, 0, 0, 0])
    np.testing.assert_array_equal(dig[0, 4:8], [1, 0, 0, 0])
    np.testing.assert_array_equal(dig[0, 8:], [1, 1, 0, 1])
    np.testing.assert_allclose(q.decode(dig), x)
    assert q(dig).shape == (1, 12, 2)
    q3 = Quantics(3, bits=3, lo=-1, hi=2)
    y = np.random.default_rng(0).uniform(-1, 2, (5, 2))
    back = q3.decode(q3.encode(y))
    assert np.all(back <= y) and np.all(y - back < 3 / 27 + 1e-12)
    with pytest.raises(ValueError, match="hi"):
        Quantics(2, bits=3, lo=1, hi=0)


def test_registry_and_custom():
    for name, cls in [("poly", Poly), ("unit", Unit), ("fourier", Fourier), ("legendre", Legendre),
                      ("basis", Basis), ("quantics", Quantics)]:
        e = get_embedding(name, 3)
        assert isinstance(e, cls) and e.dim == 3 and e.name == name
    e = Poly(2)
    assert get_embedding(e) is e
    with pytest.raises(ValueError, match="embedding"):
        get_embedding("nope")
    with pytest.raises(TypeError, match="embedding"):
        get_embedding(3)
    with pytest.raises(ValueError, match="dim"):
        Poly(0)
    c = FunctionEmbedding(lambda x: np.stack([x, x ** 3], -1), 2, name="odd")
    np.testing.assert_allclose(c(np.array([2.0])), [[2.0, 8.0]])
    bad = FunctionEmbedding(lambda x: x, 2)
    with pytest.raises(ValueError, match="shape"):
        bad(np.array([1.0]))
    with pytest.raises(TypeError, match="x"):
        Poly(2)(np.array(["a"]))
