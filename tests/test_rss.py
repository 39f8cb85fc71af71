import itertools

import numpy as np
import pytest

import tnfast
from tnfast.embeddings import Basis, Fourier, Poly, get_embedding
from tnfast.rss import tt_density, tt_evaluate, tt_rs, tt_rss, tt_sample


def random_tt(n, d, bond, rng, out_dim=None, out_position=None):
    """Cores of a random, well-conditioned TT: every slice G[:, p, :] is a block of a random
    orthogonal matrix, so partial products stay well conditioned and values are O(1)."""
    dims = [d] * n
    if out_dim is not None:
        dims.insert(out_position, out_dim)
    m = len(dims)
    ranks = [1] + [int(min(bond, np.prod(dims[:k + 1], dtype=float), np.prod(dims[k + 1:], dtype=float))) for k in range(m - 1)] + [1]
    cores = []
    for k, dk in enumerate(dims):
        r, rr = ranks[k], ranks[k + 1]
        G = np.empty((r, dk, rr))
        for p in range(dk):
            q, _ = np.linalg.qr(rng.standard_normal((max(r, rr), max(r, rr))))
            G[:, p, :] = q[:r, :rr]
        cores.append(G)
    return cores


def tt_function(cores, emb, out_position=None):
    """f(x) = TT contracted with emb(x) (output site left open), vectorized over the batch."""
    def f(x):
        x = np.asarray(x, dtype=np.float64)
        feats = emb(x)
        B = x.shape[0]
        v = np.ones((B, 1, 1))
        j = 0
        for k, G in enumerate(cores):
            r, dk, rr = G.shape
            W = (v.reshape(-1, r) @ G.reshape(r, dk * rr)).reshape(B, v.shape[1], dk, rr)
            if k == out_position:
                v = W.reshape(B, dk, rr)
            else:
                v = np.einsum("bcpr,bp->bcr", W, feats[:, j])
                j += 1
        v = v[:, :, 0]
        return v[:, 0] if out_position is None else v
    return f


def rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("emb", ["basis", "poly"])
def test_exact_recovery_random_tt(emb):
    rng = np.random.default_rng(0)
    n, d, bond = 100, 2, 10
    cores = random_tt(n, d, bond, rng)
    f = tt_function(cores, Basis(2))
    samples = rng.integers(0, 2, size=(30, n)).astype(float)
    tt, info = tt_rss(f, samples, embedding=emb, domain=[0.0, 1.0], rank=bond, seed=0)
    assert info.pivot_error < 1e-12
    assert info.pivot_error_max < 1e-12
    assert max(info.bond_dims) <= bond
    test = rng.integers(0, 2, size=(1000, n)).astype(float)
    assert rel_err(tt_evaluate(tt, test, emb), f(test)) < 1e-10
    assert info.n_evals > 0 and info.n_calls > 0
    for key in ("sketch", "fit", "trim", "solve", "recurse", "total"):
        assert info.times[key] >= 0


@pytest.mark.parametrize("recursion,reuse", [("tt", True), ("sketch", True), ("sketch", False)])
def test_exact_small_dense(recursion, reuse):
    """n = 6 binary variables: the whole tensor is recovered and compared entry by entry."""
    rng = np.random.default_rng(1)
    n = 6
    cores = random_tt(n, 2, 3, rng)
    f = tt_function(cores, Basis(2))
    allx = np.array(list(itertools.product([0, 1], repeat=n)), dtype=float)
    samples = allx[rng.choice(len(allx), 12, replace=False)]
    tt, info = tt_rss(f, samples, embedding="basis", domain=[0, 1], rank=3, recursion=recursion, reuse=reuse)
    assert (info.n_reused > 0) == reuse
    dense = tt.full().reshape(-1)
    np.testing.assert_allclose(dense, f(allx), atol=1e-12 * np.abs(f(allx)).max())


def test_sum_rank2_poly():
    rng = np.random.default_rng(2)
    n = 20
    samples = rng.random((8, n))
    f = lambda x: x.sum(axis=1)  # noqa: E731
    tt, info = tt_rss(f, samples, embedding="poly", rank=5)
    assert max(info.bond_dims) == 2
    test = rng.random((200, n))
    assert rel_err(tt_evaluate(tt, test, "poly"), f(test)) < 1e-11


