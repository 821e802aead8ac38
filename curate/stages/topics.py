"""topics: fit a topic model on a seeded sample in the driver, assign every document in the pool.

Per-document columns ``topic_id`` and ``topic_distance`` (cosine distance to the topic's centroid);
the view ``topics`` holds them, ``topic_labels(topic_id, size, terms, examples)`` describes each topic,
and the fitted model is saved under ``stages/topics/model/topic_model.joblib`` so a mixture or an eval
set can be assigned to the same topics (:func:`curate.topics.load_topic_model`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import Field

from curate.stage import DROP_REASON, GlobalStage, StageContext, StageParams
from curate.topics import fit_topics, load_topic_model

MODEL_FILE = "model/topic_model.joblib"


class TopicsParams(StageParams):
    stage: Literal["topics"] = "topics"
    k: int | None = Field(None, ge=1, description="Number of topics; None chooses k by silhouette over k_range.")
    k_range: tuple[int, int] = Field((4, 16), description="Range of k tried when k is None.")
    sample_size: int = Field(20_000, ge=10, description="Documents sampled (seeded) to fit the model.")
    n_components: int = Field(64, ge=2, description="TruncatedSVD dimensions.")
    seed: int = Field(0, description="Seed of the sample, SVD and k-means.")


def assign_part(batch: pl.DataFrame, model_path: str) -> pl.DataFrame:
    """Per shard (in a worker): topic id and distance of each document."""
    model = _cached_model(model_path)
    ids, dist = model.assign(batch["text"].to_list())
    return batch.select("doc_id").with_columns(pl.Series("topic_id", ids, dtype=pl.Int32), pl.Series("topic_distance", dist, dtype=pl.Float64))


_MODELS: dict[str, object] = {}


def _cached_model(path: str):  # noqa: ANN202 - returns TopicModel
    if path not in _MODELS:
        _MODELS[path] = load_topic_model(Path(path))
    return _MODELS[path]


def seeded_sample(ctx: StageContext, size: int, seed: int) -> pl.DataFrame:
    """A uniform sample without replacement of the surviving documents, independent of worker count."""
    ids = pl.concat([f for f in ctx.documents(("doc_id",))]) if ctx.shards else pl.DataFrame({"doc_id": []}, schema={"doc_id": pl.String})
    chosen = ids.sample(n=min(size, ids.height), seed=seed, shuffle=False) if ids.height else ids
    wanted = set(chosen["doc_id"].to_list())
    frames = [f.filter(pl.col("doc_id").is_in(list(wanted))) for f in ctx.documents(("doc_id", "text"))]
    return pl.concat(frames) if frames else pl.DataFrame(schema={"doc_id": pl.String, "text": pl.String})


class Topics(GlobalStage):
    name = "topics"
    version = "1"
    Params = TopicsParams
    schema = {"topic_id": pl.Int32, "topic_distance": pl.Float64}
    reasons = ()

    def reduce(self, ctx: StageContext) -> pl.DataFrame:
        p: TopicsParams = self.params  # type: ignore[assignment]
        sample = seeded_sample(ctx, p.sample_size, p.seed)
        if sample.height < 2:
            ids = pl.concat([f for f in ctx.documents(("doc_id",))]) if ctx.shards else pl.DataFrame(schema={"doc_id": pl.String})
            return ids.with_columns(pl.lit(0, pl.Int32).alias("topic_id"), pl.lit(0.0).alias("topic_distance"), pl.lit(None, pl.String).alias(DROP_REASON))
        model = fit_topics(sample["text"].to_list(), sample["doc_id"].to_list(), p.k, p.k_range, p.n_components, p.seed)
        model_path = ctx.stage_dir / MODEL_FILE
        model.save(model_path)
        paths = ctx.map_shards(partial(assign_part, model_path=str(model_path)), ("doc_id", "text"), "assign")
        out = pl.concat([pl.read_parquet(path) for path in paths]).with_columns(pl.lit(None, pl.String).alias(DROP_REASON))
        sizes = out.group_by("topic_id").len()
        labels = pl.DataFrame(model.labels).with_columns(pl.col("topic_id").cast(pl.Int32))
        labels = labels.join(sizes.rename({"len": "size"}), on="topic_id", how="left").with_columns(pl.col("size").fill_null(0))
        ctx.write_table("topic_labels", labels.select("topic_id", "size", "sample_size", "terms", "examples").sort("topic_id"))
        return out

