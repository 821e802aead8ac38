"""Nothing a user runs changes shape: a real run's catalog has the tables, views and column types committed in
``catalog_shape.txt`` (generated before the catalog became a leaf layer; regenerate it only for a deliberate
change of what users query, and say so in the change)."""

from __future__ import annotations

from pathlib import Path

from curate.core.catalog import Catalog
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records

EXPECTED = Path(__file__).with_name("catalog_shape.txt")


def catalog_shape(run_dir: Path) -> list[str]:
    """One line per table or view of the run's catalog: ``<section> <type> <name>: <column> <type>, ...``."""
    with Catalog(run_dir, read_only=True) as cat:
        kinds = dict(cat.execute("SELECT table_name, table_type FROM information_schema.tables"))
        columns: dict[str, list[str]] = {}
        for table, column, data_type in cat.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns ORDER BY table_name, ordinal_position"):
            columns.setdefault(table, []).append(f"{column} {data_type}")
    return [f"{kinds[t]} {t}: {', '.join(cols)}" for t, cols in sorted(columns.items())]


def expected(section: str) -> list[str]:
    lines = EXPECTED.read_text(encoding="utf-8").splitlines()
    return [line.split(" ", 1)[1] for line in lines if line.startswith(f"{section} ")]


def test_full_run_catalog_keeps_its_tables_views_and_column_types(full_run):
    assert catalog_shape(full_run) == expected("full")


def test_ingest_only_run_has_every_placeholder(tmp_path):
    write_jsonl(tmp_path / "data" / "c.jsonl", to_records(make_corpus(20, seed=3)))
    recipe = parse_recipe({"name": "shape", "inputs": [{"path": "data/c.jsonl"}]})
    run_dir = RecipeRunner(recipe, tmp_path, tmp_path / "run", progress=False).run().run_dir
    assert catalog_shape(run_dir) == expected("ingest_only")
