"""Train a fastText quality classifier (as DCLM did: Li et al. 2024, "DataComp-LM", Section 4.4).

Positives (e.g. a reference corpus) and negatives (e.g. a random sample of the raw pool) come from
files or from SQL over a run's catalog. Both are cleaned the same way as at scoring time
(:func:`curate.models.classifier.clean_for_model`), split into train and held-out sets per class with a seeded shuffle, and a
supervised fastText model with word n-grams is trained single-threaded with that seed, so training is
reproducible byte for byte. The held-out precision, recall (at score 0.5) and ROC AUC are reported and
saved with the model in ``manifest.json`` (sources, sizes, hyper-parameters, metrics, model SHA-256).

Leak-free (:mod:`curate.models.fits`): with a run's catalog, SQL sources run with the eval split's
documents (and their duplicates) hidden from ``documents`` (and its text versions), ``kept_documents`` and ``doc_signals``, and
file sources lose every text whose normalized form equals one of theirs; the manifest records the split
(``eval_split``) and ``fit_docs.parquet`` beside the model the catalog documents whose text was read.

A classifier is *useless* (:func:`usefulness`) when its held-out AUC is below ``MIN_AUC`` (0.6) or the
scores it gives a pool span less than ``MIN_SCORE_SPAN`` (0.01 between the 5th and 95th percentiles):
it separates nothing, so its score must not be used as a filter, a signal or a confound.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate.core.catalog import Catalog
from curate.models.classifier import clean_for_model, fasttext_probs
from curate.models.fits import eval_docs_hidden, eval_exclusion, fit_doc_ids, without_eval_texts

MODEL_FILE = "model.bin"
MANIFEST_FILE = "manifest.json"
FIT_DOCS_FILE = "fit_docs.parquet"
MIN_AUC, MIN_SCORE_SPAN = 0.6, 0.01
POSITIVE, NEGATIVE = "__label__hq", "__label__lq"


class TextSource(BaseModel):
    """Where documents come from: a file (.txt one document per line, .jsonl[.gz] / .parquet with a
    ``text`` field) or SQL over the run's catalog returning a ``text`` column."""

    model_config = ConfigDict(extra="forbid")
    path: str | None = Field(None, description="File of documents (relative paths: from the working directory).")
    sql: str | None = Field(None, description="SQL over the catalog returning a `text` column.")
    limit: int | None = Field(None, ge=1, description="Use at most this many documents (a seeded sample).")

    @model_validator(mode="after")
    def _one_source(self) -> "TextSource":
        if (self.path is None) == (self.sql is None):
            raise ValueError("give exactly one of path or sql")
        return self


class TrainSpec(BaseModel):
    """A quality-classifier training job."""

    model_config = ConfigDict(extra="forbid")
    positives: TextSource = Field(description="High-quality reference documents.")
    negatives: TextSource = Field(description="Documents to score low (e.g. a random sample of the raw pool).")
    holdout: float = Field(0.2, gt=0, lt=1, description="Held-out fraction per class for the reported metrics.")
    seed: int = Field(0, description="Seed of the split, the sampling and fastText.")
    epoch: int = Field(5, ge=1, description="fastText epochs.")
    lr: float = Field(0.1, gt=0, description="fastText learning rate.")
    word_ngrams: int = Field(2, ge=1, le=5, description="fastText word n-grams (DCLM: 2).")
    dim: int = Field(64, ge=2, description="Embedding dimension.")
    min_count: int = Field(1, ge=1, description="Minimum word count in the vocabulary.")
    bucket: int = Field(2_000_000, ge=1000, description="Hash buckets of the word n-grams (fastText's default 2M; the model file is"
                        " bucket x dim x 4 bytes, 512 MB at the defaults: a few hundred thousand suffice for a few thousand documents).")
    max_chars: int = Field(20_000, ge=100, description="Documents are cut to this many characters (train and score).")


