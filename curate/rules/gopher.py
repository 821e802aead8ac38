"""Gopher quality rules (Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from
Training Gopher", Appendix A.1.1 and Table A1), with their published thresholds.

Signals (words follow :mod:`curate.text`; lines are the non-blank, stripped lines):

- ``gopher_word_count``: words; kept when 50 <= words <= 100,000;
- ``gopher_mean_word_length``: mean characters per word; kept in [3, 10];
- ``gopher_symbol_word_ratio``: ('#' + '...' / '…' occurrences) / words; kept <= 0.1;
- ``gopher_bullet_line_frac``: lines starting with a bullet (•, -, *, ...); kept <= 0.9;
- ``gopher_ellipsis_line_frac``: lines ending with '...' or '…'; kept <= 0.3;
- ``gopher_alpha_word_frac``: words containing an alphabetic character; kept >= 0.8;
- ``gopher_stop_words``: how many distinct words of the document's language's stop-word list occur;
  kept >= 2. Language-specific: the English list is Gopher's (the, be, to, of, and, that, have, with);
  other languages use comparable function-word lists in ``curate/resources/stopwords/<lang>.txt``; for a
  language without a list (or ``und``) the signal is null and the rule is not applied.
"""

from __future__ import annotations

import polars as pl

from curate.rules import Rule, per_doc, stop_words
from curate.text import WORD_PATTERN

BULLET_PREFIX = r"^[•●○■□▪▫*\-–‣⁃]"
ELLIPSIS = r"(\.\.\.|…)"

RULES = (
    Rule("gopher_word_count_min", "min", 50),
    Rule("gopher_word_count_max", "max", 100_000),
    Rule("gopher_mean_word_length_min", "min", 3),
    Rule("gopher_mean_word_length_max", "max", 10),
    Rule("gopher_symbol_word_ratio", "max", 0.1),
    Rule("gopher_bullet_line_frac", "max", 0.9),
    Rule("gopher_ellipsis_line_frac", "max", 0.3),
    Rule("gopher_alpha_word_frac", "min", 0.8),
    Rule("gopher_stop_words", "min", 2),
)
SIGNALS = tuple(dict.fromkeys(r.signal for r in RULES))


def word_table(texts: pl.Series) -> pl.DataFrame:
    """One row per word: ``doc`` (row index in the batch) and ``word``, in order."""
    frame = pl.DataFrame({"doc": pl.int_range(texts.len(), eager=True, dtype=pl.UInt32), "word": texts.str.extract_all(WORD_PATTERN)})
    return frame.explode("word").drop_nulls("word")


def stop_word_counts(words: pl.DataFrame, langs: pl.Series) -> pl.Series:
    """Distinct stop words of each document's language present in it; null where no list exists."""
    lists = stop_words()
    table = pl.DataFrame(
        [(lang, w) for lang, ws in sorted(lists.items()) for w in sorted(ws)], schema={"lang": pl.String, "word": pl.String}, orient="row"
    )
    doc_lang = pl.DataFrame({"doc": pl.int_range(langs.len(), eager=True, dtype=pl.UInt32), "lang": langs.cast(pl.String)})
    hits = (
        words.with_columns(pl.col("word").str.to_lowercase())
        .join(doc_lang, on="doc")
        .join(table, on=["lang", "word"], how="semi")
    )
    counts = per_doc(langs.len(), hits, [pl.col("word").n_unique().alias("n")])["n"]
    return pl.Series("gopher_stop_words", counts).set(~langs.is_in(list(lists)).fill_null(False), None)


def signals(texts: pl.Series, words: pl.DataFrame, lines: pl.DataFrame, langs: pl.Series) -> pl.DataFrame:
    """Gopher quality signals for a batch, vectorized (``words``/``lines`` from the shared tables)."""
    n = texts.len()
    word_stats = per_doc(n, words, [
        pl.len().alias("n"),
        pl.col("word").str.len_chars().sum().alias("chars"),
        pl.col("word").str.contains(r"[^\W\d_]").sum().alias("alpha"),
    ])
    line_stats = per_doc(n, lines, [
        pl.len().alias("lines"),
        pl.col("line").str.contains(BULLET_PREFIX).sum().alias("bullets"),
        pl.col("line").str.contains(ELLIPSIS + "$").sum().alias("ellipses"),
    ])
    symbols = texts.str.count_matches("#") + texts.str.count_matches(ELLIPSIS)
    safe_n = word_stats["n"].clip(1, None)
    safe_lines = line_stats["lines"].clip(1, None)
    return pl.DataFrame({
        "gopher_word_count": word_stats["n"],
        "gopher_mean_word_length": word_stats["chars"] / safe_n,
        "gopher_symbol_word_ratio": symbols.cast(pl.Float64) / safe_n,
        "gopher_bullet_line_frac": line_stats["bullets"] / safe_lines,
        "gopher_ellipsis_line_frac": line_stats["ellipses"] / safe_lines,
        "gopher_alpha_word_frac": word_stats["alpha"] / safe_n,
        "gopher_stop_words": stop_word_counts(words, langs).cast(pl.Float64),
    })

