"""Covariate balance of a design: how strongly its factor is rank-correlated with properties of the mixtures.

A design whose factor moves together with, say, tokens per byte cannot tell the two apart. Before any
mixture is emitted, the covariates of every planned mixture are estimated from the pool (:class:`Curves`:
the selection replayed on each group's documents in pick order, so the estimate is nearly what emitting
will measure): tokens_per_byte, mean_doc_tokens, mean_doc_bytes, near_dup_frac, mean_quality (when the
quality model is useful), lang_share:* and script_share:*.

Rerandomization (Morgan & Rubin 2012, "Rerandomization to improve covariate balance in experiments"):
``balance: N`` draws N candidate designs and keeps the one minimizing the largest |Spearman ρ| between the
factor and any of these covariates; the best few are then scored again on their exact selections
(:func:`curate.mix.emit.select`, the same code that emits them), so the balance reported is the balance
the emitted mixtures have. :func:`realized_balance` measures it after emitting, from ``mixture_covariates``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from curate.core.catalog import Catalog
from curate.mix.designs import Draw
from curate.mix.select import seeded_keys
from curate.mix.spec import MixtureSpec

REFINE = 20  # candidates re-scored on their exact selections
FIXED_BY_EPOCHS = ("epochs", "repeat_rate", "unique_tokens")  # constant (up to one document) when epochs is set


def average_ranks(a: np.ndarray) -> np.ndarray:
    """Ranks (1-based, ties averaged) along the last axis."""
    order = np.argsort(a, axis=-1, kind="stable")
    s = np.take_along_axis(a, order, -1)
    n = a.shape[-1]
    pos = np.broadcast_to(np.arange(n), a.shape)
    starts = np.ones(a.shape, dtype=bool)
    starts[..., 1:] = s[..., 1:] != s[..., :-1]
    ends = np.ones(a.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=-1)
    last = np.flip(np.minimum.accumulate(np.flip(np.where(ends, pos, n), -1), axis=-1), -1)
    ranks = np.empty(a.shape)
    np.put_along_axis(ranks, order, (first + last) / 2 + 1, -1)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman ρ of x and y along the last axis; 0 where either is constant."""
    rx, ry = average_ranks(x), average_ranks(y)
    rx = rx - rx.mean(-1, keepdims=True)
    ry = ry - ry.mean(-1, keepdims=True)
    den = np.sqrt((rx**2).sum(-1) * (ry**2).sum(-1))
    return np.where(den > 0, (rx * ry).sum(-1) / np.where(den > 0, den, 1), 0.0)


class Curves:
    """Replays a mixture's selection on the pool to estimate its covariates for any target shares.

    Each cell (group, or group x stratum under ``match``) holds its documents in the seeded pick order of
    :func:`curate.mix.emit.select` and cumulative sums of what a covariate needs (tokens, bytes, documents,
    quality x tokens, duplicate, language and script tokens). A cell asked for T tokens takes whole epochs
    and then the prefix of the order that holds the rest (interpolating the last document), or, with exact
    epochs E, the prefix holding T / E tokens E times: what ``fill_group`` does, short of its best-fit
    document. Mixtures that share a group share its prefix (the sweep's one seed), so the estimate tracks
    the realized covariates closely.
    """

    def __init__(self, frame: pl.DataFrame, spec: MixtureSpec, with_quality: bool) -> None:
        f = frame.with_columns(pl.Series("_key", seeded_keys(frame["doc_id"], spec.seed)), pl.col("n_tokens").cast(pl.Float64).alias("t"))
        f = (f if "stratum" in f.columns else f.with_columns(pl.lit("").alias("stratum"))).sort("_key")
        q = pl.col("quality").is_not_null() if with_quality else pl.lit(False)
        parts = {"t": pl.col("t"), "b": pl.col("n_bytes").cast(pl.Float64), "docs": pl.lit(1.0),
                 "dup": pl.col("dup").fill_null(False).cast(pl.Float64) * pl.col("t"),
                 "qt": pl.when(q).then(pl.col("quality") * pl.col("t")).otherwise(0.0), "tq": pl.when(q).then(pl.col("t")).otherwise(0.0)}
        for family, column in (("lang_share", "lang"), ("script_share", "script")):
            for value in sorted(f[column].fill_null("").unique().to_list()) if f[column].null_count() < f.height else []:
                parts[f"{family}:{value or '<none>'}"] = (f[column].fill_null("") == value).cast(pl.Float64) * pl.col("t")
        values = f.select(pl.col("group_key"), pl.col("stratum"), **parts)
        self.names = list(parts)
        self.groups = sorted(values["group_key"].unique().to_list())
        pi = values.group_by("stratum").agg(pl.col("t").sum()).with_columns(pl.col("t") / pl.col("t").sum())
        self.pi = dict(pi.iter_rows())
        self.cells: dict[tuple[str, str], np.ndarray] = {}
        for (g, s), part in values.partition_by("group_key", "stratum", as_dict=True, maintain_order=True).items():
            cum = np.zeros((len(self.names), part.height + 1))
            cum[:, 1:] = np.cumsum(part.select(self.names).to_numpy().T, axis=1)
            self.cells[(g, s)] = cum
        self.epochs, self.cap, self.budget = spec.epochs, spec.max_repeats, spec.token_budget

    def _take(self, cum: np.ndarray, target: np.ndarray) -> np.ndarray:
        total = cum[0, -1]
        if self.epochs:
            full, rest, mult = np.zeros_like(target), np.minimum(target / self.epochs, total), self.epochs
        else:
            full = np.minimum(np.floor(target / total), self.cap)
            rest, mult = np.clip(target - full * total, 0, total), 1
        idx = np.clip(np.searchsorted(cum[0], rest, side="right") - 1, 0, cum.shape[1] - 2)
        frac = np.clip((rest - cum[0, idx]) / np.maximum(cum[0, idx + 1] - cum[0, idx], 1e-12), 0, 1)
        prefix = cum[:, idx] + frac * (cum[:, idx + 1] - cum[:, idx])
        return mult * (prefix + full * cum[:, -1:].reshape(-1, *([1] * target.ndim)))

    def predict(self, shares: np.ndarray) -> dict[str, np.ndarray]:
        """Estimated covariates of mixtures with target ``shares[..., group]`` (groups in ``self.groups``)."""
        agg = np.zeros((len(self.names), *shares.shape[:-1]))
        for (g, s), cum in self.cells.items():
            agg += self._take(cum, shares[..., self.groups.index(g)] * self.pi[s] * self.budget)
        a = dict(zip(self.names, agg, strict=True))
        out = {"tokens_per_byte": a["t"] / a["b"], "mean_doc_tokens": a["t"] / a["docs"], "mean_doc_bytes": a["b"] / a["docs"],
               "near_dup_frac": a["dup"] / a["t"]}
        if a["tq"].any():
            out["mean_quality"] = a["qt"] / np.where(a["tq"] > 0, a["tq"], 1)
        return out | {n: a[n] / a["t"] for n in self.names if ":" in n}


