"""Progress display: one rich bar per step (docs/s, MB/s, ETA) and a summary line when it ends.

On a terminal the bars are live; elsewhere (CI, logs) only the summary lines are printed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class Step:
    """Counters of one running step; ``advance`` is called as each unit (shard) finishes."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self.progress, self.task = progress, task
        self.units = self.docs = self.n_bytes = 0
        self.started = time.perf_counter()

    def advance(self, docs: int = 0, n_bytes: int = 0, units: int = 1) -> None:
        self.units += units
        self.docs += docs
        self.n_bytes += n_bytes
        if self.progress is not None and self.task is not None:
            elapsed = max(time.perf_counter() - self.started, 1e-9)
            rate = f"{self.docs / elapsed:,.0f} docs/s  {self.n_bytes / elapsed / 1e6:,.1f} MB/s"
            self.progress.update(self.task, advance=units, rate=rate)


class StepProgress:
    """Factory of steps sharing one console; ``enabled=False`` prints nothing but warnings."""

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console or Console(stderr=True)

    def warn(self, message: str) -> None:
        """A warning the user must see, shown even without progress display (on standard error)."""
        self.console.print(f"[bold red]warning:[/] {message}", highlight=False)

    @contextmanager
    def step(self, name: str, total: int | None, done: int = 0) -> Iterator[Step]:
        if not self.enabled:
            yield Step(None, None)
            return
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=self.console, transient=True) as progress:
            task = progress.add_task(name, total=total, completed=done, rate="")
            step = Step(progress, task)
            yield step
        elapsed = time.perf_counter() - step.started
        resumed = f", {done} resumed" if done else ""
        rate = f" ({step.docs / elapsed:,.0f} docs/s, {step.n_bytes / elapsed / 1e6:,.1f} MB/s)" if step.docs and elapsed > 0 else ""
        self.console.print(f"[green]✓[/] {name}: {step.units} units, {step.docs:,} docs in {elapsed:,.1f}s{rate}{resumed}")
