"""The memory guards count on what this process may really allocate: under ``ulimit -v`` (and a
cgroup memory limit) a request too large fails early with the clear message, in Python and C++."""

import os
import re
import subprocess
import sys
import textwrap

import pytest

import tnfast

resource = pytest.importorskip("resource")

CHILD = textwrap.dedent("""
    import resource, re
    import numpy as np
    import tnfast
    with open("/proc/self/status") as fh:
        vm = next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), resource.RLIM_INFINITY))
    from tnfast._validate import physical_memory_bytes
    print("py", physical_memory_bytes() / 2 ** 30)
    for call in (lambda: tnfast.grids.uniform_grid(0.0, 1.0, 2 ** 28),          # checked in Python
                 lambda: tnfast.tt_rs(np.array([[0, 1999, 5], [1999, 0, 3]]), rank=2)):  # in C++
        try:
            call()
            print("no error")
        except MemoryError as e:
            print("avail", re.search(r"more than the ([0-9.e+-]+) GiB", str(e)).group(1))
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (Linux)")
def test_address_space_limit_lowers_what_the_guards_count_on():
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(tnfast.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([pkg_parent] + [p for p in sys.path if p]))
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.split("\n")
    py = float(lines[0].split()[1])
    assert py <= 1.0 + 1e-9
    avail = [float(x.split()[1]) for x in lines if x.startswith("avail")]
    assert len(avail) == 2, out.stdout  # both calls refused with the guard's message
    assert all(a <= 1.0 + 1e-3 for a in avail), out.stdout
