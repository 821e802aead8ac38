"""A run folder moved after its run: every reader re-points the views for its session (they are read-only), so
`curate sql`, `reports show`, `reports html` and `train tokenizer` work on it without a writing command first."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

import sql
from curate.cli import app as curate_app
from curate.core.catalog import Catalog
from reports.cli import app as reports_app
from train.cli import app as train_app


@pytest.fixture(scope="module")
def moved_run(full_run, tmp_path_factory):
    copy = tmp_path_factory.mktemp("moved") / "before"
    shutil.copytree(full_run, copy)
    with Catalog(copy):  # a writer open points the stored views at the copy, which is then moved away
        pass
    return copy.rename(copy.with_name("after"))


def test_readers_of_a_moved_run_read_its_new_location(moved_run, tmp_path):
    cli = CliRunner()
    counted = cli.invoke(curate_app, ["sql", str(moved_run), "SELECT count(*) AS n FROM doc_signals", "--format", "csv"])
    assert counted.exit_code == 0 and int(counted.stdout.split()[1]) > 0, counted.output
    for name in sql.list_reports():
        shown = cli.invoke(reports_app, ["show", name, str(moved_run), "--format", "csv"])
        assert shown.exit_code == 0, f"{name}: {shown.output}"
    page = cli.invoke(reports_app, ["html", str(moved_run), "-o", str(tmp_path / "r.html")])
    assert page.exit_code == 0 and "<svg" in (tmp_path / "r.html").read_text(encoding="utf-8"), page.output
    with Catalog(moved_run, read_only=True) as cat:  # readers changed nothing: the stored views still point at the old place
        assert str(moved_run.with_name("before")) in cat.query("SELECT sql FROM duckdb_views() WHERE view_name = 'original_documents'"
                                                               " AND NOT temporary")["sql"][0]
    tokenizer = cli.invoke(train_app, ["tokenizer", str(moved_run), "--vocab-size", "300", "--sample-docs", "200"])
    assert tokenizer.exit_code == 0 and str(moved_run) in tokenizer.stdout, tokenizer.output


def test_a_run_made_before_a_stage_existed_answers_every_report(full_run, tmp_path):
    """An older run lacks the view of a stage added since (here `url`): readers add it empty for their session."""
    old = tmp_path / "old"
    shutil.copytree(full_run, old)
    with Catalog(old) as cat:
        cat.execute("DROP VIEW url")  # as in a catalog written before the url stage existed
    cli = CliRunner()
    shown = cli.invoke(reports_app, ["show", "url_domains", str(old), "--format", "csv"])
    assert shown.exit_code == 0 and "(no url)" in shown.stdout, shown.output
    counted = cli.invoke(curate_app, ["sql", str(old), "SELECT count(*) AS n FROM url", "--format", "csv"])
    assert counted.exit_code == 0 and counted.stdout.split()[1] == "0", counted.output
    with Catalog(old, read_only=True) as cat:  # the file is unchanged: the view was this session's only
        assert cat.query("SELECT count(*) AS n FROM duckdb_views() WHERE view_name = 'url' AND NOT temporary")["n"][0] == 0
