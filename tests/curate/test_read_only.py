"""Readers cannot change a run or read other files: `curate sql`, and the connections reports use."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.core.catalog import Catalog
from reports.queries import query


@pytest.fixture
def run_dir(tmp_path, corpus_file, run_recipe):
    return run_recipe({"inputs": [{"path": "data/corpus.jsonl"}], "ingest": {"shard_docs": 50}}).run_dir


def _sql(run_dir, text: str):
    return CliRunner().invoke(app, ["sql", str(run_dir), text, "--format", "csv"])


def test_sql_cannot_overwrite_a_shard(run_dir):
    shard = sorted((run_dir / "docs").glob("part-*.parquet"))[0]
    before = shard.read_bytes()
    for text in (f"COPY (SELECT * FROM documents LIMIT 1) TO '{shard}' (FORMAT parquet)",
                 f"SELECT 1; COPY (SELECT 1 AS x) TO '{shard}'",
                 f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{shard}'"):
        out = _sql(run_dir, text)
        assert out.exit_code == 2 and "read-only" in out.output, text
    assert shard.read_bytes() == before
    assert _sql(run_dir, "SELECT count(*) AS n FROM documents").stdout.split() == ["n", "200"]


@pytest.mark.parametrize("text", [
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "ATTACH '/tmp/elsewhere.duckdb' AS x",
])
def test_sql_cannot_reach_outside_the_run(run_dir, text):
    out = _sql(run_dir, text)
    assert out.exit_code == 2 and "SQL error" in out.output
    assert "root:" not in out.output


def test_report_connections_are_sandboxed_but_read_the_run(run_dir):
    assert query(run_dir, "funnel")["docs_in"][0] == 200
    with Catalog(run_dir, read_only=True) as cat:
        assert cat.query("SELECT count(*) AS n FROM doc_signals")["n"][0] == 200
        shard = sorted((run_dir / "docs").glob("part-*.parquet"))[0]
        for text in ("SELECT * FROM read_text('/etc/passwd')", "INSTALL httpfs", "SET allowed_directories = ['/']",
                     "SET enable_external_access = true", f"COPY (SELECT 1 AS x) TO '{shard}'"):
            with pytest.raises(duckdb.Error):
                cat.query(text)
            with pytest.raises(duckdb.Error):
                cat.execute(text)
        assert cat.query("SELECT count(*) AS n FROM documents")["n"][0] == 200
        with Catalog(run_dir, read_only=True) as nested:  # shares the sandboxed database instance
            assert nested.query("SELECT count(*) AS n FROM documents")["n"][0] == 200
