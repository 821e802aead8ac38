"""Plots as inline SVG strings (matplotlib, Agg backend): no files, no network needed to view them.

matplotlib's SVG writer XML-escapes every text it draws, so labels taken from documents (topic terms,
sources) cannot inject markup, and ``text.parse_math`` is off, so a ``$`` in a label is a dollar sign, never
math text (a source named ``math $x_$ name`` once stopped the report in the math parser); ``svg.hashsalt`` is
fixed so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import polars as pl

STYLE = {"font.size": 9, "svg.fonttype": "none", "figure.dpi": 96, "svg.hashsalt": "mixlab", "text.parse_math": False,
         "axes.spines.top": False, "axes.spines.right": False}
BLUE, LIGHT, RED = "#4c78a8", "#9ecae9", "#e45756"


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    return plt.subplots(1, ncols, figsize=(width, height))


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with warnings.catch_warnings():  # text stays text in the SVG (the browser's fonts draw it); only layout metrics miss glyphs
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.tight_layout()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    if "<metadata>" in text:
        text = text[: text.index("<metadata>")] + text[text.index("</metadata>") + len("</metadata>"):]
    return f"<figure class='plot'>{text}</figure>"


def bars(labels: list[str], values: list[float], title: str, xlabel: str = "") -> str:
    """Horizontal bars, first label on top."""
    fig, ax = _figure(7, max(2.0, 0.28 * len(labels) + 1))
    ax.barh(range(len(labels)), values, color=BLUE)
    ax.set_yticks(range(len(labels)), [str(v)[:60] for v in labels])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _svg(fig)


def histogram(values: np.ndarray, threshold: float | None, title: str, label: str = "threshold") -> str:
    """Distribution of one signal with its threshold as a dashed line."""
    fig, ax = _figure(3.4, 2.4)
    ax.hist(values[~np.isnan(values)], bins=30, color="#72b7b2")
    if threshold is not None:
        ax.axvline(threshold, color=RED, linestyle="--", label=f"{label} {threshold:g}")
        ax.legend(fontsize=7)
    ax.set_title(title, fontsize=8)
    ax.set_ylabel("documents", fontsize=7)
    return _svg(fig)


def stacked(mixtures: list[str], groups: list[str], shares: np.ndarray, title: str) -> str:
    """One horizontal bar per mixture, split into its groups' token shares."""
    import matplotlib.pyplot as plt

    fig, ax = _figure(7, max(2.0, 0.35 * len(mixtures) + 1.6))
    left = np.zeros(len(mixtures))
    cmap = plt.get_cmap("tab20")
    for j, group in enumerate(groups):
        ax.barh(range(len(mixtures)), shares[:, j], left=left, color=cmap(j % 20), label=str(group)[:30])
        left += shares[:, j]
    ax.set_yticks(range(len(mixtures)), mixtures)
    ax.invert_yaxis()
    ax.set_xlabel("share of tokens")
    ax.set_title(title)
    if len(groups) <= 20:
        ax.legend(fontsize=6, ncol=min(len(groups), 8), loc="upper center", bbox_to_anchor=(0.5, -0.3))
    return _svg(fig)


def curves(frame: pl.DataFrame, title: str) -> str:
    """Train loss against tokens: one line per run, one colour per mixture (its seeds share it)."""
    import matplotlib.pyplot as plt

    fig, ax = _figure(7, 3.2)
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(frame["mixture_id"].unique(maintain_order=True))}
    for (train_id, mixture_id), run in frame.group_by("train_id", "mixture_id", maintain_order=True):
        first = train_id == frame.filter(pl.col("mixture_id") == mixture_id)["train_id"][0]
        ax.plot(run["tokens"], run["train_loss"], linewidth=1, color=colours[mixture_id], label=str(mixture_id)[:32] if first else None)
    ax.set_xlabel("tokens")
    ax.set_ylabel("train loss (nats/token)")
    ax.set_title(title)
    if len(colours) <= 10:
        ax.legend(fontsize=6)
    return _svg(fig)


def scatter_errorbars(per_mixture: pl.DataFrame, per_seed: pl.DataFrame, metric: str, ylabel: str, title: str) -> str:
    """Seed means ± 1 sd over seeds per mixture (error bars), with every seed as a faint dot."""
    fig, ax = _figure(3.6, 2.9)
    ax.scatter(per_seed[metric], per_seed["value"], s=8, color=LIGHT, zorder=1, label="one seed")
    ax.errorbar(per_mixture[metric], per_mixture["y"], yerr=per_mixture["sd"].fill_null(0.0).fill_nan(0.0), fmt="o",
                color=BLUE, ecolor=BLUE, capsize=3, zorder=2, label="mixture mean ± sd")
    ax.set_xlabel(metric)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6)
    return _svg(fig)


