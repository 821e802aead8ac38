"""Run the same shard tasks on a Ray cluster instead of a local process pool (extra ``mixlab[ray]``).

The unit of work and its guarantees are unchanged: each task writes one file under a temporary name
and renames it, so results and resume behave exactly as with the local pool; only placement differs.
Stage models (e.g. lid.176) load once per Ray worker process, through the same per-process cache as
the local pool (``curate.pipeline.executor.worker_stage``). A failing task is retried ``max_retries`` times by
Ray; if it still fails the run stops with the task (shard) and the error.

All nodes must see the run folder at the same path (shared storage: NFS, a mounted bucket, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


class RayTaskError(RuntimeError):
    """A shard task that failed on every attempt."""


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def describe_task(task: tuple[Any, ...]) -> str:
    """The shard or ingest task a tuple of arguments is about, for error messages."""
    for arg in task:
        name = getattr(arg, "job_id", None) or (arg if isinstance(arg, str) and arg.startswith("part-") else None)
        if name:
            return str(name)
    return repr(task)[:120]


class RayPool:
    """The :class:`curate.pipeline.executor.Pool` interface over Ray tasks."""

    def __init__(self, workers: int, address: str | None = None, max_retries: int = 2) -> None:
        try:
            import ray
        except ImportError as err:  # pragma: no cover - depends on the extra
            raise RuntimeError("the Ray executor needs the extra: pip install 'mixlab[ray]'") from err
        self.ray = ray
        self.workers = max(1, workers)
        self.max_retries = max_retries
        self._started_here = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": self.workers}
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
            self._started_here = True
        self._remote = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=True)(_call)

    def run(self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]], on_done: Callable[[Any], None]) -> None:
        """Submit every task (at most 2x workers in flight); ``on_done`` runs on the driver in completion order."""
        queue = list(tasks)
        pending: dict[Any, tuple[Any, ...]] = {}
        position = 0
        while position < len(queue) or pending:
            while position < len(queue) and len(pending) < self.workers * 2:
                task = queue[position]
                pending[self._remote.remote(fn, *task)] = task
                position += 1
            done, _ = self.ray.wait(list(pending), num_returns=1)
            ref = done[0]
            task = pending.pop(ref)
            try:
                result = self.ray.get(ref)
            except Exception as err:
                for other in pending:
                    self.ray.cancel(other)
                raise RayTaskError(
                    f"task {describe_task(task)} failed after {self.max_retries + 1} attempts: {err}"
                ) from err
            on_done(result)

    def close(self) -> None:
        if self._started_here and self.ray.is_initialized():
            self.ray.shutdown()
