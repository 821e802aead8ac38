"""Stream a mixture's rows to Parquet shards with bounded memory, byte-identical for the same rows.

The chosen rows (doc_id, group_key, and ``ord``, their shuffled position) are small; the texts are not.
DuckDB joins the rows to the ``documents`` view and sorts by ``ord`` under a memory limit (spilling to a
temporary folder beyond it: the catalog's own, ``<catalog>.tmp``, since DuckDB cannot switch it once
used); the result is fetched in record batches and cut into shards of exactly
``shard_docs`` rows, each written in one call with fixed settings. Bytes therefore depend only on the
rows, not on DuckDB's thread count or batch boundaries.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.catalog import Catalog
from sql.quote import sql_string

SCHEMA = pa.schema([("doc_id", pa.string()), ("text", pa.string()), ("group_key", pa.string())])
ROW_GROUP_ROWS = 1024  # small row groups: a trainer or datasets streams a shard without loading it whole


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_shard(rows: list[pa.RecordBatch], folder: Path, index: int, jsonl: bool) -> dict:
    table = pa.Table.from_batches(rows, schema=SCHEMA).combine_chunks()
    path = folder / f"part-{index:05d}.parquet"
    pq.write_table(table, path, compression="zstd", row_group_size=ROW_GROUP_ROWS, write_statistics=False,
                   use_dictionary=["group_key"])
    shard = {"path": path.name, "sha256": sha256_file(path), "n_docs": table.num_rows}
    if jsonl:
        json_path = folder / f"part-{index:05d}.jsonl"
        pl.from_arrow(table).write_ndjson(json_path)  # type: ignore[union-attr]
        shard |= {"jsonl_path": json_path.name, "jsonl_sha256": sha256_file(json_path)}
    return shard


class _Settings:
    """Temporarily set DuckDB threads / memory limit on the catalog connection."""

    def __init__(self, cat: Catalog, **wanted: str | int | None) -> None:
        self.cat, self.wanted = cat, {k: v for k, v in wanted.items() if v is not None}
        self.old: dict[str, str] = {}

    def __enter__(self) -> None:
        for key, value in self.wanted.items():
            self.old[key] = self.cat.execute(f"SELECT current_setting('{key}')")[0][0]
            self.cat.execute(f"SET {key} = {sql_string(str(value))}" if isinstance(value, str) else f"SET {key} = {int(value)}")

    def __exit__(self, *exc: object) -> None:
        for key, value in self.old.items():
            self.cat.execute(f"SET {key} = {sql_string(str(value))}" if key != "threads" else f"SET threads = {int(value)}")


def write_shards(cat: Catalog, rows: pl.DataFrame, folder: Path, shard_docs: int, jsonl: bool = False,
                 threads: int | None = None, memory_limit: str = "1GB") -> list[dict]:
    """Write ``rows`` (doc_id, group_key, ord) with their texts as ``folder/part-NNNNN.parquet``, in ord order.

    ``folder`` is created fresh (it must not exist). Returns one ``{path, sha256, n_docs}`` per shard.
    """
    folder.mkdir(parents=True)
    cat.con.register("_mix_rows", rows.select("doc_id", "group_key", "ord").to_arrow())
    shards: list[dict] = []
    try:
        with _Settings(cat, threads=threads, memory_limit=memory_limit):
            reader = cat.con.sql(
                "SELECT r.doc_id, d.text, r.group_key FROM _mix_rows r JOIN documents d USING (doc_id) ORDER BY r.ord"
            ).to_arrow_reader(min(shard_docs, 8192))
            pending: list[pa.RecordBatch] = []
            n_pending = 0
            for batch in reader:
                while batch.num_rows:
                    take = min(batch.num_rows, shard_docs - n_pending)
                    pending.append(batch.slice(0, take))
                    n_pending, batch = n_pending + take, batch.slice(take)
                    if n_pending == shard_docs:
                        shards.append(_write_shard(pending, folder, len(shards), jsonl))
                        pending, n_pending = [], 0
            if n_pending or not shards:
                shards.append(_write_shard(pending, folder, len(shards), jsonl))
    finally:
        cat.con.unregister("_mix_rows")
    written = sum(s["n_docs"] for s in shards)
    if written != rows.height:
        raise RuntimeError(f"wrote {written} rows but {rows.height} were chosen: documents missing from the docs Parquet")
    return shards
