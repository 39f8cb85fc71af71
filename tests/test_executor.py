"""Black boxes evaluated on concurrent.futures executors: same values, retries, ChunkError, Ctrl-C."""

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import tnfast
from tnfast.executor import ChunkError, on_executor, parallel_function


def smooth_index(idx):
    """Deterministic, row by row: the value at a point does not depend on its batch."""
    x = np.asarray(idx, dtype=np.float64)
    return 1.0 + np.sin(0.3 * (x * np.arange(1, x.shape[1] + 1)).sum(axis=1)) / (1.0 + 0.1 * x.sum(axis=1))


def smooth_vector(x):
    x = np.asarray(x)
    s = (x * np.linspace(0.5, 1.5, x.shape[1])).sum(axis=1)
    return np.stack([np.cos(s), np.sin(s), 1.0 + 0.1 * s], axis=1)


def row_index(x):
    return np.asarray(x)[:, 0] * 1.0


def same_cores(a, b):
    return len(a.cores) == len(b.cores) and all(np.array_equal(x, y) for x, y in zip(a.cores, b.cores))


@pytest.fixture(scope="module")
def process_pool():
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.fixture(scope="module")
def thread_pool():
    with ThreadPoolExecutor(2) as pool:
        yield pool


@pytest.mark.parametrize("pool", ["thread_pool", "process_pool"])
@pytest.mark.parametrize("chunk_size", [None, 1, 37])
def test_tt_cross_bitwise_identical(request, pool, chunk_size):
    ex = request.getfixturevalue(pool)
    ref, iref = tnfast.tt_cross(smooth_index, [5] * 6, seed=3, rel_tol=1e-8)
    tt, info = tnfast.tt_cross(smooth_index, [5] * 6, seed=3, rel_tol=1e-8, executor=ex, chunk_size=chunk_size)
    assert same_cores(ref, tt)
    assert info.evals == iref.evals and info.calls == iref.calls


@pytest.mark.parametrize("pool", ["thread_pool", "process_pool"])
def test_tt_rss_bitwise_identical(request, pool):
    ex = request.getfixturevalue(pool)
    samples = np.random.default_rng(0).random((12, 7))
    ref, iref = tnfast.tt_rss(smooth_vector, samples, rank=5, seed=1, batch_size=300)
    tt, info = tnfast.tt_rss(smooth_vector, samples, rank=5, seed=1, batch_size=300, executor=ex, chunk_size=64)
    assert same_cores(ref, tt)
    assert info.n_evals == iref.n_evals and info.pivot_error == iref.pivot_error


def test_tensorize_on_threads(thread_pool):
    torch = pytest.importorskip("torch")
    from tnfast.nn import tensorize

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    x = torch.rand(10, 6, dtype=torch.float64)
    a = tensorize(model, x, rank=4, seed=0, batch_size=256)
    b = tensorize(model, x, rank=4, seed=0, batch_size=256, executor=thread_pool, chunk_size=100)
    assert len(a.cores) == len(b.cores)
    for ca, cb in zip(a.cores, b.cores):
        assert torch.equal(ca, cb)


def test_order_kept_when_chunks_finish_out_of_order(thread_pool):
    def slow_first(x):
        time.sleep(0.02 if x[0, 0] < 10 else 0.0)
        return x[:, 0] * 2.0

    x = np.arange(100, dtype=np.float64)[:, None]
    g = parallel_function(slow_first, thread_pool, chunk_size=7, in_flight=5)
    np.testing.assert_array_equal(g(x), 2.0 * x[:, 0])
    assert g.n_chunks == 15


def test_vector_values_and_default_chunks(thread_pool):
    x = np.random.default_rng(1).random((50, 4))
    g = parallel_function(smooth_vector, thread_pool)
    np.testing.assert_array_equal(g(x), smooth_vector(x))
    assert g.n_chunks == 4  # 2 chunks per worker


def test_failed_chunk_is_retried(thread_pool):
    lock = threading.Lock()
    failed = set()

    def flaky(x):
        with lock:
            key = float(x[0, 0])
            if key not in failed:  # every chunk fails once
                failed.add(key)
                raise OSError("transient")
        return x[:, 0] + 1.0

    x = np.arange(40, dtype=np.float64)[:, None]
    g = parallel_function(flaky, thread_pool, chunk_size=10, retries=1)
    np.testing.assert_array_equal(g(x), x[:, 0] + 1.0)
    assert g.n_retried == 4 and g.n_chunks == 4


