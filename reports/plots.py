"""Plots as inline SVG strings (matplotlib, Agg backend): no files, no network needed to view them."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

plt.rcParams.update({"font.size": 9, "svg.fonttype": "none", "figure.dpi": 96})


def _svg(fig) -> str:  # noqa: ANN001
    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    if "<metadata>" in text:
        text = text[: text.index("<metadata>")] + text[text.index("</metadata>") + len("</metadata>"):]
    return text


def bars(labels: list[str], values: list[float], title: str, xlabel: str = "", horizontal: bool = True) -> str:
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.28 * len(labels) + 1)) if horizontal else (7, 3))
    if horizontal:
        ax.barh(range(len(labels)), values, color="#4c78a8")
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
    else:
        ax.bar(range(len(labels)), values, color="#4c78a8")
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_title(title)
    return _svg(fig)


def histogram(values: np.ndarray, threshold: float | None, title: str, bound: str = "") -> str:
    fig, ax = plt.subplots(figsize=(3.4, 2.4))
    ax.hist(values[~np.isnan(values)], bins=30, color="#72b7b2")
    if threshold is not None:
        ax.axvline(threshold, color="#e45756", linestyle="--", label=f"{bound} {threshold:g}")
        ax.legend(fontsize=7)
    ax.set_title(title, fontsize=8)
    return _svg(fig)


def stacked(mixtures: list[str], groups: list[str], shares: np.ndarray, title: str) -> str:
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.35 * len(mixtures) + 1.2)))
    left = np.zeros(len(mixtures))
    cmap = plt.get_cmap("tab20")
    for j, group in enumerate(groups):
        ax.barh(range(len(mixtures)), shares[:, j], left=left, color=cmap(j % 20), label=group)
        left += shares[:, j]
    ax.set_yticks(range(len(mixtures)), mixtures)
    ax.invert_yaxis()
    ax.set_xlabel("share of tokens")
    ax.set_title(title)
    if len(groups) <= 20:
        ax.legend(fontsize=6, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    return _svg(fig)


def curves(frame: pl.DataFrame, title: str) -> str:
    fig, ax = plt.subplots(figsize=(7, 3))
    for (train_id,), run in frame.group_by("train_id", maintain_order=True):
        ax.plot(run["tokens"], run["train_loss"], linewidth=1, label=str(train_id)[:40])
    ax.set_xlabel("tokens")
    ax.set_ylabel("train loss (nats/token)")
    ax.set_title(title)
    if frame["train_id"].n_unique() <= 8:
        ax.legend(fontsize=6)
    return _svg(fig)


def scatter_errorbars(x: np.ndarray, y: np.ndarray, yerr: np.ndarray, xlabel: str, ylabel: str, title: str) -> str:
    fig, ax = plt.subplots(figsize=(3.6, 2.8))
    ax.errorbar(x, y, yerr=np.nan_to_num(yerr), fmt="o", color="#4c78a8", ecolor="#9ecae9", capsize=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=8)
    return _svg(fig)
