"""Matching: hold a covariate's distribution fixed across mixtures by stratified sampling.

``match: {column: n_bytes, bins: 4}`` cuts the pool into strata: equal-count quantile bins ``q1..qN`` of
a numeric column (ordered by value, then doc_id), or the values of a text column (``match: {column:
lang}``). Each stratum's share of the pool's tokens, π_s, is the target everywhere: a group with share
p_g of the budget is filled with p_g·π_s of it from each stratum s (its documents in that stratum, in
the usual seeded order). Every mixture then has the pool's token distribution over the strata, whatever
its groups, so the matched covariate cannot differ between mixtures beyond the within-bin spread. This
is stratified sampling as in matched designs (Rosenbaum & Rubin 1983 on balancing by subclassification);
narrower bands are a ``where`` clause. A group that lacks the tokens of a stratum makes the mixture
infeasible, and the error names the group and the stratum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from curate.mix.select import InfeasibleMixture, repeat_cap
from curate.mix.spec import MixtureSpec


def strata(frame: pl.DataFrame, column: str, bins: int) -> pl.Series:
    """The stratum of each row of ``frame`` (doc_id sorted, with ``column``): q1..qN or the text value."""
    values = frame[column]
    if not values.dtype.is_numeric():
        return values.cast(pl.String).fill_null("<null>").alias("stratum")
    order = frame.select(pl.col(column).fill_null(float("-inf")), "doc_id").with_row_index("_i").sort([column, "doc_id"])["_i"]
    labels = pl.Series("_bin", [f"q{i * bins // max(frame.height, 1) + 1}" for i in range(frame.height)])
    return pl.DataFrame({"_i": order, "stratum": labels}).sort("_i")["stratum"]


@dataclass
class Cells:
    """One cell per (group, stratum): its documents in pick order, its share p_g · π_s, its group."""

    docs: dict[str, pl.DataFrame] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)
    group: dict[str, str] = field(default_factory=dict)


def stratify(groups: dict[str, pl.DataFrame], shares: dict[str, float], pool: pl.DataFrame, spec: MixtureSpec) -> Cells:
    """The cells of a matched mixture: one per (group, stratum) with share p_g · π_s.

    ``groups`` hold each group's documents in pick order (with a ``stratum`` column); π_s is the
    stratum's share of the pool's tokens. Raises InfeasibleMixture naming the group and stratum that ran short.
    """
    pool_tokens = pool.group_by("stratum").agg(pl.col("n_tokens").sum())
    total = pool_tokens["n_tokens"].sum()
    pi = {s: t / total for s, t in sorted(pool_tokens.iter_rows())}
    cap, column = repeat_cap(spec), spec.match.column
    cells = Cells()
    for g in sorted(g for g, p in shares.items() if p > 0):
        by_stratum = {k[0]: part for k, part in groups[g].partition_by("stratum", as_dict=True, maintain_order=True).items()}
        for s, share in pi.items():
            part = by_stratum.get(s, groups[g].clear())
            need, have = shares[g] * share * spec.token_budget, int(part["n_tokens"].sum())
            if need > have * cap * (1 + 1e-9):
                raise InfeasibleMixture(
                    f"matching on {column}: group {g!r} ran short in stratum {s!r}: its share {shares[g]:.4f} x the stratum's "
                    f"pool share {share:.4f} of {spec.token_budget:,} tokens needs {round(need):,}, it has {have:,} tokens x "
                    f"{'epochs' if spec.epochs else 'max_repeats'}={cap}; lower the budget or use fewer bins")
            key = f"c{len(cells.docs):05d}"
            cells.docs[key], cells.shares[key], cells.group[key] = part, shares[g] * share, g
    return cells
