"""One self-contained HTML page for a run: plots inline as SVG, every piece of text HTML-escaped.

Documents are untrusted input: every value taken from the catalog goes through :func:`html.escape`
(tables) or matplotlib's XML escaping (plot labels), so a document containing ``<script>`` shows as
text and never runs. The page loads nothing: no scripts, no stylesheets, no fonts, no images by URL.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import polars as pl

from curate.core.catalog import Catalog
from reports import plots
from reports.analysis import per_mixture
from reports.headline import headline
from reports.queries import open_run, run
from reports.search_html import search_section
from reports.study_html import study_section
from sql.quote import sql_ident

MAX_HISTOGRAMS = 8
MAX_SCATTERS = 8
STYLE = """body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}h2{margin-top:36px;border-bottom:1px solid #ccc}.grid{display:flex;flex-wrap:wrap;gap:8px}
figure.plot{margin:4px}.warn{color:#a33}.muted{color:#777}nav a{margin-right:12px}svg{max-width:100%;height:auto}
.scroll{overflow-x:auto}.headline{font-size:17px;background:#f6f8fa;border-left:4px solid #369;padding:10px 14px}"""
SECTIONS = {"study": "Study", "search": "Mixture search", "funnel": "Funnel", "corpus": "Languages and topics", "dups": "Largest duplicate clusters",
            "signals": "Quality signals and thresholds", "mixtures": "Mixtures", "training": "Training",
            "generalization": "Diversity vs generalization"}


def cell(value: object, max_chars: int = 160) -> str:
    """One escaped table cell: floats to 4 significant digits, long text cut (then escaped)."""
    text = "" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
    return f"<td>{html.escape(text[:max_chars] + ('…' if len(text) > max_chars else ''))}</td>"


def table(frame: pl.DataFrame, max_rows: int = 30, max_chars: int = 160) -> str:
    """An HTML table of a frame; every header and cell escaped."""
    if frame.height == 0:
        return "<p class='muted'><em>no rows</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(cell(v, max_chars) for v in row) + "</tr>" for row in frame.head(max_rows).iter_rows())
    more = f"<p class='muted'>{frame.height - max_rows} more rows</p>" if frame.height > max_rows else ""
    return f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>{more}"


def _section(key: str, *parts: str) -> str:
    return f"<section id='{key}'><h2>{html.escape(SECTIONS[key])}</h2>{''.join(parts)}</section>"


def _grid(parts: list[str]) -> str:
    return f"<div class='grid'>{''.join(parts)}</div>" if parts else ""


def _funnel(cat: Catalog) -> str:
    funnel = run(cat, "funnel")
    chart = plots.bars(funnel["stage"].to_list(), funnel["kept"].to_list(), "documents kept after each stage") if funnel.height else ""
    return _section("funnel", chart, table(funnel))


def _corpus(cat: Catalog) -> str:
    langs, topics = run(cat, "languages"), run(cat, "topics")
    parts = []
    if langs.height:
        top = langs.head(20)
        parts.append(plots.bars([f"{lang} ({script})" for lang, script in top.select("lang", "script").iter_rows()],
                                top["docs"].to_list(), "documents per language"))
    if topics.height:
        labels = [f"{t}: {str(terms or '')[:48]}" for t, terms in topics.select("topic_id", "terms").iter_rows()]
        parts.append(plots.bars(labels, topics["docs"].to_list(), "documents per topic"))
    return _section("corpus", _grid(parts), table(langs, 20), table(topics))


def _threshold(cat: Catalog, stage: str, key: str) -> float | None:
    rows = cat.ask("html/stage_params", stage=stage)["params"]
    value = json.loads(rows[0]).get(key) if len(rows) and rows[0] else None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _column(cat: Catalog, view: str, column: str) -> np.ndarray:
    if column not in cat.ask("shared/columns", splices={"view": sql_ident(view)}).columns:
        return np.array([])
    values = cat.ask("html/column_values", splices={"view": sql_ident(view), "column": sql_ident(column)})
    return values["v"].drop_nulls().to_numpy()


def _signals(cat: Catalog) -> str:
    quality = run(cat, "quality")
    hists = []
    for rule, signal, threshold in quality.select("rule", "signal", "threshold").head(MAX_HISTOGRAMS).iter_rows():
        values = _column(cat, "quality_rules", signal)
        if values.size:
            bound = "min" if rule.endswith("_min") else "max" if rule.endswith("_max") else "threshold"
            hists.append(plots.histogram(values, threshold, f"{rule}", bound))
    for view, column, key in (("langid", "lang_score", "min_score"), ("quality_model", "quality_score", "min_score")):
        values = _column(cat, view, column)
        if values.size:
            hists.append(plots.histogram(values, _threshold(cat, view, key), f"{view}: {column}", "min"))
    note = "<p class='muted'>Rules ordered by how many documents fail them; dashed line: the threshold the run used.</p>"
    return _section("signals", note if hists else "", _grid(hists), table(quality.drop("below_example", "above_example", strict=False)))


def _mixtures(cat: Catalog) -> str:
    comp = cat.ask("html/composition")
    chart = ""
    if comp.height:
        wide = comp.pivot(on="group_key", index="mixture_id", values="n_tokens").fill_null(0).sort("mixture_id")
        groups = sorted(c for c in wide.columns if c != "mixture_id")
        shares = wide.select(groups).to_numpy().astype(float)
        shares = shares / np.maximum(shares.sum(axis=1, keepdims=True), 1)
        chart = plots.stacked(wide["mixture_id"].to_list(), groups, shares, "mixture composition (share of tokens per group)")
    contamination = run(cat, "contamination")
    status = (f"<p class='warn'>{contamination.height} contaminated mixture rows</p>" if contamination.height
              else "<p>No mixture contains an eval document or a duplicate of one.</p>")
    return _section("mixtures", chart, table(run(cat, "mixtures")), status, table(contamination) if contamination.height else "")


def _training(cat: Catalog) -> str:
    curve = run(cat, "training_curve").drop_nulls("train_loss")
    chart = plots.curves(curve, "training curves (colour: mixture)") if curve.height else ""
    return _section("training", chart, table(run(cat, "training"), 60))


def _num(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _scatters(cat: Catalog, corr: pl.DataFrame) -> list[str]:
    """Per tested metric (of the first target): mixture means ± seed sd, with the statistics in the title."""
    if corr.height == 0:
        return []
    target = corr["target"][0]
    rows = corr.filter((pl.col("target") == target) & (pl.col("preset") == corr["preset"][0])).drop_nulls("rho").head(MAX_SCATTERS)
    metrics = tuple(rows["metric"].to_list())
    preset = corr["preset"][0]
    table_ = per_mixture(cat, target, metrics, (), preset)
    eval_set, _, name = target.rpartition("/")
    seeds = run(cat, "eval_results", eval_set=eval_set, metric=name, preset=preset)
    charts = []
    for metric, rho, lo, hi, p_holm in rows.select("metric", "rho", "rho_ci_low", "rho_ci_high", "p_holm").iter_rows():
        if metric not in table_.columns:
            continue
        per_seed = seeds.join(table_.select("mixture_id", metric), on="mixture_id").drop_nulls([metric, "value"])
        title = f"{metric} vs {target}\nρ = {_num(rho, '.2f')} [{_num(lo, '.2f')}, {_num(hi, '.2f')}], p_holm = {_num(p_holm, '.2g')}"
        charts.append(plots.scatter_errorbars(table_.drop_nulls([metric, "y"]), per_seed, metric, target, title))
    return charts


def _generalization(cat: Catalog) -> str:
    corr = cat.ask("html/correlations")
    if corr.height == 0:
        intro = "<p class='muted'>No correlations stored: run <code>reports correlate RUN</code> after training.</p>"
        return _section("generalization", intro, table(run(cat, "diversity_vs_generalization"), 40))
    intro = (f"<p>{corr['n_mixtures'].max()} mixtures, at least {corr['n_seeds'].min()} seeds each. Statistics are over mixtures"
             " (seed means); error bars are ±1 sd over seeds. p: two-sided permutation p of Spearman ρ; p_holm: Holm-adjusted"
             " across the metrics of a target; partial ρ controls for the named confound; loo: rank agreement of"
             " leave-one-mixture-out predictions.</p>")
    grouped = corr.drop_nulls("warning").group_by("warning").agg(pl.concat_str("metric", pl.lit(" × "), "target")).sort("warning")
    warn = "".join(f"<li class='warn'>{html.escape(w)} <span class='muted'>({html.escape(', '.join(pairs))})</span></li>"
                   for w, pairs in grouped.iter_rows())
    warn = f"<ul>{warn}</ul>" if warn else ""
    shown = corr.select("preset", "metric", "target", "n_mixtures", "n_seeds", "rho", "rho_ci_low", "rho_ci_high", "tau", "r", "p_perm",
                        "p_holm", "partial_rho", "confound", "loo_rank_agreement", "n_close_pairs")
    scale = cat.ask("html/scale_agreement")
    scale_part = ("<h3>Does the mixture ranking transfer to a larger model?</h3><p>Spearman ρ / Kendall τ between the"
                  " per-mixture seed means at the primary (small) preset and at the larger one; p: permutation p of ρ.</p>"
                  + table(scale)) if scale.height else ""
    return _section("generalization", intro, warn, _grid(_scatters(cat, corr)), table(shown, 60), scale_part,
                    "<h3>Per training run</h3>", table(run(cat, "diversity_vs_generalization"), 60))


def render(cat: Catalog) -> str:
    """The whole page for an open catalog."""
    title = f"mixlab report: {cat.run_dir.name}"
    body = "".join([study_section(cat, table), search_section(cat, table), _funnel(cat), _corpus(cat), _section("dups", table(run(cat, "dup_clusters", limit=15))),
                    _signals(cat), _mixtures(cat), _training(cat), _generalization(cat)])
    nav = "<nav>" + "".join(f"<a href='#{k}'>{html.escape(v)}</a>" for k, v in SECTIONS.items() if f"id='{k}'" in body) + "</nav>"
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head>"
            f"<body><h1>{html.escape(title)}</h1><p class='headline'>{html.escape(headline(cat))}</p>"
            f"<p class='muted'>{html.escape(str(cat.run_dir))}</p>{nav}{body}</body></html>")


def write_report(run_dir: str | Path, out: str | Path) -> Path:
    """Write the report page of a run (opened read-only); returns its path."""
    with open_run(run_dir) as cat:
        page = render(cat)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
