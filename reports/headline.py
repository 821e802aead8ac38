"""The answer in a few sentences, with its uncertainty and what was held fixed (demo output, HTML first screen).

Built only from stored results. A designed study (``study_effects``, written by ``reports study``) is
answered first: the pre-registered (factor, target), the estimate with its CI and permutation p, the
negative control beside it, the n-gram baseline, the sign across checkpoints, and the verdict; numbers
are withheld when the verdict is *refused* or *not identifiable*. Without a study, the correlations of
``reports correlate`` are reported as what they are: exploratory, over a sweep whose factor was not
randomized, and a direction is stated only when Holm's p is below 0.05, no neighbouring mixtures sit
inside the seed noise, and the partial ρ (given the confounds) is identifiable and has the same sign.
"""

from __future__ import annotations

import polars as pl

from curate.core.catalog import Catalog

ALPHA = 0.05
_TARGET_NAMES = {"ood/bpb": "out-of-distribution bits per byte", "id/bpb": "in-distribution bits per byte",
                 "unseen/bpb": "bits per byte on the groups a mixture lacks", "seen/bpb": "bits per byte on the groups a mixture holds",
                 "panel/bpb": "bits per byte on the whole eval panel"}
_FACTOR_NAMES = {"log2_k": "log2 of the number of groups (k-of-K subsets)", "group_entropy": "the token entropy of the group shares"}


