"""Byte-level BPE trained once per ablation on a seeded sample of the run's kept documents.

One tokenizer serves every mixture of a sweep so losses are comparable; its SHA-256 is recorded with
each run. Eval documents are excluded from the sample. EOS is token 0 (``<|endoftext|>``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from curate.catalog import Catalog

EOS = "<|endoftext|>"
TOKENIZER_PATH = Path("train/tokenizer/tokenizer.json")


def train_tokenizer(run_dir: Path, vocab_size: int = 8192, sample_docs: int = 20_000, seed: int = 0) -> Path:
    """Train and save ``train/tokenizer/tokenizer.json`` under the run folder; returns its path."""
    with Catalog(run_dir, read_only=True) as cat:
        texts = cat.query(
            "SELECT text FROM kept_documents WHERE doc_id NOT IN (SELECT doc_id FROM eval_sets)"
            " ORDER BY hash(doc_id || $seed) LIMIT $n", {"seed": str(seed), "n": sample_docs})["text"].to_list()
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    path = Path(run_dir) / TOKENIZER_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tokenizer.save(str(tmp))
    tmp.replace(path)
    return path


def load_tokenizer(run_dir: Path) -> tuple[Tokenizer, str]:
    """The run's tokenizer and its SHA-256 (recorded with every training run)."""
    path = Path(run_dir) / TOKENIZER_PATH
    if not path.exists():
        raise FileNotFoundError(f"no tokenizer at {path}: run `train tokenizer {run_dir}` first")
    return Tokenizer.from_file(str(path)), hashlib.sha256(path.read_bytes()).hexdigest()


def count_tokens(tokenizer: Tokenizer, texts: list[str]) -> list[int]:
    """Tokens per text (no special tokens): what a mixture's token budget counts."""
    return [len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


def count_tokens_in_run(run_dir: Path, texts: list[str]) -> list[int]:
    """Tokens per text with the run's shared tokenizer (raises if it is not trained yet)."""
    return count_tokens(load_tokenizer(run_dir)[0], texts)
