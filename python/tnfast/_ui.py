"""Progress bars and figures, with a loud notice when an optional extra is missing.

tqdm and matplotlib belong to the ``nn`` extra. Without them the library and the commands still
run and return or write their numbers, and say once, on stderr, what they could not show and how
to get it.
"""

from __future__ import annotations

import sys

_told: set = set()


def _notice(package: str, what: str) -> None:
    if package in _told:
        return
    _told.add(package)
    print(f"tnfast: {package} is not installed, so {what} (pip install {package}, or pip install 'tnfast[nn]')",
          file=sys.stderr, flush=True)


class _NullBar:
    """The parts of a tqdm bar the commands use, doing nothing."""

    def __init__(self, iterable=None):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable if self._iterable is not None else ())

    def update(self, n=1):
        pass

    def set_postfix_str(self, s=""):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def set_description(self, s=""):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def progress(iterable=None, *, total=None, desc: str = "", enabled: bool = True, **kwargs):
    """A tqdm bar (over ``iterable`` or counting to ``total``), or a silent stand-in when disabled.

    When tqdm is missing the stand-in is used and a notice says so once.
    """
    if not enabled:
        return _NullBar(iterable)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        _notice("tqdm", "no progress bars are shown")
        return _NullBar(iterable)
    kwargs.setdefault("mininterval", 1.0)
    return tqdm(iterable, total=total, desc=desc, **kwargs)


def pyplot(what: str = "no figure is drawn"):
    """matplotlib.pyplot on the Agg backend, or None after a notice that says what is not drawn."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _notice("matplotlib", what)
        return None
    return plt
