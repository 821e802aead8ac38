"""What every command line (``curate``, ``train``, ``reports``) shares: where its messages go, how a run
is named, and how a user's mistake is reported.

In the core layer because all three apps use it: ``train`` and ``reports`` take it from here rather than
from curate's own command line, and nothing in a CLI imports back up into an app.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from curate.core.catalog.access import RunUnavailable
from curate.core.errors import NotInRun

console = Console(stderr=True)


class TableFormat(str, Enum):
    """How a command prints a table (anything else is a usage error, not a silent table)."""

    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


FormatOption = Annotated[TableFormat, typer.Option("--format", help="Output format.")]
USER_ERRORS = (RunUnavailable, NotInRun, FileNotFoundError, NotADirectoryError, IsADirectoryError, FileExistsError, PermissionError)


class UserErrorsAsMessages(TyperGroup):
    """An app whose commands report a user's mistake in one line and exit 2, instead of a traceback: a run
    that cannot be opened (busy, not a catalog), a name the run does not hold, a missing path, a file where
    a folder belongs or the reverse; options that fail a config's validation, one line per field. Every
    other exception is a bug and keeps its traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as err:
            console.print("[red]error:[/]", escape(str(err)), highlight=False)
            raise typer.Exit(2) from None
        except ValidationError as err:  # options that do not fit the command's config (e.g. TrainConfig)
            for problem in err.errors():
                where = ".".join(str(part) for part in problem["loc"]) or err.title
                console.print("[red]error:[/]", escape(f"{where}: {problem['msg']} (got {problem.get('input')!r})"), highlight=False)
            raise typer.Exit(2) from None


def resolve_run(run: str) -> Path:
    """A run is a folder holding catalog.duckdb, given as a path or as a name under ./runs."""
    path = Path(run)
    if (path / "catalog.duckdb").exists():
        return path
    if (Path("runs") / run / "catalog.duckdb").exists():
        return Path("runs") / run
    raise typer.BadParameter(f"no run at {run!r} (expected a folder with catalog.duckdb, or a name under ./runs)")


def existing_run(value: Path) -> Path:
    """Typer callback for a run argument: the run folder, or a usage error (never a new, empty run)."""
    return resolve_run(str(value))


class Mirror:
    """The options of a command that mirror a config model's fields: each option's help text (and default)
    is the field's, so it is written once, in the model. ``also`` adds what only the command line has
    (a repeatable flag, a comma-separated form)."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model

    def help(self, name: str, also: str = "") -> str:
        return " ".join(part for part in (self.model.model_fields[name].description, also) if part)

    def option(self, name: str, *param_decls: str, also: str = "", **kwargs: Any) -> Any:
        """A typer.Option whose help is field ``name``'s description."""
        return typer.Option(*param_decls, help=self.help(name, also), **kwargs)

    def default(self, name: str) -> Any:
        return self.model.model_fields[name].get_default(call_default_factory=True)
