"""Every named report: declared params equal used params; runs on an empty run; parameters are bound."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import sql
from curate.catalog import Catalog
from reports import query
from reports.cli import app

REPORTS = sql.list_reports()
REQUIRED = {"funnel", "languages", "quality", "dup_clusters", "topics", "diversity", "mixtures", "contamination", "training",
            "diversity_vs_generalization"}


def test_required_reports_exist_with_headers():
    assert REQUIRED <= set(REPORTS)
    for name in REPORTS:
        assert sql.read(f"reports/{name}").doc, f"{name} lacks its '-- {name}: question' header"


@pytest.mark.parametrize("name", REPORTS)
def test_declared_params_are_the_used_ones(name):
    file = sql.read(f"reports/{name}")
    assert set(file.params) == file.used_params()
    assert set(file.defaults) <= set(file.params)


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_runs_on_an_empty_run(tmp_path, name):
    Catalog(tmp_path / "empty").close()
    assert query(tmp_path / "empty", name).height == 0


def test_parameters_are_bound_not_formatted(tmp_path, corpus_file, run_recipe):
    run = run_recipe({"inputs": [{"path": "data/corpus.jsonl"}], "stages": [{"stage": "exact_dedup"}]})
    evil = "'; DROP TABLE runs; --"
    assert query(run.run_dir, "dup_clusters", method=evil).height == 0
    assert query(run.run_dir, "diversity", scope_kind=evil, metric=evil).height == 0
    with Catalog(run.run_dir, read_only=True) as cat:
        assert cat.query("SELECT count(*) AS n FROM runs")["n"][0] == 1
    out = CliRunner().invoke(app, ["show", "dup_clusters", str(run.run_dir), "--param", f"method={evil}", "--format", "csv"])
    assert out.exit_code == 0
    shown = CliRunner().invoke(app, ["show", "funnel", str(run.run_dir), "--format", "markdown"])
    assert "| exact_dedup |" in shown.stdout


def test_unknown_param_is_an_error(tmp_path):
    Catalog(tmp_path / "r").close()
    with pytest.raises(ValueError, match="has no params"):
        query(tmp_path / "r", "funnel", bogus=1)
