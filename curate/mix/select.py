"""Mixture strategies: how a token budget is shared among groups, and which documents fill each share.

A strategy is a small pure function ``(group_tokens, spec) -> {group: share}`` (shares sum to 1) in the
``STRATEGIES`` dict. ``group_tokens`` holds each group's available tokens (one epoch); a share is
feasible when ``share · budget <= tokens · max_repeats`` (the repetition cap; with exact epochs E,
``tokens · E``: every chosen document appears exactly E times, so a share needs share · budget / E
distinct tokens). Documents of a group are
then taken in an order (seeded hash of doc_id, quality, or distance to the topic centroid) until the
group's token target is met, repeating the group (whole epochs) up to ``max_repeats`` when it is short.

Entropies are Shannon entropies in nats of the *token* shares of the groups (tokens are what a model
trains on; a group of long documents weighs more than its document count says).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import polars as pl
import xxhash

from curate.mix.spec import MixtureSpec, Strategy


class InfeasibleMixture(ValueError):
    """The budget cannot be met within the repetition cap; the message names the group that ran short."""


def entropy_of(shares: dict[str, float] | list[float]) -> float:
    """Shannon entropy (nats) of a distribution given as shares (zeros ignored)."""
    values = shares.values() if isinstance(shares, dict) else shares
    total = sum(values)
    return -sum(p / total * math.log(p / total) for p in values if p > 0) if total else 0.0


def repeat_cap(spec: MixtureSpec) -> int:
    """Most copies of a document: ``epochs`` when the spec fixes them (exactly), else ``max_repeats``."""
    return spec.epochs or spec.max_repeats


def caps(tokens: dict[str, int], spec: MixtureSpec) -> dict[str, float]:
    """The largest feasible share of each group: its tokens times the repeat cap, over the budget."""
    return {g: t * repeat_cap(spec) / spec.token_budget for g, t in tokens.items()}


def _proportional(tokens: dict[str, int], spec: MixtureSpec) -> dict[str, float]:
    """p_g ∝ n_g: the pool's own composition."""
    total = sum(tokens.values())
    return {g: t / total for g, t in tokens.items()}


def _uniform(tokens: dict[str, int], spec: MixtureSpec) -> dict[str, float]:
    """p_g = 1/K: every group the same number of tokens."""
    return {g: 1 / len(tokens) for g in tokens}


def _temperature(tokens: dict[str, int], spec: MixtureSpec) -> dict[str, float]:
    """p_g ∝ n_g^(1/τ): τ=1 proportional, τ→∞ uniform (multilingual sampling, Conneau et al. 2020, XLM-R)."""
    w = {g: t ** (1.0 / spec.temperature) for g, t in tokens.items()}
    z = sum(w.values())
    return {g: v / z for g, v in w.items()}


def _weights(tokens: dict[str, int], spec: MixtureSpec) -> dict[str, float]:
    """p_g ∝ the spec's weight of g (groups without a weight get none)."""
    missing = sorted(set(spec.weights) - set(tokens))
    if missing:
        raise InfeasibleMixture(f"weights name groups with no documents in the pool: {missing}; groups: {sorted(tokens)}")
    z = sum(spec.weights.values())
    return {g: spec.weights.get(g, 0.0) / z for g in tokens}


def max_entropy_shares(tokens: dict[str, int], spec: MixtureSpec) -> dict[str, float]:
    """Greedy entropy ascent under the caps (water-filling): raise the smallest shares together; a group
    whose cap is reached stops and the rest is spread over the others. This is the maximum-entropy
    allocation within the repetition caps (entropy is Schur-concave, so the most even feasible vector wins)."""
    cap = caps(tokens, spec)
    shares, left, open_groups = {g: 0.0 for g in tokens}, 1.0, sorted(tokens)
    while left > 1e-12 and open_groups:
        each = left / len(open_groups)
        for g in open_groups:
            give = min(each, cap[g] - shares[g])
            shares[g] += give
            left -= give
        open_groups = [g for g in open_groups if cap[g] - shares[g] > 1e-12]
    return shares


def min_entropy_shares(tokens: dict[str, int], spec: MixtureSpec) -> dict[str, float]:
    """The contrast: fill the largest group to its cap first, then the next largest, until the budget is met."""
    cap = caps(tokens, spec)
    shares, left = {g: 0.0 for g in tokens}, 1.0
    for g in sorted(tokens, key=lambda g: (-tokens[g], g)):
        give = min(left, cap[g])
        shares[g], left = give, left - give
    return shares


def entropy_range(tokens: dict[str, int], spec: MixtureSpec) -> tuple[float, float]:
    """The lowest and highest group entropy any feasible allocation of this pool can have."""
    return entropy_of(min_entropy_shares(tokens, spec)), entropy_of(max_entropy_shares(tokens, spec))


