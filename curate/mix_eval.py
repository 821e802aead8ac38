"""Held-out evaluation sets and decontamination, before any mixture is drawn.

``reserve_eval`` picks, per group, a seeded set of in-distribution eval documents (``id/<group>``) and
holds out whole groups for out-of-distribution evaluation (``ood/<group>``). Then every pool document
that duplicates an eval document is recorded in ``contamination`` and excluded from all mixtures:
exact duplicates by normalized-text hash, near duplicates by MinHash LSH candidates verified with the
true Jaccard of their shingle sets (threshold 0.8 by default).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import xxhash

from curate.catalog import Catalog, sql_ident
from curate.lsh import band_hashes, optimal_bands
from curate.minhash import pack, shingle_hashes, shingle_text, signatures
from curate.mix_select import seeded_order
from curate.text import normalize_expr


def reserve_eval(cat: Catalog, group_by: str = "source", per_group: int = 5, ood_groups: tuple[str, ...] = (),
                 seed: int = 0, threshold: float = 0.8) -> pl.DataFrame:
    """Write eval_sets and contamination; returns the contamination rows."""
    column = f"d.{sql_ident(group_by)}" if group_by == "source" else f"s.{sql_ident(group_by)}"
    docs = cat.query(f"SELECT d.doc_id, d.text, CAST({column} AS VARCHAR) AS group_key FROM kept_documents d"
                     " LEFT JOIN doc_signals s USING (doc_id) ORDER BY d.doc_id")
    unknown = sorted(set(ood_groups) - set(docs["group_key"].to_list()))
    if unknown:
        raise ValueError(f"ood groups {unknown} have no documents; groups: {sorted(set(docs['group_key'].drop_nulls()))}")
    rows = []
    for group, members in sorted(docs.group_by("group_key"), key=lambda kv: str(kv[0][0])):
        key = str(group[0])
        if key in ood_groups:
            rows.append(members.select("doc_id", pl.lit(f"ood/{key}").alias("eval_set"), pl.lit(key).alias("group_key"), pl.lit("ood").alias("kind")))
        elif members.height > per_group * 2:
            picked = members[seeded_order(members["doc_id"], seed)[:per_group]]
            rows.append(picked.select("doc_id", pl.lit(f"id/{key}").alias("eval_set"), pl.lit(key).alias("group_key"), pl.lit("id").alias("kind")))
    evals = pl.concat(rows).select("eval_set", "doc_id", "group_key", "kind") if rows else pl.DataFrame(
        schema={"eval_set": pl.String, "doc_id": pl.String, "group_key": pl.String, "kind": pl.String})
    eval_texts = docs.join(evals.select("doc_id"), on="doc_id", how="semi")
    pool = docs.join(evals.select("doc_id"), on="doc_id", how="anti")
    contamination = find_contamination(eval_texts, pool, threshold)
    with cat.transaction():
        cat.delete_where("eval_sets")
        cat.delete_where("contamination")
        cat.append("eval_sets", evals)
        cat.append("contamination", contamination)
    return contamination


def _exact(frame: pl.DataFrame) -> pl.DataFrame:
    normalized = frame.select(normalize_expr(pl.col("text")))["text"].to_list()
    return frame.select("doc_id").with_columns(pl.Series("h", [xxhash.xxh3_64_hexdigest(t.encode()) for t in normalized]))


def find_contamination(evals: pl.DataFrame, pool: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """Pool documents whose normalized text equals, or whose Jaccard reaches ``threshold`` with, an eval doc."""
    schema = {"eval_doc_id": pl.String, "doc_id": pl.String, "method": pl.String, "similarity": pl.Float64}
    if evals.height == 0 or pool.height == 0:
        return pl.DataFrame(schema=schema)
    exact = _exact(evals).join(_exact(pool), on="h").select(
        pl.col("doc_id").alias("eval_doc_id"), pl.col("doc_id_right").alias("doc_id"), pl.lit("exact").alias("method"), pl.lit(1.0).alias("similarity"))
    bands, rows = optimal_bands(threshold, 128)
    both = pl.concat([evals.select("doc_id", "text"), pool.select("doc_id", "text")])
    keys = band_hashes(signatures(both["text"]), bands, rows)
    n_eval = evals.height
    buckets: dict[tuple[int, int], list[int]] = {}
    for i in range(n_eval):
        for b in range(bands):
            buckets.setdefault((b, int(keys[i, b])), []).append(i)
    pairs = {(e, j) for j in range(n_eval, len(both)) for b in range(bands) for e in buckets.get((b, int(keys[j, b])), [])}
    near = []
    if pairs:
        buf, off = pack(shingle_text(both["text"]))
        sets: dict[int, set[int]] = {}
        get = lambda i: sets.setdefault(i, set(shingle_hashes(buf, off[i], off[i + 1], 5, False).tolist()))  # noqa: E731
        ids = both["doc_id"].to_list()
        for e, j in sorted(pairs):
            a, b = get(e), get(j)
            sim = len(a & b) / len(a | b) if a | b else 1.0
            if sim >= threshold:
                near.append({"eval_doc_id": ids[e], "doc_id": ids[j], "method": "minhash", "similarity": sim})
    near_frame = pl.DataFrame(near, schema=schema)
    out = pl.concat([exact.cast(schema), near_frame.join(exact.select("doc_id"), on="doc_id", how="anti")])
    return out.unique(subset=["eval_doc_id", "doc_id"], keep="first").sort("doc_id", "eval_doc_id")
