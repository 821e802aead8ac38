"""exact_dedup: one document per group of identical normalized texts.

The key is the xxh3-64 hash of :func:`curate.text.normalize` (configurable: lowercase, whitespace
folding, punctuation and digit stripping). Hashing runs per shard in the worker pool; grouping runs in
DuckDB over the hash parts (bounded memory, spills to disk). One representative per group survives
(keep policy: first seen, longest, or highest value of a column); the others are dropped with reason
``exact_dedup.exact_duplicate`` and the kept doc_id in ``decisions.detail``.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import polars as pl
import xxhash
from pydantic import Field

from curate.dedup.shared import CLUSTER_SCHEMA, DedupParams, base_part, choose_kept, connect, key_columns, outputs, parts_sql
from curate.stage import GlobalStage, StageContext
from curate.text import Normalization, normalize_expr


class ExactDedupParams(DedupParams):
    stage: Literal["exact_dedup"] = "exact_dedup"
    normalization: Normalization = Field(default_factory=Normalization, description="How text is normalized before hashing.")


def hash_part(batch: pl.DataFrame, params: ExactDedupParams) -> pl.DataFrame:
    """Per shard: the common dedup columns plus the hex xxh3-64 of the normalized text."""
    normalized = batch.select(normalize_expr(pl.col("text"), params.normalization))["text"]
    hashes = [xxhash.xxh3_64_hexdigest(t.encode()) for t in normalized.to_list()]
    return base_part(batch, params).with_columns(pl.Series("exact_hash", hashes, dtype=pl.String))


class ExactDedup(GlobalStage):
    name = "exact_dedup"
    version = "1"
    Params = ExactDedupParams
    schema = {"exact_hash": pl.String, "exact_cluster": pl.String, "exact_cluster_size": pl.Int64, "exact_dup_of": pl.String}
    reasons = ("exact_dedup.exact_duplicate",)
    tables = {"dup_clusters": CLUSTER_SCHEMA}
    detail_column = "exact_dup_of"

    def reduce(self, ctx: StageContext) -> pl.DataFrame:
        p: ExactDedupParams = self.params  # type: ignore[assignment]
        paths = ctx.map_shards(partial(hash_part, params=p), key_columns(p), "hashes")
        con = connect(ctx.scratch_dir, p.memory_limit, paths)
        docs = pl.from_arrow(con.sql(
            f"SELECT ord, doc_id, n_chars, keep_value, exact_hash, min(ord) OVER (PARTITION BY exact_hash) AS cluster"
            f" FROM ({parts_sql(paths, 'doc_id, n_chars, keep_value, exact_hash')}) ORDER BY ord"
        ).to_arrow_table())
        con.close()
        docs = choose_kept(docs, p.keep)  # type: ignore[arg-type]
        per_doc, clusters = outputs(docs, "exact", "exact_dedup.exact_duplicate", "exact")
        ctx.write_table("dup_clusters__exact", clusters)
        return per_doc.join(docs.select("doc_id", "exact_hash"), on="doc_id", maintain_order="left")
