"""quality_model: a fastText quality classifier's score per document, with an optional filter.

The model is either given (``model_path``: a folder written by ``curate quality train`` or a
``model.bin``) or trained inside the stage from ``train`` (positives / negatives as files or SQL over
this run's catalog, e.g. a reference source against a random sample of the pool; see
:mod:`curate.models.quality`), saved under ``stages/quality_model/model/`` with its manifest. Scoring runs
in the worker pool, one model load per worker; ``quality_score`` = P(high quality).

Filters: ``min_score`` (absolute) and ``keep_top_fraction`` (relative: keep the best-scoring fraction of
the surviving documents, ties broken by doc_id). The relative filter needs every score, which is why
this is a global stage.

A trained model leaves out the eval split (the stage fits when ``train`` is given, so a recipe's
``eval_split:`` is reserved before it) and its documents become ``fit_docs__quality_model``. After scoring,
``quality_model_fit(auc, precision, recall, score_p05, score_p95, useful, reason)`` says whether the
classifier separates anything (:func:`curate.models.quality.usefulness`); a useless one filters nothing and
the run warns: its ``quality_score`` stays for inspection, and is not to be used as a signal or a confound.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from curate.core import storage
from curate.models.classifier import clean_for_model, load_fasttext
from curate.models.fits import FIT_SCHEMA, fit_table
from curate.models.quality import (
    FIT_DOCS_FILE,
    MANIFEST_FILE,
    MODEL_FILE,
    USEFULNESS_SCHEMA,
    TrainSpec,
    positive_scores,
    resolve_model_file,
    train_quality_model,
    usefulness,
)
from curate.stage import DROP_REASON, GlobalStage, StageContext, StageParams


class QualityModelParams(StageParams):
    stage: Literal["quality_model"] = "quality_model"
    model_path: str | None = Field(None, description="Trained model folder (or model.bin) from `curate quality train`.")
    train: TrainSpec | None = Field(None, description="Train the model inside the stage instead (SQL sources read this run's catalog).")
    max_chars: int = Field(20_000, ge=100, description="Documents are cut to this many characters before scoring.")
    min_score: float | None = Field(None, ge=0, le=1, description="Drop documents whose quality_score is below this.")
    keep_top_fraction: float | None = Field(None, gt=0, le=1, description="Keep only this best-scoring fraction of the documents.")

    @field_validator("model_path")
    @classmethod
    def _model_exists(cls, path: str | None) -> str | None:
        if path is not None and "://" not in path:
            try:
                resolve_model_file(path)
            except FileNotFoundError as err:
                raise ValueError(str(err)) from None
        return path

    @model_validator(mode="after")
    def _one_model(self) -> "QualityModelParams":
        if (self.model_path is None) == (self.train is None):
            raise ValueError("give exactly one of model_path or train")
        return self


def score_part(batch: pl.DataFrame, model_file: str, max_chars: int) -> pl.DataFrame:
    """Per shard (in a worker): P(high quality) of each document."""
    scores = positive_scores(load_fasttext(model_file), clean_for_model(batch["text"], max_chars)) if batch.height else np.zeros(0)
    return batch.select("doc_id").with_columns(pl.Series("quality_score", scores, dtype=pl.Float64))


def decide(scores: pl.DataFrame, min_score: float | None, keep_top_fraction: float | None) -> pl.DataFrame:
    """Drop reasons from the scores: below ``min_score``, or outside the top fraction (ties by doc_id)."""
    out = scores.with_columns(pl.lit(None, dtype=pl.String).alias(DROP_REASON))
    if keep_top_fraction is not None and out.height:
        n_keep = int(np.ceil(keep_top_fraction * out.height))
        rank = out.select(pl.struct(-pl.col("quality_score"), "doc_id").rank("ordinal").alias("r"))["r"]
        out = out.with_columns(pl.when(rank > n_keep).then(pl.lit("quality_model.below_top_fraction")).otherwise(pl.col(DROP_REASON)).alias(DROP_REASON))
    if min_score is not None:
        out = out.with_columns(pl.when(pl.col("quality_score") < min_score).then(pl.lit("quality_model.low_score")).otherwise(pl.col(DROP_REASON)).alias(DROP_REASON))
    return out


class QualityModel(GlobalStage):
    name = "quality_model"
    version = "3"
    Params = QualityModelParams
    schema = {"quality_score": pl.Float64}
    reasons = ("quality_model.low_score", "quality_model.below_top_fraction")
    tables = {"quality_model_fit": USEFULNESS_SCHEMA, "fit_docs": FIT_SCHEMA}
    fits = True

    def fits_model(self) -> bool:
        """It fits when it trains its model (``train``); a given ``model_path`` was fitted elsewhere."""
        return self.params.train is not None  # type: ignore[attr-defined]

    def model_file(self, ctx: StageContext) -> str:
        """The model to score with, training it first when the params say so (reused on resume).

        A trained model is written next to the stage's outputs on the data root, where every worker
        can read it (trained in the driver's scratch folder first when the data root is remote)."""
        p: QualityModelParams = self.params  # type: ignore[assignment]
        if p.train is None:
            return str(resolve_model_file(p.model_path).resolve())  # type: ignore[arg-type]
        folder = ctx.stage_dir / "model"
        if not (folder / "manifest.json").exists():
            local = ctx.scratch_dir / "model" if storage.is_remote(folder) else folder
            train_quality_model(p.train, local, ctx.catalog)
            storage.upload_tree(local, folder, last="manifest.json")
        return str(folder / MODEL_FILE)

    def reduce(self, ctx: StageContext) -> pl.DataFrame:
        p: QualityModelParams = self.params  # type: ignore[assignment]
        model_file = self.model_file(ctx)
        fn = partial(score_part, model_file=model_file, max_chars=p.max_chars)
        parts = [storage.read_parquet(path) for path in ctx.map_shards(fn, ("text",), "scores")]
        scores = pl.concat(parts) if parts else pl.DataFrame(schema={"doc_id": pl.String, "quality_score": pl.Float64})
        folder = storage.location(model_file).parent
        if (folder / FIT_DOCS_FILE).exists():  # what the model was fitted on (a model trained with a catalog)
            ctx.write_table(fit_table(self.name), storage.read_parquet(folder / FIT_DOCS_FILE))
        manifest = json.loads((folder / MANIFEST_FILE).read_text()) if (folder / MANIFEST_FILE).exists() else {}
        fit = usefulness(manifest.get("metrics", {}), scores["quality_score"].to_numpy())
        ctx.write_table("quality_model_fit", pl.DataFrame([fit], schema=USEFULNESS_SCHEMA))
        if not fit["useful"]:
            ctx.warn(f"quality_model: the classifier is useless ({fit['reason']}); its quality_score is kept for inspection"
                     " but filters nothing, and must not be used as a signal or a confound (quality_model_fit.useful = false)")
            return decide(scores, None, None)
        return decide(scores, p.min_score, p.keep_top_fraction)
