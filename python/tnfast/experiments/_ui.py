"""The commands' progress bars and figures: the package-wide helpers of :mod:`tnfast._ui`."""

from .._ui import progress, pyplot

__all__ = ["progress", "pyplot"]
