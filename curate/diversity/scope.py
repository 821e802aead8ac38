"""Score the diversity of a *scope*: any SQL selection of documents, sampled with a seed, with bootstrap CIs.

``score_scope(catalog, where=..., scope_kind=..., scope_id=...)`` selects the scope's documents, draws a
seeded uniform sample (its size and the seed are recorded), computes every metric on it, adds a
bootstrap 95% interval (documents resampled with replacement), and writes rows to ``diversity``.
Memory is bounded by the sample: the scope is first read without text (doc ids and labels only), then
only the sampled documents' texts are fetched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from curate.core.catalog import Catalog
from curate.diversity import fast
from curate.diversity import metrics as m

TOPIC_MODEL = "stages/topics/model/topic_model.joblib"  # on the run's data root
MAX_CHARS = 4000  # text metrics read each document's first 4,000 characters (bounded cost, no giant-doc skew)
BASES = ("kept_documents", "documents")
Embeddings = Literal["auto", "tfidf", "minilm"]
ROW_SCHEMA = {"scope_kind": pl.String, "scope_id": pl.String, "metric": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
              "ci_high": pl.Float64, "n_docs": pl.Int64, "sample_size": pl.Int64, "params": pl.String}


@dataclass
class ScopeSample:
    """The sampled documents of a scope: texts, unit embeddings, label codes, duplicate clusters."""

    texts: list[str]
    embeddings: np.ndarray
    labels: dict[str, np.ndarray]  # "topic" / "lang" / "source" -> integer codes, when known
    dup_sizes: np.ndarray | None  # size of each document's duplicate cluster in the corpus
    dup_codes: np.ndarray | None  # integer code of each document's duplicate cluster

    def take(self, idx: np.ndarray) -> "ScopeSample":
        recode = lambda a: None if a is None else np.unique(a[idx], return_inverse=True)[1]  # noqa: E731
        return ScopeSample([self.texts[i] for i in idx], self.embeddings[idx],
                           {k: recode(v) for k, v in self.labels.items()},
                           None if self.dup_sizes is None else self.dup_sizes[idx], recode(self.dup_codes))


def scope_relation(where: str, base: str = "kept_documents") -> str:
    """SQL of the scope's rows: every ``doc_signals`` column (alias ``s``) plus ``text`` (alias ``d``).

    ``where`` is the analyst's own SQL over their catalog (it cannot be bound); it is run inside a
    subquery, must be one expression, and may name columns plainly (``lang = 'en'``) or qualified
    (``s.lang``, ``d.doc_id``, ``d.text``).
    """
    if ";" in where:
        raise ValueError(f"a scope's WHERE clause must be one SQL expression, without ';': {where!r}")
    if base not in BASES:
        raise ValueError(f"base must be one of {BASES}, got {base!r}")
    return f"SELECT * FROM doc_signals s JOIN (SELECT doc_id, text FROM {base}) d USING (doc_id) WHERE ({where})"


def scope_index(catalog: Catalog, where: str = "true", base: str = "kept_documents") -> pl.DataFrame:
    """The scope's documents without text, sorted by doc_id: doc_id, source, and lang, topic_id,
    dup_size, dup_cluster when the stages that produce them ran."""
    columns = set(catalog.query("SELECT * FROM doc_signals LIMIT 0").columns)
    select = ["doc_id", "source"]
    if "lang" in columns:
        select.append("lang")
    if "topic_id" in columns:
        select.append("topic_id")
    dups = [p for p in ("minhash", "exact") if {f"{p}_cluster", f"{p}_cluster_size"} <= columns]
    if dups:
        sizes = ", ".join(f"coalesce({p}_cluster_size, 1)" for p in dups)
        keys = ", ".join(f"CASE WHEN {p}_cluster_size > 1 THEN {p}_cluster END" for p in dups)
        select += [f"greatest({sizes}, 1) AS dup_size", f"coalesce({keys}, doc_id) AS dup_cluster"]
    return catalog.query(f"SELECT {', '.join(select)} FROM ({scope_relation(where, base)}) ORDER BY doc_id")


def sample_rows(n_docs: int, sample_size: int, seed: int) -> np.ndarray:
    """Seeded, sorted indices of a uniform sample without replacement (all rows when the scope is small)."""
    if n_docs <= sample_size:
        return np.arange(n_docs)
    return np.sort(np.random.default_rng(seed).permutation(n_docs)[:sample_size])


def embed(catalog: Catalog, texts: list[str], seed: int, embeddings: Embeddings = "auto") -> tuple[np.ndarray, str]:
    """Unit embeddings of the texts and where they came from: the run's topic model (``auto`` when it
    exists), TF-IDF -> SVD fitted on these texts, or MiniLM sentence embeddings."""
    from curate.models.topics import featurizer, load_topic_model

    model_path = catalog.data_root / TOPIC_MODEL
    if embeddings == "minilm":
        from curate.models.embeddings import MiniLM

        return MiniLM().transform(texts), "minilm"
    if embeddings == "auto" and model_path.exists():
        return load_topic_model(model_path).embed(texts), "topic_model"
    if len(texts) < 3:
        return np.ones((len(texts), 1)), "constant"
    return featurizer(max(2, min(64, len(texts) - 1)), seed).fit_transform(texts), "tfidf_sample"


def build_sample(rows: pl.DataFrame, texts: dict[str, str], embeddings: np.ndarray, max_chars: int = MAX_CHARS) -> ScopeSample:
    """A ScopeSample of index rows, given the fetched texts and embeddings (one per row, in order)."""
    codes = lambda c: np.unique(rows[c].cast(pl.String).fill_null("").to_numpy(), return_inverse=True)[1]  # noqa: E731
    labels = {name: codes(col) for name, col in (("source", "source"), ("lang", "lang"), ("topic", "topic_id"))
              if col in rows.columns}
    has_dups = "dup_size" in rows.columns
    return ScopeSample([texts[d][:max_chars] for d in rows["doc_id"]], np.asarray(embeddings, dtype=np.float64), labels,
                       rows["dup_size"].to_numpy() if has_dups else None, codes("dup_cluster") if has_dups else None)


def fetch_texts(catalog: Catalog, doc_ids: list[str]) -> dict[str, str]:
    """Texts of the given documents (one scan of the documents' Parquet, keeping only these)."""
    frame = catalog.query("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest($ids))", {"ids": doc_ids})
    return dict(frame.iter_rows())


def metric_values(s: ScopeSample, weights: list[np.ndarray], q: float) -> dict[str, list[float]]:
    """Every metric under each weight vector (document multiplicities); index 0 is the estimate."""
    tokens = fast.Tokens.of(s.texts)
    out: dict[str, list[float]] = {}
    for n in (1, 2, 3, 4):
        stats = fast.gram_distinct_and_entropy(tokens, n, weights)
        out[f"distinct_{n}"] = [d for d, _ in stats]
        out[f"ngram_entropy_{n}"] = [e for _, e in stats]
    out["type_token_ratio"] = out["distinct_1"]
    out["mattr"] = fast.weighted_mean(fast.mattr_per_doc(tokens), weights)
    del tokens
    for name, codes in s.labels.items():
        ent = [e for e, _ in fast.label_stats(codes, weights)]
        out[f"{name}_entropy"] = ent
        if name == "topic":
            out["effective_topics"] = [float(np.exp(e)) for e in ent]
    out["vendi"] = [m.vendi_score(s.embeddings, q, w) for w in weights]
    out["mean_cosine_distance"] = [m.mean_pairwise_cosine_distance(s.embeddings, w) for w in weights]
    if s.dup_sizes is not None and s.dup_codes is not None:
        out["near_dup_rate"] = fast.weighted_mean((s.dup_sizes > 1).astype(float), weights)
        out["largest_cluster_share"] = [share for _, share in fast.label_stats(s.dup_codes, weights)]
    return out


def score_sample(s: ScopeSample, n_boot: int, seed: int, q: float = 1.0) -> dict[str, tuple[float, float | None, float | None]]:
    """Each metric's value and a bootstrap 95% interval (Efron & Tibshirani 1993; documents resampled).

    Resampling with replacement repeats documents, which biases set-based metrics (distinct-n, Vendi,
    compression) toward less diversity: the bootstrap estimates the spread well but not the location, so
    the interval is the 2.5-97.5 percentile band shifted to put the bootstrap median on the estimate.
    """
    n = len(s.texts)
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, n, n) for _ in range(n_boot if n > 1 else 0)]
    weights = [np.ones(n), *(np.bincount(d, minlength=n).astype(float) for d in draws)]
    values = metric_values(s, weights, q)
    values["compression_ratio"] = [m.compression_ratio(s.texts)] + [m.compression_ratio([s.texts[i] for i in d]) for d in draws]
    out = {}
    for name in sorted(values):
        value, boots = values[name][0], np.asarray(values[name][1:], dtype=float)
        if not len(boots):
            out[name] = (value, None, None)
            continue
        lo, mid, hi = np.percentile(boots, [2.5, 50, 97.5])
        out[name] = (value, float(value + lo - mid), float(value + hi - mid))
    return out


