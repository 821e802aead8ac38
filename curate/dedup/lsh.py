"""LSH banding and duplicate clustering, out of core.

- :func:`optimal_bands` picks (bands, rows) minimizing the weighted false positive + false negative
  probability mass for a Jaccard threshold, exactly as ``datasketch.lsh._optimal_param`` does.
- :func:`band_hashes` turns signatures into one 64-bit hash per band (rows written to Parquet).
- :func:`candidate_edges` groups ``(band, band_hash)`` in DuckDB (bounded memory: DuckDB spills to its
  temp directory) and returns edges between documents sharing a bucket.
- :func:`partition_edges` does that for one partition ``band_hash % partitions``: a bucket lives in
  exactly one partition, so partitions are grouped independently (one pool or Ray task each) and the
  union of their edges is the same whatever the number of partitions.
- :func:`connected_components` is a union-find over those edges (numba).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import duckdb
import numba as nb
import numpy as np

from curate.core import storage
from sql.quote import sql_string


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimizing fp_weight·P(false positive) + fn_weight·P(false negative) (datasketch's rule).

    The integrands are polynomials of degree ``b·r ≤ num_perm`` in s, so Gauss-Legendre quadrature with
    ``num_perm // 2 + 1`` nodes is exact; in numpy it scores every (b, r) at once instead of importing
    scipy.integrate (0.65 s per process) for ``quad``, which datasketch uses.
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    shape = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    b, r = (np.array(v, dtype=float)[:, None] for v in zip(*shape, strict=True))

    def integral(lo: float, hi: float, false_negative: bool) -> np.ndarray:
        s = (hi - lo) / 2 * nodes + (hi + lo) / 2
        collide = 1 - (1 - s[None, :] ** r) ** b
        return (hi - lo) / 2 * ((1 - collide if false_negative else collide) @ weights)

    err = integral(0.0, threshold, False) * fp_weight + integral(threshold, 1.0, True) * fn_weight
    return shape[int(np.argmin(err))]


@nb.njit(cache=True)
def _band_hashes(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    out = np.empty((sigs.shape[0], bands), dtype=np.uint64)
    for d in range(sigs.shape[0]):
        for band in range(bands):
            h = np.uint64(0x9E3779B97F4A7C15) * np.uint64(band + 1)
            for r in range(band * rows, (band + 1) * rows):
                h ^= np.uint64(sigs[d, r]) + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2))
            out[d, band] = h
    return out


def band_hashes(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit hash of each band's ``rows`` signature values; shape (docs, bands)."""
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"bands*rows = {bands * rows} exceeds num_perm = {sigs.shape[1]}")
    return _band_hashes(np.ascontiguousarray(sigs), bands, rows)


def candidate_edges(con: duckdb.DuckDBPyConnection, bands_sql: str, all_pairs_up_to: int = 0) -> np.ndarray:
    """Edges (a, b), a < b, between documents (by ordinal) sharing a (band, band_hash) bucket.

    ``bands_sql`` selects (ord, band, band_hash). Each bucket contributes a star from its smallest
    ordinal to the others (enough for connected components); buckets with at most
    ``all_pairs_up_to`` members contribute every pair instead (for pairwise verification). All of it
    runs in DuckDB, which spills to disk beyond its memory limit.
    """
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE buckets AS SELECT list(ord ORDER BY ord) AS m FROM ({bands_sql})"
        " GROUP BY band, band_hash HAVING count(*) > 1"
    )
    edges = con.execute(
        """
        WITH small AS (SELECT row_number() OVER () AS bucket, m FROM buckets WHERE len(m) <= $k),
             members AS (SELECT bucket, unnest(m) AS o FROM small)
        SELECT m[1] AS a, unnest(m[2:]) AS b FROM buckets WHERE len(m) > $k
        UNION
        SELECT x.o AS a, y.o AS b FROM members x JOIN members y ON x.bucket = y.bucket AND x.o < y.o
        ORDER BY a, b
        """,
        {"k": all_pairs_up_to},
    ).fetchnumpy()
    return np.stack([edges["a"], edges["b"]], axis=1).astype(np.int64).reshape(-1, 2)


def partition_edges(
    bands_sql: str, partition: int, partitions: int, out: str, memory_limit: str, all_pairs_up_to: int, spill_dir: str
) -> str:
    """Candidate edges of the buckets in one band-hash partition, written atomically to ``out`` (.npy).

    Edges are packed into one int64 each, ``a << 32 | b`` (ordinals are dense document indices), so the
    driver's union is a 1-D sort. ``bands_sql`` selects (ord, band, band_hash) from Parquet; only rows with ``band_hash % partitions
    == partition`` are grouped, in a private DuckDB with ``memory_limit`` that spills to the local
    ``spill_dir``. ``out`` may be local or remote (:mod:`curate.core.storage`); an existing ``out`` is a
    finished partition (resume).
    """
    target = storage.location(out)
    if target.exists():
        return out
    spill = Path(spill_dir) / f"tmp-{partition}"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    storage.register_with(con, out)
    con.execute(f"SET memory_limit = {sql_string(memory_limit)}")
    con.execute(f"SET temp_directory = {sql_string(str(spill))}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET threads = 1")
    con.execute("SET enable_progress_bar = false")
    part_sql = f"SELECT * FROM ({bands_sql}) WHERE band_hash % {int(partitions)} = {int(partition)}"
    edges = candidate_edges(con, part_sql, all_pairs_up_to)
    con.close()
    storage.save_npy((edges[:, 0] << 32) | edges[:, 1], target)
    return out


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of an integer array by sort + mask (numpy 2's ``unique`` is ~20x slower on 10M+ values)."""
    keys = np.sort(values, axis=None)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys


def merge_edges(paths: list[str]) -> np.ndarray:
    """The sorted distinct union of the partitions' edges (packed ``a << 32 | b``) as int32 pairs (a, b)."""
    sizes = [storage.npy_length(storage.location(p)) for p in paths]
    keys, position = np.empty(sum(sizes), dtype=np.int64), 0
    for path, size in zip(paths, sizes, strict=True):  # one buffer, filled in place: peak ~2x the edges, not 4x
        keys[position : position + size] = storage.load_npy(storage.location(path))
        position += size
    keys.sort()
    if len(keys):
        distinct = np.empty(len(keys), dtype=bool)
        distinct[0] = True
        np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
        keys = keys[distinct]
    edges = np.empty((len(keys), 2), dtype=np.int32)
    edges[:, 0] = keys >> 32
    edges[:, 1] = keys & 0xFFFFFFFF
    return edges


@nb.njit(cache=True)
def _find(parent: np.ndarray, x: int) -> int:
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        parent[x], x = root, parent[x]
    return root


@nb.njit(cache=True)
def _union_all(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    for i in range(a.shape[0]):
        ra, rb = _find(parent, a[i]), _find(parent, b[i])
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb


@nb.njit(cache=True)
def _roots(parent: np.ndarray) -> np.ndarray:
    out = np.empty_like(parent)
    for i in range(parent.shape[0]):
        out[i] = _find(parent, i)
    return out


def connected_components(n_nodes: int, edges: np.ndarray) -> np.ndarray:
    """Component label of each node 0..n-1: the smallest node index in its component."""
    parent = np.arange(n_nodes, dtype=np.int64)
    if len(edges):
        _union_all(parent, edges[:, 0].copy(), edges[:, 1].copy())
    return _roots(parent)
