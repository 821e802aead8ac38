"""minhash_dedup: near-duplicate clusters by MinHash LSH, one document kept per cluster.

Signatures are datasketch-identical (see :mod:`curate.minhash`), computed per shard in the worker pool
and stored (``stages/minhash_dedup/signatures/``, loadable as ``datasketch.LeanMinHash``). Each
signature is cut into ``bands`` × ``rows`` (by default the pair that minimizes datasketch's weighted
false positive/negative error for ``threshold``); documents sharing a band bucket are candidates,
found by a GROUP BY in DuckDB (out of core). With ``verify: true`` each candidate pair's true Jaccard
of shingle sets is computed and pairs below ``threshold`` are dropped. Connected components of the
remaining edges are the clusters (union-find); the keep policy picks the survivor.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field

from curate.dedup import DedupParams, base_part, choose_kept, connect, key_columns, outputs, parts_sql
from curate.lsh import band_hashes, candidate_edges, connected_components, optimal_bands
from curate.minhash import HashName, pack, shingle_hashes, shingle_text, signatures
from curate.stage import GlobalStage, StageContext
from curate.text import Normalization


class MinhashDedupParams(DedupParams):
    stage: Literal["minhash_dedup"] = "minhash_dedup"
    num_perm: int = Field(128, ge=2, le=1024, description="Permutations (signature length).")
    ngram: int = Field(5, ge=1, description="Words per shingle.")
    seed: int = Field(1, description="Permutation seed (datasketch's `seed`).")
    threshold: float = Field(0.8, gt=0, lt=1, description="Jaccard similarity above which documents are duplicates.")
    bands: int | None = Field(None, ge=1, description="LSH bands; default: chosen with rows to minimize error at threshold.")
    rows: int | None = Field(None, ge=1, description="Rows per band (set together with bands).")
    hash: HashName = Field("words64", description="words64 (fast) or sha1 (datasketch's default hash function).")
    fn_weight: float = Field(0.8, gt=0, lt=1, description="Weight of false negatives (1 - this for false positives) when choosing bands/rows; favours recall, verify restores precision.")
    verify: bool = Field(True, description="Compute the true Jaccard of candidate pairs and drop false positives (false: LSH candidates only).")
    normalization: Normalization = Field(default_factory=Normalization, description="Normalization before shingling.")

    def band_shape(self) -> tuple[int, int]:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both bands and rows, or neither")
        if self.bands is not None and self.rows is not None:
            if self.bands * self.rows > self.num_perm:
                raise ValueError(f"bands*rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
            return self.bands, self.rows
        return optimal_bands(self.threshold, self.num_perm, 1 - self.fn_weight, self.fn_weight)


def signature_part(batch: pl.DataFrame, params: MinhashDedupParams) -> pl.DataFrame:
    """Per shard: dedup columns, the signature (bytes of uint32[num_perm]) and band hashes."""
    bands, rows = params.band_shape()
    sigs = signatures(batch["text"], params.num_perm, params.seed, params.ngram, params.hash, params.normalization)
    hashes = band_hashes(sigs, bands, rows)
    return base_part(batch, params).with_columns(
        pl.Series("signature", [s.tobytes() for s in sigs], dtype=pl.Binary),
        pl.Series("bands", hashes, dtype=pl.Array(pl.UInt64, bands)).cast(pl.List(pl.UInt64)),
    )


def jaccard_of_pairs(texts: dict[int, str], pairs: np.ndarray, params: MinhashDedupParams) -> np.ndarray:
    """True Jaccard similarity of the shingle-hash sets of each pair (ordinals -> texts)."""
    ords = sorted(texts)
    buf, offsets = pack(shingle_text(pl.Series([texts[o] for o in ords]), params.normalization))
    sets = {o: set(shingle_hashes(buf, offsets[i], offsets[i + 1], params.ngram, params.hash == "sha1").tolist()) for i, o in enumerate(ords)}
    out = np.empty(len(pairs))
    for i, (a, b) in enumerate(pairs):
        union = len(sets[a] | sets[b])
        out[i] = len(sets[a] & sets[b]) / union if union else 1.0
    return out


class MinhashDedup(GlobalStage):
    name = "minhash_dedup"
    version = "1"
    Params = MinhashDedupParams
    schema = {"minhash_cluster": pl.String, "minhash_cluster_size": pl.Int64, "minhash_dup_of": pl.String}
    reasons = ("minhash_dedup.near_duplicate",)
    detail_column = "minhash_dup_of"

    def reduce(self, ctx: StageContext) -> pl.DataFrame:
        p: MinhashDedupParams = self.params  # type: ignore[assignment]
        p.band_shape()
        paths = ctx.map_shards(partial(signature_part, params=p), key_columns(p), "signatures")
        con = connect(ctx.stage_dir, p.memory_limit)
        docs_sql = parts_sql(paths, "doc_id, n_chars, keep_value, bands")
        bands_sql = f"SELECT ord, generate_subscripts(bands, 1) AS band, unnest(bands) AS band_hash FROM ({docs_sql})"
        edges = candidate_edges(con, bands_sql, all_pairs_up_to=64 if p.verify else 0)
        docs = pl.from_arrow(con.sql(
            f"SELECT ord, doc_id, n_chars, keep_value FROM ({docs_sql}) ORDER BY ord").to_arrow_table())
        con.close()
        ords = docs["ord"].to_numpy()
        if p.verify and len(edges):
            edges = edges[self._verified(ctx, edges, ords, docs["doc_id"], p)]
        dense = np.searchsorted(ords, edges) if len(edges) else edges
        labels = connected_components(len(ords), dense)
        docs = choose_kept(docs.with_columns(pl.Series("cluster", ords[labels])), p.keep)  # type: ignore[arg-type]
        per_doc, clusters = outputs(docs, "minhash", "minhash_dedup.near_duplicate", "minhash")
        ctx.write_table("dup_clusters__minhash", clusters)
        return per_doc

    def _verified(self, ctx: StageContext, edges: np.ndarray, ords: np.ndarray, doc_ids: pl.Series, p: MinhashDedupParams) -> np.ndarray:
        """Mask of candidate edges whose true Jaccard reaches the threshold."""
        involved = set(np.unique(edges).tolist())
        wanted = set(doc_ids.to_numpy()[np.searchsorted(ords, sorted(involved))].tolist())
        id_to_ord = dict(zip(doc_ids.to_list(), ords.tolist(), strict=True))
        texts: dict[int, str] = {}
        for frame in ctx.documents(("doc_id", "text")):
            for doc_id, text in frame.filter(pl.col("doc_id").is_in(list(wanted))).iter_rows():
                texts[id_to_ord[doc_id]] = text
        return jaccard_of_pairs(texts, edges, p) >= p.threshold
