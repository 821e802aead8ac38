"""Scale check (DataDecide, Magnusson et al. 2025): does a small proxy's ranking of mixtures transfer?

For each target and each preset other than the primary one, the mixtures trained at both sizes are
ranked by their seed-mean target at each size; Spearman ρ (with a bootstrap CI over mixtures), Kendall
τ-b and the permutation p of ρ say how well the small model's ranking predicts the larger one's. The
statistics are the same functions ``reports correlate`` uses for diversity. DataDecide's own measure,
*decision accuracy*, is the share of mixture pairs that the small scale orders as the large one does: the
chance that a decision between two mixtures made at the small scale is the one the large scale would make.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from curate.core.catalog import Catalog
from reports.correlate import bootstrap_ci, kendall, permutation_p, spearman, spearman_rows, warning_for
from reports.queries import run

SCHEMA = {"preset_small": pl.String, "preset_large": pl.String, "target": pl.String, "n_mixtures": pl.Int32,
          "rho": pl.Float64, "rho_ci_low": pl.Float64, "rho_ci_high": pl.Float64, "tau": pl.Float64, "p_perm": pl.Float64,
          "decision_accuracy": pl.Float64, "warning": pl.String}


def mixture_means(cat: Catalog, target: str, preset: str) -> pl.DataFrame:
    """(mixture_id, y): the seed mean of ``target`` ('eval_set/metric') per mixture for one preset."""
    eval_set, _, metric = target.rpartition("/")
    rows = run(cat, "eval_results", eval_set=eval_set, metric=metric, preset=preset).drop_nulls(["mixture_id", "value"])
    return rows.group_by("mixture_id").agg(pl.col("value").mean().alias("y")).sort("mixture_id")


def decision_accuracy(small: list[float], large: list[float]) -> float:
    """Pairwise decision accuracy (DataDecide, Magnusson et al. 2025): over every pair of mixtures, 1 when the
    two scales order it the same way, ½ when either scale ties it, 0 otherwise; the mean over pairs.

    0.5 is a coin flip, 1 a perfect transfer. With ties counted half it equals (1 + Kendall's τ-a) / 2.
    NaN with fewer than two mixtures.
    """
    a, b = np.asarray(small, dtype=float), np.asarray(large, dtype=float)
    upper = np.triu_indices(len(a), k=1)
    if not upper[0].size:
        return math.nan
    agree = np.sign(a[:, None] - a[None, :])[upper] * np.sign(b[:, None] - b[None, :])[upper]  # 1, -1, or 0 on a tie
    return float(np.mean((agree + 1) / 2))


def rank_agreement(small: list[float], large: list[float], seed: int = 0, n_boot: int = 2000) -> dict:
    """Spearman ρ with its bootstrap CI, Kendall τ-b, permutation p and decision accuracy between two scales'
    per-mixture values."""
    n = len(small)
    ok = n >= 3 and len(set(small)) > 1 and len(set(large)) > 1
    lo, hi = bootstrap_ci(small, large, spearman_rows, seed, n_boot) if ok else (math.nan, math.nan)
    return {"n_mixtures": n, "rho": spearman(small, large) if ok else math.nan, "rho_ci_low": lo, "rho_ci_high": hi,
            "tau": kendall(small, large) if ok else math.nan, "p_perm": permutation_p(small, large, seed) if ok else math.nan,
            "decision_accuracy": decision_accuracy(small, large), "warning": warning_for(n, 0, math.nan)}


def scale_agreement(cat: Catalog, presets: list[str], targets: tuple[str, ...], seed: int = 0, n_boot: int = 2000) -> pl.DataFrame:
    """One row per target x (primary preset, other preset) over the mixtures both trained."""
    rows = []
    for target in targets:
        for other in presets[1:]:
            pair = mixture_means(cat, target, presets[0]).join(mixture_means(cat, target, other), on="mixture_id")
            if pair.height < 2:
                continue
            stats = rank_agreement(pair["y"].to_list(), pair["y_right"].to_list(), seed, n_boot)
            rows.append({"preset_small": presets[0], "preset_large": other, "target": target} | stats)
    frame = pl.DataFrame(rows, schema=SCHEMA)
    return frame.with_columns(pl.col(c).fill_nan(None) for c in ("rho", "rho_ci_low", "rho_ci_high", "tau", "p_perm", "decision_accuracy"))
