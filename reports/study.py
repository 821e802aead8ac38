"""``reports study``: the answer of a designed study, from stored results only.

A study is a mixture sweep with a design (``curate mix sweep`` with ``design:``), which recorded its
pre-registered question in ``studies`` before any training: a factor (e.g. ``log2_k``), a target and the
confounds to adjust for. Targets are computed from per-document eval losses (``eval_doc_losses``) on
the panel (the in-distribution eval sets), grouped as the arm groups its mixtures:

- ``unseen/bpb``: bits per byte on the groups the mixture lacks (leave-groups-out generalization);
- ``seen/bpb``: on the groups it holds; ``panel/bpb``: on every group; ``<eval_set>/bpb``: one eval set.

The ``checkpoint`` analyses use the documents scored at every checkpoint (a subset of the panel), the
final step included, so a sign change over training is not a change of documents.

Each arm (study; negative control over pseudo-groups) is analysed with :mod:`reports.effects`, the
Transformer's losses and the per-mixture n-gram LM's (``mixture_alignment``) side by side, and at every
evaluated checkpoint; :mod:`reports.verdict` judges the pre-registered row. Rows go to ``study_effects``
and ``study_outcomes`` (replaced for the sweep on every analysis).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from curate.core.catalog import Catalog
from curate.mix.balance import realized_balance
from curate.mix.eval_split import fit_problems
from curate.mix.groups import group_sql
from reports.effects import Effect, StudyData, estimate_effect
from reports.verdict import judge

NGRAM = "ngram"
CONTROL_OF = {"primary": "control", "unadjusted": "control", "checkpoint": "control_checkpoint", NGRAM: f"control_{NGRAM}"}


class StudyError(ValueError):
    """The run holds no study that can be analysed (the message says what to run)."""


@dataclass(frozen=True)
class Question:
    """The pre-registered question of a study, as ``curate mix sweep`` recorded it."""

    sweep_id: str
    factor: str
    target: str
    grouping: str
    control_grouping: str | None
    confounds: tuple[str, ...]


def question(cat: Catalog, sweep_id: str | None = None) -> Question:
    """The study of ``sweep_id`` (default: the latest one recorded)."""
    rows = cat.ask("study/question", sweep_id=sweep_id)
    if rows.height == 0:
        known = cat.ask("study/sweep_ids")["sweep_id"].to_list()
        raise StudyError(f"no designed study {sweep_id or ''} in {cat.run_dir} (studies: {known or 'none'}); emit one with"
                         " `curate mix sweep RUN study.yaml` (a sweep with a `design:`, see docs/mixtures.md)")
    r = rows.row(0, named=True)
    return Question(r["sweep_id"], r["factor"], r["target"], r["grouping"], r["control_grouping"], tuple(r["confounds"] or ()))


def panel(cat: Catalog, grouping: str) -> pl.DataFrame:
    """(doc_id, eval_set, kind, group_key) of every eval document, its group computed as the arm's mixtures do."""
    columns = set(cat.ask("shared/columns", splices={"view": "doc_signals"}).columns)
    return cat.ask("study/panel", splices={"group_key": group_sql(grouping, columns)})


def _losses(cat: Catalog, sweep_id: str, preset: str) -> pl.DataFrame:
    """(train_id, mixture_id, step_frac, eval_set, doc_id, nll_bits, n_bytes) of the sweep's finished runs."""
    return cat.ask("study/losses", sweep_id=sweep_id, preset=preset)


def _alignment(cat: Catalog, sweep_id: str) -> pl.DataFrame:
    """The n-gram LM's per-document losses, shaped like ``_losses`` (one 'run' per mixture, final only)."""
    return cat.ask("study/alignment", sweep_id=sweep_id)


