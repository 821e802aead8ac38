"""Scale check statistics against scipy, the refusal to correlate undertrained runs, and the headline."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from curate.catalog import Catalog
from reports.analysis import UndertrainedError, analyse
from reports.cli import app
from reports.headline import headline
from reports.scale import rank_agreement


def test_rank_agreement_equals_scipy_on_fixed_inputs():
    small = [3.1, 2.9, 3.4, 2.5, 3.0, 2.7, 3.3, 2.6]
    large = [2.8, 2.7, 3.0, 2.4, 2.9, 2.3, 3.1, 2.5]
    out = rank_agreement(small, large, seed=0, n_boot=500)
    assert out["rho"] == pytest.approx(stats.spearmanr(small, large).statistic)
    assert out["tau"] == pytest.approx(stats.kendalltau(small, large).statistic)
    exact = stats.permutation_test((small,), lambda x: stats.spearmanr(x, large).statistic, permutation_type="pairings",
                                   alternative="two-sided", n_resamples=np.inf)
    assert out["p_perm"] == pytest.approx(exact.pvalue)
    assert out["rho_ci_low"] <= out["rho"] <= out["rho_ci_high"] and out["n_mixtures"] == 8
    assert rank_agreement(small, [-v for v in small])["rho"] == pytest.approx(-1.0)


def test_scale_agreement_and_headline_are_stored(full_run):
    with Catalog(full_run, read_only=True) as cat:
        scale = cat.query("SELECT * FROM scale_agreement WHERE target = 'ood/bpb'").row(0, named=True)
        sentence = headline(cat)
        presets = cat.query("SELECT DISTINCT preset FROM correlations ORDER BY 1")["preset"].to_list()
    assert scale["preset_small"] == "nano" and scale["preset_large"] == "micro" and scale["n_mixtures"] == 6
    assert presets == ["micro", "nano"]
    assert sentence.startswith("Exploratory, over a sweep whose factor was not randomized: 6 mixtures x 3 seeds (nano")
    assert "out-of-distribution bits per byte" in sentence
    assert "micro" in sentence and "Spearman" in sentence and "held fixed" in sentence


def _copy(full_run, tmp_path):
    shutil.copytree(full_run, tmp_path / "run")
    Catalog(tmp_path / "run").close()  # a writer open re-points the views at the copy
    return tmp_path / "run"


def test_undertrained_runs_are_refused_unless_allowed(full_run, tmp_path):
    run_dir = _copy(full_run, tmp_path)
    with Catalog(run_dir) as cat:
        cat.execute("UPDATE train_runs SET learned = false, loss_below_unigram = 0.4 WHERE train_id LIKE '%-s1'")
    with pytest.raises(UndertrainedError, match=r"6 of 24 training runs did not pass the learned check.*0\.40 nats"):
        analyse(run_dir, n_boot=200)
    result = CliRunner().invoke(app, ["correlate", str(run_dir), "--n-boot", "200"])
    assert result.exit_code == 2 and "refused" in result.output and "--allow-undertrained" in result.output
    result = CliRunner().invoke(app, ["correlate", str(run_dir), "--n-boot", "200", "--allow-undertrained"])
    assert result.exit_code == 0, result.output
    assert "answer: Not evidence: 6 of 24 runs did not pass the learned check" in result.output