def test_cos_sum_fourier():
    rng = np.random.default_rng(3)
    n = 15
    emb = Fourier(3, period=2 * np.pi)
    samples = rng.uniform(-2, 2, (10, n))
    f = lambda x: np.cos(x.sum(axis=1))  # noqa: E731
    tt, info = tt_rss(f, samples, embedding=emb, domain=np.linspace(-3, 3, 5), cutoff=1e-10)
    assert max(info.bond_dims) == 2
    test = rng.uniform(-3, 3, (300, n))
    assert rel_err(tt_evaluate(tt, test, emb), f(test)) < 1e-9


@pytest.mark.parametrize("pos", [0, 4, 8])
def test_vector_outputs(pos):
    rng = np.random.default_rng(4)
    n, C, bond = 8, 3, 4
    cores = random_tt(n, 2, bond, rng, out_dim=C, out_position=pos)
    f = tt_function(cores, Basis(2), out_position=pos)
    samples = rng.integers(0, 2, (30, n)).astype(float)
    tt, info = tt_rss(f, samples, embedding="basis", domain=[0, 1], rank=bond, out_position=pos, seed=5)
    assert info.out_position == pos and tt.ndim == n + 1 and tt.shape[pos] == C
    assert info.labels.shape == (30,)
    test = rng.integers(0, 2, (200, n)).astype(float)
    out = tt_evaluate(tt, test, "basis", out_position=pos)
    assert out.shape == (200, C)
    assert rel_err(out, f(test)) < 1e-10
    assert info.pivot_error < 1e-12
    # reusing repeated grid points changes nothing but the number of evaluations
    tt2, info2 = tt_rss(f, samples, embedding="basis", domain=[0, 1], rank=bond, out_position=pos, seed=5,
                        reuse=False)
    assert info2.n_reused == 0 and info.n_reused > 0
    assert info2.n_evals == info.n_evals + info.n_reused
    np.testing.assert_allclose(tt_evaluate(tt2, test, "basis", out_position=pos), out, rtol=1e-9, atol=1e-12)


def test_vector_output_default_position_and_given_labels():
    rng = np.random.default_rng(5)
    n, C = 7, 4
    cores = random_tt(n, 2, 3, rng, out_dim=C, out_position=(n + 1) // 2)
    f = tt_function(cores, Basis(2), out_position=(n + 1) // 2)
    samples = rng.integers(0, 2, (25, n)).astype(float)
    labels = rng.integers(0, C, 25)
    tt, info = tt_rss(f, samples, embedding="basis", domain=[0, 1], rank=3, labels=labels)
    assert info.out_position == (n + 1) // 2
    np.testing.assert_array_equal(info.labels, labels)
    test = rng.integers(0, 2, (100, n)).astype(float)
    assert rel_err(tt_evaluate(tt, test, "basis", out_position=info.out_position), f(test)) < 1e-10


def test_per_site_domains_and_drawn_domains():
    rng = np.random.default_rng(6)
    n = 6
    cores = random_tt(n, 3, 3, rng)
    emb = Poly(3)
    f = tt_function(cores, emb)
    doms = [np.linspace(-1, 1, 3) + 0.1 * k for k in range(n)]
    samples = np.stack([rng.choice(doms[k], 20) for k in range(n)], axis=1)
    tt, info = tt_rss(f, samples, embedding=emb, domain=doms, rank=3)
    for k in range(n):
        np.testing.assert_allclose(info.domains[k], doms[k])
    test = np.stack([rng.uniform(-1, 1, 100) for _ in range(n)], axis=1)
    assert rel_err(tt_evaluate(tt, test, emb), f(test)) < 1e-9
    # domains drawn from the samples (3 distinct values per site = d)
    tt2, info2 = tt_rss(f, samples, embedding=emb, rank=3, seed=1)
    for k in range(n):
        assert set(info2.domains[k]) <= set(samples[:, k])
    assert rel_err(tt_evaluate(tt2, test, emb), f(test)) < 1e-9


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-4), (np.float64, 1e-11)])
def test_dtypes(dtype, tol):
    rng = np.random.default_rng(7)
    n = 20
    cores = random_tt(n, 2, 4, rng)
    f = tt_function(cores, Basis(2))
    samples = rng.integers(0, 2, (20, n)).astype(float)
    tt, info = tt_rss(f, samples, embedding="basis", domain=[0, 1], rank=4, dtype=dtype)
    assert tt.dtype == dtype
    test = rng.integers(0, 2, (200, n)).astype(float)
    assert rel_err(tt_evaluate(tt, test, "basis").astype(np.float64), f(test)) < tol


