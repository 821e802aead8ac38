"""The catalog: opened from anywhere, quoted paths, the funnel closes, the CLI reads it read-only."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.core.catalog import Catalog, schema_version
from sql.quote import sql_ident, sql_string
from tests.conftest import write_jsonl
from tests.curate.test_ingest import _messy_lines


def test_sql_string_quotes_single_quotes():
    assert sql_string("it's") == "'it''s'"
    assert duckdb.connect().execute(f"SELECT {sql_string(chr(39) + 'x' + chr(39) * 2)} AS v").fetchone()[0] == "'x''"


def test_sql_ident_rejects_injection():
    assert sql_ident("topic_labels") == '"topic_labels"'
    with pytest.raises(ValueError):
        sql_ident('x"; DROP TABLE runs; --')


def test_run_folder_with_a_quote_in_its_path(tmp_path, corpus_file, run_recipe):
    summary = run_recipe({"inputs": [{"path": "data/corpus.jsonl"}]}, run_name="it's a run")
    with Catalog(summary.run_dir, read_only=True) as cat:
        assert cat.query("SELECT count(*) AS n FROM documents")["n"][0] == 200


def test_views_work_from_another_working_directory(tmp_path, corpus_file, run_recipe):
    summary = run_recipe({"inputs": [{"path": "data/corpus.jsonl"}], "stages": [{"stage": "length_filter"}]})
    code = (
        "import duckdb; con = duckdb.connect('catalog.duckdb', read_only=True);"
        "print(con.execute('SELECT count(*) FROM documents').fetchone()[0],"
        " con.execute('SELECT count(*) FROM doc_signals').fetchone()[0],"
        " con.execute('SELECT count(*) FROM length_filter').fetchone()[0])"
    )
    for cwd in (summary.run_dir, "/"):
        path = "catalog.duckdb" if cwd == summary.run_dir else str(summary.run_dir / "catalog.duckdb")
        out = subprocess.run([sys.executable, "-c", code.replace("'catalog.duckdb'", repr(path))], cwd=cwd,
                             capture_output=True, text=True, check=True)
        assert out.stdout.split() == ["200", "200", "200"]


def test_moved_run_folder_heals_on_next_open(tmp_path, corpus_file, run_recipe):
    summary = run_recipe({"inputs": [{"path": "data/corpus.jsonl"}]})
    moved = tmp_path / "moved"
    os.rename(summary.run_dir, moved)
    with Catalog(moved) as cat:  # any writer open re-points the views
        assert cat.query("SELECT count(*) AS n FROM documents")["n"][0] == 200


def test_funnel_closes_on_messy_input(tmp_path, run_recipe):
    lines = _messy_lines() * 3 + [b'{"text": "short"}', b'{"text": "a much longer document that passes"}']
    write_jsonl(tmp_path / "messy.jsonl", lines)
    summary = run_recipe({"inputs": [{"path": "messy.jsonl"}], "ingest": {"max_doc_bytes": 2000},
                          "stages": [{"stage": "length_filter", "min_chars": 20}]})
    with Catalog(summary.run_dir, read_only=True) as cat:
        funnel = cat.report("funnel")
        input_records = cat.query("SELECT sum(n_records) AS n FROM ingest_files")["n"][0]
        rejected = cat.query("SELECT count(*) AS n FROM rejects")["n"][0]
        dropped = cat.query("SELECT count(*) AS n FROM decisions")["n"][0]
        kept = cat.query("SELECT count(*) AS n FROM kept_documents")["n"][0]
        version = cat.query("SELECT max(version) AS v FROM schema_version")["v"][0]
    assert input_records == len(lines)
    assert kept + dropped + rejected == input_records
    assert kept > 0 and dropped > 0 and rejected > 0
    rows = {r["stage"]: r for r in funnel.iter_rows(named=True)}
    assert rows["ingest"]["docs_in"] == len(lines) and rows["ingest"]["dropped"] == rejected
    assert rows["length_filter"]["docs_in"] == rows["ingest"]["kept"]
    assert rows["length_filter"]["kept"] == kept
    assert "length_filter.too_short=" in rows["length_filter"]["drop_reasons"]
    assert version == schema_version()


def test_cli_sql_status_and_run_errors(tmp_path, corpus_file, run_recipe):
    summary = run_recipe({"inputs": [{"path": "data/corpus.jsonl"}]})
    runner = CliRunner()
    out = runner.invoke(app, ["sql", str(summary.run_dir), "SELECT count(*) AS n FROM documents", "--format", "csv"])
    assert out.exit_code == 0 and out.stdout.split() == ["n", "200"]
    denied = runner.invoke(app, ["sql", str(summary.run_dir), "DELETE FROM runs"])
    assert denied.exit_code == 2 and "read-only" in denied.output.lower()
    status = runner.invoke(app, ["status", str(summary.run_dir)])
    assert status.exit_code == 0 and "ingest" in status.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninputs: [{path: a.jsonl}]\nstages: [{stage: length_filter, min_chars: -1}]\n")
    failed = runner.invoke(app, ["run", str(bad)])
    assert failed.exit_code == 2 and "stages[0].min_chars" in failed.output
