"""Mixture strategies: how a token budget is shared among groups, and which documents fill each share.

Each strategy is a small pure function ``(group_tokens, spec) -> {group: share}`` (shares sum to 1), in
the ``STRATEGIES`` dict. Documents of a group are taken in a seeded order (hash of seed and doc_id) until
the group's token target is met, repeating the group (epochs) up to ``max_repeats`` when it is short.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import polars as pl
import xxhash


class InfeasibleMixture(ValueError):
    """The budget cannot be met within the repetition cap; the message names the group."""


def _proportional(tokens: dict[str, int], spec) -> dict[str, float]:  # noqa: ANN001
    total = sum(tokens.values())
    return {g: t / total for g, t in tokens.items()}


def _uniform(tokens: dict[str, int], spec) -> dict[str, float]:  # noqa: ANN001
    return {g: 1 / len(tokens) for g in tokens}


def _temperature(tokens: dict[str, int], spec) -> dict[str, float]:  # noqa: ANN001
    """p_g ∝ n_g^(1/τ): τ=1 proportional, τ→∞ uniform (as in multilingual sampling, Conneau et al. 2020)."""
    w = {g: t ** (1.0 / spec.temperature) for g, t in tokens.items()}
    z = sum(w.values())
    return {g: v / z for g, v in w.items()}


def _weights(tokens: dict[str, int], spec) -> dict[str, float]:  # noqa: ANN001
    missing = sorted(set(spec.weights) - set(tokens))
    if missing:
        raise InfeasibleMixture(f"weights name groups with no documents: {missing}; groups: {sorted(tokens)}")
    z = sum(spec.weights.values())
    return {g: spec.weights.get(g, 0.0) / z for g in tokens}


def entropy_of(shares: dict[str, float]) -> float:
    return -sum(p * math.log(p) for p in shares.values() if p > 0)


def _target_entropy(tokens: dict[str, int], spec) -> dict[str, float]:  # noqa: ANN001
    """Shares with entropy ``target_entropy`` (nats): (1-α)·(largest group) + α·uniform, α by bisection.

    Entropy grows monotonically with α from 0 to log(K), so a sweep of increasing targets gives mixtures
    of increasing group entropy at the same budget.
    """
    groups = sorted(tokens, key=lambda g: (-tokens[g], g))
    k = len(groups)
    target = min(max(spec.target_entropy, 0.0), math.log(k))
    shares = lambda a: {g: (1 - a) * (i == 0) + a / k for i, g in enumerate(groups)}  # noqa: E731
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if entropy_of(shares(mid)) < target else (lo, mid)
    return shares((lo + hi) / 2)


def _diversity_max(tokens: dict[str, int], spec) -> dict[str, float]:  # noqa: ANN001
    """Greedy max-entropy fill: equal shares, capped by what each group can give; the rest redistributed."""
    cap = {g: t * spec.max_repeats / spec.token_budget for g, t in tokens.items()}
    shares, left, open_groups = {g: 0.0 for g in tokens}, 1.0, set(tokens)
    while left > 1e-12 and open_groups:
        each = left / len(open_groups)
        for g in sorted(open_groups):
            give = min(each, cap[g] - shares[g])
            shares[g] += give
            left -= give
        open_groups = {g for g in open_groups if cap[g] - shares[g] > 1e-12}
    return shares


def _diversity_min(tokens: dict[str, int], spec) -> dict[str, float]:  # noqa: ANN001
    """Greedy min-entropy fill: the largest group first, then the next, until the budget is met."""
    shares, left = {g: 0.0 for g in tokens}, 1.0
    for g in sorted(tokens, key=lambda g: (-tokens[g], g)):
        give = min(left, tokens[g] * spec.max_repeats / spec.token_budget)
        shares[g], left = give, left - give
    return shares


STRATEGIES: dict[str, Callable[[dict[str, int], object], dict[str, float]]] = {
    "proportional": _proportional,
    "uniform": _uniform,
    "temperature": _temperature,
    "weights": _weights,
    "target_entropy": _target_entropy,
    "diversity_max": _diversity_max,
    "diversity_min": _diversity_min,
    "quality_top": _proportional,
}


def seeded_order(doc_ids: pl.Series, seed: int) -> np.ndarray:
    """A permutation of the documents that depends only on the seed and the doc_ids."""
    keys = np.array([xxhash.xxh3_64_intdigest(f"{seed}\0{d}".encode()) for d in doc_ids.to_list()], dtype=np.uint64)
    return np.argsort(keys, kind="stable")


def fill_group(docs: pl.DataFrame, target: int, max_repeats: int, group: str, order: np.ndarray) -> pl.DataFrame:
    """doc_id and repeats for one group: whole epochs while the group is short, then a prefix of the order."""
    total = int(docs["n_tokens"].sum())
    if target <= 0:
        return pl.DataFrame({"doc_id": [], "repeats": []}, schema={"doc_id": pl.String, "repeats": pl.Int32})
    if total * max_repeats < target:
        raise InfeasibleMixture(
            f"group {group!r} has {total:,} tokens; its share needs {target:,}, more than max_repeats={max_repeats} allows "
            f"({total * max_repeats:,}); lower the budget, raise max_repeats or change the weights")
    epochs, rest = divmod(target, total) if total else (0, 0)
    ordered = docs[order]
    cum = ordered["n_tokens"].cum_sum().to_numpy()
    n_extra = int(np.searchsorted(cum, rest, side="left")) + (1 if rest else 0)
    if n_extra and n_extra <= len(cum) and n_extra > 1 and abs(cum[n_extra - 2] - rest) < abs(cum[n_extra - 1] - rest):
        n_extra -= 1  # stop before the document that overshoots more than it undershoots
    repeats = np.full(ordered.height, epochs, dtype=np.int32)
    repeats[:n_extra] += 1
    return ordered.select("doc_id").with_columns(pl.Series("repeats", repeats)).filter(pl.col("repeats") > 0)
