"""Named reports: ``run(catalog, name, **params)`` on an open catalog, ``query(run, name, **params)`` by path.

A report is ``sql/reports/<name>.sql``; its parameters are bound by DuckDB (``$name``), never formatted
into the SQL text, and ``query`` opens the catalog read-only, so a report cannot change a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

import sql
from curate.core.catalog import Catalog
from curate.stages import declared_views


def run(catalog: Catalog, name: str, **params: Any) -> pl.DataFrame:
    """Run ``sql/reports/<name>.sql`` on an open catalog with bound parameters (defaults from its header)."""
    return catalog.report(name, **params)


def open_run(run_dir: str | Path) -> Catalog:
    """A run's catalog, read-only, with an empty view for every stage it lacks (a run made before a stage
    existed, or that did not run it): every report answers, with no rows where there is nothing."""
    return Catalog(run_dir, read_only=True, views=declared_views())


def query(run_dir: str | Path, name: str, **params: Any) -> pl.DataFrame:
    """Open a run's catalog read-only and run a named report: a polars DataFrame, for notebooks."""
    with open_run(run_dir) as cat:
        return run(cat, name, **params)


def describe_params(file: sql.SqlFile) -> str:
    """``a, b=20, c=NULL``: a report's parameters with their defaults."""
    def one(p: str) -> str:
        if p not in file.defaults:
            return p
        value = file.defaults[p]
        return f"{p}={'NULL' if value is None else value}"

    return ", ".join(one(p) for p in file.params)


def available() -> list[tuple[str, str, str]]:
    """(name, what it answers, parameters with defaults) of every report."""
    files = [sql.read(f"reports/{n}") for n in sql.list_reports()]
    return [(f.name.removeprefix("reports/"), f.doc, describe_params(f)) for f in files]
