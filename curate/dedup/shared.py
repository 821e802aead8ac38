"""What exact and near-duplicate removal share: document ordinals, keep policies, cluster outputs.

Each dedup stage first maps every shard to a small Parquet part (doc_id, row, n_chars, keep_value and
the stage's key: an exact hash or MinHash bands). The driver numbers documents by (shard order, row):
the *ordinal*, which defines "first seen" independently of the number of workers. Clusters are found
in DuckDB over those parts; one document per cluster is kept by the keep policy.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import polars as pl
from pydantic import Field

from curate.core import storage
from curate.core.storage import Location
from curate.stage import DROP_REASON, StageParams
from sql.quote import sql_string

KeepPolicy = Literal["first", "longest", "column"]


class DedupParams(StageParams):
    """Keep-policy params common to both dedup stages."""

    keep: KeepPolicy = Field("first", description="Which document of a cluster survives: first seen, longest, or highest `keep_column`.")
    keep_column: str | None = Field(None, description="Column (e.g. quality_score) whose highest value is kept when keep=column.")
    memory_limit: str = Field("2GB", description="DuckDB memory limit for grouping, shared by the grouping tasks that run at once; beyond it DuckDB spills to disk.")


def key_columns(params: DedupParams) -> tuple[str, ...]:
    if params.keep == "column":
        if not params.keep_column:
            raise ValueError("keep: column needs keep_column (e.g. quality_score)")
        return ("doc_id", "text", params.keep_column)
    return ("doc_id", "text")


def base_part(batch: pl.DataFrame, params: DedupParams) -> pl.DataFrame:
    """doc_id, row, n_chars, keep_value of one shard's documents (the common part of every map output)."""
    keep = pl.col(params.keep_column).cast(pl.Float64) if params.keep == "column" and params.keep_column else pl.lit(None, pl.Float64)
    return batch.select(
        "doc_id",
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        pl.col("text").str.len_chars().cast(pl.Int64).alias("n_chars"),
        keep.alias("keep_value"),
    )


def split_memory_limit(limit: str, parts: int) -> str:
    """``limit`` (e.g. ``2GB``, ``512MB``, ``1.5GiB``) divided among ``parts`` concurrent tasks, in MB."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?I?B)\s*", limit.upper())
    if not match:
        raise ValueError(f"memory_limit {limit!r}: expected a size such as 2GB or 512MB")
    scale = {"B": 1e-6, "KB": 1e-3, "MB": 1, "GB": 1e3, "TB": 1e6, "KIB": 1.024e-3, "MIB": 1.048576, "GIB": 1073.741824, "TIB": 1.099511627776e6}
    return f"{max(64, int(float(match[1]) * scale[match[2]] / max(1, parts)))}MB"


def connect(scratch: Path, memory_limit: str, reads: list[Location]) -> duckdb.DuckDBPyConnection:
    """A private DuckDB for grouping the Parquet files ``reads`` (local or remote), with a memory limit
    and a spill directory in the driver's local scratch folder."""
    con = duckdb.connect()
    (scratch / "tmp").mkdir(parents=True, exist_ok=True)
    storage.register_with(con, *reads)
    con.execute(f"SET memory_limit = {sql_string(memory_limit)}")
    con.execute(f"SET temp_directory = {sql_string(scratch / 'tmp')}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    return con


def parts_sql(paths: list[Location], columns: str) -> str:
    """SELECT over the per-shard parts with ``ord`` = the document's position in (shard, row) order.

    ``ord`` is dense (0..n-1, each shard offset by the rows of the shards before it, from the Parquet
    footers), so it is both the first-seen order and an array index.
    """
    files = "[" + ", ".join(sql_string(p) for p in paths) + "]"
    offsets = np.concatenate([[0], np.cumsum([storage.parquet_rows(p) for p in paths])]).astype(int)
    index = " ".join(f"WHEN {sql_string(p)} THEN {offsets[i]}" for i, p in enumerate(paths))
    return f"SELECT (CASE filename {index} END)::BIGINT + row AS ord, {columns} FROM read_parquet({files}, filename = true)"


def choose_kept(docs: pl.DataFrame, policy: KeepPolicy) -> pl.DataFrame:
    """Add ``is_kept``, ``kept_id`` and ``cluster_size`` given ``cluster`` (docs sorted by ord)."""
    order = {"first": [pl.col("ord")], "longest": [-pl.col("n_chars"), pl.col("ord")],
             "column": [-pl.col("keep_value").fill_null(-np.inf), pl.col("ord")]}[policy]
    rank = docs.sort(order).with_columns(pl.int_range(pl.len()).over("cluster").alias("_rank"))
    kept = rank.filter(pl.col("_rank") == 0).select("cluster", pl.col("doc_id").alias("kept_id"))
    return (
        rank.join(kept, on="cluster")
        .with_columns((pl.col("_rank") == 0).alias("is_kept"), pl.len().over("cluster").alias("cluster_size"))
        .drop("_rank")
        .sort("ord")
    )


CLUSTER_SCHEMA = {"doc_id": pl.String, "cluster_id": pl.String, "method": pl.String, "is_kept": pl.Boolean, "cluster_size": pl.Int64}


def outputs(docs: pl.DataFrame, method: str, reason: str, prefix: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-document stage output, dup_clusters rows) from docs with cluster/kept columns."""
    per_doc = docs.select(
        "doc_id",
        pl.col("kept_id").alias(f"{prefix}_cluster"),
        pl.col("cluster_size").cast(pl.Int64).alias(f"{prefix}_cluster_size"),
        pl.when(pl.col("is_kept")).then(None).otherwise(pl.col("kept_id")).alias(f"{prefix}_dup_of"),
        pl.when(pl.col("is_kept")).then(None).otherwise(pl.lit(reason)).alias(DROP_REASON),
    )
    clusters = docs.filter(pl.col("cluster_size") > 1).select(
        "doc_id", pl.col("kept_id").alias("cluster_id"), pl.lit(method).alias("method"), "is_kept",
        pl.col("cluster_size").cast(pl.Int64),
    )
    return per_doc, clusters
