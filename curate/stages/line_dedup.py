"""line_dedup: remove lines (or paragraphs) that many documents share: cookie banners, menus, footers.

A rewrite stage (:mod:`curate.stage`): the documents keep their ingested text in ``original_documents``;
later stages, ``documents`` and mixtures read the text without the boilerplate. The algorithm is
:mod:`curate.dedup.lines` (CCNet-style: a segment found in more than ``max_docs`` documents is removed
everywhere). Out of core, like MinHash banding:

1. map (worker pool): each shard's distinct segment hashes per document -> ``hashes/<shard>.parquet``;
2. reduce (DuckDB, memory-limited, spilling to disk): ``GROUP BY line_hash HAVING count(*) > max_docs``,
   joined back to the hash parts -> ``frequent.parquet`` (shard, line_hash), sorted by shard: each
   shard's own frequent lines, so no process holds the corpus-wide set;
3. map (worker pool): each shard's documents without its frequent segments -> ``text/<shard>.parquet``
   (the new text, null when unchanged, and the signals); a shard reads only its rows of
   ``frequent.parquet`` (row groups skipped by their shard statistics).

Signals: ``line_dedup_lines_removed`` and ``line_dedup_bytes_removed``. A document left with nothing but
whitespace is dropped (``line_dedup.all_boilerplate``).
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import duckdb
import numpy as np
import polars as pl
from pydantic import Field

from curate.core import storage
from curate.core.storage import REWRITE_DIR
from curate.dedup.lines import Unit, doc_hashes, remove_segments
from curate.dedup.shared import connect
from curate.stage import DROP_REASON, GlobalStage, StageContext, StageParams
from curate.text import Normalization
from sql.quote import sql_string

REASON = "line_dedup.all_boilerplate"


class LineDedupParams(StageParams):
    stage: Literal["line_dedup"] = "line_dedup"
    unit: Unit = Field("line", description="What is deduplicated: lines, or paragraphs (blocks between blank lines).")
    max_docs: int = Field(10, ge=1, description="A line found in more than this many documents is boilerplate and removed from all of them.")
    normalization: Normalization = Field(default_factory=lambda: Normalization(strip_digits=True),
                                         description="How a line is normalized before hashing (default: lowercase, no punctuation, no digits, whitespace folded).")
    memory_limit: str = Field("2GB", description="DuckDB memory limit for counting; beyond it DuckDB spills to disk.")


def hash_part(batch: pl.DataFrame, params: LineDedupParams) -> pl.DataFrame:
    """Per shard: one row per (document, distinct non-blank segment hash)."""
    return pl.DataFrame({"line_hash": doc_hashes(batch["text"], params.unit, params.normalization)}, schema={"line_hash": pl.UInt64})


def shard_frequent(frequent: str, shard: str) -> np.ndarray:
    """One shard's frequent hashes, sorted: its rows of ``frequent`` (sorted by shard, so DuckDB reads only
    the row groups whose shard statistics match)."""
    con = duckdb.connect()
    try:
        storage.register_with(con, storage.location(frequent))
        found = con.execute(f"SELECT line_hash FROM read_parquet({sql_string(frequent)}) WHERE shard = $s ORDER BY line_hash",
                            {"s": shard}).fetchnumpy()["line_hash"]
    finally:
        con.close()
    return np.asarray(found, dtype=np.uint64)


def rewrite_part(batch: pl.DataFrame, params: LineDedupParams, frequent: str, shard: str) -> pl.DataFrame:
    """Per shard: doc_id, the new text (null: unchanged), the signals and the drop reason."""
    out = remove_segments(batch["text"].to_list(), params.unit, params.normalization, shard_frequent(frequent, shard))
    return pl.concat([batch.select("doc_id"), out], how="horizontal").select(
        "doc_id", "text",
        pl.col("lines_removed").alias("line_dedup_lines_removed"),
        pl.col("bytes_removed").alias("line_dedup_bytes_removed"),
        pl.when(pl.col("blank") & (pl.col("lines_removed") > 0)).then(pl.lit(REASON)).alias(DROP_REASON),
    )


class LineDedup(GlobalStage):
    name = "line_dedup"
    version = "1"
    Params = LineDedupParams
    schema = {"line_dedup_lines_removed": pl.Int64, "line_dedup_bytes_removed": pl.Int64}
    reasons = (REASON,)
    rewrites = True

    def reduce(self, ctx: StageContext) -> pl.DataFrame:
        p: LineDedupParams = self.params  # type: ignore[assignment]
        paths = ctx.map_shards(partial(hash_part, params=p), ("text",), "hashes")
        frequent = ctx.stage_dir / "frequent.parquet"
        if not frequent.exists():
            con = connect(ctx.scratch_dir, p.memory_limit, paths)
            files = "[" + ", ".join(sql_string(path) for path in paths) + "]"
            local = ctx.scratch_dir / "frequent.parquet"
            con.execute(  # each shard's rows (shard, hash) of the hashes more than max_docs documents hold
                f"COPY (WITH h AS (SELECT regexp_extract(filename, '([^/]+)[.]parquet$', 1) AS shard, line_hash"
                f" FROM read_parquet({files}, filename = true)),"
                f" frequent AS (SELECT line_hash FROM h GROUP BY line_hash HAVING count(*) > $n)"
                f" SELECT DISTINCT shard, line_hash FROM h SEMI JOIN frequent USING (line_hash) ORDER BY shard, line_hash)"
                f" TO {sql_string(local)} (FORMAT parquet)", {"n": p.max_docs})
            con.close()
            storage.publish_file(local, frequent)
        parts = ctx.map_shards(partial(rewrite_part, params=p, frequent=str(frequent)), ("text",), REWRITE_DIR, named=True)
        columns = ["doc_id", *self.schema, DROP_REASON]
        frames = [storage.read_parquet(path, columns=columns) for path in parts]
        return pl.concat(frames) if frames else self.empty_output()
