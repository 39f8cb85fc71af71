"""Black boxes evaluated on a real Dask cluster (LocalCluster: 2 worker processes, 1 thread each).

Skipped without the ``dask`` extra (``pip install "tnfast[dask]"``).
"""

import os
import pathlib
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import tnfast  # noqa: E402
from tnfast.executor import ChunkError, parallel_function  # noqa: E402

# The workers are fresh processes that cannot import this test module: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client():
    # the workers import tnfast from where this process found it
    src = str(pathlib.Path(tnfast.__file__).resolve().parents[1])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = src + (os.pathsep + old if old else "")
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=50)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def smooth_index(idx):
    x = np.asarray(idx, dtype=np.float64)
    return 1.0 + np.sin(0.3 * (x * np.arange(1, x.shape[1] + 1)).sum(axis=1)) / (1.0 + 0.1 * x.sum(axis=1))


def smooth_vector(x):
    x = np.asarray(x)
    s = (x * np.linspace(0.5, 1.5, x.shape[1])).sum(axis=1)
    return np.stack([np.cos(s), np.sin(s), 1.0 + 0.1 * s], axis=1)


def same_cores(a, b):
    return len(a.cores) == len(b.cores) and all(np.array_equal(x, y) for x, y in zip(a.cores, b.cores))


def test_tt_cross_on_dask_bitwise(client):
    ref, iref = tnfast.tt_cross(smooth_index, [5] * 6, seed=3, rel_tol=1e-8)
    tt, info = tnfast.tt_cross(smooth_index, [5] * 6, seed=3, rel_tol=1e-8, executor=client, chunk_size=64)
    assert same_cores(ref, tt)
    assert info.evals == iref.evals


def test_tt_rss_on_dask_bitwise(client):
    samples = np.random.default_rng(0).random((12, 7))
    ref, _ = tnfast.tt_rss(smooth_vector, samples, rank=5, seed=1, batch_size=500)
    tt, _ = tnfast.tt_rss(smooth_vector, samples, rank=5, seed=1, batch_size=500, executor=client)
    assert same_cores(ref, tt)


def test_tensorize_on_dask(client):
    torch = pytest.importorskip("torch")
    from tnfast.nn import tensorize

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    x = torch.rand(10, 6, dtype=torch.float64)
    a = tensorize(model, x, rank=4, seed=0, batch_size=256)
    b = tensorize(model, x, rank=4, seed=0, batch_size=256, executor=client, chunk_size=100)
    for ca, cb in zip(a.cores, b.cores):
        assert torch.equal(ca, cb)


def killer(x, marker):
    """Kills its worker process the first time it runs anywhere (the marker file says so)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return x[:, 0] * 3.0 + x[:, 1]
    os.close(fd)
    os._exit(1)


def test_worker_killed_mid_run_loses_no_point(client, tmp_path):
    marker = str(tmp_path / "killed")

    def f(x):
        return killer(x, marker)

    x = np.random.default_rng(2).random((400, 2))
    g = parallel_function(f, client, chunk_size=50)
    v = g(x)
    assert os.path.exists(marker)  # a worker did die
    np.testing.assert_array_equal(v, x[:, 0] * 3.0 + x[:, 1])
    assert g.n_chunks == 8


def test_failing_chunk_reported_from_dask(client):
    def bad(x):
        if np.any(x[:, 0] >= 30):
            raise ArithmeticError("no value past 30")
        return x[:, 0]

    x = np.arange(40, dtype=np.float64)[:, None]
    g = parallel_function(bad, client, chunk_size=10, retries=1)
    with pytest.raises(ChunkError, match="chunk 3") as e:
        g(x)
    np.testing.assert_array_equal(e.value.points, x[30:40])
    assert e.value.attempts == 2
