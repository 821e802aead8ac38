"""The thread budget: how many threads each process of a run may use, decided in one place.

A run is a driver plus ``workers`` processes. Every parallel runtime inside a process (OpenMP in
scikit-learn and torch, OpenBLAS/MKL, numba, polars, DuckDB) starts one thread per core by default, so
N workers on C cores ran N x C threads, and OpenMP/BLAS threads spin at barriers waiting for a thread
the OS has descheduled. On 2 busy cores that made k-means 12x and a 1633 x 200 SVD 7x slower than
with one thread (numbers in the README, "Speed"). So:

- :func:`threads_per_worker` ``(workers)`` = ``MIXLAB_THREADS`` if set, else ``max(1, cores // workers)``;
- :func:`apply_thread_limits` ``(n)`` caps every runtime of *this* process at ``n`` (BLAS/OpenMP through
  threadpoolctl, numba, torch if loaded) and sets the environment variables that libraries loaded later
  and child processes read (``OMP_NUM_THREADS``, ``POLARS_MAX_THREADS``, ... and
  ``OMP_WAIT_POLICY=PASSIVE``: idle OpenMP threads sleep instead of spinning);
- :func:`thread_budget` ``(n)`` does the same for a ``with`` block and restores everything after.

The process pool (:mod:`curate.pipeline.executor`) starts its workers inside ``thread_budget`` and calls
``apply_thread_limits`` in each; the driver runs global stages inside it too. Other programs (the
trainer) call ``apply_thread_limits(threads_per_worker(k))`` for ``k`` concurrent processes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from curate.core.settings import threads_override

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS", "POLARS_MAX_THREADS", "RAYON_NUM_THREADS")
_current: int | None = None


def cores() -> int:
    """CPU cores this process may run on (affinity-aware, e.g. under taskset or a container cpuset)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """Threads for each of ``workers`` concurrent processes: ``MIXLAB_THREADS``, else cores // workers (>= 1)."""
    return threads_override() or max(1, cores() // max(1, workers))


def current_threads() -> int:
    """The budget last applied in this process (all cores when none was)."""
    return _current or cores()


def thread_env(n: int) -> dict[str, str]:
    """The environment variables that cap libraries loaded later, and child processes, at ``n`` threads."""
    return {name: str(n) for name in THREAD_VARS} | {"OMP_WAIT_POLICY": "PASSIVE"}


def apply_thread_limits(n: int) -> None:
    """Cap every thread pool of this process at ``n`` threads, now and for libraries loaded later."""
    global _current
    from threadpoolctl import threadpool_limits

    os.environ.update(thread_env(n))
    if "numba" not in sys.modules:  # numba re-reads it at every compile and fails if it changed after start
        os.environ["NUMBA_NUM_THREADS"] = str(n)
    threadpool_limits(n)
    _set_runtime_threads(dict.fromkeys(_runtime_threads(), n))
    _current = n


def _runtime_threads() -> dict[str, int]:
    """Thread counts of the loaded runtimes that threadpoolctl does not manage (numba, torch)."""
    counts = {}
    if "numba" in sys.modules:
        counts["numba"] = sys.modules["numba"].get_num_threads()
    if "torch" in sys.modules:
        counts["torch"] = sys.modules["torch"].get_num_threads()
    return counts


def _set_runtime_threads(counts: dict[str, int]) -> None:
    for runtime, n in counts.items():
        module = sys.modules[runtime]
        if runtime == "numba":
            n = min(n, module.config.NUMBA_NUM_THREADS)  # numba cannot grow past its start-up pool
        module.set_num_threads(max(1, n))


@contextmanager
def thread_budget(n: int) -> Iterator[None]:
    """Run a block (and start child processes) under a budget of ``n`` threads; restore everything after.

    numba is capped with ``set_num_threads`` only (never ``NUMBA_NUM_THREADS``, which numba re-reads at
    every compile); worker processes get their numba cap from :func:`apply_thread_limits`."""
    global _current
    from threadpoolctl import threadpool_limits

    saved_env = {name: os.environ.get(name) for name in thread_env(n)}
    saved_runtime, saved_current = _runtime_threads(), _current
    os.environ.update(thread_env(n))
    with threadpool_limits(n):
        _set_runtime_threads(dict.fromkeys(saved_runtime, n))
        _current = n
        try:
            yield
        finally:
            _current = saved_current
            _set_runtime_threads(saved_runtime)
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