def test_reproducible_with_seed():
    rng = np.random.default_rng(8)
    n, C = 10, 3
    cores = random_tt(n, 2, 3, rng, out_dim=C, out_position=5)
    f = tt_function(cores, Basis(2), out_position=5)
    samples = rng.random((15, n))
    f = tt_function(cores, Poly(2), out_position=5)
    a, ia = tt_rss(f, samples, embedding="poly", rank=3, seed=42)
    b, ib = tt_rss(f, samples, embedding="poly", rank=3, seed=42)
    np.testing.assert_array_equal(ia.labels, ib.labels)
    for x, y in zip(a.cores, b.cores):
        np.testing.assert_array_equal(x, y)


def test_nan_from_f_is_value_error():
    samples = np.random.default_rng(0).random((5, 4))

    def f(x):
        out = x.sum(axis=1)
        if x.shape[0] > 5:
            out[3] = np.nan
        return out
    with pytest.raises(ValueError, match="non-finite"):
        tt_rss(f, samples, rank=2)

    with pytest.raises(ValueError, match="non-finite"):
        tt_rss(lambda x: np.full(x.shape[0], np.inf), samples, rank=2)


def test_exception_from_f_propagates():
    samples = np.random.default_rng(0).random((5, 4))
    calls = []

    def f(x):
        calls.append(1)
        if len(calls) > 1:
            raise KeyError("boom")
        return x.sum(axis=1)
    with pytest.raises(KeyError, match="boom"):
        tt_rss(f, samples, rank=2)


def test_wrong_output_shape():
    samples = np.random.default_rng(0).random((5, 4))
    calls = []

    def f(x):
        calls.append(1)
        return x.sum(axis=1)[: (None if len(calls) == 1 else -1)]
    with pytest.raises(ValueError, match="shape"):
        tt_rss(f, samples, rank=2)
    with pytest.raises(ValueError, match="f:"):
        tt_rss(lambda x: np.ones((x.shape[0], 2, 2)), samples, rank=2)
    with pytest.raises(TypeError, match="f:"):
        tt_rss(lambda x: np.array(["a"] * x.shape[0]), samples, rank=2)


def test_bad_arguments():
    rng = np.random.default_rng(0)
    samples = rng.random((6, 4))
    f = lambda x: x.sum(axis=1)  # noqa: E731
    with pytest.raises(ValueError, match="rank"):
        tt_rss(f, samples, rank=0)
    with pytest.raises(ValueError, match="cutoff"):
        tt_rss(f, samples, cutoff=-1.0)
    with pytest.raises(ValueError, match="samples"):
        tt_rss(f, samples[0], rank=2)
    with pytest.raises(ValueError, match="domain"):
        tt_rss(f, samples, domain=[0.5], rank=2)
    with pytest.raises(ValueError, match="domain"):
        tt_rss(f, samples, domain=[[0, 1]] * 3, rank=2)
    with pytest.raises(ValueError, match="batch_size"):
        tt_rss(f, samples, rank=2, batch_size=0)
    with pytest.raises(TypeError, match="f"):
        tt_rss(3, samples, rank=2)
    with pytest.raises(ValueError, match="embedding"):
        tt_rss(f, samples, embedding="nope", rank=2)
    with pytest.raises(ValueError, match="out_position"):
        tt_rss(f, samples, rank=2, out_position=1)
    g = lambda x: np.stack([x.sum(1), x.prod(1)], 1)  # noqa: E731
    with pytest.raises(ValueError, match="out_position"):
        tt_rss(g, samples, rank=2, out_position=7)
    with pytest.raises(ValueError, match="labels"):
        tt_rss(g, samples, rank=2, labels=np.full(6, 5))
    with pytest.raises(ValueError, match="samples"):
        tt_rss(f, np.full((3, 2), np.nan), rank=2)


