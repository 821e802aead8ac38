"""Printing query results: a rich table on a terminal, or CSV / JSON / Markdown for pipes and files.

A table wider than the console (80 columns in logs and pipes) is never folded into 4-character
columns: ids lose their common prefix and the middle of long hashes, and only the columns that fit are
shown, ``keys`` first; a caption names the others and where the full table is (``csv=`` writes it).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import polars as pl
from rich.console import Console
from rich.table import Table

Format = Literal["table", "csv", "json", "markdown"]
MAX_CELL = 24  # characters of a shortened id (a cell without spaces)
WRAP_AT = 20  # a cell with spaces (a list, a phrase) wraps onto lines of at least this many characters
_COLUMN_OVERHEAD = 3  # rich: one space of padding each side and one border per column


def cell_text(value: object) -> str:
    return "" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))


def _is_text(cells: Sequence[str]) -> bool:
    """A column of text (some cell has a space: a list, a phrase) wraps; a column of ids is shortened."""
    return any(ch.isspace() for c in cells for ch in c)


def _shorten(text: str, limit: int = MAX_CELL) -> str:
    """Keep the start and the end of a long id (ids end with their distinctive hash)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return f"{text[:head]}…{text[-(limit - 1 - head):]}"


def shorten_ids(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """String columns without the prefix all their values share (up to a ``-`` or ``_``), ids cut to
    MAX_CELL characters; returns the cells (strings) and each column's stripped prefix."""
    out, prefixes = {}, {}
    for col in frame.columns:
        values = [cell_text(v) for v in frame[col].to_list()]
        prefix = os.path.commonprefix(values) if len(set(values)) > 1 and frame[col].dtype == pl.String else ""
        cut = max(prefix.rfind("-"), prefix.rfind("_")) + 1
        if cut >= 4 and all(len(v) > cut for v in values):
            prefixes[col] = values[0][:cut]
            values = [v[cut:] for v in values]
        out[col] = values if _is_text(values) else [_shorten(v) for v in values]
    return pl.DataFrame(out, schema=dict.fromkeys(frame.columns, pl.String)), prefixes


def column_width(header: str, cells: Sequence[str]) -> int:
    """Width a column needs: its longest cell (text with spaces: up to WRAP_AT); a long header may wrap
    after its underscores onto two or three lines."""
    need = [min(len(c), WRAP_AT) if _is_text(cells) else len(c) for c in cells]
    longest_part = max(len(part) + 1 for part in header.split("_"))
    return max([*need, min(len(header), max(6, longest_part, math.ceil(len(header) / 3)))])


def wrap_header(header: str, width: int) -> str:
    """The header on lines of at most ``width`` characters, broken after underscores where possible."""
    lines = [""]
    for part in header.replace("_", "_\0").split("\0"):
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def fit_columns(cells: pl.DataFrame, width: int, keys: Sequence[str] = ()) -> list[str]:
    """Columns that fit ``width`` characters: ``keys`` first, then the others in order; order kept."""
    chosen, used = set(), 1
    for col in [*[k for k in keys if k in cells.columns], *cells.columns]:
        need = column_width(col, cells[col].to_list()) + _COLUMN_OVERHEAD
        if col not in chosen and (used + need <= width or not chosen):
            chosen.add(col)
            used += need
    return [c for c in cells.columns if c in chosen]


def render_table(frame: pl.DataFrame, title: str | None = None, max_rows: int = 50, width: int = 80,
                 keys: Sequence[str] = (), csv: Path | None = None) -> Table:
    """A rich table of ``frame`` that fits ``width`` characters (see module docstring)."""
    cells, prefixes = shorten_ids(frame.head(max_rows))
    notes = [f"{frame.height - max_rows} more rows"] if frame.height > max_rows else []
    shown = fit_columns(cells, width, keys)
    if len(shown) < len(frame.columns) and cells.height > 1:  # too wide: columns equal on every row go to a note
        same = [c for c in cells.columns if c not in keys and cells[c].n_unique() == 1]
        if same:
            notes.append("every row: " + ", ".join(f"{c}={cells[c][0] or '(empty)'}" for c in same))
        shown = fit_columns(cells.drop(same), width, keys)
        hidden = [c for c in frame.columns if c not in shown and c not in same]
        if hidden:
            notes.append(f"{len(hidden)} more columns ({f'all in {csv}' if csv else 'all with --format csv'}): {', '.join(hidden)}")
    stripped = [f"{c} after {prefixes[c]!r}" for c in shown if c in prefixes]
    notes = ([f"shown: {', '.join(stripped)}"] if stripped else []) + notes
    table = Table(title=title, show_lines=False, caption=" · ".join(notes) or None)
    for col in shown:
        col_width = column_width(col, cells[col].to_list())
        table.add_column(wrap_header(col, col_width), overflow="fold", width=col_width)
    for row in cells.select(shown).iter_rows():
        table.add_row(*row)
    return table


def print_frame(frame: pl.DataFrame, fmt: Format = "table", title: str | None = None, console: Console | None = None,
                keys: Sequence[str] = (), csv: Path | None = None) -> None:
    """Print a frame in the requested format (machine formats go to stdout unadorned).

    As a table: what fits the console, ``keys`` first; ``csv`` (a path) also gets the full frame.
    """
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        csv.write_text(to_csv(frame), encoding="utf-8")
    if fmt == "csv":
        sys.stdout.write(to_csv(frame))
    elif fmt == "json":
        sys.stdout.write(frame.write_json() + "\n")
    elif fmt == "markdown":
        sys.stdout.write(to_markdown(frame) + "\n")
    else:
        console = console or Console()
        console.print(render_table(frame, title, width=console.width, keys=keys, csv=csv))


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
