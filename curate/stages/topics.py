"""topics: fit a topic model on a seeded sample in the driver, assign every document in the pool.

Per-document columns ``topic_id`` and ``topic_distance`` (cosine distance to the topic's centroid);
the view ``topics`` holds them, ``topic_labels(topic_id, size, sample_size, terms, examples)`` describes
each topic, and the fitted model is saved as ``stages/topics/model/topic_model.joblib`` (with a JSON
manifest beside it) so a mixture or an eval set can be assigned to the same topics
(``curate.models.topics.assign(load_topic_model(path), texts)``).

The fit sample leaves out the eval split's documents and their duplicates (:mod:`curate.models.fits`):
the manifest records the split (``params.eval_split``) and ``fit_docs__topics`` the sampled doc_ids. Every
surviving document, eval documents included, is still assigned a topic.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator

from curate.core import storage
from curate.models.fits import FIT_SCHEMA, EvalExclusion, eval_exclusion, fit_table
from curate.models.topics import Features, TopicModel, assign, fit_topics, load_topic_model
from curate.stage import DROP_REASON, GlobalStage, StageContext, StageParams

MODEL_FILE = Path("model/topic_model.joblib")
TOPIC_LABELS = {"topic_id": pl.Int32, "size": pl.Int64, "sample_size": pl.Int64, "terms": pl.String, "examples": pl.List(pl.String)}


class TopicsParams(StageParams):
    stage: Literal["topics"] = "topics"
    k: int | None = Field(None, ge=1, description="Number of topics; None chooses k by silhouette over k_range.")
    k_range: tuple[int, int] = Field((4, 16), description="Range of k tried (inclusive) when k is None.")
    sample_size: int = Field(20_000, ge=10, description="Documents sampled (seeded) to fit the model.")
    n_components: int = Field(32, ge=2, description="TruncatedSVD dimensions (32 gave the most seed-stable topics on real text).")
    n_features: int = Field(2**18, ge=2**8, description="Hash buckets of the word 1-2-gram counts.")
    features: Features = Field("tfidf", description="tfidf (hashed TF-IDF -> SVD) or minilm (extra mixlab[embeddings]).")
    seed: int = Field(0, description="Seed of the sample, SVD and k-means.")

    @field_validator("k_range")
    @classmethod
    def _ordered_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low < 1 or high < low:
            raise ValueError(f"write [low, high] with 1 <= low <= high (got [{low}, {high}])")
        return value


_MODELS: dict[str, TopicModel] = {}


def assign_part(batch: pl.DataFrame, model_path: str) -> pl.DataFrame:
    """Per shard (in a worker): topic id and distance of each document; the model loads once per process."""
    if model_path not in _MODELS:
        _MODELS[model_path] = load_topic_model(model_path)
    ids, dist = assign(_MODELS[model_path], batch["text"].to_list())
    return batch.select("doc_id").with_columns(pl.Series("topic_id", ids, dtype=pl.Int32),
                                               pl.Series("topic_distance", dist, dtype=pl.Float64))


def seeded_sample(ctx: StageContext, size: int, seed: int, exclude: EvalExclusion | None = None) -> pl.DataFrame:
    """A uniform sample without replacement of the surviving documents (doc_id, text), sorted by doc_id,
    leaving out the documents ``exclude`` names (the eval split's).

    Chosen from the sorted doc_ids, so it depends on the documents and the seed only, not on sharding;
    texts are read shard by shard, keeping only the chosen ones (memory: the sample).
    """
    frames = [exclude.keep(f) if exclude is not None else f for f in ctx.documents(("doc_id",))]
    ids = pl.concat(frames)["doc_id"].sort() if frames else pl.Series("doc_id", [], pl.String)
    chosen = ids.to_numpy()[np.sort(np.random.default_rng(seed).permutation(len(ids))[:size])] if len(ids) > size else ids.to_numpy()
    wanted = pl.DataFrame({"doc_id": pl.Series(chosen, dtype=pl.String)})
    parts = [f.join(wanted, on="doc_id", how="semi") for f in ctx.documents(("doc_id", "text"))]
    empty = pl.DataFrame(schema={"doc_id": pl.String, "text": pl.String})
    return pl.concat([empty, *parts]).sort("doc_id")


class Topics(GlobalStage):
    name = "topics"
    version = "4"
    Params = TopicsParams
    schema = {"topic_id": pl.Int32, "topic_distance": pl.Float64}
    reasons = ()
    tables = {"topic_labels": TOPIC_LABELS, "fit_docs": FIT_SCHEMA}
    fits = True

    def reduce(self, ctx: StageContext) -> pl.DataFrame:
        p: TopicsParams = self.params  # type: ignore[assignment]
        exclusion = eval_exclusion(ctx.catalog)
        sample = seeded_sample(ctx, p.sample_size, p.seed, exclusion)
        fitted_on = sample["doc_id"] if sample.height >= 2 else pl.Series("doc_id", [], pl.String)
        ctx.write_table(fit_table(self.name), exclusion.fit_rows(self.name, fitted_on))
        if fitted_on.len() == 0:  # nothing to fit: one topic
            frames = [f.select("doc_id") for f in ctx.documents(("doc_id",))]
            ids = pl.concat([pl.DataFrame(schema={"doc_id": pl.String}), *frames])
            ctx.write_table("topic_labels", pl.DataFrame(schema=TOPIC_LABELS))
            return ids.with_columns(pl.lit(0, pl.Int32).alias("topic_id"), pl.lit(0.0).alias("topic_distance"),
                                    pl.lit(None, pl.String).alias(DROP_REASON))
        model = fit_topics(sample["text"].to_list(), sample["doc_id"].to_list(), p.k, p.k_range, p.n_components, p.seed,
                           p.features, p.n_features)
        n_removed = sum(f.height - exclusion.keep(f).height for f in ctx.documents(("doc_id",)))
        model.params["eval_split"] = exclusion.manifest(n_removed)
        model_path = ctx.stage_dir / MODEL_FILE
        model.save(model_path)
        paths = ctx.map_shards(partial(assign_part, model_path=str(model_path)), ("doc_id", "text"), "assign")
        out = pl.concat([storage.read_parquet(path) for path in paths]).with_columns(pl.lit(None, pl.String).alias(DROP_REASON))
        sizes = out.group_by("topic_id").len("size")
        labels = pl.DataFrame(model.labels, schema={c: t for c, t in TOPIC_LABELS.items() if c != "size"})
        labels = labels.join(sizes, on="topic_id", how="left").with_columns(pl.col("size").fill_null(0))
        ctx.write_table("topic_labels", labels.sort("topic_id"))  # write_table selects and casts TOPIC_LABELS' columns
        return out