def group_values(losses: pl.DataFrame, docs: pl.DataFrame, design: pl.DataFrame, target: str) -> pl.DataFrame:
    """(train_id, mixture_id, step_frac, group_key, value): bits per byte of each run on each target group."""
    name, _, metric = target.rpartition("/")
    if metric != "bpb":
        raise StudyError(f"target {target!r}: studies measure bits per byte (…/bpb) from per-document losses")
    if name in ("unseen", "seen", "panel"):
        docs = docs.filter(pl.col("kind") == "id")
    else:
        docs = docs.filter(pl.col("eval_set") == name).with_columns(pl.col("eval_set").alias("group_key"))
        if docs.height == 0:
            raise StudyError(f"target {target!r}: no eval set {name!r}")
    losses = losses.join(design.select("mixture_id"), on="mixture_id", how="semi")  # this arm's runs only
    rows = (losses.join(docs.select("doc_id", "eval_set", "group_key"), on=["doc_id", "eval_set"])
            .group_by("train_id", "mixture_id", "step_frac", "group_key")
            .agg((pl.col("nll_bits").sum() / pl.col("n_bytes").sum()).alias("value")))
    if name in ("unseen", "seen"):
        held = design.select("mixture_id", pl.col("groups").alias("group_key")).explode("group_key")
        rows = rows.join(held, on=["mixture_id", "group_key"], how="anti" if name == "unseen" else "semi")
    return rows.sort("train_id", "group_key")


def study_data(values: pl.DataFrame, design: pl.DataFrame, covariates: pl.DataFrame, confounds: tuple[str, ...]) -> tuple[StudyData, list[str]]:
    """The arrays of :class:`StudyData` (mixtures in design order), and the mixture ids."""
    design = design.filter(pl.col("mixture_id").is_in(values["mixture_id"].unique().implode())).sort("mixture_id")
    mixtures = design["mixture_id"].to_list()
    index = {m: i for i, m in enumerate(mixtures)}
    runs = {t: i for i, t in enumerate(sorted(values["train_id"].unique().to_list()))}
    groups = {g: i for i, g in enumerate(sorted(values["group_key"].unique().to_list()))}
    wide = design.select("mixture_id").join(covariates, on="mixture_id", how="left")
    z = (wide.select(confounds).to_numpy().astype(float) if confounds else np.zeros((len(mixtures), 0)))
    data = StudyData(np.array([index[m] for m in values["mixture_id"]]), np.array([runs[t] for t in values["train_id"]]),
                     np.array([groups[g] for g in values["group_key"]]), values["value"].to_numpy().astype(float),
                     design["factor_value"].to_numpy().astype(float), z, confounds)
    return data, mixtures


@dataclass
class Arm:
    """One arm's inputs: its design rows, eval documents grouped its way, and its covariates (wide)."""

    name: str
    design: pl.DataFrame
    docs: pl.DataFrame
    covariates: pl.DataFrame


def _arms(cat: Catalog, q: Question) -> list[Arm]:
    design = cat.ask("study/design", sweep_id=q.sweep_id)
    long = cat.ask("study/confounds", sweep_id=q.sweep_id)
    wide = long.pivot(on="name", index="mixture_id", values="value") if long.height else pl.DataFrame(schema={"mixture_id": pl.String})
    arms = []
    for arm, grouping in (("study", q.grouping), ("control", q.control_grouping)):
        part = design.filter(pl.col("arm") == arm)
        if grouping is not None and part.height:
            arms.append(Arm(arm, part, panel(cat, grouping), wide))
    return arms