def test_rank_alone_and_cutoff_alone():
    rng = np.random.default_rng(9)
    n = 12
    cores = random_tt(n, 2, 3, rng)
    f = tt_function(cores, Basis(2))
    samples = rng.integers(0, 2, (20, n)).astype(float)
    test = rng.integers(0, 2, (200, n)).astype(float)
    tt, info = tt_rss(f, samples, embedding="basis", domain=[0, 1], rank=8)
    assert max(info.bond_dims) == 3  # numerically zero singular values are dropped
    assert rel_err(tt_evaluate(tt, test, "basis"), f(test)) < 1e-10
    tt, info = tt_rss(f, samples, embedding="basis", domain=[0, 1], cutoff=1e-8)
    assert max(info.bond_dims) == 3
    assert rel_err(tt_evaluate(tt, test, "basis"), f(test)) < 1e-10
    tt, info = tt_rss(f, samples, embedding="basis", domain=[0, 1], rank=1)
    assert max(info.bond_dims) == 1 and max(info.discarded) > 0
    tt, info = tt_rss(f, samples, embedding="basis", domain=[0, 1])  # neither: numerical rank
    assert max(info.bond_dims) == 3


def test_batches_never_exceed_batch_size():
    rng = np.random.default_rng(10)
    samples = rng.random((12, 9))
    sizes = []

    def f(x):
        sizes.append(x.shape[0])
        assert x.shape[1] == 9 and x.dtype == np.float64
        return np.cos(x).sum(axis=1)
    tt, info = tt_rss(f, samples, embedding="poly", rank=3, batch_size=7)
    assert max(sizes) <= 7
    assert sum(sizes) == info.n_evals and len(sizes) == info.n_calls
    assert sum(info.grid_sizes) + 12 == info.n_evals + info.n_reused


def test_torch_like_output():
    class FakeTensor:
        def __init__(self, a):
            self.a = a

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.a
    rng = np.random.default_rng(11)
    samples = rng.random((8, 5))
    tt, info = tt_rss(lambda x: FakeTensor(x.sum(axis=1)), samples, rank=2)
    assert info.pivot_error < 1e-12


def test_unit_embedding_product_function():
    """prod_k phi_1(x_k) is rank one in the unit embedding."""
    rng = np.random.default_rng(12)
    n = 10
    samples = rng.random((6, n))
    f = lambda x: np.prod(np.cos(np.pi * x / 2), axis=1)  # noqa: E731
    tt, info = tt_rss(f, samples, embedding="unit", rank=4)
    assert max(info.bond_dims) == 1
    test = rng.random((100, n))
    assert rel_err(tt_evaluate(tt, test, "unit"), f(test)) < 1e-10


def test_evaluate_arguments():
    rng = np.random.default_rng(13)
    tt = tnfast.TensorTrain(random_tt(4, 2, 2, rng, out_dim=3, out_position=2))
    with pytest.raises(ValueError, match="out_position"):
        tt_evaluate(tt, np.zeros((2, 4)), "basis")
    with pytest.raises(ValueError, match="columns"):
        tt_evaluate(tt, np.zeros((2, 7)), "basis")
    out = tt_evaluate(tt, np.zeros((2, 4)), "basis", out_position=2)
    dense = tt.full()
    np.testing.assert_allclose(out[0], dense[0, 0, :, 0, 0])


# ---- TT-RS ----------------------------------------------------------------------------------

def markov_chain(n, d, rng):
    """A well-conditioned ("sticky") chain: P = 0.5 I + 0.5 R with R a random stochastic matrix."""
    p0 = rng.random(d) + 0.5
    p0 /= p0.sum()
    R = rng.random((d, d)) + 0.1
    R /= R.sum(axis=1, keepdims=True)
    return p0, 0.5 * np.eye(d) + 0.5 * R


def markov_dense(p0, P, n):
    p = p0.copy()
    for _ in range(n - 1):
        p = np.einsum("...i,ij->...ij", p, P)
    return p


def markov_samples(p0, P, n, N, rng):
    d = len(p0)
    x = np.empty((N, n), dtype=np.int64)
    x[:, 0] = rng.choice(d, N, p=p0)
    cum = P.cumsum(axis=1)
    for k in range(1, n):
        u = rng.random(N)
        x[:, k] = np.minimum((cum[x[:, k - 1]] < u[:, None]).sum(1), d - 1)
    return x


