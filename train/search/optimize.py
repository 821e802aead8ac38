"""The optimizer: the mixture with the best predicted target under the user's constraints.

Constraints are a box on the simplex: every group's share w_g lies in [lower_g, upper_g] and the shares sum
to one. upper_g = unique tokens of g x the repetition limit / the budget (more would repeat documents
beyond the limit); lower_g = the minimum share. The set is convex, so an average of feasible mixtures is
feasible.

- Any regressor (RegMix): score many candidates w = lower + (1 - Σ lower)·d, d ~ Dirichlet(α·p) (the
  proxies' sampler), drop those over a cap, and return the mean of the ``top_k`` best predicted. Averaging
  the top ones rather than taking the single best damps the regressor's noise (RegMix averages the top 100 of
  1M candidates).
- The law form L(w) = c + exp(b + t·w) is minimized where t·w is: a linear program over the box-simplex,
  solved exactly by filling groups in increasing t up to their caps after every group has its minimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from train.search.regress import Law, Regressor

MAX_ROUNDS = 200


@dataclass(frozen=True)
class Constraints:
    """Per-group bounds on the shares of a mixture (groups in the regression's order)."""

    groups: list[str]
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def of(cls, tokens: dict[str, int], groups: list[str], budget: int, max_repeats: int, min_share: float) -> Constraints:
        """Caps from unique tokens x the repetition limit, and the minimum share; raises ValueError when nothing is feasible."""
        upper = np.array([min(1.0, tokens[g] * max_repeats / budget) for g in groups])
        lower = np.full(len(groups), float(min_share))
        short = [g for g, lo, hi in zip(groups, lower, upper, strict=True) if lo > hi]
        if short:
            raise ValueError(f"min_share {min_share} exceeds the cap of {short} (unique tokens x max_repeats={max_repeats} / {budget:,} tokens)")
        if lower.sum() > 1 + 1e-9:
            raise ValueError(f"min_share {min_share} x {len(groups)} groups exceeds 1")
        if upper.sum() < 1 - 1e-9:
            raise ValueError(f"the groups hold too few tokens for {budget:,} at max_repeats={max_repeats} (caps sum to {upper.sum():.3f});"
                             " lower the budget or raise max_repeats")
        return cls(groups, lower, upper)

    def feasible(self, w: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Row-wise: within the box (the rows sum to one by construction)."""
        return ((w >= self.lower - tol) & (w <= self.upper + tol)).all(axis=-1)


def candidates(cons: Constraints, prior: np.ndarray, alphas: list[float], n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, groups) feasible candidates from the proxies' Dirichlet sampler, shifted onto the minimum shares."""
    free = 1.0 - cons.lower.sum()
    out: list[np.ndarray] = []
    have = 0
    for _ in range(MAX_ROUNDS):
        alpha = np.resize(np.asarray(alphas, dtype=float), n)
        gamma = rng.gamma(alpha[:, None] * prior[None, :])  # Dirichlet rows = normalized gammas, vectorized
        total = gamma.sum(axis=1, keepdims=True)
        w = cons.lower + free * gamma[total[:, 0] > 0] / total[total[:, 0] > 0]
        keep = w[cons.feasible(w)]
        out.append(keep)
        have += len(keep)
        if have >= n:
            return np.concatenate(out)[:n]
    raise ValueError(f"only {have} of {n} candidate mixtures fit the caps after {MAX_ROUNDS} rounds; raise max_repeats or lower the budget")


def top_average(model: Regressor, cands: np.ndarray, top_k: int) -> np.ndarray:
    """The mean of the ``top_k`` candidates with the lowest predicted target."""
    predicted = model.predict(cands)
    best = np.argsort(predicted, kind="stable")[:top_k]
    return cands[best].mean(axis=0)


def law_optimum(law: Law, cons: Constraints) -> np.ndarray:
    """argmin of t·w over the box-simplex: minimum shares first, then the rest to groups in increasing t, each up to its cap."""
    w = cons.lower.copy()
    left = 1.0 - w.sum()
    for g in np.argsort(law.t, kind="stable"):
        give = min(left, cons.upper[g] - w[g])
        w[g] += give
        left -= give
    return w


def optimize(name: str, model: Regressor, cons: Constraints, prior: np.ndarray, alphas: list[float], n: int, top_k: int,
             rng: np.random.Generator) -> np.ndarray:
    """The chosen mixture's shares: exact for the law form, else the mean of the best sampled candidates."""
    if name == "law" and isinstance(model, Law):
        return law_optimum(model, cons)
    return top_average(model, candidates(cons, prior, alphas, n, rng), top_k)
