"""Designed-study statistics with planted truth: they find a planted effect, stay null on a null design at the
claimed error rate, adjust a confound away, and refuse what the design cannot identify."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from reports.effects import StudyData, estimate_effect, freedman_lane_p, mixture_outcomes, ols_t, vif_of_factor
from reports.verdict import judge

N_GROUPS = 8


def simulate(beta: float, seed: int, confound_effect: float = 0.02, confound_follows_factor: float = 0.0,
             ks: tuple[int, ...] = (1, 2, 4, 6), draws: int = 4) -> StudyData:
    """A k-of-K design scored on the groups each mixture lacks: value = group difficulty + β·log2 k + confound
    + draw noise + seed noise. The truth is β; ``confound_follows_factor`` ties the confound to the factor."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0, 0.3, N_GROUPS)
    mixture, run, group, value, xs, zs = [], [], [], [], [], []
    r = 0
    for m, (k, _) in enumerate(itertools.product(ks, range(draws))):
        held = set(rng.choice(N_GROUPS, k, replace=False).tolist())
        x = math.log2(k)
        z = rng.normal() + confound_follows_factor * x
        draw_noise = rng.normal(0, 0.03)
        for _ in range(1 + m % 2):  # one or two seeds: seeds nest in mixtures, unevenly
            seed_noise = rng.normal(0, 0.01)
            for h in sorted(set(range(N_GROUPS)) - held):
                mixture.append(m), run.append(r), group.append(h)
                value.append(2.0 + difficulty[h] + beta * x + confound_effect * z + draw_noise + seed_noise + rng.normal(0, 0.005))
            r += 1
        xs.append(x), zs.append([z])
    return StudyData(np.array(mixture), np.array(run), np.array(group), np.array(value), np.array(xs), np.array(zs), ("z",))


def test_planted_effect_is_found_and_null_stays_null_at_the_claimed_rate():
    """Nominal 5%: over 60 null designs at most 6 false positives (binomial 99% bound); 95% CIs cover the truth."""
    false_pos = covered = found = 0
    for i in range(60):
        null = estimate_effect(simulate(0.0, i), seed=i, n_boot=300, n_perm=499)
        false_pos += null.p_value < 0.05 and not null.covers_zero()
        planted = estimate_effect(simulate(-0.05, 1000 + i), seed=i, n_boot=300, n_perm=499)
        found += planted.p_value < 0.05 and not planted.covers_zero() and planted.estimate < 0
        covered += planted.ci_low <= -0.05 <= planted.ci_high
    assert false_pos <= 6
    assert found >= 57
    assert covered >= 52  # 95% nominal: >= 52 of 60 holds with probability > 0.99


def test_a_confound_tied_to_the_factor_is_adjusted_away():
    data = simulate(0.0, 7, confound_effect=0.1, confound_follows_factor=1.0)
    adjusted = estimate_effect(data, n_boot=400, n_perm=999)
    naive = estimate_effect(StudyData(data.mixture, data.run, data.group, data.value, data.x, np.zeros((16, 0))), n_boot=400, n_perm=999)
    assert naive.estimate > 0.05 and not naive.covers_zero()  # the confound shows up as an effect of the factor
    assert adjusted.covers_zero() and abs(adjusted.estimate) < 0.03
    assert adjusted.adjusted_for == ("z",) and adjusted.vif > 1.5


def test_a_collinear_design_is_not_identifiable():
    data = simulate(-0.05, 3)
    collinear = StudyData(data.mixture, data.run, data.group, data.value, data.x, (2 * data.x + 1)[:, None], ("tokens_per_byte",))
    effect = estimate_effect(collinear, n_boot=200, n_perm=199)
    assert math.isinf(effect.vif) or effect.vif > 10
    verdict, reason = judge(effect, None)
    assert verdict == "not identifiable" and "collinear" in reason and "tokens_per_byte" in reason
    assert vif_of_factor(data.x, np.zeros((16, 0))) == 1.0


def test_constant_confounds_are_held_fixed_not_adjusted():
    data = simulate(-0.05, 4)
    fixed = StudyData(data.mixture, data.run, data.group, data.value, data.x, np.column_stack([data.z, np.ones(16)]), ("z", "lang_share:en"))
    effect = estimate_effect(fixed, n_boot=200, n_perm=199)
    assert effect.adjusted_for == ("z",) and effect.held_fixed == ("lang_share:en",)


def test_verdicts_follow_the_control_the_ci_and_the_seed_noise():
    study = estimate_effect(simulate(-0.05, 5), n_boot=300, n_perm=999)
    null_control = estimate_effect(simulate(0.0, 6), n_boot=300, n_perm=999)
    assert judge(study, null_control)[0] == "effect"
    biased_control = estimate_effect(simulate(-0.05, 8), n_boot=300, n_perm=999)
    verdict, reason = judge(study, biased_control)
    assert verdict == "inconclusive" and "negative control" in reason
    assert judge(null_control, None)[0] == "inconclusive"
    assert judge(study, null_control, refusal="eval documents reached the tokenizer")[0] == "refused"


def test_freedman_lane_without_confounds_is_the_exact_permutation_test():
    """With no confounds the reduced model is the mean, so Freedman–Lane permutes y: compare with all 7! orders."""
    rng = np.random.default_rng(0)
    x, y = np.arange(7.0), rng.normal(size=7) + 0.3 * np.arange(7.0)
    design = np.column_stack([np.ones(7), x])
    orders = np.array(list(itertools.permutations(range(7))))
    t_all = ols_t(design, y[orders])[1]
    exact = float(np.mean(np.abs(t_all) >= abs(ols_t(design, y)[1]) - 1e-12))
    assert freedman_lane_p(x, np.zeros((7, 0)), y, seed=1, n_perm=20_000) == pytest.approx(exact, abs=0.01)
    slope, t_robust = ols_t(design, y)
    assert slope == pytest.approx(stats.linregress(x, y).slope)  # the HC3 t differs from the classical one, the slope does not


def test_each_mixture_is_one_unit_whatever_its_seeds():
    cells = np.array([[1.0, np.nan], [np.nan, 3.0], [2.0, 4.0]])
    centred = mixture_outcomes(cells)  # group means 1.5 and 3.5
    assert centred == pytest.approx([-0.5, -0.5, 0.5])
    data = simulate(-0.05, 9)
    more_seeds = StudyData(np.concatenate([data.mixture, data.mixture[data.mixture == 0]]),
                           np.concatenate([data.run, data.run[data.mixture == 0] + 1000]),
                           np.concatenate([data.group, data.group[data.mixture == 0]]),
                           np.concatenate([data.value, data.value[data.mixture == 0]]), data.x, data.z, data.confounds)
    assert estimate_effect(more_seeds, n_boot=100, n_perm=99).estimate == pytest.approx(estimate_effect(data, n_boot=100, n_perm=99).estimate)
