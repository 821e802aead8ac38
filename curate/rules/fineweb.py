"""FineWeb quality rules (Penedo et al. 2024, "The FineWeb Datasets", Section 3.3; datatrove's
FineWebQualityFilter), with their published thresholds. Lines are the non-blank, stripped lines.

- ``fineweb_line_punct_frac``: lines ending in . ' " ! ?; kept >= 0.12;
- ``fineweb_short_line_frac``: lines of at most 30 characters; kept <= 0.67;
- ``fineweb_dup_line_char_frac``: characters of lines repeating an earlier line, over the document's
  characters without newlines; kept <= 0.1 (the paper's value; datatrove's default is 0.01);
- ``fineweb_newline_word_ratio``: newlines per word, a list-like document has many; kept <= 0.3.
"""

from __future__ import annotations

import polars as pl

from curate.rules import Rule, per_doc

STOP_CHARS = (".", "'", '"', "!", "?")
SHORT_LINE_CHARS = 30

RULES = (
    Rule("fineweb_line_punct_frac", "min", 0.12),
    Rule("fineweb_short_line_frac", "max", 0.67),
    Rule("fineweb_dup_line_char_frac", "max", 0.1),
    Rule("fineweb_newline_word_ratio", "max", 0.3),
)
SIGNALS = tuple(r.signal for r in RULES)


def signals(texts: pl.Series, lines: pl.DataFrame, n_words: pl.Series) -> pl.DataFrame:
    """FineWeb signals for a batch, vectorized (``lines`` from :func:`curate.rules.line_table`)."""
    punct = pl.col("line").str.ends_with(STOP_CHARS[0])
    for mark in STOP_CHARS[1:]:
        punct = punct | pl.col("line").str.ends_with(mark)
    dup = ~pl.col("line").is_first_distinct().over("doc")
    stats = per_doc(texts.len(), lines, [
        pl.len().alias("n"), punct.sum().alias("punct"),
        (pl.col("line").str.len_chars() <= SHORT_LINE_CHARS).sum().alias("short"),
        pl.col("line").str.len_chars().filter(dup).sum().alias("dup_chars"),
    ])
    n = stats["n"].clip(1, None)
    newlines = texts.str.count_matches("\n", literal=True).cast(pl.Float64)
    chars = texts.str.len_chars().cast(pl.Float64) - newlines
    return pl.DataFrame({
        "fineweb_line_punct_frac": stats["punct"] / n,
        "fineweb_short_line_frac": stats["short"] / n,
        "fineweb_dup_line_char_frac": stats["dup_chars"] / chars.clip(1, None),
        "fineweb_newline_word_ratio": newlines / n_words.cast(pl.Float64).clip(1, None),
    })
