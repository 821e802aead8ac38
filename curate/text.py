"""The one definition of text normalization, word splitting and n-grams.

MinHash shingles, exact-dedup keys, quality-rule signals and diversity metrics all go through these
functions, so "a word" means the same thing everywhere in mixlab.

- A *word* is a maximal run of Unicode word characters (``\\w+``: letters, digits, underscore), the
  same tokenization used by datatrove's simple word splitter for non-CJK text.
- *Normalization* (for dedup keys and shingles) is configurable: lowercase, fold runs of whitespace to
  one space, strip punctuation, strip digits; all applied after Unicode NFKC when ``unicode_nfkc`` is set.

One implementation: polars' (Rust) lowercasing and regex classes. The one-string helpers
(:func:`normalize`, :func:`words`, :func:`lower_words`) run the same expressions on a one-row frame,
because Python's ``str.lower`` and ``re`` disagree with them: ``re``'s ``\\w`` excludes combining marks
(so ``"İ".lower()`` = ``i`` + U+0307 lost its dot), its ``\\s`` includes U+001C-U+001F, and Python's
Unicode tables are older (55 code points lowercase differently). The shingle kernels
(:mod:`curate.dedup.shingles`) take their character classes from the same regexes; a property test checks
all paths agree on random Unicode, Turkish, Greek final sigma and ß included.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

WORD_PATTERN = r"\w+"
_PUNCT_PATTERN = r"[^\w\s]"
_DIGIT_PATTERN = r"\d"
_SPACE_PATTERN = r"\s{2,}|[^\S ]"  # = \s+ -> " ", without rewriting each single space (3x faster on prose)


class Normalization(BaseModel):
    """How text is normalized before hashing (exact dedup) or shingling (MinHash)."""

    model_config = ConfigDict(extra="forbid")

    lowercase: bool = Field(True, description="Lowercase the text.")
    fold_whitespace: bool = Field(True, description="Collapse every run of whitespace to one space and trim.")
    strip_punctuation: bool = Field(True, description="Remove characters that are neither word characters nor spaces.")
    strip_digits: bool = Field(False, description="Remove digits (so 'v1.2' and 'v3.4' collide).")
    unicode_nfkc: bool = Field(False, description="Apply Unicode NFKC compatibility folding first.")


def _on_one(text: str, expr: Callable[[pl.Expr], pl.Expr]) -> Any:
    """An expression's value on one string (the one-string helpers share the batch implementation)."""
    return pl.DataFrame({"t": [text]}, schema={"t": pl.String}).select(expr(pl.col("t"))).item()


def normalize(text: str, norm: Normalization | None = None) -> str:
    """Normalize one string: exactly :func:`normalize_expr` on it (see module docstring)."""
    return _on_one(text, lambda e: normalize_expr(e, norm))


def normalize_expr(expr: pl.Expr, norm: Normalization | None = None) -> pl.Expr:
    """Normalization as a vectorized polars expression (the only implementation; see module docstring).

    NFKC has no polars kernel, so it falls back to a per-row map only when requested.
    """
    norm = norm or Normalization()
    if norm.unicode_nfkc:
        expr = expr.map_elements(lambda s: unicodedata.normalize("NFKC", s), return_dtype=pl.String)
    if norm.lowercase:
        expr = expr.str.to_lowercase()
    stripped = [p for p, on in ((_PUNCT_PATTERN, norm.strip_punctuation), (_DIGIT_PATTERN, norm.strip_digits)) if on]
    if stripped:  # one pass: removing characters of one class never makes another match
        expr = expr.str.replace_all("|".join(stripped), "")
    if norm.fold_whitespace:
        expr = expr.str.replace_all(_SPACE_PATTERN, " ").str.strip_chars()
    return expr


def words(text: str) -> list[str]:
    """Words of one string, in order: exactly :func:`words_expr` on it (see module docstring)."""
    return _on_one(text, words_expr).to_list()


def lower_words(text: str) -> list[str]:
    """Words of the lowercased string (lowercase first, as the batch metrics do: ``İ`` keeps its dot)."""
    return _on_one(text, lambda e: words_expr(e.str.to_lowercase())).to_list()


def words_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized :func:`words`: a list[str] column."""
    return expr.str.extract_all(WORD_PATTERN)


def word_count_expr(expr: pl.Expr) -> pl.Expr:
    """``len(words(text))`` without building the words (2-3x faster than ``words_expr(...).list.len()``)."""
    return expr.str.count_matches(WORD_PATTERN)


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    """Consecutive n-grams of a token list; a list shorter than n yields one n-gram of all its tokens.

    The short-document rule keeps every non-empty document shingled (MinHash needs at least one
    shingle), matching text-dedup's and datatrove's behaviour for documents shorter than n words.
    """
    if not tokens:
        return []
    if len(tokens) < n:
        return [tuple(tokens)]
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def char_ngrams(text: str, n: int) -> list[str]:
    """Character n-grams of a string; a string shorter than n yields itself (when non-empty)."""
    if not text:
        return []
    if len(text) < n:
        return [text]
    return [text[i : i + n] for i in range(len(text) - n + 1)]


def lines(text: str) -> list[str]:
    """Lines of a document, without line terminators (``str.splitlines`` semantics)."""
    return text.splitlines()


LINE_BREAK_PATTERN = r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]"


def lines_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized :func:`lines` (a list[str] column); it may add one trailing empty line, which callers
    that skip blank lines never see."""
    return expr.str.replace_all(LINE_BREAK_PATTERN, "\n").str.split("\n")


def paragraphs(text: str) -> list[str]:
    """Paragraphs: the stripped, non-empty blocks between blank lines (``\\n\\s*\\n``)."""
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def join_words(parts: Iterable[str]) -> str:
    """Join word tokens into the canonical shingle string (one space between words)."""
    return " ".join(parts)


_GRAM_MULT = np.uint64(0x100000001B3)


def gram_keys(ids: np.ndarray, n: int) -> np.ndarray:
    """One 64-bit key per n-gram of word ids (positional polynomial hash; collisions negligible)."""
    keys = np.zeros(len(ids) - n + 1, dtype=np.uint64)
    for j in range(n):
        keys = keys * _GRAM_MULT + ids[j : len(ids) - n + 1 + j]
    return keys
