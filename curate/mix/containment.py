"""Contamination by containment: an eval passage inside a longer pool document.

Whole-document similarity (equal text, MinHash Jaccard) misses an eval document pasted into a long pool
document: the Jaccard of a 300-word passage and the 5,000-word page holding it is below 0.06. Containment
asks instead what share of the eval document's distinct word n-grams occur in one pool document::

    containment(e, d) = |G(e) ∩ G(d)| / |G(e)|

with G the set of word n-grams of the normalized text (the shingles of :mod:`curate.dedup.shingles`:
lowercased, punctuation stripped, hashed to 64-bit ids), n = 8 by default. A pool document with
containment ≥ ``threshold`` (default 0.5) holds at least half of the eval text's n-grams verbatim.

This follows the n-gram overlap checks of LLM contamination analyses: GPT-3 (Brown et al. 2020,
Appendix C) flags 13-gram collisions; PaLM (Chowdhery et al. 2022, Section 8) calls an eval example
contaminated when 70% of its 8-grams occur in the training data; Llama 2 (Touvron et al. 2023, Appendix
A.6) measures the share of an example's tokens inside matched n-gram spans. Here the share is measured
against one pool document at a time, so the offending document can be named and excluded from mixtures.

Vectorized and out of core: n-gram ids come from the compiled shingle kernel; the matching is polars (a
semi-join on the eval n-grams, a join, a group-by). Pool texts are read in slices of about
``SLICE_BYTES``, so memory holds one slice's n-gram ids.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.dedup.shingles import shingle_ids

SLICE_BYTES = 16 << 20
SCHEMA = {"e": pl.Int64, "d": pl.Int64, "similarity": pl.Float64}


def _grams(texts: pl.Series, n: int, name: str, first: int = 0, among: pl.Series | None = None) -> pl.DataFrame:
    """(name, h): the distinct n-gram ids of each text (only those in ``among``, when given), texts
    numbered from ``first``."""
    values, counts = shingle_ids(texts, n)
    grams = pl.DataFrame({name: np.repeat(np.arange(first, first + len(counts), dtype=np.int64), counts), "h": values})
    return (grams if among is None else grams.filter(pl.col("h").is_in(among.implode()))).unique()


def _slices(texts: pl.Series, max_bytes: int) -> list[tuple[int, int]]:
    """[start, end) ranges of consecutive texts: a slice holds the texts that start in one ``max_bytes``
    window of the concatenated batch (so at most ``max_bytes`` plus its last text)."""
    sizes = texts.str.len_bytes().fill_null(0).to_numpy().astype(np.int64)
    window = (np.cumsum(sizes) - sizes) // max_bytes
    cuts = [0, *(np.flatnonzero(np.diff(window)) + 1).tolist(), len(sizes)]
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]


class ContainmentIndex:
    """The eval documents' distinct word n-grams, matched against batches of pool documents."""

    def __init__(self, eval_texts: pl.Series, threshold: float = 0.5, n: int = 8) -> None:
        self.threshold, self.n = threshold, n
        self.grams = _grams(eval_texts, n, "e")
        self.sizes = self.grams.group_by("e").len("n_e")
        self.keys = self.grams["h"].unique()

    def match(self, texts: pl.Series) -> pl.DataFrame:
        """(e, d, similarity): pool text ``d`` of this batch holds at least ``threshold`` of eval text ``e``'s n-grams."""
        found = [pl.DataFrame(schema=SCHEMA)]
        for start, end in _slices(texts, SLICE_BYTES):
            pool = _grams(texts.slice(start, end - start), self.n, "d", start, among=self.keys)
            shared = pool.join(self.grams, on="h").group_by("e", "d").len("shared").join(self.sizes, on="e")
            found.append(shared.select("e", "d", (pl.col("shared") / pl.col("n_e")).alias("similarity"))
                         .filter(pl.col("similarity") >= self.threshold).cast(SCHEMA))  # type: ignore[arg-type]
        return pl.concat(found).sort("d", "e")
