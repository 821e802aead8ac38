"""C4 rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
Transformer", Section 2.2; datatrove's C4QualityFilter), as document-level signals.

C4 keeps only lines that end in terminal punctuation (. ! ? " ', not an ellipsis), have at least 3
words, and mention neither "javascript" nor a policy/cookie notice; it then drops pages with fewer than
5 sentences, pages containing "lorem ipsum", and pages containing a curly bracket. mixlab never rewrites
text, so the line rules become signals (fractions of non-blank lines) and feed ``c4_kept_sentences``,
the sentences (runs of . ! ? followed by a space or the line end) in the lines C4 would keep.

Rules: ``c4_kept_sentences`` >= 5, ``c4_lorem_ipsum`` = 0, ``c4_curly_bracket`` = 0 (0/1 signals).
Not implemented: the "bad words" list (a third-party word list) and the 1,000-character word rule.
"""

from __future__ import annotations

import polars as pl

from curate.rules import Rule, per_doc
from curate.text import WORD_PATTERN

TERMINAL = (".", "!", "?", '"', "'")
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
SENTENCE = r"[.!?]+[\"']*(?:\s|$)"

RULES = (
    Rule("c4_kept_sentences", "min", 5),
    Rule("c4_lorem_ipsum", "max", 0),
    Rule("c4_curly_bracket", "max", 0),
)
SIGNALS = ("c4_terminal_line_frac", "c4_short_line_frac", "c4_javascript_line_frac", "c4_policy_line_frac",
           "c4_kept_sentences", "c4_lorem_ipsum", "c4_curly_bracket")


def signals(texts: pl.Series, lines: pl.DataFrame) -> pl.DataFrame:
    """C4 signals for a batch, vectorized (``lines`` from :func:`curate.rules.line_table`)."""
    lower = pl.col("line").str.to_lowercase()
    terminal = pl.col("line").str.ends_with(TERMINAL[0])
    for mark in TERMINAL[1:]:
        terminal = terminal | pl.col("line").str.ends_with(mark)
    terminal = terminal & ~pl.col("line").str.ends_with("...")
    short = pl.col("line").str.count_matches(WORD_PATTERN) < 3
    javascript = lower.str.contains("javascript", literal=True)
    policy = lower.str.contains_any(list(POLICY))
    kept = terminal & ~short & ~javascript & ~policy
    stats = per_doc(texts.len(), lines, [
        pl.len().alias("n"), terminal.sum().alias("terminal"), short.sum().alias("short"),
        javascript.sum().alias("js"), policy.sum().alias("policy"),
        pl.col("line").filter(kept).str.count_matches(SENTENCE).sum().alias("sentences"),
    ])
    n = stats["n"].clip(1, None)
    low = texts.str.to_lowercase()
    return pl.DataFrame({
        "c4_terminal_line_frac": stats["terminal"] / n,
        "c4_short_line_frac": stats["short"] / n,
        "c4_javascript_line_frac": stats["js"] / n,
        "c4_policy_line_frac": stats["policy"] / n,
        "c4_kept_sentences": stats["sentences"],
        "c4_lorem_ipsum": low.str.contains("lorem ipsum", literal=True).cast(pl.Float64),
        "c4_curly_bracket": texts.str.contains(r"[{}]").cast(pl.Float64),
    })
