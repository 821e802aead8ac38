"""Mixture designs as data: which mixtures a sweep emits, each reproducible from its seed.

A design turns a pool's groups (and their tokens) into a list of :class:`Draw` — the MixtureSpec fields
each mixture sets beyond the sweep's ``base``, and the value of the design's factor:

- ``line`` (``steps: N``): N ``target_entropy`` mixtures with targets evenly spaced over the feasible
  entropy range of the pool (the historical sweep; factor ``group_entropy``, nats).
- ``subsets``: for each k in ``k``, ``draws`` distinct random subsets of k groups at equal token shares
  (fewer when there are fewer distinct subsets: one for k = K). Factor ``log2_k``. Groups are drawn
  least-used first (ties broken by the seed), so every group appears about equally often; only groups
  that can fill a 1/k share are eligible.
- ``dirichlet``: ``draws`` weight vectors from Dirichlet(α·p), p the groups' natural token shares
  (``prior: natural``) or uniform, α cycling through ``alpha`` — as RegMix (Liu et al. 2024, "RegMix:
  Data Mixture as Regression for Language Model Pre-training") draws its proxy mixtures with the token
  distribution times a scale from 0.1 to 5 so that both sparse and near-natural mixtures occur.
  Vectors that a group cannot fill under the repeat cap are redrawn. Factor ``group_entropy``.
- ``vary``: the cartesian product of the listed MixtureSpec fields (factor: the first field).

Each mixture of ``subsets`` and ``dirichlet`` selects its documents with its own seed (:func:`mixture_seed`),
so mixtures are independent draws: the unit of analysis must be. ``subsets`` and ``dirichlet`` take
``balance: N``: N seeded candidate designs, of which
:mod:`curate.mix.balance` keeps the one whose factor is least correlated with the pool's covariates
(rerandomization, Morgan & Rubin 2012).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate.mix.select import STRATEGIES, caps, entropy_of, entropy_range
from curate.mix.spec import MixtureSpec

MAX_REDRAWS = 1000


class _Design(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineDesign(_Design):
    kind: Literal["line"] = "line"
    steps: int = Field(ge=2, description="Entropy targets evenly spaced over the pool's feasible range [H_min, H_max].")


class SubsetsDesign(_Design):
    kind: Literal["subsets"] = "subsets"
    k: list[int] = Field(min_length=1, description="Subset sizes: each mixture holds k groups at equal token shares.")
    draws: int = Field(4, ge=1, description="Random subsets per k.")
    balance: int = Field(1, ge=1, description="Candidate designs drawn; the best balanced one is kept (rerandomization).")
    seed: int = Field(0, description="Seed of the draws.")


class DirichletDesign(_Design):
    kind: Literal["dirichlet"] = "dirichlet"
    draws: int = Field(8, ge=2, description="Random weight vectors.")
    alpha: float | list[float] = Field(1.0, description="Total concentration α (or a list cycled over the draws): small α is sparse.")
    prior: Literal["natural", "uniform"] = Field("natural", description="p in Dirichlet(α·p): the pool's token shares or 1/K.")
    balance: int = Field(1, ge=1, description="Candidate designs drawn; the best balanced one is kept (rerandomization).")
    seed: int = Field(0, description="Seed of the draws.")


class VaryDesign(_Design):
    kind: Literal["vary"] = "vary"
    fields: dict[str, list[Any]] = Field(min_length=1, description="MixtureSpec fields and their values: one mixture per combination.")

    @field_validator("fields")
    @classmethod
    def _known(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return mixture_fields(value)


def mixture_fields(varied: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """``varied`` when its keys are MixtureSpec fields, else an error naming the ones that are not."""
    unknown = sorted(set(varied) - set(MixtureSpec.model_fields))
    if unknown:
        raise ValueError(f"{unknown} are not MixtureSpec fields; the fields are {sorted(MixtureSpec.model_fields)}")
    return varied


Design = Annotated[LineDesign | SubsetsDesign | DirichletDesign | VaryDesign, Field(discriminator="kind")]
DEFAULT_FACTOR = {"line": "group_entropy", "subsets": "log2_k", "dirichlet": "group_entropy"}


@dataclass
class Draw:
    """One planned mixture: spec fields beyond the base, draw index within its factor level, target shares
    (when the design fixes them before selection) and the columns the sweep table shows for it."""

    fields: dict[str, Any]
    draw: int
    shares: dict[str, float] | None
    label: dict[str, Any]


def factors(design: Design) -> tuple[str, ...]:
    """The factors a study of this design may name (the first is the default)."""
    if isinstance(design, VaryDesign):
        return tuple(design.fields)
    return (DEFAULT_FACTOR[design.kind], "group_entropy") if design.kind == "subsets" else (DEFAULT_FACTOR[design.kind],)


def factor_value(factor: str, draw: Draw) -> float:
    """The factor of a draw: log2 k, the entropy (nats) of its target shares, or a varied field's value
    (its index in the list when the value is not a number)."""
    if factor == "log2_k":
        return math.log2(sum(1 for v in (draw.shares or {}).values() if v > 0))
    if factor == "group_entropy":
        return round(entropy_of(draw.shares or {}), 10)
    value = draw.label[factor]
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float(draw.label[f"_{factor}_index"])


def line(design: LineDesign, tokens: dict[str, int], probe: MixtureSpec) -> list[Draw]:
    """Entropy targets evenly spaced over the feasible range (strategy target_entropy)."""
    probe = probe.model_copy(update={"strategy": "target_entropy"})
    low, high = entropy_range(tokens, probe)
    out = []
    for i in range(design.steps):
        target = round(low + (high - low) * i / (design.steps - 1), 6)
        shares = STRATEGIES["target_entropy"](tokens, probe.model_copy(update={"target_entropy": target}))
        out.append(Draw({"strategy": "target_entropy", "target_entropy": target}, 0, shares, {"target_entropy": target}))
    return out


def vary(design: VaryDesign) -> list[Draw]:
    """The cartesian product of the varied fields, in the order given (last field fastest)."""
    names = list(design.fields)
    out = []
    for combo in itertools.product(*(enumerate(design.fields[n]) for n in names)):
        fields = {n: v for n, (_, v) in zip(names, combo, strict=True)}
        label = fields | {f"_{n}_index": i for n, (i, _) in zip(names, combo, strict=True)}
        out.append(Draw(fields, 0, None, label))
    return out


def mixture_seed(base: int, position: int) -> int:
    """The selection seed of a random design's ``position``-th mixture: its own, so that two mixtures holding
    the same group draw independent documents from it. With one shared seed, mixtures of many groups take
    nearly the same documents (the first few of each group's order) and their outcomes are not
    independent units: in the demo three k=6 control mixtures over random buckets shared most documents
    and their common deviation showed up as an "effect" of k where none can exist."""
    return base * 10_007 + position + 1


def _subsets_once(design: SubsetsDesign, eligible: dict[int, list[str]], rng: np.random.Generator, base_seed: int) -> list[Draw]:
    """One candidate: per k, distinct subsets of the least-used groups, ties broken at random (the random
    part grows with each retry that repeats a subset, so a new one is always found)."""
    used = {g: 0 for g in sorted({g for gs in eligible.values() for g in gs})}
    out = []
    for k in design.k:
        seen: set[tuple[str, ...]] = set()
        groups = eligible[k]
        for d in range(min(design.draws, math.comb(len(groups), k))):
            for attempt in itertools.count():
                score = np.array([used[g] for g in groups]) + rng.random(len(groups)) * (1 + attempt / 4)
                pick = tuple(sorted(groups[i] for i in np.argsort(score, kind="stable")[:k]))
                if pick not in seen:
                    break
            seen.add(pick)
            for g in pick:
                used[g] += 1
            out.append(Draw({"strategy": "weights", "weights": {g: 1.0 for g in pick}, "seed": mixture_seed(base_seed, len(out))}, d,
                            {g: 1 / k for g in pick}, {"k": k}))
    return out


def subsets(design: SubsetsDesign, tokens: dict[str, int], probe: MixtureSpec, rng: np.random.Generator) -> Iterator[list[Draw]]:
    """Candidate subset designs (endless; the caller takes ``balance`` of them)."""
    cap = caps(tokens, probe)
    eligible = {k: [g for g in sorted(tokens) if cap[g] >= 1 / k] for k in design.k}
    for k, groups in eligible.items():
        if len(groups) < k:
            raise ValueError(f"subsets k={k}: only {len(groups)} groups can fill a 1/{k} share of {probe.token_budget:,} tokens"
                             f" ({groups}); lower the token budget or k (groups: {sorted(tokens)})")
    while True:
        yield _subsets_once(design, eligible, rng, probe.seed)


def _one_dirichlet(concentration: np.ndarray, groups: list[str], cap: np.ndarray, budget: int, rng: np.random.Generator) -> dict[str, float]:
    for _ in range(MAX_REDRAWS):
        w = rng.dirichlet(concentration)
        w = np.where(w * budget >= 1, w, 0.0)  # under one token: no share at all
        if np.isfinite(w).all() and w.sum() > 0:
            w = w / w.sum()
            if (w <= cap * (1 + 1e-9)).all():
                return {g: round(float(v), 9) for g, v in zip(groups, w, strict=True) if v > 0}
    raise ValueError(f"dirichlet: no weights within the repeat cap after {MAX_REDRAWS} draws (concentration {concentration.sum():.3g});"
                     " raise alpha, lower the token budget or raise max_repeats / epochs")


def dirichlet(design: DirichletDesign, tokens: dict[str, int], probe: MixtureSpec, rng: np.random.Generator) -> Iterator[list[Draw]]:
    """Candidate Dirichlet designs (endless)."""
    groups = sorted(tokens)
    total = sum(tokens.values())
    prior = np.array([tokens[g] / total if design.prior == "natural" else 1 / len(groups) for g in groups])
    alphas = design.alpha if isinstance(design.alpha, list) else [design.alpha]
    if not alphas or min(alphas) <= 0:
        raise ValueError(f"dirichlet alpha must be positive, got {design.alpha}")
    cap = np.array([caps(tokens, probe)[g] for g in groups])
    while True:
        out = []
        for d in range(design.draws):
            a = alphas[d % len(alphas)]
            shares = _one_dirichlet(a * prior, groups, cap, probe.token_budget, rng)
            out.append(Draw({"strategy": "weights", "weights": shares, "seed": mixture_seed(probe.seed, d)}, d, shares, {"alpha": a}))
        yield out
