"""Ctrl-C stops long compiled work, the GIL is released around it, and two Python threads using
the library at once get the same results as one after the other."""

import os
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import tnfast
from tnfast import MPS


# Each snippet sets up `call`, a compiled computation of well over 20 s on this class of machine
# (far more under sanitizers), that a SIGINT 0.3 s into the call must stop.
LONG_CALLS = {
    "evaluate": """
        t = tnfast.MPS.random([2] * 40, 100, seed=0)
        idx = np.random.default_rng(0).integers(0, 2, size=(400000, 40))
        call = lambda: t.evaluate(idx)
    """,
    "evaluate_embedded": """
        t = tnfast.MPS.random([3] * 40, 100, seed=0)
        f = np.random.default_rng(0).random((150000, 40, 3))
        call = lambda: t.evaluate_embedded(f)
    """,
    "canonicalize": """
        t = tnfast.MPS.random([4] * 1500, 100, seed=0)
        call = lambda: t.canonicalize(0)
    """,
    "round": """
        t = tnfast.MPS.random([4] * 1500, 100, seed=0)
        call = lambda: t.round(max_rank=60)
    """,
    "maxvol": """
        A = np.random.default_rng(0).standard_normal((100000, 200))
        call = lambda: tnfast.maxvol(A, tol=1.0, max_iters=10 ** 9)
    """,
    "rect_maxvol": """
        A = np.random.default_rng(0).standard_normal((200000, 40))
        call = lambda: tnfast.rect_maxvol(A, tol=1.0, min_rows=30000, max_rows=30000)
    """,
}

SCRIPT = """
import os, signal, sys, threading, time
import numpy as np
import tnfast
{setup}
fired = []
def fire():
    fired.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)
threading.Timer(float(os.environ.get("TNFAST_SIGINT_DELAY", "0.3")), fire).start()
t0 = time.perf_counter()
try:
    call()
    print("COMPLETED", time.perf_counter() - t0)
except KeyboardInterrupt:
    stop = time.perf_counter() - fired[0]
    c0 = time.process_time()
    time.sleep(0.5)
    busy = time.process_time() - c0
    print("INTERRUPTED", stop, busy, threading.active_count())
"""


@pytest.mark.parametrize("name", sorted(LONG_CALLS))
def test_ctrl_c_stops_long_compiled_work(name):
    code = SCRIPT.format(setup=textwrap.dedent(LONG_CALLS[name]))
    # The child imports the same tnfast as this process (an installed wheel or the dev tree).
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(tnfast.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([pkg_parent] + [p for p in sys.path if p]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    words = out.stdout.split()
    assert words and words[0] == "INTERRUPTED", out.stdout + out.stderr[-2000:]
    stop, busy, n_threads = float(words[1]), float(words[2]), int(words[3])
    # stopped long before the work was done (it takes tens of seconds), and nothing keeps computing
    assert stop < 8.0, f"{name}: {stop:.2f} s from SIGINT to KeyboardInterrupt"
    assert busy < 0.3, f"{name}: {busy:.2f} s of CPU in the 0.5 s after the interrupt"
    assert n_threads == 1


def test_gil_released_during_long_calls():
    t = MPS.random([2] * 40, 60, seed=0)
    idx = np.random.default_rng(0).integers(0, 2, size=(30000, 40))
    ticks = [0]
    seen = {}
    done = threading.Event()

    def work():
        before = ticks[0]
        t.evaluate(idx)
        t.canonicalize(0)
        seen["ticks"] = ticks[0] - before
        done.set()

    th = threading.Thread(target=work)
    th.start()
    while not done.is_set():
        ticks[0] += 1
    th.join()
    assert seen["ticks"] > 1000  # the main thread ran Python code while the core worked


def test_two_threads_give_the_sequential_results():
    rng = np.random.default_rng(0)
    a = MPS.random([3] * 12, 20, seed=1)
    b = MPS.random([2] * 14, 24, seed=2)
    dense = rng.standard_normal((6, 7, 8, 9))
    idx = rng.integers(0, 3, size=(5000, 12))
    mat = rng.standard_normal((3000, 40))
    m = tnfast.MPO.random([2] * 14, [2] * 14, 3, seed=3)

    jobs = {
        "evaluate": lambda: a.evaluate(idx),
        "round": lambda: b.round(max_rank=8).full(max_elements=2 ** 14),
        "canonicalize": lambda: a.canonicalize(5).cores[5],
        "tt_svd": lambda: tnfast.tt_svd(dense, rel_tol=1e-3).full(),
        "entropy": lambda: b.entropy(),
        "maxvol": lambda: np.asarray(tnfast.maxvol(mat)),
        "apply": lambda: m.apply(b).round(max_rank=6).full(max_elements=2 ** 14),
        "norm": lambda: np.array(b.norm()),
    }
    ref = {k: f() for k, f in jobs.items()}
    results = {0: {}, 1: {}}
    errors = []

    def runner(slot, order):
        try:
            for _ in range(3):
                for k in order:
                    results[slot].setdefault(k, []).append(jobs[k]())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    names = sorted(jobs)
    threads = [threading.Thread(target=runner, args=(0, names)), threading.Thread(target=runner, args=(1, names[::-1]))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for slot in (0, 1):
        for k, vals in results[slot].items():
            for v in vals:
                np.testing.assert_allclose(v, ref[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_no_stop_without_a_signal():
    # a pending signal handler that does not raise leaves the computation running to the end
    old = signal.signal(signal.SIGUSR1, lambda *a: None)
    try:
        t = MPS.random([2] * 30, 40, seed=0)
        idx = np.random.default_rng(0).integers(0, 2, size=(20000, 30))
        timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGUSR1))
        timer.start()
        out = t.evaluate(idx)
        timer.join()
        full = t.evaluate(idx[:10])
        np.testing.assert_allclose(out[:10], full)
    finally:
        signal.signal(signal.SIGUSR1, old)
