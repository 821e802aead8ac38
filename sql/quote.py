"""Quoting for the only text spliced into SQL: file paths in view DDL and identifiers.

Values are always bound (``$name``); DuckDB cannot bind a ``read_parquet`` path in a ``CREATE VIEW`` or
a table or column name, so those go through these two functions, and nowhere else. They belong with the
SQL text, at the bottom of the import rule, so that any SQL a module builds (catalog DDL, a dedup job's
scratch queries) quotes the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def sql_string(value: str | Path) -> str:
    """Quote a string (e.g. a file path) as a SQL literal, for the DDL places where binding is impossible."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """Validate and quote an identifier (table, view or column name)."""
    if not _IDENT_RE.match(name):
        raise ValueError(f"invalid SQL identifier {name!r}: use letters, digits and underscores")
    return f'"{name}"'
