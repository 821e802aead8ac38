"""Gopher quality and repetition rules (Rae et al. 2021, "Scaling Language Models: Methods, Analysis &
Insights from Training Gopher", Appendix A.1.1, Table A1), with their published thresholds.

Quality: 50 <= words <= 100,000; mean word length in [3, 10]; symbol ('#' and '...') to word ratio
<= 0.1; <= 90% of lines start with a bullet; <= 30% of lines end with an ellipsis; >= 80% of words
contain an alphabetic character; >= 2 of the English stop words {the, be, to, of, and, that, have, with}
(language-specific: applied to documents whose detected language is English; null otherwise).
Repetition: duplicate lines <= 30% of lines and <= 20% of characters; duplicate paragraphs <= 30% and
<= 20% of characters; the most frequent 2/3/4-gram covers <= 20/18/16% of characters; characters
inside duplicated 5..10-grams <= 15/14/13/12/11/10%.
"""

from __future__ import annotations

import re

import numpy as np

import polars as pl

from curate.rules import Rule
from curate.text import WORD_PATTERN, gram_keys

STOP_WORDS = {"en": frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})}
BULLETS = ("•", "●", "○", "■", "□", "▪", "▫", "*", "-", "–", "‣", "⁃")
BULLET_PREFIX = r"^[•●○■□▪▫*\-–‣⁃]"
_ALPHA = re.compile(r"[^\W\d_]")

QUALITY_RULES = (
    Rule("gopher_word_count_min", "gopher_n_words", "min", 50),
    Rule("gopher_word_count_max", "gopher_n_words", "max", 100_000),
    Rule("gopher_mean_word_length_min", "gopher_mean_word_length", "min", 3),
    Rule("gopher_mean_word_length_max", "gopher_mean_word_length", "max", 10),
    Rule("gopher_symbol_word_ratio", "gopher_symbol_word_ratio", "max", 0.1),
    Rule("gopher_bullet_lines", "gopher_bullet_line_frac", "max", 0.9),
    Rule("gopher_ellipsis_lines", "gopher_ellipsis_line_frac", "max", 0.3),
    Rule("gopher_alpha_words", "gopher_alpha_word_frac", "min", 0.8),
    Rule("gopher_stop_words", "gopher_stop_words", "min", 2),
)
REPETITION_RULES = (
    Rule("gopher_dup_line_frac", "gopher_dup_line_frac", "max", 0.3),
    Rule("gopher_dup_para_frac", "gopher_dup_para_frac", "max", 0.3),
    Rule("gopher_dup_line_char_frac", "gopher_dup_line_char_frac", "max", 0.2),
    Rule("gopher_dup_para_char_frac", "gopher_dup_para_char_frac", "max", 0.2),
    *(Rule(f"gopher_top_{n}gram_char_frac", f"gopher_top_{n}gram_char_frac", "max", t) for n, t in ((2, 0.2), (3, 0.18), (4, 0.16))),
    *(Rule(f"gopher_dup_{n}gram_char_frac", f"gopher_dup_{n}gram_char_frac", "max", t)
      for n, t in ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))),
)


def word_frame(texts: pl.Series) -> pl.DataFrame:
    """Per document: its words (the shared definition), their lengths and 64-bit hashes, vectorized."""
    frame = pl.DataFrame({"words": texts.str.extract_all(WORD_PATTERN)})
    return frame.with_columns(
        pl.col("words").list.eval(pl.element().str.len_chars()).alias("lens"),
        pl.col("words").list.eval(pl.element().hash(seed=0)).alias("hashes"),
    )


