"""A small run ready for a designed study: generated documents (one source per domain), eval sets reserved,
and a byte-level BPE tokenizer with EOS at id 0 fitted on the non-eval documents (as `train tokenizer` does)."""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from curate.core.catalog import Catalog
from curate.mix.eval_split import EvalSplitParams, reserve_eval
from curate.mix.tokens import TOKENIZER_FILE
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records


def write_tokenizer(run_dir: Path, vocab_size: int = 300) -> Path:
    """Fit and save the run's tokenizer on its kept, non-eval documents."""
    with Catalog(run_dir, read_only=True) as cat:
        texts = cat.query("SELECT text FROM kept_documents WHERE doc_id NOT IN (SELECT doc_id FROM eval_sets) ORDER BY doc_id")["text"].to_list()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    path = run_dir / TOKENIZER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return path


def build_study_run(root: Path, n_docs: int = 300, seed: int = 12, per_group: int = 3, tokenizer: bool = True,
                    stages: list[dict] | None = None) -> Path:
    """``root/run``: n_docs documents over five domain sources, eval sets of ``per_group`` per source."""
    records = to_records(make_corpus(n_docs, seed=seed, exact_dup_rate=0.03, near_dup_rate=0.0))
    for domain in sorted({r["domain"] for r in records}):
        write_jsonl(root / "data" / f"{domain}.jsonl", [r for r in records if r["domain"] == domain])
    recipe = parse_recipe({"name": "study", "inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}],
                           "stages": stages if stages is not None else [{"stage": "exact_dedup"}]})
    run_dir = RecipeRunner(recipe, root, root / "run", workers=1, progress=False).run().run_dir
    with Catalog(run_dir) as cat:
        reserve_eval(cat, EvalSplitParams(group_by="source", per_group=per_group, seed=0))
    if tokenizer:
        write_tokenizer(run_dir)
    return run_dir
