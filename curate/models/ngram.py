"""Interpolated Kneser–Ney token n-gram language model, vectorized with numpy.

The smoothing follows Chen & Goodman (1998), "An Empirical Study of Smoothing Techniques for Language
Modeling" (interpolated Kneser–Ney, one absolute discount per order):

    P_n(w | u) = max(c_n(u w) - D_n, 0) / c_n(u ·)  +  D_n · N1+(u ·) / c_n(u ·) · P_{n-1}(w | u')

where ``u'`` drops the oldest token of the context ``u``; ``c_n`` is the raw count at the highest order and
the continuation count N1+(· u w) (how many distinct tokens precede ``u w``) at lower orders; ``N1+(u ·)``
is the number of distinct words seen after ``u``. A context never seen at order n passes P_{n-1} through.
The unigram level interpolates with the uniform distribution over the vocabulary, so every token has a
positive probability. Discounts are Ney et al.'s estimate D_n = n1 / (n1 + 2 n2) from the counts of counts
of order n, kept within [0.05, 0.95] (a corpus repeated E times has no singletons, n1 = 0).

Documents are scored as the trainer scores them: each is ``EOS ids EOS`` and every token after the
first EOS is predicted; the context before the first EOS is padded with EOS (order - 1 of them), so the
first token of a document is conditioned on "start of document" only. N-grams are int64 keys
(token tuples in base ``vocab_size``); counting is ``np.unique``, lookup ``np.searchsorted``: no Python
loop runs per token.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EOS_ID = 0  # the trainer's end-of-document id (train/tokenizer.py puts <|endoftext|> first)
D_MIN, D_MAX = 0.05, 0.95


def doc_ngrams(docs: list[np.ndarray], order: int) -> tuple[np.ndarray, np.ndarray]:
    """(grams, doc) for documents of token ids: every n-gram ``order`` wide of ``EOS^(order-1) ids EOS``
    (one per predicted token: len(ids) + 1 per document) and the index of the document it belongs to."""
    lengths = np.array([len(d) + order for d in docs], dtype=np.int64)
    if not len(docs):
        return np.zeros((0, order), dtype=np.int64), np.zeros(0, dtype=np.int64)
    pad = np.full(order - 1, EOS_ID, dtype=np.int64)
    end = np.array([EOS_ID], dtype=np.int64)
    flat = np.concatenate([part for d in docs for part in (pad, np.asarray(d, dtype=np.int64), end)])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    n_grams = lengths - order + 1
    doc = np.repeat(np.arange(len(docs)), n_grams)
    first = np.repeat(starts, n_grams) + (np.arange(int(n_grams.sum())) - np.repeat(np.cumsum(n_grams) - n_grams, n_grams))
    grams = flat[first[:, None] + np.arange(order)[None, :]]
    return grams, doc


@dataclass
class _Level:
    """One order n >= 2: sorted n-gram keys and counts; sorted context keys, their totals and distinct followers."""

    keys: np.ndarray
    counts: np.ndarray
    ctx_keys: np.ndarray
    ctx_totals: np.ndarray
    ctx_types: np.ndarray
    discount: float


def _discount(counts: np.ndarray) -> float:
    n1, n2 = int(np.sum(counts == 1)), int(np.sum(counts == 2))
    return float(np.clip(n1 / (n1 + 2 * n2), D_MIN, D_MAX)) if n1 + n2 else 0.5


def _find(keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, found) of each query in the sorted ``keys``; index is 0 where not found."""
    if not len(keys):
        return np.zeros(len(queries), dtype=np.int64), np.zeros(len(queries), dtype=bool)
    idx = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    found = keys[idx] == queries
    return np.where(found, idx, 0), found


class KneserNeyLM:
    """An interpolated Kneser–Ney n-gram model over token ids ``0 .. vocab_size-1``."""

    def __init__(self, order: int, vocab_size: int) -> None:
        if order < 1 or vocab_size < 2:
            raise ValueError(f"order must be >= 1 and vocab_size >= 2, got {order}, {vocab_size}")
        if float(vocab_size) ** order >= 2.0**63:
            raise ValueError(f"vocab_size {vocab_size} ** order {order} does not fit an int64 key")
        self.order, self.vocab = order, vocab_size
        self.levels: dict[int, _Level] = {}
        self.unigram = np.full(vocab_size, 1.0 / vocab_size)

    def _key(self, grams: np.ndarray) -> np.ndarray:
        key = np.zeros(len(grams), dtype=np.int64)
        for j in range(grams.shape[1]):
            key = key * self.vocab + grams[:, j]
        return key

    def fit(self, grams: np.ndarray, weights: np.ndarray | None = None) -> KneserNeyLM:
        """Count n-grams (rows of ``grams``, ``order`` wide, each ``weights`` times: repeats counted)."""
        if grams.size and (grams.min() < 0 or grams.max() >= self.vocab):
            raise ValueError(f"token ids must lie in [0, {self.vocab}), got [{grams.min()}, {grams.max()}]")
        keys, inverse = np.unique(self._key(grams), return_inverse=True)
        counts = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(keys)).astype(np.float64)
        for n in range(self.order, 1, -1):
            ctx, first, types = np.unique(keys // self.vocab, return_index=True, return_counts=True)
            totals = np.add.reduceat(counts, first) if len(keys) else np.zeros(0)
            self.levels[n] = _Level(keys, counts, ctx, totals, types.astype(np.float64), _discount(counts))
            keys, counts = np.unique(keys % self.vocab ** (n - 1), return_counts=True)  # continuation counts
            counts = counts.astype(np.float64)
        uni = np.zeros(self.vocab)
        uni[keys] = counts
        total, discount = uni.sum(), _discount(uni[uni > 0])
        if total > 0:
            self.unigram = np.maximum(uni - discount, 0) / total + discount * np.count_nonzero(uni) / total / self.vocab
        return self

    def logprob(self, grams: np.ndarray) -> np.ndarray:
        """Natural-log probability of each row's last token given the tokens before it."""
        grams = np.asarray(grams, dtype=np.int64)
        p = self.unigram[grams[:, -1]]
        for n in range(2, self.order + 1):
            level = self.levels[n]
            key = self._key(grams[:, -n:])
            at, has = _find(level.keys, key)
            count = np.where(has, level.counts[at] if len(level.keys) else 0.0, 0.0)
            ctx, seen = _find(level.ctx_keys, key // self.vocab)
            if not seen.any():
                continue
            total, types, d = level.ctx_totals[ctx], level.ctx_types[ctx], level.discount
            p = np.where(seen, (np.maximum(count - d, 0) + d * types * p) / np.where(seen, total, 1.0), p)
        return np.log(p)

    def doc_bits(self, docs: list[np.ndarray]) -> np.ndarray:
        """Summed negative log2-likelihood of each document (``EOS ids EOS``, every token after the first EOS)."""
        grams, doc = doc_ngrams(docs, self.order)
        return np.bincount(doc, weights=-self.logprob(grams) / np.log(2), minlength=len(docs))


def fit_docs(docs: list[np.ndarray], repeats: np.ndarray, order: int, vocab_size: int) -> KneserNeyLM:
    """A model of documents as training sees them: each document ``repeats`` times, followed by EOS."""
    grams, doc = doc_ngrams(docs, order)
    return KneserNeyLM(order, vocab_size).fit(grams, np.asarray(repeats, dtype=np.float64)[doc])
