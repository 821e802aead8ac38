"""Byte-level BPE trained once per ablation on a seeded sample of the run's kept documents.

One tokenizer serves every mixture of a sweep so losses are comparable; its SHA-256 is recorded with
each run. EOS is token 0 (``<|endoftext|>``).

Leak-free (:mod:`curate.models.fits`): the sample never holds an eval document or a duplicate of one
(the catalog's views hide them while it is drawn), ``manifest.json`` beside the tokenizer records the eval
split it left out, and the sampled doc_ids become the catalog's ``fit_docs__tokenizer``. Training with no
eval split reserved is an error (:class:`NoEvalSplit`) unless the caller opts out (``require_split=False``,
``train tokenizer --no-eval-split``): a split reserved later would hold documents the merges were fitted on.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from curate.core import storage
from curate.core.catalog import Catalog
from curate.models.fits import eval_docs_hidden, eval_exclusion, fit_table

EOS = "<|endoftext|>"
TOKENIZER_PATH = Path("train/tokenizer/tokenizer.json")
MANIFEST_PATH = TOKENIZER_PATH.with_name("manifest.json")


class NoEvalSplit(ValueError):
    """No eval split is reserved, so a fit could see documents that later become eval documents."""


def _no_split_message(run_dir: Path) -> str:
    return (f"no eval split is reserved in {run_dir}: the tokenizer would be fitted on documents that may later be"
            f" eval documents. Reserve one first: `curate mix eval-split {run_dir} --per-group N [--ood GROUP]`, or add an"
            " `eval_split:` section to the recipe and rerun `curate run`; or pass --no-eval-split (not for studies)")


def train_tokenizer(run_dir: Path, vocab_size: int = 8192, sample_docs: int = 20_000, seed: int = 0,
                    require_split: bool = True) -> Path:
    """Train and save ``train/tokenizer/tokenizer.json`` (+ ``manifest.json``) under the run folder; returns its path.

    Raises :class:`NoEvalSplit` when no eval split is reserved and ``require_split`` is set."""
    run_dir = Path(run_dir)
    with Catalog(run_dir) as cat:
        exclusion = eval_exclusion(cat)
        if exclusion.split_id is None and require_split:
            raise NoEvalSplit(_no_split_message(run_dir))
        with eval_docs_hidden(cat):
            sample = cat.ask("train/tokenizer_sample", seed=str(seed), limit=sample_docs)
        n_removed = cat.ask("train/kept_among", ids=exclusion.doc_ids.to_list())["n"][0]
        started = time.perf_counter()
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tokenizer.train_from_iterator(sample["text"].to_list(), trainer=trainer)
        path = run_dir / TOKENIZER_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tokenizer.save(str(tmp))
        tmp.replace(path)
        manifest = {"vocab_size": vocab_size, "sample_docs": sample_docs, "seed": seed, "n_docs": sample.height,
                    "wall_s": time.perf_counter() - started, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "eval_split": exclusion.manifest(n_removed)}
        (run_dir / MANIFEST_PATH).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        fit_docs = cat.data_root / "train" / "tokenizer" / "fit_docs.parquet"
        storage.write_parquet(exclusion.fit_rows("tokenizer", sample["doc_id"]), fit_docs)
        cat.register_artifact(fit_table("tokenizer"), "tokenizer", fit_docs)
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
