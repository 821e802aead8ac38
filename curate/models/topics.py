"""Topic model: hashed TF-IDF (word 1-2-grams, sublinear tf) -> TruncatedSVD -> L2 -> k-means.

Fitted on a seeded sample, saved with joblib next to a JSON manifest, and reused to assign any text (a
shard, a mixture, an eval set) to the same topics: ``assign(load_topic_model(path), texts)``. ``k`` is
given, or chosen on the sample by the best silhouette (Rousseeuw 1987) over a range. Topic labels: the
most distinctive terms of each cluster by class-based TF-IDF (c-TF-IDF, Grootendorst 2022, BERTopic)
and the sample documents nearest each centroid. Optional dense features: all-MiniLM-L6-v2 sentence
embeddings (:mod:`curate.models.embeddings`, extra ``mixlab[embeddings]``).
"""

from __future__ import annotations

import io
import json
import re
import warnings
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from curate.core import storage
from curate.core.storage import Location

if TYPE_CHECKING:  # scikit-learn and joblib load on first use: 2 s of every CLI and worker start on 2 cores
    from sklearn.cluster import KMeans
    from sklearn.pipeline import Pipeline

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
LABEL_TOKEN_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"  # label terms: alphabetic words of 3+ letters
MAX_CHARS = 20_000  # features read a document's first 20k characters: bounded cost per document
Features = Literal["tfidf", "minilm"]


@dataclass
class TopicModel:
    """A fitted featurizer (text -> unit vectors), k centroids and the topics' labels."""

    features: Any  # has .transform(list[str]) -> array of unit rows
    kmeans: KMeans
    labels: list[dict] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    sklearn_version: str = field(default_factory=lambda: version("scikit-learn"))

    @property
    def k(self) -> int:
        return int(self.kmeans.n_clusters)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-norm feature vectors of the texts (each read up to MAX_CHARS characters)."""
        return np.asarray(self.features.transform([t[:MAX_CHARS] for t in texts]), dtype=np.float32)

    def assign_vectors(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest centroid by cosine, and the cosine distance to it, of already embedded texts."""
        centers = self.kmeans.cluster_centers_
        centers = centers / np.maximum(np.linalg.norm(centers, axis=1, keepdims=True), 1e-12)
        # einsum, not ``@``: BLAS blocks a product by its shape, so a row's similarities (last bits) would
        # depend on how many rows share its batch, i.e. on the shard layout
        sims = np.einsum("ij,kj->ik", vectors, centers.astype(np.float32))
        ids = sims.argmax(axis=1)
        return ids.astype(np.int32), (1.0 - sims[np.arange(len(ids)), ids]).astype(np.float64)

    def save(self, path: Location) -> None:
        """Write the model (joblib) and ``<path>.json`` (k, params, scikit-learn version) atomically,
        locally or on a remote data root (:mod:`curate.core.storage`)."""
        import joblib

        blob = io.BytesIO()
        joblib.dump(self, blob)
        storage.write_bytes(path, blob.getvalue())
        manifest = {"k": self.k, "params": self.params, "sklearn_version": self.sklearn_version,
                    "labels": [{k: v for k, v in label.items() if k != "examples"} for label in self.labels]}
        storage.write_bytes(path.with_suffix(".json"), json.dumps(manifest, indent=2, sort_keys=True).encode())


def assign(model: TopicModel, texts: list[str], batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Topic id (int32) and cosine distance to its centroid (float64) of each text, in batches."""
    ids, dists = [np.empty(0, np.int32)], [np.empty(0)]
    for start in range(0, len(texts), batch_size):
        i, d = model.assign_vectors(model.embed(texts[start : start + batch_size]))
        ids.append(i)
        dists.append(d)
    return np.concatenate(ids), np.concatenate(dists)


def load_topic_model(path: Location | str) -> TopicModel:
    """Load a saved model (local path or URL); warns when it was fitted with another scikit-learn version."""
    import joblib

    with storage.location(path).open("rb") as src:
        model = joblib.load(src)
    if not isinstance(model, TopicModel):
        raise TypeError(f"{path} does not hold a TopicModel")
    if model.sklearn_version != version("scikit-learn"):
        warnings.warn(f"topic model {path} was fitted with scikit-learn {model.sklearn_version}, "
                      f"loaded with {version('scikit-learn')}", stacklevel=2)
    return model


def featurizer(n_components: int, seed: int, n_features: int = 2**18) -> Pipeline:
    """Hashed word 1-2-gram counts -> sublinear TF-IDF (idf from the fit sample) -> SVD -> unit vectors
    (latent semantic analysis, Deerwester et al. 1990); stateless hashing keeps memory fixed. ARPACK's
    exact SVD works on the sparse matrix directly (3x faster than randomized SVD over 2^18 hashed columns,
    and the same subspace whatever the seed)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import Normalizer

    return Pipeline([
        ("hash", HashingVectorizer(ngram_range=(1, 2), n_features=n_features, alternate_sign=False, norm=None,
                                   token_pattern=TOKEN_PATTERN, dtype=np.float32)),
        ("tfidf", TfidfTransformer(sublinear_tf=True)),
        ("svd", TruncatedSVD(n_components=n_components, algorithm="arpack", random_state=seed)),
        ("l2", Normalizer()),
    ])


def _kmeans(k: int, seed: int, n_init: int = 30) -> KMeans:
    """Full-batch k-means (Lloyd, k-means++, ``n_init`` restarts) on the fit sample.

    The sample is bounded (``sample_size`` x SVD dims), so full batches cost about a second; on real
    text they reach lower inertia than MiniBatchKMeans and nearly the same partition whatever the seed
    (measured on 4,169 documents from five sources here: ARI between seeds 0.996 vs 0.745 for MiniBatchKMeans)."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, random_state=seed, n_init=n_init)


def choose_k(vectors: np.ndarray, k_range: tuple[int, int], seed: int, max_points: int = 4000) -> tuple[int, dict[int, float]]:
    """The k in [lo, hi] with the highest cosine silhouette on a seeded subsample; also every k's score."""
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(vectors), size=min(len(vectors), max_points), replace=False))
    scores: dict[int, float] = {}
    for k in range(max(2, k_range[0]), min(k_range[1], len(vectors) - 1) + 1):
        labels = _kmeans(k, seed, n_init=4).fit_predict(vectors)  # ranking k needs no 30 restarts
        if len(set(labels[idx])) >= 2:
            scores[k] = float(silhouette_score(vectors[idx], labels[idx], metric="cosine"))
    best = max(scores, key=lambda k: (scores[k], -k)) if scores else max(1, min(k_range[0], len(vectors)))
    return best, scores