def read_texts(source: TextSource, catalog: Catalog | None, seed: int) -> list[str]:
    """Documents of one source (non-empty), in a seeded order that ignores the row order, at most ``limit``;
    with a catalog, never an eval document or a duplicate of one (see module docstring)."""
    return _read(source, catalog, seed)[0]


def _read(source: TextSource, catalog: Catalog | None, seed: int) -> tuple[list[str], int]:
    """:func:`read_texts`, and how many file texts were dropped for equalling an eval text."""
    n_dropped = 0
    if source.sql is not None:
        if catalog is None:
            raise ValueError("an SQL source needs a run's catalog")
        with eval_docs_hidden(catalog):
            frame = catalog.query(source.sql)
        where = "the SQL"
    else:
        frame, where = _read_file(Path(source.path)), source.path  # type: ignore[arg-type]
    if "text" not in frame.columns:
        raise ValueError(f"{where}: no `text` column (found {frame.columns})")
    texts = frame["text"].cast(pl.String).drop_nulls()
    if source.path is not None and catalog is not None:
        kept = without_eval_texts(catalog, texts)
        texts, n_dropped = kept, texts.len() - kept.len()
    texts = texts.filter(texts.str.strip_chars() != "").sort()  # SQL row order may vary with worker counts
    texts = texts.sample(min(texts.len(), source.limit or texts.len()), seed=seed, shuffle=True)
    if texts.len() == 0:
        raise ValueError(f"{where}: no documents")
    return texts.to_list(), n_dropped


