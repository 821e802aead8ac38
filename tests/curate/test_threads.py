"""The thread budget: cores divided among workers, MIXLAB_THREADS overrides, workers really run under it."""

from __future__ import annotations

import os

import pytest

from curate.core.threads import cores, current_threads, thread_budget, threads_per_worker
from curate.pipeline.executor import Pool


def worker_threads() -> dict[str, object]:
    """What a worker process sees (module level: pickled by reference into the spawn pool)."""
    import numba
    import polars as pl
    from threadpoolctl import threadpool_info

    return {"omp_env": os.environ.get("OMP_NUM_THREADS"), "wait": os.environ.get("OMP_WAIT_POLICY"),
            "polars": pl.thread_pool_size(), "numba": numba.get_num_threads(),
            "blas": sorted({info["num_threads"] for info in threadpool_info()}), "budget": current_threads()}


def test_cores_are_divided_among_workers(monkeypatch):
    monkeypatch.delenv("MIXLAB_THREADS", raising=False)
    assert threads_per_worker(1) == cores()
    assert threads_per_worker(cores() * 4) == 1
    monkeypatch.setenv("MIXLAB_THREADS", "3")
    assert threads_per_worker(8) == 3
    monkeypatch.setenv("MIXLAB_THREADS", "zero")
    with pytest.raises(ValueError, match="MIXLAB_THREADS"):
        threads_per_worker(2)


def test_pool_workers_run_under_the_budget(monkeypatch):
    monkeypatch.setenv("MIXLAB_THREADS", "1")
    pool = Pool(2, fanout="always")
    seen: list[dict] = []
    try:
        pool.run(worker_threads, [(), (), ()], seen.append)
    finally:
        pool.close()
    assert len(seen) == 3
    for info in seen:
        assert info == {"omp_env": "1", "wait": "PASSIVE", "polars": 1, "numba": 1, "blas": [1], "budget": 1}


def test_budget_block_restores_the_environment(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    with thread_budget(1):
        assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["POLARS_MAX_THREADS"] == "1"
        assert current_threads() == 1
    assert os.environ["OMP_NUM_THREADS"] == "7" and "POLARS_MAX_THREADS" not in os.environ
