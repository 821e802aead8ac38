"""The whole loop, as `curate demo` runs it, on a tiny generated corpus (small enough for CI)."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from curate.core.catalog import Catalog
from curate.demo.loop import run_demo
from curate.demo.plan import StudyPlan, sized_sweep
from curate.demo.settings import SIZES, DemoSettings
from curate.mix.sweep import SweepSpec
from tests.corpus import write_sources


def test_demo_end_to_end(tmp_path, capfd):
    write_sources(tmp_path / "raw")
    run_dir = run_demo(DemoSettings(out=tmp_path, workers=2, progress=False, mode="tiny"))
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
    ran = SweepSpec.model_validate(yaml.safe_load((tmp_path / "demo_study.yaml").read_text()))
    assert (ran.base.token_budget, ran.base.epochs) == (SIZES["tiny"].budget, epochs[0])  # the file next to the corpus is what ran


def test_the_demo_sizes_its_study_file_in_named_fields_and_keeps_the_rest():
    shipped = SweepSpec.model_validate(yaml.safe_load((resources.files("curate") / "recipes" / "mix_study_subsets.yaml").read_text()))
    plan = StudyPlan(domains=("a", "b", "c", "d", "e"), epochs=3, unique_tokens=2000, k_levels=(1, 2, 3), tokens={})
    sized = sized_sweep(shipped, plan, budget=6000, draws=2, control_draws=1, seed=7)
    assert sized.base.model_dump(exclude_unset=True) == shipped.base.model_dump(exclude_unset=True) | {
        "where": plan.where, "token_budget": 6000, "epochs": 3, "seed": 7}
    assert sized.design.model_dump() == shipped.design.model_dump() | {"k": [1, 2, 3], "draws": 2, "seed": 7}  # type: ignore[union-attr]
    assert (sized.control.group_by, sized.control.draws) == ("bucket:5", 1)  # type: ignore[union-attr]
    assert (sized.study, sized.covariates, sized.diversity_sample) == (shipped.study, shipped.covariates, shipped.diversity_sample)
