"""Validation: did the chosen mixture win, by how much, against the seed noise?

The unit is the mixture; seeds are nested in it. Each arm (chosen, uniform, natural, best_proxy) is one
mixture trained with several seeds at the same budget. The seed noise is the pooled within-mixture
standard deviation s over every arm (df = Σ (n_a - 1)); chosen minus baseline is the difference of
seed means, with the 95% interval d ± t_{0.975, df} · s · sqrt(1/n_c + 1/n_b). The interval speaks to
these mixtures (their document draws included), not to other draws of the same weights.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

BASELINES = ("uniform", "natural", "best_proxy")


def pooled_sd(values: dict[str, list[float]]) -> tuple[float, int]:
    """(pooled within-arm sd, its degrees of freedom); NaN and 0 when no arm has two seeds."""
    ss = sum(float(np.sum((np.asarray(v) - np.mean(v)) ** 2)) for v in values.values() if len(v) > 1)
    df = sum(len(v) - 1 for v in values.values() if len(v) > 1)
    return (math.sqrt(ss / df), df) if df else (float("nan"), 0)


def compare(values: dict[str, list[float]]) -> tuple[float, list[dict]]:
    """(seed sd, one row per baseline present: n_chosen, n_baseline, difference, ci_low, ci_high, df)."""
    sd, df = pooled_sd(values)
    chosen = values.get("chosen", [])
    rows = []
    for baseline in BASELINES:
        other = values.get(baseline, [])
        if not chosen or not other:
            continue
        diff = float(np.mean(chosen) - np.mean(other))
        half = float(stats.t.ppf(0.975, df) * sd * math.sqrt(1 / len(chosen) + 1 / len(other))) if df else float("nan")
        rows.append({"baseline": baseline, "n_chosen": len(chosen), "n_baseline": len(other), "difference": diff,
                     "ci_low": diff - half, "ci_high": diff + half, "df": df})
    return sd, rows
