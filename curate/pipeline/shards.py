"""Reading a shard's surviving documents with the columns a stage needs.

Every stage writes one Parquet part per docs shard (``stages/<stage>/<shard>.parquet``) holding exactly
the documents that entered it; the survivors of stage *k* are therefore the rows of stage *k*'s part
whose ``drop_reason`` is null. Columns come from the docs shard or from the earlier stage that declared
them in its ``schema``. ``text`` (and ``n_bytes``) is the newest version: the last rewrite stage's text
where it changed the document, else the ingested text (:mod:`curate.stage`, rewrite stages).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from curate.core import storage
from curate.core.storage import REWRITE_DIR, Location
from curate.ingest.tasks import DOC_SCHEMA
from curate.stage import DROP_REASON


@dataclass(frozen=True)
class Upstream:
    """The stages already run before the current one: their names, in order, and their columns."""

    stages: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)  # column -> stage providing it
    rewrites: tuple[str, ...] = ()  # the rewrite stages among them, in order

    def then(self, stage: str, schema: tuple[str, ...], rewrites: bool = False) -> "Upstream":
        return Upstream(self.stages + (stage,), {**self.columns, **{c: stage for c in schema}},
                        self.rewrites + ((stage,) if rewrites else ()))

    def available(self) -> list[str]:
        return list(DOC_SCHEMA) + list(self.columns)


def docs_shards(data: Location) -> list[str]:
    """Names (file stems) of the docs shards, sorted: the unit of parallel work for every stage."""
    return sorted(p.name[: -len(".parquet")] for p in (data / "docs").glob("part-*.parquet"))


def stage_part(data: Location, stage: str, shard: str) -> Location:
    return data / "stages" / stage / f"{shard}.parquet"


def rewrite_part(data: Location, stage: str, shard: str) -> Location:
    """A rewrite stage's text versions of one shard (doc_id, text; null text: unchanged)."""
    return data / "stages" / stage / REWRITE_DIR / f"{shard}.parquet"


def newest_text(frame: pl.DataFrame, data: Location, shard: str, rewrites: tuple[str, ...]) -> pl.DataFrame:
    """``frame`` (doc_id, text[, n_bytes]) with each text replaced by its newest rewrite, n_bytes to match."""
    for stage in rewrites:
        new = storage.read_parquet(rewrite_part(data, stage, shard), columns=["doc_id", "text"]).rename({"text": "_new"})
        frame = frame.join(new, on="doc_id", how="left", maintain_order="left")
        if "n_bytes" in frame.columns:
            frame = frame.with_columns(pl.coalesce(pl.col("_new").str.len_bytes().cast(pl.Int64), "n_bytes").alias("n_bytes"))
        frame = frame.with_columns(pl.coalesce("_new", "text").alias("text")).drop("_new")
    return frame


def read_survivors(data: Location, shard: str, upstream: Upstream, columns: tuple[str, ...]) -> pl.DataFrame:
    """Surviving documents of one shard, in docs order, with the requested columns (doc_id first)."""
    wanted = ["doc_id"] + [c for c in columns if c != "doc_id"]
    unknown = [c for c in wanted if c not in DOC_SCHEMA and c not in upstream.columns]
    if unknown:
        raise KeyError(f"columns {unknown} are provided by no earlier stage (available: {upstream.available()})")
    doc_cols = [c for c in wanted if c in DOC_SCHEMA]
    rewritten = bool(upstream.rewrites) and ("text" in doc_cols or "n_bytes" in doc_cols)
    if rewritten and "text" not in doc_cols:
        doc_cols.append("text")
    frame = storage.read_parquet(data / "docs" / f"{shard}.parquet", columns=doc_cols)
    if upstream.stages:
        last = storage.read_parquet(stage_part(data, upstream.stages[-1], shard), columns=["doc_id", DROP_REASON])
        frame = frame.join(last.filter(pl.col(DROP_REASON).is_null()).select("doc_id"), on="doc_id", how="semi")
    if rewritten:
        frame = newest_text(frame, data, shard, upstream.rewrites)
    by_stage: dict[str, list[str]] = {}
    for col in wanted:
        if col in upstream.columns and col not in DOC_SCHEMA:
            by_stage.setdefault(upstream.columns[col], []).append(col)
    for stage, cols in by_stage.items():
        part = storage.read_parquet(stage_part(data, stage, shard), columns=["doc_id", *cols])
        frame = frame.join(part, on="doc_id", how="left", maintain_order="left")
    return frame.select(wanted)
