"""Diversity metrics: hand-computed tiny cases, extremes, monotonicity, vectorized == definition, Vendi
against the vendi-score package, bootstrap intervals."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from curate.diversity import fast
from curate.diversity import metrics as m
from curate.diversity.scope import ScopeSample, score_sample


def test_hand_computed_tiny_cases():
    texts = ["a b a b", "c"]  # unigrams a b a b c; bigrams ab ba ab
    assert m.distinct_n(texts, 1) == pytest.approx(3 / 5)
    assert m.distinct_n(texts, 2) == pytest.approx(2 / 3)
    assert m.distinct_n(texts, 3) == pytest.approx(2 / 2)
    assert m.ngram_entropy(texts, 1) == pytest.approx(-(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2)))
    assert m.type_token_ratio(["The the THE cat"]) == pytest.approx(2 / 4)
    # windows of 2 over "a a b b": {a}, {a,b}, {b} -> (1/2 + 2/2 + 1/2) / 3
    assert m.mattr(["a a b b"], window=2) == pytest.approx(2 / 3)
    assert m.label_entropy(["x", "x", "y", "y"]) == pytest.approx(math.log(2))
    assert m.effective_number(["x", "y", "z"]) == pytest.approx(3)
    assert m.near_dup_rate([1, 2, 2, 1]) == 0.5
    assert m.largest_cluster_share(["c1", "c1", "c1", "d"]) == 0.75


def test_identical_documents_are_minimally_diverse():
    doc = "alpha beta gamma delta epsilon zeta eta theta"
    same = [doc] * 10
    x = np.tile(np.array([[1.0, 2.0, 3.0]]), (10, 1))
    assert m.distinct_n(same, 2) == pytest.approx(7 / 70)
    assert m.label_entropy(["en"] * 10) == 0.0 and m.effective_number(["en"] * 10) == 1.0
    assert m.vendi_score(x) == pytest.approx(1.0)
    assert m.mean_pairwise_cosine_distance(x) == pytest.approx(0.0, abs=1e-12)
    assert m.largest_cluster_share(["k"] * 10) == 1.0


def test_disjoint_vocabularies_are_maximally_diverse():
    docs = [" ".join(f"w{i}_{j}" for j in range(8)) for i in range(10)]
    assert m.distinct_n(docs, 1) == 1.0 and m.distinct_n(docs, 4) == 1.0
    assert m.type_token_ratio(docs) == 1.0 and m.mattr(docs, window=4) == 1.0
    onehot = np.eye(10)
    assert m.vendi_score(onehot) == pytest.approx(10.0)
    assert m.vendi_score(onehot, q=2) == pytest.approx(10.0)
    assert m.vendi_score(onehot, q=float("inf")) == pytest.approx(10.0)
    assert m.mean_pairwise_cosine_distance(onehot) == pytest.approx(1.0)
    assert m.effective_number(list(range(10))) == pytest.approx(10.0)


def test_empty_inputs_are_zero():
    assert m.distinct_n([], 1) == 0.0 and m.ngram_entropy([""], 2) == 0.0 and m.compression_ratio([]) == 0.0
    assert m.mattr(["", "..."]) == 0.0 and m.vendi_score(np.empty((0, 3))) == 0.0
    assert m.mean_pairwise_cosine_distance(np.ones((1, 3))) == 0.0


def _topic_docs(rng: random.Random, topic: int, n: int) -> list[str]:
    vocab = [f"t{topic}w{j}" for j in range(40)]
    return [" ".join(rng.choice(vocab) for _ in range(60)) for _ in range(n)]


def test_a_new_topic_raises_topic_entropy_and_vendi():
    rng = np.random.default_rng(0)
    centers = np.eye(8)
    two = np.vstack([centers[t] + 0.05 * rng.standard_normal((20, 8)) for t in range(2)])
    three = np.vstack([two, centers[2] + 0.05 * rng.standard_normal((20, 8))])
    assert m.label_entropy([0] * 20 + [1] * 20 + [2] * 20) > m.label_entropy([0] * 20 + [1] * 20)
    assert m.vendi_score(three) > m.vendi_score(two) + 0.5
    assert m.vendi_score(three, q=float("inf")) > m.vendi_score(two, q=float("inf"))


def test_duplicating_documents_lowers_distinct_n_and_raises_compression():
    docs = _topic_docs(random.Random(1), 0, 20) + _topic_docs(random.Random(2), 1, 20)
    doubled = docs + docs[:20]
    for n in (1, 2, 3, 4):
        assert m.distinct_n(doubled, n) < m.distinct_n(docs, n)
    assert m.compression_ratio(doubled) > m.compression_ratio(docs)


def test_vectorized_word_metrics_equal_the_definitions():
    rng = random.Random(3)
    vocab = ["Ünïcode", "naïve", "a", "A", "x_1", "42"] + [f"w{i}" for i in range(25)]
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 300))) + "!" for _ in range(30)]
    texts += ["", "one", "two words", "three more words"]
    tokens, ones = fast.Tokens.of(texts), [np.ones(len(texts))]
    for n in (1, 2, 3, 4):
        (distinct, ent), = fast.gram_distinct_and_entropy(tokens, n, ones)
        assert distinct == pytest.approx(m.distinct_n(texts, n)) and ent == pytest.approx(m.ngram_entropy(texts, n))
    for window in (3, 100):
        assert fast.weighted_mean(fast.mattr_per_doc(tokens, window), ones)[0] == pytest.approx(m.mattr(texts, window))


def test_weights_score_the_resampled_multiset():
    texts = _topic_docs(random.Random(4), 0, 6) + _topic_docs(random.Random(5), 1, 6)
    draw = np.array([0, 0, 3, 7, 7, 7, 11, 2, 2, 5, 9, 9])
    w = np.bincount(draw, minlength=len(texts)).astype(float)
    picked = [texts[i] for i in draw]
    (distinct, ent), = fast.gram_distinct_and_entropy(fast.Tokens.of(texts), 2, [w])
    assert distinct == pytest.approx(m.distinct_n(picked, 2)) and ent == pytest.approx(m.ngram_entropy(picked, 2))
    x = np.random.default_rng(0).standard_normal((12, 5))
    assert m.vendi_score(x, weights=w) == pytest.approx(m.vendi_score(x[draw]))
    assert m.mean_pairwise_cosine_distance(x, weights=w) == pytest.approx(m.mean_pairwise_cosine_distance(x[draw]))


@pytest.mark.parametrize("q", [1.0, 0.5, 2.0])  # vendi-score 0.0.3 returns nan for q = inf
@pytest.mark.parametrize("shape", [(30, 8), (8, 30)])  # covariance path (n > d) and kernel path (n <= d)
def test_vendi_equals_the_vendi_score_package(q, shape):
    vendi = pytest.importorskip("vendi_score.vendi")
    x = m.unit_rows(np.random.default_rng(7).standard_normal(shape))
    kernel = x @ x.T
    expected = float(vendi.score_K(kernel, q=q))
    # rel 1e-6: for q < 1 the n - d round-off eigenvalues (~1e-17) of an n×n kernel add ~1e-8 through λ^q
    assert m.vendi_score(x, q) == pytest.approx(expected, rel=1e-6)
    assert m.vendi_score_from_kernel(kernel, q) == pytest.approx(expected, rel=1e-6)


def _sample(texts: list[str], topics: list[int]) -> ScopeSample:
    emb = np.asarray([[t == k for k in range(4)] for t in topics], dtype=float) + 0.01
    return ScopeSample(texts, emb, {"topic": np.asarray(topics)}, None, None)


def test_score_sample_intervals_bracket_the_estimate_and_are_seeded():
    rng = random.Random(6)
    texts = [d for t in range(4) for d in _topic_docs(rng, t, 15)]
    sample = _sample(texts, [t for t in range(4) for _ in range(15)])
    a, b = score_sample(sample, n_boot=30, seed=1), score_sample(sample, n_boot=30, seed=1)
    assert a == b
    for name, (value, lo, hi) in a.items():
        assert lo <= value + 1e-9 and value <= hi + 1e-9, name
    assert a["effective_topics"][0] == pytest.approx(4.0)
    assert a["distinct_1"][0] == pytest.approx(m.distinct_n(texts, 1))
    assert a["compression_ratio"][0] == pytest.approx(m.compression_ratio(texts))
    assert score_sample(sample, n_boot=0, seed=1)["vendi"][1] is None
