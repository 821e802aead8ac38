"""Every sql/reports/*.sql: header and params, runs on an empty and a full run, parameters are bound."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

import sql
from curate.core.catalog import Catalog
from reports import query
from reports.cli import app
from reports.queries import available

REPORTS = sql.list_reports()
REQUIRED = {"funnel", "languages", "quality", "dup_clusters", "topics", "diversity", "mixtures", "contamination", "training",
            "diversity_vs_generalization"}
EXPECTED_EMPTY_ON_FULL = {"contamination"}  # the eval split removes contamination: rows here would be a bug
EVIL = "'; DROP TABLE runs; --"


def test_required_reports_exist_with_headers():
    assert REQUIRED <= set(REPORTS)
    for name in REPORTS:
        assert sql.read(f"reports/{name}").doc, f"{name} lacks its '-- {name}: question' header"
    assert [n for n, _, _ in available()] == REPORTS


@pytest.mark.parametrize("name", REPORTS)
def test_declared_params_are_the_used_ones(name):
    file = sql.read(f"reports/{name}")
    assert set(file.params) == file.used_params(), f"{name}: declared {file.params}, used {sorted(file.used_params())}"
    assert set(file.defaults) <= set(file.params) and set(file.types) <= set(file.params)
    assert "{" not in file.text.replace("{}", ""), "no Python format fields in report SQL"


@pytest.mark.parametrize("name", REPORTS)
def test_runs_on_an_empty_run(empty_run, name):
    assert query(empty_run, name).height == 0


@pytest.mark.parametrize("name", REPORTS)
def test_runs_on_a_full_run(full_run, name):
    frame = query(full_run, name)
    assert (frame.height == 0) == (name in EXPECTED_EMPTY_ON_FULL), f"{name}: {frame.height} rows"
    assert len(set(frame.columns)) == len(frame.columns)


def _catalog_state(run_dir):
    with Catalog(run_dir, read_only=True) as cat:
        tables = cat.execute("SELECT table_name, table_type FROM information_schema.tables ORDER BY 1")
        counts = {t: cat.execute(f'SELECT count(*) FROM "{t}"')[0][0] for t in cat.base_tables()}
    return tables, counts


@pytest.mark.parametrize("name", [n for n in REPORTS if sql.read(f"reports/{n}").params])
def test_parameters_are_bound_not_formatted(full_run, name):
    before = _catalog_state(full_run)
    params = {p: EVIL for p in sql.read(f"reports/{name}").params}
    try:
        frame = query(full_run, name, **params)
    except sql.ParamError:  # a numeric parameter (e.g. limit) refuses the string before the query runs
        assert sql.read(f"reports/{name}").types, f"{name}: only typed parameters refuse a string"
    else:
        assert frame.height == 0, f"{name} matched rows for {EVIL!r}"
    after = _catalog_state(full_run)
    assert before == after
    assert after[1]["runs"] >= 1


def test_filters_select_rows(full_run):
    mixtures = query(full_run, "mixtures")
    one = mixtures["mixture_id"][0]
    curve = query(full_run, "training_curve", train_id=f"{one}-nano-s0")
    assert curve.height > 0 and set(curve["mixture_id"]) == {one}
    assert query(full_run, "dup_clusters", limit=2).height == 2
    assert set(query(full_run, "mixture_diversity", metric="vendi")["mixture_id"]) == set(mixtures["mixture_id"])
    assert query(full_run, "eval_results", eval_set="ood", metric="bpb").height == query(full_run, "training").height


def test_unknown_param_is_an_error(empty_run):
    with pytest.raises(ValueError, match="has no params"):
        query(empty_run, "funnel", bogus=1)


def test_reports_cannot_write(full_run):
    with Catalog(full_run, read_only=True) as cat, pytest.raises(duckdb.Error):
        cat.execute("DELETE FROM runs")


def test_cli_list_show_and_formats(full_run, tmp_path):
    cli = CliRunner()
    listing = cli.invoke(app, ["list"])
    assert listing.exit_code == 0 and "dup_clusters" in listing.stdout and "limit=20" in listing.stdout
    shown = cli.invoke(app, ["show", "funnel", str(full_run), "--format", "markdown"])
    assert shown.exit_code == 0 and "| exact_dedup |" in shown.stdout
    evil = cli.invoke(app, ["show", "dup_clusters", str(full_run), "--param", f"method={EVIL}", "--format", "csv"])
    assert evil.exit_code == 0 and evil.stdout.strip() == "method,cluster_id,cluster_size,kept_source,kept_example,dropped_example"
    out = tmp_path / "t.parquet"
    assert cli.invoke(app, ["show", "training", str(full_run), "--format", "parquet", "-o", str(out)]).exit_code == 0
    assert query(full_run, "training").equals(__import__("polars").read_parquet(out))
    bad = cli.invoke(app, ["show", "funnel", str(full_run), "--param", "novalue"])
    assert bad.exit_code != 0 and "name=value" in bad.output
    assert cli.invoke(app, ["show", "nope", str(full_run)]).exit_code != 0


def test_report_names_are_names_not_paths(empty_run):
    with pytest.raises(KeyError, match="no report named '../schema'"):
        query(empty_run, "../schema")
    shown = CliRunner().invoke(app, ["show", "../schema", str(empty_run)])
    assert shown.exit_code == 2 and "no report named" in shown.output, shown.output


@pytest.mark.parametrize(("param", "message"), [("limit=-1", "takes an integer >= 0; got '-1'"), ("limit=1.5", "takes an integer >= 0"),
                                                 ("limit=99999999999999999999", "takes an integer >= 0")])
def test_typed_parameters_are_checked_before_the_query(empty_run, param, message):
    shown = CliRunner().invoke(app, ["show", "dup_clusters", str(empty_run), "--param", param])
    assert shown.exit_code == 2 and message in " ".join(shown.output.replace("│", " ").split()), shown.output
    assert query(empty_run, "dup_clusters", limit="0").height == 0 and query(empty_run, "topics", limit=3).height == 0
    with pytest.raises(sql.ParamError, match="'min_docs' takes an integer >= 0"):
        query(empty_run, "languages", min_docs=-1)
