"""Statistics agree with scipy; the bootstrap is seeded; Holm, partial ρ, LOO and the warnings behave;
the stored analysis of the generated run matches scipy on seed means computed from the reports."""

from __future__ import annotations

import math
import shutil

import numpy as np
import polars as pl
import pytest
from scipy import stats

from curate.core.catalog import Catalog
from reports import query
from reports.analysis import analyse
from reports.correlate import (
    bootstrap_ci,
    close_pairs,
    correlate,
    holm,
    kendall,
    kendall_rows,
    loo_rank_agreement,
    partial_spearman,
    pearson,
    pearson_rows,
    permutation_p,
    spearman,
    spearman_rows,
)

RNG = np.random.default_rng(3)
X = RNG.normal(size=9)
Y = 0.7 * X + RNG.normal(scale=0.5, size=9)
TIES_X = np.array([1.0, 2, 2, 3, 4, 4, 4, 5])
TIES_Y = np.array([2.0, 1, 3, 3, 5, 4, 6, 6])


@pytest.mark.parametrize(("x", "y"), [(X, Y), (TIES_X, TIES_Y), (X[:4], -X[:4])])
def test_coefficients_agree_with_scipy(x, y):
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert kendall(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)


def test_row_versions_match_one_at_a_time():
    xs, ys = RNG.normal(size=(5, 7)), RNG.normal(size=(5, 7))
    assert spearman_rows(xs, ys) == pytest.approx([stats.spearmanr(a, b).statistic for a, b in zip(xs, ys, strict=True)])
    assert kendall_rows(xs, ys) == pytest.approx([stats.kendalltau(a, b).statistic for a, b in zip(xs, ys, strict=True)])
    assert math.isnan(spearman(np.ones(5), X[:5]))


def _scipy_perm_p(x, y, n_resamples):
    """scipy's permutation test of |ρ| (P(|ρ*| >= |ρ|), our two-sided definition, exact also under ties)."""
    def abs_rho(v, axis):
        rx, rv = stats.rankdata(x), stats.rankdata(v, axis=axis)
        rx, rv = rx - rx.mean(), rv - rv.mean(axis=axis, keepdims=True)
        return np.abs((rx * rv).sum(axis=axis) / np.sqrt((rx**2).sum() * (rv**2).sum(axis=axis)))

    return stats.permutation_test((y,), abs_rho, permutation_type="pairings", vectorized=True, n_resamples=n_resamples,
                                  alternative="greater", rng=0).pvalue


def test_exact_permutation_p_agrees_with_scipy():
    assert permutation_p(X[:7], Y[:7]) == pytest.approx(_scipy_perm_p(X[:7], Y[:7], np.inf), abs=1e-12)
    assert permutation_p(TIES_X, TIES_Y) == pytest.approx(_scipy_perm_p(TIES_X, TIES_Y, np.inf), abs=1e-12)
    assert permutation_p(X[:6], Y[:6]) == pytest.approx(
        stats.permutation_test((Y[:6],), lambda v: stats.spearmanr(X[:6], v).statistic, permutation_type="pairings",
                               n_resamples=np.inf).pvalue, abs=1e-12)  # no ties: scipy's default two-sided p too


def test_monte_carlo_permutation_p_is_close_to_scipy_and_seeded():
    x, y = RNG.normal(size=12), RNG.normal(size=12)
    y = y + 0.5 * x
    ours = permutation_p(x, y, seed=1)
    assert ours == permutation_p(x, y, seed=1)
    assert ours == pytest.approx(_scipy_perm_p(x, y, 20_000), abs=0.015)


def test_perfect_order_p_is_two_over_n_factorial():
    for n in (4, 5, 6):
        x = np.arange(float(n))
        assert permutation_p(x, x**2) == pytest.approx(2 / math.factorial(n))


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    first = bootstrap_ci(X, Y, spearman_rows, seed=1)
    assert first == bootstrap_ci(X, Y, spearman_rows, seed=1)
    assert first != bootstrap_ci(X, Y, spearman_rows, seed=2)
    assert first[0] <= spearman(X, Y) <= first[1]


def test_bootstrap_ci_is_close_to_scipys_percentile_bootstrap():
    x = RNG.normal(size=30)
    y = x + RNG.normal(size=30)
    ref = stats.bootstrap((x, y), lambda a, b, axis: stats.pearsonr(a, b, axis=axis).statistic, paired=True, vectorized=True,
                          method="percentile", n_resamples=2000, rng=0).confidence_interval
    lo, hi = bootstrap_ci(x, y, pearson_rows)
    assert (lo, hi) == pytest.approx((ref.low, ref.high), abs=0.06)


