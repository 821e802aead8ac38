"""Shingles for MinHash: normalized words, word or character n-grams, and their hashes, compiled.

Definition (the reference is :func:`shingles`, pure Python; the kernels must agree with it):

1. the text is normalized with :func:`curate.text.normalize_expr` (by default lowercase, punctuation
   stripped); whitespace is always folded, so the *shingle text* is the words joined by one space;
2. a word shingle is ``n`` consecutive words joined by one space; a character shingle is ``n``
   consecutive code points of the shingle text; a text shorter than ``n`` has one shingle (all of it);
   an empty text has none;
3. the bytes hashed are the shingle's UTF-8 bytes, exactly what one passes to ``datasketch.MinHash.update``.

Speed: lowercasing (and NFKC, when asked) runs in polars; stripping and word splitting run in one numba
pass over the UTF-8 bytes with a per-code-point class table computed *by the same polars regexes* that
``normalize_expr`` uses (``\\w``, ``\\s``, ``\\d``), so both paths agree by construction.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numba as nb
import numpy as np
import polars as pl

from curate.dedup.sha1 import sha1_hash32
from curate.text import Normalization, char_ngrams, join_words, ngrams, normalize_expr

Unit = Literal["word", "char"]
WORDS64, HASH64 = 0, 2  # kernel hash modes: signature hashes (32 bit) and verification ids (64 bit); sha1 has its own kernel
_WORD, _DIGIT, _SPACE, _PUNCT = 0, 1, 2, 3
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_COMBINE = np.uint64(0x9E3779B97F4A7C15)
_U33 = np.uint64(33)
_FM1 = np.uint64(0xFF51AFD7ED558CCD)
_FM2 = np.uint64(0xC4CEB9FE1A85EC53)
_LOW32 = np.uint64(0xFFFFFFFF)


def shingle_text(texts: pl.Series, norm: Normalization | None = None) -> pl.Series:
    """Reference shingle text (polars): normalized words joined by single spaces."""
    expr = normalize_expr(pl.col("t"), norm or Normalization()).str.extract_all(r"\S+").list.join(" ")
    return texts.cast(pl.String).fill_null("").alias("t").to_frame().select(expr).to_series()


def shingles(text: str, n: int = 5, unit: Unit = "word", norm: Normalization | None = None) -> list[bytes]:
    """Reference shingles of one text, as the UTF-8 bytes that get hashed (see module docstring)."""
    joined = shingle_text(pl.Series([text]), norm)[0]
    if unit == "char":
        return [g.encode() for g in char_ngrams(joined, n)]
    return [join_words(g).encode() for g in ngrams(joined.split(), n)]


@lru_cache(maxsize=1)
def char_classes() -> np.ndarray:
    """Class of every code point (word, digit, space, punctuation) by polars' own ``\\w \\s \\d`` regexes."""
    cps = np.concatenate([np.arange(0xD800), np.arange(0xE000, 0x110000)]).astype("<u4")
    every = pl.Series([cps.tobytes().decode("utf-32-le")])

    def mask(pattern: str, marker: str) -> np.ndarray:  # marker matches pattern: result == marker iff matched
        marked = every.str.replace_all(pattern, marker)[0].encode("utf-32-le")
        return np.frombuffer(marked, dtype="<u4") == ord(marker)

    table = np.full(0x110000, _PUNCT, dtype=np.uint8)
    classes = np.full(len(cps), _PUNCT, dtype=np.uint8)
    classes[mask(r"\w", "y")] = _WORD
    classes[mask(r"\d", "0")] = _DIGIT
    classes[mask(r"\s", " ")] = _SPACE
    table[cps] = classes
    return table


@nb.njit(cache=True)
def _normalize(buf: np.ndarray, offsets: np.ndarray, table: np.ndarray, strip_punct: bool, strip_digits: bool):
    """Shingle text of each document, written in place of the input bytes: (out, starts, ends)."""
    n_docs = offsets.shape[0] - 1
    out = np.empty_like(buf)
    ends = np.empty(n_docs, dtype=np.int64)
    for d in range(n_docs):
        i, o, in_word = offsets[d], offsets[d], False
        while i < offsets[d + 1]:
            b0 = int(buf[i])
            size = 1 if b0 < 0x80 else 2 if b0 < 0xE0 else 3 if b0 < 0xF0 else 4
            cp = b0 if size == 1 else b0 & (0x1F if size == 2 else 0x0F if size == 3 else 0x07)
            for k in range(1, size):
                cp = (cp << 6) | (int(buf[i + k]) & 0x3F)
            cls = table[cp]
            if cls == _SPACE:
                in_word = False
            elif not ((cls == _PUNCT and strip_punct) or (cls == _DIGIT and strip_digits)):
                if not in_word and o > offsets[d]:
                    out[o] = 32
                    o += 1
                in_word = True
                for k in range(size):
                    out[o + k] = buf[i + k]
                o += size
            i += size
        ends[d] = o
    return out, offsets[:-1].copy(), ends