def test_chunk_error_carries_points(thread_pool):
    calls = []

    def bad_at_13(x):
        calls.append(len(x))
        if np.any(x[:, 0] == 13):
            raise ZeroDivisionError("boom")
        return x[:, 0]

    x = np.arange(30, dtype=np.float64)[:, None]
    g = parallel_function(bad_at_13, thread_pool, chunk_size=5, retries=2)
    with pytest.raises(ChunkError, match=r"chunk 2 \(rows 10\.\.14") as e:
        g(x)
    assert e.value.chunk == 2 and e.value.start == 10 and e.value.attempts == 3
    np.testing.assert_array_equal(e.value.points, x[10:15])
    assert isinstance(e.value.__cause__, ZeroDivisionError)


def test_chunk_error_through_tt_cross(thread_pool):
    def fails(idx):
        raise RuntimeError("simulation crashed")

    with pytest.raises(ChunkError, match="simulation crashed") as e:
        tnfast.tt_cross(fails, [3] * 4, seed=0, executor=thread_pool, retries=0)
    assert e.value.points.shape[1] == 4 and e.value.attempts == 1


class RecordingExecutor(ThreadPoolExecutor):
    def __init__(self):
        super().__init__(1)
        self.futures = []

    def submit(self, fn, *args, **kwargs):
        fut = super().submit(fn, *args, **kwargs)
        self.futures.append(fut)
        return fut


def test_keyboard_interrupt_cancels_outstanding():
    def interrupted(x):
        if x[0, 0] == 0:
            time.sleep(0.05)  # the other chunks are queued by now
            raise KeyboardInterrupt
        time.sleep(0.2)
        return x[:, 0]

    with RecordingExecutor() as ex:
        g = parallel_function(interrupted, ex, chunk_size=2, in_flight=6)
        with pytest.raises(KeyboardInterrupt):
            g(np.arange(20, dtype=np.float64)[:, None])
        assert len(ex.futures) == 6
        # the failed chunk, perhaps the one the worker took up meanwhile; the rest never ran
        assert sum(f.cancelled() for f in ex.futures) >= 4


def test_no_executor_is_f_itself():
    assert on_executor(smooth_index, None) is smooth_index


def test_bad_arguments(thread_pool):
    with pytest.raises(TypeError, match="executor"):
        tnfast.tt_cross(smooth_index, [3, 3], executor=object())
    with pytest.raises(ValueError, match="chunk_size"):
        tnfast.tt_cross(smooth_index, [3, 3], executor=thread_pool, chunk_size=0)
    with pytest.raises(ValueError, match="retries"):
        tnfast.tt_rss(smooth_vector, np.zeros((2, 2)), executor=thread_pool, retries=-1)
    with pytest.raises(ValueError, match="chunk_size"):
        tnfast.tt_rss(smooth_vector, np.zeros((2, 2)), chunk_size=1.5)


def test_wrong_length_names_chunk(thread_pool):
    g = parallel_function(lambda x: np.zeros(len(x) - 1), thread_pool, chunk_size=4)
    with pytest.raises(ValueError, match="chunk 0"):
        g(np.zeros((8, 2)))


def test_broken_pool_reports_chunk():
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    g = parallel_function(row_index, pool, chunk_size=4, retries=1)
    with pytest.raises(ChunkError, match="after 2 attempt"):
        g(np.zeros((8, 2)))


SIGINT_SCRIPT = r"""
import os, signal, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import tnfast
started = []
def slow(x):
    started.append(len(x))
    time.sleep(0.2)
    return x.sum(axis=1)
ex = ThreadPoolExecutor(2)
threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
t0 = time.perf_counter()
try:
    tnfast.tt_rss(slow, np.random.default_rng(0).random((30, 6)), rank=3, batch_size=20000, executor=ex,
                  chunk_size=10)
    print("NOT INTERRUPTED")
except KeyboardInterrupt:
    ex.shutdown(wait=True)
    print("INTERRUPTED", round(time.perf_counter() - t0, 3), len(started))
"""


def test_sigint_cancels_outstanding_chunks():
    """A real Ctrl-C during tt_rss on a thread pool: KeyboardInterrupt, and the chunks not yet started never run."""
    r = subprocess.run([sys.executable, "-c", SIGINT_SCRIPT], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert "INTERRUPTED" in r.stdout and "NOT" not in r.stdout, r.stdout + r.stderr
    _, seconds, started = r.stdout.split()
    # the first batch holds 30 samples = 3 chunks, then one site of up to 30 x 2 x 30 points = 180 chunks;
    # at 0.2 s per chunk on 2 threads, about 6 chunks start before the signal and a few while it propagates
    assert int(started) < 20


def test_model_function_pickles():
    """tensorize's black box is a plain picklable object, as a process pool needs (not a closure)."""
    import pickle

    torch = pytest.importorskip("torch")
    from tnfast.nn.tensorize import model_function

    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    f = model_function(model, dtype=torch.float64)
    g = pickle.loads(pickle.dumps(f))
    x = np.random.default_rng(0).random((6, 4))
    np.testing.assert_array_equal(f(x), g(x))
    assert f(x).shape == (6, 3) and g.model is not model
