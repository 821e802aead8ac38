"""The search's mixtures, emitted as normal manifests (``curate.mix.emit``): Dirichlet proxies and validation arms.

Proxies are a ``dirichlet`` design (:func:`curate.mix.designs.dirichlet`): weights ~ Dirichlet(α·p), p the
groups' natural token shares, α cycled over ``alpha`` — RegMix's sampler — each proxy selecting its
documents with its own seed; draws a group cannot fill under the repetition cap are redrawn. The draws
are prefix-stable: a search re-run with more proxies keeps the first ones (and their finished runs).
Every mixture gets a ``mixture_design`` row (sweep, arm ``proxy`` / ``chosen`` / ``uniform`` / ``natural``
/ ``best_proxy``, factor ``group_entropy``), so ``train sweep`` and the reports see them like any sweep's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from curate.core.catalog import Catalog
from curate.mix.designs import DirichletDesign, dirichlet
from curate.mix.emit import Extras, MixtureSpec, Pool, emit, load_pool, mixture_id
from curate.mix.select import entropy_of
from train.search.config import SearchConfig

SKIP_ALIGNMENT = "not computed for search mixtures (only the Transformer's target is used)"


@dataclass
class Planned:
    """A mixture the search emits: its spec and its arm."""

    spec: MixtureSpec
    arm: str
    draw: int = 0


def base_spec(cfg: SearchConfig, name: str, sweep_id: str, budget: int, weights: dict[str, float], seed: int) -> MixtureSpec:
    """A search mixture: the search's pool and repetition limit, explicit weights, budgets in the run's tokens."""
    return MixtureSpec(name=name, where=cfg.where, group_by=cfg.group_by, strategy="weights", weights=weights, token_budget=budget,
                       tokenizer="run", max_repeats=cfg.max_repeats, seed=seed, sweep_id=sweep_id)


def group_tokens(pool: Pool) -> dict[str, int]:
    """Unique tokens of each group of the pool."""
    return dict(sorted(pool.frame.group_by("group_key").agg(pl.col("n_tokens").sum()).iter_rows()))


def search_pool(cat: Catalog, cfg: SearchConfig) -> Pool:
    """The pool every search mixture draws from (read and tokenized once)."""
    pool = load_pool(cat, base_spec(cfg, f"{cfg.name}-pool", cfg.name, cfg.tokens, {}, cfg.seed))
    if pool.frame.height == 0:
        raise ValueError(f"search {cfg.name!r}: no documents in the pool (where={cfg.where!r}, eval documents excluded)")
    if pool.frame["group_key"].n_unique() < 2:
        raise ValueError(f"search {cfg.name!r}: group_by {cfg.group_by!r} gives one group; a search needs at least two")
    return pool


def plan_proxies(cfg: SearchConfig, tokens: dict[str, int]) -> list[Planned]:
    """The proxies: ``n_proxies`` Dirichlet draws (seeded), named <name>-p000, ..."""
    probe = base_spec(cfg, f"{cfg.name}-probe", cfg.name, cfg.tokens, {}, cfg.seed)
    design = DirichletDesign(draws=cfg.n_proxies, alpha=cfg.alpha, prior="natural", seed=cfg.seed)
    draws = next(dirichlet(design, tokens, probe, np.random.default_rng([cfg.seed, 29])))
    return [Planned(base_spec(cfg, f"{cfg.name}-p{i:03d}", cfg.name, cfg.tokens, d.shares or {}, d.fields["seed"]), "proxy", i)
            for i, d in enumerate(draws)]


def emit_planned(cat: Catalog, pool: Pool, planned: list[Planned], sweep_id: str, refuse_stray: bool = True) -> list[str]:
    """Emit every planned mixture not in the catalog already; returns all their ids, in order.

    With ``refuse_stray`` (the proxies), raises ValueError when the sweep holds mixtures this search did not plan (a
    name reused with other settings). Validation sweeps keep earlier chosen mixtures (their runs are done, so the
    sweep skips them): a search re-run with other constraints or more proxies validates its new choice beside them."""
    ids = [mixture_id(p.spec, pool) for p in planned]
    known = set(cat.ask("search/sweep_mixtures", sweep_id=sweep_id)["mixture_id"].to_list())
    stray = sorted(known - set(ids))
    if stray and refuse_stray:
        raise ValueError(f"sweep {sweep_id!r} holds {len(stray)} mixtures this search did not plan (e.g. {stray[0]}): the name was used"
                         " with other settings (pool, budget, seed, alpha); choose another --name")
    for p, mid in zip(planned, ids, strict=True):
        if mid in known and (cat.run_dir / "mixtures" / mid / "manifest.json").exists():
            continue
        design = {"sweep_id": sweep_id, "arm": p.arm, "factor": "group_entropy", "factor_value": round(entropy_of(p.spec.weights), 10),
                  "draw": p.draw, "grouping": p.spec.group_by}
        emit(cat, p.spec, pool, diversity_sample=None, extras=Extras(alignment=SKIP_ALIGNMENT, design=design))
    return ids


def realized_shares(cat: Catalog, ids: list[str], groups: list[str]) -> np.ndarray:
    """(mixtures, groups): each mixture's realized token share of each group (0 where it has none)."""
    rows = cat.ask("search/realized_shares", ids=ids)
    out = np.zeros((len(ids), len(groups)))
    row_of, col_of = {m: i for i, m in enumerate(ids)}, {g: j for j, g in enumerate(groups)}
    for m, g, share in rows.iter_rows():
        out[row_of[m], col_of[g]] = share
    return out
