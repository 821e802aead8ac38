"""minhash_dedup: near-duplicate clusters by MinHash LSH, one document kept per cluster.

Signatures are datasketch-identical (see :mod:`curate.dedup.minhash`), computed per shard in the worker pool
and stored (``stages/minhash_dedup/signatures/``, loadable with :func:`curate.dedup.minhash.to_lean_minhash`).
Each signature is cut into ``bands`` × ``rows`` (by default the pair that minimizes datasketch's weighted
false positive/negative error for ``threshold``); the rows (document, band, band_hash) are split into
partitions by ``band_hash % partitions`` and each partition is grouped by ``GROUP BY band, band_hash`` in
its own DuckDB (one pool or Ray task per partition, each with ``memory_limit``, spilling to disk); the
driver gathers the candidate edges (at most one per document and band from large buckets, all pairs of
buckets of up to 64 documents when verifying). With ``verify: true`` the true Jaccard of each
candidate pair's shingle sets is computed (shingle ids built in the worker pool) and pairs below
``threshold`` are dropped. Connected components of the remaining edges are the clusters (union-find);
the keep policy picks the survivor. Documents are numbered by (shard, row), so clusters do not depend
on the number of workers.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field, model_validator

from curate.core import storage
from curate.core.storage import Location
from curate.dedup.lsh import band_hashes, connected_components, merge_edges, optimal_bands, partition_edges, sorted_unique
from curate.dedup.minhash import HashName, signatures
from curate.dedup.shared import (
    CLUSTER_SCHEMA,
    DedupParams,
    base_part,
    choose_kept,
    connect,
    key_columns,
    outputs,
    parts_sql,
    split_memory_limit,
)
from curate.dedup.shingles import Unit, jaccard_pairs, shingle_sets
from curate.stage import GlobalStage, StageContext
from curate.text import Normalization

BAND_ROWS_PER_PARTITION = 4_000_000  # (ord, band, band_hash) rows one grouping task groups: ~0.5 GB in DuckDB


class MinhashDedupParams(DedupParams):
    stage: Literal["minhash_dedup"] = "minhash_dedup"
    num_perm: int = Field(128, ge=2, le=1024, description="Permutations (signature length).")
    ngram: int = Field(5, ge=1, description="Units (words or characters) per shingle.")
    unit: Unit = Field("word", description="Shingle unit: word n-grams or character n-grams of the normalized text.")
    seed: int = Field(1, description="Permutation seed (datasketch's `seed`).")
    threshold: float = Field(0.8, gt=0, lt=1, description="Jaccard similarity above which documents are duplicates.")
    bands: int | None = Field(None, ge=1, description="LSH bands; default: chosen with rows to minimize error at threshold.")
    rows: int | None = Field(None, ge=1, description="Rows per band (set together with bands).")
    hash: HashName = Field("words64", description="words64 (fast) or sha1 (datasketch's default hash function).")
    fn_weight: float = Field(0.8, gt=0, lt=1, description="Weight of false negatives (1 - this for false positives) when choosing bands/rows (datasketch's default is 0.5); 0.8 favours recall, verify restores precision.")
    lsh_partitions: int | None = Field(None, ge=1, description="Band-hash partitions grouped as separate tasks; default: the number of workers, more so that no partition has over 4M band rows.")
    verify: bool = Field(True, description="Compute the true Jaccard of candidate pairs and drop false positives (false: LSH candidates only).")
    normalization: Normalization = Field(default_factory=Normalization, description="Normalization before shingling.")

    @model_validator(mode="after")
    def _band_shape_fits(self) -> "MinhashDedupParams":
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both bands and rows, or neither")
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands*rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self

    def band_shape(self) -> tuple[int, int]:
        """(bands, rows): explicit, or datasketch's error-minimizing choice for threshold and weights."""
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        return optimal_bands(self.threshold, self.num_perm, 1 - self.fn_weight, self.fn_weight)


def signature_part(batch: pl.DataFrame, params: MinhashDedupParams) -> pl.DataFrame:
    """Per shard: dedup columns, the signature (bytes of uint32[num_perm]) and the band hashes."""
    bands, rows = params.band_shape()
    sigs = signatures(batch["text"], params.num_perm, params.seed, params.ngram, params.hash, params.normalization, params.unit)
    raw = pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 * params.num_perm), len(sigs), [None, pa.py_buffer(sigs.tobytes())])
    return base_part(batch, params).with_columns(
        pl.Series("signature", pl.from_arrow(raw.cast(pa.binary())), dtype=pl.Binary),
        pl.Series("bands", band_hashes(sigs, bands, rows), dtype=pl.Array(pl.UInt64, bands)).cast(pl.List(pl.UInt64)),
    )


def shingle_part(batch: pl.DataFrame, params: MinhashDedupParams, wanted: str) -> pl.DataFrame:
    """Per shard: the sorted distinct 64-bit shingle ids of the documents listed in ``wanted`` (for verify)."""
    batch = batch.join(storage.read_parquet(storage.location(wanted)), on="doc_id", how="semi", maintain_order="left")
    values, offsets = shingle_sets(batch["text"], params.ngram, params.unit, params.normalization)
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), pa.array(values, pa.uint64()))
    return batch.select("doc_id").with_columns(pl.Series("shingles", pl.from_arrow(lists), dtype=pl.List(pl.UInt64)))