def fit_topics(texts: list[str], doc_ids: list[str], k: int | None = None, k_range: tuple[int, int] = (4, 16),
               n_components: int = 32, seed: int = 0, features: Features = "tfidf", n_features: int = 2**18) -> TopicModel:
    """Fit features and k-means on a sample; label each topic (c-TF-IDF terms, nearest documents)."""
    if len(texts) < 2:
        raise ValueError(f"a topic model needs at least 2 documents, got {len(texts)}")
    if features == "minilm":
        from curate.models.embeddings import MiniLM

        featurize: Any = MiniLM()
    else:
        featurize = featurizer(max(2, min(n_components, len(texts) - 1)), seed, n_features)
    vectors = np.asarray(featurize.fit_transform([t[:MAX_CHARS] for t in texts]), dtype=np.float32)
    scores: dict[int, float] = {}
    if k is None:
        k, scores = choose_k(vectors, k_range, seed)
    k = max(1, min(k, len(texts)))
    model = TopicModel(featurize, _kmeans(k, seed).fit(vectors))
    model.params = {"k": k, "k_range": list(k_range), "n_components": n_components, "n_features": n_features, "seed": seed,
                    "features": features, "n_sample": len(texts), "silhouette": scores}
    ids, dist = model.assign_vectors(vectors)
    model.labels = label_topics(texts, doc_ids, ids, dist, k)
    return model


def label_stop_words() -> list[str]:
    """scikit-learn's English stop words plus mixlab's per-language function words (labels name content)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from curate.rules import stop_words

    pattern = re.compile(LABEL_TOKEN_PATTERN)
    words = set(ENGLISH_STOP_WORDS).union(*stop_words().values())
    return sorted(w for w in words if pattern.fullmatch(w))


def label_topics(texts: list[str], doc_ids: list[str], ids: np.ndarray, dist: np.ndarray, k: int,
                 n_terms: int = 8) -> list[dict]:
    """Per topic: size in the sample, top c-TF-IDF terms, the 3 sample documents nearest the centroid.

    c-TF-IDF of term t in class c: tf(t, c) / |c| · log(1 + A / f(t)), A the mean number of words per
    class and f(t) the frequency of t over all classes (Grootendorst 2022).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    counts = CountVectorizer(token_pattern=LABEL_TOKEN_PATTERN, max_features=50_000, lowercase=True,
                             stop_words=label_stop_words())
    try:
        tf = counts.fit_transform([t[:MAX_CHARS] for t in texts])
        vocab = np.array(counts.get_feature_names_out())
        per_class = np.vstack([np.asarray(tf[ids == t].sum(axis=0)).ravel() for t in range(k)]).astype(float)
    except ValueError:  # no alphabetic word anywhere in the sample
        vocab, per_class = np.array([]), np.zeros((k, 0))
    idf = np.log1p(per_class.sum() / max(k, 1) / np.maximum(per_class.sum(axis=0), 1))
    ctfidf = per_class / np.maximum(per_class.sum(axis=1, keepdims=True), 1) * idf
    labels = []
    for t in range(k):
        members = np.nonzero(ids == t)[0]
        nearest = members[np.argsort(dist[members], kind="stable")[:3]]
        top = [vocab[i] for i in np.argsort(-ctfidf[t], kind="stable")[:n_terms] if ctfidf[t, i] > 0] if len(vocab) else []
        labels.append({"topic_id": t, "sample_size": int(len(members)), "terms": ", ".join(top),
                       "examples": [doc_ids[i] for i in nearest]})
    return labels
