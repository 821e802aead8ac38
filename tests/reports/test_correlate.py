"""Statistics agree with scipy; the bootstrap is seeded; Holm and the small-n warning behave."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from reports.correlate import bootstrap_ci, correlate, holm, partial_spearman, pearson, permutation_p, spearman

RNG = np.random.default_rng(3)
X = RNG.normal(size=9)
Y = 0.7 * X + RNG.normal(scale=0.5, size=9)


def test_agree_with_scipy():
    assert spearman(X, Y) == pytest.approx(stats.spearmanr(X, Y).statistic)
    assert pearson(X, Y) == pytest.approx(stats.pearsonr(X, Y).statistic)
    out = correlate(X, Y, None, seed_sd=0.01)
    assert out["tau"] == pytest.approx(stats.kendalltau(X, Y).statistic)
    assert permutation_p(X[:7], Y[:7]) == pytest.approx(
        stats.permutation_test((Y[:7],), lambda y: stats.spearmanr(X[:7], y).statistic, permutation_type="pairings",
                               n_resamples=np.inf, alternative="two-sided").pvalue, abs=1e-9)


def test_perfect_order_p_is_two_over_n_factorial():
    x = np.arange(5.0)
    assert permutation_p(x, x * 2) == pytest.approx(2 / math.factorial(5))


def test_bootstrap_is_seeded():
    assert bootstrap_ci(X, Y, spearman, seed=1) == bootstrap_ci(X, Y, spearman, seed=1)
    lo, hi = bootstrap_ci(X, Y, spearman, seed=1)
    assert lo <= spearman(X, Y) <= hi


def test_holm_matches_definition():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(holm([float("nan"), 0.5])[0])


def test_partial_correlation_removes_a_confound():
    rng = np.random.default_rng(0)
    z = rng.normal(size=40)
    x, y = z + rng.normal(scale=0.3, size=40), z + rng.normal(scale=0.3, size=40)
    assert spearman(x, y) > 0.8
    assert abs(partial_spearman(x, y, z)) < 0.35


def test_small_n_warns():
    out = correlate(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 3, 4]), None, seed_sd=0.6)
    assert "only 4 mixtures" in out["warning"] and "twice the seed spread" in out["warning"]