def _count(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def _ci(row: dict, key: str = "estimate", low: str = "ci_low", high: str = "ci_high", fmt: str = "+.3f") -> str:
    if row[key] is None:
        return "undefined"
    ci = f" [{row[low]:{fmt}}, {row[high]:{fmt}}]" if row[low] is not None and row[high] is not None else ""
    return f"{row[key]:{fmt}}{ci}"


def _fixed(cat: Catalog, preset: str, sweep_id: str | None = None) -> str:
    runs = cat.ask("headline/fixed", preset=preset, sweep_id=sweep_id).row(0, named=True)
    tokens = f"{_count(runs['tokens'])} tokens each" if runs["budgets"] == 1 else "unequal token budgets"
    return f"{preset}, {_count(runs['params'])} parameters, {tokens}; tokenizer, model, schedule and token budget held fixed"


def _design(cat: Catalog, sweep_id: str, preset: str, factor: str) -> str:
    d = cat.ask("headline/design", sweep_id=sweep_id, preset=preset).row(0, named=True)
    seeds = f"{d['lo']}" if d["lo"] == d["hi"] else f"{d['lo']}-{d['hi']}"
    if factor == "log2_k":
        levels = "k = " + ", ".join(f"{2 ** v:.0f}" for v in d["levels"] or [])
    else:
        levels = f"{factor} = " + ", ".join(f"{v:.3g}" for v in d["levels"] or [])
    return f"{d['n']} mixtures x {seeds} seeds at {levels}"


def _covers_zero(row: dict) -> bool:
    return row["ci_low"] is None or row["ci_low"] <= 0 <= row["ci_high"]


def _ngram_reading(primary: dict, ngram: dict, beyond: dict) -> str:
    """What the n-gram rows say about the primary effect, when they say something clear."""
    if primary["verdict"] != "effect" or primary["estimate"] is None or ngram["estimate"] is None:
        return ""
    same_sign = ngram["estimate"] * primary["estimate"] > 0 and not _covers_zero(ngram)
    if same_sign and _covers_zero(beyond):
        return ": at this scale the effect is what the mixtures' n-gram coverage of the target predicts"
    if not _covers_zero(beyond) and beyond["estimate"] * primary["estimate"] > 0:
        return ": the Transformer gains from the factor beyond what n-gram coverage explains"
    return ""


def _checkpoint_signs(effects: pl.DataFrame) -> str:
    rows = effects.filter(pl.col("analysis") == "checkpoint").sort("step_frac")
    signs = [f"{r['step_frac']:.0%}: {'–' if r['estimate'] is None else ('+' if r['estimate'] > 0 else '−')}"
             + ("" if r["ci_low"] is None or r["ci_low"] <= 0 <= r["ci_high"] else "*") for r in rows.iter_rows(named=True)]
    return (f" Sign of the estimate over training, on the documents scored at every checkpoint ({', '.join(signs)};"
            " * = CI excludes 0)." if len(signs) > 1 else "")


def _caveats(cat: Catalog, sweep_id: str, preset: str) -> str:
    r = cat.ask("headline/caveats", sweep_id=sweep_id, preset=preset).row(0, named=True)
    notes = []
    if r["unlearned"]:
        notes.append(f"{r['unlearned']} of {r['n']} runs did not pass the learned check and were analysed anyway (not evidence)")
    if r["still"]:
        notes.append(f"{r['still']} of {r['n']} runs were still improving at the end (the answer is at this budget; ranks may change)")
    return (" Caveats: " + "; ".join(notes) + ".") if notes else ""


def study_headline(cat: Catalog, sweep_id: str | None = None) -> str | None:
    """The answer of the latest (or the given) analysed study; None when no study was analysed."""
    effects = cat.ask("headline/study_effects", sweep_id=sweep_id)
    if effects.height == 0:
        return None
    by = {r["analysis"]: r for r in effects.filter(pl.col("step_frac") == 1.0).iter_rows(named=True)}
    p = by.get("primary")
    if p is None:
        return f"Study {effects['sweep_id'][0]}: no final evaluation of the study arm is stored yet."
    sweep, preset = p["sweep_id"], p["model"]
    question = (f"Study {sweep}, pre-registered: does {_FACTOR_NAMES.get(p['factor'], p['factor'])} change "
                f"{p['target']} ({_TARGET_NAMES.get(p['target'], p['target'])})?")
    adjusted = f"adjusted for {', '.join(p['adjusted_for'])}" if p["adjusted_for"] else "no confound adjusted for"
    fixed = f"; held fixed by the design: {', '.join(p['held_fixed'])}" if p["held_fixed"] else ""
    balance = f"; max |ρ(factor, any recorded confound)| = {p['max_abs_rho_confound']:.2f}" if p["max_abs_rho_confound"] is not None else ""
    epochs = cat.ask("headline/epochs", sweep_id=sweep).row(0, named=True)
    repeats = f", every document seen exactly {epochs['lo']:g} times" if epochs["lo"] is not None and epochs["lo"] == epochs["hi"] else ""
    design = f" {_design(cat, sweep, preset, p['factor'])} ({_fixed(cat, preset, sweep)}{repeats}; {adjusted}{fixed}{balance})."
    if p["verdict"] in ("refused", "not identifiable"):
        return f"{question}{design} Answer: {p['verdict']} — {p['reason']}."
    unit = "Per doubling of k" if p["factor"] == "log2_k" else "Per unit of the factor"
    answer = (f" Answer: {p['verdict']}. {unit} the target changes by {_ci(p)} (95% CI, cluster bootstrap over"
              f" mixtures; Freedman–Lane p = {p['p_value']:.3g}; mixed model {_ci(p, 'mixed_estimate', 'mixed_ci_low', 'mixed_ci_high')};"
              f" seed sd {p['seed_sd'] or float('nan'):.3g}, minimum detectable effect ±{p['mde']:.3g}).")
    if p["verdict"] != "effect":
        answer += f" Why: {p['reason']}."
    parts = [question, design, answer]
    if "control" in by:
        c = by["control"]
        covers = "covers zero, as it should" if c["ci_low"] is not None and c["ci_low"] <= 0 <= c["ci_high"] else "does NOT cover zero"
        parts.append(f" Negative control (the same design over pseudo-groups): {_ci(c)}, {covers}.")
    if "ngram" in by:
        parts.append(f" The per-mixture n-gram LM on the same tokens: {_ci(by['ngram'])}")
        beyond = by.get("beyond_ngram")
        parts.append(f"; the Transformer's effect with the n-gram alignment as a covariate: {_ci(beyond)} ({beyond['verdict']})"
                     + _ngram_reading(p, by["ngram"], beyond) + "." if beyond else ".")
    return "".join(parts) + _checkpoint_signs(effects) + _caveats(cat, sweep, preset)


def _diversity_sentence(cat: Catalog, corr: pl.DataFrame) -> str:
    row = corr.row(0, named=True)
    target = _TARGET_NAMES.get(row["target"], row["target"])
    metric = row["metric"].replace("_", " ")
    design = f"Exploratory, over a sweep whose factor was not randomized: {row['n_mixtures']} mixtures x {row['n_seeds']} seeds ({_fixed(cat, row['preset'])})"
    p = row["p_holm"]
    rho = f"{row['rho']:.2f} [{row['rho_ci_low']:.2f}, {row['rho_ci_high']:.2f}]" if row["rho"] is not None and row["rho_ci_low"] is not None else "undefined"
    stats = f"Spearman ρ = {rho}, permutation p = {row['p_perm']:.3g}, p_holm = {p:.3g}" if p is not None else f"ρ = {rho}"
    partial = row["partial_rho"]
    blockers = []
    if row["warning"]:
        blockers.append(row["warning"])
    if row["confound"] and (partial is None or (row["rho"] is not None and partial * row["rho"] <= 0)):
        blockers.append(f"given {row['confound']} the partial ρ is {'not identifiable' if partial is None else f'{partial:.2f}'}")
    if p is not None and p < ALPHA and row["rho"] is not None and not blockers:
        trend = "falls" if row["rho"] < 0 else "rises"
        return f"{design}, {target} {trend} as {metric} rises: {stats}; partial ρ = {partial if partial is None else f'{partial:.2f}'}."
    why = f" ({'; '.join(blockers)})" if blockers else ""
    return f"{design}: no evidence at this scale that {target} changes with {metric} ({stats}){why}."


def _scale_sentence(scale: pl.DataFrame, target: str) -> str:
    rows = scale.filter(pl.col("target") == target)
    if rows.height == 0:
        return ""
    r = rows.row(0, named=True)
    if r["rho"] is None:
        return f" The {r['preset_large']} ranking of mixtures could not be compared ({r['n_mixtures']} mixtures)."
    verdict = "transfers to" if r["p_perm"] is not None and r["p_perm"] < ALPHA and r["rho"] > 0 else "does not clearly transfer to"
    accuracy = f", pairwise decision accuracy {r['decision_accuracy']:.2f}" if r.get("decision_accuracy") is not None else ""
    return (f" The {r['preset_small']} ranking of mixtures {verdict} {r['preset_large']}: Spearman ρ = {_ci(r, 'rho', 'rho_ci_low', 'rho_ci_high', '.2f')}, "
            f"Kendall τ = {r['tau']:.2f}, p = {r['p_perm']:.3g}{accuracy} over {r['n_mixtures']} mixtures.")


def headline(cat: Catalog) -> str:
    """The answer of a run: its analysed study, else its exploratory correlations (plus the scale check)."""
    study = study_headline(cat)
    if study is not None:
        return study
    corr = cat.ask("headline/correlations")
    if corr.height == 0:
        return "No answer yet: no study or correlation is stored (train the sweep, then run `reports study` or `reports correlate`)."
    unlearned = cat.ask("headline/unlearned").row(0, named=True)
    caveat = (f"Not evidence: {unlearned['bad']} of {unlearned['n']} runs did not pass the learned check. "
              if unlearned["bad"] else "")
    scale = cat.ask("headline/scale_agreement")
    return caveat + _diversity_sentence(cat, corr) + _scale_sentence(scale, corr["target"][0])
