"""The HTML report's mixture-search section (``train search``): predicted vs actual target, the chosen mixture's
weights beside the baselines, the regressors' cross-validation and the validation against seed noise.

Only stored results are read (``search_runs``, ``search_predictions``, ``search_folds``, the named report
``search``); every value is escaped by the page's table helper or matplotlib's SVG writer.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable

import numpy as np
import polars as pl

from curate.core.catalog import Catalog
from reports import plots

ARMS = ("chosen", "uniform", "natural", "best_proxy")
MAX_SEARCHES = 3


def _num(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None or not np.isfinite(value) else format(value, spec)


def _weights_plot(arms: pl.DataFrame, chosen: dict[str, float], groups: list[str]) -> str:
    """The chosen mixture (as optimized) and each validation arm's realized shares."""
    rows = [("chosen", chosen)] + [(r, json.loads(w)) for r, w in arms.select("arm", "weights").iter_rows() if r in ARMS[1:] and w]
    shares = np.array([[w.get(g, 0.0) for g in groups] for _, w in rows])
    return plots.grouped_bars([r for r, _ in rows], groups, shares, "chosen mixture beside the baselines")


def _one(cat: Catalog, row: dict, table: Callable[..., str]) -> str:
    sid = row["search_id"]
    points = cat.ask("search/predicted_vs_actual", search_id=sid, model=row["model"])
    arms = cat.report("search", search_id=sid)
    folds = cat.ask("search/folds", search_id=sid)
    title = f"{row['target']}: {row['model']}, CV ρ {_num(row['cv_spearman'], '.2f')}, held-out ρ {_num(row['heldout_spearman'], '.2f')}"
    charts = [plots.predicted_vs_actual(points, title), _weights_plot(arms, json.loads(row["chosen_weights"]), list(row["groups"]))]
    intro = (f"<p>{row['n_proxies']} proxy mixtures ({html.escape(row['preset'])}, {row['tokens']:,} tokens each; Dirichlet draws over"
             f" {html.escape(row['grouping'])}), {row['n_heldout']} of them never used in fitting. The regressor with the best mean"
             f" Spearman ρ over {folds['folds'][0] if folds.height else 0} CV folds predicts the target; the chosen mixture is its optimum under"
             " the caps (unique tokens × repetition limit) and minimum shares. Validation: the chosen mixture and the baselines,"
             f" {row['validation_seeds']} seeds each at the same budget; CI from the pooled seed sd ({_num(row['seed_sd'], '.4f')})."
             " Proxies that did not learn rank mixtures by how fast token frequencies are learned: "
             f"{row['n_not_learned']} of {row['n_proxies']} here.</p>")
    spread = points.filter(pl.col("role").is_in(["proxy", "heldout"]))["actual"].std()
    if spread is not None and row["seed_sd"] is not None and spread < 2 * row["seed_sd"]:
        intro += (f"<p class='warn'>The proxies' targets vary by sd {_num(spread, '.4f')}, one seed's noise is {_num(row['seed_sd'], '.4f')}:"
                  " the proxies (one seed each) differ mostly by seed noise, so the regression ranks noise.</p>")
    return (f"<h3>{html.escape(sid)}</h3>{intro}<div class='grid'>{''.join(charts)}</div>"
            + table(arms.select("arm", "mixture_id", "predicted", "actual", "n_runs", "chosen_minus_arm", "ci_low", "ci_high"))
            + table(folds))


def search_section(cat: Catalog, table: Callable[..., str]) -> str:
    """The section's HTML for the latest searches (empty string when the run holds none)."""
    rows = cat.ask("search/latest", limit=MAX_SEARCHES)
    if rows.height == 0:
        return ""
    parts = "".join(_one(cat, r, table) for r in rows.iter_rows(named=True))
    return f"<section id='search'><h2>Mixture search</h2>{parts}</section>"