def _target_entropy(tokens: dict[str, int], spec: MixtureSpec) -> dict[str, float]:
    """Shares with group entropy ``target_entropy`` (nats): p(α) = (1-α)·p_min + α·p_max, α by bisection.

    p_min / p_max are the min- and max-entropy feasible allocations; every point between them is feasible
    (the caps are a convex set) and H(p(α)) is concave with its maximum at α=1, so it rises monotonically
    with α: increasing targets give increasing entropies at the same budget. Targets outside
    [H(p_min), H(p_max)] are clipped to it.
    """
    lo_p, hi_p = min_entropy_shares(tokens, spec), max_entropy_shares(tokens, spec)
    mix = lambda a: {g: (1 - a) * lo_p[g] + a * hi_p[g] for g in tokens}  # noqa: E731
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if entropy_of(mix(mid)) < spec.target_entropy else (lo, mid)
    return mix((lo + hi) / 2)


STRATEGIES: dict[Strategy, Callable[[dict[str, int], MixtureSpec], dict[str, float]]] = {  # one per name of spec.Strategy
    "proportional": _proportional,
    "uniform": _uniform,
    "temperature": _temperature,
    "weights": _weights,
    "target_entropy": _target_entropy,
    "diversity_max": max_entropy_shares,
    "diversity_min": min_entropy_shares,
    "quality_top": _proportional,
}


def seeded_keys(doc_ids: pl.Series, seed: int, salt: pl.Series | None = None) -> np.ndarray:
    """A 64-bit key per row that depends only on the seed, the doc_id (and the salt): sort by it to shuffle."""
    parts = doc_ids.to_list() if salt is None else [f"{d}\0{s}" for d, s in zip(doc_ids.to_list(), salt.to_list(), strict=True)]
    prefix = f"{seed}\0".encode()
    return np.fromiter((xxhash.xxh3_64_intdigest(prefix + p.encode()) for p in parts), dtype=np.uint64, count=len(parts))


def fill_group(ordered: pl.DataFrame, target: int, max_repeats: int, group: str) -> pl.DataFrame:
    """doc_id and repeats for one group whose documents are in pick order: whole epochs while the group
    is short of its target, then the longest prefix of the order that fits in the rest, plus the one later
    document whose size best fills the remaining gap (so a group lands within a fraction of a document)."""
    schema = {"doc_id": pl.String, "repeats": pl.Int32}
    total = int(ordered["n_tokens"].sum())
    if target <= 0 or total == 0:
        return pl.DataFrame(schema=schema)
    if target > total * max_repeats:
        raise InfeasibleMixture(
            f"group {group!r} ran short: it has {total:,} tokens, its share needs {target:,}, more than "
            f"max_repeats={max_repeats} allows ({total * max_repeats:,}); lower the budget, raise max_repeats or change the weights")
    epochs, rest = divmod(target, total)
    tokens = ordered["n_tokens"].to_numpy()
    n_prefix = int(np.searchsorted(np.cumsum(tokens), rest, side="right"))  # whole documents that fit in the rest
    repeats = np.full(ordered.height, epochs, dtype=np.int32)
    repeats[:n_prefix] += 1
    residual = rest - int(tokens[:n_prefix].sum())
    if residual > 0 and n_prefix < len(tokens):  # best fit: the one later document whose size is closest to the gap
        j = n_prefix + int(np.argmin(np.abs(tokens[n_prefix:] - residual)))
        if abs(int(tokens[j]) - residual) < residual:
            repeats[j] += 1
    return ordered.select("doc_id").with_columns(pl.Series("repeats", repeats)).filter(pl.col("repeats") > 0)


def allocate(groups: dict[str, pl.DataFrame], shares: dict[str, float], spec: MixtureSpec) -> pl.DataFrame:
    """Fill every group (documents already in pick order) to its share of the budget.

    Targets are cumulative: group i aims at round(budget · (p_1 + … + p_i)) minus what groups 1..i-1
    actually got, so each group's rounding is absorbed by the next and the total lands within half a
    document of the budget. A target above a group's cap (only possible by that carry) is clipped to it.
    Groups with a zero share get nothing (not even a carry). With exact epochs E the targets are distinct tokens (budget / E), each chosen document taken once
    and then repeated E times.
    """
    epochs = spec.epochs
    budget, cap = (spec.token_budget / epochs, 1) if epochs else (spec.token_budget, spec.max_repeats)
    chosen, cum_share, realized = [], 0.0, 0
    for g in sorted(g for g, share in shares.items() if share > 0):
        cum_share += shares[g]
        docs = groups[g]
        target = round(budget * cum_share) - realized
        if shares[g] * budget <= docs["n_tokens"].sum() * cap:
            target = min(target, int(docs["n_tokens"].sum()) * cap)
        picked = fill_group(docs, target, cap, g)
        picked = picked.join(docs.select("doc_id", "n_tokens"), on="doc_id").with_columns(pl.lit(g).alias("group_key"))
        realized += int((picked["n_tokens"] * picked["repeats"]).sum())
        chosen.append(picked)
    out = pl.concat(chosen).select("doc_id", "group_key", "repeats", "n_tokens").sort("doc_id")
    return out.with_columns(pl.col("repeats") * epochs) if epochs else out
