"""Topic model: hashed TF-IDF (word 1-2-grams, sublinear tf) -> TruncatedSVD -> L2 -> MiniBatchKMeans.

Fitted on a seeded sample, saved with joblib, and reused to assign any text (a shard, a mixture, an
eval set) to the same topics. ``k`` is given, or chosen on the sample by the best silhouette over a
range. Topic labels: the most distinctive terms of each cluster by class-based TF-IDF (c-TF-IDF,
Grootendorst 2022) and the sample documents nearest each centroid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer

TOKEN_PATTERN = r"(?u)\b\w\w+\b"


@dataclass
class TopicModel:
    """A fitted featurizer (text -> unit vectors) and k centroids."""

    features: Pipeline
    kmeans: MiniBatchKMeans
    labels: list[dict] = field(default_factory=list)
    sklearn_version: str = sklearn.__version__

    @property
    def k(self) -> int:
        return int(self.kmeans.n_clusters)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.features.transform(texts).astype(np.float32)

    def assign(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Topic id and cosine distance to its centroid for each text."""
        if not texts:
            return np.empty(0, dtype=np.int32), np.empty(0)
        return self.assign_vectors(self.embed(texts))

    def assign_vectors(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest centroid (cosine) of already embedded texts."""
        centroids = self.kmeans.cluster_centers_ / np.maximum(np.linalg.norm(self.kmeans.cluster_centers_, axis=1, keepdims=True), 1e-12)
        sims = vectors @ centroids.T
        ids = sims.argmax(axis=1)
        return ids.astype(np.int32), (1.0 - sims[np.arange(len(ids)), ids]).astype(np.float64)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump(self, tmp)
        tmp.replace(path)


def load_topic_model(path: Path) -> TopicModel:
    model = joblib.load(path)
    if model.sklearn_version != sklearn.__version__:
        import warnings

        warnings.warn(f"topic model fitted with scikit-learn {model.sklearn_version}, loaded with {sklearn.__version__}", stacklevel=2)
    return model


def featurizer(n_components: int, seed: int, n_features: int = 2**16) -> Pipeline:
    """Hashed word 1-2-gram counts -> sublinear TF-IDF (idf from the fit sample) -> SVD -> unit vectors."""
    return Pipeline([
        ("hash", HashingVectorizer(ngram_range=(1, 2), n_features=n_features, alternate_sign=False, norm=None, token_pattern=TOKEN_PATTERN)),
        ("tfidf", TfidfTransformer(sublinear_tf=True)),
        ("svd", TruncatedSVD(n_components=n_components, random_state=seed, n_iter=4)),
        ("l2", Normalizer()),
    ])


def _kmeans(k: int, seed: int) -> MiniBatchKMeans:
    return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=2048)


def choose_k(vectors: np.ndarray, k_range: tuple[int, int], seed: int) -> int:
    """The k in [lo, hi] with the best silhouette on (a subsample of) the vectors."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(vectors), size=min(len(vectors), 3000), replace=False)
    best, best_k = -2.0, k_range[0]
    for k in range(k_range[0], min(k_range[1], len(vectors) - 1) + 1):
        labels = _kmeans(k, seed).fit_predict(vectors)
        if len(set(labels[idx])) < 2:
            continue
        score = silhouette_score(vectors[idx], labels[idx], metric="cosine")
        if score > best:
            best, best_k = score, k
    return best_k


def fit_topics(texts: list[str], doc_ids: list[str], k: int | None, k_range: tuple[int, int], n_components: int, seed: int) -> TopicModel:
    """Fit features and k-means on a sample; label each topic (c-TF-IDF terms, nearest documents)."""
    components = max(2, min(n_components, len(texts) - 1))
    features = featurizer(components, seed)
    vectors = features.fit_transform(texts).astype(np.float32)
    k = k or choose_k(vectors, k_range, seed)
    k = max(1, min(k, len(texts)))
    kmeans = _kmeans(k, seed).fit(vectors)
    model = TopicModel(features, kmeans)
    ids, dist = model.assign_vectors(vectors)
    model.labels = label_topics(texts, doc_ids, ids, dist, k)
    return model


def label_topics(texts: list[str], doc_ids: list[str], ids: np.ndarray, dist: np.ndarray, k: int, n_terms: int = 8) -> list[dict]:
    """Per topic: size in the sample, top c-TF-IDF terms, the 3 documents nearest the centroid."""
    counts = CountVectorizer(token_pattern=r"(?u)\b[^\W\d_]{3,}\b", max_features=50_000, lowercase=True)
    tf = counts.fit_transform(texts)
    vocab = np.array(counts.get_feature_names_out())
    per_class = np.vstack([np.asarray(tf[ids == t].sum(axis=0)).ravel() for t in range(k)]).astype(float)
    avg_words = per_class.sum() / max(k, 1)
    idf = np.log1p(avg_words / np.maximum(per_class.sum(axis=0), 1))
    ctfidf = per_class / np.maximum(per_class.sum(axis=1, keepdims=True), 1) * idf
    labels = []
    for t in range(k):
        members = np.nonzero(ids == t)[0]
        nearest = members[np.argsort(dist[members], kind="stable")[:3]]
        labels.append({
            "topic_id": t,
            "sample_size": int(len(members)),
            "terms": ", ".join(vocab[np.argsort(-ctfidf[t], kind="stable")[:n_terms]]) if len(vocab) else "",
            "examples": [doc_ids[i] for i in nearest],
        })
    return labels
