"""MinHash signatures identical to ``datasketch`` 2.x (scheme ``affine32``), computed in compiled batches.

datasketch's ``affine32`` scheme: for each shingle ``s``, ``h = fmix32(hashfunc(s))`` (the MurmurHash3
finalizer), then for each permutation ``k``: ``a_k * h + b_k mod 2^32`` with ``a_k`` odd; the signature is
the minimum over shingles; permutations come from ``numpy.random.RandomState(seed)``. We reproduce that
bit for bit, over all shingles of a batch in one numba kernel, with two choices of ``hashfunc``:

- ``sha1``: datasketch's default ``sha1_hash32`` (SHA-1, first 4 digest bytes little-endian), here a
  numba SHA-1; identical to ``datasketch.MinHash(num_perm, seed)`` fed the same shingle bytes.
- ``words64`` (default, fast): each word is hashed once (FNV-1a 64 + fmix64) and a shingle's hash
  combines its words' hashes; :func:`words64_hash32` is the same function on shingle bytes, so
  ``datasketch.MinHash(num_perm, seed, hashfunc=words64_hash32)`` gives identical signatures.

A *shingle* is ``n`` consecutive words of the normalized text joined by one space (UTF-8), after
:func:`curate.text.normalize` (lowercase, punctuation stripped, whitespace folded); a document with
fewer than ``n`` words has one shingle (all its words); an empty document has the empty signature
(all ``2^32-1``, as datasketch's empty MinHash).
"""

from __future__ import annotations

from typing import Literal

import numba as nb
import numpy as np
import polars as pl

from curate.text import Normalization, normalize_expr

MAX_HASH = np.uint32(0xFFFFFFFF)
HashName = Literal["words64", "sha1"]
_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_COMBINE = 0x9E3779B97F4A7C15


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd, b), from ``RandomState(seed)``."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix64_py(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M64
    return h ^ (h >> 33)


def words64_hash32(shingle: bytes) -> int:
    """The ``words64`` hash of one shingle's bytes (reference implementation; datasketch ``hashfunc``)."""
    h = 0
    for word in shingle.split(b" "):
        w = _FNV_OFFSET
        for byte in word:
            w = ((w ^ byte) * _FNV_PRIME) & _M64
        h = (h * _COMBINE + _fmix64_py(w)) & _M64
    return _fmix64_py(h) & _M32


@nb.njit(cache=True, inline="always")
def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


@nb.njit(cache=True)
def _sha1_hash32(buf: np.ndarray, start: int, end: int) -> int:
    """First 4 bytes of SHA-1(buf[start:end]) read little-endian (datasketch's ``sha1_hash32``)."""
    length = end - start
    n_blocks = (length + 8) // 64 + 1
    h0, h1, h2, h3, h4 = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
    w = np.empty(80, dtype=np.uint64)
    for blk in range(n_blocks):
        for i in range(16):
            word = 0
            for j in range(4):
                pos = blk * 64 + i * 4 + j
                if pos < length:
                    byte = int(buf[start + pos])
                elif pos == length:
                    byte = 0x80
                elif blk == n_blocks - 1 and pos >= n_blocks * 64 - 8:
                    byte = ((length * 8) >> (8 * (n_blocks * 64 - 1 - pos))) & 0xFF
                else:
                    byte = 0
                word = (word << 8) | byte
            w[i] = word
        for i in range(16, 80):
            w[i] = _rotl(int(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]), 1)
        a, b, c, d, e = h0, h1, h2, h3, h4
        for i in range(80):
            if i < 20:
                f, k = (b & c) | ((~b & 0xFFFFFFFF) & d), 0x5A827999
            elif i < 40:
                f, k = b ^ c ^ d, 0x6ED9EBA1
            elif i < 60:
                f, k = (b & c) | (b & d) | (c & d), 0x8F1BBCDC
            else:
                f, k = b ^ c ^ d, 0xCA62C1D6
            tmp = (_rotl(a, 5) + f + e + k + int(w[i])) & 0xFFFFFFFF
            e, d, c, b, a = d, c, _rotl(b, 30), a, tmp
        h0, h1, h2, h3, h4 = (h0 + a) & 0xFFFFFFFF, (h1 + b) & 0xFFFFFFFF, (h2 + c) & 0xFFFFFFFF, (h3 + d) & 0xFFFFFFFF, (h4 + e) & 0xFFFFFFFF
    return ((h0 & 0xFF) << 24) | (((h0 >> 8) & 0xFF) << 16) | (((h0 >> 16) & 0xFF) << 8) | (h0 >> 24)


