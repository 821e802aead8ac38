"""Shard-atomic execution of stages over docs shards, in a process pool, resumable.

Each unit of work writes one file under a temporary name and renames it; a file that exists is done,
so a killed run resumes by skipping finished shards. Results never depend on scheduling: every output is
keyed by shard, and global stages see shards in sorted order.

Threads: workers start under :func:`curate.core.threads.thread_budget` (cores // workers threads each); the
driver runs global stages with one thread. Workers die with the driver, even a ``kill -9``-ed one
(:mod:`curate.core.workers`). A worker imports only the modules of the stages it runs.
Small steps run in the driver: workers are used only where they save time (:mod:`curate.pipeline.fanout`).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from curate.core import storage
from curate.core.catalog import Catalog
from curate.core.settings import fanout_mode
from curate.core.storage import Location
from curate.core.threads import thread_budget, threads_per_worker
from curate.core.workers import process_pool
from curate.pipeline.fanout import InlineProbe
from curate.pipeline.progress import StepProgress
from curate.pipeline.shards import Upstream, read_survivors, rewrite_part, stage_part
from curate.stage import DROP_REASON, TABLES_DIR, GlobalStage, MapStage, Stage, StageContext

_WORKER_STAGES: dict[tuple[str, str], Stage] = {}


def stage_ref(stage: Stage) -> str:
    """``module:Class`` of a stage, so a worker imports that stage's module and no other."""
    return f"{type(stage).__module__}:{type(stage).__qualname__}"


def worker_stage(ref: str, params_json: str) -> Stage:
    """The stage instance of this worker process, set up once (models load here, not per shard)."""
    key = (ref, params_json)
    if key not in _WORKER_STAGES:
        module, qualname = ref.split(":")
        cls = getattr(importlib.import_module(module), qualname)
        stage = cls(cls.Params.model_validate_json(params_json))
        stage.setup()
        _WORKER_STAGES[key] = stage
    return _WORKER_STAGES[key]


class Pool:
    """Runs picklable tasks in the driver or in a spawn-context process pool, under the thread budget.

    ``workers=1`` runs every task in the driver. Otherwise the driver runs a step's tasks itself until
    handing the rest to the workers saves time (:mod:`curate.pipeline.fanout`; ``MIXLAB_FANOUT=always``
    sends every task to a worker); the worker processes start the first time a step pays for them."""

    def __init__(self, workers: int, fanout: str | None = None) -> None:
        self.workers = max(1, workers)
        self.threads = threads_per_worker(self.workers)
        self.fanout = fanout or fanout_mode()
        self._executor: ProcessPoolExecutor | None = None

    def run(self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]], on_done: Callable[[Any], None]) -> None:
        """Call ``fn(*task)`` for every task; ``on_done(result)`` in the driver as each finishes."""
        todo = list(tasks)
        with thread_budget(self.threads):  # workers start here: they inherit the budget's environment
            ran = self._run_inline(fn, todo, on_done)
            if ran < len(todo):
                self._run_workers(fn, todo[ran:], on_done)

    def _run_inline(self, fn: Callable[..., Any], tasks: list[tuple[Any, ...]], on_done: Callable[[Any], None]) -> int:
        """Run tasks in the driver while that is at least as fast as fanning out; how many ran."""
        if self.workers == 1:
            for task in tasks:
                on_done(fn(*task))
            return len(tasks)
        if self.fanout == "always":
            return 0
        probe = InlineProbe(self.workers)
        for done, task in enumerate(tasks):
            if probe.fan_out(len(tasks) - done, booted=self._executor is not None):
                return done
            with probe:
                result = fn(*task)
            on_done(result)
        return len(tasks)

    def _ensure_executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = process_pool(self.workers, self.threads)
        return self._executor

    def _run_workers(self, fn: Callable[..., Any], tasks: list[tuple[Any, ...]], on_done: Callable[[Any], None]) -> None:
        executor = self._ensure_executor()
        pending: set[Future[Any]] = set()
        queue = iter(tasks)
        for task in queue:
            pending.add(executor.submit(fn, *task))
            if len(pending) >= self.workers * 2:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                on_done(future.result())
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(executor.submit(fn, *nxt))

    def close(self) -> None:
        _WORKER_STAGES.clear()  # stages (and their models) the driver set up for tasks it ran itself
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None