@pytest.mark.parametrize("sketch", ["cluster", "random"])
def test_tt_rs_markov_chain(sketch):
    rng = np.random.default_rng(20)
    n, d = 7, 3
    p0, P = markov_chain(n, d, rng)
    truth = markov_dense(p0, P, n)
    assert abs(truth.sum() - 1) < 1e-12
    y = markov_samples(p0, P, n, 20000, rng)
    tt = tt_rs(y, d=d, rank=d, sketch=sketch, seed=3)
    learned = tt.full()
    emp = np.zeros_like(truth)
    np.add.at(emp, tuple(y.T), 1.0 / len(y))
    tv = 0.5 * np.abs(learned / learned.sum() - truth).sum()
    tv_emp = 0.5 * np.abs(emp - truth).sum()
    if sketch == "cluster":  # exact sketch for a Markov chain
        assert tv < 0.05
        assert tv < 0.5 * tv_emp  # much better than the raw histogram
    else:
        assert tv < 0.1
        assert tv < tv_emp


def test_tt_rs_exact_for_population():
    """Samples = every state with multiplicity proportional to an exact Markov law: exact recovery."""
    n, d = 5, 2
    p0 = np.array([0.25, 0.75])
    P = np.array([[0.5, 0.5], [0.25, 0.75]])
    truth = markov_dense(p0, P, n)
    counts = np.rint(truth * 1024).astype(int)
    assert np.allclose(counts / 1024, truth)
    states = np.array(list(itertools.product(range(d), repeat=n)))
    y = np.repeat(states, counts.reshape(-1), axis=0)
    tt = tt_rs(y, rank=2)
    np.testing.assert_allclose(tt.full(), truth, atol=1e-12)


def test_sample_and_density():
    rng = np.random.default_rng(21)
    n, d = 5, 3
    p0, P = markov_chain(n, d, rng)
    truth = markov_dense(p0, P, n)
    # exact TT of the Markov chain
    cores = [np.einsum("i,ij->ij", p0, np.eye(d)).reshape(1, d, d)]
    for _ in range(n - 2):
        cores.append(np.einsum("ij,jk->ijk", P, np.eye(d)))
    cores.append(P.reshape(d, d, 1))
    tt = tnfast.TensorTrain(cores)
    np.testing.assert_allclose(tt.full(), truth, atol=1e-14)
    states = np.array(list(itertools.product(range(d), repeat=n)))
    np.testing.assert_allclose(tt_density(tt, states), truth.reshape(-1), atol=1e-14)
    scaled = tnfast.TensorTrain([2 * cores[0]] + cores[1:])
    np.testing.assert_allclose(tt_density(scaled, states), truth.reshape(-1), atol=1e-14)
    np.testing.assert_allclose(tt_density(scaled, states, normalize=False), 2 * truth.reshape(-1), atol=1e-14)
    x = tt_sample(tt, 40000, seed=1)
    assert x.shape == (40000, n) and x.min() >= 0 and x.max() < d
    emp = np.zeros_like(truth)
    np.add.at(emp, tuple(x.T), 1.0 / len(x))
    assert 0.5 * np.abs(emp - truth).sum() < 0.05
    # marginal of the first variable is sharply estimated
    np.testing.assert_allclose(np.bincount(x[:, 0], minlength=d) / len(x), p0, atol=0.01)
    np.testing.assert_array_equal(tt_sample(tt, 10, seed=5), tt_sample(tt, 10, seed=5))


def test_tt_rs_bad_arguments():
    with pytest.raises(ValueError, match="samples"):
        tt_rs(np.zeros(5, dtype=int), rank=2)
    with pytest.raises(ValueError, match="samples"):
        tt_rs(-np.ones((4, 3), dtype=int), rank=2)
    with pytest.raises(ValueError, match="samples"):
        tt_rs(np.full((4, 3), 5), d=3, rank=2)
    with pytest.raises(ValueError, match="sketch"):
        tt_rs(np.zeros((4, 3), dtype=int), rank=2, sketch="bad")
    with pytest.raises(ValueError, match="x"):
        tt_density(tnfast.TensorTrain([np.ones((1, 2, 1))] * 2), np.array([[0, 2]]))


