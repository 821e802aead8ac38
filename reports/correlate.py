"""Diversity <-> generalization statistics at the level of mixtures (conditions), never of seeds.

For a metric x and a target y, each mixture contributes its x and its seed-averaged y. We report
Spearman ρ, Kendall τ and Pearson r (as scipy computes them), seeded bootstrap 95% CIs resampling
mixtures, a permutation p-value for ρ (exact over all n! orders when n <= 8, else Monte Carlo), Holm's
step-down correction across the metrics tested for one target, a partial Spearman ρ controlling for a
confound (ranks residualized on the confound's ranks), and a leave-one-mixture-out check: fit y ~ x on
n-1 mixtures, predict the held-out one, report the Spearman agreement of predictions with truth.
With n mixtures a perfect rank order has p = 2/n!, so n <= 4 can never reach p < 0.05: such results
carry a warning instead of a claim.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r (same value as scipy.stats.pearsonr), NaN when either side is constant."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman ρ: Pearson r of average ranks (same value as scipy.stats.spearmanr)."""
    return pearson(stats.rankdata(x), stats.rankdata(y))


def permutation_p(x: np.ndarray, y: np.ndarray, seed: int = 0, n_perm: int = 10_000) -> float:
    """Two-sided permutation p-value of Spearman ρ (exact enumeration for n <= 8)."""
    n = len(x)
    if n < 3:
        return float("nan")
    observed = abs(spearman(x, y))
    if n <= 8:
        perms = (np.array(p) for p in itertools.permutations(range(n)))
        hits = total = 0
        for p in perms:
            total += 1
            hits += abs(spearman(x, y[p])) >= observed - 1e-12
        return hits / total
    rng = np.random.default_rng(seed)
    hits = sum(abs(spearman(x, rng.permutation(y))) >= observed - 1e-12 for _ in range(n_perm))
    return (hits + 1) / (n_perm + 1)


def bootstrap_ci(x: np.ndarray, y: np.ndarray, fn, seed: int = 0, n_boot: int = 2000) -> tuple[float, float]:  # noqa: ANN001
    """Percentile 95% CI of fn(x, y) resampling mixtures with replacement (degenerate resamples skipped)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(x), len(x))
        if len(set(x[idx])) < 2 or len(set(y[idx])) < 2:
            continue
        values.append(fn(x[idx], y[idx]))
    if not values:
        return float("nan"), float("nan")
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone), NaNs passed through."""
    idx = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    order = sorted(idx, key=lambda i: pvalues[i])
    adjusted = [float("nan")] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def partial_spearman(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
    """Spearman ρ of x and y after removing the linear effect of z's ranks from both ranks."""
    if len(x) < 4:
        return float("nan")
    rx, ry, rz = (stats.rankdata(v) for v in (x, y, z))
    design = np.column_stack([np.ones_like(rz), rz])
    resid = lambda v: v - design @ np.linalg.lstsq(design, v, rcond=None)[0]  # noqa: E731
    return pearson(resid(rx), resid(ry))


def loo_rank_agreement(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman ρ between each mixture's y and its leave-one-out linear prediction from x."""
    n = len(x)
    if n < 4:
        return float("nan")
    preds = []
    for i in range(n):
        keep = np.arange(n) != i
        slope, intercept = np.polyfit(x[keep], y[keep], 1)
        preds.append(slope * x[i] + intercept)
    return spearman(np.array(preds), y)


def warning_for(n: int, min_gap: float, seed_sd: float) -> str | None:
    notes = []
    if n <= 4:
        notes.append(f"only {n} mixtures: the best possible permutation p is 2/{n}! = {2 / math.factorial(n):.3f}, no claim at p<0.05 is possible")
    if not math.isnan(seed_sd) and min_gap < 2 * seed_sd:
        notes.append(f"some mixtures differ by less than twice the seed spread ({min_gap:.4f} < 2x{seed_sd:.4f})")
    return "; ".join(notes) or None


def correlate(x: np.ndarray, y: np.ndarray, z: np.ndarray | None, seed_sd: float, seed: int = 0) -> dict:
    """All statistics for one metric/target pair (x: metric per mixture, y: seed-mean target)."""
    n = len(x)
    ok = n >= 3 and len(set(x)) > 1 and len(set(y)) > 1
    rho = spearman(x, y) if ok else float("nan")
    gaps = np.diff(np.sort(y))
    return {
        "n_mixtures": n,
        "rho": rho,
        "rho_ci": bootstrap_ci(x, y, spearman, seed) if ok else (float("nan"), float("nan")),
        "tau": float(stats.kendalltau(x, y).statistic) if ok else float("nan"),
        "r": pearson(x, y) if ok else float("nan"),
        "r_ci": bootstrap_ci(x, y, pearson, seed) if ok else (float("nan"), float("nan")),
        "p_perm": permutation_p(x, y, seed) if ok else float("nan"),
        "partial_rho": partial_spearman(x, y, z) if ok and z is not None and len(set(z)) > 1 else float("nan"),
        "loo": loo_rank_agreement(x, y) if ok else float("nan"),
        "warning": warning_for(n, float(gaps.min()) if len(gaps) else float("nan"), seed_sd),
    }
