"""MinHash signatures are datasketch-identical; LSH parameters match datasketch's choice."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from datasketch import LeanMinHash, MinHash
from datasketch.lsh import _optimal_param

from curate.lsh import band_hashes, connected_components, optimal_bands
from curate.minhash import shingle_text, signatures, words64_hash32
from tests.corpus import make_corpus

TEXTS = [
    "The quick brown fox jumps over the lazy dog, again and again and again!",
    "Short text.",
    "",
    "Ünïcode wörds — are fine; CAPITALS too: 42 times.",
    "word " * 30,
] + [d.text for d in make_corpus(6, seed=2)]


def _datasketch(text: str, num_perm: int, seed: int, n: int, hashfunc=None) -> np.ndarray:
    words = shingle_text(pl.Series([text]))[0].split(" ")
    words = [w for w in words if w]
    shingles = [" ".join(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))] if words else []
    m = MinHash(num_perm=num_perm, seed=seed) if hashfunc is None else MinHash(num_perm=num_perm, seed=seed, hashfunc=hashfunc)
    for s in shingles:
        m.update(s.encode("utf-8"))
    return m.hashvalues


@pytest.mark.parametrize(("hash_name", "num_perm", "seed", "n"), [("sha1", 128, 1, 5), ("sha1", 64, 42, 3), ("words64", 128, 1, 5), ("words64", 32, 7, 1)])
def test_signatures_identical_to_datasketch(hash_name, num_perm, seed, n):
    ours = signatures(pl.Series(TEXTS), num_perm=num_perm, seed=seed, n=n, hash_name=hash_name)
    hashfunc = words64_hash32 if hash_name == "words64" else None
    for i, text in enumerate(TEXTS):
        assert np.array_equal(ours[i], _datasketch(text, num_perm, seed, n, hashfunc)), (hash_name, text[:30])


def test_stored_signature_loads_as_lean_minhash_and_compares_with_datasketch():
    sig = signatures(pl.Series(TEXTS[:1]), num_perm=128, seed=1, hash_name="sha1")[0]
    stored = np.frombuffer(sig.tobytes(), dtype=np.uint32)
    lean = LeanMinHash(seed=1, hashvalues=stored, scheme="affine32")
    theirs = MinHash(num_perm=128, seed=1)
    words = shingle_text(pl.Series(TEXTS[:1]))[0].split(" ")
    for i in range(len(words) - 4):
        theirs.update(" ".join(words[i : i + 5]).encode())
    assert lean.jaccard(LeanMinHash(theirs)) == 1.0


def test_empty_and_short_documents():
    sigs = signatures(pl.Series(["", "two words", "   "]), num_perm=16)
    assert (sigs[0] == 0xFFFFFFFF).all() and (sigs[2] == 0xFFFFFFFF).all()
    assert (sigs[1] != 0xFFFFFFFF).all(), "a document shorter than n words still gets a signature"


@pytest.mark.parametrize(("threshold", "num_perm"), [(0.8, 128), (0.5, 64), (0.9, 256)])
def test_optimal_bands_match_datasketch(threshold, num_perm):
    assert optimal_bands(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_band_hashes_equal_iff_band_equal():
    sigs = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [5, 2, 3, 4]], dtype=np.uint32)
    h = band_hashes(sigs, 2, 2)
    assert h[0, 0] == h[1, 0] and h[0, 1] != h[1, 1] and h[0, 1] == h[2, 1] and h[0, 0] != h[2, 0]


def test_connected_components_label_by_smallest_member():
    labels = connected_components(6, np.array([[4, 5], [1, 3], [3, 5]]))
    assert labels.tolist() == [0, 1, 2, 1, 1, 1]
