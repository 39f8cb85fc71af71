"""Time from SIGINT to KeyboardInterrupt for long compiled calls (each in a fresh process); the
signal comes TNFAST_SIGINT_DELAY seconds (default 2) into the call.

    PYTHONPATH=python python3 scripts/interrupt_latency.py
"""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from test_interrupt import LONG_CALLS, SCRIPT  # noqa: E402

CALLS = dict(LONG_CALLS)
CALLS["tt_svd 64^4"] = """
    a = np.random.default_rng(0).standard_normal((64,) * 4)
    call = lambda: tnfast.tt_svd(a)
"""
CALLS["evaluate 150k tuples"] = """
    t = tnfast.MPS.random([2] * 40, 100, seed=0)
    idx = np.random.default_rng(0).integers(0, 2, size=(150000, 40))
    call = lambda: t.evaluate(idx)
"""

env = dict(os.environ, TNFAST_SIGINT_DELAY=os.environ.get("TNFAST_SIGINT_DELAY", "2"), PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "python")] + sys.path))
print(f"{'call':24s} {'SIGINT -> KeyboardInterrupt':>28s} {'CPU in the next 0.5 s':>22s}")
for name, setup in CALLS.items():
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(setup=textwrap.dedent(setup))], capture_output=True,
                         text=True, env=env)
    w = out.stdout.split()
    if w and w[0] == "INTERRUPTED":
        print(f"{name:24s} {float(w[1]):27.3f}s {float(w[2]):21.3f}s")
    else:
        print(f"{name:24s} {' '.join(w) or out.stderr[-300:]}")
