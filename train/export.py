"""Export a finished run as a Hugging Face model folder, and write lm-evaluation-harness tasks from eval sets.

``export_run`` writes ``config.json`` + ``model.safetensors`` (``save_pretrained``) and a
``PreTrainedTokenizerFast`` wrapping the run's BPE, with ``<|endoftext|>`` as EOS and BOS: the
harness, like mixlab's own evaluation, then starts every document after that token, so its
bits-per-byte is comparable. The folder loads offline with ``AutoModelForCausalLM.from_pretrained``.

``write_lm_eval_tasks`` writes one local-file task per eval kind (``mixlab_id``, ``mixlab_ood``):
``loglikelihood_rolling`` over the held-out documents (word/byte perplexity, bits per byte), plus a
multiple-choice continuation task per kind, for ``lm_eval --include_path DIR --tasks mixlab``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from curate.core.catalog import Catalog
from train.data import EOS_ID
from train.evaluate import PROBE_CONT, PROBE_DISTRACTORS, PROBE_PREFIX, eval_sets
from train.runs import load_finished
from train.tokenizer import EOS, TOKENIZER_PATH, load_tokenizer


def export_run(run_dir: Path, train_id: str, out: Path) -> Path:
    """Write the run as a Hugging Face model folder at ``out``; returns it."""
    model = load_finished(run_dir, train_id)[0]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config.eos_token_id = EOS_ID
    model.save_pretrained(out, safe_serialization=True)
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(Path(run_dir) / TOKENIZER_PATH), eos_token=EOS, bos_token=EOS)
    tokenizer.model_max_length = model.config.max_position_embeddings
    tokenizer.save_pretrained(out)
    (out / "mixlab.json").write_text(json.dumps({"run_dir": str(Path(run_dir).resolve()), "train_id": train_id}, indent=1))
    return out


def _task_yaml(name: str, data: Path, kind: str) -> str:
    common = f"task: {name}\ntag: mixlab\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {json.dumps(str(data))}\ntest_split: test\n"
    if kind == "rolling":
        return common + ('output_type: loglikelihood_rolling\ndoc_to_text: ""\ndoc_to_target: "{{text}}"\n'
                         "metric_list:\n  - metric: word_perplexity\n  - metric: byte_perplexity\n  - metric: bits_per_byte\n")
    return common + ('output_type: multiple_choice\ndoc_to_text: "{{prefix}}"\ndoc_to_choice: "{{choices}}"\n'
                     "doc_to_target: 0\nmetric_list:\n  - metric: acc\n")


def _prefix_and_continuation(tokenizer: Tokenizer, texts: list[str]) -> list[tuple[str, str]]:
    """(text of the first PROBE_PREFIX tokens, text of the next PROBE_CONT) for texts that long: the same
    split as mixlab's continuation probe, cut at token offsets so it fits any context of the presets."""
    out = []
    for text, enc in zip(texts, tokenizer.encode_batch(texts, add_special_tokens=False), strict=True):
        if len(enc.offsets) > PROBE_PREFIX + PROBE_CONT:
            cut, end = enc.offsets[PROBE_PREFIX][0], enc.offsets[PROBE_PREFIX + PROBE_CONT][0]
            out.append((text[:cut], text[cut:end]))
    return out


def write_lm_eval_tasks(run_dir: Path, out: Path, max_docs: int = 100, seed: int = 0) -> list[str]:
    """Write lm-evaluation-harness task YAMLs + JSONL data under ``out``; returns the task names."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with Catalog(run_dir, read_only=True) as cat:
        sets = eval_sets(cat, max_docs)
    tokenizer = load_tokenizer(run_dir)[0]
    rng = np.random.default_rng(seed)
    names = []
    for kind in sorted({s.kind for s in sets.values()}):
        texts = [t for s in sets.values() if s.kind == kind for t in s.texts]
        rolling = out / f"mixlab_{kind}.jsonl"
        rolling.write_bytes(b"".join(orjson.dumps({"text": t}) + b"\n" for t in texts))
        pieces = _prefix_and_continuation(tokenizer, texts)
        choice_rows = []
        for i, (prefix, _) in enumerate(pieces):
            others = rng.choice([j for j in range(len(pieces)) if j != i], min(PROBE_DISTRACTORS, len(pieces) - 1), replace=False)
            choice_rows.append({"prefix": prefix, "choices": [pieces[j][1] for j in (i, *others)]})
        choice = out / f"mixlab_{kind}_continuation.jsonl"
        choice.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in choice_rows))
        for name, data, task_kind in ((f"mixlab_{kind}", rolling, "rolling"), (f"mixlab_{kind}_continuation", choice, "choice")):
            (out / f"{name}.yaml").write_text(_task_yaml(name, data.resolve(), task_kind))
            names.append(name)
    return names
