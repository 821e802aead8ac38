"""MinHash signatures are datasketch-identical; shingling kernels agree with the reference; LSH helpers."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import polars as pl
import pytest
from datasketch import LeanMinHash, MinHash
from datasketch.lsh import _optimal_param
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.dedup.lsh import band_hashes, connected_components, optimal_bands
from curate.dedup.minhash import signatures, to_lean_minhash, words64_hash32
from curate.dedup.sha1 import sha1_hash32
from curate.dedup.shingles import jaccard_pairs, prepare, shingle_sets, shingle_text, shingles
from curate.text import Normalization
from tests.corpus import make_corpus

TEXTS = [
    "The quick brown fox jumps over the lazy dog, again and again and again!",
    "Short text.",
    "",
    "Ünïcode wörds — are fine; CAPITALS too: 42 times. İstanbul ǅ x\u00a0y\u2003z",
    "word " * 30,
] + [d.text for d in make_corpus(6, seed=2)]


def _datasketch(text: str, num_perm: int, seed: int, n: int, unit: str, hashfunc=None) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed) if hashfunc is None else MinHash(num_perm=num_perm, seed=seed, hashfunc=hashfunc)
    for s in shingles(text, n, unit):  # type: ignore[arg-type]
        m.update(s)
    return m.hashvalues


@pytest.mark.parametrize(("hash_name", "unit", "num_perm", "seed", "n"), [
    ("sha1", "word", 128, 1, 5), ("sha1", "word", 64, 42, 3), ("words64", "word", 128, 1, 5),
    ("words64", "word", 32, 7, 1), ("sha1", "char", 32, 3, 5), ("words64", "char", 64, 1, 9),
])
def test_signatures_identical_to_datasketch(hash_name, unit, num_perm, seed, n):
    ours = signatures(pl.Series(TEXTS), num_perm=num_perm, seed=seed, n=n, hash_name=hash_name, unit=unit)
    hashfunc = words64_hash32 if hash_name == "words64" else None
    for i, text in enumerate(TEXTS):
        assert np.array_equal(ours[i], _datasketch(text, num_perm, seed, n, unit, hashfunc)), (hash_name, text[:30])


@pytest.mark.parametrize("length", [0, 1, 55, 56, 63, 64, 65, 119, 120, 200])
def test_sha1_matches_hashlib(length):
    data = np.random.default_rng(length).integers(0, 256, length, dtype=np.uint8)
    buf = np.concatenate([np.zeros(3, np.uint8), data, np.zeros(2, np.uint8)])
    scratch = np.empty(64, np.uint8), np.empty(80, np.int64), np.empty(5, np.int64)
    expected = struct.unpack("<I", hashlib.sha1(data.tobytes()).digest()[:4])[0]
    assert sha1_hash32(buf, 3, 3 + length, *scratch) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), min_size=1, max_size=5),
       st.booleans(), st.booleans(), st.booleans())
def test_compiled_normalization_equals_polars_reference(texts, lowercase, punct, digits):
    norm = Normalization(lowercase=lowercase, strip_punctuation=punct, strip_digits=digits)
    buf, starts, ends = prepare(pl.Series(texts, dtype=pl.String), norm)
    ours = [bytes(buf[s:e]).decode() for s, e in zip(starts, ends, strict=True)]
    assert ours == shingle_text(pl.Series(texts, dtype=pl.String), norm).to_list()


def test_stored_signature_loads_as_lean_minhash_and_compares_with_datasketch():
    sig = signatures(pl.Series(TEXTS[:1]), num_perm=128, seed=1, hash_name="sha1")[0]
    lean = to_lean_minhash(sig.tobytes(), seed=1)
    theirs = MinHash(num_perm=128, seed=1)
    theirs.update_batch(shingles(TEXTS[0]))
    assert isinstance(lean, LeanMinHash) and lean.jaccard(LeanMinHash(theirs)) == 1.0 and lean == LeanMinHash(theirs)


def test_empty_and_short_documents():
    sigs = signatures(pl.Series(["", "two words", "   ", None, "?!"], dtype=pl.String), num_perm=16)
    for empty in (0, 2, 3, 4):
        assert (sigs[empty] == 0xFFFFFFFF).all(), "no shingle: datasketch's empty signature"
    assert (sigs[1] != 0xFFFFFFFF).all(), "a document shorter than n words still gets a signature"
    assert shingles("two words", 5) == [b"two words"] and shingles("ab", 5, "char") == [b"ab"]


def test_shingle_sets_and_exact_jaccard():
    texts = ["a b c d e f g", "a b c d e f h", "", "x"]
    values, offsets = shingle_sets(pl.Series(texts), n=3)
    assert np.diff(offsets).tolist() == [5, 5, 0, 1]
    ref = [set(shingles(t, 3)) for t in texts]
    got = jaccard_pairs(values, offsets, np.array([[0, 1], [0, 2], [2, 2], [1, 3]]))
    assert got.tolist() == pytest.approx([len(ref[0] & ref[1]) / len(ref[0] | ref[1]), 0.0, 1.0, 0.0])


@pytest.mark.parametrize("num_perm", [16, 64, 100, 128, 256])
@pytest.mark.parametrize("fn_weight", [0.2, 0.5, 0.8])
def test_optimal_bands_match_datasketch(num_perm, fn_weight):
    """Gauss-Legendre (exact for these polynomials) picks what datasketch's scipy quad picks."""
    for threshold in (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95):
        ours = optimal_bands(threshold, num_perm, 1 - fn_weight, fn_weight)
        assert ours == _optimal_param(threshold, num_perm, 1 - fn_weight, fn_weight), threshold


def test_band_hashes_equal_iff_band_equal():
    sigs = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [5, 2, 3, 4]], dtype=np.uint32)
    h = band_hashes(sigs, 2, 2)
    assert h[0, 0] == h[1, 0] and h[0, 1] != h[1, 1] and h[0, 1] == h[2, 1] and h[0, 0] != h[2, 0]


def test_connected_components_label_by_smallest_member():
    labels = connected_components(6, np.array([[4, 5], [1, 3], [3, 5]]))
    assert labels.tolist() == [0, 1, 2, 1, 1, 1]