def test_holm_matches_definition():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert math.isnan(holm([math.nan, 0.5])[0]) and holm([math.nan, 0.5])[1] == 0.5


def test_partial_spearman_matches_the_closed_form_and_removes_a_confound():
    rng = np.random.default_rng(0)
    z = rng.normal(size=40)
    x, y = z + rng.normal(scale=0.3, size=40), z + rng.normal(scale=0.3, size=40)
    rxy, rxz, ryz = (stats.spearmanr(a, b).statistic for a, b in ((x, y), (x, z), (y, z)))
    assert partial_spearman(x, y, z) == pytest.approx((rxy - rxz * ryz) / math.sqrt((1 - rxz**2) * (1 - ryz**2)))
    assert spearman(x, y) > 0.8 and abs(partial_spearman(x, y, z)) < 0.35


def test_partial_spearman_refuses_a_confound_with_the_metrics_ranks():
    """The issue's reproduction: a confound with the same ranks as the metric left a number (0.088); now NaN + a warning."""
    x = np.arange(8.0)
    y = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0, 6.0])
    assert math.isnan(partial_spearman(x, y, x**2))
    out = correlate(x, y, (x**2)[:, None], seed=0, n_boot=200)
    assert math.isnan(out["partial_rho"]) and "not identifiable" in out["warning"]


def test_leave_one_out_agreement():
    x = np.arange(8.0)
    assert loo_rank_agreement(x, 2 * x + 1) == pytest.approx(1.0)
    assert math.isnan(loo_rank_agreement(x[:3], x[:3]))


def test_warnings_for_few_mixtures_close_pairs_and_constants():
    out = correlate(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 3, 4]), None, seed_sd=0.6)
    assert "only 4 mixtures" in out["warning"] and "2/4! = 0.083" in out["warning"]
    assert out["n_close_pairs"] == 3 and "twice the seed spread" in out["warning"]
    assert close_pairs(np.array([1.0, 5.0, 9.0]), 0.1) == 0
    flat = correlate(np.ones(6), np.arange(6.0), None)
    assert math.isnan(flat["rho"]) and "constant" in flat["warning"]


def test_analysis_matches_scipy_on_seed_means_from_the_reports(full_run):
    with Catalog(full_run, read_only=True) as cat:
        stored = cat.query("SELECT * FROM correlations WHERE metric = 'topic_entropy' AND target = 'ood/bpb' AND preset = 'nano'").row(0, named=True)
    rows = query(full_run, "diversity_vs_generalization", preset="nano")
    means = rows.group_by("mixture_id").agg(pl.col("topic_entropy").first(), pl.col("ood_bpb").mean(), pl.len().alias("n"))
    assert stored["n_mixtures"] == means.height == 6 and stored["n_seeds"] == means["n"].min() == 3
    assert stored["rho"] == pytest.approx(stats.spearmanr(means["topic_entropy"], means["ood_bpb"]).statistic)
    assert stored["tau"] == pytest.approx(stats.kendalltau(means["topic_entropy"], means["ood_bpb"]).statistic)
    assert stored["r"] == pytest.approx(stats.pearsonr(means["topic_entropy"], means["ood_bpb"]).statistic)
    assert stored["rho"] < 0 and stored["p_holm"] >= stored["p_perm"] and stored["confound"] == "mean_doc_bytes"
    assert stored["rho_ci_low"] <= stored["rho"] <= stored["rho_ci_high"]


def test_analysis_is_reproducible_and_takes_confounds(full_run, tmp_path):
    shutil.copytree(full_run, tmp_path / "run")
    Catalog(tmp_path / "run").close()  # a writer open re-points the views at the copy
    full_run = tmp_path / "run"
    first = analyse(full_run, ("topic_entropy", "vendi"), ("ood/bpb",), ("n_unique_words", "mean_doc_bytes"), seed=5, n_boot=300)
    again = analyse(full_run, ("topic_entropy", "vendi"), ("ood/bpb",), ("n_unique_words", "mean_doc_bytes"), seed=5, n_boot=300)
    assert first.drop("warning").equals(again.drop("warning")) and first.height == 2 * 2  # x nano, micro
    assert set(first["confound"]) == {"n_unique_words,mean_doc_bytes"}
    missing = analyse(full_run, ("topic_entropy",), ("ood/bpb",), ("mean_quality_score",), n_boot=300)
    assert "confound mean_quality_score unavailable" in missing["warning"][0] and missing["partial_rho"][0] is None
    with pytest.raises(ValueError, match="eval_set/metric"):
        analyse(full_run, targets=("bpb",))