def quality_frame(texts: pl.Series, words: pl.DataFrame, langs: list[str | None]) -> pl.DataFrame:
    """Gopher quality signals for a batch (vectorized with polars)."""
    lines = texts.str.split("\n").list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
    n_lines = lines.list.len().clip(1, None)
    n = words["words"].list.len()
    lower = words["words"].list.eval(pl.element().str.to_lowercase())
    stop = pl.Series(list(STOP_WORDS["en"]))
    has_list = pl.Series([lang in STOP_WORDS for lang in langs], dtype=pl.Boolean)
    frame = pl.DataFrame({"t": texts, "lines": lines, "n_lines": n_lines, "n": n, "lens": words["lens"], "w": words["words"], "lower": lower, "has": has_list})
    safe_n = pl.col("n").clip(1, None)
    return frame.select(
        pl.col("n").cast(pl.Float64).alias("gopher_n_words"),
        (pl.col("lens").list.sum() / safe_n).fill_nan(0.0).cast(pl.Float64).alias("gopher_mean_word_length"),
        ((pl.col("t").str.count_matches("#") + pl.col("t").str.count_matches(r"\.\.\.|…")) / safe_n).cast(pl.Float64).alias("gopher_symbol_word_ratio"),
        (pl.col("lines").list.eval(pl.element().str.starts_with(BULLET_PREFIX)).list.sum() / pl.col("n_lines")).cast(pl.Float64).alias("gopher_bullet_line_frac"),
        (pl.col("lines").list.eval(pl.element().str.contains(r"(\.\.\.|…)$")).list.sum() / pl.col("n_lines")).cast(pl.Float64).alias("gopher_ellipsis_line_frac"),
        (pl.col("w").list.eval(pl.element().str.contains(r"[^\W\d_]")).list.sum() / safe_n).cast(pl.Float64).alias("gopher_alpha_word_frac"),
        pl.when(pl.col("has")).then(pl.col("lower").list.set_intersection(stop.implode()).list.len()).otherwise(None).cast(pl.Float64).alias("gopher_stop_words"),
    )


def _dup_fracs(items: list[str]) -> tuple[float, float]:
    """(fraction of items that repeat an earlier one, fraction of characters in those repeats)."""
    if not items:
        return 0.0, 0.0
    seen: set[str] = set()
    dup = dup_chars = 0
    for item in items:
        if item in seen:
            dup += 1
            dup_chars += len(item)
        seen.add(item)
    total_chars = sum(map(len, items))
    return dup / len(items), dup_chars / total_chars if total_chars else 0.0


def _top_ngram_char_frac(ids: np.ndarray, lens: np.ndarray, n: int, total: int) -> float:
    """Characters covered by the most frequent n-gram (count x its length) over all word characters."""
    if len(ids) < n or not total:
        return 0.0
    keys = gram_keys(ids, n)
    uniq, first, counts = np.unique(keys, return_index=True, return_counts=True)
    best = int(np.argmax(counts))
    if counts[best] < 2:
        return 0.0
    return float(counts[best] * lens[first[best] : first[best] + n].sum() / total)


def _dup_ngram_char_frac(ids: np.ndarray, lens: np.ndarray, n: int, total: int) -> float:
    """Characters of words covered by n-grams occurring more than once (each word counted once)."""
    if len(ids) < n or not total:
        return 0.0
    keys = gram_keys(ids, n)
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    starts = np.nonzero(counts[inverse] > 1)[0]
    covered = np.zeros(len(ids), dtype=bool)
    for j in range(n):
        covered[starts + j] = True
    return float(lens[covered].sum() / total)


def repetition_signals(text: str, ids: np.ndarray, lens: np.ndarray) -> dict[str, float | None]:
    """Gopher repetition signals of one document, given its word hashes and lengths."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    total = int(lens.sum())
    line_frac, line_chars = _dup_fracs(lines)
    para_frac, para_chars = _dup_fracs(paras)
    out: dict[str, float | None] = {
        "gopher_dup_line_frac": line_frac, "gopher_dup_line_char_frac": line_chars,
        "gopher_dup_para_frac": para_frac, "gopher_dup_para_char_frac": para_chars,
    }
    for n in (2, 3, 4):
        out[f"gopher_top_{n}gram_char_frac"] = _top_ngram_char_frac(ids, lens, n, total)
    for n in range(5, 11):
        out[f"gopher_dup_{n}gram_char_frac"] = _dup_ngram_char_frac(ids, lens, n, total)
    return out
