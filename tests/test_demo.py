"""The whole loop, as `curate demo` runs it, on a tiny generated corpus (small enough for CI)."""

from __future__ import annotations

import pytest

from curate.core.catalog import Catalog
from curate.demo.loop import run_demo
from tests.corpus import write_sources


def test_demo_end_to_end(tmp_path, capfd):
    write_sources(tmp_path / "raw")
    run_dir = run_demo(tmp_path, workers=2, progress=False, mode="tiny")
    with Catalog(run_dir, read_only=True) as cat:
        count = lambda table: cat.query(f"SELECT count(*) AS n FROM {table}")["n"][0]  # noqa: E731
        for table in ("documents", "decisions", "exact_dedup", "minhash_dedup", "langid", "quality_rules", "topics",
                      "topic_labels", "diversity", "eval_sets", "mixtures", "mixture_docs", "mixture_design", "mixture_covariates",
                      "mixture_alignment", "studies", "train_runs", "train_curve", "evals", "checkpoint_evals", "eval_doc_losses",
                      "fit_docs", "study_effects", "study_outcomes"):
            assert count(table) > 0, table
        assert count("kept_documents") < count("documents")
        assert cat.query("SELECT count(*) AS n FROM fit_docs JOIN eval_sets USING (doc_id)")["n"][0] == 0
        assert set(cat.query("SELECT DISTINCT fit FROM fit_docs")["fit"]) == {"tokenizer", "topics", "quality_model"}
        design = cat.query("SELECT arm, count(*) AS n, list(DISTINCT factor_value ORDER BY factor_value) AS levels"
                           " FROM mixture_design GROUP BY arm ORDER BY arm")
        assert design["arm"].to_list() == ["control", "study"] and design["n"][0] == design["n"][1]
        assert design["levels"][1].to_list() == pytest.approx([0.0, 1.0, 1.5849625, 2.0])  # log2 k, k in {1, 2, 3, 4}: 5 domains
        epochs = cat.query("SELECT DISTINCT value FROM mixture_covariates WHERE name = 'epochs'")["value"].to_list()
        assert len(epochs) == 1  # exact epochs: repetition is held fixed across mixtures
        effects = cat.query("SELECT analysis, arm, verdict FROM study_effects WHERE step_frac = 1")
        assert {"primary", "control", "ngram", "control_ngram"} <= set(effects["analysis"])
        runs = cat.query("SELECT learned FROM train_runs")
        assert runs.height == 2 * design["n"][0] + 1  # one seed per mixture, one mixture replicated
    out = capfd.readouterr().out
    assert "Study domains, pre-registered: does log2 of the number of groups" in out
    primary = effects.filter(effects["analysis"] == "primary").row(0, named=True)
    assert primary["verdict"] in ("refused", "not identifiable", "inconclusive", "effect")
    page = (tmp_path / "report.html").read_text()
    assert "Study: domains" in page and "<svg" in page
