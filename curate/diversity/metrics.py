"""Diversity metrics, each a pure function with its definition and reference.

Conventions: texts are lists of strings; words follow :mod:`curate.text`; entropies are in nats.
"""

from __future__ import annotations

import gzip
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from curate.text import words


def _ngrams(texts: Sequence[str], n: int) -> list[tuple[str, ...]]:
    grams: list[tuple[str, ...]] = []
    for text in texts:
        ws = [w.lower() for w in words(text)]
        grams.extend(tuple(ws[i : i + n]) for i in range(len(ws) - n + 1))
    return grams


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct-n: unique n-grams / total n-grams over all texts (Li et al. 2016). 0 when no n-gram."""
    grams = _ngrams(texts, n)
    return len(set(grams)) / len(grams) if grams else 0.0


def ngram_entropy(texts: Sequence[str], n: int) -> float:
    """Shannon entropy (nats) of the n-gram frequency distribution (Zhang et al. 2018)."""
    return entropy(Counter(_ngrams(texts, n)).values())


def compression_ratio(texts: Sequence[str]) -> float:
    """gzip compression ratio: raw bytes / gzip bytes of the concatenation (Shaib et al. 2024).

    Higher means more redundant, i.e. *less* diverse.
    """
    raw = "\n".join(texts).encode("utf-8")
    return len(raw) / len(gzip.compress(raw, compresslevel=9, mtime=0)) if raw else 0.0


def type_token_ratio(texts: Sequence[str]) -> float:
    """Type-token ratio: distinct lowercased words / words (Templin 1957)."""
    ws = [w.lower() for t in texts for w in words(t)]
    return len(set(ws)) / len(ws) if ws else 0.0


def mattr(texts: Sequence[str], window: int = 100) -> float:
    """Moving-average TTR (Covington & McFall 2010): mean TTR over sliding windows of ``window`` words.

    Computed per text and averaged over texts (texts shorter than the window use their plain TTR).
    """
    scores = []
    for text in texts:
        ws = [w.lower() for w in words(text)]
        if not ws:
            continue
        if len(ws) <= window:
            scores.append(len(set(ws)) / len(ws))
            continue
        counts = Counter(ws[:window])
        total = len(counts)
        for i in range(window, len(ws)):
            out, into = ws[i - window], ws[i]
            counts[out] -= 1
            if counts[out] == 0:
                del counts[out]
            counts[into] += 1
            total += len(counts)
        scores.append(total / (len(ws) - window + 1) / window)
    return float(np.mean(scores)) if scores else 0.0


def entropy(counts: Sequence[int] | object) -> float:
    """Shannon entropy (nats) of a discrete distribution given by counts (Shannon 1948)."""
    c = np.asarray(list(counts), dtype=float)
    c = c[c > 0]
    if c.size == 0:
        return 0.0
    p = c / c.sum()
    return float(-(p * np.log(p)).sum())


def label_entropy(labels: Sequence[object]) -> float:
    """Entropy of a categorical label (topic, language, source) over documents."""
    return entropy(Counter(labels).values())


def effective_number(labels: Sequence[object]) -> float:
    """Effective number of categories: exp(entropy) (Hill number of order 1; Jost 2006)."""
    return math.exp(label_entropy(labels)) if len(labels) else 0.0


def vendi_score(embeddings: np.ndarray, q: float = 1.0) -> float:
    """Vendi score (Friedman & Dieng 2023) with the cosine kernel on L2-normalized embeddings.

    VS_q = exp(H_q(λ)) with λ the eigenvalues of K/n, K_ij = <x_i, x_j>. For n > d the nonzero
    eigenvalues are those of XᵀX/n (d×d), which is what we decompose, so cost is O(n d² + d³).
    H_1 = -Σ λ log λ; for q ≠ 1, H_q = log(Σ λ^q) / (1 - q); q = inf gives 1/max λ.
    """
    x = np.asarray(embeddings, dtype=np.float64)
    if x.shape[0] == 0:
        return 0.0
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    n, d = x.shape
    gram = (x.T @ x) / n if n > d else (x @ x.T) / n
    lam = np.clip(np.linalg.eigvalsh(gram), 0, None)
    lam = lam[lam > 1e-12]
    if math.isinf(q):
        return float(1.0 / lam.max())
    if q == 1:
        return float(math.exp(-(lam * np.log(lam)).sum()))
    return float(math.exp(math.log((lam**q).sum()) / (1 - q)))


def mean_pairwise_cosine_distance(embeddings: np.ndarray) -> float:
    """Mean of 1 - cos(x_i, x_j) over pairs i != j, in O(n d) via the mean vector."""
    x = np.asarray(embeddings, dtype=np.float64)
    n = x.shape[0]
    if n < 2:
        return 0.0
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    s = x.sum(axis=0)
    mean_sim = (s @ s - n) / (n * (n - 1))
    return float(1.0 - mean_sim)
