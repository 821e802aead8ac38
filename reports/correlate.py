"""Diversity <-> generalization statistics at the level of mixtures (conditions), never of seeds.

For a metric x and a target y, each mixture contributes its x and its seed-averaged y. We report
Spearman ρ, Kendall τ-b and Pearson r (the values scipy.stats computes), seeded percentile bootstrap
95% CIs resampling mixtures (Efron & Tibshirani 1993, ch. 13), a permutation p-value for ρ (exact over
all n! orders when n <= 8, else Monte Carlo with the (hits+1)/(draws+1) estimate of Phipson & Smyth
2010), Holm's (1979) step-down correction across the metrics tested, a partial Spearman ρ controlling
for confounds (ranks residualized on the confounds' ranks), and a leave-one-mixture-out check: fit
y ~ x on n-1 mixtures, predict the held-out one, report the Spearman agreement of predictions with
truth. With n mixtures a perfect rank order has p = 2/n!, so n <= 4 can never reach p < 0.05: such
results carry a warning instead of a claim. Every function is vectorized over resamples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

Stat = Callable[[np.ndarray, np.ndarray], np.ndarray]
EXACT_MAX_N = 8
COLLINEAR_R2 = 0.9  # partial ρ refused above this R² of the metric's ranks on the confounds' ranks


def _rows(a: np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.asarray(a, dtype=float))


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of x and y (shape (k, n)); NaN for a constant row."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / den
    r[(np.ptp(x, axis=1) == 0) | (np.ptp(y, axis=1) == 0)] = np.nan
    return np.clip(r, -1.0, 1.0)


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman ρ per row: Pearson r of average ranks (ties get their mean rank)."""
    return pearson_rows(stats.rankdata(x, axis=1), stats.rankdata(y, axis=1))