class MinhashDedup(GlobalStage):
    name = "minhash_dedup"
    version = "3"
    Params = MinhashDedupParams
    schema = {"minhash_cluster": pl.String, "minhash_cluster_size": pl.Int64, "minhash_dup_of": pl.String}
    reasons = ("minhash_dedup.near_duplicate",)
    tables = {"dup_clusters": CLUSTER_SCHEMA}
    detail_column = "minhash_dup_of"

    def compile_kernels(self) -> None:
        """Every kernel the stage runs, with the argument types it runs them with."""
        p: MinhashDedupParams = self.params  # type: ignore[assignment]
        texts = pl.Series(["one two three four five six seven", ""])
        sigs = signatures(texts, p.num_perm, p.seed, p.ngram, p.hash, p.normalization, p.unit)
        band_hashes(sigs, *p.band_shape())
        edges = np.zeros((1, 2), dtype=np.int32)  # merge_edges' dtype
        if p.verify:
            jaccard_pairs(*shingle_sets(texts, p.ngram, p.unit, p.normalization), edges)
        connected_components(2, edges)

    def reduce(self, ctx: StageContext) -> pl.DataFrame:
        p: MinhashDedupParams = self.params  # type: ignore[assignment]
        bands, rows = p.band_shape()  # chosen once here, passed to the workers
        p = p.model_copy(update={"bands": bands, "rows": rows})
        paths = ctx.map_shards(partial(signature_part, params=p), key_columns(p), "signatures")
        con = connect(ctx.scratch_dir, p.memory_limit, paths)
        docs_sql = parts_sql(paths, "doc_id, n_chars, keep_value")
        docs = pl.from_arrow(con.sql(f"SELECT ord, doc_id, n_chars, keep_value FROM ({docs_sql}) ORDER BY ord").to_arrow_table())
        con.close()
        ords = docs["ord"].to_numpy()  # dense: 0..n-1, so an edge's ends are row indices of docs
        dense = merge_edges(self._edge_files(ctx, paths, p))
        if p.verify and len(dense):
            dense = dense[self._jaccard(ctx, dense, docs["doc_id"], p) >= p.threshold]
        labels = connected_components(len(ords), dense)
        docs = choose_kept(docs.with_columns(pl.Series("cluster", ords[labels])), p.keep)  # type: ignore[arg-type]
        per_doc, clusters = outputs(docs, "minhash", "minhash_dedup.near_duplicate", "minhash")
        ctx.write_table("dup_clusters__minhash", clusters)
        return per_doc

    def _edge_files(self, ctx: StageContext, paths: list[Location], p: MinhashDedupParams) -> list[str]:
        """Candidate edges (.npy per partition): band rows partitioned by band hash, one task per partition."""
        n_docs = sum(storage.parquet_rows(path) for path in paths)
        if n_docs >= 2**31:
            raise ValueError(f"minhash_dedup packs two document ordinals into one int64: at most 2^31 documents per run, got {n_docs:,}")
        bands, _ = p.band_shape()
        partitions = p.lsh_partitions or max(ctx.workers, -(-n_docs * bands // BAND_ROWS_PER_PARTITION))
        bands_sql = ("SELECT ord, generate_subscripts(bands, 1) AS band, unnest(bands) AS band_hash"
                     f" FROM ({parts_sql(paths, 'bands')})")
        task_limit = split_memory_limit(p.memory_limit, min(ctx.workers, partitions))
        out_dir = ctx.stage_dir / f"edges-{partitions}"
        storage.make_dirs(out_dir)
        spill = str(ctx.scratch_dir / "lsh-spill")
        tasks = [(bands_sql, i, partitions, str(out_dir / f"part-{i:05d}.npy"), task_limit, 64 if p.verify else 0, spill)
                 for i in range(partitions)]
        return ctx.map_tasks("minhash_dedup: LSH buckets per band-hash partition", partition_edges, tasks)

    def _jaccard(self, ctx: StageContext, edges: np.ndarray, doc_ids: pl.Series, p: MinhashDedupParams) -> np.ndarray:
        """Exact Jaccard of each candidate edge (dense indices), shingle ids computed in the worker pool."""
        involved = sorted_unique(edges)
        wanted = doc_ids.gather(involved)
        wanted_file = ctx.stage_dir / "verify_docs.parquet"  # read by each task instead of pickling the ids
        storage.write_parquet(pl.DataFrame({"doc_id": wanted}), wanted_file)
        parts = ctx.map_shards(partial(shingle_part, params=p, wanted=str(wanted_file)), ("text",), "shingles")
        # parts in shard order, rows in shard order: exactly the order of ``involved`` (dense ordinals).
        # Two passes (lengths, then values into one buffer) keep the peak at one copy of the shingle ids.
        lengths = np.concatenate([np.empty(0, np.int64), *(
            storage.read_arrow(path, columns=["shingles"]).column("shingles").combine_chunks().value_lengths().to_numpy()
            for path in parts)]).astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        values, ids, row = np.empty(offsets[-1], dtype=np.uint64), [], 0
        for path in parts:
            table = storage.read_arrow(path)
            lists = table.column("shingles").combine_chunks()
            chunk = lists.values.to_numpy()[lists.offsets[0].as_py() : lists.offsets[-1].as_py()]
            values[offsets[row] : offsets[row] + len(chunk)] = chunk
            row += len(lists)
            ids.append(table.column("doc_id").to_numpy(zero_copy_only=False))
            del table, lists, chunk
        if not np.array_equal(np.concatenate([np.empty(0, object), *ids]), wanted.to_numpy()):
            raise RuntimeError("minhash_dedup verify: shingle parts do not match the candidate documents")
        position = np.full(len(doc_ids), -1, dtype=np.int32)
        position[involved] = np.arange(len(involved), dtype=np.int32)
        return jaccard_pairs(values, offsets, position[edges])
