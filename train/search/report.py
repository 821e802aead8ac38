"""What ``train search`` prints: the regressors' CV, the chosen mixture beside the baselines, and the validation."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from curate.core.catalog import Catalog
from curate.core.display import print_frame
from train.search.run import SearchResult


def print_search(run_dir: Path, result: SearchResult) -> None:
    """Three tables (models by CV, mixtures by arm, comparisons) and a one-line verdict."""
    row = result.row
    with Catalog(run_dir, read_only=True) as cat:
        folds = cat.ask("search/folds_rounded", search_id=row["search_id"])
        arms = cat.report("search", search_id=row["search_id"])
        spread = cat.ask("search/target_spread", search_id=row["search_id"], model=row["model"])["sd"][0]
    print_frame(folds, title=f"regressors, {row['n_proxies'] - row['n_heldout']} proxies in k-fold CV (target {row['target']})")
    groups = row["groups"]
    weights = {"chosen": json.loads(row["chosen_weights"]), **result.arms}
    table = pl.DataFrame([{"arm": arm, **{g: round(w.get(g, 0.0), 3) for g in groups}} for arm, w in weights.items()])
    print_frame(table, title=f"mixtures ({row['grouping']} shares)")
    if arms["arm"].drop_nulls().len():
        print_frame(arms.select("arm", "predicted", "actual", "n_runs", "chosen_minus_arm", "ci_low", "ci_high"),
                    title=f"validation: {row['validation_seeds']} seeds each, seed sd {row['seed_sd']:.4f} bits per byte")
    print(f"search {row['search_id']}: {row['model']} chosen by CV (mean Spearman {row['cv_spearman']:.3f}, MAE {row['cv_mae']:.4f});"
          f" held-out Spearman {row['heldout_spearman']:.3f} on {row['n_heldout']} proxies; predicted {row['predicted_target']:.4f}"
          + (f"; {row['n_not_learned']} proxies failed the learned check" if row["n_not_learned"] else ""))
    if spread and row["seed_sd"] == row["seed_sd"] and spread < 2 * row["seed_sd"]:
        print(f"caution: the proxies' targets vary by sd {spread:.4f}, one seed's noise is {row['seed_sd']:.4f}: the proxies (one seed each)"
              " differ mostly by seed noise; train longer, score more eval documents, or add proxies")