def kendall_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall τ-b per row: S / sqrt(untied pairs in x · untied pairs in y) (scipy's default variant)."""
    i, j = np.triu_indices(x.shape[1], k=1)
    sx, sy = np.sign(x[:, j] - x[:, i]), np.sign(y[:, j] - y[:, i])
    den = np.sqrt(np.abs(sx).sum(axis=1) * np.abs(sy).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (sx * sy).sum(axis=1) / den, np.nan)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r (scipy.stats.pearsonr's statistic), NaN when either side is constant."""
    return float(pearson_rows(_rows(x), _rows(y))[0]) if len(x) >= 2 else math.nan


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman ρ (scipy.stats.spearmanr's statistic)."""
    return float(spearman_rows(_rows(x), _rows(y))[0]) if len(x) >= 2 else math.nan


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall τ-b (scipy.stats.kendalltau's statistic)."""
    return float(kendall_rows(_rows(x), _rows(y))[0]) if len(x) >= 2 else math.nan


def permutation_p(x: np.ndarray, y: np.ndarray, seed: int = 0, n_perm: int = 20_000) -> float:
    """Two-sided permutation p of Spearman ρ, P(|ρ*| >= |ρ|): exact when n <= 8, else seeded Monte Carlo."""
    n = len(x)
    observed = spearman(x, y)
    if n < 3 or math.isnan(observed):
        return math.nan
    ry = stats.rankdata(y)
    if n <= EXACT_MAX_N:
        orders = np.array(list(itertools.permutations(range(n))))
    else:
        orders = np.random.default_rng(seed).permuted(np.tile(np.arange(n), (n_perm, 1)), axis=1)
    null = pearson_rows(np.tile(stats.rankdata(x), (len(orders), 1)), ry[orders])
    hits = int((np.abs(null) >= abs(observed) - 1e-12).sum())
    return hits / len(orders) if n <= EXACT_MAX_N else (hits + 1) / (n_perm + 1)


def bootstrap_ci(x: np.ndarray, y: np.ndarray, fn: Stat, seed: int = 0, n_boot: int = 2000) -> tuple[float, float]:
    """Percentile 95% CI of a row statistic ``fn`` resampling mixtures with replacement.

    Resamples where x or y is constant (the statistic is undefined) are left out of the percentiles.
    """
    if len(x) < 3:
        return math.nan, math.nan
    idx = np.random.default_rng(seed).integers(0, len(x), (n_boot, len(x)))
    values = fn(np.asarray(x, float)[idx], np.asarray(y, float)[idx])
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, made monotone, capped at 1); NaNs pass through."""
    idx = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    order = sorted(idx, key=lambda i: pvalues[i])
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def partial_spearman(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
    """Spearman ρ of x and y after regressing both ranks on the ranks of each confound column of z.

    With one confound this equals (ρxy − ρxz·ρyz) / sqrt((1 − ρxz²)(1 − ρyz²)). NaN (*not identifiable*)
    when the confounds' ranks explain 90% or more of the variance of x's ranks (VIF ≥ 10): what is left of x
    is then mostly noise, and a number computed from it would be read as evidence.
    """
    z = np.asarray(z, float).reshape(len(x), -1)
    if len(x) < z.shape[1] + 3:
        return math.nan
    design = np.column_stack([np.ones(len(x)), *(stats.rankdata(c) for c in z.T)])

    def resid(v: np.ndarray) -> np.ndarray:
        rv = stats.rankdata(v)
        return rv - design @ np.linalg.lstsq(design, rv, rcond=None)[0]

    rx = stats.rankdata(x)
    if (resid(x) ** 2).sum() <= (1 - COLLINEAR_R2) * ((rx - rx.mean()) ** 2).sum():
        return math.nan
    return pearson(resid(x), resid(y))


def loo_rank_agreement(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman ρ between each mixture's y and its leave-one-mixture-out least-squares prediction from x."""
    n = len(x)
    if n < 4:
        return math.nan
    preds = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        if np.ptp(x[keep]) == 0:
            return math.nan
        slope, intercept = np.polyfit(x[keep], y[keep], 1)
        preds[i] = slope * x[i] + intercept
    return spearman(preds, y)


def close_pairs(y: np.ndarray, seed_sd: float) -> int:
    """Neighbouring mixtures (sorted by seed-mean y) that differ by less than twice the seed spread."""
    if len(y) < 2 or math.isnan(seed_sd):
        return 0
    return int((np.diff(np.sort(y)) < 2 * seed_sd).sum())


def warning_for(n: int, n_close: int, seed_sd: float) -> str | None:
    """The caveats that stop a claim: too few mixtures, or mixtures inside the seed noise."""
    notes = []
    if n <= 4:
        best = f"2/{n}! = {2 / math.factorial(n):.3f}" if n >= 1 else "undefined"
        notes.append(f"only {n} mixtures: the best possible permutation p is {best}, so no claim at p < 0.05 is possible")
    if n_close:
        notes.append(f"{n_close} neighbouring mixture pair(s) differ by less than twice the seed spread (2 × {seed_sd:.4g})")
    return "; ".join(notes) or None


def correlate(x: np.ndarray, y: np.ndarray, z: np.ndarray | None = None, seed_sd: float = math.nan,
              seed: int = 0, n_boot: int = 2000) -> dict[str, Any]:
    """All statistics for one metric/target pair (x: metric per mixture, y: seed-mean target, z: confounds)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    ok = n >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0
    nan2 = (math.nan, math.nan)
    n_close = close_pairs(y, seed_sd)
    warning = warning_for(n, n_close, seed_sd)
    if n >= 3 and not ok:
        constant = "the metric" if np.ptp(x) == 0 else "the target"
        warning = "; ".join(filter(None, [f"{constant} is constant across mixtures: no correlation is defined", warning]))
    z_ok = ok and z is not None and np.asarray(z).size > 0 and bool(np.all(np.ptp(np.asarray(z, float).reshape(n, -1), axis=0) > 0))
    partial = partial_spearman(x, y, z) if z_ok else math.nan  # type: ignore[arg-type]
    if z_ok and math.isnan(partial) and n >= np.asarray(z).reshape(n, -1).shape[1] + 3:
        warning = "; ".join(filter(None, [warning, "the metric is collinear with the confound(s): the partial ρ is not identifiable"]))
    return {
        "n_mixtures": n,
        "rho": spearman(x, y) if ok else math.nan,
        "rho_ci": bootstrap_ci(x, y, spearman_rows, seed, n_boot) if ok else nan2,
        "tau": kendall(x, y) if ok else math.nan,
        "tau_ci": bootstrap_ci(x, y, kendall_rows, seed, n_boot) if ok else nan2,
        "r": pearson(x, y) if ok else math.nan,
        "r_ci": bootstrap_ci(x, y, pearson_rows, seed, n_boot) if ok else nan2,
        "p_perm": permutation_p(x, y, seed) if ok else math.nan,
        "partial_rho": partial,
        "loo": loo_rank_agreement(x, y) if ok else math.nan,
        "n_close_pairs": n_close,
        "warning": warning,
    }
