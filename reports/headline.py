"""The answer in one sentence, with its uncertainty and what was held fixed (demo output, HTML first screen).

Built only from stored results: ``correlations`` (primary preset, first metric tested, OOD target
first), ``scale_agreement`` and ``train_runs``. A claim is made only when Holm's p is below 0.05;
otherwise the sentence says there is no evidence at this scale.
"""

from __future__ import annotations

import polars as pl

from curate.catalog import Catalog

ALPHA = 0.05
_TARGET_NAMES = {"ood/bpb": "out-of-distribution bits per byte", "id/bpb": "in-distribution bits per byte"}


def _ci(row: dict, key: str = "rho") -> str:
    if row[key] is None:
        return "undefined"
    lo, hi = row[f"{key}_ci_low"], row[f"{key}_ci_high"]
    ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else ""
    return f"{row[key]:.2f}{ci}"


def _count(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def _fixed(cat: Catalog, preset: str) -> str:
    runs = cat.query("SELECT any_value(n_params) AS params, any_value(tokens) AS tokens, count(DISTINCT tokens) AS budgets"
                     " FROM train_runs WHERE status = 'done' AND preset = $p", {"p": preset}).row(0, named=True)
    tokens = f"{_count(runs['tokens'])} tokens each" if runs["budgets"] == 1 else "unequal token budgets"
    return (f"{preset}, {_count(runs['params'])} parameters, {tokens}; tokenizer, model, schedule and "
            "token budget held fixed, only the data varied")


def _diversity_sentence(cat: Catalog, corr: pl.DataFrame) -> str:
    row = corr.row(0, named=True)
    target = _TARGET_NAMES.get(row["target"], row["target"])
    metric = row["metric"].replace("_", " ")
    design = f"With {row['n_mixtures']} mixtures x {row['n_seeds']} seeds ({_fixed(cat, row['preset'])})"
    p = row["p_holm"]
    stats = f"Spearman ρ = {_ci(row)}, permutation p = {row['p_perm']:.3g}, p_holm = {p:.3g}" if p is not None else f"ρ = {_ci(row)}"
    if p is not None and p < ALPHA and row["rho"] is not None:
        trend = "falls" if row["rho"] < 0 else "rises"
        return f"{design}, {target} {trend} as {metric} rises: {stats}."
    return f"{design}: no evidence at this scale that {target} changes with {metric} ({stats})."


def _scale_sentence(scale: pl.DataFrame, target: str) -> str:
    rows = scale.filter(pl.col("target") == target)
    if rows.height == 0:
        return ""
    r = rows.row(0, named=True)
    if r["rho"] is None:
        return f" The {r['preset_large']} ranking of mixtures could not be compared ({r['n_mixtures']} mixtures)."
    verdict = "transfers to" if r["p_perm"] is not None and r["p_perm"] < ALPHA and r["rho"] > 0 else "does not clearly transfer to"
    return (f" The {r['preset_small']} ranking of mixtures {verdict} {r['preset_large']}: Spearman ρ = {_ci(r)}, "
            f"Kendall τ = {r['tau']:.2f}, p = {r['p_perm']:.3g} over {r['n_mixtures']} mixtures.")


def headline(cat: Catalog) -> str:
    """The one-sentence answer (plus the scale check) of a run's stored analysis."""
    corr = cat.query("SELECT * FROM correlations WHERE preset = (SELECT preset FROM correlations ORDER BY rowid LIMIT 1)"
                     " ORDER BY target = 'ood/bpb' DESC, target, rowid")
    if corr.height == 0:
        return "No answer yet: no correlations are stored (train the sweep, then run `reports correlate`)."
    unlearned = cat.query("SELECT count(*) FILTER (WHERE learned IS DISTINCT FROM true) AS bad, count(*) AS n"
                          " FROM train_runs WHERE status = 'done'").row(0, named=True)
    caveat = (f"Not evidence: {unlearned['bad']} of {unlearned['n']} runs did not pass the learned check. "
              if unlearned["bad"] else "")
    scale = cat.query("SELECT * FROM scale_agreement")
    return caveat + _diversity_sentence(cat, corr) + _scale_sentence(scale, corr["target"][0])
