"""Printing query results: a rich table on a terminal, or CSV / JSON / Markdown for pipes and files."""

from __future__ import annotations

import json
import sys
from typing import Literal

import polars as pl
from rich.console import Console
from rich.table import Table

Format = Literal["table", "csv", "json", "markdown"]


def render_table(frame: pl.DataFrame, title: str | None = None, max_rows: int = 50, max_width: int = 60) -> Table:
    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(col, overflow="fold", max_width=max_width)
    for row in frame.head(max_rows).iter_rows():
        table.add_row(*("" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v)) for v in row))
    if frame.height > max_rows:
        table.caption = f"{frame.height - max_rows} more rows"
    return table


def print_frame(frame: pl.DataFrame, fmt: Format = "table", title: str | None = None, console: Console | None = None) -> None:
    """Print a frame in the requested format (machine formats go to stdout unadorned)."""
    if fmt == "csv":
        sys.stdout.write(to_csv(frame))
    elif fmt == "json":
        sys.stdout.write(frame.write_json() + "\n")
    elif fmt == "markdown":
        sys.stdout.write(to_markdown(frame) + "\n")
    else:
        (console or Console()).print(render_table(frame, title))


def to_csv(frame: pl.DataFrame) -> str:
    """CSV text; list and struct columns (which CSV cannot hold) are written as JSON."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(
        pl.Series(name, [None if v is None else json.dumps(v, default=str) for v in frame[name].to_list()], pl.String)
        for name in nested
    ).write_csv()


def to_markdown(frame: pl.DataFrame) -> str:
    cells = [[("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ") for v in row] for row in frame.iter_rows()]
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    return "\n".join([head, rule, *("| " + " | ".join(r) + " |" for r in cells)])
