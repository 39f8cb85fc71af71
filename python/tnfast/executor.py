"""Evaluating a black box on an executor: chunks in flight, retries, results in order.

The compiled cores (:func:`tnfast.tt_cross`, :func:`tnfast.tt_rss`) call the black box ``f``
once per batch of points and wait for the values.  :func:`parallel_function` turns ``f`` into a
function of the same signature that splits each batch into chunks, submits them to an executor
(a :class:`concurrent.futures.ThreadPoolExecutor` or ``ProcessPoolExecutor``, a Dask
``distributed.Client``, or any object with ``submit`` returning futures with ``result()`` and
``cancel()``), keeps several chunks in flight and puts the values back in the order of the
points.  Nothing here knows the algorithms: they receive a function like any other.

Rules:

- a chunk whose task raises is submitted again, up to ``retries`` times; then
  :class:`ChunkError` names the chunk and carries its points (the last failure is its
  ``__cause__``);
- every chunk's values are written once into their slot of the batch, so a retried or
  rescheduled chunk (Dask reschedules the tasks of a lost worker) neither loses nor duplicates
  points;
- ``KeyboardInterrupt`` (or any other error) while waiting cancels the chunks still
  outstanding before it propagates;
- the values are those ``f`` returns on each chunk, concatenated: bitwise the in-process
  values whenever ``f``'s value at a point does not depend on the other points of its batch.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
from collections import deque

import numpy as np

__all__ = ["ChunkError", "parallel_function", "executor_workers"]


class ChunkError(RuntimeError):
    """A chunk of points whose evaluation failed on every attempt.

    Attributes
    ----------
    chunk : int
        Index of the chunk within its batch.
    start : int
        Row of the batch where the chunk starts.
    points : numpy.ndarray, shape (rows, n)
        The points the chunk held (a copy).
    attempts : int
        How many times it was submitted.
    """

    def __init__(self, message: str, chunk: int, start: int, points: np.ndarray, attempts: int):
        super().__init__(message)
        self.chunk = chunk
        self.start = start
        self.points = points
        self.attempts = attempts

    def __reduce__(self):  # picklable, so that it survives being sent between processes
        return (ChunkError, (self.args[0], self.chunk, self.start, self.points, self.attempts))


def _to_numpy(out):
    if hasattr(out, "detach") and hasattr(out, "cpu"):
        out = out.detach().cpu().numpy()
    return np.asarray(out)


def _run_chunk(f, x):
    """What a worker runs: f on one chunk, returned as a numpy array.

    A chunk received over the network may sit at any address in a receive buffer; it is copied
    into memory of its own, as the in-process path hands it to f, because vectorized kernels
    (torch's among them) may sum in another order on differently aligned data."""
    if not (x.flags.owndata and x.flags.writeable and x.flags.c_contiguous):
        x = np.array(x, order="C", copy=True)
    return _to_numpy(f(x))


def _is_dask_client(executor) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed" and hasattr(executor, "scatter")


def executor_workers(executor) -> int:
    """Number of tasks ``executor`` runs at once, as far as it says (1 when unknown)."""
    if _is_dask_client(executor):
        try:
            return max(1, int(sum(executor.nthreads().values())))
        except Exception:  # a client whose scheduler does not answer: fall back below
            return 1
    n = getattr(executor, "_max_workers", None)
    return max(1, int(n)) if isinstance(n, int) else 1


def check_executor_args(executor, chunk_size, retries):
    """Validate ``executor``, ``chunk_size`` and ``retries`` (shared by every entry point)."""
    if executor is not None and not (isinstance(executor, cf.Executor) or _is_dask_client(executor)
                                     or callable(getattr(executor, "submit", None))):
        raise TypeError("executor: expected a concurrent.futures.Executor or a dask distributed.Client, got "
                        f"{type(executor).__name__}")
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise ValueError(f"chunk_size: expected a positive integer or None, got {chunk_size!r}")
    if isinstance(retries, bool) or not isinstance(retries, (int, np.integer)) or retries < 0:
        raise ValueError(f"retries: expected a non-negative integer, got {retries!r}")


class _ParallelFunction:
    """``f`` evaluated chunk by chunk on an executor (see :func:`parallel_function`)."""

    def __init__(self, f, executor, chunk_size, retries, in_flight):
        self.f = f
        self.executor = executor
        self.chunk_size = None if chunk_size is None else int(chunk_size)
        self.retries = int(retries)
        workers = executor_workers(executor)
        self.workers = workers
        # while a worker computes one chunk, more wait in its queue: it never idles for the next submit
        self.in_flight = max(1, int(in_flight)) if in_flight is not None else 4 * workers
        self.n_chunks = 0       # chunks whose values came back
        self.n_retried = 0      # resubmissions
        self._dask = _is_dask_client(executor)
        self._f_ref = None
        if self._dask:
            # f (a model, a closure) travels to every worker once instead of with every chunk.
            self._f_ref = executor.scatter(f, broadcast=True, hash=False)

    def _submit(self, x, retry: bool):
        if self._dask:
            # A retry sends f itself: a scattered copy lost with its worker cannot fail it again.
            return self.executor.submit(_run_chunk, self.f if retry else self._f_ref, x, pure=False)
        return self.executor.submit(_run_chunk, self.f, x)

    def _fail(self, i, start, x, rows, attempts, err):
        first = np.asarray(x[0]).tolist() if len(x) else []
        return ChunkError(f"f failed on chunk {i} (rows {start}..{start + len(x) - 1} of a batch of {rows}, "
                          f"{len(x)} points, the first {first}) after {attempts} attempt(s): "
                          f"{type(err).__name__}: {err}", i, start, np.array(x, copy=True), attempts)

    def __call__(self, x):
        x = np.asarray(x)
        rows = x.shape[0]
        size = self.chunk_size or max(1, math.ceil(rows / (2 * self.workers)))
        starts = list(range(0, rows, size)) or [0]
        chunks = [np.array(x[s:s + size], order="C", copy=True) for s in starts]
        results = [None] * len(chunks)
        pending = deque()  # (index, future) submitted and not yet collected, oldest first
        current = None     # the future being waited on
        nxt = 0
        try:
            while nxt < len(chunks) and len(pending) < self.in_flight:
                pending.append((nxt, self._submit_or_error(chunks[nxt], False)))
                nxt += 1
            while pending:
                j, current = pending.popleft()
                attempts = 1
                while True:
                    try:
                        if isinstance(current, BaseException):  # submit itself failed
                            raise current
                        v = current.result()
                        break
                    except Exception as err:  # KeyboardInterrupt is not retried
                        if attempts > self.retries:
                            raise self._fail(j, starts[j], chunks[j], rows, attempts, err) from err
                        attempts += 1
                        self.n_retried += 1
                        current = self._submit_or_error(chunks[j], True)
                results[j] = v
                current = None
                self.n_chunks += 1
                if nxt < len(chunks):
                    pending.append((nxt, self._submit_or_error(chunks[nxt], False)))
                    nxt += 1
        except BaseException:
            for fut in [current] + [fu for _, fu in pending]:
                if fut is not None and not isinstance(fut, BaseException):
                    fut.cancel()
            raise
        for j, v in enumerate(results):
            if v.ndim == 0 or v.shape[0] != len(chunks[j]):
                raise ValueError(f"f: returned an array of shape {v.shape} for a chunk of {len(chunks[j])} points "
                                 f"(chunk {j}, rows {starts[j]}..{starts[j] + len(chunks[j]) - 1})")
        return results[0] if len(results) == 1 else np.concatenate(results, axis=0)

    def _submit_or_error(self, x, retry: bool):
        """Submit a chunk; an exception raised by ``submit`` itself stands in for its future."""
        try:
            return self._submit(x, retry)
        except Exception as err:  # a shut-down or broken pool: counted as a failed attempt
            return err

    def close(self):
        """Release the copy of ``f`` scattered to a Dask cluster."""
        if self._f_ref is not None:
            try:
                self._f_ref.release()
            except Exception:  # the client is gone already
                pass
            self._f_ref = None


def parallel_function(f, executor, *, chunk_size=None, retries: int = 2, in_flight=None):
    """``f`` with each batch split into chunks evaluated on ``executor``.

    Parameters
    ----------
    f : callable
        ``f(x) -> values`` on a batch ``x`` of shape (rows, n), returning (rows,) or (rows, C)
        values (numpy, or a torch tensor).  It must be picklable for a process pool (a
        module-level function or a picklable object; Dask also pickles closures).
    executor : concurrent.futures.Executor or distributed.Client
        Where the chunks run.
    chunk_size : int, optional
        Most points per chunk.  Default: each batch split into ``2 * workers`` chunks.
    retries : int
        Resubmissions of a failed chunk before :class:`ChunkError` is raised (default 2).
    in_flight : int, optional
        Most chunks submitted and not yet collected (default ``4 * workers``).

    Returns
    -------
    callable
        ``g(x)`` with the values of ``f`` on the rows of ``x``, in order: a numpy array of
        shape (rows,) or (rows, C).  ``g.close()`` releases what it holds on the cluster.
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable, got {type(f).__name__}")
    check_executor_args(executor, chunk_size, retries)
    if executor is None:
        raise TypeError("executor: expected a concurrent.futures.Executor or a dask distributed.Client, got None")
    return _ParallelFunction(f, executor, chunk_size, retries, in_flight)


def on_executor(f, executor=None, chunk_size=None, retries: int = 2):
    """``f`` itself when ``executor`` is None (no wrapper, no overhead), else
    :func:`parallel_function` of it; the arguments are checked either way."""
    check_executor_args(executor, chunk_size, retries)
    return f if executor is None else _ParallelFunction(f, executor, chunk_size, retries, None)
