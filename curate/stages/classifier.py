"""classifier: scores from any fastText model or local Hugging Face sequence classifier, with keep bounds.

Each of ``models`` (:class:`curate.models.classifier.ClassifierModel`) maps some of its labels to columns
(``columns: {label: column}``); ``keep: {column: {min, max}}`` drops a document whose score falls outside
the bounds (``classifier.below_min`` / ``classifier.above_max``; ``classifier_dropped_by`` and
``decisions.detail`` name the column). Scores are always written, so other bounds can be tried in SQL.

Examples: a toxicity model (``{toxic: toxicity}`` with ``keep: {toxicity: {max: 0.5}}``), FineWeb-Edu's
regression head (``{LABEL_0: edu_score}`` with ``keep: {edu_score: {min: 3}}``), a domain classifier
(one column per label, no bounds). A given ``quality_model`` (``model_path``, ``min_score``) is the
configuration ``{path: model.bin, columns: {hq: quality_score}}`` with ``keep: {quality_score: {min: ...}}``
(same fastText scoring code); ``quality_model`` remains for what needs all scores at once
(``keep_top_fraction``), training inside the run, and its usefulness check.

The columns are the recipe's, so this stage's schema is per instance: ``<columns...>, classifier_dropped_by``.
Models load once per worker (:meth:`Classifier.setup`).
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate.models.classifier import FASTTEXT_PREFIX, ClassifierModel, Scorer, load_scorer
from curate.stage import DROP_REASON, MapStage, StageParams

DROPPED_BY = "classifier_dropped_by"


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float | None = Field(None, description="Drop documents scoring below this.")
    max: float | None = Field(None, description="Drop documents scoring above this.")


class ClassifierParams(StageParams):
    stage: Literal["classifier"] = "classifier"
    models: list[ClassifierModel] = Field(min_length=1, description="The models and the columns their labels' scores become.")
    keep: dict[str, Bounds] = Field(default_factory=dict, description="Column -> bounds a kept document's score stays within.")

    @model_validator(mode="after")
    def _columns(self) -> "ClassifierParams":
        columns = [c for m in self.models for c in m.columns.values()]
        bad = [c for c in columns if not c.isidentifier() or c != c.lower()]
        if bad:
            raise ValueError(f"column names must be snake_case identifiers: {bad}")
        if len(columns) != len(set(columns)) or DROPPED_BY in columns:
            raise ValueError(f"each column may be named once (and not {DROPPED_BY}): {columns}")
        unknown = sorted(set(self.keep) - set(columns))
        if unknown:
            raise ValueError(f"keep names columns no model writes: {unknown}; columns: {columns}")
        return self


class Classifier(MapStage):
    name = "classifier"
    version = "1"
    Params = ClassifierParams
    schema = {DROPPED_BY: pl.String}  # plus the score columns of the params (per instance)
    reasons = ("classifier.below_min", "classifier.above_max")
    detail_column = DROPPED_BY

    def __init__(self, params: ClassifierParams) -> None:  # type: ignore[override]
        super().__init__(params)
        self.schema = {c: pl.Float64 for m in params.models for c in m.columns.values()} | {DROPPED_BY: pl.String}  # type: ignore[misc]
        self.scorers: list[Scorer] = []

    def setup(self) -> None:
        p: ClassifierParams = self.params  # type: ignore[assignment]
        self.scorers = [load_scorer(m) for m in p.models]

    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        p: ClassifierParams = self.params  # type: ignore[assignment]
        if not self.scorers:
            self.setup()
        scores: dict[str, Any] = {}
        for spec, scorer in zip(p.models, self.scorers, strict=True):
            by_label = scorer.score(batch["text"])
            scores |= {column: by_label[label.removeprefix(FASTTEXT_PREFIX)] for label, column in spec.columns.items()}
        out = batch.select("doc_id").with_columns(pl.Series(c, v, dtype=pl.Float64) for c, v in scores.items())
        checks = []  # (column, why, failing), in keep's order
        for column, bounds in p.keep.items():
            if bounds.min is not None:
                checks.append((column, "below_min", pl.col(column) < bounds.min))
            if bounds.max is not None:
                checks.append((column, "above_max", pl.col(column) > bounds.max))
        reason, dropped_by = pl.lit(None, pl.String), pl.lit(None, pl.String)
        for column, why, fails in reversed(checks):  # the first failing check, in keep's order, names the drop
            reason = pl.when(fails).then(pl.lit(f"classifier.{why}")).otherwise(reason)
            dropped_by = pl.when(fails).then(pl.lit(column)).otherwise(dropped_by)
        return out.with_columns(dropped_by.alias(DROPPED_BY), reason.alias(DROP_REASON))
