"""Gopher repetition rules (Rae et al. 2021, Appendix A.1.1, Table A1), with their published thresholds.

Signals and the maximum kept:

- ``gopher_dup_line_frac`` (0.30) / ``gopher_dup_para_frac`` (0.30): lines / paragraphs that repeat an
  earlier one in the document, over all of them (non-blank stripped lines; paragraphs per
  :func:`curate.text.paragraphs`);
- ``gopher_dup_line_char_frac`` (0.20) / ``gopher_dup_para_char_frac`` (0.20): characters in those
  repeats over the document's characters (``len(text)``, as datatrove does);
- ``gopher_top_{2,3,4}gram_char_frac`` (0.20, 0.18, 0.16): word characters covered by the most frequent
  word n-gram (its count x its characters; ties go to the longer n-gram; 0 when no n-gram repeats),
  over all word characters;
- ``gopher_dup_{5..10}gram_char_frac`` (0.15, 0.14, 0.13, 0.12, 0.11, 0.10): word characters of words
  inside any n-gram that occurs more than once (each word counted once), over all word characters.

Everything is computed for the whole batch at once: lines and paragraphs with polars, n-grams with
hash counts over the batch's concatenated word hashes (an n-gram never spans two documents).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.rules import Rule, per_doc

TOP_NGRAMS = {2: 0.20, 3: 0.18, 4: 0.16}
DUP_NGRAMS = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
RULES = (
    Rule("gopher_dup_line_frac", "max", 0.3),
    Rule("gopher_dup_para_frac", "max", 0.3),
    Rule("gopher_dup_line_char_frac", "max", 0.2),
    Rule("gopher_dup_para_char_frac", "max", 0.2),
    *(Rule(f"gopher_top_{n}gram_char_frac", "max", t) for n, t in TOP_NGRAMS.items()),
    *(Rule(f"gopher_dup_{n}gram_char_frac", "max", t) for n, t in DUP_NGRAMS.items()),
)
SIGNALS = tuple(r.signal for r in RULES)
_DOC_MIX = np.uint64(0x9E3779B97F4A7C15)
_GRAM_MULT = np.uint64(0x100000001B3)


def _dup_stats(table: pl.DataFrame, col: str, n_docs: int, n_chars: pl.Series, prefix: str) -> pl.DataFrame:
    """Fraction of items repeating an earlier item of their document, and their share of characters."""
    dup = ~pl.col(col).is_first_distinct().over("doc")
    stats = per_doc(n_docs, table, [pl.len().alias("n"), dup.sum().alias("dup"),
                                    pl.col(col).str.len_chars().filter(dup).sum().alias("dup_chars")])
    return pl.DataFrame({
        f"{prefix}_frac": stats["dup"] / stats["n"].clip(1, None),
        f"{prefix}_char_frac": stats["dup_chars"] / n_chars.cast(pl.Float64).clip(1, None),
    })


def paragraph_table(texts: pl.Series) -> pl.DataFrame:
    """One row per paragraph (:func:`curate.text.paragraphs`, vectorized): ``doc`` and ``para``."""
    frame = pl.DataFrame({"doc": pl.int_range(texts.len(), eager=True, dtype=pl.UInt32), "para": texts})
    split = pl.col("para").str.replace_all("\x00", " ").str.replace_all(r"\n\s*\n", "\x00").str.split("\x00")
    return (frame.with_columns(split).explode("para").with_columns(pl.col("para").str.strip_chars())
            .filter(pl.col("para").is_not_null() & (pl.col("para") != "")))


def _counts(keys: np.ndarray) -> np.ndarray:
    """How often each key occurs in ``keys`` (hash group-by)."""
    return pl.Series(keys).to_frame("k").select(pl.len().over("k"))["len"].to_numpy()


def _ngram_fracs(doc: np.ndarray, ids: np.ndarray, lens: np.ndarray, n_docs: int) -> dict[str, np.ndarray]:
    """Top and duplicate n-gram character fractions for every document of a batch.

    Keys grow one word at a time (key_n = key_{n-1} * M + id, salted with the document index, so equal
    keys mean the same n-gram in the same document). An n-gram can only repeat where its (n-1)-gram
    prefix repeats, so each longer n is counted only at those positions: after n = 2 the work shrinks
    to the repeated part of the batch.
    """
    total = np.bincount(doc, weights=lens, minlength=n_docs)
    safe_total = np.maximum(total, 1)
    cum = np.concatenate([[0], np.cumsum(lens)])
    salted = ids ^ (doc.astype(np.uint64) * _DOC_MIX)
    pos = np.nonzero(doc[:-1] == doc[1:])[0] if len(ids) > 1 else np.zeros(0, dtype=np.int64)
    keys = salted[pos] * _GRAM_MULT + salted[pos + 1]
    out = {}
    for n in range(2, max(DUP_NGRAMS) + 1):
        count = _counts(keys)
        value = np.zeros(n_docs)
        if n in TOP_NGRAMS and len(pos):
            gdoc, chars = doc[pos], cum[pos + n] - cum[pos]
            order = np.lexsort((chars, count, gdoc))
            last = order[np.r_[gdoc[order][1:] != gdoc[order][:-1], True]]
            value[gdoc[last]] = np.where(count[last] > 1, count[last] * chars[last], 0) / safe_total[gdoc[last]]
        elif n in DUP_NGRAMS:
            covered = np.zeros(len(ids), dtype=bool)
            rep = pos[count > 1]
            for j in range(n):
                covered[rep + j] = True
            value = np.bincount(doc[covered], weights=lens[covered], minlength=n_docs) / safe_total
        out[f"gopher_{'top' if n in TOP_NGRAMS else 'dup'}_{n}gram_char_frac"] = value
        keep = (count > 1) & (pos + n < len(ids))
        pos, keys = pos[keep], keys[keep]
        same = doc[pos + n] == doc[pos]
        pos, keys = pos[same], keys[same] * _GRAM_MULT + salted[pos[same] + n]
    return out


def signals(texts: pl.Series, words: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Gopher repetition signals for a batch (``words``/``lines`` from the shared tables)."""
    n_docs, n_chars = texts.len(), texts.str.len_chars()
    doc = words["doc"].to_numpy().astype(np.int64)
    ids = words["word"].hash(seed=0).to_numpy()
    lens = words["word"].str.len_chars().cast(pl.Float64).to_numpy()
    return pl.concat([
        _dup_stats(lines, "line", n_docs, n_chars, "gopher_dup_line"),
        _dup_stats(paragraph_table(texts), "para", n_docs, n_chars, "gopher_dup_para"),
        pl.DataFrame(_ngram_fracs(doc, ids, lens, n_docs)),
    ], how="horizontal").select(SIGNALS)
