"""What every ``curate`` command shares: where its messages go and how a run is named.

Kept apart from :mod:`curate.cli` (the app and the run commands) so that the command-group modules
import these helpers from here, and nothing in the CLI imports back up into the app.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def resolve_run(run: str) -> Path:
    """A run is a folder holding catalog.duckdb, given as a path or as a name under ./runs."""
    path = Path(run)
    if (path / "catalog.duckdb").exists():
        return path
    if (Path("runs") / run / "catalog.duckdb").exists():
        return Path("runs") / run
    raise typer.BadParameter(f"no run at {run!r} (expected a folder with catalog.duckdb, or a name under ./runs)")
