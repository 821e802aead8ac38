"""Published heuristic quality rule sets: each computes per-document signals; a rule is a threshold on one.

A :class:`Rule` is named after the signal it reads (``<signal>``, or ``<signal>_min`` / ``<signal>_max``
when one signal has both bounds), says whether a document must stay at or above (``min``) or at or
below (``max``) the threshold, and carries its published default. Signals are always stored, so any
threshold can be re-examined in SQL afterwards (``sql/reports/quality.sql`` relies on the naming).

Shared batch helpers live here: :func:`line_table` (one row per non-blank line, vectorized) and
:func:`per_doc` (aggregate per document, filling documents that have no line).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import polars as pl

from curate.text import lines_expr


@dataclass(frozen=True)
class Rule:
    name: str  # the drop reason is quality_rules.<name>
    bound: Literal["min", "max"]
    threshold: float

    @property
    def signal(self) -> str:
        """The signal column this rule reads: its name without a ``_min``/``_max`` suffix."""
        return self.name.removesuffix("_min").removesuffix("_max")

    def threshold_error(self, value: float) -> str | None:
        """Why ``value`` cannot be this rule's threshold (every signal is a count, length, ratio or a
        fraction, so never negative; a ``*_frac`` signal lies in [0, 1]), or None when it can."""
        fraction = self.signal.endswith("_frac")
        if not 0 <= value <= (1.0 if fraction else math.inf):
            return f"{self.name}: threshold must be {'in [0, 1]' if fraction else '>= 0'}, got {value}"
        return None

    def fails(self, value: float | None, threshold: float | None = None) -> bool:
        """True when the signal breaks the rule; a null signal (rule not applicable) never fails."""
        if value is None:
            return False
        t = self.threshold if threshold is None else threshold
        return value < t if self.bound == "min" else value > t

    def fails_expr(self, threshold: float) -> pl.Expr:
        """Vectorized :meth:`fails` (null signals never fail)."""
        col = pl.col(self.signal)
        return (col < threshold if self.bound == "min" else col > threshold).fill_null(False)


def line_table(texts: pl.Series) -> pl.DataFrame:
    """One row per non-blank line: ``doc`` (row index in the batch) and ``line`` (stripped), in order."""
    frame = pl.DataFrame({"doc": pl.int_range(texts.len(), eager=True, dtype=pl.UInt32), "line": texts})
    return (
        frame.with_columns(lines_expr(pl.col("line")))
        .explode("line")
        .with_columns(pl.col("line").str.strip_chars())
        .filter(pl.col("line").is_not_null() & (pl.col("line") != ""))
    )


def per_doc(n_docs: int, table: pl.DataFrame, aggs: list[pl.Expr], fill: float = 0.0) -> pl.DataFrame:
    """``aggs`` grouped by ``doc`` for every document 0..n_docs-1 (documents without rows get ``fill``)."""
    docs = pl.DataFrame({"doc": pl.int_range(n_docs, eager=True, dtype=pl.UInt32)})
    grouped = table.group_by("doc").agg(aggs)
    out = docs.join(grouped, on="doc", how="left", maintain_order="left").drop("doc")
    return out.with_columns(pl.all().cast(pl.Float64).fill_null(fill))


@cache
def stop_words() -> dict[str, frozenset[str]]:
    """Stop-word lists per ISO language code, from ``curate/resources/stopwords/<lang>.txt``."""
    folder = resources.files("curate") / "resources" / "stopwords"
    out = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".txt"):
            rows = [ln.strip() for ln in entry.read_text(encoding="utf-8").splitlines()]
            out[entry.name[:-4]] = frozenset(w.lower() for w in rows if w and not w.startswith("#"))
    return out
