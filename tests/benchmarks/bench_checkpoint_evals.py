"""What the checkpoint evaluations cost next to training: one run with the defaults (``eval_at``,
``checkpoint_eval_docs``), and for reference one checkpoint evaluation over every eval document and the final
evaluation (with probes).

Text: this machine's package copyright files and Python's doc topics (English prose, licenses, reference
text), a 1,024-token byte-level BPE trained on them (as the demo's); the eval panel is ``--sets`` sets of
``--docs`` documents of ``--chars`` characters each (the demo's panel: 8 x 32 x 4,000). One thread, as each
of the demo's two sweep workers has.

    python tests/benchmarks/bench_checkpoint_evals.py              # nano, 1M tokens
    python tests/benchmarks/bench_checkpoint_evals.py --quick      # 100k tokens
    python tests/benchmarks/bench_checkpoint_evals.py --smoke      # 4 steps on a tiny panel (the test suite's check)
Last line: JSON with train_s, checkpoint_eval_s, overhead (checkpoint_eval_s / train_s), per-checkpoint times.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from curate.mix.eval_split import EvalSet
from train.config import PRESETS, TrainConfig
from train.data import EOS_ID, Batches, encode
from train.evaluate import evaluate, first_docs
from train.loop import train
from train.model import build_model


def _texts(limit: int | None = None) -> list[str]:
    """Copyright files and doc topics of over 200 characters; the first ``limit`` of each when given."""
    from pydoc_data.topics import topics

    found = [p.read_text(errors="ignore") for p in sorted(Path("/usr/share/doc").glob("*/copyright"))[:limit]]
    return [t for t in found + list(topics.values())[:limit] if len(t) > 200]


def _tokenizer(texts: list[str], vocab: int) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|endoftext|>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    return tok


def _panel(texts: list[str], n_sets: int, n_docs: int, chars: int) -> dict[str, EvalSet]:
    chunks = [t[i : i + chars] for t in texts for i in range(0, len(t) - chars + 1, chars)]
    if len(chunks) < n_sets * n_docs:
        raise SystemExit(f"only {len(chunks)} documents of {chars} characters on this machine; lower --docs or --chars")
    step = len(chunks) // (n_sets * n_docs)  # spread over the sources
    picked = chunks[:: step][: n_sets * n_docs]
    return {f"id/set{s}": EvalSet("id", [f"d{s}-{i}" for i in range(n_docs)], picked[s * n_docs : (s + 1) * n_docs])
            for s in range(n_sets)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="nano")
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--sets", type=int, default=8)
    parser.add_argument("--docs", type=int, default=32)
    parser.add_argument("--chars", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="100k training tokens")
    parser.add_argument("--smoke", action="store_true", help="4 steps, 80 texts, a 2 x 4 x 500-character panel: seconds")
    args = parser.parse_args()
    if args.smoke:
        args.sets, args.docs, args.chars = 2, 4, 500
    texts = _texts(40 if args.smoke else None)
    tok = _tokenizer(texts, 1024)
    sets = _panel(texts, args.sets, args.docs, args.chars)
    ids = np.asarray([i for d in encode(tok, texts) for i in (*d, EOS_ID)], dtype=np.uint32)
    eval_tokens = sum(len(d) + 2 for s in sets.values() for d in encode(tok, s.texts))
    cfg = TrainConfig(mixture_id="bench", preset=args.preset, num_threads=args.threads, checkpoint_every=10**9)
    seq_len = PRESETS[args.preset]["seq_len"]
    steps = 4 if args.smoke else (100_000 if args.quick else args.tokens) // (cfg.batch_size * seq_len)
    small = first_docs(sets, cfg.checkpoint_eval_docs)

    def hook(model):  # as train.runs does: bits per byte on the first checkpoint_eval_docs of each set
        found = evaluate(model, tok, small, seq_len, "cpu", cfg.eval_batch_size, probes=False)
        return {"rows": found.rows, "doc_losses": found.doc_losses}

    model = build_model(args.preset, tok.get_vocab_size(), 0)
    with tempfile.TemporaryDirectory() as out:
        result = train(model, Batches(ids, seq_len, cfg.batch_size, 0), cfg, steps, Path(out), "cpu", progress=False,
                       checkpoint_eval=hook)
    started = time.perf_counter()
    evaluate(model, tok, sets, seq_len, "cpu", cfg.eval_batch_size, probes=False)
    full_set = time.perf_counter() - started
    started = time.perf_counter()
    evaluate(model, tok, sets, seq_len, "cpu", cfg.eval_batch_size)
    final = time.perf_counter() - started
    spent = sum(c["eval_s"] for c in result.checkpoint_evals)
    print(f"{args.preset}, {result.tokens:,} tokens in {result.wall_s:.1f} s; panel {args.sets} x {args.docs} x {args.chars} chars = "
          f"{eval_tokens:,} tokens ({sum(len(t) for s in sets.values() for t in s.texts) / eval_tokens:.2f} chars/token)")
    print(f"checkpoint evals at steps {[c['step'] for c in result.checkpoint_evals]} on {cfg.checkpoint_eval_docs} docs/set: "
          f"{spent:.1f} s = {spent / result.wall_s:.1%} of training; one over all {args.docs} docs/set: {full_set:.1f} s "
          f"({full_set / result.wall_s:.1%}); final evaluation with probes: {final:.1f} s")
    print(json.dumps({"preset": args.preset, "tokens": result.tokens, "train_s": round(result.wall_s, 2),
                      "checkpoint_eval_s": round(spent, 2), "overhead": round(spent / result.wall_s, 4),
                      "checkpoints": len(result.checkpoint_evals), "checkpoint_eval_docs": cfg.checkpoint_eval_docs,
                      "full_set_eval_s": round(full_set, 2), "final_eval_s": round(final, 2), "eval_tokens": eval_tokens}))


if __name__ == "__main__":
    main()
