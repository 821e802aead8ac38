"""Mixture shards -> one packed token array (documents joined with EOS) -> seeded batches of windows.

Packing (as GPT-2/nanoGPT): concatenate every document's tokens followed by EOS, cut into fixed-length
sequences of seq_len+1 tokens. The array is cached as ``train/cache/<mixture_id>-<tokenizer>.npy``.
The sampler visits the sequences in a permutation drawn from the data seed, epoch after epoch.
A fixed, seeded set of ``holdout`` sequences is kept out of training: the run's validation set, drawn
from its own mixture (the same for every seed of a mixture, so seeds differ only in init and order).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import torch
from tokenizers import Tokenizer

from curate.catalog import Catalog

EOS_ID = 0
HOLDOUT_SEED = 20_240_601  # fixed: the held-out sequences depend on the mixture only, never on run seeds


def mixture_dir(cat: Catalog, mixture_id: str) -> Path:
    rows = cat.query("SELECT path FROM mixtures WHERE mixture_id = $m", {"m": mixture_id})
    if rows.height == 0:
        known = cat.query("SELECT mixture_id FROM mixtures ORDER BY 1")["mixture_id"].to_list()
        raise KeyError(f"no mixture {mixture_id!r} in {cat.path}; known: {known}")
    return cat.run_dir / rows["path"][0]


def encode(tokenizer: Tokenizer, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


def packed_tokens_path(folder: Path, tok_hash: str, cache: Path) -> Path:
    """Where ``packed_tokens`` caches a mixture's tokens under one tokenizer."""
    return cache / f"{folder.name}-{tok_hash[:12]}.npy"


def packed_tokens(folder: Path, tokenizer: Tokenizer, tok_hash: str, cache: Path) -> np.ndarray:
    """All tokens of a mixture's shards, each document followed by EOS (cached)."""
    path = packed_tokens_path(folder, tok_hash, cache)
    if path.exists():
        return np.load(path, mmap_mode="r")
    manifest = json.loads((folder / "manifest.json").read_text())
    chunks = []
    for shard in manifest["shards"]:
        texts = pl.read_parquet(folder / shard["path"], columns=["text"])["text"].to_list()
        for ids in encode(tokenizer, texts):
            chunks.append(np.asarray(ids + [EOS_ID], dtype=np.uint32))
    tokens = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.uint32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, tokens)
    tmp.replace(path)
    return tokens


class Batches:
    """Seeded batches of (input, target) windows from packed tokens; position-addressable for resume.

    ``holdout`` windows (chosen by HOLDOUT_SEED) never appear in a training batch; ``validation()``
    returns them.
    """

    def __init__(self, tokens: np.ndarray, seq_len: int, batch_size: int, seed: int, holdout: int = 0) -> None:
        self.seq_len, self.batch_size, self.seed = seq_len, batch_size, seed
        n_windows = (len(tokens) - 1) // seq_len
        holdout = min(holdout, n_windows // 10)  # never more than a tenth of the data
        if n_windows - holdout < 1:
            raise ValueError(f"the mixture has {len(tokens)} tokens, fewer than one sequence of {seq_len + 1}")
        picked = np.random.default_rng(HOLDOUT_SEED).permutation(n_windows)
        self.held_out = np.sort(picked[:holdout])
        self.train_windows = np.sort(picked[holdout:])
        self.tokens, self.n_seq = tokens, len(self.train_windows)
        self._orders: dict[int, np.ndarray] = {}

    def order(self, epoch: int) -> np.ndarray:
        if epoch not in self._orders:
            self._orders = {epoch: self.train_windows[np.random.default_rng([self.seed, epoch]).permutation(self.n_seq)]}
        return self._orders[epoch]

    def _window(self, index: int) -> np.ndarray:
        start = int(index) * self.seq_len
        return np.asarray(self.tokens[start : start + self.seq_len + 1], dtype=np.int64)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of optimizer step ``step`` (deterministic: resume continues the same sequence)."""
        rows = [self._window(self.order(epoch)[pos])
                for epoch, pos in (divmod(i, self.n_seq) for i in range(step * self.batch_size, (step + 1) * self.batch_size))]
        data = torch.from_numpy(np.stack(rows))
        return data[:, :-1], data[:, 1:]

    def validation(self) -> list[list[int]]:
        """The held-out windows (seq_len + 1 tokens each), for the validation loss."""
        return [self._window(i).tolist() for i in self.held_out]

    def training_tokens(self) -> np.ndarray:
        """Every token of the training windows (held-out windows removed): what the unigram entropy is of."""
        keep = np.ones(len(self.tokens), dtype=bool)
        for i in self.held_out:
            keep[i * self.seq_len : (i + 1) * self.seq_len] = False
        return np.asarray(self.tokens)[keep]
