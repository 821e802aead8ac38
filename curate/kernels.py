"""Compile a run's numba kernels once, in one background process, while ingest runs.

numba caches compiled kernels on disk (``cache=True``), but on a first run (a fresh clone, or after an
upgrade) nothing is cached yet and every worker process compiled the same kernels at the same time:
~5 s of CPU each for the MinHash path, paid inside the stage. The runner starts one low-priority
process that calls each recipe stage's :meth:`~curate.stage.Stage.compile_kernels` as soon as the run
begins, so compilation overlaps ingest and happens once; before the first stage that has kernels the
runner waits for it, and the workers then load the cached code (~0.1 s). With a warm cache the process
only loads the kernels (about a second of CPU, at low priority). If it fails, workers compile as before.
"""

from __future__ import annotations

import os
import time
from multiprocessing import get_context

from curate.executor import stage_from_ref, stage_ref
from curate.stage import Stage
from curate.threads import apply_thread_limits


def _compile(stages: list[tuple[str, str]]) -> None:
    os.nice(10)  # ingest's workers come first; this uses what they leave idle
    apply_thread_limits(1)
    for ref, params_json in stages:
        stage_from_ref(ref, params_json).compile_kernels()


def has_kernels(stage: Stage) -> bool:
    return type(stage).compile_kernels is not Stage.compile_kernels


class KernelWarmup:
    """The background compile of the given stages' kernels; :meth:`wait` before a stage that uses them."""

    def __init__(self, stages: list[Stage]) -> None:
        todo = [(stage_ref(s), s.params.model_dump_json()) for s in stages if has_kernels(s)]
        self.process = get_context("spawn").Process(target=_compile, args=(todo,), daemon=True) if todo else None
        self.waited_s = 0.0
        if self.process is not None:
            self.process.start()

    def wait(self) -> None:
        """Block until the kernels are compiled (at once if done); the time waited adds to ``waited_s``."""
        if self.process is not None:
            started = time.perf_counter()
            self.process.join()
            self.waited_s += time.perf_counter() - started
            self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join()
        self.process = None
