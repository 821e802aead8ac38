"""Compile a run's numba kernels once, in a background thread of the driver, while ingest runs.

numba caches compiled kernels on disk (``cache=True``), but on a first run (a fresh clone, or after an
upgrade) nothing is cached yet and every worker process compiled the same kernels at the same time:
~5 s of CPU each for the MinHash path, paid inside the stage. The runner starts a thread that calls each
recipe stage's :meth:`~curate.stage.Stage.compile_kernels` as soon as the run begins, so compilation
overlaps corpus building and ingest and happens once; before the first stage that
has kernels the runner waits for it, and the workers then load the cached code (~0.1 s each). The
driver keeps what it compiled or loaded, so the kernels a global stage runs on the driver (union-find,
Jaccard) are ready too. If compiling fails here, a warning says so and the workers compile as before.
"""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING

from curate.stage import Stage

if TYPE_CHECKING:
    from curate.pipeline.recipe import Recipe


def has_kernels(stage: Stage) -> bool:
    return type(stage).compile_kernels is not Stage.compile_kernels


class KernelWarmup:
    """The background compile of the given stages' kernels; :meth:`wait` before a stage that uses them."""

    def __init__(self, stages: list[Stage]) -> None:
        todo = [s for s in stages if has_kernels(s)]
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._compile, args=(todo,), name="kernel-warmup", daemon=True) if todo else None
        if self.thread is not None:
            self.thread.start()

    def _compile(self, stages: list[Stage]) -> None:
        try:
            for stage in stages:
                stage.compile_kernels()
        except Exception as error:  # noqa: BLE001 - the workers compile what they need anyway
            self.error = error

    def wait(self) -> None:
        """Block until the kernels are compiled (at once if done)."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
            if self.error is not None:
                warnings.warn(f"compiling the stages' kernels ahead failed ({self.error!r}); each worker compiles its own", stacklevel=2)


def start_for(recipe: Recipe) -> KernelWarmup:
    """Start compiling the kernels of the recipe's stages."""
    from curate.stages import BY_NAME

    return KernelWarmup([BY_NAME[p.stage](p) for p in recipe.stages])