def _rows(q: Question, analysis: str, arm: str, model: str, step: float, effect: Effect, balance: float | None) -> dict:
    def v(x: float) -> float | None:
        return None if x is None or not math.isfinite(x) else float(x)

    return {"sweep_id": q.sweep_id, "analysis": analysis, "arm": arm, "model": model, "factor": q.factor, "target": q.target,
            "step_frac": step, "adjusted_for": list(effect.adjusted_for), "held_fixed": list(effect.held_fixed),
            "n_mixtures": effect.n_mixtures, "n_runs": effect.n_runs, "estimate": v(effect.estimate), "ci_low": v(effect.ci_low),
            "ci_high": v(effect.ci_high), "p_value": v(effect.p_value), "se": v(effect.se), "mde": v(effect.mde),
            "mixed_estimate": v(effect.mixed_estimate), "mixed_ci_low": v(effect.mixed_ci_low), "mixed_ci_high": v(effect.mixed_ci_high),
            "seed_sd": v(effect.seed_sd), "effect_range": v(effect.effect_range), "vif": v(effect.vif),
            "max_abs_rho_confound": None if balance is None else v(balance), "notes": "; ".join(effect.notes) or None}


def refusal(cat: Catalog, q: Question, preset: str, allow_undertrained: bool) -> str | None:
    """Why the study's numbers are not evidence at all (leaky fits, unlearned runs), or None."""
    problems = fit_problems(cat)
    if problems:
        return "eval documents reached a fitted model: " + "; ".join(problems)
    bad = cat.ask("study/unlearned", sweep_id=q.sweep_id, preset=preset).row(0, named=True)
    if bad["n"] == 0:
        return f"no finished {preset} runs of sweep {q.sweep_id}: run `train sweep RUN --sweep {q.sweep_id}`"
    if bad["bad"] and not allow_undertrained:
        return (f"{bad['bad']} of {bad['n']} runs did not make half of the gain a bigram model of their data makes over the unigram"
                " entropy (the learned check): they compare how fast token frequencies are learned; train longer")
    split = cat.ask("shared/eval_split_params")
    split_group = json.loads(split["params"][0]).get("group_by") if split.height else None
    if q.target.split("/")[0] in ("unseen", "seen", "panel") and split_group != q.grouping:
        return (f"the eval panel is grouped by {split_group!r} but the study's mixtures by {q.grouping!r}: reserve the eval split"
                f" with group_by {q.grouping!r} so every group has its own panel set")
    return None


def _effect(values: pl.DataFrame, arm: Arm, confounds: tuple[str, ...], seed: int, n_boot: int, n_perm: int,
            extra: pl.DataFrame | None = None) -> tuple[Effect, list[str]]:
    covariates = arm.covariates if extra is None else arm.covariates.join(extra, on="mixture_id", how="left")
    names = confounds + (tuple(c for c in extra.columns if c != "mixture_id") if extra is not None else ())
    data, mixtures = study_data(values, arm.design, covariates, names)
    return estimate_effect(data, seed, n_boot, n_perm), mixtures


def _checkpoint_losses(losses: pl.DataFrame) -> pl.DataFrame:
    """The losses of the documents scored at every checkpoint (a subset of the final panel), final step included,
    so the estimate over training compares like with like."""
    early = losses.filter(pl.col("step_frac") < 1.0)
    if early.height == 0:
        return early
    scored = early.group_by("eval_set", "doc_id").agg(pl.col("step_frac").n_unique().alias("n"))
    every = scored.filter(pl.col("n") == pl.col("n").max()).select("eval_set", "doc_id")
    return losses.join(every, on=["eval_set", "doc_id"], how="semi")