def _read_file(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pl.read_parquet(path)
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        try:
            return pl.read_ndjson(path)
        except Exception as err:  # polars raises several error types for malformed JSON
            raise ValueError(f"{path}: unreadable JSON lines ({err})") from err
    if name.endswith(".txt"):
        return pl.DataFrame({"text": path.read_text(encoding="utf-8").splitlines()})
    raise ValueError(f"{path}: unsupported file type (use .txt, .jsonl, .jsonl.gz or .parquet)")


def _split(n: int, holdout: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    n_test = max(1, round(n * holdout)) if n > 1 else 0
    return order[n_test:], order[:n_test]


def positive_scores(model: Any, texts: list[str]) -> np.ndarray:
    """P(high quality) of each (already cleaned) text: the classifier stage's fastText scoring of one label."""
    return fasttext_probs(model, texts, [POSITIVE])[POSITIVE]


def evaluate(scores: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision and recall of score >= 0.5, and ROC AUC, on the held-out documents."""
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    pred = scores >= 0.5
    both = len(set(truth.tolist())) == 2
    return {
        "precision": float(precision_score(truth, pred, zero_division=0)),
        "recall": float(recall_score(truth, pred, zero_division=0)),
        "auc": float(roc_auc_score(truth, scores)) if both else float("nan"),
    }


def _write_fit_docs(catalog: Catalog | None, texts: list[str], n_dropped: int, out_dir: Path) -> dict[str, Any] | None:
    """``fit_docs.parquet`` (the catalog documents whose text was read) and the manifest's ``eval_split``."""
    if catalog is None:
        return None
    exclusion = eval_exclusion(catalog)
    exclusion.fit_rows("quality_model", fit_doc_ids(catalog, pl.Series(texts, dtype=pl.String))).write_parquet(out_dir / FIT_DOCS_FILE)
    return exclusion.manifest(n_dropped)


def train_quality_model(spec: TrainSpec, out_dir: Path, catalog: Catalog | None = None) -> dict[str, Any]:
    """Train, evaluate on the held-out split, and save ``model.bin`` + ``manifest.json`` in ``out_dir``
    (with a catalog, also ``fit_docs.parquet``: see the module docstring)."""
    import fasttext

    rng = np.random.default_rng(spec.seed)
    classes, read, n_dropped = [], [], 0
    for label, source in ((POSITIVE, spec.positives), (NEGATIVE, spec.negatives)):
        raw, dropped = _read(source, catalog, spec.seed)
        read, n_dropped = read + raw, n_dropped + dropped
        texts = clean_for_model(pl.Series(raw, dtype=pl.String), spec.max_chars)
        train_idx, test_idx = _split(len(texts), spec.holdout, rng)
        classes.append((label, [texts[i] for i in train_idx], [texts[i] for i in test_idx]))
    train_rows = [f"{label} {t}" for label, train, _ in classes for t in train]
    train_rows = [train_rows[i] for i in rng.permutation(len(train_rows))]
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        data = Path(tmp) / "train.txt"
        data.write_text("\n".join(train_rows) + "\n", encoding="utf-8")
        model = fasttext.train_supervised(
            input=str(data), epoch=spec.epoch, lr=spec.lr, wordNgrams=spec.word_ngrams, dim=spec.dim,
            minCount=spec.min_count, bucket=spec.bucket, thread=1, seed=spec.seed, verbose=0,
        )
        tmp_model = Path(tmp) / MODEL_FILE
        model.save_model(str(tmp_model))
        tmp_model.replace(out_dir / MODEL_FILE)
    test = [t for _, _, held in classes for t in held]
    truth = np.array([1] * len(classes[0][2]) + [0] * len(classes[1][2]))
    metrics = evaluate(positive_scores(model, test), truth) if len(test) else {}
    manifest = {
        "spec": spec.model_dump(mode="json"),
        "eval_split": _write_fit_docs(catalog, read, n_dropped, out_dir),
        "n_train": {label: len(train) for label, train, _ in classes},
        "n_heldout": {label: len(held) for label, _, held in classes},
        "metrics": metrics,
        "model_sha256": hashlib.sha256((out_dir / MODEL_FILE).read_bytes()).hexdigest(),
        "fasttext": _fasttext_version(),
    }
    tmp_manifest = out_dir / (MANIFEST_FILE + ".tmp")
    tmp_manifest.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    tmp_manifest.replace(out_dir / MANIFEST_FILE)
    return manifest


USEFULNESS_SCHEMA = {"auc": pl.Float64, "precision": pl.Float64, "recall": pl.Float64, "score_p05": pl.Float64,
                     "score_p95": pl.Float64, "useful": pl.Boolean, "reason": pl.String}  # the quality_model_fit table


def usefulness(metrics: dict[str, Any], scores: np.ndarray) -> dict[str, Any]:
    """The ``quality_model_fit`` row: held-out metrics, the 5th/95th percentiles of ``scores`` (a pool's
    scores), and whether the classifier is useful (AUC ≥ ``MIN_AUC`` when known, and p95 − p05 ≥
    ``MIN_SCORE_SPAN``), with the reason in words."""
    auc = float(metrics.get("auc", float("nan")))
    p05, p95 = (float(q) for q in np.quantile(scores, [0.05, 0.95])) if len(scores) else (float("nan"), float("nan"))
    span = p95 - p05
    problems = ([f"held-out AUC {auc:.3f} < {MIN_AUC}"] if auc < MIN_AUC else []) + \
               ([f"scores span {span:.4f} (p05 {p05:.4f}, p95 {p95:.4f}) < {MIN_SCORE_SPAN}"] if not span >= MIN_SCORE_SPAN else [])
    auc_text = "held-out AUC unknown (no manifest)" if np.isnan(auc) else f"held-out AUC {auc:.3f}"
    reason = "; ".join(problems) if problems else f"{auc_text}, scores span {span:.4f} (p05 {p05:.4f}, p95 {p95:.4f})"
    return {"auc": auc, "precision": float(metrics.get("precision", float("nan"))), "recall": float(metrics.get("recall", float("nan"))),
            "score_p05": p05, "score_p95": p95, "useful": not problems, "reason": reason}


def resolve_model_file(path: str | Path) -> Path:
    """``model.bin`` inside a trained folder, or the given model file itself."""
    path = Path(path).expanduser()
    file = path / MODEL_FILE if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"no quality model at {file} (train one with `curate quality train`)")
    return file


def _fasttext_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"fasttext-numpy2 {version('fasttext-numpy2')}"
    except PackageNotFoundError:
        return "fasttext (unknown version)"
