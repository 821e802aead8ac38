"""Scale check statistics against scipy, decision accuracy by hand, the refusal to correlate unlearned runs, the
caveat for unconverged ones, and the headline."""

from __future__ import annotations

import itertools
import math
import shutil

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from curate.core.catalog import Catalog
from reports.analysis import UndertrainedError, analyse
from reports.cli import app
from reports.headline import headline
from reports.scale import decision_accuracy, rank_agreement


def exact_spearman_p(x: list[float], y: list[float]) -> float:
    """Two-sided permutation p of Spearman's rho over all n! pairings (distinct values: rho from rank differences)."""
    n = len(x)
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    perms = np.array(list(itertools.permutations(range(n))))
    rho = 1 - 6 * ((rx[perms] - ry) ** 2).sum(axis=1) / (n * (n * n - 1))
    observed = 1 - 6 * ((rx - ry) ** 2).sum() / (n * (n * n - 1))
    return float(np.mean(np.abs(rho) >= abs(observed) - 1e-12))


def test_rank_agreement_equals_scipy_on_fixed_inputs():
    small = [3.1, 2.9, 3.4, 2.5, 3.0, 2.7, 3.3, 2.6]
    large = [2.8, 2.7, 3.0, 2.4, 2.9, 2.3, 3.1, 2.5]
    out = rank_agreement(small, large, seed=0, n_boot=500)
    assert out["rho"] == pytest.approx(stats.spearmanr(small, large).statistic)
    assert out["tau"] == pytest.approx(stats.kendalltau(small, large).statistic)
    assert out["p_perm"] == pytest.approx(exact_spearman_p(small, large))
    assert out["rho_ci_low"] <= out["rho"] <= out["rho_ci_high"] and out["n_mixtures"] == 8
    assert rank_agreement(small, [-v for v in small])["rho"] == pytest.approx(-1.0)


def test_decision_accuracy_on_hand_built_rankings():
    assert decision_accuracy([1, 2, 3, 4], [10, 30, 20, 40]) == pytest.approx(5 / 6)  # one of six pairs flipped
    assert decision_accuracy([1, 2, 3], [3, 2, 1]) == 0.0 and decision_accuracy([1, 2, 3], [5, 6, 9]) == 1.0
    assert decision_accuracy([1, 1, 2], [1, 2, 3]) == pytest.approx(2.5 / 3)  # the pair the small scale ties counts half
    assert decision_accuracy([1, 2], [7, 7]) == 0.5 and math.isnan(decision_accuracy([1], [2]))
    rng = np.random.default_rng(0)
    small, large = rng.integers(0, 4, 12), rng.integers(0, 4, 12)  # many ties: still (1 + tau_a) / 2
    i, j = np.triu_indices(12, k=1)
    tau_a = np.mean(np.sign(small[i] - small[j]) * np.sign(large[i] - large[j]))
    assert decision_accuracy(small.tolist(), large.tolist()) == pytest.approx((1 + tau_a) / 2)
    assert rank_agreement([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0], n_boot=100)["decision_accuracy"] == pytest.approx(5 / 6)


def test_scale_agreement_and_headline_are_stored(full_run):
    with Catalog(full_run, read_only=True) as cat:
        scale = cat.query("SELECT * FROM scale_agreement WHERE target = 'ood/bpb'").row(0, named=True)
        sentence = headline(cat)
        presets = cat.query("SELECT DISTINCT preset FROM correlations ORDER BY 1")["preset"].to_list()
    assert scale["preset_small"] == "nano" and scale["preset_large"] == "micro" and scale["n_mixtures"] == 6
    assert 0.5 < scale["decision_accuracy"] <= 1  # the fixture's micro runs keep nano's order up to seed noise
    assert presets == ["micro", "nano"]
    assert sentence.startswith("Exploratory, over a sweep whose factor was not randomized: 6 mixtures x 3 seeds (nano")
    assert "out-of-distribution bits per byte" in sentence
    assert "micro" in sentence and "Spearman" in sentence and "held fixed" in sentence


def _copy(full_run, tmp_path):
    shutil.copytree(full_run, tmp_path / "run")
    Catalog(tmp_path / "run").close()  # a writer open re-points the views at the copy
    return tmp_path / "run"


def test_unconverged_runs_are_a_caveat_not_a_refusal(full_run, tmp_path):
    run_dir = _copy(full_run, tmp_path)
    with Catalog(run_dir) as cat:  # 3.4 nats below unigram and still improving: learned, not converged
        cat.execute("UPDATE train_runs SET converged = false, tail_gain = 0.052, loss_below_unigram = 3.41 WHERE train_id LIKE '%-s2'")
    result = CliRunner().invoke(app, ["correlate", str(run_dir), "--n-boot", "200"])
    assert result.exit_code == 0, result.output
    assert "caveat: 6 of 24 training runs were still improving at the end (their last 20% of steps gained up to 5.20%" in result.output
    assert "refused" not in result.output and "Not evidence" not in result.output and "unigram" not in result.output


def test_undertrained_runs_are_refused_unless_allowed(full_run, tmp_path):
    run_dir = _copy(full_run, tmp_path)
    with Catalog(run_dir) as cat:
        cat.execute("UPDATE train_runs SET learned = false, loss_below_unigram = 0.4 WHERE train_id LIKE '%-s1'")
    with pytest.raises(UndertrainedError, match=r"6 of 24 training runs did not pass the learned check.*only 0\.40 nats below") as err:
        analyse(run_dir, n_boot=200)
    assert "20%" not in str(err.value)  # the refusal names what it measured: the margin, not the tail
    result = CliRunner().invoke(app, ["correlate", str(run_dir), "--n-boot", "200"])
    assert result.exit_code == 2 and "refused" in result.output and "--allow-undertrained" in result.output
    result = CliRunner().invoke(app, ["correlate", str(run_dir), "--n-boot", "200", "--allow-undertrained"])
    assert result.exit_code == 0, result.output
    assert "answer: Not evidence: 6 of 24 runs did not pass the learned check" in result.output
