"""Vectorized equivalents of the word metrics of :mod:`curate.diversity.metrics`, for large samples.

Texts become one flat array of 64-bit word hashes plus per-document offsets; n-gram keys are built on
the flat array (:func:`curate.text.gram_keys`) and grams crossing a document boundary are dropped. Every
function takes a list of per-document *weights* (integer multiplicities) and returns one value per
weight vector, so a bootstrap over documents costs one ``bincount`` per resample instead of re-reading
the texts. With all weights 1 the values equal the pure definitions (up to 64-bit hash collisions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from curate.diversity.metrics import entropy
from curate.text import WORD_PATTERN, gram_keys


@dataclass
class Tokens:
    """Lowercased word hashes of a list of texts, flat, with document offsets."""

    ids: np.ndarray  # uint64, all words of all documents in order
    offsets: np.ndarray  # int64, len n_docs + 1

    @classmethod
    def of(cls, texts: list[str]) -> "Tokens":
        words = pl.Series("t", texts, dtype=pl.String).str.to_lowercase().str.extract_all(WORD_PATTERN)
        lengths = words.list.len().fill_null(0).to_numpy().astype(np.int64)
        flat = words.explode().drop_nulls().hash(seed=0).to_numpy().astype(np.uint64)
        return cls(flat, np.concatenate([[0], np.cumsum(lengths)]))

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def doc_of_token(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_docs), self.lengths())

    def grams(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(key, document) of every word n-gram that lies inside one document."""
        if len(self.ids) < n:
            return np.empty(0, np.uint64), np.empty(0, np.int64)
        keys = gram_keys(self.ids, n)
        doc = self.doc_of_token()[: len(keys)]
        pos = np.arange(len(keys)) - self.offsets[doc]
        inside = pos <= self.lengths()[doc] - n
        return keys[inside], doc[inside]


def gram_distinct_and_entropy(tokens: Tokens, n: int, weights: list[np.ndarray]) -> list[tuple[float, float]]:
    """(distinct-n, n-gram entropy) of the multiset of documents given by each weight vector."""
    keys, doc = tokens.grams(n)
    if len(keys) == 0:
        return [(0.0, 0.0) for _ in weights]
    _, inverse = np.unique(keys, return_inverse=True)
    del keys
    out = []
    for w in weights:
        counts = np.bincount(inverse, weights=w[doc])
        total = counts.sum()
        out.append(((counts > 0).sum() / total if total else 0.0, entropy(counts)))
    return out


def mattr_per_doc(tokens: Tokens, window: int = 100) -> np.ndarray:
    """MATTR of each document (NaN for a document with no word), without materializing windows.

    A word at position i whose previous occurrence in its document is at p (or -1) is new in exactly the
    windows starting at j in [max(p+1, i-W+1), min(i, L-W)]; the sum of distinct counts over all windows
    is the sum of those interval lengths, and MATTR = sum / ((L-W+1)·W), with W = min(window, L).
    """
    lengths = tokens.lengths()
    doc = tokens.doc_of_token()
    pos = np.arange(len(tokens.ids)) - tokens.offsets[doc]
    order = np.lexsort((pos, tokens.ids, doc))
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (doc[order][1:] == doc[order][:-1]) & (tokens.ids[order][1:] == tokens.ids[order][:-1])
    prev = np.full(len(order), -1, dtype=np.int64)
    prev[order[1:][same[1:]]] = pos[order[:-1][same[1:]]]
    length = lengths[doc]
    w = np.minimum(window, length)
    hi = np.minimum(pos, length - w)
    lo = np.maximum(prev + 1, pos - w + 1)
    per_doc = np.bincount(doc, weights=np.maximum(0, hi - lo + 1), minlength=tokens.n_docs)
    wd = np.minimum(window, lengths)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lengths > 0, per_doc / ((lengths - wd + 1) * wd), np.nan)


def weighted_mean(values: np.ndarray, weights: list[np.ndarray]) -> list[float]:
    """Mean of the non-NaN values under each weight vector (0 when no weight falls on a value)."""
    ok = ~np.isnan(values)
    out = []
    for w in weights:
        total = w[ok].sum()
        out.append(float((values[ok] * w[ok]).sum() / total) if total else 0.0)
    return out


def label_stats(codes: np.ndarray, weights: list[np.ndarray]) -> list[tuple[float, float]]:
    """(entropy, largest share) of integer label codes under each weight vector."""
    out = []
    for w in weights:
        counts = np.bincount(codes, weights=w) if len(codes) else np.zeros(1)
        total = counts.sum()
        out.append((entropy(counts), counts.max() / total if total else 0.0))
    return out