@dataclass(frozen=True)
class ScopeTask:
    """One scope to score: its sample, the number of documents it was drawn from, its row keys, the scoring
    settings, and ``params`` (recorded with its rows as JSON)."""

    sample: ScopeSample
    n_docs: int
    scope_kind: str
    scope_id: str
    params: dict[str, Any]
    n_boot: int
    seed: int
    q: float


def scope_rows(task: ScopeTask) -> pl.DataFrame:
    """Rows for the ``diversity`` table from a scope's sample."""
    rows = [{"scope_kind": task.scope_kind, "scope_id": task.scope_id, "metric": metric, "value": value, "ci_low": lo,
             "ci_high": hi, "n_docs": task.n_docs, "sample_size": len(task.sample.texts), "params": json.dumps(task.params, sort_keys=True)}
            for metric, (value, lo, hi) in score_sample(task.sample, task.n_boot, task.seed, task.q).items()]
    return pl.DataFrame(rows, schema=ROW_SCHEMA)


def score_scope(
    catalog: Catalog, where: str = "true", scope_kind: str = "adhoc", scope_id: str | None = None,
    sample_size: int = 1000, seed: int = 0, n_boot: int = 20, q: float = 1.0, base: str = "kept_documents",
    write: bool = True, embeddings: Embeddings = "auto", max_chars: int = MAX_CHARS,
) -> pl.DataFrame:
    """Diversity of the documents of ``base`` matching ``where``, one row per metric.

    Args:
        catalog: an open :class:`curate.core.catalog.Catalog` (read-only is fine with ``write=False``).
        where: one SQL expression over ``doc_signals`` columns and ``text`` (e.g. ``"lang = 'en'"``).
        scope_kind, scope_id: the row keys (``adhoc``, ``mixture``, ...); scope_id defaults to ``where``.
        sample_size, seed: the seeded uniform sample scored (the whole scope when smaller).
        n_boot: bootstrap resamples for the 95% intervals (0: no interval).
        q: order of the Vendi score (1 = Shannon; ``float('inf')`` = inverse of the largest eigenvalue).
        base: ``kept_documents`` (survivors of every stage) or ``documents`` (everything ingested).
        write: replace this scope's previous rows in ``diversity`` with the new ones.
        embeddings: ``auto`` (the run's topic model, else TF-IDF -> SVD on the sample), ``tfidf``, ``minilm``.
        max_chars: characters of each document read by the text metrics.
    """
    scope_id = scope_id if scope_id is not None else where
    index = scope_index(catalog, where, base)
    frame = pl.DataFrame(schema=ROW_SCHEMA)
    if index.height:
        rows = index[sample_rows(index.height, sample_size, seed)]
        texts = fetch_texts(catalog, rows["doc_id"].to_list())
        vectors, source = embed(catalog, [texts[d][:max_chars] for d in rows["doc_id"]], seed, embeddings)
        params = {"where": where, "base": base, "seed": seed, "n_boot": n_boot, "q": q if np.isfinite(q) else "inf", "max_chars": max_chars,
                  "embeddings": source}
        frame = scope_rows(ScopeTask(build_sample(rows, texts, vectors, max_chars), index.height, scope_kind, scope_id,
                                     params, n_boot, seed, q))
    if write:
        catalog.delete_where("diversity", scope_kind=scope_kind, scope_id=scope_id)
        catalog.append("diversity", frame)
    return frame
