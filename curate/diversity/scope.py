"""Score the diversity of a *scope*: any SQL selection of documents, sampled with a seed, with bootstrap CIs.

``score_scope(catalog, where=..., scope_kind=..., scope_id=...)`` reads the scope from the catalog,
draws a seeded sample (size recorded), computes every metric of :mod:`curate.diversity.metrics` on it,
adds a bootstrap 95% percentile interval (resampling documents), and writes rows to ``diversity``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from curate.diversity import metrics as m
from curate.text import WORD_PATTERN, gram_keys
from curate.topics import featurizer, load_topic_model

TOPIC_MODEL = Path("stages/topics/model/topic_model.joblib")


@dataclass
class Sample:
    """The sampled documents of a scope with everything the metrics read."""

    texts: list[str]
    topics: list[int] | None
    langs: list[str] | None
    sources: list[str]
    embeddings: np.ndarray
    dup_sizes: list[int] | None
    gram_keys: dict[int, list[np.ndarray]]  # per n, per document: 64-bit keys of its lowercased word n-grams
    doc_mattr: np.ndarray

    @classmethod
    def build(cls, texts: list[str], topics, langs, sources, embeddings, dup_sizes) -> "Sample":  # noqa: ANN001
        hashes = pl.Series(texts).str.to_lowercase().str.extract_all(WORD_PATTERN).list.eval(pl.element().hash(seed=0)).to_list()
        arrays = [np.asarray(h, dtype=np.uint64) for h in hashes]
        keys = {n: [gram_keys(a, n) if len(a) >= n else np.empty(0, np.uint64) for a in arrays] for n in (1, 2, 3, 4)}
        doc_mattr = np.array([m.mattr([t]) for t in texts])
        return cls(texts, topics, langs, sources, embeddings, dup_sizes, keys, doc_mattr)

    def take(self, idx: np.ndarray) -> "Sample":
        pick = lambda xs: None if xs is None else [xs[i] for i in idx]  # noqa: E731
        keys = {n: [ks[i] for i in idx] for n, ks in self.gram_keys.items()}
        return Sample([self.texts[i] for i in idx], pick(self.topics), pick(self.langs), [self.sources[i] for i in idx],
                      self.embeddings[idx], pick(self.dup_sizes), keys, self.doc_mattr[idx])

    def grams(self, n: int) -> np.ndarray:
        return np.concatenate(self.gram_keys[n]) if self.gram_keys[n] else np.empty(0, np.uint64)


def _distinct(keys: np.ndarray) -> float:
    """distinct-n on hashed n-grams (same value as metrics.distinct_n up to 64-bit hash collisions)."""
    return len(np.unique(keys)) / len(keys) if len(keys) else 0.0


def _gram_entropy(keys: np.ndarray) -> float:
    return m.entropy(np.unique(keys, return_counts=True)[1]) if len(keys) else 0.0


def metric_functions(q: float) -> dict[str, Callable[[Sample], float | None]]:
    out: dict[str, Callable[[Sample], float | None]] = {}
    for n in (1, 2, 3, 4):
        out[f"distinct_{n}"] = lambda s, n=n: _distinct(s.grams(n))
    out["ngram_entropy_2"] = lambda s: _gram_entropy(s.grams(2))
    out["compression_ratio"] = lambda s: m.compression_ratio(s.texts)
    out["type_token_ratio"] = lambda s: _distinct(s.grams(1))
    out["mattr"] = lambda s: float(s.doc_mattr.mean()) if len(s.doc_mattr) else 0.0
    out["topic_entropy"] = lambda s: None if s.topics is None else m.label_entropy(s.topics)
    out["effective_topics"] = lambda s: None if s.topics is None else m.effective_number(s.topics)
    out["lang_entropy"] = lambda s: None if s.langs is None else m.label_entropy(s.langs)
    out["source_entropy"] = lambda s: m.label_entropy(s.sources)
    out["vendi"] = lambda s: m.vendi_score(s.embeddings, q)
    out["mean_cosine_distance"] = lambda s: m.mean_pairwise_cosine_distance(s.embeddings)
    out["near_dup_rate"] = lambda s: None if s.dup_sizes is None else float(np.mean([x > 1 for x in s.dup_sizes]))
    out["largest_cluster_share"] = lambda s: None if s.dup_sizes is None else max(s.dup_sizes) / len(s.dup_sizes)
    return out


def load_scope(catalog, where: str = "true", base: str = "kept_documents") -> pl.DataFrame:  # noqa: ANN001
    """The scope's documents with the columns the metrics read (lang, topic, dup cluster when present)."""
    if ";" in where:
        raise ValueError("a scope's WHERE clause must be a single expression (no ';')")
    columns = set(catalog.query("SELECT * FROM doc_signals LIMIT 0").columns)
    extra = [c for c in ("lang", "topic_id", "minhash_cluster_size") if c in columns]
    select = ", ".join(["d.doc_id", "d.text", "d.source", *(f"s.{c}" for c in extra)])
    return catalog.query(f"SELECT {select} FROM {base} d LEFT JOIN doc_signals s USING (doc_id) WHERE ({where}) ORDER BY d.doc_id")