def _columns_for(stage: Stage, upstream: Upstream) -> tuple[str, ...]:
    optional = tuple(c for c in stage.optional_needs if c in upstream.available())
    return ("doc_id", "text", *stage.needs, *optional)


def map_one_shard(
    data: str, ref: str, params_json: str, shard: str, upstream: Upstream, columns: tuple[str, ...]
) -> dict[str, Any]:
    """Apply a map stage to one shard (in a worker) and write its part atomically."""
    started = time.perf_counter()
    stage = worker_stage(ref, params_json)
    name = stage.name
    batch = read_survivors(storage.location(data), shard, upstream, columns)
    raw = stage.apply(batch) if batch.height else stage.empty_output().with_columns(pl.lit(None, pl.String).alias("text"))
    out = stage.conform(raw)
    if out.height != batch.height or not out["doc_id"].sort().equals(batch["doc_id"].sort()):
        raise RuntimeError(f"stage {name!r} on shard {shard}: output doc_ids differ from its input")
    if stage.rewrites:  # the text versions first: the part's existence marks the shard done
        if "text" not in raw.columns:
            raise RuntimeError(f"rewrite stage {name!r} returned no text column")
        storage.write_parquet(raw.select("doc_id", pl.col("text").cast(pl.String)), rewrite_part(storage.location(data), name, shard))
    storage.write_parquet(out, stage_part(storage.location(data), name, shard))
    return _shard_stats(shard, out, batch, started)


def _shard_stats(shard: str, out: pl.DataFrame, batch: pl.DataFrame, started: float) -> dict[str, Any]:
    dropped = int(out[DROP_REASON].is_not_null().sum())
    n_bytes = int(batch["text"].str.len_bytes().sum()) if "text" in batch.columns and batch.height else 0
    return {
        "shard": shard,
        "n_in": batch.height,
        "n_kept": batch.height - dropped,
        "n_dropped": dropped,
        "n_bytes": n_bytes,
        "wall_s": time.perf_counter() - started,
    }


def fn_one_shard(
    fn: Callable[[pl.DataFrame], pl.DataFrame], data: str, shard: str, upstream: Upstream, columns: tuple[str, ...], out: str
) -> dict[str, Any]:
    """Run a global stage's per-shard function (in a worker) and write its output atomically."""
    started = time.perf_counter()
    batch = read_survivors(storage.location(data), shard, upstream, columns)
    storage.write_parquet(fn(batch), storage.location(out))
    return {"shard": shard, "n_in": batch.height, "n_bytes": 0, "wall_s": time.perf_counter() - started}


def call_indexed(fn: Callable[..., Any], index: int, task: tuple[Any, ...]) -> tuple[int, Any]:
    """``(index, fn(*task))``: lets the driver put results back in task order."""
    return index, fn(*task)


