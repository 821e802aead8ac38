"""One self-contained HTML page for a run: plots inline as SVG, every piece of text HTML-escaped.

Documents are untrusted input: any text from the catalog goes through :func:`html.escape`, so a
document containing ``<script>`` shows as text and never runs. The page loads nothing from the network.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import polars as pl

from curate.catalog import Catalog
from reports import plots
from reports.queries import run

SIGNALS = {
    "fineweb_line_punct_frac": (0.12, "min"), "fineweb_short_line_frac": (0.67, "max"),
    "gopher_dup_5gram_char_frac": (0.15, "max"), "gopher_mean_word_length": (3.0, "min"),
}
STYLE = """body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}h2{margin-top:32px;border-bottom:1px solid #ccc}.grid{display:flex;flex-wrap:wrap;gap:8px}
.warn{color:#a33}svg{max-width:100%;height:auto}"""


def table(frame: pl.DataFrame, max_rows: int = 30, max_chars: int = 160) -> str:
    """An HTML table of a frame; every header and cell escaped."""
    if frame.height == 0:
        return "<p><em>no rows</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.head(max_rows).iter_rows():
        cells = []
        for v in row:
            text = "" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
            cells.append(f"<td>{html.escape(text[:max_chars])}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _section(title: str, *parts: str) -> str:
    return f"<h2>{html.escape(title)}</h2>" + "".join(parts)


def _funnel(cat: Catalog) -> str:
    funnel = run(cat, "funnel")
    chart = plots.bars(funnel["stage"].to_list(), funnel["kept"].to_list(), "documents kept after each stage") if funnel.height else ""
    return _section("Funnel", chart, table(funnel))


def _languages_topics(cat: Catalog) -> str:
    langs = run(cat, "languages")
    topics = run(cat, "topics")
    parts = []
    if langs.height:
        top = langs.head(20)
        parts.append(plots.bars(top["lang"].to_list(), top["docs"].to_list(), "documents per language"))
    if topics.height:
        parts.append(plots.bars([f"{t}: {str(terms)[:40]}" for t, terms in topics.select("topic_id", "terms").iter_rows()],
                                topics["docs"].to_list(), "documents per topic"))
    return _section("Languages and topics", *parts, table(topics))


def _signals(cat: Catalog) -> str:
    cols = set(cat.query("SELECT * FROM quality_rules LIMIT 0").columns)
    frame = cat.query("SELECT * FROM quality_rules") if cols else pl.DataFrame()
    hists = [plots.histogram(frame[c].cast(pl.Float64).to_numpy(), t, c, b) for c, (t, b) in SIGNALS.items() if c in frame.columns and frame.height]
    return _section("Quality signals and thresholds", f"<div class='grid'>{''.join(hists)}</div>", table(run(cat, "quality")))


def _mixtures(cat: Catalog) -> str:
    comp = cat.query("SELECT mixture_id, group_key, n_tokens FROM mixture_composition ORDER BY 1, 2")
    chart = ""
    if comp.height:
        wide = comp.pivot(on="group_key", index="mixture_id", values="n_tokens").fill_null(0).sort("mixture_id")
        groups = [c for c in wide.columns if c != "mixture_id"]
        shares = wide.select(groups).to_numpy().astype(float)
        shares = shares / shares.sum(axis=1, keepdims=True)
        chart = plots.stacked(wide["mixture_id"].to_list(), groups, shares, "mixture composition")
    return _section("Mixtures", chart, table(run(cat, "mixtures")), table(run(cat, "contamination")))


def _training(cat: Catalog) -> str:
    curve = cat.query("SELECT train_id, tokens, train_loss FROM train_curve ORDER BY train_id, step")
    chart = plots.curves(curve, "training curves") if curve.height else ""
    return _section("Training", chart, table(run(cat, "training")))


def _generalization(cat: Catalog) -> str:
    rows = run(cat, "diversity_vs_generalization")
    charts = []
    if rows.height:
        per_mix = rows.group_by("mixture_id").agg(pl.all().exclude("train_id", "seed", "preset", "sweep_id").mean(),
                                                 pl.col("ood_bpb").std().alias("ood_sd"), pl.len().alias("seeds"))
        for metric in ("topic_entropy", "vendi", "distinct_2", "compression_ratio"):
            sub = per_mix.drop_nulls([metric, "ood_bpb"])
            if sub.height:
                charts.append(plots.scatter_errorbars(sub[metric].to_numpy(), sub["ood_bpb"].to_numpy(), sub["ood_sd"].fill_null(0).to_numpy(),
                                                      metric, "OOD bits/byte", f"{metric} vs OOD bpb (±1 sd over seeds)"))
    corr = cat.query("SELECT * EXCLUDE (computed_at) FROM correlations ORDER BY target, p_perm NULLS LAST")
    n = f"<p>{corr['n_mixtures'].max() or 0} mixtures × {corr['n_seeds'].max() or 0} seeds per mixture.</p>" if corr.height else ""
    return _section("Diversity vs generalization", f"<div class='grid'>{''.join(charts)}</div>", n, table(corr, 40), table(rows, 40))


def write_report(run_dir: Path, out: Path) -> Path:
    """Write the report page; returns its path."""
    with Catalog(run_dir, read_only=True) as cat:
        body = "".join([
            _funnel(cat), _languages_topics(cat),
            _section("Largest duplicate clusters", table(run(cat, "dup_clusters", limit=15))),
            _signals(cat), _mixtures(cat), _training(cat), _generalization(cat),
        ])
        title = f"mixlab report: {cat.run_dir}"
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