MAX_CHARS = 4000


def build_sample(catalog, rows: pl.DataFrame, seed: int) -> Sample:  # noqa: ANN001
    """A Sample of the given rows, embedded with the run's topic model (or a featurizer fitted here).

    Text metrics read each document's first MAX_CHARS characters, so a few very long documents do not
    dominate a scope's n-gram statistics (and cost stays bounded per document).
    """
    texts = rows["text"].str.slice(0, MAX_CHARS).to_list()
    model_path = catalog.run_dir / TOPIC_MODEL
    if model_path.exists():
        embeddings = load_topic_model(model_path).embed(texts)
    elif len(texts) > 2:
        embeddings = featurizer(max(2, min(64, len(texts) - 1)), seed).fit_transform(texts)
    else:
        embeddings = np.ones((len(texts), 1))
    col = lambda c: rows[c].to_list() if c in rows.columns else None  # noqa: E731
    return Sample.build(texts, col("topic_id"), col("lang"), rows["source"].to_list(), np.asarray(embeddings), col("minhash_cluster_size"))


def sample_rows(n_docs: int, sample_size: int, seed: int) -> np.ndarray:
    """Seeded indices of a uniform sample without replacement (all rows when the scope is small)."""
    if n_docs <= sample_size:
        return np.arange(n_docs)
    return np.sort(np.random.default_rng(seed).choice(n_docs, size=sample_size, replace=False))


def score_sample(sample: Sample, n_boot: int, seed: int, q: float) -> dict[str, tuple[float | None, float | None, float | None]]:
    """Each metric's value and a bootstrap 95% interval (documents resampled with replacement).

    Resampling with replacement repeats documents, which biases set-based metrics (distinct-n, Vendi,
    compression) toward less diversity; the bootstrap estimates the spread well but not the location,
    so the interval is the 2.5-97.5 percentile band shifted to have the bootstrap median on the estimate.
    """
    rng = np.random.default_rng(seed)
    boots = [rng.integers(0, len(sample.texts), len(sample.texts)) for _ in range(n_boot)]
    out = {}
    for name, fn in metric_functions(q).items():
        value = fn(sample)
        if value is None or n_boot == 0:
            out[name] = (value, None, None)
            continue
        dist = np.asarray([fn(sample.take(idx)) for idx in boots], dtype=float)
        lo, mid, hi = np.percentile(dist, [2.5, 50, 97.5])
        out[name] = (value, float(value + lo - mid), float(value + hi - mid))
    return out


def scope_rows(
    sample: Sample, n_docs: int, scope_kind: str, scope_id: str, params: dict, n_boot: int, seed: int, q: float,
) -> list[dict]:
    """Rows for the ``diversity`` table from a scope's sample."""
    return [
        {"scope_kind": scope_kind, "scope_id": scope_id, "metric": metric, "value": value, "ci_low": lo, "ci_high": hi,
         "n_docs": n_docs, "sample_size": len(sample.texts), "params": json.dumps(params, sort_keys=True)}
        for metric, (value, lo, hi) in score_sample(sample, n_boot, seed, q).items()
    ]


ROW_SCHEMA = {"scope_kind": pl.String, "scope_id": pl.String, "metric": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
              "ci_high": pl.Float64, "n_docs": pl.Int64, "sample_size": pl.Int64, "params": pl.String}


def score_scope(
    catalog, where: str = "true", scope_kind: str = "adhoc", scope_id: str | None = None,  # noqa: ANN001
    sample_size: int = 1000, seed: int = 0, n_boot: int = 20, q: float = 1.0, base: str = "kept_documents", write: bool = True,
) -> pl.DataFrame:
    """Diversity rows for the documents of ``base`` matching ``where``; written to ``diversity`` if ``write``.

    Usable from Python on any run: ``score_scope(Catalog(run_dir), "lang = 'en'", "lang", "en")``.
    """
    scope_id = scope_id or where
    rows = load_scope(catalog, where, base)
    params = {"where": where, "seed": seed, "n_boot": n_boot, "q": q, "base": base}
    out = []
    if rows.height:
        sample = build_sample(catalog, rows[sample_rows(rows.height, sample_size, seed)], seed)
        out = scope_rows(sample, rows.height, scope_kind, scope_id, params, n_boot, seed, q)
    frame = pl.DataFrame(out, schema=ROW_SCHEMA)
    if write and not catalog.read_only:
        catalog.delete_where("diversity", scope_kind=scope_kind, scope_id=scope_id)
        catalog.append("diversity", frame)
    return frame