_U33 = np.uint64(33)
_FM1 = np.uint64(0xFF51AFD7ED558CCD)
_FM2 = np.uint64(0xC4CEB9FE1A85EC53)
_FNV_OFFSET_U = np.uint64(_FNV_OFFSET)
_FNV_PRIME_U = np.uint64(_FNV_PRIME)
_COMBINE_U = np.uint64(_COMBINE)
_LOW32 = np.uint64(0xFFFFFFFF)


@nb.njit(cache=True, inline="always")
def _fmix64(h: np.uint64) -> np.uint64:
    h ^= h >> _U33
    h *= _FM1
    h ^= h >> _U33
    h *= _FM2
    return h ^ (h >> _U33)


@nb.njit(cache=True, inline="always")
def _fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


@nb.njit(cache=True)
def _word_spans(buf: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the space-separated words of buf[start:end]."""
    starts = np.empty(end - start + 1, dtype=np.int64)
    ends = np.empty(end - start + 1, dtype=np.int64)
    n, i = 0, start
    while i < end:
        while i < end and buf[i] == 32:
            i += 1
        if i >= end:
            break
        starts[n] = i
        while i < end and buf[i] != 32:
            i += 1
        ends[n] = i
        n += 1
    return starts[:n], ends[:n]


@nb.njit(cache=True)
def shingle_hashes(buf: np.ndarray, start: int, end: int, n: int, use_sha1: bool) -> np.ndarray:
    """32-bit hashes (before fmix) of the word n-gram shingles of one normalized document."""
    starts, ends = _word_spans(buf, start, end)
    n_words = starts.shape[0]
    if n_words == 0:
        return np.empty(0, dtype=np.uint64)
    n_sh = max(n_words - n + 1, 1)
    width = min(n, n_words)
    out = np.empty(n_sh, dtype=np.uint64)
    if use_sha1:
        for s in range(n_sh):
            out[s] = _sha1_hash32(buf, starts[s], ends[s + width - 1])
        return out
    words = np.empty(n_words, dtype=np.uint64)
    for i in range(n_words):
        w = _FNV_OFFSET_U
        for p in range(starts[i], ends[i]):
            w = (w ^ np.uint64(buf[p])) * _FNV_PRIME_U
        words[i] = _fmix64(w)
    for s in range(n_sh):
        h = np.uint64(0)
        for i in range(s, s + width):
            h = h * _COMBINE_U + words[i]
        out[s] = _fmix64(h) & _LOW32
    return out


@nb.njit(cache=True, parallel=True)
def _signatures(buf: np.ndarray, offsets: np.ndarray, n: int, a: np.ndarray, b: np.ndarray, use_sha1: bool) -> np.ndarray:
    n_docs = offsets.shape[0] - 1
    num_perm = a.shape[0]
    sigs = np.full((n_docs, num_perm), 0xFFFFFFFF, dtype=np.uint32)
    for d in nb.prange(n_docs):
        hashes = shingle_hashes(buf, offsets[d], offsets[d + 1], n, use_sha1)
        row = sigs[d]
        for s in range(hashes.shape[0]):
            h = np.uint32(_fmix32(int(hashes[s])))
            for k in range(num_perm):
                row[k] = min(row[k], np.uint32(a[k] * h + b[k]))  # uint32 arithmetic wraps: mod 2^32
    return sigs


def shingle_text(texts: pl.Series, norm: Normalization | None = None) -> pl.Series:
    """Normalized text as words joined by single spaces: the byte string shingles are cut from."""
    norm = norm or Normalization()
    expr = normalize_expr(pl.col("t"), norm)
    if not (norm.fold_whitespace and norm.strip_punctuation):
        expr = expr.str.extract_all(r"\S+").list.join(" ")
    return texts.alias("t").to_frame().select(expr).to_series()


def pack(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate UTF-8 texts into one byte buffer plus document offsets (no per-document Python)."""
    arrow = texts.cast(pl.String).fill_null("").to_arrow().cast("large_string")
    offsets = np.frombuffer(arrow.buffers()[1], dtype=np.int64)[arrow.offset : arrow.offset + len(arrow) + 1]
    data = arrow.buffers()[2]
    buf = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(1, dtype=np.uint8)
    return buf, offsets.astype(np.int64)


def signatures(
    texts: pl.Series, num_perm: int = 128, seed: int = 1, n: int = 5, hash_name: HashName = "words64",
    norm: Normalization | None = None,
) -> np.ndarray:
    """MinHash signatures (uint32, one row per text) of raw texts: normalize, shingle, hash, permute."""
    if texts.len() == 0:
        return np.empty((0, num_perm), dtype=np.uint32)
    buf, offsets = pack(shingle_text(texts, norm))
    a, b = permutations(num_perm, seed)
    return _signatures(buf, offsets, n, a, b, hash_name == "sha1")