def analyse_arm(q: Question, arm: Arm, losses: pl.DataFrame, ngram: pl.DataFrame, confounds: tuple[str, ...],
                seed: int, n_boot: int, n_perm: int) -> list[tuple[str, float, Effect, list[str]]]:
    """Every analysis of one arm: (analysis, step_frac, effect, mixtures)."""
    prefix = "" if arm.name == "study" else "control_"
    out = []
    final = group_values(losses.filter(pl.col("step_frac") == 1.0), arm.docs, arm.design, q.target)
    main_name = "primary" if arm.name == "study" else "control"
    if final.height:
        effect, mixtures = _effect(final, arm, confounds, seed, n_boot, n_perm)
        out.append((main_name, 1.0, effect, mixtures))
        if arm.name == "study" and confounds:
            out.append(("unadjusted", 1.0, *_effect(final, arm, (), seed, n_boot, n_perm)))
    curve = group_values(_checkpoint_losses(losses), arm.docs, arm.design, q.target)
    for step in sorted(curve["step_frac"].unique().to_list()):
        out.append((f"{prefix}checkpoint", step, *_effect(curve.filter(pl.col("step_frac") == step), arm, confounds, seed, 500, 999)))
    gram = group_values(ngram, arm.docs, arm.design, q.target)
    if gram.height:
        g_effect, g_mixtures = _effect(gram, arm, confounds, seed, n_boot, n_perm)
        out.append((f"{prefix}{NGRAM}", 1.0, g_effect, g_mixtures))
        if final.height and arm.name == "study":
            aligned = pl.DataFrame({"mixture_id": g_mixtures, "ngram_alignment": g_effect.mixture_y})
            out.append(("beyond_ngram", 1.0, *_effect(final, arm, confounds, seed, n_boot, n_perm, aligned)))
    return out


def primary_preset(cat: Catalog, sweep_id: str) -> str:
    """The preset with the most finished runs in the sweep (then the smallest)."""
    rows = cat.ask("study/primary_preset", sweep_id=sweep_id)
    if rows.height == 0:
        raise StudyError(f"no finished training runs for sweep {sweep_id}: run `train sweep RUN --sweep {sweep_id}` first")
    return rows["preset"][0]


def analyse_study(run_dir: str | Path, sweep_id: str | None = None, preset: str | None = None, seed: int = 0,
                  n_boot: int = 2000, n_perm: int = 9999, allow_undertrained: bool = False) -> pl.DataFrame:
    """Analyse a study, judge its pre-registered row, and replace its rows in study_effects / study_outcomes."""
    with Catalog(run_dir) as cat:
        q = question(cat, sweep_id)
        preset = preset or primary_preset(cat, q.sweep_id)
        refused = refusal(cat, q, preset, allow_undertrained)
        losses, ngram = _losses(cat, q.sweep_id, preset), _alignment(cat, q.sweep_id)
        rows, outcomes, effects = [], [], {}
        for arm in _arms(cat, q):
            analyses = analyse_arm(q, arm, losses, ngram, q.confounds, seed, n_boot, n_perm)
            balance = realized_balance(cat, q.sweep_id, arm.name)["max_abs_rho"]  # every recorded confound the design lets vary
            for analysis, step, effect, mixtures in analyses:
                effects[(analysis, step)] = effect
                model = NGRAM if analysis in (NGRAM, f"control_{NGRAM}") else preset
                rows.append(_rows(q, analysis, arm.name, model, step, effect, balance))
                factor = dict(arm.design.select("mixture_id", "factor_value").iter_rows())
                outcomes += [{"sweep_id": q.sweep_id, "analysis": analysis, "step_frac": step, "mixture_id": m, "arm": arm.name,
                              "factor_value": factor[m], "outcome": None if math.isnan(y) else float(y)}
                             for m, y in zip(mixtures, effect.mixture_y, strict=True)]
        for row in rows:
            effect = effects[(row["analysis"], row["step_frac"])]
            control = effects.get((CONTROL_OF.get(row["analysis"], ""), row["step_frac"])) if row["arm"] == "study" else None
            row["verdict"], row["reason"] = judge(effect, control, refused)
        frame = pl.DataFrame(rows, schema_overrides={"adjusted_for": pl.List(pl.String), "held_fixed": pl.List(pl.String)}) \
            .with_columns(pl.lit(n_boot).alias("n_boot"), pl.lit(n_perm).alias("n_perm"), pl.lit(seed).alias("seed"))
        with cat.transaction():
            cat.delete_where("study_effects", sweep_id=q.sweep_id)
            cat.delete_where("study_outcomes", sweep_id=q.sweep_id)
            cat.append("study_effects", frame)
            cat.append("study_outcomes", pl.DataFrame(outcomes))
    return frame
