"""Token counts (and ids) of pool documents, for mixture budgets and the n-gram alignment.

- ``auto`` (the default): ``run`` when the run's tokenizer exists, else ``bytes4``; the manifest records
  which counter was used (``token_counter``).
- ``bytes4``: ceil(UTF-8 bytes / 4), the usual rule of thumb before a tokenizer exists; needs no text.
- ``run``: the run's trained tokenizer (``train/tokenizer/tokenizer.json``, written by ``train tokenizer``),
  loaded with the ``tokenizers`` library (curate never imports ``train``); ids counted without special
  tokens (the trainer adds one EOS per document when packing). Texts stream from DuckDB in batches, and
  counts are cached per tokenizer (by its SHA-256) in ``mixtures/.token_counts/<sha>.parquet``, so a
  sweep counts each document once.

:class:`DocTokens` holds the token ids of documents as they are first asked for, so a sweep tokenizes
each pool document once however many mixtures hold it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl

from curate.core import storage
from curate.core.catalog import Catalog

TOKENIZER_FILE = Path("train/tokenizer/tokenizer.json")
BATCH_DOCS = 5000


def tokenizer_path(run_dir: Path) -> Path:
    path = run_dir / TOKENIZER_FILE
    if not path.exists():
        raise FileNotFoundError(f"tokenizer: run needs {path}; train it first with `train tokenizer {run_dir}`")
    return path


def resolve_mode(run_dir: Path, mode: str) -> str:
    """``run`` or ``bytes4``: ``auto`` becomes ``run`` when the run's tokenizer exists."""
    if mode == "auto":
        return "run" if (run_dir / TOKENIZER_FILE).exists() else "bytes4"
    return mode


def token_counter_name(run_dir: Path, mode: str) -> str:
    """How tokens were counted, as recorded in the manifest: ``bytes4`` or ``tokenizer:<sha256>``."""
    if resolve_mode(run_dir, mode) == "bytes4":
        return "bytes4"
    return "tokenizer:" + hashlib.sha256(tokenizer_path(run_dir).read_bytes()).hexdigest()


def _tokenizer_counts(cat: Catalog, doc_ids: pl.Series) -> pl.Series:
    from tokenizers import Tokenizer

    path = tokenizer_path(cat.run_dir)
    cache = cat.run_dir / "mixtures" / ".token_counts" / f"{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}.parquet"
    known = pl.read_parquet(cache) if cache.exists() else pl.DataFrame(schema={"doc_id": pl.String, "n_tokens": pl.Int64})
    missing = doc_ids.to_frame("doc_id").join(known, on="doc_id", how="anti")
    if missing.height:
        tokenizer = Tokenizer.from_file(str(path))
        cat.con.register("_mix_missing", missing.to_arrow())
        try:
            reader = cat.con.sql("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT doc_id FROM _mix_missing)").to_arrow_reader(BATCH_DOCS)
            parts = []
            for batch in reader:
                encoded = tokenizer.encode_batch(batch.column("text").to_pylist(), add_special_tokens=False)
                parts.append(pl.DataFrame({"doc_id": batch.column("doc_id").to_pylist(), "n_tokens": [len(e.ids) for e in encoded]},
                                          schema={"doc_id": pl.String, "n_tokens": pl.Int64}))
        finally:
            cat.con.unregister("_mix_missing")
        known = pl.concat([known, *parts]).unique("doc_id").sort("doc_id")
        storage.write_parquet(known, cache)
    return doc_ids.to_frame("doc_id").join(known, on="doc_id", how="left", maintain_order="left")["n_tokens"]


def count_tokens(cat: Catalog, frame: pl.DataFrame, mode: str) -> pl.Series:
    """Tokens of each row of ``frame`` (doc_id, n_bytes), in row order."""
    if resolve_mode(cat.run_dir, mode) == "bytes4":
        return ((frame["n_bytes"] + 3) // 4).cast(pl.Int64).alias("n_tokens")
    return _tokenizer_counts(cat, frame["doc_id"]).alias("n_tokens")


class DocTokens:
    """Token ids (no special tokens) of documents and texts under the run's tokenizer, each document
    encoded once: ``ids(cat, doc_ids)`` reads and encodes only the ones not seen before."""

    def __init__(self, run_dir: Path) -> None:
        from tokenizers import Tokenizer

        path = tokenizer_path(run_dir)
        self.tokenizer = Tokenizer.from_file(str(path))
        self.vocab_size = self.tokenizer.get_vocab_size()
        self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        self.known: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        return [np.asarray(e.ids, dtype=np.int32) for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    def ids(self, cat: Catalog, doc_ids: list[str]) -> list[np.ndarray]:
        """The ids of each document, in the order given."""
        missing = pl.DataFrame({"doc_id": [d for d in dict.fromkeys(doc_ids) if d not in self.known]}, schema={"doc_id": pl.String})
        if missing.height:
            cat.con.register("_mix_tok_ids", missing.to_arrow())
            try:
                reader = cat.con.sql("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT doc_id FROM _mix_tok_ids)"
                                     ).to_arrow_reader(BATCH_DOCS)
                for batch in reader:
                    self.known.update(zip(batch.column("doc_id").to_pylist(), self.encode(batch.column("text").to_pylist()), strict=True))
            finally:
                cat.con.unregister("_mix_tok_ids")
        return [self.known[d] for d in doc_ids]