def test_registry():
    assert get_embedding("poly", 3).dim == 3
    assert isinstance(get_embedding("basis", 4), Basis)


def test_verbose_prints_sites(capfd):
    samples = np.random.default_rng(0).random((4, 3))
    tt_rss(lambda x: x.sum(axis=1), samples, rank=2, verbose=True)
    out = capfd.readouterr()
    assert "tt_rss" in out.out + out.err


def test_tt_rs_float32_and_cutoff():
    rng = np.random.default_rng(22)
    p0, P = markov_chain(5, 2, rng)
    y = markov_samples(p0, P, 5, 5000, rng)
    tt = tt_rs(y, cutoff=1e-3, dtype=np.float32)
    assert tt.dtype == np.float32
    truth = markov_dense(p0, P, 5)
    learned = tt.full().astype(np.float64)
    assert 0.5 * np.abs(learned / learned.sum() - truth).sum() < 0.1


def test_rank_deficient_embedded_domain():
    samples = np.random.default_rng(0).random((4, 3))
    with pytest.raises(ValueError, match="embedding"):
        # every domain value has the same Fourier features (period 1): E_k has rank 1 < d
        tt_rss(lambda x: x.sum(axis=1), samples, embedding=Fourier(3, period=1.0), domain=[0.0, 1.0, 2.0], rank=2)


def test_tt_rs_second_order_chain_exact():
    """A second-order chain (bond 4) given as its exact population: cluster sketches of two
    variables recover it exactly, one-variable clusters cannot."""
    n, d = 6, 2
    p12 = np.array([[0.25, 0.25], [0.125, 0.375]])
    P = np.array([[[0.5, 0.5], [0.25, 0.75]], [[0.75, 0.25], [0.5, 0.5]]])  # P[x_{k-2}, x_{k-1}, x_k]
    truth = p12.copy()
    for _ in range(n - 2):
        truth = np.einsum("...ab,abc->...abc", truth, P)
    states = np.array(list(itertools.product(range(d), repeat=n)))
    counts = np.rint(truth.reshape(-1) * 2 ** 12).astype(int)
    assert np.allclose(counts / 2 ** 12, truth.reshape(-1))
    y = np.repeat(states, counts, axis=0)
    tt = tt_rs(y, rank=4, cluster_size=2)
    np.testing.assert_allclose(tt.full(), truth, atol=1e-12)
    tt1 = tt_rs(y, rank=4, cluster_size=1)
    assert np.abs(tt1.full() - truth).max() > 1e-6


@pytest.mark.parametrize("embedding", ["poly", "legendre", "unit"])
def test_constant_features_get_a_filled_domain(embedding):
    # Image-like samples: the border "pixels" are constant in every sample.  The function is
    # linear in every variable (rank 2 in a dim-2 embedding that holds 1 and x), so the train
    # must be exact on fresh inputs drawn like the samples (blank border, random interior).
    rng = np.random.default_rng(3)
    X = rng.random((20, 7))
    X[:, [0, 1, 6]] = 0.0
    w = rng.standard_normal(7)
    f = lambda x: x @ w + 1.0  # noqa: E731
    tt, info = tt_rss(f, X, embedding=embedding, dim=2, rank=2, seed=0)
    assert len(info.notes) == 1 and "3 of 7 sites" in info.notes[0]
    for j in (0, 1, 6):
        assert info.domains[j].size >= 2
    if embedding == "poly":
        Y = rng.random((50, 7))
        Y[:, [0, 1, 6]] = 0.0
        np.testing.assert_allclose(tt_evaluate(tt, Y, info.embedding), f(Y), rtol=1e-9, atol=1e-9)
    # every sample the same: the embedding's own interval stands in
    tt2, info2 = tt_rss(lambda x: x.sum(1), np.zeros((4, 3)), embedding=embedding, dim=2, rank=2)
    assert info2.notes and np.all([dj.size >= 2 for dj in info2.domains])
    np.testing.assert_allclose(tt_evaluate(tt2, np.zeros((2, 3)), info2.embedding), 0.0, atol=1e-12)