def membership(rows: list[str], groups: list[str], held: np.ndarray, title: str) -> str:
    """The design: one labelled row per mixture, a filled cell per group it holds."""
    fig, ax = _figure(min(9.0, 3.0 + 0.45 * len(groups)), max(2.0, 0.24 * len(rows) + 1.4))
    ax.imshow(held, aspect="auto", cmap="Blues", vmin=0, vmax=1.4, interpolation="nearest")
    ax.set_xticks(range(len(groups)), [str(g)[:18] for g in groups], rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), [str(r)[:32] for r in rows], fontsize=6)
    ax.set_title(title, fontsize=8)
    return _svg(fig)


def effect_panels(panels: list[tuple[str, pl.DataFrame, float | None, float | None]], xlabel: str, ylabel: str) -> str:
    """Side by side, per arm: each mixture's outcome against the factor, and the fitted line (slope, intercept); one
    y scale for all panels, so a control's slope is seen at the study's scale."""
    fig, axes = _figure(3.4 * len(panels), 2.9, len(panels))
    axes = np.atleast_1d(axes)
    values = np.concatenate([frame["outcome"].to_numpy() for _, frame, _, _ in panels]) if panels else np.zeros(1)
    pad = 0.08 * (np.ptp(values) or 1.0)
    for ax, (title, frame, slope, intercept) in zip(axes, panels, strict=True):
        ax.scatter(frame["factor_value"], frame["outcome"], s=14, color=BLUE, zorder=2)
        if slope is not None and intercept is not None and frame.height:
            xs = np.array([frame["factor_value"].min(), frame["factor_value"].max()])
            ax.plot(xs, intercept + slope * xs, color=RED, linewidth=1.2)
        ax.axhline(0, color="#999", linewidth=0.6, linestyle=":")
        ax.set_ylim(values.min() - pad, values.max() + pad)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=8)
    return _svg(fig)


def trajectories(frame: pl.DataFrame, title: str, ylabel: str, level: Any = str) -> str:
    """Each mixture's outcome at each evaluated checkpoint (colour: factor level, named by ``level``): rank crossovers
    show as crossings."""
    import matplotlib.pyplot as plt

    fig, ax = _figure(7, 3.0)
    levels = sorted(frame["factor_value"].unique().to_list())
    cmap = plt.get_cmap("viridis")
    for (_mixture, value), part in frame.sort("step_frac").group_by("mixture_id", "factor_value", maintain_order=True):
        ax.plot(part["step_frac"], part["outcome"], marker="o", markersize=2.5, linewidth=0.9,
                color=cmap(levels.index(value) / max(1, len(levels) - 1)))
    for value in levels:
        ax.plot([], [], color=cmap(levels.index(value) / max(1, len(levels) - 1)), label=level(value))
    ax.set_xlabel("share of training")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=6)
    return _svg(fig)


def predicted_vs_actual(points: pl.DataFrame, title: str) -> str:
    """Predicted against actual target per mixture (columns role, predicted, actual), one marker per role, and
    the diagonal: points on it were predicted exactly; proxies are out-of-fold, held-out ones never fitted."""
    fig, ax = _figure(3.8, 3.4)
    styles = {"proxy": (LIGHT, "o", 14), "heldout": (BLUE, "o", 22), "uniform": ("#72b7b2", "s", 40), "natural": ("#b279a2", "D", 36),
              "best_proxy": ("#f58518", "^", 44), "chosen": (RED, "*", 90)}
    for role, (colour, marker, size) in styles.items():
        part = points.filter(pl.col("role") == role).drop_nulls(["predicted", "actual"])
        if part.height:
            ax.scatter(part["predicted"], part["actual"], s=size, color=colour, marker=marker, label=role.replace("_", " "), zorder=2)
    values = points.drop_nulls(["predicted", "actual"]).select("predicted", "actual").to_numpy()
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        ax.plot([lo, hi], [lo, hi], color="#999", linewidth=0.7, linestyle=":", zorder=1)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6)
    return _svg(fig)


def grouped_bars(arms: list[str], groups: list[str], shares: np.ndarray, title: str) -> str:
    """Side-by-side bars: each group's share (x) in each arm (colour), e.g. the chosen mixture beside the baselines."""
    fig, ax = _figure(min(9.0, 2.5 + 0.7 * len(groups)), 2.8)
    width = 0.8 / max(1, len(arms))
    colours = [RED, "#72b7b2", "#b279a2", "#f58518", BLUE]
    for i, arm in enumerate(arms):
        ax.bar(np.arange(len(groups)) + (i - (len(arms) - 1) / 2) * width, shares[i], width, color=colours[i % len(colours)],
               label=arm.replace("_", " "))
    ax.set_xticks(range(len(groups)), [str(g)[:18] for g in groups], rotation=30, ha="right")
    ax.set_ylabel("share of tokens")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6)
    return _svg(fig)
