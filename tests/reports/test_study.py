"""`reports study` on a real designed catalog (curation, eval split, tokenizer, both arms emitted) whose training
results are planted per eval document: the study arm's unseen-group loss falls with log2 k, the control's does not."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from curate.core.catalog import Catalog
from curate.mix.groups import bucket_key
from curate.mix.sweep import SweepSpec, run_sweep
from reports.cli import app
from reports.html import write_report
from reports.study import analyse_study
from tests.curate.study_run import build_study_run
from train.tokenizer import train_tokenizer

EFFECT = -0.15  # bits per byte per doubling of k, on the groups a mixture lacks


def _sweep() -> SweepSpec:
    return SweepSpec(name="dom", base={"group_by": "source", "token_budget": 4000, "epochs": 2, "seed": 0},
                     design={"kind": "subsets", "k": [1, 2, 3], "draws": 3, "balance": 20}, control={"group_by": "bucket:5"},
                     study={"factor": "log2_k", "target": "unseen/bpb", "confounds": ["tokens_per_byte"]}, diversity_sample=0)


def _plant(cat: Catalog, seed: int = 0) -> None:
    """train_runs and eval_doc_losses: bpb = group difficulty + EFFECT x log2 k on unseen groups (study arm only) + noise."""
    rng = np.random.default_rng(seed)
    design = cat.query("SELECT mixture_id, arm, factor_value, groups FROM mixture_design ORDER BY mixture_id")
    panel = cat.query("SELECT e.eval_set, e.doc_id, d.source, length(d.text) AS n_bytes FROM eval_sets e JOIN documents d USING (doc_id)")
    difficulty = {s: 2.0 + 0.3 * i for i, s in enumerate(sorted(set(panel["source"])))}
    runs, losses = [], []
    for i, (mixture_id, arm, x, groups) in enumerate(design.iter_rows()):
        draw = rng.normal(0, 0.02)
        for seed_ in range(1 + i % 2):
            train_id = f"{mixture_id}.nano.s{seed_}"
            runs.append({"train_id": train_id, "mixture_id": mixture_id, "sweep_id": "dom", "preset": "nano", "seed": seed_,
                         "data_seed": 1000 + seed_, "tokens": 4000, "status": "done", "learned": True, "converged": True,
                         "n_params": 500_000, "loss_below_unigram": 2.0, "unigram_entropy": 6.0, "bigram_loss": 4.5, "tail_gain": 0.01})
            noise = rng.normal(0, 0.01)
            for eval_set, doc_id, source, n_bytes in panel.iter_rows():
                group = source if arm == "study" else bucket_key(doc_id, 5)
                unseen = group not in groups
                bpb = difficulty[source] + (EFFECT * x if unseen and arm == "study" else 0.0) + draw + noise + rng.normal(0, 0.02)
                for step in (50, 100):
                    losses.append({"train_id": train_id, "step": step, "eval_set": eval_set, "doc_id": doc_id,
                                   "nll_bits": (bpb + (0.5 if step == 50 else 0.0)) * n_bytes, "n_bytes": n_bytes})
    cat.append("train_runs", pl.DataFrame(runs))
    cat.append("eval_doc_losses", pl.DataFrame(losses))


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    run_dir = build_study_run(tmp_path_factory.mktemp("study"), n_docs=300, per_group=6, tokenizer=False)
    train_tokenizer(run_dir, 300)  # fitted as a user does: eval documents excluded and recorded in fit_docs
    with Catalog(run_dir) as cat:
        run_sweep(cat, _sweep())
        _plant(cat)
    return run_dir


def test_planted_effect_found_control_null_and_tables_written(study_run):
    frame = analyse_study(study_run, n_boot=400, n_perm=999)
    by = {(r["analysis"], r["step_frac"]): r for r in frame.iter_rows(named=True)}
    primary, control = by[("primary", 1.0)], by[("control", 1.0)]
    assert primary["verdict"] == "effect" and primary["ci_low"] <= EFFECT <= primary["ci_high"] and primary["p_value"] < 0.01
    assert control["ci_low"] <= 0 <= control["ci_high"] and control["verdict"] == "inconclusive"
    assert ("checkpoint", 0.5) in by and ("ngram", 1.0) in by and ("beyond_ngram", 1.0) in by
    assert primary["adjusted_for"] == ["tokens_per_byte"] and primary["n_mixtures"] == 9 and primary["n_runs"] == 13
    assert math.isfinite(primary["mixed_estimate"]) and primary["max_abs_rho_confound"] < 1
    with Catalog(study_run, read_only=True) as cat:
        outcomes = cat.query("SELECT arm, count(DISTINCT mixture_id) AS n FROM study_outcomes WHERE analysis IN ('primary', 'control')"
                             " GROUP BY 1 ORDER BY 1")
    assert outcomes.rows() == [("control", 9), ("study", 9)]
    page = write_report(study_run, study_run / "report.html").read_text()
    assert "Study: dom" in page and "Covariate balance" in page and page.count("<svg") >= 3


def test_cli_answers_and_refuses_unlearned_runs(study_run, tmp_path):
    result = CliRunner().invoke(app, ["study", str(study_run), "--n-boot", "200", "--n-perm", "199"])
    assert result.exit_code == 0, result.output
    assert "Answer: effect. Per doubling of k the target changes by -0.1" in result.output and "Negative control" in result.output
    with Catalog(study_run) as cat:
        cat.execute("UPDATE train_runs SET learned = false WHERE seed = 1")
    try:
        refused = CliRunner().invoke(app, ["study", str(study_run), "--n-boot", "200", "--n-perm", "199"])
        assert refused.exit_code == 2 and "Answer: refused" in refused.output and "learned check" in refused.output
        assert "-0.1" not in refused.output.split("answer:")[-1]  # numbers withheld from the answer
        anyway = CliRunner().invoke(app, ["study", str(study_run), "--n-boot", "200", "--n-perm", "199", "--numbers-anyway"])
        assert anyway.exit_code == 0 and "NOT EVIDENCE" in anyway.output
    finally:
        with Catalog(study_run) as cat:
            cat.execute("UPDATE train_runs SET learned = true")


def test_a_run_without_a_study_gets_a_clear_error(tmp_path):
    run_dir = build_study_run(tmp_path, n_docs=60, tokenizer=False)
    result = CliRunner().invoke(app, ["study", str(run_dir)])
    assert result.exit_code == 2 and "no designed study" in result.output and "curate mix sweep" in result.output
