"""Compare two runs' catalogs by content: every table and view, minus timings and absolute paths."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from curate.core.catalog import Catalog

VOLATILE = {"wall_s", "finished_at", "started_at", "computed_at", "created_at", "applied_at", "input_file", "run_id",
            "config", "path", "code_version", "tokens_per_s"}
SKIP = {"runs", "schema_version", "data_root"}


def catalog_snapshot(run_dir: Path, ignore: frozenset[str] = frozenset()) -> dict[str, pl.DataFrame]:
    """Every table and view of a catalog as a sorted frame, without volatile (or ``ignore``) columns."""
    out = {}
    with Catalog(run_dir, read_only=True) as cat:
        names = cat.query("SELECT table_name FROM information_schema.tables ORDER BY 1")["table_name"].to_list()
        for name in names:
            if name in SKIP:
                continue
            frame = cat.query(f'SELECT * FROM "{name}"')
            frame = frame.drop([c for c in frame.columns if c in VOLATILE or c in ignore])
            sortable = [c for c, t in frame.schema.items() if not isinstance(t, (pl.List, pl.Struct, pl.Array, pl.Object))]
            out[name] = frame.sort(sortable, nulls_last=True) if sortable and frame.height else frame
    return out


def assert_same_catalog(a: Path, b: Path, ignore: frozenset[str] = frozenset()) -> None:
    left, right = catalog_snapshot(a, ignore), catalog_snapshot(b, ignore)
    assert sorted(left) == sorted(right)
    for name in left:
        assert left[name].equals(right[name]), f"{name} differs"
