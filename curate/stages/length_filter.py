"""length_filter: drop documents whose length in characters or words is outside bounds.

The simplest map stage, kept as the worked example of the Stage contract (see curate/stage.py).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from curate.stage import DROP_REASON, MapStage, StageParams
from curate.text import word_count_expr


class LengthFilterParams(StageParams):
    stage: Literal["length_filter"] = "length_filter"
    min_chars: int = Field(1, ge=0, description="Drop documents with fewer characters.")
    max_chars: int | None = Field(None, ge=1, description="Drop documents with more characters (None: no bound).")
    min_words: int = Field(0, ge=0, description="Drop documents with fewer words (see curate.text for 'word').")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> "LengthFilterParams":
        if self.max_chars is not None and self.max_chars < self.min_chars:
            raise ValueError(f"max_chars ({self.max_chars}) is below min_chars ({self.min_chars}): every document would be dropped")
        return self


class LengthFilter(MapStage):
    name = "length_filter"
    version = "1"
    Params = LengthFilterParams
    schema = {"n_chars": pl.Int64, "n_words": pl.Int64}
    reasons = ("length_filter.too_short", "length_filter.too_long", "length_filter.too_few_words")

    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        p: LengthFilterParams = self.params  # type: ignore[assignment]
        out = batch.select(
            "doc_id",
            pl.col("text").str.len_chars().cast(pl.Int64).alias("n_chars"),
            word_count_expr(pl.col("text")).cast(pl.Int64).alias("n_words"),
        )
        too_long = pl.lit(False) if p.max_chars is None else pl.col("n_chars") > p.max_chars
        reason = (
            pl.when(pl.col("n_chars") < p.min_chars)
            .then(pl.lit("length_filter.too_short"))
            .when(too_long)
            .then(pl.lit("length_filter.too_long"))
            .when(pl.col("n_words") < p.min_words)
            .then(pl.lit("length_filter.too_few_words"))
            .otherwise(pl.lit(None, dtype=pl.String))
        )
        return out.with_columns(reason.alias(DROP_REASON))
