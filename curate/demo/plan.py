"""Size the demo's study to the text this machine has: which domains, how many epochs, which k levels.

Every mixture of the study trains on the same number of *unique* tokens, each document exactly E times
(exact-epochs mode), so repetition is held fixed. A k=1 mixture takes all its unique tokens from one
domain, so a domain joins the study only if it holds budget / E tokens outside the eval panel. E is the
smallest of ``EPOCHS`` that lets ``max_domains`` domains (the largest first) join, and the k levels are
1, 2, 4 and K-2 (each below K, so every mixture lacks some domain to be scored on).

:func:`sized_sweep` writes the plan into the study file (``recipes/mix_study_subsets.yaml``): the demo
sets that file's ``base`` where, token_budget, epochs and seed, its ``design`` k, draws and seed, and its
``control``; every other field is the file's. Token counts are the run's BPE tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from curate.core.catalog import Catalog
from curate.mix.designs import SubsetsDesign
from curate.mix.sweep import ControlArm, SweepSpec
from curate.mix.tokens import count_tokens

EPOCHS = (2, 3, 4)
MIN_DOMAINS = 5  # three k levels below K need K >= 5


class StudyTooSmall(ValueError):
    """This machine's English text cannot fill a credible study (the message says what to install)."""


@dataclass(frozen=True)
class StudyPlan:
    domains: tuple[str, ...]
    epochs: int
    unique_tokens: int
    k_levels: tuple[int, ...]
    tokens: dict[str, int]  # pool BPE tokens per domain (run tokenizer), all domains

    @property
    def where(self) -> str:
        names = ", ".join("'" + d.replace("'", "''") + "'" for d in self.domains)
        return f"lang = 'en' AND source IN ({names})"


def pool_tokens(cat: Catalog) -> dict[str, int]:
    """Run-tokenizer tokens per source over the English pool (kept, not eval, not contaminated)."""
    frame = cat.ask("demo/english_pool")
    frame = frame.with_columns(count_tokens(cat, frame, "run"))
    return dict(frame.group_by("source").agg(pl.col("n_tokens").sum()).sort("source").iter_rows())


def k_levels(n_domains: int) -> tuple[int, ...]:
    return tuple(sorted({k for k in (1, 2, 4, n_domains - 2) if 1 <= k < n_domains}))


def plan_study(cat: Catalog, budget: int, max_domains: int = 8) -> StudyPlan:
    """The largest feasible study: the fewest epochs that let ``max_domains`` domains fill a k=1 mixture."""
    tokens = pool_tokens(cat)
    ranked = sorted(tokens, key=lambda d: (-tokens[d], d))
    candidates = []
    for epochs in EPOCHS:
        unique = math.ceil(budget / epochs)
        fit = [d for d in ranked if tokens[d] >= unique][:max_domains]
        candidates.append((len(fit), -epochs, epochs, unique, fit))
        if len(fit) == max_domains:
            break
    _, _, epochs, unique, fit = max(candidates)  # the most domains, then the fewest epochs
    if len(fit) < MIN_DOMAINS:
        raise StudyTooSmall(
            f"only {len(fit)} English domains hold {unique:,} tokens (budget {budget:,} / {epochs} epochs): "
            f"{', '.join(f'{d} {tokens[d]:,}' for d in ranked)}; a study needs {MIN_DOMAINS}. Install more English text "
            "(e.g. `apt-get install python3-doc debian-handbook`) or lower the budget")
    return StudyPlan(tuple(sorted(fit)), epochs, unique, k_levels(len(fit)), tokens)


def sized_sweep(study: SweepSpec, plan: StudyPlan, budget: int, draws: int, control_draws: int, seed: int) -> SweepSpec:
    """The study file with the plan written in (the fields the module docstring lists), validated as a file is."""
    design = study.resolved_design
    if not isinstance(design, SubsetsDesign):
        raise ValueError(f"the demo's study is a subsets design, not {design.kind}")
    sized = study.model_copy(update={
        "base": study.base.model_copy(update={"where": plan.where, "token_budget": budget, "epochs": plan.epochs, "seed": seed}),
        "design": design.model_copy(update={"k": list(plan.k_levels), "draws": draws, "seed": seed}),
        "control": ControlArm(group_by=f"bucket:{len(plan.domains)}", draws=control_draws)})
    return SweepSpec.model_validate(sized.model_dump(exclude_unset=True))
