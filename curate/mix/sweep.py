"""``curate mix sweep``: a family of mixtures for one ablation, at one token budget, differing in one field.

    name: topic-entropy
    base: {group_by: topic_id, token_budget: 200000, max_repeats: 8}
    steps: 8                                    # entropy targets evenly spaced over the feasible range
    # or: vary: {temperature: [0.5, 1, 2, 4]}   # a grid over any one MixtureSpec field

With ``steps``, every mixture uses the ``target_entropy`` strategy; the targets run from the lowest to
the highest group entropy the pool allows under the budget and repetition cap (the min- and max-entropy
allocations of :mod:`curate.mix.select`), so measured entropy rises strictly along the sweep. Each
mixture is emitted and scored (``diversity`` rows, scope_kind='mixture'); the profiles are returned
side by side. The pool is read once per sweep when the varied field does not change it.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curate.catalog import Catalog
from curate.mix.emit import POOL_FIELDS, MixtureSpec, Pool, emit, load_pool
from curate.mix.select import entropy_range

PROFILE_METRICS = ("topic_entropy", "effective_topics", "vendi", "distinct_2", "compression_ratio")


class SweepSpec(BaseModel):
    """A family of mixtures; its name becomes each mixture's sweep_id and name prefix."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="Sweep id (also the prefix of its mixtures' names).")
    base: dict[str, Any] = Field(description="MixtureSpec fields shared by every mixture (name and sweep_id are set per mixture).")
    vary: dict[str, list[Any]] = Field(default_factory=dict, description="One MixtureSpec field and its values, one mixture each.")
    steps: int | None = Field(None, ge=2, description="target_entropy sweep: this many targets evenly spaced over the feasible entropy range.")
    diversity_sample: int = Field(500, ge=10, description="Distinct documents sampled when scoring each mixture's diversity.")
    n_boot: int = Field(10, ge=0, description="Bootstrap resamples for the diversity intervals.")


def _spec(sweep: SweepSpec, i: int, **fields: Any) -> MixtureSpec:
    return MixtureSpec(**{**sweep.base, **fields, "name": f"{sweep.name}-{i:02d}", "sweep_id": sweep.name})


def expand(cat: Catalog, sweep: SweepSpec, pools: dict[tuple, Pool] | None = None) -> list[MixtureSpec]:
    """The mixture specs of a sweep, in order (entropy targets are computed from the pool)."""
    if bool(sweep.vary) == bool(sweep.steps) or len(sweep.vary) > 1:
        raise ValueError("a sweep sets either `steps` (entropy targets) or `vary` with exactly one field")
    if sweep.vary:
        field, values = next(iter(sweep.vary.items()))
        if field in ("name", "sweep_id"):
            raise ValueError(f"vary {field!r}: the sweep sets it")
        return [_spec(sweep, i, **{field: v}) for i, v in enumerate(values)]
    probe = _spec(sweep, 0, strategy="target_entropy")
    pool = pooled(cat, probe, pools if pools is not None else {})
    tokens = dict(sorted(pool.frame.group_by("group_key").agg(pl.col("n_tokens").sum()).iter_rows()))
    low, high = entropy_range(tokens, probe)
    n = sweep.steps or 2
    return [_spec(sweep, i, strategy="target_entropy", target_entropy=round(low + (high - low) * i / (n - 1), 6)) for i in range(n)]


def pooled(cat: Catalog, spec: MixtureSpec, pools: dict[tuple, Pool]) -> Pool:
    """The spec's pool, read once per distinct pool definition."""
    key = tuple(getattr(spec, f) for f in POOL_FIELDS)
    if key not in pools:
        pools[key] = load_pool(cat, spec)
    return pools[key]


def run_sweep(cat: Catalog, sweep: SweepSpec, workers: int | None = None) -> pl.DataFrame:
    """Emit and score every mixture of the sweep; one row per mixture with its diversity profile."""
    pools: dict[tuple, Pool] = {}
    varied = next(iter(sweep.vary), "target_entropy")
    rows = []
    for spec in expand(cat, sweep, pools):
        manifest = emit(cat, spec, pooled(cat, spec, pools), workers, sweep.diversity_sample, sweep.n_boot)
        scores = cat.query("SELECT metric, value FROM diversity WHERE scope_kind = 'mixture' AND scope_id = $m",
                           {"m": manifest["mixture_id"]})
        profile = dict(scores.iter_rows())
        rows.append({"mixture_id": manifest["mixture_id"], varied: getattr(spec, varied), "n_docs": manifest["n_docs"],
                     "n_tokens": manifest["n_tokens"], "budget_error_pct": manifest["budget_error_pct"],
                     "group_entropy_tokens": manifest["measured"]["group_entropy"],
                     "topic_entropy_tokens": manifest["measured"].get("topic_entropy"),
                     **{k: profile.get(k) for k in PROFILE_METRICS}})
    return pl.DataFrame(rows)
