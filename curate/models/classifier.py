"""Document classifiers a user brings: a fastText model file or a local Hugging Face sequence classifier.

One scoring interface for both (:func:`load_scorer` -> :class:`Scorer`): ``labels`` (the model's label
names) and ``score(texts)`` -> one array of per-document scores per label.

- fastText (``.bin`` / ``.ftz``; DCLM's and FineWeb's quality classifiers, toxicity models): texts are
  cut to ``max_chars`` with whitespace folded (fastText reads one line, :func:`clean_for_model`); a
  label's score is its probability (``predict(k=-1)``; 0 when fastText leaves it out). Labels are named
  without fastText's ``__label__`` prefix or with it.
- Hugging Face (a folder with ``config.json``, weights and a tokenizer, loaded with
  ``local_files_only=True``: nothing is downloaded): texts are tokenized with truncation at
  ``max_tokens`` (or the model's own limit when lower), in batches of ``batch_size`` in document order, on CPU. A label's score is its softmax
  probability (``single_label_classification``), its sigmoid (``multi_label_classification``), or, for a
  one-output regression head (FineWeb-Edu's educational-value classifier), the raw output under the
  model's one label name (``id2label[0]``).

``quality_model`` scores with the same fastText code (:func:`fasttext_probs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curate.core import storage
from curate.core.settings import cache_dir

FASTTEXT_PREFIX = "__label__"
_LOADED: dict[tuple[str, str], Any] = {}


class ClassifierModel(BaseModel):
    """One model of a ``classifier`` stage and the columns its labels' scores become."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="A fastText model file (.bin/.ftz) or a local Hugging Face sequence-classifier folder.")
    kind: Literal["auto", "fasttext", "huggingface"] = Field("auto", description="auto: a folder is Hugging Face, a file fastText.")
    columns: dict[str, str] = Field(min_length=1, description="Label -> column holding its score, e.g. {hq: edu_score}.")
    max_chars: int = Field(20_000, ge=100, description="Documents are cut to this many characters before scoring.")
    max_tokens: int = Field(512, ge=8, description="Hugging Face: tokens per document (truncation).")
    batch_size: int = Field(16, ge=1, description="Hugging Face: documents per forward pass.")

    def resolved_kind(self) -> str:
        if self.kind != "auto":
            return self.kind
        return "huggingface" if storage.location(self.path).is_dir() else "fasttext"


class Scorer(Protocol):
    labels: list[str]

    def score(self, texts: pl.Series) -> dict[str, np.ndarray]: ...


def clean_for_model(texts: pl.Series, max_chars: int) -> list[str]:
    """The text fastText sees: cut to ``max_chars``, whitespace runs folded to one space (it reads one line)."""
    return texts.str.slice(0, max_chars).str.replace_all(r"\s+", " ").str.strip_chars().to_list()


def load_fasttext(path: str) -> Any:
    """The fastText model at ``path`` (local, or on a remote data root: fetched once into the cache), once per process."""
    key = ("fasttext", path)
    if key not in _LOADED:
        import fasttext

        local = storage.local_copy(storage.location(path), cache_dir())
        if not Path(local).is_file():
            raise ValueError(f"no fastText model file at {path}")
        _LOADED[key] = fasttext.load_model(str(local))
    return _LOADED[key]


def fasttext_probs(model: Any, texts: list[str], labels: list[str]) -> dict[str, np.ndarray]:
    """P(label) of each (already cleaned) text, for each of ``labels`` (with the ``__label__`` prefix)."""
    if not texts:
        return {label: np.zeros(0) for label in labels}
    predicted, probs = model.predict(texts, k=-1)
    rows = [dict(zip(ls, ps, strict=True)) for ls, ps in zip(predicted, probs, strict=True)]
    return {label: np.array([min(float(row.get(label, 0.0)), 1.0) for row in rows]) for label in labels}


class FastTextScorer:
    def __init__(self, spec: ClassifierModel) -> None:
        self.spec, self.model = spec, load_fasttext(spec.path)
        self.labels = [label.removeprefix(FASTTEXT_PREFIX) for label in self.model.get_labels()]

    def score(self, texts: pl.Series) -> dict[str, np.ndarray]:
        probs = fasttext_probs(self.model, clean_for_model(texts, self.spec.max_chars), [FASTTEXT_PREFIX + label for label in self.labels])
        return {label.removeprefix(FASTTEXT_PREFIX): p for label, p in probs.items()}


class HuggingFaceScorer:
    def __init__(self, spec: ClassifierModel) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        if storage.is_remote(spec.path):
            raise ValueError(f"{spec.path}: a Hugging Face classifier folder must be on local disk (every worker loads it)")
        folder, self.spec = str(Path(spec.path).expanduser()), spec
        key = ("huggingface", folder)
        if key not in _LOADED:
            try:
                tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
                model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True).eval()
            except (OSError, ValueError) as err:
                raise ValueError(f"{spec.path}: not a local Hugging Face sequence classifier ({err})") from None
            _LOADED[key] = (tokenizer, model)
        self.tokenizer, self.model = _LOADED[key]
        config = self.model.config
        self.labels = [config.id2label[i] for i in range(config.num_labels)]
        sane = [n for n in (self.tokenizer.model_max_length, getattr(config, "max_position_embeddings", None)) if n and n < 1_000_000]
        self.max_tokens = min([spec.max_tokens, *sane])  # what the model can take, whatever the user asked
        self.regression = config.num_labels == 1 or config.problem_type == "regression"

    def score(self, texts: pl.Series) -> dict[str, np.ndarray]:
        import torch

        batches = []
        cut = texts.str.slice(0, self.spec.max_chars).to_list()
        with torch.inference_mode():
            for start in range(0, len(cut), self.spec.batch_size):
                encoded = self.tokenizer(cut[start : start + self.spec.batch_size], truncation=True, max_length=self.max_tokens,
                                         padding=True, return_tensors="pt")
                logits = self.model(**encoded).logits.float()
                if not self.regression:
                    logits = logits.sigmoid() if self.model.config.problem_type == "multi_label_classification" else logits.softmax(-1)
                batches.append(logits.numpy().astype(np.float64))
        out = np.concatenate(batches) if batches else np.zeros((0, len(self.labels)))
        return {label: out[:, i] for i, label in enumerate(self.labels)}


def load_scorer(spec: ClassifierModel) -> Scorer:
    """The scorer of one model, checked to have every label its ``columns`` name."""
    scorer: Scorer = HuggingFaceScorer(spec) if spec.resolved_kind() == "huggingface" else FastTextScorer(spec)
    missing = [label for label in spec.columns if label.removeprefix(FASTTEXT_PREFIX) not in scorer.labels]
    if missing:
        raise ValueError(f"{spec.path}: no labels {missing}; the model's labels are {sorted(scorer.labels)}")
    return scorer
