"""Named reports: ``run(catalog, name, **params)`` on an open catalog, ``query(run, name, **params)`` by path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

import sql
from curate.catalog import Catalog


def run(catalog: Catalog, name: str, **params: Any) -> pl.DataFrame:
    """Run ``sql/reports/<name>.sql`` with bound parameters (never formatted into the SQL)."""
    return catalog.report(name, **params)


def query(run_dir: str | Path, name: str, **params: Any) -> pl.DataFrame:
    """Open a run's catalog read-only and run a named report; for notebooks."""
    with Catalog(run_dir, read_only=True) as cat:
        return run(cat, name, **params)


def available() -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, what it answers, params) of every report."""
    return [(n, f.doc, f.params) for n in sql.list_reports() for f in [sql.read(f"reports/{n}")]]