def _share_matrix(designs: list[list[Draw]], groups: list[str]) -> np.ndarray:
    index = {g: i for i, g in enumerate(groups)}
    out = np.zeros((len(designs), len(designs[0]), len(groups)))
    for c, design in enumerate(designs):
        for m, draw in enumerate(design):
            total = sum((draw.shares or {}).values())
            for g, p in (draw.shares or {}).items():
                out[c, m, index[g]] = p / total
    return out


def _worst(x: np.ndarray, covs: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rho = {name: spearman(x, values) for name, values in covs.items()}
    return np.max(np.abs(np.stack(list(rho.values()))), axis=0), rho


@dataclass
class Chosen:
    """The design an arm draws (its mixtures) and its balance report (None: a design that is not drawn, e.g. vary)."""

    draws: list[Draw]
    balance: dict | None = None


def choose(candidates: Iterator[list[Draw]], n: int, factor: Callable[[Draw], float], curves: Curves,
           exact: Callable[[Draw], dict[str, float | None]] | None = None, refine: int = REFINE) -> Chosen:
    """The candidate design (of the first ``n``) with the smallest max |ρ(factor, covariate)|, and its report.

    Every candidate is scored on the :class:`Curves` estimate; with ``exact`` (a draw's covariates from its
    actual selection), the ``refine`` best of them and the first (the single-draw reference) are scored
    again on their exact covariates, which decide: the design then has exactly the balance reported.
    """
    designs = [next(candidates) for _ in range(n)]
    x = np.array([[factor(d) for d in design] for design in designs])
    covs = curves.predict(_share_matrix(designs, curves.groups))
    worst, rho = _worst(x, covs)
    if exact is not None:
        top = sorted({0, *np.argsort(worst, kind="stable")[:refine].tolist()})
        values = [[exact(d) for d in designs[c]] for c in top]
        covs = {name: np.array([[v.get(name) or 0.0 for v in row] for row in values]) for name in covs}
        worst_top, rho_top = _worst(x[top], covs)
        worst, rho = worst.copy(), {k: v.copy() for k, v in rho.items()}
        worst[top] = worst_top
        for k in rho:
            rho[k][top] = rho_top[k]
        worst[[c for c in range(n) if c not in top]] = np.inf  # only exactly scored candidates may win
    best = int(np.argmin(worst))
    report = {"candidates": n, "max_abs_rho": round(float(worst[best]), 4),
              "worst_covariate": max(rho, key=lambda k: abs(rho[k][best])),
              "single_draw_max_abs_rho": round(float(worst[0]), 4), "scored_exactly": len(top) if exact else 0,
              "rho": {k: round(float(v[best]), 4) for k, v in sorted(rho.items())}}
    return Chosen(designs[best], report)


def realized_balance(cat: Catalog, sweep_id: str, arm: str = "study", names: list[str] | None = None) -> dict:
    """Spearman ρ between the recorded factor and each recorded covariate over one arm's mixtures.

    ``names``: the covariates to check (default: every ``confound`` covariate). Covariates constant over
    the arm are skipped, and so are those exact epochs fixes by design (``epochs``, ``repeat_rate``, and
    ``unique_tokens``, which varies by under one document); both lists are in the result.
    """
    rows = cat.ask("mix/arm_covariates", sweep_id=sweep_id, arm=arm, all=names is None, names=names or [])
    if rows.height == 0:
        return {"arm": arm, "n_mixtures": 0, "rho": {}, "max_abs_rho": None, "worst_covariate": None, "skipped": {}}
    epochs = all(json.loads(s).get("epochs") for s in rows["spec"].unique().to_list())
    wide = rows.pivot(on="name", index=["mixture_id", "factor_value"], values="value").sort("mixture_id")
    rho, skipped = {}, {}
    for name in sorted(c for c in wide.columns if c not in ("mixture_id", "factor_value")):
        values = wide[name]
        if epochs and name in FIXED_BY_EPOCHS:
            skipped[name] = "fixed by exact epochs"
        elif values.null_count() or values.n_unique() < 2:
            skipped[name] = "constant or missing"
        else:
            rho[name] = round(float(spearman(wide["factor_value"].to_numpy(), values.to_numpy())), 4)
    worst = max(rho, key=lambda k: abs(rho[k])) if rho else None
    return {"arm": arm, "n_mixtures": wide.height, "rho": rho, "max_abs_rho": abs(rho[worst]) if worst else None,
            "worst_covariate": worst, "skipped": skipped}
