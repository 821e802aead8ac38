"""``curate mix sweep``: a family of mixtures for one ablation, differing in one field only.

    name: topic-entropy
    base: {group_by: topic_id, strategy: target_entropy, token_budget: 200000}
    vary: {target_entropy: [0.3, 0.8, 1.3, 1.8]}   # or
    steps: 8                                        # evenly spaced entropies in [0, 0.95 log K]

Each mixture is emitted and scored (diversity rows with scope_kind='mixture'); the profiles are
returned side by side, one row per mixture.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curate.catalog import Catalog, sql_ident
from curate.diversity.scope import score_scope
from curate.mix import MixtureSpec, emit


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="Sweep id (also the prefix of its mixtures' names).")
    base: dict[str, Any] = Field(description="MixtureSpec fields shared by every mixture (name is set per mixture).")
    vary: dict[str, list[Any]] = Field(default_factory=dict, description="One field and its values, one mixture each.")
    steps: int | None = Field(None, ge=2, description="For target_entropy: this many targets evenly spaced in [0, 0.95·log K].")
    diversity_sample: int = Field(500, ge=10, description="Documents sampled when scoring each mixture.")


def expand(cat: Catalog, sweep: SweepSpec) -> list[MixtureSpec]:
    """The mixture specs of a sweep, in order."""
    if len(sweep.vary) > 1:
        raise ValueError("vary one field per sweep (only the data changes between runs of an ablation)")
    field, values = next(iter(sweep.vary.items())) if sweep.vary else ("target_entropy", [])
    if sweep.steps:
        group_by = sweep.base.get("group_by", "source")
        column = f"d.{sql_ident(group_by)}" if group_by == "source" else f"s.{sql_ident(group_by)}"
        k = cat.query(f"SELECT count(DISTINCT {column}) AS k FROM kept_documents d LEFT JOIN doc_signals s USING (doc_id)")["k"][0]
        values = [round(0.95 * math.log(max(k, 2)) * i / (sweep.steps - 1), 4) for i in range(sweep.steps)]
    specs = []
    for i, value in enumerate(values):
        fields = {**sweep.base, field: value, "name": f"{sweep.name}-{i:02d}", "sweep_id": sweep.name}
        specs.append(MixtureSpec(**fields))
    return specs


def score_mixture(cat: Catalog, mixture_id: str, sample_size: int, seed: int) -> pl.DataFrame:
    where = f"d.doc_id IN (SELECT doc_id FROM mixture_docs WHERE mixture_id = '{mixture_id.replace(chr(39), '')}')"
    return score_scope(cat, where, "mixture", mixture_id, sample_size, seed, n_boot=10, base="documents")


def run_sweep(cat: Catalog, sweep: SweepSpec) -> pl.DataFrame:
    """Emit and score every mixture of the sweep; one row per mixture with its diversity profile."""
    rows = []
    for spec in expand(cat, sweep):
        manifest = emit(cat, spec)
        scores = score_mixture(cat, manifest["mixture_id"], sweep.diversity_sample, spec.seed)
        profile = {m: v for m, v in scores.select("metric", "value").iter_rows()}
        rows.append({"mixture_id": manifest["mixture_id"], "n_docs": manifest["n_docs"], "n_tokens": manifest["n_tokens"],
                     **{k: profile.get(k) for k in ("topic_entropy", "effective_topics", "vendi", "distinct_2", "compression_ratio")}})
    return pl.DataFrame(rows)
