"""`train search` on real runs: target resolution, refusals, and (slow) the whole search on a planted corpus."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from curate.core.catalog import Catalog
from train.cli import app
from train.search.targets import scored_sets, target_sets


def test_targets_resolve_to_eval_sets_or_say_what_is_missing(run_dir):
    with Catalog(run_dir, read_only=True) as cat:
        panel = target_sets(cat, "panel/bpb", ["cooking"], "source")
        assert panel == [f"id/{d}" for d in ("astronomy", "cooking", "law", "software")]
        assert target_sets(cat, "id/law/bpb", ["law"], "source") == ["id/law"] and target_sets(cat, "ood/bpb", [], "source") == ["ood"]
        assert scored_sets(cat, ["ood"]) == ["ood/gardening"]
        with pytest.raises(ValueError, match="no eval set 'id/poetry'"):
            target_sets(cat, "id/poetry/bpb", [], "source")
        with pytest.raises(ValueError, match="bits per byte"):
            target_sets(cat, "panel/continuation_acc", [], "source")
        with pytest.raises(ValueError, match="grouped by None"):  # the fixture's split records no grouping
            target_sets(cat, "unseen/bpb", ["law"], "source")


def test_a_search_too_small_to_cross_validate_is_refused_without_a_traceback(run_dir):
    result = CliRunner().invoke(app, ["search", str(run_dir), "--tokens", "4096", "--proxies", "8", "--folds", "5"])
    assert result.exit_code == 2 and "too few for 5-fold CV" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_a_search_on_a_planted_corpus_puts_the_target_domain_first_and_resumes(tmp_path: Path):
    """Five sources, each its own vocabulary; the target is one of them (id/s3), so the best mixture is mostly s3."""
    from tests.planted import build_planted_run

    run_dir = build_planted_run(tmp_path, planted=True, n_docs=300, per_group=6)
    args = ["search", str(run_dir), "--tokens", "12000", "--preset", "pico", "--proxies", "8", "--folds", "3", "--target", "id/s3/bpb",
            "--validation-seeds", "2", "--eval-docs", "4", "--candidates", "2000", "--workers", "2"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output + repr(first.exception)
    with Catalog(run_dir, read_only=True) as cat:
        row = cat.query("SELECT * FROM search_runs").row(0, named=True)
        predictions = cat.query("SELECT role, model, fold, n_runs FROM search_predictions")
        comparisons = cat.query("SELECT baseline, n_chosen, n_baseline FROM search_comparisons ORDER BY baseline")
        design = cat.query("SELECT arm, count(*) AS n FROM mixture_design WHERE sweep_id IN ('search', 'search-val') GROUP BY arm ORDER BY arm")
        chosen_path = cat.query("SELECT path FROM mixtures WHERE mixture_id = $m", {"m": row["chosen_mixture_id"]})["path"][0]
        report = cat.report("search")
    weights = json.loads(row["chosen_weights"])
    assert max(weights, key=weights.get) == "s3" and weights["s3"] > 0.5
    assert row["n_proxies"] == 8 and row["n_heldout"] == 2 and row["model"] in ("linear", "loglinear", "gbm", "law")
    assert predictions.filter(pl.col("role") == "proxy").height == 6 * 4  # every fit proxy, out of fold, under each model
    assert sorted(predictions.filter(pl.col("fold").is_not_null())["fold"].unique().to_list()) == [0, 1, 2]
    assert predictions.filter(pl.col("role") == "heldout").height == 2
    assert predictions.filter(pl.col("role").is_in(["chosen", "uniform", "natural", "best_proxy"]))["n_runs"].to_list() == [2, 2, 2, 2]
    assert comparisons.rows() == [("best_proxy", 2, 2), ("natural", 2, 2), ("uniform", 2, 2)]
    assert dict(design.iter_rows()) == {"best_proxy": 1, "chosen": 1, "natural": 1, "proxy": 8, "uniform": 1}
    manifest = json.loads((run_dir / chosen_path / "manifest.json").read_text())
    assert manifest["groups"]["s3"]["weight"] == pytest.approx(weights["s3"], abs=1e-5)
    assert report.height == 4 and report["arm"].to_list()[0] == "chosen"
    again = CliRunner().invoke(app, args)  # resumable: every mixture and run is there already
    assert again.exit_code == 0 and "parameters (" not in again.output and again.output.count("done already") == 8 + 8
    with Catalog(run_dir, read_only=True) as cat:
        assert cat.query("SELECT chosen_weights FROM search_runs")["chosen_weights"][0] == row["chosen_weights"]
    floor = CliRunner().invoke(app, [*args, "--min-share", "0.1"])  # other constraints: only the new chosen mixture trains
    assert floor.exit_code == 0 and floor.output.count("done already") == 8 + 8  # the baselines and the earlier chosen mixture
    with Catalog(run_dir, read_only=True) as cat:
        assert min(json.loads(cat.query("SELECT chosen_weights FROM search_runs")["chosen_weights"][0]).values()) >= 0.1 - 1e-6
        assert cat.query("SELECT count(*) AS n FROM train_runs WHERE sweep_id = 'search-val'")["n"][0] == 8 + 2
    other = CliRunner().invoke(app, [*args, "--seed", "1"])  # other proxies under the same name: refused before anything is emitted
    assert other.exit_code == 2 and "choose another --name" in other.output
