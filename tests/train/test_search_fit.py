"""Mixture search without training: targets that are known functions of the weights, so the optimum is known.

Tolerances stated: on a Data-Mixing-Laws target the law form is chosen and lands on the exact optimum
(a vertex of the box-simplex) within 0.02 in L1; on a smooth bowl with an interior optimum the search's
mixture is within 0.15 in L1 of it and its true target within 0.01 of the minimum (the uniform mixture
is 0.1 away).
"""

from __future__ import annotations

import numpy as np
import pytest

from train.search.config import SearchConfig
from train.search.optimize import Constraints, candidates, law_optimum
from train.search.regress import Law, cross_validate
from train.search.run import choose, fit
from train.search.validate import compare

GROUPS = ["a", "b", "c", "d", "e"]
PRIOR = np.array([0.3, 0.3, 0.2, 0.1, 0.1])


def proxies(n: int, target, seed: int = 0, noise: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """n Dirichlet(α·p) mixtures (RegMix's sampler) and their noisy targets."""
    rng = np.random.default_rng(seed)
    x = np.stack([rng.dirichlet(a * PRIOR) for a in np.resize([0.5, 1.0, 2.0, 5.0], n)])
    return x, target(x) + rng.normal(0, noise, n)


def config(n: int, **extra) -> SearchConfig:
    return SearchConfig(tokens=1000, n_proxies=n, candidates=20_000, top_k=50, alpha=[0.5, 1.0, 2.0, 5.0], **extra)


def test_the_law_form_is_chosen_on_a_law_and_finds_its_exact_optimum():
    t = np.array([-1.0, 0.5, -0.3, 0.8, 0.0])
    x, y = proxies(60, lambda w: 2.0 + 0.5 * np.exp(w @ t))
    cons = Constraints(GROUPS, np.full(5, 0.02), np.array([0.5, 1.0, 0.6, 1.0, 1.0]))
    fitted = fit(x, y, config(60))
    chosen = choose(fitted, config(60), cons, PRIOR)
    assert fitted.cv.chosen == "law" and fitted.cv.mean("law", "spearman") > 0.95 and fitted.heldout_spearman > 0.95
    np.testing.assert_allclose(chosen, [0.5, 0.02, 0.44, 0.02, 0.02], atol=0.01)  # a at its cap, c takes the rest, minimum shares elsewhere


def test_a_bowl_with_an_interior_optimum_is_found_by_sampling_and_averaging():
    best = np.array([0.35, 0.25, 0.2, 0.15, 0.05])
    bowl = lambda w: 1.0 + 3.0 * ((w - best) ** 2).sum(axis=-1)  # noqa: E731
    x, y = proxies(160, bowl)
    cfg = config(160)
    fitted = fit(x, y, cfg)
    chosen = choose(fitted, cfg, Constraints(GROUPS, np.zeros(5), np.ones(5)), PRIOR)
    assert fitted.cv.chosen != "linear"  # a plane has no interior minimum
    assert np.abs(chosen - best).sum() < 0.15
    assert bowl(chosen) - 1.0 < 0.01 < bowl(np.full(5, 0.2)) - 1.0


def test_caps_and_minimum_shares_hold_for_every_candidate_and_the_law_optimum():
    cons = Constraints.of({"a": 100, "b": 1000, "c": 50}, ["a", "b", "c"], budget=1000, max_repeats=2, min_share=0.05)
    np.testing.assert_allclose(cons.upper, [0.2, 1.0, 0.1])
    cands = candidates(cons, np.array([0.1, 0.85, 0.05]), [0.3, 3.0], 2000, np.random.default_rng(0))
    assert cands.shape == (2000, 3) and cons.feasible(cands).all() and np.allclose(cands.sum(axis=1), 1)
    law = Law(c=1.0, b=0.0, t=np.array([-2.0, 1.0, -3.0]))
    np.testing.assert_allclose(law_optimum(law, cons), [0.2, 0.7, 0.1])


def test_impossible_constraints_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="caps sum to"):
        Constraints.of({"a": 10, "b": 10}, ["a", "b"], budget=1000, max_repeats=4, min_share=0.0)
    with pytest.raises(ValueError, match="exceeds the cap"):
        Constraints.of({"a": 10, "b": 1000}, ["a", "b"], budget=1000, max_repeats=1, min_share=0.2)


def test_cross_validation_reports_every_fold_of_every_model():
    x, y = proxies(30, lambda w: w @ np.array([1.0, 0.0, 0.5, 0.2, 0.3]))
    cv = cross_validate(x, y, ["linear", "gbm"], 5, seed=0)
    assert len(cv.metrics) == 10 and set(cv.fold) == set(range(5)) and not np.isnan(cv.predictions["gbm"]).any()
    assert cv.chosen == "linear" and cv.mean("linear", "spearman") > 0.9


def test_chosen_minus_baseline_uses_the_pooled_seed_noise():
    sd, rows = compare({"chosen": [1.0, 1.2], "uniform": [2.0, 2.2], "natural": [1.5]})
    assert sd == pytest.approx(np.sqrt(0.04 / 2))  # two arms with two seeds: sums of squares 0.02 + 0.02 over df = 2
    uniform = next(r for r in rows if r["baseline"] == "uniform")
    assert uniform["difference"] == pytest.approx(-1.0) and uniform["df"] == 2 and uniform["ci_high"] < 0
    assert {r["baseline"] for r in rows} == {"uniform", "natural"}
