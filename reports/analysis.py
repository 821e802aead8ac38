"""Run the diversity <-> generalization analysis on a catalog and store it in ``correlations``."""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.catalog import Catalog
from reports.correlate import correlate, holm

DEFAULT_METRICS = ("topic_entropy", "effective_topics", "vendi", "distinct_2", "compression_ratio", "mattr", "source_entropy", "lang_entropy")
DEFAULT_TARGETS = ("ood/bpb", "id/bpb")
CONFOUND = "mean_doc_bytes"


def mixture_table(cat: Catalog, metrics: tuple[str, ...], targets: tuple[str, ...]) -> pl.DataFrame:
    """Per training run: its mixture's metrics and confound, and each target (eval_set/metric)."""
    div = cat.query("SELECT scope_id AS mixture_id, metric, value FROM diversity WHERE scope_kind = 'mixture'")
    wide = div.filter(pl.col("metric").is_in(list(metrics))).pivot(on="metric", index="mixture_id", values="value") if div.height else pl.DataFrame({"mixture_id": []}, schema={"mixture_id": pl.String})
    confound = cat.query("SELECT m.mixture_id, sum(d.n_bytes * m.repeats) / sum(m.repeats) AS mean_doc_bytes"
                         " FROM mixture_docs m JOIN documents d USING (doc_id) GROUP BY 1")
    runs = cat.query("SELECT r.train_id, r.mixture_id, r.seed, e.eval_set || '/' || e.metric AS target, e.value"
                     " FROM train_runs r JOIN evals e USING (train_id)")
    runs = runs.filter(pl.col("target").is_in(list(targets)))
    if runs.height == 0:
        return pl.DataFrame()
    per_run = runs.pivot(on="target", index=["train_id", "mixture_id", "seed"], values="value")
    return per_run.join(wide, on="mixture_id", how="left").join(confound, on="mixture_id", how="left")


def analyse(run_dir, metrics: tuple[str, ...] = DEFAULT_METRICS, targets: tuple[str, ...] = DEFAULT_TARGETS, seed: int = 0) -> pl.DataFrame:  # noqa: ANN001
    """One row per metric x target, written to the ``correlations`` table (replacing earlier rows)."""
    with Catalog(run_dir) as cat:
        table = mixture_table(cat, metrics, targets)
        rows = []
        for target in targets:
            if table.height == 0 or target not in table.columns:
                continue
            per_mix = table.group_by("mixture_id").agg(
                pl.col(target).mean().alias("y"), pl.col(target).std().alias("sd"), pl.len().alias("seeds"),
                *(pl.col(m).first() for m in metrics if m in table.columns), pl.col(CONFOUND).first()).sort("mixture_id")
            seed_sd = float(per_mix["sd"].drop_nulls().mean()) if per_mix["sd"].drop_nulls().len() else float("nan")
            block = []
            for metric in metrics:
                if metric not in per_mix.columns:
                    continue
                sub = per_mix.drop_nulls([metric, "y"])
                stats = correlate(sub[metric].to_numpy(), sub["y"].to_numpy(), sub[CONFOUND].to_numpy(), seed_sd, seed)
                block.append({"metric": metric, "target": target, "n_seeds": int(sub["seeds"].min() or 0), **stats})
            for row, p in zip(block, holm([b["p_perm"] for b in block]), strict=True):
                row["p_holm"] = p
            rows += block
        frame = pl.DataFrame([_flat(r) for r in rows], schema=SCHEMA)
        with cat.transaction():
            cat.delete_where("correlations")
            cat.append("correlations", frame)
    return frame


SCHEMA = {"metric": pl.String, "target": pl.String, "n_mixtures": pl.Int32, "n_seeds": pl.Int32, "rho": pl.Float64,
          "rho_ci_low": pl.Float64, "rho_ci_high": pl.Float64, "tau": pl.Float64, "r": pl.Float64, "r_ci_low": pl.Float64,
          "r_ci_high": pl.Float64, "p_perm": pl.Float64, "p_holm": pl.Float64, "partial_rho": pl.Float64, "confound": pl.String,
          "loo_rank_agreement": pl.Float64, "warning": pl.String}


def _flat(r: dict) -> dict:
    nan = lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else v  # noqa: E731
    return {"metric": r["metric"], "target": r["target"], "n_mixtures": r["n_mixtures"], "n_seeds": r["n_seeds"],
            "rho": nan(r["rho"]), "rho_ci_low": nan(r["rho_ci"][0]), "rho_ci_high": nan(r["rho_ci"][1]), "tau": nan(r["tau"]),
            "r": nan(r["r"]), "r_ci_low": nan(r["r_ci"][0]), "r_ci_high": nan(r["r_ci"][1]), "p_perm": nan(r["p_perm"]),
            "p_holm": nan(r["p_holm"]), "partial_rho": nan(r["partial_rho"]), "confound": CONFOUND,
            "loo_rank_agreement": nan(r["loo"]), "warning": r["warning"]}