class StageRunner:
    """Runs one stage over all shards of a run; records nothing (the runner owns the catalog)."""

    def __init__(self, data: Location, scratch: Path, pool: Pool, progress: StepProgress, seed: int) -> None:
        self.data, self.scratch, self.pool, self.progress, self.seed = data, scratch, pool, progress, seed

    def run(self, stage: Stage, shards: list[str], upstream: Upstream, catalog: Catalog) -> list[dict[str, Any]]:
        if isinstance(stage, MapStage):
            return self._run_map(stage, shards, upstream)
        if isinstance(stage, GlobalStage):
            return self._run_global(stage, shards, upstream, catalog)
        raise TypeError(f"stage {stage.name!r} is neither a MapStage nor a GlobalStage")

    def _run_map(self, stage: Stage, shards: list[str], upstream: Upstream) -> list[dict[str, Any]]:
        params_json = stage.params.model_dump_json()
        columns = _columns_for(stage, upstream)
        todo = [s for s in shards if not stage_part(self.data, stage.name, s).exists()]
        stats: list[dict[str, Any]] = []
        with self.progress.step(f"stage {stage.name}", total=len(shards), done=len(shards) - len(todo)) as step:
            tasks = [(str(self.data), stage_ref(stage), params_json, s, upstream, columns) for s in todo]
            self.pool.run(map_one_shard, tasks, lambda r: (stats.append(r), step.advance(r["n_in"], r["n_bytes"])))
        return stats

    def _pool_map(
        self,
        step_name: str,
        upstream: Upstream,
        shards: list[str],
        fn: Callable[..., pl.DataFrame],
        columns: tuple[str, ...],
        out_dir: Location,
        named: bool = False,
    ) -> list[Location]:
        outs = [out_dir / f"{s}.parquet" for s in shards]
        todo = [(s, o) for s, o in zip(shards, outs, strict=True) if not o.exists()]
        with self.progress.step(step_name, total=len(shards), done=len(shards) - len(todo)) as step:
            tasks = [(partial(fn, shard=s) if named else fn, str(self.data), s, upstream, ("doc_id", *columns), str(o)) for s, o in todo]
            self.pool.run(fn_one_shard, tasks, lambda r: step.advance(r["n_in"], r["n_bytes"]))
        return outs

    def _task_map(self, step_name: str, fn: Callable[..., Any], tasks: list[tuple[Any, ...]]) -> list[Any]:
        """Run ``fn(*task)`` for every task in the pool; results in task order (not completion order)."""
        results: list[Any] = [None] * len(tasks)

        def done(indexed: tuple[int, Any]) -> None:
            results[indexed[0]] = indexed[1]
            step.advance()

        with self.progress.step(step_name, total=len(tasks)) as step:
            self.pool.run(call_indexed, [(fn, i, task) for i, task in enumerate(tasks)], done)
        return results

    def _run_global(self, stage: GlobalStage, shards: list[str], upstream: Upstream, catalog: Catalog) -> list[dict[str, Any]]:
        started = time.perf_counter()
        stage.setup()
        ctx = StageContext(
            stage_name=stage.name,
            stage_dir=self.data / "stages" / stage.name,
            scratch_dir=self.scratch / stage.name,
            shards=shards,
            workers=self.pool.workers,
            seed=self.seed,
            catalog=catalog,
            shard_reader=partial(self._read, upstream),
            pool_map=partial(self._pool_map, f"stage {stage.name} (map)", upstream, shards),
            task_map=self._task_map,
            warn=self.progress.warn,
            tables=stage.tables,
        )
        storage.remove_tree(ctx.stage_dir / TABLES_DIR)  # reduce writes every table again: none left from an earlier run
        # one thread: k-means, SVD and eigenvalues then give the same bits whatever the number of workers
        # or cores (and on busy cores one thread was fastest); the pool still fans work out
        with self.progress.step(f"stage {stage.name} (reduce)", total=None), thread_budget(1):
            out = stage.conform(stage.reduce(ctx))
        return self._write_global_parts(stage, shards, upstream, out, started)

    def _read(self, upstream: Upstream, shard: str, columns: tuple[str, ...]) -> pl.DataFrame:
        return read_survivors(self.data, shard, upstream, columns)

    def _write_global_parts(
        self, stage: Stage, shards: list[str], upstream: Upstream, out: pl.DataFrame, started: float
    ) -> list[dict[str, Any]]:
        """Split a global stage's output by shard; every survivor must appear exactly once."""
        if out["doc_id"].is_duplicated().any():
            raise RuntimeError(f"stage {stage.name!r} returned a doc_id more than once")
        stats, seen = [], 0
        present = out.with_columns(pl.lit(True).alias("_present"))
        for shard in shards:
            ids = read_survivors(self.data, shard, upstream, ("doc_id",))
            part = ids.join(present, on="doc_id", how="left", maintain_order="left")
            missing = int(part["_present"].is_null().sum())
            if missing:
                raise RuntimeError(f"stage {stage.name!r} returned no row for {missing} documents of {shard}")
            part = part.drop("_present")
            seen += part.height
            storage.write_parquet(stage.conform(part), stage_part(self.data, stage.name, shard))
            stats.append(_shard_stats(shard, part, ids, started))
        if seen != out.height:
            raise RuntimeError(f"stage {stage.name!r} returned {out.height} rows for {seen} surviving documents")
        return stats
