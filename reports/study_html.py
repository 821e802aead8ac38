"""The HTML report's study section: the design, the fitted effect beside the negative control, the estimates of
every analysis, covariate balance, and each mixture's outcome over training (rank crossovers show as crossings).

Only stored results are read (``studies``, ``mixture_design``, ``mixture_covariates``, ``study_effects``,
``study_outcomes``); every value is escaped by the page's table helper or matplotlib's SVG writer.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import polars as pl
from scipy import stats

from curate.core.catalog import Catalog
from reports import plots

ORDER = ("primary", "unadjusted", "ngram", "beyond_ngram", "checkpoint", "control", "control_ngram", "control_checkpoint")
EFFECT_COLUMNS = ("analysis", "arm", "model", "step_frac", "adjusted_for", "n_mixtures", "n_runs", "estimate", "ci_low", "ci_high",
                  "p_value", "mixed_estimate", "mde", "seed_sd", "vif", "verdict", "reason")


def _level(factor: str, value: float) -> str:
    return f"k={2 ** value:.0f}" if factor == "log2_k" else f"{value:.3g}"


def _design_plot(design: pl.DataFrame, sweep: str) -> str:
    groups = sorted({g for gs in design["groups"].to_list() for g in gs})
    held = np.array([[g in gs for g in groups] for gs in design["groups"].to_list()], dtype=float)
    rows = [f"{_level(f, v)} · {m.removeprefix(sweep + '-')}" for f, v, m in design.select("factor", "factor_value", "mixture_id").iter_rows()]
    return plots.membership(rows, groups, held, f"{design['arm'][0]} arm: the groups each mixture holds")


def _fit_line(outcomes: pl.DataFrame, slope: float | None) -> float | None:
    if slope is None or outcomes.height == 0:
        return None
    return float(outcomes["outcome"].mean() - slope * outcomes["factor_value"].mean())


def _balance(cat: Catalog, sweep_id: str) -> pl.DataFrame:
    """Spearman ρ of the factor with every recorded confound, per arm (what the design balanced)."""
    rows = cat.ask("study/confound_values", sweep_id=sweep_id)
    out = []
    for (arm, name), part in rows.group_by("arm", "name", maintain_order=True):
        varies = part["value"].drop_nulls().n_unique() > 1
        rho = stats.spearmanr(part["factor_value"], part["value"].fill_null(0)).statistic if varies else None
        out.append({"arm": arm, "confound": name, "rho_with_factor": None if rho is None else float(rho),
                    "range": f"{part['value'].min():.4g} – {part['value'].max():.4g}"})
    return pl.DataFrame(out, schema={"arm": pl.String, "confound": pl.String, "rho_with_factor": pl.Float64, "range": pl.String})


def study_section(cat: Catalog, table: Callable[..., str]) -> str:
    """The section's HTML (empty string when the run holds no analysed study)."""
    effects = cat.ask("study/latest_effects", order=list(ORDER))
    if effects.height == 0:
        return ""
    sweep = effects["sweep_id"][0]
    design = cat.ask("study/design_by_arm", sweep_id=sweep)
    outcomes = cat.ask("study/outcomes", sweep_id=sweep)
    factor, target = effects["factor"][0], effects["target"][0]
    ylabel = f"{target} − group mean"
    panels = []
    for analysis in ("primary", "control", "ngram"):
        row = effects.filter((pl.col("analysis") == analysis) & (pl.col("step_frac") == 1.0))
        part = outcomes.filter((pl.col("analysis") == analysis) & (pl.col("step_frac") == 1.0)).drop_nulls("outcome")
        if row.height and part.height:
            r = row.row(0, named=True)
            est = "n/a" if r["estimate"] is None else f"{r['estimate']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
            panels.append((f"{analysis}: {est}\n{r['verdict']}", part, r["estimate"], _fit_line(part, r["estimate"])))
    charts = [plots.effect_panels(panels, factor, ylabel)] if panels else []
    charts += [_design_plot(part, sweep) for _, part in design.group_by("arm", maintain_order=True)]
    curve = outcomes.filter(pl.col("analysis") == "checkpoint").drop_nulls("outcome")
    if curve["step_frac"].n_unique() > 1:
        charts.append(plots.trajectories(curve, "each mixture over training (documents scored at every checkpoint)", ylabel,
                                         lambda v: _level(factor, v)))
    intro = ("<p>The pre-registered question, recorded before training, answered over mixtures (the unit; seeds nested in"
             " them). Outcome: each run's target on each group minus that group's mean over mixtures, averaged per mixture."
             " Estimate: OLS slope over mixtures with the confounds adjusted for; CI: cluster bootstrap over mixtures;"
             " p: Freedman–Lane permutation; the negative control repeats the design over pseudo-groups and should be null;"
             " the n-gram rows replace the Transformer by each mixture's n-gram LM on the same tokens.</p>")
    shown = effects.select(*EFFECT_COLUMNS).with_columns(pl.col("adjusted_for").list.join(", "))
    return (f"<section id='study'><h2>Study: {html.escape(sweep)}</h2>{intro}<div class='grid'>{''.join(charts)}</div>"
            f"{table(shown, 40, 140)}<h3>Covariate balance (Spearman ρ of the factor with each recorded confound)</h3>"
            f"{table(_balance(cat, sweep), 60)}</section>")
