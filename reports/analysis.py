"""Run the diversity <-> generalization analysis on a run's catalog and store it in ``correlations``.

Rows come from named reports (``mixture_diversity``, ``eval_results``, ``mixture_confounds``) so an analyst can
see exactly what was correlated. Per target, each mixture contributes its seed mean; the seed spread is
the pooled within-mixture standard deviation. Holm's correction runs across the metrics tested for a
target. The default metric set is fixed in advance (testing every metric costs power under Holm).

Correlations are computed within one preset (model size) at a time: the primary preset (most runs)
answers the question, any other preset is compared with it by rank agreement (``reports.scale``).
Runs that did not pass the learned check (``train.learned``: far enough below the unigram entropy) make the
analysis refuse, unless ``allow_undertrained``: a correlation of models that only learned token frequencies
says nothing. Runs that were still improving at the end (not ``converged``) are a caveat, not a refusal.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl

import sql
from curate.core.catalog import Catalog
from curate.text import words_expr
from reports.correlate import correlate, holm
from reports.queries import open_run, run
from reports.scale import scale_agreement

LEARNED_SHARE = 0.5  # train.learned.LEARNED_SHARE (reports never imports train: they meet in the catalog)
TAIL_MAX_GAIN = 0.05  # train.learned.TAIL_MAX_GAIN

DEFAULT_METRICS = ("topic_entropy", "effective_topics", "vendi", "distinct_2", "compression_ratio", "mattr",
                   "source_entropy", "lang_entropy")
DEFAULT_TARGETS = ("ood/bpb", "id/bpb")
DEFAULT_CONFOUNDS = ("mean_doc_bytes",)
SCHEMA = {"metric": pl.String, "target": pl.String, "preset": pl.String, "n_mixtures": pl.Int32, "n_seeds": pl.Int32, "seed_sd": pl.Float64,
          "rho": pl.Float64, "rho_ci_low": pl.Float64, "rho_ci_high": pl.Float64, "tau": pl.Float64, "tau_ci_low": pl.Float64,
          "tau_ci_high": pl.Float64, "r": pl.Float64, "r_ci_low": pl.Float64, "r_ci_high": pl.Float64, "p_perm": pl.Float64,
          "p_holm": pl.Float64, "partial_rho": pl.Float64, "confound": pl.String, "loo_rank_agreement": pl.Float64,
          "n_close_pairs": pl.Int32, "warning": pl.String, "seed": pl.Int64}


def unique_words(cat: Catalog) -> pl.DataFrame:
    """Distinct lower-cased words (curate.text's definition) in each mixture: the 'unique-token count' confound."""
    rows = []
    for mixture_id in cat.ask("shared/mixture_ids")["mixture_id"]:
        texts = cat.ask("analysis/mixture_texts", mixture_id=mixture_id)
        n = texts.select(words_expr(pl.col("text").str.to_lowercase()).explode().drop_nulls().n_unique()).item() if texts.height else 0
        rows.append({"mixture_id": mixture_id, "n_unique_words": n})
    return pl.DataFrame(rows, schema={"mixture_id": pl.String, "n_unique_words": pl.Int64})


class UndertrainedError(ValueError):
    """Some runs to be correlated did not pass the learned check."""


def presets_by_runs(cat: Catalog) -> list[str]:
    """Presets with finished runs, the primary one (most runs; then fewest parameters) first."""
    rows = cat.ask("analysis/presets")
    return rows["preset"].to_list()


def require_learned(cat: Catalog) -> None:
    """Raise UndertrainedError naming the runs that did not pass the learned check (or were never checked).

    Only the learned check (far enough below the unigram entropy) refuses; a run that is still improving
    at the end has learned, and :func:`convergence_caveat` says so beside the answer.
    """
    bad = cat.ask("analysis/not_learned")
    if bad.height:
        total = cat.ask("analysis/finished_runs")["n"][0]
        worst = bad.row(0, named=True)
        detail = ("it was never checked (trained before the check existed)" if worst["learned"] is None else
                  f"its val loss is only {_num(worst['loss_below_unigram'])} nats below the unigram entropy of its data, "
                  f"less than {LEARNED_SHARE:.0%} of the {_num(worst['bigram_gain'])} nats a bigram of its data gains")
        raise UndertrainedError(
            f"{bad.height} of {total} training runs did not pass the learned check (worst: {worst['train_id']}: {detail}). "
            "A correlation over models that have barely left the unigram regime measures how fast token frequencies are "
            "learned, not what the data teaches: train longer (more --tokens) or pass --allow-undertrained.")


def convergence_caveat(cat: Catalog) -> str | None:
    """A sentence on the finished runs that were still improving at the end (``converged`` false), or None."""
    row = cat.ask("analysis/still_improving").row(0, named=True)
    if not row["n"]:
        return None
    return (f"{row['n']} of {row['total']} training runs were still improving at the end (their last 20% of steps gained up to "
            f"{_num(100 * (row['worst'] if row['worst'] is not None else math.nan))}% in validation loss; converged means "
            f"< {100 * TAIL_MAX_GAIN:.0f}%): they have learned, but their ranking of mixtures may change with more training (--tokens).")


def _num(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.2f}"


def per_mixture(cat: Catalog, target: str, metrics: tuple[str, ...], confounds: tuple[str, ...],
                preset: str | None = None) -> pl.DataFrame:
    """One row per mixture: seed mean, sd and count of ``target`` ('eval_set/metric'), metrics, confounds."""
    eval_set, _, metric = target.rpartition("/")
    runs = run(cat, "eval_results", eval_set=eval_set, metric=metric, preset=preset).drop_nulls(["mixture_id", "value"])
    y = runs.group_by("mixture_id").agg(pl.col("value").mean().alias("y"), pl.col("value").std().alias("sd"),
                                        pl.len().alias("seeds"))
    div = run(cat, "mixture_diversity").filter(pl.col("metric").is_in([*metrics, *confounds]))
    wide = (div.pivot(on="metric", index="mixture_id", values="value") if div.height
            else pl.DataFrame(schema={"mixture_id": pl.String}))
    extra = run(cat, "mixture_confounds")
    if "n_unique_words" in confounds:
        extra = extra.join(unique_words(cat), on="mixture_id", how="left")
    extra = extra.select("mixture_id", *(c for c in confounds if c in extra.columns and c not in wide.columns))
    return y.join(wide, on="mixture_id", how="left").join(extra, on="mixture_id", how="left").sort("mixture_id")


def mixture_metrics(run_dir: str | Path) -> tuple[str, ...]:
    """Every diversity metric scored on some mixture of the run (for ``--metric all``)."""
    with open_run(run_dir) as cat:
        return tuple(sorted(set(run(cat, "mixture_diversity")["metric"])))


def pooled_sd(frame: pl.DataFrame) -> float:
    """sqrt(mean within-mixture variance) over mixtures with at least two seeds; NaN when none has."""
    sd = frame["sd"].drop_nulls().drop_nans().to_numpy()
    return float(np.sqrt(np.mean(sd**2))) if sd.size else math.nan


def analyse_target(cat: Catalog, target: str, metrics: tuple[str, ...], confounds: tuple[str, ...], seed: int,
                   n_boot: int, preset: str | None = None) -> list[dict]:
    """The rows of one target within one preset: every metric, with Holm's correction across them."""
    table = per_mixture(cat, target, metrics, confounds, preset)
    seed_sd = pooled_sd(table) if table.height else math.nan
    missing = [c for c in confounds if c not in table.columns or table[c].drop_nulls().len() == 0]
    rows = []
    for metric in metrics:
        if metric not in table.columns:
            continue
        sub = table.drop_nulls([metric, "y", *(c for c in confounds if c not in missing)])
        z = sub.select(c for c in confounds if c not in missing).to_numpy().astype(float) if len(missing) < len(confounds) else None
        stats = correlate(sub[metric].to_numpy(), sub["y"].to_numpy(), z, seed_sd, seed, n_boot)
        notes = [stats["warning"]] if stats["warning"] else []
        notes += [f"confound {c} unavailable in this run" for c in missing]
        rows.append(_row(metric, target, int(sub["seeds"].min() or 0) if sub.height else 0, seed_sd, stats,
                         ",".join(c for c in confounds if c not in missing) or None, "; ".join(notes) or None, seed)
                    | {"preset": preset})
    for row, p in zip(rows, holm([r["p_perm"] if r["p_perm"] is not None else math.nan for r in rows]), strict=True):
        row["p_holm"] = None if math.isnan(p) else p
    return rows


def analyse(run_dir: str | Path, metrics: tuple[str, ...] = DEFAULT_METRICS, targets: tuple[str, ...] = DEFAULT_TARGETS,
            confounds: tuple[str, ...] = DEFAULT_CONFOUNDS, seed: int = 0, n_boot: int = 2000,
            allow_undertrained: bool = False) -> pl.DataFrame:
    """One row per metric x target x preset over mixtures, written to ``correlations`` (the table is rebuilt),
    and the rank agreement of every other preset with the primary one, written to ``scale_agreement``."""
    bad = [t for t in targets if "/" not in t]
    if bad:
        raise ValueError(f"targets read eval_set/metric (e.g. ood/bpb), got {bad}")
    with Catalog(run_dir) as cat:
        if not allow_undertrained:
            require_learned(cat)
        presets = presets_by_runs(cat)
        rows = [row for preset in presets for target in targets
                for row in analyse_target(cat, target, metrics, confounds, seed, n_boot, preset)]
        frame = pl.DataFrame(rows, schema=SCHEMA)
        scale = scale_agreement(cat, presets, targets, seed, n_boot)
        with cat.transaction():
            cat.execute(sql.read_query("analysis/drop_results").text)
            cat.execute(sql.read("schema").text)
            cat.append("correlations", frame)
            cat.append("scale_agreement", scale)
    return frame


def _row(metric: str, target: str, n_seeds: int, seed_sd: float, s: dict, confound: str | None, warning: str | None,
         seed: int) -> dict:
    def v(x: float) -> float | None:
        return None if x is None or math.isnan(x) else float(x)

    return {"metric": metric, "target": target, "n_mixtures": s["n_mixtures"], "n_seeds": n_seeds, "seed_sd": v(seed_sd),
            "rho": v(s["rho"]), "rho_ci_low": v(s["rho_ci"][0]), "rho_ci_high": v(s["rho_ci"][1]), "tau": v(s["tau"]),
            "tau_ci_low": v(s["tau_ci"][0]), "tau_ci_high": v(s["tau_ci"][1]), "r": v(s["r"]), "r_ci_low": v(s["r_ci"][0]),
            "r_ci_high": v(s["r_ci"][1]), "p_perm": v(s["p_perm"]), "p_holm": None, "partial_rho": v(s["partial_rho"]),
            "confound": confound, "loo_rank_agreement": v(s["loo"]), "n_close_pairs": s["n_close_pairs"], "warning": warning,
            "seed": seed}