def pack(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated UTF-8 bytes of the texts and their offsets, straight from the Arrow buffers."""
    arrow = texts.cast(pl.String).fill_null("").rechunk().to_arrow().cast("large_string")
    offsets = np.frombuffer(arrow.buffers()[1], dtype=np.int64)[arrow.offset : arrow.offset + len(arrow) + 1]
    data = arrow.buffers()[2]
    buf = np.frombuffer(data, dtype=np.uint8) if data is not None and len(data) else np.zeros(1, dtype=np.uint8)
    return buf, np.ascontiguousarray(offsets, dtype=np.int64)


def prepare(texts: pl.Series, norm: Normalization | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shingle texts of a batch as one byte buffer with per-document (starts, ends)."""
    norm = norm or Normalization()
    expr = pl.col("t").cast(pl.String).fill_null("")
    if norm.unicode_nfkc or norm.lowercase:
        expr = normalize_expr(expr, Normalization(lowercase=norm.lowercase, unicode_nfkc=norm.unicode_nfkc,
                                                  fold_whitespace=False, strip_punctuation=False))
    buf, offsets = pack(texts.alias("t").to_frame().select(expr).to_series())
    return _normalize(buf, offsets, char_classes(), norm.strip_punctuation, norm.strip_digits)


@nb.njit(cache=True, inline="always")
def _fmix64(h: np.uint64) -> np.uint64:
    h ^= h >> _U33
    h *= _FM1
    h ^= h >> _U33
    h *= _FM2
    return h ^ (h >> _U33)


@nb.njit(cache=True)
def span_hash64(buf: np.ndarray, start: int, end: int) -> np.uint64:
    """words64 hash of buf[start:end]: FNV-1a 64 + fmix64 per space-separated part, parts combined."""
    h, w = np.uint64(0), _FNV_OFFSET
    for p in range(start, end):
        if buf[p] == 32:
            h = h * _COMBINE + _fmix64(w)
            w = _FNV_OFFSET
        else:
            w = (w ^ np.uint64(buf[p])) * _FNV_PRIME
    return _fmix64(h * _COMBINE + _fmix64(w))


@nb.njit(cache=True)
def _boundaries(buf: np.ndarray, start: int, end: int, char_unit: bool) -> tuple[np.ndarray, np.ndarray]:
    """Start/end offsets of the units (words, or code points) of one shingle text."""
    starts = np.empty(end - start + 1, dtype=np.int64)
    ends = np.empty(end - start + 1, dtype=np.int64)
    n, i = 0, start
    while i < end:
        if char_unit:
            starts[n], i = i, i + 1
            while i < end and (buf[i] & 0xC0) == 0x80:
                i += 1
        else:
            starts[n] = i
            while i < end and buf[i] != 32:
                i += 1
            i += 1
        ends[n] = min(i - (0 if char_unit else 1), end)
        n += 1
    return starts[:n], ends[:n]


@nb.njit(cache=True)
def shingle_hashes(buf: np.ndarray, start: int, end: int, n: int, char_unit: bool = False, mode: int = WORDS64) -> np.ndarray:
    """Hashes of the shingles of one shingle text: words64 (32 bit) or the 64-bit id (HASH64)."""
    starts, ends = _boundaries(buf, start, end, char_unit)
    n_units = starts.shape[0]
    n_sh = max(n_units - n + 1, 1) if n_units else 0
    width = min(n, n_units)
    out = np.empty(n_sh, dtype=np.uint64)
    if char_unit:
        for s in range(n_sh):
            out[s] = span_hash64(buf, starts[s], ends[s + width - 1])
    else:
        words = np.empty(n_units, dtype=np.uint64)
        for i in range(n_units):
            h = _FNV_OFFSET
            for p in range(starts[i], ends[i]):
                h = (h ^ np.uint64(buf[p])) * _FNV_PRIME
            words[i] = _fmix64(h)
        for s in range(n_sh):
            h = np.uint64(0)
            for i in range(s, s + width):
                h = h * _COMBINE + words[i]
            out[s] = _fmix64(h)
    if mode == WORDS64:
        for s in range(n_sh):
            out[s] &= _LOW32
    return out


@nb.njit(cache=True)
def sha1_shingle_hashes(buf: np.ndarray, start: int, end: int, n: int, char_unit: bool = False) -> np.ndarray:
    """datasketch's sha1_hash32 of each shingle of one shingle text (a kernel of its own: compiling SHA-1
    into the words64 kernels tripled their first-run compile time, 1.2 s -> 4.9 s)."""
    starts, ends = _boundaries(buf, start, end, char_unit)
    n_units = starts.shape[0]
    n_sh = max(n_units - n + 1, 1) if n_units else 0
    width = min(n, n_units)
    out = np.empty(n_sh, dtype=np.uint64)
    block, w, state = np.empty(64, np.uint8), np.empty(80, np.int64), np.empty(5, np.int64)
    for s in range(n_sh):
        out[s] = sha1_hash32(buf, starts[s], ends[s + width - 1], block, w, state)
    return out


@nb.njit(cache=True)
def _shingle_ids(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, n: int, char_unit: bool):
    """64-bit shingle ids of every document, concatenated, and how many each document has."""
    counts = np.zeros(starts.shape[0], dtype=np.int64)
    for d in range(starts.shape[0]):
        units = 0
        for p in range(starts[d], ends[d]):  # words are separated by one space; code points start with a non-continuation byte
            if (char_unit and (buf[p] & 0xC0) != 0x80) or (not char_unit and buf[p] == 32):
                units += 1
        if not char_unit and ends[d] > starts[d]:
            units += 1
        if units:
            counts[d] = max(units - n + 1, 1)
    total = 0
    for d in range(starts.shape[0]):
        total += counts[d]
    values = np.empty(total, dtype=np.uint64)
    at = 0
    for d in range(starts.shape[0]):
        ids = shingle_hashes(buf, starts[d], ends[d], n, char_unit, HASH64)
        for i in range(ids.shape[0]):  # element loops: a slice assignment costs numba ~2 s more to compile
            values[at + i] = ids[i]
        at += ids.shape[0]
    return values, counts


def shingle_ids(texts: pl.Series, n: int = 5, unit: Unit = "word", norm: Normalization | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every shingle's 64-bit id, text after text in order (repeats kept), and how many each text has."""
    if texts.len() == 0:
        return np.empty(0, np.uint64), np.zeros(0, np.int64)
    buf, starts, ends = prepare(texts, norm)
    return _shingle_ids(buf, starts, ends, n, unit == "char")


def shingle_sets(texts: pl.Series, n: int = 5, unit: Unit = "word", norm: Normalization | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each text's set of shingles as sorted distinct 64-bit ids (CSR: values, offsets), for exact Jaccard."""
    if texts.len() == 0:
        return np.empty(0, np.uint64), np.zeros(1, np.int64)
    values, counts = shingle_ids(texts, n, unit, norm)
    doc = np.repeat(np.arange(len(counts)), counts)
    order = np.lexsort((values, doc))  # sorted by (document, id) in numpy: numba's np.unique cost 3-5 s of compile
    values, doc = values[order], doc[order]
    distinct = np.ones(len(values), dtype=bool)
    distinct[1:] = (values[1:] != values[:-1]) | (doc[1:] != doc[:-1])
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc[distinct], minlength=len(counts)), out=offsets[1:])
    return values[distinct], offsets


@nb.njit(cache=True)  # one thread: it runs in the driver under a budget of one (parallel=True only added 0.5 s of compile)
def jaccard_pairs(values: np.ndarray, offsets: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Exact Jaccard of the sets (CSR rows) of each pair (i, j); two empty sets count as identical."""
    out = np.empty(pairs.shape[0])
    for p in range(pairs.shape[0]):
        i, j = pairs[p, 0], pairs[p, 1]
        a, a_end, b, b_end = offsets[i], offsets[i + 1], offsets[j], offsets[j + 1]
        inter = 0
        while a < a_end and b < b_end:
            if values[a] == values[b]:
                inter += 1
                a += 1
                b += 1
            elif values[a] < values[b]:
                a += 1
            else:
                b += 1
        union = (offsets[i + 1] - offsets[i]) + (offsets[j + 1] - offsets[j]) - inter
        out[p] = inter / union if union else 1.0
    return out
