"""A search's target: which eval sets it averages, and each finished run's value on them (bits per byte).

- ``panel/bpb``: the mean over the in-distribution panel (every ``id/<group>`` set) of each set's bits per byte;
- ``unseen/bpb``: the mean over the eval sets (id or ood) of groups that have no documents in the search's
  pool, so no proxy trained on them: the mixture that generalizes best to domains it never sees (the study
  design's unseen-group target, where the unseen groups are the same for every mixture);
- ``<eval_set>/bpb``: one set (``id/<group>``, ``ood/<group>``), or the ``id`` / ``ood`` means the trainer stores.

Values come from ``evals`` (metric ``bpb``), the final evaluation of each run.
"""

from __future__ import annotations

import json

import polars as pl

from curate.core.catalog import Catalog

KIND_MEANS = ("id", "ood")


def target_sets(cat: Catalog, target: str, groups: list[str], grouping: str) -> list[str]:
    """The eval sets ``target`` averages (raises ValueError naming what is missing)."""
    name, _, metric = target.rpartition("/")
    if metric != "bpb" or not name:
        raise ValueError(f"target {target!r}: write panel/bpb, unseen/bpb or <eval_set>/bpb (searches minimize bits per byte)")
    sets = cat.ask("search/eval_sets")
    if sets.height == 0:
        raise ValueError(f"no eval sets in {cat.run_dir}: reserve them first (`curate mix eval-split RUN --per-group N`)")
    if name == "panel":
        return sets.filter(pl.col("kind") == "id")["eval_set"].to_list()
    if name == "unseen":
        split = cat.ask("shared/eval_split_params")
        split_group = json.loads(split["params"][0]).get("group_by") if split.height else None
        if split_group != grouping:
            raise ValueError(f"target unseen/bpb: the eval split is grouped by {split_group!r}, the search by {grouping!r};"
                             f" reserve the split with group_by {grouping!r}")
        unseen = sets.filter(~pl.col("group_key").is_in(groups))["eval_set"].to_list()
        if not unseen:
            raise ValueError(f"target unseen/bpb: every eval set's group is in the search's pool ({groups}); leave groups out with"
                             " --where or --ood eval groups, or choose panel/bpb")
        return unseen
    if name in KIND_MEANS:
        return [name]
    if name not in sets["eval_set"].to_list():
        raise ValueError(f"target {target!r}: no eval set {name!r}; eval sets: {sets['eval_set'].to_list()}")
    return [name]


def scored_sets(cat: Catalog, sets: list[str]) -> list[str]:
    """The eval sets a run must score to know the target (a kind mean needs every set of its kind)."""
    kinds = [s for s in sets if s in KIND_MEANS]
    if not kinds:
        return sets
    rows = cat.ask("search/eval_sets_of_kinds", kinds=kinds)
    return sorted(set(rows["eval_set"].to_list()) | {s for s in sets if s not in KIND_MEANS})


def run_values(cat: Catalog, train_ids: list[str], sets: list[str]) -> pl.DataFrame:
    """(train_id, mixture_id, learned, value): each finished run's mean bits per byte over ``sets``."""
    return cat.ask("search/run_values", ids=train_ids, sets=sets)
