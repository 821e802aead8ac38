"""The interpolated Kneser–Ney n-gram LM: a hand-computed case, normalization, repeats as counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from curate.models.ngram import KneserNeyLM, doc_ngrams, fit_docs


def test_bigram_matches_a_hand_computed_case():
    """docs [1 2] and [1 3], vocab 4, EOS 0: padded ``0 1 2 0`` and ``0 1 3 0``.

    Bigram counts: (0,1)=2, (1,2)=(2,0)=(1,3)=(3,0)=1, so n1=4, n2=1 and D2 = 4/6 = 2/3.
    Continuation counts of the unigrams (distinct left neighbours): N(0)=2 (after 2 and 3), N(1)=N(2)=N(3)=1;
    total 5, n1=3, n2=1, D1 = 3/5; P1(w) = (N(w) - 3/5)/5 + (3/5)(4/5)/4 -> P1(0) = 2/5, P1(1..3) = 1/5.
    P(1|0) = (2 - 2/3)/2 + (2/3)(1/2) P1(1) = 2/3 + 1/15 = 11/15;  P(2|1) = (1 - 2/3)/2 + (2/3)(2/2)(1/5) = 3/10;
    P(0|2) = (1 - 2/3)/1 + (2/3)(1/1)(2/5) = 3/5;  P(0|1), unseen after 1, = (2/3)(2/2)(2/5) = 4/15.
    """
    lm = fit_docs([np.array([1, 2]), np.array([1, 3])], np.ones(2), order=2, vocab_size=4)
    assert lm.levels[2].discount == pytest.approx(2 / 3) and np.exp(lm.logprob(np.array([[0, 0]]))) == pytest.approx(
        (2 / 3) * (1 / 2) * (2 / 5))
    assert np.exp(lm.logprob(np.array([[0, 1], [1, 2], [2, 0], [1, 0]]))) == pytest.approx([11 / 15, 3 / 10, 3 / 5, 4 / 15])
    assert lm.unigram == pytest.approx([2 / 5, 1 / 5, 1 / 5, 1 / 5])
    # a document is scored as EOS ids EOS: P(1|0) P(2|1) P(0|2)
    assert lm.doc_bits([np.array([1, 2])])[0] == pytest.approx(-math.log2(11 / 15 * 3 / 10 * 3 / 5))


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_distribution_sums_to_one_over_the_vocabulary(order):
    rng = np.random.default_rng(order)
    docs = [rng.integers(1, 9, size=rng.integers(0, 30)) for _ in range(40)]
    lm = fit_docs(docs, rng.integers(1, 4, size=40), order, vocab_size=12)
    contexts = [(0,) * (order - 1), tuple(docs[0][: order - 1]) if len(docs[0]) >= order - 1 else (0,) * (order - 1),
                (11,) * (order - 1), tuple(rng.integers(0, 12, size=order - 1))]
    for ctx in contexts:
        grams = np.array([[*ctx, w] for w in range(12)], dtype=np.int64)
        p = np.exp(lm.logprob(grams))
        assert p.sum() == pytest.approx(1.0, abs=1e-12) and (p > 0).all()


def test_repeats_count_like_copies_and_grams_follow_the_trainer():
    rng = np.random.default_rng(0)
    docs = [rng.integers(1, 50, size=n) for n in (5, 0, 17, 9)]
    repeats = np.array([2, 1, 3, 1])
    weighted = fit_docs(docs, repeats, 3, 64)
    copied = fit_docs([d for d, r in zip(docs, repeats, strict=True) for _ in range(r)], np.ones(repeats.sum()), 3, 64)
    probe = [rng.integers(0, 64, size=30), docs[2]]
    assert weighted.doc_bits(probe) == pytest.approx(copied.doc_bits(probe))
    grams, doc = doc_ngrams([np.array([7, 8, 9])], 3)
    assert grams.tolist() == [[0, 0, 7], [0, 7, 8], [7, 8, 9], [8, 9, 0]] and doc.tolist() == [0, 0, 0, 0]
    assert doc_ngrams(docs, 2)[0].shape == (sum(len(d) + 1 for d in docs), 2)


def test_ids_outside_the_vocabulary_are_refused():
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 4\)"):
        fit_docs([np.array([1, 5])], np.ones(1), 2, 4)
    with pytest.raises(ValueError, match="int64 key"):
        KneserNeyLM(4, 2**20)
