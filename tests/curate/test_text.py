"""One normalization: every path (one string, polars batch, compiled shingle kernel) agrees on any Unicode."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.dedup.shingles import prepare, shingle_text
from curate.diversity import fast
from curate.text import Normalization, lower_words, normalize, normalize_expr, word_count_expr, words, words_expr

TRICKY = list("İıIiΣσςΟΔΟΣßẞÅÅ\u0307\u0301\u00a0\u2028\u2029\u001c\u001f\u0085\t\n .,;-_'0123456789٣१ﬁＡ")
TEXTS = st.lists(st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(TRICKY)), max_size=40).map("".join)
NORMS = st.builds(Normalization, lowercase=st.booleans(), fold_whitespace=st.booleans(), strip_punctuation=st.booleans(),
                  strip_digits=st.booleans(), unicode_nfkc=st.booleans())


def _batch(texts: list[str], expr) -> list:  # noqa: ANN001
    return pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(expr(pl.col("t")))["t"].to_list()


@pytest.mark.parametrize(("text", "expected"), [
    ("İSTANBUL ılık", "i̇stanbul ılık"),  # İ lowercases to i + U+0307 (kept: a combining mark is a word character)
    ("ΟΔΟΣ ΟΔΟΣ.", "οδος οδος"),  # Greek final sigma
    ("STRASSE Straße ẞ", "strasse straße ß"),
    ("a\u001cb", "ab"),  # U+001C is not whitespace for either regex engine here
])
def test_normalize_on_turkish_greek_and_german(text, expected):
    assert normalize(text) == expected
    assert _batch([text], normalize_expr)[0] == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=5), NORMS)
def test_one_string_batch_and_kernel_paths_agree(texts, norm):
    batch = _batch(texts, lambda e: normalize_expr(e, norm))
    assert [normalize(t, norm) for t in texts] == batch
    buf, starts, ends = prepare(pl.Series(texts), norm)
    kernel = [bytes(buf[s:e]).decode("utf-8") for s, e in zip(starts, ends, strict=True)]
    assert kernel == shingle_text(pl.Series(texts), norm).to_list()


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=5))
def test_word_paths_agree(texts):
    assert [words(t) for t in texts] == _batch(texts, words_expr)
    assert [len(words(t)) for t in texts] == _batch(texts, word_count_expr)
    lowered = [lower_words(t) for t in texts]
    tokens = fast.Tokens.of(texts)
    assert [len(w) for w in lowered] == tokens.lengths().tolist()
    flat = pl.Series([w for ws in lowered for w in ws], dtype=pl.String).hash(seed=0).to_numpy()
    assert flat.tolist() == tokens.ids.tolist()
