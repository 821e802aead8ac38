"""MinHash signatures identical to ``datasketch`` 2.x (scheme ``affine32``), computed in compiled batches.

datasketch's ``affine32`` scheme (``datasketch/minhash.py``): for each shingle ``s``,
``h = fmix32(hashfunc(s))`` (the MurmurHash3 32-bit finalizer), then for each permutation ``k``:
``(a_k * h + b_k) mod 2^32``; the signature is the minimum over shingles, ``2^32 - 1`` when there are
none. ``a`` (odd) and ``b`` come from ``numpy.random.RandomState(seed)``. We reproduce that bit for bit,
over all shingles of a batch in one numba kernel, with two choices of ``hashfunc``:

- ``sha1``: datasketch's default ``sha1_hash32`` (compiled SHA-1, :mod:`curate.dedup.sha1`); identical to
  ``datasketch.MinHash(num_perm, seed)`` fed the same shingle bytes (:func:`curate.dedup.shingles.shingles`).
- ``words64`` (default, ~4x faster): each word is hashed once (FNV-1a 64 + fmix64) and a shingle's hash
  combines its words' hashes; :func:`words64_hash32` is the same function on a shingle's bytes, so
  ``datasketch.MinHash(num_perm, seed, hashfunc=words64_hash32)`` gives identical signatures.

A stored signature (``uint32[num_perm]`` bytes) loads with :func:`to_lean_minhash`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numba as nb
import numpy as np
import polars as pl

from curate.dedup.shingles import WORDS64, Unit, pack, prepare, sha1_shingle_hashes, shingle_hashes, shingle_text
from curate.text import Normalization

if TYPE_CHECKING:
    from datasketch import LeanMinHash

__all__ = ["pack", "shingle_hashes", "shingle_text", "permutations", "signatures", "to_lean_minhash", "words64_hash32"]

MAX_HASH = 0xFFFFFFFF
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
    """The ``words64`` hash of one shingle's bytes (reference implementation; a datasketch ``hashfunc``)."""
    h = 0
    for word in shingle.split(b" "):
        w = _FNV_OFFSET
        for byte in word:
            w = ((w ^ byte) * _FNV_PRIME) & _M64
        h = (h * _COMBINE + _fmix64_py(w)) & _M64
    return _fmix64_py(h) & _M32


@nb.njit(cache=True, inline="always")
def _fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


@nb.njit(cache=True, inline="always")
def _permute_min(row: np.ndarray, hashes: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    for s in range(hashes.shape[0]):
        h = np.uint32(_fmix32(int(hashes[s])))
        for k in range(a.shape[0]):
            row[k] = min(row[k], np.uint32(a[k] * h + b[k]))  # uint32 arithmetic wraps: mod 2^32


@nb.njit(cache=True)
def _signatures(buf, starts, ends, n: int, char_unit: bool, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """words64 signatures; one thread: a run's parallelism is its worker processes (:mod:`curate.core.threads`)."""
    sigs = np.full((starts.shape[0], a.shape[0]), 0xFFFFFFFF, dtype=np.uint32)
    for d in range(starts.shape[0]):
        _permute_min(sigs[d], shingle_hashes(buf, starts[d], ends[d], n, char_unit, WORDS64), a, b)
    return sigs


@nb.njit(cache=True)
def _signatures_sha1(buf, starts, ends, n: int, char_unit: bool, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sha1 signatures (datasketch's default hash), compiled only when asked for."""
    sigs = np.full((starts.shape[0], a.shape[0]), 0xFFFFFFFF, dtype=np.uint32)
    for d in range(starts.shape[0]):
        _permute_min(sigs[d], sha1_shingle_hashes(buf, starts[d], ends[d], n, char_unit), a, b)
    return sigs


def signatures(
    texts: pl.Series, num_perm: int = 128, seed: int = 1, n: int = 5, hash_name: HashName = "words64",
    norm: Normalization | None = None, unit: Unit = "word",
) -> np.ndarray:
    """MinHash signatures (uint32, one row per text) of raw texts: normalize, shingle, hash, permute."""
    if texts.len() == 0:
        return np.empty((0, num_perm), dtype=np.uint32)
    buf, starts, ends = prepare(texts, norm)
    a, b = permutations(num_perm, seed)
    kernel = _signatures_sha1 if hash_name == "sha1" else _signatures
    return kernel(buf, starts, ends, n, unit == "char", a, b)


def to_lean_minhash(signature: bytes | np.ndarray, seed: int) -> LeanMinHash:
    """A stored signature as a ``datasketch.LeanMinHash`` (datasketch is imported only when asked)."""
    from datasketch import LeanMinHash

    values = np.frombuffer(signature, dtype=np.uint32) if isinstance(signature, bytes) else signature
    return LeanMinHash(seed=seed, hashvalues=values, scheme="affine32")
