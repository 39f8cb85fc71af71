import numpy as np
import pytest

from tnfast.cross import tt_cross
from tnfast.grids import (GridFunction, gauss_legendre_grid, points_to_quantics, quantics, quantics_shape,
                          quantics_to_points, uniform_grid)


def test_uniform_grid():
    g = uniform_grid(-1, 1, 5)
    assert np.allclose(g, [-1, -0.5, 0, 0.5, 1])
    assert np.allclose(uniform_grid(0, 1, 4, endpoint=False), [0, 0.25, 0.5, 0.75])
    with pytest.raises(ValueError, match="b > a"):
        uniform_grid(1, 0, 3)
    with pytest.raises(ValueError, match="n"):
        uniform_grid(0, 1, 0)


def test_gauss_legendre_exact_for_polynomials():
    x, w = gauss_legendre_grid(0.5, 2.0, 6)
    assert x.shape == w.shape == (6,)
    assert np.all((x > 0.5) & (x < 2.0))
    assert w.sum() == pytest.approx(1.5)
    for deg in range(12):  # exact up to degree 2n - 1 = 11
        exact = (2.0 ** (deg + 1) - 0.5 ** (deg + 1)) / (deg + 1)
        assert np.dot(w, x ** deg) == pytest.approx(exact, rel=1e-12)


def test_grid_function_points_and_values():
    gx, gy = uniform_grid(0, 1, 3), uniform_grid(-2, 2, 5)
    gf = GridFunction(lambda x: x[:, 0] * 10 + x[:, 1], [gx, gy])
    assert gf.shape == (3, 5)
    idx = np.array([[0, 0], [2, 4], [1, 3]])
    assert np.allclose(gf.points(idx), [[0, -2], [1, 2], [0.5, 1]])
    assert np.allclose(gf(idx), [-2, 12, 6])
    with pytest.raises(ValueError, match="grids"):
        GridFunction(lambda x: x, [np.array([])])


def test_integral_with_gauss_legendre_and_cross():
    # integral over [0, 1]^6 of exp(-sum x) cos(sum x) = Re((1 - e^{-(1-i)}) / (1 - i))^6
    n, d = 6, 12
    x, w = gauss_legendre_grid(0.0, 1.0, d)
    gf = GridFunction(lambda p: np.exp(-p.sum(1)) * np.cos(p.sum(1)), [x] * n)
    tt, info = tt_cross(gf, gf.shape, rel_tol=1e-13, seed=0)
    v = np.ones(1)
    for c in tt.cores:
        v = v @ np.einsum("aib,i->ab", c, w)
    exact = (((1 - np.exp(-(1 - 1j))) / (1 - 1j)) ** n).real
    assert v[0] == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize("layout", ["interleaved", "fused", "serial"])
def test_quantics_round_trip(rng, layout):
    n_vars, bits = 3, 7
    m = rng.integers(0, 2 ** bits, size=(200, n_vars))
    a, b = np.array([0.0, -1.0, 2.0]), np.array([1.0, 1.0, 5.0])
    x = a + (b - a) * m / 2 ** bits
    digits = points_to_quantics(x, n_vars, bits, a, b, layout)
    shape = quantics_shape(n_vars, bits, layout)
    assert digits.shape == (200, len(shape))
    assert np.all(digits < np.array(shape))
    assert np.allclose(quantics_to_points(digits, n_vars, bits, a, b, layout), x)


def test_quantics_layouts_explicit():
    # two variables, two bits: m0 = 2 (binary 10), m1 = 1 (binary 01)
    pts = np.array([[2 / 4, 1 / 4]])
    assert points_to_quantics(pts, 2, 2, layout="interleaved").tolist() == [[1, 0, 0, 1]]
    assert points_to_quantics(pts, 2, 2, layout="serial").tolist() == [[1, 0, 0, 1]]
    assert points_to_quantics(pts, 2, 2, layout="fused").tolist() == [[2, 1]]
    pts = np.array([[3 / 4, 0.0]])
    assert points_to_quantics(pts, 2, 2, layout="interleaved").tolist() == [[1, 0, 1, 0]]
    assert points_to_quantics(pts, 2, 2, layout="serial").tolist() == [[1, 1, 0, 0]]
    assert quantics_shape(2, 5, "fused") == (4,) * 5
    assert quantics_shape(2, 5) == (2,) * 10


def test_quantics_function_and_errors():
    qf = quantics(lambda x: x[:, 0] + 10 * x[:, 1], n_vars=2, bits=3, a=0, b=8, layout="serial")
    assert qf.shape == (2,) * 6
    idx = qf.indices(np.array([[3.0, 5.0]]))
    assert qf(idx)[0] == pytest.approx(53.0)
    with pytest.raises(ValueError, match="layout"):
        quantics(lambda x: x, 1, 4, layout="zigzag")
    with pytest.raises(ValueError, match="b > a"):
        quantics(lambda x: x, 1, 4, a=1.0, b=0.0)
    with pytest.raises(ValueError, match="bits"):
        quantics(lambda x: x, 1, 0)
    with pytest.raises(ValueError, match="idx"):
        quantics_to_points(np.zeros((2, 3), dtype=int), 1, 4)


@pytest.mark.parametrize("layout", ["fused", "serial", "interleaved"])
def test_quantics_2d_cross(rng, layout):
    qf = quantics(lambda x: np.exp(-x[:, 0]) * np.cos(3 * x[:, 1]), n_vars=2, bits=12, layout=layout)
    # interleaved: every 2-site matrix of a rank-1 start splits the two variables, so the
    # sweeps alone cannot leave rank 1; global pivots bring in the missing structure
    extra = dict(global_pivots=4) if layout == "interleaved" else {}
    tt, info = tt_cross(qf, qf.shape, rel_tol=1e-12, seed=0, **extra)
    idx = np.stack([rng.integers(0, d, 2000) for d in qf.shape], axis=1)
    assert np.abs(tt.evaluate(idx) - qf(idx)).max() < 1e-9
