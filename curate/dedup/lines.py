"""Lines or paragraphs shared by many documents (boilerplate), found by hash and removed.

As in CCNet (Wenzek et al. 2020, "CCNet", Section 3.3) and Dolma's paragraph dedup: each document is cut
into *segments* (lines, or paragraphs separated by blank lines), each segment's text is normalized
(:func:`curate.text.normalize_expr`; the line dedup default lowercases, strips punctuation and digits and
folds whitespace: CCNet replaces digits by 0 and also strips accents) and hashed (xxh3-64). A segment
whose hash occurs in more than ``max_docs`` documents of the corpus is removed from every document that
holds it (CCNet removes all copies, not all but the first as Dolma's Bloom filter does). Segments that
normalize to nothing (blank lines, lines of punctuation) are never counted and never removed.

A segment keeps its terminator (the line break, or the blank lines after a paragraph), so removing one
leaves the rest of the text byte for byte as it was.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import polars as pl
import xxhash

from curate.text import Normalization, normalize_expr

Unit = Literal["line", "paragraph"]
_PARAGRAPH_BREAK = re.compile(r"(\n\s*\n)")


def segments(text: str, unit: Unit) -> list[str]:
    """The segments of a text, each with its terminator; ``"".join(segments(t))`` is ``t``."""
    if unit == "line":
        return text.splitlines(keepends=True)
    parts = _PARAGRAPH_BREAK.split(text)
    return [parts[i] + (parts[i + 1] if i + 1 < len(parts) else "") for i in range(0, len(parts), 2) if parts[i] or i + 1 < len(parts)]


def segment_hashes(texts: list[str], unit: Unit, norm: Normalization) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """(segments per text, offsets into the flat arrays, flat hash per segment; 0 = blank, never counted)."""
    split = [segments(t, unit) for t in texts]
    offsets = np.zeros(len(split) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in split], out=offsets[1:])
    flat = pl.Series("s", [seg for segs in split for seg in segs], dtype=pl.String)
    normalized = flat.to_frame().select(normalize_expr(pl.col("s"), norm))["s"].to_list()
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(n.encode()) or 1 if n else 0 for n in normalized), dtype=np.uint64, count=len(normalized))
    return split, offsets, hashes


def doc_hashes(texts: pl.Series, unit: Unit, norm: Normalization) -> np.ndarray:
    """Every distinct non-blank segment hash of each text, concatenated (a document counts a segment once)."""
    _, offsets, hashes = segment_hashes(texts.to_list(), unit, norm)
    doc = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    pairs = pl.DataFrame({"doc": doc, "hash": hashes}, schema={"doc": pl.Int64, "hash": pl.UInt64})
    return pairs.filter(pl.col("hash") != 0).unique(maintain_order=True)["hash"].to_numpy()


def remove_segments(texts: list[str], unit: Unit, norm: Normalization, frequent: np.ndarray) -> pl.DataFrame:
    """Each text without its segments whose hash is in ``frequent`` (sorted uint64).

    Columns: ``text`` (the new text, null when nothing was removed), ``lines_removed`` (segments removed),
    ``bytes_removed`` (UTF-8 bytes removed) and ``blank`` (nothing but whitespace is left)."""
    split, offsets, hashes = segment_hashes(texts, unit, norm)
    hit = np.isin(hashes, frequent) & (hashes != 0)
    new_texts, removed, removed_bytes, blank = [], [], [], []
    for i, segs in enumerate(split):
        mask = hit[offsets[i] : offsets[i + 1]]
        n = int(mask.sum())
        removed.append(n)
        if not n:
            new_texts.append(None)
            removed_bytes.append(0)
            blank.append(not texts[i].strip())
            continue
        new = "".join(s for s, drop in zip(segs, mask, strict=True) if not drop)
        new_texts.append(new)
        removed_bytes.append(len(texts[i].encode()) - len(new.encode()))
        blank.append(not new.strip())
    return pl.DataFrame({"text": new_texts, "lines_removed": removed, "bytes_removed": removed_bytes, "blank": blank},
                        schema={"text": pl.String, "lines_removed": pl.Int64, "bytes_removed": pl.Int64, "blank": pl.Boolean})
