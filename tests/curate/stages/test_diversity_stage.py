"""diversity stage and ad-hoc scopes: rows per scope, idempotent re-runs, SQL scopes from Python and CLI."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.core.catalog import Catalog
from curate.diversity.metrics import entropy
from curate.diversity.scope import score_scope
from tests.conftest import write_jsonl
from tests.corpus import DOMAINS, make_corpus, to_records

STAGES = [{"stage": "exact_dedup"},
          {"stage": "topics", "k": len(DOMAINS), "n_components": 16, "n_features": 2**14},
          {"stage": "diversity", "sample_size": 60, "n_boot": 5}]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from curate.pipeline.recipe import parse_recipe
    from curate.pipeline.runner import RecipeRunner

    tmp = tmp_path_factory.mktemp("div")
    docs = make_corpus(200, seed=12)
    for domain in DOMAINS:
        write_jsonl(tmp / "data" / f"{domain}.jsonl", to_records([d for d in docs if d.domain == domain]))
    recipe = parse_recipe({"name": "t", "inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}],
                           "ingest": {"shard_docs": 50}, "stages": STAGES})
    return RecipeRunner(recipe, tmp, tmp / "run", workers=1, progress=False).run().run_dir


def test_stage_scores_corpus_sources_and_topics(run_dir):
    with Catalog(run_dir, read_only=True) as cat:
        rows = cat.query("SELECT * FROM diversity")
        n_kept = cat.query("SELECT count(*) AS n FROM kept_documents")["n"][0]
        assert cat.query("SELECT count(*) AS n FROM stage_diversity")["n"][0] == n_kept
        side = cat.report("diversity", scope_kind="source")
    scopes = set(rows.select("scope_kind", "scope_id").unique().iter_rows())
    assert scopes == {("corpus", "all")} | {("source", d) for d in DOMAINS} | {("topic", str(t)) for t in range(len(DOMAINS))}
    corpus = {r["metric"]: r for r in rows.filter(scope_kind="corpus").iter_rows(named=True)}
    assert corpus["vendi"]["n_docs"] == n_kept and corpus["vendi"]["sample_size"] == 60
    assert corpus["effective_topics"]["value"] > 4 and 0 < corpus["near_dup_rate"]["value"] < 0.5
    for r in corpus.values():
        assert r["ci_low"] <= r["value"] + 1e-9 <= r["ci_high"] + 2e-9, r["metric"]
    law = {r["metric"]: r["value"] for r in rows.filter(scope_kind="source", scope_id="law").iter_rows(named=True)}
    assert law["source_entropy"] == 0 and law["vendi"] < corpus["vendi"]["value"] and law["distinct_2"] < corpus["distinct_2"]["value"]
    assert side.height == len(DOMAINS) and {"vendi", "vendi_ci", "distinct_2", "topic_entropy"} <= set(side.columns)


def test_adhoc_scope_from_python_replaces_its_rows(run_dir):
    with Catalog(run_dir) as cat:
        first = score_scope(cat, "source = 'law' OR s.source = 'cooking'", scope_id="law+cooking", n_boot=3)
        again = score_scope(cat, "source = 'law' OR s.source = 'cooking'", scope_id="law+cooking", n_boot=3)
        counts = cat.query("SELECT count(*) AS n FROM kept_documents WHERE source IN ('law', 'cooking') GROUP BY source")["n"]
        stored = cat.query("SELECT * FROM diversity WHERE scope_kind = 'adhoc'")
        text_scope = score_scope(cat, "d.text ILIKE '%telescope%'", write=False, n_boot=0)
        empty = score_scope(cat, "false", scope_id="none", n_boot=0)
    assert first.equals(again) and stored.height == first.height
    values = dict(first.select("metric", "value").iter_rows())
    assert values["source_entropy"] == pytest.approx(entropy(counts.to_list()))
    assert values["effective_topics"] == pytest.approx(2, abs=0.1)
    assert dict(text_scope.select("metric", "value").iter_rows())["topic_entropy"] < 0.3 and empty.height == 0


def test_where_is_one_expression():
    with pytest.raises(ValueError, match="without ';'"):
        from curate.diversity.scope import scope_relation

        scope_relation("true; DROP TABLE diversity")


def test_stage_rerun_replaces_its_rows_and_keeps_others(run_dir):
    """The stage hands its rows to the catalog: recomputed (fewer bootstrap resamples: the same point values), it
    leaves one set of the same rows, and rows of other scope kinds (an ad-hoc scope) stay."""
    from curate.pipeline.recipe import parse_recipe
    from curate.pipeline.runner import RecipeRunner

    rerun = run_dir.parent / "rerun"
    shutil.copytree(run_dir, rerun)
    query = "SELECT scope_kind, scope_id, metric, value FROM diversity WHERE scope_kind != 'adhoc' ORDER BY ALL"
    with Catalog(rerun) as cat:
        before = cat.query(query)
        score_scope(cat, "source = 'law'", scope_id="law-only", n_boot=0)
    stages = [*STAGES[:-1], {**STAGES[-1], "n_boot": 4}]
    recipe = parse_recipe({"name": "t", "inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}],
                           "ingest": {"shard_docs": 50}, "stages": stages})
    summary = RecipeRunner(recipe, run_dir.parent, rerun, workers=1, progress=False).run()
    with Catalog(rerun, read_only=True) as cat:
        after = cat.query(query)
        adhoc = cat.query("SELECT count(*) AS n FROM diversity WHERE scope_id = 'law-only'")["n"][0]
    assert summary.stages_run == ["diversity"] and before.height > 0 and before.equals(after) and adhoc > 0


def test_stage_writes_parquet_only(run_dir, tmp_path):
    """reduce() needs no writable catalog: its rows are Parquet, for the catalog to record."""
    from curate.stage import StageContext
    from curate.stages.diversity import Diversity, DiversityParams

    stage = Diversity(DiversityParams(sample_size=60, n_boot=5))
    with Catalog(run_dir, read_only=True) as cat:
        ctx = StageContext("diversity", tmp_path / "diversity", [], 1, 0, cat, lambda s, c: None, lambda f, c, o: [], tmp_path)
        stage.reduce(ctx)
        stored = cat.query("SELECT * EXCLUDE (computed_at) FROM diversity WHERE scope_kind IN ('corpus', 'source', 'topic')"
                           " ORDER BY scope_kind, scope_id, metric")
    [handed] = stage.handed_rows(ctx.stage_dir)
    written = pl.read_parquet(handed.path).sort("scope_kind", "scope_id", "metric")
    assert handed.table == "diversity" and written.height == stored.height > 0
    assert written["value"].to_list() == stored["value"].to_list()


def test_cli_scores_a_scope(run_dir):
    result = CliRunner().invoke(app, ["diversity", str(run_dir), "--where", "source = 'software'", "--scope-id", "sw",
                                      "--n-boot", "0", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "vendi" in result.output and "distinct_2" in result.output
    bad = CliRunner().invoke(app, ["diversity", str(run_dir), "--where", "no_such_column = 1"])
    assert bad.exit_code == 2
    with Catalog(run_dir, read_only=True) as cat:
        assert cat.query("SELECT count(*) AS n FROM diversity WHERE scope_id = 'sw'")["n"][0] > 10
