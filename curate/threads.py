"""The thread budget: the cores this process may use, divided among worker processes, in one place.

Every compute library assumes it owns the machine (torch/oneDNN, BLAS, numba, polars, DuckDB,
tokenizers' rayon pool); N worker processes each doing so on 2 cores oversubscribe them N-fold.
"""

from __future__ import annotations

import os

_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS", "POLARS_MAX_THREADS", "RAYON_NUM_THREADS")


def available_cores() -> int:
    """Cores this process may run on (affinity/cgroup aware)."""
    return len(os.sched_getaffinity(0))


def threads_per_worker(workers: int) -> int:
    """Threads each of ``workers`` processes should use so that together they fill, not exceed, the cores."""
    return max(1, available_cores() // max(1, workers))


def apply_thread_limits(threads: int) -> None:
    """Limit this process to ``threads``: environment for libraries not yet loaded, torch if loaded."""
    for name in _ENV:
        os.environ[name] = str(threads)
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
