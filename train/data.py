"""Mixture shards -> one packed token array (documents joined with EOS) -> seeded batches of windows.

Packing (as GPT-2/nanoGPT): concatenate every document's tokens followed by EOS, cut into fixed-length
sequences of seq_len+1 tokens. The array is cached as ``train/cache/<mixture_id>-<tokenizer>.npy``.
The sampler visits the sequences in a permutation drawn from the data seed, epoch after epoch.

Validation comes from the mixture itself: a fixed share of its distinct documents (the first by md5 of
``doc_id``: the same for every seed and every run) is held out, and *every copy* of them leaves the
training tokens, so a mixture that repeats documents cannot leak them into its own validation set.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl
import torch
from tokenizers import Tokenizer

from curate.core.catalog import Catalog
from curate.core.errors import NotInRun

EOS_ID = 0
HOLDOUT_FRAC = 0.03  # of a mixture's distinct documents, held out for validation (at least one)


def mixture_dir(cat: Catalog, mixture_id: str) -> Path:
    rows = cat.ask("train/mixture_path", mixture_id=mixture_id)
    if rows.height == 0:
        known = cat.ask("shared/mixture_ids")["mixture_id"].to_list()
        raise NotInRun(f"no mixture {mixture_id!r} in {cat.path}; known: {known}")
    return cat.run_dir / rows["path"][0]


def encode(tokenizer: Tokenizer, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


def packed_tokens_paths(folder: Path, tok_hash: str, cache: Path) -> tuple[Path, Path]:
    """Where ``packed_tokens`` caches a mixture's (training, validation) tokens under one tokenizer."""
    stem = f"{folder.name}-{tok_hash[:12]}"
    return cache / f"{stem}.npy", cache / f"{stem}-val.npy"


def _held_out(doc_ids: list[str]) -> set[str]:
    distinct = sorted(set(doc_ids), key=lambda d: hashlib.md5(d.encode()).hexdigest())
    return set(distinct[: max(1, int(HOLDOUT_FRAC * len(distinct)))]) if len(distinct) > 1 else set()


def _save(path: Path, tokens: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, tokens)
    tmp.replace(path)


def packed_tokens(folder: Path, tokenizer: Tokenizer, tok_hash: str, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """(training tokens, validation tokens) of a mixture, each document followed by EOS (cached).

    Validation holds one copy of each held-out document; training holds every other document row. Each
    distinct document is tokenized once, however often the mixture repeats it.
    """
    path, val_path = packed_tokens_paths(folder, tok_hash, cache)
    if path.exists() and val_path.exists():
        return np.load(path, mmap_mode="r"), np.load(val_path, mmap_mode="r")
    manifest = json.loads((folder / "manifest.json").read_text())
    rows = pl.concat([pl.read_parquet(folder / shard["path"], columns=["doc_id", "text"]) for shard in manifest["shards"]])
    held = _held_out(rows["doc_id"].to_list())
    distinct = rows.unique("doc_id", keep="first", maintain_order=True)
    chunks = {d: np.asarray([*ids, EOS_ID], dtype=np.uint32)
              for d, ids in zip(distinct["doc_id"].to_list(), encode(tokenizer, distinct["text"].to_list()), strict=True)}
    train, val, seen = [], [], set()
    for doc_id in rows["doc_id"].to_list():
        chunk = chunks[doc_id]
        if doc_id not in held:
            train.append(chunk)
        elif doc_id not in seen:
            seen.add(doc_id)
            val.append(chunk)
    empty = np.zeros(0, dtype=np.uint32)
    tokens, val_tokens = (np.concatenate(train) if train else empty), (np.concatenate(val) if val else empty)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save(val_path, val_tokens)
    _save(path, tokens)
    return tokens, val_tokens


class Batches:
    """Seeded batches of (input, target) windows from packed tokens; position-addressable for resume.

    ``validation`` (tokens of held-out documents, never in ``tokens``) is cut into windows by
    ``validation()``, at most ``val_seqs`` of them.
    """

    def __init__(self, tokens: np.ndarray, seq_len: int, batch_size: int, seed: int,
                 validation: np.ndarray | None = None, val_seqs: int = 32) -> None:
        self.seq_len, self.batch_size, self.seed = seq_len, batch_size, seed
        n_seq = (len(tokens) - 1) // seq_len
        if n_seq < 1:
            raise ValueError(f"the mixture has {len(tokens)} tokens, fewer than one sequence of {seq_len + 1}")
        self.tokens, self.n_seq = tokens, n_seq
        self.val_tokens = np.zeros(0, dtype=np.uint32) if validation is None else validation
        self.val_seqs = val_seqs
        self._orders: dict[int, np.ndarray] = {}

    def order(self, epoch: int) -> np.ndarray:
        if epoch not in self._orders:
            self._orders = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.n_seq)}
        return self._orders[epoch]

    def _window(self, index: int, tokens: np.ndarray | None = None) -> np.ndarray:
        source = self.tokens if tokens is None else tokens
        start = int(index) * self.seq_len
        return np.asarray(source[start : start + self.seq_len + 1], dtype=np.int64)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of optimizer step ``step`` (deterministic: resume continues the same sequence)."""
        rows = [self._window(self.order(epoch)[pos])
                for epoch, pos in (divmod(i, self.n_seq) for i in range(step * self.batch_size, (step + 1) * self.batch_size))]
        data = torch.from_numpy(np.stack(rows))
        return data[:, :-1], data[:, 1:]

    def validation(self) -> list[list[int]]:
        """Windows of seq_len + 1 tokens (the last may be shorter) over the held-out documents."""
        n = min(self.val_seqs, -(-(len(self.val_tokens) - 1) // self.seq_len)) if len(self.val_tokens) > 1 else 0
        return [self._window(i, self.val_tokens).tolist() for i in range(n)]
