"""Diversity metrics, each a pure function with its definition and reference.

These are the *definitions*: plain, readable, over lists of texts, labels or embeddings. The scope
scorer uses vectorized equivalents (:mod:`curate.diversity.fast`) that tests check against these.

Conventions: words are :func:`curate.text.lower_words` (the text lowercased, then split); a document
shorter than n words has no n-gram; entropies are in nats; every metric of an empty input is 0.
"""

from __future__ import annotations

import gzip
import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from curate.text import lower_words, ngrams


def _ngrams(texts: Sequence[str], n: int) -> list[tuple[str, ...]]:
    grams: list[tuple[str, ...]] = []
    for text in texts:
        ws = lower_words(text)
        if len(ws) >= n:
            grams.extend(ngrams(ws, n))
    return grams


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct-n: distinct word n-grams / all word n-grams, pooled over the texts (Li et al. 2016,
    "A Diversity-Promoting Objective Function for Neural Conversation Models"). 1 = no n-gram repeats."""
    grams = _ngrams(texts, n)
    return len(set(grams)) / len(grams) if grams else 0.0


def ngram_entropy(texts: Sequence[str], n: int) -> float:
    """Shannon entropy (nats) of the pooled word n-gram distribution (Zhang et al. 2018, "Generating
    Informative and Diverse Conversational Responses via Adversarial Information Maximization")."""
    return entropy(Counter(_ngrams(texts, n)).values())


def compression_ratio(texts: Sequence[str]) -> float:
    """Compression ratio: UTF-8 bytes / gzip bytes of the texts joined by newlines (Shaib et al. 2024,
    "Standardizing the Measurement of Text Diversity"). Higher = more redundant, i.e. *less* diverse."""
    raw = "\n".join(texts).encode("utf-8")
    return len(raw) / len(gzip.compress(raw, compresslevel=9, mtime=0)) if raw else 0.0


def type_token_ratio(texts: Sequence[str]) -> float:
    """Type-token ratio: distinct words / words, pooled over the texts (Templin 1957). Equals distinct-1;
    falls with length, so compare scopes of similar size or use :func:`mattr`."""
    ws = [w for t in texts for w in lower_words(t)]
    return len(set(ws)) / len(ws) if ws else 0.0


def _doc_mattr(ws: list[str], window: int) -> float:
    if len(ws) <= window:
        return len(set(ws)) / len(ws)
    ratios = [len(set(ws[i : i + window])) / window for i in range(len(ws) - window + 1)]
    return sum(ratios) / len(ratios)


def mattr(texts: Sequence[str], window: int = 100) -> float:
    """Moving-average type-token ratio (Covington & McFall 2010, "Cutting the Gordian Knot: The
    Moving-Average Type-Token Ratio"): the mean TTR of every window of ``window`` consecutive words of a
    text (a text shorter than the window: its TTR), averaged over the texts that have words."""
    scores = [_doc_mattr(ws, window) for ws in map(lower_words, texts) if ws]
    return float(np.mean(scores)) if scores else 0.0


def entropy(counts: Iterable[float]) -> float:
    """Shannon entropy H = -Σ p log p (nats) of the distribution proportional to ``counts`` (Shannon 1948)."""
    c = np.asarray(counts if isinstance(counts, np.ndarray) else list(counts), dtype=float)
    c = c[c > 0]
    if c.size == 0:
        return 0.0
    p = c / c.sum()
    return max(0.0, float(-(p * np.log(p)).sum()))


def label_entropy(labels: Sequence[object]) -> float:
    """Entropy of a categorical label over documents (topic, language or source): 0 when all documents
    share one label, log(k) when k labels are equally frequent."""
    return entropy(Counter(labels).values())


def effective_number(labels: Sequence[object]) -> float:
    """Effective number of categories exp(H), the Hill number of order 1 (Jost 2006, "Entropy and
    diversity"): k for k equally frequent labels, whatever k is."""
    return math.exp(label_entropy(labels)) if len(labels) else 0.0


def _hill_of_spectrum(lam: np.ndarray, q: float) -> float:
    """exp of the Rényi entropy of order q of a probability vector (Hill number of order q)."""
    lam = lam[lam > 0]
    if lam.size == 0:
        return 0.0
    if math.isinf(q):
        return float(1.0 / lam.max())
    if q == 1:
        return float(math.exp(-(lam * np.log(lam)).sum()))
    return float(math.exp(math.log((lam**q).sum()) / (1 - q)))


def vendi_score_from_kernel(kernel: np.ndarray, q: float = 1.0) -> float:
    """Vendi score (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine
    Learning"): VS_q(K) = exp(H_q(λ)), λ the eigenvalues of K/n for a PSD similarity matrix K with unit
    diagonal. 1 when all items are identical, n when all are orthogonal. O(n³)."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.shape[0] == 0:
        return 0.0
    lam = np.clip(np.linalg.eigvalsh(k / k.shape[0]), 0, None)
    return _hill_of_spectrum(lam, q)


def unit_rows(embeddings: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    x = np.asarray(embeddings, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def vendi_score(embeddings: np.ndarray, q: float = 1.0, weights: np.ndarray | None = None) -> float:
    """Vendi score with the cosine kernel K = XXᵀ on L2-normalized rows (see :func:`vendi_score_from_kernel`).

    The nonzero eigenvalues of XXᵀ/n equal those of the d×d covariance XᵀX/n, so for n > d that is what
    is decomposed: O(n d² + d³) instead of O(n³), exact, and cheap on 10⁵-10⁶ embeddings. ``weights``
    (integer multiplicities) score the multiset where row i appears ``weights[i]`` times (bootstrap).
    """
    x = unit_rows(embeddings)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    total = w.sum()
    if total == 0:
        return 0.0
    if x.shape[0] > x.shape[1]:
        gram = (x.T * w) @ x / total
    else:
        sw = np.sqrt(w)
        gram = (x * sw[:, None]) @ (x * sw[:, None]).T / total
    return _hill_of_spectrum(np.clip(np.linalg.eigvalsh(gram), 0, None), q)


def mean_pairwise_cosine_distance(embeddings: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean of 1 - cos(x_i, x_j) over ordered pairs i != j (a common embedding-spread measure, e.g.
    Tevet & Berant 2021). Computed in O(n d) from the sum vector: Σ_{i≠j} cos = |Σ x_i|² - n."""
    x = unit_rows(embeddings)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    n = w.sum()
    if n < 2:
        return 0.0
    s = (x * w[:, None]).sum(axis=0)
    self_sims = (w * (x * x).sum(axis=1)).sum()
    return float(1.0 - (s @ s - self_sims) / (n * (n - 1)))


def near_dup_rate(cluster_sizes: Sequence[int]) -> float:
    """Share of documents that have at least one exact or near duplicate in the corpus (their dedup
    cluster has size > 1; Lee et al. 2022, "Deduplicating Training Data Makes Language Models Better")."""
    sizes = np.asarray(cluster_sizes)
    return float((sizes > 1).mean()) if sizes.size else 0.0


def largest_cluster_share(cluster_ids: Sequence[object]) -> float:
    """Share of the scope held by its largest duplicate cluster (documents with no duplicate are their
    own cluster): 1/n when nothing repeats, 1 when every document is a copy of one."""
    counts = Counter(cluster_ids)
    return max(counts.values()) / len(cluster_ids) if counts else 0.0
