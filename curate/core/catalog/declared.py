"""What the layers above tell the catalog, which imports none of them: the views a run may hold, the rows a stage hands over.

Placeholders: empty, typed views for what a run has not produced yet, so every report and query runs on any
run. The catalog knows no stage: whoever opens it to run stages (the recipe runner) hands it
:class:`DeclaredViews`, the output columns of every stage and the columns of every extra table a stage
writes, each declared once where it is written (``Stage.schema``, ``Stage.tables``). A writer given them
creates ``CREATE VIEW <name> AS SELECT NULL::<type> AS <column>, ... WHERE false`` for each view that does not
exist yet; the views are stored in the file, so readers and later writers see them without the declarations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from curate.core.storage import Location
from sql.quote import sql_ident

Columns = Mapping[str, pl.DataType | type[pl.DataType]]  # column name -> polars dtype
DUCK_TYPES = {"String": "VARCHAR", "Float64": "DOUBLE", "Int64": "BIGINT", "Int32": "INTEGER", "Boolean": "BOOLEAN"}


def duck_type(dtype: Any) -> str:
    """The DuckDB type of a polars dtype (a list of X is X[]); VARCHAR for any other."""
    if isinstance(dtype, pl.List):
        return f"{duck_type(dtype.inner)}[]"
    return DUCK_TYPES.get(str(dtype).split("(")[0], "VARCHAR")


@dataclass(frozen=True)
class DeclaredViews:
    """The views a run may hold, before they are produced: ``stages`` (stage name -> its per-document output
    columns, ``doc_id`` and ``drop_reason`` included) and ``tables`` (extra table name -> its columns)."""

    stages: Mapping[str, Columns] = field(default_factory=dict)
    tables: Mapping[str, Columns] = field(default_factory=dict)


def create_placeholders(create_view: Callable[[str, str], Any], existing: set[str], views: Mapping[str, Columns]) -> None:
    """Create (``create_view(name, body)``) an empty typed view for each of ``views`` (name -> columns) whose
    name is not in ``existing``."""
    for view, columns in views.items():
        if view not in existing:
            cols = ", ".join(f"NULL::{duck_type(t)} AS {sql_ident(c)}" for c, t in columns.items())
            create_view(view, f"SELECT {cols} WHERE false")


@dataclass(frozen=True)
class StageRows:
    """Rows a stage wrote as Parquet (``path``) for the catalog table ``table``: recorded with the stage, they
    replace the table's rows whose ``column`` is one of ``values`` (the rows that stage owns), so a re-run
    leaves one set."""

    table: str
    path: Location  # on the run's data root (a local path or a URL)
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class StageTable:
    """An extra table a stage wrote as Parquet (``path``): recorded with the stage, it becomes the view ``table``
    (a name ``base__part`` is also unioned into the view ``base``)."""

    table: str
    path: Location  # on the run's data root (a local path or a URL)
